-- wrk script: one SQLite point write per request through the D1 admin
-- API.  Needs the table "bench" (id INTEGER PRIMARY KEY, n INTEGER) with
-- rows 1..1000 (scripts/bench/d1-setup.sql); each request updates a row
-- picked at random, so writers from both workers contend for the lock.
--
--   wrk -t2 -c16 -d5s --latency -s scripts/bench/d1-write.lua \
--       http://127.0.0.1:8787/_ttai/d1/query

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
    local id = math.random(1, 1000)
    wrk.body = '{"sql":"UPDATE bench SET n = n + 1 WHERE id = ?",'
               .. '"params":[' .. id .. ']}'
    return wrk.format()
end
