//! Followers per day from the recorded counts (`docs/metrics.md`, Followers).

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// Followers on each day from `first` to `last` (inclusive): the last count recorded on or
/// before the end of that day in `tz`. `points` must be in time order.
pub fn daily(
    points: &[(DateTime<Utc>, i64)],
    first: NaiveDate,
    last: NaiveDate,
    tz: Tz,
) -> Vec<(NaiveDate, Option<i64>)> {
    let mut out = Vec::new();
    let mut index = 0;
    let mut current = None;
    let mut day = first;
    while day <= last {
        let end = end_of_day(day, tz);
        while index < points.len() && points[index].0 < end {
            current = Some(points[index].1);
            index += 1;
        }
        out.push((day, current));
        day = match day.checked_add_days(Days::new(1)) {
            Some(next) => next,
            None => break,
        };
    }
    out
}

/// The first instant of the next day in `tz`, in UTC.
pub fn end_of_day(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight).earliest().map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// Day-over-day change; `None` where either day has no count.
pub fn changes(daily: &[(NaiveDate, Option<i64>)]) -> Vec<(NaiveDate, Option<i64>)> {
    daily.windows(2).map(|w| (w[1].0, w[1].1.zip(w[0].1).map(|(b, a)| b - a))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn the_worked_example_carries_counts_forward_and_differences_days() {
        // Mon 2 March 2026 … Wed 4 March.
        let points = [(at(2, 9), 1000), (at(2, 21), 1012), (at(4, 10), 1020)];
        let d = |n| NaiveDate::from_ymd_opt(2026, 3, n).unwrap();
        let days = daily(&points, d(1), d(4), chrono_tz::UTC);
        assert_eq!(days, vec![(d(1), None), (d(2), Some(1012)), (d(3), Some(1012)), (d(4), Some(1020))]);
        assert_eq!(changes(&days), vec![(d(2), None), (d(3), Some(0)), (d(4), Some(8))]);
    }

    #[test]
    fn days_end_at_midnight_in_the_operators_time_zone() {
        // 23:30 UTC on 2 March is already 3 March in Berlin.
        let points = [(at(2, 23) + chrono::Duration::minutes(30), 5)];
        let d = |n| NaiveDate::from_ymd_opt(2026, 3, n).unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(daily(&points, d(2), d(3), berlin), vec![(d(2), None), (d(3), Some(5))]);
    }
}
