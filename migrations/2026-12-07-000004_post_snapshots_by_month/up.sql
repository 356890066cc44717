-- post_snapshots grows by a row per post and measurement: an agency's hundred accounts write
-- tens of millions a year. It becomes range-partitioned by capture month (UTC), so that
-- retention drops a month that left the history window whole instead of deleting its rows one
-- by one, and a query over a period reads only that period's months.
--
-- The application makes each month's partition before it writes into it
-- (`post_snapshots_month`, called by the snapshot writer for the months it is about to write,
-- and by the nightly purge for this month and the next). There is no default partition: with
-- one, PostgreSQL can no longer read the months newest first and stop at the first hit, and
-- "a post's latest snapshot" would probe every month.
--
-- The key becomes (post_id, captured_at): a partitioned table's unique keys must hold the
-- partition column, and this pair is what keeps a retried cycle from writing a snapshot twice.
-- `id` stays (the export pages through it) with an ordinary index.
ALTER TABLE post_snapshots RENAME TO post_snapshots_unpartitioned;
DROP TRIGGER post_snapshots_data_version ON post_snapshots_unpartitioned;
DROP TRIGGER post_snapshots_data_version_update ON post_snapshots_unpartitioned;
DROP TRIGGER post_snapshots_data_version_delete ON post_snapshots_unpartitioned;

CREATE TABLE post_snapshots (LIKE post_snapshots_unpartitioned INCLUDING DEFAULTS)
    PARTITION BY RANGE (captured_at);
ALTER SEQUENCE post_snapshots_id_seq OWNED BY post_snapshots.id;

-- Makes the partition of the month (UTC) holding `day` unless it exists. Two processes may
-- call it at once: an advisory lock makes the second wait and then find the month made.
CREATE FUNCTION post_snapshots_month(day DATE) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    month_start TIMESTAMPTZ := date_trunc('month', day::timestamp) AT TIME ZONE 'UTC';
    month_end   TIMESTAMPTZ := (date_trunc('month', day::timestamp) + interval '1 month') AT TIME ZONE 'UTC';
    part        TEXT := 'post_snapshots_' || to_char(date_trunc('month', day::timestamp), 'YYYY_MM');
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('post_snapshots_month'));
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF post_snapshots FOR VALUES FROM (%L) TO (%L)',
        part, month_start, month_end);
END;
$$;

-- A partition for every month that has snapshots, and for last month, this one and the next.
SELECT post_snapshots_month(month::date)
FROM (SELECT DISTINCT date_trunc('month', captured_at AT TIME ZONE 'UTC') AS month FROM post_snapshots_unpartitioned
      UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + step * interval '1 month'
            FROM generate_series(-1, 1) AS step) AS months;

INSERT INTO post_snapshots SELECT * FROM post_snapshots_unpartitioned;
DROP TABLE post_snapshots_unpartitioned;
-- The keys after the rows (one index build per month rather than an insert into each), under
-- the names the single table's had.
ALTER TABLE post_snapshots ADD CONSTRAINT post_snapshots_pkey PRIMARY KEY (post_id, captured_at);
ALTER TABLE post_snapshots ADD CONSTRAINT post_snapshots_post_id_fkey
    FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE;
CREATE INDEX post_snapshots_id ON post_snapshots (id);

-- The page cache follows the table as before (see 2026-12-04-000003).
CREATE TRIGGER post_snapshots_data_version AFTER INSERT OR TRUNCATE ON post_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER post_snapshots_data_version_update AFTER UPDATE ON post_snapshots
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_if_changed();
CREATE TRIGGER post_snapshots_data_version_delete AFTER DELETE ON post_snapshots
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_if_changed();
