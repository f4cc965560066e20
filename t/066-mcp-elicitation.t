# Asking the user in a 2025 session, on nginx with 2 workers: a tool's
# question goes to the client as an elicitation/create request on the
# POST's own event stream; the client's answer, POSTed on another
# connection (and so to either worker), resumes the call, whose result
# ends the stream.  Accept, decline and cancel; an answer nobody waits
# for, a second answer, another session's answer; a client without the
# capability; no answer in time; a client that goes away; a reload.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use IO::Select;
use Test::More;
use Time::HiRes qw(time sleep);
use Ttai::Stream qw(stream_post);
use Ttai::Util qw(repo_root scratch_dir run_capture dev_server stop_pid
                  free_port read_file wait_until http_get skip_or_fail);

my $root = repo_root();

skip_or_fail("not built: run make")
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";

my $JSON = JSON::PP->new->canonical;
my $V = '2025-11-25';

# a second listener with a socket per worker: the kernel spreads the
# connections over both, so that answers reach the worker that did not ask
my $dir = scratch_dir('mcp-elicitation');
my $port2 = free_port();
my ($pid, $port) = dev_server($dir, workers => 2,
    http => 'ttai_mcp_sessions SESSIONS 1m snapshot=off; '
          . 'ttai_mcp_request_state_ttl 4s; '
          . 'log_format ttai_pid \'$pid $status "$request_body"\';',
    server => "listen 127.0.0.1:$port2 reuseport; "
            . 'location = /mcp { ttai_mcp; ttai_mcp_fixtures conformance; '
            . "access_log $dir/logs/pids.log ttai_pid; }");
END { stop_pid($pid) if $pid }

my %jwt = map {
    my ($rc, $t) = run_capture("$root/build/ttai", 'token', '--env-file',
                               "$dir/test.env", '--sub', $_, '--ttl', '1h');
    $t =~ s/\s+\z//;
    ($_ => $t);
} qw(alice bob);

# a request on a connection of its own; returns the socket, unread
sub send_post {
    my ($who, $session, $msg) = @_;
    return stream_post($port2, $jwt{$who}, $msg,
        headers => [ ($session ? ("Mcp-Session-Id: $session",
                                  "MCP-Protocol-Version: $V") : ()),
                     'Connection: close' ]);
}

# reads what arrives within $secs: the status, headers, and SSE events
sub pump {
    my ($st, $secs) = @_;
    my $sel = IO::Select->new($st->{sock});
    my $end = time + $secs;
    while (!$st->{closed} && (my $left = $end - time) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread $st->{sock}, my $chunk, 65536;
        if (!$n) {
            $st->{closed} = 1;
            last;
        }
        $st->{buf} .= $chunk;
        if (!defined $st->{status} && $st->{buf} =~ s/\A(.*?)\r\n\r\n//s) {
            my $head = $1;
            ($st->{status}) = $head =~ m{^HTTP/1\.1 (\d+)};
            ($st->{type}) = $head =~ /^Content-Type: ([^\r\n]*)/mi;
            $st->{chunked} = $head =~ /^Transfer-Encoding: chunked/mi;
        }
        next unless defined $st->{status};
        my $body = $st->{buf};
        $body =~ s/^[0-9a-f]+\r\n//mg if $st->{chunked};
        $st->{body} = $body;
        $st->{events} = [ map { $JSON->decode($_) }
                          $body =~ /^data: (.*)$/mg ];
    }
    return $st->{events};
}

# a whole answer: status and JSON body (or undef)
sub post {
    my ($who, $session, $msg) = @_;
    my $st = send_post($who, $session, $msg);
    pump($st, 3) until $st->{closed};
    my ($json) = ($st->{body} // '') =~ /(\{.*\})/s;
    return ($st->{status}, $json ? $JSON->decode($json) : undef, $st);
}

# initialize, reading the session id from the headers this time
sub open_session {
    my ($who, $caps) = @_;
    my $s = stream_post($port, $jwt{$who}, { jsonrpc => '2.0', id => 0,
        method => 'initialize',
        params => { protocolVersion => $V, capabilities => $caps,
                    clientInfo => { name => 't', version => '1' } } },
        headers => [ 'Connection: close' ])->{sock};
    local $/;
    my $resp = <$s>;
    my ($sid) = $resp =~ /^Mcp-Session-Id: (\S+)/mi;
    post($who, $sid, { jsonrpc => '2.0',
                       method => 'notifications/initialized' });
    return $sid;
}

my $nid = 100;

# calls a tool and reads until the question (or the end); returns the state
sub ask {
    my ($who, $sid, $tool, $args) = @_;
    my $st = send_post($who, $sid, { jsonrpc => '2.0', id => ++$nid,
        method => 'tools/call',
        params => { name => $tool, arguments => $args // {} } });
    $st->{id} = $nid;
    my $t0 = time;
    until ($st->{closed} || time - $t0 > 3) {
        pump($st, 0.05);
        last if grep { ($_->{method} // '') eq 'elicitation/create' }
                @{ $st->{events} };
    }
    ($st->{question}) = grep { ($_->{method} // '') eq 'elicitation/create' }
                        @{ $st->{events} };
    return $st;
}

# reads until the call's result; returns it (the whole response)
sub result_of {
    my ($st, $secs) = @_;
    my $t0 = time;
    until ($st->{closed} || time - $t0 > ($secs // 3)) {
        pump($st, 0.05);
    }
    # nginx ends a connection it shut down once the client closes it too
    close $st->{sock} if $st->{closed};
    my @msgs = @{ $st->{events} };
    if (!@msgs && ($st->{type} // '') =~ m{^application/json}) {
        my ($json) = ($st->{body} // '') =~ /(\{.*\})/s;
        push @msgs, $JSON->decode($json) if $json;
    }
    my ($r) = grep { defined $_->{id} && !ref $_->{id}
                     && $_->{id} eq $st->{id} } @msgs;
    return $r;
}

sub answer {
    my ($who, $sid, $id, $result) = @_;
    return post($who, $sid, { jsonrpc => '2.0', id => $id,
                              result => $result });
}

my $alice = open_session('alice', { elicitation => {} });
ok $alice, 'alice has a session whose client can ask its user';

# -- accept, decline and cancel, answered on other connections -------------

my $content = { username => 'ada', email => 'ada@example.com' };

for my $case ([ accept => $content ], [ decline => undef ],
              [ cancel => undef ])
{
    my ($action, $c) = @$case;
    my $st = ask('alice', $alice, 'test_elicitation',
                 { message => "Who are you? ($action)" });
    is $st->{status}, 200, "$action: the call answers 200";
    like $st->{type} // '', qr{^text/event-stream}, "$action: as a stream";
    my $q = $st->{question};
    ok $q, "$action: the question arrives on the stream";
    like $q && $q->{id}, qr/^ttai-ask-[0-9a-f]{32}\z/,
        "$action: it is a request, with an id nobody can guess";
    is $q && $q->{params}{message}, "Who are you? ($action)",
        "$action: with the tool's message";
    is_deeply $q && [ sort keys %{ $q->{params}{requestedSchema}{properties} } ],
        [ qw(email username) ], "$action: and its form";
    ok !$st->{closed}, "$action: the stream waits for the answer";

    my ($status) = answer('alice', $alice, $q->{id},
                          { action => $action, $c ? (content => $c) : () });
    is $status, 202, "$action: the answer is accepted";

    my $r = result_of($st);
    my $text = $r && $r->{result}{content}[0]{text} // '';
    like $text, qr/^User response: action=\Q$action\E/,
        "$action: the call goes on with it";
    like $text, qr/"email":"ada\@example\.com"/, "$action: with the form's values"
        if $c;
    ok $st->{closed}, "$action: and the stream ends with the result";

    my ($again) = answer('alice', $alice, $q->{id}, { action => 'accept' });
    is $again, 400, "$action: the same question cannot be answered twice";
}

# -- two rounds, one after the other; a prompt that asks ----------------------

{
    my $st = ask('alice', $alice, 'test_input_required_result_multi_round');
    my $q1 = $st->{question};
    like $q1 && $q1->{params}{message}, qr/^Step 1/, 'the first round asks';
    answer('alice', $alice, $q1->{id},
           { action => 'accept', content => { name => 'Ada' } });
    my $t0 = time;
    my $q2;
    until ($q2 || $st->{closed} || time - $t0 > 3) {
        pump($st, 0.05);
        ($q2) = grep { ($_->{method} // '') eq 'elicitation/create'
                       && $_->{id} ne $q1->{id} } @{ $st->{events} };
    }
    like $q2 && $q2->{params}{message}, qr/^Step 2/,
        'the second round asks on the same stream';
    answer('alice', $alice, $q2->{id},
           { action => 'accept', content => { color => 'teal' } });
    like result_of($st)->{result}{content}[0]{text},
        qr/Multi-round complete for Ada who likes teal/,
        'the call ends with both answers, the first kept in memory';

    $st = send_post('alice', $alice, { jsonrpc => '2.0', id => ++$nid,
        method => 'prompts/get',
        params => { name => 'test_input_required_result_prompt' } });
    $st->{id} = $nid;
    $t0 = time;
    my $q;
    until ($q || $st->{closed} || time - $t0 > 3) {
        pump($st, 0.05);
        ($q) = grep { ($_->{method} // '') eq 'elicitation/create' }
               @{ $st->{events} };
    }
    ok $q, 'a prompt asks too';
    answer('alice', $alice, $q->{id},
           { action => 'accept', content => { context => 'my IRA' } });
    my $r = result_of($st);
    like $JSON->encode($r && $r->{result}{messages} // []), qr/my IRA/,
        'and its messages use the answer';
}

# -- answers from either worker ------------------------------------------------

# each round's question and its answer: which worker held the call, and
# which took the answer, from the access log
my $crossed = 0;
for my $round (1 .. 24) {
    my $st = ask('alice', $alice, 'test_elicitation',
                 { message => "round $round" });
    my $q = $st->{question} or last;
    answer('alice', $alice, $q->{id},
           { action => 'accept', content => $content });
    result_of($st);
    # each line is written once its request is done, soon after its end
    my ($holder, $taker);
    for (1 .. 40) {
        my $log = read_file("$dir/logs/pids.log");
        ($holder) = $log =~ /^(\d+) 200 ".*?round $round\b/m;
        ($taker) = $log =~ /^(\d+) 202 ".*?\Q$q->{id}\E/m;
        last if $holder && $taker;
        sleep 0.05;
    }
    diag "round $round: holder " . ($holder // "?") . " taker " . ($taker // "?") . " id $q->{id}" if $ENV{TTAI_DEBUG};
    if ($holder && $taker && $holder != $taker) {
        $crossed++;
        last if $crossed >= 2;
    }
}
ok $crossed >= 2, "answers taken by the other worker resume the call "
                  . "($crossed seen)";

# -- answers nobody waits for ------------------------------------------------

my ($status, $body) = answer('alice', $alice,
                             'ttai-ask-' . ('0' x 32), { action => 'accept' });
is $status, 400, 'an answer to a question never asked: 400';
like $body && $body->{error}{message}, qr/no call of this session waits/,
    'which says so';

my $other = open_session('alice', { elicitation => {} });
my $bob = open_session('bob', { elicitation => {} });
my $st = ask('alice', $alice, 'test_elicitation', { message => 'mine' });
my $q = $st->{question};
($status) = answer('alice', $other, $q->{id}, { action => 'accept' });
is $status, 400, 'another session of the same user cannot answer it';
($status) = answer('bob', $alice, $q->{id}, { action => 'accept' });
is $status, 404, 'nor another user, whose session it is not';
($status) = answer('bob', $bob, $q->{id}, { action => 'accept' });
is $status, 400, 'nor another user in his own session';
pump($st, 0.3);
ok !$st->{closed}, 'the call still waits';
($status) = answer('alice', $alice, $q->{id}, { action => 'decline' });
is $status, 202, 'its own session answers it';
like result_of($st)->{result}{content}[0]{text}, qr/action=decline/,
    'and the call ends as its user chose';

# -- a client that cannot ask ------------------------------------------------

my $plain = open_session('alice', {});
$st = ask('alice', $plain, 'test_elicitation', { message => 'x' });
ok !$st->{question}, 'a client without the capability is not asked';
my $r = result_of($st);
ok $r && $r->{result}{isError}, 'the call says it cannot go on';
like $r && $r->{result}{content}[0]{text}, qr/elicitation capability/,
    'and why';

# -- no answer in time, an error, a client that goes away -------------------

$st = ask('alice', $alice, 'test_elicitation', { message => 'late' });
ok $st->{question}, 'asked once more';
$r = result_of($st, 8);
ok $r && $r->{result}{isError}, 'no answer within the time: the call ends';
like $r && $r->{result}{content}[0]{text}, qr/did not answer in time/,
    'saying so';
($status) = answer('alice', $alice, $st->{question}{id},
                   { action => 'accept' });
is $status, 400, 'and a late answer goes nowhere';

$st = ask('alice', $alice, 'test_elicitation', { message => 'err' });
($status) = post('alice', $alice, { jsonrpc => '2.0',
    id => $st->{question}{id},
    error => { code => -32600, message => 'the user closed the dialog' } });
is $status, 202, 'a client\'s error answer is taken';
$r = result_of($st);
like $r && $r->{result}{content}[0]{text}, qr/the user closed the dialog/,
    'and ends the call with its reason';

$st = ask('alice', $alice, 'test_elicitation', { message => 'gone' });
close $st->{sock};
sleep 0.3;
($status) = answer('alice', $alice, $st->{question}{id},
                   { action => 'accept' });
is $status, 400, 'a client that went away leaves no question behind';

# -- a session that ends takes its questions with it ----------------------------

{
    my $gone = open_session('alice', { elicitation => {} });
    my $st = ask('alice', $gone, 'test_elicitation', { message => 'bye' });
    ok $st->{question}, 'a question waits in a session';
    my $t0 = time;
    my ($dst) = http_get($port, '/mcp', method => 'DELETE', headers => [
        "Authorization: Bearer $jwt{alice}", "Mcp-Session-Id: $gone",
        "MCP-Protocol-Version: $V" ]);
    is $dst, 200, 'the session is ended with DELETE';
    my $r = result_of($st, 3);
    like $r && $r->{result}{content}[0]{text}, qr/session ended/,
        'the call ends at once, saying why';
    cmp_ok time - $t0, '<', 2.5, 'long before its timeout';
}

# -- a reload ends the wait with a clear result -------------------------------

$st = ask('alice', $alice, 'test_elicitation', { message => 'reload' });
ok $st->{question}, 'asked before a reload';
kill 'HUP', $pid;
$r = result_of($st, 5);
like $r && $r->{result}{content}[0]{text}, qr/restarted/,
    'the reload ends the call, saying why';

ok stop_pid($pid), 'the server stops gracefully';
$pid = undef;
unlike read_file("$dir/logs/error.log"), qr/\[(crit|alert|emerg)\]|signal 11/,
    'no worker crashed, nor left a connection open at its exit';

done_testing;
