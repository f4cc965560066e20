# /mcp over HTTP: every row of the transport's status table that needs no
# session, and every way a bearer token is refused.  Session flows are in
# t/061-mcp-sessions.t.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ttai::Test;
use Ttai::Util qw(jwt env_secret);

our $Secret = env_secret($ENV{TEST_NGINX_TTAI_ENV_FILE}, 'JWT_SECRET');
my $now = time;

# tokens made here with the secret, as the original design's jose
# one-liner makes them
our %T = (
    good     => jwt($Secret, { sub => 'tt-account-123', email => 'test@example.com',
                               iat => $now, exp => $now + 86400 }),
    none     => jwt($Secret, { sub => 'u', exp => $now + 600 },
                    header => { alg => 'none' }),
    hs512    => jwt($Secret, { sub => 'u', exp => $now + 600 },
                    header => { alg => 'HS512' }),
    wrongkey => jwt('another secret', { sub => 'u', exp => $now + 600 }),
    expired  => jwt($Secret, { sub => 'u', exp => $now - 600 }),
    skewed   => jwt($Secret, { sub => 'u', exp => $now - 20 }),
    future   => jwt($Secret, { sub => 'u', nbf => $now + 3600 }),
    nosub    => jwt($Secret, { email => 'a@b.c', exp => $now + 600 }),
    iss      => jwt($Secret, { sub => 'u', iss => 'https://other.example' }),
    goodiss  => jwt($Secret, { sub => 'u', iss => 'https://ttai.example',
                               aud => 'http://localhost/mcp' }),
    audlist  => jwt($Secret, { sub => 'u', iss => 'https://ttai.example',
                               aud => ['x', 'http://localhost/mcp'] }),
    aud      => jwt($Secret, { sub => 'u', iss => 'https://ttai.example',
                               aud => 'https://elsewhere/mcp' }),
);

our $Init = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":'
          . '{"protocolVersion":"2025-11-25","capabilities":{},'
          . '"clientInfo":{"name":"t","version":"1"}}}';

sub main::auth { "Authorization: Bearer $T{$_[0]}\nContent-Type: application/json\n" }

our $HttpConfig = <<'CONF';
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_mcp_sessions SESSIONS 1m snapshot=off;
CONF

our $Config = <<'CONF';
    location = /mcp {
        ttai_mcp;
        ttai_mcp_max_body 4k;
    }
    location = /.well-known/oauth-protected-resource {
        ttai_mcp_metadata;
    }
    location = /.well-known/oauth-protected-resource/mcp {
        ttai_mcp_metadata;
    }
CONF

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', $HttpConfig) unless $block->http_config;
    $block->set_value('config', $Config) unless $block->config;
});

repeat_each(1);
run_tests();

__DATA__

=== TEST 1: initialize with a valid token: 200, a session id, the negotiated version
--- more_headers eval: main::auth('good')
--- request eval
"POST /mcp\n$::Init"
--- response_headers_like
Content-Type: application/json
Mcp-Session-Id: ^[0-9a-f]{32}$
Access-Control-Expose-Headers: .*Mcp-Session-Id.*
--- response_body_like: ^\{"jsonrpc":"2.0","id":1,"result":\{.*"protocolVersion":"2025-11-25"
--- no_error_log
[error]



=== TEST 2: an older supported version is echoed, an unknown one gets the latest
--- more_headers eval: main::auth('good')
--- request eval
[
"POST /mcp\n" . ($::Init =~ s/2025-11-25/2025-03-26/r),
"POST /mcp\n" . ($::Init =~ s/2025-11-25/2025-06-18/r),
"POST /mcp\n" . ($::Init =~ s/2025-11-25/2099-01-01/r),
]
--- response_body_like eval
[qr/"protocolVersion":"2025-03-26"/, qr/"protocolVersion":"2025-06-18"/, qr/"protocolVersion":"2025-11-25"/]



=== TEST 3: no token: 401 pointing at the protected-resource metadata, no error code
--- more_headers
Content-Type: application/json
--- request eval
"POST /mcp\n$::Init"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="http://localhost/.well-known/oauth-protected-resource/mcp"
Content-Type: application/json
--- response_headers_like
Access-Control-Expose-Headers: Mcp-Session-Id.*
--- response_body: {"error":"unauthorized","error_description":"a Bearer token is required"}



=== TEST 4: every refused token gets the same 401 with error="invalid_token"
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_mcp_sessions SESSIONS 1m snapshot=off;
    ttai_jwt_leeway 60s;
--- more_headers eval
[map { main::auth($_) } qw(none hs512 wrongkey expired future nosub)]
--- request eval
[("POST /mcp\n$::Init") x 6]
--- error_code eval
[(401) x 6]
--- response_headers eval
[('WWW-Authenticate: Bearer resource_metadata="http://localhost/.well-known/oauth-protected-resource/mcp", error="invalid_token"') x 6]
--- response_body eval
[('{"error":"invalid_token","error_description":"the Bearer token is not valid"}') x 6]
--- error_log eval
[qr/bearer token refused/]



=== TEST 5: a token expired within the clock skew is accepted
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_mcp_sessions SESSIONS 1m snapshot=off;
    ttai_jwt_leeway 60s;
--- more_headers eval: main::auth('skewed')
--- request eval
"POST /mcp\n$::Init"
--- error_code: 200



=== TEST 6: iss and aud are checked when configured; aud may be a list
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_mcp_sessions SESSIONS 1m snapshot=off;
    ttai_jwt_issuer https://ttai.example;
    ttai_jwt_audience http://localhost/mcp;
--- more_headers eval
[map { main::auth($_) } qw(iss aud good goodiss audlist)]
--- request eval
[("POST /mcp\n$::Init") x 5]
--- error_code eval
[401, 401, 401, 200, 200]



=== TEST 7: other schemes and garbage are refused
--- more_headers eval
["Authorization: Basic dXNlcjpwYXNz\nContent-Type: application/json\n",
 "Authorization: Bearer not.a.jwt\nContent-Type: application/json\n",
 "Authorization: Bearer \nContent-Type: application/json\n"]
--- request eval
[("POST /mcp\n$::Init") x 3]
--- error_code eval
[401, 401, 401]
--- response_headers_like eval
[('WWW-Authenticate: Bearer resource_metadata=".*", error="invalid_token"') x 3]



=== TEST 8: other methods are 405 with Allow, before any auth
--- request eval
["PUT /mcp\nx", "PATCH /mcp\nx"]
--- error_code eval
[405, 405]
--- response_headers eval
[("Allow: GET, POST, DELETE, OPTIONS") x 2]
--- response_body_like eval
[(qr/^\{"jsonrpc":"2.0","id":null,"error":\{"code":-32000,/) x 2]



=== TEST 8b: GET, a session's event stream, needs a token like the rest
--- request
GET /mcp
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Bearer resource_metadata=".*"



=== TEST 9: a wrong Content-Type is 415
--- more_headers eval
"Authorization: Bearer $::T{good}\nContent-Type: text/plain\n"
--- request eval
"POST /mcp\n$::Init"
--- error_code: 415
--- response_body_like: "code":-32000,"message":"Content-Type must be application/json"



=== TEST 10: Accept is checked leniently
--- more_headers eval
[map { main::auth('good') . "Accept: $_\n" } ('text/html', '*/*', 'application/json', 'application/json, text/event-stream', 'text/event-stream, application/*')]
--- request eval
[("POST /mcp\n$::Init") x 5]
--- error_code eval
[406, 200, 200, 200, 200]



=== TEST 11: an unsupported MCP-Protocol-Version is 400
--- more_headers eval
main::auth('good') . "MCP-Protocol-Version: 1999-01-01\n"
--- request eval
"POST /mcp\n$::Init"
--- error_code: 400
--- response_body_like: "code":-32000



=== TEST 12: parse errors, non-objects and batches are 400 with the JSON-RPC code
--- more_headers eval: main::auth('good')
--- request eval
["POST /mcp\n{\"jsonrpc\":", "POST /mcp\n42", "POST /mcp\n[$::Init]"]
--- error_code eval
[400, 400, 400]
--- response_body_like eval
[qr/"code":-32700/, qr/"code":-32600/, qr/"code":-32600/]



=== TEST 13: a request other than initialize needs a session; an unknown one is 404
--- more_headers eval
[main::auth('good') . "MCP-Protocol-Version: 2025-11-25\n", main::auth('good') . "Mcp-Session-Id: 00000000000000000000000000000000\n", main::auth('good') . "Mcp-Session-Id: not-even-hex\n"]
--- request eval
[("POST /mcp\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}") x 3]
--- error_code eval
[400, 404, 404]
--- response_body_like eval
[qr/"code":-32000,"message":"[^"]*Mcp-Session-Id header is required"/, qr/"code":-32001,"message":"Session not found"/, qr/"code":-32001/]



=== TEST 14: DELETE needs a session id; an unknown one is 404
--- more_headers eval
[main::auth('good'), main::auth('good') . "Mcp-Session-Id: 0123456789abcdef0123456789abcdef\n"]
--- request eval
["DELETE /mcp", "DELETE /mcp"]
--- error_code eval
[400, 404]



=== TEST 15: a body over ttai_mcp_max_body is 413
--- more_headers eval: main::auth('good')
--- request eval
"POST /mcp\n" . ('x' x 5000)
--- error_code: 413
--- response_body_like: "message":"the request body is too large"



=== TEST 16: a foreign Origin is 403; a local one is let in and echoed
--- more_headers eval
[main::auth('good') . "Origin: http://evil.example.com\n", main::auth('good') . "Origin: http://localhost:6274\n"]
--- request eval
[("POST /mcp\n$::Init") x 2]
--- error_code eval
[403, 200]
--- response_headers eval
["!Access-Control-Allow-Origin", "Access-Control-Allow-Origin: http://localhost:6274"]



=== TEST 17: a listed origin is allowed
--- config
    location = /mcp {
        ttai_mcp;
        ttai_mcp_allowed_origins https://claude.ai;
    }
--- more_headers eval
main::auth('good') . "Origin: https://claude.ai\n"
--- request eval
"POST /mcp\n$::Init"
--- error_code: 200
--- response_headers
Access-Control-Allow-Origin: https://claude.ai



=== TEST 18: DNS rebinding: another Host on a loopback address is 403
--- more_headers eval
[main::auth('good') . "Host: evil.example.com\n", main::auth('good') . "Host: 127.0.0.1\n"]
--- request eval
[("POST /mcp\n$::Init") x 2]
--- error_code eval
[403, 200]



=== TEST 19: a CORS preflight answers without auth
--- more_headers
Origin: http://localhost:6274
Access-Control-Request-Method: POST
Access-Control-Request-Headers: authorization, content-type, mcp-session-id
--- request
OPTIONS /mcp
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: http://localhost:6274
Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS
Access-Control-Allow-Headers: Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID
--- response_headers_like
Access-Control-Expose-Headers: Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate



=== TEST 20: the protected-resource metadata names the /mcp URL and the server
--- request eval
["GET /.well-known/oauth-protected-resource/mcp", "GET /.well-known/oauth-protected-resource"]
--- response_body eval
[('{"resource":"http://localhost/mcp","authorization_servers":["http://localhost"],"bearer_methods_supported":["header"],"resource_name":"ttai"}') x 2]
--- response_headers eval
[("Content-Type: application/json") x 2]



=== TEST 21: ttai_mcp_resource sets the URL behind a proxy: metadata
--- config
    ttai_mcp_resource https://mcp.example.com/mcp;
    location = /.well-known/oauth-protected-resource/mcp {
        ttai_mcp_metadata;
    }
--- request
GET /.well-known/oauth-protected-resource/mcp
--- response_body: {"resource":"https://mcp.example.com/mcp","authorization_servers":["https://mcp.example.com"],"bearer_methods_supported":["header"],"resource_name":"ttai"}



=== TEST 22: ttai_mcp_resource sets the URL behind a proxy: the 401
--- config
    ttai_mcp_resource https://mcp.example.com/mcp;
    location = /mcp {
        ttai_mcp;
    }
--- more_headers
Content-Type: application/json
--- request eval
"POST /mcp\n$::Init"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"



=== TEST 23: ttai_mcp_auth off needs no token (development only)
--- config
    location = /mcp {
        ttai_mcp;
        ttai_mcp_auth off;
    }
--- more_headers
Content-Type: application/json
--- request eval
"POST /mcp\n$::Init"
--- error_code: 200
--- response_headers_like
Mcp-Session-Id: ^[0-9a-f]{32}$



=== TEST 24: ttai_mcp_auth off does not load in production
--- http_config
    ttai_environment production;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_mcp_sessions SESSIONS 1m snapshot=off;
--- config
    location = /mcp {
        ttai_mcp;
        ttai_mcp_auth off;
    }
--- must_die



=== TEST 25: ttai_mcp needs a session zone
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- must_die



=== TEST 26: the original design's curl works as written: a one-shot call
with neither a session nor a protocol version is answered without a session
--- more_headers eval: main::auth('good')
--- request
POST /mcp
{"jsonrpc": "2.0", "method": "tools/list", "id": 1}
--- error_code: 200
--- response_headers
!Mcp-Session-Id
--- response_body_like: ^\{"jsonrpc":"2.0","id":1,"result":\{"tools":\[\{"name":"get_session_info"



=== TEST 27: a body nginx buffers to a file is read on the thread pool
--- main_config
    thread_pool ttai threads=2;
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_mcp_sessions SESSIONS 1m snapshot=off;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
    ttai_thread_pool ttai;
    ttai_migrations off;
--- config
    location = /mcp {
        ttai_mcp;
        client_body_buffer_size 256;
    }
--- more_headers eval: main::auth('good')
--- request eval
"POST /mcp\n" . ($::Init =~ s/"capabilities":\{\}/'"capabilities":{"experimental":{"padding":"' . ('x' x 4000) . '"}}'/er)
--- error_code: 200
--- response_body_like: "protocolVersion":"2025-11-25"
--- error_log
a client request body is buffered to a temporary file
request body read on the thread pool



=== TEST 28: without a thread pool such a body is still read
--- config
    location = /mcp {
        ttai_mcp;
        client_body_buffer_size 256;
    }
--- more_headers eval: main::auth('good')
--- request eval
"POST /mcp\n" . ($::Init =~ s/"capabilities":\{\}/'"capabilities":{"experimental":{"padding":"' . ('x' x 4000) . '"}}'/er)
--- error_code: 200
--- response_body_like: "protocolVersion":"2025-11-25"
--- no_error_log
read on the thread pool



=== TEST 29: the debug endpoint answers loopback clients only
--- config
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Real-IP;
    location /debug/ {
        ttai_debug;
    }
--- more_headers
X-Real-IP: 10.1.2.3
--- request
GET /debug/do/SESSIONS/0123456789abcdef0123456789abcdef
--- error_code: 403
--- response_body_like: "error":"forbidden"



=== TEST 30: an Origin that only begins like a local page is 403
--- more_headers eval
[map { main::auth('good') . "Origin: $_\n" }
     'http://localhost:9787.evil.com', 'http://127.0.0.1:9787.evil.com',
     'http://[::1].evil.com', 'http://localhost:9787@evil.com',
     'http://localhost:abc', 'http://localhost:9787/evil',
     'http://localhost.', 'http://localhost:', 'null']
--- request eval
[("POST /mcp\n$::Init") x 9]
--- error_code eval
[(403) x 9]
--- response_body_like eval
[("\"message\":\"this Origin is not allowed\"") x 9]
--- response_headers eval
[("!Access-Control-Allow-Origin") x 9]



=== TEST 31: a local page in any case, by address, on any port, is let in
--- more_headers eval
[map { main::auth('good') . "Origin: $_\n" }
     'HTTP://LOCALHOST:9787', 'http://127.0.0.1:6274', 'http://[::1]:9787',
     'https://localhost']
--- request eval
[("POST /mcp\n$::Init") x 4]
--- error_code eval
[(200) x 4]
--- response_headers eval
["Access-Control-Allow-Origin: HTTP://LOCALHOST:9787",
 "Access-Control-Allow-Origin: http://127.0.0.1:6274",
 "Access-Control-Allow-Origin: http://[::1]:9787",
 "Access-Control-Allow-Origin: https://localhost"]



=== TEST 32: "*" allows any origin, and still only an origin
--- config
    location = /mcp {
        ttai_mcp;
        ttai_mcp_allowed_origins *;
    }
--- more_headers eval
[main::auth('good') . "Origin: https://app.example.com:8443\n",
 main::auth('good') . "Origin: null\n",
 main::auth('good') . "Origin: https://app.example.com/path\n"]
--- request eval
[("POST /mcp\n$::Init") x 3]
--- error_code eval
[200, 403, 403]
--- response_headers eval
["Access-Control-Allow-Origin: https://app.example.com:8443",
 "!Access-Control-Allow-Origin", "!Access-Control-Allow-Origin"]
