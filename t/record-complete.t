# A recorded answer is in the cassette and in the zone before the client
# has the whole of it.
#
# nginx passes the upstream's body on as it comes.  With a Content-Length
# the client has the whole answer as soon as the last byte of the body is
# sent, which may be some time before nginx sees the end of the upstream
# response (an empty last buffer).  The interaction must be written and
# indexed before that last byte goes out:
#
#   (a) One worker records 500 KB bodies, a static file.  For each
#       request the client reads the answer up to its Content-Length,
#       and the worker is killed with SIGKILL at once.  Every answer the
#       client got whole must be in the cassette, complete.
#   (b) Two workers, one recording location and one replaying the same
#       cassette.  Right after a client has the whole recorded answer, a
#       replay of the same request on another connection (to either
#       worker) must be a hit.
#   (c) An answer without a body (204, and HEAD) is in the cassette when
#       its header has come.
#
# This file runs its own nginx under t/servroot-record-complete/, as
# Test::Nginx cannot kill a worker in the middle of a block.

use strict;
use warnings;

use Test::More;
use FindBin;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test skip_without_python
                server_port lock_run slurp write_file split_items complete
                check_item yaml_count);

skip_under_valgrind('killing a worker right after an answer needs nginx '
                    . 'at full speed, not under valgrind');

my $module = module_under_test();

skip_without_python('import yaml',
                    'with PyYAML is needed to check the cassette '
                    . '(Debian: apt-get install python3-yaml)');

my $port  = server_port(25);
my $root  = "$FindBin::Bin/servroot-record-complete";
my $conf  = "$root/conf/nginx.conf";

# The service being recorded, as the cassette names it.
my $upstream = "http://127.0.0.1:$port/backend";

my $KILLS    = 20;    # (a): requests, each followed by a SIGKILL
my $REPLAYS  = 200;   # (b): recorded answers replayed at once
my $WAIT     = 10;    # seconds to wait for nginx to start, stop, answer

# The upstream's body: the path it got, then 20,000 bytes of padding,
# built from a 1,000 byte variable (a configuration token is at most
# 4 KB).
my $UNIT = join '', map { sprintf "%-9d|", $_ } 0 .. 99;
my $PAD  = $UNIT x 20;

# The file that the upstream sends in (a): 500 KB of text.
my $BIG = join '', map { sprintf "%-99d\n", $_ } 1 .. 5000;

# The cassette of (a) is some 10 MB: PyYAML's libyaml based loader reads
# it when there is one, as vcrpy does.
my $YAML_LOADER = 'getattr(yaml, "CSafeLoader", yaml.SafeLoader)';

# A second run of this file waits for this one to finish.
my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'html');
write_file("$root/html/big.txt", $BIG);


# (a) SIGKILL as soon as the client has the whole answer

{
    my $cassette = "$root/html/killed.yaml";

    write_file($conf, config(workers => 1, cassette => 'html/killed.yaml'));
    $nginx->start(1);

    my (@whole, @lost);
    for my $i (1 .. $KILLS) {
        my $path = "/api/big/$i";
        my ($status, $body) = whole_answer($path);
        my @workers = $nginx->worker_pids;
        kill 'KILL', @workers;

        if (!defined $status || $status ne '200' || $body ne $BIG) {
            diag("$path: " . ($status // 'no answer'));
        } else {
            push @whole, $path;
        }

        wait_for_new_worker(@workers);
    }

    $nginx->stop;

    is(scalar(@whole), $KILLS, "$KILLS answers came whole");

    my ($head, @items) = split_items(slurp($cassette));
    my %recorded;
    for my $item (@items) {
        my ($path, $why) = check_item($item, $upstream, sub { $BIG });
        $recorded{$path}++ if defined $path && !$why;
    }
    @lost = grep { !$recorded{$_} } @whole;
    is(scalar(@lost), 0, 'every answer the client had whole is in the '
       . 'cassette, complete, though the worker was killed right after')
        or diag(scalar(@lost) . " lost: @lost");
    is(yaml_count($cassette, $YAML_LOADER), '1 ' . scalar(@items),
       'PyYAML loads the cassette');
}


# (b) replayed at once, by either worker

{
    write_file($conf, config(workers => 2, cassette => 'html/shared.yaml'));
    unlink "$root/logs/error.log";
    $nginx->start(2);

    my (@bad, @missed);
    for my $i (1 .. $REPLAYS) {
        my ($status, $body) = whole_answer("/api/shared/$i");
        if (!defined $status || $status ne '200'
            || $body ne want("/api/shared/$i"))
        {
            push @bad, "/api/shared/$i: " . ($status // 'no answer');
            next;
        }

        # While the first connection is still open.
        my $r = $nginx->get("/play/shared/$i");
        push @missed, "/play/shared/$i: $r->{status}"
            unless $r->{status} == 200
                   && $r->{content} eq want("/api/shared/$i");
    }

    is(scalar(@bad), 0, "$REPLAYS recorded answers came whole")
        or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
    is(scalar(@missed), 0, 'each is replayed at once from another '
       . 'connection') or diag(scalar(@missed) . " missed: "
                               . join(', ', @missed[0 .. ($#missed < 9
                                                          ? $#missed : 9)]));

    my $log = $nginx->error_log;
    unlike($log, qr/exited on signal|\[alert\]|\[crit\]/,
           'no worker crashed, no alert');
    $nginx->stop;
}


# (c) no body: the header completes the answer

{
    my $cassette = "$root/html/empty.yaml";

    write_file($conf, config(workers => 1, cassette => 'html/empty.yaml'));
    $nginx->start(1);

    for my $x ([ 'GET', '/api/nocontent' ], [ 'HEAD', '/api/head' ]) {
        my ($method, $path) = @$x;
        my ($status) = whole_answer($path, $method);
        my @workers = $nginx->worker_pids;
        kill 'KILL', @workers;
        is($status, $method eq 'HEAD' ? 200 : 204, "$method $path answered");
        wait_for_new_worker(@workers);
    }

    $nginx->stop;

    my @uris = slurp($cassette) =~ /^    uri: "(.*)"$/mg;
    is_deeply(\@uris, [ "$upstream/nocontent", "$upstream/head" ],
              'both are in the cassette, though the worker was killed '
              . 'right after each');
}

ok(!$nginx->masters_of_this_root, 'nginx stopped');

done_testing();


sub config {
    my (%arg) = @_;
    return $nginx->conf_head(workers => $arg{workers}) . <<"EOF";
http {
    access_log off;

    server {
        listen 127.0.0.1:$port reuseport;

        # the service being recorded
        location /backend/ {
            set \$unit "$UNIT";
            set \$pad "${\ ('$unit' x 20)}";
            return 200 "\$uri\\n\$pad\\n";
        }

        location = /backend/nocontent {
            return 204;
        }

        location /backend/big/ {
            default_type text/plain;
            try_files /big.txt =404;
        }

        location /api/ {
            proxy_pass http://127.0.0.1:$port/backend/;
            mock_upstream http://127.0.0.1:$port/backend/;
            mock_replay $arg{cassette};
            mock_mode record;
        }

        location /play/ {
            mock_replay $arg{cassette};
            mock_upstream http://127.0.0.1:$port/backend/;
            mock_repeats on;
        }
    }
}
EOF
}

# The body the upstream sends for /api$path.
sub want {
    my ($path) = @_;
    return ($path =~ s{^/(?:api|play)}{/backend}r) . "\n$PAD\n";
}

# Sends "$method $path" and reads the answer up to the end of its body as
# its Content-Length tells it (or of its header, for HEAD and 204),
# without waiting for nginx to close the connection.  Returns the status
# and the body; nothing when the answer did not come whole in time.
sub whole_answer {
    my ($path, $method) = @_;
    $method //= 'GET';

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => $WAIT)
        or return;
    print {$s} "$method $path HTTP/1.1\r\nHost: localhost\r\n"
               . "Connection: close\r\n\r\n";

    my ($buf, $len, $status) = ('', undef, undef);
    my $deadline = time + $WAIT;
    while (time < $deadline) {
        my $n = sysread $s, $buf, 65536, length $buf;
        last if !$n;
        my $end = index $buf, "\r\n\r\n";
        next if $end < 0;
        my $head = substr $buf, 0, $end;
        ($status) = $head =~ m{^HTTP/1\.\d (\d+)};
        if ($method eq 'HEAD' || $status == 204) {
            return ($status, '');
        }
        ($len) = $head =~ /^Content-Length: (\d+)\r?$/mi;
        last unless defined $len;
        return ($status, substr($buf, $end + 4))
            if length($buf) - $end - 4 >= $len;
    }
    return;
}

# Waits until the master has replaced the killed workers.
sub wait_for_new_worker {
    my (@old) = @_;
    my %old = map { $_ => 1 } @old;
    my $deadline = time + $WAIT;
    until ((grep { !$old{$_} } $nginx->worker_pids) >= @old) {
        die "the master did not start new workers:\n" . $nginx->error_log
            if time > $deadline;
        sleep 0.02;
    }
}
