-- Back to one table, every row kept, with its former keys.
ALTER TABLE post_snapshots RENAME TO post_snapshots_partitioned;
CREATE TABLE post_snapshots (LIKE post_snapshots_partitioned INCLUDING DEFAULTS);
INSERT INTO post_snapshots SELECT * FROM post_snapshots_partitioned;
ALTER SEQUENCE post_snapshots_id_seq OWNED BY post_snapshots.id;
DROP TABLE post_snapshots_partitioned;
DROP FUNCTION post_snapshots_month(DATE);
ALTER TABLE post_snapshots ADD PRIMARY KEY (id);
ALTER TABLE post_snapshots ADD UNIQUE (post_id, captured_at);
ALTER TABLE post_snapshots ADD FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE;
CREATE TRIGGER post_snapshots_data_version AFTER INSERT OR TRUNCATE ON post_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER post_snapshots_data_version_update AFTER UPDATE ON post_snapshots
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_if_changed();
CREATE TRIGGER post_snapshots_data_version_delete AFTER DELETE ON post_snapshots
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_if_changed();
