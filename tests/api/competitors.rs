//! Competitors: tracked by username, read once a day through Business Discovery with a
//! Facebook Login account, shown beside the operator's accounts.

use tidemark::domain::Role;

use crate::helpers::{TestApp, location, spawn_app};

const BAKERY: usize = 0; // Instagram Login
const STUDIO: usize = 1; // Facebook Login

async fn add(app: &TestApp, admin: &reqwest::Client, username: &str) -> reqwest::Response {
    app.post_form(admin, "/competitors", "/competitors", &[("username", username)]).await
}

#[tokio::test]
async fn competitors_are_read_once_a_day_through_facebook_login_and_shown_beside_the_accounts() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.connect(STUDIO).await;
    let admin = app.admin().await;
    for username in ["north.loaf", "@Lumen.Movement", "no.such.account"] {
        let added = add(&app, &admin, username).await;
        assert_eq!(added.status(), 303, "{username}");
        assert_eq!(location(&added), "/competitors?notice=competitor-added");
    }
    for (refused, why) in [
        ("<script>x</script>", "letters, digits, periods and underscores"),
        ("north.loaf", "tracked already"),
        ("harbour.bakery", "one of your own accounts"),
    ] {
        let response = add(&app, &admin, refused).await;
        assert_eq!(response.status(), 422, "{refused}");
        let page = response.text().await.unwrap();
        assert!(page.contains(why), "{refused}: {why}");
        assert!(!page.contains("<script>x"), "the typed name comes back escaped");
    }
    let waiting = app.get_text(&admin, "/competitors").await;
    assert!(waiting.contains("Read at the next sync."));

    app.run_sync().await;
    assert_eq!(app.count("SELECT count(*) AS n FROM competitors WHERE status = 'tracked'").await, 2);
    assert_eq!(app.count("SELECT count(*) AS n FROM competitors WHERE status = 'not_found'").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM competitor_days").await, 2);
    let (followers, posts) = app.sim.public_figures("north.loaf", app.sim.now()).unwrap();
    let stored = "SELECT followers_count AS n FROM competitors WHERE username = 'north.loaf'";
    assert_eq!(app.count(stored).await, followers);
    let media = "SELECT media_count AS n FROM competitors WHERE username = 'north.loaf'";
    assert_eq!(app.count(media).await, posts as i64);
    assert_eq!(app.count("SELECT count(*) AS n FROM competitor_posts").await, 100, "the newest 50 of each");

    let page = app.get_text(&admin, "/competitors").await;
    let row = &page[page.find("@north.loaf").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    let shown = tidemark::services::views::format::count(Some(followers));
    assert!(row.contains(&shown), "followers {shown} in {row}");
    assert!(page.contains("@harbour.bakery <span class=\"badge\">yours</span>"));
    assert!(page.contains("knows no professional account by this name"));

    // Read again only a day later.
    let read_at = "SELECT extract(epoch FROM read_at)::bigint AS n FROM competitors WHERE username = 'north.loaf'";
    let first_read = app.count(read_at).await;
    app.run_sync().await;
    assert_eq!(app.count(read_at).await, first_read, "not read twice a day");
    app.sim.advance(chrono::Duration::days(1));
    app.run_sync().await;
    assert_eq!(app.count("SELECT count(*) AS n FROM competitor_days").await, 4, "a second day each");

    // Removing one deletes what was read of it.
    let id = app.count("SELECT id AS n FROM competitors WHERE username = 'north.loaf'").await;
    let removed = app.post_form(&admin, "/competitors", &format!("/competitors/{id}/delete"), &[]).await;
    assert_eq!(removed.status(), 303);
    assert_eq!(app.count(&format!("SELECT count(*) AS n FROM competitor_posts WHERE competitor_id = {id}")).await, 0);
    assert_eq!(app.count(&format!("SELECT count(*) AS n FROM competitor_days WHERE competitor_id = {id}")).await, 0);
    let again = app.post_form(&admin, "/competitors", &format!("/competitors/{id}/delete"), &[]).await;
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn without_a_facebook_login_account_competitors_wait_and_the_page_says_why() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    let admin = app.admin().await;
    assert_eq!(add(&app, &admin, "north.loaf").await.status(), 303);
    app.run_sync().await;
    assert_eq!(app.count("SELECT count(*) AS n FROM competitors WHERE status = 'waiting'").await, 1);
    let page = app.get_text(&admin, "/competitors").await;
    assert!(page.contains("only through an account connected with Facebook"));

    // A viewer reads the comparison without the forms.
    app.create_user("vera", Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    let seen = app.get_text(&viewer, "/competitors").await;
    assert!(seen.contains("@north.loaf") && !seen.contains("action=\"/competitors\""));
}

#[tokio::test]
async fn a_temporary_failure_is_kept_and_asked_again_at_the_next_cycle() {
    use tidemark::simulator::Faults;
    use tidemark::sync::competitors::read_due;
    let app = spawn_app().await;
    app.connect(STUDIO).await;
    let admin = app.admin().await;
    assert_eq!(add(&app, &admin, "saltmarsh.rooms").await.status(), 303);

    // Every answer fails for a while: the client's retries run out.
    app.sim.set_faults(Faults { fail_next: 50, ..Faults::default() });
    let failed = read_due(&app.sync, app.sim.now()).await.unwrap();
    assert_eq!((failed.read, failed.failed), (0, 1));
    let state = "SELECT count(*) AS n FROM competitors WHERE status = 'waiting' AND tried_at IS NULL AND last_error LIKE 'temporary%'";
    assert_eq!(app.count(state).await, 1, "the reason is kept and the competitor stays due");
    assert!(app.get_text(&admin, "/competitors").await.contains("Read at the next sync."));

    app.sim.set_faults(Faults::default());
    let read = read_due(&app.sync, app.sim.now()).await.unwrap();
    assert_eq!(read.read, 1, "asked again at once, not a day later");
    let cleared = "SELECT count(*) AS n FROM competitors WHERE status = 'tracked' AND last_error IS NULL AND tried_at IS NOT NULL";
    assert_eq!(app.count(cleared).await, 1);
}
