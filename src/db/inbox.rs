//! What Tidemark does to comments: the action log, saved replies and rules.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{comment_actions, comment_rules, saved_replies};
use crate::domain::{AccountId, UserId};

/// One action as recorded.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comment_actions, check_for_backend(diesel::pg::Pg))]
pub struct ActionRecord {
    pub id: i64,
    pub account_id: AccountId,
    pub comment_id: String,
    pub action: String,
    pub user_id: Option<UserId>,
    pub rule_id: Option<i64>,
    pub actor: String,
    pub reply_id: Option<String>,
    pub detail: String,
    pub acted_at: DateTime<Utc>,
    pub undone_at: Option<DateTime<Utc>>,
    pub undone_by: Option<String>,
}

/// An action to record.
#[derive(Debug, Clone)]
pub struct NewAction<'a> {
    pub account_id: AccountId,
    pub comment_id: &'a str,
    pub action: &'static str,
    pub user_id: Option<UserId>,
    pub rule_id: Option<i64>,
    pub actor: &'a str,
    pub reply_id: Option<&'a str>,
    pub detail: &'a str,
}

pub async fn record(conn: &mut AsyncPgConnection, action: &NewAction<'_>, at: DateTime<Utc>) -> QueryResult<i64> {
    diesel::insert_into(comment_actions::table)
        .values((
            comment_actions::account_id.eq(action.account_id),
            comment_actions::comment_id.eq(action.comment_id),
            comment_actions::action.eq(action.action),
            comment_actions::user_id.eq(action.user_id),
            comment_actions::rule_id.eq(action.rule_id),
            comment_actions::actor.eq(action.actor),
            comment_actions::reply_id.eq(action.reply_id),
            comment_actions::detail.eq(action.detail),
            comment_actions::acted_at.eq(at),
        ))
        .returning(comment_actions::id)
        .get_result(conn)
        .await
}

/// The actions on the given comments (or replies made to them), oldest first.
pub async fn on_comments(conn: &mut AsyncPgConnection, comment_ids: &[String]) -> QueryResult<Vec<ActionRecord>> {
    comment_actions::table
        .filter(comment_actions::comment_id.eq_any(comment_ids))
        .order(comment_actions::acted_at.asc())
        .select(ActionRecord::as_select())
        .load(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<ActionRecord>> {
    comment_actions::table.find(id).select(ActionRecord::as_select()).first(conn).await.optional()
}

/// Marks an action reversed.
pub async fn mark_undone(conn: &mut AsyncPgConnection, id: i64, by: &str, at: DateTime<Utc>) -> QueryResult<bool> {
    let changed = diesel::update(comment_actions::table.find(id).filter(comment_actions::undone_at.is_null()))
        .set((comment_actions::undone_at.eq(at), comment_actions::undone_by.eq(by)))
        .execute(conn)
        .await?;
    Ok(changed == 1)
}

/// Actions a rule took since `since`.
pub async fn rule_actions_since(conn: &mut AsyncPgConnection, rule: i64, since: DateTime<Utc>) -> QueryResult<i64> {
    comment_actions::table
        .filter(comment_actions::rule_id.eq(rule))
        .filter(comment_actions::acted_at.ge(since))
        .count()
        .get_result(conn)
        .await
}

/// The latest automatic actions, newest first.
pub async fn recent_automatic(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<ActionRecord>> {
    comment_actions::table
        .filter(comment_actions::rule_id.is_not_null())
        .order(comment_actions::acted_at.desc())
        .limit(limit)
        .select(ActionRecord::as_select())
        .load(conn)
        .await
}

/// Forgets actions taken before `cutoff` (the history window).
pub async fn delete_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(comment_actions::table.filter(comment_actions::acted_at.lt(cutoff))).execute(conn).await
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = saved_replies, check_for_backend(diesel::pg::Pg))]
pub struct SavedReply {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn saved_replies(conn: &mut AsyncPgConnection) -> QueryResult<Vec<SavedReply>> {
    saved_replies::table.order(saved_replies::title.asc()).select(SavedReply::as_select()).load(conn).await
}

pub async fn saved_reply(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<SavedReply>> {
    saved_replies::table.find(id).select(SavedReply::as_select()).first(conn).await.optional()
}

/// Saves a reply template; false when the title is taken.
pub async fn add_saved_reply(
    conn: &mut AsyncPgConnection,
    title: &str,
    body: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(saved_replies::table)
        .values((
            saved_replies::title.eq(title),
            saved_replies::body.eq(body),
            saved_replies::created_at.eq(now),
            saved_replies::updated_at.eq(now),
        ))
        .on_conflict(saved_replies::title)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Deletes a template; false when a rule still uses it (or it does not exist).
pub async fn delete_saved_reply(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    let used: i64 = comment_rules::table.filter(comment_rules::saved_reply_id.eq(id)).count().get_result(conn).await?;
    if used > 0 {
        return Ok(false);
    }
    Ok(diesel::delete(saved_replies::table.find(id)).execute(conn).await? == 1)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comment_rules, check_for_backend(diesel::pg::Pg))]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub account_id: Option<AccountId>,
    pub match_kind: String,
    pub pattern: String,
    pub action: String,
    pub saved_reply_id: Option<i64>,
    pub per_hour: i32,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A rule to save (switched off: it is switched on after its dry run has been seen).
#[derive(Debug, Clone)]
pub struct NewRule<'a> {
    pub name: &'a str,
    pub account_id: Option<AccountId>,
    pub match_kind: &'static str,
    pub pattern: &'a str,
    pub action: &'static str,
    pub saved_reply_id: Option<i64>,
    pub per_hour: i32,
}

pub async fn rules(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Rule>> {
    comment_rules::table.order(comment_rules::id.asc()).select(Rule::as_select()).load(conn).await
}

pub async fn rule(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Rule>> {
    comment_rules::table.find(id).select(Rule::as_select()).first(conn).await.optional()
}

pub async fn add_rule(conn: &mut AsyncPgConnection, rule: &NewRule<'_>, now: DateTime<Utc>) -> QueryResult<i64> {
    diesel::insert_into(comment_rules::table)
        .values((
            comment_rules::name.eq(rule.name),
            comment_rules::account_id.eq(rule.account_id),
            comment_rules::match_kind.eq(rule.match_kind),
            comment_rules::pattern.eq(rule.pattern),
            comment_rules::action.eq(rule.action),
            comment_rules::saved_reply_id.eq(rule.saved_reply_id),
            comment_rules::per_hour.eq(rule.per_hour),
            comment_rules::enabled.eq(false),
            comment_rules::created_at.eq(now),
        ))
        .returning(comment_rules::id)
        .get_result(conn)
        .await
}

pub async fn set_rule_enabled(conn: &mut AsyncPgConnection, id: i64, enabled: bool) -> QueryResult<bool> {
    Ok(diesel::update(comment_rules::table.find(id)).set(comment_rules::enabled.eq(enabled)).execute(conn).await? == 1)
}

pub async fn delete_rule(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(comment_rules::table.find(id)).execute(conn).await? == 1)
}
