# A full disk is never silent: with the state folder on a small tmpfs
# that is then filled, "ttai kv key put" is refused with 507 and the
# cause, later writes are refused before they change anything, an MCP
# initialize is refused, and /health names the failing journal; once
# there is room again, a write goes through and /health recovers; and
# after kill -9 of the whole server every write that was acknowledged
# is back.
#
# The suite runs itself again in a mount namespace of its own
# (unshare --mount, as root), where the tmpfs is mounted, so that nothing
# outside it sees the mount.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP qw(decode_json encode_json);
use POSIX qw(WNOHANG);
use Test::More;
use Ttai::Util qw(repo_root scratch_dir free_port write_file read_file
                  random_hex http_get wait_until jwt env_secret run_capture
                  children skip_or_fail);

my $root = repo_root();
my $so = "$root/build/nginx/ngx_http_ttai_module.so";
my $ttai = "$root/build/ttai";
my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';

skip_or_fail("module or CLI not built: run make") unless -f $so && -x $ttai;

unless ($ENV{TTAI_TEST_MOUNT_NS}) {
    my ($rc, $out) = run_capture('unshare', '--mount', '--propagation',
                                 'private', 'true');
    skip_or_fail("a mount namespace is needed for a small tmpfs "
                 . "(unshare --mount, as root): $out") if $rc != 0;
    $ENV{TTAI_TEST_MOUNT_NS} = 1;
    exec('unshare', '--mount', '--propagation', 'private', $^X, $0, @ARGV)
        or die "exec unshare: $!";
}

my $dir = scratch_dir('kv-full-disk');
my $state = "$dir/state";
mkdir $state or die "$state: $!";

my ($mrc, $mout) = run_capture('mount', '-t', 'tmpfs', '-o',
                               'size=1m,mode=0755', 'tmpfs', $state);
skip_or_fail("cannot mount a tmpfs in the mount namespace: $mout")
    if $mrc != 0;

my $master;
END {
    local $?;
    kill 'KILL', $master, children($master) if $master && kill 0, $master;
    system('umount', $state) if $state;
}

my $port = free_port();
my $user = $> == 0 ? 'user root;' : '';

write_file("$dir/dev.vars", "JWT_SECRET=" . random_hex(32) . "\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);

# the logs, the pid and the request bodies are off the tmpfs
write_file("$dir/nginx.conf", <<"CONF");
load_module $so;
$user
master_process on;
worker_processes 2;
error_log $dir/error.log info;
pid $dir/nginx.pid;

events {
    worker_connections 256;
}

http {
    access_log off;
    client_body_temp_path $dir/tmp;

    ttai_environment development;
    ttai_env_file $dir/dev.vars;
    ttai_state_dir $state;
    ttai_migrations off;
    ttai_kv_zone kv 4m snapshot_interval=1s;
    ttai_mcp_sessions SESSIONS 1m snapshot_interval=1s;

    server {
        listen 127.0.0.1:$port reuseport;

        location /_ttai/ {
            ttai_admin;
            client_max_body_size 2m;
            client_body_buffer_size 2m;
        }

        location = /mcp {
            ttai_mcp;
        }

        location = /health {
            ttai_health;
        }
    }
}
CONF

$ENV{TTAI_DEV_URL} = "http://127.0.0.1:$port";

sub log_text { read_file("$dir/error.log") }

sub start {
    my $log_size = -s "$dir/error.log" // 0;
    $master = fork // die "fork: $!";
    if ($master == 0) {
        open STDOUT, '>>', "$dir/stdout.log";
        open STDERR, '>&', \*STDOUT;
        exec($nginx, '-p', "$dir/", '-c', "$dir/nginx.conf",
             '-e', "$dir/error.log", '-g', 'daemon off;')
            or POSIX::_exit(127);
    }
    my $up = wait_until(10, sub { (http_get($port, '/health'))[0] == 200 });
    return $up ? substr(log_text(), $log_size) : undef;
}

sub crash {
    my $pidfile = read_file("$dir/nginx.pid");
    chomp $pidfile;
    my @pids = ($pidfile, children($master));
    kill 'KILL', @pids;
    waitpid $master, 0;
    my $gone = wait_until(10, sub { !grep { kill 0, $_ } @pids });
    $master = undef;
    return $gone && $pidfile == $pids[0] && @pids == 3;
}

# (exit status, output) of the CLI
sub cli_put {
    my ($key, @value) = @_;
    return run_capture($ttai, 'kv', 'key', 'put', $key, @value);
}

sub health {
    my ($st, undef, $body) = http_get($port, '/health');
    return ($st, eval { decode_json($body) } // {});
}

my $secret = env_secret("$dir/dev.vars", 'JWT_SECRET');
my $token = jwt($secret, { sub => 'alice', iat => time, exp => time + 3600 });

# (status, session id, decoded body)
sub initialize {
    my ($st, $h, $body) = http_get($port, '/mcp', method => 'POST',
        headers => ["Authorization: Bearer $token",
                    'Content-Type: application/json',
                    'Accept: application/json, text/event-stream'],
        body => encode_json({ jsonrpc => '2.0', id => 1,
                              method => 'initialize',
                              params => { protocolVersion => '2025-06-18',
                                          capabilities => {},
                                          clientInfo => { name => 'full',
                                                          version => '1' } } }));
    return ($st, $h->{'mcp-session-id'}, eval { decode_json($body) });
}

sub ping {
    my ($sid) = @_;
    my ($st) = http_get($port, '/mcp', method => 'POST',
        headers => ["Authorization: Bearer $token",
                    'Content-Type: application/json',
                    "Mcp-Session-Id: $sid",
                    'MCP-Protocol-Version: 2025-06-18'],
        body => '{"jsonrpc":"2.0","id":2,"method":"ping"}');
    return $st;
}

# fills the file system of $state until a write fails
sub fill {
    my $buf = "\0" x 65536;
    open my $fh, '>:raw', "$state/filler" or die "$state/filler: $!";
    my $n = 0;
    while (1) {
        my $w = syswrite $fh, $buf;
        last unless $w;
        $n += $w;
    }
    my $full = $!{ENOSPC};
    close $fh;
    return $full ? $n : 0;
}

my %want;        # acknowledged: key => value
my @sessions;    # acknowledged sessions


# --- room on the disk ------------------------------------------------------

ok defined start(), 'nginx starts with its state folder on a 1 MiB tmpfs';

for my $i (1 .. 5) {
    my ($rc, $out) = cli_put("before-$i", "value $i");
    $want{"before-$i"} = "value $i" if $rc == 0;
}
is scalar(keys %want), 5, 'puts are acknowledged while there is room';

my ($st, $sid) = initialize();
is $st, 200, 'an MCP session is made';
push @sessions, $sid if $st == 200;

my ($hst, $h) = health();
is $hst, 200, '/health is healthy';

# --- the disk fills up -------------------------------------------------------

ok fill() > 0, 'the tmpfs is filled up';

# a value too large for what a page of the journal may have left
write_file("$dir/value", 'v' x 8192);

my ($refused, $message);
for my $i (1 .. 20) {
    my ($rc, $out) = cli_put("full-$i", '--path', "$dir/value");
    if ($rc == 0) {
        $want{"full-$i"} = 'v' x 8192;
        next;
    }
    ($refused, $message) = ("full-$i", $out);
    last;
}
ok defined $refused, 'a put is refused once the disk is full';
like $message // '', qr/^ttai: storing the key: the write was not made durable \(journal: No space left on device\): it may be lost on a restart; retry later \(HTTP 507\)$/,
    'ttai kv key put prints the cause, from a 507';

# the zone now refuses writes up front, apart from a probe a second
my ($upfront, $upfront_message);
for my $i (1 .. 5) {
    my ($rc, $out) = cli_put("refused-$i", 'x');
    if ($rc == 0) {
        $want{"refused-$i"} = 'x';
        next;
    }
    if ($out =~ /nothing was written/) {
        ($upfront, $upfront_message) = ("refused-$i", $out);
        last;
    }
}
like $upfront_message // '', qr/^ttai: storing the key: the KV zone cannot make writes last \(journal: No space left on device\): nothing was written; retry later \(HTTP 507\)$/,
    'the next put is refused before it is applied';
is((http_get($port, "/_ttai/kv/values/$upfront"))[0], 404,
   'and the refused key is not in the zone') if defined $upfront;

my ($st_init, $sid_init, $r);
for (1 .. 40) {
    ($st_init, $sid_init, $r) = initialize();
    last if $st_init != 200;
    push @sessions, $sid_init;
}
is $st_init, 503, 'an MCP initialize that cannot be made durable: 503';
like $r->{error}{message} // '',
    qr/^the session could not be made durable \(journal: No space left on device\): retry later$/,
    'with a JSON-RPC error that names the cause';
ok !defined $sid_init, 'and no session id';

($hst, $h) = health();
is $hst, 503, '/health answers 503';
is $h->{status}, 'unhealthy', '... unhealthy';
is $h->{checks}{kv}{status}, 'fail', 'the kv check fails';
like $h->{checks}{kv}{error}, qr/^journal: No space left on device(; |$)/,
    '... naming the journal and the cause';
like $h->{checks}{sessions}{error}, qr/^journal: No space left on device/,
    'so does the sessions check';

# the zone changed: the next snapshot (every second here) fails too
ok wait_until(5, sub { log_text() =~ /ttai: KV zone "kv" not saved: writing "[^"]+" failed \(28: No space left on device\)/ }),
    'the snapshot fails, with a line in the error log';
($hst, $h) = health();
is $h->{checks}{kv}{error},
    'journal: No space left on device; snapshot: No space left on device',
    '/health reports the failing snapshot as well';

like log_text(), qr/\[error\] .*ttai: KV zone "kv": writing the journal "[^"]+" failed; \d+ waiting changes? (are|is) refused until it works again \(28: No space left on device\)/,
    'the error log names the journal and the cause';

# --- room again ------------------------------------------------------------

unlink "$state/filler" or die "$state/filler: $!";

my $back;
ok wait_until(10, sub {
        my ($rc) = cli_put('after-1', 'written again');
        $back = $rc == 0;
    }), 'with room again, a put goes through';
$want{'after-1'} = 'written again' if $back;

ok wait_until(10, sub {
        my ($s, $b) = health();
        $s == 200 && $b->{checks}{kv}{status} eq 'ok'
            && $b->{checks}{sessions}{status} eq 'ok';
    }), '/health recovers';

ok wait_until(10, sub {
        my ($s, $id) = initialize();
        push @sessions, $id if $s == 200;
        $s == 200;
    }), 'an MCP session is made again';

for my $i (2 .. 4) {
    my ($rc) = cli_put("after-$i", "value $i");
    $want{"after-$i"} = "value $i" if $rc == 0;
}
ok exists $want{'after-4'}, 'more puts are acknowledged';
# whichever comes first: a write let through, or a snapshot
like log_text(), qr/ttai: KV zone "kv": (its journal works again|the snapshot works again, and so changes are journaled again)/,
    'the error log says the journal works again';

# --- a crash: everything acknowledged is back ----------------------------------

ok crash(), 'kill -9 of the master and both workers';
ok defined start(), 'nginx starts again';

my @lost = grep {
    ((http_get($port, "/_ttai/kv/values/$_"))[2] // '') ne $want{$_}
} sort keys %want;
is_deeply \@lost, [],
    'every acknowledged put is back (' . scalar(keys %want) . ')';
my @gone = grep { ping($_) != 200 } @sessions;
is_deeply \@gone, [],
    'every acknowledged session is back (' . scalar(@sessions) . ')';

kill 'QUIT', $master;
waitpid $master, 0;
$master = undef;

unlike log_text(), qr/\[(crit|alert|emerg)\]/, 'no crit, alert or emerg line';

done_testing;
