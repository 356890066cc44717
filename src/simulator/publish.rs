//! Content publishing in the simulator (graph-api.md §7): containers with Meta's states, the
//! media fetched from `image_url`/`video_url` like Meta fetches it, the 24-hour quota, and a
//! published container turning into a media of the account that grows metrics like any other.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::Inner;
use super::world::make_media;

/// Meta's message when the quota is spent (code 9, subcode 2207042).
pub const QUOTA_SPENT: &str =
    "You reached maximum number of posts that is allowed to be published by Content Publishing API in 24 hours";
/// Publishing a container that is not ready yet (code 9007, subcode 2207027).
pub const NOT_READY: &str = "The media is not ready for publishing, please wait for a moment";
/// The status text of a FINISHED container (§7.2).
pub const FINISHED_TEXT: &str = "Finished: Media has been uploaded and it is ready to be published.";
/// Error subcode in `status` when Meta could not fetch the media from its URL.
pub const FETCH_FAILED_SUBCODE: i64 = 2_207_052;
/// Containers expire 24 hours after creation (§7.4).
const CONTAINER_LIFETIME: chrono::Duration = chrono::Duration::hours(24);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// Not fetched yet (a task is on it).
    Pending,
    /// Fetched at this (real) instant: it answered with media of the expected kind.
    Fetched(Instant),
    Failed(String),
}

#[derive(Debug, Clone)]
pub(crate) struct SimContainer {
    pub id: String,
    pub account: usize,
    /// `IMAGE`, `VIDEO` or `CAROUSEL_ALBUM`: what the published media will be.
    pub media_type: &'static str,
    /// `FEED`, `REELS` or `STORY`.
    pub product: &'static str,
    pub caption: Option<String>,
    pub children: Vec<String>,
    pub is_item: bool,
    pub created_at: DateTime<Utc>,
    pub fetch: Fetch,
    /// Forced to end in ERROR (a fault) or EXPIRED (a test).
    pub forced_error: bool,
    pub forced_expired: bool,
    pub published_media: Option<String>,
}

/// One thing the server must fetch once the lock is released.
pub(crate) struct FetchJob {
    pub container: String,
    pub url: String,
    pub video: bool,
}

/// Why a container creation or publication is refused: (code, subcode, message).
pub(crate) type Refusal = (i64, Option<i64>, String);

impl Inner {
    fn container(&self, id: &str) -> Option<&SimContainer> {
        self.containers.iter().find(|c| c.id == id)
    }

    /// `status_code` and `status` of a container now.
    pub(crate) fn container_state(
        &self,
        container: &SimContainer,
        now: DateTime<Utc>,
        processing: Duration,
    ) -> (&'static str, String) {
        if container.published_media.is_some() {
            return ("PUBLISHED", "Published: Media has been published.".into());
        }
        if container.forced_expired || now - container.created_at > CONTAINER_LIFETIME {
            return ("EXPIRED", "Expired: Media was not published within 24 hours.".into());
        }
        if container.forced_error {
            return ("ERROR", "Error: An unknown error occurred while processing the media. (2207053)".into());
        }
        if container.media_type == "CAROUSEL_ALBUM" {
            return ("FINISHED", FINISHED_TEXT.into());
        }
        match &container.fetch {
            Fetch::Pending => ("IN_PROGRESS", "In Progress: Media is still being processed.".into()),
            Fetch::Failed(why) => ("ERROR", format!("Error: {why} ({FETCH_FAILED_SUBCODE})")),
            Fetch::Fetched(at) if container.media_type == "VIDEO" && at.elapsed() < processing => {
                ("IN_PROGRESS", "In Progress: Media is still being processed.".into())
            }
            Fetch::Fetched(_) => ("FINISHED", FINISHED_TEXT.into()),
        }
    }

    /// `POST /{ig-user-id}/media`.
    pub(crate) fn create_container(
        &mut self,
        account: usize,
        param: impl Fn(&str) -> Option<String>,
        now: DateTime<Utc>,
        processing: Duration,
    ) -> Result<(Value, Option<FetchJob>), Refusal> {
        let media_type_param = param("media_type");
        let is_item = param("is_carousel_item").as_deref() == Some("true");
        let (image_url, video_url) = (param("image_url"), param("video_url"));
        let invalid = |what: &str| (100, None, format!("(#100) {what}"));
        let (media_type, product, url, video) = match media_type_param.as_deref() {
            Some("CAROUSEL") => {
                let children: Vec<String> = param("children")
                    .unwrap_or_default()
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect();
                if !(2..=10).contains(&children.len()) {
                    return Err(invalid("The parameter children must name 2 to 10 carousel items"));
                }
                for child in &children {
                    let Some(item) = self.container(child).filter(|c| c.account == account && c.is_item) else {
                        return Err(invalid(&format!("{child} is not a carousel item container of this account")));
                    };
                    if self.container_state(item, now, processing).0 != "FINISHED" {
                        return Err((9007, Some(2_207_027), NOT_READY.into()));
                    }
                }
                let id = self.new_container_id();
                self.containers.push(SimContainer {
                    id: id.clone(),
                    account,
                    media_type: "CAROUSEL_ALBUM",
                    product: "FEED",
                    caption: param("caption"),
                    children,
                    is_item: false,
                    created_at: now,
                    fetch: Fetch::Pending,
                    forced_error: false,
                    forced_expired: false,
                    published_media: None,
                });
                return Ok((json!({ "id": id }), None));
            }
            Some("REELS") => ("VIDEO", "REELS", video_url, true),
            Some("STORIES") => match (&image_url, &video_url) {
                (Some(_), None) => ("IMAGE", "STORY", image_url, false),
                (None, Some(_)) => ("VIDEO", "STORY", video_url, true),
                _ => return Err(invalid("A story takes exactly one of image_url or video_url")),
            },
            Some("VIDEO") if is_item => ("VIDEO", "FEED", video_url, true),
            // §7.1: VIDEO as a feed media_type was dropped in 2023-11.
            Some("VIDEO") => {
                return Err(invalid("The VIDEO media type is no longer supported for feed posts; use REELS"));
            }
            Some("IMAGE") | None => ("IMAGE", "FEED", image_url, false),
            Some(other) => return Err(invalid(&format!("Unsupported media_type {other}"))),
        };
        let Some(url) = url else {
            let wanted = if video { "video_url" } else { "image_url" };
            return Err(invalid(&format!("The parameter {wanted} is required")));
        };
        let id = self.new_container_id();
        let forced_error = self.faults.container_errors > 0;
        if forced_error {
            self.faults.container_errors -= 1;
        }
        self.containers.push(SimContainer {
            id: id.clone(),
            account,
            media_type,
            product,
            caption: if is_item { None } else { param("caption") },
            children: Vec::new(),
            is_item,
            created_at: now,
            fetch: Fetch::Pending,
            forced_error,
            forced_expired: false,
            published_media: None,
        });
        Ok((json!({ "id": id }), Some(FetchJob { container: id, url, video })))
    }

    fn new_container_id(&mut self) -> String {
        format!("179{:014}", self.rng.random_range(0..99_999_999_999_999u64))
    }

    /// `GET /{container-id}?fields=status_code,status`, when the id is a container.
    pub(crate) fn container_json(
        &self,
        id: &str,
        owned: &[usize],
        now: DateTime<Utc>,
        processing: Duration,
    ) -> Option<Value> {
        let container = self.container(id).filter(|c| owned.contains(&c.account))?;
        let (code, status) = self.container_state(container, now, processing);
        Some(json!({ "id": container.id, "status_code": code, "status": status }))
    }

    /// Posts published through the API by `account` in the last 24 hours.
    pub(crate) fn quota_used(&self, account: usize, now: DateTime<Utc>) -> i64 {
        self.publishes.iter().filter(|(a, at)| *a == account && now - *at < chrono::Duration::hours(24)).count() as i64
    }

    /// `POST /{ig-user-id}/media_publish?creation_id=…`: the new media's id.
    pub(crate) fn publish(
        &mut self,
        account: usize,
        creation_id: &str,
        now: DateTime<Utc>,
        processing: Duration,
        quota: i64,
    ) -> Result<String, Refusal> {
        let Some(container) = self.container(creation_id).filter(|c| c.account == account && !c.is_item).cloned()
        else {
            return Err((100, Some(33), super::facts::unsupported_get(creation_id)));
        };
        match self.container_state(&container, now, processing).0 {
            "FINISHED" => {}
            "IN_PROGRESS" => return Err((9007, Some(2_207_027), NOT_READY.into())),
            "EXPIRED" => {
                return Err((
                    -2,
                    Some(2_207_020),
                    "The media you are trying to access has expired. Please try to upload again.".into(),
                ));
            }
            "PUBLISHED" => return Err((100, None, "(#100) This media has already been published".into())),
            _ => return Err((-1, Some(2_207_032), "Create media fail, please try to re-create media".into())),
        }
        if self.quota_used(account, now) >= quota {
            return Err((9, Some(2_207_042), QUOTA_SPENT.into()));
        }
        let spec = self.accounts[account].spec.clone();
        let n = 70_000 + self.accounts[account].media.len();
        let mut media =
            make_media(&mut self.rng, &spec, account, n, container.media_type, container.product, now, false);
        media.caption = container.caption.clone();
        if container.media_type == "CAROUSEL_ALBUM" {
            media.children = container.children.iter().enumerate().map(|(i, _)| format!("{}{i}", media.id)).collect();
        }
        let id = media.id.clone();
        self.accounts[account].media.insert(0, media);
        self.publishes.push((account, now));
        if let Some(stored) = self.containers.iter_mut().find(|c| c.id == creation_id) {
            stored.published_media = Some(id.clone());
        }
        Ok(id)
    }
}

/// Fetches a container's media as Meta would and records what came back: the URL must answer
/// 200 with an image (JPEG) or a video, by its bytes as well as its declared type.
pub(crate) async fn fetch(state: std::sync::Arc<super::SimState>, job: FetchJob) {
    let outcome = match fetch_media(&job).await {
        Ok(()) => Fetch::Fetched(Instant::now()),
        Err(why) => Fetch::Failed(why),
    };
    let mut inner = state.lock();
    if let Some(container) = inner.containers.iter_mut().find(|c| c.id == job.container) {
        container.fetch = outcome;
    }
}

async fn fetch_media(job: &FetchJob) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|_| "Media download has failed.".to_owned())?;
    let response = client
        .get(&job.url)
        .send()
        .await
        .map_err(|_| "Media download has failed. The media URI doesn't meet our requirements.".to_owned())?;
    if !response.status().is_success() {
        return Err(format!("Media download has failed: the media URI answered HTTP {}.", response.status().as_u16()));
    }
    let declared = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.bytes().await.map_err(|_| "Media download has failed.".to_owned())?;
    let sniffed = infer::get(&body).map(|t| t.mime_type()).unwrap_or_default();
    let fits = if job.video {
        declared.starts_with("video/") && sniffed.starts_with("video/")
    } else {
        declared == "image/jpeg" && sniffed == "image/jpeg"
    };
    if fits { Ok(()) } else { Err("Only photo or video can be accepted as media type.".into()) }
}
