# The mock TastyTrade API of conf/mock/: every endpoint's envelope, and
# TastyTrade's rules the mock enforces (User-Agent, Bearer tokens, the
# token endpoint's own error shape).  Tokens are made here, independently
# of the mock, from its published format and key.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ttai::Test;
use Ttai::Util qw(repo_root run_capture skip_or_fail);
use Digest::SHA qw(hmac_sha256_hex sha256_hex);
use JSON::PP ();
use MIME::Base64 qw(encode_base64url);

our $Njs = '/usr/lib/nginx/modules/ngx_http_js_module.so';
skip_or_fail('njs is not installed: run scripts/bootstrap') unless -f $Njs;

our $Key = 'ttai-mock-tastytrade-signing-key';
my $json = JSON::PP->new->canonical;

# <kind>.<base64url(JSON, keys sorted)>.<hex HMAC-SHA256 of "<kind>.<b64>">
sub mint {
    my ($kind, $payload, $key) = @_;
    my $body = encode_base64url($json->encode($payload));
    $body =~ s/=+$//;
    return "$kind.$body." . hmac_sha256_hex("$kind.$body", $key // $Key);
}

# the account the mock derives for a customer, and its cash balance
sub account_of {
    my $h = hex substr(sha256_hex("account:$_[0]"), 0, 8);
    return sprintf '5WT%05d', $h % 100000;
}

sub cash_of {
    my $h = hex substr(sha256_hex("cash:$_[0]"), 0, 8);
    (my $s = sprintf '%.3f', 8000 + $h % 40000 + ($h >> 8) % 1000 / 1000)
        =~ s/0+$//;
    $s =~ s/\.$/.0/;
    return $s;
}

my $now = time;
our %N = map { $_ => account_of($_) } qw(alice bob);
our %Cash = map { $_ => cash_of($N{$_}) } qw(alice bob);

our %AT = (
    alice   => mint('at', { sub => 'alice', exp => $now + 3600 }),
    bob     => mint('at', { sub => 'bob', exp => $now + 3600 }),
    two     => mint('at', { sub => 'two-accounts', exp => $now + 3600 }),
    expired => mint('at', { sub => 'alice', exp => $now - 10 }),
    forged  => mint('at', { sub => 'alice', exp => $now + 3600 }, 'other key'),
    refresh => mint('rt', { sub => 'alice' }),
);

our %RT = (
    alice   => mint('rt', { sub => 'alice' }),
    revoked => mint('rt', { sub => 'alice', revoked => JSON::PP::true }),
    ttl     => mint('rt', { sub => 'alice', ttl => 5 }),
    forged  => mint('rt', { sub => 'alice' }, 'other key'),
);

our $Code = mint('code', { sub => 'carol', exp => $now + 600,
                           redirect_uri => 'https://app.example/cb',
                           client_id => 'cid' });
our $OldCode = mint('code', { sub => 'carol', exp => $now - 1,
                              redirect_uri => 'https://app.example/cb' });

# scripts/mock-grant's tokens, offline
my $root = repo_root();
our ($ScriptRc, $ScriptRT) = run_capture("$root/scripts/mock-grant",
                                         '--sub', 'script-user');
chomp $ScriptRT;
our (undef, $ScriptRevoked) = run_capture("$root/scripts/mock-grant",
                                          '--sub', 'script-user', '--revoked');
chomp $ScriptRevoked;

our $UA = "User-Agent: ttai-test/1.0\n";
sub main::h { $UA . "Authorization: Bearer $AT{$_[0]}\n" }
sub main::json_h { $UA . "Content-Type: application/json\n" }
sub main::form_h { $UA . "Content-Type: application/x-www-form-urlencoded\n" }

# the answer of the token endpoint: a fresh access token for the grant
sub main::token_re {
    my ($rt, $expires) = @_;
    return qr/^\{"access_token":"at\.eyJleHAiOj[A-Za-z0-9_-]+\.[0-9a-f]{64}",
              "expires_in":$expires,"refresh_token":"\Q$rt\E",
              "token_type":"Bearer"\}$/x;
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('main_config', "load_module $Njs;")
        unless $block->main_config;
    $block->set_value('http_config', <<'CONF') unless $block->http_config;
    js_path $TEST_NGINX_REPO_ROOT/conf;
    js_var $tastytrade_mock_fixtures $TEST_NGINX_REPO_ROOT/conf/mock/fixtures;
CONF
    $block->set_value('config', <<'CONF') unless $block->config;
    include $TEST_NGINX_REPO_ROOT/conf/mock/routes.conf;
CONF
});

repeat_each(1);
run_tests();

__DATA__

=== TEST 1: the customer's one account, in TastyTrade's envelope
--- more_headers eval: main::h('alice')
--- request
GET /customers/me/accounts
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr/^\{"data":\{"items":\[\{"account":\{"account-number":"$::N{alice}","account-type-name":"Individual",.*"day-trader-status":false,.*"margin-or-cash":"Margin",.*\},"authority-level":"owner"\}\]\},"context":"\/customers\/me\/accounts"\}$/



=== TEST 2: two customers see different accounts; two-accounts has two
--- more_headers eval
[main::h('bob'), main::h('two'), main::h('two')]
--- request eval
["GET /customers/me/accounts", "GET /customers/me/accounts",
 "GET /customers/me/accounts/5WX00002"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^\{"data":\{"items":\[\{"account":\{"account-number":"$::N{bob}",[^\]]*\}\]\}/,
 qr/^\{"data":\{"items":\[\{"account":\{"account-number":"5WX00001",.*"margin-or-cash":"Margin",.*\{"account":\{"account-number":"5WX00002",.*"margin-or-cash":"Cash",.*"nickname":"Roth IRA",.*\}\]\}/,
 qr/^\{"data":\{"account-number":"5WX00002",.*\},"context":"\/customers\/me\/accounts\/5WX00002"\}$/]



=== TEST 3: balances: one object under data, decimals as strings, per customer
--- more_headers eval
[main::h('alice'), main::h('bob'), main::h('alice')]
--- request eval
["GET /accounts/$::N{alice}/balances", "GET /accounts/$::N{bob}/balances",
 "GET /accounts/$::N{alice}/balances/USD"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^(?!.*":-?\d+\.\d)\{"data":\{"account-number":"$::N{alice}",.*"cash-balance":"\Q$::Cash{alice}\E",.*"derivative-buying-power":"\d+\.\d+",.*"net-liquidating-value":"\d+\.\d+",.*"pending-cash-effect":"None",.*\},"context":"\/accounts\/$::N{alice}\/balances"\}$/,
 qr/^\{"data":\{"account-number":"$::N{bob}",.*"cash-balance":"\Q$::Cash{bob}\E",/,
 qr/^\{"data":\{"account-number":"$::N{alice}",/]



=== TEST 4: another customer's account is 403 not_permitted, as is a customer id other than me
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('bob'), main::h('alice')]
--- request eval
["GET /accounts/$::N{bob}/balances", "GET /accounts/5WX00001/positions",
 "POST /accounts/$::N{alice}/orders/dry-run\n{}", "GET /customers/12345/accounts"]
--- error_code eval
[403, 403, 403, 403]
--- response_body eval
['{"error":{"code":"not_permitted","message":"User not permitted access"}}',
 '{"error":{"code":"not_permitted","message":"User not permitted access"}}',
 '{"error":{"code":"not_permitted","message":"User not permitted access"}}',
 '{"error":{"code":"not_permitted","message":"User not permitted access"}}']



=== TEST 5: positions: shares, an OCC option with spaces, a short position
--- more_headers eval
[main::h('alice'), main::h('alice')]
--- request eval
["GET /accounts/$::N{alice}/positions",
 "GET /accounts/$::N{alice}/positions?include-marks=true&underlying-symbol[]=SPY&instrument-type=Equity"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^\{"data":\{"items":\[\{"account-number":"$::N{alice}",.*"instrument-type":"Equity",.*"multiplier":1,.*"quantity":"\d+","quantity-direction":"Long",.*"symbol":"AAPL",.*\{[^{}]*"expires-at":"[^"]+",[^{}]*"instrument-type":"Equity Option",[^{}]*"multiplier":100,[^{}]*"quantity-direction":"Short",[^{}]*"symbol":"AAPL  \d{6}C\d{8}","underlying-symbol":"AAPL",[^{}]*\}.*\]\},"context":"\/accounts\/$::N{alice}\/positions"\}$/,
 qr/^\{"data":\{"items":\[\{[^{}]*"mark":"590\.12","mark-price":"590\.12",[^{}]*"symbol":"SPY",[^{}]*\}\]\}/]



=== TEST 6: transactions: pagination, several types, unsigned amounts with effects
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('alice')]
--- request eval
["GET /accounts/$::N{alice}/transactions?per-page=5",
 "GET /accounts/$::N{alice}/transactions?per-page=5&page-offset=1",
 "GET /accounts/$::N{alice}/transactions?per-page=250&sort=Asc"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^\{"data":\{"items":\[(\{[^{}]*"transaction-type":"[^"]+"[^{}]*\},?){5}\]\},"context":"\/accounts\/$::N{alice}\/transactions","pagination":\{"current-item-count":5,"item-offset":0,"next-link":null,"page-offset":0,"paging-link-template":null,"per-page":5,"previous-link":null,"total-items":(1\d|2\d),"total-pages":[45]\}\}$/,
 qr/"pagination":\{"current-item-count":5,"item-offset":5,"next-link":null,"page-offset":1,/,
 qr/^(?!.*"(?:value|net-value)":"-)\{"data":\{"items":\[\{[^{}]*"description":"ACH DEPOSIT",[^{}]*"transaction-type":"Money Movement","value":"25000\.0","value-effect":"Credit"\}.*"transaction-type":"Trade".*"transaction-type":"Receive Deliver".*"description":"ACH WITHDRAWAL",[^{}]*"value":"500\.0","value-effect":"Debit"\}/]



=== TEST 7: transactions: type and date filters; a bad date is 400
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('alice'), main::h('alice')]
--- request eval
["GET /accounts/$::N{alice}/transactions?type=Trade",
 "GET /accounts/$::N{alice}/transactions?start-date=2999-01-01",
 "GET /accounts/$::N{alice}/transactions?start-date=2000-01-01&end-date=2999-12-31&type=Money%20Movement",
 "GET /accounts/$::N{alice}/transactions?end-date=yesterday"]
--- error_code eval
[200, 200, 200, 400]
--- response_body_like eval
[qr/^(?!.*"transaction-type":"(?!Trade"))\{"data":\{"items":\[\{.*"transaction-type":"Trade"/,
 qr/^\{"data":\{"items":\[\]\},.*"total-items":0,"total-pages":1\}\}$/,
 qr/^(?!.*"transaction-type":"Trade")\{"data":\{"items":\[\{.*"transaction-type":"Money Movement"/,
 qr/^\{"error":\{"code":"validation_error","errors":\[\{"domain":"end-date","reason":"must be a date \(YYYY-MM-DD\)"\}\],"message":"end-date must be a date \(YYYY-MM-DD\)"\}\}$/]



=== TEST 8: live orders and the order history; updated-at is epoch milliseconds
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('alice')]
--- request eval
["GET /accounts/$::N{alice}/orders/live",
 "GET /accounts/$::N{alice}/orders?per-page=3",
 "GET /accounts/$::N{alice}/orders?status[]=Filled&per-page=100"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^\{"data":\{"items":\[\{"account-number":"$::N{alice}","cancellable":true,.*"legs":\[\{"action":"Buy to Open","fills":\[\],"instrument-type":"Equity","quantity":10,"remaining-quantity":10,"symbol":"AAPL"\}\],.*"price-effect":"Debit",.*"status":"Live",.*"updated-at":\d{13}\}.*"status":"Cancelled".*\]\},"context":"\/accounts\/$::N{alice}\/orders\/live"\}$/,
 qr/"context":"\/accounts\/$::N{alice}\/orders","pagination":\{"current-item-count":3,"item-offset":0,.*"per-page":3,.*"total-items":1\d,/,
 qr/^(?!.*"status":"(?!Filled"))\{"data":\{"items":\[\{.*"fills":\[\{"destination-venue":"[A-Z_]+","ext-exec-id":"\d+","ext-group-fill-id":"\d+","fill-id":"[^"]+","fill-price":"\d+\.\d+","filled-at":"[^"]+","quantity":"\d+\.\d+"\}\]/]



=== TEST 9: dry-run: the order, its buying-power effect, fees and warnings
--- more_headers eval: main::h('alice') . "Content-Type: application/json\n"
--- request eval
"POST /accounts/$::N{alice}/orders/dry-run
{\"time-in-force\":\"GTC\",\"order-type\":\"Limit\",\"price\":\"149.5\",\"price-effect\":\"Debit\",\"legs\":[{\"action\":\"Buy to Open\",\"instrument-type\":\"Equity\",\"symbol\":\"AAPL\",\"quantity\":10}]}"
--- error_code: 200
--- response_body_like eval
qr/^\{"data":\{"buying-power-effect":\{"change-in-buying-power":"747\.5","change-in-buying-power-effect":"Debit",.*"current-buying-power":"\d+\.\d+","current-buying-power-effect":"Credit",.*"is-spread":false,.*\},"fee-calculation":\{.*"total-fees":"\d+\.\d+","total-fees-effect":"Debit"\},"order":\{"account-number":"$::N{alice}",.*"legs":\[\{"action":"Buy to Open",.*"quantity":10,"remaining-quantity":10,"symbol":"AAPL"\}\],"order-type":"Limit","price":"149\.5","price-effect":"Debit","size":10,"status":"Received","time-in-force":"GTC",.*\},"warnings":\[\]\},"context":"\/accounts\/$::N{alice}\/orders\/dry-run"\}$/



=== TEST 10: dry-run: too large for the buying power is 422 with margin_check_failed
--- more_headers eval: main::h('alice') . "Content-Type: application/json\n"
--- request eval
"POST /accounts/$::N{alice}/orders/dry-run
{\"time-in-force\":\"Day\",\"order-type\":\"Market\",\"legs\":[{\"action\":\"Buy to Open\",\"instrument-type\":\"Equity\",\"symbol\":\"AAPL\",\"quantity\":1000000}]}"
--- error_code: 422
--- response_body_like eval
qr/^\{"data":\{"buying-power-effect":\{.*"new-buying-power-effect":"Debit"\}\},"error":\{"code":"preflight_check_failure","errors":\[\{"code":"margin_check_failed","message":"Account does not have sufficient buying power available for this order\."\}\],"message":"One or more preflight checks failed"\}\}$/



=== TEST 11: dry-run validates the order: legs, actions, order type, symbols
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('alice'), main::h('alice'),
 main::h('alice')]
--- request eval
["POST /accounts/$::N{alice}/orders/dry-run
{\"time-in-force\":\"Day\",\"order-type\":\"Market\"}",
"POST /accounts/$::N{alice}/orders/dry-run
{\"time-in-force\":\"Day\",\"order-type\":\"Market\",\"legs\":[{\"action\":\"Buy\",\"instrument-type\":\"Equity\",\"symbol\":\"AAPL\",\"quantity\":1},{\"action\":\"Buy to Purchase\",\"instrument-type\":\"Equity\",\"symbol\":\"AAPL\",\"quantity\":1}]}",
"POST /accounts/$::N{alice}/orders/dry-run
{\"time-in-force\":\"Day\",\"order-type\":\"Cheap\",\"legs\":[{\"action\":\"Buy to Open\",\"instrument-type\":\"Equity\",\"symbol\":\"AAPL\",\"quantity\":1}]}",
"POST /accounts/$::N{alice}/orders/dry-run
{\"time-in-force\":\"Day\",\"order-type\":\"Limit\",\"legs\":[{\"action\":\"Buy to Open\",\"instrument-type\":\"Equity\",\"symbol\":\"AAPL\",\"quantity\":1}]}",
"POST /accounts/$::N{alice}/orders/dry-run
{\"time-in-force\":\"Day\",\"order-type\":\"Market\",\"legs\":[{\"action\":\"Buy to Open\",\"instrument-type\":\"Equity Option\",\"symbol\":\"AAPL261218C00150000\",\"quantity\":1}]}"]
--- error_code eval
[400, 400, 400, 400, 422]
--- response_body eval
['{"error":{"code":"validation_error","errors":[{"domain":"legs","reason":"is missing"}],"message":"legs is missing"}}',
 '{"error":{"code":"validation_error","errors":[{"domain":"legs[1].action","reason":"does not have a valid value"}],"message":"legs[1].action does not have a valid value"}}',
 '{"error":{"code":"validation_error","errors":[{"domain":"order-type","reason":"does not have a valid value"}],"message":"order-type does not have a valid value"}}',
 '{"error":{"code":"validation_error","errors":[{"domain":"price","reason":"is missing or not a positive decimal"}],"message":"price is missing or not a positive decimal"}}',
 '{"error":{"code":"invalid_symbol","message":"Invalid symbol: AAPL261218C00150000"}}']



=== TEST 12: market data: AAPL's fixture quote, in all three parameter spellings
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('alice'), main::h('alice')]
--- request eval
["GET /market-data/by-type?equity=AAPL,SPY",
 "GET /market-data/by-type?equity=AAPL&equity=SPY",
 "GET /market-data/by-type?equity[]=AAPL&equity[]=SPY",
 "GET /market-data/by-type?equity%5B%5D=AAPL&equity%5B%5D=SPY"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/^\{"data":\{"items":\[\{"ask":"150\.05",.*"bid":"149\.95",.*"instrument-type":"Equity",.*"last":"150\.0",.*"mark":"150\.0","mid":"150\.0",.*"symbol":"AAPL",.*\},\{[^{}]*"symbol":"SPY",[^{}]*\}\]\},"context":"\/market-data\/by-type","pagination":null\}$/,
 qr/^\{"data":\{"items":\[\{"ask":"150\.05",.*"symbol":"AAPL",.*\},\{[^{}]*"symbol":"SPY",[^{}]*\}\]\}/,
 qr/^\{"data":\{"items":\[\{"ask":"150\.05",.*"symbol":"AAPL",.*\},\{[^{}]*"symbol":"SPY",[^{}]*\}\]\}/,
 qr/^\{"data":\{"items":\[\{"ask":"150\.05",.*"symbol":"AAPL",.*\},\{[^{}]*"symbol":"SPY",[^{}]*\}\]\}/]



=== TEST 13: market data: indices without bid and ask, options, a future, crypto, a made-up quote
Items come by type in the order of the parameters' list in the mock.
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('alice')]
--- request eval
["GET /market-data/by-type?index=SPX,VIX",
 "GET /market-data/by-type?future=%2FESZ5&cryptocurrency=BTC%2FUSD&equity-option=AAPL%20%20261218C00150000",
 "GET /market-data/by-type?equity=ZZZT"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^(?!.*"(?:bid|ask|mid)")\{"data":\{"items":\[\{[^{}]*"instrument-type":"Index",[^{}]*"last":"5912\.37",[^{}]*"symbol":"SPX",[^{}]*\},\{[^{}]*"symbol":"VIX",[^{}]*\}\]\}/,
 qr/^\{"data":\{"items":\[\{[^{}]*"bid":"\d+\.\d+",[^{}]*"instrument-type":"Equity Option",[^{}]*"symbol":"AAPL  261218C00150000",[^{}]*\},\{[^{}]*"instrument-type":"Future",[^{}]*"symbol":"\/ESZ5",[^{}]*\},\{[^{}]*"instrument-type":"Cryptocurrency",[^{}]*"symbol":"BTC\/USD",[^{}]*\}\]\}/,
 qr/^\{"data":\{"items":\[\{"ask":"\d+\.\d+",[^{}]*"bid":"\d+\.\d+",[^{}]*"symbol":"ZZZT",[^{}]*\}\]\}/]



=== TEST 14: market data: a symbol of the wrong form is 422, more than 100 is 400
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('alice'), main::h('alice')]
--- request eval
["GET /market-data/by-type?equity=AAPL,!!",
 "GET /market-data/by-type?equity=INVALID",
 "GET /market-data/by-type?equity=aapl1",
 "GET /market-data/by-type?equity=" . CORE::join(',', map { "S" . chr(65 + $_ % 26) . chr(65 + int($_ / 26)) } 0 .. 60) . "&index=" . CORE::join(',', map { "I" . chr(65 + $_ % 26) . chr(65 + int($_ / 26)) } 0 .. 39)]
--- error_code eval
[422, 422, 422, 400]
--- response_body eval
['{"error":{"code":"invalid_symbol","message":"Invalid symbol: !! is not a valid Equity symbol"}}',
 '{"error":{"code":"invalid_symbol","message":"Invalid symbol: INVALID is not a valid Equity symbol"}}',
 '{"error":{"code":"invalid_symbol","message":"Invalid symbol: aapl1 is not a valid Equity symbol"}}',
 '{"error":{"code":"validation_error","errors":[{"domain":"symbols","reason":"exceeds the maximum of 100"}],"message":"At most 100 symbols can be requested at once"}}']



=== TEST 15: market metrics: string decimals, integer rating, chain volatilities
--- more_headers eval: main::h('alice')
--- request
GET /market-metrics?symbols=AAPL,SPY
--- error_code: 200
--- response_body_like eval
qr/^\{"data":\{"items":\[\{.*"implied-volatility-index":"0\.261833862",.*"implied-volatility-index-rank":"0\.427330631",.*"liquidity-rating":4,.*"market-cap":\d+,.*"option-expiration-implied-volatilities":\[\{"expiration-date":"\d{4}-\d\d-\d\d","implied-volatility":"0\.\d+","option-chain-type":"Standard","settlement-type":"PM"\}.*"symbol":"AAPL",.*\},\{.*"symbol":"SPY",.*\}\]\},"context":"\/market-metrics"\}$/



=== TEST 16: option chains: AAPL has weekly and monthly expirations of 40 strikes and more; unknown is 404
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('alice')]
--- request eval
["GET /option-chains/AAPL/nested", "GET /option-chains/%2FESZ5/nested",
 "GET /option-chains/ZZZT/nested"]
--- error_code eval
[200, 404, 404]
--- response_body_like eval
[qr/^\{"data":\{"items":\[\{"deliverables":\[\{[^{}]*"deliverable-type":"Shares",[^{}]*\}\],"expirations":\[\{"days-to-expiration":\d+,"expiration-date":"\d{4}-\d\d-\d\d","expiration-type":"(?:Weekly|Regular)","settlement-type":"PM","strikes":\[(?:\{"call":"AAPL  \d{6}C\d{8}","call-streamer-symbol":"\.AAPL\d{6}C[\d.]+","put":"AAPL  \d{6}P\d{8}","put-streamer-symbol":"\.AAPL\d{6}P[\d.]+","strike-price":"\d+\.\d+"\},?){40,}\]\}.*"expiration-type":"Regular".*"expiration-type":"Weekly".*\],"option-chain-type":"Standard","root-symbol":"AAPL","shares-per-contract":100,.*"underlying-symbol":"AAPL"\}\]\},"context":"\/option-chains\/AAPL\/nested"\}$/,
 qr/^\{"error":\{"code":"record_not_found","message":"Couldn't find option chain for \/ESZ5"\}\}$/,
 qr/^\{"error":\{"code":"record_not_found","message":"Couldn't find option chain for ZZZT"\}\}$/]



=== TEST 17: symbol search: prefix matches, percent-encoded queries, none is an empty list
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('alice')]
--- request eval
["GET /symbols/search/AAP", "GET /symbols/search/BRK%2FB",
 "GET /symbols/search/QQQQQ"]
--- error_code eval
[200, 200, 200]
--- response_body eval
['{"data":{"items":[{"autocomplete":1,"description":"Apple Inc.","etf":false,"instrument-type":"Equity","listed-market":"XNAS","options":true,"price-increments":"0.01","symbol":"AAPL","trading-hours":""}]},"context":"/symbols/search/AAP"}',
 '{"data":{"items":[{"autocomplete":1,"description":"Berkshire Hathaway Inc. - Class B","etf":false,"instrument-type":"Equity","listed-market":"XNYS","options":true,"price-increments":"0.01","symbol":"BRK/B","trading-hours":""}]},"context":"/symbols/search/BRK%2FB"}',
 '{"data":{"items":[]},"context":"/symbols/search/QQQQQ"}']



=== TEST 18: market sessions for the collections asked, in instrument-collections[]
--- more_headers eval
[main::h('alice'), main::h('alice')]
--- request eval
["GET /market-time/sessions/current?instrument-collections[]=Equity&instrument-collections[]=CME",
 "GET /market-time/sessions/current?instrument-collections[]=NYSE"]
--- error_code eval
[200, 400]
--- response_body_like eval
[qr/^\{"data":\{"items":\[\{"close-at":(?:null|"[^"]+"),"close-at-ext":(?:null|"[^"]+"),"instrument-collection":"Equity","next-session":\{"close-at":"[^"]+","close-at-ext":"[^"]+","instrument-collection":"Equity","open-at":"[^"]+","session-date":"\d{4}-\d\d-\d\d","start-at":"[^"]+"\},"open-at":(?:null|"[^"]+"),"previous-session":\{[^{}]+\},"start-at":(?:null|"[^"]+"),"state":"(?:Open|Closed|Pre-market|Extended)"\},\{[^{}]*"instrument-collection":"CME",.*\}\]\},"context":"\/market-time\/sessions\/current"\}$/,
 qr/^\{"error":\{"code":"validation_error",/]



=== TEST 19: watchlists
--- more_headers eval
[main::h('alice'), main::h('alice'), main::h('alice')]
--- request eval
["GET /watchlists", "GET /watchlists/Tech", "GET /watchlists/Nope"]
--- error_code eval
[200, 200, 404]
--- response_body_like eval
[qr/^\{"data":\{"items":\[\{"group-name":"main","name":"Tech","order-index":9999,"watchlist-entries":\[\{"instrument-type":"Equity","symbol":"AAPL"\},.*\]\},"context":"\/watchlists"\}$/,
 qr/^\{"data":\{"group-name":"main","name":"Tech",/,
 qr/^\{"error":\{"code":"record_not_found",/]



=== TEST 20: every request needs a User-Agent of the form product/version
--- more_headers eval
["Authorization: Bearer $::AT{alice}\n",
 "User-Agent: node\nAuthorization: Bearer $::AT{alice}\n",
 "User-Agent: /1.0\nAuthorization: Bearer $::AT{alice}\n",
 "Content-Type: application/json\n",
 "User-Agent: curl/8.1.2\nAuthorization: Bearer $::AT{alice}\n"]
--- request eval
["GET /customers/me/accounts", "GET /customers/me/accounts",
 "GET /customers/me/accounts",
 "POST /oauth/token\n{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$::RT{alice}\",\"client_secret\":\"s\"}",
 "GET /customers/me/accounts"]
--- error_code eval
[401, 401, 401, 401, 200]
--- response_body_like eval
['^\{"error":\{"code":"unauthorized","message":"A User-Agent header of the form <product>/<version> is required"\}\}$',
 '"code":"unauthorized"', '"code":"unauthorized"', '"code":"unauthorized"',
 '"account-number"']



=== TEST 21: a missing, unknown, expired or misused access token is 401 token_invalid
--- more_headers eval
[$::UA, main::h('forged'), main::h('expired'), main::h('refresh'),
 $::UA . "Authorization: $::AT{alice}\n"]
--- request eval
["GET /accounts/$::N{alice}/balances", "GET /accounts/$::N{alice}/balances",
 "GET /accounts/$::N{alice}/balances", "GET /accounts/$::N{alice}/balances",
 "GET /accounts/$::N{alice}/balances"]
--- error_code eval
[401, 401, 401, 401, 401]
--- response_body eval
['{"error":{"code":"token_invalid","message":"An access token is required: Authorization: Bearer <access token>"}}',
 '{"error":{"code":"token_invalid","message":"The access token is invalid"}}',
 '{"error":{"code":"token_invalid","message":"The access token has expired"}}',
 '{"error":{"code":"token_invalid","message":"The access token is invalid"}}',
 '{"error":{"code":"token_invalid","message":"An access token is required: Authorization: Bearer <access token>"}}']



=== TEST 22: refresh_token grant, JSON and form bodies: a new access token, the same refresh token
--- more_headers eval
[main::json_h(), main::form_h(), main::form_h()]
--- request eval
["POST /oauth/token\n{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$::RT{alice}\",\"client_id\":\"cid\",\"client_secret\":\"s\"}",
 "POST /oauth/token\ngrant_type=refresh_token&refresh_token=$::RT{alice}&client_secret=s&scope=read+trade",
 "POST /oauth/token\ngrant_type=refresh_token&refresh_token=$::RT{alice}&client_secret=s&expires_in=5"]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["Cache-Control: no-store", "Cache-Control: no-store", "Cache-Control: no-store"]
--- response_body_like eval
[main::token_re($::RT{alice}, 900), main::token_re($::RT{alice}, 900),
 main::token_re($::RT{alice}, 900)]



=== TEST 23: refresh_token grant: a bad or revoked grant is invalid_grant, no client_secret invalid_client
--- more_headers eval
[main::json_h(), main::form_h(), main::json_h(), main::json_h(),
 main::form_h(), main::form_h()]
--- request eval
["POST /oauth/token\n{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$::RT{forged}\",\"client_secret\":\"s\"}",
 "POST /oauth/token\ngrant_type=refresh_token&refresh_token=$::RT{revoked}&client_secret=s",
 "POST /oauth/token\n{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$::AT{alice}\",\"client_secret\":\"s\"}",
 "POST /oauth/token\n{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$::RT{alice}\"}",
 "POST /oauth/token\ngrant_type=password&username=a&password=b",
 "POST /oauth/token\nrefresh_token=$::RT{alice}&client_secret=s"]
--- error_code eval
[400, 400, 400, 401, 400, 400]
--- response_body eval
['{"error_code":"invalid_grant","error_description":"Invalid JWT"}',
 '{"error_code":"invalid_grant","error_description":"Grant has been revoked"}',
 '{"error_code":"invalid_grant","error_description":"Invalid JWT"}',
 '{"error_code":"invalid_client","error_description":"client_secret is required"}',
 '{"error_code":"unsupported_grant_type","error_description":"grant_type password is not supported"}',
 '{"error_code":"invalid_request","error_description":"grant_type is required"}']



=== TEST 24: a grant minted with a ttl sets expires_in, and then only may a request choose it
--- more_headers eval
[main::form_h(), main::form_h()]
--- request eval
["POST /oauth/token\ngrant_type=refresh_token&refresh_token=$::RT{ttl}&client_secret=s",
 "POST /oauth/token\ngrant_type=refresh_token&refresh_token=$::RT{ttl}&client_secret=s&expires_in=0"]
--- error_code eval
[200, 200]
--- response_body_like eval
[main::token_re($::RT{ttl}, 5), main::token_re($::RT{ttl}, 0)]



=== TEST 25: authorization_code grant, JSON and form: a new refresh token for the code's customer
--- more_headers eval
[main::json_h(), main::form_h(), main::form_h(), main::form_h(),
 main::form_h(), main::form_h()]
--- request eval
["POST /oauth/token\n{\"grant_type\":\"authorization_code\",\"code\":\"$::Code\",\"client_id\":\"cid\",\"client_secret\":\"s\",\"redirect_uri\":\"https://app.example/cb\"}",
 "POST /oauth/token\ngrant_type=authorization_code&code=$::Code&client_id=cid&client_secret=s&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
 "POST /oauth/token\ngrant_type=authorization_code&code=$::Code&client_id=cid&client_secret=s&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
 "POST /oauth/token\ngrant_type=authorization_code&code=$::OldCode&client_id=cid&client_secret=s&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
 "POST /oauth/token\ngrant_type=authorization_code&code=$::Code&client_secret=s&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
 "POST /oauth/token\ngrant_type=authorization_code&client_id=cid&client_secret=s&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"]
--- error_code eval
[200, 200, 400, 400, 401, 400]
--- response_body_like eval
[main::token_re(main::mint('rt', { sub => 'carol' }), 900),
 main::token_re(main::mint('rt', { sub => 'carol' }), 900),
 '^\{"error_code":"invalid_grant","error_description":"redirect_uri does not match the authorization"\}$',
 '^\{"error_code":"invalid_grant","error_description":"Authorization code expired"\}$',
 '^\{"error_code":"invalid_client","error_description":"client_id is required"\}$',
 '^\{"error_code":"invalid_request","error_description":"code is required"\}$']



=== TEST 26: the test hooks mint grants and tokens in the mock's format
--- more_headers eval
["Content-Type: application/json\n", "Content-Type: application/json\n",
 "Content-Type: application/json\n", "", ""]
--- request eval
["POST /mock/grant\n{\"sub\":\"carol\"}",
 "POST /mock/grant\n{\"sub\":\"carol\",\"ttl\":60,\"revoked\":true}",
 "POST /mock/access-token\n{\"sub\":\"carol\",\"exp\":1000}",
 "POST /mock/grant\n{\"ttl\":60}",
 "GET /mock/authorize?client_id=cid&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code&state=s1&sub=carol"]
--- error_code eval
[200, 200, 200, 400, 302]
--- response_body_like eval
['^\{"refresh-token":"' . main::mint('rt', { sub => 'carol' }) . '"\}$',
 '^\{"refresh-token":"' . main::mint('rt', { sub => 'carol', ttl => 60, revoked => JSON::PP::true }) . '"\}$',
 '^\{"access-token":"' . main::mint('at', { sub => 'carol', exp => 1000 }) . '"\}$',
 '^\{"error":\{"code":"invalid_request","message":"sub must be a non-empty string"\}\}$',
 '']
--- response_headers_like eval
["", "", "", "",
 "Location: ^https://app\\.example/cb\\?code=code\\.eyJjbGllbnRfaWQiOiJjaWQiLCJleHAiOj[A-Za-z0-9_-]+\\.[0-9a-f]{64}&state=s1\$"]



=== TEST 27: an access token minted expired by the hook is refused
--- more_headers eval: $::UA . "Authorization: Bearer " . main::mint('at', { sub => 'carol', exp => 1000 }) . "\n"
--- request
GET /customers/me/accounts
--- error_code: 401
--- response_body chomp
{"error":{"code":"token_invalid","message":"The access token has expired"}}



=== TEST 28: scripts/mock-grant makes the grant the mock makes, and the mock accepts it
--- more_headers eval
["Content-Type: application/json\n", main::form_h(), main::form_h()]
--- request eval
["POST /mock/grant\n{\"sub\":\"script-user\"}",
 "POST /oauth/token\ngrant_type=refresh_token&refresh_token=$::ScriptRT&client_secret=s",
 "POST /oauth/token\ngrant_type=refresh_token&refresh_token=$::ScriptRevoked&client_secret=s"]
--- error_code eval
[200, 200, 400]
--- response_body_like eval
["^\\{\"refresh-token\":\"\Q$::ScriptRT\E\"\\}\$",
 main::token_re($::ScriptRT, 900),
 '"error_code":"invalid_grant"']



=== TEST 29: unknown paths are 404 and other methods 405, after the token check
--- more_headers eval
[main::h('alice'), $::UA, main::h('alice'), main::h('alice')]
--- request eval
["GET /accounts/$::N{alice}/nothing", "GET /accounts/$::N{alice}/nothing",
 "PATCH /watchlists/Tech", "GET /oauth/token"]
--- error_code eval
[404, 401, 405, 405]
--- response_headers eval
["", "", "Allow: GET, PUT, DELETE", "Allow: POST"]
--- response_body_like eval
['^\{"error":\{"code":"not_found","message":"No such endpoint: /accounts/\w+/nothing"\}\}$',
 '"code":"token_invalid"',
 '^\{"error":\{"code":"method_not_allowed",',
 '^\{"error":\{"code":"method_not_allowed",']
