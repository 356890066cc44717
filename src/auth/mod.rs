//! Who is asking, and may they: passwords, session cookies, CSRF tokens, sign-in throttling
//! and the extractors handlers use to state what they need.

pub mod csrf;
pub mod extract;
pub mod middleware;
pub mod password;
pub mod session;
pub mod throttle;

pub use extract::{AdminUser, CsrfForm, CurrentUser};
