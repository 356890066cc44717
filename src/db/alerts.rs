//! Alert rules, the alerts they fired, and the figures they judge.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{
    account_daily_insights, alert_events, alert_rules, ig_accounts, post_scores, posts, publications, sync_runs,
};
use crate::analytics::Format;
use crate::analytics::alerts::{FailedPublication, ScoredPost, SyncRun};
use crate::domain::{
    AccountId, AccountStatus, AlertEventId, AlertKind, AlertRuleId, PublicationStatus, SyncOutcome, UserId,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alert_rules, check_for_backend(diesel::pg::Pg))]
pub struct AlertRule {
    pub id: AlertRuleId,
    pub kind: AlertKind,
    /// `None`: every account.
    pub account_id: Option<AccountId>,
    pub threshold: i32,
    pub quiet_hours: i32,
    recipients: Vec<Option<String>>,
    pub webhook_url: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

impl AlertRule {
    pub fn recipients(&self) -> Vec<String> {
        self.recipients.iter().flatten().cloned().collect()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = alert_rules)]
pub struct NewAlertRule {
    pub kind: AlertKind,
    pub account_id: Option<AccountId>,
    pub threshold: i32,
    pub quiet_hours: i32,
    pub recipients: Vec<String>,
    pub webhook_url: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_rule(conn: &mut AsyncPgConnection, rule: &NewAlertRule) -> QueryResult<AlertRuleId> {
    diesel::insert_into(alert_rules::table).values(rule).returning(alert_rules::id).get_result(conn).await
}

pub async fn rules(conn: &mut AsyncPgConnection) -> QueryResult<Vec<AlertRule>> {
    alert_rules::table.order(alert_rules::id).select(AlertRule::as_select()).load(conn).await
}

pub async fn set_enabled(conn: &mut AsyncPgConnection, id: AlertRuleId, enabled: bool) -> QueryResult<bool> {
    Ok(diesel::update(alert_rules::table.find(id)).set(alert_rules::enabled.eq(enabled)).execute(conn).await? > 0)
}

/// Deletes a rule; what it fired stays listed.
pub async fn delete_rule(conn: &mut AsyncPgConnection, id: AlertRuleId) -> QueryResult<bool> {
    Ok(diesel::delete(alert_rules::table.find(id)).execute(conn).await? > 0)
}

/// How an alert reached people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deliveries {
    /// mailed, failed, not_mailed or none.
    pub email: &'static str,
    pub email_error: Option<String>,
    /// delivered, failed or none.
    pub webhook: &'static str,
    pub webhook_error: Option<String>,
}

impl Deliveries {
    pub fn failed(&self) -> bool {
        self.email == "failed" || self.webhook == "failed"
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alert_events, check_for_backend(diesel::pg::Pg))]
pub struct AlertEvent {
    pub id: AlertEventId,
    pub rule_id: Option<AlertRuleId>,
    pub kind: AlertKind,
    pub account_id: Option<AccountId>,
    pub subject: String,
    pub fired_at: DateTime<Utc>,
    pub title: String,
    pub detail: String,
    pub email: String,
    pub email_error: Option<String>,
    pub webhook: String,
    pub webhook_error: Option<String>,
    pub attempts: i16,
    pub tried_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = alert_events)]
pub struct NewAlertEvent<'a> {
    pub rule_id: Option<AlertRuleId>,
    pub kind: AlertKind,
    pub account_id: Option<AccountId>,
    pub subject: &'a str,
    pub fired_at: DateTime<Utc>,
    pub title: &'a str,
    pub detail: &'a str,
    pub email: &'a str,
    pub webhook: &'a str,
    pub tried_at: DateTime<Utc>,
}

pub async fn insert_event(conn: &mut AsyncPgConnection, event: &NewAlertEvent<'_>) -> QueryResult<AlertEventId> {
    diesel::insert_into(alert_events::table).values(event).returning(alert_events::id).get_result(conn).await
}

/// Records how the alert was (or was not) delivered, counting the attempt when `again`.
pub async fn record_deliveries(
    conn: &mut AsyncPgConnection,
    id: AlertEventId,
    deliveries: &Deliveries,
    at: DateTime<Utc>,
    again: bool,
) -> QueryResult<()> {
    let target = alert_events::table.find(id);
    let changes = (
        alert_events::email.eq(deliveries.email),
        alert_events::email_error.eq(deliveries.email_error.as_deref()),
        alert_events::webhook.eq(deliveries.webhook),
        alert_events::webhook_error.eq(deliveries.webhook_error.as_deref()),
        alert_events::tried_at.eq(at),
    );
    if again {
        diesel::update(target)
            .set((changes, alert_events::attempts.eq(alert_events::attempts + 1)))
            .execute(conn)
            .await?;
    } else {
        diesel::update(target).set(changes).execute(conn).await?;
    }
    Ok(())
}

/// Whether the rule fired about `subject` since `since`.
pub async fn fired_since(
    conn: &mut AsyncPgConnection,
    rule: AlertRuleId,
    subject: &str,
    since: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        alert_events::table
            .filter(alert_events::rule_id.eq(rule))
            .filter(alert_events::subject.eq(subject))
            .filter(alert_events::fired_at.ge(since)),
    ))
    .get_result(conn)
    .await
}

pub async fn recent_events(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<AlertEvent>> {
    alert_events::table.order(alert_events::id.desc()).limit(limit).select(AlertEvent::as_select()).load(conn).await
}

/// Alerts whose mail or webhook failed fewer than `max_attempts` times, last tried before
/// `tried_before`.
pub async fn to_retry(
    conn: &mut AsyncPgConnection,
    max_attempts: i16,
    tried_before: DateTime<Utc>,
) -> QueryResult<Vec<AlertEvent>> {
    alert_events::table
        .filter(alert_events::email.eq("failed").or(alert_events::webhook.eq("failed")))
        .filter(alert_events::attempts.lt(max_attempts))
        .filter(alert_events::tried_at.lt(tried_before))
        .order(alert_events::id)
        .select(AlertEvent::as_select())
        .load(conn)
        .await
}

/// Alerts fired before `cutoff`.
pub async fn delete_events_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(alert_events::table.filter(alert_events::fired_at.lt(cutoff))).execute(conn).await
}

/// A post's score as read, before it is checked.
#[derive(Queryable)]
struct ScoreRow {
    post: i64,
    account: AccountId,
    username: String,
    format: String,
    posted_at: DateTime<Utc>,
    caption: Option<String>,
    impact: Option<i16>,
    cohort: i32,
    checkpoint_hours: Option<i32>,
    reach: Option<i64>,
}

/// Posts published since `since` with an impact score (of one account, or all).
pub async fn scored_posts(
    conn: &mut AsyncPgConnection,
    account: Option<AccountId>,
    since: DateTime<Utc>,
) -> QueryResult<Vec<ScoredPost>> {
    let mut query = post_scores::table
        .inner_join(posts::table)
        .inner_join(ig_accounts::table.on(ig_accounts::id.eq(post_scores::account_id)))
        .filter(posts::posted_at.ge(since))
        .filter(posts::removed_at.is_null())
        .filter(post_scores::impact.is_not_null())
        .filter(post_scores::checkpoint_hours.is_not_null())
        .into_boxed();
    if let Some(account) = account {
        query = query.filter(post_scores::account_id.eq(account));
    }
    let rows: Vec<ScoreRow> = query
        .order(posts::posted_at)
        .select((
            posts::id,
            post_scores::account_id,
            ig_accounts::username,
            post_scores::format,
            posts::posted_at,
            posts::caption,
            post_scores::impact,
            post_scores::impact_cohort,
            post_scores::checkpoint_hours,
            post_scores::reach,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(ScoredPost {
                post: r.post,
                account: r.account,
                username: r.username,
                format: Format::from_key(&r.format)?,
                posted_at: r.posted_at,
                caption: r.caption.unwrap_or_default(),
                impact: r.impact?,
                cohort: r.cohort,
                checkpoint_hours: r.checkpoint_hours?,
                reach: r.reach,
            })
        })
        .collect())
}

/// An account as the rules about accounts see it.
pub struct WatchedAccount {
    pub id: AccountId,
    pub username: String,
    pub status: AccountStatus,
    pub token_expires_at: Option<DateTime<Utc>>,
}

pub async fn accounts(conn: &mut AsyncPgConnection, account: Option<AccountId>) -> QueryResult<Vec<WatchedAccount>> {
    let mut query = ig_accounts::table.into_boxed();
    if let Some(account) = account {
        query = query.filter(ig_accounts::id.eq(account));
    }
    let rows: Vec<(AccountId, String, AccountStatus, Option<DateTime<Utc>>)> = query
        .order(ig_accounts::id)
        .select((ig_accounts::id, ig_accounts::username, ig_accounts::status, ig_accounts::token_expires_at))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, username, status, token_expires_at)| WatchedAccount { id, username, status, token_expires_at })
        .collect())
}

/// The account's daily reach from `first` on, oldest first, every day present (`None` where
/// nothing was recorded).
pub async fn daily_reach(
    conn: &mut AsyncPgConnection,
    account: AccountId,
    first: NaiveDate,
    last: NaiveDate,
) -> QueryResult<Vec<(NaiveDate, Option<i64>)>> {
    let rows: Vec<(NaiveDate, Option<i64>)> = account_daily_insights::table
        .filter(account_daily_insights::account_id.eq(account))
        .filter(account_daily_insights::day.between(first, last))
        .select((account_daily_insights::day, account_daily_insights::reach))
        .load(conn)
        .await?;
    Ok(first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|day| (day, rows.iter().find(|(d, _)| *d == day).and_then(|(_, r)| *r)))
        .collect())
}

/// The account's last `limit` finished sync cycles, newest first.
pub async fn last_runs(conn: &mut AsyncPgConnection, account: AccountId, limit: i64) -> QueryResult<Vec<SyncRun>> {
    let rows: Vec<(SyncOutcome, DateTime<Utc>, Option<String>)> = sync_runs::table
        .filter(sync_runs::account_id.eq(account))
        .filter(sync_runs::finished_at.is_not_null())
        .order(sync_runs::started_at.desc())
        .limit(limit)
        .select((sync_runs::outcome, sync_runs::started_at, sync_runs::error_message))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|(outcome, started_at, error)| SyncRun { outcome, started_at, error }).collect())
}

type FailedRow = (i64, AccountId, String, DateTime<Utc>, Option<String>);

/// Publications that failed since `since`.
pub async fn failed_publications(
    conn: &mut AsyncPgConnection,
    account: Option<AccountId>,
    since: DateTime<Utc>,
) -> QueryResult<Vec<FailedPublication>> {
    let mut query = publications::table
        .inner_join(ig_accounts::table)
        .filter(publications::status.eq(PublicationStatus::Failed))
        .filter(publications::updated_at.ge(since))
        .into_boxed();
    if let Some(account) = account {
        query = query.filter(publications::account_id.eq(account));
    }
    let rows: Vec<FailedRow> = query
        .order(publications::id)
        .select((
            publications::id,
            publications::account_id,
            ig_accounts::username,
            publications::due_at,
            publications::last_error,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, account, username, due_at, error)| FailedPublication { id, account, username, due_at, error })
        .collect())
}
