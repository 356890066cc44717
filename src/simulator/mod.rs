//! A Graph API simulator: a real HTTP server answering like graph.instagram.com and
//! graph.facebook.com, for the tests, the demo and the benchmarks.
//!
//! Which host a request was meant for is told by its token (`IGAA…` Instagram Login,
//! `EAA…` Facebook Login); host-specific endpoints refuse the other flavour's tokens as
//! the real hosts do ("Cannot parse access token").

pub mod audience;
mod comments;
pub mod facts;
pub mod oauth;
pub mod pictures;
mod publish;
mod server;
pub mod voices;
pub mod webhooks;
pub mod world;

use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;

use self::oauth::{SimCode, all_scopes};
use self::world::{AccountSpec, SimAccount, SimToken, generate, make_media, token_text};

use crate::domain::Flavour;

/// Calls a token may make before the simulated usage reaches 100 % (80002).
pub const DEFAULT_BUDGET: u64 = 1_000_000;
/// Days a fresh long-lived token lasts.
pub const TOKEN_DAYS: i64 = 60;
/// §7.4: the reference's 50 posts per 24 hours.
pub const DEFAULT_PUBLISH_QUOTA: i64 = 50;
/// Real time a fetched video takes to process (Meta takes minutes; tests shorten it).
pub const DEFAULT_VIDEO_PROCESSING: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    pub seed: u64,
    pub accounts: Vec<AccountSpec>,
    /// Professional accounts no token reads, that Business Discovery answers for.
    pub public: Vec<AccountSpec>,
    /// Serve some media-list pages shorter than `limit` (privacy filtering), losing nothing.
    pub short_pages: bool,
    /// Answer Instagram Login's `/me` as `{"data":[…]}` instead of a flat object.
    pub wrapped_me: bool,
    /// Minutes reported in `estimated_time_to_regain_access` once a budget is spent.
    pub regain_minutes: u64,
    /// Extra `(media_product_type, metric)` pairs to refuse beyond the documented table, for
    /// readings of the API that sources dispute (e.g. `shares` on images).
    pub refuse: Vec<(String, String)>,
}

impl SimulatorConfig {
    pub fn standard(seed: u64) -> Self {
        Self {
            seed,
            accounts: AccountSpec::standard_set(),
            public: AccountSpec::public_set(),
            short_pages: true,
            wrapped_me: false,
            regain_minutes: 5,
            refuse: Vec::new(),
        }
    }

    /// The demo's world: the standard accounts writing as the businesses they are named for.
    pub fn demo(seed: u64) -> Self {
        Self { accounts: AccountSpec::demo_set(), ..SimulatorConfig::standard(seed) }
    }
}

/// Knobs for fault tests.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Added to every answer.
    pub latency: Duration,
    /// The next this-many requests answer 500 with a temporary error.
    pub fail_next: u32,
    /// Share of requests (0–1) answering 503.
    pub server_error_ratio: f64,
    /// Share of requests (0–1) that hang far longer than any client waits.
    pub timeout_ratio: f64,
    /// Share of successful answers (0–1) whose JSON is cut short.
    pub malformed_ratio: f64,
    /// Share of requests (0–1) refused by a proxy in the way: 403 with an HTML page that
    /// quotes the request URL, token and all.
    pub proxy_refusal_ratio: f64,
    /// The next this-many media containers end in ERROR while processing.
    pub container_errors: u32,
    /// The next this-many successful `media_publish` calls publish, then answer 500 as if
    /// the connection broke before the answer arrived.
    pub lost_publish_answers: u32,
    /// The picture host answers an error page instead of an image.
    pub broken_pictures: bool,
}

pub(crate) struct SimState {
    pub config: SimulatorConfig,
    pub epoch: DateTime<Utc>,
    pub inner: Mutex<Inner>,
}

pub(crate) struct Inner {
    pub accounts: Vec<SimAccount>,
    /// Accounts only Business Discovery reads (see [`SimulatorConfig::public`]).
    pub public: Vec<SimAccount>,
    pub tokens: Vec<SimToken>,
    /// Codes the consent dialogs handed out.
    pub codes: Vec<SimCode>,
    pub faults: Faults,
    pub offset: chrono::Duration,
    pub rng: StdRng,
    pub requests: u64,
    /// Media containers made through the publishing API.
    pub(crate) containers: Vec<publish::SimContainer>,
    /// Media fetches waiting for the lock to be released.
    pub(crate) fetch_queue: Vec<publish::FetchJob>,
    /// (account, when) of every post published through the API, for the 24-hour quota.
    pub(crate) publishes: Vec<(usize, DateTime<Utc>)>,
    /// Posts the API publishes per account and rolling 24 hours (§7.4).
    pub publish_quota: i64,
    /// How long a fetched video takes to process before its container is FINISHED.
    pub video_processing: Duration,
    /// Comments on the media, oldest first (see [`comments`]).
    pub(crate) comments: Vec<comments::SimComment>,
    /// How many of its curve's comments each media has been given so far.
    pub(crate) brought: std::collections::HashMap<String, usize>,
    /// @mentions of the accounts on other people's media.
    pub(crate) mentions: Vec<comments::SimMention>,
    /// `GET /{media}/comments` pages answered.
    pub(crate) comment_pages: u64,
}

impl SimState {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// A running simulator. Dropping it does not stop it; call [`Simulator::stop`].
pub struct Simulator {
    base_url: String,
    state: Arc<SimState>,
    handle: ServerHandle,
}

impl Simulator {
    /// Starts the simulator on `bind` (use port 0 for any free port) inside the current
    /// tokio runtime.
    pub fn start(config: SimulatorConfig, bind: &str) -> anyhow::Result<Simulator> {
        let epoch = Utc::now();
        let accounts = generate(&config.accounts, config.seed, epoch);
        let public = world::generate_from(&config.public, config.accounts.len(), config.seed, epoch);
        let mut rng = StdRng::seed_from_u64(config.seed ^ 0x5EED);
        let tokens = accounts
            .iter()
            .enumerate()
            .map(|(index, account)| {
                // Operator tokens were made a while ago: ten days into their sixty.
                let issued_at = epoch - chrono::Duration::days(10);
                SimToken {
                    token: token_text(&mut rng, account.spec.flavour),
                    account: index,
                    also: Vec::new(),
                    scopes: all_scopes(account.spec.flavour),
                    flavour: account.spec.flavour,
                    issued_at,
                    expires_at: issued_at + chrono::Duration::days(TOKEN_DAYS),
                    revoked: None,
                    calls: 0,
                    budget: DEFAULT_BUDGET,
                }
            })
            .collect();
        let state = Arc::new(SimState {
            inner: Mutex::new(Inner {
                accounts,
                public,
                tokens,
                codes: Vec::new(),
                faults: Faults::default(),
                offset: chrono::Duration::zero(),
                rng,
                requests: 0,
                containers: Vec::new(),
                fetch_queue: Vec::new(),
                publishes: Vec::new(),
                publish_quota: DEFAULT_PUBLISH_QUOTA,
                video_processing: DEFAULT_VIDEO_PROCESSING,
                comments: Vec::new(),
                brought: std::collections::HashMap::new(),
                comment_pages: 0,
                mentions: Vec::new(),
            }),
            config,
            epoch,
        });
        let listener = TcpListener::bind(bind).with_context(|| format!("the simulator cannot listen on {bind}"))?;
        let address = listener.local_addr()?;
        let data = web::Data::from(state.clone());
        let server =
            HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(server::answer)))
                .workers(1)
                .disable_signals()
                .listen(listener)?
                .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Simulator { base_url: format!("http://{address}"), state, handle })
    }

    /// The URL that stands in for both Graph hosts (`TIDEMARK_GRAPH_BASE_URL`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }

    /// The usernames of the public accounts (the ones only Business Discovery reads).
    pub fn public_usernames(&self) -> Vec<String> {
        self.state.lock().public.iter().map(|a| a.spec.username.clone()).collect()
    }

    /// What Business Discovery answers for a public account at `at`: (followers, posts).
    pub fn public_figures(&self, username: &str, at: DateTime<Utc>) -> Option<(i64, usize)> {
        let inner = self.state.lock();
        let account = inner.public.iter().find(|a| a.spec.username == username)?;
        let posts = account.media.iter().filter(|m| m.product != "STORY" && !m.deleted && m.posted_at <= at).count();
        Some((account.followers_at(self.state.epoch, at), posts))
    }

    pub fn account_count(&self) -> usize {
        self.state.lock().accounts.len()
    }

    /// The operator token of account `index`.
    pub fn token(&self, index: usize) -> String {
        self.state.lock().tokens.iter().find(|t| t.account == index).map(|t| t.token.clone()).unwrap_or_default()
    }

    pub fn ig_user_id(&self, index: usize) -> String {
        self.state.lock().accounts[index].ig_user_id.clone()
    }

    pub fn username(&self, index: usize) -> String {
        self.state.lock().accounts[index].spec.username.clone()
    }

    /// Ids of the account's media that the media list shows now (not stories), newest first.
    pub fn listed_media_ids(&self, index: usize) -> Vec<String> {
        let inner = self.state.lock();
        let now = inner.now();
        inner.accounts[index]
            .media
            .iter()
            .filter(|m| m.product != "STORY" && !m.deleted && m.posted_at <= now)
            .map(|m| m.id.clone())
            .collect()
    }

    /// Every token issued for account `index` (the operator's, refreshed and exchanged ones).
    pub fn tokens_of(&self, index: usize) -> Vec<String> {
        self.state.lock().tokens.iter().filter(|t| t.account == index).map(|t| t.token.clone()).collect()
    }

    /// A new token for account `index`, issued `age` ago and valid for `days` from then.
    pub fn issue_token(&self, index: usize, age: chrono::Duration, days: i64) -> String {
        let mut inner = self.state.lock();
        let flavour = inner.accounts[index].spec.flavour;
        let issued_at = inner.now() - age;
        let token = token_text(&mut inner.rng, flavour);
        inner.tokens.push(SimToken {
            token: token.clone(),
            account: index,
            also: Vec::new(),
            scopes: all_scopes(flavour),
            flavour,
            issued_at,
            expires_at: issued_at + chrono::Duration::days(days),
            revoked: None,
            calls: 0,
            budget: DEFAULT_BUDGET,
        });
        token
    }

    /// Makes a token expired (190/463) as of now.
    pub fn expire_token(&self, token: &str) {
        self.with_token(token, |t, now| t.expires_at = now - chrono::Duration::minutes(1));
    }

    /// Revokes a token with a 190 subcode (460: password changed; 467: invalid).
    pub fn revoke_token(&self, token: &str, subcode: i64) {
        self.with_token(token, |t, _| t.revoked = Some(subcode));
    }

    /// Calls the token may make before the API answers 80002.
    pub fn set_budget(&self, token: &str, calls: u64) {
        self.with_token(token, |t, _| {
            t.budget = calls;
            t.calls = 0;
        });
    }

    pub fn calls_made(&self, token: &str) -> u64 {
        self.state.lock().tokens.iter().find(|t| t.token == token).map_or(0, |t| t.calls)
    }

    fn with_token(&self, token: &str, change: impl FnOnce(&mut SimToken, DateTime<Utc>)) {
        let mut inner = self.state.lock();
        let now = inner.now();
        if let Some(t) = inner.tokens.iter_mut().find(|t| t.token == token) {
            change(t, now);
        }
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state.lock().faults = faults;
    }

    /// Pages of media comments answered so far.
    pub fn comment_pages(&self) -> u64 {
        self.state.lock().comment_pages
    }

    /// Requests answered so far (all endpoints, all tokens).
    pub fn requests(&self) -> u64 {
        self.state.lock().requests
    }

    /// Moves the simulated clock forward: posts age and their metrics grow.
    pub fn advance(&self, by: chrono::Duration) {
        self.state.lock().offset += by;
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.state.lock().now()
    }

    /// The simulator's clock, for a sync that should live in the same (movable) time.
    pub fn clock(&self) -> crate::domain::Clock {
        let state = self.state.clone();
        Arc::new(move || state.lock().now())
    }

    /// The media disappears from the list, as when deleted on Instagram.
    pub fn delete_media(&self, media_id: &str) {
        let mut inner = self.state.lock();
        for media in inner.accounts.iter_mut().flat_map(|a| a.media.iter_mut()) {
            if media.id == media_id {
                media.deleted = true;
            }
        }
    }

    /// Publishes a new post now; returns its id.
    pub fn publish(&self, index: usize, reel: bool) -> String {
        let mut inner = self.state.lock();
        let now = inner.now();
        let n = 50_000 + inner.accounts[index].media.len();
        let spec = inner.accounts[index].spec.clone();
        let (media_type, product) = if reel { ("VIDEO", "REELS") } else { ("IMAGE", "FEED") };
        let media = make_media(&mut inner.rng, &spec, index, n, media_type, product, now, false);
        let id = media.id.clone();
        inner.accounts[index].media.insert(0, media);
        id
    }

    /// Publishes a story now (it has too few viewers for insights at first).
    pub fn publish_story(&self, index: usize) -> String {
        let mut inner = self.state.lock();
        let now = inner.now();
        let n = 60_000 + inner.accounts[index].media.len();
        let spec = inner.accounts[index].spec.clone();
        let media = make_media(&mut inner.rng, &spec, index, n, "IMAGE", "STORY", now, false);
        let id = media.id.clone();
        inner.accounts[index].media.insert(0, media);
        id
    }

    /// The simulator's own figures for a media at the simulated now (for tests to compare).
    pub fn media_metrics(&self, media_id: &str) -> Option<std::collections::BTreeMap<&'static str, f64>> {
        let inner = self.state.lock();
        let now = inner.now();
        inner.accounts.iter().flat_map(|a| &a.media).find(|m| m.id == media_id).map(|m| m.metrics_at(now))
    }

    /// A media of the given product type (`FEED`, `REELS`, `STORY`) and media type, if any.
    pub fn find_media(&self, index: usize, product: &str, media_type: &str) -> Option<String> {
        let inner = self.state.lock();
        inner.accounts[index]
            .media
            .iter()
            .find(|m| m.product == product && m.media_type == media_type && !m.pre_conversion && !m.deleted)
            .map(|m| m.id.clone())
    }

    /// A media posted before the account's business conversion (no insights).
    pub fn pre_conversion_media(&self, index: usize) -> Option<String> {
        let inner = self.state.lock();
        inner.accounts[index].media.iter().find(|m| m.pre_conversion).map(|m| m.id.clone())
    }

    /// The media of account `index` as the simulator holds them (posts and stories).
    pub fn media(&self, index: usize) -> Vec<world::SimMedia> {
        self.state.lock().accounts[index].media.clone()
    }

    /// What a read of account `index`'s audience at `at` finds, as Tidemark stores it: the
    /// demographics of that day and each UTC hour's mean over the week before (nothing below
    /// 100 followers). The demo's history is written from it; the tests compare with it.
    pub fn audience(&self, index: usize, at: DateTime<Utc>) -> Vec<crate::domain::AudienceFigure> {
        use crate::domain::{AudienceDimension, AudienceFigure};
        let inner = self.state.lock();
        let account = &inner.accounts[index];
        let followers = account.followers_at(self.state.epoch, at);
        if followers < 100 {
            return Vec::new();
        }
        let today = (at - self.state.epoch).num_seconds().div_euclid(86_400);
        let mut figures: Vec<AudienceFigure> = AudienceDimension::DEMOGRAPHICS
            .iter()
            .flat_map(|&dimension| {
                account
                    .demographics(dimension.as_str(), followers, today)
                    .into_iter()
                    .map(move |(key, n)| AudienceFigure { dimension, key, followers: n as i64 })
            })
            .collect();
        let week_start = (at - chrono::Duration::days(7) - self.state.epoch).num_seconds().div_euclid(86_400);
        let days: Vec<[f64; 24]> = (week_start..today).map(|d| account.online_by_utc_hour(followers, d)).collect();
        figures.extend((0..24).map(|hour| AudienceFigure {
            dimension: AudienceDimension::OnlineHour,
            key: hour.to_string(),
            followers: (days.iter().map(|d| d[hour]).sum::<f64>() / days.len().max(1) as f64).round() as i64,
        }));
        figures
    }

    /// Followers of account `index` at `at` (the count grows slowly over time).
    pub fn followers_at(&self, index: usize, at: DateTime<Utc>) -> i64 {
        self.state.lock().accounts[index].followers_at(self.state.epoch, at)
    }

    /// Account `index`'s figures for the day `at` falls in (the same the insights endpoint gives).
    pub fn day_metrics(&self, index: usize, at: DateTime<Utc>) -> std::collections::BTreeMap<&'static str, f64> {
        let day = (at - self.state.epoch).num_seconds().div_euclid(86_400);
        self.state.lock().accounts[index].day_metrics(day)
    }

    /// Sets the publishing quota (posts per rolling 24 hours) and how long videos process.
    pub fn set_publishing(&self, quota: i64, video_processing: Duration) {
        let mut inner = self.state.lock();
        inner.publish_quota = quota;
        inner.video_processing = video_processing;
    }

    /// Makes a container EXPIRED now, as if 24 hours had passed for it alone.
    pub fn expire_container(&self, container_id: &str) {
        let mut inner = self.state.lock();
        if let Some(container) = inner.containers.iter_mut().find(|c| c.id == container_id) {
            container.forced_expired = true;
        }
    }

    /// Containers made so far (items, carousels, single media), oldest first: (id, status_code).
    pub fn containers(&self) -> Vec<(String, String)> {
        let inner = self.state.lock();
        let now = inner.now();
        let processing = inner.video_processing;
        inner
            .containers
            .iter()
            .map(|c| (c.id.clone(), inner.container_state(c, now, processing).0.to_owned()))
            .collect()
    }

    /// Media of account `index` published through the API, newest first: (id, media_type, product, caption).
    pub fn published(&self, index: usize) -> Vec<(String, String, String, Option<String>)> {
        let inner = self.state.lock();
        let ids: Vec<&String> =
            inner.containers.iter().filter(|c| c.account == index).filter_map(|c| c.published_media.as_ref()).collect();
        inner.accounts[index]
            .media
            .iter()
            .filter(|m| ids.contains(&&m.id))
            .map(|m| (m.id.clone(), m.media_type.to_owned(), m.product.to_owned(), m.caption.clone()))
            .collect()
    }

    /// Texts the account itself commented on a media (first comments, replies), oldest first.
    pub fn comments_on(&self, media_id: &str) -> Vec<String> {
        let inner = self.state.lock();
        inner
            .comments
            .iter()
            .filter(|c| c.media_id == media_id && !c.deleted && inner.accounts[c.account].spec.username == c.username)
            .map(|c| c.text.clone())
            .collect()
    }

    /// A comment as Instagram holds it now: (text, hidden, deleted, parent id).
    pub fn comment(&self, comment_id: &str) -> Option<(String, bool, bool, Option<String>)> {
        let inner = self.state.lock();
        inner
            .comments
            .iter()
            .find(|c| c.id == comment_id)
            .map(|c| (c.text.clone(), c.hidden, c.deleted, c.parent_id.clone()))
    }

    /// The account's answers to a mention, oldest first.
    pub fn mention_replies(&self, comment_id: &str) -> Vec<String> {
        self.state
            .lock()
            .mentions
            .iter()
            .find(|m| m.comment_id == comment_id)
            .map(|m| m.replies.clone())
            .unwrap_or_default()
    }

    /// Live comments (and replies) on a media, after giving it those its curve has brought.
    pub fn comment_count(&self, media_id: &str) -> usize {
        let mut inner = self.state.lock();
        let now = inner.now();
        inner.bring_comments(media_id, now);
        inner.comments.iter().filter(|c| c.media_id == media_id && !c.deleted).count()
    }

    /// Flavour of account `index`.
    pub fn flavour(&self, index: usize) -> Flavour {
        self.state.lock().accounts[index].spec.flavour
    }
}
