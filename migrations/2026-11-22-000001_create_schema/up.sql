-- The whole product's schema. Later features extend it; they should not need to rewrite it.

-- Dashboard users. Usernames are stored lower-case so uniqueness is case-insensitive.
CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE CHECK (username = lower(username) AND length(username) BETWEEN 1 AND 64),
    role            TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    password_hash   TEXT NOT NULL,
    -- Bumped on password change, role change and "sign out everywhere": every
    -- session token carries the version it was issued for.
    session_version INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Connected Instagram professional accounts.
CREATE TABLE ig_accounts (
    id                  BIGSERIAL PRIMARY KEY,
    flavour             TEXT NOT NULL CHECK (flavour IN ('instagram', 'facebook')),
    -- Graph API ids exceed 2^53; they are kept as the decimal strings the API sends.
    ig_user_id          TEXT NOT NULL UNIQUE CHECK (ig_user_id ~ '^[0-9]{1,32}$'),
    facebook_page_id    TEXT CHECK (facebook_page_id ~ '^[0-9]{1,32}$'),
    username            TEXT NOT NULL,
    name                TEXT,
    profile_picture_url TEXT,
    followers_count     BIGINT,
    follows_count       BIGINT,
    media_count         BIGINT,
    status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'needs_reauth')),
    status_reason       TEXT,
    -- AES-256-GCM: the nonce is stored beside the ciphertext, the key version
    -- says which key encrypted it (see `tidemark key rotate`).
    token_ciphertext    BYTEA NOT NULL,
    token_nonce         BYTEA NOT NULL CHECK (length(token_nonce) = 12),
    token_key_version   INTEGER NOT NULL,
    token_expires_at    TIMESTAMPTZ,
    token_refreshed_at  TIMESTAMPTZ,
    last_synced_at      TIMESTAMPTZ,
    -- Set while the Graph API asks us to wait (rate limits).
    paused_until        TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per Instagram media item seen in the lookback window.
CREATE TABLE posts (
    id                  BIGSERIAL PRIMARY KEY,
    account_id          BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    media_id            TEXT NOT NULL CHECK (media_id ~ '^[0-9]{1,32}$'),
    caption             TEXT,
    media_type          TEXT NOT NULL,
    media_product_type  TEXT,
    permalink           TEXT,
    posted_at           TIMESTAMPTZ NOT NULL,
    hashtags            TEXT[] NOT NULL DEFAULT '{}',
    -- When the post stopped appearing in the media list; its history stays.
    removed_at          TIMESTAMPTZ,
    -- Why the API gives no insights for it (e.g. posted before business conversion).
    insights_unavailable TEXT,
    first_seen_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, media_id)
);
CREATE INDEX posts_account_posted_at ON posts (account_id, posted_at DESC);
CREATE INDEX posts_hashtags ON posts USING GIN (hashtags);

-- A post's metrics at one moment. NULL means "not measured"; 0 means zero.
CREATE TABLE post_snapshots (
    id                              BIGSERIAL PRIMARY KEY,
    post_id                         BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    captured_at                     TIMESTAMPTZ NOT NULL,
    views                           BIGINT,
    reach                           BIGINT,
    likes                           BIGINT,
    comments                        BIGINT,
    saved                           BIGINT,
    shares                          BIGINT,
    total_interactions              BIGINT,
    follows                         BIGINT,
    profile_visits                  BIGINT,
    profile_activity                BIGINT,
    replies                         BIGINT,
    navigation                      BIGINT,
    reposts                         BIGINT,
    ig_reels_avg_watch_time_ms      BIGINT,
    ig_reels_video_view_total_time_ms BIGINT,
    reels_skip_rate                 DOUBLE PRECISION,
    facebook_views                  BIGINT,
    crossposted_views               BIGINT,
    -- A retried or overlapping cycle must not write the same snapshot twice.
    UNIQUE (post_id, captured_at)
);
-- The unique index above serves "latest snapshot per post" (scan backwards)
-- and "series of one post over a time range".

-- The account's counters at one moment.
CREATE TABLE account_snapshots (
    id              BIGSERIAL PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    captured_at     TIMESTAMPTZ NOT NULL,
    followers_count BIGINT,
    follows_count   BIGINT,
    media_count     BIGINT,
    UNIQUE (account_id, captured_at)
);

-- Daily account insights (one row per account and day in the account's API day).
CREATE TABLE account_daily_insights (
    account_id          BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    day                 DATE NOT NULL,
    reach               BIGINT,
    views               BIGINT,
    accounts_engaged    BIGINT,
    total_interactions  BIGINT,
    likes               BIGINT,
    comments            BIGINT,
    saves               BIGINT,
    shares              BIGINT,
    replies             BIGINT,
    reposts             BIGINT,
    follows             BIGINT,
    unfollows           BIGINT,
    profile_views       BIGINT,
    website_clicks      BIGINT,
    profile_links_taps  BIGINT,
    -- The API's `follower_count` metric is a daily net change, not a total.
    follower_net_change BIGINT,
    captured_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, day)
);

-- One row per account per sync cycle.
CREATE TABLE sync_runs (
    id                BIGSERIAL PRIMARY KEY,
    account_id        BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    trigger           TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'command')),
    started_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at       TIMESTAMPTZ,
    outcome           TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'success', 'partial', 'failed')),
    api_calls         INTEGER NOT NULL DEFAULT 0,
    posts_seen        INTEGER NOT NULL DEFAULT 0,
    snapshots_written INTEGER NOT NULL DEFAULT 0,
    error_kind        TEXT,
    error_message     TEXT
);
CREATE INDEX sync_runs_account_started ON sync_runs (account_id, started_at DESC);
CREATE INDEX sync_runs_started ON sync_runs (started_at DESC);

-- Metrics the API rejected for a kind of media; remembered so later syncs do not ask again.
CREATE TABLE dropped_metrics (
    media_product_type TEXT NOT NULL,
    media_type         TEXT NOT NULL,
    metric             TEXT NOT NULL,
    reason             TEXT NOT NULL,
    dropped_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (media_product_type, media_type, metric)
);

-- Operator settings: exactly one row.
CREATE TABLE settings (
    id            BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    -- NULL keeps history forever.
    lookback_days INTEGER DEFAULT 90 CHECK (lookback_days IS NULL OR lookback_days BETWEEN 1 AND 3650),
    -- Six fields, seconds first (tokio-cron-scheduler).
    sync_schedule TEXT NOT NULL DEFAULT '0 */15 * * * *',
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO settings DEFAULT VALUES;
