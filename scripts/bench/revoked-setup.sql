-- Revocations for the set /mcp looks every access token up in, so that
-- the MCP endpoints are measured against a set that is not empty: 1000
-- sign-ins and 1000 users revoked a moment ago, none of them the
-- benchmark's.  nginx reads them as it starts, after:
--
--     build/ttai d1 execute --file scripts/bench/revoked-setup.sql

WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000)
INSERT OR IGNORE INTO oauth_revocations (family, revoked_at)
SELECT 'bench-family-' || i, unixepoch() FROM s;

WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000)
INSERT INTO oauth_revocations (user_id, revoked_at)
SELECT 'bench-user-' || i, unixepoch() FROM s;
