//! Live sessions kept in memory between requests, so a page that is itself kept costs no
//! database round trip at all (BENCHMARKS.md §3: the session query was a third of a page's
//! CPU, most of it PostgreSQL's).
//!
//! What is kept is exactly what [`sessions::find_live`] read: the session, its user, the
//! second-factor rule and the data and links versions. Each entry belongs to the
//! [`Changes`] generation it was read under and is used only while that generation is current;
//! any notice from the database (a session ended, a user or the settings changed,
//! the data version moved), any request of this process that may have written, or the
//! listening connection going down, moves the generation and so drops every entry at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::db::changes::Changes;
use crate::db::sessions::LiveSession;

/// Entries kept at most; past it, those of older generations go, then all.
const MAX_KEPT: usize = 10_000;

pub struct KeptSessions {
    changes: Arc<Changes>,
    entries: Mutex<HashMap<String, Kept>>,
}

struct Kept {
    generation: u64,
    live: LiveSession,
}

impl KeptSessions {
    pub fn new(changes: Arc<Changes>) -> Self {
        Self { changes, entries: Mutex::new(HashMap::new()) }
    }

    /// The session `id` as read under the current generation, if it still runs at `now`.
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Option<LiveSession> {
        let generation = self.changes.current()?;
        let entries = self.entries.lock().ok()?;
        entries
            .get(id)
            .filter(|kept| kept.generation == generation && kept.live.expires_at > now)
            .map(|kept| kept.live.clone())
    }

    /// The generation to pass to [`Self::keep`], taken before reading the session: a change
    /// committed while the read runs moves it, and the entry is never used.
    pub fn generation(&self) -> Option<u64> {
        self.changes.current()
    }

    pub fn keep(&self, id: &str, generation: u64, live: LiveSession) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= MAX_KEPT {
            let current = self.changes.current();
            entries.retain(|_, kept| Some(kept.generation) == current);
            if entries.len() >= MAX_KEPT {
                entries.clear();
            }
        }
        entries.insert(id.to_owned(), Kept { generation, live });
    }

    /// This process marked the session `id` as used at `at`: its kept copy says so, and the
    /// next request does not mark it again within the minute.
    pub fn touched(&self, id: &str, at: DateTime<Utc>) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some(kept) = entries.get_mut(id)
        {
            kept.live.last_seen_at = at;
        }
    }

    /// This process may just have written what a kept session holds.
    pub fn moved(&self) {
        self.changes.moved();
    }
}
