# Queues, delivered by nginx's workers from SQLite: messages sent with
# the CLI are consumed in batches and acked once each; a message its
# consumer holds is delivered again after its visibility timeout; one
# whose retries are used moves to the dead-letter queue; and a worker
# killed with -9 while it holds a batch loses nothing: the batch is
# delivered again, and the ack log shows every message acked once.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Ttai::Util qw(repo_root scratch_dir run_capture dev_server stop_pid
                  children read_file http_get skip_or_fail);

my $root = repo_root();

skip_or_fail("not built: run make")
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";

my $dir = scratch_dir('queues');
my ($pid, $port) = dev_server($dir, workers => 2,
    http => "ttai_migrations $root/migrations; "
          . 'ttai_queue jobs max_batch_size=10 max_batch_timeout=200ms '
          . 'visibility_timeout=2s max_retries=2 retry_delay=100ms '
          . 'dead_letter=jobs-dead consumer=echo;');
END { stop_pid($pid) if $pid }

my $db = "$dir/state/d1/ttai/db.sqlite";
ok -f $db, 'the database is made and migrated';

sub ttai {
    my ($rc, $out) = run_capture("$root/build/ttai", @_, '--db', $db);
    return wantarray ? ($rc, $out) : $out;
}

sub sql {
    my ($rc, $out) = run_capture('sqlite3', $db, @_);
    $out =~ s/\s+\z//;
    return $out;
}

sub wait_for {
    my ($what, $secs) = @_;
    my $t0 = time;
    until ($what->()) {
        return 0 if time - $t0 > $secs;
        sleep 0.1;
    }
    return 1;
}

# -- delivery and acks ---------------------------------------------------

my ($rc, $out) = ttai('queues', 'send', 'jobs', '{"n":0}');
is $rc, 0, 'ttai queues send';
like $out, qr/^sent to jobs: message \d+/, 'says which message';
ttai('queues', 'send', 'jobs', qq({"n":$_})) for 1 .. 49;

{
    my $in = "$dir/lines.txt";
    open my $fh, '>', $in or die;
    print {$fh} qq({"n":$_}\n) for 50 .. 59;
    close $fh;
    my ($lrc, $lout) = run_capture('sh', '-c',
        "'$root/build/ttai' queues send jobs - --lines --db '$db' < '$in'");
    like $lout, qr/^sent to jobs: 10 messages$/m,
        'ttai queues send --lines sends a message a line';
}

ok wait_for(sub { sql('SELECT count(*) FROM queue_acks') == 60 }, 10),
    'the 60 messages are consumed and acked';
is sql('SELECT count(*) FROM queue_messages'), 0, 'none is left';
is sql("SELECT count(*) FROM queue_acks WHERE attempts = 1 "
       . "AND outcome = 'acked'"), 60, 'each at its first delivery';
like ttai('queues', 'list'), qr/^jobs\s+0\s+0\s+0\s+0\s+0\s+60\s+0$/m,
    'ttai queues list shows them acked';

{
    my ($hst, undef, $hb) = http_get($port, '/health');
    my ($leader, $left, $batches) = ($hb // '') =~
        /"background":\{"status":"ok","leader_pid":(\d+),"lease_ms_left":(\d+),"batches_delivered":(\d+)\}/;
    ok defined $leader, '/health shows the background work'
        or diag $hb;
    ok((grep { $_ == ($leader // 0) } children($pid)),
       'run by one of the workers');
    cmp_ok $batches // 0, '>=', 6, 'and counts the batches delivered';
}

# -- held, then delivered again after the visibility timeout -------------

my $t0 = time;
ttai('queues', 'send', 'jobs', '{"hold":1}');
ok wait_for(sub { sql('SELECT count(*) FROM queue_messages '
                      . 'WHERE lease IS NOT NULL') == 1 }, 3),
    'a message its consumer holds stays in flight';
like ttai('queues', 'list'), qr/^jobs\s+0\s+1\s/m, 'listed in flight';
ok wait_for(sub { sql('SELECT count(*) FROM queue_acks') == 61 }, 6),
    'and is delivered again once its visibility timeout passed';
is sql('SELECT attempts FROM queue_acks ORDER BY message_id DESC LIMIT 1'),
   2, 'at its second delivery';
cmp_ok time - $t0, '>=', 2, 'not before the timeout';

# -- retries, then the dead-letter queue ----------------------------------

ttai('queues', 'send', 'jobs', '{"retry":9}');
ok wait_for(sub { sql("SELECT count(*) FROM queue_messages "
                      . "WHERE queue = 'jobs-dead'") == 1 }, 6),
    'a message whose retries are used moves to the dead-letter queue';
is sql("SELECT dead_from || ' ' || attempts FROM queue_messages "
       . "WHERE queue = 'jobs-dead'"), 'jobs 0', 'saying where from';
like ttai('queues', 'list'), qr/^jobs-dead\s+1\s+0\s+0\s+0\s+1\s/m,
    'ttai queues list counts it as a dead letter';
like ttai('queues', 'peek', 'jobs-dead'), qr/retry\\":9/, 'peek shows it';
like ttai('queues', 'purge', 'jobs-dead'), qr/1 message\(s\) deleted/,
    'purge deletes it';

# -- kill -9 while batches are in flight ------------------------------------

# a batch the consumer holds is in flight in the worker that leads
ttai('queues', 'send', 'jobs', qq({"hold":1,"k":$_})) for 1 .. 5;
ok wait_for(sub { sql('SELECT count(*) FROM queue_messages '
                      . 'WHERE lease IS NOT NULL') == 5 }, 3),
    'five held messages are in flight';
my $held = sql('SELECT group_concat(id) FROM queue_messages '
                . 'WHERE lease IS NOT NULL');
ttai('queues', 'send', 'jobs', qq({"n":$_})) for 100 .. 299;

my @workers = children($pid);
is scalar @workers, 2, 'two workers';
kill 'KILL', @workers;
ok wait_for(sub { my @w = children($pid); @w == 2 && $w[0] != $workers[0] },
            5), 'both workers were killed, and the master made new ones';

ok wait_for(sub { sql('SELECT count(*) FROM queue_acks') == 266 }, 15),
    'every message is acked in the end: none lost'
    or diag ttai('queues', 'list');
is sql('SELECT count(*) FROM queue_messages'), 0, 'none left';
is sql('SELECT count(DISTINCT message_id) FROM queue_acks'), 266,
   'and each once';
is sql("SELECT count(*) || ' ' || min(attempts) FROM queue_acks "
       . "WHERE message_id IN ($held)"), '5 2',
   'the batch held when the workers died was delivered again, and acked';
is sql('PRAGMA integrity_check'), 'ok', 'PRAGMA integrity_check: ok';

ok stop_pid($pid), 'the server stops gracefully';
$pid = undef;
unlike read_file("$dir/logs/error.log"), qr/\[(crit|emerg)\]|signal 11/,
    'no crash';

done_testing;
