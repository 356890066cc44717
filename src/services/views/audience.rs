//! The account page's "Audience": who follows the account, as Meta last counted them, beside
//! a count about a month older, and the hours they are online in the operator's time zone.

use chrono::{NaiveDate, Timelike};
use chrono_tz::Tz;

use super::format::count;
use super::overview::Direction;
use crate::analytics::audience::{Audience, BUSIEST_HOURS, Share};
use crate::domain::{AudienceDimension, AudienceRead};
use crate::graph::audience::MIN_FOLLOWERS;

/// A read is compared with the latest one at least this much older.
pub const COMPARED_AFTER_DAYS: i64 = 28;
/// Values listed in full per breakdown; the rest open on request.
const SHOWN: usize = 8;

/// What the page says of the audience.
pub enum AudienceView {
    Shown(AudienceFigures),
    /// Meta gives no audience below 100 followers.
    TooFewFollowers {
        followers: String,
    },
    /// Not counted yet (or Meta refused): the sync asks about once a week.
    NotRead,
}

pub struct AudienceFigures {
    pub as_of: String,
    pub compared_with: Option<String>,
    pub breakdowns: Vec<BreakdownView>,
    /// The day's hours from local midnight; empty when Meta gave none.
    pub online: Vec<OnlineHourView>,
    /// The busiest hours, in words ("19:00, 20:00 and 18:00").
    pub busiest: String,
}

pub struct BreakdownView {
    pub id: &'static str,
    pub title: &'static str,
    /// The column's header: what a value is.
    pub column: &'static str,
    /// Whether values are country codes (named by the browser when it can).
    pub countries: bool,
    pub shown: Vec<ShareView>,
    pub more: Vec<ShareView>,
}

pub struct ShareView {
    pub key: String,
    pub followers: String,
    pub percent: String,
    /// "+1.2 pt" since the earlier read; empty without one.
    pub change: String,
    pub direction: Direction,
    /// Not among Meta's top values at the earlier read.
    pub new: bool,
    /// The bar's width, percent of the breakdown's largest value.
    pub bar: u8,
}

pub struct OnlineHourView {
    pub label: String,
    pub followers: String,
    pub heat: u8,
    pub rank: Option<usize>,
}

impl AudienceView {
    pub fn new(followers: Option<i64>, latest: Option<&AudienceRead>, earlier: Option<&AudienceRead>, tz: Tz) -> Self {
        match latest.and_then(|l| Audience::compare(l, earlier)) {
            Some(audience) => AudienceView::Shown(AudienceFigures::new(&audience, tz)),
            None => match followers {
                Some(n) if n < MIN_FOLLOWERS => AudienceView::TooFewFollowers { followers: count(Some(n)) },
                _ => AudienceView::NotRead,
            },
        }
    }
}

impl AudienceFigures {
    fn new(audience: &Audience, tz: Tz) -> Self {
        let hours = audience.online_hours(&tz);
        let mut busiest: Vec<(usize, String)> =
            hours.iter().filter_map(|h| h.rank.map(|r| (r, h.starts.format("%H:%M").to_string()))).collect();
        busiest.sort_unstable();
        let names: Vec<&str> = busiest.iter().take(BUSIEST_HOURS).map(|(_, l)| l.as_str()).collect();
        let online: Vec<OnlineHourView> = hours
            .into_iter()
            .map(|h| OnlineHourView {
                // Whole hours as the best-time grid writes them; a zone off by half an hour
                // shows its minutes.
                label: h.starts.format(if h.starts.minute() == 0 { "%H" } else { "%H:%M" }).to_string(),
                followers: count(Some(h.followers)),
                heat: h.heat,
                rank: h.rank,
            })
            .collect();
        AudienceFigures {
            as_of: day(audience.day),
            compared_with: audience.compared_with.map(day),
            breakdowns: audience.breakdowns.iter().map(|b| BreakdownView::new(b.dimension, &b.shares)).collect(),
            busiest: in_words(&names),
            online,
        }
    }
}

impl BreakdownView {
    fn new(dimension: AudienceDimension, shares: &[Share]) -> Self {
        let (id, title, column) = match dimension {
            AudienceDimension::Age => ("audience-age", "Age", "Age range"),
            AudienceDimension::Gender => ("audience-gender", "Gender", "Gender"),
            AudienceDimension::Country => ("audience-countries", "Top countries", "Country"),
            AudienceDimension::City => ("audience-cities", "Top cities", "City"),
            AudienceDimension::OnlineHour => ("audience-hours", "Online", "Hour"),
        };
        let largest = shares.iter().map(|s| s.percent).fold(0.0, f64::max);
        let mut rows: Vec<ShareView> = shares
            .iter()
            .map(|s| ShareView {
                key: label(dimension, &s.key),
                followers: count(Some(s.followers)),
                percent: format!("{:.1} %", s.percent),
                change: s.change_points.map(points).unwrap_or_default(),
                direction: Direction::of(s.change_points),
                new: s.new,
                bar: if largest > 0.0 { (s.percent / largest * 100.0).round() as u8 } else { 0 },
            })
            .collect();
        // Ages read best youngest first; the others largest first.
        if dimension == AudienceDimension::Age {
            rows.sort_by(|a, b| a.key.cmp(&b.key));
        }
        let more = rows.split_off(rows.len().min(SHOWN));
        BreakdownView { id, title, column, countries: dimension == AudienceDimension::Country, shown: rows, more }
    }
}

/// A value as people say it.
fn label(dimension: AudienceDimension, key: &str) -> String {
    match (dimension, key) {
        (AudienceDimension::Gender, "F") => "Women".to_owned(),
        (AudienceDimension::Gender, "M") => "Men".to_owned(),
        (AudienceDimension::Gender, "U") => "Not given".to_owned(),
        (AudienceDimension::Age, range) => range.replace('-', "–"),
        (_, other) => other.to_owned(),
    }
}

/// A change in percentage points, one decimal: "+1.2 pt", "−0.4 pt", "0.0 pt".
fn points(change: f64) -> String {
    if change >= 0.05 {
        format!("+{change:.1} pt")
    } else if change <= -0.05 {
        format!("−{:.1} pt", -change)
    } else {
        "0.0 pt".to_owned()
    }
}

fn day(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// "a", "a and b", "a, b and c".
fn in_words(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_a_hundred_followers_the_page_says_so_and_otherwise_waits_for_a_read() {
        assert!(matches!(
            AudienceView::new(Some(42), None, None, Tz::UTC),
            AudienceView::TooFewFollowers { followers } if followers == "42"
        ));
        assert!(matches!(AudienceView::new(Some(480), None, None, Tz::UTC), AudienceView::NotRead));
        assert!(matches!(AudienceView::new(None, None, None, Tz::UTC), AudienceView::NotRead));
    }

    #[test]
    fn shares_read_in_plain_words_with_their_change() {
        use AudienceDimension::{Age, Gender, OnlineHour};
        let earlier = AudienceRead::sample(1, &[(Gender, "F", 500), (Gender, "M", 500), (Age, "25-34", 400)]);
        let latest = AudienceRead::sample(
            29,
            &[
                (Gender, "F", 620),
                (Gender, "M", 380),
                (Age, "35-44", 300),
                (Age, "25-34", 400),
                (OnlineHour, "18", 50),
                (OnlineHour, "19", 70),
            ],
        );
        let AudienceView::Shown(figures) = AudienceView::new(Some(1000), Some(&latest), Some(&earlier), Tz::UTC) else {
            panic!("shown")
        };
        assert_eq!(figures.compared_with.as_deref(), Some("2026-11-01"));
        let age = &figures.breakdowns[0];
        assert_eq!(age.shown.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), ["25–34", "35–44"]);
        assert!(age.shown[1].new);
        let gender = &figures.breakdowns[1];
        assert_eq!((gender.shown[0].key.as_str(), gender.shown[0].percent.as_str()), ("Women", "62.0 %"));
        assert_eq!(gender.shown[0].change, "+12.0 pt");
        assert_eq!(gender.shown[1].change, "−12.0 pt");
        assert_eq!(gender.shown[1].bar, 61);
        assert_eq!(figures.busiest, "19:00 and 18:00");
        assert_eq!(figures.online.iter().map(|h| h.label.as_str()).collect::<Vec<_>>(), ["18", "19"]);
    }
}
