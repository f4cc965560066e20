# A graceful reload answers the requests that wait on a database query.
# A worker that shuts down leaves once only timers that may be cancelled
# are left, and a query on the thread pool has no timer of its own: so
# the bridge keeps one while requests wait on it.
#
# To have writes surely in flight when the HUP comes, another process
# holds SQLite's write lock: every write waits in a thread (up to the
# busy timeout) until it is released, after the reload began.  Each
# round counts every answer: all of them are 200, none is a closed
# connection, and every row is in the database.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::INET;
use IPC::Open2 qw(open2);
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use Ttai::Util qw(repo_root scratch_dir free_port write_file read_file
                  random_hex run_capture wait_until skip_or_fail);

my $root = repo_root();
my $so = "$root/build/nginx/ngx_http_ttai_module.so";
my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';

skip_or_fail("module not built: run make") unless -f $so;
skip_or_fail("the sqlite3 command is needed")
    unless system('sqlite3 -version >/dev/null 2>&1') == 0;

my $ROUNDS = 3;
my $WRITES = 12;            # concurrent writes per round

my $dir = scratch_dir('d1-reload');
my $port = free_port();
my $db = "$dir/state/d1/ttai/db.sqlite";

write_file("$dir/ttai.env", "JWT_SECRET=" . random_hex(32) . "\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);

# no reuseport: a worker that leaves closes no socket that new
# connections could be waiting on, so a refusal can only be this bug
write_file("$dir/nginx.conf", <<"_EOC_");
load_module $so;
daemon off;
master_process on;
worker_processes 2;
error_log $dir/error.log info;
pid $dir/nginx.pid;
thread_pool ttai threads=4 max_queue=1024;

events {
    worker_connections 256;
}

http {
    log_format d1 '\$pid \$status \$request_uri';
    access_log $dir/access.log d1;
    client_body_temp_path $dir/body_temp;
    proxy_temp_path $dir/proxy_temp;
    fastcgi_temp_path $dir/fastcgi_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;

    ttai_environment development;
    ttai_env_file $dir/ttai.env;
    ttai_state_dir $dir/state;
    ttai_thread_pool ttai;
    ttai_migrations $root/migrations;

    server {
        listen 127.0.0.1:$port;

        location /_ttai/ {
            ttai_admin;
        }
    }
}
_EOC_

sub request_text {
    my ($sql) = @_;
    my $body = qq({"sql":"$sql"});
    return "POST /_ttai/d1/query HTTP/1.1\r\nHost: localhost\r\n"
         . "Content-Type: application/json\r\n"
         . "Content-Length: " . length($body) . "\r\nConnection: close\r\n"
         . "\r\n$body";
}

sub status_of {
    my ($raw) = @_;
    return (($raw // '') =~ m{^HTTP/1\.\d (\d+)}) ? $1 : 0;
}

sub post {
    my ($sql) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 10)
        or return 0;
    print {$s} request_text($sql);
    local $/;
    my $raw = <$s>;
    close $s;
    return status_of($raw);
}

my $master = fork // die "fork: $!";
if ($master == 0) {
    open STDOUT, '>', "$dir/stdout.log";
    open STDERR, '>&', \*STDOUT;
    exec($nginx, '-p', "$dir/", '-c', "$dir/nginx.conf")
        or POSIX::_exit(127);
}
# a test that dies midway must not leave nginx running
END { local $?; Ttai::Util::stop_pid($master, 5) if $master && kill(0, $master) }

ok wait_until(10, sub { post('SELECT 1') == 200 }), 'nginx starts';
is post('CREATE TABLE reload (round INTEGER, i INTEGER)'), 200,
    'a table is created';

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

for my $round (1 .. $ROUNDS) {
    my @old = workers();

    my $holder = open2(my $from, my $to, 'sqlite3', $db);
    print {$to} "BEGIN IMMEDIATE;\n.print locked\n";
    $to->flush;
    is scalar(<$from>), "locked\n",
        "round $round: another process holds the write lock";

    my @socks;
    for my $i (1 .. $WRITES) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Timeout => 10)
            or die "connect: $!";
        print {$s} request_text("INSERT INTO reload VALUES ($round, $i)");
        push @socks, $s;
    }

    # every request is read and its query waits for the lock
    sleep 0.5;
    my $sel = IO::Select->new(@socks);
    my @early = $sel->can_read(0);
    is scalar(@early), 0, "round $round: no write is answered yet";

    kill 'HUP', $master;

    # the old workers are told to leave before the lock is released
    ok wait_until(10, sub {
            my %old = map { $_ => 1 } @old;
            my @new = grep { !$old{$_} } workers();
            @new == 2;
        }), "round $round: new workers start";
    sleep 0.5;

    print {$to} "COMMIT;\n.quit\n";
    close $to;
    waitpid $holder, 0;

    my @statuses;
    for my $s (@socks) {
        my $raw = '';
        eval {
            local $SIG{ALRM} = sub { die "timeout\n" };
            alarm 10;
            local $/;
            $raw = <$s> // '';
            alarm 0;
        };
        alarm 0;
        close $s;
        push @statuses, status_of($raw);
    }
    is_deeply \@statuses, [(200) x $WRITES],
        "round $round: every one of the $WRITES writes answers 200";

    ok wait_until(15, sub {
            my %now = map { $_ => 1 } workers();
            !grep { $now{$_} } @old;
        }), "round $round: the old workers are gone";

    my ($rc, $out) = run_capture('sqlite3', $db,
        "SELECT count(*) FROM reload WHERE round = $round");
    is $out, "$WRITES\n", "round $round: every row is in the database";
}

kill 'QUIT', $master;
ok wait_until(20, sub { waitpid($master, WNOHANG) == $master }),
    'nginx stops';

unlike read_file("$dir/error.log"), qr/\[(alert|crit|emerg)\]/,
    'no alert, crit or emerg line';

done_testing;
