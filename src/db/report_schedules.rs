//! Reports mailed on a schedule: for whom, how often, to whom, in which time zone.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::report_schedules;
use crate::domain::{AccountId, Cadence, ReportScheduleId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = report_schedules, check_for_backend(diesel::pg::Pg))]
pub struct ReportSchedule {
    pub id: ReportScheduleId,
    /// `None`: every account together.
    pub account_id: Option<AccountId>,
    pub cadence: Cadence,
    recipients: Vec<Option<String>>,
    /// An IANA name, checked by the form before it was stored.
    pub time_zone: String,
    pub send_hour: i16,
    pub created_at: DateTime<Utc>,
}

impl ReportSchedule {
    pub fn recipients(&self) -> Vec<String> {
        self.recipients.iter().flatten().cloned().collect()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = report_schedules)]
pub struct NewReportSchedule {
    pub account_id: Option<AccountId>,
    pub cadence: Cadence,
    pub recipients: Vec<String>,
    pub time_zone: String,
    pub send_hour: i16,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewReportSchedule) -> QueryResult<ReportScheduleId> {
    diesel::insert_into(report_schedules::table).values(new).returning(report_schedules::id).get_result(conn).await
}

pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ReportSchedule>> {
    report_schedules::table.order(report_schedules::id).select(ReportSchedule::as_select()).load(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, id: ReportScheduleId) -> QueryResult<Option<ReportSchedule>> {
    report_schedules::table.find(id).select(ReportSchedule::as_select()).first(conn).await.optional()
}

/// Removes a schedule; the reports it sent stay. False when there was none.
pub async fn delete(conn: &mut AsyncPgConnection, id: ReportScheduleId) -> QueryResult<bool> {
    Ok(diesel::delete(report_schedules::table.find(id)).execute(conn).await? > 0)
}
