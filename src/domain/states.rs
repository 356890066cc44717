//! The states stored as text, each an enum read strictly: the schema's `CHECK` constraints
//! allow only these values, and a value this binary does not know (a newer binary's, a hand
//! edit) is an error that names it, never a quiet fallback to some other state.

use std::fmt;
use std::str::FromStr;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

/// A stored or typed value that is none of a state's variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}: expected one of {expected}")]
pub struct UnknownState {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Declares a text-backed state: its variants and their stored names, parsing (strict),
/// display of the stored name, and the diesel mapping to `TEXT`.
macro_rules! text_state {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow, Serialize, Deserialize)]
        #[diesel(sql_type = Text)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The name stored in the database and used in forms and on the command line.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownState;

            fn from_str(text: &str) -> Result<Self, UnknownState> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownState {
                        what: $what,
                        value: other.chars().take(40).collect(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                std::io::Write::write_all(out, self.as_str().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let text = std::str::from_utf8(bytes.as_bytes())?;
                Ok(text.parse::<$name>()?)
            }
        }
    };
}

text_state!(
    /// Which login, and so which Meta host, an account's token belongs to.
    Flavour, "login" {
        /// Instagram Login: graph.instagram.com, `IGAA…` tokens.
        Instagram = "instagram",
        /// Facebook Login: graph.facebook.com, `EAA…` tokens.
        Facebook = "facebook",
    }
);

impl Flavour {
    /// Guesses the flavour from a token's prefix.
    pub fn from_token(token: &str) -> Option<Flavour> {
        if token.starts_with("IG") {
            Some(Flavour::Instagram)
        } else if token.starts_with("EAA") {
            Some(Flavour::Facebook)
        } else {
            None
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_state!(
    /// Whether an account is synced.
    AccountStatus, "account status" {
        Active = "active",
        /// Stopped by an admin; its data stays.
        Disabled = "disabled",
        /// Meta refused its token (or it cannot be opened); polling stops until it is connected again.
        NeedsReauth = "needs_reauth",
        /// Disconnected by an admin or by Meta's deauthorize callback: no token, history kept.
        Disconnected = "disconnected",
    }
);

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
            AccountStatus::NeedsReauth => "needs re-connecting",
            AccountStatus::Disconnected => "disconnected",
        })
    }
}

text_state!(
    /// What a dashboard user may do.
    Role, "role" {
        Admin = "admin",
        /// Reads everything, changes nothing.
        Viewer = "viewer",
    }
);

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_state!(
    /// What started a sync cycle.
    Trigger, "sync trigger" {
        Schedule = "schedule",
        Manual = "manual",
        Command = "command",
    }
);

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_state!(
    /// Where a sync cycle stands: running until it records how it ended.
    SyncOutcome, "sync outcome" {
        Running = "running",
        Success = "success",
        /// Some posts failed; the rest was written.
        Partial = "partial",
        Failed = "failed",
    }
);

impl fmt::Display for SyncOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_state!(
    /// Which of Meta's callbacks a request was.
    MetaRequestKind, "Meta request kind" {
        /// The user removed the app: stop, forget the token.
        Deauthorize = "deauthorize",
        /// The user asked for their data to be deleted.
        DataDeletion = "data_deletion",
    }
);

text_state!(
    /// What a callback led to.
    MetaRequestOutcome, "Meta request outcome" {
        /// Every matching account was handled.
        Done = "done",
        /// No account matched: Tidemark held nothing of that user.
        NothingHeld = "nothing_held",
    }
);

text_state!(
    /// What kind of Instagram post a publication becomes (graph-api.md §7): a feed post (one
    /// image, or a carousel of 2–10 images and videos), a Reel, or a Story.
    PublicationKind, "publication kind" {
        Feed = "feed",
        Reel = "reel",
        Story = "story",
    }
);

impl PublicationKind {
    /// The word the pages use.
    pub fn label(self) -> &'static str {
        match self {
            PublicationKind::Feed => "Feed post",
            PublicationKind::Reel => "Reel",
            PublicationKind::Story => "Story",
        }
    }
}

text_state!(
    /// Where a planned post stands.
    PublicationStatus, "publication status" {
        /// Kept for later; the publisher does not touch it.
        Draft = "draft",
        /// Waiting for its time.
        Scheduled = "scheduled",
        /// Containers made or being made at Meta; not yet live.
        Publishing = "publishing",
        /// Live on Instagram: it has a media id.
        Published = "published",
        /// Meta refused it, or it could not be published; the reason is recorded.
        Failed = "failed",
        /// Withdrawn by an admin before it went out.
        Cancelled = "cancelled",
    }
);

impl PublicationStatus {
    pub fn label(self) -> &'static str {
        match self {
            PublicationStatus::Draft => "Draft",
            PublicationStatus::Scheduled => "Scheduled",
            PublicationStatus::Publishing => "Publishing",
            PublicationStatus::Published => "Published",
            PublicationStatus::Failed => "Failed",
            PublicationStatus::Cancelled => "Cancelled",
        }
    }

    /// Whether an admin may still change or withdraw it.
    pub fn is_open(self) -> bool {
        matches!(self, PublicationStatus::Draft | PublicationStatus::Scheduled | PublicationStatus::Failed)
    }
}

text_state!(
    /// What an audience figure counts an account's followers by (graph-api.md §4).
    AudienceDimension, "audience dimension" {
        Age = "age",
        Gender = "gender",
        Country = "country",
        City = "city",
        /// Followers online in an hour; the figure's key is the UTC hour, 0 to 23.
        OnlineHour = "online_hour",
    }
);

text_state!(
    /// Where a tracked competitor stands.
    CompetitorStatus, "competitor status" {
        /// Added, not read yet.
        Waiting = "waiting",
        /// Read through Business Discovery.
        Tracked = "tracked",
        /// No professional account has that username (or it is personal or age-gated).
        NotFound = "not_found",
    }
);

text_state!(
    /// What a JSON API token may do.
    ApiScope, "API token scope" {
        /// Read every account's figures, posts, publications and comments.
        Read = "read",
        /// Read, and change what the API lets change (cancel a publication).
        Write = "write",
    }
);

impl ApiScope {
    /// Whether a token of this scope may use a route that needs `needed`.
    pub fn allows(self, needed: ApiScope) -> bool {
        self == ApiScope::Write || needed == ApiScope::Read
    }
}

text_state!(
    /// How often a report is made, and so the period it covers.
    Cadence, "report cadence" {
        /// Monday to Sunday, sent after the Sunday.
        Weekly = "weekly",
        /// A calendar month, sent after its last day.
        Monthly = "monthly",
    }
);

text_state!(
    /// What became of a report's e-mail.
    Delivery, "report delivery" {
        /// The SMTP server took it.
        Mailed = "mailed",
        /// The server refused it or could not be reached (tried again a few times).
        Failed = "failed",
        /// No SMTP server is configured: the report is only kept here.
        NotMailed = "not_mailed",
    }
);

text_state!(
    /// What an alert rule watches.
    AlertKind, "alert kind" {
        /// A post whose impact score is at or above the threshold (well above its cohort).
        PostAbove = "post_above",
        /// A post whose impact score is at or below the threshold (well below its cohort).
        PostBelow = "post_below",
        /// An account's reach on its last measured day below the threshold's percentage of its norm.
        ReachBelow = "reach_below",
        /// The threshold's number of an account's last sync cycles all failed.
        SyncFailing = "sync_failing",
        /// A token expiring within the threshold's days, or an account needing re-connection.
        TokenExpiring = "token_expiring",
        /// A publication failed.
        PublishingFailed = "publishing_failed",
    }
);

impl AlertKind {
    /// What the rule watches, in words for the pages.
    pub fn describe(self) -> &'static str {
        match self {
            AlertKind::PostAbove => "a post well above its account's earlier posts",
            AlertKind::PostBelow => "a post well below its account's earlier posts",
            AlertKind::ReachBelow => "reach falling below the account's norm",
            AlertKind::SyncFailing => "sync failing for an account",
            AlertKind::TokenExpiring => "a token expiring or needing re-connection",
            AlertKind::PublishingFailed => "publishing failed",
        }
    }

    /// What the threshold means for this kind, and its default.
    pub fn threshold_meaning(self) -> (&'static str, i32) {
        match self {
            AlertKind::PostAbove => ("impact score at or above (0–100; 100 beats every earlier post)", 90),
            AlertKind::PostBelow => ("impact score at or below (0–100; 0 is below every earlier post)", 10),
            AlertKind::ReachBelow => ("reach below this percentage of the account's median day", 60),
            AlertKind::SyncFailing => ("this many sync cycles in a row failed", 3),
            // Under the default refresh horizon (7 days): a token Tidemark can refresh is
            // refreshed before the alert would fire.
            AlertKind::TokenExpiring => ("days before the token expires", 5),
            AlertKind::PublishingFailed => ("not used: every failure counts", 1),
        }
    }

    /// The quiet period proposed for this kind, in hours.
    pub fn default_quiet_hours(self) -> i32 {
        match self {
            AlertKind::PostAbove | AlertKind::PostBelow => 168,
            AlertKind::PublishingFailed => 1,
            _ => 24,
        }
    }
}

impl AudienceDimension {
    /// The breakdowns of Meta's `follower_demographics`, in the order pages show them.
    pub const DEMOGRAPHICS: [AudienceDimension; 4] =
        [AudienceDimension::Age, AudienceDimension::Gender, AudienceDimension::Country, AudienceDimension::City];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_what_it_writes() {
        for status in AccountStatus::ALL {
            assert_eq!(status.as_str().parse::<AccountStatus>(), Ok(*status));
        }
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        for outcome in SyncOutcome::ALL {
            assert_eq!(outcome.as_str().parse::<SyncOutcome>(), Ok(*outcome));
        }
        for kind in AlertKind::ALL {
            assert_eq!(kind.as_str().parse::<AlertKind>(), Ok(*kind));
        }
        for cadence in Cadence::ALL {
            assert_eq!(cadence.as_str().parse::<Cadence>(), Ok(*cadence));
        }
        for delivery in Delivery::ALL {
            assert_eq!(delivery.as_str().parse::<Delivery>(), Ok(*delivery));
        }
        for scope in ApiScope::ALL {
            assert_eq!(scope.as_str().parse::<ApiScope>(), Ok(*scope));
        }
    }

    #[test]
    fn a_write_token_may_read_and_a_read_token_may_not_write() {
        assert!(ApiScope::Write.allows(ApiScope::Read));
        assert!(ApiScope::Write.allows(ApiScope::Write));
        assert!(ApiScope::Read.allows(ApiScope::Read));
        assert!(!ApiScope::Read.allows(ApiScope::Write));
    }

    #[test]
    fn an_unknown_value_is_an_error_naming_it_never_a_default() {
        let err = "suspended".parse::<AccountStatus>().unwrap_err();
        assert_eq!(err.value, "suspended");
        assert!(err.to_string().contains("active disabled needs_reauth disconnected"), "{err}");
        assert!("owner".parse::<Role>().is_err());
        assert!("Admin".parse::<Role>().is_err(), "stored names are exact");
        assert!("queued".parse::<SyncOutcome>().is_err());
    }

    #[test]
    fn the_flavour_is_guessed_from_the_token_prefix() {
        assert_eq!(Flavour::from_token("IGAAxyz"), Some(Flavour::Instagram));
        assert_eq!(Flavour::from_token("EAAxyz"), Some(Flavour::Facebook));
        assert_eq!(Flavour::from_token("abc"), None);
    }
}
