//! Formats, interactions and engagement rates.

use std::fmt;

/// How people think of a post's kind (`docs/metrics.md`, Formats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Image,
    Carousel,
    Video,
    Reel,
    Story,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Image, Format::Carousel, Format::Video, Format::Reel, Format::Story];

    pub fn of(media_product_type: Option<&str>, media_type: &str) -> Format {
        match (media_product_type, media_type) {
            (Some("REELS"), _) => Format::Reel,
            (Some("STORY"), _) => Format::Story,
            (_, "CAROUSEL_ALBUM") => Format::Carousel,
            (_, "VIDEO") => Format::Video,
            _ => Format::Image,
        }
    }

    /// The stable name used in URLs and CSV.
    pub fn key(self) -> &'static str {
        match self {
            Format::Image => "image",
            Format::Carousel => "carousel",
            Format::Video => "video",
            Format::Reel => "reel",
            Format::Story => "story",
        }
    }

    pub fn from_key(key: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.key() == key)
    }

    pub fn plural(self) -> &'static str {
        match self {
            Format::Image => "images",
            Format::Carousel => "carousels",
            Format::Video => "videos",
            Format::Reel => "Reels",
            Format::Story => "stories",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Image => "Image",
            Format::Carousel => "Carousel",
            Format::Video => "Video",
            Format::Reel => "Reel",
            Format::Story => "Story",
        })
    }
}

/// The figures of one snapshot that the rates need. `None` is "not measured".
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PostFigures {
    pub reach: Option<i64>,
    pub views: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub saved: Option<i64>,
    pub shares: Option<i64>,
    pub total_interactions: Option<i64>,
}

impl PostFigures {
    /// `total_interactions`, else the sum of the measured parts if likes or comments were measured.
    pub fn interactions(&self) -> Option<i64> {
        if let Some(total) = self.total_interactions {
            return Some(total);
        }
        if self.likes.is_none() && self.comments.is_none() {
            return None;
        }
        Some([self.likes, self.comments, self.saved, self.shares].iter().flatten().sum())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngagementDefinition {
    #[default]
    Reach,
    Followers,
    Views,
}

impl EngagementDefinition {
    pub const ALL: [EngagementDefinition; 3] =
        [EngagementDefinition::Reach, EngagementDefinition::Followers, EngagementDefinition::Views];

    pub fn key(self) -> &'static str {
        match self {
            EngagementDefinition::Reach => "reach",
            EngagementDefinition::Followers => "followers",
            EngagementDefinition::Views => "views",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.key() == key)
    }

    /// The formula, as every page states it.
    pub fn formula(self) -> &'static str {
        match self {
            EngagementDefinition::Reach => "interactions ÷ reach",
            EngagementDefinition::Followers => "interactions ÷ followers when published",
            EngagementDefinition::Views => "interactions ÷ views",
        }
    }

    /// The rate in percent, or `None` when undefined (denominator 0 or not measured).
    pub fn rate(self, figures: &PostFigures, followers_at_posting: Option<i64>) -> Option<f64> {
        let denominator = match self {
            EngagementDefinition::Reach => figures.reach,
            EngagementDefinition::Followers => followers_at_posting,
            EngagementDefinition::Views => figures.views,
        }?;
        if denominator <= 0 {
            return None;
        }
        Some(100.0 * figures.interactions()? as f64 / denominator as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interactions_prefer_the_insight_and_fall_back_to_measured_parts() {
        let total = PostFigures { total_interactions: Some(120), likes: Some(1), ..Default::default() };
        assert_eq!(total.interactions(), Some(120));
        let listed = PostFigures { likes: Some(40), comments: Some(5), ..Default::default() };
        assert_eq!(listed.interactions(), Some(45));
        let reach_only = PostFigures { reach: Some(10), ..Default::default() };
        assert_eq!(reach_only.interactions(), None);
    }

    #[test]
    fn the_three_rates_follow_the_worked_example() {
        let reel =
            PostFigures { total_interactions: Some(120), reach: Some(2400), views: Some(6000), ..Default::default() };
        assert_eq!(EngagementDefinition::Reach.rate(&reel, Some(12_000)), Some(5.0));
        assert_eq!(EngagementDefinition::Views.rate(&reel, Some(12_000)), Some(2.0));
        assert_eq!(EngagementDefinition::Followers.rate(&reel, Some(12_000)), Some(1.0));
        let zero_reach = PostFigures { reach: Some(0), ..reel };
        assert_eq!(EngagementDefinition::Reach.rate(&zero_reach, None), None);
        assert_eq!(EngagementDefinition::Followers.rate(&reel, None), None);
    }

    #[test]
    fn formats_group_product_and_media_types() {
        assert_eq!(Format::of(Some("REELS"), "VIDEO"), Format::Reel);
        assert_eq!(Format::of(Some("FEED"), "VIDEO"), Format::Video);
        assert_eq!(Format::of(None, "CAROUSEL_ALBUM"), Format::Carousel);
        assert_eq!(Format::of(Some("STORY"), "IMAGE"), Format::Story);
        assert_eq!(Format::from_key("reel"), Some(Format::Reel));
    }
}
