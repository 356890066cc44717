//! Sign-in throttling: too many failures for one username or from one address within a
//! window lock further attempts until the oldest failure leaves the window.
//! Kept in memory: a restart forgets, which is acceptable for a single-process service.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const MAX_FAILURES_PER_USERNAME: usize = 5;
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// Beyond this many tracked keys, expired ones are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// `Err(wait)` when sign-in for this username or from this address is locked.
    pub fn check(&self, address: Option<IpAddr>, username: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.lock();
        let keys = keys(address, username);
        let limits = [MAX_FAILURES_PER_USERNAME, MAX_FAILURES_PER_ADDRESS];
        let mut wait = Duration::ZERO;
        for (key, limit) in keys.iter().zip(limits) {
            let Some(times) = key.as_ref().and_then(|key| failures.get_mut(key)) else {
                continue;
            };
            forget_expired(times, now);
            if times.len() >= limit
                && let Some(oldest) = times.front()
            {
                wait = wait.max(WINDOW.saturating_sub(now - *oldest));
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    pub fn record_failure(&self, address: Option<IpAddr>, username: &str) {
        let now = Instant::now();
        let mut failures = self.lock();
        if failures.len() > SWEEP_ABOVE {
            failures.retain(|_, times| {
                forget_expired(times, now);
                !times.is_empty()
            });
        }
        for key in keys(address, username).into_iter().flatten() {
            let times = failures.entry(key).or_default();
            forget_expired(times, now);
            times.push_back(now);
            // Never more than the largest limit per key: memory stays bounded.
            if times.len() > MAX_FAILURES_PER_ADDRESS {
                times.pop_front();
            }
        }
    }

    /// A successful sign-in clears that username's failures (not the address's: one known
    /// password must not reset the count for guessing others).
    pub fn record_success(&self, username: &str) {
        self.lock().remove(&user_key(username));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // A panic while holding this lock leaves only counters behind; keep using them.
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn user_key(username: &str) -> String {
    format!("user:{username}")
}

fn keys(address: Option<IpAddr>, username: &str) -> [Option<String>; 2] {
    [Some(user_key(username)), address.map(|ip| format!("addr:{ip}"))]
}

fn forget_expired(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn a_username_locks_after_its_failure_limit() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_FAILURES_PER_USERNAME {
            assert!(throttle.check(ADDR, "ada").is_ok());
            throttle.record_failure(ADDR, "ada");
        }
        let wait = throttle.check(ADDR, "ada").unwrap_err();
        assert!(wait > Duration::from_secs(14 * 60));
        // Another username from the same address is still allowed.
        assert!(throttle.check(ADDR, "bob").is_ok());
    }

    #[test]
    fn an_address_locks_after_its_failure_limit_whatever_the_username() {
        let throttle = LoginThrottle::default();
        for n in 0..MAX_FAILURES_PER_ADDRESS {
            throttle.record_failure(ADDR, &format!("user{n}"));
        }
        assert!(throttle.check(ADDR, "fresh").is_err());
        assert!(throttle.check(None, "fresh").is_ok());
    }

    #[test]
    fn success_clears_the_username_count() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_FAILURES_PER_USERNAME {
            throttle.record_failure(ADDR, "ada");
        }
        throttle.record_success("ada");
        assert!(throttle.check(ADDR, "ada").is_ok());
    }
}
