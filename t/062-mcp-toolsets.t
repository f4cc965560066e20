# ttai_mcp_toolsets over HTTP: a location lists only the tools of its
# toolsets (and get_session_info), and a call of another tool is answered
# as a call of a tool that does not exist.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ttai::Test;
use Ttai::Util qw(jwt env_secret);

our $Secret = env_secret($ENV{TEST_NGINX_TTAI_ENV_FILE}, 'JWT_SECRET');
our $Jwt = jwt($Secret, { sub => 'tt-account-123', exp => time + 3600 });

our @Account = qw(get_accounts get_balances get_positions get_transactions);
our @Orders = qw(get_orders preview_order);
our @Alerts = qw(create_alert list_alerts delete_alert get_alerts
                 get_position_history);
our @Market = qw(get_quotes get_market_metrics get_option_chain
                 search_symbols get_market_sessions get_greeks
                 find_strikes_by_delta get_candles);

# every tool, in the order tools/list shows them: the account toolset's
# get_position_greeks comes last, with the stream's other tool
our @All = ('get_session_info', @Account, @Orders, 'get_watchlists',
            @Alerts, @Market, 'get_position_greeks');

our $List = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';

sub main::call {
    my ($name) = @_;
    return '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":'
         . qq({"name":"$name","arguments":{}}});
}

# the whole tools/list answer: exactly these tools, in this order (each
# entry begins {"name":"...", which nothing inside an entry does)
sub main::tools {
    my $entries = join ',', map { qq(\\{"name":"$_"(?:(?!\\{"name":").)*) }
                                @_;
    return qr/^\{"jsonrpc":"2.0","id":1,"result":\{"tools":\[$entries\]\}\}$/s;
}

sub main::unknown {
    my ($id, $name) = @_;
    return qq({"jsonrpc":"2.0","id":$id,"error":{"code":-32602,)
         . qq("message":"Unknown tool: $name"}});
}

our $Headers = "Authorization: Bearer $Jwt\nContent-Type: application/json\n";

our $HttpConfig = <<'CONF';
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_mcp_sessions SESSIONS 1m snapshot=off;
CONF

our $Config = <<'CONF';
    location = /mcp {
        ttai_mcp;
    }
    location = /market/mcp {
        ttai_mcp;
        ttai_mcp_toolsets market;
    }
    location = /trading/mcp {
        ttai_mcp;
        ttai_mcp_toolsets orders account;
    }
CONF

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', $HttpConfig) unless $block->http_config;
    $block->set_value('config', $Config) unless $block->config;
    $block->set_value('more_headers', $Headers) unless $block->more_headers;
});

repeat_each(1);
run_tests();

__DATA__

=== TEST 1: without the directive, every tool is listed
--- request eval
"POST /mcp\n$::List"
--- response_body_like eval
main::tools(@::All)
--- no_error_log
[error]



=== TEST 2: "market" lists get_session_info and the market tools, in order
--- request eval
"POST /market/mcp\n$::List"
--- response_body_like eval
main::tools('get_session_info', @::Market)



=== TEST 3: two toolsets: the tools of both, in the order of all tools
--- request eval
"POST /trading/mcp\n$::List"
--- response_body_like eval
main::tools('get_session_info', @::Account, @::Orders, 'get_watchlists',
            @::Alerts, 'get_position_greeks')



=== TEST 4: each location answers with its own page, again and again
--- request eval
["POST /market/mcp\n$::List", "POST /mcp\n$::List",
 "POST /trading/mcp\n$::List", "POST /market/mcp\n$::List",
 "POST /mcp\n$::List"]
--- response_body_like eval
[main::tools('get_session_info', @::Market), main::tools(@::All),
 main::tools('get_session_info', @::Account, @::Orders, 'get_watchlists',
            @::Alerts, 'get_position_greeks'),
 main::tools('get_session_info', @::Market), main::tools(@::All)]



=== TEST 5: a tool outside the toolsets is answered as an unknown tool
--- request eval
["POST /market/mcp\n" . main::call('get_accounts'),
 "POST /market/mcp\n" . main::call('preview_order'),
 "POST /market/mcp\n" . main::call('no_such_tool'),
 "POST /trading/mcp\n" . main::call('get_quotes'),
 "POST /mcp\n" . main::call('no_such_tool')]
--- response_body eval
[main::unknown(2, 'get_accounts'), main::unknown(2, 'preview_order'),
 main::unknown(2, 'no_such_tool'), main::unknown(2, 'get_quotes'),
 main::unknown(2, 'no_such_tool')]
--- no_error_log
[error]



=== TEST 6: get_session_info is in every selection
--- request eval
["POST /market/mcp\n" . main::call('get_session_info'),
 "POST /trading/mcp\n" . main::call('get_session_info')]
--- response_body_like eval
[(qr/^\{"jsonrpc":"2.0","id":2,"result":\{"content":\[\{"type":"text","text":"Signed in as tt-account-123/) x 2]



=== TEST 7: a tool inside the toolsets runs: its arguments are checked
--- request eval
"POST /market/mcp\n" . main::call('get_quotes')
--- response_body_like: ^\{"jsonrpc":"2.0","id":2,"result":\{"content":\[\{"type":"text","text":"Invalid arguments for tool get_quotes: .*"isError":true\}\}$



=== TEST 8: set in the http block, it holds for every location that does not say otherwise; "all" is every toolset
--- http_config
    ttai_environment development;
    ttai_env_file $TEST_NGINX_TTAI_ENV_FILE;
    ttai_mcp_sessions SESSIONS 1m snapshot=off;
    ttai_mcp_toolsets orders;
--- config
    location = /mcp {
        ttai_mcp;
    }
    location = /all/mcp {
        ttai_mcp;
        ttai_mcp_toolsets all;
    }
--- request eval
["POST /mcp\n$::List", "POST /all/mcp\n$::List",
 "POST /mcp\n" . main::call('get_quotes')]
--- response_body_like eval
[main::tools('get_session_info', @::Orders), main::tools(@::All),
 qr/^\Q${\ main::unknown(2, 'get_quotes')}\E$/]
