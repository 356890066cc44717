DROP TABLE purges;
ALTER TABLE settings DROP COLUMN operator_contact, DROP COLUMN sync_run_keep_days;
