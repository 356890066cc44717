ALTER TABLE settings DROP CONSTRAINT settings_timezone_known;
