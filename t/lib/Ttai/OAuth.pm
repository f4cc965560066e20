package Ttai::OAuth;

# A sign-in as an OAuth client does it, against a server of
# Ttai::TastyTrade's tt_server(..., oauth => 1): registration, the
# consent form, the mock TastyTrade's authorize page, the callback, and
# the code for tokens; and /mcp with the access token.

use strict;
use warnings;

use Exporter qw(import);
use IO::Socket::INET;
use JSON::PP ();
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64url decode_base64url);
use URI;
use URI::Escape qw(uri_escape);
use Ttai::Util qw(random_hex);

our @EXPORT_OK = qw(oauth_req oauth_post oauth_register oauth_sign_in
                    oauth_tokens oauth_claims oauth_mcp);

my $JSON = JSON::PP->new->canonical;

# the redirect URI of the test clients: nothing listens there, the
# client reads the code from the Location header
our $CB = 'http://127.0.0.1:9/cb';

sub issuer { "http://localhost:$_[0]{port}" }

sub json_of { my $j = eval { $JSON->decode($_[0]) }; $j // {} }

# one HTTP/1.1 request with the Host a client uses; $url is a path on the
# server or a whole URL; returns (status, headers as a hash of arrays,
# body)
sub oauth_req {
    my ($srv, $method, $url, %o) = @_;
    my $u = URI->new($url =~ m{^/} ? issuer($srv) . $url : $url);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $u->port, Timeout => 15)
        or return (0, {}, '');
    my $body = $o{body} // '';
    my $h = join '', map { "$_\r\n" } @{ $o{headers} // [] };
    $h .= "Content-Length: " . length($body) . "\r\n" if defined $o{body};
    print {$s} "$method " . $u->path_query . " HTTP/1.1\r\n"
             . "Host: localhost:" . $u->port . "\r\n$h"
             . "Connection: close\r\n\r\n$body";
    local $/;
    my $raw = <$s> // '';
    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my %hd;
    for (split /\r\n/, $head // '') {
        push @{ $hd{lc $1} }, $2 if /^([^:]+):\s*(.*)$/;
    }
    return ($status // 0, \%hd, $rest // '');
}

# a form POST; returns (status, headers, body, the body as JSON)
sub oauth_post {
    my ($srv, $path, $f, @h) = @_;
    my $body = join '&', map { uri_escape($_) . '=' . uri_escape($f->{$_}) }
                         sort keys %$f;
    my ($st, $hd, $b) = oauth_req($srv, 'POST', $path, body => $body,
        headers => [ 'Content-Type: application/x-www-form-urlencoded',
                     @h ]);
    return ($st, $hd, $b, json_of($b));
}

# a public client; returns its client_id
sub oauth_register {
    my ($srv) = @_;
    my (undef, undef, $b) = oauth_req($srv, 'POST', '/register',
        body => $JSON->encode({ redirect_uris => [ $CB ],
                                token_endpoint_auth_method => 'none' }),
        headers => [ 'Content-Type: application/json' ]);
    return json_of($b)->{client_id};
}

# GET /authorize .. the client's redirect, approved; returns (code,
# verifier), or (undef, what went wrong)
sub oauth_sign_in {
    my ($srv, $client) = @_;
    my $v = encode_base64url(join '', map { chr int rand 256 } 1 .. 32);
    my $u = URI->new(issuer($srv) . '/authorize');
    $u->query_form(response_type => 'code', client_id => $client,
                   redirect_uri => $CB,
                   code_challenge => encode_base64url(sha256($v)),
                   code_challenge_method => 'S256',
                   state => random_hex(8), scope => 'mcp:tools',
                   resource => issuer($srv) . '/mcp');
    my ($st, $h, $page) = oauth_req($srv, 'GET', "$u");
    return (undef, "authorize: $st") unless $st == 200;
    my ($cookie) = ($h->{'set-cookie'}[0] // '') =~ /^(ttai_csrf=[^;]+)/;
    my ($request) = $page =~ /name="request" value="([^"]+)"/;
    my ($csrf) = $page =~ /name="csrf" value="([^"]+)"/;
    ($st, $h) = oauth_post($srv, '/authorize',
        { request => $request, csrf => $csrf, decision => 'approve' },
        "Cookie: $cookie");
    my $loc = $h->{location}[0] // '';
    return (undef, "consent: $st $loc") unless $loc =~ m{/mock/authorize};
    ($st, $h) = oauth_req($srv, 'GET', $loc);
    my $back = $h->{location}[0] // '';
    return (undef, "mock: $st") unless $back =~ m{/callback\?};
    ($st, $h) = oauth_req($srv, 'GET', $back);
    my %q = URI->new($h->{location}[0] // '')->query_form;
    return $q{code} ? ($q{code}, $v) : (undef, "callback: $st");
}

# the code for tokens; returns (status, the answer as JSON)
sub oauth_tokens {
    my ($srv, $client, $code, $verifier) = @_;
    my ($st, undef, undef, $j) = oauth_post($srv, '/token',
        { grant_type => 'authorization_code', code => $code,
          redirect_uri => $CB, client_id => $client,
          code_verifier => $verifier });
    return ($st, $j);
}

# the claims of a JWT, unverified
sub oauth_claims {
    my ($payload) = ($_[0] // '') =~ /^[^.]+\.([^.]+)\./;
    return json_of(decode_base64url($payload // ''));
}

# tools/list on /mcp with the token; returns (status, headers, body)
sub oauth_mcp {
    my ($srv, $token) = @_;
    return oauth_req($srv, 'POST', '/mcp',
        body => '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
        headers => [ "Authorization: Bearer $token",
                     'Content-Type: application/json',
                     'Accept: application/json, text/event-stream' ]);
}

1;
