//! The vocabulary every part shares: typed ids for every table, the states an account, a
//! user or a sync run can be in, and where "now" comes from. Nothing here knows HTTP, the
//! Graph API or how rows are queried; the database maps these types strictly (an unknown
//! stored value is an error, never a silent default).

pub mod audience;
pub mod clock;
pub mod ids;
pub mod states;

pub use audience::{AudienceFigure, AudienceRead};
pub use clock::{Clock, system_clock};
pub use ids::{
    AccountId, AlertEventId, AlertRuleId, ApiTokenId, CompetitorId, PostId, PublicationId, ReportScheduleId,
    SentReportId, SyncRunId, UserId,
};
pub use states::{
    AccountStatus, AlertKind, ApiScope, AudienceDimension, Cadence, CompetitorStatus, Delivery, Flavour,
    MetaRequestKind, MetaRequestOutcome, PublicationKind, PublicationStatus, Role, SyncOutcome, Trigger, UnknownState,
};
