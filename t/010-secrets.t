# Secrets are checked when nginx loads its configuration: a bad
# JWT_SECRET or TOKEN_ENCRYPTION_KEY makes "nginx -t" fail with the file,
# the line and the key named, and the value never printed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(repo_root scratch_dir free_port write_file random_hex
                  run_capture skip_or_fail);

my $root = repo_root();
my $so = "$root/build/nginx/ngx_http_ttai_module.so";
my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';

skip_or_fail("module not built: run make") unless -f $so;

my $dir = scratch_dir('secrets');
my $good_jwt = random_hex(32);
my $good_key = random_hex(32);

# writes the env file and a config around it, runs nginx -t
sub nginx_t {
    my (%a) = @_;
    write_file("$dir/test.env", $a{env}, 0600) if defined $a{env};
    local %ENV = (%ENV, %{ $a{environ} // {} });
    return Ttai::Util::nginx_t($dir,
        main => $a{main},
        http => defined $a{env} ? "ttai_env_file $dir/test.env;" : '',
        server => 'location = /health { ttai_health; }');
}

my ($rc, $out);

($rc, $out) = nginx_t(env => "JWT_SECRET=$good_jwt\n"
                           . "TOKEN_ENCRYPTION_KEY=$good_key\n");
is $rc, 0, 'valid secrets: nginx -t succeeds';
like $out, qr/test is successful/, 'valid secrets: test is successful';
unlike $out, qr/\Q$good_jwt\E|\Q$good_key\E/,
    'valid secrets: no value in the output at debug level';

my $bad = 'not-hex-but-a-secret-' . random_hex(8);
($rc, $out) = nginx_t(env => "# secrets\n\nJWT_SECRET=$bad\n"
                           . "TOKEN_ENCRYPTION_KEY=$good_key\n");
isnt $rc, 0, 'invalid JWT_SECRET: nginx -t fails';
like $out, qr/JWT_SECRET in "\Q$dir\E\/test.env" line 3 must be 64 hex/,
    'invalid JWT_SECRET: names the key, the file and the line';
unlike $out, qr/\Q$bad\E/, 'invalid JWT_SECRET: the value is not printed';
like $out, qr/test failed/, 'invalid JWT_SECRET: test failed';

my $short = substr(random_hex(32), 0, 62);
($rc, $out) = nginx_t(env => "JWT_SECRET=$good_jwt\n"
                           . "TOKEN_ENCRYPTION_KEY=\"$short\"\n");
isnt $rc, 0, 'short TOKEN_ENCRYPTION_KEY: nginx -t fails';
like $out, qr/TOKEN_ENCRYPTION_KEY in "[^"]+" line 2 must be 64 hex/,
    'short TOKEN_ENCRYPTION_KEY: names the key and line';
unlike $out, qr/\Q$short\E/, 'short TOKEN_ENCRYPTION_KEY: value not printed';

($rc, $out) = nginx_t(env => "JWT_SECRET=$good_jwt\n");
isnt $rc, 0, 'missing TOKEN_ENCRYPTION_KEY: nginx -t fails';
like $out, qr/TOKEN_ENCRYPTION_KEY is required but not set/,
    'missing TOKEN_ENCRYPTION_KEY: says it is required';

($rc, $out) = nginx_t(env => "JWT_SECRET=$good_jwt\nthis line $bad\n");
isnt $rc, 0, 'malformed line: nginx -t fails';
like $out, qr/test.env:2: expected '=' after this/,
    'malformed line: names the file and line';
unlike $out, qr/\Q$bad\E/, 'malformed line: the text is not printed';

# nginx's env directive wins over the file
($rc, $out) = nginx_t(env => "JWT_SECRET=$bad\nTOKEN_ENCRYPTION_KEY=$good_key\n",
                      main => "env JWT_SECRET=$good_jwt;");
is $rc, 0, 'env JWT_SECRET=value; overrides a bad value in the file';

($rc, $out) = nginx_t(env => "TOKEN_ENCRYPTION_KEY=$good_key\n",
                      main => "env JWT_SECRET;",
                      environ => { JWT_SECRET => $good_jwt });
is $rc, 0, 'env JWT_SECRET; takes the value from the environment';

($rc, $out) = nginx_t(env => "TOKEN_ENCRYPTION_KEY=$good_key\n",
                      main => "env JWT_SECRET;",
                      environ => { JWT_SECRET => $bad });
isnt $rc, 0, 'a bad JWT_SECRET from the environment fails';
like $out, qr/JWT_SECRET from the "env" directive must be 64 hex/,
    'a bad JWT_SECRET from the environment names its source';
unlike $out, qr/\Q$bad\E/, 'a bad JWT_SECRET from the environment: no value';

# without "env", the process environment is not consulted
($rc, $out) = nginx_t(env => "TOKEN_ENCRYPTION_KEY=$good_key\n",
                      environ => { JWT_SECRET => $good_jwt });
isnt $rc, 0, 'the environment is ignored unless named by "env"';

($rc, $out) = nginx_t();
isnt $rc, 0, 'no env file and no env: nginx -t fails';
like $out, qr/JWT_SECRET is required but not set: name an env file/,
    'no env file: says how to provide the secret';

write_file("$dir/nginx.conf", <<"CONF");
load_module $so;
error_log stderr;
pid $dir/nginx.pid;
events { }
http { ttai_env_file $dir/missing.env; }
CONF
($rc, $out) = run_capture($nginx, '-t', '-p', "$dir/", '-c', "$dir/nginx.conf");
isnt $rc, 0, 'a missing env file fails';
like $out, qr/cannot open env file "\Q$dir\E\/missing.env"/,
    'a missing env file is named';

done_testing;
