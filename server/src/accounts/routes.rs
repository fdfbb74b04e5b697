//! Login, logout and the start page.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use secrecy::SecretString;

use super::login::{self, LoginError};
use super::model::Password;
use super::service::{self, KeyIssued};
use super::{totp, userkey};
use crate::audit::Action;
use crate::cases::model::FieldError;
use crate::error::ServiceError;
use crate::sessions::auth::{self, AUTH_KEY};
use crate::web::AppState;
use crate::web::client_address::client_address;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, EnrollingUser, check_csrf};
use crate::web::messages::{self, Messages};
use crate::web::notice;
use crate::web::templates::{FormErrors, Nav};
use crate::web::when;

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    t: &'static Messages,
    nav: Option<Nav>,
    username: String,
    problem: Option<&'static str>,
    notice: Option<&'static str>,
    languages: Vec<(&'static str, &'static str)>,
}

fn render(template: &impl Template) -> Result<Html<String>, AppError> {
    Ok(Html(template.render()?))
}

#[derive(Deserialize)]
pub struct LoginQuery {
    /// Why the last session ended, from a closed list (never shown as typed).
    #[serde(default)]
    ended: String,
    /// A language link on the page: read the pages before login in it.
    #[serde(default)]
    lang: String,
}

/// Where a session ended by too many wrong re-authentications lands.
const ENDED_BY_REAUTH: &str = "/login?ended=reauth";
/// Where logging out, everywhere or here, lands; lockdown's is in sessions.
const ENDED_BY_LOGOUT: &str = "/login?ended=logout";
const ENDED_EVERYWHERE: &str = "/login?ended=everywhere";

pub(crate) async fn login_page(
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Result<Response, AppError> {
    // Why the last session ended, said once on the page it lands on: the
    // session is gone by then, so a code from a closed list says it.
    let notice = match q.ended.as_str() {
        "reauth" => Some(messages::current().reauth_ended),
        "logout" => Some(messages::current().logged_out),
        "everywhere" => Some(messages::current().logged_out_everywhere),
        "lockdown" => Some(messages::current().lockdown_engaged),
        _ => None,
    };
    // A language link: this page and the next ones before login are in
    // it. The cookie lives as long as the browser session, like the
    // session's own, and says nothing but one of three codes.
    let chosen = crate::i18n::Lang::from_code(&q.lang);
    if let Some(lang) = chosen {
        crate::i18n::choose(lang);
    }
    let page = LoginPage {
        t: messages::current(),
        nav: None,
        username: String::new(),
        problem: None,
        notice,
        languages: language_links(),
    };
    let mut response = render(&page)?.into_response();
    if let Some(lang) = chosen {
        let cookie = format!(
            "{}={}; Path=/; HttpOnly; Secure; SameSite=Strict",
            crate::i18n::negotiate::COOKIE,
            lang.code()
        );
        if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
            response.headers_mut().append(axum::http::header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// The login page's language links, each in its own language.
fn language_links() -> Vec<(&'static str, &'static str)> {
    crate::i18n::Lang::ALL.iter().map(|l| (l.code(), l.native_name())).collect()
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    code: String,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginForm(<redacted>)")
    }
}

pub(crate) async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let address = client_address(peer.ip(), &headers, &state.trusted_proxies);
    let failed =
        |problem: &'static str, status: StatusCode, username: String| -> Result<Response, AppError> {
            let page = LoginPage {
                t: messages::current(),
                nav: None,
                username,
                problem: Some(problem),
                notice: None,
                languages: language_links(),
            };
            Ok((status, render(&page)?).into_response())
        };
    // Keep what was typed, within reason; never the password or the code.
    let typed: String = form.username.chars().take(64).collect();
    match login::login(&state.vault, &form.username, &form.password, &form.code, address).await {
        Ok(done) => {
            auth::begin(&state, &session, &done.actor, done.needs_enrolment, done.failed_codes).await?;
            if done.recovered {
                session.insert(RECOVERED_KEY, true).await?;
            }
            let next = if done.needs_enrolment { "/enrol" } else { "/" };
            Ok(Redirect::to(next).into_response())
        }
        Err(LoginError::Failed) => failed(messages::current().login_failed, StatusCode::OK, typed),
        Err(LoginError::Throttled { retry_after }) => {
            let mut response =
                failed(messages::current().login_throttled, StatusCode::TOO_MANY_REQUESTS, typed)?;
            set_retry_after(&mut response, retry_after);
            Ok(response)
        }
        Err(LoginError::LockedDown) => {
            failed(messages::current().login_locked_down, StatusCode::SERVICE_UNAVAILABLE, typed)
        }
        Err(LoginError::Internal(e)) => Err(e.into()),
    }
}

/// Set in the session by a login after a recovery, until the home page
/// has said so.
pub(crate) const RECOVERED_KEY: &str = "recovered";

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// To the login page (which says why), telling the browser to drop every
/// cookie of ours.
pub(crate) fn logged_out_to(location: &str) -> Response {
    let mut response = Redirect::to(location).into_response();
    response
        .headers_mut()
        .insert(header::HeaderName::from_static("clear-site-data"), HeaderValue::from_static("\"cookies\""));
    response.headers_mut().append(header::SET_COOKIE, removal_cookie());
    response
}

/// The cookie that removes ours. tower-sessions' own removal cookie lacks
/// `Secure`, which a browser requires to touch a `__Host-` cookie.
fn removal_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-safehouse=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    )
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let event = user.actor.event(Action::Logout).on(user.actor.user_id());
    user.session.flush().await?;
    state.vault.record(&event, crate::audit::Outcome::Ok).await?;
    index_user_left(&state, &user).await;
    Ok(logged_out_to(ENDED_BY_LOGOUT))
}

// ---------------------------------------------------------------------------
// Activation, enrolment, recovery codes
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/activate.html")]
struct ActivatePage {
    t: &'static Messages,
    nav: Option<Nav>,
    token: String,
    errors: FormErrors,
}

pub(crate) async fn activate_page() -> Result<Response, AppError> {
    let page = ActivatePage {
        t: messages::current(),
        nav: None,
        token: String::new(),
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    code: String,
    /// The authenticator code that goes with a recovery code.
    #[serde(default)]
    totp: String,
    #[serde(default)]
    current: String,
    password: String,
    confirm: String,
}

impl std::fmt::Debug for NewPasswordForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPasswordForm(<redacted>)")
    }
}

/// Parse a new password and its confirmation, naming the field in error.
fn new_password(form: &NewPasswordForm, context: &[&str]) -> Result<Password, FormErrors> {
    let password = Password::parse_for(SecretString::from(form.password.clone()), context)?;
    if form.password != form.confirm {
        return Err(
            FieldError { field: "confirm", message: messages::current().passwords_differ.into() }.into()
        );
    }
    Ok(password)
}

#[derive(Template)]
#[template(path = "accounts/codes.html")]
struct CodesPage {
    t: &'static Messages,
    nav: Option<Nav>,
    notice: Option<String>,
    codes: Vec<String>,
    fingerprint: String,
    next: &'static str,
}

fn codes_page(
    nav: Option<Nav>,
    notice: Option<String>,
    issued: &KeyIssued,
    next: &'static str,
) -> Result<Response, AppError> {
    let codes = issued.recovery_codes.iter().map(|c| c.expose().to_owned()).collect();
    let fingerprint = issued.fingerprint.clone();
    Ok(render(&CodesPage { t: messages::current(), nav, notice, codes, fingerprint, next })?.into_response())
}

pub(crate) async fn activate_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, AppError> {
    let token: String = form.token.trim().chars().take(100).collect();
    let again = |errors: FormErrors| -> Result<Response, AppError> {
        let page = ActivatePage { t: messages::current(), nav: None, token: token.clone(), errors };
        Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
    };
    let password = match new_password(&form, &[]) {
        Ok(p) => p,
        Err(errors) => return again(errors),
    };
    let issued = match service::activate(&state.vault, &token, &password).await {
        Ok(issued) => issued,
        Err(ServiceError::Invalid(e)) => return again(e.into()),
        Err(e) => return Err(e.into()),
    };
    auth::begin(&state, &session, &issued.actor, true, 0).await?;
    let csrf: String = session.get(auth::CSRF_KEY).await?.unwrap_or_default();
    let name = service::entry(&state.vault, issued.actor.user_id()).await?.profile.username;
    let notice = messages::current().activated_notice.replace("{user}", name.as_str());
    // Shown with the codes, which are never kept anywhere to show later.
    codes_page(Some(Nav::enrolling(&csrf)), Some(notice), &issued, "/enrol")
}

#[derive(Template)]
#[template(path = "accounts/enrol.html")]
struct EnrolPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    qr_svg: String,
    secret: String,
    errors: FormErrors,
}

pub(crate) async fn enrolment_view(
    state: &AppState,
    user: &CurrentUser,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    // Begun by the login or activation that led here; a GET changes nothing.
    let Some(enrolment) = totp::pending(&state.vault, user.actor.user_id()).await? else {
        let _ = user.session.flush().await;
        return Err(AppError::LoginRequired);
    };
    let page = EnrolPage {
        t: messages::current(),
        nav: Some(Nav::enrolling(&user.csrf)),
        csrf: user.csrf.clone(),
        qr_svg: enrolment.qr_svg.clone(),
        secret: enrolment.secret_base32.to_string(),
        errors,
    };
    Ok((status, render(&page)?).into_response())
}

pub(crate) async fn enrol_page(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<Response, AppError> {
    if totp::is_enrolled(&state.vault, user.actor.user_id()).await? {
        return Ok(Redirect::to("/").into_response());
    }
    enrolment_view(&state, &user, FormErrors::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

pub(crate) async fn enrol_submit(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    if totp::is_enrolled(&state.vault, user.actor.user_id()).await? {
        return Ok(Redirect::to("/").into_response());
    }
    let event = user.actor.event(Action::TotpEnrol).on(user.actor.user_id());
    match totp::confirm(&state.vault, user.actor.user_id(), &form.code).await {
        Ok(writes) => state.vault.commit(&event, writes).await?,
        Err(ServiceError::Invalid(e)) => {
            state.vault.record(&event, crate::audit::Outcome::Invalid).await?;
            return enrolment_view(&state, &user, e.into(), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e.into()),
    }
    let mut auth = user.auth.clone();
    auth.enrolling = false;
    user.session.insert(AUTH_KEY, &auth).await?;
    notice::leave(&user.session, "/account", AccountNotice::Enrolled).await
}

// ---------------------------------------------------------------------------
// The account page: key fingerprint, password change, sessions
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    t: &'static Messages,
    nav: Option<Nav>,
    nav_csrf: String,
    notice: Option<String>,
    fingerprint: String,
    certified: bool,
    sessions: i64,
    errors: FormErrors,
    zone_intro: String,
    zone_now: String,
    organisation_zone: String,
    /// The user's own choice, as a code; empty: the organisation's.
    chosen_zone: String,
    zone_choices: Vec<(String, String)>,
    /// The user's own language, as a code; empty: as the browser asks.
    chosen_language: String,
    languages: Vec<(&'static str, &'static str)>,
}

/// What the account page says once after an action there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum AccountNotice {
    Enrolled,
    ZoneSaved,
    LanguageSaved,
}

pub(crate) async fn account_view(
    state: &AppState,
    user: &CurrentUser,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let uid = user.actor.user_id();
    let zone = user.zone();
    let organisation = when::zone_label(state.display_zone);
    let profile = service::entry(&state.vault, uid).await?.profile;
    let chosen = profile.zone;
    let notice = match notice::take::<AccountNotice>(&user.session, "/account").await? {
        Some(AccountNotice::Enrolled) => Some(messages::current().enrolled_notice.to_owned()),
        Some(AccountNotice::ZoneSaved) => Some(match chosen {
            Some(z) => messages::current().zone_saved.replace("{zone}", &z.label()),
            None => messages::current().zone_saved_organisation.replace("{zone}", &organisation),
        }),
        Some(AccountNotice::LanguageSaved) => Some(match profile.lang {
            Some(_) => messages::current().language_saved.to_owned(),
            None => messages::current().language_saved_browser.to_owned(),
        }),
        None => None,
    };
    let page = AccountPage {
        t: messages::current(),
        nav: Some(Nav::of(user)),
        nav_csrf: user.csrf.clone(),
        notice,
        fingerprint: crate::crypto::fingerprint(&user.actor.identity().recipient()),
        certified: crate::membership::is_self_certified(&state.vault, &user.actor).await?,
        sessions: state.sessions.count_owner(uid).await?,
        errors,
        zone_intro: messages::current().zone_intro.replace("{zone}", &organisation),
        zone_now: messages::current()
            .zone_now
            .replace("{time}", &when::minute(state.vault.clock.now(), zone))
            .replace("{zone}", &when::zone_label(zone)),
        zone_choices: when::Zone::choices(),
        chosen_zone: chosen.map(|z| z.code()).unwrap_or_default(),
        organisation_zone: messages::current().zone_organisation.replace("{zone}", &organisation),
        chosen_language: profile.lang.map(|l| l.code().to_owned()).unwrap_or_default(),
        languages: crate::i18n::Lang::ALL.iter().map(|l| (l.code(), l.native_name())).collect(),
    };
    Ok((status, render(&page)?).into_response())
}

pub(crate) async fn account_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    account_view(&state, &user, FormErrors::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    zone: String,
}

/// Save the zone the user reads times in; empty: the organisation's.
pub(crate) async fn set_zone(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ZoneForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let zone = match form.zone.trim() {
        "" => None,
        code => match when::Zone::parse(code)
            .filter(|z| when::Zone::choices().iter().any(|(c, _)| *c == z.code()))
        {
            Some(zone) => Some(zone),
            None => {
                let errors = FormErrors::from(FieldError {
                    field: "zone",
                    message: messages::current().zone_invalid.into(),
                });
                return account_view(&state, &user, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        },
    };
    match service::set_zone(&state.vault, &user.actor, zone).await {
        Ok(()) => notice::leave(&user.session, "/account", AccountNotice::ZoneSaved).await,
        Err(ServiceError::Conflict) => {
            let errors = FormErrors::from(FieldError {
                field: "zone",
                message: messages::current().zone_conflict.into(),
            });
            account_view(&state, &user, errors, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
}

/// Save the language the user reads pages in; empty: as the browser asks.
/// The page that says so is already in the new language.
pub(crate) async fn set_language(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<LanguageForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let lang = match form.language.trim() {
        "" => None,
        code => match crate::i18n::Lang::from_code(code) {
            Some(lang) => Some(lang),
            None => {
                let errors = FormErrors::from(FieldError {
                    field: "language",
                    message: messages::current().language_invalid.into(),
                });
                return account_view(&state, &user, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        },
    };
    match service::set_language(&state.vault, &user.actor, lang).await {
        Ok(()) => notice::leave(&user.session, "/account", AccountNotice::LanguageSaved).await,
        Err(ServiceError::Conflict) => {
            let errors = FormErrors::from(FieldError {
                field: "language",
                message: messages::current().language_conflict.into(),
            });
            account_view(&state, &user, errors, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let entry = service::entry(&state.vault, user.actor.user_id()).await?;
    let password = match new_password(&form, &[entry.profile.username.as_str()]) {
        Ok(p) => p,
        Err(errors) => return account_view(&state, &user, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let issued = match service::change_password(&state.vault, &user.actor, &form.current, &password).await {
        Ok(issued) => issued,
        Err(ServiceError::Invalid(e)) => {
            return account_view(&state, &user, e.into(), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return Err(e.into()),
    };
    // Other sessions ended with the new generation; this one carries on.
    auth::rebind(&state, &user, &issued.actor).await?;
    codes_page(
        Some(Nav::of(&user)),
        Some(messages::current().password_changed.to_owned()),
        &issued,
        "/account",
    )
}

pub(crate) async fn end_sessions(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    crate::sessions::service::log_out_everywhere(&state.vault, &state.sessions, &user.actor).await?;
    let _ = user.session.flush().await;
    index_user_left(&state, &user).await;
    Ok(logged_out_to(ENDED_EVERYWHERE))
}

/// After a coordinator's session ended: if it was their last, the
/// in-memory index forgets them, and goes if no coordinator is left.
async fn index_user_left(state: &AppState, user: &CurrentUser) {
    if user.actor.has(crate::accounts::model::Role::Coordinator) {
        let uid = user.actor.user_id();
        // On a store error, assume sessions remain: the sweep decides later.
        let live = state.sessions.count_owner(uid).await.unwrap_or(1);
        state.vault.index_cache.session_ended(uid, live).await;
    }
}

// ---------------------------------------------------------------------------
// A forgotten password, with a recovery code
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/recover.html")]
struct RecoverPage {
    t: &'static Messages,
    nav: Option<Nav>,
    username: String,
    problem: Option<&'static str>,
    errors: FormErrors,
}

pub(crate) async fn recover_page() -> Result<Response, AppError> {
    let page = RecoverPage {
        t: messages::current(),
        nav: None,
        username: String::new(),
        problem: None,
        errors: FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

pub(crate) async fn recover_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, AppError> {
    let address = client_address(peer.ip(), &headers, &state.trusted_proxies);
    let username: String = form.username.chars().take(64).collect();
    let again = |problem: Option<&'static str>, errors: FormErrors, status: StatusCode| {
        let page =
            RecoverPage { t: messages::current(), nav: None, username: username.clone(), problem, errors };
        Ok::<_, AppError>((status, render(&page)?).into_response())
    };
    let password = match new_password(&form, &[username.as_str()]) {
        Ok(p) => p,
        Err(errors) => return again(None, errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let recovered =
        service::recover_with_code(&state.vault, &username, &form.code, &form.totp, &password, Some(address))
            .await;
    match recovered {
        Ok(issued) => {
            // The new generation ends the other sessions; their rows go now.
            state.sessions.delete_owner(issued.actor.user_id()).await?;
            codes_page(None, Some(messages::current().password_changed.to_owned()), &issued, "/login")
        }
        Err(LoginError::Failed) => again(
            Some(messages::current().recover_failed),
            FormErrors::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(LoginError::Throttled { retry_after }) => {
            let mut response = again(
                Some(messages::current().login_throttled),
                FormErrors::default(),
                StatusCode::TOO_MANY_REQUESTS,
            )?;
            set_retry_after(&mut response, retry_after);
            Ok(response)
        }
        Err(LoginError::LockedDown) => again(
            Some(messages::current().login_locked_down),
            FormErrors::default(),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        Err(LoginError::Internal(e)) => Err(e.into()),
    }
}

fn set_retry_after(response: &mut Response, seconds: i64) {
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

// ---------------------------------------------------------------------------
// Re-authentication before sensitive actions
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/reauth.html")]
struct ReauthPage {
    t: &'static Messages,
    nav: Option<Nav>,
    nav_csrf: String,
    next: String,
    problem: Option<&'static str>,
}

/// Only a path of this site: never an open redirect. Browsers drop tabs and
/// newlines, read `\\` as `/`, and some decode `%09`, `%2f` or `%5c` before
/// they find the host, so `/\t/evil.example` or `/%2f/evil.example` would be
/// another origin. Accepted: printable ASCII without spaces or `\\`, one
/// leading `/` and no second, in the text as sent and once percent-decoding
/// is undone; anything else is `/`.
fn local_path(next: &str) -> String {
    const LONGEST: usize = 200;
    fn plain(path: &str) -> bool {
        let mut chars = path.chars();
        chars.next() == Some('/')
            && chars.next() != Some('/')
            && path.chars().all(|c| c.is_ascii_graphic() && c != '\\')
    }
    // Decode until nothing changes (a few rounds at most): `%252f` is `%2f`
    // to a browser that decodes twice.
    let mut text = std::borrow::Cow::Borrowed(next);
    for _ in 0..4 {
        if next.len() > LONGEST || !plain(&text) {
            return "/".to_owned();
        }
        let decoded = percent_encoding::percent_decode_str(&text).decode_utf8_lossy().into_owned();
        if decoded == *text {
            return next.to_owned();
        }
        text = std::borrow::Cow::Owned(decoded);
    }
    "/".to_owned()
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub(crate) async fn reauth_page(
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Result<Response, AppError> {
    let page = ReauthPage {
        t: messages::current(),
        nav: Some(Nav::of(&user)),
        nav_csrf: user.csrf.clone(),
        next: local_path(&q.next),
        problem: None,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct ReauthForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    password: String,
}

/// Wrong passwords in a row after which a re-authentication ends the
/// session: a stolen cookie buys this many guesses, no more.
pub const REAUTH_FAILURES_BEFORE_LOGOUT: i64 = 5;

/// The session's count of wrong passwords in a row at `/reauth`.
const REAUTH_FAILURES_KEY: &str = "reauth_failures";

pub(crate) async fn reauth_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ReauthForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let next = local_path(&form.next);
    let uid = user.actor.user_id();
    let again = |problem: &'static str, status: StatusCode| -> Result<Response, AppError> {
        let page = ReauthPage {
            t: messages::current(),
            nav: Some(Nav::of(&user)),
            nav_csrf: user.csrf.clone(),
            next: next.clone(),
            problem: Some(problem),
        };
        Ok((status, render(&page)?).into_response())
    };
    // The login's throttle for this account, counted before argon2.
    let username = service::entry(&state.vault, uid).await?.profile.username;
    let admitted = match login::admit(&state.vault, username.as_str(), None).await {
        Ok(admitted) => admitted,
        Err(LoginError::Throttled { retry_after }) => {
            let mut response = again(messages::current().login_throttled, StatusCode::TOO_MANY_REQUESTS)?;
            set_retry_after(&mut response, retry_after);
            return Ok(response);
        }
        Err(LoginError::Internal(e)) => return Err(e.into()),
        Err(LoginError::LockedDown | LoginError::Failed) => return Err(AppError::LoginRequired),
    };
    let event = user.actor.event(Action::Reauth).on(uid);
    let key = state.vault.store().user_key(&uid.to_string()).await?.ok_or(AppError::LoginRequired)?;
    match userkey::open_with_password(&state.vault, &key, &form.password).await {
        Ok(_) => {}
        Err(ServiceError::BadLogin) => {
            state.vault.record(&event, crate::audit::Outcome::Denied).await?;
            let failures = user.session.get::<i64>(REAUTH_FAILURES_KEY).await?.unwrap_or(0) + 1;
            if failures >= REAUTH_FAILURES_BEFORE_LOGOUT {
                user.session.flush().await?;
                return Ok(logged_out_to(ENDED_BY_REAUTH));
            }
            user.session.insert(REAUTH_FAILURES_KEY, failures).await?;
            return again(messages::current().reauth_failed, StatusCode::UNPROCESSABLE_ENTITY);
        }
        Err(e) => return Err(e.into()),
    }
    state.vault.commit(&event, vec![admitted.clear()]).await?;
    let mut auth = user.auth.clone();
    auth.authenticated_at = state.vault.clock.now().unix_timestamp();
    user.session.remove::<i64>(REAUTH_FAILURES_KEY).await?;
    user.session.insert(AUTH_KEY, &auth).await?;
    Ok(Redirect::to(&next).into_response())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::local_path;

    #[test]
    fn a_path_of_this_site_is_kept() {
        for path in ["/", "/account", "/cases/0b5f0d8e?x=1", "/a%20b", "/x/%2f%2fy", "/x\\y", "/%"] {
            let expected = if path.contains('\\') || path.contains("%20") { "/" } else { path };
            assert_eq!(local_path(path), expected, "{path:?}");
        }
    }

    #[test]
    fn anything_a_browser_could_send_elsewhere_becomes_home() {
        let long = format!("/{}", "a".repeat(300));
        for next in [
            "",
            "x",
            "//x",
            "/\\x",
            "\\/x",
            "/\t/x",
            "/\n/x",
            "/\r/x",
            "/ /x",
            "/\u{0}/x",
            "/\u{7f}/x",
            "/\u{a0}/x",
            "/\u{3000}/x",
            "/%09/x",
            "/%0a/x",
            "/%2f/x",
            "/%2F/x",
            "/%5c/x",
            "/%5C/x",
            "/%252f/x",
            "/%25252525252f/x",
            "/%ff/x",
            "https://x",
            "http:x",
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            long.as_str(),
        ] {
            assert_eq!(local_path(next), "/", "{next:?}");
        }
    }

    proptest! {
        /// Whatever comes in, what goes out is `/` or starts with one `/`
        /// followed by neither `/` nor `\`, holds only printable ASCII, and
        /// stays so once decoded.
        #[test]
        fn the_result_is_always_a_local_path(next in "\\PC{0,40}|/[%0-9a-fA-F/\\\\\t .:a-z]{0,20}") {
            let out = local_path(&next);
            prop_assert!(out == "/" || out == next);
            let decoded = percent_encoding::percent_decode_str(&out).decode_utf8_lossy().into_owned();
            for text in [out.as_str(), decoded.as_str()] {
                prop_assert!(text.starts_with('/'));
                prop_assert!(!text.starts_with("//") && !text.contains('\\'));
                prop_assert!(text.chars().all(|c| c.is_ascii_graphic()));
            }
        }
    }
}
