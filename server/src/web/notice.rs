//! What a page says once after an action: the handler leaves a notice in
//! the session (sealed like the rest of it, never in the URL) and redirects;
//! the page it lands on takes the notice and shows it. A notice holds ids
//! and counts, not names: the page puts in the names it shows anyway.

use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::error::AppError;

const KEY: &str = "page_notice";

#[derive(Serialize, Deserialize)]
struct Stored<T> {
    page: String,
    notice: T,
}

/// Keep `notice` for the page at `page` and send the browser there.
pub async fn leave<T: Serialize>(session: &Session, page: &str, notice: T) -> Result<Response, AppError> {
    session.insert(KEY, Stored { page: page.to_owned(), notice }).await?;
    Ok(Redirect::to(page).into_response())
}

/// The notice left for `page`, taken so it shows once. Any notice there
/// goes (one left for another page is stale by now); with none there the
/// session is not touched, so a plain visit writes nothing.
pub async fn take<T: DeserializeOwned>(session: &Session, page: &str) -> Result<Option<T>, AppError> {
    let Some(value) = session.get_value(KEY).await? else { return Ok(None) };
    session.remove_value(KEY).await?;
    Ok(serde_json::from_value::<Stored<T>>(value).ok().filter(|s| s.page == page).map(|s| s.notice))
}
