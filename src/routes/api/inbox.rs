//! The inbox: comments on the accounts' posts as threads, newest first, in cursor pages.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, ReadProblems, TokenProblems, read, read_cursor, write_cursor};
use crate::db::comments::{InboxFilter, InboxRow};
use crate::domain::{AccountId, PostId};
use crate::error::Problem;
use crate::services::Views;
use crate::services::inbox::{Inbox, Thread};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;
const MAX_KEYWORD_CHARS: usize = 100;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommentsQuery {
    /// Only this account's comments.
    pub account: Option<i64>,
    /// Only comments on this post (Tidemark's id).
    pub post: Option<i64>,
    /// Only threads waiting for an answer (as the inbox counts them).
    pub waiting: Option<bool>,
    /// Only hidden comments.
    pub hidden: Option<bool>,
    /// Only comments with a question mark.
    pub questions: Option<bool>,
    /// Only threads holding this text (any case).
    pub q: Option<String>,
    /// Threads per page, 1 to 100 (50 by default).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, with the same filters.
    pub cursor: Option<String>,
}

/// One comment or reply. Its text is as the commenter wrote it: escape it where it is shown.
#[derive(Serialize, ToSchema)]
pub struct CommentRecord {
    /// Instagram's id of the comment.
    pub id: String,
    pub account_id: i64,
    pub account_username: String,
    /// Tidemark's id of the post, once the post is tracked.
    pub post_id: Option<i64>,
    /// Instagram's id of the post.
    pub media_id: String,
    /// The commenter; `null` when Instagram did not say.
    pub username: Option<String>,
    pub text: String,
    pub commented_at: DateTime<Utc>,
    /// Written by the account itself (a reply from Instagram or from Tidemark).
    pub by_account: bool,
    pub hidden: bool,
    pub flagged: bool,
}

impl From<&InboxRow> for CommentRecord {
    fn from(row: &InboxRow) -> Self {
        CommentRecord {
            id: row.comment.comment_id.clone(),
            account_id: row.comment.account_id.0,
            account_username: row.account_username.clone(),
            post_id: row.post_id,
            media_id: row.comment.media_id.clone(),
            username: row.comment.username.clone(),
            text: row.comment.text.clone(),
            commented_at: row.comment.commented_at,
            by_account: row.by_account,
            hidden: row.comment.hidden,
            flagged: row.comment.flagged,
        }
    }
}

/// A comment with its replies, oldest reply first.
#[derive(Serialize, ToSchema)]
pub struct ThreadRecord {
    pub comment: CommentRecord,
    pub replies: Vec<CommentRecord>,
    /// The account has replied.
    pub answered: bool,
}

impl From<&Thread> for ThreadRecord {
    fn from(thread: &Thread) -> Self {
        ThreadRecord {
            comment: CommentRecord::from(&thread.comment),
            replies: thread.replies.iter().map(CommentRecord::from).collect(),
            answered: thread.comment.answered,
        }
    }
}

/// One page of threads.
#[derive(Serialize, ToSchema)]
pub struct ThreadPage {
    pub items: Vec<ThreadRecord>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Where a page of threads ends: its last comment's time and row.
#[derive(Serialize, Deserialize)]
struct Cursor {
    at: DateTime<Utc>,
    row: i64,
}

/// Comment threads, newest first. Comments arriving meanwhile are newer than any cursor: the
/// pages never repeat or skip a thread.
#[utoipa::path(
    get,
    path = "/api/v1/comments",
    tag = "inbox",
    params(CommentsQuery),
    responses((status = 200, body = ThreadPage), ReadProblems, TokenProblems)
)]
pub async fn list_comments(
    req: HttpRequest,
    query: ApiQuery<CommentsQuery>,
    views: web::Data<Views>,
    inbox: web::Data<Inbox>,
) -> Result<HttpResponse, Problem> {
    let query = query.0;
    read(&req, &views, async |_| {
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Problem::bad_request(format!("`limit` is 1 to {MAX_LIMIT}.")));
        }
        let keyword = query.q.map(|q| q.replace('\0', "")).filter(|q| !q.trim().is_empty());
        if keyword.as_ref().is_some_and(|q| q.chars().count() > MAX_KEYWORD_CHARS) {
            return Err(Problem::bad_request(format!("`q` is at most {MAX_KEYWORD_CHARS} characters.")));
        }
        let before = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(text) => {
                let cursor: Cursor =
                    read_cursor(text).ok_or_else(|| Problem::bad_request("The cursor is not one this API gave."))?;
                Some((cursor.at, cursor.row))
            }
        };
        let filter = InboxFilter {
            account: query.account.map(AccountId),
            post: query.post.map(PostId),
            waiting: query.waiting.unwrap_or(false),
            hidden: query.hidden.unwrap_or(false),
            flagged: false,
            questions: query.questions.unwrap_or(false),
            keyword,
            before,
        };
        let mut threads = inbox.threads(&filter, limit + 1).await?;
        let more = threads.len() as i64 > limit;
        threads.truncate(usize::try_from(limit).unwrap_or(0));
        let next_cursor = match threads.last() {
            Some(last) if more => {
                write_cursor(&Cursor { at: last.comment.comment.commented_at, row: last.comment.comment.id })
            }
            _ => None,
        };
        Ok(ThreadPage { items: threads.iter().map(ThreadRecord::from).collect(), next_cursor })
    })
    .await
}
