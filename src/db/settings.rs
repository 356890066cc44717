//! The operator's settings: one row.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use chrono_tz::Tz;

use super::schema::settings;
use crate::analytics::EngagementDefinition;

/// The settings, typed. Saved only after the settings form validated them; a stored value
/// this binary cannot read (a hand edit) makes loading fail with its name, rather than
/// quietly becoming a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSettings {
    /// `None` keeps post history forever.
    pub lookback_days: Option<i32>,
    /// Six-field cron (seconds first).
    pub sync_schedule: String,
    pub timezone: Tz,
    pub young_post_hours: i32,
    pub young_every_minutes: i32,
    pub middle_post_days: i32,
    pub middle_every_minutes: i32,
    pub old_every_minutes: i32,
    pub token_refresh_days: i32,
    /// Which engagement rate the pages use.
    pub engagement_definition: EngagementDefinition,
    /// Days a sync run's record is kept.
    pub sync_run_keep_days: i32,
    /// Who runs this Tidemark and how to reach them (the privacy page names them).
    pub operator_contact: String,
    /// Every user, viewers too, must sign in with a second factor.
    pub second_factor_for_everyone: bool,
}

/// The row as stored: the time zone and the definition as their names.
#[derive(Queryable, Selectable, AsChangeset)]
#[diesel(table_name = settings, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct SettingsRow {
    lookback_days: Option<i32>,
    sync_schedule: String,
    timezone: String,
    young_post_hours: i32,
    young_every_minutes: i32,
    middle_post_days: i32,
    middle_every_minutes: i32,
    old_every_minutes: i32,
    token_refresh_days: i32,
    engagement_definition: String,
    sync_run_keep_days: i32,
    operator_contact: String,
    second_factor_for_everyone: bool,
}

/// A stored setting this binary cannot read.
#[derive(Debug, thiserror::Error)]
#[error("the stored setting {name} = {value:?} is not valid; correct it on the Settings page or in the settings table")]
pub struct BadSetting {
    name: &'static str,
    value: String,
}

impl TryFrom<SettingsRow> for OperatorSettings {
    type Error = BadSetting;

    fn try_from(row: SettingsRow) -> Result<Self, BadSetting> {
        let timezone =
            row.timezone.parse::<Tz>().map_err(|_| BadSetting { name: "timezone", value: row.timezone.clone() })?;
        let engagement_definition = EngagementDefinition::from_key(&row.engagement_definition)
            .ok_or_else(|| BadSetting { name: "engagement_definition", value: row.engagement_definition.clone() })?;
        Ok(OperatorSettings {
            lookback_days: row.lookback_days,
            sync_schedule: row.sync_schedule,
            timezone,
            young_post_hours: row.young_post_hours,
            young_every_minutes: row.young_every_minutes,
            middle_post_days: row.middle_post_days,
            middle_every_minutes: row.middle_every_minutes,
            old_every_minutes: row.old_every_minutes,
            token_refresh_days: row.token_refresh_days,
            engagement_definition,
            sync_run_keep_days: row.sync_run_keep_days,
            operator_contact: row.operator_contact,
            second_factor_for_everyone: row.second_factor_for_everyone,
        })
    }
}

impl OperatorSettings {
    pub async fn load(conn: &mut AsyncPgConnection) -> QueryResult<OperatorSettings> {
        let row: SettingsRow = settings::table.select(SettingsRow::as_select()).first(conn).await?;
        OperatorSettings::try_from(row).map_err(|bad| {
            tracing::error!(error = %bad, "the settings cannot be read");
            diesel::result::Error::DeserializationError(Box::new(bad))
        })
    }

    pub async fn save(&self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        let row = SettingsRow {
            lookback_days: self.lookback_days,
            sync_schedule: self.sync_schedule.clone(),
            timezone: self.timezone.name().to_owned(),
            young_post_hours: self.young_post_hours,
            young_every_minutes: self.young_every_minutes,
            middle_post_days: self.middle_post_days,
            middle_every_minutes: self.middle_every_minutes,
            old_every_minutes: self.old_every_minutes,
            token_refresh_days: self.token_refresh_days,
            engagement_definition: self.engagement_definition.key().to_owned(),
            sync_run_keep_days: self.sync_run_keep_days,
            operator_contact: self.operator_contact.clone(),
            second_factor_for_everyone: self.second_factor_for_everyone,
        };
        diesel::update(settings::table).set((&row, settings::updated_at.eq(diesel::dsl::now))).execute(conn).await?;
        Ok(())
    }

    /// Posts published before this are outside the window (`None`: keep forever).
    pub fn window_start(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.lookback_days.map(|days| now - chrono::Duration::days(i64::from(days)))
    }

    pub fn engagement(&self) -> EngagementDefinition {
        self.engagement_definition
    }

    pub fn time_zone(&self) -> Tz {
        self.timezone
    }
}
