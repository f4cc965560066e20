# Migrations applied when nginx loads its configuration: a failing one
# stops "nginx -t", a start and a reload, naming the file and SQLite's
# message, and leaves the database exactly as it was; fixed, it applies.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(sha256_hex);
use POSIX qw(WNOHANG);
use Test::More;
use Ttai::Util qw(repo_root scratch_dir free_port write_file read_file
                  random_hex run_capture http_get wait_until start_nginx
                  skip_or_fail);

my $root = repo_root();
my $so = "$root/build/nginx/ngx_http_ttai_module.so";
my $ttai = "$root/build/ttai";
my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';

skip_or_fail("module or CLI not built: run make") unless -f $so && -x $ttai;
skip_or_fail("the sqlite3 command is needed")
    unless system('sqlite3 -version >/dev/null 2>&1') == 0;

my $dir = scratch_dir('d1-migrations');
my $port = free_port();
my $db = "$dir/state/d1/ttai/db.sqlite";
my $mig = "$dir/migrations";

write_file("$dir/ttai.env", "JWT_SECRET=" . random_hex(32) . "\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);

# no "user" directive: as root, the workers run as nginx's default user,
# which must be able to use the database that the master created
sub write_conf {
    write_file("$dir/nginx.conf", <<"_EOC_");
load_module $so;
daemon off;
master_process on;
worker_processes 1;
error_log $dir/error.log notice;
pid $dir/nginx.pid;
thread_pool ttai threads=2;

events {
    worker_connections 64;
}

http {
    access_log off;
    client_body_temp_path $dir/body_temp;
    proxy_temp_path $dir/proxy_temp;
    fastcgi_temp_path $dir/fastcgi_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;

    ttai_environment development;
    ttai_env_file $dir/ttai.env;
    ttai_state_dir $dir/state;
    ttai_thread_pool ttai;
    ttai_migrations $mig;

    server {
        listen 127.0.0.1:$port;

        location /_ttai/ {
            ttai_admin;
        }

        location = /health {
            ttai_health;
        }
    }
}
_EOC_
}

write_conf();

sub nginx_t {
    return run_capture($nginx, '-t', '-p', "$dir/", '-c', "$dir/nginx.conf");
}

sub sqlite {
    my ($sql) = @_;
    my ($rc, $out) = run_capture('sqlite3', $db, $sql);
    return $out;
}

sub db_dump {
    my ($rc, $out) = run_capture('sqlite3', $db, '.dump');
    return $out;
}

sub file_sha {
    open my $fh, '<:raw', $db or return '';
    local $/;
    return sha256_hex(scalar <$fh>);
}

sub query {
    my ($sql) = @_;
    my ($rc, $out) = run_capture('curl', '-s', '--max-time', '5',
        '-d', qq({"sql":"$sql"}), "http://127.0.0.1:$port/_ttai/d1/query");
    return $out;
}

# -- the first migration applies at "nginx -t" ---------------------------

write_file("$mig/0001_ok.sql", <<'_SQL_');
CREATE TABLE a (x INTEGER);
INSERT INTO a VALUES (1);
_SQL_
write_file("$mig/README", "not a migration\n");

my ($rc, $out) = nginx_t();
is $rc, 0, 'nginx -t applies the first migration' or diag $out;
ok -f $db, 'the database is created in the state folder';
is sqlite('SELECT name FROM d1_migrations ORDER BY id'), "0001_ok.sql\n",
    'd1_migrations records it';
is sqlite('PRAGMA journal_mode'), "wal\n", 'the database is in WAL mode';

my $before = db_dump();
my $sha = file_sha();
like $before, qr/CREATE TABLE a/, 'the dump shows the schema';

# -- a broken second migration ---------------------------------------------

write_file("$mig/0002_broken.sql", <<'_SQL_');
CREATE TABLE b (y INTEGER);
INSERT INTO a VALUES (2);
DROP TABLE a;
CREATE TABL c (z INTEGER);
_SQL_
write_file("$mig/0003_later.sql", "INSERT INTO a VALUES (3);\n");

($rc, $out) = nginx_t();
isnt $rc, 0, 'nginx -t fails on the broken migration';
like $out, qr/\[emerg\] \d+#\d+: ttai: migration "0002_broken\.sql" failed: near "TABL": syntax error \(line 4\)/,
    'it names the file, the line and SQLite\'s message';
unlike $out, qr/test is successful/, 'the test is not successful';

is db_dump(), $before, 'the database dump is the same as before';
is file_sha(), $sha, 'the database file is byte for byte the same';
ok !-e "$db-wal" || -s "$db-wal" == 0, 'no write is left in the WAL';

($rc, $out) = run_capture($nginx, '-p', "$dir/", '-c', "$dir/nginx.conf");
isnt $rc, 0, 'nginx does not start either';
like $out, qr/ttai: migration "0002_broken\.sql" failed: near "TABL"/,
    'and says why';
is db_dump(), $before, 'the database is still the same';

# -- a reload with a broken migration keeps the old workers serving ------

unlink "$mig/0002_broken.sql", "$mig/0003_later.sql";

my $pid = eval {
    start_nginx(dir => $dir, conf => "$dir/nginx.conf",
                out => "$dir/stdout.log", error_log => "$dir/error.log",
                pid_file => "$dir/nginx.pid",
                ready => sub { (http_get($port, '/health'))[0] == 200 },
                ports => [ \$port ], write => \&write_conf);
};
diag $@ unless $pid;
# a test that dies midway must not leave nginx running
END { local $?; Ttai::Util::stop_pid($pid, 5) if $pid && kill(0, $pid) }

ok $pid, 'nginx starts with the first migration';

like query('SELECT x FROM a'), qr/^\{"results":\[\{"x":1\}\],/,
    'a worker reads the database that the master created';
like query('INSERT INTO a VALUES (5)'), qr/"changes":1/,
    'and writes it';

my ($status, $h, $body) = http_get($port, '/health');
like $body, qr/"d1":\{"status":"ok","schema_version":1\}/,
    '/health shows schema version 1';

write_file("$mig/0002_broken.sql", "CREATE TABLE b (y);\nSELEC 1;\n");
my $log_size = -s "$dir/error.log";
kill 'HUP', $pid;

ok wait_until(10, sub {
        substr(read_file("$dir/error.log"), $log_size)
            =~ /ttai: migration "0002_broken\.sql" failed/ }),
    'a reload reports the broken migration in the error log';
($status) = http_get($port, '/health');
is $status, 200, 'the old workers keep serving';
is sqlite("SELECT count(*) FROM sqlite_master WHERE name = 'b'"), "0\n",
    'nothing of the broken migration is left';

# -- fixed, it applies: by a reload, and then the next one by nginx -t ---

write_file("$mig/0002_broken.sql", "CREATE TABLE b (y);\n");
$log_size = -s "$dir/error.log";
kill 'HUP', $pid;

ok wait_until(10, sub {
        substr(read_file("$dir/error.log"), $log_size)
            =~ /ttai: migration "0002_broken\.sql" applied/ }),
    'the fixed migration applies on reload';
ok wait_until(10, sub {
        (http_get($port, '/health'))[2]
            =~ /"d1":\{"status":"ok","schema_version":2\}/ }),
    'the new workers see schema version 2';

write_file("$mig/0003_later.sql", "INSERT INTO a VALUES (3);\n");
($rc, $out) = nginx_t();
is $rc, 0, 'nginx -t applies the next one' or diag $out;

is sqlite("SELECT id, name FROM d1_migrations ORDER BY id"),
    "1|0001_ok.sql\n2|0002_broken.sql\n3|0003_later.sql\n",
    'd1_migrations has one row per migration, in order';
like sqlite("SELECT applied_at FROM d1_migrations WHERE id = 3"),
    qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n$/, 'with the time it was applied';
is sqlite('SELECT group_concat(x) FROM (SELECT x FROM a ORDER BY x)'),
    "1,3,5\n", 'and its data';

($rc, $out) = run_capture($ttai, 'd1', 'migrations', 'list', '--db', $db,
                          '--migrations', $mig);
is $rc, 0, 'ttai d1 migrations list agrees';
like $out, qr/applied  0003_later\.sql .*\n3 applied, 0 pending/s,
    'three applied, none pending';

# -- a database removed while nginx runs, and made again by the CLI -------

# what "ttai state reset --d1" does to the folder
unlink glob("$dir/state/d1/ttai/*");
rmdir "$dir/state/d1/ttai";

like query('SELECT x FROM a'),
    qr/^\{"error":"db_error","message":"the database file is missing; /,
    'a query on a removed database says that the file is missing';
($status, $h, $body) = http_get($port, '/health');
is $status, 503, '/health fails';
like $body, qr/"d1":\{"status":"fail","error":"the database file is missing/,
    'naming the d1 check';

($rc, $out) = run_capture($ttai, 'd1', 'migrations', 'apply', '--db', $db,
                          '--migrations', $mig);
is $rc, 0, 'ttai d1 migrations apply makes it again' or diag $out;

# in development the CLI and the workers are one user; here the workers
# may be nginx's default user, so the new files are given to them
if ($> == 0) {
    my $uid = (stat "$dir/state/d1")[4];
    chown $uid, -1, "$dir/state/d1/ttai", glob("$dir/state/d1/ttai/*");
}

like query('SELECT group_concat(x) AS s FROM (SELECT x FROM a ORDER BY x)'),
    qr/^\{"results":\[\{"s":"1,3"\}\],/,
    'the workers use the new file, without a reload';
ok wait_until(10, sub { (http_get($port, '/health'))[0] == 200 }),
    '/health is healthy again';

# -- BEGIN and COMMIT are refused in a migration ---------------------------

write_file("$mig/0004_txn.sql", "BEGIN;\nCREATE TABLE d (w);\nCOMMIT;\n");
($rc, $out) = nginx_t();
isnt $rc, 0, 'a migration with its own transaction fails';
like $out, qr/migration "0004_txn\.sql" failed: BEGIN, COMMIT and ROLLBACK are not allowed/,
    'and says why';

kill 'QUIT', $pid;
my $gone = wait_until(10, sub { waitpid($pid, WNOHANG) == $pid });
unless ($gone) {
    kill 'KILL', $pid;
    waitpid $pid, 0;
}
ok $gone, 'nginx stops';

unlike read_file("$dir/error.log"), qr/\[(alert|crit)\]/,
    'no alert in the error log';

done_testing;
