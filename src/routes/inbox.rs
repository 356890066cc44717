//! The inbox: comments on the accounts' posts as threads, with filters; admins reply, hide,
//! unhide, delete and flag, and keep saved replies and rules. Comment text is untrusted:
//! the templates escape it, and nothing in it becomes a link.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::{Notice, PageContext, render, see_other};
use crate::auth::{AdminUser, CsrfForm, CurrentUser};
use crate::db::comments::{InboxFilter, InboxRow, WAITING_DAYS};
use crate::db::inbox::ActionRecord;
use crate::domain::{AccountId, PostId};
use crate::error::{AppError, AppResult};
use crate::services::Views;
use crate::services::inbox::{Actor, DRY_RUN_DAYS, Inbox, InboxError, REPLY_LIMIT, RuleDraft, Thread};
use crate::services::views::format::excerpt;

/// Threads shown on one page.
const THREADS_SHOWN: i64 = 30;

pub struct CommentView {
    pub id: String,
    pub username: String,
    pub text: String,
    pub when: String,
    pub by_account: bool,
    pub hidden: bool,
    pub flagged: bool,
    /// A top-level comment: deleting it deletes its replies.
    pub replies_follow: bool,
}

pub struct ActionView {
    pub id: i64,
    pub what: String,
    pub actor: String,
    pub when: String,
    pub automatic: bool,
    pub undone: Option<String>,
    pub undoable: bool,
}

pub struct MentionView {
    pub comment_id: String,
    pub account: String,
    pub username: String,
    pub text: Option<String>,
    pub problem: Option<String>,
    pub when: String,
    pub permalink: Option<String>,
    pub answers: Vec<ActionView>,
}

pub struct ThreadView {
    pub account: String,
    pub post: Option<i64>,
    pub post_caption: String,
    pub comment: CommentView,
    pub replies: Vec<CommentView>,
    pub actions: Vec<ActionView>,
    pub unanswered: bool,
}

#[derive(Template)]
#[template(path = "inbox/index.html")]
struct InboxPage {
    page: PageContext,
    csrf_token: String,
    admin: bool,
    threads: Vec<ThreadView>,
    mentions: Vec<MentionView>,
    waiting: Option<i64>,
    waiting_days: i64,
    accounts: Vec<(i64, String, bool)>,
    post: Option<i64>,
    show: String,
    keyword: String,
    timezone: String,
    /// The query of this view, for forms to come back to it.
    back: String,
    older: Option<String>,
    saved_replies: Vec<(i64, String, String)>,
    reply_limit: usize,
    error: Option<String>,
    /// A reply that could not be sent, kept in its form: (comment id, text).
    draft: Option<(String, String)>,
}

impl InboxPage {
    /// The text to put back in the reply form of `comment_id`.
    fn draft_for(&self, comment_id: &str) -> &str {
        self.draft.as_ref().filter(|(id, _)| id == comment_id).map_or("", |(_, text)| text.as_str())
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct InboxQuery {
    #[serde(default, deserialize_with = "super::analytics::empty_as_none")]
    account: Option<i64>,
    #[serde(default, deserialize_with = "super::analytics::empty_as_none")]
    post: Option<i64>,
    show: Option<String>,
    q: Option<String>,
    /// `<microseconds>_<row id>` of the last thread of the previous page.
    before: Option<String>,
}

impl InboxQuery {
    fn show(&self) -> &'static str {
        match self.show.as_deref() {
            Some("waiting") => "waiting",
            Some("questions") => "questions",
            Some("hidden") => "hidden",
            Some("flagged") => "flagged",
            Some("mentions") => "mentions",
            _ => "all",
        }
    }

    fn filter(&self) -> InboxFilter {
        let show = self.show();
        let before = self.before.as_deref().and_then(|b| {
            let (micros, id) = b.split_once('_')?;
            Some((DateTime::from_timestamp_micros(micros.parse().ok()?)?, id.parse().ok()?))
        });
        InboxFilter {
            account: self.account.map(AccountId),
            post: self.post.map(PostId),
            waiting: show == "waiting",
            hidden: show == "hidden",
            flagged: show == "flagged",
            questions: show == "questions",
            // PostgreSQL takes no NUL in text: a search for one is a search for nothing.
            keyword: self
                .q
                .as_deref()
                .map(|k| k.replace('\0', ""))
                .filter(|k| !k.trim().is_empty())
                .map(|k| k.trim().chars().take(100).collect()),
            before,
        }
    }

    /// The view's query string (without the page position).
    fn encoded(&self) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        if let Some(account) = self.account {
            pairs.append_pair("account", &account.to_string());
        }
        if let Some(post) = self.post {
            pairs.append_pair("post", &post.to_string());
        }
        if self.show() != "all" {
            pairs.append_pair("show", self.show());
        }
        if let Some(q) = self.q.as_deref().filter(|q| !q.trim().is_empty()) {
            pairs.append_pair("q", q);
        }
        pairs.finish()
    }
}

pub async fn inbox(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<InboxQuery>,
    inbox: web::Data<Inbox>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    inbox_page(&user, notice, &query, &inbox, &views, None, None).await
}

async fn inbox_page(
    user: &CurrentUser,
    notice: Notice,
    query: &InboxQuery,
    inbox: &Inbox,
    views: &Views,
    error: Option<(StatusCode, String)>,
    draft: Option<(String, String)>,
) -> AppResult<HttpResponse> {
    let tz = views.basis().await?.tz();
    let show_mentions = query.show() == "mentions";
    let threads = if show_mentions { Vec::new() } else { inbox.threads(&query.filter(), THREADS_SHOWN).await? };
    let mentions = if show_mentions {
        inbox
            .mentions(query.account.map(AccountId), THREADS_SHOWN)
            .await?
            .iter()
            .map(|(m, account, answers)| MentionView {
                comment_id: m.comment_id.clone(),
                account: account.clone(),
                username: m.username.clone().unwrap_or_else(|| "someone".into()),
                text: m.text.clone(),
                problem: m.fetch_problem.clone(),
                when: m.mentioned_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                permalink: m.permalink.clone(),
                answers: answers.iter().map(|a| action_view(a, &tz)).collect(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let older = (threads.len() == usize::try_from(THREADS_SHOWN).unwrap_or(usize::MAX))
        .then(|| threads.last())
        .flatten()
        .map(|t| {
            let position = format!("{}_{}", t.comment.comment.commented_at.timestamp_micros(), t.comment.comment.id);
            let back = query.encoded();
            if back.is_empty() { format!("before={position}") } else { format!("{back}&before={position}") }
        });
    let threads = threads.iter().map(|t| thread_view(t, &tz)).collect();
    let accounts =
        views.accounts().await?.into_iter().map(|a| (a.id.0, a.username, Some(a.id.0) == query.account)).collect();
    let saved_replies = if user.is_admin() { saved_reply_rows(inbox).await? } else { Vec::new() };
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = InboxPage {
        page: PageContext::new(user, notice, "inbox"),
        csrf_token: user.csrf_token.clone(),
        admin: user.is_admin(),
        threads,
        mentions,
        waiting: user.inbox_waiting,
        waiting_days: WAITING_DAYS,
        accounts,
        post: query.post,
        show: query.show().to_owned(),
        keyword: query.q.clone().unwrap_or_default(),
        timezone: tz.name().to_owned(),
        back: query.encoded(),
        older,
        saved_replies,
        reply_limit: REPLY_LIMIT,
        error,
        draft,
    };
    render(status, &page)
}

fn comment_view(row: &InboxRow, tz: &Tz) -> CommentView {
    CommentView {
        id: row.comment.comment_id.clone(),
        username: row.comment.username.clone().unwrap_or_else(|| "someone".into()),
        text: row.comment.text.clone(),
        when: row.comment.commented_at.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string(),
        by_account: row.by_account,
        hidden: row.comment.hidden,
        flagged: row.comment.flagged,
        replies_follow: row.comment.parent_id.is_none(),
    }
}

fn action_view(record: &ActionRecord, tz: &Tz) -> ActionView {
    let what = match record.action.as_str() {
        "reply" => format!("Replied “{}”", excerpt(&record.detail, 60)),
        "hide" => "Hidden".to_owned(),
        "unhide" => "Shown again".to_owned(),
        "delete" => format!("Deleted {}", record.detail),
        "flag" => "Flagged".to_owned(),
        "unflag" => "Flag cleared".to_owned(),
        other => other.to_owned(),
    };
    let when = |t: DateTime<Utc>| t.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string();
    ActionView {
        id: record.id,
        what,
        actor: record.actor.clone(),
        when: when(record.acted_at),
        automatic: record.rule_id.is_some(),
        undone: record
            .undone_at
            .map(|t| format!("undone by {} at {}", record.undone_by.as_deref().unwrap_or("?"), when(t))),
        undoable: record.rule_id.is_some()
            && record.undone_at.is_none()
            && matches!(record.action.as_str(), "hide" | "reply" | "flag"),
    }
}

fn thread_view(thread: &Thread, tz: &Tz) -> ThreadView {
    ThreadView {
        account: thread.comment.account_username.clone(),
        post: thread.comment.post_id,
        post_caption: excerpt(thread.comment.post_caption.as_deref().unwrap_or_default(), 60),
        comment: comment_view(&thread.comment, tz),
        replies: thread.replies.iter().map(|r| comment_view(r, tz)).collect(),
        actions: thread.actions.iter().map(|a| action_view(a, tz)).collect(),
        unanswered: thread.unanswered(),
    }
}

/// Where a form returns: the inbox view it was sent from.
#[derive(Debug, Deserialize)]
pub struct BackForm {
    #[serde(default)]
    back: String,
}

#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    message: String,
    /// A saved reply to send when the message is left empty.
    #[serde(default, deserialize_with = "super::analytics::empty_as_none")]
    saved: Option<i64>,
    #[serde(default)]
    back: String,
}

/// Instagram's comment ids are digits; anything else names no comment.
fn comment_id(path: &str) -> AppResult<&str> {
    if !path.is_empty() && path.len() <= 32 && path.bytes().all(|b| b.is_ascii_digit()) {
        Ok(path)
    } else {
        Err(AppError::NotFound)
    }
}

/// Back to the inbox view after an action, at the thread.
fn back_to(back: &str, notice: &str, anchor: &str) -> HttpResponse {
    let query: InboxQuery = serde_urlencoded::from_str(back).unwrap_or_default();
    let view = query.encoded();
    let sep = if view.is_empty() { "" } else { "&" };
    see_other(&format!("/inbox?{view}{sep}notice={notice}#c{anchor}"))
}

/// Where an action leads: back to the inbox view at the thread, or the view again with what
/// went wrong (and the reply that was being written, so nothing typed is lost).
struct Outcome<'a> {
    user: &'a CurrentUser,
    back: &'a str,
    notice: &'a str,
    anchor: &'a str,
    draft: Option<String>,
}

async fn outcome(
    result: Result<(), InboxError>,
    to: Outcome<'_>,
    inbox: &Inbox,
    views: &Views,
) -> AppResult<HttpResponse> {
    let Outcome { user, back, notice, anchor, draft } = to;
    let error = match result {
        Ok(()) => return Ok(back_to(back, notice, anchor)),
        Err(InboxError::NotFound) => return Err(AppError::NotFound),
        Err(InboxError::Db(err)) => return Err(err.into()),
        Err(InboxError::Invalid(message)) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Err(InboxError::Refused(message)) => (StatusCode::CONFLICT, message),
    };
    let query: InboxQuery = serde_urlencoded::from_str(back).unwrap_or_default();
    let draft = draft.map(|text| (anchor.to_owned(), text));
    inbox_page(user, Notice::default(), &query, inbox, views, Some(error), draft).await
}

pub async fn reply(
    AdminUser(user): AdminUser,
    path: web::Path<String>,
    form: CsrfForm<ReplyForm>,
    inbox: web::Data<Inbox>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let id = comment_id(&path)?;
    let form = form.0;
    let message = match (form.message.trim().is_empty(), form.saved) {
        (true, Some(saved)) => inbox.saved_reply_for(saved, id).await?,
        _ => form.message,
    };
    let result = inbox.reply(&Actor::user(user.id, &user.username), id, &message).await;
    let to = Outcome { user: &user, back: &form.back, notice: "comment-replied", anchor: id, draft: Some(message) };
    outcome(result, to, &inbox, &views).await
}

pub async fn reply_to_mention(
    AdminUser(user): AdminUser,
    path: web::Path<String>,
    form: CsrfForm<ReplyForm>,
    inbox: web::Data<Inbox>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let id = comment_id(&path)?;
    // The mention's form offers no saved reply: only what was typed is sent.
    let ReplyForm { message, back, .. } = form.0;
    let result = inbox.reply_to_mention(&Actor::user(user.id, &user.username), id, &message).await;
    let to = Outcome { user: &user, back: &back, notice: "comment-replied", anchor: id, draft: Some(message) };
    outcome(result, to, &inbox, &views).await
}

macro_rules! comment_action {
    ($name:ident, $notice:literal, |$inbox:ident, $actor:ident, $id:ident| $call:expr) => {
        pub async fn $name(
            AdminUser(user): AdminUser,
            path: web::Path<String>,
            form: CsrfForm<BackForm>,
            inbox: web::Data<Inbox>,
            views: web::Data<Views>,
        ) -> AppResult<HttpResponse> {
            let $id = comment_id(&path)?;
            let $actor = Actor::user(user.id, &user.username);
            let $inbox = &inbox;
            let result = $call.await;
            let to = Outcome { user: &user, back: &form.0.back, notice: $notice, anchor: $id, draft: None };
            outcome(result, to, &inbox, &views).await
        }
    };
}

comment_action!(hide, "comment-hidden", |inbox, actor, id| inbox.set_hidden(&actor, id, true));
comment_action!(unhide, "comment-shown", |inbox, actor, id| inbox.set_hidden(&actor, id, false));
comment_action!(delete, "comment-deleted", |inbox, actor, id| inbox.delete(&actor, id));
comment_action!(flag, "comment-flagged", |inbox, actor, id| inbox.set_flagged(&actor, id, true));
comment_action!(unflag, "comment-unflagged", |inbox, actor, id| inbox.set_flagged(&actor, id, false));

pub async fn undo(
    AdminUser(user): AdminUser,
    path: web::Path<i64>,
    form: CsrfForm<BackForm>,
    inbox: web::Data<Inbox>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let result = inbox.undo(&Actor::user(user.id, &user.username), *path).await;
    let to = Outcome { user: &user, back: &form.0.back, notice: "action-undone", anchor: "", draft: None };
    outcome(result, to, &inbox, &views).await
}

// ---- Saved replies and rules -------------------------------------------------------------

pub struct RuleView {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub matches: String,
    pub does: String,
    pub per_hour: i32,
    pub enabled: bool,
}

#[derive(Template)]
#[template(path = "inbox/rules.html")]
struct RulesPage {
    page: PageContext,
    csrf_token: String,
    admin: bool,
    saved_replies: Vec<(i64, String, String)>,
    rules: Vec<RuleView>,
    accounts: Vec<(i64, String)>,
    automatic: Vec<ActionView>,
    reply_limit: usize,
    error: Option<String>,
    draft_reply: (String, String),
    draft_rule: RuleForm,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "super::analytics::empty_as_none")]
    pub account: Option<i64>,
    #[serde(default)]
    pub match_kind: String,
    #[serde(default)]
    pub pattern: String,
    #[serde(default)]
    pub action: String,
    #[serde(default, deserialize_with = "super::analytics::empty_as_none")]
    pub saved_reply: Option<i64>,
    #[serde(default, deserialize_with = "super::analytics::empty_as_none")]
    pub per_hour: Option<i32>,
}

impl RuleForm {
    pub fn account_is(&self, id: &i64) -> bool {
        self.account == Some(*id)
    }

    pub fn saved_is(&self, id: &i64) -> bool {
        self.saved_reply == Some(*id)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedReplyForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

fn rule_view(rule: &crate::db::inbox::Rule, accounts: &[(i64, String)], replies: &[(i64, String, String)]) -> RuleView {
    let scope = match rule.account_id {
        Some(id) => {
            accounts.iter().find(|(a, _)| *a == id.0).map_or("a removed account".into(), |(_, u)| format!("@{u}"))
        }
        None => "every account".into(),
    };
    let matches = if rule.match_kind == "pattern" {
        format!("matches the pattern {}", rule.pattern)
    } else {
        format!("contains any of: {}", rule.pattern)
    };
    let does = match rule.action.as_str() {
        "hide" => "hide the comment".to_owned(),
        "flag" => "flag it for attention".to_owned(),
        _ => {
            let title = replies.iter().find(|r| Some(r.0) == rule.saved_reply_id).map_or("?", |r| r.1.as_str());
            format!("reply with “{title}”")
        }
    };
    RuleView {
        id: rule.id,
        name: rule.name.clone(),
        scope,
        matches,
        does,
        per_hour: rule.per_hour,
        enabled: rule.enabled,
    }
}

pub async fn rules(
    user: CurrentUser,
    notice: Notice,
    inbox: web::Data<Inbox>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    rules_page(&user, notice, &inbox, &views, None, (String::new(), String::new()), RuleForm::default()).await
}

async fn rules_page(
    user: &CurrentUser,
    notice: Notice,
    inbox: &Inbox,
    views: &Views,
    error: Option<String>,
    draft_reply: (String, String),
    draft_rule: RuleForm,
) -> AppResult<HttpResponse> {
    let tz = views.basis().await?.tz();
    let accounts: Vec<(i64, String)> = views.accounts().await?.into_iter().map(|a| (a.id.0, a.username)).collect();
    let saved_replies: Vec<(i64, String, String)> = saved_reply_rows(inbox).await?;
    let rules = inbox.rules().await?.iter().map(|r| rule_view(r, &accounts, &saved_replies)).collect();
    let automatic = inbox.automatic_actions(30).await?.iter().map(|a| action_view(a, &tz)).collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = RulesPage {
        page: PageContext::new(user, notice, "inbox"),
        csrf_token: user.csrf_token.clone(),
        admin: user.is_admin(),
        saved_replies,
        rules,
        accounts,
        automatic,
        reply_limit: REPLY_LIMIT,
        error,
        draft_reply,
        draft_rule,
    };
    render(status, &page)
}

pub async fn add_saved_reply(
    AdminUser(user): AdminUser,
    form: CsrfForm<SavedReplyForm>,
    inbox: web::Data<Inbox>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let form = form.0;
    match inbox.add_saved_reply(&form.title, &form.body).await {
        Ok(()) => Ok(see_other("/inbox/rules?notice=saved-reply-added")),
        Err(InboxError::Invalid(message)) => {
            rules_page(
                &user,
                Notice::default(),
                &inbox,
                &views,
                Some(message),
                (form.title, form.body),
                RuleForm::default(),
            )
            .await
        }
        Err(err) => Err(inbox_error(err)),
    }
}

pub async fn delete_saved_reply(
    AdminUser(user): AdminUser,
    path: web::Path<i64>,
    _form: CsrfForm<super::EmptyForm>,
    inbox: web::Data<Inbox>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    match inbox.delete_saved_reply(*path).await {
        Ok(()) => Ok(see_other("/inbox/rules?notice=saved-reply-deleted")),
        Err(InboxError::Invalid(message)) => {
            let empty = (String::new(), String::new());
            rules_page(&user, Notice::default(), &inbox, &views, Some(message), empty, RuleForm::default()).await
        }
        Err(err) => Err(inbox_error(err)),
    }
}

pub async fn add_rule(
    AdminUser(user): AdminUser,
    form: CsrfForm<RuleForm>,
    inbox: web::Data<Inbox>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let form = form.0;
    let draft = RuleDraft {
        name: form.name.clone(),
        account: form.account.map(AccountId),
        match_kind: form.match_kind.clone(),
        pattern: form.pattern.clone(),
        action: form.action.clone(),
        saved_reply: form.saved_reply,
        per_hour: form.per_hour.unwrap_or(0),
    };
    match inbox.add_rule(&draft).await {
        Ok(id) => Ok(see_other(&format!("/inbox/rules/{id}?notice=rule-added"))),
        Err(InboxError::Invalid(message)) => {
            let empty = (String::new(), String::new());
            rules_page(&user, Notice::default(), &inbox, &views, Some(message), empty, form).await
        }
        Err(err) => Err(inbox_error(err)),
    }
}

pub struct HitView {
    pub account: String,
    pub username: String,
    pub text: String,
    pub when: String,
    pub acted: bool,
}

#[derive(Template)]
#[template(path = "inbox/rule.html")]
struct RulePage {
    page: PageContext,
    csrf_token: String,
    admin: bool,
    rule: RuleView,
    days: i64,
    hits: Vec<HitView>,
    would_act: usize,
    limited: usize,
}

pub async fn show_rule(
    user: CurrentUser,
    notice: Notice,
    path: web::Path<i64>,
    inbox: web::Data<Inbox>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let rule = inbox.rule(*path).await?.ok_or(AppError::NotFound)?;
    let tz = views.basis().await?.tz();
    let accounts: Vec<(i64, String)> = views.accounts().await?.into_iter().map(|a| (a.id.0, a.username)).collect();
    let replies: Vec<(i64, String, String)> = saved_reply_rows(&inbox).await?;
    let hits = inbox.dry_run(&rule).await.map_err(inbox_error)?;
    let would_act = hits.iter().filter(|h| h.acted).count();
    let hits: Vec<HitView> = hits
        .iter()
        .rev()
        .map(|h| HitView {
            account: accounts
                .iter()
                .find(|(a, _)| *a == h.comment.account_id.0)
                .map_or(String::new(), |(_, u)| u.clone()),
            username: h.comment.username.clone().unwrap_or_else(|| "someone".into()),
            text: h.comment.text.clone(),
            when: h.comment.commented_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
            acted: h.acted,
        })
        .collect();
    let page = RulePage {
        page: PageContext::new(&user, notice, "inbox"),
        csrf_token: user.csrf_token.clone(),
        admin: user.is_admin(),
        rule: rule_view(&rule, &accounts, &replies),
        days: DRY_RUN_DAYS,
        limited: hits.len() - would_act,
        would_act,
        hits,
    };
    render(StatusCode::OK, &page)
}

pub async fn enable_rule(
    AdminUser(_): AdminUser,
    path: web::Path<i64>,
    _form: CsrfForm<super::EmptyForm>,
    inbox: web::Data<Inbox>,
) -> AppResult<HttpResponse> {
    inbox.set_rule_enabled(*path, true).await.map_err(inbox_error)?;
    Ok(see_other("/inbox/rules?notice=rule-on"))
}

pub async fn disable_rule(
    AdminUser(_): AdminUser,
    path: web::Path<i64>,
    _form: CsrfForm<super::EmptyForm>,
    inbox: web::Data<Inbox>,
) -> AppResult<HttpResponse> {
    inbox.set_rule_enabled(*path, false).await.map_err(inbox_error)?;
    Ok(see_other("/inbox/rules?notice=rule-off"))
}

pub async fn delete_rule(
    AdminUser(_): AdminUser,
    path: web::Path<i64>,
    _form: CsrfForm<super::EmptyForm>,
    inbox: web::Data<Inbox>,
) -> AppResult<HttpResponse> {
    inbox.delete_rule(*path).await.map_err(inbox_error)?;
    Ok(see_other("/inbox/rules?notice=rule-deleted"))
}

/// The saved replies as the templates list them: (id, title, body).
async fn saved_reply_rows(inbox: &Inbox) -> AppResult<Vec<(i64, String, String)>> {
    Ok(inbox.saved_replies().await?.into_iter().map(|r| (r.id, r.title, r.body)).collect())
}

fn inbox_error(err: InboxError) -> AppError {
    match err {
        InboxError::NotFound => AppError::NotFound,
        InboxError::Db(err) => err.into(),
        InboxError::Invalid(message) => AppError::BadRequest(message),
        InboxError::Refused(message) => AppError::Conflict(message),
    }
}
