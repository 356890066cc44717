use crate::helpers::{PASSWORD, browser, csrf_token_in, spawn_app};

use tidemark::domain::Role;

#[tokio::test]
async fn hostile_form_input_gets_a_4xx_and_leaves_the_database_intact() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;
    let token = csrf_token_in(&app.get_text(&admin, "/users").await);

    let long = "a".repeat(10_000);
    let hostile_usernames = [
        long.as_str(),
        "x'); DROP TABLE users; --",
        "ada\" OR \"1\"=\"1",
        "<script>alert(1)</script>",
        "\u{0000}nul",
        "",
    ];
    for username in hostile_usernames {
        let form = [
            ("csrf_token", token.as_str()),
            ("username", username),
            ("role", "viewer"),
            ("password", "long enough pw"),
        ];
        let response = admin.post(app.url("/users")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 422, "username {:?}", &username[..username.len().min(30)]);
        let html = response.text().await.unwrap();
        assert!(!html.contains("<script>alert(1)</script>"), "typed text is escaped");
    }
    assert_eq!(app.user_count().await, 1);
    assert_eq!(app.get(&admin, "/users").await.status(), 200);
}

#[tokio::test]
async fn invalid_utf8_and_malformed_bodies_are_4xx_never_500() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;
    let token = csrf_token_in(&app.get_text(&admin, "/users").await);

    let bodies = [
        format!("csrf_token={token}&username=%FF%FE%FD&role=viewer&password=long+enough+pw"),
        format!("csrf_token={token}&username=bob&role=%C0%AF&password=%ED%A0%80%ED%B0%80xxxxxxxx"),
        format!("csrf_token={token}&username=bob"),
        format!("csrf_token={token}&%%%=&&&=="),
        format!("csrf_token={token}&username=bob&username=eve&role=viewer&password=long+enough+pw"),
    ];
    for body in bodies {
        let response = admin
            .post(app.url("/users"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{body}: {status}");
    }
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;
    let token = csrf_token_in(&app.get_text(&admin, "/users").await);
    let huge = "b".repeat(200_000);
    let form = [
        ("csrf_token", token.as_str()),
        ("username", huge.as_str()),
        ("role", "viewer"),
        ("password", "long enough pw"),
    ];
    let response = admin.post(app.url("/users")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 413);
    assert!(response.text().await.unwrap().contains("more data than Tidemark accepts"));
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn hostile_sign_in_attempts_are_answered_calmly_and_escaped() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let client = browser();
    for username in ["<script>alert(1)</script>", "' OR 1=1 --", &"z".repeat(5000)] {
        let response = app.login_with(&client, username, PASSWORD).await;
        assert_eq!(response.status(), 401);
        let html = response.text().await.unwrap();
        assert!(!html.contains("<script>alert(1)</script>"));
    }
    let malformed = client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=%FF&password=%FE")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 403, "no token: refused before anything else");
}

#[tokio::test]
async fn a_malformed_query_string_is_a_400_not_a_500() {
    let app = spawn_app().await;
    let response = reqwest::Client::new().get(app.url("/login?next=%FF%FE&next=x")).send().await.unwrap();
    assert!(response.status().is_client_error() || response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn odd_periods_and_filters_in_the_address_are_handled_not_crashed_on() {
    let app = spawn_app().await;
    app.connect(2).await;
    app.run_sync().await;
    let admin = app.admin().await;
    for path in [
        "/?from=0001-01-01&to=9999-12-31",
        "/?from=2200-12-31&to=1970-01-01",
        "/?days=4000000000",
        "/posts?page=-5&sort=nonsense&format=gif",
        "/posts?account=999999",
        "/hashtags?from=2026-02-30&to=2026-13-01",
        "/best-time?account=-1",
        "/accounts/1?days=365&sort=impact&format=reel",
        // What the filter forms send with "all" chosen.
        "/posts?from=2026-11-01&to=2026-11-30&account=&format=&sort=newest",
        "/hashtags?from=2026-11-01&to=2026-11-30&account=",
        "/best-time?from=2026-11-01&to=2026-11-30&account=",
        "/export/posts.csv?account=&format=&sort=newest",
        "/posts?page=&days=",
    ] {
        let status = app.get(&admin, path).await.status();
        assert_eq!(status, 200, "{path}");
    }
    for path in ["/?days=abc", "/posts?page=1.5", "/export/chart.csv?chart=x&account=abc"] {
        let status = app.get(&admin, path).await.status();
        assert_eq!(status, 400, "{path}");
    }
}
