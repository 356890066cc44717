-- Server-side sessions: the signed cookie names a row here, and a session ends when its row
-- goes (sign-out, "sign out everywhere", ending it from another device, deleting the user).
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    -- Its absolute end; rows past it are purged.
    expires_at    TIMESTAMPTZ NOT NULL,
    user_agent    TEXT NOT NULL DEFAULT '' CHECK (length(user_agent) <= 300),
    address       TEXT NOT NULL DEFAULT '' CHECK (length(address) <= 64)
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

ALTER TABLE purges ADD COLUMN sessions BIGINT NOT NULL DEFAULT 0 CHECK (sessions >= 0);
