DROP TABLE comment_actions;
DROP TABLE comment_rules;
DROP TABLE saved_replies;
ALTER TABLE posts DROP COLUMN comments_seen;
DROP INDEX comments_unchecked;
DROP INDEX comments_thread;
ALTER TABLE comments DROP COLUMN rules_checked_at, DROP COLUMN flagged, DROP COLUMN hidden;
