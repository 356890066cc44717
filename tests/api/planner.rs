//! The planner's pages over HTTP: composing with files, the form's errors, the calendar,
//! changing and cancelling, and what a viewer may do.

use reqwest::multipart::{Form, Part};

use tidemark::domain::{Role, Trigger};
use tidemark::publishing::samples;

use crate::helpers::{TestApp, csrf_token_in, location, spawn_app};

fn file(name: &str, bytes: Vec<u8>, content_type: &str) -> Part {
    Part::bytes(bytes).file_name(name.to_owned()).mime_str(content_type).unwrap()
}

/// The composer's form as a browser sends it: the token first, then the fields and files.
fn composer_form(token: &str, account: i64, caption: &str, when: &str, files: Vec<Part>) -> Form {
    let mut form = Form::new()
        .text("csrf_token", token.to_owned())
        .text("account", account.to_string())
        .text("kind", "feed")
        .text("caption", caption.to_owned())
        .text("alt_text", "Two loaves cooling")
        .text("first_comment", "")
        .text("when", when.to_owned())
        .text("date", "2030-06-04")
        .text("time", "09:30");
    for part in files {
        form = form.part("media", part);
    }
    form
}

async fn compose(
    app: &TestApp,
    client: &reqwest::Client,
    form_builder: impl FnOnce(&str) -> Form,
) -> reqwest::Response {
    let token = csrf_token_in(&app.get_text(client, "/planner/new").await);
    client.post(app.url("/planner")).multipart(form_builder(&token)).send().await.unwrap()
}

#[tokio::test]
async fn an_admin_plans_a_post_with_a_file_and_finds_it_on_the_calendar() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let admin = app.admin().await;
    let caption = "Summer loaves <img src=x onerror=alert(1)> #bakery";
    let response = compose(&app, &admin, |token| {
        composer_form(
            token,
            account.id.0,
            caption,
            "at",
            vec![file("loaves.jpg", samples::jpeg(1080, 1080, 1), "image/jpeg")],
        )
    })
    .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let saved = location(&response);
    assert!(saved.starts_with("/planner/") && saved.ends_with("?notice=publication-saved"), "{saved}");
    let page = saved.split('?').next().unwrap().to_owned();

    let html = app.get_text(&admin, &saved).await;
    assert!(html.contains("Saved. The publisher checks every minute"));
    assert!(html.contains("Scheduled"), "{html}");
    assert!(html.contains("&#60;img src=x onerror=alert(1)&#62;"), "the caption is escaped: {html}");
    assert!(!html.contains("<img src=x"), "never as markup");
    assert!(html.contains("Tuesday 4 June 2030, 09:30"), "the time is the operator's");
    assert!(html.contains("alt=\"Two loaves cooling\""), "the preview carries its description");

    let calendar = app.get_text(&admin, "/planner?date=2030-06-01").await;
    assert!(calendar.contains("June 2030"));
    assert!(calendar.contains(&format!("href=\"{page}\"")), "the month shows it");
    assert!(calendar.contains("09:30"));
    let week = app.get_text(&admin, "/planner?view=week&date=2030-06-04").await;
    assert!(week.contains(&format!("href=\"{page}\"")), "the week shows it");
    let other = app.get_text(&admin, "/planner?date=2030-07-01").await;
    assert!(!other.contains(&format!("href=\"{page}\"")), "another month does not");
}

#[tokio::test]
async fn a_wrong_file_is_a_form_error_naming_the_rule_and_nothing_is_kept() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let admin = app.admin().await;
    let response = compose(&app, &admin, |token| {
        composer_form(
            token,
            account.id.0,
            "Keep this caption",
            "now",
            vec![file("notes.jpg", b"plain text".to_vec(), "image/jpeg")],
        )
    })
    .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("notes.jpg: not a JPEG image"), "{html}");
    assert!(html.contains("Keep this caption"), "what was typed is kept");
    let wide = compose(&app, &admin, |token| {
        composer_form(
            token,
            account.id.0,
            "x",
            "now",
            vec![file("wide.jpg", samples::jpeg(2000, 500, 1), "image/jpeg")],
        )
    })
    .await;
    assert_eq!(wide.status(), 422);
    assert!(wide.text().await.unwrap().contains("between 4:5 (0.80:1) and 1.91:1"));
    let none = compose(&app, &admin, |token| composer_form(token, account.id.0, "x", "now", Vec::new())).await;
    assert_eq!(none.status(), 422);
    assert!(none.text().await.unwrap().contains("Add a file to publish"));
    assert_eq!(app.count("SELECT count(*) AS n FROM publications").await, 0);
    assert_eq!(std::fs::read_dir(app.data_dir.0.join("uploads")).unwrap().count(), 0, "no upload is left behind");
}

#[tokio::test]
async fn an_upload_without_the_token_or_from_a_viewer_is_refused() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let admin = app.admin().await;
    let post_as = async |client: &reqwest::Client, token: &str| {
        let files = vec![file("a.jpg", samples::jpeg(800, 800, 1), "image/jpeg")];
        let form = composer_form(token, account.id.0, "x", "now", files);
        client.post(app.url("/planner")).multipart(form).send().await.unwrap()
    };
    assert_eq!(post_as(&admin, "forged").await.status(), 403);
    app.create_user("vera", Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    let token = csrf_token_in(&app.get_text(&viewer, "/me").await);
    let refused = post_as(&viewer, &token).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(app.get(&viewer, "/planner/new").await.status(), 403);
    assert_eq!(app.get(&viewer, "/planner").await.status(), 200, "viewers read the planner");
    assert_eq!(app.count("SELECT count(*) AS n FROM publications").await, 0);
    assert_eq!(std::fs::read_dir(app.data_dir.0.join("uploads")).unwrap().count(), 0);
}

#[tokio::test]
async fn a_planned_post_can_be_moved_published_now_or_cancelled() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let admin = app.admin().await;
    let (id, _) = crate::publishing::planned_draft(&app, account.id).await;
    let page = format!("/planner/{id}");

    let moved = app
        .post_form(
            &admin,
            &page,
            &format!("{page}/schedule"),
            &[("when", "at"), ("date", "2031-02-03"), ("time", "18:00")],
        )
        .await;
    assert_eq!(moved.status(), 303);
    assert!(app.get_text(&admin, &page).await.contains("Monday 3 February 2031, 18:00"));
    let bad = app
        .post_form(&admin, &page, &format!("{page}/schedule"), &[("when", "at"), ("date", "soon"), ("time", "")])
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("Choose a date"));
    let past = app
        .post_form(
            &admin,
            &page,
            &format!("{page}/schedule"),
            &[("when", "at"), ("date", "2001-01-01"), ("time", "10:00")],
        )
        .await;
    assert_eq!(past.status(), 422);
    assert!(past.text().await.unwrap().contains("in the past"));

    let now = app.post_form(&admin, &page, &format!("{page}/schedule"), &[("when", "now")]).await;
    assert_eq!(now.status(), 303);
    let summary = app.publishing.run_due(Trigger::Command).await.unwrap();
    assert_eq!(summary.published.len(), 1, "{summary:?}");
    let html = app.get_text(&admin, &page).await;
    assert!(html.contains("Published") && html.contains("Its metrics and impact score"), "{html}");
    let post = html.split("<a href=\"/posts/").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned();
    let post_page = app.get_text(&admin, &format!("/posts/{post}")).await;
    assert!(post_page.contains("Published by Tidemark, planned for"), "{post_page}");
    assert!(post_page.contains(&format!("href=\"/planner/{id}\"")));
    let ours = app.get_text(&admin, "/posts?days=7&origin=tidemark").await;
    assert_eq!(ours.matches("href=\"/posts/").count(), 1, "only the post Tidemark published: {ours}");
    assert!(ours.contains(&format!("href=\"/posts/{post}\"")));
    let all = app.get_text(&admin, "/posts?days=365").await;
    assert!(all.matches("href=\"/posts/").count() > 1);
    let late = app.post_form(&admin, &page, &format!("{page}/cancel"), &[]).await;
    assert_eq!(late.status(), 422, "a published post cannot be cancelled");
    assert!(late.text().await.unwrap().contains("It is Published and can no longer be changed"));

    let (other, _) = crate::publishing::planned_draft(&app, account.id).await;
    let other_page = format!("/planner/{other}");
    let cancelled = app.post_form(&admin, &other_page, &format!("{other_page}/cancel"), &[]).await;
    assert_eq!(cancelled.status(), 303);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM publication_media WHERE removed_at IS NULL").await,
        0,
        "files deleted"
    );
    assert!(
        !app.get_text(&admin, "/planner").await.contains(&format!("href=\"{other_page}\"")),
        "gone from the calendar"
    );
}

#[tokio::test]
async fn the_composer_suggests_the_accounts_best_times_or_says_why_not() {
    let app = spawn_app().await;
    let big = app.connect(0).await;
    app.run_sync().await;
    // Connected after the sync: no history at all.
    let new = app.connect(2).await;
    let admin = app.admin().await;
    let html = app.get_text(&admin, &format!("/planner/new?account={}", big.id)).await;
    let suggested = html.matches("posts at this weekday and hour").count();
    assert_eq!(suggested, 3, "three slots from a long history: {html}");
    assert!(html.contains("posts at this weekday and hour"));
    let link = html.split("href=\"/planner/new?account=").nth(1).unwrap();
    assert!(link.contains("&amp;date=") && link.contains("&amp;time="), "each slot pre-fills the form");
    let html = app.get_text(&admin, &format!("/planner/new?account={}", new.id)).await;
    assert!(html.contains("Not enough history yet: @quiet.cove has 0 feed posts or Reels"), "{html}");
    assert!(!html.contains("median engagement"));
}

#[tokio::test]
async fn texts_the_database_cannot_keep_are_form_errors_not_server_errors() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let admin = app.admin().await;
    let picture = || vec![file("a.jpg", samples::jpeg(800, 800, 1), "image/jpeg")];
    let nul = compose(&app, &admin, |token| composer_form(token, account.id.0, "bad \0 byte", "now", picture())).await;
    assert_eq!(nul.status(), 422);
    assert!(nul.text().await.unwrap().contains("The caption holds a NUL character"));
    let long_alt = "x".repeat(1001);
    let alt = compose(&app, &admin, |token| {
        let form = Form::new().text("csrf_token", token.to_owned()).text("alt_text", long_alt.clone());
        let mut form = form
            .text("account", account.id.0.to_string())
            .text("kind", "feed")
            .text("caption", "fine")
            .text("when", "now");
        for part in picture() {
            form = form.part("media", part);
        }
        form
    })
    .await;
    assert_eq!(alt.status(), 422);
    assert!(alt.text().await.unwrap().contains("The image description has 1001 characters"));
    assert_eq!(app.count("SELECT count(*) AS n FROM publications").await, 0);
}
