# The market-data feed's worker under valgrind's memcheck: nginx runs
# under it while the feed connects, is asked for symbols by get_greeks,
# get_position_greeks, get_candles, find_strikes_by_delta and get_quotes,
# is closed, dropped, sent malformed frames and messages, goes silent and
# has its token refused once; then nginx stops and memcheck must have
# found no error and no leak of the module's.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use Ttai::Util qw(repo_root scratch_dir read_file free_port wait_until
                  skip_or_fail valgrind_records);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_call);
use Ttai::DXLink qw(dx_conf dx_mock_start dx_mock_stop dx_mock dx_feed
                    dx_ready);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('valgrind is missing: run scripts/bootstrap')
    unless system('valgrind --version >/dev/null 2>&1') == 0;
skip_or_fail('node_modules is missing: run scripts/npm-setup')
    unless -d "$root/node_modules/ws";

my $dir = scratch_dir('dxlink-valgrind');
my $dport = free_port();

my $srv = tt_server($dir, workers => 1, valgrind => 1,
                    http => dx_conf($dport, 'tt-vg', keepalive => 6));
END { tt_stop($srv) if $srv }

my $mock_pid = dx_mock_start($dport, $srv->{mock}, "$dir/dxlink-mock.log");
END { dx_mock_stop($mock_pid) }

sub mock { dx_mock($dport, @_) }
sub ready { dx_ready($srv) }

sub again {
    my ($what) = @_;
    my $n = mock('GET', '/mock/state')->{connections} // 0;
    return wait_until(30, sub {
        (mock('GET', '/mock/state')->{connections} // 0) > $n && ready();
    });
}

tt_connect($srv, 'tt-vg');
my $jwt = tt_jwt($srv, 'tt-vg');
ok wait_until(60, \&ready), 'the feed is ready under valgrind'
    or diag explain dx_feed($srv);

my ($st, $res) = tt_call($srv, $jwt, 'get_position_greeks', {},
                         timeout => 30);
ok !$res->{isError}, 'get_position_greeks answers' or diag explain $res;
my ($opt) = grep { /\d{6}[CP]\d{8}$/ }
            map { $_->{symbol} } @{ $res->{structuredContent}{positions} };
($st, $res) = tt_call($srv, $jwt, 'get_greeks', { symbols => [$opt] },
                      timeout => 30);
ok !$res->{isError}, 'get_greeks answers' or diag explain $res;
($st, $res) = tt_call($srv, $jwt, 'get_candles',
                      { symbol => 'AAPL', period => '5m', count => 5 },
                      timeout => 30);
ok !$res->{isError}, 'get_candles answers' or diag explain $res;
($st, $res) = tt_call($srv, $jwt, 'find_strikes_by_delta',
                      { symbol => 'SPY', delta => -0.3 }, timeout => 30);
ok !$res->{isError}, 'find_strikes_by_delta answers' or diag explain $res;
($st, $res) = tt_call($srv, $jwt, 'get_quotes',
                      { symbols => ['AAPL', 'SPX', $opt] }, timeout => 30);
ok !$res->{isError}, 'get_quotes answers' or diag explain $res;

my $conns = mock('GET', '/mock/state')->{connections};
mock('POST', '/mock/close');
ok again(), 'closed by the server: connected again';
mock('POST', '/mock/close?how=drop');
ok again(), 'dropped: connected again';

for my $what (qw(json data frame)) {
    my $n = dx_feed($srv)->{reconnects};
    mock('POST', "/mock/malformed?what=$what");
    ok wait_until(30, sub { (dx_feed($srv)->{reconnects} // 0) > $n
                            && ready() }),
        "a malformed $what: reset and connected again";
}

mock('POST', '/mock/silence?ms=8000');
ok wait_until(20, sub { !ready() }), 'a silent server is found out';
ok wait_until(40, \&ready), 'and connected again once it speaks';

mock('POST', '/mock/refuse?count=1');
mock('POST', '/mock/close');
ok wait_until(30, sub { mock('GET', '/mock/state')->{refusedAuths} == 1
                        && ready() }),
    'a refused token: renewed, and ready again';

tt_stop($srv);
$srv = undef;

my @records = valgrind_records("$dir/logs/stderr.log");
ok !@records, 'memcheck found no error and no leak' or diag map { @$_ } @records;
unlike read_file("$dir/logs/error.log"), qr/exited on signal/,
    'no worker crashed';

done_testing;
