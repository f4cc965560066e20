# ttai tastytrade connect: tokens stored sealed, never in clear, and the
# mistakes a user can make are named.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP qw(decode_json);
use Test::More;
use Ttai::Util qw(repo_root scratch_dir write_file read_file random_hex
                  run_capture skip_or_fail);

my $root = repo_root();
my $ttai = "$root/build/ttai";

skip_or_fail("not built: run make") unless -x $ttai;

my $dir = scratch_dir('tt-connect');
my $db = "$dir/db.sqlite";
my $env = "$dir/dev.vars";
write_file($env, "JWT_SECRET=" . random_hex(32) . "\n"
               . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n", 0600);

local $ENV{TOKEN_ENCRYPTION_KEY};
delete $ENV{TOKEN_ENCRYPTION_KEY};

sub ttai { run_capture($ttai, @_) }
# the first row of a query, as a hash
sub sql {
    my ($rc, $out) = ttai('d1', 'execute', '--db', $db, '--json',
                          '--command', $_[0]);
    return eval { decode_json($out)->[0]{results}[0] } // {};
}

my ($rc, $out) = ttai('tastytrade', 'connect', '--user', 'u1',
                      '--refresh-token', 'r', '--db', $db, '--env-file', $env);
is $rc, 1, 'no database: exits 1';
like $out, qr/no database at .*; start scripts\/dev.sh or run: ttai d1 migrations apply/,
    'and says how to make one';

($rc, $out) = ttai('d1', 'migrations', 'apply', '--db', $db,
                   '--migrations', "$root/migrations");
is $rc, 0, 'the migrations apply' or diag $out;

my $refresh = 'refresh-' . random_hex(16);
my $access = 'access-' . random_hex(16);

($rc, $out) = ttai('tastytrade', 'connect', '--user', 'tt-account-123',
                   '--email', 'test@example.com', '--refresh-token', $refresh,
                   '--access-token', $access, '--expires-in', '900',
                   '--db', $db, '--env-file', $env);
is $rc, 0, 'connect exits 0' or diag $out;
like $out, qr/connected TastyTrade for user tt-account-123/, 'and says so';

is_deeply sql("SELECT id, email FROM users"),
    { id => 'tt-account-123', email => 'test@example.com' },
    'the user is stored';
my $row = sql("SELECT length(access_token) AS a, length(refresh_token) AS r, "
            . "expires_at - unixepoch() AS ttl, scope FROM user_oauth_tokens");
is $row->{a}, length($access) + 41, 'the access token is sealed: '
    . 'version, nonce and tag around it';
is $row->{r}, length($refresh) + 41, 'so is the refresh token';
ok $row->{ttl} >= 898 && $row->{ttl} <= 900, 'the expiry is stored';
is $row->{scope}, 'read', 'the scope is stored';

my $files = join '', map { read_file($_) } grep { -f } ($db, "$db-wal");
unlike $files, qr/\Q$refresh\E|\Q$access\E/, 'no token in clear in the database';

my $before = sql("SELECT hex(refresh_token) AS h FROM user_oauth_tokens")->{h};
($rc, $out) = ttai('tastytrade', 'connect', '--user', 'tt-account-123',
                   '--refresh-token', $refresh, '--db', $db,
                   '--env-file', $env);
is $rc, 0, 'connecting again exits 0';
my $after = sql("SELECT hex(refresh_token) AS h FROM user_oauth_tokens")->{h};
ok $after && $after ne $before, 'a new nonce seals it again';
is sql("SELECT count(*) AS n FROM users")->{n}, 1, 'still one user';
is sql("SELECT email FROM users")->{email}, 'test@example.com',
    'the email is kept when not given';

# The CLI's connection enforces the foreign keys the migrations declare,
# as every other connection does.  connect makes the user before its
# tokens, so only a trigger (made here, for the test) that takes a new
# user away at once leaves the tokens naming a user who does not exist.
($rc, $out) = ttai('d1', 'execute', '--db', $db, '--command',
    "CREATE TRIGGER vanish AFTER INSERT ON users WHEN NEW.id = 'ghost' "
    . "BEGIN DELETE FROM users WHERE id = NEW.id; END");
is $rc, 0, 'a trigger that takes the new user "ghost" away' or diag $out;
($rc, $out) = ttai('tastytrade', 'connect', '--user', 'ghost',
                   '--refresh-token', $refresh, '--db', $db,
                   '--env-file', $env);
is $rc, 1, 'tokens for a user who does not exist: refused, exit 1';
like $out, qr/storing the tokens failed: .*FOREIGN KEY constraint failed/,
    'saying that a foreign key refused them';
is sql("SELECT count(*) AS n FROM user_oauth_tokens WHERE user_id = 'ghost'")
    ->{n}, 0, 'no token was written';
is sql("SELECT count(*) AS n FROM users WHERE id = 'ghost'")->{n}, 0,
    'nor the user';
is sql("SELECT count(*) AS n FROM user_oauth_tokens")->{n}, 1,
    'and the tokens stored before are still there';
($rc, $out) = ttai('d1', 'execute', '--db', $db, '--command',
                   'DROP TRIGGER vanish');
is $rc, 0, 'the trigger is dropped' or diag $out;

# the user commands open the database the same way, and never make one
($rc, $out) = ttai('users', 'list', '--db', "$dir/none.sqlite");
is $rc, 1, 'users list without a database: exit 1';
like $out,
    qr/cannot open the database .*none\.sqlite.*start scripts\/dev\.sh once, or pass --db/,
    'saying how to make one';
ok !-e "$dir/none.sqlite", 'and none is made';
($rc, $out) = ttai('users', 'list', '--db', $db);
is $rc, 0, 'users list' or diag $out;
like $out, qr/^tt-account-123\s+test\@example\.com\s+\S+Z\s+connected\s+0$/m,
    'shows the connected user, with no sign-in';
like $out, qr/^\(1 user\)$/m, 'and counts it';

write_file("$dir/bad.vars", "TOKEN_ENCRYPTION_KEY=not-a-key-secret-value\n");
($rc, $out) = ttai('tastytrade', 'connect', '--user', 'u', '--refresh-token',
                   'r', '--db', $db, '--env-file', "$dir/bad.vars");
is $rc, 1, 'a bad TOKEN_ENCRYPTION_KEY exits 1';
like $out, qr/TOKEN_ENCRYPTION_KEY in .*bad.vars must be 64 hex characters/,
    'and names the key and file';
unlike $out, qr/not-a-key-secret-value/, 'but not the value';

{
    local $ENV{TOKEN_ENCRYPTION_KEY} = random_hex(32);
    ($rc, $out) = ttai('tastytrade', 'connect', '--user', 'u2',
                       '--refresh-token', 'r', '--db', $db,
                       '--env-file', "$dir/missing.vars");
    is $rc, 0, 'the environment variable wins over the file';
}

($rc, $out) = ttai('tastytrade', 'connect', '--user', 'u', '--db', $db,
                   '--env-file', $env);
is $rc, 2, 'no refresh token is a usage error';
($rc, $out) = ttai('tastytrade', 'connect', '--user', 'u', '--refresh-token',
                   'r', '--expires-in', 'soon');
is $rc, 2, 'a bad --expires-in is a usage error';
($rc, $out) = ttai('tastytrade', 'connect', '--help');
is $rc, 0, '--help exits 0';
like $out, qr/--refresh-token T/, '--help documents the options';

done_testing;
