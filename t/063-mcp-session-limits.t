# Per-user limits on MCP sessions, against nginx with 2 workers and a
# session zone of the smallest size: one user who floods initialize
# ends only their own sessions, never another user's; a zone full of
# other users' live sessions refuses a new one with 503 and evicts
# nothing; the counts survive a restart; and a flood adds a bounded
# number of lines to the error log, whose sums add up.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::INET;
use JSON::PP qw(decode_json encode_json);
use Test::More;
use Time::HiRes qw(sleep);
use Ttai::Util qw(repo_root scratch_dir read_file dev_server stop_pid
                  http_get wait_until jwt env_secret skip_or_fail);

my $root = repo_root();

skip_or_fail("module not built: run make")
    unless -f "$root/build/nginx/ngx_http_ttai_module.so";

my $LIMIT = 4;
my $FLOOD = 3000;

sub server_conf {
    my (%o) = @_;
    return (
        workers => 2,
        http => 'ttai_mcp_sessions SESSIONS 32k; '
              . 'ttai_mcp_session_timeout 10m; '
              . "ttai_mcp_sessions_per_user @{[ $o{limit} // $LIMIT ]};",
        server => 'location = /mcp { ttai_mcp; } '
                . 'location /debug/ { ttai_debug; }',
    );
}

my %tokens;

sub token {
    my ($secret, $who) = @_;
    return $tokens{"$secret $who"} //= jwt($secret, {
        sub => $who, email => "$who\@example.com",
        iat => time, exp => time + 3600 });
}

my $id = 0;

sub init_body {
    return encode_json({ jsonrpc => '2.0', id => ++$id, method => 'initialize',
                         params => { protocolVersion => '2025-06-18',
                                     capabilities => {},
                                     clientInfo => { name => 'limits-test',
                                                     version => '1' } } });
}

sub mcp_headers {
    my ($token, $session) = @_;
    my @h = ("Authorization: Bearer $token", 'Content-Type: application/json',
             'Accept: application/json, text/event-stream');
    push @h, "Mcp-Session-Id: $session", 'MCP-Protocol-Version: 2025-06-18'
        if $session;
    return \@h;
}

sub initialize {
    my ($port, $token) = @_;
    my ($st, $h, $body) = http_get($port, '/mcp', method => 'POST',
                                   headers => mcp_headers($token),
                                   body => init_body());
    return ($st, $h->{'mcp-session-id'}, $h, $body);
}

sub call {
    my ($port, $token, $session, $method) = @_;
    my ($st, undef, $body) = http_get(
        $port, '/mcp', method => 'POST',
        headers => mcp_headers($token, $session),
        body => encode_json({ jsonrpc => '2.0', id => ++$id,
                              method => $method }));
    return ($st, $body);
}

sub count_of {
    my ($port, $who) = @_;
    my ($st, undef, $body) = http_get($port, "/debug/do/SESSIONS?user=$who");
    return undef unless $st == 200;
    my $j = eval { decode_json($body) } or return undef;
    return $j->{sessions};
}

sub sessions_health {
    my ($port) = @_;
    my (undef, undef, $body) = http_get($port, '/health');
    my ($s) = $body =~ /"sessions":(\{[^}]*\})/;
    return $s ? (eval { decode_json($s) } // {}) : {};
}

sub log_lines {
    my ($dir) = @_;
    my @l = split /\n/, read_file("$dir/logs/error.log");
    return scalar @l;
}

# Keep-alive connections, so that a flood is thousands of requests a
# second; a connection nginx closes (keepalive_requests) is opened again.
sub ka_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5)
        or die "connect: $!";
    return { sock => $s, buf => '', port => $port };
}

sub ka_request {
    my ($c, $headers, $body) = @_;
    $c = ka_open($c->{port}) if !$c->{sock};
    my $req = "POST /mcp HTTP/1.1\r\nHost: localhost\r\n"
            . join('', map { "$_\r\n" } @$headers)
            . 'Content-Length: ' . length($body) . "\r\n\r\n" . $body;
    my $s = $c->{sock};
    syswrite($s, $req) == length($req) or die "write: $!";
    while ($c->{buf} !~ /\r\n\r\n/) {
        my $n = sysread($s, my $chunk, 65536);
        die "read: connection closed" unless $n;
        $c->{buf} .= $chunk;
    }
    my ($head, $rest) = split /\r\n\r\n/, $c->{buf}, 2;
    my ($status) = $head =~ m{^HTTP/1\.\d (\d+)};
    my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
    $len //= 0;
    while (length($rest) < $len) {
        my $n = sysread($s, my $chunk, 65536);
        die "read: connection closed" unless $n;
        $rest .= $chunk;
    }
    $c->{buf} = substr($rest, $len);
    my ($sid) = $head =~ /^Mcp-Session-Id:\s*(\S+)/mi;
    if ($head =~ /^Connection:\s*close/mi) {
        close $s;
        $c->{sock} = undef;
        $c->{buf} = '';
    }
    return ($c, $status, $sid, substr($rest, 0, $len));
}

# -- one user floods initialize ---------------------------------------------

my $dir = scratch_dir('mcp-session-limits');
my ($pid, $port) = dev_server($dir, server_conf());
END { stop_pid($pid) if $pid }
my $secret = env_secret("$dir/test.env", 'JWT_SECRET');

my ($st, $bob) = initialize($port, token($secret, 'bob'));
is $st, 200, "bob's initialize: 200";
($st) = call($port, token($secret, 'bob'), $bob, 'tools/list');
is $st, 200, "bob's session works";

my $lines_before = log_lines($dir);

my @conns = map { ka_open($port) } 1 .. 4;
my (%status, $first, $last, $max_count);
$max_count = 0;
my $alice = token($secret, 'alice');
for my $i (1 .. $FLOOD) {
    my $k = $i % @conns;
    my ($c, $s, $sid) = ka_request($conns[$k], mcp_headers($alice),
                                   init_body());
    $conns[$k] = $c;
    $status{$s}++;
    $first //= $sid;
    $last = $sid if $sid;
    if ($i % 250 == 0) {
        my $n = count_of($port, 'alice') // 9999;
        $max_count = $n if $n > $max_count;
    }
}
close $_->{sock} for grep { $_->{sock} } @conns;

is_deeply \%status, { 200 => $FLOOD },
    "alice's $FLOOD initializes are all answered 200";
ok $max_count >= 1 && $max_count <= $LIMIT,
    "alice never holds more than $LIMIT sessions during the flood "
    . "(at most $max_count seen)";
is count_of($port, 'alice'), $LIMIT, "alice holds $LIMIT sessions after it";
is count_of($port, 'bob'), 1, 'bob still holds his one session';

($st) = call($port, token($secret, 'bob'), $bob, 'tools/list');
is $st, 200, "bob's session still works after alice's flood";
($st) = call($port, $alice, $last, 'ping');
is $st, 200, "alice's newest session works";
($st) = call($port, $alice, $first, 'ping');
is $st, 404, "alice's oldest session made way for her newer ones: 404";

my $h = sessions_health($port);
is $h->{entries}, $LIMIT + 1, '/health: the live sessions';
is $h->{users}, 2, '/health: two users hold sessions';
is $h->{refused}, 0, '/health: no session was refused';
is $h->{evictions}, $FLOOD - $LIMIT,
    "/health: the evictions are alice's own sessions";

# a flood of bad tokens too
my $bad = token('not-the-secret', 'mallory');
@conns = map { ka_open($port) } 1 .. 2;
%status = ();
for my $i (1 .. 500) {
    my $k = $i % @conns;
    my ($c, $s) = ka_request($conns[$k], mcp_headers($bad), init_body());
    $conns[$k] = $c;
    $status{$s}++;
}
close $_->{sock} for grep { $_->{sock} } @conns;
is_deeply \%status, { 401 => 500 }, 'a bad token is refused 500 times';

my $grew = log_lines($dir) - $lines_before;
ok $grew <= 40,
    "the floods added a bounded number of lines to the error log ($grew)";

# -- a zone full of other users' live sessions ------------------------------

my $dir2 = scratch_dir('mcp-session-limits-full');
my ($pid2, $port2) = dev_server($dir2, server_conf());
END { stop_pid($pid2) if $pid2 }
my $secret2 = env_secret("$dir2/test.env", 'JWT_SECRET');

my (%live, @order, $refused, $refused_body, $refused_h);
USER: for my $u (1 .. 200) {
    my $who = sprintf 'user%03d', $u;
    for my $n (1 .. $LIMIT) {
        my ($s, $sid, $hd, $body) = initialize($port2, token($secret2, $who));
        if ($s != 200) {
            ($refused, $refused_h, $refused_body) = ($s, $hd, $body);
            last USER;
        }
        push @order, $who unless $live{$who};
        push @{ $live{$who} }, $sid;
    }
}

SKIP: {
    ok defined $refused, 'the zone fills up, and refuses a new session'
        or skip 'the zone evicts instead of refusing', 14;
    is $refused, 503, "a new user's initialize in a full zone: 503";
    like $refused_h->{'retry-after'} // '', qr/^\d+$/, 'with Retry-After';
    my $err = eval { decode_json($refused_body) } // {};
    like $err->{error}{message} // '', qr/zone \\?"SESSIONS\\?" is full/,
        'a JSON-RPC error that names the zone as full';

    # The last user before the refusal may have made room with their own
    # sessions once the zone was full; every other user keeps them all.
    my $edge = $order[-1];
    my (%alive, $others_ok, $edge_lost);
    $others_ok = 1;
    $edge_lost = 0;
    for my $who (@order) {
        for my $sid (@{ $live{$who} }) {
            my ($s) = call($port2, token($secret2, $who), $sid, 'ping');
            $alive{$sid} = 1 if $s == 200;
            $others_ok = 0 if $s != 200 && $who ne $edge;
            $edge_lost++ if $s != 200 && $who eq $edge;
        }
    }
    ok $others_ok, 'filling the zone ended no session of another user';
    ok $alive{ $live{$edge}[-1] }, "the last user's newest session is live";
    $h = sessions_health($port2);
    is $h->{evictions}, $edge_lost,
        "the only evictions are the last user's own ($edge_lost)";
    is $h->{refused}, 1, '/health counts the refusal';
    my $entries_full = $h->{entries};
    is $entries_full, scalar(keys %alive), 'the zone holds what answers';

    ($st) = initialize($port2, token($secret2, 'newcomer'));
    is $st, 503, 'another new user is refused too';
    is sessions_health($port2)->{entries}, $entries_full,
        'the refusals evicted nothing';

    # an existing user makes room with their least recently used session
    my $u1 = $order[0];
    ($st) = initialize($port2, token($secret2, $u1));
    is $st, 200, 'a user who has sessions may replace their own: 200';
    ($st) = call($port2, token($secret2, $u1), $live{$u1}[0], 'ping');
    is $st, 404, "that user's least recently used session ended";
    $others_ok = 1;
    for my $who (grep { $_ ne $u1 } @order) {
        for my $sid (grep { $alive{$_} } @{ $live{$who} }) {
            my ($s) = call($port2, token($secret2, $who), $sid, 'ping');
            $others_ok = 0 if $s != 200;
        }
    }
    ok $others_ok, "no other user's session ended";

    # a session that ends makes room for a new user
    my $u2 = $order[1];
    ($st) = http_get($port2, '/mcp', method => 'DELETE',
                     headers => mcp_headers(token($secret2, $u2),
                                            $live{$u2}[-1]));
    is $st, 200, 'a user ends a session';
    ($st) = initialize($port2, token($secret2, 'newcomer'));
    is $st, 200, 'now a new user gets one';
}

ok stop_pid($pid2), 'the second nginx stops';
$pid2 = 0;

# -- the counts follow sessions that end or expire ----------------------------

my $dir3 = scratch_dir('mcp-session-limits-expiry');
my %conf3 = server_conf();
$conf3{http} =~ s/ttai_mcp_session_timeout 10m/ttai_mcp_session_timeout 4s/;
my ($pid3, $port3) = dev_server($dir3, %conf3);
END { stop_pid($pid3) if $pid3 }
my $secret3 = env_secret("$dir3/test.env", 'JWT_SECRET');
my $carol = token($secret3, 'carol');
my @carol = map { (initialize($port3, $carol))[1] } 1 .. 3;
is count_of($port3, 'carol'), 3, 'carol holds 3 sessions';
($st) = http_get($port3, '/mcp', method => 'DELETE',
                 headers => mcp_headers($carol, $carol[0]));
is $st, 200, 'she ends one';
is count_of($port3, 'carol'), 2, 'and holds 2';
ok wait_until(10, sub { (count_of($port3, 'carol') // -1) == 0 }),
    'the idle timeout ends the others, and the count follows';
is sessions_health($port3)->{users}, 0, '/health: no user holds a session';
my @again = map { (initialize($port3, $carol))[1] } 1 .. $LIMIT + 1;
is count_of($port3, 'carol'), $LIMIT, 'a new start counts from nothing';
ok stop_pid($pid3), 'the third nginx stops';
$pid3 = 0;

# -- the counts survive a restart -------------------------------------------

ok stop_pid($pid), 'nginx stops';
$pid = 0;

# each worker wrote its first line at once, and the sum of the rest when
# the interval was over or at its exit, so the lines add up exactly
my $log = read_file("$dir/logs/error.log");
my $sum = 0;
$sum += $1 while $log =~ /KV zone "SESSIONS" dropped (\d+) (?:entry|entries)/g;
is $sum, $FLOOD - $LIMIT,
    'the lines about dropped sessions add up to the sessions dropped';
ok $log =~ /KV zone "SESSIONS" dropped \d+ entries in the last \d+ s: their owners were at their limit/,
    'a line sums up the interval';
my $refusals = 0;
$refusals += $1 while $log =~ /(\d+) bearer tokens? refused/g;
$refusals += () = $log =~ /bearer token refused:/g;
is $refusals, 500, 'the lines about refused tokens add up too';

($pid, $port) = dev_server($dir, server_conf(),
                           env => read_file("$dir/test.env"));
is count_of($port, 'alice'), $LIMIT, "after a restart alice holds $LIMIT";
is count_of($port, 'bob'), 1, 'and bob 1';
($st) = call($port, token($secret, 'bob'), $bob, 'tools/list');
is $st, 200, "bob's session survived the restart";
($st) = initialize($port, $alice);
is $st, 200, 'alice initializes once more';
is count_of($port, 'alice'), $LIMIT, 'and still holds no more than the limit';
is sessions_health($port)->{users}, 2, '/health: two users after a restart';

# a lower limit at the next start keeps that many of each user's
ok stop_pid($pid), 'nginx stops again';
$pid = 0;
($pid, $port) = dev_server($dir, server_conf(limit => 2),
                           env => read_file("$dir/test.env"));
is count_of($port, 'alice'), 2, 'with a limit of 2 alice keeps 2';
is count_of($port, 'bob'), 1, 'and bob his 1';
is sessions_health($port)->{entries}, 3, 'the zone holds those 3';

stop_pid($pid);
$pid = 0;

done_testing;
