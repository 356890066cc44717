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
