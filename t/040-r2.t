# R2 on the filesystem through the development admin API, and the rules
# that keep that API to development and loopback clients.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ttai::Test;

repeat_each(1);
run_tests();

__DATA__

=== TEST 1: put, get, head, list and delete an object
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
--- config
    location /_ttai/ {
        ttai_admin;
    }
--- more_headers
Content-Type: text/plain
--- request eval
[
"PUT /_ttai/r2/ttai-storage/reports%2F2026%2Fq1.txt
quarterly",
"GET /_ttai/r2/ttai-storage/reports%2F2026%2Fq1.txt",
"HEAD /_ttai/r2/ttai-storage/reports%2F2026%2Fq1.txt",
"GET /_ttai/r2/ttai-storage?prefix=reports%2F",
"GET /_ttai/r2/ttai-storage?prefix=other",
"DELETE /_ttai/r2/ttai-storage/reports%2F2026%2Fq1.txt",
"GET /_ttai/r2/ttai-storage/reports%2F2026%2Fq1.txt",
"DELETE /_ttai/r2/ttai-storage/reports%2F2026%2Fq1.txt",
]
--- error_code eval
[200, 200, 200, 200, 200, 200, 404, 404]
--- response_body_like eval
[
qr/^\{"key":"reports\/2026\/q1.txt","size":9,"etag":"[0-9a-f]{32}","content_type":"text\/plain","uploaded":\d+\}$/,
qr/^quarterly$/,
qr/^$/,
qr/^\{"objects":\[\{"key":"reports\/2026\/q1.txt","size":9,.*\}\],"truncated":false\}$/,
qr/^\{"objects":\[\],"truncated":false\}$/,
qr/^\{"success":true\}$/,
qr/"error":"not_found"/,
qr/"error":"not_found"/,
]
--- no_error_log
[error]



=== TEST 2: get answers the stored content type and an etag
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
--- config
    location /_ttai/ {
        ttai_admin;
    }
--- more_headers
Content-Type: application/json
--- request eval
["PUT /_ttai/r2/ttai-storage/a.json\n{\"a\":1}", "GET /_ttai/r2/ttai-storage/a.json"]
--- response_headers_like eval
["Content-Type: application/json", "ETag: \"[0-9a-f]{32}\""]
--- response_body_like eval
[qr/"size":7/, qr/^\{"a":1\}$/]



=== TEST 3: keys that would leave the bucket folder are refused
nginx itself refuses a %00 in the URI; the core refuses a NUL in any key.
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
--- config
    location /_ttai/ {
        ttai_admin;
    }
--- request eval
[
"PUT /_ttai/r2/ttai-storage/%2E%2E%2F%2E%2E%2Fescape\nx",
"PUT /_ttai/r2/ttai-storage/..%2Fescape\nx",
"PUT /_ttai/r2/ttai-storage/%2Fetc%2Fpasswd\nx",
"PUT /_ttai/r2/ttai-storage/a%00b\nx",
"PUT /_ttai/r2/ttai-storage/a%2F%2Fb\nx",
"GET /_ttai/r2/ttai-storage/%2E%2E%2Fd1",
"PUT /_ttai/r2/Bad_Bucket/a\nx",
"GET /_ttai/r2/ttai-storage?prefix=%2E%2E",
]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 200]
--- response_body_like eval
[
qr/"error":"invalid_key","message":"the key has a \\"\.\\" or \\"\.\.\\" segment/,
qr/"error":"invalid_key"/,
qr/"message":"the key is an absolute path, which would leave the bucket"/,
qr/"message":"the key contains a NUL byte"|400 Bad Request/,
qr/"message":"the key has an empty path segment"/,
qr/"error":"invalid_key"/,
qr/"error":"invalid_bucket"/,
qr/^\{"objects":\[\],"truncated":false\}$/,
]



=== TEST 4: only GET, HEAD, PUT and DELETE
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
--- config
    location /_ttai/ {
        ttai_admin;
    }
--- request eval
["POST /_ttai/r2/ttai-storage/a\nx", "POST /_ttai/r2/ttai-storage\nx"]
--- error_code eval
[405, 405]
--- response_headers eval
["Allow: GET, HEAD, PUT, DELETE", "Allow: GET, HEAD"]



=== TEST 5: the admin API refuses a client that is not on loopback
realip makes the request come from 10.1.2.3, as it would behind a proxy.
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
--- config
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Real-IP;

    location /_ttai/ {
        ttai_admin;
    }
--- more_headers
X-Real-IP: 10.1.2.3
--- request eval
["GET /_ttai/r2/ttai-storage", "PUT /_ttai/r2/ttai-storage/x\nx"]
--- error_code eval
[403, 403]
--- response_body_like eval
[qr/"error":"forbidden","message":"the admin API answers loopback clients only"/, qr/"error":"forbidden"/]
--- error_log
admin API refused to a non-loopback client



=== TEST 6: IPv4-mapped and plain loopback addresses are let in
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
--- config
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Real-IP;

    location /_ttai/ {
        ttai_admin;
    }
--- more_headers
X-Real-IP: 127.0.0.2
--- request
GET /_ttai/r2/ttai-storage
--- error_code: 200



=== TEST 7: a production configuration that names the admin API does not load
The messages of both blocks are checked in t/013-conf-errors.t.
--- http_config
    ttai_environment production;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- config
    location /_ttai/ {
        ttai_admin;
    }
--- must_die



=== TEST 8: the default environment is production
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- config
    location /_ttai/ {
        ttai_admin;
    }
--- must_die



=== TEST 9: unknown stores and paths outside the API are 404
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
--- config
    location /_ttai/ {
        ttai_admin;
    }
--- request eval
["GET /_ttai/nosuch/x", "GET /_ttai/"]
--- error_code eval
[404, 404]
--- response_body_like eval
[qr/"message":"no such store: use kv, r2 or d1"/, qr/"error":"not_found"/]
