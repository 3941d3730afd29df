# Delayed answers hold no worker, survive a reload, and end cleanly when
# their client leaves.
#
#   - 50 answers delayed 1 s each, asked for at once of one worker, all
#     come after about 1 s: they wait on timers, not in the worker;
#   - answers still waiting when nginx is reloaded (HUP) come whole, after
#     their delay, from the old workers, which then exit;
#   - clients that close their connection while their answer waits leave
#     no alert, no crash, and nginx answers on;
#   - a stall (mock_fault stall=) ends with its client too.
#
# Test::Nginx cannot send a signal in the middle of a block, so this file
# runs its own nginx under t/servroot-latency-reload/.

use strict;
use warnings;

use Test::More;
use FindBin;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                alive);

skip_under_valgrind('delays are timed with deadlines that nginx under '
                    . 'valgrind does not meet');

my $module = module_under_test();

my $port = server_port(152);
my $root = "$FindBin::Bin/servroot-latency-reload";
my $WAIT = 10;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port, workers => 1,
                                 module => $module, wait => $WAIT);

my $cassette = <<'EOF';
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'waited'}}
EOF

my $http = <<"EOF";
http {
    server {
        listen 127.0.0.1:$port;
        location /slow/ {
            mock_replay cassettes/c.yaml;
            mock_upstream http://svc/;
            mock_repeats on;
            mock_latency 1s;
        }
        location /stall/ {
            mock_replay cassettes/c.yaml;
            mock_upstream http://svc/;
            mock_repeats on;
            mock_fault stall=1s;
        }
        location /fast/ {
            mock_replay cassettes/c.yaml;
            mock_upstream http://svc/;
            mock_repeats on;
        }
    }
}
EOF

$nginx->setup(files => { 'cassettes/c.yaml' => $cassette }, http => $http,
              head => { connections => 256 });
$nginx->start;


# Sends a request on each of $n new connections; returns the sockets.
sub ask {
    my ($path, $n) = @_;
    my @socks;
    for (1 .. $n) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp',
                                      Timeout => $WAIT)
            or die "cannot connect: $!";
        print $s "GET $path HTTP/1.1\r\nHost: localhost\r\n"
                 . "Connection: close\r\n\r\n";
        push @socks, $s;
    }
    return @socks;
}

# Reads every socket to its end; returns, for each, what it read and when
# (seconds since $start) its first byte came.
sub answers {
    my ($start, @socks) = @_;
    my %got = map { $_ => { data => '', first => undef } } @socks;
    my $sel = IO::Select->new(@socks);
    my $deadline = time + $WAIT;

    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read(0.5)) {
            my $n = sysread($s, my $buf, 65536);
            if (!$n) {
                $sel->remove($s);
                close $s;
                next;
            }
            $got{$s}{first} //= time - $start;
            $got{$s}{data} .= $buf;
        }
    }
    return map { $got{$_} } @socks;
}


# 50 delayed answers of one worker, at once

my $start = time;
my @got = answers($start, ask('/slow/a', 50));
my @whole = grep { $_->{data} =~ m{^HTTP/1\.1 200 .*\r\n\r\nwaited\z}s } @got;
is(scalar @whole, 50, '50 delayed answers, all whole');
my ($min, $max) = (sort { $a <=> $b } map { $_->{first} // 99 } @got)[0, -1];
ok($min >= 0.95, sprintf('none before its delay (first after %.3f s)', $min));
ok($max < 1.9, sprintf('all after about 1 s: one worker waits for 50 at '
                       . 'once (last after %.3f s)', $max));


# a reload while answers wait

my @old = $nginx->worker_pids;
$start = time;
my @socks = ask('/slow/a', 5);
sleep 0.3;
kill 'HUP', $nginx->master_pid or die "cannot signal nginx: $!";

@got = answers($start, @socks);
@whole = grep { $_->{data} =~ m{^HTTP/1\.1 200 .*\r\n\r\nwaited\z}s } @got;
is(scalar @whole, 5, 'a reload while 5 answers wait: all 5 come whole');
ok(!grep({ ($_->{first} // 0) < 0.95 } @got),
   'a reload while answers wait: none comes before its delay');

my $deadline = time + $WAIT;
sleep 0.05 while grep({ alive($_) } @old) && time < $deadline;
ok(!grep({ alive($_) } @old), 'the old worker exits once its answers are sent');
like($nginx->get('/fast/a')->{content}, qr{^waited$}, 'the new workers answer');


# clients that leave while their answers wait

@socks = ask('/slow/a', 10);
push @socks, ask('/stall/a', 5);
sleep 0.2;
close $_ for @socks;
sleep 1.5;

like($nginx->get('/fast/a')->{content}, qr{^waited$},
     'clients gone while their answers wait: nginx answers on');

my $log = $nginx->error_log;
unlike($log, qr{\[(?:alert|crit|emerg)\]}, 'no alert, crit or emerg');
unlike($log, qr{exited on signal}, 'no worker crashed');
my $closed = () = $log =~ /client prematurely closed connection/g;
ok($closed >= 15, "every client that left is seen to leave ($closed)");

done_testing();
