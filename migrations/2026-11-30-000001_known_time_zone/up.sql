-- The settings' time zone must be one PostgreSQL knows (an unknown name makes the
-- expression raise, which refuses the write). Tidemark also parses it strictly when it
-- reads the settings; this keeps a hand edit from storing a name nothing can use.
ALTER TABLE settings
    ADD CONSTRAINT settings_timezone_known CHECK ((TIMESTAMP '2000-01-01 00:00' AT TIME ZONE timezone) IS NOT NULL);
