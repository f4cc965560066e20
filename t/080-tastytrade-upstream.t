# TastyTrade through the module's subrequests, end to end against the
# mock API of conf/mock/ (njs, in the same nginx), exercised through the
# worker service's GET /quotes: the KV cache, tokens sealed at rest and
# refreshed early or after a 401 (one refresh per user across workers),
# revoked grants, the wrong key, URL-encoding, upstream failures, the
# response-size limit and the rate limit.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time);
use Ttai::Util qw(repo_root scratch_dir read_file write_file random_hex
                  free_port closed_port wait_until skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_health
                        tt_worker mock_hits mock_access_token);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my @servers;
END { tt_stop($_) for @servers }

# -- the cache, the refresh, the seed's worker test ------------------------

my $srv = tt_server(scratch_dir('tt-main'));
push @servers, $srv;

my $rt = tt_connect($srv, 'alice');
my $jwt = tt_jwt($srv, 'alice');

my ($st, $q, $raw) = tt_worker($srv, $jwt, '/quotes/AAPL');
is $st, 200, 'GET /quotes/AAPL on a KV miss answers 200' or diag $raw;
is $q->{symbol}, 'AAPL', 'it is the AAPL quote';
is $q->{price}, 150, 'price is TastyTrade\'s "last", as a number';
is $q->{bid}, 149.95, 'bid is a number';
is $q->{ask}, 150.05, 'ask is a number';

is mock_hits($srv, qr{POST /oauth/token .* 200 }), 1,
    'the stored refresh token was exchanged once for an access token';
is mock_hits($srv, qr{GET /market-data/by-type\?equity=AAPL }), 1,
    'TastyTrade was asked for the quote once';

my $h0 = tt_health($srv);
($st, $q) = tt_worker($srv, $jwt, '/quotes/AAPL');
is $st, 200, 'a second call within the TTL answers 200';
is $q->{price}, 150, 'with the same quote';
is mock_hits($srv, qr{GET /market-data/}), 1,
    'and makes no upstream request';
my $h1 = tt_health($srv);
is $h1->{cache_hits} - $h0->{cache_hits}, 1, '/health counts one cache hit';
is $h1->{requests}, $h0->{requests}, 'and no new request to TastyTrade';

($st, $q) = tt_worker($srv, $jwt, '/quotes/SPY');
my $h2 = tt_health($srv);
is $h2->{cache_misses} - $h1->{cache_misses}, 1,
    'another symbol is a cache miss';
is $h2->{requests} - $h1->{requests}, 1, 'and one request to TastyTrade';
is $h2->{refreshes}, 1, 'the access token is reused: still one refresh';

# symbols that need URL-encoding
($st, $q, $raw) = tt_worker($srv, $jwt,
    '/quotes?symbols=%2FESZ5,AAPL%20%20261218C00150000,BTC%2FUSD');
is $st, 200, 'a future, an OCC option and a crypto pair answer 200'
    or diag $raw;
is_deeply [ map { $_->{symbol} } @{ $q->{quotes} // [] } ],
    [ '/ESZ5', 'AAPL  261218C00150000', 'BTC/USD' ],
    'all three come back, in order, as asked';
is_deeply $q->{missing}, [], 'none is missing';
is mock_hits($srv, qr{future=%2FESZ5}), 1,
    'the future\'s slash went to TastyTrade as %2F';
is mock_hits($srv, qr{equity-option=AAPL%20%20261218C00150000}), 1,
    'the option\'s spaces went as %20';

# -- tokens at rest ---------------------------------------------------------

my $db = read_file($srv->{db});
$db .= read_file("$srv->{db}-wal") if -f "$srv->{db}-wal";
ok index($db, $rt) < 0, 'the refresh token is not in the database in clear';
unlike $db, qr/at\.eyJ/, 'no access token is there in clear either';
like $db, qr/alice/, 'while the user is (the check reads the right file)';
unlike read_file("$srv->{dir}/logs/error.log"), qr/\Q$rt\E|at\.eyJ/,
    'no token reaches the error log';

# -- an expired token: 401, refresh, one retry ------------------------------

my $expired = mock_access_token($srv, 'bob', int(time) - 60);
ok $expired, 'the mock mints an expired access token';
tt_connect($srv, 'bob', access => $expired, expires_in => 900);
my $jb = tt_jwt($srv, 'bob');
my $r401 = mock_hits($srv, qr{" 401 });
my $ref = tt_health($srv)->{refreshes};

($st, $q, $raw) = tt_worker($srv, $jb, '/quotes/QQQ');
is $st, 200, 'a token TastyTrade rejects is refreshed and the call retried'
    or diag $raw;
is $q->{symbol}, 'QQQ', 'and it answers the quote';
is mock_hits($srv, qr{" 401 }) - $r401, 1, 'TastyTrade answered 401 once';
is tt_health($srv)->{refreshes} - $ref, 1, 'then one refresh ran';

# a token that expires within a minute is refreshed before it is used
my $soon = mock_access_token($srv, 'carol', int(time) + 30);
tt_connect($srv, 'carol', access => $soon, expires_in => 30);
my $jc = tt_jwt($srv, 'carol');
$r401 = mock_hits($srv, qr{" 401 });
$ref = tt_health($srv)->{refreshes};
($st) = tt_worker($srv, $jc, '/quotes/MSFT');
is $st, 200, 'a token 30 s from expiry works';
is tt_health($srv)->{refreshes} - $ref, 1, 'it was refreshed first';
is mock_hits($srv, qr{" 401 }) - $r401, 0, 'so TastyTrade never said 401';

# -- a revoked grant ---------------------------------------------------------

tt_connect($srv, 'dave', revoked => 1);
my $jd = tt_jwt($srv, 'dave');
my $refused = tt_health($srv)->{refresh_refused};
($st, $q, $raw) = tt_worker($srv, $jd, '/quotes/TSLA');
is $st, 502, 'a revoked refresh token: the worker answers 502';
like $q->{error}, qr/Reconnect TastyTrade/, 'saying to reconnect TastyTrade';
like $q->{error}, qr/ttai tastytrade connect --user dave/,
    'with the command to run';
is tt_health($srv)->{refresh_refused} - $refused, 1, '/health counts it';

# -- no account, the wrong key ----------------------------------------------

($st, $q) = tt_worker($srv, tt_jwt($srv, 'nobody'), '/quotes/NVDA');
is $st, 502, 'a user with no TastyTrade account: 502';
like $q->{error}, qr/no TastyTrade account is connected for user nobody/,
    'saying so';

my $other = "$srv->{dir}/other.env";
write_file($other, "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n", 0600);
tt_connect($srv, 'erin', env_file => $other);
($st, $q, $raw) = tt_worker($srv, tt_jwt($srv, 'erin'), '/quotes/AMZN');
is $st, 502, 'tokens sealed under another key: 502';
like $q->{error}, qr/cannot be decrypted with this server's TOKEN_ENCRYPTION_KEY/,
    'a clear error, not garbage';
like read_file("$srv->{dir}/logs/error.log"),
    qr/stored TastyTrade refresh_token of user "erin" does not decrypt/,
    'and the log says which user, never the value';

# -- one refresh per user, whatever the number of calls and workers ---------

tt_connect($srv, 'frank');
my $jf = tt_jwt($srv, 'frank');
$ref = tt_health($srv)->{refreshes};
my @kids;
for my $sym (qw(IBM ORCL INTC AMD CSCO ADBE CRM NFLX)) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my ($s) = tt_worker($srv, $jf, "/quotes/$sym");
        POSIX::_exit($s == 200 ? 0 : 1);
    }
    push @kids, $pid;
}
my $ok = 0;
for (@kids) { waitpid $_, 0; $ok++ if $? == 0 }
is $ok, 8, '8 concurrent calls with no access token all answer 200';
is tt_health($srv)->{refreshes} - $ref, 1,
    'with one refresh between them, across two workers';

($st) = tt_worker($srv, 'not-a-jwt', '/quotes/AAPL');
is $st, 401, 'the worker service wants the user\'s JWT';

# -- upstream failures: clear errors in bounded time, no crash ---------------

my $fdir = scratch_dir('tt-faults');
my ($fport, $closed) = (free_port(), closed_port());
my $hole = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Listen => 1, Proto => 'tcp')
    or die "listen: $!";
my $hport = $hole->sockport;
write_file("$fdir/big.json", '{"data":{"items":[' . ('"x",' x 40000)
                             . '"x"]}}');

(my $loc = read_file("$root/conf/tastytrade/location.conf"))
    =~ s/proxy_read_timeout 15s;/proxy_read_timeout 2s;/;
my $faults = tt_server($fdir,
    upstream => sub { "server 127.0.0.1:$fport;" },
    location => $loc,
    ports => [ \$fport ],
    http => sub { <<"CONF" });
    ttai_tastytrade_max_body 64k;
    server {
        listen 127.0.0.1:$fport;
        default_type application/json;
        location = /oauth/token {
            return 200 '{"access_token":"fault-at","token_type":"Bearer","expires_in":900}';
        }
        location = /market-data/by-type {
            if (\$arg_equity = E500) {
                return 500 '{"error":{"code":"internal_error","message":"boom"}}';
            }
            if (\$arg_equity = E502) {
                rewrite ^ /e502 last;
            }
            if (\$arg_equity = BADJSON) {
                return 200 'this is not JSON';
            }
            if (\$arg_equity = SLOW) {
                rewrite ^ /slow last;
            }
            if (\$arg_equity = BIG) {
                rewrite ^ /big.json last;
            }
            return 404 '{"error":{"code":"record_not_found","message":"no"}}';
        }
        location = /e502 {
            proxy_pass http://127.0.0.1:$closed;
        }
        location = /slow {
            proxy_pass http://127.0.0.1:$hport;
        }
        location = /big.json {
            alias $fdir/big.json;
        }
    }
CONF
push @servers, $faults;
tt_connect($faults, 'gina', refresh => 'any-refresh-token');
my $jg = tt_jwt($faults, 'gina');

my @cases = (
    [ E500 => qr/TastyTrade answered 500/, 'a 500' ],
    [ E502 => qr/TastyTrade answered 502/, 'a 502' ],
    [ BADJSON => qr/could not read|not JSON|not valid JSON/i, 'invalid JSON' ],
    [ SLOW => qr/did not answer in time/, 'a timeout' ],
    [ BIG => qr/larger than the 65536-byte limit/, 'an oversized answer' ],
);
for my $c (@cases) {
    my ($sym, $re, $what) = @$c;
    my $t0 = time;
    ($st, $q, $raw) = tt_worker($faults, $jg, "/quotes/$sym", timeout => 20);
    my $took = time - $t0;
    isnt $st, 200, "$what is not passed off as a quote";
    like $q->{error} // $raw, $re, "$what gets a clear message";
    cmp_ok $took, '<', 10, "$what is answered in bounded time";
}

my $down = tt_server(scratch_dir('tt-down'),
                     upstream => "server 127.0.0.1:$closed;");
push @servers, $down;
tt_connect($down, 'hank', refresh => 'any-refresh-token');
($st, $q) = tt_worker($down, tt_jwt($down, 'hank'), '/quotes/AAPL');
is $st, 502, 'TastyTrade down: 502';
like $q->{error}, qr/could not be reached|did not answer/,
    'saying TastyTrade could not be reached';

unlike read_file("$fdir/logs/error.log"), qr/exited on signal/,
    'no worker crashed';
ok kill(0, $faults->{pid}), 'the server still runs';
($st) = tt_worker($faults, $jg, '/quotes/E500');
isnt $st, 0, 'and still answers';

# -- the rate limit ----------------------------------------------------------

my $lim = tt_server(scratch_dir('tt-limit'), rate => '1r/s burst=0 wait=0');
push @servers, $lim;
tt_connect($lim, 'ivan');
my $ji = tt_jwt($lim, 'ivan');
($st) = tt_worker($lim, $ji, '/quotes/AAPL');
is $st, 200, 'the first call goes through';
($st, $q) = tt_worker($lim, $ji, '/quotes/SPY');
is $st, 502, 'an immediate second one is over the limit';
like $q->{error}, qr/too many requests to TastyTrade for this user/,
    'and says so';
ok tt_health($lim)->{rate_limited} >= 1, '/health counts it';

my $wait = tt_server(scratch_dir('tt-wait'), rate => '2r/s burst=0 wait=3s');
push @servers, $wait;
tt_connect($wait, 'judy');
my $jj = tt_jwt($wait, 'judy');
my $t0 = time;
my @st = map { (tt_worker($wait, $jj, "/quotes/$_"))[0] } qw(AAPL SPY QQQ);
is_deeply \@st, [ 200, 200, 200 ],
    'calls over the rate wait their turn instead of failing';
cmp_ok time - $t0, '>=', 0.9, 'they were spaced out';
ok tt_health($wait)->{rate_delayed} >= 1, '/health counts the waits';

done_testing;
