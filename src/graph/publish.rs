//! Content publishing (graph-api.md §7): containers, their status, `media_publish`, and the
//! account's publishing quota.

use serde::Deserialize;

use super::client::GraphSession;
use super::error::GraphError;
use super::types::id_string;

/// What one container is made of.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec<'a> {
    /// `REELS`, `STORIES` or `CAROUSEL`; `None` for a feed image (or a carousel item image).
    pub media_type: Option<&'static str>,
    pub image_url: Option<&'a str>,
    pub video_url: Option<&'a str>,
    pub caption: Option<&'a str>,
    pub alt_text: Option<&'a str>,
    pub is_carousel_item: bool,
    /// The item containers of a carousel, in order.
    pub children: &'a [String],
}

/// A container's `status_code` (§7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    InProgress,
    Finished,
    Error,
    Expired,
    Published,
}

#[derive(Debug, Clone)]
pub struct ContainerStatus {
    pub state: ContainerState,
    /// Meta's text: human-readable, or an error subcode when the state is `Error`.
    pub status: String,
}

/// `content_publishing_limit`: posts published in the last 24 hours, and how many are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishingQuota {
    pub used: i64,
    pub total: i64,
}

#[derive(Deserialize)]
struct IdWire {
    #[serde(deserialize_with = "id_string")]
    id: String,
}

impl GraphSession<'_> {
    /// `POST /{ig-user-id}/media`: a new container; its id.
    pub async fn create_container(&self, ig_user_id: &str, spec: &ContainerSpec<'_>) -> Result<String, GraphError> {
        let children = spec.children.join(",");
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(kind) = spec.media_type {
            query.push(("media_type", kind));
        }
        for (name, value) in [
            ("image_url", spec.image_url),
            ("video_url", spec.video_url),
            ("caption", spec.caption),
            ("alt_text", spec.alt_text),
        ] {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                query.push((name, value));
            }
        }
        if spec.is_carousel_item {
            query.push(("is_carousel_item", "true"));
        }
        if !children.is_empty() {
            query.push(("children", &children));
        }
        // A repeated creation only leaves an unused container, which expires in 24 hours.
        let wire: IdWire = self.post(self.url(&format!("{ig_user_id}/media")), &query, Some(ig_user_id), true).await?;
        Ok(wire.id)
    }

    /// `GET /{container-id}?fields=status_code,status`.
    pub async fn container_status(&self, ig_user_id: &str, container_id: &str) -> Result<ContainerStatus, GraphError> {
        #[derive(Deserialize)]
        struct Wire {
            status_code: Option<String>,
            #[serde(default)]
            status: Option<String>,
        }
        let wire: Wire =
            self.get(self.url(container_id), &[("fields", "status_code,status")], Some(ig_user_id)).await?;
        let state = match wire.status_code.as_deref() {
            Some("IN_PROGRESS") => ContainerState::InProgress,
            Some("FINISHED") => ContainerState::Finished,
            Some("ERROR") => ContainerState::Error,
            Some("EXPIRED") => ContainerState::Expired,
            Some("PUBLISHED") => ContainerState::Published,
            other => {
                return Err(GraphError::Unexpected {
                    status: 200,
                    body: format!("a container status_code of {other:?}"),
                });
            }
        };
        Ok(ContainerStatus { state, status: wire.status.unwrap_or_default() })
    }

    /// `POST /{ig-user-id}/media_publish?creation_id=…`: the new media's id. Sent once, never
    /// retried here: after a failure the container's status tells whether it went out.
    pub async fn publish_container(&self, ig_user_id: &str, container_id: &str) -> Result<String, GraphError> {
        let url = self.url(&format!("{ig_user_id}/media_publish"));
        let wire: IdWire = self.post(url, &[("creation_id", container_id)], Some(ig_user_id), false).await?;
        Ok(wire.id)
    }

    /// `GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config`.
    pub async fn publishing_quota(&self, ig_user_id: &str) -> Result<PublishingQuota, GraphError> {
        #[derive(Deserialize)]
        struct Config {
            quota_total: i64,
        }
        #[derive(Deserialize)]
        struct Item {
            quota_usage: i64,
            config: Option<Config>,
        }
        #[derive(Deserialize)]
        struct Wire {
            data: Vec<Item>,
        }
        let url = self.url(&format!("{ig_user_id}/content_publishing_limit"));
        let wire: Wire = self.get(url, &[("fields", "quota_usage,config")], Some(ig_user_id)).await?;
        let item = wire.data.into_iter().next().ok_or_else(|| GraphError::Unexpected {
            status: 200,
            body: "content_publishing_limit answered no data".into(),
        })?;
        // §7.4: the reference says 50, the guide 100; without a config, assume the lower.
        let total = item.config.map_or(50, |c| c.quota_total);
        Ok(PublishingQuota { used: item.quota_usage, total })
    }

    /// `POST /{media-id}/comments?message=…`: the first comment under a new post.
    pub async fn comment(&self, ig_user_id: &str, media_id: &str, message: &str) -> Result<String, GraphError> {
        let url = self.url(&format!("{media_id}/comments"));
        let wire: IdWire = self.post(url, &[("message", message)], Some(ig_user_id), false).await?;
        Ok(wire.id)
    }
}
