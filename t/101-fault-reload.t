# Reloads under load: the master is sent SIGHUP five times while clients
# ask for /health, tools/list over /mcp with a user's JWT, and a tool
# call that reaches TastyTrade (the mock, through the worker service).
# Every answer is counted, and each must be a 2xx, the tool call's
# without isError.
#
# Clients that open a connection per request must never see a
# connection error.  Clients that keep their connection alive may find
# it closed when they send on it: an old worker closes its idle
# keep-alive connections when it starts to shut down, and a request
# sent at that moment is never read.  An HTTP/1.1 client sends such a
# request again on a new connection (RFC 9112, 9.3.1), which is what
# these do, once, when a reused connection closes before any byte of
# the answer; any other failure of theirs counts.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Ttai::Util qw(repo_root scratch_dir read_file write_file wait_until
                  skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $RELOADS = 5;
my $json = JSON::PP->new->canonical;

# a short cache and a loose rate: the tool calls reach the mock
my $srv = tt_server(scratch_dir('reload'),
                    ttl => 'quote=1s metrics=1s chain=1s account=1s',
                    rate => '1000r/s burst=1000 wait=3s');
END { tt_stop($srv) }
tt_connect($srv, 'alice');
my $jwt = tt_jwt($srv, 'alice');
my $port = $srv->{port};

# -- the requests ------------------------------------------------------------

# symbols seldom asked twice within the cache's second
my @symbols = map { 'R' . chr(65 + int($_ / 676)) . chr(65 + int($_ / 26) % 26)
                        . chr(65 + $_ % 26) } 0 .. 2999;

sub mcp_request {
    my ($body, $close) = @_;
    return "POST /mcp HTTP/1.1\r\nHost: localhost\r\n"
         . "Authorization: Bearer $jwt\r\n"
         . "Content-Type: application/json\r\n"
         . "Accept: application/json, text/event-stream\r\n"
         . ($close ? "Connection: close\r\n" : '')
         . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
}

# [ name, request text, check of the body ] for the n-th request
sub request {
    my ($n, $close) = @_;
    my $kind = $n % 3;
    if ($kind == 0) {
        return [ 'health', "GET /health HTTP/1.1\r\nHost: localhost\r\n"
                           . ($close ? "Connection: close\r\n" : '') . "\r\n",
                 sub { $_[0] =~ /"status":"healthy"/ } ];
    }
    if ($kind == 1) {
        return [ 'tools/list',
                 mcp_request('{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
                             $close),
                 sub { $_[0] =~ /"name":"get_quotes"/ } ];
    }
    my $sym = $symbols[int($n / 3) % @symbols];
    return [ 'get_quotes',
             mcp_request($json->encode({ jsonrpc => '2.0', id => 1,
                 method => 'tools/call',
                 params => { name => 'get_quotes',
                             arguments => { symbols => [ $sym ] } } }),
                 $close),
             sub {
                 my $r = (eval { $json->decode($_[0]) } // {})->{result};
                 return $r && !$r->{isError}
                        && ($r->{structuredContent}{quotes}[0]{symbol} // '')
                           eq $sym;
             } ];
}

# Sends $req on $s and reads one answer: (status, body, error, bytes of
# the answer received).  Status 0 with an error when it failed.
sub exchange {
    my ($s, $req) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $w = syswrite $s, $req;
    return (0, '', "write: $!", 0) unless defined $w && $w == length $req;

    my $buf = '';
    my $sel = IO::Select->new($s);
    my ($status, $head, $need, $chunked);
    while (1) {
        if (!defined $head && $buf =~ /\r\n\r\n/) {
            ($head, $buf) = split /\r\n\r\n/, $buf, 2;
            ($status) = $head =~ m{^HTTP/1\.1 (\d{3}) }
                or return (0, '', "not HTTP: $head", length $head);
            $chunked = $head =~ /^Transfer-Encoding: chunked\r?$/mi;
            ($need) = $head =~ /^Content-Length: (\d+)\r?$/mi;
        }
        if (defined $head) {
            return ($status, substr($buf, 0, $need), '', 1)
                if defined $need && length $buf >= $need;
            if ($chunked && $buf =~ /(?:^|\r\n)0\r\n\r\n\z/) {
                my $body = '';
                while ($buf =~ s/^([0-9a-fA-F]+)\r\n//) {
                    my $n = hex $1;
                    $body .= substr($buf, 0, $n, '');
                    $buf =~ s/^\r\n//;
                }
                return ($status, $body, '', 1);
            }
        }
        return (0, '', 'no answer in 20 s', length $buf)
            unless $sel->can_read(20);
        my $n = sysread $s, $buf, 65536, length $buf;
        my $got = length($buf) + (defined $head ? length $head : 0);
        return (0, '', "read: $!", $got) unless defined $n;
        return (0, '', 'closed', $got) if $n == 0;
    }
}

sub connect_server {
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                 Timeout => 10);
}

# one client: until $stop exists, requests in turn; a line per answer in
# $out: "ok NAME", "retry NAME" (a kept-alive connection closed before
# the answer; sent again) or "fail NAME: why"
sub client {
    my ($id, $keepalive, $stop, $out) = @_;
    open my $log, '>', $out or POSIX::_exit(2);
    $log->autoflush(1);
    my ($s, $used);
    for (my $n = $id; !-e $stop; $n++) {
        my ($name, $req, $check) = @{ request($n, !$keepalive) };
        my $fresh = !$s;
        $s ||= connect_server();
        unless ($s) {
            print {$log} "fail $name: connect: $!\n";
            next;
        }
        my ($status, $body, $err, $got) = exchange($s, $req);
        if ($status == 0 && $keepalive && !$fresh && $got == 0) {
            print {$log} "retry $name: $err\n";
            close $s;
            $s = connect_server();
            ($status, $body, $err, $got) = $s ? exchange($s, $req)
                                              : (0, '', "connect: $!", 0);
        }
        if ($status == 0) {
            print {$log} "fail $name: $err\n";
        } elsif ($status < 200 || $status > 299) {
            print {$log} "fail $name: HTTP $status: "
                         . substr($body, 0, 200) . "\n";
        } elsif (!$check->($body)) {
            print {$log} "fail $name: " . substr($body, 0, 300) . "\n";
        } else {
            print {$log} "ok $name\n";
        }
        if (!$keepalive || $status == 0) {
            close $s if $s;
            undef $s;
        }
    }
    POSIX::_exit(0);
}

# the worker processes of the master
sub workers {
    my @pids;
    push @pids, split ' ', read_file($_)
        for glob "/proc/$srv->{pid}/task/*/children";
    return sort { $a <=> $b } @pids;
}

# -- before: each request works ----------------------------------------------

for my $n (0 .. 2) {
    my $s = connect_server() or die "connect: $!";
    my ($name, $req, $check) = @{ request($n, 1) };
    my ($status, $body, $err) = exchange($s, $req);
    ok $status == 200 && $check->($body), "$name answers before the reloads"
        or diag "$status $err $body";
}

# -- reloads under load ------------------------------------------------------

my $dir = $srv->{dir};
my $stop = "$dir/stop";
my @kids;
for my $c (0 .. 3) {
    my $pid = fork // die "fork: $!";
    client($c, $c >= 2, $stop, "$dir/client.$c") if $pid == 0;
    push @kids, $pid;
}

my $reloaded = 0;
for (1 .. $RELOADS) {
    sleep 0.7;
    my %old = map { $_ => 1 } workers();
    kill 'HUP', $srv->{pid};
    $reloaded++ if wait_until(15, sub {
        (grep { !$old{$_} } workers()) >= 2;
    });
}
sleep 0.7;
write_file($stop, '');
waitpid $_, 0 for @kids;

is $reloaded, $RELOADS, "$RELOADS reloads each started new workers";

my (%ok, %retry, @fail);
for my $c (0 .. 3) {
    for (split /\n/, read_file("$dir/client.$c")) {
        if (/^ok (\S+)/) {
            $ok{$1}++;
        } elsif (/^retry (\S+?):/) {
            $retry{$1}++;
        } else {
            push @fail, "client $c: $_";
        }
    }
}
note 'answered: ' . join(', ', map { "$_ $ok{$_}" } sort keys %ok);
note 'sent again on a new connection, after a kept-alive one closed: '
     . (join(', ', map { "$_ $retry{$_}" } sort keys %retry) || 'none');

for my $name (qw(health tools/list get_quotes)) {
    cmp_ok $ok{$name} // 0, '>', 10, "$name was answered throughout";
}
is scalar(@fail), 0, 'every request was answered 2xx, and every tool call '
                     . 'without isError'
    or diag join "\n", @fail[0 .. ($#fail < 19 ? $#fail : 19)];

my $log = read_file("$dir/logs/error.log");
unlike $log, qr/exited on signal/, 'no worker crashed';
unlike $log, qr/\[(emerg|crit)\]/, 'no emerg or crit line'
    or diag join "\n", grep { /\[(emerg|crit)\]/ } split /\n/, $log;

done_testing;
