//! The HTTP server: an [`Application`] binds its listener first (port 0
//! works, for tests), then serves until a shutdown signal. Each capability
//! has its own `routes.rs`; `router` merges them under one set of
//! middleware (`middleware.rs`): request ids, security headers, the
//! cross-site check, error pages, body limits, sessions.

pub mod client_address;
pub mod error;
pub mod guards;
pub mod messages;
pub mod middleware;
pub mod routes;
pub mod templates;

use std::net::SocketAddr;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use time::Duration;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::sessions::{COOKIE_NAME, SealedStore, SessionsAt};
use crate::vault::Vault;

pub use middleware::RequestId;

/// Session lifetimes and the re-authentication window.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
    pub reauth: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self { idle: Duration::minutes(30), absolute: Duration::hours(12), reauth: Duration::minutes(5) }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub vault: Vault,
    pub sessions: SealedStore,
    pub policy: SessionPolicy,
    /// Send HSTS: only when served over TLS (at a reverse proxy).
    pub hsts: bool,
    /// See [`crate::config::Config::trusted_proxies`].
    pub trusted_proxies: std::sync::Arc<[std::net::IpAddr]>,
}

/// Largest request body accepted (forms are small).
const BODY_LIMIT: usize = 64 * 1024;

pub(crate) async fn health() -> &'static str {
    "ok"
}

pub(crate) async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../../../templates/static/app.css"))
}

pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(state.sessions.clone())
        .with_name(COOKIE_NAME)
        .with_secure(true)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        // No Max-Age: the browser forgets the cookie when it closes; expiry
        // is enforced on the server.
        .with_expiry(Expiry::OnSessionEnd);
    routes::router(&state)
        .layer(sessions)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::harden))
        .with_state(state)
}

pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn bind(addr: SocketAddr, state: AppState) -> std::io::Result<Application> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Application { listener, router: router(state) })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until `shutdown` completes, then finish in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Open the sealed session store and build the state. Expired session rows
/// are purged every ten minutes while it runs.
pub async fn state(vault: Vault, sessions: &SessionsAt) -> Result<AppState, sqlx::Error> {
    let owner_key = vault.keyring.directory_key().clone();
    let sessions = SealedStore::open(sessions, owner_key).await?;
    let purge = sessions.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = purge.delete_expired().await {
                tracing::warn!(error = ?e, "could not purge expired sessions");
            }
        }
    });
    Ok(AppState {
        vault,
        sessions,
        policy: SessionPolicy::default(),
        hsts: false,
        trusted_proxies: std::sync::Arc::from(Vec::new()),
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
