# The user's own permission to trade (migrations/0010), which
# "ttai users trading enable|disable ID" sets: off by default, on and off
# again for a user who exists, refused for one who does not, and the
# usage for a verb it does not know.  Trading's tables: a confirmation's
# nonce used twice fails in the database, the audit refuses updates, and
# "ttai orders audit" reads it.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(repo_root scratch_dir run_capture skip_or_fail);

my $root = repo_root();

skip_or_fail('not built: run make') unless -x "$root/build/ttai";

my $dir = scratch_dir('trading-grants');
my $db = "$dir/db.sqlite";

sub ttai { run_capture("$root/build/ttai", @_) }
sub sql {
    my ($rc, $out) = run_capture('sqlite3', $db, @_);
    $out =~ s/\s+\z//;
    return ($rc, $out);
}

my ($rc, $out) = ttai('d1', 'migrations', 'apply', '--db', $db,
                      '--migrations', "$root/migrations");
is $rc, 0, 'the migrations apply' or diag $out;
sql("INSERT INTO users (id, email) VALUES ('alice', 'a\@example.com')");

is((sql("SELECT trading FROM users WHERE id = 'alice'"))[1], 0,
   'trading is off until the user is given it');

($rc, $out) = ttai('users', 'trading', 'enable', 'alice', '--db', $db);
is $rc, 0, 'ttai users trading enable' or diag $out;
like $out, qr/^trading enabled for user alice$/m, 'saying so';
is((sql("SELECT trading FROM users WHERE id = 'alice'"))[1], 1, 'it is on');

($rc, $out) = ttai('users', 'trading', 'disable', 'alice', '--db', $db);
is $rc, 0, 'ttai users trading disable';
is((sql("SELECT trading FROM users WHERE id = 'alice'"))[1], 0,
   'and off again');

($rc, $out) = ttai('users', 'trading', 'enable', 'nobody', '--db', $db);
is $rc, 1, 'an unknown user: exit 1';
like $out, qr/no user "nobody"/, 'naming the user';

($rc, $out) = ttai('users', 'trading', 'maybe', 'alice', '--db', $db);
is $rc, 2, 'an unknown verb: exit 2';
like $out, qr/trading enable\|disable ID/, 'with the usage';

($rc, $out) = ttai('users', '--help');
like $out, qr/the user's own permission to trade/, '--help says what it is';

# the tables behind a confirmation's single use and the audit
sql("INSERT INTO order_confirmations VALUES ('n1', 'alice', 'ttai-1', 1)");
($rc, $out) = sql("INSERT INTO order_confirmations "
                  . "VALUES ('n1', 'mallory', 'ttai-2', 2)");
isnt $rc, 0, 'a nonce used twice fails in the database';
sql("INSERT INTO order_audit (at, user_id, tool, request, decision) "
    . "VALUES (1, 'alice', 'place_order', '{}', 'refused')");
($rc, $out) = sql("UPDATE order_audit SET decision = 'sent'");
like $out, qr/append-only/, 'the audit refuses an update';
($rc, $out) = sql("DELETE FROM order_audit");
like $out, qr/append-only/, 'and a delete';

# ttai orders audit reads it: everyone's, one user's, since a time
sql("INSERT INTO order_audit (at, user_id, account, tool, request, decision, "
    . "status, order_id) VALUES (1765000000000, 'bob', '5WT01', "
    . "'place_order', '{}', 'sent', 201, '42')");
($rc, $out) = ttai('orders', 'audit', '--db', $db);
is $rc, 0, 'ttai orders audit' or diag $out;
like $out, qr/^\S+Z +bob +5WT01 +place_order +sent +201 +42 /m,
    'shows the order sent, with its status and order id';
like $out, qr/^\S+Z +alice +- +place_order +refused /m, 'and the refusal';
like $out, qr/^\(2 attempts\)$/m, 'two in all';
($rc, $out) = ttai('orders', 'audit', '--db', $db, '--user', 'alice');
unlike $out, qr/ bob /, '--user: one user\'s';
($rc, $out) = ttai('orders', 'audit', '--db', $db, '--since', '2025-12-01');
like $out, qr/^\(1 attempt\)$/m, '--since: from a date';
($rc, $out) = ttai('orders', 'audit', '--db', $db, '--since', 'soon');
is $rc, 2, 'a --since that is not one: exit 2';

done_testing;
