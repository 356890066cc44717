//! Instagram accounts: list, connect, one account's page, sync now, disable/enable, delete.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;

use super::analytics::{PeriodNav, ViewQuery, query_tail};
use super::posts::{Choice, Sorting, filter_params, sort_label};
use super::{EmptyForm, Notice, PageContext, kept_pages, render, see_other};
use crate::analytics::Format;
use crate::auth::extract::ActiveSession;
use crate::auth::{AdminUser, CsrfForm, CurrentUser};
use crate::db::accounts::{Account, Footprint};
use crate::db::comments::ResponseStats;
use crate::db::reports::Sort;
use crate::db::shared_links::SharedLink;
use crate::db::sync_runs::RunListing;
use crate::domain::{AccountId, AccountStatus, Flavour};
use crate::error::{AppError, AppResult};
use crate::services::accounts::{ConnectError, Revocation, ShareSpan, StatusRefused};
use crate::services::inbox::Inbox;
use crate::services::sync::{Scope, SyncRefused};
use crate::services::views::audience::AudienceView;
use crate::services::views::models::{AccountPageView, AccountView};
use crate::services::{Accounts, Syncing, Views};

#[derive(Template)]
#[template(path = "accounts/list.html")]
struct AccountsPage {
    page: PageContext,
    accounts: Vec<AccountView>,
    /// Meta's dialogs set up on this Tidemark: (path part, label).
    dialogs: Vec<(&'static str, &'static str)>,
    csrf_token: String,
    is_admin: bool,
    error: Option<String>,
    form_login: String,
}

#[derive(Template)]
#[template(path = "accounts/show.html")]
struct AccountPage {
    page: PageContext,
    account: AccountView,
    runs: Vec<RunListing>,
    csrf_token: String,
    is_admin: bool,
    data: Arc<AccountPageView>,
    nav: PeriodNav,
    definition: &'static str,
    formats: Vec<Choice>,
    sorts: Vec<Choice>,
    sorting: Option<Sorting>,
    /// This view's query string, for the CSV links.
    view: String,
    responses: ResponseView,
    /// The operator's zone, for the sync runs' times.
    tz: chrono_tz::Tz,
    audience: Arc<AudienceView>,
    /// The table of the account's read-only links (admins only; HTML made per request).
    shares: String,
}

/// The account page's table of its read-only links.
#[derive(Template)]
#[template(path = "accounts/shares.html")]
struct ShareTable<'a> {
    account_id: i64,
    username: &'a str,
    shares: Vec<ShareRow>,
    csrf_token: &'a str,
}

/// A shared link as the account page lists it.
struct ShareRow {
    id: i64,
    label: String,
    shows: String,
    made: String,
    until: String,
    views: i64,
    last_viewed: String,
    /// Still working: it can be revoked.
    open: bool,
    /// "revoked" or "expired" when it no longer works.
    state: &'static str,
}

impl ShareRow {
    fn new(link: &SharedLink, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Self {
        let local = |at: DateTime<Utc>| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
        let shows = match (link.rolling_days, link.first_day, link.last_day) {
            (Some(days), _, _) => format!("the last {days} days"),
            (None, Some(first), Some(last)) => format!("{first} to {last}"),
            _ => String::new(),
        };
        let state = if link.revoked_at.is_some() {
            "revoked"
        } else if link.expires_at <= now {
            "expired"
        } else {
            ""
        };
        ShareRow {
            id: link.id,
            label: link.label.clone(),
            shows,
            made: local(link.created_at),
            until: local(link.expires_at),
            views: link.views,
            last_viewed: link.last_viewed_at.map_or_else(|| "never".to_owned(), local),
            open: state.is_empty(),
            state,
        }
    }
}

#[derive(Template)]
#[template(path = "accounts/share_created.html")]
struct ShareCreatedPage {
    page: PageContext,
    account_id: i64,
    username: String,
    url: String,
    what: String,
    expires: String,
}

/// The form that makes a shared link.
#[derive(Deserialize)]
pub struct ShareForm {
    /// `7`, `30` or `90` (the last N days at each view) or `period` (`from`–`to`).
    span: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// Days the link works.
    expires: String,
    #[serde(default)]
    label: String,
}

/// Lifetimes a link may be given, in days.
const SHARE_LIFETIMES: [i64; 4] = [7, 30, 90, 365];
/// Rolling spans a link may show, in days.
const SHARE_ROLLING: [u32; 3] = [7, 30, 90];
const SHARE_LABEL_CHARS: usize = 100;

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
    views: &Views,
    accounts_service: &Accounts,
    user: &CurrentUser,
    notice: Notice,
    status: StatusCode,
    error: Option<String>,
    form_login: String,
) -> AppResult<HttpResponse> {
    let basis = views.basis().await?;
    let (now, tz) = (basis.now, basis.tz());
    let accounts = views
        .accounts_with_posts()
        .await?
        .iter()
        .map(|(a, posts)| AccountView::new(a, Some(*posts), now, tz))
        .collect();
    let page = AccountsPage {
        page: PageContext::new(user, notice, "accounts"),
        accounts,
        dialogs: [(Flavour::Instagram, "Connect with Instagram"), (Flavour::Facebook, "Connect with Facebook")]
            .into_iter()
            .filter(|(flavour, _)| accounts_service.offers_dialog(*flavour))
            .map(|(flavour, label)| (flavour.as_str(), label))
            .collect(),
        csrf_token: user.csrf_token.clone(),
        is_admin: user.is_admin(),
        error,
        form_login,
    };
    render(status, &page)
}

pub async fn list_accounts(
    user: CurrentUser,
    notice: Notice,
    views: web::Data<Views>,
    accounts: web::Data<Accounts>,
) -> AppResult<HttpResponse> {
    accounts_page(&views, &accounts, &user, notice, StatusCode::OK, None, String::new()).await
}

pub async fn connect_account(
    AdminUser(admin): AdminUser,
    accounts: web::Data<Accounts>,
    views: web::Data<Views>,
    CsrfForm(form): CsrfForm<ConnectForm>,
) -> AppResult<HttpResponse> {
    let refuse = |message: String| {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        accounts_page(&views, &accounts, &admin, Notice::default(), status, Some(message), form.login.clone())
    };
    let flavour = match form.login.as_str() {
        "" | "auto" => None,
        other => match other.parse::<Flavour>() {
            Ok(flavour) => Some(flavour),
            Err(unknown) => return refuse(unknown.to_string()).await,
        },
    };
    match accounts.connect(&form.token, flavour).await {
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

async fn find(views: &Views, id: i64) -> AppResult<Account> {
    views.account(AccountId(id)).await?.ok_or(AppError::NotFound)
}

pub async fn show_account(
    req: HttpRequest,
    user: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<ViewQuery>,
    views: web::Data<Views>,
    inbox: web::Data<Inbox>,
    accounts: web::Data<Accounts>,
) -> AppResult<HttpResponse> {
    let id = AccountId(path.into_inner());
    // Everything on the page is the account's own (its runs, comments and figures): kept while
    // other accounts sync.
    let basis = super::basis(&req, &views).await?.of(id);
    let account = views.account_as_of(&basis, id).await?.ok_or(AppError::NotFound)?;
    let period = query.period(basis.now, basis.tz());
    let mut keep = filter_params(&query);
    // The account is in the path; the page has no caption search, so its links and CSV carry
    // none either.
    keep.retain(|(k, _)| *k != "account" && *k != "q");
    let here = format!("/accounts/{}", account.id);
    let view = format!("account={}&{}{}", account.id, period.query(), query_tail(&keep));
    // The read-only links change without the data (each view is counted): kept per their own
    // version, and their table made per request (it says "expires in 5 hours").
    let shares = if user.is_admin() {
        let version = req.extensions().get::<ActiveSession>().map_or(0, |s| s.shares_version);
        let shares = accounts
            .shares_as_of(account.id, version)
            .await?
            .iter()
            .map(|l| ShareRow::new(l, basis.now, basis.tz()))
            .collect();
        let table =
            ShareTable { account_id: account.id.0, username: &account.username, shares, csrf_token: &user.csrf_token };
        vec![table.render().map_err(|err| AppError::Internal(anyhow::Error::new(err)))?]
    } else {
        Vec::new()
    };
    let key = format!("account:{view}");
    kept_pages::serve(&req, &views, &basis, &user, "accounts", &key, shares, async |personal| {
        let runs = views.recent_runs(Some(account.id), 10).await?;
        let previous = period.previous();
        let responses = ResponseView::new(
            inbox.response_stats(account.id, period.start(), period.end().min(basis.now)).await?,
            inbox.response_stats(account.id, previous.start(), previous.end()).await?,
        );
        let data = views.account_page(&basis, &account, &period, query.format(), query.sort()).await?;
        Ok(AccountPage {
            page: personal.page,
            account: AccountView::new(&account, Some(data.footprint.posts), basis.now, basis.tz()),
            tz: basis.tz(),
            runs,
            csrf_token: personal.csrf_token,
            is_admin: user.is_admin(),
            data,
            nav: PeriodNav::new(&here, &period, &keep, basis.today()),
            definition: basis.definition().formula(),
            formats: Format::ALL
                .into_iter()
                .map(|f| Choice { value: f.key().into(), label: f.to_string(), selected: query.format() == Some(f) })
                .collect(),
            sorts: Sort::ALL
                .into_iter()
                .map(|s| Choice { value: s.key().into(), label: sort_label(s).into(), selected: s == query.sort() })
                .collect(),
            sorting: Some(Sorting::new(&here, &period, &keep, query.sort(), "#posts")),
            view: view.clone(),
            responses,
            audience: views.audience(&basis, &account).await?,
            shares: personal.fragments.into_iter().next().unwrap_or_default(),
        })
    })
    .await
}

/// How the account answered comments in the period, against the previous one.
pub struct ResponseView {
    pub received: i64,
    pub received_before: i64,
    pub threads: i64,
    pub answered: i64,
    /// "63 %", or empty without threads.
    pub answered_share: String,
    pub answered_share_before: String,
    /// "2 h 10 min", or empty when nothing was answered.
    pub median_reply: String,
    pub median_reply_before: String,
}

impl ResponseView {
    fn new(now: ResponseStats, before: ResponseStats) -> Self {
        let share = |s: &ResponseStats| {
            if s.threads == 0 {
                String::new()
            } else {
                format!("{:.0} %", 100.0 * s.answered as f64 / s.threads as f64)
            }
        };
        let median = |s: &ResponseStats| s.median_reply_seconds.map(reply_time).unwrap_or_default();
        Self {
            received: now.received,
            received_before: before.received,
            threads: now.threads,
            answered: now.answered,
            answered_share: share(&now),
            answered_share_before: share(&before),
            median_reply: median(&now),
            median_reply_before: median(&before),
        }
    }
}

/// A reply time in plain words: "40 s", "12 min", "3 h 5 min", "2 d 4 h".
fn reply_time(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as i64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

pub async fn sync_account(
    AdminUser(_): AdminUser,
    path: web::Path<i64>,
    syncing: web::Data<Syncing>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    match syncing.start(Scope::Account(AccountId(path.into_inner()))).await {
        Ok(()) => Ok(see_other("/sync?notice=sync-started")),
        Err(SyncRefused::NoAccount) => Err(AppError::NotFound),
        Err(SyncRefused::Database(err)) => Err(err.into()),
        Err(refused) => Err(AppError::BadRequest(format!("Not synced: {refused}."))),
    }
}

pub async fn disable_account(
    AdminUser(_): AdminUser,
    path: web::Path<i64>,
    accounts: web::Data<Accounts>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    set_status(&accounts, path.into_inner(), AccountStatus::Disabled, "account-disabled").await
}

pub async fn enable_account(
    AdminUser(_): AdminUser,
    path: web::Path<i64>,
    accounts: web::Data<Accounts>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    set_status(&accounts, path.into_inner(), AccountStatus::Active, "account-enabled").await
}

async fn set_status(accounts: &Accounts, id: i64, status: AccountStatus, notice: &str) -> AppResult<HttpResponse> {
    match accounts.set_status(AccountId(id), status).await {
        Ok(()) => Ok(see_other(&format!("/accounts/{id}?notice={notice}"))),
        Err(StatusRefused::NotFound) => Err(AppError::NotFound),
        Err(StatusRefused::Database(err)) => Err(err.into()),
        Err(refused @ StatusRefused::NoToken(_)) => Err(AppError::Conflict(format!("Not enabled: {refused}."))),
    }
}

pub async fn disconnect_account(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    accounts: web::Data<Accounts>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let id = AccountId(path.into_inner());
    let reason = format!("Disconnected by an admin on {}.", accounts.now().format("%Y-%m-%d %H:%M UTC"));
    let notice = match accounts.disconnect(id, &reason).await?.ok_or(AppError::NotFound)? {
        Revocation::Revoked => "disconnected-revoked",
        Revocation::NotOffered => "disconnected-instagram",
        Revocation::NoToken => "disconnected",
        Revocation::Failed => "disconnected-not-revoked",
    };
    tracing::info!(account_id = id.0, by = admin.id.0, "account disconnected by an admin");
    Ok(see_other(&format!("/accounts/{id}?notice={notice}")))
}

pub async fn confirm_delete_account(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let account = find(&views, path.into_inner()).await?;
    let footprint = views.footprint(account.id).await?;
    let page = DeleteAccountPage {
        page: PageContext::new(&admin, Notice::default(), "accounts"),
        account: AccountView::new(&account, Some(footprint.posts), views.now(), views.basis().await?.tz()),
        footprint,
        csrf_token: admin.csrf_token.clone(),
    };
    render(StatusCode::OK, &page)
}

pub async fn delete_account(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    accounts: web::Data<Accounts>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let id = AccountId(path.into_inner());
    if !accounts.delete(id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(account_id = id.0, by = admin.id.0, "account deleted by an admin");
    Ok(see_other("/accounts?notice=account-deleted"))
}

/// Makes a read-only link to the account's overview and shows it, once.
pub async fn create_share(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    accounts: web::Data<Accounts>,
    views: web::Data<Views>,
    notice: Notice,
    CsrfForm(form): CsrfForm<ShareForm>,
) -> AppResult<HttpResponse> {
    let account = find(&views, path.into_inner()).await?;
    let span = match form.span.as_str() {
        "period" => {
            let day = |text: &str| NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
            match (day(&form.from), day(&form.to)) {
                (Some(first), Some(last)) if first <= last && (last - first).num_days() < 366 => {
                    ShareSpan::Fixed(first, last)
                }
                _ => {
                    return Err(AppError::BadRequest(
                        "The period to share must be two dates, at most a year apart.".into(),
                    ));
                }
            }
        }
        days => match days.parse::<u32>() {
            Ok(days) if SHARE_ROLLING.contains(&days) => ShareSpan::Rolling(days),
            _ => {
                return Err(AppError::BadRequest(
                    "Choose what the link shows: 7, 30 or 90 days, or this page's period.".into(),
                ));
            }
        },
    };
    let lifetime = form
        .expires
        .parse::<i64>()
        .ok()
        .filter(|d| SHARE_LIFETIMES.contains(d))
        .ok_or_else(|| AppError::BadRequest("Choose how long the link works: 7, 30, 90 or 365 days.".into()))?;
    let label: String = form.label.trim().chars().filter(|c| !c.is_control()).collect();
    if label.chars().count() > SHARE_LABEL_CHARS {
        return Err(AppError::BadRequest(format!("Who the link is for: at most {SHARE_LABEL_CHARS} characters.")));
    }
    let share = accounts.share(account.id, span, &label, Duration::days(lifetime), admin.id).await?;
    let basis = views.basis().await?;
    let what = match span {
        ShareSpan::Rolling(days) => format!("the last {days} days, always current"),
        ShareSpan::Fixed(first, last) => format!("{first} to {last}"),
    };
    let page = ShareCreatedPage {
        page: PageContext::new(&admin, notice, "accounts"),
        account_id: account.id.0,
        username: account.username.clone(),
        url: share.url,
        what,
        expires: share.expires_at.with_timezone(&basis.tz()).format("%Y-%m-%d %H:%M %Z").to_string(),
    };
    render(StatusCode::OK, &page)
}

/// Ends a shared link at once.
pub async fn revoke_share(
    AdminUser(_): AdminUser,
    path: web::Path<(i64, i64)>,
    accounts: web::Data<Accounts>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let (account, link) = path.into_inner();
    if !accounts.revoke_share(AccountId(account), link).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other(&format!("/accounts/{account}?notice=share-revoked#sharing")))
}
