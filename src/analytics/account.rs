//! One account over a period, as numbers: headline figures against the previous period,
//! the daily chart series, the top posts by impact and the breakdown by format. Pure: it
//! works on what was read from the database, so the account page, the dashboard and the
//! chart CSV all come from one computation.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};

use super::charts::{Chart, Line, Series};
use super::followers::{changes, daily};
use super::groups::{Outcome, Summary, by_format};
use super::overview::{Compared, Overview, OverviewInput};
use super::period::Period;
use super::stats::median;
use super::{EngagementDefinition, Format};

use crate::domain::{AccountId, PostId};

/// Top posts listed at most.
pub const TOP_POSTS: usize = 5;
/// Weakest posts listed at most.
pub const BOTTOM_POSTS: usize = 3;

/// One day of the account's own insights (Instagram's day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayInsights {
    pub day: NaiveDate,
    pub reach: Option<i64>,
    pub views: Option<i64>,
    pub interactions: Option<i64>,
    pub profile_views: Option<i64>,
    /// Taps on the profile's links and contact buttons (`profile_links_taps`).
    pub link_taps: Option<i64>,
}

/// What [`AccountFigures::compute`] needs, all read beforehand.
pub struct AccountInput<'a> {
    pub account: AccountId,
    pub period: &'a Period,
    pub definition: EngagementDefinition,
    /// Posts published in this period and the previous one.
    pub posts: &'a [Outcome],
    /// Follower counts in time order, from at least [`AccountInput::followers_since`].
    pub follower_points: &'a [(DateTime<Utc>, i64)],
    /// The account's daily insights within the previous period and this one.
    pub days: &'a [DayInsights],
    /// The operator's today, which is not over yet.
    pub today: NaiveDate,
}

impl AccountInput<'_> {
    /// The first day the follower series covers: the previous period and a week before it
    /// (for the first 7-day change).
    pub fn first_follower_day(period: &Period) -> NaiveDate {
        period.previous().first - Days::new(7)
    }

    /// From when follower counts must be read: a fortnight before the first day, so the
    /// first days carry a value forward.
    pub fn followers_since(period: &Period) -> Option<DateTime<Utc>> {
        (Self::first_follower_day(period) - Days::new(14)).and_hms_opt(0, 0, 0).map(|t| t.and_utc())
    }
}

/// The account's figures for one period.
#[derive(Debug, Clone)]
pub struct AccountFigures {
    /// Posts of the period with an impact score, best first, and the weakest, weakest first.
    pub top: Vec<PostId>,
    pub bottom: Vec<PostId>,
    /// The headline figures in a form that adds up across accounts.
    pub overview: Overview,
    pub formats: Vec<(Format, Summary)>,
    /// Followers, daily follower change, reach and views, engagement by publication day.
    pub charts: Vec<Chart>,
}

impl AccountFigures {
    pub fn compute(input: &AccountInput<'_>) -> AccountFigures {
        let period = input.period;
        let previous = period.previous();
        let (now_posts, before_posts): (Vec<&Outcome>, Vec<&Outcome>) =
            input.posts.iter().partition(|o| period.contains(o.posted_at));
        let before_posts: Vec<&Outcome> = before_posts.into_iter().filter(|o| previous.contains(o.posted_at)).collect();

        let followers = daily(input.follower_points, AccountInput::first_follower_day(period), period.last, period.tz);
        let on = |day: NaiveDate| followers.iter().find(|(d, _)| *d == day).and_then(|(_, v)| *v);
        // A period's change: its last day against the day before it (or its first day).
        let change =
            |p: &Period| on(p.last).zip(on(p.first - Days::new(1)).or_else(|| on(p.first))).map(|(a, b)| a - b);
        let days: Vec<NaiveDate> = followers.iter().map(|(d, _)| *d).filter(|d| *d >= period.first).collect();

        let mut top: Vec<&Outcome> = now_posts.iter().copied().filter(|o| o.impact.is_some()).collect();
        top.sort_by_key(|o| std::cmp::Reverse(o.impact));
        // The weakest are listed only when they are not also among the best.
        let bottom: Vec<PostId> = top.iter().skip(TOP_POSTS).rev().take(BOTTOM_POSTS).map(|o| o.post).collect();
        let now_owned: Vec<Outcome> = now_posts.iter().map(|o| (*o).clone()).collect();
        let overview = Overview::compute(OverviewInput {
            period,
            today: input.today,
            days: input.days,
            followers: input.follower_points.last().map(|p| p.1),
            followers_at_start: on(period.first - Days::new(1)).or_else(|| on(period.first)),
            followers_change: Compared::of(change(period).map(|v| v as f64), change(&previous).map(|v| v as f64)),
            posts: (now_posts.len(), before_posts.len()),
            rates: now_posts.iter().filter_map(|o| o.rate).collect(),
            rates_before: before_posts.iter().filter_map(|o| o.rate).collect(),
        });

        AccountFigures {
            top: top.into_iter().take(TOP_POSTS).map(|o| o.post).collect(),
            bottom,
            overview,
            formats: by_format(&now_owned),
            charts: vec![
                follower_chart(input.account, period, &days, input.today, &on),
                change_chart(input.account, &days, input.today, &followers, &on),
                reach_chart(input.account, &days, input.today, input.days),
                profile_chart(input.account, &days, input.today, input.days),
                rate_chart(input.account, input.definition, period, &days, input.today, &now_posts),
                format_trend_chart(input.account, input.definition, period, input.today, &now_posts),
            ],
        }
    }
}

fn follower_chart(
    account: AccountId,
    period: &Period,
    days: &[NaiveDate],
    today: NaiveDate,
    on: &dyn Fn(NaiveDate) -> Option<i64>,
) -> Chart {
    let shifted = |d: NaiveDate| d - Days::new(period.days().max(0) as u64);
    Chart::daily(
        &format!("followers-{account}"),
        "Followers",
        "followers",
        days,
        today,
        vec![
            Series::new("followers", Line::Measured, days.iter().map(|d| on(*d).map(|v| v as f64)).collect()),
            Series::new(
                "previous period",
                Line::Comparison,
                days.iter().map(|d| on(shifted(*d)).map(|v| v as f64)).collect(),
            ),
        ],
        0,
    )
}

fn change_chart(
    account: AccountId,
    days: &[NaiveDate],
    today: NaiveDate,
    followers: &[(NaiveDate, Option<i64>)],
    on: &dyn Fn(NaiveDate) -> Option<i64>,
) -> Chart {
    let daily_changes = changes(followers);
    let change_on = |d: &NaiveDate| daily_changes.iter().find(|(x, _)| x == d).and_then(|(_, v)| v.map(|v| v as f64));
    Chart::daily(
        &format!("follower-change-{account}"),
        "Net follower change per day and over the last 7 days",
        "followers",
        days,
        today,
        vec![
            Series::new("day", Line::Measured, days.iter().map(change_on).collect()),
            Series::new(
                "7 days",
                Line::Comparison,
                days.iter().map(|d| on(*d).zip(on(*d - Days::new(7))).map(|(a, b)| (a - b) as f64)).collect(),
            ),
        ],
        0,
    )
}

/// A figure of the account's own daily insights, named as its series.
type DailyFigure = (&'static str, fn(&DayInsights) -> Option<i64>);

/// A chart of some of the account's own daily insights, one series per figure; a day without
/// insights, or without that figure, is a gap.
fn insights_chart(
    (id, title, unit): (String, &str, &str),
    days: &[NaiveDate],
    today: NaiveDate,
    insights: &[DayInsights],
    figures: &[DailyFigure],
) -> Chart {
    let series = figures
        .iter()
        .map(|(label, pick)| {
            let on = |d: &NaiveDate| insights.iter().find(|r| r.day == *d).and_then(pick).map(|v| v as f64);
            Series::new(*label, Line::Measured, days.iter().map(on).collect())
        })
        .collect();
    Chart::daily(&id, title, unit, days, today, series, 0)
}

fn reach_chart(account: AccountId, days: &[NaiveDate], today: NaiveDate, insights: &[DayInsights]) -> Chart {
    let names = (format!("reach-{account}"), "Account reach and views per day", "accounts reached, views");
    insights_chart(names, days, today, insights, &[("reach", |r| r.reach), ("views", |r| r.views)])
}

fn profile_chart(account: AccountId, days: &[NaiveDate], today: NaiveDate, insights: &[DayInsights]) -> Chart {
    let names = (format!("profile-{account}"), "Profile views and link taps per day", "views, taps");
    insights_chart(
        names,
        days,
        today,
        insights,
        &[("profile views", |r| r.profile_views), ("link taps", |r| r.link_taps)],
    )
}

fn rate_chart(
    account: AccountId,
    definition: EngagementDefinition,
    period: &Period,
    days: &[NaiveDate],
    today: NaiveDate,
    posts: &[&Outcome],
) -> Chart {
    let published_on = |d: &NaiveDate| {
        median(posts.iter().filter(|o| o.posted_at.with_timezone(&period.tz).date_naive() == *d).filter_map(|o| o.rate))
    };
    Chart::daily(
        &format!("rate-{account}"),
        &format!("Engagement rate of posts published each day ({})", definition.formula()),
        "%",
        days,
        today,
        vec![Series::new("median rate", Line::Measured, days.iter().map(published_on).collect())],
        2,
    )
}

/// The median engagement rate of each format's posts, week by week (weeks start on Monday in
/// the operator's zone; the first may begin before the period and counts the period's posts
/// only). A week without a post of a format is passed by, not a gap; the week holding today is
/// marked as still counting.
fn format_trend_chart(
    account: AccountId,
    definition: EngagementDefinition,
    period: &Period,
    today: NaiveDate,
    posts: &[&Outcome],
) -> Chart {
    let week_of = |d: NaiveDate| d - Days::new(u64::from(d.weekday().num_days_from_monday()));
    let mut weeks: Vec<NaiveDate> = period.first.iter_days().take_while(|d| *d <= period.last).map(week_of).collect();
    weeks.dedup();
    let series = Format::ALL
        .into_iter()
        .filter(|format| posts.iter().any(|o| o.format == *format))
        .map(|format| {
            let in_week = |week: NaiveDate| {
                posts.iter().filter(move |o| {
                    o.format == format && week_of(o.posted_at.with_timezone(&period.tz).date_naive()) == week
                })
            };
            let values = weeks.iter().map(|w| median(in_week(*w).filter_map(|o| o.rate))).collect();
            let without = weeks.iter().enumerate().filter(|(_, w)| in_week(**w).next().is_none()).map(|(i, _)| i);
            Series::new(format.plural(), Line::Measured, values).with_unsampled(without.collect())
        })
        .collect();
    let mut chart = Chart::daily(
        &format!("formats-{account}"),
        &format!("Engagement rate by format, week by week ({})", definition.formula()),
        "%",
        &weeks,
        week_of(today),
        series,
        2,
    );
    chart.x_labels = chart.x_labels.iter().map(|label| format!("week of {label}")).collect();
    chart
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, n).unwrap()
    }

    fn at(n: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, n, hour, 0, 0).unwrap()
    }

    fn post(id: i64, posted_at: DateTime<Utc>, rate: f64, impact: Option<i16>) -> Outcome {
        Outcome {
            post: PostId(id),
            format: Format::Image,
            posted_at,
            hashtags: Vec::new(),
            rate: Some(rate),
            reach: Some(100),
            impact,
        }
    }

    /// 7 days, 15–21 March 2026 (the previous period is 8–14 March), in UTC.
    fn period() -> Period {
        Period { first: day(15), last: day(21), tz: chrono_tz::UTC }
    }

    #[test]
    fn headline_figures_compare_the_period_with_the_one_before() {
        let posts = [
            post(1, at(16, 9), 4.0, Some(80)),
            post(2, at(18, 9), 2.0, Some(95)),
            post(3, at(20, 9), 6.0, None),
            post(4, at(10, 9), 1.0, Some(50)),
            // Before the previous period: counted nowhere.
            post(5, at(2, 9), 9.0, Some(99)),
        ];
        // 1,000 followers through the 14th, 1,040 on the 21st.
        let points = [(at(1, 12), 990), (at(14, 12), 1000), (at(21, 12), 1040)];
        let period = period();
        let input = AccountInput {
            account: AccountId(7),
            period: &period,
            definition: EngagementDefinition::Reach,
            posts: &posts,
            follower_points: &points,
            days: &[],
            today: day(30),
        };
        let figures = AccountFigures::compute(&input);
        let overview = &figures.overview;
        assert_eq!(overview.followers, Some(1040));
        assert_eq!(
            overview.followers_change,
            Compared::of(Some(40.0), Some(10.0)),
            "21st against the 14th, 14th against the 7th"
        );
        assert_eq!(overview.followers_at_start, Some(1000));
        assert_eq!(overview.posts, Compared::of(Some(3.0), Some(1.0)));
        assert_eq!(overview.median_rate(), Compared::of(Some(4.0), Some(1.0)));
        assert_eq!(figures.top, vec![PostId(2), PostId(1)], "scored posts of the period, best first");
        assert_eq!(figures.formats.len(), 1);
        assert_eq!(figures.formats[0].1.posts, 3);
    }

    #[test]
    fn the_charts_cover_every_day_of_the_period_and_leave_gaps_where_nothing_was_measured() {
        let points = [(at(14, 12), 1000), (at(17, 12), 1003)];
        let insights = [DayInsights { day: day(16), reach: Some(500), ..DayInsights::default() }];
        let posts = [post(1, at(16, 9), 4.0, None), post(2, at(16, 18), 2.0, None)];
        let period = period();
        let input = AccountInput {
            account: AccountId(7),
            period: &period,
            definition: EngagementDefinition::Reach,
            posts: &posts,
            follower_points: &points,
            days: &insights,
            today: day(30),
        };
        let charts = AccountFigures::compute(&input).charts;
        let ids: Vec<&str> = charts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["followers-7", "follower-change-7", "reach-7", "profile-7", "rate-7", "formats-7"]);
        for chart in charts.iter().filter(|c| !c.id.starts_with("formats")) {
            assert_eq!(chart.x.len(), 7, "{}", chart.id);
            assert!(chart.series.iter().all(|s| s.values.len() == 7), "{}", chart.id);
        }
        let followers = &charts[0].series[0].values;
        assert_eq!(followers[0], Some(1000.0), "the 15th carries the 14th's count forward");
        assert_eq!(followers[2], Some(1003.0));
        let day_change = &charts[1].series[0].values;
        assert_eq!(day_change[2], Some(3.0));
        let reach = &charts[2].series;
        assert_eq!(reach[0].values[1], Some(500.0));
        assert_eq!(reach[0].values[0], None, "no insights that day: a gap, not 0");
        assert_eq!(reach[1].values[1], None, "views not measured: a gap");
        let rates = &charts[4].series[0].values;
        assert_eq!(rates[1], Some(3.0), "median of the two posts of the 16th");
        assert_eq!(rates[0], None);
    }

    #[test]
    fn an_account_without_history_has_no_figures_rather_than_zeros() {
        let period = period();
        let input = AccountInput {
            account: AccountId(1),
            period: &period,
            definition: EngagementDefinition::Views,
            posts: &[],
            follower_points: &[],
            days: &[],
            today: day(30),
        };
        let figures = AccountFigures::compute(&input);
        assert_eq!(figures.overview.followers, None);
        assert_eq!(figures.overview.followers_change, Compared::default());
        assert_eq!(figures.overview.median_rate(), Compared::default());
        assert!(figures.bottom.is_empty());
        assert!(figures.top.is_empty());
        assert!(figures.charts.iter().all(|c| !c.has_data()));
    }

    #[test]
    fn each_format_has_its_weekly_median_and_weeks_without_it_are_passed_by() {
        // 28 days from Monday 2 March 2026: four whole weeks.
        let period = Period { first: day(2), last: day(29), tz: chrono_tz::UTC };
        let reel = |id, at, rate| Outcome { format: Format::Reel, ..post(id, at, rate, None) };
        let posts = [
            post(1, at(3, 9), 2.0, None),
            post(2, at(4, 9), 4.0, None),
            reel(3, at(4, 10), 9.0),
            post(4, at(17, 9), 5.0, None),
            reel(5, at(25, 9), 7.0),
        ];
        let refs: Vec<&Outcome> = posts.iter().collect();
        let chart = format_trend_chart(AccountId(7), EngagementDefinition::Reach, &period, day(27), &refs);
        assert_eq!(chart.x_csv, ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]);
        let images = &chart.series[0];
        assert_eq!((images.label.as_str(), images.values.clone()), ("images", vec![Some(3.0), None, Some(5.0), None]));
        assert_eq!(images.unsampled, [1, 3], "no image those weeks: nothing to draw, no gap");
        assert_eq!(chart.series[1].values, [Some(9.0), None, None, Some(7.0)]);
        assert_eq!(chart.partial_from, Some(3), "the week holding today is still counting");
        assert_eq!(chart.rows()[3].0, "week of Mon 23 Mar (so far)");
    }
}
