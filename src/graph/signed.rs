//! Meta's `signed_request` (graph-api.md §6.1, §6.2): `<signature>.<payload>`, signature
//! first, both base64url without padding; the signature is the HMAC-SHA256 of the payload
//! segment exactly as received, keyed with the app secret.

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::types::id_string;

/// How far `issued_at` may lie in the future (clocks differ a little).
const CLOCK_SKEW: Duration = Duration::minutes(5);
/// A request issued longer ago than this is refused as stale (Meta calls at once).
const MAX_AGE: Duration = Duration::hours(24);

/// Why a signed request was refused. None of these texts holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignedRequestError {
    #[error("the signed_request is not two base64url parts")]
    Malformed,
    #[error("the signed_request's signature does not match")]
    BadSignature,
    #[error("the signed_request uses an unsupported algorithm")]
    Algorithm,
    #[error("the signed_request's payload is not the expected JSON")]
    Payload,
    #[error("the signed_request has expired")]
    Expired,
}

/// A verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The app-scoped id of the user the request is about.
    pub user_id: String,
    pub issued_at: Option<DateTime<Utc>>,
    /// The signature's bytes: the same request twice has the same ones (replays).
    pub signature: Vec<u8>,
}

#[derive(Deserialize)]
struct Payload {
    algorithm: String,
    #[serde(deserialize_with = "id_string")]
    user_id: String,
    #[serde(default)]
    issued_at: Option<i64>,
    #[serde(default)]
    expires: Option<i64>,
}

/// Decodes base64url with or without padding.
fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).or_else(|_| URL_SAFE.decode(text)).ok()
}

/// Verifies `signed_request` with `secret` (in constant time), then its algorithm and dates.
pub fn verify(signed_request: &str, secret: &str, now: DateTime<Utc>) -> Result<SignedRequest, SignedRequestError> {
    let (signature, payload) = signed_request.trim().split_once('.').ok_or(SignedRequestError::Malformed)?;
    if signature.is_empty() || payload.is_empty() || payload.contains('.') {
        return Err(SignedRequestError::Malformed);
    }
    let signature = decode(signature).ok_or(SignedRequestError::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignedRequestError::BadSignature)?;
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature).map_err(|_| SignedRequestError::BadSignature)?;

    let json = decode(payload).ok_or(SignedRequestError::Malformed)?;
    let payload: Payload = serde_json::from_slice(&json).map_err(|_| SignedRequestError::Payload)?;
    if !payload.algorithm.eq_ignore_ascii_case("HMAC-SHA256") {
        return Err(SignedRequestError::Algorithm);
    }
    if payload.user_id.is_empty() {
        return Err(SignedRequestError::Payload);
    }
    let at = |secs: i64| DateTime::from_timestamp(secs, 0).ok_or(SignedRequestError::Payload);
    if let Some(expires) = payload.expires.filter(|&e| e > 0)
        && at(expires)? <= now
    {
        return Err(SignedRequestError::Expired);
    }
    let issued_at = payload.issued_at.map(at).transpose()?;
    if let Some(issued) = issued_at
        && (issued > now + CLOCK_SKEW || issued < now - MAX_AGE)
    {
        return Err(SignedRequestError::Expired);
    }
    Ok(SignedRequest { user_id: payload.user_id, issued_at, signature })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// graph-api.md §6.1's test vector: secret `key`.
    const VECTOR: &str = "Mf_s6nTb38UYqioBmPqu0Ewm9souPZB9I2fIGwV729U.eyJ1c2VyX2lkIjoiMCIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjoxNjI0MjQ0MTU2fQ";

    fn issued() -> DateTime<Utc> {
        DateTime::from_timestamp(1_624_244_156, 0).unwrap()
    }

    #[test]
    fn the_documented_test_vector_verifies() {
        let request = verify(VECTOR, "key", issued() + Duration::minutes(1)).unwrap();
        assert_eq!(request.user_id, "0");
        assert_eq!(request.issued_at, Some(issued()));
    }

    #[test]
    fn another_secret_a_changed_payload_or_a_swapped_order_is_refused() {
        let now = issued();
        assert_eq!(verify(VECTOR, "other", now), Err(SignedRequestError::BadSignature));
        let (sig, payload) = VECTOR.split_once('.').unwrap();
        let changed = format!("{sig}.{}", URL_SAFE_NO_PAD.encode(r#"{"user_id":"1","algorithm":"HMAC-SHA256"}"#));
        assert_eq!(verify(&changed, "key", now), Err(SignedRequestError::BadSignature));
        assert!(verify(&format!("{payload}.{sig}"), "key", now).is_err(), "the signature comes first");
        for broken in ["", ".", "abc", "a.b.c", "!!!.???", &format!("{sig}.")] {
            assert!(verify(broken, "key", now).is_err(), "{broken:?}");
        }
    }

    #[test]
    fn a_stale_or_expired_request_is_refused() {
        assert_eq!(verify(VECTOR, "key", issued() + Duration::days(2)), Err(SignedRequestError::Expired));
        assert_eq!(verify(VECTOR, "key", issued() - Duration::hours(1)), Err(SignedRequestError::Expired));
    }

    #[test]
    fn another_algorithm_is_refused_even_when_signed() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"user_id":"5","algorithm":"none","issued_at":1624244156}"#);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
        mac.update(payload.as_bytes());
        let signed = format!("{}.{payload}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
        assert_eq!(verify(&signed, "key", issued()), Err(SignedRequestError::Algorithm));
    }
}
