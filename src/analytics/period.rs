//! Periods of whole days in the operator's time zone, and the period before
//! (`docs/metrics.md`, Periods and comparison).

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use super::followers::end_of_day;

/// The presets offered on every page.
pub const PRESET_DAYS: [u32; 5] = [7, 14, 30, 90, 365];
pub const DEFAULT_DAYS: u32 = 30;
/// Custom periods are capped, so a typo cannot ask for centuries.
const MAX_DAYS: i64 = 3660;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First and last day, inclusive.
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub tz: Tz,
}

impl Period {
    /// `days` days ending today, or `from`–`to` (ISO dates) when both parse; the preset
    /// default otherwise. Dates out of order are swapped.
    pub fn from_query(days: Option<u32>, from: Option<&str>, to: Option<&str>, now: DateTime<Utc>, tz: Tz) -> Period {
        let today = now.with_timezone(&tz).date_naive();
        // Dates far outside any data would only overflow date arithmetic: 1970–2200 is plenty.
        let parse = |s: Option<&str>| {
            s.and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
                .filter(|d| (1970..=2200).contains(&d.year()))
        };
        if let (Some(a), Some(b)) = (parse(from), parse(to)) {
            let (first, last) = if a <= b { (a, b) } else { (b, a) };
            let first = first.max(last - chrono::Duration::days(MAX_DAYS - 1));
            return Period { first, last, tz };
        }
        let days = days.filter(|d| (1..=MAX_DAYS as u32).contains(d)).unwrap_or(DEFAULT_DAYS);
        Period { first: today - Days::new(u64::from(days) - 1), last: today, tz }
    }

    pub fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }

    /// The same number of days just before.
    pub fn previous(&self) -> Period {
        let days = Days::new(self.days() as u64);
        Period { first: self.first - days, last: self.last - days, tz: self.tz }
    }

    pub fn next(&self) -> Period {
        let days = Days::new(self.days() as u64);
        Period { first: self.first + days, last: self.last + days, tz: self.tz }
    }

    /// The first instant of the period, in UTC.
    pub fn start(&self) -> DateTime<Utc> {
        end_of_day(self.first - Days::new(1), self.tz)
    }

    /// The first instant after the period, in UTC.
    pub fn end(&self) -> DateTime<Utc> {
        end_of_day(self.last, self.tz)
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start() <= at && at < self.end()
    }

    /// The period as URL parameters (`from=…&to=…`).
    pub fn query(&self) -> String {
        format!("from={}&to={}", self.first, self.last)
    }

    pub fn label(&self) -> String {
        format!("{} – {}", self.first.format("%-d %b %Y"), self.last.format("%-d %b %Y"))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn seven_days_ending_31_march_compare_with_the_week_before() {
        let now = Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap();
        let period = Period::from_query(Some(7), None, None, now, chrono_tz::UTC);
        let d = |m, n| NaiveDate::from_ymd_opt(2026, m, n).unwrap();
        assert_eq!((period.first, period.last), (d(3, 25), d(3, 31)));
        let previous = period.previous();
        assert_eq!((previous.first, previous.last), (d(3, 18), d(3, 24)));
        assert_eq!(period.days(), 7);
        assert!(period.contains(Utc.with_ymd_and_hms(2026, 3, 25, 0, 0, 0).unwrap()));
        assert!(!period.contains(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap()));
    }

    #[test]
    fn custom_dates_parse_swap_and_fall_back_to_the_default() {
        let now = Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap();
        let custom = Period::from_query(None, Some("2026-03-10"), Some("2026-03-01"), now, chrono_tz::UTC);
        assert_eq!(custom.days(), 10);
        let junk = Period::from_query(Some(0), Some("yesterday"), None, now, chrono_tz::UTC);
        assert_eq!(junk.days(), i64::from(DEFAULT_DAYS));
        let extreme = Period::from_query(None, Some("0001-01-01"), Some("9999-12-31"), now, chrono_tz::UTC);
        assert_eq!(extreme.days(), i64::from(DEFAULT_DAYS), "out-of-range dates are ignored");
        let _ = (extreme.previous(), extreme.next(), extreme.start(), extreme.end());
    }
}
