-- @mentions of an account in comments on other people's media (graph-api.md §6.3: the
-- `mentions` webhook field names the media and the comment; the text is read afterwards).
CREATE TABLE mentions (
    id            BIGSERIAL PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    media_id      TEXT NOT NULL CHECK (media_id ~ '^[0-9]{1,32}$'),
    comment_id    TEXT NOT NULL CHECK (comment_id ~ '^[0-9]{1,32}$'),
    username      TEXT,
    text          TEXT,
    permalink     TEXT,
    mentioned_at  TIMESTAMPTZ NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    -- When its text was read (or found unreadable: then `text` stays empty).
    fetched_at    TIMESTAMPTZ,
    -- Why it could not be read, in words for the page.
    fetch_problem TEXT,
    UNIQUE (account_id, comment_id)
);
CREATE INDEX mentions_account_time ON mentions (account_id, mentioned_at DESC);
CREATE INDEX mentions_unfetched ON mentions (received_at) WHERE fetched_at IS NULL;

CREATE TRIGGER mentions_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mentions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
