//! The overview: an account's headline figures for a period against the previous one, in a
//! form that adds up across accounts (sums and the rates themselves, not medians), so the
//! dashboard's all-accounts view and each account's view come from one computation
//! (`docs/metrics.md`, Overview).

use chrono::{Days, NaiveDate};

use super::account::DayInsights;
use super::period::Period;
use super::stats::median;

/// A figure in the period and in the previous one; `None` where nothing was measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Compared {
    pub now: Option<f64>,
    pub before: Option<f64>,
}

impl Compared {
    pub fn of(now: Option<f64>, before: Option<f64>) -> Compared {
        Compared { now, before }
    }

    /// The change in percent of the previous value; none without both, or from zero.
    pub fn percent_change(&self) -> Option<f64> {
        match (self.now, self.before) {
            (Some(now), Some(before)) if before != 0.0 => Some((now - before) / before.abs() * 100.0),
            _ => None,
        }
    }

    pub fn difference(&self) -> Option<f64> {
        self.now.zip(self.before).map(|(now, before)| now - before)
    }

    fn plus(self, other: Compared) -> Compared {
        Compared { now: add(self.now, other.now), before: add(self.before, other.before) }
    }
}

/// Sum of what was measured: none only when neither was.
fn add<T: std::ops::Add<Output = T>>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// One or more accounts over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// The period's days that are over (today is still counting, and Instagram gives an
    /// account's day once it has ended); daily sums compare these with as many days before.
    pub compared_days: usize,
    /// Whether every summed day was measured for every account, in both periods.
    pub fully_measured: bool,
    /// The latest follower count.
    pub followers: Option<i64>,
    /// Followers on the day before the period: the base of the change in percent.
    pub followers_at_start: Option<i64>,
    /// Net follower change over the period, and over the previous one.
    pub followers_change: Compared,
    /// Sums of the account's daily insights over the compared days.
    pub reach: Compared,
    pub views: Compared,
    pub interactions: Compared,
    /// Posts published in the whole period and the previous one.
    pub posts: Compared,
    /// Engagement rates of those posts, so a median can be taken over any set of accounts.
    pub rates: Vec<f64>,
    pub rates_before: Vec<f64>,
    /// Reach per day of the period, and per matching day of the previous one.
    pub daily_reach: Vec<Option<i64>>,
    pub daily_reach_before: Vec<Option<i64>>,
}

/// What one account's overview is computed from.
pub struct OverviewInput<'a> {
    pub period: &'a Period,
    /// The operator's today: days from it on are not over yet.
    pub today: NaiveDate,
    /// The account's daily insights over the previous period and this one.
    pub days: &'a [DayInsights],
    pub followers: Option<i64>,
    pub followers_at_start: Option<i64>,
    pub followers_change: Compared,
    pub posts: (usize, usize),
    pub rates: Vec<f64>,
    pub rates_before: Vec<f64>,
}

impl Overview {
    pub fn compute(input: OverviewInput<'_>) -> Overview {
        let period = input.period;
        let offset = Days::new(period.days().max(0) as u64);
        let period_days: Vec<NaiveDate> = period.first.iter_days().take_while(|d| *d <= period.last).collect();
        let over: Vec<NaiveDate> = period_days.iter().copied().filter(|d| *d < input.today).collect();
        let on = |day: NaiveDate| input.days.iter().find(|d| d.day == day);
        let sum = |days: &mut dyn Iterator<Item = NaiveDate>, pick: fn(&DayInsights) -> Option<i64>| {
            let (mut total, mut measured, mut count) = (0, 0, 0);
            for day in days {
                count += 1;
                if let Some(value) = on(day).and_then(pick) {
                    total += value;
                    measured += 1;
                }
            }
            ((measured > 0).then_some(total as f64), measured == count)
        };
        let compare = |pick: fn(&DayInsights) -> Option<i64>| {
            let (now, now_full) = sum(&mut over.iter().copied(), pick);
            let (before, before_full) = sum(&mut over.iter().map(|d| *d - offset), pick);
            (Compared::of(now, before), now_full && before_full)
        };
        let (reach, reach_full) = compare(|d| d.reach);
        let (views, views_full) = compare(|d| d.views);
        let (interactions, interactions_full) = compare(|d| d.interactions);
        Overview {
            compared_days: over.len(),
            fully_measured: reach_full && views_full && interactions_full,
            followers: input.followers,
            followers_at_start: input.followers_at_start,
            followers_change: input.followers_change,
            reach,
            views,
            interactions,
            posts: Compared::of(Some(input.posts.0 as f64), Some(input.posts.1 as f64)),
            rates: input.rates,
            rates_before: input.rates_before,
            daily_reach: period_days.iter().map(|d| on(*d).and_then(|d| d.reach)).collect(),
            daily_reach_before: period_days.iter().map(|d| on(*d - offset).and_then(|d| d.reach)).collect(),
        }
    }

    /// Several accounts' overviews of the same period as one. A day's combined reach is drawn
    /// only when every account that was measured at all was measured that day: a missing
    /// account would otherwise look like a fall.
    pub fn combine<'a>(parts: impl IntoIterator<Item = &'a Overview>) -> Overview {
        let parts: Vec<&Overview> = parts.into_iter().collect();
        let Some(first) = parts.first() else { return Overview::default() };
        let measured: Vec<&&Overview> =
            parts.iter().filter(|p| p.daily_reach.iter().chain(&p.daily_reach_before).any(Option::is_some)).collect();
        let day_sum = |pick: fn(&Overview) -> &Vec<Option<i64>>| -> Vec<Option<i64>> {
            (0..pick(first).len())
                .map(|i| {
                    if measured.is_empty() {
                        return None;
                    }
                    measured.iter().map(|p| pick(p).get(i).copied().flatten()).sum::<Option<i64>>()
                })
                .collect()
        };
        let counted: Vec<&&Overview> = parts.iter().filter(|p| p.followers_change.now.is_some()).collect();
        Overview {
            compared_days: first.compared_days,
            fully_measured: parts.iter().all(|p| p.fully_measured),
            followers: parts.iter().map(|p| p.followers).fold(None, add),
            // The base of the change is only the accounts the change counts.
            followers_at_start: counted.iter().map(|p| p.followers_at_start).fold(None, add),
            followers_change: parts.iter().fold(Compared::default(), |acc, p| acc.plus(p.followers_change)),
            reach: parts.iter().fold(Compared::default(), |acc, p| acc.plus(p.reach)),
            views: parts.iter().fold(Compared::default(), |acc, p| acc.plus(p.views)),
            interactions: parts.iter().fold(Compared::default(), |acc, p| acc.plus(p.interactions)),
            posts: parts.iter().fold(Compared::default(), |acc, p| acc.plus(p.posts)),
            rates: parts.iter().flat_map(|p| p.rates.iter().copied()).collect(),
            rates_before: parts.iter().flat_map(|p| p.rates_before.iter().copied()).collect(),
            daily_reach: day_sum(|p| &p.daily_reach),
            daily_reach_before: day_sum(|p| &p.daily_reach_before),
        }
    }

    /// The median engagement rate of the period's posts, and of the previous period's.
    pub fn median_rate(&self) -> Compared {
        Compared::of(median(self.rates.iter().copied()), median(self.rates_before.iter().copied()))
    }

    /// The follower change in percent of the count the period started with.
    pub fn followers_percent(&self) -> Option<f64> {
        let (change, start) = (self.followers_change.now?, self.followers_at_start? as f64);
        (start > 0.0).then(|| change / start * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, n).unwrap()
    }

    /// 7 days, 15–21 March 2026 (the previous period is 8–14 March).
    fn period() -> Period {
        Period { first: day(15), last: day(21), tz: chrono_tz::UTC }
    }

    fn insights(n: u32, reach: i64) -> DayInsights {
        DayInsights {
            day: day(n),
            reach: Some(reach),
            views: Some(reach * 2),
            interactions: Some(reach / 10),
            ..DayInsights::default()
        }
    }

    fn input<'a>(period: &'a Period, today: NaiveDate, days: &'a [DayInsights]) -> OverviewInput<'a> {
        OverviewInput {
            period,
            today,
            days,
            followers: Some(1040),
            followers_at_start: Some(1000),
            followers_change: Compared::of(Some(40.0), Some(10.0)),
            posts: (3, 2),
            rates: vec![4.0, 2.0, 6.0],
            rates_before: vec![1.0, 3.0],
        }
    }

    #[test]
    fn daily_sums_compare_the_days_that_are_over_with_as_many_days_before() {
        // Every day of both periods measured at 100 a day, today (the 21st) included by mistake.
        let days: Vec<DayInsights> = (8..=21).map(|n| insights(n, 100)).collect();
        let period = period();
        let overview = Overview::compute(input(&period, day(21), &days));
        assert_eq!(overview.compared_days, 6, "the 21st is still counting");
        assert_eq!(overview.reach, Compared::of(Some(600.0), Some(600.0)), "15–20 against 8–13");
        assert_eq!(overview.reach.percent_change(), Some(0.0));
        assert_eq!(overview.views.now, Some(1200.0));
        assert!(overview.fully_measured);
        assert_eq!(overview.daily_reach.len(), 7);
        assert_eq!(overview.daily_reach_before[0], Some(100), "the 15th's counterpart is the 8th");
        assert_eq!(overview.median_rate(), Compared::of(Some(4.0), Some(2.0)));
        assert_eq!(overview.followers_percent(), Some(4.0));
        assert_eq!(overview.posts.percent_change(), Some(50.0));
    }

    #[test]
    fn a_past_period_compares_all_its_days_and_says_when_some_were_not_measured() {
        let days = [insights(9, 50), insights(16, 200), insights(17, 100)];
        let period = period();
        let overview = Overview::compute(input(&period, day(30), &days));
        assert_eq!(overview.compared_days, 7);
        assert_eq!(overview.reach, Compared::of(Some(300.0), Some(50.0)));
        assert_eq!(overview.reach.percent_change(), Some(500.0));
        assert!(!overview.fully_measured);
        assert_eq!(overview.daily_reach[0], None, "not measured is a gap, never 0");
    }

    #[test]
    fn nothing_measured_is_no_figure_and_no_change() {
        let period = period();
        let overview = Overview::compute(input(&period, day(30), &[]));
        assert_eq!(overview.reach, Compared::default());
        assert_eq!(overview.reach.percent_change(), None);
        assert_eq!(Compared::of(Some(5.0), Some(0.0)).percent_change(), None, "no percent of zero");
    }

    #[test]
    fn accounts_combine_by_sums_and_all_their_posts_rates() {
        let period = period();
        let a_days: Vec<DayInsights> = (8..=21).map(|n| insights(n, 100)).collect();
        let b_days: Vec<DayInsights> = (8..=21).filter(|n| *n != 16).map(|n| insights(n, 10)).collect();
        let a = Overview::compute(input(&period, day(30), &a_days));
        let mut b = Overview::compute(input(&period, day(30), &b_days));
        b.followers_change = Compared::default();
        b.rates = vec![10.0];
        let both = Overview::combine([&a, &b]);
        assert_eq!(both.followers, Some(2080));
        assert_eq!(both.followers_change.now, Some(40.0), "only a's change is known");
        assert_eq!(both.followers_at_start, Some(1000), "so only a's start is its base");
        assert_eq!(both.reach.now, Some(700.0 + 60.0));
        assert_eq!(both.posts.now, Some(6.0));
        assert_eq!(both.median_rate().now, Some(5.0), "the median of 4, 2, 6 and 10");
        assert_eq!(both.daily_reach[0], Some(110));
        assert_eq!(both.daily_reach[1], None, "b was not measured on the 16th: a gap, not a fall");
        assert!(!both.fully_measured);
        assert_eq!(Overview::combine([]), Overview::default());
    }
}
