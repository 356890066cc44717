//! One id type per table, so a post id can never be passed where an account id is meant.
//! Each is a `BIGINT` in the database and reads and writes as one.

use std::fmt;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::BigInt;
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, AsExpression, FromSqlRow, Serialize, Deserialize,
        )]
        #[diesel(sql_type = BigInt)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ToSql<BigInt, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <i64 as ToSql<BigInt, Pg>>::to_sql(&self.0, &mut out.reborrow())
            }
        }

        impl FromSql<BigInt, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Pg>>::from_sql(bytes).map($name)
            }
        }
    };
}

id_type!(
    /// A dashboard user (`users`).
    UserId
);
id_type!(
    /// A connected Instagram account (`ig_accounts`), not Instagram's own id.
    AccountId
);
id_type!(
    /// A tracked post (`posts`), not Instagram's media id.
    PostId
);
id_type!(
    /// One account's sync cycle (`sync_runs`).
    SyncRunId
);
id_type!(
    /// A planned or published post (`publications`), not Instagram's media id.
    PublicationId
);
id_type!(
    /// A JSON API token (`api_tokens`): the id its signed JWT carries.
    ApiTokenId
);
id_type!(
    /// An account tracked as a competitor (`competitors`).
    CompetitorId
);
id_type!(
    /// A report mailed on a schedule (`report_schedules`).
    ReportScheduleId
);
id_type!(
    /// A report made and kept (`sent_reports`).
    SentReportId
);
id_type!(
    /// An alert rule (`alert_rules`).
    AlertRuleId
);
id_type!(
    /// An alert fired (`alert_events`).
    AlertEventId
);
