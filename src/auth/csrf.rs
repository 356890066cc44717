//! CSRF tokens (synchronizer pattern, stateless): an HMAC bound to the session id, so a
//! token from one session is worthless in another. The sign-in form, which has no session
//! yet, carries a short-lived token bound to the sign-in id its page put in the session
//! cookie ([`super::session::SessionKeys::sign_in_form`]), so a token copied from one
//! browser is refused in another.

use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How long a sign-in form stays valid.
pub const LOGIN_TOKEN_SECS: i64 = 2 * 3600;

pub struct CsrfKey {
    key: [u8; 32],
}

impl CsrfKey {
    /// Derives the CSRF key from the session secret, so the two are never the same bytes.
    pub fn derive(session_secret: &[u8]) -> Self {
        let key = mac(session_secret, &[b"tidemark csrf key"]).finalize().into_bytes().into();
        Self { key }
    }

    pub fn session_token(&self, sid: &str) -> String {
        hex::encode(mac(&self.key, &[b"session\0", sid.as_bytes()]).finalize().into_bytes())
    }

    pub fn verify_session_token(&self, sid: &str, token: &str) -> bool {
        let Ok(given) = hex::decode(token) else {
            return false;
        };
        mac(&self.key, &[b"session\0", sid.as_bytes()]).verify_slice(&given).is_ok()
    }

    /// The sign-in form's token for the browser holding sign-in id `sid`.
    pub fn login_token(&self, sid: &str) -> String {
        let expires = (Utc::now().timestamp() + LOGIN_TOKEN_SECS).to_string();
        let tag = mac(&self.key, &[b"login\0", sid.as_bytes(), b"\0", expires.as_bytes()]).finalize().into_bytes();
        format!("{expires}.{}", hex::encode(tag))
    }

    pub fn verify_login_token(&self, sid: &str, token: &str) -> bool {
        let Some((expires, tag)) = token.split_once('.') else {
            return false;
        };
        let Ok(expires_at) = expires.parse::<i64>() else {
            return false;
        };
        let Ok(given) = hex::decode(tag) else {
            return false;
        };
        let now = Utc::now().timestamp();
        let fresh = expires_at > now && expires_at <= now + LOGIN_TOKEN_SECS;
        fresh && mac(&self.key, &[b"login\0", sid.as_bytes(), b"\0", expires.as_bytes()]).verify_slice(&given).is_ok()
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    #[allow(clippy::expect_used)]
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_token_is_valid_only_for_its_session() {
        let key = CsrfKey::derive(&[9; 32]);
        let token = key.session_token("abc");
        assert!(key.verify_session_token("abc", &token));
        assert!(!key.verify_session_token("abd", &token));
        assert!(!key.verify_session_token("abc", "00"));
        assert!(!key.verify_session_token("abc", "not hex"));
        assert!(!CsrfKey::derive(&[8; 32]).verify_session_token("abc", &token));
    }

    #[test]
    fn a_login_token_must_be_signed_fresh_and_for_this_browser() {
        let key = CsrfKey::derive(&[9; 32]);
        assert!(key.verify_login_token("b1", &key.login_token("b1")));
        assert!(!key.verify_login_token("b2", &key.login_token("b1")), "another browser's token");
        let (expires, tag) = key.login_token("b1").split_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())).unwrap();
        let later: i64 = expires.parse::<i64>().unwrap() + 10;
        assert!(!key.verify_login_token("b1", &format!("{later}.{tag}")));
        let past = Utc::now().timestamp() - 1;
        let stale_tag = hex::encode(
            mac(&key.key, &[b"login\0", b"b1", b"\0", past.to_string().as_bytes()]).finalize().into_bytes(),
        );
        assert!(!key.verify_login_token("b1", &format!("{past}.{stale_tag}")));
        assert!(!key.verify_login_token("b1", "garbage"));
    }
}
