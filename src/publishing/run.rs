//! The publisher: takes each due publication (one publisher per publication, whatever the
//! number of processes), makes its containers at Meta, waits for them to be processed, checks
//! the quota, publishes, and records every step. It is safe to stop at any point: the next run
//! picks up from what was recorded, and a `media_publish` whose answer was lost is never sent
//! twice (the container's status says whether it went out).

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tracing::Instrument;

use super::store::{LINK_LIFETIME, MediaStore};
use crate::crypto::TokenKey;
use crate::db::accounts::{Account, token_binding};
use crate::db::publications::{Change, Publication, PublicationFile};
use crate::db::{self, DbError};
use crate::domain::{AccountId, AccountStatus, Clock, PublicationId, PublicationKind, PublicationStatus};
use crate::graph::publish::{ContainerSpec, ContainerState};
use crate::graph::{AccessToken, Action, GraphClient, GraphError, GraphSession};

/// How old a file no publication holds must be before it is removed: a file is stored a
/// moment before its publication's row is written.
const ORPHAN_GRACE: StdDuration = StdDuration::from_secs(10 * 60);

/// Tunables; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Longest a run waits for one container to be processed before coming back later.
    pub poll_for: StdDuration,
    /// First wait between status checks; doubles up to `poll_max`.
    pub poll_first: StdDuration,
    pub poll_max: StdDuration,
    /// How long a claim holds a publication against other publishers.
    pub claim_for: Duration,
    /// Attempts (temporary failures, containers Meta could not process) before it fails.
    pub max_attempts: i32,
}

impl Default for PublishOptions {
    fn default() -> Self {
        Self {
            poll_for: StdDuration::from_secs(90),
            poll_first: StdDuration::from_secs(1),
            poll_max: StdDuration::from_secs(15),
            claim_for: Duration::minutes(10),
            max_attempts: 4,
        }
    }
}

pub struct Publisher {
    pool: db::Pool,
    graph: GraphClient,
    key: TokenKey,
    store: MediaStore,
    clock: Clock,
    options: PublishOptions,
}

/// What one run did.
#[derive(Debug, Clone, Default)]
pub struct PublishSummary {
    /// (publication, account, media id)
    pub published: Vec<(PublicationId, AccountId, String)>,
    /// Publications left for a later run (processing, quota, rate limit, backoff).
    pub waiting: Vec<(PublicationId, String)>,
    pub failed: Vec<(PublicationId, String)>,
    pub api_calls: u32,
}

impl std::fmt::Display for PublishSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} published, {} waiting, {} failed, {} API calls",
            self.published.len(),
            self.waiting.len(),
            self.failed.len(),
            self.api_calls
        )
    }
}

/// How handling one publication ended.
enum Outcome {
    Published(String),
    /// Tried and did not get through (a temporary failure, a container Meta could not
    /// process): an attempt, counted towards giving up.
    Waiting(String),
    /// Held back by something outside the publication (the quota, a rate limit, Meta still
    /// processing): not an attempt.
    Held(String),
    Failed(String),
    /// Another publisher holds it now; nothing more is recorded.
    LostClaim,
}

/// Why a step stopped: a Graph error, or the store.
enum Stop {
    Graph(GraphError),
    Db(DbError),
    Outcome(Outcome),
}

impl From<GraphError> for Stop {
    fn from(err: GraphError) -> Self {
        Stop::Graph(err)
    }
}

impl From<DbError> for Stop {
    fn from(err: DbError) -> Self {
        Stop::Db(err)
    }
}

impl From<diesel::result::Error> for Stop {
    fn from(err: diesel::result::Error) -> Self {
        Stop::Db(err.into())
    }
}

impl Publisher {
    pub fn new(pool: db::Pool, graph: GraphClient, key: TokenKey, store: MediaStore, clock: Clock) -> Self {
        Self { pool, graph, key, store, clock, options: PublishOptions::default() }
    }

    pub fn with_options(mut self, options: PublishOptions) -> Self {
        self.options = options;
        self
    }

    pub fn store(&self) -> &MediaStore {
        &self.store
    }

    /// Publishes everything due now, then removes the files of what no longer needs them.
    pub async fn run(&self) -> anyhow::Result<PublishSummary> {
        let mut summary = PublishSummary::default();
        let mut seen = Vec::new();
        loop {
            let now = (self.clock)();
            let claim = uuid::Uuid::new_v4().to_string();
            let mut conn = self.pool.get().await?;
            let Some(publication) =
                Publication::claim_due(&mut conn, now, &claim, now + self.options.claim_for).await?
            else {
                break;
            };
            drop(conn);
            if seen.contains(&publication.id) {
                // Every outcome defers or ends a publication, so this is not expected; stop
                // rather than loop, and let the claim lapse.
                break;
            }
            seen.push(publication.id);
            let id = publication.id;
            let account = publication.account_id;
            let (outcome, calls) = self.publish_one(publication, &claim).await;
            summary.api_calls += calls;
            match outcome {
                Outcome::Published(media_id) => summary.published.push((id, account, media_id)),
                Outcome::Waiting(why) | Outcome::Held(why) => summary.waiting.push((id, why)),
                Outcome::Failed(why) => summary.failed.push((id, why)),
                Outcome::LostClaim => tracing::warn!(publication = %id, "another publisher took this publication over"),
            }
        }
        self.remove_finished_files().await?;
        Ok(summary)
    }

    /// Deletes the files of published and cancelled publications (nothing is kept once done),
    /// then any file no publication holds.
    pub async fn remove_finished_files(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.get().await?;
        let files = Publication::files_done_with(&mut conn).await?;
        let now = (self.clock)();
        for file in &files {
            self.store.remove(&file.file_name)?;
            Publication::mark_file_removed(&mut conn, file.id, now).await?;
        }
        let live = Publication::live_file_names(&mut conn, None).await?.into_iter().collect();
        let swept = self.store.sweep(&live, ORPHAN_GRACE)?;
        if !swept.is_empty() {
            tracing::info!(files = swept.len(), "removed media files no publication holds");
        }
        Ok(files.len() + swept.len())
    }

    async fn publish_one(&self, publication: Publication, claim: &str) -> (Outcome, u32) {
        let id = publication.id;
        // Instrumented, not entered: a guard held across awaits would lend this span to
        // whatever else runs on the thread meanwhile.
        let span = tracing::info_span!("publish", publication = %id, kind = publication.kind.as_str());
        let mut calls = 0;
        let result = self.try_publish(&publication, claim, &mut calls).instrument(span).await;
        let outcome = match result {
            Ok(media_id) => return (Outcome::Published(media_id), calls),
            Err(Stop::Outcome(outcome)) => outcome,
            Err(Stop::Db(err)) => {
                tracing::error!(publication = %id, error = %err, "publishing stopped on a database error; it resumes on the next run");
                return (Outcome::Waiting(format!("database error: {err}")), calls);
            }
            Err(Stop::Graph(err)) => self.judge(&publication, err),
        };
        let now = (self.clock)();
        let change = match &outcome {
            Outcome::Waiting(message) => {
                let until = now + self.backoff(&publication, message);
                Change::Wait { until, message: message.clone(), attempt: true }
            }
            Outcome::Held(message) => {
                let until = now + self.backoff(&publication, message);
                Change::Wait { until, message: message.clone(), attempt: false }
            }
            Outcome::Failed(message) => Change::Failed { message: message.clone() },
            Outcome::Published(_) | Outcome::LostClaim => return (outcome, calls),
        };
        match self.pool.get().await {
            Ok(mut conn) => match Publication::record(&mut conn, id, claim, &change, now).await {
                Ok(true) => {}
                Ok(false) => return (Outcome::LostClaim, calls),
                Err(err) => tracing::error!(error = %err, "cannot record how publishing ended; the claim lapses"),
            },
            Err(err) => tracing::error!(error = %err, "cannot record how publishing ended; the claim lapses"),
        }
        match &outcome {
            Outcome::Waiting(why) | Outcome::Held(why) => tracing::info!(publication = %id, why, "publication waits"),
            Outcome::Failed(why) => tracing::warn!(publication = %id, why, "publication failed"),
            _ => {}
        }
        (outcome, calls)
    }

    /// What a Graph error means for a publication, in the client's terms.
    fn judge(&self, publication: &Publication, err: GraphError) -> Outcome {
        match (&err, err.action()) {
            (GraphError::Rejected { code: 9, subcode: Some(2_207_042), .. }, _) => Outcome::Held(format!(
                "Instagram's 24-hour publishing limit is reached; it goes out when the limit allows ({err})"
            )),
            (GraphError::Rejected { code: 9007, .. }, _) => {
                Outcome::Held(format!("Meta is still processing the media ({err})"))
            }
            (_, Action::Reconnect) => Outcome::Failed(format!("{err}. Then schedule it again.")),
            (_, Action::Wait) => Outcome::Held(err.to_string()),
            (_, Action::Retry) if publication.attempts + 1 < self.options.max_attempts => {
                Outcome::Waiting(err.to_string())
            }
            (_, Action::Retry) => {
                Outcome::Failed(format!("gave up after {} attempts: {err}", publication.attempts + 1))
            }
            (_, Action::Report) => Outcome::Failed(err.to_string()),
        }
    }

    /// How long to wait before the next attempt.
    fn backoff(&self, publication: &Publication, message: &str) -> Duration {
        if message.contains("publishing limit") {
            return Duration::hours(1);
        }
        if message.contains("still processing") {
            return Duration::minutes(1);
        }
        // 1, 2, 4, 8… minutes.
        Duration::minutes(1i64 << publication.attempts.clamp(0, 6))
    }

    async fn try_publish(&self, publication: &Publication, claim: &str, calls: &mut u32) -> Result<String, Stop> {
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let account = Account::find(&mut conn, publication.account_id)
            .await?
            .ok_or_else(|| Stop::Outcome(Outcome::Failed("the account no longer exists".into())))?;
        let files = Publication::files(&mut conn, publication.id).await?;
        drop(conn);
        if account.status != AccountStatus::Active {
            return Err(Stop::Outcome(Outcome::Failed(format!(
                "@{} is {}: enable or re-connect it, then schedule the post again",
                account.username, account.status
            ))));
        }
        let token = self.open_token(&account)?;
        let session = self.graph.session(&token, account.flavour);
        let result = self.with_session(&session, &account, publication, &files, claim).await;
        *calls += session.calls();
        result
    }

    fn open_token(&self, account: &Account) -> Result<AccessToken, Stop> {
        let sealed = account.token().ok_or_else(|| {
            Stop::Outcome(Outcome::Failed(format!("@{} has no token: re-connect it first", account.username)))
        })?;
        self.key
            .open(&sealed.ciphertext, &sealed.nonce, sealed.key_version, &token_binding(&account.ig_user_id))
            .map(AccessToken::new)
            .map_err(|err| Stop::Outcome(Outcome::Failed(format!("the account's token cannot be opened: {err}"))))
    }

    async fn record(&self, id: PublicationId, claim: &str, change: Change) -> Result<(), Stop> {
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        if Publication::record(&mut conn, id, claim, &change, (self.clock)()).await? {
            Ok(())
        } else {
            Err(Stop::Outcome(Outcome::LostClaim))
        }
    }

    async fn with_session(
        &self,
        session: &GraphSession<'_>,
        account: &Account,
        publication: &Publication,
        files: &[PublicationFile],
        claim: &str,
    ) -> Result<String, Stop> {
        let ig = account.ig_user_id.as_str();
        let id = publication.id;
        if publication.status == PublicationStatus::Scheduled {
            self.record(id, claim, Change::Publishing { note: "Publishing started.".into() }).await?;
        }
        let mut container = publication.container_id.clone();

        // A publish was sent before and its outcome never recorded: ask the container.
        if let (Some(sent_at), Some(existing)) = (publication.publish_sent_at, &container) {
            let status = session.container_status(ig, existing).await?;
            match status.state {
                ContainerState::Published => {
                    let media_id = self.find_published(session, ig, publication, sent_at).await?;
                    return self
                        .finish(session, account, publication, claim, media_id, "found after an interrupted publish")
                        .await;
                }
                ContainerState::Finished => {}
                ContainerState::InProgress => {}
                ContainerState::Error | ContainerState::Expired => {
                    self.record(
                        id,
                        claim,
                        Change::ForgetContainer { why: format!("Container {existing}: {}", status.status) },
                    )
                    .await?;
                    container = None;
                }
            }
        }

        let quota = session.publishing_quota(ig).await?;
        if quota.used >= quota.total {
            return Err(Stop::Outcome(Outcome::Held(format!(
                "Instagram's 24-hour publishing limit is reached ({} of {} used); it goes out when the limit allows",
                quota.used, quota.total
            ))));
        }

        let container = match container {
            Some(existing) => existing,
            None => self.make_containers(session, ig, publication, files, claim).await?,
        };
        match self.wait_for(session, ig, &container).await? {
            ContainerState::Finished => {}
            ContainerState::InProgress => {
                return Err(Stop::Outcome(Outcome::Held("Meta is still processing the media".into())));
            }
            ContainerState::Published => {
                let sent_at = publication.publish_sent_at.unwrap_or(publication.updated_at);
                let media_id = self.find_published(session, ig, publication, sent_at).await?;
                return self.finish(session, account, publication, claim, media_id, "found already published").await;
            }
            state @ (ContainerState::Error | ContainerState::Expired) => {
                let status = session.container_status(ig, &container).await?;
                let why = format!("Meta could not process the media: {}", status.status);
                self.record(id, claim, Change::ForgetContainer { why: why.clone() }).await?;
                return Err(Stop::Outcome(
                    if state == ContainerState::Expired || publication.attempts + 1 < self.options.max_attempts {
                        Outcome::Waiting(why)
                    } else {
                        Outcome::Failed(why)
                    },
                ));
            }
        }

        self.record(id, claim, Change::PublishSent).await?;
        let media_id = session.publish_container(ig, &container).await?;
        self.finish(session, account, publication, claim, media_id, "published").await
    }

    /// Makes the containers a publication needs; the one to publish.
    async fn make_containers(
        &self,
        session: &GraphSession<'_>,
        ig: &str,
        publication: &Publication,
        files: &[PublicationFile],
        claim: &str,
    ) -> Result<String, Stop> {
        let expires = Utc::now() + LINK_LIFETIME;
        let caption = Some(publication.caption.as_str()).filter(|c| !c.is_empty());
        let link = |file: &PublicationFile| self.store.signed_url(&file.file_name, expires).to_string();
        let is_video = |file: &PublicationFile| file.content_type.starts_with("video/");
        let container = if files.len() > 1 {
            let mut children = Vec::with_capacity(files.len());
            for file in files {
                let url = link(file);
                let spec = ContainerSpec {
                    media_type: is_video(file).then_some("VIDEO"),
                    image_url: (!is_video(file)).then_some(url.as_str()),
                    video_url: is_video(file).then_some(url.as_str()),
                    alt_text: file.alt_text.as_deref(),
                    is_carousel_item: true,
                    ..ContainerSpec::default()
                };
                let item = session.create_container(ig, &spec).await?;
                let mut conn = self.pool.get().await.map_err(DbError::from)?;
                Publication::record_item_container(&mut conn, file.id, Some(&item)).await?;
                children.push(item);
            }
            for item in &children {
                match self.wait_for(session, ig, item).await? {
                    ContainerState::Finished => {}
                    ContainerState::InProgress => {
                        return Err(Stop::Outcome(Outcome::Held("Meta is still processing the media".into())));
                    }
                    _ => {
                        let status = session.container_status(ig, item).await?;
                        return Err(Stop::Outcome(Outcome::Waiting(format!(
                            "Meta could not process a carousel item: {}",
                            status.status
                        ))));
                    }
                }
            }
            let spec = ContainerSpec {
                media_type: Some("CAROUSEL"),
                caption,
                children: &children,
                ..ContainerSpec::default()
            };
            session.create_container(ig, &spec).await?
        } else {
            let file = files.first().ok_or_else(|| Stop::Outcome(Outcome::Failed("it has no media file".into())))?;
            let url = link(file);
            let video = is_video(file);
            let media_type = match publication.kind {
                PublicationKind::Reel => Some("REELS"),
                PublicationKind::Story => Some("STORIES"),
                PublicationKind::Feed => None,
            };
            let spec = ContainerSpec {
                media_type,
                image_url: (!video).then_some(url.as_str()),
                video_url: video.then_some(url.as_str()),
                // Stories take no caption.
                caption: caption.filter(|_| publication.kind != PublicationKind::Story),
                alt_text: file.alt_text.as_deref().filter(|_| publication.kind == PublicationKind::Feed),
                ..ContainerSpec::default()
            };
            session.create_container(ig, &spec).await?
        };
        self.record(publication.id, claim, Change::Container { container_id: container.clone() }).await?;
        Ok(container)
    }

    /// Checks a container's status with backoff until it leaves IN_PROGRESS or `poll_for` passes.
    async fn wait_for(&self, session: &GraphSession<'_>, ig: &str, container: &str) -> Result<ContainerState, Stop> {
        let started = std::time::Instant::now();
        let mut wait = self.options.poll_first;
        // Nothing is ready the instant it is made: Meta has yet to fetch the file.
        tokio::time::sleep(wait).await;
        loop {
            let status = session.container_status(ig, container).await?;
            if status.state != ContainerState::InProgress || started.elapsed() + wait > self.options.poll_for {
                return Ok(status.state);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.options.poll_max);
        }
    }

    /// The media a container became, when its publish answer was lost: the account's newest
    /// media since the publish was sent whose caption is the publication's (and which no other
    /// publication claims).
    async fn find_published(
        &self,
        session: &GraphSession<'_>,
        ig: &str,
        publication: &Publication,
        sent_at: DateTime<Utc>,
    ) -> Result<String, Stop> {
        let recent = session.media_since(ig, Some(sent_at - Duration::minutes(10))).await?;
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        for media in recent.media {
            let same_caption = media.caption.as_deref().unwrap_or_default().trim() == publication.caption.trim();
            if same_caption && Publication::by_media(&mut conn, publication.account_id, &media.id).await?.is_none() {
                return Ok(media.id);
            }
        }
        // Stories are not in the media list: look among the live ones.
        let stories = session.stories(ig).await?;
        for media in stories.media.into_iter().filter(|m| m.timestamp >= sent_at - Duration::minutes(10)) {
            if Publication::by_media(&mut conn, publication.account_id, &media.id).await?.is_none() {
                return Ok(media.id);
            }
        }
        Err(Stop::Outcome(Outcome::Held(
            "Meta says the post was published but it is not in the account's media yet".into(),
        )))
    }

    /// Records the publication as published, posts the first comment, and
    /// removes its files.
    async fn finish(
        &self,
        session: &GraphSession<'_>,
        account: &Account,
        publication: &Publication,
        claim: &str,
        media_id: String,
        how: &str,
    ) -> Result<String, Stop> {
        let ig = account.ig_user_id.as_str();
        // The post is live whatever happens next: nothing below may turn it into a failure.
        // Its permalink comes with the sync that follows, not with a call of its own.
        let mut note = format!("Live on Instagram as media {media_id} ({how}).");
        if let Some(comment) = publication.first_comment.as_deref().filter(|c| !c.trim().is_empty()) {
            match session.comment(ig, &media_id, comment).await {
                Ok(_) => note.push_str(" First comment posted."),
                Err(err) => note.push_str(&format!(" The first comment could not be posted: {err}.")),
            }
        }
        self.record(publication.id, claim, Change::Published { media_id: media_id.clone(), note }).await?;
        if let Err(err) = self.remove_finished_files().await {
            tracing::warn!(error = format!("{err:#}"), "published, but its files could not be removed yet");
        }
        tracing::info!(media_id, "published");
        Ok(media_id)
    }
}
