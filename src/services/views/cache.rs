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

#[derive(Default)]
pub struct ViewCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// One computation at a time: when data changes under many readers, the first computes
    /// and the others wait for its result instead of all computing the same thing.
    computing: tokio::sync::Mutex<()>,
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
        let _turn = self.computing.lock().await;
        if let Some(value) = self.get(&key, version) {
            return Ok(value);
        }
        let value = Arc::new(compute().await?);
        self.put(key, version, value.clone());
        Ok(value)
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
