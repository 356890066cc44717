//! Locks that hold across processes. Two `serve` processes may share one database (behind a
//! load balancer); each background pass — the sync, the publisher, the inbox rules, the
//! alerts, the reports — must still run in one of them at a time, or a report is mailed twice
//! and an inbox rule answers a comment twice.
//!
//! Each is a PostgreSQL session-level advisory lock taken on a connection of its own: a
//! pooled connection would go back to the pool still holding it. The lock lasts while the
//! [`Held`] value lives; if the process dies, its connection closes and the server lets go.

use anyhow::Context;
use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// One background pass that runs in one process at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusive {
    /// The sync cycle; the retention purge waits for it.
    Sync,
    Publisher,
    InboxRules,
    Alerts,
    Reports,
}

impl Exclusive {
    /// The advisory lock's key. The sync's is the one it has always used ("tidemark" in
    /// ASCII), so a process of an older version still keeps out of a newer one's way.
    fn key(self) -> i64 {
        const TIDEMARK: i64 = 0x7469_6465_6d61_726b;
        match self {
            Exclusive::Sync => TIDEMARK,
            Exclusive::Publisher => TIDEMARK + 1,
            Exclusive::InboxRules => TIDEMARK + 2,
            Exclusive::Alerts => TIDEMARK + 3,
            Exclusive::Reports => TIDEMARK + 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Exclusive::Sync => "sync",
            Exclusive::Publisher => "publisher",
            Exclusive::InboxRules => "inbox rules",
            Exclusive::Alerts => "alerts",
            Exclusive::Reports => "reports",
        }
    }
}

/// A lock this process holds, on its own connection.
pub struct Held {
    conn: AsyncPgConnection,
    lock: Exclusive,
}

impl Held {
    /// Lets go. Dropping does too (the connection closes), but says so less plainly and a
    /// little later.
    pub async fn release(mut self) {
        let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
            .bind::<BigInt, _>(self.lock.key())
            .execute(&mut self.conn)
            .await;
        if let Err(err) = unlocked {
            tracing::warn!(lock = self.lock.name(), error = %err, "the lock could not be released; closing its connection");
        }
    }
}

/// Takes `lock` if no process holds it; `None` if one does.
pub async fn try_take(database_url: &str, lock: Exclusive) -> anyhow::Result<Option<Held>> {
    #[derive(diesel::QueryableByName)]
    struct Taken {
        #[diesel(sql_type = Bool)]
        taken: bool,
    }
    let mut conn = connect(database_url, lock).await?;
    let row: Taken = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS taken")
        .bind::<BigInt, _>(lock.key())
        .get_result(&mut conn)
        .await
        .with_context(|| format!("cannot take the {} lock", lock.name()))?;
    Ok(row.taken.then_some(Held { conn, lock }))
}

/// Takes `lock`, waiting for whichever process holds it.
pub async fn take(database_url: &str, lock: Exclusive) -> anyhow::Result<Held> {
    let mut conn = connect(database_url, lock).await?;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(lock.key())
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot take the {} lock", lock.name()))?;
    Ok(Held { conn, lock })
}

async fn connect(database_url: &str, lock: Exclusive) -> anyhow::Result<AsyncPgConnection> {
    AsyncPgConnection::establish(database_url)
        .await
        .with_context(|| format!("cannot connect for the {} lock", lock.name()))
}
