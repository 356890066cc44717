//! The inbox against the simulator: comments read by the sync (once, whichever way they
//! arrive), replies, hides, unhides and deletes sent to Instagram and recorded with who did
//! them, viewers refused, saved replies and rules (dry run, hourly limit, undo), the
//! navigation's count and the account page's response figures.

use std::time::Duration;

use reqwest::Client;

use tidemark::domain::Role;
use tidemark::routes::ROUTE_TABLE;
use tidemark::simulator::oauth::INSTAGRAM_APP_SECRET;
use tidemark::simulator::webhooks;

use crate::helpers::{TestApp, csrf_token_in, location, spawn_app};

/// harbour.bakery: Instagram Login, a few comments per post.
const BAKERY: usize = 0;

/// A rule (switched off) for pages that need one.
pub async fn a_rule(app: &TestApp) -> i64 {
    crate::helpers::execute(
        &mut app.db.connect().await,
        "INSERT INTO comment_rules (name, match_kind, pattern, action, per_hour, created_at) \
         VALUES ('Spam', 'keywords', 'followers', 'flag', 5, now())",
    )
    .await;
    app.count("SELECT max(id) AS n FROM comment_rules").await
}

/// A comment made on Instagram now and delivered by webhook; its id.
pub async fn comment(app: &TestApp, media: &str, by: &str, text: &str) -> String {
    let (id, body) = app.sim.comment_on(BAKERY, media, by, text, None);
    let status = webhooks::deliver(&app.url("/meta/webhooks"), INSTAGRAM_APP_SECRET, &body).await.unwrap();
    assert_eq!(status, 200);
    for _ in 0..100 {
        if app.count(&format!("SELECT count(*) AS n FROM comments WHERE comment_id = '{id}'")).await == 1 {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("the webhook's comment {id} was not stored");
}

/// The newest post of the bakery that the sync does not read comments of (older than a week),
/// so that a test's own comments are the only ones on it.
pub fn quiet_media(app: &TestApp) -> String {
    let now = app.sim.now();
    app.sim
        .media(BAKERY)
        .into_iter()
        .find(|m| m.product == "FEED" && !m.deleted && now - m.posted_at > chrono::Duration::days(8))
        .map(|m| m.id)
        .expect("an older feed post")
}

async fn post_form(app: &TestApp, client: &Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(client, "/inbox", path, fields).await
}

#[tokio::test]
async fn the_sync_reads_recent_posts_comments_once_and_a_webhook_and_a_read_store_one_comment() {
    let app = spawn_app().await;
    let account = app.connect(BAKERY).await;
    let first = app.run_sync().await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let synced = app.count("SELECT count(*) AS n FROM comments WHERE source = 'sync'").await;
    assert!(synced > 0, "the sync reads recent posts' comments");
    let outside = app
        .count(&format!(
            "SELECT count(*) AS n FROM comments c JOIN posts p ON p.media_id = c.media_id \
             WHERE c.account_id = {} AND p.posted_at < now() - interval '8 days'",
            account.id
        ))
        .await;
    assert_eq!(outside, 0, "older posts are left to the webhooks");
    // Every comment the simulator has on a read post is stored, replies under their comment.
    let read: Vec<String> = app
        .sim
        .listed_media_ids(BAKERY)
        .into_iter()
        .filter(|m| {
            app.sim.media(BAKERY).iter().any(|s| &s.id == m && app.sim.now() - s.posted_at < chrono::Duration::days(7))
        })
        .collect();
    for media in read.iter().take(3) {
        let stored = app.count(&format!("SELECT count(*) AS n FROM comments WHERE media_id = '{media}'")).await;
        assert_eq!(stored as usize, app.sim.comment_count(media).min(200), "media {media}");
    }

    // A comment delivered by webhook, then listed by the next read, is stored once.
    let media = read[0].clone();
    let id = comment(&app, &media, "maria.eats", "Are you open on Sunday?").await;
    app.sim.advance(chrono::Duration::hours(1));
    let second = app.run_sync().await;
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    assert_eq!(app.count(&format!("SELECT count(*) AS n FROM comments WHERE comment_id = '{id}'")).await, 1);
    assert_eq!(
        app.count("SELECT count(*) - count(DISTINCT comment_id) AS n FROM comments").await,
        0,
        "no comment twice"
    );
    // One made on Instagram with no webhook reaching Tidemark arrives with the next read.
    let (silent, _) = app.sim.comment_on(BAKERY, &media, "tom_b", "This looks amazing 😍", None);
    app.sim.advance(chrono::Duration::minutes(20));
    app.run_sync().await;
    assert_eq!(
        app.count(&format!("SELECT count(*) AS n FROM comments WHERE comment_id = '{silent}' AND source = 'sync'"))
            .await,
        1
    );
}

#[tokio::test]
async fn an_admin_replies_hides_unhides_and_deletes_through_instagram_and_each_is_recorded() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    let ada = app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;
    let media = quiet_media(&app);
    let question = comment(&app, &media, "lina.k", "How much is the sourdough loaf?").await;
    let spam = comment(&app, &media, "deals4u_bot", "Get 10k followers FAST!!!").await;

    let inbox = app.get_text(&admin, "/inbox").await;
    assert!(inbox.contains("nav-count\">2<"), "the navigation counts the waiting threads: {inbox}");

    // Reply: posted on Instagram under the comment, then shown in its thread as the account's.
    let replied =
        post_form(&app, &admin, &format!("/inbox/{question}/reply"), &[("message", "€6.50, baked daily")]).await;
    assert_eq!(replied.status(), 303);
    assert!(location(&replied).contains("notice=comment-replied"));
    assert!(app.sim.comments_on(&media).contains(&"€6.50, baked daily".to_owned()), "sent to Instagram");
    let reply_row = format!(
        "SELECT count(*) AS n FROM comments WHERE parent_id = '{question}' AND source = 'tidemark' \
         AND text = '€6.50, baked daily' AND username = 'harbour.bakery'"
    );
    assert_eq!(app.count(&reply_row).await, 1);
    let recorded = format!(
        "SELECT count(*) AS n FROM comment_actions WHERE comment_id = '{question}' AND action = 'reply' \
         AND user_id = {} AND actor = 'ada' AND reply_id IS NOT NULL",
        ada.0
    );
    assert_eq!(app.count(&recorded).await, 1, "who replied is recorded");
    let page = app.get_text(&admin, "/inbox?show=waiting").await;
    assert!(!page.contains("How much is the sourdough loaf?"), "answered: no longer waiting");
    assert!(page.contains("Get 10k followers FAST!!!"));

    // Hide: hidden on Instagram; a reply to a hidden comment is refused before any call.
    let hidden = post_form(&app, &admin, &format!("/inbox/{spam}/hide"), &[]).await;
    assert_eq!(hidden.status(), 303);
    assert!(app.sim.comment(&spam).unwrap().1, "hidden on Instagram");
    let before = app.sim.requests();
    let refused = post_form(&app, &admin, &format!("/inbox/{spam}/reply"), &[("message", "no")]).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("Unhide it first"));
    assert_eq!(app.sim.requests(), before, "nothing was sent");
    let unhidden = post_form(&app, &admin, &format!("/inbox/{spam}/unhide"), &[]).await;
    assert_eq!(unhidden.status(), 303);
    assert!(!app.sim.comment(&spam).unwrap().1);

    // Delete: gone from Instagram and from Tidemark, the record kept.
    let deleted = post_form(&app, &admin, &format!("/inbox/{spam}/delete"), &[]).await;
    assert_eq!(deleted.status(), 303);
    assert!(app.sim.comment(&spam).unwrap().2, "deleted on Instagram");
    assert_eq!(app.count(&format!("SELECT count(*) AS n FROM comments WHERE comment_id = '{spam}'")).await, 0);
    let log = format!("SELECT count(*) AS n FROM comment_actions WHERE comment_id = '{spam}' AND actor = 'ada'");
    assert_eq!(app.count(&log).await, 3, "hide, unhide and delete are recorded");

    // Bad input: an empty reply, an unknown comment, a malformed id.
    let empty = post_form(&app, &admin, &format!("/inbox/{question}/reply"), &[("message", "  ")]).await;
    assert_eq!(empty.status(), 422);
    assert!(empty.text().await.unwrap().contains("Write a reply first"));
    let unknown = post_form(&app, &admin, "/inbox/17999999999999999/hide", &[]).await;
    assert_eq!(unknown.status(), 404);
    let malformed = post_form(&app, &admin, "/inbox/1%27%20OR%201=1/hide", &[]).await;
    assert_eq!(malformed.status(), 404);

    // The account page counts the answers.
    let account = app.count("SELECT id AS n FROM ig_accounts").await;
    let figures = app.get_text(&admin, &format!("/accounts/{account}?days=7")).await;
    assert!(figures.contains("Answered by the account"), "{figures}");
    assert!(figures.contains("100 %"), "the one comment left was answered: {figures}");
}

#[tokio::test]
async fn instagrams_refusal_is_shown_and_changes_nothing() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;
    let media = quiet_media(&app);
    let id = comment(&app, &media, "petra", "Love the new colours").await;
    // The user changed their password on Instagram: the token no longer works.
    for token in app.sim.tokens_of(BAKERY) {
        app.sim.revoke_token(&token, 460);
    }
    let refused =
        post_form(&app, &admin, &format!("/inbox/{id}/reply"), &[("message", "Thanks for the kind words!")]).await;
    assert_eq!(refused.status(), 409);
    let page = refused.text().await.unwrap();
    assert!(page.contains("re-connect"), "{page}");
    assert!(page.contains(">Thanks for the kind words!</textarea>"), "the reply typed is kept in its form: {page}");
    assert_eq!(app.count("SELECT count(*) AS n FROM comment_actions").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM comments WHERE source = 'tidemark'").await, 0);
}

#[tokio::test]
async fn a_viewer_is_refused_every_inbox_action_and_sees_no_control() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.create_user("ada", Role::Admin).await;
    app.create_user("vera", Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    let media = quiet_media(&app);
    let id = comment(&app, &media, "noor", "Where is this? 📍").await;
    let rule = a_rule(&app).await;
    let html = app.get_text(&viewer, "/inbox").await;
    assert!(html.contains("Where is this? 📍"));
    assert_eq!(html.matches("method=\"post\"").count(), 1, "only sign-out");
    let token = csrf_token_in(&html);
    let requests = app.sim.requests();
    for route in ROUTE_TABLE.iter().filter(|r| r.method == "POST" && r.path.starts_with("/inbox")) {
        let path = route.path.replace("{comment_id}", &id).replace("{id}", &rule.to_string());
        let fields = [
            ("csrf_token", token.as_str()),
            ("message", "hi"),
            ("title", "t"),
            ("body", "b"),
            ("name", "n"),
            ("pattern", "p"),
            ("action", "flag"),
            ("match_kind", "keywords"),
            ("per_hour", "3"),
        ];
        let response = viewer.post(app.url(&path)).form(&fields).send().await.unwrap();
        assert_eq!(response.status(), 403, "POST {path}");
    }
    assert_eq!(app.sim.requests(), requests, "nothing reached Instagram");
    assert_eq!(app.count("SELECT count(*) AS n FROM comment_actions").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM saved_replies").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM comment_rules").await, 1);
    let rules = app.get_text(&viewer, "/inbox/rules").await;
    assert_eq!(rules.matches("method=\"post\"").count(), 1, "only sign-out");
}

#[tokio::test]
async fn a_rule_shows_its_dry_run_acts_within_its_hourly_limit_and_is_undone_from_the_inbox() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;
    let media = quiet_media(&app);
    // History: two spam comments already stored, which the rule must never act on.
    let old = comment(&app, &media, "deals4u_bot", "cheap FOLLOWERS here").await;
    comment(&app, &media, "r.okafor", "Great shot").await;
    crate::helpers::execute(
        &mut app.db.connect().await,
        "UPDATE comments SET received_at = received_at - interval '2 hours', rules_checked_at = NULL",
    )
    .await;

    // A saved reply, and a reply rule that names it; bad input is shown, nothing saved.
    let saved =
        post_form(&app, &admin, "/inbox/saved-replies", &[("title", "Thanks"), ("body", "Thank you {name}!")]).await;
    assert_eq!(saved.status(), 303);
    let twice = post_form(&app, &admin, "/inbox/saved-replies", &[("title", "Thanks"), ("body", "again")]).await;
    assert_eq!(twice.status(), 422);
    let bad = post_form(
        &app,
        &admin,
        "/inbox/rules",
        &[
            ("name", "Broken"),
            ("match_kind", "pattern"),
            ("pattern", "(unclosed"),
            ("action", "hide"),
            ("per_hour", "5"),
        ],
    )
    .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("not a valid regular expression"));
    let created = post_form(
        &app,
        &admin,
        "/inbox/rules",
        &[
            ("name", "Spam"),
            ("match_kind", "keywords"),
            ("pattern", "followers, promo"),
            ("action", "hide"),
            ("per_hour", "2"),
        ],
    )
    .await;
    assert_eq!(created.status(), 303);
    let rule_page = location(&created);
    let rule_path = rule_page.split('?').next().unwrap().to_owned();
    let dry_run = app.get_text(&admin, &rule_page).await;
    assert!(dry_run.contains("cheap FOLLOWERS here"), "the dry run lists what it matches: {dry_run}");
    assert!(!dry_run.contains("Great shot"));
    assert!(!app.sim.comment(&old).unwrap().1, "a dry run acts on nothing");

    let on = post_form(&app, &admin, &format!("{rule_path}/enable"), &[]).await;
    assert_eq!(on.status(), 303);
    let spam: Vec<String> = [
        comment(&app, &media, "deals4u_bot", "10k followers fast").await,
        comment(&app, &media, "deals4u_bot", "promo code inside").await,
        comment(&app, &media, "deals4u_bot", "more FOLLOWERS").await,
    ]
    .to_vec();
    let kind = comment(&app, &media, "petra", "Lovely bread").await;
    let summary = app.inbox.apply_rules().await.unwrap();
    assert_eq!((summary.acted, summary.limited), (2, 1), "{summary:?}");
    let hidden: Vec<bool> = spam.iter().map(|id| app.sim.comment(id).unwrap().1).collect();
    assert_eq!(hidden, [true, true, false], "two an hour, the third left alone");
    assert!(!app.sim.comment(&kind).unwrap().1);
    assert!(!app.sim.comment(&old).unwrap().1, "history is never acted on");
    let again = app.inbox.apply_rules().await.unwrap();
    assert_eq!(again.acted, 0, "each comment is judged once");

    // Every automatic action is in the inbox with an undo.
    let inbox = app.get_text(&admin, "/inbox?show=hidden").await;
    assert!(inbox.contains("by rule “Spam”"), "{inbox}");
    let action = app
        .count(&format!("SELECT id AS n FROM comment_actions WHERE comment_id = '{}' AND rule_id IS NOT NULL", spam[0]))
        .await;
    let undone = post_form(&app, &admin, &format!("/inbox/actions/{action}/undo"), &[]).await;
    assert_eq!(undone.status(), 303);
    assert!(!app.sim.comment(&spam[0]).unwrap().1, "shown again on Instagram");
    let twice = post_form(&app, &admin, &format!("/inbox/actions/{action}/undo"), &[]).await;
    assert_eq!(twice.status(), 422);

    // A saved reply still used by a rule cannot be deleted.
    let template = app.count("SELECT id AS n FROM saved_replies").await;
    let reply_rule = post_form(
        &app,
        &admin,
        "/inbox/rules",
        &[
            ("name", "Thank"),
            ("match_kind", "keywords"),
            ("pattern", "lovely"),
            ("action", "reply"),
            ("saved_reply", &template.to_string()),
            ("per_hour", "5"),
        ],
    )
    .await;
    assert_eq!(reply_rule.status(), 303);
    let kept = post_form(&app, &admin, &format!("/inbox/saved-replies/{template}/delete"), &[]).await;
    assert_eq!(kept.status(), 422);
    assert_eq!(app.count("SELECT count(*) AS n FROM saved_replies").await, 1);
}

#[tokio::test]
async fn a_saved_reply_names_the_commenter() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;
    let media = quiet_media(&app);
    let id = comment(&app, &media, "grandma.rose", "Do you take orders for birthdays?").await;
    post_form(&app, &admin, "/inbox/saved-replies", &[("title", "Orders"), ("body", "Yes {name}, call us!")]).await;
    let saved = app.count("SELECT id AS n FROM saved_replies").await.to_string();
    let replied = post_form(&app, &admin, &format!("/inbox/{id}/reply"), &[("message", ""), ("saved", &saved)]).await;
    assert_eq!(replied.status(), 303);
    assert!(app.sim.comments_on(&media).contains(&"Yes @grandma.rose, call us!".to_owned()));
}

#[tokio::test]
async fn a_mention_announced_by_webhook_is_read_shown_and_answered() {
    let app = spawn_app().await;
    let account = app.connect(BAKERY).await;
    app.create_user("ada", Role::Admin).await;
    let admin = app.signed_in("ada").await;
    let (mention, body) = app.sim.mention(BAKERY, "foodie.ana", "Brunch at {account} was <i>perfect</i> 🥐");
    let url = app.url("/meta/webhooks");
    assert_eq!(webhooks::deliver(&url, INSTAGRAM_APP_SECRET, &body).await.unwrap(), 200);
    assert_eq!(webhooks::deliver(&url, INSTAGRAM_APP_SECRET, &body).await.unwrap(), 200, "Meta's retry");
    let read = format!("SELECT count(*) AS n FROM mentions WHERE comment_id = '{mention}' AND text IS NOT NULL");
    for _ in 0..100 {
        if app.count(&read).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(app.count(&read).await, 1, "its text is read right after the webhook");
    assert_eq!(app.count("SELECT count(*) AS n FROM mentions").await, 1, "once");
    let page = app.get_text(&admin, &format!("/inbox?show=mentions&account={}", account.id)).await;
    assert!(page.contains("Brunch at @harbour.bakery was &#60;i&#62;perfect&#60;/i&#62; 🥐"), "escaped: {page}");
    assert!(page.contains("their post on Instagram"), "a link to their post: {page}");

    let replied = post_form(
        &app,
        &admin,
        &format!("/inbox/mentions/{mention}/reply"),
        &[("message", "See you soon!"), ("back", "show=mentions")],
    )
    .await;
    assert_eq!(replied.status(), 303);
    assert!(location(&replied).starts_with("/inbox?show=mentions&notice=comment-replied"), "{}", location(&replied));
    assert_eq!(app.sim.mention_replies(&mention), ["See you soon!"]);
    let page = app.get_text(&admin, "/inbox?show=mentions").await;
    assert!(page.contains("Replied “See you soon!” by ada"), "{page}");
}

#[tokio::test]
async fn comments_and_mentions_follow_the_history_window_and_their_post() {
    let app = spawn_app().await;
    app.connect(BAKERY).await;
    app.run_sync().await;
    let media = quiet_media(&app);
    let recent_on_old_post = comment(&app, &media, "petra", "Still love this one").await;
    let (mention, body) = app.sim.mention(BAKERY, "noor", "Thanks {account}!");
    webhooks::deliver(&app.url("/meta/webhooks"), INSTAGRAM_APP_SECRET, &body).await.unwrap();
    let kept = app.count("SELECT count(*) AS n FROM comments WHERE source = 'sync'").await;
    assert!(kept > 0);
    let mut conn = app.db.connect().await;
    crate::helpers::execute(&mut conn, "UPDATE settings SET lookback_days = 30").await;
    crate::helpers::execute(
        &mut conn,
        &format!("UPDATE posts SET posted_at = now() - interval '40 days' WHERE media_id = '{media}'"),
    )
    .await;
    // Reading the mention's text sets its time from Instagram's answer: wait for that read, so
    // the aging below is not overwritten by it.
    for _ in 0..300 {
        if app.count("SELECT count(*) AS n FROM mentions WHERE fetched_at IS NOT NULL").await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM mentions WHERE fetched_at IS NOT NULL").await, 1);
    crate::helpers::execute(
        &mut conn,
        &format!("UPDATE mentions SET mentioned_at = now() - interval '31 days' WHERE comment_id = '{mention}'"),
    )
    .await;
    app.sync.purge().await.unwrap();
    assert_eq!(
        app.count(&format!("SELECT count(*) AS n FROM comments WHERE comment_id = '{recent_on_old_post}'")).await,
        0,
        "a recent comment on a post past the window goes with its post"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM mentions").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM comments WHERE source = 'sync'").await, kept, "the rest stays");
}
