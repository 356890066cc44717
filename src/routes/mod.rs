//! HTTP routes: one module per feature, each page's template struct beside its handler,
//! and the route table that declares every route with its access rule and CSRF check.

pub mod accounts;
pub mod alerts;
pub mod analytics;
pub mod api;
pub mod assets;
pub mod auth;
pub mod competitors;
pub mod connect;
pub mod dashboard;
pub mod data;
pub mod definitions;
pub mod export;
pub mod health;
pub mod inbox;
pub mod insights;
pub mod kept_pages;
pub mod me;
pub mod media;
pub mod meta;
pub mod planner;
pub mod posts;
pub mod privacy;
pub mod reports;
pub mod settings;
pub mod shared;
pub mod sync;
pub mod users;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::from_fn;
use actix_web::{FromRequest, HttpRequest, HttpResponse, guard, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::auth::access::enforce;
pub use crate::auth::{Access, CsrfCheck};
use crate::error::{AppError, AppResult};

/// One route: method, path pattern, who may use it, what it expects of the CSRF check.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub csrf: CsrfCheck,
}

/// Declares every route once: the list the tests walk ([`ROUTE_TABLE`]) and the actix
/// configuration ([`configure`]) both come from it, and each route is registered behind
/// the access and CSRF checks it declares.
macro_rules! route_table {
    ($($method:ident $path:literal => $handler:path, $access:ident, $csrf:ident;)+) => {
        /// Every route the application serves.
        pub const ROUTE_TABLE: &[RouteSpec] = &[
            $(RouteSpec {
                method: stringify!($method),
                path: $path,
                access: Access::$access,
                csrf: CsrfCheck::$csrf,
            },)+
        ];

        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(cfg.service(
                web::resource($path)
                    .guard(guard::Method(Method::$method))
                    .route(web::route().to($handler))
                    .wrap(from_fn(|req, next| enforce(Access::$access, CsrfCheck::$csrf, req, next))),
            );)+
        }
    };
}

route_table! {
    GET "/healthz" => health::healthz, Anyone, Safe;
    POST "/meta/deauthorize" => meta::deauthorize, Anyone, MetaSignature;
    POST "/meta/data-deletion" => meta::data_deletion, Anyone, MetaSignature;
    GET "/meta/data-deletion/{code}" => meta::deletion_status, Anyone, Safe;
    GET "/meta/webhooks" => meta::webhook_subscription, Anyone, Safe;
    POST "/meta/webhooks" => meta::webhook_delivery, Anyone, MetaSignature;
    GET "/readyz" => health::readyz, Anyone, Safe;
    GET "/metrics" => health::metrics, Anyone, Safe;
    GET "/static/{file:.*}" => assets::asset, Anyone, Safe;
    GET "/favicon.ico" => assets::favicon, Anyone, Safe;
    GET "/media/{name}" => media::media_file, Anyone, Safe;
    GET "/privacy" => privacy::privacy, Anyone, Safe;
    GET "/shared/{token}" => shared::shared_overview, Anyone, Safe;
    GET "/definitions" => definitions::definitions, SignedIn, Safe;
    GET "/api/v1/openapi.json" => api::openapi, ApiRead, Safe;
    GET "/api/v1/accounts" => api::accounts::list_accounts, ApiRead, Safe;
    GET "/api/v1/accounts/{id}" => api::accounts::show_account, ApiRead, Safe;
    GET "/api/v1/accounts/{id}/series" => api::accounts::account_series, ApiRead, Safe;
    GET "/api/v1/posts" => api::posts::list_posts, ApiRead, Safe;
    GET "/api/v1/posts/{id}" => api::posts::show_post, ApiRead, Safe;
    GET "/api/v1/hashtags" => api::insights::hashtags, ApiRead, Safe;
    GET "/api/v1/best-time" => api::insights::best_time, ApiRead, Safe;
    GET "/api/v1/comments" => api::inbox::list_comments, ApiRead, Safe;
    GET "/api/v1/publications" => api::publications::list_publications, ApiRead, Safe;
    GET "/api/v1/publications/{id}" => api::publications::show_publication, ApiRead, Safe;
    POST "/api/v1/publications" => api::publications::create_publication, ApiWrite, Bearer;
    POST "/api/v1/publications/{id}/cancel" => api::publications::cancel_publication, ApiWrite, Bearer;
    GET "/login" => auth::login_form, Anyone, Safe;
    POST "/login" => auth::login, Anyone, Form;
    GET "/login/code" => auth::code_form, Anyone, Safe;
    POST "/login/code" => auth::submit_code, Anyone, Form;
    POST "/logout" => auth::logout, OwnAccount, Form;
    GET "/" => dashboard::dashboard, SignedIn, Safe;
    GET "/me" => me::me_page, OwnAccount, Safe;
    POST "/me/password" => me::change_password, OwnAccount, Form;
    POST "/me/sign-out-everywhere" => me::sign_out_everywhere, OwnAccount, Form;
    POST "/me/sessions/{session}/end" => me::end_session, OwnAccount, Form;
    POST "/me/second-factor" => me::confirm_second_factor, OwnAccount, Form;
    POST "/me/second-factor/replace" => me::replace_authenticator, OwnAccount, Form;
    POST "/me/second-factor/recovery-codes" => me::new_recovery_codes, OwnAccount, Form;
    POST "/me/second-factor/off" => me::turn_off_second_factor, OwnAccount, Form;
    GET "/accounts" => accounts::list_accounts, SignedIn, Safe;
    POST "/accounts" => accounts::connect_account, Admin, Form;
    GET "/accounts/connect/instagram" => connect::connect_instagram, Admin, Safe;
    GET "/accounts/connect/facebook" => connect::connect_facebook, Admin, Safe;
    GET "/accounts/connect/instagram/callback" => connect::instagram_callback, Admin, OAuthState;
    GET "/accounts/connect/facebook/callback" => connect::facebook_callback, Admin, OAuthState;
    GET "/accounts/connect/facebook/choose" => connect::choose_form, Admin, Safe;
    POST "/accounts/connect/facebook/choose" => connect::choose, Admin, Form;
    GET "/accounts/{id}" => accounts::show_account, SignedIn, Safe;
    POST "/accounts/{id}/sync" => accounts::sync_account, Admin, Form;
    POST "/accounts/{id}/disable" => accounts::disable_account, Admin, Form;
    POST "/accounts/{id}/enable" => accounts::enable_account, Admin, Form;
    POST "/accounts/{id}/disconnect" => accounts::disconnect_account, Admin, Form;
    GET "/accounts/{id}/delete" => accounts::confirm_delete_account, Admin, Safe;
    POST "/accounts/{id}/delete" => accounts::delete_account, Admin, Form;
    POST "/accounts/{id}/shares" => accounts::create_share, Admin, Form;
    POST "/accounts/{id}/shares/{link}/revoke" => accounts::revoke_share, Admin, Form;
    GET "/posts" => posts::list_posts, SignedIn, Safe;
    GET "/posts/{id}" => posts::show_post, SignedIn, Safe;
    GET "/posts/{id}/picture" => posts::post_picture, SignedIn, Safe;
    GET "/hashtags" => insights::hashtags, SignedIn, Safe;
    GET "/best-time" => insights::best_time, SignedIn, Safe;
    GET "/export/posts.csv" => export::posts_csv, SignedIn, Safe;
    GET "/export/snapshots.csv" => export::snapshots_csv, SignedIn, Safe;
    GET "/export/chart.csv" => export::chart_csv, SignedIn, Safe;
    GET "/export/hashtags.csv" => export::hashtags_csv, SignedIn, Safe;
    GET "/export/best-time.csv" => export::best_time_csv, SignedIn, Safe;
    GET "/export/archive.zip" => export::archive_zip, Admin, Safe;
    GET "/accounts/{id}/archive.zip" => export::account_archive_zip, Admin, Safe;
    GET "/inbox" => inbox::inbox, SignedIn, Safe;
    POST "/inbox/{comment_id}/reply" => inbox::reply, Admin, Form;
    POST "/inbox/{comment_id}/hide" => inbox::hide, Admin, Form;
    POST "/inbox/{comment_id}/unhide" => inbox::unhide, Admin, Form;
    POST "/inbox/{comment_id}/delete" => inbox::delete, Admin, Form;
    POST "/inbox/{comment_id}/flag" => inbox::flag, Admin, Form;
    POST "/inbox/{comment_id}/unflag" => inbox::unflag, Admin, Form;
    POST "/inbox/actions/{id}/undo" => inbox::undo, Admin, Form;
    POST "/inbox/mentions/{comment_id}/reply" => inbox::reply_to_mention, Admin, Form;
    GET "/inbox/rules" => inbox::rules, SignedIn, Safe;
    POST "/inbox/saved-replies" => inbox::add_saved_reply, Admin, Form;
    POST "/inbox/saved-replies/{id}/delete" => inbox::delete_saved_reply, Admin, Form;
    POST "/inbox/rules" => inbox::add_rule, Admin, Form;
    GET "/inbox/rules/{id}" => inbox::show_rule, SignedIn, Safe;
    POST "/inbox/rules/{id}/enable" => inbox::enable_rule, Admin, Form;
    POST "/inbox/rules/{id}/disable" => inbox::disable_rule, Admin, Form;
    POST "/inbox/rules/{id}/delete" => inbox::delete_rule, Admin, Form;
    GET "/planner" => planner::planner, SignedIn, Safe;
    GET "/planner/new" => planner::compose_form, Admin, Safe;
    POST "/planner" => planner::create_publication, Admin, Upload;
    GET "/planner/{id}" => planner::show_publication, SignedIn, Safe;
    POST "/planner/{id}/schedule" => planner::reschedule_publication, Admin, Form;
    POST "/planner/{id}/cancel" => planner::cancel_publication, Admin, Form;
    GET "/competitors" => competitors::competitors_page, SignedIn, Safe;
    POST "/competitors" => competitors::add_competitor, Admin, Form;
    POST "/competitors/{id}/delete" => competitors::remove_competitor, Admin, Form;
    GET "/alerts" => alerts::alerts_page, SignedIn, Safe;
    POST "/alerts/rules" => alerts::add_rule, Admin, Form;
    POST "/alerts/rules/{id}/enable" => alerts::enable_rule, Admin, Form;
    POST "/alerts/rules/{id}/disable" => alerts::disable_rule, Admin, Form;
    POST "/alerts/rules/{id}/delete" => alerts::delete_rule, Admin, Form;
    GET "/reports" => reports::reports_page, SignedIn, Safe;
    GET "/reports/preview" => reports::preview_report, SignedIn, Safe;
    GET "/reports/preview.pdf" => reports::preview_pdf, SignedIn, Safe;
    GET "/reports/{id}" => reports::show_report, SignedIn, Safe;
    GET "/reports/{id}/pdf" => reports::report_pdf, SignedIn, Safe;
    GET "/sync" => sync::sync_history, SignedIn, Safe;
    POST "/sync" => sync::sync_all, Admin, Form;
    GET "/data" => data::data_page, Admin, Safe;
    POST "/data/delete-everything" => data::start_over, Admin, Form;
    GET "/settings" => settings::settings_form, Admin, Safe;
    POST "/settings" => settings::save_settings, Admin, Form;
    POST "/settings/api-tokens" => settings::create_api_token, Admin, Form;
    POST "/settings/api-tokens/{id}/revoke" => settings::revoke_api_token, Admin, Form;
    POST "/settings/reports" => reports::add_schedule, Admin, Form;
    POST "/settings/reports/{id}/send" => reports::send_now, Admin, Form;
    POST "/settings/reports/{id}/delete" => reports::delete_schedule, Admin, Form;
    GET "/users" => users::list_users, Admin, Safe;
    POST "/users" => users::create_user, Admin, Form;
    POST "/users/{id}/role" => users::change_role, Admin, Form;
    POST "/users/{id}/password" => users::reset_password, Admin, Form;
    POST "/users/{id}/second-factor/reset" => users::reset_second_factor, Admin, Form;
    GET "/users/{id}/delete" => users::confirm_delete_user, Admin, Safe;
    POST "/users/{id}/delete" => users::delete_user, Admin, Form;
}

/// What an address no route serves gets: a problem for the API (405 with `Allow` when the
/// address is served with other methods), the error page otherwise.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    use crate::error::Problem;
    if !req.path().starts_with("/api/") {
        return Err(AppError::NotFound.into());
    }
    let allowed: Vec<&str> = ROUTE_TABLE
        .iter()
        .filter(|route| actix_web::dev::ResourceDef::new(route.path).is_match(req.path()))
        .map(|route| route.method)
        .collect();
    if allowed.is_empty() {
        return Err(Problem::not_found("There is nothing at this address in the API; see /api/v1/openapi.json.").into());
    }
    let allow = allowed.join(", ");
    let problem = Problem::from_status(StatusCode::METHOD_NOT_ALLOWED, format!("This address answers {allow} only."));
    let mut response = actix_web::ResponseError::error_response(&problem);
    response.headers_mut().insert(
        header::ALLOW,
        header::HeaderValue::from_str(&allow).unwrap_or(header::HeaderValue::from_static("GET")),
    );
    Ok(response)
}

/// What the shared layout needs on every page.
pub struct PageContext {
    pub user: Option<CurrentUser>,
    /// Say on the page that it shows demo data.
    pub demo: bool,
    pub notice: Option<&'static str>,
    /// Which navigation entry is current.
    pub section: &'static str,
    /// The count of inbox threads waiting for an answer, shown beside the Inbox link (HTML,
    /// empty when none waits).
    pub inbox: String,
}

/// The navigation's count of inbox threads waiting for an answer.
#[derive(Template)]
#[template(
    source = r#"{% if waiting > 0 %} <span class="nav-count">{{ waiting }}<span class="visually-hidden"> waiting for an answer</span></span>{% endif %}"#,
    ext = "html"
)]
struct InboxCount {
    waiting: i64,
}

impl PageContext {
    pub fn new(user: &CurrentUser, notice: Notice, section: &'static str) -> Self {
        Self {
            user: Some(user.clone()),
            demo: user.demo,
            notice: notice.0,
            section,
            inbox: InboxCount { waiting: user.inbox_waiting.unwrap_or(0) }.render().unwrap_or_default(),
        }
    }

    pub fn anonymous(notice: Notice, demo: bool) -> Self {
        Self { user: None, demo, notice: notice.0, section: "", inbox: String::new() }
    }
}

/// An error's page with the navigation of the signed-in user who met it.
#[derive(Template)]
#[template(path = "error_in_layout.html")]
struct ErrorInLayout<'a> {
    page: PageContext,
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// What signed-in pages share, done after the session is loaded: the count of inbox threads
/// waiting for an answer for the navigation (including a form's page shown again with its
/// errors; the count is reused for a few seconds), and error pages inside the layout, with
/// the navigation, rather than alone.
pub async fn signed_in_pages(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    let signed_in = req.extensions().get::<crate::auth::extract::ActiveSession>().is_some();
    if signed_in && let Some(inbox) = req.app_data::<web::Data<crate::services::inbox::Inbox>>().cloned() {
        let waiting = inbox.waiting().await;
        if let Some(session) = req.extensions_mut().get_mut::<crate::auth::extract::ActiveSession>() {
            session.user.inbox_waiting = waiting;
        }
    }
    let user = req.extensions().get::<crate::auth::extract::ActiveSession>().map(|s| s.user.clone());
    let res = next.call(req).await?;
    let page = user.and_then(|user| {
        let error = res.response().error()?.as_error::<AppError>()?;
        let (title, message) = error.words()?;
        let status = res.status().as_u16();
        let page = ErrorInLayout { page: PageContext::new(&user, Notice::default(), ""), status, title, message };
        Some(page.render().unwrap_or_else(|_| format!("{status} {title}")))
    });
    // Only the body changes: the status, headers and error stay as the handler made them.
    Ok(match page {
        Some(body) => res.map_body(|_, _| actix_web::body::EitherBody::right(actix_web::body::BoxBody::new(body))),
        None => res.map_into_left_body(),
    })
}

/// A one-time message after a redirect, named by a fixed code in the `notice` query
/// parameter (fixed texts only: nothing from the URL reaches the page).
#[derive(Debug, Clone, Copy, Default)]
pub struct Notice(pub Option<&'static str>);

impl Notice {
    fn from_code(code: &str) -> Option<&'static str> {
        Some(match code {
            "signed-out" => "You are signed out.",
            "comment-replied" => "Your reply is posted on Instagram.",
            "comment-hidden" => "The comment is hidden on Instagram: only its author still sees it.",
            "comment-shown" => "The comment is visible again on Instagram.",
            "comment-deleted" => "The comment is deleted from Instagram.",
            "comment-flagged" => "The comment is flagged.",
            "comment-unflagged" => "The flag is cleared.",
            "action-undone" => "Undone.",
            "saved-reply-added" => "The saved reply is ready to use in the inbox.",
            "saved-reply-deleted" => "The saved reply is deleted.",
            "rule-added" => "The rule is saved, switched off. Check below what it would have done, then switch it on.",
            "rule-on" => "The rule is on: it judges new comments within a minute of their arrival.",
            "rule-off" => "The rule is off.",
            "rule-deleted" => "The rule is deleted. What it did stays in the inbox's history.",
            "publication-saved" => "Saved. The publisher checks every minute for posts that are due.",
            "publication-rescheduled" => "The new time is saved.",
            "publication-cancelled" => "The post is cancelled and its files are deleted.",
            "sign-in-ended" => {
                "That sign-in has ended: it waited too long for its code, or too many codes were wrong. Sign in again with your password."
            }
            "second-factor-required" => {
                "This Tidemark asks you to sign in with a second factor. Set yours up below to continue."
            }
            "second-factor-off" => "Your second factor is off: signing in asks only for your password.",
            "authenticator-replacing" => {
                "Scan the new code below and confirm it with a code from the new app. Until then your current app keeps working."
            }
            "second-factor-reset" => {
                "That user's second factor is removed. They can sign in with their password and set up a new one."
            }
            "signed-out-everywhere" => "Every session of yours has ended. Sign in again to continue.",
            "session-ended" => "That session has ended: its device is signed out.",
            "password-changed" => "Your password is changed; your other sessions have ended.",
            "user-created" => "The user is added. Give them their password through a safe channel.",
            "role-changed" => "The role is changed; that user's sessions have ended.",
            "password-set" => "The new password is set; that user's sessions have ended.",
            "user-deleted" => "The user is deleted.",
            "connected" => "The account is connected. Its first sync runs on the next tick, or now with Sync now.",
            "account-disabled" => "The account is disabled: it is not synced, and its data stays.",
            "account-enabled" => "The account is enabled: it is synced again from the next tick.",
            "share-revoked" => "The link is revoked: it shows nothing any more.",
            "account-deleted" => "The account and everything that belonged to it are deleted.",
            "disconnected" => "The account is disconnected: it had no token left; its history is kept.",
            "disconnected-revoked" => {
                "The account is disconnected: Meta removed Tidemark's access, the token is deleted here, and the history is kept."
            }
            "disconnected-instagram" => {
                "The account is disconnected: the token is deleted here and the history is kept. Instagram offers no way for an app to withdraw its own access; remove Tidemark under Settings › Apps and websites in Instagram to finish."
            }
            "disconnected-not-revoked" => {
                "The account is disconnected here (token deleted, history kept), but Meta could not be reached to remove Tidemark's access: remove it in Facebook's settings under Business integrations."
            }
            "sync-started" => "A sync has started; this page follows it.",
            "settings-saved" => "The settings are saved.",
            "competitor-added" => "The competitor is tracked: it is read at the next sync.",
            "competitor-removed" => "The competitor is removed, with everything read of it.",
            "api-token-revoked" => "The API token is revoked: it works no more.",
            "alert-rule-added" => "The rule is on: it is judged within a minute.",
            "alert-rule-on" => "The rule is on.",
            "alert-rule-off" => "The rule is off: it fires nothing until switched on.",
            "alert-rule-deleted" => "The rule is deleted; the alerts it fired stay listed.",
            "report-schedule-added" => "The report is scheduled. Preview it, or send it now to see it arrive.",
            "report-schedule-deleted" => "The schedule is deleted; the reports it sent are kept.",
            "report-mailed" => "The report is made, kept here and handed to the mail server.",
            "report-kept" => "The report is made and kept here. No mail server is configured, so nothing was mailed.",
            "report-failed" => "The report is made and kept here, but the mail server did not take it (see below).",
            "everything-deleted" => "Every Instagram account and everything that belonged to it are deleted.",
            _ => return None,
        })
    }
}

impl FromRequest for Notice {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Notice::of(req)))
    }
}

impl Notice {
    /// The notice a request's address names, if any.
    pub fn of(req: &HttpRequest) -> Self {
        let notice = url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(name, _)| name == "notice")
            .and_then(|(_, code)| Notice::from_code(&code));
        Notice(notice)
    }
}

/// What this request's views are computed against, at the data version read with its session
/// (no second round trip for it).
pub async fn basis(req: &HttpRequest, views: &crate::services::Views) -> AppResult<crate::services::views::Basis> {
    use actix_web::HttpMessage;
    let version = req.extensions().get::<crate::auth::extract::ActiveSession>().map(|s| s.data_version);
    Ok(views.basis_at(version).await?)
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
