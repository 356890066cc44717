//! What alert rules judge: plain figures in, findings out (each with the subject it is
//! about, so a rule stays quiet about one post or account for its quiet period, and words
//! saying why). The service reads the figures and sends the findings.

use chrono::{DateTime, NaiveDate, Utc};

use super::Format;
use super::impact::checkpoint_label;
use crate::domain::{AccountId, AccountStatus, SyncOutcome};

/// Days before the judged day that make an account's norm, and how many of them must have
/// been measured for the norm to mean anything.
pub const NORM_DAYS: usize = 28;
pub const NORM_MIN_DAYS: usize = 14;

/// One thing a rule found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub account: Option<AccountId>,
    /// "post:12", "account:3", "publication:7".
    pub subject: String,
    pub title: String,
    pub detail: String,
}

/// A recent post with its impact score.
#[derive(Debug, Clone)]
pub struct ScoredPost {
    pub post: i64,
    pub account: AccountId,
    pub username: String,
    pub format: Format,
    pub posted_at: DateTime<Utc>,
    pub caption: String,
    pub impact: i16,
    pub cohort: i32,
    pub checkpoint_hours: i32,
    pub reach: Option<i64>,
}

/// Posts at or above (`above`) or at or below the threshold score.
pub fn posts_beyond(posts: &[ScoredPost], threshold: i32, above: bool) -> Vec<Finding> {
    posts
        .iter()
        .filter(|p| if above { i32::from(p.impact) >= threshold } else { i32::from(p.impact) <= threshold })
        .map(|p| {
            let age = checkpoint_label(i64::from(p.checkpoint_hours));
            let (word, only) = if above { ("above", "") } else { ("below", "only ") };
            let caption: String = p.caption.chars().take(60).collect();
            Finding {
                account: Some(p.account),
                subject: format!("post:{}", p.post),
                title: format!("@{}'s {} is well {word} its earlier {}", p.username, p.format, p.format.plural()),
                detail: format!(
                    "Impact score {} at {age}: better than {only}{} % of the {} earlier {} of @{} at the same age \
                     (reach {}). Posted {}{}.",
                    p.impact,
                    p.impact,
                    p.cohort,
                    p.format.plural(),
                    p.username,
                    p.reach.map_or_else(|| "not measured".to_owned(), grouped),
                    p.posted_at.format("%Y-%m-%d %H:%M UTC"),
                    if caption.is_empty() { String::new() } else { format!(": \u{201c}{caption}\u{201d}") },
                ),
            }
        })
        .collect()
}

/// An account's daily reach (UTC days, oldest first; `None` where not measured).
pub struct ReachDays<'a> {
    pub account: AccountId,
    pub username: &'a str,
    pub days: &'a [(NaiveDate, Option<i64>)],
}

/// The last measured day's reach below `percent` % of the median of the [`NORM_DAYS`] days
/// before it (when at least [`NORM_MIN_DAYS`] of them were measured).
pub fn reach_below(input: &ReachDays<'_>, percent: i32) -> Option<Finding> {
    let (index, (day, reach)) = input.days.iter().enumerate().rev().find(|(_, (_, r))| r.is_some())?;
    let reach = (*reach)?;
    let before: Vec<i64> = input.days[index.saturating_sub(NORM_DAYS)..index].iter().filter_map(|(_, r)| *r).collect();
    if before.len() < NORM_MIN_DAYS {
        return None;
    }
    let norm = median(&before);
    let limit = norm * f64::from(percent) / 100.0;
    if (reach as f64) >= limit || norm <= 0.0 {
        return None;
    }
    Some(Finding {
        account: Some(input.account),
        subject: format!("account:{}", input.account),
        title: format!("@{}'s reach fell below its norm", input.username),
        detail: format!(
            "{} accounts reached on {day}: {:.0} % of its median day ({}) over the {} measured days before; \
             the rule fires under {percent} %.",
            grouped(reach),
            reach as f64 / norm * 100.0,
            grouped(norm.round() as i64),
            before.len()
        ),
    })
}

/// 12345 as "12,345", as the pages write counts.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("−{out}") } else { out }
}

fn median(values: &[i64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    if n % 2 == 1 { sorted[n / 2] as f64 } else { (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0 }
}

/// A finished sync cycle.
pub struct SyncRun {
    pub outcome: SyncOutcome,
    pub started_at: DateTime<Utc>,
    pub error: Option<String>,
}

/// The account's last `count` finished cycles (newest first in `runs`) all failed.
pub fn sync_failing(account: AccountId, username: &str, runs: &[SyncRun], count: i32) -> Option<Finding> {
    let count = usize::try_from(count).ok().filter(|c| *c > 0)?;
    let last = runs.get(..count)?;
    if !last.iter().all(|r| r.outcome == SyncOutcome::Failed) {
        return None;
    }
    let newest = &last[0];
    Some(Finding {
        account: Some(account),
        subject: format!("account:{account}"),
        title: format!("Sync is failing for @{username}"),
        detail: format!(
            "The last {count} sync cycle{} failed, the latest at {}: {}",
            if count == 1 { "" } else { "s" },
            newest.started_at.format("%Y-%m-%d %H:%M UTC"),
            newest.error.as_deref().unwrap_or("no reason was recorded")
        ),
    })
}

/// An account needing re-connection, or whose token expires within `days` days.
pub fn token_expiring(
    account: AccountId,
    username: &str,
    status: AccountStatus,
    expires_at: Option<DateTime<Utc>>,
    days: i32,
    now: DateTime<Utc>,
) -> Option<Finding> {
    let subject = format!("account:{account}");
    if status == AccountStatus::NeedsReauth {
        return Some(Finding {
            account: Some(account),
            subject,
            title: format!("@{username} must be connected again"),
            detail: "Meta refused its token: Tidemark cannot sync it until an admin connects it again on its page."
                .to_owned(),
        });
    }
    let expires_at = expires_at.filter(|_| status == AccountStatus::Active)?;
    let left = expires_at - now;
    if left > chrono::Duration::days(i64::from(days)) {
        return None;
    }
    let when = expires_at.format("%Y-%m-%d %H:%M UTC");
    Some(Finding {
        account: Some(account),
        subject,
        title: format!("@{username}'s token expires soon"),
        detail: if left <= chrono::Duration::zero() {
            format!("Its token expired at {when}: connect the account again.")
        } else {
            format!(
                "Its token expires at {when}, in {} day(s), and has not been refreshed: connect the account again \
                 before then.",
                left.num_days()
            )
        },
    })
}

/// A publication that failed.
pub struct FailedPublication {
    pub id: i64,
    pub account: AccountId,
    pub username: String,
    pub due_at: DateTime<Utc>,
    pub error: Option<String>,
}

pub fn publishing_failed(failed: &[FailedPublication]) -> Vec<Finding> {
    failed
        .iter()
        .map(|p| Finding {
            account: Some(p.account),
            subject: format!("publication:{}", p.id),
            title: format!("A post for @{} could not be published", p.username),
            detail: format!(
                "The post due at {} failed: {}",
                p.due_at.format("%Y-%m-%d %H:%M UTC"),
                p.error.as_deref().unwrap_or("no reason was recorded")
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn post(impact: i16) -> ScoredPost {
        ScoredPost {
            post: 7,
            account: AccountId(1),
            username: "harbour.bakery".into(),
            format: Format::Reel,
            posted_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
            caption: "Sixty seconds of laminating dough".into(),
            impact,
            cohort: 14,
            checkpoint_hours: 24,
            reach: Some(5400),
        }
    }

    #[test]
    fn a_post_fires_at_the_threshold_and_names_its_cohort() {
        let posts = [post(95), post(50)];
        let found = posts_beyond(&posts, 90, true);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].subject, "post:7");
        assert!(found[0].detail.contains("Impact score 95 at 24 h"), "{}", found[0].detail);
        assert!(found[0].detail.contains("better than 95 % of the 14 earlier Reels"), "{}", found[0].detail);
        assert!(found[0].detail.contains("(reach 5,400)"), "{}", found[0].detail);
        assert_eq!(posts_beyond(&[post(90)], 90, true).len(), 1, "at the threshold counts");
        let below = posts_beyond(&[post(10), post(11)], 10, false);
        assert_eq!(below.len(), 1);
        assert!(below[0].detail.contains("better than only 10 %"), "{}", below[0].detail);
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
    }

    #[test]
    fn reach_is_judged_against_the_median_of_the_days_before() {
        let day = |n: u64| NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() + chrono::Days::new(n);
        let mut days: Vec<(NaiveDate, Option<i64>)> = (0..28).map(|n| (day(n), Some(1000 + n as i64))).collect();
        days.push((day(28), Some(500)));
        fn input(days: &[(NaiveDate, Option<i64>)]) -> ReachDays<'_> {
            ReachDays { account: AccountId(3), username: "tidal.studio", days }
        }
        let found = reach_below(&input(&days), 60).expect("500 is under 60 % of about 1,013");
        assert!(found.detail.contains("500 accounts reached on 2026-11-29"), "{}", found.detail);
        assert!(reach_below(&input(&days), 40).is_none(), "but not under 40 %");

        // A day not measured is not a day of no reach: the last measured day is judged.
        days.push((day(29), None));
        assert!(reach_below(&input(&days), 60).is_some());

        let short: Vec<(NaiveDate, Option<i64>)> = days[15..].to_vec();
        assert!(reach_below(&input(&short), 60).is_none(), "too few days make no norm");
    }

    #[test]
    fn sync_fails_only_when_every_one_of_the_last_cycles_failed() {
        let run = |outcome| SyncRun { outcome, started_at: Utc::now(), error: Some("token expired".into()) };
        let runs = [run(SyncOutcome::Failed), run(SyncOutcome::Failed), run(SyncOutcome::Success)];
        assert!(sync_failing(AccountId(1), "a", &runs, 2).is_some());
        assert!(sync_failing(AccountId(1), "a", &runs, 3).is_none());
        assert!(sync_failing(AccountId(1), "a", &runs[..1], 2).is_none(), "fewer cycles than the threshold");
    }

    #[test]
    fn a_token_fires_within_its_days_or_when_it_needs_reconnecting() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let soon = Some(now + chrono::Duration::days(3));
        let active = AccountStatus::Active;
        assert!(token_expiring(AccountId(1), "a", active, soon, 7, now).is_some());
        assert!(token_expiring(AccountId(1), "a", active, soon, 2, now).is_none());
        assert!(token_expiring(AccountId(1), "a", AccountStatus::NeedsReauth, None, 7, now).is_some());
        assert!(token_expiring(AccountId(1), "a", AccountStatus::Disabled, soon, 7, now).is_none());
    }
}
