//! Each account's audience as Meta counted it on the days it was read: followers by age,
//! gender, country and city, and followers online by UTC hour.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{account_audience, ig_accounts};
use crate::domain::{AccountId, AudienceDimension, AudienceFigure, AudienceRead};

/// One stored figure (a read's day and account beside an [`AudienceFigure`]).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = account_audience, check_for_backend(diesel::pg::Pg))]
pub struct AudienceRow {
    pub account_id: AccountId,
    pub day: NaiveDate,
    pub dimension: AudienceDimension,
    pub key: String,
    pub followers: i64,
}

/// Stores a day's read in place of any earlier read of the same day, and notes when the
/// audience was asked for (also when Meta gave nothing).
pub async fn record(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    at: DateTime<Utc>,
    figures: &[AudienceFigure],
) -> QueryResult<()> {
    let day = at.date_naive();
    let rows: Vec<AudienceRow> = figures
        .iter()
        .map(|f| AudienceRow {
            account_id: account,
            day,
            dimension: f.dimension,
            key: f.key.clone(),
            followers: f.followers,
        })
        .collect();
    conn.transaction(async |conn| {
        diesel::delete(
            account_audience::table
                .filter(account_audience::account_id.eq(account))
                .filter(account_audience::day.eq(day)),
        )
        .execute(conn)
        .await?;
        diesel::insert_into(account_audience::table).values(&rows).on_conflict_do_nothing().execute(conn).await?;
        diesel::update(ig_accounts::table.find(account))
            .set(ig_accounts::audience_read_at.eq(at))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// Notes that the audience was asked for and Meta gave nothing new, keeping the last read.
pub async fn mark_asked(conn: &mut AsyncPgConnection, account: AccountId, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(ig_accounts::table.find(account)).set(ig_accounts::audience_read_at.eq(at)).execute(conn).await?;
    Ok(())
}

/// The latest read, and the latest read at least `apart` older than it (to compare with).
pub async fn latest_and_earlier(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    apart: Duration,
) -> QueryResult<(Option<AudienceRead>, Option<AudienceRead>)> {
    let of_account = || account_audience::table.filter(account_audience::account_id.eq(account));
    let latest: Option<NaiveDate> = of_account().select(diesel::dsl::max(account_audience::day)).first(conn).await?;
    let Some(latest) = latest else {
        return Ok((None, None));
    };
    let earlier: Option<NaiveDate> = of_account()
        .filter(account_audience::day.le(latest - apart))
        .select(diesel::dsl::max(account_audience::day))
        .first(conn)
        .await?;
    let days: Vec<NaiveDate> = std::iter::once(latest).chain(earlier).collect();
    let rows: Vec<AudienceRow> = of_account()
        .filter(account_audience::day.eq_any(&days))
        .select(AudienceRow::as_select())
        .order((account_audience::day.desc(), account_audience::followers.desc(), account_audience::key.asc()))
        .load(conn)
        .await?;
    let read = |day: NaiveDate| AudienceRead {
        day,
        figures: rows
            .iter()
            .filter(|r| r.day == day)
            .map(|r| AudienceFigure { dimension: r.dimension, key: r.key.clone(), followers: r.followers })
            .collect(),
    };
    Ok((Some(read(latest)), earlier.map(read)))
}

/// Removes reads made before `first_kept` (the history window).
pub async fn delete_before(conn: &mut AsyncPgConnection, first_kept: NaiveDate) -> QueryResult<usize> {
    diesel::delete(account_audience::table.filter(account_audience::day.lt(first_kept))).execute(conn).await
}
