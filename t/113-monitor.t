# The PORTFOLIO_MONITOR end to end, on the mock TastyTrade's moving
# prices: an alert made through the MCP SDK 2.x client fires when the
# price crosses its level, reaches the client's subscriptions/listen
# stream as resources/updated for ttai://alerts, and is listed by
# get_alerts; it does not fire again while the price stays past the
# level, nor after nginx is killed with -9 and started again on the same
# state.  Rules are checked as they are made (a webhook to a host the
# operator did not allow is refused; a bad entry stops nginx -t); a
# webhook to an allowed host is POSTed; a rule on positions records them
# in the positions table, which get_position_history reads; the debug
# endpoint shows the monitor's state; PRAGMA integrity_check at the end.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);
use Ttai::Util qw(repo_root scratch_dir run_capture read_file write_file
                  http_get free_port nginx_t children skip_or_fail);
use Ttai::TastyTrade qw(tt_server tt_stop tt_connect tt_jwt tt_call);

my $root = repo_root();

skip_or_fail('not built: run make')
    unless -x "$root/build/ttai"
           && -f "$root/build/nginx/ngx_http_ttai_module.so";
skip_or_fail('njs is missing: run scripts/bootstrap')
    unless -f '/usr/lib/nginx/modules/ngx_http_js_module.so';
skip_or_fail('node_modules is missing: run scripts/npm-setup')
    unless -d "$root/node_modules/\@modelcontextprotocol/client";

my $JSON = JSON::PP->new->canonical;
my $dir = scratch_dir('monitor');

# -- a webhook receiver: each POST's body, a line in a file --------------

my $hook_port = free_port();
my $hook_file = "$dir/hooks.jsonl";
my $hook_pid = fork // die "fork: $!";
if ($hook_pid == 0) {
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                   LocalPort => $hook_port, Listen => 16,
                                   ReuseAddr => 1) or POSIX::_exit(1);
    while (my $c = $ls->accept) {
        local $/ = "\r\n\r\n";
        my $head = <$c> // next;
        my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
        my ($path) = $head =~ m{^POST (\S+)};
        my $body = '';
        read($c, $body, $len // 0);
        open my $fh, '>>', $hook_file or POSIX::_exit(1);
        print $fh $JSON->encode({ path => $path // '', body => $body }), "\n";
        close $fh;
        print $c "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        close $c;
    }
    POSIX::_exit(0);
}
END { kill 'KILL', $hook_pid if $hook_pid; }

my %conf = (
    motion => 'monitor-test',
    http => "ttai_monitor on;\n    ttai_monitor_interval 1s;\n"
            . "    ttai_alert_webhooks http://127.0.0.1:$hook_port/hooks/;",
    server => "include $root/conf/monitor/webhook.conf;\n"
              . "        location /debug/ { ttai_debug; }",
);

my $srv = tt_server($dir, %conf);
END { tt_stop($srv) if $srv }

tt_connect($srv, 'tt-alice');
my $jwt = tt_jwt($srv, 'tt-alice');

sub sql {
    my ($rc, $out) = run_capture('sqlite3', $srv->{db}, @_);
    $out =~ s/\s+\z//;
    return $out;
}

sub wait_for {
    my ($cond, $secs) = @_;
    my $t0 = time;
    until ($cond->()) {
        return 0 if time - $t0 > $secs;
        sleep 0.1;
    }
    return 1;
}

sub price {
    my ($sym, $at) = @_;
    my (undef, undef, $body) = http_get($srv->{mock},
                                        "/mock/price?symbol=$sym&at=$at");
    return $JSON->decode($body)->{last};
}

# -- rules are checked as they are made ---------------------------------

my ($st, $res) = tt_call($srv, $jwt, 'create_alert',
                         { kind => 'price_cross', symbol => 'AAPL',
                           direction => 'above' });
ok $res->{isError}, 'a price_cross rule without a level is refused';
like $res->{content}[0]{text}, qr/needs level/, 'saying what it needs';

($st, $res) = tt_call($srv, $jwt, 'create_alert',
                      { kind => 'price_cross', symbol => 'AAPL',
                        direction => 'above', level => 1,
                        webhook => 'http://127.0.0.1:1/steal' });
ok $res->{isError}, 'a webhook to a host the operator did not allow is '
                    . 'refused when the rule is made';
like $res->{content}[0]{text}, qr/not one this server sends alerts to/,
     'saying so';
($st, $res) = tt_call($srv, $jwt, 'create_alert',
                      { kind => 'price_cross', symbol => 'AAPL',
                        direction => 'above', level => 1,
                        webhook => "http://127.0.0.1:$hook_port\@evil/" });
ok $res->{isError}, 'and so is one that hides another host';
is sql('SELECT count(*) FROM alert_rules'), 0, 'no rule was kept';

my ($rc, $out) = nginx_t("$dir/conf-t",
    http => 'ttai_alert_webhooks ftp://127.0.0.1/;');
isnt $rc, 0, 'a webhook entry that is not http(s) stops nginx -t';
like $out, qr/is not an http or https URL/, 'with the reason';

# -- an alert through the SDK client, on the moving price ---------------

# the symbol whose price moves the most, one way, over the next 40 s
my $now = int(time * 1000);
my ($best, $sym, $dir_, $level);
for my $s (qw(AAPL MSFT SPY QQQ NVDA TSLA AMZN META IWM GOOGL)) {
    my @p = map { price($s, $now + $_ * 1000) } 0, 5, 10, 20, 30, 40;
    my $up = !grep { $p[$_] < $p[$_ - 1] } 1 .. $#p;
    my $down = !grep { $p[$_] > $p[$_ - 1] } 1 .. $#p;
    next unless $up || $down;
    my $move = abs($p[-1] - $p[0]) / $p[0];
    next if defined $best && $move <= $best;
    # crossed about 12 s from now, and left well behind afterwards
    ($best, $sym, $dir_, $level) = ($move, $s, $up ? 'above' : 'below',
                                   sprintf('%.2f', ($p[1] + $p[3]) / 2));
}
ok $sym, "a symbol moves one way for 40 s: $sym $dir_ $level"
    or BAIL_OUT('no symbol moved: the mock has no motion');

my $e2e;
{
    local $ENV{MCP_TOKEN} = $jwt;
    ($rc, $out) = run_capture('timeout', '120', 'node',
                              "$root/t/e2e/alerts-client.mjs",
                              '--url', "http://localhost:$srv->{port}/mcp",
                              '--symbol', $sym, '--direction', $dir_,
                              '--level', $level, '--wait', 40000,
                              '--hold', 4000);
}
my ($json) = $out =~ /^(\{.*^\})/ms;
$e2e = eval { $JSON->decode($json // '') } // {};
is $rc, 0, 'alerts-client.mjs passes every check' or diag $out;
for my $c (@{ $e2e->{checks} // [] }) {
    ok $c->{ok}, "sdk2: $c->{name}" or diag explain $c->{detail};
}
my $rule = $e2e->{rule}{id} // '';

is sql("SELECT count(*) FROM alerts WHERE rule_id = '$rule'"), 1,
   'one alert row for the crossing';
is sql("SELECT subject FROM alert_state WHERE rule_id = '$rule'"), $sym,
   'and the rule holds its state for the symbol';
my $fired_at = sql("SELECT fired_at FROM alerts WHERE rule_id = '$rule'");
my $p_then = price($sym, $fired_at);
ok(($dir_ eq 'above' ? $p_then >= $level : $p_then <= $level),
   "the price was past the level when it fired ($p_then, $dir_ $level)");

# -- the debug endpoint --------------------------------------------------

my ($dst, undef, $dbody) = http_get($srv->{port},
                                    '/debug/do/PORTFOLIO_MONITOR/tt-alice');
is $dst, 200, 'GET /debug/do/PORTFOLIO_MONITOR/<user> answers';
my $d = eval { $JSON->decode($dbody) } // {};
is $d->{class}, 'PORTFOLIO_MONITOR', 'as the monitor';
is scalar @{ $d->{rules} // [] }, 1, 'with the user\'s rule';
cmp_ok $d->{user}{passes} // 0, '>=', 2, 'and its passes';
cmp_ok $d->{monitor}{last_pass}{passes} // 0, '>=', 2,
       'and the monitor\'s last pass';
($dst) = http_get($srv->{port}, '/debug/do/PORTFOLIO_MONITOR');
is $dst, 200, 'and without a user, the counts';

# -- a webhook to an allowed host ----------------------------------------

($st, $res) = tt_call($srv, $jwt, 'create_alert',
                      { kind => 'price_cross', symbol => 'MSFT',
                        direction => 'below', level => 100000,
                        webhook => "http://127.0.0.1:$hook_port/hooks/alice" });
ok !$res->{isError}, 'a rule with an allowed webhook is made'
    or diag explain $res;
my $hook_rule = $res->{structuredContent}{id} // '';
ok wait_for(sub { -s $hook_file }, 15), 'the webhook receiver got a POST';
my ($line) = split /\n/, (-s $hook_file ? read_file($hook_file) : '');
my $hook = eval { $JSON->decode($line // '') } // {};
is $hook->{path}, '/hooks/alice', 'on the rule\'s path';
my $hb = eval { $JSON->decode($hook->{body} // '') } // {};
is $hb->{type}, 'ttai.alert', 'an alert';
is $hb->{rule_id}, $hook_rule, 'of that rule';
like $hb->{message}, qr/^MSFT is at [\d.]+, below 100000/, 'saying what';
ok wait_for(sub { sql("SELECT webhook_status FROM alerts "
                      . "WHERE rule_id = '$hook_rule'") eq 'sent' }, 10),
   'recorded as sent';

# -- positions, and their history ---------------------------------------

($st, $res) = tt_call($srv, $jwt, 'create_alert',
                      { kind => 'position_pnl', percent => 1000 });
ok !$res->{isError}, 'a position_pnl rule is made';
ok wait_for(sub { sql('SELECT count(*) FROM positions') > 0 }, 15),
   'its evaluation records the positions';
($st, $res) = tt_call($srv, $jwt, 'get_position_history',
                      { symbol => 'aapl' });
my $snaps = $res->{structuredContent}{snapshots} // [];
ok scalar(@$snaps) >= 1, 'get_position_history reads them';
is $snaps->[0]{symbol}, 'AAPL', 'for the symbol asked';
ok defined $snaps->[0]{pnl_percent}, 'with the P/L';
($st, $res) = tt_call($srv, tt_jwt($srv, 'tt-bob'), 'get_position_history',
                      {});
is $res->{structuredContent}{count}, 0, 'and another user sees none of them';

($st, $res) = tt_call($srv, $jwt, 'delete_alert', { id => $hook_rule });
ok $res->{structuredContent}{deleted}, 'delete_alert deletes a rule';
($st, $res) = tt_call($srv, tt_jwt($srv, 'tt-bob'), 'delete_alert',
                      { id => $rule });
ok $res->{isError}, 'but not another user\'s';

# -- kill -9, and start again on the same state -------------------------

my $passes = sql("SELECT passes FROM monitor_users WHERE user_id = 'tt-alice'");
my $env = read_file("$dir/test.env");
kill 'KILL', $srv->{pid}, children($srv->{pid});
is waitpid($srv->{pid}, 0), $srv->{pid}, 'nginx is killed, master and workers';
$srv->{pid} = 0;

$srv = tt_server($dir, %conf, env => $env);
ok $srv->{pid}, 'nginx starts again on the same state';
ok wait_for(sub {
        sql("SELECT passes FROM monitor_users WHERE user_id = 'tt-alice'")
            >= $passes + 3 }, 20),
   'the monitor goes on with the user\'s rules';
my $still = price($sym, int(time * 1000));
SKIP: {
    skip "the price went back past the level ($still)", 1
        unless $dir_ eq 'above' ? $still >= $level * 1.001
                                : $still <= $level * 0.999;
    is sql("SELECT count(*) FROM alerts WHERE rule_id = '$rule'"), 1,
       'and the crossing is not fired again after the restart';
}
is sql('SELECT count(*) FROM alert_state s WHERE (SELECT count(*) FROM '
       . 'alerts a WHERE a.rule_id = s.rule_id AND a.subject = s.subject '
       . 'AND a.fired_at >= s.fired_at) != 1'), 0,
   'every crossing that holds has exactly one alert, across the kill';
is sql('PRAGMA integrity_check'), 'ok', 'PRAGMA integrity_check: ok';

tt_stop($srv);
$srv = undef;
unlike read_file("$dir/logs/error.log"),
       qr/\[(alert|crit|emerg)\]|signal 11|still held/,
       'no alert, crash or request left held in the error log';

done_testing;
