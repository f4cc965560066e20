# The sign-in flow end to end with the official MCP SDK's own OAuth
# client (t/e2e/sdk-oauth.mjs): a StreamableHTTPClientTransport with an
# authProvider discovers ttai's authorization server, registers, and
# sends the user to authorize; the user, played without a browser,
# approves on the consent page and follows the redirects through the
# mock TastyTrade's authorize page and ttai's /callback; finishAuth
# trades the code for tokens, the SDK connects and calls get_accounts,
# and later refreshes a refused access token by itself.  Needs
# node_modules (scripts/npm-setup): skipped without it, except under CI,
# where that is a failure.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Ttai::Util qw(repo_root scratch_dir run_capture skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop mock_hits);

my $root = repo_root();
my $script = "$root/t/e2e/sdk-oauth.mjs";

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

skip_or_fail('node_modules is missing: run scripts/npm-setup')
    unless -d "$root/node_modules/\@modelcontextprotocol/sdk";

my $srv = tt_server(scratch_dir('oauth-sdk'), oauth => 1);
END { local $?; tt_stop($srv) if $srv }

my $port = $srv->{port};
my $origin = "http://localhost:$port";
my $url = "$origin/mcp";

my ($rc, $out) = run_capture('node', $script, '--url', $url);
is $rc, 0, 'sdk-oauth.mjs exits 0' or diag $out;

# the summary is the JSON object on stdout; stderr lines name failures
my ($json) = $out =~ /^(\{.*^\})/ms;
my $s = eval { JSON::PP->new->decode($json // '') };
ok $s, 'it prints a JSON summary' or diag $@, $out;
$s //= { checks => [] };

for my $c (@{ $s->{checks} }) {
    ok $c->{ok}, "sdk: $c->{name}"
        or diag explain $c->{detail};
}
cmp_ok scalar @{ $s->{checks} }, '>=', 21, 'every check ran';

is $s->{issuer}, $origin, 'the SDK found the issuer, the origin of the Host header';

# what the SDK asked of ttai, in order, before the user signed in
my @sdk = map { "$_->{method} $_->{url} " . ($_->{status} // '-') }
          grep { $_->{transport} eq 'first' } @{ $s->{http} // [] };
my @asked = grep { !m{/\.well-known/} } @sdk;
is_deeply [ @asked[0 .. 2] ],
    [ "POST $url 401", "POST $origin/register 201", "POST $origin/token 200" ],
    'the SDK: /mcp (401), /register (201), then, after finishAuth, /token (200)'
    or diag explain \@sdk;
ok((grep { $_ eq "GET $origin/.well-known/oauth-protected-resource/mcp 200" } @sdk),
   'it read the protected-resource metadata');
ok((grep { $_ eq "GET $origin/.well-known/oauth-authorization-server 200" } @sdk),
   'and the authorization server metadata');

# the user's way: the consent page, "Allow" with the csrf cookie, the mock
# TastyTrade's authorize page, ttai's /callback, the redirect URI
my @hops = @{ $s->{hops} // [] };
my @way = map { "$_->{method} $_->{url} $_->{status}" } @hops;
is scalar @hops, 4, 'the user made four requests' or diag explain \@way;
like $way[0] // '', qr{^GET \Q$origin\E/authorize\?\S* 200$}, 'the consent page';
like $way[1] // '', qr{^POST \Q$origin\E/authorize 30[23]$}, '"Allow", which redirects';
ok((grep { $_ eq 'ttai_csrf' } @{ $hops[1]{cookies} // [] }),
   'with the ttai_csrf cookie the consent page set');
like $way[2] // '', qr{^GET http://127\.0\.0\.1:$srv->{mock}/mock/authorize\?\S* 302$},
    'to the mock TastyTrade\'s authorize page';
like $way[3] // '', qr{^GET \Q$origin\E/callback\?\S*code\S* 30[23]$},
    'which sends a code to ttai\'s /callback';
like $hops[3]{location} // '', qr{^http://127\.0\.0\.1:\d+/callback\?code&state&iss$},
    'which sends the client its code, state and iss';
is mock_hits($srv, qr{"GET /mock/authorize\?}), 1,
    'TastyTrade\'s authorize page was asked once';

like $s->{sub} // '', qr/\S/, 'the JWT names a user';
like $s->{accounts}{accounts}[0]{number} // '', qr/^5WT\d{5}$/,
    'get_accounts lists the mock customer\'s account';

# the refresh: one 401, then the token endpoint, then the retry
my @third = map { "$_->{method} $_->{url} $_->{status}" }
            grep { $_->{transport} eq 'third' && $_->{url} !~ m{/\.well-known/} }
            @{ $s->{http} // [] };
is_deeply [ @third[0 .. 2] ],
    [ "POST $url 401", "POST $origin/token 200", "POST $url 200" ],
    'a refused access token: 401, a refresh at /token, and the retry succeeds'
    or diag explain \@third;

($rc, $out) = run_capture('node', $script, '--url', 'not a url');
is $rc, 2, 'a bad --url is a usage error';

done_testing;
