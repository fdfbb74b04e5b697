//! One error type for the web. A handler returns `AppError`; its response
//! carries only the kind of error, and the page is rendered by the request
//! middleware, which knows the request id. Internal causes go to the log,
//! never into a response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::ServiceError;
use crate::storage::StoreError;

#[derive(Debug)]
pub enum AppError {
    /// No (valid) session: to the login page.
    LoginRequired,
    /// Logged in, second factor not yet set up: to enrolment.
    EnrolmentRequired,
    NotFound,
    Forbidden,
    BadRequest,
    /// The form's CSRF token or origin check failed.
    CrossSite,
    Throttled {
        retry_after: i64,
    },
    Internal(String),
}

/// What the middleware renders: placed in the response's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorPage(pub StatusCode);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self {
            AppError::LoginRequired => return Redirect::to("/login").into_response(),
            AppError::EnrolmentRequired => return Redirect::to("/enrol").into_response(),
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::CrossSite => StatusCode::FORBIDDEN,
            AppError::BadRequest => StatusCode::BAD_REQUEST,
            AppError::Throttled { retry_after } => {
                let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
                if let Ok(value) = retry_after.to_string().parse() {
                    response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
                }
                response.extensions_mut().insert(ErrorPage(StatusCode::TOO_MANY_REQUESTS));
                return response;
            }
            AppError::Internal(cause) => {
                tracing::error!(cause = ?cause, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorPage(status));
        response
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Forbidden(_) | ServiceError::Uncertified => AppError::Forbidden,
            ServiceError::BadLogin => AppError::LoginRequired,
            ServiceError::Invalid(_) => AppError::BadRequest,
            other => AppError::Internal(format!("{other:?}")),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Internal(format!("{e:?}"))
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(format!("{e:?}"))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e:?}"))
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(e: tower_sessions::session::Error) -> Self {
        AppError::Internal(format!("session: {e:?}"))
    }
}
