-- How long sync-run records are kept, who runs this Tidemark (for the privacy page), and
-- what each retention purge removed (counts only).
ALTER TABLE settings
    ADD COLUMN sync_run_keep_days INTEGER NOT NULL DEFAULT 90 CHECK (sync_run_keep_days BETWEEN 1 AND 3650),
    ADD COLUMN operator_contact TEXT NOT NULL DEFAULT '' CHECK (length(operator_contact) <= 300);

CREATE TABLE purges (
    id                 BIGSERIAL PRIMARY KEY,
    ran_at             TIMESTAMPTZ NOT NULL,
    posts              BIGINT NOT NULL CHECK (posts >= 0),
    snapshots          BIGINT NOT NULL CHECK (snapshots >= 0),
    account_snapshots  BIGINT NOT NULL CHECK (account_snapshots >= 0),
    daily_insights     BIGINT NOT NULL CHECK (daily_insights >= 0),
    sync_runs          BIGINT NOT NULL CHECK (sync_runs >= 0),
    meta_requests      BIGINT NOT NULL CHECK (meta_requests >= 0),
    dialogs            BIGINT NOT NULL CHECK (dialogs >= 0)
);

CREATE INDEX purges_ran_at ON purges (ran_at);
