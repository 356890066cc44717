//! Outgoing mail (reports, alerts) over SMTP with `lettre`: one configured server, messages
//! with a text part, an HTML part with its inline pictures, and attachments.

use std::time::Duration;

use anyhow::{Context, bail};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use url::Url;

/// How long one delivery may take (connect, greet, send) before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Where mail goes, from `TIDEMARK_SMTP_URL` and `TIDEMARK_MAIL_FROM`.
#[derive(Clone)]
pub struct MailSettings {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The server as the pages name it (no user or password).
    server: String,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings").field("server", &self.server).field("from", &self.from.to_string()).finish()
    }
}

impl MailSettings {
    /// `smtp://user:pass@host:587` sends with STARTTLS (required), `smtps://…:465` over TLS
    /// from the start. `smtp://…?tls=none` sends in the clear, for a relay on the same
    /// machine only. The user and password are percent-decoded.
    pub fn parse(url: &str, from: &str) -> anyhow::Result<MailSettings> {
        let url = Url::parse(url.trim()).context("TIDEMARK_SMTP_URL is not a URL (smtp://user:pass@host:587)")?;
        let host = url.host_str().filter(|h| !h.is_empty()).context("TIDEMARK_SMTP_URL names no host")?.to_owned();
        let tls_choice = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let parameters = || TlsParameters::new(host.clone()).context("cannot set up TLS for the SMTP server");
        let (tls, default_port) = match (url.scheme(), tls_choice.as_deref()) {
            ("smtps", None) => (Tls::Wrapper(parameters()?), 465),
            ("smtp", None | Some("required")) => (Tls::Required(parameters()?), 587),
            ("smtp", Some("none")) => (Tls::None, 25),
            (scheme, None) => bail!("TIDEMARK_SMTP_URL must start with smtp:// or smtps://, not {scheme}://"),
            (_, Some(other)) => {
                bail!("TIDEMARK_SMTP_URL's tls={other} is not understood: use tls=required or tls=none")
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
            .port(url.port().unwrap_or(default_port))
            .tls(tls)
            .timeout(Some(SEND_TIMEOUT));
        if !url.username().is_empty() {
            let decode = |s: &str| percent_decode(s).context("TIDEMARK_SMTP_URL's user or password is not valid UTF-8");
            let user = decode(url.username())?;
            let password = decode(url.password().unwrap_or_default())?;
            builder = builder.credentials(Credentials::new(user, password));
        }
        let from = from
            .trim()
            .parse::<Mailbox>()
            .with_context(|| format!("TIDEMARK_MAIL_FROM {from:?} is not an e-mail address"))?;
        let server = format!("{host}:{}", url.port().unwrap_or(default_port));
        Ok(MailSettings { transport: builder.build(), from, server })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn from_address(&self) -> String {
        self.from.to_string()
    }
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|s| s.into_owned())
}

/// A picture the HTML part shows by `cid:` reference.
pub struct InlinePicture {
    pub content_id: String,
    pub jpeg: Vec<u8>,
}

/// A file attached to a message.
pub struct AttachedFile {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// A message to send: every part is written by the caller; the mailer only assembles it.
pub struct Outgoing {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub pictures: Vec<InlinePicture>,
    pub attachments: Vec<AttachedFile>,
}

/// Why a message was not sent, in words for the pages.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no SMTP server is configured (TIDEMARK_SMTP_URL)")]
    NotConfigured,
    #[error("{0:?} is not an e-mail address")]
    BadAddress(String),
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the SMTP server did not take it: {0}")]
    Refused(String),
}

/// Sends messages through the configured server, if any.
#[derive(Clone, Debug, Default)]
pub struct Mailer {
    settings: Option<MailSettings>,
}

impl Mailer {
    pub fn new(settings: Option<MailSettings>) -> Mailer {
        Mailer { settings }
    }

    pub fn is_configured(&self) -> bool {
        self.settings.is_some()
    }

    /// "smtp.example.com:587, from Tidemark <reports@example.com>", for the pages.
    pub fn describe(&self) -> Option<String> {
        self.settings.as_ref().map(|s| format!("{}, from {}", s.server(), s.from_address()))
    }

    pub async fn send(&self, message: Outgoing) -> Result<(), MailError> {
        let settings = self.settings.as_ref().ok_or(MailError::NotConfigured)?;
        let mut builder = Message::builder().from(settings.from.clone()).subject(message.subject);
        for to in &message.to {
            builder = builder.to(to.parse::<Mailbox>().map_err(|_| MailError::BadAddress(to.clone()))?);
        }
        let mut related = MultiPart::related().singlepart(SinglePart::html(message.html));
        for picture in message.pictures {
            related = related.singlepart(Attachment::new_inline(picture.content_id).body(picture.jpeg, jpeg()));
        }
        let alternative = MultiPart::alternative().singlepart(SinglePart::plain(message.text)).multipart(related);
        let mut mixed = MultiPart::mixed().multipart(alternative);
        for file in message.attachments {
            let content_type = ContentType::parse(file.content_type).map_err(|e| MailError::Build(e.to_string()))?;
            mixed = mixed.singlepart(Attachment::new(file.name).body(file.bytes, content_type));
        }
        let email = builder.multipart(mixed).map_err(|e| MailError::Build(e.to_string()))?;
        settings.transport.send(email).await.map_err(|e| MailError::Refused(error_chain(&e)))?;
        Ok(())
    }
}

fn jpeg() -> ContentType {
    ContentType::parse("image/jpeg").unwrap_or(ContentType::TEXT_PLAIN)
}

/// The error and its causes in one line (lettre's own message alone is often "Connection error").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Addresses one report or alert may go to.
pub const MAX_RECIPIENTS: usize = 20;

/// The addresses typed into a form (separated by commas, semicolons, spaces or lines), each
/// checked; what is wrong with them, in words, otherwise. No address at all is an empty list.
pub fn recipients(text: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> =
        text.split([',', ';', '\n', '\r', ' ']).map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned).collect();
    let wrong: Vec<&str> = list.iter().filter(|r| r.parse::<lettre::Address>().is_err()).map(String::as_str).collect();
    if !wrong.is_empty() {
        return Err(format!("These are not e-mail addresses: {}.", wrong.join(", ")));
    }
    if list.len() > MAX_RECIPIENTS {
        return Err(format!("At most {MAX_RECIPIENTS} addresses."));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_chooses_how_the_connection_is_protected() {
        let from = "Tidemark <reports@example.com>";
        assert_eq!(MailSettings::parse("smtp://u:p@mail.example.com", from).unwrap().server(), "mail.example.com:587");
        assert_eq!(MailSettings::parse("smtps://mail.example.com", from).unwrap().server(), "mail.example.com:465");
        assert_eq!(MailSettings::parse("smtp://127.0.0.1:2525?tls=none", from).unwrap().server(), "127.0.0.1:2525");
        assert!(MailSettings::parse("http://mail.example.com", from).is_err());
        assert!(MailSettings::parse("smtp://mail.example.com?tls=maybe", from).is_err());
        assert!(MailSettings::parse("smtp://mail.example.com", "not an address").is_err());
    }

    #[test]
    fn typed_recipients_are_split_and_each_checked() {
        assert_eq!(recipients("a@example.com, b@example.org\nc@example.net").unwrap().len(), 3);
        assert_eq!(recipients("  ").unwrap(), Vec::<String>::new());
        assert_eq!(recipients("a@example.com bad@").unwrap_err(), "These are not e-mail addresses: bad@.");
        let many = (0..21).map(|n| format!("p{n}@example.com")).collect::<Vec<_>>().join(",");
        assert!(recipients(&many).is_err());
    }

    #[test]
    fn percent_escapes_in_the_password_are_decoded() {
        assert_eq!(percent_decode("p%40ss%2Fword").as_deref(), Some("p@ss/word"));
        assert_eq!(percent_decode("%FF"), None, "not UTF-8");
    }
}
