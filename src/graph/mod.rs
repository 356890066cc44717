//! The Instagram Graph API client, for both Instagram Login (graph.instagram.com) and
//! Facebook Login (graph.facebook.com).

pub mod audience;
pub mod client;
pub mod comments;
pub mod discovery;
pub mod error;
pub mod metrics;
pub mod oauth;
pub mod publish;
pub mod signed;
pub mod types;
pub mod usage;

pub use client::{ClientOptions, Connectable, GraphClient, GraphConfig, GraphSession, Insights, MediaList};
pub use error::{Action, GraphError};
pub use metrics::{DroppedMetric, MediaKind, MetricRegistry};
pub use oauth::{CodeGrant, MetaApp};
pub use types::{AccessToken, Flavour, Media, Profile};
