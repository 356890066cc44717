DROP TABLE oauth_pending;
DROP TABLE oauth_states;
DROP INDEX ig_accounts_app_user_id;
-- Accounts without a token cannot exist before this migration.
DELETE FROM ig_accounts WHERE token_ciphertext IS NULL;
ALTER TABLE ig_accounts
    DROP CONSTRAINT ig_accounts_disconnected_has_no_token,
    DROP CONSTRAINT ig_accounts_active_has_token,
    DROP CONSTRAINT ig_accounts_token_whole,
    DROP CONSTRAINT ig_accounts_status_check;
ALTER TABLE ig_accounts
    ADD CONSTRAINT ig_accounts_status_check CHECK (status IN ('active', 'disabled', 'needs_reauth')),
    DROP COLUMN disconnected_at,
    DROP COLUMN granted_scopes,
    DROP COLUMN app_user_id,
    ALTER COLUMN token_key_version SET NOT NULL,
    ALTER COLUMN token_nonce SET NOT NULL,
    ALTER COLUMN token_ciphertext SET NOT NULL;
