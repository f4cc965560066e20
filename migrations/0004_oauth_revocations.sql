-- Migration 0004: what was revoked, and when, for the access tokens.
--
-- An access token is a JWT that /mcp accepts without reading the
-- database, so a revocation has to reach nginx's workers some other
-- way: each one is a row here, which the workers copy into a set in
-- shared memory (the worker that revokes at once, the others when they
-- next read the rows after the last id they saw, and nginx at its start
-- every row recent enough to matter).  A row names either a sign-in,
-- the refresh-token family whose access tokens carry its id, or a user,
-- every one of whose tokens issued up to revoked_at is revoked.
--
-- AUTOINCREMENT: ids never go back, even once old rows are deleted, so
-- "after the last id seen" misses nothing.  A family is revoked once;
-- a user may be revoked again later.

CREATE TABLE oauth_revocations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    family      TEXT,
    user_id     TEXT,
    revoked_at  INTEGER NOT NULL,
    CHECK ((family IS NULL) <> (user_id IS NULL))
);

CREATE UNIQUE INDEX oauth_revocations_family
    ON oauth_revocations (family);
CREATE INDEX oauth_revocations_revoked_at
    ON oauth_revocations (revoked_at);
