//! Reports: the schedules in Settings, the report of a schedule's last whole week or month
//! (previewed, sent now, or sent by the scheduler the morning after), its e-mail, and every
//! report kept as it was made.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use url::Url;

use super::content::{Frame, ReportContent, SlotLine};
use super::pdf::{self, Pictures};
use super::{email, last_complete_period, send_time};
use crate::analytics::groups::{self, Placement};
use crate::analytics::period::Period;
use crate::db::report_schedules::{self, NewReportSchedule, ReportSchedule};
use crate::db::reports::PostFilter;
use crate::db::sent_reports::{self, NewSentReport, SentReport};
use crate::db::{self, DbError};
use crate::domain::{AccountId, Cadence, Clock, Delivery, ReportScheduleId, SentReportId, UserId};
use crate::mail::{AttachedFile, InlinePicture, MailError, Mailer, Outgoing};
use crate::services::Views;
use crate::services::views::models::group_views;

/// Days of posts the best slots are ranked from, ending with the report's period.
const SLOT_DAYS: i64 = 90;
/// Tries at mailing a scheduled report before it is left as failed.
const MAX_ATTEMPTS: i16 = 4;
/// Time between tries.
const RETRY_AFTER: chrono::Duration = chrono::Duration::minutes(15);

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Pdf(#[from] pdf::PdfError),
    #[error("the e-mail could not be written: {0}")]
    Template(#[from] askama::Error),
    #[error("the report's stored content cannot be read: {0}")]
    Stored(#[from] serde_json::Error),
}

impl From<diesel::result::Error> for ReportError {
    fn from(err: diesel::result::Error) -> Self {
        ReportError::Db(err.into())
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for ReportError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        ReportError::Db(err.into())
    }
}

impl From<ReportError> for crate::error::AppError {
    fn from(err: ReportError) -> Self {
        match err {
            ReportError::Db(db) => db.into(),
            other => crate::error::AppError::Internal(other.into()),
        }
    }
}

/// Whom a report is about and how it is made.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// `None`: every account.
    pub account: Option<AccountId>,
    pub cadence: Cadence,
    pub tz: Tz,
}

impl From<&ReportSchedule> for ReportRequest {
    fn from(schedule: &ReportSchedule) -> Self {
        ReportRequest {
            account: schedule.account_id,
            cadence: schedule.cadence,
            tz: schedule.time_zone.parse().unwrap_or(chrono_tz::UTC),
        }
    }
}

/// A report made and its PDF, not yet kept.
pub struct MadeReport {
    pub content: ReportContent,
    pub pdf: Vec<u8>,
    pub pictures: Pictures,
    /// Every account it shows.
    pub accounts: Vec<AccountId>,
}

/// What one scheduler pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DueSummary {
    pub made: usize,
    pub mailed: usize,
    pub failed: usize,
    pub retried: usize,
}

pub struct Reports {
    pool: db::Pool,
    views: Arc<Views>,
    mailer: Mailer,
    /// Where the e-mail's link points: `{public_url}/reports/{id}`.
    public_url: Url,
    clock: Clock,
}

impl Reports {
    pub fn new(pool: db::Pool, views: Arc<Views>, mailer: Mailer, public_url: Url, clock: Clock) -> Self {
        Reports { pool, views, mailer, public_url, clock }
    }

    /// The SMTP server and sender, when mail is configured.
    pub fn mail_setup(&self) -> Option<String> {
        self.mailer.describe()
    }

    pub async fn schedules(&self) -> Result<Vec<ReportSchedule>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(report_schedules::all(&mut conn).await?)
    }

    pub async fn schedule(&self, id: ReportScheduleId) -> Result<Option<ReportSchedule>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(report_schedules::find(&mut conn, id).await?)
    }

    pub async fn add_schedule(&self, new: &NewReportSchedule) -> Result<ReportScheduleId, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(report_schedules::insert(&mut conn, new).await?)
    }

    pub async fn delete_schedule(&self, id: ReportScheduleId) -> Result<bool, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(report_schedules::delete(&mut conn, id).await?)
    }

    pub async fn kept(&self, limit: i64) -> Result<Vec<SentReport>, DbError> {
        let mut conn = self.pool.get().await?;
        Ok(sent_reports::recent(&mut conn, limit).await?)
    }

    /// A kept report with what it said when it was made.
    pub async fn kept_report(&self, id: SentReportId) -> Result<Option<(SentReport, ReportContent)>, ReportError> {
        let mut conn = self.pool.get().await?;
        let Some(report) = sent_reports::find(&mut conn, id).await? else { return Ok(None) };
        let Some(content) = sent_reports::content(&mut conn, id).await? else { return Ok(None) };
        Ok(Some((report, serde_json::from_value(content)?)))
    }

    /// A kept report's PDF and its file name.
    pub async fn kept_pdf(&self, id: SentReportId) -> Result<Option<(String, Vec<u8>)>, ReportError> {
        let Some((_, content)) = self.kept_report(id).await? else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        Ok(sent_reports::pdf(&mut conn, id).await?.map(|pdf| (content.file_name(), pdf)))
    }

    /// The report of the last whole week or month as it would be sent now; `None` when the
    /// account does not exist.
    pub async fn make(&self, request: &ReportRequest) -> Result<Option<MadeReport>, ReportError> {
        let basis = self.views.basis().await?;
        let (first, last) = last_complete_period(request.cadence, basis.now, request.tz);
        let period = Period { first, last, tz: request.tz };
        let definition = basis.definition();
        let slots_from = period.end() - chrono::Duration::days(SLOT_DAYS);
        let slot_filter = PostFilter {
            account: request.account,
            from: Some(slots_from),
            until: Some(period.end()),
            definition,
            ..PostFilter::default()
        };
        let slot_outcomes = self.views.outcomes(&basis, &slot_filter).await?;
        let cells = groups::best_time(&slot_outcomes, request.tz, Placement::Feed);
        let slots = groups::ranked_cells(&cells)
            .into_iter()
            .take(groups::BEST_SLOTS)
            .map(|((weekday, hour), summary)| SlotLine::new(weekday, hour, summary))
            .collect();
        let slots_basis = format!(
            "Ranked by median engagement from the feed posts and Reels of the {SLOT_DAYS} days to {}, by the hour \
             they went out in {}; an hour needs at least {} posts.",
            last.format("%-d %b %Y"),
            request.tz,
            groups::MIN_CELL_POSTS
        );
        let frame = Frame {
            cadence: request.cadence,
            first_day: first,
            last_day: last,
            period: period.label(),
            compared_with: period.previous().label(),
            time_zone: request.tz.to_string(),
            made_at: basis.now.with_timezone(&request.tz).format("%Y-%m-%d %H:%M %Z").to_string(),
            definition: definition.formula().to_owned(),
            slots,
            slots_basis,
        };
        let (content, accounts) = match request.account {
            Some(id) => {
                let Some(account) = self.views.account(id).await? else { return Ok(None) };
                let panel = self.views.panel(&basis, &account, &period).await?;
                (ReportContent::for_account(frame, &panel), vec![id])
            }
            None => {
                let dashboard = self.views.dashboard(&basis, &period).await?;
                let filter = PostFilter {
                    from: Some(period.start()),
                    until: Some(period.end()),
                    definition,
                    ..PostFilter::default()
                };
                let outcomes = self.views.outcomes(&basis, &filter).await?;
                let formats = group_views(groups::by_format(&outcomes));
                let accounts = dashboard.panels.iter().map(|p| p.id).collect();
                let content =
                    ReportContent::for_all(frame, &dashboard.overview, &dashboard.panels, &dashboard.top, formats);
                (content, accounts)
            }
        };
        let mut pictures = Pictures::new();
        for post in content.top.iter().filter(|p| p.picture) {
            if let Some(jpeg) = self.views.picture(crate::domain::PostId(post.post_id)).await? {
                pictures.insert(post.post_id, jpeg);
            }
        }
        let pdf = pdf::render(&content, &pictures)?;
        Ok(Some(MadeReport { content, pdf, pictures, accounts }))
    }

    /// Makes a schedule's report now, mails it and keeps it. `None` when there is no such
    /// schedule (or its account is gone).
    pub async fn send_now(
        &self,
        id: ReportScheduleId,
        by: UserId,
    ) -> Result<Option<(SentReportId, Delivery)>, ReportError> {
        let Some(schedule) = self.schedule(id).await? else { return Ok(None) };
        let Some(made) = self.make(&ReportRequest::from(&schedule)).await? else { return Ok(None) };
        let kept = self.deliver_and_keep(&schedule, made, Some(by)).await?;
        Ok(kept)
    }

    /// The scheduler's pass: every schedule whose last period has ended and whose hour has
    /// come gets its report, once; failed mailings are tried again a few times.
    pub async fn send_due(&self) -> Result<DueSummary, ReportError> {
        let now = self.now();
        let mut summary = DueSummary::default();
        for schedule in self.schedules().await? {
            let request = ReportRequest::from(&schedule);
            let (first, last) = last_complete_period(schedule.cadence, now, request.tz);
            let hour = u32::try_from(schedule.send_hour).unwrap_or(0);
            {
                let mut conn = self.pool.get().await?;
                // A new schedule sends the period that has just ended at once (the page says
                // so), even before that period's sending hour; from then on it keeps its hour.
                let waiting = now < send_time(last, hour, request.tz);
                if waiting && sent_reports::scheduled_any(&mut conn, schedule.id).await? {
                    continue;
                }
                if sent_reports::scheduled_exists(&mut conn, schedule.id, first).await? {
                    continue;
                }
            }
            let Some(made) = self.make(&request).await? else { continue };
            if let Some((id, delivery)) = self.deliver_and_keep(&schedule, made, None).await? {
                summary.made += 1;
                match delivery {
                    Delivery::Mailed => summary.mailed += 1,
                    Delivery::Failed => summary.failed += 1,
                    Delivery::NotMailed => {}
                }
                tracing::info!(report = id.0, schedule = schedule.id.0, delivery = delivery.as_str(), "report made");
            }
        }
        summary.retried = self.retry_failed(now).await?;
        Ok(summary)
    }

    /// Mails the report (when mail is configured) and keeps it with the outcome.
    async fn deliver_and_keep(
        &self,
        schedule: &ReportSchedule,
        made: MadeReport,
        by: Option<UserId>,
    ) -> Result<Option<(SentReportId, Delivery)>, ReportError> {
        let recipients = schedule.recipients();
        let (delivery, error) = match self.mail(&made.content, &made.pdf, &made.pictures, &recipients).await? {
            Ok(()) => (Delivery::Mailed, None),
            Err(MailError::NotConfigured) => (Delivery::NotMailed, None),
            Err(err) => {
                tracing::warn!(schedule = schedule.id.0, error = %err, "a report could not be mailed");
                (Delivery::Failed, Some(err.to_string()))
            }
        };
        let content = serde_json::to_value(&made.content)?;
        let now = self.now();
        let new = NewSentReport {
            schedule_id: Some(schedule.id),
            account_id: schedule.account_id,
            account_ids: made.accounts.iter().map(|a| a.0).collect(),
            cadence: schedule.cadence,
            first_day: made.content.first_day,
            last_day: made.content.last_day,
            made_by_hand: by.is_some(),
            made_by: by,
            made_at: now,
            recipients,
            delivery,
            mail_error: error,
            tried_at: now,
            content: &content,
            pdf: &made.pdf,
        };
        let mut conn = self.pool.get().await?;
        Ok(sent_reports::insert(&mut conn, &new).await?.map(|id| (id, delivery)))
    }

    /// The message for a report: its text and HTML parts, its pictures, its PDF.
    async fn mail(
        &self,
        content: &ReportContent,
        pdf: &[u8],
        pictures: &Pictures,
        to: &[String],
    ) -> Result<Result<(), MailError>, ReportError> {
        if !self.mailer.is_configured() {
            return Ok(Err(MailError::NotConfigured));
        }
        let link = self.public_url.join("reports").map_or_else(|_| self.public_url.to_string(), |u| u.to_string());
        let (subject, text, html) = email::render(content, &link, pictures)?;
        let message = Outgoing {
            to: to.to_vec(),
            subject,
            text,
            html,
            pictures: pictures
                .iter()
                .map(|(id, jpeg)| InlinePicture { content_id: email::picture_id(*id), jpeg: jpeg.clone() })
                .collect(),
            attachments: vec![AttachedFile {
                name: content.file_name(),
                content_type: "application/pdf",
                bytes: pdf.to_vec(),
            }],
        };
        Ok(self.mailer.send(message).await)
    }

    /// Mails again the scheduled reports whose mailing failed, from what was kept.
    async fn retry_failed(&self, now: DateTime<Utc>) -> Result<usize, ReportError> {
        let due = {
            let mut conn = self.pool.get().await?;
            sent_reports::to_retry(&mut conn, MAX_ATTEMPTS, now - RETRY_AFTER).await?
        };
        let mut retried = 0;
        for report in due {
            let Some((_, content)) = self.kept_report(report.id).await? else { continue };
            let pdf = {
                let mut conn = self.pool.get().await?;
                sent_reports::pdf(&mut conn, report.id).await?.unwrap_or_default()
            };
            // The pictures went into the PDF; the retried e-mail goes without inline copies.
            let outcome = self.mail(&content, &pdf, &Pictures::new(), &report.recipients()).await?;
            let (delivery, error) = match &outcome {
                Ok(()) => (Delivery::Mailed, None),
                Err(MailError::NotConfigured) => (Delivery::NotMailed, None),
                Err(err) => (Delivery::Failed, Some(err.to_string())),
            };
            let mut conn = self.pool.get().await?;
            sent_reports::record_attempt(&mut conn, report.id, delivery, error.as_deref(), now).await?;
            retried += 1;
        }
        Ok(retried)
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}
