# /mcp end to end with the official MCP SDK client (t/e2e/sdk-client.mjs):
# initialize, tools/list, ping, tools/call get_session_info and DELETE
# with a token from "ttai token", then the ended session (404) and a
# client without a token (401).  Needs node_modules (scripts/npm-setup):
# skipped without it, except under CI, where that is a failure.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Ttai::Util qw(repo_root scratch_dir run_capture dev_server stop_pid
                  http_get skip_or_fail);

my $root = repo_root();
my $ttai = "$root/build/ttai";
my $client = "$root/t/e2e/sdk-client.mjs";

skip_or_fail("not built: run make")
    unless -x $ttai && -f "$root/build/nginx/ngx_http_ttai_module.so";

skip_or_fail('node_modules is missing: run scripts/npm-setup')
    unless -d "$root/node_modules/\@modelcontextprotocol/sdk";

my $dir = scratch_dir('sdk-e2e');
# two workers, as in conf/dev.conf: a session's requests may reach either
my ($pid, $port) = dev_server($dir, workers => 2,
    http => 'ttai_mcp_sessions SESSIONS 1m snapshot=off;',
    server => <<'CONF');
        location = /mcp {
            ttai_mcp;
        }
        location = /.well-known/oauth-protected-resource {
            ttai_mcp_metadata;
        }
        location = /.well-known/oauth-protected-resource/mcp {
            ttai_mcp_metadata;
        }
CONF
END { stop_pid($pid) if $pid }

my $url = "http://localhost:$port/mcp";
my $sub = 'e2e-user-' . $$;

# -- a token from the CLI, with the server's JWT_SECRET --------------------

my ($rc, $token) = run_capture($ttai, 'token', '--env-file', "$dir/test.env",
                               '--sub', $sub, '--email', 'e2e@example.com',
                               '--ttl', '1h');
is $rc, 0, 'ttai token exits 0' or diag $token;
$token =~ s/\s+\z//;
like $token, qr/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
    'it prints one JWT';

# -- the SDK client --------------------------------------------------------

my $out;
{
    local $ENV{MCP_TOKEN} = $token;
    ($rc, $out) = run_capture('node', $client, '--url', $url);
}
is $rc, 0, 'sdk-client.mjs exits 0' or diag $out;

# the summary is the JSON object on stdout; stderr lines name failures
my ($json) = $out =~ /^(\{.*^\})/ms;
my $summary = eval { JSON::PP->new->decode($json // '') };
ok $summary, 'it prints a JSON summary' or diag $@, $out;
$summary //= { checks => [] };

for my $c (@{ $summary->{checks} }) {
    ok $c->{ok}, "sdk: $c->{name}"
        or diag explain $c->{detail};
}
cmp_ok scalar @{ $summary->{checks} }, '>=', 20, 'every check ran';

is $summary->{server}{name}, 'ttai', 'serverInfo.name is ttai';
like $summary->{sessionId} // '', qr/^[\x21-\x7e]{16,}$/,
    'a session id of visible ASCII was issued';
is $summary->{sessionInfo}{user}{sub}, $sub,
    'get_session_info reports the token\'s subject';
is $summary->{sessionInfo}{session}{id}, $summary->{sessionId},
    'and the session the client holds';
ok((grep { $_ eq 'get_session_info' } @{ $summary->{tools} // [] }),
   'tools/list has get_session_info');

my @http = @{ $summary->{http} // [] };
my ($del) = grep { $_->{method} eq 'DELETE' } @http;
like $del && $del->{status}, qr/^2\d\d$/, 'DELETE answered 2xx';
my @after = grep { $_->{client} eq 'ended-session' } @http;
is $after[0] && $after[0]{status}, 404, 'the ended session then answers 404';
my @anon = grep { $_->{client} eq 'no-token' } @http;
is $anon[0] && $anon[0]{status}, 401, 'a client without a token gets 401';
like $anon[0] && $anon[0]{wwwAuthenticate},
    qr{^Bearer resource_metadata="http://localhost:$port/\.well-known/oauth-protected-resource/mcp"},
    'its challenge points at the protected-resource metadata';

# the metadata locations are configured above: the client found them all
for my $what ("the 401's resource_metadata", 'the path-inserted well-known URL',
              'the root well-known URL') {
    my $m = $summary->{metadata}{$what};
    is ref $m && $m->{document}{resource}, $url, "$what names $url as the resource";
}

# -- the client's usage errors ----------------------------------------------

{
    local $ENV{MCP_TOKEN};
    delete $ENV{MCP_TOKEN};
    ($rc, $out) = run_capture('node', $client, '--url', $url);
}
is $rc, 2, 'sdk-client.mjs without a token is a usage error';
like $out, qr/no token/, 'and says so';

done_testing;
