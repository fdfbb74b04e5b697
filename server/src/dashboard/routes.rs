//! GET `/`: the home page, one section per role the user holds. Every
//! figure is a link to the case list filtered to exactly that figure, in
//! the list's own filter vocabulary (docs/dashboards.md).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use super::charts::{self, Bar, Chart};
use super::service::{self, CoordinatorFigures, Looked};
use crate::accounts::model::Role;
use crate::cases::model::Status;
use crate::cases::service::{self as cases, Summary};
use crate::ids::{ShelterId, UserId};
use crate::programmes::sponsorship::routes::{self as sponsorship, DashBlock};
use crate::sessions::auth::AUTH_KEY;
use crate::storage::FlagRow;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::CurrentUser;
use crate::web::messages::{self, Messages};
use crate::web::templates::Nav;
use crate::web::when;

/// How many flags a home lists (the flags page has them all).
const FLAGS_SHOWN: usize = 5;

/// A figure and the list it opens.
pub struct Cell {
    pub href: String,
    pub value: usize,
}

/// `/cases?name=value&...`: the case list filtered as named. Values are
/// codes and opaque ids, which need no escaping in a query.
pub fn cases_link(filters: &[(&str, &str)]) -> String {
    let query: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("/cases?{}", query.join("&"))
}

fn cell(value: usize, filters: &[(&str, &str)]) -> Cell {
    Cell { href: cases_link(filters), value }
}

pub struct StageLine {
    pub stage: &'static str,
    pub cases: Cell,
    pub people: Cell,
    pub open: Cell,
    pub on_hold: Cell,
    pub closed: Cell,
}

pub struct StatusLine {
    pub label: String,
    pub cases: Cell,
    pub people: Cell,
}

pub struct ShelterLine {
    pub name: String,
    pub all: String,
    pub capacity: Option<u16>,
    pub open: Cell,
    pub on_hold: Cell,
    pub people: usize,
    /// Places left, when within capacity.
    pub free: Option<i64>,
    /// People beyond capacity, when over it.
    pub over: Option<i64>,
}

pub struct StaleLine {
    pub days: u16,
    pub open: Cell,
    pub on_hold: Cell,
}

pub struct LoadLine {
    pub name: String,
    pub open: Cell,
}

pub struct PeriodLine {
    pub label: &'static str,
    pub milestones: Cell,
    pub cases: Cell,
}

pub struct FlagLine {
    pub who: String,
    pub when: String,
    pub cases: i64,
    pub minutes: i64,
}

pub struct CoordinatorView {
    pub cases: Cell,
    pub people: usize,
    pub pipeline: Vec<StageLine>,
    pub pipeline_chart: Chart,
    pub statuses: Vec<StatusLine>,
    pub status_chart: Chart,
    pub shelters: Vec<ShelterLine>,
    pub shelter_chart: Chart,
    pub stale: Vec<StaleLine>,
    pub load: Vec<LoadLine>,
    pub load_chart: Chart,
    pub periods: Vec<PeriodLine>,
    pub keys_waiting: usize,
    pub grants_waiting: usize,
    pub flags_total: usize,
    pub flags: Vec<FlagLine>,
    /// The education sponsorship (docs/programmes.md).
    pub sponsorship: DashBlock,
}

pub struct AttentionLine {
    pub href: String,
    pub label: String,
    pub stage: &'static str,
    pub reasons: Vec<String>,
}

pub struct CaseworkerView {
    pub stale_days: u16,
    pub stale: Cell,
    pub changed: usize,
    pub never_opened: usize,
    pub on_hold: Cell,
    pub lines: Vec<AttentionLine>,
    /// The education sponsorship in their own cases, when any child of
    /// them is or was in the plan.
    pub sponsorship: Option<DashBlock>,
}

pub struct VerifiedLine {
    pub when: String,
    pub by: String,
    pub ok: bool,
    /// The head that was verified, when the entry names it.
    pub seq: Option<String>,
}

pub struct AuditorView {
    pub head: Option<(i64, String)>,
    pub verified: Option<VerifiedLine>,
    pub flags_total: usize,
    pub flags: Vec<FlagLine>,
}

pub struct AdminView {
    pub pending: usize,
    pub disabled: usize,
    pub frozen: usize,
}

#[derive(Template)]
#[template(path = "dashboard/home.html")]
struct HomePage {
    t: &'static Messages,
    nav: Option<Nav>,
    failed_codes: i64,
    recovered: bool,
    coordinator: Option<CoordinatorView>,
    /// A coordinator whose team key did not open: nothing to show yet.
    coordinator_waits: bool,
    caseworker: Option<CaseworkerView>,
    auditor: Option<AuditorView>,
    admin: Option<AdminView>,
    communications: bool,
    /// Communications staff: what is new among the approved stories (none
    /// before the communications key opens for them).
    stories: Option<crate::stories::routes::HomeStories>,
}

pub(crate) async fn home(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    let failed_codes = user.auth.failed_codes;
    if failed_codes > 0 {
        // Shown once.
        let mut auth = user.auth.clone();
        auth.failed_codes = 0;
        user.session.insert(AUTH_KEY, &auth).await?;
    }
    let recovered =
        user.session.remove::<bool>(crate::accounts::routes::RECOVERED_KEY).await?.unwrap_or(false);
    let actor = &user.actor;
    let vault = &state.vault;
    let team = user.coordinators_team;
    // A coordinator's list is the team's: one not admitted yet gets none
    // (their section says why), even if also a caseworker.
    let casework = actor.has(Role::Caseworker) && user.certified && (team || !actor.has(Role::Coordinator));
    let flags_wanted = team || actor.has(Role::Auditor);

    // The independent reads go together: their audit entries share a commit.
    let (lines, flags, chain) = tokio::join!(
        async { if team || casework { cases::list_visible(vault, actor).await.map(Some) } else { Ok(None) } },
        async { if flags_wanted { service::open_flags(vault, actor).await.map(Some) } else { Ok(None) } },
        async {
            if actor.has(Role::Auditor) { service::chain_state(vault).await.map(Some) } else { Ok(None) }
        },
    );
    let (lines, flags, chain) = (lines?, flags?, chain?);
    let names = if flags.as_ref().is_some_and(|f| !f.is_empty()) || chain.is_some() || team {
        usernames(&state).await?
    } else {
        BTreeMap::new()
    };
    let zone = user.zone();
    let flag_lines = |rows: &[FlagRow]| -> Vec<FlagLine> {
        rows.iter()
            .take(FLAGS_SHOWN)
            .map(|f| FlagLine {
                who: names
                    .get(&f.actor)
                    .cloned()
                    .unwrap_or_else(|| messages::current().dash_unknown_account.to_owned()),
                when: parse_time(&f.raised_at).map(|at| when::minute(at, zone)).unwrap_or_default(),
                cases: f.distinct_cases,
                minutes: f.window_minutes,
            })
            .collect()
    };

    let coordinator = match (&lines, team) {
        (Some(lines), true) => Some(coordinator_view(&state, &user, lines, &names).await?).map(|mut view| {
            if let Some(rows) = &flags {
                view.flags_total = rows.len();
                view.flags = flag_lines(rows);
            }
            view
        }),
        _ => None,
    };
    let caseworker = match (&lines, casework) {
        (Some(lines), true) => {
            // A coordinator who is also a caseworker: their own cases are
            // the ones they hold a grant to.
            let own: Vec<Arc<Summary>> =
                lines.iter().filter(|s| s.assignees.contains(&actor.user_id())).cloned().collect();
            Some(caseworker_view(&state, &user, &own).await?)
        }
        _ => None,
    };
    let auditor = match chain {
        Some(chain) => Some(AuditorView {
            head: chain.head.map(|row| (row.seq, crate::crypto::to_hex(&row.mac).chars().take(16).collect())),
            verified: chain.verified.map(|row| VerifiedLine {
                when: parse_time(&row.at).map(|at| when::minute(at, zone)).unwrap_or_default(),
                by: if row.actor == "-" {
                    messages::current().dash_verified_by_cli.to_owned()
                } else {
                    names
                        .get(&row.actor)
                        .cloned()
                        .unwrap_or_else(|| messages::current().dash_unknown_account.to_owned())
                },
                ok: row.outcome == "ok",
                seq: row.target.parse::<i64>().ok().map(|s| s.to_string()),
            }),
            flags_total: flags.as_ref().map_or(0, Vec::len),
            flags: flags.as_deref().map(flag_lines).unwrap_or_default(),
        }),
        None => None,
    };
    let admin = if actor.has(Role::Admin) {
        let counts = service::account_counts(vault, actor).await?;
        Some(AdminView { pending: counts.pending, disabled: counts.disabled, frozen: counts.frozen })
    } else {
        None
    };
    let stories = if actor.has(Role::Communications) && user.certified {
        crate::stories::routes::home_stories(&state, &user).await?
    } else {
        None
    };
    let page = HomePage {
        t: messages::current(),
        nav: Some(Nav::of(&user)),
        failed_codes,
        recovered,
        coordinator,
        coordinator_waits: actor.has(Role::Coordinator) && !team,
        caseworker,
        auditor,
        admin,
        communications: actor.has(Role::Communications),
        stories,
    };
    Ok(Html(page.render()?).into_response())
}

fn parse_time(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Usernames by opaque id, for the people a home names (flag holders, the
/// verifier, caseworkers). Opened with the directory key, as the flags
/// page does.
async fn usernames(state: &AppState) -> Result<BTreeMap<String, String>, AppError> {
    Ok(crate::accounts::service::list_unchecked(&state.vault)
        .await?
        .into_iter()
        .map(|e| (e.id.to_string(), e.profile.username.as_str().to_owned()))
        .collect())
}

async fn coordinator_view(
    state: &AppState,
    user: &CurrentUser,
    lines: &[Arc<Summary>],
    names: &BTreeMap<String, String>,
) -> Result<CoordinatorView, AppError> {
    let vault = &state.vault;
    let (shelters, waiting, caseworkers) = tokio::join!(
        crate::shelters::list(vault, &user.actor),
        crate::membership::waiting_for_certification(vault, &user.actor),
        crate::membership::caseworkers(vault, &user.actor),
    );
    let (shelters, waiting, caseworkers) = (shelters?, waiting?, caseworkers?);
    let f: CoordinatorFigures =
        service::coordinator_figures(lines, vault.clock.now(), user.zone(), &vault.stale_days);

    let pipeline: Vec<StageLine> = f
        .pipeline
        .iter()
        .map(|r| {
            let code = r.stage.as_str();
            StageLine {
                stage: messages::current().stage(r.stage),
                cases: cell(r.cases(), &[("stage", code)]),
                people: cell(r.people, &[("stage", code)]),
                open: cell(r.open, &[("stage", code), ("status", "open")]),
                on_hold: cell(r.on_hold, &[("stage", code), ("status", "on_hold")]),
                closed: cell(r.closed, &[("stage", code), ("status", "closed")]),
            }
        })
        .collect();
    let pipeline_chart = charts::bars(
        f.pipeline
            .iter()
            .map(|r| Bar {
                label: messages::current().stage(r.stage).to_owned(),
                parts: vec![(r.open, "chart-open"), (r.on_hold, "chart-hold"), (r.closed, "chart-closed")],
                value: r.cases().to_string(),
                marker: None,
            })
            .collect(),
    );

    let statuses: Vec<StatusLine> = f
        .statuses
        .iter()
        .map(|r| StatusLine {
            label: messages::current().status(r.status),
            cases: cell(r.cases, &[("status", r.status.as_str())]),
            people: cell(r.people, &[("status", r.status.as_str())]),
        })
        .collect();
    let closed: usize = f.statuses.iter().filter(|r| r.status.is_closed()).map(|r| r.cases).sum();
    let count_of = |s: Status| f.statuses.iter().find(|r| r.status == s).map_or(0, |r| r.cases);
    let status_chart = charts::bars(vec![
        Bar {
            label: messages::current().status(Status::Open),
            parts: vec![(count_of(Status::Open), "chart-open")],
            value: count_of(Status::Open).to_string(),
            marker: None,
        },
        Bar {
            label: messages::current().status(Status::OnHold),
            parts: vec![(count_of(Status::OnHold), "chart-hold")],
            value: count_of(Status::OnHold).to_string(),
            marker: None,
        },
        Bar {
            label: messages::current().dash_closed_all.to_owned(),
            parts: vec![(closed, "chart-closed")],
            value: closed.to_string(),
            marker: None,
        },
    ]);

    let mut shelter_lines = Vec::new();
    let mut shelter_bars = Vec::new();
    let mut add_shelter = |name: String, id: Option<ShelterId>, capacity: Option<u16>| {
        let key = id.map_or_else(|| "none".to_owned(), |id| id.to_string());
        let row = f.occupancy.get(&id);
        let (open, on_hold) = row.map_or((0, 0), |r| (r.people_open, r.people_on_hold));
        let people = open + on_hold;
        shelter_bars.push(Bar {
            label: name.clone(),
            parts: vec![(open, "chart-open"), (on_hold, "chart-hold")],
            value: match capacity {
                Some(c) => messages::current()
                    .dash_of_capacity
                    .replace("{n}", &people.to_string())
                    .replace("{c}", &c.to_string()),
                None => people.to_string(),
            },
            marker: capacity.map(usize::from),
        });
        shelter_lines.push(ShelterLine {
            name,
            all: cases_link(&[("shelter", &key)]),
            capacity,
            open: cell(open, &[("shelter", &key), ("status", "open")]),
            on_hold: cell(on_hold, &[("shelter", &key), ("status", "on_hold")]),
            people,
            free: capacity.map(|c| i64::from(c) - people as i64).filter(|f| *f >= 0),
            over: capacity.map(|c| people as i64 - i64::from(c)).filter(|o| *o > 0),
        });
    };
    for shelter in &shelters {
        add_shelter(
            shelter.code.as_str().to_owned(),
            Some(shelter.id),
            shelter.details.as_ref().map(|d| d.capacity),
        );
    }
    if f.occupancy.get(&None).is_some_and(|r| r.people() > 0) {
        add_shelter(messages::current().dash_no_shelter.to_owned(), None, None);
    }
    let shelter_chart = charts::bars(shelter_bars);

    let stale = f
        .stale
        .iter()
        .map(|r| {
            let days = r.days.to_string();
            StaleLine {
                days: r.days,
                open: cell(r.open, &[("stale_days", &days), ("status", "open")]),
                on_hold: cell(r.on_hold, &[("stale_days", &days), ("status", "on_hold")]),
            }
        })
        .collect();

    // Every active caseworker, with or without cases; then anyone else
    // who holds an open case; then the open cases no one holds.
    let mut load_lines = Vec::new();
    let mut seen: Vec<UserId> = Vec::new();
    for (id, name) in &caseworkers {
        seen.push(*id);
        let n = f.load.get(&Some(*id)).copied().unwrap_or(0);
        load_lines.push((name.clone(), id.to_string(), n));
    }
    for (id, n) in &f.load {
        if let Some(id) = id {
            if !seen.contains(id) {
                let name = names
                    .get(&id.to_string())
                    .cloned()
                    .unwrap_or_else(|| messages::current().dash_unknown_account.to_owned());
                load_lines.push((name, id.to_string(), *n));
            }
        }
    }
    load_lines.push((
        messages::current().dash_no_caseworker.to_owned(),
        "none".to_owned(),
        f.load.get(&None).copied().unwrap_or(0),
    ));
    let load_chart = charts::bars(
        load_lines
            .iter()
            .map(|(name, _, n)| Bar {
                label: name.clone(),
                parts: vec![(*n, "chart-open")],
                value: n.to_string(),
                marker: None,
            })
            .collect(),
    );
    let load = load_lines
        .into_iter()
        .map(|(name, id, n)| LoadLine { name, open: cell(n, &[("assignee", &id), ("status", "open")]) })
        .collect();

    let periods = vec![
        PeriodLine {
            label: messages::current().dash_this_week,
            milestones: cell(f.week.milestones, &[("milestones", "week")]),
            cases: cell(f.week.cases, &[("milestones", "week")]),
        },
        PeriodLine {
            label: messages::current().dash_this_month,
            milestones: cell(f.month.milestones, &[("milestones", "month")]),
            cases: cell(f.month.cases, &[("milestones", "month")]),
        },
    ];

    Ok(CoordinatorView {
        cases: Cell { href: "/cases".to_owned(), value: f.cases },
        people: f.people,
        pipeline,
        pipeline_chart,
        statuses,
        status_chart,
        shelters: shelter_lines,
        shelter_chart,
        stale,
        load,
        load_chart,
        periods,
        keys_waiting: waiting.len(),
        grants_waiting: waiting.iter().map(|w| w.waiting_cases.len()).sum(),
        flags_total: 0,
        flags: Vec::new(),
        sponsorship: sponsorship::dash_block(
            messages::current(),
            lines,
            vault.clock.now().to_offset(user.zone()).date(),
            vault.publication.fiscal_year_start,
            false,
        ),
    })
}

async fn caseworker_view(
    state: &AppState,
    user: &CurrentUser,
    own: &[Arc<Summary>],
) -> Result<CaseworkerView, AppError> {
    let vault = &state.vault;
    let now = vault.clock.now();
    let stale_days = vault.stale_days.first().copied().unwrap_or(14);
    let attention = service::attention(vault, &user.actor, own, now, stale_days).await?;
    let days = stale_days.to_string();
    let stale =
        own.iter().filter(|s| s.status == Status::Open && service::is_stale(s, now, stale_days)).count();
    let on_hold = own.iter().filter(|s| s.status == Status::OnHold).count();
    let lines = attention
        .iter()
        .map(|a| {
            let mut reasons = Vec::new();
            match a.looked {
                Looked::ChangedByOther => {
                    reasons.push(messages::current().dash_changed_since_you_looked.to_owned())
                }
                Looked::NeverOpened => reasons.push(messages::current().dash_never_opened.to_owned()),
                Looked::Current => {}
            }
            if a.stale {
                reasons.push(messages::current().plural("dash_not_updated_for", u64::from(stale_days)));
            }
            if a.on_hold {
                reasons.push(messages::current().dash_waiting_on_hold.to_owned());
            }
            AttentionLine {
                href: format!("/cases/{}", a.case.id),
                label: a.case.aliases.join(", "),
                stage: messages::current().stage(a.case.stage),
                reasons,
            }
        })
        .collect();
    Ok(CaseworkerView {
        stale_days,
        stale: cell(stale, &[("stale_days", &days), ("status", "open")]),
        changed: attention.iter().filter(|a| a.looked == Looked::ChangedByOther).count(),
        never_opened: attention.iter().filter(|a| a.looked == Looked::NeverOpened).count(),
        on_hold: cell(on_hold, &[("status", "on_hold")]),
        lines,
        sponsorship: (!crate::programmes::sponsorship::enrolments(own).is_empty()).then(|| {
            sponsorship::dash_block(
                messages::current(),
                own,
                now.to_offset(user.zone()).date(),
                vault.publication.fiscal_year_start,
                true,
            )
        }),
    })
}
