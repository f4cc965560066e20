# GET /health on the MCP server and the worker service.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ttai::Test;

# the secret values of the test env file, which no log line may contain
sub main::secret_values {
    open my $fh, '<', $ENV{TEST_NGINX_TTAI_ENV_FILE} or die "env file: $!";
    return [ map { /^(?:JWT_SECRET|TOKEN_ENCRYPTION_KEY)=(\S+)/ ? $1 : () }
             <$fh> ];
}

repeat_each(2);
run_tests();

__DATA__

=== TEST 1: /health answers 200 healthy JSON
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
    ttai_environment development;
--- config
    location = /health {
        ttai_health mcp;
    }
--- request
GET /health
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like: ^\{"status":"healthy","service":"mcp","version":"\d+\.\d+\.\d+","nginx":"1\.\d+\.\d+","environment":"development","uptime_seconds":\d+,"checks":\{"state_dir":\{"status":"ok"\},"d1":\{"status":"ok","schema_version":0\}\}\}$
--- no_error_log
[error]



=== TEST 2: the worker service names itself; production is the default
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- config
    location = /health {
        ttai_health worker;
    }
--- request
GET /health
--- response_body_like: ^\{"status":"healthy","service":"worker",.*"environment":"production",.*"checks":\{\}\}$
--- no_error_log
[error]



=== TEST 3: HEAD answers the headers only
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
--- config
    location = /health {
        ttai_health;
    }
--- request
HEAD /health
--- response_headers
Content-Type: application/json
--- response_body
--- no_error_log
[error]



=== TEST 4: POST gets 405 with an Allow header and a JSON error
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- config
    location = /health {
        ttai_health;
    }
--- request
POST /health
{"a":1}
--- error_code: 405
--- response_headers
Allow: GET, HEAD
Content-Type: application/json
--- response_body: {"error":"method_not_allowed","message":"use GET or HEAD"}
--- no_error_log
[error]



=== TEST 5: PUT and DELETE get 405 too
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- config
    location = /health {
        ttai_health;
    }
--- request eval
["PUT /health\nx", "DELETE /health"]
--- error_code eval
[405, 405]
--- response_headers eval
["Allow: GET, HEAD", "Allow: GET, HEAD"]



=== TEST 6: a state folder that disappears makes /health answer 503
The DAV location removes the state folder while nginx runs; on a repeat
it is gone already.
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
--- config
    location = /health {
        ttai_health;
    }
    location /state/ {
        root $TEST_NGINX_TTAI_SCRATCH;
        dav_methods DELETE;
    }
--- request eval
["DELETE /state/", "GET /health"]
--- error_code_like eval
[qr/^(204|404)$/, qr/^503$/]
--- response_body_like eval
[qr/^$|404 Not Found/, qr/^\{"status":"unhealthy",.*"checks":\{"state_dir":\{"status":"fail","error":"No such file or directory"\},"d1":\{"status":"fail","error":"the database file is missing; apply the migrations or reload nginx to make it again"(,"schema_version":0)?\}\}\}$/]



=== TEST 7: no secret value reaches the log at debug level
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_state_dir $TEST_NGINX_TTAI_SCRATCH/state;
--- config
    location = /health {
        ttai_health;
    }
--- request
GET /health
--- no_error_log eval
main::secret_values()



=== TEST 8: an unknown service name is refused at load
The message is checked in t/013-conf-errors.t: Debian's nginx writes it
to stderr, where Test::Nginx does not look.
--- http_config
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
--- config
    location = /health {
        ttai_health billing;
    }
--- must_die
