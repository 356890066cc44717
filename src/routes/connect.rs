//! Connecting through Meta's own dialogs: send the admin's browser to Instagram's or
//! Facebook's consent page, take it back at the callback, and (Facebook Login) let the admin
//! choose which of the Pages' Instagram accounts to connect.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Notice, PageContext, render, see_other};
use crate::auth::{AdminUser, CsrfForm, CurrentUser};
use crate::domain::Flavour;
use crate::error::{AppError, AppResult};
use crate::services::Accounts;
use crate::services::accounts::{ConnectError, DialogOutcome, DialogReturn};

#[derive(Template)]
#[template(path = "accounts/connect_failed.html")]
struct FailedPage {
    page: PageContext,
    title: &'static str,
    message: String,
    /// Where trying again starts.
    again: String,
}

/// One account offered for connecting.
pub struct Offer {
    pub ig_user_id: String,
    pub username: String,
    pub name: String,
    pub followers: String,
}

#[derive(Template)]
#[template(path = "accounts/choose.html")]
struct ChoosePage {
    page: PageContext,
    csrf_token: String,
    choice: String,
    offers: Vec<Offer>,
    error: Option<String>,
}

async fn begin(admin: &CurrentUser, accounts: &Accounts, flavour: Flavour) -> AppResult<HttpResponse> {
    match accounts.begin_dialog(flavour, &admin.session_id).await {
        Ok(url) => Ok(see_other(url.as_str())),
        Err(ConnectError::NotConfigured(_)) => Err(AppError::NotFound),
        Err(ConnectError::Database(err)) => Err(err.into()),
        Err(other) => Err(AppError::Internal(anyhow::Error::new(other))),
    }
}

pub async fn connect_instagram(AdminUser(admin): AdminUser, accounts: web::Data<Accounts>) -> AppResult<HttpResponse> {
    begin(&admin, &accounts, Flavour::Instagram).await
}

pub async fn connect_facebook(AdminUser(admin): AdminUser, accounts: web::Data<Accounts>) -> AppResult<HttpResponse> {
    begin(&admin, &accounts, Flavour::Facebook).await
}

async fn finish(
    admin: &CurrentUser,
    accounts: &Accounts,
    flavour: Flavour,
    answer: &DialogReturn,
) -> AppResult<HttpResponse> {
    match accounts.finish_dialog(flavour, &admin.session_id, answer).await {
        Ok(DialogOutcome::Connected(connected)) => Ok(match connected.as_slice() {
            [one] => see_other(&format!("/accounts/{}?notice=connected", one.id)),
            _ => see_other("/accounts?notice=connected"),
        }),
        Ok(DialogOutcome::Choose(choice)) => {
            Ok(see_other(&format!("/accounts/connect/facebook/choose?choice={choice}")))
        }
        Err(err) => failed(admin, flavour, err),
    }
}

/// The page a failed connection ends on: what happened, in plain words; nothing was stored.
fn failed(admin: &CurrentUser, flavour: Flavour, err: ConnectError) -> AppResult<HttpResponse> {
    let (status, title) = match &err {
        ConnectError::Database(_) => return Err(AppError::Internal(anyhow::Error::new(err))),
        ConnectError::NotConfigured(_) => return Err(AppError::NotFound),
        ConnectError::Cancelled(_) => (StatusCode::OK, "Nothing was connected"),
        ConnectError::BadState | ConnectError::NoCode => {
            (StatusCode::BAD_REQUEST, "This connection cannot be finished")
        }
        ConnectError::Exchange(_) | ConnectError::Refused(_) => {
            (StatusCode::BAD_GATEWAY, "Meta refused the connection")
        }
        ConnectError::ChoiceExpired => (StatusCode::GONE, "The choice has expired"),
        _ => (StatusCode::UNPROCESSABLE_ENTITY, "The account was not connected"),
    };
    tracing::info!(flavour = %flavour, reason = %err, "a connection through Meta's dialog ended without an account");
    let page = FailedPage {
        page: PageContext::new(admin, Notice::default(), "accounts"),
        title,
        message: format!("Nothing was stored: {err}."),
        again: format!("/accounts/connect/{flavour}"),
    };
    render(status, &page)
}

pub async fn instagram_callback(
    AdminUser(admin): AdminUser,
    query: web::Query<DialogReturn>,
    accounts: web::Data<Accounts>,
) -> AppResult<HttpResponse> {
    finish(&admin, &accounts, Flavour::Instagram, &query).await
}

pub async fn facebook_callback(
    AdminUser(admin): AdminUser,
    query: web::Query<DialogReturn>,
    accounts: web::Data<Accounts>,
) -> AppResult<HttpResponse> {
    finish(&admin, &accounts, Flavour::Facebook, &query).await
}

#[derive(Debug, Deserialize)]
pub struct ChoiceQuery {
    #[serde(default)]
    choice: String,
}

async fn choose_page(
    admin: &CurrentUser,
    accounts: &Accounts,
    choice: &str,
    status: StatusCode,
    error: Option<String>,
) -> AppResult<HttpResponse> {
    let offers = match accounts.choices(&admin.session_id, choice).await {
        Ok(Some(found)) => found,
        Ok(None) => return failed(admin, Flavour::Facebook, ConnectError::ChoiceExpired),
        Err(err) => return failed(admin, Flavour::Facebook, err),
    };
    let page = ChoosePage {
        page: PageContext::new(admin, Notice::default(), "accounts"),
        csrf_token: admin.csrf_token.clone(),
        choice: choice.to_owned(),
        offers: offers
            .into_iter()
            .map(|c| Offer {
                ig_user_id: c.profile.ig_user_id,
                username: c.profile.username,
                name: c.profile.name.unwrap_or_default(),
                followers: crate::services::views::format::count(c.profile.followers_count),
            })
            .collect(),
        error,
    };
    render(status, &page)
}

pub async fn choose_form(
    AdminUser(admin): AdminUser,
    query: web::Query<ChoiceQuery>,
    accounts: web::Data<Accounts>,
) -> AppResult<HttpResponse> {
    choose_page(&admin, &accounts, &query.choice, StatusCode::OK, None).await
}

/// The chosen accounts: every `account` field of the form (any number of them).
pub async fn choose(
    AdminUser(admin): AdminUser,
    accounts: web::Data<Accounts>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let choice = fields.iter().find(|(k, _)| k == "choice").map(|(_, v)| v.clone()).unwrap_or_default();
    let chosen: Vec<String> = fields.into_iter().filter(|(k, _)| k == "account").map(|(_, v)| v).collect();
    match accounts.finish_choice(&admin.session_id, &choice, &chosen).await {
        Ok(connected) => Ok(match connected.as_slice() {
            [one] => see_other(&format!("/accounts/{}?notice=connected", one.id)),
            _ => see_other("/accounts?notice=connected"),
        }),
        Err(ConnectError::NothingChosen) => {
            let message = ConnectError::NothingChosen.to_string();
            choose_page(&admin, &accounts, &choice, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await
        }
        Err(err) => failed(&admin, Flavour::Facebook, err),
    }
}
