//! Competitors: other professional accounts read once a day through Business Discovery, their
//! daily counts and their recent posts.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{competitor_days, competitor_posts, competitors};
use crate::domain::{CompetitorId, CompetitorStatus, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = competitors, check_for_backend(diesel::pg::Pg))]
pub struct Competitor {
    pub id: CompetitorId,
    pub username: String,
    pub status: CompetitorStatus,
    pub ig_id: Option<String>,
    pub name: Option<String>,
    pub followers_count: Option<i64>,
    pub media_count: Option<i64>,
    pub read_at: Option<DateTime<Utc>>,
    pub tried_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub added_by: Option<UserId>,
    pub added_at: DateTime<Utc>,
}

/// A competitor's post as last read.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = competitor_posts, check_for_backend(diesel::pg::Pg))]
pub struct CompetitorPost {
    pub competitor_id: CompetitorId,
    pub media_id: String,
    pub posted_at: DateTime<Utc>,
    pub media_type: Option<String>,
    pub media_product_type: Option<String>,
    pub like_count: Option<i64>,
    pub comments_count: Option<i64>,
    pub permalink: Option<String>,
    pub read_at: DateTime<Utc>,
}

/// A competitor as one read found it.
#[derive(Debug, Clone)]
pub struct CompetitorRead {
    pub ig_id: String,
    pub name: Option<String>,
    pub followers_count: Option<i64>,
    pub media_count: Option<i64>,
    pub posts: Vec<CompetitorPost>,
}

/// Adds a competitor; `None` when it is tracked already.
pub async fn add(
    conn: &mut AsyncPgConnection,
    username: &str,
    by: Option<UserId>,
    now: DateTime<Utc>,
) -> QueryResult<Option<CompetitorId>> {
    diesel::insert_into(competitors::table)
        .values((competitors::username.eq(username), competitors::added_by.eq(by), competitors::added_at.eq(now)))
        .on_conflict(competitors::username)
        .do_nothing()
        .returning(competitors::id)
        .get_result(conn)
        .await
        .optional()
}

/// Every competitor, by username.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Competitor>> {
    competitors::table.order(competitors::username.asc()).select(Competitor::as_select()).load(conn).await
}

/// Removes a competitor and everything read of it; false when there was none.
pub async fn remove(conn: &mut AsyncPgConnection, id: CompetitorId) -> QueryResult<bool> {
    Ok(diesel::delete(competitors::table.find(id)).execute(conn).await? == 1)
}

/// Competitors not asked for since `before` (never asked first), at most `limit`.
pub async fn due(conn: &mut AsyncPgConnection, before: DateTime<Utc>, limit: i64) -> QueryResult<Vec<Competitor>> {
    competitors::table
        .filter(competitors::tried_at.is_null().or(competitors::tried_at.lt(before)))
        .order((competitors::tried_at.asc().nulls_first(), competitors::id.asc()))
        .limit(limit)
        .select(Competitor::as_select())
        .load(conn)
        .await
}

/// Stores a read: the competitor's counts, the day's row and its posts, in one transaction.
pub async fn record(
    conn: &mut AsyncPgConnection,
    id: CompetitorId,
    read: &CompetitorRead,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    conn.transaction(async |conn| {
        diesel::update(competitors::table.find(id))
            .set((
                competitors::status.eq(CompetitorStatus::Tracked),
                competitors::ig_id.eq(&read.ig_id),
                competitors::name.eq(&read.name),
                competitors::followers_count.eq(read.followers_count),
                competitors::media_count.eq(read.media_count),
                competitors::read_at.eq(now),
                competitors::tried_at.eq(now),
                competitors::last_error.eq(None::<String>),
            ))
            .execute(conn)
            .await?;
        record_day(conn, id, now.date_naive(), read.followers_count, read.media_count).await?;
        if !read.posts.is_empty() {
            diesel::insert_into(competitor_posts::table)
                .values(&read.posts)
                .on_conflict((competitor_posts::competitor_id, competitor_posts::media_id))
                .do_update()
                .set((
                    competitor_posts::like_count.eq(excluded(competitor_posts::like_count)),
                    competitor_posts::comments_count.eq(excluded(competitor_posts::comments_count)),
                    competitor_posts::read_at.eq(excluded(competitor_posts::read_at)),
                ))
                .execute(conn)
                .await?;
        }
        Ok(())
    })
    .await
}

/// A day's counts of a competitor (the last read of the day wins).
pub async fn record_day(
    conn: &mut AsyncPgConnection,
    id: CompetitorId,
    day: NaiveDate,
    followers: Option<i64>,
    media: Option<i64>,
) -> QueryResult<()> {
    diesel::insert_into(competitor_days::table)
        .values((
            competitor_days::competitor_id.eq(id),
            competitor_days::day.eq(day),
            competitor_days::followers_count.eq(followers),
            competitor_days::media_count.eq(media),
        ))
        .on_conflict((competitor_days::competitor_id, competitor_days::day))
        .do_update()
        .set((
            competitor_days::followers_count.eq(excluded(competitor_days::followers_count)),
            competitor_days::media_count.eq(excluded(competitor_days::media_count)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Business Discovery knows no professional account by this name: said, and not asked
/// again until the next day.
pub async fn mark_not_found(conn: &mut AsyncPgConnection, id: CompetitorId, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(competitors::table.find(id))
        .set((
            competitors::status.eq(CompetitorStatus::NotFound),
            competitors::read_at.eq(now),
            competitors::tried_at.eq(now),
            competitors::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A read failed for another reason: why, kept until a read succeeds. `tried` marks it asked
/// (a refusal waits a day); a temporary failure leaves it to be asked next cycle.
pub async fn mark_failed(
    conn: &mut AsyncPgConnection,
    id: CompetitorId,
    why: &str,
    tried: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    diesel::update(competitors::table.find(id))
        .set((competitors::last_error.eq(why), competitors::tried_at.eq(tried)))
        .execute(conn)
        .await?;
    Ok(())
}

/// The daily counts of every competitor from `first` on, oldest first.
pub async fn days_since(
    conn: &mut AsyncPgConnection,
    first: NaiveDate,
) -> QueryResult<Vec<(CompetitorId, NaiveDate, Option<i64>)>> {
    competitor_days::table
        .filter(competitor_days::day.ge(first))
        .order((competitor_days::competitor_id, competitor_days::day))
        .select((competitor_days::competitor_id, competitor_days::day, competitor_days::followers_count))
        .load(conn)
        .await
}

/// Every competitor's posts published from `since` on.
pub async fn posts_since(conn: &mut AsyncPgConnection, since: DateTime<Utc>) -> QueryResult<Vec<CompetitorPost>> {
    competitor_posts::table
        .filter(competitor_posts::posted_at.ge(since))
        .select(CompetitorPost::as_select())
        .load(conn)
        .await
}

/// Removes competitors' posts published before `cutoff` and their counts of days before
/// `first_kept`: they follow the history window like the operator's own.
pub async fn delete_before(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    first_kept: NaiveDate,
) -> QueryResult<usize> {
    let posts =
        diesel::delete(competitor_posts::table.filter(competitor_posts::posted_at.lt(cutoff))).execute(conn).await?;
    let days = diesel::delete(competitor_days::table.filter(competitor_days::day.lt(first_kept))).execute(conn).await?;
    Ok(posts + days)
}
