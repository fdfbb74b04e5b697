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
pub mod notice;
pub mod routes;
pub mod templates;
pub mod when;

use std::net::SocketAddr;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use time::Duration;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::sessions::store::Lifetime;
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

impl SessionPolicy {
    pub fn lifetime(&self) -> Lifetime {
        Lifetime { idle: self.idle, absolute: self.absolute }
    }
}

impl Default for SessionPolicy {
    fn default() -> Self {
        let Lifetime { idle, absolute } = Lifetime::default();
        Self { idle, absolute, reauth: Duration::minutes(5) }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub vault: Vault,
    pub sessions: SealedStore,
    pub policy: SessionPolicy,
    /// The organisation's zone for times on pages, unless a user chose
    /// their own (`display_zone` in the configuration).
    pub display_zone: time::UtcOffset,
    /// The language before login when the browser asks for none we speak.
    pub language: crate::i18n::Lang,
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
        // is enforced on the server. (tower-sessions then dates the record
        // two weeks ahead; the store ignores that and keeps the session's
        // own end.)
        .with_expiry(Expiry::OnSessionEnd);
    routes::router(&state)
        .layer(sessions)
        .layer(axum::middleware::from_fn(middleware::utf8_input))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::harden))
        .with_state(state)
}

pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Bind, with the state as configured by now (its session policy
    /// included), and start purging ended sessions' rows every ten minutes.
    pub async fn bind(addr: SocketAddr, mut state: AppState) -> std::io::Result<Application> {
        let listener = TcpListener::bind(addr).await?;
        state.sessions =
            state.sessions.clone().with_lifetime(state.vault.clock.clone(), state.policy.lifetime());
        // The in-memory index idles out with the sessions, and every few
        // seconds each node checks it against the lockdown state and the
        // sessions of the coordinators who used it (cases::index_cache).
        state.vault.index_cache.set_idle(state.policy.idle);
        let (vault, sessions) = (state.vault.clone(), state.sessions.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
            loop {
                every.tick().await;
                let sessions = &sessions;
                vault
                    .index_cache
                    .sweep(&vault, |user| async move { sessions.count_owner(user).await.ok() })
                    .await;
            }
        });
        let purge = state.sessions.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                // The first tick is at once: rows left from before a restart go first.
                every.tick().await;
                if let Err(e) = purge.delete_expired().await {
                    tracing::warn!(error = ?e, "could not purge expired sessions");
                }
            }
        });
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

/// Open the sealed session store and build the state: the store's rows
/// expire by the vault's clock and the default policy until
/// [`Application::bind`] applies the policy as configured.
pub async fn state(vault: Vault, sessions: &SessionsAt) -> Result<AppState, sqlx::Error> {
    let owner_key = vault.keyring.directory_key().clone();
    let policy = SessionPolicy::default();
    let sessions =
        SealedStore::open(sessions, owner_key).await?.with_lifetime(vault.clock.clone(), policy.lifetime());
    Ok(AppState {
        vault,
        sessions,
        policy,
        display_zone: time::UtcOffset::UTC,
        language: crate::i18n::Lang::En,
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
