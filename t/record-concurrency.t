# Recording from several worker processes at once.
#
# Two workers record through proxy_pass into one cassette while forked
# clients send 500 requests to 500 different paths, ten at a time.  The
# upstream is a location of the same nginx that answers with a body
# naming the path it received.  Then:
#   - every client got 200 and the body for its own path: recording does
#     not change what the client gets;
#   - the cassette has exactly 500 items, each one complete (it ends with
#     its "# recorded" line), each path exactly once, and each item's
#     response body is the one for its own uri: no interaction lost,
#     written twice or interleaved with another one;
#   - the file is valid YAML for PyYAML (version 1, 500 interactions) and
#     "nginx -t" accepts it;
#   - after switching the location to "mock_mode replay" (HUP), a sample
#     of the recorded paths is answered from the cassette with the
#     recorded bodies, although the upstream location now answers
#     something else.
#
# This file runs its own nginx under t/servroot-record-concurrency/, as
# Test::Nginx runs a single worker, cannot fork clients and cannot send a
# HUP in the middle of a block.

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

my $python = '/usr/bin/python3';
if (system("$python -c 'import yaml' >/dev/null 2>&1") != 0) {
    plan skip_all => "$python with PyYAML is needed to check the cassette "
                     . '(Debian: apt-get install python3-yaml)';
}

my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $port  = ($ENV{TEST_NGINX_SERVER_PORT} || 1984) + 21;
my $root  = "$FindBin::Bin/servroot-record-concurrency";
my $conf  = "$root/conf/nginx.conf";
my $cassette = "$root/html/rec.yaml";

my $CLIENTS  = 10;
my $REQUESTS = 50;                    # per client
my $N        = $CLIENTS * $REQUESTS;
my $WORKERS  = 2;
my $WAIT     = 10;   # seconds to wait for nginx to start, stop, answer

my $master_pid;
my %seen_workers;   # every worker seen, see stop_nginx()
my $parent = $$;

# Stop nginx whatever happens (but not from a forked client).
END {
    local $?;
    stop_nginx() if $$ == $parent;
}

# Two runs of this file at once would share the server root and the
# port: the second run waits for the first.
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
make_path("$root/conf", "$root/logs", "$root/html", "$root/clients");

# "reuseport" gives each worker its own listening socket and the kernel
# spreads the connections over them, so both workers record for sure.
write_file($conf, config(mode => 'record',
                         backend => 'return 200 "body for $uri\n";'));

start_nginx();
is(scalar(my @w = worker_pids()), $WORKERS, "$WORKERS workers run")
    or diag(slurp("$root/logs/error.log"));

# (a) 500 requests to 500 paths, recorded concurrently

my %want;   # path => body the client must get
for my $c (0 .. $CLIENTS - 1) {
    for my $n (0 .. $REQUESTS - 1) {
        $want{"/api/c$c/r$n"} = "body for /backend/c$c/r$n\n";
    }
}

my @results = burst();

my (@bad, %answered);
for my $got (@results) {
    my ($path, $status, $body) = @$got;
    $answered{$path}++;
    push @bad, "$path: $status $body"
        if $status ne '200' || $body ne $want{$path};
}
is(scalar(@results), $N, "$N answers");
is(scalar(keys %answered), $N, "$N different paths answered");
is(scalar(@bad), 0, 'every client got 200 with the body for its path')
    or diag(join "\n", map { s/\n/\\n/gr } @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

# The access log is written before the connection is closed, so it is
# complete once every client has its answer.
my %pids;
for my $line (split /\n/, slurp("$root/logs/access.log")) {
    my ($pid, $uri) = split ' ', $line;
    $pids{$pid}++ if $uri =~ m{^/api/};
}
ok(keys %pids >= $WORKERS, 'both workers recorded ('
   . join(', ', map { "pid $_: $pids{$_}" } sort keys %pids) . ')')
    or diag('the checks below then say nothing about sharing the file');

my $log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]|\[emerg\]/,
       'no worker crashed, no alert');
unlike($log, qr/mock: cannot record|is not recorded/,
       'no recording failed or was skipped');

# (b) the cassette: 500 complete items, each path once

my $text = slurp($cassette);
my ($head, @items) = split_items($text);

is($head, "# recorded by nginx: new interactions are appended at the end\nversion: 1\ninteractions:\n", 'the cassette starts with its '
   . 'version and the interactions key');
is(scalar(() = $text =~ /^- request:$/mg), $N,
   "$N \"- request:\" items at column 0");
is(scalar(() = $text =~ /^# recorded \S+$/mg), $N,
   "$N \"# recorded\" marks");
is(scalar(() = $text =~ /- request:/g), $N,
   'no "- request:" inside another item (an interleaved write)');

my (%recorded, @broken);
for my $i (0 .. $#items) {
    my $item = $items[$i];
    my @uris = $item =~ /^    uri: "(.*)"$/mg;
    my ($body) = $item =~ /^  response:\n    body:\n      string: (.*)$/m;

    if (@uris != 1) {
        push @broken, "item $i has " . scalar(@uris) . ' uri lines';
        next;
    }
    my ($path) = $uris[0] =~ m{^http://127\.0\.0\.1:$port/backend(/.*)$};
    if (!defined $path) {
        push @broken, "item $i: unexpected uri $uris[0]";
        next;
    }
    $path = "/api$path";
    $recorded{$path}++;

    push @broken, "item $i ($path) does not end with its \"# recorded\" line"
        unless $item =~ /\n# recorded \S+\n\z/;
    push @broken, "item $i ($path) is not a GET"
        unless $item =~ /^    method: "GET"$/m;
    push @broken, "item $i ($path) is not status 200"
        unless $item =~ /^      code: 200$/m;

    # The body for this very uri, as the writer quotes it.
    my $quoted = defined $want{$path} ? qq{"$want{$path}"} =~ s/\n/\\n/r
                                      : '(a path no client asked for)';
    push @broken, "item $i ($path): response body "
                  . ($body // '(none)') . ", not $quoted"
        unless defined $body && $body eq $quoted;
}

is(scalar(@broken), 0, 'every item is complete and consistent')
    or diag(join "\n", @broken[0 .. ($#broken < 19 ? $#broken : 19)]);

my @dup = grep { $recorded{$_} > 1 } sort keys %recorded;
my @missing = grep { !$recorded{$_} } sort keys %want;
is(scalar(@dup), 0, 'no path recorded twice')
    or diag("twice: @dup[0 .. ($#dup < 19 ? $#dup : 19)]");
is(scalar(@missing), 0, "all $N paths recorded")
    or diag("missing: @missing[0 .. ($#missing < 19 ? $#missing : 19)]");

my ($rc, $out, $err) = run_cmd(
    $python, '-c',
    'import yaml,sys; d=yaml.safe_load(open(sys.argv[1])); '
    . 'print(d["version"], len(d["interactions"]))',
    $cassette);
is($rc, 0, 'PyYAML loads the cassette') or diag($err);
is($out, "1 $N\n", "PyYAML: version 1, $N interactions");

($rc, $out, $err) = run_cmd($nginx, '-t', '-p', "$root/", '-c', $conf);
is($rc, 0, 'nginx -t accepts the recorded cassette') or diag($err);
unlike($err, qr/incomplete interaction/, 'nginx -t finds nothing incomplete')
    or diag($err);

# (c) replay what was recorded
#
# The upstream location now answers "changed ...": an answer with the
# recorded body can only come from the cassette.

write_file($conf, config(mode => 'replay',
                         backend => 'return 200 "changed for $uri\n";'));
reload();

is_response(get('/backend/c0/r0'), 200, "changed for /backend/c0/r0\n",
            'the upstream location answers something else now');

my @sample = map { "/api/c" . ($_ % $CLIENTS) . "/r"
                   . (($_ * 13) % $REQUESTS) } 0 .. 19;
my @wrong;
for my $path (@sample) {
    my $r = get($path);
    push @wrong, "$path: $r->{status} $r->{content}"
        unless $r->{status} == 200 && $r->{content} eq $want{$path};
}
is(scalar(@wrong), 0, scalar(@sample) . ' recorded paths replay their '
   . 'recorded bodies') or diag(join "\n", @wrong);

my $r = get('/api/never/recorded');
is($r->{status}, 404, 'a path that was not recorded is a miss, '
   . 'not proxied') or diag($r->{content});

$log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/,
       'no worker crashed, no alert');

stop_nginx();
ok(!masters_of_this_root(), 'nginx stopped');

done_testing();


sub config {
    my (%arg) = @_;
    return <<"EOF";
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
    log_format mock '\$pid \$uri \$status';
    access_log logs/access.log mock;

    server {
        listen 127.0.0.1:$port reuseport backlog=1024;

        # the service being recorded
        location /backend/ {
            $arg{backend}
        }

        location /api/ {
            proxy_pass http://127.0.0.1:$port/backend/;
            mock_upstream http://127.0.0.1:$port/backend/;
            mock_replay html/rec.yaml;
            mock_mode $arg{mode};
        }
    }
}
EOF
}

# Forks $CLIENTS clients; client $c sends GET /api/c$c/r0 .. r49, one
# after another, each on its own connection.  Returns [path, status,
# body] for every request.
sub burst {
    # The clients wait on this pipe and all start when it is closed.
    pipe(my $gate_r, my $gate_w) or die "pipe: $!";

    my @kids;
    for my $c (0 .. $CLIENTS - 1) {
        my $file = "$root/clients/$c";
        unlink $file;
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            close $gate_w;
            my $ok = eval {
                open my $out, '>', $file or die "$file: $!";
                sysread $gate_r, my $buf, 1;   # returns at EOF
                my $http = HTTP::Tiny->new(keep_alive => 0,
                                           timeout => $WAIT);
                for my $n (0 .. $REQUESTS - 1) {
                    my $path = "/api/c$c/r$n";
                    my $r = $http->get("http://127.0.0.1:$port$path");
                    my $body = $r->{content} // '';
                    $body =~ s/\\/\\\\/g;
                    $body =~ s/\n/\\n/g;
                    print {$out} "$path\t$r->{status}\t$body\n";
                }
                close $out or die "$file: $!";
                1;
            };
            print STDERR "client $c: $@" unless $ok;
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
    for my $c (0 .. $CLIENTS - 1) {
        open my $in, '<', "$root/clients/$c" or die "no results of $c: $!";
        while (my $line = <$in>) {
            chomp $line;
            my ($path, $status, $body) = split /\t/, $line, 3;
            $body =~ s/\\(\\|n)/$1 eq 'n' ? "\n" : '\\'/ge;
            push @results, [ $path, $status, $body ];
        }
        close $in;
    }
    return @results;
}

# A cassette written by the module: its head ("version: 1" and
# "interactions:"), then its items, each from its "- request:" line at
# column 0 up to the next one.
sub split_items {
    my ($text) = @_;
    my @parts = split /^(?=- request:)/m, $text;
    my $head = (@parts && $parts[0] !~ /^- request:/) ? shift @parts : '';
    return ($head, @parts);
}

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

# Runs a command; returns its wait status, its stdout and its stderr.
sub run_cmd {
    my @cmd = @_;
    my ($outfile, $errfile) = ("$root/cmd.stdout", "$root/cmd.stderr");
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $outfile;
        open STDERR, '>', $errfile;
        exec @cmd or do {
            print STDERR "exec $cmd[0]: $!\n";
            POSIX::_exit(127);
        };
    }
    waitpid $pid, 0;
    my $rc = $?;
    my ($out, $err) = (slurp($outfile), slurp($errfile));
    unlink $outfile, $errfile;
    return ($rc, $out, $err);
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
    my ($rc, $out, $err) = run_cmd($nginx, '-p', "$root/", '-c', $conf);
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

# HUP the master and wait until the reload is done: the workers of the
# old cycle have exited and new ones run.  Until then a request may still
# reach an old worker, which would still record.
sub reload {
    my @old = worker_pids();
    kill 'HUP', $master_pid or die "cannot signal nginx: $!";

    my $deadline = time + $WAIT;
    while (time < $deadline) {
        my %now = map { $_ => 1 } worker_pids();
        last if keys %now >= $WORKERS && !grep { $now{$_} } @old;
        sleep 0.05;
    }
    my %now = map { $_ => 1 } worker_pids();
    if (grep { $now{$_} } @old) {
        diag("the old workers (@old) did not exit after the reload:\n"
             . slurp("$root/logs/error.log"));
    }
}

sub get {
    my ($path) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $WAIT);
    return $http->get("http://127.0.0.1:$port$path");
}

sub is_response {
    my ($r, $status, $body, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = is("$r->{status} $r->{content}", "$status $body", $name);
    diag(slurp("$root/logs/error.log")) unless $ok;
    return $ok;
}
