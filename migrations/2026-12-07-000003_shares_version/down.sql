DROP TRIGGER shared_links_shares_version ON shared_links;
DROP FUNCTION bump_shares_version();
ALTER TABLE data_version DROP COLUMN shares;
