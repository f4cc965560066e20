# Exercises the test harness itself (Ttai::Test and its runner) against
# plain nginx: core directives only, no ttai module directives.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

# Plain nginx only: this suite must not depend on the module's build.
BEGIN { $ENV{TEST_NGINX_LOAD_MODULES} = ''; $ENV{TTAI_TEST_RUNNER} = 'own' }

use Ttai::Test;

repeat_each(2);
run_tests();

__DATA__

=== TEST 1: plain return, exact body, headers present and absent
--- config
    location = /t {
        add_header X-Foo bar;
        return 200 "hello\n";
    }
--- request
GET /t
--- response_headers
Content-Type: text/plain
X-Foo: bar
!X-Bar
--- response_body
hello
--- no_error_log
[error]



=== TEST 2: status code and body pattern
--- config
    location = /t { return 404; }
--- request
GET /t
--- error_code: 404
--- response_body_like: 404 Not Found
--- no_error_log
[error]



=== TEST 3: redirect: error_code_like, response_headers_like, body_unlike
--- config
    location = /old { return 302 /new; }
--- request
GET /old
--- error_code_like: ^30[12]$
--- response_headers_like
Location: http://localhost:\d+/new
--- response_body_unlike: hello



=== TEST 4: HEAD has headers but no body
--- config
    location = /t { return 200 "hello\n"; }
--- request
HEAD /t
--- response_headers
Content-Length: 6
--- response_body eval
""



=== TEST 5: POST with a body and more_headers
--- config
    location = /p {
        return 200 "$request_method $http_x_foo $content_length\n";
    }
--- more_headers
X-Foo: bar
--- request
POST /p
hello world
--- response_body
POST bar 11



=== TEST 6: a request sent as two packets
--- config
    location = /p {
        return 200 "$request_method $http_x_foo $content_length\n";
    }
--- more_headers
X-Foo: baz
--- request eval
[["POST /p\nhel", "lo world"]]
--- response_body
POST baz 11



=== TEST 7: several requests, with array expectations
--- config
    location = /t { return 200 "hello\n"; }
--- request eval
["GET /t", "GET /nothere"]
--- error_code eval
[200, 404]
--- response_body_like eval
[qr/^hello$/, qr/404 Not Found/]



=== TEST 8: pipelined requests on one connection
--- config
    location = /t { return 200 "hello\n"; }
    location = /u { return 200 "world\n"; }
--- pipelined_requests eval
["GET /t", "GET /u"]
--- response_body eval
["hello\n", "world\n"]



=== TEST 9: raw_request, HTTP/1.0
--- config
    location = /t { return 200 "hello\n"; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
hello



=== TEST 10: error_log of the request, per repeat
--- config
    location /files/ {
        alias html/;
        log_not_found on;
    }
--- request
GET /files/missing.txt
--- error_code: 404
--- error_log eval
[qr/\[error\].*open\(\) ".*missing\.txt" failed/,
 "No such file or directory"]
--- no_error_log
[crit]
[alert]



=== TEST 11: user_files are served from html/
--- config
    location = /t { return 200 "unused\n"; }
--- user_files
>>> hello.txt
Hello, world
>>> sub/dir/b.txt
in a subdirectory
--- request eval
["GET /hello.txt", "GET /sub/dir/b.txt"]
--- response_body eval
["Hello, world\n", "in a subdirectory\n"]



=== TEST 12: a chunked response (ssi drops Content-Length)
--- config
    location = /s.html {
        ssi on;
        ssi_types text/html;
    }
--- user_files
>>> s.html
a<!--# echo var="arg_x" -->c
--- request
GET /s.html?x=b
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
abc



=== TEST 13: $TEST_NGINX_* in http_config and config
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location = /up { return 200 "from upstream\n"; }
    }
--- config
    location = /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/up;
    }
--- request
GET /t
--- response_body
from upstream
--- no_error_log
[error]



=== TEST 14: --- init runs before the requests
--- init
open my $out, '>', html_dir() . '/init.txt' or die "init.txt: $!";
print $out "written by init\n";
close $out;
--- config
    location = /t { return 200 "unused\n"; }
--- request
GET /init.txt
--- response_body
written by init



=== TEST 15: grep_error_log and access_log
--- config
    location = /t { return 200 "x\n"; }
--- request
GET /t?a=1
--- response_body
x
--- grep_error_log eval
qr/http finalize request: \d+, "\/t\?a=1"/
--- grep_error_log_out
http finalize request: 0, "/t?a=1"
--- access_log
"GET /t?a=1 HTTP/1.1" 200



=== TEST 16: shutdown_error_log: what nginx logs while it stops
--- config
    location = /t { return 200 "x\n"; }
--- request
GET /t
--- response_body
x
--- shutdown_error_log
shutting down
--- no_shutdown_error_log
[error]



=== TEST 17: must_die: an unknown directive
--- config
    location = /t {
        bogus_directive on;
    }
--- must_die
--- error_log
unknown directive "bogus_directive"



=== TEST 18: must_die with the expected exit code
--- config
    location = /t { return; }
--- must_die: 1
--- error_log eval
qr/invalid number of arguments in "return" directive/
