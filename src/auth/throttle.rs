//! Sign-in throttling that an attacker cannot turn against the owner.
//!
//! - One address guessing one username: locked after [`MAX_FAILURES_PER_PAIR`] failures in
//!   the window. The same username from another address is not locked.
//! - One address guessing many usernames: locked after [`MAX_FAILURES_PER_ADDRESS`].
//! - One username guessed from many addresses: never locked (that would lock the owner out);
//!   each further attempt waits instead, doubling from one second up to [`MAX_DELAY`].
//!
//! Kept in memory: a restart forgets, which is acceptable for a single-process service. The
//! address is the client's as `TIDEMARK_TRUSTED_PROXIES` lets Tidemark know it.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::UserId;

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const MAX_FAILURES_PER_PAIR: usize = 5;
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// Failures of one username (from anywhere) before its attempts start to wait.
pub const FREE_FAILURES_PER_USERNAME: usize = 5;
pub const MAX_DELAY: Duration = Duration::from_secs(30);
/// Failures remembered per key at most: memory stays bounded.
const KEEP_PER_KEY: usize = 64;
/// Beyond this many tracked keys, expired ones are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

/// What a sign-in attempt may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead, after waiting this long (zero: at once).
    Proceed(Duration),
    /// Locked for this long.
    Locked(Duration),
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    pub fn verdict(&self, address: Option<IpAddr>, username: &str) -> Verdict {
        let now = Instant::now();
        let mut failures = self.lock();
        let mut locked = Duration::ZERO;
        for (key, limit) in
            [(pair_key(address, username), MAX_FAILURES_PER_PAIR), (address_key(address), MAX_FAILURES_PER_ADDRESS)]
        {
            let Some(times) = key.and_then(|key| failures.get_mut(&key)) else { continue };
            forget_expired(times, now);
            if times.len() >= limit
                && let Some(oldest) = times.front()
            {
                locked = locked.max(WINDOW.saturating_sub(now - *oldest));
            }
        }
        if !locked.is_zero() {
            return Verdict::Locked(locked);
        }
        let guessed = failures.get_mut(&user_key(username)).map_or(0, |times| {
            forget_expired(times, now);
            times.len()
        });
        Verdict::Proceed(delay_after(guessed))
    }

    /// `Err(wait)` when this address may not try this username now (locked); a delay is
    /// not a lock (see [`Self::verdict`]).
    pub fn check(&self, address: Option<IpAddr>, username: &str) -> Result<(), Duration> {
        match self.verdict(address, username) {
            Verdict::Locked(wait) => Err(wait),
            Verdict::Proceed(_) => Ok(()),
        }
    }

    pub fn record_failure(&self, address: Option<IpAddr>, username: &str) {
        let now = Instant::now();
        let mut failures = self.lock();
        sweep(&mut failures, now);
        let keys = [pair_key(address, username), address_key(address), Some(user_key(username))];
        for key in keys.into_iter().flatten() {
            let times = failures.entry(key).or_default();
            forget_expired(times, now);
            times.push_back(now);
            if times.len() > KEEP_PER_KEY {
                times.pop_front();
            }
        }
    }

    /// A successful sign-in clears that username's counts (not the address's: one known
    /// password must not reset the count for guessing others).
    pub fn record_success(&self, address: Option<IpAddr>, username: &str) {
        let mut failures = self.lock();
        failures.remove(&user_key(username));
        if let Some(pair) = pair_key(address, username) {
            failures.remove(&pair);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // A panic while holding this lock leaves only counters behind; keep using them.
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Wrong second-factor codes for one user within [`WINDOW`] before the code step locks for
/// that user. A code is one of a million and three are valid at a time, so at most this many
/// guesses per window keeps a guesser who has the password far from luck (about 1 in 33,000
/// per window).
pub const MAX_CODE_FAILURES: usize = 10;

/// Wrong second-factor codes per user, across sign-ins. Only someone who knew the password
/// got this far, so locking the user's code step (not their password) is the right answer.
#[derive(Default)]
pub struct CodeThrottle {
    failures: Mutex<HashMap<UserId, VecDeque<Instant>>>,
}

impl CodeThrottle {
    /// `Err(wait)` while the user's code step is locked.
    pub fn check(&self, user: UserId) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.lock();
        let Some(times) = failures.get_mut(&user) else { return Ok(()) };
        forget_expired(times, now);
        match times.front() {
            Some(oldest) if times.len() >= MAX_CODE_FAILURES => Err(WINDOW.saturating_sub(now - *oldest)),
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, user: UserId) {
        let now = Instant::now();
        let mut failures = self.lock();
        sweep(&mut failures, now);
        let times = failures.entry(user).or_default();
        forget_expired(times, now);
        times.push_back(now);
        if times.len() > MAX_CODE_FAILURES {
            times.pop_front();
        }
    }

    pub fn record_success(&self, user: UserId) {
        self.lock().remove(&user);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// No wait for the first failures; then 1 s, 2 s, 4 s… up to [`MAX_DELAY`].
fn delay_after(failures: usize) -> Duration {
    match failures.checked_sub(FREE_FAILURES_PER_USERNAME) {
        None => Duration::ZERO,
        Some(extra) => Duration::from_secs(1u64 << extra.min(16)).min(MAX_DELAY),
    }
}

fn user_key(username: &str) -> String {
    format!("user:{username}")
}

fn address_key(address: Option<IpAddr>) -> Option<String> {
    address.map(|ip| format!("addr:{ip}"))
}

fn pair_key(address: Option<IpAddr>, username: &str) -> Option<String> {
    address.map(|ip| format!("pair:{ip}:{username}"))
}

/// Beyond [`SWEEP_ABOVE`] tracked keys, forgets the keys whose failures all expired.
fn sweep<K>(failures: &mut HashMap<K, VecDeque<Instant>>, now: Instant) {
    if failures.len() > SWEEP_ABOVE {
        failures.retain(|_, times| {
            forget_expired(times, now);
            !times.is_empty()
        });
    }
}

fn forget_expired(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, last)))
    }

    #[test]
    fn one_address_guessing_one_username_is_locked_but_the_owner_elsewhere_is_not() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_FAILURES_PER_PAIR {
            assert!(throttle.check(ip(1), "ada").is_ok());
            throttle.record_failure(ip(1), "ada");
        }
        let wait = throttle.check(ip(1), "ada").unwrap_err();
        assert!(wait > Duration::from_secs(14 * 60));
        assert!(throttle.check(ip(2), "ada").is_ok(), "the owner from another address may still sign in");
        assert!(throttle.check(ip(1), "bob").is_ok(), "another username from the same address too");
    }

    #[test]
    fn an_address_locks_after_its_failure_limit_whatever_the_username() {
        let throttle = LoginThrottle::default();
        for n in 0..MAX_FAILURES_PER_ADDRESS {
            throttle.record_failure(ip(1), &format!("user{n}"));
        }
        assert!(throttle.check(ip(1), "fresh").is_err());
        assert!(throttle.check(ip(2), "fresh").is_ok());
    }

    #[test]
    fn a_username_guessed_from_many_addresses_slows_down_but_never_locks() {
        let throttle = LoginThrottle::default();
        for n in 0..12 {
            throttle.record_failure(ip(n), "ada");
        }
        match throttle.verdict(ip(200), "ada") {
            Verdict::Proceed(delay) => assert_eq!(delay, MAX_DELAY.min(Duration::from_secs(1 << 7))),
            Verdict::Locked(_) => panic!("a username is never locked for everyone"),
        }
        assert_eq!(delay_after(4), Duration::ZERO);
        assert_eq!(delay_after(5), Duration::from_secs(1));
        assert_eq!(delay_after(7), Duration::from_secs(4));
        assert_eq!(delay_after(60), MAX_DELAY);
    }

    #[test]
    fn the_code_step_locks_for_one_user_after_its_failure_limit() {
        let throttle = CodeThrottle::default();
        for _ in 0..MAX_CODE_FAILURES {
            assert!(throttle.check(UserId(1)).is_ok());
            throttle.record_failure(UserId(1));
        }
        assert!(throttle.check(UserId(1)).unwrap_err() > Duration::from_secs(14 * 60));
        assert!(throttle.check(UserId(2)).is_ok(), "other users are not affected");
    }

    #[test]
    fn success_clears_the_username_and_pair_counts() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_FAILURES_PER_PAIR {
            throttle.record_failure(ip(1), "ada");
        }
        throttle.record_success(ip(1), "ada");
        assert_eq!(throttle.verdict(ip(1), "ada"), Verdict::Proceed(Duration::ZERO));
    }
}
