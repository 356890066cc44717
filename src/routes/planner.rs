//! The planner: a month or week calendar of planned and published posts in the operator's
//! time zone, the composer (with suggested slots from the account's own best times), one
//! publication's page with its history, and the admin's changes (reschedule, publish now,
//! cancel).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::{Notice, PageContext, render, see_other};
use crate::auth::{AdminUser, CsrfForm, CsrfUpload, CurrentUser};
use crate::domain::{AccountId, PublicationId, PublicationKind, PublicationStatus};
use crate::error::{AppError, AppResult};
use crate::publishing::rules::{ALT_TEXT_LIMIT, CAPTION_LIMIT, HASHTAG_LIMIT};
use crate::services::publishing::{ChangeRefused, ComposeRefused, Composition, Upload, When};
use crate::services::views::format::excerpt;
use crate::services::{Publishing, Views};

/// Largest file taken (a Reel's limit, plus room for the multipart framing).
const MAX_FILE_BYTES: u64 = 300 * 1000 * 1000 + 1;
/// Files taken per publication (a carousel's ten).
const MAX_FILES: usize = 10;
/// Longest text field read from the composer.
const MAX_TEXT_BYTES: usize = 16 * 1024;

/// An item on the calendar.
pub struct Item {
    pub time: String,
    pub account: String,
    pub kind: &'static str,
    pub status: &'static str,
    /// CSS class suffix for the status.
    pub status_key: &'static str,
    pub caption: String,
    pub href: String,
}

pub struct Day {
    pub iso: String,
    /// "Tue 3"
    pub label: String,
    pub in_range: bool,
    pub today: bool,
    pub items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "planner/calendar.html")]
struct PlannerPage {
    page: PageContext,
    title: String,
    week_view: bool,
    weeks: Vec<Vec<Day>>,
    prev: String,
    next: String,
    today: String,
    month_link: String,
    week_link: String,
    accounts: Vec<(i64, String, bool)>,
    account: Option<i64>,
    timezone: String,
    is_admin: bool,
    counts: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct PlannerQuery {
    view: Option<String>,
    date: Option<String>,
    #[serde(default, deserialize_with = "super::analytics::empty_as_none")]
    account: Option<i64>,
}

pub async fn planner(
    user: CurrentUser,
    notice: Notice,
    query: web::Query<PlannerQuery>,
    publishing: web::Data<Publishing>,
) -> AppResult<HttpResponse> {
    let tz = publishing.time_zone().await?;
    let now = publishing.now();
    let today = now.with_timezone(&tz).date_naive();
    let anchor = match query.date.as_deref().filter(|d| !d.is_empty()) {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| AppError::BadRequest("The date must look like 2026-12-01.".into()))?,
        None => today,
    };
    let week_view = query.view.as_deref() == Some("week");
    let (first, last, in_range_start, in_range_end, title, prev, next) = if week_view {
        let monday = anchor - Days::new(u64::from(anchor.weekday().num_days_from_monday()));
        let sunday = monday + Days::new(6);
        let title = format!("Week of {}", monday.format("%-d %B %Y"));
        (monday, sunday, monday, sunday, title, monday - Days::new(7), monday + Days::new(7))
    } else {
        let month_start = anchor.with_day(1).unwrap_or(anchor);
        let month_end = (month_start + Months::new(1)).pred_opt().unwrap_or(month_start);
        let first = month_start - Days::new(u64::from(month_start.weekday().num_days_from_monday()));
        let last = month_end + Days::new(u64::from(6 - month_end.weekday().num_days_from_monday()));
        let title = month_start.format("%B %Y").to_string();
        (first, last, month_start, month_end, title, month_start - Months::new(1), month_start + Months::new(1))
    };
    let from = local_midnight(first, tz);
    let to = local_midnight(last + Days::new(1), tz);
    let account = query.account.map(AccountId);
    let plan = publishing.planner(from, to, account).await?;

    let mut by_day: BTreeMap<NaiveDate, Vec<(DateTime<Utc>, Item)>> = BTreeMap::new();
    let (mut planned, mut published) = (0, 0);
    for listed in &plan.publications {
        let p = &listed.publication;
        let at = p.published_at.unwrap_or(p.due_at);
        if p.status == PublicationStatus::Published {
            published += 1;
        } else {
            planned += 1;
        }
        by_day.entry(at.with_timezone(&tz).date_naive()).or_default().push((
            at,
            Item {
                time: at.with_timezone(&tz).format("%H:%M").to_string(),
                account: listed.username.clone(),
                kind: p.kind.label(),
                status: p.status.label(),
                status_key: p.status.as_str(),
                caption: excerpt(&p.caption, 80),
                href: format!("/planner/{}", p.id),
            },
        ));
    }
    for post in &plan.posts {
        published += 1;
        let kind = match (post.media_product_type.as_deref(), post.media_type.as_str()) {
            (Some("REELS"), _) => "Reel",
            (Some("STORY"), _) => "Story",
            (_, "CAROUSEL_ALBUM") => "Carousel",
            _ => "Feed post",
        };
        by_day.entry(post.posted_at.with_timezone(&tz).date_naive()).or_default().push((
            post.posted_at,
            Item {
                time: post.posted_at.with_timezone(&tz).format("%H:%M").to_string(),
                account: post.username.clone(),
                kind,
                status: "Published elsewhere",
                status_key: "external",
                caption: excerpt(post.caption.as_deref().unwrap_or_default(), 80),
                href: format!("/posts/{}", post.id),
            },
        ));
    }
    let mut weeks = Vec::new();
    let mut day = first;
    while day <= last {
        let mut week = Vec::with_capacity(7);
        for _ in 0..7 {
            let mut items = by_day.remove(&day).unwrap_or_default();
            items.sort_by_key(|(at, _)| *at);
            week.push(Day {
                iso: day.format("%Y-%m-%d").to_string(),
                label: day.format("%a %-d").to_string(),
                in_range: day >= in_range_start && day <= in_range_end,
                today: day == today,
                items: items.into_iter().map(|(_, item)| item).collect(),
            });
            day = day + Days::new(1);
        }
        weeks.push(week);
    }
    let keep = query.account.map(|a| format!("&account={a}")).unwrap_or_default();
    let view = if week_view { "week" } else { "month" };
    let link = |date: NaiveDate, view: &str| format!("/planner?view={view}&date={}{keep}", date.format("%Y-%m-%d"));
    let accounts =
        publishing.accounts().await?.into_iter().map(|a| (a.id.0, a.username, Some(a.id.0) == query.account)).collect();
    let page = PlannerPage {
        page: PageContext::new(&user, notice, "planner"),
        title,
        week_view,
        weeks,
        prev: link(prev, view),
        next: link(next, view),
        today: link(today, view),
        month_link: link(anchor, "month"),
        week_link: link(anchor, "week"),
        accounts,
        account: query.account,
        timezone: tz.name().to_owned(),
        is_admin: user.is_admin(),
        counts: format!("{planned} planned, {published} published in this {}", if week_view { "week" } else { "view" }),
    };
    render(StatusCode::OK, &page)
}

fn local_midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = day.and_time(NaiveTime::MIN);
    tz.from_local_datetime(&naive).earliest().map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc))
}

/// A slot the composer offers.
pub struct SlotView {
    pub label: String,
    pub date: String,
    pub time: String,
    pub basis: String,
}

/// What the composer's fields hold (re-shown after an error).
#[derive(Debug, Default, Clone)]
pub struct Draft {
    account: Option<i64>,
    kind: String,
    caption: String,
    first_comment: String,
    alt_text: String,
    when: String,
    date: String,
    time: String,
}

#[derive(Template)]
#[template(path = "planner/compose.html")]
struct ComposePage {
    page: PageContext,
    csrf_token: String,
    accounts: Vec<(i64, String)>,
    draft: Draft,
    error: Option<String>,
    slots: Vec<SlotView>,
    /// Why there are no slots, when there are none.
    slots_note: Option<String>,
    slots_account: String,
    timezone: String,
    caption_limit: usize,
    hashtag_limit: usize,
    alt_text_limit: usize,
}

#[derive(Debug, Default, Deserialize)]
pub struct ComposeQuery {
    #[serde(default, deserialize_with = "super::analytics::empty_as_none")]
    account: Option<i64>,
    date: Option<String>,
    time: Option<String>,
}

pub async fn compose_form(
    AdminUser(user): AdminUser,
    notice: Notice,
    query: web::Query<ComposeQuery>,
    publishing: web::Data<Publishing>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let draft = Draft {
        account: query.account,
        kind: "feed".into(),
        when: if query.date.is_some() { "at".into() } else { "now".into() },
        date: query.date.clone().unwrap_or_default(),
        time: query.time.clone().unwrap_or_default(),
        ..Draft::default()
    };
    compose_page(&user, notice, draft, None, &publishing, &views, StatusCode::OK).await
}

async fn compose_page(
    user: &CurrentUser,
    notice: Notice,
    mut draft: Draft,
    error: Option<String>,
    publishing: &Publishing,
    views: &Views,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let tz = publishing.time_zone().await?;
    let accounts: Vec<(i64, String)> = publishing.accounts().await?.into_iter().map(|a| (a.id.0, a.username)).collect();
    let chosen = draft.account.and_then(|id| accounts.iter().find(|(a, _)| *a == id)).or(accounts.first()).cloned();
    draft.account = chosen.as_ref().map(|(id, _)| *id);
    let (slots, slots_note, slots_account) = match &chosen {
        Some((id, username)) => {
            let (slots, sample) = views.suggested_slots(AccountId(*id), publishing.now()).await?;
            let note = slots.is_empty().then(|| {
                format!(
                    "Not enough history yet: @{username} has {sample} feed post{plural} or Reel{plural} with figures in the last 90 days, and a time is suggested once two of them at the same weekday and hour have them.",
                    plural = if sample == 1 { "" } else { "s" }
                )
            });
            let views = slots
                .into_iter()
                .map(|slot| {
                    let local = slot.at.with_timezone(&tz);
                    SlotView {
                        label: local.format("%A %-d %B, %H:%M").to_string(),
                        date: local.format("%Y-%m-%d").to_string(),
                        time: local.format("%H:%M").to_string(),
                        basis: format!(
                            "median engagement {} over {} posts at this weekday and hour",
                            slot.summary.median_rate.map_or_else(|| "–".to_owned(), |r| format!("{r:.1} %")),
                            slot.summary.posts
                        ),
                    }
                })
                .collect();
            (views, note, username.clone())
        }
        None => (Vec::new(), None, String::new()),
    };
    let page = ComposePage {
        page: PageContext::new(user, notice, "planner"),
        csrf_token: user.csrf_token.clone(),
        accounts,
        draft,
        error,
        slots,
        slots_note,
        slots_account,
        timezone: tz.name().to_owned(),
        caption_limit: CAPTION_LIMIT,
        hashtag_limit: HASHTAG_LIMIT,
        alt_text_limit: ALT_TEXT_LIMIT,
    };
    render(status, &page)
}

/// A publication's multipart form as read: its text fields (in order) and its files, already
/// on disk.
pub struct UploadForm {
    pub fields: Vec<(String, String)>,
    pub uploads: Vec<Upload>,
}

impl UploadForm {
    /// A text field's value, or "" when absent.
    pub fn field(&self, name: &str) -> &str {
        self.fields.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }
}

/// Reads a publication's multipart form (the composer's, the API's): text fields kept, files
/// named `media` streamed to the uploads directory (never held in memory, never past the size
/// limit). On failure, what was read and why it stopped; the caller discards the uploads.
pub async fn read_upload_form(
    mut form: actix_multipart::Multipart,
    publishing: &Publishing,
) -> Result<UploadForm, (UploadForm, String)> {
    let mut read = UploadForm { fields: Vec::new(), uploads: Vec::new() };
    while let Some(field) = form.next().await {
        let Ok(mut field) = field else {
            return Err((read, "The form could not be read; try again.".into()));
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "media" {
            let file_name = field.content_disposition().and_then(|d| d.get_filename()).unwrap_or_default().to_owned();
            if file_name.is_empty() {
                // The file input with nothing chosen still sends an empty part.
                while let Some(Ok(_)) = field.next().await {}
                continue;
            }
            if read.uploads.len() == MAX_FILES {
                return Err((read, format!("Choose at most {MAX_FILES} files.")));
            }
            let path = publishing.upload_path();
            read.uploads.push(Upload { path: path.clone(), name: file_name.clone(), alt_text: None });
            let Ok(mut file) = tokio::fs::File::create(&path).await else {
                return Err((read, "The file could not be stored; try again.".into()));
            };
            let mut written: u64 = 0;
            while let Some(chunk) = field.next().await {
                let Ok(chunk) = chunk else {
                    return Err((read, "The upload was interrupted; try again.".into()));
                };
                written += chunk.len() as u64;
                if written > MAX_FILE_BYTES {
                    return Err((read, format!("{file_name} is larger than 300 MB, Instagram's largest.")));
                }
                if file.write_all(&chunk).await.is_err() {
                    return Err((read, "The file could not be stored; try again.".into()));
                }
            }
            if file.flush().await.is_err() {
                return Err((read, "The file could not be stored; try again.".into()));
            }
            continue;
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let Ok(chunk) = chunk else {
                return Err((read, "The form could not be read; try again.".into()));
            };
            value.extend_from_slice(&chunk);
            if value.len() > MAX_TEXT_BYTES {
                return Err((read, format!("The field {name} is too long.")));
            }
        }
        read.fields.push((name, String::from_utf8_lossy(&value).replace("\r\n", "\n")));
    }
    Ok(read)
}

impl Draft {
    /// The composer's fields, as typed.
    fn from_form(form: &UploadForm) -> Draft {
        Draft {
            account: form.field("account").trim().parse().ok(),
            kind: form.field("kind").trim().to_owned(),
            caption: form.field("caption").to_owned(),
            first_comment: form.field("first_comment").to_owned(),
            alt_text: form.field("alt_text").trim().to_owned(),
            when: form.field("when").trim().to_owned(),
            date: form.field("date").trim().to_owned(),
            time: form.field("time").trim().to_owned(),
        }
    }
}

/// The time a form asks for, in the operator's time zone.
fn parse_when(when: &str, date: &str, time: &str, tz: Tz) -> Result<When, String> {
    match when {
        "now" => Ok(When::Now),
        "draft" => Ok(When::Draft),
        "at" => {
            let day =
                NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| "Choose a date to publish on.".to_owned())?;
            let time =
                NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| "Choose a time to publish at.".to_owned())?;
            let local = tz
                .from_local_datetime(&day.and_time(time))
                .earliest()
                .ok_or_else(|| format!("{date} {time} does not exist in {} (the clocks change then).", tz.name()))?;
            Ok(When::At(local.with_timezone(&Utc)))
        }
        _ => Err("Choose when to publish: now, at a time, or keep it as a draft.".into()),
    }
}

pub async fn create_publication(
    AdminUser(user): AdminUser,
    upload: CsrfUpload,
    publishing: web::Data<Publishing>,
    views: web::Data<Views>,
) -> AppResult<HttpResponse> {
    let refuse = async |draft: Draft, uploads: Vec<Upload>, message: String| {
        publishing.discard(&uploads);
        let message = format!("{message} Choose the files again: they are not kept after an error.");
        compose_page(
            &user,
            Notice::default(),
            draft,
            Some(message),
            &publishing,
            &views,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    };
    let CsrfUpload(form) = upload;
    let (draft, mut uploads) = match read_upload_form(form, &publishing).await {
        Ok(read) => (Draft::from_form(&read), read.uploads),
        Err((read, message)) => return refuse(Draft::from_form(&read), read.uploads, message).await,
    };
    let tz = publishing.time_zone().await?;
    let Some(account) = draft.account else {
        return refuse(draft, uploads, "Choose the account to publish to.".into()).await;
    };
    let Ok(kind) = draft.kind.parse::<PublicationKind>() else {
        return refuse(draft, uploads, "Choose a feed post, a Reel or a Story.".into()).await;
    };
    let when = match parse_when(&draft.when, &draft.date, &draft.time, tz) {
        Ok(when) => when,
        Err(message) => return refuse(draft, uploads, message).await,
    };
    let alt_text = Some(draft.alt_text.clone()).filter(|a| !a.is_empty());
    for upload in &mut uploads {
        upload.alt_text = alt_text.clone();
    }
    let composition = Composition {
        account: AccountId(account),
        kind,
        caption: draft.caption.trim_end().to_owned(),
        first_comment: Some(draft.first_comment.trim().to_owned()).filter(|c| !c.is_empty()),
        when,
        uploads,
        created_by: Some(user.id),
    };
    match publishing.compose(composition).await {
        Ok(id) => Ok(see_other(&format!("/planner/{id}?notice=publication-saved"))),
        Err(ComposeRefused::Database(err)) => Err(err.into()),
        // A file's name leads its message as the file was called: not capitalised. The
        // service removed the uploads already.
        Err(ComposeRefused::Media(refused)) if refused.file().is_some() => {
            refuse(draft, Vec::new(), format!("{refused}.")).await
        }
        Err(refused) => refuse(draft, Vec::new(), capitalised(&refused.to_string())).await,
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

pub struct FileView {
    pub kind: &'static str,
    pub facts: String,
    pub preview: Option<String>,
    pub alt_text: String,
}

pub struct EventView {
    pub at: String,
    pub status: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "planner/show.html")]
struct PublicationPage {
    page: PageContext,
    id: i64,
    account: String,
    account_id: i64,
    kind: &'static str,
    status: &'static str,
    status_key: &'static str,
    open: bool,
    due: String,
    due_date: String,
    due_time: String,
    published: Option<String>,
    caption: String,
    first_comment: Option<String>,
    last_error: Option<String>,
    permalink: Option<String>,
    post: Option<i64>,
    media_id: Option<String>,
    files: Vec<FileView>,
    events: Vec<EventView>,
    is_admin: bool,
    csrf_token: String,
    timezone: String,
    error: Option<String>,
}

pub async fn show_publication(
    user: CurrentUser,
    notice: Notice,
    id: web::Path<i64>,
    publishing: web::Data<Publishing>,
) -> AppResult<HttpResponse> {
    publication_page(&user, notice, PublicationId(*id), None, &publishing, StatusCode::OK).await
}

async fn publication_page(
    user: &CurrentUser,
    notice: Notice,
    id: PublicationId,
    error: Option<String>,
    publishing: &Publishing,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let detail = publishing.detail(id).await?.ok_or(AppError::NotFound)?;
    let tz = publishing.time_zone().await?;
    let p = &detail.publication;
    let local = |at: DateTime<Utc>| at.with_timezone(&tz).format("%A %-d %B %Y, %H:%M").to_string();
    let files = detail
        .files
        .iter()
        .map(|f| {
            let video = f.content_type.starts_with("video/");
            let size = format!("{:.1} MB", f.bytes as f64 / 1_000_000.0);
            let facts = match (f.width, f.height, f.duration_ms) {
                (_, _, Some(ms)) => format!("{size}, {:.0} s", ms as f64 / 1000.0),
                (Some(w), Some(h), _) => format!("{size}, {w}×{h} px"),
                _ => size,
            };
            FileView {
                kind: if video { "Video" } else { "Image" },
                facts,
                preview: if video { None } else { publishing.preview_url(f) },
                alt_text: f.alt_text.clone().unwrap_or_default(),
            }
        })
        .collect();
    let events = detail
        .events
        .iter()
        .map(|e| EventView {
            at: e.at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string(),
            status: e.status.clone(),
            message: e.message.clone(),
        })
        .collect();
    let due_local = p.due_at.with_timezone(&tz);
    let page = PublicationPage {
        page: PageContext::new(user, notice, "planner"),
        id: p.id.0,
        account: detail.username.clone(),
        account_id: p.account_id.0,
        kind: p.kind.label(),
        status: p.status.label(),
        status_key: p.status.as_str(),
        open: p.status.is_open(),
        due: local(p.due_at),
        due_date: due_local.format("%Y-%m-%d").to_string(),
        due_time: due_local.format("%H:%M").to_string(),
        published: p.published_at.map(local),
        caption: p.caption.clone(),
        first_comment: p.first_comment.clone(),
        last_error: p.last_error.clone().filter(|e| !e.is_empty()),
        permalink: detail.post.as_ref().and_then(|(_, link)| link.clone()).filter(|l| l.starts_with("https://")),
        post: detail.post.as_ref().map(|(id, _)| id.0),
        media_id: p.media_id.clone(),
        files,
        events,
        is_admin: user.is_admin(),
        csrf_token: user.csrf_token.clone(),
        timezone: tz.name().to_owned(),
        error,
    };
    render(status, &page)
}

#[derive(Debug, Deserialize)]
pub struct ScheduleForm {
    when: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
}

pub async fn reschedule_publication(
    AdminUser(user): AdminUser,
    id: web::Path<i64>,
    form: CsrfForm<ScheduleForm>,
    publishing: web::Data<Publishing>,
) -> AppResult<HttpResponse> {
    let id = PublicationId(*id);
    let tz = publishing.time_zone().await?;
    let result = match parse_when(&form.0.when, &form.0.date, &form.0.time, tz) {
        Ok(when) => publishing.reschedule(id, when).await,
        Err(message) => return refused_change(&user, id, message, &publishing).await,
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/planner/{id}?notice=publication-rescheduled"))),
        Err(err) => change_error(&user, id, err, &publishing).await,
    }
}

pub async fn cancel_publication(
    AdminUser(user): AdminUser,
    id: web::Path<i64>,
    _form: CsrfForm<super::EmptyForm>,
    publishing: web::Data<Publishing>,
) -> AppResult<HttpResponse> {
    let id = PublicationId(*id);
    match publishing.cancel(id).await {
        Ok(()) => Ok(see_other("/planner?notice=publication-cancelled")),
        Err(err) => change_error(&user, id, err, &publishing).await,
    }
}

async fn change_error(
    user: &CurrentUser,
    id: PublicationId,
    err: ChangeRefused,
    publishing: &Publishing,
) -> AppResult<HttpResponse> {
    match err {
        ChangeRefused::NotFound => Err(AppError::NotFound),
        ChangeRefused::Database(err) => Err(err.into()),
        other => refused_change(user, id, capitalised(&other.to_string()), publishing).await,
    }
}

async fn refused_change(
    user: &CurrentUser,
    id: PublicationId,
    message: String,
    publishing: &Publishing,
) -> AppResult<HttpResponse> {
    publication_page(user, Notice::default(), id, Some(message), publishing, StatusCode::UNPROCESSABLE_ENTITY).await
}
