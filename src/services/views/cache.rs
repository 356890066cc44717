//! Figures the pages compute, kept until the data they came from changes.
//!
//! The database keeps a counter (`data_version`) that triggers move on every write to the
//! tables the pages read, from whichever process. A cached value is used only while the
//! counter still reads what it read when the value was computed.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept at most; past that, the oldest data versions go first.
const MAX_ENTRIES: usize = 512;

type Entry = (i64, Arc<dyn Any + Send + Sync>);

/// The turn to compute one key.
type Turn = Arc<tokio::sync::Mutex<()>>;

#[derive(Default)]
pub struct ViewCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// One computation per key at a time: when data changes under many readers of a page,
    /// the first computes and the others wait for its result instead of all computing the
    /// same thing, while other pages compute at the same time. A waiter holds no database
    /// connection: the computation takes its own.
    computing: Mutex<HashMap<String, Turn>>,
}

impl ViewCache {
    /// The value for `key` at `version`, computing (and keeping) it when missing.
    pub async fn get_or_compute<T, E>(
        &self,
        key: String,
        version: i64,
        compute: impl AsyncFnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E>
    where
        T: Any + Send + Sync,
    {
        if let Some(value) = self.get(&key, version) {
            return Ok(value);
        }
        let turn: Turn = self.turns().entry(key.clone()).or_default().clone();
        let result = {
            let _held = turn.lock().await;
            match self.get(&key, version) {
                Some(value) => Ok(value),
                None => compute().await.map(|value| {
                    let value = Arc::new(value);
                    self.put(key.clone(), version, value.clone());
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

    /// The value computed for `key` at data version `version`, if any.
    pub fn get<T: Any + Send + Sync>(&self, key: &str, version: i64) -> Option<Arc<T>> {
        let entries = self.lock();
        let (at, value) = entries.get(key)?;
        if *at != version {
            return None;
        }
        value.clone().downcast::<T>().ok()
    }

    pub fn put<T: Any + Send + Sync>(&self, key: String, version: i64, value: Arc<T>) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            // Values of older versions can never be used again.
            entries.retain(|_, (at, _)| *at == version);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (version, value));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
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
        cache.put("k".into(), 7, Arc::new(42u32));
        assert_eq!(cache.get::<u32>("k", 7).as_deref(), Some(&42));
        assert_eq!(cache.get::<u32>("k", 8), None, "the data moved on");
        assert_eq!(cache.get::<String>("k", 7), None, "another type is not this value");
        assert_eq!(cache.get::<u32>("other", 7), None);
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
                    .get_or_compute("slow".into(), 1, async || {
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
                    .get_or_compute("slow".into(), 1, async || {
                        computed.fetch_add(1, Ordering::SeqCst);
                        Ok::<u32, ()>(2)
                    })
                    .await
            })
        };
        let other = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            cache.get_or_compute("other".into(), 1, async || Ok::<u32, ()>(3)),
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
    fn the_cache_stays_bounded() {
        let cache = ViewCache::default();
        for n in 0..(MAX_ENTRIES as i64 + 10) {
            cache.put(format!("k{n}"), n, Arc::new(n));
        }
        assert!(cache.lock().len() <= MAX_ENTRIES);
        let last = MAX_ENTRIES as i64 + 9;
        assert_eq!(cache.get::<i64>(&format!("k{last}"), last).as_deref(), Some(&last));
    }
}
