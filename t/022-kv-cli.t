# ttai kv key list|get|put|delete against an nginx started here, through
# TTAI_DEV_URL: exact output, exit codes, usage errors and help.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;
use Ttai::Util qw(repo_root scratch_dir free_port write_file read_file
                  random_hex http_get start_nginx skip_or_fail closed_port);

my $root = repo_root();
my $so = "$root/build/nginx/ngx_http_ttai_module.so";
my $ttai = "$root/build/ttai";

skip_or_fail("module or CLI not built: run make")
    unless -f $so && -x $ttai;

my $dir = scratch_dir('kv-cli');
my $port = free_port();

# bytes in, bytes out: keys compare with the byte strings written here
my $json = JSON::PP->new;
my $user = $> == 0 ? 'user root;' : '';

write_file("$dir/dev.vars", "JWT_SECRET=" . random_hex(32) . "\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);

sub write_conf {
    write_file("$dir/nginx.conf", <<"CONF");
load_module $so;
$user
master_process off;
error_log $dir/error.log info;
pid $dir/nginx.pid;

events {
}

http {
    access_log off;
    client_body_temp_path $dir/tmp;

    ttai_environment development;
    ttai_env_file $dir/dev.vars;
    ttai_state_dir $dir/state;
    ttai_kv_zone kv 4m snapshot=off;

    server {
        listen 127.0.0.1:$port;

        location /_ttai/ {
            ttai_admin;
            client_max_body_size 2m;
            client_body_buffer_size 2m;
        }
    }
}
CONF
}

write_conf();
my $pid = eval {
    start_nginx(dir => $dir, conf => "$dir/nginx.conf",
                args => [ '-e', "$dir/error.log", '-g', 'daemon off;' ],
                out => "$dir/stdout.log", error_log => "$dir/error.log",
                pid_file => "$dir/nginx.pid",
                ready => sub {
                    (http_get($port, '/_ttai/kv/keys'))[0] == 200
                },
                ports => [ \$port ], write => \&write_conf);
};
diag $@ if $@;

END {
    if ($pid) {
        kill 'QUIT', $pid;
        waitpid $pid, 0;
    }
}

ok $pid, 'the server answers';
my $url = "http://127.0.0.1:$port";

# runs ttai; returns (exit status, stdout, stderr), byte for byte
my $n = 0;
sub ttai {
    my ($opt, @args) = ref $_[0] eq 'HASH' ? @_ : ({}, @_);
    $n++;
    my ($out, $err) = ("$dir/out.$n", "$dir/err.$n");
    my $child = fork // die "fork: $!";
    if ($child == 0) {
        $ENV{TTAI_DEV_URL} = $opt->{url} // $url;
        open STDIN, '<', $opt->{stdin} // '/dev/null' or POSIX::_exit(126);
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>', $err or POSIX::_exit(126);
        exec($ttai, @args) or POSIX::_exit(127);
    }
    waitpid $child, 0;
    my $rc = $? >> 8;
    return ($rc, map { local $/; open my $fh, '<:raw', $_ or die;
                       scalar(<$fh>) // '' } $out, $err);
}

my ($rc, $out, $err);

# --- put and get ------------------------------------------------------------

my $quote = '{"symbol":"AAPL","price":150.00}';
($rc, $out, $err) = ttai(qw(kv key put quote:AAPL), $quote, '--ttl', '60',
                         '--metadata', '{"source": "tastytrade"}');
is $rc, 0, 'put exits 0';
is $out, "Wrote 32 bytes to key \"quote:AAPL\".\n", 'put says what it wrote';
is $err, '', 'put writes nothing on stderr';

($rc, $out, $err) = ttai(qw(kv key get quote:AAPL));
is $rc, 0, 'get exits 0';
is $out, $quote, 'get prints the value exactly, with no newline';
is $err, '', 'get writes nothing on stderr';

my $bytes = join '', map { chr } 0 .. 255;
write_file("$dir/binary", "$bytes\n\n");
($rc) = ttai(qw(kv key put bin --path), "$dir/binary");
is $rc, 0, 'put --path FILE exits 0';
($rc, $out) = ttai(qw(kv key get bin));
is $out, "$bytes\n\n", 'a binary value with NULs and newlines reads back';

write_file("$dir/stdin", "from standard input\n");
($rc) = ttai({ stdin => "$dir/stdin" }, qw(kv key put piped --path -));
is $rc, 0, 'put --path - reads stdin';
is((ttai(qw(kv key get piped)))[1], "from standard input\n",
   'the value from stdin reads back');

($rc) = ttai(qw(kv key put), 'dir/a b?c&d=%20#é', "trailing newline\n");
is $rc, 0, 'a key with reserved characters is stored';
is((ttai(qw(kv key get), 'dir/a b?c&d=%20#é'))[1], "trailing newline\n",
   'and reads back, the value too');

($rc) = ttai(qw(kv key put empty), '');
is $rc, 0, 'an empty value is stored';
($rc, $out, $err) = ttai(qw(kv key get empty));
is_deeply [$rc, $out, $err], [0, '', ''], 'and reads back empty';

($rc) = ttai(qw(kv key put --ttl=5 --metadata=7 -- -dash), 'v');
is $rc, 0, 'options with "=", and "--" before a key that starts with "-"';

# the limit counts the compact form, as the server stores it
($rc, $out, $err) = ttai(qw(kv key put spaced v --metadata),
                         '{' . (' ' x 1100) . '"a": [1, 2]}');
is $rc, 0, 'metadata over 1024 bytes that is smaller compact is stored';
($rc, $out, $err) = ttai(qw(kv key list --prefix spaced));
is_deeply $json->decode($out)->[0]{metadata}, { a => [1, 2] },
    'and reads back';
($rc) = ttai(qw(kv key delete spaced));
is $rc, 0, 'and is deleted';

# --- list ---------------------------------------------------------------

($rc, $out, $err) = ttai(qw(kv key list));
is $rc, 0, 'list exits 0';
is $err, '', 'a complete list writes nothing on stderr';
my $keys = eval { $json->decode($out) };
is_deeply [ map { $_->{name} } @$keys ],
          ['-dash', 'bin', 'dir/a b?c&d=%20#é', 'empty', 'piped',
           'quote:AAPL'],
          'list prints every key as a JSON array, in byte order';
my ($q) = grep { $_->{name} eq 'quote:AAPL' } @$keys;
is_deeply $q->{metadata}, { source => 'tastytrade' }, 'with the metadata';
like $q->{expiration}, qr/^\d{10}$/, 'and the expiration';
like $out, qr/^\[\n  \{\n    "name": "-dash",/, 'indented as wrangler does';

($rc, $out, $err) = ttai(qw(kv key list --prefix qu));
is_deeply [ map { $_->{name} } @{ $json->decode($out) } ], ['quote:AAPL'],
    'list --prefix';

($rc, $out, $err) = ttai(qw(kv key list --limit 2));
is_deeply [ map { $_->{name} } @{ $json->decode($out) } ], ['-dash', 'bin'],
    'list --limit 2 prints two keys';
is $err, "ttai: more keys follow; continue with: --cursor bin\n",
    'and the cursor on stderr';

($rc, $out, $err) = ttai(qw(kv key list --limit 2 --cursor bin));
is_deeply [ map { $_->{name} } @{ $json->decode($out) } ],
          ['dir/a b?c&d=%20#é', 'empty'], 'list --cursor continues';

# --- delete and missing keys ----------------------------------------------

($rc, $out, $err) = ttai(qw(kv key delete bin));
is $rc, 0, 'delete exits 0';
is $out, "Deleted key \"bin\".\n", 'delete says so';

($rc, $out, $err) = ttai(qw(kv key get bin));
is $rc, 1, 'get of a missing key exits 1';
is $out, '', 'and prints nothing on stdout';
is $err, "ttai: key \"bin\" not found\n", 'and says so on stderr';

($rc, $out, $err) = ttai(qw(kv key delete bin));
is $rc, 1, 'delete of a missing key exits 1';
is $err, "ttai: key \"bin\" not found\n", 'and says so';

($rc, $out, $err) = ttai(qw(kv key put), 'k' x 513, 'v');
is $rc, 1, 'a refused put exits 1';
is $err, "ttai: storing the key: the key has 513 bytes; the limit is 512 "
         . "bytes (HTTP 413)\n", 'with the server\'s reason';

# --- usage ----------------------------------------------------------------

for my $args (['kv'], ['kv', 'key'], ['kv', 'nope'], [qw(kv key nope)],
              [qw(kv key get)], [qw(kv key get a b)], [qw(kv key delete)],
              [qw(kv key list extra)], [qw(kv key list --limit)],
              [qw(kv key list --limit 0)], [qw(kv key list --limit 1001)],
              [qw(kv key list --limit abc)], [qw(kv key list --bogus)],
              [qw(kv key put k)], [qw(kv key put k v --path /dev/null)],
              [qw(kv key put k v --ttl 0)], [qw(kv key put k v --ttl 1.5)],
              [qw(kv key put k v --metadata {bad)],
              [qw(kv key put k v --metadata), '"' . ('a' x 1023) . '"'])
{
    ($rc, $out, $err) = ttai(@$args);
    is $rc, 2, "ttai @$args: usage error, exit 2";
    like $err, qr/^(ttai: |Usage: )/, "ttai @$args: says why on stderr";
    is $out, '', "ttai @$args: nothing on stdout";
}

is((ttai(qw(kv key get k)))[0], 1, 'the usage errors stored nothing');

for my $args (['kv', '--help'], [qw(kv key --help)], [qw(kv key list -h)],
              [qw(kv key get --help)], [qw(kv key put k v --help)],
              [qw(kv key delete --help)])
{
    ($rc, $out, $err) = ttai(@$args);
    is $rc, 0, "ttai @$args: exit 0";
    like $out, qr/^Usage: ttai kv key/, "ttai @$args: usage on stdout";
}
like((ttai(qw(kv key put --help)))[1], qr/--path FILE .*--ttl SECONDS .*--metadata JSON/s,
     'put --help names its options');

# --- no server -----------------------------------------------------------

my $free = closed_port();
($rc, $out, $err) = ttai({ url => "http://127.0.0.1:$free" },
                         qw(kv key get quote:AAPL));
is $rc, 1, 'without a server: exit 1';
is $err, "ttai: the dev server is not running on http://127.0.0.1:$free; "
         . "start it with scripts/dev.sh (or set TTAI_DEV_URL)\n",
    'and it says how to start it';
is $out, '', 'nothing on stdout';

done_testing;
