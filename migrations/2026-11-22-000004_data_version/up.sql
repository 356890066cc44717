-- A counter that moves whenever data the pages show changes, whichever process changed it
-- (serve, `tidemark sync`, another serve). Pages cache what they compute and recompute
-- only when it has moved.
CREATE TABLE data_version (
    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    n  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO data_version DEFAULT VALUES;

CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_version SET n = n + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ig_accounts_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ig_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER posts_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON posts
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER post_snapshots_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON post_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER post_scores_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON post_scores
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER account_snapshots_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON account_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER account_daily_insights_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON account_daily_insights
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER sync_runs_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sync_runs
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER settings_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER dropped_metrics_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON dropped_metrics
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
