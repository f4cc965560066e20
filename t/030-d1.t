# D1 on SQLite through the development admin API: POST /_ttai/d1/query
# runs one statement on the thread pool and answers with a D1-shaped
# result, or with SQLite's message.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ttai::Test;

# every block has the database, the thread pool and the admin location
add_block_preprocessor(sub {
    my ($block) = @_;

    if (!defined $block->main_config) {
        $block->set_value('main_config', "thread_pool ttai threads=2;\n");
    }

    if (!defined $block->http_config) {
        $block->set_value('http_config', <<'_EOC_');
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
    ttai_thread_pool ttai;
    ttai_migrations $TEST_NGINX_REPO_ROOT/migrations;
_EOC_
    }

    if (!defined $block->config) {
        $block->set_value('config', <<'_EOC_');
    location /_ttai/ {
        ttai_admin;
    }
    location = /health {
        ttai_health;
    }
_EOC_
    }
});

repeat_each(2);
run_tests();

__DATA__

=== TEST 1: a user stored in D1 is read back (the seed's example)
--- request eval
[
"POST /_ttai/d1/query
{\"sql\":\"DELETE FROM users WHERE id = ?\",\"params\":[\"tt-account-123\"]}",
"POST /_ttai/d1/query
{\"sql\":\"INSERT INTO users (id, email) VALUES (?, ?)\",
 \"params\":[\"tt-account-123\",\"test\@test.com\"]}",
"POST /_ttai/d1/query
{\"sql\":\"SELECT id, email FROM users WHERE id = ?\",
 \"params\":[\"tt-account-123\"]}",
]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["Content-Type: application/json", "Content-Type: application/json",
 "Content-Type: application/json"]
--- response_body_like eval
[
qr/^\{"results":\[\],"meta":\{"changes":[01],"last_row_id":0,"rows_read":0,"rows_written":[01],"duration_ms":[0-9.e-]+\}\}$/,
qr/^\{"results":\[\],"meta":\{"changes":1,"last_row_id":[1-9]\d*,"rows_read":0,"rows_written":1,"duration_ms":[0-9.e-]+\}\}$/,
qr/^\{"results":\[\{"id":"tt-account-123","email":"test\@test.com"\}\],"meta":\{"changes":0,"last_row_id":0,"rows_read":1,"rows_written":0,"duration_ms":[0-9.e-]+\}\}$/,
]
--- no_error_log
[error]



=== TEST 2: parameters are bound: an injection-looking string stays data
--- request eval
[
"POST /_ttai/d1/query
{\"sql\":\"INSERT OR REPLACE INTO users (id, email) VALUES (?, ?)\",
 \"params\":[\"x'); DROP TABLE users; --\",\"e\@x.test\"]}",
"POST /_ttai/d1/query
{\"sql\":\"SELECT id FROM users WHERE id = ?\",
 \"params\":[\"x'); DROP TABLE users; --\"]}",
"POST /_ttai/d1/query
{\"sql\":\"SELECT count(*) AS n FROM sqlite_master WHERE name = 'users'\"}",
]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[
qr/"changes":1,/,
qr/^\{"results":\[\{"id":"x'\); DROP TABLE users; --"\}\],/,
qr/^\{"results":\[\{"n":1\}\],/,
]
--- no_error_log
[error]



=== TEST 3: every type, and a BLOB both ways as base64
--- request
POST /_ttai/d1/query
{"sql":"SELECT ? AS i, ? AS r, ? AS t, ? AS n, ? AS b, typeof(?5) AS tb, hex(?5) AS hb, ? AS yes","params":[42,2.5,"caf\u00e9",null,{"blob":"AAEC/w=="},true]}
--- response_body_like: ^\{"results":\[\{"i":42,"r":2.5,"t":"café","n":null,"b":"AAEC/w==","tb":"blob","hb":"000102FF","yes":1\}\],
--- no_error_log
[error]



=== TEST 4: an SQL error answers 400 with SQLite's message
--- request eval
[
"POST /_ttai/d1/query
{\"sql\":\"SELEC 1\"}",
"POST /_ttai/d1/query
{\"sql\":\"SELECT * FROM nope\"}",
"POST /_ttai/d1/query
{\"sql\":\"INSERT INTO user_oauth_tokens (user_id, provider) VALUES (?, ?)\",
 \"params\":[\"nobody\",\"tastytrade\"]}",
"POST /_ttai/d1/query
{\"sql\":\"SELECT ?\",\"params\":[]}",
]
--- error_code eval
[400, 400, 400, 400]
--- response_body eval
[
'{"error":"sql_error","message":"near \"SELEC\": syntax error"}',
'{"error":"sql_error","message":"no such table: nope"}',
'{"error":"sql_error","message":"FOREIGN KEY constraint failed"}',
'{"error":"sql_error","message":"the statement has 1 parameter but 0 were given"}',
]
--- no_error_log
[error]



=== TEST 5: one statement per query, and no transaction left open
--- request eval
[
"POST /_ttai/d1/query
{\"sql\":\"SELECT 1; SELECT 2\"}",
"POST /_ttai/d1/query
{\"sql\":\"BEGIN\"}",
"POST /_ttai/d1/query
{\"sql\":\"SELECT 1 AS one;  -- a comment\"}",
]
--- error_code eval
[400, 400, 200]
--- response_body_like eval
[
qr/^\{"error":"sql_error","message":"one statement only/,
qr/^\{"error":"sql_error","message":"the SQL began a transaction and did not end it; it was rolled back"\}$/,
qr/^\{"results":\[\{"one":1\}\],/,
]



=== TEST 6: a body that is not {"sql":...,"params":[...]} answers 400
--- request eval
[
"POST /_ttai/d1/query
not json",
"POST /_ttai/d1/query
{\"params\":[]}",
"POST /_ttai/d1/query
{\"sql\":42}",
"POST /_ttai/d1/query
{\"sql\":\"SELECT ?\",\"params\":{\"a\":1}}",
"POST /_ttai/d1/query
",
]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body eval
[
'{"error":"bad_request","message":"the body must be JSON: {\"sql\":\"...\",\"params\":[...]}"}',
'{"error":"bad_request","message":"the body must be JSON: {\"sql\":\"...\",\"params\":[...]}"}',
'{"error":"bad_request","message":"the body must be JSON: {\"sql\":\"...\",\"params\":[...]}"}',
'{"error":"bad_request","message":"the body must be JSON: {\"sql\":\"...\",\"params\":[...]}"}',
'{"error":"bad_request","message":"the body must be JSON: {\"sql\":\"...\",\"params\":[...]}"}',
]
--- no_error_log
[error]



=== TEST 7: other methods get 405 with Allow, other paths 404
--- request eval
[
"GET /_ttai/d1/query",
"PUT /_ttai/d1/query
{}",
"DELETE /_ttai/d1/query",
"POST /_ttai/d1/exec
{\"sql\":\"SELECT 1\"}",
]
--- error_code eval
[405, 405, 405, 404]
--- response_headers eval
["Allow: POST", "Allow: POST", "Allow: POST", "!Allow"]
--- response_body eval
[
'{"error":"method_not_allowed","message":"use POST"}',
'{"error":"method_not_allowed","message":"use POST"}',
'{"error":"method_not_allowed","message":"use POST"}',
'{"error":"not_found","message":"the D1 admin API has one endpoint: POST /_ttai/d1/query"}',
]



=== TEST 8: /health reports the d1 check with the schema version
--- request
GET /health
--- response_body_like: ^\{"status":"healthy",.*"checks":\{"state_dir":\{"status":"ok"\},"d1":\{"status":"ok","schema_version":[1-9]\d*\}[,}]
--- no_error_log
[error]



=== TEST 9: the admin API refuses a client that is not on loopback
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
    ttai_thread_pool ttai;
    ttai_migrations $TEST_NGINX_REPO_ROOT/migrations;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Real-IP;
--- more_headers
X-Real-IP: 10.1.2.3
--- request
POST /_ttai/d1/query
{"sql":"SELECT * FROM users"}
--- error_code: 403
--- response_body: {"error":"forbidden","message":"the admin API answers loopback clients only"}



=== TEST 10: a result is bounded, with a clear error
--- request
POST /_ttai/d1/query
{"sql":"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10001) SELECT i FROM n"}
--- error_code: 400
--- response_body: {"error":"sql_error","message":"the result has more than 10000 rows; add a LIMIT"}



=== TEST 11: an explicit ttai_db file, relative to the prefix, and nginx's default thread pool
--- main_config
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_db $TEST_NGINX_TTAI_SCRATCH_REL/data/other.sqlite;
    ttai_migrations off;
--- request eval
[
"POST /_ttai/d1/query
{\"sql\":\"CREATE TABLE IF NOT EXISTS t (x)\"}",
"POST /_ttai/d1/query
{\"sql\":\"SELECT count(*) AS n FROM sqlite_master WHERE name = 'users'\"}",
"GET /health",
]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[
qr/^\{"results":\[\],/,
qr/^\{"results":\[\{"n":0\}\],/,
qr/"checks":\{"d1":\{"status":"ok","schema_version":0\}/,
]



=== TEST 12: without a database there is no d1 check, and the API says so
--- main_config
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- request eval
[
"POST /_ttai/d1/query
{\"sql\":\"SELECT 1\"}",
"GET /health",
]
--- error_code eval
[404, 200]
--- response_body_like eval
[
qr/^\{"error":"no_database","message":"no database is configured: set ttai_db or ttai_state_dir"\}$/,
qr/"checks":\{\}\}$/,
]



=== TEST 13: a migrations folder that does not exist stops the load
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
    ttai_migrations no/such/folder;
--- must_die
--- error_log
the migrations folder
no/such/folder" cannot be read



=== TEST 14: ttai_thread_pool without a database stops the load
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_thread_pool ttai;
--- must_die
--- error_log
"ttai_migrations" and "ttai_thread_pool" need a database



=== TEST 15: an unknown thread pool stops the load
--- main_config
--- must_die
--- error_log
unknown thread pool "ttai"
