# The mock TastyTrade API as the development server runs it: with the
# configuration folder as the only guide to mock/tastytrade.js and
# mock/fixtures/ (no js_path, no js_var), and whole flows a client goes
# through, each step using what the previous one answered.  Also
# scripts/mock-grant's command line.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Path qw(make_path);
use JSON::PP qw(decode_json);
use POSIX ();
use Test::More;
use Ttai::Util qw(repo_root scratch_dir write_file read_file free_port
                  http_get wait_until start_nginx stop_pid run_capture
                  skip_or_fail);

my $njs = '/usr/lib/nginx/modules/ngx_http_js_module.so';
skip_or_fail('njs is not installed: run scripts/bootstrap') unless -f $njs;

my $root = repo_root();
my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
my $grant = "$root/scripts/mock-grant";

# --- scripts/mock-grant's command line ---------------------------------

my ($rc, $out) = run_capture($grant, '--help');
is $rc, 0, 'mock-grant --help exits 0';
like $out, qr/^Usage: scripts\/mock-grant --sub ID \[--ttl N\] \[--revoked\]/,
    'and prints the usage';

($rc, $out) = run_capture($grant);
is $rc, 2, 'mock-grant without --sub is a usage error';
like $out, qr/--sub ID is required/, 'and says so';

($rc, $out) = run_capture($grant, '--sub', 'a"b');
is $rc, 2, 'a sub that JSON would need to escape is refused';

($rc, $out) = run_capture($grant, '--sub', 'u', '--ttl', '1m');
is $rc, 2, 'a ttl that is not whole seconds is refused';

($rc, $out) = run_capture($grant, '--sub', 'flow-user', '--ttl', '60');
is $rc, 0, 'mock-grant --sub flow-user --ttl 60 exits 0';
chomp(my $script_rt = $out);
like $script_rt, qr/^rt\.[A-Za-z0-9_-]+\.[0-9a-f]{64}$/, 'and prints a refresh token';

# --- the configuration folder as the development server has it ---------

my $dir = scratch_dir('mock-flows');
make_path("$dir/conf", "$dir/logs", "$dir/tmp");
symlink("$root/conf/mock", "$dir/conf/mock")
    or die "symlink $dir/conf/mock: $!";
my $user = $> == 0 ? 'user root;' : '';
my $main = <<"CONF";
load_module $njs;
$user
daemon off;
master_process off;
error_log $dir/logs/error.log info;
pid $dir/nginx.pid;
events { }
CONF

write_file("$dir/conf/dev.conf", <<"CONF");
$main
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    include mock/server.conf;
}
CONF
($rc, $out) = run_capture($nginx, '-t', '-p', "$dir/", '-c', 'conf/dev.conf');
is $rc, 0, 'a configuration that includes mock/server.conf loads' or diag $out;

my $port = free_port();
sub write_conf {
    write_file("$dir/conf/nginx.conf", <<"CONF");
$main
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp;
    server {
        listen 127.0.0.1:$port;
        include mock/routes.conf;
        location / {
            js_content tastytrade.api;
        }
    }
}
CONF
}
write_conf();

my $pid = eval {
    start_nginx(dir => $dir, conf => 'conf/nginx.conf',
                error_log => "$dir/logs/error.log",
                pid_file => "$dir/nginx.pid",
                ready => sub { (http_get($port, '/mock/grant'))[0] },
                ports => [ \$port ], write => \&write_conf);
};
END { stop_pid($pid) if $pid }

ok $pid, 'nginx serves the mock' or BAIL_OUT($@);

my $ua = 'User-Agent: ttai-test/1.0';

# a JSON request; returns (status, decoded body or the raw text, headers)
sub call {
    my ($method, $path, %o) = @_;
    my @h = @{ $o{headers} // [] };
    push @h, 'Content-Type: application/json' if defined $o{json};
    push @h, 'Content-Type: application/x-www-form-urlencoded'
        if defined $o{form};
    my ($status, $headers, $body) = http_get($port, $path, method => $method,
        headers => \@h,
        defined $o{json} ? (body => JSON::PP->new->encode($o{json}))
        : defined $o{form} ? (body => $o{form}) : ());
    my $data = eval { decode_json($body) } // $body;
    return ($status, $data, $headers);
}

sub bearer { ($ua, "Authorization: Bearer $_[0]") }

# --- a personal grant: /mock/grant, refresh, use ------------------------

my ($st, $b) = call(POST => '/mock/grant', json => { sub => 'erin' });
is $st, 200, '/mock/grant: 200';
my $rt = $b->{'refresh-token'};

($st, $b) = call(POST => '/oauth/token', headers => [$ua],
                 json => { grant_type => 'refresh_token', refresh_token => $rt,
                           client_secret => 'secret' });
is $st, 200, 'the grant refreshes: 200';
is $b->{refresh_token}, $rt, 'with the same refresh token';
is $b->{expires_in}, 900, 'and a 900-second access token';
my $at = $b->{access_token};

($st, $b) = call(GET => '/customers/me/accounts', headers => [bearer($at)]);
is $st, 200, 'the access token opens /customers/me/accounts';
my $n = $b->{data}{items}[0]{account}{'account-number'};
like $n, qr/^5WT\d{5}$/, 'erin has an account';

($st, $b) = call(GET => "/accounts/$n/positions", headers => [bearer($at)]);
is $st, 200, 'and its positions';
my ($short) = grep { $_->{'quantity-direction'} eq 'Short' }
              @{ $b->{data}{items} };
ok $short, 'one of them short';

# the OCC symbol of a held option, percent-encoded, quoted and on the chain
my $occ = $short->{symbol};
(my $enc = $occ) =~ s/ /%20/g;
($st, $b) = call(GET => "/market-data/by-type?equity-option=$enc",
                 headers => [bearer($at)]);
is $st, 200, "a quote for $occ";
is $b->{data}{items}[0]{symbol}, $occ, 'decoded back to the symbol';

($st, $b) = call(GET => '/option-chains/AAPL/nested', headers => [bearer($at)]);
my %on_chain = map { ($_->{call} => 1, $_->{put} => 1) }
               map { @{ $_->{strikes} } } @{ $b->{data}{items}[0]{expirations} };
ok $on_chain{$occ}, "the held option $occ is on AAPL's chain";

# --- scripts/mock-grant's grant, with its ttl ---------------------------

($st, $b) = call(POST => '/oauth/token', headers => [$ua],
                 form => "grant_type=refresh_token&refresh_token=$script_rt"
                       . '&client_secret=s');
is $st, 200, "mock-grant's token refreshes";
is $b->{expires_in}, 60, 'and its ttl sets expires_in';

($st, $b) = call(POST => '/oauth/token', headers => [$ua],
                 form => "grant_type=refresh_token&refresh_token=$script_rt"
                       . '&client_secret=s&expires_in=0');
is $b->{expires_in}, 0, 'a ttl grant lets the request choose expires_in';
($st, $b) = call(GET => '/customers/me/accounts',
                 headers => [bearer($b->{access_token})]);
is $st, 401, 'an access token of 0 seconds is refused';
is $b->{error}{message}, 'The access token has expired', 'as expired';

# --- the authorization-code flow ----------------------------------------

my $headers;
($st, $b, $headers) = call(GET => '/mock/authorize?client_id=app'
    . '&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&response_type=code'
    . '&state=st4te&sub=dana');
is $st, 302, '/mock/authorize consents at once';
my ($code, $state) = ($headers->{location} // '')
    =~ m{^http://127\.0\.0\.1/callback\?code=([^&]+)&state=(.*)$};
ok $code, 'and redirects with a code';
is $state, 'st4te', 'and the state';

($st, $b) = call(POST => '/oauth/token', headers => [$ua],
                 form => "grant_type=authorization_code&code=$code"
                       . '&client_id=app&client_secret=s'
                       . '&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback');
is $st, 200, 'the code is exchanged';
my $dana_rt = $b->{refresh_token};
like $dana_rt, qr/^rt\./, 'for a refresh token';

($st, $b) = call(POST => '/oauth/token', headers => [$ua],
                 json => { grant_type => 'refresh_token',
                           refresh_token => $dana_rt, client_secret => 's' });
is $st, 200, 'which refreshes in turn';
($st, $b) = call(GET => '/customers/me/accounts',
                 headers => [bearer($b->{access_token})]);
isnt $b->{data}{items}[0]{account}{'account-number'}, $n,
    "dana's account is not erin's";

# --- the catch-all of server.conf ---------------------------------------

($st, $b) = call(GET => '/quote-alerts', headers => [bearer($at)]);
is $st, 404, 'a path the mock does not serve is 404';
is $b->{error}{code}, 'not_found', 'in the error envelope';

# --- the quote token of the streaming API --------------------------------

($st, $b) = call(GET => '/api-quote-tokens', headers => [bearer($at)]);
is $st, 200, '/api-quote-tokens answers';
like $b->{data}{token} // '', qr/^qt\./, 'with a quote token';
like $b->{data}{'dxlink-url'} // '', qr{^wss?://}, 'and the DXLink URL';
($st) = call(GET => '/api-quote-tokens', headers => [$ua]);
is $st, 401, 'and wants an access token';

done_testing();
