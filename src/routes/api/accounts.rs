//! Accounts and their daily series.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiId, ApiQuery, NotFound, ReadProblems, TokenProblems, read};
use crate::db::accounts::Account;
use crate::domain::AccountId;
use crate::error::Problem;
use crate::services::Views;

/// The longest series one request returns.
pub const MAX_SERIES_DAYS: i64 = 400;
const DEFAULT_SERIES_DAYS: i64 = 30;

/// A connected Instagram account.
#[derive(Serialize, ToSchema)]
pub struct AccountRecord {
    /// Tidemark's id of the account.
    pub id: i64,
    pub username: String,
    pub name: Option<String>,
    /// How it is connected: `instagram` (Instagram Login) or `facebook` (Facebook Login).
    pub login: String,
    /// `active`, `disabled`, `needs_reauth` or `disconnected`.
    pub status: String,
    /// Why it is not active, when it is not.
    pub status_reason: Option<String>,
    /// Followers at the last sync.
    pub followers: Option<i64>,
    pub follows: Option<i64>,
    /// Posts on Instagram at the last sync.
    pub media_count: Option<i64>,
    /// Posts Tidemark tracks.
    pub tracked_posts: i64,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub token_expires_at: Option<DateTime<Utc>>,
}

impl AccountRecord {
    fn new(account: &Account, tracked_posts: i64) -> Self {
        AccountRecord {
            id: account.id.0,
            username: account.username.clone(),
            name: account.name.clone(),
            login: account.flavour.as_str().to_owned(),
            status: account.status.as_str().to_owned(),
            status_reason: account.status_reason.clone(),
            followers: account.followers_count,
            follows: account.follows_count,
            media_count: account.media_count,
            tracked_posts,
            last_synced_at: account.last_synced_at,
            token_expires_at: account.token_expires_at,
        }
    }
}

/// Every connected account, by username.
#[utoipa::path(
    get,
    path = "/api/v1/accounts",
    tag = "accounts",
    responses((status = 200, body = Vec<AccountRecord>), ReadProblems, TokenProblems)
)]
pub async fn list_accounts(req: HttpRequest, views: web::Data<Views>) -> Result<HttpResponse, Problem> {
    read(&req, &views, async |_| {
        let accounts = views.accounts_with_posts().await?;
        Ok(accounts.iter().map(|(account, posts)| AccountRecord::new(account, *posts)).collect::<Vec<_>>())
    })
    .await
}

/// One account.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{id}",
    tag = "accounts",
    params(("id" = i64, Path, description = "Tidemark's id of the account")),
    responses((status = 200, body = AccountRecord), ReadProblems, NotFound, TokenProblems)
)]
pub async fn show_account(req: HttpRequest, id: ApiId, views: web::Data<Views>) -> Result<HttpResponse, Problem> {
    read(&req, &views, async |_| {
        let accounts = views.accounts_with_posts().await?;
        let (account, posts) = accounts
            .iter()
            .find(|(a, _)| a.id == AccountId(id.0))
            .ok_or_else(|| Problem::not_found("There is no account with this id."))?;
        Ok(AccountRecord::new(account, *posts))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// First day (UTC, `YYYY-MM-DD`); by default 29 days before `to`.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last day (UTC, `YYYY-MM-DD`); by default today.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
}

/// One day of an account. A figure is `null` when it was not measured that day (a gap, not a
/// zero).
#[derive(Serialize, ToSchema)]
pub struct SeriesDay {
    /// The day (UTC, as Instagram counts its daily insights).
    pub day: NaiveDate,
    /// Followers at the day's last count.
    pub followers: Option<i64>,
    /// Accounts reached that day.
    pub reach: Option<i64>,
    pub views: Option<i64>,
    /// Likes, comments, saves, shares and replies that day.
    pub interactions: Option<i64>,
    pub profile_views: Option<i64>,
    pub link_taps: Option<i64>,
    /// Whether the day is over (today's figures are still growing).
    pub complete: bool,
}

/// An account's followers, reach, views and interactions per day.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{id}/series",
    tag = "accounts",
    params(("id" = i64, Path, description = "Tidemark's id of the account"), SeriesQuery),
    responses((status = 200, body = Vec<SeriesDay>), ReadProblems, NotFound, TokenProblems)
)]
pub async fn account_series(
    req: HttpRequest,
    id: ApiId,
    query: ApiQuery<SeriesQuery>,
    views: web::Data<Views>,
) -> Result<HttpResponse, Problem> {
    read(&req, &views, async |basis| {
        let account = AccountId(id.0);
        views.account(account).await?.ok_or_else(|| Problem::not_found("There is no account with this id."))?;
        let today = basis.now.date_naive();
        let last = query.0.to.unwrap_or(today);
        // Checked: a date at the calendar's end would overflow the arithmetic.
        let out_of_range = || Problem::bad_request("The dates are outside the range this API serves.");
        let first = match query.0.from {
            Some(first) => first,
            None => last.checked_sub_signed(Duration::days(DEFAULT_SERIES_DAYS - 1)).ok_or_else(out_of_range)?,
        };
        if first.checked_add_signed(Duration::days(MAX_SERIES_DAYS)).is_none() {
            return Err(out_of_range());
        }
        if first > last {
            return Err(Problem::bad_request("`from` is after `to`."));
        }
        if (last - first).num_days() >= MAX_SERIES_DAYS {
            return Err(Problem::bad_request(format!("Ask for at most {MAX_SERIES_DAYS} days at a time.")));
        }
        let days = views.account_series(account, first, last).await?;
        let records: Vec<SeriesDay> = days
            .into_iter()
            .map(|d| SeriesDay {
                day: d.day,
                followers: d.followers,
                reach: d.insights.as_ref().and_then(|i| i.reach),
                views: d.insights.as_ref().and_then(|i| i.views),
                interactions: d.insights.as_ref().and_then(|i| i.interactions),
                profile_views: d.insights.as_ref().and_then(|i| i.profile_views),
                link_taps: d.insights.as_ref().and_then(|i| i.link_taps),
                complete: d.day < today,
            })
            .collect();
        Ok(records)
    })
    .await
}
