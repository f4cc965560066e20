# The sign-in flow end to end in a browser (t/e2e/oauth-browser.mjs): an
# OAuth client that knows only /mcp finds ttai's authorization server
# through the 401 and the metadata, registers, and opens the
# authorization URL in headless Chromium; "Allow" on the consent page
# goes through the mock TastyTrade's authorize page and ttai's /callback
# back to the client, whose code buys a JWT that the MCP SDK client uses
# to call get_accounts; then the refresh token is rotated, and reusing
# the old one revokes the family.  Needs node_modules (scripts/npm-setup)
# and Debian's chromium (scripts/bootstrap): skipped without them, except
# under CI, where that is a failure.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Ttai::Util qw(repo_root scratch_dir run_capture skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop mock_hits);

my $root = repo_root();
my $script = "$root/t/e2e/oauth-browser.mjs";
my $chromium = '/usr/bin/chromium';

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my @missing;
push @missing, 'node_modules is missing: run scripts/npm-setup'
    unless -d "$root/node_modules/playwright-core"
           && -d "$root/node_modules/\@modelcontextprotocol/sdk";
push @missing, "$chromium is missing: run scripts/bootstrap"
    unless -x $chromium;
skip_or_fail(join '; ', @missing) if @missing;

my $srv = tt_server(scratch_dir('oauth-browser'), oauth => 1);
END { local $?; tt_stop($srv) if $srv }

my $port = $srv->{port};
my $origin = "http://localhost:$port";
my $url = "$origin/mcp";

my ($rc, $out) = run_capture('node', $script, '--url', $url,
                             '--chromium', $chromium);
is $rc, 0, 'oauth-browser.mjs exits 0' or diag $out;

# the summary is the JSON object on stdout; stderr lines name failures
my ($json) = $out =~ /^(\{.*^\})/ms;
my $s = eval { JSON::PP->new->decode($json // '') };
ok $s, 'it prints a JSON summary' or diag $@, $out;
$s //= { checks => [] };

for my $c (@{ $s->{checks} }) {
    ok $c->{ok}, "browser: $c->{name}"
        or diag explain $c->{detail};
}
cmp_ok scalar @{ $s->{checks} }, '>=', 38, 'every check ran';

# -- ttai's own addresses ------------------------------------------------------

is $s->{resourceMetadataUrl},
    "$origin/.well-known/oauth-protected-resource/mcp",
    'the 401 points at the path-inserted protected-resource metadata';
is $s->{issuer}, $origin, 'the issuer is the origin of the Host header';
my $as = $s->{authorizationServer} // {};
for (['authorization', 'authorize'], ['token', 'token'],
     ['registration', 'register'], ['revocation', 'revoke']) {
    my ($what, $path) = @$_;
    is $as->{"${what}_endpoint"}, "$origin/$path",
        "the ${what}_endpoint is $origin/$path";
}

# the browser's way: ttai's form, TastyTrade's (the mock's) authorize
# page, ttai's /callback, the client's callback
my @way = map { "$_->{method} $_->{url} " . ($_->{status} // '-') }
          @{ $s->{navigation} // [] };
my $client_cb = qr{http://127\.0\.0\.1:\d+/callback\?code&state&iss 200};
is scalar @way, 4, 'the browser made four requests after "Allow"'
    or diag explain \@way;
like $way[0] // '', qr{^POST \Q$origin\E/authorize 30[23]$},
    'the form is posted to /authorize, which redirects';
like $way[1] // '', qr{^GET http://127\.0\.0\.1:$srv->{mock}/mock/authorize\?\S* 302$},
    'to the mock TastyTrade\'s authorize page';
like $way[2] // '', qr{^GET \Q$origin\E/callback\?\S*code\S* 30[23]$},
    'which sends a code to ttai\'s /callback';
like $way[3] // '', qr{^GET $client_cb$},
    'which sends the client its code, state and iss';
is mock_hits($srv, qr{"GET /mock/authorize\?}), 1,
    'TastyTrade\'s authorize page was asked once';
cmp_ok mock_hits($srv, qr{"POST /oauth/token[ ?]}), '>=', 1,
    'and its token endpoint';

# get_accounts answered from the mock with the grant the sign-in stored
like $s->{sub} // '', qr/\S/, 'the JWT names a user';
like $s->{accounts}{accounts}[0]{number} // '', qr/^5WT\d{5}$/,
    'get_accounts lists the mock customer\'s account';

# -- usage errors ----------------------------------------------------------------

($rc, $out) = run_capture('node', $script, '--url', $url, '--timeout', 'soon');
is $rc, 2, 'a bad --timeout is a usage error';
($rc, $out) = run_capture('node', $script, '--url', $url,
                          '--chromium', "$srv->{dir}/no-such-browser");
is $rc, 2, 'a missing browser is a usage error';
like $out, qr/no browser at/, 'and says so';

done_testing;
