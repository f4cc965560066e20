# The trading tools under valgrind's memcheck: nginx runs its one worker
# under memcheck (the suites' suppressions for nginx's own exit-time
# allocations) while every path of the confirmation is taken: a preview's
# token used and used again, a refusal by the limits, a question asked
# and answered (accepted, declined, unanswered) in the 2026-07-28
# revision, a change offered a token and confirmed (replace, cancel, a
# bracket, a watchlist), a permission withdrawn, and an answer lost to a
# timeout and looked up.  Then nginx stops: no error, no leak.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Ttai::Util qw(repo_root scratch_dir run_capture http_get read_file
                  skip_or_fail valgrind_records);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_call);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';
skip_or_fail('valgrind is missing: run scripts/bootstrap')
    unless system('valgrind --version >/dev/null 2>&1') == 0;

my $JSON = JSON::PP->new->canonical;
my $V = '2026-07-28';

my $dir = scratch_dir('trading-valgrind');
(my $location = read_file("$root/conf/tastytrade/location.conf"))
    =~ s/proxy_read_timeout \d+s;/proxy_read_timeout 8s;/
    or die 'location.conf has no proxy_read_timeout';
my $srv = tt_server($dir, workers => 1, valgrind => 1, market => 'open',
                    location => $location,
                    http => 'ttai_trading on; '
                          . 'ttai_trading_limits max_order=20000 band=0.1;');
END { tt_stop($srv) if $srv }

tt_connect($srv, 'alice');
my ($rc, $out) = run_capture("$root/build/ttai", 'users', 'trading',
                             'enable', 'alice', '--db', $srv->{db});
is $rc, 0, 'alice may trade' or diag $out;
my $jwt = tt_jwt($srv, 'alice');

sub call { my (undef, $r) = tt_call($srv, $jwt, @_, timeout => 120); $r }
sub text_of { ($_[0] // {})->{content}[0]{text} // '' }

sub call26 {
    my ($tool, $args, %extra) = @_;
    my (undef, undef, $raw) = http_get($srv->{port}, '/mcp',
        method => 'POST', timeout => 120,
        body => $JSON->encode({ jsonrpc => '2.0', id => 1,
            method => 'tools/call',
            params => { name => $tool, arguments => $args,
                        _meta => {
                            'io.modelcontextprotocol/protocolVersion' => $V,
                            'io.modelcontextprotocol/clientCapabilities' =>
                                { elicitation => {} } },
                        %extra } }),
        headers => [ "Authorization: Bearer $jwt",
                     'Content-Type: application/json',
                     'Accept: application/json, text/event-stream',
                     "MCP-Protocol-Version: $V", 'Mcp-Method: tools/call',
                     "Mcp-Name: $tool" ]);
    return (eval { $JSON->decode($raw) } // {})->{result} // {};
}

sub stock {
    my ($qty, $price) = @_;
    return { order_type => 'Limit', price => $price,
             legs => [ { symbol => 'AAPL', instrument_type => 'Equity',
                         action => 'Buy to Open', quantity => $qty } ] };
}

# a preview's token, used, then used again
my $o = stock(2, 140);
my $token = call('preview_order', $o)->{structuredContent}{confirmation_token};
ok $token, 'preview_order gives a token under memcheck';
my $r = call('place_order', { %$o, confirmation_token => $token });
my $id = $r->{structuredContent}{order_id};
ok $id, 'place_order places with it' or diag text_of($r);
like text_of(call('place_order', { %$o, confirmation_token => $token })),
    qr/placed already/, 'and reports it when used again';

# refused by a limit, and by a wrong token
like text_of(call('place_order', { %{ stock(200, 150) },
                                   confirmation_token => $token })),
    qr/per order/, 'a limit refuses';
like text_of(call('place_order', { %{ stock(3, 140) },
                                   confirmation_token => $token })),
    qr/not for this change/, 'a token for another order is refused';

# the human's answer: accepted, declined, not given
for my $c ([ accept => qr/was placed/ ], [ decline => qr/declined/ ],
           [ none => qr/did not answer/ ]) {
    my $q = stock(1, 139);
    my $ask = call26('place_order', $q);
    is $ask->{resultType}, 'input_required', "asked ($c->[0])";
    my $answer = $c->[0] eq 'none' ? {}
        : { confirm => { action => $c->[0],
                         content => { confirm => JSON::PP::true } } };
    my $done = call26('place_order', $q,
                      requestState => $ask->{requestState},
                      inputResponses => $answer);
    like text_of($done), $c->[1], "answered: $c->[0]";
}

# changes offered a token, then confirmed
my $rep = { order_id => $id, order_type => 'Limit', price => 141 };
$r = call('replace_order', $rep);
$r = call('replace_order', { %$rep, confirmation_token =>
                                    $r->{structuredContent}{confirmation_token} });
my $new = $r->{structuredContent}{order_id};
ok $new, 'replace_order replaces' or diag text_of($r);
$r = call('cancel_order', { order_id => $new });
$r = call('cancel_order', { order_id => $new, confirmation_token =>
                                $r->{structuredContent}{confirmation_token} });
is $r->{structuredContent}{status}, 'Cancelled', 'cancel_order cancels';

my $leg = sub { [ { symbol => 'AAPL', instrument_type => 'Equity',
                    action => $_[0], quantity => 2 } ] };
my $oco = { type => 'OCO',
            orders => [ { order_type => 'Limit', price => 155,
                          legs => $leg->('Sell to Close') },
                        { order_type => 'Stop', stop_price => 145,
                          legs => $leg->('Sell to Close') } ] };
$r = call('place_complex_order', $oco);
$r = call('place_complex_order', { %$oco, confirmation_token =>
                                        $r->{structuredContent}{confirmation_token} });
ok $r->{structuredContent}{placed}, 'place_complex_order places'
    or diag text_of($r);

my $wl = { name => 'Memcheck', symbols => [ { symbol => 'XOM' } ] };
$r = call('create_watchlist', $wl);
$r = call('create_watchlist', { %$wl, confirmation_token =>
                                    $r->{structuredContent}{confirmation_token} });
like text_of($r), qr/was created/, 'create_watchlist creates';

# an answer lost: looked up, not sent again
http_get($srv->{mock}, '/mock/fault', method => 'POST',
         body => '{"name":"order-delay","ms":15000}',
         headers => [ 'Content-Type: application/json' ]);
$o = stock(1, 138);
$r = call('place_order', { %$o, confirmation_token =>
    call('preview_order', $o)->{structuredContent}{confirmation_token} });
like text_of($r), qr/answer was lost/, 'a lost answer is looked up';
sleep 8;

# the permission withdrawn
run_capture("$root/build/ttai", 'users', 'trading', 'disable', 'alice',
            '--db', $srv->{db});
$o = stock(1, 137);
(undef, undef, my $raw) = tt_call($srv, $jwt, 'place_order',
                                  { %$o, confirmation_token => 'oc1.x' },
                                  timeout => 120);
like $raw, qr/has not allowed trading|has not granted trading/,
    'a withdrawn permission refuses (by the tool, or by the list once its '
    . 'cached permission has expired)';

tt_stop($srv);
$srv = undef;

my @records = valgrind_records("$dir/logs/stderr.log");
ok !@records, 'memcheck found no error and no leak' or diag map { @$_ } @records;
unlike read_file("$dir/logs/error.log"), qr/exited on signal/,
    'no worker crashed';

done_testing;
