# /mcp refuses a client without credentials.  Until JWT verification
# lands, every request is refused this way.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ttai::Test;

repeat_each(2);
run_tests();

__DATA__

=== TEST 1: POST /mcp without credentials is 401 with a Bearer challenge
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- config
    location = /mcp {
        ttai_mcp;
    }
--- more_headers
Content-Type: application/json
Accept: application/json, text/event-stream
--- request
POST /mcp
{"jsonrpc":"2.0","method":"tools/list","id":1}
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
Content-Type: application/json
--- response_body: {"error":"invalid_token","error_description":"a valid Bearer token is required"}
--- no_error_log
[error]



=== TEST 2: GET /mcp without credentials is 401 too
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- config
    location = /mcp {
        ttai_mcp;
    }
--- request
GET /mcp
--- error_code: 401
--- response_body_like: "error":"invalid_token"
