-- Each process keeps sessions, their users, the second-factor rule and the data version in
-- memory, and must hear when another process (or a script, or `psql`) changes them: a notice
-- on the channel `tidemark_changes` after every statement that writes one of these tables
-- (src/db/changes.rs listens). PostgreSQL sends notices only when the transaction commits and
-- folds identical ones within a transaction into one.
CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tidemark_changes', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

-- A new session is kept nowhere yet, and the only update is a process marking a session as
-- used (it updates its own kept copy): only removals matter. Notifying each such mark would
-- drop every kept session in every process once a minute per active session.
CREATE TRIGGER sessions_notify AFTER DELETE OR TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change();
CREATE TRIGGER users_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change();
CREATE TRIGGER settings_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change();
CREATE TRIGGER data_version_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON data_version
    FOR EACH STATEMENT EXECUTE FUNCTION notify_change();
