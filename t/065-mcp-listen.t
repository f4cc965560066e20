# subscriptions/listen, the stateless revision's stream of changes, on
# nginx with 2 workers: the acknowledgement first with the filter ttai
# honours, every event tagged with the subscription's id, changes made in
# either worker reaching streams held by either, the filter and the user
# respected, the limit per user, a stream that ends when its client
# closes it, and the graceful end with the result on a reload.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(time sleep);
use Ttai::Stream qw(stream_post stream_read);
use Ttai::Util qw(repo_root scratch_dir run_capture dev_server stop_pid
                  http_get read_file skip_or_fail);

my $root = repo_root();

skip_or_fail("not built: run make")
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";

my $JSON = JSON::PP->new->canonical;
my $V = '2026-07-28';

my $dir = scratch_dir('mcp-listen');
my ($pid, $port) = dev_server($dir, workers => 2,
    http => 'ttai_mcp_sessions SESSIONS 1m snapshot=off; '
          . 'ttai_mcp_listen_per_user 3;',
    server => 'location = /mcp { ttai_mcp; ttai_mcp_fixtures conformance; }');
END { stop_pid($pid) if $pid }

my %jwt = map {
    my ($rc, $t) = run_capture("$root/build/ttai", 'token', '--env-file',
                               "$dir/test.env", '--sub', $_, '--ttl', '1h');
    $t =~ s/\s+\z//;
    ($_ => $t);
} qw(alice bob carol);

sub meta {
    return { 'io.modelcontextprotocol/protocolVersion' => $V,
             'io.modelcontextprotocol/clientCapabilities' => {} };
}

my $nid = 0;

# a listen stream: the socket, kept open, and what it has read
sub listen_open {
    my ($who, $filter) = @_;
    my $id = 'sub-' . ++$nid;
    my $st = stream_post($port, $jwt{$who}, {
        jsonrpc => '2.0', id => $id, method => 'subscriptions/listen',
        params => { notifications => $filter, _meta => meta() } },
        headers => [ "MCP-Protocol-Version: $V",
                     'Mcp-Method: subscriptions/listen' ]);
    $st->{id} = $id;
    return $st;
}

# what arrived within $secs
sub listen_read { return stream_read($_[0], $_[1]) }

sub call {
    my ($who, $tool, $args) = @_;
    my ($st, undef, $raw) = http_get($port, '/mcp', method => 'POST',
        headers => [ "Authorization: Bearer $jwt{$who}",
                     'Content-Type: application/json',
                     'Accept: application/json, text/event-stream',
                     "MCP-Protocol-Version: $V", 'Mcp-Method: tools/call',
                     "Mcp-Name: $tool" ],
        body => $JSON->encode({ jsonrpc => '2.0', id => 1,
                                method => 'tools/call',
                                params => { name => $tool,
                                            arguments => $args // {},
                                            _meta => meta() } }));
    return ($st, scalar eval { $JSON->decode($raw) });
}

# -- the acknowledgement ---------------------------------------------------

my $sa = listen_open('alice', { toolsListChanged => JSON::PP::true,
                               resourceSubscriptions =>
                                   [ 'test://static-text', 'nope://x' ] });
my $ev = listen_read($sa, 2);
is $ev->[0]{method}, 'notifications/subscriptions/acknowledged',
    'the first event is the acknowledgement';
is $ev->[0]{params}{_meta}{'io.modelcontextprotocol/subscriptionId'},
    $sa->{id}, 'tagged with the listen request\'s id';
is_deeply $ev->[0]{params}{notifications},
    { toolsListChanged => JSON::PP::true,
      resourceSubscriptions => [ 'test://static-text' ] },
    'naming the filter honoured: a URI this server lacks is left out';
listen_read($sa, 0.3);
ok !$sa->{closed}, 'the stream stays open after the acknowledgement';
is scalar @{ $sa->{events} }, 1, 'with nothing sent after it yet';

# -- changes from either worker reach the stream ---------------------------

my @lat;
for my $i (1 .. 10) {
    my $t0 = time;
    my ($st) = call('bob', 'test_trigger_tool_change');
    is $st, 200, "trigger $i: 200";
    my $n = @{ $sa->{events} };
    my $got;
    while (time - $t0 < 2) {
        listen_read($sa, 0.005);
        last if ($got) = grep { ($_->{method} // '') eq
                                'notifications/tools/list_changed' }
                         @{ $sa->{events} }[ $n .. $#{ $sa->{events} } ];
    }
    ok $got, "trigger $i: tools/list_changed arrives";
    is $got && $got->{params}{_meta}{'io.modelcontextprotocol/subscriptionId'},
        $sa->{id}, "trigger $i: tagged";
    push @lat, (time - $t0) * 1000;
}
@lat = sort { $a <=> $b } @lat;
note sprintf 'trigger to event, 10 times over 2 workers: p50 %.1f ms, max %.1f ms',
     $lat[4], $lat[-1];

# -- the filter and the user ---------------------------------------------------

my $sb = listen_open('bob', { promptsListChanged => JSON::PP::true,
                             resourceSubscriptions => [ 'test://static-text' ] });
listen_read($sb, 1);
is $sb->{events}[0]{method}, 'notifications/subscriptions/acknowledged',
    'bob\'s stream is acknowledged';

call('alice', 'test_trigger_tool_change');
call('alice', 'test_trigger_resource_update',
     { uri => 'test://static-text' });
call('alice', 'test_trigger_prompt_change');
listen_read($sb, 1);
listen_read($sa, 0.2);

my @b_methods = map { $_->{method} } @{ $sb->{events} };
ok !(grep { $_ eq 'notifications/tools/list_changed' } @b_methods),
    'a stream that did not ask for tool changes is not told';
ok((grep { $_ eq 'notifications/prompts/list_changed' } @b_methods),
   'it is told of the prompt change it asked for');
ok !(grep { $_ eq 'notifications/resources/updated' } @b_methods),
    'and not of a change to alice\'s resource, though it subscribed the URI';

my @up = grep { ($_->{method} // '') eq 'notifications/resources/updated' }
         @{ $sa->{events} };
is scalar @up, 1, 'alice\'s stream gets her resource update';
is $up[0]{params}{uri}, 'test://static-text', 'for the URI';

# -- the limit per user -------------------------------------------------------

my @more = map { listen_open('alice', { toolsListChanged => JSON::PP::true }) }
           1 .. 2;
listen_read($_, 1) for @more;
is $more[1]{events}[0]{method}, 'notifications/subscriptions/acknowledged',
    'alice\'s third stream is accepted (ttai_mcp_listen_per_user 3)';

my $over = listen_open('alice', { toolsListChanged => JSON::PP::true });
listen_read($over, 1);
is $over->{events}[0], undef, 'a fourth gets no stream';
like $over->{buf}, qr/Subscription limit reached/, 'but says why';

# a client that closes its stream gives its place back
close $more[0]{sock};
sleep 0.3;
my $again = listen_open('alice', { toolsListChanged => JSON::PP::true });
listen_read($again, 1);
is $again->{events}[0]{method}, 'notifications/subscriptions/acknowledged',
    'after one closed, a new stream is accepted';

# -- a 2025 session's GET stream, with resources/subscribe --------------------

sub legacy_post {
    my ($who, $sid, $method, $params) = @_;
    my @h = ("Authorization: Bearer $jwt{$who}",
             'Content-Type: application/json',
             'Accept: application/json, text/event-stream');
    push @h, "Mcp-Session-Id: $sid", 'MCP-Protocol-Version: 2025-11-25'
        if $sid;
    my ($st, $h, $raw) = http_get($port, '/mcp', method => 'POST',
        headers => \@h,
        body => $JSON->encode({ jsonrpc => '2.0', id => ++$nid,
                                method => $method,
                                $params ? (params => $params) : () }));
    return ($st, $h, scalar eval { $JSON->decode($raw) });
}

sub get_open {
    my ($who, $sid) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 3) or die "connect: $!";
    print {$s} "GET /mcp HTTP/1.1\r\nHost: localhost\r\n"
        . "Authorization: Bearer $jwt{$who}\r\n"
        . "Accept: text/event-stream\r\nMcp-Session-Id: $sid\r\n"
        . "MCP-Protocol-Version: 2025-11-25\r\n\r\n";
    return { sock => $s, buf => '', events => [] };
}

my @sids;
for (1 .. 2) {
    my (undef, $h) = legacy_post('bob', undef, 'initialize',
        { protocolVersion => '2025-11-25', capabilities => {},
          clientInfo => { name => 'legacy', version => '1' } });
    push @sids, $h->{'mcp-session-id'};
}
my @g = map { get_open('bob', $_) } @sids;
listen_read($_, 0.5) for @g;
like $g[0]{buf}, qr{^HTTP/1\.1 200 .*content-type: text/event-stream}is,
    'GET /mcp with a session opens its event stream';

my ($gst, undef, $gr) = legacy_post('bob', $sids[0], 'resources/subscribe',
                                    { uri => 'test://static-text' });
is $gst, 200, 'resources/subscribe: 200';
is_deeply $gr->{result}, {}, 'with an empty result';
(undef, undef, $gr) = legacy_post('bob', $sids[0], 'resources/subscribe',
                                  { uri => 'test://no-such' });
is $gr->{error}{code}, -32002, 'a resource that does not exist: -32002';

legacy_post('bob', $sids[0], 'tools/call',
            { name => 'test_trigger_resource_update',
              arguments => { uri => 'test://static-text' } });
legacy_post('bob', $sids[0], 'tools/call',
            { name => 'test_trigger_tool_change', arguments => {} });
listen_read($_, 1) for @g;

my @m0 = map { $_->{method} } @{ $g[0]{events} };
ok((grep { $_ eq 'notifications/resources/updated' } @m0),
   'the subscribed session hears of the update');
my ($upd) = grep { ($_->{method} // '') eq 'notifications/resources/updated' }
            @{ $g[0]{events} };
is $upd->{params}{uri}, 'test://static-text', 'for the URI';
ok !exists $upd->{params}{_meta}, 'untagged, as in 2025';
ok((grep { $_ eq 'notifications/tools/list_changed' } @m0),
   'and of the tool list change');
my @m1 = map { $_->{method} } @{ $g[1]{events} };
ok !(grep { $_ eq 'notifications/resources/updated' } @m1),
    'another session of the same user, not subscribed, does not';
ok((grep { $_ eq 'notifications/tools/list_changed' } @m1),
   'but hears of the list change');

legacy_post('bob', $sids[0], 'resources/unsubscribe',
            { uri => 'test://static-text' });
my $before_n = @{ $g[0]{events} };
legacy_post('bob', $sids[0], 'tools/call',
            { name => 'test_trigger_resource_update',
              arguments => { uri => 'test://static-text' } });
listen_read($g[0], 1);
is scalar @{ $g[0]{events} }, $before_n,
    'after resources/unsubscribe, no more updates';

my ($nst) = http_get($port, '/mcp', headers => [
    "Authorization: Bearer $jwt{bob}", 'Accept: text/event-stream' ]);
is $nst, 400, 'GET without a session: 400';
($nst) = http_get($port, '/mcp', headers => [
    "Authorization: Bearer $jwt{alice}", 'Accept: text/event-stream',
    "Mcp-Session-Id: $sids[0]" ]);
is $nst, 404, 'GET with another user\'s session: 404';

# -- a session that ends takes its GET stream and subscriptions with it ---

{
    my (undef, $h) = legacy_post('carol', undef, 'initialize',
        { protocolVersion => '2025-11-25', capabilities => {},
          clientInfo => { name => 'legacy', version => '1' } });
    my $sid = $h->{'mcp-session-id'};
    legacy_post('carol', $sid, 'resources/subscribe',
                { uri => 'test://static-text' });
    my $gs = get_open('carol', $sid);
    listen_read($gs, 0.5);
    ok !$gs->{closed}, 'a third session\'s GET stream is open';

    my ($dst) = http_get($port, '/mcp', method => 'DELETE', headers => [
        "Authorization: Bearer $jwt{carol}", "Mcp-Session-Id: $sid",
        'MCP-Protocol-Version: 2025-11-25' ]);
    is $dst, 200, 'the session is ended with DELETE, on another connection';
    listen_read($gs, 2);
    like $gs->{buf}, qr/\r\n0\r\n\r\n\z/,
        'and its GET stream ends, in whichever worker: its last chunk';
}

# -- a reload ends the streams with their result --------------------------

kill 'HUP', $pid;
listen_read($sa, 3);
my $last = $sa->{events}[-1];
is $last->{id}, $sa->{id}, 'on a reload, the last event is the result';
is $last->{result}{resultType}, 'complete', 'complete';
is $last->{result}{_meta}{'io.modelcontextprotocol/subscriptionId'},
    $sa->{id}, 'tagged';
ok $sa->{closed}, 'and the stream closes';
listen_read($g[0], 3);
ok $g[0]{closed}, 'a GET stream ends on the reload too';

# the workers, old and new, exit: nothing crashed or was left open
ok stop_pid($pid), 'the server stops gracefully';
$pid = undef;
unlike read_file("$dir/logs/error.log"), qr/\[(crit|alert|emerg)\]|signal 11/,
    'no worker crashed, nor left a connection open at its exit';

done_testing;
