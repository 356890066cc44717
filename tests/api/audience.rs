//! Who follows an account: the sync reads Meta's demographics and online hours once a week,
//! keeps each count dated, and the account page compares the latest with one a month older.

use chrono::Duration;
use tidemark::db::audience;
use tidemark::domain::{AudienceDimension, AudienceFigure};
use tidemark::simulator::SimulatorConfig;
use tidemark::simulator::world::AccountSpec;

use crate::helpers::{AppOptions, spawn_app, spawn_app_with};

const COVE: usize = 2;

fn sorted(mut figures: Vec<AudienceFigure>) -> Vec<(AudienceDimension, String, i64)> {
    figures.sort_by(|a, b| (a.dimension.as_str(), &a.key).cmp(&(b.dimension.as_str(), &b.key)));
    figures.into_iter().map(|f| (f.dimension, f.key, f.followers)).collect()
}

#[tokio::test]
async fn the_sync_reads_who_follows_once_a_week_and_the_page_compares_a_month() {
    let app = spawn_app().await;
    let cove = app.connect(COVE).await;
    let first_at = app.sim.now();
    let summary = app.run_sync().await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);

    // What Meta answered, as Tidemark stores it: every breakdown, and each hour moved from
    // Meta's day (07:00 UTC on) to UTC, averaged over the week.
    let mut conn = app.db.connect().await;
    let apart = Duration::days(28);
    let (latest, earlier) = audience::latest_and_earlier(&mut conn, cove.id, apart).await.unwrap();
    let latest = latest.expect("a count was stored");
    assert_eq!(latest.day, first_at.date_naive());
    assert!(earlier.is_none());
    assert_eq!(sorted(latest.figures.clone()), sorted(app.sim.audience(COVE, first_at)));
    for dimension in AudienceDimension::ALL {
        assert!(latest.figures.iter().any(|f| f.dimension == *dimension), "{dimension:?} was read");
    }
    let hours = latest.figures.iter().filter(|f| f.dimension == AudienceDimension::OnlineHour).count();
    assert_eq!(hours, 24);

    let admin = app.admin().await;
    let page = app.get_text(&admin, &format!("/accounts/{}", cove.id)).await;
    assert!(page.contains("Changes show once Tidemark holds a count a month older"), "{page}");
    assert!(page.contains("Most of them are online at"));
    // City names are Meta's text: escaped, never markup.
    assert!(page.contains("&#60;b&#62;Nowhere&#60;/b&#62;, Ohio") && !page.contains("<b>Nowhere"), "{page}");

    // A day later nothing is asked again; a month later it is, and the page compares.
    app.sim.advance(Duration::days(1));
    app.run_sync().await;
    assert_eq!(app.count("SELECT count(DISTINCT day) AS n FROM account_audience").await, 1);
    app.sim.advance(Duration::days(29));
    app.run_sync().await;
    assert_eq!(app.count("SELECT count(DISTINCT day) AS n FROM account_audience").await, 2);
    let (latest, earlier) = audience::latest_and_earlier(&mut conn, cove.id, apart).await.unwrap();
    assert_eq!(latest.unwrap().day, app.sim.now().date_naive());
    assert_eq!(earlier.unwrap().day, first_at.date_naive());

    let page = app.get_text(&admin, &format!("/accounts/{}", cove.id)).await;
    assert!(page.contains(&format!("Changes are against its count of {}", first_at.format("%Y-%m-%d"))), "{page}");
    assert!(page.contains("Women") && page.contains("Top cities") && page.contains("Top countries"));
    assert!(page.contains(" pt"), "shares moved by percentage points");
}

#[tokio::test]
async fn below_a_hundred_followers_nothing_is_asked_and_the_page_says_why() {
    let small = AccountSpec { followers: 60, ..AccountSpec::standard_set()[COVE].clone() };
    let simulator = SimulatorConfig { accounts: vec![small], ..SimulatorConfig::standard(5) };
    let app = spawn_app_with(AppOptions { simulator, ..AppOptions::default() }).await;
    let account = app.connect(0).await;
    let summary = app.run_sync().await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(app.count("SELECT count(*) AS n FROM account_audience").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM ig_accounts WHERE audience_read_at IS NOT NULL").await, 0);
    let page = app.get_text(&app.admin().await, &format!("/accounts/{}", account.id)).await;
    assert!(page.contains("Not available below 100 followers"), "{page}");
}

#[tokio::test]
async fn a_refused_audience_is_asked_again_a_week_later_and_keeps_what_was_stored() {
    let simulator = SimulatorConfig {
        refuse: vec![("ACCOUNT".into(), "follower_demographics".into())],
        ..SimulatorConfig::standard(6)
    };
    let app = spawn_app_with(AppOptions { simulator, ..AppOptions::default() }).await;
    let cove = app.connect(COVE).await;
    let summary = app.run_sync().await;
    assert_eq!(summary.accounts, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM account_audience").await, 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM ig_accounts WHERE audience_read_at IS NOT NULL").await,
        1,
        "the refusal counts as asked"
    );
    let refused =
        "SELECT count(*) AS n FROM sync_runs WHERE error_kind = 'rejected' AND error_message LIKE '%metric[0]%'";
    assert_eq!(app.count(refused).await, 1, "the refusal is on the run's record");
    app.sim.advance(Duration::hours(2));
    app.run_sync().await;
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_runs").await, 2);
    assert_eq!(app.count(refused).await, 1, "asked once, not every cycle");
    let page = app.get_text(&app.admin().await, &format!("/accounts/{}", cove.id)).await;
    assert!(page.contains("Not counted yet"), "{page}");
}
