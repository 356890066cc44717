use reqwest::Client;

use tidemark::domain::Role;
use tidemark::routes::{Access, ROUTE_TABLE};

use crate::helpers::{TestApp, csrf_token_in, location, spawn_app};

async fn send(app: &TestApp, client: &Client, method: &str, path: &str, csrf_token: &str) -> reqwest::Response {
    let url = app.url(path);
    match method {
        "GET" => client.get(url).send().await.unwrap(),
        "POST" => client.post(url).form(&[("csrf_token", csrf_token)]).send().await.unwrap(),
        other => panic!("the route table has an unexpected method {other}"),
    }
}

/// The path with its parameters filled: `{id}` with the given id, a static file's name.
fn concrete(path: &str, id: i64) -> String {
    path.replace("{id}", &id.to_string()).replace("{file:.*}", "app.css")
}

#[tokio::test]
async fn a_viewer_gets_403_on_every_admin_route() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let viewer_id = app.create_user("vera", Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    // A valid token, so that only the role can be what refuses the request.
    let token = csrf_token_in(&app.get_text(&viewer, "/me").await);

    let admin_routes: Vec<_> = ROUTE_TABLE.iter().filter(|r| r.access == Access::Admin).collect();
    assert!(admin_routes.len() >= 6);
    for route in admin_routes {
        let path = concrete(route.path, viewer_id.0);
        let response = send(&app, &viewer, route.method, &path, &token).await;
        assert_eq!(response.status(), 403, "{} {path}", route.method);
    }
    assert_eq!(app.user_count().await, 2, "nothing was changed");
}

#[tokio::test]
async fn an_anonymous_browser_is_sent_to_sign_in_and_a_script_gets_401_on_every_page() {
    let app = spawn_app().await;
    let id = app.create_user("ada", Role::Admin).await;
    let browser = crate::helpers::browser();
    let script = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    for route in ROUTE_TABLE.iter().filter(|r| r.access != Access::Anyone) {
        let path = concrete(route.path, id.0);
        if route.access.api_scope().is_some() {
            // The API never redirects: a problem with 401, whoever asks.
            for client in [&browser, &script] {
                let response = send(&app, client, route.method, &path, "").await;
                assert_eq!(response.status(), 401, "{} {path}", route.method);
                assert_eq!(response.headers()["content-type"], "application/problem+json");
            }
            continue;
        }
        let from_browser = send(&app, &browser, route.method, &path, "").await;
        assert_eq!(from_browser.status(), 303, "{} {path}", route.method);
        assert!(location(&from_browser).starts_with("/login"), "{} {path}", route.method);
        let from_script = send(&app, &script, route.method, &path, "").await;
        assert_eq!(from_script.status(), 401, "{} {path}", route.method);
    }
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let app = spawn_app().await;
    let user = app.create_user("ada", Role::Admin).await;
    let account = app.connect(2).await;
    app.run_sync().await;
    let post = app.count("SELECT min(id) AS n FROM posts").await;
    let admin = app.signed_in("ada").await;
    // A deletion request, for its status page.
    let payload =
        serde_json::json!({ "algorithm": "HMAC-SHA256", "user_id": "7", "issued_at": chrono::Utc::now().timestamp() });
    let signed = tidemark::simulator::oauth::signed_request(tidemark::simulator::oauth::INSTAGRAM_APP_SECRET, &payload);
    let receipt: serde_json::Value = Client::new()
        .post(app.url("/meta/data-deletion"))
        .form(&[("signed_request", signed)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = receipt["confirmation_code"].as_str().unwrap().to_owned();
    let (publication, media_link) = crate::publishing::planned_draft(&app, account.id).await;
    let rule = crate::inbox::a_rule(&app).await;
    let share = app
        .accounts
        .share(account.id, tidemark::services::accounts::ShareSpan::Rolling(30), "", chrono::Duration::days(1), user)
        .await
        .unwrap();
    let shared = share.url[share.url.find("/shared/").unwrap()..].to_owned();
    let api_token = app.api_token(tidemark::domain::ApiScope::Read).await;
    // A report, kept.
    let fields = [
        ("account", "all"),
        ("cadence", "weekly"),
        ("recipients", "a@example.com"),
        ("time_zone", "UTC"),
        ("send_hour", "0"),
    ];
    app.post_form(&admin, "/settings", "/settings/reports", &fields).await;
    app.reports.send_due().await.unwrap();
    let report = app.count("SELECT max(id) AS n FROM sent_reports").await;
    for route in ROUTE_TABLE.iter().filter(|r| r.method == "GET") {
        let id = if route.path.starts_with("/users") {
            user.0
        } else if route.path.starts_with("/inbox/rules") {
            rule
        } else if route.path.starts_with("/planner") || route.path.starts_with("/api/v1/publications") {
            publication.0
        } else if route.path.starts_with("/posts") || route.path.starts_with("/api/v1/posts") {
            post
        } else if route.path.starts_with("/reports") {
            report
        } else {
            account.id.0
        };
        let mut path = concrete(route.path, id).replace("{code}", &code);
        if route.path == "/media/{name}" {
            path = media_link.clone();
        }
        if route.path == "/shared/{token}" {
            path = shared.clone();
        }
        if route.path == "/meta/webhooks" {
            let token = crate::helpers::WEBHOOK_VERIFY_TOKEN.replace(' ', "+");
            path = format!("{path}?hub.mode=subscribe&hub.challenge=7&hub.verify_token={token}");
        }
        if path == "/export/chart.csv" {
            path = format!("{path}?chart=followers-{0}&account={0}", account.id.0);
        }
        let response = if route.access.api_scope().is_some() {
            Client::new().get(app.url(&path)).bearer_auth(&api_token).send().await.unwrap()
        } else {
            app.get(&admin, &path).await
        };
        let status = response.status();
        if path.starts_with("/accounts/connect/")
            && path != "/accounts/connect/instagram"
            && path != "/accounts/connect/facebook"
        {
            // Without a dialog's answer these end on their explaining page, never a 404 or 5xx.
            assert!(status.is_client_error() && status != 404, "GET {path}: {status}");
            continue;
        }
        assert!(status.is_success() || status == 303, "GET {path}: {status}");
    }
}

#[tokio::test]
async fn the_public_routes_answer_without_a_session() {
    let app = spawn_app().await;
    let client = Client::new();
    for path in ["/healthz", "/readyz", "/login", "/static/app.css"] {
        assert_eq!(client.get(app.url(path)).send().await.unwrap().status(), 200, "{path}");
    }
    // The icon every page names, and the address browsers ask for anyway: no 404 per page.
    for path in ["/static/favicon.svg", "/favicon.ico"] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "image/svg+xml", "{path}");
    }
    let login = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(login.contains("rel=\"icon\" href=\"/static/favicon.svg\""));
}

#[tokio::test]
async fn a_viewer_sees_no_admin_controls() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    app.create_user("vera", Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    let admin = app.signed_in("ada").await;

    let admin_dashboard = app.get_text(&admin, "/").await;
    assert!(admin_dashboard.contains("href=\"/users\""));
    for path in ["/", "/me"] {
        let html = app.get_text(&viewer, path).await;
        assert!(!html.contains("/users"), "{path} links to user management for a viewer");
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let client = crate::helpers::browser();
    for path in ["/login", "/healthz", "/nowhere", "/"] {
        let response = app.get(&client, path).await;
        let headers = response.headers();
        let csp = headers.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}");
        assert!(csp.contains("style-src 'self'"), "{path}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        // ASVS 5.0 3.4.3 asks for both explicitly.
        assert!(csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"), "{path}");
        assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
        assert!(headers.get("referrer-policy").is_some());
    }
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page_without_internals() {
    let app = spawn_app().await;
    app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;
    for path in ["/nowhere", "/users/999999/delete", "/users/not-a-number/delete", "/static/../Cargo.toml"] {
        let response = app.get(&admin, path).await;
        assert_eq!(response.status(), 404, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("Not found"), "{path}");
        assert!(html.contains("<nav aria-label=\"Main\">"), "{path}: the page keeps the navigation");
        assert!(html.contains(">Sign out</button>"), "{path}");
    }
    // A viewer refused an admin page, or a bad address: still inside the layout, with a
    // viewer's navigation.
    app.create_user("vera", Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    for (path, status) in [("/settings", 403), ("/posts?account=x", 400)] {
        let response = app.get(&viewer, path).await;
        assert_eq!(response.status(), status, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("<nav aria-label=\"Main\">") && !html.contains("href=\"/settings\""), "{path}: {html}");
    }
    // Signed out, the same page has no navigation to offer.
    let html = app.get_text(&crate::helpers::browser(), "/nowhere").await;
    assert!(html.contains("Not found") && !html.contains("<nav aria-label=\"Main\">"), "{html}");
}
