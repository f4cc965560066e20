# scripts/dev.sh, run in a scratch copy of the repository so that the
# edits it reacts to never touch the work tree: the port-in-use message,
# .dev.vars and state creation, the Ready lines, reload on conf and
# .dev.vars edits, rebuild and restart on C edits, a failed build that
# leaves the server running, one-server mode, LOG_LEVEL, and Ctrl-C.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Copy qw(copy);
use File::Path qw(make_path);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep);
use Ttai::Util qw(repo_root scratch_dir free_port release_port write_file read_file
                  run_capture http_get wait_until skip_or_fail);

my $root = repo_root();
my $copy = scratch_dir('devsh') . '/repo';

skip_or_fail('git is needed to list the files to copy')
    unless -e "$root/.git" && system("git -C '$root' status >/dev/null 2>&1") == 0;

# the tracked files and the new ones not ignored, as a fresh clone would
# have them plus the uncommitted work
for my $f (split /\n/, `git -C '$root' ls-files -co --exclude-standard`) {
    next unless -f "$root/$f";
    make_path("$copy/" . ($f =~ m{^(.*)/} ? $1 : '.'));
    copy("$root/$f", "$copy/$f") or die "copy $f: $!";
    chmod((stat "$root/$f")[2] & 07777, "$copy/$f");
}
ok -x "$copy/scripts/dev.sh", 'the repository is copied';

# the Node packages (the DXLink mock's ws) are the work tree's: as old as
# they are, the copy's package-lock.json leaves npm-setup nothing to do
symlink("$root/node_modules", "$copy/node_modules")
    or die "symlink node_modules: $!";
utime((stat "$root/package-lock.json")[8, 9], "$copy/package-lock.json");

my ($port, $wport, $mport, $dport) = (free_port(), free_port(), free_port(),
                                      free_port());

# -- a port in use ------------------------------------------------------------

my $holder = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                   LocalPort => $port, Listen => 5,
                                   ReuseAddr => 1)
    or die "listen: $!";

my ($rc, $out) = run_capture("$copy/scripts/dev.sh", '--port', $port,
                             '--worker-port', $wport, '--mock-port', $mport,
                             '--dxlink-port', $dport, '--no-watch');
is $rc, 1, 'a busy port: dev.sh exits 1';
my @lines = grep { /already in use/ } split /\n/, $out;
is scalar(@lines), 1, 'a busy port: one line says so';
like $lines[0] // '', qr/^dev.sh: port $port is already in use by pid $$ \(\S*perl[^)]*\)/,
    'a busy port: the line names the port, the pid and the command';
unlike $out, qr/building|Ready on/, 'a busy port: nothing is started';
close $holder;

# -- start -------------------------------------------------------------------

my $log = "$copy/../dev.log";

sub start_dev {
    my (%opt) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        # a process group of its own, as a shell gives a foreground job
        POSIX::setpgid(0, 0);
        # and SIGINT as a terminal's job has it: run from a background
        # job, this process may have it ignored, and bash can neither
        # trap nor restore a signal ignored when it starts
        $SIG{INT} = $SIG{QUIT} = 'DEFAULT';
        open STDOUT, '>', $opt{log} or die "$opt{log}: $!";
        open STDERR, '>&', \*STDOUT;
        $ENV{LOG_LEVEL} = $opt{level} if $opt{level};
        exec("$copy/scripts/dev.sh", @{ $opt{args} }) or POSIX::_exit(127);
    }
    POSIX::setpgid($pid, $pid);    # whichever of the two runs first
    return $pid;
}

sub log_has {
    my ($file, $re) = @_;
    return read_file($file) =~ $re;
}

# Ctrl-C: a terminal sends SIGINT to the whole foreground group, so that
# a build dev.sh is running stops too.  Should it not stop, what its
# processes were doing is shown.
sub stop_dev {
    my ($pid) = @_;
    kill 'INT', -$pid;
    my $done = wait_until(20, sub { waitpid($pid, WNOHANG) == $pid });
    my $status = $?;
    unless ($done) {
        diag "dev.sh did not stop within 20 s of SIGINT; its group:\n"
             . join '', grep { /^\s*PID|^\s*\d+\s+\d+\s+$pid\s/ }
                        `ps -eo pid,ppid,pgid,stat,etimes,wchan:24,args`;
        diag "its signal masks:\n"
             . join '', grep { /^(Sig|ShdPnd)/ } split /^/,
                        read_file("/proc/$pid/status");
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
    return $done ? $status >> 8 : -1;
}

my $dev;
END { if ($dev) { kill 'TERM', $dev; waitpid $dev, 0 } }

# a port another program took after all (dev.sh checks them first, and
# says so): again on new ones
for my $try (1 .. 5) {
    $dev = start_dev(log => $log, args => ['--port', $port,
                                           '--worker-port', $wport,
                                           '--mock-port', $mport,
                                           '--dxlink-port', $dport]);
    my $exited;
    # a bound for a failure only: the first build of the copy may take
    # minutes while the other suites run beside it
    wait_until(600, sub {
        log_has($log, qr/Ready on http:\/\/localhost:$wport/)
            || ($exited = waitpid($dev, WNOHANG) == $dev);
    });
    last unless $exited && $try < 5 && log_has($log, qr/already in use/);
    note "a port of $port $wport $mport was taken; starting again";
    $dev = 0;
    release_port($port, $wport, $mport, $dport);
    ($port, $wport, $mport, $dport) = (free_port(), free_port(), free_port(),
                                       free_port());
}

ok log_has($log, qr/Ready on http:\/\/localhost:$wport/),
    'dev.sh becomes ready' or diag read_file($log);

my $text = read_file($log);
like $text, qr/^Ready on http:\/\/localhost:$port$/m, 'Ready line for the MCP server';
like $text, qr/^Ready on http:\/\/localhost:$wport$/m, 'Ready line for the worker';
like $text, qr/created \.dev\.vars/, 'it says it created .dev.vars';

my $vars = read_file("$copy/.dev.vars");
like $vars, qr/^JWT_SECRET=[0-9a-f]{64}$/m, '.dev.vars has a fresh JWT_SECRET';
like $vars, qr/^TOKEN_ENCRYPTION_KEY=[0-9a-f]{64}$/m,
    '.dev.vars has a fresh TOKEN_ENCRYPTION_KEY';
is((stat "$copy/.dev.vars")[2] & 0777, 0600, '.dev.vars is private (0600)');
my ($jwt) = $vars =~ /^JWT_SECRET=(\w+)$/m;

ok -d "$copy/.ttai/state/$_", ".ttai/state/$_ exists" for qw(d1 kv r2 do);
is((stat "$copy/.ttai/$_")[2] & 0777, 0700, ".ttai/$_ is private (0700)")
    for qw(state state/d1 state/d1/ttai state/kv state/r2 state/do);
is((stat "$copy/.ttai/state/d1/ttai/db.sqlite")[2] & 0777, 0600,
   'the database is private (0600)');

my ($st, $h, $body) = http_get($port, '/health');
is $st, 200, 'the MCP server answers /health';
like $body, qr/"status":"healthy","service":"mcp"/, 'the MCP server is healthy';
($st, $h, $body) = http_get($wport, '/health');
like $body, qr/"status":"healthy","service":"worker"/, 'the worker is healthy';

# -- KV state, to follow through the reload and the restart below -------------

$ENV{TTAI_DEV_URL} = "http://127.0.0.1:$port";
sub kv { run_capture("$copy/build/ttai", 'kv', 'key', @_) }
($rc, $out) = kv('put', 'dev:persist', 'kept-value');
is $rc, 0, 'a KV key is put through the CLI' or diag $out;

# -- scripts/seed.sh, twice, against the running server ------------------------

{
    my ($src, $sout) = run_capture('bash', '-c', "cd '$copy' && scripts/seed.sh");
    is $src, 0, 'seed.sh succeeds' or diag $sout;
    like $sout, qr/tt-account-123 \| test\@example.com/, 'seed.sh shows the user';
    ($src, $sout) = run_capture('bash', '-c', "cd '$copy' && scripts/seed.sh");
    is $src, 0, 'seed.sh succeeds a second time';
    ($src, $sout) = run_capture('bash', '-c', "cd '$copy' && build/ttai d1 "
        . "execute --command 'SELECT count(*) AS n FROM user_oauth_tokens'");
    like $sout, qr/^\s*1\s*$/m, 'one token row after two runs';
    my $db = join '', map { read_file($_) }
                      glob "$copy/.ttai/state/d1/ttai/db.sqlite*";
    unlike $db, qr/ttai-dev-(refresh|access)-token/,
        'the seeded token is not in clear in the database';
}

# -- live greeks through the SDK client, from the DXLink mock -----------------

{
    my ($trc, $token) = run_capture('bash', '-c',
                                    "cd '$copy' && build/ttai token");
    $token =~ s/\s+\z//;
    ok wait_until(60, sub {
        my (undef, undef, $b) = http_get($port, '/health');
        ($b // '') =~ /"dxlink":\{"status":"ok","state":"ready"/;
    }), 'the market-data stream is ready once seed.sh connected the user'
        or diag((http_get($port, '/health'))[2]);
    like read_file($log), qr{DXLink: the mock on ws://127\.0\.0\.1:$dport/},
        'dev.sh started the DXLink mock on its port';
    my ($grc, $gout) = run_capture('node', "$root/t/e2e/greeks-client.mjs",
                                   '--url', "http://127.0.0.1:$port/mcp",
                                   '--token', $token, '--again', 3000);
    is $grc, 0, 'greeks-client.mjs: get_position_greeks and get_greeks '
                . 'through the SDK client, in range, consistent, moving'
        or diag $gout;
}

# -- trading against the mock, as the README walks through it ----------------

SKIP: {
    skip_or_fail('node_modules is missing: run scripts/npm-setup', 1)
        unless -d "$root/node_modules/\@modelcontextprotocol/client";
    my ($erc, $eout) = run_capture('bash', '-c', "cd '$copy' && "
        . 'build/ttai users trading enable tt-account-123');
    is $erc, 0, 'the seeded user allows trading' or diag $eout;
    my ($trc, $token) = run_capture('bash', '-c',
                                    "cd '$copy' && build/ttai token");
    $token =~ s/\s+\z//;
    # the server keeps what it read of the permission for 5 s
    ok wait_until(15, sub {
        my (undef, undef, $b) = http_get($port, '/mcp', method => 'POST',
            body => '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
            headers => [ "Authorization: Bearer $token",
                         'Content-Type: application/json',
                         'Accept: application/json, text/event-stream' ]);
        ($b // '') =~ /"place_order"/;
    }), 'within seconds the trading tools are listed';
    my ($grc, $gout) = run_capture('node', "$root/t/e2e/trading-client.mjs",
                                   '--url', "http://127.0.0.1:$port/mcp",
                                   '--token', $token,
                                   '--mock', "http://127.0.0.1:$mport");
    is $grc, 0, 'trading-client.mjs: an order placed after the user said '
                . 'yes, seen in get_orders, changed and cancelled'
        or diag $gout;
    ok -d "$copy/.ttai/state/mock/orders",
        'the mock kept its orders in the state folder';
}

# -- the agents, offline: the mock model, as the README walks through it -------

SKIP: {
    skip_or_fail('node_modules is missing: run scripts/npm-setup', 1)
        unless -d "$root/node_modules/\@modelcontextprotocol/client";
    my ($trc, $token) = run_capture('bash', '-c',
                                    "cd '$copy' && build/ttai token");
    $token =~ s/\s+\z//;
    my ($arc, $aout) = run_capture('node', "$root/t/e2e/agents-client.mjs",
                                   '--url', "http://127.0.0.1:$port/mcp",
                                   '--token', $token,
                                   '--mock', "http://127.0.0.1:$mport");
    is $arc, 0, 'agents-client.mjs: analyze_portfolio with progress, the '
                . 'journal searched, through the SDK client, with no key; '
                . 'as a task polled to completion, and one cancelled'
        or diag $aout;
}

# -- a conf edit is picked up with a reload ------------------------------------

my $conf = read_file("$copy/conf/dev.conf");
(my $probe = $conf) =~ s{(location = /mcp \{)}
                        {location = /probe { return 200 "probe-1\\n"; }\n\n        $1};
write_file("$copy/conf/dev.conf", $probe);

ok wait_until(20, sub { (http_get($port, '/probe'))[2] eq "probe-1\n" }),
    'a conf edit is served after a reload';
like read_file($log), qr/conf\/dev.conf changed: reloading/, 'it says it reloads';
is((kv('get', 'dev:persist'))[1], 'kept-value', 'KV state survives the reload');

# -- a bad .dev.vars is refused and the server keeps running --------------------

my $bad = $vars =~ s/^JWT_SECRET=\w+$/JWT_SECRET=tooshort-secret-value/mr;
write_file("$copy/.dev.vars", $bad, 0600);
ok wait_until(20, sub { log_has($log, qr/JWT_SECRET in .* line \d+ must be 64 hex/) }),
    'a bad .dev.vars edit is checked';
# dev.sh says so once "nginx -t" has ended, a moment after nginx's line
ok wait_until(20, sub { log_has($log, qr/keeps the old one/) }),
    'and the old configuration is kept';
unlike read_file($log), qr/tooshort-secret-value/, 'the bad value is not printed';
is((http_get($port, '/probe'))[2], "probe-1\n", 'the server still serves');
write_file("$copy/.dev.vars", $vars, 0600);

# -- a C edit is rebuilt and restarted ----------------------------------------

my $vh = read_file("$copy/shared/core/ttai_version.h");
(my $vh2 = $vh) =~ s/(TTAI_VERSION\s+")([^"]+)"/$1$2-hot"/;
write_file("$copy/shared/core/ttai_version.h", $vh2);
ok wait_until(120, sub { (http_get($port, '/health'))[2] =~ /-hot"/ }),
    'a C edit is rebuilt and the new code serves';
ok wait_until(20, sub { log_has($log, qr/restarted/) }),
    'it says it restarted';
is((kv('get', 'dev:persist'))[1], 'kept-value',
    'KV state survives the restart through its snapshot');

my $hc = "$copy/ngx_ttai_module/ngx_http_ttai_health.c";
my $src = read_file($hc);
write_file($hc, $src . "\n#error broken on purpose\n");
ok wait_until(120, sub { log_has($log, qr/build failed/) }),
    'a broken C edit fails to build';
like read_file($log), qr/broken on purpose/, 'the compiler error is shown';
($st, $h, $body) = http_get($port, '/health');
ok $st == 200 && $body =~ /-hot"/, 'the old server keeps serving';
write_file($hc, $src);

is stop_dev($dev), 0, 'Ctrl-C stops dev.sh with status 0';
$dev = 0;
ok !IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port),
    'after Ctrl-C the MCP port is free';
ok !IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $wport),
    'after Ctrl-C the worker port is free';
my @left = grep { read_file("$_/cmdline") =~ /nginx.*\Q$copy\E/ } glob '/proc/[0-9]*';
is scalar(@left), 0, 'no nginx of this dev.sh is left';

# -- one server, debug logs ----------------------------------------------------

my $log2 = "$copy/../dev-mcp.log";
$dev = start_dev(log => $log2, level => 'debug',
                 args => ['mcp', '--port', $port, '--worker-port', $wport,
                          '--mock-port', $mport, '--dxlink-port', $dport]);
ok wait_until(120, sub { log_has($log2, qr/Ready on/) }), 'mcp-only mode starts';
http_get($port, '/health');
sleep 0.3;
$text = read_file($log2);
like $text, qr/^Ready on http:\/\/localhost:$port$/m, 'the MCP server is ready';
unlike $text, qr/Ready on http:\/\/localhost:$wport/, 'the worker is not';
ok !IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $wport),
    'nothing listens on the worker port';
like $text, qr/\[debug\]/, 'LOG_LEVEL=debug gives debug logs';
unlike $text, qr/\Q$jwt\E/, 'no secret value in the debug log';
is stop_dev($dev), 0, 'Ctrl-C stops it';
$dev = 0;

done_testing;
