# Client ID Metadata Documents: a client_id that is a URL names the
# client's metadata document, which ttai fetches, checks and keeps as
# HTTP caching allows, then signs the user in as for a registered
# client, tokens included.  The documents are served on loopback by this
# test (development lets a fetch reach loopback; nothing else does), as
# hostile as a client's host can be: a redirect, a document that names
# another client, one too large, one that never comes; and a production
# server refuses a loopback client_id before anything is fetched.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use JSON::PP ();
use Time::HiRes qw(time sleep);
use URI;
use Ttai::Util qw(repo_root scratch_dir read_file write_file free_port
                  skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop);
use Ttai::OAuth qw(oauth_req oauth_sign_in oauth_tokens oauth_claims
                   oauth_mcp);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $JSON = JSON::PP->new->canonical;
my $dir = scratch_dir('oauth-cimd');
my $dport = free_port();
my $base = "http://127.0.0.1:$dport";
my $CB = 'http://127.0.0.1:9/cb';

# -- the clients' host: one process, one connection at a time ---------------

my %docs;
sub doc {
    my ($path, %extra) = @_;
    return $JSON->encode({ client_id => "$base$path",
                           client_name => "Client $path",
                           redirect_uris => [ $CB ], %extra });
}

my $docs_pid = fork // die "fork: $!";
if (!$docs_pid) {
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $dport, Listen => 16,
                                  ReuseAddr => 1) or die "listen: $!";
    while (my $s = $l->accept) {
        my $head = '';
        while (defined(my $line = <$s>)) {
            $head .= $line;
            last if $line =~ /^\r?\n\z/;
        }
        my ($path) = $head =~ m{^GET (\S+)};
        $path //= '';
        open my $log, '>>', "$dir/hits.log";
        print {$log} "$path\n";
        close $log;
        my ($status, $body, @h) = (200, '');
        if ($path eq '/good.json') {
            $body = doc($path);
            @h = ('Cache-Control: max-age=600');
        } elsif ($path eq '/nostore.json') {
            $body = doc($path);
            @h = ('Cache-Control: no-store');
        } elsif ($path eq '/redirect.json') {
            ($status, @h) = (302, "Location: $base/good.json");
        } elsif ($path eq '/other.json') {
            $body = doc('/good.json');
        } elsif ($path eq '/secret.json') {
            $body = doc($path, client_secret => 'hunter2');
        } elsif ($path eq '/huge.json') {
            $body = doc($path, padding => 'x' x 20000);
        } elsif ($path eq '/slow.json') {
            sleep 6;
            $body = doc($path);
        } else {
            $status = 404;
        }
        print {$s} "HTTP/1.1 $status X\r\nContent-Type: application/json\r\n"
            . join('', map { "$_\r\n" } @h)
            . 'Content-Length: ' . length($body) . "\r\nConnection: close\r\n"
            . "\r\n$body";
        close $s;
    }
    exit 0;
}
END { kill 'TERM', $docs_pid if $docs_pid }

sub hits {
    my ($path) = @_;
    return scalar grep { $_ eq $path } split /\n/, read_file("$dir/hits.log");
}

my $srv = tt_server($dir, oauth => 1);
END { tt_stop($srv) if $srv }

# GET /authorize for a client; returns (status, page)
sub authorize {
    my ($s, $client, $redirect) = @_;
    my $u = URI->new("http://localhost:$s->{port}/authorize");
    $u->query_form(response_type => 'code', client_id => $client,
                   redirect_uri => $redirect // $CB,
                   code_challenge => 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
                   code_challenge_method => 'S256', state => 's');
    my ($st, undef, $page) = oauth_req($s, 'GET', "$u");
    return ($st, $page // '');
}

# -- the metadata advertises it ------------------------------------------------

my ($st, undef, $meta) = oauth_req($srv, 'GET',
                                   '/.well-known/oauth-authorization-server');
is $st, 200, 'the authorization server metadata';
ok $JSON->decode($meta)->{client_id_metadata_document_supported},
    'says that a client_id may be a metadata document';

# -- a good document: the whole sign-in, tokens and /mcp -----------------------

my $good = "$base/good.json";
my ($code, $verifier) = oauth_sign_in($srv, $good);
ok $code, 'a client named by its document signs a user in'
    or diag $verifier;
is hits('/good.json'), 1, 'its document was fetched once';
my ($tst, $tok) = oauth_tokens($srv, $good, $code, $verifier);
is $tst, 200, 'the code is exchanged at /token as a public client';
is oauth_claims($tok->{access_token})->{client_id} // $good, $good,
    'for that client';
my ($mst) = oauth_mcp($srv, $tok->{access_token});
is $mst, 200, 'and the token opens /mcp';

($st) = authorize($srv, $good);
is $st, 200, 'a second sign-in of the same client';
is hits('/good.json'), 1, 'is served from the cache, as max-age allows';

($st, my $page) = authorize($srv, $good, 'http://127.0.0.1:9/other');
is $st, 400, 'a redirect URI the document does not list is refused';
like $page, qr/redirect URI/i, 'saying so';

authorize($srv, "$base/nostore.json");
authorize($srv, "$base/nostore.json");
is hits('/nostore.json'), 2, 'a no-store document is fetched each time';

# -- hostile documents ----------------------------------------------------------

my %refused = (
    '/redirect.json' => qr/redirects are not followed/,
    '/other.json'    => qr/does not name itself/,
    '/secret.json'   => qr/no client_secret/,
    '/huge.json'     => qr/larger than/,
    '/missing.json'  => qr/did not answer 200/,
);
for my $path (sort keys %refused) {
    my ($s, $p) = authorize($srv, "$base$path");
    is $s, 400, "$path: refused";
    like $p, $refused{$path}, "$path: with the reason";
    unlike $p, qr/Location:/i, "$path: and no redirect to the client";
}
is hits('/good.json'), 1, 'the redirect was not followed';

my $t0 = time;
my ($sst, $spage) = authorize($srv, "$base/slow.json");
my $took = time - $t0;
is $sst, 400, 'a document that does not come in time is refused';
like $spage, qr/could not be fetched/, 'saying so';
ok $took < 5.5, sprintf 'within the read timeout (%.1f s)', $took;

for my $bad ("https://127.1/c.json", "https://2130706433/c.json",
             "https://0x7f.0.0.1/c.json", "https://user\@example.com/c.json",
             "https://example.com/", "https://example.com/a/../c.json")
{
    my ($s, $p) = authorize($srv, $bad);
    is $s, 400, "$bad: refused before any fetch";
}

# -- outside development, loopback is out of reach -----------------------------

my $prod = tt_server(scratch_dir('oauth-cimd-prod'), oauth => 1,
                     environment => 'production');
ok $prod, 'a server with ttai_environment production';
my $before = hits('/good.json');
($st, $page) = authorize($prod, "https://127.0.0.1:$dport/good.json");
is $st, 400, 'a client_id at 127.0.0.1 is refused there';
like $page, qr/not a public address/, 'as an address it may not reach';
($st, $page) = authorize($prod, "https://[::1]:$dport/good.json");
is $st, 400, 'and one at [::1]';
($st, $page) = authorize($prod, "https://[::ffff:127.0.0.1]:$dport/c.json");
is $st, 400, 'and one at an IPv4-mapped loopback address';
($st, $page) = authorize($prod, $good);
is $st, 400, 'and http is not taken at all';
like $page, qr/must be https/, 'saying so';
is hits('/good.json'), $before, 'nothing was fetched';
($st, $page) = authorize($prod, "https://localhost:$dport/good.json");
is $st, 400, 'a name is looked up only with a resolver, which it lacks';
like $page, qr/cannot look its host up/, 'saying so';
tt_stop($prod);

done_testing;
