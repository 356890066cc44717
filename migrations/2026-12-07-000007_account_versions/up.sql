-- A version per account beside the one of everything: a sync of one account moved the one
-- data version, so every other account's page, panel and typical line was computed again
-- although nothing of theirs had changed. Writes to a table whose rows belong to one account
-- now move that account's version (and the data version, for the pages across accounts);
-- writes to what every account's views also read (settings, for one) move `common` (and the
-- data version); writes to what no account's views read (competitors) move the data version
-- alone. An account's views are kept per (common, its version).
ALTER TABLE data_version ADD COLUMN common BIGINT NOT NULL DEFAULT 0;

CREATE TABLE account_versions (
    account_id BIGINT PRIMARY KEY REFERENCES ig_accounts (id) ON DELETE CASCADE,
    n BIGINT NOT NULL
);

CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_version SET n = n + 1, common = common + 1;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION bump_data_version_if_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed) THEN
        UPDATE data_version SET n = n + 1, common = common + 1;
    END IF;
    RETURN NULL;
END;
$$;

-- Moves the version of each account whose rows the statement wrote (its transition table is
-- `changed`); the argument names the column that says the account, or `post_id` for a table
-- that says it through its post. The data version's row is locked first, as by every other
-- write: a transaction that holds it is the only one taking account rows, so two writers of
-- several accounts cannot lock them in opposite orders. Rows of an account being deleted join
-- no account and move only the data version.
CREATE FUNCTION bump_account_versions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owners TEXT := CASE TG_ARGV[0]
        WHEN 'post_id' THEN 'SELECT p.account_id FROM changed c JOIN posts p ON p.id = c.post_id'
        ELSE format('SELECT c.%I FROM changed c', TG_ARGV[0])
    END;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM changed) THEN
        RETURN NULL;
    END IF;
    UPDATE data_version SET n = n + 1;
    EXECUTE format(
        'INSERT INTO account_versions AS v (account_id, n) '
        'SELECT DISTINCT a.id, 1 FROM (%s) o (id) JOIN ig_accounts a ON a.id = o.id '
        'ON CONFLICT (account_id) DO UPDATE SET n = v.n + 1',
        owners);
    RETURN NULL;
END;
$$;

-- For rows no account's views read.
CREATE FUNCTION bump_data_version_alone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE data_version SET n = n + 1;
    ELSIF EXISTS (SELECT 1 FROM changed) THEN
        UPDATE data_version SET n = n + 1;
    END IF;
    RETURN NULL;
END;
$$;

-- The tables whose rows belong to one account. Emptying one (TRUNCATE has no transition
-- table) moves everything.
DO $$
DECLARE
    t TEXT;
    owner TEXT;
BEGIN
    FOR t, owner IN VALUES
        ('ig_accounts', 'id'), ('posts', 'account_id'), ('post_snapshots', 'post_id'),
        ('post_scores', 'account_id'), ('account_snapshots', 'account_id'),
        ('account_daily_insights', 'account_id'), ('sync_runs', 'account_id'),
        ('publications', 'account_id'), ('comments', 'account_id'),
        ('comment_actions', 'account_id'), ('mentions', 'account_id'),
        ('account_audience', 'account_id'), ('post_thumbnails', 'post_id')
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version_update', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version_delete', t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_account_versions(%L)', t || '_data_version', t, owner);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_account_versions(%L)', t || '_data_version_update', t, owner);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_account_versions(%L)', t || '_data_version_delete', t, owner);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()', t || '_data_version_truncate', t);
    END LOOP;
END;
$$;

-- The competitors' tables: the pages across accounts alone read them.
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['competitors', 'competitor_days', 'competitor_posts'] LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version_update', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version_delete', t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_alone()', t || '_data_version', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_alone()', t || '_data_version_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_alone()', t || '_data_version_delete', t);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_alone()', t || '_data_version_truncate', t);
    END LOOP;
END;
$$;
