//! Reports: schedules in Settings, the report made once per period by the scheduler's pass,
//! mailed to a real SMTP server (Python's aiosmtpd, started by each test), its PDF read back
//! with `pdftotext`, and every report kept unchanged.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use mail_parser::{MessageParser, MimeHeaders};
use tidemark::mail::MailSettings;
use tidemark::services::reports::DueSummary;

use crate::helpers::{AppOptions, TempDir, TestApp, location, spawn_app, spawn_app_with};

/// A real SMTP server on a local port that writes every message it receives to a Maildir.
pub struct SmtpSink {
    child: Child,
    maildir: TempDir,
    pub port: u16,
}

impl SmtpSink {
    /// Where `scripts/test` put a Python with aiosmtpd (from PyPI).
    fn python() -> String {
        std::env::var("TIDEMARK_SMTP_SINK_PYTHON").unwrap_or_else(|_| {
            let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".dev/py/bin/python");
            if local.exists() { local.display().to_string() } else { "python3".to_owned() }
        })
    }

    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    pub async fn start_on(port: u16) -> SmtpSink {
        let maildir = TempDir::new("maildir");
        let mut child = Command::new(Self::python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.0.join("box"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts (scripts/test installs it into .dev/py)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return SmtpSink { child, maildir, port };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not listen on {port}");
    }

    pub async fn start() -> SmtpSink {
        Self::start_on(Self::free_port()).await
    }

    pub fn settings(port: u16) -> MailSettings {
        MailSettings::parse(&format!("smtp://127.0.0.1:{port}?tls=none"), "Tidemark <reports@tidemark.test>").unwrap()
    }

    /// Every message received, as raw bytes.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let new = self.maildir.0.join("box").join("new");
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(&new).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        files.sort();
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of a PDF, as `pdftotext` (poppler) reads it.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = TempDir::new("pdf");
    let file = dir.0.join("report.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext runs (Debian's poppler-utils; scripts/test installs it)");
    assert!(out.status.success(), "pdftotext read the file: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The headline figures of a page's overview cards: (label, value).
fn card_figures(html: &str) -> Vec<(String, String)> {
    let section = &html[html.find("class=\"cards overview\"").expect("the overview cards")..];
    let section = &section[..section.find("</section>").unwrap()];
    section
        .split("<div class=\"card\">")
        .skip(1)
        .map(|card| {
            let label_start = card.find("<span class=\"label\">").unwrap() + "<span class=\"label\">".len();
            let label = &card[label_start..];
            let label = label[..label.find("</span>").unwrap()].to_owned();
            // A signed-in page links each label to its definition.
            let label = match label.find('>') {
                Some(i) if label.starts_with("<a") => label[i + 1..].trim_end_matches("</a>").to_owned(),
                _ => label,
            };
            let value = &card[card.find("<span class=\"figure\">").unwrap() + "<span class=\"figure\">".len()..];
            (label, value[..value.find("</span>").unwrap()].to_owned())
        })
        .collect()
}

async fn schedule(app: &TestApp, admin: &reqwest::Client, account: &str, cadence: &str, to: &str) -> reqwest::Response {
    let fields =
        [("account", account), ("cadence", cadence), ("recipients", to), ("time_zone", "UTC"), ("send_hour", "0")];
    app.post_form(admin, "/settings", "/settings/reports", &fields).await
}

#[tokio::test]
async fn a_scheduled_report_is_mailed_once_with_its_pdf_and_holds_the_account_pages_figures() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(AppOptions { mail: Some(SmtpSink::settings(sink.port)), ..AppOptions::default() }).await;
    let account = app.connect(0).await;
    // Two weeks of daily syncs: each records the day before, so the last whole week is measured.
    for _ in 0..14 {
        app.run_sync().await;
        app.sim.advance(chrono::Duration::days(1));
    }
    app.run_sync().await;
    let admin = app.admin().await;
    let response = schedule(&app, &admin, &account.id.to_string(), "weekly", "ana@example.com, Bo@example.org").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/settings?notice=report-schedule-added#reports");

    assert_eq!(app.reports.send_due().await.unwrap(), DueSummary { made: 1, mailed: 1, failed: 0, retried: 0 });
    assert_eq!(app.reports.send_due().await.unwrap(), DueSummary::default(), "a period is sent once");

    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "one message, to both recipients");
    let message = MessageParser::default().parse(&messages[0]).unwrap();
    let to: Vec<String> = message.to().unwrap().iter().filter_map(|a| a.address().map(str::to_owned)).collect();
    assert_eq!(to, ["ana@example.com", "Bo@example.org"]);
    let subject = message.subject().unwrap().to_owned();
    assert!(subject.starts_with(&format!("Weekly report for @{}", account.username)), "{subject}");
    let text = message.body_text(0).unwrap().into_owned();
    let html = message.body_html(0).unwrap().into_owned();
    let pdf = message
        .attachments()
        .find(|a| a.content_type().is_some_and(|t| t.subtype() == Some("pdf")))
        .expect("the PDF is attached")
        .contents()
        .to_vec();
    assert!(pdf.starts_with(b"%PDF-"));

    // The page of the same account and week shows the same figures as the PDF and the mail.
    let kept: Vec<(i64, chrono::NaiveDate, chrono::NaiveDate)> = {
        let mut conn = app.db.connect().await;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        tidemark::db::schema::sent_reports::table
            .select((
                tidemark::db::schema::sent_reports::id,
                tidemark::db::schema::sent_reports::first_day,
                tidemark::db::schema::sent_reports::last_day,
            ))
            .load(&mut conn)
            .await
            .unwrap()
    };
    let (report, first, last) = kept[0];
    assert_eq!((last - first).num_days(), 6, "Monday to Sunday");
    let page = app.get_text(&admin, &format!("/accounts/{}?from={first}&to={last}", account.id)).await;
    let figures = card_figures(&page);
    assert_eq!(figures.len(), 6, "{figures:?}");
    let measured = figures.iter().filter(|(_, v)| v.chars().any(|c| c.is_ascii_digit())).count();
    assert!(measured >= 5, "the week has measured figures to compare: {figures:?}");
    let pdf_words = pdf_text(&pdf);
    for (label, value) in &figures {
        assert!(pdf_words.contains(value.as_str()), "the PDF shows {label} = {value}:\n{pdf_words}");
        let line = text.lines().find(|l| l.to_lowercase().starts_with(label.as_str())).unwrap_or_default();
        assert!(line.contains(value.as_str()), "the text part shows {label} = {value}: {line:?}");
        assert!(html.contains(value.as_str()), "the HTML part shows {label} = {value}");
    }
    assert!(pdf_words.contains(&format!("@{}", account.username)));

    // Kept: the page lists it as mailed; its PDF downloads byte for byte as it was sent,
    // even after the history behind it moved on.
    let list = app.get_text(&admin, "/reports").await;
    assert!(list.contains("mailed to ana@example.com, Bo@example.org"), "{list}");
    app.sim.advance(chrono::Duration::days(2));
    app.run_sync().await;
    let again = app.get(&admin, &format!("/reports/{report}/pdf")).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["content-type"], "application/pdf");
    assert_eq!(again.bytes().await.unwrap().to_vec(), pdf, "the kept PDF never changes");
    let shown = app.get_text(&admin, &format!("/reports/{report}")).await;
    for (_, value) in &figures {
        assert!(shown.contains(value.as_str()), "the kept report's page still shows {value}");
    }
}

#[tokio::test]
async fn send_now_without_a_mail_server_keeps_the_report_and_says_it_was_not_mailed() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    app.run_sync().await;
    let admin = app.admin().await;
    let settings = app.get_text(&admin, "/settings").await;
    assert!(settings.contains("No mail server is configured"));
    assert_eq!(schedule(&app, &admin, "all", "monthly", "team@example.com").await.status(), 303);
    let settings = app.get_text(&admin, "/settings").await;
    assert!(settings.contains("Monthly report for all accounts"), "the schedule is listed");
    let id = app.count("SELECT coalesce(max(id), 0) AS n FROM report_schedules").await;

    let response = app.post_form(&admin, "/settings", &format!("/settings/reports/{id}/send"), &[]).await;
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert!(to.ends_with("?notice=report-kept"), "{to}");
    let page = app.get_text(&admin, &to).await;
    assert!(page.contains("Monthly report for the one account"), "{page}");
    assert!(page.contains("kept here only: no mail server is configured"));
    assert!(page.contains(&format!("@{}", account.username)), "the account's line");

    // A viewer reads reports but cannot send one.
    app.create_user("vera", tidemark::domain::Role::Viewer).await;
    let viewer = app.signed_in("vera").await;
    assert_eq!(app.get(&viewer, &to).await.status(), 200);
    let refused = app.post_form(&viewer, "/reports", &format!("/settings/reports/{id}/send"), &[]).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(app.count("SELECT count(*) AS n FROM sent_reports").await, 1);
}

#[tokio::test]
async fn a_refused_mailing_is_kept_with_its_reason_and_tried_again_later() {
    // Nothing listens on the port yet: the first attempt fails.
    let port = SmtpSink::free_port();
    let app = spawn_app_with(AppOptions { mail: Some(SmtpSink::settings(port)), ..AppOptions::default() }).await;
    let account = app.connect(0).await;
    app.run_sync().await;
    let admin = app.admin().await;
    schedule(&app, &admin, &account.id.to_string(), "weekly", "ana@example.com").await;
    assert_eq!(app.reports.send_due().await.unwrap(), DueSummary { made: 1, mailed: 0, failed: 1, retried: 0 });
    let list = app.get_text(&admin, "/reports").await;
    assert!(list.contains("not mailed to ana@example.com: the SMTP server did not take it"), "{list}");
    assert_eq!(app.reports.send_due().await.unwrap(), DueSummary::default(), "not again within a quarter hour");

    let sink = SmtpSink::start_on(port).await;
    app.sim.advance(chrono::Duration::minutes(16));
    assert_eq!(app.reports.send_due().await.unwrap().retried, 1);
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM sent_reports WHERE delivery = 'mailed' AND attempts = 2").await, 1);
}

#[tokio::test]
async fn the_schedule_form_names_every_problem_and_stores_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fields = [
        ("account", "999"),
        ("cadence", "daily"),
        ("recipients", "ana@example.com, not-an-address"),
        ("time_zone", "Mars/Olympus"),
        ("send_hour", "25"),
    ];
    let response = app.post_form(&admin, "/settings", "/settings/reports", &fields).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    for problem in [
        "Choose one of the accounts",
        "Choose weekly or monthly",
        "These are not e-mail addresses: not-an-address",
        "Choose a time zone",
        "Choose the hour",
    ] {
        assert!(page.contains(problem), "{problem}");
    }
    assert!(page.contains("ana@example.com, not-an-address"), "what was typed stays in the form");
    assert_eq!(app.count("SELECT count(*) AS n FROM report_schedules").await, 0);
}

#[tokio::test]
async fn a_preview_shows_the_last_week_and_its_pdf_without_keeping_anything() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    app.run_sync().await;
    let admin = app.admin().await;
    let page = app.get_text(&admin, &format!("/reports/preview?account={}&cadence=weekly", account.id)).await;
    assert!(page.contains(&format!("Weekly report for @{}", account.username)));
    assert!(page.contains("neither sent nor kept"));
    let pdf = app.get(&admin, &format!("/reports/preview.pdf?account={}&cadence=weekly", account.id)).await;
    assert_eq!(pdf.status(), 200);
    let disposition = pdf.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename=\"tidemark-weekly-"), "{disposition}");
    assert!(pdf_text(&pdf.bytes().await.unwrap()).contains("Best posts of the period"));
    assert_eq!(app.get(&admin, "/reports/preview?cadence=hourly").await.status(), 400);
    assert_eq!(app.count("SELECT count(*) AS n FROM sent_reports").await, 0);
}

#[tokio::test]
async fn deleting_an_account_deletes_every_report_that_shows_it() {
    let app = spawn_app().await;
    let account = app.connect(0).await;
    app.run_sync().await;
    let admin = app.admin().await;
    schedule(&app, &admin, "all", "weekly", "ana@example.com").await;
    schedule(&app, &admin, &account.id.to_string(), "monthly", "ana@example.com").await;
    assert_eq!(app.reports.send_due().await.unwrap().made, 2);
    let path = format!("/accounts/{}/delete", account.id);
    let response = app.post_form(&admin, &path, &path, &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.count("SELECT count(*) AS n FROM sent_reports").await, 0, "the all-accounts report showed it too");
    assert_eq!(app.count("SELECT count(*) AS n FROM report_schedules").await, 1, "the all-accounts schedule stays");
}

#[tokio::test]
async fn a_new_schedule_sends_the_period_just_ended_at_once_then_keeps_to_its_hour() {
    use chrono::{Datelike, Timelike};
    let app = spawn_app().await;
    let account = app.connect(0).await;
    app.run_sync().await;
    // To the next Monday, 00:30 UTC: the week has just ended, its sending hour (23:00) is far.
    let now = app.sim.now();
    let to_monday = (7 - i64::from(now.weekday().num_days_from_monday())) % 7;
    let midnight = chrono::Duration::seconds(i64::from(now.num_seconds_from_midnight()));
    app.sim.advance(
        chrono::Duration::days(if to_monday == 0 { 7 } else { to_monday }) - midnight + chrono::Duration::minutes(30),
    );
    let admin = app.admin().await;
    let fields = [
        ("account", &*account.id.to_string()),
        ("cadence", "weekly"),
        ("recipients", "ana@example.com"),
        ("time_zone", "UTC"),
        ("send_hour", "23"),
    ];
    assert_eq!(app.post_form(&admin, "/settings", "/settings/reports", &fields).await.status(), 303);
    assert_eq!(app.reports.send_due().await.unwrap().made, 1, "the first report goes out at once");
    app.sim.advance(chrono::Duration::hours(1));
    assert_eq!(app.reports.send_due().await.unwrap().made, 0, "that week is sent");
    // A week later the next report waits for its hour.
    app.sim.advance(chrono::Duration::days(7) - chrono::Duration::hours(1));
    assert_eq!(app.reports.send_due().await.unwrap().made, 0, "00:30, before 23:00");
    app.sim.advance(chrono::Duration::hours(23));
    assert_eq!(app.reports.send_due().await.unwrap().made, 1, "23:30");
    assert_eq!(app.count("SELECT count(DISTINCT first_day) AS n FROM sent_reports").await, 2);
}
