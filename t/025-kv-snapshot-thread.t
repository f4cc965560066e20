# The periodic KV snapshot is written on the thread pool, not on the
# event loop.  The proof does not rest on timing: a named pipe is put
# where worker 0 creates its temporary snapshot file, so that the save
# blocks in open() until this suite reads the pipe.  While it is blocked,
# /health must answer: on the event loop, the worker could answer
# nothing until the pipe is read.  The bytes read from the pipe are the
# snapshot, so the save was indeed in flight meanwhile.  A pipe cannot
# be synced, so that save fails, /health says so, and the next one
# (a regular file again) succeeds.
#
# At exit, the final save waits for the one in flight, and then runs:
# the snapshot on disk holds every key.  With no thread pool (no journal
# and no database), the snapshot is written on the event loop as before.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Fcntl qw(O_RDONLY);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG mkfifo);
use Test::More;
use Time::HiRes qw(sleep time);
use Ttai::Util qw(repo_root scratch_dir free_port write_file read_file
                  random_hex wait_until skip_or_fail);

my $root = repo_root();
my $so = "$root/build/nginx/ngx_http_ttai_module.so";
my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';

skip_or_fail("module not built: run make") unless -f $so;

my $dir = scratch_dir('kv-snapshot-thread');
my $port = free_port();
my $snapshot = "$dir/state/kv/kv.snapshot";
my $json = JSON::PP->new;

# 16 values of 1 MiB: the snapshot is some 16 MiB
my $BIG = 16;
my $MIB = 'x' x (1024 * 1024 - 64);

write_file("$dir/dev.vars", "JWT_SECRET=" . random_hex(32) . "\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);

sub write_conf {
    my ($zone, $state) = @_;
    $state //= "ttai_state_dir $dir/state;";
    my $user = $> == 0 ? 'user root;' : '';
    write_file("$dir/nginx.conf", <<"CONF");
load_module $so;
$user
master_process on;
worker_processes 1;
error_log $dir/error.log info;
pid $dir/nginx.pid;
thread_pool default threads=2;

events {
    worker_connections 256;
}

http {
    access_log off;
    client_body_temp_path $dir/tmp;

    ttai_environment development;
    ttai_env_file $dir/dev.vars;
    $state
    $zone

    server {
        listen 127.0.0.1:$port;

        location /_ttai/ {
            ttai_admin;
            client_max_body_size 2m;
            client_body_buffer_size 2m;
        }

        location = /health {
            ttai_health;
        }
    }
}
CONF
}

# (status, body); status 0 when no answer came within $timeout s
sub http {
    my ($method, $path, $body, $timeout) = @_;
    $body //= '';
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5)
        or return (0, '');
    print {$s} "$method $path HTTP/1.1\r\nHost: localhost\r\n"
             . "Connection: close\r\nContent-Length: " . length($body)
             . "\r\n\r\n$body";
    my $raw = '';
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($timeout // 10);
        local $/;
        $raw = <$s> // '';
        alarm(0);
        1;
    };
    alarm(0);
    close $s;
    return (0, '') unless $ok;
    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    return (0, '') unless defined $head && $head =~ m{^HTTP/1\.\d (\d+)};
    return ($1, $rest // '');
}

sub put {
    my ($key, $value) = @_;
    return (http('PUT', "/_ttai/kv/values/$key", $value))[0];
}

sub health {
    my ($timeout) = @_;
    my ($status, $body) = http('GET', '/health', undef, $timeout);
    my $h = $status ? eval { $json->decode($body) } : undef;
    return ($status, $h);
}

sub log_text { read_file("$dir/error.log") }

my $master;
# a test that dies midway must not leave nginx running, nor a worker
# blocked on a pipe: the pipe is removed, which lets its open() fail
my @fifos;
END {
    local $?;
    unlink @fifos;
    Ttai::Util::stop_pid($master, 5) if $master && kill(0, $master);
}

sub start {
    $master = fork // die "fork: $!";
    if ($master == 0) {
        open STDOUT, '>>', "$dir/stdout.log";
        open STDERR, '>&', \*STDOUT;
        exec($nginx, '-p', "$dir/", '-c', "$dir/nginx.conf",
             '-e', "$dir/error.log", '-g', 'daemon off;')
            or POSIX::_exit(127);
    }
    return wait_until(10, sub { (health(2))[0] == 200 });
}

sub workers {
    my @pids;
    for my $status (glob '/proc/[0-9]*/status') {
        my ($pid) = $status =~ m{^/proc/(\d+)/};
        open my $fh, '<', $status or next;
        while (<$fh>) {
            if (/^PPid:\s+(\d+)/) {
                push @pids, $pid if $1 == $master;
                last;
            }
        }
    }
    return sort { $a <=> $b } @pids;
}

sub reload {
    my %old = map { $_ => 1 } workers();
    kill 'HUP', $master;
    return wait_until(15, sub {
        my @w = workers();
        @w == 1 && !grep { $old{$_} } @w;
    });
}

# the pipe where this worker writes its next snapshot
sub fifo_for {
    my ($worker) = @_;
    my $fifo = "$snapshot.tmp.$worker";
    unlink $fifo;
    mkfifo($fifo, 0600) or die "mkfifo $fifo: $!";
    push @fifos, $fifo;
    return $fifo;
}

# reads the whole pipe; undef when no writer opens it within $timeout s
sub drain {
    my ($fifo, $timeout) = @_;
    my $data;
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($timeout);
        sysopen(my $fh, $fifo, O_RDONLY) or die "open $fifo: $!";
        alarm(0);
        local $/;
        binmode $fh;
        $data = <$fh> // '';
        close $fh;
        1;
    };
    alarm(0);
    return $ok ? $data : undef;
}


# --- a save blocked in the thread pool: /health answers meanwhile ----------

write_conf('ttai_kv_zone kv 64m snapshot_interval=1s;');
ok start(), 'nginx starts with one worker';
my ($worker) = workers();
ok $worker, "its worker runs ($worker)";
ok -d "$dir/state/kv", 'the state folder is made';

my $stored = 0;
for my $i (1 .. $BIG) {
    $stored++ if put(sprintf('big-%02d', $i), $MIB) == 200;
}
is $stored, $BIG, "$BIG values of 1 MiB are stored";
ok wait_until(10, sub { log_text() =~ /saved $BIG entries to "\Q$snapshot\E"/ }),
    'and saved';

my $fifo = fifo_for($worker);
is put('trigger', 'the zone changed'), 200, 'a key is stored';

# the next tick (every second) starts a save, which blocks on the pipe
sleep 2.5;

my @answers;
for (1 .. 5) {
    my $t0 = time;
    my ($status) = health(3);
    push @answers, [$status, time - $t0];
    sleep 0.2;
}
is_deeply [map { $_->[0] } @answers], [(200) x 5],
    '/health answers while the save waits on the pipe'
    or diag explain \@answers;
is put('during', 'stored while a save is in flight'), 200,
    'and so does a durable put';

my $data = drain($fifo, 10);
ok defined $data, 'the save was in flight: it opened the pipe';
ok length($data // '') > $BIG * 1000 * 1000,
    'the whole zone went through the pipe (' . length($data // '') . ' bytes)';

ok wait_until(10, sub { log_text() =~ /ttai: KV zone "kv" not saved: writing "\Q$fifo\E" failed \(22: Invalid argument\)/ }),
    'the pipe cannot be synced: the save fails, with a line in the error log';

# the failure is kept until the next save, which follows a second later
ok wait_until(10, sub { log_text() =~ /\[info\] .*ttai: KV zone "kv" saved @{[ $BIG + 2 ]} entries to "\Q$snapshot\E" on the thread pool\n/ }),
    'the next save succeeds on the thread pool, with every entry';
like log_text(), qr/\[notice\] .*ttai: KV zone "kv": the snapshot works again/,
    'the error log says it works again';
ok wait_until(5, sub {
        my ($s, $h) = health(3);
        $s == 200 && $h->{checks}{kv}{status} eq 'ok';
    }), '/health is healthy again';
ok -s $snapshot > $BIG * 1000 * 1000, 'the snapshot is on disk';


# --- a save in flight at exit: the final save comes after it ----------------

$fifo = fifo_for($worker);
is put('last', 'stored just before the stop'), 200, 'a key is stored';
sleep 2.5;
is((health(3))[0], 200, 'a save waits on the pipe again, /health answers');

my $log_size = length log_text();
kill 'QUIT', $master;

# the worker leaves its event loop, and waits for the thread pool
sleep 1;
ok kill(0, $master), 'nginx waits for the save in flight';

$data = drain($fifo, 10);
ok defined $data && length($data) > $BIG * 1000 * 1000,
    'the save in flight goes on once the pipe is read';

ok wait_until(15, sub { waitpid($master, WNOHANG) == $master }),
    'nginx stops';

my $exit_log = substr(log_text(), $log_size);
like $exit_log, qr/not saved: writing "\Q$fifo\E" failed \(22: Invalid argument\).*\n(.*\n)*.*\[info\] .*ttai: KV zone "kv" saved \d+ entries to "\Q$snapshot\E"\n/,
    'its failure is logged, then the final save at exit succeeds';
unlike $exit_log, qr/\[(crit|alert|emerg)\]/, 'with no crit, alert or emerg';

ok start(), 'nginx starts again';
like log_text(), qr/ttai: KV zone "kv" restored @{[ $BIG + 3 ]} entries from "\Q$snapshot\E"/,
    'every key is restored from the snapshot written at exit';
my ($st, $body) = http('GET', '/_ttai/kv/values/last');
is $body, 'stored just before the stop', 'the last key is back';


# --- no thread pool: the snapshot is written on the event loop ----------------

# no state folder, so no database, and no journal: no thread pool
write_conf("ttai_kv_zone kv 64m snapshot=$snapshot snapshot_interval=1s "
           . 'journal=off;', '');
ok reload(), 'HUP into a zone with neither a journal nor a database';
is put('sync', 'saved on the event loop'), 200, 'a key is stored';
ok wait_until(10, sub { read_file($snapshot) =~ /saved on the event loop/ }),
    'the snapshot has it';
# the line follows the file's rename: wait for it, not only for the file
ok wait_until(10, sub { log_text() =~ /\[info\] .*ttai: KV zone "kv" saved @{[ $BIG + 4 ]} entries to "\Q$snapshot\E"\n/ }),
    'written on the event loop';

kill 'QUIT', $master;
ok wait_until(15, sub { waitpid($master, WNOHANG) == $master }),
    'nginx stops';

unlike log_text(), qr/\[(crit|alert|emerg)\]/, 'no crit, alert or emerg line';

done_testing;
