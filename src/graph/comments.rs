//! Comments on the account's media (graph-api.md §8): reading them with their replies, and
//! answering, hiding, unhiding and deleting one.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::client::GraphSession;
use super::error::GraphError;
use super::types::{Page, graph_time, id_string};

/// The fields read for a comment and, nested, for its replies.
const COMMENT_FIELDS: &str = "id,text,timestamp,username,hidden,replies{id,text,timestamp,username,hidden}";
/// Comments asked for per page.
const PAGE_SIZE: &str = "50";

/// A comment as the API gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct GraphComment {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(default)]
    pub text: String,
    #[serde(deserialize_with = "graph_time")]
    pub timestamp: DateTime<Utc>,
    /// Absent without the manage-comments permission (Meta, since 2024-08-27).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    replies: Option<Replies>,
}

#[derive(Debug, Clone, Deserialize)]
struct Replies {
    #[serde(default)]
    data: Vec<GraphComment>,
}

impl GraphComment {
    /// The replies that came nested with a top-level comment.
    pub fn take_replies(&mut self) -> Vec<GraphComment> {
        self.replies.take().map(|r| r.data).unwrap_or_default()
    }
}

/// What a read of one media's comments found.
#[derive(Debug, Default)]
pub struct CommentRead {
    /// Top-level comments, newest first as listed, each with its replies.
    pub comments: Vec<GraphComment>,
    /// Every page up to the oldest was read (so a comment missing from it is gone).
    pub complete: bool,
}

/// A comment on someone else's media that @mentions the account.
#[derive(Debug, Clone, Deserialize)]
pub struct MentionedComment {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "optional_time")]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    pub media: Option<MentionedMedia>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MentionedMedia {
    #[serde(default)]
    pub permalink: Option<String>,
}

fn optional_time<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    graph_time(deserializer).map(Some)
}

#[derive(Deserialize)]
struct IdWire {
    #[serde(deserialize_with = "id_string")]
    id: String,
}

#[derive(Deserialize)]
struct SuccessWire {
    #[serde(default)]
    success: bool,
}

impl GraphSession<'_> {
    /// `GET /{media}/comments` with replies nested, newest first, page after page until a page
    /// holds only comments `known` already has (nothing newer lies beyond it) or `max_pages`
    /// have been read.
    ///
    /// Meta's reference does not state the order; the read stops early only on a page that is
    /// entirely known, so an older-first order costs pages, never comments.
    pub async fn comments(
        &self,
        ig_user_id: &str,
        media_id: &str,
        known: &(dyn Fn(&str) -> bool + Sync),
        max_pages: u32,
    ) -> Result<CommentRead, GraphError> {
        let mut url = self.url(&format!("{media_id}/comments"));
        url.query_pairs_mut().append_pair("fields", COMMENT_FIELDS).append_pair("limit", PAGE_SIZE);
        let mut read = CommentRead::default();
        for _ in 0..max_pages {
            let page: Page<GraphComment> = self.get(url.clone(), &[], Some(ig_user_id)).await?;
            let all_known = !page.data.is_empty()
                && page
                    .data
                    .iter()
                    .all(|c| known(&c.id) && c.replies.as_ref().is_none_or(|r| r.data.iter().all(|r| known(&r.id))));
            read.comments.extend(page.data);
            match page.paging.and_then(|p| p.next) {
                Some(next) if !all_known => url = self.follow(&next)?,
                Some(_) => return Ok(read),
                None => {
                    read.complete = true;
                    return Ok(read);
                }
            }
        }
        Ok(read)
    }

    /// `POST /{comment}/replies?message=…`: the new reply's id. Sent once: a retry after a lost
    /// answer could post the reply twice.
    pub async fn reply_to_comment(
        &self,
        ig_user_id: &str,
        comment_id: &str,
        message: &str,
    ) -> Result<String, GraphError> {
        let url = self.url(&format!("{comment_id}/replies"));
        let wire: IdWire = self.post(url, &[("message", message)], Some(ig_user_id), false).await?;
        Ok(wire.id)
    }

    /// `POST /{comment}?hide=true|false`. Repeating it changes nothing, so it is retried.
    pub async fn hide_comment(&self, ig_user_id: &str, comment_id: &str, hide: bool) -> Result<(), GraphError> {
        let hide = if hide { "true" } else { "false" };
        let wire: SuccessWire = self.post(self.url(comment_id), &[("hide", hide)], Some(ig_user_id), true).await?;
        success(wire)
    }

    /// `DELETE /{comment}`.
    pub async fn delete_comment(&self, comment_id: &str) -> Result<(), GraphError> {
        let wire: SuccessWire = self.delete(self.url(comment_id)).await?;
        success(wire)
    }
}

impl GraphSession<'_> {
    /// `GET /{ig-user-id}?fields=mentioned_comment.comment_id(…){…}`: the comment an
    /// @mention webhook named (IG User Mentioned Comment reference).
    pub async fn mentioned_comment(&self, ig_user_id: &str, comment_id: &str) -> Result<MentionedComment, GraphError> {
        #[derive(Deserialize)]
        struct Wire {
            mentioned_comment: Option<MentionedComment>,
        }
        let fields =
            format!("mentioned_comment.comment_id({comment_id}){{text,username,timestamp,media{{id,permalink}}}}");
        let wire: Wire = self.get(self.url(ig_user_id), &[("fields", &fields)], Some(ig_user_id)).await?;
        wire.mentioned_comment
            .ok_or_else(|| GraphError::Unexpected { status: 200, body: "no mentioned_comment in the answer".into() })
    }

    /// `POST /{ig-user-id}/mentions?media_id=…&comment_id=…&message=…`: answers a comment that
    /// @mentions the account (IG User Mentions reference); the new comment's id. Sent once.
    pub async fn reply_to_mention(
        &self,
        ig_user_id: &str,
        media_id: &str,
        comment_id: &str,
        message: &str,
    ) -> Result<String, GraphError> {
        let url = self.url(&format!("{ig_user_id}/mentions"));
        let query = [("media_id", media_id), ("comment_id", comment_id), ("message", message)];
        let wire: IdWire = self.post(url, &query, Some(ig_user_id), false).await?;
        Ok(wire.id)
    }
}

fn success(wire: SuccessWire) -> Result<(), GraphError> {
    if wire.success {
        Ok(())
    } else {
        Err(GraphError::Unexpected { status: 200, body: "the API answered success: false".into() })
    }
}
