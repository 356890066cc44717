//! Competitors, read once a day through Business Discovery. It needs a connected account on
//! Facebook Login (Instagram Login has none, graph-api.md §1): the first active one asks for
//! all. Its calls count against the platform limits, not the account's (§5.2), so a cycle
//! reads only a few; the rest wait for the next cycle.

use chrono::{DateTime, Duration, Utc};

use super::SyncContext;
use crate::db::accounts::{Account, token_binding};
use crate::db::competitors::{self, CompetitorPost, CompetitorRead};
use crate::domain::{AccountStatus, Flavour};
use crate::graph::discovery::{Discovered, is_not_found};
use crate::graph::{AccessToken, Action};

/// A competitor is read again once this old: once a day, whatever minute the cycle runs at.
pub const READ_EVERY: Duration = Duration::hours(20);
/// Competitors read per cycle at most.
pub const PER_CYCLE: i64 = 10;

/// What one cycle did for the competitors.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CompetitorSummary {
    pub read: usize,
    pub not_found: usize,
    pub failed: usize,
    pub api_calls: u32,
}

/// Reads the competitors due; nothing when none is due or no account can ask.
pub async fn read_due(ctx: &SyncContext, now: DateTime<Utc>) -> anyhow::Result<CompetitorSummary> {
    let mut conn = ctx.pool.get().await?;
    let due = competitors::due(&mut conn, now - READ_EVERY, PER_CYCLE).await?;
    if due.is_empty() {
        return Ok(CompetitorSummary::default());
    }
    let accounts = Account::list(&mut conn).await?;
    let Some((asking, token)) = asking_account(ctx, &accounts) else {
        tracing::debug!(due = due.len(), "competitors wait for an account connected with Facebook Login");
        return Ok(CompetitorSummary::default());
    };
    drop(conn);
    let session = ctx.graph.session(&token, Flavour::Facebook);
    let mut summary = CompetitorSummary::default();
    for competitor in due {
        let answer = session.discover(&asking.ig_user_id, &competitor.username).await;
        let mut conn = ctx.pool.get().await?;
        match answer {
            Ok(found) => {
                competitors::record(&mut conn, competitor.id, &read_of(competitor.id, found, now), now).await?;
                summary.read += 1;
            }
            Err(err) if is_not_found(&err) => {
                competitors::mark_not_found(&mut conn, competitor.id, now).await?;
                summary.not_found += 1;
            }
            Err(err) => {
                tracing::warn!(competitor = competitor.id.0, kind = err.kind(), error = %err, "competitor not read");
                // A refusal would answer the same all day; anything else is asked again next cycle.
                let tried = (err.action() == Action::Report).then_some(now).or(competitor.tried_at);
                competitors::mark_failed(&mut conn, competitor.id, &err.to_string(), tried).await?;
                summary.failed += 1;
                // Waiting or re-connecting concerns every read after this one too.
                if matches!(err.action(), Action::Wait | Action::Reconnect) {
                    break;
                }
            }
        }
    }
    summary.api_calls = session.calls();
    Ok(summary)
}

/// The first active Facebook Login account whose token opens, with that token.
fn asking_account<'a>(ctx: &SyncContext, accounts: &'a [Account]) -> Option<(&'a Account, AccessToken)> {
    accounts.iter().filter(|a| a.flavour == Flavour::Facebook && a.status == AccountStatus::Active).find_map(
        |account| {
            let sealed = account.token()?;
            let binding = token_binding(&account.ig_user_id);
            let token = ctx.key.open(&sealed.ciphertext, &sealed.nonce, sealed.key_version, &binding).ok()?;
            Some((account, AccessToken::new(token)))
        },
    )
}

fn read_of(id: crate::domain::CompetitorId, found: Discovered, now: DateTime<Utc>) -> CompetitorRead {
    let posts = found
        .media
        .unwrap_or_default()
        .data
        .into_iter()
        .map(|m| CompetitorPost {
            competitor_id: id,
            media_id: m.id,
            posted_at: m.timestamp,
            media_type: m.media_type,
            media_product_type: m.media_product_type,
            like_count: m.like_count.filter(|n| *n >= 0),
            comments_count: m.comments_count.filter(|n| *n >= 0),
            permalink: m.permalink,
            read_at: now,
        })
        .collect();
    CompetitorRead {
        ig_id: found.id,
        name: found.name,
        followers_count: found.followers_count.filter(|n| *n >= 0),
        media_count: found.media_count.filter(|n| *n >= 0),
        posts,
    }
}
