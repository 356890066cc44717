//! Connecting accounts, keeping their tokens secret, deleting them, retention, the commands.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::Duration;
use tidemark::crypto::{CipherError, TokenKey};
use tidemark::db::accounts::{Account, token_binding};
use tidemark::domain::{AccountId, Role};

use crate::helpers::{TestApp, csrf_token_in, location, spawn_app};

const BAKERY: usize = 0;
const STUDIO: usize = 1;
const COVE: usize = 2;

#[tokio::test]
async fn connecting_through_the_page_checks_the_token_and_never_shows_it_again() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = app.sim.token(BAKERY);
    let response = app.post_form(&admin, "/accounts", "/accounts", &[("token", &token), ("login", "auto")]).await;
    assert_eq!(response.status(), 303);
    let target = location(&response);
    assert!(target.starts_with("/accounts/") && target.ends_with("?notice=connected"), "{target}");

    let page = app.get_text(&admin, &target).await;
    assert!(page.contains("@harbour.bakery"));
    assert!(page.contains("12,400"), "the follower count it found");
    assert!(page.contains("expires in"), "the expiry, not the token");
    for path in ["/accounts", &target, "/", "/sync"] {
        let html = app.get_text(&admin, path).await;
        for token in app.sim.tokens_of(BAKERY) {
            assert!(!html.contains(&token), "{path} shows a token");
        }
    }
    let mut conn = app.db.connect().await;
    let stored = &Account::list(&mut conn).await.unwrap()[0];
    for token in app.sim.tokens_of(BAKERY) {
        assert!(!stored.token().unwrap().ciphertext.windows(token.len()).any(|w| w == token.as_bytes()));
    }
}

#[tokio::test]
async fn a_facebook_login_token_connects_its_instagram_account() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = app.sim.token(STUDIO);
    let response = app.post_form(&admin, "/accounts", "/accounts", &[("token", &token), ("login", "facebook")]).await;
    assert_eq!(response.status(), 303);
    let mut conn = app.db.connect().await;
    let account = &Account::list(&mut conn).await.unwrap()[0];
    assert_eq!(account.ig_user_id, app.sim.ig_user_id(STUDIO));
    assert!(account.facebook_page_id.is_some());
    assert!(account.token_expires_at.is_some(), "from debug_token");
}

#[tokio::test]
async fn a_refused_token_stores_nothing_and_says_why() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let expired = app.sim.issue_token(COVE, Duration::days(3), 60);
    app.sim.expire_token(&expired);
    for (token, reason) in [
        ("IGAAnot-a-token", "Cannot parse access token"),
        (expired.as_str(), "Session has expired"),
        ("what is this", "could not be told from the token"),
    ] {
        let response = app.post_form(&admin, "/accounts", "/accounts", &[("token", token), ("login", "auto")]).await;
        assert_eq!(response.status(), 422, "{token}");
        let html = response.text().await.unwrap();
        assert!(html.contains("Nothing was stored"), "{html}");
        assert!(html.contains(reason), "{reason}");
        assert!(!html.contains(token), "the refused token is not echoed");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM ig_accounts").await, 0);
}

#[tokio::test]
async fn a_database_dump_holds_no_token_in_plaintext() {
    let app = spawn_app().await;
    for index in [BAKERY, STUDIO, COVE] {
        app.connect(index).await;
    }
    app.run_sync().await;
    let output = Command::new("pg_dump").arg(&app.db.url).output().expect("pg_dump runs (scripts/test installs it)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let dump = String::from_utf8_lossy(&output.stdout);
    assert!(dump.contains("harbour.bakery"), "the dump has the data");
    for index in [BAKERY, STUDIO, COVE] {
        for token in app.sim.tokens_of(index) {
            assert!(!dump.contains(&token), "a token in the dump");
            assert!(!dump.contains(&hex::encode(&token)), "a token in the dump as bytea hex");
        }
    }
}

#[tokio::test]
async fn key_rotation_re_encrypts_every_token_and_the_old_key_opens_nothing() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.connect(STUDIO).await;
    let new_key = TokenKey::new([9u8; 32]);
    let mut conn = app.db.connect().await;
    let rotation = tidemark::services::keys::rotate_keys(&mut conn, &app.token_key, &new_key).await.unwrap();
    assert_eq!(rotation.rotated, 2);
    for account in Account::list(&mut conn).await.unwrap() {
        let t = &account.token().unwrap();
        let binding = token_binding(&account.ig_user_id);
        let opened = new_key.open(&t.ciphertext, &t.nonce, t.key_version, &binding).unwrap();
        assert!(app.sim.tokens_of(BAKERY).contains(&opened) || app.sim.tokens_of(STUDIO).contains(&opened));
        assert_eq!(
            app.token_key.open(&t.ciphertext, &t.nonce, t.key_version, &binding),
            Err(CipherError::WrongKey(new_key.version()))
        );
    }
    let again = tidemark::services::keys::rotate_keys(&mut conn, &app.token_key, &new_key).await.unwrap();
    assert_eq!(again.already_current, 2, "a second run changes nothing");
}

#[tokio::test]
async fn a_token_moved_to_another_account_does_not_decrypt() {
    let app = spawn_app().await;
    let bakery = app.connect(BAKERY).await;
    let cove = app.connect(COVE).await;
    let mut conn = app.db.connect().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query(format!(
        "UPDATE ig_accounts SET (token_ciphertext, token_nonce) = (SELECT token_ciphertext, token_nonce FROM ig_accounts WHERE id = {}) WHERE id = {}",
        bakery.id, cove.id
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let summary = app.run_sync().await;
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
    assert!(summary.errors[0].contains("@quiet.cove"));
    assert!(summary.errors[0].contains("does not decrypt"), "{}", summary.errors[0]);
    for token in app.sim.tokens_of(BAKERY) {
        assert!(!summary.errors[0].contains(&token));
    }
}

async fn rows_of(app: &TestApp, account: AccountId) -> i64 {
    let id = account.0;
    app.count(&format!(
        "SELECT (SELECT count(*) FROM posts WHERE account_id = {id}) \
         + (SELECT count(*) FROM post_snapshots s JOIN posts p ON p.id = s.post_id WHERE p.account_id = {id}) \
         + (SELECT count(*) FROM account_snapshots WHERE account_id = {id}) \
         + (SELECT count(*) FROM account_daily_insights WHERE account_id = {id}) \
         + (SELECT count(*) FROM sync_runs WHERE account_id = {id}) \
         + (SELECT count(*) FROM ig_accounts WHERE id = {id}) AS n"
    ))
    .await
}

#[tokio::test]
async fn deleting_an_account_states_what_goes_then_leaves_nothing_of_it() {
    let app = spawn_app().await;
    let cove = app.connect(COVE).await;
    let bakery = app.connect(BAKERY).await;
    app.run_sync().await;
    let admin = app.admin().await;
    let before = rows_of(&app, cove.id).await;
    assert!(before > 10);

    let confirm = app.get_text(&admin, &format!("/accounts/{}/delete", cove.id)).await;
    let posts = app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {}", cove.id)).await;
    assert!(confirm.contains(&format!("{posts} tracked post{}", if posts == 1 { "" } else { "s" })), "{confirm}");
    let path = format!("/accounts/{}/delete", cove.id);
    let response = app.post_form(&admin, &path, &path, &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(rows_of(&app, cove.id).await, 0);
    assert!(rows_of(&app, bakery.id).await > 0, "the other account is untouched");
    assert_eq!(app.get(&admin, &format!("/accounts/{}", cove.id)).await.status(), 404);
}

#[tokio::test]
async fn disabling_stops_polling_and_keeps_the_data() {
    let app = spawn_app().await;
    let cove = app.connect(COVE).await;
    app.run_sync().await;
    let admin = app.admin().await;
    let path = format!("/accounts/{}/disable", cove.id);
    assert_eq!(app.post_form(&admin, "/accounts", &path, &[]).await.status(), 303);
    assert_eq!(app.run_sync().await.accounts, 0);
    assert!(rows_of(&app, cove.id).await > 0);
    let path = format!("/accounts/{}/enable", cove.id);
    assert_eq!(app.post_form(&admin, "/accounts", &path, &[]).await.status(), 303);
    assert_eq!(app.run_sync().await.accounts, 1);
}

#[tokio::test]
async fn shortening_the_window_previews_what_goes_then_purges_it() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.run_sync().await;
    let admin = app.admin().await;
    let cutoff = (app.sim.now() - Duration::days(30)).to_rfc3339();
    let doomed = app.count(&format!("SELECT count(*) AS n FROM posts WHERE posted_at < '{cutoff}'")).await;
    let kept = app.count(&format!("SELECT count(*) AS n FROM posts WHERE posted_at >= '{cutoff}'")).await;
    assert!(doomed > 0 && kept > 0);

    let page = app.get_text(&admin, "/settings").await;
    let token = csrf_token_in(&page);
    let mut form = vec![
        ("csrf_token", token.as_str()),
        ("lookback_days", "30"),
        ("sync_schedule", "0 */15 * * * *"),
        ("timezone", "Europe/Berlin"),
        ("young_post_hours", "48"),
        ("young_every_minutes", "60"),
        ("middle_post_days", "7"),
        ("middle_every_minutes", "360"),
        ("old_every_minutes", "1440"),
        ("token_refresh_days", "7"),
        ("engagement_definition", "reach"),
        ("operator_contact", "Harbour Bakery Ltd"),
    ];
    let preview = admin.post(app.url("/settings")).form(&form).send().await.unwrap();
    assert_eq!(preview.status(), 200);
    let html = preview.text().await.unwrap();
    assert!(html.contains(&format!("<strong>{doomed} post{}</strong>", if doomed == 1 { "" } else { "s" })), "{html}");
    assert!(
        html.contains("name=\"operator_contact\" value=\"Harbour Bakery Ltd\""),
        "the confirmation carries every field, so confirming changes nothing else"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM posts").await, doomed + kept, "nothing deleted before confirming");

    form.push(("confirm", "yes"));
    let saved = admin.post(app.url("/settings")).form(&form).send().await.unwrap();
    assert_eq!(saved.status(), 303);
    assert_eq!(app.count("SELECT count(*) AS n FROM posts").await, kept);
    assert_eq!(app.count(&format!("SELECT count(*) AS n FROM posts WHERE posted_at < '{cutoff}'")).await, 0);
    let settings = app.get_text(&admin, "/settings").await;
    assert!(settings.contains("value=\"30\"") && settings.contains("Europe/Berlin"));
}

#[tokio::test]
async fn bad_settings_are_explained_and_nothing_is_saved() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = app
        .post_form(
            &admin,
            "/settings",
            "/settings",
            &[("lookback_days", "-5"), ("sync_schedule", "every minute"), ("timezone", "Nowhere/Land")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("Days of history must be a whole number from 1 to 3650."));
    assert!(html.contains("six-field cron expression"));
    assert!(html.contains("Choose a time zone from the list"));
    assert_eq!(app.count("SELECT count(*) AS n FROM settings WHERE lookback_days = 90").await, 1);
}

#[tokio::test]
async fn a_viewer_cannot_connect_sync_disable_delete_or_change_settings() {
    let app = spawn_app().await;
    let cove = app.connect(COVE).await;
    app.create_user("vera", Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    let page = app.get_text(&viewer, "/accounts").await;
    assert!(page.contains("@quiet.cove"), "a viewer sees the accounts");
    assert!(
        !page.contains("Connect an account") && !page.contains("Sync now") && !page.contains("Delete"),
        "but no controls"
    );
    let token = app.sim.token(BAKERY);
    let id = cove.id.0;
    for (path, fields) in [
        ("/accounts".to_owned(), vec![("token", token.as_str())]),
        (format!("/accounts/{id}/sync"), vec![]),
        (format!("/accounts/{id}/disable"), vec![]),
        (format!("/accounts/{id}/delete"), vec![]),
        ("/sync".to_owned(), vec![]),
        ("/settings".to_owned(), vec![("lookback_days", "1")]),
    ] {
        let response = app.post_form(&viewer, "/accounts", &path, &fields).await;
        assert_eq!(response.status(), 403, "{path}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM ig_accounts WHERE status = 'active'").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_runs").await, 0);
}

#[tokio::test]
async fn sync_now_runs_in_the_background_and_the_history_page_shows_the_outcome() {
    let app = spawn_app().await;
    app.connect(COVE).await;
    let admin = app.admin().await;
    let response = app.post_form(&admin, "/sync", "/sync", &[]).await;
    assert_eq!(response.status(), 303);
    let mut finished = false;
    for _ in 0..100 {
        if app.count("SELECT count(*) AS n FROM sync_runs WHERE outcome = 'success'").await == 1 {
            finished = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(finished, "the background sync finished");
    let page = app.get_text(&admin, "/sync").await;
    assert!(page.contains("@quiet.cove") && page.contains("success") && page.contains("manual"));
}

fn tidemark(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env("TIDEMARK_TOKEN_KEY", base64_of(&[5u8; 32]))
        .env("TIDEMARK_GRAPH_BASE_URL", app.sim.base_url())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn the_account_commands_connect_list_sync_and_delete() {
    let app = spawn_app().await;
    let token = app.sim.token(COVE);
    let (ok, out, err) = tidemark(&app, &["account", "add"], &format!("{token}\n"));
    assert!(ok, "{err}");
    assert!(out.contains("@quiet.cove"), "{out}");
    let id = out.split('\t').next().unwrap().trim().to_owned();

    let (ok, out, _) = tidemark(&app, &["account", "list"], "");
    assert!(ok);
    assert!(out.starts_with(&format!("{id}\t@quiet.cove\tactive")), "{out}");
    assert!(!out.contains(&token));

    let (ok, out, err) = tidemark(&app, &["sync", "--account", &id], "");
    assert!(ok, "{err}");
    assert!(out.contains("1 account(s)") && out.contains("snapshot(s) written"), "{out}");

    let (ok, _, err) = tidemark(&app, &["account", "add"], "IGAAgarbage\n");
    assert!(!ok);
    assert!(err.contains("Cannot parse access token"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    let (ok, _, err) = tidemark(&app, &["account", "delete", &id], "");
    assert!(!ok && err.contains("--yes"));
    let (ok, out, _) = tidemark(&app, &["account", "delete", &id, "--yes"], "");
    assert!(ok, "{out}");
    assert_eq!(app.count("SELECT count(*) AS n FROM posts").await, 0);
    let (ok, _, err) = tidemark(&app, &["account", "disable", "999"], "");
    assert!(!ok && err.contains("no account 999"));
}

#[tokio::test]
async fn the_disconnect_command_revokes_deletes_the_token_and_refuses_to_enable_what_has_no_token() {
    let app = spawn_app().await;
    let token = app.sim.token(STUDIO);
    let (ok, out, err) = tidemark(&app, &["account", "add"], &format!("{token}\n"));
    assert!(ok, "{err}");
    let id = out.split('\t').next().unwrap().trim().to_owned();

    let (ok, out, err) = tidemark(&app, &["account", "disconnect", &id], "");
    assert!(ok, "{err}");
    assert!(out.contains("disconnected") && out.contains("Meta removed Tidemark's access"), "{out}");
    let (_, list, _) = tidemark(&app, &["account", "list"], "");
    assert!(list.contains("\tdisconnected\t"), "{list}");
    assert_eq!(app.count("SELECT count(*) AS n FROM ig_accounts WHERE token_ciphertext IS NOT NULL").await, 0);

    let (ok, _, err) = tidemark(&app, &["account", "enable", &id], "");
    assert!(!ok && err.contains("connect it again"), "{err}");
    let (ok, _, err) = tidemark(&app, &["account", "disconnect", "999"], "");
    assert!(!ok && err.contains("no account 999"), "{err}");
}
