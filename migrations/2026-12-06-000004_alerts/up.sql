-- Alerts: rules an admin sets (what to watch, the threshold, how long to stay quiet after
-- firing, who hears of it), and every alert fired with why.
CREATE TABLE alert_rules (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('post_above', 'post_below', 'reach_below', 'sync_failing',
                                               'token_expiring', 'publishing_failed')),
    -- NULL: every account.
    account_id   BIGINT REFERENCES ig_accounts (id) ON DELETE CASCADE,
    -- What it means depends on the kind: an impact score, a percentage of the norm, a number
    -- of failed cycles, a number of days.
    threshold    INTEGER NOT NULL CHECK (threshold BETWEEN 0 AND 1000),
    -- After firing for one post or account, the rule stays quiet about it this long.
    quiet_hours  INTEGER NOT NULL CHECK (quiet_hours BETWEEN 1 AND 8760),
    recipients   TEXT[] NOT NULL DEFAULT '{}' CHECK (cardinality(recipients) <= 20),
    webhook_url  TEXT,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    created_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE alert_events (
    id             BIGSERIAL PRIMARY KEY,
    rule_id        BIGINT REFERENCES alert_rules (id) ON DELETE SET NULL,
    kind           TEXT NOT NULL,
    account_id     BIGINT REFERENCES ig_accounts (id) ON DELETE CASCADE,
    -- What it is about ("post:12", "account:3", "publication:7"): the quiet period counts
    -- per rule and subject.
    subject        TEXT NOT NULL,
    fired_at       TIMESTAMPTZ NOT NULL,
    title          TEXT NOT NULL,
    -- Why, with the figures it was judged on.
    detail         TEXT NOT NULL,
    -- mailed, failed, not_mailed (no mail server), none (no recipients).
    email          TEXT NOT NULL CHECK (email IN ('mailed', 'failed', 'not_mailed', 'none')),
    email_error    TEXT,
    -- delivered, failed, none (no webhook).
    webhook        TEXT NOT NULL CHECK (webhook IN ('delivered', 'failed', 'none')),
    webhook_error  TEXT,
    attempts       SMALLINT NOT NULL DEFAULT 1,
    tried_at       TIMESTAMPTZ NOT NULL
);

CREATE INDEX alert_events_quiet ON alert_events (rule_id, subject, fired_at DESC);
CREATE INDEX alert_events_fired ON alert_events (fired_at DESC);

ALTER TABLE purges ADD COLUMN alerts BIGINT NOT NULL DEFAULT 0;
