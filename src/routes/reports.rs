//! Reports: the kept ones (`/reports`, each as a page and its PDF), a preview of any
//! account's (or every account's) last week or month, and the schedules in Settings with
//! their "Send now".

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono_tz::Tz;
use serde::Deserialize;

use super::settings::{SettingsParts, page_with_report_problems, time_zone_names};
use super::{EmptyForm, Notice, PageContext, render, see_other};
use crate::analytics::charts::Chart;
use crate::auth::{AdminUser, ApiTokens, CsrfForm, CurrentUser};
use crate::db::report_schedules::{NewReportSchedule, ReportSchedule};
use crate::db::sent_reports::SentReport;
use crate::domain::{AccountId, Cadence, Delivery, ReportScheduleId, SentReportId};
use crate::error::{AppError, AppResult};
use crate::mail;
use crate::services::reports::ReportRequest;
use crate::services::reports::content::ReportContent;
use crate::services::settings::SettingsEditor;
use crate::services::{Accounts, Reports, Views};

/// Reports listed on `/reports`.
const LISTED: i64 = 100;

/// A kept report as the list shows it.
pub struct KeptRow {
    pub id: i64,
    pub title: String,
    pub period: String,
    pub made: String,
    pub how: &'static str,
    pub delivery: String,
    pub failed: bool,
}

impl KeptRow {
    fn new(report: &SentReport, scope: &str, tz: Tz) -> KeptRow {
        let recipients = report.recipients().join(", ");
        KeptRow {
            id: report.id.0,
            title: format!("{} report for {scope}", capitalised(report.cadence)),
            period: format!("{} – {}", report.first_day.format("%-d %b %Y"), report.last_day.format("%-d %b %Y")),
            made: report.made_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
            how: if report.made_by_hand { "sent now by hand" } else { "on schedule" },
            delivery: delivery_text(report.delivery, report.mail_error.as_deref(), &recipients),
            failed: report.delivery == Delivery::Failed,
        }
    }
}

fn capitalised(cadence: Cadence) -> &'static str {
    match cadence {
        Cadence::Weekly => "Weekly",
        Cadence::Monthly => "Monthly",
    }
}

fn delivery_text(delivery: Delivery, error: Option<&str>, recipients: &str) -> String {
    match delivery {
        Delivery::Mailed => format!("mailed to {recipients}"),
        Delivery::NotMailed => "kept here only: no mail server is configured".to_owned(),
        Delivery::Failed => format!("not mailed to {recipients}: {}", error.unwrap_or("the mail server refused it")),
    }
}

/// An account to choose in the forms.
pub struct AccountChoice {
    pub value: String,
    pub label: String,
}

async fn account_choices(views: &Views) -> AppResult<Vec<AccountChoice>> {
    let mut choices = vec![AccountChoice { value: "all".to_owned(), label: "All accounts together".to_owned() }];
    choices.extend(
        views
            .accounts()
            .await?
            .into_iter()
            .map(|a| AccountChoice { value: a.id.to_string(), label: format!("@{}", a.username) }),
    );
    Ok(choices)
}

#[derive(Template)]
#[template(path = "reports/index.html")]
struct ReportsPage {
    page: PageContext,
    kept: Vec<KeptRow>,
    choices: Vec<AccountChoice>,
    mail: Option<String>,
    is_admin: bool,
}

pub async fn reports_page(
    user: CurrentUser,
    notice: Notice,
    reports: web::Data<Reports>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let basis = views.basis().await?;
    let names = account_names(&views).await?;
    let kept = reports
        .kept(LISTED)
        .await?
        .iter()
        .map(|r| KeptRow::new(r, &scope_name(r.account_id, &names), basis.tz()))
        .collect();
    let page = ReportsPage {
        page: PageContext::new(&user, notice, "reports"),
        kept,
        choices: account_choices(&views).await?,
        mail: reports.mail_setup(),
        is_admin: user.is_admin(),
    };
    render(StatusCode::OK, &page)
}

async fn account_names(views: &Views) -> AppResult<Vec<(AccountId, String)>> {
    Ok(views.accounts().await?.into_iter().map(|a| (a.id, a.username)).collect())
}

fn scope_name(account: Option<AccountId>, names: &[(AccountId, String)]) -> String {
    match account {
        None => "all accounts".to_owned(),
        Some(id) => {
            names.iter().find(|(a, _)| *a == id).map_or_else(|| format!("account {id}"), |(_, name)| format!("@{name}"))
        }
    }
}

#[derive(Template)]
#[template(path = "reports/show.html")]
struct ReportPage<'a> {
    page: PageContext,
    c: &'a ReportContent,
    charts: Vec<Chart>,
    /// Where its PDF is.
    pdf_href: String,
    /// For a kept report: how and to whom it went.
    kept: Option<String>,
    /// A preview's notice that nothing is kept or sent.
    preview: bool,
}

fn report_page(
    user: &CurrentUser,
    notice: Notice,
    c: &ReportContent,
    pdf_href: String,
    kept: Option<String>,
) -> AppResult<HttpResponse> {
    let charts = c.charts.iter().enumerate().map(|(i, chart)| chart.to_chart(&format!("report-chart-{i}"))).collect();
    let preview = kept.is_none();
    let page = ReportPage { page: PageContext::new(user, notice, "reports"), c, charts, pdf_href, kept, preview };
    render(StatusCode::OK, &page)
}

/// What a preview is of: a schedule's report, or an account (or all) and a cadence.
#[derive(Debug, Deserialize)]
pub struct PreviewQuery {
    schedule: Option<i64>,
    account: Option<String>,
    cadence: Option<String>,
}

impl PreviewQuery {
    async fn request(&self, reports: &Reports, views: &Views) -> AppResult<(ReportRequest, String)> {
        if let Some(id) = self.schedule {
            let schedule = reports.schedule(ReportScheduleId(id)).await?.ok_or(AppError::NotFound)?;
            return Ok((ReportRequest::from(&schedule), format!("schedule={id}")));
        }
        let cadence = match self.cadence.as_deref().unwrap_or("weekly").parse::<Cadence>() {
            Ok(cadence) => cadence,
            Err(_) => return Err(AppError::BadRequest("A report is weekly or monthly.".into())),
        };
        let account = match self.account.as_deref().unwrap_or("all") {
            "all" => None,
            id => Some(AccountId(id.parse().map_err(|_| AppError::BadRequest("No such account.".into()))?)),
        };
        let tz = views.basis().await?.tz();
        let query = format!(
            "account={}&cadence={}",
            account.map_or_else(|| "all".to_owned(), |a| a.to_string()),
            cadence.as_str()
        );
        Ok((ReportRequest { account, cadence, tz }, query))
    }
}

pub async fn preview_report(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<PreviewQuery>,
    reports: web::Data<Reports>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let (request, query) = query.request(&reports, &views).await?;
    let made = reports.make(&request).await?.ok_or(AppError::NotFound)?;
    report_page(&user, notice, &made.content, format!("/reports/preview.pdf?{query}"), None)
}

pub async fn preview_pdf(
    query: web::Query<PreviewQuery>,
    reports: web::Data<Reports>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let (request, _) = query.request(&reports, &views).await?;
    let made = reports.make(&request).await?.ok_or(AppError::NotFound)?;
    Ok(pdf_response(&made.content.file_name(), made.pdf))
}

pub async fn show_report(
    user: CurrentUser,
    notice: Notice,
    path: web::Path<i64>,
    reports: web::Data<Reports>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let id = SentReportId(path.into_inner());
    let (report, content) = reports.kept_report(id).await?.ok_or(AppError::NotFound)?;
    let tz = views.basis().await?.tz();
    let how = format!(
        "Made {} ({}); {}.",
        report.made_at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        if report.made_by_hand { "sent now by hand" } else { "on schedule" },
        delivery_text(report.delivery, report.mail_error.as_deref(), &report.recipients().join(", "))
    );
    report_page(&user, notice, &content, format!("/reports/{}/pdf", id.0), Some(how))
}

pub async fn report_pdf(path: web::Path<i64>, reports: web::Data<Reports>) -> AppResult<HttpResponse> {
    let (name, pdf) = reports.kept_pdf(SentReportId(path.into_inner())).await?.ok_or(AppError::NotFound)?;
    Ok(pdf_response(&name, pdf))
}

fn pdf_response(name: &str, pdf: Vec<u8>) -> HttpResponse {
    let mut response = HttpResponse::Ok().content_type("application/pdf").body(pdf);
    // The name is built from a username and a date: letters, digits, '.', '_' and '-' only.
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The schedule form in Settings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub cadence: String,
    #[serde(default)]
    pub recipients: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub send_hour: String,
}

impl ScheduleForm {
    /// The form as first shown: every account, weekly, at 8 in the operator's zone.
    pub fn blank(tz: Tz) -> ScheduleForm {
        ScheduleForm {
            account: "all".to_owned(),
            cadence: "weekly".to_owned(),
            recipients: String::new(),
            time_zone: tz.to_string(),
            send_hour: "8".to_owned(),
        }
    }

    pub fn hours(&self) -> Vec<(String, bool)> {
        (0..24).map(|h| (h.to_string(), self.send_hour == h.to_string())).collect()
    }

    pub fn zones(&self) -> Vec<(&'static str, bool)> {
        time_zone_names().iter().map(|name| (*name, *name == self.time_zone)).collect()
    }

    /// The schedule, or every problem in words.
    pub fn validate(&self, accounts: &[AccountId]) -> Result<NewReportSchedule, Vec<String>> {
        let mut problems = Vec::new();
        let account = match self.account.trim() {
            "all" => None,
            id => match id.parse::<i64>().ok().map(AccountId).filter(|a| accounts.contains(a)) {
                Some(account) => Some(account),
                None => {
                    problems.push("Choose one of the accounts, or all of them.".to_owned());
                    None
                }
            },
        };
        let cadence = self.cadence.parse::<Cadence>().ok();
        if cadence.is_none() {
            problems.push("Choose weekly or monthly.".to_owned());
        }
        let recipients = match mail::recipients(&self.recipients) {
            Ok(list) if list.is_empty() => {
                problems.push("Give at least one e-mail address to send the report to.".to_owned());
                list
            }
            Ok(list) => list,
            Err(problem) => {
                problems.push(problem);
                Vec::new()
            }
        };
        if self.time_zone.parse::<Tz>().is_err() {
            problems.push("Choose a time zone from the list.".to_owned());
        }
        let hour = self.send_hour.trim().parse::<i16>().ok().filter(|h| (0..24).contains(h));
        if hour.is_none() {
            problems.push("Choose the hour to send it at, 0 to 23.".to_owned());
        }
        match (cadence, hour, problems.is_empty()) {
            (Some(cadence), Some(send_hour), true) => Ok(NewReportSchedule {
                account_id: account,
                cadence,
                recipients,
                time_zone: self.time_zone.clone(),
                send_hour,
                created_by: None,
                created_at: chrono::Utc::now(),
            }),
            _ => Err(problems),
        }
    }
}

/// A schedule as Settings lists it.
pub struct ScheduleRow {
    pub id: i64,
    pub what: String,
    pub recipients: String,
    pub when: String,
}

impl ScheduleRow {
    pub fn new(schedule: &ReportSchedule, names: &[(AccountId, String)]) -> ScheduleRow {
        let day = match schedule.cadence {
            Cadence::Weekly => "every Monday",
            Cadence::Monthly => "on the 1st of every month",
        };
        ScheduleRow {
            id: schedule.id.0,
            what: format!("{} report for {}", capitalised(schedule.cadence), scope_name(schedule.account_id, names)),
            recipients: schedule.recipients().join(", "),
            when: format!("{day} at {:02}:00, {}", schedule.send_hour, schedule.time_zone),
        }
    }
}

/// The reports part of the Settings page.
pub struct ReportSettings {
    pub schedules: Vec<ScheduleRow>,
    pub form: ScheduleForm,
    pub problems: Vec<String>,
    pub choices: Vec<AccountChoice>,
    pub mail: Option<String>,
}

impl ReportSettings {
    pub async fn load(reports: &Reports, views: &Views, form: ScheduleForm, problems: Vec<String>) -> AppResult<Self> {
        let names = account_names(views).await?;
        Ok(ReportSettings {
            schedules: reports.schedules().await?.iter().map(|s| ScheduleRow::new(s, &names)).collect(),
            form,
            problems,
            choices: account_choices(views).await?,
            mail: reports.mail_setup(),
        })
    }
}

pub async fn add_schedule(
    AdminUser(admin): AdminUser,
    reports: web::Data<Reports>,
    views: web::Data<Views>,
    settings: web::Data<SettingsEditor>,
    accounts: web::Data<Accounts>,
    tokens: web::Data<ApiTokens>,
    CsrfForm(form): CsrfForm<ScheduleForm>,
) -> AppResult<HttpResponse> {
    let known: Vec<AccountId> = views.accounts().await?.iter().map(|a| a.id).collect();
    match form.validate(&known) {
        Ok(mut new) => {
            new.created_by = Some(admin.id);
            new.created_at = views.now();
            reports.add_schedule(&new).await?;
            tracing::info!(by = admin.id.0, "report schedule added");
            Ok(see_other("/settings?notice=report-schedule-added#reports"))
        }
        Err(problems) => {
            let section = ReportSettings::load(&reports, &views, form, problems).await?;
            let parts = SettingsParts { accounts: &accounts, tokens: &tokens };
            page_with_report_problems(&admin, &settings, &parts, section).await
        }
    }
}

pub async fn delete_schedule(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    reports: web::Data<Reports>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    if !reports.delete_schedule(ReportScheduleId(path.into_inner())).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(by = admin.id.0, "report schedule deleted");
    Ok(see_other("/settings?notice=report-schedule-deleted#reports"))
}

pub async fn send_now(
    AdminUser(admin): AdminUser,
    path: web::Path<i64>,
    reports: web::Data<Reports>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let (id, delivery) =
        reports.send_now(ReportScheduleId(path.into_inner()), admin.id).await?.ok_or(AppError::NotFound)?;
    let notice = match delivery {
        Delivery::Mailed => "report-mailed",
        Delivery::NotMailed => "report-kept",
        Delivery::Failed => "report-failed",
    };
    Ok(see_other(&format!("/reports/{}?notice={notice}", id.0)))
}
