//! Publishing through the simulator: each kind of post, uploads refused before they are kept,
//! the quota, containers that error or expire, a lost publish answer, two publishers at once,
//! and the files removed once published.

use std::time::Duration;

use tidemark::domain::{AccountId, PublicationId, PublicationKind, Trigger};
use tidemark::publishing::samples;
use tidemark::services::publishing::{ComposeRefused, Composition, Upload, When};
use tidemark::simulator::Faults;

use crate::helpers::{TestApp, execute, spawn_app};

/// Puts `bytes` where an upload would land and returns it as one.
pub fn upload(app: &TestApp, name: &str, bytes: &[u8]) -> Upload {
    let path = app.publishing.upload_path();
    std::fs::write(&path, bytes).unwrap();
    Upload { path, name: name.to_owned(), alt_text: Some("A loaf on a table".into()) }
}

pub fn composition(account: AccountId, kind: PublicationKind, caption: &str, uploads: Vec<Upload>) -> Composition {
    Composition {
        account,
        kind,
        caption: caption.to_owned(),
        first_comment: None,
        when: When::Now,
        uploads,
        created_by: None,
    }
}

/// A draft post for `account` (its files kept) and the signed link to its first file.
pub async fn planned_draft(app: &TestApp, account: AccountId) -> (PublicationId, String) {
    let file = upload(app, "draft.jpg", &samples::jpeg(1080, 1080, 2));
    let mut plan = composition(account, PublicationKind::Feed, "A draft <script>alert(1)</script>", vec![file]);
    plan.when = When::Draft;
    let id = app.publishing.compose(plan).await.unwrap();
    let detail = app.publishing.detail(id).await.unwrap().unwrap();
    (id, app.publishing.preview_url(&detail.files[0]).unwrap())
}

async fn status_of(app: &TestApp, id: PublicationId) -> String {
    let mut conn = app.db.connect().await;
    let p = tidemark::db::publications::Publication::find(&mut conn, id).await.unwrap().unwrap();
    p.status.as_str().to_owned()
}

/// Lets a waiting publication be tried again now.
async fn due_again(app: &TestApp) {
    execute(&mut app.db.connect().await, "UPDATE publications SET next_attempt_at = NULL").await;
}

fn files_on_disk(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir.0.join("media")).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test]
async fn an_image_post_goes_out_with_its_caption_is_tracked_and_its_file_is_removed() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let caption = "Fresh rye this morning 🍞 #sourdough <b>not bold</b>";
    let image = upload(&app, "rye.jpg", &samples::jpeg(1080, 1350, 1));
    let mut plan = composition(account.id, PublicationKind::Feed, caption, vec![image]);
    plan.first_comment = Some("Open until 2 pm today".into());
    let id = app.publishing.compose(plan).await.unwrap();
    assert_eq!(files_on_disk(&app), 1, "the file waits in the data directory");

    let summary = app.publishing.run_due(Trigger::Command).await.unwrap();
    assert_eq!(summary.published.len(), 1, "{summary:?}");
    let media_id = summary.published[0].2.clone();

    let published = app.sim.published(0);
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].0, media_id);
    assert_eq!((published[0].1.as_str(), published[0].2.as_str()), ("IMAGE", "FEED"));
    assert_eq!(published[0].3.as_deref(), Some(caption), "the caption went out exactly");
    assert_eq!(app.sim.comments_on(&media_id), ["Open until 2 pm today"]);

    assert_eq!(status_of(&app, id).await, "published");
    assert_eq!(files_on_disk(&app), 0, "nothing is kept once published");
    assert_eq!(app.count("SELECT count(*) AS n FROM publication_media WHERE removed_at IS NULL").await, 0);
    let tracked = format!("SELECT count(*) AS n FROM posts WHERE media_id = '{media_id}'");
    assert_eq!(app.count(&tracked).await, 1, "the sync tracks the new post at once");
    let snapshots = format!(
        "SELECT count(*) AS n FROM post_snapshots s JOIN posts p ON p.id = s.post_id WHERE p.media_id = '{media_id}'"
    );
    assert!(app.count(&snapshots).await >= 1, "its first metrics are recorded");
}

#[tokio::test]
async fn a_carousel_a_reel_and_a_story_each_become_the_right_kind_of_media() {
    let app = spawn_app().await;
    app.sim.set_publishing(50, Duration::from_millis(300));
    let account = app.connect(0).await;
    let carousel = vec![
        upload(&app, "one.jpg", &samples::jpeg(1080, 1080, 1)),
        upload(&app, "two.mp4", &samples::mp4(12)),
        upload(&app, "three.jpg", &samples::jpeg(1080, 1080, 3)),
    ];
    app.publishing.compose(composition(account.id, PublicationKind::Feed, "Three views", carousel)).await.unwrap();
    let reel = vec![upload(&app, "reel.mov", &samples::mp4(30))];
    app.publishing.compose(composition(account.id, PublicationKind::Reel, "Shaping loaves", reel)).await.unwrap();
    let story = vec![upload(&app, "story.jpg", &samples::jpeg(1080, 1920, 4))];
    app.publishing.compose(composition(account.id, PublicationKind::Story, "", story)).await.unwrap();

    let summary = app.publishing.run_due(Trigger::Command).await.unwrap();
    assert_eq!(summary.published.len(), 3, "{summary:?}");
    let mut kinds: Vec<(String, String)> = app.sim.published(0).into_iter().map(|m| (m.1, m.2)).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [("CAROUSEL_ALBUM".into(), "FEED".into()), ("IMAGE".into(), "STORY".into()), ("VIDEO".into(), "REELS".into())]
    );
    // 3 item containers + the carousel's + the reel's + the story's.
    assert_eq!(app.sim.containers().len(), 6);
    assert_eq!(files_on_disk(&app), 0);
}

#[tokio::test]
async fn a_wrong_file_is_refused_before_anything_is_kept_naming_the_rule() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let cases: Vec<(PublicationKind, Upload, &str)> = vec![
        (PublicationKind::Feed, upload(&app, "notes.jpg", b"just some text, named like a picture"), "not a JPEG image"),
        (PublicationKind::Feed, upload(&app, "banner.jpg", &samples::jpeg(2000, 500, 2)), "1.91:1"),
        (PublicationKind::Reel, upload(&app, "long.mp4", &samples::mp4(16 * 60)), "from 3 s to 900 s"),
        (PublicationKind::Reel, upload(&app, "still.jpg", &samples::jpeg(1080, 1920, 2)), "MP4 or MOV"),
    ];
    for (kind, file, rule) in cases {
        let path = file.path.clone();
        let err = app.publishing.compose(composition(account.id, kind, "x", vec![file])).await.unwrap_err();
        assert!(matches!(err, ComposeRefused::Media(_)), "{err}");
        assert!(err.to_string().contains(rule), "{err} names the rule {rule:?}");
        assert!(!path.exists(), "the refused upload is removed");
    }
    let too_many: Vec<Upload> = (0..11).map(|i| upload(&app, "x.jpg", &samples::jpeg(800, 800, i))).collect();
    let err = app.publishing.compose(composition(account.id, PublicationKind::Feed, "x", too_many)).await.unwrap_err();
    assert!(err.to_string().contains("2 to 10"), "{err}");
    let long_caption = "#tag ".repeat(31);
    let file = upload(&app, "ok.jpg", &samples::jpeg(1080, 1080, 1));
    let err = app
        .publishing
        .compose(composition(account.id, PublicationKind::Feed, &long_caption, vec![file]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("31 hashtags"), "{err}");
    assert_eq!(app.count("SELECT count(*) AS n FROM publications").await, 0);
    assert_eq!(files_on_disk(&app), 0);
    assert_eq!(std::fs::read_dir(app.data_dir.0.join("uploads")).unwrap().count(), 0);
}

#[tokio::test]
async fn a_spent_quota_holds_the_post_until_the_limit_allows() {
    let app = spawn_app().await;
    app.sim.set_publishing(0, Duration::ZERO);
    let account = app.connect(0).await;
    let file = upload(&app, "a.jpg", &samples::jpeg(1080, 1080, 1));
    let id = app.publishing.compose(composition(account.id, PublicationKind::Feed, "Held", vec![file])).await.unwrap();

    let summary = app.publishing.run_due(Trigger::Command).await.unwrap();
    assert_eq!(summary.waiting.len(), 1, "{summary:?}");
    assert!(summary.waiting[0].1.contains("publishing limit"), "{summary:?}");
    assert_eq!(status_of(&app, id).await, "publishing");
    assert!(app.sim.containers().is_empty(), "no container is made while the quota is spent");
    let held = "SELECT count(*) AS n FROM publications WHERE next_attempt_at > now() + interval '50 minutes'";
    assert_eq!(app.count(held).await, 1, "it is tried again in an hour");
    let attempts = "SELECT count(*) AS n FROM publications WHERE attempts = 0";
    assert_eq!(app.count(attempts).await, 1, "a hold is not an attempt: it never runs out of tries");

    app.sim.set_publishing(50, Duration::ZERO);
    due_again(&app).await;
    let summary = app.publishing.run_due(Trigger::Command).await.unwrap();
    assert_eq!(summary.published.len(), 1, "{summary:?}");
    assert_eq!(status_of(&app, id).await, "published");
}

#[tokio::test]
async fn a_container_meta_cannot_process_is_retried_then_fails_with_metas_message() {
    let app = spawn_app().await;
    app.sim.set_faults(Faults { container_errors: 100, ..Faults::default() });
    let account = app.connect(0).await;
    let file = upload(&app, "a.jpg", &samples::jpeg(1080, 1080, 1));
    let id =
        app.publishing.compose(composition(account.id, PublicationKind::Feed, "Doomed", vec![file])).await.unwrap();
    for _ in 0..3 {
        let summary = app.publishing.run_due(Trigger::Command).await.unwrap();
        assert_eq!(summary.waiting.len(), 1, "{summary:?}");
        due_again(&app).await;
    }
    let summary = app.publishing.run_due(Trigger::Command).await.unwrap();
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    assert!(summary.failed[0].1.contains("2207053"), "Meta's status is kept: {summary:?}");
    assert_eq!(status_of(&app, id).await, "failed");
    assert!(app.sim.published(0).is_empty());
    let events = format!("SELECT count(*) AS n FROM publication_events WHERE publication_id = {id}");
    assert!(app.count(&events).await >= 6, "every step is recorded");
    assert_eq!(files_on_disk(&app), 1, "a failed post keeps its file, to be scheduled again");
}

#[tokio::test]
async fn a_lost_publish_answer_never_publishes_twice() {
    let app = spawn_app().await;
    app.sim.set_faults(Faults { lost_publish_answers: 1, ..Faults::default() });
    let account = app.connect(0).await;
    let file = upload(&app, "a.jpg", &samples::jpeg(1080, 1080, 1));
    let id =
        app.publishing.compose(composition(account.id, PublicationKind::Feed, "Once only", vec![file])).await.unwrap();

    let first = app.publishing.run_due(Trigger::Command).await.unwrap();
    assert_eq!(first.waiting.len(), 1, "the outcome is unknown: {first:?}");
    assert_eq!(app.sim.published(0).len(), 1, "Meta did publish it");

    due_again(&app).await;
    let second = app.publishing.run_due(Trigger::Command).await.unwrap();
    assert_eq!(second.published.len(), 1, "{second:?}");
    let live = app.sim.published(0);
    assert_eq!(live.len(), 1, "not published a second time");
    assert_eq!(second.published[0].2, live[0].0, "the publication is linked to the media Meta made");
    assert_eq!(status_of(&app, id).await, "published");
}

#[tokio::test]
async fn two_publishers_at_once_publish_each_post_once() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    for n in 0..4u8 {
        let file = upload(&app, "a.jpg", &samples::jpeg(1080, 1080, n));
        let caption = format!("Post {n}");
        app.publishing.compose(composition(account.id, PublicationKind::Feed, &caption, vec![file])).await.unwrap();
    }
    let (a, b) = tokio::join!(app.publishing.run_due(Trigger::Command), app.publishing.run_due(Trigger::Schedule));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.published.len() + b.published.len(), 4, "{a:?} {b:?}");
    let mut captions: Vec<String> = app.sim.published(0).into_iter().filter_map(|m| m.3).collect();
    captions.sort();
    assert_eq!(captions, ["Post 0", "Post 1", "Post 2", "Post 3"], "each exactly once");
}

#[tokio::test]
async fn an_expired_container_is_made_again() {
    let app = spawn_app().await;
    // Processing outlasts the run's patience: the first run leaves the container in progress.
    app.sim.set_publishing(50, Duration::from_secs(3600));
    let account = app.connect(0).await;
    let file = upload(&app, "reel.mp4", &samples::mp4(20));
    let id = app.publishing.compose(composition(account.id, PublicationKind::Reel, "Slow", vec![file])).await.unwrap();
    let first = app.publishing.run_due(Trigger::Command).await.unwrap();
    assert!(first.waiting.first().is_some_and(|w| w.1.contains("still processing")), "{first:?}");
    let containers = app.sim.containers();
    assert_eq!(containers.len(), 1);

    app.sim.expire_container(&containers[0].0);
    app.sim.set_publishing(50, Duration::ZERO);
    due_again(&app).await;
    app.publishing.run_due(Trigger::Command).await.unwrap();
    due_again(&app).await;
    let last = app.publishing.run_due(Trigger::Command).await.unwrap();
    assert_eq!(last.published.len(), 1, "{last:?}");
    assert_eq!(app.sim.containers().len(), 2, "a new container replaced the expired one");
    assert_eq!(status_of(&app, id).await, "published");
}

#[tokio::test]
async fn media_are_served_only_through_a_valid_link_and_only_until_published() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let bytes = samples::jpeg(1080, 1080, 5);
    let file = upload(&app, "a.jpg", &bytes);
    let id =
        app.publishing.compose(composition(account.id, PublicationKind::Feed, "Linked", vec![file])).await.unwrap();
    let detail = app.publishing.detail(id).await.unwrap().unwrap();
    let link = app.publishing.preview_url(&detail.files[0]).unwrap();
    let client = reqwest::Client::new();

    let response = client.get(app.url(&link)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let forged = link.replace("signature=", "signature=A");
    assert_eq!(client.get(app.url(&forged)).send().await.unwrap().status(), 404);
    let bare = link.split('?').next().unwrap();
    assert_eq!(client.get(app.url(bare)).send().await.unwrap().status(), 404);

    app.publishing.run_due(Trigger::Command).await.unwrap();
    assert_eq!(client.get(app.url(&link)).send().await.unwrap().status(), 404, "gone once published");
}

#[tokio::test]
async fn deleting_an_account_deletes_its_planned_files_and_strays_are_swept() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    planned_draft(&app, account.id).await;
    assert_eq!(files_on_disk(&app), 1);
    assert!(app.accounts.delete(account.id).await.unwrap());
    assert_eq!(files_on_disk(&app), 0, "the account's files went with it");
    assert_eq!(app.count("SELECT count(*) AS n FROM publications").await, 0);

    // A file no publication holds (a crash between storing and recording), old enough.
    let stray = app.data_dir.0.join("media").join("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.jpg");
    std::fs::write(&stray, samples::jpeg(64, 64, 1)).unwrap();
    let fresh = app.data_dir.0.join("media").join("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.jpg");
    std::fs::write(&fresh, samples::jpeg(64, 64, 1)).unwrap();
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&stray).unwrap().set_modified(hour_ago).unwrap();
    app.publishing.run_due(Trigger::Command).await.unwrap();
    assert!(!stray.exists(), "an old stray is removed");
    assert!(fresh.exists(), "a file stored a moment ago may be about to be recorded: kept");
}

/// Runs the binary off the test's runtime: the server it publishes through (which Meta fetches
/// the media from) runs on that runtime and must keep answering meanwhile.
async fn command(app: &TestApp, args: Vec<String>) -> (bool, String, String) {
    use std::process::Command;
    let (url, graph) = (app.db.url.clone(), app.sim.base_url().to_owned());
    tokio::task::spawn_blocking(move || {
        use base64::Engine;
        let output = Command::new(env!("CARGO_BIN_EXE_tidemark"))
            .args(&args)
            .env("DATABASE_URL", url)
            .env("TIDEMARK_TOKEN_KEY", base64::engine::general_purpose::STANDARD.encode([5u8; 32]))
            .env("TIDEMARK_GRAPH_BASE_URL", graph)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_publish_commands_schedule_list_and_publish_and_refuse_a_wrong_file_in_one_line() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    let dir = &app.data_dir.0;
    let (image, notes, caption) = (dir.join("loaf.jpg"), dir.join("notes.jpg"), dir.join("caption.txt"));
    std::fs::write(&image, samples::jpeg(1080, 1080, 3)).unwrap();
    std::fs::write(&notes, "not a picture").unwrap();
    std::fs::write(&caption, "From the command line 🍞\n").unwrap();
    let data_dir = format!("--data-dir={}", dir.display());
    let public_url = format!("--public-url={}", app.address);
    let schedule = |media: &std::path::Path| -> Vec<String> {
        let id = account.id.to_string();
        let (caption, media) = (caption.display().to_string(), media.display().to_string());
        ["publish", "schedule", "--account", &id, "--caption-file", &caption, "--media", &media, &data_dir, &public_url]
            .map(str::to_owned)
            .to_vec()
    };
    let words = |text: &[&str]| text.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

    let (ok, _, stderr) = command(&app, schedule(&notes)).await;
    assert!(!ok, "a wrong file exits non-zero");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("notes.jpg: not a JPEG image"), "{stderr}");
    assert!(notes.exists(), "the operator's file is left alone");

    let (ok, stdout, stderr) = command(&app, schedule(&image)).await;
    assert!(ok, "{stderr}");
    let publication = stdout.trim().to_owned();
    assert!(publication.parse::<i64>().is_ok(), "prints the id: {stdout}");
    assert!(image.exists(), "copied, not moved");

    let (ok, list, _) = command(&app, words(&["publish", "list"])).await;
    assert!(ok);
    assert!(list.starts_with(&format!("{publication}\t@harbour.bakery\tfeed\t")), "{list}");
    assert!(list.trim_end().ends_with("\tscheduled\t-"), "{list}");

    let (ok, run, stderr) = command(&app, words(&["publish", "run", &data_dir, &public_url])).await;
    assert!(ok, "{run} {stderr}");
    assert!(run.starts_with("1 published, 0 waiting, 0 failed"), "{run}");
    let published = app.sim.published(0);
    assert_eq!(published.len(), 1);
    assert_eq!(
        published[0].3.as_deref(),
        Some("From the command line 🍞"),
        "the caption file's last newline is dropped"
    );
    let (_, list, _) = command(&app, words(&["publish", "list"])).await;
    assert!(list.trim_end().ends_with(&format!("\tpublished\t{}", published[0].0)), "{list}");
}
