//! Alerts: rules judged against crafted histories (scores, daily reach, sync runs, tokens,
//! publications), delivered to a real SMTP server and to a real HTTP receiver that checks
//! the HMAC signature, quiet periods, retries, and the rule form.

use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use mail_parser::MessageParser;
use sha2::Sha256;
use tidemark::db::alerts::NewAlertRule;
use tidemark::domain::{AccountId, AlertKind};
use tidemark::services::alerts::AlertSummary;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{AppOptions, TestApp, location, spawn_app, spawn_app_with};
use crate::reports::SmtpSink;

/// A request a webhook receiver got: its headers (lower-case names) and body.
#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }
}

/// A real HTTP server answering every POST with the statuses given in turn (the last one
/// from then on), keeping what it received.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(statuses: &'static [u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/tidemark", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        tokio::spawn(async move {
            let mut answered = 0;
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut bytes = Vec::new();
                let mut buf = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break (bytes.len(), 0);
                    }
                    bytes.extend_from_slice(&buf[..n]);
                    if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&bytes[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while bytes.len() < head_end + length {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    bytes.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&bytes[..head_end]).to_string();
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
                    .collect();
                let body = bytes[head_end..].to_vec();
                kept.lock().unwrap().push(Received { headers, body });
                let status = statuses[answered.min(statuses.len() - 1)];
                answered += 1;
                let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        Receiver { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Runs each statement of `sql` (separated by ";\n") on its own: prepared statements take one.
async fn craft(db: &mut diesel_async::AsyncPgConnection, sql: &str) {
    for statement in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        crate::helpers::execute(db, statement).await;
    }
}

/// The signing secret as the Alerts page shows it to an admin.
async fn signing_secret(app: &TestApp, admin: &reqwest::Client) -> Vec<u8> {
    let page = app.get_text(admin, "/alerts").await;
    let start =
        page.find("<code class=\"secret\">").expect("an admin sees the secret") + "<code class=\"secret\">".len();
    hex::decode(&page[start..start + 64]).unwrap()
}

fn verify(secret: &[u8], delivery: &Received) -> bool {
    let signature = delivery.header("x-tidemark-signature-256").strip_prefix("sha256=").unwrap_or_default();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap();
    mac.update(delivery.header("x-tidemark-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&delivery.body);
    mac.verify_slice(&hex::decode(signature).unwrap_or_default()).is_ok()
}

fn rule(kind: AlertKind, account: Option<AccountId>, threshold: i32, quiet_hours: i32) -> NewAlertRule {
    NewAlertRule {
        kind,
        account_id: account,
        threshold,
        quiet_hours,
        recipients: Vec::new(),
        webhook_url: None,
        created_by: None,
        created_at: chrono::Utc::now() - chrono::Duration::days(3650),
    }
}

#[tokio::test]
async fn a_post_far_above_its_cohort_is_mailed_and_posted_signed_once_then_the_rule_stays_quiet() {
    let sink = SmtpSink::start().await;
    let hook = Receiver::start(&[200]).await;
    let app = spawn_app_with(AppOptions { mail: Some(SmtpSink::settings(sink.port)), ..AppOptions::default() }).await;
    let account = app.connect(0).await;
    app.run_sync().await;
    // Crafted: the newest post went out yesterday and beat 97 % of its 12 predecessors at 24 h;
    // every other post is middling.
    let post = app.count(&format!("SELECT max(id) AS n FROM posts WHERE account_id = {}", account.id)).await;
    let now = app.sim.now().to_rfc3339();
    let db = &mut app.db.connect().await;
    craft(
        db,
        &format!(
            "UPDATE posts SET posted_at = TIMESTAMPTZ '{now}' - interval '1 day', caption = 'Rye <b>loaves</b>' WHERE id = {post};
             UPDATE post_scores SET impact = 50, checkpoint_hours = 24, impact_cohort = 12 WHERE account_id = {a};
             UPDATE post_scores SET impact = 97, reach = 4321 WHERE post_id = {post};",
            a = account.id
        ),
    )
    .await;
    let admin = app.admin().await;
    let fields = [
        ("kind", "post_above"),
        ("account", &account.id.to_string()),
        ("threshold", "90"),
        ("quiet_hours", ""),
        ("recipients", "ana@example.com"),
        ("webhook_url", &hook.url),
    ];
    let response = app.post_form(&admin, "/alerts", "/alerts/rules", &fields).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/alerts?notice=alert-rule-added#rules");

    assert_eq!(app.alerts.evaluate().await.unwrap(), AlertSummary { fired: 1, failed: 0, retried: 0 });
    assert_eq!(app.alerts.evaluate().await.unwrap(), AlertSummary::default(), "quiet about that post for a week");

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let message = MessageParser::default().parse(&messages[0]).unwrap();
    let subject = message.subject().unwrap();
    assert!(subject.starts_with(&format!("Tidemark alert: @{}", account.username)), "{subject}");
    let text = message.body_text(0).unwrap();
    assert!(text.contains("Impact score 97 at 24 h"), "{text}");
    assert!(text.contains("12 earlier"), "the cohort's size: {text}");
    let html = message.body_html(0).unwrap();
    assert!(html.contains("Rye &lt;b&gt;loaves&lt;/b&gt;") || html.contains("Rye &#60;b&#62;"), "escaped: {html}");

    let deliveries = hook.received();
    assert_eq!(deliveries.len(), 1);
    let secret = signing_secret(&app, &admin).await;
    assert!(verify(&secret, &deliveries[0]), "the signature checks out with the secret shown");
    let mut forged = deliveries[0].clone();
    forged.body = forged.body.replace_range_bytes(b"97", b"99");
    assert!(!verify(&secret, &forged), "a changed body does not");
    let body: serde_json::Value = serde_json::from_slice(&deliveries[0].body).unwrap();
    assert_eq!(body["kind"], "post_above");
    assert_eq!(body["subject"], format!("post:{post}"));
    assert_eq!(body["account"], account.id.0);

    let page = app.get_text(&admin, "/alerts").await;
    assert!(page.contains("Impact score 97 at 24 h"));
    assert!(page.contains("mailed; webhook delivered"), "{page}");

    // A viewer sees what fired, not the secret.
    app.create_user("vera", tidemark::domain::Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    let seen = app.get_text(&viewer, "/alerts").await;
    assert!(seen.contains("Impact score 97 at 24 h"));
    assert!(!seen.contains("class=\"secret\""));
    assert!(!seen.contains(&hook.url) && seen.contains("a webhook"), "a webhook address can hold a secret");
}

trait ReplaceBytes {
    fn replace_range_bytes(self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl ReplaceBytes for Vec<u8> {
    fn replace_range_bytes(self, from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = self.windows(from.len()).position(|w| w == from).expect("the bytes to change");
        [&self[..at], to, &self[at + from.len()..]].concat()
    }
}

#[tokio::test]
async fn reach_below_the_norm_fires_and_a_day_not_measured_is_no_reason() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let today = app.sim.now().date_naive();
    let db = &mut app.db.connect().await;
    // Crafted: four weeks around 1,000 a day, yesterday 420, and today's row without a figure.
    craft(
        db,
        &format!(
            "DELETE FROM account_daily_insights WHERE account_id = {a};
             INSERT INTO account_daily_insights (account_id, day, reach)
               SELECT {a}, DATE '{today}' - d, 1000 + d FROM generate_series(2, 29) AS d;
             INSERT INTO account_daily_insights (account_id, day, reach) VALUES ({a}, DATE '{today}' - 1, 420);
             INSERT INTO account_daily_insights (account_id, day, reach) VALUES ({a}, DATE '{today}', NULL);",
            a = account.id
        ),
    )
    .await;
    app.alerts.add_rule(&rule(AlertKind::ReachBelow, None, 60, 24)).await.unwrap();
    assert_eq!(app.alerts.evaluate().await.unwrap().fired, 1);
    let events = app.alerts.events(10).await.unwrap();
    assert!(events[0].title.contains("reach fell below its norm"), "{}", events[0].title);
    let yesterday = today - chrono::Days::new(1);
    // The day not measured is not read as no reach: the last measured day is judged.
    assert!(events[0].detail.contains(&format!("420 accounts reached on {yesterday}")), "{}", events[0].detail);
    assert_eq!(events[0].email, "none", "no recipients: listed only");
    assert_eq!(app.alerts.evaluate().await.unwrap().fired, 0, "quiet about that account for a day");

    // Today ends normal: after the quiet period nothing fires.
    craft(
        db,
        &format!("UPDATE account_daily_insights SET reach = 990 WHERE account_id = {} AND day = '{today}'", account.id),
    )
    .await;
    app.sim.advance(chrono::Duration::hours(25));
    assert_eq!(app.alerts.evaluate().await.unwrap().fired, 0);
}

#[tokio::test]
async fn failing_syncs_an_expiring_token_and_a_failed_publication_each_fire_with_their_reason() {
    let hook = Receiver::start(&[500, 200]).await;
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let (publication, _) = crate::publishing::planned_draft(&app, account.id).await;
    let now = app.sim.now().to_rfc3339();
    let db = &mut app.db.connect().await;
    craft(
        db,
        &format!(
            "INSERT INTO sync_runs (account_id, trigger, started_at, finished_at, outcome, api_calls, posts_seen, snapshots_written, error_kind, error_message)
               SELECT {a}, 'schedule', TIMESTAMPTZ '{now}' - (d || ' hours')::interval, TIMESTAMPTZ '{now}' - (d || ' hours')::interval + interval '5 seconds',
                      'failed', 1, 0, 0, 'transient', 'Graph API answered 500 three times'
               FROM generate_series(1, 3) AS d;
             UPDATE ig_accounts SET token_expires_at = TIMESTAMPTZ '{now}' + interval '3 days' WHERE id = {a};
             UPDATE publications SET status = 'failed', last_error = 'Meta refused the image: aspect ratio 3:1', updated_at = TIMESTAMPTZ '{now}'
               WHERE id = {p};",
            a = account.id,
            p = publication.0
        ),
    )
    .await;
    let mut sync = rule(AlertKind::SyncFailing, Some(account.id), 3, 24);
    sync.webhook_url = Some(hook.url.clone());
    app.alerts.add_rule(&sync).await.unwrap();
    app.alerts.add_rule(&rule(AlertKind::TokenExpiring, None, 7, 24)).await.unwrap();
    app.alerts.add_rule(&rule(AlertKind::PublishingFailed, None, 1, 1)).await.unwrap();
    // Four failed runs needed: three are not enough.
    app.alerts.add_rule(&rule(AlertKind::SyncFailing, None, 4, 24)).await.unwrap();

    let summary = app.alerts.evaluate().await.unwrap();
    assert_eq!(summary, AlertSummary { fired: 3, failed: 1, retried: 0 }, "the receiver answered 500");
    let events = app.alerts.events(10).await.unwrap();
    let detail = |kind: AlertKind| events.iter().find(|e| e.kind == kind).map(|e| e.detail.clone()).unwrap_or_default();
    assert!(detail(AlertKind::SyncFailing).contains("The last 3 sync cycles failed"));
    assert!(detail(AlertKind::SyncFailing).contains("Graph API answered 500 three times"));
    assert!(
        detail(AlertKind::TokenExpiring).contains("in 2 day(s)")
            || detail(AlertKind::TokenExpiring).contains("in 3 day(s)")
    );
    assert!(detail(AlertKind::PublishingFailed).contains("aspect ratio 3:1"));
    let failed = events.iter().find(|e| e.kind == AlertKind::SyncFailing).unwrap();
    assert_eq!(failed.webhook, "failed");
    assert_eq!(failed.webhook_error.as_deref(), Some("the receiver answered 500 Internal Server Error"));

    // A quarter of an hour later the webhook is tried again, and takes it.
    app.sim.advance(chrono::Duration::minutes(16));
    let again = app.alerts.evaluate().await.unwrap();
    assert_eq!(again.retried, 1);
    assert_eq!(hook.received().len(), 2);
    let events = app.alerts.events(10).await.unwrap();
    let delivered = events.iter().find(|e| e.kind == AlertKind::SyncFailing).unwrap();
    assert_eq!((delivered.webhook.as_str(), delivered.attempts), ("delivered", 2));
}

#[tokio::test]
async fn the_rule_form_names_every_problem_and_a_viewer_cannot_add_one() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fields = [
        ("kind", "reach_below"),
        ("account", "all"),
        ("threshold", "250"),
        ("quiet_hours", "0"),
        ("recipients", "ana@example.com bad@"),
        ("webhook_url", "ftp://example.com/x"),
    ];
    let response = app.post_form(&admin, "/alerts", "/alerts/rules", &fields).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    for problem in [
        "The threshold is a whole number from 1 to 100",
        "The quiet period is a whole number of hours",
        "These are not e-mail addresses: bad@",
        "The webhook address must be an http:// or https:// URL",
    ] {
        assert!(page.contains(problem), "{problem}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM alert_rules").await, 0);

    app.create_user("vera", tidemark::domain::Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    let fields = [("kind", "token_expiring"), ("account", "all")];
    assert_eq!(app.post_form(&viewer, "/alerts", "/alerts/rules", &fields).await.status(), 403);
    assert_eq!(app.count("SELECT count(*) AS n FROM alert_rules").await, 0);
}
