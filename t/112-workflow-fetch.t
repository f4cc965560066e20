# A workflow step that fetches from TastyTrade, with no client request
# behind it: the fetch engine the tools use (the user's token, the rate
# limit, the cache) runs on a request of ttai's own, and the answer is
# written as the step's result.  A user without TastyTrade tokens gets
# the engine's clear error as the result, and the instance goes on.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use Test::More;
use Time::HiRes qw(time sleep);
use Ttai::Util qw(repo_root scratch_dir run_capture read_file skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $JSON = JSON::PP->new;
my $dir = scratch_dir('workflow-fetch');
my $srv = tt_server($dir, http => 'ttai_workflows on;');
END { tt_stop($srv) if $srv }

tt_connect($srv, 'tt-alice');

sub ttai {
    my ($rc, $out) = run_capture("$root/build/ttai", @_, '--db', $srv->{db});
    $out =~ s/\s+\z//;
    return wantarray ? ($rc, $out) : $out;
}

sub sql {
    my ($rc, $out) = run_capture('sqlite3', $srv->{db}, @_);
    $out =~ s/\s+\z//;
    return $out;
}

sub done_within {
    my ($id, $secs) = @_;
    my $t0 = time;
    until (sql("SELECT status FROM workflow_instances WHERE id = '$id'")
           =~ /^(complete|errored)$/)
    {
        return 0 if time - $t0 > $secs;
        sleep 0.1;
    }
    return 1;
}

my (undef, $id) = ttai('workflows', 'start', 'demo',
                       '{"sleep_ms":1,"symbol":"AAPL","user":"tt-alice"}');
ok done_within($id, 10), 'an instance with a quote to fetch completes';
is sql("SELECT status FROM workflow_instances WHERE id = '$id'"),
   'complete', 'complete';
my $q = $JSON->decode(sql("SELECT output FROM workflow_steps "
                          . "WHERE instance_id = '$id' AND name = 'quote'"));
is $q->{status}, 200, 'its quote step fetched with a 200';
is $q->{body}{data}{items}[0]{symbol}, 'AAPL',
   'and holds TastyTrade\'s answer for AAPL';
like read_file("$dir/logs/mock.log"), qr{GET /market-data/by-type\?equity=AAPL},
    'which the mock TastyTrade served';
is sql("SELECT group_concat(runs) FROM workflow_steps "
       . "WHERE instance_id = '$id'"), '1,1,1,1,1', 'every step written once';

(undef, my $id2) = ttai('workflows', 'start', 'demo',
                        '{"sleep_ms":1,"symbol":"SPY","user":"nobody"}');
ok done_within($id2, 10), 'an instance whose user has no tokens completes';
$q = $JSON->decode(sql("SELECT output FROM workflow_steps "
                       . "WHERE instance_id = '$id2' AND name = 'quote'"));
is $q->{status}, 0, 'its quote step has no response';
like $q->{error} // '', qr/\S/, 'and says why';

(undef, my $id3) = ttai('workflows', 'start', 'demo',
                        '{"sleep_ms":1,"symbol":"a b"}');
ok done_within($id3, 10), 'an instance with a bad symbol ends';
is sql("SELECT status || ': ' || error FROM workflow_instances "
       . "WHERE id = '$id3'"), 'errored: params.symbol is not a symbol',
   'errored, saying why';

# many at once: each fetch on a request of its own, freed after
my @ids = map { (ttai('workflows', 'start', 'demo',
                      '{"sleep_ms":1,"symbol":"MSFT","user":"tt-alice"}'))[1] }
          1 .. 20;
ok !(grep { !done_within($_, 20) } @ids), '20 more complete';
is sql("SELECT count(*) FROM workflow_steps WHERE name = 'quote' "
       . "AND output LIKE '%\"status\":200%'"), 21, 'each with its quote';

tt_stop($srv);
$srv = undef;
unlike read_file("$dir/logs/error.log"),
       qr/\[(alert|crit|emerg)\]|signal 11|still held/,
       'no alert, crash or request left held in the error log';

done_testing;
