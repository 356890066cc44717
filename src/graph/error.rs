//! Graph API errors, classified by what the operator (or the sync) must do about them.
//! Classification uses `error.code` and `error_subcode`, never the HTTP status alone.

use std::time::Duration;

use serde::Deserialize;

/// What should happen after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The token is expired, revoked or lacks a permission: paste a new token.
    Reconnect,
    /// Rate limited: stop calling this account until the wait is over.
    Wait,
    /// Temporary: retried with backoff, and the next sync tries again.
    Retry,
    /// The API refused the request as made, or answered in an unexpected shape: report it.
    Report,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum GraphError {
    #[error(
        "the access token is no longer valid (code {code}{}): {message}. Paste a new token to re-connect the account",
        subcode_text(*subcode)
    )]
    TokenInvalid { code: i64, subcode: Option<i64>, message: String },
    #[error(
        "the token lacks a permission (code {code}): {message}. Re-connect with the insights permissions \
         (instagram_business_manage_insights or instagram_manage_insights)"
    )]
    Permission { code: i64, message: String },
    #[error("rate limited by the Graph API (code {code}); waiting {}", wait_text(*wait))]
    RateLimited { code: i64, wait: Option<Duration> },
    #[error("temporary Graph API failure: {detail}")]
    Transient { detail: String },
    #[error("the Graph API refused the request (code {code}{}): {message}", subcode_text(*subcode))]
    Rejected { code: i64, subcode: Option<i64>, message: String },
    #[error("unexpected answer from the Graph API (HTTP {status}): {body}")]
    Unexpected { status: u16, body: String },
}

fn subcode_text(subcode: Option<i64>) -> String {
    subcode.map(|s| format!("/{s}")).unwrap_or_default()
}

fn wait_text(wait: Option<Duration>) -> String {
    match wait {
        Some(wait) => format!("{} minute(s)", wait.as_secs().div_ceil(60)),
        None => "until the usage drops".to_owned(),
    }
}

impl GraphError {
    pub fn action(&self) -> Action {
        match self {
            GraphError::TokenInvalid { .. } | GraphError::Permission { .. } => Action::Reconnect,
            GraphError::RateLimited { .. } => Action::Wait,
            GraphError::Transient { .. } => Action::Retry,
            GraphError::Rejected { .. } | GraphError::Unexpected { .. } => Action::Report,
        }
    }

    /// A short, stable name for logs, metrics and the sync-run record.
    pub fn kind(&self) -> &'static str {
        match self {
            GraphError::TokenInvalid { .. } => "token_invalid",
            GraphError::Permission { .. } => "permission",
            GraphError::RateLimited { .. } => "rate_limited",
            GraphError::Transient { .. } => "transient",
            GraphError::Rejected { .. } => "rejected",
            GraphError::Unexpected { .. } => "unexpected",
        }
    }

    pub fn code(&self) -> Option<i64> {
        match self {
            GraphError::TokenInvalid { code, .. }
            | GraphError::Permission { code, .. }
            | GraphError::RateLimited { code, .. }
            | GraphError::Rejected { code, .. } => Some(*code),
            GraphError::Transient { .. } | GraphError::Unexpected { .. } => None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Envelope {
    error: ErrorBody,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    code: i64,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    is_transient: Option<bool>,
}

/// The api.instagram.com envelope: `{"error_type":…,"code":400,"error_message":…}`.
#[derive(Debug, Deserialize)]
struct FlatEnvelope {
    code: i64,
    error_message: String,
}

/// Classifies an error answer. `regain_after` comes from the usage headers of the same
/// answer. The body must already be redacted.
pub fn classify(status: u16, body: &str, regain_after: Option<Duration>) -> GraphError {
    let parsed = serde_json::from_str::<Envelope>(body).map(|e| e.error).or_else(|_| {
        serde_json::from_str::<FlatEnvelope>(body).map(|e| ErrorBody {
            message: e.error_message,
            code: e.code,
            error_subcode: None,
            is_transient: None,
        })
    });
    let Ok(error) = parsed else {
        return if status >= 500 || status == 429 {
            GraphError::Transient { detail: format!("HTTP {status} without an error body") }
        } else {
            GraphError::Unexpected { status, body: shorten(body) }
        };
    };
    let ErrorBody { message, code, error_subcode: subcode, is_transient } = error;
    match code {
        190 | 102 => GraphError::TokenInvalid { code, subcode, message },
        4 | 17 | 32 | 341 | 368 | 613 | 80001 | 80002 => GraphError::RateLimited { code, wait: regain_after },
        // Code 10 is also "not enough viewers" on stories: that is about the media, not the token.
        10 if message.contains("Not enough viewers") => GraphError::Rejected { code, subcode, message },
        10 | 200..=299 => GraphError::Permission { code, message },
        1 | 2 => GraphError::Transient { detail: format!("code {code}: {message}") },
        _ if is_transient == Some(true) || status >= 500 => {
            GraphError::Transient { detail: format!("code {code}: {message}") }
        }
        _ => GraphError::Rejected { code, subcode, message },
    }
}

pub(crate) fn shorten(text: &str) -> String {
    const LIMIT: usize = 500;
    if text.len() <= LIMIT {
        return text.to_owned();
    }
    let mut end = LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Removes a token from text that may quote it: `access_token=…` parameters (in URLs
/// the API echoes back) and the literal token wherever it appears.
pub fn redact(text: &str, token: &str) -> String {
    let mut out = text.to_owned();
    if !token.is_empty() {
        // The token as sent, and as an answer may echo it: percent-encoded or JSON-escaped.
        let percent: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let json = serde_json::to_string(token).unwrap_or_default();
        let json = json.trim_matches('"');
        for form in [token, percent.as_str(), &percent.replace('+', "%20"), json] {
            if !form.is_empty() {
                out = out.replace(form, "[redacted]");
            }
        }
    }
    for key in ["access_token=", "input_token=", "fb_exchange_token="] {
        let mut from = 0;
        while let Some(found) = out[from..].find(key) {
            let start = from + found + key.len();
            let end = out[start..].find(['&', '"', '\'', ' ', '\n', '<', '>']).map_or(out.len(), |i| start + i);
            out.replace_range(start..end, "[redacted]");
            from = start + "[redacted]".len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_token_echoed_percent_encoded_or_json_escaped_is_redacted_too() {
        let token = "IGAA/ab+c=d\"e";
        let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let echoed = format!("bad {encoded} and {} here", serde_json::to_string(token).unwrap());
        let clean = super::redact(&echoed, token);
        assert!(!clean.contains(&encoded) && !clean.contains("ab+c"), "{clean}");
        assert_eq!(clean.matches("[redacted]").count(), 2, "{clean}");
    }

    use super::*;

    fn body(code: i64, subcode: Option<i64>, message: &str) -> String {
        serde_json::json!({"error": {"message": message, "type": "OAuthException", "code": code,
            "error_subcode": subcode, "fbtrace_id": "x"}})
        .to_string()
    }

    #[test]
    fn errors_are_classified_by_code_not_status() {
        let expired = classify(400, &body(190, Some(463), "Error validating access token: Session has expired"), None);
        assert_eq!(expired.action(), Action::Reconnect);
        let limited = classify(400, &body(80002, None, "too many calls"), Some(Duration::from_secs(300)));
        assert_eq!(limited, GraphError::RateLimited { code: 80002, wait: Some(Duration::from_secs(300)) });
        assert_eq!(classify(400, &body(200, None, "(#200) Permissions error"), None).action(), Action::Reconnect);
        assert_eq!(classify(500, &body(2, None, "Service temporarily unavailable"), None).action(), Action::Retry);
        assert_eq!(classify(400, &body(100, Some(33), "Unsupported get request"), None).action(), Action::Report);
        let viewers = classify(400, &body(10, None, "(#10) Not enough viewers for the media to show insights"), None);
        assert_eq!(viewers.action(), Action::Report);
        assert_eq!(classify(502, "<html>bad gateway</html>", None).action(), Action::Retry);
        assert_eq!(classify(200, "{not json", None).kind(), "unexpected");
    }

    #[test]
    fn tokens_are_redacted_from_urls_and_text() {
        let text = r#"{"next":"https://graph.instagram.com/v25.0/1/media?access_token=IGAAsecret&after=x"} IGAAsecret"#;
        let clean = redact(text, "IGAAsecret");
        assert!(!clean.contains("IGAAsecret"), "{clean}");
        assert!(clean.contains("access_token=[redacted]&after=x"));
        assert_eq!(redact("?access_token=abc", ""), "?access_token=[redacted]");
    }
}
