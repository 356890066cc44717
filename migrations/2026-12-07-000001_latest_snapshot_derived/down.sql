ALTER TABLE posts ADD COLUMN last_snapshot_at TIMESTAMPTZ;
UPDATE posts p SET last_snapshot_at = s.at
FROM (SELECT post_id, max(captured_at) AS at FROM post_snapshots GROUP BY post_id) s
WHERE s.post_id = p.id;
CREATE INDEX posts_account_due ON posts (account_id, last_snapshot_at) WHERE removed_at IS NULL;
