//! Operator settings: the lookback window (with a preview of what shortening it deletes),
//! the sync schedule, the time zone, the cadence tiers and the token-refresh horizon; and the
//! JSON API's tokens.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::analytics::EngagementDefinition;
use crate::auth::api_tokens::TokenRefused;
use crate::auth::{AdminUser, ApiTokens, CsrfForm, CurrentUser};
use crate::db::api_tokens::ApiToken;
use crate::db::posts::RetentionCount;
use crate::db::settings::OperatorSettings;
use crate::domain::{ApiScope, ApiTokenId};
use crate::error::{AppError, AppResult};
use crate::routes::reports::{ReportSettings, ScheduleForm};
use crate::services::settings::{SaveOutcome, SettingsEditor};
use crate::services::sync::is_valid_schedule;
use crate::services::{Accounts, Reports, Views};

/// Sync intervals offered by name: (minutes, cron expression, seconds first).
const SCHEDULE_PRESETS: &[(u32, &str)] = &[
    (5, "0 */5 * * * *"),
    (10, "0 */10 * * * *"),
    (15, "0 */15 * * * *"),
    (30, "0 */30 * * * *"),
    (60, "0 0 * * * *"),
];

/// Every time zone's name, sorted, for the forms' lists.
pub fn time_zone_names() -> Vec<&'static str> {
    let mut zones: Vec<&'static str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    zones.sort_unstable();
    zones
}

/// The form as typed: every field a string, so a bad number is a message, not a 400.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub lookback_days: String,
    #[serde(default)]
    pub keep_forever: Option<String>,
    #[serde(default)]
    pub sync_schedule: String,
    /// A preset ("15" minutes, …) or "custom" for `sync_schedule`; absent from older forms,
    /// which send the schedule itself.
    #[serde(default)]
    pub sync_every: String,
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub young_post_hours: String,
    #[serde(default)]
    pub young_every_minutes: String,
    #[serde(default)]
    pub middle_post_days: String,
    #[serde(default)]
    pub middle_every_minutes: String,
    #[serde(default)]
    pub old_every_minutes: String,
    #[serde(default)]
    pub token_refresh_days: String,
    #[serde(default)]
    pub sync_run_keep_days: String,
    #[serde(default)]
    pub operator_contact: String,
    #[serde(default)]
    pub engagement_definition: String,
    /// A checkbox: present when checked.
    #[serde(default)]
    pub second_factor_for_everyone: Option<String>,
    /// Set by the confirmation page.
    #[serde(default)]
    pub confirm: Option<String>,
}

impl SettingsForm {
    fn from_settings(s: &OperatorSettings) -> Self {
        Self {
            lookback_days: s.lookback_days.map(|d| d.to_string()).unwrap_or_else(|| "90".into()),
            keep_forever: s.lookback_days.is_none().then(|| "on".into()),
            sync_schedule: s.sync_schedule.clone(),
            sync_every: SCHEDULE_PRESETS
                .iter()
                .find(|(_, cron)| *cron == s.sync_schedule)
                .map_or_else(|| "custom".to_owned(), |(minutes, _)| minutes.to_string()),
            timezone: s.timezone.name().to_owned(),
            young_post_hours: s.young_post_hours.to_string(),
            young_every_minutes: s.young_every_minutes.to_string(),
            middle_post_days: s.middle_post_days.to_string(),
            middle_every_minutes: s.middle_every_minutes.to_string(),
            old_every_minutes: s.old_every_minutes.to_string(),
            token_refresh_days: s.token_refresh_days.to_string(),
            sync_run_keep_days: s.sync_run_keep_days.to_string(),
            operator_contact: s.operator_contact.clone(),
            engagement_definition: s.engagement_definition.key().to_owned(),
            second_factor_for_everyone: s.second_factor_for_everyone.then(|| "on".into()),
            confirm: None,
        }
    }

    pub fn forever(&self) -> bool {
        self.keep_forever.is_some()
    }

    /// The schedule to save: the preset chosen, or the expression typed.
    fn schedule(&self) -> String {
        SCHEDULE_PRESETS
            .iter()
            .find(|(minutes, _)| minutes.to_string() == self.sync_every.trim())
            .map_or_else(|| self.sync_schedule.trim().to_owned(), |(_, cron)| (*cron).to_owned())
    }

    /// The presets, for the form's list: (value, label, selected).
    pub fn schedule_choices(&self) -> Vec<(String, String, bool)> {
        let mut choices: Vec<(String, String, bool)> = SCHEDULE_PRESETS
            .iter()
            .map(|(minutes, _)| {
                let label = if *minutes == 60 { "every hour".to_owned() } else { format!("every {minutes} minutes") };
                (minutes.to_string(), label, self.sync_every == minutes.to_string())
            })
            .collect();
        choices.push(("custom".into(), "on a custom schedule (below)".into(), self.sync_every == "custom"));
        choices
    }

    /// Every time zone, for the form's list: (name, selected).
    pub fn time_zones(&self) -> Vec<(&'static str, bool)> {
        time_zone_names().into_iter().map(|name| (name, name == self.timezone.trim())).collect()
    }

    /// The settings the form describes, or every problem with it.
    fn validate(&self) -> Result<OperatorSettings, Vec<String>> {
        let mut problems = Vec::new();
        let mut number = |text: &str, label: &str, min: i32, max: i32| -> i32 {
            match text.trim().parse::<i32>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    problems.push(format!("{label} must be a whole number from {min} to {max}."));
                    min
                }
            }
        };
        let lookback_days =
            if self.forever() { None } else { Some(number(&self.lookback_days, "Days of history", 1, 3650)) };
        let young_post_hours = number(&self.young_post_hours, "Young posts (hours)", 1, 720);
        let young_every_minutes = number(&self.young_every_minutes, "Young posts: minutes between snapshots", 5, 10080);
        let middle_post_days = number(&self.middle_post_days, "Middle-aged posts (days)", 1, 365);
        let middle_every_minutes =
            number(&self.middle_every_minutes, "Middle-aged posts: minutes between snapshots", 5, 10080);
        let old_every_minutes = number(&self.old_every_minutes, "Older posts: minutes between snapshots", 5, 10080);
        let token_refresh_days = number(&self.token_refresh_days, "Token refresh (days before expiry)", 1, 59);
        // An untouched field (an older form) keeps the default.
        let keep = if self.sync_run_keep_days.trim().is_empty() { "90" } else { &self.sync_run_keep_days };
        let sync_run_keep_days = number(keep, "Days to keep sync-run records", 1, 3650);
        let operator_contact = self.operator_contact.trim().to_owned();
        if operator_contact.chars().count() > 300 || operator_contact.chars().any(char::is_control) {
            problems.push("The contact must be one line of at most 300 characters.".into());
        }
        if i64::from(middle_post_days) * 24 <= i64::from(young_post_hours) {
            problems.push("Middle-aged posts must reach further than young posts.".into());
        }
        let sync_schedule = self.schedule();
        if !is_valid_schedule(&sync_schedule) || sync_schedule.split_whitespace().count() != 6 {
            problems.push(
                "The custom sync schedule must be a six-field cron expression, seconds first, at most once a minute: the seconds field is one number (e.g. 0 */15 * * * *). Or choose one of the listed intervals.".into(),
            );
        }
        let engagement = EngagementDefinition::from_key(self.engagement_definition.trim());
        if engagement.is_none() {
            problems.push("Choose how the engagement rate is computed: by reach, by followers or by views.".into());
        }
        let timezone = self.timezone.trim().parse::<chrono_tz::Tz>();
        if timezone.is_err() {
            problems.push("Choose a time zone from the list (such as Europe/Berlin or UTC).".into());
        }
        let (Ok(timezone), Some(engagement), true) = (timezone, engagement, problems.is_empty()) else {
            return Err(problems);
        };
        Ok(OperatorSettings {
            lookback_days,
            sync_schedule,
            timezone,
            young_post_hours,
            young_every_minutes,
            middle_post_days,
            middle_every_minutes,
            old_every_minutes,
            token_refresh_days,
            engagement_definition: engagement,
            sync_run_keep_days,
            operator_contact,
            second_factor_for_everyone: self.second_factor_for_everyone.is_some(),
        })
    }

    /// The engagement definitions, for the form's choices.
    pub fn definitions(&self) -> [EngagementDefinition; 3] {
        EngagementDefinition::ALL
    }
}

#[derive(Template)]
#[template(path = "settings/form.html")]
struct SettingsPage {
    page: PageContext,
    /// What to enter in the Meta App Dashboard.
    meta_urls: Vec<(&'static str, String)>,
    form: SettingsForm,
    problems: Vec<String>,
    csrf_token: String,
    tokens: Vec<TokenRow>,
    reports: ReportSettings,
}

/// An API token as Settings lists it, times in the operator's zone.
pub struct TokenRow {
    id: i64,
    name: String,
    scope: &'static str,
    made: String,
    until: String,
    last_used: String,
    /// "works", "expired" or "revoked".
    state: &'static str,
}

impl TokenRow {
    fn new(token: &ApiToken, now: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> Self {
        let when = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
        TokenRow {
            id: token.id.0,
            name: token.name.clone(),
            scope: token.scope.as_str(),
            made: when(token.created_at),
            until: token.expires_at.map_or_else(|| "no expiry".to_owned(), when),
            last_used: token.last_used_at.map_or_else(|| "never".to_owned(), when),
            state: if token.revoked_at.is_some() {
                "revoked"
            } else if token.is_live(now) {
                "works"
            } else {
                "expired"
            },
        }
    }
}

#[derive(Template)]
#[template(path = "settings/confirm.html")]
struct ConfirmPage {
    page: PageContext,
    form: SettingsForm,
    doomed: RetentionCount,
    days: i32,
    csrf_token: String,
}

/// What the settings page reads besides the settings and the report schedules: the Meta
/// app's addresses and the API tokens.
pub struct SettingsParts<'a> {
    pub accounts: &'a Accounts,
    pub tokens: &'a ApiTokens,
}

pub async fn settings_form(
    AdminUser(admin): AdminUser,
    notice: Notice,
    settings: web::Data<SettingsEditor>,
    accounts: web::Data<Accounts>,
    tokens: web::Data<ApiTokens>,
    reports: web::Data<Reports>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let current = settings.load().await?;
    let form = SettingsForm::from_settings(&current);
    let parts = SettingsParts { accounts: &accounts, tokens: &tokens };
    let section = ReportSettings::load(&reports, &views, ScheduleForm::blank(current.time_zone()), Vec::new()).await?;
    page(&admin, notice, StatusCode::OK, (form, Vec::new()), section, &parts, current.time_zone()).await
}

/// The settings page with the report schedule form as sent and its problems.
pub async fn page_with_report_problems(
    admin: &CurrentUser,
    settings: &SettingsEditor,
    parts: &SettingsParts<'_>,
    section: ReportSettings,
) -> AppResult<HttpResponse> {
    let current = settings.load().await?;
    let form = SettingsForm::from_settings(&current);
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    page(admin, Notice::default(), status, (form, Vec::new()), section, parts, current.time_zone()).await
}

async fn page(
    user: &CurrentUser,
    notice: Notice,
    status: StatusCode,
    (form, problems): (SettingsForm, Vec<String>),
    reports: ReportSettings,
    parts: &SettingsParts<'_>,
    tz: chrono_tz::Tz,
) -> AppResult<HttpResponse> {
    let now = chrono::Utc::now();
    let page = SettingsPage {
        page: PageContext::new(user, notice, "settings"),
        meta_urls: parts.accounts.dashboard_urls(),
        form,
        problems,
        csrf_token: user.csrf_token.clone(),
        tokens: parts.tokens.list().await?.iter().map(|t| TokenRow::new(t, now, tz)).collect(),
        reports,
    };
    render(status, &page)
}

pub async fn save_settings(
    AdminUser(admin): AdminUser,
    settings: web::Data<SettingsEditor>,
    accounts: web::Data<Accounts>,
    tokens: web::Data<ApiTokens>,
    reports: web::Data<Reports>,
    views: web::Data<Views>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> AppResult<HttpResponse> {
    let new = match form.validate() {
        Ok(new) => new,
        Err(problems) => {
            let tz = settings.load().await?.time_zone();
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let parts = SettingsParts { accounts: &accounts, tokens: &tokens };
            let section = ReportSettings::load(&reports, &views, ScheduleForm::blank(tz), Vec::new()).await?;
            return page(&admin, Notice::default(), status, (form, problems), section, &parts, tz).await;
        }
    };
    match settings.save(&new, form.confirm.as_deref() == Some("yes")).await? {
        SaveOutcome::Saved => {
            tracing::info!(by = admin.id.0, "settings changed by an admin");
            Ok(see_other("/settings?notice=settings-saved"))
        }
        SaveOutcome::ConfirmDeletion(doomed) => {
            let page = ConfirmPage {
                page: PageContext::new(&admin, Notice::default(), "settings"),
                days: new.lookback_days.unwrap_or_default(),
                form,
                doomed,
                csrf_token: admin.csrf_token.clone(),
            };
            render(StatusCode::OK, &page)
        }
    }
}

/// The API token form: its name, scope and expiry.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    /// Days, or empty for none.
    #[serde(default)]
    expires: String,
}

/// The expiries the form offers, in days (none is offered too).
const TOKEN_EXPIRIES: [u32; 3] = [30, 90, 365];

#[derive(Template)]
#[template(path = "settings/token_created.html")]
struct TokenCreatedPage {
    page: PageContext,
    name: String,
    scope: &'static str,
    until: String,
    jwt: String,
}

/// Makes an API token and shows it, once.
pub async fn create_api_token(
    AdminUser(admin): AdminUser,
    tokens: web::Data<ApiTokens>,
    settings: web::Data<SettingsEditor>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> AppResult<HttpResponse> {
    let scope: ApiScope =
        form.scope.parse().map_err(|_| AppError::BadRequest("Choose what the token may do: read, or write.".into()))?;
    let expires = match form.expires.trim() {
        "" | "never" => None,
        days => Some(days.parse::<u32>().ok().filter(|d| TOKEN_EXPIRIES.contains(d)).ok_or_else(|| {
            AppError::BadRequest("Choose how long the token works: 30, 90 or 365 days, or no expiry.".into())
        })?),
    };
    let made = match tokens.create(&form.name, scope, expires, Some(admin.id)).await {
        Ok(made) => made,
        Err(TokenRefused::Db(db)) => return Err(db.into()),
        Err(refused) => return Err(AppError::BadRequest(refused.to_string())),
    };
    tracing::info!(by = admin.id.0, token = %made.token.id, "API token made");
    let tz = settings.load().await?.time_zone();
    let page = TokenCreatedPage {
        page: PageContext::new(&admin, Notice::default(), "settings"),
        name: made.token.name.clone(),
        scope: made.token.scope.as_str(),
        until: made.token.expires_at.map_or_else(
            || "it is revoked".to_owned(),
            |at| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        ),
        jwt: made.jwt,
    };
    let mut response = render(StatusCode::OK, &page)?;
    // The token is on this page only: no cache may keep it.
    response
        .headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Stops an API token working, at once.
pub async fn revoke_api_token(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    tokens: web::Data<ApiTokens>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let id = ApiTokenId(path.into_inner());
    if !tokens.revoke(id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(by = admin.id.0, token = %id, "API token revoked");
    Ok(see_other("/settings?notice=api-token-revoked#api-tokens"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> SettingsForm {
        SettingsForm::from_settings(&OperatorSettings {
            lookback_days: Some(90),
            sync_schedule: "0 */15 * * * *".into(),
            timezone: chrono_tz::Europe::Berlin,
            young_post_hours: 48,
            young_every_minutes: 60,
            middle_post_days: 7,
            middle_every_minutes: 360,
            old_every_minutes: 1440,
            token_refresh_days: 7,
            engagement_definition: EngagementDefinition::Reach,
            sync_run_keep_days: 90,
            operator_contact: String::new(),
            second_factor_for_everyone: true,
        })
    }

    #[test]
    fn a_valid_form_round_trips() {
        let settings = valid().validate().unwrap();
        assert_eq!(settings.lookback_days, Some(90));
        assert_eq!(settings.timezone, chrono_tz::Europe::Berlin);
        assert!(settings.second_factor_for_everyone);
    }

    #[test]
    fn every_problem_is_named() {
        let form = SettingsForm {
            lookback_days: "ninety".into(),
            sync_every: "custom".into(),
            sync_schedule: "*/15 * * * *".into(),
            timezone: "Mars/Olympus".into(),
            young_every_minutes: "1".into(),
            ..valid()
        };
        let problems = form.validate().unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
    }

    #[test]
    fn a_schedule_more_often_than_once_a_minute_is_refused() {
        for every_second in ["* * * * * *", "*/1 * * * * *", "0-59 * * * * *", "0,30 * * * * *"] {
            let form = SettingsForm { sync_every: "custom".into(), sync_schedule: every_second.into(), ..valid() };
            assert!(form.validate().is_err(), "{every_second}");
        }
        let custom = SettingsForm { sync_every: "custom".into(), sync_schedule: "30 * * * * *".into(), ..valid() };
        assert!(custom.validate().is_ok());
    }

    #[test]
    fn a_named_interval_sets_the_schedule_and_is_shown_again() {
        let form = SettingsForm { sync_every: "30".into(), sync_schedule: "not used".into(), ..valid() };
        let settings = form.validate().unwrap();
        assert_eq!(settings.sync_schedule, "0 */30 * * * *");
        let shown = SettingsForm::from_settings(&settings);
        assert_eq!(shown.sync_every, "30");
        assert!(shown.schedule_choices().iter().any(|(value, _, selected)| value == "30" && *selected));
        let odd = OperatorSettings { sync_schedule: "0 0 6-22 * * *".into(), ..settings };
        assert_eq!(SettingsForm::from_settings(&odd).sync_every, "custom");
    }

    #[test]
    fn keeping_forever_ignores_the_days_field() {
        let form = SettingsForm { lookback_days: String::new(), keep_forever: Some("on".into()), ..valid() };
        assert_eq!(form.validate().unwrap().lookback_days, None);
    }
}
