//! Grouped outcomes: hashtags, the best-time grid, the content-type breakdown.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

use super::engagement::Format;
use super::stats::median;

use crate::domain::PostId;

/// One post's outcome, for grouping.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub post: PostId,
    pub format: Format,
    pub posted_at: DateTime<Utc>,
    pub hashtags: Vec<String>,
    /// Engagement rate in percent; `None` when undefined.
    pub rate: Option<f64>,
    pub reach: Option<i64>,
    /// The impact score (0–100) once the post has one.
    pub impact: Option<i16>,
}

/// A group's size and medians.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub posts: usize,
    pub median_rate: Option<f64>,
    pub median_reach: Option<f64>,
}

fn summarise<'a>(outcomes: impl Iterator<Item = &'a Outcome> + Clone) -> Summary {
    Summary {
        posts: outcomes.clone().count(),
        median_rate: median(outcomes.clone().filter_map(|o| o.rate)),
        median_reach: median(outcomes.filter_map(|o| o.reach.map(|r| r as f64))),
    }
}

/// Hashtags with their summaries.
pub type TagSummaries = Vec<(String, Summary)>;

/// Posts a hashtag must be on to be ranked: a median of one or two posts says more about
/// those posts than about the tag.
pub const MIN_TAG_POSTS: usize = 3;

/// Hashtags used on at least [`MIN_TAG_POSTS`] posts, best median rate first (then most used),
/// and the hashtags used less, unranked (alphabetical).
pub fn hashtags(outcomes: &[Outcome]) -> (TagSummaries, TagSummaries) {
    let mut by_tag: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for outcome in outcomes {
        for tag in &outcome.hashtags {
            by_tag.entry(tag.as_str()).or_default().push(outcome);
        }
    }
    let (mut ranked, mut rare) = (Vec::new(), Vec::new());
    for (tag, posts) in by_tag {
        let summary = summarise(posts.iter().copied());
        if summary.posts >= MIN_TAG_POSTS {
            ranked.push((tag.to_owned(), summary))
        } else {
            rare.push((tag.to_owned(), summary))
        }
    }
    ranked.sort_by(|a, b| {
        let rate = |s: &Summary| s.median_rate.unwrap_or(f64::NEG_INFINITY);
        rate(&b.1).total_cmp(&rate(&a.1)).then(b.1.posts.cmp(&a.1.posts)).then(a.0.cmp(&b.0))
    });
    (ranked, rare)
}

/// Which posts a best-time grid is about. A Story is seen from the Stories tray for a day,
/// a feed post or Reel from the feed for much longer, so the hour that suits one says nothing
/// about the other: they are ranked apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Feed,
    Stories,
}

impl Placement {
    pub const ALL: [Placement; 2] = [Placement::Feed, Placement::Stories];

    pub fn of(format: Format) -> Placement {
        if format == Format::Story { Placement::Stories } else { Placement::Feed }
    }

    /// The stable name used in CSV.
    pub fn key(self) -> &'static str {
        match self {
            Placement::Feed => "feed_and_reels",
            Placement::Stories => "stories",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Placement::Feed => "Feed posts and Reels",
            Placement::Stories => "Stories",
        }
    }

    /// What a period without any of these posts says.
    pub fn none_published(self) -> &'static str {
        match self {
            Placement::Feed => "No feed post or Reel was published in this period.",
            Placement::Stories => "No Story was published in this period.",
        }
    }
}

/// Weekday (0 = Monday) × hour cells, keyed by their place in the week.
pub type Cells = BTreeMap<(u32, u32), Summary>;

/// The `placement`'s weekday × hour cells in `tz`; cells without posts are absent.
pub fn best_time(outcomes: &[Outcome], tz: Tz, placement: Placement) -> Cells {
    let mut cells: BTreeMap<(u32, u32), Vec<&Outcome>> = BTreeMap::new();
    for outcome in outcomes.iter().filter(|o| Placement::of(o.format) == placement) {
        let local = outcome.posted_at.with_timezone(&tz);
        cells.entry((local.weekday().num_days_from_monday(), local.hour())).or_default().push(outcome);
    }
    cells.into_iter().map(|(cell, posts)| (cell, summarise(posts.iter().copied()))).collect()
}

/// Fewest posts in a weekday-hour cell for it to be ranked, shaded or suggested: one post is
/// an anecdote.
pub const MIN_CELL_POSTS: usize = 2;

/// How many best cells the summary names and the composer suggests.
pub const BEST_SLOTS: usize = 3;

/// The cells with at least [`MIN_CELL_POSTS`] posts and a rate, best median rate first (then
/// the one resting on more posts, then the earlier in the week).
pub fn ranked_cells(cells: &Cells) -> Vec<((u32, u32), &Summary)> {
    let mut ranked: Vec<((u32, u32), &Summary)> = cells
        .iter()
        .filter(|(_, s)| s.posts >= MIN_CELL_POSTS && s.median_rate.is_some())
        .map(|(&cell, s)| (cell, s))
        .collect();
    ranked.sort_by(|a, b| {
        let rate = |s: &Summary| s.median_rate.unwrap_or(f64::NEG_INFINITY);
        rate(b.1).total_cmp(&rate(a.1)).then(b.1.posts.cmp(&a.1.posts)).then(a.0.cmp(&b.0))
    });
    ranked
}

/// Per format present among the posts.
pub fn by_format(outcomes: &[Outcome]) -> Vec<(Format, Summary)> {
    Format::ALL
        .into_iter()
        .filter_map(|format| {
            let posts = outcomes.iter().filter(move |o| o.format == format);
            (posts.clone().count() > 0).then(|| (format, summarise(posts)))
        })
        .collect()
}

/// A cell of the best-time grid with its shade.
#[derive(Debug, Clone, PartialEq)]
pub struct GridCell {
    pub summary: Summary,
    /// 0–4: how the cell's median rate compares with the best ranked cell's; `None` when the
    /// cell rests on too few posts to be ranked.
    pub heat: Option<u8>,
    /// 1 to [`BEST_SLOTS`] for the best cells.
    pub rank: Option<usize>,
}

/// The best-time cells as seven rows (Monday first) of 24 hours; `None` where nothing was
/// posted. Shades are relative to the best ranked cell; cells with fewer than
/// [`MIN_CELL_POSTS`] posts are neither shaded nor ranked.
pub fn best_time_grid(cells: &Cells) -> Vec<Vec<Option<GridCell>>> {
    let ranked = ranked_cells(cells);
    let best = ranked.first().and_then(|(_, s)| s.median_rate).unwrap_or(0.0);
    let grid_cell = |cell: (u32, u32), summary: &Summary| {
        let rank = ranked.iter().take(BEST_SLOTS).position(|(c, _)| *c == cell).map(|i| i + 1);
        let heat = (summary.posts >= MIN_CELL_POSTS).then(|| match summary.median_rate {
            Some(r) if best > 0.0 => ((r / best) * 4.0).round().clamp(0.0, 4.0) as u8,
            _ => 0,
        });
        GridCell { summary: summary.clone(), heat, rank }
    };
    (0..7u32)
        .map(|day| (0..24u32).map(|hour| cells.get(&(day, hour)).map(|s| grid_cell((day, hour), s))).collect())
        .collect()
}

/// A suggested time to post: the next occurrence of one of the account's best cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub at: DateTime<Utc>,
    pub summary: Summary,
}

/// The `count` best upcoming slots (see [`ranked_cells`]) from the weekday-hour cells in
/// `tz`, each at the start of its hour, the first one at least `lead` after `now`. An empty
/// answer means there is not enough history.
pub fn suggested_slots(cells: &Cells, now: DateTime<Utc>, tz: Tz, lead: chrono::Duration, count: usize) -> Vec<Slot> {
    let earliest = now + lead;
    ranked_cells(cells)
        .into_iter()
        .take(count)
        .filter_map(|((weekday, hour), summary)| {
            next_occurrence(weekday, hour, earliest, tz).map(|at| Slot { at, summary: summary.clone() })
        })
        .collect()
}

/// The first start of `hour` on `weekday` (0 = Monday) in `tz` at or after `earliest`.
fn next_occurrence(weekday: u32, hour: u32, earliest: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    let local = earliest.with_timezone(&tz).date_naive();
    (0..=7).find_map(|offset| {
        let day = local + chrono::Days::new(offset);
        if day.weekday().num_days_from_monday() != weekday {
            return None;
        }
        // A time skipped by a clock change has no start; the next week's does.
        let at = tz.from_local_datetime(&day.and_hms_opt(hour, 0, 0)?).earliest()?.with_timezone(&Utc);
        (at >= earliest).then_some(at)
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn outcome(tags: &[&str], rate: f64, posted_at: DateTime<Utc>) -> Outcome {
        Outcome {
            post: PostId(1),
            format: Format::Image,
            posted_at,
            hashtags: tags.iter().map(|t| (*t).to_owned()).collect(),
            rate: Some(rate),
            reach: Some(100),
            impact: None,
        }
    }

    #[test]
    fn hashtags_used_on_fewer_than_three_posts_are_listed_but_not_ranked() {
        let now = Utc::now();
        let posts = [
            outcome(&["sourdough", "bakery"], 3.0, now),
            outcome(&["sourdough", "bakery"], 5.0, now),
            outcome(&["sourdough", "bakery", "crust"], 8.0, now),
            outcome(&["bakery", "crust"], 9.0, now),
            outcome(&["rain"], 12.0, now),
        ];
        let (ranked, rare) = hashtags(&posts);
        assert_eq!(ranked[0].0, "bakery");
        assert_eq!(ranked[0].1.median_rate, Some(6.5));
        assert_eq!(
            ranked[1],
            ("sourdough".into(), Summary { posts: 3, median_rate: Some(5.0), median_reach: Some(100.0) })
        );
        let rare: Vec<&str> = rare.iter().map(|(tag, _)| tag.as_str()).collect();
        assert_eq!(rare, ["crust", "rain"], "#crust on 2 posts with the best rate is still not ranked");
    }

    #[test]
    fn the_best_time_grid_uses_the_operators_time_zone_and_ranks_stories_apart() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Tuesday 3 March 2026, 17:10 and 17:50 UTC = 18:10 and 18:50 in Berlin.
        let a = Utc.with_ymd_and_hms(2026, 3, 3, 17, 10, 0).unwrap();
        let b = Utc.with_ymd_and_hms(2026, 3, 3, 17, 50, 0).unwrap();
        let story = Outcome { format: Format::Story, ..outcome(&[], 30.0, a) };
        let reel = Outcome { format: Format::Reel, ..outcome(&[], 6.0, b) };
        let posts = [outcome(&[], 4.0, a), reel, story];
        let feed = best_time(&posts, berlin, Placement::Feed);
        assert_eq!(feed.len(), 1);
        assert_eq!(feed[&(1, 18)], Summary { posts: 2, median_rate: Some(5.0), median_reach: Some(100.0) });
        let stories = best_time(&posts, berlin, Placement::Stories);
        assert_eq!(stories[&(1, 18)].posts, 1, "the Story counts in its own grid only");
    }

    #[test]
    fn the_grid_shades_and_ranks_only_cells_with_enough_posts() {
        let summary = |posts: usize, rate: Option<f64>| Summary { posts, median_rate: rate, median_reach: None };
        let cells: Cells = [
            ((0, 9), summary(2, Some(4.0))),
            ((2, 18), summary(3, Some(1.0))),
            ((4, 12), summary(1, Some(9.0))),
            ((6, 23), summary(2, None)),
        ]
        .into();
        let grid = best_time_grid(&cells);
        assert_eq!(grid.len(), 7);
        assert!(grid.iter().all(|row| row.len() == 24));
        let cell = |day: usize, hour: usize| grid[day][hour].as_ref().map(|c| (c.heat, c.rank));
        assert_eq!(cell(0, 9), Some((Some(4), Some(1))), "the best ranked cell sets the scale");
        assert_eq!(cell(2, 18), Some((Some(1), Some(2))));
        assert_eq!(cell(4, 12), Some((None, None)), "one post at 9 % is neither shaded nor ranked");
        assert_eq!(cell(6, 23), Some((Some(0), None)), "no rate: no shade, no rank");
        assert_eq!(grid[1][0], None);
    }

    #[test]
    fn suggested_slots_are_the_next_times_of_the_best_cells_with_enough_posts() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let summary = |posts: usize, rate: f64| Summary { posts, median_rate: Some(rate), median_reach: None };
        // Tuesday 18:00 is best, Saturday 9:00 second; Monday 7:00 has one post only.
        let cells: Cells = [
            ((1, 18), summary(4, 6.0)),
            ((5, 9), summary(3, 4.0)),
            ((0, 7), summary(1, 9.0)),
            ((3, 12), summary(2, 2.0)),
        ]
        .into();
        // Tuesday 3 March 2026, 17:30 Berlin: today's 18:00 is too close with an hour's lead.
        let now = Utc.with_ymd_and_hms(2026, 3, 3, 16, 30, 0).unwrap();
        let slots = suggested_slots(&cells, now, berlin, chrono::Duration::hours(1), 3);
        let local: Vec<String> =
            slots.iter().map(|s| s.at.with_timezone(&berlin).format("%a %d %H:%M").to_string()).collect();
        assert_eq!(local, ["Tue 10 18:00", "Sat 07 09:00", "Thu 05 12:00"]);
        assert_eq!(slots[0].summary.posts, 4);
        assert!(suggested_slots(&BTreeMap::new(), now, berlin, chrono::Duration::hours(1), 3).is_empty());
    }
}
