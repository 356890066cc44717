//! Accounts side by side with their competitors, from what is public of both: followers and
//! their change, how often they post, and the likes and comments their posts get (reach and
//! views are not public for a competitor, so they are left out for everyone).

use chrono::{DateTime, Duration, Utc};

use super::Format;
use super::stats::median;

/// A post as the comparison counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicPost {
    pub posted_at: DateTime<Utc>,
    pub format: Format,
    /// `None` when the owner hides likes.
    pub likes: Option<i64>,
    pub comments: Option<i64>,
}

/// One account's public record.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicRecord {
    pub followers: Option<i64>,
    /// Followers at the start of the period (the first count on or after it).
    pub followers_before: Option<i64>,
    pub posts: Vec<PublicPost>,
}

/// What the comparison shows of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    pub followers: Option<i64>,
    pub follower_change: Option<i64>,
    /// The change as a share of the followers before, in percent.
    pub follower_change_pct: Option<f64>,
    pub posts: usize,
    pub posts_per_week: f64,
    pub median_likes: Option<f64>,
    pub median_comments: Option<f64>,
    /// The median post's likes and comments per 100 followers: comparable across sizes.
    /// Posts with hidden likes are left out.
    pub median_engagement_pct: Option<f64>,
    /// Each format's share of the posts, largest first, in percent.
    pub formats: Vec<(Format, f64)>,
}

/// Compares a record over the `days` before `now`: only posts published in that window count.
pub fn compare(record: &PublicRecord, now: DateTime<Utc>, days: i64) -> Compared {
    let start = now - Duration::days(days);
    let posts: Vec<&PublicPost> = record.posts.iter().filter(|p| p.posted_at >= start && p.posted_at <= now).collect();
    let follower_change = record.followers.zip(record.followers_before).map(|(now, before)| now - before);
    let follower_change_pct = follower_change
        .zip(record.followers_before)
        .filter(|(_, before)| *before > 0)
        .map(|(change, before)| 100.0 * change as f64 / before as f64);
    let mut formats: Vec<(Format, f64)> = Vec::new();
    for format in Format::ALL {
        let n = posts.iter().filter(|p| p.format == format).count();
        if n > 0 {
            formats.push((format, 100.0 * n as f64 / posts.len() as f64));
        }
    }
    formats.sort_by(|a, b| b.1.total_cmp(&a.1));
    Compared {
        followers: record.followers,
        follower_change,
        follower_change_pct,
        posts: posts.len(),
        posts_per_week: posts.len() as f64 * 7.0 / days.max(1) as f64,
        median_likes: median(posts.iter().filter_map(|p| p.likes.map(|n| n as f64))),
        median_comments: median(posts.iter().filter_map(|p| p.comments.map(|n| n as f64))),
        median_engagement_pct: record.followers.filter(|f| *f > 0).and_then(|followers| {
            median(
                posts
                    .iter()
                    .filter_map(|p| Some(100.0 * (p.likes? + p.comments.unwrap_or(0)) as f64 / followers as f64)),
            )
        }),
        formats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(days_ago: i64, format: Format, likes: Option<i64>, comments: i64) -> PublicPost {
        let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z").unwrap().with_timezone(&Utc);
        PublicPost { posted_at: now - Duration::days(days_ago), format, likes, comments: Some(comments) }
    }

    #[test]
    fn only_the_periods_posts_count_and_hidden_likes_are_left_out() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z").unwrap().with_timezone(&Utc);
        let record = PublicRecord {
            followers: Some(1_100),
            followers_before: Some(1_000),
            posts: vec![
                post(1, Format::Reel, Some(300), 12),
                post(8, Format::Image, None, 4),
                post(15, Format::Image, Some(100), 6),
                post(29, Format::Carousel, Some(200), 8),
                post(31, Format::Reel, Some(9_999), 999),
            ],
        };
        let compared = compare(&record, now, 30);
        assert_eq!(compared.posts, 4, "the post 31 days old is outside");
        assert!((compared.posts_per_week - 4.0 * 7.0 / 30.0).abs() < 1e-9);
        assert_eq!(compared.median_likes, Some(200.0), "of 300, 100, 200: the hidden one is not a zero");
        assert_eq!(compared.median_comments, Some(7.0));
        // (300+12), (100+6), (200+8) per 1,100 followers: the median is 208 / 11 %.
        assert!((compared.median_engagement_pct.unwrap() - 208.0 / 11.0).abs() < 1e-9);
        assert_eq!(compared.follower_change, Some(100));
        assert_eq!(compared.follower_change_pct, Some(10.0));
        assert_eq!(compared.formats[0], (Format::Image, 50.0));
        assert_eq!(compared.formats.len(), 3);
    }

    #[test]
    fn nothing_known_stays_unknown() {
        let now = Utc::now();
        let compared = compare(&PublicRecord { followers: None, followers_before: None, posts: vec![] }, now, 30);
        assert_eq!(compared.follower_change, None);
        assert_eq!(compared.median_likes, None);
        assert_eq!(compared.median_engagement_pct, None);
        assert_eq!(compared.posts_per_week, 0.0);
        assert!(compared.formats.is_empty());
    }
}
