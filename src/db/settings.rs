//! The operator's settings: one row.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::settings;
use crate::analytics::EngagementDefinition;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = settings)]
#[diesel(treat_none_as_null = true)]
pub struct OperatorSettings {
    /// `None` keeps post history forever.
    pub lookback_days: Option<i32>,
    /// Six-field cron (seconds first).
    pub sync_schedule: String,
    /// IANA time zone name.
    pub timezone: String,
    pub young_post_hours: i32,
    pub young_every_minutes: i32,
    pub middle_post_days: i32,
    pub middle_every_minutes: i32,
    pub old_every_minutes: i32,
    pub token_refresh_days: i32,
    /// `reach`, `followers` or `views`: which engagement rate the pages use.
    pub engagement_definition: String,
}

impl OperatorSettings {
    pub async fn load(conn: &mut AsyncPgConnection) -> QueryResult<OperatorSettings> {
        settings::table.select(OperatorSettings::as_select()).first(conn).await
    }

    pub async fn save(&self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        diesel::update(settings::table).set((self, settings::updated_at.eq(diesel::dsl::now))).execute(conn).await?;
        Ok(())
    }

    /// Posts published before this are outside the window (`None`: keep forever).
    pub fn window_start(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.lookback_days.map(|days| now - chrono::Duration::days(i64::from(days)))
    }

    pub fn engagement(&self) -> EngagementDefinition {
        EngagementDefinition::from_key(&self.engagement_definition).unwrap_or_default()
    }

    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }
}
