//! The access-token cipher: AES-256-GCM with a fresh random 96-bit nonce per encryption.
//!
//! The caller passes associated data (the account's identity), so a ciphertext copied
//! into another row does not decrypt. Each key has a version derived from the key itself,
//! stored beside the ciphertext, so a token encrypted under another key is recognised as
//! such instead of failing as "corrupt".

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct TokenKey {
    bytes: [u8; 32],
}

impl TokenKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self { bytes }
    }

    /// A short, stable identifier of this key (not secret: it reveals nothing usable).
    pub fn version(&self) -> i32 {
        let digest = Sha256::new().chain_update(b"tidemark token key version\0").chain_update(self.bytes).finalize();
        i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
    }

    /// A key for another purpose (signing media links), derived so that it reveals nothing of
    /// this one: HMAC-SHA256(key, purpose). `serve` and the commands share TIDEMARK_TOKEN_KEY,
    /// so a link signed by `tidemark publish run` is honoured by the server.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        // HMAC takes keys of any length; 32 bytes cannot be refused.
        #[allow(clippy::expect_used)]
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.bytes).expect("HMAC accepts a 32-byte key");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKey(version {})", self.version())
    }
}

/// A sealed token as it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub nonce: [u8; 12],
    pub key_version: i32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CipherError {
    #[error("the token was encrypted with another key (version {0}); run `tidemark key rotate`")]
    WrongKey(i32),
    #[error("the stored token does not decrypt: it was altered or belongs to another account")]
    Inauthentic,
    #[error("the stored token nonce is malformed")]
    BadNonce,
}

impl TokenKey {
    pub fn seal(&self, plaintext: &str, associated_data: &[u8]) -> Sealed {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = Aes256Gcm::new(&self.bytes.into());
        let payload = Payload { msg: plaintext.as_bytes(), aad: associated_data };
        // Encryption only fails for inputs of gigabytes; a token is a few hundred bytes.
        #[allow(clippy::expect_used)]
        let ciphertext =
            cipher.encrypt(&Nonce::from(nonce), payload).expect("AES-GCM encryption of a short token cannot fail");
        Sealed { ciphertext, nonce, key_version: self.version() }
    }

    pub fn open(
        &self,
        ciphertext: &[u8],
        nonce: &[u8],
        key_version: i32,
        associated_data: &[u8],
    ) -> Result<String, CipherError> {
        if key_version != self.version() {
            return Err(CipherError::WrongKey(key_version));
        }
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| CipherError::BadNonce)?;
        let cipher = Aes256Gcm::new(&self.bytes.into());
        let plaintext = cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad: associated_data })
            .map_err(|_| CipherError::Inauthentic)?;
        String::from_utf8(plaintext).map_err(|_| CipherError::Inauthentic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> TokenKey {
        TokenKey::new([byte; 32])
    }

    #[test]
    fn a_sealed_token_opens_with_the_same_key_and_identity() {
        let sealed = key(1).seal("IGAAtoken", b"account:17841400000000001");
        assert_ne!(sealed.ciphertext, b"IGAAtoken".to_vec());
        let opened = key(1).open(&sealed.ciphertext, &sealed.nonce, sealed.key_version, b"account:17841400000000001");
        assert_eq!(opened.as_deref(), Ok("IGAAtoken"));
    }

    #[test]
    fn a_token_copied_to_another_account_does_not_open() {
        let sealed = key(1).seal("IGAAtoken", b"account:1");
        let opened = key(1).open(&sealed.ciphertext, &sealed.nonce, sealed.key_version, b"account:2");
        assert_eq!(opened, Err(CipherError::Inauthentic));
    }

    #[test]
    fn another_key_is_recognised_by_its_version() {
        let sealed = key(1).seal("IGAAtoken", b"a");
        let opened = key(2).open(&sealed.ciphertext, &sealed.nonce, sealed.key_version, b"a");
        assert_eq!(opened, Err(CipherError::WrongKey(key(1).version())));
    }

    #[test]
    fn every_encryption_uses_a_fresh_nonce() {
        let a = key(1).seal("same", b"a");
        let b = key(1).seal("same", b"a");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }
}
