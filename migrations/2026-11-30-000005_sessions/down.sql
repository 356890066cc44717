ALTER TABLE purges DROP COLUMN sessions;
DROP TABLE sessions;
