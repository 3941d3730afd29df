# A fleet whose Redis fails: every request is still answered, from the
# instance's own state, with one warning per outage, and the fleet is
# one again once Redis is back.
#
# Two instances, A and B (two workers each), replay their own copies of
# two cassettes (relative paths) and share them through a Redis of this
# file's own: redis-server processes it starts on ports and a unix
# socket of its own (the suite's Redis is never touched).  Each case
# starts both instances afresh, so that their error logs hold that case
# only, and checks that the workers are the same at its end (none
# crashed and was replaced), that no error log says "exited on signal",
# [alert] or [crit], and that no answer was a 5xx.
#
#   (a) Redis killed (SIGKILL) while a client sends requests to A and B
#       by turns: each is answered in time; during the outage a session
#       is counted by each instance on its own, a forced answer says
#       "redis": null and applies on its instance only, unused and the
#       journal say "fleet": false; one warning per instance; Redis
#       started again while the client sends: every request answered in
#       time; "is back" is logged and sequences are shared again.
#   (b) Redis slower than timeout=200ms (DEBUG SLEEP 2): requests and
#       admin requests are answered within 1.5 s; one warning per
#       instance; shared again afterwards.
#   (c) Redis with requirepass: with the right password file (A's
#       without a line end at its end, B's with one) the sequence is
#       shared; with a wrong one a warning names Redis and
#       "auth", no password is in the logs, and the requests are answered
#       by each instance on its own.
#   (d) Clients that close their connection while the Redis reply is
#       pending (during DEBUG SLEEP), for replay and admin requests: no
#       worker dies, and later requests are answered and shared.
#   (e) A unix socket address (mock_redis unix:/path): the sequence is
#       shared through it.
#
# This file runs its own nginx instances under t/servroot-fleet-faults/.

use strict;
use warnings;

use Test::More;
use File::Path qw(make_path);
use FindBin;
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file cassette fleet_instances json_of wait_until
                redis_delete_prefix);

skip_under_valgrind('the cases are timed (a 200 ms Redis timeout, answers '
                    . 'within 1.5 s) for nginx at full speed, not under '
                    . 'valgrind');

my $module = module_under_test();
MockTest::Redis::skip_without_redis();

my $top    = "$FindBin::Bin/servroot-fleet-faults";
my $prefix = "t-fleet-faults-$$-" . time() . ':';
my $WAIT   = 10;     # seconds for something due "soon"
my $FAST   = 1.5;    # an answer slower than this counts as a hang
my $bad_re = qr/exited on signal|\[alert\]|\[crit\]/;

my $lock = lock_run("$top.lock");

my $parent = $$;
my @fleet = fleet_instances(top => $top, names => [qw(A B)],
                            offsets => [117, 118], workers => 2,
                            module => $module);
my ($A, $B) = @fleet;

# The Redis servers: plain, with a password, on a unix socket only.
my $password = "pw-$$-" . int(rand 1e9);
my $wrong    = "wrong-$$-" . int(rand 1e9);
my $tcp  = MockTest::Redis->new(dir => "$top/redis-tcp",
                                port => server_port(119));
my $auth = MockTest::Redis->new(dir => "$top/redis-auth",
                                port => server_port(120),
                                password => $password);
my $unix = MockTest::Redis->new(dir => "$top/redis-unix", port => 0,
                                socket => "$top/redis-unix/redis.sock");
my @redis = ($tcp, $auth, $unix);
my @children;

END {
    local $?;
    if (defined $parent && $$ == $parent) {
        $_->stop for @fleet;
        for my $pid (@children) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
        }
        for my $redis (@redis) {
            redis_delete_prefix($redis, $prefix) if $redis->answers;
            $redis->stop('KILL');
        }
    }
}

$_->stop_leftover for @redis;
for my $redis ($tcp, $auth) {
    BAIL_OUT('something already answers Redis PING on port ' . $redis->port)
        if $redis->answers;
}

my %files = (
    'cassettes/seq.yaml'   => cassette('/c', map { "n=$_" } 1 .. 5),
    'cassettes/force.yaml' => cassette('/f', map { "f=$_" } 1 .. 3),
);
make_path($top);
write_file("$top/redis-a.pass", $password);
write_file("$top/redis-b.pass", "$password\n");
write_file("$top/redis-wrong.pass", "$wrong\n");

my @statuses;   # of every answer in a case
my %pids;       # the workers at the start of a case

case_killed();
case_slow();
case_password();
case_closed();
case_unix();

$_->stop for @fleet;
for my $redis (@redis) {
    redis_delete_prefix($redis, $prefix) if $redis->answers;
    $redis->stop;
}
ok(!grep({ $_->masters_of_this_root } @fleet), 'nginx stopped');
ok(!grep({ $_->answers } @redis), 'the Redis servers stopped');

done_testing();


#---------------------------------------------------------------------------
# The cases
#---------------------------------------------------------------------------

# (a) Redis killed mid-run, and started again.
sub case_killed {
    my $label = '(a)';
    $tcp->start;
    start_fleet($label, '127.0.0.1:' . $tcp->port . ' timeout=200ms')
        or return;
    ok(wait_shared(), "$label: A and B share a sequence before the kill")
        or diag_logs();

    # A client sends requests for 2.5 s, to A and B by turns, each from
    # a new session; Redis dies 1 s into it.
    my $results = "$top/client.results";
    my $client = run_client($results, 2.5, 'a-flow');
    sleep 1;
    $tcp->stop('KILL');
    waitpid $client, 0;
    @children = grep { $_ != $client } @children;
    my @got = read_client($results);
    cmp_ok(scalar(@got), '>=', 5, "$label: the client sent requests before "
                                  . 'and after the kill');
    check_answers("$label: Redis killed mid-run", \@got, [ ('n=1') x @got ]);

    # The outage: each instance counts on its own.
    my @seq = map { timed_get($_, '/c', 'a-down') } $A, $B, $A;
    check_answers("$label: a session during the outage, A, B, A", \@seq,
                  [ 'n=1', 'n=1', 'n=2' ]);

    my $r = $A->post('/_mock/force', { content => JSON::PP->new->encode({
        session => 'a-force', method => 'GET', path => '/f',
        interaction => 2, store => $A->store_of(qr{/force\.yaml\z}) }) });
    push @statuses, $r->{status};
    my $data = json_of($r);
    is($r->{status}, 200, "$label: a forced answer during the outage is "
                          . 'taken') or diag($r->{content});
    ok($data && exists $data->{redis} && !defined $data->{redis},
       "$label: ... with \"redis\": null") or diag($r->{content});
    check_answers("$label: it applies on A only",
                  [ timed_get($A, '/f', 'a-force'),
                    timed_get($B, '/f', 'a-force') ], [ 'f=3', 'f=1' ]);

    for my $admin ('/_mock/journal', '/_mock/unused?session=a-down&store='
                                     . ($A->store_of(qr{/seq\.yaml\z}) // 0))
    {
        my $start = time;
        my $r = $A->get($admin);
        my $secs = time - $start;
        push @statuses, $r->{status};
        my $data = json_of($r);
        ok($r->{status} == 200 && $secs < $FAST
           && $data && JSON::PP::is_bool($data->{fleet}) && !$data->{fleet},
           "$label: $admin on A during the outage: this instance's view, "
           . '"fleet": false') or diag("$r->{status} in $secs s: $r->{content}");
    }

    for my $inst (@fleet) {
        my @warn = $inst->log_lines(qr/\[warn\].*Redis/i);
        is(scalar(@warn), 1, "$label: " . $inst->name . ' warns once for '
                             . 'the outage') or diag(join "\n", @warn);
    }

    # Redis starts again while a client sends requests: they are all
    # answered in time.
    $client = run_client($results, 2, 'a-again');
    sleep 0.5;
    $tcp->start;
    waitpid $client, 0;
    @children = grep { $_ != $client } @children;
    @got = read_client($results);
    cmp_ok(scalar(@got), '>=', 5, "$label: the client sent requests while "
                                  . 'Redis started again');
    check_answers("$label: Redis started again mid-run", \@got,
                  [ ('n=1') x @got ]);

    check_back($label);
    check_case($label);
}

# (b) Redis slower than the timeout.
sub case_slow {
    my $label = '(b)';
    $tcp->start;
    start_fleet($label, '127.0.0.1:' . $tcp->port . ' timeout=200ms')
        or return;
    ok(wait_shared(), "$label: A and B share a sequence before the stall")
        or diag_logs();

    my $sleeper = $tcp->stall(2);
    push @children, $sleeper;
    my $stall_start = time;
    ok(!$tcp->answers, "$label: DEBUG SLEEP stalls Redis");

    # For 1.5 s of the stall: replay requests of new sessions, and admin
    # requests, on A and B by turns.
    my @got;
    my @admin;
    for (my $i = 0; time < $stall_start + 1.5; $i++) {
        my $inst = $fleet[$i % 2];
        push @got, timed_get($inst, '/c', "b-$i");
        my $path = ('/_mock/journal', '/_mock/unused?session=b-0&store=0',
                    '/_mock/cassettes')[$i % 3];
        my $start = time;
        my $r = $inst->get($path);
        push @statuses, $r->{status};
        push @admin, $inst->name . " $path: $r->{status} in "
                     . sprintf('%.3f s', time - $start)
            if $r->{status} != 200 || time - $start >= $FAST;
    }
    check_answers("$label: Redis stalled", \@got, [ ('n=1') x @got ]);
    is(scalar(@admin), 0, "$label: admin requests answered 200 within "
                          . "$FAST s") or diag(join "\n", @admin);

    waitpid $sleeper, 0;
    @children = grep { $_ != $sleeper } @children;

    for my $inst (@fleet) {
        my @warn = $inst->log_lines(qr/\[warn\].*Redis/i);
        is(scalar(@warn), 1, "$label: " . $inst->name . ' warns once for '
                             . 'the stall') or diag(join "\n", @warn);
    }
    check_back($label);
    check_case($label);
}

# (c) requirepass, with the right password and with a wrong one.
sub case_password {
    my $label = '(c)';
    $auth->start;
    # A's file ends without a line end, B's with one: both send the
    # same password.
    if (start_fleet("$label right password", '127.0.0.1:' . $auth->port
                    . ' timeout=200ms password=' . $top . '/redis-%s.pass'))
    {
        my @seq = map { timed_get($_, '/c', 'c-right') } $A, $B, $A;
        check_answers("$label: with the right password A, B, A share the "
                      . 'sequence', \@seq, [ 'n=1', 'n=2', 'n=3' ]);
        ok(scalar($auth->command('--scan', '--pattern', "$prefix*")),
           "$label: the fleet's keys are in the Redis with the password");
        for my $inst (@fleet) {
            my @warn = $inst->log_lines(qr/\[warn\].*Redis/i);
            is(scalar(@warn), 0, "$label: " . $inst->name . ' has nothing '
                                 . 'to warn about') or diag(join "\n", @warn);
            unlike($inst->error_log, qr/\Q$password\E/,
                   "$label: " . $inst->name . ' logs no password');
        }
        check_case("$label right password");
    }

    $_->stop for @fleet;
    if (start_fleet("$label wrong password", '127.0.0.1:' . $auth->port
                    . " timeout=200ms password=$top/redis-wrong.pass"))
    {
        # Over two seconds: the workers try to connect again meanwhile.
        my @seq;
        for my $inst ($A, $B, $A, $B, $A, $B) {
            push @seq, timed_get($inst, '/c', 'c-wrong');
            sleep 0.35;
        }
        check_answers("$label: with a wrong password each instance counts "
                      . 'on its own', \@seq,
                      [ 'n=1', 'n=1', 'n=2', 'n=2', 'n=3', 'n=3' ]);
        for my $inst (@fleet) {
            my @warn = $inst->log_lines(qr/\[warn\].*Redis/i);
            is(scalar(@warn), 1, "$label: " . $inst->name . ' warns once')
                or diag(join "\n", @warn);
            like($warn[0] // '', qr/auth/i, "$label: ... about auth");
            my $log = $inst->error_log;
            ok(index($log, $wrong) < 0 && index($log, $password) < 0,
               "$label: " . $inst->name . ' logs neither password');
        }
        is(scalar($auth->command('--scan', '--pattern', "$prefix*:c-wrong:*")),
           0, "$label: nothing of that session reached Redis");
        check_case("$label wrong password");
    }
    $_->stop for @fleet;
    $auth->stop;
}

# (d) clients that go away while Redis has not answered.
sub case_closed {
    my $label = '(d)';
    $tcp->start;
    start_fleet($label, '127.0.0.1:' . $tcp->port . ' timeout=500ms')
        or return;
    ok(wait_shared(), "$label: A and B share a sequence") or diag_logs();

    my $store = $A->store_of(qr{/force\.yaml\z}) // 0;
    my $sleeper = $tcp->stall(2);
    push @children, $sleeper;
    my $force = JSON::PP->new->encode({ session => 'd-f', method => 'GET',
                                        path => '/f', interaction => 1,
                                        store => $store });
    my @sent;
    for my $i (1 .. 4) {
        for my $inst (@fleet) {
            push @sent, gone($inst, "GET /c HTTP/1.1\r\nX-Test-Id: d-$i\r\n");
            push @sent, gone($inst, "GET /f HTTP/1.1\r\nX-Test-Id: d-f\r\n");
            push @sent, gone($inst, "POST /_mock/force HTTP/1.1\r\n"
                                    . "Content-Type: application/json\r\n"
                                    . 'Content-Length: ' . length($force)
                                    . "\r\n", $force);
            push @sent, gone($inst, "GET /_mock/journal HTTP/1.1\r\n");
            push @sent, gone($inst, "GET /_mock/unused?session=d-1&store=0 "
                                    . "HTTP/1.1\r\n");
            push @sent, gone($inst, "POST /_mock/reset?session=d-2 "
                                    . "HTTP/1.1\r\n"
                                    . "Content-Type: application/json\r\n");
        }
    }
    is(scalar(grep { $_ } @sent), scalar(@sent),
       "$label: " . scalar(@sent) . ' requests sent and their connections '
       . 'closed while Redis sleeps');

    waitpid $sleeper, 0;
    @children = grep { $_ != $sleeper } @children;

    # Whatever the workers do with the replies that come now, they go on.
    sleep 0.5;
    check_answers("$label: then requests are answered",
                  [ map { timed_get($_, '/c', 'd-after') } $A, $B ],
                  [ 'n=1', qr/^n=[12]\z/ ]);
    check_back($label);
    check_case($label);
}

# (e) a unix socket.
sub case_unix {
    my $label = '(e)';
    $unix->start;
    start_fleet($label, 'unix:' . $unix->socket . ' timeout=200ms')
        or return;
    my @seq = map { timed_get($_, '/c', 'e-unix') } $A, $B, $A, $B;
    check_answers("$label: through the unix socket A, B, A, B share the "
                  . 'sequence', \@seq, [ map { "n=$_" } 1 .. 4 ]);
    ok(scalar($unix->command('--scan', '--pattern', "$prefix*")),
       "$label: the fleet's keys are in that Redis");
    for my $inst (@fleet) {
        my @warn = $inst->log_lines(qr/\[warn\].*Redis/i);
        is(scalar(@warn), 0, "$label: " . $inst->name . ' has nothing to '
                             . 'warn about') or diag(join "\n", @warn);
    }
    check_case($label);
    $_->stop for @fleet;
    $unix->stop;
}


#---------------------------------------------------------------------------
# Checks
#---------------------------------------------------------------------------

# Each answer [status, body, seconds] came within $FAST s, status 200,
# with the expected body (a string, or a pattern).
sub check_answers {
    my ($label, $got, $expect) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my @bad;
    for my $i (0 .. $#$got) {
        my ($status, $body, $secs) = @{ $got->[$i] };
        my $want = $expect->[$i] // '?';
        my $ok = $status == 200 && $secs < $FAST
                 && (ref $want ? $body =~ $want : $body eq $want);
        push @bad, sprintf('request %d: %s %s in %.3f s, expected %s',
                           $i + 1, $status, substr($body, 0, 60), $secs,
                           $want)
            unless $ok;
    }
    is(scalar(@bad), 0, "$label: " . scalar(@$got) . ' answers as expected, '
                        . "each within $FAST s") or diag(join "\n", @bad);
}

# Once Redis runs again: "is back" in both logs, then the sequences are
# shared again, whichever worker takes a request.
sub check_back {
    my ($label) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    for my $inst (@fleet) {
        ok(wait_until($WAIT, sub { $inst->log_lines(qr/is back/) }, 0.05),
           "$label: " . $inst->name . ' logs that Redis is back')
            or diag($inst->error_log);
    }
    ok(wait_shared(), "$label: a session is shared again") or diag_logs();
    # Each worker connects again within a second or so.
    sleep 1.5;
    my @bad;
    for my $i (1 .. 4) {
        my @got = map { timed_get($_, '/c', "$label-back-$i") } $A, $B, $A;
        my $got = join ' ', map { $_->[1] } @got;
        push @bad, "session $i: $got" if $got ne 'n=1 n=2 n=3';
    }
    is(scalar(@bad), 0, "$label: then every new session is shared by A and B")
        or diag(join "\n", @bad);
}

# What holds at the end of every case.
sub check_case {
    my ($label) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    for my $inst (@fleet) {
        my @bad = $inst->log_lines($bad_re);
        is(scalar(@bad), 0, "$label: " . $inst->name . ': no worker '
                            . 'crashed, no [alert] or [crit]')
            or diag(join "\n", @bad);
        is(join(' ', $inst->worker_pids), $pids{ $inst->name },
           "$label: " . $inst->name . ' has the workers it started with');
    }
    my @five = grep { $_ >= 500 } @statuses;
    is(scalar(@five), 0, "$label: no answer was a 5xx")
        or diag("statuses: @five");
}

# Sends new sessions to A then B until one is shared (n=1 on A, n=2 on
# B); true if that happens within 5 s (each worker connects again every
# second).  Once that has failed, later calls wait 1 s only, so that a
# fleet that shares nothing fails the file in less than a minute.
my $never_shared;
sub wait_shared {
    my $i = 0;
    my $ok = wait_until($never_shared ? 1 : 5, sub {
        $i++;
        my $s = "shared-$$-" . time() . "-$i";
        my $a = timed_get($A, '/c', $s);
        my $b = timed_get($B, '/c', $s);
        return $a->[1] eq 'n=1' && $b->[1] eq 'n=2';
    }, 0.2);
    $never_shared = 1 unless $ok;
    return $ok;
}

sub diag_logs {
    diag($_->name . " error log:\n" . $_->error_log) for @fleet;
}


#---------------------------------------------------------------------------
# nginx and clients
#---------------------------------------------------------------------------

# Both instances afresh, with "mock_redis $redis prefix=... ttl=10m",
# where a "%s" in $redis stands for the instance's name in lower case;
# false (a failed test) when they do not start.
sub start_fleet {
    my ($label, $redis_arg) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $_->stop for @fleet;
    @statuses = ();
    for my $inst (@fleet) {
        my $port = $inst->port;
        (my $redis = $redis_arg) =~ s/%s/lc $inst->name/e;
        $inst->setup(files => \%files, http => <<"EOF");
http {
    access_log logs/access.log;
    mock_redis $redis prefix=$prefix ttl=10m;

    server {
        listen 127.0.0.1:$port;

        mock_session \$http_x_test_id;

        location /c {
            mock_replay cassettes/seq.yaml;
        }

        location /f {
            mock_replay cassettes/force.yaml;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF
    }
    my @failed;
    for my $inst (@fleet) {
        eval { $inst->start; 1 } or push @failed, $@;
        $pids{ $inst->name } = join ' ', $inst->worker_pids;
    }
    # The workers connect (and send the password) as they start: the
    # case begins when every worker answers for the fleet, or when that
    # cannot come (a wrong password).
    fleet_ready() unless $label =~ /wrong password/;
    return ok(!@failed, "$label: A and B start with mock_redis $redis_arg")
        || diag(join "\n", @failed);
}

# Waits, up to $WAIT seconds, until eight journal requests in a row to
# each instance (whichever worker takes them) answer for the fleet.
sub fleet_ready {
    for my $inst (@fleet) {
        my $deadline = time + $WAIT;
        my $row = 0;
        while ($row < 8 && time < $deadline) {
            my $r = $inst->get('/_mock/journal?limit=1');
            if ($r->{status} == 200 && $r->{content} =~ /"fleet": true/) {
                $row++;
            } else {
                $row = 0;
                select(undef, undef, undef, 0.05);
            }
        }
    }
}

# One request in a session, on its own connection: [status, body,
# seconds].  A hang shows as status 599 after 3 s.
sub timed_get {
    my ($inst, $path, $session) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 3);
    my $start = time;
    my $r = $http->get('http://127.0.0.1:' . $inst->port . $path,
                       { headers => { 'X-Test-Id' => $session } });
    push @statuses, $r->{status};
    my $body = $r->{content} // '';
    $body =~ s/\n.*//s if $r->{status} == 599;
    $body = 'already played' if $r->{status} == 404
                                && $body =~ /already played/;
    return [ $r->{status}, $body, time - $start ];
}

# Sends the request head $head (and $body) to $inst and closes the
# connection 0.1 s later, before the answer; true if it was sent.
sub gone {
    my ($inst, $head, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $inst->port, Proto => 'tcp')
        or return 0;
    my $ok = print {$s} "${head}Host: localhost\r\n\r\n" . ($body // '');
    sleep 0.1;
    close $s;
    return $ok;
}

# Forks a client that sends requests for $secs seconds, to A and B by
# turns, each from a new session, and writes "status \t seconds \t body"
# lines to $file.
sub run_client {
    my ($file, $secs, $session) = @_;
    unlink $file;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        my $ok = eval {
            open my $out, '>', $file or die "$file: $!";
            my $end = time + $secs;
            for (my $i = 1; time < $end; $i++) {
                my ($status, $body, $t) =
                    @{ timed_get($fleet[$i % 2], '/c', "$session-$i") };
                $body =~ s/\n/\\n/g;
                printf {$out} "%s\t%.3f\t%s\n", $status, $t, $body;
                sleep 0.05;
            }
            close $out or die "$file: $!";
            1;
        };
        print STDERR "client: $@" unless $ok;
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
        push @statuses, $status;
        push @got, [ $status, $body, $secs ];
    }
    return @got;
}
