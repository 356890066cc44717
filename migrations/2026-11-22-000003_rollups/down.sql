DROP TABLE post_scores;
DROP TABLE post_checkpoints;
ALTER TABLE settings DROP COLUMN engagement_definition;
