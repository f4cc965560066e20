# The harness refuses what Test::Nginx::Socket would refuse or run
# differently, so that a suite passing under the project's own runner
# passes under Test::Nginx too; and a missing prerequisite skips a suite,
# except under CI, where it fails.  Each case is a small .t written here
# and run in a child perl, whose TAP and exit status are checked.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(scratch_dir write_file run_capture);

my $lib = "$FindBin::Bin/lib";
my $dir = scratch_dir('harness-refusals');
my $n = 0;

# writes a .t of Test::Nginx blocks for the own runner, with plain nginx,
# and runs it with its own server root; returns (exit status, output)
sub run_blocks {
    my ($blocks, %opt) = @_;
    $n++;
    my $t = "$dir/case$n.t";
    write_file($t, <<"_EOT_");
use strict;
use warnings;
use lib '$lib';
BEGIN { \$ENV{TEST_NGINX_LOAD_MODULES} = ''; \$ENV{TTAI_TEST_RUNNER} = 'own' }
use Ttai::Test;
@{[ $opt{perl} // '' ]}
run_tests();

__DATA__

$blocks
_EOT_
    local %ENV = %ENV;
    $ENV{TEST_NGINX_SERVROOT} = $opt{servroot} // "$dir/servroot$n";
    delete $ENV{TEST_NGINX_NO_SHUFFLE};
    $ENV{TEST_NGINX_NO_SHUFFLE} = 1 if $opt{no_shuffle};
    # the cases fail on purpose: nothing of theirs is kept
    $ENV{TTAI_KEEP_SCRATCH} = 0;
    return run_capture($^X, $t);
}

my $ok_block = <<'_EOB_';
=== TEST 1: a block that passes
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
hello
_EOB_

# whether a failing test of the output has $text in its name
sub not_ok {
    my ($out, $text) = @_;
    return scalar grep { /^not ok / && index($_, $text) >= 0 }
                       split /\n/, $out;
}

my ($rc, $out);

# -- a valid .t passes: the failures below are the harness refusing -------

($rc, $out) = run_blocks($ok_block);
is $rc, 0, 'a valid block passes' or diag $out;
unlike $out, qr/^not ok/m, 'and nothing fails';

# -- sections -------------------------------------------------------------

($rc, $out) = run_blocks($ok_block . "--- resp_title\nIt works!\n");
isnt $rc, 0, 'a section of Test::Nginx that the runner lacks fails';
ok not_ok($out, '--- resp_title is not supported by Ttai::Test::Runner'),
    'and names it' or diag $out;

($rc, $out) = run_blocks($ok_block . "--- response_bdy\nhello\n");
isnt $rc, 0, 'a section that Test::Nginx does not know fails';
ok not_ok($out, '--- response_bdy is a section that Test::Nginx::Socket'
              . ' does not know'),
    'and names it' or diag $out;

($rc, $out) = run_blocks($ok_block . "--- no_check_leak\n");
is $rc, 0, 'a section that only matters in a leak-check run is accepted'
    or diag $out;

($rc, $out) = run_blocks(<<'_EOB_');
=== TEST 1: no config, and no block before
--- request
GET /t
_EOB_
isnt $rc, 0, 'a first block without --- config fails';
like $out, qr/No '--- config' section specified and could not get previous one/,
    'as Test::Nginx says it';

# -- the server root --------------------------------------------------------

my $state_block = <<'_EOB_';
=== TEST 1: nginx makes a folder in its prefix
--- config
    location = /t {
        client_body_temp_path state;
        return 200 "hello\n";
    }
--- request
GET /t
--- response_body
hello
_EOB_

($rc, $out) = run_blocks($state_block, no_shuffle => 1);
isnt $rc, 0, 'a block that leaves a folder in the server root fails';
ok not_ok($out, 'TEST 1: nginx makes a folder in its prefix - left state/'
              . ' in the server root'),
    'and names the folder' or diag $out;

($rc, $out) = run_blocks($state_block . "\n" . $ok_block, no_shuffle => 1);
isnt $rc, 0, 'with a block after it';
like $out, qr/^Bail out!\s+Can't remove \S+ \(not empty\?\).*: state\//m,
    'the next block stops the run, as Test::Nginx does';
unlike $out, qr/TEST 1: a block that passes/,
    'and is not run';

my $stale = "$dir/stale-root";
write_file("$stale/data/db.sqlite", '');
($rc, $out) = run_blocks($ok_block, servroot => $stale);
isnt $rc, 0, 'something left in the server root by an earlier run';
like $out, qr/^Bail out!\s+Can't remove \Q$stale\E \(not empty\?\).*: data\//m,
    'stops the run';

# -- requests ---------------------------------------------------------------

($rc, $out) = run_blocks(<<'_EOB_');
=== TEST 1: a variable Test::Nginx does not expand in a request
--- config
    location = /t { return 200 "$arg_p\n"; }
--- request
GET /t?p=$TEST_NGINX_SERVER_PORT
--- response_body_like: ^\d+$
_EOB_
isnt $rc, 0, '$TEST_NGINX_* in --- request fails';
ok not_ok($out, '--- request: Test::Nginx::Socket does not expand'
              . ' $TEST_NGINX_SERVER_PORT here'),
    'and says where' or diag $out;

($rc, $out) = run_blocks(<<'_EOB_');
=== TEST 1: the expected body is expanded, as Test::Nginx does
--- config
    location = /t { return 200 "$server_port\n"; }
--- request
GET /t
--- response_body
$TEST_NGINX_SERVER_PORT
_EOB_
is $rc, 0, '$TEST_NGINX_* in --- response_body is expanded' or diag $out;

($rc, $out) = run_blocks(<<'_EOB_');
=== TEST 1: a delay before the first packet
--- config
    location = /t { return 200 "hello\n"; }
--- request eval
[[{ value => "GET /t", delay_before => 0.1 }]]
--- response_body
hello
_EOB_
isnt $rc, 0, 'delay_before on the first packet of a request fails';
ok not_ok($out, 'delay_before on the first packet of a request is ignored'
              . ' by Test::Nginx::Socket'),
    'and says that Test::Nginx ignores it' or diag $out;

($rc, $out) = run_blocks(<<'_EOB_');
=== TEST 1: a delay before a later packet
--- config
    location = /t { return 200 "$arg_p\n"; }
--- request eval
[["GET /t?p=", { value => "x", delay_before => 0.1 }]]
--- response_body
x
_EOB_
is $rc, 0, 'delay_before on a later packet is kept' or diag $out;

# -- order ------------------------------------------------------------------

my $blocks = join "\n", map { <<"_EOB_" } 1 .. 10;
=== TEST $_: block $_
--- config
    location = /t { return 200 "$_\\n"; }
--- request
GET /t
--- response_body
$_
_EOB_

sub order {
    my ($text) = @_;
    return join ' ', $text =~ /^ok \d+ - \S+ TEST (\d+):.*status code/mg;
}

($rc, $out) = run_blocks($blocks);
is $rc, 0, 'ten blocks pass' or diag $out;
isnt order($out), join(' ', 1 .. 10),
    'in an order of their own, as Test::Nginx shuffles them';

($rc, $out) = run_blocks($blocks, no_shuffle => 1);
is order($out), join(' ', 1 .. 10),
    'TEST_NGINX_NO_SHUFFLE=1 keeps the file order';

($rc, $out) = run_blocks($blocks, perl => 'no_shuffle();');
is order($out), join(' ', 1 .. 10), 'so does no_shuffle()';

# -- a missing prerequisite -------------------------------------------------

# a .t that needs something missing: the whole of it, or one test of it
sub run_prereq {
    my ($ci, $code) = @_;
    $n++;
    my $t = "$dir/prereq$n.t";
    write_file($t, <<"_EOT_");
use strict;
use warnings;
use lib '$lib';
use Test::More;
use Ttai::Util qw(skip_or_fail);
$code
done_testing;
_EOT_
    local %ENV = %ENV;
    delete $ENV{CI};
    $ENV{CI} = $ci if defined $ci;
    $ENV{TTAI_KEEP_SCRATCH} = 0;
    return run_capture($^X, $t);
}

my $reason = 'frobnicator is missing: install it';
my $no_skip = '(CI is set, so this is no skip)';
my $whole = <<'_EOC_';
skip_or_fail('frobnicator is missing: install it') unless -x '/no/such/frob';
ok 1, 'the frobnicator frobs';
_EOC_

for my $ci (undef, '', '0', 'false', 'FALSE') {
    my $name = defined $ci ? "CI=\"$ci\"" : 'without CI';
    ($rc, $out) = run_prereq($ci, $whole);
    is $rc, 0, "$name a missing prerequisite skips the .t";
    like $out, qr/^1\.\.0 # SKIP frobnicator is missing: install it$/m,
        "$name it says why";
}

for my $ci ('true', '1', 'yes') {
    ($rc, $out) = run_prereq($ci, $whole);
    isnt $rc, 0, "CI=$ci: a missing prerequisite fails the .t";
    like $out, qr/^not ok 1 - \Q$reason\E \Q$no_skip\E$/m,
        "CI=$ci: the failing test says why";
    unlike $out, qr/the frobnicator frobs/, "CI=$ci: nothing else runs";
}

my $part = <<'_EOC_';
SKIP: {
    skip_or_fail('frobnicator is missing', 2) unless -x '/no/such/frob';
    ok 1, 'frob one';
    ok 1, 'frob two';
}
ok 1, 'the rest';
_EOC_

($rc, $out) = run_prereq(undef, $part);
is $rc, 0, 'without CI the tests of a SKIP block are skipped' or diag $out;
is scalar(() = $out =~ /^ok \d+ # skip frobnicator is missing$/mg), 2,
    'each of them';
like $out, qr/^ok 3 - the rest$/m, 'and the rest runs';

($rc, $out) = run_prereq('true', $part);
isnt $rc, 0, 'CI=true: the SKIP block fails instead';
like $out, qr/^not ok 1 - frobnicator is missing \Q$no_skip\E$/m,
    'with one failing test';
unlike $out, qr/frob one/, 'the block is left';
like $out, qr/^ok 2 - the rest$/m, 'and the rest runs';

done_testing;
