-- The table that d1-read.lua and d1-write.lua use: 1000 rows.  Create it
-- before running wrk, with the server running or not:
--
--     build/ttai d1 execute --file scripts/bench/d1-setup.sql
--
-- and drop it afterwards with: DROP TABLE bench;

DROP TABLE IF EXISTS bench;

CREATE TABLE bench (
    id  INTEGER PRIMARY KEY,
    n   INTEGER NOT NULL DEFAULT 0
);

WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000)
INSERT INTO bench (id) SELECT i FROM s;
