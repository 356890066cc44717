//! The overview as the pages show it: a card per headline figure with its change against
//! the previous period (a signed figure and an arrow, so colour is never the only cue), and
//! the day-by-day reach of the period beside the previous one's.

use chrono::NaiveDate;

use super::format::count;
use super::models::{percent, point_delta, signed};
use crate::analytics::charts::{Chart, Line, Series};
use crate::analytics::overview::{Compared, Overview};
use crate::analytics::period::Period;

/// One headline figure.
#[derive(Debug, Clone)]
pub struct FigureCard {
    pub label: &'static str,
    pub value: String,
    /// "+12.3 %" (or "+0.40 pt" for a rate); empty when there is nothing to compare with.
    pub change: String,
    pub direction: Direction,
    /// What the change is measured against.
    pub context: String,
    /// The anchor of its definition on the definitions page.
    pub definition: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Flat,
    Unknown,
}

impl Direction {
    pub(crate) fn of(change: Option<f64>) -> Direction {
        match change {
            Some(c) if c >= 0.05 => Direction::Up,
            Some(c) if c <= -0.05 => Direction::Down,
            Some(_) => Direction::Flat,
            None => Direction::Unknown,
        }
    }

    /// The CSS class of the change.
    pub fn class(&self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Flat => "flat",
            Direction::Unknown => "unknown",
        }
    }

    pub fn arrow(&self) -> &'static str {
        match self {
            Direction::Up => "▲",
            Direction::Down => "▼",
            Direction::Flat => "▶",
            Direction::Unknown => "",
        }
    }

    /// For screen readers, which skip the arrow.
    pub fn words(&self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Flat => "no change",
            Direction::Unknown => "",
        }
    }
}

/// "+12.3 %", "−4.0 %".
pub fn percent_change(change: Option<f64>) -> String {
    change.map_or_else(String::new, |c| format!("{c:+.1} %").replace('-', "−"))
}

/// The overview of one account or of all of them.
#[derive(Debug, Clone)]
pub struct OverviewView {
    pub cards: Vec<FigureCard>,
    /// What the comparison leaves out (today, days not measured), in words.
    pub notes: Vec<String>,
    pub chart: Chart,
}

impl OverviewView {
    /// `scope` names the chart ("all", or the account's id); `definition` is the engagement
    /// rate's formula in words.
    pub fn new(overview: &Overview, period: &Period, scope: &str, definition: &'static str) -> OverviewView {
        let days = period.days();
        let compared = overview.compared_days;
        let as_count = |v: Option<f64>| v.map(|v| v.round() as i64);
        let sum_card = |label, figure: Compared, definition| {
            let change = figure.percent_change();
            FigureCard {
                label,
                value: count(as_count(figure.now)),
                change: percent_change(change),
                direction: Direction::of(change),
                context: match (figure.now, figure.before) {
                    (None, _) => "not measured yet in this period".to_owned(),
                    (Some(_), None) => format!("nothing measured in the {compared} days before"),
                    (Some(_), Some(before)) => {
                        format!("vs {} in the {compared} days before", count(as_count(Some(before))))
                    }
                },
                definition,
            }
        };
        let followers_change = overview.followers_change;
        let rate = overview.median_rate();
        let posts_change = overview.posts.percent_change();
        let cards = vec![
            FigureCard {
                label: "followers",
                value: count(overview.followers),
                change: percent_change(overview.followers_percent()),
                direction: Direction::of(followers_change.now),
                context: match (followers_change.now, followers_change.before) {
                    (None, _) => "change not known yet: no count from before this period".to_owned(),
                    (Some(now), None) => format!("{} in this period", signed(as_count(Some(now)))),
                    (Some(now), Some(before)) => format!(
                        "{} in this period; {} in the previous {days} days",
                        signed(as_count(Some(now))),
                        signed(as_count(Some(before)))
                    ),
                },
                definition: "follower-growth",
            },
            sum_card("accounts reached", overview.reach, "reach"),
            sum_card("views", overview.views, "views"),
            sum_card("interactions", overview.interactions, "interactions-on-the-account"),
            FigureCard {
                label: "median engagement rate",
                value: percent(rate.now),
                change: if rate.difference().is_some() { point_delta(rate.difference()) } else { String::new() },
                direction: Direction::of(rate.difference()),
                context: format!(
                    "{definition}, over {} post{}; {} before",
                    overview.rates.len(),
                    if overview.rates.len() == 1 { "" } else { "s" },
                    percent(rate.before)
                ),
                definition: "engagement-rate",
            },
            FigureCard {
                label: "posts published",
                value: count(as_count(overview.posts.now)),
                change: percent_change(posts_change),
                direction: Direction::of(overview.posts.difference()),
                context: format!("vs {} in the previous {days} days", count(as_count(overview.posts.before))),
                definition: "posts-published",
            },
        ];
        let mut notes = Vec::new();
        if compared == 0 {
            notes.push(
                "No day of this period is over yet: reach, views and interactions are counted once a day has ended."
                    .to_owned(),
            );
        } else if compared < days as usize {
            notes.push(format!(
                "Today is still counting: reach, views and interactions compare the {compared} day{} that are over with \
                 the {compared} before them.",
                if compared == 1 { "" } else { "s" }
            ));
        }
        if compared > 0 && !overview.fully_measured {
            notes.push(
                "Some days were not measured (an account connected later, or a sync missed them): the sums cover \
                 the measured days only."
                    .to_owned(),
            );
        }
        OverviewView { cards, notes, chart: reach_chart(overview, period, scope) }
    }

    /// Links the chart to its CSV; `owner` is the query naming whose chart and which period.
    pub fn with_csv(mut self, owner: String) -> OverviewView {
        let href = format!("/export/chart.csv?chart={}&{owner}", self.chart.id);
        self.chart = self.chart.with_csv(href);
        self
    }
}

fn reach_chart(overview: &Overview, period: &Period, scope: &str) -> Chart {
    let days: Vec<NaiveDate> = period.first.iter_days().take_while(|d| *d <= period.last).collect();
    // The compared days are the ones over: the day after them is today.
    let today = period.first + chrono::Days::new(overview.compared_days as u64);
    let values = |v: &[Option<i64>]| v.iter().map(|v| v.map(|v| v as f64)).collect();
    Chart::daily(
        &format!("overview-reach-{scope}"),
        "Accounts reached per day, against the same day of the previous period",
        "accounts",
        &days,
        today,
        vec![
            Series::new("this period", Line::Measured, values(&overview.daily_reach)),
            Series::new("previous period", Line::Comparison, values(&overview.daily_reach_before)),
        ],
        0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_with_sign_arrow_and_words() {
        assert_eq!(percent_change(Some(12.345)), "+12.3 %");
        assert_eq!(percent_change(Some(-4.0)), "−4.0 %");
        assert_eq!(percent_change(None), "");
        assert_eq!(Direction::of(Some(3.0)).arrow(), "▲");
        assert_eq!(Direction::of(Some(-3.0)).words(), "down");
        assert_eq!(Direction::of(Some(0.01)), Direction::Flat);
        assert_eq!(Direction::of(None).arrow(), "");
    }

    #[test]
    fn the_cards_say_what_they_compare() {
        let period = Period {
            first: NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(),
            last: NaiveDate::from_ymd_opt(2026, 3, 21).unwrap(),
            tz: chrono_tz::UTC,
        };
        let overview = Overview {
            compared_days: 6,
            fully_measured: true,
            followers: Some(1040),
            followers_at_start: Some(1000),
            followers_change: Compared::of(Some(40.0), Some(10.0)),
            reach: Compared::of(Some(1500.0), Some(1000.0)),
            posts: Compared::of(Some(3.0), Some(4.0)),
            rates: vec![4.0],
            rates_before: vec![3.5],
            daily_reach: vec![None; 7],
            daily_reach_before: vec![None; 7],
            ..Overview::default()
        };
        let view = OverviewView::new(&overview, &period, "all", "interactions ÷ reach");
        let card = |label: &str| view.cards.iter().find(|c| c.label == label).unwrap();
        assert_eq!(card("followers").change, "+4.0 %");
        assert_eq!(card("followers").context, "+40 in this period; +10 in the previous 7 days");
        assert_eq!(card("accounts reached").value, "1,500");
        assert_eq!(card("accounts reached").change, "+50.0 %");
        assert_eq!(card("accounts reached").context, "vs 1,000 in the 6 days before");
        assert_eq!(card("views").change, "", "nothing measured, nothing compared");
        assert_eq!(card("views").context, "not measured yet in this period");
        assert_eq!(card("views").direction, Direction::Unknown);
        assert_eq!(card("median engagement rate").change, "+0.50 pt");
        assert_eq!(card("posts published").direction, Direction::Down);
        assert_eq!(view.notes.len(), 1, "today is still counting");
        assert_eq!(view.chart.id, "overview-reach-all");
    }
}
