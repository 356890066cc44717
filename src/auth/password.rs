//! Password rules and bcrypt, always run off the async threads.

use anyhow::Context;

/// bcrypt's work factor. 12 takes a few hundred milliseconds on a small server.
pub const BCRYPT_COST: u32 = 12;
pub const MIN_PASSWORD_CHARS: usize = 12;
/// bcrypt ignores everything past 72 bytes; longer passwords are refused rather than
/// silently shortened.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Checks a new password against the rules; the error is a sentence for the user.
///
/// Length comes first (counted in characters for the minimum, in bytes for bcrypt's limit),
/// then zxcvbn's estimate, which knows common and breached passwords, keyboard walks, repeats
/// and dates. `username` is given to it so a password built from the name is found weak.
pub fn check_new_password(password: &str, username: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("The password must have at least {MIN_PASSWORD_CHARS} characters."));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "The password is {} bytes long; bcrypt uses only {MAX_PASSWORD_BYTES}, so use a shorter one.",
            password.len()
        ));
    }
    let estimate = zxcvbn::zxcvbn(password, &[username, "tidemark", "instagram"]);
    if estimate.score() < zxcvbn::Score::Three {
        let reason = estimate
            .feedback()
            .and_then(|feedback| feedback.warning())
            .map(|warning| format!(" ({warning})"))
            .unwrap_or_default();
        return Err(format!("That password is too easy to guess{reason}. Add a few uncommon words or make it longer."));
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
        assert!(check_new_password("short", "ada").unwrap_err().contains("at least 12 characters"));
        assert!(check_new_password(&"a".repeat(73), "ada").unwrap_err().contains("73 bytes"));
        // 72 bytes of multi-byte characters is still within bcrypt's limit.
        assert!(check_new_password("é ß ø ü ñ ç æ ÿ ð þ ł ő ą ę ś ź ż ć ń", "ada").is_ok());
        assert!(check_new_password(&"é".repeat(37), "ada").unwrap_err().contains("bcrypt"));
        assert!(check_new_password("correct horse battery", "ada").is_ok());
    }

    #[test]
    fn guessable_passwords_are_refused_with_a_reason() {
        for weak in ["password1234", "qwertyuiopasdf", "aaaaaaaaaaaa", "123456789012", "Passw0rd2024!"] {
            let problem = check_new_password(weak, "ada").unwrap_err();
            assert!(problem.contains("too easy to guess"), "{weak}: {problem}");
        }
        // The username is one of the words zxcvbn tries first.
        assert!(check_new_password("margaretha1990", "margaretha").is_err());
        let problem = check_new_password("password1234", "ada").unwrap_err();
        assert!(problem.contains('('), "zxcvbn's warning is shown: {problem}");
    }

    #[test]
    fn every_password_the_tests_use_is_accepted() {
        for good in [
            "correct horse battery",
            "a brand new passphrase",
            "viewer password 1",
            "fresh password 2",
            "an entirely new passphrase",
            "a perfectly good password",
            "long enough pw",
            "benchmark password",
        ] {
            assert_eq!(check_new_password(good, "ada"), Ok(()), "{good}");
        }
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
