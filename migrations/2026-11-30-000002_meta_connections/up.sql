-- Connecting through Meta's dialogs, disconnecting, and the ids Meta's callbacks name.

-- A disconnected account (or one whose token Meta refused) keeps its history but no token.
ALTER TABLE ig_accounts
    ALTER COLUMN token_ciphertext DROP NOT NULL,
    ALTER COLUMN token_nonce DROP NOT NULL,
    ALTER COLUMN token_key_version DROP NOT NULL,
    -- The app-scoped user id Meta's deauthorize and data-deletion callbacks name.
    ADD COLUMN app_user_id TEXT CHECK (app_user_id ~ '^[0-9]{1,32}$'),
    -- The scopes the user granted (empty: not reported, e.g. a pasted Instagram token).
    ADD COLUMN granted_scopes TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN disconnected_at TIMESTAMPTZ;

ALTER TABLE ig_accounts DROP CONSTRAINT ig_accounts_status_check;
ALTER TABLE ig_accounts
    ADD CONSTRAINT ig_accounts_status_check
        CHECK (status IN ('active', 'disabled', 'needs_reauth', 'disconnected')),
    ADD CONSTRAINT ig_accounts_token_whole
        CHECK ((token_ciphertext IS NULL) = (token_nonce IS NULL)
           AND (token_nonce IS NULL) = (token_key_version IS NULL)),
    ADD CONSTRAINT ig_accounts_active_has_token CHECK (status <> 'active' OR token_ciphertext IS NOT NULL),
    ADD CONSTRAINT ig_accounts_disconnected_has_no_token
        CHECK (status <> 'disconnected' OR token_ciphertext IS NULL);

CREATE INDEX ig_accounts_app_user_id ON ig_accounts (app_user_id) WHERE app_user_id IS NOT NULL;

-- The `state` of a dialog in progress: bound to the admin's session, used once.
CREATE TABLE oauth_states (
    state_hash  BYTEA PRIMARY KEY CHECK (length(state_hash) = 32),
    session_id  TEXT NOT NULL,
    flavour     TEXT NOT NULL CHECK (flavour IN ('instagram', 'facebook')),
    expires_at  TIMESTAMPTZ NOT NULL
);

-- Facebook Login: the accounts a dialog returned, waiting for the admin to choose which to
-- connect. The token is sealed like an account's; the row lives minutes.
CREATE TABLE oauth_pending (
    id                 BYTEA PRIMARY KEY CHECK (length(id) = 32),
    session_id         TEXT NOT NULL,
    token_ciphertext   BYTEA NOT NULL,
    token_nonce        BYTEA NOT NULL CHECK (length(token_nonce) = 12),
    token_key_version  INTEGER NOT NULL,
    token_expires_at   TIMESTAMPTZ,
    app_user_id        TEXT,
    granted_scopes     TEXT[] NOT NULL,
    candidates         JSONB NOT NULL,
    expires_at         TIMESTAMPTZ NOT NULL
);
