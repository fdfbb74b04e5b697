//! Story pages: the draft page of a case (a caseworker's, the k-anonymity
//! check pending; a coordinator's review), sending a draft, the drafts
//! waiting for review, approval and rejection, and what communications
//! staff read and export. No page takes free text: a coordinator chooses
//! only further coarsening steps and one of the fixed openings.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::Duration;

use super::model::{AgeRange, AgeWords, Decision, Facts, Gate, Opening, SizeBand, Step, StoryKind, Subject};
use super::phrasing::{self, Phrasing};
use super::service::{self as stories, Approval, Published, Review, Sent, Target};
use crate::cases::routes::short_ref;
use crate::error::ServiceError;
use crate::i18n::Lang;
use crate::ids::CaseId;
use crate::publication::export::{LangLink, LangQuery, csv_line, in_language, lang_links, markdown_text};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf};
use crate::web::messages::{self, Messages};
use crate::web::notice;
use crate::web::templates::Nav;

// ---------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------

/// The story templates of the page's language.
fn phrases() -> &'static dyn Phrasing {
    phrasing::of(crate::i18n::current())
}

pub fn kind_label(t: &Messages, kind: StoryKind) -> &'static str {
    match kind {
        StoryKind::ReachedSafety => t.story_kind_reached_safety,
        StoryKind::Settling => t.story_kind_settling,
        StoryKind::LanguageCourse => t.story_kind_language_course,
        StoryKind::School => t.story_kind_school,
        StoryKind::Work => t.story_kind_work,
    }
}

fn opening_label(t: &Messages, opening: Opening) -> &'static str {
    match opening {
        Opening::Thanks => t.stories_opening_thanks,
        Opening::News => t.stories_opening_news,
        Opening::Plain => t.stories_opening_plain,
    }
}

fn age_words(t: &Messages, age: AgeWords) -> &'static str {
    match age {
        AgeWords::Band(b) => t.age_band(b),
        AgeWords::Range(AgeRange::Child) => t.stories_age_child,
        AgeWords::Range(AgeRange::Adult) => t.stories_age_adult,
        AgeWords::Range(AgeRange::Older) => t.stories_age_older,
    }
}

fn who(t: &Messages, subject: Subject) -> String {
    match subject {
        Subject::Person { age, gender } => format!(
            "{}: {}, {}",
            t.stories_who_person,
            age.map_or(t.stories_not_said, |a| age_words(t, a)),
            gender.map_or(t.stories_not_said, |g| t.gender(g)),
        ),
        Subject::Group { size, child } => {
            let size = match size {
                Some(SizeBand::Two) => t.stories_size_two,
                Some(SizeBand::ThreeOrFour) => t.stories_size_three_four,
                Some(SizeBand::Several) => t.stories_size_several,
                None => t.stories_size_not_said,
            };
            match child {
                Some(c) => format!(
                    "{}: {size}; {}",
                    t.stories_who_group,
                    t.stories_youngest.replace("{age}", age_words(t, c))
                ),
                None => format!("{}: {size}", t.stories_who_group),
            }
        }
    }
}

pub struct FactLine {
    pub label: &'static str,
    pub value: String,
}

fn fact_lines(t: &Messages, f: &Facts) -> Vec<FactLine> {
    let period = |p: Option<crate::publication::period::Period>| {
        p.map_or_else(|| t.stories_not_said.to_owned(), |p| phrases().period(p))
    };
    let mut lines = vec![
        FactLine { label: t.stories_fact_kind, value: kind_label(t, f.kind).to_owned() },
        FactLine { label: t.stories_fact_who, value: who(t, f.subject) },
        FactLine { label: t.stories_fact_arrival, value: period(f.arrival) },
        FactLine {
            label: t.stories_fact_destination,
            value: f.destination.map_or_else(|| t.stories_not_said.to_owned(), |p| phrases().place(p)),
        },
    ];
    if f.kind.progress().is_some() {
        lines.push(FactLine { label: t.stories_fact_progress, value: period(f.progress) });
    }
    lines
}

pub struct GateLine {
    pub name: &'static str,
    /// `passed`, `refused` or `waiting`: the class and the word.
    pub state: &'static str,
    pub word: &'static str,
    pub reason: String,
}

fn gate_lines(t: &Messages, gates: &[(Gate, Decision)]) -> Vec<GateLine> {
    gates
        .iter()
        .map(|(gate, decision)| {
            let (state, word, reason) = match decision {
                Decision::Passed => ("passed", t.stories_gate_passed, String::new()),
                Decision::Refused(r) => ("refused", t.stories_gate_refused, phrases().reason(r)),
                Decision::Waiting(r) => ("waiting", t.stories_gate_waiting, phrases().reason(r)),
            };
            GateLine { name: phrases().gate(*gate), state, word, reason }
        })
        .collect()
}

pub struct Choice {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

// ---------------------------------------------------------------------------
// Notices
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Done {
    Sent,
    Approved { id: String },
    Rejected,
    Gone,
}

fn notice_text(done: &Done) -> String {
    match done {
        Done::Sent => messages::current().stories_notice_sent.to_owned(),
        Done::Approved { id } => messages::current().stories_notice_approved.replace("{id}", id),
        Done::Rejected => messages::current().stories_notice_rejected.to_owned(),
        Done::Gone => messages::current().stories_notice_gone.to_owned(),
    }
}

const DRAFTS_PAGE: &str = "/stories/drafts";

fn case_page(id: CaseId) -> String {
    format!("/cases/{id}")
}

// ---------------------------------------------------------------------------
// The draft and review page
// ---------------------------------------------------------------------------

pub struct DraftMeta {
    pub by: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "stories/draft.html")]
struct DraftPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    title: &'static str,
    case_href: String,
    case_ref: String,
    kind_code: &'static str,
    kind_label: &'static str,
    /// The kinds to switch between (a review of a case, not of a draft).
    kinds: Vec<Choice>,
    facts: Vec<FactLine>,
    gates: Vec<GateLine>,
    others: String,
    steps: Vec<&'static str>,
    fits: Option<String>,
    /// A coordinator's review: the approval form.
    review: bool,
    further: Vec<Choice>,
    openings: Vec<Choice>,
    text: Option<String>,
    passed: bool,
    can_send: bool,
    send_action: String,
    approve_action: String,
    reject_action: Option<String>,
    problem: Option<String>,
    draft: Option<DraftMeta>,
    /// A draft that is not genuine: only rejection is offered.
    invalid: bool,
}

struct PageArgs<'a> {
    draft_id: Option<&'a str>,
    draft: Option<DraftMeta>,
    problem: Option<String>,
}

fn draft_page(user: &CurrentUser, r: &Review, args: PageArgs<'_>) -> DraftPage {
    let t = messages::current();
    let case_id = r.case.id;
    let others = r.others.len();
    let (send_action, approve_action, reject_action) = match args.draft_id {
        Some(id) => (
            String::new(),
            format!("/stories/drafts/{id}/approve"),
            Some(format!("/stories/drafts/{id}/reject")),
        ),
        None => (format!("/cases/{case_id}/story/send"), format!("/cases/{case_id}/story/approve"), None),
    };
    DraftPage {
        t,
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        title: if r.coordinator { t.stories_review_title } else { t.stories_draft_title },
        case_href: case_page(case_id),
        case_ref: messages::current().case_ref.replace("{ref}", &short_ref(case_id)),
        kind_code: r.kind.as_str(),
        kind_label: kind_label(t, r.kind),
        kinds: if args.draft_id.is_some() {
            Vec::new()
        } else {
            StoryKind::ALL
                .iter()
                .map(|k| Choice { code: k.as_str(), label: kind_label(t, *k), checked: *k == r.kind })
                .collect()
        },
        facts: r.source.as_ref().map(|s| fact_lines(t, &s.facts)).unwrap_or_default(),
        gates: gate_lines(t, &r.gates),
        others: t.stories_others.replace("{n}", &others.to_string()),
        steps: r
            .anonymised
            .as_ref()
            .map(|a| a.steps.iter().map(|s| phrases().step(*s)).collect())
            .unwrap_or_default(),
        fits: r.fits.map(|n| t.plural_with("stories_fits", n as u64, &[("k", &r.k.to_string())])),
        review: r.coordinator,
        further: r
            .further
            .iter()
            .map(|s| Choice { code: s.as_str(), label: phrases().step(*s), checked: r.chosen.contains(s) })
            .collect(),
        openings: Opening::ALL
            .iter()
            .map(|o| Choice { code: o.as_str(), label: opening_label(t, *o), checked: *o == r.opening })
            .collect(),
        text: r.text(phrases()),
        passed: r.passed(),
        can_send: !r.coordinator && r.case_gates_passed(),
        send_action,
        approve_action,
        reject_action,
        problem: args.problem,
        draft: args.draft,
        invalid: false,
    }
}

fn render(page: DraftPage, status: StatusCode) -> Result<Response, AppError> {
    Ok((status, Html(page.render()?)).into_response())
}

fn parse_case(text: &str) -> Result<CaseId, AppError> {
    CaseId::parse(text).ok_or(AppError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
pub struct KindQuery {
    #[serde(default)]
    kind: String,
}

fn parse_kind(code: &str) -> Result<StoryKind, AppError> {
    if code.trim().is_empty() {
        return Ok(StoryKind::ReachedSafety);
    }
    StoryKind::parse(code).ok_or(AppError::BadRequest)
}

/// GET `/cases/{id}/story?kind=`: the draft page (a coordinator's review).
pub(crate) async fn case_story(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<KindQuery>,
) -> Result<Response, AppError> {
    let id = parse_case(&id)?;
    // The case key first: a malformed kind for a case the user may not
    // open is still 404.
    crate::cases::service::open_key(&state.vault, &user.actor, id).await?;
    let kind = parse_kind(&q.kind)?;
    let r = stories::draft(&state.vault, &user.actor, id, kind, &[], Opening::default()).await?;
    let args = PageArgs { draft_id: None, draft: None, problem: None };
    let page = draft_page(&user, &r, args);
    render(page, StatusCode::OK)
}

/// The fields of the send, approve and preview forms: pairs, since the
/// steps are repeated checkboxes. Only codes from closed lists are read.
struct Choices {
    csrf: String,
    kind: String,
    steps: Vec<Step>,
    opening: Opening,
    approve: bool,
}

fn choices(form: &[(String, String)]) -> Result<Choices, AppError> {
    let mut out = Choices {
        csrf: String::new(),
        kind: String::new(),
        steps: Vec::new(),
        opening: Opening::default(),
        approve: false,
    };
    for (name, value) in form {
        match name.as_str() {
            "csrf" => out.csrf = value.clone(),
            "kind" => out.kind = value.clone(),
            "step" => out.steps.push(Step::parse(value).ok_or(AppError::BadRequest)?),
            "opening" if !value.trim().is_empty() => {
                out.opening = Opening::parse(value).ok_or(AppError::BadRequest)?
            }
            "action" => out.approve = value == "approve",
            _ => {}
        }
    }
    Ok(out)
}

/// POST `/cases/{id}/story/send`: store a draft for a coordinator, only
/// if every case gate passed (otherwise the page again, with the reasons).
pub(crate) async fn case_send(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let id = parse_case(&id)?;
    let c = choices(&form)?;
    check_csrf(&user, &c.csrf)?;
    // The case first (404 for a case the user may not open), then the form.
    crate::cases::service::open_key(&state.vault, &user.actor, id).await?;
    let kind = StoryKind::parse(&c.kind).ok_or(AppError::BadRequest)?;
    match stories::send(&state.vault, &user.actor, id, kind).await? {
        Sent::Sent { .. } => notice::leave(&user.session, &case_page(id), Done::Sent).await,
        Sent::Refused(r) => {
            let args = PageArgs {
                draft_id: None,
                draft: None,
                problem: Some(messages::current().stories_refused.to_owned()),
            };
            render(draft_page(&user, &r, args), StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

async fn approve_or_preview(
    state: &AppState,
    user: &CurrentUser,
    target: Target,
    c: Choices,
    draft: Option<DraftMeta>,
) -> Result<Response, AppError> {
    let (case_id, kind, draft_id) = match &target {
        Target::Case { case_id, kind } => (*case_id, *kind, None),
        Target::Draft { id } => {
            let line = match stories::waiting_draft(&state.vault, &user.actor, id).await {
                Ok(line) => line,
                // Approved or rejected by someone else meanwhile.
                Err(ServiceError::NotFound) => {
                    return notice::leave(&user.session, DRAFTS_PAGE, Done::Gone).await;
                }
                Err(e) => return Err(e.into()),
            };
            let Some(g) = line.genuine else {
                return invalid_page(user, id, StatusCode::UNPROCESSABLE_ENTITY);
            };
            (g.case_id, g.kind, Some(id.as_str()))
        }
    };
    if !c.approve {
        let r = stories::draft(&state.vault, &user.actor, case_id, kind, &c.steps, c.opening).await?;
        return render(draft_page(user, &r, PageArgs { draft_id, draft, problem: None }), StatusCode::OK);
    }
    match stories::approve(&state.vault, &user.actor, &target, &c.steps, c.opening).await {
        Ok(Approval::Approved { story }) => {
            let back = match draft_id {
                Some(_) => DRAFTS_PAGE.to_owned(),
                None => case_page(case_id),
            };
            return notice::leave(&user.session, &back, Done::Approved { id: story }).await;
        }
        Ok(Approval::Refused(r)) => {
            let args =
                PageArgs { draft_id, draft, problem: Some(messages::current().stories_refused.to_owned()) };
            return render(draft_page(user, &r, args), StatusCode::UNPROCESSABLE_ENTITY);
        }
        Err(ServiceError::Conflict) => {}
        Err(ServiceError::NotFound) if draft_id.is_some() => {
            return notice::leave(&user.session, DRAFTS_PAGE, Done::Gone).await;
        }
        Err(e) => return Err(e.into()),
    }
    // A draft approved by someone else meanwhile is gone: say so.
    if let Some(id) = draft_id {
        if matches!(stories::waiting_draft(&state.vault, &user.actor, id).await, Err(ServiceError::NotFound))
        {
            return notice::leave(&user.session, DRAFTS_PAGE, Done::Gone).await;
        }
    }
    let r = stories::draft(&state.vault, &user.actor, case_id, kind, &c.steps, c.opening).await?;
    let args = PageArgs { draft_id, draft, problem: Some(messages::current().stories_conflict.to_owned()) };
    render(draft_page(user, &r, args), StatusCode::CONFLICT)
}

/// POST `/cases/{id}/story/approve`: preview the choices, or approve
/// (coordinators-team members).
pub(crate) async fn case_approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let id = parse_case(&id)?;
    let c = choices(&form)?;
    check_csrf(&user, &c.csrf)?;
    crate::cases::service::open_key(&state.vault, &user.actor, id).await?;
    let kind = StoryKind::parse(&c.kind).ok_or(AppError::BadRequest)?;
    approve_or_preview(&state, &user, Target::Case { case_id: id, kind }, c, None).await
}

// ---------------------------------------------------------------------------
// Drafts waiting for review
// ---------------------------------------------------------------------------

pub struct DraftRow {
    pub href: String,
    pub case_ref: String,
    pub kind: &'static str,
    pub by: String,
    pub when: String,
    pub genuine: bool,
    pub reject: String,
}

#[derive(Template)]
#[template(path = "stories/drafts.html")]
struct DraftsPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    notice: Option<String>,
    rows: Vec<DraftRow>,
}

async fn drafter_names(
    state: &AppState,
    user: &CurrentUser,
    ids: &[crate::ids::UserId],
) -> Result<std::collections::BTreeMap<crate::ids::UserId, String>, AppError> {
    Ok(crate::membership::usernames(&state.vault, &user.actor, ids).await?)
}

/// GET `/stories/drafts`.
pub(crate) async fn drafts_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let notice = notice::take::<Done>(&user.session, DRAFTS_PAGE).await?.map(|d| notice_text(&d));
    let lines = stories::drafts(&state.vault, &user.actor).await?;
    let ids: Vec<_> = lines.iter().filter_map(|l| l.genuine.map(|g| g.drafter)).collect();
    let names = drafter_names(&state, &user, &ids).await?;
    let zone = user.zone();
    let rows = lines
        .into_iter()
        .map(|l| match l.genuine {
            Some(g) => DraftRow {
                href: format!("/stories/drafts/{}", l.id),
                case_ref: short_ref(g.case_id),
                kind: kind_label(messages::current(), g.kind),
                by: names
                    .get(&g.drafter)
                    .cloned()
                    .unwrap_or_else(|| messages::current().someone_unknown.to_owned()),
                when: crate::web::when::minute(g.at, zone),
                genuine: true,
                reject: format!("/stories/drafts/{}/reject", l.id),
            },
            None => DraftRow {
                href: format!("/stories/drafts/{}", l.id),
                case_ref: String::new(),
                kind: messages::current().stories_not_genuine,
                by: String::new(),
                when: String::new(),
                genuine: false,
                reject: format!("/stories/drafts/{}/reject", l.id),
            },
        })
        .collect();
    let page = DraftsPage {
        t: messages::current(),
        nav: Some(Nav::of(&user)),
        csrf: user.csrf.clone(),
        notice,
        rows,
    };
    Ok(Html(page.render()?).into_response())
}

fn invalid_page(user: &CurrentUser, id: &str, status: StatusCode) -> Result<Response, AppError> {
    let t = messages::current();
    let page = DraftPage {
        t,
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        title: t.stories_review_title,
        case_href: String::new(),
        case_ref: String::new(),
        kind_code: "",
        kind_label: t.stories_not_genuine,
        kinds: Vec::new(),
        facts: Vec::new(),
        gates: Vec::new(),
        others: String::new(),
        steps: Vec::new(),
        fits: None,
        review: false,
        further: Vec::new(),
        openings: Vec::new(),
        text: None,
        passed: false,
        can_send: false,
        send_action: String::new(),
        approve_action: String::new(),
        reject_action: Some(format!("/stories/drafts/{id}/reject")),
        problem: Some(t.stories_draft_invalid.to_owned()),
        draft: None,
        invalid: true,
    };
    render(page, status)
}

async fn draft_meta(
    state: &AppState,
    user: &CurrentUser,
    g: &stories::Genuine,
) -> Result<DraftMeta, AppError> {
    let names = drafter_names(state, user, &[g.drafter]).await?;
    Ok(DraftMeta {
        by: names.get(&g.drafter).cloned().unwrap_or_else(|| messages::current().someone_unknown.to_owned()),
        when: crate::web::when::minute(g.at, user.zone()),
    })
}

/// GET `/stories/drafts/{id}`: the review of a waiting draft.
pub(crate) async fn draft_review(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let line = stories::waiting_draft(&state.vault, &user.actor, &id).await?;
    let Some(g) = line.genuine else { return invalid_page(&user, &line.id, StatusCode::OK) };
    let meta = draft_meta(&state, &user, &g).await?;
    let r = stories::draft(&state.vault, &user.actor, g.case_id, g.kind, &[], Opening::default()).await?;
    let args = PageArgs { draft_id: Some(&line.id), draft: Some(meta), problem: None };
    render(draft_page(&user, &r, args), StatusCode::OK)
}

/// POST `/stories/drafts/{id}/approve`: preview or approve a draft.
pub(crate) async fn draft_approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let c = choices(&form)?;
    check_csrf(&user, &c.csrf)?;
    let line = match stories::waiting_draft(&state.vault, &user.actor, &id).await {
        Ok(line) => line,
        Err(ServiceError::NotFound) if c.approve => {
            return notice::leave(&user.session, DRAFTS_PAGE, Done::Gone).await;
        }
        Err(e) => return Err(e.into()),
    };
    let meta = match &line.genuine {
        Some(g) => Some(draft_meta(&state, &user, g).await?),
        None => None,
    };
    approve_or_preview(&state, &user, Target::Draft { id: line.id }, c, meta).await
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// POST `/stories/drafts/{id}/reject`: delete a draft.
pub(crate) async fn draft_reject(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let done = match stories::reject(&state.vault, &user.actor, &id).await {
        Ok(()) => Done::Rejected,
        Err(ServiceError::Conflict) => Done::Gone,
        Err(e) => return Err(e.into()),
    };
    notice::leave(&user.session, DRAFTS_PAGE, done).await
}

// ---------------------------------------------------------------------------
// The case page's section
// ---------------------------------------------------------------------------

pub struct CaseStoryLine {
    pub text: String,
    pub withdrawn: bool,
}

/// What the case page shows of the case's stories, to holders of its key.
pub struct CaseSection {
    pub notice: Option<String>,
    pub drafts: String,
    pub stories: Vec<CaseStoryLine>,
    pub kinds: Vec<Choice>,
    pub action: String,
    pub prepare: &'static str,
}

/// The section, and the notice a story action left for this case page
/// (taken only when `take_notice`: a plain page view, not a form's error).
pub(crate) async fn case_section(
    state: &AppState,
    user: &CurrentUser,
    case_id: CaseId,
    take_notice: bool,
) -> Result<CaseSection, AppError> {
    let notice = if take_notice {
        notice::take::<Done>(&user.session, &case_page(case_id)).await?.map(|d| notice_text(&d))
    } else {
        None
    };
    let found = stories::of_case(&state.vault, &user.actor, case_id).await?;
    Ok(CaseSection {
        notice,
        drafts: messages::current().stories_case_drafts.replace("{n}", &found.drafts.to_string()),
        stories: found
            .stories
            .into_iter()
            .map(|(l, withdrawn)| CaseStoryLine { text: phrases().story(&l.facts, l.opening), withdrawn })
            .collect(),
        kinds: StoryKind::ALL
            .iter()
            .map(|k| Choice { code: k.as_str(), label: kind_label(messages::current(), *k), checked: false })
            .collect(),
        action: format!("/cases/{case_id}/story"),
        prepare: if user.coordinators_team {
            messages::current().stories_prepare_review
        } else {
            messages::current().stories_prepare
        },
    })
}

// ---------------------------------------------------------------------------
// Communications staff
// ---------------------------------------------------------------------------

pub struct StoryLine {
    pub id: String,
    pub text: String,
    pub approved: String,
}

fn story_lines(list: &[Published], zone: time::UtcOffset) -> Vec<StoryLine> {
    list.iter()
        .map(|s| StoryLine {
            id: s.id.clone(),
            text: s.text(phrases()),
            approved: s.approved.to_offset(zone).date().to_string(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "stories/list.html")]
struct ListPage {
    t: &'static Messages,
    nav: Option<Nav>,
    approved: Vec<StoryLine>,
    withdrawn: Vec<StoryLine>,
    langs: Vec<LangLink>,
}

/// GET `/stories`: approved stories, newest first, then the withdrawn ones.
pub(crate) async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    let all = stories::published(&state.vault, &user.actor).await?;
    let (withdrawn, approved): (Vec<Published>, Vec<Published>) = all.into_iter().partition(|s| s.withdrawn);
    let zone = user.zone();
    let page = ListPage {
        t: messages::current(),
        nav: Some(Nav::of(&user)),
        approved: story_lines(&approved, zone),
        withdrawn: story_lines(&withdrawn, zone),
        langs: lang_links(),
    };
    Ok(Html(page.render()?).into_response())
}

/// What the communications home shows: stories approved in the last 30
/// days, and every withdrawn story (to be taken down).
pub struct HomeStories {
    pub recent: Vec<StoryLine>,
    pub withdrawn: Vec<StoryLine>,
    pub any: bool,
    /// Figure tables approved in the last 30 days: link, period, day.
    pub figures: Vec<(String, String, String)>,
}

pub(crate) async fn home_stories(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Option<HomeStories>, AppError> {
    let all = match stories::published(&state.vault, &user.actor).await {
        Ok(all) => all,
        // Not admitted to the communications team yet: the key notice says so.
        Err(ServiceError::Forbidden(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let since = state.vault.clock.now() - Duration::days(30);
    let zone = user.zone();
    let recent: Vec<Published> =
        all.iter().filter(|s| !s.withdrawn && s.approved >= since).cloned().collect();
    let withdrawn: Vec<Published> = all.iter().filter(|s| s.withdrawn).cloned().collect();
    let figures = crate::figures::approved(&state.vault, &user.actor)
        .await?
        .into_iter()
        .filter(|table| table.approved_at >= since)
        .map(|table| {
            (
                format!("/figures/{}", table.id),
                crate::figures::export::period_name(messages::current(), table.period),
                crate::web::when::day(table.approved_at, zone),
            )
        })
        .collect();
    Ok(Some(HomeStories {
        recent: story_lines(&recent, zone),
        withdrawn: story_lines(&withdrawn, zone),
        any: !all.is_empty(),
        figures,
    }))
}

fn attachment(content_type: &'static str, name: &str, lang: Lang, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    let response =
        ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body)
            .into_response();
    in_language(response, lang)
}

/// The language an export was asked in (400 for any but the three), and
/// the stories it carries, recorded with the file and the language
/// (`stories.md ja`). Which stories go out is decided on their facts
/// alone, before any language is chosen.
async fn exported(
    state: &AppState,
    user: &CurrentUser,
    file: &str,
    q: &LangQuery,
) -> Result<(Lang, Vec<Published>), AppError> {
    let lang = q.chosen().ok_or(AppError::BadRequest)?;
    let list = stories::export(&state.vault, &user.actor, &format!("{file} {}", lang.code())).await?;
    Ok((lang, list))
}

/// GET `/stories/export.md?lang=`: a newsletter section.
pub(crate) async fn export_md(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    let (lang, list) = exported(&state, &user, "stories.md", &q).await?;
    let mut out = format!("## {}\n", markdown_text(Messages::of(lang).stories_export_heading));
    for s in &list {
        out.push('\n');
        out.push_str(&markdown_text(&s.text(phrasing::of(lang))));
        out.push('\n');
    }
    Ok(attachment("text/markdown; charset=utf-8", "stories.md", lang, out))
}

/// GET `/stories/export.csv?lang=`: id, kind, text, approval date; formula-safe.
pub(crate) async fn export_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    let (lang, list) = exported(&state, &user, "stories.csv", &q).await?;
    let mut out = csv_line(&["id", "kind", "text", "approved"]);
    for s in &list {
        let approved = s.approved.date().to_string();
        out.push_str(&csv_line(&[
            s.id.as_str(),
            s.facts.kind.as_str(),
            &s.text(phrasing::of(lang)),
            &approved,
        ]));
    }
    Ok(attachment("text/csv; charset=utf-8", "stories.csv", lang, out))
}

#[derive(Serialize)]
struct JsonStory<'a> {
    id: &'a str,
    kind: StoryKind,
    facts: &'a Facts,
    text: String,
    approved: String,
}

/// GET `/stories/export.json?lang=`: id, kind, the coarse facts, text,
/// approval date. Only `text` differs between languages.
pub(crate) async fn export_json(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    let (lang, list) = exported(&state, &user, "stories.json", &q).await?;
    let rows: Vec<JsonStory<'_>> = list
        .iter()
        .map(|s| JsonStory {
            id: &s.id,
            kind: s.facts.kind,
            facts: &s.facts,
            text: s.text(phrasing::of(lang)),
            approved: s.approved.date().to_string(),
        })
        .collect();
    let body = serde_json::to_string_pretty(&rows).map_err(|_| AppError::Internal("story export".into()))?;
    Ok(attachment("application/json", "stories.json", lang, body))
}
