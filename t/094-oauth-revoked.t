# Revoked access tokens: the JWTs /token issues are good by their
# signature and exp alone, so /mcp also looks each one up in the set of
# revoked sign-ins and users (shared memory, filled from the database).
# Over real HTTP: a code redeemed twice, a refresh token reused, /revoke,
# "ttai users revoke" while nginx runs, a reload and a restart of nginx,
# and a set too small for what was revoked, which refuses rather than
# forgets.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Ttai::Util qw(repo_root scratch_dir read_file run_capture wait_until
                  skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_jwt);
use Ttai::OAuth qw(oauth_post oauth_register oauth_sign_in oauth_tokens
                   oauth_claims oauth_mcp);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';
skip_or_fail('sqlite3 is missing: run scripts/bootstrap')
    unless grep { -x "$_/sqlite3" } split /:/, $ENV{PATH};

my $srv = tt_server(scratch_dir('oauth-revoked'), oauth => 1);
my $small;
END { tt_stop($srv) if $srv; tt_stop($small) if $small }

my $client = oauth_register($srv);
ok $client, 'a public client registers';

# a sign-in's tokens, or a failed test and {}
sub signed_in {
    my ($s, $what) = @_;
    my ($code, $verifier) = oauth_sign_in($s, $client);
    my ($st, $tok) = $code ? oauth_tokens($s, $client, $code, $verifier)
                           : (0, {});
    is $st, 200, "$what: tokens" or diag $verifier;
    return ($tok, $code, $verifier);
}

# the status of tools/list with the token, asked $n times on connections
# of their own, so that both workers answer: one status when all agree
sub mcp_status {
    my ($s, $token, $n) = @_;
    my %seen;
    for (1 .. $n // 6) {
        my ($st, $h) = oauth_mcp($s, $token);
        $st .= ' invalid_token'
            if $st == 401
               && ($h->{'www-authenticate'}[0] // '')
                  =~ /error="invalid_token"/;
        $seen{$st}++;
    }
    return join ',', sort keys %seen;
}

sub refresh {
    my ($s, $r) = @_;
    my ($st, undef, undef, $j) = oauth_post($s, '/token',
        { grant_type => 'refresh_token', refresh_token => $r,
          client_id => $client });
    return ($st, $j);
}

# -- the claim ------------------------------------------------------------------

my ($kept) = signed_in($srv, 'a sign-in that stays');
my $claims = oauth_claims($kept->{access_token});
like $claims->{fam} // '', qr/^[A-Za-z0-9_-]{22}$/,
    'the access token names its sign-in (fam), an opaque id';
is mcp_status($srv, $kept->{access_token}), '200', '/mcp takes it';

# -- RFC 6749 4.1.2: a code redeemed twice --------------------------------------

my ($first, $code, $verifier) = signed_in($srv, 'a sign-in whose code '
                                                . 'comes back');
isnt oauth_claims($first->{access_token})->{fam} // '', $claims->{fam},
    'each sign-in has its own';
is mcp_status($srv, $first->{access_token}), '200',
    'its access token opens /mcp';
my ($st, $j) = oauth_tokens($srv, $client, $code, $verifier);
is $st, 400, 'the code again: 400';
is $j->{error}, 'invalid_grant', 'invalid_grant';
is mcp_status($srv, $first->{access_token}), '401 invalid_token',
    'the access token of its first redemption: 401 invalid_token, on '
    . 'every worker, at once';
is mcp_status($srv, $kept->{access_token}), '200',
    'another sign-in of the same user still opens /mcp';

# -- a rotated refresh token comes back -------------------------------------------

my ($rot) = signed_in($srv, 'a sign-in that rotates');
($st, $j) = refresh($srv, $rot->{refresh_token});
is $st, 200, 'a refresh';
my $rotated = $j;
is oauth_claims($rotated->{access_token})->{fam},
    oauth_claims($rot->{access_token})->{fam},
    'the refreshed access token is of the same sign-in';
is mcp_status($srv, $rotated->{access_token}), '200', 'and opens /mcp';
($st, $j) = refresh($srv, $rot->{refresh_token});
is $j->{error}, 'invalid_grant', 'the old refresh token again: refused';
is mcp_status($srv, $rotated->{access_token}), '401 invalid_token',
    'the access token the family gave last: 401';
is mcp_status($srv, $rot->{access_token}), '401 invalid_token',
    'and the first one: 401';

# -- POST /revoke -------------------------------------------------------------------

my ($rev) = signed_in($srv, 'a sign-in revoked by its client');
is mcp_status($srv, $rev->{access_token}), '200', 'opens /mcp';
($st) = oauth_post($srv, '/revoke', { token => $rev->{refresh_token} });
is $st, 200, '/revoke of its refresh token: 200';
is mcp_status($srv, $rev->{access_token}), '401 invalid_token',
    'its access token: 401';
is mcp_status($srv, $kept->{access_token}), '200',
    'another sign-in still opens /mcp';
($st) = oauth_post($srv, '/revoke', { token => $rev->{refresh_token} });
is $st, 200, '/revoke again: 200, and nothing more to do';

# -- ttai users revoke, while nginx runs ----------------------------------------------

my $user = $claims->{sub};
my $minted = tt_jwt($srv, $user);
my $other = tt_jwt($srv, '5WT99999');
is mcp_status($srv, $minted), '200', 'a token of the user from ttai token';
is mcp_status($srv, $other), '200', 'a token of another user';

sleep 1;    # iat is in seconds: what the revocation covers is earlier
my ($rc, $out) = run_capture("$root/build/ttai", 'users', 'revoke', $user,
                             '--db', $srv->{db});
is $rc, 0, 'ttai users revoke, on the database file' or diag $out;

my $t0 = time;
ok wait_until(5, sub {
        mcp_status($srv, $kept->{access_token}, 2) eq '401 invalid_token' }),
    'the user\'s access token is refused within seconds';
diag sprintf 'refused after %.1f s', time - $t0 if $ENV{TEST_VERBOSE};
is mcp_status($srv, $kept->{access_token}), '401 invalid_token',
    'by every worker';
is mcp_status($srv, $minted), '401 invalid_token',
    'and so is any token of the user issued before';
is mcp_status($srv, $other), '200', 'another user\'s token still opens /mcp';

sleep 1;
my ($again) = signed_in($srv, 'the user signs in again');
is mcp_status($srv, $again->{access_token}), '200',
    'a token issued after the revocation opens /mcp';

# -- a reload keeps the set, and its new workers keep it current ---------------------

kill 'HUP', $srv->{pid};
ok wait_until(10, sub {
        read_file("$srv->{dir}/logs/error.log") =~ /reconfiguring/ }),
    'nginx reloads';
sleep 1;
is mcp_status($srv, $first->{access_token}), '401 invalid_token',
    'after a reload: the code\'s token is still refused';
is mcp_status($srv, $minted), '401 invalid_token',
    'and so is the revoked user\'s';
is mcp_status($srv, $again->{access_token}), '200',
    'the sign-in after the revocation still opens /mcp';

($rc, $out) = run_capture('sqlite3', $srv->{db},
                          "INSERT INTO users (id) VALUES ('5WT77777')");
is $rc, 0, 'a second user' or diag $out;
my $second = tt_jwt($srv, '5WT77777');
is mcp_status($srv, $second), '200', 'whose token opens /mcp';
sleep 1;
($rc, $out) = run_capture("$root/build/ttai", 'users', 'revoke', '5WT77777',
                          '--db', $srv->{db});
is $rc, 0, 'ttai users revoke after the reload' or diag $out;
ok wait_until(5, sub {
        mcp_status($srv, $second, 2) eq '401 invalid_token' }),
    'the new workers refuse that user\'s token within seconds';
is mcp_status($srv, $other), '200', 'and not another user\'s';

# -- a restart: the set is read back from the database ------------------------------

tt_stop($srv);
$srv = tt_server($srv->{dir}, oauth => 1, env => read_file($srv->{env}));

is mcp_status($srv, $first->{access_token}), '401 invalid_token',
    'after a restart: the code\'s token is still refused';
is mcp_status($srv, $rotated->{access_token}), '401 invalid_token',
    'so is the reused family\'s';
is mcp_status($srv, $rev->{access_token}), '401 invalid_token',
    'and the one /revoke revoked';
is mcp_status($srv, $minted), '401 invalid_token',
    'and the revoked user\'s';
is mcp_status($srv, $second), '401 invalid_token',
    'and the user revoked after the reload';
is mcp_status($srv, $again->{access_token}), '200',
    'the sign-in after the revocation still opens /mcp';
is mcp_status($srv, $other), '200', 'and so does the other user\'s token';

# -- a set too small: every token issued until then is refused ----------------------

$small = tt_server(scratch_dir('oauth-revoked-small'), oauth => 1,
                   http => 'ttai_oauth_revoked_zone revoked 32k;');
{
    $client = oauth_register($small);
    my ($tok) = signed_in($small, 'a sign-in on a server with a small set');
    my $else = tt_jwt($small, '5WT99999');
    is mcp_status($small, $tok->{access_token}), '200', 'opens /mcp';

    # more revoked users than 32k hold, as "ttai users revoke" writes them
    ($rc, $out) = run_capture('sqlite3', $small->{db},
        'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n '
        . 'WHERE i < 2000) INSERT INTO oauth_revocations (user_id, '
        . "revoked_at) SELECT 'filler-' || i, unixepoch() FROM n");
    is $rc, 0, '2000 users revoked in the database' or diag $out;

    ok wait_until(5, sub {
            mcp_status($small, $tok->{access_token}, 2)
            eq '401 invalid_token' }),
        'a full set refuses a token it could not tell from a revoked one';
    is mcp_status($small, $else), '401 invalid_token',
        'every token issued before the revocations it could not hold';
    like read_file("$small->{dir}/logs/error.log"),
        qr/ttai_oauth_revoked_zone "revoked" is full/,
        'and the error log says so';

    sleep 1.1;
    my $fresh = tt_jwt($small, '5WT99999');
    is mcp_status($small, $fresh), '200', 'a token issued since opens /mcp';
    ($st, $j) = refresh($small, $tok->{refresh_token});
    is $st, 200, 'so the client refreshes';
    is mcp_status($small, $j->{access_token}), '200',
        'and goes on with the new access token';
}

done_testing;
