-- Other professional accounts an operator compares theirs with, read once a day through
-- Business Discovery: their public follower and post counts, and their recent posts' like
-- and comment counts (no reach or views: those are not public).
CREATE TABLE competitors (
    id              BIGSERIAL PRIMARY KEY,
    -- Instagram usernames: letters, digits, periods and underscores, at most 30; kept lower-case.
    username        TEXT NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._]{1,30}$'),
    -- waiting: not read yet; tracked: read; not_found: no professional account by that name.
    status          TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'tracked', 'not_found')),
    ig_id           TEXT,
    name            TEXT,
    followers_count BIGINT,
    media_count     BIGINT,
    -- When it was last read (or found missing).
    read_at         TIMESTAMPTZ,
    -- When it was last asked for, whatever the answer: once a day, even when refused; a
    -- temporary failure leaves it, so the next cycle asks again.
    tried_at        TIMESTAMPTZ,
    -- Why the last read failed, until one succeeds.
    last_error      TEXT,
    added_by        BIGINT REFERENCES users (id) ON DELETE SET NULL,
    added_at        TIMESTAMPTZ NOT NULL
);

-- One row per competitor and day read (UTC): the counts that day.
CREATE TABLE competitor_days (
    competitor_id   BIGINT NOT NULL REFERENCES competitors (id) ON DELETE CASCADE,
    day             DATE NOT NULL,
    followers_count BIGINT,
    media_count     BIGINT,
    PRIMARY KEY (competitor_id, day)
);

-- Their posts as last read: likes are absent when the owner hides them.
CREATE TABLE competitor_posts (
    competitor_id      BIGINT NOT NULL REFERENCES competitors (id) ON DELETE CASCADE,
    media_id           TEXT NOT NULL,
    posted_at          TIMESTAMPTZ NOT NULL,
    media_type         TEXT,
    media_product_type TEXT,
    like_count         BIGINT,
    comments_count     BIGINT,
    permalink          TEXT,
    read_at            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (competitor_id, media_id)
);

CREATE INDEX competitor_posts_posted ON competitor_posts (competitor_id, posted_at DESC);

-- The page cache follows these tables like every other the pages read (see the README).
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['competitors', 'competitor_days', 'competitor_posts'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()', t || '_data_version', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_if_changed()', t || '_data_version_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version_if_changed()', t || '_data_version_delete', t);
    END LOOP;
END;
$$;
