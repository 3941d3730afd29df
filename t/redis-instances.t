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
#     ttl, and every play sets the expiry again;
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
use Fcntl qw(:flock);
use FindBin;
use File::Path qw(make_path remove_tree);
use File::Spec;
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(sleep time);

if ($ENV{TEST_NGINX_USE_VALGRIND}) {
    plan skip_all => 'two instances started and stopped with deadlines '
                     . 'that nginx under valgrind does not meet';
}

my ($module) = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
if (!defined $module) {
    plan skip_all => 'TEST_NGINX_LOAD_MODULES does not name the module '
                     . '(run through scripts/run-tests.sh or "make test")';
}
$module = File::Spec->rel2abs($module);
if (!-f $module) {
    plan skip_all => "module not found: $module";
}

my $nginx      = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $base_port  = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my $redis_port = $ENV{TEST_NGINX_REDIS_PORT} || 16379;
my $top        = "$FindBin::Bin/servroot-redis-instances";
my $cassette   = "$top/cassettes/seq.yaml";
my $repeat     = "$top/cassettes/repeat.yaml";

my $WAIT = 10;        # seconds to wait for nginx to start, stop, answer
my $TTL  = 90;        # the ttl= of mock_redis, in seconds

# This run's keys, and only these, start with the prefix.
my $prefix = "t-redis-instances-$$-" . time() . ':';

# The two instances: each its own server root, port and master.
my %A = (name => 'A', root => "$top/a", port => $base_port + 31);
my %B = (name => 'B', root => "$top/b", port => $base_port + 32);
my @instances = (\%A, \%B);

my $parent = $$;

# Stop both instances and remove this run's keys whatever happens.
END {
    local $?;
    if ($$ == $parent) {
        stop_nginx($_) for @instances;
        delete_keys();
    }
}

# Two runs of this file at once (say "make test" and "make asan" in the
# same tree) would share the server roots and the ports, and each would
# stop the other's nginx: the second run waits for the first.
open my $lock, '>>', "$top.lock" or die "cannot open $top.lock: $!";
if (!flock $lock, LOCK_EX | LOCK_NB) {
    diag("waiting for another run of this test to finish");
    flock $lock, LOCK_EX or die "cannot lock $top.lock: $!";
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
for my $inst (@instances) {
    if (open my $fh, '<', "$inst->{root}/logs/nginx.pid") {
        my $pid = <$fh>;
        close $fh;
        # Only when the pid is still an nginx: pids get reused.
        if (defined $pid && $pid =~ /^(\d+)/
            && slurp("/proc/$1/cmdline") =~ /nginx/)
        {
            $inst->{master_pid} = $1;
            stop_nginx($inst);
        }
    }
}

remove_tree($top);
make_path("$top/cassettes");

write_file($cassette, cassette('/c', 'n=1', 'n=2', 'n=3'));
write_file($repeat, cassette('/r', 'r=1', 'r=2'));

for my $inst (@instances) {
    $inst->{conf} = "$inst->{root}/conf/nginx.conf";
    make_path("$inst->{root}/conf", "$inst->{root}/logs");

    # Two workers each: the sequence is shared by four processes.  The
    # timeout is generous (nginx may run under a sanitizer): a late
    # answer would be counted in the shared zone instead, and the
    # warning would show it.
    write_file($inst->{conf}, <<"EOF");
load_module $module;
@{[ $> == 0 ? 'user root;' : '' ]}
daemon on;
master_process on;
worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;

events {
    worker_connections 64;
}

http {
    access_log logs/access.log;

    mock_redis 127.0.0.1:$redis_port prefix=$prefix timeout=5s ttl=${TTL}s;

    server {
        listen 127.0.0.1:$inst->{port};

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

start_nginx($_) for @instances;

# (a) one sequence, played by turns on the two instances
#
# Session S1 goes A, B, A, B; session S2, interleaved with it, goes B, A,
# B, A.  Each instance on its own would answer n=1 to the first request
# of a session it sees, so every n=2 and n=3 below was counted on the
# other instance.

my @plan = (
    [\%A, 'S1', 200, 'n=1'],
    [\%B, 'S2', 200, 'n=1'],
    [\%A, 'S2', 200, 'n=2'],
    [\%B, 'S1', 200, 'n=2'],
    [\%A, 'S1', 200, 'n=3'],
    [\%B, 'S2', 200, 'n=3'],
    [\%A, 'S2', 404, qr/already played/],
    [\%B, 'S1', 404, qr/already played/],
);

for my $i (0 .. $#plan) {
    my ($inst, $session, $status, $body) = @{ $plan[$i] };
    my $r = get($inst, '/c', $session);
    my $name = 'request ' . ($i + 1) . ": session $session on "
               . "$inst->{name} gets " . (ref $body ? '"already played"'
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
    my @keys = redis('--scan', '--pattern', "$prefix*:$session:*");
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

# The expiry is set again by every play: shorten it by hand, play once
# more (played out, but still counted), and it is back near the ttl.
redis('PEXPIRE', $key{S1}, 5000);
my $r = get(\%B, '/c', 'S1');
is($r->{status}, 404, 'one more request of S1 is still "already played"');
my ($pttl) = redis('PTTL', $key{S1});
ok(defined $pttl && $pttl =~ /^\d+$/ && $pttl > 5000 && $pttl <= $TTL * 1000,
   'that request set the expiry of the key to the ttl again')
    or diag('PTTL: ' . ($pttl // 'none'));

# (c) mock_repeats on: no sequence, no key

my @before = sort { $a cmp $b } redis('--scan', '--pattern', "$prefix*");

for my $inst (@instances, @instances) {
    is_response(get($inst, '/r', 'S1'), 200, 'r=1',
                "mock_repeats on: $inst->{name} answers the first "
                . 'interaction again');
}

my @after = sort { $a cmp $b } redis('--scan', '--pattern', "$prefix*");
is_deeply(\@after, \@before, 'mock_repeats on adds no key to Redis')
    or diag("before: @before\nafter: @after");

# Nothing went wrong on either instance.
for my $inst (@instances) {
    my $log = slurp("$inst->{root}/logs/error.log");
    unlike($log, qr/exited on signal|\[alert\]|\[crit\]|\[error\]/,
           "$inst->{name}: no worker crashed, no error logged");
    unlike($log, qr/mock: Redis/,
           "$inst->{name}: Redis answered every request in time "
           . '(no fallback to the shared zone)');
}

for my $inst (@instances) {
    my $master = $inst->{master_pid};
    stop_nginx($inst);
    ok(!alive($master), "$inst->{name} stopped");
}

done_testing();


# A cassette whose interactions all answer GET $path, with one body each.
sub cassette {
    my ($path, @bodies) = @_;
    my $yaml = "version: 1\ninteractions:\n";
    for my $body (@bodies) {
        $yaml .= <<"EOF";
- request: {method: GET, uri: 'http://svc$path', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: '$body'}}
EOF
    }
    return $yaml;
}

sub write_file {
    my ($file, $text) = @_;
    open my $fh, '>', $file or die "cannot write $file: $!";
    print {$fh} $text;
    close $fh or die "cannot write $file: $!";
}

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

# redis-cli against the suite's Redis; its output lines.
sub redis {
    my @args = @_;
    open my $out, '-|', 'redis-cli', '-p', $redis_port, @args
        or die "cannot run redis-cli: $!";
    my @lines = map { s/\s+\z//r } <$out>;
    close $out;
    return grep { length } @lines;
}

# This run's keys go, whatever the test left.
sub delete_keys {
    my @keys = eval { redis('--scan', '--pattern', "$prefix*") };
    redis('DEL', @keys) if @keys;
}

# Runs a command with stderr captured; returns its wait status and stderr.
sub run_cmd {
    my @cmd = @_;
    my $errfile = "$top/cmd.stderr";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $errfile;
        exec @cmd or do { print STDERR "exec $cmd[0]: $!\n"; POSIX::_exit(127) };
    }
    waitpid $pid, 0;
    my $rc = $?;
    my $err = slurp($errfile);
    unlink $errfile;
    return ($rc, $err);
}

sub read_pid {
    my ($inst) = @_;
    my $pid = slurp("$inst->{root}/logs/nginx.pid");
    return $pid =~ /^(\d+)/ ? $1 : undef;
}

# The children of an instance's master, from /proc: its workers.
sub worker_pids {
    my ($inst) = @_;
    my @pids;
    my $master = $inst->{master_pid} or return ();
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $line = slurp($stat) or next;
        # pid (comm) state ppid ...; comm may contain spaces.
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) /
                          && $2 == $master;
    }
    @pids = sort { $a <=> $b } @pids;
    $inst->{seen_workers}{$_} = 1 for @pids;
    return @pids;
}

sub start_nginx {
    my ($inst) = @_;
    my ($rc, $err) = run_cmd($nginx, '-p', "$inst->{root}/",
                             '-c', $inst->{conf});
    die "nginx $inst->{name} did not start:\n$err" if $rc != 0;

    # The daemon writes its pid file once it has detached.
    my $deadline = time + $WAIT;
    until (defined($inst->{master_pid} = read_pid($inst))
           && worker_pids($inst) >= 2)
    {
        if (time > $deadline) {
            die "nginx $inst->{name} did not come up:\n"
                . slurp("$inst->{root}/logs/error.log");
        }
        sleep 0.05;
    }
}

# A process that exited but was not reaped yet (the daemonized master is
# reaped by init) counts as gone.
sub alive {
    my ($pid) = @_;
    return kill(0, $pid) && slurp("/proc/$pid/stat") !~ /^\d+ \(.*\) Z /;
}

sub stop_nginx {
    my ($inst) = @_;
    my $master = $inst->{master_pid};

    if ($master && alive($master)) {
        worker_pids($inst);

        # QUIT first for a graceful stop, TERM and KILL if it hangs.
        for my $sig (qw(QUIT TERM KILL)) {
            kill $sig, $master;
            my $deadline = time + $WAIT;
            while (alive($master) && time < $deadline) {
                sleep 0.05;
            }
            last unless alive($master);
            diag("nginx $inst->{name} master $master ignored SIG$sig");
        }
    }

    # Workers whose master died would go on holding the port.
    for my $pid (keys %{ $inst->{seen_workers} || {} }) {
        kill 'KILL', $pid if slurp("/proc/$pid/cmdline") =~ /^nginx: worker/;
    }
    $inst->{seen_workers} = {};
    undef $inst->{master_pid};
}

# A GET on its own connection, in a test session.
sub get {
    my ($inst, $path, $session) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $WAIT);
    return $http->get("http://127.0.0.1:$inst->{port}$path",
                      { headers => { 'X-Test-Id' => $session } });
}

sub is_response {
    my ($r, $status, $body, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return is("$r->{status} $r->{content}", "$status $body", $name);
}
