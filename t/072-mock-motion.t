# The mock TastyTrade API's moving prices: with $tastytrade_mock_motion
# set (scripts/dev.sh sets it), each equity's price swings 3% either way
# over ten minutes, from a phase its seed gives it; GET /mock/price says
# the price at any time, and the API's quotes follow it.  Without a seed,
# prices stand still (every other suite relies on that).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use Test::More;
use Time::HiRes ();
use Ttai::Util qw(repo_root scratch_dir http_get skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $JSON = JSON::PP->new;
my $moving = tt_server(scratch_dir('mock-motion'), motion => 'seed1',
                       workers => 1);
my $still = tt_server(scratch_dir('mock-still'), workers => 1);
END { tt_stop($_) for grep { $_ } $moving, $still }

sub price {
    my ($srv, $sym, $at) = @_;
    my ($st, undef, $body) = http_get($srv->{mock},
        "/mock/price?symbol=$sym&at=$at");
    is $st, 200, "GET /mock/price $sym at $at";
    return $JSON->decode($body);
}

my $t = 1800000000000;
my @p = map { price($moving, 'AAPL', $t + $_ * 60000) } 0 .. 10;
my @last = map { $_->{last} } @p;
my %distinct = map { $_ => 1 } @last;
cmp_ok scalar(keys %distinct), '>=', 8,
    'a price moves from minute to minute: ' . join(' ', @last);
ok !(grep { $_ < 150 * 0.969 || $_ > 150 * 1.031 } @last),
   'within 3% of AAPL\'s 150.00';
is price($moving, 'AAPL', $t + 60000)->{last}, $last[1],
   'and is the same for the same time: deterministic';
is price($moving, 'AAPL', $t + 600000)->{last}, $last[0],
   'and the same again after a period (ten minutes)';
isnt price($moving, 'MSFT', $t)->{factor}, $p[0]{factor},
   'each symbol has a phase of its own';

# the API's quote now is the price /mock/price gives for now
my ($ast, undef, $tok) = http_get($moving->{mock}, '/mock/access-token',
    method => 'POST', headers => [ 'Content-Type: application/json' ],
    body => '{"sub":"alice"}');
my $at = $JSON->decode($tok // '{}')->{'access-token'};
ok $at, 'a mock access token';
my $now = int(Time::HiRes::time() * 1000);
my ($qst, undef, $qb) = http_get($moving->{mock},
    '/market-data/by-type?equity=AAPL',
    headers => [ "Authorization: Bearer $at", 'User-Agent: ttai-test/1' ]);
is $qst, 200, 'GET /market-data/by-type?equity=AAPL';
my $api = $JSON->decode($qb)->{data}{items}[0]{last};
my $want = price($moving, 'AAPL', $now)->{last};
cmp_ok abs($api - $want), '<=', 0.1,
    "the API's last ($api) is the moving price ($want)";

my $s = price($still, 'AAPL', $t + 120000);
is $s->{last}, '150.0', 'without a seed, the price stands still';
is $s->{factor}, 1, 'its factor is 1';
ok !defined $s->{seed}, 'and there is no seed';

done_testing;
