//! Instagram accounts: list, connect, one account's page, sync now, disable/enable, delete.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use tracing::Instrument;

use super::analytics::{AccountPanel, PeriodNav, PostView, ViewQuery, encode};
use super::format::{count, token_expiry, when};
use super::posts::{Choice, filter_params};
use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::accounts::{self, ConnectError};
use crate::analytics::Format;
use crate::auth::{AdminUser, CsrfForm, CurrentUser};
use crate::db::accounts::{Account, AccountId, AccountStatus, Footprint};
use crate::db::reports::{self, PostFilter, Sort};
use crate::db::settings::OperatorSettings;
use crate::db::sync_runs::{self, RunListing, Trigger};
use crate::db::{posts, stats};
use crate::error::{AppError, AppResult};
use crate::graph::Flavour;
use crate::startup::AppState;
use crate::sync::{self, RunResult, Scope};

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
}

impl AccountView {
    pub fn new(account: &Account, posts: Option<i64>, now: chrono::DateTime<chrono::Utc>) -> Self {
        let (token, token_warning) = token_expiry(account.token_expires_at, now);
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
            last_sync: when(account.last_synced_at),
            token,
            token_warning,
            paused_until: account.paused_until.filter(|t| *t > now).map(|t| when(Some(t))),
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active
    }

    pub fn needs_reauth(&self) -> bool {
        self.status == AccountStatus::NeedsReauth
    }
}

#[derive(Template)]
#[template(path = "accounts/list.html")]
struct AccountsPage {
    page: PageContext,
    accounts: Vec<AccountView>,
    csrf_token: String,
    is_admin: bool,
    error: Option<String>,
    form_login: String,
}

/// What an account's page computes for one view (cached per data version).
pub struct AccountData {
    footprint: Footprint,
    panel: AccountPanel,
    posts: Vec<PostView>,
}

#[derive(Template)]
#[template(path = "accounts/show.html")]
struct AccountPage {
    page: PageContext,
    account: AccountView,
    runs: Vec<RunListing>,
    csrf_token: String,
    is_admin: bool,
    data: Arc<AccountData>,
    nav: PeriodNav,
    definition: &'static str,
    formats: Vec<Choice>,
    sorts: Vec<Choice>,
    /// This view's query string, for the CSV links.
    view: String,
}

#[derive(Template)]
#[template(path = "accounts/delete.html")]
struct DeleteAccountPage {
    page: PageContext,
    account: AccountView,
    footprint: Footprint,
    csrf_token: String,
}

#[derive(Debug, Deserialize)]
pub struct ConnectForm {
    token: String,
    #[serde(default)]
    login: String,
}

async fn accounts_page(
    state: &AppState,
    user: &CurrentUser,
    notice: Notice,
    status: StatusCode,
    error: Option<String>,
    form_login: String,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let now = state.sync.now();
    let counts = posts::count_by_account(&mut conn).await?;
    let accounts = Account::list(&mut conn)
        .await?
        .iter()
        .map(|a| AccountView::new(a, Some(counts.get(&a.id.0).copied().unwrap_or(0)), now))
        .collect();
    let page = AccountsPage {
        page: PageContext::new(user, notice, "accounts"),
        accounts,
        csrf_token: user.csrf_token.clone(),
        is_admin: user.is_admin(),
        error,
        form_login,
    };
    render(status, &page)
}

pub async fn list_accounts(user: CurrentUser, notice: Notice, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    accounts_page(&state, &user, notice, StatusCode::OK, None, String::new()).await
}

pub async fn connect_account(
    AdminUser(admin): AdminUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ConnectForm>,
) -> AppResult<HttpResponse> {
    let refuse = |message: String| {
        accounts_page(
            &state,
            &admin,
            Notice::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
            form.login.clone(),
        )
    };
    let flavour = match form.login.as_str() {
        "" | "auto" => None,
        other => match other.parse::<Flavour>() {
            Ok(flavour) => Some(flavour),
            Err(message) => return refuse(message).await,
        },
    };
    let mut conn = state.pool.get().await?;
    let sync = &state.sync;
    match accounts::connect(&mut conn, &sync.graph, &sync.key, &form.token, flavour, sync.now()).await {
        Ok(connected) => match connected.as_slice() {
            [one] => Ok(see_other(&format!("/accounts/{}?notice=connected", one.id))),
            _ => Ok(see_other("/accounts?notice=connected")),
        },
        Err(ConnectError::Database(err)) => Err(err.into()),
        Err(err) => {
            tracing::info!(reason = %err, "a token was refused at connect time");
            refuse(format!("Nothing was stored: {err}.")).await
        }
    }
}

async fn find(state: &AppState, id: i64) -> AppResult<Account> {
    let mut conn = state.pool.get().await?;
    Account::find(&mut conn, AccountId(id)).await?.ok_or(AppError::NotFound)
}

pub async fn show_account(
    user: CurrentUser,
    notice: Notice,
    path: web::Path<i64>,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let account = find(&state, path.into_inner()).await?;
    let mut conn = state.pool.get().await?;
    let runs = sync_runs::recent(&mut conn, Some(account.id), 10).await?;
    let settings = OperatorSettings::load(&mut conn).await?;
    let now = state.sync.now();
    let tz = settings.time_zone();
    let period = query.period(now, tz);
    let definition = settings.engagement();
    let version = stats::data_version(&mut conn).await?;
    let key = format!(
        "account:{}:{}:{}:{}:{}",
        account.id,
        period.first,
        period.last,
        query.format().map_or("", |f| f.key()),
        query.sort().key()
    );
    let data = state
        .cache
        .get_or_compute(key, version, async || -> AppResult<AccountData> {
            let footprint = Account::footprint(&mut conn, account.id).await?;
            let panel = AccountPanel::load(&mut conn, &account, &period, &settings, now).await?;
            let filter = PostFilter {
                account: Some(account.id),
                format: query.format(),
                from: Some(period.start()),
                until: Some(period.end()),
                sort: query.sort(),
                definition,
                ..PostFilter::default()
            };
            let posts = reports::posts(&mut conn, &filter).await?;
            Ok(AccountData {
                footprint,
                panel,
                posts: posts.iter().map(|r| PostView::new(r, definition, tz)).collect(),
            })
        })
        .await?;
    let mut keep = filter_params(&query);
    keep.retain(|(k, _)| *k != "account");
    let here = format!("/accounts/{}", account.id);
    let view = format!(
        "account={}&{}{}",
        account.id,
        period.query(),
        keep.iter().map(|(k, v)| format!("&{k}={}", encode(v))).collect::<String>()
    );
    let page = AccountPage {
        page: PageContext::new(&user, notice, "accounts"),
        account: AccountView::new(&account, Some(data.footprint.posts), now),
        runs,
        csrf_token: user.csrf_token.clone(),
        is_admin: user.is_admin(),
        data,
        nav: PeriodNav::new(&here, &period, &keep, now.with_timezone(&tz).date_naive()),
        definition: definition.formula(),
        formats: Format::ALL
            .into_iter()
            .map(|f| Choice { value: f.key().into(), label: f.to_string(), selected: query.format() == Some(f) })
            .collect(),
        sorts: Sort::ALL
            .into_iter()
            .map(|s| Choice { value: s.key().into(), label: s.key().into(), selected: s == query.sort() })
            .collect(),
        view,
    };
    render(StatusCode::OK, &page)
}

/// Starts a sync in the background (the sync page shows its progress). The job's log lines
/// carry the request's id.
pub fn start_sync(state: &AppState, scope: Scope) {
    let ctx = state.sync.clone();
    let span = tracing::info_span!("manual_sync", scope = ?scope);
    actix_web::rt::spawn(
        async move {
            match sync::run(&ctx, scope, Trigger::Manual).await {
                Ok(RunResult::Ran(summary)) => tracing::info!(%summary, "manual sync finished"),
                Ok(RunResult::Busy) => tracing::info!("manual sync skipped: another sync is running"),
                Err(err) => tracing::warn!(error = format!("{err:#}"), "manual sync failed"),
            }
        }
        .instrument(span),
    );
}

pub async fn sync_account(
    AdminUser(_): AdminUser,
    path: web::Path<i64>,
    state: web::Data<AppState>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let account = find(&state, path.into_inner()).await?;
    if account.status != AccountStatus::Active {
        return Err(AppError::BadRequest(format!(
            "@{} is {}: enable or re-connect it first.",
            account.username, account.status
        )));
    }
    start_sync(&state, Scope::Account(account.id));
    Ok(see_other("/sync?notice=sync-started"))
}

pub async fn disable_account(
    AdminUser(_): AdminUser,
    path: web::Path<i64>,
    state: web::Data<AppState>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    set_status(&state, path.into_inner(), AccountStatus::Disabled, "account-disabled").await
}

pub async fn enable_account(
    AdminUser(_): AdminUser,
    path: web::Path<i64>,
    state: web::Data<AppState>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    set_status(&state, path.into_inner(), AccountStatus::Active, "account-enabled").await
}

async fn set_status(state: &AppState, id: i64, status: AccountStatus, notice: &str) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    if !Account::set_status(&mut conn, AccountId(id), status, None).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(account_id = id, status = status.as_str(), "account status changed");
    Ok(see_other(&format!("/accounts/{id}?notice={notice}")))
}

pub async fn confirm_delete_account(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let account = find(&state, path.into_inner()).await?;
    let mut conn = state.pool.get().await?;
    let footprint = Account::footprint(&mut conn, account.id).await?;
    let page = DeleteAccountPage {
        page: PageContext::new(&admin, Notice::default(), "accounts"),
        account: AccountView::new(&account, Some(footprint.posts), state.sync.now()),
        footprint,
        csrf_token: admin.csrf_token.clone(),
    };
    render(StatusCode::OK, &page)
}

pub async fn delete_account(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    state: web::Data<AppState>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let id = AccountId(path.into_inner());
    let mut conn = state.pool.get().await?;
    if !Account::delete(&mut conn, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(account_id = id.0, by = admin.id.0, "account deleted with all its data");
    Ok(see_other("/accounts?notice=account-deleted"))
}
