//! The inbox: comments on the accounts' posts as threads, with filters. Comment text is
//! untrusted: the template escapes it, and nothing in it becomes a link.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Notice, PageContext, render};
use crate::auth::CurrentUser;
use crate::domain::AccountId;
use crate::error::AppResult;
use crate::services::Views;
use crate::services::inbox::{Inbox, Show, Thread};
use crate::services::views::format::excerpt;

/// Threads shown on one page.
const THREADS_SHOWN: usize = 100;

pub struct CommentView {
    pub username: String,
    pub text: String,
    pub when: String,
    pub by_account: bool,
}

pub struct ThreadView {
    pub account: String,
    pub post: Option<i64>,
    pub post_caption: String,
    pub comment: CommentView,
    pub replies: Vec<CommentView>,
    pub unanswered: bool,
}

#[derive(Template)]
#[template(path = "inbox/index.html")]
struct InboxPage {
    page: PageContext,
    threads: Vec<ThreadView>,
    unanswered: usize,
    accounts: Vec<(i64, String, bool)>,
    show: &'static str,
    keyword: String,
    timezone: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default, deserialize_with = "super::analytics::empty_as_none")]
    account: Option<i64>,
    show: Option<String>,
    q: Option<String>,
}

pub async fn inbox(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<InboxQuery>,
    inbox: web::Data<Inbox>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let tz = views.basis().await?.tz();
    let show = Show::parse(query.show.as_deref());
    let keyword = query.q.clone().unwrap_or_default();
    let (threads, unanswered) =
        inbox.threads(query.account.map(AccountId), show, Some(&keyword), THREADS_SHOWN).await?;
    let view = |row: &crate::db::comments::InboxRow| CommentView {
        username: row.comment.username.clone().unwrap_or_else(|| "someone".into()),
        text: row.comment.text.clone(),
        when: row.comment.commented_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        by_account: row.comment.source == "tidemark"
            || row.comment.username.as_deref() == Some(row.account_username.as_str()),
    };
    let threads = threads
        .iter()
        .map(|t: &Thread| ThreadView {
            account: t.comment.account_username.clone(),
            post: t.comment.post_id,
            post_caption: excerpt(t.comment.post_caption.as_deref().unwrap_or_default(), 60),
            comment: view(&t.comment),
            replies: t.replies.iter().map(view).collect(),
            unanswered: t.unanswered,
        })
        .collect();
    let accounts =
        views.accounts().await?.into_iter().map(|a| (a.id.0, a.username, Some(a.id.0) == query.account)).collect();
    let page = InboxPage {
        page: PageContext::new(&user, notice, "inbox"),
        threads,
        unanswered,
        accounts,
        show: show.key(),
        keyword,
        timezone: tz.name().to_owned(),
    };
    render(StatusCode::OK, &page)
}
