package Ttai::DXLink;

# What the market-data suites share: the DXLink mock (conf/mock/dxlink.mjs)
# started beside a tt_server, its controls, and the feed's /health object.

use strict;
use warnings;
use Exporter 'import';
use JSON::PP ();
use POSIX ();
use Ttai::Util qw(repo_root http_get);

our @EXPORT_OK = qw(dx_conf dx_mock_start dx_mock_stop dx_mock dx_feed
                    dx_ready dx_subscribed);

my $JSON = JSON::PP->new->canonical;

# the http-level lines of a tt_server whose feed opens on the mock at
# $dport as $user; %opt: keepalive, idle, token_ttl (seconds), url (the
# one the quote token comes with, instead of the mock's own), trusted
# (ttai_dxlink_trusted_certificate), max (ttai_dxlink_max_symbols)
sub dx_conf {
    my ($dport, $user, %opt) = @_;
    return "ttai_dxlink on;\n"
         . "    ttai_dxlink_user $user;\n"
         . "    ttai_dxlink_keepalive @{[ $opt{keepalive} // 4 ]}s;\n"
         . "    ttai_dxlink_idle @{[ $opt{idle} // 8 ]}s;\n"
         . ($opt{trusted}
            ? "    ttai_dxlink_trusted_certificate $opt{trusted};\n" : '')
         . ($opt{max}
            ? "    ttai_dxlink_max_symbols $opt{max};\n" : '')
         . "    js_var \$tastytrade_mock_dxlink_url "
         . ($opt{url} // "ws://127.0.0.1:$dport/realtime") . ";\n"
         . "    js_var \$tastytrade_mock_quote_token_ttl "
         . "@{[ $opt{token_ttl} // 86400 ]};";
}

# the mock on $dport, its values from the mock API on $api; its output
# goes to $log.  Returns its pid.
sub dx_mock_start {
    my ($dport, $api, $log, %opt) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $log or POSIX::_exit(1);
        open STDERR, '>&', \*STDOUT;
        exec('node', repo_root() . '/conf/mock/dxlink.mjs', '--listen',
             "127.0.0.1:$dport", '--api', "http://127.0.0.1:$api",
             '--interval', $opt{interval} // 250,
             ($opt{synthetic} ? '--synthetic' : ()))
            or POSIX::_exit(127);
    }
    return $pid;
}

sub dx_mock_stop {
    my ($pid) = @_;
    return unless $pid;
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

# a control of the mock: the decoded answer, {} when there was none
sub dx_mock {
    my ($dport, $method, $path) = @_;
    my ($st, undef, $body) = http_get($dport, $path, method => $method,
                                      ($method eq 'POST' ? (body => '')
                                                         : ()));
    return $st == 200 ? $JSON->decode($body) : {};
}

# the dxlink object of the server's /health
sub dx_feed {
    my ($srv) = @_;
    my (undef, undef, $body) = http_get($srv->{port}, '/health',
                                        timeout => 10);
    my $h = eval { $JSON->decode($body) } // {};
    return $h->{checks}{dxlink} // {};
}

sub dx_ready { (dx_feed($_[0])->{state} // '') eq 'ready' }

# how many event types of $sym the mock's first client has subscribed
sub dx_subscribed {
    my ($dport, $sym) = @_;
    my $c = (dx_mock($dport, 'GET', '/mock/state')->{clients} // [])->[0]
            // {};
    return scalar grep { $_->{symbol} eq $sym }
                       @{ $c->{subscriptions} // [] };
}

1;
