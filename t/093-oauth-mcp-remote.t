# npx mcp-remote, the stdio bridge Claude Desktop uses, against ttai's
# /mcp: it finds ttai's authorization server by itself, registers, and
# opens the browser ($BROWSER: headless Chromium that clicks Allow on the
# consent page, t/e2e/mcp-remote-browser.mjs); the mock TastyTrade page
# and ttai's /callback lead back to mcp-remote, which then calls a tool
# for its stdio client (t/e2e/mcp-remote-client.mjs).  Needs node_modules
# and Debian's chromium: skipped without them, except under CI.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Ttai::Util qw(repo_root scratch_dir run_capture free_port skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop mock_hits);

my $root = repo_root();
my $chromium = '/usr/bin/chromium';

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my @missing;
push @missing, 'node_modules is missing: run scripts/npm-setup'
    unless -x "$root/node_modules/.bin/mcp-remote"
           && -d "$root/node_modules/playwright-core";
push @missing, "$chromium is missing: run scripts/bootstrap"
    unless -x $chromium;
skip_or_fail(join '; ', @missing) if @missing;

my $dir = scratch_dir('oauth-mcp-remote');
my $srv = tt_server($dir, oauth => 1);
END { local $?; tt_stop($srv) if $srv }

my ($rc, $out);
{
    # mcp-remote keeps what it learns under ~/.mcp-auth: a fresh one
    local $ENV{HOME} = $dir;
    local $ENV{BROWSER} = "$root/t/e2e/mcp-remote-browser.mjs";
    local $ENV{TTAI_CHROMIUM} = $chromium;
    ($rc, $out) = run_capture('node', "$root/t/e2e/mcp-remote-client.mjs",
                              '--url', "http://localhost:$srv->{port}/mcp",
                              '--port', free_port());
}
is $rc, 0, 'mcp-remote-client.mjs gets both answers' or diag $out;

my ($json) = $out =~ /^(\{.*^\})/ms;
my $s = eval { JSON::PP->new->decode($json // '') } // {};

is $s->{initialize}{result}{serverInfo}{name}, 'ttai',
    'mcp-remote connected to ttai after signing in';
my $text = $s->{call}{result}{content}[0]{text} // '';
like $text, qr/5WT\d{5}/, 'and get_accounts read the TastyTrade account';
ok !$s->{call}{result}{isError}, 'without an error';
ok((grep { /Connected to remote server/ } @{ $s->{stderr} // [] }),
   'mcp-remote says it connected');
is mock_hits($srv, qr{GET /mock/authorize}), 1,
    'through the mock TastyTrade authorize page, once';

done_testing;
