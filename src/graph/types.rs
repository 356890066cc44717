//! What the Graph API sends, parsed leniently: ids as strings whether quoted or not,
//! `+0000` timestamps, flat or `{"data":[…]}`-wrapped objects, optional fields, unknown
//! fields ignored.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

pub use crate::domain::Flavour;

/// An access token. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into().trim().to_owned())
    }

    /// The token itself, for the one place that must send or encrypt it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// An Instagram professional account as the user node describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub ig_user_id: String,
    pub username: String,
    pub name: Option<String>,
    pub profile_picture_url: Option<String>,
    pub followers_count: Option<i64>,
    pub follows_count: Option<i64>,
    pub media_count: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProfileWire {
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// Instagram Login's `/me` names the professional account id here (`id` is app-scoped).
    #[serde(default, deserialize_with = "opt_id")]
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub name: Option<String>,
    pub profile_picture_url: Option<String>,
    pub followers_count: Option<i64>,
    pub follows_count: Option<i64>,
    pub media_count: Option<i64>,
}

impl ProfileWire {
    pub(crate) fn into_profile(self, prefer_user_id: bool) -> Option<Profile> {
        let ig_user_id = if prefer_user_id { self.user_id.or(self.id) } else { self.id.or(self.user_id) }?;
        Some(Profile {
            ig_user_id,
            username: self.username.unwrap_or_default(),
            name: self.name,
            profile_picture_url: self.profile_picture_url,
            followers_count: self.followers_count,
            follows_count: self.follows_count,
            media_count: self.media_count,
        })
    }
}

/// Either a flat object or the documented `{"data":[object]}` wrapper.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum FlatOrWrapped<T> {
    Wrapped { data: Vec<T> },
    Flat(T),
}

impl<T> FlatOrWrapped<T> {
    pub(crate) fn into_first(self) -> Option<T> {
        match self {
            FlatOrWrapped::Wrapped { data } => data.into_iter().next(),
            FlatOrWrapped::Flat(item) => Some(item),
        }
    }
}

/// One media item from the media list (or the stories edge).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Media {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub media_product_type: Option<String>,
    #[serde(default)]
    pub permalink: Option<String>,
    #[serde(deserialize_with = "graph_time")]
    pub timestamp: DateTime<Utc>,
    /// Absent when the owner hides like counts.
    #[serde(default)]
    pub like_count: Option<i64>,
    #[serde(default)]
    pub comments_count: Option<i64>,
    #[serde(default)]
    pub children: Option<Children>,
    /// The picture (an image's own, a video's file); left out for flagged media.
    #[serde(default)]
    pub media_url: Option<String>,
    /// A video's cover picture.
    #[serde(default)]
    pub thumbnail_url: Option<String>,
}

impl Media {
    /// Where its picture is: a video's cover, an image itself, or a carousel's first item.
    pub fn picture_url(&self) -> Option<&str> {
        match self.media_type.as_deref() {
            Some("VIDEO") => self.thumbnail_url.as_deref(),
            Some("CAROUSEL_ALBUM") => {
                let first = self.children.as_ref().and_then(|c| c.data.first())?;
                first.media_url.as_deref().filter(|_| first.media_type.as_deref() != Some("VIDEO"))
            }
            _ => self.media_url.as_deref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Children {
    #[serde(default)]
    pub data: Vec<Child>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Child {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub media_type: Option<String>,
    /// A video item's address is its file, not a picture: only an image item's is used.
    #[serde(default)]
    pub media_url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Paging {
    #[serde(default)]
    pub next: Option<String>,
}

/// A Page from `/me/accounts` with its linked Instagram account.
#[derive(Debug, Deserialize)]
pub(crate) struct PageWire {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub instagram_business_account: Option<ProfileWire>,
}

/// A long-lived token as an exchange or refresh returns it.
#[derive(Clone, Deserialize)]
pub struct TokenGrant {
    pub access_token: String,
    /// Seconds until expiry.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGrant").field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

/// What `debug_token` says about a token.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenInfo {
    #[serde(default)]
    pub is_valid: bool,
    /// Unix seconds; 0 is read as "never expires".
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl TokenInfo {
    pub fn expiry(&self) -> Option<DateTime<Utc>> {
        self.expires_at.filter(|&t| t > 0).and_then(|t| DateTime::from_timestamp(t, 0))
    }
}

/// Ids arrive as strings, or as bare integers (beyond 2^53, so never through f64).
pub(crate) fn id_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    id(deserializer)
}

fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(IdVisitor)
}

fn opt_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    id(deserializer).map(Some)
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id as a string or an integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<String, E> {
        Err(E::custom("an id too large for an integer would lose digits"))
    }
}

/// `2021-08-13T08:25:28+0000` (the Graph API's form) or RFC 3339.
pub fn parse_graph_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub(crate) fn graph_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_graph_time(&text).ok_or_else(|| de::Error::custom(format!("not a timestamp: {text}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_beyond_two_to_the_53_keep_every_digit() {
        let flat: FlatOrWrapped<ProfileWire> =
            serde_json::from_str(r#"{"user_id":17841400000000001,"id":"123","username":"a"}"#).unwrap();
        let profile = flat.into_first().unwrap().into_profile(true).unwrap();
        assert_eq!(profile.ig_user_id, "17841400000000001");
    }

    #[test]
    fn wrapped_and_flat_objects_both_parse() {
        let wrapped: FlatOrWrapped<ProfileWire> =
            serde_json::from_str(r#"{"data":[{"user_id":"17841400000000002","username":"b","extra":1}]}"#).unwrap();
        let profile = wrapped.into_first().unwrap().into_profile(true).unwrap();
        assert_eq!(profile.ig_user_id, "17841400000000002");
        assert_eq!(profile.username, "b");
    }

    #[test]
    fn media_with_plus_0000_timestamps_and_missing_fields_parse() {
        let media: Media = serde_json::from_str(
            r#"{"id":18000000000000000001,"media_type":"IMAGE","timestamp":"2021-08-13T08:25:28+0000","unknown":[1]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(media.id, "18000000000000000001");
        assert_eq!(media.timestamp.to_rfc3339(), "2021-08-13T08:25:28+00:00");
        assert_eq!(media.like_count, None);
        assert_eq!(media.caption, None);
    }

    #[test]
    fn the_flavour_is_guessed_from_the_token() {
        assert_eq!(Flavour::from_token("IGAAabc"), Some(Flavour::Instagram));
        assert_eq!(Flavour::from_token("EAAabc"), Some(Flavour::Facebook));
        assert_eq!(Flavour::from_token("xyz"), None);
    }

    #[test]
    fn a_token_never_shows_in_debug_output() {
        let token = AccessToken::new("IGAAsecret");
        assert!(!format!("{token:?}").contains("secret"));
        let grant = TokenGrant { access_token: "IGAAsecret".into(), expires_in: Some(5) };
        assert!(!format!("{grant:?}").contains("secret"));
    }
}
