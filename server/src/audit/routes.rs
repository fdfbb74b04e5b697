//! The auditor's pages: the trail newest first, with filters and paging
//! both ways, a formula-safe CSV export (oldest first), the chain head to
//! keep off the server, verification on demand; and the bulk-reading flags
//! (auditors and coordinators).

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::Action;
use super::service::{self as audit, csv_cell};
use crate::accounts::model::Role;
use crate::accounts::service as accounts;
use crate::cases::model::FieldError;
use crate::storage::{AuditFilter, AuditRow};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf};
use crate::web::messages::{self, Messages};
use crate::web::notice;
use crate::web::templates::{FormErrors, Nav};
use crate::web::when::{self, Bound};

/// Entries to a page.
const PAGE: usize = 100;

/// An audit action's words ("Opened a case"); the code if it has none
/// (a test makes sure every action has).
pub fn action_words(t: &Messages, code: &str) -> &'static str {
    t.audit_actions.iter().find(|(c, _)| *c == code).map_or("", |(_, words)| words)
}

fn outcome_words(t: &Messages, code: &str) -> String {
    t.audit_outcomes
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_owned(), |(_, w)| (*w).to_owned())
}

fn role_words(code: &str) -> String {
    Role::parse(code).map_or_else(|_| code.to_owned(), |r| messages::current().role(r).to_owned())
}

/// "12,408".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TrailQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub target: String,
    /// A day or a day and minute, in the viewer's zone.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Paging: entries older than this seq (the "older" link) ...
    pub before: Option<i64>,
    /// ... or newer than this one (the "newer" link).
    pub after: Option<i64>,
}

/// Usernames by opaque id, from the sealed directory the server can open.
/// The trail itself keeps ids only.
async fn usernames(state: &AppState) -> BTreeMap<String, String> {
    match accounts::list_unchecked(&state.vault).await {
        Ok(entries) => {
            entries.into_iter().map(|e| (e.id.to_string(), e.profile.username.as_str().to_owned())).collect()
        }
        Err(_) => BTreeMap::new(),
    }
}

impl TrailQuery {
    /// The store's filter: dates typed in `zone` become UTC bounds; an actor
    /// may be given by username. A bad date is named beside its field.
    fn filter(
        &self,
        zone: time::UtcOffset,
        names: &BTreeMap<String, String>,
    ) -> Result<AuditFilter, FormErrors> {
        let mut errors = FormErrors::default();
        let mut bound = |field: &'static str, text: &str, which: Bound| {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            match when::typed(text, zone, which) {
                Some(at) => Some(at),
                None => {
                    errors.add(FieldError::new(field, messages::current().audit_bad_date));
                    None
                }
            }
        };
        let from = bound("from", &self.from, Bound::Start);
        let to = bound("to", &self.to, Bound::End);
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                errors.add(FieldError::new("to", messages::current().audit_range_reversed));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let actor = self.actor.trim();
        let actor = names
            .iter()
            .find(|(_, name)| name.as_str() == actor.to_lowercase())
            .map_or_else(|| actor.to_owned(), |(id, _)| id.clone());
        Ok(AuditFilter {
            actor,
            action: self.action.trim().to_owned(),
            target: self.target.trim().to_owned(),
            from: from.map(|at| when::stored_bound(at, Bound::Start)).unwrap_or_default(),
            to: to.map(|at| when::stored_bound(at, Bound::End)).unwrap_or_default(),
        })
    }

    /// The filter as a query string, for the paging and export links.
    fn query_string(&self) -> String {
        let enc = |s: &str| {
            s.trim()
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._:".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        };
        format!(
            "actor={}&action={}&target={}&from={}&to={}",
            enc(&self.actor),
            enc(&self.action),
            enc(&self.target),
            enc(&self.from),
            enc(&self.to)
        )
    }
}

pub struct EntryLine {
    pub seq: i64,
    /// To the minute, in the viewer's zone.
    pub at: String,
    /// The username, when the id is an account's.
    pub actor_name: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target_name: String,
    pub target: String,
    pub outcome: String,
}

/// Auditors see who acted: the opaque id and, beside it, the username from
/// the directory (also for a target that is an account).
fn lines(rows: Vec<AuditRow>, names: &BTreeMap<String, String>, zone: time::UtcOffset) -> Vec<EntryLine> {
    rows.into_iter()
        .map(|r| EntryLine {
            seq: r.seq,
            at: when::minute_of_stored(&r.at, zone),
            actor_name: if r.actor == "-" {
                messages::current().audit_system.to_owned()
            } else {
                names.get(&r.actor).cloned().unwrap_or_default()
            },
            actor: if r.actor == "-" { String::new() } else { r.actor },
            role: if r.role == "-" { String::new() } else { role_words(&r.role) },
            action: match action_words(messages::current(), &r.action) {
                "" => r.action,
                words => words.to_owned(),
            },
            target_name: names.get(&r.target).cloned().unwrap_or_default(),
            target: r.target,
            outcome: outcome_words(messages::current(), &r.outcome),
        })
        .collect()
}

/// What the trail page says once after a verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Verification {
    Intact { entries: i64, seq: i64, mac: String },
    Empty,
    Broken { problem: String },
}

impl Verification {
    fn text(&self) -> String {
        match self {
            Verification::Intact { entries, seq, mac } => messages::current()
                .audit_verified_line
                .replace("{count}", &thousands(*entries))
                .replace("{seq}", &seq.to_string())
                .replace("{mac}", mac),
            Verification::Empty => messages::current().audit_verified_empty.to_owned(),
            Verification::Broken { problem } => {
                messages::current().audit_verify_broken.replace("{problem}", problem)
            }
        }
    }
}

#[derive(Template)]
#[template(path = "audit/trail.html")]
struct TrailPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    q: TrailQuery,
    errors: FormErrors,
    lines: Vec<EntryLine>,
    /// Links: entries older than the last shown, newer than the first.
    older: Option<i64>,
    newer: Option<i64>,
    /// Not on the first page: a link back to the head.
    paged: bool,
    head: String,
    verification: Option<String>,
    /// (code, words) of every action, for the filter.
    actions: Vec<(&'static str, &'static str)>,
    filter_query: String,
    time_heading: String,
    from_label: String,
    to_label: String,
    date_hint: String,
    newest_first: String,
}

pub(crate) async fn trail(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<TrailQuery>,
) -> Result<Response, AppError> {
    let zone = user.zone();
    let verification = notice::take::<Verification>(&user.session, "/audit").await?.map(|v| v.text());
    let names = usernames(&state).await;
    let (lines, older, newer, errors, status) = match q.filter(zone, &names) {
        Err(errors) => (Vec::new(), None, None, errors, StatusCode::UNPROCESSABLE_ENTITY),
        Ok(filter) => {
            let (rows, older, newer) = page(&state, &user, &filter, &q).await?;
            (lines(rows, &names, zone), older, newer, FormErrors::default(), StatusCode::OK)
        }
    };
    let head = audit::head(&state.vault).await?.map(|c| c.to_line()).unwrap_or_default();
    let page = TrailPage {
        t: messages::current(),
        nav: Some(Nav::of(&user)),
        csrf: user.csrf.clone(),
        errors,
        lines,
        older,
        newer,
        paged: q.before.is_some() || q.after.is_some(),
        head,
        verification,
        actions: Action::ALL
            .iter()
            .map(|a| (a.as_str(), action_words(messages::current(), a.as_str())))
            .collect(),
        filter_query: q.query_string(),
        time_heading: messages::current().audit_time_in.replace("{zone}", &when::zone_label(zone)),
        from_label: messages::current().audit_from_in.replace("{zone}", &when::zone_label(zone)),
        to_label: messages::current().audit_to_in.replace("{zone}", &when::zone_label(zone)),
        date_hint: messages::current().audit_date_hint.replace("{zone}", &when::zone_label(zone)),
        newest_first: messages::current().audit_newest_first.replace("{n}", &PAGE.to_string()),
        q,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// One page of matching entries, newest first, with the cursors of the
/// pages beside it (none where there are no more entries).
async fn page(
    state: &AppState,
    user: &CurrentUser,
    filter: &AuditFilter,
    q: &TrailQuery,
) -> Result<(Vec<AuditRow>, Option<i64>, Option<i64>), AppError> {
    let limit = PAGE as i64 + 1;
    if let Some(after) = q.after {
        // Newer entries: read forwards from the cursor, then turn round.
        let mut rows =
            audit::search(&state.vault, &user.actor, filter, after, limit, Action::AuditRead).await?;
        let more_newer = rows.len() > PAGE;
        rows.truncate(PAGE);
        rows.reverse();
        let newer = more_newer.then(|| rows.first().map_or(after, |r| r.seq));
        let older = Some(rows.last().map_or(after.saturating_add(1), |r| r.seq));
        return Ok((rows, older, newer));
    }
    let before = q.before.unwrap_or(i64::MAX);
    let mut rows = audit::search_back(&state.vault, &user.actor, filter, before, limit).await?;
    let more_older = rows.len() > PAGE;
    rows.truncate(PAGE);
    let older = more_older.then(|| rows.last().map_or(before, |r| r.seq));
    let newer = q.before.map(|b| rows.first().map_or(b.saturating_sub(1), |r| r.seq));
    Ok((rows, older, newer))
}

/// The filtered trail as CSV (every matching entry, oldest first, times as
/// stored: RFC 3339 in UTC), recorded as an export.
pub(crate) async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<TrailQuery>,
) -> Result<Response, AppError> {
    // An export leaves the server: the password again after five minutes.
    if let Some(redirect) = crate::web::guards::require_recent(&state, &user, "/audit") {
        return Ok(redirect);
    }
    let names = usernames(&state).await;
    // A bad date is named on the trail page, with the filter kept.
    let Ok(filter) = q.filter(user.zone(), &names) else {
        return Ok(axum::response::Redirect::to(&format!("/audit?{}", q.query_string())).into_response());
    };
    let rows = audit::search(&state.vault, &user.actor, &filter, 0, 100_000, Action::Export).await?;
    let mut csv = String::from("seq,at,actor,username,role,action,target,outcome,request_id\r\n");
    for r in rows {
        let name = names.get(&r.actor).cloned().unwrap_or_default();
        let cells =
            [r.seq.to_string(), r.at, r.actor, name, r.role, r.action, r.target, r.outcome, r.request_id];
        csv.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        csv.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit-trail.csv\""),
        ],
        csv,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    csrf: String,
}

/// Verify the whole chain, record it (the auditor as actor, the verified
/// head's seq as target), and say on the trail page what was verified.
pub(crate) async fn verify(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<VerifyForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    if !user.actor.has(Role::Auditor) {
        return Err(AppError::Forbidden);
    }
    let result = audit::verify(&state.vault, &[], |_| {}).await;
    audit::record_verification(&state.vault, Some(&user.actor), user.actor.request_id(), &result).await?;
    let said = match &result {
        Ok(v) => match &v.head {
            Some(head) => Verification::Intact {
                entries: v.entries,
                seq: head.seq,
                mac: crate::crypto::to_hex(&head.mac).chars().take(8).collect(),
            },
            None => Verification::Empty,
        },
        Err(broken) => Verification::Broken { problem: broken.to_string() },
    };
    notice::leave(&user.session, "/audit", said).await
}

pub struct FlagLine {
    pub who: String,
    pub at: String,
    pub count: i64,
    pub minutes: i64,
}

#[derive(Template)]
#[template(path = "audit/flags.html")]
struct FlagsPage {
    t: &'static Messages,
    nav: Option<Nav>,
    flags: Vec<FlagLine>,
    time_heading: String,
}

pub(crate) async fn flags(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    let rows = audit::flags(&state.vault, &user.actor).await?;
    let names = usernames(&state).await;
    let zone = user.zone();
    let flags = rows
        .into_iter()
        .map(|f| FlagLine {
            who: names.get(&f.actor).cloned().unwrap_or(f.actor),
            at: when::minute_of_stored(&f.raised_at, zone),
            count: f.distinct_cases,
            minutes: f.window_minutes,
        })
        .collect();
    let page = FlagsPage {
        t: messages::current(),
        nav: Some(Nav::of(&user)),
        flags,
        time_heading: messages::current().audit_time_in.replace("{zone}", &when::zone_label(zone)),
    };
    Ok(Html(page.render()?).into_response())
}

/// Every outcome code the trail writes (for the test below).
#[cfg(test)]
fn outcome_codes() -> [&'static str; 5] {
    use super::Outcome;
    [Outcome::Ok, Outcome::Denied, Outcome::Conflict, Outcome::Invalid, Outcome::Error].map(Outcome::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_and_outcome_has_words() {
        for action in Action::ALL {
            let words = action_words(messages::current(), action.as_str());
            assert!(!words.is_empty(), "no words for {}", action.as_str());
            assert_ne!(words, action.as_str());
        }
        // No words for an action that does not exist (a typo in the list).
        for (code, _) in messages::current().audit_actions {
            assert!(Action::parse(code).is_some(), "words for unknown action {code}");
        }
        let mut seen = std::collections::HashSet::new();
        for (_, words) in messages::current().audit_actions {
            assert!(seen.insert(words), "two actions read alike: {words}");
        }
        for code in outcome_codes() {
            assert_ne!(outcome_words(messages::current(), code), code, "no words for outcome {code}");
        }
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12408), "12,408");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn a_bad_date_is_named_and_good_ones_become_utc_bounds() {
        let names = BTreeMap::from([("u1".to_owned(), "mika".to_owned())]);
        let tokyo = time::macros::offset!(+9);
        let q = TrailQuery { from: "yesterday".into(), to: "2026-12-01".into(), ..TrailQuery::default() };
        let errors = q.filter(tokyo, &names).unwrap_err();
        assert_eq!(errors.get("from"), Some(messages::current().audit_bad_date));
        assert_eq!(errors.get("to"), None);
        let q = TrailQuery { from: "2026-12-02".into(), to: "2026-12-01".into(), ..TrailQuery::default() };
        assert_eq!(
            q.filter(tokyo, &names).unwrap_err().get("to"),
            Some(messages::current().audit_range_reversed)
        );
        let q = TrailQuery { actor: "Mika".into(), from: "2026-12-02".into(), ..TrailQuery::default() };
        let f = q.filter(tokyo, &names).unwrap();
        assert_eq!((f.actor.as_str(), f.from.as_str(), f.to.as_str()), ("u1", "2026-12-01T15:00:00", ""));
    }
}
