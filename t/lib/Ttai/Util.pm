package Ttai::Util;

# Helpers for the tests that drive whole programs (nginx -t, dev.sh)
# rather than one nginx per block.

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp ();
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(repo_root free_port closed_port write_file read_file random_hex
                    run_capture http_get wait_until scratch_dir nginx_t
                    dev_server stop_pid jwt env_secret skip_or_fail
                    children);

sub repo_root {
    return abs_path(dirname(__FILE__) . '/../../..');
}

# A fresh folder for one test's files.  It lives under a private folder
# in the system's temporary folder, not in the work tree: when nginx runs
# as root its workers run as another user, and the folders above a clone
# may be closed to that user.  Removed at exit unless TTAI_KEEP_SCRATCH
# is set.
my $ScratchBase;

sub scratch_dir {
    my ($name) = @_;
    unless ($ScratchBase) {
        $ScratchBase = File::Temp::tempdir('ttai-test-XXXXXX', TMPDIR => 1,
                                           CLEANUP => !$ENV{TTAI_KEEP_SCRATCH});
        chmod 0755, $ScratchBase;
    }
    my $dir = "$ScratchBase/$name";
    remove_tree($dir);
    make_path($dir, { mode => 0755 });
    return $dir;
}

# What to do when something a test needs is missing (not built, njs,
# node_modules, a command): skip it here, but fail it under CI (CI set to
# anything but "", "0" or "false"), where everything is installed first
# and a skip would hide that a suite never ran.  Without $count, the whole
# .t, before any test; with $count, the $count tests of the enclosing
# SKIP block.
sub skip_or_fail {
    my ($reason, $count) = @_;
    require Test::More;
    my $ci = ($ENV{CI} // '') !~ /^(?:|0|false)$/i;

    if (defined $count) {
        if ($ci) {
            Test::More::fail("$reason (CI is set, so this is no skip)");
            no warnings 'exiting';
            last SKIP;
        }
        Test::More::skip($reason, $count);
    }

    Test::More::plan(skip_all => $reason) unless $ci;
    Test::More::plan(tests => 1);
    Test::More::fail("$reason (CI is set, so this is no skip)");
    exit;
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1)
        or die "cannot bind a free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# A port where a connection is refused, for as long as this process
# lives: a socket bound to it but not listening.  A port number that was
# only free a moment ago may meanwhile be another suite's server (prove
# runs several at once); this one cannot be, because the socket is bound
# without SO_REUSEADDR, which nginx's own bind would need as well.
my @ClosedPorts;

sub closed_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp')
        or die "cannot bind a port: $!";
    push @ClosedPorts, $s;
    return $s->sockport;
}

sub write_file {
    my ($path, $content, $mode) = @_;
    make_path(dirname($path));
    open my $fh, '>', $path or die "$path: $!";
    print {$fh} $content;
    close $fh;
    chmod $mode, $path if defined $mode;
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh>;
}

sub random_hex {
    my ($bytes) = @_;
    open my $fh, '<:raw', '/dev/urandom' or die "/dev/urandom: $!";
    my $buf;
    read $fh, $buf, $bytes;
    return unpack 'H*', $buf;
}

# runs a command, returns (exit status, stdout and stderr together)
sub run_capture {
    my (@cmd) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        exec @cmd or do { print "exec $cmd[0]: $!\n"; POSIX::_exit(127) };
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

# writes a configuration that loads the module, with the given main and
# http text, into $dir and runs "nginx -t" on it: (exit status, output)
sub nginx_t {
    my ($dir, %a) = @_;
    my $so = repo_root() . '/build/nginx/ngx_http_ttai_module.so';
    my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    my $port = free_port();
    my $main = $a{main} // '';
    my $http = $a{http} // '';
    my $server = $a{server} // '';
    write_file("$dir/nginx.conf", <<"CONF");
load_module $so;
error_log stderr debug;
pid $dir/nginx.pid;
$main
events { }
http {
    client_body_temp_path $dir/tmp;
    $http
    server {
        listen 127.0.0.1:$port;
        $server
    }
}
CONF
    return run_capture($nginx, '-t', '-p', "$dir/", '-c', "$dir/nginx.conf");
}

# starts nginx in the foreground with a development configuration of the
# module (admin API on, state in $dir/state) and waits until it answers;
# returns (pid, port).  %a: env => env file text, http => more http
# directives, main => more main directives, server => more server ones.
sub dev_server {
    my ($dir, %a) = @_;
    my $so = repo_root() . '/build/nginx/ngx_http_ttai_module.so';
    my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    my $port = free_port();
    my $user = $> == 0 ? 'user root;' : '';
    write_file("$dir/test.env", $a{env} // "JWT_SECRET=" . random_hex(32)
               . "\nTOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n", 0600);
    make_path("$dir/logs");
    write_file("$dir/nginx.conf", <<"CONF");
load_module $so;
$user
daemon off;
worker_processes @{[ $a{workers} // 1 ]};
error_log $dir/logs/error.log info;
pid $dir/nginx.pid;
@{[ $a{main} // '' ]}
events { }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp;
    ttai_environment development;
    ttai_env_file $dir/test.env;
    ttai_state_dir $dir/state;
    @{[ $a{http} // '' ]}
    server {
        listen 127.0.0.1:$port;
        location = /health { ttai_health; }
        location /_ttai/ {
            ttai_admin;
            client_max_body_size 100m;
            client_body_buffer_size 1m;
        }
        @{[ $a{server} // '' ]}
    }
}
CONF
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$dir/logs/stderr.log";
        open STDERR, '>&', \*STDOUT;
        exec($nginx, '-p', "$dir/", '-c', "$dir/nginx.conf")
            or POSIX::_exit(127);
    }
    wait_until(10, sub { (http_get($port, '/health'))[0] })
        or die "nginx did not start:\n" . read_file("$dir/logs/stderr.log");
    return ($pid, $port);
}

# SIGQUIT, then SIGKILL after $seconds; returns 1 when it stopped in time
sub stop_pid {
    my ($pid, $seconds) = @_;
    kill 'QUIT', $pid;
    my $done = wait_until($seconds // 10,
                          sub { waitpid($pid, WNOHANG) == $pid });
    unless ($done) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    return $done;
}

# the processes whose parent is $pid (an nginx master's workers)
sub children {
    my ($pid) = @_;
    my @pids;
    for my $status (glob '/proc/[0-9]*/status') {
        my ($child) = $status =~ m{^/proc/(\d+)/};
        open my $fh, '<', $status or next;
        while (<$fh>) {
            if (/^PPid:\s+(\d+)/) {
                push @pids, $child if $1 == $pid;
                last;
            }
        }
    }
    return sort { $a <=> $b } @pids;
}

# the value of KEY in an env file
sub env_secret {
    my ($file, $key) = @_;
    my ($v) = read_file($file) =~ /^\Q$key\E=(\S+)/m;
    return $v;
}

# an HS256 JWT made here, independently of the module: the key is the
# secret string as written, as jose's TextEncoder uses it
sub jwt {
    my ($secret, $claims, %opt) = @_;
    require Digest::SHA;
    require JSON::PP;
    require MIME::Base64;
    my $b64 = sub {
        my $s = MIME::Base64::encode_base64url($_[0]);
        $s =~ s/=+$//;
        return $s;
    };
    my $json = JSON::PP->new->canonical;
    my $head = $b64->($json->encode($opt{header} // { alg => 'HS256' }));
    my $body = $b64->($json->encode($claims));
    my $sig = ($opt{header} && ($opt{header}{alg} // '') eq 'none')
              ? '' : $b64->(Digest::SHA::hmac_sha256("$head.$body", $secret));
    return "$head.$body.$sig";
}

# a minimal HTTP/1.1 request; returns (status, headers hashref, body).
# %opt: method, body, headers (extra "Name: value" lines), timeout
sub http_get {
    my ($port, $path, %opt) = @_;
    my $method = $opt{method} // 'GET';
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => $opt{timeout} // 3)
        or return (0, {}, '');
    my $body = $opt{body} // '';
    my $extra = join '', map { "$_\r\n" } @{ $opt{headers} // [] };
    $extra .= 'Content-Length: ' . length($body) . "\r\n"
        if defined $opt{body};
    print {$s} "$method $path HTTP/1.1\r\nHost: localhost\r\n$extra"
             . "Connection: close\r\n\r\n$body";
    local $/;
    my $raw = <$s> // '';
    close $s;
    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    return (0, {}, '') unless defined $head && $head =~ m{^HTTP/1\.\d (\d+)};
    my $status = $1;
    my %h;
    for (split /\r\n/, $head) {
        $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
    }
    return ($status, \%h, $rest // '');
}

# polls $cond every 0.1 s until it returns true or $seconds pass
sub wait_until {
    my ($seconds, $cond) = @_;
    my $end = time + $seconds;
    while (time < $end) {
        return 1 if $cond->();
        sleep 0.1;
    }
    return $cond->() ? 1 : 0;
}

1;
