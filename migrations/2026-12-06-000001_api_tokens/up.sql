-- Tokens for the JSON API. The token itself (a signed JWT) is shown once and never stored:
-- it names this row's id, which is checked on every request, so revoking is immediate.
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    -- A random value the token carries too: a token made for an earlier row with the same id
    -- (before the table was emptied) does not match.
    nonce        TEXT NOT NULL CHECK (char_length(nonce) = 32),
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    -- NULL: made with `tidemark api-token create`, or its admin was deleted since.
    created_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);

-- No data_version trigger: no cached page is built from these rows, and noting a token's
-- use must not empty the page cache.
