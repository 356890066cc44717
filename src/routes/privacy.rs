//! `/privacy`: this instance's privacy and data-deletion page, written from what it stores
//! and how it is configured (the page a Meta app names for review).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{Notice, PageContext, render};
use crate::auth::{Auth, CurrentUser};
use crate::domain::Flavour;
use crate::error::AppResult;
use crate::services::meta::KEEP_DAYS;
use crate::services::{Accounts, SettingsEditor};

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    page: PageContext,
    operator: String,
    history: String,
    sync_run_days: i32,
    record_days: i64,
    logins: Vec<&'static str>,
    deletion_url: String,
    deauthorize_url: String,
}

pub async fn privacy(
    user: Option<CurrentUser>,
    auth: web::Data<Auth>,
    settings: web::Data<SettingsEditor>,
    accounts: web::Data<Accounts>,
) -> AppResult<HttpResponse> {
    let settings = settings.load().await?;
    let urls = accounts.dashboard_urls();
    let url_of =
        |label: &str| urls.iter().find(|(l, _)| l.starts_with(label)).map(|(_, u)| u.clone()).unwrap_or_default();
    let page = PrivacyPage {
        page: match &user {
            Some(user) => PageContext::new(user, Notice::default(), "privacy"),
            None => PageContext::anonymous(Notice::default(), auth.demo),
        },
        operator: settings.operator_contact.clone(),
        history: settings
            .lookback_days
            .map_or_else(|| "for as long as the operator keeps it".to_owned(), |days| format!("for {days} days")),
        sync_run_days: settings.sync_run_keep_days,
        record_days: KEEP_DAYS,
        logins: [(Flavour::Instagram, "Instagram Login"), (Flavour::Facebook, "Facebook Login for Business")]
            .into_iter()
            .filter(|(flavour, _)| accounts.offers_dialog(*flavour))
            .map(|(_, name)| name)
            .collect(),
        deletion_url: url_of("Data deletion"),
        deauthorize_url: url_of("Deauthorize"),
    };
    render(StatusCode::OK, &page)
}
