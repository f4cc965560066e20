# ttai vectorize, wrangler's verbs on the D1 file: an index made, filled
# from NDJSON (500 a transaction, a bad line stopping it with what came
# before kept), described, queried by each metric with filters and
# namespaces, and deleted with its vectors; every mistake a usage error
# that says what to do.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Ttai::Util qw(repo_root scratch_dir run_capture write_file skip_or_fail);

my $root = repo_root();
skip_or_fail('not built: run make') unless -x "$root/build/ttai";

my $dir = scratch_dir('vectorize');
my $db = "$dir/db.sqlite";
my $JSON = JSON::PP->new->canonical;

sub ttai { run_capture("$root/build/ttai", @_) }
sub vz { ttai('vectorize', @_, '--db', $db) }

my ($rc, $out) = ttai('d1', 'migrations', 'apply', '--db', $db,
                      '--migrations', "$root/migrations");
is $rc, 0, 'the migrations apply' or diag $out;

($rc, $out) = vz('create', 'notes', '--dimensions', 4);
is $rc, 0, 'create' or diag $out;
like $out, qr/created index notes: 4 dimensions, cosine/, 'says what it made';

($rc, $out) = vz('create', 'notes', '--dimensions', 4);
is $rc, 1, 'the same name again fails';
($rc, $out) = vz('create', 'Bad', '--dimensions', 4);
is $rc, 2, 'a bad name is a usage error';
like $out, qr/an index name is 1 to 64 of a-z/, 'saying what a name is';
($rc, $out) = vz('create', 'x', '--dimensions', 4, '--metric', 'manhattan');
like $out, qr/cosine, dot-product or euclidean/, 'and what the metrics are';
($rc, $out) = vz('create', 'x');
is $rc, 2, 'create without --dimensions is a usage error';

# 1,201 vectors: three transactions; the ids v0 .. v1200, v7 nearest
my @lines;
for my $i (0 .. 1200) {
    my @v = map { sin($i * 7 + $_) } 0 .. 3;
    push @lines, $JSON->encode({ id => "v$i", values => \@v,
                                 namespace => $i % 2 ? 'odd' : 'even',
                                 metadata => { i => $i, kind =>
                                     $i % 3 ? 'plain' : 'third' } });
}
write_file("$dir/v.ndjson", join("\n", @lines) . "\n");
($rc, $out) = vz('insert', 'notes', '--file', "$dir/v.ndjson");
is $rc, 0, 'insert' or diag $out;
like $out, qr/1201 vectors inserted into notes/, 'counts what it inserted';
like $out, qr/1000 vectors\.\.\./, 'and shows its progress';

($rc, $out) = vz('info', 'notes');
is((eval { $JSON->decode($out) } // {})->{vector_count}, 1201,
   'info counts them');

my @q = map { sin(7 * 7 + $_) } 0 .. 3;
($rc, $out) = vz('query', 'notes', '--vector', $JSON->encode(\@q),
                  '--top-k', 3, '--return-metadata');
my $r = eval { $JSON->decode($out) } // {};
is $r->{count}, 3, 'query: the top 3';
is $r->{matches}[0]{id}, 'v7', 'the vector itself first';
ok abs($r->{matches}[0]{score} - 1) < 1e-5, 'with a cosine of 1';
is $r->{matches}[0]{metadata}{i}, 7, 'and its metadata';
ok $r->{matches}[0]{score} >= $r->{matches}[1]{score}
   && $r->{matches}[1]{score} >= $r->{matches}[2]{score}, 'best first';

($rc, $out) = vz('query', 'notes', '--vector', $JSON->encode(\@q),
                  '--top-k', 50, '--namespace', 'even',
                  '--filter', '{"kind":"third","i":{"$lt":600}}',
                  '--return-metadata');
$r = eval { $JSON->decode($out) } // {};
ok $r->{count} > 0, 'a namespace and a filter: matches';
ok !(grep { $_->{namespace} ne 'even' || $_->{metadata}{kind} ne 'third'
            || $_->{metadata}{i} >= 600 } @{ $r->{matches} }),
    'all of them in the namespace and passing the filter';

($rc, $out) = vz('query', 'notes', '--vector', '[1,2]');
is $rc, 2, 'a query of other dimensions is a usage error';
like $out, qr/the vector has 2 values, and the index 4 dimensions/,
    'saying so';
($rc, $out) = vz('query', 'notes', '--vector', '[1,2,3,4]',
                  '--filter', '{"i":{"$regex":"x"}}');
like $out, qr/the operators are/, 'an unknown filter operator is named';
($rc, $out) = vz('query', 'nothing', '--vector', '[1,2,3,4]');
is $rc, 1, 'an index that is not there fails';
like $out, qr/no index "nothing"/, 'saying so';

# a bad line: what came before it is kept
write_file("$dir/bad.ndjson", join("\n",
    '{"id":"w1","values":[1,0,0,0]}', '{"id":"w2","values":[1,0]}') . "\n");
($rc, $out) = vz('insert', 'notes', '--file', "$dir/bad.ndjson");
is $rc, 1, 'a vector of other dimensions fails the insert';
like $out, qr/dimensions are not the index's/, 'saying why';
($rc, $out) = vz('info', 'notes');
is((eval { $JSON->decode($out) } // {})->{vector_count}, 1201,
   'and nothing of its transaction was inserted');

($rc, $out) = vz('delete', 'notes');
is $rc, 0, 'delete' or diag $out;
($rc, $out) = run_capture('sqlite3', $db, 'SELECT count(*) FROM vectors');
is $out + 0, 0, 'its vectors went with it';

($rc, $out) = ttai('vectorize', '--help');
is $rc, 0, '--help';
like $out, qr/Usage: ttai vectorize create NAME --dimensions N/, 'shows the verbs';
($rc, $out) = ttai('vectorize', 'frobnicate', 'x', '--db', $db);
is $rc, 2, 'an unknown verb is a usage error';

done_testing;
