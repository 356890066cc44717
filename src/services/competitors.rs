//! Competitors: the accounts an operator compares theirs with, tracked by username, and the
//! comparison itself (the sync reads them: `sync::competitors`).

use std::collections::HashMap;

use chrono::Duration;

use crate::analytics::Format;
use crate::analytics::competitors::{Compared, PublicPost, PublicRecord, compare};
use crate::db::accounts::Account;
use crate::db::competitors::{self, Competitor};
use crate::db::reports::{self, PostFilter};
use crate::db::{self, DbError, account_history};
use crate::domain::{AccountStatus, Clock, CompetitorId, Flavour, UserId};

/// The period the comparison covers.
pub const PERIOD_DAYS: i64 = 30;
/// How many competitors can be tracked: each is read daily against the platform's limits.
pub const MAX_COMPETITORS: usize = 50;

/// Why a competitor was not added.
#[derive(Debug, thiserror::Error)]
pub enum AddRefused {
    #[error("An Instagram username is 1 to 30 letters, digits, periods and underscores.")]
    Username,
    #[error("@{0} is tracked already.")]
    Tracked(String),
    #[error("At most {MAX_COMPETITORS} competitors are tracked: remove one first.")]
    TooMany,
    #[error("@{0} is one of your own accounts.")]
    Own(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One row of the comparison.
pub struct Side {
    pub username: String,
    pub name: Option<String>,
    /// One of the operator's accounts.
    pub own: bool,
    pub compared: Compared,
    /// A competitor's state and last problem; `None` for an own account.
    pub competitor: Option<Competitor>,
}

/// The comparison page's content.
pub struct Comparison {
    pub sides: Vec<Side>,
    /// Whether an active account on Facebook Login can ask Business Discovery.
    pub can_read: bool,
}

pub struct Competitors {
    pool: db::Pool,
    clock: Clock,
}

impl Competitors {
    pub fn new(pool: db::Pool, clock: Clock) -> Self {
        Self { pool, clock }
    }

    /// Starts tracking `username` (with or without its @); it is read at the next sync.
    pub async fn add(&self, username: &str, by: UserId) -> Result<CompetitorId, AddRefused> {
        let username = username.trim().trim_start_matches('@').to_lowercase();
        if !crate::graph::discovery::is_username(&username) {
            return Err(AddRefused::Username);
        }
        let mut conn = self.pool.get().await.map_err(DbError::from)?;
        if Account::list(&mut conn)
            .await
            .map_err(DbError::from)?
            .iter()
            .any(|a| a.username.eq_ignore_ascii_case(&username))
        {
            return Err(AddRefused::Own(username));
        }
        if competitors::all(&mut conn).await.map_err(DbError::from)?.len() >= MAX_COMPETITORS {
            return Err(AddRefused::TooMany);
        }
        let now = (self.clock)();
        competitors::add(&mut conn, &username, Some(by), now)
            .await
            .map_err(DbError::from)?
            .ok_or(AddRefused::Tracked(username))
    }

    /// Stops tracking a competitor and deletes what was read of it; false when there was none.
    pub async fn remove(&self, id: CompetitorId) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(competitors::remove(&mut conn, id).await?)
    }

    /// The operator's active accounts, then the competitors, over the last [`PERIOD_DAYS`].
    pub async fn comparison(&self) -> Result<Comparison, DbError> {
        let now = (self.clock)();
        let start = now - Duration::days(PERIOD_DAYS);
        let mut conn = self.pool.get().await?;
        let accounts: Vec<Account> =
            Account::list(&mut conn).await?.into_iter().filter(|a| a.status != AccountStatus::Disconnected).collect();
        let can_read = accounts.iter().any(|a| a.flavour == Flavour::Facebook && a.status == AccountStatus::Active);
        let filter = PostFilter { from: Some(start), ..PostFilter::default() };
        let own_posts = reports::posts(&mut conn, &filter).await?;
        let mut sides = Vec::new();
        for account in &accounts {
            let points = account_history::follower_points(&mut conn, account.id, Some(start)).await?;
            let posts = own_posts
                .iter()
                // Stories are not public figures: a competitor's are never read.
                .filter(|p| p.account_id == account.id && p.format() != Format::Story)
                .map(|p| PublicPost {
                    posted_at: p.posted_at,
                    format: p.format(),
                    likes: p.likes,
                    comments: p.comments,
                })
                .collect();
            let record = PublicRecord {
                followers: account.followers_count,
                followers_before: points.first().map(|p| p.1),
                posts,
            };
            sides.push(Side {
                username: account.username.clone(),
                name: account.name.clone(),
                own: true,
                compared: compare(&record, now, PERIOD_DAYS),
                competitor: None,
            });
        }
        let tracked = competitors::all(&mut conn).await?;
        let mut first_count: HashMap<CompetitorId, Option<i64>> = HashMap::new();
        for (id, _, followers) in competitors::days_since(&mut conn, start.date_naive()).await? {
            first_count.entry(id).or_insert(followers);
        }
        let mut their_posts: HashMap<CompetitorId, Vec<PublicPost>> = HashMap::new();
        for post in competitors::posts_since(&mut conn, start).await? {
            let format = Format::of(post.media_product_type.as_deref(), post.media_type.as_deref().unwrap_or("IMAGE"));
            their_posts.entry(post.competitor_id).or_default().push(PublicPost {
                posted_at: post.posted_at,
                format,
                likes: post.like_count,
                comments: post.comments_count,
            });
        }
        for competitor in tracked {
            let record = PublicRecord {
                followers: competitor.followers_count,
                followers_before: first_count.get(&competitor.id).copied().flatten(),
                posts: their_posts.remove(&competitor.id).unwrap_or_default(),
            };
            sides.push(Side {
                username: competitor.username.clone(),
                name: competitor.name.clone(),
                own: false,
                compared: compare(&record, now, PERIOD_DAYS),
                competitor: Some(competitor),
            });
        }
        Ok(Comparison { sides, can_read })
    }
}
