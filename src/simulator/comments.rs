//! Comments on the simulated media (graph-api.md §8): the ones a post's curve brings (made
//! when first asked for, the same for a given seed), the ones the webhook feed and the tests
//! make, and the account's own (first comments, replies). Listed newest first with replies
//! nested, replied to, hidden, unhidden and deleted as the API does.

use std::hash::{Hash, Hasher};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::Inner;

/// One comment as the simulator keeps it.
#[derive(Debug, Clone)]
pub struct SimComment {
    pub id: String,
    pub account: usize,
    pub media_id: String,
    /// The top-level comment a reply belongs to.
    pub parent_id: Option<String>,
    pub username: String,
    pub from_id: String,
    pub text: String,
    pub at: DateTime<Utc>,
    pub hidden: bool,
    pub deleted: bool,
}

/// A comment on someone else's media that @mentions one of the accounts.
#[derive(Debug, Clone)]
pub struct SimMention {
    pub account: usize,
    pub media_id: String,
    pub comment_id: String,
    pub username: String,
    pub text: String,
    pub at: DateTime<Utc>,
    /// The account's answers, oldest first.
    pub replies: Vec<String>,
}

/// Why an action on a comment was refused: (code, subcode, message).
pub(crate) type Refusal = (i64, Option<i64>, String);

fn not_found(id: &str) -> Refusal {
    (100, Some(33), super::facts::unsupported_get(id))
}

fn seeded(media_id: &str, n: usize) -> StdRng {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (media_id, n).hash(&mut hasher);
    StdRng::seed_from_u64(hasher.finish())
}

impl Inner {
    /// Makes the comments the media's curve has brought by `now` that do not exist yet.
    pub(crate) fn bring_comments(&mut self, media_id: &str, now: DateTime<Utc>) {
        let Some((account, media)) = self
            .accounts
            .iter()
            .enumerate()
            .find_map(|(a, acc)| acc.media.iter().find(|m| m.id == media_id).map(|m| (a, m)))
        else {
            return;
        };
        let have = self.brought.get(media_id).copied().unwrap_or(0);
        let want = media.curve_comments_at(now);
        if want <= have {
            return;
        }
        let owner = self.accounts[account].spec.username.clone();
        let voice = self.accounts[account].spec.voice;
        let mut latest = self
            .comments
            .iter()
            .rev()
            .find(|c| c.media_id == media_id && c.parent_id.is_none() && c.username != owner)
            .map(|c| c.id.clone());
        let mut made = Vec::with_capacity(want - have);
        for n in have..want {
            let mut rng = seeded(media_id, n);
            let at = media.curve_comment_time(n, now);
            let id = format!("179{:014}", rng.random_range(0..99_999_999_999_999u64));
            // About one comment in four is the account answering the newest comment before it.
            let (username, text, parent_id) = match latest.clone() {
                Some(parent) if rng.random_bool(0.25) => {
                    (owner.clone(), voice.answers[rng.random_range(0..voice.answers.len())].to_owned(), Some(parent))
                }
                _ => {
                    let (who, text) = voice.comments[rng.random_range(0..voice.comments.len())];
                    latest = Some(id.clone());
                    (who.to_owned(), text.to_owned(), None)
                }
            };
            made.push(SimComment {
                id,
                account,
                media_id: media_id.to_owned(),
                parent_id,
                from_id: format!("{}", rng.random_range(1_000_000_000_000_000u64..9_999_999_999_999_999)),
                username,
                text,
                at,
                hidden: false,
                deleted: false,
            });
        }
        self.comments.extend(made);
        self.brought.insert(media_id.to_owned(), want);
    }

    /// Adds a comment (or a reply) that is not the curve's, counted in the media's `comments_count`.
    pub(crate) fn add_comment(
        &mut self,
        account: usize,
        media_id: &str,
        username: &str,
        text: &str,
        parent_id: Option<&str>,
    ) -> String {
        let now = self.now();
        self.bring_comments(media_id, now);
        let id = format!("178{:014}", self.rng.random_range(0..99_999_999_999_999u64));
        let from_id = format!("{}", self.rng.random_range(1_000_000_000_000_000u64..9_999_999_999_999_999));
        self.comments.push(SimComment {
            id: id.clone(),
            account,
            media_id: media_id.to_owned(),
            parent_id: parent_id.map(str::to_owned),
            username: username.to_owned(),
            from_id,
            text: text.to_owned(),
            at: now,
            hidden: false,
            deleted: false,
        });
        self.change_count(media_id, 1);
        id
    }

    fn change_count(&mut self, media_id: &str, by: i64) {
        if let Some(media) = self.accounts.iter_mut().flat_map(|a| a.media.iter_mut()).find(|m| m.id == media_id) {
            media.comment_delta += by;
        }
    }

    /// A live comment on the media of one of `owned`'s accounts.
    fn owned_comment(&self, id: &str, owned: &[usize]) -> Option<usize> {
        self.comments.iter().position(|c| c.id == id && !c.deleted && owned.contains(&c.account))
    }

    /// `GET /{media}/comments`: top-level comments, newest first, `limit` a page (at most 50),
    /// with the `fields` asked for and `replies{…}` nested; `None` when the media is not one
    /// of `owned`'s.
    pub(crate) fn comment_page(
        &mut self,
        media_id: &str,
        owned: &[usize],
        fields: &str,
        limit: usize,
        after: Option<usize>,
        now: DateTime<Utc>,
    ) -> Option<(Value, bool, usize)> {
        let mine = owned
            .iter()
            .any(|&a| self.accounts[a].media.iter().any(|m| m.id == media_id && !m.deleted && m.posted_at <= now));
        if !mine {
            return None;
        }
        self.bring_comments(media_id, now);
        let mut top: Vec<&SimComment> =
            self.comments.iter().filter(|c| c.media_id == media_id && c.parent_id.is_none() && !c.deleted).collect();
        top.sort_by(|a, b| (b.at, &b.id).cmp(&(a.at, &a.id)));
        let start = after.unwrap_or(0).min(top.len());
        let end = (start + limit.clamp(1, 50)).min(top.len());
        let data: Vec<Value> = top[start..end].iter().map(|c| self.comment_json(c, fields)).collect();
        Some((json!(data), end < top.len(), end))
    }

    /// One comment with the fields asked for.
    pub(crate) fn comment_json(&self, comment: &SimComment, fields: &str) -> Value {
        let mut out = serde_json::Map::new();
        out.insert("id".into(), json!(comment.id));
        for (field, sub) in super::server::split_fields(fields) {
            let value = match field {
                "text" => json!(comment.text),
                "timestamp" => json!(comment.at.format("%Y-%m-%dT%H:%M:%S+0000").to_string()),
                "username" => json!(comment.username),
                "from" => json!({ "id": comment.from_id, "username": comment.username }),
                "hidden" => json!(comment.hidden),
                "like_count" => json!(0),
                "parent_id" => match &comment.parent_id {
                    Some(parent) => json!(parent),
                    None => continue,
                },
                "media" => json!({ "id": comment.media_id }),
                "replies" if comment.parent_id.is_none() => {
                    let sub = sub.unwrap_or("id,timestamp,text");
                    let mut replies: Vec<&SimComment> = self
                        .comments
                        .iter()
                        .filter(|r| r.parent_id.as_deref() == Some(comment.id.as_str()) && !r.deleted)
                        .collect();
                    replies.sort_by_key(|r| r.at);
                    json!({ "data": replies.iter().map(|r| self.comment_json(r, sub)).collect::<Vec<_>>() })
                }
                _ => continue,
            };
            out.insert(field.to_owned(), value);
        }
        Value::Object(out)
    }

    /// `GET /{comment}` or `/{comment}/replies`.
    pub(crate) fn read_comment(
        &self,
        id: &str,
        owned: &[usize],
        replies: bool,
        fields: &str,
    ) -> Result<Value, Refusal> {
        let index = self.owned_comment(id, owned).ok_or_else(|| not_found(id))?;
        let comment = &self.comments[index];
        if !replies {
            return Ok(self.comment_json(comment, fields));
        }
        let nested = self.comment_json(comment, &format!("replies{{{fields}}}"));
        Ok(nested.get("replies").cloned().unwrap_or_else(|| json!({ "data": [] })))
    }

    /// `POST /{comment}/replies?message=…`: the account answers. A reply to a reply lands on
    /// its top-level comment; a hidden comment cannot be answered (IG Comment Replies).
    pub(crate) fn reply(&mut self, id: &str, owned: &[usize], message: &str) -> Result<String, Refusal> {
        let index = self.owned_comment(id, owned).ok_or_else(|| not_found(id))?;
        let comment = self.comments[index].clone();
        if comment.hidden {
            // The reference states the rule, not the error; this wording is the simulator's.
            return Err((100, None, "(#100) A hidden comment cannot be replied to".into()));
        }
        let top = comment.parent_id.clone().unwrap_or(comment.id.clone());
        let owner = self.accounts[comment.account].spec.username.clone();
        Ok(self.add_comment(comment.account, &comment.media_id, &owner, message, Some(&top)))
    }

    /// `POST /{comment}?hide=true|false`.
    pub(crate) fn set_hidden(&mut self, id: &str, owned: &[usize], hide: bool) -> Result<(), Refusal> {
        let index = self.owned_comment(id, owned).ok_or_else(|| not_found(id))?;
        self.comments[index].hidden = hide;
        Ok(())
    }

    /// `DELETE /{comment}`: the comment and its replies are gone.
    pub(crate) fn delete_comment(&mut self, id: &str, owned: &[usize]) -> Result<(), Refusal> {
        let index = self.owned_comment(id, owned).ok_or_else(|| not_found(id))?;
        let media_id = self.comments[index].media_id.clone();
        let mut gone = 0;
        for comment in self.comments.iter_mut().filter(|c| !c.deleted) {
            if comment.id == id || comment.parent_id.as_deref() == Some(id) {
                comment.deleted = true;
                gone += 1;
            }
        }
        self.change_count(&media_id, -gone);
        Ok(())
    }
}

impl Inner {
    /// `GET /{ig-user-id}?fields=mentioned_comment.comment_id(ID){…}`.
    pub(crate) fn mentioned_comment(&self, account: usize, comment_id: &str, fields: &str) -> Result<Value, Refusal> {
        let mention = self
            .mentions
            .iter()
            .find(|m| m.account == account && m.comment_id == comment_id)
            .ok_or_else(|| not_found(comment_id))?;
        let mut out = serde_json::Map::new();
        out.insert("id".into(), json!(mention.comment_id));
        for (field, _) in super::server::split_fields(fields) {
            let value = match field {
                "text" => json!(mention.text),
                "username" => json!(mention.username),
                "timestamp" => json!(mention.at.format("%Y-%m-%dT%H:%M:%S+0000").to_string()),
                "like_count" => json!(0),
                "media" => json!({ "id": mention.media_id,
                    "permalink": format!("https://www.instagram.com/p/{}/", &mention.media_id[mention.media_id.len() - 8..]) }),
                _ => continue,
            };
            out.insert(field.to_owned(), value);
        }
        Ok(Value::Object(out))
    }

    /// `POST /{ig-user-id}/mentions?media_id&comment_id&message`: the account answers a mention.
    pub(crate) fn reply_to_mention(
        &mut self,
        account: usize,
        media_id: &str,
        comment_id: &str,
        message: &str,
    ) -> Result<String, Refusal> {
        let id = format!("178{:014}", self.rng.random_range(0..99_999_999_999_999u64));
        let mention = self
            .mentions
            .iter_mut()
            .find(|m| m.account == account && m.comment_id == comment_id && m.media_id == media_id)
            .ok_or_else(|| not_found(comment_id))?;
        mention.replies.push(message.to_owned());
        Ok(id)
    }
}

/// A page cursor: the position of the next comment.
pub(crate) fn encode_cursor(position: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("c:{position}"))
}

pub(crate) fn decode_cursor(cursor: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    text.strip_prefix("c:")?.parse().ok()
}
