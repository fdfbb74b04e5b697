//! Times as people read them: to the minute, in the viewer's zone. Every
//! page formats times through here, so one setting changes them all.

use time::{OffsetDateTime, UtcOffset};

use super::guards::CurrentUser;

impl CurrentUser {
    /// The zone the viewer reads times in.
    pub fn zone(&self) -> UtcOffset {
        UtcOffset::UTC
    }
}

/// "2026-12-01 20:32": a time to the minute in `zone`.
pub fn minute(at: OffsetDateTime, zone: UtcOffset) -> String {
    let at = at.to_offset(zone);
    format!("{} {:02}:{:02}", at.date(), at.hour(), at.minute())
}

/// "2026-12-01": the day of a time in `zone`.
pub fn day(at: OffsetDateTime, zone: UtcOffset) -> String {
    at.to_offset(zone).date().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_is_shown_to_the_minute_in_the_zone() {
        let at = time::macros::datetime!(2026-12-01 23:45:59 UTC);
        assert_eq!(minute(at, UtcOffset::UTC), "2026-12-01 23:45");
        assert_eq!(minute(at, time::macros::offset!(+9)), "2026-12-02 08:45");
        assert_eq!(day(at, time::macros::offset!(+9)), "2026-12-02");
    }
}
