//! `tidemark demo`: the whole service with the Graph API simulator in-process, three demo
//! accounts and about 90 days of history, so a first look shows living charts without a Meta
//! app. The live sync keeps adding snapshots while it runs; every page says it shows demo data.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rand::RngCore;

use crate::auth;
use crate::db::account_history::{self, DailyInsights, NewAccountSnapshot};
use crate::db::accounts::Account;
use crate::db::posts::{self, ListedPost};
use crate::db::snapshots::{NewSnapshot, SnapshotWriter};
use crate::db::thumbnails;
use crate::db::users::{NewUser, User};
use crate::db::{self};
use crate::domain::Role;
use crate::services::accounts;
use crate::simulator::world::SimMedia;
use crate::simulator::{Simulator, SimulatorConfig};
use crate::sync::cadence::Cadence;
use crate::sync::{hashtags, rollup};

/// Days of history the demo starts with.
pub const BACKFILL_DAYS: i64 = 90;
pub const DEMO_USERNAME: &str = "demo";

/// Starts the simulator, fills the database with the demo accounts' history and creates the
/// demo admin. Returns the simulator (the caller serves against it) and the admin's password.
pub async fn prepare(
    database_url: &str,
    key: &crate::crypto::TokenKey,
    password: Option<String>,
) -> anyhow::Result<(Simulator, String)> {
    db::run_migrations(database_url).await?;
    let mut conn = AsyncPgConnection::establish(database_url).await.context("cannot connect to the database")?;
    refuse_real_data(&mut conn, database_url).await?;
    reset(&mut conn).await?;

    let simulator = Simulator::start(SimulatorConfig::demo(1), "127.0.0.1:0")?;
    let graph = crate::graph::GraphClient::new(
        crate::graph::GraphConfig::new(Some(simulator.base_url()), crate::graph::client::DEFAULT_VERSION)?,
        crate::graph::ClientOptions::default(),
    )?;
    let now = Utc::now();
    let mut writer = SnapshotWriter::connect(database_url).await.context("cannot connect to the database")?;
    for index in 0..simulator.account_count() {
        let connected = accounts::connect(&mut conn, &graph, key, &simulator.token(index), None, now)
            .await
            .with_context(|| format!("cannot connect demo account {index}"))?;
        for account in connected {
            backfill(&mut conn, &mut writer, &simulator, index, &account, now).await?;
        }
    }

    // Three businesses like the demo's own, compared with them: a month of their daily counts,
    // as if tracked for that long (the first sync reads their posts).
    for username in simulator.public_usernames() {
        let Some(id) =
            crate::db::competitors::add(&mut conn, &username, None, now - chrono::Duration::days(35)).await?
        else {
            continue;
        };
        for days_ago in 1..=35 {
            let at = now - chrono::Duration::days(days_ago);
            if let Some((followers, posts)) = simulator.public_figures(&username, at) {
                let posts = i64::try_from(posts).ok();
                crate::db::competitors::record_day(&mut conn, id, at.date_naive(), Some(followers), posts).await?;
            }
        }
    }

    let password = match password {
        Some(password) => password,
        None => {
            let mut bytes = [0u8; 12];
            rand::rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        }
    };
    auth::password::check_new_password(&password, DEMO_USERNAME)
        .map_err(|problem| anyhow::anyhow!("TIDEMARK_DEMO_PASSWORD: {problem}"))?;
    let hash = auth::password::hash(password.clone()).await?;
    User::create(&mut conn, &NewUser { username: DEMO_USERNAME, role: Role::Admin, password_hash: &hash }).await?;
    Ok((simulator, password))
}

/// The demo replaces what the database holds: never on a database with real accounts.
async fn refuse_real_data(conn: &mut AsyncPgConnection, database_url: &str) -> anyhow::Result<()> {
    let accounts = Account::list(conn).await?;
    let demo_names = ["harbour.bakery", "tidal.studio", "quiet.cove"];
    let real = accounts.iter().any(|a| !demo_names.contains(&a.username.as_str()));
    let named_demo = url::Url::parse(database_url).map(|u| u.path().contains("demo")).unwrap_or(false);
    if real && !named_demo {
        bail!(
            "this database holds real Instagram accounts; the demo resets its database, so give it its own (e.g. …/tidemark_demo)"
        );
    }
    Ok(())
}

async fn reset(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    diesel::sql_query("TRUNCATE ig_accounts, users, dropped_metrics, saved_replies RESTART IDENTITY CASCADE")
        .execute(conn)
        .await
        .context("cannot reset the demo database")?;
    Ok(())
}

/// Writes what ~90 days of syncing would have recorded: posts, snapshots at the default
/// cadence, hourly follower counts and daily account insights, from the simulator's own model.
async fn backfill(
    conn: &mut AsyncPgConnection,
    writer: &mut SnapshotWriter,
    simulator: &Simulator,
    index: usize,
    account: &Account,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let start = now - Duration::days(BACKFILL_DAYS);
    let media: Vec<SimMedia> = simulator
        .media(index)
        .into_iter()
        .filter(|m| m.posted_at <= now && m.posted_at >= start && m.product != "STORY")
        .collect();
    let listed: Vec<ListedPost<'_>> = media
        .iter()
        .map(|m| ListedPost {
            account_id: account.id,
            media_id: &m.id,
            caption: m.caption.as_deref(),
            media_type: m.media_type,
            media_product_type: Some(m.product),
            permalink: Some(&m.permalink),
            posted_at: m.posted_at,
            hashtags: m.caption.as_deref().map(hashtags::extract).unwrap_or_default().into_iter().map(Some).collect(),
        })
        .collect();
    let (ids, _) = posts::upsert_listed(conn, &listed).await?;

    // A Tidemark that has run for a while holds every post's small picture (the sync keeps a
    // few dozen a cycle); the demo starts as one.
    for m in &media {
        let Some(post_id) = ids.get(&m.id).copied() else { continue };
        let picture = crate::simulator::pictures::picture(&m.id)
            .ok_or_else(|| "the simulator drew no picture".to_owned())
            .and_then(|bytes| crate::sync::pictures::shrink(&bytes));
        thumbnails::store(conn, post_id, picture.as_deref().map_err(String::as_str), now).await?;
    }

    let cadence = Cadence::default();
    let mut batch = Vec::new();
    for m in &media {
        let Some(post_id) = ids.get(&m.id).copied() else { continue };
        let mut at = m.posted_at + Duration::minutes(20);
        while at <= now {
            let values = m.metrics_at(at);
            batch.push(NewSnapshot::from_metrics(post_id, at, |name| values.get(name).copied()));
            at += cadence.interval(at - m.posted_at);
        }
    }
    // Oldest first, as a sync would have written them.
    batch.sort_by_key(|s| s.captured_at);
    let always = |_: DateTime<Utc>, _: Option<DateTime<Utc>>, _: DateTime<Utc>| true;
    let mut seen = writer.mark(account.id).await?;
    for chunk in batch.chunks(2000) {
        seen = writer.write(account.id, seen, chunk, &always).await?.1;
    }

    let hours: Vec<NewAccountSnapshot> = (0..=BACKFILL_DAYS * 24)
        .map(|h| start + Duration::hours(h))
        .map(|hour| NewAccountSnapshot {
            account_id: account.id,
            captured_at: hour,
            followers_count: Some(simulator.followers_at(index, hour)),
            follows_count: account.follows_count,
            media_count: account.media_count,
        })
        .collect();
    account_history::insert_snapshots(conn, &hours).await?;
    for back in 1..=BACKFILL_DAYS {
        let day = (now - Duration::days(back)).date_naive();
        let at = day.and_time(NaiveTime::MIN).and_utc();
        let values = simulator.day_metrics(index, at);
        let row = DailyInsights::from_metrics(
            account.id,
            day,
            |name| values.get(name).copied(),
            values.get("follower_count").copied(),
            now,
        );
        account_history::upsert_day(conn, &row).await?;
    }
    // Weekly audience counts over five weeks, as the sync makes them, so the page can compare
    // the latest with one a month older.
    for weeks_back in (0..5).rev() {
        let at = now - Duration::days(1 + 7 * weeks_back);
        crate::db::audience::record(conn, account.id, at, &simulator.audience(index, at)).await?;
    }
    rollup::refresh_account(conn, account.id, now).await?;
    tracing::info!(account_id = account.id.0, posts = media.len(), snapshots = batch.len(), "demo history written");
    Ok(())
}

/// What the demo's planner shows: for each account a post going out a few minutes after the
/// demo starts (the publisher's every-minute run publishes it while you watch), posts
/// scheduled over the coming days at the account's usual hours, and a draft.
/// Two saved replies and a rule that hides follower-selling spam (the demo's comment feed
/// sends some), switched on.
pub async fn seed_inbox(inbox: &crate::services::inbox::Inbox) -> anyhow::Result<()> {
    use crate::services::inbox::RuleDraft;
    inbox.add_saved_reply("Thanks", "Thank you {name}! 🙏").await?;
    inbox.add_saved_reply("Opening hours", "Hi {name}, we are open every day from 8 to 4 🙂").await?;
    let rule = RuleDraft {
        name: "Hide follower spam".into(),
        account: None,
        match_kind: "keywords".into(),
        pattern: "followers fast, cheap followers, get 10k".into(),
        action: "hide".into(),
        saved_reply: None,
        per_hour: 10,
    };
    let id = inbox.add_rule(&rule).await?;
    inbox.set_rule_enabled(id, true).await?;
    Ok(())
}

/// A weekly report of every account, so the Reports page has one made within a minute of
/// the start (the demo configures no mail server: it is kept, not mailed).
pub async fn schedule_reports(reports: &crate::services::Reports, tz: chrono_tz::Tz) -> anyhow::Result<()> {
    use crate::db::report_schedules::NewReportSchedule;
    reports
        .add_schedule(&NewReportSchedule {
            account_id: None,
            cadence: crate::domain::Cadence::Weekly,
            recipients: vec!["team@example.com".to_owned()],
            time_zone: tz.to_string(),
            send_hour: 7,
            created_by: None,
            created_at: chrono::Utc::now(),
        })
        .await?;
    Ok(())
}

/// Two alert rules, listed only (no recipients): posts far above their cohort, and tokens
/// close to expiring.
pub async fn add_alert_rules(alerts: &crate::services::Alerts) -> anyhow::Result<()> {
    use crate::db::alerts::NewAlertRule;
    use crate::domain::AlertKind;
    for kind in [AlertKind::PostAbove, AlertKind::TokenExpiring] {
        let rule = NewAlertRule {
            kind,
            account_id: None,
            threshold: kind.threshold_meaning().1,
            quiet_hours: kind.default_quiet_hours(),
            recipients: Vec::new(),
            webhook_url: None,
            created_by: None,
            created_at: chrono::Utc::now(),
        };
        alerts.add_rule(&rule).await?;
    }
    Ok(())
}

pub async fn plan_posts(publishing: &crate::services::Publishing) -> anyhow::Result<usize> {
    use crate::domain::PublicationKind;
    use crate::publishing::samples;
    use crate::services::publishing::{Composition, Upload, When};

    const PLANS: &[(i64, u32, &str, &str)] = &[
        (0, 6, "feed", "First batch of the day is out of the oven. Which one is yours? #bakery #sourdough"),
        (1, 9, "feed", "Behind the counter: shaping the morning rye 🌾 #bakery #behindthescenes"),
        (2, 18, "reel", "Sixty seconds of laminating dough, no cuts. #reels #pastry"),
        (4, 8, "feed", "Weekend special: cardamom buns, while they last. #weekend #buns"),
        (6, 12, "story", ""),
    ];
    let now = publishing.now();
    let mut planned = 0;
    for (index, account) in publishing.accounts().await?.into_iter().enumerate() {
        let seed = u8::try_from(index).unwrap_or(0);
        let compose = async |kind: PublicationKind, caption: &str, when: When, shape: u8| {
            let bytes = match kind {
                PublicationKind::Reel => samples::mp4(45),
                PublicationKind::Story => samples::jpeg(1080, 1920, seed + shape),
                PublicationKind::Feed => samples::jpeg(1080, 1350, seed + shape),
            };
            let path = publishing.upload_path();
            std::fs::write(&path, bytes).context("cannot write a demo upload")?;
            let name = if kind == PublicationKind::Reel { "demo.mp4" } else { "demo.jpg" };
            let upload =
                Upload { path, name: name.into(), alt_text: Some("A demo picture: a soft colour gradient".into()) };
            publishing
                .compose(Composition {
                    account: account.id,
                    kind,
                    caption: caption.to_owned(),
                    first_comment: None,
                    when,
                    uploads: vec![upload],
                    created_by: None,
                })
                .await
                .map_err(|err| anyhow::anyhow!("cannot plan a demo post: {err}"))
        };
        let soon = When::At(now + Duration::minutes(2 + i64::try_from(index).unwrap_or(0)));
        compose(PublicationKind::Feed, "Planned in Tidemark a moment ago, published by its publisher. #demo", soon, 1)
            .await?;
        planned += 1;
        for (n, (days, hour, kind, caption)) in PLANS.iter().enumerate() {
            let day = (now + Duration::days(*days)).date_naive();
            let at = day.and_time(NaiveTime::from_hms_opt(*hour, 0, 0).unwrap_or(NaiveTime::MIN)).and_utc();
            let kind: PublicationKind = kind.parse().unwrap_or(PublicationKind::Feed);
            compose(kind, caption, When::At(at.max(now + Duration::hours(1))), u8::try_from(n).unwrap_or(0)).await?;
            planned += 1;
        }
        compose(PublicationKind::Feed, "Draft: new autumn menu — prices to confirm. #menu", When::Draft, 5).await?;
        planned += 1;
    }
    Ok(planned)
}
