# The TastyTrade zone under a flood of what anyone can create: limits
# per client address (dynamic registration) are nodes of their own
# kind, and never take the room of what the zone keeps for a user (the
# access token, the refresh lease, the rate limit's state).  Against the
# mock API, with the smallest zone, so that the flood fills it.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(repo_root scratch_dir http_get skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_health
                        tt_worker);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

# one call a minute per user: the second call shows that the user's
# state was kept, where a fresh one would let it through
my $srv = tt_server(scratch_dir('tt-zone'), oauth => 1, tt_zone => '32k',
                    rate => '1r/m burst=0 wait=0',
                    server => 'set_real_ip_from 127.0.0.1; '
                            . 'real_ip_header X-Forwarded-For;');
END { tt_stop($srv) }

tt_connect($srv, 'alice');
my $jwt = tt_jwt($srv, 'alice');

my ($st, undef, $raw) = tt_worker($srv, $jwt, '/quotes/AAPL');
is $st, 200, "alice's first call: 200" or diag $raw;
is tt_health($srv)->{refreshes}, 1, 'it fetched her access token';

# registrations from many addresses, each with a body that registers
# nothing: the limit per address is looked at before the body is read
sub register_from {
    my ($addr) = @_;
    my ($s) = http_get($srv->{port}, '/register', method => 'POST',
                       body => '{}',
                       headers => [ "X-Forwarded-For: $addr",
                                    'Content-Type: application/json' ]);
    return $s;
}

my %status;
for my $i (1 .. 600) {
    $status{ register_from(sprintf '10.%d.%d.%d', $i >> 16, ($i >> 8) & 255,
                           $i & 255) }++;
}
is_deeply \%status, { 400 => 600 },
    'the registrations from 600 addresses are each looked at (400)';

my $limited = tt_health($srv)->{rate_limited};
($st, undef, $raw) = tt_worker($srv, $jwt, '/quotes/SPY');
like $raw, qr/too many requests to TastyTrade for this user/,
    "alice's rate limit outlived the flood: her next call waits its turn";
is tt_health($srv)->{rate_limited}, $limited + 1, '/health counts it';
is tt_health($srv)->{refreshes}, 1, 'and she needed no second refresh';

# the limit still holds for an address that keeps trying
my @st = map { register_from('10.200.0.1') } 1 .. 12;
is_deeply [ @st[0 .. 9] ], [ (400) x 10 ], 'an address registers 10 at once';
is $st[-1], 429, 'and is then refused';

done_testing;
