# MCP sessions over HTTP, against nginx with a master and 2 workers: the
# whole lifecycle, binding to the user, the debug endpoint, the idle
# timeout, and survival across a reload and a restart.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP qw(decode_json encode_json);
use Test::More;
use Time::HiRes qw(sleep);
use Ttai::Util qw(repo_root scratch_dir read_file dev_server stop_pid
                  http_get wait_until jwt env_secret skip_or_fail);

my $root = repo_root();

skip_or_fail("module not built: run make")
    unless -f "$root/build/nginx/ngx_http_ttai_module.so";

my $dir = scratch_dir('mcp-sessions');
my %server = (
    workers => 2,
    http => 'ttai_mcp_sessions SESSIONS 1m; ttai_mcp_session_timeout 4s;',
    server => 'location = /mcp { ttai_mcp; } '
            . 'location /debug/ { ttai_debug; }',
);
my ($pid, $port) = dev_server($dir, %server);
END { stop_pid($pid) if $pid }

my $secret = env_secret("$dir/test.env", 'JWT_SECRET');
my %token = map {
    $_ => jwt($secret, { sub => $_, email => "$_\@example.com",
                         iat => time, exp => time + 3600 })
} qw(alice bob);

my $id = 0;

# one JSON-RPC message; returns (status, headers, decoded body or undef)
sub rpc {
    my ($who, $session, $method, $params, %opt) = @_;
    my %msg = (jsonrpc => '2.0', method => $method);
    $msg{id} = ++$id unless $opt{notification};
    $msg{params} = $params if $params;
    my @h = ("Authorization: Bearer $token{$who}",
             'Content-Type: application/json',
             'Accept: application/json, text/event-stream');
    push @h, "Mcp-Session-Id: $session" if $session;
    push @h, "MCP-Protocol-Version: $opt{version}" if $opt{version};
    my ($st, $h, $body) = http_get($port, '/mcp', method => $opt{method} // 'POST',
                                   headers => \@h,
                                   body => $opt{method} ? undef : encode_json(\%msg));
    return ($st, $h, length $body ? eval { decode_json($body) } : undef);
}

sub initialize {
    my ($who) = @_;
    my ($st, $h, $r) = rpc($who, undef, 'initialize',
                           { protocolVersion => '2025-06-18', capabilities => {},
                             clientInfo => { name => 'sessions-test', version => '1' } });
    return ($st, $h->{'mcp-session-id'}, $r);
}

my ($st, $sid, $r) = initialize('alice');
is $st, 200, 'initialize: 200';
like $sid // '', qr/^[0-9a-f]{32}$/, 'initialize issues a 128-bit session id';
is $r->{result}{protocolVersion}, '2025-06-18', 'the version is negotiated';
is $r->{result}{serverInfo}{name}, 'ttai', 'serverInfo names ttai';

($st) = rpc('alice', $sid, 'notifications/initialized', undef, notification => 1,
            version => '2025-06-18');
is $st, 202, 'notifications/initialized: 202';

# every worker sees the session: many requests land on both
my %seen;
for (1 .. 20) {
    my ($s, $h, $b) = rpc('alice', $sid, 'ping', undef, version => '2025-06-18');
    $seen{$s}++;
}
is_deeply \%seen, { 200 => 20 }, 'ping: 200 on every request, whichever worker';

($st, undef, $r) = rpc('alice', $sid, 'tools/list', undef, version => '2025-06-18');
ok((grep { $_->{name} eq 'get_session_info' } @{ $r->{result}{tools} // [] }),
   'tools/list lists get_session_info');

($st, undef, $r) = rpc('alice', $sid, 'tools/call',
                       { name => 'get_session_info', arguments => {} },
                       version => '2025-06-18');
my $info = $r->{result}{structuredContent} // {};
is $info->{user}{sub}, 'alice', 'get_session_info: the user';
is $info->{user}{email}, 'alice@example.com', 'get_session_info: the email';
is $info->{session}{id}, $sid, 'get_session_info: the session';
is $info->{session}{protocolVersion}, '2025-06-18', 'get_session_info: the version';
is $info->{session}{client}{name}, 'sessions-test', 'get_session_info: the client';

($st, undef, $r) = rpc('alice', $sid, 'logging/setLevel', { level => 'warning' },
                       version => '2025-06-18');
is $st, 200, 'logging/setLevel: 200';

my (undef, undef, $health) = http_get($port, '/health');
like $health, qr/"sessions":\{"status":"ok","entries":1,"evictions":0,"users":1,"refused":0\}/,
    '/health counts the live session';

my ($dst, $dh, $dbody) = http_get($port, "/debug/do/SESSIONS/$sid");
is $dst, 200, 'the debug endpoint shows the session';
my $dbg = eval { decode_json($dbody) } // {};
is $dbg->{sub}, 'alice', 'debug: its user';
is $dbg->{logLevel}, 'warning', 'debug: the level set by logging/setLevel';
is $dbg->{protocolVersion}, '2025-06-18', 'debug: its version';
($dst) = http_get($port, '/debug/do/SESSIONS/0123456789abcdef0123456789abcdef');
is $dst, 404, 'debug: an unknown session is 404';

# another user's session is unknown to them
($st, undef, $r) = rpc('bob', $sid, 'ping', undef, version => '2025-06-18');
is $st, 404, "another user's session id: 404";
is $r->{error}{code}, -32001, 'with -32001';
($st) = rpc('bob', $sid, undef, undef, method => 'DELETE');
is $st, 404, "another user cannot end it";

# initialize again on a live session is refused
($st) = rpc('alice', $sid, 'initialize',
            { protocolVersion => '2025-06-18', capabilities => {},
              clientInfo => { name => 'x', version => '1' } });
is $st, 400, 'initialize on an initialized session: 400';

# survives a reload
kill 'HUP', $pid;
sleep 1.5;
($st) = rpc('alice', $sid, 'ping', undef, version => '2025-06-18');
is $st, 200, 'the session survives a reload';

# survives a restart, through the copy in do/
ok stop_pid($pid), 'nginx stops';
ok -s "$dir/state/do/SESSIONS.snapshot", 'the sessions are copied to state/do/';
($pid, $port) = dev_server($dir, %server, env => read_file("$dir/test.env"));
($st) = rpc('alice', $sid, 'ping', undef, version => '2025-06-18');
is $st, 200, 'the session survives a restart';

# DELETE ends it
($st) = rpc('alice', $sid, undef, undef, method => 'DELETE');
is $st, 200, 'DELETE ends the session';
($st, undef, $r) = rpc('alice', $sid, 'ping', undef, version => '2025-06-18');
is $st, 404, 'an ended session is 404';

# the idle timeout (4 s here) ends an unused session
my ($st2, $sid2) = initialize('bob');
is $st2, 200, 'a second session';
sleep 5;
($st) = rpc('bob', $sid2, 'ping', undef, version => '2025-06-18');
is $st, 404, 'an idle session expires';

stop_pid($pid);
$pid = 0;

done_testing;
