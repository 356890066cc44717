use tidemark::crypto::TokenKey;
use tidemark::domain::Role;

use crate::helpers::{AppOptions, TestDb, spawn_app_with};

#[tokio::test]
async fn the_demo_fills_a_database_with_three_accounts_and_months_of_history() {
    let db = TestDb::new().await;
    let key = TokenKey::new([3u8; 32]);
    let (simulator, password) = tidemark::cli::demo::prepare(&db.url, &key, None).await.unwrap();
    assert!(password.len() >= 12, "a generated password");
    let count = |sql: &'static str| {
        let url = db.url.clone();
        async move {
            use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
            diesel::sql_query(sql).get_result::<N>(&mut conn).await.unwrap().n
        }
    };
    assert_eq!(count("SELECT count(*) AS n FROM ig_accounts").await, 3);
    assert!(count("SELECT count(*) AS n FROM post_snapshots").await > 10_000);
    assert!(
        count("SELECT count(*) AS n FROM post_scores WHERE impact IS NOT NULL").await > 20,
        "impact scores from day one"
    );
    assert!(count("SELECT count(*) AS n FROM account_daily_insights").await >= 3 * 90);
    assert_eq!(
        count(
            "SELECT count(*) AS n FROM posts p LEFT JOIN post_thumbnails t ON t.post_id = p.id WHERE t.image IS NULL"
        )
        .await,
        0,
        "every post starts with its small picture"
    );
    assert_eq!(count("SELECT count(*) AS n FROM users WHERE username = 'demo' AND role = 'admin'").await, 1);
    let oldest = count("SELECT extract(day FROM now() - min(captured_at))::bigint AS n FROM account_snapshots").await;
    assert!((89..=91).contains(&oldest), "about 90 days of follower history: {oldest}");

    // Starting again resets rather than duplicates.
    simulator.stop().await;
    let (simulator, _) = tidemark::cli::demo::prepare(&db.url, &key, Some("another long one".into())).await.unwrap();
    assert_eq!(count("SELECT count(*) AS n FROM ig_accounts").await, 3);
    simulator.stop().await;
}

#[tokio::test]
async fn the_demo_refuses_a_database_with_real_accounts() {
    let app = spawn_app_with(AppOptions {
        simulator: tidemark::simulator::SimulatorConfig {
            accounts: vec![tidemark::simulator::world::AccountSpec {
                username: "real.shop".into(),
                ..tidemark::simulator::world::AccountSpec::standard_set()[0].clone()
            }],
            ..tidemark::simulator::SimulatorConfig::standard(9)
        },
        ..AppOptions::default()
    })
    .await;
    app.connect(0).await;
    let Err(err) = tidemark::cli::demo::prepare(&app.db.url, &app.token_key, None).await else {
        panic!("the demo ran over real data");
    };
    assert!(err.to_string().contains("real Instagram accounts"), "{err}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM ig_accounts WHERE username = 'real.shop'").await,
        1,
        "nothing was touched"
    );
}

#[tokio::test]
async fn every_page_of_a_demo_says_it_shows_demo_data() {
    let app = spawn_app_with(AppOptions { demo: true, ..AppOptions::default() }).await;
    app.create_user("demo", Role::Admin).await;
    let login = app.get_text(&crate::helpers::browser(), "/login").await;
    assert!(login.contains("Demo data"));
    let client = app.signed_in("demo").await;
    for path in ["/", "/accounts", "/posts", "/hashtags", "/best-time", "/sync", "/settings", "/users", "/me"] {
        assert!(app.get_text(&client, path).await.contains("Demo data"), "{path}");
    }
}
