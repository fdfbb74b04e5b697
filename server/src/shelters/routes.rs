//! The shelter register page (coordinators): code names, regions,
//! capacities and private notes, and a form to add a shelter.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{ShelterDetails, create, get, list, update};
use crate::cases::model::ShelterCode;
use crate::error::ServiceError;
use crate::ids::ShelterId;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf};
use crate::web::messages::{self, Messages};
use crate::web::notice;
use crate::web::templates::{FormErrors, Nav};

pub struct Line {
    pub id: String,
    pub code: String,
    pub region: String,
    pub capacity: u16,
    pub notes: String,
}

#[derive(Default, Deserialize)]
pub struct ShelterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    notes: String,
}

#[derive(Template)]
#[template(path = "shelters/register.html")]
struct RegisterPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    /// Shown once after an add or a save: "Shelter North-3 added."
    notice: Option<String>,
    lines: Vec<Line>,
    form: ShelterForm,
    errors: FormErrors,
}

/// What the register says once after a change: which shelter, by id (its
/// code name is read from the register the page shows anyway).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum ShelterDone {
    Added(ShelterId),
    Saved(ShelterId),
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    form: ShelterForm,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let done = if status == StatusCode::OK {
        notice::take::<ShelterDone>(&user.session, "/shelters").await?
    } else {
        None
    };
    let shelters = list(&state.vault, &user.actor).await?;
    let notice = done.and_then(|done| {
        let (id, text) = match done {
            ShelterDone::Added(id) => (id, messages::current().shelter_added_notice),
            ShelterDone::Saved(id) => (id, messages::current().shelter_saved_notice),
        };
        shelters.iter().find(|s| s.id == id).map(|s| text.replace("{shelter}", s.code.as_str()))
    });
    let lines = shelters
        .into_iter()
        .map(|s| {
            let details = s.details.unwrap_or(ShelterDetails {
                region: String::new(),
                capacity: 0,
                notes: Default::default(),
            });
            Line {
                id: s.id.to_string(),
                code: s.code.as_str().to_owned(),
                region: details.region,
                capacity: details.capacity,
                notes: details.notes.as_str().to_owned(),
            }
        })
        .collect();
    let page = RegisterPage {
        t: messages::current(),
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        notice,
        lines,
        form,
        errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub(crate) async fn page(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    render(&state, &user, ShelterForm::default(), FormErrors::default(), StatusCode::OK).await
}

pub(crate) async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ShelterForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let mut errors = FormErrors::default();
    let code = ShelterCode::parse(&form.code).map_err(|e| errors.add(e)).ok();
    let details =
        ShelterDetails::parse(&form.region, &form.capacity, &form.notes).map_err(|e| errors.add(e)).ok();
    let (Some(code), Some(details)) = (code, details) else {
        return render(&state, &user, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match create(&state.vault, &user.actor, code, details).await {
        Ok(id) => notice::leave(&user.session, "/shelters", ShelterDone::Added(id)).await,
        Err(ServiceError::Invalid(e)) => {
            render(&state, &user, form, e.into(), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "shelters/edit.html")]
struct EditPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    form: ShelterForm,
    errors: FormErrors,
}

fn parse_id(text: &str) -> Result<crate::ids::ShelterId, AppError> {
    crate::ids::ShelterId::parse(text).ok_or(AppError::NotFound)
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, AppError> {
    let shelter = get(&state.vault, &user.actor, parse_id(&id)?).await?;
    let details = shelter.details.ok_or(AppError::Forbidden)?;
    let form = ShelterForm {
        csrf: String::new(),
        version: shelter.version.to_string(),
        code: shelter.code.as_str().to_owned(),
        region: details.region,
        capacity: details.capacity.to_string(),
        notes: details.notes.as_str().to_owned(),
    };
    let page = EditPage {
        t: messages::current(),
        nav: Some(Nav::of(&user)),
        csrf: user.csrf.clone(),
        id,
        form,
        errors: FormErrors::default(),
    };
    Ok(Html(page.render()?).into_response())
}

pub(crate) async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(form): Form<ShelterForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let shelter_id = parse_id(&id)?;
    let Ok(version) = form.version.trim().parse::<i64>() else { return Err(AppError::BadRequest) };
    let mut errors = FormErrors::default();
    let code = ShelterCode::parse(&form.code).map_err(|e| errors.add(e)).ok();
    let details =
        ShelterDetails::parse(&form.region, &form.capacity, &form.notes).map_err(|e| errors.add(e)).ok();
    let again = |form: ShelterForm, errors: FormErrors, status: StatusCode| -> Result<Response, AppError> {
        let page = EditPage {
            t: messages::current(),
            nav: Some(Nav::of(&user)),
            csrf: user.csrf.clone(),
            id: id.clone(),
            form,
            errors,
        };
        Ok((status, Html(page.render()?)).into_response())
    };
    let (Some(code), Some(details)) = (code, details) else {
        return again(form, errors, StatusCode::UNPROCESSABLE_ENTITY);
    };
    match update(&state.vault, &user.actor, shelter_id, version, code, details).await {
        Ok(_) => notice::leave(&user.session, "/shelters", ShelterDone::Saved(shelter_id)).await,
        Err(ServiceError::Invalid(e)) => again(form, e.into(), StatusCode::UNPROCESSABLE_ENTITY),
        Err(ServiceError::Conflict) => {
            let errors = FormErrors::from(crate::cases::model::FieldError::new(
                "version",
                messages::current().case_conflict,
            ));
            again(form, errors, StatusCode::CONFLICT)
        }
        Err(e) => Err(e.into()),
    }
}
