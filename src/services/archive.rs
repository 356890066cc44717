//! The full archive: every table an operator owns as CSV, with a manifest (schema version,
//! time, row counts, what each column means), zipped and streamed as it is written. Never a
//! token, a password hash or a secret: every column of every table is either described here
//! or named in [`WITHHELD`], and a test keeps the two lists complete.

use std::io::Write;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;
use serde_json::json;
use tokio::sync::mpsc;
use zip::write::SimpleFileOptions;

use crate::db::{self, DbError};
use crate::domain::{AccountId, Clock};

/// Rows read per query.
const PAGE: i64 = 2000;
/// Bytes gathered before a chunk goes to the client.
const CHUNK: usize = 64 * 1024;

/// One exported table.
pub struct ArchiveTable {
    pub name: &'static str,
    pub about: &'static str,
    pub order_by: &'static str,
    /// How to keep only one account's rows (`$1` is the account id); `None`: not part of an
    /// account's archive.
    pub account_filter: Option<&'static str>,
    pub columns: &'static [(&'static str, &'static str)],
}

/// Columns never exported, and why.
pub const WITHHELD: &[(&str, &str, &str)] = &[
    ("ig_accounts", "token_ciphertext", "the encrypted access token"),
    ("ig_accounts", "token_nonce", "part of the encrypted access token"),
    ("ig_accounts", "token_key_version", "names the key that encrypts the token"),
    ("users", "password_hash", "the password's bcrypt hash"),
    ("users", "session_version", "invalidates sessions; meaningless elsewhere"),
    ("users", "totp_ciphertext", "the encrypted second-factor secret"),
    ("users", "totp_nonce", "part of the encrypted second-factor secret"),
    ("users", "totp_key_version", "names the key that encrypts the second-factor secret"),
    ("users", "totp_last_step", "guards against a code being used twice; meaningless elsewhere"),
    ("meta_requests", "signature_hash", "a hash of Meta's signature, kept only to refuse replays"),
    (
        "ig_accounts",
        "snapshot_writes",
        "counts the sync's snapshot writes so that overlapping ones notice; meaningless elsewhere",
    ),
    ("publications", "claim", "names the publisher run holding it; meaningless elsewhere"),
    ("shared_links", "token_hash", "a hash of the link's secret, kept only to recognise the link"),
    ("api_tokens", "nonce", "a random value each API token carries, kept only to recognise the token"),
    ("publications", "claimed_until", "when that run's hold lapses; meaningless elsewhere"),
    ("sent_reports", "pdf", "the report drawn as a PDF from its content column (download it under Reports)"),
];

/// Tables never exported, and why.
pub const NOT_EXPORTED: &[(&str, &str)] = &[
    ("oauth_states", "dialogs in progress: single-use secrets that live minutes"),
    ("oauth_pending", "dialogs in progress, with an encrypted access token"),
    ("data_version", "an internal counter for the page cache"),
    ("account_versions", "internal counters for the page cache, one per account"),
    ("sessions", "dashboard sign-in sessions: short-lived, and their ids are what the session cookie names"),
    ("sign_in_challenges", "sign-ins awaiting their second-factor code: they live minutes"),
    ("totp_enrolments", "second-factor secrets being set up, encrypted"),
    ("recovery_codes", "hashes of single-use second-factor recovery codes"),
    ("webhook_events", "digests of webhook changes already seen, kept three days to refuse Meta's retries"),
    ("post_thumbnails", "small copies of the posts' pictures, which are Instagram's (the sync fetches them again)"),
    ("__diesel_schema_migrations", "the migrations applied (the manifest names the latest)"),
];

const ACCOUNT_POSTS: &str = "post_id IN (SELECT id FROM posts WHERE account_id = $1)";

pub const TABLES: &[ArchiveTable] = &[
    ArchiveTable {
        name: "ig_accounts",
        about: "Connected Instagram accounts (without their tokens)",
        order_by: "id",
        account_filter: Some("id = $1"),
        columns: &[
            ("id", "Tidemark's id of the account"),
            ("flavour", "the Meta login: instagram or facebook"),
            ("ig_user_id", "Instagram's id of the professional account"),
            ("facebook_page_id", "the Facebook Page the account is linked to (Facebook Login)"),
            ("username", "Instagram username"),
            ("name", "display name"),
            ("profile_picture_url", "address of the profile picture when last read"),
            ("followers_count", "followers when last read"),
            ("follows_count", "accounts followed when last read"),
            ("media_count", "media on Instagram when last read"),
            ("status", "active, disabled, needs_reauth or disconnected"),
            ("status_reason", "why the account is in that status"),
            ("token_expires_at", "when the access token expires (UTC)"),
            ("token_refreshed_at", "when the access token was last refreshed (UTC)"),
            ("last_synced_at", "when the account was last synced (UTC)"),
            ("paused_until", "rate-limit pause end (UTC)"),
            ("created_at", "when the account was first connected (UTC)"),
            ("updated_at", "when the row last changed (UTC)"),
            ("app_user_id", "the app-scoped user id Meta's callbacks name"),
            ("granted_scopes", "the permissions granted, PostgreSQL array form"),
            ("disconnected_at", "when the account was disconnected (UTC)"),
            ("audience_read_at", "when its audience was last asked of Meta (UTC)"),
        ],
    },
    ArchiveTable {
        name: "posts",
        about: "Tracked posts",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the post"),
            ("account_id", "ig_accounts.id"),
            ("media_id", "Instagram's media id"),
            ("caption", "the caption as published"),
            ("media_type", "IMAGE, VIDEO or CAROUSEL_ALBUM"),
            ("media_product_type", "FEED, REELS or STORY"),
            ("permalink", "the post's Instagram address"),
            ("posted_at", "publication time (UTC)"),
            ("hashtags", "hashtags in the caption, lower case, PostgreSQL array form"),
            ("removed_at", "when the post was found gone from Instagram (UTC)"),
            ("insights_unavailable", "why Instagram gives no insights for it"),
            ("first_seen_at", "when Tidemark first listed it (UTC)"),
            ("updated_at", "when the row last changed (UTC)"),
            ("comments_seen", "its comment count when the sync last read its comments"),
        ],
    },
    ArchiveTable {
        name: "post_snapshots",
        about: "Each post's metrics as read at each moment; empty means not measured",
        order_by: "post_id, captured_at",
        account_filter: Some(ACCOUNT_POSTS),
        columns: &[
            ("id", "Tidemark's id of the snapshot"),
            ("post_id", "posts.id"),
            ("captured_at", "when the metrics were read (UTC)"),
            ("views", "views"),
            ("reach", "accounts reached"),
            ("likes", "likes"),
            ("comments", "comments"),
            ("saved", "saves"),
            ("shares", "shares"),
            ("total_interactions", "interactions as Instagram totals them"),
            ("follows", "follows from the post"),
            ("profile_visits", "profile visits from the post"),
            ("profile_activity", "actions on the profile from the post"),
            ("replies", "story replies"),
            ("navigation", "story navigation actions"),
            ("reposts", "reposts"),
            ("ig_reels_avg_watch_time_ms", "Reels: average watch time, milliseconds"),
            ("ig_reels_video_view_total_time_ms", "Reels: total watch time, milliseconds"),
            ("reels_skip_rate", "Reels: skip rate, percent"),
            ("facebook_views", "crossposted Reels: views on Facebook"),
            ("crossposted_views", "crossposted Reels: views on both apps"),
        ],
    },
    ArchiveTable {
        name: "post_checkpoints",
        about: "Each post's figures at fixed ages (the basis of the impact score)",
        order_by: "post_id, checkpoint_hours",
        account_filter: Some(ACCOUNT_POSTS),
        columns: &[
            ("post_id", "posts.id"),
            ("checkpoint_hours", "the age in hours"),
            ("captured_at", "the snapshot that stands for that age (UTC)"),
            ("reach", "accounts reached at that age"),
            ("views", "views at that age"),
            ("interactions", "interactions at that age"),
        ],
    },
    ArchiveTable {
        name: "post_scores",
        about: "Each post's latest figures, engagement rates and impact score",
        order_by: "post_id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("post_id", "posts.id"),
            ("account_id", "ig_accounts.id"),
            ("format", "image, carousel, video, reel or story"),
            ("latest_captured_at", "time of the latest snapshot (UTC)"),
            ("reach", "latest reach"),
            ("views", "latest views"),
            ("likes", "latest likes"),
            ("comments", "latest comments"),
            ("saved", "latest saves"),
            ("shares", "latest shares"),
            ("interactions", "latest interactions"),
            ("followers_at_posting", "the account's followers when the post was published"),
            ("rate_by_reach", "engagement rate by reach, percent"),
            ("rate_by_followers", "engagement rate by followers, percent"),
            ("rate_by_views", "engagement rate by views, percent"),
            ("impact", "impact score 0-100 (docs/metrics.md)"),
            ("impact_cohort", "earlier posts the score compares with"),
            ("checkpoint_hours", "the age the score was measured at"),
            ("computed_at", "when these figures were computed (UTC)"),
        ],
    },
    ArchiveTable {
        name: "account_snapshots",
        about: "Each account's counts over time",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the snapshot"),
            ("account_id", "ig_accounts.id"),
            ("captured_at", "when the counts were read (UTC)"),
            ("followers_count", "followers"),
            ("follows_count", "accounts followed"),
            ("media_count", "media on Instagram"),
        ],
    },
    ArchiveTable {
        name: "account_daily_insights",
        about: "Each account's own figures per day (Instagram's day, UTC)",
        order_by: "account_id, day",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("account_id", "ig_accounts.id"),
            ("day", "the day"),
            ("reach", "accounts reached"),
            ("views", "views"),
            ("accounts_engaged", "accounts that engaged"),
            ("total_interactions", "interactions"),
            ("likes", "likes"),
            ("comments", "comments"),
            ("saves", "saves"),
            ("shares", "shares"),
            ("replies", "replies"),
            ("reposts", "reposts"),
            ("follows", "follows"),
            ("unfollows", "unfollows"),
            ("profile_views", "profile views"),
            ("website_clicks", "website link taps"),
            ("profile_links_taps", "profile link taps"),
            ("follower_net_change", "net follower change"),
            ("captured_at", "when the day was read (UTC)"),
        ],
    },
    ArchiveTable {
        name: "account_audience",
        about: "Each account's followers by age, gender, country, city and hour online, as Meta counted them on each read",
        order_by: "account_id, day, dimension, followers DESC, key",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("account_id", "ig_accounts.id"),
            ("day", "the day of the read (UTC)"),
            ("dimension", "age, gender, country, city or online_hour"),
            ("key", "the age range, gender (F, M, U), country code, city, or the UTC hour 0-23 for online_hour"),
            (
                "followers",
                "followers with that value; for online_hour, followers online in that hour (mean of the last 7 days)",
            ),
        ],
    },
    ArchiveTable {
        name: "shared_links",
        about: "Read-only links to an account's overview, made by admins (without their secrets)",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the link"),
            ("account_id", "ig_accounts.id"),
            ("label", "who the link is for, in the admin's words"),
            ("rolling_days", "it shows the last this-many days as of each view"),
            ("first_day", "or it shows from this day"),
            ("last_day", "to this day"),
            ("expires_at", "when it stops working (UTC)"),
            ("revoked_at", "when an admin revoked it (UTC)"),
            ("created_by", "users.id of the admin who made it"),
            ("created_at", "when it was made (UTC)"),
            ("views", "how many times it was opened"),
            ("last_viewed_at", "when it was last opened (UTC)"),
        ],
    },
    ArchiveTable {
        name: "competitors",
        about: "Other professional accounts compared with yours, read once a day through Business Discovery",
        order_by: "id",
        account_filter: None,
        columns: &[
            ("id", "Tidemark's id of the competitor"),
            ("username", "its Instagram username"),
            ("status", "waiting (not read yet), tracked, or not_found"),
            ("ig_id", "Instagram's id of the account"),
            ("name", "its display name"),
            ("followers_count", "followers at the last read"),
            ("media_count", "posts on Instagram at the last read"),
            ("read_at", "when it was last read (UTC)"),
            ("tried_at", "when it was last asked for, whatever the answer (UTC)"),
            ("last_error", "why the last read failed, until one succeeds"),
            ("added_by", "users.id of the admin who added it"),
            ("added_at", "when it was added (UTC)"),
        ],
    },
    ArchiveTable {
        name: "competitor_days",
        about: "Each competitor's public counts on each day it was read",
        order_by: "competitor_id, day",
        account_filter: None,
        columns: &[
            ("competitor_id", "competitors.id"),
            ("day", "the day of the read (UTC)"),
            ("followers_count", "its followers that day"),
            ("media_count", "its posts that day"),
        ],
    },
    ArchiveTable {
        name: "competitor_posts",
        about: "Competitors' recent posts with their public like and comment counts, as last read",
        order_by: "competitor_id, posted_at, media_id",
        account_filter: None,
        columns: &[
            ("competitor_id", "competitors.id"),
            ("media_id", "Instagram's id of the post"),
            ("posted_at", "when it was published (UTC)"),
            ("media_type", "IMAGE, VIDEO or CAROUSEL_ALBUM"),
            ("media_product_type", "FEED or REELS"),
            ("like_count", "likes at the last read; empty when the owner hides them"),
            ("comments_count", "comments at the last read"),
            ("permalink", "its address on Instagram"),
            ("read_at", "when it was last read (UTC)"),
        ],
    },
    ArchiveTable {
        name: "alert_rules",
        about: "What the alerts watch, their thresholds and quiet periods, and who hears of them",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the rule"),
            ("kind", "post_above, post_below, reach_below, sync_failing, token_expiring or publishing_failed"),
            ("account_id", "ig_accounts.id; empty: every account"),
            ("threshold", "an impact score, a percentage of the norm, a number of failed cycles or of days, by kind"),
            ("quiet_hours", "hours the rule stays quiet about a post or account after firing"),
            ("recipients", "the e-mail addresses alerts go to"),
            ("webhook_url", "the address alerts are posted to, signed"),
            ("enabled", "whether it is judged"),
            ("created_by", "users.id of the admin who made it"),
            ("created_at", "when it was made (UTC)"),
        ],
    },
    ArchiveTable {
        name: "alert_events",
        about: "Every alert fired in the last 90 days, with why and how it was delivered",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the alert"),
            ("rule_id", "alert_rules.id; empty once the rule is deleted"),
            ("kind", "what the rule watched"),
            ("account_id", "ig_accounts.id it is about"),
            ("subject", "the post, account or publication it is about"),
            ("fired_at", "when it fired (UTC)"),
            ("title", "what happened"),
            ("detail", "why, with the figures it was judged on"),
            ("email", "mailed, failed, not_mailed (no mail server) or none (no recipients)"),
            ("email_error", "why the mail server did not take it"),
            ("webhook", "delivered, failed or none"),
            ("webhook_error", "why the webhook failed"),
            ("attempts", "how many times it was delivered or tried"),
            ("tried_at", "the last try (UTC)"),
        ],
    },
    ArchiveTable {
        name: "report_schedules",
        about: "Reports mailed on a schedule: for whom, how often, to whom",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the schedule"),
            ("account_id", "ig_accounts.id; empty: every account together"),
            ("cadence", "weekly (Monday to Sunday) or monthly (calendar month)"),
            ("recipients", "the e-mail addresses it is sent to"),
            ("time_zone", "the zone its weeks, months and hour are counted in"),
            ("send_hour", "the hour it is sent at on the day after its period"),
            ("created_by", "users.id of the admin who made it"),
            ("created_at", "when it was made (UTC)"),
        ],
    },
    ArchiveTable {
        name: "sent_reports",
        about: "Every report made, with its figures as they were when it was made",
        order_by: "id",
        account_filter: Some("$1 = ANY (account_ids)"),
        columns: &[
            ("id", "Tidemark's id of the report"),
            ("schedule_id", "report_schedules.id; empty once the schedule is deleted"),
            ("account_id", "ig_accounts.id; empty: every account together"),
            ("account_ids", "every account the report shows"),
            ("cadence", "weekly or monthly"),
            ("first_day", "the period's first day"),
            ("last_day", "the period's last day"),
            ("made_by_hand", "true: sent with Send now; false: by the scheduler"),
            ("made_by", "users.id of the admin who sent it now"),
            ("made_at", "when it was made (UTC)"),
            ("recipients", "the e-mail addresses it was sent to"),
            ("delivery", "mailed, failed, or not_mailed (no mail server configured)"),
            ("mail_error", "why the mail server did not take it"),
            ("attempts", "how many times it was mailed or tried"),
            ("tried_at", "the last try (UTC)"),
            ("content", "the report's figures and words as JSON, exactly as sent"),
        ],
    },
    ArchiveTable {
        name: "api_tokens",
        about: "Tokens of the JSON API (never the tokens themselves, which are not kept)",
        order_by: "id",
        account_filter: None,
        columns: &[
            ("id", "Tidemark's id of the token (the id the token carries)"),
            ("name", "what it is for, in its maker's words"),
            ("scope", "read, or write"),
            ("created_by", "users.id of the admin who made it; empty when made with the command"),
            ("created_at", "when it was made (UTC)"),
            ("expires_at", "when it stops working (UTC); empty: never"),
            ("revoked_at", "when it was revoked (UTC)"),
            ("last_used_at", "when it was last used, to the minute (UTC)"),
        ],
    },
    ArchiveTable {
        name: "sync_runs",
        about: "The record of each account's sync cycles",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the run"),
            ("account_id", "ig_accounts.id"),
            ("trigger", "schedule, manual or command"),
            ("started_at", "start (UTC)"),
            ("finished_at", "end (UTC)"),
            ("outcome", "running, success, partial or failed"),
            ("api_calls", "Graph API calls made"),
            ("posts_seen", "posts listed"),
            ("snapshots_written", "snapshots written"),
            ("error_kind", "the kind of problem, if any"),
            ("error_message", "the problem in words"),
        ],
    },
    ArchiveTable {
        name: "publications",
        about: "Posts planned and published from Tidemark",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the publication"),
            ("account_id", "ig_accounts.id"),
            ("kind", "feed, reel or story"),
            ("status", "draft, scheduled, publishing, published, failed or cancelled"),
            ("caption", "the caption to publish"),
            ("first_comment", "the comment posted under it once live"),
            ("due_at", "when it is (or was) due (UTC)"),
            ("next_attempt_at", "when the publisher tries again (UTC)"),
            ("attempts", "attempts that ended in a wait or a failure"),
            ("container_id", "Meta's media container id"),
            ("container_created_at", "when the container was made (UTC)"),
            ("publish_sent_at", "when media_publish was sent (UTC)"),
            ("media_id", "Instagram's media id once published (posts.media_id)"),
            ("published_at", "when it went live (UTC)"),
            ("last_error", "the last problem, with Meta's message"),
            ("created_by", "users.id of who planned it"),
            ("created_at", "when it was planned (UTC)"),
            ("updated_at", "when the row last changed (UTC)"),
        ],
    },
    ArchiveTable {
        name: "publication_media",
        about: "The files of each publication (the files themselves are deleted once published)",
        order_by: "id",
        account_filter: Some("publication_id IN (SELECT id FROM publications WHERE account_id = $1)"),
        columns: &[
            ("id", "Tidemark's id of the file"),
            ("publication_id", "publications.id"),
            ("position", "order in a carousel, from 0"),
            ("file_name", "the random name it was stored under"),
            ("content_type", "image/jpeg, video/mp4 or video/quicktime"),
            ("bytes", "size in bytes"),
            ("width", "image width, pixels"),
            ("height", "image height, pixels"),
            ("duration_ms", "video length, milliseconds"),
            ("alt_text", "the image description"),
            ("container_id", "Meta's container id of this carousel item"),
            ("removed_at", "when the file was deleted from disk (UTC)"),
        ],
    },
    ArchiveTable {
        name: "publication_events",
        about: "Every step of each publication, with Meta's messages",
        order_by: "id",
        account_filter: Some("publication_id IN (SELECT id FROM publications WHERE account_id = $1)"),
        columns: &[
            ("id", "Tidemark's id of the event"),
            ("publication_id", "publications.id"),
            ("at", "when (UTC)"),
            ("status", "the step"),
            ("message", "what happened"),
        ],
    },
    ArchiveTable {
        name: "comments",
        about: "Comments on the accounts' media, as Meta's webhooks brought them",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the comment"),
            ("account_id", "ig_accounts.id"),
            ("comment_id", "Instagram's comment id"),
            ("media_id", "the media commented on (posts.media_id)"),
            ("parent_id", "the comment replied to, for a reply"),
            ("username", "the commenter's Instagram username"),
            ("text", "the comment as written"),
            ("commented_at", "when it was made, as Meta reported it (UTC)"),
            ("source", "webhook, sync or tidemark"),
            ("received_at", "when Tidemark received it (UTC)"),
            ("hidden", "hidden on Instagram (only its author sees it)"),
            ("flagged", "flagged for attention in the inbox"),
            ("rules_checked_at", "when the inbox rules judged it (UTC)"),
        ],
    },
    ArchiveTable {
        name: "comment_actions",
        about: "Every reply, hide, unhide, delete and flag made from Tidemark, by a person or a rule",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the action"),
            ("account_id", "ig_accounts.id"),
            ("comment_id", "Instagram's id of the comment acted on"),
            ("action", "reply, hide, unhide, delete, flag or unflag"),
            ("user_id", "users.id of who did it (empty for a rule, or a deleted user)"),
            ("rule_id", "comment_rules.id of the rule that did it"),
            ("actor", "who did it, as shown"),
            ("reply_id", "Instagram's id of the reply made"),
            ("detail", "the reply's text, or what was acted on (shortened)"),
            ("acted_at", "when (UTC)"),
            ("undone_at", "when it was undone (UTC)"),
            ("undone_by", "who undid it"),
        ],
    },
    ArchiveTable {
        name: "mentions",
        about: "Comments on other people's posts that @mention an account",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the mention"),
            ("account_id", "ig_accounts.id of the account mentioned"),
            ("media_id", "the other person's media the comment is on"),
            ("comment_id", "Instagram's id of the comment"),
            ("username", "who wrote it"),
            ("text", "the comment as written"),
            ("permalink", "the media's Instagram address"),
            ("mentioned_at", "when it was made (UTC)"),
            ("received_at", "when Meta's webhook announced it (UTC)"),
            ("fetched_at", "when its text was read (UTC)"),
            ("fetch_problem", "why its text could not be read"),
        ],
    },
    ArchiveTable {
        name: "saved_replies",
        about: "Reply templates for the inbox",
        order_by: "id",
        account_filter: None,
        columns: &[
            ("id", "Tidemark's id of the saved reply"),
            ("title", "its name"),
            ("body", "its text; {name} becomes the commenter's @username"),
            ("created_at", "when it was saved (UTC)"),
            ("updated_at", "when it last changed (UTC)"),
        ],
    },
    ArchiveTable {
        name: "comment_rules",
        about: "Inbox rules that act on new comments",
        order_by: "id",
        account_filter: Some("account_id = $1"),
        columns: &[
            ("id", "Tidemark's id of the rule"),
            ("name", "its name"),
            ("account_id", "the account it covers (empty: every account)"),
            ("match_kind", "keywords or pattern"),
            ("pattern", "the words (comma-separated) or the regular expression"),
            ("action", "hide, reply or flag"),
            ("saved_reply_id", "saved_replies.id it answers with"),
            ("per_hour", "actions it may take per hour"),
            ("enabled", "whether it is on"),
            ("created_at", "when it was made (UTC)"),
        ],
    },
    ArchiveTable {
        name: "dropped_metrics",
        about: "Metrics the Graph API refused, per kind of media",
        order_by: "media_product_type, media_type, metric",
        account_filter: None,
        columns: &[
            ("media_product_type", "FEED, REELS or STORY"),
            ("media_type", "IMAGE, VIDEO or CAROUSEL_ALBUM"),
            ("metric", "the refused metric"),
            ("reason", "the API's message"),
            ("dropped_at", "when it was refused (UTC)"),
        ],
    },
    ArchiveTable {
        name: "users",
        about: "Dashboard users (without their password hashes)",
        order_by: "id",
        account_filter: None,
        columns: &[
            ("id", "Tidemark's id of the user"),
            ("username", "the sign-in name"),
            ("role", "admin or viewer"),
            ("created_at", "when the user was added (UTC)"),
            ("totp_enabled_at", "when the user turned on their second factor (UTC); empty: off"),
            ("updated_at", "when the row last changed (UTC)"),
        ],
    },
    ArchiveTable {
        name: "settings",
        about: "The operator's settings",
        order_by: "id",
        account_filter: None,
        columns: &[
            ("id", "always true: there is one row"),
            ("lookback_days", "days of post history kept; empty: forever"),
            ("sync_schedule", "the sync's cron schedule"),
            ("timezone", "the operator's time zone"),
            ("updated_at", "when the settings last changed (UTC)"),
            ("young_post_hours", "posts younger than this are young"),
            ("young_every_minutes", "young posts' snapshot interval"),
            ("middle_post_days", "posts younger than this are middle-aged"),
            ("middle_every_minutes", "middle-aged posts' snapshot interval"),
            ("old_every_minutes", "older posts' snapshot interval"),
            ("token_refresh_days", "Instagram tokens are refreshed this many days before expiry"),
            ("engagement_definition", "reach, followers or views"),
            ("sync_run_keep_days", "days sync-run records are kept"),
            ("operator_contact", "who runs this Tidemark"),
            ("second_factor_for_everyone", "every user, viewers too, must sign in with a second factor"),
        ],
    },
    ArchiveTable {
        name: "meta_requests",
        about: "Meta's deauthorize and data-deletion requests (no personal data)",
        order_by: "id",
        account_filter: None,
        columns: &[
            ("id", "Tidemark's id of the request"),
            ("kind", "deauthorize or data_deletion"),
            ("flavour", "instagram or facebook"),
            ("confirmation_code", "the code given to Meta (data deletion)"),
            ("outcome", "done or nothing_held"),
            ("accounts_affected", "accounts handled"),
            ("issued_at", "when Meta issued the request (UTC)"),
            ("received_at", "when it arrived (UTC)"),
            ("completed_at", "when it was carried out (UTC)"),
        ],
    },
    ArchiveTable {
        name: "purges",
        about: "What each retention purge removed",
        order_by: "id",
        account_filter: None,
        columns: &[
            ("id", "Tidemark's id of the purge"),
            ("ran_at", "when it ran (UTC)"),
            ("posts", "posts removed"),
            ("snapshots", "post snapshots removed"),
            ("account_snapshots", "account snapshots removed"),
            ("daily_insights", "days of account insights removed"),
            ("sync_runs", "sync-run records removed"),
            ("meta_requests", "Meta request records removed"),
            ("dialogs", "unfinished Meta dialogs removed"),
            ("sessions", "expired dashboard sessions removed"),
            (
                "sign_ins",
                "sign-ins never finished with their second-factor code, and authenticators never confirmed, removed",
            ),
            ("audience", "audience figures (followers by age, gender, place and hour) removed"),
            ("reports", "reports kept about periods before the history window removed"),
            ("alerts", "alerts fired more than 90 days ago removed"),
        ],
    },
];

/// A cell as a spreadsheet may read it safely: text that a spreadsheet would take for a
/// formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`
/// (OWASP's advice for CSV injection). Numbers, negative ones included, stay as they are.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Array<Nullable<Text>>)]
    cells: Vec<Option<String>>,
}

/// What to archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everything,
    Account(AccountId),
}

pub struct Archive {
    pool: db::Pool,
    clock: Clock,
}

/// Sends what the zip writer writes to the response, in chunks. A client that went away
/// makes the next write fail, which ends the export.
struct ChannelWriter {
    sender: mpsc::Sender<Result<actix_web::web::Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = actix_web::web::Bytes::from(std::mem::take(&mut self.buffer));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

impl Archive {
    pub fn new(pool: db::Pool, clock: Clock) -> Self {
        Self { pool, clock }
    }

    /// The archive as a stream of zip bytes, written on a blocking thread as it is read.
    pub fn stream(&self, scope: Scope) -> mpsc::Receiver<Result<actix_web::web::Bytes, std::io::Error>> {
        let (sender, receiver) = mpsc::channel(4);
        let (pool, now) = (self.pool.clone(), (self.clock)());
        let runtime = tokio::runtime::Handle::current();
        let failed = sender.clone();
        tokio::task::spawn_blocking(move || {
            let writer = ChannelWriter { sender, buffer: Vec::with_capacity(CHUNK) };
            if let Err(err) = write_archive(writer, &pool, &runtime, scope, now) {
                tracing::warn!(error = format!("{err:#}"), "the archive export stopped");
                let _ = failed.blocking_send(Err(std::io::Error::other("the archive could not be completed")));
            }
        });
        receiver
    }

    /// The archive written to `out` (the `tidemark export` command).
    pub async fn write_to(&self, out: std::fs::File, scope: Scope) -> anyhow::Result<()> {
        let (pool, now) = (self.pool.clone(), (self.clock)());
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || write_archive(out, &pool, &runtime, scope, now)).await?
    }
}

fn write_archive<W: Write + Send>(
    out: W,
    pool: &db::Pool,
    runtime: &tokio::runtime::Handle,
    scope: Scope,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut zip = zip::ZipWriter::new_stream(out);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut manifest_tables = Vec::new();
    for table in TABLES {
        let filter = match (scope, table.account_filter) {
            (Scope::Everything, _) => None,
            (Scope::Account(_), Some(filter)) => Some(filter),
            (Scope::Account(_), None) => continue,
        };
        zip.start_file(format!("{}.csv", table.name), options)?;
        let rows = write_table(&mut zip, pool, runtime, table, filter, scope)?;
        manifest_tables.push(json!({
            "file": format!("{}.csv", table.name),
            "table": table.name,
            "about": table.about,
            "rows": rows,
            "columns": table.columns.iter().map(|(name, meaning)| json!({ "name": name, "meaning": meaning })).collect::<Vec<_>>(),
        }));
    }
    let schema_version = db::embedded_versions().into_iter().max().unwrap_or_default();
    let manifest = json!({
        "format": "tidemark-archive",
        "format_version": 1,
        "schema_version": schema_version,
        "generated_at": now.to_rfc3339(),
        "scope": match scope { Scope::Everything => json!("everything"), Scope::Account(id) => json!({ "account": id.0 }) },
        "encoding": "CSV, UTF-8, a header line; an empty cell is NULL (not measured); times are UTC; text that a spreadsheet would read as a formula (beginning with =, +, -, @, tab or CR) is prefixed with '",
        "never_included": "access tokens, password hashes, session and app secrets",
        "tables": manifest_tables,
    });
    zip.start_file("manifest.json", options)?;
    zip.write_all(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    let mut out = zip.finish()?;
    out.flush()?;
    Ok(())
}

/// Writes one table as CSV, page by page; returns its row count.
fn write_table<W: Write + Send>(
    out: &mut W,
    pool: &db::Pool,
    runtime: &tokio::runtime::Handle,
    table: &ArchiveTable,
    filter: Option<&'static str>,
    scope: Scope,
) -> anyhow::Result<u64> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(table.columns.iter().map(|(name, _)| *name))?;
    // Every value as text; identifiers come from the const catalogue above, never from input.
    let cells: Vec<String> = table.columns.iter().map(|(name, _)| format!("\"{name}\"::text")).collect();
    let select = format!("SELECT ARRAY[{}] AS cells FROM {}", cells.join(", "), table.name);
    let account = match (scope, filter) {
        (Scope::Account(id), Some(filter)) => Some((id, filter)),
        _ => None,
    };
    // One cursor per table, read page by page inside one read-only transaction: each page
    // costs only its own rows (OFFSET would read every row before it again, and a year of an
    // agency's snapshots would take hours), and the table is read as of one moment.
    let written = runtime.block_on(async {
        let mut conn = pool.get().await.map_err(DbError::from)?;
        conn.build_transaction()
            .read_only()
            .run(async |conn| {
                let declare = format!("DECLARE archive_rows NO SCROLL CURSOR FOR {select}");
                let declare = match account {
                    Some((id, filter)) => {
                        diesel::sql_query(format!("{declare} WHERE {filter} ORDER BY {}", table.order_by))
                            .into_boxed()
                            .bind::<BigInt, _>(id.0)
                    }
                    None => diesel::sql_query(format!("{declare} ORDER BY {}", table.order_by)).into_boxed(),
                };
                declare.execute(conn).await?;
                let mut written = 0u64;
                loop {
                    let rows: Vec<Row> =
                        diesel::sql_query(format!("FETCH {PAGE} FROM archive_rows")).load(conn).await?;
                    for row in &rows {
                        csv.write_record(
                            row.cells.iter().map(|c| spreadsheet_safe(c.as_deref().unwrap_or("")).into_owned()),
                        )?;
                    }
                    written += rows.len() as u64;
                    if (rows.len() as i64) < PAGE {
                        break;
                    }
                }
                Ok::<_, anyhow::Error>(written)
            })
            .await
    })?;
    csv.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_numbers_left_alone() {
        for risky in ["=HYPERLINK(\"http://x\")", "+1 555", "-rf", "@SUM(A1)", "\tcmd", "\rcmd"] {
            assert_eq!(spreadsheet_safe(risky), format!("'{risky}"));
        }
        for plain in ["-12", "-0.5", "+3", "hello", "", "2026-11-30T10:00:00Z", "#tag"] {
            assert_eq!(spreadsheet_safe(plain), plain);
        }
    }
}
