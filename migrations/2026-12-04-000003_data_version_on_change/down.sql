DO $$
DECLARE
    t TEXT;
BEGIN
    FOR t IN
        SELECT DISTINCT event_object_table FROM information_schema.triggers
        WHERE trigger_name = event_object_table || '_data_version_update'
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version_update', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version_delete', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version', t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()', t || '_data_version', t);
    END LOOP;
END;
$$;
DROP FUNCTION bump_data_version_if_changed();
