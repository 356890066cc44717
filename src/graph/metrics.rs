//! Which insights metrics to ask for, by kind of media.
//!
//! One invalid metric fails a whole insights request, so the set comes from this registry,
//! keyed by media product type and media type. A metric the API rejects is excluded for
//! that kind (and persisted by the caller), so later requests do not repeat the mistake.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use super::types::Media;

/// FEED images, videos and carousels.
pub const FEED_METRICS: &[&str] = &[
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
pub const REELS_METRICS: &[&str] = &[
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
pub const STORY_METRICS: &[&str] = &[
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

/// Account metrics asked for as one day's total.
pub const ACCOUNT_DAY_METRICS: &[&str] = &[
    "reach",
    "views",
    "accounts_engaged",
    "total_interactions",
    "likes",
    "comments",
    "saves",
    "shares",
    "replies",
    "reposts",
    "profile_views",
    "website_clicks",
    "profile_links_taps",
];

/// A kind of media for metric purposes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MediaKind {
    pub product: String,
    pub media_type: String,
}

impl MediaKind {
    pub fn new(product: &str, media_type: &str) -> Self {
        Self { product: product.to_owned(), media_type: media_type.to_owned() }
    }

    /// The kind of a listed media. `media_product_type` is documented as Facebook-Login
    /// only; without it, a video whose permalink is a Reel's is a Reel, anything else FEED.
    pub fn of(media: &Media) -> Self {
        let media_type = media.media_type.clone().unwrap_or_else(|| "IMAGE".to_owned());
        let product = media.media_product_type.clone().unwrap_or_else(|| {
            let reel_link = media.permalink.as_deref().is_some_and(|p| p.contains("/reel/"));
            if media_type == "VIDEO" && reel_link { "REELS" } else { "FEED" }.to_owned()
        });
        Self { product, media_type }
    }

    /// The account's own day (not a media): its metrics are shed and remembered the same way.
    pub fn account_day() -> Self {
        Self::new("ACCOUNT", "DAY")
    }

    pub fn standard_metrics(&self) -> &'static [&'static str] {
        match self.product.as_str() {
            "ACCOUNT" => ACCOUNT_DAY_METRICS,
            "REELS" => REELS_METRICS,
            "STORY" => STORY_METRICS,
            _ => FEED_METRICS,
        }
    }
}

/// A metric excluded for a kind of media, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedMetric {
    pub kind: MediaKind,
    pub metric: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct MetricRegistry {
    excluded: RwLock<HashMap<MediaKind, BTreeMap<String, String>>>,
}

impl MetricRegistry {
    /// A registry that already knows earlier exclusions (loaded from the database).
    pub fn with_exclusions(dropped: impl IntoIterator<Item = DroppedMetric>) -> Self {
        let registry = Self::default();
        for d in dropped {
            registry.exclude(&d.kind, &d.metric, &d.reason);
        }
        registry
    }

    pub fn metrics_for(&self, kind: &MediaKind) -> Vec<&'static str> {
        let excluded = self.read();
        let gone = excluded.get(kind);
        kind.standard_metrics().iter().copied().filter(|m| gone.is_none_or(|g| !g.contains_key(*m))).collect()
    }

    /// Excludes `metric` for `kind`; true when it was not excluded before.
    pub fn exclude(&self, kind: &MediaKind, metric: &str, reason: &str) -> bool {
        let mut excluded = self.excluded.write().unwrap_or_else(|p| p.into_inner());
        excluded.entry(kind.clone()).or_default().insert(metric.to_owned(), reason.to_owned()).is_none()
    }

    pub fn exclusions(&self) -> Vec<DroppedMetric> {
        self.read()
            .iter()
            .flat_map(|(kind, metrics)| {
                metrics.iter().map(|(metric, reason)| DroppedMetric {
                    kind: kind.clone(),
                    metric: metric.clone(),
                    reason: reason.clone(),
                })
            })
            .collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<MediaKind, BTreeMap<String, String>>> {
        self.excluded.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The metric a code-100 message blames, among those requested: `metric[N] must be one
/// of…` names it by position; other messages name it ("the views metric").
pub fn blamed_metric(message: &str, requested: &[&str]) -> Option<String> {
    if let Some(start) = message.find("metric[") {
        let digits: String = message[start + 7..].chars().take_while(char::is_ascii_digit).collect();
        if let Some(metric) = digits.parse::<usize>().ok().and_then(|i| requested.get(i)) {
            return Some((*metric).to_owned());
        }
    }
    requested
        .iter()
        .filter_map(|m| {
            let word_at = message.match_indices(m).find(|(i, _)| {
                let before = message[..*i].chars().next_back();
                let after = message[i + m.len()..].chars().next();
                let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !is_word(before) && !is_word(after)
            });
            word_at.map(|(i, _)| (i, *m))
        })
        .min_by_key(|(i, _)| *i)
        .map(|(_, m)| m.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blamed_metric_is_found_by_index_or_by_name() {
        let requested = ["reach", "engagement", "views"];
        let by_index = "(#100) metric[1] must be one of the following values: impressions, reach, replies";
        assert_eq!(blamed_metric(by_index, &requested).as_deref(), Some("engagement"));
        let by_name = "(#100) The Media Insights API does not support the views metric for this media product type.";
        assert_eq!(blamed_metric(by_name, &requested).as_deref(), Some("views"));
        assert_eq!(blamed_metric("(#100) Unsupported get request", &requested), None);
        // `reach` inside `reels_reach` is not a match.
        assert_eq!(blamed_metric("the reels_reach metric", &["reach"]), None);
    }

    #[test]
    fn an_excluded_metric_is_no_longer_asked_for_that_kind_only() {
        let registry = MetricRegistry::default();
        let image = MediaKind::new("FEED", "IMAGE");
        let reel = MediaKind::new("REELS", "VIDEO");
        assert!(registry.metrics_for(&image).contains(&"shares"));
        assert!(registry.exclude(&image, "shares", "refused"));
        assert!(!registry.exclude(&image, "shares", "refused again"));
        assert!(!registry.metrics_for(&image).contains(&"shares"));
        assert!(registry.metrics_for(&reel).contains(&"shares"));
        let reloaded = MetricRegistry::with_exclusions(registry.exclusions());
        assert!(!reloaded.metrics_for(&image).contains(&"shares"));
    }

    #[test]
    fn reels_are_recognised_without_a_product_type() {
        let media: Media = serde_json::from_value(serde_json::json!({
            "id": "1", "media_type": "VIDEO", "timestamp": "2026-01-01T00:00:00+0000",
            "permalink": "https://www.instagram.com/reel/abc/"
        }))
        .unwrap();
        assert_eq!(MediaKind::of(&media).product, "REELS");
    }
}
