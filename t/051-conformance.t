# The MCP conformance suites (@modelcontextprotocol/conformance, pinned
# in package-lock.json) against /mcp, in both eras:
#
#   0.2.0-alpha.12 --requirements 2026-07-28   the stateless revision
#   0.2.0-alpha.12 --requirements 2025-11-25   sessions, as the revision
#                                              of that date requires them
#   0.1.13, its active suite                   the run this suite began with
#
# The suites cannot send an Authorization header, so the location turns
# JWT auth off (ttai_mcp_auth off), and it serves the suites' fixture
# tools, prompts and resources (ttai_mcp_fixtures conformance); both are
# development only.  0.2.0 needs Node 22 (fs.globSync), which npm
# installs as the exact dev dependency "node"; 0.1.13 runs on the system's
# Node.  Each run has its baseline of expected failures, each with its
# reason; every other scenario must pass, and a listed one that starts
# passing fails the run (a stale baseline).  Needs node_modules
# (scripts/npm-setup): skipped without it, except under CI.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Ttai::Util qw(repo_root scratch_dir run_capture dev_server stop_pid
                  read_file skip_or_fail);

my $root = repo_root();
my $next = "$root/node_modules/\@modelcontextprotocol/conformance/dist/index.js";
my $old = "$root/node_modules/conformance-2025/dist/index.js";
my $node22 = "$root/node_modules/.bin/node";

skip_or_fail("not built: run make")
    unless -f "$root/build/nginx/ngx_http_ttai_module.so";

skip_or_fail('node_modules is missing: run scripts/npm-setup')
    unless -f $next && -f $old && -x $node22;

my ($rc, $v) = run_capture($node22, '--version');
like $v, qr/^v22\./, 'the suite\'s Node is 22';

# -- the baselines: "server:" then "  - scenario  # reason" lines -----------

sub baseline {
    my ($file) = @_;
    my (%expected, $section);
    $section = '';
    for (split /\n/, read_file($file)) {
        next if /^\s*(#.*)?$/;
        if (/^(\w+):\s*$/) {
            $section = $1;
            next;
        }
        if (/^\s+-\s+([\w.-]+)\s*(?:#\s*(.*?))?\s*$/ && $section eq 'server') {
            $expected{$1} = $2 // '';
            next;
        }
        fail "$file: a line that is not a server entry: $_";
    }
    return \%expected;
}

# -- one server for the three runs ---------------------------------------------

my $dir = scratch_dir('conformance');
# two workers, as in conf/dev.conf: a session's requests may reach either
# the workflows run, so that the tasks fixtures' calls can become tasks
my ($pid, $port) = dev_server($dir, workers => 2,
    http => "ttai_mcp_sessions SESSIONS 1m snapshot=off;\n"
            . "    ttai_migrations $root/migrations; ttai_workflows on;",
    server => <<'CONF');
        location = /mcp {
            ttai_mcp;
            ttai_mcp_auth off;
            ttai_mcp_fixtures conformance;
        }
CONF
END { stop_pid($pid) if $pid }

# localhost, not 127.0.0.1: dns-rebinding-protection only runs against a
# localhost URL
my $url = "http://localhost:$port/mcp";

# the failing checks of one scenario, from its checks.json
sub failures {
    my ($out, $scenario) = @_;
    my @why;
    for my $f (glob "$out/server-$scenario-*/checks.json") {
        my $checks = eval { JSON::PP->new->decode(read_file($f)) } // [];
        push @why, map { "$_->{id}: " . ($_->{errorMessage} // 'failed') }
                   grep { ($_->{status} // '') eq 'FAILURE' } @$checks;
    }
    return @why ? join("\n", @why) : "no checks.json under $out";
}

sub suite {
    my ($name, $baseline, $cmd, @args) = @_;
    my $expected = baseline("$root/t/$baseline");
    my $out = "$dir/results-$name";

    ok %$expected, "$name: the baseline lists scenarios";
    for (sort keys %$expected) {
        ok length $expected->{$_}, "$name: the baseline gives its reason "
                                   . "for $_";
    }

    my ($rc, $text) = run_capture('timeout', '300', @$cmd, 'server',
                                  '--url', $url, @args,
                                  '--expected-failures',
                                  "$root/t/$baseline", '-o', $out);
    $text =~ s/\e\[[0-9;]*m//g;     # no colours in the diagnostics

    is $rc, 0, "$name: the suite exits 0: no unexpected failure"
        or diag join "\n", grep { !/^(Running client scenario|Results saved to|=== Running scenario|\s*$)/ }
                           split /\n/, $text;

    my ($announced) = $text =~ /^Running [\w .-]+ \((\d+) scenarios\)/m;
    my %result;
    while ($text =~ /^\S+ ([\w.-]+): (\d+) passed, (\d+) failed$/mg) {
        $result{$1} = { passed => $2, failed => $3 };
    }
    ok $announced, "$name: the suite says how many scenarios it runs";
    is scalar keys %result, $announced // -1,
        "$name: and every one of them reports";

    for my $s (sort keys %result) {
        my $r = $result{$s};
        if (exists $expected->{$s}) {
            ok $r->{failed} > 0,
               "$name: $s fails as the baseline expects ($expected->{$s})";
        } else {
            ok $r->{failed} == 0, "$name: $s passes"
                or diag failures($out, $s);
        }
    }
    for (sort keys %$expected) {
        ok exists $result{$_}, "$name: the baseline's $_ is a scenario "
                               . "of the suite";
    }
    return \%result;
}

my $r26 = suite('2026-07-28', 'conformance-2026-07-28.yml', [ $node22, $next ],
                '--requirements', '2026-07-28');
my $r25 = suite('2025-11-25', 'conformance-2025-11-25.yml', [ $node22, $next ],
                '--requirements', '2025-11-25');
suite('0.1.13', 'conformance-baseline.yml', [ 'node', $old ]);

# the scenarios that decide conformance to each revision, all run
ok exists $r26->{$_}, "2026-07-28 runs $_"
    for qw(server-stateless caching input-required-result-tampered-state
           input-required-result-non-tool-request sep-2164-resource-not-found);
ok exists $r25->{$_}, "2025-11-25 runs $_"
    for qw(server-initialize server-session-lifecycle ping);

done_testing;
