-- Migration 0001: users and their OAuth tokens.
--
-- Times are unix seconds.  Token columns hold the ciphertext written by
-- the token store (encrypted with TOKEN_ENCRYPTION_KEY), never a token
-- in clear.

CREATE TABLE users (
    -- the TastyTrade account id
    id          TEXT PRIMARY KEY,
    email       TEXT,
    created_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at  INTEGER NOT NULL DEFAULT (unixepoch())
);

CREATE TABLE user_oauth_tokens (
    user_id        TEXT NOT NULL
                   REFERENCES users (id) ON DELETE CASCADE,
    provider       TEXT NOT NULL,
    access_token   BLOB,
    refresh_token  BLOB,
    expires_at     INTEGER,
    scope          TEXT,
    updated_at     INTEGER NOT NULL DEFAULT (unixepoch()),
    PRIMARY KEY (user_id, provider)
);

-- the refresh job looks for tokens that expire soon
CREATE INDEX user_oauth_tokens_expires_at ON user_oauth_tokens (expires_at);
