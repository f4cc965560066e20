# ttai d1: execute and migrations on the local SQLite file, from a
# repository root, with no server; exit codes 0 success, 1 failure,
# 2 usage.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Cwd qw(getcwd);
use JSON::PP qw(decode_json);
use POSIX ();
use Test::More;
use Ttai::Util qw(repo_root scratch_dir write_file read_file skip_or_fail);

my $root = repo_root();
my $ttai = "$root/build/ttai";

skip_or_fail("the CLI is not built: run make") unless -x $ttai;

my $dir = scratch_dir('d1-cli');
my $db = '.ttai/state/d1/ttai/db.sqlite';

# the defaults are relative to the repository root: work from a copy
write_file("$dir/migrations/0001_initial.sql",
           read_file("$root/migrations/0001_initial.sql"));

my $cwd = getcwd();
chdir $dir or die "$dir: $!";

# runs ttai; returns (exit status, stdout, stderr)
sub ttai {
    my (@args) = @_;
    my $input = ref $args[0] eq 'SCALAR' ? ${ shift @args } : undef;

    pipe(my $out_r, my $out_w) or die "pipe: $!";
    pipe(my $err_r, my $err_w) or die "pipe: $!";
    pipe(my $in_r, my $in_w) or die "pipe: $!";

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<&', $in_r;
        open STDOUT, '>&', $out_w;
        open STDERR, '>&', $err_w;
        close $_ for $out_r, $err_r, $in_w;
        exec $ttai, @args or POSIX::_exit(127);
    }

    close $_ for $out_w, $err_w, $in_r;
    print {$in_w} $input if defined $input;
    close $in_w;

    local $/;
    my $out = <$out_r> // '';
    my $err = <$err_r> // '';
    waitpid $pid, 0;

    return ($? >> 8, $out, $err);
}

my ($rc, $out, $err);

# -- help and usage ----------------------------------------------------------

for my $help (['d1', '--help'], ['d1', 'execute', '--help'],
              ['d1', 'migrations', '--help'],
              ['d1', 'migrations', 'list', '--help'],
              ['d1', 'migrations', 'apply', '-h'],
              ['d1', 'migrations', 'create', '--help'])
{
    ($rc, $out, $err) = ttai(@$help);
    is $rc, 0, "ttai @$help exits 0";
    like $out, qr/^Usage: ttai d1 /, "ttai @$help prints the usage";
}

($rc, $out, $err) = ttai('d1', '--help');
like $out, qr/execute .*\n.*migrations /, 'd1 --help lists the verbs';

($rc, $out, $err) = ttai('d1', 'execute', '--help');
like $out, qr/--command SQL.*--file FILE.*--json/s,
    'execute --help names its options';

for my $bad (['d1'], ['d1', 'bogus'], ['d1', 'execute'],
             ['d1', 'execute', '--command', 'SELECT 1', '--file', 'x.sql'],
             ['d1', 'execute', '--command'],
             ['d1', 'execute', '--command', 'SELECT 1', '--nope'],
             ['d1', 'execute', 'other', '--command', 'SELECT 1'],
             ['d1', 'execute', '--remote', '--command', 'SELECT 1'],
             ['d1', 'migrations'], ['d1', 'migrations', 'drop'],
             ['d1', 'migrations', 'create'],
             ['d1', 'migrations', 'list', '--command', 'SELECT 1'],
             ['d1', 'migrations', 'apply', 'ttai', 'extra'])
{
    ($rc, $out, $err) = ttai(@$bad);
    is $rc, 2, "ttai @$bad is a usage error (2)";
    like $err, qr/^ttai: /, "ttai @$bad says why on stderr";
}

ok !-e '.ttai', 'a usage error creates nothing';

# -- migrations --------------------------------------------------------------

($rc, $out, $err) = ttai('d1', 'migrations', 'list');
is $rc, 0, 'migrations list exits 0' or diag $err;
ok -f $db, 'and creates the database, folders included';
like $out, qr/^  pending  0001_initial\.sql\n0 applied, 1 pending\n\z/m,
    'the first migration is pending';

($rc, $out, $err) = ttai('d1', 'migrations', 'apply');
is $rc, 0, 'migrations apply exits 0' or diag $err;
is $out, "Applied 0001_initial.sql\n1 migration applied.\n",
    'and says what it applied';

($rc, $out, $err) = ttai('d1', 'migrations', 'apply', 'ttai', '--local');
is $rc, 0, 'wrangler\'s "apply ttai --local" works too';
is $out, "No migrations to apply.\n", 'with nothing left to apply';

($rc, $out, $err) = ttai('d1', 'migrations', 'create', 'add positions');
is $rc, 0, 'migrations create exits 0';
is $out, "Created migrations/0002_add_positions.sql\n",
    'it numbers the next migration';
like read_file('migrations/0002_add_positions.sql'),
    qr/^-- Migration 0002: add_positions\n.*do not write BEGIN/s,
    'an empty migration with a comment';

($rc, $out, $err) = ttai('d1', 'migrations', 'create', 'ttai', 'broken');
is $rc, 0, 'wrangler\'s "create ttai NAME" works too';
is $out, "Created migrations/0003_broken.sql\n", 'it is numbered 0003';

write_file('migrations/0002_add_positions.sql',
           "CREATE TABLE positions (symbol TEXT PRIMARY KEY, qty INTEGER);\n");
write_file('migrations/0003_broken.sql',
           "INSERT INTO positions VALUES ('AAPL', 1);\nINSERT INTO nope "
           . "VALUES (1);\n");

($rc, $out, $err) = ttai('d1', 'migrations', 'apply');
is $rc, 1, 'a failing migration exits 1';
is $out, "Applied 0002_add_positions.sql\n", 'the one before it applies';
like $err, qr/^ttai: migration "0003_broken\.sql" failed: no such table: nope \(line 2\)\n/,
    'the failing one is named with SQLite\'s message';

($rc, $out, $err) = ttai('d1', 'migrations', 'list', '--json');
is $rc, 0, 'migrations list --json exits 0';
my $list = eval { decode_json($out) };
is_deeply [ map { "$_->{name} $_->{status}" } @{ $list // [] } ],
    ['0001_initial.sql applied', '0002_add_positions.sql applied',
     '0003_broken.sql pending'],
    'it lists each migration with its status';
like $list->[0]{applied_at} // '', qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
    'and when it was applied';
ok !defined $list->[2]{applied_at}, 'a pending one has no time';

($rc, $out, $err) = ttai('d1', 'execute', '--command',
                         'SELECT count(*) AS n FROM positions');
like $out, qr/^n\n-\n0\n/, 'the failed migration left no row behind';

($rc, $out, $err) = ttai('d1', 'migrations', 'list', '--migrations', 'nope');
is $rc, 1, 'a missing migrations folder exits 1';
like $err, qr/no migrations folder "nope"/, 'and says so';

# -- execute -----------------------------------------------------------------

($rc, $out, $err) = ttai('d1', 'execute', 'ttai', '--local', '--command',
    "INSERT INTO users (id, email, created_at, updated_at) VALUES "
    . "('tt-account-123', 'test\@example.com', unixepoch(), unixepoch());");
is $rc, 0, 'the seed\'s INSERT, as written for wrangler, exits 0'
    or diag $err;
like $out, qr/^OK: 1 row changed, last_row_id 1 \(/, 'and reports it';

($rc, $out, $err) = ttai('d1', 'execute', '--command',
    "INSERT INTO user_oauth_tokens (user_id, provider, access_token, "
    . "refresh_token, expires_at) VALUES ('tt-account-123', 'tastytrade', "
    . "'encrypted_access', 'encrypted_refresh', unixepoch() + 3600);");
is $rc, 0, 'so does the seed\'s token INSERT' or diag $err;

($rc, $out, $err) = ttai('d1', 'execute', '--command',
                         'SELECT id, email FROM users LIMIT 10;');
is $rc, 0, 'a SELECT exits 0';
like $out, qr/^\Qid             | email\E\n
               \Q---------------+-----------------\E\n
               \Qtt-account-123 | test\E\@\Qexample.com\E\n
               \(1\ row,\ [0-9.]+\ ms\)\n\z/x,
    'and prints a readable table' or diag $out;
like $err, qr/^$/, 'nothing on stderr';

($rc, $out, $err) = ttai('d1', 'execute', '--command',
                         'SELECT * FROM users', '--json');
is $rc, 0, '--json exits 0';
my $res = eval { decode_json($out) };
is ref $res, 'ARRAY', 'it prints a JSON array';
is $res->[0]{results}[0]{email}, 'test@example.com', 'with the rows';
is $res->[0]{meta}{rows_read}, 1, 'and the meta';
ok exists $res->[0]{meta}{duration_ms}, 'with the duration';

($rc, $out, $err) = ttai('d1', 'execute', '--json', '--command',
    "SELECT x'0102ff' AS b, 2.5 AS r, NULL AS n, 'caf\xc3\xa9' AS t");
$res = eval { decode_json($out) };
is $res->[0]{results}[0]{b}, 'AQL/', 'a BLOB is base64';
is $res->[0]{results}[0]{r}, 2.5, 'a REAL is a number';
ok exists $res->[0]{results}[0]{n} && !defined $res->[0]{results}[0]{n},
    'NULL is null';
is $res->[0]{results}[0]{t}, "caf\x{e9}", 'TEXT is UTF-8';

write_file('seed.sql', <<'_SQL_');
-- several statements, as in a seed file
INSERT INTO positions VALUES ('MSFT', 2);
INSERT INTO positions VALUES ('SPY', 3);
SELECT symbol FROM positions ORDER BY symbol;
_SQL_

($rc, $out, $err) = ttai('d1', 'execute', '--file', 'seed.sql', '--json');
is $rc, 0, 'execute --file exits 0' or diag $err;
$res = eval { decode_json($out) } // [];
is scalar(@$res), 3, 'one result per statement';
is_deeply [ map { $_->{symbol} } @{ $res->[2]{results} } ], ['MSFT', 'SPY'],
    'in order';

($rc, $out, $err) = ttai(\"SELECT count(*) AS n FROM positions;\n",
                         'd1', 'execute', '--file', '-');
is $rc, 0, '--file - reads standard input';
like $out, qr/^n\n-\n2\n\(1 row, /, 'and runs it';

($rc, $out, $err) = ttai('d1', 'execute', '--command', 'SELEC 1');
is $rc, 1, 'an SQL error exits 1';
is $err, "ttai: near \"SELEC\": syntax error\n",
    'and prints SQLite\'s message';
is $out, '', 'with nothing on stdout';

($rc, $out, $err) = ttai('d1', 'execute', '--command', 'SELEC 1', '--json');
is $rc, 1, 'an SQL error with --json exits 1 too';
is_deeply eval { decode_json($out) },
    { error => 'sql_error', message => 'near "SELEC": syntax error' },
    'and prints it as JSON';

write_file('bad.sql', "SELECT 1;\n\nSELECT * FROM nope;\nSELECT 2;\n");
($rc, $out, $err) = ttai('d1', 'execute', '--file', 'bad.sql');
is $rc, 1, 'a failing file exits 1';
is $err, "ttai: no such table: nope (line 3)\n", 'naming the line';

($rc, $out, $err) = ttai('d1', 'execute', '--file', 'none.sql');
is $rc, 1, 'a missing file exits 1';
like $err, qr/cannot read "none\.sql"/, 'and says so';

($rc, $out, $err) = ttai('d1', 'execute', '--db', 'other/place/x.sqlite',
                         '--command', 'CREATE TABLE t (x)');
is $rc, 0, '--db names another database';
ok -f 'other/place/x.sqlite', 'whose folders are created';

mkdir 'adir';
($rc, $out, $err) = ttai('d1', 'execute', '--db', 'adir', '--command',
                         'SELECT 1');
is $rc, 1, 'a database that cannot be opened exits 1';
like $err, qr/^ttai: database "adir": /, 'naming it';

chdir $cwd;

done_testing;
