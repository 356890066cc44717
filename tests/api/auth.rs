use crate::helpers::{AppOptions, PASSWORD, browser, csrf_token_in, location, spawn_app, spawn_app_with};

use tidemark::domain::Role;

#[tokio::test]
async fn a_user_signs_in_with_the_right_password_and_sees_the_dashboard() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let client = browser();

    let response = app.login_with(&client, "Ada", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/");

    let dashboard = app.get(&client, "/").await;
    assert_eq!(dashboard.status(), 200);
    let html = dashboard.text().await.unwrap();
    assert!(html.contains("posts tracked"));
    assert!(html.contains(">ada</a>"), "the navigation names the user");
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;

    let wrong_password = app.login_with(&browser(), "ada", "not the password").await;
    let unknown_user = app.login_with(&browser(), "nobody", PASSWORD).await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_user.status(), 401);
    // Both renew the browser's sign-in cookie (a random id, no user) alike; neither starts a session.
    assert_eq!(
        wrong_password.headers().get("set-cookie").is_some(),
        unknown_user.headers().get("set-cookie").is_some()
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM sessions").await, 0);
    let a = wrong_password.text().await.unwrap();
    let b = unknown_user.text().await.unwrap();
    assert!(a.contains("Wrong username or password."));
    assert!(b.contains("Wrong username or password."));
}

#[tokio::test]
async fn a_password_longer_than_bcrypt_reads_is_refused_even_if_its_start_matches() {
    let app = spawn_app().await;
    // A stored password of exactly 72 bytes, the most bcrypt reads.
    let exact = "p".repeat(72);
    let hash = bcrypt::hash(&exact, 4).unwrap();
    let mut conn = app.db.connect().await;
    let new =
        tidemark::db::users::NewUser { username: "ada", role: tidemark::domain::Role::Admin, password_hash: &hash };
    tidemark::db::users::User::create(&mut conn, &new).await.unwrap().unwrap();
    assert_eq!(app.login_with(&browser(), "ada", &exact).await.status(), 303);
    // bcrypt alone would accept this: it ignores everything past byte 72.
    let longer = format!("{exact}and more");
    assert!(bcrypt::verify(&longer, &hash).unwrap(), "bcrypt truncates");
    assert_eq!(app.login_with(&browser(), "ada", &longer).await.status(), 401);
}

#[tokio::test]
async fn the_session_cookie_is_the_only_cookie_and_is_http_only_and_same_site() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let client = browser();
    for path in ["/privacy", "/healthz"] {
        let page = app.get(&client, path).await;
        assert!(page.headers().get_all("set-cookie").iter().next().is_none(), "{path} sets no cookie");
    }
    // The sign-in page puts its form's id in that same cookie; it signs nobody in.
    let login_page = app.get(&client, "/login").await;
    let set: Vec<String> =
        login_page.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert_eq!(set.len(), 1, "{set:?}");
    assert!(set[0].starts_with("tidemark_session=ey") && set[0].contains("HttpOnly"), "{set:?}");
    assert_eq!(app.get(&client, "/").await.status(), 303, "a sign-in form's cookie is no session");

    let response = app.login_with(&client, "ada", PASSWORD).await;
    let cookies: Vec<String> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(cookie.starts_with("tidemark_session=ey"), "a JWT: {cookie}");
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Path=/"));
    assert!(cookie.contains("Max-Age="));
    assert!(!cookie.contains("Secure"), "not Secure when configured off (loopback)");

    for path in ["/", "/me", "/users"] {
        let page = app.get(&client, path).await;
        assert!(page.headers().get_all("set-cookie").iter().next().is_none(), "{path} sets no cookie");
    }
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_configured() {
    let app = spawn_app_with(AppOptions { cookie_secure: true, ..AppOptions::default() }).await;
    app.create_user("ada", Role::Admin).await;
    let response = app.login_with(&browser(), "ada", PASSWORD).await;
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.starts_with("__Host-tidemark_session="), "the __Host- prefix with Secure: {cookie}");
    assert!(!cookie.contains("Domain="), "host-only");
    let hsts = response.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(hsts.as_deref(), Some("max-age=31536000; includeSubDomains"), "HSTS when served over HTTPS");
    let plain = spawn_app().await;
    let answer = plain.get(&browser(), "/login").await;
    assert!(answer.headers().get("strict-transport-security").is_none(), "not over plain HTTP");
}

#[tokio::test]
async fn signing_out_clears_the_cookie_and_ends_access() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let client = app.signed_in("ada").await;

    let response = app.post_form(&client, "/", "/logout", &[]).await;
    assert_eq!(response.status(), 303);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("tidemark_session=;"), "{cookie}");
    assert_eq!(app.get(&client, "/").await.status(), 303);
}

#[tokio::test]
async fn a_forged_or_tampered_session_token_is_not_accepted() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let response = app.login_with(&browser(), "ada", PASSWORD).await;
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    let token = cookie.split(';').next().unwrap().trim_start_matches("tidemark_session=");
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[2] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let forged = parts.join(".");

    let client = reqwest::Client::new();
    let response =
        client.get(app.url("/")).header("cookie", format!("tidemark_session={forged}")).send().await.unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn changing_the_password_ends_the_users_other_sessions() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let laptop = app.signed_in("ada").await;
    let phone = app.signed_in("ada").await;

    let response = app
        .post_form(
            &laptop,
            "/me",
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);

    assert_eq!(app.get(&laptop, "/").await.status(), 200, "the browser that changed it stays signed in");
    assert_eq!(app.get(&phone, "/").await.status(), 303, "every other session ended");
    assert_eq!(app.login_with(&browser(), "ada", "a brand new passphrase").await.status(), 303);
    assert_eq!(app.login_with(&browser(), "ada", PASSWORD).await.status(), 401);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_a_matching_confirmation() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let client = app.signed_in("ada").await;
    let fields = |current: &'static str, new: &'static str, confirm: &'static str| {
        [("current_password", current), ("new_password", new), ("confirm_password", confirm)]
    };

    let wrong_current = app
        .post_form(
            &client,
            "/me",
            "/me/password",
            &fields("nope nope nope", "a brand new passphrase", "a brand new passphrase"),
        )
        .await;
    assert_eq!(wrong_current.status(), 422);
    assert!(wrong_current.text().await.unwrap().contains("current password is not right"));

    let mismatch = app
        .post_form(&client, "/me", "/me/password", &fields(PASSWORD, "a brand new passphrase", "another passphrase"))
        .await;
    assert_eq!(mismatch.status(), 422);

    let weak = app.post_form(&client, "/me", "/me/password", &fields(PASSWORD, "short", "short")).await;
    assert_eq!(weak.status(), 422);
    assert!(weak.text().await.unwrap().contains("at least 12 characters"));

    assert_eq!(app.login_with(&browser(), "ada", PASSWORD).await.status(), 303, "password unchanged");
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let laptop = app.signed_in("ada").await;
    let phone = app.signed_in("ada").await;

    let response = app.post_form(&laptop, "/me", "/me/sign-out-everywhere", &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.get(&laptop, "/").await.status(), 303);
    assert_eq!(app.get(&phone, "/").await.status(), 303);
}

#[tokio::test]
async fn deleting_a_user_ends_their_session_at_once() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let bob_id = app.create_user("bob", Role::Viewer).await;
    let admin = app.signed_in("ada").await;
    let bob = app.signed_in("bob").await;
    assert_eq!(app.get(&bob, "/").await.status(), 200);

    let response = app.post_form(&admin, "/users", &format!("/users/{bob_id}/delete"), &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.get(&bob, "/").await.status(), 303);
}

#[tokio::test]
async fn repeated_failures_for_one_username_are_throttled() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    for _ in 0..5 {
        assert_eq!(app.login_with(&browser(), "ada", "wrong password!").await.status(), 401);
    }
    // Even the right password is refused while locked.
    let locked = app.login_with(&browser(), "ada", PASSWORD).await;
    assert_eq!(locked.status(), 429);
    assert!(locked.text().await.unwrap().contains("Too many failed sign-in attempts"));
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_throttled_across_usernames() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    for n in 0..20 {
        let status = app.login_with(&browser(), &format!("guess{n}"), "wrong password!").await.status();
        assert_eq!(status, 401);
    }
    assert_eq!(app.login_with(&browser(), "ada", PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn after_sign_in_the_user_returns_to_the_page_they_asked_for_but_never_off_site() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let client = browser();
    let response = app.get(&client, "/users").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?next=%2Fusers");

    let page = app.get_text(&client, "/login?next=%2Fusers").await;
    let token = crate::helpers::csrf_token_in(&page);
    let form = [("csrf_token", token.as_str()), ("username", "ada"), ("password", PASSWORD), ("next", "/users")];
    let response = client.post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(location(&response), "/users");

    let client = browser();
    let page = app.get_text(&client, "/login").await;
    let token = crate::helpers::csrf_token_in(&page);
    let form =
        [("csrf_token", token.as_str()), ("username", "ada"), ("password", PASSWORD), ("next", "//evil.example/")];
    let response = client.post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(location(&response), "/");
}

#[tokio::test]
async fn a_failed_sign_in_renews_the_sign_in_cookie_with_its_retry_form() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Viewer).await;
    let client = browser();
    let wrong = app.login_with(&client, "ada", "not the password").await;
    assert_eq!(wrong.status(), 401);
    // The retry form's token lives a full period, and so does the cookie holding its id:
    // a user who retries much later is not refused for an expired cookie.
    let cookie = wrong
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tidemark_session="))
        .expect("the retry renews the sign-in cookie")
        .to_owned();
    let max_age: i64 = cookie
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Max-Age="))
        .and_then(|v| v.parse().ok())
        .expect("a Max-Age");
    assert!(max_age >= tidemark::auth::csrf::LOGIN_TOKEN_SECS - 5, "{cookie}");
    let retry = csrf_token_in(&wrong.text().await.unwrap());
    let right = client
        .post(app.url("/login"))
        .form(&[("csrf_token", retry.as_str()), ("username", "ada"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
}

#[tokio::test]
async fn an_old_cookie_sent_again_and_again_is_renewed_each_time_but_its_session_row_written_once_a_minute() {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Session {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        user_id: i64,
    }
    let app = spawn_app().await;
    app.create_user("ana", Role::Admin).await;
    app.signed_in("ana").await;
    let mut conn = app.db.connect().await;
    let session: Session = diesel::sql_query("SELECT id, user_id FROM sessions").get_result(&mut conn).await.unwrap();
    // A script holding the cookie it was given two minutes ago, which never takes a new one.
    let two_minutes_ago = chrono::Utc::now().timestamp() - 120;
    let claims = tidemark::auth::session::Claims {
        sub: session.user_id.to_string(),
        ver: app.count("SELECT session_version::bigint AS n FROM users WHERE username = 'ana'").await as i32,
        sid: session.id,
        auth: two_minutes_ago,
        iat: two_minutes_ago,
        exp: two_minutes_ago + 3600,
    };
    let old = app.session_keys().cookie(&claims);
    let script = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    diesel::sql_query("UPDATE sessions SET last_seen_at = now() - interval '5 minutes'")
        .execute(&mut conn)
        .await
        .unwrap();
    let seen = "SELECT (extract(epoch FROM last_seen_at) * 1000000)::bigint AS n FROM sessions";
    let before = app.count(seen).await;

    let mut marked = Vec::new();
    for _ in 0..3 {
        let response = script
            .get(app.url("/"))
            .header(reqwest::header::COOKIE, format!("{}={}", old.name(), old.value()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "the old cookie still holds a session");
        let renewed = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().starts_with(&format!("{}=", old.name())));
        assert!(renewed, "a renewed cookie every time");
        marked.push(app.count(seen).await);
    }
    assert!(marked[0] > before, "the first request marks the session as used");
    assert_eq!(marked[1], marked[0], "the next ones within the minute do not write it again");
    assert_eq!(marked[2], marked[0]);
}
