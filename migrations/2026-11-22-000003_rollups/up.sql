-- Analytics read precomputed figures, so no page works through a year of snapshots.

ALTER TABLE settings
    ADD COLUMN engagement_definition TEXT NOT NULL DEFAULT 'reach'
        CHECK (engagement_definition IN ('reach', 'followers', 'views'));

-- A post's figures at fixed ages (impact score cohorts, typical curves), written by the sync
-- with the first snapshot taken at or after each age (and before 1.5 times it).
CREATE TABLE post_checkpoints (
    post_id          BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    checkpoint_hours INTEGER NOT NULL CHECK (checkpoint_hours > 0),
    captured_at      TIMESTAMPTZ NOT NULL,
    reach            BIGINT,
    views            BIGINT,
    interactions     BIGINT,
    PRIMARY KEY (post_id, checkpoint_hours)
);

-- Each post's latest figures, engagement rates and impact score, refreshed after every sync
-- cycle of its account.
CREATE TABLE post_scores (
    post_id              BIGINT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    account_id           BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    format               TEXT NOT NULL,
    latest_captured_at   TIMESTAMPTZ,
    reach                BIGINT,
    views                BIGINT,
    likes                BIGINT,
    comments             BIGINT,
    saved                BIGINT,
    shares               BIGINT,
    interactions         BIGINT,
    followers_at_posting BIGINT,
    rate_by_reach        DOUBLE PRECISION,
    rate_by_followers    DOUBLE PRECISION,
    rate_by_views        DOUBLE PRECISION,
    impact               SMALLINT CHECK (impact BETWEEN 0 AND 100),
    impact_cohort        INTEGER NOT NULL DEFAULT 0,
    checkpoint_hours     INTEGER,
    computed_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX post_scores_account ON post_scores (account_id);
