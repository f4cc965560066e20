# Concurrency: two workers and the CLI update one row at once and no
# update is lost; a full thread-pool queue answers 503.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::INET;
use IPC::Open2 qw(open2);
use POSIX qw(WNOHANG);
use Test::More;
use Ttai::Util qw(repo_root scratch_dir free_port write_file read_file
                  random_hex run_capture wait_until start_nginx
                  skip_or_fail);

my $root = repo_root();
my $so = "$root/build/nginx/ngx_http_ttai_module.so";
my $ttai = "$root/build/ttai";

skip_or_fail("module or CLI not built: run make") unless -f $so && -x $ttai;
skip_or_fail("the sqlite3 command is needed")
    unless system('sqlite3 -version >/dev/null 2>&1') == 0;

my $CLIENTS = 8;            # HTTP clients, each a process
my $REQUESTS = 100;         # requests per client
my $CLI_RUNS = 40;          # updates made by the CLI meanwhile

my $dir = scratch_dir('d1-concurrency');

write_file("$dir/ttai.env", "JWT_SECRET=" . random_hex(32) . "\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);

# the arguments each folder's configuration was written with
my %conf_args;

# no "user" directive: as root, the workers run as nginx's default user
sub conf {
    my ($name, $port, $workers, $pool) = @_;
    my $d = "$dir/$name";
    $conf_args{$d} = [ $name, $workers, $pool ];

    write_file("$d/nginx.conf", <<"_EOC_");
load_module $so;
daemon off;
master_process on;
worker_processes $workers;
error_log $d/error.log info;
pid $d/nginx.pid;
thread_pool ttai $pool;

events {
    worker_connections 256;
}

http {
    log_format d1 '\$pid \$status \$request_uri';
    access_log $d/access.log d1;
    client_body_temp_path $d/body_temp;
    proxy_temp_path $d/proxy_temp;
    fastcgi_temp_path $d/fastcgi_temp;
    uwsgi_temp_path $d/uwsgi_temp;
    scgi_temp_path $d/scgi_temp;

    ttai_environment development;
    ttai_env_file $dir/ttai.env;
    ttai_state_dir $d/state;
    ttai_thread_pool ttai;
    ttai_migrations $root/migrations;

    server {
        # reuseport: the kernel spreads connections over both workers
        listen 127.0.0.1:$port reuseport;

        location /_ttai/ {
            ttai_admin;
        }

        location = /health {
            ttai_health;
        }
    }
}
_EOC_

    return $d;
}

# starts the nginx of folder $d on $$port (another port when that one was
# taken after all, and the configuration is written again)
sub start {
    my ($d, $port) = @_;
    my ($name, $workers, $pool) = @{ $conf_args{$d} };

    my $pid = eval {
        start_nginx(dir => $d, conf => "$d/nginx.conf",
                    out => "$d/stdout.log", error_log => "$d/error.log",
                    pid_file => "$d/nginx.pid",
                    ready => sub { post($$port, 'SELECT 1')->{status} == 200 },
                    ports => [ $port ],
                    write => sub { conf($name, $$port, $workers, $pool) });
    };
    diag $@ unless $pid;
    return $pid;
}

sub stop {
    my ($pid) = @_;
    return 0 unless $pid;
    kill 'QUIT', $pid;
    my $gone = wait_until(20, sub { waitpid($pid, WNOHANG) == $pid });
    unless ($gone) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    return $gone;
}

sub request_text {
    my ($sql) = @_;
    my $body = qq({"sql":"$sql"});
    return "POST /_ttai/d1/query HTTP/1.1\r\nHost: localhost\r\n"
         . "Content-Type: application/json\r\n"
         . "Content-Length: " . length($body) . "\r\nConnection: close\r\n"
         . "\r\n$body";
}

sub parse {
    my ($raw) = @_;
    my ($head, $body) = split /\r\n\r\n/, $raw // '', 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    return { status => $status // 0, head => $head // '',
             body => $body // '' };
}

sub post {
    my ($port, $sql) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 10)
        or return { status => 0, head => '', body => "connect: $!" };
    print {$s} request_text($sql);
    local $/;
    my $raw = <$s>;
    close $s;
    return parse($raw);
}

# -- no lost update: 8 clients on 2 workers, and the CLI ------------------

my $port = free_port();
my $d = conf('two-workers', $port, 2, 'threads=4 max_queue=1024');
my $db = "$d/state/d1/ttai/db.sqlite";
my $pid = start($d, \$port);
# a test that dies midway must not leave nginx running
END { local $?; Ttai::Util::stop_pid($pid, 5) if $pid && kill(0, $pid) }

ok $pid, 'nginx starts with two workers';

is post($port, 'CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)')
       ->{status}, 200, 'the counter table is created';
is post($port, 'INSERT INTO counter VALUES (1, 0)')->{status}, 200,
    'and its row';

my @kids;

for my $c (1 .. $CLIENTS) {
    my $kid = fork // die "fork: $!";
    if ($kid == 0) {
        my $bad = 0;
        for (1 .. $REQUESTS) {
            my $r = post($port, 'UPDATE counter SET n = n + 1 WHERE id = 1');
            $bad++ unless $r->{status} == 200 && $r->{body} =~ /"changes":1,/;
        }
        POSIX::_exit($bad > 254 ? 254 : $bad);
    }
    push @kids, $kid;
}

my $cli = fork // die "fork: $!";
if ($cli == 0) {
    my $bad = 0;
    for (1 .. $CLI_RUNS) {
        my ($rc, $out) = run_capture($ttai, 'd1', 'execute', '--db', $db,
            '--command', 'UPDATE counter SET n = n + 1 WHERE id = 1');
        $bad++ unless $rc == 0 && $out =~ /1 row changed/;
    }
    POSIX::_exit($bad > 254 ? 254 : $bad);
}

my $failed = 0;
for my $kid (@kids) {
    waitpid $kid, 0;
    $failed += $? >> 8;
}
is $failed, 0, "every one of the @{[ $CLIENTS * $REQUESTS ]} HTTP updates "
               . 'succeeded';

waitpid $cli, 0;
is $? >> 8, 0, "every one of the $CLI_RUNS CLI updates succeeded";

my $r = post($port, 'SELECT n FROM counter WHERE id = 1');
my $want = $CLIENTS * $REQUESTS + $CLI_RUNS;
like $r->{body}, qr/^\{"results":\[\{"n":$want\}\],/,
    "the counter is $want: no update was lost";

my %pids;
for (split /\n/, read_file("$d/access.log")) {
    $pids{$1}++ if m{^(\d+) 200 /_ttai/d1/query$};
}
is scalar(keys %pids), 2, 'both workers served updates'
    or diag explain \%pids;

ok stop($pid), 'nginx stops';

my $log = read_file("$d/error.log");
unlike $log, qr/\[(error|alert|crit|emerg)\]/, 'no error in the error log'
    or diag join "\n", grep { /\[(error|alert|crit|emerg)\]/ }
                        split /\n/, $log;

my ($rc, $out) = run_capture('sqlite3', $db, 'PRAGMA integrity_check');
is $out, "ok\n", 'the database passes its integrity check';

# -- a full queue answers 503 ------------------------------------------------

# one thread and a queue of one: while another process holds the write
# lock, one write runs (waiting for the lock), one waits in the queue,
# and the third cannot be queued
$port = free_port();
$d = conf('full-queue', $port, 1, 'threads=1 max_queue=1');
$db = "$d/state/d1/ttai/db.sqlite";
$pid = start($d, \$port);

ok $pid, 'nginx starts with a one-thread pool';
is post($port, 'CREATE TABLE t (x)')->{status}, 200, 'a table is created';

my $holder = open2(my $from, my $to, 'sqlite3', $db);
print {$to} "BEGIN IMMEDIATE;\nINSERT INTO t VALUES (0);\n"
          . ".print locked\n";
$to->flush;
is scalar(<$from>), "locked\n", 'another process holds the write lock';

my @socks;
for my $i (1 .. 3) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $port, Timeout => 10)
        or die "connect: $!";
    print {$s} request_text("INSERT INTO t VALUES ($i)");
    push @socks, $s;
}

my $sel = IO::Select->new(@socks);
my @ready = $sel->can_read(10);
is scalar(@ready), 1, 'one request is answered while the lock is held';

my %resp;
for my $s (@ready) {
    local $/;
    $resp{first} = parse(scalar <$s>);
    $sel->remove($s);
}

is $resp{first}{status}, 503, 'it is a 503';
is $resp{first}{body}, '{"error":"db_busy","message":"too many database '
                       . 'queries are waiting; retry later"}',
    'with a JSON error';
like $resp{first}{head}, qr/^Retry-After: 1\r?$/mi, 'and Retry-After';

print {$to} "COMMIT;\n.quit\n";
close $to;
waitpid $holder, 0;

my @statuses;
for my $s ($sel->handles) {
    local $/;
    push @statuses, parse(scalar <$s>)->{status};
}
is_deeply \@statuses, [200, 200], 'the other two succeed once it is released';

($rc, $out) = run_capture('sqlite3', $db, 'SELECT count(*) FROM t');
is $out, "3\n", 'the holder\'s row and two of the three are stored';

like read_file("$d/error.log"),
     qr/thread pool "ttai" queue overflow: 1 tasks waiting/,
     'nginx logs the overflow';

ok stop($pid), 'nginx stops';

done_testing;
