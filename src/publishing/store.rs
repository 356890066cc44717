//! Where uploaded media wait until Meta has fetched them: files under
//! `TIDEMARK_DATA_DIR/media` with random names, reachable only through signed, expiring links
//! (`/media/{name}?expires=…&signature=…`), and deleted once the post is published or the
//! draft deleted.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use url::Url;

use super::rules::FileType;
use crate::crypto::TokenKey;

/// How long a link handed to Meta stays valid: long enough for a slow video fetch and a retry,
/// short enough that a leaked link soon stops working.
pub const LINK_LIFETIME: chrono::Duration = chrono::Duration::hours(2);

#[derive(Clone)]
pub struct MediaStore {
    media: PathBuf,
    uploads: PathBuf,
    key: [u8; 32],
    public_url: Url,
}

impl MediaStore {
    /// Opens (creating) `data_dir/media` and `data_dir/uploads`.
    pub fn open(data_dir: &Path, key: &TokenKey, public_url: Url) -> anyhow::Result<Self> {
        use anyhow::Context;
        let media = data_dir.join("media");
        let uploads = data_dir.join("uploads");
        for dir in [&media, &uploads] {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {} (TIDEMARK_DATA_DIR)", dir.display()))?;
        }
        Ok(Self { media, uploads, key: key.derive("tidemark media links v1"), public_url })
    }

    /// A fresh path in the uploads directory for a file being received.
    pub fn upload_path(&self) -> PathBuf {
        self.uploads.join(format!("{}.part", random_name()))
    }

    /// Moves a received and checked upload into the store; its stored name.
    pub fn keep(&self, upload: &Path, file_type: FileType) -> io::Result<String> {
        let name = format!("{}.{}", random_name(), file_type.extension());
        std::fs::rename(upload, self.media.join(&name))?;
        Ok(name)
    }

    /// The path of a stored file, if `name` is one of ours (no path tricks).
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        let valid = name.len() <= 80
            && name.split_once('.').is_some_and(|(stem, ext)| {
                stem.len() >= 20
                    && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    && matches!(ext, "jpg" | "mp4" | "mov")
            });
        valid.then(|| self.media.join(name))
    }

    /// Removes a stored file; one already gone is not an error.
    pub fn remove(&self, name: &str) -> io::Result<()> {
        let Some(path) = self.path(name) else {
            return Ok(());
        };
        match std::fs::remove_file(path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    /// Removes stored files no publication holds any more (an account deleted with its
    /// publications, a crash between storing and recording) and uploads abandoned mid-way,
    /// once older than `grace` (a file is stored a moment before its row is written). The
    /// names removed.
    pub fn sweep(
        &self,
        live: &std::collections::HashSet<String>,
        grace: std::time::Duration,
    ) -> io::Result<Vec<String>> {
        let mut removed = Vec::new();
        for dir in [&self.media, &self.uploads] {
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if dir == &self.media && live.contains(&name) {
                    continue;
                }
                let age = entry.metadata()?.modified()?.elapsed().unwrap_or_default();
                if age >= grace {
                    match std::fs::remove_file(entry.path()) {
                        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
                        _ => removed.push(name),
                    }
                }
            }
        }
        Ok(removed)
    }

    /// Removes a partial upload.
    pub fn discard_upload(&self, path: &Path) {
        if path.starts_with(&self.uploads) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// The public link Meta fetches the file from, valid until `expires`.
    pub fn signed_url(&self, name: &str, expires: DateTime<Utc>) -> Url {
        let mut url = self.public_url.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/media/{name}"));
        let expires = expires.timestamp().to_string();
        let signature = self.signature(name, &expires);
        url.query_pairs_mut().append_pair("expires", &expires).append_pair("signature", &signature);
        url
    }

    /// Whether a link's signature is ours and it has not expired.
    pub fn verify(&self, name: &str, expires: &str, signature: &str, now: DateTime<Utc>) -> bool {
        let Ok(at) = expires.parse::<i64>() else {
            return false;
        };
        let Ok(given) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(format!("{name}\n{expires}").as_bytes());
        // `verify_slice` compares in constant time.
        mac.verify_slice(&given).is_ok() && now.timestamp() <= at
    }

    fn signature(&self, name: &str, expires: &str) -> String {
        let mut mac = self.mac();
        mac.update(format!("{name}\n{expires}").as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        #[allow(clippy::expect_used)]
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts a 32-byte key")
    }
}

/// 24 random bytes as 32 URL-safe characters: names nobody can guess.
fn random_name() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> MediaStore {
        let dir = std::env::temp_dir().join(format!("tidemark-store-{}", std::process::id()));
        let url = Url::parse("https://t.example/base/").unwrap();
        MediaStore::open(&dir, &TokenKey::new([7; 32]), url).unwrap()
    }

    #[test]
    fn a_signed_link_works_until_it_expires_and_only_for_its_file() {
        let store = store();
        let now = Utc::now();
        let name = format!("{}.jpg", random_name());
        let url = store.signed_url(&name, now + LINK_LIFETIME);
        assert!(url.as_str().starts_with("https://t.example/base/media/"), "{url}");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        let (expires, signature) = (&query["expires"], &query["signature"]);
        assert!(store.verify(&name, expires, signature, now));
        assert!(!store.verify(&name, expires, signature, now + LINK_LIFETIME + chrono::Duration::seconds(1)));
        let other = format!("{}.jpg", random_name());
        assert!(!store.verify(&other, expires, signature, now), "a signature names its file");
        let later = (expires.parse::<i64>().unwrap() + 3600).to_string();
        assert!(!store.verify(&name, &later, signature, now), "the expiry is signed too");
    }

    #[test]
    fn only_names_the_store_made_are_paths() {
        let store = store();
        assert!(store.path("../../etc/passwd").is_none());
        assert!(store.path("short.jpg").is_none());
        assert!(store.path(&format!("{}.exe", random_name())).is_none());
        assert!(store.path(&format!("{}.mp4", random_name())).is_some());
    }
}
