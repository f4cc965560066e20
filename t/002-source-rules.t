# The rules the source tree keeps, checked on every run so that they
# cannot drift: the core never includes an nginx header, every C file
# keeps nginx's layout (80 columns, no tabs, no trailing blanks), every
# .c of the core lives in a folder of its concern, file name = symbol
# prefix in the shell, each fuzz target has its seeds, and each part of
# the build compiles the core once.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(repo_root run_capture skip_or_fail);

my $root = repo_root();

skip_or_fail('git is needed to list the sources')
    unless -d "$root/.git" || -f "$root/.git";

my ($rc, $out) = run_capture('git', '-C', $root, 'ls-files',
                             '*.c', '*.h');
is $rc, 0, 'git lists the C sources';
my @files = grep { length } split /\n/, $out;
ok scalar(@files) > 50, 'the C sources are listed (' . @files . ')';

my @core = grep { m{^shared/} } @files;
ok scalar(@core) > 20, 'the core has its files (' . @core . ')';

sub read_lines {
    my ($f) = @_;
    open my $fh, '<', "$root/$f" or die "$f: $!";
    my @l = <$fh>;
    close $fh;
    return @l;
}

# -- the core is plain C -------------------------------------------------------

my @nginx_in_core;
for my $f (@core) {
    my $n = 0;
    for my $line (read_lines($f)) {
        $n++;
        push @nginx_in_core, "$f:$n"
            if $line =~ /^\s*#\s*include\s*[<"](ngx_|nginx)/;
    }
}
is_deeply \@nginx_in_core, [], 'no file of shared/ includes an nginx header';

my @flat = grep { m{^shared/[^/]+\.[ch]$} } @core;
is_deeply \@flat, [],
    'every file of shared/ lives in the folder of its concern';

my %concerns = map { $_ => 1 } qw(core store mcp monitor oauth tastytrade
                                  tools llm);
my @stray = grep { m{^shared/([^/]+)/} && !$concerns{$1} } @core;
is_deeply \@stray, [],
    'shared/ has only its named folders (README "Architecture")';

# -- what blocks runs on the thread pool ----------------------------------------

# the shell reaches SQLite only through the D1 files: the bridge that
# posts statements to the thread pool, and the life cycle that migrates
# at configuration time
my @sqlite_in_shell;
for my $f (grep { m{^ngx_ttai_module/.*\.c$} } @files) {
    next if $f =~ m{/ngx_http_ttai_d1(_query)?\.c$};
    my $n = 0;
    for my $line (read_lines($f)) {
        $n++;
        push @sqlite_in_shell, "$f:$n"
            if $line =~ /\b(sqlite3_\w+|ttai_d1_(batch|open\w*|exec\w*|query|transaction|close)|
                           ttai_migrate_\w+)\s*\(/x;
    }
}
is_deeply \@sqlite_in_shell, [],
    'the shell calls SQLite only from the D1 bridge and life cycle';

my @opens = grep { $_ ne 'shared/store/ttai_d1.c' }
            map { $_->[0] }
            grep { grep { /\bsqlite3_open/ } read_lines($_->[0]) }
            map { [$_] } grep { /\.c$/ } @files;
is_deeply \@opens, [], 'only ttai_d1.c opens a database';

# -- nginx's layout ------------------------------------------------------------

my (@long, @tabs, @trailing);
for my $f (@files) {
    my $n = 0;
    for my $line (read_lines($f)) {
        $n++;
        chomp $line;
        push @long, "$f:$n" if length($line) > 80;
        push @tabs, "$f:$n" if $line =~ /\t/;
        push @trailing, "$f:$n" if $line =~ /\s$/;
    }
}
is_deeply \@long, [], 'no C line is longer than 80 columns';
is_deeply \@tabs, [], 'no C line has a tab';
is_deeply \@trailing, [], 'no C line ends in blanks';

# -- file name = module = prefix in the shell ---------------------------------

my @modules;
for my $f (grep { m{^ngx_ttai_module/.*\.c$} } @files) {
    for my $line (read_lines($f)) {
        push @modules, [$f, $1] if $line =~ /^ngx_module_t\s+(\w+)\s*=/;
    }
}
ok scalar(@modules) >= 2, 'the shell defines its modules';
for my $m (@modules) {
    my ($f, $name) = @$m;
    (my $expect = $name) =~ s/_module$//;
    like $f, qr{^ngx_ttai_module/\Q$expect\E(_module)?\.c$},
        "module $name is defined in the file of its name";
}

# -- the fuzz targets --------------------------------------------------------------

# t/fuzz/fuzz_<name>.c is target <name>, which links the core alone and
# has its seeds in t/fuzz/corpus/<name>/; nothing else is there
my @fuzz = grep { m{^t/fuzz/} } @files;
my %targets = map { m{^t/fuzz/fuzz_(\w+)\.c$} ? ($1 => 1) : () } @fuzz;
ok scalar(keys %targets) > 0, 'the fuzz targets are listed ('
    . scalar(keys %targets) . ')';

my @odd = grep { !m{^t/fuzz/fuzz(_\w+)?\.[ch]$} } @fuzz;
is_deeply \@odd, [], 't/fuzz/ holds fuzz_<name>.c targets and their headers';

my @nginx_in_fuzz;
for my $f (@fuzz) {
    my $n = 0;
    for my $line (read_lines($f)) {
        $n++;
        push @nginx_in_fuzz, "$f:$n"
            if $line =~ /^\s*#\s*include\s*[<"](ngx_|nginx)/;
    }
}
is_deeply \@nginx_in_fuzz, [], 'no fuzz target includes an nginx header';

my @no_seeds = grep { !-d "$root/t/fuzz/corpus/$_" } sort keys %targets;
is_deeply \@no_seeds, [], 'every fuzz target has its seed corpus';

opendir my $cd, "$root/t/fuzz/corpus" or die "t/fuzz/corpus: $!";
my @orphans = sort grep { !/^\./ && !$targets{$_} } readdir $cd;
closedir $cd;
is_deeply \@orphans, [], 'every seed corpus has its fuzz target';

# -- the core is compiled once --------------------------------------------------

my $config = do { local $/; open my $fh, '<', "$root/config" or die $!; <$fh> };
unlike $config, qr{shared/\*\.c|shared/\*/\*\.c},
    'config compiles no file of the core: the module links libttai.a';
like $config, qr{libttai\.a}, 'config links the core archive';

done_testing();
