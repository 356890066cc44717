//! Contract tests: the simulator answers as the facts in shared/graph-api.md say.

use serde_json::Value;
use tidemark::simulator::facts::{FEED_VALID, REELS_VALID, RETIRED_MEDIA_METRICS, STORY_VALID};
use tidemark::simulator::{Simulator, SimulatorConfig};

const BAKERY: usize = 0;

async fn get(sim: &Simulator, path: &str, query: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Value) {
    let response =
        reqwest::Client::new().get(format!("{}/v25.0/{path}", sim.base_url())).query(query).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn every_valid_metric_is_accepted_and_every_retired_one_refused_per_product_type() {
    let sim = Simulator::start(SimulatorConfig::standard(5), "127.0.0.1:0").unwrap();
    let token = sim.token(BAKERY);
    let story = sim.publish_story(BAKERY);
    // Old enough for viewers and data.
    sim.advance(chrono::Duration::hours(6));
    let cases = [
        (sim.find_media(BAKERY, "FEED", "IMAGE").unwrap(), FEED_VALID),
        (sim.find_media(BAKERY, "FEED", "CAROUSEL_ALBUM").unwrap(), FEED_VALID),
        (sim.find_media(BAKERY, "REELS", "VIDEO").unwrap(), REELS_VALID),
        (story, STORY_VALID),
    ];
    for (media_id, valid) in cases {
        let path = format!("{media_id}/insights");
        let all = valid.join(",");
        let (status, _, body) = get(&sim, &path, &[("metric", &all), ("access_token", &token)]).await;
        if status == 400 && body["error"]["code"] == 10 {
            continue; // a story still short of five viewers
        }
        assert_eq!(status, 200, "{media_id}: {body}");
        let names: Vec<&str> = body["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, valid.to_vec(), "in the requested order");

        for retired in RETIRED_MEDIA_METRICS {
            let metrics = format!("reach,{retired}");
            let (status, _, body) = get(&sim, &path, &[("metric", &metrics), ("access_token", &token)]).await;
            assert_eq!(status, 400, "{retired}");
            assert_eq!(body["error"]["code"], 100);
            assert_eq!(body["error"]["type"], "OAuthException");
            let message = body["error"]["message"].as_str().unwrap();
            if *retired == "impressions" {
                assert!(message.contains("impressions metric"), "{message}");
            } else {
                assert!(
                    message.starts_with("(#100) metric[1] must be one of the following values: impressions, reach"),
                    "{message}"
                );
            }
        }
    }
    sim.stop().await;
}

#[tokio::test]
async fn a_metric_of_another_product_type_fails_the_whole_request() {
    let sim = Simulator::start(SimulatorConfig::standard(5), "127.0.0.1:0").unwrap();
    let token = sim.token(BAKERY);
    let image = sim.find_media(BAKERY, "FEED", "IMAGE").unwrap();
    let (status, _, body) = get(
        &sim,
        &format!("{image}/insights"),
        &[("metric", "reach,ig_reels_avg_watch_time"), ("access_token", &token)],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "(#100) The Media Insights API does not support the ig_reels_avg_watch_time metric for this media product type."
    );
    assert!(body.get("data").is_none(), "no partial data");
}

#[tokio::test]
async fn paging_with_small_limits_and_short_pages_covers_every_media_exactly_once() {
    let sim = Simulator::start(SimulatorConfig::standard(9), "127.0.0.1:0").unwrap();
    let token = sim.token(BAKERY);
    let ig_id = sim.ig_user_id(BAKERY);
    let mut url = format!("{}/v25.0/{ig_id}/media?fields=id,timestamp&limit=7&access_token={token}", sim.base_url());
    let mut seen = Vec::new();
    let mut short_pages = 0;
    let mut pages = 0;
    loop {
        let body: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        let data = body["data"].as_array().unwrap();
        pages += 1;
        if data.len() < 7 && body["paging"]["next"].is_string() {
            short_pages += 1;
        }
        seen.extend(data.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        match body["paging"]["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
        assert!(pages < 100, "paging never ends");
    }
    assert_eq!(seen, sim.listed_media_ids(BAKERY));
    assert!(short_pages > 0, "some pages are short but not last");

    let (_, _, body) = get(&sim, &format!("{ig_id}/media"), &[("limit", "500"), ("access_token", &token)]).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 100, "limit is capped at 100");
}

#[tokio::test]
async fn a_spent_budget_answers_80002_with_the_wait_in_the_usage_header() {
    let sim = Simulator::start(SimulatorConfig::standard(5), "127.0.0.1:0").unwrap();
    let token = sim.token(BAKERY);
    let ig_id = sim.ig_user_id(BAKERY);
    sim.set_budget(&token, 3);
    for _ in 0..3 {
        let (status, headers, _) = get(&sim, &ig_id, &[("access_token", &token)]).await;
        assert_eq!(status, 200);
        assert!(headers.contains_key("x-business-use-case-usage"));
    }
    let (status, headers, body) = get(&sim, &ig_id, &[("access_token", &token)]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 80002);
    let usage: Value = serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage[&ig_id][0]["type"], "instagram");
    assert_eq!(usage[&ig_id][0]["call_count"], 100);
    assert_eq!(usage[&ig_id][0]["estimated_time_to_regain_access"], 5);
}

#[tokio::test]
async fn tokens_answer_with_metas_codes_and_messages() {
    let sim = Simulator::start(SimulatorConfig::standard(5), "127.0.0.1:0").unwrap();
    let token = sim.issue_token(BAKERY, chrono::Duration::days(3), 60);
    sim.expire_token(&token);
    let (status, _, body) = get(&sim, "me", &[("access_token", &token)]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 190);
    assert_eq!(body["error"]["error_subcode"], 463);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Error validating access token: Session has expired on ")
    );

    let (_, _, body) = get(&sim, "me", &[("access_token", "IGAAgarbage")]).await;
    assert_eq!(body["error"]["message"], "Invalid OAuth access token - Cannot parse access token");

    let fresh = sim.token(BAKERY);
    let (status, _, body) = get(&sim, "debug_token", &[("input_token", &fresh), ("access_token", &fresh)]).await;
    assert_eq!(status, 400, "debug_token lives on the Facebook host only");
    assert_eq!(body["error"]["code"], 190);

    let response = reqwest::get(format!(
        "{}/refresh_access_token?grant_type=ig_refresh_token&access_token={fresh}",
        sim.base_url()
    ))
    .await
    .unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].as_str().unwrap().starts_with("IGAA"));
    assert_eq!(body["token_type"], "bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 59 * 86_400);
}

#[tokio::test]
async fn the_me_answer_carries_the_professional_id_unquoted() {
    let sim = Simulator::start(SimulatorConfig::standard(5), "127.0.0.1:0").unwrap();
    let token = sim.token(BAKERY);
    let text = reqwest::get(format!("{}/v25.0/me?fields=user_id,username&access_token={token}", sim.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(&format!("\"user_id\":{}", sim.ig_user_id(BAKERY))), "{text}");
}

#[tokio::test]
async fn account_insights_refuse_ranges_over_30_days_and_impressions() {
    let sim = Simulator::start(SimulatorConfig::standard(5), "127.0.0.1:0").unwrap();
    let token = sim.token(BAKERY);
    let ig_id = sim.ig_user_id(BAKERY);
    let now = sim.now().timestamp();
    let since = (now - 31 * 86_400).to_string();
    let until = now.to_string();
    let path = format!("{ig_id}/insights");
    let (status, _, body) = get(
        &sim,
        &path,
        &[("metric", "reach"), ("period", "day"), ("since", &since), ("until", &until), ("access_token", &token)],
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("more than 30 days"));
    let (status, _, body) =
        get(&sim, &path, &[("metric", "impressions"), ("period", "day"), ("access_token", &token)]).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("impressions metric is no longer supported"));
}

#[tokio::test]
async fn audience_metrics_answer_for_lifetime_only_one_breakdown_at_a_time_and_not_below_100_followers() {
    let small = tidemark::simulator::world::AccountSpec {
        followers: 40,
        ..tidemark::simulator::world::AccountSpec::standard_set()[2].clone()
    };
    let mut config = SimulatorConfig::standard(5);
    config.accounts.push(small);
    let sim = Simulator::start(config, "127.0.0.1:0").unwrap();
    let (token, ig_id) = (sim.token(BAKERY), sim.ig_user_id(BAKERY));
    let path = format!("{ig_id}/insights");
    let demographics = |timeframe: &'static str, breakdown: &'static str| {
        [
            ("metric", "follower_demographics"),
            ("period", "lifetime"),
            ("metric_type", "total_value"),
            ("timeframe", timeframe),
            ("breakdown", breakdown),
        ]
    };
    let with_token = |query: &[(&'static str, &'static str)]| {
        let mut query: Vec<(&str, &str)> = query.to_vec();
        query.push(("access_token", &token));
        query
    };

    let (status, _, body) = get(&sim, &path, &with_token(&demographics("this_month", "city"))).await;
    assert_eq!(status, 200, "{body}");
    let results = body["data"][0]["total_value"]["breakdowns"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 45, "the top 45 at most");
    assert!(results[0]["dimension_values"][0].is_string() && results[0]["value"].is_i64());

    for (query, why) in [
        (demographics("last_30_days", "age"), "a dropped timeframe"),
        (demographics("this_month", "age,gender"), "a breakdown it has not"),
    ] {
        let (status, _, body) = get(&sim, &path, &with_token(&query)).await;
        assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(100)), "{why}: {body}");
    }
    let (status, _, body) =
        get(&sim, &path, &with_token(&[("metric", "online_followers,reach"), ("period", "lifetime")])).await;
    assert_eq!(status, 400, "day and lifetime metrics do not mix: {body}");

    let (status, _, body) =
        get(&sim, &path, &with_token(&[("metric", "online_followers"), ("period", "lifetime")])).await;
    assert_eq!(status, 200);
    let day = body["data"][0]["values"][0]["value"].as_object().unwrap();
    assert_eq!(day.len(), 24, "a count for each hour: {body}");

    let (small_token, small_id) = (sim.token(3), sim.ig_user_id(3));
    let path = format!("{small_id}/insights");
    let mut query = demographics("this_month", "age").to_vec();
    query.push(("access_token", &small_token));
    let (status, _, body) = get(&sim, &path, &query).await;
    assert_eq!((status, body["data"].as_array().map(Vec::len)), (200, Some(0)), "nothing below 100 followers");
    sim.stop().await;
}
