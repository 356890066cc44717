//! Benchmarks that need Tidemark's own code (run by `bench/run`, which also drives wrk):
//!
//!   cargo bench --bench tidemark -- generate DATABASE_URL [--accounts 10 --posts 1000]
//!   cargo bench --bench tidemark -- ingest DATABASE_URL [--rows 200000]
//!   cargo bench --bench tidemark -- sync DATABASE_URL [--accounts 10 --media 1000 --latency-ms 50]
//!   cargo bench --bench tidemark -- publish DATABASE_URL
//!   cargo bench --bench tidemark -- plot CURVE_TSV OUTPUT_SVG
//!
//! Each prints `key = value` lines that bench/run collects into target/bench/results.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::SinkExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tidemark::analytics::PostFigures;
use tidemark::analytics::impact::checkpoints_at;
use tidemark::crypto::TokenKey;
use tidemark::db::accounts::{Account, ConnectedAccount, token_binding};
use tidemark::db::snapshots::{self, NewSnapshot};
use tidemark::domain::{AccountId, AccountStatus, PostId, Trigger};

use tidemark::graph::{ClientOptions, GraphClient, GraphConfig};
use tidemark::simulator::world::{AccountSpec, Mix};
use tidemark::simulator::{Faults, Simulator, SimulatorConfig};
use tidemark::sync::cadence::Cadence;
use tidemark::sync::{self, RunResult, Scope, SyncContext};

#[path = "tidemark/plot.rs"]
mod plot;

const KEY: [u8; 32] = [42; 32];

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.windows(2).find(|w| w[0] == name).and_then(|w| w[1].parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if let [command, tsv, svg] = args.as_slice()
        && command == "plot"
    {
        let rows = plot::read(&std::fs::read_to_string(tsv).unwrap());
        std::fs::write(svg, plot::svg(&rows)).unwrap();
        return;
    }
    let (Some(command), Some(url)) = (args.first(), args.get(1)) else {
        eprintln!("usage: tidemark bench (generate|ingest|sync) DATABASE_URL [options]");
        std::process::exit(2);
    };
    tidemark::db::run_migrations(url).await.unwrap();
    match command.as_str() {
        "generate" => generate(url, arg(&args, "--accounts", 10), arg(&args, "--posts", 1000)).await,
        "ingest" => ingest(url, arg(&args, "--rows", 200_000)).await,
        "sync" => {
            sync_efficiency(
                url,
                arg(&args, "--accounts", 10),
                arg(&args, "--media", 1000),
                arg(&args, "--latency-ms", 50),
            )
            .await
        }
        "publish" => publish_calls(url).await,
        other => {
            eprintln!("unknown benchmark {other}");
            std::process::exit(2);
        }
    }
}

async fn raw(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Streams CSV rows into `COPY table (columns) FROM STDIN`.
async fn copy(client: &tokio_postgres::Client, table: &str, columns: &str, rows: impl Iterator<Item = String>) -> u64 {
    let sink = client.copy_in(&format!("COPY {table} ({columns}) FROM STDIN (FORMAT csv)")).await.unwrap();
    futures_util::pin_mut!(sink);
    let mut buffer = String::with_capacity(1 << 20);
    for row in rows {
        buffer.push_str(&row);
        buffer.push('\n');
        if buffer.len() > (1 << 20) - 4096 {
            sink.send(Bytes::from(std::mem::take(&mut buffer))).await.unwrap();
        }
    }
    if !buffer.is_empty() {
        sink.send(Bytes::from(buffer)).await.unwrap();
    }
    sink.finish().await.unwrap()
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A post's metrics at an age: a fast rise to a plateau, as the simulator's model.
fn metrics(
    post_id: PostId,
    captured_at: DateTime<Utc>,
    rng_seed: u64,
    age_hours: f64,
    followers: f64,
    reel: bool,
) -> NewSnapshot {
    let mut rng = StdRng::seed_from_u64(rng_seed);
    let final_reach = followers * if reel { rng.random_range(0.3..2.0) } else { rng.random_range(0.1..0.6) };
    let tau = if reel { rng.random_range(14.0..40.0) } else { rng.random_range(3.0..9.0) };
    let reach = (final_reach * (1.0 - (-age_hours / tau).exp())).floor();
    let views = (reach * rng.random_range(1.1..2.5)).floor();
    let likes = (reach * rng.random_range(0.02..0.09)).floor();
    let comments = (likes * 0.05).floor();
    let saved = (reach * 0.01).floor();
    let shares = (reach * 0.005).floor();
    let values = [
        ("views", views),
        ("reach", reach),
        ("likes", likes),
        ("comments", comments),
        ("saved", saved),
        ("shares", shares),
        ("total_interactions", likes + comments + saved + shares),
    ];
    NewSnapshot::from_metrics(post_id, captured_at, |name| values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
}

/// A year of data: accounts, posts spread over 365 days, snapshots at the default adaptive
/// cadence over each post's life (history kept forever), hourly follower counts, daily
/// insights, checkpoints, then the real rollup.
async fn generate(url: &str, accounts: u64, posts_per_account: u64) {
    let started = Instant::now();
    let client = raw(url).await;
    client
        .batch_execute("TRUNCATE ig_accounts, users, dropped_metrics RESTART IDENTITY CASCADE; UPDATE settings SET lookback_days = NULL")
        .await
        .unwrap();
    let key = TokenKey::new(KEY);
    let now = Utc::now();
    let cadence = Cadence::default();
    let pool = tidemark::db::pool(url, 2).unwrap();
    let mut conn = pool.get().await.unwrap();
    let mut account_ids = Vec::new();
    for a in 0..accounts {
        let ig = format!("1784140{:010}", a);
        let sealed = key.seal("IGAAbenchmark-token", &token_binding(&ig));
        let account = Account::connect(
            &mut conn,
            &ConnectedAccount {
                flavour: tidemark::domain::Flavour::Instagram,
                ig_user_id: &ig,
                facebook_page_id: None,
                username: &format!("bench.account{a}"),
                name: Some("Benchmark"),
                profile_picture_url: None,
                followers_count: Some(5_000 + 20_000 * a as i64),
                follows_count: Some(300),
                media_count: Some(posts_per_account as i64),
                status: AccountStatus::Active,
                token_ciphertext: &sealed.ciphertext,
                token_nonce: &sealed.nonce,
                token_key_version: sealed.key_version,
                token_expires_at: Some(now + chrono::Duration::days(40)),
                token_refreshed_at: None,
                app_user_id: None,
                granted_scopes: Vec::new(),
                disconnected_at: None,
            },
        )
        .await
        .unwrap();
        account_ids.push(account.id);
    }
    let mut rng = StdRng::seed_from_u64(7);
    // Posts.
    let mut posts = Vec::new();
    for (a, account) in account_ids.iter().enumerate() {
        for p in 0..posts_per_account {
            let age = chrono::Duration::seconds(rng.random_range(0..365 * 86_400));
            let reel = rng.random_bool(0.3);
            posts.push((*account, a, format!("18{:03}{:012}", a, p), now - age, reel));
        }
    }
    let tags = ["#bakery", "#sourdough", "#morning", "#coffee", "#weekend", "#reels", "#bts"];
    copy(
        &client,
        "posts",
        "account_id, media_id, caption, media_type, media_product_type, permalink, posted_at, hashtags",
        posts.iter().enumerate().map(|(i, (account, _, media_id, posted_at, reel))| {
            let tag = tags[i % tags.len()];
            format!(
                "{},{media_id},\"Post {i} {tag} {}\",{},{},https://www.instagram.com/p/{media_id}/,{},\"{{{},{}}}\"",
                account.0,
                tags[(i / 3) % tags.len()],
                if *reel { "VIDEO" } else { "IMAGE" },
                if *reel { "REELS" } else { "FEED" },
                posted_at.to_rfc3339(),
                &tag[1..],
                &tags[(i / 3) % tags.len()][1..]
            )
        }),
    )
    .await;
    let rows = client.query("SELECT id, media_id FROM posts", &[]).await.unwrap();
    let ids: BTreeMap<String, i64> = rows.iter().map(|r| (r.get::<_, String>(1), r.get::<_, i64>(0))).collect();

    // The snapshots' monthly partitions, as the sync's writer makes them: a year back, this
    // month and the next.
    client
        .batch_execute(
            "SELECT post_snapshots_month(m::date) FROM generate_series(now() - interval '13 months', \
             now() + interval '1 month', interval '1 month') AS m",
        )
        .await
        .unwrap();
    // Snapshots and checkpoints at the adaptive cadence, one account's rows at a time: a
    // hundred accounts' year is 24 million rows, too many to hold before sending.
    let mut snapshot_count = 0u64;
    let mut checkpoint_rows = Vec::new();
    for account in &account_ids {
        let snapshot_rows = posts.iter().filter(|p| p.0 == *account).flat_map(|(_, a, media_id, posted_at, reel)| {
            let post_id = ids[media_id];
            let followers = 5_000.0 + 20_000.0 * *a as f64;
            let seed = post_id as u64;
            let mut at = *posted_at + chrono::Duration::minutes(20);
            let mut out = Vec::new();
            let mut filled = Vec::new();
            while at <= now {
                let age = at - *posted_at;
                let s = metrics(PostId(post_id), at, seed, age.num_minutes() as f64 / 60.0, followers, *reel);
                let interactions =
                    PostFigures { total_interactions: s.total_interactions, ..PostFigures::default() }.interactions();
                for c in checkpoints_at(age).filter(|c| !filled.contains(c)).collect::<Vec<_>>() {
                    filled.push(c);
                    checkpoint_rows.push(format!(
                        "{post_id},{c},{},{},{},{}",
                        at.to_rfc3339(),
                        opt(s.reach),
                        opt(s.views),
                        opt(interactions)
                    ));
                }
                out.push(format!(
                    "{post_id},{},{},{},{},{},{},{},{}",
                    at.to_rfc3339(),
                    opt(s.views),
                    opt(s.reach),
                    opt(s.likes),
                    opt(s.comments),
                    opt(s.saved),
                    opt(s.shares),
                    opt(s.total_interactions)
                ));
                at += cadence.interval(age);
            }
            snapshot_count += out.len() as u64;
            out
        });
        let snapshot_rows: Vec<String> = snapshot_rows.collect();
        copy(
            &client,
            "post_snapshots",
            "post_id, captured_at, views, reach, likes, comments, saved, shares, total_interactions",
            snapshot_rows.into_iter(),
        )
        .await;
    }
    copy(
        &client,
        "post_checkpoints",
        "post_id, checkpoint_hours, captured_at, reach, views, interactions",
        checkpoint_rows.into_iter(),
    )
    .await;

    // Account history: hourly counts and daily insights for a year.
    copy(
        &client,
        "account_snapshots",
        "account_id, captured_at, followers_count, follows_count, media_count",
        account_ids.iter().enumerate().flat_map(|(a, account)| {
            (0..365 * 24).map(move |h| {
                let at = now - chrono::Duration::hours(h);
                format!(
                    "{},{},{},300,{}",
                    account.0,
                    at.to_rfc3339(),
                    5_000 + 20_000 * a as i64 - h / 6,
                    posts_per_account
                )
            })
        }),
    )
    .await;
    copy(
        &client,
        "account_daily_insights",
        "account_id, day, reach, views, accounts_engaged, total_interactions, follower_net_change",
        account_ids.iter().flat_map(|account| {
            (1..=365).map(move |d| {
                let day = (now - chrono::Duration::days(d)).date_naive();
                format!(
                    "{},{day},{},{},{},{},{}",
                    account.0,
                    3000 + d * 7 % 900,
                    7000 + d * 13 % 2000,
                    300 + d % 50,
                    400 + d % 80,
                    4
                )
            })
        }),
    )
    .await;
    client.batch_execute("ANALYZE").await.unwrap();
    let generated = started.elapsed();
    let rollup_started = Instant::now();
    for account in &account_ids {
        tidemark::sync::rollup::refresh_account(&mut conn, *account, now).await.unwrap();
    }
    println!("generate_accounts = {accounts}");
    println!("generate_posts = {}", posts.len());
    println!("generate_snapshots = {snapshot_count}");
    println!("generate_seconds = {:.1}", generated.as_secs_f64());
    println!("rollup_seconds_all_accounts = {:.2}", rollup_started.elapsed().as_secs_f64());
}

/// Snapshot rows per second through the sync's write path against raw COPY of the same rows.
async fn ingest(url: &str, rows: u64) {
    let client = raw(url).await;
    client.batch_execute("TRUNCATE ig_accounts, users RESTART IDENTITY CASCADE").await.unwrap();
    let key = TokenKey::new(KEY);
    let sealed = key.seal("IGAAx", &token_binding("17841400000000099"));
    client
        .execute(
            "INSERT INTO ig_accounts (flavour, ig_user_id, username, token_ciphertext, token_nonce, token_key_version) VALUES ('instagram', '17841400000000099', 'ingest', $1, $2, $3)",
            &[&sealed.ciphertext, &sealed.nonce.to_vec(), &sealed.key_version],
        )
        .await
        .unwrap();
    let posts = 2000u64;
    let now = Utc::now();
    client
        .batch_execute(&format!(
            "INSERT INTO posts (account_id, media_id, media_type, posted_at) SELECT 1, (18000000000 + n)::text, 'IMAGE', now() - interval '400 days' FROM generate_series(1, {posts}) n"
        ))
        .await
        .unwrap();
    let per_post = rows / posts;
    let make = |i: u64| -> NewSnapshot {
        let post = (i % posts) as i64 + 1;
        let at = now - chrono::Duration::hours((per_post - i / posts) as i64 * 24);
        metrics(PostId(post), at, post as u64, (i / posts) as f64 * 24.0, 20_000.0, false)
    };
    let all: Vec<NewSnapshot> = (0..per_post * posts).map(make).collect();

    // The sync's path: batches as large as the sync writes, each its own transaction (lock the
    // account, find no other write came between, COPY, checkpoints, count the write, commit).
    let mut writer = snapshots::SnapshotWriter::connect(url).await.unwrap();
    let always = |_: DateTime<Utc>, _: Option<DateTime<Utc>>, _: DateTime<Utc>| true;
    let started = Instant::now();
    let mut seen = writer.mark(AccountId(1)).await.unwrap();
    for batch in all.chunks(tidemark::sync::WRITE_BATCH) {
        seen = writer.write(AccountId(1), seen, batch, &always).await.unwrap().1;
    }
    let path = started.elapsed();

    client.batch_execute("TRUNCATE post_snapshots, post_checkpoints").await.unwrap();
    let started = Instant::now();
    copy(
        &client,
        "post_snapshots",
        "post_id, captured_at, views, reach, likes, comments, saved, shares, total_interactions",
        all.iter().map(|s| {
            format!(
                "{},{},{},{},{},{},{},{},{}",
                s.post_id,
                s.captured_at.to_rfc3339(),
                opt(s.views),
                opt(s.reach),
                opt(s.likes),
                opt(s.comments),
                opt(s.saved),
                opt(s.shares),
                opt(s.total_interactions)
            )
        }),
    )
    .await;
    let copied = started.elapsed();
    let n = all.len() as f64;
    println!("ingest_rows = {}", all.len());
    println!("ingest_sync_path_rows_per_second = {:.0}", n / path.as_secs_f64());
    println!("ingest_copy_rows_per_second = {:.0}", n / copied.as_secs_f64());
    println!("ingest_ratio = {:.2}", copied.as_secs_f64() / path.as_secs_f64());
}

/// One sync cycle of `accounts` accounts × `media` media against the simulator with added
/// latency: API calls against the minimum, wall time, snapshots per second; and the calls per
/// day of the adaptive cadence against snapshotting every post every hour.
async fn sync_efficiency(url: &str, accounts: u64, media: u64, latency_ms: u64) {
    let client = raw(url).await;
    client.batch_execute("TRUNCATE ig_accounts, users, dropped_metrics RESTART IDENTITY CASCADE; UPDATE settings SET lookback_days = 90").await.unwrap();
    let specs: Vec<AccountSpec> = (0..accounts)
        .map(|a| AccountSpec {
            username: format!("bench.sync{a}"),
            name: "Bench".into(),
            flavour: tidemark::domain::Flavour::Instagram,
            followers: 10_000,
            media: media as usize,
            days: 89,
            mix: Mix { image: 5, carousel: 2, video: 1, reels: 2 },
            stories: 0,
            voice: &tidemark::simulator::voices::FIXTURES,
        })
        .collect();
    let simulator = Simulator::start(
        SimulatorConfig { accounts: specs, short_pages: false, ..SimulatorConfig::standard(3) },
        "127.0.0.1:0",
    )
    .unwrap();
    let graph =
        GraphClient::new(GraphConfig::new(Some(simulator.base_url()), "v25.0").unwrap(), ClientOptions::default())
            .unwrap();
    let key = TokenKey::new(KEY);
    let pool = tidemark::db::pool(url, 4).unwrap();
    let mut conn = pool.get().await.unwrap();
    for a in 0..accounts as usize {
        tidemark::services::accounts::connect(&mut conn, &graph, &key, &simulator.token(a), None, Utc::now())
            .await
            .unwrap();
    }
    drop(conn);
    simulator.set_faults(Faults { latency: Duration::from_millis(latency_ms), ..Faults::default() });
    let ctx = SyncContext::new(pool.clone(), url, graph, key, tidemark::domain::system_clock());
    let started = Instant::now();
    let RunResult::Ran(summary) = sync::run(&ctx, Scope::All, Trigger::Command).await.unwrap() else { panic!("busy") };
    let elapsed = started.elapsed();
    // Minimum: 1 profile + ⌈media/100⌉ pages + 1 insights per due post, per account. The inbox's
    // comment reads and the weekly audience read (five calls an account, made in this first
    // cycle) are counted apart: they are work of their own, not the metrics' overhead.
    let minimum = accounts * (1 + media.div_ceil(100)) + summary.snapshots_written as u64;
    let comment_pages = simulator.comment_pages();
    let audience_calls = accounts * 5;
    let metric_calls = u64::from(summary.api_calls) - comment_pages - audience_calls;
    println!("sync_accounts = {accounts}");
    println!("sync_media_per_account = {media}");
    println!("sync_latency_ms = {latency_ms}");
    println!("sync_api_calls = {}", summary.api_calls);
    println!("sync_comment_pages = {comment_pages}");
    println!("sync_audience_calls = {audience_calls}");
    println!("sync_api_calls_minimum = {minimum}");
    println!("sync_calls_ratio = {:.3}", metric_calls as f64 / minimum as f64);
    println!("sync_wall_seconds = {:.1}", elapsed.as_secs_f64());
    println!("sync_snapshots_per_second = {:.0}", summary.snapshots_written as f64 / elapsed.as_secs_f64());
    println!("sync_errors = {}", summary.errors.len());

    // The next cycle straight after: every post was just measured, so what is left is each
    // account's fixed work per tick (profile, media pages, stories), one account after another.
    let started = Instant::now();
    let RunResult::Ran(next) = sync::run(&ctx, Scope::All, Trigger::Command).await.unwrap() else { panic!("busy") };
    println!("sync_next_cycle_seconds = {:.1}", started.elapsed().as_secs_f64());
    println!("sync_next_cycle_api_calls = {}", next.api_calls);
    println!("sync_next_cycle_snapshots = {}", next.snapshots_written);

    // Calls per day: the adaptive cadence against every post every hour, over these posts' ages.
    let cadence = Cadence::default();
    let now = Utc::now();
    let ticks_per_day = 96.0;
    let mut adaptive = 0.0;
    let mut hourly = 0.0;
    for a in 0..accounts as usize {
        let posts: Vec<DateTime<Utc>> =
            simulator.media(a).iter().filter(|m| m.product != "STORY").map(|m| m.posted_at).collect();
        let pages = (posts.len() as f64 / 100.0).ceil();
        // Every tick: profile, media pages, stories; the account insights once a day; the
        // audience (four breakdowns and the online hours) once a week.
        adaptive += ticks_per_day * (2.0 + pages) + 2.0 + 5.0 / 7.0;
        adaptive += posts.iter().map(|p| 86_400.0 / cadence.interval(now - *p).num_seconds() as f64).sum::<f64>();
        hourly += 24.0 * (1.0 + pages + posts.len() as f64);
    }
    println!("calls_per_day_adaptive = {adaptive:.0}");
    println!("calls_per_day_hourly_everything = {hourly:.0}");
    println!("calls_per_day_ratio = {:.3}", adaptive / hourly);
    simulator.stop().await;
}

/// Graph API calls per publication of each kind, against the fewest Meta requires (§7):
/// image or story `POST media` + `media_publish` = 2; a carousel of n items n + 2; a Reel 3
/// (its container must be polled until FINISHED before it can be published).
async fn publish_calls(url: &str) {
    use tidemark::domain::PublicationKind;
    use tidemark::publishing::samples;
    use tidemark::services::publishing::{Composition, Upload, When};

    let client = raw(url).await;
    client.batch_execute("TRUNCATE ig_accounts, users, dropped_metrics RESTART IDENTITY CASCADE").await.unwrap();
    let simulator = Simulator::start(SimulatorConfig::standard(5), "127.0.0.1:0").unwrap();
    simulator.set_publishing(50, Duration::from_millis(300));
    let data_dir = std::env::temp_dir().join(format!("tidemark-bench-publish-{}", std::process::id()));
    let settings = tidemark::config::Settings {
        database_url: url.to_owned(),
        bind: "127.0.0.1:0".parse().unwrap(),
        session: tidemark::config::SessionSettings {
            secret: vec![7; 48],
            cookie_secure: false,
            idle_timeout: Duration::from_secs(3600),
            max_lifetime: Duration::from_secs(3600),
        },
        token_key: TokenKey::new(KEY),
        graph: GraphConfig::new(Some(simulator.base_url()), "v25.0").unwrap(),
        graph_options: ClientOptions::default(),
        run_scheduler: false,
        demo: false,
        metrics_public: false,
        clock: tidemark::domain::system_clock(),
        public_url: None,
        trusted_proxies: Default::default(),
        metrics_token: None,
        apps: Default::default(),
        data_dir: data_dir.clone(),
        api_requests_per_minute: std::num::NonZeroU32::MIN,
        mail: None,
        keep_sessions: false,
        publish_options: tidemark::publishing::PublishOptions {
            poll_first: Duration::from_millis(250),
            ..Default::default()
        },
    };
    let app = tidemark::startup::Application::build(settings).await.unwrap();
    let (accounts, publishing) = (app.accounts(), app.publishing());
    tokio::spawn(app.run_until_stopped());
    let account = accounts.connect(&simulator.token(0), None).await.unwrap().remove(0);
    let kinds: [(&str, PublicationKind, Vec<Vec<u8>>, u64); 4] = [
        ("image", PublicationKind::Feed, vec![samples::jpeg(1080, 1080, 1)], 2),
        (
            "carousel_3",
            PublicationKind::Feed,
            vec![samples::jpeg(1080, 1080, 1), samples::mp4(10), samples::jpeg(1080, 1080, 2)],
            5,
        ),
        ("reel", PublicationKind::Reel, vec![samples::mp4(30)], 3),
        ("story", PublicationKind::Story, vec![samples::jpeg(1080, 1920, 3)], 2),
    ];
    for (name, kind, files, minimum) in kinds {
        let uploads = files
            .into_iter()
            .map(|bytes| {
                let path = publishing.upload_path();
                std::fs::write(&path, bytes).unwrap();
                Upload { path, name: "bench".into(), alt_text: None }
            })
            .collect();
        let plan = Composition {
            account: account.id,
            kind,
            caption: if kind == PublicationKind::Story { String::new() } else { format!("Bench {name}") },
            first_comment: None,
            when: When::Now,
            uploads,
            created_by: None,
        };
        publishing.compose(plan).await.unwrap();
        let summary = publishing.run_due(Trigger::Command).await.unwrap();
        assert_eq!(summary.published.len(), 1, "{summary:?}");
        println!("publish_calls_{name} = {}", summary.api_calls);
        println!("publish_calls_{name}_minimum = {minimum}");
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}
