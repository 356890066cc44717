-- A small copy of each post's picture (its image, a carousel's first item, a video's cover):
-- Instagram's picture addresses expire (graph-api.md §8), so the sync keeps a resized copy,
-- which goes with its post.
CREATE TABLE post_thumbnails (
    post_id    BIGINT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    -- JPEG, at most 96 px on its longer side; NULL when fetching failed (see `problem`).
    image      BYTEA CHECK (octet_length(image) <= 65536),
    fetched_at TIMESTAMPTZ NOT NULL,
    -- Why no picture could be kept, for the log and a later try.
    problem    TEXT
);

CREATE TRIGGER post_thumbnails_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON post_thumbnails
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
