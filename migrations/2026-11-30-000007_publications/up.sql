-- Planned posts and their publishing to Instagram (graph-api.md §7).
--
-- A publication moves draft → scheduled → publishing → published, or ends failed (with Meta's
-- message) or cancelled. While publishing it is claimed by one publisher at a time: `claim`
-- names the run holding it and `claimed_until` when that claim lapses, so a crashed publisher's
-- work is taken over and two processes never publish the same post.
CREATE TABLE publications (
    id               BIGSERIAL PRIMARY KEY,
    account_id       BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('feed', 'reel', 'story')),
    status           TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'publishing', 'published', 'failed', 'cancelled')),
    caption          TEXT NOT NULL DEFAULT '' CHECK (char_length(caption) <= 2200),
    first_comment    TEXT CHECK (char_length(first_comment) <= 2200),
    due_at           TIMESTAMPTZ NOT NULL,
    -- When the publisher may look at it next (backoff, quota holds); NULL: as soon as due.
    next_attempt_at  TIMESTAMPTZ,
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- The container that is published (the carousel's, or the only item's).
    container_id     TEXT CHECK (container_id ~ '^[0-9]{1,32}$'),
    container_created_at TIMESTAMPTZ,
    -- Set just before media_publish is sent: after a crash, the container's status says whether it went out.
    publish_sent_at  TIMESTAMPTZ,
    media_id         TEXT CHECK (media_id ~ '^[0-9]{1,32}$'),
    published_at     TIMESTAMPTZ,
    last_error       TEXT,
    claim            TEXT,
    claimed_until    TIMESTAMPTZ,
    created_by       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CHECK ((status = 'published') = (media_id IS NOT NULL))
);
CREATE INDEX publications_due ON publications (due_at) WHERE status IN ('scheduled', 'publishing');
CREATE INDEX publications_account_due ON publications (account_id, due_at);
CREATE UNIQUE INDEX publications_media ON publications (account_id, media_id) WHERE media_id IS NOT NULL;

-- The files of a publication, in order (one, or 2–10 for a carousel). The file itself waits in
-- TIDEMARK_DATA_DIR under `file_name` (random, never the uploader's name) until the post is
-- published or the draft deleted.
CREATE TABLE publication_media (
    id               BIGSERIAL PRIMARY KEY,
    publication_id   BIGINT NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    position         SMALLINT NOT NULL CHECK (position BETWEEN 0 AND 9),
    file_name        TEXT NOT NULL UNIQUE CHECK (file_name ~ '^[A-Za-z0-9_-]{20,64}\.(jpg|mp4|mov)$'),
    content_type     TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'video/mp4', 'video/quicktime')),
    bytes            BIGINT NOT NULL CHECK (bytes > 0),
    width            INTEGER,
    height           INTEGER,
    duration_ms      BIGINT,
    alt_text         TEXT CHECK (char_length(alt_text) <= 1000),
    -- A carousel item's own container.
    container_id     TEXT CHECK (container_id ~ '^[0-9]{1,32}$'),
    -- When the file was removed from disk (published, or the draft deleted).
    removed_at       TIMESTAMPTZ,
    UNIQUE (publication_id, position)
);

-- Every state change with its time and, where Meta gave one, Meta's message.
CREATE TABLE publication_events (
    id               BIGSERIAL PRIMARY KEY,
    publication_id   BIGINT NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    at               TIMESTAMPTZ NOT NULL,
    status           TEXT NOT NULL,
    message          TEXT NOT NULL
);
CREATE INDEX publication_events_publication ON publication_events (publication_id, at);

CREATE TRIGGER publications_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON publications
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
