# The KV zone with a master and two workers: writers in both workers lose
# nothing, a reload keeps the contents in shared memory, and a restart
# brings them back from the snapshot in the state folder (periodic, or
# written at exit), without the keys that expired meanwhile.  A torn
# snapshot is refused; removing state/kv/ is a reset.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Path qw(remove_tree);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use Ttai::Util qw(repo_root scratch_dir free_port write_file read_file
                  random_hex wait_until start_nginx skip_or_fail);

my $root = repo_root();
my $so = "$root/build/nginx/ngx_http_ttai_module.so";

skip_or_fail("module not built: run make") unless -f $so;

my $dir = scratch_dir('kv-persistence');
my $port = free_port();
my $snapshot = "$dir/state/kv/kv.snapshot";
my $json = JSON::PP->new;

write_file("$dir/dev.vars", "JWT_SECRET=" . random_hex(32) . "\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);

my $zone_conf;

sub write_conf {
    my ($zone) = @_;
    $zone_conf = $zone //= $zone_conf;
    my $user = $> == 0 ? 'user root;' : '';
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
    log_format by_pid '\$pid \$request_method \$status';
    access_log $dir/access.log by_pid;
    client_body_temp_path $dir/tmp;

    ttai_environment development;
    ttai_env_file $dir/dev.vars;
    ttai_state_dir $dir/state;
    $zone

    server {
        # one socket per worker: the kernel spreads connections over both
        listen 127.0.0.1:$port reuseport;

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

# (status, { lc header => value }, body)
sub http {
    my ($method, $path, $body) = @_;
    $body //= '';
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5)
        or return (0, {}, '');
    print {$s} "$method $path HTTP/1.1\r\nHost: localhost\r\n"
             . "Connection: close\r\nContent-Length: " . length($body)
             . "\r\n\r\n$body";
    local $/;
    my $raw = <$s> // '';
    close $s;
    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    return (0, {}, '') unless defined $head && $head =~ m{^HTTP/1\.\d (\d+)};
    my $status = $1;
    my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () }
            split /\r\n/, $head;
    return ($status, \%h, $rest // '');
}

sub put {
    my ($key, $value, $args) = @_;
    my ($status) = http('PUT', "/_ttai/kv/values/$key"
                               . (defined $args ? "?$args" : ''), $value);
    return $status;
}

sub get {
    my ($key) = @_;
    return http('GET', "/_ttai/kv/values/$key");
}

sub list {
    my ($args) = @_;
    my ($status, $h, $body) = http('GET', "/_ttai/kv/keys?" . ($args // ''));
    return $status == 200 ? $json->decode($body) : undef;
}

sub health_kv {
    my ($status, $h, $body) = http('GET', '/health');
    return $status == 200 ? $json->decode($body)->{checks}{kv} : undef;
}

sub log_text { read_file("$dir/error.log") }

my $master;
# a test that dies midway must not leave nginx running
END { local $?; Ttai::Util::stop_pid($master, 5) if $master && kill(0, $master) }

sub start {
    my $log_size = -s "$dir/error.log" // 0;
    $master = eval {
        start_nginx(dir => $dir, conf => "$dir/nginx.conf",
                    args => [ '-e', "$dir/error.log", '-g', 'daemon off;' ],
                    out => "$dir/stdout.log", error_log => "$dir/error.log",
                    pid_file => "$dir/nginx.pid",
                    ready => sub { (http('GET', '/health'))[0] == 200 },
                    ports => [ \$port ], write => sub { write_conf() });
    };
    diag $@ unless $master;
    return $master ? substr(log_text(), $log_size) : undef;
}

sub stop {
    my ($signal) = @_;
    kill $signal // 'QUIT', $master;
    my $gone = wait_until(15, sub { waitpid($master, WNOHANG) == $master });
    unless ($gone) {
        kill 'KILL', $master;
        waitpid $master, 0;
    }
    return $gone;
}

# the worker processes of our master
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
        @w == 2 && !grep { $old{$_} } @w;
    });
}


# --- two workers, one zone ----------------------------------------------

write_conf('ttai_kv_zone kv 4m snapshot=off;');
ok defined start(), 'nginx starts with a master and two workers';
is scalar(my @w = workers()), 2, 'two workers run';

is put('plain', 'kept in shared memory'), 200, 'a key is stored';
is put('quote:AAPL', '{"symbol":"AAPL","price":150.00}',
       'ttl=3600&metadata=%7B%22source%22%3A%22tastytrade%22%7D'), 200,
   'a key with a TTL and metadata is stored';

my (undef, $h) = get('quote:AAPL');
my $expiration = $h->{'x-ttai-expiration'};
like $expiration, qr/^\d{10}$/, 'the key has an expiration';
ok $expiration >= time + 3590 && $expiration <= time + 3600,
    'the expiration is the put time plus the TTL';

# 2 x N PUTs of distinct keys from two clients at once
my $n = 200;
my @clients;
for my $c (0, 1) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $failed = 0;
        for my $i (1 .. $n) {
            $failed++ if put(sprintf('w%d-%03d', $c, $i), "value $c $i") != 200;
        }
        POSIX::_exit($failed > 255 ? 255 : $failed);
    }
    push @clients, $pid;
}
for my $pid (@clients) {
    waitpid $pid, 0;
    is $? >> 8, 0, "client $pid: all of its $n PUTs answered 200";
}

my $page = list('prefix=w&limit=1000');
is scalar @{ $page->{keys} }, 2 * $n, "all 2 x $n keys are listed";
ok $page->{list_complete}, 'the list is complete';
is_deeply [ map { $_->{name} } @{ $page->{keys} } ],
          [ sort map { my $c = $_; map { sprintf 'w%d-%03d', $c, $_ } 1 .. $n }
                 0, 1 ],
          'every key is there, in byte order';
is((get('w1-137'))[2], 'value 1 137', 'a value reads back');

my %servers;
for (split /\n/, read_file("$dir/access.log")) {
    $servers{$1}++ if /^(\d+) PUT 200$/;
}
is scalar(keys %servers), 2, 'both workers served PUTs'
    or diag explain \%servers;

# --- reload: the zone carries over ---------------------------------------

ok reload(), 'HUP: new workers replace the old ones';
is((get('plain'))[2], 'kept in shared memory', 'a key survives the reload');
my ($s, $qh, $qb) = get('quote:AAPL');
is $qb, '{"symbol":"AAPL","price":150.00}', 'so does the quote';
is $qh->{'x-ttai-expiration'}, $expiration, '... with its expiration';
is $qh->{'x-ttai-metadata'}, '{"source":"tastytrade"}', '... and metadata';
is scalar @{ list('prefix=w')->{keys} }, 2 * $n, 'so do the 2 x N keys';
ok !-e $snapshot, 'with snapshot=off no snapshot was written';
unlike log_text(), qr/restored/, 'nothing was restored from a file';

# --- snapshots ------------------------------------------------------------

# a long interval: the only snapshot in this part is the one at exit
write_conf('ttai_kv_zone kv 4m snapshot_interval=1h;');
ok reload(), 'HUP into a configuration with snapshots';
is((get('plain'))[2], 'kept in shared memory',
   'the zone is kept when only the snapshot settings change');

is put('later', 'stored just before the stop'), 200, 'a key is stored';
my $short = time;
is put('short-lived', 'gone soon', 'ttl=3'), 200, 'a key with a 3 s TTL too';
is((http('DELETE', '/_ttai/kv/values/w0-001'))[0], 200, 'a key is deleted');
ok !-e $snapshot, 'no snapshot is written before the interval';

ok stop('QUIT'), 'nginx stops on QUIT';
like log_text(), qr/\[info\] .*ttai: KV zone "kv" saved 403 entries to "\Q$snapshot\E"/,
    'worker 0 saved the zone at exit';

sleep 0.1 while time < $short + 3.5;

my $log = start();
ok defined $log, 'nginx starts again';
like $log, qr/\[notice\] .*ttai: KV zone "kv" restored 402 entries from "\Q$snapshot\E" \(1 expired, 0 past the limits, 0 did not fit\)/,
    'the snapshot is restored without the expired key';
is((get('plain'))[2], 'kept in shared memory', 'a key is back');
is((get('later'))[2], 'stored just before the stop',
   'the key stored just before the stop is back');
($s, $qh, $qb) = get('quote:AAPL');
is $qb, '{"symbol":"AAPL","price":150.00}', 'the quote is back';
is $qh->{'x-ttai-expiration'}, $expiration, '... with the same expiration';
is $qh->{'x-ttai-metadata'}, '{"source":"tastytrade"}', '... and metadata';
is((get('short-lived'))[0], 404, 'the expired key is not');
is((get('w0-001'))[0], 404, 'nor the deleted one');
is health_kv()->{entries}, 402, '/health counts the restored entries';
is scalar @{ list('prefix=w')->{keys} }, 2 * $n - 1,
   'the listed keys are those restored';

# a crash: no snapshot at exit, the periodic one has the key
write_conf('ttai_kv_zone kv 4m snapshot_interval=1s;');
ok reload(), 'HUP into snapshots every second';
is put('before-crash', 'saved by the timer'), 200, 'a key is stored';
ok wait_until(10, sub { read_file($snapshot) =~ /before-crash/ }),
    'the periodic snapshot has it';
my @crashed = workers();
kill 'KILL', $master;
waitpid $master, 0;
kill 'KILL', @crashed;
ok wait_until(10, sub { !grep { kill 0, $_ } @crashed }),
    'the master and its workers are killed';

$log = start();
ok defined $log, 'nginx starts after the crash';
is((get('before-crash'))[2], 'saved by the timer',
   'the key comes back from the periodic snapshot');

# a torn snapshot is refused as a whole
ok stop('QUIT'), 'nginx stops';
my $size = -s $snapshot;
truncate $snapshot, int($size / 2) or die "truncate: $!";
$log = start();
ok defined $log, 'nginx starts with a torn snapshot';
like $log, qr/\[error\] .*ttai: KV zone "kv" starts empty: snapshot "\Q$snapshot\E" refused: the file is torn: its end marker is missing .*; it was moved to \Q$snapshot\E\.bad/,
    'the torn snapshot is refused with a clear line';
ok -e "$snapshot.bad" && !-e $snapshot, 'it is moved aside';
is_deeply list()->{keys}, [], 'the zone starts empty';

# removing state/kv/ is a reset
is put('to-be-reset', 'x'), 200, 'a key is stored';
ok stop('QUIT'), 'nginx stops and saves';
ok read_file($snapshot) =~ /to-be-reset/, 'the snapshot has the key';
remove_tree("$dir/state/kv");
$log = start();
ok defined $log, 'nginx starts without state/kv/';
like $log, qr/ttai: KV zone "kv" starts empty: no snapshot/,
    'it says the zone starts empty';
unlike $log, qr/\[(error|crit|alert|emerg)\]/, 'without an error';
ok -d "$dir/state/kv", 'state/kv/ is created again';
is_deeply list()->{keys}, [], 'no key is left';
ok stop('QUIT'), 'nginx stops';

unlike log_text(), qr/\[(crit|alert|emerg)\]/, 'no crit, alert or emerg line';

done_testing;
