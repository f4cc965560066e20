-- Migration 0003: which sign-in an authorization code started, and the
-- expiry indexes the purge of old rows uses.
--
-- RFC 6749 4.1.2: a code presented twice should revoke every token
-- issued from it.  Its first redemption names the refresh-token family
-- it started (the family is named by its first token's hash), so that a
-- second one can revoke that family.  NULL: not redeemed, or used up by
-- a wrong PKCE verifier.

ALTER TABLE oauth_codes ADD COLUMN family TEXT;

CREATE INDEX oauth_codes_expires_at ON oauth_codes (expires_at);
CREATE INDEX oauth_refresh_tokens_expires_at
    ON oauth_refresh_tokens (expires_at);
