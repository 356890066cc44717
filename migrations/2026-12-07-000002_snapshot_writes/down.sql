ALTER TABLE ig_accounts DROP COLUMN snapshot_writes;
