//! Hostile input and the edges an attacker probes (issue 15): one test per finding.

use crate::helpers::spawn_app;

#[tokio::test]
async fn captions_that_a_spreadsheet_would_run_as_formulas_are_defused_in_every_csv() {
    let app = spawn_app().await;
    app.connect(2).await;
    app.run_sync().await;
    let hostile = "=HYPERLINK(\"http://evil.example\",\"click\")";
    app.count(&format!(
        "WITH p AS (UPDATE posts SET caption = '{}' WHERE id = (SELECT min(id) FROM posts) RETURNING 1) SELECT count(*) AS n FROM p",
        hostile.replace('\'', "''")
    ))
    .await;
    let admin = app.admin().await;
    let posts = app.get_text(&admin, "/export/posts.csv?days=365").await;
    assert!(posts.contains("'=HYPERLINK("), "the posts CSV defuses it");
    assert!(!posts.contains(",\"=HYPERLINK(") && !posts.contains(",=HYPERLINK("), "never raw");

    let archive = app.get(&admin, "/export/archive.zip").await.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive.to_vec())).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("posts.csv").unwrap(), &mut text).unwrap();
    assert!(text.contains("'=HYPERLINK("), "the archive defuses it too");
    let net_changes = app.count("SELECT count(*) AS n FROM account_daily_insights WHERE follower_net_change < 0").await;
    if net_changes > 0 {
        let mut daily = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("account_daily_insights.csv").unwrap(), &mut daily).unwrap();
        assert!(!daily.contains("'-"), "negative numbers stay numbers");
    }
}

#[tokio::test]
async fn signing_out_ends_the_session_for_every_copy_of_its_cookie() {
    let app = spawn_app().await;
    app.create_user("ada", tidemark::domain::Role::Admin).await;
    let client = crate::helpers::browser();
    let token = crate::helpers::csrf_token_in(&app.get_text(&client, "/login").await);
    let signed_in = client
        .post(app.url("/login"))
        .form(&[("csrf_token", token.as_str()), ("username", "ada"), ("password", crate::helpers::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("tidemark_session="))
        .expect("a session cookie");
    let with_cookie = |path: &str| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(app.url(path))
            .header(reqwest::header::COOKIE, cookie.clone())
            .header(reqwest::header::ACCEPT, "text/html")
            .send()
    };
    // Two copies of the cookie: the browser's and an attacker's.
    let me = with_cookie("/me").await.unwrap();
    assert_eq!(me.status(), 200);
    let csrf = crate::helpers::csrf_token_in(&me.text().await.unwrap());
    let out = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/logout"))
        .header(reqwest::header::COOKIE, cookie.clone())
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let replayed = with_cookie("/users").await.unwrap();
    assert_eq!(replayed.status(), 303, "the copied cookie no longer works");
    assert!(crate::helpers::location(&replayed).starts_with("/login"));
    assert_eq!(app.count("SELECT count(*) AS n FROM sessions").await, 0, "the session's row is gone");
}

#[tokio::test]
async fn the_me_page_lists_each_session_and_ends_another_devices() {
    let app = spawn_app().await;
    app.create_user("ada", tidemark::domain::Role::Admin).await;
    let laptop = app.signed_in("ada").await;
    let phone = app.signed_in("ada").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM sessions").await, 2);
    let page = app.get_text(&laptop, "/me").await;
    assert_eq!(page.matches("/me/sessions/").count(), 2, "both sessions are listed");
    assert!(page.contains("(this one)"));
    // End the phone's session from the laptop: the row not marked "(this one)".
    let ids: Vec<&str> = page.split("/me/sessions/").skip(1).map(|rest| rest.split('/').next().unwrap()).collect();
    let rows: Vec<&str> = page.split("<tr>").filter(|row| row.contains("/me/sessions/")).collect();
    let own = rows.iter().position(|row| row.contains("(this one)")).unwrap();
    let sid = ids[1 - own];
    let ended = app.post_form(&laptop, "/me", &format!("/me/sessions/{sid}/end"), &[]).await;
    assert_eq!(ended.status(), 303);
    assert_eq!(app.get(&phone, "/me").await.status(), 303, "the phone is signed out");
    assert_eq!(app.get(&laptop, "/me").await.status(), 200, "the laptop is not");
    let foreign = app.post_form(&laptop, "/me", "/me/sessions/00000000000000000000000000000000/end", &[]).await;
    assert_eq!(foreign.status(), 404, "only one's own sessions");
}

#[tokio::test]
async fn metrics_need_a_direct_loopback_client_or_the_bearer_token() {
    use crate::helpers::{AppOptions, spawn_app_with};
    let token = "a-long-metrics-token-0123456789";
    let app = spawn_app_with(AppOptions { metrics_token: Some(token.into()), ..AppOptions::default() }).await;
    let client = reqwest::Client::new();
    let get = |headers: Vec<(&'static str, String)>| {
        let mut request = client.get(app.url("/metrics"));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    assert_eq!(get(vec![]).await.unwrap().status(), 200, "loopback, no proxy");
    for proxy in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        assert_eq!(get(vec![(proxy, "203.0.113.9".into())]).await.unwrap().status(), 403, "via a proxy: {proxy}");
    }
    let bearer = get(vec![("x-forwarded-for", "203.0.113.9".into()), ("authorization", format!("Bearer {token}"))]);
    assert_eq!(bearer.await.unwrap().status(), 200, "the token opens it from anywhere");
    let wrong = get(vec![("x-forwarded-for", "203.0.113.9".into()), ("authorization", "Bearer nope".into())]);
    assert_eq!(wrong.await.unwrap().status(), 403);

    // A made-up method does not mint a metrics series.
    let odd = reqwest::Method::from_bytes(b"FROBNICATE").unwrap();
    let _ = client.request(odd, app.url("/")).send().await.unwrap();
    let text = get(vec![]).await.unwrap().text().await.unwrap();
    assert!(!text.contains("FROBNICATE") && text.contains("method=\"other\""), "bounded method labels");
}

#[tokio::test]
async fn a_form_from_the_same_host_over_another_scheme_is_refused() {
    let app = spawn_app().await;
    let client = crate::helpers::browser();
    let token = crate::helpers::csrf_token_in(&app.get_text(&client, "/login").await);
    let https = app.address.replace("http://", "https://");
    let form = [("csrf_token", token.as_str()), ("username", "ada"), ("password", "x")];
    let refused = client.post(app.url("/login")).header("origin", https).form(&form).send().await.unwrap();
    assert_eq!(refused.status(), 403, "scheme counts");
    let other_port = app.address.rsplit_once(':').map(|(host, _)| format!("{host}:1")).unwrap();
    let refused = client.post(app.url("/login")).header("origin", other_port).form(&form).send().await.unwrap();
    assert_eq!(refused.status(), 403, "port counts");
}

#[tokio::test]
async fn a_current_password_over_72_bytes_is_refused_not_truncated() {
    let app = spawn_app().await;
    app.create_user("ada", tidemark::domain::Role::Admin).await;
    let client = app.signed_in("ada").await;
    // The stored password followed by anything: bcrypt alone would compare the first 72 bytes.
    let padded = format!("{}{}", crate::helpers::PASSWORD, "x".repeat(80));
    let fields = [
        ("current_password", padded.as_str()),
        ("new_password", "an entirely new passphrase"),
        ("confirm_password", "an entirely new passphrase"),
    ];
    let response = app.post_form(&client, "/me", "/me/password", &fields).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("current password is not right"));
}

#[tokio::test]
async fn a_sync_left_running_by_a_killed_server_is_closed_when_the_next_one_starts() {
    use crate::helpers::{AppOptions, spawn_app_with};
    let app = spawn_app_with(AppOptions {
        before_start: Some(
            "WITH a AS (INSERT INTO ig_accounts (flavour, ig_user_id, username, token_ciphertext, token_nonce, token_key_version) \
             VALUES ('instagram', '17841400000000009', 'left.running', '\\x00', '\\x000000000000000000000000', 1) RETURNING id) \
             INSERT INTO sync_runs (account_id, trigger, started_at) SELECT id, 'schedule', now() - interval '1 hour' FROM a",
        ),
        ..AppOptions::default()
    })
    .await;
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_runs WHERE outcome = 'running'").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_runs WHERE error_kind = 'interrupted'").await, 1);
}

#[tokio::test]
async fn after_key_rotation_no_page_of_the_accounts_table_holds_an_old_ciphertext() {
    use diesel_async::RunQueryDsl;
    use tidemark::crypto::TokenKey;
    use tidemark::db::accounts::Account;
    let app = spawn_app().await;
    app.connect(0).await;
    app.connect(1).await;
    let mut conn = app.db.connect().await;
    let old: Vec<Vec<u8>> =
        Account::list(&mut conn).await.unwrap().iter().map(|a| a.token().unwrap().ciphertext).collect();
    let new_key = TokenKey::new([9u8; 32]);
    tidemark::services::keys::rotate_keys(&mut conn, &app.token_key, &new_key).await.unwrap();

    // Read the table's pages as PostgreSQL stores them, dead row versions included.
    diesel::sql_query("CREATE EXTENSION IF NOT EXISTS pageinspect").execute(&mut conn).await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Tuple {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Bytea>)]
        t_data: Option<Vec<u8>>,
    }
    let pages = app.count("SELECT pg_relation_size('ig_accounts') / current_setting('block_size')::bigint AS n").await;
    let mut tuples = Vec::new();
    for page in 0..pages {
        let rows: Vec<Tuple> =
            diesel::sql_query(format!("SELECT t_data FROM heap_page_items(get_raw_page('ig_accounts', {page}))"))
                .load(&mut conn)
                .await
                .unwrap();
        tuples.extend(rows.into_iter().filter_map(|t| t.t_data));
    }
    assert!(!tuples.is_empty());
    for ciphertext in &old {
        assert!(
            !tuples.iter().any(|data| data.windows(ciphertext.len()).any(|w| w == ciphertext.as_slice())),
            "an old-key ciphertext is still in the table's pages"
        );
    }
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_owner_out_from_another() {
    use crate::helpers::{AppOptions, PASSWORD, browser, csrf_token_in, spawn_app_with};
    use tidemark::config::TrustedProxies;
    // Behind a reverse proxy on this host: the client is the forwarded address.
    let app = spawn_app_with(AppOptions {
        trusted_proxies: TrustedProxies::parse("127.0.0.1").unwrap(),
        ..AppOptions::default()
    })
    .await;
    app.create_user("ada", tidemark::domain::Role::Admin).await;
    let sign_in = |from: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let client = browser();
            let token = csrf_token_in(&app.get_text(&client, "/login").await);
            client
                .post(app.url("/login"))
                .header("x-forwarded-for", from)
                .form(&[("csrf_token", token.as_str()), ("username", "ada"), ("password", password)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for _ in 0..5 {
        assert_eq!(sign_in("198.51.100.1", "wrong password!").await, 401);
    }
    assert_eq!(sign_in("198.51.100.1", PASSWORD).await, 429, "the guessing address is locked");
    assert_eq!(sign_in("198.51.100.2", PASSWORD).await, 303, "the owner elsewhere signs in");
    // A forwarded address from an untrusted peer is ignored: the sessions list shows the real one.
    let sessions = app.count("SELECT count(*) AS n FROM sessions WHERE address = '198.51.100.2'").await;
    assert_eq!(sessions, 1, "the session records the client address the proxy forwarded");
}

#[tokio::test]
async fn a_sync_that_reorders_posts_mid_download_neither_duplicates_nor_skips_csv_rows() {
    use futures_util::StreamExt;
    use tidemark::db::reports::{PostFilter, Sort};
    use tidemark::services::views::Views;

    let app = spawn_app().await;
    for index in 0..3 {
        app.connect(index).await;
    }
    app.run_sync().await;
    let scored = app.count("SELECT count(*) AS n FROM post_scores WHERE impact IS NOT NULL").await;
    assert!(scored > 6, "enough scored posts for several pages: {scored}");
    let total = app.count("SELECT count(*) AS n FROM posts").await;

    let views = Views::new(app.sync.pool().clone(), app.sim.clock());
    let mut pages = Box::pin(views.post_pages(PostFilter { sort: Sort::Impact, ..PostFilter::default() }, 3));
    let mut sent: Vec<i64> = pages.next().await.unwrap().unwrap().iter().map(|row| row.id.0).collect();
    // Between two pages a sync rescores every post, turning the order upside down.
    app.count("WITH s AS (UPDATE post_scores SET impact = 100 - impact RETURNING 1) SELECT count(*) AS n FROM s").await;
    while let Some(page) = pages.next().await {
        sent.extend(page.unwrap().iter().map(|row| row.id.0));
    }
    let distinct: std::collections::HashSet<i64> = sent.iter().copied().collect();
    assert_eq!(distinct.len(), sent.len(), "no post twice: {sent:?}");
    assert_eq!(sent.len() as i64, total, "every post once");
}
