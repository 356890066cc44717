//! Meta's deauthorize and data-deletion callbacks, signed with real HMACs as Meta signs them.

use chrono::Utc;
use serde_json::json;
use tidemark::db::accounts::Account;
use tidemark::domain::AccountStatus;
use tidemark::simulator::oauth::{FACEBOOK_APP_SECRET, INSTAGRAM_APP_SECRET, signed_request};

use crate::helpers::{AppOptions, TestApp, spawn_app, spawn_app_with};

const BAKERY: usize = 0;
const STUDIO: usize = 1;

/// Rows in every table of the schema, by table.
async fn every_table(app: &TestApp) -> Vec<(String, i64)> {
    let tables: Vec<String> = {
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            table_name: String,
        }
        use diesel_async::RunQueryDsl;
        let mut conn = app.db.connect().await;
        let names: Vec<Name> = diesel::sql_query(
            "SELECT table_name::text AS table_name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        .load(&mut conn)
        .await
        .unwrap();
        names.into_iter().map(|n| n.table_name).collect()
    };
    let mut counts = Vec::new();
    for table in tables {
        counts.push((table.clone(), app.count(&format!("SELECT count(*) AS n FROM {table}")).await));
    }
    counts
}

fn payload(user_id: &str) -> serde_json::Value {
    json!({ "algorithm": "HMAC-SHA256", "user_id": user_id, "issued_at": Utc::now().timestamp() })
}

async fn post(app: &TestApp, path: &str, signed: &str) -> reqwest::Response {
    reqwest::Client::new().post(app.url(path)).form(&[("signed_request", signed)]).send().await.unwrap()
}

async fn account(app: &TestApp, index: usize) -> Account {
    let mut conn = app.db.connect().await;
    Account::list(&mut conn).await.unwrap().into_iter().find(|a| a.ig_user_id == app.sim.ig_user_id(index)).unwrap()
}

#[tokio::test]
async fn deauthorize_forgets_the_token_keeps_the_history_and_is_recorded_without_personal_data() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.connect(STUDIO).await;
    app.run_sync().await;
    let bakery = account(&app, BAKERY).await;
    let posts = app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {}", bakery.id)).await;
    let user = bakery.app_user_id.clone().expect("Instagram Login names the app-scoped id");

    let response = post(&app, "/meta/deauthorize", &signed_request(INSTAGRAM_APP_SECRET, &payload(&user))).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().is_empty());

    let after = account(&app, BAKERY).await;
    assert_eq!(after.status, AccountStatus::Disconnected);
    assert!(after.token().is_none(), "the token is gone");
    assert!(after.status_reason.unwrap().contains("removed this Tidemark"));
    assert_eq!(app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {}", bakery.id)).await, posts);
    assert_eq!(account(&app, STUDIO).await.status, AccountStatus::Active, "the other login's account is untouched");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM meta_requests WHERE kind = 'deauthorize' AND outcome = 'done'").await,
        1
    );
    let admin = app.admin().await;
    let data = app.get_text(&admin, "/data").await;
    assert!(data.contains("deauthorize") && !data.contains(&user), "listed without the user id");
    assert!(data.contains("<title>Data · Tidemark</title>"), "the page's title");
    for section in ["archive", "meta-requests", "retention", "start-over"] {
        assert_eq!(data.matches(&format!("id=\"{section}\"")).count(), 1, "the {section} section, once");
    }
}

#[tokio::test]
async fn data_deletion_removes_everything_of_the_account_at_once_and_answers_a_code_and_status_url() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.connect(STUDIO).await;
    app.run_sync().await;
    let studio = account(&app, STUDIO).await;
    let user = studio.app_user_id.clone().expect("the Facebook user's app-scoped id is kept");
    let before = every_table(&app).await;

    let response = post(&app, "/meta/data-deletion", &signed_request(FACEBOOK_APP_SECRET, &payload(&user))).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let receipt: serde_json::Value = response.json().await.unwrap();
    let code = receipt["confirmation_code"].as_str().unwrap().to_owned();
    assert!(code.len() >= 20 && code.chars().all(|c| c.is_ascii_alphanumeric()), "{code}");
    assert_eq!(receipt["url"].as_str().unwrap(), app.url(&format!("/meta/data-deletion/{code}")));

    let id = studio.id.0;
    for (table, rows) in [
        ("ig_accounts", format!("SELECT count(*) AS n FROM ig_accounts WHERE id = {id}")),
        ("posts", format!("SELECT count(*) AS n FROM posts WHERE account_id = {id}")),
        ("post_scores", format!("SELECT count(*) AS n FROM post_scores WHERE account_id = {id}")),
        ("account_snapshots", format!("SELECT count(*) AS n FROM account_snapshots WHERE account_id = {id}")),
        ("account_daily_insights", format!("SELECT count(*) AS n FROM account_daily_insights WHERE account_id = {id}")),
        ("sync_runs", format!("SELECT count(*) AS n FROM sync_runs WHERE account_id = {id}")),
    ] {
        assert_eq!(app.count(&rows).await, 0, "{table} keeps rows of the deleted account");
    }
    let after = every_table(&app).await;
    for ((table, was), (_, now)) in before.iter().zip(&after) {
        if table == "meta_requests" {
            assert_eq!(*now, was + 1, "the request is recorded");
        } else if [
            "ig_accounts",
            "posts",
            "post_snapshots",
            "post_checkpoints",
            "post_scores",
            "account_snapshots",
            "account_daily_insights",
            "sync_runs",
        ]
        .contains(&table.as_str())
        {
            assert!(now < was, "{table}: {was} → {now}");
        } else {
            assert!(now <= was, "{table} grew: {was} → {now}");
        }
    }
    assert_eq!(account(&app, BAKERY).await.status, AccountStatus::Active, "the other account stays");

    let status = reqwest::get(app.url(&format!("/meta/data-deletion/{code}"))).await.unwrap();
    assert_eq!(status.status(), 200);
    let html = status.text().await.unwrap();
    assert!(html.contains("Completed") && html.contains(&code));
    assert!(!html.contains(&studio.username) && !html.contains(&user), "no account data on the status page");
    assert_eq!(reqwest::get(app.url("/meta/data-deletion/NotAKnownCode0000000000")).await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_request_for_someone_tidemark_never_held_is_answered_and_recorded_as_nothing_held() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    let before = every_table(&app).await;
    let response = post(&app, "/meta/data-deletion", &signed_request(INSTAGRAM_APP_SECRET, &payload("99999"))).await;
    assert_eq!(response.status(), 200);
    let receipt: serde_json::Value = response.json().await.unwrap();
    let html = reqwest::get(receipt["url"].as_str().unwrap()).await.unwrap().text().await.unwrap();
    assert!(html.contains("held no data"), "{html}");
    let after = every_table(&app).await;
    for ((table, was), (_, now)) in before.iter().zip(&after) {
        let grew = if table == "meta_requests" { 1 } else { 0 };
        assert_eq!(*now, was + grew, "{table}");
    }
}

#[tokio::test]
async fn forged_stale_malformed_and_replayed_requests_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    let user = account(&app, BAKERY).await.app_user_id.unwrap();
    let good = signed_request(INSTAGRAM_APP_SECRET, &payload(&user));
    let (signature, body) = good.split_once('.').unwrap();
    let stale =
        json!({ "algorithm": "HMAC-SHA256", "user_id": user, "issued_at": Utc::now().timestamp() - 3 * 86_400 });
    let expired = json!({ "algorithm": "HMAC-SHA256", "user_id": user, "expires": Utc::now().timestamp() - 60 });
    let other_algorithm = json!({ "algorithm": "HMAC-SHA1", "user_id": user, "issued_at": Utc::now().timestamp() });
    let cases = [
        ("unsigned", String::new()),
        ("signed with another secret", signed_request("not the app secret", &payload(&user))),
        ("signature swapped", format!("{body}.{signature}")),
        ("payload changed", format!("{signature}.{}", body.replace('e', "f"))),
        ("stale", signed_request(INSTAGRAM_APP_SECRET, &stale)),
        ("expired", signed_request(INSTAGRAM_APP_SECRET, &expired)),
        ("another algorithm", signed_request(INSTAGRAM_APP_SECRET, &other_algorithm)),
        ("not base64", "%%%.&&&".to_owned()),
        ("one part", signature.to_owned()),
    ];
    let before = every_table(&app).await;
    for path in ["/meta/deauthorize", "/meta/data-deletion"] {
        for (case, signed) in &cases {
            let response = post(&app, path, signed).await;
            assert_eq!(response.status(), 400, "{path}: {case}");
        }
        let garbage = reqwest::Client::new().post(app.url(path)).body("\u{0}\u{1}not a form").send().await.unwrap();
        assert_eq!(garbage.status(), 400, "{path}: not a form");
    }
    assert_eq!(every_table(&app).await, before, "nothing changed");
    assert_eq!(account(&app, BAKERY).await.status, AccountStatus::Active);

    assert_eq!(post(&app, "/meta/deauthorize", &good).await.status(), 200);
    let after_first = every_table(&app).await;
    assert_eq!(post(&app, "/meta/deauthorize", &good).await.status(), 409, "a replay is refused");
    assert_eq!(post(&app, "/meta/data-deletion", &good).await.status(), 409, "on either callback");
    assert_eq!(every_table(&app).await, after_first, "and changes nothing");
}

#[tokio::test]
async fn without_a_meta_app_the_callbacks_do_not_exist() {
    let app = spawn_app_with(AppOptions { meta_apps: false, ..AppOptions::default() }).await;
    let signed = signed_request(INSTAGRAM_APP_SECRET, &payload("1"));
    assert_eq!(post(&app, "/meta/deauthorize", &signed).await.status(), 404);
    assert_eq!(post(&app, "/meta/data-deletion", &signed).await.status(), 404);
}

#[tokio::test]
async fn the_privacy_page_is_public_and_follows_the_settings() {
    let app = spawn_app().await;
    let anonymous = reqwest::get(app.url("/privacy")).await.unwrap();
    assert_eq!(anonymous.status(), 200, "no sign-in needed");
    let html = anonymous.text().await.unwrap();
    assert!(html.contains("for 90 days") && html.contains("has not yet named themselves"), "defaults shown");
    assert!(html.contains(&app.url("/meta/data-deletion")), "the deletion callback address");

    app.count("WITH s AS (UPDATE settings SET lookback_days = 30, sync_run_keep_days = 14, operator_contact = 'Harbour Bakery <b>Ltd</b>, privacy@harbour.example' RETURNING 1) SELECT count(*) AS n FROM s").await;
    let html = reqwest::get(app.url("/privacy")).await.unwrap().text().await.unwrap();
    assert!(html.contains("for 30 days") && html.contains("Records of sync runs: 14 days"), "{html}");
    assert!(html.contains("Harbour Bakery &#60;b&#62;Ltd"), "the contact, escaped");
    assert!(!html.contains("<b>Ltd"), "never as markup");
}
