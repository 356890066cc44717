//! Meta's webhooks: the subscription check, signed deliveries (good, bad, missing, replayed),
//! comments stored once whichever way the change arrives.

use std::time::Duration;

use reqwest::Client;
use serde_json::json;

use tidemark::simulator::oauth::{FACEBOOK_APP_SECRET, INSTAGRAM_APP_SECRET};
use tidemark::simulator::webhooks::{self, signature};

use crate::helpers::{AppOptions, TestApp, WEBHOOK_VERIFY_TOKEN, spawn_app, spawn_app_with};

async fn deliver(app: &TestApp, body: &[u8], signature: Option<String>) -> reqwest::Response {
    let mut request = Client::new().post(app.url("/meta/webhooks")).header("content-type", "application/json");
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature-256", signature);
    }
    request.body(body.to_vec()).send().await.unwrap()
}

/// Instagram Login's shape: one change inline in each entry.
fn instagram_comment(account: &str, comment: &str, media: &str, text: &str) -> Vec<u8> {
    json!({ "object": "instagram", "entry": [{ "id": account, "time": 1_764_500_000,
        "field": "comments",
        "value": { "id": comment, "text": text, "from": { "id": "9001", "username": "a.reader" },
                   "media": { "id": media, "media_product_type": "FEED" } } }] })
    .to_string()
    .into_bytes()
}

/// Waits (briefly) for the processing that follows the 200.
async fn comments_after(app: &TestApp, at_least: i64) -> i64 {
    for _ in 0..50 {
        let n = app.count("SELECT count(*) AS n FROM comments").await;
        if n >= at_least {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.count("SELECT count(*) AS n FROM comments").await
}

#[tokio::test]
async fn the_subscription_check_echoes_the_challenge_only_for_the_right_token() {
    let app = spawn_app().await;
    let check = |token: &str| {
        app.url(&format!(
            "/meta/webhooks?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={}",
            token.replace(' ', "+")
        ))
    };
    let ok = Client::new().get(check(WEBHOOK_VERIFY_TOKEN)).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let wrong = Client::new().get(check("a verify token of someone else")).send().await.unwrap();
    assert_eq!(wrong.status(), 403);
    assert!(!wrong.text().await.unwrap().contains("1158201444"));

    let unconfigured = spawn_app_with(AppOptions { meta_apps: false, ..AppOptions::default() }).await;
    let url = unconfigured.url("/meta/webhooks?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x");
    assert_eq!(Client::new().get(url).send().await.unwrap().status(), 404, "no verify token: no webhooks");
}

#[tokio::test]
async fn a_signed_comment_is_stored_once_and_a_forged_one_nowhere() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let media = app.sim.listed_media_ids(0)[0].clone();
    let body =
        instagram_comment(&account.ig_user_id, "17900000000000001", &media, "Is the rye back tomorrow? <b>🍞</b>");

    let forged = deliver(&app, &body, Some(signature("not the app secret", &body))).await;
    assert_eq!(forged.status(), 403);
    let unsigned = deliver(&app, &body, None).await;
    assert_eq!(unsigned.status(), 403);
    let garbled = deliver(&app, &body, Some("sha256=zz".into())).await;
    assert_eq!(garbled.status(), 403);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.count("SELECT count(*) AS n FROM comments").await, 0, "a refused delivery stores nothing");
    assert_eq!(app.count("SELECT count(*) AS n FROM webhook_events").await, 0);

    let good = deliver(&app, &body, Some(signature(INSTAGRAM_APP_SECRET, &body))).await;
    assert_eq!(good.status(), 200);
    assert_eq!(comments_after(&app, 1).await, 1);
    let stored = format!(
        "SELECT count(*) AS n FROM comments WHERE account_id = {} AND media_id = '{media}' AND username = 'a.reader' \
         AND text = 'Is the rye back tomorrow? <b>🍞</b>' AND source = 'webhook'",
        account.id
    );
    assert_eq!(app.count(&stored).await, 1, "stored as sent (escaped only when shown)");

    // Meta's retry of the same delivery: answered 200, written nowhere twice.
    let retry = deliver(&app, &body, Some(signature(INSTAGRAM_APP_SECRET, &body))).await;
    assert_eq!(retry.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.count("SELECT count(*) AS n FROM comments").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM webhook_events").await, 1);
}

#[tokio::test]
async fn facebook_logins_changes_list_is_read_too_and_unknown_accounts_are_ignored() {
    let app = spawn_app().await;
    let account = app.connect(1).await;
    let media = app.sim.listed_media_ids(1)[0].clone();
    let body = json!({ "object": "instagram", "entry": [
        { "id": account.ig_user_id, "time": 1_764_500_100, "changes": [
            { "field": "comments", "value": { "id": "17900000000000002", "text": "Love this",
              "from": { "id": "9002", "username": "b.reader" }, "media": { "id": media } } },
            { "field": "comments", "value": { "id": "17900000000000003", "text": "Same!", "parent_id": "17900000000000002",
              "from": { "id": "9003", "username": "c.reader" }, "media": { "id": media } } } ] },
        { "id": "17841499999999999", "time": 1_764_500_100, "changes": [
            { "field": "comments", "value": { "id": "17900000000000004", "text": "not ours", "media": { "id": "1" } } } ] }
    ] })
    .to_string()
    .into_bytes();
    let response = deliver(&app, &body, Some(signature(FACEBOOK_APP_SECRET, &body))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(comments_after(&app, 2).await, 2, "the unknown account's comment is not stored");
    let reply = "SELECT count(*) AS n FROM comments WHERE parent_id = '17900000000000002' AND username = 'c.reader'";
    assert_eq!(app.count(reply).await, 1, "a reply keeps its thread");
    let malformed = b"{\"entry\": 12}".to_vec();
    let refused = deliver(&app, &malformed, Some(signature(FACEBOOK_APP_SECRET, &malformed))).await;
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn the_inbox_shows_threads_escaped_with_filters_for_what_needs_an_answer() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    app.run_sync().await;
    // An older post: the sync does not read its comments, so these are its only ones.
    let now = app.sim.now();
    let media = app
        .sim
        .media(0)
        .into_iter()
        .find(|m| m.product == "FEED" && now - m.posted_at > chrono::Duration::days(8))
        .unwrap()
        .id;
    let send = async |comment: &str, parent: Option<&str>, by: &str, text: &str| {
        let mut value =
            json!({ "id": comment, "text": text, "from": { "id": "1", "username": by }, "media": { "id": media } });
        if let Some(parent) = parent {
            value["parent_id"] = json!(parent);
        }
        let body = json!({ "object": "instagram", "entry": [{ "id": account.ig_user_id, "time": now.timestamp(),
            "field": "comments", "value": value }] })
        .to_string()
        .into_bytes();
        assert_eq!(deliver(&app, &body, Some(signature(INSTAGRAM_APP_SECRET, &body))).await.status(), 200);
    };
    let before = app.count("SELECT count(*) AS n FROM comments").await;
    send("17900000000000011", None, "a.reader", "Open on Sunday? <script>alert(1)</script>").await;
    send("17900000000000012", None, "b.reader", "Lovely\u{0} crust").await;
    send("17900000000000013", Some("17900000000000012"), "harbour.bakery", "Thank you!").await;
    assert_eq!(comments_after(&app, before + 3).await, before + 3);

    app.create_user("vera", tidemark::domain::Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    let post = app.count(&format!("SELECT id AS n FROM posts WHERE media_id = '{media}'")).await;
    let html = app.get_text(&viewer, &format!("/inbox?post={post}")).await;
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "escaped: {html}");
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("Thank you!") && html.contains("the account"), "the reply sits in its thread");
    assert_eq!(html.matches("Not answered").count(), 1, "{html}");
    assert_eq!(html.matches("method=\"post\"").count(), 1, "a viewer reads only");

    let waiting = app.get_text(&viewer, &format!("/inbox?post={post}&show=waiting")).await;
    assert!(waiting.contains("Open on Sunday?") && !waiting.contains("Lovely crust"));
    let questions = app.get_text(&viewer, &format!("/inbox?post={post}&show=questions")).await;
    assert!(questions.contains("Open on Sunday?") && !questions.contains("Lovely crust"));
    let nul = app.get(&viewer, "/inbox?q=%00").await;
    assert_eq!(nul.status(), 200, "a NUL in the search is no error");
    let keyword = app.get_text(&viewer, "/inbox?q=CRUST").await;
    assert!(keyword.contains("Lovely crust") && !keyword.contains("Open on Sunday?"), "case-insensitive");
    let thanks = app.get_text(&viewer, "/inbox?q=thank%20you").await;
    assert!(thanks.contains("Lovely crust"), "a thread matches by its replies too");
    assert!(html.contains(&format!("href=\"/posts/{post}\"")), "each thread links its post");
}

#[tokio::test]
async fn comments_the_simulator_delivers_reach_the_inbox_as_threads() {
    let app = spawn_app().await;
    app.connect(2).await;
    app.run_sync().await;
    let media = app.sim.listed_media_ids(2)[0].clone();
    let url = app.url("/meta/webhooks");
    let (question, body) = app.sim.comment_on(2, &media, "maria.eats", "Are you open on Sunday? 🙂", None);
    assert_eq!(webhooks::deliver(&url, INSTAGRAM_APP_SECRET, &body).await.unwrap(), 200);
    let (_, reply) = app.sim.comment_on(2, &media, "quiet.cove", "Yes, 8 to 12!", Some(&question));
    assert_eq!(webhooks::deliver(&url, INSTAGRAM_APP_SECRET, &reply).await.unwrap(), 200);
    assert_eq!(webhooks::deliver(&url, "a wrong secret", &body).await.unwrap(), 403);
    let stored = "SELECT count(*) AS n FROM comments WHERE source = 'webhook'";
    for _ in 0..50 {
        if app.count(stored).await >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.count(stored).await, 2);
    let admin = app.admin().await;
    let html = app.get_text(&admin, "/inbox?q=8%20to%2012").await;
    assert!(html.contains("Are you open on Sunday? 🙂") && html.contains("Yes, 8 to 12!"), "{html}");
    assert!(!html.contains("Not answered"), "the account's reply answers it: {html}");
}
