# Sign-in: ttai as the OAuth 2.1 authorization server of /mcp, chained to
# TastyTrade's OAuth (the mock's authorize page approves at once).  Every
# endpoint over real HTTP, the whole chain, and every refusal: malformed
# registrations, unknown clients and redirect URIs (no open redirect),
# PKCE, CSRF, forged and replayed states, reused and expired codes,
# mismatched redirect URIs, refresh-token rotation and reuse, revocation.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use JSON::PP ();
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64url encode_base64);
use URI;
use URI::Escape qw(uri_escape);
use Ttai::Util qw(repo_root scratch_dir read_file run_capture random_hex
                  skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $JSON = JSON::PP->new->canonical;
my $srv = tt_server(scratch_dir('oauth'), oauth => 1,
                    http => 'ttai_trading on;');
END { tt_stop($srv) if $srv }

my $port = $srv->{port};
my $issuer = "http://localhost:$port";

# one HTTP/1.1 request with the Host the client uses; returns
# (status, headers as a hash of arrays, body)
sub req {
    my ($method, $url, %o) = @_;
    my $u = URI->new($url);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $u->port, Timeout => 15)
        or return (0, {}, '');
    my $body = $o{body} // '';
    my $h = join '', map { "$_\r\n" } @{ $o{headers} // [] };
    $h .= "Content-Length: " . length($body) . "\r\n" if defined $o{body};
    print {$s} "$method " . $u->path_query . " HTTP/1.1\r\n"
             . "Host: localhost:" . $u->port . "\r\n$h"
             . "Connection: close\r\n\r\n$body";
    local $/;
    my $raw = <$s> // '';
    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %hd;
    for (split /\r\n/, $head // '') {
        push @{ $hd{lc $1} }, $2 if /^([^:]+):\s*(.*)$/;
    }
    return ($status // 0, \%hd, $rest // '');
}

sub form { join '&', map { uri_escape($_) . '=' . uri_escape($_[0]{$_}) }
                     sort keys %{ $_[0] } }

sub post_form {
    my ($path, $f, @h) = @_;
    return req('POST', "$issuer$path", body => form($f),
               headers => [ 'Content-Type: application/x-www-form-urlencoded',
                            @h ]);
}

sub json_of { my $j = eval { $JSON->decode($_[0]) }; $j // {} }

sub query_of {
    my %q = URI->new($_[0])->query_form;
    return \%q;
}

sub register {
    my ($meta) = @_;
    my ($st, $h, $b) = req('POST', "$issuer/register",
        body => $JSON->encode($meta),
        headers => [ 'Content-Type: application/json' ]);
    return ($st, json_of($b), $b);
}

sub pkce {
    my $v = encode_base64url(join '', map { chr int rand 256 } 1 .. 32);
    return ($v, encode_base64url(sha256($v)));
}

my $cb = "http://127.0.0.1:9/cb";

# -- metadata ----------------------------------------------------------------

my ($st, $h, $b) = req('GET', "$issuer/.well-known/oauth-authorization-server");
is $st, 200, 'the authorization-server metadata answers 200';
my $meta = json_of($b);
is $meta->{issuer}, $issuer, 'issuer is this origin';
is $meta->{authorization_endpoint}, "$issuer/authorize", 'authorize URL';
is $meta->{token_endpoint}, "$issuer/token", 'token URL';
is $meta->{registration_endpoint}, "$issuer/register", 'registration URL';
is_deeply $meta->{code_challenge_methods_supported}, [ 'S256' ],
    'PKCE S256 only';

($st, $h, $b) = req('GET',
    "$issuer/.well-known/oauth-protected-resource/mcp");
is_deeply json_of($b)->{authorization_servers}, [ $issuer ],
    'the protected resource names ttai as its authorization server';

($st, $h) = req('POST', "$issuer/mcp", body => '{}',
                headers => [ 'Content-Type: application/json' ]);
is $st, 401, '/mcp without a token: 401';
like $h->{'www-authenticate'}[0] // '',
    qr{resource_metadata="\Q$issuer\E/\.well-known/oauth-protected-resource/mcp"},
    'pointing at the metadata';

# -- registration -------------------------------------------------------------

my ($cl, $j);
($st, $j) = register({ redirect_uris => [ $cb ],
                       token_endpoint_auth_method => 'none',
                       client_name => 'Test <Client>' });
is $st, 201, 'a public client registers: 201';
ok $j->{client_id}, 'and gets a client_id';
ok !exists $j->{client_secret}, 'and no secret';
my $public = $j->{client_id};

($st, $j) = register({ redirect_uris => [ 'https://app.example.com/cb' ],
                       client_name => 'Confidential' });
is $st, 201, 'a confidential client registers';
is $j->{token_endpoint_auth_method}, 'client_secret_basic',
    'client_secret_basic by default';
ok length($j->{client_secret} // '') >= 40, 'and gets its secret once';
my ($conf_id, $conf_secret) = ($j->{client_id}, $j->{client_secret});

my %bad = (
    'not JSON' => [ 'invalid_client_metadata', undef ],
    'no redirect_uris' => [ 'invalid_redirect_uri', {} ],
    'http to another host' => [ 'invalid_redirect_uri',
        { redirect_uris => [ 'http://evil.example/cb' ] } ],
    'a javascript: URI' => [ 'invalid_redirect_uri',
        { redirect_uris => [ 'javascript:alert(1)' ] } ],
    'a fragment' => [ 'invalid_redirect_uri',
        { redirect_uris => [ 'https://a.example/cb#x' ] } ],
    'an unknown auth method' => [ 'invalid_client_metadata',
        { redirect_uris => [ $cb ], token_endpoint_auth_method => 'magic' } ],
);
for my $what (sort keys %bad) {
    my ($err, $m) = @{ $bad{$what} };
    ($st, $h, $b) = req('POST', "$issuer/register",
        body => defined $m ? $JSON->encode($m) : '{"redirect_uris":[',
        headers => [ 'Content-Type: application/json' ]);
    is $st, 400, "registration with $what: 400";
    is json_of($b)->{error}, $err, "registration with $what: $err";
}

# -- the whole chain -----------------------------------------------------------

# GET /authorize .. the client's redirect; returns (code, iss, state, verifier)
sub sign_in {
    my (%o) = @_;
    my ($v, $c) = pkce();
    my $state = random_hex(8);
    my $u = URI->new("$issuer/authorize");
    $u->query_form(response_type => 'code', client_id => $o{client} // $public,
                   redirect_uri => $o{redirect} // $cb,
                   code_challenge => $c, code_challenge_method => 'S256',
                   state => $state, scope => $o{scope} // 'mcp:tools',
                   resource => "$issuer/mcp");
    my ($st, $h, $page) = req('GET', "$u");
    return (undef, "authorize: $st") unless $st == 200;
    ${ $o{page} } = $page if $o{page};
    my ($cookie) = ($h->{'set-cookie'}[0] // '') =~ /^(ttai_csrf=[^;]+)/;
    my ($request) = $page =~ /name="request" value="([^"]+)"/;
    my ($csrf) = $page =~ /name="csrf" value="([^"]+)"/;
    ($st, $h) = post_form('/authorize',
        { request => $request, csrf => $csrf,
          decision => $o{decision} // 'approve',
          $o{trade} ? (trade => 1) : () }, "Cookie: $cookie");
    my $loc = $h->{location}[0] // '';
    return (undef, $loc, $state) unless $loc =~ m{/mock/authorize};
    ($st, $h) = req('GET', $loc);
    my $back = $h->{location}[0] // '';
    return (undef, "mock: $st") unless $back =~ m{/callback\?};
    ($st, $h) = req('GET', $back);
    my $to = $h->{location}[0] // '';
    my $q = query_of($to);
    return ($q->{code}, $to, $state, $v, $back);
}

my ($code, $to, $state, $verifier, $callback) = sign_in();
ok $code, 'consent, TastyTrade and the callback lead back with a code'
    or diag $to;
like $to, qr{^\Q$cb\E\?}, 'to the registered redirect URI';
is query_of($to)->{state}, $state, 'with the client\'s state';
is query_of($to)->{iss}, $issuer, 'and the issuer (RFC 9207)';

($st, $h, $b) = req('GET', $callback);
is $st, 400, 'the same callback again (a replayed state): refused';
ok !$h->{location}, 'with a page, not a redirect';

($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => 'x' x 43 });
is $st, 400, 'a wrong PKCE verifier: 400';
is json_of($b)->{error}, 'invalid_grant', 'invalid_grant';

# a guess at the verifier uses the code up: there is no second guess
($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier });
is $st, 400, 'the right verifier after a wrong one: 400';
is json_of($b)->{error}, 'invalid_grant', 'invalid_grant: the code is spent';

($code, $to, $state, $verifier) = sign_in();
ok $code, 'a second sign-in' or diag $to;
($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier });
is $st, 200, 'the right verifier: tokens' or diag $b;
my $tok = json_of($b);
like $tok->{access_token} // '', qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT';
is $tok->{token_type}, 'Bearer', 'of type Bearer';
is $tok->{expires_in}, 3600, 'for an hour';
ok $tok->{refresh_token}, 'and a refresh token';
is $h->{'cache-control'}[0], 'no-store', 'not to be cached';

my ($payload) = ($tok->{access_token} // '') =~ /^[^.]+\.([^.]+)\./;
my $claims = json_of(MIME::Base64::decode_base64url($payload // ''));
like $claims->{sub} // '', qr/^5WT\d{5}$/,
    'its sub is the TastyTrade account number';
is $claims->{aud}, "$issuer/mcp", 'its audience is the /mcp resource';
is $claims->{iss}, $issuer, 'its issuer is ttai';
cmp_ok $claims->{exp} - $claims->{iat}, '==', 3600, 'an hour';

($st, $h, $b) = req('POST', "$issuer/mcp",
    body => '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
            . '{"name":"get_accounts","arguments":{}}}',
    headers => [ "Authorization: Bearer $tok->{access_token}",
                 'Content-Type: application/json',
                 'Accept: application/json, text/event-stream' ]);
is $st, 200, '/mcp takes the token';
like $b, qr/\Q$claims->{sub}\E/,
    'and get_accounts reads the account with the stored TastyTrade tokens';
unlike $b, qr/"isError":true/, 'without an error';

($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier });
is $st, 400, 'the same code again: 400';
is json_of($b)->{error}, 'invalid_grant', 'invalid_grant';

# RFC 6749 4.1.2: a code used twice revokes what it was exchanged for:
# the refresh token, and the access token, which /mcp looks up in the
# set of revoked sign-ins (t/094-oauth-revoked.t has the rest of it)
($st, $h, $b) = post_form('/token', { grant_type => 'refresh_token',
    refresh_token => $tok->{refresh_token}, client_id => $public });
is $st, 400, 'the refresh token of the first redemption: 400' or diag $b;
is json_of($b)->{error}, 'invalid_grant',
    'invalid_grant: the code\'s reuse revoked its tokens';
($st, $h, $b) = req('POST', "$issuer/mcp",
    body => '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    headers => [ "Authorization: Bearer $tok->{access_token}",
                 'Content-Type: application/json',
                 'Accept: application/json, text/event-stream' ]);
is $st, 401, 'and /mcp refuses the access token of the first redemption';
like $h->{'www-authenticate'}[0] // '', qr/error="invalid_token"/,
    'as an invalid token';

# -- refusals along the way -----------------------------------------------------

($code, $to, $state, $verifier) = sign_in();
($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => 'http://127.0.0.1:9/other',
    client_id => $public, code_verifier => $verifier });
is json_of($b)->{error}, 'invalid_grant',
    'a redirect_uri other than the authorization request\'s: invalid_grant';

($code, $to, $state, $verifier) = sign_in();
my ($rc, $out) = run_capture('sqlite3', $srv->{db},
    'UPDATE oauth_codes SET expires_at = 1');
($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier });
is json_of($b)->{error}, 'invalid_grant', 'an expired code: invalid_grant';
like json_of($b)->{error_description} // '', qr/expired/, 'saying so';

($st, $h, $b) = req('GET', "$issuer/authorize?response_type=code&client_id="
                    . "nobody&redirect_uri=" . uri_escape($cb)
                    . "&code_challenge=" . ('a' x 43)
                    . "&code_challenge_method=S256");
is $st, 400, 'an unknown client: 400';
ok !$h->{location}, 'a page, not a redirect';

($st, $h, $b) = req('GET', "$issuer/authorize?response_type=code&client_id="
                    . "$public&redirect_uri="
                    . uri_escape('https://evil.example/steal')
                    . "&code_challenge=" . ('a' x 43)
                    . "&code_challenge_method=S256&state=x");
is $st, 400, 'a redirect URI the client did not register: 400';
ok !$h->{location}, 'never a redirect there (no open redirector)';
like $b, qr/not one the application registered/, 'the page says why';

($st, $h, $b) = req('GET', "$issuer/authorize?response_type=code&client_id="
                    . "$public&redirect_uri=" . uri_escape($cb)
                    . "&state=s1");
is $st, 302, 'no PKCE: back to the client';
is query_of($h->{location}[0])->{error}, 'invalid_request', 'invalid_request';
is query_of($h->{location}[0])->{state}, 's1', 'with its state';

($st, $h, $b) = req('GET', "$issuer/authorize?response_type=code&client_id="
                    . "$public&redirect_uri=" . uri_escape($cb)
                    . "&code_challenge=" . ('a' x 43)
                    . "&code_challenge_method=plain&state=s2");
is query_of($h->{location}[0] // '')->{error}, 'invalid_request',
    'PKCE plain: invalid_request';

# consent page and CSRF
{
    my (undef, $c) = pkce();
    my $u = URI->new("$issuer/authorize");
    $u->query_form(response_type => 'code', client_id => $public,
                   redirect_uri => $cb, code_challenge => $c,
                   code_challenge_method => 'S256', state => 'st');
    my ($st, $h, $page) = req('GET', "$u");
    is $st, 200, 'the consent page';
    like $page, qr/Test &lt;Client&gt;/, 'names the client, escaped';
    unlike $page, qr/Test <Client>/, 'never unescaped';
    like $page, qr/127\.0\.0\.1/, 'shows where it will send you back';
    like $h->{'x-frame-options'}[0] // '', qr/DENY/, 'cannot be framed';
    my ($cookie) = ($h->{'set-cookie'}[0] // '') =~ /^(ttai_csrf=[^;]+)/;
    like $h->{'set-cookie'}[0] // '', qr/HttpOnly/, 'the CSRF cookie is HttpOnly';
    my ($request) = $page =~ /name="request" value="([^"]+)"/;
    my ($csrf) = $page =~ /name="csrf" value="([^"]+)"/;

    ($st) = post_form('/authorize', { request => $request, csrf => $csrf,
                                      decision => 'approve' });
    is $st, 403, 'the form without its cookie (a forged POST): 403';
    ($st, $h) = post_form('/authorize', { request => $request,
                                          csrf => 'x' x 43,
                                          decision => 'approve' },
                          "Cookie: ttai_csrf=" . ('x' x 43));
    is $st, 400, 'a made-up CSRF pair, alike in cookie and form: refused';
    ok !$h->{location}, 'nothing is approved, nowhere redirected';
    ($st, $h) = post_form('/authorize', { request => $request, csrf => $csrf,
                                          decision => 'deny' },
                          "Cookie: $cookie");
    is $st, 302, 'deny: back to the client';
    is query_of($h->{location}[0])->{error}, 'access_denied', 'access_denied';
    is query_of($h->{location}[0])->{state}, 'st', 'with its state';
    ($st) = post_form('/authorize', { request => $request, csrf => $csrf,
                                      decision => 'approve' },
                      "Cookie: $cookie");
    is $st, 400, 'the same form again: expired';
}

($st, $h, $b) = req('GET', "$issuer/callback?code=x&state=" . ('f' x 43));
is $st, 400, 'a forged state at the callback: 400';
ok !$h->{location}, 'and no redirect';

# -- refresh tokens: rotation, reuse, revocation --------------------------------

($code, $to, $state, $verifier) = sign_in();
($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier });
my $r1 = json_of($b)->{refresh_token};
ok $r1, 'a sign-in for rotation' or diag $b;
($st, $h, $b) = post_form('/token', { grant_type => 'refresh_token',
    refresh_token => $r1, client_id => $public });
is $st, 200, 'a refresh token gives new tokens' or diag $b;
my $r2 = json_of($b)->{refresh_token};
ok $r2 && $r2 ne $r1, 'and a new refresh token (rotation)';

($st, $h, $b) = post_form('/token', { grant_type => 'refresh_token',
    refresh_token => $r1, client_id => $public });
is json_of($b)->{error}, 'invalid_grant', 'the old one again: invalid_grant';
($st, $h, $b) = post_form('/token', { grant_type => 'refresh_token',
    refresh_token => $r2, client_id => $public });
is json_of($b)->{error}, 'invalid_grant',
    'and its reuse revoked the whole family: the new one is refused too';

($code, $to, $state, $verifier) = sign_in();
($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier });
my $r3 = json_of($b)->{refresh_token};
($st, $h, $b) = post_form('/revoke', { token => $r3 });
is $st, 200, 'POST /revoke: 200';
($st, $h, $b) = post_form('/token', { grant_type => 'refresh_token',
    refresh_token => $r3, client_id => $public });
is json_of($b)->{error}, 'invalid_grant', 'a revoked refresh token: refused';

($st, $h, $b) = req('POST', "$issuer/revoke", body => '',
    headers => [ 'Content-Type: application/x-www-form-urlencoded' ]);
is $st, 400, 'an empty /revoke body: 400';
like json_of($b)->{error_description} // '', qr/token is required/,
    'saying what is missing';

($st, $h, $b) = post_form('/token', { grant_type => 'password',
    client_id => $public });
is json_of($b)->{error}, 'unsupported_grant_type', 'other grants: refused';

# -- a confidential client authenticates ------------------------------------------

($st, $h, $b) = post_form('/token', { grant_type => 'refresh_token',
    refresh_token => 'x', client_id => $conf_id });
is $st, 401, 'a confidential client without its secret: 401';
is json_of($b)->{error}, 'invalid_client', 'invalid_client';
($st, $h, $b) = post_form('/token', { grant_type => 'refresh_token',
    refresh_token => 'x' },
    'Authorization: Basic ' . encode_base64("$conf_id:$conf_secret", ''));
is json_of($b)->{error}, 'invalid_grant',
    'with it (client_secret_basic) the grant itself is judged';

# -- at rest, and the CLI -----------------------------------------------------------

my $db = read_file($srv->{db});
$db .= read_file("$srv->{db}-wal") if -f "$srv->{db}-wal";
ok index($db, $conf_secret) < 0, 'no client secret in clear';
ok index($db, $r2) < 0, 'no refresh token in clear';
unlike $db, qr/at\.eyJ|rt\.eyJ/, 'no TastyTrade token in clear';

($rc, $out) = run_capture("$root/build/ttai", 'users', 'list',
                          '--db', $srv->{db});
is $rc, 0, 'ttai users list';
like $out, qr/^\Q$claims->{sub}\E\s.*connected/m,
    'shows the user who signed in, connected';

($code, $to, $state, $verifier) = sign_in();
($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier });
my $r4 = json_of($b)->{refresh_token};
($rc, $out) = run_capture("$root/build/ttai", 'users', 'revoke',
                          $claims->{sub}, '--db', $srv->{db});
is $rc, 0, 'ttai users revoke' or diag $out;
($st, $h, $b) = post_form('/token', { grant_type => 'refresh_token',
    refresh_token => $r4, client_id => $public });
is json_of($b)->{error}, 'invalid_grant',
    'after it the user\'s refresh tokens are refused';
($rc, $out) = run_capture("$root/build/ttai", 'users', 'revoke', 'nobody',
                          '--db', $srv->{db});
is $rc, 1, 'revoking an unknown user fails';

# -- every refusal of /token, word for word ----------------------------------------

sub token_refused {
    my ($what, $f, $status, $error, $description, @h) = @_;
    my ($st, $h, $b) = post_form('/token', $f, @h);
    my $j = json_of($b);
    is $st, $status, "$what: $status";
    is $j->{error}, $error, "$what: $error";
    is $j->{error_description}, $description, "$what: \"$description\"";
    if ($status == 401) {
        is $h->{'www-authenticate'}[0], 'Basic realm="ttai"',
            "$what: says how to authenticate";
    }
}

my $bad_client = 'unknown client, or wrong client credentials';

token_refused('no client_id', { grant_type => 'authorization_code',
    code => 'x', redirect_uri => $cb }, 401, 'invalid_client',
    'client_id is required');
token_refused('no code', { grant_type => 'authorization_code',
    client_id => $public }, 400, 'invalid_request', 'code is required');
token_refused('no refresh token', { grant_type => 'refresh_token',
    client_id => $public }, 400, 'invalid_request',
    'refresh_token is required');
token_refused('another grant type', { grant_type => 'client_credentials',
    client_id => $public }, 400, 'unsupported_grant_type',
    'grant_type must be authorization_code or refresh_token');
token_refused('an unknown client', { grant_type => 'refresh_token',
    refresh_token => 'x', client_id => 'nobody' }, 401, 'invalid_client',
    $bad_client);
token_refused('a public client sending a secret', {
    grant_type => 'refresh_token', refresh_token => 'x',
    client_id => $public, client_secret => 'made-up' }, 401,
    'invalid_client', $bad_client);
token_refused('a confidential client with a wrong secret', {
    grant_type => 'refresh_token', refresh_token => 'x' }, 401,
    'invalid_client', $bad_client,
    'Authorization: Basic ' . encode_base64("$conf_id:not-$conf_secret", ''));
token_refused('an unknown code', { grant_type => 'authorization_code',
    code => 'c' x 43, redirect_uri => $cb, client_id => $public,
    code_verifier => 'v' x 43 }, 400, 'invalid_grant',
    'unknown authorization code');

($st, $j) = register({ redirect_uris => [ $cb ],
                       token_endpoint_auth_method => 'none' });
my $other = $j->{client_id};
ok $other, 'a second public client registers';

($code, $to, $state, $verifier) = sign_in();
ok $code, 'a sign-in for the refusals of its code';
token_refused('the code of another client', {
    grant_type => 'authorization_code', code => $code, redirect_uri => $cb,
    client_id => $other, code_verifier => $verifier }, 400,
    'invalid_grant', 'unknown authorization code');
token_refused('another redirect_uri', {
    grant_type => 'authorization_code', code => $code,
    redirect_uri => "$cb/", client_id => $public,
    code_verifier => $verifier }, 400, 'invalid_grant',
    'redirect_uri does not match the authorization request');
token_refused('no redirect_uri', {
    grant_type => 'authorization_code', code => $code,
    client_id => $public, code_verifier => $verifier }, 400,
    'invalid_grant', 'redirect_uri does not match the authorization request');
token_refused('no PKCE verifier', {
    grant_type => 'authorization_code', code => $code, redirect_uri => $cb,
    client_id => $public }, 400, 'invalid_grant',
    'the PKCE code_verifier does not match');

($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier });
is $st, 200, 'the refusals did not use the code up' or diag $b;
my $r5 = json_of($b)->{refresh_token};
my $r5_code = $code;

token_refused('an unknown refresh token', { grant_type => 'refresh_token',
    refresh_token => 'r' x 43, client_id => $public }, 400,
    'invalid_grant', 'unknown refresh token');
token_refused('the refresh token of another client', {
    grant_type => 'refresh_token', refresh_token => $r5,
    client_id => $other }, 400, 'invalid_grant', 'unknown refresh token');

($st, $h, $b) = post_form('/token', { grant_type => 'refresh_token',
    refresh_token => $r5, client_id => $public });
is $st, 200, 'which did not use it up either' or diag $b;
my $r6 = json_of($b)->{refresh_token};

token_refused('a rotated refresh token again', {
    grant_type => 'refresh_token', refresh_token => $r5,
    client_id => $public }, 400, 'invalid_grant',
    'the refresh token was used already; every token of this sign-in is '
    . 'now revoked');
token_refused('the newer token of that sign-in', {
    grant_type => 'refresh_token', refresh_token => $r6,
    client_id => $public }, 400, 'invalid_grant',
    'the refresh token was revoked');

token_refused('the code again', {
    grant_type => 'authorization_code', code => $r5_code,
    redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier }, 400,
    'invalid_grant', 'the authorization code was used already');

($code, $to, $state, $verifier) = sign_in();
token_refused('a wrong PKCE verifier', {
    grant_type => 'authorization_code', code => $code, redirect_uri => $cb,
    client_id => $public, code_verifier => 'w' x 43 }, 400,
    'invalid_grant', 'the PKCE code_verifier does not match');
token_refused('the right verifier after a wrong one', {
    grant_type => 'authorization_code', code => $code, redirect_uri => $cb,
    client_id => $public, code_verifier => $verifier }, 400,
    'invalid_grant', 'the authorization code was used already');

($code, $to, $state, $verifier) = sign_in();
($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier });
my $r8 = json_of($b)->{refresh_token};
ok $r8, 'a sign-in whose code comes back' or diag $b;
token_refused('its code again', {
    grant_type => 'authorization_code', code => $code, redirect_uri => $cb,
    client_id => $public, code_verifier => $verifier }, 400,
    'invalid_grant', 'the authorization code was used already');
token_refused('the refresh token that code gave', {
    grant_type => 'refresh_token', refresh_token => $r8,
    client_id => $public }, 400, 'invalid_grant',
    'the refresh token was revoked');

($code, $to, $state, $verifier) = sign_in();
run_capture('sqlite3', $srv->{db}, 'UPDATE oauth_codes SET expires_at = 1');
token_refused('an expired code', {
    grant_type => 'authorization_code', code => $code, redirect_uri => $cb,
    client_id => $public, code_verifier => $verifier }, 400,
    'invalid_grant', 'the authorization code expired');

($code, $to, $state, $verifier) = sign_in();
($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
    code => $code, redirect_uri => $cb, client_id => $public,
    code_verifier => $verifier });
my $r7 = json_of($b)->{refresh_token};
ok $r7, 'a last sign-in';
run_capture('sqlite3', $srv->{db},
            'UPDATE oauth_refresh_tokens SET expires_at = 1');
token_refused('an expired refresh token', {
    grant_type => 'refresh_token', refresh_token => $r7,
    client_id => $public }, 400, 'invalid_grant',
    'the refresh token expired');

# -- the client's registration binds it -----------------------------------------------

token_refused('a client_secret_basic client with its secret in the form', {
    grant_type => 'refresh_token', refresh_token => 'x',
    client_id => $conf_id, client_secret => $conf_secret }, 401,
    'invalid_client', 'this client registered client_secret_basic: its '
    . 'secret goes in the Authorization header');

($st, $j) = register({ redirect_uris => [ 'https://app.example.com/cb' ],
                       token_endpoint_auth_method => 'client_secret_post' });
is $st, 201, 'a client_secret_post client registers';
my ($post_id, $post_secret) = ($j->{client_id}, $j->{client_secret});
token_refused('a client_secret_post client with its secret in the header', {
    grant_type => 'refresh_token', refresh_token => 'x' }, 401,
    'invalid_client', 'this client registered client_secret_post: its '
    . 'secret goes in the form',
    'Authorization: Basic ' . encode_base64("$post_id:$post_secret", ''));
token_refused('a client_secret_post client with its secret in the form', {
    grant_type => 'refresh_token', refresh_token => 'x',
    client_id => $post_id, client_secret => $post_secret }, 400,
    'invalid_grant', 'unknown refresh token');

($st, $j) = register({ redirect_uris => [ $cb ],
                       token_endpoint_auth_method => 'none',
                       grant_types => [ 'authorization_code' ] });
is_deeply $j->{grant_types}, [ 'authorization_code' ],
    'a client registers without refresh_token';
token_refused('a refresh by a client that did not register it', {
    grant_type => 'refresh_token', refresh_token => 'x',
    client_id => $j->{client_id} }, 400, 'unauthorized_client',
    'this client did not register the refresh_token grant type');

# -- expired rows are deleted by the next sign-in ----------------------------------------

sub count_of {
    my ($rc, $out) = run_capture('sqlite3', $srv->{db}, $_[0]);
    chomp $out;
    return $out;
}

{
    my (undef, $c) = pkce();
    my $u = URI->new("$issuer/authorize");
    $u->query_form(response_type => 'code', client_id => $public,
                   redirect_uri => $cb, code_challenge => $c,
                   code_challenge_method => 'S256', state => 'left');
    ($st) = req('GET', "$u");
    is $st, 200, 'a consent page left unanswered';
}
run_capture('sqlite3', $srv->{db}, 'UPDATE oauth_requests SET expires_at = 1;'
            . ' UPDATE oauth_codes SET expires_at = 1');
my $expired = 'SELECT (SELECT count(*) FROM oauth_requests)'
            . ' || " " || (SELECT count(*) FROM oauth_codes)'
            . ' || " " || (SELECT count(*) FROM oauth_refresh_tokens'
            . '            WHERE expires_at <= unixepoch())';
like count_of($expired), qr/^[1-9]\d* [1-9]\d* [1-9]\d*$/,
    'expired consents, codes and refresh tokens are stored';
($code) = sign_in();
ok $code, 'a sign-in';
is count_of($expired), '0 1 0',
    'after it only its own code is left of them';

# -- trading: a permission of its own, unticked -------------------------------

# the token of a sign-in with %o (sign_in's), and its tools/list
sub trading_sign_in {
    my (%o) = @_;
    my ($code, $to, $state, $verifier) = sign_in(%o);
    my ($st, $h, $b) = post_form('/token', { grant_type => 'authorization_code',
        code => $code // '', redirect_uri => $cb, client_id => $public,
        code_verifier => $verifier // '' });
    my $tok = json_of($b);
    ($st, $h, $b) = req('POST', "$issuer/mcp",
        body => '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
        headers => [ "Authorization: Bearer " . ($tok->{access_token} // ''),
                     'Content-Type: application/json',
                     'Accept: application/json, text/event-stream' ]);
    return ($tok, { map { $_->{name} => 1 }
                    @{ json_of($b)->{result}{tools} // [] } });
}

{
    # "ttai users revoke" above refused every token of this user issued
    # until its second (iat is in seconds): the next ones are issued after
    sleep 1;

    my $page;
    my ($tok, $tools) = trading_sign_in(page => \$page);
    unlike $page, qr/name="trade"/,
        'a client that asks for mcp:tools: no trading box on the page';
    like $page, qr/cannot place, change or cancel orders/, 'and it says so';
    is $tok->{scope}, 'mcp:tools', 'the token: mcp:tools';
    ok $tools->{get_accounts} && !$tools->{place_order},
        'its tools/list has no trading tool';

    ($tok, $tools) = trading_sign_in(scope => 'mcp:tools mcp:trade',
                                     page => \$page);
    like $page, qr/<input type="checkbox" name="trade" value="1">/,
        'a client that asks for mcp:trade: a box of its own';
    unlike $page, qr/name="trade"[^>]*checked/, 'unticked';
    is $tok->{scope}, 'mcp:tools',
        'left unticked: the token does not trade';
    ok !$tools->{place_order}, 'and lists no trading tool';
    is count_of("SELECT trading FROM users WHERE id = '"
                . ($tok->{access_token} ? json_of(MIME::Base64::decode_base64url(
                      ($tok->{access_token} =~ /^[^.]+\.([^.]+)\./)[0]))->{sub}
                  : '') . "'"), '0', 'nor is the user allowed to trade';

    ($tok, $tools) = trading_sign_in(scope => 'mcp:tools mcp:trade',
                                     trade => 1);
    is $tok->{scope}, 'mcp:tools mcp:trade', 'ticked: the token trades';
    my ($p) = ($tok->{access_token} // '') =~ /^[^.]+\.([^.]+)\./;
    is json_of(MIME::Base64::decode_base64url($p // ''))->{scope},
        'mcp:tools mcp:trade', 'its JWT says so';
    ok $tools->{place_order} && $tools->{cancel_order},
        'and its tools/list has the trading tools';

    # the box ticked by a client that did not ask for trading: ignored
    ($tok, $tools) = trading_sign_in(trade => 1);
    is $tok->{scope}, 'mcp:tools',
        'a trade answer the client did not ask for widens nothing';

    my ($st, $h) = req('GET', "$issuer/authorize?response_type=code"
                       . "&client_id=$public&redirect_uri=" . uri_escape($cb)
                       . "&code_challenge=" . ('a' x 43)
                       . "&code_challenge_method=S256&state=s"
                       . "&scope=mcp:tools%20mcp:admin");
    like $h->{location}[0] // '', qr/error=invalid_scope/,
        'an unknown scope: invalid_scope';
}

# -- registration is rate-limited -----------------------------------------------------

my $limited = 0;
for (1 .. 15) {
    ($st) = register({ redirect_uris => [ $cb ],
                       token_endpoint_auth_method => 'none' });
    $limited++ if $st == 429;
}
ok $limited > 0, 'registrations beyond 10 a minute from one address: 429';

done_testing;
