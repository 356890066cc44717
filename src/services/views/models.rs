//! View models: what the pages (and their CSV files) show, built from the analytics
//! figures and formatted for reading. Computed once per data version by [`super::Views`].

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::format::{count, token_expiry, when_in};
use super::overview::OverviewView;
use crate::analytics::account::AccountFigures;
use crate::analytics::charts::Chart;
use crate::analytics::groups::{Outcome, Summary};
use crate::analytics::impact::checkpoint_label;
use crate::analytics::overview::Overview;
use crate::analytics::period::Period;
use crate::analytics::{EngagementDefinition, Format, MIN_COHORT};
use crate::db::accounts::{Account, Footprint};
use crate::db::reports::PostRow;
use crate::db::stats::{LastSync, Totals};
use crate::domain::{AccountId, AccountStatus, Flavour, PostId, SyncOutcome};
use crate::graph::oauth::scope_purpose;

/// A rate as the pages show it: two decimals and a percent sign; "–" when undefined.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_owned(), |r| format!("{r:.2} %"))
}

/// A change with its sign: "+12", "−3", "0".
pub fn signed(delta: Option<i64>) -> String {
    match delta {
        Some(d) if d > 0 => format!("+{}", count(Some(d))),
        Some(d) => count(Some(d)),
        None => "–".to_owned(),
    }
}

/// A difference of rates in percentage points.
pub fn point_delta(delta: Option<f64>) -> String {
    match delta {
        Some(d) if d >= 0.005 => format!("+{d:.2} pt"),
        Some(d) if d <= -0.005 => format!("−{:.2} pt", -d),
        Some(_) => "±0.00 pt".to_owned(),
        None => "–".to_owned(),
    }
}

/// A post as the grouping functions see it.
pub fn outcome(row: &PostRow, definition: EngagementDefinition) -> Outcome {
    Outcome {
        post: row.id,
        format: row.format(),
        posted_at: row.posted_at,
        hashtags: row.tags(),
        rate: row.rate(definition),
        reach: row.reach,
        impact: row.impact,
    }
}

/// An account as the pages show it.
pub struct AccountView {
    pub id: AccountId,
    pub username: String,
    pub name: String,
    pub flavour: Flavour,
    pub status: AccountStatus,
    pub status_reason: Option<String>,
    pub followers: String,
    pub follows: String,
    pub media: String,
    pub posts: String,
    pub last_sync: String,
    pub token: String,
    pub token_warning: bool,
    pub paused_until: Option<String>,
    /// The scopes granted, each with what it lets Tidemark do.
    pub scopes: Vec<(String, &'static str)>,
    pub has_token: bool,
}

impl AccountView {
    pub fn new(account: &Account, posts: Option<i64>, now: DateTime<Utc>, tz: Tz) -> Self {
        let (token, token_warning) = match account.token() {
            Some(_) => token_expiry(account.token_expires_at, now),
            None => ("none: connect the account again to sync it".to_owned(), false),
        };
        Self {
            id: account.id,
            username: account.username.clone(),
            name: account.name.clone().unwrap_or_default(),
            flavour: account.flavour,
            status: account.status,
            status_reason: account.status_reason.clone(),
            followers: count(account.followers_count),
            follows: count(account.follows_count),
            media: count(account.media_count),
            posts: count(posts),
            last_sync: when_in(account.last_synced_at, tz),
            token,
            token_warning,
            paused_until: account.paused_until.filter(|t| *t > now).map(|t| when_in(Some(t), tz)),
            scopes: account
                .scopes()
                .into_iter()
                .map(|s| {
                    let purpose = scope_purpose(&s);
                    (s, purpose)
                })
                .collect(),
            has_token: account.token().is_some(),
        }
    }

    /// Whether the account can be synced again by enabling it (it still has a token).
    pub fn can_enable(&self) -> bool {
        self.status == AccountStatus::Disabled && self.has_token
    }

    pub fn is_disconnected(&self) -> bool {
        self.status == AccountStatus::Disconnected
    }

    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active
    }

    pub fn needs_reauth(&self) -> bool {
        self.status == AccountStatus::NeedsReauth
    }
}

/// A post as a table row.
#[derive(Debug, Clone)]
pub struct PostView {
    pub id: PostId,
    pub account_id: AccountId,
    pub username: String,
    pub format: Format,
    pub posted: String,
    pub caption: String,
    pub reach: String,
    pub views: String,
    pub interactions: String,
    pub rate: String,
    pub impact: String,
    pub impact_note: String,
    /// The impact score as a number, to rank posts of several accounts together.
    pub score: Option<i16>,
    /// Whether a small copy of its picture is kept (served at `/posts/{id}/picture`).
    pub picture: bool,
    pub removed: bool,
}

impl PostView {
    pub fn new(row: &PostRow, definition: EngagementDefinition, tz: Tz) -> PostView {
        let format = row.format();
        let (impact, impact_note) = impact_text(row, format);
        PostView {
            id: row.id,
            account_id: row.account_id,
            username: row.username.clone(),
            format,
            posted: row.posted_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
            caption: short_caption(row.caption.as_deref()),
            reach: count(row.reach),
            views: count(row.views),
            interactions: count(row.interactions),
            rate: percent(row.rate(definition)),
            impact,
            impact_note,
            score: row.impact,
            picture: row.has_picture,
            removed: row.removed_at.is_some(),
        }
    }
}

/// The score and what it was measured against, per docs/metrics.md.
pub fn impact_text(row: &PostRow, format: Format) -> (String, String) {
    let cohort = row.impact_cohort.unwrap_or(0);
    match (row.impact, row.checkpoint_hours) {
        (Some(score), Some(hours)) => (
            score.to_string(),
            format!("against {cohort} earlier {} at {}", format.plural(), checkpoint_label(i64::from(hours))),
        ),
        (None, Some(_)) if (cohort as usize) < MIN_COHORT => {
            ("–".to_owned(), format!("not enough history ({cohort} of {MIN_COHORT} needed)"))
        }
        _ => ("–".to_owned(), "not measured yet".to_owned()),
    }
}

fn short_caption(caption: Option<&str>) -> String {
    let Some(caption) = caption else { return String::new() };
    let mut short: String = caption.chars().take(80).collect();
    if caption.chars().count() > 80 {
        short.push('…');
    }
    short
}

/// A group's line: a format in the breakdown, a hashtag.
pub struct GroupView<K> {
    pub key: K,
    pub posts: usize,
    pub median_rate: String,
    pub median_reach: String,
}

pub fn group_views<K>(groups: Vec<(K, Summary)>) -> Vec<GroupView<K>> {
    groups
        .into_iter()
        .map(|(key, s)| GroupView {
            key,
            posts: s.posts,
            median_rate: percent(s.median_rate),
            median_reach: count(s.median_reach.map(|r| r.round() as i64)),
        })
        .collect()
}

/// One account over a period: headline figures against the previous period, charts, the
/// top posts by impact and the content-type breakdown.
pub struct AccountPanel {
    pub id: AccountId,
    pub username: String,
    /// Sync and token health in a line ("active · last sync … · token expires in 40 days").
    pub health: String,
    pub health_warning: bool,
    /// The headline figures, to show and to add up with other accounts'.
    pub overview: OverviewView,
    pub figures: Overview,
    pub top: Vec<PostView>,
    pub bottom: Vec<PostView>,
    pub formats: Vec<GroupView<Format>>,
    pub charts: Vec<Chart>,
}

impl AccountPanel {
    /// `rows` are the posts the figures were computed from (for the top posts' lines).
    pub fn new(
        account: &Account,
        figures: AccountFigures,
        rows: &[PostRow],
        period: &Period,
        definition: EngagementDefinition,
        now: DateTime<Utc>,
    ) -> AccountPanel {
        let (token, token_warning) = token_expiry(account.token_expires_at, now);
        let listed = |ids: &[PostId]| -> Vec<PostView> {
            ids.iter()
                .filter_map(|id| rows.iter().find(|r| r.id == *id))
                .map(|r| PostView::new(r, definition, period.tz))
                .collect()
        };
        let (top, bottom) = (listed(&figures.top), listed(&figures.bottom));
        let mut overview = figures.overview;
        // Before the first sync recorded a count, the account's own figure stands in.
        overview.followers = overview.followers.or(account.followers_count);
        AccountPanel {
            id: account.id,
            username: account.username.clone(),
            health: format!(
                "{} · last sync {} · token {}",
                account.status,
                when_in(account.last_synced_at, period.tz),
                token
            ),
            health_warning: token_warning || account.status != AccountStatus::Active,
            overview: OverviewView::new(&overview, period, &account.id.to_string(), definition.formula())
                .with_csv(format!("account={}&{}", account.id, period.query())),
            figures: overview,
            top,
            bottom,
            formats: group_views(figures.formats),
            charts: figures
                .charts
                .into_iter()
                .map(|c| {
                    let href = format!("/export/chart.csv?chart={}&account={}&{}", c.id, account.id, period.query());
                    c.with_csv(href)
                })
                .collect(),
        }
    }
}

/// The dashboard for one period: all accounts as one, then side by side.
pub struct DashboardView {
    pub totals: Totals,
    /// Accounts whose token needs attention: re-connect, or expiring within a week.
    pub attention: Vec<AccountView>,
    /// Accounts not syncing (disabled, disconnected, or waiting to be connected again).
    pub not_syncing: usize,
    pub overview: OverviewView,
    /// Each account's panel, for the comparison table.
    pub panels: Vec<std::sync::Arc<AccountPanel>>,
    /// The best and the weakest posts of the period across accounts, by impact score.
    pub top: Vec<PostView>,
    pub bottom: Vec<PostView>,
    pub definition: &'static str,
    pub posts_text: String,
    pub snapshots_text: String,
}

impl DashboardView {
    /// Whether the status line must be loud: a token or an account needs the operator.
    pub fn needs_action(&self) -> bool {
        !self.attention.is_empty() || self.failed_sync().is_some()
    }

    /// The last sync, when it failed.
    pub fn failed_sync(&self) -> Option<&LastSync> {
        self.totals.last_sync.as_ref().filter(|s| s.outcome == SyncOutcome::Failed)
    }
}

/// One account's page for one period and post filter.
pub struct AccountPageView {
    pub footprint: Footprint,
    pub panel: std::sync::Arc<AccountPanel>,
    pub posts: Vec<PostView>,
}

/// A snapshot row as the post page's table shows it.
pub struct SnapshotView {
    pub at: String,
    pub age: String,
    pub reach: String,
    pub views: String,
    pub likes: String,
    pub comments: String,
    pub saved: String,
    pub shares: String,
    pub interactions: String,
}

/// One post's page.
pub struct PostPageView {
    pub post: PostView,
    /// Instagram's id of the post (to find the publication that made it).
    pub media_id: String,
    pub caption: Option<String>,
    pub permalink: Option<String>,
    pub hashtags: Vec<String>,
    pub insights_unavailable: Option<String>,
    pub impact: String,
    pub impact_note: String,
    pub rates: Vec<(String, String)>,
    pub definition: &'static str,
    pub charts: Vec<Chart>,
    pub snapshots: Vec<SnapshotView>,
    /// The format's own figures at the latest snapshot.
    pub details: Vec<Detail>,
}

/// A figure of a post beyond reach and interactions, with what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub label: &'static str,
    /// "–" when not measured.
    pub value: String,
    pub meaning: &'static str,
}

/// What the latest snapshot says about the format's own figures (graph-api.md §3's table:
/// watch time and skip rate on Reels, replies and taps on Stories, profile visits and follows
/// on feed posts and Stories, reposts on all).
pub fn post_details(format: Format, latest: Option<&crate::db::reports::DetailRow>) -> Vec<Detail> {
    let pick = |f: fn(&crate::db::reports::DetailRow) -> Option<i64>| count(latest.and_then(f));
    let seconds = |ms: Option<i64>| ms.map_or_else(|| "–".to_owned(), |ms| format!("{:.1} s", ms as f64 / 1000.0));
    let watched = |ms: Option<i64>| match ms {
        Some(ms) if ms >= 3_600_000 => format!("{} h", count(Some((ms as f64 / 3_600_000.0).round() as i64))),
        Some(ms) => format!("{} min", count(Some((ms as f64 / 60_000.0).round() as i64))),
        None => "–".to_owned(),
    };
    let detail = |label, value, meaning| Detail { label, value, meaning };
    let reposts = detail("reposts", pick(|d| d.reposts), "times people shared it to their own profile");
    let visits = detail("profile visits", pick(|d| d.profile_visits), "visits to the account's profile from it");
    let follows = detail("follows", pick(|d| d.follows), "accounts that followed from it");
    match format {
        Format::Reel => vec![
            detail("average watch time", seconds(latest.and_then(|d| d.avg_watch_time_ms)), "per play"),
            detail(
                "total watch time",
                watched(latest.and_then(|d| d.total_watch_time_ms)),
                "every play added up, replays included",
            ),
            // Meta, 2025-12-03 ("Instagram API Updates for Insights"): the share of views
            // skipped within the first 3 seconds.
            detail(
                "skip rate",
                latest.and_then(|d| d.skip_rate).map_or_else(|| "–".to_owned(), |r| format!("{r:.1} %")),
                "of views skipped within the first 3 seconds",
            ),
            reposts,
        ],
        Format::Story => vec![
            detail(
                "replies",
                pick(|d| d.replies),
                "messages sent in answer (always 0 for some EU and Japanese accounts)",
            ),
            detail("navigation", pick(|d| d.navigation), "taps forward, back, to the next account's story, and exits"),
            visits,
            follows,
            reposts,
        ],
        _ => vec![visits, follows, reposts],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_and_rates_read_with_their_sign() {
        assert_eq!(signed(Some(12)), "+12");
        assert_eq!(signed(Some(-3)), "−3");
        assert_eq!(signed(Some(0)), "0");
        assert_eq!(point_delta(Some(0.8)), "+0.80 pt");
        assert_eq!(point_delta(Some(-1.234)), "−1.23 pt");
        assert_eq!(percent(None), "–");
        assert_eq!(percent(Some(5.0)), "5.00 %");
    }
}
