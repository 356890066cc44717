-- Each post's latest snapshot time was kept on the post and moved by every snapshot write.
-- Moving it cost more than writing the snapshot: a second row version per post per cycle,
-- a row-version copy for the data-version trigger, and (through posts_account_due) a new
-- entry in each of the posts' five indexes. The snapshots' own unique index on
-- (post_id, captured_at) answers "when was this post last measured" by reading one entry,
-- so the time is read from there and no longer stored twice.
DROP INDEX posts_account_due;
ALTER TABLE posts DROP COLUMN last_snapshot_at;
