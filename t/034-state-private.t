# The state folder is the server's user's alone: nginx started on an empty
# one, with a D1 row, a KV snapshot, an MCP session snapshot and an R2
# object written, leaves every file 0600 and every folder 0700 (the
# SQLite -wal and -shm files included), whatever the umask.  State left
# open to others by an older version is made private at the next start,
# with a notice; a symbolic link in it is not followed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Find ();
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Test::More;
use Ttai::Util qw(repo_root scratch_dir free_port write_file read_file
                  random_hex wait_until skip_or_fail jwt);

my $root = repo_root();
my $so = "$root/build/nginx/ngx_http_ttai_module.so";
my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';

skip_or_fail("module not built: run make") unless -f $so;

my $dir = scratch_dir('state-private');
my $state = "$dir/state";
my $port = free_port();
my $secret = random_hex(32);

write_file("$dir/dev.vars", "JWT_SECRET=$secret\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);

my $user = $> == 0 ? 'user root;' : '';
write_file("$dir/nginx.conf", <<"CONF");
load_module $so;
$user
master_process on;
worker_processes 1;
error_log $dir/error.log notice;
pid $dir/nginx.pid;

events {
    worker_connections 64;
}

http {
    access_log off;
    client_body_temp_path $dir/tmp;

    ttai_environment development;
    ttai_env_file $dir/dev.vars;
    ttai_state_dir $state;
    ttai_migrations $root/migrations;
    ttai_kv_zone kv 1m;
    ttai_mcp_sessions SESSIONS 1m;

    server {
        listen 127.0.0.1:$port;

        location /_ttai/ {
            ttai_admin;
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

# what the old code got from the usual umask: 0644 files, 0755 folders
umask 022;

sub http {
    my ($method, $path, $body, @headers) = @_;
    $body //= '';
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5)
        or return (0, '');
    print {$s} "$method $path HTTP/1.1\r\nHost: localhost\r\n"
             . join('', map { "$_\r\n" } @headers)
             . "Connection: close\r\nContent-Length: " . length($body)
             . "\r\n\r\n$body";
    local $/;
    my $raw = <$s> // '';
    close $s;
    my ($status) = $raw =~ m{^HTTP/1\.\d (\d+)};
    my (undef, $rest) = split /\r\n\r\n/, $raw, 2;
    return ($status // 0, $rest // '');
}

sub log_text { read_file("$dir/error.log") }

my $master;
END { local $?; Ttai::Util::stop_pid($master, 5) if $master && kill(0, $master) }

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
    my $up = wait_until(10, sub { (http('GET', '/health'))[0] == 200 });
    return $up ? substr(log_text(), $log_size) : undef;
}

sub stop {
    kill 'QUIT', $master;
    my $gone = wait_until(15, sub { waitpid($master, WNOHANG) == $master });
    unless ($gone) {
        kill 'KILL', $master;
        waitpid $master, 0;
    }
    return $gone;
}

# path (relative to the state folder) => permission bits, links left out
sub modes {
    my %m;
    File::Find::find({ no_chdir => 1, wanted => sub {
        return if -l $_;
        my $rel = $_ eq $state ? '.' : substr($_, length($state) + 1);
        $m{$rel} = (lstat $_)[2] & 07777;
    } }, $state);
    return \%m;
}

sub loose {
    my ($m, $dirs) = @_;
    return [ map { sprintf '%s %04o', $_, $m->{$_} }
             grep { $m->{$_} != ((-d "$state/$_") ? 0700 : 0600) }
             sort keys %$m ];
}

# --- an empty state folder, written to -------------------------------------

ok defined start(), 'nginx starts on an empty state folder';

my ($st, $b) = http('POST', '/_ttai/d1/query',
    '{"sql":"INSERT INTO users (id, email) VALUES (?, ?)",'
    . '"params":["5WT00001","a@example.com"]}');
is $st, 200, 'a D1 row is written' or diag $b;
($st) = http('PUT', '/_ttai/kv/values/quote:AAPL', '{"price":150}');
is $st, 200, 'a KV key is written';
($st) = http('PUT', '/_ttai/r2/bucket/deep/folder/object.txt', 'an object');
is $st, 200, 'an R2 object is written';

my $token = jwt($secret, { sub => '5WT00001', exp => time + 600 });
($st, $b) = http('POST', '/mcp',
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":'
    . '{"protocolVersion":"2025-11-25","capabilities":{},'
    . '"clientInfo":{"name":"t","version":"1"}}}',
    "Authorization: Bearer $token", 'Content-Type: application/json',
    'Accept: application/json, text/event-stream');
is $st, 200, 'an MCP session is opened' or diag $b;

my $db = "$state/d1/ttai/db.sqlite";
ok -f "$db-wal" && -f "$db-shm",
    'SQLite has its -wal and -shm files open';

my $m = modes();
is_deeply loose($m), [], 'while it runs, every file is 0600 and every '
    . 'folder 0700' or diag explain $m;

ok stop(), 'nginx stops, writing its snapshots';
ok -f "$state/kv/kv.snapshot", 'the KV snapshot is there';
ok -f "$state/do/SESSIONS.snapshot", 'the session snapshot is there';

$m = modes();
ok exists $m->{'r2/bucket/deep/folder/object.txt'}, 'and the R2 object';
cmp_ok scalar(keys %$m), '>=', 14, 'the state has its files and folders'
    or diag explain $m;
is_deeply loose($m), [], 'every file is 0600 and every folder 0700'
    or diag explain $m;
unlike log_text(), qr/could be read by other users/,
    'nothing had to be made private';

# --- state left open to others is closed at the next start --------------------

File::Find::find({ no_chdir => 1, wanted => sub {
    chmod((-d $_) ? 0755 : 0644, $_) unless -l $_;
} }, $state);
write_file("$dir/outside.txt", "not the state's\n", 0644);
symlink "$dir/outside.txt", "$state/r2/bucket/link.txt" or die "symlink: $!";
cmp_ok scalar(@{ loose(modes()) }), '==', scalar(keys %{ modes() }),
    'every file and folder of the state is opened to others';

my $log = start();
ok defined $log, 'nginx starts again';
like $log, qr/\[notice\] .*ttai: \d+ file\(s\) and folder\(s\) of "\Q$state\E" could be read by other users .*now the server user's only: files 0600, folders 0700/,
    'saying that it made them private';
is_deeply loose(modes()), [], 'every file is 0600 and every folder 0700 again';
is((stat "$dir/outside.txt")[2] & 07777, 0644,
   'a link in the state is not followed');
($st, $b) = http('POST', '/_ttai/d1/query',
    '{"sql":"SELECT email FROM users WHERE id = ?","params":["5WT00001"]}');
like $b, qr/a\@example\.com/, 'and the data is all there';
ok stop(), 'nginx stops';

done_testing;
