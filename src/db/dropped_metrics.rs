//! Metrics the API refused for a kind of media, remembered across syncs.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::dropped_metrics;
use crate::graph::{DroppedMetric, MediaKind};

#[derive(Debug, Clone, Queryable)]
pub struct DroppedMetricRow {
    pub media_product_type: String,
    pub media_type: String,
    pub metric: String,
    pub reason: String,
    pub dropped_at: DateTime<Utc>,
}

impl DroppedMetricRow {
    pub fn to_dropped(&self) -> DroppedMetric {
        DroppedMetric {
            kind: MediaKind::new(&self.media_product_type, &self.media_type),
            metric: self.metric.clone(),
            reason: self.reason.clone(),
        }
    }
}

pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<DroppedMetricRow>> {
    dropped_metrics::table
        .select((
            dropped_metrics::media_product_type,
            dropped_metrics::media_type,
            dropped_metrics::metric,
            dropped_metrics::reason,
            dropped_metrics::dropped_at,
        ))
        .order(dropped_metrics::dropped_at.desc())
        .load(conn)
        .await
}

pub async fn record(conn: &mut AsyncPgConnection, dropped: &DroppedMetric, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(dropped_metrics::table)
        .values((
            dropped_metrics::media_product_type.eq(&dropped.kind.product),
            dropped_metrics::media_type.eq(&dropped.kind.media_type),
            dropped_metrics::metric.eq(&dropped.metric),
            dropped_metrics::reason.eq(&dropped.reason),
            dropped_metrics::dropped_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets every refused metric (they are learnt again).
pub async fn clear(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::delete(dropped_metrics::table).execute(conn).await
}
