# A resource changes when ttai notices it on its next fetch: the account
# data a tool fetches afresh (its cache expired) is compared with the
# last of it, and a difference is told to the user's listening streams
# as notifications/resources/updated for each resource it is
# (ttai://watchlists; ttai://positions and ttai://accounts/<n>/positions).
# The same data fetched again is no change; another user hears nothing.
# The test changes a copy of the mock's fixtures (which the mock reads at
# each request) and reloads nginx in between: what was seen lives in the
# KV zone, which a reload keeps, so the change is still noticed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Copy qw(copy);
use IO::Select;
use JSON::PP ();
use Test::More;
use Time::HiRes qw(time sleep);
use Ttai::Stream qw(stream_post);
use Ttai::Util qw(repo_root scratch_dir read_file write_file http_get
                  skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';

my $JSON = JSON::PP->new->canonical;
my $V = '2026-07-28';
my $dir = scratch_dir('mcp-resource-updates');

mkdir "$dir/fixtures";
for my $f (glob "$root/conf/mock/fixtures/*.json") {
    copy($f, "$dir/fixtures/") or die "copy $f: $!";
}

my $srv = tt_server($dir, fixtures => "$dir/fixtures",
                    ttl => 'quote=5s metrics=60s chain=10m account=1s');
END { tt_stop($srv) if $srv }
my $port = $srv->{port};

tt_connect($srv, $_) for qw(tt-alice tt-bob);
my %jwt = map { ($_ => tt_jwt($srv, $_)) } qw(tt-alice tt-bob);

sub meta {
    return { 'io.modelcontextprotocol/protocolVersion' => $V,
             'io.modelcontextprotocol/clientCapabilities' => {} };
}

sub request {
    my ($who, $method, $params, $name, $id) = @_;
    return stream_post($port, $jwt{$who}, {
        jsonrpc => '2.0', id => $id // 1, method => $method,
        params => { %$params, _meta => meta() } },
        headers => [ "MCP-Protocol-Version: $V", "Mcp-Method: $method",
                     ($name ? "Mcp-Name: $name" : ()),
                     ($method eq 'tools/call' ? 'Connection: close' : ()) ]);
}

sub pump {
    my ($st, $secs) = @_;
    my $sel = IO::Select->new($st->{sock});
    my $end = time + $secs;
    while ((my $left = $end - time) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread $st->{sock}, my $chunk, 65536;
        last unless $n;
        $st->{buf} .= $chunk;
    }
    $st->{events} = [ map { $JSON->decode($_) }
                      $st->{buf} =~ /^data: (.*)$/mg ];
    return $st->{events};
}

sub call_tool {
    my ($who, $tool) = @_;
    my $st = request($who, 'tools/call', { name => $tool, arguments => {} },
                     $tool);
    local $/;
    my $resp = readline $st->{sock};
    my ($status) = $resp =~ m{^HTTP/1\.1 (\d+)};
    return $status;
}

sub listen_on {
    my ($who) = @_;
    my $st = request($who, 'subscriptions/listen', {
        notifications => { resourceSubscriptions => [
            'ttai://watchlists', 'ttai://positions' ] } }, undef, "l-$who");
    pump($st, 1);
    return $st;
}

sub updates {
    my ($st) = @_;
    return [ map { $_->{params}{uri} }
             grep { ($_->{method} // '') eq 'notifications/resources/updated' }
             @{ $st->{events} } ];
}

my $la = listen_on('tt-alice');
is $la->{events}[0]{method}, 'notifications/subscriptions/acknowledged',
    'alice listens to her watchlists and positions';

is call_tool('tt-alice', 'get_positions'), 200, 'a first fetch of positions';
is call_tool('tt-alice', 'get_watchlists'), 200, 'and of watchlists';
pump($la, 0.5);
is_deeply updates($la), [], 'is nothing to compare with: no update';

sleep 1.2;
is call_tool('tt-alice', 'get_watchlists'), 200,
    'the same watchlists, fetched again once the cache expired';
pump($la, 0.5);
is_deeply updates($la), [], 'are no change';

# the data changes at TastyTrade; nginx reloads to let the mock see it
my $w = $JSON->decode(read_file("$dir/fixtures/watchlists.json"));
push @{ $w->{watchlists}[0]{'watchlist-entries'} },
     { symbol => 'AMD', 'instrument-type' => 'Equity' };
write_file("$dir/fixtures/watchlists.json", $JSON->encode($w));

my $p = $JSON->decode(read_file("$dir/fixtures/positions.json"));
push @{ $p->{positions} }, { %{ $p->{positions}[0] }, symbol => 'AMD' };
write_file("$dir/fixtures/positions.json", $JSON->encode($p));

kill 'HUP', $srv->{pid};
my $t0 = time;
pump($la, 5) until $la->{buf} =~ /"result"/ || time - $t0 > 5;
like $la->{buf}, qr/"result"/, 'the reload ends the stream with its result';
sleep 0.5;

$la = listen_on('tt-alice');
my $lb = listen_on('tt-bob');
ok @{ $la->{events} } && @{ $lb->{events} }, 'both listen again';

is call_tool('tt-alice', 'get_watchlists'), 200,
    'the changed watchlists are fetched';
pump($la, 1);
is_deeply updates($la), [ 'ttai://watchlists' ],
    'alice hears that ttai://watchlists was updated';

is call_tool('tt-alice', 'get_positions'), 200, 'and her positions';
pump($la, 1);
my @u = @{ updates($la) };
ok((grep { $_ eq 'ttai://positions' } @u), 'ttai://positions was updated')
    or diag explain \@u;

pump($lb, 0.3);
is_deeply updates($lb), [], 'bob, whose data it is not, hears nothing';

sleep 1.2;
call_tool('tt-alice', 'get_watchlists');
pump($la, 0.5);
is scalar(grep { $_ eq 'ttai://watchlists' } @{ updates($la) }), 1,
    'the new watchlists fetched again are no further change';

done_testing;
