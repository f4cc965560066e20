# ttai r2 object and ttai state reset, against an nginx started here.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(repo_root scratch_dir write_file read_file run_capture
                  dev_server stop_pid skip_or_fail);

my $root = repo_root();
my $ttai = "$root/build/ttai";

skip_or_fail("not built: run make")
    unless -x $ttai && -f "$root/build/nginx/ngx_http_ttai_module.so";

my $dir = scratch_dir('r2-cli');
my ($pid, $port) = dev_server($dir);
END { stop_pid($pid) if $pid }

$ENV{TTAI_DEV_URL} = "http://127.0.0.1:$port";

sub ttai { run_capture($ttai, @_) }

my $bin = join '', map { chr } 0 .. 255;
write_file("$dir/in.bin", $bin);
write_file("$dir/note.txt", "hello r2\n");

my ($rc, $out) = ttai(qw(r2 object put ttai-storage/test/file.txt --file),
                      "$dir/note.txt");
is $rc, 0, 'put exits 0';
like $out, qr/"key":"test\/file.txt","size":9,.*"content_type":"text\/plain"/,
    'put prints the metadata, with the type guessed from the name';

($rc, $out) = ttai(qw(r2 object put ttai-storage/bin/all-bytes
                      --content-type application/x-test --file), "$dir/in.bin");
is $rc, 0, 'a binary object is put';
ok -f "$dir/state/r2/ttai-storage/bin/all-bytes",
    'it is a file under state/r2/<bucket>/';

($rc, $out) = ttai(qw(r2 object get ttai-storage/bin/all-bytes));
is $rc, 0, 'get exits 0';
ok $out eq $bin, 'get prints the raw bytes, all 256 of them';

($rc, $out) = ttai(qw(r2 object get ttai-storage/test/file.txt --file),
                   "$dir/out.txt");
is $rc, 0, 'get --file exits 0';
is read_file("$dir/out.txt"), "hello r2\n", 'get --file writes the object';

($rc, $out) = ttai(qw(r2 object list ttai-storage));
is $rc, 0, 'list exits 0';
like $out, qr/^bin\/all-bytes\s+256\s/m, 'list shows the keys and sizes';
like $out, qr/^test\/file.txt\s+9\s/m, 'list shows every object';

($rc, $out) = ttai(qw(r2 object list ttai-storage --prefix test/ --json));
like $out, qr/^\{"objects":\[\{"key":"test\/file.txt".*\],"truncated":false\}$/,
    'list --prefix --json prints only matching objects as JSON';

($rc, $out) = ttai(qw(r2 object get ttai-storage/missing));
is $rc, 1, 'a missing object exits 1';
like $out, qr/^ttai: object "ttai-storage\/missing" not found$/m,
    'and says so';

($rc, $out) = ttai(qw(r2 object delete ttai-storage/test/file.txt));
is $rc, 0, 'delete exits 0';
($rc, $out) = ttai(qw(r2 object delete ttai-storage/test/file.txt));
is $rc, 1, 'deleting it again exits 1';

($rc, $out) = ttai(qw(r2 object put ttai-storage/x));
is $rc, 2, 'put without --file is a usage error';
($rc, $out) = ttai(qw(r2 object get nokey));
is $rc, 2, 'a name without a key is a usage error';
($rc, $out) = ttai(qw(r2 object frob a/b));
is $rc, 2, 'an unknown verb is a usage error';
($rc, $out) = ttai(qw(r2 object list ttai-storage --limit 0));
is $rc, 2, 'a bad --limit is a usage error';
($rc, $out) = ttai(qw(r2 --help));
is $rc, 0, '--help exits 0';
like $out, qr/Usage: ttai r2 object/, '--help prints the usage';
($rc, $out) = ttai(qw(r2 object put --help));
is $rc, 0, 'a verb has --help too';

($rc, $out) = ttai(qw(r2 object put ttai-storage/../../escape --file),
                   "$dir/note.txt");
is $rc, 1, 'a key that would leave the bucket is refused';
like $out, qr/ttai: put: the key has a "\." or "\.\." segment/,
    'with the reason';
ok !-e "$dir/state/escape" && !-e "$dir/escape", 'and nothing was written';

# -- state reset -------------------------------------------------------------

ok -d "$dir/state/r2/ttai-storage", 'there is R2 state';
{
    local $ENV{TTAI_DEV_URL} = "http://127.0.0.1:$port";
    chdir $dir or die;
    mkdir '.ttai';
    symlink "$dir/state", '.ttai/state';
    ($rc, $out) = ttai(qw(state reset --r2));
    chdir $root;
}
is $rc, 0, 'state reset --r2 exits 0';
ok !-e "$dir/state/r2/ttai-storage", 'the buckets are gone';
ok -d "$dir/state/r2", 'the r2 folder itself stays';

($rc, $out) = ttai(qw(state reset));
is $rc, 2, 'state reset with no store is a usage error';

stop_pid($pid);
$pid = 0;

($rc, $out) = ttai(qw(r2 object list ttai-storage));
is $rc, 1, 'with no server, the CLI exits 1';
like $out, qr/the dev server is not running on http:\/\/127.0.0.1:$port; start it with scripts\/dev.sh/,
    'and says what to do';

done_testing;
