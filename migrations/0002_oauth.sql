-- Migration 0002: ttai as an OAuth 2.1 authorization server for MCP
-- clients.
--
-- Every secret ttai hands out (client secrets, the request and CSRF
-- values of a consent form, the state sent to TastyTrade, authorization
-- codes, refresh tokens) is stored as its hex SHA-256, never in clear.
-- Times are unix seconds.

-- clients registered with POST /register (RFC 7591)
CREATE TABLE oauth_clients (
    client_id      TEXT PRIMARY KEY,
    secret_hash    TEXT,                 -- NULL: a public client
    name           TEXT NOT NULL DEFAULT '',
    redirect_uris  TEXT NOT NULL,        -- a JSON array
    auth_method    TEXT NOT NULL,
    grant_types    TEXT NOT NULL,        -- a JSON array
    created_at     INTEGER NOT NULL DEFAULT (unixepoch())
);

-- a sign-in between GET /authorize and TastyTrade's redirect to
-- /callback: the consent form, then the state TastyTrade carries
CREATE TABLE oauth_requests (
    id_hash         TEXT PRIMARY KEY,
    csrf_hash       TEXT NOT NULL,
    state_hash      TEXT UNIQUE,         -- set when the user approves
    client_id       TEXT NOT NULL
                    REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,
    client_state    TEXT,
    scope           TEXT,
    resource        TEXT,
    expires_at      INTEGER NOT NULL
);

-- ttai's single-use authorization codes, good for 60 s
CREATE TABLE oauth_codes (
    code_hash       TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL
                    REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL
                    REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,
    scope           TEXT,
    resource        TEXT,
    expires_at      INTEGER NOT NULL,
    used            INTEGER NOT NULL DEFAULT 0
);

-- rotating refresh tokens; a family is every token of one sign-in, and
-- the reuse of a rotated token revokes the whole family
CREATE TABLE oauth_refresh_tokens (
    token_hash      TEXT PRIMARY KEY,
    family          TEXT NOT NULL,
    client_id       TEXT NOT NULL
                    REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL
                    REFERENCES users (id) ON DELETE CASCADE,
    scope           TEXT,
    resource        TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used            INTEGER NOT NULL DEFAULT 0,
    revoked         INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX oauth_refresh_tokens_family ON oauth_refresh_tokens (family);
CREATE INDEX oauth_refresh_tokens_user ON oauth_refresh_tokens (user_id);
CREATE INDEX oauth_requests_expires_at ON oauth_requests (expires_at);
