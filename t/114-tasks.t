# MCP tasks (the io.modelcontextprotocol/tasks extension of 2026-07-28)
# over real HTTP: a call of a tool whose work is a workflow becomes a
# task for a client that declares the extension, written before it is
# answered; tasks/get polls it to completion and inlines its result;
# tasks/cancel ends it; a stream that listens for a task hears it end
# (notifications/tasks); a task survives nginx killed with -9 and started
# again, its nap not begun twice; a task is its user's only; a client
# without the extension gets the call's answer at once, and -32021 from
# tasks/*.  The conformance suite's tasks scenarios run in t/051.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use Test::More;
use Time::HiRes qw(time sleep);
use Ttai::Util qw(repo_root scratch_dir run_capture dev_server stop_pid
                  children http_get read_file skip_or_fail);
use Ttai::Stream qw(stream_post stream_read);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";

my $JSON = JSON::PP->new->canonical;
my $dir = scratch_dir('tasks');
my $V = '2026-07-28';
my $EXT = 'io.modelcontextprotocol/tasks';

my %conf = (workers => 2,
    http => "ttai_mcp_sessions SESSIONS 1m snapshot=off;\n"
            . "    ttai_migrations $root/migrations; ttai_workflows on;",
    server => 'location = /mcp { ttai_mcp; ttai_mcp_fixtures conformance; }');
my ($pid, $port) = dev_server($dir, %conf);
END { stop_pid($pid) if $pid }

my $db = "$dir/state/d1/ttai/db.sqlite";

sub sql {
    my ($rc, $out) = run_capture('sqlite3', $db, @_);
    $out =~ s/\s+\z//;
    return $out;
}

sub token {
    my ($rc, $t) = run_capture("$root/build/ttai", 'token', '--env-file',
                               "$dir/test.env", '--sub', $_[0], '--ttl', '1h');
    $t =~ s/\s+\z//;
    return $t;
}

my %jwt = (alice => token('tt-alice'), bob => token('tt-bob'));

# one stateless request; with tasks => 0 the client takes no tasks
my $n = 0;
sub rpc {
    my ($method, $params, %o) = @_;
    my $caps = ($o{tasks} // 1) ? { extensions => { $EXT => {} } } : {};
    my %p = (%$params, _meta => {
        'io.modelcontextprotocol/protocolVersion' => $V,
        'io.modelcontextprotocol/clientCapabilities' => $caps,
        'io.modelcontextprotocol/clientInfo' => { name => 't114',
                                                  version => '1' } });
    my $name = $params->{name} // $params->{taskId};
    my ($st, undef, $raw) = http_get($port, '/mcp', method => 'POST',
        body => $JSON->encode({ jsonrpc => '2.0', id => ++$n,
                                method => $method, params => \%p }),
        timeout => 30,
        headers => [ 'Authorization: Bearer ' . $jwt{ $o{who} // 'alice' },
                     'Content-Type: application/json',
                     'Accept: application/json, text/event-stream',
                     "MCP-Protocol-Version: $V", "Mcp-Method: $method",
                     $name ? ("Mcp-Name: $name") : () ]);
    my $j = eval { $JSON->decode($raw) } // {};
    return ($st, $j->{result}, $j->{error});
}

sub poll {
    my ($task, $secs, %o) = @_;
    my ($t0, $polls, $r) = (time, 0);
    while (time - $t0 < $secs) {
        (undef, $r) = rpc('tasks/get', { taskId => $task }, %o);
        $polls++;
        last if ($r->{status} // '') =~ /^(completed|failed|cancelled)$/;
        sleep 0.2;
    }
    return ($r // {}, $polls);
}

# -- the extension, offered --------------------------------------------------

my ($st, $r, $e) = rpc('server/discover', {});
ok $r->{capabilities}{extensions}{$EXT},
   'server/discover offers the tasks extension';

# -- a task, polled to completion -----------------------------------------

($st, $r) = rpc('tools/call', { name => 'slow_compute',
                                arguments => { seconds => 2,
                                               label => 't114' } });
is $st, 200, 'tools/call slow_compute: 200';
is $r->{resultType}, 'task', 'answered with a task';
my $task = $r->{taskId} // '';
like $task, qr/^[0-9a-f]{32}\z/, 'whose id nobody can guess';
is $r->{status}, 'working', 'working';
ok !exists $r->{content}, 'and no result yet';
is sql("SELECT count(*) FROM tasks t JOIN workflow_instances i "
       . "ON i.id = t.id WHERE t.id = '$task' AND t.user_id = 'tt-alice'"),
   1, 'it was written, with its workflow instance, before the answer';

($st, $r) = rpc('tasks/get', { taskId => $task });
is $r->{status}, 'working', 'tasks/get at once: working';
ok !exists $r->{result}, 'without a result';
is $r->{resultType}, 'complete', 'tasks/get is a complete result';

my ($done, $polls) = poll($task, 15);
is $done->{status}, 'completed', 'polled until it completed';
cmp_ok $polls, '>', 1, "in more than one poll ($polls)";
is $done->{result}{content}[0]{text}, 'Computed t114 in 2 s',
   'tasks/get inlines the tool\'s result';

# another user does not know it
($st, $r, $e) = rpc('tasks/get', { taskId => $task }, who => 'bob');
is $e->{code}, -32602, 'another user\'s tasks/get: unknown task';
($st, $r, $e) = rpc('tasks/cancel', { taskId => $task }, who => 'bob');
is $e->{code}, -32602, 'and tasks/cancel the same';

# -- without the extension ----------------------------------------------

($st, $r) = rpc('tools/call', { name => 'slow_compute',
                                arguments => { seconds => 0 } },
                tasks => 0);
is $r->{resultType}, 'complete', 'a client without tasks gets the answer';
is $r->{content}[0]{text}, 'Computed the answer in 0 s', 'at once';
($st, $r, $e) = rpc('tasks/get', { taskId => $task }, tasks => 0);
is $e->{code}, -32021, 'and tasks/get is refused: -32021';
is_deeply $e->{data}{requiredCapabilities}, { extensions => { $EXT => {} } },
   'naming the extension';

# -- cancelled ------------------------------------------------------------

($st, $r) = rpc('tools/call', { name => 'slow_compute',
                                arguments => { seconds => 60 } });
my $long = $r->{taskId} // '';
($st, $r) = rpc('tasks/cancel', { taskId => $long });
is $st, 200, 'tasks/cancel: 200';
is_deeply [ sort grep { $_ ne '_meta' } keys %{ $r // {} } ], ['resultType'],
    'an empty acknowledgement';
($done) = poll($long, 5);
is $done->{status}, 'cancelled', 'the task is cancelled';
ok !exists $done->{result}, 'without a result';
is sql("SELECT status FROM workflow_instances WHERE id = '$long'"),
   'terminated', 'its workflow is terminated';
($st, $r, $e) = rpc('tasks/cancel', { taskId => $long });
ok !$e && $r, 'cancelling it again is acknowledged too';
($st, $r, $e) = rpc('tasks/get', { taskId => '0' x 32 });
is $e->{code}, -32602, 'an unknown task: -32602';

# -- its end, on a stream that listens for it -----------------------------

# a listen stream for the ids of tasks; without tasks => 0 the client
# takes tasks
sub listen_open {
    my ($who, $ids, %o) = @_;
    my $caps = ($o{tasks} // 1) ? { extensions => { $EXT => {} } } : {};
    return stream_post($port, $jwt{$who}, {
        jsonrpc => '2.0', id => "watch-$who",
        method => 'subscriptions/listen',
        params => { notifications => { taskIds => $ids },
                    _meta => {
                        'io.modelcontextprotocol/protocolVersion' => $V,
                        'io.modelcontextprotocol/clientCapabilities'
                            => $caps } } },
        headers => [ "MCP-Protocol-Version: $V",
                     'Mcp-Method: subscriptions/listen' ]);
}

sub task_event {
    my ($id, $status) = @_;
    return sub { my $e = shift;
                 ($e->{method} // '') eq 'notifications/tasks'
                 && ($e->{params}{taskId} // '') eq $id
                 && ($e->{params}{status} // '') eq $status };
}

($st, $r) = rpc('tools/call', { name => 'slow_compute',
                                arguments => { seconds => 2 } });
my $heard = $r->{taskId} // '';
($st, $r) = rpc('tools/call', { name => 'slow_compute',
                                arguments => { seconds => 60 } });
my $stopped = $r->{taskId} // '';

my $sa = listen_open('alice', [ $heard, $stopped, 'not-a-task-id' ]);
my $sb = listen_open('bob', [ $heard ]);
my $ev = stream_read($sa, 2, sub { ($_[0]{method} // '') =~ /acknowledged/ });
is_deeply $ev->[0]{params}{notifications}{taskIds}, [ $heard, $stopped ],
    'listen acknowledges the task ids it honours';
ok stream_read($sa, 10, task_event($heard, 'completed'))
       && grep({ task_event($heard, 'completed')->($_) } @{ $sa->{events} }),
   'a task that completes: notifications/tasks, completed, on the stream';
($st, $r) = rpc('tasks/cancel', { taskId => $stopped });
ok stream_read($sa, 5, task_event($stopped, 'cancelled'))
       && grep({ task_event($stopped, 'cancelled')->($_) }
               @{ $sa->{events} }),
   'a task cancelled: notifications/tasks, cancelled';
is $sa->{events}[-1]{params}{_meta}{'io.modelcontextprotocol/subscriptionId'},
   'watch-alice', 'tagged with the stream\'s subscription';
stream_read($sb, 1);
ok !grep({ ($_->{method} // '') eq 'notifications/tasks' }
         @{ $sb->{events} }),
   'another user\'s stream naming the task hears nothing of it';
close $sa->{sock};
close $sb->{sock};

my $sc = listen_open('alice', [ $heard ], tasks => 0);
$ev = stream_read($sc, 2, sub { 1 });
close $sc->{sock};
my ($resp) = $sc->{buf} =~ /(\{.*\})/s;
like $resp // '', qr/-32021/,
     'taskIds from a client without the extension: -32021';

# -- a task that asks the user ----------------------------------------------

sub poll_for {
    my ($task, $status, $secs) = @_;
    my ($t0, $r) = (time);
    while (time - $t0 < $secs) {
        (undef, $r) = rpc('tasks/get', { taskId => $task });
        last if ($r->{status} // '') eq $status;
        sleep 0.1;
    }
    return $r // {};
}

($st, $r) = rpc('tools/call', { name => 'confirm_delete',
                                arguments => { filename => 'a.txt' } });
my $asking = $r->{taskId} // '';
my $q = poll_for($asking, 'input_required', 5);
is $q->{status}, 'input_required', 'a task that asks: input_required';
is $q->{inputRequests}{'confirm-delete'}{method}, 'elicitation/create',
   'tasks/get shows the question';
($st, $r, $e) = rpc('tasks/update', { taskId => $asking,
                                      inputResponses => {} }, who => 'bob');
is $e->{code}, -32602, 'another user cannot answer it';
($st, $r) = rpc('tasks/update', { taskId => $asking, inputResponses => {
    'confirm-delete' => { action => 'accept',
                          content => { confirm => JSON::PP::true } } } });
is_deeply [ sort grep { $_ ne '_meta' } keys %{ $r // {} } ], ['resultType'],
    'tasks/update: an empty acknowledgement';
($done) = poll($asking, 10);
is $done->{status}, 'completed', 'the answer resumes the task to its end';
is $done->{result}{content}[0]{text}, 'Deleted a.txt', 'with the answer';

($st, $r) = rpc('tools/call', { name => 'multi_input', arguments => {} });
my $two = $r->{taskId} // '';
$q = poll_for($two, 'input_required', 5);
is_deeply [ sort keys %{ $q->{inputRequests} // {} } ],
    [ 'input-confirm', 'input-name' ], 'two questions at once';
my $sq = listen_open('alice', [ $two ]);
stream_read($sq, 2, sub { ($_[0]{method} // '') =~ /acknowledged/ });
rpc('tasks/update', { taskId => $two, inputResponses => {
    'input-name' => { action => 'accept', content => { name => 'Ann' } },
    'not-asked' => { action => 'accept' } } });
ok stream_read($sq, 10, task_event($two, 'input_required'))
       && grep({ task_event($two, 'input_required')->($_) }
               @{ $sq->{events} }),
   'a stream naming it hears it wait for input again';
close $sq->{sock};
($st, $q) = rpc('tasks/get', { taskId => $two });
is $q->{status}, 'input_required', 'one answered: still input_required';
is_deeply [ keys %{ $q->{inputRequests} // {} } ], [ 'input-confirm' ],
    'with only the question left';
rpc('tasks/update', { taskId => $two, inputResponses => {
    'input-confirm' => { action => 'accept',
                         content => { confirm => JSON::PP::true } } } });
($done) = poll($two, 10);
is $done->{result}{content}[0]{text}, 'Both answered: Ann, accept',
   'the second answer ends it, with both';

# -- a tool error, a protocol error ---------------------------------------

($st, $r) = rpc('tools/call', { name => 'failing_job', arguments => {} });
($done) = poll($r->{taskId} // '', 10);
is $done->{status}, 'completed', 'a tool error: completed';
ok $done->{result}{isError}, 'with isError';
($st, $r) = rpc('tools/call', { name => 'protocol_error_job',
                                arguments => {} });
($done) = poll($r->{taskId} // '', 10);
is $done->{status}, 'failed', 'a protocol error: failed';
like $done->{error}{message} // '', qr/failed, on purpose/,
     'with the error';

# -- a restart in between -------------------------------------------------

($st, $r) = rpc('tools/call', { name => 'slow_compute',
                                arguments => { seconds => 3,
                                               label => 'kill' } });
my $survivor = $r->{taskId} // '';
ok $survivor, 'a task of 3 s';
ok wait_for(sub { sql("SELECT count(*) FROM workflow_steps "
                      . "WHERE instance_id = '$survivor'") == 1 }, 5),
   'its nap began';

my @all = ($pid, children($pid));
kill 'KILL', @all;
is waitpid($pid, 0), $pid, 'nginx is killed with -9, master and workers';
$pid = undef;

($pid, $port) = dev_server($dir, %conf,
                           env => read_file("$dir/test.env"));
ok $pid, 'nginx starts again on the same state';
($done) = poll($survivor, 15);
is $done->{status}, 'completed', 'the task completes after the restart';
is $done->{result}{content}[0]{text}, 'Computed kill in 3 s',
   'with its result';
is sql("SELECT runs FROM workflow_steps WHERE instance_id = '$survivor' "
       . "AND name = 'compute'"), 1, 'its nap began once';
is sql('PRAGMA integrity_check'), 'ok', 'PRAGMA integrity_check: ok';

sub wait_for {
    my ($cond, $secs) = @_;
    my $t0 = time;
    until ($cond->()) {
        return 0 if time - $t0 > $secs;
        sleep 0.1;
    }
    return 1;
}

stop_pid($pid);
$pid = undef;
unlike read_file("$dir/logs/error.log"),
       qr/\[(alert|crit|emerg)\]|signal 11/, 'no alert or crash in the log';

done_testing;
