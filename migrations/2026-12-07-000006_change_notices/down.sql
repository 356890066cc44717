DROP TRIGGER data_version_notify ON data_version;
DROP TRIGGER settings_notify ON settings;
DROP TRIGGER users_notify ON users;
DROP TRIGGER sessions_notify ON sessions;
DROP FUNCTION notify_change();
