//! The Graph API client against the simulator, over real HTTP.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tidemark::domain::Flavour;
use tidemark::graph::metrics::MediaKind;
use tidemark::graph::{AccessToken, Action, ClientOptions, GraphClient, GraphConfig, GraphError, MetricRegistry};
use tidemark::simulator::{Faults, Simulator, SimulatorConfig};

const BAKERY: usize = 0; // Instagram Login, image-heavy, 120 posts
const STUDIO: usize = 1; // Facebook Login, Reels-heavy, 150 posts

fn simulator_with(config: SimulatorConfig) -> Simulator {
    Simulator::start(config, "127.0.0.1:0").expect("the simulator starts")
}

fn simulator() -> Simulator {
    simulator_with(SimulatorConfig::standard(42))
}

fn client_for(sim: &Simulator) -> GraphClient {
    let options = ClientOptions {
        timeout: Duration::from_millis(1500),
        max_attempts: 3,
        backoff_base: Duration::from_millis(5),
        slow_down_for: Duration::from_millis(1),
        ..ClientOptions::default()
    };
    GraphClient::new(GraphConfig::new(Some(sim.base_url()), "v25.0").unwrap(), options).unwrap()
}

#[tokio::test]
async fn the_client_reads_an_account_all_its_media_across_pages_and_insights_for_every_type() {
    let sim = simulator();
    let client = client_for(&sim);
    let token = AccessToken::new(sim.token(BAKERY));
    let api = client.session(&token, Flavour::Instagram);

    let found = api.identify().await.unwrap();
    assert_eq!(found.len(), 1);
    let ig_id = sim.ig_user_id(BAKERY);
    assert_eq!(found[0].profile.ig_user_id, ig_id, "the unquoted id keeps every digit");
    assert_eq!(found[0].profile.username, "harbour.bakery");
    assert_eq!(found[0].profile.followers_count, Some(12_400));

    let list = api.media_since(&ig_id, None).await.unwrap();
    let ids: Vec<String> = list.media.iter().map(|m| m.id.clone()).collect();
    assert_eq!(ids, sim.listed_media_ids(BAKERY), "every media exactly once, newest first");
    assert!(list.complete);
    assert!(list.pages >= 2, "120 media need more than one page of 100");

    let registry = MetricRegistry::default();
    let mut kinds_seen = Vec::new();
    for (product, media_type) in [("FEED", "IMAGE"), ("FEED", "CAROUSEL_ALBUM"), ("FEED", "VIDEO"), ("REELS", "VIDEO")]
    {
        let id = sim.find_media(BAKERY, product, media_type).unwrap_or_else(|| panic!("a {product} {media_type}"));
        let media = list.media.iter().find(|m| m.id == id).unwrap();
        assert_eq!(MediaKind::of(media), MediaKind::new(product, media_type));
        let insights = api.media_insights(&ig_id, media, &registry).await.unwrap();
        let expected = sim.media_metrics(&id).unwrap();
        assert_eq!(insights.values.get("reach"), expected.get("reach"), "{product} {media_type}");
        assert_eq!(insights.values.get("views"), expected.get("views"));
        assert!(insights.values["reach"] <= insights.values["views"]);
        if product == "REELS" {
            assert!(insights.values.contains_key("ig_reels_avg_watch_time"));
        } else {
            assert!(insights.values.contains_key("profile_visits"));
        }
        if media.like_count.is_some() {
            assert_eq!(
                media.like_count.map(|l| l as f64),
                insights.values.get("likes").copied(),
                "list and insight agree"
            );
        }
        kinds_seen.push(product);
    }

    let stories = api.stories(&ig_id).await.unwrap();
    assert!(!stories.media.is_empty());
    let story = &stories.media[0];
    assert_eq!(story.media_product_type.as_deref(), Some("STORY"));
    let insights = api.media_insights(&ig_id, story, &registry).await.unwrap();
    assert!(insights.values.contains_key("navigation") || insights.unavailable.is_some());
    assert!(registry.exclusions().is_empty(), "the standard metric sets are all valid");
}

#[tokio::test]
async fn a_facebook_login_token_finds_its_instagram_account_through_the_page() {
    let sim = simulator();
    let client = client_for(&sim);
    let token = AccessToken::new(sim.token(STUDIO));
    assert_eq!(Flavour::from_token(token.expose()), Some(Flavour::Facebook));
    let api = client.session(&token, Flavour::Facebook);
    let found = api.identify().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].profile.ig_user_id, sim.ig_user_id(STUDIO));
    assert!(found[0].page_id.is_some());
    let info = api.debug_token().await.unwrap();
    assert!(info.is_valid);
    assert!(info.expiry().unwrap() > chrono::Utc::now() + chrono::Duration::days(40));
}

#[tokio::test]
async fn a_wrapped_me_answer_is_read_like_a_flat_one() {
    let sim = simulator_with(SimulatorConfig { wrapped_me: true, ..SimulatorConfig::standard(42) });
    let client = client_for(&sim);
    let token = AccessToken::new(sim.token(BAKERY));
    let found = client.session(&token, Flavour::Instagram).identify().await.unwrap();
    assert_eq!(found[0].profile.ig_user_id, sim.ig_user_id(BAKERY));
}

#[tokio::test]
async fn the_media_window_stops_the_listing_early() {
    let sim = simulator();
    let client = client_for(&sim);
    let token = AccessToken::new(sim.token(STUDIO));
    let api = client.session(&token, Flavour::Facebook);
    let since = sim.now() - chrono::Duration::days(20);
    let list = api.media_since(&sim.ig_user_id(STUDIO), Some(since)).await.unwrap();
    assert!(list.complete);
    assert!(!list.media.is_empty());
    assert!(list.media.iter().all(|m| m.timestamp >= since));
    assert_eq!(list.pages, 1, "20 of 120 days fit in one page");
    assert_eq!(api.calls(), 1);
}

#[tokio::test]
async fn expired_revoked_and_unparsable_tokens_say_reconnect() {
    let sim = simulator();
    let client = client_for(&sim);
    let expired = sim.issue_token(BAKERY, chrono::Duration::days(2), 60);
    sim.expire_token(&expired);
    let token = AccessToken::new(expired.clone());
    let err = client.session(&token, Flavour::Instagram).identify().await.unwrap_err();
    assert!(matches!(err, GraphError::TokenInvalid { code: 190, subcode: Some(463), .. }), "{err:?}");
    assert_eq!(err.action(), Action::Reconnect);
    let text = err.to_string();
    assert!(text.contains("Session has expired"), "{text}");
    assert!(!text.contains(&expired));

    let revoked = sim.issue_token(BAKERY, chrono::Duration::days(2), 60);
    sim.revoke_token(&revoked, 460);
    let token = AccessToken::new(revoked);
    let err = client.session(&token, Flavour::Instagram).identify().await.unwrap_err();
    assert!(matches!(err, GraphError::TokenInvalid { subcode: Some(460), .. }), "{err:?}");

    let garbage = AccessToken::new("IGAAnot-a-real-token");
    let err = client.session(&garbage, Flavour::Instagram).identify().await.unwrap_err();
    assert!(err.to_string().contains("Cannot parse access token"));

    // An Instagram Login token on a Facebook-only endpoint (the wrong host).
    let token = AccessToken::new(sim.token(BAKERY));
    let err = client.session(&token, Flavour::Facebook).identify().await.unwrap_err();
    assert!(matches!(err, GraphError::TokenInvalid { code: 190, .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_metric_is_dropped_for_its_kind_and_the_request_retried_once() {
    let config = SimulatorConfig { refuse: vec![("FEED".into(), "shares".into())], ..SimulatorConfig::standard(42) };
    let sim = simulator_with(config);
    let client = client_for(&sim);
    let token = AccessToken::new(sim.token(BAKERY));
    let api = client.session(&token, Flavour::Instagram);
    let ig_id = sim.ig_user_id(BAKERY);
    let list = api.media_since(&ig_id, None).await.unwrap();
    let image_id = sim.find_media(BAKERY, "FEED", "IMAGE").unwrap();
    let image = list.media.iter().find(|m| m.id == image_id).unwrap();
    let registry = MetricRegistry::default();

    let before = api.calls();
    let insights = api.media_insights(&ig_id, image, &registry).await.unwrap();
    assert_eq!(api.calls() - before, 2, "one refusal, one retry");
    assert_eq!(insights.newly_dropped.len(), 1);
    assert_eq!(insights.newly_dropped[0].metric, "shares");
    assert!(insights.values.contains_key("reach"));
    assert!(!insights.values.contains_key("shares"), "not measured, not zero");

    let before = api.calls();
    let again = api.media_insights(&ig_id, image, &registry).await.unwrap();
    assert_eq!(api.calls() - before, 1, "the exclusion is remembered");
    assert!(again.newly_dropped.is_empty());

    let reel_id = sim.find_media(BAKERY, "REELS", "VIDEO").unwrap();
    let reel = list.media.iter().find(|m| m.id == reel_id).unwrap();
    let reel_insights = api.media_insights(&ig_id, reel, &registry).await.unwrap();
    assert!(reel_insights.values.contains_key("shares"), "Reels keep the metric");
}

#[tokio::test]
async fn media_without_insights_are_marked_unavailable_not_failed() {
    let sim = simulator();
    let client = client_for(&sim);
    let token = AccessToken::new(sim.token(BAKERY));
    let api = client.session(&token, Flavour::Instagram);
    let ig_id = sim.ig_user_id(BAKERY);
    let registry = MetricRegistry::default();
    let list = api.media_since(&ig_id, None).await.unwrap();

    let old_id = sim.pre_conversion_media(BAKERY).unwrap();
    let old = list.media.iter().find(|m| m.id == old_id).unwrap();
    let insights = api.media_insights(&ig_id, old, &registry).await.unwrap();
    assert!(insights.unavailable.unwrap().contains("before the account became"));

    let story_id = sim.publish_story(BAKERY);
    let stories = api.stories(&ig_id).await.unwrap();
    let story = stories.media.iter().find(|m| m.id == story_id).unwrap();
    let insights = api.media_insights(&ig_id, story, &registry).await.unwrap();
    assert_eq!(insights.unavailable.as_deref(), Some("not enough viewers for insights"));

    // A brand-new post has no data yet: an empty answer, so nothing is measured.
    let new_id = sim.publish(BAKERY, false);
    sim.advance(chrono::Duration::minutes(1));
    let list = api.media_since(&ig_id, None).await.unwrap();
    let fresh = list.media.iter().find(|m| m.id == new_id).unwrap();
    let insights = api.media_insights(&ig_id, fresh, &registry).await.unwrap();
    assert!(insights.values.is_empty());
    assert!(insights.unavailable.is_none());
}

#[tokio::test]
async fn a_burst_of_server_errors_is_retried_with_backoff_and_counted() {
    let sim = simulator();
    let client = client_for(&sim);
    let token = AccessToken::new(sim.token(BAKERY));
    let api = client.session(&token, Flavour::Instagram);
    sim.set_faults(Faults { fail_next: 2, ..Faults::default() });
    let profile = api.profile(&sim.ig_user_id(BAKERY)).await.unwrap();
    assert_eq!(profile.username, "harbour.bakery");
    assert_eq!(api.calls(), 3, "two failures and the success");

    sim.set_faults(Faults { fail_next: 10, ..Faults::default() });
    let err = api.profile(&sim.ig_user_id(BAKERY)).await.unwrap_err();
    assert_eq!(err.action(), Action::Retry, "{err:?}");
    assert_eq!(api.calls(), 6, "bounded: three attempts");
}

#[tokio::test]
async fn broken_json_and_timeouts_are_temporary_failures() {
    let sim = simulator();
    let client = client_for(&sim);
    let token = AccessToken::new(sim.token(BAKERY));
    let api = client.session(&token, Flavour::Instagram);
    let ig_id = sim.ig_user_id(BAKERY);

    sim.set_faults(Faults { malformed_ratio: 1.0, ..Faults::default() });
    let err = api.media_since(&ig_id, None).await.unwrap_err();
    assert!(matches!(err, GraphError::Transient { .. }), "{err:?}");
    assert!(err.to_string().contains("malformed"));

    sim.set_faults(Faults { timeout_ratio: 1.0, ..Faults::default() });
    let err = api.profile(&ig_id).await.unwrap_err();
    assert_eq!(err.action(), Action::Retry, "{err:?}");

    sim.set_faults(Faults::default());
    assert!(api.profile(&ig_id).await.is_ok(), "fine again once the faults stop");
}

#[tokio::test]
async fn a_spent_budget_gives_80002_and_the_account_is_left_alone_until_the_wait_is_over() {
    let sim = simulator();
    let client = client_for(&sim);
    let raw = sim.token(BAKERY);
    sim.set_budget(&raw, 5);
    let token = AccessToken::new(raw.clone());
    let api = client.session(&token, Flavour::Instagram);
    let ig_id = sim.ig_user_id(BAKERY);
    for _ in 0..5 {
        api.profile(&ig_id).await.unwrap();
    }
    assert_eq!(client.rates().usage_percent(&ig_id), 100);
    let err = api.profile(&ig_id).await.unwrap_err();
    assert_eq!(err, GraphError::RateLimited { code: 80002, wait: Some(Duration::from_secs(300)) });
    assert_eq!(err.action(), Action::Wait);

    let requests = sim.requests();
    let err = api.profile(&ig_id).await.unwrap_err();
    assert!(matches!(err, GraphError::RateLimited { .. }));
    assert_eq!(sim.requests(), requests, "no call while the account waits");
}

#[tokio::test]
async fn tokens_refresh_when_old_enough_and_not_before() {
    let sim = simulator();
    let client = client_for(&sim);
    let token = AccessToken::new(sim.token(BAKERY));
    let grant = client.session(&token, Flavour::Instagram).refresh_token().await.unwrap();
    assert!(grant.expires_in.unwrap() > 59 * 86_400);
    let fresh = AccessToken::new(grant.access_token);
    assert!(client.session(&fresh, Flavour::Instagram).identify().await.is_ok());

    let young = AccessToken::new(sim.issue_token(BAKERY, chrono::Duration::hours(1), 60));
    let err = client.session(&young, Flavour::Instagram).refresh_token().await.unwrap_err();
    assert_eq!(err.action(), Action::Report, "{err:?}");
}

#[tokio::test]
async fn account_insights_give_a_days_totals_and_the_follower_change() {
    let sim = simulator();
    let client = client_for(&sim);
    let token = AccessToken::new(sim.token(BAKERY));
    let api = client.session(&token, Flavour::Instagram);
    let until = sim.now();
    let registry = MetricRegistry::default();
    let day =
        api.account_day(&sim.ig_user_id(BAKERY), until - chrono::Duration::days(1), until, &registry).await.unwrap();
    assert!(day.values["reach"] > 0.0);
    assert!(day.values.contains_key("accounts_engaged"));
    assert!(day.follower_net_change.is_some());
    assert_eq!(api.calls(), 2);
}

/// Collects every log line written while it is the default subscriber.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_log_line_or_error_of_a_faulty_run_contains_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let config = SimulatorConfig { refuse: vec![("FEED".into(), "saved".into())], ..SimulatorConfig::standard(42) };
    let sim = simulator_with(config);
    let client = client_for(&sim);
    let raw = sim.token(BAKERY);
    let token = AccessToken::new(raw.clone());
    let api = client.session(&token, Flavour::Instagram);
    let ig_id = sim.ig_user_id(BAKERY);
    let registry = MetricRegistry::default();
    let mut errors = Vec::new();

    sim.set_faults(Faults { fail_next: 1, ..Faults::default() });
    let list = api.media_since(&ig_id, None).await.unwrap();
    for media in list.media.iter().take(5) {
        let insights = api.media_insights(&ig_id, media, &registry).await.unwrap();
        errors.extend(insights.newly_dropped.iter().map(|d| d.reason.clone()));
    }
    sim.set_faults(Faults { malformed_ratio: 1.0, ..Faults::default() });
    errors.push(api.media_since(&ig_id, None).await.unwrap_err().to_string());
    sim.set_faults(Faults { fail_next: 10, ..Faults::default() });
    errors.push(api.profile(&ig_id).await.unwrap_err().to_string());
    sim.set_faults(Faults { proxy_refusal_ratio: 1.0, ..Faults::default() });
    let refused = api.profile(&ig_id).await.unwrap_err();
    assert!(refused.to_string().contains("access_token=[redacted]"), "{refused}");
    tracing::warn!(error = %refused, "logged as the sync would");
    errors.push(refused.to_string());
    sim.set_faults(Faults::default());
    sim.expire_token(&raw);
    errors.push(api.profile(&ig_id).await.unwrap_err().to_string());

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("metric refused"), "the run was logged");
    assert!(!logs.contains(&raw), "a log line holds the token");
    for error in errors {
        assert!(!error.contains(&raw), "an error holds the token: {error}");
    }
}

#[tokio::test]
async fn business_discovery_reads_another_accounts_public_figures_through_facebook_login_only() {
    use tidemark::graph::discovery::{DISCOVERED_POSTS, is_not_found};
    let sim = simulator();
    let client = client_for(&sim);
    let studio = AccessToken::new(sim.token(STUDIO));
    let api = client.session(&studio, Flavour::Facebook);
    let found = api.discover(&sim.ig_user_id(STUDIO), "north.loaf").await.unwrap();
    let (followers, posts) = sim.public_figures("north.loaf", sim.now()).unwrap();
    assert_eq!(found.username, "north.loaf");
    assert_eq!(found.followers_count, Some(followers));
    assert_eq!(found.media_count, Some(posts as i64));
    let media = found.media.unwrap().data;
    assert_eq!(media.len(), DISCOVERED_POSTS, "the newest {DISCOVERED_POSTS} posts");
    assert!(media.windows(2).all(|w| w[0].timestamp >= w[1].timestamp), "newest first");
    assert!(media.iter().all(|m| m.comments_count.is_some() && m.media_product_type.as_deref() != Some("STORY")));
    assert!(media.iter().any(|m| m.like_count.is_some_and(|n| n > 0)));

    // Case does not matter; an unknown name is Meta's "Invalid user id" (110/2207013).
    assert!(api.discover(&sim.ig_user_id(STUDIO), "North.Loaf").await.is_ok());
    let missing = api.discover(&sim.ig_user_id(STUDIO), "no.such.account").await.unwrap_err();
    assert!(is_not_found(&missing), "{missing}");
    assert_eq!(missing.action(), Action::Report);

    // Instagram Login has no Business Discovery.
    let bakery = AccessToken::new(sim.token(BAKERY));
    let refused = client.session(&bakery, Flavour::Instagram).discover(&sim.ig_user_id(BAKERY), "north.loaf").await;
    let refused = refused.unwrap_err();
    assert!(!is_not_found(&refused) && refused.to_string().contains("business_discovery"), "{refused}");
}
