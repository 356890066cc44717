//! The Graph API client: one shared HTTP client, a session per token that counts its calls,
//! retries what is temporary, and keeps the token out of every error and log line.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{GraphError, classify, redact, shorten};
use super::metrics::{DroppedMetric, MediaKind, MetricRegistry, blamed_metric};
use super::types::{
    AccessToken, FlatOrWrapped, Flavour, Media, Page, PageWire, Profile, ProfileWire, TokenGrant, TokenInfo,
};
use super::usage::{RateBook, parse_usage};

pub const INSTAGRAM_HOST: &str = "https://graph.instagram.com";
pub const FACEBOOK_HOST: &str = "https://graph.facebook.com";
/// Instagram Login's code exchange (§1.2 of graph-api.md).
pub const INSTAGRAM_API_HOST: &str = "https://api.instagram.com";
/// Where a browser is sent for Meta's consent dialogs.
pub const INSTAGRAM_WWW: &str = "https://www.instagram.com";
pub const FACEBOOK_WWW: &str = "https://www.facebook.com";
pub const DEFAULT_VERSION: &str = "v25.0";
/// The hosts Instagram serves pictures from, and their subdomains (e.g.
/// `scontent-sea1-1.cdninstagram.com`, jsanahuja/InstagramFeed#62;
/// `instagram.flas1-1.fna.fbcdn.net`, jlobos/instagram-web-api#211). A picture address from
/// an API answer is fetched only there, so a forged or odd answer cannot point the sync at a
/// host inside the operator's network.
const PICTURE_HOSTS: &[&str] = &["cdninstagram.com", "fbcdn.net"];

const PROFILE_FIELDS: &str = "id,username,name,profile_picture_url,followers_count,follows_count,media_count";
const MEDIA_FIELDS: &str = "id,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count,\
     media_url,thumbnail_url,children{id,media_type,media_url}";
/// How many times one insights request may shed a refused metric and try again.
const MAX_METRIC_RETRIES: usize = 3;
/// When the API says "rate limited" without saying for how long.
const DEFAULT_RATE_WAIT: Duration = Duration::from_secs(15 * 60);

/// Where Meta is: the two Graph hosts, Instagram's code exchange and the two dialog hosts.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    pub instagram_base: Url,
    pub facebook_base: Url,
    pub instagram_api: Url,
    pub instagram_www: Url,
    pub facebook_www: Url,
    pub version: String,
}

impl GraphConfig {
    /// The real hosts, or one base URL standing in for all of them (a simulator, a proxy),
    /// keeping Meta's paths.
    pub fn new(base_url: Option<&str>, version: &str) -> anyhow::Result<Self> {
        let parse =
            |text: &str| Url::parse(text).with_context(|| format!("TIDEMARK_GRAPH_BASE_URL {text:?} is not a URL"));
        let host = |real: &str| parse(base_url.unwrap_or(real));
        let (instagram_base, facebook_base) = (host(INSTAGRAM_HOST)?, host(FACEBOOK_HOST)?);
        let (instagram_api, instagram_www, facebook_www) =
            (host(INSTAGRAM_API_HOST)?, host(INSTAGRAM_WWW)?, host(FACEBOOK_WWW)?);
        let version_ok = version.strip_prefix('v').is_some_and(|v| {
            let mut parts = v.split('.');
            let numeric = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            numeric(parts.next()) && numeric(parts.next()) && parts.next().is_none()
        });
        if !version_ok {
            anyhow::bail!("TIDEMARK_GRAPH_VERSION {version:?} is not a version like v25.0");
        }
        Ok(Self {
            instagram_base,
            facebook_base,
            instagram_api,
            instagram_www,
            facebook_www,
            version: version.to_owned(),
        })
    }

    /// Whether a picture may be fetched from `url`: over HTTPS from Instagram's picture hosts,
    /// or from the host standing in for Meta when one is configured (the simulator serves its
    /// pictures itself).
    pub fn picture_host_allowed(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        let base = &self.instagram_base;
        let stand_in = base.host_str() != Some("graph.instagram.com")
            && base.host_str() == Some(host)
            && base.port_or_known_default() == url.port_or_known_default();
        let instagram = url.scheme() == "https"
            && PICTURE_HOSTS.iter().any(|h| host == *h || host.strip_suffix(h).is_some_and(|s| s.ends_with('.')));
        stand_in || instagram
    }

    pub(crate) fn base(&self, flavour: Flavour) -> &Url {
        match flavour {
            Flavour::Instagram => &self.instagram_base,
            Flavour::Facebook => &self.facebook_base,
        }
    }
}

/// Tunables; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub timeout: Duration,
    /// Attempts per call for temporary failures (1 = no retry).
    pub max_attempts: u32,
    /// First backoff; doubles per attempt, with jitter.
    pub backoff_base: Duration,
    /// Above this usage percentage, calls for the account are spaced out.
    pub slow_down_above: u32,
    pub slow_down_for: Duration,
    /// Hard cap on media-list pages per account and sync.
    pub max_pages: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            max_attempts: 4,
            backoff_base: Duration::from_millis(500),
            slow_down_above: 80,
            slow_down_for: Duration::from_secs(2),
            max_pages: 100,
        }
    }
}

/// Told of every request: (endpoint name, outcome: `ok` or the error kind).
pub type CallObserver = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// Clones share the rate-limit book, so every part of Tidemark sees the same limits.
#[derive(Clone)]
pub struct GraphClient {
    pub(crate) http: reqwest::Client,
    config: GraphConfig,
    pub(crate) options: ClientOptions,
    rates: Arc<RateBook>,
    pub(crate) observer: Option<CallObserver>,
}

impl GraphClient {
    pub fn new(config: GraphConfig, options: ClientOptions) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("tidemark/", env!("CARGO_PKG_VERSION")))
            // Paging links are followed explicitly; a redirect must not carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self { http, config, options, rates: Arc::new(RateBook::default()), observer: None })
    }

    /// Reports every request to `observer` (metrics).
    pub fn with_observer(mut self, observer: CallObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn rates(&self) -> &RateBook {
        &self.rates
    }

    pub fn config(&self) -> &GraphConfig {
        &self.config
    }

    /// Calls made with one token; counts every HTTP request it sends.
    pub fn session<'a>(&'a self, token: &'a AccessToken, flavour: Flavour) -> GraphSession<'a> {
        GraphSession { client: self, token, flavour, calls: AtomicU32::new(0) }
    }
}

/// An Instagram account a token can read, and (Facebook Login) the Page it hangs off.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Connectable {
    pub profile: Profile,
    pub page_id: Option<String>,
    /// Instagram Login: the app-scoped id `/me` names beside the account id (the id Meta's
    /// callbacks send). Facebook Login's comes from [`GraphSession::app_user_id`].
    #[serde(default)]
    pub app_user_id: Option<String>,
}

/// Media read from the list, newest first.
#[derive(Debug, Clone)]
pub struct MediaList {
    pub media: Vec<Media>,
    /// False when the page cap stopped the listing before its end or the window's.
    pub complete: bool,
    pub pages: u32,
}

/// One media's insights. A metric missing from `values` was not measured.
#[derive(Debug, Clone, Default)]
pub struct Insights {
    pub values: BTreeMap<String, f64>,
    /// Why the API gives no insights for this media (not an error of the sync).
    pub unavailable: Option<String>,
    /// Metrics refused during this request and now excluded for the media's kind.
    pub newly_dropped: Vec<DroppedMetric>,
}

/// One day of account insights. A metric missing from `values` was not measured.
#[derive(Debug, Clone, Default)]
pub struct AccountDay {
    pub values: BTreeMap<String, f64>,
    /// The API's `follower_count`: the day's net change, not a total.
    pub follower_net_change: Option<f64>,
    /// Account metrics refused during this request and now excluded.
    pub newly_dropped: Vec<DroppedMetric>,
}

pub struct GraphSession<'a> {
    client: &'a GraphClient,
    token: &'a AccessToken,
    flavour: Flavour,
    calls: AtomicU32,
}

impl GraphSession<'_> {
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        let mut url = self.client.config.base(self.flavour).clone();
        let base_path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base_path}/{}/{path}", self.client.config.version));
        url
    }

    /// The accounts this token reads: itself (Instagram Login) or the Instagram accounts
    /// linked to the user's Pages (Facebook Login).
    pub async fn identify(&self) -> Result<Vec<Connectable>, GraphError> {
        match self.flavour {
            Flavour::Instagram => {
                let fields = format!("user_id,{PROFILE_FIELDS}");
                let me: FlatOrWrapped<ProfileWire> = self.get(self.url("me"), &[("fields", &fields)], None).await?;
                let wire = me.into_first().ok_or_else(|| unexpected("/me named no account"))?;
                // `id` is app-scoped only when `user_id` names the account beside it.
                let app_user_id = wire.user_id.as_ref().and(wire.id.clone());
                let profile = wire.into_profile(true).ok_or_else(|| unexpected("/me named no account"))?;
                Ok(vec![Connectable { profile, page_id: None, app_user_id }])
            }
            Flavour::Facebook => {
                let fields = format!("id,instagram_business_account{{{PROFILE_FIELDS}}}");
                let mut url = self.url("me/accounts");
                url.query_pairs_mut().append_pair("fields", &fields);
                let mut found = Vec::new();
                for _ in 0..self.client.options.max_pages {
                    let page: Page<PageWire> = self.get(url.clone(), &[], None).await?;
                    for wire in page.data {
                        if let Some(profile) = wire.instagram_business_account.and_then(|p| p.into_profile(false)) {
                            found.push(Connectable { profile, page_id: Some(wire.id), app_user_id: None });
                        }
                    }
                    match page.paging.and_then(|p| p.next) {
                        Some(next) => url = self.follow(&next)?,
                        None => break,
                    }
                }
                Ok(found)
            }
        }
    }

    pub async fn profile(&self, ig_user_id: &str) -> Result<Profile, GraphError> {
        let wire: ProfileWire = self.get(self.url(ig_user_id), &[("fields", PROFILE_FIELDS)], Some(ig_user_id)).await?;
        wire.into_profile(false).ok_or_else(|| unexpected("the user node has no id"))
    }

    /// A picture from Instagram's picture host, refused beyond `max_bytes`. No token goes
    /// with it: the address carries its own signature (and expires, §8).
    pub async fn picture(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, String> {
        let url = Url::parse(url).map_err(|_| "the picture address is not a URL".to_owned())?;
        if !self.client.config.picture_host_allowed(&url) {
            return Err(format!(
                "the picture address is not on Instagram's picture hosts ({})",
                url.host_str().unwrap_or("no host")
            ));
        }
        let mut response = self
            .client
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("the picture host did not answer ({})", kind_of(&e)))?;
        if !response.status().is_success() {
            return Err(format!("the picture host answered {}", response.status().as_u16()));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| format!("the picture was cut short ({})", kind_of(&e)))?
        {
            if bytes.len() + chunk.len() > max_bytes {
                return Err(format!("the picture is larger than {} MB", max_bytes / 1_000_000));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// Media newest first, down to `since` (exclusive of older ones), following
    /// `paging.next` until it is absent. A short page is not the end.
    pub async fn media_since(&self, ig_user_id: &str, since: Option<DateTime<Utc>>) -> Result<MediaList, GraphError> {
        let mut url = self.url(&format!("{ig_user_id}/media"));
        url.query_pairs_mut().append_pair("fields", MEDIA_FIELDS).append_pair("limit", "100");
        self.list(url, ig_user_id, since).await
    }

    /// The account's live stories (the last 24 hours).
    pub async fn stories(&self, ig_user_id: &str) -> Result<MediaList, GraphError> {
        let mut url = self.url(&format!("{ig_user_id}/stories"));
        url.query_pairs_mut().append_pair("fields", MEDIA_FIELDS).append_pair("limit", "100");
        self.list(url, ig_user_id, None).await
    }

    async fn list(&self, first: Url, ig_user_id: &str, since: Option<DateTime<Utc>>) -> Result<MediaList, GraphError> {
        let mut list = MediaList { media: Vec::new(), complete: false, pages: 0 };
        let mut url = first;
        while list.pages < self.client.options.max_pages {
            let page: Page<Media> = self.get(url.clone(), &[], Some(ig_user_id)).await?;
            list.pages += 1;
            for media in page.data {
                if since.is_some_and(|since| media.timestamp < since) {
                    list.complete = true;
                    return Ok(list);
                }
                list.media.push(media);
            }
            match page.paging.and_then(|p| p.next) {
                Some(next) => url = self.follow(&next)?,
                None => {
                    list.complete = true;
                    return Ok(list);
                }
            }
        }
        Ok(list)
    }

    /// Insights for one media, with exactly the metrics its kind supports. A refused
    /// metric is excluded for the kind and the request retried without it.
    pub async fn media_insights(
        &self,
        ig_user_id: &str,
        media: &Media,
        registry: &MetricRegistry,
    ) -> Result<Insights, GraphError> {
        let kind = MediaKind::of(media);
        let url = self.url(&format!("{}/insights", media.id));
        let mut newly_dropped = Vec::new();
        for _ in 0..=MAX_METRIC_RETRIES {
            let metrics = registry.metrics_for(&kind);
            if metrics.is_empty() {
                break;
            }
            let joined = metrics.join(",");
            match self.get::<InsightsWire>(url.clone(), &[("metric", &joined)], Some(ig_user_id)).await {
                Ok(wire) => {
                    return Ok(Insights { values: wire.values(), unavailable: None, newly_dropped });
                }
                Err(GraphError::Rejected { code: 100, subcode: Some(2_108_006), .. }) => {
                    return Ok(unavailable("posted before the account became a professional account", newly_dropped));
                }
                Err(GraphError::Rejected { code: 10, .. }) => {
                    return Ok(unavailable("not enough viewers for insights", newly_dropped));
                }
                Err(GraphError::Rejected { code: 100, message, .. }) => {
                    let Some(metric) = blamed_metric(&message, &metrics) else {
                        return Err(GraphError::Rejected { code: 100, subcode: None, message });
                    };
                    tracing::warn!(
                        metric,
                        product = kind.product,
                        media_type = kind.media_type,
                        "metric refused; excluded"
                    );
                    if registry.exclude(&kind, &metric, &message) {
                        newly_dropped.push(DroppedMetric { kind: kind.clone(), metric, reason: message });
                    }
                }
                Err(other) => return Err(other),
            }
        }
        Ok(unavailable("every metric for this kind of media was refused", newly_dropped))
    }

    /// One day's account insights, `since` to `until` (at most 30 days apart).
    /// A metric Meta refuses (as it retired `impressions`) is shed, remembered in `registry`
    /// like a media metric, and the day asked again without it.
    pub async fn account_day(
        &self,
        ig_user_id: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        registry: &MetricRegistry,
    ) -> Result<AccountDay, GraphError> {
        let url = self.url(&format!("{ig_user_id}/insights"));
        let (since, until) = (since.timestamp().to_string(), until.timestamp().to_string());
        let kind = MediaKind::account_day();
        let mut newly_dropped = Vec::new();
        let mut totals = None;
        for _ in 0..=MAX_METRIC_RETRIES {
            let metrics = registry.metrics_for(&kind);
            if metrics.is_empty() {
                break;
            }
            let joined = metrics.join(",");
            let query = [
                ("metric", joined.as_str()),
                ("period", "day"),
                ("metric_type", "total_value"),
                ("since", &since),
                ("until", &until),
            ];
            match self.get::<InsightsWire>(url.clone(), &query, Some(ig_user_id)).await {
                Ok(wire) => {
                    totals = Some(wire);
                    break;
                }
                Err(GraphError::Rejected { code: 100, message, subcode }) => {
                    let Some(metric) = blamed_metric(&message, &metrics) else {
                        return Err(GraphError::Rejected { code: 100, subcode, message });
                    };
                    tracing::warn!(metric, "account metric refused; excluded");
                    if registry.exclude(&kind, &metric, &message) {
                        newly_dropped.push(DroppedMetric { kind: kind.clone(), metric, reason: message });
                    }
                }
                Err(other) => return Err(other),
            }
        }
        let totals = totals.unwrap_or(InsightsWire { data: Vec::new() });
        // Missing below 100 followers; an empty answer is "not measured".
        let followers: InsightsWire = self
            .get(
                url,
                &[
                    ("metric", "follower_count"),
                    ("period", "day"),
                    ("metric_type", "time_series"),
                    ("since", &since),
                    ("until", &until),
                ],
                Some(ig_user_id),
            )
            .await?;
        Ok(AccountDay {
            values: totals.values(),
            follower_net_change: followers.values().get("follower_count").copied(),
            newly_dropped,
        })
    }

    /// Instagram Login: a fresh 60-day token (the old one must be at least a day old).
    pub async fn refresh_token(&self) -> Result<TokenGrant, GraphError> {
        let mut url = self.client.config.base(Flavour::Instagram).clone();
        let base_path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base_path}/refresh_access_token"));
        self.get(url, &[("grant_type", "ig_refresh_token")], None).await
    }

    /// Facebook Login: what the API knows of the token (validity, expiry, scopes).
    pub async fn debug_token(&self) -> Result<TokenInfo, GraphError> {
        #[derive(Deserialize)]
        struct Wrapper {
            data: TokenInfo,
        }
        let url = self.url("debug_token");
        let wrapper: Wrapper = self.get(url, &[("input_token", self.token.expose())], None).await?;
        Ok(wrapper.data)
    }

    /// A `paging.next` link, accepted only on the API's own host; its token is replaced
    /// by ours when sent.
    pub(crate) fn follow(&self, next: &str) -> Result<Url, GraphError> {
        let next_url = Url::parse(next).map_err(|_| unexpected("paging.next is not a URL"))?;
        let base = self.client.config.base(self.flavour);
        if next_url.origin() != base.origin() {
            return Err(unexpected("paging.next points at another host"));
        }
        let mut clean = next_url.clone();
        let kept: Vec<(String, String)> = next_url
            .query_pairs()
            .filter(|(k, _)| k != "access_token")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        clean.query_pairs_mut().clear().extend_pairs(kept);
        Ok(clean)
    }

    /// One GET with the token (see [`Self::request`]).
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        url: Url,
        query: &[(&str, &str)],
        account: Option<&str>,
    ) -> Result<T, GraphError> {
        self.request(reqwest::Method::GET, url, query, account, self.client.options.max_attempts).await
    }

    /// One DELETE with the token.
    pub(crate) async fn delete<T: DeserializeOwned>(&self, url: Url) -> Result<T, GraphError> {
        self.request(reqwest::Method::DELETE, url, &[], None, self.client.options.max_attempts).await
    }

    /// One POST with the token. `retry` says whether a temporary failure may be sent again:
    /// never for a call whose effect cannot be told apart from its failure (`media_publish`).
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        url: Url,
        query: &[(&str, &str)],
        account: Option<&str>,
        retry: bool,
    ) -> Result<T, GraphError> {
        let attempts = if retry { self.client.options.max_attempts } else { 1 };
        self.request(reqwest::Method::POST, url, query, account, attempts).await
    }

    /// One request with the token, retried with jittered exponential backoff while the
    /// failure is temporary. Every attempt counts as a call.
    async fn request<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: Url,
        query: &[(&str, &str)],
        account: Option<&str>,
        max_attempts: u32,
    ) -> Result<T, GraphError> {
        let options = &self.client.options;
        let rates = &self.client.rates;
        if let Some(account) = account {
            if let Err(wait) = rates.check(account) {
                return Err(GraphError::RateLimited { code: 0, wait: Some(wait) });
            }
            if rates.usage_percent(account) >= options.slow_down_above {
                tokio::time::sleep(options.slow_down_for).await;
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.attempt(method.clone(), url.clone(), query, account).await;
            if let Some(observer) = &self.client.observer {
                let outcome = match &result {
                    Ok(_) => "ok",
                    Err(err) => err.kind(),
                };
                observer(endpoint_label(url.path()), outcome);
            }
            match result {
                Err(GraphError::Transient { detail }) if attempt < max_attempts => {
                    let backoff = options.backoff_base.saturating_mul(1 << (attempt - 1).min(10));
                    let jitter = rand::rng().random_range(0.5..1.5);
                    tracing::debug!(attempt, detail, "temporary Graph API failure; retrying");
                    tokio::time::sleep(backoff.mul_f64(jitter)).await;
                }
                other => return other,
            }
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: Url,
        query: &[(&str, &str)],
        account: Option<&str>,
    ) -> Result<T, GraphError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let token = self.token.expose();
        let endpoint = url.path().to_owned();
        let response = self
            .client
            .http
            .request(method, url)
            .query(query)
            .query(&[("access_token", token)])
            .send()
            .await
            // reqwest's errors quote the URL, which holds the token.
            .map_err(|err| GraphError::Transient { detail: redact(&err.without_url().to_string(), token) })?;
        let status = response.status().as_u16();
        let usage = parse_usage(response.headers());
        if let Some(account) = account {
            self.client.rates.record(account, usage);
        }
        let body = response
            .text()
            .await
            .map_err(|err| GraphError::Transient { detail: redact(&err.without_url().to_string(), token) })?;
        let body = redact(&body, token);
        if (200..300).contains(&status) {
            return serde_json::from_str(&body).map_err(|err| GraphError::Transient {
                detail: format!("malformed answer from {endpoint}: {err}: {}", shorten(&body)),
            });
        }
        let error = classify(status, &body, usage.regain_after);
        if let (GraphError::RateLimited { wait, .. }, Some(account)) = (&error, account) {
            self.client.rates.block(account, wait.unwrap_or(DEFAULT_RATE_WAIT));
        }
        tracing::debug!(endpoint, status, kind = error.kind(), "Graph API error");
        Err(error)
    }
}

fn unexpected(what: &str) -> GraphError {
    GraphError::Unexpected { status: 200, body: what.to_owned() }
}

fn unavailable(reason: &str, newly_dropped: Vec<DroppedMetric>) -> Insights {
    Insights { values: BTreeMap::new(), unavailable: Some(reason.to_owned()), newly_dropped }
}

#[derive(Debug, Deserialize)]
struct InsightsWire {
    #[serde(default)]
    data: Vec<InsightWire>,
}

#[derive(Debug, Deserialize)]
struct InsightWire {
    name: String,
    #[serde(default)]
    values: Vec<ValueWire>,
    #[serde(default)]
    total_value: Option<ValueWire>,
}

#[derive(Debug, Deserialize)]
struct ValueWire {
    #[serde(default)]
    value: serde_json::Value,
}

impl InsightsWire {
    /// Numeric values by metric name; a time series is summed. Anything else is left out
    /// ("not measured"), never turned into 0.
    fn values(&self) -> BTreeMap<String, f64> {
        let mut values = BTreeMap::new();
        for item in &self.data {
            let value = match &item.total_value {
                Some(total) => total.value.as_f64(),
                None => {
                    let points: Vec<f64> = item.values.iter().filter_map(|v| v.value.as_f64()).collect();
                    (!points.is_empty()).then(|| points.iter().sum())
                }
            };
            if let Some(value) = value {
                values.insert(item.name.clone(), value);
            }
        }
        values
    }
}

/// The fixed name of a Graph API path, for a bounded label: ids become their kind.
pub fn endpoint_label(path: &str) -> &'static str {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && !s.starts_with('v')).collect();
    match segments.as_slice() {
        ["me"] => "me",
        ["me", "accounts"] => "me_accounts",
        ["me", "permissions"] => "me_permissions",
        ["oauth", "access_token"] => "oauth_access_token",
        ["access_token"] => "access_token",
        ["refresh_access_token"] => "refresh_access_token",
        ["debug_token"] => "debug_token",
        [_, "media"] => "user_media",
        [_, "media_publish"] => "media_publish",
        [_, "content_publishing_limit"] => "content_publishing_limit",
        [_, "stories"] => "user_stories",
        [_, "comments"] => "comments",
        [_, "replies"] => "comment_replies",
        [_, "mentions"] => "mentions",
        [_, "insights"] => "insights",
        [_] => "node",
        _ => "other",
    }
}

/// What kind of transport failure it was, without the address (which carries a signature).
fn kind_of(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "no connection"
    } else {
        "transport error"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_paths_map_to_a_fixed_set_of_endpoints() {
        assert_eq!(endpoint_label("/v25.0/17841400000000001/media"), "user_media");
        assert_eq!(endpoint_label("/v25.0/18000000000000001/insights"), "insights");
        assert_eq!(endpoint_label("/v25.0/me"), "me");
        assert_eq!(endpoint_label("/refresh_access_token"), "refresh_access_token");
        assert_eq!(endpoint_label("/v25.0/17841400000000001"), "node");
    }

    #[test]
    fn an_empty_insights_answer_measures_nothing() {
        let wire: InsightsWire = serde_json::from_str(r#"{"data":[]}"#).unwrap();
        assert!(wire.values().is_empty());
        let wire: InsightsWire = serde_json::from_str(
            r#"{"data":[{"name":"reach","period":"lifetime","values":[{"value":0}]},
                        {"name":"views","total_value":{"value":12}},
                        {"name":"profile_activity","values":[{"value":{"bio_link_clicked":1}}]}]}"#,
        )
        .unwrap();
        let values = wire.values();
        assert_eq!(values.get("reach"), Some(&0.0), "zero is a measurement");
        assert_eq!(values.get("views"), Some(&12.0));
        assert_eq!(values.get("profile_activity"), None);
    }

    #[test]
    fn pictures_come_only_from_instagrams_hosts_or_the_stand_in() {
        let url = |text: &str| Url::parse(text).unwrap();
        let real = GraphConfig::new(None, "v25.0").unwrap();
        assert!(real.picture_host_allowed(&url("https://scontent-sea1-1.cdninstagram.com/v/t51/a.jpg?oh=1")));
        assert!(real.picture_host_allowed(&url("https://instagram.flas1-1.fna.fbcdn.net/v/a.jpg")));
        for refused in [
            "http://scontent.cdninstagram.com/a.jpg",
            "https://evilcdninstagram.com/a.jpg",
            "https://cdninstagram.com.example.org/a.jpg",
            "https://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:5432/",
            "file:///etc/passwd",
        ] {
            assert!(!real.picture_host_allowed(&url(refused)), "{refused}");
        }
        let simulated = GraphConfig::new(Some("http://127.0.0.1:4010"), "v25.0").unwrap();
        assert!(simulated.picture_host_allowed(&url("http://127.0.0.1:4010/cdn/1.jpg")));
        assert!(!simulated.picture_host_allowed(&url("http://127.0.0.1:5432/")), "another port of the same host");
    }

    #[test]
    fn the_version_must_look_like_one() {
        assert!(GraphConfig::new(None, "v25.0").is_ok());
        assert!(GraphConfig::new(None, "25").is_err());
        assert!(GraphConfig::new(Some("not a url"), "v25.0").is_err());
    }
}
