-- A second factor (TOTP, RFC 6238) for dashboard users.
--
-- The confirmed secret lives on the user's row, sealed with the token key (AES-256-GCM, the
-- user's id as associated data) like an access token. `totp_last_step` is the last time step
-- a code was accepted for: a code is only accepted for a later step, so none works twice.
ALTER TABLE users
    ADD COLUMN totp_ciphertext   BYTEA,
    ADD COLUMN totp_nonce        BYTEA,
    ADD COLUMN totp_key_version  INTEGER,
    ADD COLUMN totp_enabled_at   TIMESTAMPTZ,
    ADD COLUMN totp_last_step    BIGINT NOT NULL DEFAULT 0,
    ADD CONSTRAINT users_totp_complete CHECK (
        (totp_ciphertext IS NULL) = (totp_nonce IS NULL)
        AND (totp_ciphertext IS NULL) = (totp_key_version IS NULL)
        AND (totp_ciphertext IS NULL) = (totp_enabled_at IS NULL)
    );

-- A secret being set up: shown as a QR code until the user confirms it with a code from their
-- app. Replacing an authenticator keeps the old one working until the new one is confirmed.
CREATE TABLE totp_enrolments (
    user_id      BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    ciphertext   BYTEA NOT NULL,
    nonce        BYTEA NOT NULL,
    key_version  INTEGER NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

-- Single-use recovery codes: only their SHA-256 (each code is 120 random bits, so a slow hash
-- would add nothing); a code is deleted when used.
CREATE TABLE recovery_codes (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   BYTEA NOT NULL CHECK (length(code_hash) = 32),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX recovery_codes_user_id ON recovery_codes (user_id);

-- A sign-in whose password was right and whose code is still awaited. The browser's sign-in
-- cookie names it; it ends after a few minutes or a few wrong codes.
CREATE TABLE sign_in_challenges (
    id               TEXT PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The user's session version when the password was checked: a password change since
    -- voids the challenge.
    session_version  INTEGER NOT NULL,
    next_path        TEXT NOT NULL CHECK (length(next_path) <= 2000),
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    failures         INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0)
);
CREATE INDEX sign_in_challenges_expires_at ON sign_in_challenges (expires_at);

ALTER TABLE purges ADD COLUMN sign_ins BIGINT NOT NULL DEFAULT 0 CHECK (sign_ins >= 0);

-- The operator may require a second factor of every user, viewers too (admins need one as
-- soon as one admin has one, whatever this says).
ALTER TABLE settings ADD COLUMN second_factor_for_everyone BOOLEAN NOT NULL DEFAULT false;
