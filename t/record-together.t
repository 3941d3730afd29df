# Recordings that complete in one turn of the event loop are written
# together, and their answers wait for that write.
#
# The upstream here is a server of this file's own (a child process)
# that holds the requests it gets until it is told to answer them all,
# in the order they came.  The gateway's one worker is stopped (SIGSTOP)
# while it answers, so that every answer waits in the worker's sockets,
# and is let go on (SIGCONT): the worker then finds them all complete in
# one turn.  Then:
#
#   (a) 70 answers in one turn, more than one write of the cassette
#       takes (64): every client gets its own answer, whole, and the
#       cassette holds the 70, each complete, in the order they came.
#   (b) Two requests for the same path: the first answer recorded is the
#       first one that came, and a replay of the path plays them in that
#       order.
#   (c) Two locations, two cassettes, answers interleaved in one turn:
#       each file has its own, in order.
#   (d) Clients that leave while their answers wait (every second one
#       closes its connection before the worker goes on): every answer
#       is recorded all the same, the others get theirs whole, and the
#       worker goes on serving.
#   (e) The worker killed (SIGKILL) while the answers wait: no client got
#       one, so none is in the cassette, which stays valid, and the next
#       worker records again.
#   (f) Pipelined requests on one connection, answered at once: answered
#       in order, each recorded.
#   (g) Answers that go on slowly after the write: limit_rate (with
#       sendfile, from proxy_buffering's temporary file), a client
#       that reads slowly, proxy_buffering off with a chunked upstream
#       answer of 300 KB, gzip after recording: whole, and recorded as
#       the upstream sent them.
#   (h) HTTP/2: five streams of one connection answered in one turn,
#       each whole and recorded (with curl, where it has HTTP/2).
#
# This file runs its own nginx under t/servroot-record-together/, as
# Test::Nginx cannot stop a worker in the middle of a block.

use strict;
use warnings;

use Test::More;
use FindBin;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test skip_without_python
                server_port lock_run slurp split_items
                complete yaml_count slow_get check_body wait_until);

skip_under_valgrind('a stopped worker that goes on must find every answer '
                    . 'in one turn, which valgrind makes too slow');

my $module = module_under_test();

skip_without_python('import yaml',
                    'with PyYAML is needed to check the cassettes '
                    . '(Debian: apt-get install python3-yaml)');

my $port    = server_port(231);
my $h2_port = server_port(232);
my $up_port = server_port(233);
my $root    = "$FindBin::Bin/servroot-record-together";
my $WAIT    = 10;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);

$nginx->setup(head => { connections => 512 }, http => <<"EOF");
http {
    access_log logs/access.log;
    keepalive_timeout 30s;

    upstream up {
        server 127.0.0.1:$up_port;
    }

    server {
        listen 127.0.0.1:$port;
        listen 127.0.0.1:$h2_port http2;

        location /a/ {
            proxy_pass http://up;
            mock_replay cassettes/a.yaml;
            mock_mode record;
        }

        location /b/ {
            proxy_pass http://up;
            mock_replay cassettes/b.yaml;
            mock_mode record;
        }

        location /play/ {
            mock_replay cassettes/a.yaml;
            mock_upstream http://up/a/;
            mock_mode replay;
        }

        location /slow/ {
            proxy_pass http://up;
            mock_replay cassettes/slow.yaml;
            mock_mode record;
            limit_rate 64k;
            sendfile on;
        }

        location /stream/ {
            proxy_pass http://up;
            proxy_buffering off;
            proxy_http_version 1.1;
            mock_replay cassettes/stream.yaml;
            mock_mode record;
        }

        location /zip/ {
            proxy_pass http://up;
            mock_replay cassettes/zip.yaml;
            mock_mode record;
            gzip on;
            gzip_min_length 0;
            gzip_types text/plain;
        }
    }
}
EOF

my $upstream = Upstream->start($up_port);
$nginx->start;

my ($worker) = $nginx->worker_pids;

# (a) 70 answers in one turn

{
    my @paths = map { "/a/many/$_" } 1 .. 70;
    my @clients = map { send_get($_) } @paths;
    my @order = held_turn(\@clients, scalar @paths);

    my @bad = bad_answers(\@clients, \@paths);
    is(scalar(@bad), 0, '70 answers of one turn: each client has its own')
        or diag(join "\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]);

    my @items = items('a.yaml');
    is(scalar(@items), 70, 'the cassette holds the 70');
    is(scalar(grep { !complete($_) } @items), 0, 'each one complete');
    is(join(' ', map { answer_of($_) } @items), join(' ', 1 .. 70),
       'in the order the answers came');
    is(join(' ', map { path_of($_) } @items), join(' ', @order),
       'each with its own request');
}

# (b) the same path twice in one turn

{
    my @clients = map { send_get('/a/twice') } 1 .. 2;
    held_turn(\@clients, 2);
    my @bad = bad_answers(\@clients, [ ('/a/twice') x 2 ]);
    is(scalar(@bad), 0, 'the same request twice in one turn: both answered')
        or diag(join "\n", @bad);
    my @items = grep { path_of($_) eq '/a/twice' } items('a.yaml');
    is(join(' ', map { answer_of($_) } @items), '71 72',
       'the same request twice: recorded in the order the answers came');
    is(join(' ', map { body_of($nginx->get('/play/twice')) } 1 .. 2),
       'answer 71 for /a/twice answer 72 for /a/twice',
       'and replayed in that order');
}

# (c) two cassettes in one turn

{
    my @paths = map { ($_ % 2 ? '/a' : '/b') . "/two/$_" } 1 .. 10;
    my @clients = map { send_get($_) } @paths;
    my @order = held_turn(\@clients, 10);
    my @bad = bad_answers(\@clients, \@paths);
    is(scalar(@bad), 0, 'two cassettes in one turn: every answer whole')
        or diag(join "\n", @bad);

    my @a = grep { path_of($_) =~ m{^/a/two/} } items('a.yaml');
    my @b = items('b.yaml');
    is(join(' ', map { path_of($_) } @a),
       join(' ', grep { m{^/a/} } @order), 'a.yaml has its own, in order');
    is(join(' ', map { path_of($_) } @b),
       join(' ', grep { m{^/b/} } @order), 'b.yaml has its own, in order');
    is(yaml_count("$root/cassettes/b.yaml"), '1 5', 'b.yaml loads');
}

# (d) clients that leave while their answers wait

{
    my $before = () = items('a.yaml');
    my @paths = map { "/a/leave/$_" } 1 .. 10;
    my @clients = map { send_get($_) } @paths;

    my @order = held_turn(\@clients, 10, sub {
        # every second client goes before the worker sees its answer
        for my $i (grep { $_ % 2 == 0 } 0 .. $#clients) {
            close $clients[$i]{socket};
            $clients[$i]{closed} = 1;
        }
    });

    my @kept = grep { !$clients[$_]{closed} } 0 .. $#clients;
    my @bad = bad_answers([ @clients[@kept] ], [ @paths[@kept] ]);
    is(scalar(@bad), 0, 'the clients that stayed have their answers whole')
        or diag(join "\n", @bad);

    my @items = items('a.yaml');
    is(scalar(@items) - $before, 10,
       'every answer of the turn is recorded, also those whose client left');
    is(scalar(grep { !complete($_) } @items), 0, 'each one complete');
    is(yaml_count("$root/cassettes/a.yaml"), '1 ' . scalar(@items),
       'a.yaml loads');
    is($nginx->get('/play/leave/1')->{status}, 200,
       'the worker goes on, and replays what a client that left did not get');
    my @w = $nginx->worker_pids;
    is("@w", $worker, 'the same worker runs: it did not crash');
}

# (e) the worker killed while answers wait

{
    my $before = slurp("$root/cassettes/b.yaml");
    my @paths = map { "/b/killed/$_" } 1 .. 5;
    my @clients = map { send_get($_) } @paths;

    held_turn(\@clients, 5, undef, 'KILL');

    my $got = 0;
    for my $c (@clients) {
        $got++ if read_answer($c) =~ /^HTTP\/1\.1 200/;
    }
    is($got, 0, 'a worker killed while the answers wait: no client has one');
    is(slurp("$root/cassettes/b.yaml"), $before,
       'and none of them is in the cassette');

    my $killed = $worker;
    $worker = wait_until($WAIT, sub {
        (grep { $_ != $killed } $nginx->worker_pids)[0]
    }, 0.05);
    ok($worker, 'a new worker runs');

    my @again = map { send_get($_) } @paths;
    my @order = held_turn(\@again, 5);
    my @bad = bad_answers(\@again, \@paths);
    is(scalar(@bad), 0, 'asked again: answered') or diag(join "\n", @bad);
    is(scalar(grep { path_of($_) =~ m{^/b/killed/} } items('b.yaml')), 5,
       'and recorded');
    is(yaml_count("$root/cassettes/b.yaml"), '1 10', 'b.yaml loads');
}

# (f) pipelined requests, answered at once

$upstream->command('auto');

{
    my $s = connect_to($port);
    print $s join '', map { "GET /a/pipe/$_ HTTP/1.1\r\nHost: x\r\n\r\n" }
                      1 .. 3;
    my $data = read_until($s, qr/(?:.*?answer \d+ for \/a\/pipe\/\d\n){3}/s);
    my @got = $data =~ m{answer \d+ for (/a/pipe/\d)\n}g;
    is("@got", '/a/pipe/1 /a/pipe/2 /a/pipe/3',
       'pipelined requests: answered in order');
    close $s;
    is(join(' ', map { path_of($_) } grep { path_of($_) =~ m{/pipe/} }
                                     items('a.yaml')),
       '/a/pipe/1 /a/pipe/2 /a/pipe/3', 'and recorded in order');
}

# (g) answers that go on slowly

{
    my $r = $nginx->get('/slow/big?size=100000');
    is(length($r->{content}), 100000, 'limit_rate: the whole body');
    ok($r->{content} eq 'x' x 100000, 'as the upstream sent it');
    my ($item) = items('slow.yaml');
    ok($item && complete($item) && $item =~ /x{1000}/,
       'and recorded whole');

    my $c = slow_get($port, '/stream/chunked?size=300000');
    sleep 0.5;    # the rest of the answer waits in nginx meanwhile
    check_body($c, 'x', 300000, $WAIT, 'a slow client of an unbuffered '
               . 'chunked answer: the whole body');
    my ($sitem) = items('stream.yaml');
    ok($sitem && complete($sitem)
       && ($sitem =~ /^      string: "(x+)"$/m)[0] eq 'x' x 300000,
       'recorded whole, without its chunks');

    my $z = $nginx->get('/zip/page?size=5000',
                        { headers => { 'Accept-Encoding' => 'gzip' } });
    is($z->{headers}{'content-encoding'}, 'gzip', 'gzip after recording');
    my ($zitem) = items('zip.yaml');
    ok($zitem && ($zitem =~ /^      string: "(x+)"$/m)[0] eq 'x' x 5000,
       'the cassette has what the upstream sent, not the gzipped body');
}

# (h) HTTP/2: five streams of one connection

{
    $upstream->command('hold');
    my @paths = map { "/b/h2/$_" } 1 .. 5;
    my $h2 = H2->connect($h2_port);
    $h2->get(2 * $_ - 1, $paths[$_ - 1]) for 1 .. 5;

    held_turn([], 5);

    my %got = $h2->responses(5);
    my @bad = grep {
        my $r = $got{2 * $_ - 1};
        !$r || $r->{status} ne '200'
            || $r->{body} !~ m{\Aanswer \d+ for /b/h2/$_\n\z}
    } 1 .. 5;
    is("@bad", '', 'HTTP/2: five streams answered in one turn, each whole')
        or diag(explain(\%got));
    is(scalar(grep { path_of($_) =~ m{^/b/h2/} } items('b.yaml')), 5,
       'and recorded');
}

# (i) a reload while answers wait

{
    $upstream->command('hold');
    my @paths = map { "/b/reload/$_" } 1 .. 5;
    my @clients = map { send_get($_) } @paths;
    my $old = $worker;

    held_turn(\@clients, 5, sub {
        kill 'HUP', $nginx->master_pid or die "cannot signal nginx: $!";
        sleep 0.5;    # the new worker starts, the old one is told to go
    });

    my @bad = bad_answers(\@clients, \@paths);
    is(scalar(@bad), 0, 'a reload while answers wait: the old worker '
       . 'answers them whole') or diag(join "\n", @bad);
    is(scalar(grep { path_of($_) =~ m{^/b/reload/} } items('b.yaml')), 5,
       'and records them');

    my $deadline = time + $WAIT;
    sleep 0.05 while kill(0, $old) && time < $deadline;
    ok(!kill(0, $old), 'then it exits');
    is($nginx->get('/play/twice')->{status}, 200, 'the new worker answers');
}

my $log = $nginx->error_log;
# (e) kills a worker on purpose: the master's alert of it is expected
unlike($log =~ s/^.*exited on signal 9.*\n//mgr,
       qr/\[alert\]|\[crit\]|\[emerg\]|cannot record/,
       'no alert, nothing that could not be recorded');

$nginx->stop;
$upstream->stop;

done_testing();


#---------------------------------------------------------------------------

sub connect_to {
    my ($to) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$to",
                                  Timeout => $WAIT)
        or die "cannot connect to $to: $!";
    $s->autoflush(1);
    return $s;
}

sub send_get {
    my ($path) = @_;
    my $s = connect_to($port);
    print $s "GET $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    return { socket => $s, path => $path };
}

# The upstream holds $n requests; the worker is stopped, the upstream
# answers them all, and the worker goes on ($then runs before it does),
# or is sent $sig instead.  Returns the paths in the order answered.
sub held_turn {
    my ($clients, $n, $then, $sig) = @_;

    my $deadline = time + $WAIT;
    until ($upstream->command('count') >= $n) {
        die "the upstream got fewer than $n requests\n" if time > $deadline;
        sleep 0.02;
    }

    kill 'STOP', $worker or die "cannot stop the worker: $!";
    my @order = split ' ', $upstream->command('go');
    sleep 0.3;    # the answers reach the worker's sockets
    $then->() if $then;
    sleep 0.1 if $then;
    kill $sig // 'CONT', $worker;
    kill 'CONT', $worker if $sig;
    return @order;
}

sub read_until {
    my ($s, $re) = @_;
    my $data = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + $WAIT;
    while ($data !~ $re && time < $deadline) {
        next unless $sel->can_read(0.1);
        my $n = sysread($s, $data, 65536, length $data);
        last unless $n;
    }
    return $data;
}

# The whole answer, up to the end of the connection.
sub read_answer {
    my ($c) = @_;
    return read_until($c->{socket}, qr/(?!)/);
}

# What is wrong with the answers: each client must have the upstream's
# answer for its own path, whole.
sub bad_answers {
    my ($clients, $paths) = @_;
    my @bad;
    for my $i (0 .. $#$clients) {
        my $data = read_answer($clients->[$i]);
        my ($head, $body) = split /\r\n\r\n/, $data, 2;
        $body //= '';
        my ($num) = $body =~ m{\Aanswer (\d+) for \Q$paths->[$i]\E\n\z};
        push @bad, "$paths->[$i]: " . ($head // '(nothing)') . " $body"
            unless defined $num && ($head // '') =~ /^HTTP\/1\.1 200 /;
    }
    return @bad;
}

sub items {
    my ($name) = @_;
    my (undef, @items) = split_items(slurp("$root/cassettes/$name"));
    return @items;
}

sub path_of {
    my ($item) = @_;
    return ($item =~ m{^    uri: "http://up(/[^"]*)"$}m)[0] // '?';
}

sub answer_of {
    my ($item) = @_;
    return ($item =~ /^      string: "answer (\d+) for /m)[0] // '?';
}

sub body_of {
    my ($r) = @_;
    return $r->{content} =~ s/\n\z//r;
}



#---------------------------------------------------------------------------
# The upstream: a child process that reads requests and answers them as
# it is told through a socket pair.
#
#   count   how many requests wait
#   go      answer every one that waits, in the order they came; the
#           reply is their paths in that order
#   auto    from now on, answer each request as it comes
#   hold    from now on, hold them again
#
# The answer to the n-th request (counted from 1 over the whole run) to
# PATH is "answer n for PATH\n"; with "size=N" in the query it is N bytes
# of "x" instead, sent in chunks for a path with "chunked" in it.
#---------------------------------------------------------------------------

package Upstream;

use POSIX ();
use IO::Select;
use IO::Socket::INET;
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);

sub start {
    my ($class, $port) = @_;

    socketpair(my $parent, my $child, AF_UNIX, SOCK_STREAM, PF_UNSPEC)
        or die "socketpair: $!";
    my $listen = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$port",
                                       Listen => 256, ReuseAddr => 1)
        or die "cannot listen on $port: $!";

    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        close $parent;
        serve($listen, $child);
        POSIX::_exit(0);
    }
    close $child;
    close $listen;
    $parent->autoflush(1);
    return bless { pid => $pid, control => $parent }, $class;
}

sub command {
    my ($self, $what) = @_;
    my $c = $self->{control};
    print $c "$what\n";
    my $reply = <$c>;
    die "the upstream did not answer \"$what\"\n" unless defined $reply;
    chomp $reply;
    return $reply;
}

sub stop {
    my ($self) = @_;
    kill 'KILL', $self->{pid};
    waitpid $self->{pid}, 0;
}

sub serve {
    my ($listen, $control) = @_;
    $control->autoflush(1);

    my $sel = IO::Select->new($listen, $control);
    my (%buf, @waiting);
    my $auto = 0;
    my $n = 0;

    my $answer = sub {
        my ($s, $path, $query) = @_;
        $n++;
        my ($size) = $query =~ /(?:^|&)size=(\d+)/;
        my $body = defined $size ? 'x' x $size : "answer $n for $path\n";
        my $head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
        if ($path =~ /chunked/) {
            my $out = $head . "Transfer-Encoding: chunked\r\n\r\n";
            for (my $i = 0; $i < length $body; $i += 16384) {
                my $part = substr($body, $i, 16384);
                $out .= sprintf("%x\r\n%s\r\n", length $part, $part);
            }
            $body = $out . "0\r\n\r\n";
            $head = '';
        } else {
            $head .= 'Content-Length: ' . length($body) . "\r\n\r\n";
        }
        $s->blocking(1);
        print {$s} $head . $body;
        $s->blocking(0);
    };

    for (;;) {
        for my $s ($sel->can_read) {
            if ($s == $listen) {
                my $c = $listen->accept or next;
                $c->autoflush(1);
                $c->blocking(0);
                $buf{$c} = '';
                $sel->add($c);
                next;
            }

            if ($s == $control) {
                my $cmd = <$control>;
                return unless defined $cmd;
                chomp $cmd;
                if ($cmd eq 'count') {
                    print $control scalar(@waiting), "\n";
                } elsif ($cmd eq 'go') {
                    my @paths;
                    for my $w (@waiting) {
                        $answer->(@$w);
                        push @paths, $w->[1];
                    }
                    @waiting = ();
                    print $control "@paths\n";
                } elsif ($cmd eq 'auto') {
                    $auto = 1;
                    print $control "ok\n";
                } elsif ($cmd eq 'hold') {
                    $auto = 0;
                    print $control "ok\n";
                }
                next;
            }

            my $got = sysread($s, $buf{$s}, 65536, length $buf{$s});
            if (!$got) {
                @waiting = grep { $_->[0] != $s } @waiting;
                $sel->remove($s);
                delete $buf{$s};
                close $s;
                next;
            }

            # a request's head: nginx sends no body with a GET
            while ($buf{$s} =~ s/\A(.*?)\r\n\r\n//s) {
                my ($target) = $1 =~ /^GET (\S+) HTTP/;
                my ($path, $query) = split /\?/, $target // '/', 2;
                my $req = [ $s, $path, $query // '' ];
                if ($auto) {
                    $answer->(@$req);
                } else {
                    push @waiting, $req;
                }
            }
        }
    }
}


#---------------------------------------------------------------------------
# Just enough of an HTTP/2 client: GETs sent at once on one connection
# (prior knowledge, no TLS), the status and body of each stream read.
#---------------------------------------------------------------------------

package H2;

use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

sub connect {
    my ($class, $port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 10)
        or die "cannot connect to $port: $!";
    $s->autoflush(1);
    print $s "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", frame(4, 0, 0, '');
    return bless { socket => $s, data => '' }, $class;
}

sub frame {
    my ($type, $flags, $stream, $payload) = @_;
    return substr(pack('N', length $payload), 1)
           . pack('CCN', $type, $flags, $stream) . $payload;
}

# a literal header field, its name indexed in the static table
sub literal {
    my ($index, $value) = @_;
    return pack('CC', $index, length $value) . $value;
}

sub get {
    my ($self, $stream, $path) = @_;
    # :method GET, :scheme http, :path, :authority
    my $block = "\x82\x86" . literal(4, $path) . literal(1, 'x');
    print {$self->{socket}} frame(1, 0x5, $stream, $block);
}

# stream => { status, body } for $n streams that end, or what came of
# them in 10 seconds
sub responses {
    my ($self, $n) = @_;
    my (%got, $done);
    my $s = $self->{socket};
    my $sel = IO::Select->new($s);
    my $deadline = time + 10;

    while (($done // 0) < $n && time < $deadline) {
        while (length $self->{data} >= 9) {
            my ($len, $type, $flags, $stream)
                = unpack('NCCN', "\0" . substr($self->{data}, 0, 9));
            last if length $self->{data} < 9 + $len;
            my $payload = substr($self->{data}, 9, $len);
            substr($self->{data}, 0, 9 + $len, '');
            $stream &= 0x7fffffff;

            if ($type == 4 && !($flags & 1)) {
                print $s frame(4, 1, 0, '');         # SETTINGS ACK
            } elsif ($type == 1) {
                # ":status: 200" is entry 8 of the static table
                $got{$stream}{status} = ord($payload) == 0x88 ? '200'
                                        : sprintf('0x%02x', ord $payload);
                $got{$stream}{body} //= '';
            } elsif ($type == 0) {
                $got{$stream}{body} .= $payload;
            } elsif ($type == 3 || $type == 7) {
                $got{$stream}{status} = "reset ($type)";
                $done++;
                next;
            }
            $done++ if ($type == 0 || $type == 1) && ($flags & 1);
        }
        next unless $sel->can_read(0.1);
        my $r = sysread($s, $self->{data}, 65536, length $self->{data});
        last unless $r;
    }
    return %got;
}
