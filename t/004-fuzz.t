# The fuzz targets of t/fuzz/, briefly, on every run: scripts/fuzz builds
# them (clang, libFuzzer, ASan and UBSan), replays every committed seed
# once, then fuzzes each target for a few seconds; each must have run,
# reached code, and found nothing.  Long runs are for scripts/fuzz by
# hand (README "Fuzzing").

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(repo_root run_capture skip_or_fail);

my $root = repo_root();
my $fuzz = "$root/scripts/fuzz";
my $seconds = $ENV{TTAI_FUZZ_SECONDS} || 2;

my ($rc, $out) = run_capture($fuzz, '--check');
skip_or_fail("the fuzz targets need clang and libFuzzer: $out")
    if $rc != 0;

# -- what there is to run -------------------------------------------------------

($rc, $out) = run_capture($fuzz, '--list');
is $rc, 0, 'scripts/fuzz lists its targets';
my @targets = grep { length } split /\n/, $out;

opendir my $dh, "$root/t/fuzz" or die "t/fuzz: $!";
my @sources = sort map { /^fuzz_(\w+)\.c$/ ? $1 : () } readdir $dh;
closedir $dh;

is_deeply [sort @targets], \@sources,
    'the targets are the t/fuzz/fuzz_*.c files (' . @targets . ')';
ok scalar(@targets) >= 10, 'every entry point of the core has its target';

my $bytes = 0;
for my $t (@targets) {
    my @seeds = glob "$root/t/fuzz/corpus/$t/*";
    ok scalar(@seeds) > 0, "$t has seeds in t/fuzz/corpus/$t/";
    $bytes += -s $_ for @seeds;
}
ok $bytes < 1024 * 1024, "the seed corpora stay small ($bytes bytes)";

($rc, $out) = run_capture($fuzz, 'no_such_target', 1);
isnt $rc, 0, 'an unknown target is refused';
like $out, qr/unknown target 'no_such_target'/, '... by its name';

# -- the seeds replay, each once --------------------------------------------------

($rc, $out) = run_capture($fuzz, '--replay');
is $rc, 0, 'every seed replays without a crash' or diag tail_of($out);

for my $t (@targets) {
    like $out, qr/^fuzz: \Q$t\E: \d+ seeds replayed, no crash$/m,
        "$t: its seeds replay";
}

# -- and each target fuzzes a little ----------------------------------------------

($rc, $out) = run_capture($fuzz, '--no-build', 'all', $seconds);
is $rc, 0, "every target runs $seconds s without a crash"
    or diag tail_of($out);

my $stats = qr{(\d+) runs in \d+ s, (\d+) exec/s, cov (\d+), ft (\d+),};

for my $t (@targets) {
    my ($runs, $rate, $cov, $ft) =
        $out =~ /^fuzz: \Q$t\E: $stats corpus \d+ inputs, no crash$/m;

    ok defined $runs && $runs > 0, "$t: ran " . ($runs // 0) . ' inputs';
    ok defined $cov && $cov > 0, "$t: reached code (cov " . ($cov // 0)
        . ', ft ' . ($ft // 0) . ')';
}

sub tail_of {
    my ($text) = @_;
    my @l = split /\n/, $text;
    return join "\n", @l > 40 ? @l[-40 .. -1] : @l;
}

done_testing();
