//! Rate awareness: the usage headers of every answer, the highest usage per account, and
//! which accounts must not be called until the API's wait is over.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde::Deserialize;

/// What one answer's headers say. Absent headers mean "unknown", not 0 %.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Highest percentage of any allowance in `X-App-Usage` or `X-Business-Use-Case-Usage`.
    pub percent: Option<u32>,
    /// `estimated_time_to_regain_access`, when the API says we are blocked.
    pub regain_after: Option<Duration>,
}

#[derive(Debug, Deserialize)]
struct AppUsage {
    #[serde(default)]
    call_count: u32,
    #[serde(default)]
    total_time: u32,
    #[serde(default)]
    total_cputime: u32,
}

#[derive(Debug, Deserialize)]
struct BucPool {
    #[serde(default)]
    call_count: u32,
    #[serde(default)]
    total_time: u32,
    #[serde(default)]
    total_cputime: u32,
    /// Minutes.
    #[serde(default)]
    estimated_time_to_regain_access: u64,
}

pub fn parse_usage(headers: &HeaderMap) -> Usage {
    let mut usage = Usage::default();
    let mut note = |pct: u32| usage.percent = Some(usage.percent.map_or(pct, |p| p.max(pct)));
    if let Some(app) = header_json::<AppUsage>(headers, "x-app-usage") {
        note(app.call_count.max(app.total_time).max(app.total_cputime));
    }
    let mut regain_minutes = 0;
    if let Some(buc) = header_json::<HashMap<String, Vec<BucPool>>>(headers, "x-business-use-case-usage") {
        for pool in buc.values().flatten() {
            note(pool.call_count.max(pool.total_time).max(pool.total_cputime));
            regain_minutes = regain_minutes.max(pool.estimated_time_to_regain_access);
        }
    }
    if regain_minutes > 0 {
        usage.regain_after = Some(Duration::from_secs(regain_minutes * 60));
    }
    usage
}

fn header_json<T: for<'de> Deserialize<'de>>(headers: &HeaderMap, name: &str) -> Option<T> {
    serde_json::from_str(headers.get(name)?.to_str().ok()?).ok()
}

#[derive(Debug, Clone, Copy, Default)]
struct AccountRate {
    highest_percent: u32,
    blocked_until: Option<Instant>,
}

/// Per-account rate state, shared by every call of the client.
#[derive(Debug, Default)]
pub struct RateBook {
    accounts: Mutex<HashMap<String, AccountRate>>,
}

impl RateBook {
    pub fn record(&self, ig_user_id: &str, usage: Usage) {
        let mut accounts = self.lock();
        let rate = accounts.entry(ig_user_id.to_owned()).or_default();
        if let Some(percent) = usage.percent {
            rate.highest_percent = percent;
        }
    }

    pub fn block(&self, ig_user_id: &str, wait: Duration) {
        let mut accounts = self.lock();
        let rate = accounts.entry(ig_user_id.to_owned()).or_default();
        rate.blocked_until = Some(Instant::now() + wait);
    }

    /// `Err(remaining)` while the account must not be called.
    pub fn check(&self, ig_user_id: &str) -> Result<(), Duration> {
        let accounts = self.lock();
        match accounts.get(ig_user_id).and_then(|r| r.blocked_until) {
            Some(until) if until > Instant::now() => Err(until - Instant::now()),
            _ => Ok(()),
        }
    }

    /// The latest usage percentage the API reported for the account (0 when unknown).
    pub fn usage_percent(&self, ig_user_id: &str) -> u32 {
        self.lock().get(ig_user_id).map_or(0, |r| r.highest_percent)
    }

    /// Every account's latest usage, for metrics.
    pub fn all_usage(&self) -> Vec<(String, u32)> {
        self.lock().iter().map(|(id, r)| (id.clone(), r.highest_percent)).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, AccountRate>> {
        self.accounts.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_usage_headers_are_read_and_the_highest_pool_wins() {
        let mut headers = HeaderMap::new();
        headers.insert("x-app-usage", r#"{"call_count":28,"total_time":25,"total_cputime":25}"#.parse().unwrap());
        headers.insert(
            "x-business-use-case-usage",
            concat!(
                r#"{"1784":[{"type":"instagram","call_count":91,"total_cputime":3,"total_time":4,"estimated_time_to_regain_access":0}],"#,
                r#""999":[{"type":"instagram","call_count":12,"total_cputime":3,"total_time":4,"estimated_time_to_regain_access":7}]}"#
            )
                .parse()
                .unwrap(),
        );
        let usage = parse_usage(&headers);
        assert_eq!(usage.percent, Some(91));
        assert_eq!(usage.regain_after, Some(Duration::from_secs(420)));
        assert_eq!(parse_usage(&HeaderMap::new()), Usage::default());
    }

    #[test]
    fn a_blocked_account_stays_blocked_until_its_wait_is_over() {
        let book = RateBook::default();
        book.block("1", Duration::from_secs(60));
        assert!(book.check("1").is_err());
        assert!(book.check("2").is_ok());
        book.block("3", Duration::ZERO);
        assert!(book.check("3").is_ok());
    }
}
