//! The aid log's pages: a shelter's log with its forms (coordinators), the
//! form alone (a caseworker, for a shelter of one of their cases), the
//! correction of an entry, and the kinds a coordinator adds.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::model::{self, AidEntry, AidKind, CustomKind, EntryDraft, EntryFields, KindDraft, Month};
use super::service::{self, AidPage, Log, Recorded};
use crate::cases::model::FieldError;
use crate::error::ServiceError;
use crate::ids::{AidEntryId, AidKindId, ShelterId};
use crate::publication::period::{Period, period_name};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf};
use crate::web::messages::{self, Messages};
use crate::web::notice;
use crate::web::templates::{FormErrors, Nav};
use crate::web::when;

/// The entry form, for recording and for correcting.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    people_served: String,
    #[serde(default)]
    note: String,
}

impl EntryForm {
    fn fields(&self) -> EntryFields<'_> {
        EntryFields {
            month: &self.month,
            kind: &self.kind,
            quantity: &self.quantity,
            currency: &self.currency,
            people_served: &self.people_served,
            note: &self.note,
        }
    }

    /// A fresh form: this month, food.
    fn blank(this_month: Month) -> EntryForm {
        EntryForm { month: this_month.code(), kind: AidKind::Food.code(), ..EntryForm::default() }
    }

    /// The form showing an existing entry (a correction starts from it).
    fn of(draft: &EntryDraft) -> EntryForm {
        EntryForm {
            csrf: String::new(),
            month: draft.month.code(),
            kind: draft.kind.code(),
            quantity: draft.quantity.to_string(),
            currency: draft.currency.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_default(),
            people_served: draft.people_served.to_string(),
            note: draft.note.as_str().to_owned(),
        }
    }
}

/// The form to add a kind of aid; `shelter` is the aid page it was sent from.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    shelter: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    unit: String,
}

pub struct KindChoice {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

/// One entry as the log shows it.
pub struct Row {
    pub id: String,
    /// Counts (no correction replaced it).
    pub current: bool,
    /// Corrects an earlier entry.
    pub correction: bool,
    pub month: String,
    pub kind: String,
    pub quantity: String,
    pub people: String,
    pub note: String,
    pub by: String,
    pub when: String,
}

/// An entry that counts, with the entries it replaced (newest first).
pub struct Group {
    pub head: Row,
    pub replaced: Vec<Row>,
}

pub struct TotalLine {
    pub kind: String,
    pub total: String,
    pub people: u64,
    pub entries: usize,
}

pub struct TotalsYear {
    pub heading: String,
    pub lines: Vec<TotalLine>,
}

/// The log as a page shows it.
pub struct LogView {
    pub groups: Vec<Group>,
    pub totals: Vec<TotalsYear>,
    /// Kinds coordinators added, with their unit.
    pub added: Vec<String>,
}

fn kind_name(t: &Messages, kind: AidKind, customs: &[CustomKind]) -> String {
    match kind {
        AidKind::Custom(id) => {
            customs.iter().find(|k| k.id == id).map(|k| k.name.clone()).unwrap_or_default()
        }
        built_in => builtin_word(&t.aid_kind_names, built_in).to_owned(),
    }
}

fn builtin_word<const N: usize>(words: &[&'static str; N], kind: AidKind) -> &'static str {
    AidKind::BUILT_IN.iter().position(|k| *k == kind).and_then(|i| words.get(i)).copied().unwrap_or("")
}

/// "1200 kg", "50000 JPY", "20 pieces".
fn quantity_text(t: &Messages, entry: &AidEntry, customs: &[CustomKind]) -> String {
    quantity_with_unit(
        t,
        entry.kind,
        entry.currency.as_ref().map(model::Currency::as_str),
        entry.quantity,
        customs,
    )
}

fn quantity_with_unit(
    t: &Messages,
    kind: AidKind,
    currency: Option<&str>,
    quantity: u64,
    customs: &[CustomKind],
) -> String {
    let unit = match kind {
        AidKind::CashForFood => currency.unwrap_or("").to_owned(),
        AidKind::Custom(id) => {
            customs.iter().find(|k| k.id == id).map(|k| k.unit.clone()).unwrap_or_default()
        }
        built_in => builtin_word(&t.aid_units, built_in).to_owned(),
    };
    format!("{quantity} {unit}").trim_end().to_owned()
}

fn kind_choices(t: &Messages, customs: &[CustomKind], chosen: &str) -> Vec<KindChoice> {
    let built_in =
        AidKind::BUILT_IN.iter().map(|k| (k.code(), builtin_word(&t.aid_kind_labels, *k).to_owned()));
    let added = customs.iter().map(|k| {
        (
            AidKind::Custom(k.id).code(),
            t.aid_custom_label.replace("{name}", &k.name).replace("{unit}", &k.unit),
        )
    });
    built_in
        .chain(added)
        .map(|(code, label)| KindChoice { selected: code == chosen.trim(), code, label })
        .collect()
}

/// The built-in kinds in the form's order, then the added ones.
fn kind_order(kind: AidKind) -> usize {
    AidKind::BUILT_IN.iter().position(|k| *k == kind).unwrap_or(AidKind::BUILT_IN.len())
}

fn month_text(t: &Messages, month: Month) -> String {
    period_name(t, month.period())
}

fn row(t: &Messages, user: &CurrentUser, log: &Log, entry: &AidEntry, current: bool) -> Row {
    let by = match log.recorders.get(&entry.recorded_by) {
        Some(r) => match r.role {
            Some(role) => t.aid_by.replace("{user}", &r.username).replace("{role}", t.role(role)),
            None => r.username.clone(),
        },
        None => t.aid_by_gone.to_owned(),
    };
    Row {
        id: entry.id.to_string(),
        current,
        correction: entry.supersedes.is_some(),
        month: month_text(t, entry.month),
        kind: kind_name(t, entry.kind, &log.kinds),
        quantity: quantity_text(t, entry, &log.kinds),
        people: entry.people_served.to_string(),
        note: entry.note.as_str().to_owned(),
        by,
        when: when::minute(entry.recorded_at, user.zone()),
    }
}

fn log_view(t: &Messages, user: &CurrentUser, log: &Log, fiscal_start: u8) -> LogView {
    let mut current = model::current(&log.entries);
    // Newest month first; in a month, the kinds in the form's order.
    current.sort_by(|a, b| {
        b.month
            .cmp(&a.month)
            .then(kind_order(a.kind).cmp(&kind_order(b.kind)))
            .then(b.recorded_at.cmp(&a.recorded_at))
            .then(b.id.cmp(&a.id))
    });
    let by_id: BTreeMap<AidEntryId, &AidEntry> = log.entries.iter().map(|e| (e.id, e)).collect();
    let groups = current
        .iter()
        .map(|head| {
            let mut replaced = Vec::new();
            let mut at = head.supersedes.and_then(|id| by_id.get(&id));
            // Bounded: the chain cannot be longer than the log.
            while let Some(old) = at.filter(|_| replaced.len() < log.entries.len()) {
                replaced.push(row(t, user, log, old, false));
                at = old.supersedes.and_then(|id| by_id.get(&id));
            }
            Group { head: row(t, user, log, head, true), replaced }
        })
        .collect();
    let added = log
        .kinds
        .iter()
        .map(|k| t.aid_custom_label.replace("{name}", &k.name).replace("{unit}", &k.unit))
        .collect();
    LogView { groups, totals: totals(t, log, &current, fiscal_start), added }
}

/// The entries that count, summed per fiscal year and kind (cash per
/// currency), newest year first.
fn totals(t: &Messages, log: &Log, current: &[&AidEntry], fiscal_start: u8) -> Vec<TotalsYear> {
    /// A kind's code and, for cash, its currency.
    type Key = (String, Option<String>);
    /// The kind, its quantity, people served and entries.
    type Sum = (AidKind, u64, u64, usize);
    let mut years: BTreeMap<Period, BTreeMap<Key, Sum>> = BTreeMap::new();
    for e in current {
        let year = Period::fiscal_year_of(e.month.first_day(), fiscal_start);
        let key = (e.kind.code(), e.currency.as_ref().map(|c| c.as_str().to_owned()));
        let sum = years.entry(year).or_default().entry(key).or_insert((e.kind, 0, 0, 0));
        sum.1 = sum.1.saturating_add(e.quantity);
        sum.2 = sum.2.saturating_add(u64::from(e.people_served));
        sum.3 += 1;
    }
    years
        .into_iter()
        .rev()
        .map(|(period, sums)| {
            let mut lines: Vec<(usize, TotalLine)> = sums
                .into_iter()
                .map(|((_, currency), (kind, quantity, people, entries))| {
                    let total = quantity_with_unit(t, kind, currency.as_deref(), quantity, &log.kinds);
                    (
                        kind_order(kind),
                        TotalLine { kind: kind_name(t, kind, &log.kinds), total, people, entries },
                    )
                })
                .collect();
            lines.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.kind.cmp(&b.1.kind)));
            TotalsYear {
                heading: t.aid_totals_for.replace("{period}", &period_name(t, period)),
                lines: lines.into_iter().map(|(_, l)| l).collect(),
            }
        })
        .collect()
}

/// What the aid page says once after an action.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum AidDone {
    Recorded(AidEntryId),
    Sent,
    Corrected(AidEntryId),
    KindAdded(AidKindId),
}

fn page_path(shelter: ShelterId) -> String {
    format!("/shelters/{shelter}/aid")
}

fn parse_shelter(text: &str) -> Result<ShelterId, AppError> {
    ShelterId::parse(text).ok_or(AppError::NotFound)
}

fn parse_entry(text: &str) -> Result<AidEntryId, AppError> {
    AidEntryId::parse(text).ok_or(AppError::NotFound)
}

/// The month it is now for the user, in their zone.
fn this_month(state: &AppState, user: &CurrentUser) -> Month {
    Month::of(state.vault.clock.now().to_offset(user.zone()).date())
}

fn errors_of(list: Vec<FieldError>) -> FormErrors {
    let mut errors = FormErrors::default();
    for e in list {
        errors.add(e);
    }
    errors
}

#[derive(Template)]
#[template(path = "aid/log.html")]
struct LogPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    notice: Option<String>,
    /// Inbox entries this request refused, said as a problem.
    problem: Option<String>,
    shelter: String,
    code: String,
    this_month: String,
    /// The log, for a coordinator; a caseworker gets the form only.
    log: Option<LogView>,
    form: EntryForm,
    errors: FormErrors,
    kinds: Vec<KindChoice>,
    kind_form: KindForm,
    kind_errors: FormErrors,
}

/// The aid page's forms as the user left them, and their problems.
#[derive(Default)]
struct Forms {
    entry: Option<EntryForm>,
    errors: FormErrors,
    kind: KindForm,
    kind_errors: FormErrors,
}

fn notice_text(t: &Messages, done: AidDone, log: Option<&Log>, code: &str) -> Option<String> {
    let entry_words = |id: AidEntryId, text: &str| {
        let log = log?;
        let entry = log.entry(id)?;
        Some(
            text.replace("{shelter}", code)
                .replace("{kind}", &kind_name(t, entry.kind, &log.kinds))
                .replace("{month}", &month_text(t, entry.month)),
        )
    };
    match done {
        AidDone::Recorded(id) => entry_words(id, t.aid_recorded_notice),
        AidDone::Corrected(id) => entry_words(id, t.aid_corrected_notice),
        AidDone::Sent => Some(t.aid_sent_notice.replace("{shelter}", code)),
        AidDone::KindAdded(id) => {
            let kind = log?.kinds.iter().find(|k| k.id == id)?;
            Some(t.aid_kind_added_notice.replace("{kind}", &kind.name))
        }
    }
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    shelter: ShelterId,
    forms: Forms,
    status: StatusCode,
) -> Result<Response, AppError> {
    let t = messages::current();
    let done = if status == StatusCode::OK {
        notice::take::<AidDone>(&user.session, &page_path(shelter)).await?
    } else {
        None
    };
    let page = service::page(&state.vault, &user.actor, shelter).await?;
    let (code, log) = match &page {
        AidPage::Log(log) => (log.code.as_str().to_owned(), Some(log.as_ref())),
        AidPage::Form { code } => (code.as_str().to_owned(), None),
    };
    let mut notices: Vec<String> = done.and_then(|d| notice_text(t, d, log, &code)).into_iter().collect();
    if let Some(log) = log.filter(|l| l.folded > 0) {
        notices.push(t.aid_folded_notice.replace("{count}", &log.folded.to_string()));
    }
    let problem = log
        .filter(|l| l.refused > 0)
        .map(|l| t.aid_refused_notice.replace("{count}", &l.refused.to_string()));
    let form = forms.entry.unwrap_or_else(|| EntryForm::blank(this_month(state, user)));
    // A caseworker cannot read the kinds coordinators added: the listed kinds only.
    let customs = log.map(|l| l.kinds.as_slice()).unwrap_or_default();
    let page = LogPage {
        t,
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        notice: (!notices.is_empty()).then(|| notices.join(" ")),
        problem,
        shelter: shelter.to_string(),
        code,
        this_month: this_month(state, user).code(),
        kinds: kind_choices(t, customs, &form.kind),
        log: log.map(|l| log_view(t, user, l, state.vault.publication.fiscal_year_start)),
        form,
        errors: forms.errors,
        kind_form: forms.kind,
        kind_errors: forms.kind_errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// GET /shelters/{id}/aid: the log and its forms for a coordinator (after
/// folding the caseworkers' entries), the form alone for a caseworker.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    render(&state, &user, parse_shelter(&id)?, Forms::default(), StatusCode::OK).await
}

/// POST /shelters/{id}/aid: record an entry.
pub(crate) async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<EntryForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let shelter = parse_shelter(&id)?;
    let again = |form: EntryForm, errors: FormErrors| Forms { entry: Some(form), errors, ..Forms::default() };
    let draft = match EntryDraft::parse(form.fields(), this_month(&state, &user)) {
        Ok(draft) => draft,
        Err(problems) => {
            let forms = again(form, errors_of(problems));
            return render(&state, &user, shelter, forms, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match service::record(&state.vault, &user.actor, shelter, draft).await {
        Ok(Recorded::Logged(entry)) => {
            notice::leave(&user.session, &page_path(shelter), AidDone::Recorded(entry)).await
        }
        Ok(Recorded::SentToCoordinators(_)) => {
            notice::leave(&user.session, &page_path(shelter), AidDone::Sent).await
        }
        Err(ServiceError::Invalid(e)) => {
            render(&state, &user, shelter, again(form, e.into()), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "aid/correct.html")]
struct CorrectPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    shelter: String,
    code: String,
    this_month: String,
    /// The entry the form corrects (the one that counts now).
    target: String,
    /// The entry the user set out to correct.
    original: Row,
    /// The correction that replaced it, if another came first.
    theirs: Option<Row>,
    already: bool,
    conflict: bool,
    form: EntryForm,
    errors: FormErrors,
    kinds: Vec<KindChoice>,
    log: LogView,
}

/// What the correction page says besides the form.
enum Shown {
    /// A fresh form, from the entry that counts now.
    Fresh,
    /// The user's input, refused for these problems.
    Refused(EntryForm, FormErrors),
    /// The user's input, kept after another correction came first.
    Conflict(EntryForm),
}

async fn render_correct(
    state: &AppState,
    user: &CurrentUser,
    shelter: ShelterId,
    wanted: AidEntryId,
    shown: Shown,
) -> Result<Response, AppError> {
    let t = messages::current();
    let log = service::for_correction(&state.vault, &user.actor, shelter, wanted).await?;
    let original = log.entry(wanted).ok_or(AppError::NotFound)?;
    let target = log.latest(wanted).ok_or(AppError::NotFound)?;
    let moved = target.id != wanted;
    let (form, errors, status, conflict) = match shown {
        Shown::Fresh => {
            (EntryForm::of(&EntryDraft::of(target)), FormErrors::default(), StatusCode::OK, false)
        }
        Shown::Refused(form, errors) => (form, errors, StatusCode::UNPROCESSABLE_ENTITY, false),
        Shown::Conflict(form) => (form, FormErrors::default(), StatusCode::CONFLICT, true),
    };
    let page = CorrectPage {
        t,
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        shelter: shelter.to_string(),
        code: log.code.as_str().to_owned(),
        this_month: this_month(state, user).code(),
        target: target.id.to_string(),
        original: row(t, user, &log, original, !moved),
        theirs: log.correction_of(wanted).filter(|_| moved).map(|c| row(t, user, &log, c, c.id == target.id)),
        already: moved && !conflict,
        conflict,
        kinds: kind_choices(t, &log.kinds, &form.kind),
        form,
        errors,
        log: log_view(t, user, &log, state.vault.publication.fiscal_year_start),
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// GET /shelters/{id}/aid/{entry}/correct: the correction form, filled
/// from the entry that counts now.
pub(crate) async fn correct_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, entry)): Path<(String, String)>,
) -> Result<Response, AppError> {
    render_correct(&state, &user, parse_shelter(&id)?, parse_entry(&entry)?, Shown::Fresh).await
}

/// POST /shelters/{id}/aid/{entry}: record a correction of that entry.
pub(crate) async fn correct(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, entry)): Path<(String, String)>,
    Form(form): Form<EntryForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let (shelter, wanted) = (parse_shelter(&id)?, parse_entry(&entry)?);
    let draft = match EntryDraft::parse(form.fields(), this_month(&state, &user)) {
        Ok(draft) => draft,
        Err(problems) => {
            let shown = Shown::Refused(form, errors_of(problems));
            return render_correct(&state, &user, shelter, wanted, shown).await;
        }
    };
    match service::correct(&state.vault, &user.actor, shelter, wanted, draft).await {
        Ok(new) => notice::leave(&user.session, &page_path(shelter), AidDone::Corrected(new)).await,
        Err(ServiceError::Invalid(e)) => {
            render_correct(&state, &user, shelter, wanted, Shown::Refused(form, e.into())).await
        }
        // Another correction came first: theirs is shown, the input kept.
        Err(ServiceError::Conflict) => {
            render_correct(&state, &user, shelter, wanted, Shown::Conflict(form)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /aid/kinds: add a kind of aid, from a shelter's aid page.
pub(crate) async fn add_kind(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<KindForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let shelter = ShelterId::parse(&form.shelter).ok_or(AppError::BadRequest)?;
    let again =
        |form: KindForm, errors: FormErrors| Forms { kind: form, kind_errors: errors, ..Forms::default() };
    let draft = match KindDraft::parse(&form.name, &form.unit) {
        Ok(draft) => draft,
        Err(problems) => {
            let forms = again(form, errors_of(problems));
            return render(&state, &user, shelter, forms, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match service::add_kind(&state.vault, &user.actor, draft).await {
        Ok(kind) => notice::leave(&user.session, &page_path(shelter), AidDone::KindAdded(kind)).await,
        Err(ServiceError::Invalid(e)) => {
            render(&state, &user, shelter, again(form, e.into()), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}
