//! The Graph API facts the simulator honours (see shared/graph-api.md): which metrics each
//! kind of media accepts, and the error texts Meta sends.

/// Every media-insights metric name the API knows (the v25 error message's list).
pub const KNOWN_MEDIA_METRICS: &[&str] = &[
    "impressions",
    "reach",
    "replies",
    "saved",
    "likes",
    "comments",
    "shares",
    "total_interactions",
    "follows",
    "profile_visits",
    "profile_activity",
    "navigation",
    "ig_reels_video_view_total_time",
    "ig_reels_avg_watch_time",
    "views",
    "reels_skip_rate",
    "reposts",
    "facebook_views",
    "crossposted_views",
    "total_views",
    "total_likes",
    "total_comments",
    "link_clicks",
];

pub const FEED_VALID: &[&str] = &[
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
    "reposts",
];
pub const REELS_VALID: &[&str] = &[
    "views",
    "reach",
    "likes",
    "comments",
    "saved",
    "shares",
    "total_interactions",
    "ig_reels_avg_watch_time",
    "ig_reels_video_view_total_time",
    "reels_skip_rate",
    "reposts",
];
pub const STORY_VALID: &[&str] = &[
    "views",
    "reach",
    "replies",
    "navigation",
    "shares",
    "follows",
    "profile_visits",
    "profile_activity",
    "total_interactions",
    "reposts",
];
/// Facebook Login only; not for stories' likes and comments.
pub const FACEBOOK_ONLY: &[&str] = &["total_likes", "total_comments", "total_views"];

/// Account-level metrics accepted with `period=day` (the v25 probe's list, Instagram part).
pub const KNOWN_ACCOUNT_METRICS: &[&str] = &[
    "reach",
    "follower_count",
    "website_clicks",
    "profile_views",
    "online_followers",
    "accounts_engaged",
    "total_interactions",
    "likes",
    "comments",
    "shares",
    "saves",
    "replies",
    "engaged_audience_demographics",
    "reached_audience_demographics",
    "follower_demographics",
    "follows_and_unfollows",
    "profile_links_taps",
    "views",
    "reposts",
];

/// Why a media-insights request is refused, as Meta words it; `None` when it is valid.
pub fn media_metrics_error(metrics: &[&str], product: &str, media_type: &str, facebook: bool) -> Option<String> {
    if let Some(index) = metrics.iter().position(|m| !KNOWN_MEDIA_METRICS.contains(m)) {
        return Some(format!(
            "(#100) metric[{index}] must be one of the following values: {}",
            KNOWN_MEDIA_METRICS.join(", ")
        ));
    }
    let valid = match product {
        "REELS" => REELS_VALID,
        "STORY" => STORY_VALID,
        _ => FEED_VALID,
    };
    for metric in metrics {
        if *metric == "impressions" {
            return Some(if matches!(media_type, "IMAGE" | "CAROUSEL_ALBUM") {
                "(#100) Starting from version v22.0 and above, the impressions metric is no longer supported for the queried media".to_owned()
            } else {
                "(#100) The Media Insights API does not support the impressions metric for this media product type"
                    .to_owned()
            });
        }
        let facebook_extra =
            facebook && FACEBOOK_ONLY.contains(metric) && !(product == "STORY" && *metric != "total_views");
        if !valid.contains(metric) && !facebook_extra {
            return Some(format!(
                "(#100) The Media Insights API does not support the {metric} metric for this media product type."
            ));
        }
    }
    None
}

pub const RETIRED_MEDIA_METRICS: &[&str] = &[
    "impressions",
    "plays",
    "clips_replays_count",
    "ig_reels_aggregated_all_plays_count",
    "video_views",
    "engagement",
    "carousel_album_impressions",
    "carousel_album_reach",
    "taps_forward",
    "taps_back",
    "exits",
];

pub fn expired_token_message(expired_at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let format = "%A, %d-%b-%y %H:%M:%S UTC";
    format!(
        "Error validating access token: Session has expired on {}. The current time is {}.",
        expired_at.format(format),
        now.format(format)
    )
}

pub const CANNOT_PARSE_TOKEN: &str = "Invalid OAuth access token - Cannot parse access token";
pub const PASSWORD_CHANGED: &str = "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.";
pub const INVALID_TOKEN: &str = "Error validating access token: The access token is invalid.";
pub const BUDGET_SPENT: &str = "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.";
pub const NOT_ENOUGH_VIEWERS: &str = "(#10) Not enough viewers for the media to show insights";
pub const TEMPORARY: &str = "An unexpected error has occurred. Please retry your request later.";

pub fn unsupported_get(id: &str) -> String {
    format!(
        "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
    )
}

/// The Graph API's answer to a field the node does not have.
pub fn nonexisting_field(field: &str, node: &str) -> String {
    format!("(#100) Tried accessing nonexisting field ({field}) on node type ({node})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_accepts_its_own_metrics_only() {
        assert_eq!(media_metrics_error(FEED_VALID, "FEED", "IMAGE", false), None);
        assert_eq!(media_metrics_error(REELS_VALID, "REELS", "VIDEO", false), None);
        assert_eq!(media_metrics_error(STORY_VALID, "STORY", "IMAGE", false), None);
        let reels_on_image =
            media_metrics_error(&["reach", "ig_reels_avg_watch_time"], "FEED", "IMAGE", false).unwrap();
        assert!(reels_on_image.contains("does not support the ig_reels_avg_watch_time metric"));
        let unknown = media_metrics_error(&["reach", "views", "engagement"], "FEED", "IMAGE", false).unwrap();
        assert!(unknown.starts_with("(#100) metric[2] must be one of the following values: impressions, reach"));
        assert!(media_metrics_error(&["total_views"], "FEED", "IMAGE", true).is_none());
        assert!(media_metrics_error(&["total_views"], "FEED", "IMAGE", false).is_some());
    }
}
