//! Planning and publishing as pages, commands and the scheduler see it: compose a publication
//! from uploaded files (checked against Instagram's rules before anything is kept), list what
//! is planned, change or withdraw it, serve its files to Meta through signed links, and publish
//! what is due, after which the account is synced so the new post is tracked from its first
//! minutes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use chrono_tz::Tz;

use crate::db::accounts::Account;
use crate::db::posts::{self, PlannedPost};
use crate::db::publications::{Listed, NewFile, NewPublication, Publication, PublicationEvent, PublicationFile};
use crate::db::settings::OperatorSettings;
use crate::db::{self, DbError};
use crate::domain::{
    AccountId, AccountStatus, Clock, PostId, PublicationId, PublicationKind, PublicationStatus, Trigger, UserId,
};
use crate::publishing::rules::{self, MediaFacts, MediaRefused};
use crate::publishing::{MediaStore, PublishSummary, Publisher, measure};
use crate::sync::{self, RunResult, Scope, SyncContext};

/// The permissions that let an app publish, per login (graph-api.md §7; Meta's permission
/// reference names them `instagram_business_content_publish` and `instagram_content_publish`).
const PUBLISH_SCOPES: &[&str] = &["instagram_business_content_publish", "instagram_content_publish"];

/// When a composed publication goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Kept as a draft: the publisher does not touch it.
    Draft,
    Now,
    At(DateTime<Utc>),
}

/// One received file, waiting in the uploads directory.
#[derive(Debug, Clone)]
pub struct Upload {
    pub path: PathBuf,
    /// The name the file had on the uploader's machine, for messages only.
    pub name: String,
    pub alt_text: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Composition {
    pub account: AccountId,
    pub kind: PublicationKind,
    pub caption: String,
    pub first_comment: Option<String>,
    pub when: When,
    pub uploads: Vec<Upload>,
    pub created_by: Option<UserId>,
}

/// Why a publication was not accepted. The text is for the form (or the command's one line).
#[derive(Debug, thiserror::Error)]
pub enum ComposeRefused {
    #[error("there is no such account")]
    NoAccount,
    #[error("@{username} is {status}: enable or re-connect it before planning posts for it")]
    AccountNotActive { username: String, status: AccountStatus },
    #[error(
        "@{username} was connected without the permission to publish: re-connect it and allow Tidemark to publish content"
    )]
    NoPublishPermission { username: String },
    /// The caption, first comment or image description cannot be kept.
    #[error("{0}")]
    Text(String),
    #[error("{0}")]
    Media(#[from] MediaRefused),
    #[error("the time is in the past: choose a later time, or publish now")]
    InThePast,
    #[error("the uploaded file could not be read: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Database(#[from] DbError),
}

/// Why a change to a publication was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeRefused {
    #[error("there is no such publication")]
    NotFound,
    #[error("it is {0} and can no longer be changed")]
    Closed(&'static str),
    #[error("the time is in the past: choose a later time, or publish now")]
    InThePast,
    #[error(transparent)]
    Database(#[from] DbError),
}

/// One publication with everything its page shows.
pub struct Detail {
    pub publication: Publication,
    pub username: String,
    pub files: Vec<PublicationFile>,
    pub events: Vec<PublicationEvent>,
    /// The tracked post it became and its Instagram address, once the sync has seen it.
    pub post: Option<(PostId, Option<String>)>,
}

/// What the planner shows for a range: Tidemark's publications and every post the sync saw
/// (those Tidemark published appear once, as publications).
pub struct Planner {
    pub publications: Vec<Listed>,
    pub posts: Vec<PlannedPost>,
}

pub struct Publishing {
    pool: db::Pool,
    publisher: Arc<Publisher>,
    /// Syncs an account right after a post of it went out.
    sync: Option<Arc<SyncContext>>,
    clock: Clock,
}

impl Publishing {
    pub fn new(pool: db::Pool, publisher: Arc<Publisher>, clock: Clock) -> Self {
        Self { pool, publisher, sync: None, clock }
    }

    pub fn with_sync(mut self, sync: Arc<SyncContext>) -> Self {
        self.sync = Some(sync);
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    fn store(&self) -> &MediaStore {
        self.publisher.store()
    }

    /// Where a file being received goes; hand it back in a [`Composition`] or [`Self::discard`] it.
    pub fn upload_path(&self) -> PathBuf {
        self.store().upload_path()
    }

    pub fn discard(&self, uploads: &[Upload]) {
        for upload in uploads {
            self.store().discard_upload(&upload.path);
        }
    }

    /// Checks and keeps a new publication. On refusal, nothing is kept (the uploads are removed).
    pub async fn compose(&self, composition: Composition) -> Result<PublicationId, ComposeRefused> {
        let result = self.compose_checked(&composition).await;
        if result.is_err() {
            self.discard(&composition.uploads);
        }
        result
    }

    async fn compose_checked(&self, c: &Composition) -> Result<PublicationId, ComposeRefused> {
        let now = self.now();
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let account =
            Account::find(&mut conn, c.account).await.map_err(DbError::from)?.ok_or(ComposeRefused::NoAccount)?;
        drop(conn);
        if account.status != AccountStatus::Active {
            return Err(ComposeRefused::AccountNotActive { username: account.username, status: account.status });
        }
        let scopes = account.scopes();
        // A pasted token's scopes are unknown (empty): Meta will say if it may not publish.
        if !scopes.is_empty() && !scopes.iter().any(|s| PUBLISH_SCOPES.contains(&s.as_str())) {
            return Err(ComposeRefused::NoPublishPermission { username: account.username });
        }
        rules::check_caption(&c.caption).map_err(ComposeRefused::Text)?;
        if let Some(comment) = &c.first_comment {
            rules::check_text("The first comment", comment, rules::CAPTION_LIMIT).map_err(ComposeRefused::Text)?;
        }
        for alt_text in c.uploads.iter().filter_map(|u| u.alt_text.as_deref()) {
            rules::check_text("The image description", alt_text, rules::ALT_TEXT_LIMIT)
                .map_err(ComposeRefused::Text)?;
        }
        let (status, due_at) = match c.when {
            When::Draft => (PublicationStatus::Draft, now),
            When::Now => (PublicationStatus::Scheduled, now),
            When::At(at) if at < now - chrono::Duration::minutes(1) => return Err(ComposeRefused::InThePast),
            When::At(at) => (PublicationStatus::Scheduled, at),
        };
        let mut measured: Vec<(String, MediaFacts)> = Vec::with_capacity(c.uploads.len());
        for upload in &c.uploads {
            match measure::measure(&upload.path)? {
                Some(facts) => measured.push((upload.name.clone(), facts)),
                None => return Err(MediaRefused::UnknownType { name: upload.name.clone() }.into()),
            }
        }
        rules::check(c.kind, &measured)?;
        let mut files = Vec::with_capacity(measured.len());
        for (upload, (_, facts)) in c.uploads.iter().zip(&measured) {
            let file_name = self.store().keep(&upload.path, facts.file_type)?;
            files.push(NewFile {
                file_name,
                content_type: facts.file_type.content_type().to_owned(),
                bytes: i64::try_from(facts.bytes).unwrap_or(i64::MAX),
                width: facts.width.and_then(|w| i32::try_from(w).ok()),
                height: facts.height.and_then(|h| i32::try_from(h).ok()),
                duration_ms: facts.duration_ms.and_then(|d| i64::try_from(d).ok()),
                alt_text: upload.alt_text.clone().filter(|a| !a.trim().is_empty()),
            });
        }
        let new = NewPublication {
            account_id: c.account,
            kind: c.kind,
            status,
            caption: c.caption.clone(),
            first_comment: c.first_comment.clone().filter(|f| !f.trim().is_empty()),
            due_at,
            created_by: c.created_by,
        };
        let note = match c.when {
            When::Draft => "Saved as a draft.",
            When::Now => "Scheduled to go out now.",
            When::At(_) => "Scheduled.",
        };
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        match Publication::create(&mut conn, &new, &files, now, note).await {
            Ok(id) => Ok(id),
            Err(err) => {
                for file in &files {
                    let _ = self.store().remove(&file.file_name);
                }
                Err(DbError::from(err).into())
            }
        }
    }

    /// Publications due in `[from, to)` (optionally of one account), by time.
    pub async fn between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        account: Option<AccountId>,
    ) -> Result<Vec<Listed>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(Publication::between(&mut conn, from, to, account).await?)
    }

    /// Every publication, latest due first (optionally of one account).
    pub async fn list(&self, account: Option<AccountId>) -> Result<Vec<Listed>, DbError> {
        let mut conn = self.pool.get().await?;
        let all = Publication::all(&mut conn).await?;
        Ok(all.into_iter().filter(|l| account.is_none_or(|a| l.publication.account_id == a)).collect())
    }

    /// The operator's time zone (the planner and composer speak in it).
    pub async fn time_zone(&self) -> Result<Tz, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(OperatorSettings::load(&mut conn).await?.time_zone())
    }

    /// Publications and posts in `[from, to)`, optionally of one account.
    pub async fn planner(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        account: Option<AccountId>,
    ) -> Result<Planner, DbError> {
        let mut conn = self.pool.get().await?;
        let publications = Publication::between(&mut conn, from, to, account).await?;
        let ours: Vec<(AccountId, &str)> = publications
            .iter()
            .filter_map(|l| l.publication.media_id.as_deref().map(|m| (l.publication.account_id, m)))
            .collect();
        let posts = posts::posted_between(&mut conn, from, to, account)
            .await?
            .into_iter()
            .filter(|p| !ours.contains(&(p.account_id, p.media_id.as_str())))
            .collect();
        Ok(Planner { publications, posts })
    }

    /// Active accounts (the ones a post can be planned for).
    pub async fn accounts(&self) -> Result<Vec<Account>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(Account::list(&mut conn).await?.into_iter().filter(|a| a.status == AccountStatus::Active).collect())
    }

    pub async fn detail(&self, id: PublicationId) -> Result<Option<Detail>, DbError> {
        let mut conn = self.pool.get().await?;
        let Some(publication) = Publication::find(&mut conn, id).await? else {
            return Ok(None);
        };
        let username = Account::find(&mut conn, publication.account_id).await?.map(|a| a.username).unwrap_or_default();
        let files = Publication::files(&mut conn, id).await?;
        let events = Publication::events(&mut conn, id).await?;
        let post = match &publication.media_id {
            Some(media_id) => posts::find_by_media(&mut conn, publication.account_id, media_id).await?,
            None => None,
        };
        Ok(Some(Detail { publication, username, files, events, post }))
    }

    /// The publication that put this media on Instagram, if Tidemark did.
    pub async fn for_media(&self, account: AccountId, media_id: &str) -> Result<Option<Publication>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(Publication::by_media(&mut conn, account, media_id).await?)
    }

    /// A link to a publication's file that works for a while (previews on the planner pages).
    pub fn preview_url(&self, file: &PublicationFile) -> Option<String> {
        if file.removed_at.is_some() {
            return None;
        }
        let url = self.store().signed_url(&file.file_name, Utc::now() + chrono::Duration::minutes(30));
        // Pages link to the path only: the public address may differ from the one in the browser.
        Some(format!("{}?{}", url.path(), url.query().unwrap_or_default()))
    }

    /// Schedules an open publication (draft, scheduled or failed) for `when`, or makes it a draft.
    pub async fn reschedule(&self, id: PublicationId, when: When) -> Result<(), ChangeRefused> {
        let now = self.now();
        let (status, due_at, note) = match when {
            When::Draft => (PublicationStatus::Draft, now, "Kept as a draft."),
            When::Now => (PublicationStatus::Scheduled, now, "Scheduled to go out now."),
            When::At(at) if at < now - chrono::Duration::minutes(1) => return Err(ChangeRefused::InThePast),
            When::At(at) => (PublicationStatus::Scheduled, at, "Rescheduled."),
        };
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        if Publication::change_open(&mut conn, id, status, Some(due_at), now, note).await.map_err(DbError::from)? {
            return Ok(());
        }
        Err(self.why_closed(&mut conn, id).await?)
    }

    /// Withdraws an open publication; its files are removed.
    pub async fn cancel(&self, id: PublicationId) -> Result<(), ChangeRefused> {
        let now = self.now();
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        let cancelled = PublicationStatus::Cancelled;
        if Publication::change_open(&mut conn, id, cancelled, None, now, "Cancelled.").await.map_err(DbError::from)? {
            drop(conn);
            if let Err(err) = self.publisher.remove_finished_files().await {
                tracing::warn!(error = format!("{err:#}"), "cancelled, but its files could not be removed yet");
            }
            return Ok(());
        }
        Err(self.why_closed(&mut conn, id).await?)
    }

    async fn why_closed(&self, conn: &mut db::Conn, id: PublicationId) -> Result<ChangeRefused, DbError> {
        Ok(match Publication::find(conn, id).await? {
            None => ChangeRefused::NotFound,
            Some(p) if p.status.is_open() => ChangeRefused::Closed("being published"),
            Some(p) => ChangeRefused::Closed(p.status.label()),
        })
    }

    /// The file behind a signed media link, if the link is genuine, unexpired and the file
    /// still waits for Meta: (path, content type).
    pub async fn media_file(
        &self,
        name: &str,
        expires: &str,
        signature: &str,
    ) -> Result<Option<(PathBuf, String)>, DbError> {
        if !self.store().verify(name, expires, signature, Utc::now()) {
            return Ok(None);
        }
        let Some(path) = self.store().path(name) else {
            return Ok(None);
        };
        let mut conn = self.pool.get().await?;
        let content_type = Publication::file_is_live(&mut conn, name).await?;
        Ok(content_type.filter(|_| Path::new(&path).exists()).map(|t| (path, t)))
    }

    /// Publishes what is due, then syncs each account that got a new post.
    pub async fn run_due(&self, trigger: Trigger) -> anyhow::Result<PublishSummary> {
        let summary = self.publisher.run().await?;
        if let Some(ctx) = &self.sync {
            let mut accounts: Vec<AccountId> = summary.published.iter().map(|(_, account, _)| *account).collect();
            accounts.dedup();
            for account in accounts {
                match sync::run(ctx, Scope::Account(account), trigger).await {
                    Ok(RunResult::Ran(_)) => {}
                    Ok(RunResult::Busy) => tracing::info!(%account, "a sync is running; it will pick the new post up"),
                    Err(err) => tracing::warn!(%account, error = format!("{err:#}"), "sync after publishing failed"),
                }
            }
        }
        Ok(summary)
    }
}
