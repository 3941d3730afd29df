# Identical requests served concurrently by several worker processes get
# the recorded interactions exactly once each, in file order.
#
# The cassette holds 300 identical "GET /seq" interactions answering
# n=0 .. n=299, replayed with mock_repeats off by two workers that share
# the sequence through shared memory.  Forked clients send exactly 300
# requests at once, each on its own connection; then:
#   - every request got 200, and every n appears exactly once: no
#     interaction was handed out twice, none was skipped;
#   - the answers one client got are in increasing n order, as each
#     client waits for an answer before it sends its next request;
#   - request 301 finds the sequence played out: 404 "already played";
#   - the access log shows both workers took part, or the test proves
#     nothing about sharing the sequence between processes.
#
# This file runs its own nginx under t/servroot-concurrency/ as
# Test::Nginx runs a single worker unless told otherwise and cannot fork
# clients.

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
    plan skip_all => 'races between workers need nginx at full speed, '
                     . 'not under valgrind';
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
my $port  = ($ENV{TEST_NGINX_SERVER_PORT} || 1984) + 12;
my $root  = "$FindBin::Bin/servroot-concurrency";
my $conf  = "$root/conf/nginx.conf";

my $N       = 300;   # interactions, and requests in a burst
my $WORKERS = 2;
my $WAIT    = 10;    # seconds to wait for nginx to start, stop, answer

# Bursts tried in turn until both workers take part: the same 300
# requests spread over more and more concurrent clients.  Every burst
# is checked for exactly-once delivery in full; only the "both workers
# served" condition leads to the next burst.
my @CLIENTS = (10, 30, 60);

my $master_pid;
my %seen_workers;   # every worker seen, see stop_nginx()
my $parent = $$;

# Stop nginx whatever happens (but not from a forked client).
END {
    local $?;
    stop_nginx() if $$ == $parent;
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
make_path("$root/conf", "$root/logs", "$root/cassettes", "$root/clients");

write_file("$root/cassettes/seq.yaml", cassette($N));

write_file($conf, <<"EOF");
load_module $module;
@{[ $> == 0 ? 'user root;' : '' ]}
daemon on;
master_process on;
worker_processes $WORKERS;
error_log logs/error.log info;
pid logs/nginx.pid;

events {
    worker_connections 1024;
}

http {
    log_format mock '\$pid \$mock_status \$status';
    access_log logs/access.log mock;

    server {
        listen 127.0.0.1:$port backlog=1024;

        location /seq {
            mock_replay cassettes/seq.yaml;
            mock_repeats off;
        }
    }
}
EOF

my $both_served;

for my $attempt (0 .. $#CLIENTS) {
    my $clients = $CLIENTS[$attempt];
    my $label = "burst of $N requests from $clients clients";

    # A fresh nginx per burst: its sequence starts at n=0.
    stop_nginx();
    unlink "$root/logs/access.log";
    start_nginx();
    is(scalar(my @w = worker_pids()), $WORKERS, "$label: $WORKERS workers")
        or diag(slurp("$root/logs/error.log"));

    my @results = burst($clients);

    check_exactly_once($label, @results);

    my $r = get('/seq');
    is($r->{status}, 404, "$label: request " . ($N + 1) . ' is 404');
    like($r->{content}, qr/already played/,
         "$label: request " . ($N + 1) . ' finds the sequence played');

    # The access log is written before the connection is closed, so it
    # is complete once every client has its answer.
    my %pids;
    my ($hits, $lines) = (0, 0);
    for my $line (split /\n/, slurp("$root/logs/access.log")) {
        $lines++;
        my ($pid, $status) = split ' ', $line;
        $pids{$pid}++;
        $hits++ if $status eq 'hit';
    }
    is($lines, $N + 1, "$label: access log has one line per request");
    is($hits, $N, "$label: \$mock_status is \"hit\" for $N requests");

    my $log = slurp("$root/logs/error.log");
    unlike($log, qr/exited on signal|\[alert\]|\[crit\]|\[emerg\]/,
           "$label: no worker crashed, no alert");

    my $served = join ', ', map { "pid $_: $pids{$_}" } sort keys %pids;
    if (keys %pids >= $WORKERS) {
        pass("$label: served by $WORKERS workers ($served)");
        $both_served = 1;
        last;
    }
    diag("$label: all served by one worker ($served), "
         . 'trying again with more clients');
}

ok($both_served, 'some burst was served by more than one worker')
    or diag('the exactly-once checks above ran on a single worker only');

stop_nginx();
ok(!masters_of_this_root(), 'nginx stopped');

done_testing();


# Forks $clients clients that send $N requests between them; returns,
# per client, the list of [status, body] it got in the order it got them.
sub burst {
    my ($clients) = @_;

    # Client $i sends requests $i, $i + $clients, ...: $N in all.
    my @counts = map { int($N / $clients) + ($_ < $N % $clients ? 1 : 0) }
                 0 .. $clients - 1;

    # The clients wait on this pipe and all start when it is closed.
    pipe(my $gate_r, my $gate_w) or die "pipe: $!";

    my @kids;
    for my $i (0 .. $clients - 1) {
        my $file = "$root/clients/$i";
        unlink $file;
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            close $gate_w;
            my $ok = eval {
                open my $out, '>', $file or die "$file: $!";
                sysread $gate_r, my $buf, 1;   # returns at EOF
                my $http = HTTP::Tiny->new(keep_alive => 0,
                                           timeout => $WAIT);
                for (1 .. $counts[$i]) {
                    my $r = $http->get("http://127.0.0.1:$port/seq");
                    my $body = $r->{content} // '';
                    $body =~ s/\n/\\n/g;
                    print {$out} "$r->{status}\t$body\n";
                }
                close $out or die "$file: $!";
                1;
            };
            print STDERR "client $i: $@" unless $ok;
            # _exit: no END blocks in the clients, no Test::More output.
            POSIX::_exit($ok ? 0 : 1);
        }
        push @kids, $pid;
    }

    close $gate_r;
    close $gate_w;   # go

    for my $pid (@kids) {
        waitpid $pid, 0;
        diag("client $pid exited with status $?") if $?;
    }

    my @results;
    for my $i (0 .. $clients - 1) {
        my @got;
        open my $in, '<', "$root/clients/$i" or die "no results of $i: $!";
        while (my $line = <$in>) {
            chomp $line;
            push @got, [ split /\t/, $line, 2 ];
        }
        close $in;
        push @results, \@got;
    }
    return @results;
}

sub check_exactly_once {
    my ($label, @results) = @_;

    my (%seen, @bad, @unordered);
    my $answers = 0;

    for my $i (0 .. $#results) {
        my $last = -1;
        for my $got (@{ $results[$i] }) {
            my ($status, $body) = @$got;
            $answers++;
            if ($status ne '200' || $body !~ /^n=(\d+)$/) {
                push @bad, "client $i: $status $body";
                next;
            }
            my $n = $1;
            $seen{$n}++;
            push @unordered, "client $i: n=$n after n=$last" if $n <= $last;
            $last = $n;
        }
    }

    my @dup = grep { $seen{$_} > 1 } sort { $a <=> $b } keys %seen;
    my @missing = grep { !$seen{$_} } 0 .. $N - 1;
    my @extra = grep { $_ >= $N } keys %seen;

    is($answers, $N, "$label: $N answers");
    is(scalar(@bad), 0, "$label: all answered 200 n=<number>")
        or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
    is(scalar(@dup), 0, "$label: no interaction handed out twice")
        or diag("played more than once: n=@dup");
    is(scalar(@missing) + scalar(@extra), 0,
       "$label: every interaction n=0..n=" . ($N - 1) . ' played')
        or diag("missing: @missing; unknown: @extra");
    is(scalar(@unordered), 0,
       "$label: each client got its answers in file order")
        or diag(join "\n", @unordered);
}

# $n identical GET /seq interactions answering n=0 .. n=$n-1.
sub cassette {
    my ($n) = @_;
    my $yaml = "version: 1\ninteractions:\n";
    for my $i (0 .. $n - 1) {
        $yaml .= <<"EOF";
- request:
    method: GET
    uri: http://svc.test/seq
    body: null
    headers: {}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [text/plain]
    body: {string: 'n=$i'}
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

# Runs a command with stderr captured; returns its wait status and stderr.
sub run_cmd {
    my @cmd = @_;
    my $errfile = "$root/cmd.stderr";
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
    my $pid = slurp("$root/logs/nginx.pid");
    return $pid =~ /^(\d+)/ ? $1 : undef;
}

# The children of a master process, from /proc: its workers.
sub children_of {
    my ($ppid) = @_;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $line = slurp($stat) or next;
        # pid (comm) state ppid ...; comm may contain spaces.
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) /
                          && $2 == $ppid;
    }
    @pids = sort { $a <=> $b } @pids;
    return @pids;
}

sub worker_pids {
    my @pids = $master_pid ? children_of($master_pid) : ();
    $seen_workers{$_} = 1 for @pids;
    return @pids;
}

# nginx masters still running from this server root (their command line
# names it).
sub masters_of_this_root {
    my @pids;
    for my $cmdline (glob '/proc/[0-9]*/cmdline') {
        my $cmd = slurp($cmdline);
        push @pids, $cmdline =~ m{(\d+)} if index($cmd, $root) >= 0;
    }
    return @pids;
}

sub start_nginx {
    my ($rc, $err) = run_cmd($nginx, '-p', "$root/", '-c', $conf);
    die "nginx did not start:\n$err" if $rc != 0;

    # The daemon writes its pid file once it has detached.
    my $deadline = time + $WAIT;
    until (defined($master_pid = read_pid())
           && worker_pids() >= $WORKERS)
    {
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
    unlink "$root/logs/nginx.pid";
    undef $master_pid;
}

sub get {
    my ($path) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $WAIT);
    return $http->get("http://127.0.0.1:$port$path");
}
