//! The snapshot job: for every active account, list its media, record new and changed
//! posts, and snapshot the posts that are due at their age's cadence.
//!
//! [`run`] is what the scheduler, the "Sync now" buttons, `tidemark sync` and the tests
//! call. One PostgreSQL advisory lock keeps two processes from syncing at once; within a
//! cycle, every batch of snapshots is its own transaction, so a crash loses nothing that
//! was committed and the next tick carries on.

pub mod cadence;
pub mod competitors;
pub mod hashtags;
pub mod pictures;
pub mod retention;
pub mod rollup;
pub mod scheduler;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use diesel_async::AsyncPgConnection;
use tracing::Instrument;

use self::cadence::Cadence;
use crate::config::MetaApps;
use crate::crypto::TokenKey;
use crate::db::account_history::{self, DailyInsights, NewAccountSnapshot};
use crate::db::accounts::{Account, token_binding};
use crate::db::comments::{self, NewComment};
use crate::db::locks::{self, Exclusive};
use crate::db::posts::{self, ListedPost, LivePost};
use crate::db::settings::OperatorSettings;
use crate::db::snapshots::{NewSnapshot, SnapshotWriter, WriteMark};
use crate::db::sync_runs::{self, RunReport};
use crate::db::thumbnails;
use crate::db::{self, dropped_metrics};
use crate::domain::{AccountId, AccountStatus, Clock, Flavour, PostId, SyncOutcome, SyncRunId, Trigger};
use crate::graph::comments::GraphComment;
use crate::graph::{AccessToken, Action, GraphClient, GraphError, GraphSession, Insights, Media, MetricRegistry};
use crate::telemetry::metrics::{Metrics, OutcomeLabels, ProblemLabels};
use futures_util::stream::{self, StreamExt};

/// Posts whose insights are fetched before the gathered snapshots may be written.
const FETCH_BATCH: usize = 200;
/// Snapshots gathered before they are written, in one transaction: each transaction's fixed
/// cost (lock, round trips, commit) is spread over this many rows (BENCHMARKS.md §2).
pub const WRITE_BATCH: usize = 2000;
/// Insights requests in flight at once for one account.
const INSIGHTS_IN_FLIGHT: usize = 8;
/// Accounts synced at once (each with its own insights requests in flight): Meta counts calls
/// per app and account (graph-api.md §5.2), so accounts side by side share no budget.
const ACCOUNTS_IN_FLIGHT: usize = 4;
/// Account counters are recorded at most this often.
const ACCOUNT_SNAPSHOT_EVERY: Duration = Duration::hours(1);
/// A rate limit without a stated wait pauses the account this long.
const DEFAULT_PAUSE: Duration = Duration::minutes(15);
/// The sync reads comments of posts published within this many days.
const COMMENT_POSTS_DAYS: i64 = 7;
/// Posts whose comments are read in one cycle (the rest wait for the next).
const COMMENT_POSTS_PER_CYCLE: usize = 10;
/// Pages of 50 comments read per post and cycle.
const COMMENT_PAGES: u32 = 4;
/// Post pictures fetched in one cycle and account (newest first; the rest wait for the next).
const PICTURES_PER_CYCLE: i64 = 24;
/// Picture downloads in flight at once.
const PICTURES_IN_FLIGHT: usize = 4;
/// A picture that could not be kept is tried again after this long.
const PICTURE_RETRY: Duration = Duration::hours(24);
/// How often an account's audience is read.
const AUDIENCE_READ_EVERY: Duration = Duration::days(7);
/// The permissions that let an app read and manage comments (graph-api.md §8).
const COMMENT_SCOPES: &[&str] = &["instagram_business_manage_comments", "instagram_manage_comments"];

/// Everything a sync needs. The Graph client and the token key stay inside: only the
/// sync (and the services that own one) reach Meta or open a token.
pub struct SyncContext {
    pool: db::Pool,
    /// For the advisory-lock connection, which must not go back to the pool while locked.
    database_url: String,
    graph: GraphClient,
    key: TokenKey,
    clock: Clock,
    /// Held while a cycle runs, so shutdown can wait for it.
    in_flight: tokio::sync::Mutex<()>,
    metrics: Arc<Metrics>,
    /// The operator's Meta apps: Facebook Login tokens are re-exchanged with theirs.
    apps: MetaApps,
}

impl SyncContext {
    pub fn new(pool: db::Pool, database_url: &str, graph: GraphClient, key: TokenKey, clock: Clock) -> Self {
        Self {
            pool,
            database_url: database_url.to_owned(),
            graph,
            key,
            clock,
            in_flight: tokio::sync::Mutex::new(()),
            metrics: Arc::new(Metrics::new()),
            apps: MetaApps::default(),
        }
    }

    /// Re-exchanges Facebook Login tokens with the operator's app before they expire.
    pub fn with_apps(mut self, apps: MetaApps) -> Self {
        self.apps = apps;
        self
    }

    /// Counts into `metrics` (the application's, exposed at `/metrics`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    pub fn pool(&self) -> &db::Pool {
        &self.pool
    }

    /// Closes the runs a process that died left "running" (at start-up), unless a sync of
    /// another process holds the lock right now: then they may be its own.
    pub async fn close_abandoned_runs(&self) -> anyhow::Result<usize> {
        let Some(lock) = locks::try_take(&self.database_url, Exclusive::Sync).await? else {
            return Ok(0);
        };
        let mut conn = self.pool.get().await.context("no database connection")?;
        let closed = sync_runs::close_abandoned(&mut conn, self.now()).await;
        lock.release().await;
        let closed = closed?;
        if closed > 0 {
            tracing::warn!(closed, "sync runs left running by a stopped process were closed as interrupted");
        }
        Ok(closed)
    }

    /// Applies every retention rule now (see [`retention`]).
    pub async fn purge(&self) -> anyhow::Result<crate::db::retention::PurgeCounts> {
        retention::purge(&self.pool, &self.database_url, self.now()).await
    }

    /// The latest rate-limit usage the API reported, in percent, by Instagram user id.
    pub fn rate_usage(&self) -> HashMap<String, u32> {
        self.graph.rates().all_usage().into_iter().collect()
    }

    /// Something the sync could not record about itself: logged as an error and counted
    /// (`tidemark_sync_bookkeeping_errors_total`), never dropped.
    fn problem(&self, what: &str, message: &str) {
        tracing::error!(what, error = message, "sync bookkeeping failed");
        self.metrics.sync_problems.get_or_create(&ProblemLabels { what: what.to_owned() }).inc();
    }

    /// Waits (up to `grace`) for a running cycle to finish; false if one is still running.
    pub async fn wait_idle(&self, grace: std::time::Duration) -> bool {
        tokio::time::timeout(grace, self.in_flight.lock()).await.is_ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Account(AccountId),
}

/// What one run did, across accounts.
#[derive(Debug, Clone, Default)]
pub struct SyncSummary {
    pub accounts: usize,
    pub failed_accounts: usize,
    pub posts_seen: usize,
    pub snapshots_written: usize,
    pub api_calls: u32,
    /// `@username: what went wrong`, without secrets.
    pub errors: Vec<String>,
}

impl std::fmt::Display for SyncSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} account(s), {} post(s) seen, {} snapshot(s) written, {} API call(s), {} error(s)",
            self.accounts,
            self.posts_seen,
            self.snapshots_written,
            self.api_calls,
            self.errors.len()
        )
    }
}

#[derive(Debug)]
pub enum RunResult {
    Ran(SyncSummary),
    /// Another process (or task) holds the sync lock; nothing was done.
    Busy,
}

/// One sync cycle over every due account (or one). Accounts fail independently.
pub async fn run(ctx: &SyncContext, scope: Scope, trigger: Trigger) -> anyhow::Result<RunResult> {
    let _in_flight = ctx.in_flight.lock().await;
    let Some(lock) = locks::try_take(&ctx.database_url, Exclusive::Sync).await? else {
        tracing::info!("another sync is running; this one is skipped");
        return Ok(RunResult::Busy);
    };
    let result = run_locked(ctx, scope, trigger).await;
    lock.release().await;
    result.map(RunResult::Ran)
}

async fn run_locked(ctx: &SyncContext, scope: Scope, trigger: Trigger) -> anyhow::Result<SyncSummary> {
    let now = ctx.now();
    let mut conn = ctx.pool.get().await.context("no database connection for the sync")?;
    // Holding the lock, anything still "running" was left by a process that died.
    sync_runs::close_abandoned(&mut conn, now).await?;
    let settings = OperatorSettings::load(&mut conn).await?;
    let registry =
        MetricRegistry::with_exclusions(dropped_metrics::all(&mut conn).await?.iter().map(|d| d.to_dropped()));
    let accounts: Vec<Account> = match scope {
        Scope::All => Account::due_for_sync(&mut conn, now).await?,
        Scope::Account(id) => {
            let account = Account::find(&mut conn, id).await?.with_context(|| format!("there is no account {id}"))?;
            if account.status != AccountStatus::Active {
                anyhow::bail!("account {id} is {}: it is not synced", account.status);
            }
            // A rate-limit pause holds for a manual sync too: calling early only extends it.
            if let Some(until) = account.paused_until.filter(|until| *until > now) {
                anyhow::bail!("account {id} is paused by a rate limit until {}", until.format("%Y-%m-%d %H:%M UTC"));
            }
            vec![account]
        }
    };
    drop(conn);

    let mut summary = SyncSummary::default();
    for (account, report) in accounts.iter().zip(sync_accounts(ctx, &accounts, &settings, &registry, trigger).await) {
        summary.accounts += 1;
        summary.posts_seen += usize::try_from(report.posts_seen).unwrap_or(0);
        summary.snapshots_written += usize::try_from(report.snapshots_written).unwrap_or(0);
        summary.api_calls += u32::try_from(report.api_calls).unwrap_or(0);
        if let Some(message) = &report.error_message {
            summary.errors.push(format!("@{}: {message}", account.username));
        }
        if report.error_kind.is_some() && report.snapshots_written == 0 && report.posts_seen == 0 {
            summary.failed_accounts += 1;
        }
    }
    if scope == Scope::All {
        match competitors::read_due(ctx, now).await {
            Ok(read) => {
                summary.api_calls += read.api_calls;
                if read != competitors::CompetitorSummary::default() {
                    tracing::info!(
                        read = read.read,
                        not_found = read.not_found,
                        failed = read.failed,
                        "competitors read"
                    );
                }
            }
            Err(err) => tracing::warn!(error = format!("{err:#}"), "competitors could not be read"),
        }
    }
    tracing::info!(%summary, "sync finished");
    Ok(summary)
}

/// Runs each account's cycle, [`ACCOUNTS_IN_FLIGHT`] at a time, and returns their reports in
/// the accounts' order. A cycle spends most of its time waiting on the API; one account after
/// another, a tick with nothing due took 1.5 s per account at 50 ms a call, so a hundred
/// accounts' tick would outlast the 15-minute schedule at Meta's real latencies
/// (BENCHMARKS.md, the curve). Each lane takes the next account when it is done with one, and
/// keeps its own snapshot writer (a connection of its own, opened at first use).
async fn sync_accounts(
    ctx: &SyncContext,
    accounts: &[Account],
    settings: &OperatorSettings,
    registry: &MetricRegistry,
    trigger: Trigger,
) -> Vec<RunReport> {
    let next = AtomicUsize::new(0);
    let lane = async || {
        let mut writer = None;
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(account) = accounts.get(index) else { break };
            done.push((index, sync_account(ctx, account, settings, registry, trigger, &mut writer).await));
        }
        done
    };
    let lanes = ACCOUNTS_IN_FLIGHT.min(accounts.len());
    let mut reports: Vec<(usize, RunReport)> =
        futures_util::future::join_all((0..lanes).map(|_| lane())).await.into_iter().flatten().collect();
    reports.sort_by_key(|(index, _)| *index);
    reports.into_iter().map(|(_, report)| report).collect()
}

/// Why an account's cycle stopped early.
enum Stop {
    Graph(GraphError),
    /// The token is missing or the key does not open it: nothing can be asked of Meta.
    Undecryptable(String),
    Other(anyhow::Error),
}

impl From<GraphError> for Stop {
    fn from(err: GraphError) -> Self {
        Stop::Graph(err)
    }
}

impl From<anyhow::Error> for Stop {
    fn from(err: anyhow::Error) -> Self {
        Stop::Other(err)
    }
}

impl From<diesel::result::Error> for Stop {
    fn from(err: diesel::result::Error) -> Self {
        Stop::Other(anyhow::Error::new(err).context("database"))
    }
}

impl From<tokio_postgres::Error> for Stop {
    fn from(err: tokio_postgres::Error) -> Self {
        Stop::Other(anyhow::Error::new(err).context("database"))
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for Stop {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Stop::Other(anyhow::Error::new(err).context("no database connection"))
    }
}

/// One account's cycle, recorded as a sync run. Never fails: what went wrong is in the report.
async fn sync_account(
    ctx: &SyncContext,
    account: &Account,
    settings: &OperatorSettings,
    registry: &MetricRegistry,
    trigger: Trigger,
    writer: &mut Option<SnapshotWriter>,
) -> RunReport {
    // Account ids only: a deleted account must leave no name behind in the logs.
    let span = tracing::info_span!("sync_account", account_id = account.id.0);
    sync_account_in_span(ctx, account, settings, registry, trigger, writer).instrument(span).await
}

async fn sync_account_in_span(
    ctx: &SyncContext,
    account: &Account,
    settings: &OperatorSettings,
    registry: &MetricRegistry,
    trigger: Trigger,
    writer: &mut Option<SnapshotWriter>,
) -> RunReport {
    let started = ctx.now();
    // A cycle that cannot be recorded does not run: the sync page must show every cycle.
    let run_id = match start_run(ctx, account.id, trigger, started).await {
        Ok(run_id) => run_id,
        Err(err) => {
            let message = format!("the sync run could not be recorded, so the cycle did not start: {err:#}");
            ctx.problem("record_run", &message);
            return RunReport {
                error_kind: Some("database".into()),
                error_message: Some(message),
                ..RunReport::default()
            };
        }
    };
    let mut cycle = Cycle {
        ctx,
        account,
        settings,
        registry,
        writer,
        now: started,
        report: RunReport::default(),
        soft_errors: Vec::new(),
    };
    let result = cycle.run().await;
    let outcome = match result {
        Ok(()) if cycle.soft_errors.is_empty() => SyncOutcome::Success,
        Ok(()) => {
            let (kind, message) = cycle.soft_errors[0].clone();
            cycle.report.error_kind = Some(kind);
            cycle.report.error_message =
                Some(format!("{message} ({} problem(s) in this cycle)", cycle.soft_errors.len()));
            SyncOutcome::Partial
        }
        Err(stop) => {
            let (kind, message) = cycle.stopped(stop).await;
            cycle.report.error_kind = Some(kind);
            cycle.report.error_message = Some(message);
            SyncOutcome::Failed
        }
    };
    ctx.metrics.sync_runs.get_or_create(&OutcomeLabels { outcome: outcome.as_str().to_owned() }).inc();
    ctx.metrics.snapshots_written.inc_by(u64::try_from(cycle.report.snapshots_written).unwrap_or(0));
    let finished = ctx.now();
    if let Err(err) = finish_run(ctx, run_id, outcome, &cycle.report, finished).await {
        // The row stays "running" until the next cycle closes it as interrupted.
        ctx.problem("finish_run", &format!("the end of the sync run could not be recorded: {err:#}"));
    }
    tracing::info!(
        outcome = outcome.as_str(),
        api_calls = cycle.report.api_calls,
        posts_seen = cycle.report.posts_seen,
        snapshots_written = cycle.report.snapshots_written,
        error = cycle.report.error_message.as_deref().unwrap_or(""),
        "account synced"
    );
    cycle.report
}

async fn start_run(
    ctx: &SyncContext,
    account: AccountId,
    trigger: Trigger,
    at: DateTime<Utc>,
) -> anyhow::Result<SyncRunId> {
    let mut conn = ctx.pool.get().await.context("no database connection")?;
    Ok(sync_runs::start(&mut conn, account, trigger, at).await?)
}

async fn finish_run(
    ctx: &SyncContext,
    run: SyncRunId,
    outcome: SyncOutcome,
    report: &RunReport,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut conn = ctx.pool.get().await.context("no database connection")?;
    Ok(sync_runs::finish(&mut conn, run, outcome, report, at).await?)
}

struct Cycle<'a> {
    ctx: &'a SyncContext,
    account: &'a Account,
    settings: &'a OperatorSettings,
    registry: &'a MetricRegistry,
    writer: &'a mut Option<SnapshotWriter>,
    now: DateTime<Utc>,
    report: RunReport,
    /// Problems that did not stop the cycle: (kind, message).
    soft_errors: Vec<(String, String)>,
}

impl Cycle<'_> {
    async fn run(&mut self) -> Result<(), Stop> {
        let token = self.open_token()?;
        let session = self.ctx.graph.session(&token, self.account.flavour);
        let result = self.with_session(&session).await;
        self.report.api_calls = i32::try_from(session.calls()).unwrap_or(i32::MAX);
        result?;
        self.refresh_token_if_due(&token).await;
        let mut conn = self.ctx.pool.get().await?;
        Account::mark_synced(&mut conn, self.account.id, self.now).await?;
        rollup::refresh_account(&mut conn, self.account.id, self.now).await?;
        Ok(())
    }

    fn open_token(&self) -> Result<AccessToken, Stop> {
        let sealed = self.account.token().ok_or_else(|| Stop::Undecryptable("the account has no token".into()))?;
        let binding = token_binding(&self.account.ig_user_id);
        self.ctx
            .key
            .open(&sealed.ciphertext, &sealed.nonce, sealed.key_version, &binding)
            .map(AccessToken::new)
            .map_err(|err| {
                Stop::Undecryptable(format!(
                    "the stored token cannot be decrypted with the current TIDEMARK_TOKEN_KEY: {err}"
                ))
            })
    }

    async fn with_session(&mut self, session: &GraphSession<'_>) -> Result<(), Stop> {
        let ig_id = self.account.ig_user_id.as_str();
        let profile = session.profile(ig_id).await?;
        let mut conn = self.ctx.pool.get().await?;
        Account::record_profile(&mut conn, self.account.id, &profile).await?;
        let last = account_history::latest_snapshot_at(&mut conn, self.account.id).await?;
        if last.is_none_or(|last| self.now - last >= ACCOUNT_SNAPSHOT_EVERY - Duration::minutes(5)) {
            let snapshot = NewAccountSnapshot {
                account_id: self.account.id,
                captured_at: self.now,
                followers_count: profile.followers_count,
                follows_count: profile.follows_count,
                media_count: profile.media_count,
            };
            account_history::insert_snapshot(&mut conn, &snapshot).await?;
        }
        drop(conn);

        let window_start = self.settings.window_start(self.now);
        let list = session.media_since(ig_id, window_start).await?;
        let stories = match session.stories(ig_id).await {
            Ok(stories) => stories.media,
            Err(err) if matches!(err.action(), Action::Reconnect | Action::Wait) => return Err(err.into()),
            Err(err) => {
                self.soft(&err);
                Vec::new()
            }
        };
        let listed: HashMap<&str, &Media> = list.media.iter().chain(&stories).map(|m| (m.id.as_str(), m)).collect();
        self.report.posts_seen = i32::try_from(listed.len()).unwrap_or(i32::MAX);
        self.record_posts(&list.media, &stories, list.complete, window_start).await?;
        self.snapshot_due_posts(session, &listed, window_start).await?;
        self.keep_pictures(session, &listed).await?;
        self.read_comments(session, &list.media).await?;
        self.record_account_day(session).await?;
        self.record_audience(session, profile.followers_count).await
    }

    /// Keeps a small copy of the pictures of listed posts that have none yet, while the
    /// listing's addresses are fresh. A picture that cannot be fetched or read is recorded
    /// with the reason and tried again a day later; it never fails the cycle.
    async fn keep_pictures(&mut self, session: &GraphSession<'_>, listed: &HashMap<&str, &Media>) -> Result<(), Stop> {
        let with_picture: Vec<&str> =
            listed.values().filter(|m| m.picture_url().is_some()).map(|m| m.id.as_str()).collect();
        if with_picture.is_empty() {
            return Ok(());
        }
        let mut conn = self.ctx.pool.get().await?;
        let missing = thumbnails::missing(
            &mut conn,
            self.account.id,
            &with_picture,
            self.now - PICTURE_RETRY,
            PICTURES_PER_CYCLE,
        )
        .await?;
        drop(conn);
        let fetched: Vec<(PostId, Result<Vec<u8>, String>)> = stream::iter(missing)
            .map(|(post, media_id)| {
                let url = listed.get(media_id.as_str()).and_then(|m| m.picture_url()).unwrap_or_default().to_owned();
                async move {
                    let picture = match session.picture(&url, pictures::MAX_DOWNLOAD).await {
                        Ok(bytes) => tokio::task::spawn_blocking(move || pictures::shrink(&bytes))
                            .await
                            .unwrap_or_else(|_| Err("the picture could not be made small".to_owned())),
                        Err(problem) => Err(problem),
                    };
                    (post, picture)
                }
            })
            .buffer_unordered(PICTURES_IN_FLIGHT)
            .collect()
            .await;
        let mut conn = self.ctx.pool.get().await?;
        for (post, picture) in fetched {
            if let Err(problem) = &picture {
                tracing::warn!(post_id = %post, problem = %problem, "a post's picture could not be kept");
            }
            thumbnails::store(&mut conn, post, picture.as_deref().map_err(String::as_str), self.now).await?;
        }
        Ok(())
    }

    /// Reads the comments of recent posts whose `comments_count` moved since the last read,
    /// a few posts per cycle and a few pages per post (newest first, stopping at comments
    /// already stored). Webhooks bring comments within seconds; this keeps the inbox whole
    /// when they cannot reach Tidemark. Posts older than [`COMMENT_POSTS_DAYS`] are left to
    /// the webhooks, to stay within the API budget.
    async fn read_comments(&mut self, session: &GraphSession<'_>, media: &[Media]) -> Result<(), Stop> {
        let scopes = self.account.scopes();
        // A connection that did not grant comment management cannot read comments (§8).
        if !scopes.is_empty() && !scopes.iter().any(|s| COMMENT_SCOPES.contains(&s.as_str())) {
            return Ok(());
        }
        let counts: Vec<(String, i64)> =
            media.iter().filter_map(|m| m.comments_count.map(|count| (m.id.clone(), count))).collect();
        let due = {
            let mut conn = self.ctx.pool.get().await?;
            comments::posts_to_read(&mut conn, self.account.id, &counts, self.now - Duration::days(COMMENT_POSTS_DAYS))
                .await?
        };
        let ig_user_id = self.account.ig_user_id.as_str();
        for (media_id, count) in due.into_iter().take(COMMENT_POSTS_PER_CYCLE) {
            let known: HashSet<String> = {
                let mut conn = self.ctx.pool.get().await?;
                comments::ids_on(&mut conn, self.account.id, &media_id).await?.into_iter().collect()
            };
            let started = self.ctx.now();
            let read = match session.comments(ig_user_id, &media_id, &|id| known.contains(id), COMMENT_PAGES).await {
                Ok(read) => read,
                Err(err) if err.action() == Action::Wait => return Err(err.into()),
                Err(err) => {
                    self.soft(&err);
                    // Without the permission, no other post's comments can be read either.
                    if err.action() == Action::Reconnect {
                        return Ok(());
                    }
                    continue;
                }
            };
            let mut rows = Vec::new();
            for mut top in read.comments {
                for reply in top.take_replies() {
                    rows.extend(self.comment_row(&media_id, Some(top.id.clone()), reply));
                }
                rows.extend(self.comment_row(&media_id, None, top));
            }
            let mut conn = self.ctx.pool.get().await?;
            comments::record_read(&mut conn, &rows, started).await?;
            if read.complete {
                let listed: Vec<String> = rows.iter().map(|r| r.comment_id.clone()).collect();
                comments::remove_unlisted(&mut conn, self.account.id, &media_id, &listed, started).await?;
            }
            comments::mark_read(&mut conn, self.account.id, &media_id, count).await?;
        }
        Ok(())
    }

    /// A comment as stored; `None` (logged) when its id is not Instagram's digits, which the
    /// table would refuse and which names nothing Tidemark could act on.
    fn comment_row(&self, media_id: &str, parent: Option<String>, comment: GraphComment) -> Option<NewComment> {
        let digits = |id: &str| !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit());
        if !digits(&comment.id) || parent.as_deref().is_some_and(|p| !digits(p)) {
            tracing::warn!("a comment with a malformed id was skipped");
            return None;
        }
        Some(NewComment {
            account_id: self.account.id,
            comment_id: comment.id,
            media_id: media_id.to_owned(),
            parent_id: parent,
            // PostgreSQL stores no NUL in text; nothing legitimate carries one.
            username: comment.username.map(|u| u.replace('\0', "")),
            text: comment.text.replace('\0', ""),
            commented_at: comment.timestamp,
            source: "sync",
            hidden: comment.hidden,
        })
    }

    async fn record_posts(
        &mut self,
        media: &[Media],
        stories: &[Media],
        complete: bool,
        window_start: Option<DateTime<Utc>>,
    ) -> Result<(), Stop> {
        let rows: Vec<ListedPost<'_>> = media
            .iter()
            .chain(stories)
            .map(|m| ListedPost {
                account_id: self.account.id,
                media_id: &m.id,
                caption: m.caption.as_deref(),
                media_type: m.media_type.as_deref().unwrap_or("IMAGE"),
                media_product_type: m.media_product_type.as_deref(),
                permalink: m.permalink.as_deref(),
                posted_at: m.timestamp,
                hashtags: m
                    .caption
                    .as_deref()
                    .map(hashtags::extract)
                    .unwrap_or_default()
                    .into_iter()
                    .map(Some)
                    .collect(),
            })
            .collect();
        let mut conn = self.ctx.pool.get().await?;
        let (_, new) = posts::upsert_listed(&mut conn, &rows).await?;
        // Only a complete listing can tell that a post is gone.
        let removed = if complete {
            let still: Vec<&str> = media.iter().map(|m| m.id.as_str()).collect();
            posts::mark_removed(&mut conn, self.account.id, window_start, &still, self.now).await?
        } else {
            0
        };
        tracing::debug!(new, removed, "posts recorded");
        Ok(())
    }

    async fn snapshot_due_posts(
        &mut self,
        session: &GraphSession<'_>,
        listed: &HashMap<&str, &Media>,
        window_start: Option<DateTime<Utc>>,
    ) -> Result<(), Stop> {
        let cadence = Cadence::from_settings(self.settings);
        // The mark first: a write that lands between the two readings is then noticed.
        let account = self.account.id;
        let mut seen = self.writer().await?.mark(account).await?;
        let live = {
            let mut conn = self.ctx.pool.get().await?;
            posts::live(&mut conn, self.account.id, window_start).await?
        };
        // A story no longer listed has expired: it is not snapshotted any more.
        let due: Vec<&LivePost> = live
            .iter()
            .filter(|p| listed.contains_key(p.media_id.as_str()))
            .filter(|p| cadence.is_due(p.posted_at, p.last_snapshot_at, self.now))
            .collect();
        // Insights are fetched a few at a time, a batch after another; what was gathered is
        // written once it fills a write batch, at the end, and before a stop.
        let (ig_user_id, registry) = (self.account.ig_user_id.as_str(), self.registry);
        let mut gathered = Vec::new();
        for chunk in due.chunks(FETCH_BATCH) {
            let requests: Vec<_> = chunk
                .iter()
                .map(|post| {
                    fetch_insights(session, ig_user_id, registry, post, listed.get(post.media_id.as_str()).copied())
                })
                .collect();
            let fetched: Vec<_> = stream::iter(requests).buffered(INSIGHTS_IN_FLIGHT).collect().await;
            let mut stop = None;
            for (post, media, result) in fetched {
                match result {
                    Ok(insights) => {
                        self.remember(post, &insights).await;
                        gathered.push(snapshot_from(post.id, self.now, &insights.values, media));
                    }
                    Err(err) if matches!(err.action(), Action::Reconnect | Action::Wait) => {
                        stop.get_or_insert(err);
                    }
                    // This post is tried again next tick; the others go on.
                    Err(err) => self.soft(&err),
                }
            }
            if gathered.len() >= WRITE_BATCH || stop.is_some() {
                // What was gathered before a stop is kept.
                seen = self.write(&std::mem::take(&mut gathered), &cadence, seen).await?;
            }
            if let Some(err) = stop {
                return Err(err.into());
            }
        }
        self.write(&gathered, &cadence, seen).await?;
        Ok(())
    }

    /// Remembers account metrics Meta refused (as for media metrics), so they are not asked again.
    async fn remember_dropped(&self, dropped: &[crate::graph::DroppedMetric]) {
        if dropped.is_empty() {
            return;
        }
        match self.ctx.pool.get().await {
            Ok(mut conn) => {
                for metric in dropped {
                    if let Err(err) = dropped_metrics::record(&mut conn, metric, self.now).await {
                        self.ctx.problem("remember_refusal", &format!("cannot remember a refused metric: {err}"));
                    }
                }
            }
            Err(err) => self.ctx.problem("remember_refusal", &format!("no database connection: {err}")),
        }
    }

    /// Stores what an insights answer taught: refused metrics, and posts without insights.
    async fn remember(&self, post: &LivePost, insights: &Insights) {
        if insights.newly_dropped.is_empty() && insights.unavailable.is_none() {
            return;
        }
        // Not remembering costs one refused call per post next cycle; it is logged and counted.
        let mut conn = match self.ctx.pool.get().await {
            Ok(conn) => conn,
            Err(err) => {
                self.ctx.problem("remember_refusal", &format!("no database connection: {err}"));
                return;
            }
        };
        for dropped in &insights.newly_dropped {
            if let Err(err) = dropped_metrics::record(&mut conn, dropped, self.now).await {
                self.ctx.problem("remember_refusal", &format!("cannot remember a refused metric: {err}"));
            }
        }
        if let Some(reason) = &insights.unavailable
            && let Err(err) = posts::set_insights_unavailable(&mut conn, post.id, reason).await
        {
            self.ctx.problem("remember_refusal", &format!("cannot mark a post's insights unavailable: {err}"));
        }
    }

    /// The run's snapshot writer, connected at first use and again after its connection ends.
    async fn writer(&mut self) -> Result<&mut SnapshotWriter, Stop> {
        let writer = match self.writer.take() {
            Some(writer) if !writer.is_closed() => writer,
            _ => SnapshotWriter::connect(&self.ctx.database_url).await?,
        };
        Ok(self.writer.insert(writer))
    }

    /// Writes a batch; returns the mark for the next one.
    async fn write(&mut self, batch: &[NewSnapshot], cadence: &Cadence, seen: WriteMark) -> Result<WriteMark, Stop> {
        if batch.is_empty() {
            return Ok(seen);
        }
        let account = self.account.id;
        let still_due = |posted_at, last, at| cadence.is_due(posted_at, last, at);
        let (written, mark) = self.writer().await?.write(account, seen, batch, &still_due).await?;
        self.report.snapshots_written += i32::try_from(written).unwrap_or(i32::MAX);
        Ok(mark)
    }

    /// Yesterday's account insights (UTC day), once.
    async fn record_account_day(&mut self, session: &GraphSession<'_>) -> Result<(), Stop> {
        let day = (self.now - Duration::days(1)).date_naive();
        let mut conn = self.ctx.pool.get().await?;
        if account_history::has_day(&mut conn, self.account.id, day).await? {
            return Ok(());
        }
        drop(conn);
        let since = day.and_time(NaiveTime::MIN).and_utc();
        let ig_user_id = &self.account.ig_user_id;
        let insights = match session.account_day(ig_user_id, since, since + Duration::days(1), self.registry).await {
            Ok(insights) => insights,
            Err(err) if matches!(err.action(), Action::Reconnect | Action::Wait) => return Err(err.into()),
            Err(err) => {
                self.soft(&err);
                return Ok(());
            }
        };
        self.remember_dropped(&insights.newly_dropped).await;
        let row = DailyInsights::from_metrics(
            self.account.id,
            day,
            |name| insights.values.get(name).copied(),
            insights.follower_net_change,
            self.now,
        );
        let mut conn = self.ctx.pool.get().await?;
        account_history::upsert_day(&mut conn, &row).await?;
        Ok(())
    }

    /// The account's audience (followers by age, gender, country, city; online by hour), at
    /// most once every [`AUDIENCE_READ_EVERY`]: it moves slowly, and Meta's figures trail by
    /// up to two days. Not asked below 100 followers, where Meta gives none. A temporary
    /// failure is asked again next cycle; a refusal waits for the next read, as an answer does.
    async fn record_audience(&mut self, session: &GraphSession<'_>, followers: Option<i64>) -> Result<(), Stop> {
        if followers.is_some_and(|f| f < crate::graph::audience::MIN_FOLLOWERS)
            || self.account.audience_read_at.is_some_and(|at| self.now - at < AUDIENCE_READ_EVERY)
        {
            return Ok(());
        }
        let figures = match session.audience(&self.account.ig_user_id, self.now).await {
            Ok(figures) => figures,
            Err(err) if matches!(err.action(), Action::Reconnect | Action::Wait) => return Err(err.into()),
            Err(err) => {
                self.soft(&err);
                if err.action() == Action::Retry {
                    return Ok(());
                }
                Vec::new()
            }
        };
        let mut conn = self.ctx.pool.get().await?;
        if figures.is_empty() {
            // Keep the last read: an empty or refused answer says nothing new of who follows.
            db::audience::mark_asked(&mut conn, self.account.id, self.now).await?;
        } else {
            db::audience::record(&mut conn, self.account.id, self.now, &figures).await?;
        }
        Ok(())
    }

    /// Instagram Login tokens are refreshed (once a day old); Facebook Login user tokens are
    /// re-exchanged for a new long-lived one with the operator's app, when it is configured
    /// (otherwise the dashboard warns a week ahead that the account must be connected again).
    async fn refresh_token_if_due(&mut self, token: &AccessToken) {
        let horizon = Duration::days(i64::from(self.settings.token_refresh_days));
        let near_expiry = match self.account.flavour {
            Flavour::Instagram => self.account.token_expires_at.is_none_or(|at| at - self.now <= horizon),
            // No known expiry: a Page token, which does not expire.
            Flavour::Facebook => self.account.token_expires_at.is_some_and(|at| at - self.now <= horizon),
        };
        let issued = self.account.token_refreshed_at.unwrap_or(self.account.created_at);
        if !near_expiry || self.now - issued < Duration::hours(24) {
            return;
        }
        let result = match (self.account.flavour, self.ctx.apps.get(Flavour::Facebook)) {
            (Flavour::Instagram, _) => self.ctx.graph.session(token, Flavour::Instagram).refresh_token().await,
            (Flavour::Facebook, Some(app)) => self.ctx.graph.long_lived(Flavour::Facebook, app, token).await,
            (Flavour::Facebook, None) => return,
        };
        let grant = match result {
            Ok(grant) => grant,
            Err(err) => {
                tracing::warn!(error = %err, "token refresh failed");
                self.soft(&err);
                return;
            }
        };
        self.report.api_calls += 1;
        let sealed = self.ctx.key.seal(&grant.access_token, &token_binding(&self.account.ig_user_id));
        let expires_at = grant.expires_in.map(|secs| self.now + Duration::seconds(secs));
        let stored = match self.ctx.pool.get().await {
            Ok(mut conn) => Account::store_token(&mut conn, self.account.id, &sealed, expires_at, Some(self.now))
                .await
                .map_err(anyhow::Error::new),
            Err(err) => Err(anyhow::Error::new(err).context("no database connection")),
        };
        match stored {
            Ok(()) => tracing::info!(expires_at = ?expires_at, "access token refreshed"),
            Err(err) => {
                self.ctx.problem("store_refreshed_token", &format!("{err:#}"));
                self.soft_error("token_refresh", "the refreshed token could not be stored; the old one stays in use");
            }
        }
    }

    fn soft(&mut self, err: &GraphError) {
        tracing::warn!(error = %err, kind = err.kind(), "Graph API problem; the cycle goes on");
        self.soft_errors.push((err.kind().to_owned(), err.to_string()));
    }

    fn soft_error(&mut self, kind: &str, message: &str) {
        self.soft_errors.push((kind.to_owned(), message.to_owned()));
    }

    /// Records what a stop means for the account; returns (kind, message) for the run.
    /// If the account's new state (re-connect, pause) cannot be saved, that is said in the
    /// run's message, logged and counted: the account would otherwise be polled again.
    async fn stopped(&mut self, stop: Stop) -> (String, String) {
        match stop {
            Stop::Graph(err) => {
                let mut message = err.to_string();
                let saved = match err.action() {
                    Action::Reconnect => {
                        tracing::warn!(error = %message, "the token was refused: the account needs re-connecting");
                        let reason = format!("{message}. Connect @{} again under Accounts.", self.account.username);
                        // A token Meta refused is of no use: it is deleted, not kept. One
                        // lacking a permission stays until the account is connected again.
                        let refused = matches!(err, GraphError::TokenInvalid { .. });
                        let (id, now) = (self.account.id, self.now);
                        self.save_state("needs_reauth", async |conn| {
                            let status = AccountStatus::NeedsReauth;
                            if refused {
                                Account::drop_token(conn, id, status, Some(&reason), now).await.map(|_| ())
                            } else {
                                Account::set_status(conn, id, status, Some(&reason)).await.map(|_| ())
                            }
                        })
                        .await
                    }
                    Action::Wait => {
                        let wait = match err {
                            GraphError::RateLimited { wait: Some(wait), .. } => {
                                Duration::from_std(wait).unwrap_or(DEFAULT_PAUSE)
                            }
                            _ => DEFAULT_PAUSE,
                        };
                        let until = self.now + wait;
                        tracing::warn!(until = %until, "rate limited: the account is paused");
                        let reason = format!("rate limited until {}", until.format("%H:%M UTC"));
                        self.save_state("pause", async |conn| {
                            Account::pause_until(conn, self.account.id, until, &reason).await
                        })
                        .await
                    }
                    Action::Retry | Action::Report => Ok(()),
                };
                if let Err(problem) = saved {
                    message = format!("{message}; {problem}");
                }
                (err.kind().to_owned(), message)
            }
            Stop::Undecryptable(why) => {
                tracing::error!(error = %why, "the account's token cannot be used: it needs re-connecting");
                let reason =
                    format!("{why}. Connect @{} again under Accounts, or restore the key.", self.account.username);
                let mut message = reason.clone();
                let id = self.account.id;
                let saved = self
                    .save_state("needs_reauth", async |conn| {
                        Account::set_status(conn, id, AccountStatus::NeedsReauth, Some(&reason)).await.map(|_| ())
                    })
                    .await;
                if let Err(problem) = saved {
                    message = format!("{message}; {problem}");
                }
                ("token_unusable".into(), message)
            }
            Stop::Other(err) => {
                tracing::error!(error = format!("{err:#}"), "sync cycle failed");
                ("internal".into(), format!("{err:#}"))
            }
        }
    }

    /// Saves the account's new state; a failure is logged, counted and returned as text.
    async fn save_state(
        &self,
        what: &str,
        save: impl AsyncFnOnce(&mut AsyncPgConnection) -> diesel::QueryResult<()>,
    ) -> Result<(), String> {
        let result = match self.ctx.pool.get().await {
            Ok(mut conn) => save(&mut *conn).await.map_err(anyhow::Error::new),
            Err(err) => Err(anyhow::Error::new(err).context("no database connection")),
        };
        result.map_err(|err| {
            let message = format!("the account's {what} state could not be saved: {err:#}");
            self.ctx.problem(&format!("save_{what}"), &message);
            message
        })
    }
}

/// One post's insights (none asked when the API said it has none).
async fn fetch_insights<'a>(
    session: &GraphSession<'_>,
    ig_user_id: &str,
    registry: &MetricRegistry,
    post: &'a LivePost,
    media: Option<&'a Media>,
) -> (&'a LivePost, Option<&'a Media>, Result<Insights, GraphError>) {
    if post.insights_unavailable.is_some() {
        return (post, media, Ok(Insights::default()));
    }
    let fallback = media_of(post);
    let result = session.media_insights(ig_user_id, media.unwrap_or(&fallback), registry).await;
    (post, media, result)
}

/// A media object for the insights call when the post is known but was not in this
/// cycle's listing (insights only need its id and kind).
fn media_of(post: &LivePost) -> Media {
    Media {
        id: post.media_id.clone(),
        caption: None,
        media_type: Some(post.media_type.clone()),
        media_product_type: post.media_product_type.clone(),
        permalink: post.permalink.clone(),
        timestamp: post.posted_at,
        like_count: None,
        comments_count: None,
        children: None,
        media_url: None,
        thumbnail_url: None,
    }
}

/// A snapshot from insights values; likes and comments fall back to the media list's
/// counts. A metric neither gave stays NULL: not measured.
fn snapshot_from(
    post_id: PostId,
    at: DateTime<Utc>,
    values: &std::collections::BTreeMap<String, f64>,
    media: Option<&Media>,
) -> NewSnapshot {
    let mut snapshot = NewSnapshot::from_metrics(post_id, at, |name| values.get(name).copied());
    snapshot.likes = snapshot.likes.or_else(|| media.and_then(|m| m.like_count));
    snapshot.comments = snapshot.comments.or_else(|| media.and_then(|m| m.comments_count));
    snapshot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_metric_stays_null_and_zero_stays_zero() {
        let mut values = std::collections::BTreeMap::new();
        values.insert("reach".to_owned(), 0.0);
        values.insert("views".to_owned(), 12.0);
        let snapshot = snapshot_from(PostId(1), Utc::now(), &values, None);
        assert_eq!(snapshot.reach, Some(0));
        assert_eq!(snapshot.views, Some(12));
        assert_eq!(snapshot.likes, None);
        assert_eq!(snapshot.saved, None);
    }
}
