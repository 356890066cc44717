//! Who is asking, and may they: passwords, session cookies, CSRF tokens, sign-in throttling,
//! the access rules the route table applies, and the extractors handlers use to state what
//! they need.

pub mod access;
pub mod csrf;
pub mod extract;
pub mod middleware;
pub mod password;
pub mod session;
pub mod throttle;

pub use access::{Access, CsrfCheck};
pub use extract::{AdminUser, CsrfForm, CurrentUser};

use self::csrf::CsrfKey;
use self::session::SessionKeys;
use self::throttle::LoginThrottle;
use crate::config::SessionSettings;
use crate::db;

/// Everything signing in and checking sessions needs, shared by the middleware, the
/// extractors and the sign-in pages.
pub struct Auth {
    pub pool: db::Pool,
    pub sessions: SessionKeys,
    pub csrf: CsrfKey,
    pub throttle: LoginThrottle,
    /// Checked against when the username is unknown, so that failure takes as long as a
    /// wrong password.
    pub dummy_hash: String,
    /// This Tidemark shows demo data (`tidemark demo`): every page says so.
    pub demo: bool,
}

impl Auth {
    pub async fn new(pool: db::Pool, settings: &SessionSettings, demo: bool) -> anyhow::Result<Self> {
        Ok(Self {
            pool,
            sessions: SessionKeys::new(settings),
            csrf: CsrfKey::derive(&settings.secret),
            throttle: LoginThrottle::default(),
            dummy_hash: password::hash("tidemark timing equaliser".into()).await?,
            demo,
        })
    }
}
