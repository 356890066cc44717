//! `/alerts`: every alert fired with why, the rules (admins add, switch and delete them), and
//! the secret webhook receivers check signatures with.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono_tz::Tz;
use serde::Deserialize;

use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::auth::{AdminUser, CsrfForm, CurrentUser};
use crate::db::alerts::{AlertEvent, AlertRule, NewAlertRule};
use crate::domain::{AccountId, AlertKind, AlertRuleId};
use crate::error::{AppError, AppResult};
use crate::mail;
use crate::services::{Alerts, Views};

/// Alerts listed.
const LISTED: i64 = 200;

/// An alert as the page lists it.
pub struct EventRow {
    pub fired: String,
    pub title: String,
    pub detail: String,
    pub delivery: String,
    pub failed: bool,
}

impl EventRow {
    fn new(event: &AlertEvent, tz: Tz) -> EventRow {
        let email = match event.email.as_str() {
            "mailed" => Some("mailed".to_owned()),
            "not_mailed" => Some("not mailed: no mail server is configured".to_owned()),
            "failed" => {
                Some(format!("mail failed: {}", event.email_error.as_deref().unwrap_or("the mail server refused it")))
            }
            _ => None,
        };
        let webhook = match event.webhook.as_str() {
            "delivered" => Some("webhook delivered".to_owned()),
            "failed" => Some(format!("webhook failed: {}", event.webhook_error.as_deref().unwrap_or("no answer"))),
            _ => None,
        };
        let delivery = [email, webhook].into_iter().flatten().collect::<Vec<_>>().join("; ");
        EventRow {
            fired: event.fired_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
            title: event.title.clone(),
            detail: event.detail.clone(),
            delivery: if delivery.is_empty() { "shown here only".to_owned() } else { delivery },
            failed: event.email == "failed" || event.webhook == "failed",
        }
    }
}

/// A rule as the page lists it.
pub struct RuleRow {
    pub id: i64,
    pub what: String,
    pub threshold: String,
    pub quiet: String,
    pub to: String,
    pub enabled: bool,
}

impl RuleRow {
    /// A webhook address can carry its receiver's secret (a chat service's incoming hook):
    /// only admins see it.
    fn new(rule: &AlertRule, names: &[(AccountId, String)], is_admin: bool) -> RuleRow {
        let whose = match rule.account_id {
            None => "any account".to_owned(),
            Some(id) => {
                names.iter().find(|(a, _)| *a == id).map_or_else(|| format!("account {id}"), |(_, n)| format!("@{n}"))
            }
        };
        let (meaning, _) = rule.kind.threshold_meaning();
        let recipients = rule.recipients();
        let mut to = Vec::new();
        if !recipients.is_empty() {
            to.push(recipients.join(", "));
        }
        match &rule.webhook_url {
            Some(url) if is_admin => to.push(format!("webhook {url}")),
            Some(_) => to.push("a webhook".to_owned()),
            None => {}
        }
        RuleRow {
            id: rule.id.0,
            what: format!("{} ({whose})", capitalise(rule.kind.describe())),
            threshold: if rule.kind == AlertKind::PublishingFailed {
                "every failure".to_owned()
            } else {
                format!("{}: {}", meaning, rule.threshold)
            },
            quiet: format!("{} h", rule.quiet_hours),
            to: if to.is_empty() { "this page only".to_owned() } else { to.join("; ") },
            enabled: rule.enabled,
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A kind as the form offers it.
pub struct KindChoice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

/// The rule form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    quiet_hours: String,
    #[serde(default)]
    recipients: String,
    #[serde(default)]
    webhook_url: String,
}

impl RuleForm {
    fn blank() -> RuleForm {
        RuleForm {
            kind: AlertKind::PostAbove.as_str().to_owned(),
            account: "all".to_owned(),
            threshold: String::new(),
            quiet_hours: String::new(),
            recipients: String::new(),
            webhook_url: String::new(),
        }
    }

    pub fn kinds(&self) -> Vec<KindChoice> {
        AlertKind::ALL
            .iter()
            .map(|k| {
                let (meaning, default) = k.threshold_meaning();
                let label = if *k == AlertKind::PublishingFailed {
                    capitalise(k.describe())
                } else {
                    format!("{} — threshold: {meaning} (e.g. {default})", capitalise(k.describe()))
                };
                KindChoice { value: k.as_str(), label, selected: self.kind == k.as_str() }
            })
            .collect()
    }

    /// The rule, or every problem in words. An empty threshold or quiet period takes the
    /// kind's default.
    fn validate(&self, accounts: &[AccountId]) -> Result<NewAlertRule, Vec<String>> {
        let mut problems = Vec::new();
        let kind = self.kind.parse::<AlertKind>().ok();
        if kind.is_none() {
            problems.push("Choose what the alert watches.".to_owned());
        }
        let account = match self.account.trim() {
            "all" | "" => None,
            id => match id.parse::<i64>().ok().map(AccountId).filter(|a| accounts.contains(a)) {
                Some(account) => Some(account),
                None => {
                    problems.push("Choose one of the accounts, or any account.".to_owned());
                    None
                }
            },
        };
        let (low, high) = match kind {
            Some(AlertKind::PostAbove | AlertKind::PostBelow) => (0, 100),
            Some(AlertKind::ReachBelow) => (1, 100),
            Some(AlertKind::SyncFailing) => (1, 50),
            Some(AlertKind::TokenExpiring) => (1, 60),
            _ => (0, 1000),
        };
        let threshold = match (self.threshold.trim(), kind) {
            (_, Some(AlertKind::PublishingFailed)) => Some(1),
            ("", Some(k)) => Some(k.threshold_meaning().1),
            (text, _) => text.parse::<i32>().ok().filter(|t| (low..=high).contains(t)),
        };
        if threshold.is_none() && kind.is_some() {
            problems.push(format!("The threshold is a whole number from {low} to {high}."));
        }
        let quiet_hours = match (self.quiet_hours.trim(), kind) {
            ("", Some(k)) => Some(k.default_quiet_hours()),
            (text, _) => text.parse::<i32>().ok().filter(|h| (1..=8760).contains(h)),
        };
        if quiet_hours.is_none() && kind.is_some() {
            problems.push("The quiet period is a whole number of hours from 1 to 8760 (a year).".to_owned());
        }
        let recipients = mail::recipients(&self.recipients).unwrap_or_else(|problem| {
            problems.push(problem);
            Vec::new()
        });
        let webhook_url = match self.webhook_url.trim() {
            "" => None,
            text => match url::Url::parse(text) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() && text.len() <= 2000 => {
                    Some(url.to_string())
                }
                _ => {
                    problems.push("The webhook address must be an http:// or https:// URL.".to_owned());
                    None
                }
            },
        };
        match (kind, threshold, quiet_hours, problems.is_empty()) {
            (Some(kind), Some(threshold), Some(quiet_hours), true) => Ok(NewAlertRule {
                kind,
                account_id: account,
                threshold,
                quiet_hours,
                recipients,
                webhook_url,
                created_by: None,
                created_at: chrono::Utc::now(),
            }),
            _ => Err(problems),
        }
    }
}

pub struct AccountChoice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "alerts/index.html")]
struct AlertsPage {
    page: PageContext,
    events: Vec<EventRow>,
    rules: Vec<RuleRow>,
    is_admin: bool,
    csrf_token: String,
    form: RuleForm,
    problems: Vec<String>,
    accounts: Vec<AccountChoice>,
    mail: Option<String>,
    /// For admins: the secret webhook receivers check signatures with.
    secret: Option<String>,
}

async fn page(
    user: &CurrentUser,
    notice: Notice,
    status: StatusCode,
    (form, problems): (RuleForm, Vec<String>),
    alerts: &Alerts,
    views: &Views,
) -> AppResult<HttpResponse> {
    let tz = views.basis().await?.tz();
    let accounts = views.accounts().await?;
    let names: Vec<(AccountId, String)> = accounts.iter().map(|a| (a.id, a.username.clone())).collect();
    let mut choices = vec![AccountChoice {
        value: "all".to_owned(),
        label: "Any account".to_owned(),
        selected: form.account == "all",
    }];
    choices.extend(names.iter().map(|(id, name)| AccountChoice {
        value: id.to_string(),
        label: format!("@{name}"),
        selected: form.account == id.to_string(),
    }));
    let is_admin = user.is_admin();
    let page = AlertsPage {
        page: PageContext::new(user, notice, "alerts"),
        events: alerts.events(LISTED).await?.iter().map(|e| EventRow::new(e, tz)).collect(),
        rules: alerts.rules().await?.iter().map(|r| RuleRow::new(r, &names, is_admin)).collect(),
        is_admin,
        csrf_token: user.csrf_token.clone(),
        form,
        problems,
        accounts: choices,
        mail: alerts.mail_setup(),
        secret: is_admin.then(|| alerts.signing_secret()),
    };
    render(status, &page)
}

pub async fn alerts_page(
    user: CurrentUser,
    notice: Notice,
    alerts: web::Data<Alerts>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    page(&user, notice, StatusCode::OK, (RuleForm::blank(), Vec::new()), &alerts, &views).await
}

pub async fn add_rule(
    AdminUser(admin): AdminUser,
    alerts: web::Data<Alerts>,
    views: web::Data<Views>,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> AppResult<HttpResponse> {
    let known: Vec<AccountId> = views.accounts().await?.iter().map(|a| a.id).collect();
    match form.validate(&known) {
        Ok(mut rule) => {
            rule.created_by = Some(admin.id);
            rule.created_at = views.now();
            alerts.add_rule(&rule).await?;
            tracing::info!(by = admin.id.0, kind = rule.kind.as_str(), "alert rule added");
            Ok(see_other("/alerts?notice=alert-rule-added#rules"))
        }
        Err(problems) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(&admin, Notice::default(), status, (form, problems), &alerts, &views).await
        }
    }
}

async fn switch(admin: &CurrentUser, alerts: &Alerts, id: i64, enabled: bool) -> AppResult<HttpResponse> {
    if !alerts.set_enabled(AlertRuleId(id), enabled).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(by = admin.id.0, rule = id, enabled, "alert rule switched");
    Ok(see_other(if enabled { "/alerts?notice=alert-rule-on#rules" } else { "/alerts?notice=alert-rule-off#rules" }))
}

pub async fn enable_rule(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    alerts: web::Data<Alerts>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    switch(&admin, &alerts, path.into_inner(), true).await
}

pub async fn disable_rule(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    alerts: web::Data<Alerts>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    switch(&admin, &alerts, path.into_inner(), false).await
}

pub async fn delete_rule(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    alerts: web::Data<Alerts>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    if !alerts.delete_rule(AlertRuleId(path.into_inner())).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(by = admin.id.0, "alert rule deleted");
    Ok(see_other("/alerts?notice=alert-rule-deleted#rules"))
}
