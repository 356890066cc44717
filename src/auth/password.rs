//! Password rules and bcrypt, always run off the async threads.

use anyhow::Context;

/// bcrypt's work factor. 12 takes a few hundred milliseconds on a small server.
pub const BCRYPT_COST: u32 = 12;
pub const MIN_PASSWORD_CHARS: usize = 10;
/// bcrypt ignores everything past 72 bytes; longer passwords are refused rather than
/// silently shortened.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Checks a new password against the rules; the error is a sentence for the user.
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("The password must have at least {MIN_PASSWORD_CHARS} characters."));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "The password is {} bytes long; bcrypt uses only {MAX_PASSWORD_BYTES}, so use a shorter one.",
            password.len()
        ));
    }
    Ok(())
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || bcrypt::hash(password, BCRYPT_COST))
        .await
        .context("the password hashing task failed")?
        .context("bcrypt could not hash the password")
}

/// True when `password` matches `hash`. A malformed hash counts as no match.
pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false)).await.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_overlong_passwords_are_refused() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password(&"a".repeat(73)).is_err());
        // 72 bytes of multi-byte characters is still within bcrypt's limit.
        assert!(check_new_password(&"é".repeat(36)).is_ok());
        assert!(check_new_password(&"é".repeat(37)).is_err());
        assert!(check_new_password("correct horse battery").is_ok());
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$2b$12$"));
        assert!(verify("correct horse battery".into(), hash.clone()).await);
        assert!(!verify("correct horse batterz".into(), hash).await);
        assert!(!verify("anything".into(), "not a hash".into()).await);
    }
}
