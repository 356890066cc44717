//! Comments arriving as Meta delivers them (graph-api.md §6.3): the simulator makes a comment on
//! one of its media, then POSTs the `comments` change to a webhook URL, signed with
//! `X-Hub-Signature-256` (HMAC-SHA256 of the body under the app secret). The tests deliver one
//! at a time; the demo runs a feed so comments arrive while it is watched.

use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::json;
use sha2::Sha256;

use super::Simulator;

/// The signature header Meta sends with a delivery.
pub fn signature(app_secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC accepts any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs a delivery to `url`, signed with `app_secret`; the answer's status.
pub async fn deliver(url: &str, app_secret: &str, body: &[u8]) -> reqwest::Result<u16> {
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?
        .post(url)
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", signature(app_secret, body))
        .body(body.to_vec())
        .send()
        .await?;
    Ok(response.status().as_u16())
}

impl Simulator {
    /// Makes a comment by `username` on account `index`'s media (a reply when `parent` names a
    /// comment) and returns its id and the webhook delivery announcing it, as Instagram Login
    /// sends it (one change inline in the entry).
    pub fn comment_on(
        &self,
        index: usize,
        media_id: &str,
        username: &str,
        text: &str,
        parent: Option<&str>,
    ) -> (String, Vec<u8>) {
        let mut inner = self.state.lock();
        let comment_id = inner.add_comment(index, media_id, username, text, parent);
        let from_id = inner.comments.iter().rev().find(|c| c.id == comment_id).map(|c| c.from_id.clone());
        let now = inner.now();
        let account = inner.accounts[index].ig_user_id.clone();
        let product = inner.accounts[index].media.iter().find(|m| m.id == media_id).map_or("FEED", |m| m.product);
        let mut value = json!({
            "id": comment_id, "text": text,
            "from": { "id": from_id, "username": username },
            "media": { "id": media_id, "media_product_type": product },
        });
        if let Some(parent) = parent {
            value["parent_id"] = json!(parent);
        }
        let body = json!({ "object": "instagram", "entry": [{
            "id": account, "time": now.timestamp(), "field": "comments", "value": value }] });
        (comment_id, body.to_string().into_bytes())
    }

    /// Someone @mentions account `index` in a comment on their own media; returns the comment's
    /// id and the `mentions` delivery announcing it (which carries ids only, as Meta's does).
    pub fn mention(&self, index: usize, username: &str, text: &str) -> (String, Vec<u8>) {
        let mut inner = self.state.lock();
        let now = inner.now();
        let media_id = format!("179{:014}", inner.rng.random_range(0..99_999_999_999_999u64));
        let comment_id = format!("178{:014}", inner.rng.random_range(0..99_999_999_999_999u64));
        let handle = inner.accounts[index].spec.username.clone();
        inner.mentions.push(super::comments::SimMention {
            account: index,
            media_id: media_id.clone(),
            comment_id: comment_id.clone(),
            username: username.to_owned(),
            text: text.replace("{account}", &format!("@{handle}")),
            at: now,
            replies: Vec::new(),
        });
        let account = inner.accounts[index].ig_user_id.clone();
        let body = json!({ "object": "instagram", "entry": [{ "id": account, "time": now.timestamp(),
            "field": "mentions", "value": { "media_id": media_id, "comment_id": comment_id } }] });
        (comment_id, body.to_string().into_bytes())
    }

    /// Delivers a believable comment on a recent media of a random account to `url`: a few at
    /// once, then one every `every`, until the runtime stops (the demo's live inbox).
    pub fn start_comment_feed(&self, url: String, app_secret: String, every: Duration) {
        let simulator =
            Simulator { base_url: self.base_url.clone(), state: self.state.clone(), handle: self.handle.clone() };
        tokio::spawn(async move {
            for delivered in 0u32.. {
                tokio::time::sleep(if delivered < 6 { Duration::from_secs(1) } else { every }).await;
                let pick = {
                    let mut inner = simulator.state.lock();
                    let accounts = inner.accounts.len();
                    let index = inner.rng.random_range(0..accounts);
                    let now = inner.now();
                    let recent: Vec<String> = inner.accounts[index]
                        .media
                        .iter()
                        .filter(|m| !m.deleted && m.posted_at <= now && m.product != "STORY")
                        .take(6)
                        .map(|m| m.id.clone())
                        .collect();
                    let comments = inner.accounts[index].spec.voice.comments;
                    let (username, text) = comments[inner.rng.random_range(0..comments.len())];
                    if recent.is_empty() {
                        None
                    } else {
                        let media = recent[inner.rng.random_range(0..recent.len())].clone();
                        Some((index, media, username, text))
                    }
                };
                let Some((index, media, username, text)) = pick else { continue };
                // Now and then someone mentions the account elsewhere instead.
                let (_, body) = if delivered % 5 == 4 {
                    simulator.mention(index, username, "Going to {account} this weekend, who's in? 🙌")
                } else {
                    simulator.comment_on(index, &media, username, text, None)
                };
                if let Err(err) = deliver(&url, &app_secret, &body).await {
                    tracing::debug!(error = %err.without_url(), "the simulator could not deliver a comment");
                }
            }
        });
    }
}
