ALTER TABLE settings DROP COLUMN second_factor_for_everyone;
ALTER TABLE purges DROP COLUMN sign_ins;
DROP TABLE sign_in_challenges;
DROP TABLE recovery_codes;
DROP TABLE totp_enrolments;
ALTER TABLE users
    DROP CONSTRAINT users_totp_complete,
    DROP COLUMN totp_ciphertext,
    DROP COLUMN totp_nonce,
    DROP COLUMN totp_key_version,
    DROP COLUMN totp_enabled_at,
    DROP COLUMN totp_last_step;
