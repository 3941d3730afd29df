# Two nginx instances share their sequences through Redis (mock_redis).
#
# Both instances replay the same cassette with the same mock_redis
# prefix, against the suite's Redis on $TEST_NGINX_REDIS_PORT.  Requests
# of one test session alternate between the instances (A, B, A, B) and
# still get n=1, n=2, n=3 and then "already played": the counter is in
# Redis, not in either nginx.  A second test session, interleaved with
# the first, gets a sequence of its own.
#
# Then, asking Redis directly:
#   - each session has one counter key, named
#     <prefix><store id>:<session>:<group hash>:<first interaction>;
#   - the key expires: its PTTL is positive and at most the configured
#     ttl, and a counter made anew gets its expiry at once;
#   - a location with "mock_repeats on" has no sequence, so its requests
#     add no key.
#
# The counter key names the cassette by its full path (a part of the
# store id), so both instances name the same file, as they would with
# one configuration deployed twice.  The cassette sits next to the two
# server roots, under t/servroot-redis-instances/.
#
# Every run uses its own key prefix and deletes its keys at the end; the
# shared Redis is otherwise left alone.
#
# This file runs its own two nginx instances as Test::Nginx runs one
# nginx and cannot ask Redis between two requests.

use strict;
use warnings;

use Test::More;
use File::Path qw(make_path remove_tree);
use FindBin;

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                write_file alive is_response redis_command cassette);

skip_under_valgrind('two instances started and stopped with deadlines '
                    . 'that nginx under valgrind does not meet');

my $module = module_under_test();

my $redis_port = $ENV{TEST_NGINX_REDIS_PORT} || 16379;
my $top        = "$FindBin::Bin/servroot-redis-instances";
my $cassette   = "$top/cassettes/seq.yaml";
my $repeat     = "$top/cassettes/repeat.yaml";

my $WAIT = 10;        # seconds to wait for nginx to start, stop, answer
my $TTL  = 90;        # the ttl= of mock_redis, in seconds

# This run's keys, and only these, start with the prefix.
my $prefix = "t-redis-instances-$$-" . time() . ':';

# A second run of this file waits for this one to finish.
my $lock = lock_run("$top.lock");

# The two instances: each its own server root, port and master.  Two
# workers each: the sequence is shared by four processes.
my $parent = $$;
my $A = MockTest::Nginx->new(name => 'A', root => "$top/a",
                             port => server_port(31), workers => 2,
                             module => $module, wait => $WAIT);
my $B = MockTest::Nginx->new(name => 'B', root => "$top/b",
                             port => server_port(32), workers => 2,
                             module => $module, wait => $WAIT);
my @instances = ($A, $B);

# Stop both instances and remove this run's keys whatever happens.
END {
    local $?;
    if (@instances && $$ == $parent) {
        $_->stop for @instances;
        delete_keys();
    }
}

# The suite's Redis must be there: scripts/run-tests.sh starts it.
my ($pong) = redis('PING');
if (($pong // '') ne 'PONG') {
    BAIL_OUT("no Redis answers on 127.0.0.1:$redis_port (redis-cli PING: "
             . ($pong // 'nothing') . '); run the suite through '
             . 'scripts/run-tests.sh, which starts one');
}

# nginx instances left over by an interrupted earlier run would hold the
# ports.
$_->stop_leftover for @instances;

remove_tree($top);
make_path("$top/cassettes");

write_file($cassette, cassette('/c', 'n=1', 'n=2', 'n=3'));
write_file($repeat, cassette('/r', 'r=1', 'r=2'));

for my $inst (@instances) {
    make_path($inst->root . '/conf', $inst->root . '/logs');
    my $port = $inst->port;

    # The timeout is generous (nginx may run under a sanitizer): a late
    # answer would be counted in the shared zone instead, and the
    # warning would show it.
    write_file($inst->conf, $inst->conf_head . <<"EOF");
http {
    access_log logs/access.log;

    mock_redis 127.0.0.1:$redis_port prefix=$prefix timeout=5s ttl=${TTL}s;

    server {
        listen 127.0.0.1:$port;

        location /c {
            mock_replay $cassette;
            mock_session \$http_x_test_id;
        }

        location /r {
            mock_replay $repeat;
            mock_session \$http_x_test_id;
            mock_repeats on;
        }
    }
}
EOF
}

$_->start for @instances;

# (a) one sequence, played by turns on the two instances
#
# Session S1 goes A, B, A, B; session S2, interleaved with it, goes B, A,
# B, A.  Each instance on its own would answer n=1 to the first request
# of a session it sees, so every n=2 and n=3 below was counted on the
# other instance.

my @plan = (
    [$A, 'S1', 200, 'n=1'],
    [$B, 'S2', 200, 'n=1'],
    [$A, 'S2', 200, 'n=2'],
    [$B, 'S1', 200, 'n=2'],
    [$A, 'S1', 200, 'n=3'],
    [$B, 'S2', 200, 'n=3'],
    [$A, 'S2', 404, qr/already played/],
    [$B, 'S1', 404, qr/already played/],
);

for my $i (0 .. $#plan) {
    my ($inst, $session, $status, $body) = @{ $plan[$i] };
    my $r = get($inst, '/c', $session);
    my $name = 'request ' . ($i + 1) . ": session $session on "
               . $inst->name . ' gets ' . (ref $body ? '"already played"'
                                                     : $body);
    if (ref $body) {
        ok($r->{status} == $status && $r->{content} =~ $body, $name)
            or diag("got $r->{status} $r->{content}");
    } else {
        is("$r->{status} $r->{content}", "$status $body", $name);
    }
}

# (b) the counter keys, and their expiry

my %key;
for my $session (qw(S1 S2)) {
    my @keys = grep { !/:plays$/ }
               redis('--scan', '--pattern', "$prefix*:$session:*");
    is(scalar(@keys), 1, "session $session has one counter key in Redis")
        or diag("keys: @keys");
    $key{$session} = $keys[0] // '';
    like($key{$session},
         qr/^\Q$prefix\E[0-9a-f]{8}:\Q$session\E:[0-9a-f]{8}:0$/,
         "the key of session $session is "
         . '<prefix><store>:<session>:<group>:<first interaction>');
    my ($plays) = redis('GET', $key{$session});
    ok(defined $plays && $plays =~ /^\d+$/ && $plays >= 3,
       "the key of session $session counts at least the 3 plays")
        or diag('value: ' . ($plays // 'none'));
    my ($pttl) = redis('PTTL', $key{$session});
    ok(defined $pttl && $pttl =~ /^\d+$/ && $pttl > 0 && $pttl <= $TTL * 1000,
       "the key of session $session expires within ttl=${TTL}s")
        or diag('PTTL: ' . ($pttl // 'none'));
}

# A counter made anew (after a reset or an expiry, here: deleted by
# hand) gets its expiry with its first play, though the workers renewed
# the old one moments ago.
redis('DEL', $key{S1});
my $r = get($B, '/c', 'S1');
is_response($r, 200, 'n=1', 'with its counter gone, S1 starts again');
my ($pttl) = redis('PTTL', $key{S1});
ok(defined $pttl && $pttl =~ /^\d+$/ && $pttl > 0 && $pttl <= $TTL * 1000,
   'the new counter expires within the ttl too')
    or diag('PTTL: ' . ($pttl // 'none'));

# (c) mock_repeats on: no sequence, no counter key (its plays are kept,
# for the fleet's unused list, and the journal grows)

my $counters = sub {
    return sort { $a cmp $b } grep { !/:plays$|:journal$/ }
           redis('--scan', '--pattern', "$prefix*");
};
my @before = $counters->();

for my $inst (@instances, @instances) {
    is_response(get($inst, '/r', 'S1'), 200, 'r=1',
                'mock_repeats on: ' . $inst->name . ' answers the first '
                . 'interaction again');
}

my @after = $counters->();
is_deeply(\@after, \@before, 'mock_repeats on adds no counter key to Redis')
    or diag("before: @before\nafter: @after");

# Nothing went wrong on either instance.
for my $inst (@instances) {
    my $log = $inst->error_log;
    unlike($log, qr/exited on signal|\[alert\]|\[crit\]|\[error\]/,
           $inst->name . ': no worker crashed, no error logged');
    unlike($log, qr/mock: Redis/,
           $inst->name . ': Redis answered every request in time '
           . '(no fallback to the shared zone)');
}

for my $inst (@instances) {
    my $master = $inst->master_pid;
    $inst->stop;
    ok(!alive($master), $inst->name . ' stopped');
}

done_testing();


# redis-cli against the suite's Redis; its output lines.
sub redis {
    return redis_command($redis_port, @_);
}

# This run's keys go, whatever the test left.
sub delete_keys {
    my @keys = eval { redis('--scan', '--pattern', "$prefix*") };
    redis('DEL', @keys) if @keys;
}

# A GET on its own connection, in a test session.
sub get {
    my ($inst, $path, $session) = @_;
    return $inst->get($path, { headers => { 'X-Test-Id' => $session } });
}
