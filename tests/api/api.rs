//! The JSON API: its tokens (missing, forged, revoked, expired, wrong scope, over the rate),
//! problem details, ETags, cursor pages while a sync writes, and the token commands.

use std::collections::HashSet;
use std::process::Command;

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use tidemark::domain::{ApiScope, Role};

use crate::helpers::{AppOptions, TestApp, execute, spawn_app, spawn_app_with};

async fn get(app: &TestApp, token: &str, path: &str) -> Response {
    Client::new().get(app.url(path)).bearer_auth(token).send().await.unwrap()
}

async fn json(app: &TestApp, token: &str, path: &str) -> Value {
    let response = get(app, token, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// Asserts a problem-details answer of `status` and returns its detail.
async fn problem(response: Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], "about:blank");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    body["detail"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_api_refuses_a_missing_forged_revoked_expired_or_read_only_token_and_changes_nothing() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let (publication, _) = crate::publishing::planned_draft(&app, account.id).await;
    let reader = app.api_token(ApiScope::Read).await;
    let writer = app.api_token(ApiScope::Write).await;

    let anonymous = Client::new().get(app.url("/api/v1/accounts")).send().await.unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer realm=\"tidemark\"");
    assert!(problem(anonymous, 401).await.contains("Authorization: Bearer"));
    // A signed-in browser's session is no API token.
    app.create_user("ada", Role::Admin).await;
    let browser = app.signed_in("ada").await;
    problem(browser.get(app.url("/api/v1/accounts")).send().await.unwrap(), 401).await;
    // Signed with another key, or not a JWT at all.
    let other_key = tidemark::auth::ApiTokens::new(
        app.sync.pool().clone(),
        &tidemark::crypto::TokenKey::new([6u8; 32]),
        std::num::NonZeroU32::MIN,
        app.sim.clock(),
    );
    let forged = other_key.create("forged", ApiScope::Write, None, None).await.unwrap().jwt;
    assert!(problem(get(&app, &forged, "/api/v1/accounts").await, 401).await.contains("not one this Tidemark signed"));
    problem(get(&app, "not-a-token", "/api/v1/accounts").await, 401).await;

    let accounts = json(&app, &reader, "/api/v1/accounts").await;
    assert_eq!(accounts[0]["username"], account.username.as_str());
    let used = "SELECT count(*) AS n FROM api_tokens WHERE last_used_at IS NOT NULL";
    assert_eq!(app.count(used).await, 1, "the reader's use is noted, the refused forgery's is not");

    // A read token may not change anything.
    let path = format!("/api/v1/publications/{}/cancel", publication.0);
    let refused = Client::new().post(app.url(&path)).bearer_auth(&reader).send().await.unwrap();
    assert!(problem(refused, 403).await.contains("write scope"));
    let status = "SELECT count(*) AS n FROM publications WHERE status = 'draft'";
    assert_eq!(app.count(status).await, 1, "still a draft");
    // A write token may; a second cancel is a conflict.
    let cancelled = Client::new().post(app.url(&path)).bearer_auth(&writer).send().await.unwrap();
    assert_eq!(cancelled.status(), 200);
    assert_eq!(cancelled.json::<Value>().await.unwrap()["status"], "cancelled");
    let again = Client::new().post(app.url(&path)).bearer_auth(&writer).send().await.unwrap();
    assert!(problem(again, 409).await.contains("cancelled"));
    let missing = Client::new().post(app.url("/api/v1/publications/99999/cancel")).bearer_auth(&writer).send().await;
    problem(missing.unwrap(), 404).await;

    // Revoked and expired tokens stop at once.
    execute(
        &mut app.db.connect().await,
        "UPDATE api_tokens SET expires_at = '2001-01-01T00:00:00Z' WHERE scope = 'write'",
    )
    .await;
    assert!(problem(get(&app, &writer, "/api/v1/accounts").await, 401).await.contains("expired"));
    let mut conn = app.db.connect().await;
    let reader_id =
        tidemark::db::api_tokens::all(&mut conn).await.unwrap().iter().find(|t| t.scope == ApiScope::Read).unwrap().id;
    assert!(tidemark::db::api_tokens::revoke(&mut conn, reader_id, chrono::Utc::now()).await.unwrap());
    assert!(problem(get(&app, &reader, "/api/v1/accounts").await, 401).await.contains("revoked"));

    // A token made for a row that is gone names nothing, even once its id is given again.
    execute(&mut app.db.connect().await, "TRUNCATE api_tokens RESTART IDENTITY").await;
    let renewed = app.api_token(ApiScope::Read).await;
    assert_eq!(app.count("SELECT max(id) AS n FROM api_tokens").await, 1, "the id is given again");
    problem(get(&app, &reader, "/api/v1/accounts").await, 401).await;
    assert_eq!(get(&app, &renewed, "/api/v1/accounts").await.status(), 200);

    // Unknown addresses and malformed queries are problems too, never HTML.
    let token = app.api_token(ApiScope::Read).await;
    problem(get(&app, &token, "/api/v1/nothing-here").await, 404).await;
    let wrong_method = Client::new().delete(app.url("/api/v1/accounts/1")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(wrong_method.headers()["allow"], "GET");
    problem(wrong_method, 405).await;
    problem(get(&app, &token, "/api/v1/posts?limit=0").await, 400).await;
    problem(get(&app, &token, "/api/v1/posts?sort=sideways").await, 400).await;
    problem(get(&app, &token, "/api/v1/posts?unknown=1").await, 400).await;
    problem(get(&app, &token, "/api/v1/posts?cursor=garbage").await, 400).await;
    problem(get(&app, &token, "/api/v1/posts/abc").await, 404).await;
    problem(get(&app, &token, "/api/v1/accounts/999/series").await, 404).await;
    problem(get(&app, &token, "/api/v1/accounts/1/series?from=2026-12-01&to=2026-11-01").await, 400).await;
    // Dates at the ends of the calendar: refused, never a panic.
    problem(get(&app, &token, "/api/v1/accounts/1/series?to=-262143-01-01").await, 400).await;
    problem(get(&app, &token, "/api/v1/accounts/1/series?from=+262142-12-01&to=+262142-12-31").await, 400).await;
}

#[tokio::test]
async fn posts_come_in_cursor_pages_that_neither_repeat_nor_skip_while_a_sync_writes() {
    let app = spawn_app().await;
    app.connect(0).await;
    app.run_sync().await;
    let token = app.api_token(ApiScope::Read).await;
    let before: HashSet<i64> = json(&app, &token, "/api/v1/posts?limit=200").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert!(before.len() > 12, "enough posts for several pages: {}", before.len());

    for order in ["newest", "oldest"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/v1/posts?limit=5&sort={order}");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let page = json(&app, &token, &path).await;
            seen.extend(page["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()));
            pages += 1;
            if pages == 1 {
                // New posts and new snapshots arrive between the first and second page.
                app.sim.publish(0, false);
                app.sim.advance(chrono::Duration::hours(2));
                app.run_sync().await;
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{order}: no post twice");
        assert!(before.is_subset(&unique), "{order}: no post of the first listing skipped");
        assert!(pages >= 3, "{order}: {pages} pages");
    }
}

#[tokio::test]
async fn a_read_answers_304_to_its_etag_until_the_data_changes() {
    let app = spawn_app().await;
    app.connect(0).await;
    let token = app.api_token(ApiScope::Read).await;
    let first = get(&app, &token, "/api/v1/accounts").await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");

    let again =
        Client::new().get(app.url("/api/v1/accounts")).bearer_auth(&token).header("If-None-Match", &etag).send();
    let again = again.await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());

    app.run_sync().await;
    let after =
        Client::new().get(app.url("/api/v1/accounts")).bearer_auth(&token).header("If-None-Match", &etag).send();
    let after = after.await.unwrap();
    assert_eq!(after.status(), 200, "the sync changed the data");
    assert_ne!(after.headers()["etag"].to_str().unwrap(), etag);
    let body: Value = after.json().await.unwrap();
    assert!(body[0]["followers"].as_i64().is_some() && body[0]["last_synced_at"].is_string());
}

#[tokio::test]
async fn a_token_over_its_rate_gets_429_with_retry_after_and_others_go_on() {
    let app = spawn_app_with(AppOptions { api_requests_per_minute: 3, ..AppOptions::default() }).await;
    let busy = app.api_token(ApiScope::Read).await;
    let other = app.api_token(ApiScope::Read).await;
    for _ in 0..3 {
        assert_eq!(get(&app, &busy, "/api/v1/accounts").await.status(), 200);
    }
    let over = get(&app, &busy, "/api/v1/accounts").await;
    let wait: u64 = over.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    assert!(problem(over, 429).await.contains("Too many requests"));
    assert_eq!(get(&app, &other, "/api/v1/accounts").await.status(), 200, "each token has its own budget");
}

#[tokio::test]
async fn a_post_and_an_account_series_hold_the_stored_figures() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    app.run_sync().await;
    let token = app.api_token(ApiScope::Read).await;
    let post = app.count("SELECT max(id) AS n FROM posts").await;
    let detail = json(&app, &token, &format!("/api/v1/posts/{post}")).await;
    let snapshots = app.count(&format!("SELECT count(*) AS n FROM post_snapshots WHERE post_id = {post}")).await;
    assert_eq!(detail["snapshots"].as_array().unwrap().len() as i64, snapshots);
    assert_eq!(detail["post"]["id"], post);
    let reach = app.count(&format!("SELECT coalesce(reach, -1) AS n FROM post_scores WHERE post_id = {post}")).await;
    assert_eq!(detail["post"]["reach"].as_i64().unwrap_or(-1), reach);

    let series = json(&app, &token, &format!("/api/v1/accounts/{}/series", account.id.0)).await;
    let days = series.as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = days.last().unwrap();
    assert_eq!(today["complete"], false, "today is still growing");
    assert_eq!(today["followers"].as_i64(), Some(app.count("SELECT followers_count AS n FROM ig_accounts").await));
    let reached: Vec<&Value> = days.iter().filter(|d| d["reach"].is_i64()).collect();
    assert!(!reached.is_empty(), "some days have their reach");
    for day in reached {
        let sql =
            format!("SELECT reach AS n FROM account_daily_insights WHERE day = '{}'", day["day"].as_str().unwrap());
        assert_eq!(day["reach"].as_i64(), Some(app.count(&sql).await), "{day}");
    }
}

#[tokio::test]
async fn the_openapi_document_names_every_api_route_for_any_token() {
    let app = spawn_app().await;
    problem(Client::new().get(app.url("/api/v1/openapi.json")).send().await.unwrap(), 401).await;
    let token = app.api_token(ApiScope::Read).await;
    let doc = json(&app, &token, "/api/v1/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in ["/api/v1/accounts", "/api/v1/posts", "/api/v1/posts/{id}", "/api/v1/publications/{id}/cancel"] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
}

#[tokio::test]
async fn the_token_commands_make_list_and_revoke_tokens_and_say_what_is_wrong_in_one_line() {
    let app = spawn_app().await;
    let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [5u8; 32]);
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_tidemark"))
            .args(args)
            .env("DATABASE_URL", &app.db.url)
            .env("TIDEMARK_TOKEN_KEY", &key)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.success(), out, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (ok, token, err) =
        run(&["api-token", "create", "--name", "weekly report", "--scope", "write", "--expires-days", "30"]);
    assert!(ok, "{err}");
    let token = token.trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    assert!(err.contains("shown only now"), "{err}");
    assert_eq!(get(&app, &token, "/api/v1/accounts").await.status(), 200, "the server honours the command's token");

    let (ok, list, _) = run(&["api-token", "list"]);
    assert!(ok);
    let line = list.lines().next().unwrap();
    assert!(line.starts_with("1\tweekly report\twrite"), "{line}");
    assert!(line.contains("last used 2"), "{line}");

    let (ok, _, err) = run(&["api-token", "create", "--name", "", "--scope", "read"]);
    assert!(!ok && err.trim().lines().count() == 1 && err.contains("name"), "{err}");
    let (ok, _, err) = run(&["api-token", "create", "--name", "x", "--scope", "admin"]);
    assert!(!ok && err.contains("admin"), "{err}");

    let (ok, out, _) = run(&["api-token", "revoke", "1"]);
    assert!(ok && out.contains("revoked"));
    assert_eq!(get(&app, &token, "/api/v1/accounts").await.status(), 401, "revoking is immediate");
    let (ok, _, err) = run(&["api-token", "revoke", "1"]);
    assert!(!ok && err.trim().lines().count() == 1, "{err}");
}

#[tokio::test]
async fn an_admin_makes_a_token_in_settings_sees_it_once_and_revokes_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let made = app
        .post_form(
            &admin,
            "/settings",
            "/settings/api-tokens",
            &[("name", "sheet <b>sync</b>"), ("scope", "read"), ("expires", "90")],
        )
        .await;
    assert_eq!(made.status(), 200);
    assert_eq!(made.headers()["cache-control"], "no-store");
    let page = made.text().await.unwrap();
    assert!(page.contains("sheet &#60;b&#62;sync&#60;/b&#62;"), "the name is escaped");
    let start = page.find("<textarea id=\"api-token\" readonly rows=\"4\" cols=\"70\">").unwrap();
    let token = page[start..].split('>').nth(1).unwrap().split('<').next().unwrap().trim().to_owned();
    assert_eq!(get(&app, &token, "/api/v1/accounts").await.status(), 200);

    let settings = app.get_text(&admin, "/settings").await;
    assert!(settings.contains("sheet &#60;b&#62;sync"), "listed");
    assert!(!settings.contains(&token), "never shown again");
    assert!(!settings.contains(">never<"), "its use is shown");

    let refused = app.post_form(
        &admin,
        "/settings",
        "/settings/api-tokens",
        &[("name", " "), ("scope", "read"), ("expires", "30")],
    );
    assert_eq!(refused.await.status(), 400);
    let refused = app.post_form(
        &admin,
        "/settings",
        "/settings/api-tokens",
        &[("name", "x"), ("scope", "root"), ("expires", "30")],
    );
    assert_eq!(refused.await.status(), 400);
    assert_eq!(app.count("SELECT count(*) AS n FROM api_tokens").await, 1, "nothing made by a refused form");

    let id = app.count("SELECT id AS n FROM api_tokens").await;
    let revoked = app.post_form(&admin, "/settings", &format!("/settings/api-tokens/{id}/revoke"), &[]).await;
    assert_eq!(revoked.status(), 303);
    assert_eq!(get(&app, &token, "/api/v1/accounts").await.status(), 401);
    assert!(app.get_text(&admin, "/settings").await.contains(">revoked<"));
}

/// Where `scripts/test` put schemathesis (from PyPI), or one on the PATH.
fn schemathesis() -> String {
    std::env::var("TIDEMARK_SCHEMATHESIS").unwrap_or_else(|_| {
        let local = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".dev/py/bin/schemathesis");
        if local.exists() { local.display().to_string() } else { "schemathesis".to_owned() }
    })
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_every_answer_conforms_to_the_openapi_document() {
    let app = spawn_app_with(AppOptions { api_requests_per_minute: 100_000, ..AppOptions::default() }).await;
    let account = app.connect(0).await;
    app.run_sync().await;
    crate::publishing::planned_draft(&app, account.id).await;
    let token = app.api_token(ApiScope::Write).await;
    let report = std::env::temp_dir().join(format!("tidemark-schemathesis-{}", app.db.name));
    // The document is read with the token too; schemathesis gets it as a file.
    let document = std::env::temp_dir().join(format!("tidemark-openapi-{}.json", app.db.name));
    std::fs::write(&document, json(&app, &token, "/api/v1/openapi.json").await.to_string()).unwrap();
    let mut command = Command::new(schemathesis());
    command
        .args(["run", document.to_str().unwrap(), "--url", &app.address, "--checks", "all"])
        .args(["--max-examples", "40", "--seed", "7"])
        // Rules JSON Schema cannot state are refused with a 400 problem, as they should be: a
        // cursor must be one the API gave, a series at most 400 days, `from` before `to`.
        .args(["--exclude-checks", "positive_data_acceptance"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // One worker: with two threads, hypothesis (under schemathesis) once failed in its own
        // source parsing ("AST constructor recursion depth mismatch"), which says nothing of the API.
        .args(["--report", "junit", "--report-dir", report.to_str().unwrap(), "--no-color", "--workers", "1"]);
    // Blocking the test's runtime would stop the server it is testing.
    let run = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("schemathesis runs (scripts/test installs it into .dev/py)");
    let out = String::from_utf8_lossy(&run.stdout);
    let tail: String = out.lines().rev().take(80).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    assert!(
        run.status.success(),
        "schemathesis found problems (report kept in {}):\n{tail}\n{}",
        report.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.contains("passed"), "it tested something:\n{tail}");
    let _ = std::fs::remove_dir_all(report);
    let _ = std::fs::remove_file(document);
}

#[tokio::test]
async fn hashtags_best_time_and_comment_threads_come_as_the_pages_count_them() {
    let app = spawn_app().await;
    app.connect(0).await;
    app.run_sync().await;
    let token = app.api_token(ApiScope::Read).await;

    let tags = json(&app, &token, "/api/v1/hashtags?from=2000-01-01T00:00:00Z").await;
    let tags = tags.as_array().unwrap();
    assert!(!tags.is_empty());
    let ranked: Vec<&Value> = tags.iter().filter(|t| t["ranked"] == true).collect();
    assert!(ranked.iter().all(|t| t["posts"].as_u64().unwrap() >= 3), "ranked from 3 posts");
    let rates: Vec<f64> = ranked.iter().filter_map(|t| t["median_engagement_rate"].as_f64()).collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "best first: {rates:?}");
    let first = tags[0]["tag"].as_str().unwrap();
    let carrying = app.count(&format!("SELECT count(*) AS n FROM posts WHERE '{first}' = ANY(hashtags)")).await;
    assert_eq!(tags[0]["posts"].as_i64(), Some(carrying), "#{first}");

    let best = json(&app, &token, "/api/v1/best-time?from=2000-01-01T00:00:00Z").await;
    assert_eq!(best["time_zone"], "UTC");
    let feed = &best["placements"][0];
    assert_eq!(feed["placement"], "feed_and_reels");
    let slots = feed["slots"].as_array().unwrap();
    let mut ranks: Vec<u64> = slots.iter().filter_map(|s| s["rank"].as_u64()).collect();
    ranks.sort();
    assert_eq!(ranks, [1, 2, 3]);
    assert!(slots.iter().all(|s| s["weekday"].as_u64().unwrap() < 7 && s["hour"].as_u64().unwrap() < 24));
    let counted: u64 = best["placements"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["slots"].as_array().unwrap())
        .map(|s| s["posts"].as_u64().unwrap())
        .sum();
    assert_eq!(counted as i64, app.count("SELECT count(*) AS n FROM posts").await, "every post in one slot");

    let media = crate::inbox::quiet_media(&app);
    let older = crate::inbox::comment(&app, &media, "lina.k", "First <script>alert(1)</script>?").await;
    let newer = crate::inbox::comment(&app, &media, "omar", "Second 🍞").await;
    let post = app.count(&format!("SELECT id AS n FROM posts WHERE media_id = '{media}'")).await;
    let first = json(&app, &token, &format!("/api/v1/comments?post={post}&limit=1")).await;
    assert_eq!(first["items"][0]["comment"]["id"], newer.as_str(), "newest first");
    assert_eq!(first["items"][0]["comment"]["text"], "Second 🍞");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = json(&app, &token, &format!("/api/v1/comments?post={post}&limit=1&cursor={cursor}")).await;
    assert_eq!(second["items"][0]["comment"]["id"], older.as_str());
    assert_eq!(
        second["items"][0]["comment"]["text"], "First <script>alert(1)</script>?",
        "JSON carries the text as written"
    );
    assert!(second["next_cursor"].is_null());
    let questions = json(&app, &token, &format!("/api/v1/comments?post={post}&questions=true")).await;
    assert_eq!(questions["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_write_token_plans_a_post_with_its_file_and_a_bad_file_keeps_nothing() {
    use reqwest::multipart::{Form, Part};
    use tidemark::publishing::samples;
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let writer = app.api_token(ApiScope::Write).await;
    let reader = app.api_token(ApiScope::Read).await;
    let form = |bytes: Vec<u8>, name: &'static str| {
        Form::new()
            .text("account", account.id.0.to_string())
            .text("kind", "feed")
            .text("caption", "Rye on Friday <b>#bakery</b>")
            .text("at", "2030-06-04T09:30:00+02:00")
            .part("media", Part::bytes(bytes).file_name(name).mime_str("image/jpeg").unwrap())
    };
    let send = |token: &str, form: Form| {
        Client::new().post(app.url("/api/v1/publications")).bearer_auth(token).multipart(form).send()
    };
    let uploads = || std::fs::read_dir(app.data_dir.0.join("uploads")).map(|d| d.count()).unwrap_or(0);

    let refused = send(&reader, form(samples::jpeg(1080, 1080, 1), "rye.jpg")).await.unwrap();
    problem(refused, 403).await;
    let bad = send(&writer, form(b"not an image at all".to_vec(), "rye.jpg")).await.unwrap();
    assert!(problem(bad, 422).await.contains("rye.jpg"), "the file is named");
    let no_file = Client::new()
        .post(app.url("/api/v1/publications"))
        .bearer_auth(&writer)
        .multipart(Form::new().text("account", account.id.0.to_string()).text("kind", "feed"))
        .send()
        .await
        .unwrap();
    assert!(problem(no_file, 422).await.contains("media"));
    assert_eq!(app.count("SELECT count(*) AS n FROM publications").await, 0, "nothing planned");
    assert_eq!(uploads(), 0, "no upload is left behind");

    let made = send(&writer, form(samples::jpeg(1080, 1080, 1), "rye.jpg")).await.unwrap();
    assert_eq!(made.status(), 201);
    let location = made.headers()["location"].to_str().unwrap().to_owned();
    let record: Value = made.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/publications/{}", record["id"]));
    assert_eq!(record["status"], "scheduled");
    assert_eq!(record["caption"], "Rye on Friday <b>#bakery</b>");
    assert_eq!(record["due_at"], "2030-06-04T07:30:00Z");
    let listed = json(&app, &writer, "/api/v1/publications").await;
    assert_eq!(listed[0]["id"], record["id"]);
    assert_eq!(json(&app, &reader, &location).await["status"], "scheduled");
}
