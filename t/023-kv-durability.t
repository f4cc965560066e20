# A write that was acknowledged survives a crash of the whole server: KV
# puts and deletes through the CLI and new MCP sessions (with a log level
# set, or ended) are in the zones' journals before their answers, and
# come back after kill -9 of the master and its workers, with no
# snapshot taken meanwhile; also when a journal ends in a torn tail.  A
# clean stop writes the snapshot and removes the journals it holds.

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

my $dir = scratch_dir('kv-durability');
my $port = free_port();
my $user = $> == 0 ? 'user root;' : '';

write_file("$dir/dev.vars", "JWT_SECRET=" . random_hex(32) . "\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);

# no snapshot but at a clean stop: what a crash leaves is the journals'
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
    ttai_state_dir $dir/state;
    ttai_kv_zone kv 4m snapshot_interval=1h;
    ttai_mcp_sessions SESSIONS 1m snapshot_interval=1h;

    server {
        # one socket per worker: the kernel spreads connections over both
        listen 127.0.0.1:$port reuseport;

        location /_ttai/ {
            ttai_admin;
        }

        location /debug/ {
            ttai_debug;
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

my $master;
END { local $?; kill 'KILL', $master, workers() if $master && kill 0, $master }

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

sub workers { return $master ? children($master) : () }

# kill -9 of the master and of its workers, by their pids
sub crash {
    my $pidfile = read_file("$dir/nginx.pid");
    chomp $pidfile;
    my @pids = ($pidfile, workers());
    kill 'KILL', @pids;
    waitpid $master, 0;
    my $gone = wait_until(10, sub { !grep { kill 0, $_ } @pids });
    $master = undef;
    return $gone && $pidfile == $pids[0] && @pids == 3;
}

sub kv_get {
    my ($key) = @_;
    return http_get($port, "/_ttai/kv/values/$key");
}

sub journals {
    my ($folder, $zone) = @_;
    my @files = sort glob "$dir/state/$folder/$zone.journal.*";
    return @files;
}

# --- MCP sessions -------------------------------------------------------

my $secret = env_secret("$dir/dev.vars", 'JWT_SECRET');
my $token = jwt($secret, { sub => 'alice', email => 'alice@example.com',
                           iat => time, exp => time + 3600 });
my $rpc_id = 0;

sub rpc {
    my ($session, $method, $params, %opt) = @_;
    my %msg = (jsonrpc => '2.0', method => $method, id => ++$rpc_id);
    $msg{params} = $params if $params;
    my @h = ("Authorization: Bearer $token",
             'Content-Type: application/json',
             'Accept: application/json, text/event-stream');
    push @h, "Mcp-Session-Id: $session", 'MCP-Protocol-Version: 2025-06-18'
        if $session;
    my ($st, $h, $body) = http_get($port, '/mcp',
                                   method => $opt{method} // 'POST',
                                   headers => \@h,
                                   body => $opt{method} ? undef
                                                        : encode_json(\%msg));
    return ($st, $h, length $body ? eval { decode_json($body) } : undef);
}

sub initialize {
    my ($st, $h) = rpc(undef, 'initialize',
                       { protocolVersion => '2025-06-18', capabilities => {},
                         clientInfo => { name => 'durability', version => '1' } });
    return $st == 200 ? $h->{'mcp-session-id'} : undef;
}

sub session_level {
    my ($sid) = @_;
    my ($st, undef, $body) = http_get($port, "/debug/do/SESSIONS/$sid");
    return $st == 200 ? decode_json($body)->{logLevel} : undef;
}


# --- acknowledged writes, then a crash ------------------------------------

ok defined start(), 'nginx starts with a master and two workers';

my %want;
my $failed = 0;
for my $i (1 .. 50) {
    my $key = sprintf 'durable-%02d', $i;
    my @ttl = $i % 10 == 0 ? ('--ttl', 3600) : ();
    my ($rc, $out) = run_capture($ttai, 'kv', 'key', 'put', $key,
                                 "value $i", @ttl);
    if ($rc == 0 && $out =~ /^Wrote \d+ bytes to key "\Q$key\E"\.$/) {
        $want{$key} = "value $i";
    } else {
        $failed++;
        diag "put $key: $rc $out";
    }
}
is $failed, 0, '50 ttai kv key put are acknowledged';

my ($rc, $out) = run_capture($ttai, 'kv', 'key', 'delete', 'durable-07');
is $rc, 0, 'a delete is acknowledged';
delete $want{'durable-07'};

my (undef, $h) = kv_get('durable-10');
my $expiration = $h->{'x-ttai-expiration'};
like $expiration // '', qr/^\d{10}$/, 'a key has an expiration';

my @sessions = grep { defined } map { initialize() } 1 .. 3;
is scalar @sessions, 3, 'three MCP sessions are made';
my ($st) = rpc($sessions[1], 'logging/setLevel', { level => 'error' });
is $st, 200, 'one gets a log level';
($st) = rpc($sessions[2], undef, undef, method => 'DELETE');
is $st, 200, 'one is ended';

ok scalar(my @k = journals('kv', 'kv')) >= 1,
    'the KV zone has a journal in kv/';
ok scalar(my @s = journals('do', 'SESSIONS')) >= 1,
    'the sessions zone has one in do/';
my @modes = map { sprintf '%o', (stat $_)[2] & 07777 }
            journals('kv', 'kv'), journals('do', 'SESSIONS');
is_deeply [ grep { $_ ne '600' } @modes ], [],
    'journal files are readable by their owner only';
ok !-e "$dir/state/kv/kv.snapshot", 'no snapshot was written';

ok crash(), 'kill -9 of the master and both workers';

my $log = start();
ok defined $log, 'nginx starts after the crash';
like $log, qr/\[notice\] .*ttai: KV zone "kv" replayed 51 changes from \d+ journal files \(0 in the snapshot already, 0 expired, 0 past the limits, 0 did not fit, 0 torn tails ignored\)/,
    'the KV journal is replayed';
like $log, qr/\[notice\] .*ttai: KV zone "SESSIONS" replayed 5 changes from \d+ journal files/,
    'so is the sessions journal';

my @lost = grep { ((kv_get($_))[2] // '') ne $want{$_} } sort keys %want;
is_deeply \@lost, [], 'every acknowledged put is back, with its value';
is((kv_get('durable-07'))[0], 404, 'the deleted key stays deleted');
(undef, $h) = kv_get('durable-10');
is $h->{'x-ttai-expiration'}, $expiration, 'an expiration is kept';

($st) = rpc($sessions[0], 'ping');
is $st, 200, 'a session is back';
is session_level($sessions[1]), 'error', 'with its log level';
($st) = rpc($sessions[2], 'ping');
is $st, 404, 'the ended one stays ended';

# --- a second crash, after more writes, with torn tails ---------------------

for my $i (51 .. 60) {
    my $key = sprintf 'durable-%02d', $i;
    ($rc) = run_capture($ttai, 'kv', 'key', 'put', $key, "value $i");
    $want{$key} = "value $i" if $rc == 0;
}
is scalar(keys %want), 59, '10 more puts are acknowledged';
push @sessions, initialize();
ok defined $sessions[-1], 'a session more';

ok crash(), 'kill -9 again';

# what a process killed in a write leaves: part of a record, then garbage
my @files = (journals('kv', 'kv'), journals('do', 'SESSIONS'));
for my $f (@files) {
    open my $fh, '>>:raw', $f or die "$f: $!";
    print {$fh} pack('C C n n n N N', 1, 0, 10, 0, 0, 5, 0),
                pack('H*', random_hex(40));
    close $fh;
}

$log = start();
ok defined $log, 'nginx starts with torn journal tails';
my $torn = () = $log =~ /\[warn\] .*ends in a torn tail, ignored after \d+ records: \d+ bytes from offset \d+ are no whole record/g;
is $torn, scalar @files, 'each torn tail is reported';
@lost = grep { ((kv_get($_))[2] // '') ne $want{$_} } sort keys %want;
is_deeply \@lost, [], 'every acknowledged put of both runs is back';
is((kv_get('durable-07'))[0], 404, 'the deleted key stays deleted');
my @alive = grep { (rpc($_, 'ping'))[0] == 200 } @sessions[0, 1, 3];
is scalar @alive, 3, 'every live session is back';
is session_level($sessions[1]), 'error', 'with its log level';

# --- a clean stop: the snapshot, and the journals it holds go --------------

kill 'QUIT', $master;
ok wait_until(15, sub { waitpid($master, WNOHANG) == $master }),
    'nginx stops on QUIT';
$master = undef;
ok -s "$dir/state/kv/kv.snapshot", 'the KV snapshot is written at exit';
is_deeply [ journals('kv', 'kv') ], [],
    'the KV journals it holds are removed';
is_deeply [ journals('do', 'SESSIONS') ], [],
    'so are the sessions journals';

$log = start();
ok defined $log, 'nginx starts from the snapshots';
like $log, qr/ttai: KV zone "kv" restored 59 entries/,
    'the KV zone comes back from its snapshot';
unlike $log, qr/replayed/, 'with nothing to replay';
@lost = grep { ((kv_get($_))[2] // '') ne $want{$_} } sort keys %want;
is_deeply \@lost, [], 'every key is there';

kill 'QUIT', $master;
waitpid $master, 0;
$master = undef;

unlike log_text(), qr/\[(crit|alert|emerg)\]/, 'no crit, alert or emerg line';

done_testing;
