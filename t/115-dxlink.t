# The market-data stream against the DXLink mock (conf/mock/dxlink.mjs):
# the handshake with the quote token of the operator's user, the
# subscriptions a tool's read asks for and their removal when nobody asks
# any more, the keep-alive both ways, the server closing the connection
# or dropping it (reconnected, subscribed again), a silent server (found
# by the keep-alive timeout, and nothing shown as live meanwhile),
# malformed frames and messages (logged, the connection reset, no
# crash), a token that expires (renewed before it does), a refused token
# (renewed once; refused twice, reported by /health), and the greeks'
# values against the mock's own option prices.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use Test::More;
use Time::HiRes qw(time sleep);
use Ttai::Util qw(repo_root scratch_dir read_file http_get free_port
                  wait_until skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_call);
use Ttai::DXLink qw(dx_conf dx_mock_start dx_mock_stop dx_mock dx_feed
                    dx_ready dx_subscribed);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';
skip_or_fail('node_modules is missing: run scripts/npm-setup')
    unless -d "$root/node_modules/ws";

my $dir = scratch_dir('dxlink');
my $dport = free_port();

my $srv = tt_server($dir, motion => 'dxlink-test',
                    http => dx_conf($dport, 'tt-alice', token_ttl => 12));
END { tt_stop($srv) if $srv }

# the DXLink mock, its values from this server's mock API
my $mock_log = "$dir/dxlink-mock.log";
my $mock_pid = dx_mock_start($dport, $srv->{mock}, $mock_log);
END { dx_mock_stop($mock_pid) }

sub mock { dx_mock($dport, @_) }
sub feed { dx_feed($srv) }
sub ready { dx_ready($srv) }
sub subscribed { dx_subscribed($dport, @_) }

sub errors { read_file("$srv->{dir}/logs/error.log") }

ok wait_until(10, sub { mock('GET', '/mock/state')->{clients} }),
    'the DXLink mock is up' or diag read_file($mock_log);

my $jwt = tt_jwt($srv, 'tt-alice');

# -- before the user is connected: no token, nothing shown ---------------

ok wait_until(10, sub { (feed()->{state} // '') eq 'token' }),
    '/health says the feed waits for its quote token';
my ($st, $res) = tt_call($srv, $jwt, 'get_greeks',
                         { symbols => ['AAPL  261218C00150000'] });
ok $res->{isError}, 'get_greeks without a stream is an error';
like $res->{content}[0]{text}, qr/no live greeks: the market-data stream is/,
    'saying the stream is not there';

# -- the handshake ---------------------------------------------------------

tt_connect($srv, 'tt-alice');
ok wait_until(30, \&ready), 'the feed becomes ready once the user is '
                            . 'connected' or diag explain feed();
my $state = mock('GET', '/mock/state');
my $client = $state->{clients}[0] // {};
is $client->{user}, 'tt-alice', 'it authorized with the quote token of '
                                . 'ttai_dxlink_user';
is $client->{keepaliveTimeout}, 4, 'SETUP asked for the configured '
                                    . 'keep-alive';
is_deeply [sort keys %{ $client->{fields} // {} }],
          [qw(Candle Greeks Profile Quote Summary Trade)],
          'FEED_SETUP asked for the six event types';
unlike errors(), qr/qt\.[A-Za-z0-9_-]{20,}/, 'no quote token in the log';

# -- subscriptions by demand, and the greeks' values ------------------------

($st, $res) = tt_call($srv, $jwt, 'get_option_chain', { symbol => 'AAPL' });
my $exp = $res->{structuredContent}{expirations}[0];
my @strikes = @{ $exp->{strikes} // [] };
my $mid = $strikes[int(@strikes / 2)];
my ($call, $put) = ($mid->{call}, $mid->{put});
ok $call && $put, "the chain gives a call and a put ($call, $put)";
(my $call_dx = $mid->{call_streamer} // '') =~ s/^\s+//;

my $t0 = time;
($st, $res) = tt_call($srv, $jwt, 'get_greeks', { symbols => [$call, $put] });
my $took = time - $t0;
ok !$res->{isError}, 'get_greeks answers' or diag explain $res;
my %g = map { $_->{symbol} => $_ } @{ $res->{structuredContent}{greeks} };
is_deeply $res->{structuredContent}{missing}, [], 'with nothing missing';
note sprintf 'the first get_greeks of new symbols took %.2f s', $took;

my ($gc, $gp) = ($g{$call} // {}, $g{$put} // {});
ok $gc->{delta} > 0 && $gc->{delta} < 1, "the call's delta is in (0, 1): "
                                         . ($gc->{delta} // 'none');
ok $gp->{delta} < 0 && $gp->{delta} > -1, "the put's delta is in (-1, 0): "
                                          . ($gp->{delta} // 'none');
ok abs($gc->{delta} - $gp->{delta} - 1) < 0.05,
    'call delta - put delta is about 1 (no dividends in the model)';
ok $gc->{gamma} > 0 && abs($gc->{gamma} - $gp->{gamma}) < 1e-3,
    'gamma is positive and the same for the call and the put';
ok $gc->{vega} > 0 && abs($gc->{vega} - $gp->{vega}) < 1e-3,
    'and so is vega';
ok $gc->{theta} < 0, 'the call loses value each day';
ok $gc->{iv} > 5 && $gc->{iv} < 100, "IV is a plausible percent: $gc->{iv}";
ok $gc->{age_seconds} < 5, 'the greeks are fresh';

($st, $res) = tt_call($srv, $jwt, 'get_quotes', { symbols => [$call] });
my $q = $res->{structuredContent}{quotes}[0] // {};
my $mark = $q->{mark} // $q->{mid} // $q->{price};
ok defined $mark && abs($gc->{theo_price} - $mark) <= 0.06,
    "the model's price agrees with the REST quote's mark "
    . "($gc->{theo_price} and " . ($mark // 'none') . ')';

ok subscribed($call_dx) == 5, "the call is subscribed, for the five types"
    or diag explain mock('GET', '/mock/state');

# the chain with greeks beside its strikes, the same as get_greeks'
($st, $res) = tt_call($srv, $jwt, 'get_option_chain',
                      { symbol => 'AAPL', strikes_around => 3,
                        include_greeks => JSON::PP::true() });
my @ks = @{ $res->{structuredContent}{expirations}[0]{strikes} // [] };
is scalar(@ks), 6, 'get_option_chain include_greeks: the strikes shown'
    or diag explain $res;
ok !(grep { !defined $_->{call_delta} || !defined $_->{put_delta}
            || $_->{call_delta} <= 0 || $_->{put_delta} >= 0
            || !($_->{call_iv} > 0) } @ks),
    'each with a call delta above 0, a put delta below and an IV';
ok !(grep { $ks[$_]{call_delta} > $ks[$_ - 1]{call_delta} } 1 .. $#ks),
    'call deltas fall as strikes rise';
like $res->{content}[0]{text},
     qr/ C AAPL +\d{6}C\d{8} d 0\.\d\d iv [\d.]+%  P AAPL +\d{6}P\d{8} d -0\./,
    'and the text shows them';
# one of the strikes shown, asked of get_greeks: the two agree
my $shown = $ks[2] // {};
($st, $res) = tt_call($srv, $jwt, 'get_greeks',
                      { symbols => [$shown->{call} // 'none'] });
my $g2 = $res->{structuredContent}{greeks}[0] // {};
ok defined $g2->{delta} && defined $shown->{call_delta}
   && abs($shown->{call_delta} - $g2->{delta}) < 0.05,
    "the chain's delta of $shown->{call} agrees with get_greeks'"
    or diag explain [$shown, $res];

# the strike nearest a delta
for my $case (['SPY', -0.30, 'put', {}], ['AAPL', 0.25, 'call', { dte => 60 }]) {
    my ($sym, $target, $type, $more) = @$case;
    ($st, $res) = tt_call($srv, $jwt, 'find_strikes_by_delta',
                          { symbol => $sym, delta => $target, %$more });
    my $sc = $res->{structuredContent} // {};
    my @m = @{ $sc->{strikes} // [] };
    my ($near) = grep { $_->{nearest} } @m;
    ok !$res->{isError} && $near && $sc->{type} eq $type,
        "find_strikes_by_delta $sym $target: a $type" or diag explain $res;
    ok !(grep { abs($_->{delta} - $target) < abs($near->{delta} - $target) }
         @m), 'the one marked is the nearest of those shown';
    ok $type eq 'put' ? !(grep { $_->{delta} >= 0 } @m)
                      : !(grep { $_->{delta} <= 0 } @m),
        'every delta of the right sign';
    ok abs($near->{delta} - $target) < 0.1, "and near the target: "
                                            . $near->{delta};
}
($st, $res) = tt_call($srv, $jwt, 'find_strikes_by_delta',
                      { symbol => 'SPY', delta => 0.3, dte => 30,
                        expiration => '2030-01-18' });
like $res->{content}[0]{text}, qr/expiration or dte, not both/,
    'find_strikes_by_delta: a date and a dte are refused';

# bars from Candle events: the history at once, then the forming one
($st, $res) = tt_call($srv, $jwt, 'get_candles',
                      { symbol => 'AAPL', period => '5m', count => 12 });
my @bars = @{ $res->{structuredContent}{bars} // [] };
is scalar(@bars), 12, 'get_candles: the bars asked for' or diag explain $res;
ok !(grep { !($_->{high} >= $_->{open} && $_->{high} >= $_->{close}
              && $_->{low} <= $_->{open} && $_->{low} <= $_->{close}) }
     @bars), 'each bar\'s high and low hold its open and close';
my @times = map { $_->{time} } @bars;
is_deeply \@times, [sort @times], 'oldest first';
is scalar(grep { /:(00|05|10|15|20|25|30|35|40|45|50|55):00Z$/ } @times), 12,
    'each on a 5-minute boundary';
($st, $res) = tt_call($srv, $jwt, 'get_candles',
                      { symbol => 'SPY', count => 3 });
is scalar(@{ $res->{structuredContent}{bars} // [] }), 3,
    'daily bars by default' or diag explain $res;
like $res->{content}[0]{text}, qr/^SPY, 1d bars/m, 'saying so';

# get_quotes answers from the stream what it carries: stocks, an index
# (trades only), options
($st, $res) = tt_call($srv, $jwt, 'get_quotes',
                      { symbols => ['AAPL', 'SPX', $call] });
my @q = @{ $res->{structuredContent}{quotes} // [] };
is scalar(@q), 3, 'get_quotes answers for a stock, an index and an option'
    or diag explain $res;
is_deeply [map { $_->{source} // 'rest' } @q], [qw(stream stream stream)],
    'each from the stream';
ok !(grep { !($_->{price} > 0) || $_->{age_seconds} > 5 } @q),
    'with a price, fresh';
like $res->{content}[0]{text}, qr/^SPX [\d.]+  bid - \/ ask -  .*live/m,
    'an index has trades, no bid or ask';

# -- keep-alive -------------------------------------------------------------

ok wait_until(6, sub { (mock('GET', '/mock/state')->{clients}[0]
                        {keepalives} // 0) >= 1 }),
    'ttai sends KEEPALIVE within half the timeout';

# -- the server closes: reconnected, subscribed again -----------------------

my $conns = mock('GET', '/mock/state')->{connections};
my $recon = feed()->{reconnects};
mock('POST', '/mock/close?how=close');
ok wait_until(10, sub { (mock('GET', '/mock/state')->{connections} // 0)
                        > $conns && ready() }),
    'a close frame: ttai connects again and the feed is ready';
ok feed()->{reconnects} > $recon, '/health counts the reconnection';
ok wait_until(5, sub { subscribed($call_dx) == 5 }),
    'and the symbols still asked for are subscribed again';

$conns = mock('GET', '/mock/state')->{connections};
mock('POST', '/mock/close?how=drop');
ok wait_until(10, sub { (mock('GET', '/mock/state')->{connections} // 0)
                        > $conns && ready() }),
    'a dropped connection: connected again';
like errors(), qr/market-data stream: the server closed/,
    'the log says the server closed the connection';

# -- a silent server: found by the keep-alive timeout ----------------------

mock('POST', '/mock/silence?ms=7000');
ok wait_until(8, sub { !ready() }), 'a silent server is found out'
    or diag explain feed();
($st, $res) = tt_call($srv, $jwt, 'get_greeks', { symbols => [$call] });
ok $res->{isError}, 'meanwhile get_greeks shows nothing as live';
like $res->{content}[0]{text}, qr/market-data stream is (?!ready)/,
    'and says what the stream is doing';
like errors(), qr/went silent/, 'the log says the server went silent';
ok wait_until(20, \&ready), 'once it speaks again, the feed is ready';
($st, $res) = tt_call($srv, $jwt, 'get_greeks', { symbols => [$call] });
ok !$res->{isError} && $res->{structuredContent}{greeks}[0]{age_seconds} < 5,
    'and the greeks are live again' or diag explain $res;

# -- malformed frames and messages ------------------------------------------

for my $case (['json', qr/a message that is not DXLink's/],
              ['data', qr/FEED_DATA of Quote does not match/],
              ['frame', qr/the websocket failed|the server closed/]) {
    my ($what, $re) = @$case;
    $recon = feed()->{reconnects};
    mock('POST', "/mock/malformed?what=$what");
    ok wait_until(10, sub { (feed()->{reconnects} // 0) > $recon && ready() }),
        "a malformed $what: the connection is reset and made again";
    like errors(), $re, "the log says why ($what)";
}
unlike errors(), qr/exited on signal|\[alert\]/, 'no worker crashed';

# nobody asked for the call since the silence: past ttai_dxlink_idle
ok wait_until(20, sub { subscribed($call_dx) == 0 }),
    'a symbol nobody asked for in ttai_dxlink_idle is unsubscribed';

# -- the token: renewed before it expires, refused once, refused twice -----

# tokens last 12 s here: well past that, a new connection is authorized
sleep 14;
my $refused = mock('GET', '/mock/state')->{refusedAuths};
$conns = mock('GET', '/mock/state')->{connections};
mock('POST', '/mock/close');
ok wait_until(10, sub { (mock('GET', '/mock/state')->{connections} // 0)
                        > $conns && ready() }),
    'after the first token would have expired, a new connection is '
    . 'authorized';
is mock('GET', '/mock/state')->{refusedAuths}, $refused,
    'with a renewed token: nothing was refused';

mock('POST', '/mock/refuse?count=1');
mock('POST', '/mock/close');
ok wait_until(15, sub { mock('GET', '/mock/state')->{refusedAuths}
                        == $refused + 1 && ready() }),
    'a refused token is renewed once, and the feed is ready again';

mock('POST', '/mock/refuse?count=2');
mock('POST', '/mock/close');
ok wait_until(15, sub { (feed()->{status} // '') eq 'fail' }),
    'refused twice: /health reports the feed' or diag explain feed();
my ($hst, undef, $hbody) = http_get($srv->{port}, '/health');
is $hst, 503, '/health answers 503';
like $hbody, qr/"dxlink":\{"status":"fail","error":"[^"]*refused/,
    'naming the refusal';
($st, $res) = tt_call($srv, $jwt, 'get_greeks', { symbols => [$call] });
like $res->{content}[0]{text}, qr/stream is refused/,
    'and get_greeks says so';
unlike errors(), qr/exited on signal/, 'no worker crashed';

# -- the cap: a server that carries at most 2 symbols --------------------

my $dport2 = free_port();
my $srv2 = tt_server(scratch_dir('dxlink-cap'),
                     http => dx_conf($dport2, 'tt-cap', max => 2));
END { tt_stop($srv2) if $srv2 }
my $mock2 = dx_mock_start($dport2, $srv2->{mock}, "$dir/dxlink-mock2.log");
END { dx_mock_stop($mock2) }
tt_connect($srv2, 'tt-cap');
ok wait_until(30, sub { dx_ready($srv2) }), 'a second feed, capped at 2';
my $jwt2 = tt_jwt($srv2, 'tt-cap');
($st, $res) = tt_call($srv2, $jwt2, 'get_quotes',
                      { symbols => [qw(AAPL MSFT SPY QQQ)] });
is scalar(@{ $res->{structuredContent}{quotes} // [] }), 4,
    'get_quotes still answers every symbol' or diag explain $res;
ok wait_until(5, sub { (dx_feed($srv2)->{over_cap} // 0) == 2 }),
    '/health counts the two left out' or diag explain dx_feed($srv2);
my $subs = (dx_mock($dport2, 'GET', '/mock/state')->{clients} // [])->[0]
           {subscriptions} // [];
my %syms = map { $_->{symbol} => 1 } @$subs;
is scalar(keys %syms), 2, 'and the connection carries 2 symbols';

done_testing;
