-- Answering comments from Tidemark (issue 17): what Instagram says of a comment's visibility,
-- what Tidemark did to it and who did it, reply templates, and rules that act on new comments.

ALTER TABLE comments
    ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT false,
    -- Marked for a person's attention by a rule (or by hand).
    ADD COLUMN flagged BOOLEAN NOT NULL DEFAULT false,
    -- When the rules last looked at it (NULL: not yet); a comment is judged once.
    ADD COLUMN rules_checked_at TIMESTAMPTZ;
CREATE INDEX comments_thread ON comments (account_id, parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX comments_unchecked ON comments (received_at) WHERE rules_checked_at IS NULL;

-- The post's comments_count when the sync last read its comments, so that only posts whose
-- count moved are read again.
ALTER TABLE posts ADD COLUMN comments_seen INTEGER;

CREATE TABLE saved_replies (
    id          BIGSERIAL PRIMARY KEY,
    title       TEXT NOT NULL UNIQUE CHECK (char_length(title) BETWEEN 1 AND 80),
    -- `{name}` becomes the commenter's @username.
    body        TEXT NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2200),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE comment_rules (
    id              BIGSERIAL PRIMARY KEY,
    name            TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    -- NULL: every account.
    account_id      BIGINT REFERENCES ig_accounts (id) ON DELETE CASCADE,
    -- Words (any of them, comma-separated, case-insensitive) or a regular expression.
    match_kind      TEXT NOT NULL CHECK (match_kind IN ('keywords', 'pattern')),
    pattern         TEXT NOT NULL CHECK (char_length(pattern) BETWEEN 1 AND 500),
    action          TEXT NOT NULL CHECK (action IN ('hide', 'reply', 'flag')),
    saved_reply_id  BIGINT REFERENCES saved_replies (id) ON DELETE RESTRICT,
    -- Actions a rule may take per hour, across the accounts it covers.
    per_hour        INTEGER NOT NULL CHECK (per_hour BETWEEN 1 AND 60),
    enabled         BOOLEAN NOT NULL DEFAULT false,
    created_at      TIMESTAMPTZ NOT NULL,
    CHECK ((action = 'reply') = (saved_reply_id IS NOT NULL))
);

-- Every reply, hide, unhide, delete and flag made from Tidemark, by a person or a rule.
CREATE TABLE comment_actions (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES ig_accounts (id) ON DELETE CASCADE,
    comment_id  TEXT NOT NULL CHECK (comment_id ~ '^[0-9]{1,32}$'),
    action      TEXT NOT NULL CHECK (action IN ('reply', 'hide', 'unhide', 'delete', 'flag', 'unflag')),
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    rule_id     BIGINT REFERENCES comment_rules (id) ON DELETE SET NULL,
    -- Who, as shown: the user's name, or "rule <name>", kept if either is deleted.
    actor       TEXT NOT NULL,
    -- The reply's id on Instagram, for a reply.
    reply_id    TEXT CHECK (reply_id ~ '^[0-9]{1,32}$'),
    -- The reply's text, or what was hidden or deleted (shortened).
    detail      TEXT NOT NULL DEFAULT '',
    acted_at    TIMESTAMPTZ NOT NULL,
    -- Set when the action was reversed (a rule's hide unhidden, its reply deleted).
    undone_at   TIMESTAMPTZ,
    undone_by   TEXT
);
CREATE INDEX comment_actions_comment ON comment_actions (account_id, comment_id);
CREATE INDEX comment_actions_rule ON comment_actions (rule_id, acted_at) WHERE rule_id IS NOT NULL;
CREATE INDEX comment_actions_time ON comment_actions (acted_at);

CREATE TRIGGER comment_actions_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON comment_actions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
