# The agents under valgrind's memcheck: nginx runs its one worker under
# memcheck (the suites' suppressions for nginx's own exit-time
# allocations) while each path of the agents is taken: an analysis with
# a tool the model asked for, a turn overloaded and tried again, a model
# whose key is missing, a budget spent, a task polled and one cancelled,
# a trade reviewed, a brief saved as a note and put in R2, a schedule
# made and ended, notes saved and searched, the journal read.  Then
# nginx stops: no error, no leak.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Time::HiRes qw(time sleep);
use Ttai::Util qw(repo_root scratch_dir http_get read_file random_hex
                  skip_or_fail valgrind_records);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';
skip_or_fail('valgrind is missing: run scripts/bootstrap')
    unless system('valgrind --version >/dev/null 2>&1') == 0;

my $JSON = JSON::PP->new->canonical;
my $V = '2026-07-28';
my $EXT = 'io.modelcontextprotocol/tasks';

my $dir = scratch_dir('agents-valgrind');
my $srv = tt_server($dir, llm => 1, workers => 1, valgrind => 1,
                    market => 'open',
                    http => 'ttai_llm_budget requests=3 tokens=0;');
END { tt_stop($srv) if $srv }

my %jwt;
sub jwt {
    my ($who) = @_;
    return $jwt{$who} //= do { tt_connect($srv, $who); tt_jwt($srv, $who) };
}

sub rpc {
    my ($who, $method, $params, %o) = @_;
    my %p = (%$params, _meta => {
        'io.modelcontextprotocol/protocolVersion' => $V,
        'io.modelcontextprotocol/clientCapabilities' =>
            $o{tasks} ? { extensions => { $EXT => {} } } : {},
        'io.modelcontextprotocol/clientInfo' => { name => 't125',
                                                  version => '1' },
        progressToken => 'p' });
    my $name = $params->{name} // $params->{taskId} // $params->{uri};
    my (undef, undef, $raw) = http_get($srv->{port}, '/mcp',
        method => 'POST', timeout => 180,
        body => $JSON->encode({ jsonrpc => '2.0', id => 1,
                                method => $method, params => \%p }),
        headers => [ 'Authorization: Bearer ' . jwt($who),
                     'Content-Type: application/json',
                     'Accept: application/json, text/event-stream',
                     "MCP-Protocol-Version: $V", "Mcp-Method: $method",
                     $name ? ("Mcp-Name: $name") : () ]);
    my @data = $raw =~ /^data: (.*)$/mg;
    my ($j) = grep { exists $_->{id} }
              (@data ? map { $JSON->decode($_) } @data
                     : (eval { $JSON->decode($raw) } // ()));
    return ($j // {})->{result};
}

sub call { rpc($_[0], 'tools/call', { name => $_[1], arguments => $_[2] },
               @_[3 .. $#_]) }
sub text_of { ($_[0] // {})->{content}[0]{text} // '' }

sub fault {
    http_get($srv->{mock}, '/mock/llm-fault', method => 'POST',
             body => $JSON->encode({ status => $_[0], count => $_[1] }),
             headers => [ 'Content-Type: application/json' ]);
}

sub poll {
    my ($who, $id, $secs) = @_;
    my ($t0, $r) = (time);
    while (time - $t0 < $secs) {
        $r = rpc($who, 'tasks/get', { taskId => $id }, tasks => 1);
        last if ($r->{status} // '') =~ /^(completed|failed|cancelled)$/;
        sleep 0.5;
    }
    return $r // {};
}

my $r = call('alice', 'analyze_portfolio', {});
like text_of($r), qr/Based on the data/,
     'an analysis, a tool asked for by the model';

fault(529, 1);
$r = call('alice', 'save_note', { text => 'AAPL call rolled.',
                                  tags => [ 'aapl' ] });
like text_of($r), qr/^Saved note/, 'a note saved';
$r = call('bob', 'analyze_portfolio', { focus => 'risk' });
like text_of($r), qr/Based on the data/,
     'a turn overloaded, then tried again';
$r = call('bob', 'analyze_portfolio', {});
like text_of($r), qr/budget of 3 requests/, 'a budget spent';
$r = call('carol', 'analyze_portfolio', { model => 'openai/gpt-4o' });
like text_of($r), qr/needs OPENAI_API_KEY/, 'a key missing';

$r = call('carol', 'analyze_portfolio', {}, tasks => 1);
is poll('carol', $r->{taskId} // '', 120)->{status}, 'completed',
   'a task polled to completion';

fault(529, 3);
$r = call('dave', 'analyze_portfolio', {}, tasks => 1);
my $id = $r->{taskId} // '';
sleep 1.5;
rpc('dave', 'tasks/cancel', { taskId => $id }, tasks => 1);
is poll('dave', $id, 30)->{status}, 'cancelled', 'a task cancelled';
fault(529, 0);    # the overloads left are dropped

$r = call('erin', 'review_trade',
          { order => { order_type => 'Limit', price => 140,
                       legs => [ { symbol => 'AAPL',
                                   instrument_type => 'Equity',
                                   action => 'Buy to Open',
                                   quantity => 10 } ] } });
ok !$r->{isError}, 'a trade reviewed' or diag explain $r;

$r = call('frank', 'daily_brief', {});
like text_of($r), qr/In R2: briefs\//, 'a brief saved and put in R2';
$r = call('frank', 'daily_brief', { schedule => 'daily', hour => 6 });
like text_of($r), qr/A daily brief at 06:00 UTC/, 'a schedule made';
sleep 2;
$r = call('frank', 'daily_brief', { schedule => 'off' });
is text_of($r), 'The daily brief is off.', 'and ended';

$r = call('alice', 'search_notes', { query => 'AAPL call',
                                     filters => { tags => [ 'aapl' ] } });
like text_of($r), qr/AAPL call rolled/, 'notes searched';
$r = rpc('frank', 'resources/read', { uri => 'ttai://journal' });
like $r->{contents}[0]{text} // '', qr/brief/, 'the journal read';

tt_stop($srv);
$srv = undef;

my @records = valgrind_records("$dir/logs/stderr.log");
ok !@records, 'memcheck found no error and no leak'
    or diag map { @$_ } @records;
unlike read_file("$dir/logs/error.log"), qr/exited on signal/,
       'no worker crashed';

done_testing;
