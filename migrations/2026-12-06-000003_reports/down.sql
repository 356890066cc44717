ALTER TABLE purges DROP COLUMN reports;
DROP TRIGGER ig_accounts_delete_reports ON ig_accounts;
DROP FUNCTION delete_reports_showing_account();
DROP TABLE sent_reports;
DROP TABLE report_schedules;
