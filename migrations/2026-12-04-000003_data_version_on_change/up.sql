-- The data version moved on every UPDATE or DELETE statement, even one that changed no row:
-- the publisher's claim runs every minute and usually finds nothing due, so every page's cache
-- was emptied every minute (and recomputed by the warm-up job). UPDATE and DELETE now move it
-- only when their transition table holds a row. INSERT and TRUNCATE keep the plain trigger:
-- an insert of nothing is rare, and the snapshots' large inserts should not gather their rows
-- a second time.
CREATE FUNCTION bump_data_version_if_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed) THEN
        UPDATE data_version SET n = n + 1;
    END IF;
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t TEXT;
BEGIN
    FOR t IN
        SELECT DISTINCT event_object_table FROM information_schema.triggers
        WHERE trigger_name = event_object_table || '_data_version'
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version', t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()', t || '_data_version', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_if_changed()', t || '_data_version_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_if_changed()', t || '_data_version_delete', t);
    END LOOP;
END;
$$;
