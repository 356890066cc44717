-- Read-only links to one account's overview, made by an admin for someone without a sign-in.
-- The link's secret is kept only as its SHA-256 hash: the link is shown once, when made.
CREATE TABLE shared_links (
    id             BIGSERIAL PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    token_hash     BYTEA NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    -- Who it is for, in the admin's words.
    label          TEXT NOT NULL DEFAULT '' CHECK (char_length(label) <= 100),
    -- What it shows: the last N days as of each view, or a fixed span of days.
    rolling_days   INTEGER CHECK (rolling_days BETWEEN 1 AND 366),
    first_day      DATE,
    last_day       DATE,
    CHECK ((rolling_days IS NOT NULL AND first_day IS NULL AND last_day IS NULL)
        OR (rolling_days IS NULL AND first_day IS NOT NULL AND last_day IS NOT NULL AND first_day <= last_day)),
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    created_by     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    views          BIGINT NOT NULL DEFAULT 0,
    last_viewed_at TIMESTAMPTZ
);

CREATE INDEX shared_links_account ON shared_links (account_id);

-- No data_version trigger: no cached page is built from these rows, and counting a view must
-- not empty the page cache.
