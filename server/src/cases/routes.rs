//! Casework pages: the case list (a caseworker's own cases; every case for a
//! coordinator, from the sealed index; filtered, sorted and paged through
//! `filter.rs`), creating and editing a case (a stale save shows the other
//! person's version and keeps the user's input; person rows come and go by
//! buttons that save nothing), the case page with its holders, milestones
//! and history, adding a milestone. docs/casework.md describes them.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::filter::{CaseFilter, Dir, Holder, ListQuery, Parsed, SortKey, Window};
use super::model::{
    AgeBand, Alias, CountryCode, EventDate, FieldError, Gender, Group, MilestoneKind, Note, Person,
    ShelterCode, Stage, Status,
};
use super::service::{self as cases, Case, CaseDraft, MilestoneDraft, Summary};
use crate::accounts::model::Role;
use crate::error::ServiceError;
use crate::ids::{CaseId, MilestoneId, ShelterId, UserId};
use crate::programmes::sponsorship::routes::{self as sponsorship, FormChoices, StepInput};
use crate::shelters;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::CurrentUser;
use crate::web::guards::check_csrf;
use crate::web::messages::{self, Messages};
use crate::web::templates::{FormErrors, Nav};

/// What the case page announces once, after the redirect that follows a
/// change. It lives in the session (sealed, like the rest of its data),
/// never in the URL, and holds ids only: the names come from the case and
/// the assignment lists that the page itself shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct CaseNotice {
    case: CaseId,
    done: Done,
    /// The caseworker an assignment concerns.
    user: Option<UserId>,
    /// The sponsorship milestone a notice names the child of.
    #[serde(default)]
    milestone: Option<MilestoneId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Done {
    Created,
    Saved,
    MilestoneAdded,
    MilestoneSaved,
    Assigned,
    Unassigned,
    /// A sponsorship milestone added: the notice names the child.
    Sponsorship,
}

const NOTICE_KEY: &str = "case_notice";

/// Leave a notice for the case page and go there.
/// Whom or what a notice names besides the case.
#[derive(Debug, Clone, Copy, Default)]
struct Named {
    user: Option<UserId>,
    milestone: Option<MilestoneId>,
}

async fn done(
    user: &CurrentUser,
    case: CaseId,
    done: Done,
    who: Option<Named>,
) -> Result<Response, AppError> {
    let (user_id, milestone) = who.map_or((None, None), |w| (w.user, w.milestone));
    user.session.insert(NOTICE_KEY, CaseNotice { case, done, user: user_id, milestone }).await?;
    Ok(Redirect::to(&format!("/cases/{case}")).into_response())
}

/// How a notice names a case: its first alias, and how many others.
fn case_label(case: &Case) -> String {
    let persons = case.group.persons();
    let first = persons.first().map(|p| p.alias.as_str()).unwrap_or_default();
    match persons.len() {
        0 | 1 => first.to_owned(),
        2 => messages::current().case_label_and_one.replace("{alias}", first),
        n => messages::current()
            .case_label_and_more
            .replace("{alias}", first)
            .replace("{n}", &(n - 1).to_string()),
    }
}

fn notice_text(notice: CaseNotice, case: &Case, assignment: Option<&Assignment>) -> String {
    let template = match notice.done {
        Done::Created => messages::current().notice_case_created,
        Done::Saved => messages::current().notice_case_saved,
        Done::MilestoneAdded => messages::current().notice_milestone_added,
        Done::MilestoneSaved => messages::current().notice_milestone_saved,
        Done::Assigned => messages::current().notice_case_assigned,
        Done::Unassigned => messages::current().notice_case_unassigned,
        Done::Sponsorship => {
            let text = notice.milestone.and_then(|m| sponsorship::notice(messages::current(), case, m));
            return text
                .unwrap_or_else(|| messages::current().notice_milestone_added.to_owned())
                .replace("{case}", &case_label(case));
        }
    };
    let who = notice.user.map(|u| u.to_string()).unwrap_or_default();
    let name = assignment
        .into_iter()
        .flat_map(|a| a.holders.iter().chain(&a.waiting).chain(&a.candidates))
        .find(|(id, _)| *id == who)
        .map_or(messages::current().notice_someone, |(_, name)| name.as_str());
    // The case label last: an alias never contains the braces looked for.
    template.replace("{user}", name).replace("{case}", &case_label(case))
}

fn parse_case_id(text: &str) -> Result<CaseId, AppError> {
    // A malformed id is answered like an unknown one.
    CaseId::parse(text).ok_or(AppError::NotFound)
}

async fn shelter_codes(state: &AppState, user: &CurrentUser) -> BTreeMap<ShelterId, String> {
    match shelters::list(&state.vault, &user.actor).await {
        Ok(list) => list.into_iter().map(|s| (s.id, s.code.as_str().to_owned())).collect(),
        Err(_) => BTreeMap::new(),
    }
}

/// The code name of the case's own shelter, for the case page: one row and
/// one key, read under the case read's entry (SECURITY.md, "Case page
/// reads"), not the whole register under an entry of its own.
async fn case_shelter_code(
    state: &AppState,
    user: &CurrentUser,
    shelter: Option<ShelterId>,
) -> BTreeMap<ShelterId, String> {
    let Some(id) = shelter else { return BTreeMap::new() };
    match shelters::code_for_case_page(&state.vault, &user.actor, id).await {
        Ok(Some(code)) => BTreeMap::from([(id, code.as_str().to_owned())]),
        Ok(None) | Err(_) => BTreeMap::new(),
    }
}

// ---------------------------------------------------------------------------
// The case list
// ---------------------------------------------------------------------------

/// How a group is named in headings and lists: "Pine", "Pine and Birch",
/// "Pine, Birch and Oak", "Pine, Birch and 2 others".
pub fn group_name<S: AsRef<str>>(aliases: &[S]) -> String {
    let a: Vec<&str> = aliases.iter().map(AsRef::as_ref).collect();
    match a.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [one, two] => messages::current().group_two.replace("{a}", one).replace("{b}", two),
        [one, two, three] => {
            messages::current().group_three.replace("{a}", one).replace("{b}", two).replace("{c}", three)
        }
        [one, two, rest @ ..] => messages::current()
            .group_more
            .replace("{n}", &rest.len().to_string())
            .replace("{a}", one)
            .replace("{b}", two),
    }
}

/// A case's short reference: the first eight characters of its id.
pub fn short_ref(id: CaseId) -> String {
    id.to_string().chars().take(8).collect()
}

pub struct Line {
    pub id: String,
    pub name: String,
    pub stage: &'static str,
    pub status: String,
    pub shelter: String,
    /// Coordinators only: the usernames of the caseworkers holding it.
    pub assignees: String,
    pub updated: String,
}

/// A sortable column's header: where its link goes and how it says the
/// current order.
pub struct SortHeader {
    pub label: &'static str,
    pub href: String,
    /// `aria-sort` on the current column only.
    pub aria_sort: Option<&'static str>,
    /// For sighted readers: an arrow; screen readers have `aria-sort`.
    pub mark: &'static str,
}

/// The selected code of each select in the filter form.
#[derive(Default)]
pub struct Chosen {
    pub stage: String,
    pub status: String,
    pub shelter: String,
    pub assignee: String,
    pub milestones: String,
    pub sort: String,
    /// Empty for the column's usual order.
    pub dir: String,
}

#[derive(Template)]
#[template(path = "cases/list.html")]
struct ListPage {
    t: &'static Messages,
    nav: Option<Nav>,
    coordinator: bool,
    /// No "New case" for a key not yet certified: the save would be refused.
    can_create: bool,
    lines: Vec<Line>,
    /// What was typed, kept in the text fields whatever it was.
    q: ListQuery,
    chosen: Chosen,
    errors: FormErrors,
    /// Every problem, listed once above the form as well.
    problems: Vec<String>,
    filters_open: bool,
    /// "2 active", when any filter is on.
    active_text: Option<String>,
    count: String,
    page_text: String,
    prev: Option<String>,
    next: Option<String>,
    clear: String,
    by_alias: SortHeader,
    by_stage: SortHeader,
    by_updated: SortHeader,
    stages: Vec<(&'static str, String)>,
    statuses: Vec<(&'static str, String)>,
    shelters: Vec<(String, String)>,
    caseworkers: Vec<(String, String)>,
    sorts: Vec<(&'static str, &'static str)>,
}

fn sort_header(filter: &CaseFilter, key: SortKey, label: &'static str) -> SortHeader {
    let current = filter.sort == key;
    let (aria_sort, mark) = match (current, filter.dir) {
        (false, _) => (None, ""),
        (true, Dir::Asc) => (Some("ascending"), "▲"),
        (true, Dir::Desc) => (Some("descending"), "▼"),
    };
    SortHeader { label, href: filter.sorted_by(key).to_query(), aria_sort, mark }
}

fn active_count(f: &CaseFilter) -> usize {
    [
        !f.q.is_empty(),
        f.stage.is_some(),
        f.status.is_some(),
        f.shelter.is_some(),
        f.assignee.is_some(),
        f.stale_days.is_some(),
        f.milestones.is_some(),
    ]
    .into_iter()
    .filter(|b| *b)
    .count()
}

pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(raw): Query<ListQuery>,
) -> Result<Response, AppError> {
    let coordinator = user.actor.has(Role::Coordinator);
    let Parsed { mut filter, errors: mut problems } = CaseFilter::parse(&raw);
    let summaries = cases::list_visible(&state.vault, &user.actor).await?;
    let codes = shelter_codes(&state, &user).await;
    if let Some(Holder::Is(id)) = filter.shelter {
        // A well-formed id of no shelter would match nothing, silently.
        if coordinator && !codes.contains_key(&id) {
            problems.push(FieldError::new("shelter", messages::current().list_error_shelter_unknown));
            filter.shelter = None;
        }
    }
    let now = state.vault.clock.now();
    let today = now.to_offset(user.zone()).date();
    let mut picked: Vec<std::sync::Arc<Summary>> =
        summaries.into_iter().filter(|s| filter.matches(s, now, today)).collect();
    filter.sort(&mut picked);
    let (window, beyond) = Window::of(picked.len(), filter.page);
    problems.extend(beyond);
    filter.page = window.page;
    let shown: Vec<std::sync::Arc<Summary>> =
        picked.into_iter().skip(window.skip).take(window.shown).collect();

    let caseworkers = if coordinator {
        crate::membership::caseworkers(&state.vault, &user.actor).await?
    } else {
        Vec::new()
    };
    // Names for the assignee column: the active caseworkers, and anyone
    // else holding a case shown (a frozen account, say).
    let names: BTreeMap<UserId, String> = if coordinator {
        let mut names: BTreeMap<UserId, String> = caseworkers.iter().cloned().collect();
        let mut missing: Vec<UserId> = shown
            .iter()
            .flat_map(|s| s.assignees.iter().copied())
            .filter(|u| !names.contains_key(u))
            .collect();
        if let Some(Holder::Is(id)) = filter.assignee {
            missing.push(id);
        }
        missing.retain(|u| !names.contains_key(u));
        if !missing.is_empty() {
            names.extend(crate::membership::usernames(&state.vault, &user.actor, &missing).await?);
        }
        names
    } else {
        BTreeMap::new()
    };
    let zone = user.zone();
    let lines = shown
        .into_iter()
        .map(|s| {
            let mut holders: Vec<&str> = s
                .assignees
                .iter()
                .map(|u| names.get(u).map_or(messages::current().someone_unknown, String::as_str))
                .collect();
            holders.sort_unstable();
            Line {
                id: s.id.to_string(),
                name: group_name(&s.aliases),
                stage: messages::current().stage(s.stage),
                status: messages::current().status(s.status),
                shelter: s.shelter.and_then(|id| codes.get(&id).cloned()).unwrap_or_default(),
                assignees: if holders.is_empty() {
                    messages::current().nobody.to_owned()
                } else {
                    holders.join(", ")
                },
                updated: crate::web::when::minute(s.updated_at, zone),
            }
        })
        .collect();

    let mut caseworker_options: Vec<(String, String)> =
        caseworkers.iter().map(|(id, name)| (id.to_string(), name.clone())).collect();
    if let Some(Holder::Is(id)) = filter.assignee {
        if coordinator && !caseworkers.iter().any(|(u, _)| *u == id) {
            let name =
                names.get(&id).cloned().unwrap_or_else(|| messages::current().someone_unknown.to_owned());
            caseworker_options.push((id.to_string(), name));
        }
    }
    let chosen = Chosen {
        stage: filter.stage.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        status: filter.status.map(|s| s.code().to_owned()).unwrap_or_default(),
        shelter: filter.shelter.map(|h| h.code()).unwrap_or_default(),
        assignee: filter.assignee.map(|h| h.code()).unwrap_or_default(),
        milestones: filter.milestones.map(|p| p.code().to_owned()).unwrap_or_default(),
        sort: filter.sort.code().to_owned(),
        dir: if filter.dir == filter.sort.default_dir() {
            String::new()
        } else {
            filter.dir.code().to_owned()
        },
    };
    let mut errors = FormErrors::default();
    for e in &problems {
        errors.add(e.clone());
    }
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let mut statuses: Vec<(&'static str, String)> = vec![
        (Status::Open.as_str(), messages::current().status(Status::Open)),
        (Status::OnHold.as_str(), messages::current().status(Status::OnHold)),
        ("closed", messages::current().status_any_closed.to_owned()),
    ];
    statuses.extend(
        Status::ALL.iter().filter(|s| s.is_closed()).map(|s| (s.as_str(), messages::current().status(*s))),
    );
    let nav = Nav::of(&user);
    let page = ListPage {
        t: messages::current(),
        can_create: !nav.awaiting_certification(),
        nav: Some(nav),
        shelters: codes.iter().map(|(id, code)| (id.to_string(), code.clone())).collect(),
        caseworkers: caseworker_options,
        coordinator,
        lines,
        filters_open: filter.is_narrowed() || !problems.is_empty(),
        active_text: Some(active_count(&filter))
            .filter(|n| *n > 0)
            .map(|n| messages::current().list_filters_active.replace("{n}", &n.to_string())),
        count: window.count_text(),
        page_text: messages::current()
            .list_page_of
            .replace("{page}", &window.page.to_string())
            .replace("{pages}", &window.pages.to_string()),
        prev: (window.page > 1).then(|| filter.on_page(window.page - 1).to_query()),
        next: (window.page < window.pages).then(|| filter.on_page(window.page + 1).to_query()),
        clear: CaseFilter { sort: filter.sort, dir: filter.dir, ..CaseFilter::default() }.to_query(),
        by_alias: sort_header(&filter, SortKey::Alias, messages::current().col_aliases),
        by_stage: sort_header(&filter, SortKey::Stage, messages::current().col_stage),
        by_updated: sort_header(&filter, SortKey::Updated, messages::current().col_updated),
        problems: problems.into_iter().map(|e| e.message).collect(),
        errors,
        chosen,
        q: raw,
        stages: Stage::ALL.iter().map(|s| (s.as_str(), messages::current().stage(*s).to_owned())).collect(),
        statuses,
        sorts: vec![
            (SortKey::Updated.code(), messages::current().col_updated),
            (SortKey::Stage.code(), messages::current().col_stage),
            (SortKey::Alias.code(), messages::current().col_aliases),
        ],
    };
    Ok((status, Html(page.render()?)).into_response())
}

// ---------------------------------------------------------------------------
// The case form (create and edit)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct PersonRow {
    pub index: usize,
    pub alias: String,
    pub age: String,
    pub gender: String,
    pub consent: bool,
    pub alias_error: Option<String>,
    pub age_error: Option<String>,
}

/// What the user typed, kept whole so a rejected form comes back intact.
#[derive(Debug, Clone, Default)]
pub struct CaseInput {
    pub persons: Vec<PersonRow>,
    pub shelter: String,
    pub stage: String,
    pub status: String,
    pub notes: String,
    pub version: String,
}

impl CaseInput {
    fn from_pairs(pairs: &[(String, String)]) -> (CaseInput, String) {
        let get =
            |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
        let mut persons = Vec::new();
        for index in 0..Group::MAX_PERSONS {
            let alias = get(&format!("alias_{index}"));
            let age = get(&format!("age_{index}"));
            if !pairs.iter().any(|(k, _)| k == &format!("alias_{index}")) {
                break;
            }
            persons.push(PersonRow {
                index,
                alias,
                age,
                gender: get(&format!("gender_{index}")),
                consent: !get(&format!("consent_{index}")).is_empty(),
                ..PersonRow::default()
            });
        }
        let input = CaseInput {
            persons,
            shelter: get("shelter"),
            stage: get("stage"),
            status: get("status"),
            notes: get("notes"),
            version: get("version"),
        };
        (input, get("csrf"))
    }

    fn of(case: &Case) -> CaseInput {
        CaseInput {
            persons: case
                .group
                .persons()
                .iter()
                .enumerate()
                .map(|(index, p)| PersonRow {
                    index,
                    alias: p.alias.as_str().to_owned(),
                    age: p.age_band.as_str().to_owned(),
                    gender: p.gender.map(|g| g.as_str().to_owned()).unwrap_or_default(),
                    consent: p.consent,
                    ..PersonRow::default()
                })
                .collect(),
            shelter: case.shelter.map(|s| s.to_string()).unwrap_or_default(),
            stage: case.stage.as_str().to_owned(),
            status: case.status.as_str().to_owned(),
            notes: case.notes.as_str().to_owned(),
            version: case.version.to_string(),
        }
    }

    /// Parse into a draft, or name every problem beside its field (rows
    /// left entirely blank are ignored).
    fn parse(&mut self) -> Result<CaseDraft, FormErrors> {
        let mut errors = FormErrors::default();
        let mut persons = Vec::new();
        for row in &mut self.persons {
            if row.alias.trim().is_empty() && row.age.trim().is_empty() {
                continue;
            }
            let alias = Alias::parse(&row.alias).map_err(|e| row.alias_error = Some(e.message));
            let age = AgeBand::parse(&row.age).map_err(|e| row.age_error = Some(e.message));
            let gender =
                if row.gender.trim().is_empty() { Ok(None) } else { Gender::parse(&row.gender).map(Some) };
            if let (Ok(alias), Ok(age_band), Ok(gender)) = (alias, age, gender) {
                persons.push(Person { alias, age_band, gender, consent: row.consent });
            } else if row.alias_error.is_none() && row.age_error.is_none() {
                row.age_error = Some("Choose a gender from the list, or leave it empty.".into());
            }
        }
        if self.persons.iter().any(|r| r.alias_error.is_some() || r.age_error.is_some()) {
            errors.add(FieldError::new("group", "Check the persons marked below."));
        }
        let group = Group::new(persons).map_err(|e| errors.add(e)).ok();
        let shelter = if self.shelter.trim().is_empty() {
            Some(None)
        } else {
            match ShelterId::parse(&self.shelter) {
                Some(id) => Some(Some(id)),
                None => {
                    errors.add(FieldError::new("shelter", "Choose a shelter from the register."));
                    None
                }
            }
        };
        let stage = Stage::parse(&self.stage).map_err(|e| errors.add(e)).ok();
        let status = Status::parse(&self.status).map_err(|e| errors.add(e)).ok();
        let notes = Note::parse(&self.notes).map_err(|e| errors.add(e)).ok();
        match (group, shelter, stage, status, notes) {
            (Some(group), Some(shelter), Some(stage), Some(status), Some(notes)) if errors.is_empty() => {
                Ok(CaseDraft { group, shelter, stage, status, notes })
            }
            _ => Err(errors),
        }
    }

    /// A form always offers at least one person's row; beyond that, rows
    /// come and go with the buttons (no fixed blank rows).
    fn with_a_row(mut self) -> CaseInput {
        if self.persons.is_empty() {
            self.persons.push(PersonRow::default());
        }
        self
    }

    /// One row more, unless the group is full (then said beside the rows).
    fn add_person(&mut self) -> FormErrors {
        let mut errors = FormErrors::default();
        if self.persons.len() >= Group::MAX_PERSONS {
            errors.add(FieldError::new("group", messages::current().group_full));
        } else {
            self.persons.push(PersonRow { index: self.persons.len(), ..PersonRow::default() });
        }
        errors
    }

    /// One row less; the rows after it move up, keeping what was typed.
    fn remove_person(&mut self, index: usize) {
        if index < self.persons.len() {
            self.persons.remove(index);
        }
        for (i, row) in self.persons.iter_mut().enumerate() {
            row.index = i;
        }
    }
}

/// What a post of the case form asks for: a save, or a row more or less
/// (those only show the form again: nothing is saved).
enum FormAsk {
    Save,
    AddPerson,
    RemovePerson(usize),
}

impl FormAsk {
    fn of(pairs: &[(String, String)]) -> Result<FormAsk, AppError> {
        if pairs.iter().any(|(k, _)| k == "add_person") {
            return Ok(FormAsk::AddPerson);
        }
        match pairs.iter().find(|(k, _)| k == "remove_person") {
            Some((_, v)) => v.trim().parse().map(FormAsk::RemovePerson).map_err(|_| AppError::BadRequest),
            None => Ok(FormAsk::Save),
        }
    }

    /// Apply a row button to the input; `None` for a save.
    fn rows(self, input: &mut CaseInput) -> Option<FormErrors> {
        match self {
            FormAsk::Save => None,
            FormAsk::AddPerson => Some(input.add_person()),
            FormAsk::RemovePerson(index) => {
                input.remove_person(index);
                Some(FormErrors::default())
            }
        }
    }
}

#[derive(Template)]
#[template(path = "cases/form.html")]
struct FormPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    title: &'static str,
    action: String,
    /// False when the user's key is not certified yet: the page says why
    /// instead of offering a form whose save would be refused.
    offer_form: bool,
    input: CaseInput,
    errors: FormErrors,
    /// On a conflict: the version someone else saved, to merge by hand,
    /// with its stage and status in words.
    theirs: Option<CaseInput>,
    theirs_words: (String, String),
    shelters: Vec<(String, String)>,
    stages: Vec<(&'static str, String)>,
    statuses: Vec<(&'static str, String)>,
    ages: Vec<(&'static str, &'static str)>,
    genders: Vec<(&'static str, &'static str)>,
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    action: String,
    input: CaseInput,
    errors: FormErrors,
    theirs: Option<CaseInput>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let coordinator = user.actor.has(Role::Coordinator);
    let statuses = Status::ALL
        .iter()
        .filter(|s| coordinator || !s.is_closed() || s.as_str() == input.status)
        .map(|s| (s.as_str(), messages::current().status(*s)))
        .collect();
    let words = |input: &CaseInput| {
        let stage =
            Stage::parse(&input.stage).map(|s| messages::current().stage(s).to_owned()).unwrap_or_default();
        let status = Status::parse(&input.status).map(|s| messages::current().status(s)).unwrap_or_default();
        (stage, status)
    };
    let theirs_words = theirs.as_ref().map(words).unwrap_or_default();
    let nav = Nav::of(user);
    // A refused save always shows the form again, with what was typed.
    let offer_form = !nav.awaiting_certification() || !errors.is_empty();
    let page = FormPage {
        t: messages::current(),
        offer_form,
        nav: Some(nav),
        csrf: user.csrf.clone(),
        title: if action == "/cases" { messages::current().cases_new } else { messages::current().case_edit },
        theirs_words,
        action,
        input: input.with_a_row(),
        errors,
        theirs,
        shelters: shelter_codes(state, user)
            .await
            .into_iter()
            .map(|(id, code)| (id.to_string(), code))
            .collect(),
        stages: Stage::ALL.iter().map(|s| (s.as_str(), messages::current().stage(*s).to_owned())).collect(),
        statuses,
        ages: AgeBand::ALL.iter().map(|a| (a.as_str(), messages::current().age_band(*a))).collect(),
        genders: Gender::ALL.iter().map(|g| (g.as_str(), messages::current().gender(*g))).collect(),
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub(crate) async fn new_case(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    let input = CaseInput {
        stage: Stage::Intake.as_str().into(),
        status: Status::Open.as_str().into(),
        ..CaseInput::default()
    };
    form_page(&state, &user, "/cases".into(), input, FormErrors::default(), None, StatusCode::OK).await
}

pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (mut input, csrf) = CaseInput::from_pairs(&pairs);
    check_csrf(&user, &csrf)?;
    if let Some(errors) = FormAsk::of(&pairs)?.rows(&mut input) {
        return form_page(&state, &user, "/cases".into(), input, errors, None, StatusCode::OK).await;
    }
    let draft = match input.parse() {
        Ok(d) => d,
        Err(errors) => {
            return form_page(
                &state,
                &user,
                "/cases".into(),
                input,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match cases::create(&state.vault, &user.actor, draft).await {
        Ok(id) => done(&user, id, Done::Created, None).await,
        Err(e) => match refusal(e) {
            Ok((errors, status)) => {
                form_page(&state, &user, "/cases".into(), input, errors, None, status).await
            }
            Err(e) => Err(e),
        },
    }
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_case_id(&id)?;
    let case = cases::read(&state.vault, &user.actor, id).await?;
    form_page(
        &state,
        &user,
        format!("/cases/{id}"),
        CaseInput::of(&case),
        FormErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let id = parse_case_id(&id)?;
    let (mut input, csrf) = CaseInput::from_pairs(&pairs);
    check_csrf(&user, &csrf)?;
    let action = format!("/cases/{id}");
    let Ok(version) = input.version.trim().parse::<i64>() else { return Err(AppError::BadRequest) };
    if let Some(errors) = FormAsk::of(&pairs)?.rows(&mut input) {
        return form_page(&state, &user, action, input, errors, None, StatusCode::OK).await;
    }
    let draft = match input.parse() {
        Ok(d) => d,
        Err(errors) => {
            return form_page(&state, &user, action, input, errors, None, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    match cases::update(&state.vault, &user.actor, id, version, draft).await {
        Ok(_) => done(&user, id, Done::Saved, None).await,
        Err(ServiceError::Conflict) => {
            // Someone saved first: show their version beside the user's input,
            // which is kept; the next save goes against their version.
            let current = cases::read(&state.vault, &user.actor, id).await?;
            let theirs = CaseInput::of(&current);
            input.version = theirs.version.clone();
            let errors = FormErrors::from(FieldError::new("version", messages::current().case_conflict));
            form_page(&state, &user, action, input, errors, Some(theirs), StatusCode::CONFLICT).await
        }
        Err(e) => match refusal(e) {
            Ok((errors, status)) => form_page(&state, &user, action, input, errors, None, status).await,
            Err(e) => Err(e),
        },
    }
}

/// A save refused for a reason the user can act on: the form comes back
/// with what was typed and the reason named. Anything else is an error page.
fn refusal(e: ServiceError) -> Result<(FormErrors, StatusCode), AppError> {
    match e {
        ServiceError::Invalid(e) => Ok((e.into(), StatusCode::UNPROCESSABLE_ENTITY)),
        ServiceError::Uncertified => Ok((
            FieldError::new("form", messages::current().case_refused_uncertified).into(),
            StatusCode::FORBIDDEN,
        )),
        ServiceError::Forbidden(_) => Ok((
            FieldError::new("form", messages::current().case_refused_forbidden).into(),
            StatusCode::FORBIDDEN,
        )),
        other => Err(other.into()),
    }
}

// ---------------------------------------------------------------------------
// The case page and its milestones
// ---------------------------------------------------------------------------

pub struct MilestoneLine {
    pub id: String,
    pub kind: &'static str,
    pub date: String,
    pub country: String,
    pub place: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "cases/show.html")]
struct ShowPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    case: Case,
    shelter: String,
    milestones: Vec<MilestoneLine>,
    kinds: Vec<(&'static str, &'static str)>,
    m: MilestoneForm,
    errors: FormErrors,
    /// For a coordinator: who holds the case, who waits, who could.
    assignment: Option<Assignment>,
    /// For a caseworker: who holds the case with them (and "you").
    holders: Option<Vec<String>>,
    /// Shown once after a change: "Case of Pine saved."
    notice: Option<String>,
    /// "Pine, Birch and 2 others".
    heading: String,
    /// "ref 3f9a1c2b".
    reference: String,
    history: Vec<HistoryLine>,
    /// The next, older part of the history, if there may be one.
    older: Option<String>,
    /// Back to the latest changes, when an older part is shown.
    newest: Option<String>,
    /// The case's drafts and stories (docs/stories.md).
    stories: crate::stories::routes::CaseSection,
    /// The milestone form's sponsorship fields (docs/programmes.md).
    spons: FormChoices,
    /// The case's education sponsorship section.
    sponsorship: sponsorship::CaseSection,
}

/// One change in a case's history, in words.
pub struct HistoryLine {
    pub when: String,
    pub who: String,
    pub what: &'static str,
}

/// Changes shown at once.
const HISTORY_LINES: usize = 20;

/// The words for an entry that changed the case; `None` for anything else
/// (reads, lists, refusals and conflicts change nothing).
fn change_words(action: &str, outcome: &str) -> Option<&'static str> {
    if outcome != crate::audit::Outcome::Ok.as_str() {
        return None;
    }
    match crate::audit::Action::parse(action)? {
        crate::audit::Action::CaseCreate => Some(messages::current().history_created),
        crate::audit::Action::CaseUpdate => Some(messages::current().history_saved),
        crate::audit::Action::MilestoneAdd => Some(messages::current().history_milestone_added),
        crate::audit::Action::MilestoneEdit => Some(messages::current().history_milestone_edited),
        crate::audit::Action::CaseAssign => Some(messages::current().history_assigned),
        crate::audit::Action::CaseUnassign => Some(messages::current().history_unassigned),
        _ => None,
    }
}

/// The changes to a case recorded before `before`, newest first (at most
/// `HISTORY_LINES`), and where an older part starts if there may be one.
async fn changes_of(
    state: &AppState,
    case_id: CaseId,
    before: i64,
) -> Result<(Vec<(crate::storage::AuditRow, &'static str)>, Option<i64>), AppError> {
    let target = case_id.to_string();
    // Only the changes, through their own partial index: reads of the same
    // case, which far outnumber them, cost a page view nothing.
    let limit = i64::try_from(HISTORY_LINES + 1).unwrap_or(i64::MAX);
    let rows = state.vault.store().case_changes(&target, before, limit).await.map_err(ServiceError::from)?;
    let more = rows.len() > HISTORY_LINES;
    let changes: Vec<_> = rows
        .into_iter()
        .take(HISTORY_LINES)
        .filter_map(|row| change_words(&row.action, &row.outcome).map(|what| (row, what)))
        .collect();
    let older = if more { changes.last().map(|c| c.0.seq) } else { None };
    Ok((changes, older))
}

/// Who a history line names, by who is looking: a coordinator sees
/// usernames; a caseworker sees "you", the usernames of those holding the
/// case now, "a coordinator" for anything done as a coordinator, and "a
/// caseworker" for anyone else (one no longer assigned, say).
enum Viewer {
    Coordinator(BTreeMap<UserId, String>),
    Caseworker { me: UserId, holders: BTreeMap<UserId, String> },
}

impl Viewer {
    fn who(&self, row: &crate::storage::AuditRow) -> String {
        let actor = UserId::parse(&row.actor);
        match self {
            Viewer::Coordinator(names) => actor
                .and_then(|a| names.get(&a))
                .map_or_else(|| messages::current().someone_unknown.to_owned(), Clone::clone),
            Viewer::Caseworker { me, holders } => {
                if row.role == Role::Coordinator.as_str() {
                    messages::current().history_a_coordinator.to_owned()
                } else if actor == Some(*me) {
                    messages::current().history_you.to_owned()
                } else if let Some(name) = actor.and_then(|a| holders.get(&a)) {
                    name.clone()
                } else {
                    messages::current().history_a_caseworker.to_owned()
                }
            }
        }
    }
}

pub struct Assignment {
    pub holders: Vec<(String, String)>,
    pub waiting: Vec<(String, String)>,
    pub candidates: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MilestoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    place_code: String,
    #[serde(default)]
    note: String,
    // The education sponsorship's fields (read for its kinds only).
    #[serde(default)]
    child: String,
    #[serde(default)]
    school_level: String,
    #[serde(default)]
    sponsor: String,
    #[serde(default)]
    enrolment: String,
    #[serde(default)]
    reason: String,
}

#[allow(clippy::too_many_arguments)]
async fn show_page(
    state: &AppState,
    user: &CurrentUser,
    case: Case,
    m: MilestoneForm,
    errors: FormErrors,
    status: StatusCode,
    before: Option<i64>,
) -> Result<Response, AppError> {
    // Taken whatever happens: a notice is shown once, on its own case only.
    // Looked at first: removing an absent key still marks the session
    // changed, and every case page view would rewrite the session row.
    let pending = user.session.get::<CaseNotice>(NOTICE_KEY).await.ok().flatten().is_some();
    let notice = if status == StatusCode::OK && pending {
        user.session.remove::<CaseNotice>(NOTICE_KEY).await.ok().flatten().filter(|n| n.case == case.id)
    } else {
        None
    };
    let codes = case_shelter_code(state, user, case.shelter).await;
    let milestones = case
        .milestones
        .iter()
        .map(|m| MilestoneLine {
            id: m.id.to_string(),
            kind: messages::current().kind(m.draft.kind),
            date: crate::web::when::event_date(m.draft.date),
            country: m.draft.country.map(|c| c.as_str().to_owned()).unwrap_or_default(),
            place: m.draft.place_code.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
            note: m.draft.note.as_str().to_owned(),
        })
        .collect();
    let assignment = if user.actor.has(Role::Coordinator) {
        let (holders, waiting) =
            crate::membership::case_assignees(&state.vault, &user.actor, case.id).await?;
        let taken: Vec<_> = holders.iter().chain(waiting.iter()).map(|(id, _)| *id).collect();
        let candidates = crate::membership::caseworkers(&state.vault, &user.actor)
            .await?
            .into_iter()
            .filter(|(id, _)| !taken.contains(id))
            .map(|(id, name)| (id.to_string(), name))
            .collect();
        let strings =
            |v: Vec<(crate::ids::UserId, String)>| v.into_iter().map(|(id, n)| (id.to_string(), n)).collect();
        Some(Assignment { holders: strings(holders), waiting: strings(waiting), candidates })
    } else {
        None
    };
    let notice = notice.map(|n| notice_text(n, &case, assignment.as_ref()));
    let (holders, viewer) = if user.actor.has(Role::Coordinator) {
        (None, None)
    } else {
        let list = crate::membership::co_assignees(&state.vault, &user.actor, case.id).await?;
        let me = user.actor.user_id();
        let names = list
            .iter()
            .map(|(id, name)| {
                if *id == me { messages::current().holder_you.replace("{user}", name) } else { name.clone() }
            })
            .collect();
        (Some(names), Some(Viewer::Caseworker { me, holders: list.into_iter().collect() }))
    };
    let (changes, older) = changes_of(state, case.id, before.unwrap_or(i64::MAX)).await?;
    let viewer = match viewer {
        Some(v) => v,
        None => {
            let mut actors: Vec<UserId> =
                changes.iter().filter_map(|(r, _)| UserId::parse(&r.actor)).collect();
            actors.sort_unstable();
            actors.dedup();
            Viewer::Coordinator(crate::membership::usernames(&state.vault, &user.actor, &actors).await?)
        }
    };
    let zone = user.zone();
    let history = changes
        .iter()
        .map(|(row, what)| HistoryLine {
            when: OffsetDateTime::parse(&row.at, &Rfc3339)
                .map(|at| crate::web::when::minute(at, zone))
                .unwrap_or_default(),
            who: viewer.who(row),
            what,
        })
        .collect();
    let aliases: Vec<&str> = case.group.persons().iter().map(|p| p.alias.as_str()).collect();
    let stories =
        crate::stories::routes::case_section(state, user, case.id, status == StatusCode::OK).await?;
    let page = ShowPage {
        spons: sponsorship::choices(messages::current(), &case, None, &m.kind),
        sponsorship: sponsorship::case_section(messages::current(), &case),
        stories,
        t: messages::current(),
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        notice,
        assignment,
        holders,
        heading: group_name(&aliases),
        reference: messages::current().case_ref.replace("{ref}", &short_ref(case.id)),
        history,
        older: older.map(|seq| format!("/cases/{}?before={seq}#history", case.id)),
        newest: before.map(|_| format!("/cases/{}#history", case.id)),
        id: case.id.to_string(),
        shelter: case.shelter.and_then(|s| codes.get(&s).cloned()).unwrap_or_default(),
        case,
        milestones,
        kinds: MilestoneKind::ALL.iter().map(|k| (k.as_str(), messages::current().kind(*k))).collect(),
        m,
        errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    /// The older part of the history: changes recorded before this entry.
    #[serde(default)]
    before: String,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let id = parse_case_id(&id)?;
    let before = match q.before.trim() {
        "" => None,
        text => Some(text.parse::<i64>().ok().filter(|n| *n > 0).ok_or(AppError::BadRequest)?),
    };
    let case = cases::read(&state.vault, &user.actor, id).await?;
    show_page(&state, &user, case, MilestoneForm::default(), FormErrors::default(), StatusCode::OK, before)
        .await
}

fn parse_milestone(form: &MilestoneForm, today: time::Date) -> Result<MilestoneDraft, FormErrors> {
    let mut errors = FormErrors::default();
    let kind = MilestoneKind::parse(&form.kind).map_err(|e| errors.add(e)).ok();
    let date = EventDate::parse(&form.date, today).map_err(|e| errors.add(e)).ok();
    let country = if form.country.trim().is_empty() {
        Some(None)
    } else {
        CountryCode::parse(&form.country).map(Some).map_err(|e| errors.add(e)).ok()
    };
    let place_code = if form.place_code.trim().is_empty() {
        Some(None)
    } else {
        ShelterCode::parse(&form.place_code)
            .map(Some)
            .map_err(|e| errors.add(FieldError::new("place_code", e.message)))
            .ok()
    };
    let note = Note::parse(&form.note).map_err(|e| errors.add(FieldError::new("note", e.message))).ok();
    let input = StepInput {
        child: &form.child,
        school_level: &form.school_level,
        sponsor: &form.sponsor,
        enrolment: &form.enrolment,
        reason: &form.reason,
    };
    let step = kind.map(|k| sponsorship::parse_step(k, date, &input, &mut errors));
    match (kind, date, country, place_code, note, step) {
        (Some(kind), Some(date), Some(country), Some(place_code), Some(note), Some(Some(sponsorship))) => {
            Ok(MilestoneDraft { kind, date, country, place_code, note, sponsorship })
        }
        _ => Err(errors),
    }
}

pub(crate) async fn add_milestone(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<MilestoneForm>,
) -> Result<Response, AppError> {
    let id = parse_case_id(&id)?;
    check_csrf(&user, &form.csrf)?;
    let today = state.vault.clock.now().date();
    let (errors, status) = match parse_milestone(&form, today) {
        Ok(draft) => {
            let sponsorship = draft.kind.is_sponsorship();
            match cases::add_milestone(&state.vault, &user.actor, id, draft).await {
                Ok(mid) if sponsorship => {
                    return done(
                        &user,
                        id,
                        Done::Sponsorship,
                        Some(Named { user: None, milestone: Some(mid) }),
                    )
                    .await;
                }
                Ok(_) => return done(&user, id, Done::MilestoneAdded, None).await,
                // The rules' refusals, beside their fields, the input kept.
                Err(ServiceError::Invalid(e)) => (FormErrors::from(e), StatusCode::UNPROCESSABLE_ENTITY),
                Err(ServiceError::Conflict) => (
                    FieldError::new("milestone", messages::current().sponsorship_conflict).into(),
                    StatusCode::CONFLICT,
                ),
                Err(e) => return Err(e.into()),
            }
        }
        Err(errors) => (errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let case = cases::read(&state.vault, &user.actor, id).await?;
    show_page(&state, &user, case, form, errors, status, None).await
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user_id: String,
}

/// Assign or unassign a caseworker (coordinators; the password again after
/// five minutes).
pub(crate) async fn assignment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<AssignForm>,
) -> Result<Response, AppError> {
    let id = parse_case_id(&id)?;
    check_csrf(&user, &form.csrf)?;
    let back = format!("/cases/{id}");
    if let Some(redirect) = crate::web::guards::require_recent(&state, &user, &back) {
        return Ok(redirect);
    }
    let target = UserId::parse(&form.user_id).ok_or(AppError::BadRequest)?;
    let what = match action.as_str() {
        "assign" => match crate::membership::assign(&state.vault, &user.actor, id, target).await {
            Ok(_) => Done::Assigned,
            // Named beside the caseworker list, on the case page.
            Err(ServiceError::Invalid(e)) => {
                let case = cases::read(&state.vault, &user.actor, id).await?;
                let errors = FormErrors::from(e);
                return show_page(
                    &state,
                    &user,
                    case,
                    MilestoneForm::default(),
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                )
                .await;
            }
            Err(e) => return Err(e.into()),
        },
        "unassign" => {
            crate::membership::unassign(&state.vault, &user.actor, id, target).await?;
            Done::Unassigned
        }
        _ => return Err(AppError::NotFound),
    };
    done(&user, id, what, Some(Named { user: Some(target), milestone: None })).await
}

// ---------------------------------------------------------------------------
// Editing a milestone (optimistic concurrency, like the case)
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "cases/milestone.html")]
struct MilestonePage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    case_id: String,
    milestone_id: String,
    version: i64,
    kinds: Vec<(&'static str, &'static str)>,
    m: MilestoneForm,
    theirs: Option<MilestoneForm>,
    errors: FormErrors,
    spons: FormChoices,
}

fn form_of(draft: &MilestoneDraft) -> MilestoneForm {
    let [child, school_level, sponsor, enrolment, reason] =
        sponsorship::step_fields(draft.sponsorship.as_ref());
    MilestoneForm {
        csrf: String::new(),
        kind: draft.kind.as_str().to_owned(),
        date: draft.date.to_string(),
        country: draft.country.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        place_code: draft.place_code.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        note: draft.note.as_str().to_owned(),
        child,
        school_level,
        sponsor,
        enrolment,
        reason,
    }
}

#[allow(clippy::too_many_arguments)]
fn milestone_page(
    user: &CurrentUser,
    case: &Case,
    milestone_id: crate::ids::MilestoneId,
    version: i64,
    m: MilestoneForm,
    theirs: Option<MilestoneForm>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let page = MilestonePage {
        t: messages::current(),
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        case_id: case.id.to_string(),
        milestone_id: milestone_id.to_string(),
        version,
        kinds: MilestoneKind::ALL.iter().map(|k| (k.as_str(), messages::current().kind(*k))).collect(),
        spons: sponsorship::choices(messages::current(), case, Some(milestone_id), &m.kind),
        m,
        theirs,
        errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

fn find_milestone(case: &Case, id: crate::ids::MilestoneId) -> Result<&super::service::Milestone, AppError> {
    case.milestones.iter().find(|m| m.id == id).ok_or(AppError::NotFound)
}

pub(crate) async fn edit_milestone(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, mid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = parse_case_id(&id)?;
    let mid = crate::ids::MilestoneId::parse(&mid).ok_or(AppError::NotFound)?;
    let case = cases::read(&state.vault, &user.actor, id).await?;
    let milestone = find_milestone(&case, mid)?;
    milestone_page(
        &user,
        &case,
        mid,
        milestone.version,
        form_of(&milestone.draft),
        None,
        FormErrors::default(),
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct MilestoneEditForm {
    #[serde(flatten)]
    m: MilestoneForm,
    #[serde(default)]
    version: String,
}

pub(crate) async fn update_milestone(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, mid)): Path<(String, String)>,
    Form(form): Form<MilestoneEditForm>,
) -> Result<Response, AppError> {
    let id = parse_case_id(&id)?;
    let mid = crate::ids::MilestoneId::parse(&mid).ok_or(AppError::NotFound)?;
    check_csrf(&user, &form.m.csrf)?;
    let Ok(version) = form.version.trim().parse::<i64>() else { return Err(AppError::BadRequest) };
    let today = state.vault.clock.now().date();
    let refused = match parse_milestone(&form.m, today) {
        Ok(draft) => match cases::edit_milestone(&state.vault, &user.actor, id, mid, version, draft).await {
            Ok(_) => return done(&user, id, Done::MilestoneSaved, None).await,
            Err(ServiceError::Conflict) => {
                let case = cases::read(&state.vault, &user.actor, id).await?;
                let current = find_milestone(&case, mid)?;
                let errors = FormErrors::from(FieldError::new("version", messages::current().case_conflict));
                let theirs = Some(form_of(&current.draft));
                return milestone_page(
                    &user,
                    &case,
                    mid,
                    current.version,
                    form.m,
                    theirs,
                    errors,
                    StatusCode::CONFLICT,
                );
            }
            // The rules' refusals, beside their fields, the input kept.
            Err(ServiceError::Invalid(e)) => FormErrors::from(e),
            Err(e) => return Err(e.into()),
        },
        Err(errors) => errors,
    };
    let case = cases::read(&state.vault, &user.actor, id).await?;
    find_milestone(&case, mid)?;
    milestone_page(&user, &case, mid, version, form.m, None, refused, StatusCode::UNPROCESSABLE_ENTITY)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The history's words, the store's list of changes and the partial
    /// index that serves it name the same actions.
    #[test]
    fn the_history_the_store_and_the_index_agree_on_what_a_change_is() {
        let index = include_str!("../../../migrations/sqlite/0010_case_changes_by_target.sql");
        let index_pg = include_str!("../../../migrations/postgres/0010_case_changes_by_target.sql");
        for action in crate::audit::Action::ALL {
            let code = action.as_str();
            let listed = crate::storage::CASE_CHANGE_ACTIONS.contains(&code);
            assert_eq!(change_words(code, "ok").is_some(), listed, "{code}");
            assert_eq!(index.contains(&format!("'{code}'")), listed, "{code} in the SQLite index");
            assert_eq!(index_pg.contains(&format!("'{code}'")), listed, "{code} in the PostgreSQL index");
            assert_eq!(
                crate::storage::CASE_CHANGES_SQL.contains(&format!("'{code}'")),
                listed,
                "{code} in the store's query"
            );
        }
    }

    /// The parser's message lists the bands in the words the form's list uses.
    #[test]
    fn the_age_band_error_uses_the_catalogues_words() {
        let words: Vec<&str> = AgeBand::ALL.iter().map(|a| messages::current().age_band(*a)).collect();
        let (last, rest) = words.split_last().unwrap();
        let expected = format!("Choose an age band: {} or {last}.", rest.join(", "));
        assert_eq!(AgeBand::parse("ninety").unwrap_err().message, expected);
    }

    /// The hints beside the fields state the limits the parsers enforce.
    #[test]
    fn the_limit_hints_say_the_parsers_limits() {
        assert_eq!(messages::current().alias_limit_hint, format!("At most {} characters.", Alias::MAX_CHARS));
        assert_eq!(messages::current().notes_limit_hint, format!("At most {} characters.", Note::MAX_CHARS));
    }
}
