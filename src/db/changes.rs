//! What PostgreSQL tells this process about writes to the rows it keeps in memory.
//!
//! Triggers on `sessions`, `users`, `settings` and `data_version` send a notice on
//! [`CHANNEL`] when a statement changes them (migration `…_change_notices`), whichever process
//! or script wrote. One connection per process `LISTEN`s; every notice moves a generation
//! number, and whatever was kept under an older generation is read again. While that connection
//! is down nothing kept is trusted: every request reads the database, as if nothing were kept.
//!
//! A notice arrives after its transaction commits, so another process's write reaches a kept
//! session a few milliseconds late; this process's own requests move the generation themselves
//! when they may have written (see `auth::middleware`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;
use tokio_postgres::AsyncMessage;

/// The channel the triggers notify.
pub const CHANNEL: &str = "tidemark_changes";
/// The payload of the data version's notices (the table's name).
const DATA_VERSION: &str = "data_version";
/// A notice whose payload starts with this names a probe (see [`Changes::probe_seen`]).
pub const PROBE: &str = "probe:";
/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Changes {
    /// Moves on every notice, on every write this process reports, and when the listening
    /// connection is lost or regained.
    generation: AtomicU64,
    /// True while the listening connection is up.
    listening: AtomicBool,
    /// The highest probe number seen in a notice.
    probe: AtomicU64,
    /// Wakes the page warm-up when the data version moved. It keeps one permit at most, so
    /// the notices that arrive during a warm-up make one more, not one each.
    data_moved: tokio::sync::Notify,
}

impl Changes {
    /// The generation to keep what is read now under, or `None` when nothing may be kept
    /// (no listening connection: a write elsewhere would go unnoticed).
    pub fn current(&self) -> Option<u64> {
        if self.listening.load(Ordering::Acquire) { Some(self.generation.load(Ordering::Acquire)) } else { None }
    }

    /// Something kept may be stale from now on.
    pub fn moved(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether the listening connection is up (for `/metrics`).
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Returns once the data version has moved since the last call returned (or the listening
    /// connection came up: notices may have been missed).
    pub async fn data_moved(&self) {
        self.data_moved.notified().await;
    }

    /// The highest probe seen. Notices arrive in commit order, so once a probe sent after a
    /// write is seen, that write's notice was seen too: tests send one to wait for the
    /// notices of what they wrote by hand.
    pub fn probe_seen(&self) -> u64 {
        self.probe.load(Ordering::Acquire)
    }

    fn set_listening(&self, up: bool) {
        self.listening.store(up, Ordering::Release);
        // Notices may have been missed while down; whatever was kept before is read again.
        self.moved();
        if up {
            self.data_moved.notify_one();
        }
    }

    fn notice(&self, payload: &str) {
        match payload.strip_prefix(PROBE).and_then(|n| n.parse::<u64>().ok()) {
            // A probe says nothing changed.
            Some(probe) => {
                self.probe.fetch_max(probe, Ordering::AcqRel);
            }
            None => {
                self.moved();
                if payload == DATA_VERSION {
                    self.data_moved.notify_one();
                }
            }
        }
    }

    /// Listens for notices until the process ends, connecting again whenever the connection
    /// is lost.
    pub fn listen(self: &Arc<Self>, database_url: &str) -> tokio::task::JoinHandle<()> {
        let changes = self.clone();
        let database_url = database_url.to_owned();
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                match changes.listen_once(&database_url).await {
                    Ok(()) => tracing::warn!("the connection listening for changes closed; connecting again"),
                    // Logged once per outage, not every second of it.
                    Err(err) if !failing => {
                        tracing::warn!(error = %err, "cannot listen for changes; every request reads the database until it can")
                    }
                    Err(_) => {}
                }
                failing = !changes.listening();
                changes.set_listening(false);
                tokio::time::sleep(RECONNECT_AFTER).await;
            }
        })
    }

    async fn listen_once(&self, database_url: &str) -> Result<(), tokio_postgres::Error> {
        let (client, mut connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await?;
        let (sender, mut notices) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(notice)) => {
                        if sender.send(notice.payload().to_owned()).is_err() {
                            return Ok(());
                        }
                    }
                    Ok(_) => {}
                    Err(err) => return Err(err),
                }
            }
            Ok(())
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        self.set_listening(true);
        tracing::debug!("listening for changes");
        while let Some(payload) = notices.recv().await {
            self.notice(&payload);
        }
        // The driver ended (the connection closed); its error says why.
        drop(client);
        match driver.await {
            Ok(result) => result,
            Err(_) => Ok(()),
        }
    }
}
