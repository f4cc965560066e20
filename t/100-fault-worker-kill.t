# Workers killed with SIGKILL while clients write: KV keys through the
# admin API (PUT /_ttai/kv/values/KEY, as "ttai kv key put" does) and D1
# rows (POST /_ttai/d1/query), every write that was acknowledged (2xx)
# written down.  Afterwards every acknowledged key and row is there, the
# database passes its integrity check, and the zone and the server still
# work.  The master frees a zone's lock that a dead worker held; a zone a
# killed worker leaves inconsistent, or locked, fails here.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep time);
use Ttai::Util qw(repo_root scratch_dir read_file write_file run_capture
                  dev_server stop_pid wait_until skip_or_fail);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('the sqlite3 command is needed')
    unless system('sqlite3 -version >/dev/null 2>&1') == 0;

my $CLIENTS = 6;            # writer processes
my $KILLS = 5;              # workers killed, one at a time

my $json = JSON::PP->new->canonical;
my $dir = scratch_dir('worker-kill');
my $db = "$dir/state/d1/ttai/db.sqlite";

# two workers; the KV snapshot is written every second by worker 0, so
# that kills land during saves too
my ($master, $port) = dev_server($dir, workers => 2,
    main => 'thread_pool ttai threads=2 max_queue=1024;',
    http => "ttai_thread_pool ttai;\n"
            . "    ttai_migrations $root/migrations;\n"
            . "    ttai_kv_zone kv 8m snapshot_interval=1s;");
END { local $?; stop_pid($master, 10) if $master && kill(0, $master) }

# -- HTTP, one connection per request ----------------------------------------

# (status, body); status 0 when the connection failed or closed early
sub http {
    my ($method, $path, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 10)
        or return (0, "connect: $!");
    $body //= '';
    print {$s} "$method $path HTTP/1.1\r\nHost: localhost\r\n"
             . "Content-Type: application/json\r\n"
             . 'Content-Length: ' . length($body) . "\r\n"
             . "Connection: close\r\n\r\n$body";
    local $/;
    my $raw = <$s> // '';
    close $s;
    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    return (0, $raw) unless defined $head && $head =~ m{^HTTP/1\.1 (\d{3}) };
    my $status = $1;
    # a body cut short is not an answer
    my ($len) = $head =~ /^Content-Length: (\d+)\r?$/mi;
    return (0, $raw) if defined $len && length($rest // '') != $len;
    return ($status, $rest // '');
}

sub sql {
    my ($sql, @params) = @_;
    return http('POST', '/_ttai/d1/query',
                $json->encode({ sql => $sql, params => \@params }));
}

# the worker processes of the master
sub workers {
    my @pids;
    for my $f (glob "/proc/$master/task/*/children") {
        push @pids, split ' ', read_file($f);
    }
    return sort { $a <=> $b } @pids;
}

my ($st, $body) = sql('CREATE TABLE fault_rows (client INTEGER, seq INTEGER,'
                      . ' value TEXT, PRIMARY KEY (client, seq))');
is $st, 200, 'the table is created' or diag $body;

my @first = workers();
is scalar @first, 2, 'two workers run';

# -- writers -----------------------------------------------------------------

my $stop = "$dir/stop";
my @kids;
for my $c (1 .. $CLIENTS) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open my $ack, '>', "$dir/ack.$c" or POSIX::_exit(2);
        $ack->autoflush(1);
        my $seq = 0;
        until (-e $stop) {
            $seq++;
            my $v = "v$c-$seq-" . int(rand 1e9);
            my ($s) = http('PUT', "/_ttai/kv/values/fault:$c:$seq", $v);
            print {$ack} "kv fault:$c:$seq $v\n" if $s >= 200 && $s < 300;
            print {$ack} "status KV:$s\n";
            ($s) = sql('INSERT INTO fault_rows VALUES (?, ?, ?)',
                       $c, $seq, $v);
            print {$ack} "d1 $c $seq $v\n" if $s >= 200 && $s < 300;
            print {$ack} "status D1:$s\n";
        }
        close $ack;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}

# -- the kills ---------------------------------------------------------------

my %killed;
my $respawned = 0;
for my $k (1 .. $KILLS) {
    sleep 0.4;
    my @w = workers();
    my $victim = $w[$k % @w] or next;
    kill 'KILL', $victim;
    $killed{$victim} = 1;
    # the master starts another in its place
    $respawned++ if wait_until(10, sub {
        my @now = workers();
        @now == 2 && !grep { $killed{$_} } @now;
    });
}
sleep 0.4;

write_file($stop, '');
for my $pid (@kids) {
    waitpid $pid, 0;
}

is scalar(keys %killed), $KILLS, "$KILLS workers were killed";
is $respawned, $KILLS, 'each time, the master started another';

# -- what was acknowledged is there ------------------------------------------

my (%kv, %rows, %status);
for my $c (1 .. $CLIENTS) {
    for (split /\n/, read_file("$dir/ack.$c")) {
        my @f = split ' ';
        if ($f[0] eq 'kv') {
            $kv{$f[1]} = $f[2];
        } elsif ($f[0] eq 'd1') {
            $rows{"$f[1]:$f[2]"} = $f[3];
        } else {
            $status{$f[1]}++;
        }
    }
}
note 'answers to the writers: '
     . join(', ', map { "$_: $status{$_}" } sort keys %status);
cmp_ok scalar(keys %kv), '>', 50, 'many KV writes were acknowledged ('
                                   . keys(%kv) . ')';
cmp_ok scalar(keys %rows), '>', 50, 'many D1 writes were acknowledged ('
                                     . keys(%rows) . ')';
ok !grep({ !/:(0|2\d\d)$/ } keys %status),
    'no answer was an error status: a write either succeeded or its '
    . 'connection was cut' or diag explain \%status;

my @lost_kv;
for my $key (sort keys %kv) {
    my ($s, $v) = http('GET', "/_ttai/kv/values/$key");
    push @lost_kv, "$key: $s $v" unless $s == 200 && $v eq $kv{$key};
}
is scalar(@lost_kv), 0, 'every acknowledged KV key is there, with its value'
    or diag join "\n", @lost_kv[0 .. ($#lost_kv < 9 ? $#lost_kv : 9)];

($st, $body) = sql('SELECT client, seq, value FROM fault_rows');
is $st, 200, 'the rows are read back' or diag $body;
my %have = map { ("$_->{client}:$_->{seq}" => $_->{value}) }
           @{ (eval { $json->decode($body) } // {})->{results} // [] };
my @lost_rows = grep { ($have{$_} // '') ne $rows{$_} } sort keys %rows;
is scalar(@lost_rows), 0, 'every acknowledged D1 row is there'
    or diag "missing: @lost_rows[0 .. ($#lost_rows < 9 ? $#lost_rows : 9)]";

my ($rc, $out) = run_capture('sqlite3', $db, 'PRAGMA integrity_check');
is $out, "ok\n", 'PRAGMA integrity_check says ok';

# -- the zone and the server still work --------------------------------------

($st) = http('PUT', '/_ttai/kv/values/after:kill', 'still works');
is $st, 200, 'a put after the kills works';
is((http('GET', '/_ttai/kv/values/after:kill'))[1], 'still works',
   'and reads back');
($st, $body) = http('GET', '/_ttai/kv/keys?prefix=after:');
is_deeply [ map { $_->{name} } @{ (eval { $json->decode($body) } // {})->{keys}
                                  // [] } ],
          [ 'after:kill' ], 'a list finds it';
($st) = http('DELETE', '/_ttai/kv/values/after:kill');
is $st, 200, 'a delete works';
is((http('GET', '/_ttai/kv/values/after:kill'))[0], 404, 'and it is gone');
($st, $body) = http('GET', "/_ttai/kv/keys?prefix=fault:&limit=1000");
ok $st == 200 && @{ (eval { $json->decode($body) } // {})->{keys} // [] },
    'the written keys are listed';
# the zone's count agrees with its contents
my ($cursor, @names) = ('');
for (1 .. 100) {
    ($st, $body) = http('GET', "/_ttai/kv/keys?limit=1000&cursor=$cursor");
    my $page = eval { $json->decode($body) } // {};
    push @names, map { $_->{name} } @{ $page->{keys} // [] };
    last if $page->{list_complete} || !$page->{cursor};
    $cursor = $page->{cursor};
}
($st, $body) = http('GET', '/health');
is((eval { $json->decode($body) } // {})->{checks}{kv}{entries},
   scalar @names, '/health counts as many KV entries as a list finds ('
                  . @names . ')');

($st) = sql('INSERT INTO fault_rows VALUES (0, 0, ?)', 'after');
is $st, 200, 'an insert after the kills works';

($st, $body) = http('GET', '/health');
is $st, 200, '/health answers 200' or diag $body;
my $h = eval { $json->decode($body) } // {};
is $h->{checks}{kv}{status}, 'ok', 'its KV check is ok';
is $h->{checks}{d1}{status}, 'ok', 'its D1 check is ok';

# -- the error log -----------------------------------------------------------

ok stop_pid($master, 10), 'nginx stops on QUIT';
$master = 0;

my $log = read_file("$dir/logs/error.log");
my @signals = $log =~ /exited on signal (\d+)/g;
is scalar(grep { $_ == 9 } @signals), $KILLS,
    "the log has the $KILLS workers killed";
is scalar(grep { $_ != 9 } @signals), 0, 'and no other worker died'
    or diag "signals: @signals";
note $_ for grep { /was locked by/ } split /\n/, $log;
unlike $log, qr/\[emerg\]/, 'no emerg line';

done_testing;
