# TastyTrade misbehaving, as seen through the tools: an upstream that
# accepts and never answers, one that never accepts (a full backlog),
# one that answers garbage (not JSON, invalid UTF-8, JSON of the wrong
# shape), 40 MB, or a body cut short (a Content-Length larger than what
# is sent; a chunked body cut mid-chunk), and a kept-alive connection
# it closes just as it is reused.  Each tool call answers isError with a
# clear message, and in time; the server keeps serving meanwhile, no
# worker dies, no temporary file is left, memory stays bounded, and an
# answer that could not be used is not cached.
#
# get_quotes reaches TastyTrade through the worker service (two hops);
# get_accounts directly, and caches TastyTrade's answer as it came.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Fcntl qw(O_CREAT O_EXCL O_WRONLY);
use File::Find ();
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Ttai::Util qw(repo_root scratch_dir read_file write_file http_get
                  wait_until skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_call);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $json = JSON::PP->new->canonical;
my $BIG = 40 * 1024 * 1024;

# TastyTrade's location with short timeouts: 3 s to connect, 3 s to
# answer.  The worker service's hop (tt_server) waits 5 s: a TastyTrade
# timeout reaches the tool as TastyTrade's, not as the worker's.
my $TIMEOUT = 3;
(my $location = read_file("$root/conf/tastytrade/location.conf"))
    =~ s/proxy_connect_timeout \d+s;/proxy_connect_timeout ${TIMEOUT}s;/
    or die 'location.conf has no proxy_connect_timeout';
$location =~ s/proxy_read_timeout \d+s;/proxy_read_timeout ${TIMEOUT}s;/
    or die 'location.conf has no proxy_read_timeout';

my (@servers, @helpers);
END {
    local $?;
    tt_stop($_) for @servers;
    for (@helpers) { kill 'KILL', $_; waitpid $_, 0 }
}

# one worker: what the tests below see of the event loop, of the upstream
# connections kept alive and of memory is that worker's
sub server {
    my ($name, $upstream, %opt) = @_;
    my $srv = tt_server(scratch_dir($name), workers => 1,
                        upstream => "server 127.0.0.1:$upstream;",
                        location => $location,
                        ttl => 'quote=60s metrics=60s chain=60s account=60s',
                        %opt);
    push @servers, $srv;
    return $srv;
}

# a user whose access token is stored and fresh: no refresh is needed
sub user {
    my ($srv, $user, $token) = @_;
    tt_connect($srv, $user, refresh => 'any-refresh-token',
               access => $token // "at-$user", expires_in => 3600);
    return tt_jwt($srv, $user);
}

# (seconds, result, raw answer) of a tool call
sub call {
    my ($srv, $jwt, $tool, $args) = @_;
    my $t0 = time;
    my ($st, $r, $raw) = tt_call($srv, $jwt, $tool, $args, timeout => 30);
    return (time - $t0, $r, "HTTP $st: " . substr($raw // '', 0, 400));
}

sub text_of { return ($_[0] && $_[0]{content}[0]{text}) // '' }

sub workers {
    my ($srv) = @_;
    my @pids;
    push @pids, split ' ', read_file($_)
        for glob "/proc/$srv->{pid}/task/*/children";
    return sort { $a <=> $b } @pids;
}

# the resident size of a process, now or at its peak (VmHWM), in kB
sub rss_kb {
    my ($pid, $field) = @_;
    $field //= 'VmRSS';
    my ($kb) = read_file("/proc/$pid/status") =~ /^$field:\s+(\d+) kB/m;
    return $kb // 0;
}

sub percentile {
    my ($p, @v) = @_;
    @v = sort { $a <=> $b } @v;
    return $v[int($p / 100 * $#v + 0.5)];
}

# $n GET /health from 10 processes at once: (statuses, seconds each,
# when the last one was answered)
sub health_burst {
    my ($srv, $n) = @_;
    my $dir = $srv->{dir};
    my @kids;
    for my $k (0 .. 9) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            open my $out, '>', "$dir/health.$k" or POSIX::_exit(2);
            for (1 .. $n / 10) {
                my $t0 = time;
                my ($st) = http_get($srv->{port}, '/health', timeout => 20);
                printf {$out} "%d %.6f %.6f\n", $st, time - $t0, time;
            }
            close $out;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    waitpid $_, 0 for @kids;
    my (@st, @lat, $last);
    for my $k (0 .. 9) {
        for (split /\n/, read_file("$dir/health.$k")) {
            my ($s, $l, $at) = split ' ';
            push @st, $s;
            push @lat, $l;
            $last = $at if !defined $last || $at > $last;
        }
    }
    return (\@st, \@lat, $last // 0);
}

# -- an upstream that never answers, and one that never accepts --------------

# accepts every connection and never reads from it nor writes to it
my $hole = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Listen => 128, Proto => 'tcp')
    or die "listen: $!";
my $hole_dir = scratch_dir('hole');
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    my @held;
    open my $log, '>>', "$hole_dir/accepted" or POSIX::_exit(2);
    $log->autoflush(1);
    while (1) {
        my $c = $hole->accept or next;
        push @held, $c;
        print {$log} "accepted\n";
    }
}

# the connections the hole has accepted so far
sub accepted {
    return scalar(() = read_file("$hole_dir/accepted") =~ /\n/g);
}
push @helpers, $pid;

# a backlog of one, filled: further connections are never accepted (the
# kernel drops their SYN)
my $full = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Listen => 1, Proto => 'tcp')
    or die "listen: $!";
my @fillers;
for (1 .. 16) {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $full->sockport,
                                  Proto => 'tcp', Blocking => 0);
    push @fillers, $c if $c;
}
sleep 0.5;
my $probe = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $full->sockport,
                                  Proto => 'tcp', Timeout => 1);
ok !$probe, 'the full backlog accepts no connection';

for my $case ([ 'never answers', $hole->sockport ],
              [ 'never accepts', $full->sockport ])
{
    my ($what, $up) = @$case;
    (my $name = $what) =~ s/ /-/g;
    my $srv = server("tt-$name", $up);
    my $jwt = user($srv, 'hana');
    my @before = workers($srv);

    my ($took, $r, $raw) = call($srv, $jwt, 'get_quotes',
                                { symbols => [ 'AAPL' ] });
    ok $r && $r->{isError}, "$what: get_quotes answers isError" or diag $raw;
    like text_of($r), qr/TastyTrade did not answer in time/,
        "$what: saying that TastyTrade did not answer in time";
    unlike text_of($r), qr/worker service unreachable/,
        "$what: TastyTrade's timeout, not the worker service's";
    note sprintf '%s: get_quotes answered in %.2f s (timeout %d s)',
                 $what, $took, $TIMEOUT;

    ($took, $r, $raw) = call($srv, $jwt, 'get_accounts', {});
    ok $r && $r->{isError}, "$what: get_accounts answers isError"
        or diag $raw;
    like text_of($r), qr/TastyTrade did not answer in time/,
        "$what: saying that TastyTrade did not answer in time";
    note sprintf '%s: get_accounts answered in %.2f s', $what, $took;

    # 20 calls hang; meanwhile 200 /health
    my $had = accepted();
    my $calls_dir = "$srv->{dir}/calls";
    mkdir $calls_dir;
    my @calls;
    for my $i (1 .. 20) {
        my $kid = fork // die "fork: $!";
        if ($kid == 0) {
            my ($t, $res) = call($srv, $jwt, 'get_quotes',
                                 { symbols => [ "HANG$i" ] });
            write_file("$calls_dir/$i", sprintf "%d %.6f\n",
                       ($res && $res->{isError}) ? 1 : 0, time);
            POSIX::_exit(0);
        }
        push @calls, $kid;
    }
    if ($what eq 'never answers') {
        ok wait_until(5, sub { accepted() >= $had + 20 }),
            "$what: the 20 calls reached the upstream";
    } else {
        sleep 0.5;
    }
    my $t0 = time;
    my ($st, $lat, $last) = health_burst($srv, 200);
    waitpid $_, 0 for @calls;
    my @done = map { [ split ' ', read_file("$calls_dir/$_") ] } 1 .. 20;

    is scalar(grep { $_ == 200 } @$st), 200,
        "$what: 200 /health during the hang, all answered 200";
    is scalar(grep { ($_->[0] // 0) == 1 } @done), 20,
        "$what: the 20 hung calls answered isError";
    my ($first) = sort { $a <=> $b } map { $_->[1] // 0 } @done;
    cmp_ok $last, '<', $first,
        "$what: every /health was answered while the calls still hung";
    diag sprintf '%s: /health during the hang: p50 %.1f ms, p99 %.1f ms '
                 . '(%d requests in %.2f s)', $what,
                 1000 * percentile(50, @$lat), 1000 * percentile(99, @$lat),
                 scalar @$lat, $last - $t0;

    is_deeply [ workers($srv) ], \@before, "$what: the same worker serves";
    unlike read_file("$srv->{dir}/logs/error.log"), qr/exited on signal/,
        "$what: no worker died";
}

# -- a TastyTrade that answers badly -----------------------------------------

# Per request, by the symbol asked for (get_quotes) or by the access token
# (get_accounts, "at-MODE"): what the mode at its start says.  A name that
# starts with ONCE misbehaves the first time only, and answers well after.
my $fake_dir = scratch_dir('fake');
my $fake = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Listen => 128, Proto => 'tcp')
    or die "listen: $!";

my $good_accounts = '{"data":{"items":[{"account":{"account-number":'
    . '"5WT00001","nickname":"Individual","account-type-name":'
    . '"Individual","margin-or-cash":"Margin","is-closed":false},'
    . '"authority-level":"owner"}]},"context":"/customers/me/accounts"}';

sub good_quote {
    my ($sym) = @_;
    return '{"data":{"items":[{"symbol":"' . $sym . '","instrument-type":'
         . '"Equity","last":"150.0","bid":"149.95","ask":"150.05",'
         . '"mark":"150.0"}]},"context":"/market-data/by-type"}';
}

sub send_all {
    my ($c, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    while (length $data) {
        my $n = syswrite $c, $data, 1 << 20;
        return 0 unless defined $n;
        substr($data, 0, $n, '');
    }
    return 1;
}

sub answer {
    my ($c, $status, $body, %o) = @_;
    my $head = "HTTP/1.1 $status X\r\nContent-Type: application/json\r\n";
    if ($o{chunked}) {
        send_all($c, $head . "Transfer-Encoding: chunked\r\n\r\n");
        return send_all($c, $body);
    }
    send_all($c, $head . 'Content-Length: '
                 . ($o{length} // length $body) . "\r\n\r\n");
    return send_all($c, $body);
}

# 40 MB of a JSON-looking body, in 1 MB pieces
sub big {
    my ($c, $chunked) = @_;
    my $piece = '"' . ('x' x (1024 * 1024 - 3)) . '",';
    if ($chunked) {
        answer($c, 200, '', chunked => 1);
        for (1 .. 40) {
            send_all($c, sprintf("%x\r\n%s\r\n", length $piece, $piece))
                or return;
        }
        send_all($c, "0\r\n\r\n");
        return;
    }
    answer($c, 200, '', length => 40 * length $piece);
    for (1 .. 40) {
        send_all($c, $piece) or return;
    }
}

# answers one request; false when the connection is to be closed
sub serve {
    my ($c, $target, $auth, $nth) = @_;
    my ($key, $good);
    if ($target =~ m{^/market-data/by-type\?equity=([A-Z0-9]+)}) {
        $key = $1;
        $good = good_quote($key);
    } elsif ($target =~ m{^/customers/me/accounts}) {
        ($key) = $auth =~ /^Bearer at-(\S+)/;
        $key //= 'GOOD';
        $good = $good_accounts;
    } elsif ($target =~ m{^/oauth/token}) {
        return answer($c, 200, '{"access_token":"at-GOOD","token_type":'
                               . '"Bearer","expires_in":900}');
    } else {
        return answer($c, 404, '{"error":{"code":"not_found"}}');
    }

    my $mode = uc $key;
    if ($mode =~ s/^ONCE//) {
        (my $file = "$fake_dir/once-$key") =~ s/[^\w\/.-]/_/g;
        $mode = 'GOOD'
            unless sysopen my $fh, $file, O_CREAT | O_EXCL | O_WRONLY;
    }
    if ($mode =~ /^STALE/) {
        open my $fh, '>>', "$fake_dir/asked-$key" or die "asked-$key: $!";
        print {$fh} "$nth\n";
        close $fh;
    }

    return answer($c, 200, $good) if $mode =~ /^GOOD/;
    return answer($c, 200, '<html><body>Service Unavailable</body></html>')
        if $mode =~ /^GARB/;
    return answer($c, 200, '{"data":{"items":[{"symbol":"' . $key
                           . '","last":"1\xff\xfe\xc3"}]}}')
        if $mode =~ /^BADUTF/;
    return answer($c, 200, '{"data":{"items":{"symbol":"' . $key
                           . '"}}}')
        if $mode =~ /^SHAPE/;
    return answer($c, 200, '[1,2,3]') if $mode =~ /^ARRAY/;
    if ($mode =~ /^BIGCH/) {
        big($c, 1);
        return 1;
    }
    if ($mode =~ /^BIG/) {
        big($c, 0);
        return 1;
    }
    if ($mode =~ /^TRUNCCH/) {
        answer($c, 200, '', chunked => 1);
        send_all($c, sprintf("%x\r\n", 2 * length $good)
                     . substr($good, 0, int(length($good) / 2)));
        return 0;
    }
    if ($mode =~ /^TRUNC/) {
        # the whole JSON, but fewer bytes than announced
        answer($c, 200, $good, length => length($good) + 100);
        return 0;
    }
    if ($mode =~ /^STALE/) {
        # a kept-alive connection: closed, unanswered, when reused, as a
        # server does that closes it at that moment
        return 0 if $nth > 1;
        return answer($c, 200, $good);
    }
    return answer($c, 500, '{"error":{"code":"unknown_mode"}}');
}

$pid = fork // die "fork: $!";
if ($pid == 0) {
    $SIG{CHLD} = 'IGNORE';
    while (my $c = $fake->accept) {
        my $kid = fork;
        if (defined $kid && $kid == 0) {
            my ($buf, $nth) = ('', 0);
            while (1) {
                while ($buf !~ /\r\n\r\n/) {
                    my $n = sysread $c, $buf, 65536, length $buf;
                    POSIX::_exit(0) unless $n;
                }
                my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
                my ($len) = $head =~ /^Content-Length: (\d+)\r?$/mi;
                $len //= 0;
                while (length $rest < $len) {
                    my $n = sysread $c, $rest, 65536, length $rest;
                    POSIX::_exit(0) unless $n;
                }
                $buf = substr($rest, $len);
                my ($target) = $head =~ m{^\w+ (\S+) HTTP/1\.1};
                my ($auth) = $head =~ /^Authorization: (.*?)\r?$/mi;
                $nth++;
                serve($c, $target // '', $auth // '', $nth)
                    or POSIX::_exit(0);
            }
        }
        close $c;
    }
    POSIX::_exit(0);
}
push @helpers, $pid;

my $srv = server('tt-fake', $fake->sockport);
my $jwt = user($srv, 'ivy');
my @before = workers($srv);
my ($wpid) = @before;
my $rss0 = rss_kb($wpid);

my ($took, $r, $raw) = call($srv, $jwt, 'get_quotes',
                            { symbols => [ 'GOODA' ] });
ok $r && !$r->{isError}, 'a good answer works' or diag $raw;
is $r->{structuredContent}{quotes}[0]{price}, 150, 'with its quote';

my $unreadable = qr/could not read/;
my $cut = qr/was cut short/;
my @cases = (
    [ GARB => $unreadable, 'an answer that is not JSON' ],
    [ BADUTF => $unreadable, 'JSON with invalid UTF-8' ],
    [ SHAPE => qr/could not read|without items/, 'JSON of the wrong shape' ],
    [ ARRAY => $unreadable, 'a JSON array' ],
    [ BIG => qr/larger than the \d+-byte limit/, 'a 40 MB answer' ],
    [ BIGCH => qr/larger than the \d+-byte limit/,
      'a 40 MB answer in chunks' ],
    [ TRUNC => $cut, 'a body shorter than its Content-Length' ],
    [ TRUNCCH => $cut, 'a chunked body cut mid-chunk' ],
);

for my $c (@cases) {
    my ($mode, $re, $what) = @$c;

    ($took, $r, $raw) = call($srv, $jwt, 'get_quotes',
                             { symbols => [ "${mode}Q" ] });
    ok $r && $r->{isError}, "get_quotes, $what: isError" or diag $raw;
    like text_of($r), $re, "get_quotes, $what: a clear message"
        or diag $raw;
    note sprintf 'worker RSS after get_quotes, %s: %d kB', $what,
                 rss_kb($wpid) if $mode =~ /^BIG/;

    my $jm = user($srv, lc "$mode-user", "at-$mode");
    ($took, $r, $raw) = call($srv, $jm, 'get_accounts', {});
    ok $r && $r->{isError}, "get_accounts, $what: isError" or diag $raw;
    like text_of($r), $re, "get_accounts, $what: a clear message"
        or diag $raw;

    if ($mode =~ /^BIG/) {
        my $grown = rss_kb($wpid) - $rss0;
        diag sprintf 'worker RSS after %s: %d kB (%+d kB since the start; '
                     . 'peak %d kB)', $what, rss_kb($wpid), $grown,
                     rss_kb($wpid, 'VmHWM');
        cmp_ok $grown, '<', $BIG / 1024,
            "the worker does not hold $what in memory";
    }
}

# big answers again: memory is used again, not added to
for my $i (1 .. 3) {
    my $jb = user($srv, "bigch-again-$i", 'at-BIGCH');
    call($srv, $jb, 'get_accounts', {});
}
my $grown = rss_kb($wpid) - $rss0;
diag sprintf 'worker RSS after three more 40 MB answers in chunks: %d kB '
             . '(%+d kB since the start)', rss_kb($wpid), $grown;
cmp_ok $grown, '<', $BIG / 1024, 'memory stays bounded';

# -- what could not be used is not cached ------------------------------------

for my $c ([ GARB => 'an answer that is not JSON' ],
           [ TRUNC => 'a body shorter than its Content-Length' ],
           [ TRUNCCH => 'a chunked body cut mid-chunk' ])
{
    my ($mode, $what) = @$c;
    my $jo = user($srv, lc "once-$mode", "at-ONCE$mode");
    ($took, $r, $raw) = call($srv, $jo, 'get_accounts', {});
    ok $r && $r->{isError}, "get_accounts, $what, once: isError" or diag $raw;
    ($took, $r, $raw) = call($srv, $jo, 'get_accounts', {});
    ok $r && !$r->{isError},
        "get_accounts, $what, once: the next call asks again, and works"
        or diag $raw;
}

# -- a kept-alive connection closed as it is reused --------------------------

for my $tool ([ get_quotes => { symbols => [ 'STALEA' ] } ],
              [ get_quotes => { symbols => [ 'STALEB' ] } ])
{
    my ($name, $args) = @$tool;
    ($took, $r, $raw) = call($srv, $jwt, $name, $args);
    ok $r && !$r->{isError}, "$name $args->{symbols}[0]: a kept-alive "
        . 'connection TastyTrade closes is retried on a new one'
        or diag $raw;
}
# the request of each connection it came on, in turn
like read_file("$fake_dir/asked-STALEB"), qr/^[2-9]\d*\n1\n\z/,
    'STALEB went first on the connection STALEA had used, then on a new one';

# -- and the server ----------------------------------------------------------

is_deeply [ workers($srv) ], \@before, 'the same worker serves throughout';
my $log = read_file("$srv->{dir}/logs/error.log");
unlike $log, qr/signal/, 'no worker died: no signal in the error log';
my @temp;
File::Find::find(sub { push @temp, $File::Find::name if -f },
                 "$srv->{dir}/tmp") if -d "$srv->{dir}/tmp";
is_deeply \@temp, [], 'no temporary file is left';
my ($st) = http_get($srv->{port}, '/health');
is $st, 200, '/health still answers 200';

done_testing;
