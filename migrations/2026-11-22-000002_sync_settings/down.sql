DROP INDEX posts_account_due;
ALTER TABLE posts DROP COLUMN last_snapshot_at;
ALTER TABLE settings
    DROP COLUMN young_post_hours,
    DROP COLUMN young_every_minutes,
    DROP COLUMN middle_post_days,
    DROP COLUMN middle_every_minutes,
    DROP COLUMN old_every_minutes,
    DROP COLUMN token_refresh_days;
