//! The inbox: comments on the accounts' posts as threads (a top-level comment and its
//! replies), newest first, with filters for what still needs an answer.

use crate::db::comments::{self, InboxRow};
use crate::db::{self, DbError};
use crate::domain::AccountId;

/// Comments read for one inbox view (threads are built from them).
const RECENT_COMMENTS: i64 = 2000;

/// Which threads a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Show {
    #[default]
    All,
    /// No reply from the account yet.
    Unanswered,
    /// The comment asks something (has a question mark).
    Questions,
}

impl Show {
    pub fn parse(text: Option<&str>) -> Show {
        match text {
            Some("unanswered") => Show::Unanswered,
            Some("questions") => Show::Questions,
            _ => Show::All,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Unanswered => "unanswered",
            Show::Questions => "questions",
        }
    }
}

/// A top-level comment and its replies (oldest first).
#[derive(Debug, Clone)]
pub struct Thread {
    pub comment: InboxRow,
    pub replies: Vec<InboxRow>,
    /// No reply from the account itself.
    pub unanswered: bool,
}

pub struct Inbox {
    pool: db::Pool,
}

impl Inbox {
    pub fn new(pool: db::Pool) -> Self {
        Self { pool }
    }

    /// Threads of one account (or all), filtered, newest first, at most `limit`.
    pub async fn threads(
        &self,
        account: Option<AccountId>,
        show: Show,
        keyword: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Thread>, usize), DbError> {
        let mut conn = self.pool.get().await?;
        let rows = comments::inbox(&mut conn, account, RECENT_COMMENTS).await?;
        let threads = threads_of(rows);
        let unanswered = threads.iter().filter(|t| t.unanswered).count();
        let keyword = keyword.map(str::trim).filter(|k| !k.is_empty()).map(str::to_lowercase);
        let shown = threads
            .into_iter()
            .filter(|t| match show {
                Show::All => true,
                Show::Unanswered => t.unanswered,
                Show::Questions => t.comment.comment.text.contains('?'),
            })
            .filter(|t| {
                keyword.as_ref().is_none_or(|k| {
                    std::iter::once(&t.comment).chain(&t.replies).any(|c| c.comment.text.to_lowercase().contains(k))
                })
            })
            .take(limit)
            .collect();
        Ok((shown, unanswered))
    }
}

/// Groups comments (newest first) into threads, newest thread first. A reply whose top-level
/// comment is not among them stands as a thread of its own.
fn threads_of(rows: Vec<InboxRow>) -> Vec<Thread> {
    let (tops, replies): (Vec<InboxRow>, Vec<InboxRow>) = rows.into_iter().partition(|r| r.comment.parent_id.is_none());
    let mut threads: Vec<Thread> =
        tops.into_iter().map(|comment| Thread { comment, replies: Vec::new(), unanswered: true }).collect();
    for reply in replies.into_iter().rev() {
        let parent = reply.comment.parent_id.clone();
        match threads.iter_mut().find(|t| Some(&t.comment.comment.comment_id) == parent.as_ref()) {
            Some(thread) => thread.replies.push(reply),
            None => threads.push(Thread { comment: reply, replies: Vec::new(), unanswered: true }),
        }
    }
    for thread in &mut threads {
        let account = thread.comment.account_username.clone();
        let by_account =
            |r: &InboxRow| r.comment.source == "tidemark" || r.comment.username.as_deref() == Some(&account);
        thread.unanswered = !by_account(&thread.comment) && !thread.replies.iter().any(by_account);
    }
    threads.sort_by_key(|t| std::cmp::Reverse(t.comment.comment.commented_at));
    threads
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;
    use crate::db::comments::Comment;

    fn row(id: &str, parent: Option<&str>, by: &str, minutes_ago: i64) -> InboxRow {
        InboxRow {
            comment: Comment {
                id: 0,
                account_id: AccountId(1),
                comment_id: id.into(),
                media_id: "1".into(),
                parent_id: parent.map(Into::into),
                username: Some(by.into()),
                text: format!("comment {id}"),
                commented_at: Utc::now() - Duration::minutes(minutes_ago),
                source: "webhook".into(),
                received_at: Utc::now(),
            },
            account_username: "harbour.bakery".into(),
            post_id: None,
            post_caption: None,
        }
    }

    #[test]
    fn replies_join_their_thread_and_an_answer_from_the_account_closes_it() {
        let rows = vec![
            row("4", Some("1"), "harbour.bakery", 1),
            row("3", None, "b.reader", 5),
            row("2", Some("1"), "c.reader", 8),
            row("1", None, "a.reader", 10),
        ];
        let threads = threads_of(rows);
        assert_eq!(threads.len(), 2);
        assert_eq!(threads[0].comment.comment.comment_id, "3", "newest thread first");
        assert!(threads[0].unanswered);
        assert_eq!(threads[1].replies.iter().map(|r| r.comment.comment_id.as_str()).collect::<Vec<_>>(), ["2", "4"]);
        assert!(!threads[1].unanswered, "the account replied");
    }
}
