//! The inbox: comments on the accounts' posts as threads (a top-level comment and its
//! replies), newest first, and what admins and rules do to them — reply, hide, unhide,
//! delete, flag — each sent to Instagram first, then stored and recorded with who did it.

use std::sync::Mutex;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncConnection;
use regex::{Regex, RegexBuilder};

use crate::crypto::TokenKey;
use crate::db::accounts::{Account, token_binding};
use crate::db::comments::{self, Comment, InboxFilter, InboxRow, NewComment, ResponseStats};
use crate::db::inbox::{self as actions, ActionRecord, NewAction, NewRule, Rule, SavedReply};
use crate::db::mentions::{self, Mention, MentionDetails};
use crate::db::{self, DbError};
use crate::domain::{AccountId, Clock, UserId};
use crate::graph::{AccessToken, Action, GraphClient, GraphError};
use crate::services::views::format::excerpt;

/// Instagram's limit on a comment's length (the same as a caption's).
pub const REPLY_LIMIT: usize = 2200;
/// How long the navigation's count of waiting threads is reused.
const WAITING_FRESH: StdDuration = StdDuration::from_secs(20);
/// Rules act only on comments received this recently: history brought in by a first sync
/// is never acted on.
const RULES_LOOKBACK: Duration = Duration::hours(1);
/// Comments judged per rules pass.
const RULES_BATCH: i64 = 500;
/// Mentions whose text is read per run.
const MENTIONS_PER_RUN: i64 = 20;
/// A rule's dry run looks this far back.
pub const DRY_RUN_DAYS: i64 = 30;

/// Who acts: a signed-in admin, or a rule.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: Option<UserId>,
    pub rule: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn user(id: UserId, username: &str) -> Self {
        Self { user: Some(id), rule: None, name: username.to_owned() }
    }

    fn rule(rule: &Rule) -> Self {
        Self { user: None, rule: Some(rule.id), name: format!("rule “{}”", rule.name) }
    }

    /// The record of something this actor did.
    fn action<'a>(
        &'a self,
        account_id: AccountId,
        comment_id: &'a str,
        action: &'static str,
        reply_id: Option<&'a str>,
        detail: &'a str,
    ) -> NewAction<'a> {
        NewAction {
            account_id,
            comment_id,
            action,
            user_id: self.user,
            rule_id: self.rule,
            actor: &self.name,
            reply_id,
            detail,
        }
    }
}

/// What an action changes in Tidemark's copy, once Instagram has done it.
enum Stored<'a> {
    Reply(&'a NewComment),
    Hidden(i64, bool),
    Deleted(AccountId, &'a str),
    Flagged(i64, bool),
}

/// Why an action was not done. Every text is fit for the page.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("there is no such comment")]
    NotFound,
    /// What was asked cannot be done as asked (an empty reply, a hidden comment).
    #[error("{0}")]
    Invalid(String),
    /// Instagram refused, or the account's connection does not allow it.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for InboxError {
    fn from(err: diesel::result::Error) -> Self {
        InboxError::Db(err.into())
    }
}

/// A thread as the inbox shows it.
#[derive(Debug, Clone)]
pub struct Thread {
    pub comment: InboxRow,
    pub replies: Vec<InboxRow>,
    /// What was done to the comment and its replies from Tidemark, oldest first.
    pub actions: Vec<ActionRecord>,
}

impl Thread {
    /// The account has not answered (and the comment is not its own).
    pub fn unanswered(&self) -> bool {
        !self.comment.answered && !self.comment.by_account
    }
}

/// How a rule matches text.
enum Matcher {
    Keywords(Vec<String>),
    Pattern(Regex),
}

impl Matcher {
    fn new(kind: &str, pattern: &str) -> Result<Matcher, String> {
        if kind == "pattern" {
            // Bounded compile size: a pattern from a form must not eat the server's memory.
            RegexBuilder::new(pattern)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map(Matcher::Pattern)
                .map_err(|err| format!("The pattern is not a valid regular expression: {err}"))
        } else {
            let words: Vec<String> =
                pattern.split(',').map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect();
            if words.is_empty() { Err("Give at least one word.".into()) } else { Ok(Matcher::Keywords(words)) }
        }
    }

    fn matches(&self, text: &str) -> bool {
        match self {
            Matcher::Keywords(words) => {
                let text = text.to_lowercase();
                words.iter().any(|w| text.contains(w.as_str()))
            }
            Matcher::Pattern(regex) => regex.is_match(text),
        }
    }
}

/// A rule as an admin writes it.
#[derive(Debug, Clone, Default)]
pub struct RuleDraft {
    pub name: String,
    pub account: Option<AccountId>,
    /// `keywords` or `pattern`.
    pub match_kind: String,
    pub pattern: String,
    /// `hide`, `reply` or `flag`.
    pub action: String,
    pub saved_reply: Option<i64>,
    pub per_hour: i32,
}

/// What a rule would have done to one comment.
#[derive(Debug, Clone)]
pub struct DryRunHit {
    pub comment: Comment,
    /// False when the hourly limit would have stopped it.
    pub acted: bool,
}

/// What one rules pass did.
#[derive(Debug, Clone, Default)]
pub struct RulesSummary {
    pub judged: usize,
    pub acted: usize,
    pub limited: usize,
    pub failed: usize,
}

pub struct Inbox {
    pool: db::Pool,
    graph: GraphClient,
    key: TokenKey,
    clock: Clock,
    waiting: Mutex<Option<(Instant, i64)>>,
}

impl Inbox {
    pub fn new(pool: db::Pool, graph: GraphClient, key: TokenKey, clock: Clock) -> Self {
        Self { pool, graph, key, clock, waiting: Mutex::new(None) }
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Threads matching `filter`, newest first, at most `limit`, with their replies and actions.
    pub async fn threads(&self, filter: &InboxFilter, limit: i64) -> Result<Vec<Thread>, DbError> {
        let mut conn = self.pool.get().await?;
        let rows = comments::threads(&mut conn, filter, self.now(), limit).await?;
        let parents: Vec<(AccountId, String)> =
            rows.iter().map(|r| (r.comment.account_id, r.comment.comment_id.clone())).collect();
        let replies = comments::replies(&mut conn, &parents).await?;
        let mut ids: Vec<String> = parents.iter().map(|(_, id)| id.clone()).collect();
        ids.extend(replies.iter().map(|r| r.comment.comment_id.clone()));
        let records = actions::on_comments(&mut conn, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|comment| {
                let mine = |r: &&InboxRow| {
                    r.comment.account_id == comment.comment.account_id
                        && r.comment.parent_id.as_deref() == Some(comment.comment.comment_id.as_str())
                };
                let thread_replies: Vec<InboxRow> = replies.iter().filter(mine).cloned().collect();
                let in_thread = |id: &str| {
                    id == comment.comment.comment_id || thread_replies.iter().any(|r| r.comment.comment_id == id)
                };
                let thread_actions = records
                    .iter()
                    .filter(|a| a.account_id == comment.comment.account_id && in_thread(&a.comment_id))
                    .cloned()
                    .collect();
                Thread { comment, replies: thread_replies, actions: thread_actions }
            })
            .collect())
    }

    /// Threads waiting for an answer across every account, for the navigation. Counted at
    /// most every few seconds; `None` when the database cannot say.
    pub async fn waiting(&self) -> Option<i64> {
        if let Ok(cached) = self.waiting.lock()
            && let Some((at, count)) = *cached
            && at.elapsed() < WAITING_FRESH
        {
            return Some(count);
        }
        let mut conn = self.pool.get().await.ok()?;
        match comments::waiting_count(&mut conn, self.now()).await {
            Ok(count) => {
                if let Ok(mut cached) = self.waiting.lock() {
                    *cached = Some((Instant::now(), count));
                }
                Some(count)
            }
            Err(err) => {
                tracing::warn!(error = %err, "the inbox count could not be read");
                None
            }
        }
    }

    fn forget_waiting(&self) {
        if let Ok(mut cached) = self.waiting.lock() {
            *cached = None;
        }
    }

    /// A saved reply written out for the author of `comment_id` (its `{name}` filled in);
    /// empty when there is no such saved reply.
    pub async fn saved_reply_for(&self, saved: i64, comment_id: &str) -> Result<String, DbError> {
        let mut conn = self.pool.get().await?;
        let Some(reply) = actions::saved_reply(&mut conn, saved).await? else { return Ok(String::new()) };
        let commenter = comments::find(&mut conn, comment_id).await?.and_then(|c| c.username);
        Ok(fill_template(&reply.body, commenter.as_deref()))
    }

    /// How an account answered the comments of a period.
    pub async fn response_stats(
        &self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<ResponseStats, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(comments::response_stats(&mut conn, account, from, to).await?)
    }

    /// Replies to a comment on Instagram (a reply to a reply goes under its top-level
    /// comment), then stores the reply in its thread.
    pub async fn reply(&self, actor: &Actor, comment_id: &str, message: &str) -> Result<(), InboxError> {
        let message = reply_text(message)?;
        let message = message.as_str();
        let (comment, account) = self.comment_and_account(comment_id).await?;
        if comment.hidden {
            return Err(InboxError::Invalid(
                "This comment is hidden: Instagram takes no replies to hidden comments. Unhide it first.".into(),
            ));
        }
        let token = self.open_token(&account)?;
        let session = self.graph.session(&token, account.flavour);
        let reply_id = session.reply_to_comment(&account.ig_user_id, comment_id, message).await.map_err(refusal)?;
        let top = comment.parent_id.clone().unwrap_or_else(|| comment.comment_id.clone());
        let stored = NewComment {
            account_id: account.id,
            comment_id: reply_id.clone(),
            media_id: comment.media_id.clone(),
            parent_id: Some(top),
            username: Some(account.username.clone()),
            text: message.to_owned(),
            commented_at: self.now(),
            source: "tidemark",
            hidden: false,
        };
        let record = actor.action(account.id, comment_id, "reply", Some(&reply_id), message);
        self.store(Stored::Reply(&stored), &record).await
    }

    /// Hides or unhides a comment on Instagram, then here.
    pub async fn set_hidden(&self, actor: &Actor, comment_id: &str, hide: bool) -> Result<(), InboxError> {
        let (comment, account) = self.comment_and_account(comment_id).await?;
        let token = self.open_token(&account)?;
        let session = self.graph.session(&token, account.flavour);
        session.hide_comment(&account.ig_user_id, comment_id, hide).await.map_err(refusal)?;
        let detail = excerpt(&comment.text, 80);
        let record = actor.action(account.id, comment_id, if hide { "hide" } else { "unhide" }, None, &detail);
        self.store(Stored::Hidden(comment.id, hide), &record).await
    }

    /// Deletes a comment (and its replies) on Instagram, then here. A comment Instagram no
    /// longer has is removed here too.
    pub async fn delete(&self, actor: &Actor, comment_id: &str) -> Result<(), InboxError> {
        let (comment, account) = self.comment_and_account(comment_id).await?;
        let token = self.open_token(&account)?;
        let session = self.graph.session(&token, account.flavour);
        match session.delete_comment(comment_id).await {
            Ok(()) => {}
            // 100/33: the object does not exist (any more).
            Err(GraphError::Rejected { code: 100, subcode: Some(33), .. }) => {}
            Err(err) => return Err(refusal(err)),
        }
        let detail = format!("@{}: {}", comment.username.as_deref().unwrap_or("someone"), excerpt(&comment.text, 80));
        let record = actor.action(account.id, comment_id, "delete", None, &detail);
        self.store(Stored::Deleted(account.id, comment_id), &record).await
    }

    /// Flags a comment for attention (or clears the flag): Tidemark only, nothing is sent.
    pub async fn set_flagged(&self, actor: &Actor, comment_id: &str, flag: bool) -> Result<(), InboxError> {
        let comment = {
            let mut conn = self.pool.get().await.map_err(DbError::from)?;
            comments::find(&mut conn, comment_id).await?.ok_or(InboxError::NotFound)?
        };
        let detail = excerpt(&comment.text, 80);
        let record = actor.action(comment.account_id, comment_id, if flag { "flag" } else { "unflag" }, None, &detail);
        self.store(Stored::Flagged(comment.id, flag), &record).await
    }

    /// Stores what an action changed and its record together.
    async fn store(&self, change: Stored<'_>, record: &NewAction<'_>) -> Result<(), InboxError> {
        let now = self.now();
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            match change {
                Stored::Reply(reply) => comments::insert(conn, reply, now).await.map(|_| ())?,
                Stored::Hidden(id, hidden) => comments::set_hidden(conn, id, hidden).await?,
                Stored::Deleted(account, comment_id) => {
                    comments::delete_thread(conn, account, comment_id).await.map(|_| ())?
                }
                Stored::Flagged(id, flagged) => comments::set_flagged(conn, id, flagged).await?,
            }
            actions::record(conn, record, now).await?;
            Ok(())
        })
        .await?;
        self.forget_waiting();
        Ok(())
    }

    /// Reverses a recorded action: a hide is unhidden, a reply deleted, a flag cleared.
    pub async fn undo(&self, actor: &Actor, action_id: i64) -> Result<(), InboxError> {
        let record = {
            let mut conn = self.pool.get().await.map_err(DbError::from)?;
            actions::find(&mut conn, action_id).await?.ok_or(InboxError::NotFound)?
        };
        if record.undone_at.is_some() {
            return Err(InboxError::Invalid("That action was already undone.".into()));
        }
        match (record.action.as_str(), record.reply_id.as_deref()) {
            ("hide", _) => self.set_hidden(actor, &record.comment_id, false).await?,
            ("flag", _) => self.set_flagged(actor, &record.comment_id, false).await?,
            ("reply", Some(reply)) => self.delete(actor, reply).await?,
            _ => return Err(InboxError::Invalid("That action cannot be undone.".into())),
        }
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        actions::mark_undone(&mut conn, action_id, &actor.name, self.now()).await?;
        Ok(())
    }

    async fn comment_and_account(&self, comment_id: &str) -> Result<(Comment, Account), InboxError> {
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let comment = comments::find(&mut conn, comment_id).await?.ok_or(InboxError::NotFound)?;
        let account = Account::find(&mut conn, comment.account_id).await?.ok_or(InboxError::NotFound)?;
        Ok((comment, account))
    }

    fn open_token(&self, account: &Account) -> Result<AccessToken, InboxError> {
        let sealed = account.token().ok_or_else(|| {
            InboxError::Refused(format!("@{} is not connected: re-connect it to answer comments.", account.username))
        })?;
        self.key
            .open(&sealed.ciphertext, &sealed.nonce, sealed.key_version, &token_binding(&account.ig_user_id))
            .map(AccessToken::new)
            .map_err(|_| {
                InboxError::Refused(format!(
                    "@{}'s token cannot be opened with this TIDEMARK_TOKEN_KEY: re-connect the account.",
                    account.username
                ))
            })
    }

    pub async fn saved_replies(&self) -> Result<Vec<SavedReply>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(actions::saved_replies(&mut conn).await?)
    }

    pub async fn add_saved_reply(&self, title: &str, body: &str) -> Result<(), InboxError> {
        let (title, body) = (title.replace('\0', ""), body.replace('\0', ""));
        let (title, body) = (title.trim(), body.trim());
        if title.is_empty() || title.chars().count() > 80 {
            return Err(InboxError::Invalid("Give the saved reply a name of 1 to 80 characters.".into()));
        }
        if body.is_empty() || body.chars().count() > REPLY_LIMIT {
            return Err(InboxError::Invalid(format!("A saved reply holds 1 to {REPLY_LIMIT} characters.")));
        }
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        if actions::add_saved_reply(&mut conn, title, body, self.now()).await? {
            Ok(())
        } else {
            Err(InboxError::Invalid(format!("There is already a saved reply named “{title}”.")))
        }
    }

    pub async fn delete_saved_reply(&self, id: i64) -> Result<(), InboxError> {
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        if actions::saved_reply(&mut conn, id).await?.is_none() {
            return Err(InboxError::NotFound);
        }
        if actions::delete_saved_reply(&mut conn, id).await? {
            Ok(())
        } else {
            Err(InboxError::Invalid("A rule replies with this saved reply: delete or change the rule first.".into()))
        }
    }

    pub async fn rules(&self) -> Result<Vec<Rule>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(actions::rules(&mut conn).await?)
    }

    pub async fn rule(&self, id: i64) -> Result<Option<Rule>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(actions::rule(&mut conn, id).await?)
    }

    /// Saves a rule, switched off until an admin has seen its dry run and switches it on.
    pub async fn add_rule(&self, draft: &RuleDraft) -> Result<i64, InboxError> {
        let name = draft.name.replace('\0', "");
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(InboxError::Invalid("Give the rule a name of 1 to 80 characters.".into()));
        }
        let pattern = draft.pattern.replace('\0', "");
        if pattern.trim().is_empty() || pattern.chars().count() > 500 {
            return Err(InboxError::Invalid("Give the words or pattern to match (at most 500 characters).".into()));
        }
        let match_kind = match draft.match_kind.as_str() {
            "keywords" => "keywords",
            "pattern" => "pattern",
            _ => return Err(InboxError::Invalid("Choose how the rule matches.".into())),
        };
        Matcher::new(match_kind, &pattern).map_err(InboxError::Invalid)?;
        let action = match draft.action.as_str() {
            "hide" => "hide",
            "reply" => "reply",
            "flag" => "flag",
            _ => return Err(InboxError::Invalid("Choose what the rule does.".into())),
        };
        if !(1..=60).contains(&draft.per_hour) {
            return Err(InboxError::Invalid("A rule acts 1 to 60 times an hour.".into()));
        }
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let saved_reply = match (action, draft.saved_reply) {
            ("reply", Some(id)) if actions::saved_reply(&mut conn, id).await?.is_some() => Some(id),
            ("reply", _) => return Err(InboxError::Invalid("Choose the saved reply the rule answers with.".into())),
            _ => None,
        };
        if let Some(account) = draft.account
            && Account::find(&mut conn, account).await?.is_none()
        {
            return Err(InboxError::Invalid("That account is not connected.".into()));
        }
        let rule = NewRule {
            name,
            account_id: draft.account,
            match_kind,
            pattern: pattern.trim(),
            action,
            saved_reply_id: saved_reply,
            per_hour: draft.per_hour,
        };
        Ok(actions::add_rule(&mut conn, &rule, self.now()).await?)
    }

    pub async fn set_rule_enabled(&self, id: i64, enabled: bool) -> Result<(), InboxError> {
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        if actions::set_rule_enabled(&mut conn, id, enabled).await? { Ok(()) } else { Err(InboxError::NotFound) }
    }

    pub async fn delete_rule(&self, id: i64) -> Result<(), InboxError> {
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        if actions::delete_rule(&mut conn, id).await? { Ok(()) } else { Err(InboxError::NotFound) }
    }

    /// What a rule would have done over the last [`DRY_RUN_DAYS`]: each comment it matches,
    /// oldest first, and whether its hourly limit would have let it act.
    pub async fn dry_run(&self, rule: &Rule) -> Result<Vec<DryRunHit>, InboxError> {
        let matcher = Matcher::new(&rule.match_kind, &rule.pattern).map_err(InboxError::Invalid)?;
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let since = self.now() - Duration::days(DRY_RUN_DAYS);
        let candidates = comments::made_since(&mut conn, rule.account_id, since).await?;
        let owners = account_names(&mut conn).await?;
        let mut acted_at: Vec<DateTime<Utc>> = Vec::new();
        let mut hits = Vec::new();
        for comment in candidates {
            if is_from_account(&comment, &owners) || !matcher.matches(&comment.text) {
                continue;
            }
            let hour_ago = comment.commented_at - Duration::hours(1);
            let recent = acted_at.iter().filter(|t| **t > hour_ago).count();
            let acted = recent < usize::try_from(rule.per_hour).unwrap_or(0);
            if acted {
                acted_at.push(comment.commented_at);
            }
            hits.push(DryRunHit { comment, acted });
        }
        Ok(hits)
    }

    /// Lets the switched-on rules judge new comments (each once), within each rule's hourly
    /// limit. Run every minute by `serve`.
    pub async fn apply_rules(&self) -> Result<RulesSummary, DbError> {
        let now = self.now();
        let since = now - RULES_LOOKBACK;
        let (rules, pending, owners, replies) = {
            let mut conn = self.pool.get().await?;
            let rules: Vec<Rule> = actions::rules(&mut conn).await?.into_iter().filter(|r| r.enabled).collect();
            let pending = comments::unchecked(&mut conn, since, RULES_BATCH).await?;
            if rules.is_empty() || pending.is_empty() {
                let ids: Vec<i64> = pending.iter().map(|c| c.id).collect();
                comments::mark_checked(&mut conn, &ids, since, now).await?;
                return Ok(RulesSummary { judged: pending.len(), ..RulesSummary::default() });
            }
            (rules, pending, account_names(&mut conn).await?, actions::saved_replies(&mut conn).await?)
        };
        let matchers: Vec<(Rule, Matcher)> = rules
            .into_iter()
            .filter_map(|rule| match Matcher::new(&rule.match_kind, &rule.pattern) {
                Ok(matcher) => Some((rule, matcher)),
                Err(err) => {
                    tracing::warn!(rule = rule.id, error = err, "a rule cannot be applied");
                    None
                }
            })
            .collect();
        let mut summary = RulesSummary { judged: pending.len(), ..RulesSummary::default() };
        for comment in &pending {
            if is_from_account(comment, &owners) {
                continue;
            }
            let mut hidden = comment.hidden;
            for (rule, matcher) in &matchers {
                if rule.account_id.is_some_and(|a| a != comment.account_id) || !matcher.matches(&comment.text) {
                    continue;
                }
                let used = {
                    let mut conn = self.pool.get().await?;
                    actions::rule_actions_since(&mut conn, rule.id, now - Duration::hours(1)).await?
                };
                if used >= i64::from(rule.per_hour) {
                    summary.limited += 1;
                    tracing::warn!(rule = rule.id, "a rule reached its hourly limit; the comment is left alone");
                    continue;
                }
                let actor = Actor::rule(rule);
                let result = match rule.action.as_str() {
                    "hide" if !hidden => {
                        self.set_hidden(&actor, &comment.comment_id, true).await.map(|()| hidden = true)
                    }
                    "reply" if !hidden => {
                        // A rule's saved reply cannot be deleted while the rule uses it.
                        let Some(body) = replies.iter().find(|r| Some(r.id) == rule.saved_reply_id) else {
                            continue;
                        };
                        let text = fill_template(&body.body, comment.username.as_deref());
                        self.reply(&actor, &comment.comment_id, &text).await
                    }
                    "flag" if !comment.flagged => self.set_flagged(&actor, &comment.comment_id, true).await,
                    _ => continue,
                };
                match result {
                    Ok(()) => summary.acted += 1,
                    Err(err) => {
                        summary.failed += 1;
                        tracing::warn!(rule = rule.id, error = %err, "a rule's action failed");
                    }
                }
            }
        }
        let ids: Vec<i64> = pending.iter().map(|c| c.id).collect();
        let mut conn = self.pool.get().await?;
        comments::mark_checked(&mut conn, &ids, since, now).await?;
        Ok(summary)
    }

    /// Reads the text of mentions the webhooks announced (a few per run, oldest first).
    /// One that cannot be read is kept with the reason, not retried forever.
    pub async fn fetch_mentions(&self) -> Result<usize, DbError> {
        let pending = {
            let mut conn = self.pool.get().await?;
            mentions::unfetched(&mut conn, MENTIONS_PER_RUN).await?
        };
        let mut read = 0;
        for mention in pending {
            let account = {
                let mut conn = self.pool.get().await?;
                Account::find(&mut conn, mention.account_id).await?
            };
            let Some(account) = account else { continue };
            let details = match self.open_token(&account) {
                Ok(token) => {
                    let session = self.graph.session(&token, account.flavour);
                    match session.mentioned_comment(&account.ig_user_id, &mention.comment_id).await {
                        Ok(found) => MentionDetails {
                            username: found.username.map(|u| u.replace('\0', "")),
                            text: found.text.map(|t| t.replace('\0', "")),
                            // Only Instagram's own addresses become links.
                            permalink: found
                                .media
                                .and_then(|m| m.permalink)
                                .filter(|p| p.starts_with("https://www.instagram.com/")),
                            commented_at: found.timestamp,
                            problem: None,
                        },
                        // Worth another try on the next run.
                        Err(err) if matches!(err.action(), Action::Retry | Action::Wait) => continue,
                        Err(err) => {
                            MentionDetails { problem: Some(refusal(err).to_string()), ..MentionDetails::default() }
                        }
                    }
                }
                Err(err) => MentionDetails { problem: Some(err.to_string()), ..MentionDetails::default() },
            };
            let mut conn = self.pool.get().await?;
            mentions::record_details(&mut conn, mention.id, &details, self.now()).await?;
            read += 1;
        }
        Ok(read)
    }

    /// The newest mentions (of one account, or all), with their account's username and the
    /// answers sent from Tidemark.
    pub async fn mentions(
        &self,
        account: Option<AccountId>,
        limit: i64,
    ) -> Result<Vec<(Mention, String, Vec<ActionRecord>)>, DbError> {
        let mut conn = self.pool.get().await?;
        let found = mentions::recent(&mut conn, account, limit).await?;
        let ids: Vec<String> = found.iter().map(|(m, _)| m.comment_id.clone()).collect();
        let records = actions::on_comments(&mut conn, &ids).await?;
        Ok(found
            .into_iter()
            .map(|(mention, username)| {
                let answers = records
                    .iter()
                    .filter(|r| r.account_id == mention.account_id && r.comment_id == mention.comment_id)
                    .cloned()
                    .collect();
                (mention, username, answers)
            })
            .collect())
    }

    /// Answers a comment that @mentions the account, under that comment on Instagram.
    pub async fn reply_to_mention(&self, actor: &Actor, comment_id: &str, message: &str) -> Result<(), InboxError> {
        let message = reply_text(message)?;
        let message = message.as_str();
        let (mention, account) = {
            let mut conn = self.pool.get().await.map_err(DbError::from)?;
            let mention = mentions::find(&mut conn, comment_id).await?.ok_or(InboxError::NotFound)?;
            let account = Account::find(&mut conn, mention.account_id).await?.ok_or(InboxError::NotFound)?;
            (mention, account)
        };
        let token = self.open_token(&account)?;
        let session = self.graph.session(&token, account.flavour);
        let reply_id = session
            .reply_to_mention(&account.ig_user_id, &mention.media_id, &mention.comment_id, message)
            .await
            .map_err(refusal)?;
        let record = actor.action(account.id, comment_id, "reply", Some(&reply_id), message);
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        actions::record(&mut conn, &record, self.now()).await?;
        Ok(())
    }

    /// The latest actions rules took, newest first.
    pub async fn automatic_actions(&self, limit: i64) -> Result<Vec<ActionRecord>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(actions::recent_automatic(&mut conn, limit).await?)
    }
}

/// A reply as it will be sent: trimmed, without NULs (PostgreSQL keeps none), not empty,
/// within Instagram's length.
fn reply_text(message: &str) -> Result<String, InboxError> {
    let message = message.replace('\0', "");
    let message = message.trim();
    if message.is_empty() {
        return Err(InboxError::Invalid("Write a reply first.".into()));
    }
    if message.chars().count() > REPLY_LIMIT {
        return Err(InboxError::Invalid(format!("A reply holds at most {REPLY_LIMIT} characters.")));
    }
    Ok(message.to_owned())
}

/// A saved reply for one commenter: `{name}` becomes their @username.
fn fill_template(body: &str, username: Option<&str>) -> String {
    let name = username.map_or_else(|| "there".to_owned(), |u| format!("@{u}"));
    body.replace("{name}", &name)
}

async fn account_names(conn: &mut db::Conn) -> Result<Vec<(AccountId, String)>, DbError> {
    Ok(Account::list(conn).await?.into_iter().map(|a| (a.id, a.username)).collect())
}

fn is_from_account(comment: &Comment, owners: &[(AccountId, String)]) -> bool {
    comment.source == "tidemark"
        || owners.iter().any(|(id, name)| *id == comment.account_id && comment.username.as_deref() == Some(name))
}

/// Instagram's refusal, in words for the page.
fn refusal(err: GraphError) -> InboxError {
    match err.action() {
        Action::Reconnect => InboxError::Refused(
            "The account's connection does not allow this: re-connect it and allow comment management.".into(),
        ),
        Action::Wait => InboxError::Refused("Instagram asks Tidemark to slow down: try again in a few minutes.".into()),
        Action::Retry => InboxError::Refused("Instagram did not answer: try again.".into()),
        Action::Report => InboxError::Refused(format!("Instagram refused: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_any_word_whatever_the_case_and_patterns_are_regular_expressions() {
        let words = Matcher::new("keywords", "followers, Cheap ").unwrap();
        assert!(words.matches("Get 10k FOLLOWERS fast"));
        assert!(words.matches("so cheap"));
        assert!(!words.matches("lovely bread"));
        let pattern = Matcher::new("pattern", r"\b(price|cost)s?\b").unwrap();
        assert!(pattern.matches("What does it COST?"));
        assert!(!pattern.matches("costume"));
        assert!(Matcher::new("pattern", "(unclosed").is_err());
        assert!(Matcher::new("keywords", " , ").is_err());
    }

    #[test]
    fn a_template_names_the_commenter() {
        assert_eq!(fill_template("Thanks {name}!", Some("maria.eats")), "Thanks @maria.eats!");
        assert_eq!(fill_template("Thanks {name}!", None), "Thanks there!");
    }
}
