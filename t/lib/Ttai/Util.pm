package Ttai::Util;

# Helpers for the tests that drive whole programs (nginx -t, dev.sh)
# rather than one nginx per block.

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use Fcntl qw(:flock);
use File::Spec;
use File::Temp ();
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(repo_root free_port release_port closed_port
                    write_file read_file random_hex
                    run_capture http_get wait_until scratch_dir nginx_t
                    dev_server start_nginx stop_pid jwt env_secret
                    skip_or_fail children valgrind_records);

sub repo_root {
    return abs_path(dirname(__FILE__) . '/../../..');
}

# A fresh folder for one test's files.  It lives under a private folder
# in the system's temporary folder, not in the work tree: when nginx runs
# as root its workers run as another user, and the folders above a clone
# may be closed to that user.  Removed at exit when the test passed;
# kept, and named, when it failed, with the logs of the servers it ran.
# TTAI_KEEP_SCRATCH=1 keeps it always, TTAI_KEEP_SCRATCH=0 never.
my ($ScratchBase, $ScratchPid);

sub scratch_dir {
    my ($name) = @_;
    unless ($ScratchBase) {
        $ScratchBase = File::Temp::tempdir('ttai-test-XXXXXX', TMPDIR => 1);
        $ScratchPid = $$;
        chmod 0755, $ScratchBase;
    }
    my $dir = "$ScratchBase/$name";
    remove_tree($dir);
    make_path($dir, { mode => 0755 });
    return $dir;
}

sub scratch_base { return $ScratchBase }

END {
    if ($ScratchBase && $$ == $ScratchPid) {
        my $failed = $? != 0;
        if (!$failed && $INC{'Test/Builder.pm'}) {
            $failed = !Test::Builder->new->is_passing;
        }
        my $keep = $ENV{TTAI_KEEP_SCRATCH};
        if (defined $keep && $keep ne '' ? $keep : $failed) {
            print STDERR "# kept: $ScratchBase (the servers' logs are in it)\n"
                if $failed;
        } else {
            local $?;
            remove_tree($ScratchBase);
        }
    }
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

# Ports for the servers a test starts.  Suites run side by side (prove
# -j), and a number that was free a moment ago may be another suite's
# server by the time ours binds it; so a port is reserved: a lock held on
# a file named after it, in a folder every suite of every run on this
# machine shares, for as long as the process that took it lives (or
# until release_port).  The kernel drops the lock when the process dies,
# so there is nothing to clean.  Numbers are taken below the kernel's
# ephemeral range, which outgoing connections draw from (a client's
# local port is as much in the way of a bind as a server), and each is
# checked free by binding it before it is handed out.  A program outside
# the registry can still bind it first: with_ports() starts again with
# new numbers when a server reports "Address already in use".
my %Reserved;       # port => the locked file handle
my $PortDir;

sub port_dir {
    return $PortDir if $PortDir;
    $PortDir = $ENV{TTAI_PORT_DIR}
               // File::Spec->catdir(File::Spec->tmpdir, "ttai-ports-$<");
    make_path($PortDir, { mode => 0700 }) unless -d $PortDir;
    return $PortDir;
}

# the numbers to pick from: below the ephemeral range when there is room
# there, above it otherwise
sub port_range {
    my ($lo, $hi) = (32768, 60999);
    if (open my $in, '<', '/proc/sys/net/ipv4/ip_local_port_range') {
        my @r = split ' ', scalar(<$in>) // '';
        ($lo, $hi) = @r if @r == 2;
    }
    return (10000, $lo - 1) if $lo - 10000 >= 2000;
    return ($hi + 1, 65535) if 65535 - $hi >= 2000;
    return (1024, 65535);
}

sub free_port {
    my ($from, $to) = port_range();
    my $dir = port_dir();

    for (1 .. 1000) {
        my $port = $from + int rand($to - $from + 1);
        next if $Reserved{$port};

        open my $fh, '>>', "$dir/$port" or die "$dir/$port: $!";
        unless (flock $fh, LOCK_EX | LOCK_NB) {
            close $fh;
            next;
        }

        # the file may have been released (removed) between our open and
        # our lock: then the lock is on a file no one else will look at
        my @path = stat "$dir/$port";
        my @fd = stat $fh;
        unless (@path && $path[0] == $fd[0] && $path[1] == $fd[1]) {
            close $fh;
            next;
        }

        # free now, on every address nginx may bind: no SO_REUSEADDR, so
        # that a socket still closing there counts as taken
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Proto => 'tcp');
        unless ($s) {
            unlink "$dir/$port";
            close $fh;
            next;
        }
        close $s;

        $Reserved{$port} = { fh => $fh, pid => $$ };
        return $port;
    }

    die "no free port in $from-$to after 1000 tries\n";
}

# gives the ports back: the file goes while it is still locked, so that
# no one locks it after us believing it is the reservation
sub release_port {
    my (@ports) = @_;
    for my $port (@ports) {
        my $r = $Reserved{$port} or next;
        # a forked child has a copy of the parent's reservations: they
        # stay the parent's
        next if $r->{pid} != $$;
        delete $Reserved{$port};
        unlink port_dir() . "/$port";
        close $r->{fh};
    }
}

END { release_port(keys %Reserved) }

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
    my $port = free_port();
    my $user = $> == 0 ? 'user root;' : '';
    write_file("$dir/test.env", $a{env} // "JWT_SECRET=" . random_hex(32)
               . "\nTOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n", 0600);
    make_path("$dir/logs");
    my $write = sub {
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
    };
    $write->();
    my $pid = start_nginx(dir => $dir, conf => "$dir/nginx.conf",
                          pid_file => "$dir/nginx.pid",
                          error_log => "$dir/logs/error.log",
                          ready => sub { (http_get($port, '/health'))[0] },
                          ports => [ \$port ], write => $write);
    return ($pid, $port);
}

# Starts nginx in the foreground and waits until it serves; returns its
# pid.  %a: dir (its prefix), conf (the configuration file), args (more
# arguments), out (the file its stdout and stderr are appended to),
# error_log (where its configuration sends the error log, for the
# message of a failure), pid_file, ready (a sub that is true once it
# answers), seconds (10).  Ready means its pid file names it, which
# nginx writes only once it has bound every listening socket, and
# ready->(): an answer alone may come from another program on the port.
# When it exits, or is not ready in time, it is stopped and this dies
# with the end of its logs and their paths.
#
# ports => [ \$port, ... ] and write => sub { ... }: when it could not
# bind ("Address already in use": a program outside the port registry
# took the number), each of these variables gets a new reserved port,
# write->() writes the configuration again, and it starts again, up to
# 5 times in all.
sub start_nginx {
    my (%a) = @_;
    my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    my $out = $a{out} // "$a{dir}/logs/stderr.log";

    for my $try (1 .. 5) {
        my $log_size = -s $out // 0;
        my $elog_size = $a{error_log} ? (-s $a{error_log} // 0) : 0;
        unlink $a{pid_file};

        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>>', $out;
            open STDERR, '>&', \*STDOUT;
            exec(($a{valgrind} ? valgrind_command() : ()),
                 $nginx, '-p', "$a{dir}/", '-c', $a{conf},
                 @{ $a{args} // [] })
                or POSIX::_exit(127);
        }

        my $exited;
        my $up = wait_until($a{seconds} // 10, sub {
            if (waitpid($pid, WNOHANG) == $pid) {
                $exited = 1;
                return 1;
            }
            my ($p) = read_file($a{pid_file}) =~ /^(\d+)/;
            return defined $p && $p == $pid && $a{ready}->();
        });
        return $pid if $up && !$exited;

        stop_pid($pid, 5) unless $exited;

        my $text = substr(read_file($out), $log_size);
        $text .= substr(read_file($a{error_log}), $elog_size)
            if $a{error_log};

        if ($try < 5 && $a{ports} && $text =~ /Address already in use/) {
            my @old = map { $$_ } @{ $a{ports} };
            release_port(@old);
            $$_ = free_port() for @{ $a{ports} };
            $a{write}->() if $a{write};
            require Test::More;
            Test::More::note("a port of @old was taken; starting again on "
                             . join(' ', map { $$_ } @{ $a{ports} }));
            next;
        }

        die "nginx " . ($exited ? "exited ($?)" : 'was not ready in time')
            . "; its output ($out"
            . ($a{error_log} ? ", $a{error_log}" : '') . "):\n$text";
    }
}

# memcheck as the Test::Nginx-format suites run it (TEST_NGINX_USE_VALGRIND),
# with nginx's own exit-time allocations suppressed
sub valgrind_command {
    return ('valgrind', '-q', '--tool=memcheck', '--leak-check=full',
            '--show-possibly-lost=no', '--num-callers=30',
            '--suppressions=' . repo_root() . '/t/valgrind.suppress');
}

# what valgrind reported in $file (an nginx's stderr): a list of records,
# each its lines; possibly lost and still reachable blocks are not counted
sub valgrind_records {
    my ($file) = @_;
    my (@records, $cur);
    for my $line (split /^/, read_file($file)) {
        if ($line =~ /^==\d+== (\S.*)/) {
            undef $cur;
            next if $1 =~ /^Warning:|possibly lost|still reachable/i;
            $cur = [$line];
            push @records, $cur;
        } elsif ($cur && $line =~ /^(?:==\d+==|   )/) {
            push @$cur, $line;
        } else {
            undef $cur;
        }
    }
    return @records;
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
