CREATE INDEX post_snapshots_id ON post_snapshots (id);
