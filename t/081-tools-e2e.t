# Every TastyTrade tool through the official MCP SDK client
# (t/e2e/tools-client.mjs) against the mock API, with a user's grant
# stored by "ttai tastytrade connect" and a JWT from "ttai token"; then,
# one-shot over HTTP: one user never sees another's cached account data,
# the worker service down, and the production binding that runs the
# worker's handler in process.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Time::HiRes qw(time);
use Ttai::Util qw(repo_root scratch_dir run_capture write_file free_port
                  skip_or_fail closed_port);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_call
                        tt_health mock_hits);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $have_sdk = -d "$root/node_modules/\@modelcontextprotocol/sdk";

my @servers;
END { tt_stop($_) for @servers }

my $srv = tt_server(scratch_dir('tools'));
push @servers, $srv;
tt_connect($srv, 'alice');
my $jwt = tt_jwt($srv, 'alice');

# -- every tool through the SDK client ---------------------------------------

my @calls = (
    { name => 'get_accounts', arguments => {} },
    { name => 'get_balances', arguments => {} },
    { name => 'get_positions', arguments => {} },
    { name => 'get_quotes', arguments => { symbols =>
        [ 'AAPL', 'SPY', 'SPX', '/ESZ5', 'AAPL  261218C00150000' ] } },
    { name => 'get_option_chain',
      arguments => { symbol => 'AAPL', strikes_around => 5 } },
    { name => 'get_market_metrics', arguments => { symbols => [ 'AAPL' ] } },
    { name => 'search_symbols', arguments => { query => 'AA' } },
    { name => 'get_transactions', arguments => { days => 60 } },
    { name => 'get_orders', arguments => { status => 'live' } },
    { name => 'get_orders', arguments => { status => 'recent' } },
    { name => 'get_market_sessions', arguments => {} },
    { name => 'get_watchlists', arguments => {} },
    { name => 'preview_order', arguments => {
        order_type => 'Limit', price => 149.5, time_in_force => 'Day',
        legs => [ { symbol => 'AAPL', instrument_type => 'Equity',
                    action => 'Buy to Open', quantity => 1 } ] } },
);

SKIP: {
    skip_or_fail('node_modules is missing: run scripts/npm-setup', 1)
        unless $have_sdk;

    my $file = "$srv->{dir}/calls.json";
    write_file($file, JSON::PP->new->encode(\@calls));
    my ($rc, $out) = run_capture('node', "$root/t/e2e/tools-client.mjs",
        '--url', "http://localhost:$srv->{port}/mcp", '--token', $jwt,
        '--calls', $file);
    is $rc, 0, 'tools-client.mjs runs every call' or diag $out;
    my ($json) = $out =~ /^(\{.*^\})/ms;
    my $res = eval { JSON::PP->new->decode($json // '') } // {};

    my %listed = map { $_->{name} => $_ } @{ $res->{tools} // [] };
    for my $name (qw(get_accounts get_balances get_positions get_quotes
                     get_option_chain get_market_metrics search_symbols
                     get_transactions get_orders get_market_sessions
                     get_watchlists preview_order)) {
        my $t = $listed{$name};
        ok $t, "tools/list has $name" or next;
        ok length($t->{description} // '') > 40, "$name is described";
        is $t->{inputSchema}{type}, 'object', "$name has an input schema";
        ok $t->{annotations}{readOnlyHint}, "$name is marked read-only";
    }

    my %r;
    for my $c (@{ $res->{calls} // [] }) {
        my $key = $c->{name} . ($c->{arguments}{status}
                                ? ".$c->{arguments}{status}" : '');
        $r{$key} = $c;
        ok !$c->{error}, "$key: the SDK accepts the answer"
            or diag $c->{error};
        ok !$c->{isError}, "$key: no tool error" or diag $c->{text};
        ok ref $c->{structured} eq 'HASH', "$key: structuredContent";
        ok length($c->{text} // '') > 10, "$key: a text rendering";
    }
    is scalar(keys %r), 13, 'all 13 calls were answered';

    my $s = sub { $r{$_[0]}{structured} // {} };
    is scalar @{ $s->('get_accounts')->{accounts} // [] }, 1,
        'get_accounts: the mock user has one account';
    my $acct = $s->('get_accounts')->{accounts}[0]{number} // '';
    like $acct, qr/^5WT\d{5}$/, 'get_accounts: its number';
    is $s->('get_balances')->{account_number}, $acct,
        'get_balances: the one account is used without asking';
    ok JSON::PP::is_bool($s->('get_balances')->{net_liquidating_value})
        || $s->('get_balances')->{net_liquidating_value} =~ /^-?[\d.]+$/,
        'get_balances: net liquidating value is a number';
    ok((grep { ($_->{quantity} // 0) < 0 }
        @{ $s->('get_positions')->{positions} // [] }),
       'get_positions: a short position has a negative quantity');
    my %q = map { $_->{symbol} => $_ } @{ $s->('get_quotes')->{quotes} // [] };
    is $q{AAPL}{price}, 150, 'get_quotes: AAPL at 150';
    ok exists $q{'/ESZ5'} && exists $q{'AAPL  261218C00150000'}
       && exists $q{SPX}, 'get_quotes: a future, an option and an index';
    my $chain = $s->('get_option_chain');
    ok @{ $chain->{expirations} // [] } >= 1, 'get_option_chain: expirations';
    cmp_ok scalar @{ $chain->{expirations}[0]{strikes} // [] }, '<=', 10,
        'get_option_chain: only the strikes around the price';
    is $chain->{underlying_price}, 150, 'get_option_chain: around 150';
    my $m = $s->('get_market_metrics')->{metrics}[0] // {};
    ok defined $m->{iv_rank} && $m->{iv_rank} > 1 && $m->{iv_rank} <= 100,
        'get_market_metrics: IV rank as a percent';
    ok @{ $s->('search_symbols')->{results} // [] } >= 1,
        'search_symbols: matches';
    ok @{ $s->('get_transactions')->{transactions} // [] } >= 1,
        'get_transactions: transactions';
    ok @{ $s->('get_orders.live')->{orders} // [] } >= 1,
        'get_orders live: orders';
    ok @{ $s->('get_market_sessions')->{sessions} // [] } >= 1,
        'get_market_sessions: sessions';
    ok @{ $s->('get_watchlists')->{watchlists} // [] } >= 1,
        'get_watchlists: watchlists';
    my $p = $s->('preview_order');
    ok JSON::PP::is_bool($p->{placed}) && !$p->{placed},
        'preview_order: placed is false';
    ok defined $p->{buying_power_effect}{change_in_buying_power},
        'preview_order: the buying-power effect';
    ok defined $p->{fee_calculation}{total_fees}, 'preview_order: the fees';
    is mock_hits($srv, qr{POST /accounts/[^/]+/orders }), 0,
        'preview_order never posts an order';
    is mock_hits($srv, qr{POST /accounts/[^/]+/orders/dry-run }), 1,
        'it asks for a dry run';
}

# -- the cache, through tools ------------------------------------------------

# a user who has asked nothing yet: a cold cache, then a warm one
tt_connect($srv, 'cache-user');
my $jc = tt_jwt($srv, 'cache-user');
my $before = mock_hits($srv, qr{GET /accounts/[^/]+/balances });
tt_call($srv, $jc, 'get_balances', {}) for 1 .. 2;
is mock_hits($srv, qr{GET /accounts/[^/]+/balances }) - $before, 1,
    'two get_balances within the TTL: one request';

# -- one user never sees another's data --------------------------------------

tt_connect($srv, 'two-accounts');
my $jb = tt_jwt($srv, 'two-accounts');
my ($st, $r) = tt_call($srv, $jb, 'get_balances', {});
ok $r->{isError}, 'a user with two accounts must say which';
like $r->{content}[0]{text}, qr/5WX00001.*5WX00002/s, 'and is told both';

my (undef, $ra) = tt_call($srv, $jwt, 'get_balances', {});
my $a_acct = $ra->{structuredContent}{account_number};
my $a_nlv = $ra->{structuredContent}{net_liquidating_value};
($st, $r) = tt_call($srv, $jb, 'get_balances',
                    { account_number => '5WX00001' });
ok !$r->{isError}, 'the second user\'s own account answers';
isnt $r->{structuredContent}{net_liquidating_value}, $a_nlv,
    'with its own figures';
($st, $r) = tt_call($srv, $jb, 'get_balances',
                    { account_number => $a_acct });
ok $r->{isError}, 'the first user\'s account number, asked by the second '
                  . 'user, is an error';
unlike(JSON::PP->new->encode($r), qr/\Q$a_nlv\E/,
    'not the first user\'s balances, cached a moment ago');

# -- the worker service down --------------------------------------------------

my $closed = closed_port();
my $down = tt_server(scratch_dir('tools-down'),
                     worker => "server 127.0.0.1:$closed;");
push @servers, $down;
tt_connect($down, 'alice');
my $t0 = time;
($st, $r) = tt_call($down, tt_jwt($down, 'alice'), 'get_quotes',
                    { symbols => [ 'AAPL' ] });
ok $r && $r->{isError}, 'get_quotes with the worker service down: isError';
like $r->{content}[0]{text}, qr/worker service unreachable/,
    'saying "worker service unreachable"';
cmp_ok time - $t0, '<', 5, 'within the timeout';

# -- production: the binding runs the worker's handler, no network hop -------

my $inproc = tt_server(scratch_dir('tools-inproc'),
                       binding => '            ttai_worker;');
push @servers, $inproc;
tt_connect($inproc, 'alice');
my $ji = tt_jwt($inproc, 'alice');
($st, $r) = tt_call($inproc, $ji, 'get_quotes',
                    { symbols => [ 'AAPL', '/ESZ5' ] });
ok !$r->{isError}, 'get_quotes through the in-process binding works'
    or diag explain $r;
is scalar @{ $r->{structuredContent}{quotes} // [] }, 2, 'with both quotes';
is tt_health($inproc)->{worker_requests}, 1, 'through the worker handler';

done_testing;
