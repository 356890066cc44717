//! Every report made, kept as it was: its figures (JSON) and its PDF never change; only
//! whether its e-mail went out does.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::sent_reports;
use crate::domain::{AccountId, Cadence, Delivery, ReportScheduleId, SentReportId, UserId};

/// A report without its PDF (lists).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sent_reports, check_for_backend(diesel::pg::Pg))]
pub struct SentReport {
    pub id: SentReportId,
    pub schedule_id: Option<ReportScheduleId>,
    pub account_id: Option<AccountId>,
    pub cadence: Cadence,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub made_by_hand: bool,
    pub made_at: DateTime<Utc>,
    recipients: Vec<Option<String>>,
    pub delivery: Delivery,
    pub mail_error: Option<String>,
    pub attempts: i16,
    pub tried_at: DateTime<Utc>,
}

impl SentReport {
    pub fn recipients(&self) -> Vec<String> {
        self.recipients.iter().flatten().cloned().collect()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sent_reports)]
pub struct NewSentReport<'a> {
    pub schedule_id: Option<ReportScheduleId>,
    pub account_id: Option<AccountId>,
    pub account_ids: Vec<i64>,
    pub cadence: Cadence,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub made_by_hand: bool,
    pub made_by: Option<UserId>,
    pub made_at: DateTime<Utc>,
    pub recipients: Vec<String>,
    pub delivery: Delivery,
    pub mail_error: Option<String>,
    pub tried_at: DateTime<Utc>,
    pub content: &'a serde_json::Value,
    pub pdf: &'a [u8],
}

/// Keeps a report. `None` when the scheduler already kept one for this schedule and period
/// (another process, or a run before a restart, got there first).
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewSentReport<'_>) -> QueryResult<Option<SentReportId>> {
    diesel::insert_into(sent_reports::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(sent_reports::id)
        .get_result(conn)
        .await
        .optional()
}

/// Whether the scheduler has kept the report of this schedule's period starting `first_day`.
pub async fn scheduled_exists(
    conn: &mut AsyncPgConnection,
    schedule: ReportScheduleId,
    first_day: NaiveDate,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        sent_reports::table
            .filter(sent_reports::schedule_id.eq(schedule))
            .filter(sent_reports::first_day.eq(first_day))
            .filter(sent_reports::made_by_hand.eq(false)),
    ))
    .get_result(conn)
    .await
}

/// True once a schedule has made any report by itself.
pub async fn scheduled_any(conn: &mut AsyncPgConnection, schedule: ReportScheduleId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        sent_reports::table.filter(sent_reports::schedule_id.eq(schedule)).filter(sent_reports::made_by_hand.eq(false)),
    ))
    .get_result(conn)
    .await
}

/// The newest reports first.
pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<SentReport>> {
    sent_reports::table.order(sent_reports::id.desc()).limit(limit).select(SentReport::as_select()).load(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, id: SentReportId) -> QueryResult<Option<SentReport>> {
    sent_reports::table.find(id).select(SentReport::as_select()).first(conn).await.optional()
}

/// The report's figures as they were made.
pub async fn content(conn: &mut AsyncPgConnection, id: SentReportId) -> QueryResult<Option<serde_json::Value>> {
    sent_reports::table.find(id).select(sent_reports::content).first(conn).await.optional()
}

pub async fn pdf(conn: &mut AsyncPgConnection, id: SentReportId) -> QueryResult<Option<Vec<u8>>> {
    sent_reports::table.find(id).select(sent_reports::pdf).first(conn).await.optional()
}

/// Scheduled reports whose e-mail failed fewer than `max_attempts` times, last tried before
/// `tried_before`: the ones to try again.
pub async fn to_retry(
    conn: &mut AsyncPgConnection,
    max_attempts: i16,
    tried_before: DateTime<Utc>,
) -> QueryResult<Vec<SentReport>> {
    sent_reports::table
        .filter(sent_reports::delivery.eq(Delivery::Failed))
        .filter(sent_reports::attempts.lt(max_attempts))
        .filter(sent_reports::tried_at.lt(tried_before))
        .order(sent_reports::id)
        .select(SentReport::as_select())
        .load(conn)
        .await
}

/// Records the outcome of another attempt at mailing it.
pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    id: SentReportId,
    delivery: Delivery,
    error: Option<&str>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(sent_reports::table.find(id))
        .set((
            sent_reports::delivery.eq(delivery),
            sent_reports::mail_error.eq(error),
            sent_reports::attempts.eq(sent_reports::attempts + 1),
            sent_reports::tried_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Reports about periods that ended before `first_kept` (the history window's first day).
pub async fn delete_before(conn: &mut AsyncPgConnection, first_kept: NaiveDate) -> QueryResult<usize> {
    diesel::delete(sent_reports::table.filter(sent_reports::last_day.lt(first_kept))).execute(conn).await
}
