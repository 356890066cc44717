//! HTTP routes: one module per feature, each page's template struct beside its handler.

pub mod accounts;
pub mod analytics;
pub mod assets;
pub mod auth;
pub mod charts;
pub mod dashboard;
pub mod export;
pub mod format;
pub mod health;
pub mod insights;
pub mod me;
pub mod posts;
pub mod settings;
pub mod sync;
pub mod users;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};

/// Who may use a route. Kept beside [`configure`] so the access tests can walk every route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Anyone,
    SignedIn,
    Admin,
}

#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const fn route(method: &'static str, path: &'static str, access: Access) -> RouteSpec {
    RouteSpec { method, path, access }
}

/// Every route the application serves. `configure` must register exactly these.
pub const ROUTE_TABLE: &[RouteSpec] = &[
    route("GET", "/healthz", Access::Anyone),
    route("GET", "/readyz", Access::Anyone),
    route("GET", "/metrics", Access::Anyone),
    route("GET", "/static/app.css", Access::Anyone),
    route("GET", "/login", Access::Anyone),
    route("POST", "/login", Access::Anyone),
    route("POST", "/logout", Access::SignedIn),
    route("GET", "/", Access::SignedIn),
    route("GET", "/me", Access::SignedIn),
    route("POST", "/me/password", Access::SignedIn),
    route("POST", "/me/sign-out-everywhere", Access::SignedIn),
    route("GET", "/accounts", Access::SignedIn),
    route("POST", "/accounts", Access::Admin),
    route("GET", "/accounts/{id}", Access::SignedIn),
    route("POST", "/accounts/{id}/sync", Access::Admin),
    route("POST", "/accounts/{id}/disable", Access::Admin),
    route("POST", "/accounts/{id}/enable", Access::Admin),
    route("GET", "/accounts/{id}/delete", Access::Admin),
    route("POST", "/accounts/{id}/delete", Access::Admin),
    route("GET", "/posts", Access::SignedIn),
    route("GET", "/posts/{id}", Access::SignedIn),
    route("GET", "/hashtags", Access::SignedIn),
    route("GET", "/best-time", Access::SignedIn),
    route("GET", "/export/posts.csv", Access::SignedIn),
    route("GET", "/export/snapshots.csv", Access::SignedIn),
    route("GET", "/export/chart.csv", Access::SignedIn),
    route("GET", "/export/hashtags.csv", Access::SignedIn),
    route("GET", "/export/best-time.csv", Access::SignedIn),
    route("GET", "/sync", Access::SignedIn),
    route("POST", "/sync", Access::Admin),
    route("GET", "/settings", Access::Admin),
    route("POST", "/settings", Access::Admin),
    route("GET", "/users", Access::Admin),
    route("POST", "/users", Access::Admin),
    route("POST", "/users/{id}/role", Access::Admin),
    route("POST", "/users/{id}/password", Access::Admin),
    route("GET", "/users/{id}/delete", Access::Admin),
    route("POST", "/users/{id}/delete", Access::Admin),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics))
        .route("/static/{file:.*}", web::get().to(assets::asset))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/", web::get().to(dashboard::dashboard))
        .route("/me", web::get().to(me::me_page))
        .route("/me/password", web::post().to(me::change_password))
        .route("/me/sign-out-everywhere", web::post().to(me::sign_out_everywhere))
        .route("/accounts", web::get().to(accounts::list_accounts))
        .route("/accounts", web::post().to(accounts::connect_account))
        .route("/accounts/{id}", web::get().to(accounts::show_account))
        .route("/accounts/{id}/sync", web::post().to(accounts::sync_account))
        .route("/accounts/{id}/disable", web::post().to(accounts::disable_account))
        .route("/accounts/{id}/enable", web::post().to(accounts::enable_account))
        .route("/accounts/{id}/delete", web::get().to(accounts::confirm_delete_account))
        .route("/accounts/{id}/delete", web::post().to(accounts::delete_account))
        .route("/posts", web::get().to(posts::list_posts))
        .route("/posts/{id}", web::get().to(posts::show_post))
        .route("/hashtags", web::get().to(insights::hashtags))
        .route("/best-time", web::get().to(insights::best_time))
        .route("/export/posts.csv", web::get().to(export::posts_csv))
        .route("/export/snapshots.csv", web::get().to(export::snapshots_csv))
        .route("/export/chart.csv", web::get().to(export::chart_csv))
        .route("/export/hashtags.csv", web::get().to(export::hashtags_csv))
        .route("/export/best-time.csv", web::get().to(export::best_time_csv))
        .route("/sync", web::get().to(sync::sync_history))
        .route("/sync", web::post().to(sync::sync_all))
        .route("/settings", web::get().to(settings::settings_form))
        .route("/settings", web::post().to(settings::save_settings))
        .route("/users", web::get().to(users::list_users))
        .route("/users", web::post().to(users::create_user))
        .route("/users/{id}/role", web::post().to(users::change_role))
        .route("/users/{id}/password", web::post().to(users::reset_password))
        .route("/users/{id}/delete", web::get().to(users::confirm_delete_user))
        .route("/users/{id}/delete", web::post().to(users::delete_user));
}

/// What the shared layout needs on every page.
pub struct PageContext {
    pub user: Option<CurrentUser>,
    /// Say on the page that it shows demo data.
    pub demo: bool,
    pub notice: Option<&'static str>,
    /// Which navigation entry is current.
    pub section: &'static str,
}

impl PageContext {
    pub fn new(user: &CurrentUser, notice: Notice, section: &'static str) -> Self {
        Self { user: Some(user.clone()), demo: user.demo, notice: notice.0, section }
    }

    pub fn anonymous(notice: Notice, demo: bool) -> Self {
        Self { user: None, demo, notice: notice.0, section: "" }
    }
}

/// A one-time message after a redirect, named by a fixed code in the `notice` query
/// parameter (fixed texts only: nothing from the URL reaches the page).
#[derive(Debug, Clone, Copy, Default)]
pub struct Notice(pub Option<&'static str>);

impl Notice {
    fn from_code(code: &str) -> Option<&'static str> {
        Some(match code {
            "signed-out" => "You are signed out.",
            "signed-out-everywhere" => "Every session of yours has ended. Sign in again to continue.",
            "password-changed" => "Your password is changed; your other sessions have ended.",
            "user-created" => "The user is added. Give them their password through a safe channel.",
            "role-changed" => "The role is changed; that user's sessions have ended.",
            "password-set" => "The new password is set; that user's sessions have ended.",
            "user-deleted" => "The user is deleted.",
            "connected" => "The account is connected. Its first sync runs on the next tick, or now with Sync now.",
            "account-disabled" => "The account is disabled: it is not synced, and its data stays.",
            "account-enabled" => "The account is enabled: it is synced again from the next tick.",
            "account-deleted" => "The account and everything that belonged to it are deleted.",
            "sync-started" => "A sync has started; this page follows it.",
            "settings-saved" => "The settings are saved.",
            _ => return None,
        })
    }
}

impl FromRequest for Notice {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let notice = url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(name, _)| name == "notice")
            .and_then(|(_, code)| Notice::from_code(&code));
        ready(Ok(Notice(notice)))
    }
}

pub fn render(status: StatusCode, page: &impl Template) -> AppResult<HttpResponse> {
    let body =
        page.render().map_err(|err| AppError::Internal(anyhow::Error::new(err).context("rendering a page failed")))?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body))
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// Forms that carry nothing but their CSRF token.
#[derive(Debug, serde::Deserialize)]
pub struct EmptyForm {}
