# The agents over real HTTP, against the mock TastyTrade API and the mock
# LLM provider (conf/mock/llm.js): analyze_portfolio gathers the account
# with ttai's read-only tools, lets the model call one, and answers with
# progress; each tool call and model turn is a step written once; a
# provider overloaded (529) is retried with backoff and recovers; a
# model's key that is missing is named; a user's daily budget refuses
# politely; as a task it is polled to completion with tasks/get and
# cancelled in another run; killed with -9 mid-analysis, nginx started
# again resumes it, no step run twice; review_trade reads the dry run;
# daily_brief saves to the journal and to R2, and schedules itself; the
# journal (save_note, search_notes, ttai://journal) finds notes by
# meaning, per user; a provider's key reaches no log and no answer.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(time sleep);
use Ttai::Util qw(repo_root scratch_dir run_capture http_get read_file
                  write_file random_hex children skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $JSON = JSON::PP->new->canonical;
my $V = '2026-07-28';
my $EXT = 'io.modelcontextprotocol/tasks';
my $KEY = 'sk-ant-' . random_hex(16);

my $dir = scratch_dir('agents');
my %conf = (llm => 1, workers => 2, market => 'open',
            http => 'ttai_llm_budget requests=5 tokens=0;',
            env => 'JWT_SECRET=' . random_hex(32) . "\n"
                   . 'TOKEN_ENCRYPTION_KEY=' . random_hex(32) . "\n"
                   . "ANTHROPIC_API_KEY=$KEY\n"
                   . "DEFAULT_LLM_MODEL=mock/analyst\n");
my $srv = tt_server($dir, %conf);
END { tt_stop($srv) if $srv }

sub sql {
    my ($rc, $out) = run_capture('sqlite3', $srv->{db}, @_);
    $out =~ s/\s+\z//;
    return $out;
}

my %jwt;
sub user {
    my ($name) = @_;
    return $jwt{$name} //= do {
        tt_connect($srv, "tt-$name");
        tt_jwt($srv, "tt-$name");
    };
}

# a stateless request; tasks => 1 declares the tasks extension; the SSE
# events (progress) come back in @$events
my $n = 0;
sub rpc {
    my ($who, $method, $params, %o) = @_;
    my $caps = $o{tasks} ? { extensions => { $EXT => {} } } : {};
    my %p = (%$params, _meta => {
        'io.modelcontextprotocol/protocolVersion' => $V,
        'io.modelcontextprotocol/clientCapabilities' => $caps,
        'io.modelcontextprotocol/clientInfo' => { name => 't124',
                                                  version => '1' },
        $o{progress} ? (progressToken => $o{progress}) : () });
    my $name = $params->{name} // $params->{taskId} // $params->{uri};
    my ($st, undef, $raw) = http_get($srv->{port}, '/mcp', method => 'POST',
        body => $JSON->encode({ jsonrpc => '2.0', id => ++$n,
                                method => $method, params => \%p }),
        timeout => 60,
        headers => [ 'Authorization: Bearer ' . user($who),
                     'Content-Type: application/json',
                     'Accept: application/json, text/event-stream',
                     "MCP-Protocol-Version: $V", "Mcp-Method: $method",
                     $name ? ("Mcp-Name: $name") : () ]);
    my @data = $raw =~ /^data: (.*)$/mg;
    my @msgs = @data ? map { $JSON->decode($_) } @data
                     : (eval { $JSON->decode($raw) } // ());
    @{ $o{events} } = grep { !exists $_->{id} } @msgs if $o{events};
    my ($j) = grep { exists $_->{id} } @msgs;
    $j //= {};
    return ($st, $j->{result}, $j->{error});
}

sub call {
    my ($who, $tool, $args, %o) = @_;
    my (undef, $r, $e) = rpc($who, 'tools/call',
                             { name => $tool, arguments => $args }, %o);
    return $r // { error => $e };
}

sub text_of { ($_[0] // {})->{content}[0]{text} // '' }

sub poll {
    my ($who, $task, $secs) = @_;
    my ($t0, $r, @seen) = (time);
    while (time - $t0 < $secs) {
        (undef, $r) = rpc($who, 'tasks/get', { taskId => $task },
                          tasks => 1);
        push @seen, $r->{statusMessage} if $r->{statusMessage};
        last if ($r->{status} // '') =~ /^(completed|failed|cancelled)$/;
        sleep 0.2;
    }
    return ($r // {}, @seen);
}

sub steps {
    my ($id) = @_;
    return map { [ split /\|/ ] }
           split /\n/, sql("SELECT name, runs, coalesce(output, '') FROM "
                           . "workflow_steps WHERE instance_id = '$id' "
                           . 'ORDER BY seq');
}

sub fault {
    my ($status, $count) = @_;
    my ($st) = http_get($srv->{mock}, '/mock/llm-fault', method => 'POST',
                        body => $JSON->encode({ status => $status,
                                                count => $count }),
                        headers => [ 'Content-Type: application/json' ]);
    return $st;
}

sub model_calls {
    my @l = grep { m{POST /v1/messages} }
            split /\n/, read_file("$dir/logs/mock.log");
    return scalar @l;
}

sub wait_for {
    my ($cond, $secs) = @_;
    my $t0 = time;
    until ($cond->()) {
        return 0 if time - $t0 > $secs;
        sleep 0.1;
    }
    return 1;
}

# -- listed where the agents run, with honest annotations ---------------------

my (undef, $list) = rpc('alice', 'tools/list', {});
my %tools = map { $_->{name} => $_ } @{ $list->{tools} // [] };
for my $t (qw(analyze_portfolio review_trade daily_brief save_note
              search_notes)) {
    ok $tools{$t}, "tools/list has $t";
}
ok $tools{analyze_portfolio}{annotations}{readOnlyHint},
   'analyze_portfolio is read-only';
ok !$tools{save_note}{annotations}{readOnlyHint}, 'save_note is not';
ok !$tools{place_order}, 'no trading tool here (ttai_trading is off)';

# -- analyze_portfolio, with progress -----------------------------------------

my $calls0 = model_calls();
my @events;
my $r = call('alice', 'analyze_portfolio', {}, progress => 'p-1',
             events => \@events);
ok !$r->{isError}, 'analyze_portfolio answers' or diag explain $r;
my $sc = $r->{structuredContent} // {};
is $sc->{model}, 'mock/analyst', 'with the model DEFAULT_LLM_MODEL names';
is_deeply [ sort @{ $sc->{data} // [] } ],
          [ qw(balances greeks metrics positions) ],
   'having read the balances, positions, greeks and metrics';
is_deeply $sc->{tools_called}, [ 'get_balances' ],
   'the model asked for a tool, a read-only one, and got it';
is $sc->{turns}, 2, 'in two model turns';
like text_of($r), qr/Based on the data: Balances of account \w+/,
     'the analysis cites the data it was given';
like text_of($r), qr/Net liquidating value: [\d.]+/,
     'with the numbers it used';
ok $sc->{usage}{input} > 0 && $sc->{usage}{output} > 0,
   'and what it cost';
my @progress = grep { ($_->{method} // '') eq 'notifications/progress' }
               @events;
ok @progress >= 1, 'progress came before the answer ('
                   . scalar(@progress) . ' notifications)';
ok !(grep { $_->{params}{progressToken} ne 'p-1' } @progress),
   'for this request';
is model_calls() - $calls0, 2, 'the provider was called twice';

my $alice_id = sql("SELECT id FROM workflow_instances WHERE workflow = "
                   . "'analyze_portfolio' AND json_extract(params, "
                   . "'\$.user') = 'tt-alice'");
my @st = steps($alice_id);
is_deeply [ map { $_->[0] } @st ],
          [ qw(data-balances data-positions data-greeks data-metrics
               model-1-a1 tool-1-1 model-2-a1) ],
   'each tool call and model turn is a step';
ok !(grep { $_->[1] != 1 } @st), 'each written once';
like $st[4][2], qr/"name":"get_balances"/, 'the model\'s tool call recorded';
is sql("SELECT count(*) || ' ' || sum(outcome = 'ok') FROM llm_usage "
       . "WHERE user_id = 'tt-alice'"), '2 2',
   'each call recorded in llm_usage';
my ($urc, $usage) = run_capture("$root/build/ttai", 'llm', 'usage',
                                '--db', $srv->{db}, '--user', 'tt-alice');
like $usage, qr/tt-alice\s+mock\s+mock\/analyst\s+2\b/,
     'ttai llm usage shows them';

# -- a provider overloaded, then recovering -----------------------------------

is fault(529, 2), 200, 'the mock will answer 529 twice';
$r = call('frank', 'analyze_portfolio', { focus => 'theta' });
ok !$r->{isError}, 'the analysis finishes all the same' or diag explain $r;
my $frank = sql("SELECT id FROM workflow_instances WHERE "
                . "json_extract(params, '\$.user') = 'tt-frank'");
my %fs = map { $_->[0] => $_ } steps($frank);
like $fs{'model-1-a1'}[2] // '', qr/"class":"overloaded".*"retry":true/,
     'the first try: overloaded, worth a retry';
ok $fs{'model-1-w1'} && $fs{'model-1-w2'}, 'two pauses, as steps';
is sql("SELECT until - started_at FROM workflow_steps WHERE instance_id = "
       . "'$frank' AND name = 'model-1-w1'"), 2000,
   'as long as the provider\'s Retry-After said (2 s)';
like $fs{'model-1-a3'}[2] // '', qr/"response"/, 'the third try answered';
is sql("SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM "
       . "llm_usage WHERE user_id = 'tt-frank' ORDER BY id)"),
   'overloaded,overloaded,ok,ok', 'every try recorded';

# -- a model whose key is missing, a model that refuses -----------------------

$r = call('alice', 'analyze_portfolio', { model => 'openai/gpt-4o' });
ok $r->{isError}, 'openai/ without OPENAI_API_KEY: an error';
like text_of($r), qr/needs OPENAI_API_KEY: set it in \.dev\.vars/,
     'which names the variable to set';

$r = call('alice', 'analyze_portfolio', { focus => 'REFUSE this' });
ok $r->{isError}, 'a refusal is an error';
like text_of($r), qr/the model declined to answer/, 'saying so';

# -- a key never goes anywhere but its provider -------------------------------

$r = call('ivan', 'analyze_portfolio',
          { model => 'anthropic/claude-sonnet-4-20250514' });
ok $r->{isError}, 'anthropic/ with a key, but no way out of this machine';
unlike $JSON->encode($r), qr/\Q$KEY\E/, 'the key is not in the answer';
unlike read_file("$dir/logs/error.log"), qr/\Q$KEY\E/,
       'nor in the error log';
unlike read_file("$dir/logs/access.log"), qr/\Q$KEY\E/,
       'nor in the access log';
unlike sql("SELECT group_concat(output) FROM workflow_steps"), qr/\Q$KEY\E/,
       'nor in any step';

# -- a budget spent -----------------------------------------------------------

$r = call('bob', 'analyze_portfolio', {});
ok !$r->{isError}, 'bob: a first analysis (2 of 5 calls)';
$r = call('bob', 'analyze_portfolio', {});
ok !$r->{isError}, 'a second (4 of 5)';
$r = call('bob', 'analyze_portfolio', {});
ok $r->{isError}, 'the third runs out of budget at its second turn';
like text_of($r), qr/today's budget of 5 requests to the model is spent.*midnight UTC/,
     'and says which budget, and when it comes back';
is sql("SELECT count(*) FROM llm_usage WHERE user_id = 'tt-bob'"), 5,
   'no call was made past it';
$r = call('alice', 'search_notes', { query => 'anything' });
ok !$r->{isError}, 'another user is not held by bob\'s budget';

# -- as a task: polled to completion, and cancelled ---------------------------

my (undef, $t) = rpc('carol', 'tools/call',
                     { name => 'analyze_portfolio', arguments => {} },
                     tasks => 1);
is $t->{resultType}, 'task', 'for a client that takes tasks: a task';
my ($done, @said) = poll('carol', $t->{taskId} // '', 30);
is $done->{status}, 'completed', 'tasks/get polls it to completion';
like text_of($done->{result}), qr/Based on the data/, 'with the analysis';
is $done->{result}{structuredContent}{agent}, 'analyze_portfolio',
   'and its numbers';
my (undef, $other) = rpc('alice', 'tasks/get', { taskId => $t->{taskId} },
                         tasks => 1);
ok !$other, 'another user cannot see it';

is fault(529, 3), 200, 'the mock will be overloaded a while';
(undef, $t) = rpc('dave', 'tools/call',
                  { name => 'analyze_portfolio', arguments => {} },
                  tasks => 1);
my $dave = $t->{taskId} // '';
ok wait_for(sub { sql("SELECT count(*) FROM workflow_steps WHERE "
                      . "instance_id = '$dave' AND name = 'model-1-w1'")
                  == 1 }, 15), 'the task waits to try the model again';
my (undef, $w) = rpc('dave', 'tasks/get', { taskId => $dave }, tasks => 1);
like $w->{statusMessage} // '', qr/^\d+ steps done; the model answered/,
     'tasks/get says how far it is';
my (undef, $c) = rpc('dave', 'tasks/cancel', { taskId => $dave },
                     tasks => 1);
ok $c, 'tasks/cancel';
my $before = model_calls();
sleep 4;
(undef, $w) = rpc('dave', 'tasks/get', { taskId => $dave }, tasks => 1);
is $w->{status}, 'cancelled', 'the task is cancelled';
is model_calls(), $before, 'and the model is not called again';
is sql("SELECT status FROM workflow_instances WHERE id = '$dave'"),
   'terminated', 'its workflow ended';

# -- killed with -9 mid-analysis, and started again -----------------------------

is fault(529, 2), 200, 'overloaded twice more';
(undef, $t) = rpc('erin', 'tools/call',
                  { name => 'analyze_portfolio', arguments => {} },
                  tasks => 1);
my $erin = $t->{taskId} // '';
ok wait_for(sub { sql("SELECT count(*) FROM workflow_steps WHERE "
                      . "instance_id = '$erin' AND name = 'model-1-w2'")
                  == 1 }, 20), 'the analysis pauses before its third try';
my @all = ($srv->{pid}, children($srv->{pid}));
kill 'KILL', @all;
is waitpid($srv->{pid}, 0), $srv->{pid}, 'nginx is killed with -9';
$srv->{pid} = 0;
my $data_before = sql("SELECT count(*) FROM workflow_steps WHERE "
                      . "instance_id = '$erin' AND name LIKE 'data-%'");
$srv = tt_server($dir, %conf, env => read_file("$dir/test.env"));
ok $srv->{pid}, 'nginx starts again on the same state';
($done) = poll('erin', $erin, 40);
is $done->{status}, 'completed', 'the analysis resumes and finishes';
like text_of($done->{result}), qr/Based on the data/, 'with its answer';
my @es = steps($erin);
ok !(grep { $_->[1] != 1 } @es), 'no step ran twice ('
   . join(' ', map { "$_->[0]:$_->[1]" } @es) . ')';
is sql("SELECT count(*) FROM workflow_steps WHERE instance_id = '$erin' "
       . "AND name LIKE 'data-%'"), $data_before,
   'the data it had gathered was not gathered again';
is sql('PRAGMA integrity_check'), 'ok', 'PRAGMA integrity_check: ok';

# -- review_trade: the order's dry run, metrics and chain ---------------------

my $order = { order_type => 'Limit', price => 140, time_in_force => 'Day',
              legs => [ { symbol => 'AAPL', instrument_type => 'Equity',
                          action => 'Buy to Open', quantity => 10 } ] };
$r = call('gina', 'review_trade', { order => $order });
ok !$r->{isError}, 'review_trade answers' or diag explain $r;
is_deeply [ sort @{ $r->{structuredContent}{data} // [] } ],
          [ qw(dry-run metrics) ],
   'from the dry run and the metrics';
is sql("SELECT count(*) FROM workflow_steps s JOIN workflow_instances i "
       . "ON i.id = s.instance_id WHERE i.workflow = 'review_trade' AND "
       . "s.name = 'data-dry-run' AND s.output LIKE '%is_error\":false%'"),
   1, 'the dry run was read';

# -- the journal ----------------------------------------------------------------

$r = call('gina', 'save_note',
          { text => 'Sold the SPY 30-delta put for 1.20 after earnings; '
                    . 'IV rank was high.', tags => [ 'spy', 'puts' ] });
ok !$r->{isError}, 'save_note' or diag explain $r;
like text_of($r), qr/^Saved note note-\d+-[0-9a-f]{8} to the journal\.$/,
     'says the note\'s id';
call('gina', 'save_note', { text => 'Rolled the AAPL covered call before '
                                    . 'the dividend.', tags => [ 'aapl' ] });
call('hank', 'save_note', { text => 'Hank: SPY put sold for 1.20.' });

$r = call('gina', 'search_notes', { query => 'SPY put IV rank' });
my @m = @{ $r->{structuredContent}{matches} // [] };
is scalar @m, 2, 'search_notes: gina\'s two notes, not hank\'s';
like $m[0]{text} // '', qr/SPY 30-delta put/, 'the nearest first';
ok $m[0]{score} > $m[1]{score}, 'by score';
like text_of($r), qr/"Sold the SPY 30-delta put/,
     'each note\'s text quoted, as data';
ok $r->{_meta}{'ttai/untrusted-text'}, 'and marked so';
$r = call('gina', 'search_notes', { query => 'SPY', filters =>
                                                 { tags => [ 'aapl' ] } });
is scalar @{ $r->{structuredContent}{matches} // [] }, 1,
   'a tags filter keeps only the tagged';
$r = call('gina', 'search_notes', { query => 'SPY', filters =>
                                                 { since => '2999-01-01' } });
is scalar @{ $r->{structuredContent}{matches} // [] }, 0,
   'since: none from the future';
my (undef, $res) = rpc('gina', 'resources/read', { uri => 'ttai://journal' });
like $res->{contents}[0]{text} // '', qr/AAPL covered call.*SPY 30-delta/s,
     'ttai://journal: the newest first';
is sql("SELECT count(*) FROM llm_usage WHERE user_id = 'tt-gina' AND "
       . "model = 'mock/embed'"), 5, 'each embedding recorded';
ok sql("SELECT min(input_tokens) FROM llm_usage WHERE user_id = 'tt-gina' "
       . "AND model = 'mock/embed'") > 0, 'with the tokens the provider counted';

# -- daily_brief: at once, and every day --------------------------------------

$r = call('hank', 'daily_brief', {});
ok !$r->{isError}, 'daily_brief' or diag explain $r;
my $key = $r->{structuredContent}{r2}{key} // '';
like $key, qr{^tt-hank/\d{4}-\d\d-\d\d\.md$}, 'in R2, by user and day';
like text_of($r), qr/Saved to your journal\. In R2: briefs\/\Q$key\E/,
     'it says where it is';
my $body = read_file("$dir/state/r2/briefs/$key");
like $body, qr/Mock analysis|Based on the data/,
     'the object is the brief\'s text';
$r = call('hank', 'search_notes', { query => 'brief',
                                    filters => { tags => [ 'daily-brief' ] } });
is $r->{structuredContent}{matches}[0]{kind}, 'brief',
   'and it is in the journal';

$r = call('hank', 'daily_brief', { schedule => 'daily', hour => 7 });
like text_of($r), qr/A daily brief at 07:00 UTC from now on .* the next at \S+T07:00:00Z/,
     'schedule daily: when the next comes';
ok wait_for(sub { sql("SELECT count(*) FROM workflow_steps s JOIN "
                      . "workflow_instances i ON i.id = s.instance_id WHERE "
                      . "i.workflow = 'daily_brief' AND s.name = 'd0-wait' "
                      . "AND s.status = 'sleeping'") == 1 }, 10),
   'it sleeps until then';
$r = call('hank', 'daily_brief', { schedule => 'off' });
is text_of($r), 'The daily brief is off.', 'schedule off';
is sql("SELECT status FROM workflow_instances WHERE workflow = "
       . "'daily_brief' AND json_extract(params, '\$.schedule') = 'daily'"),
   'terminated', 'its schedule ended';

done_testing();
