# Configuration mistakes stop nginx at load with a message that says what
# to change.  (Debian's nginx writes these to stderr, where a Test::Nginx
# must_die block cannot see them; the .t suites check only that nginx
# dies.)

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(repo_root scratch_dir write_file random_hex nginx_t
                  read_file skip_or_fail);

my $root = repo_root();

skip_or_fail("module not built: run make")
    unless -f "$root/build/nginx/ngx_http_ttai_module.so";

my $dir = scratch_dir('conf-errors');
write_file("$dir/test.env", "JWT_SECRET=" . random_hex(32) . "\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);
my $env = "ttai_env_file $dir/test.env;";

my ($rc, $out) = nginx_t($dir, http => "$env ttai_environment production;",
                         server => 'location /_ttai/ { ttai_admin; }');
isnt $rc, 0, 'ttai_admin with ttai_environment production does not load';
like $out, qr/"ttai_admin" and "ttai_debug" are for development only: they need "ttai_environment development"/,
    'and says why';

($rc, $out) = nginx_t($dir, http => $env,
                      server => 'location /_ttai/ { ttai_admin; }');
isnt $rc, 0, 'ttai_admin in the default environment (production) does not load';

($rc, $out) = nginx_t($dir, http => "$env ttai_environment production;",
                      server => 'location /debug/ { ttai_debug; }');
isnt $rc, 0, 'ttai_debug in production does not load';

($rc, $out) = nginx_t($dir, http => "$env ttai_environment development;",
                      server => 'location /_ttai/ { ttai_admin; }');
is $rc, 0, 'ttai_admin loads in development' or diag $out;

# the conformance suites' fixtures: development only, and by their name
my $zone = 'ttai_mcp_sessions SESSIONS 1m snapshot=off;';
($rc, $out) = nginx_t($dir, http => "$env $zone ttai_environment production;",
                      server => 'location = /mcp { ttai_mcp; '
                              . 'ttai_mcp_fixtures conformance; }');
isnt $rc, 0, 'ttai_mcp_fixtures in production does not load';
like $out, qr/"ttai_mcp_fixtures" is for development only: it needs "ttai_environment development"/,
    'and says why';

($rc, $out) = nginx_t($dir, http => "$env $zone ttai_environment development;",
                      server => 'location = /mcp { ttai_mcp; '
                              . 'ttai_mcp_fixtures everything; }');
isnt $rc, 0, 'unknown fixtures are refused';
like $out, qr/unknown fixtures "everything" in "ttai_mcp_fixtures": the only ones are "conformance"/,
    'and the valid ones are named';

($rc, $out) = nginx_t($dir, http => "$env $zone ttai_environment development;",
                      server => 'location = /mcp { ttai_mcp; '
                              . 'ttai_mcp_fixtures conformance; }');
is $rc, 0, 'ttai_mcp_fixtures loads in development' or diag $out;

($rc, $out) = nginx_t($dir, http => "$env ttai_environment staging;");
isnt $rc, 0, 'an unknown environment is refused';
like $out, qr/invalid value "staging"/, 'and named';

($rc, $out) = nginx_t($dir, http => $env,
                      server => 'location = /health { ttai_health billing; }');
isnt $rc, 0, 'an unknown /health service is refused';
like $out, qr/invalid service "billing", it must be "mcp" or "worker"/,
    'and the valid ones are named';

my %kv = (
    'ttai_kv_zone kv 16k;' => qr/KV zone "kv" is too small: it needs at least 32k/,
    'ttai_kv_zone kv 1m snapshot=off snapshot=off;'
        => qr/invalid or repeated parameter "snapshot=off"/,
    'ttai_kv_zone kv 1m snapshot_interval=500ms;'
        => qr/invalid "snapshot_interval=500ms": the interval is a time of at least 1s/,
    'ttai_kv_zone kv 1m; ttai_kv_zone other 1m;'
        => qr/"ttai_kv_zone" directive is duplicate/,
    'ttai_kv_zone ../kv 1m;' => qr/invalid KV zone name "\.\.\/kv"/,
    'ttai_mcp_sessions s 1m; ttai_mcp_sessions t 1m;'
        => qr/"ttai_mcp_sessions" directive is duplicate/,
    'ttai_mcp_sessions s 1m; ttai_mcp_sessions_per_user 0;'
        => qr/invalid "0": a number of sessions of at least 1, or "off"/,
    'ttai_mcp_sessions s 1m; ttai_mcp_sessions_per_user many;'
        => qr/invalid "many": a number of sessions of at least 1, or "off"/,
    'ttai_mcp_sessions_per_user 4; ttai_mcp_sessions_per_user 8;'
        => qr/"ttai_mcp_sessions_per_user" directive is duplicate/,
    'ttai_kv_zone kv 1m journal=yes;'
        => qr/invalid "journal=yes": the journal is "on" or "off"/,
    'ttai_kv_zone kv 1m journal=on journal=off;'
        => qr/invalid or repeated parameter "journal=off"/,
    'ttai_kv_zone kv 1m snapshot=off journal=on;'
        => qr/KV zone "kv" has "journal=on" but no snapshot: the journal is replayed over one; set "ttai_state_dir" or "snapshot=PATH"/,
    'ttai_mcp_sessions s 1m snapshot=off journal=on;'
        => qr/KV zone "s" has "journal=on" but no snapshot/,
);
for my $directive (sort keys %kv) {
    ($rc, $out) = nginx_t($dir, http => "$env $directive");
    isnt $rc, 0, "refused: $directive";
    like $out, $kv{$directive}, "and the message says why: $directive";
}

($rc, $out) = nginx_t($dir, http => "$env ttai_mcp_sessions s 1m; "
                      . 'ttai_mcp_sessions_per_user off;');
is $rc, 0, 'ttai_mcp_sessions_per_user off loads' or diag $out;

# every parameter at once, either way
for my $journal ('on', 'off') {
    ($rc, $out) = nginx_t($dir, http => "$env ttai_kv_zone kv 1m "
                          . "snapshot=$dir/kv.snapshot snapshot_interval=5s "
                          . "journal=$journal;");
    is $rc, 0, "ttai_kv_zone loads with journal=$journal" or diag $out;
}

my $prod = read_file("$root/conf/prod.conf");
$prod =~ s/#.*$//mg;
unlike $prod, qr/ttai_admin/, 'conf/prod.conf has no admin API';
unlike $prod, qr/ttai_environment\s+development/,
    'conf/prod.conf is not a development configuration';

# TastyTrade's directives
my %tt = (
    'ttai_tastytrade staging;'
        => qr/invalid TastyTrade environment "staging", it must be "mock", "sandbox" or "production"/,
    'ttai_tastytrade mock; ttai_tastytrade sandbox;'
        => qr/"ttai_tastytrade" directive is duplicate/,
    'ttai_tastytrade_rate fast;'
        => qr/invalid rate "fast", it must look like "2r\/s" or "60r\/m"/,
    'ttai_tastytrade_rate 2r/s burst=x;' => qr/invalid parameter "burst=x"/,
    'ttai_tastytrade_rate 2r/s delay=1s;' => qr/invalid parameter "delay=1s"/,
    'ttai_tastytrade_zone tt 4k;'
        => qr/invalid zone size "4k", it must be at least \d+ bytes/,
    'ttai_cache_ttl quotes=5s;'
        => qr/invalid parameter "quotes=5s", it must be quote=, metrics=, chain= or account=/,
    'ttai_cache_ttl quote=soon;' => qr/invalid time in "quote=soon"/,
);

($rc, $out) = nginx_t($dir, http => $env,
                      server => 'location = /x { ttai_oauth login; }');
isnt $rc, 0, 'an unknown OAuth endpoint does not load';
like $out, qr/invalid OAuth endpoint "login", it must be "metadata", "register", "authorize", "callback", "token" or "revoke"/,
    'and the endpoints are named';
for my $conf (sort keys %tt) {
    ($rc, $out) = nginx_t($dir, http => "$env $conf");
    isnt $rc, 0, "\"$conf\" does not load";
    like $out, $tt{$conf}, "\"$conf\": the message says what to change";
}

($rc, $out) = nginx_t($dir, http => "$env ttai_tastytrade_zone tt 1m; "
                      . 'ttai_tastytrade_rate 1r/s burst=0 wait=0; '
                      . 'ttai_cache_ttl quote=1s metrics=2m chain=1h '
                      . 'account=0;',
                      server => 'location /quotes { ttai_worker; }');
is $rc, 0, 'the TastyTrade directives load when right' or diag $out;

# the revoked access tokens: a zone in shared memory, read from the
# database nginx migrates
my $db = "ttai_state_dir $dir/state; ttai_migrations $root/migrations;";
my %revoked = (
    'ttai_oauth_revoked_zone r 16k;'
        => qr/zone "r" is too small: it needs at least 32k/,
    'ttai_oauth_revoked_zone r 1m interval=0;'
        => qr/invalid "interval=0": the interval is a time such as 1s or 500ms/,
    'ttai_oauth_revoked_zone r 1m every=1s;'
        => qr/invalid parameter "every=1s"/,
    'ttai_oauth_revoked_zone r 1m; ttai_oauth_revoked_zone s 1m;'
        => qr/"ttai_oauth_revoked_zone" directive is duplicate/,
    'ttai_oauth_revoked_zone kv 1m; ttai_kv_zone kv 1m;'
        => qr/zone "kv" is already defined/,
);
for my $conf (sort keys %revoked) {
    ($rc, $out) = nginx_t($dir, http => "$env $db $conf");
    isnt $rc, 0, "\"$conf\" does not load";
    like $out, $revoked{$conf}, "\"$conf\": the message says what to change";
}

($rc, $out) = nginx_t($dir, http => "$env ttai_oauth_revoked_zone r 1m;");
isnt $rc, 0, 'a revoked zone without a database does not load';
like $out, qr/"ttai_oauth_revoked_zone" needs the database the revocations are in: set "ttai_db" or "ttai_state_dir"/,
    'and says what it needs';

($rc, $out) = nginx_t($dir, http => "$env ttai_state_dir $dir/bare; "
                      . 'ttai_migrations off; ttai_oauth_revoked_zone r 1m;');
isnt $rc, 0, 'nor with a database that has no revocations table';
like $out, qr/the revoked access tokens could not be read from the database: .*no such table: oauth_revocations/,
    'which it says';

($rc, $out) = nginx_t($dir, http => "$env $db "
                      . 'ttai_oauth_revoked_zone r 1m interval=500ms;');
is $rc, 0, 'ttai_oauth_revoked_zone loads when right' or diag $out;

# ttai_mcp_toolsets: the names it knows, said when another is given
my $mcp = "$env ttai_mcp_sessions s 1m snapshot=off;";
my %toolsets = (
    'ttai_mcp_toolsets market billing;'
        => qr/unknown toolset "billing" in "ttai_mcp_toolsets": the toolsets are "account", "market", "orders", "trading", "agents", or "all"/,
    'ttai_mcp_toolsets Market;' => qr/unknown toolset "Market"/,
    'ttai_mcp_toolsets;'
        => qr/invalid number of arguments in "ttai_mcp_toolsets" directive/,
    'ttai_mcp_toolsets market; ttai_mcp_toolsets orders;'
        => qr/"ttai_mcp_toolsets" directive is duplicate/,
);
for my $conf (sort keys %toolsets) {
    ($rc, $out) = nginx_t($dir, http => $mcp,
                          server => "location /mcp { ttai_mcp; $conf }");
    isnt $rc, 0, "\"$conf\" does not load";
    like $out, $toolsets{$conf}, "\"$conf\": the message says what to change";
}

($rc, $out) = nginx_t($dir, http => "$mcp ttai_mcp_toolsets account;",
                      server => 'location /mcp { ttai_mcp; } '
                              . 'location /m { ttai_mcp; '
                              . 'ttai_mcp_toolsets market orders all; }');
is $rc, 0, 'ttai_mcp_toolsets loads in http and location blocks'
    or diag $out;

# the market-data stream: whose token, and where its values go
($rc, $out) = nginx_t($dir, http => "$env ttai_kv_zone kv 1m; ttai_dxlink on;");
isnt $rc, 0, 'ttai_dxlink without ttai_dxlink_user does not load';
like $out, qr/ttai_dxlink needs ttai_dxlink_user/, 'and says what it needs';

($rc, $out) = nginx_t($dir, http => "$env ttai_dxlink on; "
                      . 'ttai_dxlink_user u;');
isnt $rc, 0, 'nor without the KV cache';
like $out, qr/ttai_dxlink needs the KV cache: set ttai_kv_zone/,
    'which it says';

# trading: its confirmations and audit are in the database
($rc, $out) = nginx_t($dir, http => "$env ttai_trading on;");
isnt $rc, 0, 'ttai_trading on without the database does not load';
like $out, qr/"ttai_trading on" needs the database: add "ttai_d1"/,
    'and says what it needs';

($rc, $out) = nginx_t($dir, http => "$env $db ttai_trading on;");
is $rc, 0, 'with it, it loads' or diag $out;

for my $bad (
    [ 'ttai_trading_limits max_order=lots;',
      qr/invalid number in "max_order=lots"/ ],
    [ 'ttai_trading_limits band=0.1.2;', qr/invalid number in "band=0.1.2"/ ],
    [ 'ttai_trading_limits types=equity,bonds;',
      qr/unknown instrument type in "types=equity,bonds": the types are equity, option and future/ ],
    [ 'ttai_trading_limits speed=9;',
      qr/invalid limit "speed=9": the limits are max_order=, max_day=/ ],
    [ 'ttai_trading_limits band=0.1; ttai_trading_limits band=0.2;',
      qr/"ttai_trading_limits" directive is duplicate/ ],
    [ 'ttai_trading on; ttai_trading_confirm_ttl 1s;',
      qr/"ttai_trading_confirm_ttl" is from 5s to 10m/ ],
    [ 'ttai_trading maybe;', qr/invalid value "maybe" in "ttai_trading"/ ],
    [ 'ttai_agents on;',
      qr/"ttai_agents on" needs "ttai_workflows on" and the database/ ],
    [ 'ttai_workflows on; ttai_agents on; ttai_llm_budget calls=3;',
      qr/ttai_llm_budget takes requests=N and tokens=N, not "calls=3"/ ],
    [ 'ttai_workflows on; ttai_agents on; ttai_llm_budget tokens=many;',
      qr/ttai_llm_budget: "tokens=many" is not a number/ ],
) {
    ($rc, $out) = nginx_t($dir, http => "$env $db $bad->[0]");
    isnt $rc, 0, "$bad->[0] does not load";
    like $out, $bad->[1], 'and says why';
}

($rc, $out) = nginx_t($dir, http => "$env ttai_kv_zone kv 1m; "
                      . 'ttai_dxlink on; ttai_dxlink_user u; '
                      . 'ttai_dxlink_keepalive 1s;');
isnt $rc, 0, 'a keep-alive under 2 s does not load';

($rc, $out) = nginx_t($dir, http => "$env ttai_kv_zone kv 1m; "
                      . 'ttai_dxlink on; ttai_dxlink_user u; '
                      . 'ttai_dxlink_trusted_certificate /nonexistent.pem;');
isnt $rc, 0, 'nor a trusted certificate file that is not there';

done_testing;
