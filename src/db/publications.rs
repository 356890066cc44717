//! Planned posts (`publications`), their files (`publication_media`) and the record of every
//! state change (`publication_events`).
//!
//! A publisher takes a due publication by claiming it: the claim names the run and lapses at
//! `claimed_until`, and every later write is made only while the claim is still its own, so a
//! second process (or a publisher that outlived its claim) can never record over another's work.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{ig_accounts, publication_events, publication_media, publications};
use crate::domain::{AccountId, PublicationId, PublicationKind, PublicationStatus, UserId};

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = publications, check_for_backend(diesel::pg::Pg))]
pub struct Publication {
    pub id: PublicationId,
    pub account_id: AccountId,
    pub kind: PublicationKind,
    pub status: PublicationStatus,
    pub caption: String,
    pub first_comment: Option<String>,
    pub due_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub container_id: Option<String>,
    pub container_created_at: Option<DateTime<Utc>>,
    pub publish_sent_at: Option<DateTime<Utc>>,
    pub media_id: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = publication_media, check_for_backend(diesel::pg::Pg))]
pub struct PublicationFile {
    pub id: i64,
    pub publication_id: PublicationId,
    pub position: i16,
    pub file_name: String,
    pub content_type: String,
    pub bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i64>,
    pub alt_text: Option<String>,
    pub container_id: Option<String>,
    pub removed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = publication_events, check_for_backend(diesel::pg::Pg))]
pub struct PublicationEvent {
    pub at: DateTime<Utc>,
    pub status: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct NewPublication {
    pub account_id: AccountId,
    pub kind: PublicationKind,
    pub status: PublicationStatus,
    pub caption: String,
    pub first_comment: Option<String>,
    pub due_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
}

#[derive(Debug, Clone)]
pub struct NewFile {
    pub file_name: String,
    pub content_type: String,
    pub bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i64>,
    pub alt_text: Option<String>,
}

/// A publication with its account's username, for lists and the planner.
#[derive(Debug, Clone)]
pub struct Listed {
    pub publication: Publication,
    pub username: String,
}

impl Publication {
    pub async fn create(
        conn: &mut AsyncPgConnection,
        new: &NewPublication,
        files: &[NewFile],
        now: DateTime<Utc>,
        note: &str,
    ) -> QueryResult<PublicationId> {
        conn.transaction(async |conn| {
            let id: PublicationId = diesel::insert_into(publications::table)
                .values((
                    publications::account_id.eq(new.account_id),
                    publications::kind.eq(new.kind),
                    publications::status.eq(new.status),
                    publications::caption.eq(&new.caption),
                    publications::first_comment.eq(&new.first_comment),
                    publications::due_at.eq(new.due_at),
                    publications::created_by.eq(new.created_by),
                    publications::created_at.eq(now),
                    publications::updated_at.eq(now),
                ))
                .returning(publications::id)
                .get_result(conn)
                .await?;
            for (position, file) in files.iter().enumerate() {
                diesel::insert_into(publication_media::table)
                    .values((
                        publication_media::publication_id.eq(id),
                        publication_media::position.eq(position as i16),
                        publication_media::file_name.eq(&file.file_name),
                        publication_media::content_type.eq(&file.content_type),
                        publication_media::bytes.eq(file.bytes),
                        publication_media::width.eq(file.width),
                        publication_media::height.eq(file.height),
                        publication_media::duration_ms.eq(file.duration_ms),
                        publication_media::alt_text.eq(&file.alt_text),
                    ))
                    .execute(conn)
                    .await?;
            }
            add_event(conn, id, now, new.status.as_str(), note).await?;
            Ok(id)
        })
        .await
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: PublicationId) -> QueryResult<Option<Publication>> {
        publications::table.find(id).select(Publication::as_select()).first(conn).await.optional()
    }

    /// The publication that put a media on Instagram, if Tidemark did.
    pub async fn by_media(
        conn: &mut AsyncPgConnection,
        account: AccountId,
        media_id: &str,
    ) -> QueryResult<Option<Publication>> {
        publications::table
            .filter(publications::account_id.eq(account))
            .filter(publications::media_id.eq(media_id))
            .select(Publication::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// Publications due (or published) in `[from, to)`, optionally of one account, by time.
    pub async fn between(
        conn: &mut AsyncPgConnection,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        account: Option<AccountId>,
    ) -> QueryResult<Vec<Listed>> {
        let mut query = publications::table
            .inner_join(ig_accounts::table)
            .filter(publications::due_at.ge(from).and(publications::due_at.lt(to)))
            .filter(publications::status.ne(PublicationStatus::Cancelled))
            .select((Publication::as_select(), ig_accounts::username))
            .order((publications::due_at.asc(), publications::id.asc()))
            .into_boxed();
        if let Some(account) = account {
            query = query.filter(publications::account_id.eq(account));
        }
        let rows: Vec<(Publication, String)> = query.load(conn).await?;
        Ok(rows.into_iter().map(|(publication, username)| Listed { publication, username }).collect())
    }

    /// Every publication, newest due first (the command's list).
    pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Listed>> {
        let rows: Vec<(Publication, String)> = publications::table
            .inner_join(ig_accounts::table)
            .select((Publication::as_select(), ig_accounts::username))
            .order((publications::due_at.desc(), publications::id.desc()))
            .load(conn)
            .await?;
        Ok(rows.into_iter().map(|(publication, username)| Listed { publication, username }).collect())
    }

    pub async fn files(conn: &mut AsyncPgConnection, id: PublicationId) -> QueryResult<Vec<PublicationFile>> {
        publication_media::table
            .filter(publication_media::publication_id.eq(id))
            .select(PublicationFile::as_select())
            .order(publication_media::position.asc())
            .load(conn)
            .await
    }

    pub async fn events(conn: &mut AsyncPgConnection, id: PublicationId) -> QueryResult<Vec<PublicationEvent>> {
        publication_events::table
            .filter(publication_events::publication_id.eq(id))
            .select(PublicationEvent::as_select())
            .order((publication_events::at.asc(), publication_events::id.asc()))
            .load(conn)
            .await
    }

    /// Whether a stored file may be served: it belongs to a publication and is still on disk.
    pub async fn file_is_live(conn: &mut AsyncPgConnection, file_name: &str) -> QueryResult<Option<String>> {
        publication_media::table
            .filter(publication_media::file_name.eq(file_name))
            .filter(publication_media::removed_at.is_null())
            .select(publication_media::content_type)
            .first(conn)
            .await
            .optional()
    }

    /// Takes the next publication that is due and not held by a live claim, for `lease`.
    pub async fn claim_due(
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
        claim: &str,
        claimed_until: DateTime<Utc>,
    ) -> QueryResult<Option<Publication>> {
        // SKIP LOCKED: two publishers never wait on, or take, the same row.
        diesel::sql_query(
            "UPDATE publications SET claim = $1, claimed_until = $2, updated_at = $3 \
             WHERE id = (SELECT id FROM publications \
                         WHERE status IN ('scheduled', 'publishing') AND due_at <= $3 \
                           AND (next_attempt_at IS NULL OR next_attempt_at <= $3) \
                           AND (claimed_until IS NULL OR claimed_until < $3) \
                         ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, account_id, kind, status, caption, first_comment, due_at, next_attempt_at, attempts, \
                       container_id, container_created_at, publish_sent_at, media_id, published_at, \
                       last_error, created_by, created_at, updated_at",
        )
        .bind::<Text, _>(claim)
        .bind::<Timestamptz, _>(claimed_until)
        .bind::<Timestamptz, _>(now)
        .get_result(conn)
        .await
        .optional()
    }

    /// Records a change of a claimed publication (and its event) if the claim is still ours.
    /// False when it is not: another publisher took over and this one must stop.
    pub async fn record(
        conn: &mut AsyncPgConnection,
        id: PublicationId,
        claim: &str,
        change: &Change,
        now: DateTime<Utc>,
    ) -> QueryResult<bool> {
        conn.transaction(async |conn| {
            let target = publications::table.filter(publications::id.eq(id)).filter(publications::claim.eq(claim));
            let updated = match change {
                Change::Publishing { note: _ } => {
                    diesel::update(target)
                        .set((publications::status.eq(PublicationStatus::Publishing), publications::updated_at.eq(now)))
                        .execute(conn)
                        .await?
                }
                Change::Container { container_id } => {
                    diesel::update(target)
                        .set((
                            publications::container_id.eq(container_id),
                            publications::container_created_at.eq(now),
                            publications::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?
                }
                Change::ForgetContainer { .. } => {
                    diesel::update(target)
                        .set((
                            publications::container_id.eq(None::<String>),
                            publications::container_created_at.eq(None::<DateTime<Utc>>),
                            publications::publish_sent_at.eq(None::<DateTime<Utc>>),
                            publications::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?
                }
                Change::PublishSent => {
                    diesel::update(target)
                        .set((publications::publish_sent_at.eq(now), publications::updated_at.eq(now)))
                        .execute(conn)
                        .await?
                }
                Change::Published { media_id, .. } => {
                    diesel::update(target)
                        .set((
                            publications::status.eq(PublicationStatus::Published),
                            publications::media_id.eq(media_id),
                            publications::published_at.eq(now),
                            publications::last_error.eq(None::<String>),
                            publications::next_attempt_at.eq(None::<DateTime<Utc>>),
                            publications::claim.eq(None::<String>),
                            publications::claimed_until.eq(None::<DateTime<Utc>>),
                            publications::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?
                }
                Change::Wait { until, message, attempt } => {
                    diesel::update(target)
                        .set((
                            publications::next_attempt_at.eq(until),
                            publications::last_error.eq(message),
                            publications::attempts.eq(publications::attempts + i32::from(*attempt)),
                            publications::claim.eq(None::<String>),
                            publications::claimed_until.eq(None::<DateTime<Utc>>),
                            publications::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?
                }
                Change::Failed { message } => {
                    diesel::update(target)
                        .set((
                            publications::status.eq(PublicationStatus::Failed),
                            publications::last_error.eq(message),
                            publications::attempts.eq(publications::attempts + 1),
                            publications::next_attempt_at.eq(None::<DateTime<Utc>>),
                            publications::claim.eq(None::<String>),
                            publications::claimed_until.eq(None::<DateTime<Utc>>),
                            publications::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?
                }
            };
            if updated == 0 {
                return Ok(false);
            }
            if let Some((status, message)) = change.event() {
                add_event(conn, id, now, status, &message).await?;
            }
            Ok(true)
        })
        .await
    }

    /// Records a carousel item's container.
    pub async fn record_item_container(
        conn: &mut AsyncPgConnection,
        file_id: i64,
        container_id: Option<&str>,
    ) -> QueryResult<()> {
        diesel::update(publication_media::table.find(file_id))
            .set(publication_media::container_id.eq(container_id))
            .execute(conn)
            .await
            .map(|_| ())
    }

    /// Files whose publication no longer needs them (published or cancelled) but still on disk.
    pub async fn files_done_with(conn: &mut AsyncPgConnection) -> QueryResult<Vec<PublicationFile>> {
        publication_media::table
            .inner_join(publications::table)
            .filter(publication_media::removed_at.is_null())
            .filter(publications::status.eq_any([PublicationStatus::Published, PublicationStatus::Cancelled]))
            .select(PublicationFile::as_select())
            .load(conn)
            .await
    }

    /// Names of the files still on disk, of every publication (or of one account's).
    pub async fn live_file_names(conn: &mut AsyncPgConnection, account: Option<AccountId>) -> QueryResult<Vec<String>> {
        let mut query = publication_media::table
            .inner_join(publications::table)
            .filter(publication_media::removed_at.is_null())
            .select(publication_media::file_name)
            .into_boxed();
        if let Some(account) = account {
            query = query.filter(publications::account_id.eq(account));
        }
        query.load(conn).await
    }

    pub async fn mark_file_removed(conn: &mut AsyncPgConnection, file_id: i64, now: DateTime<Utc>) -> QueryResult<()> {
        diesel::update(publication_media::table.find(file_id))
            .set(publication_media::removed_at.eq(now))
            .execute(conn)
            .await
            .map(|_| ())
    }

    /// Changes an open publication (draft, scheduled or failed) that no publisher holds: a new
    /// time and status (its attempts start over), or, without a time, only its status (a
    /// cancellation). False when it is not open any more, or a publisher holds it.
    pub async fn change_open(
        conn: &mut AsyncPgConnection,
        id: PublicationId,
        status: PublicationStatus,
        due_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        note: &str,
    ) -> QueryResult<bool> {
        conn.transaction(async |conn| {
            let target = publications::table
                .filter(publications::id.eq(id))
                .filter(publications::status.eq_any([
                    PublicationStatus::Draft,
                    PublicationStatus::Scheduled,
                    PublicationStatus::Failed,
                ]))
                .filter(publications::claimed_until.is_null().or(publications::claimed_until.lt(now)));
            let updated = match due_at {
                Some(due_at) => {
                    diesel::update(target)
                        .set((
                            publications::status.eq(status),
                            publications::due_at.eq(due_at),
                            publications::next_attempt_at.eq(None::<DateTime<Utc>>),
                            publications::attempts.eq(0),
                            publications::last_error.eq(None::<String>),
                            publications::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?
                }
                None => {
                    diesel::update(target)
                        .set((publications::status.eq(status), publications::updated_at.eq(now)))
                        .execute(conn)
                        .await?
                }
            };
            if updated == 1 {
                add_event(conn, id, now, status.as_str(), note).await?;
            }
            Ok(updated == 1)
        })
        .await
    }
}

/// What a publisher records about a publication it holds.
#[derive(Debug, Clone)]
pub enum Change {
    Publishing {
        note: String,
    },
    Container {
        container_id: String,
    },
    /// The container expired or failed: the next attempt makes a new one.
    ForgetContainer {
        why: String,
    },
    PublishSent,
    Published {
        media_id: String,
        note: String,
    },
    /// Try again at `until` (backoff, rate limit, quota); the claim is released. `attempt`:
    /// whether this counts towards giving up.
    Wait {
        until: DateTime<Utc>,
        message: String,
        attempt: bool,
    },
    Failed {
        message: String,
    },
}

impl Change {
    fn event(&self) -> Option<(&'static str, String)> {
        match self {
            Change::Publishing { note } => Some(("publishing", note.clone())),
            Change::Container { container_id } => {
                Some(("publishing", format!("Container {container_id} created at Meta.")))
            }
            Change::ForgetContainer { why } => Some(("publishing", why.clone())),
            Change::PublishSent => None,
            Change::Published { note, .. } => Some(("published", note.clone())),
            Change::Wait { message, .. } => Some(("waiting", message.clone())),
            Change::Failed { message } => Some(("failed", message.clone())),
        }
    }
}

async fn add_event(
    conn: &mut AsyncPgConnection,
    id: PublicationId,
    at: DateTime<Utc>,
    status: &str,
    message: &str,
) -> QueryResult<()> {
    diesel::insert_into(publication_events::table)
        .values((
            publication_events::publication_id.eq(id),
            publication_events::at.eq(at),
            publication_events::status.eq(status),
            publication_events::message.eq(message),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}
