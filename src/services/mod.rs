//! What pages, commands and jobs call. Each service owns what it needs (the pool, the Graph
//! client, the token key, the view cache) and keeps it to itself: a handler takes the one
//! service it uses, and only services reach Meta or open a token.

pub mod accounts;
pub mod alerts;
pub mod archive;
pub mod background;
pub mod competitors;
pub mod health;
pub mod inbox;
pub mod keys;
pub mod meta;
pub mod publishing;
pub mod reports;
pub mod second_factor;
pub mod settings;
pub mod sync;
pub mod users;
pub mod views;
pub mod webhooks;

pub use accounts::Accounts;
pub use alerts::Alerts;
pub use archive::Archive;
pub use background::Background;
pub use competitors::Competitors;
pub use health::Health;
pub use meta::MetaCallbacks;
pub use publishing::Publishing;
pub use reports::Reports;
pub use second_factor::SecondFactor;
pub use settings::SettingsEditor;
pub use sync::Syncing;
pub use users::Users;
pub use views::Views;
