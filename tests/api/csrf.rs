use tidemark::domain::Role;
use tidemark::routes::{CsrfCheck, ROUTE_TABLE};

use crate::helpers::{PASSWORD, browser, csrf_token_in, spawn_app};

#[test]
fn every_state_changing_route_declares_the_csrf_check_and_no_safe_route_changes_state() {
    for route in ROUTE_TABLE {
        match route.method {
            // Meta's dialog sends the browser back with a GET; its single-use state is the check.
            "GET" if route.path.ends_with("/callback") => {
                assert_eq!(route.csrf, CsrfCheck::OAuthState, "GET {}", route.path)
            }
            "GET" => assert_eq!(route.csrf, CsrfCheck::Safe, "GET {} must not change state", route.path),
            // Meta posts these, signed with the app secret; no browser form reaches them.
            _ if route.path.starts_with("/meta/") => {
                assert_eq!(route.csrf, CsrfCheck::MetaSignature, "{} {}", route.method, route.path)
            }
            // The API's changes are authorised by their bearer token alone, never a cookie.
            _ if route.path.starts_with("/api/") => {
                assert_eq!(route.csrf, CsrfCheck::Bearer, "{} {}", route.method, route.path);
                assert_eq!(route.access, tidemark::routes::Access::ApiWrite, "{} {}", route.method, route.path);
            }
            // The composer sends files: its token is the multipart form's first field.
            "POST" if route.path == "/planner" => assert_eq!(route.csrf, CsrfCheck::Upload),
            _ => assert_eq!(route.csrf, CsrfCheck::Form, "{} {} changes state", route.method, route.path),
        }
    }
}

#[test]
fn the_route_table_lists_each_route_once() {
    let mut seen = std::collections::HashSet::new();
    for route in ROUTE_TABLE {
        assert!(seen.insert((route.method, route.path)), "{} {} is declared twice", route.method, route.path);
    }
}

#[tokio::test]
async fn every_form_rejects_a_missing_or_wrong_csrf_token() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let target = app.create_user("bob", Role::Viewer).await;
    let admin = app.signed_in("ada").await;
    let other_session = app.signed_in("ada").await;
    let foreign_token = csrf_token_in(&app.get_text(&other_session, "/me").await);

    let posts: Vec<_> = ROUTE_TABLE
        .iter()
        .filter(|r| matches!(r.csrf, CsrfCheck::Form | CsrfCheck::Upload) && r.path != "/login")
        .collect();
    assert!(posts.len() >= 10, "the forms of the table are found");
    for route in posts {
        let path = route.path.replace("{id}", &target.0.to_string());
        let fields = [("role", "admin"), ("password", "a perfectly good password"), ("username", "mallory")];
        let missing = admin.post(app.url(&path)).form(&fields).send().await.unwrap();
        assert_eq!(missing.status(), 403, "POST {path} without a token");
        assert!(missing.text().await.unwrap().contains("security token"));

        let mut with_foreign = vec![("csrf_token", foreign_token.as_str())];
        with_foreign.extend_from_slice(&fields);
        let wrong = admin.post(app.url(&path)).form(&with_foreign).send().await.unwrap();
        assert_eq!(wrong.status(), 403, "POST {path} with another session's token");
    }
    assert_eq!(app.user_count().await, 2);
    assert_eq!(app.get(&admin, "/").await.status(), 200, "still signed in: logout was refused too");
}

#[tokio::test]
async fn the_sign_in_form_needs_its_token() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let client = browser();
    let without =
        client.post(app.url("/login")).form(&[("username", "ada"), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(without.status(), 403);
    let forged = [("csrf_token", "4102444800.00ff"), ("username", "ada"), ("password", PASSWORD)];
    assert_eq!(client.post(app.url("/login")).form(&forged).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn a_sign_in_token_works_only_in_the_browser_that_opened_the_form() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let attacker = browser();
    let token = csrf_token_in(&app.get_text(&attacker, "/login").await);
    let form = [("csrf_token", token.as_str()), ("username", "ada"), ("password", PASSWORD)];
    // Login CSRF: the attacker's token planted in the victim's browser is refused there.
    let victim = browser();
    assert_eq!(app.get(&victim, "/login").await.status(), 200);
    assert_eq!(victim.post(app.url("/login")).form(&form).send().await.unwrap().status(), 403);
    assert_eq!(app.count("SELECT count(*) AS n FROM sessions").await, 0, "no session began");
    // A cookie-less client never gets past the form either.
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    assert_eq!(bare.post(app.url("/login")).form(&form).send().await.unwrap().status(), 403);
    // In the browser that opened it, the same token signs in.
    assert_eq!(attacker.post(app.url("/login")).form(&form).send().await.unwrap().status(), 303);
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_even_with_a_token() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let client = browser();
    let token = csrf_token_in(&app.get_text(&client, "/login").await);
    let form = [("csrf_token", token.as_str()), ("username", "ada"), ("password", PASSWORD)];
    let cross =
        client.post(app.url("/login")).header("origin", "https://evil.example").form(&form).send().await.unwrap();
    assert_eq!(cross.status(), 403);
    let fetch_meta =
        client.post(app.url("/login")).header("sec-fetch-site", "cross-site").form(&form).send().await.unwrap();
    assert_eq!(fetch_meta.status(), 403);
    let same = client.post(app.url("/login")).header("origin", app.address.as_str()).form(&form).send().await.unwrap();
    assert_eq!(same.status(), 303);
}
