//! The case list's query, parsed into a typed filter (the vocabulary in
//! docs/casework.md), matched against index summaries, sorted, paged, and
//! written back as a URL by `to_query`, so the dashboard's links and the
//! list read the same words.
//!
//! A value that does not parse is named (field and message), left out of
//! the filter, and the rest applies: the page never pretends a bad value
//! was understood, and never silently drops it.

use std::borrow::Borrow;
use std::cmp::Ordering;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime};

use super::model::{EventDate, FieldError, Precision, Stage, Status};
use super::service::Summary;
use crate::ids::{ShelterId, UserId};
use crate::web::messages;

/// Rows on one page of the list.
pub const PAGE_SIZE: usize = 50;
/// The largest "not updated for" a filter takes: ten years.
pub const MAX_STALE_DAYS: i64 = 3650;
/// As long as an alias may be.
pub const MAX_SEARCH_CHARS: usize = crate::cases::model::Alias::MAX_CHARS;
/// How much of a bad value an error message quotes.
const QUOTED_CHARS: usize = 40;

/// The query string as typed: every field a string, so nothing is lost
/// before it is checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub q: String,
    pub stage: String,
    pub status: String,
    pub shelter: String,
    pub assignee: String,
    pub stale_days: String,
    pub milestones: String,
    pub sort: String,
    pub dir: String,
    pub page: String,
}

/// Which statuses a filter takes: one status, or every closed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Is(Status),
    AnyClosed,
}

impl StatusFilter {
    pub fn code(self) -> &'static str {
        match self {
            StatusFilter::Is(s) => s.as_str(),
            StatusFilter::AnyClosed => "closed",
        }
    }

    pub fn matches(self, status: Status) -> bool {
        match self {
            StatusFilter::Is(s) => s == status,
            StatusFilter::AnyClosed => status.is_closed(),
        }
    }
}

/// A shelter or an assignee: a given one, or none at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder<T> {
    Nobody,
    Is(T),
}

impl<T: ToString> Holder<T> {
    pub fn code(&self) -> String {
        match self {
            Holder::Nobody => "none".to_owned(),
            Holder::Is(id) => id.to_string(),
        }
    }
}

/// Milestones dated in the current ISO week or the current calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Week,
    Month,
}

impl Period {
    pub fn code(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// Whether a milestone's date falls in this period, `today` being the
    /// viewer's day. This week is Monday to today and needs a date known to
    /// the day; this month is the 1st to today and takes a date known to the
    /// day or to the month. A date known only to the year is in neither.
    pub fn contains(self, date: EventDate, today: Date) -> bool {
        let d = date.date();
        if d > today {
            return false;
        }
        match self {
            Period::Week => {
                let monday = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
                date.precision() == Precision::Day && d >= monday
            }
            Period::Month => {
                date.precision() != Precision::Year && d.year() == today.year() && d.month() == today.month()
            }
        }
    }
}

/// The columns the list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Updated,
    Stage,
    Alias,
}

impl SortKey {
    pub const ALL: [SortKey; 3] = [SortKey::Updated, SortKey::Stage, SortKey::Alias];

    pub fn code(self) -> &'static str {
        match self {
            SortKey::Updated => "updated",
            SortKey::Stage => "stage",
            SortKey::Alias => "alias",
        }
    }

    /// The order a column starts in: the latest update first, the pipeline
    /// from intake, aliases from A.
    pub fn default_dir(self) -> Dir {
        match self {
            SortKey::Updated => Dir::Desc,
            SortKey::Stage | SortKey::Alias => Dir::Asc,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Asc,
    Desc,
}

impl Dir {
    pub fn code(self) -> &'static str {
        match self {
            Dir::Asc => "asc",
            Dir::Desc => "desc",
        }
    }

    pub fn flip(self) -> Dir {
        match self {
            Dir::Asc => Dir::Desc,
            Dir::Desc => Dir::Asc,
        }
    }
}

/// What the list shows: every field optional, `None` meaning "any".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFilter {
    /// Alias search text, trimmed; empty matches every case.
    pub q: String,
    pub stage: Option<Stage>,
    pub status: Option<StatusFilter>,
    pub shelter: Option<Holder<ShelterId>>,
    pub assignee: Option<Holder<UserId>>,
    /// Not updated for at least this many whole days.
    pub stale_days: Option<i64>,
    pub milestones: Option<Period>,
    pub sort: SortKey,
    pub dir: Dir,
    /// 1-based.
    pub page: usize,
}

impl Default for CaseFilter {
    fn default() -> Self {
        CaseFilter {
            q: String::new(),
            stage: None,
            status: None,
            shelter: None,
            assignee: None,
            stale_days: None,
            milestones: None,
            sort: SortKey::Updated,
            dir: Dir::Desc,
            page: 1,
        }
    }
}

/// A parsed query: the filter of every value that parsed, and a named
/// problem for each one that did not.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub filter: CaseFilter,
    pub errors: Vec<FieldError>,
}

/// A bad value, shortened for quoting in a message (it is escaped where shown).
fn quoted(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn named(field: &'static str, template: &str, value: &str) -> FieldError {
    FieldError::new(field, template.replace("{value}", &quoted(value)))
}

impl CaseFilter {
    /// Read a query. Empty fields mean "any"; codes are case-insensitive.
    pub fn parse(raw: &ListQuery) -> Parsed {
        let mut errors = Vec::new();
        let mut f = CaseFilter::default();

        let q = raw.q.trim();
        if q.chars().count() > MAX_SEARCH_CHARS {
            errors.push(FieldError::new("q", messages::current().list_error_q));
        } else {
            q.clone_into(&mut f.q);
        }

        let text = raw.stage.trim();
        if !text.is_empty() {
            match Stage::parse(text) {
                Ok(stage) => f.stage = Some(stage),
                Err(_) => errors.push(named("stage", messages::current().list_error_stage, text)),
            }
        }

        let text = raw.status.trim();
        if !text.is_empty() {
            if text.eq_ignore_ascii_case("closed") {
                f.status = Some(StatusFilter::AnyClosed);
            } else {
                match Status::parse(text) {
                    Ok(status) => f.status = Some(StatusFilter::Is(status)),
                    Err(_) => errors.push(named("status", messages::current().list_error_status, text)),
                }
            }
        }

        let text = raw.shelter.trim();
        if !text.is_empty() {
            match holder(text, ShelterId::parse) {
                Some(h) => f.shelter = Some(h),
                None => errors.push(named("shelter", messages::current().list_error_shelter, text)),
            }
        }

        let text = raw.assignee.trim();
        if !text.is_empty() {
            match holder(text, UserId::parse) {
                Some(h) => f.assignee = Some(h),
                None => errors.push(named("assignee", messages::current().list_error_assignee, text)),
            }
        }

        let text = raw.stale_days.trim();
        if !text.is_empty() {
            match whole_number(text).filter(|d| (1..=MAX_STALE_DAYS).contains(d)) {
                Some(days) => f.stale_days = Some(days),
                None => errors.push(FieldError::new("stale_days", messages::current().list_error_stale_days)),
            }
        }

        let text = raw.milestones.trim();
        if !text.is_empty() {
            match text.to_ascii_lowercase().as_str() {
                "week" => f.milestones = Some(Period::Week),
                "month" => f.milestones = Some(Period::Month),
                _ => errors.push(FieldError::new("milestones", messages::current().list_error_milestones)),
            }
        }

        let text = raw.sort.trim();
        if !text.is_empty() {
            match SortKey::ALL.into_iter().find(|k| k.code().eq_ignore_ascii_case(text)) {
                Some(key) => f.sort = key,
                None => errors.push(FieldError::new("sort", messages::current().list_error_sort)),
            }
        }
        f.dir = f.sort.default_dir();
        let text = raw.dir.trim();
        if !text.is_empty() {
            match text.to_ascii_lowercase().as_str() {
                "asc" => f.dir = Dir::Asc,
                "desc" => f.dir = Dir::Desc,
                _ => errors.push(FieldError::new("dir", messages::current().list_error_dir)),
            }
        }

        let text = raw.page.trim();
        if !text.is_empty() {
            match whole_number(text).filter(|p| *p >= 1).and_then(|p| usize::try_from(p).ok()) {
                Some(page) => f.page = page,
                None => errors.push(FieldError::new("page", messages::current().list_error_page)),
            }
        }
        Parsed { filter: f, errors }
    }

    /// Whether anything narrows the list (sorting and paging do not).
    pub fn is_narrowed(&self) -> bool {
        !self.q.is_empty()
            || self.stage.is_some()
            || self.status.is_some()
            || self.shelter.is_some()
            || self.assignee.is_some()
            || self.stale_days.is_some()
            || self.milestones.is_some()
    }

    /// The URL of the list this filter shows: `/cases` with only the
    /// values that differ from the defaults, in a fixed order.
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.q.is_empty() {
            pairs.push(("q", self.q.clone()));
        }
        if let Some(stage) = self.stage {
            pairs.push(("stage", stage.as_str().to_owned()));
        }
        if let Some(status) = self.status {
            pairs.push(("status", status.code().to_owned()));
        }
        if let Some(shelter) = &self.shelter {
            pairs.push(("shelter", shelter.code()));
        }
        if let Some(assignee) = &self.assignee {
            pairs.push(("assignee", assignee.code()));
        }
        if let Some(days) = self.stale_days {
            pairs.push(("stale_days", days.to_string()));
        }
        if let Some(period) = self.milestones {
            pairs.push(("milestones", period.code().to_owned()));
        }
        if self.sort != SortKey::default() {
            pairs.push(("sort", self.sort.code().to_owned()));
        }
        if self.dir != self.sort.default_dir() {
            pairs.push(("dir", self.dir.code().to_owned()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        if pairs.is_empty() {
            return "/cases".to_owned();
        }
        let query: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(&v, NON_ALPHANUMERIC)))
            .collect();
        format!("/cases?{}", query.join("&"))
    }

    /// The same list on another page.
    pub fn on_page(&self, page: usize) -> CaseFilter {
        CaseFilter { page, ..self.clone() }
    }

    /// The list sorted by `key`, from page 1: the current column turns
    /// round, another starts in its own default order.
    pub fn sorted_by(&self, key: SortKey) -> CaseFilter {
        let dir = if key == self.sort { self.dir.flip() } else { key.default_dir() };
        CaseFilter { sort: key, dir, page: 1, ..self.clone() }
    }

    /// Whether a case passes every filter. `now` is the server's time for
    /// "not updated for", `today` the viewer's day for milestone periods.
    pub fn matches(&self, s: &Summary, now: OffsetDateTime, today: Date) -> bool {
        // Width and case fold away: "ｍａｉ" finds "Mai", "ｶﾝ" finds "カン".
        let needle = crate::i18n::text::folded(&self.q);
        (needle.is_empty() || s.aliases.iter().any(|a| crate::i18n::text::folded(a).contains(&needle)))
            && self.stage.is_none_or(|stage| s.stage == stage)
            && self.status.is_none_or(|status| status.matches(s.status))
            && self.shelter.is_none_or(|h| match h {
                Holder::Nobody => s.shelter.is_none(),
                Holder::Is(id) => s.shelter == Some(id),
            })
            && self.assignee.is_none_or(|h| match h {
                Holder::Nobody => s.assignees.is_empty(),
                Holder::Is(id) => s.assignees.contains(&id),
            })
            && self.stale_days.is_none_or(|days| (now - s.updated_at).whole_days() >= days)
            && self.milestones.is_none_or(|p| s.milestones.iter().any(|m| p.contains(m.date, today)))
    }

    /// Sort in the filter's order; ties go to the latest update, then the
    /// id, so a page never moves between requests over the same data.
    pub fn sort<S: Borrow<Summary>>(&self, list: &mut [S]) {
        // Code-point order of the folded form: Latin A to Z, kana in
        // gojūon order, Hangul in 가나다 order (kanji by code point: a
        // reading is not known from the characters).
        let alias_key = |s: &S| crate::i18n::text::folded(&s.borrow().aliases.join(", "));
        let tie = |a: &S, b: &S| {
            let (a, b) = (a.borrow(), b.borrow());
            b.updated_at.cmp(&a.updated_at).then_with(|| a.id.cmp(&b.id))
        };
        let dir = self.dir;
        let ordered = |o: Ordering| if dir == Dir::Asc { o } else { o.reverse() };
        match self.sort {
            SortKey::Updated => list.sort_by(|a, b| {
                let (a, b) = (a.borrow(), b.borrow());
                ordered(a.updated_at.cmp(&b.updated_at)).then_with(|| a.id.cmp(&b.id))
            }),
            SortKey::Stage => {
                list.sort_by(|a, b| ordered(a.borrow().stage.cmp(&b.borrow().stage)).then_with(|| tie(a, b)))
            }
            SortKey::Alias => {
                // Stable: equal aliases keep the order of the ties.
                list.sort_by(tie);
                match dir {
                    Dir::Asc => list.sort_by_cached_key(alias_key),
                    Dir::Desc => list.sort_by_cached_key(|s| std::cmp::Reverse(alias_key(s))),
                }
            }
        }
    }
}

fn holder<T>(text: &str, parse: fn(&str) -> Option<T>) -> Option<Holder<T>> {
    if text.eq_ignore_ascii_case("none") { Some(Holder::Nobody) } else { parse(text).map(Holder::Is) }
}

/// Digits only: no sign, no spaces inside, no decimals.
fn whole_number(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Which rows a page shows, once the matching cases are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The page shown (1-based): the one asked for, or the last if that
    /// is beyond the end.
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    /// 0-based offset of the first row shown.
    pub skip: usize,
    /// How many rows the page shows.
    pub shown: usize,
}

impl Window {
    /// The window for `page` over `total` rows, or the last page and an
    /// error naming the page that does not exist.
    pub fn of(total: usize, page: usize) -> (Window, Option<FieldError>) {
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        let (shown_page, error) = if page > pages {
            let template = if pages == 1 {
                messages::current().list_error_page_beyond_one
            } else {
                messages::current().list_error_page_beyond
            };
            let message =
                template.replace("{page}", &page.to_string()).replace("{pages}", &pages.to_string());
            (pages, Some(FieldError::new("page", message)))
        } else {
            (page.max(1), None)
        };
        let skip = (shown_page - 1) * PAGE_SIZE;
        let shown = total.saturating_sub(skip).min(PAGE_SIZE);
        (Window { page: shown_page, pages, total, skip, shown }, error)
    }

    /// "412 cases, 51–100 shown".
    pub fn count_text(&self) -> String {
        let template = match self.total {
            0 => messages::current().list_count_none,
            1 => messages::current().list_count_one,
            _ => messages::current().list_count_many,
        };
        template
            .replace("{total}", &self.total.to_string())
            .replace("{from}", &(self.skip + 1).to_string())
            .replace("{to}", &(self.skip + self.shown).to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::cases::index::MilestoneFacts;
    use crate::cases::model::{MilestoneKind, Outcome};
    use crate::ids::CaseId;
    use time::macros::{date, datetime};

    fn raw(pairs: &[(&str, &str)]) -> ListQuery {
        let text: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC))).collect();
        serde_urlencoded_like(&text.join("&"))
    }

    /// Parse a query string the way the extractor does (every field a string).
    fn serde_urlencoded_like(query: &str) -> ListQuery {
        let mut q = ListQuery::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned();
            let slot = match k {
                "q" => &mut q.q,
                "stage" => &mut q.stage,
                "status" => &mut q.status,
                "shelter" => &mut q.shelter,
                "assignee" => &mut q.assignee,
                "stale_days" => &mut q.stale_days,
                "milestones" => &mut q.milestones,
                "sort" => &mut q.sort,
                "dir" => &mut q.dir,
                "page" => &mut q.page,
                _ => continue,
            };
            *slot = v;
        }
        q
    }

    fn summary(alias: &str, stage: Stage, updated: OffsetDateTime) -> Summary {
        Summary {
            id: CaseId::random(),
            version: 1,
            aliases: vec![alias.to_owned()],
            stage,
            status: Status::Open,
            shelter: None,
            assignees: Vec::new(),
            created_at: updated,
            updated_at: updated,
            persons: Vec::new(),
            milestones: Vec::new(),
            closed_at: None,
        }
    }

    #[test]
    fn every_word_of_the_vocabulary_parses_and_comes_back_in_the_url() {
        let shelter = ShelterId::random();
        let user = UserId::random();
        let cases = [
            vec![("stage", "transit_planning")],
            vec![("status", "open")],
            vec![("status", "on_hold")],
            vec![("status", "closed")],
            vec![("status", "closed:resettled")],
            vec![("shelter", "none")],
            vec![("assignee", "none")],
            vec![("stale_days", "14")],
            vec![("milestones", "week")],
            vec![("milestones", "month")],
            vec![("sort", "stage")],
            vec![("sort", "alias"), ("dir", "desc")],
            vec![("dir", "asc")],
            vec![("page", "3")],
            vec![("q", "Pine & Birch")],
        ];
        for pairs in cases {
            let parsed = CaseFilter::parse(&raw(&pairs));
            assert!(parsed.errors.is_empty(), "{pairs:?}: {:?}", parsed.errors);
            let url = parsed.filter.to_query();
            let again = CaseFilter::parse(&serde_urlencoded_like(url.trim_start_matches("/cases?")));
            assert_eq!(again.filter, parsed.filter, "{pairs:?} through {url}");
        }
        let with_ids =
            CaseFilter::parse(&raw(&[("shelter", &shelter.to_string()), ("assignee", &user.to_string())]));
        assert_eq!(with_ids.filter.shelter, Some(Holder::Is(shelter)));
        assert_eq!(with_ids.filter.assignee, Some(Holder::Is(user)));
        let f = CaseFilter::parse(&raw(&[("status", "closed:resettled")])).filter;
        assert_eq!(f.status, Some(StatusFilter::Is(Status::Closed(Outcome::Resettled))));
        assert_eq!(CaseFilter::default().to_query(), "/cases");
        let f = CaseFilter { stage: Some(Stage::Arrived), stale_days: Some(30), ..CaseFilter::default() };
        assert_eq!(f.to_query(), "/cases?stage=arrived&stale_days=30");
        let f = CaseFilter { status: Some(StatusFilter::Is(Status::Closed(Outcome::Resettled))), ..f };
        assert_eq!(f.to_query(), "/cases?stage=arrived&status=closed%3Aresettled&stale_days=30");
    }

    #[test]
    fn each_bad_value_is_named_and_the_rest_applies() {
        let parsed = CaseFilter::parse(&raw(&[
            ("stage", "nonsense"),
            ("status", "closed:maybe"),
            ("shelter", "somewhere"),
            ("assignee", "bob"),
            ("stale_days", "abc"),
            ("milestones", "year"),
            ("sort", "size"),
            ("dir", "up"),
            ("page", "0"),
            ("q", "Pine"),
        ]));
        let fields: Vec<&str> = parsed.errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["stage", "status", "shelter", "assignee", "stale_days", "milestones", "sort", "dir", "page"]
        );
        assert!(parsed.errors[0].message.contains("nonsense"), "the bad value is quoted");
        assert_eq!(parsed.errors[4].message, "Write the days as a whole number from 1 to 3650.");
        assert_eq!(parsed.filter, CaseFilter { q: "Pine".into(), ..CaseFilter::default() });
        for days in ["0", "3651", "-3", "1.5", "1e3", "99999999999999"] {
            let parsed = CaseFilter::parse(&raw(&[("stale_days", days)]));
            assert_eq!(parsed.errors.len(), 1, "{days}");
        }
        assert_eq!(CaseFilter::parse(&raw(&[("stale_days", "3650")])).filter.stale_days, Some(3650));
        let long = "x".repeat(MAX_SEARCH_CHARS + 1);
        assert_eq!(CaseFilter::parse(&raw(&[("q", &long)])).errors[0].field, "q");
    }

    #[test]
    fn a_header_link_turns_the_current_column_round_and_starts_another_in_its_order() {
        let f = CaseFilter { page: 4, ..CaseFilter::default() };
        assert_eq!(f.sorted_by(SortKey::Updated).dir, Dir::Asc);
        assert_eq!(f.sorted_by(SortKey::Updated).page, 1);
        assert_eq!(f.sorted_by(SortKey::Alias).dir, Dir::Asc);
        let by_alias = f.sorted_by(SortKey::Alias);
        assert_eq!(by_alias.sorted_by(SortKey::Alias).dir, Dir::Desc);
        assert_eq!(by_alias.to_query(), "/cases?sort=alias");
        assert_eq!(by_alias.sorted_by(SortKey::Alias).to_query(), "/cases?sort=alias&dir=desc");
    }

    #[test]
    fn the_sort_orders_and_their_ties() {
        let t0 = datetime!(2026-11-01 10:00 UTC);
        let mut list = vec![
            summary("birch", Stage::Arrived, t0),
            summary("Alder", Stage::Intake, t0 + Duration::hours(2)),
            summary("cedar", Stage::Intake, t0 + Duration::hours(1)),
        ];
        let by = |pairs: &[(&str, &str)], list: &mut Vec<Summary>| {
            CaseFilter::parse(&raw(pairs)).filter.sort(list);
            list.iter().map(|s| s.aliases[0].clone()).collect::<Vec<_>>()
        };
        assert_eq!(by(&[], &mut list), ["Alder", "cedar", "birch"]);
        assert_eq!(by(&[("dir", "asc")], &mut list), ["birch", "cedar", "Alder"]);
        assert_eq!(by(&[("sort", "alias")], &mut list), ["Alder", "birch", "cedar"]);
        assert_eq!(by(&[("sort", "alias"), ("dir", "desc")], &mut list), ["cedar", "birch", "Alder"]);
        // Same stage: the latest update first.
        assert_eq!(by(&[("sort", "stage")], &mut list), ["Alder", "cedar", "birch"]);
        assert_eq!(by(&[("sort", "stage"), ("dir", "desc")], &mut list), ["birch", "Alder", "cedar"]);
    }

    #[test]
    fn the_filters_match_what_they_say() {
        let now = datetime!(2026-12-03 12:00 UTC); // a Thursday
        let today = now.date();
        let mut old = summary("Old", Stage::Sheltered, now - Duration::days(30));
        old.status = Status::Closed(Outcome::Withdrew);
        old.shelter = Some(ShelterId::random());
        let worker = UserId::random();
        old.assignees = vec![worker];
        let fresh = summary("Fresh", Stage::Intake, now - Duration::hours(3));
        let f = |pairs: &[(&str, &str)]| CaseFilter::parse(&raw(pairs)).filter;
        let hits = |f: CaseFilter| {
            [&old, &fresh]
                .iter()
                .filter(|s| f.matches(s, now, today))
                .map(|s| s.aliases[0].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(hits(f(&[("stale_days", "30")])), ["Old"]);
        assert_eq!(hits(f(&[("stale_days", "31")])), Vec::<String>::new());
        assert_eq!(hits(f(&[("status", "closed")])), ["Old"]);
        assert_eq!(hits(f(&[("status", "closed:withdrew")])), ["Old"]);
        assert_eq!(hits(f(&[("status", "closed:resettled")])), Vec::<String>::new());
        assert_eq!(hits(f(&[("status", "open")])), ["Fresh"]);
        assert_eq!(hits(f(&[("shelter", "none")])), ["Fresh"]);
        assert_eq!(hits(f(&[("assignee", "none")])), ["Fresh"]);
        assert_eq!(hits(f(&[("assignee", &worker.to_string())])), ["Old"]);
        assert_eq!(hits(f(&[("q", "fre")])), ["Fresh"]);
        assert_eq!(hits(f(&[("stage", "SHELTERED")])), ["Old"]);
    }

    #[test]
    fn this_week_is_monday_to_today_and_this_month_the_first_to_today() {
        let today = date!(2026 - 12 - 03); // Thursday
        let day = |s: &str| EventDate::from_stored(s).unwrap();
        assert!(Period::Week.contains(day("2026-11-30"), today), "Monday");
        assert!(Period::Week.contains(day("2026-12-03"), today), "today");
        assert!(!Period::Week.contains(day("2026-11-29"), today), "last Sunday");
        assert!(!Period::Week.contains(day("2026-12-04"), today), "tomorrow");
        assert!(!Period::Week.contains(day("2026-12"), today), "a month is not known to a week");
        assert!(Period::Month.contains(day("2026-12-01"), today));
        assert!(Period::Month.contains(day("2026-12"), today), "known to the month");
        assert!(!Period::Month.contains(day("2026-11-30"), today));
        assert!(!Period::Month.contains(day("2026"), today), "a year is not known to a month");
        assert!(!Period::Month.contains(day("2025-12-03"), today), "the same month last year");
        let mut s = summary("Week", Stage::Intake, datetime!(2026-12-01 00:00 UTC));
        s.milestones = vec![MilestoneFacts {
            kind: MilestoneKind::Arrived,
            date: day("2026-12-01"),
            country: None,
            sponsorship: None,
        }];
        let f = CaseFilter { milestones: Some(Period::Week), ..CaseFilter::default() };
        assert!(f.matches(&s, datetime!(2026-12-03 12:00 UTC), today));
    }

    #[test]
    fn a_page_beyond_the_end_is_named_and_the_last_shown() {
        let (w, e) = Window::of(120, 3);
        assert_eq!((w.page, w.pages, w.skip, w.shown), (3, 3, 100, 20));
        assert!(e.is_none());
        assert_eq!(w.count_text(), "120 cases, 101–120 shown");
        let (w, e) = Window::of(120, 9);
        assert_eq!(w.page, 3);
        assert_eq!(e.unwrap().message, "There is no page 9: the list has 3 pages. This is the last one.");
        let (w, e) = Window::of(0, 1);
        assert_eq!((w.page, w.pages, w.shown), (1, 1, 0));
        assert!(e.is_none());
        assert_eq!(w.count_text(), "No cases match.");
        let (_, e) = Window::of(3, 2);
        assert_eq!(e.unwrap().message, "There is no page 2: the list has one page.");
        assert_eq!(Window::of(1, 1).0.count_text(), "1 case, shown below");
    }
}
