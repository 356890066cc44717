//! Figures the pages compute, kept until the data they came from changes.
//!
//! The database keeps counters that triggers move on every write to the tables the pages read,
//! from whichever process: one for everything, and one per account for the rows that belong to
//! it (with `common` for what every account's views read beside their own rows). A kept value
//! is used only while the counters it was computed at still read the same.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept at most; past that, the half used longest ago goes. An account's views are
/// kept across other accounts' syncs, so at 100 accounts a few hundred are in use at once.
const MAX_ENTRIES: usize = 2048;

/// The data a kept value was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Everything, at this data version (the pages across accounts).
    All(i64),
    /// One account's rows at its own version, and what all accounts' views read at `common`.
    Account { common: i64, own: i64 },
}

struct Entry {
    stamp: Stamp,
    value: Arc<dyn Any + Send + Sync>,
    /// When it was last put or read, on the cache's own clock.
    used: u64,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    clock: u64,
}

/// The turn to compute one key.
type Turn = Arc<tokio::sync::Mutex<()>>;

#[derive(Default)]
pub struct ViewCache {
    entries: Mutex<Entries>,
    /// One computation per key at a time: when data changes under many readers of a page,
    /// the first computes and the others wait for its result instead of all computing the
    /// same thing, while other pages compute at the same time. A waiter holds no database
    /// connection: the computation takes its own.
    computing: Mutex<HashMap<String, Turn>>,
}

impl ViewCache {
    /// The value for `key` at `stamp`, computing (and keeping) it when missing.
    pub async fn get_or_compute<T, E>(
        &self,
        key: String,
        stamp: Stamp,
        compute: impl AsyncFnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E>
    where
        T: Any + Send + Sync,
    {
        if let Some(value) = self.get(&key, stamp) {
            return Ok(value);
        }
        let turn: Turn = self.turns().entry(key.clone()).or_default().clone();
        let result = {
            let _held = turn.lock().await;
            match self.get(&key, stamp) {
                Some(value) => Ok(value),
                None => compute().await.map(|value| {
                    let value = Arc::new(value);
                    self.put(key.clone(), stamp, value.clone());
                    value
                }),
            }
        };
        // The last one out forgets the key's turn (the map and this call hold the only two).
        let mut turns = self.turns();
        if turns.get(&key).is_some_and(|t| Arc::strong_count(t) <= 2) {
            turns.remove(&key);
        }
        result
    }

    /// The value computed for `key` from the data at `stamp`, if any.
    pub fn get<T: Any + Send + Sync>(&self, key: &str, stamp: Stamp) -> Option<Arc<T>> {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        let entry = entries.map.get_mut(key).filter(|e| e.stamp == stamp)?;
        entry.used = now;
        entry.value.clone().downcast::<T>().ok()
    }

    pub fn put<T: Any + Send + Sync>(&self, key: String, stamp: Stamp, value: Arc<T>) {
        let mut entries = self.lock();
        if entries.map.len() >= MAX_ENTRIES && !entries.map.contains_key(&key) {
            // Values of older versions are never read again and go with the rest of the least
            // recently used half.
            let mut used: Vec<u64> = entries.map.values().map(|e| e.used).collect();
            let (_, middle, _) = used.select_nth_unstable(MAX_ENTRIES / 2);
            let middle = *middle;
            entries.map.retain(|_, e| e.used > middle);
        }
        entries.clock += 1;
        let used = entries.clock;
        entries.map.insert(key, Entry { stamp, value, used });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn turns(&self) -> std::sync::MutexGuard<'_, HashMap<String, Turn>> {
        self.computing.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_served_only_for_the_data_version_it_was_computed_at() {
        let cache = ViewCache::default();
        cache.put("k".into(), Stamp::All(7), Arc::new(42u32));
        assert_eq!(cache.get::<u32>("k", Stamp::All(7)).as_deref(), Some(&42));
        assert_eq!(cache.get::<u32>("k", Stamp::All(8)), None, "the data moved on");
        assert_eq!(cache.get::<String>("k", Stamp::All(7)), None, "another type is not this value");
        assert_eq!(cache.get::<u32>("other", Stamp::All(7)), None);
        let account = Stamp::Account { common: 3, own: 7 };
        cache.put("a".into(), account, Arc::new(1u32));
        assert_eq!(cache.get::<u32>("a", account).as_deref(), Some(&1));
        assert_eq!(cache.get::<u32>("a", Stamp::Account { common: 3, own: 8 }), None, "the account's rows moved on");
        assert_eq!(cache.get::<u32>("a", Stamp::Account { common: 4, own: 7 }), None, "what all accounts read moved on");
        assert_eq!(cache.get::<u32>("a", Stamp::All(7)), None);
    }

    #[tokio::test]
    async fn readers_of_one_key_wait_for_one_computation_while_other_keys_compute_alongside() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let cache = Arc::new(ViewCache::default());
        let computed = Arc::new(AtomicU32::new(0));
        let (started, mut other_done) = (tokio::sync::Notify::new(), tokio::sync::oneshot::channel::<()>());
        let started = Arc::new(started);
        // The slow page waits until another page has been computed: under one global turn
        // this would never end.
        let slow = {
            let (cache, computed, started) = (cache.clone(), computed.clone(), started.clone());
            tokio::spawn(async move {
                cache
                    .get_or_compute("slow".into(), Stamp::All(1), async || {
                        computed.fetch_add(1, Ordering::SeqCst);
                        started.notify_one();
                        (&mut other_done.1).await.ok();
                        Ok::<u32, ()>(1)
                    })
                    .await
            })
        };
        started.notified().await;
        let same = {
            let (cache, computed) = (cache.clone(), computed.clone());
            tokio::spawn(async move {
                cache
                    .get_or_compute("slow".into(), Stamp::All(1), async || {
                        computed.fetch_add(1, Ordering::SeqCst);
                        Ok::<u32, ()>(2)
                    })
                    .await
            })
        };
        let other = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            cache.get_or_compute("other".into(), Stamp::All(1), async || Ok::<u32, ()>(3)),
        )
        .await
        .expect("another key is not held up by a slow one");
        assert_eq!(other.unwrap().as_ref(), &3);
        other_done.0.send(()).unwrap();
        assert_eq!(slow.await.unwrap().unwrap().as_ref(), &1);
        assert_eq!(same.await.unwrap().unwrap().as_ref(), &1, "the waiter got the first computation's value");
        assert_eq!(computed.load(Ordering::SeqCst), 1, "computed once");
        assert!(cache.turns().is_empty(), "no turn is kept once nobody waits");
    }

    #[test]
    fn the_cache_stays_bounded_and_keeps_what_was_used_last() {
        let cache = ViewCache::default();
        cache.put("read often".into(), Stamp::All(0), Arc::new(-1i64));
        for n in 0..(MAX_ENTRIES as i64 + 10) {
            cache.put(format!("k{n}"), Stamp::All(n), Arc::new(n));
            assert!(cache.get::<i64>("read often", Stamp::All(0)).is_some(), "a value in use is never the one to go");
        }
        assert!(cache.lock().map.len() <= MAX_ENTRIES);
        let last = MAX_ENTRIES as i64 + 9;
        assert_eq!(cache.get::<i64>(&format!("k{last}"), Stamp::All(last)).as_deref(), Some(&last));
        assert_eq!(cache.get::<i64>("k0", Stamp::All(0)), None, "the one used longest ago went");
    }
}
