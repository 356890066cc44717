//! Sessions kept in memory between requests (`auth::kept_sessions`), as `serve` runs by
//! default: what another process, a script or this process changes reaches the next request,
//! and without its listening connection a server reads every session from the database.

use std::time::Duration;

use tidemark::domain::Role;

use crate::helpers::{AppOptions, PASSWORD, TestApp, browser, execute, location, spawn_app_with};

fn keeping() -> AppOptions {
    AppOptions { keep_sessions: true, ..AppOptions::default() }
}

/// Signs `username` in and returns the session cookie as a `Cookie` header's value, for a
/// client that sends it as it is (a copied cookie, a script).
async fn cookie_of(app: &TestApp, username: &str) -> String {
    let response = app.login_with(&browser(), username, PASSWORD).await;
    let set = response.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_owned();
    set.split(';').next().unwrap().to_owned()
}

async fn status_with(app: &TestApp, cookie: &str, path: &str) -> u16 {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // Asking for a page as a browser does: a refused session is sent to the sign-in page (303).
    let request = client.get(app.url(path)).header(reqwest::header::ACCEPT, "text/html");
    request.header(reqwest::header::COOKIE, cookie).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_kept_session_is_read_again_only_when_the_database_says_something_changed() {
    let app = spawn_app_with(keeping()).await;
    app.create_user("ada", Role::Admin).await;
    let cookie = cookie_of(&app, "ada").await;
    assert_eq!(status_with(&app, &cookie, "/posts").await, 200);

    // The row removed behind the triggers' back: no notice, so the kept session still answers.
    // That is what keeping means: a request does not read its session from the database.
    let mut conn = app.db.connect().await;
    execute(&mut conn, "ALTER TABLE sessions DISABLE TRIGGER sessions_notify").await;
    execute(&mut conn, "DELETE FROM sessions").await;
    execute(&mut conn, "ALTER TABLE sessions ENABLE TRIGGER sessions_notify").await;
    app.settle(&[]).await;
    assert_eq!(status_with(&app, &cookie, "/posts").await, 200, "served from memory");

    // Any notice drops what is kept: here a user's row written by a script.
    execute(&mut conn, "UPDATE users SET username = username").await;
    app.settle(&[]).await;
    assert_eq!(status_with(&app, &cookie, "/posts").await, 303, "read again, and the session is gone");
}

#[tokio::test]
async fn signing_out_refuses_a_copy_of_the_cookie_at_once_in_the_same_server() {
    let app = spawn_app_with(keeping()).await;
    app.create_user("ada", Role::Admin).await;
    let client = app.signed_in("ada").await;
    let copied = cookie_of(&app, "ada").await;
    assert_eq!(status_with(&app, &copied, "/").await, 200, "kept now");

    // Sign the copied session out through its own form, then send the copy again. No notice
    // comes (the trigger is off for this): the server that signed it out knows by itself.
    let mut conn = app.db.connect().await;
    execute(&mut conn, "ALTER TABLE sessions DISABLE TRIGGER sessions_notify").await;
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/"))
        .header(reqwest::header::COOKIE, &copied)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = crate::helpers::csrf_token_in(&page);
    let out = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/logout"))
        .header(reqwest::header::COOKIE, &copied)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    app.settle(&[]).await;
    assert_eq!(status_with(&app, &copied, "/").await, 303, "the copy is refused");
    execute(&mut conn, "ALTER TABLE sessions ENABLE TRIGGER sessions_notify").await;
    assert_eq!(app.get(&client, "/").await.status(), 200, "the other session stays");
}

#[tokio::test]
async fn two_servers_keeping_sessions_hear_what_the_other_changed() {
    let app = spawn_app_with(keeping()).await;
    app.connect(0).await;
    app.run_sync().await;
    let second = app.second_server().await;
    let browser = app.admin().await;
    app.settle(&[&second]).await;
    assert_eq!(browser.get(second.url("/posts")).send().await.unwrap().status(), 200);
    let before = app.get_text(&browser, "/posts").await;

    // A sync through the second server brings in a post: the first server's kept session
    // holds the old data version until the notice, then shows the post.
    let media_id = app.sim.publish(0, false);
    second.run_sync().await;
    let post = app.count(&format!("SELECT id AS n FROM posts WHERE media_id = '{media_id}'")).await;
    let link = format!("href=\"/posts/{post}\"");
    assert!(!before.contains(&link));
    app.settle(&[&second]).await;
    assert!(app.get_text(&browser, "/posts").await.contains(&link), "the first server shows the new post");

    // A role lowered on the first server reaches the second.
    let viewer = app.create_user("vic", Role::Admin).await;
    let vic = app.signed_in("vic").await;
    assert_eq!(vic.get(second.url("/settings")).send().await.unwrap().status(), 200);
    let mut conn = app.db.connect().await;
    execute(&mut conn, &format!("UPDATE users SET role = 'viewer' WHERE id = {}", viewer.0)).await;
    app.settle(&[&second]).await;
    assert_eq!(vic.get(second.url("/settings")).send().await.unwrap().status(), 403, "a viewer now");

    // Signing out on the second ends the session on the first once its notice arrives.
    let page = browser.get(second.url("/posts")).send().await.unwrap().text().await.unwrap();
    let token = crate::helpers::csrf_token_in(&page);
    let out = browser.post(second.url("/logout")).form(&[("csrf_token", token.as_str())]).send().await.unwrap();
    assert_eq!(out.status(), 303);
    app.settle(&[&second]).await;
    let refused = app.get(&browser, "/posts").await;
    assert_eq!(refused.status(), 303);
    assert!(location(&refused).starts_with("/login"), "{}", location(&refused));
}

#[tokio::test]
async fn without_its_listening_connection_a_server_reads_every_session_and_listens_again() {
    let app = spawn_app_with(keeping()).await;
    let changes = app.changes.clone().expect("sessions are kept");
    app.create_user("ada", Role::Admin).await;
    let cookie = cookie_of(&app, "ada").await;
    assert_eq!(status_with(&app, &cookie, "/posts").await, 200);

    // The listening connection ends (a restarted database, a network cut).
    let mut conn = app.db.connect().await;
    execute(
        &mut conn,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await;
    wait_until(|| !changes.listening()).await;

    // Nothing kept is trusted meanwhile: a session removed without a notice is refused at once.
    execute(&mut conn, "ALTER TABLE sessions DISABLE TRIGGER sessions_notify").await;
    execute(&mut conn, "DELETE FROM sessions").await;
    execute(&mut conn, "ALTER TABLE sessions ENABLE TRIGGER sessions_notify").await;
    assert_eq!(status_with(&app, &cookie, "/posts").await, 303, "read from the database");

    // It connects again by itself, and keeps sessions again.
    wait_until(|| changes.listening()).await;
    let cookie = cookie_of(&app, "ada").await;
    assert_eq!(status_with(&app, &cookie, "/posts").await, 200);
    execute(&mut conn, "ALTER TABLE sessions DISABLE TRIGGER sessions_notify").await;
    execute(&mut conn, "DELETE FROM sessions").await;
    execute(&mut conn, "ALTER TABLE sessions ENABLE TRIGGER sessions_notify").await;
    app.settle(&[]).await;
    assert_eq!(status_with(&app, &cookie, "/posts").await, 200, "kept again once listening");
}

async fn wait_until(condition: impl Fn() -> bool) {
    for _ in 0..1000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the listening connection did not change state within 10 s");
}

#[tokio::test]
async fn a_write_of_the_data_wakes_the_page_warm_up_and_other_changes_do_not() {
    let app = spawn_app_with(keeping()).await;
    let changes = app.changes.clone().expect("the app listens for changes");
    app.settle(&[]).await;
    // Coming up may have left one wake-up (notices could have been missed before): take it.
    let _ = tokio::time::timeout(Duration::from_millis(200), changes.data_moved()).await;

    let mut conn = app.db.connect().await;
    execute(&mut conn, "UPDATE users SET username = username").await;
    app.settle(&[]).await;
    let asleep = tokio::time::timeout(Duration::from_millis(300), changes.data_moved()).await;
    assert!(asleep.is_err(), "a user's row is no data the pages show");

    execute(&mut conn, "UPDATE settings SET lookback_days = lookback_days").await;
    tokio::time::timeout(Duration::from_secs(10), changes.data_moved())
        .await
        .expect("the data version's notice wakes the warm-up");
}
