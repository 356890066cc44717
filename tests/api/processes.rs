//! Two `serve` processes on one database, as behind a load balancer: a visitor may land on
//! either, and the background passes must not run twice.

use tidemark::db::locks::{self, Exclusive};
use tidemark::services::background::Pass;
use tidemark::services::reports::DueSummary;

use crate::helpers::{AppOptions, location, spawn_app, spawn_app_with};
use crate::reports::SmtpSink;

#[tokio::test]
async fn a_visitor_can_land_on_either_server_and_sees_what_the_other_wrote() {
    let app = spawn_app().await;
    app.connect(0).await;
    app.run_sync().await;
    let second = app.second_server().await;
    let browser = app.admin().await;

    // Signed in on the first, the same cookie is a session on the second.
    let page = browser.get(second.url("/posts")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the second server knows the session");
    // The first keeps its posts page...
    let before = app.get_text(&browser, "/posts").await;

    // ...and a sync through the second brings in a new post.
    let media_id = app.sim.publish(0, false);
    second.run_sync().await;
    let post = app.count(&format!("SELECT id AS n FROM posts WHERE media_id = '{media_id}'")).await;
    let link = format!("href=\"/posts/{post}\"");
    assert!(!before.contains(&link));
    let after = app.get_text(&browser, "/posts").await;
    assert!(after.contains(&link), "the first server's page shows the post the second one synced");

    // Signing out on the second ends the session on the first too.
    let page = browser.get(second.url("/posts")).send().await.unwrap().text().await.unwrap();
    let token = crate::helpers::csrf_token_in(&page);
    let out = browser.post(second.url("/logout")).form(&[("csrf_token", token.as_str())]).send().await.unwrap();
    assert_eq!(out.status(), 303);
    let refused = app.get(&browser, "/posts").await;
    assert_eq!(refused.status(), 303);
    assert!(location(&refused).starts_with("/login"), "{}", location(&refused));
}

#[tokio::test]
async fn each_background_pass_runs_in_one_server_at_a_time() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(AppOptions { mail: Some(SmtpSink::settings(sink.port)), ..AppOptions::default() }).await;
    let account = app.connect(0).await;
    app.run_sync().await;
    let admin = app.admin().await;
    let fields = [
        ("account", account.id.to_string()),
        ("cadence", "weekly".to_owned()),
        ("recipients", "ana@example.com".to_owned()),
        ("time_zone", "UTC".to_owned()),
        ("send_hour", "0".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let added = app.post_form(&admin, "/settings", "/settings/reports", &fields).await;
    assert_eq!(added.status(), 303, "a weekly report is scheduled");
    let second = app.second_server().await;

    // While some process holds a pass's lock, neither server runs that pass.
    let url = &app.db.url;
    for lock in [Exclusive::Publisher, Exclusive::InboxRules, Exclusive::Alerts, Exclusive::Reports] {
        let held = locks::try_take(url, lock).await.unwrap().expect("the lock is free");
        for background in [&app.background, &second.background] {
            let skipped = match lock {
                Exclusive::Publisher => matches!(background.publisher().await.unwrap(), Pass::Elsewhere),
                Exclusive::InboxRules => matches!(background.inbox_rules().await.unwrap(), Pass::Elsewhere),
                Exclusive::Alerts => matches!(background.alerts().await.unwrap(), Pass::Elsewhere),
                _ => matches!(background.reports().await.unwrap(), Pass::Elsewhere),
            };
            assert!(skipped, "the {} pass waits for the lock's holder", lock.name());
        }
        assert!(locks::try_take(url, lock).await.unwrap().is_none(), "a second holder is refused");
        held.release().await;
    }
    assert!(sink.messages().is_empty(), "nothing was mailed while the reports lock was held");

    // Both servers' minute comes at once: the report goes out once.
    let (first, other) = tokio::join!(app.background.reports(), second.background.reports());
    let mailed: usize = [first.unwrap(), other.unwrap()]
        .into_iter()
        .map(|pass| match pass {
            Pass::Ran(summary) => summary.mailed,
            Pass::Elsewhere => 0,
        })
        .sum();
    assert_eq!(mailed, 1);
    assert_eq!(sink.messages().len(), 1);
    match app.background.reports().await.unwrap() {
        Pass::Ran(summary) => assert_eq!(summary, DueSummary::default(), "the period was sent"),
        Pass::Elsewhere => panic!("the lock was let go"),
    }
}
