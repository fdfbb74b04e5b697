//! Hardening, in one place: a request id for every request; the cross-site
//! check for every state-changing request; security headers on every
//! response (errors and static files included); error pages rendered with
//! the request id and nothing internal (and the menu, for a user whose
//! session this request checked).

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::error::ErrorPage;
use super::messages::{self as messages, Messages};
use super::templates::NavSlot;

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorTemplate {
    t: &'static Messages,
    nav: Option<super::templates::Nav>,
    message: &'static str,
    request_id: String,
}

fn message_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => messages::current().error_400,
        StatusCode::FORBIDDEN => messages::current().error_403,
        StatusCode::NOT_FOUND => messages::current().error_404,
        StatusCode::METHOD_NOT_ALLOWED => messages::current().error_405,
        StatusCode::PAYLOAD_TOO_LARGE => messages::current().error_413,
        StatusCode::TOO_MANY_REQUESTS => messages::current().error_429,
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            messages::current().error_400
        }
        _ => messages::current().error_500,
    }
}

/// A state-changing request must come from our own pages: `Sec-Fetch-Site`
/// (modern browsers) or else `Origin` must name this host. Requests with
/// neither (old browsers, scripts) still need the form's CSRF token.
fn is_cross_site(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let origin_host = origin.split("://").nth(1).unwrap_or_default();
        return origin == "null" || origin_host != host;
    }
    false
}

pub async fn harden(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // The language before the session is read; the session check may then
    // choose the user's own (`i18n::choose`), error page included.
    let lang = crate::i18n::negotiate::for_request(request.headers(), state.language);
    crate::i18n::scope(lang, harden_in_language(state, request, next)).await
}

async fn harden_in_language(state: AppState, mut request: Request, next: Next) -> Response {
    let request_id = crate::audit::model::new_request_id();
    request.extensions_mut().insert(RequestId(request_id.clone()));
    let nav = NavSlot::default();
    request.extensions_mut().insert(nav.clone());
    let mut response = if is_cross_site(request.method(), request.headers()) {
        tracing::warn!(request_id = ?request_id, "cross-site request refused");
        let mut r = StatusCode::FORBIDDEN.into_response();
        r.extensions_mut().insert(ErrorPage(StatusCode::FORBIDDEN));
        r
    } else {
        next.run(request).await
    };

    // Render an error page for handler errors and for every error answer
    // that is not one of our pages (the router's 404/405, a body-limit 413,
    // a form the extractor could not read): never a framework's plain text.
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let page = response.extensions().get::<ErrorPage>().map(|p| p.0).or_else(|| {
        (status.is_client_error() || status.is_server_error()).then_some(status).filter(|_| !is_html)
    });
    if let Some(status) = page {
        let body = ErrorTemplate {
            t: messages::current(),
            nav: nav.take(),
            message: message_for(status),
            request_id: request_id.clone(),
        }
        .render()
        .unwrap_or_else(|_| "error".to_owned());
        let mut rendered = (status, Html(body)).into_response();
        for (name, value) in response.headers() {
            if name == header::ALLOW || name == header::RETRY_AFTER || name == header::SET_COOKIE {
                rendered.headers_mut().append(name.clone(), value.clone());
            }
        }
        response = rendered;
    }

    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(headers, header::HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    set(
        headers,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    );
    // Nothing this server sends may be cached: every page may hold case data.
    set(headers, header::CACHE_CONTROL, "no-store");
    if state.hsts {
        set(headers, header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains");
    }
    headers.remove(header::SERVER);
    // The page's language, and that it depends on what the browser asked;
    // an export asked for in another language says its own.
    if !headers.contains_key(header::CONTENT_LANGUAGE) {
        set(headers, header::CONTENT_LANGUAGE, crate::i18n::current().code());
    }
    set(headers, header::VARY, "Accept-Language, Cookie");
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(header::HeaderName::from_static("x-request-id"), value);
    }
    response
}

/// Form bodies and query strings must decode to UTF-8. The form and query
/// extractors decode lossily, so `%FF` would become U+FFFD and be stored as
/// if someone had typed it. Our pages declare UTF-8 and every browser sends
/// it, so anything else is a forged request: refused with 400, nothing
/// stored. Runs inside the body limit, which bounds what is read here.
pub async fn utf8_input(request: Request, next: Next) -> Response {
    if request.uri().query().is_some_and(|q| !decodes_to_utf8(q.as_bytes())) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let is_form =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        // Over the body limit (the only way reading a buffered body fails).
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    if !decodes_to_utf8(&bytes) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// Whether `application/x-www-form-urlencoded` text decodes to UTF-8. The
/// separators `&` and `=` are ASCII, so the whole decodes to UTF-8 exactly
/// when every name and value does.
fn decodes_to_utf8(encoded: &[u8]) -> bool {
    let plus_as_space: Vec<u8> = encoded.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    let decoded: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    std::str::from_utf8(&decoded).is_ok()
}

#[cfg(test)]
mod tests {
    use super::decodes_to_utf8;

    #[test]
    fn only_text_that_decodes_to_utf8_passes() {
        for good in ["", "a=b&c=d", "alias=%E3%82%AB%E3%82%B5&x=+", "q=100%25", "broken=%E", "n=%00"] {
            assert!(decodes_to_utf8(good.as_bytes()), "{good}");
        }
        let bad: [&[u8]; 6] = [b"a=%FF", b"a=%C3%28", b"a=%ED%A0%80", b"%C3=1", b"a=%C3&b=%A9", b"a=\xff"];
        for bad in bad {
            assert!(!decodes_to_utf8(bad), "{}", String::from_utf8_lossy(bad));
        }
    }
}
