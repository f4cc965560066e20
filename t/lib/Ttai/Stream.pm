package Ttai::Stream;

# A POST to /mcp whose answer is a stream (subscriptions/listen, a call
# that sends notifications): the socket is kept open, and what arrives is
# read as it comes, its "data:" lines decoded as JSON events.

use strict;
use warnings;

use Exporter qw(import);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Time::HiRes qw(time);

our @EXPORT_OK = qw(stream_post stream_read);

my $JSON = JSON::PP->new->canonical;

# stream_post($port, $jwt, $message, headers => [...]): the message (a
# hash, or JSON text) sent with the Bearer token and the given headers
sub stream_post {
    my ($port, $jwt, $msg, %o) = @_;
    my $body = ref $msg ? $JSON->encode($msg) : $msg;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5) or die "connect: $!";
    print {$s} "POST /mcp HTTP/1.1\r\nHost: localhost\r\n"
        . "Authorization: Bearer $jwt\r\n"
        . "Content-Type: application/json\r\n"
        . "Accept: application/json, text/event-stream\r\n"
        . join('', map { "$_\r\n" } @{ $o{headers} // [] })
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    return { sock => $s, buf => '', events => [] };
}

# reads for up to $secs, or until an event makes $until true; returns the
# events decoded so far ($st->{closed} once the server closed it)
sub stream_read {
    my ($st, $secs, $until) = @_;
    my $sel = IO::Select->new($st->{sock});
    my $end = time + $secs;
    while (1) {
        while ($st->{buf} =~ s/\A.*?^data: ([^\r\n]*)\r?\n//ms) {
            push @{ $st->{events} }, scalar eval { $JSON->decode($1) };
        }
        last if $until && grep { $until->($_) } @{ $st->{events} };
        my $left = $end - time;
        last if $left <= 0 || $st->{closed} || !$sel->can_read($left);
        my $n = sysread $st->{sock}, my $chunk, 65536;
        if (!$n) {
            $st->{closed} = 1;
            next;
        }
        $st->{buf} .= $chunk;
    }
    return $st->{events};
}

1;
