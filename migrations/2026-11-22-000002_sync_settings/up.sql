-- What the sync needs beyond the first schema: its cadence tiers and token-refresh
-- horizon as settings, and each post's latest snapshot time (what "due" is computed from).

ALTER TABLE settings
    ADD COLUMN young_post_hours       INTEGER NOT NULL DEFAULT 48 CHECK (young_post_hours BETWEEN 1 AND 720),
    ADD COLUMN young_every_minutes    INTEGER NOT NULL DEFAULT 60 CHECK (young_every_minutes BETWEEN 5 AND 10080),
    ADD COLUMN middle_post_days       INTEGER NOT NULL DEFAULT 7 CHECK (middle_post_days BETWEEN 1 AND 365),
    ADD COLUMN middle_every_minutes   INTEGER NOT NULL DEFAULT 360 CHECK (middle_every_minutes BETWEEN 5 AND 10080),
    ADD COLUMN old_every_minutes      INTEGER NOT NULL DEFAULT 1440 CHECK (old_every_minutes BETWEEN 5 AND 10080),
    ADD COLUMN token_refresh_days     INTEGER NOT NULL DEFAULT 7 CHECK (token_refresh_days BETWEEN 1 AND 59);

ALTER TABLE posts ADD COLUMN last_snapshot_at TIMESTAMPTZ;
-- The sync asks "which of this account's live posts are due" every tick.
CREATE INDEX posts_account_due ON posts (account_id, last_snapshot_at) WHERE removed_at IS NULL;
