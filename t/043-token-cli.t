# ttai token: a development JWT that /mcp accepts, printed alone so that
# $(ttai token) works in a curl command line.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(hmac_sha256);
use JSON::PP qw(decode_json);
use MIME::Base64 qw(decode_base64url encode_base64url);
use POSIX ();
use Test::More;
use Ttai::Util qw(repo_root scratch_dir write_file random_hex skip_or_fail);

my $root = repo_root();
my $ttai = "$root/build/ttai";

skip_or_fail("not built: run make") unless -x $ttai;

my $dir = scratch_dir('token-cli');
my $secret = random_hex(32);
my $env = "$dir/dev.vars";
write_file($env, "# test\nJWT_SECRET=$secret\n"
               . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n", 0600);

local $ENV{JWT_SECRET};
delete $ENV{JWT_SECRET};

# runs the CLI: (exit status, stdout, stderr)
sub ttai {
    my @cmd = ($ttai, @_);
    my $err = "$dir/stderr";
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>', $err or die "$err: $!";
        exec @cmd or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    my $rc = $? >> 8;
    open my $eh, '<', $err or die "$err: $!";
    my $errout = <$eh> // '';
    return ($rc, $out, $errout);
}

# the parts of a token, its signature checked with $key
sub parse {
    my ($token, $key) = @_;
    my ($h, $p, $s) = split /\./, $token;
    return {
        header => decode_json(decode_base64url($h)),
        payload => decode_json(decode_base64url($p)),
        valid => encode_base64url(hmac_sha256("$h.$p", $key)) eq $s,
    };
}

my ($rc, $out, $err) = ttai('token', '--env-file', $env);
is $rc, 0, 'ttai token exits 0' or diag $err;
like $out, qr/\A[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n\z/,
    'it prints only the token and a newline';
is $err, '', 'and nothing on stderr';

chomp $out;
my $t = parse($out, $secret);
ok $t->{valid}, 'HMAC-SHA256 under the bytes of JWT_SECRET verifies it';
ok !parse($out, pack('H*', $secret))->{valid},
    'the hex-decoded secret is not the key';
is $t->{header}{alg}, 'HS256', 'the algorithm is HS256';
is $t->{payload}{sub}, 'tt-account-123', 'the default sub';
is $t->{payload}{email}, 'test@example.com', 'the default email';
ok abs($t->{payload}{iat} - time) <= 5, 'iat is now';
is $t->{payload}{exp} - $t->{payload}{iat}, 86400, 'exp is 24h later';
ok !exists $t->{payload}{iss} && !exists $t->{payload}{aud},
    'no iss or aud unless asked for';

for my $case (['3600', 3600], ['90s', 90], ['30m', 1800], ['24h', 86400],
              ['7d', 604800], ['365d', 365 * 86400]) {
    ($rc, $out) = ttai('token', '--env-file', $env, '--ttl', $case->[0]);
    chomp $out;
    my $p = parse($out, $secret)->{payload};
    is $p->{exp} - $p->{iat}, $case->[1], "--ttl $case->[0]";
}

($rc, $out) = ttai('token', '--env-file', $env, '--sub', 'u-42', '--email',
                   'a@b.example', '--iss', 'https://ttai.example',
                   '--aud', 'https://ttai.example/mcp');
is $rc, 0, 'every option at once';
chomp $out;
$t = parse($out, $secret);
ok $t->{valid}, 'still signed';
is_deeply [ @{ $t->{payload} }{qw(sub email iss aud)} ],
    [ 'u-42', 'a@b.example', 'https://ttai.example',
      'https://ttai.example/mcp' ], 'sub, email, iss and aud as given';

($rc, $out) = ttai('token', '--env-file', $env, '--email', '');
chomp $out;
ok !exists parse($out, $secret)->{payload}{email}, '--email "" leaves it out';

{
    my $other = random_hex(32);
    local $ENV{JWT_SECRET} = $other;
    ($rc, $out) = ttai('token', '--env-file', $env);
    chomp $out;
    is $rc, 0, 'JWT_SECRET from the environment';
    ok parse($out, $other)->{valid}, 'wins over the env file';
}

my $cwd_token = do {
    require Cwd;
    my $here = Cwd::getcwd();
    chdir $dir or die "$dir: $!";
    rename $env, "$dir/.dev.vars";
    my @r = ttai('token');
    rename "$dir/.dev.vars", $env;
    chdir $here;
    \@r;
};
is $cwd_token->[0], 0, '.dev.vars in the current folder is the default';

write_file("$dir/bad.vars", "JWT_SECRET=not-hex-secret-value\n");
($rc, $out, $err) = ttai('token', '--env-file', "$dir/bad.vars");
is $rc, 1, 'a bad JWT_SECRET exits 1';
is $out, '', 'and prints no token';
like $err, qr/JWT_SECRET in \S*bad\.vars must be 64 hex characters/,
    'names the key and the file';
unlike $err, qr/not-hex-secret-value/, 'but not the value';

write_file("$dir/none.vars", "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n");
($rc, $out, $err) = ttai('token', '--env-file', "$dir/none.vars");
is $rc, 1, 'no JWT_SECRET exits 1';
like $err, qr/JWT_SECRET in \S*none\.vars is required but not set/,
    'and says it is missing';

($rc, $out, $err) = ttai('token', '--env-file', "$dir/missing.vars");
is $rc, 1, 'a missing env file exits 1';
like $err, qr/cannot read \S*missing\.vars, which holds JWT_SECRET/,
    'and says which file';

{
    local $ENV{JWT_SECRET} = 'short-env-secret';
    ($rc, $out, $err) = ttai('token', '--env-file', $env);
    is $rc, 1, 'a bad JWT_SECRET in the environment exits 1';
    like $err, qr/JWT_SECRET from the environment must be 64 hex/,
        'and says where it came from';
    unlike $err, qr/short-env-secret/, 'but not the value';
}

for my $bad (['--ttl', '0'], ['--ttl', '5x'], ['--ttl', '-3'],
             ['--ttl', 'h'], ['--ttl', '1hh'], ['--ttl', '366d'],
             ['--sub', ''], ['--sub', 'x' x 257], ['--iss', ''],
             ['--bogus'], ['extra'], ['--ttl']) {
    ($rc, $out, $err) = ttai('token', '--env-file', $env, @$bad);
    is $rc, 2, "usage error: @$bad";
    is $out, '', '  prints no token';
}
($rc, $out, $err) = ttai('token', '--ttl', 'soon');
like $err, qr/--ttl takes seconds, or a number with s, m, h or d/,
    'a bad --ttl says what it takes';

($rc, $out) = ttai('token', '--help');
is $rc, 0, '--help exits 0';
like $out, qr/--sub ID.*--email E.*--ttl T/s, '--help documents the claims';
like $out, qr/--iss URL.*--aud URL.*--env-file F/s, 'and the rest';

($rc, $out) = ttai('--help');
like $out, qr/^\s+token\s+mint a development JWT/m,
    'ttai --help lists the command';

done_testing;
