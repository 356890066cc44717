//! Alerts: the rules, their evaluation every minute, and delivery by e-mail and by an
//! outgoing webhook signed with HMAC-SHA256. Every alert fired is kept with why.
//!
//! A webhook delivery is a POST of JSON with `X-Tidemark-Timestamp` (Unix seconds) and
//! `X-Tidemark-Signature-256: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` under the
//! alert signing secret shown on the Alerts page, so a receiver can refuse forged and
//! replayed deliveries.

use std::time::Duration;

use askama::Template;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use url::Url;

use crate::analytics::alerts::{self, Finding, NORM_DAYS, ReachDays};
use crate::crypto::TokenKey;
use crate::db::alerts::{self as store, AlertEvent, AlertRule, Deliveries, NewAlertEvent, NewAlertRule};
use crate::db::{self, DbError};
use crate::domain::{AlertEventId, AlertKind, AlertRuleId, Clock};
use crate::mail::{MailError, Mailer, Outgoing};

/// Posts are judged while their score can still move and the news is fresh.
const POST_DAYS: i64 = 7;
/// Tries at delivering an alert before it is left as failed.
const MAX_ATTEMPTS: i16 = 4;
const RETRY_AFTER: chrono::Duration = chrono::Duration::minutes(15);
/// How long a webhook receiver may take to answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// What one evaluation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AlertSummary {
    pub fired: usize,
    pub failed: usize,
    pub retried: usize,
}

/// The JSON a webhook receives.
#[derive(Serialize)]
struct WebhookBody<'a> {
    id: i64,
    rule: Option<i64>,
    kind: &'a str,
    account: Option<i64>,
    subject: &'a str,
    title: &'a str,
    detail: &'a str,
    fired_at: DateTime<Utc>,
    link: String,
}

pub struct Alerts {
    pool: db::Pool,
    mailer: Mailer,
    http: reqwest::Client,
    signing_key: [u8; 32],
    public_url: Url,
    clock: Clock,
}

impl Alerts {
    pub fn new(pool: db::Pool, mailer: Mailer, token_key: &TokenKey, public_url: Url, clock: Clock) -> Self {
        let http = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            // A receiver's redirect is not followed: the signature was made for this address.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Alerts { pool, mailer, http, signing_key: token_key.derive("tidemark alert webhooks v1"), public_url, clock }
    }

    /// The secret webhook receivers check signatures with (hex).
    pub fn signing_secret(&self) -> String {
        hex::encode(self.signing_key)
    }

    pub fn mail_setup(&self) -> Option<String> {
        self.mailer.describe()
    }

    pub async fn rules(&self) -> Result<Vec<AlertRule>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(store::rules(&mut conn).await?)
    }

    pub async fn add_rule(&self, rule: &NewAlertRule) -> Result<AlertRuleId, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(store::insert_rule(&mut conn, rule).await?)
    }

    pub async fn set_enabled(&self, id: AlertRuleId, enabled: bool) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(store::set_enabled(&mut conn, id, enabled).await?)
    }

    pub async fn delete_rule(&self, id: AlertRuleId) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(store::delete_rule(&mut conn, id).await?)
    }

    pub async fn events(&self, limit: i64) -> Result<Vec<AlertEvent>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(store::recent_events(&mut conn, limit).await?)
    }

    /// Judges every rule that is on, fires what it finds (unless the rule is quiet about that
    /// subject), delivers it, and tries failed deliveries again.
    pub async fn evaluate(&self) -> Result<AlertSummary, DbError> {
        let now = self.now();
        let mut summary = AlertSummary::default();
        for rule in self.rules().await?.into_iter().filter(|r| r.enabled) {
            for finding in self.findings(&rule, now).await? {
                let quiet_since = now - chrono::Duration::hours(i64::from(rule.quiet_hours));
                {
                    let mut conn = self.pool.get().await?;
                    if store::fired_since(&mut conn, rule.id, &finding.subject, quiet_since).await? {
                        continue;
                    }
                }
                let deliveries = self.fire(&rule, &finding, now).await?;
                summary.fired += 1;
                if deliveries.failed() {
                    summary.failed += 1;
                }
            }
        }
        summary.retried = self.retry_failed(now).await?;
        Ok(summary)
    }

    /// What the rule finds now.
    async fn findings(&self, rule: &AlertRule, now: DateTime<Utc>) -> Result<Vec<Finding>, DbError> {
        let mut conn = self.pool.get().await?;
        let found = match rule.kind {
            AlertKind::PostAbove | AlertKind::PostBelow => {
                let since = now - chrono::Duration::days(POST_DAYS);
                let posts = store::scored_posts(&mut conn, rule.account_id, since).await?;
                alerts::posts_beyond(&posts, rule.threshold, rule.kind == AlertKind::PostAbove)
            }
            AlertKind::ReachBelow => {
                let mut found = Vec::new();
                // Daily insights are recorded per UTC day, for the day before the sync.
                let last = now.date_naive();
                let first = last - chrono::Days::new(NORM_DAYS as u64 + 2);
                for account in store::accounts(&mut conn, rule.account_id).await? {
                    let days = store::daily_reach(&mut conn, account.id, first, last).await?;
                    let input = ReachDays { account: account.id, username: &account.username, days: &days };
                    found.extend(alerts::reach_below(&input, rule.threshold));
                }
                found
            }
            AlertKind::SyncFailing => {
                let mut found = Vec::new();
                for account in store::accounts(&mut conn, rule.account_id).await? {
                    let runs = store::last_runs(&mut conn, account.id, i64::from(rule.threshold.max(1))).await?;
                    found.extend(alerts::sync_failing(account.id, &account.username, &runs, rule.threshold));
                }
                found
            }
            AlertKind::TokenExpiring => store::accounts(&mut conn, rule.account_id)
                .await?
                .into_iter()
                .filter_map(|a| {
                    alerts::token_expiring(a.id, &a.username, a.status, a.token_expires_at, rule.threshold, now)
                })
                .collect(),
            AlertKind::PublishingFailed => {
                // Failures from before the rule existed are not news.
                let failed = store::failed_publications(&mut conn, rule.account_id, rule.created_at).await?;
                alerts::publishing_failed(&failed)
            }
        };
        Ok(found)
    }

    /// Keeps the alert, then delivers it.
    async fn fire(&self, rule: &AlertRule, finding: &Finding, now: DateTime<Utc>) -> Result<Deliveries, DbError> {
        let id = {
            let mut conn = self.pool.get().await?;
            let event = NewAlertEvent {
                rule_id: Some(rule.id),
                kind: rule.kind,
                account_id: finding.account,
                subject: &finding.subject,
                fired_at: now,
                title: &finding.title,
                detail: &finding.detail,
                email: "none",
                webhook: "none",
                tried_at: now,
            };
            store::insert_event(&mut conn, &event).await?
        };
        tracing::info!(alert = id.0, rule = rule.id.0, kind = rule.kind.as_str(), "alert fired");
        let event = Delivery {
            id,
            rule: Some(rule.id),
            kind: rule.kind,
            account: finding.account.map(|a| a.0),
            subject: &finding.subject,
            title: &finding.title,
            detail: &finding.detail,
            fired_at: now,
        };
        let deliveries = self.deliver(&event, &rule.recipients(), rule.webhook_url.as_deref(), None).await;
        let mut conn = self.pool.get().await?;
        store::record_deliveries(&mut conn, id, &deliveries, now, false).await?;
        Ok(deliveries)
    }

    /// Sends the alert where the rule says; `previous` skips what already went through on an
    /// earlier attempt.
    async fn deliver(
        &self,
        event: &Delivery<'_>,
        recipients: &[String],
        webhook: Option<&str>,
        previous: Option<&AlertEvent>,
    ) -> Deliveries {
        let (email, email_error) = match previous {
            Some(p) if p.email != "failed" => (static_state(&p.email), p.email_error.clone()),
            _ if recipients.is_empty() => ("none", None),
            _ => match self.message(event, recipients) {
                Err(err) => ("failed", Some(format!("the message could not be written: {err}"))),
                Ok(message) => match self.mailer.send(message).await {
                    Ok(()) => ("mailed", None),
                    Err(MailError::NotConfigured) => ("not_mailed", None),
                    Err(err) => {
                        tracing::warn!(alert = event.id.0, error = %err, "an alert could not be mailed");
                        ("failed", Some(err.to_string()))
                    }
                },
            },
        };
        let (webhook, webhook_error) = match (previous, webhook) {
            (Some(p), _) if p.webhook != "failed" => (static_state(&p.webhook), p.webhook_error.clone()),
            (_, None) => ("none", None),
            (_, Some(url)) => match self.post_webhook(event, url).await {
                Ok(()) => ("delivered", None),
                Err(reason) => {
                    tracing::warn!(alert = event.id.0, error = %reason, "an alert's webhook failed");
                    ("failed", Some(reason))
                }
            },
        };
        Deliveries { email, email_error, webhook, webhook_error }
    }

    fn message(&self, event: &Delivery<'_>, recipients: &[String]) -> Result<Outgoing, askama::Error> {
        let link = self.link();
        let fired_at = event.fired_at.format("%Y-%m-%d %H:%M UTC").to_string();
        let parts = AlertMail { title: event.title, detail: event.detail, fired_at: &fired_at, link: &link };
        Ok(Outgoing {
            to: recipients.to_vec(),
            subject: format!("Tidemark alert: {}", event.title),
            text: AlertText { mail: &parts }.render()?,
            html: parts.render()?,
            pictures: Vec::new(),
            attachments: Vec::new(),
        })
    }

    /// POSTs the alert as signed JSON; any answer but 2xx is a failure, with its status.
    async fn post_webhook(&self, event: &Delivery<'_>, url: &str) -> Result<(), String> {
        let body = serde_json::to_vec(&WebhookBody {
            id: event.id.0,
            rule: event.rule.map(|r| r.0),
            kind: event.kind.as_str(),
            account: event.account,
            subject: event.subject,
            title: event.title,
            detail: event.detail,
            fired_at: event.fired_at,
            link: self.link(),
        })
        .map_err(|e| e.to_string())?;
        let timestamp = self.now().timestamp().to_string();
        let signature = sign(&self.signing_key, &timestamp, &body);
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-tidemark-event", "alert")
            .header("x-tidemark-timestamp", &timestamp)
            .header("x-tidemark-signature-256", format!("sha256={signature}"))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("the receiver could not be reached ({})", e.without_url()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {}", response.status()))
        }
    }

    /// Delivers again what failed, from what was kept.
    async fn retry_failed(&self, now: DateTime<Utc>) -> Result<usize, DbError> {
        let (due, rules) = {
            let mut conn = self.pool.get().await?;
            (store::to_retry(&mut conn, MAX_ATTEMPTS, now - RETRY_AFTER).await?, store::rules(&mut conn).await?)
        };
        let mut retried = 0;
        for event in due {
            // The rule says where it goes; a deleted rule's alert stays as it was.
            let Some(rule) = rules.iter().find(|r| Some(r.id) == event.rule_id) else { continue };
            let delivery = Delivery {
                id: event.id,
                rule: event.rule_id,
                kind: event.kind,
                account: event.account_id.map(|a| a.0),
                subject: &event.subject,
                title: &event.title,
                detail: &event.detail,
                fired_at: event.fired_at,
            };
            let deliveries =
                self.deliver(&delivery, &rule.recipients(), rule.webhook_url.as_deref(), Some(&event)).await;
            let mut conn = self.pool.get().await?;
            store::record_deliveries(&mut conn, event.id, &deliveries, now, true).await?;
            retried += 1;
        }
        Ok(retried)
    }

    fn link(&self) -> String {
        self.public_url.join("alerts").map_or_else(|_| self.public_url.to_string(), |u| u.to_string())
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

/// An alert on its way out.
struct Delivery<'a> {
    id: AlertEventId,
    rule: Option<AlertRuleId>,
    kind: AlertKind,
    account: Option<i64>,
    subject: &'a str,
    title: &'a str,
    detail: &'a str,
    fired_at: DateTime<Utc>,
}

/// The stored delivery states, as the `'static` names the table's CHECK allows.
fn static_state(state: &str) -> &'static str {
    match state {
        "mailed" => "mailed",
        "not_mailed" => "not_mailed",
        "delivered" => "delivered",
        "failed" => "failed",
        _ => "none",
    }
}

/// `hex(HMAC-SHA256(key, "<timestamp>.<body>"))`.
pub fn sign(key: &[u8; 32], timestamp: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length; 32 bytes cannot be refused.
    #[allow(clippy::expect_used)]
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts a 32-byte key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// An alert's e-mail (its HTML part; [`AlertText`] is the plain one).
#[derive(Template)]
#[template(path = "alerts/email.html")]
struct AlertMail<'a> {
    title: &'a str,
    detail: &'a str,
    fired_at: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "alerts/email.txt")]
struct AlertText<'a> {
    mail: &'a AlertMail<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let key = [7u8; 32];
        let one = sign(&key, "1700000000", b"{\"id\":1}");
        assert_eq!(one.len(), 64);
        assert_ne!(one, sign(&key, "1700000001", b"{\"id\":1}"), "another time, another signature");
        assert_ne!(one, sign(&key, "1700000000", b"{\"id\":2}"));
        assert_ne!(one, sign(&[8u8; 32], "1700000000", b"{\"id\":1}"));
    }

    #[test]
    fn the_mail_escapes_what_it_quotes() {
        let parts = AlertMail {
            title: "@a's <b>post</b>",
            detail: "\u{201c}<script>\u{201d}",
            fired_at: "now",
            link: "/alerts",
        };
        let html = parts.render().unwrap();
        assert!(html.contains("script") && !html.contains("<script>"), "{html}");
        assert!(AlertText { mail: &parts }.render().unwrap().contains("<script>"), "the text part is text");
    }
}
