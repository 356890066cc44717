//! Signed-in pages kept rendered and compressed, per data version, and served by copying.
//!
//! The analytics pages are the same for every user of one role until the data changes, but
//! for a few per-user parts: the CSRF token in their forms, the username and inbox count in
//! the navigation, and parts a page reads per request (the account page's shared links).
//! Such a page is rendered once with unguessable markers in those places, cut at the markers
//! and kept gzip-compressed; each request then joins the kept pieces around its own parts.
//!
//! The pieces are joined compressed: each is a raw DEFLATE stream flushed to a byte boundary
//! without a final block, so pieces made separately follow one another in one stream (no
//! piece refers back into another); a per-request part goes in as a stored (uncompressed)
//! block, and the gzip trailer's CRC-32 is combined from the pieces' own (RFC 1951 §3.2.4,
//! RFC 1952 §2.3). A client that does not take gzip gets the pieces decompressed.

use std::io::Write;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use flate2::Compression;
use flate2::write::{DeflateDecoder, DeflateEncoder};

use super::{Notice, PageContext};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::services::Views;
use crate::services::views::Basis;

/// A place in a kept page that each request fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hole {
    /// The session's CSRF token.
    Csrf,
    /// The signed-in user's name.
    Username,
    /// The inbox's waiting count in the navigation (HTML, possibly empty).
    Inbox,
    /// A page's own per-request HTML, by its position.
    Fragment(u8),
}

const FRAGMENTS: u8 = 4;

/// The markers a page is rendered with in place of its holes: a random word per process that
/// no caption or comment can contain, so only the template can put one in the page (and
/// HTML escaping leaves it unchanged: letters and digits only).
pub struct Markers {
    word: String,
}

impl Markers {
    pub fn new() -> Self {
        let nonce: u128 = rand::random();
        Self { word: format!("tmhole{nonce:032x}") }
    }

    pub fn marker(&self, hole: Hole) -> String {
        let tag = match hole {
            Hole::Csrf => "c".to_owned(),
            Hole::Username => "u".to_owned(),
            Hole::Inbox => "i".to_owned(),
            Hole::Fragment(n) => format!("f{n}"),
        };
        format!("{}{tag}x", self.word)
    }

    /// The hole a marker's tail names (what follows the word, up to its closing `x`).
    fn hole(tail: &str) -> Option<(Hole, usize)> {
        let end = tail.find('x')?;
        let hole = match &tail[..end] {
            "c" => Hole::Csrf,
            "u" => Hole::Username,
            "i" => Hole::Inbox,
            f => Hole::Fragment(f.strip_prefix('f')?.parse().ok().filter(|n| *n < FRAGMENTS)?),
        };
        Some((hole, end + 1))
    }
}

impl Default for Markers {
    fn default() -> Self {
        Self::new()
    }
}

/// A final, empty block with the fixed codes: it ends a DEFLATE stream.
const END: [u8; 2] = [0x03, 0x00];

/// One kept piece: its compressed bytes and the CRC-32 and length of what they hold.
struct Piece {
    deflated: Vec<u8>,
    crc: crc32fast::Hasher,
    len: usize,
}

/// A page cut at its holes: `pieces[0]`, `holes[0]`, `pieces[1]`, …, `pieces[n]`.
pub struct KeptPage {
    pieces: Vec<Piece>,
    holes: Vec<Hole>,
}

/// What fills the holes for one request.
pub struct Fill<'a> {
    pub csrf_token: &'a str,
    pub username: &'a str,
    /// Already HTML.
    pub inbox: &'a str,
    /// Already HTML, by position.
    pub fragments: &'a [String],
}

impl Fill<'_> {
    fn text(&self, hole: Hole) -> String {
        match hole {
            Hole::Csrf => escape(self.csrf_token),
            Hole::Username => escape(self.username),
            Hole::Inbox => self.inbox.to_owned(),
            Hole::Fragment(n) => self.fragments.get(usize::from(n)).cloned().unwrap_or_default(),
        }
    }
}

/// The same escaping askama gives `{{ value }}` in an HTML template.
fn escape(text: &str) -> String {
    askama::filters::escape(text, askama::filters::Html).map(|s| s.to_string()).unwrap_or_default()
}

impl KeptPage {
    /// Cuts a page rendered with `markers` at its holes and compresses the pieces.
    pub fn cut(html: &str, markers: &Markers) -> Self {
        let mut pieces = Vec::new();
        let mut holes = Vec::new();
        let mut rest = html;
        while let Some(at) = rest.find(&markers.word) {
            let tail = &rest[at + markers.word.len()..];
            // Only the template writes the word, always with a hole's tag after it.
            let Some((hole, used)) = Markers::hole(tail) else { break };
            pieces.push(Piece::new(&rest[..at]));
            holes.push(hole);
            rest = &tail[used..];
        }
        pieces.push(Piece::new(rest));
        Self { pieces, holes }
    }

    /// The page as gzip, its holes filled.
    pub fn gzip(&self, fill: &Fill<'_>) -> Vec<u8> {
        const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        let size: usize = self.pieces.iter().map(|p| p.deflated.len()).sum();
        let mut out = Vec::with_capacity(size + 512);
        out.extend_from_slice(&HEADER);
        let mut crc = crc32fast::Hasher::new();
        let mut length = 0usize;
        for (n, piece) in self.pieces.iter().enumerate() {
            out.extend_from_slice(&piece.deflated);
            crc.combine(&piece.crc);
            length += piece.len;
            if let Some(hole) = self.holes.get(n) {
                let text = fill.text(*hole);
                stored_blocks(&mut out, text.as_bytes());
                let mut own = crc32fast::Hasher::new();
                own.update(text.as_bytes());
                crc.combine(&own);
                length += text.len();
            }
        }
        out.extend_from_slice(&END);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        // ISIZE is the length modulo 2^32.
        out.extend_from_slice(&(length as u32).to_le_bytes());
        out
    }

    /// The page as HTML, its holes filled.
    pub fn html(&self, fill: &Fill<'_>) -> std::io::Result<Vec<u8>> {
        let size: usize = self.pieces.iter().map(|p| p.len).sum();
        let mut out = Vec::with_capacity(size + 512);
        for (n, piece) in self.pieces.iter().enumerate() {
            let mut inflate = DeflateDecoder::new(std::mem::take(&mut out));
            // A piece alone is a stream without its end: the final empty block completes it.
            inflate.write_all(&piece.deflated)?;
            inflate.write_all(&END)?;
            out = inflate.finish()?;
            if let Some(hole) = self.holes.get(n) {
                out.extend_from_slice(fill.text(*hole).as_bytes());
            }
        }
        Ok(out)
    }

    /// The response for this request: gzip when the client takes it.
    pub fn respond(&self, req: &HttpRequest, fill: &Fill<'_>) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        response.content_type("text/html; charset=utf-8").insert_header((header::VARY, "Accept-Encoding"));
        if takes_gzip(req) {
            response.insert_header((header::CONTENT_ENCODING, "gzip")).body(self.gzip(fill))
        } else {
            match self.html(fill) {
                Ok(html) => response.body(html),
                Err(err) => AppError::Internal(anyhow::Error::new(err).context("a kept page did not decompress"))
                    .error_response(),
            }
        }
    }
}

impl Piece {
    fn new(text: &str) -> Self {
        let mut deflate = DeflateEncoder::new(Vec::with_capacity(text.len() / 4 + 64), Compression::default());
        // Writing to a vector cannot fail. `flush` is a sync flush: everything is written out
        // and the stream ends on a byte boundary without a final block, so any other block
        // can follow; the final block the encoder adds when dropped goes to the emptied vector.
        let _ = deflate.write_all(text.as_bytes());
        let _ = deflate.flush();
        let deflated = std::mem::take(deflate.get_mut());
        let mut crc = crc32fast::Hasher::new();
        crc.update(text.as_bytes());
        Self { deflated, crc, len: text.len() }
    }
}

/// `bytes` as stored DEFLATE blocks (at most 65,535 bytes each), none of them final.
fn stored_blocks(out: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in bytes.chunks(usize::from(u16::MAX)) {
        let len = chunk.len() as u16;
        out.push(0x00);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// True when the request's `Accept-Encoding` takes gzip (and does not refuse it with q=0).
fn takes_gzip(req: &HttpRequest) -> bool {
    let Some(accepted) = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    accepted.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

/// Renders `page` for a kept copy, reporting a template error like [`super::render`].
pub fn render_for_keeping(page: &impl Template, markers: &Markers) -> AppResult<KeptPage> {
    let html =
        page.render().map_err(|err| AppError::Internal(anyhow::Error::new(err).context("rendering a page failed")))?;
    Ok(KeptPage::cut(&html, markers))
}

/// The markers of this process.
static MARKERS: std::sync::LazyLock<Markers> = std::sync::LazyLock::new(Markers::new);

/// What a page's template gets to know of the user: for a kept copy, markers in place of
/// everything personal.
pub struct Personal {
    pub page: PageContext,
    pub csrf_token: String,
    /// The page's per-request parts, by position (see [`Hole::Fragment`]).
    pub fragments: Vec<String>,
}

/// Serves a signed-in page from its kept copy, rendering and keeping it first when the data
/// moved on since (or the hour changed: pages say "expires in 5 hours").
///
/// `key` names the view with every parameter that changes it; the role is added here. A
/// page showing a one-time notice is rendered for its request alone. `build` must take
/// everything personal from the [`Personal`] it is given, never from `user` beyond its role.
#[allow(clippy::too_many_arguments)] // each is one thing the page is made of; a struct would only rename them
pub async fn serve<T: Template>(
    req: &HttpRequest,
    views: &Views,
    basis: &Basis,
    user: &CurrentUser,
    section: &'static str,
    key: &str,
    fragments: Vec<String>,
    build: impl AsyncFnOnce(Personal) -> AppResult<T>,
) -> AppResult<HttpResponse> {
    let notice = Notice::of(req);
    if notice.0.is_some() {
        let personal =
            Personal { page: PageContext::new(user, notice, section), csrf_token: user.csrf_token.clone(), fragments };
        return super::render(actix_web::http::StatusCode::OK, &build(personal).await?);
    }
    let role = if user.is_admin() { "admin" } else { "viewer" };
    let kept_key = format!("page:{key}:{role}:{}", basis.now.format("%Y-%m-%dT%H"));
    let page = views
        .kept(basis, kept_key, async || {
            let markers = &*MARKERS;
            let placeholder = CurrentUser {
                csrf_token: markers.marker(Hole::Csrf),
                username: markers.marker(Hole::Username),
                ..user.clone()
            };
            let mut page = PageContext::new(&placeholder, Notice::default(), section);
            page.inbox = markers.marker(Hole::Inbox);
            let personal = Personal {
                page,
                csrf_token: placeholder.csrf_token.clone(),
                fragments: (0..FRAGMENTS).map(|n| markers.marker(Hole::Fragment(n))).collect(),
            };
            render_for_keeping(&build(personal).await?, markers)
        })
        .await?;
    let inbox = PageContext::new(user, Notice::default(), section).inbox;
    let fill = Fill { csrf_token: &user.csrf_token, username: &user.username, inbox: &inbox, fragments: &fragments };
    Ok(page.respond(req, &fill))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn page(markers: &Markers, caption: &str) -> String {
        format!(
            "<nav>{}{}</nav><p>{caption}</p><form><input name=csrf_token value=\"{}\"></form>{}<footer>{}</footer>",
            markers.marker(Hole::Username),
            markers.marker(Hole::Inbox),
            markers.marker(Hole::Csrf),
            markers.marker(Hole::Fragment(0)),
            "quiet ".repeat(20_000),
        )
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes).read_to_string(&mut text).expect("a valid gzip stream");
        text
    }

    #[test]
    fn every_request_gets_its_own_parts_in_gzip_and_in_plain_html() {
        let markers = Markers::new();
        // A caption naming another process's marker stays text: its word is not this one's.
        let other = Markers::new().marker(Hole::Csrf);
        let kept = KeptPage::cut(&page(&markers, &other), &markers);
        assert_eq!(kept.holes, [Hole::Username, Hole::Inbox, Hole::Csrf, Hole::Fragment(0)]);
        let big = "<tr><td>link</td></tr>".repeat(4_000);
        let fragments = [big.clone()];
        let fill = Fill { csrf_token: "tok\"en", username: "ana<b>", inbox: " <span>3</span>", fragments: &fragments };
        let expected = format!(
            "<nav>ana&#60;b&#62; <span>3</span></nav><p>{other}</p><form><input name=csrf_token value=\"tok&#34;en\"></form>{big}<footer>{}</footer>",
            "quiet ".repeat(20_000),
        );
        let gzip = kept.gzip(&fill);
        assert!(big.len() > usize::from(u16::MAX), "a part longer than one stored block");
        assert_eq!(gunzip(&gzip), expected, "the gzip body (its CRC and length are checked by the decoder)");
        assert_eq!(String::from_utf8(kept.html(&fill).unwrap()).unwrap(), expected);
        // The per-request part goes in as it is; the 120 KB of kept text stay compressed.
        assert!(gzip.len() < big.len() + 2_000, "{} bytes", gzip.len());

        let other_user = Fill { csrf_token: "second", username: "bo", inbox: "", fragments: &[] };
        let second = gunzip(&kept.gzip(&other_user));
        assert!(second.starts_with("<nav>bo</nav>") && second.contains("value=\"second\""));
        assert!(!second.contains("tok&#34;en") && !second.contains("ana"), "nothing of the first user");
        assert!(!second.contains(&markers.word), "no marker left");
    }

    #[test]
    fn a_page_without_holes_is_one_piece() {
        let markers = Markers::new();
        let kept = KeptPage::cut("<p>plain</p>", &markers);
        let fill = Fill { csrf_token: "", username: "", inbox: "", fragments: &[] };
        assert_eq!(gunzip(&kept.gzip(&fill)), "<p>plain</p>");
        assert_eq!(kept.html(&fill).unwrap(), b"<p>plain</p>");
    }

    #[test]
    fn gzip_is_sent_only_to_clients_that_take_it() {
        let takes = |value: &str| {
            let req = actix_web::test::TestRequest::default()
                .insert_header((header::ACCEPT_ENCODING, value))
                .to_http_request();
            takes_gzip(&req)
        };
        assert!(takes("gzip, deflate, br, zstd"));
        assert!(takes("br;q=1.0, GZIP;q=0.5"));
        assert!(takes("*"));
        assert!(!takes("br"));
        assert!(!takes("gzip;q=0, br"));
        assert!(!takes_gzip(&actix_web::test::TestRequest::default().to_http_request()));
    }
}
