-- A second counter beside the data version, moved by every change to the read-only links
-- (counting a view is one). The account page keeps an account's links per this counter
-- instead of reading them on every request; the data version does not move, so counting a
-- view still leaves every other page kept.
ALTER TABLE data_version ADD COLUMN shares BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_shares_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_version SET shares = shares + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER shared_links_shares_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON shared_links
    FOR EACH STATEMENT EXECUTE FUNCTION bump_shares_version();
