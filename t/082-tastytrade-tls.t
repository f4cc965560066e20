# conf/tastytrade/location.conf toward a TastyTrade that speaks TLS: the
# certificate is verified, for the name TastyTrade's certificate carries
# (sent as SNI), and a certificate for another name is refused.  The
# sandbox's name is served here by an nginx with a certificate from a
# test CA, in front of the mock API.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(repo_root scratch_dir read_file run_capture free_port
                  random_hex skip_or_fail wait_until);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_worker);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $dir = scratch_dir('tt-tls');

sub openssl {
    my ($rc, $out) = run_capture('openssl', @_);
    die "openssl @_: $out" if $rc;
}

# a CA, and two server certificates it signs
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
        '-subj', '/CN=ttai test CA', '-keyout', "$dir/ca.key",
        '-out', "$dir/ca.pem");
for my $name ('api.cert.tastyworks.com', 'wrong.example.com') {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', "/CN=$name",
            '-keyout', "$dir/$name.key", '-out', "$dir/$name.csr");
    open my $ext, '>', "$dir/$name.ext" or die $!;
    print {$ext} "subjectAltName=DNS:$name\n";
    close $ext;
    openssl('x509', '-req', '-in', "$dir/$name.csr", '-CA', "$dir/ca.pem",
            '-CAkey', "$dir/ca.key", '-CAcreateserial', '-days', '2',
            '-extfile', "$dir/$name.ext", '-out', "$dir/$name.pem");
}

# the production location file, trusting the test CA instead of the
# system's
(my $loc = read_file("$root/conf/tastytrade/location.conf"))
    =~ s{/etc/ssl/certs/ca-certificates\.crt}{$dir/ca.pem}
    or die 'location.conf names no trusted certificate';

my @servers;
END { tt_stop($_) for @servers }

for my $case ([ 'api.cert.tastyworks.com', 1 ], [ 'wrong.example.com', 0 ]) {
    my ($name, $good) = @$case;
    my $tls = free_port();
    my $sdir = scratch_dir("tt-tls-$good");
    my $srv = tt_server($sdir, tastytrade => 'sandbox', location => $loc,
        env => "JWT_SECRET=" . random_hex(32) . "\n"
               . "TOKEN_ENCRYPTION_KEY=" . random_hex(32) . "\n"
               . "TASTYTRADE_CLIENT_ID=ttai-test\n"
               . "TASTYTRADE_CLIENT_SECRET=" . random_hex(16) . "\n",
        upstream => sub { "server 127.0.0.1:$tls;" }, http => sub { <<"CONF" },
    log_format sni '\$ssl_server_name \$request_uri';
    server {
        listen 127.0.0.1:$tls ssl;
        ssl_certificate $dir/$name.pem;
        ssl_certificate_key $dir/$name.key;
        access_log $sdir/logs/tls.log sni;
        include $root/conf/mock/routes.conf;
    }
CONF
        ports => [ \$tls ]);
    push @servers, $srv;
    tt_connect($srv, 'tina');

    my ($st, $q, $raw) = tt_worker($srv, tt_jwt($srv, 'tina'),
                                   '/quotes/AAPL');
    if ($good) {
        is $st, 200, 'TLS to a certificate for api.cert.tastyworks.com '
                     . 'signed by a trusted CA: the call works' or diag $raw;
        is $q->{price}, 150, 'and answers the quote';
        # the mock writes its access log line after it has answered
        my $log = '';
        wait_until(5, sub {
            $log = -f "$sdir/logs/tls.log" ? read_file("$sdir/logs/tls.log")
                                          : '';
            $log =~ m{^api\.cert\.tastyworks\.com /market-data/}m;
        });
        like $log, qr{^api\.cert\.tastyworks\.com /oauth/token$}m,
            'the token request sent SNI api.cert.tastyworks.com';
        like $log, qr{^api\.cert\.tastyworks\.com /market-data/}m,
            'and so did the API request';
    } else {
        is $st, 502, 'a certificate for another name: the call fails';
        like $q->{error}, qr/could not be reached|did not answer/,
            'TastyTrade is reported unreachable';
        like read_file("$sdir/logs/error.log"),
            qr/upstream SSL certificate does not match|certificate verify failed/,
            'because the certificate did not verify';
    }
}

done_testing;
