-- Each snapshot write for an account moves this counter, under the account's row lock. A writer
-- that finds it where it was when the due posts were read knows no other write came between,
-- and skips re-reading each post's latest snapshot (an index probe per post).
ALTER TABLE ig_accounts ADD COLUMN snapshot_writes BIGINT NOT NULL DEFAULT 0;
