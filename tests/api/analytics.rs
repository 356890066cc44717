//! The analytics pages and exports on a synced database.

use chrono::Duration;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use tidemark::analytics::impact::{AtCheckpoint, impact};
use tidemark::domain::Role;

use tidemark::routes::{Access, ROUTE_TABLE};

use crate::helpers::{TestApp, csrf_token_in, spawn_app};

const BAKERY: usize = 0;
const STUDIO: usize = 1;
const COVE: usize = 2;

/// An app with three accounts synced over two simulated days.
async fn synced() -> TestApp {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.connect(STUDIO).await;
    app.connect(COVE).await;
    for _ in 0..8 {
        app.run_sync().await;
        app.sim.advance(Duration::hours(6));
    }
    app
}

/// A whole-history view: from long ago to today.
fn all_time(app: &TestApp) -> String {
    format!("from=2000-01-01&to={}", app.sim.now().date_naive())
}

#[tokio::test]
async fn captions_are_escaped_everywhere_they_are_shown() {
    let app = synced().await;
    let admin = app.admin().await;
    let hostile = app.count("SELECT count(*) AS n FROM posts WHERE caption LIKE '<script>%'").await;
    assert!(hostile > 0, "the simulator posted a hostile caption");
    let post = app.count("SELECT min(id) AS n FROM posts WHERE caption LIKE '<script>%'").await;
    let account = app.count(&format!("SELECT account_id AS n FROM posts WHERE id = {post}")).await;
    let range = all_time(&app);
    for path in [
        format!("/posts/{post}"),
        format!("/posts?{range}"),
        format!("/posts?{range}&sort=oldest"),
        format!("/accounts/{account}?{range}"),
        format!("/?{range}"),
    ] {
        let html = app.get_text(&admin, &path).await;
        assert!(!html.contains("<script>alert"), "{path} shows a caption unescaped");
        if path.starts_with("/posts/") {
            assert!(html.contains("&#60;script&#62;alert("), "{path} shows the caption, escaped");
        }
    }
}

#[tokio::test]
async fn the_post_page_shows_the_stored_figures_curves_and_score() {
    let app = synced().await;
    let admin = app.admin().await;
    #[derive(QueryableByName)]
    struct Latest {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        reach: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        snapshots: i64,
    }
    let mut conn = app.db.connect().await;
    let post: Latest = diesel::sql_query(
        "SELECT s.post_id AS id, s.reach, (SELECT count(*) FROM post_snapshots WHERE post_id = s.post_id) AS snapshots \
         FROM post_scores s WHERE s.reach > 1000 ORDER BY s.post_id LIMIT 1",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    let html = app.get_text(&admin, &format!("/posts/{}", post.id)).await;
    let reach = tidemark::services::views::format::count(Some(post.reach));
    assert!(
        html.contains(&format!("<span class=\"figure\">{reach}</span><span class=\"label\">reach</span>")),
        "reach {reach}"
    );
    assert!(html.contains("data-chart="), "the curves are drawn");
    assert!(html.contains("typical"), "beside the typical curve");
    assert_eq!(html.matches("<tr><td>").count() as i64, post.snapshots, "every snapshot is listed");
    assert!(html.contains("impact score"));

    // A Reel shows its watching, a Story its taps, from the latest snapshot.
    #[derive(QueryableByName)]
    struct Reel {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        watch_ms: i64,
        #[diesel(sql_type = diesel::sql_types::Double)]
        skip: f64,
    }
    let reel: Reel = diesel::sql_query(
        "SELECT DISTINCT ON (p.id) p.id, s.ig_reels_avg_watch_time_ms AS watch_ms, s.reels_skip_rate AS skip \
         FROM posts p JOIN post_snapshots s ON s.post_id = p.id \
         WHERE p.media_product_type = 'REELS' ORDER BY p.id, s.captured_at DESC LIMIT 1",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    let html = app.get_text(&admin, &format!("/posts/{}", reel.id)).await;
    assert!(html.contains("<h2 id=\"details-title\">Reel figures</h2>"));
    let watch = format!("<dt>average watch time</dt><dd>{:.1} s ", reel.watch_ms as f64 / 1000.0);
    assert!(html.contains(&watch), "{watch}");
    assert!(html.contains(&format!("<dt>skip rate</dt><dd>{:.1} % ", reel.skip)));
    let story = app.count("SELECT min(id) AS n FROM posts WHERE media_product_type = 'STORY'").await;
    let html = app.get_text(&admin, &format!("/posts/{story}")).await;
    assert!(html.contains("<dt>navigation</dt>") && html.contains("<dt>replies</dt>") && !html.contains("watch time"));
}

#[tokio::test]
async fn impact_scores_follow_the_definition_from_the_stored_checkpoints() {
    let app = synced().await;
    #[derive(QueryableByName, Debug)]
    struct Cp {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        post_id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        format: String,
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        posted_at: chrono::DateTime<chrono::Utc>,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        account_id: i64,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        checkpoint_hours: i32,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        reach: Option<i64>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        interactions: Option<i64>,
    }
    let mut conn = app.db.connect().await;
    let rows: Vec<Cp> = diesel::sql_query(
        "SELECT c.post_id, s.format, p.posted_at, p.account_id, c.checkpoint_hours, c.reach, c.interactions \
         FROM post_checkpoints c JOIN posts p ON p.id = c.post_id JOIN post_scores s ON s.post_id = c.post_id",
    )
    .load(&mut conn)
    .await
    .unwrap();
    #[derive(QueryableByName)]
    struct Score {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        post_id: i64,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::SmallInt>)]
        impact: Option<i16>,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        impact_cohort: i32,
    }
    let scores: Vec<Score> =
        diesel::sql_query("SELECT post_id, impact, impact_cohort FROM post_scores").load(&mut conn).await.unwrap();
    let mut scored = 0;
    for score in &scores {
        let mine: Vec<&Cp> = rows.iter().filter(|r| r.post_id == score.post_id).collect();
        let Some(latest) = mine.iter().max_by_key(|r| r.checkpoint_hours) else { continue };
        let cohort: Vec<AtCheckpoint> = rows
            .iter()
            .filter(|r| {
                r.account_id == latest.account_id
                    && r.format == latest.format
                    && r.checkpoint_hours == latest.checkpoint_hours
                    && r.posted_at < latest.posted_at
            })
            .map(|r| AtCheckpoint { reach: r.reach, interactions: r.interactions })
            .collect();
        let expected = impact(
            AtCheckpoint { reach: latest.reach, interactions: latest.interactions },
            &cohort,
            i64::from(latest.checkpoint_hours),
        );
        assert_eq!(score.impact.map(|s| s as u8), expected.score(), "post {}", score.post_id);
        assert_eq!(score.impact_cohort as usize, cohort.len());
        scored += usize::from(score.impact.is_some());
    }
    assert!(scored > 0, "some posts have enough history to be scored");
}

#[tokio::test]
async fn the_csv_exports_equal_the_database_rows() {
    let app = synced().await;
    let admin = app.admin().await;
    let account = app.count("SELECT min(id) AS n FROM ig_accounts").await;
    let posts = app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {account}")).await;
    let snapshots = app
        .count(&format!(
            "SELECT count(*) AS n FROM post_snapshots s JOIN posts p ON p.id = s.post_id WHERE p.account_id = {account}"
        ))
        .await;

    let response = app.get(&admin, &format!("/export/posts.csv?account={account}&{}", all_time(&app))).await;
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("UTC") || disposition.contains("tidemark-posts-"), "{disposition}");
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    // The headers are part of the public interface: written out here, not read from the code.
    let expected = [
        "account",
        "post_id",
        "media_id",
        "published_utc",
        "format",
        "media_product_type",
        "media_type",
        "permalink",
        "caption",
        "hashtags",
        "removed_utc",
        "latest_snapshot_utc",
        "reach",
        "views",
        "likes",
        "comments",
        "saved",
        "shares",
        "interactions",
        "followers_at_posting",
        "rate_by_reach_pct",
        "rate_by_followers_pct",
        "rate_by_views_pct",
        "impact",
        "impact_cohort",
        "impact_checkpoint_hours",
    ];
    assert_eq!(header, expected);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len() as i64, posts);
    let reach_col = header.iter().position(|h| h == "reach").unwrap();
    let id_col = header.iter().position(|h| h == "post_id").unwrap();
    for record in records.iter().take(20) {
        let id: i64 = record[id_col].parse().unwrap();
        let stored =
            app.count(&format!("SELECT coalesce((SELECT reach FROM post_scores WHERE post_id = {id}), -1) AS n")).await;
        let shown = if record[reach_col].is_empty() { -1 } else { record[reach_col].parse().unwrap() };
        assert_eq!(shown, stored, "post {id}");
    }

    let text = app.get_text(&admin, &format!("/export/snapshots.csv?account={account}")).await;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let expected = [
        "account",
        "post_id",
        "media_id",
        "captured_utc",
        "views",
        "reach",
        "likes",
        "comments",
        "saved",
        "shares",
        "total_interactions",
        "follows",
        "profile_visits",
        "profile_activity",
        "replies",
        "navigation",
        "reposts",
        "ig_reels_avg_watch_time_ms",
        "ig_reels_video_view_total_time_ms",
        "reels_skip_rate_pct",
    ];
    assert_eq!(header, expected);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len() as i64, snapshots, "every snapshot, across pages of 1000");
    let keys: Vec<(i64, String)> = records.iter().map(|r| (r[1].parse().unwrap(), r[3].to_owned())).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "by post, then time, each once");
    assert!(records.iter().all(|r| r[3].ends_with('Z')), "UTC ISO-8601");
    let empty_reach = records.iter().filter(|r| r[5].is_empty()).count() as i64;
    let null_reach = app
        .count(&format!("SELECT count(*) AS n FROM post_snapshots s JOIN posts p ON p.id = s.post_id WHERE p.account_id = {account} AND s.reach IS NULL"))
        .await;
    assert_eq!(empty_reach, null_reach, "not measured is an empty cell, never 0");
}

#[tokio::test]
async fn the_dashboard_and_account_pages_show_each_accounts_period() {
    let app = synced().await;
    let admin = app.admin().await;
    let html = app.get_text(&admin, "/?days=7").await;
    assert!(html.contains("@harbour.bakery") && html.contains("@quiet.cove"));
    assert!(html.contains("interactions ÷ reach"), "the formula in use is stated");
    let today = app.sim.now().date_naive();
    let week_start = (today - Duration::days(6)).and_hms_opt(0, 0, 0).unwrap().and_utc().to_rfc3339();
    let posts_in_week = app.count(&format!("SELECT count(*) AS n FROM posts WHERE posted_at >= '{week_start}'")).await;
    let card = |label: &str, value: i64| {
        format!(
            "\">{label}</a></span><span class=\"figure\">{}</span>",
            tidemark::services::views::format::count(Some(value))
        )
    };
    assert!(html.contains(&card("posts published", posts_in_week)), "all accounts' {posts_in_week} posts: {html}");
    // Reach sums the days that are over (today is still counting): the six before today.
    let reach = app
        .count(&format!(
            "SELECT coalesce(sum(reach), 0)::int8 AS n FROM account_daily_insights WHERE day BETWEEN '{}' AND '{}'",
            today - Duration::days(6),
            today - Duration::days(1)
        ))
        .await;
    assert!(reach > 0, "the sync recorded account days");
    assert!(html.contains(&card("accounts reached", reach)), "reach of all accounts {reach}");
    assert!(html.contains("Today is still counting"), "the comparison says it leaves today out");
    let followers = app.count("SELECT sum(followers_count)::int8 AS n FROM ig_accounts").await;
    assert!(html.contains(&card("followers", followers)), "{followers} followers in all");
    assert_eq!(html.matches("<tr>\n    <th scope=\"row\"><a href=\"/accounts/").count(), 3, "one row per account");
    assert!(html.contains("chart=overview-reach-all&#38;from="), "the overview chart has its CSV");
    let csv = app.get_text(&admin, "/export/chart.csv?chart=overview-reach-all&days=7").await;
    assert!(csv.starts_with("day,this_period,previous_period"), "{csv}");
    assert_eq!(csv.lines().count(), 8, "a header and 7 days");
    let complete: Vec<&str> = csv.lines().skip(1).filter_map(|l| l.rsplit(',').next()).collect();
    assert_eq!(complete, ["yes", "yes", "yes", "yes", "yes", "yes", "no"], "today is still counting: {csv}");
    assert!(html.contains(" (so far)</th>"), "and the numbers table says so");

    let bakery = app.count("SELECT id AS n FROM ig_accounts WHERE username = 'harbour.bakery'").await;
    let bakery_posts = app
        .count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {bakery} AND posted_at >= '{week_start}'"))
        .await;
    let page = app.get_text(&admin, &format!("/accounts/{bakery}?days=7")).await;
    assert!(page.contains(&card("posts published", bakery_posts)), "the account's own {bakery_posts}");
    assert!(page.matches("class=\"chart\"").count() >= 5, "the overview chart and four more");

    let account = app.count("SELECT id AS n FROM ig_accounts WHERE username = 'quiet.cove'").await;
    let page = app.get_text(&admin, &format!("/accounts/{account}?{}&sort=reach", all_time(&app))).await;
    let tracked = app.count(&format!("SELECT count(*) AS n FROM posts WHERE account_id = {account}")).await;
    assert_eq!(
        page.matches("<td class=\"date\" data-label=\"Published\"><a href=\"/posts/").count() as i64,
        tracked,
        "every post in the table"
    );
    assert!(page.contains("/export/posts.csv?account="));

    let settings_page = app.get_text(&admin, "/settings").await;
    assert!(settings_page.contains("by views"));
}

#[tokio::test]
async fn hashtags_and_best_time_count_the_periods_posts() {
    let app = synced().await;
    let admin = app.admin().await;
    let range = all_time(&app);
    let tagged = app.count("SELECT count(*) AS n FROM posts WHERE 'sourdough' = ANY(hashtags)").await;
    assert!(tagged >= 3, "ranked from three posts");
    let html = app.get_text(&admin, &format!("/hashtags?{range}")).await;
    assert!(
        html.contains(&format!("<th scope=\"row\">#sourdough</th><td class=\"num\">{tagged}</td>")),
        "#sourdough on {tagged} posts"
    );

    let total = app.count("SELECT count(*) AS n FROM posts").await;
    let grid = app.get_text(&admin, &format!("/best-time?{range}")).await;
    assert!(grid.contains(&format!("the {total} post{} of the period in all", if total == 1 { "" } else { "s" })));
    let cells: usize =
        grid.split("<span class=\"hint\">(").skip(1).filter_map(|s| s.split(')').next()?.parse::<usize>().ok()).sum();
    assert_eq!(cells as i64, total, "every post lands in one cell");
    let stories = app.count("SELECT count(*) AS n FROM posts WHERE media_product_type = 'STORY'").await;
    assert!(stories > 0, "the fixture has Stories");
    let caption =
        |label: &str, n: i64| format!("<caption>{label}: weekday × hour of publication (UTC), {n} posts</caption>");
    assert!(grid.contains(&caption("Stories", stories)), "Stories have their own grid");
    assert!(grid.contains(&caption("Feed posts and Reels", total - stories)));
    // A cell resting on one post is grey and unranked; shaded cells rest on two or more.
    let posts_in = |cell: &str| cell.split("<span class=\"hint\">(").nth(1)?.split(')').next()?.parse::<usize>().ok();
    for cell in grid.split("<td class=\"").skip(1) {
        match cell.split('"').next() {
            Some("thin") => assert_eq!(posts_in(cell), Some(1), "{cell}"),
            Some(class) if class.starts_with("heat-") => assert!(posts_in(cell) >= Some(2), "{cell}"),
            _ => {}
        }
    }
    assert!(grid.contains("<ol class=\"best-slots\">"), "the best slots are named");
    let account = app.count("SELECT min(id) AS n FROM ig_accounts").await;
    let quiet = app.get_text(&admin, &format!("/best-time?from=2001-01-01&to=2001-01-31&account={account}")).await;
    assert!(quiet.contains("No feed post or Reel was published in this period.") && quiet.contains("No Story was"));
}

#[tokio::test]
async fn the_posts_list_finds_captions_and_sorts_by_its_headers() {
    let app = synced().await;
    let admin = app.admin().await;
    let range = all_time(&app);
    let rows = |html: &str| html.matches("<td class=\"date\" data-label=\"Published\">").count() as i64;

    let croissant = app.count("SELECT count(*) AS n FROM posts WHERE caption ILIKE '%croissant%'").await;
    assert!(croissant > 0 && croissant < 50, "one page of them: {croissant}");
    let html = app.get_text(&admin, &format!("/posts?{range}&q=+CROISSANT+")).await;
    assert_eq!(rows(&html), croissant, "any case, spaces trimmed");
    assert!(html.contains("value=\"CROISSANT\""), "the search stays in its field");
    let csv = app.get_text(&admin, &format!("/export/posts.csv?{range}&q=croissant")).await;
    assert_eq!(csv.lines().count() as i64, croissant + 1, "the CSV is the same view");

    // `_` and `%` are letters to find, not wildcards: no caption has them.
    for wildcard in ["_", "%25"] {
        let html = app.get_text(&admin, &format!("/posts?{range}&q={wildcard}")).await;
        assert_eq!(rows(&html), 0, "{wildcard}");
        assert!(html.contains("in its caption."), "{wildcard}");
    }
    let response = app.get(&admin, &format!("/posts?{range}&q=%00")).await;
    assert_eq!(response.status(), 200, "a NUL in the address is dropped, not sent to the database");

    // The headers sort: Reach is marked as the sorted column, Published offers the other way.
    let html = app.get_text(&admin, &format!("/posts?{range}&sort=reach")).await;
    assert_eq!(html.matches("aria-sort=\"descending\"").count(), 1);
    assert!(
        html.contains("aria-sort=\"descending\"><a href=\"/posts?")
            && html.contains(">Reach<span aria-hidden=\"true\"> ↓</span>")
    );
    let published = html.split("aria-sort=\"none\"><a href=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(published.ends_with("&#38;sort=newest"), "{published}");
    let html = app.get_text(&admin, &format!("/posts?{range}&sort=newest")).await;
    assert!(
        html.contains("&#38;sort=oldest\">Published<span aria-hidden=\"true\"> ↓</span>"),
        "newest first offers oldest first"
    );
}

#[tokio::test]
async fn a_viewer_sees_no_admin_form_or_button_on_any_page() {
    let app = synced().await;
    app.create_user("vera", Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    let post = app.count("SELECT min(id) AS n FROM posts").await;
    let account = app.count("SELECT min(id) AS n FROM ig_accounts").await;
    let (publication, _) = crate::publishing::planned_draft(&app, tidemark::domain::AccountId(account)).await;
    let rule = crate::inbox::a_rule(&app).await;
    let schedule = tidemark::db::report_schedules::NewReportSchedule {
        account_id: None,
        cadence: tidemark::domain::Cadence::Weekly,
        recipients: vec!["team@example.com".to_owned()],
        time_zone: "UTC".to_owned(),
        send_hour: 0,
        created_by: None,
        created_at: chrono::Utc::now(),
    };
    app.reports.add_schedule(&schedule).await.unwrap();
    app.reports.send_due().await.unwrap();
    let report = app.count("SELECT max(id) AS n FROM sent_reports").await;
    for route in ROUTE_TABLE.iter().filter(|r| r.method == "GET" && r.access == Access::SignedIn) {
        // Files, not pages: the exports, the posts' pictures and the reports' PDFs.
        let file = route.path.ends_with("pdf") || route.path.ends_with("/picture");
        if route.path.starts_with("/export") || file || route.path == "/me" {
            continue;
        }
        let id = if route.path.starts_with("/posts") {
            post
        } else if route.path.starts_with("/reports") {
            report
        } else if route.path.starts_with("/inbox/rules") {
            rule
        } else if route.path.starts_with("/planner") {
            publication.0
        } else {
            account
        };
        let path = route.path.replace("{id}", &id.to_string());
        let html = app.get_text(&viewer, &path).await;
        assert_eq!(html.matches("method=\"post\"").count(), 1, "{path}: only the sign-out form");
        for control in [
            "Sync now",
            "Connect an account",
            "Disable",
            "Delete",
            "/settings",
            "/users",
            "/planner/new",
            "Cancel this post",
        ] {
            assert!(!html.contains(control), "{path} shows {control} to a viewer");
        }
    }
}

#[tokio::test]
async fn every_chart_and_table_offers_the_csv_of_its_view() {
    let app = synced().await;
    let admin = app.admin().await;
    let account = app.count("SELECT id AS n FROM ig_accounts WHERE username = 'harbour.bakery'").await;
    let page = app.get_text(&admin, &format!("/accounts/{account}?days=14")).await;
    let href = page
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.starts_with("/export/chart.csv?chart=followers-"))
        .expect("the follower chart links its CSV")
        .replace("&#38;", "&");
    let response = app.get(&admin, &href).await;
    assert_eq!(response.status(), 200, "{href}");
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        vec!["day", "followers", "previous_period", "day_complete"]
    );
    assert_eq!(reader.records().count(), 14, "one row per day of the view");

    // The account's profile views and link taps per day, as stored.
    let text =
        app.get_text(&admin, &format!("/export/chart.csv?chart=profile-{account}&account={account}&days=14")).await;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["day", "profile_views", "link_taps", "day_complete"]
    );
    let mut measured = 0;
    for record in reader.records().map(Result::unwrap) {
        let sql = |column: &str| {
            format!(
                "SELECT coalesce(max({column}), -1) AS n FROM account_daily_insights WHERE account_id = {account} AND day = '{}'",
                &record[0]
            )
        };
        for (i, column) in [(1, "profile_views"), (2, "profile_links_taps")] {
            let stored = app.count(&sql(column)).await;
            let shown = if record[i].is_empty() { -1 } else { record[i].parse::<f64>().unwrap() as i64 };
            assert_eq!(shown, stored, "{column} on {}", &record[0]);
            measured += i64::from(stored >= 0);
        }
    }
    assert!(measured > 0, "some days have figures");

    let post = app.count("SELECT min(post_id) AS n FROM post_scores").await;
    let text = app.get_text(&admin, &format!("/export/chart.csv?chart=post-reach&post={post}")).await;
    assert!(text.starts_with("age_hours,this_post,typical_"), "{text}");

    let tagged = app.count("SELECT count(*) AS n FROM posts WHERE 'sourdough' = ANY(hashtags)").await;
    let text = app.get_text(&admin, &format!("/export/hashtags.csv?{}", all_time(&app))).await;
    assert!(text.lines().any(|l| l.starts_with(&format!("sourdough,yes,{tagged},"))), "{text}");
    let text = app.get_text(&admin, &format!("/export/best-time.csv?{}", all_time(&app))).await;
    let total: i64 = text.lines().skip(1).map(|l| l.split(',').nth(3).unwrap().parse::<i64>().unwrap()).sum();
    assert!(text.starts_with("posts_of,weekday,hour,posts,"), "{text}");
    assert_eq!(total, app.count("SELECT count(*) AS n FROM posts").await);
    assert_eq!(app.get(&admin, "/export/chart.csv?chart=nope&account=1").await.status(), 404);
    assert_eq!(app.get(&admin, "/export/chart.csv").await.status(), 400);
}

#[tokio::test]
async fn the_default_pages_are_computed_ahead_once_per_change_of_the_data() {
    let app = crate::helpers::spawn_app().await;
    app.connect(0).await;
    app.connect(2).await;
    app.run_sync().await;
    let views = tidemark::services::Views::new(app.sync.pool().clone(), app.sim.clock());
    let version = app.count("SELECT n FROM data_version").await;
    assert_eq!(views.warm().await.unwrap(), Some(version), "computed at the current data");
    assert_eq!(views.warm().await.unwrap(), None, "nothing moved: nothing to compute");
    app.sim.advance(chrono::Duration::hours(2));
    app.run_sync().await;
    let moved = app.count("SELECT n FROM data_version").await;
    assert!(moved > version);
    assert_eq!(views.warm().await.unwrap(), Some(moved), "a sync moved the data: computed again, ahead of any visitor");
}

/// The body of `path` for `client`, asking for gzip like a browser, decompressed.
async fn gunzipped(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    use std::io::Read;
    let response = client.get(app.url(path)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip", "{path}");
    let bytes = response.bytes().await.unwrap();
    let mut page = String::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut page).expect("a whole gzip stream");
    page
}

#[tokio::test]
async fn a_page_is_kept_per_role_and_data_version_and_each_user_gets_their_own_parts() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.run_sync().await;
    let account = app.count("SELECT min(id) AS n FROM ig_accounts").await;
    let here = format!("/accounts/{account}");
    app.create_user("second.admin", Role::Admin).await;
    app.create_user("vera", Role::Viewer).await;
    let (first, second, viewer) = (app.admin().await, app.signed_in("second.admin").await, app.signed_in("vera").await);

    let first_page = app.get_text(&first, &here).await;
    let second_page = app.get_text(&second, &here).await;
    let (first_token, second_token) = (csrf_token_in(&first_page), csrf_token_in(&second_page));
    assert_ne!(first_token, second_token);
    assert!(first_page.contains(">root.admin</a>") && !first_page.contains("second.admin"));
    assert!(second_page.contains(">second.admin</a>") && !second_page.contains("root.admin"));
    assert!(!second_page.contains(&first_token), "one admin's token never reaches another");
    assert!(!first_page.contains("tmhole"), "no marker is left in a page");
    let viewer_page = app.get_text(&viewer, &here).await;
    assert!(viewer_page.contains(">vera</a>") && !viewer_page.contains("Read-only links"), "a viewer's own copy");
    // Browsers get the same page compressed, with the same parts filled.
    assert_eq!(gunzipped(&app, &second, &here).await, second_page);
    for path in ["/", "/posts", &format!("/posts/{}", app.count("SELECT min(id) AS n FROM posts").await)] {
        let page = gunzipped(&app, &first, path).await;
        assert_eq!(page, app.get_text(&first, path).await, "{path}");
        assert!(page.contains(&first_token) && page.contains(">root.admin</a>"), "{path}");
    }
    // The kept token is each session's own: it makes a link.
    let made = app.post_form(&second, &here, &format!("{here}/shares"), &[("span", "30"), ("expires", "7")]).await;
    assert_eq!(made.status(), 200);

    // The links are read per request: a view counted since shows at once, while the kept page
    // is the same.
    let made = made.text().await.unwrap();
    let start = made.find("/shared/").expect("the link is shown");
    let link: String = made[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c)).collect();
    for _ in 0..3 {
        assert_eq!(app.get(&crate::helpers::browser(), &link).await.status(), 200);
    }
    let listed = app.get_text(&first, &here).await;
    assert!(listed.contains("<td class=\"num\">3</td>"), "three views: {listed}");

    // Kept until the data version moves: a change made without the triggers is not seen...
    let mut conn = app.db.connect().await;
    crate::helpers::execute(&mut conn, "SET session_replication_role = replica").await;
    crate::helpers::execute(&mut conn, "UPDATE ig_accounts SET name = 'Renamed Bakery'").await;
    assert!(!app.get_text(&first, &here).await.contains("Renamed Bakery"), "served from the kept copy");
    // ...until the account's version moves, with the data version, as every real write of its
    // rows makes them.
    crate::helpers::execute(&mut conn, &format!("UPDATE account_versions SET n = n + 1 WHERE account_id = {account}"))
        .await;
    crate::helpers::execute(&mut conn, "UPDATE data_version SET n = n + 1").await;
    assert!(app.get_text(&first, &here).await.contains("Renamed Bakery"));
    assert!(gunzipped(&app, &viewer, &here).await.contains("Renamed Bakery"));
}

#[tokio::test]
async fn an_accounts_page_is_kept_while_another_account_changes_and_made_again_when_its_own_rows_or_the_settings_do() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.connect(COVE).await;
    app.run_sync().await;
    let (mine, other) =
        (app.count("SELECT min(id) AS n FROM ig_accounts").await, app.count("SELECT max(id) AS n FROM ig_accounts").await);
    let here = format!("/accounts/{mine}");
    let admin = app.admin().await;
    assert!(!app.get_text(&admin, &here).await.contains("Renamed Bakery"));
    // A change the page would show, made without the triggers: seen only once the page is made again.
    let mut quiet = app.db.connect().await;
    crate::helpers::execute(&mut quiet, "SET session_replication_role = replica").await;
    let rename = format!("UPDATE ig_accounts SET name = 'Renamed Bakery' WHERE id = {mine}");
    crate::helpers::execute(&mut quiet, &rename).await;

    let mut conn = app.db.connect().await;
    crate::helpers::execute(&mut conn, &format!("UPDATE ig_accounts SET username = 'renamed.other' WHERE id = {other}"))
        .await;
    assert!(app.get_text(&admin, "/").await.contains("@renamed.other"), "the dashboard shows every account");
    assert!(app.get_text(&admin, &format!("/accounts/{other}")).await.contains("renamed.other"));
    assert!(!app.get_text(&admin, &here).await.contains("Renamed Bakery"), "kept: none of its rows changed");

    // A write of one of its own rows makes it again...
    crate::helpers::execute(&mut conn, &format!("UPDATE posts SET hashtags = hashtags || '{{new}}' WHERE account_id = {mine}"))
        .await;
    assert!(app.get_text(&admin, &here).await.contains("Renamed Bakery"), "its posts changed");
    // ...and so does a change of what every account's page reads beside its rows.
    crate::helpers::execute(&mut quiet, &rename.replace("Renamed Bakery", "Bakery Again")).await;
    assert!(app.get_text(&admin, &here).await.contains("Renamed Bakery"), "kept again");
    crate::helpers::execute(&mut conn, "UPDATE settings SET lookback_days = lookback_days").await;
    assert!(app.get_text(&admin, &here).await.contains("Bakery Again"), "the settings changed");
}
