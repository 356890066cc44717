//! The sync end to end: real PostgreSQL, the simulator over HTTP, an injected clock.

use chrono::Duration;
use diesel_async::RunQueryDsl;
use tidemark::db::accounts::Account;
use tidemark::db::snapshots::{NewSnapshot, SnapshotWriter, WriteMark};
use tidemark::domain::{AccountStatus, Trigger};
use tidemark::simulator::{Faults, SimulatorConfig};
use tidemark::sync::cadence::Cadence;
use tidemark::sync::{self, RunResult, Scope};

use crate::helpers::{AppOptions, TestApp, spawn_app, spawn_app_with};

const BAKERY: usize = 0;
const STUDIO: usize = 1;
const COVE: usize = 2;

#[tokio::test]
async fn a_sync_of_several_accounts_tracks_every_post_in_the_window_and_records_its_runs() {
    let app = spawn_app().await;
    for index in [BAKERY, STUDIO, COVE] {
        app.connect(index).await;
    }
    let summary = app.run_sync().await;
    assert_eq!(summary.accounts, 3);
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);

    let window = app.sim.now() - Duration::days(90);
    for index in [BAKERY, STUDIO, COVE] {
        let ig = app.sim.ig_user_id(index);
        let tracked = app
            .count(&format!(
                "SELECT count(*) AS n FROM posts p JOIN ig_accounts a ON a.id = p.account_id \
                 WHERE a.ig_user_id = '{ig}' AND p.media_product_type <> 'STORY'"
            ))
            .await;
        let listed = app.sim.listed_media_ids(index).len();
        assert!(tracked > 0 && tracked as usize <= listed, "account {index}: {tracked} of {listed}");
        let outside = app
            .count(&format!("SELECT count(*) AS n FROM posts p JOIN ig_accounts a ON a.id = p.account_id WHERE a.ig_user_id = '{ig}' AND p.posted_at < '{}'", window.to_rfc3339()))
            .await;
        assert_eq!(outside, 0, "nothing older than the 90-day window is tracked");
    }
    let posts = app.count("SELECT count(*) AS n FROM posts").await;
    assert_eq!(summary.posts_seen as i64, posts);
    assert_eq!(app.count("SELECT count(*) AS n FROM post_snapshots").await, summary.snapshots_written as i64);
    assert_eq!(summary.snapshots_written as i64, posts, "every tracked post got its first snapshot");
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_runs WHERE outcome = 'success'").await, 3);
    assert_eq!(app.count("SELECT count(*) AS n FROM account_snapshots").await, 3);
    assert_eq!(app.count("SELECT count(*) AS n FROM account_daily_insights").await, 3);
    assert!(
        app.count("SELECT count(*) AS n FROM post_snapshots WHERE reach IS NOT NULL AND views IS NOT NULL").await > 0,
        "insights were stored"
    );
    let hashtags = app.count("SELECT count(*) AS n FROM posts WHERE 'sourdough' = ANY(hashtags)").await;
    assert!(hashtags > 0, "hashtags are extracted lower-case");
}

async fn snapshots_of(app: &crate::helpers::TestApp, media_id: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM post_snapshots s JOIN posts p ON p.id = s.post_id WHERE p.media_id = '{media_id}'"
    ))
    .await
}

#[tokio::test]
async fn young_middle_aged_and_old_posts_are_snapshotted_at_their_cadence() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    let young = app.sim.publish(BAKERY, true);
    let now = app.sim.now();
    app.run_sync().await;
    // A FEED post between `low` and `high` hours old.
    let find = |low: i64, high: i64| {
        format!(
            "SELECT media_id AS n FROM posts WHERE posted_at BETWEEN '{}' AND '{}' AND media_product_type = 'FEED' ORDER BY posted_at DESC LIMIT 1",
            (now - Duration::hours(high)).to_rfc3339(),
            (now - Duration::hours(low)).to_rfc3339()
        )
    };
    #[derive(diesel::QueryableByName)]
    struct MediaId {
        #[diesel(sql_type = diesel::sql_types::Text)]
        n: String,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await;
    let middle: MediaId =
        diesel::sql_query(find(60, 110)).get_result(&mut conn).await.expect("a post 2.5–4.5 days old");
    let old: MediaId =
        diesel::sql_query(find(24 * 20, 24 * 60)).get_result(&mut conn).await.expect("a post 20–60 days old");
    let (middle, old) = (middle.n, old.n);

    // A day of hourly ticks.
    for _ in 0..24 {
        app.sim.advance(Duration::hours(1));
        let summary = app.run_sync().await;
        assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    }
    assert_eq!(snapshots_of(&app, &young).await, 25, "a young post: every hour");
    assert_eq!(snapshots_of(&app, &middle).await, 5, "a middle-aged post: every six hours");
    assert_eq!(snapshots_of(&app, &old).await, 2, "an old post: daily");

    // The young post's curve rises and reach never exceeds views.
    #[derive(diesel::QueryableByName)]
    struct Point {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        reach: Option<i64>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        views: Option<i64>,
    }
    let curve: Vec<Point> = diesel::sql_query(format!(
        "SELECT s.reach, s.views FROM post_snapshots s JOIN posts p ON p.id = s.post_id WHERE p.media_id = '{young}' ORDER BY s.captured_at"
    ))
    .load(&mut conn)
    .await
    .unwrap();
    assert_eq!(curve[0].reach, None, "a brand-new post has no insights yet: not measured, not zero");
    let measured: Vec<i64> = curve.iter().filter_map(|p| p.reach).collect();
    assert!(measured.windows(2).all(|w| w[0] <= w[1]), "reach only grows: {measured:?}");
    assert!(measured[measured.len() - 1] > measured[0]);
    assert!(curve.iter().all(|p| p.reach.zip(p.views).is_none_or(|(r, v)| r <= v)));
}

#[tokio::test]
async fn a_retried_cycle_writes_no_duplicate_snapshot() {
    let app = spawn_app().await;
    app.connect(COVE).await;
    let first = app.run_sync().await;
    assert!(first.snapshots_written > 0);
    let again = app.run_sync().await;
    assert_eq!(again.snapshots_written, 0, "nothing is due seconds later");
    assert_eq!(app.count("SELECT count(*) AS n FROM post_snapshots").await, first.snapshots_written as i64);
    let duplicates = app
        .count("SELECT count(*) AS n FROM (SELECT post_id FROM post_snapshots GROUP BY post_id HAVING count(*) > 1) d")
        .await;
    assert_eq!(duplicates, 0);
}

#[tokio::test]
async fn the_snapshot_writer_skips_what_another_cycle_wrote_and_what_is_not_the_accounts_and_rechecks_only_after_an_overlap()
 {
    let app = spawn_app().await;
    let cove = app.connect(COVE).await;
    let studio = app.connect(STUDIO).await;
    let first = app.run_sync().await;
    assert!(first.snapshots_written > 0);
    #[derive(diesel::QueryableByName)]
    struct Latest {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        post_id: i64,
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        at: chrono::DateTime<chrono::Utc>,
    }
    let mut conn = app.db.connect().await;
    let latest: Latest = diesel::sql_query(format!(
        "SELECT s.post_id, max(s.captured_at) AS at FROM post_snapshots s JOIN posts p ON p.id = s.post_id \
         WHERE p.account_id = {} GROUP BY s.post_id ORDER BY s.post_id LIMIT 1",
        cove.id
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    let post = tidemark::domain::PostId(latest.post_id);
    let at = |later: Duration| NewSnapshot::from_metrics(post, latest.at + later, |_| Some(7.0));
    let always = |_, _, _| true;
    let cadence = Cadence::default();
    let due = |posted_at, last, now| cadence.is_due(posted_at, last, now);
    let stored = app.count("SELECT count(*) AS n FROM post_snapshots").await;

    let mut writer = SnapshotWriter::connect(&app.db.url).await.unwrap();
    let unknown = WriteMark::UNKNOWN;
    // A retried cycle: the very snapshot already stored is skipped, not an error.
    assert_eq!(writer.write(cove.id, unknown, &[at(Duration::zero())], &always).await.unwrap().0, 0);
    // An overlapping cycle a minute later: the re-check sees the stored one, so not due.
    assert_eq!(writer.write(cove.id, unknown, &[at(Duration::minutes(1))], &due).await.unwrap().0, 0);
    // Written under another account's name: not that account's post.
    assert_eq!(writer.write(studio.id, unknown, &[at(Duration::days(2))], &always).await.unwrap().0, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM post_snapshots").await, stored, "nothing was written");

    // Read before the due posts, a mark lets the write trust them; two days on, it is due.
    let seen = writer.mark(cove.id).await.unwrap();
    let (written, next) = writer.write(cove.id, seen, &[at(Duration::days(2))], &due).await.unwrap();
    assert_eq!(written, 1);
    assert_ne!(next, seen, "the write moves the mark");
    // A writer still holding the old mark has missed that write: it re-checks, and skips.
    assert_eq!(writer.write(cove.id, seen, &[at(Duration::days(2) + Duration::minutes(1))], &due).await.unwrap().0, 0);
    assert_eq!(writer.mark(cove.id).await.unwrap(), next, "a write of nothing leaves the mark");
    // With the current mark nothing is asked again: the caller's reading of what is due stands.
    let never = |_, _, _| false;
    assert_eq!(writer.write(cove.id, next, &[at(Duration::days(3))], &never).await.unwrap().0, 1);

    // The next cycle reads the newest as the post's latest.
    let live = tidemark::db::posts::live(&mut conn, cove.id, None).await.unwrap();
    let read = live.iter().find(|p| p.id == post).unwrap();
    assert_eq!(read.last_snapshot_at, Some(latest.at + Duration::days(3)));
    assert_eq!(
        app.count(&format!("SELECT count(*) AS n FROM post_snapshots WHERE post_id = {} AND views = 7", post.0)).await,
        2
    );
}

#[tokio::test]
async fn the_snapshot_writer_makes_the_month_it_writes_into_and_the_months_read_as_one_table() {
    let app = spawn_app().await;
    let cove = app.connect(COVE).await;
    app.run_sync().await;
    let post = tidemark::domain::PostId(
        app.count(&format!("SELECT min(id) AS n FROM posts WHERE account_id = {}", cove.id)).await,
    );
    let months = "SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'post_snapshots'::regclass";
    let before = app.count(months).await;
    // Four months on, a month no partition holds yet: the write makes it rather than fail.
    // PostgreSQL keeps microseconds.
    let later = chrono::SubsecRound::trunc_subsecs(app.sim.now() + Duration::days(120), 6);
    let month = format!("post_snapshots_{}", later.format("%Y_%m"));
    assert_eq!(app.count(&format!("SELECT count(*) AS n FROM pg_class WHERE relname = '{month}'")).await, 0);
    let mut writer = SnapshotWriter::connect(&app.db.url).await.unwrap();
    let snapshot = NewSnapshot::from_metrics(post, later, |_| Some(11.0));
    let (written, _) = writer.write(cove.id, WriteMark::UNKNOWN, &[snapshot], &|_, _, _| true).await.unwrap();
    assert_eq!(written, 1);
    assert_eq!(app.count(&format!("SELECT count(*) AS n FROM \"{month}\" WHERE views = 11")).await, 1);
    assert_eq!(app.count(months).await, before + 1);
    // The post's history reads across its months, newest first as the sync asks it.
    let mut conn = app.db.connect().await;
    let live = tidemark::db::posts::live(&mut conn, cove.id, None).await.unwrap();
    assert_eq!(live.iter().find(|p| p.id == post).unwrap().last_snapshot_at, Some(later));
    let months_of_post = format!("SELECT count(DISTINCT tableoid) AS n FROM post_snapshots WHERE post_id = {}", post.0);
    assert_eq!(app.count(&months_of_post).await, 2, "the first sync's month and the new one");
}

#[tokio::test]
async fn two_concurrent_syncs_run_once() {
    let app = spawn_app().await;
    app.connect(COVE).await;
    app.sim.set_faults(Faults { latency: std::time::Duration::from_millis(40), ..Faults::default() });
    let other = app.fresh_sync();
    let (a, b) = tokio::join!(
        sync::run(&app.sync, Scope::All, Trigger::Schedule),
        sync::run(&other, Scope::All, Trigger::Manual)
    );
    let results = [a.unwrap(), b.unwrap()];
    let ran = results.iter().filter(|r| matches!(r, RunResult::Ran(_))).count();
    let busy = results.iter().filter(|r| matches!(r, RunResult::Busy)).count();
    assert_eq!((ran, busy), (1, 1));
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_runs").await, 1);
}

#[tokio::test]
async fn an_expired_token_flags_its_account_and_the_others_keep_syncing() {
    let app = spawn_app().await;
    let bakery = app.connect(BAKERY).await;
    app.connect(STUDIO).await;
    app.connect(COVE).await;
    // The stored token is the one the connect refresh returned; expire every bakery token.
    for token in app.sim_tokens_of(BAKERY) {
        app.sim.expire_token(&token);
    }
    let summary = app.run_sync().await;
    assert_eq!(summary.accounts, 3);
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
    assert!(summary.errors[0].contains("Session has expired"));

    let mut conn = app.db.connect().await;
    let flagged = Account::find(&mut conn, bakery.id).await.unwrap().unwrap();
    assert_eq!(flagged.status, AccountStatus::NeedsReauth);
    assert!(flagged.token().is_none(), "a token Meta refused is deleted, not kept");
    assert!(flagged.status_reason.unwrap().contains("Connect @"));
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_runs WHERE outcome = 'success'").await, 2);
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_runs WHERE error_kind = 'token_invalid'").await, 1);
    let kept = app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {}", bakery.id)).await;

    let next = app.run_sync().await;
    assert_eq!(next.accounts, 2, "polling stopped for the flagged account");
    assert_eq!(
        app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {}", bakery.id)).await,
        kept,
        "its data stays"
    );

    // Pasting a new token re-connects the same account.
    let fresh = app.sim.issue_token(BAKERY, Duration::days(2), 60);
    let admin = app.admin().await;
    let response = app.post_form(&admin, "/accounts", "/accounts", &[("token", &fresh), ("login", "auto")]).await;
    assert_eq!(response.status(), 303);
    let back = Account::find(&mut conn, bakery.id).await.unwrap().unwrap();
    assert_eq!(back.status, AccountStatus::Active);
    assert_eq!(app.run_sync().await.accounts, 3);
}

#[tokio::test]
async fn a_spent_budget_pauses_the_account_until_the_wait_is_over() {
    let app = spawn_app().await;
    let cove = app.connect(COVE).await;
    for token in app.sim_tokens_of(COVE) {
        app.sim.set_budget(&token, 2);
    }
    let summary = app.run_sync().await;
    assert_eq!(summary.errors.len(), 1);
    assert!(summary.errors[0].contains("rate limited"), "{:?}", summary.errors);
    let mut conn = app.db.connect().await;
    let paused = Account::find(&mut conn, cove.id).await.unwrap().unwrap();
    let until = paused.paused_until.expect("paused");
    assert!(until > app.sim.now() + Duration::minutes(4), "the API's 5-minute wait is honoured");
    assert_eq!(paused.status, AccountStatus::Active, "a pause, not a re-connect");

    assert_eq!(app.run_sync().await.accounts, 0, "not called while paused");

    app.sim.advance(Duration::minutes(6));
    for token in app.sim_tokens_of(COVE) {
        app.sim.set_budget(&token, 1_000_000);
    }
    // A new process: the in-memory rate book of the old client is gone, as after real time passed.
    let later = app.fresh_sync();
    let RunResult::Ran(resumed) = sync::run(&later, Scope::All, Trigger::Schedule).await.unwrap() else {
        panic!("busy")
    };
    assert_eq!(resumed.accounts, 1);
    assert!(resumed.errors.is_empty(), "{:?}", resumed.errors);
    assert!(Account::find(&mut conn, cove.id).await.unwrap().unwrap().paused_until.is_none());
}

#[tokio::test]
async fn posts_gone_from_instagram_are_marked_removed_and_keep_their_history() {
    let app = spawn_app().await;
    app.connect(COVE).await;
    app.run_sync().await;
    let gone = app.sim.listed_media_ids(COVE)[0].clone();
    app.sim.delete_media(&gone);
    app.sim.advance(Duration::hours(25));
    app.run_sync().await;
    let removed = app
        .count(&format!("SELECT count(*) AS n FROM posts WHERE media_id = '{gone}' AND removed_at IS NOT NULL"))
        .await;
    assert_eq!(removed, 1);
    assert_eq!(snapshots_of(&app, &gone).await, 1, "its history stays, and it is not snapshotted any more");
    assert_eq!(app.count("SELECT count(*) AS n FROM posts WHERE removed_at IS NOT NULL").await, 1);
}

#[tokio::test]
async fn a_refused_metric_is_remembered_across_syncs_and_shown_to_the_operator() {
    let simulator = SimulatorConfig { refuse: vec![("FEED".into(), "shares".into())], ..SimulatorConfig::standard(42) };
    let app = spawn_app_with(AppOptions { simulator, ..AppOptions::default() }).await;
    app.connect(COVE).await;
    let first = app.run_sync().await;
    assert!(first.errors.is_empty(), "a refused metric is not a failed sync: {:?}", first.errors);
    assert!(app.count("SELECT count(*) AS n FROM dropped_metrics WHERE metric = 'shares'").await >= 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM post_snapshots s JOIN posts p ON p.id = s.post_id WHERE p.media_product_type = 'FEED' AND s.shares IS NOT NULL").await,
        0,
        "not measured stays NULL"
    );
    let page = app.get_text(&app.admin().await, "/sync").await;
    assert!(page.contains("Metrics the API refused"));
    assert!(page.contains("shares"));

    // The next sync (a new process) loads the exclusion and asks one call per post.
    app.sim.advance(Duration::hours(30));
    let later = app.fresh_sync();
    let comment_pages = app.sim.comment_pages();
    let RunResult::Ran(second) = sync::run(&later, Scope::All, Trigger::Schedule).await.unwrap() else {
        panic!("busy")
    };
    let due = second.snapshots_written as u32;
    let comment_pages = (app.sim.comment_pages() - comment_pages) as u32;
    // profile + media page + stories + one insights call per due post (account day already
    // stored) + the comment pages of recent posts whose count moved.
    assert_eq!(second.api_calls, 3 + due + 2 + comment_pages, "{second}");
}

#[tokio::test]
async fn instagram_tokens_are_refreshed_before_they_expire() {
    let app = spawn_app().await;
    let cove = app.connect(COVE).await;
    let first_expiry = cove.token_expires_at.unwrap();
    app.sim.advance(Duration::days(55));
    let summary = app.run_sync().await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    let mut conn = app.db.connect().await;
    let after = Account::find(&mut conn, cove.id).await.unwrap().unwrap();
    assert!(after.token_expires_at.unwrap() > first_expiry + Duration::days(50), "refreshed for another 60 days");
    assert_ne!(after.token().unwrap().ciphertext, cove.token().unwrap().ciphertext);
    // The new token works.
    app.sim.advance(Duration::days(10));
    assert!(app.run_sync().await.errors.is_empty());
}

#[tokio::test]
async fn sync_now_holds_to_a_rate_limit_pause_and_says_until_when() {
    let app = spawn_app().await;
    let cove = app.connect(COVE).await;
    for token in app.sim_tokens_of(COVE) {
        app.sim.set_budget(&token, 2);
    }
    app.run_sync().await;
    let mut conn = app.db.connect().await;
    let until = Account::find(&mut conn, cove.id).await.unwrap().unwrap().paused_until.expect("paused");
    let runs = app.count("SELECT count(*) AS n FROM sync_runs").await;

    let admin = app.admin().await;
    let page = format!("/accounts/{}", cove.id);
    let response = app.post_form(&admin, &page, &format!("/accounts/{}/sync", cove.id), &[]).await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("paused by Instagram"), "{body}");
    assert!(body.contains(&until.format("%Y-%m-%d %H:%M UTC").to_string()), "the page says until when: {body}");

    // The command's one-account sync refuses too, and nothing was called or recorded.
    let refused = sync::run(&app.sync, Scope::Account(cove.id), Trigger::Command).await.unwrap_err();
    assert!(format!("{refused:#}").contains("paused by a rate limit until"), "{refused:#}");
    assert_eq!(app.count("SELECT count(*) AS n FROM sync_runs").await, runs, "no cycle ran");
}

/// Makes every statement of `kind` (INSERT, UPDATE…) on `table` fail, as a full disk or a
/// lost permission would.
async fn refuse_writes(app: &TestApp, table: &str, kind: &str) {
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "CREATE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'writes refused by the test'; END $$",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(format!(
        "CREATE TRIGGER refuse_write BEFORE {kind} ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_write()"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_cycle_that_cannot_be_recorded_does_not_run_and_is_counted() {
    let app = spawn_app().await;
    app.connect(COVE).await;
    refuse_writes(&app, "sync_runs", "INSERT").await;

    let summary = app.run_sync().await;
    assert_eq!(summary.failed_accounts, 1, "{summary:?}");
    assert!(summary.errors[0].contains("could not be recorded"), "{:?}", summary.errors);
    assert_eq!(summary.api_calls, 0, "nothing was asked of the API");
    assert_eq!(app.count("SELECT count(*) AS n FROM post_snapshots").await, 0, "no unrecorded snapshots");

    let metrics = app.get_text(&reqwest::Client::new(), "/metrics").await;
    assert!(metrics.contains("tidemark_sync_bookkeeping_errors_total{what=\"record_run\"} 1"), "counted: {metrics}");
}

#[tokio::test]
async fn a_refused_token_whose_state_cannot_be_saved_is_said_in_the_run_and_counted() {
    let app = spawn_app().await;
    let bakery = app.connect(BAKERY).await;
    for token in app.sim_tokens_of(BAKERY) {
        app.sim.expire_token(&token);
    }
    refuse_writes(&app, "ig_accounts", "UPDATE").await;

    let summary = app.run_sync().await;
    assert_eq!(summary.errors.len(), 1);
    assert!(summary.errors[0].contains("needs_reauth state could not be saved"), "{:?}", summary.errors);
    let message =
        app.count("SELECT count(*) AS n FROM sync_runs WHERE error_message LIKE '%state could not be saved%'").await;
    assert_eq!(message, 1, "the run row says so too");
    let mut conn = app.db.connect().await;
    assert_eq!(Account::find(&mut conn, bakery.id).await.unwrap().unwrap().status, AccountStatus::Active);
    let metrics = app.get_text(&reqwest::Client::new(), "/metrics").await;
    assert!(
        metrics.contains("tidemark_sync_bookkeeping_errors_total{what=\"save_needs_reauth\"} 1"),
        "counted: {metrics}"
    );
}

#[tokio::test]
async fn no_log_line_names_an_instagram_account() {
    let captured = crate::graph::Captured::default();
    let writer = captured.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = spawn_app().await;
    let bakery = app.connect(BAKERY).await;
    let cove = app.connect(COVE).await;
    app.run_sync().await;
    for token in app.sim_tokens_of(BAKERY) {
        app.sim.expire_token(&token);
    }
    for token in app.sim_tokens_of(COVE) {
        app.sim.set_budget(&token, 1);
    }
    app.sim.advance(Duration::hours(2));
    let summary = app.run_sync().await;
    assert_eq!(summary.errors.len(), 2, "{:?}", summary.errors);
    let refused = sync::run(&app.sync, Scope::Account(cove.id), Trigger::Command).await.unwrap_err();
    tracing::warn!(error = format!("{refused:#}"), "logged as a manual sync would");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("account synced") && logs.contains("account_id"), "the runs were logged");
    for username in [&bakery.username, &cove.username] {
        assert!(!logs.contains(username.as_str()), "a log line names @{username}");
    }
}

#[tokio::test]
async fn facebook_tokens_are_re_exchanged_with_the_operators_app_before_they_expire() {
    let app = spawn_app().await;
    let studio = app.connect(STUDIO).await;
    let first_expiry = studio.token_expires_at.expect("debug_token tells the expiry");
    app.sim.advance(Duration::days(45));
    let summary = app.run_sync().await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    let mut conn = app.db.connect().await;
    let after = Account::find(&mut conn, studio.id).await.unwrap().unwrap();
    assert!(after.token_expires_at.unwrap() > first_expiry + Duration::days(40), "a new 60-day token");
    assert_ne!(after.token().unwrap().ciphertext, studio.token().unwrap().ciphertext);
    app.sim.advance(Duration::days(20));
    assert!(app.run_sync().await.errors.is_empty(), "the new token works past the old one's expiry");
}

#[tokio::test]
async fn a_retired_account_metric_is_shed_and_remembered_and_the_days_keep_coming() {
    let simulator =
        SimulatorConfig { refuse: vec![("ACCOUNT".into(), "website_clicks".into())], ..SimulatorConfig::standard(42) };
    let app = spawn_app_with(AppOptions { simulator, ..AppOptions::default() }).await;
    app.connect(BAKERY).await;
    let summary = app.run_sync().await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM account_daily_insights WHERE reach IS NOT NULL").await,
        1,
        "the day is stored"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM account_daily_insights WHERE website_clicks IS NOT NULL").await, 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM dropped_metrics WHERE media_product_type = 'ACCOUNT' AND metric = 'website_clicks'").await,
        1,
        "remembered, and shown on the sync page"
    );
    // A new process asks for the next day without it, straight away.
    app.sim.advance(Duration::days(1));
    let later = app.fresh_sync();
    let RunResult::Ran(next) = sync::run(&later, Scope::All, Trigger::Schedule).await.unwrap() else { panic!("busy") };
    assert!(next.errors.is_empty(), "{:?}", next.errors);
    assert_eq!(app.count("SELECT count(*) AS n FROM account_daily_insights WHERE reach IS NOT NULL").await, 2);
}

#[tokio::test]
async fn sync_times_are_shown_in_the_operators_time_zone() {
    let app = spawn_app().await;
    let cove = app.connect(COVE).await;
    app.run_sync().await;
    crate::helpers::execute(&mut app.db.connect().await, "UPDATE settings SET timezone = 'Asia/Tokyo'").await;
    let admin = app.admin().await;
    let started = app.count("SELECT floor(extract(epoch FROM max(started_at)))::bigint AS n FROM sync_runs").await;
    let local = chrono::DateTime::from_timestamp(started, 0)
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .format("%Y-%m-%d %H:%M JST")
        .to_string();
    for path in ["/sync".to_owned(), format!("/accounts/{}", cove.id), "/".to_owned()] {
        let page = app.get_text(&admin, &path).await;
        assert!(page.contains(&local), "{path} shows {local}: {page}");
    }
}

#[tokio::test]
async fn the_sync_keeps_a_small_copy_of_each_posts_picture_and_the_pages_show_it() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.create_user("vera", tidemark::domain::Role::Viewer).await;
    let summary = app.run_sync().await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    let posts = app.count("SELECT count(*) AS n FROM posts").await;
    let kept = "SELECT count(*) AS n FROM post_thumbnails WHERE image IS NOT NULL";
    assert_eq!(app.count(kept).await, posts.min(24), "the newest 24 in the first cycle");
    for _ in 0..posts / 24 + 1 {
        app.run_sync().await;
    }
    assert_eq!(app.count(kept).await, posts, "the rest in the next cycles, each once");

    let newest = app.count("SELECT id AS n FROM posts ORDER BY posted_at DESC LIMIT 1").await;
    let viewer = app.signed_in("vera").await;
    let response = app.get(&viewer, &format!("/posts/{newest}/picture")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    let picture = image::load_from_memory(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(picture.width().max(picture.height()), 96, "made small, its shape kept");
    let list = app.get_text(&viewer, "/posts").await;
    assert!(list.contains(&format!("<img src=\"/posts/{newest}/picture\"")), "the posts list shows it");
    let anonymous = app.get(&crate::helpers::browser(), &format!("/posts/{newest}/picture")).await;
    assert_eq!(anonymous.status(), 303, "pictures are for signed-in users");
    assert_eq!(app.get(&viewer, "/posts/999999/picture").await.status(), 404);

    let mut conn = app.db.connect().await;
    diesel::sql_query(format!("DELETE FROM posts WHERE id = {newest}")).execute(&mut conn).await.unwrap();
    assert_eq!(app.count(&format!("SELECT count(*) AS n FROM post_thumbnails WHERE post_id = {newest}")).await, 0);
}

#[tokio::test]
async fn a_picture_that_is_not_an_image_is_recorded_and_tried_again_a_day_later() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.sim.set_faults(Faults { broken_pictures: true, ..Faults::default() });
    let summary = app.run_sync().await;
    assert!(summary.errors.is_empty(), "a picture never fails the cycle: {:?}", summary.errors);
    let failed =
        "SELECT count(*) AS n FROM post_thumbnails WHERE image IS NULL AND problem LIKE 'the picture is not an image%'";
    let tried = app.count(failed).await;
    assert!(tried > 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM post_thumbnails WHERE image IS NOT NULL").await, 0);
    let admin = app.admin().await;
    let list = app.get_text(&admin, "/posts").await;
    assert!(!list.contains("/picture\""), "no picture is linked");
    assert!(list.contains("class=\"no-picture\""), "a placeholder stands in");

    app.sim.set_faults(Faults::default());
    app.run_sync().await;
    assert_eq!(app.count(failed).await, tried, "not tried again within the day");
    app.sim.advance(Duration::hours(25));
    // New posts of the day come first; a few cycles reach the older ones.
    for _ in 0..4 {
        app.run_sync().await;
    }
    // Stories have gone from Instagram by then, and with them their pictures.
    let failed_posts = "SELECT count(*) AS n FROM post_thumbnails t JOIN posts p ON p.id = t.post_id
         WHERE t.image IS NULL AND p.media_product_type IS DISTINCT FROM 'STORY'";
    assert_eq!(app.count(failed_posts).await, 0, "a day later the posts' pictures are kept");
}

#[tokio::test]
async fn a_sync_of_one_account_moves_its_own_version_and_leaves_the_others() {
    let app = spawn_app().await;
    let (bakery, cove) = (app.connect(BAKERY).await, app.connect(COVE).await);
    app.run_sync().await;
    let version = |id: tidemark::domain::AccountId| format!("SELECT n FROM account_versions WHERE account_id = {}", id.0);
    let (common, data) = ("SELECT common AS n FROM data_version", "SELECT n FROM data_version");
    let before = (app.count(&version(bakery.id)).await, app.count(&version(cove.id)).await);
    let (common_before, data_before) = (app.count(common).await, app.count(data).await);

    app.sim.advance(Duration::hours(2));
    let RunResult::Ran(summary) = sync::run(&app.sync, Scope::Account(bakery.id), Trigger::Manual).await.unwrap() else {
        panic!("the sync lock was free");
    };
    assert!(summary.snapshots_written > 0, "the run wrote snapshots: {summary:?}");
    assert!(app.count(&version(bakery.id)).await > before.0, "the synced account's pages are made again");
    assert_eq!(app.count(&version(cove.id)).await, before.1, "the other account's pages stay kept");
    assert_eq!(app.count(common).await, common_before, "nothing every account's pages read changed");
    assert!(app.count(data).await > data_before, "the pages across accounts are made again");
}
