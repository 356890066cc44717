//! Retention: every rule, applied by `tidemark purge` (the nightly job runs the same).

use std::process::Command;

use chrono::Utc;
use serde_json::json;
use tidemark::simulator::oauth::{INSTAGRAM_APP_SECRET, signed_request};

use crate::helpers::{TestApp, spawn_app};

fn purge(app: &TestApp) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("purge")
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

async fn exec(app: &TestApp, sql: &str) {
    app.count(&format!("WITH done AS ({sql} RETURNING 1) SELECT count(*) AS n FROM done")).await;
}

#[tokio::test]
async fn purge_applies_every_retention_rule_and_records_what_it_removed() {
    let app = spawn_app().await;
    app.connect(2).await;
    app.run_sync().await;
    app.run_sync().await;
    let admin = app.admin().await;
    // A Meta request record and an unfinished dialog, both to be aged below.
    let signed = signed_request(
        INSTAGRAM_APP_SECRET,
        &json!({"algorithm": "HMAC-SHA256", "user_id": "1", "issued_at": Utc::now().timestamp()}),
    );
    reqwest::Client::new()
        .post(app.url("/meta/data-deletion"))
        .form(&[("signed_request", signed)])
        .send()
        .await
        .unwrap();
    assert_eq!(app.get(&admin, "/accounts/connect/instagram").await.status(), 303);

    exec(&app, "UPDATE settings SET lookback_days = 30, sync_run_keep_days = 10").await;
    exec(&app, "UPDATE posts SET posted_at = now() - interval '40 days' WHERE id IN (SELECT id FROM posts ORDER BY posted_at DESC LIMIT 3)").await;
    let old_posts = app.count("SELECT count(*) AS n FROM posts WHERE posted_at < now() - interval '30 days'").await;
    assert!(old_posts >= 3);
    let old_snapshots = app
        .count("SELECT count(*) AS n FROM post_snapshots s JOIN posts p ON p.id = s.post_id WHERE p.posted_at < now() - interval '30 days'")
        .await;
    assert!(old_snapshots > 0);
    exec(&app, "INSERT INTO account_snapshots (account_id, captured_at, followers_count) SELECT id, now() - interval '45 days', 1 FROM ig_accounts").await;
    exec(&app, "INSERT INTO account_daily_insights (account_id, day, reach, captured_at) SELECT id, current_date - 60, 5, now() FROM ig_accounts").await;
    exec(&app, "INSERT INTO account_audience (account_id, day, dimension, key, followers) SELECT id, current_date - 60, k, 'F', 9 FROM ig_accounts, unnest(ARRAY['gender', 'age']) AS k").await;
    exec(
        &app,
        "UPDATE sync_runs SET started_at = now() - interval '20 days' WHERE id = (SELECT min(id) FROM sync_runs)",
    )
    .await;
    exec(&app, "UPDATE meta_requests SET received_at = now() - interval '91 days'").await;
    exec(&app, "UPDATE oauth_states SET expires_at = now() - interval '1 minute'").await;
    let posts_before = app.count("SELECT count(*) AS n FROM posts").await;
    let runs_before = app.count("SELECT count(*) AS n FROM sync_runs").await;

    let (ok, out, err) = purge(&app);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("{old_posts} post(s) with {old_snapshots} snapshot(s)")), "{out}");
    assert!(out.contains("1 account snapshot(s)") && out.contains("1 day(s) of account insights"), "{out}");
    assert!(out.contains("1 sync-run record(s)") && out.contains("1 Meta request record(s)"), "{out}");
    assert!(out.contains("1 unfinished Meta dialog(s)"), "{out}");
    let accounts = app.count("SELECT count(*) AS n FROM ig_accounts").await;
    assert!(out.contains(&format!("{} audience figure(s)", 2 * accounts)), "{out}");

    assert_eq!(app.count("SELECT count(*) AS n FROM posts").await, posts_before - old_posts);
    assert_eq!(app.count("SELECT count(*) AS n FROM posts WHERE posted_at < now() - interval '30 days'").await, 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM account_snapshots WHERE captured_at < now() - interval '30 days'").await,
        0
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM account_daily_insights WHERE day < current_date - 31").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM account_audience WHERE day < current_date - 31").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_runs").await, runs_before - 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM meta_requests").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM oauth_states").await, 0);

    let data = app.get_text(&admin, "/data").await;
    assert!(data.contains(&format!("{old_posts} post(s) with {old_snapshots} snapshot(s)")), "the purge is shown");
    assert!(data.contains("30 days") && data.contains("10 days"), "with the keep times in force");

    let (ok, out, _) = purge(&app);
    assert!(ok && out.contains("0 post(s) with 0 snapshot(s)"), "a second purge finds nothing: {out}");
}

#[tokio::test]
async fn a_month_of_snapshots_before_the_history_window_is_dropped_whole_and_next_month_is_made() {
    let app = spawn_app().await;
    app.connect(2).await;
    app.run_sync().await;
    let recent = app.count("SELECT count(*) AS n FROM post_snapshots").await;
    // An old post, with three snapshots in a month long before the window and one this month.
    exec(&app, "UPDATE posts SET posted_at = now() - interval '100 days' WHERE id = (SELECT min(id) FROM posts)").await;
    app.count("SELECT count(*) AS n FROM (SELECT post_snapshots_month((now() - interval '95 days')::date)) AS made")
        .await;
    exec(
        &app,
        "INSERT INTO post_snapshots (post_id, captured_at, reach) \
         SELECT (SELECT min(id) FROM posts), now() - interval '95 days' + n * interval '1 hour', n FROM generate_series(1, 3) n",
    )
    .await;
    let old_month = (Utc::now() - chrono::Duration::days(95)).format("post_snapshots_%Y_%m").to_string();
    let partition = |name: &str| format!("SELECT count(*) AS n FROM pg_class WHERE relname = '{name}'");
    assert_eq!(app.count(&partition(&old_month)).await, 1);
    let old_posts = app.count("SELECT count(*) AS n FROM posts WHERE posted_at < now() - interval '30 days'").await;
    let old_snapshots = app
        .count("SELECT count(*) AS n FROM post_snapshots s JOIN posts p ON p.id = s.post_id WHERE p.posted_at < now() - interval '30 days'")
        .await;
    exec(&app, "UPDATE settings SET lookback_days = 30").await;
    let common = "SELECT common AS n FROM data_version";
    let before = app.count(common).await;

    let (ok, out, err) = purge(&app);
    assert!(ok, "{err}");
    // Dropping a table fires no trigger: every account's pages are told by hand.
    assert!(app.count(common).await > before, "the version of every account's views moved");
    // The month's three are counted with the rest of the old posts' snapshots.
    assert!(out.contains(&format!("{old_posts} post(s) with {old_snapshots} snapshot(s)")), "{out}");
    assert_eq!(app.count(&partition(&old_month)).await, 0, "the month went whole");
    assert_eq!(app.count("SELECT count(*) AS n FROM post_snapshots").await, recent + 3 - old_snapshots);
    let next_month = (Utc::now() + chrono::Months::new(1)).format("post_snapshots_%Y_%m").to_string();
    assert_eq!(app.count(&partition(&next_month)).await, 1, "next month's is made ahead");
}
