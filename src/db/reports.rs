//! What the analytics pages read: posts with their precomputed scores, account series.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use diesel::dsl::{self, Nullable};

use super::schema::{
    account_daily_insights, ig_accounts, post_checkpoints, post_scores, post_snapshots, post_thumbnails, posts,
    publications,
};
use crate::analytics::curves::CheckpointPoint;
use crate::analytics::{EngagementDefinition, Format};
use crate::domain::{AccountId, PostId};

/// A post with its account and latest figures. Figures are `None` when not measured (or
/// when the post has no snapshot yet: the scores are left-joined, hence `.nullable()`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = posts, check_for_backend(diesel::pg::Pg))]
pub struct PostRow {
    pub id: PostId,
    pub account_id: AccountId,
    #[diesel(select_expression = ig_accounts::username)]
    pub username: String,
    pub media_id: String,
    pub caption: Option<String>,
    pub media_type: String,
    pub media_product_type: Option<String>,
    pub permalink: Option<String>,
    pub posted_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    pub hashtags: Vec<Option<String>>,
    pub insights_unavailable: Option<String>,
    #[diesel(select_expression = post_scores::latest_captured_at.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::latest_captured_at>)]
    pub latest_captured_at: Option<DateTime<Utc>>,
    #[diesel(select_expression = post_scores::reach.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::reach>)]
    pub reach: Option<i64>,
    #[diesel(select_expression = post_scores::views.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::views>)]
    pub views: Option<i64>,
    #[diesel(select_expression = post_scores::likes.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::likes>)]
    pub likes: Option<i64>,
    #[diesel(select_expression = post_scores::comments.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::comments>)]
    pub comments: Option<i64>,
    #[diesel(select_expression = post_scores::saved.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::saved>)]
    pub saved: Option<i64>,
    #[diesel(select_expression = post_scores::shares.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::shares>)]
    pub shares: Option<i64>,
    #[diesel(select_expression = post_scores::interactions.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::interactions>)]
    pub interactions: Option<i64>,
    #[diesel(select_expression = post_scores::followers_at_posting.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::followers_at_posting>)]
    pub followers_at_posting: Option<i64>,
    #[diesel(select_expression = post_scores::rate_by_reach.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::rate_by_reach>)]
    pub rate_by_reach: Option<f64>,
    #[diesel(select_expression = post_scores::rate_by_followers.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::rate_by_followers>)]
    pub rate_by_followers: Option<f64>,
    #[diesel(select_expression = post_scores::rate_by_views.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::rate_by_views>)]
    pub rate_by_views: Option<f64>,
    #[diesel(select_expression = post_scores::impact.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::impact>)]
    pub impact: Option<i16>,
    #[diesel(select_expression = post_scores::impact_cohort.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::impact_cohort>)]
    pub impact_cohort: Option<i32>,
    #[diesel(select_expression = post_scores::checkpoint_hours.nullable())]
    #[diesel(select_expression_type = Nullable<post_scores::checkpoint_hours>)]
    pub checkpoint_hours: Option<i32>,
    /// Whether a small copy of its picture is kept.
    #[diesel(select_expression = dsl::exists(
        post_thumbnails::table.filter(post_thumbnails::post_id.eq(posts::id).and(post_thumbnails::image.is_not_null()))
    ))]
    #[diesel(select_expression_type = dsl::exists<
        dsl::Filter<
            post_thumbnails::table,
            dsl::And<dsl::Eq<post_thumbnails::post_id, posts::id>, dsl::IsNotNull<post_thumbnails::image>>,
        >,
    >)]
    pub has_picture: bool,
}

impl PostRow {
    pub fn format(&self) -> Format {
        Format::of(self.media_product_type.as_deref(), &self.media_type)
    }

    pub fn rate(&self, definition: EngagementDefinition) -> Option<f64> {
        match definition {
            EngagementDefinition::Reach => self.rate_by_reach,
            EngagementDefinition::Followers => self.rate_by_followers,
            EngagementDefinition::Views => self.rate_by_views,
        }
    }

    pub fn tags(&self) -> Vec<String> {
        self.hashtags.iter().flatten().cloned().collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    Impact,
    Rate,
    Reach,
    Views,
}

impl Sort {
    pub const ALL: [Sort; 6] = [Sort::Newest, Sort::Oldest, Sort::Impact, Sort::Rate, Sort::Reach, Sort::Views];

    pub fn key(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::Impact => "impact",
            Sort::Rate => "rate",
            Sort::Reach => "reach",
            Sort::Views => "views",
        }
    }

    pub fn from_key(key: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// Which posts, in which order.
#[derive(Debug, Clone, Default)]
pub struct PostFilter {
    pub account: Option<AccountId>,
    pub format: Option<Format>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub sort: Sort,
    pub definition: EngagementDefinition,
    pub limit: Option<i64>,
    pub offset: i64,
    /// Only posts Tidemark published.
    pub from_tidemark: bool,
    /// Only posts whose caption holds this text (any case).
    pub search: Option<String>,
    /// Only posts after this one in the filter's order (the API's cursor pages).
    pub after: Option<After>,
}

/// A post's place in a filter's order: a page that ends with it is continued by the posts
/// after it. Keyed on the sort's own value and the id, so posts added or removed meanwhile
/// shift no page in time order; in a figure's order a post whose figure changed between two
/// pages can move across the cursor.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum After {
    /// Newest or oldest first: the post's publication time.
    Time(DateTime<Utc>, PostId),
    /// Impact, reach or views: the post's figure, `None` when not measured (those come last).
    Count(Option<i64>, PostId),
    /// Engagement rate.
    Rate(Option<f64>, PostId),
}

impl After {
    /// Where `row` stands in `sort`'s order.
    pub fn of(row: &PostRow, sort: Sort, definition: EngagementDefinition) -> After {
        match sort {
            Sort::Newest | Sort::Oldest => After::Time(row.posted_at, row.id),
            Sort::Impact => After::Count(row.impact.map(i64::from), row.id),
            Sort::Reach => After::Count(row.reach, row.id),
            Sort::Views => After::Count(row.views, row.id),
            Sort::Rate => After::Rate(row.rate(definition), row.id),
        }
    }

    /// Whether this place belongs to `sort`'s order (a cursor made for another is refused).
    pub fn fits(&self, sort: Sort) -> bool {
        matches!(
            (self, sort),
            (After::Time(..), Sort::Newest | Sort::Oldest)
                | (After::Count(..), Sort::Impact | Sort::Reach | Sort::Views)
                | (After::Rate(..), Sort::Rate)
        )
    }
}

/// Keeps the rows after `value, id` in the order "`$column` highest first, not measured last,
/// then highest id first".
macro_rules! after_figure {
    ($query:expr, $column:expr, $value:expr, $id:expr) => {{
        let (value, id): (Option<_>, PostId) = ($value, $id);
        match value {
            Some(value) => {
                $query.filter($column.lt(value).or($column.eq(value).and(posts::id.lt(id))).or($column.is_null()))
            }
            None => $query.filter($column.is_null().and(posts::id.lt(id))),
        }
    }};
}

/// A `LIKE` pattern finding `text` anywhere, its own `%`, `_` and `\` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The posts of a filter with `$select` chosen, filtered and in the filter's order (missing
/// figures sort last, ties newest id first). A macro because the boxed query's type names the
/// selection.
macro_rules! filtered_posts {
    ($filter:expr, $select:expr) => {{
        let filter: &PostFilter = $filter;
        let mut query =
            posts::table.inner_join(ig_accounts::table).left_join(post_scores::table).select($select).into_boxed();
        if let Some(account) = filter.account {
            query = query.filter(posts::account_id.eq(account));
        }
        if let Some(format) = filter.format {
            query = match format {
                Format::Reel => query.filter(posts::media_product_type.eq("REELS")),
                Format::Story => query.filter(posts::media_product_type.eq("STORY")),
                other => {
                    let media_type = match other {
                        Format::Carousel => "CAROUSEL_ALBUM",
                        Format::Video => "VIDEO",
                        _ => "IMAGE",
                    };
                    query
                        .filter(posts::media_type.eq(media_type))
                        .filter(posts::media_product_type.is_distinct_from("REELS"))
                        .filter(posts::media_product_type.is_distinct_from("STORY"))
                }
            };
        }
        if let Some(from) = filter.from {
            query = query.filter(posts::posted_at.ge(from));
        }
        if filter.from_tidemark {
            query = query.filter(diesel::dsl::exists(
                publications::table
                    .filter(publications::account_id.eq(posts::account_id))
                    .filter(publications::media_id.eq(posts::media_id.nullable())),
            ));
        }
        if let Some(until) = filter.until {
            query = query.filter(posts::posted_at.lt(until));
        }
        if let Some(search) = &filter.search {
            // PostgreSQL's LIKE escapes with a backslash unless told otherwise.
            query = query.filter(posts::caption.ilike(contains_pattern(search)));
        }
        match filter.after {
            None => {}
            Some(After::Time(at, id)) => {
                let same_time_before = posts::posted_at.eq(at).and(posts::id.lt(id));
                query = match filter.sort {
                    Sort::Oldest => query.filter(posts::posted_at.gt(at).or(same_time_before)),
                    _ => query.filter(posts::posted_at.lt(at).or(same_time_before)),
                };
            }
            Some(After::Count(value, id)) => {
                query = match filter.sort {
                    Sort::Impact => {
                        let value = value.map(|v| i16::try_from(v).unwrap_or(if v < 0 { i16::MIN } else { i16::MAX }));
                        after_figure!(query, post_scores::impact, value, id)
                    }
                    Sort::Views => after_figure!(query, post_scores::views, value, id),
                    _ => after_figure!(query, post_scores::reach, value, id),
                };
            }
            Some(After::Rate(value, id)) => {
                query = match filter.definition {
                    EngagementDefinition::Reach => after_figure!(query, post_scores::rate_by_reach, value, id),
                    EngagementDefinition::Followers => after_figure!(query, post_scores::rate_by_followers, value, id),
                    EngagementDefinition::Views => after_figure!(query, post_scores::rate_by_views, value, id),
                };
            }
        }
        query = match filter.sort {
            Sort::Newest => query.order(posts::posted_at.desc()),
            Sort::Oldest => query.order(posts::posted_at.asc()),
            Sort::Impact => query.order(post_scores::impact.desc().nulls_last()),
            Sort::Reach => query.order(post_scores::reach.desc().nulls_last()),
            Sort::Views => query.order(post_scores::views.desc().nulls_last()),
            Sort::Rate => match filter.definition {
                EngagementDefinition::Reach => query.order(post_scores::rate_by_reach.desc().nulls_last()),
                EngagementDefinition::Followers => query.order(post_scores::rate_by_followers.desc().nulls_last()),
                EngagementDefinition::Views => query.order(post_scores::rate_by_views.desc().nulls_last()),
            },
        };
        query.then_order_by(posts::id.desc())
    }};
}

/// Posts matching the filter, in its order, one page of them when the filter has a limit.
pub async fn posts(conn: &mut AsyncPgConnection, filter: &PostFilter) -> QueryResult<Vec<PostRow>> {
    let mut query = filtered_posts!(filter, PostRow::as_select());
    if let Some(limit) = filter.limit {
        query = query.limit(limit).offset(filter.offset);
    }
    query.load(conn).await
}

/// Just the ids of the filter's posts, in its order: an export fixes its rows and their order
/// with this one query, then reads them in pages with [`posts_by_id`].
pub async fn post_ids(conn: &mut AsyncPgConnection, filter: &PostFilter) -> QueryResult<Vec<PostId>> {
    filtered_posts!(filter, posts::id).load(conn).await
}

/// The posts with these ids, in the order given; a post deleted meanwhile is left out.
pub async fn posts_by_id(conn: &mut AsyncPgConnection, ids: &[PostId]) -> QueryResult<Vec<PostRow>> {
    let mut rows: Vec<PostRow> = posts::table
        .inner_join(ig_accounts::table)
        .left_join(post_scores::table)
        .filter(posts::id.eq_any(ids))
        .select(PostRow::as_select())
        .load(conn)
        .await?;
    let position: std::collections::HashMap<PostId, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    rows.sort_by_key(|row| position.get(&row.id).copied());
    Ok(rows)
}

pub async fn post(conn: &mut AsyncPgConnection, id: PostId) -> QueryResult<Option<PostRow>> {
    posts::table
        .inner_join(ig_accounts::table)
        .left_join(post_scores::table)
        .filter(posts::id.eq(id))
        .select(PostRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// One snapshot as the post page and the CSV show it.
#[derive(Debug, Clone, Queryable)]
pub struct SnapshotRow {
    pub captured_at: DateTime<Utc>,
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub saved: Option<i64>,
    pub shares: Option<i64>,
    pub total_interactions: Option<i64>,
}

/// The figures of a post's latest snapshot beyond the reach and interactions: what tells a
/// Reel's watching, a Story's taps and any post's pull on the profile (graph-api.md §3).
#[derive(Debug, Clone, Queryable)]
pub struct DetailRow {
    pub follows: Option<i64>,
    pub profile_visits: Option<i64>,
    pub replies: Option<i64>,
    pub navigation: Option<i64>,
    pub reposts: Option<i64>,
    pub avg_watch_time_ms: Option<i64>,
    pub total_watch_time_ms: Option<i64>,
    pub skip_rate: Option<f64>,
}

pub async fn latest_details(conn: &mut AsyncPgConnection, post: PostId) -> QueryResult<Option<DetailRow>> {
    post_snapshots::table
        .filter(post_snapshots::post_id.eq(post))
        .order(post_snapshots::captured_at.desc())
        .select((
            post_snapshots::follows,
            post_snapshots::profile_visits,
            post_snapshots::replies,
            post_snapshots::navigation,
            post_snapshots::reposts,
            post_snapshots::ig_reels_avg_watch_time_ms,
            post_snapshots::ig_reels_video_view_total_time_ms,
            post_snapshots::reels_skip_rate,
        ))
        .first(conn)
        .await
        .optional()
}

pub async fn snapshots_of(conn: &mut AsyncPgConnection, post: PostId) -> QueryResult<Vec<SnapshotRow>> {
    post_snapshots::table
        .filter(post_snapshots::post_id.eq(post))
        .order(post_snapshots::captured_at.asc())
        .select((
            post_snapshots::captured_at,
            post_snapshots::views,
            post_snapshots::reach,
            post_snapshots::likes,
            post_snapshots::comments,
            post_snapshots::saved,
            post_snapshots::shares,
            post_snapshots::total_interactions,
        ))
        .load(conn)
        .await
}

/// Checkpoint values of every post of the account, with each post's format: (format, (hours,
/// reach, interactions)).
pub async fn checkpoints_of_account(
    conn: &mut AsyncPgConnection,
    account: AccountId,
) -> QueryResult<Vec<(Format, CheckpointPoint)>> {
    type Loaded = (i32, Option<i64>, Option<i64>, Option<String>, String);
    let rows: Vec<Loaded> = post_checkpoints::table
        .inner_join(posts::table)
        .filter(posts::account_id.eq(account))
        .select((
            post_checkpoints::checkpoint_hours,
            post_checkpoints::reach,
            post_checkpoints::interactions,
            posts::media_product_type,
            posts::media_type,
        ))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (Format::of(r.3.as_deref(), &r.4), (r.0, r.1, r.2))).collect())
}

#[derive(Debug, Clone, Queryable)]
pub struct DayRow {
    pub day: NaiveDate,
    pub reach: Option<i64>,
    pub views: Option<i64>,
    pub interactions: Option<i64>,
    pub profile_views: Option<i64>,
    pub link_taps: Option<i64>,
}

pub async fn account_days(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    first: NaiveDate,
    last: NaiveDate,
) -> QueryResult<Vec<DayRow>> {
    account_daily_insights::table
        .filter(account_daily_insights::account_id.eq(account))
        .filter(account_daily_insights::day.between(first, last))
        .order(account_daily_insights::day.asc())
        .select((
            account_daily_insights::day,
            account_daily_insights::reach,
            account_daily_insights::views,
            account_daily_insights::total_interactions,
            account_daily_insights::profile_views,
            account_daily_insights::profile_links_taps,
        ))
        .load(conn)
        .await
}

/// A snapshot with its post and account, for the CSV export.
#[derive(Debug, Clone, Queryable)]
pub struct ExportSnapshot {
    pub username: String,
    pub post_id: PostId,
    pub media_id: String,
    pub captured_at: DateTime<Utc>,
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub saved: Option<i64>,
    pub shares: Option<i64>,
    pub total_interactions: Option<i64>,
    pub follows: Option<i64>,
    pub profile_visits: Option<i64>,
    pub profile_activity: Option<i64>,
    pub replies: Option<i64>,
    pub navigation: Option<i64>,
    pub reposts: Option<i64>,
    pub ig_reels_avg_watch_time_ms: Option<i64>,
    pub ig_reels_video_view_total_time_ms: Option<i64>,
    pub reels_skip_rate: Option<f64>,
}

/// The next `limit` snapshots after `after` (a post and a capture time; `None`: from the start),
/// of one account or all, in the order of the table's key: by post, then by time.
pub async fn snapshots_after(
    conn: &mut AsyncPgConnection,
    account: Option<AccountId>,
    after: Option<(PostId, DateTime<Utc>)>,
    limit: i64,
) -> QueryResult<Vec<ExportSnapshot>> {
    let mut query = post_snapshots::table
        .inner_join(posts::table.inner_join(ig_accounts::table))
        .select((
            ig_accounts::username,
            posts::id,
            posts::media_id,
            post_snapshots::captured_at,
            post_snapshots::views,
            post_snapshots::reach,
            post_snapshots::likes,
            post_snapshots::comments,
            post_snapshots::saved,
            post_snapshots::shares,
            post_snapshots::total_interactions,
            post_snapshots::follows,
            post_snapshots::profile_visits,
            post_snapshots::profile_activity,
            post_snapshots::replies,
            post_snapshots::navigation,
            post_snapshots::reposts,
            post_snapshots::ig_reels_avg_watch_time_ms,
            post_snapshots::ig_reels_video_view_total_time_ms,
            post_snapshots::reels_skip_rate,
        ))
        .order((post_snapshots::post_id.asc(), post_snapshots::captured_at.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(account) = account {
        query = query.filter(posts::account_id.eq(account));
    }
    if let Some((post, at)) = after {
        // Written out so the key's index serves it: from the post on, past the time within it.
        query = query
            .filter(post_snapshots::post_id.ge(post))
            .filter(post_snapshots::post_id.gt(post).or(post_snapshots::captured_at.gt(at)));
    }
    query.load(conn).await
}
