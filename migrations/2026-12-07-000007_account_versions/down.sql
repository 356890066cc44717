DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['ig_accounts', 'posts', 'post_snapshots', 'post_scores', 'account_snapshots',
        'account_daily_insights', 'sync_runs', 'publications', 'comments', 'comment_actions', 'mentions',
        'account_audience', 'post_thumbnails', 'competitors', 'competitor_days', 'competitor_posts']
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version_update', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version_delete', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version_truncate', t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()', t || '_data_version', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_if_changed()', t || '_data_version_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_if_changed()', t || '_data_version_delete', t);
    END LOOP;
END;
$$;

DROP FUNCTION bump_account_versions();
DROP FUNCTION bump_data_version_alone();

CREATE OR REPLACE FUNCTION bump_data_version_if_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed) THEN
        UPDATE data_version SET n = n + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_version SET n = n + 1;
    RETURN NULL;
END;
$$;

DROP TABLE account_versions;
ALTER TABLE data_version DROP COLUMN common;
