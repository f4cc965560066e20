# /mcp end to end with the official MCP TypeScript SDK 2.x client
# (@modelcontextprotocol/client, t/e2e/sdk2-client.mjs): it negotiates
# the stateless revision 2026-07-28 by itself, then discover,
# tools/list and a tool call; a tool that asks the user (the conformance
# fixture test_input_required_result_request_state) is answered through
# the client's elicitation handler with accept, decline and cancel; and
# the same client in its legacy mode still gets a 2025 session.  Needs
# node_modules (scripts/npm-setup): skipped without it, except under CI.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Ttai::Util qw(repo_root scratch_dir run_capture dev_server stop_pid
                  skip_or_fail);

my $root = repo_root();
my $ttai = "$root/build/ttai";
my $client = "$root/t/e2e/sdk2-client.mjs";

skip_or_fail("not built: run make")
    unless -x $ttai && -f "$root/build/nginx/ngx_http_ttai_module.so";

skip_or_fail('node_modules is missing: run scripts/npm-setup')
    unless -d "$root/node_modules/\@modelcontextprotocol/client";

my $dir = scratch_dir('sdk2-e2e');
# two workers: the retry that carries the answer may reach the other one
my ($pid, $port) = dev_server($dir, workers => 2,
    http => 'ttai_mcp_sessions SESSIONS 1m snapshot=off;',
    server => <<'CONF');
        location = /mcp {
            ttai_mcp;
            ttai_mcp_fixtures conformance;
        }
CONF
END { stop_pid($pid) if $pid }

my ($rc, $token) = run_capture($ttai, 'token', '--env-file', "$dir/test.env",
                               '--sub', "sdk2-user-$$", '--ttl', '1h');
is $rc, 0, 'ttai token exits 0' or diag $token;
$token =~ s/\s+\z//;

my $out;
{
    local $ENV{MCP_TOKEN} = $token;
    ($rc, $out) = run_capture('timeout', '120', 'node', $client,
                              '--url', "http://localhost:$port/mcp",
                              '--ask', 'test_input_required_result_request_state');
}
my ($json) = $out =~ /^(\{.*^\})/ms;
my $summary = eval { JSON::PP->new->decode($json // '') } // {};

is $rc, 0, 'sdk2-client.mjs passes every check' or diag $out;
ok scalar @{ $summary->{checks} // [] } >= 15, 'and made them all';
for my $c (@{ $summary->{checks} // [] }) {
    ok $c->{ok}, "sdk2: $c->{name}"
        or diag explain $c->{detail};
}

done_testing;
