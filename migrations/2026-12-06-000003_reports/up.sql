-- Reports mailed on a schedule: for one account or all of them, weekly (Monday to Sunday)
-- or monthly (the calendar month), sent after the period ends at the hour given, in the
-- report's own time zone.
CREATE TABLE report_schedules (
    id          BIGSERIAL PRIMARY KEY,
    -- NULL: every account together.
    account_id  BIGINT REFERENCES ig_accounts (id) ON DELETE CASCADE,
    cadence     TEXT NOT NULL CHECK (cadence IN ('weekly', 'monthly')),
    -- At least one address; each checked by the form before it is stored.
    recipients  TEXT[] NOT NULL CHECK (cardinality(recipients) BETWEEN 1 AND 20),
    time_zone   TEXT NOT NULL,
    send_hour   SMALLINT NOT NULL CHECK (send_hour BETWEEN 0 AND 23),
    created_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- Every report made: the figures as they were (content, the PDF's source) and the PDF
-- itself, never changed afterwards, so a report downloaded again reads as it was sent.
CREATE TABLE sent_reports (
    id           BIGSERIAL PRIMARY KEY,
    schedule_id  BIGINT REFERENCES report_schedules (id) ON DELETE SET NULL,
    account_id   BIGINT REFERENCES ig_accounts (id) ON DELETE CASCADE,
    -- Every account the report shows: deleting any of them deletes the report.
    account_ids  BIGINT[] NOT NULL,
    cadence      TEXT NOT NULL CHECK (cadence IN ('weekly', 'monthly')),
    first_day    DATE NOT NULL,
    last_day     DATE NOT NULL CHECK (last_day >= first_day),
    -- schedule: the scheduler sent it; by_hand: "Send now".
    made_by_hand BOOLEAN NOT NULL,
    made_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    made_at      TIMESTAMPTZ NOT NULL,
    recipients   TEXT[] NOT NULL,
    -- mailed: the SMTP server took it; failed: it refused or could not be reached (see
    -- mail_error); not_mailed: no SMTP server is configured.
    delivery     TEXT NOT NULL CHECK (delivery IN ('mailed', 'failed', 'not_mailed')),
    mail_error   TEXT,
    -- A failed mailing is tried again a few times (only the delivery columns ever change).
    attempts     SMALLINT NOT NULL DEFAULT 1,
    tried_at     TIMESTAMPTZ NOT NULL,
    content      JSONB NOT NULL,
    pdf          BYTEA NOT NULL
);

-- The scheduler sends a schedule's period once, even across restarts.
CREATE UNIQUE INDEX sent_reports_once_per_period ON sent_reports (schedule_id, first_day) WHERE NOT made_by_hand;
CREATE INDEX sent_reports_made ON sent_reports (made_at DESC);
CREATE INDEX sent_reports_accounts ON sent_reports USING GIN (account_ids);

-- Deleting an account removes everything of it: a report of all accounts shows its figures
-- too, so it goes as well (a report of that account alone goes by the foreign key).
CREATE FUNCTION delete_reports_showing_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sent_reports WHERE account_ids @> ARRAY[OLD.id];
    RETURN OLD;
END;
$$;
CREATE TRIGGER ig_accounts_delete_reports BEFORE DELETE ON ig_accounts
    FOR EACH ROW EXECUTE FUNCTION delete_reports_showing_account();

-- The nightly purge counts the reports it removes beside everything else.
ALTER TABLE purges ADD COLUMN reports BIGINT NOT NULL DEFAULT 0;
