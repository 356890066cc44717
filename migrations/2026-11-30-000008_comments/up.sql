-- Comments on the accounts' media (graph-api.md §8), as webhooks (and, later, the sync) bring
-- them. A reply names its top-level comment in `parent_id`.
CREATE TABLE comments (
    id            BIGSERIAL PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    comment_id    TEXT NOT NULL CHECK (comment_id ~ '^[0-9]{1,32}$'),
    media_id      TEXT NOT NULL CHECK (media_id ~ '^[0-9]{1,32}$'),
    parent_id     TEXT CHECK (parent_id ~ '^[0-9]{1,32}$'),
    username      TEXT,
    text          TEXT NOT NULL DEFAULT '',
    commented_at  TIMESTAMPTZ NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('webhook', 'sync', 'tidemark')),
    received_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (account_id, comment_id)
);
CREATE INDEX comments_account_time ON comments (account_id, commented_at DESC);
CREATE INDEX comments_media ON comments (account_id, media_id);

-- Each webhook change seen, by the SHA-256 of its account, field and value, so that Meta's
-- retries (for up to 36 hours, §6.3) write nothing twice. Kept three days.
CREATE TABLE webhook_events (
    digest       BYTEA PRIMARY KEY CHECK (octet_length(digest) = 32),
    field        TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_events_received ON webhook_events (received_at);

CREATE TRIGGER comments_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON comments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
