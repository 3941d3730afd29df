# Reloading nginx (SIGHUP to the master) re-reads the cassettes.
#
# Test::Nginx restarts nginx for every block and cannot send a HUP in the
# middle of a block, so this file runs its own nginx (master + worker)
# under t/servroot-reload/ and talks to it with HTTP::Tiny.
#
# What is checked:
#   - a reload picks up a rewritten cassette;
#   - a reload with a broken cassette is refused by the master: "nginx -t"
#     reports the file and line, the error log gets an [emerg] line, the
#     master keeps its pid and its old workers keep answering from the
#     old cassette;
#   - a reload after the cassette is fixed is accepted again;
#   - a reload re-reads cassettes and starts sequences anew, so an
#     interaction already played is played again after it;
#   - the admin API's reload does the same without nginx reloading, and
#     answers a broken cassette with 422 and changes nothing.

use strict;
use warnings;

use Test::More;
use Fcntl qw(:flock);
use FindBin;
use File::Path qw(make_path remove_tree);
use File::Spec;
use HTTP::Tiny;
use Time::HiRes qw(sleep time);

if ($ENV{TEST_NGINX_USE_VALGRIND}) {
    plan skip_all => 'reloads are timed with deadlines that nginx under '
                     . 'valgrind does not meet';
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

my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $port  = ($ENV{TEST_NGINX_SERVER_PORT} || 1984) + 11;
my $root  = "$FindBin::Bin/servroot-reload";
my $conf  = "$root/conf/nginx.conf";

# How long to wait for something that should happen "soon": generous, as
# the suite may run under AddressSanitizer; the waits end as soon as the
# awaited thing shows up.
my $WAIT = 10;

my $master_pid;
my %seen_workers;   # every worker seen, see stop_nginx()

# Stop nginx whatever happens: a failed assertion or a die must not leave
# a daemonized master behind.
END {
    local $?;
    stop_nginx();
}

# Two runs of this file at once (say "make test" and "make asan" in the
# same tree) would share the server root and the port, and each would
# stop the other's nginx: the second run waits for the first.
open my $lock, '>>', "$root.lock" or die "cannot open $root.lock: $!";
if (!flock $lock, LOCK_EX | LOCK_NB) {
    diag("waiting for another run of this test to finish");
    flock $lock, LOCK_EX or die "cannot lock $root.lock: $!";
}

# An nginx left over by an interrupted earlier run would hold the port.
if (open my $fh, '<', "$root/logs/nginx.pid") {
    my $pid = <$fh>;
    close $fh;
    # Only when the pid is still an nginx: pids get reused.
    if (defined $pid && $pid =~ /^(\d+)/
        && slurp("/proc/$1/cmdline") =~ /nginx/)
    {
        $master_pid = $1;
        stop_nginx();
    }
}

remove_tree($root);
make_path("$root/conf", "$root/logs", "$root/cassettes");

my $counter = "$root/cassettes/counter.yaml";
my $seq     = "$root/cassettes/seq.yaml";

write_file($counter, cassette('/counter', 'v1'));
write_file($seq, cassette('/seq', 'a', 'b'));

write_file($conf, <<"EOF");
load_module $module;
@{[ $> == 0 ? 'user root;' : '' ]}
daemon on;
master_process on;
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;

events {
    worker_connections 64;
}

http {
    access_log logs/access.log;

    server {
        listen 127.0.0.1:$port;

        location /counter {
            mock_replay cassettes/counter.yaml;
            mock_repeats on;
        }

        location /seq {
            mock_replay cassettes/seq.yaml;
            mock_repeats off;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF

start_nginx();

my @workers = worker_pids();
ok(@workers >= 1, 'nginx runs a worker process')
    or diag("master $master_pid has no children");

# (a) a rewritten cassette is picked up by a reload

is_response(get('/counter'), 200, 'v1', 'the first cassette answers v1');

write_file($counter, cassette('/counter', 'v2'));
reload();
ok(poll_body('/counter', 'v2'), 'after a reload the rewritten cassette '
                                . 'answers v2');
is_response(get('/counter'), 200, 'v2', 'and keeps answering v2');

# (b) a broken cassette: "nginx -t" fails, a reload is refused

my $pid_before = $master_pid;
@workers = worker_pids();

# YAML syntax error on line 4 ("mapping values are not allowed").
write_file($counter, <<'EOF');
version: 1
interactions:
- request:
    method: GET: oops
    uri: http://svc.test/counter
EOF

my ($rc, $err) = run_cmd($nginx, '-t', '-p', "$root/", '-c', $conf);
isnt($rc, 0, 'nginx -t fails with a broken cassette');
like($err, qr/\Q"$counter"\E/, 'nginx -t names the cassette')
    or diag($err);
like($err, qr/line 4\b/, 'nginx -t names the line of the error')
    or diag($err);

# "nginx -s reload" would parse the broken configuration itself and give
# up before signalling, so the master is sent the HUP directly.
my $log_offset = -s "$root/logs/error.log";
ok(kill('HUP', $master_pid), 'HUP sent with the broken cassette');

my $emerg = wait_for_log($log_offset, qr/\[emerg\].*\Q$counter\E/);
ok($emerg, 'the error log has an [emerg] line naming the cassette');

# Give a (wrongly) accepted reload time to start new workers.
sleep 1;

is_response(get('/counter'), 200, 'v2',
            'after the refused reload the old cassette still answers v2');
is(read_pid(), $pid_before, 'the master pid is unchanged');
ok(alive($pid_before), 'the master is still running');
is_deeply([worker_pids()], \@workers, 'the old workers are still serving')
    or diag(slurp("$root/logs/error.log"));

# (c) the fixed cassette is accepted by the next reload

write_file($counter, cassette('/counter', 'v3'));
($rc, $err) = run_cmd($nginx, '-t', '-p', "$root/", '-c', $conf);
is($rc, 0, 'nginx -t passes once the cassette is fixed') or diag($err);
reload();
ok(poll_body('/counter', 'v3'), 'after a reload the fixed cassette '
                                . 'answers v3');
is(read_pid(), $pid_before, 'the master pid is still unchanged');

# (d) a reload re-reads cassettes and starts sequences anew
#
# With mock_repeats off, two identical requests get the two recorded
# interactions in turn, a third one finds them played.  The new cycle
# after a reload has a new shared memory zone, so the sequence starts
# again from the first interaction even though the file did not change.

is_response(get('/seq'), 200, 'a', 'sequence: first request gets a');
is_response(get('/seq'), 200, 'b', 'sequence: second request gets b');
my $r = get('/seq');
is($r->{status}, 404, 'sequence: third request is 404');
like($r->{content}, qr/already played/, 'sequence: ... already played');
like(slurp("$root/logs/error.log"), qr/\[warn\].*already played/,
     'the played-out request is logged as a warning');

reload();
is_response(get('/seq'), 200, 'a',
            'a reload re-reads cassettes and starts sequences anew');
is_response(get('/seq'), 200, 'b', 'and the sequence goes on with b');

# (e) the admin API reloads the cassettes without nginx reloading
#
# The workers read the files again and swap the zone's indexes; the
# master and its workers stay as they are.

@workers = worker_pids();

write_file($counter, cassette('/counter', 'v4'));
$r = post('/_mock/reload');
is($r->{status}, 200, 'POST /_mock/reload answers 200');
like($r->{content},
     qr/^\{"reload": "done", "cassettes": 2, "interactions": 3\}$/,
     'and tells the cassettes and interactions it read');
is_response(get('/counter'), 200, 'v4',
            'the rewritten cassette answers at once, in every worker');
is_deeply([worker_pids()], \@workers, 'with the same workers');

is_response(get('/seq'), 200, 'a',
            'an admin reload starts sequences anew too');

write_file($counter, <<'EOF');
version: 1
interactions:
- request:
    method: GET: oops
    uri: http://svc.test/counter
EOF

$r = post('/_mock/reload');
is($r->{status}, 422, 'a broken cassette makes the admin reload a 422');
like($r->{content},
     qr/"error": "mock: cassette \\"\Q$counter\E\\", line 4, column \d+: /,
     'which names the cassette, line and column');
is_response(get('/counter'), 200, 'v4',
            'and the cassettes as they were keep answering');

write_file($counter, cassette('/counter', 'v5'));
$r = post('/_mock/reload');
is($r->{status}, 200, 'the fixed cassette is reloaded');
is_response(get('/counter'), 200, 'v5', 'and answers v5');

# Nothing crashed along the way.
my $log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/,
       'no worker crashed and no alert was logged');

stop_nginx();
ok(!alive($pid_before), 'nginx stopped');

done_testing();


# A cassette whose interactions all answer GET $path, with one body each.
sub cassette {
    my ($path, @bodies) = @_;
    my $yaml = "version: 1\ninteractions:\n";
    for my $body (@bodies) {
        $yaml .= <<"EOF";
- request:
    method: GET
    uri: http://svc.test$path
    body: null
    headers: {}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [text/plain]
    body: {string: '$body'}
EOF
    }
    return $yaml;
}

# Written to a temporary name and renamed, so the master never reads a
# half-written cassette.
sub write_file {
    my ($file, $text) = @_;
    open my $fh, '>', "$file.tmp" or die "cannot write $file.tmp: $!";
    print {$fh} $text;
    close $fh or die "cannot write $file.tmp: $!";
    rename "$file.tmp", $file or die "cannot rename $file.tmp: $!";
}

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

# Runs a command with stderr captured; returns its wait status and stderr.
sub run_cmd {
    my @cmd = @_;
    my $errfile = "$root/cmd.stderr";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $errfile;
        exec @cmd or do { print STDERR "exec $cmd[0]: $!\n"; exit 127 };
    }
    waitpid $pid, 0;
    my $rc = $?;
    my $err = slurp($errfile);
    unlink $errfile;
    return ($rc, $err);
}

sub read_pid {
    my $pid = slurp("$root/logs/nginx.pid");
    return $pid =~ /^(\d+)/ ? $1 : undef;
}

# The children of the master, from /proc: its worker processes.
sub worker_pids {
    my @pids;
    return () unless $master_pid;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $line = slurp($stat) or next;
        # pid (comm) state ppid ...; comm may contain spaces.
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) /
                          && $2 == $master_pid;
    }
    @pids = sort { $a <=> $b } @pids;
    $seen_workers{$_} = 1 for @pids;
    return @pids;
}

sub start_nginx {
    my ($rc, $err) = run_cmd($nginx, '-p', "$root/", '-c', $conf);
    die "nginx did not start:\n$err" if $rc != 0;

    # The daemon writes its pid file once it has detached.
    my $deadline = time + $WAIT;
    until (defined($master_pid = read_pid()) && worker_pids()) {
        if (time > $deadline) {
            die "nginx did not come up:\n" . slurp("$root/logs/error.log");
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
    if ($master_pid && alive($master_pid)) {
        worker_pids();

        # QUIT first for a graceful stop, TERM and KILL if it hangs.
        for my $sig (qw(QUIT TERM KILL)) {
            kill $sig, $master_pid;
            my $deadline = time + $WAIT;
            while (alive($master_pid) && time < $deadline) {
                sleep 0.05;
            }
            last unless alive($master_pid);
            diag("nginx master $master_pid ignored SIG$sig");
        }
    }

    # Workers whose master died would go on holding the port.
    for my $pid (keys %seen_workers) {
        kill 'KILL', $pid if slurp("/proc/$pid/cmdline") =~ /^nginx: worker/;
    }
    %seen_workers = ();
    undef $master_pid;
}

# HUP the master and wait until the reload is done: the workers of the
# old cycle have exited and new ones run.  Until then a request may still
# reach an old worker, which answers from the old cassette.
sub reload {
    my @old = worker_pids();
    kill 'HUP', $master_pid or die "cannot signal nginx: $!";

    my $deadline = time + $WAIT;
    while (time < $deadline) {
        my %now = map { $_ => 1 } worker_pids();
        last if %now && !grep { $now{$_} } @old;
        sleep 0.05;
    }
    my %now = map { $_ => 1 } worker_pids();
    if (grep { $now{$_} } @old) {
        diag("the old workers (@old) did not exit after the reload");
    }
}

sub get {
    my ($path) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $WAIT);
    return $http->get("http://127.0.0.1:$port$path");
}

sub post {
    my ($path) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $WAIT);
    return $http->post("http://127.0.0.1:$port$path");
}

sub is_response {
    my ($r, $status, $body, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = is("$r->{status} $r->{content}", "$status $body", $name);
    diag(slurp("$root/logs/error.log")) unless $ok;
    return $ok;
}

# GETs $path until it answers 200 with $body, for up to $WAIT seconds.
sub poll_body {
    my ($path, $body) = @_;
    my $deadline = time + $WAIT;
    my $r;
    while (time < $deadline) {
        $r = get($path);
        return 1 if $r->{status} == 200 && $r->{content} eq $body;
        sleep 0.1;
    }
    diag("last answer: $r->{status} $r->{content}");
    return 0;
}

# Waits for a line matching $re written to the error log after $offset.
sub wait_for_log {
    my ($offset, $re) = @_;
    my $deadline = time + $WAIT;
    while (1) {
        my $log = substr(slurp("$root/logs/error.log"), $offset // 0);
        return $1 if $log =~ /^(.*$re.*)$/m;
        if (time > $deadline) {
            diag("error log after the reload:\n$log");
            return undef;
        }
        sleep 0.05;
    }
}
