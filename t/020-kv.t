# The KV zone through the development admin API: get, put, delete, list
# with prefix and cursor, limits, TTLs, metadata, eviction, /health
# counters, and who may use it.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ttai::Test;

our $HttpConfig = <<'_EOC_';
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
    ttai_kv_zone kv 1m snapshot=off;
_EOC_

our $Config = <<'_EOC_';
    location /_ttai/ {
        ttai_admin;
        client_max_body_size 2m;
        client_body_buffer_size 2m;
    }

    location = /health {
        ttai_health;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $HttpConfig)
        unless defined $block->http_config;
    $block->set_value('config', $Config) unless defined $block->config;
});

# PUT requests for keys k00 .. k(n-1), each with a value of $size bytes
sub main::fill {
    my ($n, $size) = @_;
    return map { sprintf("PUT /_ttai/kv/values/k%02d\n", $_) . ('v' x $size) }
           0 .. $n - 1;
}

our $Ok = '{"success":true}';
our $NotFound = '{"error":"not_found","message":"no such key"}';

# error_log patterns are looked for in what the block logged so far
check_accum_error_log();
run_tests();

__DATA__

=== TEST 1: put, get, delete, then 404s
--- request eval
["PUT /_ttai/kv/values/greeting\nhello world",
 "GET /_ttai/kv/values/greeting",
 "DELETE /_ttai/kv/values/greeting",
 "GET /_ttai/kv/values/greeting",
 "DELETE /_ttai/kv/values/greeting"]
--- error_code eval
[200, 200, 200, 404, 404]
--- response_headers eval
["Content-Type: application/json",
 "Content-Type: application/octet-stream\nContent-Length: 11\n!X-TTAI-Expiration\n!X-TTAI-Metadata",
 "Content-Type: application/json",
 "Content-Type: application/json",
 "Content-Type: application/json"]
--- response_body eval
[$::Ok, "hello world", $::Ok, $::NotFound, $::NotFound]
--- no_error_log
[error]
[warn]



=== TEST 2: a put replaces the value, its TTL and its metadata
--- request eval
["PUT /_ttai/kv/values/k?ttl=600&metadata=%7B%22v%22%3A1%7D\naaa",
 "GET /_ttai/kv/values/k",
 "PUT /_ttai/kv/values/k\nbbb",
 "GET /_ttai/kv/values/k",
 "PUT /_ttai/kv/values/k?metadata=2\nlonger value",
 "GET /_ttai/kv/values/k",
 "HEAD /_ttai/kv/values/k"]
--- response_headers eval
["", "X-TTAI-Metadata: {\"v\":1}",
 "", "!X-TTAI-Expiration\n!X-TTAI-Metadata",
 "", "!X-TTAI-Expiration\nX-TTAI-Metadata: 2",
 "Content-Length: 12"]
--- raw_response_headers_like eval
["", "\r\nX-TTAI-Expiration: \\d{10}\r\n", "", "", "", "", ""]
--- response_body eval
[$::Ok, "aaa", $::Ok, "bbb", $::Ok, "longer value", ""]
--- no_error_log
[error]



=== TEST 3: the cached quote of the seed, with a 5 s TTL, expires
The fourth request is sent in two packets, 6 s apart (Test::Nginx waits
before a packet, never before the first one of a request).
--- request eval
["PUT /_ttai/kv/values/quote:AAPL?ttl=5\n"
 . '{"symbol":"AAPL","price":150.00,"change":1.25,"volume":51234567}',
 "GET /_ttai/kv/values/quote:AAPL",
 "GET /_ttai/kv/keys?prefix=quote:",
 ["GET /_ttai/kv/keys?prefix=", { value => "quote:", delay_before => 6 }],
 "GET /_ttai/kv/values/quote:AAPL"]
--- error_code eval
[200, 200, 200, 200, 404]
--- response_headers_like eval
["", "X-TTAI-Expiration: \\d{10}", "", "", ""]
--- response_body_like eval
['^\{"success":true\}$',
 '^\{"symbol":"AAPL","price":150\.00,"change":1\.25,"volume":51234567\}$',
 '^\{"keys":\[\{"name":"quote:AAPL","expiration":\d{10}\}\],"list_complete":true\}$',
 '^\{"keys":\[\],"list_complete":true\}$',
 '^\{"error":"not_found"']
--- timeout: 10
--- no_error_log
[error]



=== TEST 4: list in byte order, by prefix, a page at a time
--- request eval
["PUT /_ttai/kv/values/user:2\nb",
 "PUT /_ttai/kv/values/session:x\nc",
 "PUT /_ttai/kv/values/user:10\nd",
 "PUT /_ttai/kv/values/user:1\na",
 "PUT /_ttai/kv/values/users\ne",
 "GET /_ttai/kv/keys",
 "GET /_ttai/kv/keys?prefix=user:",
 "GET /_ttai/kv/keys?prefix=user:&limit=2",
 "GET /_ttai/kv/keys?prefix=user:&limit=2&cursor=user:10",
 "GET /_ttai/kv/keys?prefix=user:&limit=1&cursor=user:2",
 "GET /_ttai/kv/keys?limit=3&cursor=session:x",
 "GET /_ttai/kv/keys?prefix=nothing",
 "GET /_ttai/kv/keys?cursor=zzz"]
--- response_body eval
[$::Ok, $::Ok, $::Ok, $::Ok, $::Ok,
 '{"keys":[{"name":"session:x"},{"name":"user:1"},{"name":"user:10"},{"name":"user:2"},{"name":"users"}],"list_complete":true}',
 '{"keys":[{"name":"user:1"},{"name":"user:10"},{"name":"user:2"}],"list_complete":true}',
 '{"keys":[{"name":"user:1"},{"name":"user:10"}],"list_complete":false,"cursor":"user:10"}',
 '{"keys":[{"name":"user:2"}],"list_complete":true}',
 '{"keys":[],"list_complete":true}',
 '{"keys":[{"name":"user:1"},{"name":"user:10"},{"name":"user:2"}],"list_complete":false,"cursor":"user:2"}',
 '{"keys":[],"list_complete":true}',
 '{"keys":[],"list_complete":true}']
--- no_error_log
[error]



=== TEST 5: keys keep their bytes; list escapes them as JSON
"a//b" is sent as is (nginx would merge the slashes of its URI),
the others percent-encoded.
--- request eval
["PUT /_ttai/kv/values/a%22b%5Cc\n1",
 "PUT /_ttai/kv/values/dir//file\n2",
 "PUT /_ttai/kv/values/x%2F..%2Fy\n3",
 "PUT /_ttai/kv/values/%C3%A9t%C3%A9%20%E2%82%AC\n4",
 "PUT /_ttai/kv/values/tab%09nl%0A\n5",
 "GET /_ttai/kv/values/dir//file",
 "GET /_ttai/kv/values/dir%2F%2Ffile",
 "GET /_ttai/kv/values/dir/file",
 "GET /_ttai/kv/values/x%2F..%2Fy",
 "GET /_ttai/kv/keys"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 404, 200, 200]
--- response_body eval
[$::Ok, $::Ok, $::Ok, $::Ok, $::Ok, "2", "2", $::NotFound, "3",
 qq#{"keys":[{"name":"a\\"b\\\\c"},{"name":"dir//file"},{"name":"tab\\u0009nl\\u000a"},{"name":"x/../y"},{"name":"\xc3\xa9t\xc3\xa9 \xe2\x82\xac"}],"list_complete":true}#]
--- no_error_log
[error]



=== TEST 6: keys that cannot be stored
nginx itself refuses a %00 in the URI.
--- request eval
["PUT /_ttai/kv/values/\nx",
 "PUT /_ttai/kv/values/a%00b\nx",
 "PUT /_ttai/kv/values/%FF%FE\nx",
 "PUT /_ttai/kv/values/%ED%A0%80\nx",
 "PUT /_ttai/kv/values/" . ('k' x 513) . "\nx",
 "PUT /_ttai/kv/values/" . ('k' x 512) . "\nx",
 "GET /_ttai/kv/values/" . ('k' x 513),
 "GET /_ttai/kv/keys"]
--- error_code eval
[400, 400, 400, 400, 413, 200, 413, 200]
--- response_body eval
['{"error":"bad_request","message":"the key is empty: use /_ttai/kv/values/<key>"}',
 qr/400 Bad Request/,
 '{"error":"bad_request","message":"keys must be valid UTF-8"}',
 '{"error":"bad_request","message":"keys must be valid UTF-8"}',
 '{"error":"too_large","message":"the key has 513 bytes; the limit is 512 bytes"}',
 $::Ok,
 '{"error":"too_large","message":"the key has 513 bytes; the limit is 512 bytes"}',
 '{"keys":[{"name":"' . ('k' x 512) . '"}],"list_complete":true}']
--- no_error_log
[error]



=== TEST 7: values up to 1 MiB; one byte more is refused, nothing lost
--- request eval
["PUT /_ttai/kv/values/big\n" . ('x' x 1048576),
 "GET /_ttai/kv/values/big",
 "PUT /_ttai/kv/values/big\n" . ('y' x 1048577),
 "GET /_ttai/kv/values/big",
 "PUT /_ttai/kv/values/empty",
 "GET /_ttai/kv/values/empty"]
--- error_code eval
[200, 200, 413, 200, 200, 200]
--- response_headers eval
["", "Content-Length: 1048576", "", "", "", "Content-Length: 0"]
--- response_body eval
[$::Ok, 'x' x 1048576,
 '{"error":"too_large","message":"the value has 1048577 bytes; the limit is 1048576 bytes"}',
 'x' x 1048576, $::Ok, ""]
--- http_config eval
$::HttpConfig =~ s/kv 1m/kv 4m/r
--- no_error_log
[error]



=== TEST 8: metadata is JSON, kept compact, at most 1024 bytes
--- request eval
["PUT /_ttai/kv/values/m?metadata=%7B%20%22source%22%20%3A%20%22tastytrade%22%2C%20%22n%22%3A%20%5B1%2C2%5D%20%7D\nv",
 "GET /_ttai/kv/values/m",
 "GET /_ttai/kv/keys",
 "PUT /_ttai/kv/values/u?metadata=%22%C3%A9%22\nv",
 "GET /_ttai/kv/values/u",
 "PUT /_ttai/kv/values/bad?metadata=%7Bsource%7D\nv",
 "PUT /_ttai/kv/values/bad?metadata=\nv",
 "PUT /_ttai/kv/values/bad?metadata=%22" . ('a' x 1023) . "%22\nv",
 "GET /_ttai/kv/values/bad"]
--- error_code eval
[200, 200, 200, 200, 200, 400, 400, 413, 404]
--- response_headers eval
["", 'X-TTAI-Metadata: {"source":"tastytrade","n":[1,2]}', "",
 "", 'X-TTAI-Metadata: "\u00E9"', "", "", "", ""]
--- response_body eval
[$::Ok, "v",
 '{"keys":[{"name":"m","metadata":{"source":"tastytrade","n":[1,2]}}],"list_complete":true}',
 $::Ok, "v",
 '{"error":"bad_request","message":"metadata must be JSON, percent-encoded"}',
 '{"error":"bad_request","message":"metadata must be JSON, percent-encoded"}',
 '{"error":"too_large","message":"the metadata has 1025 bytes; the limit is 1024 bytes"}',
 $::NotFound]
--- no_error_log
[error]



=== TEST 9: a TTL is whole seconds, at least 1
--- request eval
["PUT /_ttai/kv/values/t?ttl=0\nx",
 "PUT /_ttai/kv/values/t?ttl=-5\nx",
 "PUT /_ttai/kv/values/t?ttl=abc\nx",
 "PUT /_ttai/kv/values/t?ttl=1.5\nx",
 "PUT /_ttai/kv/values/t?ttl=\nx",
 "PUT /_ttai/kv/values/t?ttl=315360001\nx",
 "GET /_ttai/kv/values/t",
 "PUT /_ttai/kv/values/t?ttl=1\nx",
 "GET /_ttai/kv/values/t"]
--- error_code eval
[400, 400, 400, 400, 400, 400, 404, 200, 200]
--- response_body eval
[('{"error":"bad_request","message":"ttl must be a whole number of seconds from 1 to 315360000 (ten years)"}') x 6,
 $::NotFound, $::Ok, "x"]
--- no_error_log
[error]



=== TEST 10: other methods get 405 with Allow; other paths 404
--- request eval
["POST /_ttai/kv/values/k\nx",
 "PUT /_ttai/kv/keys\nx",
 "POST /_ttai/kv/keys",
 "GET /_ttai/kv/nothing",
 "GET /_ttai/kv/keys/more",
 "GET /_ttai/kv/keys?limit=0",
 "GET /_ttai/kv/keys?limit=1001"]
--- error_code eval
[405, 405, 405, 404, 404, 400, 400]
--- response_headers eval
["Allow: GET, HEAD, PUT, DELETE", "Allow: GET, HEAD, DELETE",
 "Allow: GET, HEAD, DELETE", "!Allow", "!Allow", "", ""]
--- response_body_like eval
['"error":"method_not_allowed"', '"error":"method_not_allowed"',
 '"error":"method_not_allowed"',
 '^\{"error":"not_found","message":"use /_ttai/kv/keys or /_ttai/kv/values/<key>"\}$',
 '"error":"not_found"',
 'limit must be a whole number from 1 to 1000',
 'limit must be a whole number from 1 to 1000']
--- no_error_log
[error]



=== TEST 11: DELETE keys removes every key
--- request eval
[main::fill(300, 10),
 "DELETE /_ttai/kv/keys",
 "GET /_ttai/kv/keys",
 "GET /_ttai/kv/values/k07",
 "DELETE /_ttai/kv/keys"]
--- response_body eval
[($::Ok) x 300,
 '{"success":true,"deleted":300}',
 '{"keys":[],"list_complete":true}',
 $::NotFound,
 '{"success":true,"deleted":0}']
--- error_code eval
[(200) x 300, 200, 200, 404, 200]
--- no_error_log
[error]



=== TEST 12: /health shows the KV counters change
--- request eval
["GET /health",
 "PUT /_ttai/kv/values/a\n1",
 "GET /_ttai/kv/values/a",
 "GET /_ttai/kv/values/a",
 "GET /_ttai/kv/values/b",
 "GET /health"]
--- response_body_like eval
['"kv":\{"status":"ok","entries":0,"hits":0,"misses":0,"evictions":0,"used_bytes":\d+,"size_bytes":1048576\}',
 '', '^1$', '^1$', 'not_found',
 '"kv":\{"status":"ok","entries":1,"hits":2,"misses":1,"evictions":0,"used_bytes":\d+,"size_bytes":1048576\}']
--- error_code eval
[200, 200, 200, 200, 404, 200]
--- no_error_log
[error]



=== TEST 13: a full zone evicts the least recently used entries
Values of 2000 bytes take a page each: 35 of them overflow a 128k zone.
The first go, but not k05, which was read; a value larger than the zone
is refused without evicting anything.  The requests are pipelined on one
connection, so that the log lines of all of them can be looked for.
--- http_config eval
$::HttpConfig =~ s/kv 1m/small 128k/r
--- pipelined_requests eval
[main::fill(10, 2000),
 "GET /_ttai/kv/values/k05",
 (main::fill(35, 2000))[10 .. 34],
 "GET /_ttai/kv/values/k00",
 "GET /_ttai/kv/values/k05",
 "GET /_ttai/kv/values/k34",
 "PUT /_ttai/kv/values/huge\n" . ('h' x 200000),
 "GET /_ttai/kv/values/k34",
 "GET /health"]
--- error_code eval
[(200) x 36, 404, 200, 200, 507, 200, 200]
--- response_body_like eval
[('^\{"success":true\}$') x 10, '^v{2000}$', ('^\{"success":true\}$') x 25,
 'not_found', '^v{2000}$', '^v{2000}$',
 '^\{"error":"insufficient_storage","message":"the KV zone cannot hold this entry, even after evicting the least recently used ones"\}$',
 '^v{2000}$',
 '"kv":\{"status":"ok","entries":\d+,"hits":4,"misses":1,"evictions":[1-9]\d*,']
--- error_log eval
[qr/\[warn\] .*ttai: KV zone "small" is full: evicted 1 least recently used entry/,
 qr/\[warn\] .*ttai: KV zone "small" cannot hold an entry of 200004 bytes/]
--- no_error_log
[error]
[crit]
[alert]



=== TEST 14: the admin API answers loopback clients only
The realip module makes nginx see the client as 10.1.2.3.
--- http_config eval
$::HttpConfig . "    set_real_ip_from 127.0.0.1;\n    real_ip_header X-Real-IP;\n"
--- more_headers
X-Real-IP: 10.1.2.3
--- request eval
["GET /_ttai/kv/keys", "PUT /_ttai/kv/values/k\nx"]
--- error_code eval
[403, 403]
--- response_body eval
['{"error":"forbidden","message":"the admin API answers loopback clients only"}',
 '{"error":"forbidden","message":"the admin API answers loopback clients only"}']
--- error_log
admin API refused to a non-loopback client



=== TEST 15: the same with a loopback X-Real-IP is served
--- http_config eval
$::HttpConfig . "    set_real_ip_from 127.0.0.1;\n    real_ip_header X-Real-IP;\n"
--- more_headers
X-Real-IP: 127.0.0.9
--- request
GET /_ttai/kv/keys
--- response_body: {"keys":[],"list_complete":true}



=== TEST 16: a production configuration with the admin API does not load
The message is checked in t/013-conf-errors.t.
--- http_config
    ttai_environment production;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_kv_zone kv 1m snapshot=off;
--- must_die



=== TEST 17: without ttai_kv_zone there is no KV, and no kv check
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- request eval
["GET /_ttai/kv/keys", "GET /health"]
--- error_code eval
[404, 200]
--- response_body_like eval
['^\{"error":"not_configured","message":"no ttai_kv_zone is configured"\}$',
 '"checks":\{\}']



=== TEST 18: a zone smaller than 8 pages is refused
The messages of TESTs 18 to 22 are checked in t/013-conf-errors.t.
--- http_config eval
$::HttpConfig =~ s/kv 1m/kv 16k/r
--- must_die



=== TEST 19: unknown and repeated parameters are refused
--- http_config eval
$::HttpConfig =~ s/snapshot=off/snapshot=off snapshot=off/r
--- must_die



=== TEST 20: the snapshot interval is at least 1s
--- http_config eval
$::HttpConfig =~ s/snapshot=off/snapshot_interval=500ms/r
--- must_die



=== TEST 21: one zone per server
--- http_config eval
$::HttpConfig . "    ttai_kv_zone other 1m;\n"
--- must_die



=== TEST 22: a zone name becomes a file name, so it is checked
--- http_config eval
$::HttpConfig =~ s/kv 1m/..\/kv 1m/r
--- must_die
