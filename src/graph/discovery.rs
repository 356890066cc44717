//! Business Discovery: another professional account's public figures (followers, posts) and
//! its recent posts' like and comment counts, read through one of the operator's accounts.
//! Facebook Login only (graph-api.md §1); it counts against the platform rate limits, not the
//! account's (graph-api.md §5.2). No insights: reach and views of others are not public.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::client::GraphSession;
use super::error::GraphError;
use super::types::{graph_time, id_string};

/// Recent posts read per account and call: about two months of a busy account.
pub const DISCOVERED_POSTS: usize = 50;

/// The code and subcode of an unknown username, and of a personal (not professional) account,
/// which Business Discovery cannot tell apart: `(#110) Invalid user id`, subcode 2207013 (as
/// clients in public code record it; Meta's reference does not list it).
pub const NOT_FOUND: (i64, i64) = (110, 2_207_013);

/// Another account as Business Discovery gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovered {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub followers_count: Option<i64>,
    #[serde(default)]
    pub media_count: Option<i64>,
    #[serde(default)]
    pub media: Option<DiscoveredMediaList>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DiscoveredMediaList {
    #[serde(default)]
    pub data: Vec<DiscoveredMedia>,
}

/// One of its posts. `like_count` is left out when the owner hides likes.
#[derive(Debug, Clone, Deserialize)]
pub struct DiscoveredMedia {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(deserialize_with = "graph_time")]
    pub timestamp: DateTime<Utc>,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub media_product_type: Option<String>,
    #[serde(default)]
    pub like_count: Option<i64>,
    #[serde(default)]
    pub comments_count: Option<i64>,
    #[serde(default)]
    pub permalink: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DiscoveryWire {
    business_discovery: Discovered,
}

impl GraphSession<'_> {
    /// `username`'s public figures and recent posts, asked through the operator's account
    /// `ig_user_id`. An unknown or personal account is a `Rejected` error with
    /// [`NOT_FOUND`]'s code and subcode (see [`is_not_found`]).
    pub async fn discover(&self, ig_user_id: &str, username: &str) -> Result<Discovered, GraphError> {
        if !is_username(username) {
            return Err(GraphError::Rejected {
                code: 100,
                subcode: None,
                message: "not an Instagram username: nothing was asked".into(),
            });
        }
        let fields = format!(
            "business_discovery.username({username}){{id,username,name,followers_count,media_count,\
             media.limit({DISCOVERED_POSTS}){{id,timestamp,media_type,media_product_type,like_count,comments_count,permalink}}}}"
        );
        let url = self.url(ig_user_id);
        let wire: DiscoveryWire = self.get(url, &[("fields", &fields)], Some(ig_user_id)).await?;
        Ok(wire.business_discovery)
    }
}

/// Whether `text` can be an Instagram username: 1 to 30 letters, digits, periods and
/// underscores (it is put inside a field expression, so nothing else may reach the call).
pub fn is_username(text: &str) -> bool {
    (1..=30).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
}

/// Whether Business Discovery said there is no such professional account.
pub fn is_not_found(err: &GraphError) -> bool {
    matches!(err, GraphError::Rejected { code, subcode: Some(subcode), .. } if (*code, *subcode) == NOT_FOUND)
}
