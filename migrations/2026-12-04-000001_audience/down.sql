ALTER TABLE purges DROP COLUMN audience;
ALTER TABLE ig_accounts DROP COLUMN audience_read_at;
DROP TABLE account_audience;
