# The MCP conformance suite (@modelcontextprotocol/conformance, pinned in
# package-lock.json) against /mcp.  The suite cannot send an
# Authorization header, so the location turns JWT auth off
# (ttai_mcp_auth off, development only).  Scenarios that need the
# reference server's fixture tools, resources and prompts, or SSE, are
# listed in t/conformance-baseline.yml; every other one must pass, and a
# listed one that starts passing fails the run (a stale baseline).
# Needs node_modules (scripts/npm-setup): skipped without it, except
# under CI, where that is a failure.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Ttai::Util qw(repo_root scratch_dir run_capture dev_server stop_pid
                  read_file skip_or_fail);

my $root = repo_root();
my $conformance = "$root/node_modules/.bin/conformance";
my $baseline = "$root/t/conformance-baseline.yml";

skip_or_fail("not built: run make")
    unless -f "$root/build/nginx/ngx_http_ttai_module.so";

skip_or_fail('node_modules is missing: run scripts/npm-setup')
    unless -x $conformance;

# -- the baseline: "server:" then "  - scenario  # reason" lines ------------

my %expected;
{
    my $section = '';
    for (split /\n/, read_file($baseline)) {
        next if /^\s*(#.*)?$/;
        if (/^(\w+):\s*$/) {
            $section = $1;
            next;
        }
        if (/^\s+-\s+([\w.-]+)\s*(?:#\s*(.*?))?\s*$/ && $section eq 'server') {
            $expected{$1} = $2 // '';
            next;
        }
        fail "t/conformance-baseline.yml: a line that is not a server entry: $_";
    }
}
ok %expected, 'the baseline lists scenarios';
for (sort keys %expected) {
    ok length $expected{$_}, "the baseline gives its reason for $_";
}

# -- one run of the active suite ----------------------------------------------

my $dir = scratch_dir('conformance');
# two workers, as in conf/dev.conf: a session's requests may reach either
my ($pid, $port) = dev_server($dir, workers => 2,
    http => 'ttai_mcp_sessions SESSIONS 1m snapshot=off;',
    server => <<'CONF');
        location = /mcp {
            ttai_mcp;
            ttai_mcp_auth off;
        }
CONF
END { stop_pid($pid) if $pid }

# localhost, not 127.0.0.1: dns-rebinding-protection only runs against a
# localhost URL
my $url = "http://localhost:$port/mcp";
my ($rc, $out) = run_capture('timeout', '300', $conformance, 'server',
                             '--url', $url,
                             '--expected-failures', $baseline,
                             '-o', "$dir/results");
$out =~ s/\e\[[0-9;]*m//g;     # no colours in the diagnostics

is $rc, 0, 'conformance exits 0: no unexpected failure, no stale baseline entry'
    or diag join "\n", grep { !/^(Running client scenario|Results saved to|=== Running scenario|\s*$)/ }
                       split /\n/, $out;

my ($announced) = $out =~ /^Running \w+ suite \((\d+) scenarios\)/m;
my %result;
while ($out =~ /^\S+ ([\w.-]+): (\d+) passed, (\d+) failed$/mg) {
    $result{$1} = { passed => $2, failed => $3 };
}
ok $announced, 'the suite says how many scenarios it runs';
is scalar keys %result, $announced // -1, 'and every one of them reports';

# the failing checks of one scenario, from its checks.json
sub failures {
    my ($scenario) = @_;
    my @why;
    for my $f (glob "$dir/results/server-$scenario-*/checks.json") {
        my $checks = eval { JSON::PP->new->decode(read_file($f)) } // [];
        push @why, map { "$_->{id}: " . ($_->{errorMessage} // 'failed') }
                   grep { ($_->{status} // '') eq 'FAILURE' } @$checks;
    }
    return @why ? join("\n", @why) : "no checks.json under $dir/results";
}

for my $s (sort keys %result) {
    my $r = $result{$s};
    if (exists $expected{$s}) {
        ok $r->{failed} > 0, "$s fails as the baseline expects ($expected{$s})";
    } else {
        ok $r->{failed} == 0 && $r->{passed} > 0, "$s passes"
            or diag failures($s);
    }
}
for (sort keys %expected) {
    ok exists $result{$_}, "the baseline's $_ is a scenario of the suite";
}

done_testing;
