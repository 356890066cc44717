//! Settings: read from flags and the environment by clap, validated once here.
//!
//! Every problem is reported as one line naming the setting, and the program stops.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use clap::{Args, ValueEnum};

use url::Url;

use crate::crypto::TokenKey;
use crate::domain::Flavour;
use crate::graph::client::DEFAULT_VERSION;
use crate::graph::{GraphConfig, MetaApp};

/// How long a session may sit unused before it ends (minutes).
pub const DEFAULT_SESSION_IDLE_MINUTES: u32 = 120;
/// How long a session may last at most, however active (hours).
pub const DEFAULT_SESSION_MAX_HOURS: u32 = 24;
/// A script reading every page of a few hundred posts a minute stays well within this.
pub const DEFAULT_API_REQUESTS_PER_MINUTE: u32 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// File holding DATABASE_URL (container secrets: the URL carries the password).
    #[arg(long, env = "DATABASE_URL_FILE", global = true)]
    pub database_url_file: Option<PathBuf>,
}

impl DatabaseArgs {
    pub fn url(&self) -> anyhow::Result<String> {
        if self.database_url.is_none() && self.database_url_file.is_none() {
            bail!("DATABASE_URL is not set: give the PostgreSQL URL with --database-url or DATABASE_URL");
        }
        let url = read_secret("DATABASE_URL", self.database_url.as_deref(), self.database_url_file.as_ref())?;
        validate_database_url(&url)?;
        Ok(url)
    }
}

#[derive(Debug, Clone, Args)]
pub struct SecretArgs {
    /// Key for encrypting access tokens: 32 bytes, base64.
    #[arg(long, env = "TIDEMARK_TOKEN_KEY", hide_env_values = true)]
    pub token_key: Option<String>,
    /// File holding TIDEMARK_TOKEN_KEY (container secrets).
    #[arg(long, env = "TIDEMARK_TOKEN_KEY_FILE")]
    pub token_key_file: Option<PathBuf>,
}

impl SecretArgs {
    pub fn token_key(&self) -> anyhow::Result<TokenKey> {
        let text = read_secret("TIDEMARK_TOKEN_KEY", self.token_key.as_deref(), self.token_key_file.as_ref())?;
        parse_token_key(&text)
    }
}

/// Where uploaded media wait until they are published (`media/`, `uploads/`), shared by
/// `serve` and the commands.
pub const DEFAULT_DATA_DIR: &str = "tidemark-data";

#[derive(Debug, Clone, Args)]
pub struct DataDirArgs {
    /// Directory for uploaded media waiting to be published (created if missing).
    #[arg(long, env = "TIDEMARK_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct GraphArgs {
    /// Replaces both Graph API hosts (a simulator, a proxy).
    #[arg(long, env = "TIDEMARK_GRAPH_BASE_URL")]
    pub graph_base_url: Option<String>,
    /// Graph API version in the path.
    #[arg(long, env = "TIDEMARK_GRAPH_VERSION", default_value = DEFAULT_VERSION)]
    pub graph_version: String,
}

impl GraphArgs {
    pub fn config(&self) -> anyhow::Result<GraphConfig> {
        GraphConfig::new(self.graph_base_url.as_deref(), &self.graph_version)
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "TIDEMARK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Secret for signing session tokens: at least 32 bytes.
    #[arg(long, env = "TIDEMARK_SESSION_SECRET", hide_env_values = true)]
    pub session_secret: Option<String>,
    /// File holding TIDEMARK_SESSION_SECRET (container secrets).
    #[arg(long, env = "TIDEMARK_SESSION_SECRET_FILE")]
    pub session_secret_file: Option<PathBuf>,
    /// Mark the session cookie Secure (default: true unless bound to loopback).
    #[arg(long, env = "TIDEMARK_COOKIE_SECURE")]
    pub cookie_secure: Option<bool>,
    /// Serve /metrics to any address (default: loopback only).
    #[arg(long, env = "TIDEMARK_METRICS_PUBLIC", default_value_t = false)]
    pub metrics_public: bool,
    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "TIDEMARK_SESSION_IDLE_MINUTES", default_value_t = DEFAULT_SESSION_IDLE_MINUTES)]
    pub session_idle_minutes: u32,
    /// Hours after sign-in after which a session ends, however active.
    #[arg(long, env = "TIDEMARK_SESSION_MAX_HOURS", default_value_t = DEFAULT_SESSION_MAX_HOURS)]
    pub session_max_hours: u32,
    /// The address at which people and Meta reach this Tidemark (default: http:// + the bind address).
    #[arg(long, env = "TIDEMARK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For and
    /// X-Forwarded-Proto are believed.
    #[arg(long, env = "TIDEMARK_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Bearer token /metrics requires from anyone but a direct loopback client.
    #[arg(long, env = "TIDEMARK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Requests each JSON API token may make per minute (bursts up to the same number).
    #[arg(long, env = "TIDEMARK_API_REQUESTS_PER_MINUTE", default_value_t = DEFAULT_API_REQUESTS_PER_MINUTE)]
    pub api_requests_per_minute: u32,
    #[arg(long, env = "TIDEMARK_METRICS_TOKEN_FILE")]
    pub metrics_token_file: Option<PathBuf>,
    /// Outgoing mail for reports and alerts: smtp://user:pass@host:587 (STARTTLS) or
    /// smtps://user:pass@host:465; unset, nothing is mailed.
    #[arg(long, env = "TIDEMARK_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    #[arg(long, env = "TIDEMARK_SMTP_URL_FILE")]
    pub smtp_url_file: Option<PathBuf>,
    /// The sender of Tidemark's mail, e.g. "Tidemark <reports@example.com>".
    #[arg(long, env = "TIDEMARK_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Keep signed-in sessions in memory between requests, told of changes by PostgreSQL's
    /// LISTEN/NOTIFY (default: true). Turn off behind a pooler that cannot LISTEN (PgBouncer in
    /// transaction mode): every request then reads its session from the database.
    #[arg(long, env = "TIDEMARK_KEEP_SESSIONS")]
    pub keep_sessions: Option<bool>,
    #[command(flatten)]
    pub apps: MetaAppArgs,
    #[command(flatten)]
    pub secrets: SecretArgs,
    #[command(flatten)]
    pub graph: GraphArgs,
    #[command(flatten)]
    pub data: DataDirArgs,
}

/// Addresses (or CIDR ranges) of reverse proxies whose `X-Forwarded-For` and
/// `X-Forwarded-Proto` are believed. Everyone else's are ignored: a client cannot choose the
/// address it is throttled or logged under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(std::net::IpAddr, u8)>);

impl TrustedProxies {
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut ranges = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (address, bits) = match item.split_once('/') {
                Some((address, bits)) => (address, Some(bits)),
                None => (item, None),
            };
            let address: std::net::IpAddr = address
                .parse()
                .ok()
                .with_context(|| format!("TIDEMARK_TRUSTED_PROXIES: {item:?} is not an address or CIDR range"))?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(bits) => bits.parse::<u8>().ok().filter(|b| *b <= max).with_context(|| {
                    format!("TIDEMARK_TRUSTED_PROXIES: {item:?} has a prefix length out of 0..={max}")
                })?,
                None => max,
            };
            ranges.push((address, bits));
        }
        Ok(Self(ranges))
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        self.0.iter().any(|(net, bits)| match (net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                u32::from(*net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                u128::from(*net) & mask == u128::from(ip) & mask
            }
            _ => false,
        })
    }

    /// The client's address: the peer's, or (when the peer is a trusted proxy) the nearest
    /// address in `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: Option<std::net::IpAddr>, forwarded_for: Option<&str>) -> Option<std::net::IpAddr> {
        let peer = peer?;
        if !self.contains(peer) {
            return Some(peer);
        }
        let hops: Vec<std::net::IpAddr> =
            forwarded_for.unwrap_or_default().split(',').filter_map(|h| h.trim().parse().ok()).collect();
        Some(hops.into_iter().rev().find(|hop| !self.contains(*hop)).unwrap_or(peer))
    }

    /// The scheme the client used: `X-Forwarded-Proto` from a trusted proxy, else http.
    pub fn scheme(&self, peer: Option<std::net::IpAddr>, forwarded_proto: Option<&str>) -> &'static str {
        let trusted = peer.is_some_and(|p| self.contains(p));
        match forwarded_proto.map(str::trim) {
            Some(proto) if trusted && proto.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        }
    }
}

/// The operator's own Meta apps. Without one, its connect button is hidden and its
/// callbacks answer 404.
#[derive(Debug, Clone, Default, Args)]
pub struct MetaAppArgs {
    /// The Instagram app id (App Dashboard › Instagram › API setup with Instagram login).
    #[arg(long, env = "TIDEMARK_INSTAGRAM_APP_ID")]
    pub instagram_app_id: Option<String>,
    #[arg(long, env = "TIDEMARK_INSTAGRAM_APP_SECRET", hide_env_values = true)]
    pub instagram_app_secret: Option<String>,
    #[arg(long, env = "TIDEMARK_INSTAGRAM_APP_SECRET_FILE")]
    pub instagram_app_secret_file: Option<PathBuf>,
    /// The Meta app id used for Facebook Login for Business.
    #[arg(long, env = "TIDEMARK_FACEBOOK_APP_ID")]
    pub facebook_app_id: Option<String>,
    #[arg(long, env = "TIDEMARK_FACEBOOK_APP_SECRET", hide_env_values = true)]
    pub facebook_app_secret: Option<String>,
    #[arg(long, env = "TIDEMARK_FACEBOOK_APP_SECRET_FILE")]
    pub facebook_app_secret_file: Option<PathBuf>,
    /// The verify token entered with the webhooks callback URL in the App Dashboard; Meta
    /// echoes it when the subscription is set up.
    #[arg(long, env = "TIDEMARK_WEBHOOK_VERIFY_TOKEN", hide_env_values = true)]
    pub webhook_verify_token: Option<String>,
    #[arg(long, env = "TIDEMARK_WEBHOOK_VERIFY_TOKEN_FILE")]
    pub webhook_verify_token_file: Option<PathBuf>,
}

impl MetaAppArgs {
    pub fn apps(&self) -> anyhow::Result<MetaApps> {
        let app = |name: &str, id: &Option<String>, secret: Option<&str>, file: Option<&PathBuf>| {
            let id = id.as_deref().map(str::trim).filter(|id| !id.is_empty());
            match (id, secret.is_some() || file.is_some()) {
                (None, false) => Ok(None),
                (Some(id), true) => {
                    if !id.chars().all(|c| c.is_ascii_digit()) {
                        bail!("TIDEMARK_{name}_APP_ID {id:?} is not an app id (digits only)");
                    }
                    let secret = read_secret(&format!("TIDEMARK_{name}_APP_SECRET"), secret, file)?;
                    if secret.trim().is_empty() {
                        bail!("TIDEMARK_{name}_APP_SECRET is empty");
                    }
                    Ok(Some(MetaApp::new(id, secret.trim())))
                }
                (Some(_), false) => bail!("TIDEMARK_{name}_APP_ID is set without TIDEMARK_{name}_APP_SECRET"),
                (None, true) => bail!("TIDEMARK_{name}_APP_SECRET is set without TIDEMARK_{name}_APP_ID"),
            }
        };
        Ok(MetaApps {
            instagram: app(
                "INSTAGRAM",
                &self.instagram_app_id,
                self.instagram_app_secret.as_deref(),
                self.instagram_app_secret_file.as_ref(),
            )?,
            facebook: app(
                "FACEBOOK",
                &self.facebook_app_id,
                self.facebook_app_secret.as_deref(),
                self.facebook_app_secret_file.as_ref(),
            )?,
            webhook_verify_token: match (&self.webhook_verify_token, &self.webhook_verify_token_file) {
                (None, None) => None,
                (inline, file) => {
                    let token = read_secret("TIDEMARK_WEBHOOK_VERIFY_TOKEN", inline.as_deref(), file.as_ref())?
                        .trim()
                        .to_owned();
                    if token.len() < 16 {
                        bail!("TIDEMARK_WEBHOOK_VERIFY_TOKEN must be at least 16 characters");
                    }
                    Some(token)
                }
            },
        })
    }
}

/// The Meta apps this Tidemark connects through, by login.
#[derive(Debug, Clone, Default)]
pub struct MetaApps {
    pub instagram: Option<MetaApp>,
    pub facebook: Option<MetaApp>,
    /// What Meta must echo to set up the webhooks subscription; unset, webhooks answer 404.
    pub webhook_verify_token: Option<String>,
}

impl MetaApps {
    pub fn get(&self, flavour: Flavour) -> Option<&MetaApp> {
        match flavour {
            Flavour::Instagram => self.instagram.as_ref(),
            Flavour::Facebook => self.facebook.as_ref(),
        }
    }
}

/// The validated settings `serve` runs with. Passed by value; there is no global.
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: SocketAddr,
    pub session: SessionSettings,
    pub token_key: TokenKey,
    pub graph: GraphConfig,
    pub graph_options: crate::graph::ClientOptions,
    /// Run the sync on its schedule (tests turn it off and call the sync directly).
    pub run_scheduler: bool,
    /// Every page says it shows demo data.
    pub demo: bool,
    pub metrics_public: bool,
    pub clock: crate::domain::Clock,
    /// Where people and Meta reach this Tidemark; unset, the address the server listens on.
    pub public_url: Option<Url>,
    pub trusted_proxies: TrustedProxies,
    /// What `/metrics` requires from non-loopback clients (`Authorization: Bearer …`).
    pub metrics_token: Option<String>,
    pub apps: MetaApps,
    /// Where uploaded media wait until they are published.
    pub data_dir: PathBuf,
    pub publish_options: crate::publishing::PublishOptions,
    /// Requests each JSON API token may make per minute.
    pub api_requests_per_minute: NonZeroU32,
    /// Where reports and alerts are mailed from; `None` when no SMTP server is configured.
    pub mail: Option<crate::mail::MailSettings>,
    /// Sessions kept in memory between requests (see `auth::kept_sessions`).
    pub keep_sessions: bool,
}

#[derive(Clone)]
pub struct SessionSettings {
    pub secret: Vec<u8>,
    pub cookie_secure: bool,
    pub idle_timeout: Duration,
    pub max_lifetime: Duration,
}

impl fmt::Debug for SessionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionSettings")
            .field("secret", &"<redacted>")
            .field("cookie_secure", &self.cookie_secure)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .finish()
    }
}

impl Settings {
    pub fn from_args(database: &DatabaseArgs, serve: &ServeArgs) -> anyhow::Result<Self> {
        let database_url = database.url()?;
        let bind = resolve_bind(&serve.bind)?;
        let secret = read_secret(
            "TIDEMARK_SESSION_SECRET",
            serve.session_secret.as_deref(),
            serve.session_secret_file.as_ref(),
        )?;
        if secret.len() < 32 {
            bail!(
                "TIDEMARK_SESSION_SECRET is {} bytes long: it must be at least 32 bytes (try `openssl rand -base64 48`)",
                secret.len()
            );
        }
        if estimated_entropy_bits(secret.as_bytes()) < 128.0 {
            bail!(
                "TIDEMARK_SESSION_SECRET looks guessable (repeated or too few different characters): use a random one, e.g. `openssl rand -base64 48`"
            );
        }
        if serve.session_idle_minutes == 0 || serve.session_max_hours == 0 {
            bail!("TIDEMARK_SESSION_IDLE_MINUTES and TIDEMARK_SESSION_MAX_HOURS must be at least 1");
        }
        let token_key = serve.secrets.token_key()?;
        let graph = serve.graph.config()?;
        let public_url = serve.public_url.as_deref().map(public_url).transpose()?;
        let apps = serve.apps.apps()?;
        let trusted_proxies = TrustedProxies::parse(&serve.trusted_proxies)?;
        let metrics_token = match (&serve.metrics_token, &serve.metrics_token_file) {
            (None, None) => None,
            (inline, file) => Some(read_secret("TIDEMARK_METRICS_TOKEN", inline.as_deref(), file.as_ref())?),
        };
        let api_requests_per_minute = NonZeroU32::new(serve.api_requests_per_minute)
            .context("TIDEMARK_API_REQUESTS_PER_MINUTE must be at least 1")?;
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            bail!("TIDEMARK_METRICS_TOKEN must be at least 16 characters");
        }
        let mail = match (&serve.smtp_url, &serve.smtp_url_file) {
            (None, None) => None,
            (inline, file) => {
                let url = read_secret("TIDEMARK_SMTP_URL", inline.as_deref(), file.as_ref())?;
                let host = public_url.as_ref().and_then(|u| u.host_str().map(str::to_owned));
                let from = serve.mail_from.clone().unwrap_or_else(|| default_sender(host.as_deref()));
                Some(crate::mail::MailSettings::parse(&url, &from)?)
            }
        };
        Ok(Self {
            database_url,
            bind,
            session: SessionSettings {
                secret: secret.into_bytes(),
                cookie_secure: serve.cookie_secure.unwrap_or(!bind.ip().is_loopback()),
                idle_timeout: Duration::from_secs(u64::from(serve.session_idle_minutes) * 60),
                max_lifetime: Duration::from_secs(u64::from(serve.session_max_hours) * 3600),
            },
            token_key,
            graph,
            graph_options: crate::graph::ClientOptions::default(),
            run_scheduler: true,
            demo: false,
            metrics_public: serve.metrics_public,
            clock: crate::domain::system_clock(),
            public_url,
            trusted_proxies,
            metrics_token,
            apps,
            data_dir: serve.data.data_dir.clone(),
            publish_options: crate::publishing::PublishOptions::default(),
            api_requests_per_minute,
            mail,
            keep_sessions: serve.keep_sessions.unwrap_or(true),
        })
    }

    /// Settings for `tidemark demo`: like `serve`'s, but secrets that are not given are made
    /// up for this run (demo data only; sessions end when it stops).
    pub fn for_demo(database: &DatabaseArgs, serve: &ServeArgs) -> anyhow::Result<Self> {
        use rand::RngCore;
        let mut serve = serve.clone();
        let random = |n: usize| {
            let mut bytes = vec![0u8; n];
            rand::rng().fill_bytes(&mut bytes);
            base64::engine::general_purpose::STANDARD.encode(bytes)
        };
        if serve.session_secret.is_none() && serve.session_secret_file.is_none() {
            serve.session_secret = Some(random(48));
        }
        if serve.secrets.token_key.is_none() && serve.secrets.token_key_file.is_none() {
            serve.secrets.token_key = Some(random(32));
        }
        let mut settings = Settings::from_args(database, &serve)?;
        settings.demo = true;
        Ok(settings)
    }
}

/// A rough ceiling on a secret's entropy: its length times the Shannon entropy of its
/// characters. Random base64 or hex of 32+ bytes clears 128 bits easily; `aaaa…` or `abab…`
/// do not.
fn estimated_entropy_bits(secret: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for byte in secret {
        counts[*byte as usize] += 1;
    }
    let len = secret.len() as f64;
    let per_char: f64 = counts.iter().filter(|&&n| n > 0).map(|&n| n as f64 / len).map(|p| -p * p.log2()).sum();
    per_char * len
}

/// The sender when `TIDEMARK_MAIL_FROM` is not set: tidemark@ the public host, when it is a
/// domain name.
fn default_sender(public_host: Option<&str>) -> String {
    match public_host {
        Some(host) if host.contains('.') && host.parse::<std::net::IpAddr>().is_err() => {
            format!("Tidemark <tidemark@{host}>")
        }
        _ => "Tidemark <tidemark@localhost>".to_owned(),
    }
}

/// The public address as given: http or https, no query or fragment.
pub fn public_url(given: &str) -> anyhow::Result<Url> {
    let text = given.trim().trim_end_matches('/').to_owned();
    let url = Url::parse(&text).with_context(|| format!("TIDEMARK_PUBLIC_URL {text:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("TIDEMARK_PUBLIC_URL {text:?} must be an http:// or https:// address");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("TIDEMARK_PUBLIC_URL {text:?} must not have a query or a fragment");
    }
    Ok(url)
}

fn validate_database_url(url: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url).context("DATABASE_URL is not a valid URL")?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        bail!("DATABASE_URL must start with postgres:// or postgresql://, not {}://", parsed.scheme());
    }
    Ok(())
}

fn resolve_bind(bind: &str) -> anyhow::Result<SocketAddr> {
    bind.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .with_context(|| format!("TIDEMARK_BIND {bind:?} is not an address:port to listen on"))
}

/// A secret comes either inline or from a file, never both.
fn read_secret(name: &str, inline: Option<&str>, file: Option<&PathBuf>) -> anyhow::Result<String> {
    match (inline, file) {
        (Some(_), Some(_)) => bail!("set only one of {name} and {name}_FILE"),
        (Some(value), None) => Ok(value.to_owned()),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{name}_FILE: cannot read {}", path.display()))?;
            Ok(text.trim_end_matches(['\r', '\n']).to_owned())
        }
        (None, None) => {
            bail!("{name} is not set (give it, or {name}_FILE naming a file that holds it)")
        }
    }
}

fn parse_token_key(text: &str) -> anyhow::Result<TokenKey> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
        .context("TIDEMARK_TOKEN_KEY is not valid base64 (try `openssl rand -base64 32`)")?;
    let key: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
        anyhow::anyhow!(
            "TIDEMARK_TOKEN_KEY decodes to {} bytes: it must be exactly 32 (try `openssl rand -base64 32`)",
            bytes.len()
        )
    })?;
    Ok(TokenKey::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_key_must_be_32_bytes_of_base64() {
        let ok = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(parse_token_key(&ok).is_ok());
        let short = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        let err = parse_token_key(&short).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("16 bytes"), "{err}");
        assert!(parse_token_key("not base64 at all!").is_err());
    }

    #[test]
    fn database_url_needs_a_postgres_scheme() {
        assert!(validate_database_url("postgres://u@localhost/db").is_ok());
        assert!(validate_database_url("mysql://u@localhost/db").is_err());
        assert!(validate_database_url("::nonsense").is_err());
    }

    #[test]
    fn the_public_url_must_be_an_http_address() {
        assert_eq!(public_url("https://t.example/").unwrap().as_str(), "https://t.example/");
        assert!(public_url("ftp://t.example").is_err());
        assert!(public_url("https://t.example/?a=1").is_err());
        assert!(public_url("not a url").is_err());
    }

    #[test]
    fn an_app_needs_both_its_id_and_its_secret() {
        let none = MetaAppArgs::default();
        assert!(none.apps().unwrap().instagram.is_none());
        let half = MetaAppArgs { instagram_app_id: Some("123".into()), ..MetaAppArgs::default() };
        assert!(half.apps().is_err());
        let whole = MetaAppArgs {
            facebook_app_id: Some("456".into()),
            facebook_app_secret: Some("shh".into()),
            ..MetaAppArgs::default()
        };
        let apps = whole.apps().unwrap();
        assert_eq!(apps.get(Flavour::Facebook).map(|a| a.id.as_str()), Some("456"));
        assert!(apps.get(Flavour::Instagram).is_none());
        let bad = MetaAppArgs { facebook_app_id: Some("abc".into()), ..whole };
        assert!(bad.apps().is_err());
    }

    #[test]
    fn a_guessable_session_secret_is_refused_and_random_ones_pass() {
        assert!(estimated_entropy_bits(&[b'a'; 32]) < 128.0);
        assert!(estimated_entropy_bits("ab".repeat(40).as_bytes()) < 128.0);
        assert!(estimated_entropy_bits("abcd".repeat(8).as_bytes()) < 128.0);
        let hex = "3f9a1c0e7b2d4a6f8e1b3c5d7f9a0b2c4e6f8a1b3d5c7e9f0a2b4c6d8e0f1a3b";
        assert!(estimated_entropy_bits(hex.as_bytes()) >= 128.0, "openssl rand -hex 32");
        let b64 = "q8Zt3mVx9LkP2rWbN7cYfA1sHjD4gE6uT0oIyR5nMwQeXvBzCa+/KlOpUi";
        assert!(estimated_entropy_bits(b64.as_bytes()) >= 128.0, "openssl rand -base64 48");
    }

    #[test]
    fn only_trusted_proxies_say_who_the_client_is() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().ok();
        assert_eq!(proxies.client_ip(ip("203.0.113.9"), Some("1.2.3.4")), ip("203.0.113.9"), "not a proxy: ignored");
        assert_eq!(proxies.client_ip(ip("10.1.2.3"), Some("198.51.100.7, 10.0.0.5")), ip("198.51.100.7"));
        assert_eq!(proxies.client_ip(ip("10.1.2.3"), Some("junk")), ip("10.1.2.3"));
        assert_eq!(proxies.scheme(ip("10.9.9.9"), Some("https")), "https");
        assert_eq!(proxies.scheme(ip("203.0.113.9"), Some("https")), "http");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("not-an-ip").is_err());
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::default());
    }

    #[test]
    fn a_secret_cannot_come_from_both_places() {
        let path = PathBuf::from("/nonexistent");
        assert!(read_secret("X", Some("a"), Some(&path)).is_err());
        assert!(read_secret("X", None, None).is_err());
        assert_eq!(read_secret("X", Some("abc"), None).ok().as_deref(), Some("abc"));
    }
}
