# The mock LLM provider (conf/mock/llm.js) as its clients see it:
# Anthropic's Messages API and OpenAI's Chat Completions, each with its
# credentials checked, a tool called when the prompt asks for its data,
# the tool's result cited, a refusal, an overload injected and then gone,
# the same answer to the same request; and embeddings that are near for
# texts that share words.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Ttai::Util qw(repo_root scratch_dir http_get skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop);

my $root = repo_root();
skip_or_fail('not built: run make')
    unless -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $JSON = JSON::PP->new->canonical;
my $srv = tt_server(scratch_dir('mock-llm'));
END { tt_stop($srv) if $srv }

sub post {
    my ($path, $body, @h) = @_;
    my ($st, undef, $raw) = http_get($srv->{mock}, $path, method => 'POST',
        body => ref $body ? $JSON->encode($body) : $body,
        headers => [ 'Content-Type: application/json', @h ]);
    return ($st, scalar eval { $JSON->decode($raw) } // { raw => $raw });
}

my @anthropic = ('x-api-key: mock', 'anthropic-version: 2023-06-01');
my @openai = ('Authorization: Bearer mock');
my $tools = [ { name => 'get_positions', description => 'Positions',
                input_schema => { type => 'object' } } ];

# -- Anthropic's Messages API ---------------------------------------------------

my ($st, $r) = post('/v1/messages', { model => 'analyst', max_tokens => 100,
    messages => [ { role => 'user', content => 'hi' } ] });
is $st, 401, 'no x-api-key: 401';
is $r->{error}{type}, 'authentication_error', 'in Anthropic\'s error shape';

my $ask = { model => 'analyst', max_tokens => 200, tools => $tools,
            system => 'You analyse portfolios.',
            messages => [ { role => 'user',
                            content => 'Review my portfolio' } ] };
($st, $r) = post('/v1/messages', $ask, @anthropic);
is $st, 200, 'a request: 200';
is $r->{stop_reason}, 'tool_use', 'the prompt asks for positions: a tool call';
my ($use) = grep { $_->{type} eq 'tool_use' } @{ $r->{content} };
is $use->{name}, 'get_positions', 'of the tool that gives them';
like $use->{id}, qr/^toolu_mock_[0-9a-f]{16}$/, 'with an id';
ok $r->{usage}{input_tokens} > 0 && $r->{usage}{output_tokens} > 0, 'usage';
my (undef, $again) = post('/v1/messages', $ask, @anthropic);
is_deeply $again, $r, 'the same request, the same answer';

push @{ $ask->{messages} },
    { role => 'assistant', content => $r->{content} },
    { role => 'user', content => [ { type => 'tool_result',
        tool_use_id => $use->{id}, content => 'AAPL 100 shares' } ] };
($st, $r) = post('/v1/messages', $ask, @anthropic);
is $r->{stop_reason}, 'end_turn', 'with the result: an answer';
like $r->{content}[0]{text}, qr/Based on the data: AAPL 100 shares/,
    'that cites it';

($st, $r) = post('/v1/messages', { model => 'analyst', max_tokens => 50,
    messages => [ { role => 'user', content => 'REFUSE this' } ] }, @anthropic);
is $r->{stop_reason}, 'refusal', 'REFUSE: a refusal';

($st, $r) = post('/v1/messages', { model => 'analyst',
    messages => [] }, @anthropic);
is $st, 400, 'no max_tokens: 400';
is $r->{error}{type}, 'invalid_request_error', 'invalid_request_error';

# -- an overload, then none ------------------------------------------------------

($st) = post('/mock/llm-fault', { status => 529, count => 2 });
is $st, 200, 'two overloads injected';
for my $n (1, 2) {
    ($st, $r) = post('/v1/messages', { model => 'a', max_tokens => 10,
        messages => [ { role => 'user', content => 'x' } ] }, @anthropic);
    is $st, 529, "call $n: 529";
    is $r->{error}{type}, 'overloaded_error', 'overloaded_error';
}
($st) = post('/v1/messages', { model => 'a', max_tokens => 10,
    messages => [ { role => 'user', content => 'x' } ] }, @anthropic);
is $st, 200, 'then the provider recovers';

# -- OpenAI's Chat Completions ----------------------------------------------------

($st, $r) = post('/v1/chat/completions', { model => 'analyst',
    messages => [ { role => 'user', content => 'hi' } ] });
is $st, 401, 'no bearer: 401';
is $r->{error}{code}, 'invalid_api_key', 'in OpenAI\'s error shape';

($st, $r) = post('/v1/chat/completions', { model => 'analyst',
    messages => [ { role => 'system', content => 'Be brief.' },
                  { role => 'user', content => 'What are my positions?' } ],
    tools => [ { type => 'function', function => { name => 'get_positions',
                 parameters => { type => 'object' } } } ] }, @openai);
is $r->{choices}[0]{finish_reason}, 'tool_calls', 'a tool call';
is $r->{choices}[0]{message}{tool_calls}[0]{function}{name}, 'get_positions',
    'of get_positions';
($st, $r) = post('/v1/chat/completions', { model => 'analyst',
    messages => [ { role => 'user', content => 'REFUSE' } ] }, @openai);
ok $r->{choices}[0]{message}{refusal}, 'a refusal in message.refusal';
($st) = post('/mock/llm-fault', { status => 429, count => 1 });
($st, $r) = post('/v1/chat/completions', { model => 'a',
    messages => [ { role => 'user', content => 'x' } ] }, @openai);
is $st, 429, 'an injected 429';
is $r->{error}{code}, 'rate_limit_exceeded', 'rate_limit_exceeded';
($st) = post('/mock/llm-fault', { status => 529, count => 5 });
($st, $r) = post('/mock/llm-fault', { count => 0 });
is $st, 200, 'faults waiting can be dropped';
($st, $r) = post('/v1/chat/completions', { model => 'a',
    messages => [ { role => 'user', content => 'x' } ] }, @openai);
is $st, 200, 'and the next call is answered';

# -- embeddings -------------------------------------------------------------------

($st, $r) = post('/v1/embeddings', { model => 'embed', input => [
    'sold a covered call on AAPL', 'covered call on AAPL rolled',
    'bought treasury bills' ], dimensions => 64 }, @openai);
is $st, 200, 'embeddings';
my @v = map { $_->{embedding} } @{ $r->{data} };
is scalar @{ $v[0] }, 64, 'of the dimensions asked';
sub dot { my ($a, $b) = @_; my $s = 0; $s += $a->[$_] * $b->[$_] for 0 .. $#$a; $s }
ok abs(dot($v[0], $v[0]) - 1) < 1e-3, 'normalized';
ok dot($v[0], $v[1]) > dot($v[0], $v[2]),
    'texts that share words are nearer than texts that do not';

done_testing;
