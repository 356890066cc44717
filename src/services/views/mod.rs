//! The read models of the analytics pages, each computed once per data version and shared
//! by the page and its CSV (a CSV can never disagree with the screen). Figures come from the
//! pure functions of `analytics`; this service reads their inputs and keeps the results.

pub mod audience;
pub(crate) mod cache;
pub mod format;
pub mod models;
pub mod overview;
pub mod records;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::stream::{self, Stream};

use self::audience::AudienceView;
use self::cache::{Stamp, ViewCache};
use self::format::count;
use self::models::{
    AccountPageView, AccountPanel, AccountView, DashboardView, PostPageView, PostView, SnapshotView, outcome, percent,
};
use self::overview::OverviewView;
use crate::analytics::account::{AccountFigures, AccountInput, BOTTOM_POSTS, DayInsights, TOP_POSTS};
use crate::analytics::charts::Chart;
use crate::analytics::curves::{CurvePoint, TypicalPoint, age_hours, age_label, post_curves, typical_points};
use crate::analytics::groups::Outcome;
use crate::analytics::overview::Overview;
use crate::analytics::period::Period;
use crate::analytics::{EngagementDefinition, Format, PostFigures};
use crate::db::accounts::{Account, Footprint};
use crate::db::dropped_metrics::{self, DroppedMetricRow};
use crate::db::reports::{self, ExportSnapshot, PostFilter, PostRow, SnapshotRow, Sort};
use crate::db::settings::OperatorSettings;
use crate::db::stats::{self, Totals};
use crate::db::sync_runs::{self, RunListing};
use crate::db::{self, DbError, posts};
use crate::domain::{AccountId, AccountStatus, Clock, PostId};

/// What every view of one request is computed against.
pub struct Basis {
    pub settings: OperatorSettings,
    /// The data version (of everything) the views are valid for.
    pub version: i64,
    pub now: DateTime<Utc>,
    /// Each account's own version, as read at `version`.
    versions: Arc<AccountVersions>,
    /// The account the request's page shows, if it shows one (see [`Basis::of`]).
    scope: Option<AccountId>,
}

/// The per-account versions (see `cache`).
struct AccountVersions {
    common: i64,
    accounts: HashMap<AccountId, i64>,
}

impl Basis {
    /// The same basis for a page that shows one account's rows alone: what it keeps stays valid
    /// while other accounts sync.
    pub fn of(self, account: AccountId) -> Self {
        Self { scope: Some(account), ..self }
    }

    /// The data what is kept for this basis is computed from.
    fn stamp(&self) -> Stamp {
        match self.scope {
            Some(account) => self.stamp_of(account),
            None => Stamp::All(self.version),
        }
    }

    /// The data an account's own views are computed from.
    fn stamp_of(&self, account: AccountId) -> Stamp {
        let own = self.versions.accounts.get(&account).copied().unwrap_or(0);
        Stamp::Account { common: self.versions.common, own }
    }

    pub fn tz(&self) -> Tz {
        self.settings.time_zone()
    }

    pub fn definition(&self) -> EngagementDefinition {
        self.settings.engagement()
    }

    /// Today in the operator's time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now.with_timezone(&self.tz()).date_naive()
    }
}

fn footprint_key(account: AccountId) -> String {
    format!("footprint:{account}")
}

/// Accounts whose panels the dashboard computes at once when none is kept (each takes a
/// connection of the pool's ten while it reads).
const PANELS_IN_FLIGHT: usize = 4;

pub struct Views {
    pool: db::Pool,
    cache: ViewCache,
    clock: Clock,
}

impl Views {
    pub fn new(pool: db::Pool, clock: Clock) -> Self {
        Self { pool, cache: ViewCache::default(), clock }
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The settings and data version every view of this request is computed against.
    pub async fn basis(&self) -> Result<Basis, DbError> {
        self.basis_at(None).await
    }

    /// The same, at a data version already read (with the session); the settings and the
    /// accounts' versions are kept per data version like any view (writing either moves it).
    pub async fn basis_at(&self, version: Option<i64>) -> Result<Basis, DbError> {
        let version = match version {
            Some(version) => version,
            None => stats::data_version(&mut *self.pool.get().await?).await?,
        };
        // Read after the data version, the counters are at least as new: a view kept under
        // them never holds older data than they say.
        let read = self
            .cache
            .get_or_compute("basis".to_owned(), Stamp::All(version), async || {
                let mut conn = self.pool.get().await?;
                let settings = OperatorSettings::load(&mut conn).await?;
                let (common, accounts) = stats::account_versions(&mut conn).await?;
                let accounts = accounts.into_iter().map(|(id, n)| (AccountId(id), n)).collect();
                Ok::<_, DbError>((settings, Arc::new(AccountVersions { common, accounts })))
            })
            .await?;
        let (settings, versions) = read.as_ref();
        Ok(Basis { settings: settings.clone(), version, now: self.now(), versions: versions.clone(), scope: None })
    }

    /// The value for `key` across accounts, computed by `compute` when any data moved since
    /// it was kept.
    async fn cached<T: Send + Sync + 'static>(
        &self,
        basis: &Basis,
        key: String,
        compute: impl AsyncFnOnce(&mut db::Conn) -> Result<T, DbError>,
    ) -> Result<Arc<T>, DbError> {
        self.computed(Stamp::All(basis.version), key, compute).await
    }

    /// The value for `key` made of one account's rows alone, computed by `compute` when that
    /// account's data (or what every account's views read) moved since it was kept.
    async fn cached_of<T: Send + Sync + 'static>(
        &self,
        basis: &Basis,
        account: AccountId,
        key: String,
        compute: impl AsyncFnOnce(&mut db::Conn) -> Result<T, DbError>,
    ) -> Result<Arc<T>, DbError> {
        self.computed(basis.stamp_of(account), key, compute).await
    }

    async fn computed<T: Send + Sync + 'static>(
        &self,
        stamp: Stamp,
        key: String,
        compute: impl AsyncFnOnce(&mut db::Conn) -> Result<T, DbError>,
    ) -> Result<Arc<T>, DbError> {
        self.cache
            .get_or_compute(key, stamp, async || {
                let mut conn = self.pool.get().await?;
                compute(&mut conn).await
            })
            .await
    }

    /// Anything made from the basis' data (a rendered page), kept with the views: per the
    /// account's version for a basis of one account ([`Basis::of`]).
    pub async fn kept<T: Send + Sync + 'static, E>(
        &self,
        basis: &Basis,
        key: String,
        make: impl AsyncFnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        self.cache.get_or_compute(key, basis.stamp(), make).await
    }

    /// Every account, by username (filters, the accounts page).
    pub async fn accounts(&self) -> Result<Vec<Account>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(Account::list(&mut conn).await?)
    }

    /// Every account with its number of tracked posts.
    pub async fn accounts_with_posts(&self) -> Result<Vec<(Account, i64)>, DbError> {
        let mut conn = self.pool.get().await?;
        let counts: HashMap<AccountId, i64> = posts::count_by_account(&mut conn).await?;
        let accounts = Account::list(&mut conn).await?;
        Ok(accounts.into_iter().map(|a| (counts.get(&a.id).copied().unwrap_or(0), a)).map(|(n, a)| (a, n)).collect())
    }

    pub async fn account(&self, id: AccountId) -> Result<Option<Account>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(Account::find(&mut conn, id).await?)
    }

    /// One account as the basis' data version has it.
    pub async fn account_as_of(&self, basis: &Basis, id: AccountId) -> Result<Option<Account>, DbError> {
        let found =
            self.cached_of(basis, id, format!("account:{id}"), async |conn| Ok(Account::find(conn, id).await?)).await?;
        Ok(found.as_ref().clone())
    }

    pub async fn footprint(&self, id: AccountId) -> Result<Footprint, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(Account::footprint(&mut conn, id).await?)
    }

    /// What an account's rows count, as the basis' data has it (its page says it; the
    /// dashboard adds them up).
    pub async fn footprint_as_of(&self, basis: &Basis, id: AccountId) -> Result<Arc<Footprint>, DbError> {
        self.cached_of(basis, id, footprint_key(id), async |conn| Ok(Account::footprint(conn, id).await?)).await
    }

    /// The posts and snapshots of every account. Added up from the accounts' own counts when
    /// few must be counted again (after one account's sync, its own); counted whole when many
    /// must (after a settings change, or at start): one account's count goes post by post, and
    /// at 100 accounts counting a tenth of them costs about what one count of every snapshot
    /// does (1.5 s and 2–3.6 s; BENCHMARKS.md).
    async fn totals(&self, basis: &Basis, accounts: &[Account]) -> Result<(i64, i64), DbError> {
        let kept = |a: &&Account| self.cache.get::<Footprint>(&footprint_key(a.id), basis.stamp_of(a.id)).is_some();
        let missing = accounts.len() - accounts.iter().filter(kept).count();
        if missing <= (accounts.len() / 10).max(1) {
            let (mut posts, mut snapshots) = (0, 0);
            for account in accounts {
                let footprint = self.footprint_as_of(basis, account.id).await?;
                (posts, snapshots) = (posts + footprint.posts, snapshots + footprint.snapshots);
            }
            return Ok((posts, snapshots));
        }
        let whole = self.cached(basis, "totals".to_owned(), async |conn| Ok(stats::posts_and_snapshots(conn).await?));
        Ok(*whole.await?)
    }

    /// The latest sync runs, newest first (of one account, or all).
    pub async fn recent_runs(&self, account: Option<AccountId>, limit: i64) -> Result<Vec<RunListing>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(sync_runs::recent(&mut conn, account, limit).await?)
    }

    /// The latest retention purges, newest first.
    pub async fn recent_purges(&self, limit: i64) -> Result<Vec<crate::db::retention::PurgeRecord>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(crate::db::retention::recent(&mut conn, limit).await?)
    }

    /// Metrics the API refused, per kind of media.
    pub async fn dropped_metrics(&self) -> Result<Vec<DroppedMetricRow>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(dropped_metrics::all(&mut conn).await?)
    }

    /// One account's panel for a period: the numbers of [`AccountFigures`], formatted.
    pub async fn panel(&self, basis: &Basis, account: &Account, period: &Period) -> Result<Arc<AccountPanel>, DbError> {
        // The zone too: a report may count its days in another zone than the pages.
        let key = format!("panel:{}:{}:{}:{}", account.id, period.first, period.last, period.tz);
        self.cached_of(basis, account.id, key, async |conn| {
            let definition = basis.definition();
            let filter = PostFilter {
                account: Some(account.id),
                from: Some(period.previous().start()),
                until: Some(period.end()),
                definition,
                ..PostFilter::default()
            };
            let rows = reports::posts(conn, &filter).await?;
            let posts: Vec<Outcome> = rows.iter().map(|r| outcome(r, definition)).collect();
            let points =
                db::account_history::follower_points(conn, account.id, AccountInput::followers_since(period)).await?;
            let days: Vec<DayInsights> = reports::account_days(conn, account.id, period.previous().first, period.last)
                .await?
                .into_iter()
                .map(|d| DayInsights {
                    day: d.day,
                    reach: d.reach,
                    views: d.views,
                    interactions: d.interactions,
                    profile_views: d.profile_views,
                    link_taps: d.link_taps,
                })
                .collect();
            let input = AccountInput {
                account: account.id,
                period,
                definition,
                posts: &posts,
                follower_points: &points,
                days: &days,
                today: basis.today(),
            };
            let figures = AccountFigures::compute(&input);
            Ok(AccountPanel::new(account, figures, &rows, period, definition, basis.now))
        })
        .await
    }

    /// The dashboard: every account's panel (the same panels the account pages show, kept
    /// once) combined into one overview, the best and weakest posts of all, totals and the
    /// accounts needing attention.
    pub async fn dashboard(&self, basis: &Basis, period: &Period) -> Result<DashboardView, DbError> {
        let base = self
            .cached(basis, "dashboard".to_owned(), async |conn| {
                Ok((Totals::load(conn).await?, Account::list(conn).await?))
            })
            .await?;
        let (totals, accounts) = base.as_ref();
        // Each account's panel and counts, kept per account: after one account's sync only its
        // own are computed, and with nothing kept a few accounts at once (the database works
        // on one while the process computes another).
        let mut panels: Vec<Arc<AccountPanel>> = Vec::with_capacity(accounts.len());
        for some in accounts.chunks(PANELS_IN_FLIGHT) {
            panels.extend(futures_util::future::try_join_all(some.iter().map(|a| self.panel(basis, a, period))).await?);
        }
        let (posts, snapshots) = self.totals(basis, accounts).await?;
        let definition = basis.definition().formula();
        let combined = Overview::combine(panels.iter().map(|p| &p.figures));
        // Each account lists its best and weakest; the best and weakest of all are among them.
        let mut top: Vec<PostView> = panels.iter().flat_map(|p| p.top.iter().cloned()).collect();
        top.sort_by_key(|p| std::cmp::Reverse(p.score));
        top.truncate(TOP_POSTS);
        let mut bottom: Vec<PostView> = panels
            .iter()
            .flat_map(|p| p.bottom.iter().cloned())
            .filter(|p| !top.iter().any(|t| t.id == p.id))
            .collect();
        bottom.sort_by_key(|p| p.score);
        bottom.truncate(BOTTOM_POSTS);
        Ok(DashboardView {
            posts_text: count(Some(posts)),
            snapshots_text: count(Some(snapshots)),
            totals: totals.clone(),
            attention: accounts
                .iter()
                .map(|a| AccountView::new(a, None, basis.now, basis.tz()))
                .filter(|a| a.needs_reauth() || (a.is_active() && a.token_warning))
                .collect(),
            not_syncing: accounts.iter().filter(|a| a.status != AccountStatus::Active).count(),
            overview: OverviewView::new(&combined, period, "all", definition).with_csv(period.query()),
            panels,
            top,
            bottom,
            definition,
        })
    }

    /// Computes, for the current data, the views a visitor most likely opens next (the
    /// dashboard and each account's page over the default period, as their addresses without
    /// parameters show them, and what every post page of an account reads), so that nobody
    /// waits for them after a sync. Returns the data version they were computed at: `None`
    /// when it has not moved since the last call. An account whose rows did not change since
    /// costs nothing: its views are kept.
    pub async fn warm(&self) -> Result<Option<i64>, DbError> {
        let basis = self.basis().await?;
        let period = Period::from_query(None, None, None, basis.now, basis.tz());
        let dashboard_key = format!("warm:{}:{}", period.first, period.last);
        if self.cache.get::<()>(&dashboard_key, Stamp::All(basis.version)).is_some() {
            return Ok(None);
        }
        let accounts = self.accounts().await?;
        self.dashboard(&basis, &period).await?;
        let mut conn = self.pool.get().await?;
        for account in &accounts {
            self.account_page(&basis, account, &period, None, Sort::default()).await?;
            self.audience(&basis, account).await?;
            // Which post is opened next is unknown; what every post page of the account reads is.
            self.typical_posts(&basis, &mut conn, account.id).await?;
        }
        self.cache.put(dashboard_key, Stamp::All(basis.version), Arc::new(()));
        Ok(Some(basis.version))
    }

    /// An account's audience: Meta's latest count beside one about a month older.
    pub async fn audience(&self, basis: &Basis, account: &Account) -> Result<Arc<AudienceView>, DbError> {
        let apart = chrono::Duration::days(audience::COMPARED_AFTER_DAYS);
        self.cached_of(basis, account.id, format!("audience:{}", account.id), async |conn| {
            let (latest, earlier) = db::audience::latest_and_earlier(conn, account.id, apart).await?;
            Ok(AudienceView::new(account.followers_count, latest.as_ref(), earlier.as_ref(), basis.tz()))
        })
        .await
    }

    /// One account's page: its panel and its posts of the period, filtered and sorted.
    pub async fn account_page(
        &self,
        basis: &Basis,
        account: &Account,
        period: &Period,
        format: Option<Format>,
        sort: Sort,
    ) -> Result<Arc<AccountPageView>, DbError> {
        let panel = self.panel(basis, account, period).await?;
        let key = format!(
            "account:{}:{}:{}:{}:{}",
            account.id,
            period.first,
            period.last,
            format.map_or("", |f| f.key()),
            sort.key()
        );
        let footprint = self.footprint_as_of(basis, account.id).await?;
        self.cached_of(basis, account.id, key, async |conn| {
            let definition = basis.definition();
            let filter = PostFilter {
                account: Some(account.id),
                format,
                from: Some(period.start()),
                until: Some(period.end()),
                sort,
                definition,
                ..PostFilter::default()
            };
            let posts = reports::posts(conn, &filter).await?;
            Ok(AccountPageView {
                footprint: *footprint,
                panel,
                posts: posts.iter().map(|r| PostView::new(r, definition, basis.tz())).collect(),
            })
        })
        .await
    }

    /// Posts matching a filter (the posts list; its page and order are in the filter).
    pub async fn posts(&self, basis: &Basis, filter: &PostFilter) -> Result<Arc<Vec<PostRow>>, DbError> {
        self.cached(basis, format!("posts:{filter:?}"), async |conn| Ok(reports::posts(conn, filter).await?)).await
    }

    /// The posts of a filter as outcomes (hashtags, best time, and their CSV files).
    pub async fn outcomes(&self, basis: &Basis, filter: &PostFilter) -> Result<Arc<Vec<Outcome>>, DbError> {
        let definition = filter.definition;
        self.cached(basis, format!("outcomes:{filter:?}"), async |conn| {
            let rows = reports::posts(conn, filter).await?;
            Ok(rows.iter().map(|r| outcome(r, definition)).collect())
        })
        .await
    }

    /// The account's three best upcoming slots from its last 90 days of feed posts and Reels
    /// (weekday and hour in the operator's time zone, at least an hour ahead), and how many
    /// posts they rest on.
    pub async fn suggested_slots(
        &self,
        account: AccountId,
        now: DateTime<Utc>,
    ) -> Result<(Vec<crate::analytics::groups::Slot>, usize), DbError> {
        use crate::analytics::groups;
        let basis = self.basis().await?;
        // Whole hours, so the cache key holds for an hour rather than a request.
        let from = now - chrono::Duration::days(90);
        let from = from - chrono::Duration::seconds(i64::from(from.timestamp().rem_euclid(3600) as i32));
        let filter = PostFilter {
            account: Some(account),
            from: Some(from),
            definition: basis.definition(),
            ..PostFilter::default()
        };
        let outcomes = self.outcomes(&basis, &filter).await?;
        // Stories are ranked apart on the best-time page; most of what the composer makes is
        // for the feed, and a Story's best hour says nothing about it.
        let feed = groups::Placement::Feed;
        let measured = outcomes.iter().filter(|o| o.rate.is_some() && groups::Placement::of(o.format) == feed).count();
        let cells = groups::best_time(&outcomes, basis.tz(), feed);
        Ok((groups::suggested_slots(&cells, now, basis.tz(), chrono::Duration::hours(1), groups::BEST_SLOTS), measured))
    }

    /// The small copy of a post's picture (JPEG), if one is kept. Not cached: the browser
    /// keeps it, and each is asked for once per page.
    pub async fn picture(&self, id: PostId) -> Result<Option<Vec<u8>>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(db::thumbnails::image(&mut conn, id).await?)
    }

    /// One post's page, or `None` when there is no such post.
    pub async fn post(&self, basis: &Basis, id: PostId) -> Result<Option<Arc<PostPageView>>, DbError> {
        let page = self
            .cached(basis, format!("post:{id}"), async |conn| {
                // Absence travels as NotFound so that it is not kept (errors never are).
                let row = reports::post(conn, id).await?.ok_or(diesel::result::Error::NotFound)?;
                let snapshots = reports::snapshots_of(conn, row.id).await?;
                let latest = reports::latest_details(conn, row.id).await?;
                let typical = self.typical_posts(basis, conn, row.account_id).await?;
                Ok(post_page(&row, &snapshots, latest.as_ref(), &typical, basis))
            })
            .await;
        match page {
            Ok(page) => Ok(Some(page)),
            Err(DbError::Query(diesel::result::Error::NotFound)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The typical post of each format of an account, kept per data version: each of its post
    /// pages draws its format's from them (at 100 accounts reading the checkpoints took 30–40 ms
    /// of a post page's first request; BENCHMARKS.md). Read on the caller's connection, so a
    /// post page never waits for a second one.
    async fn typical_posts(
        &self,
        basis: &Basis,
        conn: &mut db::Conn,
        account: AccountId,
    ) -> Result<Arc<Vec<TypicalPoint>>, DbError> {
        self.cache
            .get_or_compute(format!("typical:{account}"), basis.stamp_of(account), async || {
                Ok(typical_points(&reports::checkpoints_of_account(conn, account).await?))
            })
            .await
    }

    /// The posts of a filter in pages of `size` rows (streamed exports never hold a whole
    /// table in memory).
    ///
    /// The rows and their order are fixed by one query of ids when the download starts; pages
    /// then read those ids. Paging by OFFSET, or by a cursor on the sort key, would duplicate
    /// or skip posts whose scores a sync changes mid-download.
    pub fn post_pages(
        &self,
        filter: PostFilter,
        size: i64,
    ) -> impl Stream<Item = Result<Vec<PostRow>, DbError>> + 'static {
        let pool = self.pool.clone();
        let size = usize::try_from(size.max(1)).unwrap_or(1);
        // None until the ids are read; then the pages still to send. An error ends the stream.
        stream::unfold(Some(None::<std::vec::IntoIter<Vec<PostId>>>), move |state| {
            let pool = pool.clone();
            let filter = filter.clone();
            async move {
                let pending = state?;
                let page = async {
                    let mut conn = pool.get().await?;
                    let mut pending = match pending {
                        Some(pending) => pending,
                        None => {
                            let ids = reports::post_ids(&mut conn, &filter).await?;
                            ids.chunks(size).map(<[PostId]>::to_vec).collect::<Vec<_>>().into_iter()
                        }
                    };
                    match pending.next() {
                        Some(chunk) => {
                            Ok::<_, DbError>(Some((reports::posts_by_id(&mut conn, &chunk).await?, pending)))
                        }
                        None => Ok(None),
                    }
                }
                .await;
                match page {
                    Ok(Some((rows, pending))) => Some((Ok(rows), Some(Some(pending)))),
                    Ok(None) => None,
                    Err(err) => Some((Err(err), None)),
                }
            }
        })
    }

    /// Every snapshot (of one account, or all) by post, then time, in pages of `size` rows.
    pub fn snapshot_pages(
        &self,
        account: Option<AccountId>,
        size: i64,
    ) -> impl Stream<Item = Result<Vec<ExportSnapshot>, DbError>> + 'static {
        let pool = self.pool.clone();
        // `None`: done; `Some(None)`: from the start; `Some(Some(key))`: after that key.
        stream::unfold(Some(None), move |next| {
            let pool = pool.clone();
            async move {
                let after = next?;
                let page = async {
                    let mut conn = pool.get().await?;
                    Ok::<_, DbError>(reports::snapshots_after(&mut conn, account, after, size).await?)
                }
                .await;
                let following = match &page {
                    Ok(rows) if rows.len() as i64 == size => rows.last().map(|r| Some((r.post_id, r.captured_at))),
                    _ => None,
                };
                Some((page, following))
            }
        })
    }

    /// The chart `id` of a post's page or of an account's panel, exactly as drawn.
    pub async fn chart(&self, basis: &Basis, of: ChartOwner<'_>, id: &str) -> Result<Option<Chart>, DbError> {
        let charts = match of {
            ChartOwner::Post(post) => match self.post(basis, post).await? {
                Some(page) => page.charts.clone(),
                None => return Ok(None),
            },
            ChartOwner::Account(account, period) => {
                let panel = self.panel(basis, account, period).await?;
                panel.charts.iter().chain([&panel.overview.chart]).cloned().collect()
            }
            ChartOwner::AllAccounts(period) => vec![self.dashboard(basis, period).await?.overview.chart],
        };
        Ok(charts.into_iter().find(|c| c.id == id))
    }
}

/// Whose chart a CSV asks for.
pub enum ChartOwner<'a> {
    Post(PostId),
    Account(&'a Account, &'a Period),
    /// The dashboard's overview of every account.
    AllAccounts(&'a Period),
}

fn figures(s: &SnapshotRow) -> PostFigures {
    PostFigures {
        reach: s.reach,
        views: s.views,
        likes: s.likes,
        comments: s.comments,
        saved: s.saved,
        shares: s.shares,
        total_interactions: s.total_interactions,
    }
}

fn post_page(
    row: &PostRow,
    snapshots: &[SnapshotRow],
    latest: Option<&reports::DetailRow>,
    typical: &[TypicalPoint],
    basis: &Basis,
) -> PostPageView {
    let (tz, definition, format) = (basis.tz(), basis.definition(), row.format());
    let points: Vec<CurvePoint> = snapshots
        .iter()
        .map(|s| CurvePoint { at: s.captured_at, reach: s.reach, interactions: figures(s).interactions() })
        .collect();
    let charts = post_curves(row.posted_at, format, &points, typical)
        .into_iter()
        .map(|c| {
            let href = format!("/export/chart.csv?chart={}&post={}", c.id, row.id);
            c.with_csv(href)
        })
        .collect();
    let (impact, impact_note) = models::impact_text(row, format);
    PostPageView {
        details: models::post_details(format, latest),
        post: PostView::new(row, definition, tz),
        media_id: row.media_id.clone(),
        caption: row.caption.clone(),
        permalink: row.permalink.clone().filter(|p| p.starts_with("https://")),
        hashtags: row.tags(),
        insights_unavailable: row.insights_unavailable.clone(),
        impact,
        impact_note,
        rates: EngagementDefinition::ALL
            .into_iter()
            .map(|d| (format!("by {} ({})", d.key(), d.formula()), percent(row.rate(d))))
            .collect(),
        definition: definition.formula(),
        charts,
        snapshots: snapshots
            .iter()
            .map(|s| SnapshotView {
                at: s.captured_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                age: age_label(age_hours(row.posted_at, s.captured_at)),
                reach: count(s.reach),
                views: count(s.views),
                likes: count(s.likes),
                comments: count(s.comments),
                saved: count(s.saved),
                shares: count(s.shares),
                interactions: count(figures(s).interactions()),
            })
            .collect(),
    }
}
