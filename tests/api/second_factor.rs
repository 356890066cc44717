//! The second factor: setting it up, the code step of sign-in, replayed and recovery codes,
//! throttling, and the rule that once one admin has one every admin needs one.

use reqwest::Client;
use tidemark::domain::{Role, UserId};
use totp_rs::{Algorithm, Builder, Secret};

use crate::helpers::{PASSWORD, TestApp, browser, csrf_token_in, location, spawn_app};

/// The secret in the `otpauth://` URI the account page shows.
pub fn secret_in(page: &str) -> Vec<u8> {
    let start = page.find("otpauth://totp/").expect("the page shows an otpauth URI");
    let uri = &page[start..];
    let secret = uri.split("secret=").nth(1).expect("the URI has a secret");
    let secret: String = secret.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    Secret::try_from_base32(&secret).expect("base-32 secret").as_bytes().to_vec()
}

/// The code an authenticator app shows `offset` seconds from now.
pub fn code(secret: &[u8], offset: i64) -> String {
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .build()
        .unwrap();
    let at = chrono::Utc::now().timestamp() + offset;
    totp.generate(u64::try_from(at).unwrap()).to_string()
}

/// The recovery codes on the page shown after turning the second factor on.
fn recovery_codes_in(page: &str) -> Vec<String> {
    page.split("<li><code>").skip(1).map(|part| part.split("</code>").next().unwrap().to_owned()).collect()
}

/// Sets up a second factor for the signed-in `client`; returns the secret and recovery codes.
async fn turn_on(app: &TestApp, client: &Client) -> (Vec<u8>, Vec<String>) {
    let secret = secret_in(&app.get_text(client, "/me").await);
    let response = app
        .post_form(client, "/me", "/me/second-factor", &[("code", &code(&secret, 0)), ("current_password", PASSWORD)])
        .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    let codes = recovery_codes_in(&page);
    assert_eq!(codes.len(), 10, "ten recovery codes are shown");
    (secret, codes)
}

/// Signs in with the password; returns the browser, waiting for its code.
async fn password_step(app: &TestApp, username: &str) -> Client {
    let client = browser();
    let response = app.login_with(&client, username, PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login/code", "the code is asked for next");
    client
}

async fn send_code(app: &TestApp, client: &Client, code: &str) -> reqwest::Response {
    app.post_form(client, "/login/code", "/login/code", &[("code", code)]).await
}

async fn sessions_of(app: &TestApp, user: UserId) -> i64 {
    app.count(&format!("SELECT count(*) AS n FROM sessions WHERE user_id = {}", user.0)).await
}

#[tokio::test]
async fn setting_up_shows_a_qr_code_and_only_a_right_code_turns_it_on() {
    let app = spawn_app().await;
    let ada = app.create_user("ada", Role::Viewer).await;
    let client = app.signed_in("ada").await;

    let page = app.get_text(&client, "/me").await;
    assert!(page.contains("<img class=\"qr\" src=\"data:image/svg+xml;base64,"), "a QR code drawn as SVG");
    assert!(page.contains("otpauth://totp/Tidemark:ada"), "the otpauth URI in text");
    let secret = secret_in(&page);
    assert_eq!(secret.len(), 20, "a 160-bit secret");
    assert_eq!(secret_in(&app.get_text(&client, "/me").await), secret, "the same secret until it is confirmed");

    let wrong =
        app.post_form(&client, "/me", "/me/second-factor", &[("code", "000000"), ("current_password", PASSWORD)]).await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("That code is not right"));
    assert_eq!(app.count("SELECT count(*) AS n FROM users WHERE totp_enabled_at IS NOT NULL").await, 0);

    let no_password = app
        .post_form(&client, "/me", "/me/second-factor", &[("code", &code(&secret, 0)), ("current_password", "guess")])
        .await;
    assert_eq!(no_password.status(), 422, "a change to how one signs in asks for the password");
    assert_eq!(app.count("SELECT count(*) AS n FROM users WHERE totp_enabled_at IS NOT NULL").await, 0);
    let right = app
        .post_form(&client, "/me", "/me/second-factor", &[("code", &code(&secret, 0)), ("current_password", PASSWORD)])
        .await;
    assert_eq!(right.status(), 200);
    assert_eq!(right.headers()["cache-control"], "no-store", "recovery codes are never cached");
    let codes = recovery_codes_in(&right.text().await.unwrap());
    assert_eq!(codes.len(), 10);
    assert_eq!(
        app.count(&format!("SELECT count(*) AS n FROM users WHERE id = {} AND totp_enabled_at IS NOT NULL", ada.0))
            .await,
        1
    );
    // Only hashes are stored, and the secret only sealed.
    assert_eq!(app.count("SELECT count(*) AS n FROM recovery_codes WHERE length(code_hash) = 32").await, 10);
    let hex_secret = hex::encode(&secret);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM users WHERE position('\\x{hex_secret}'::bytea IN totp_ciphertext) > 0 \
             OR position(convert_to('{hex_secret}', 'UTF8') IN totp_ciphertext) > 0"
        ))
        .await,
        0,
        "the secret is stored encrypted"
    );
    let me = app.get_text(&client, "/me").await;
    assert!(me.contains("On</strong> since") && me.contains("<strong>10</strong> of 10 recovery codes left"));
    assert!(!me.contains("otpauth://"), "a secret in use is never shown again");
}

#[tokio::test]
async fn a_session_starts_only_after_the_right_code() {
    let app = spawn_app().await;
    let ada = app.create_user("ada", Role::Admin).await;
    let (secret, _) = turn_on(&app, &app.signed_in("ada").await).await;
    app.count("WITH d AS (DELETE FROM sessions RETURNING 1) SELECT count(*) AS n FROM d").await;

    let client = password_step(&app, "ada").await;
    assert_eq!(sessions_of(&app, ada).await, 0, "no session after the password alone");
    assert_eq!(location(&app.get(&client, "/").await), "/login", "the dashboard still asks to sign in");
    let form = app.get_text(&client, "/login/code").await;
    assert!(form.contains("name=\"code\"") && form.contains("autocomplete=\"one-time-code\""));

    let wrong = send_code(&app, &client, "123456").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("4 more tries"));
    assert_eq!(sessions_of(&app, ada).await, 0);

    // The next step's code (the set-up used this step's).
    let right = send_code(&app, &client, &code(&secret, 30)).await;
    assert_eq!(right.status(), 303);
    assert_eq!(location(&right), "/");
    assert_eq!(sessions_of(&app, ada).await, 1);
    assert_eq!(app.get(&client, "/").await.status(), 200);
    assert_eq!(app.count("SELECT count(*) AS n FROM sign_in_challenges").await, 0, "the waiting sign-in is over");
}

#[tokio::test]
async fn a_code_is_accepted_once() {
    let app = spawn_app().await;
    let ada = app.create_user("ada", Role::Viewer).await;
    let (secret, _) = turn_on(&app, &app.signed_in("ada").await).await;
    let next = code(&secret, 30);
    let first = password_step(&app, "ada").await;
    assert_eq!(send_code(&app, &first, &next).await.status(), 303);

    // Someone who watched the code being typed tries it within its 30 seconds.
    let second = password_step(&app, "ada").await;
    let replay = send_code(&app, &second, &next).await;
    assert_eq!(replay.status(), 401, "a used code is refused");
    assert_eq!(sessions_of(&app, ada).await, 2, "the set-up's session and the first sign-in only");
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_in_place_of_the_app() {
    let app = spawn_app().await;
    let ada = app.create_user("ada", Role::Viewer).await;
    let (_, codes) = turn_on(&app, &app.signed_in("ada").await).await;

    let client = password_step(&app, "ada").await;
    // Typed as people do: upper case, spaces for dashes.
    let typed = codes[3].to_uppercase().replace('-', " ");
    assert_eq!(send_code(&app, &client, &typed).await.status(), 303);
    assert_eq!(app.count("SELECT count(*) AS n FROM recovery_codes").await, 9);

    let again = password_step(&app, "ada").await;
    assert_eq!(send_code(&app, &again, &codes[3]).await.status(), 401, "a used recovery code is refused");
    assert_eq!(sessions_of(&app, ada).await, 2);
    let me = app.get_text(&client, "/me").await;
    assert!(me.contains("<strong>9</strong> of 10 recovery codes left"));
}

#[tokio::test]
async fn wrong_codes_end_the_sign_in_then_lock_the_code_step() {
    let app = spawn_app().await;
    let ada = app.create_user("ada", Role::Viewer).await;
    let (secret, _) = turn_on(&app, &app.signed_in("ada").await).await;

    let client = password_step(&app, "ada").await;
    for _ in 0..4 {
        assert_eq!(send_code(&app, &client, "000000").await.status(), 401);
    }
    let fifth = send_code(&app, &client, "000000").await;
    assert_eq!(fifth.status(), 303);
    assert_eq!(location(&fifth), "/login?notice=sign-in-ended", "back to the password");
    assert_eq!(location(&app.get(&client, "/login/code").await), "/login?notice=sign-in-ended");

    // Five more in a new sign-in: ten wrong codes for this user lock the code step, so even
    // the right code waits.
    let client = password_step(&app, "ada").await;
    for _ in 0..4 {
        assert_eq!(send_code(&app, &client, "000000").await.status(), 401);
    }
    let client = password_step_after_end(&app, &client).await;
    let locked = send_code(&app, &client, &code(&secret, 30)).await;
    assert_eq!(locked.status(), 429);
    assert!(locked.text().await.unwrap().contains("Too many wrong codes"));
    assert_eq!(sessions_of(&app, ada).await, 1, "only the set-up's session");
}

/// Ends the sign-in with its fifth wrong code and signs in with the password again.
async fn password_step_after_end(app: &TestApp, client: &Client) -> Client {
    let fifth = send_code(app, client, "000000").await;
    assert_eq!(location(&fifth), "/login?notice=sign-in-ended");
    password_step(app, "ada").await
}

#[tokio::test]
async fn a_code_form_without_a_waiting_sign_in_starts_nothing() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Viewer).await;
    let client = browser();
    let token = csrf_token_in(&app.get_text(&client, "/login").await);
    let response = client
        .post(app.url("/login/code"))
        .form(&[("csrf_token", token.as_str()), ("code", "123456")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?notice=sign-in-ended");
    assert_eq!(app.count("SELECT count(*) AS n FROM sessions").await, 0);
}

#[tokio::test]
async fn once_one_admin_has_a_second_factor_every_admin_must_set_one_up() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    app.create_user("bob", Role::Admin).await;
    app.create_user("val", Role::Viewer).await;
    let bob = app.signed_in("bob").await;
    assert_eq!(app.get(&bob, "/").await.status(), 200, "not required before any admin has one");

    let ada = app.signed_in("ada").await;
    turn_on(&app, &ada).await;

    let home = app.get(&bob, "/").await;
    assert_eq!(home.status(), 303);
    assert_eq!(location(&home), "/me?notice=second-factor-required#two-step");
    let me = app.get_text(&bob, "/me").await;
    assert!(me.contains("Required:") && me.contains("otpauth://"));
    let add = app
        .post_form(
            &bob,
            "/me",
            "/users",
            &[("username", "eve"), ("role", "admin"), ("password", "a quiet tidal lagoon")],
        )
        .await;
    assert_eq!(add.status(), 303, "no admin change before the set-up");
    assert_eq!(app.count("SELECT count(*) AS n FROM users WHERE username = 'eve'").await, 0);
    let script = bob.get(app.url("/accounts")).header("accept", "application/json").send().await.unwrap();
    assert_eq!(script.status(), 403);

    let val = app.signed_in("val").await;
    assert_eq!(app.get(&val, "/").await.status(), 200, "viewers choose for themselves");

    turn_on(&app, &bob).await;
    assert_eq!(app.get(&bob, "/").await.status(), 200, "set up, bob may go on");

    // An admin cannot turn theirs off while the rule holds.
    let off = app.post_form(&ada, "/me", "/me/second-factor/off", &[("current_password", PASSWORD)]).await;
    assert_eq!(off.status(), 409);
    assert_eq!(app.count("SELECT count(*) AS n FROM users WHERE totp_enabled_at IS NOT NULL").await, 2);
}

#[tokio::test]
async fn the_operator_can_require_a_second_factor_of_everyone() {
    let app = spawn_app().await;
    app.create_user("val", Role::Viewer).await;
    let val = app.signed_in("val").await;
    turn_on(&app, &val).await;
    app.create_user("vic", Role::Viewer).await;
    let vic = app.signed_in("vic").await;
    assert_eq!(app.get(&vic, "/").await.status(), 200);

    // An admin ticks the box on the Settings page.
    let admin = app.admin().await;
    let settings = [
        ("lookback_days", "90"),
        ("sync_schedule", "0 */15 * * * *"),
        ("timezone", "UTC"),
        ("young_post_hours", "48"),
        ("young_every_minutes", "60"),
        ("middle_post_days", "7"),
        ("middle_every_minutes", "360"),
        ("old_every_minutes", "1440"),
        ("token_refresh_days", "7"),
        ("engagement_definition", "reach"),
        ("second_factor_for_everyone", "on"),
    ];
    let saved = app.post_form(&admin, "/settings", "/settings", &settings).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(app.count("SELECT count(*) AS n FROM settings WHERE second_factor_for_everyone").await, 1);
    assert_eq!(location(&app.get(&admin, "/").await), "/me?notice=second-factor-required#two-step");
    let home = app.get(&vic, "/").await;
    assert_eq!(location(&home), "/me?notice=second-factor-required#two-step", "a viewer without one sets it up first");
    let off = app.post_form(&val, "/me", "/me/second-factor/off", &[("current_password", PASSWORD)]).await;
    assert_eq!(off.status(), 409, "and nobody turns theirs off");
    turn_on(&app, &vic).await;
    assert_eq!(app.get(&vic, "/").await.status(), 200);
}

#[tokio::test]
async fn a_viewer_turns_it_off_with_their_password() {
    let app = spawn_app().await;
    app.create_user("val", Role::Viewer).await;
    let client = app.signed_in("val").await;
    turn_on(&app, &client).await;

    let wrong =
        app.post_form(&client, "/me", "/me/second-factor/off", &[("current_password", "not my password")]).await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(app.count("SELECT count(*) AS n FROM users WHERE totp_enabled_at IS NOT NULL").await, 1);

    let off = app.post_form(&client, "/me", "/me/second-factor/off", &[("current_password", PASSWORD)]).await;
    assert_eq!(location(&off), "/me?notice=second-factor-off");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE totp_enabled_at IS NOT NULL OR totp_ciphertext IS NOT NULL")
            .await,
        0
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM recovery_codes").await, 0);
    assert_eq!(app.signed_in("val").await.get(app.url("/")).send().await.unwrap().status(), 200, "password only again");
}

#[tokio::test]
async fn new_recovery_codes_replace_the_old_ones() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Viewer).await;
    let client = app.signed_in("ada").await;
    let (_, old) = turn_on(&app, &client).await;
    let response =
        app.post_form(&client, "/me", "/me/second-factor/recovery-codes", &[("current_password", PASSWORD)]).await;
    assert_eq!(response.status(), 200);
    let new = recovery_codes_in(&response.text().await.unwrap());
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|code| !old.contains(code)));
    let waiting = password_step(&app, "ada").await;
    assert_eq!(send_code(&app, &waiting, &old[0]).await.status(), 401, "an old code no longer works");
    assert_eq!(send_code(&app, &waiting, &new[0]).await.status(), 303);
}

#[tokio::test]
async fn moving_to_another_app_keeps_the_old_one_until_the_new_one_is_confirmed() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Viewer).await;
    let client = app.signed_in("ada").await;
    let (old_secret, _) = turn_on(&app, &client).await;
    let start = app.post_form(&client, "/me", "/me/second-factor/replace", &[("current_password", PASSWORD)]).await;
    assert_eq!(location(&start), "/me?notice=authenticator-replacing#two-step");
    let new_secret = secret_in(&app.get_text(&client, "/me").await);
    assert_ne!(new_secret, old_secret);

    // Not confirmed yet: the old app still signs in.
    let waiting = password_step(&app, "ada").await;
    assert_eq!(send_code(&app, &waiting, &code(&old_secret, 30)).await.status(), 303);

    let confirm = app
        .post_form(
            &client,
            "/me",
            "/me/second-factor",
            &[("code", &code(&new_secret, 0)), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(confirm.status(), 200);
    // The new secret's steps start over: its next code signs in, the old app's does not.
    let waiting = password_step(&app, "ada").await;
    assert_eq!(send_code(&app, &waiting, &code(&old_secret, 30)).await.status(), 401);
    assert_eq!(send_code(&app, &waiting, &code(&new_secret, 30)).await.status(), 303);
}

#[tokio::test]
async fn an_admin_removes_a_lost_second_factor_of_someone_else_only() {
    let app = spawn_app().await;
    let val = app.create_user("val", Role::Viewer).await;
    turn_on(&app, &app.signed_in("val").await).await;
    let admin = app.admin().await;

    let waiting = password_step(&app, "val").await;
    let token = csrf_token_in(&app.get_text(&waiting, "/login/code").await);
    let list = app.get_text(&admin, "/users").await;
    assert!(list.contains("Remove the second factor of val"));
    let reset = app.post_form(&admin, "/users", &format!("/users/{}/second-factor/reset", val.0), &[]).await;
    assert_eq!(location(&reset), "/users?notice=second-factor-reset");
    let ended = waiting
        .post(app.url("/login/code"))
        .form(&[("csrf_token", token.as_str()), ("code", "123456")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&ended), "/login?notice=sign-in-ended", "a sign-in waiting for a removed factor ends");
    assert_eq!(app.count("SELECT count(*) AS n FROM users WHERE totp_enabled_at IS NOT NULL").await, 0);
    assert_eq!(app.signed_in("val").await.get(app.url("/")).send().await.unwrap().status(), 200);

    let admin_id = app.count("SELECT id AS n FROM users WHERE username = 'root.admin'").await;
    let own = app.post_form(&admin, "/users", &format!("/users/{admin_id}/second-factor/reset"), &[]).await;
    assert_eq!(own.status(), 409, "an admin's own is changed on their account page, under the rule");
}

#[tokio::test]
async fn key_rotation_re_seals_second_factor_secrets() {
    let app = spawn_app().await;
    let ada = app.create_user("ada", Role::Viewer).await;
    let (secret, _) = turn_on(&app, &app.signed_in("ada").await).await;
    let mut conn = app.db.connect().await;
    let new_key = tidemark::crypto::TokenKey::new([9u8; 32]);
    let rotation = tidemark::services::keys::rotate_keys(&mut conn, &app.token_key, &new_key).await.unwrap();
    assert_eq!(rotation.second_factors, 1);

    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use tidemark::db::schema::users;
    let (ciphertext, nonce, version): (Option<Vec<u8>>, Option<Vec<u8>>, Option<i32>) = users::table
        .find(ada)
        .select((users::totp_ciphertext, users::totp_nonce, users::totp_key_version))
        .first(&mut conn)
        .await
        .unwrap();
    let (ciphertext, nonce, version) = (ciphertext.unwrap(), nonce.unwrap(), version.unwrap());
    let binding = format!("tidemark-totp:{}", ada.0).into_bytes();
    let opened = new_key.open(&ciphertext, &nonce, version, &binding).unwrap();
    assert_eq!(opened, hex::encode(&secret));
    assert!(app.token_key.open(&ciphertext, &nonce, version, &binding).is_err(), "the old key opens nothing");
}

#[tokio::test]
async fn the_command_line_removes_a_lost_second_factor() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    turn_on(&app, &app.signed_in("ada").await).await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args(["user", "reset-second-factor", "--username", "ada"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("removed the second factor of ada"));
    assert_eq!(app.count("SELECT count(*) AS n FROM users WHERE totp_enabled_at IS NOT NULL").await, 0);

    let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args(["user", "reset-second-factor", "--username", "nobody"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert_eq!(String::from_utf8_lossy(&unknown.stderr).trim().lines().count(), 1, "one line");
}
