//! Age-adaptive cadence: young posts are snapshotted often, older ones less.

use chrono::{DateTime, Duration, Utc};

use crate::db::settings::OperatorSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    /// Posts younger than this are "young".
    pub young_for: Duration,
    pub young_every: Duration,
    /// Posts younger than this (and not young) are "middle-aged"; older ones are "old".
    pub middle_until: Duration,
    pub middle_every: Duration,
    pub old_every: Duration,
}

impl Default for Cadence {
    fn default() -> Self {
        Self {
            young_for: Duration::hours(48),
            young_every: Duration::hours(1),
            middle_until: Duration::days(7),
            middle_every: Duration::hours(6),
            old_every: Duration::days(1),
        }
    }
}

impl Cadence {
    pub fn from_settings(settings: &OperatorSettings) -> Self {
        Self {
            young_for: Duration::hours(i64::from(settings.young_post_hours)),
            young_every: Duration::minutes(i64::from(settings.young_every_minutes)),
            middle_until: Duration::days(i64::from(settings.middle_post_days)),
            middle_every: Duration::minutes(i64::from(settings.middle_every_minutes)),
            old_every: Duration::minutes(i64::from(settings.old_every_minutes)),
        }
    }

    /// Time between snapshots for a post of this age.
    pub fn interval(&self, age: Duration) -> Duration {
        if age < self.young_for {
            self.young_every
        } else if age < self.middle_until {
            self.middle_every
        } else {
            self.old_every
        }
    }

    /// Whether a post needs a snapshot at `now`. Ticks do not land exactly on the interval,
    /// so a snapshot a little early (a quarter of the interval, at most five minutes) counts
    /// as on time instead of waiting a whole extra tick.
    pub fn is_due(&self, posted_at: DateTime<Utc>, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        let Some(last) = last else { return true };
        let interval = self.interval(now - posted_at);
        let slack = (interval / 4).min(Duration::minutes(5));
        now - last >= interval - slack
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_grows_with_the_posts_age() {
        let cadence = Cadence::default();
        assert_eq!(cadence.interval(Duration::hours(3)), Duration::hours(1));
        assert_eq!(cadence.interval(Duration::hours(50)), Duration::hours(6));
        assert_eq!(cadence.interval(Duration::days(30)), Duration::days(1));
    }

    #[test]
    fn a_post_is_due_once_its_interval_has_nearly_passed() {
        let cadence = Cadence::default();
        let posted = Utc::now() - Duration::hours(5);
        let now = Utc::now();
        assert!(cadence.is_due(posted, None, now), "never snapshotted");
        assert!(!cadence.is_due(posted, Some(now - Duration::minutes(30)), now));
        assert!(cadence.is_due(posted, Some(now - Duration::minutes(57)), now), "a tick slightly early");
        assert!(!cadence.is_due(posted, Some(now), now), "a retry right after writes nothing");
        let old = now - Duration::days(20);
        assert!(!cadence.is_due(old, Some(now - Duration::hours(12)), now));
        assert!(cadence.is_due(old, Some(now - Duration::hours(24)), now));
    }
}
