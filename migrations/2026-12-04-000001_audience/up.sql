-- Who follows each account, as Meta counts them (follower_demographics by age, gender,
-- country and city; online_followers by hour), read about once a week and kept as a dated
-- history so that the account page can say what changed in a month.
CREATE TABLE account_audience (
    account_id BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    -- The day of the read (UTC).
    day        DATE NOT NULL,
    -- online_hour: followers online in that UTC hour, the mean of the days Meta gave.
    dimension  TEXT NOT NULL CHECK (dimension IN ('age', 'gender', 'country', 'city', 'online_hour')),
    key        TEXT NOT NULL CHECK (char_length(key) BETWEEN 1 AND 200),
    followers  BIGINT NOT NULL CHECK (followers >= 0),
    PRIMARY KEY (account_id, day, dimension, key)
);

CREATE TRIGGER account_audience_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON account_audience
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();

-- When the audience was last asked for, answered or not: Meta gives nothing below 100
-- followers and its figures trail by up to two days, so an empty answer is not asked again
-- every cycle.
ALTER TABLE ig_accounts ADD COLUMN audience_read_at TIMESTAMPTZ;

ALTER TABLE purges ADD COLUMN audience BIGINT NOT NULL DEFAULT 0;
