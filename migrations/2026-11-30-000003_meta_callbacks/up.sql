-- Meta's deauthorize and data-deletion callbacks as received: what was asked, when, and
-- what was done. No personal data: not the user id Meta sent, not the accounts' names.
-- Kept 90 days (the retention job purges older ones).
CREATE TABLE meta_requests (
    id                 BIGSERIAL PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('deauthorize', 'data_deletion')),
    flavour            TEXT NOT NULL CHECK (flavour IN ('instagram', 'facebook')),
    -- Data deletion only: the code Meta shows the user, and the status page's address part.
    confirmation_code  TEXT UNIQUE CHECK (confirmation_code ~ '^[A-Za-z0-9]{20,64}$'),
    -- 'done': every matching account was handled; 'nothing_held': no account matched.
    outcome            TEXT NOT NULL CHECK (outcome IN ('done', 'nothing_held')),
    accounts_affected  INTEGER NOT NULL CHECK (accounts_affected >= 0),
    issued_at          TIMESTAMPTZ,
    received_at        TIMESTAMPTZ NOT NULL,
    completed_at       TIMESTAMPTZ NOT NULL,
    -- SHA-256 of the request's signature: the same request a second time is a replay.
    signature_hash     BYTEA NOT NULL UNIQUE CHECK (length(signature_hash) = 32),
    CHECK ((kind = 'data_deletion') = (confirmation_code IS NOT NULL))
);

CREATE INDEX meta_requests_received_at ON meta_requests (received_at);
