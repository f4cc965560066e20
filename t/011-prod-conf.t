# conf/prod.conf, with its placeholder paths pointed at a scratch folder
# and a self-signed certificate made here, passes "nginx -t", and then
# serves: HTTP redirects to HTTPS, and HTTPS answers with HSTS.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX qw(WNOHANG);
use Test::More;
use Ttai::Util qw(repo_root scratch_dir free_port write_file read_file
                  random_hex run_capture wait_until start_nginx
                  skip_or_fail);

my $root = repo_root();
my $so = "$root/build/nginx/ngx_http_ttai_module.so";
my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';

skip_or_fail("module not built: run make") unless -f $so;

my $dir = scratch_dir('prod');
my ($p80, $p443, $pw, $pt) = (free_port(), free_port(), free_port(),
                              free_port());

my ($rc, $out) = run_capture('openssl', 'req', '-x509', '-newkey', 'rsa:2048',
    '-nodes', '-days', '2', '-subj', '/CN=mcp.example.com',
    '-keyout', "$dir/privkey.pem", '-out', "$dir/fullchain.pem");
is $rc, 0, 'a self-signed certificate is generated' or diag $out;

write_file("$dir/ttai.env", "JWT_SECRET=" . random_hex(32) . "\n"
                          . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n",
           0600);

my $conf = read_file("$root/conf/prod.conf");
my $user = $> == 0 ? 'user root;' : '';
my %subst = (
    '/usr/lib/nginx/modules/ngx_http_ttai_module.so' => $so,
    '/etc/ttai/ttai.env'             => "$dir/ttai.env",
    '/var/lib/ttai/state'            => "$dir/state",
    '/usr/share/ttai/migrations'     => "$root/migrations",
    '/etc/ssl/ttai/fullchain.pem'    => "$dir/fullchain.pem",
    '/etc/ssl/ttai/privkey.pem'      => "$dir/privkey.pem",
    '/run/ttai.pid'                  => "$dir/nginx.pid",
    '/var/log/nginx/ttai-error.log'  => "$dir/error.log",
    '/var/log/nginx/ttai-access.log' => "$dir/access.log",
);
my $n = 0;
for my $from (keys %subst) {
    $n += ($conf =~ s/\Q$from\E/$subst{$from}/g);
}
$n += ($conf =~ s/^user www-data;/$user/m);
$n += ($conf =~ s/^http \{/http {\n    client_body_temp_path $dir\/tmp;/m);
# no DNS here: TastyTrade production becomes the mock's upstream block, on
# a port where nothing listens; the includes are found in the repository
$n += ($conf =~ s{include tastytrade/production\.conf;}
                 {ttai_tastytrade production;
    upstream ttai_tastytrade { server 127.0.0.1:$pt; }});
$n += ($conf =~ s{include tastytrade/location\.conf;}
                 {include $root/conf/tastytrade/location.conf;}g);
$n += ($conf =~ s{include oauth/client-metadata\.conf;}
                 {include $root/conf/oauth/client-metadata.conf;}g);
$n += ($conf =~ s{include monitor/webhook\.conf;}
                 {include $root/conf/monitor/webhook.conf;}g);
my $template = $conf;

# the listening ports, again when one was taken after all
sub write_conf {
    $conf = $template;
    my $k = 0;
    $k += ($conf =~ s/listen 80;/listen 127.0.0.1:$p80;/);
    $k += ($conf =~ s/listen 443 ssl http2;/listen 127.0.0.1:$p443 ssl http2;/);
    $k += ($conf =~ s/listen 127\.0\.0\.1:8788;/listen 127.0.0.1:$pw;/);
    write_file("$dir/prod.conf", $conf);
    return $k;
}

$n += write_conf();
is $n, scalar(keys %subst) + 10, 'every placeholder of prod.conf was found';
(my $directives = $conf) =~ s/#.*$//mg;
unlike $directives, qr{(?<![\w.])/(etc|var|run|usr)/},
    'no system path is left';

($rc, $out) = run_capture($nginx, '-t', '-p', "$dir/", '-c', "$dir/prod.conf");
is $rc, 0, 'nginx -t accepts conf/prod.conf' or diag $out;
like $out, qr/test is successful/, 'nginx -t: test is successful';

sub curl {
    my (@args) = @_;
    my ($rc, $out) = run_capture('curl', '-sk', '--max-time', '3',
                                 '-D', '-', @args);
    return $out;
}

my $pid = eval {
    start_nginx(dir => $dir, conf => "$dir/prod.conf",
                args => [ '-g', 'daemon off;' ],
                out => "$dir/stdout.log", error_log => "$dir/error.log",
                pid_file => "$dir/nginx.pid",
                ready => sub {
                    curl("https://127.0.0.1:$p443/health") =~ /^HTTP/
                },
                ports => [ \$p80, \$p443, \$pw ], write => \&write_conf);
};
diag $@ unless $pid;
END { local $?; Ttai::Util::stop_pid($pid, 5) if $pid && kill(0, $pid) }

ok $pid, 'the production server starts';

my $r = curl('-H', 'Host: mcp.example.com', "http://127.0.0.1:$p80/mcp?x=1");
like $r, qr{^HTTP/1.1 301}, 'HTTP answers with a redirect';
like $r, qr{^Location: https://mcp.example.com/mcp\?x=1\r?$}mi,
    'the redirect goes to the same URL over HTTPS';

$r = curl("https://127.0.0.1:$p443/health");
like $r, qr{^HTTP/\S+ 200}, 'HTTPS /health answers 200';
like $r, qr{^Strict-Transport-Security: max-age=63072000; includeSubDomains}mi,
    'HTTPS responses carry HSTS';
like $r, qr{"status":"healthy".*"environment":"production"},
    '/health is healthy, in production';
like $r, qr{"d1":\{"status":"ok","schema_version":[1-9]},
    'the database was migrated at load';

$r = curl('-X', 'POST', '-H', 'Host: mcp.example.com',
          "https://127.0.0.1:$p443/mcp");
like $r, qr{^HTTP/\S+ 401}, 'HTTPS /mcp without credentials answers 401';
like $r, qr{^WWW-Authenticate: Bearer resource_metadata="https://mcp.example.com/\.well-known/oauth-protected-resource/mcp"\r?$}mi,
    'the 401 points at the metadata over HTTPS, as the client sees it';

$r = curl('-H', 'Host: mcp.example.com',
          "https://127.0.0.1:$p443/.well-known/oauth-protected-resource/mcp");
like $r, qr{"resource":"https://mcp.example.com/mcp"},
    'behind TLS the resource is the https /mcp URL the client uses';
like $r, qr{^Strict-Transport-Security:}mi, 'HSTS is sent on errors too';

$r = curl("https://127.0.0.1:$p443/_ttai/r2/ttai-storage");
like $r, qr{^HTTP/\S+ 404}, 'the admin API does not exist in production';

$r = curl("http://127.0.0.1:$pw/health");
like $r, qr{"service":"worker"}, 'the worker service answers on loopback';

kill 'QUIT', $pid;
my $gone = wait_until(10, sub { waitpid($pid, WNOHANG) == $pid });
unless ($gone) {
    kill 'KILL', $pid;
    waitpid $pid, 0;
}
ok $gone, 'the production server stops on SIGQUIT';

done_testing;
