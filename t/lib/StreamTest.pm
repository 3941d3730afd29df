# Code shared by the files that test streamed answers (t/stream-*.t,
# t/record-timing.t): an upstream that sends server-sent events with
# gaps, and a client that notes when each piece of an answer came.
#
#   sse_upstream($port, $dir)   forks a service on 127.0.0.1:$port; a GET
#                               of /events/<count>/<gap ms>[/xa][/plain]
#                               gets <count> events "data: <i>\n\n", one
#                               every <gap> ms, chunked (a fixed length
#                               with /plain), with "X-Accel-Buffering: no"
#                               with /xa, its header only after <ms> with
#                               /h<ms>.  When it sends its last event
#                               it writes the time to "$dir/last".
#                               Returns its pid.
#   stream_get($port, $path, %opt)
#                               one GET on a connection of its own, read
#                               as it comes: { status, head, body, pieces
#                               => [[time, bytes], ...] (the chunks of a
#                               chunked body, else each read), events =>
#                               [[time, text], ...], start, end }.  %opt:
#                               http10 => 1, headers => [...], stop_after
#                               => n (close after n events).

package StreamTest;

use strict;
use warnings;

use Exporter qw(import);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(sse_upstream stream_get gaps);


sub sse_upstream {
    my ($port, $dir) = @_;

    my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                       LocalPort => $port, Listen => 64,
                                       ReuseAddr => 1, Proto => 'tcp')
        or die "cannot listen on $port: $!";

    my $pid = fork() // die "fork: $!";
    if ($pid) {
        close $server;
        return $pid;
    }

    $SIG{CHLD} = 'IGNORE';

    # The service ends with the test file, at the latest in 10 minutes.
    alarm 600;

    while (my $c = $server->accept) {
        my $child = fork();
        next if !defined $child;
        if ($child) {
            close $c;
            next;
        }
        eval { serve($c, $dir) };
        POSIX::_exit(0);
    }
    POSIX::_exit(0);
}


sub serve {
    my ($c, $dir) = @_;
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread($c, $head, 4096, length $head);
        return unless $n;
    }

    my ($path) = $head =~ m{^GET (\S+)};
    my ($count, $gap) = ($path // '') =~ m{^/events/(\d+)/(\d+)};
    if (!defined $count) {
        syswrite $c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                     . "Connection: close\r\n\r\n";
        return;
    }

    my $plain = $path =~ m{/plain};
    my ($wait) = $path =~ m{/h(\d+)};
    sleep $wait / 1000 if $wait;
    my @events = map { "data: $_\n\n" } 0 .. $count - 1;

    my $h = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            . "Cache-Control: no-cache\r\nConnection: close\r\n";
    $h .= "X-Accel-Buffering: no\r\n" if $path =~ m{/xa};
    $h .= $plain ? 'Content-Length: ' . length(join '', @events) . "\r\n"
                 : "Transfer-Encoding: chunked\r\n";
    syswrite $c, "$h\r\n";

    for my $i (0 .. $#events) {
        sleep $gap / 1000 if $i;
        if ($i == $#events && $dir) {
            open my $fh, '>', "$dir/last.tmp";
            print {$fh} time;
            close $fh;
            rename "$dir/last.tmp", "$dir/last";
        }
        my $e = $events[$i];
        syswrite $c, $plain ? $e : sprintf("%x\r\n%s\r\n", length $e, $e);
    }
    syswrite $c, "0\r\n\r\n" unless $plain;
    close $c;
}


sub stream_get {
    my ($port, $path, %opt) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 10)
        or die "cannot connect to $port: $!";

    my $version = $opt{http10} ? '1.0' : '1.1';
    my $start = time;
    syswrite $s, join("\r\n", "GET $path HTTP/$version", 'Host: localhost',
                      'Connection: close', @{ $opt{headers} // [] }, '', '');

    my $r = { start => $start, pieces => [], events => [], body => '' };
    my $raw = '';
    my ($chunked, $length, $events_text) = (0, undef, '');

    my $deadline = $start + ($opt{timeout} // 20);

    while (time < $deadline) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        my $now = time;
        $raw .= $buf;

        if (!defined $r->{head}) {
            my $end = index $raw, "\r\n\r\n";
            next if $end < 0;
            $r->{head} = substr $raw, 0, $end;
            $r->{head_time} = $now;
            $raw = substr $raw, $end + 4;
            ($r->{status}) = $r->{head} =~ m{^HTTP/\S+ (\d+)};
            $chunked = $r->{head} =~ /^Transfer-Encoding: chunked/mi;
            ($length) = $r->{head} =~ /^Content-Length: (\d+)/mi;
        }

        my @got;
        if ($chunked) {
            while ($raw =~ /\A([0-9a-fA-F]+)\r\n/) {
                my $size = hex $1;
                my $from = length($1) + 2;
                last if length($raw) < $from + $size + 2;
                push @got, substr($raw, $from, $size) if $size;
                $raw = substr $raw, $from + $size + 2;
                if ($size == 0) {
                    $r->{end} = $now;
                    last;
                }
            }
        } else {
            push @got, $raw if length $raw;
            $raw = '';
        }

        for my $piece (@got) {
            push @{ $r->{pieces} }, [ $now, $piece ];
            $r->{body} .= $piece;
            $events_text .= $piece;
            while ($events_text =~ s/\A(.*?\n\n)//s) {
                push @{ $r->{events} }, [ $now, $1 ];
            }
        }

        if (!$chunked && defined $length && length $r->{body} >= $length) {
            $r->{end} = $now;
        }

        last if defined $r->{end};
        last if $opt{stop_after} && @{ $r->{events} } >= $opt{stop_after};
    }

    $r->{end} //= time;
    close $s;
    return $r;
}


# The times between the events of an answer, in ms.
sub gaps {
    my ($r) = @_;
    my @t = map { $_->[0] } @{ $r->{events} };
    return map { ($t[$_] - $t[$_ - 1]) * 1000 } 1 .. $#t;
}


1;
