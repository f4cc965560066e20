# The market-data feed over TLS (wss://), through nginx's own TLS: the
# server's certificate is verified against ttai_dxlink_trusted_certificate
# for the URL's host (sent as SNI).  The DXLink mock is served here behind
# an nginx TLS front with certificates of a test CA: one for the host, one
# for another name, and one of a CA nobody trusts; only the first opens.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Ttai::Util qw(repo_root scratch_dir read_file run_capture free_port
                  wait_until skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_call);
use Ttai::DXLink qw(dx_conf dx_mock_start dx_mock_stop dx_mock dx_feed
                    dx_ready);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('node_modules is missing: run scripts/npm-setup')
    unless -d "$root/node_modules/ws";

my $dir = scratch_dir('dxlink-tls');

sub openssl {
    my ($rc, $out) = run_capture('openssl', @_);
    die "openssl @_: $out" if $rc;
}

# two CAs, the second trusted by nobody; certificates for the host the
# URL names (127.0.0.1, as a name) and for another one
for my $ca ('ca', 'rogue-ca') {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
            '-subj', "/CN=ttai test $ca", '-keyout', "$dir/$ca.key",
            '-out', "$dir/$ca.pem");
}
for my $c (['good', 'ca', '127.0.0.1'],
           ['other', 'ca', 'wrong.example.com'],
           ['rogue', 'rogue-ca', '127.0.0.1']) {
    my ($name, $ca, $host) = @$c;
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', "/CN=$host",
            '-keyout', "$dir/$name.key", '-out', "$dir/$name.csr");
    open my $ext, '>', "$dir/$name.ext" or die $!;
    print {$ext} "subjectAltName=DNS:$host\n";
    close $ext;
    openssl('x509', '-req', '-in', "$dir/$name.csr", '-CA', "$dir/$ca.pem",
            '-CAkey', "$dir/$ca.key", '-CAcreateserial', '-days', '2',
            '-extfile', "$dir/$name.ext", '-out', "$dir/$name.pem");
}

my (@servers, @mocks);
END { tt_stop($_) for @servers; dx_mock_stop($_) for @mocks }

for my $case (['good', 1, undef],
              ['other', 0, qr/the certificate is not for 127\.0\.0\.1/],
              ['rogue', 0,
               qr/the certificate of 127\.0\.0\.1 is not trusted/]) {
    my ($name, $good, $why) = @$case;
    my $dport = free_port();
    my $tls = free_port();
    my $front = <<"FRONT";
    server {
        listen 127.0.0.1:$tls ssl;
        ssl_certificate $dir/$name.pem;
        ssl_certificate_key $dir/$name.key;
        location /realtime {
            proxy_pass http://127.0.0.1:$dport;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 1h;
        }
    }
FRONT
    my $srv = tt_server(scratch_dir("dxlink-tls-$name"),
        http => dx_conf($dport, 'tt-tls',
                        url => "wss://127.0.0.1:$tls/realtime",
                        trusted => "$dir/ca.pem") . "\n$front",
        ports => [ \$tls ]);
    push @servers, $srv;
    push @mocks, dx_mock_start($dport, $srv->{mock},
                               "$dir/mock-$name.log");
    tt_connect($srv, 'tt-tls');

    if ($good) {
        ok wait_until(30, sub { dx_ready($srv) }),
            'a certificate of the trusted CA for the host: the feed opens '
            . 'over TLS' or diag explain dx_feed($srv);
        my $c = (dx_mock($dport, 'GET', '/mock/state')->{clients} // [])->[0];
        is $c->{user}, 'tt-tls', 'and the mock, behind TLS, authorized it';
        my $jwt = tt_jwt($srv, 'tt-tls');
        my ($st, $res) = tt_call($srv, $jwt, 'get_quotes',
                                 { symbols => ['AAPL'] });
        is $res->{structuredContent}{quotes}[0]{source}, 'stream',
            'quotes come from the stream over TLS' or diag explain $res;
        next;
    }

    ok wait_until(30, sub {
        read_file("$srv->{dir}/logs/error.log") =~ $why }),
        "$name: the connection is refused, saying why" or
        diag read_file("$srv->{dir}/logs/error.log");
    ok !dx_ready($srv), "$name: the feed is not ready";
    is scalar(@{ dx_mock($dport, 'GET', '/mock/state')->{clients} // [] }),
       0, "$name: nothing reached the mock";
}

done_testing;
