# MCP 2026-07-28, the stateless revision, beside the 2025 era on the same
# /mcp: server/discover, the per-request _meta and the headers that
# repeat the body, the revision's errors and statuses, what its results
# carry, a real tool call through TastyTrade's mock, no session ever
# made, and the traceparent carried into the logs.  The 2025 era on the
# same server is checked to be as it was.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use Ttai::Util qw(repo_root scratch_dir read_file http_get wait_until
                  skip_or_fail closed_port);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_health);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $JSON = JSON::PP->new->canonical;
my $V = '2026-07-28';
my $TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

my @servers;
END { tt_stop($_) for @servers }

my $dir = scratch_dir('stateless');
my $srv = tt_server($dir, http => "log_format trace '\$ttai_traceparent "
                                  . "\$status \$request_uri';"
                                  . " access_log $dir/logs/trace.log trace;"
                                  . " ttai_mcp_request_state_ttl 3s;",
                     server => 'location = /fx/mcp { ttai_mcp; '
                             . 'ttai_mcp_fixtures conformance; }');
push @servers, $srv;
tt_connect($srv, 'alice');
my $jwt = tt_jwt($srv, 'alice');

my $id = 0;

sub meta {
    my (%extra) = @_;
    return { 'io.modelcontextprotocol/protocolVersion' => $V,
             'io.modelcontextprotocol/clientCapabilities' => {},
             'io.modelcontextprotocol/clientInfo' =>
                 { name => 'stateless-test', version => '1' },
             %extra };
}

# one POST; %o: headers (replacing the standard ones), extra (more),
# body (raw text), server; returns (status, headers, decoded body, raw)
sub post {
    my ($method, $params, %o) = @_;
    my %msg = (jsonrpc => '2.0', id => ++$id, method => $method);
    $msg{params} = $params if $params;
    my $body = $o{body} // $JSON->encode(\%msg);
    my @h = ("Authorization: Bearer " . ($o{jwt} // $jwt),
             'Content-Type: application/json',
             'Accept: application/json, text/event-stream');
    push @h, @{ $o{headers} // [ "MCP-Protocol-Version: $V",
                                 "Mcp-Method: $method" ] };
    push @h, @{ $o{extra} // [] };
    my ($st, $h, $raw) = http_get(($o{server} // $srv)->{port},
                                  $o{path} // '/mcp',
                                  method => 'POST', headers => \@h,
                                  body => $body, timeout => 30);
    return ($st, $h,
            (length $raw ? scalar eval { $JSON->decode($raw) } : undef), $raw);
}

# -- server/discover ----------------------------------------------------------

my ($st, $h, $r) = post('server/discover', { _meta => meta() });
is $st, 200, 'server/discover: 200';
is_deeply $r->{result}{supportedVersions}, [ $V ], 'it names the revision';
ok $r->{result}{capabilities}{tools}, 'and offers tools';
is $r->{result}{resultType}, 'complete', 'resultType complete';
ok defined $r->{result}{ttlMs} && $r->{result}{ttlMs} >= 0, 'ttlMs';
is $r->{result}{cacheScope}, 'public', 'cacheScope public: no user data';
is $r->{result}{_meta}{'io.modelcontextprotocol/serverInfo'}{name}, 'ttai',
    'serverInfo in the result _meta';
ok !exists $h->{'mcp-session-id'}, 'no Mcp-Session-Id is minted';

# -- tools/list: deterministic, with caching hints -------------------------

my @orders;
for (1 .. 4) {
    ($st, $h, $r) = post('tools/list', { _meta => meta() });
    push @orders, join ',', map { $_->{name} } @{ $r->{result}{tools} // [] };
}
is $st, 200, 'tools/list: 200';
ok $orders[0] =~ /get_quotes/, 'tools/list lists get_quotes';
is scalar(grep { $_ eq $orders[0] } @orders), 4,
    'in the same order every time, whichever worker answers';
is $r->{result}{resultType}, 'complete', 'with resultType';
ok $r->{result}{ttlMs} > 0, 'a positive ttlMs';
is $r->{result}{cacheScope}, 'public', 'the same for every user: public';

# -- a tool call through TastyTrade's mock -----------------------------------

($st, $h, $r) = post('tools/call',
                     { name => 'get_quotes',
                       arguments => { symbols => [ 'AAPL' ] },
                       _meta => meta() },
                     headers => [ "MCP-Protocol-Version: $V",
                                  'Mcp-Method: tools/call',
                                  'Mcp-Name: get_quotes' ]);
is $st, 200, 'tools/call get_quotes: 200';
ok !$r->{result}{isError}, 'not an error' or diag explain $r;
is $r->{result}{resultType}, 'complete', 'resultType complete';
is $r->{result}{structuredContent}{quotes}[0]{symbol}, 'AAPL',
    'the quote, from the mock';
ok !exists $r->{result}{ttlMs}, 'a call result carries no caching hint';

# get_session_info knows there is no session
($st, $h, $r) = post('tools/call',
                     { name => 'get_session_info', arguments => {},
                       _meta => meta() },
                     headers => [ "MCP-Protocol-Version: $V",
                                  'Mcp-Method: tools/call',
                                  'Mcp-Name: get_session_info' ]);
is $r->{result}{structuredContent}{user}{sub}, 'alice',
    'get_session_info: the user, from the token';

# Mcp-Name in base64, as a client sends a value it cannot send raw
($st, $h, $r) = post('tools/call',
                     { name => 'get_session_info', arguments => {},
                       _meta => meta() },
                     headers => [ "MCP-Protocol-Version: $V",
                                  'Mcp-Method: tools/call',
                                  'Mcp-Name: =?base64?'
                                  . encode_base64('get_session_info', '')
                                  . '?=' ]);
is $st, 200, 'Mcp-Name as =?base64?...?= matches';

# -- refusals, with the codes and statuses of the revision ------------------

my @refusals = (
    [ 'no MCP-Protocol-Version header', 'tools/list', { _meta => meta() },
      [ 'Mcp-Method: tools/list' ], 400, -32020 ],
    [ 'a header that disagrees with _meta', 'tools/list', { _meta => meta() },
      [ 'MCP-Protocol-Version: 2025-11-25', 'Mcp-Method: tools/list' ],
      400, -32020 ],
    [ 'no Mcp-Method', 'tools/list', { _meta => meta() },
      [ "MCP-Protocol-Version: $V" ], 400, -32020 ],
    [ 'Mcp-Method in other case', 'tools/list', { _meta => meta() },
      [ "MCP-Protocol-Version: $V", 'Mcp-Method: TOOLS/LIST' ], 400, -32020 ],
    [ 'no Mcp-Name on tools/call', 'tools/call',
      { name => 'get_quotes', arguments => {}, _meta => meta() },
      [ "MCP-Protocol-Version: $V", 'Mcp-Method: tools/call' ], 400, -32020 ],
    [ 'Mcp-Name naming another tool', 'tools/call',
      { name => 'get_quotes', arguments => {}, _meta => meta() },
      [ "MCP-Protocol-Version: $V", 'Mcp-Method: tools/call',
        'Mcp-Name: get_accounts' ], 400, -32020 ],
    [ 'no clientCapabilities', 'tools/list',
      { _meta => { 'io.modelcontextprotocol/protocolVersion' => $V } },
      undef, 400, -32602 ],
    [ 'the modern header without _meta', 'tools/list', {}, undef,
      400, -32602 ],
    [ 'an unknown log level', 'tools/list',
      { _meta => meta('io.modelcontextprotocol/logLevel' => 'loud') },
      undef, 400, -32602 ],
    [ 'initialize in the revision', 'initialize',
      { protocolVersion => $V, capabilities => {}, _meta => meta() },
      undef, 404, -32601 ],
    [ 'ping, removed', 'ping', { _meta => meta() }, undef, 404, -32601 ],
    [ 'logging/setLevel, removed', 'logging/setLevel',
      { level => 'info', _meta => meta() }, undef, 404, -32601 ],
    [ 'resources/subscribe, removed', 'resources/subscribe',
      { uri => 'ttai://x', _meta => meta() }, undef, 404, -32601 ],
    [ 'an unknown method', 'unknown/method', { _meta => meta() }, undef,
      404, -32601 ],
);

for my $c (@refusals) {
    my ($what, $method, $params, $headers, $want_st, $want_code) = @$c;
    my ($s, undef, $j) = post($method, $params,
                              $headers ? (headers => $headers) : ());
    is $s, $want_st, "$what: HTTP $want_st";
    is $j->{error}{code}, $want_code, "$what: $want_code";
    is $j->{id}, $id, "$what: the error carries the request id";
}

# a version the server does not serve
($st, $h, $r) = post('tools/list',
                     { _meta => { %{ meta() },
                                  'io.modelcontextprotocol/protocolVersion'
                                      => 'v999.0.0' } },
                     headers => [ 'MCP-Protocol-Version: v999.0.0',
                                  'Mcp-Method: tools/list' ]);
is $st, 400, 'an unsupported version: 400';
is $r->{error}{code}, -32022, 'UnsupportedProtocolVersion';
is_deeply $r->{error}{data}{supported}, [ $V ],
    'its supported list is discover\'s';
is $r->{error}{data}{requested}, 'v999.0.0', 'the requested one is echoed';

# a resource that is not there: -32602 now, not -32002
($st, $h, $r) = post('resources/read',
                     { uri => 'ttai://nothing', _meta => meta() },
                     headers => [ "MCP-Protocol-Version: $V",
                                  'Mcp-Method: resources/read',
                                  'Mcp-Name: ttai://nothing' ]);
is $r->{error}{code}, -32602, 'a missing resource: -32602';
is $r->{error}{data}{uri}, 'ttai://nothing', 'naming the URI';

# -- no session, ever ---------------------------------------------------------

my $before = $JSON->decode((http_get($srv->{port}, '/health'))[2]);
for (1 .. 5) {
    ($st, $h) = post('tools/list', { _meta => meta() },
                     extra => [ 'Mcp-Session-Id: '
                                . '0123456789abcdef0123456789abcdef' ]);
    is $st, 200, 'a stale Mcp-Session-Id is ignored, not a 404';
    ok !exists $h->{'mcp-session-id'}, 'and none is sent back';
}
my $after = $JSON->decode((http_get($srv->{port}, '/health'))[2]);
is $after->{checks}{sessions}{entries}, $before->{checks}{sessions}{entries},
    'the session zone holds no more sessions than before';

# a notification is accepted
($st, $h, $r, my $raw) = post('notifications/cancelled', undef,
    body => $JSON->encode({ jsonrpc => '2.0',
                            method => 'notifications/cancelled',
                            params => { requestId => 1, _meta => meta() } }),
    headers => [ "MCP-Protocol-Version: $V",
                 'Mcp-Method: notifications/cancelled' ]);
is $st, 202, 'a notification: 202';
is $raw, '', 'with no body';

# GET stays 405
($st) = http_get($srv->{port}, '/mcp',
                 headers => [ "Authorization: Bearer $jwt",
                              "MCP-Protocol-Version: $V" ]);
is $st, 405, 'GET /mcp: 405';

# -- the 2025 era on the same endpoint is as it was -------------------------

($st, $h, $r) = post('initialize',
                     { protocolVersion => '2025-11-25', capabilities => {},
                       clientInfo => { name => 'legacy', version => '1' } },
                     headers => []);
is $st, 200, 'a 2025 initialize: 200';
my $sid = $h->{'mcp-session-id'};
like $sid // '', qr/^[0-9a-f]{32}$/, 'it opens a session';
is $r->{result}{protocolVersion}, '2025-11-25', 'at 2025-11-25';
ok !exists $r->{result}{resultType}, 'with no resultType';

($st, $h, $r) = post('tools/list', undef,
                     headers => [ 'MCP-Protocol-Version: 2025-11-25',
                                  "Mcp-Session-Id: $sid" ]);
is $st, 200, 'the session\'s tools/list: 200';
is join(',', map { $_->{name} } @{ $r->{result}{tools} // [] }), $orders[0],
    'the same tools, in the same order';
ok !exists $r->{result}{ttlMs}, 'without the revision\'s members';

($st, $h, $r) = post('resources/read', { uri => 'ttai://nothing' },
                     headers => [ 'MCP-Protocol-Version: 2025-11-25',
                                  "Mcp-Session-Id: $sid" ]);
is $r->{error}{code}, -32002, 'a 2025 session keeps -32002 for a missing '
                              . 'resource';

($st, $h, $r) = post('server/discover', { _meta => meta() },
                     headers => [ 'MCP-Protocol-Version: 2025-11-25',
                                  "Mcp-Session-Id: $sid" ]);
is $st, 400, 'a 2025 header on a body that claims 2026-07-28: 400';
is $r->{error}{code}, -32020, 'HeaderMismatch';

# -- a tool that asks the user: multi round-trip requests ------------------

my $bob = tt_jwt($srv, 'bob');
my $ASK = 'test_input_required_result_request_state';
my %fx = (path => '/fx/mcp');

sub ask_call {
    my ($extra, %o) = @_;
    return post('tools/call',
                { name => $o{tool} // $ASK, arguments => $o{args} // {},
                  _meta => meta('io.modelcontextprotocol/clientCapabilities'
                                => $o{caps} // { elicitation => {} }),
                  %{ $extra // {} } },
                headers => [ "MCP-Protocol-Version: $V",
                             'Mcp-Method: tools/call',
                             'Mcp-Name: ' . ($o{tool} // $ASK) ],
                %fx, $o{jwt} ? (jwt => $o{jwt}) : ());
}

my $yes = { confirm => { action => 'accept', content => { ok => JSON::PP::true } } };

($st, $h, $r) = ask_call();
is $st, 200, 'a tool that asks: 200';
is $r->{result}{resultType}, 'input_required', 'resultType input_required';
is $r->{result}{inputRequests}{confirm}{method}, 'elicitation/create',
    'it asks with elicitation/create';
my $state = $r->{result}{requestState};
like $state // '', qr/^v1\.[A-Za-z0-9_-]+$/, 'with a sealed requestState';
ok !exists $r->{result}{ttlMs}, 'an answer that waits is not cacheable';

($st, $h, $r) = ask_call({ inputResponses => $yes, requestState => $state });
is $r->{result}{resultType}, 'complete', 'the retry completes';
like $r->{result}{content}[0]{text}, qr/^state-ok/,
    'with the state the first round sealed';

# the fixtures are absent without the directive
($st, $h, $r) = post('tools/call', { name => $ASK, arguments => {},
                                     _meta => meta() },
                     headers => [ "MCP-Protocol-Version: $V",
                                  'Mcp-Method: tools/call',
                                  "Mcp-Name: $ASK" ]);
is $r->{error}{code}, -32602, 'without ttai_mcp_fixtures, the fixture is an '
                              . 'unknown tool';

my $forged = $state;
substr($forged, 20, 1) = substr($forged, 20, 1) eq 'A' ? 'B' : 'A';
my @hostile = (
    [ 'a state with one character changed', { requestState => $forged },
      {}, qr/changed, or sealed with another key/ ],
    [ 'a made-up state', { requestState => 'v1.' . ('A' x 80) }, {},
      qr/changed|not made by this server/ ],
    [ 'another user\'s state', { requestState => $state }, { jwt => $bob },
      qr/another user/ ],
    [ 'the state with other arguments', { requestState => $state },
      { args => { extra => 1 } }, qr/arguments are not the ones/ ],
    [ 'the state on another tool', { requestState => $state },
      { tool => 'test_input_required_result_tampered_state' },
      qr/another tool/ ],
    [ 'answers without the state', {}, {}, qr/come with the requestState/ ],
);
for my $c (@hostile) {
    my ($what, $extra, $o, $why) = @$c;
    ($st, $h, $r) = ask_call({ inputResponses => $yes, %$extra }, %$o);
    is $st, 200, "$what: answered in band";
    is $r->{error}{code}, -32602, "$what: refused with -32602";
    like $r->{error}{message} // '', $why, "$what: saying why";
    ok !$r->{result}, "$what: the tool does not go on";
}

# a client that cannot show the question
($st, $h, $r) = ask_call(undef, caps => {});
is $st, 400, 'a client without elicitation: 400';
is $r->{error}{code}, -32021, 'MissingRequiredClientCapability';
ok $r->{error}{data}{requiredCapabilities}{elicitation},
    'naming elicitation';

# declining ends the call with a clear result
($st, $h, $r) = ask_call({ requestState => $state, inputResponses =>
                           { confirm => { action => 'decline' } } });
like $r->{result}{content}[0]{text}, qr/decline/, 'decline is said';

# replayed: the same state works again until it expires (MRTR says states
# are not single-use; a step that must run once keeps its own record)
($st, $h, $r) = ask_call({ inputResponses => $yes, requestState => $state });
is $r->{result}{resultType}, 'complete', 'a replay before expiry completes';

sleep 4;
($st, $h, $r) = ask_call({ inputResponses => $yes, requestState => $state });
is $r->{error}{code}, -32602, 'after ttai_mcp_request_state_ttl: refused';
like $r->{error}{message}, qr/expired/, 'as expired';

# a 2025 session is told what to do instead
($st, $h, $r) = post('initialize',
                     { protocolVersion => '2025-11-25', capabilities => {},
                       clientInfo => { name => 'legacy', version => '1' } },
                     headers => [], %fx);
my $fsid = $h->{'mcp-session-id'};
($st, $h, $r) = post('tools/call', { name => $ASK, arguments => {} },
                     headers => [ 'MCP-Protocol-Version: 2025-11-25',
                                  "Mcp-Session-Id: $fsid" ], %fx);
ok $r->{result}{isError}, 'in a 2025 session the asking tool is an error';
like $r->{result}{content}[0]{text}, qr/2026-07-28/,
    'that says which revision asks';

# -- prompts and resources in both eras --------------------------------------

($st, $h, $r) = post('prompts/list', { _meta => meta() });
my %prompts = map { $_->{name} => $_ } @{ $r->{result}{prompts} // [] };
ok $prompts{$_}, "prompts/list has $_"
    for qw(portfolio_risk_review covered_call_screen cash_secured_put_screen
           earnings_check);
ok !$prompts{test_simple_prompt}, 'and no fixture without the directive';
is $r->{result}{cacheScope}, 'public', 'prompts are the same for everyone';

($st, $h, $r) = post('prompts/get',
                     { name => 'earnings_check',
                       arguments => { symbol => 'NVDA' }, _meta => meta() },
                     headers => [ "MCP-Protocol-Version: $V",
                                  'Mcp-Method: prompts/get',
                                  'Mcp-Name: earnings_check' ]);
like $r->{result}{messages}[0]{content}{text}, qr/earnings of NVDA/,
    'prompts/get fills in the symbol';

($st, $h, $r) = post('completion/complete',
                     { ref => { type => 'ref/prompt',
                                name => 'earnings_check' },
                       argument => { name => 'symbol', value => 'NV' },
                       _meta => meta() });
is_deeply $r->{result}{completion}{values}, [ 'NVDA' ],
    'completion/complete completes the symbol';

($st, $h, $r) = post('resources/read',
                     { uri => 'ttai://accounts', _meta => meta() },
                     headers => [ "MCP-Protocol-Version: $V",
                                  'Mcp-Method: resources/read',
                                  'Mcp-Name: ttai://accounts' ]);
is $r->{result}{contents}[0]{mimeType}, 'application/json',
    'ttai://accounts reads as JSON';
my $accounts = eval { $JSON->decode($r->{result}{contents}[0]{text}) } // {};
ok @{ $accounts->{accounts} // [] }, 'the accounts, from the mock';
is $r->{result}{cacheScope}, 'private', 'the user\'s own: private';
my $number = $accounts->{accounts}[0]{number};

($st, $h, $r) = post('resources/read',
                     { uri => "ttai://accounts/$number/balances" },
                     headers => [ 'MCP-Protocol-Version: 2025-11-25',
                                  "Mcp-Session-Id: $sid" ]);
like $r->{result}{contents}[0]{text} // '', qr/\Q$number\E/,
    'a template read in a 2025 session: the account\'s balances';

# -- notifications during a call: a text/event-stream answer -----------------

sub dechunk {
    my ($raw) = @_;
    my $out = '';
    while ($raw =~ s/\A([0-9a-fA-F]+)\r\n//) {
        my $n = hex $1;
        last if $n == 0;
        $out .= substr($raw, 0, $n, '');
        $raw =~ s/\A\r\n//;
    }
    return $out;
}

my $PROG = 'test_tool_with_progress';
for my $era ('2026-07-28', '2025-11-25') {
    my @h = $era eq $V
        ? ("MCP-Protocol-Version: $V", 'Mcp-Method: tools/call',
           "Mcp-Name: $PROG")
        : ('MCP-Protocol-Version: 2025-11-25', "Mcp-Session-Id: $fsid");
    my %meta = (progressToken => "tok-$era");
    %meta = (%{ meta() }, %meta) if $era eq $V;
    ($st, $h, undef, my $raw) = post('tools/call',
        { name => $PROG, arguments => {}, _meta => \%meta },
        headers => \@h, %fx);
    is $st, 200, "$era: a call with a progressToken: 200";
    like $h->{'content-type'} // '', qr{^text/event-stream},
        "$era: answered as text/event-stream";
    is $h->{'x-accel-buffering'}, 'no', "$era: with X-Accel-Buffering: no";
    my @events = map { $JSON->decode($_) }
                 dechunk($raw) =~ /^data: (.*)$/mg;
    is scalar @events, 4, "$era: three notifications, then the answer";
    is_deeply [ map { $_->{params}{progress} } @events[0 .. 2] ],
        [ 0, 50, 100 ], "$era: the progress grows";
    is $events[0]{params}{progressToken}, "tok-$era",
        "$era: with the request's token";
    is $events[3]{id}, $id, "$era: the answer is last, with the id";
    is $events[3]{result}{content}[0]{text}, "tok-$era",
        "$era: and its result";
}

# without a progressToken the same call is answered as JSON
($st, $h, $r) = post('tools/call',
                     { name => $PROG, arguments => {}, _meta => meta() },
                     headers => [ "MCP-Protocol-Version: $V",
                                  'Mcp-Method: tools/call',
                                  "Mcp-Name: $PROG" ], %fx);
like $h->{'content-type'} // '', qr{^application/json},
    'without a progressToken: application/json';
is $r->{result}{content}[0]{type}, 'text', 'with the result';

# a client that goes away mid-call cancels it: the server goes on serving
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $srv->{port}, Timeout => 3);
    my $body = $JSON->encode({ jsonrpc => '2.0', id => 1,
        method => 'tools/call',
        params => { name => $PROG, arguments => {},
                    _meta => { %{ meta() }, progressToken => 'gone' } } });
    print {$s} "POST /fx/mcp HTTP/1.1\r\nHost: localhost\r\n"
        . "Authorization: Bearer $jwt\r\nContent-Type: application/json\r\n"
        . "Accept: application/json, text/event-stream\r\n"
        . "MCP-Protocol-Version: $V\r\nMcp-Method: tools/call\r\n"
        . "Mcp-Name: $PROG\r\nContent-Length: " . length($body)
        . "\r\n\r\n$body";
    my $first = '';
    while (defined(my $line = <$s>)) {
        $first .= $line;
        last if $line =~ /^data: /;
    }
    like $first, qr/notifications\/progress/, 'the first event arrives';
    close $s;
}
sleep 0.3;
($st) = post('server/discover', { _meta => meta() });
is $st, 200, 'after a client closed mid-call, the server still answers';
unlike read_file("$dir/logs/error.log"), qr/\[alert\]|signal 11/,
    'and no worker crashed';

# -- the traceparent reaches the logs ---------------------------------------

($st) = post('tools/list', { _meta => meta(traceparent => $TRACE) });
is $st, 200, 'a request with a traceparent: 200';
ok wait_until(5, sub { read_file("$dir/logs/trace.log")
                       =~ /^\Q$TRACE\E 200 /m }),
    '$ttai_traceparent names it in the access log';

# an error log line of the request names it too: the worker service down
my $down_dir = scratch_dir('stateless-down');
my $closed = closed_port();
my $down = tt_server($down_dir, worker => "server 127.0.0.1:$closed;");
push @servers, $down;
tt_connect($down, 'alice');
($st, $h, $r) = post('tools/call',
                     { name => 'get_quotes',
                       arguments => { symbols => [ 'AAPL' ] },
                       _meta => meta(traceparent => $TRACE) },
                     server => $down, jwt => tt_jwt($down, 'alice'),
                     headers => [ "MCP-Protocol-Version: $V",
                                  'Mcp-Method: tools/call',
                                  'Mcp-Name: get_quotes' ]);
ok $r->{result}{isError}, 'get_quotes with the worker down: isError';
ok wait_until(5, sub { read_file("$down_dir/logs/error.log")
                       =~ /connect\(\) failed.*traceparent: "\Q$TRACE\E"/ }),
    'the upstream\'s error log line names the traceparent';
unlike read_file("$down_dir/logs/error.log"),
    qr/traceparent: "(?!\Q$TRACE\E)/, 'and no other one';

done_testing;
