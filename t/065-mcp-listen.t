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
use IO::Select;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(time sleep);
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
} qw(alice bob);

sub meta {
    return { 'io.modelcontextprotocol/protocolVersion' => $V,
             'io.modelcontextprotocol/clientCapabilities' => {} };
}

my $nid = 0;

# a listen stream: the socket, kept open, and what it has read
sub listen_open {
    my ($who, $filter) = @_;
    my $id = 'sub-' . ++$nid;
    my $body = $JSON->encode({ jsonrpc => '2.0', id => $id,
                               method => 'subscriptions/listen',
                               params => { notifications => $filter,
                                           _meta => meta() } });
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 3) or die "connect: $!";
    print {$s} "POST /mcp HTTP/1.1\r\nHost: localhost\r\n"
        . "Authorization: Bearer $jwt{$who}\r\n"
        . "Content-Type: application/json\r\n"
        . "Accept: application/json, text/event-stream\r\n"
        . "MCP-Protocol-Version: $V\r\nMcp-Method: subscriptions/listen\r\n"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    return { sock => $s, id => $id, buf => '', events => [] };
}

# reads what arrived within $secs; returns the events parsed so far
sub listen_read {
    my ($st, $secs) = @_;
    my $sel = IO::Select->new($st->{sock});
    my $end = time + $secs;
    while ((my $left = $end - time) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread $st->{sock}, my $chunk, 65536;
        if (!$n) {
            $st->{closed} = 1;
            last;
        }
        $st->{buf} .= $chunk;
    }
    while ($st->{buf} =~ s/\A.*?^data: ([^\r\n]*)\r?\n//ms) {
        push @{ $st->{events} }, scalar eval { $JSON->decode($1) };
    }
    return $st->{events};
}

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
like $sa->{buf} . join('', map { $JSON->encode($_) } @$ev), qr/.?/,
    'the stream stays open';

# -- changes from either worker reach the stream ---------------------------

my @lat;
for my $i (1 .. 10) {
    my $t0 = time;
    my ($st) = call('bob', 'test_trigger_tool_change');
    is $st, 200, "trigger $i: 200";
    my $n = @{ $sa->{events} };
    my $got;
    while (time - $t0 < 2) {
        listen_read($sa, 0.05);
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

# -- a reload ends the streams with their result --------------------------

kill 'HUP', $pid;
listen_read($sa, 3);
my $last = $sa->{events}[-1];
is $last->{id}, $sa->{id}, 'on a reload, the last event is the result';
is $last->{result}{resultType}, 'complete', 'complete';
is $last->{result}{_meta}{'io.modelcontextprotocol/subscriptionId'},
    $sa->{id}, 'tagged';
ok $sa->{closed}, 'and the stream closes';

unlike read_file("$dir/logs/error.log"), qr/\[alert\]|signal 11/,
    'no worker crashed';

done_testing;
