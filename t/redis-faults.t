# mock_redis when Redis fails: requests are still answered, counted in
# nginx's shared zone instead, with one warning per outage, and nginx
# counts in Redis again once Redis is back.
#
# This file runs a Redis of its own on $TEST_NGINX_REDIS_PORT + 1 (the
# suite's Redis on $TEST_NGINX_REDIS_PORT is never touched), so that it
# can stop, kill and stall it, and its own nginx under
# t/servroot-redis-faults/.  Each case starts a fresh nginx, so that its
# error log holds that case only.  The counters in the shared zone are
# separate from the ones in Redis: a test session counted there starts
# again from the first interaction.
#
#   (a) Redis down when nginx starts: requests are answered from the
#       shared zone (a session gets n=1, n=2 in turn); ten requests over
#       more than two reconnection attempts give one warning, not one a
#       request; once Redis runs, nginx logs that it is back and counts
#       there again (a new session's key appears in Redis).
#   (b) Redis killed (SIGKILL) while a client sends requests: every one
#       is answered at once (200 n=1, each from a new session); a new
#       session then plays its whole sequence from the shared zone; one
#       warning; once Redis runs again nginx counts there again.
#   (c) Redis slower than timeout=200ms (DEBUG SLEEP 3 stalls it): each
#       request during the stall is answered well within 1.5 s from the
#       shared zone; one stall is one outage: one warning, and no "is
#       back" while Redis still sleeps; afterwards nginx counts in Redis
#       again.
#   (d) Redis answering an error (the counter key holds "abc", which
#       INCR refuses): the requests of that session are answered from
#       the shared zone, one warning quotes Redis's error; a session
#       whose key is sound is counted in Redis and nginx logs it is back.
#   (e) Redis stopped and started again while no request comes: the
#       warning, and once Redis runs again the "is back" notice, are
#       logged all the same, the notice within a few seconds of the
#       start.
#
# Every case runs with one worker and with two (both sharing one warning
# per outage).  In every case no worker may crash: no "exited on
# signal", [alert] or [crit] in the error log.

use strict;
use warnings;

use Test::More;
use File::Path qw(make_path remove_tree);
use FindBin;
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file alive redis_command cassette);

skip_under_valgrind('the cases are timed (a 200 ms Redis timeout, answers '
                    . 'within 1.5 s) for nginx at full speed, not under '
                    . 'valgrind');

my $module = module_under_test();

for my $cmd (qw(redis-server redis-cli)) {
    if (!grep { -x "$_/$cmd" } split /:/, $ENV{PATH}) {
        plan skip_all => "$cmd not found (apt-get install redis-server)";
    }
}

my $port       = server_port(33);
my $redis_port = ($ENV{TEST_NGINX_REDIS_PORT} || 16379) + 1;
my $root       = "$FindBin::Bin/servroot-redis-faults";
my $conf       = "$root/conf/nginx.conf";
my $redis_dir  = "$root/redis";

my $WAIT = 10;            # seconds to wait for something due "soon"
my $FAST = 1.5;           # an answer slower than this counts as a hang
my $REDIS_TIMEOUT = 0.2;  # timeout= of mock_redis, in seconds

my $prefix = "t-redis-faults-$$-" . time() . ':';

# The warning and the notice, as logged for this Redis.
my $name    = qr/mock: Redis "127\.0\.0\.1:$redis_port"/;
my $warn_re = qr/\[warn\] .*$name .*: this instance keeps counters, forced answers, session values and its journal in its own zone until it is back/;
my $back_re = qr/\[notice\] .*$name is back; the fleet's state is kept there again/;
my $bad_re  = qr/exited on signal|\[alert\]|\[crit\]/;

# A second run of this file would share the server root, the ports and
# the Redis: it waits for this one to finish.
my $lock = lock_run("$root.lock");

my $parent = $$;
my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);
my $redis_pid;
my @children;       # forked clients and redis-cli processes

# Stop nginx, Redis and the forked processes whatever happens (but not
# from a forked client).
END {
    local $?;
    if ($nginx && $$ == $parent) {
        $nginx->stop;
        stop_redis('KILL');
        for my $pid (@children) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
        }
    }
}

# An nginx or a Redis left over by an interrupted earlier run would hold
# the ports.  Only pids that are still an nginx, or a redis-server on
# our port, are stopped: pids get reused.
$nginx->stop_leftover;
if (slurp("$redis_dir/redis.pid") =~ /^(\d+)/
    && slurp("/proc/$1/cmdline") =~ /redis-server.*:$redis_port\b/)
{
    $redis_pid = $1;
    stop_redis('KILL');
}

if (redis_answers()) {
    BAIL_OUT("something already answers Redis PING on 127.0.0.1:"
             . "$redis_port; this test needs that port for a Redis of "
             . 'its own (TEST_NGINX_REDIS_PORT + 1)');
}

remove_tree($root);
make_path("$root/conf", "$root/logs", "$root/cassettes", $redis_dir);

write_file("$root/cassettes/seq.yaml",
           cassette('/c', 'n=1', 'n=2', 'n=3'));

for my $workers (1, 2) {
    my $w = "$workers worker" . ($workers > 1 ? 's' : '');
    case_down_at_start($workers, "(a) $w");
    case_killed($workers, "(b) $w");
    case_slow($workers, "(c) $w");
    case_error($workers, "(d) $w");
    case_back_quietly($workers, "(e) $w");
}

$nginx->stop;
stop_redis('TERM');
ok(!$nginx->masters_of_this_root, 'nginx stopped');
ok(!redis_answers(), 'Redis stopped');

done_testing();


#---------------------------------------------------------------------------
# The cases
#---------------------------------------------------------------------------

# (a) Redis is down when nginx starts.
sub case_down_at_start {
    my ($workers, $label) = @_;

    stop_redis('TERM');
    restart_nginx($workers);

    # Ten requests, 0.25 s apart: the workers try to connect again every
    # second meanwhile, and fail each time.
    my @got;
    for my $i (1 .. 10) {
        # Session "a" twice, then a new session each time.
        my $session = $i <= 2 ? 'a' : "a$i";
        push @got, timed_get($session);
        sleep 0.25;
    }

    check_answers("$label, Redis down", \@got,
                  [ 'n=1', 'n=2', ('n=1') x 8 ]);

    my @warnings = log_lines($warn_re);
    is(scalar(@warnings), 1, "$label: one warning for ten requests while "
                             . 'Redis is down') or diag_log();
    like($warnings[0] // '', qr/cannot connect/,
         "$label: the warning says nginx cannot connect");

    start_redis();
    check_back($label, 'a-back');
    check_no_crash($label);
}

# (b) Redis is killed while requests flow.
sub case_killed {
    my ($workers, $label) = @_;

    start_redis();
    restart_nginx($workers);
    ok(wait_counted_in_redis('b-ready'),
       "$label: nginx counts in Redis before the kill") or diag_log();

    is_response(timed_get('b'), 200, 'n=1', "$label: session b gets n=1");
    is_response(timed_get('b'), 200, 'n=2', "$label: session b gets n=2");
    is(redis_get(key_of('b')), 2, "$label: ... counted in Redis");

    # A client sends requests for 2.5 s, each from a new session; Redis
    # dies 1 s into it.
    my $results = "$root/client.results";
    my $client = run_client($results, 2.5, 'b-flow');
    sleep 1;
    stop_redis('KILL');
    waitpid $client, 0;
    @children = grep { $_ != $client } @children;

    my @got = read_client($results);
    cmp_ok(scalar(@got), '>=', 5, "$label: the client sent requests "
                                  . 'before and after the kill');
    check_answers("$label, Redis killed mid-run", \@got,
                  [ ('n=1') x @got ]);

    # Now Redis is down for sure: a new session plays its whole
    # sequence, counted in the shared zone.
    my @seq = map { timed_get('b-after') } 1 .. 4;
    check_answers("$label, after the kill", \@seq,
                  [ 'n=1', 'n=2', 'n=3', 'already played' ]);

    my @warnings = log_lines($warn_re);
    is(scalar(@warnings), 1, "$label: one warning for the outage")
        or diag_log();
    is(scalar(log_lines($back_re)), 0,
       "$label: no \"is back\" while Redis is down") or diag_log();

    start_redis();
    check_back($label, 'b-back');
    check_no_crash($label);
}

# (c) Redis is slower than the timeout.
sub case_slow {
    my ($workers, $label) = @_;

    start_redis();
    restart_nginx($workers);
    ok(wait_counted_in_redis('c-ready'),
       "$label: nginx counts in Redis before the stall") or diag_log();

    # DEBUG SLEEP blocks Redis for 3 s; redis-cli returns when it ends.
    # The command is sent from a child, and the stall is taken to begin
    # once Redis no longer answers a PING within 100 ms.
    my $sleeper = spawn('redis-cli', '-p', $redis_port, 'DEBUG', 'SLEEP', 3);
    my $deadline = time + $WAIT;
    sleep 0.05 while redis_answers() && time < $deadline;
    my $stall_start = time;
    ok(!redis_answers(), "$label: DEBUG SLEEP stalls Redis")
        or diag("Redis log:\n" . slurp("$redis_dir/redis.log"));

    # Requests every 0.1 s for 2.2 s of the stall: session "c" plays n=1
    # to n=3, then each request is from a new session.
    my (@got, @expect);
    my $i = 0;
    while (time < $stall_start + 2.2) {
        $i++;
        push @got, timed_get($i <= 3 ? 'c' : "c$i");
        push @expect, $i <= 3 ? "n=$i" : 'n=1';
        sleep 0.1;
    }

    # Redis still sleeps (redis-cli has not returned): no "is back" may
    # have been logged so far.
    my $early_log = slurp("$root/logs/error.log");
    my $still_asleep = waitpid($sleeper, POSIX::WNOHANG()) == 0;

    check_answers("$label, Redis stalled", \@got, \@expect);

    my @warnings = log_lines($warn_re);
    is(scalar(@warnings), 1,
       "$label: one warning for one stall of Redis") or diag_log();
    like($warnings[0] // '', qr/did not answer in time/,
         "$label: the warning says Redis did not answer in time");
    SKIP: {
        skip "$label: Redis woke up before the log was read", 1
            unless $still_asleep;
        ok($early_log !~ $back_re,
           "$label: no \"is back\" while Redis still sleeps")
            or diag("error log while Redis slept:\n$early_log");
    }

    waitpid $sleeper, 0;
    @children = grep { $_ != $sleeper } @children;

    check_back($label, 'c-back');
    check_no_crash($label);
}

# (d) Redis answers with an error.
sub case_error {
    my ($workers, $label) = @_;

    start_redis();
    restart_nginx($workers);
    ok(wait_counted_in_redis('d-ready'),
       "$label: nginx counts in Redis before the error") or diag_log();

    is_response(timed_get('d'), 200, 'n=1', "$label: session d gets n=1");
    my $key = key_of('d');
    ok($key, "$label: session d has a key in Redis");

    # INCR fails on a value that is not an integer.
    redis_cli('SET', $key, 'abc');

    # Counted in the shared zone, which has not seen session d: it
    # starts from n=1.
    my @got = map { timed_get('d') } 1 .. 4;
    check_answers("$label, key holds \"abc\"", \@got,
                  [ 'n=1', 'n=2', 'n=3', 'already played' ]);

    my @warnings = log_lines($warn_re);
    is(scalar(@warnings), 1, "$label: one warning for four refused counts")
        or diag_log();
    like($warnings[0] // '', qr/answered with an error \(.*value is not an integer/,
         "$label: the warning quotes Redis's error") or diag_log();

    # A session whose key is sound is counted in Redis again.
    check_back($label, 'd-back');
    check_no_crash($label);
}


# (e) Redis goes and comes back while nginx has no requests.
sub case_back_quietly {
    my ($workers, $label) = @_;

    start_redis();
    restart_nginx($workers);
    ok(wait_connected($workers), "$label: every worker connects to Redis")
        or diag_log();

    stop_redis('TERM');
    ok(wait_for_log($warn_re), "$label: the outage is logged without a "
                               . 'request') or diag_log();

    # a few failed attempts to connect again
    sleep 1.5;
    is(scalar(log_lines($back_re)), 0,
       "$label: no \"is back\" while Redis is down") or diag_log();

    start_redis();
    my $start = time;
    ok(wait_for_log($back_re), "$label: \"is back\" is logged without a "
                               . 'request') or diag_log();
    cmp_ok(time - $start, '<', 4, "$label: ... within seconds of Redis "
                                  . 'coming back');
    is(scalar(log_lines($back_re)), 1, "$label: one notice for the outage")
        or diag_log();
    is(slurp("$root/logs/access.log"), '', "$label: nginx had no request "
                                           . 'meanwhile');

    check_back($label, 'e-back');
    check_no_crash($label);
}


#---------------------------------------------------------------------------
# Checks
#---------------------------------------------------------------------------

# Each answer [status, body, seconds] came in time, with the expected
# body: "n=<i>" (200) or "already played" (404).
sub check_answers {
    my ($label, $got, $expect) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my @bad;
    for my $i (0 .. $#$got) {
        my ($status, $body, $secs) = @{ $got->[$i] };
        my $want = $expect->[$i] // '?';
        my $ok = $want eq 'already played'
                 ? $status == 404 && $body =~ /already played/
                 : $status == 200 && $body eq $want;
        $ok &&= $secs < $FAST;
        push @bad, sprintf('request %d: %s %s in %.3f s, expected %s',
                           $i + 1, $status, substr($body, 0, 60), $secs,
                           $want)
            unless $ok;
    }
    is(scalar(@bad), 0, "$label: " . scalar(@$got) . ' requests answered '
                        . "as expected, each within $FAST s")
        or diag(join "\n", @bad);
}

# Once Redis runs again: the "is back" notice, and requests counted in
# Redis again by every worker.
sub check_back {
    my ($label, $session) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    ok(wait_counted_in_redis("$session-first"),
       "$label: after the outage a new session is counted in Redis again")
        or diag_log();
    ok(wait_for_log($back_re), "$label: \"is back\" is logged")
        or diag_log();

    # Each worker connects again within a second or so; after that every
    # request is counted in Redis, whichever worker takes it.
    sleep 1.5;
    my @local;
    for my $i (1 .. 6) {
        my $s = "$session-$i";
        my $r = timed_get($s);
        push @local, "$s: $r->[0] $r->[1]"
            if !($r->[0] == 200 && $r->[1] eq 'n=1' && key_of($s));
    }
    is(scalar(@local), 0, "$label: then every new session is counted in "
                          . 'Redis') or diag(join "\n", @local);
}

sub check_no_crash {
    my ($label) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my @lines = log_lines($bad_re);
    is(scalar(@lines), 0, "$label: no worker crashed, no [alert] or [crit]")
        or diag(join "\n", @lines);
}


#---------------------------------------------------------------------------
# Redis
#---------------------------------------------------------------------------

# Starts this test's own Redis in the foreground, as a child process, and
# waits until it answers.  Redis 7 refuses DEBUG unless told to allow it.
sub start_redis {
    return if $redis_pid && alive($redis_pid);

    my @debug;
    if (`redis-server --version` =~ /\bv=(\d+)/ && $1 >= 7) {
        @debug = ('--enable-debug-command', 'local');
    }

    $redis_pid = spawn('redis-server', '--bind', '127.0.0.1',
                       '--port', $redis_port, '--save', '',
                       '--appendonly', 'no', '--daemonize', 'no',
                       '--dir', $redis_dir,
                       '--logfile', "$redis_dir/redis.log", @debug);
    @children = grep { $_ != $redis_pid } @children;
    write_file("$redis_dir/redis.pid", "$redis_pid\n");

    my $deadline = time + $WAIT;
    until (redis_answers()) {
        if (time > $deadline || !alive($redis_pid)) {
            die "redis-server did not start on port $redis_port:\n"
                . slurp("$redis_dir/redis.log");
        }
        sleep 0.05;
    }
}

# Stops this test's Redis with $sig (TERM, or KILL for a crash).
sub stop_redis {
    my ($sig) = @_;
    return unless $redis_pid;
    kill $sig, $redis_pid;
    my $deadline = time + $WAIT;
    while (alive($redis_pid) && time < $deadline) {
        waitpid $redis_pid, POSIX::WNOHANG();
        sleep 0.02;
    }
    kill 'KILL', $redis_pid if alive($redis_pid);
    waitpid $redis_pid, 0;
    unlink "$redis_dir/redis.pid";
    undef $redis_pid;
}

# Whether Redis answers PING within 100 ms (a raw socket: redis-cli
# would wait for a stalled Redis).
sub redis_answers {
    require IO::Socket::INET;
    require IO::Select;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $redis_port,
                                     Proto => 'tcp', Timeout => 0.1)
        or return 0;
    print {$sock} "PING\r\n";
    my $answer = '';
    if (IO::Select->new($sock)->can_read(0.1)) {
        sysread $sock, $answer, 64;
    }
    close $sock;
    return $answer =~ /^\+PONG/;
}

# redis-cli against this test's Redis; its output lines.
sub redis_cli {
    return redis_command($redis_port, @_);
}

sub redis_get {
    my ($key) = @_;
    return undef unless $key;
    my ($value) = redis_cli('GET', $key);
    return $value;
}

# The counter key of a test session, if Redis has one.
sub key_of {
    my ($session) = @_;
    my @keys = grep { !/:plays$/ }
               redis_cli('--scan', '--pattern', "$prefix*:$session:*");
    return $keys[0];
}

# Waits until Redis has $n clients other than redis-cli: the workers'
# connections.  True if that happens within $WAIT seconds.
sub wait_connected {
    my ($n) = @_;
    my $deadline = time + $WAIT;
    while (time < $deadline) {
        return 1 if grep({ !/cmd=client/ } redis_cli('CLIENT', 'LIST')) >= $n;
        sleep 0.05;
    }
    return 0;
}

# Sends requests from new sessions ("$session-1", ...) until one of them
# gets a key in Redis; true if that happens within $WAIT seconds.
sub wait_counted_in_redis {
    my ($session) = @_;
    my $deadline = time + $WAIT;
    for (my $i = 1; time < $deadline; $i++) {
        timed_get("$session-$i");
        return 1 if key_of("$session-$i");
        sleep 0.2;
    }
    return 0;
}


#---------------------------------------------------------------------------
# Clients
#---------------------------------------------------------------------------

# One GET /c in a test session, on its own connection: [status, body,
# seconds].  A hang shows as status 599 after 3 s.
sub timed_get {
    my ($session) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 3);
    my $start = time;
    my $r = $http->get("http://127.0.0.1:$port/c",
                       { headers => { 'X-Test-Id' => $session } });
    my $body = $r->{content} // '';
    $body =~ s/\n.*//s if $r->{status} == 599;
    return [ $r->{status}, $body, time - $start ];
}

# Forks a client that sends requests for $secs seconds, each from a new
# session, and writes "status \t seconds \t body" lines to $file.
sub run_client {
    my ($file, $secs, $session) = @_;
    unlink $file;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        my $ok = eval {
            open my $out, '>', $file or die "$file: $!";
            my $end = time + $secs;
            for (my $i = 1; time < $end; $i++) {
                my ($status, $body, $t) = @{ timed_get("$session-$i") };
                $body =~ s/\n/\\n/g;
                printf {$out} "%s\t%.3f\t%s\n", $status, $t, $body;
                sleep 0.05;
            }
            close $out or die "$file: $!";
            1;
        };
        print STDERR "client: $@" unless $ok;
        # _exit: no END blocks in the client, no Test::More output.
        POSIX::_exit($ok ? 0 : 1);
    }
    push @children, $pid;
    return $pid;
}

sub read_client {
    my ($file) = @_;
    my @got;
    for my $line (split /\n/, slurp($file)) {
        my ($status, $secs, $body) = split /\t/, $line, 3;
        $body =~ s/\\n/\n/g;
        push @got, [ $status, $body, $secs ];
    }
    return @got;
}

# Runs a command in the background, its output to /dev/null; its pid.
sub spawn {
    my @cmd = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }
    push @children, $pid;
    return $pid;
}

sub is_response {
    my ($r, $status, $body, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return is("$r->[0] $r->[1]", "$status $body", $name);
}


#---------------------------------------------------------------------------
# nginx
#---------------------------------------------------------------------------

# A fresh nginx with $workers workers and an empty error log.
sub restart_nginx {
    my ($workers) = @_;

    $nginx->stop;
    unlink "$root/logs/error.log", "$root/logs/access.log";

    write_file($conf, $nginx->conf_head(workers => $workers) . <<"EOF");
http {
    access_log logs/access.log;

    mock_redis 127.0.0.1:$redis_port prefix=$prefix timeout=@{[ $REDIS_TIMEOUT * 1000 ]}ms ttl=10m;

    server {
        listen 127.0.0.1:$port;

        location /c {
            mock_replay cassettes/seq.yaml;
            mock_session \$http_x_test_id;
        }
    }
}
EOF

    $nginx->start($workers);
}

# The error log's lines matching $re.
sub log_lines {
    my ($re) = @_;
    return grep { /$re/ } split /\n/, slurp("$root/logs/error.log");
}

sub diag_log {
    diag("error log:\n" . slurp("$root/logs/error.log"));
}

# Waits for a line matching $re in the error log.
sub wait_for_log {
    my ($re) = @_;
    my $deadline = time + $WAIT;
    until (log_lines($re)) {
        return 0 if time > $deadline;
        sleep 0.05;
    }
    return 1;
}
