//! Configuration: a TOML file (`--config` or `SAFEHOUSE_CONFIG`), then
//! `SAFEHOUSE_*` environment variables over it. A secret setting may instead
//! come from a file named by `<NAME>_FILE`. Unknown settings are refused with
//! their names, so a mistyped security setting never silently does nothing.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Environment variables the program reads; any other `SAFEHOUSE_*` is refused.
pub const KNOWN_ENV: &[&str] = &[
    "SAFEHOUSE_CONFIG",
    "SAFEHOUSE_DATA_DIR",
    "SAFEHOUSE_SECRETS_DIR",
    "SAFEHOUSE_LISTEN",
    "SAFEHOUSE_DATABASE_URL",
    "SAFEHOUSE_DATABASE_URL_FILE",
    "SAFEHOUSE_LOG",
    "SAFEHOUSE_ARGON2_MEMORY_KIB",
    "SAFEHOUSE_ARGON2_ITERATIONS",
    "SAFEHOUSE_BULK_READ_CASES",
    "SAFEHOUSE_TLS",
    "SAFEHOUSE_DATABASE_ALLOW_INSECURE",
    "SAFEHOUSE_TRUSTED_PROXIES",
    "SAFEHOUSE_SESSION_IDLE_MINUTES",
    "SAFEHOUSE_SESSION_ABSOLUTE_HOURS",
    "SAFEHOUSE_DISPLAY_ZONE",
    "SAFEHOUSE_LANGUAGE",
    "SAFEHOUSE_BULK_READ_MINUTES",
    "SAFEHOUSE_STALE_DAYS",
    "SAFEHOUSE_STORY_K",
    "SAFEHOUSE_STORY_EMBARGO_DAYS",
    "SAFEHOUSE_FISCAL_YEAR_START",
    "SAFEHOUSE_PURGE_RETENTION_DAYS",
    // Used by single commands, never stored.
    "SAFEHOUSE_COORDINATOR_PASSWORD_FILE",
    "SAFEHOUSE_RECOVERY_IDENTITY_FILE",
    "SAFEHOUSE_BACKUP_IDENTITY_FILE",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("unknown environment setting(s): {0} (see docs/operations.md for the list)")]
    UnknownEnv(String),
    #[error("{name} and {name}_FILE are both set; set one")]
    BothSet { name: String },
    #[error("setting {name}: {message}")]
    Invalid { name: String, message: String },
}

/// The argon2id cost. The floor is the design's m = 64 MiB, t = 3, p = 1;
/// a setting may raise it, never lower it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl KdfParams {
    pub const FLOOR: KdfParams = KdfParams { memory_kib: 65536, iterations: 3, parallelism: 1 };

    pub fn encode(&self) -> String {
        format!("argon2id;m={};t={};p={}", self.memory_kib, self.iterations, self.parallelism)
    }

    pub fn decode(text: &str) -> Option<KdfParams> {
        let mut parts = text.split(';');
        if parts.next()? != "argon2id" {
            return None;
        }
        let mut value = |prefix: &str| -> Option<u32> { parts.next()?.strip_prefix(prefix)?.parse().ok() };
        Some(KdfParams { memory_kib: value("m=")?, iterations: value("t=")?, parallelism: value("p=")? })
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::FLOOR
    }
}

#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub secrets_dir: PathBuf,
    pub listen: SocketAddr,
    /// `None`: the SQLite file `safehouse.db` in the data directory.
    pub database_url: Option<SecretString>,
    /// Allow a connection to a PostgreSQL server off this machine without a
    /// verified TLS certificate (sslmode disable, allow, prefer, require).
    /// Off: such a URL is refused before anything is sent.
    pub database_allow_insecure: bool,
    pub log: String,
    pub kdf: KdfParams,
    /// Bulk reading: more than `bulk_read_cases` distinct cases opened by
    /// one user within `bulk_read_minutes` raises a flag.
    pub bulk_read_cases: i64,
    pub bulk_read_minutes: i64,
    /// The dashboard's "not updated for at least N days" figures: whole
    /// days from 1 to 3650, ascending, at least one.
    pub stale_days: Vec<u16>,
    /// Browsers reach this server over TLS (at a reverse proxy): send HSTS.
    pub tls: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the
    /// per-address login limit). Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// The organisation's zone for times on pages, a fixed offset from UTC
    /// ("+09:00"); a user may choose another on their account page.
    pub display_zone: crate::web::when::Zone,
    /// The language of pages before login for a browser that asks for none
    /// of the three (`language`: "en", "ja" or "ko"); a user may choose
    /// their own on their account page.
    pub language: crate::i18n::Lang,
    /// Stories and public figures: k, the embargo, the fiscal year's first
    /// month (`story_k`, `story_embargo_days`, `fiscal_year_start`).
    pub publication: crate::publication::PublicationPolicy,
    /// Days after a case closed when any coordinator may purge it alone
    /// (at least [`PURGE_RETENTION_FLOOR_DAYS`]); before that, a second
    /// coordinator confirms.
    pub purge_retention_days: u16,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("secrets_dir", &self.secrets_dir)
            .field("listen", &self.listen)
            .field("database_url", &self.database_url.as_ref().map(|_| "<redacted>"))
            .field("database_allow_insecure", &self.database_allow_insecure)
            .field("log", &self.log)
            .field("kdf", &self.kdf)
            .field("bulk_read_cases", &self.bulk_read_cases)
            .field("bulk_read_minutes", &self.bulk_read_minutes)
            .field("stale_days", &self.stale_days)
            .field("tls", &self.tls)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_hours", &self.session_absolute_hours)
            .field("display_zone", &self.display_zone.code())
            .field("language", &self.language.code())
            .field("publication", &self.publication)
            .field("purge_retention_days", &self.purge_retention_days)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            secrets_dir: PathBuf::from("secrets"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            database_allow_insecure: false,
            log: "info".to_owned(),
            kdf: KdfParams::FLOOR,
            bulk_read_cases: 25,
            bulk_read_minutes: 10,
            stale_days: DEFAULT_STALE_DAYS.to_vec(),
            tls: false,
            trusted_proxies: Vec::new(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            display_zone: crate::web::when::Zone::UTC,
            language: crate::i18n::Lang::En,
            publication: crate::publication::PublicationPolicy::default(),
            purge_retention_days: DEFAULT_PURGE_RETENTION_DAYS,
        }
    }
}

/// The TOML file's shape.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    secrets_dir: Option<PathBuf>,
    listen: Option<String>,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    database_allow_insecure: Option<bool>,
    log: Option<String>,
    argon2_memory_kib: Option<u32>,
    argon2_iterations: Option<u32>,
    bulk_read_cases: Option<u32>,
    bulk_read_minutes: Option<u32>,
    stale_days: Option<Vec<i64>>,
    tls: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    session_idle_minutes: Option<u32>,
    session_absolute_hours: Option<u32>,
    display_zone: Option<String>,
    language: Option<String>,
    story_k: Option<u32>,
    story_embargo_days: Option<u32>,
    fiscal_year_start: Option<u32>,
    purge_retention_days: Option<u32>,
}

impl Config {
    /// Load from the process environment (and the file it or `file` names).
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> =
            std::env::vars().filter(|(k, _)| k.starts_with("SAFEHOUSE_")).collect();
        Self::from_sources(file, &env)
    }

    /// Load from an explicit environment map (for tests).
    pub fn from_sources(file: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
        let unknown: Vec<&str> = env
            .keys()
            .filter(|k| k.starts_with("SAFEHOUSE_") && !KNOWN_ENV.contains(&k.as_str()))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(ConfigError::UnknownEnv(unknown.join(", ")));
        }
        let file_path =
            file.map(Path::to_path_buf).or_else(|| env.get("SAFEHOUSE_CONFIG").map(PathBuf::from));
        let from_file = match &file_path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| ConfigError::Parse { path: path.clone(), message: e.message().to_owned() })?
            }
            None => FileConfig::default(),
        };

        let mut config = Config::default();
        if let Some(v) = from_file.data_dir {
            config.data_dir = v;
        }
        if let Some(v) = from_file.secrets_dir {
            config.secrets_dir = v;
        }
        if let Some(v) = from_file.listen {
            config.listen = parse_listen("listen", &v)?;
        }
        if let Some(v) = from_file.log {
            config.log = v;
        }
        match (from_file.database_url, from_file.database_url_file) {
            (Some(_), Some(_)) => return Err(ConfigError::BothSet { name: "database_url".into() }),
            (Some(url), None) => config.database_url = Some(SecretString::from(url)),
            (None, Some(path)) => config.database_url = Some(read_secret_file("database_url_file", &path)?),
            (None, None) => {}
        }
        let mut bulk_cases = from_file.bulk_read_cases;
        let mut bulk_minutes = from_file.bulk_read_minutes;
        let mut memory = from_file.argon2_memory_kib;
        let mut iterations = from_file.argon2_iterations;

        if let Some(v) = env.get("SAFEHOUSE_DATA_DIR") {
            config.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env.get("SAFEHOUSE_SECRETS_DIR") {
            config.secrets_dir = PathBuf::from(v);
        }
        if let Some(v) = env.get("SAFEHOUSE_LISTEN") {
            config.listen = parse_listen("SAFEHOUSE_LISTEN", v)?;
        }
        if let Some(v) = env.get("SAFEHOUSE_LOG") {
            config.log = v.clone();
        }
        if let Some(url) = secret_from_env(env, "SAFEHOUSE_DATABASE_URL")? {
            config.database_url = Some(url);
        }
        if let Some(v) = env.get("SAFEHOUSE_ARGON2_MEMORY_KIB") {
            memory = Some(parse_u32("SAFEHOUSE_ARGON2_MEMORY_KIB", v)?);
        }
        if let Some(v) = env.get("SAFEHOUSE_ARGON2_ITERATIONS") {
            iterations = Some(parse_u32("SAFEHOUSE_ARGON2_ITERATIONS", v)?);
        }
        if let Some(v) = env.get("SAFEHOUSE_BULK_READ_CASES") {
            bulk_cases = Some(parse_u32("SAFEHOUSE_BULK_READ_CASES", v)?);
        }
        if let Some(v) = env.get("SAFEHOUSE_BULK_READ_MINUTES") {
            bulk_minutes = Some(parse_u32("SAFEHOUSE_BULK_READ_MINUTES", v)?);
        }
        if let Some(list) = &from_file.stale_days {
            config.stale_days = parse_stale_days("stale_days", list)?;
        }
        if let Some(v) = env.get("SAFEHOUSE_STALE_DAYS") {
            let mut list = Vec::new();
            for item in v.split(',').map(str::trim) {
                list.push(item.parse::<i64>().map_err(|_| ConfigError::Invalid {
                    name: "SAFEHOUSE_STALE_DAYS".into(),
                    message: format!("{item:?} is not a whole number of days (write them as 14,30,60)"),
                })?);
            }
            config.stale_days = parse_stale_days("SAFEHOUSE_STALE_DAYS", &list)?;
        }
        config.tls = from_file.tls.unwrap_or(false);
        if let Some(v) = env.get("SAFEHOUSE_TLS") {
            config.tls = parse_bool("SAFEHOUSE_TLS", v)?;
        }
        if let Some(list) = &from_file.trusted_proxies {
            config.trusted_proxies = parse_addresses("trusted_proxies", list.iter().map(String::as_str))?;
        }
        if let Some(v) = env.get("SAFEHOUSE_TRUSTED_PROXIES") {
            let items = v.split(',').map(str::trim).filter(|s| !s.is_empty());
            config.trusted_proxies = parse_addresses("SAFEHOUSE_TRUSTED_PROXIES", items)?;
        }
        config.database_allow_insecure = from_file.database_allow_insecure.unwrap_or(false);
        if let Some(v) = env.get("SAFEHOUSE_DATABASE_ALLOW_INSECURE") {
            config.database_allow_insecure = parse_bool("SAFEHOUSE_DATABASE_ALLOW_INSECURE", v)?;
        }
        let mut idle = from_file.session_idle_minutes;
        let mut absolute = from_file.session_absolute_hours;
        if let Some(v) = env.get("SAFEHOUSE_SESSION_IDLE_MINUTES") {
            idle = Some(parse_u32("SAFEHOUSE_SESSION_IDLE_MINUTES", v)?);
        }
        if let Some(v) = env.get("SAFEHOUSE_SESSION_ABSOLUTE_HOURS") {
            absolute = Some(parse_u32("SAFEHOUSE_SESSION_ABSOLUTE_HOURS", v)?);
        }
        if let Some(v) = &from_file.display_zone {
            config.display_zone = parse_zone("display_zone", v)?;
        }
        if let Some(v) = env.get("SAFEHOUSE_DISPLAY_ZONE") {
            config.display_zone = parse_zone("SAFEHOUSE_DISPLAY_ZONE", v)?;
        }
        if let Some(v) = &from_file.language {
            config.language = parse_language("language", v)?;
        }
        if let Some(v) = env.get("SAFEHOUSE_LANGUAGE") {
            config.language = parse_language("SAFEHOUSE_LANGUAGE", v)?;
        }
        let mut story_k = from_file.story_k;
        let mut embargo = from_file.story_embargo_days;
        let mut fiscal = from_file.fiscal_year_start;
        if let Some(v) = env.get("SAFEHOUSE_STORY_K") {
            story_k = Some(parse_u32("SAFEHOUSE_STORY_K", v)?);
        }
        if let Some(v) = env.get("SAFEHOUSE_STORY_EMBARGO_DAYS") {
            embargo = Some(parse_u32("SAFEHOUSE_STORY_EMBARGO_DAYS", v)?);
        }
        if let Some(v) = env.get("SAFEHOUSE_FISCAL_YEAR_START") {
            fiscal = Some(parse_u32("SAFEHOUSE_FISCAL_YEAR_START", v)?);
        }
        config.publication = parse_publication(story_k, embargo, fiscal)?;
        let mut retention = from_file.purge_retention_days;
        if let Some(v) = env.get("SAFEHOUSE_PURGE_RETENTION_DAYS") {
            retention = Some(parse_u32("SAFEHOUSE_PURGE_RETENTION_DAYS", v)?);
        }
        config.purge_retention_days = parse_retention(retention)?;
        // Bounded: a session that never idles out defeats the point.
        config.session_idle_minutes = i64::from(idle.unwrap_or(30).clamp(1, 240));
        config.session_absolute_hours = i64::from(absolute.unwrap_or(12).clamp(1, 24));
        config.bulk_read_cases = i64::from(bulk_cases.unwrap_or(25).max(1));
        config.bulk_read_minutes = i64::from(bulk_minutes.unwrap_or(10).max(1));
        config.kdf = KdfParams {
            memory_kib: memory.unwrap_or(KdfParams::FLOOR.memory_kib),
            iterations: iterations.unwrap_or(KdfParams::FLOOR.iterations),
            parallelism: 1,
        };
        if config.kdf.memory_kib < KdfParams::FLOOR.memory_kib
            || config.kdf.iterations < KdfParams::FLOOR.iterations
        {
            return Err(ConfigError::Invalid {
                name: "argon2".into(),
                message: format!(
                    "may be raised, never lowered below m = {} KiB, t = {}",
                    KdfParams::FLOOR.memory_kib,
                    KdfParams::FLOOR.iterations
                ),
            });
        }
        Ok(config)
    }

    /// The SQLite database file used when no URL is set.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("safehouse.db")
    }

    pub fn database_url_exposed(&self) -> Option<&str> {
        self.database_url.as_ref().map(|s| s.expose_secret())
    }
}

/// The publication policy: refused, not clamped, below its floors, so a
/// typo never quietly weakens what reaches the public.
fn parse_publication(
    k: Option<u32>,
    embargo_days: Option<u32>,
    fiscal_year_start: Option<u32>,
) -> Result<crate::publication::PublicationPolicy, ConfigError> {
    use crate::publication::PublicationPolicy as P;
    let defaults = P::default();
    let invalid = |name: &str, message: String| ConfigError::Invalid { name: name.to_owned(), message };
    let k = k.unwrap_or(defaults.k);
    if k < P::MIN_K {
        return Err(invalid("story_k", format!("must be at least {} (it is {k})", P::MIN_K)));
    }
    let embargo_days = embargo_days.unwrap_or(defaults.embargo_days);
    if embargo_days < P::MIN_EMBARGO_DAYS {
        return Err(invalid(
            "story_embargo_days",
            format!("must be at least {} days (it is {embargo_days})", P::MIN_EMBARGO_DAYS),
        ));
    }
    let fiscal = fiscal_year_start.unwrap_or(u32::from(defaults.fiscal_year_start));
    let fiscal_year_start = u8::try_from(fiscal)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| invalid("fiscal_year_start", format!("is a month from 1 to 12 (it is {fiscal})")))?;
    Ok(P { k, embargo_days, fiscal_year_start })
}

/// The dashboard's staleness thresholds when none are set.
/// Purge retention: a year by default; never under 30 days, so a case
/// closed by mistake (or by someone who took over an account) can be
/// reopened before one coordinator alone can purge it.
pub const DEFAULT_PURGE_RETENTION_DAYS: u16 = 365;
pub const PURGE_RETENTION_FLOOR_DAYS: u16 = 30;

fn parse_retention(days: Option<u32>) -> Result<u16, ConfigError> {
    let days = days.unwrap_or(u32::from(DEFAULT_PURGE_RETENTION_DAYS));
    match u16::try_from(days) {
        Ok(d) if (PURGE_RETENTION_FLOOR_DAYS..=3650).contains(&d) => Ok(d),
        _ => Err(ConfigError::Invalid {
            name: "purge_retention_days".to_owned(),
            message: format!("must be from {PURGE_RETENTION_FLOOR_DAYS} to 3650 days (it is {days})"),
        }),
    }
}

pub const DEFAULT_STALE_DAYS: [u16; 3] = [14, 30, 60];

/// At least one threshold, each a whole number of days from 1 to 3650 (the
/// case list's own range), strictly ascending: the dashboard shows them in
/// that order, and a repeat would be the same figure twice.
fn parse_stale_days(name: &str, list: &[i64]) -> Result<Vec<u16>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { name: name.to_owned(), message };
    if list.is_empty() {
        return Err(invalid("name at least one number of days, such as 14,30,60".into()));
    }
    let mut out: Vec<u16> = Vec::with_capacity(list.len());
    for &days in list {
        let days = u16::try_from(days)
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| invalid(format!("{days} is not a number of days from 1 to 3650")))?;
        if out.last().is_some_and(|last| *last >= days) {
            return Err(invalid("list the days in ascending order, each once, such as 14,30,60".into()));
        }
        out.push(days);
    }
    Ok(out)
}

fn parse_listen(name: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| ConfigError::Invalid {
        name: name.to_owned(),
        message: "expected an address and port such as 127.0.0.1:8080".into(),
    })
}

/// Exact addresses only: a proxy is a known machine, not a network.
fn parse_addresses<'a>(
    name: &str,
    items: impl Iterator<Item = &'a str>,
) -> Result<Vec<std::net::IpAddr>, ConfigError> {
    items
        .map(|item| {
            item.parse().map_err(|_| ConfigError::Invalid {
                name: name.to_owned(),
                message: format!("{item:?} is not an IP address (one address per proxy, no ranges)"),
            })
        })
        .collect()
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(ConfigError::Invalid { name: name.to_owned(), message: "expected true or false".into() }),
    }
}

/// A fixed offset such as "+09:00"; a zone name is refused with the reason
/// (no daylight saving rules are kept: docs/accounts.md, "Times and zones").
fn parse_zone(name: &str, value: &str) -> Result<crate::web::when::Zone, ConfigError> {
    crate::web::when::Zone::parse(value).ok_or_else(|| ConfigError::Invalid {
        name: name.to_owned(),
        message: format!(
            "{value:?} is not a UTC offset: write it as +HH:MM or -HH:MM in quarter hours from -12:00 to +14:00, \
             such as +09:00 (zone names are not accepted)"
        ),
    })
}

fn parse_language(name: &str, value: &str) -> Result<crate::i18n::Lang, ConfigError> {
    // Exactly one of the three codes: a longer tag is a typo here, not a wish.
    crate::i18n::Lang::from_code(value.trim()).ok_or_else(|| ConfigError::Invalid {
        name: name.to_owned(),
        message: format!("{value:?} is not a language Safehouse speaks: write en, ja or ko"),
    })
}

fn parse_u32(name: &str, value: &str) -> Result<u32, ConfigError> {
    value.parse().map_err(|_| ConfigError::Invalid {
        name: name.to_owned(),
        message: "expected a whole number".into(),
    })
}

fn read_secret_file(name: &str, path: &Path) -> Result<SecretString, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
        name: name.to_owned(),
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    Ok(SecretString::from(text.trim_end_matches(['\n', '\r']).to_owned()))
}

/// A secret from `NAME` or from the file named by `NAME_FILE`, not both.
pub fn secret_from_env(
    env: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<SecretString>, ConfigError> {
    let file_name = format!("{name}_FILE");
    match (env.get(name), env.get(&file_name)) {
        (Some(_), Some(_)) => Err(ConfigError::BothSet { name: name.to_owned() }),
        (Some(v), None) => Ok(Some(SecretString::from(v.clone()))),
        (None, Some(path)) => read_secret_file(&file_name, Path::new(path)).map(Some),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_are_loopback_and_floor_cost() {
        let c = Config::from_sources(None, &env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.kdf, KdfParams::FLOOR);
    }

    #[test]
    fn unknown_env_is_refused_by_name() {
        let err = Config::from_sources(None, &env(&[("SAFEHOUSE_LISTN", "x")])).unwrap_err();
        assert!(err.to_string().contains("SAFEHOUSE_LISTN"), "{err}");
    }

    #[test]
    fn unknown_file_key_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "data_dir = \"x\"\nlisten_adress = \"1\"\n").unwrap();
        let err = Config::from_sources(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("listen_adress"), "{err}");
    }

    #[test]
    fn env_overrides_file_and_secret_comes_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1\"\n").unwrap();
        let secret = dir.path().join("url");
        std::fs::write(&secret, "sqlite://secret-canary.db\n").unwrap();
        let c = Config::from_sources(
            Some(&path),
            &env(&[
                ("SAFEHOUSE_LISTEN", "127.0.0.1:2"),
                ("SAFEHOUSE_DATABASE_URL_FILE", secret.to_str().unwrap()),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 2);
        assert_eq!(c.database_url_exposed(), Some("sqlite://secret-canary.db"));
        assert!(!format!("{c:?}").contains("secret-canary"));
    }

    #[test]
    fn both_value_and_file_is_refused() {
        let err = Config::from_sources(
            None,
            &env(&[("SAFEHOUSE_DATABASE_URL", "a"), ("SAFEHOUSE_DATABASE_URL_FILE", "b")]),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::BothSet { .. }));
    }

    #[test]
    fn argon2_cost_cannot_be_lowered() {
        assert!(Config::from_sources(None, &env(&[("SAFEHOUSE_ARGON2_MEMORY_KIB", "1024")])).is_err());
        let c = Config::from_sources(None, &env(&[("SAFEHOUSE_ARGON2_ITERATIONS", "4")])).unwrap();
        assert_eq!(c.kdf.iterations, 4);
        assert_eq!(KdfParams::decode(&c.kdf.encode()), Some(c.kdf));
    }

    #[test]
    fn an_insecure_database_link_is_off_unless_said_plainly() {
        assert!(!Config::from_sources(None, &env(&[])).unwrap().database_allow_insecure);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "database_allow_insecure = true\n").unwrap();
        assert!(Config::from_sources(Some(&path), &env(&[])).unwrap().database_allow_insecure);
        let off = env(&[("SAFEHOUSE_DATABASE_ALLOW_INSECURE", "false")]);
        assert!(!Config::from_sources(Some(&path), &off).unwrap().database_allow_insecure, "env wins");
        let vague = Config::from_sources(None, &env(&[("SAFEHOUSE_DATABASE_ALLOW_INSECURE", "maybe")]));
        assert!(vague.unwrap_err().to_string().contains("SAFEHOUSE_DATABASE_ALLOW_INSECURE"));
    }

    #[test]
    fn the_display_zone_is_a_fixed_offset_utc_unless_set() {
        assert_eq!(Config::from_sources(None, &env(&[])).unwrap().display_zone, crate::web::when::Zone::UTC);
        let c = Config::from_sources(None, &env(&[("SAFEHOUSE_DISPLAY_ZONE", "+09:00")])).unwrap();
        assert_eq!(c.display_zone.offset().whole_minutes(), 540);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "display_zone = \"+08:00\"\n").unwrap();
        assert_eq!(Config::from_sources(Some(&path), &env(&[])).unwrap().display_zone.code(), "+08:00");
        for bad in ["Asia/Tokyo", "+9", "+09:07", "+15:00"] {
            let err = Config::from_sources(None, &env(&[("SAFEHOUSE_DISPLAY_ZONE", bad)])).unwrap_err();
            assert!(err.to_string().contains("SAFEHOUSE_DISPLAY_ZONE"), "{err}");
        }
    }

    #[test]
    fn the_language_before_login_is_english_unless_set_to_one_of_three() {
        use crate::i18n::Lang;
        assert_eq!(Config::from_sources(None, &env(&[])).unwrap().language, Lang::En);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "language = \"ja\"\n").unwrap();
        assert_eq!(Config::from_sources(Some(&path), &env(&[])).unwrap().language, Lang::Ja);
        let c = Config::from_sources(Some(&path), &env(&[("SAFEHOUSE_LANGUAGE", "ko")])).unwrap();
        assert_eq!(c.language, Lang::Ko, "the environment wins");
        for bad in ["fr", "ja-JP", "Japanese", ""] {
            let err = Config::from_sources(None, &env(&[("SAFEHOUSE_LANGUAGE", bad)])).unwrap_err();
            assert!(err.to_string().contains("SAFEHOUSE_LANGUAGE"), "{err}");
        }
    }

    #[test]
    fn the_publication_policy_has_floors_that_refuse_rather_than_clamp() {
        let p = Config::from_sources(None, &env(&[])).unwrap().publication;
        assert_eq!((p.k, p.embargo_days, p.fiscal_year_start), (10, 90, 1));
        let c = Config::from_sources(
            None,
            &env(&[
                ("SAFEHOUSE_STORY_K", "12"),
                ("SAFEHOUSE_STORY_EMBARGO_DAYS", "30"),
                ("SAFEHOUSE_FISCAL_YEAR_START", "9"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (c.publication.k, c.publication.embargo_days, c.publication.fiscal_year_start),
            (12, 30, 9)
        );
        for (name, value, word) in [
            ("SAFEHOUSE_STORY_K", "4", "story_k"),
            ("SAFEHOUSE_STORY_EMBARGO_DAYS", "29", "story_embargo_days"),
            ("SAFEHOUSE_FISCAL_YEAR_START", "13", "fiscal_year_start"),
            ("SAFEHOUSE_FISCAL_YEAR_START", "0", "fiscal_year_start"),
        ] {
            let err = Config::from_sources(None, &env(&[(name, value)])).unwrap_err();
            assert!(err.to_string().contains(word), "{err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "story_k = 20\nfiscal_year_start = 9\n").unwrap();
        let c = Config::from_sources(Some(&path), &env(&[])).unwrap();
        assert_eq!((c.publication.k, c.publication.fiscal_year_start), (20, 9));
    }

    #[test]
    fn purge_retention_has_a_default_and_a_floor() {
        assert_eq!(Config::from_sources(None, &env(&[])).unwrap().purge_retention_days, 365);
        let c = Config::from_sources(None, &env(&[("SAFEHOUSE_PURGE_RETENTION_DAYS", "30")])).unwrap();
        assert_eq!(c.purge_retention_days, 30);
        for bad in ["29", "0", "3651", "x"] {
            let err =
                Config::from_sources(None, &env(&[("SAFEHOUSE_PURGE_RETENTION_DAYS", bad)])).unwrap_err();
            assert!(
                err.to_string().contains("retention") || err.to_string().contains("RETENTION"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn stale_days_are_an_ascending_list_of_whole_days() {
        assert_eq!(Config::from_sources(None, &env(&[])).unwrap().stale_days, vec![14, 30, 60]);
        let c = Config::from_sources(None, &env(&[("SAFEHOUSE_STALE_DAYS", "7, 21")])).unwrap();
        assert_eq!(c.stale_days, vec![7, 21]);
        for bad in ["", "30,14", "14,14", "0", "3651", "abc", "14,,30", "-1"] {
            let err = Config::from_sources(None, &env(&[("SAFEHOUSE_STALE_DAYS", bad)])).unwrap_err();
            assert!(err.to_string().contains("SAFEHOUSE_STALE_DAYS"), "{bad:?}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "stale_days = [10, 20, 90]\n").unwrap();
        assert_eq!(Config::from_sources(Some(&path), &env(&[])).unwrap().stale_days, vec![10, 20, 90]);
        std::fs::write(&path, "stale_days = []\n").unwrap();
        let err = Config::from_sources(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("stale_days"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_exact_addresses() {
        let c = Config::from_sources(None, &env(&[("SAFEHOUSE_TRUSTED_PROXIES", "10.0.0.2, ::1")])).unwrap();
        assert_eq!(
            c.trusted_proxies,
            vec!["10.0.0.2".parse::<std::net::IpAddr>().unwrap(), "::1".parse().unwrap()]
        );
        let range = Config::from_sources(None, &env(&[("SAFEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8")]));
        assert!(range.unwrap_err().to_string().contains("10.0.0.0/8"));
        assert!(Config::from_sources(None, &env(&[])).unwrap().trusted_proxies.is_empty());
    }
}
