//! The record of Meta's deauthorize and data-deletion callbacks (no personal data).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::meta_requests;
use crate::domain::{Flavour, MetaRequestKind, MetaRequestOutcome};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = meta_requests)]
pub struct NewMetaRequest<'a> {
    pub kind: MetaRequestKind,
    pub flavour: Flavour,
    pub confirmation_code: Option<&'a str>,
    pub outcome: MetaRequestOutcome,
    pub accounts_affected: i32,
    pub issued_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
    pub signature_hash: &'a [u8],
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meta_requests, check_for_backend(diesel::pg::Pg))]
pub struct MetaRequest {
    pub id: i64,
    pub kind: MetaRequestKind,
    pub flavour: Flavour,
    pub confirmation_code: Option<String>,
    pub outcome: MetaRequestOutcome,
    pub accounts_affected: i32,
    pub issued_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
}

/// Whether a request with this signature was already received (a replay).
pub async fn seen(conn: &mut AsyncPgConnection, signature_hash: &[u8]) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(meta_requests::table.filter(meta_requests::signature_hash.eq(signature_hash))))
        .get_result(conn)
        .await
}

pub async fn record(conn: &mut AsyncPgConnection, new: &NewMetaRequest<'_>) -> QueryResult<MetaRequest> {
    diesel::insert_into(meta_requests::table).values(new).returning(MetaRequest::as_returning()).get_result(conn).await
}

pub async fn by_code(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<MetaRequest>> {
    meta_requests::table
        .filter(meta_requests::confirmation_code.eq(code))
        .select(MetaRequest::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<MetaRequest>> {
    meta_requests::table
        .order(meta_requests::received_at.desc())
        .limit(limit)
        .select(MetaRequest::as_select())
        .load(conn)
        .await
}

/// Deletes the records received before `cutoff`; returns how many.
pub async fn purge_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(meta_requests::table.filter(meta_requests::received_at.lt(cutoff))).execute(conn).await
}
