//! Reports: one account's (or every account's) week or month as a PDF and an e-mail, kept
//! as made. [`content`] is what a report says, [`pdf`] draws it, [`email`] writes its
//! message; [`service`] makes, mails and keeps them.

pub mod content;
pub mod email;
pub mod pdf;
mod service;

pub use service::{DueSummary, MadeReport, ReportError, ReportRequest, Reports};

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::analytics::followers::end_of_day;
use crate::domain::Cadence;

/// The last whole week (Monday to Sunday) or calendar month that has ended at `now` in `tz`.
pub fn last_complete_period(cadence: Cadence, now: DateTime<Utc>, tz: Tz) -> (NaiveDate, NaiveDate) {
    let today = now.with_timezone(&tz).date_naive();
    match cadence {
        Cadence::Weekly => {
            let this_monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
            (this_monday - Days::new(7), this_monday - Days::new(1))
        }
        Cadence::Monthly => {
            let this_month = today.with_day(1).unwrap_or(today);
            let last = this_month - Days::new(1);
            (last.with_day(1).unwrap_or(last), last)
        }
    }
}

/// When the report of the period ending `last` is sent: `hour` o'clock in `tz` on the day
/// after it.
pub fn send_time(last: NaiveDate, hour: u32, tz: Tz) -> DateTime<Utc> {
    let local = (last + Days::new(1)).and_hms_opt(hour.min(23), 0, 0).unwrap_or_default();
    // An hour skipped by a clock change falls back to the day's start.
    tz.from_local_datetime(&local).earliest().map_or_else(|| end_of_day(last, tz), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_last_complete_week_runs_monday_to_sunday_in_the_reports_zone() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // Sunday 6 December 2026, 23:30 UTC: already Monday 7 December in Berlin.
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 23, 30, 0).unwrap();
        assert_eq!(last_complete_period(Cadence::Weekly, now, tz), (day(2026, 11, 30), day(2026, 12, 6)));
        assert_eq!(
            last_complete_period(Cadence::Weekly, now, chrono_tz::UTC),
            (day(2026, 11, 23), day(2026, 11, 29)),
            "in UTC the week of 30 November has not ended"
        );
    }

    #[test]
    fn the_last_complete_month_is_the_calendar_month_before() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        assert_eq!(last_complete_period(Cadence::Monthly, now, chrono_tz::UTC), (day(2026, 2, 1), day(2026, 2, 28)));
        let january = Utc.with_ymd_and_hms(2027, 1, 15, 8, 0, 0).unwrap();
        assert_eq!(
            last_complete_period(Cadence::Monthly, january, chrono_tz::UTC),
            (day(2026, 12, 1), day(2026, 12, 31))
        );
    }

    #[test]
    fn a_report_goes_out_at_its_hour_on_the_day_after_its_period() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let at = send_time(day(2026, 12, 6), 8, tz);
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 12, 7, 13, 0, 0).unwrap());
    }
}
