use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_and_readyz_answer_when_all_is_well() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let health = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready\n");
}

#[tokio::test]
async fn readyz_reports_pending_migrations() {
    let app = spawn_app().await;
    tidemark::db::revert_migrations(&app.db.url).await.unwrap();
    let ready = reqwest::Client::new().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.text().await.unwrap(), "migrations pending\n");
}

#[tokio::test]
async fn metrics_scrape_cleanly_and_count_requests_syncs_and_api_calls_without_secrets() {
    let app = spawn_app().await;
    app.connect(2).await;
    app.run_sync().await;
    let client = reqwest::Client::new();
    client.get(app.url("/login")).send().await.unwrap();
    let response = client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();

    // Every sample line is `name{labels} value`, every name is declared and prefixed.
    let mut declared = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            declared.insert(rest.split(' ').next().unwrap().to_owned());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        assert!(value.parse::<f64>().is_ok(), "not a number: {line}");
        let name = series.split('{').next().unwrap();
        assert!(name.starts_with("tidemark_"), "{line}");
        assert!(
            declared.iter().any(|d| name == d
                || name.strip_prefix(d.as_str()).is_some_and(|s| ["_total", "_bucket", "_sum", "_count"].contains(&s))),
            "undeclared {name}"
        );
        if series.contains('{') {
            assert!(series.ends_with('}'), "{line}");
        }
    }
    assert!(text.contains("tidemark_build_info{version="));
    assert!(text.contains("tidemark_http_requests_total{route=\"/login\",method=\"GET\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("tidemark_http_request_duration_seconds_bucket{"));
    assert!(text.contains("tidemark_sync_runs_total{outcome=\"success\"} 1"));
    assert!(text.contains("tidemark_graph_api_calls_total{endpoint=\"insights\",outcome=\"ok\"}"));
    assert!(text.contains("tidemark_snapshots_written_total "));
    assert!(text.contains("tidemark_token_expiry_days{account=\"1\"}"));
    assert!(text.contains("tidemark_db_pool_connections{state=\"max\"} 10"));
    for token in app.sim.tokens_of(2) {
        assert!(!text.contains(&token));
    }
    assert!(!text.contains("/posts/1"), "routes are patterns, not paths");
}

#[tokio::test]
async fn an_exhausted_pool_answers_busy_with_a_retry_rather_than_hanging() {
    use actix_web::ResponseError;
    let db = crate::helpers::TestDb::new().await;
    let pool = tidemark::db::pool_waiting(&db.url, 1, std::time::Duration::from_millis(200)).unwrap();
    let held = pool.get().await.unwrap();
    let busy = tidemark::db::DbError::from(pool.get().await.err().expect("no connection is free"));
    assert!(matches!(busy, tidemark::db::DbError::Busy), "{busy}");
    let response = tidemark::error::AppError::from(busy).error_response();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    drop(held);
    assert!(pool.get().await.is_ok(), "a freed connection is handed out again");
}
