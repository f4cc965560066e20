# Workflows run by nginx's workers from SQLite: an instance started with
# the CLI sleeps, waits for an event, retries a failing step and
# finishes; killed with -9 in the middle of its nap, nginx started again
# resumes it after its last completed step, and no completed step runs
# twice (each step's runs stays at 1).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP ();
use Test::More;
use Time::HiRes qw(time sleep);
use Ttai::Util qw(repo_root scratch_dir run_capture dev_server stop_pid
                  children read_file skip_or_fail);

my $root = repo_root();

skip_or_fail("not built: run make")
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";

my $JSON = JSON::PP->new;
my $dir = scratch_dir('workflows');
my %conf = (workers => 2,
            http => "ttai_migrations $root/migrations; ttai_workflows on;");
my ($pid, $port) = dev_server($dir, %conf);
END { stop_pid($pid) if $pid }

my $db = "$dir/state/d1/ttai/db.sqlite";

sub ttai {
    my ($rc, $out) = run_capture("$root/build/ttai", @_, '--db', $db);
    $out =~ s/\s+\z//;
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

sub step { sql("SELECT status FROM workflow_steps WHERE name = '$_[1]' "
               . "AND instance_id = '$_[0]'") }

my ($rc, $id) = ttai('workflows', 'start', 'demo',
                     '{"sleep_ms":3000,"event":"go","fail":1}');
is $rc, 0, 'ttai workflows start';
like $id, qr/^[0-9a-f]{32}\z/, 'prints the instance id';

ok wait_for(sub { step($id, 'nap') eq 'sleeping' }, 3),
    'the first step runs, and the nap begins';
is step($id, 'one'), 'complete', 'step one is complete';
my $one_at = sql("SELECT finished_at FROM workflow_steps "
                 . "WHERE name = 'one'");

# a crash in the middle of the nap: every nginx process, with -9
my @all = ($pid, children($pid));
kill 'KILL', @all;
is waitpid($pid, 0), $pid, 'nginx is killed, master and workers';
$pid = undef;
sleep 0.3;

($pid, $port) = dev_server($dir, %conf);
ok $pid, 'nginx starts again on the same state';

ok wait_for(sub { sql("SELECT status FROM workflow_instances") eq 'waiting' },
            6), 'the instance resumes: the nap ends, and it waits for "go"';
is sql("SELECT finished_at FROM workflow_steps WHERE name = 'one'"),
   $one_at, 'step one did not run again';
like ttai('workflows', 'list'), qr/"status":"waiting","waiting_for":"go"/,
    'ttai workflows list shows what it waits for';

is ttai('workflows', 'event', $id, 'go', '{"by":"alice"}'),
   "sent go to $id", 'ttai workflows event';
ok wait_for(sub { sql("SELECT status FROM workflow_instances")
                  eq 'complete' }, 5),
    'the event ends the wait, the flaky step is retried, and it completes';

my $st = ttai('workflows', 'status', $id);
like $st, qr/"status":"complete".*"output":"\{\\"ok\\":true\}"/s,
    'ttai workflows status shows the output';
is sql("SELECT attempts FROM workflow_steps WHERE name = 'flaky'"), 2,
   'the flaky step succeeded at its second attempt';
is sql("SELECT group_concat(name || '=' || runs, ' ') FROM "
       . "(SELECT name, runs FROM workflow_steps ORDER BY seq)"),
   'one=1 nap=1 approval=1 flaky=1 two=1',
   'every step was written once';
is sql("SELECT output FROM workflow_steps WHERE name = 'approval'"),
   '{"by":"alice"}', 'the event\'s payload is the wait\'s result';

# terminate ends a waiting instance for good
(undef, my $id2) = ttai('workflows', 'start', 'demo',
                        '{"sleep_ms":100,"event":"never"}');
ok wait_for(sub { sql("SELECT status FROM workflow_instances "
                      . "WHERE id = '$id2'") eq 'waiting' }, 4),
    'a second instance waits';
is ttai('workflows', 'terminate', $id2), "terminated $id2",
   'ttai workflows terminate';
ttai('workflows', 'event', $id2, 'never');
sleep 0.6;
is sql("SELECT status FROM workflow_instances WHERE id = '$id2'"),
   'terminated', 'and it stays terminated, an event notwithstanding';

is sql('PRAGMA integrity_check'), 'ok', 'PRAGMA integrity_check: ok';

ok stop_pid($pid), 'the server stops gracefully';
$pid = undef;

done_testing;
