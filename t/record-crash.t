# A recording cut short by a crash leaves a cassette that still loads.
#
# Each recorded interaction is appended with one write() and ends with a
# "# recorded" comment line.  A worker killed in the middle of that write
# leaves an incomplete item at the end of the file: nginx must load the
# cassette without it (a [warn] "... is ignored"), and a start that
# records into the file again cuts it off ("removed an incomplete
# interaction").
#
# nginx reads its configuration before it opens the error log, so on a
# first start the "is ignored" warning can only go to stderr: the stderr
# of "nginx" counts for it.  The removal happens later, when the shared
# memory is set up and the error log is open (the module logs its
# "interactions in ... bytes of zone" notice there at that point), so
# the removal must be in the error log.
#
#   (a) Two workers record a burst of concurrent requests with ~20 KB
#       response bodies while the workers are killed with SIGKILL a few
#       times (the master starts new ones).  Afterwards every complete
#       item is intact (its body is the one for its own uri), none is
#       recorded twice, nothing incomplete sits in the middle of the
#       file, the valid part loads in PyYAML, "nginx -t" passes, and a
#       new start in record mode leaves a file that PyYAML loads whole.
#       Whether a kill lands inside a write() is luck, so both outcomes
#       are checked; (b) and (c) make sure of a torn tail.
#   (b) Two recorded items and half of a third written by hand: "nginx
#       -t" passes and warns, replay answers the two complete ones, a
#       start in record mode cuts the file back to the two items.
#   (c) The same with a crash during the very first recording into a new
#       cassette: only "version" and "interactions:" precede the torn item.
#   (d) A worker that died in the middle of its write, another worker
#       recording next: the cassette stays loadable.  The torn item is
#       written by hand, so this happens on every run.
#
# This file runs its own nginx under t/servroot-record-crash/, as
# Test::Nginx cannot kill workers in the middle of a block nor fork
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
    plan skip_all => 'killing workers in the middle of a burst needs nginx '
                     . 'at full speed, not under valgrind';
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
my $port  = ($ENV{TEST_NGINX_SERVER_PORT} || 1984) + 22;
my $root  = "$FindBin::Bin/servroot-record-crash";
my $conf  = "$root/conf/nginx.conf";

my $CLIENTS  = 8;
my $REQUESTS = 200;   # per client
my $KILLS    = 30;    # at most, 30 ms apart: SIGKILL to every worker
my $WORKERS  = 2;
my $WAIT     = 10;    # seconds to wait for nginx to start, stop, answer

my $HEAD = "# recorded by nginx: new interactions are appended at the end\nversion: 1\ninteractions:\n";

# The upstream's body: the path it got, then 20,000 bytes of padding.
# nginx refuses a configuration token over 4 KB, so the padding is built
# from a 1,000 byte variable.
my $UNIT = join '', map { sprintf "%-9d|", $_ } 0 .. 99;   # 1000 bytes
my $PAD  = $UNIT x 20;
my $BIG_BACKEND = qq{set \$unit "$UNIT";\n            }
                  . 'set $pad "' . ('$unit' x 20) . qq{";\n            }
                  . 'return 200 "$uri\n$pad\n";';

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


# (a) SIGKILL to the workers while they record

{
    my $cassette = "$root/html/burst.yaml";

    write_file($conf, config(cassette => 'html/burst.yaml',
                             mode => 'record', backend => $BIG_BACKEND));
    start_nginx();

    my ($kills, @results) = burst_with_kills();

    my $done = grep { $_->[1] eq '200' } @results;
    my $failed = @results - $done;
    diag("burst: $done requests answered 200, $failed failed, "
         . "$kills rounds of kills");
    ok($kills > 0, 'workers were killed while clients were sending '
       . 'requests');

    # Answers that got through must be right, recording or not.
    my @bad = grep { $_->[1] eq '200' && $_->[2] ne want($_->[0]) } @results;
    is(scalar(@bad), 0, 'every 200 answer has the full body for its path')
        or diag(join "\n", map { "$_->[0]: " . length($_->[2]) . ' bytes' }
                           @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

    my $log = slurp("$root/logs/error.log");
    like($log, qr/exited on signal 9/, 'the master saw its workers killed');
    my $repaired = () = $log =~ /removed an incomplete interaction/g;
    diag("the workers removed $repaired incomplete interactions left by "
         . 'killed ones') if $repaired;
    unlike($log, qr/exited on signal (?!9\b)\d+/,
           'no worker died of another signal')
        or diag(join "\n", $log =~ /^(.*exited on signal.*)$/mg);

    stop_nginx();

    my $text = slurp($cassette);
    my ($head, @items) = split_items($text);
    is($head, $HEAD, 'the cassette starts with its version and the '
       . 'interactions key');

    # Every item but the last must be complete: a worker that died in
    # the middle of a write may only have left something at the end.
    my $torn = @items && !complete($items[-1]) ? pop @items : undef;
    my $valid = length($text) - length($torn // '');

    my (@broken, %recorded);
    my $offset = length $head;
    for my $i (0 .. $#items) {
        my ($path, $why) = check_item($items[$i]);
        $recorded{$path}++ if defined $path;
        push @broken, "item $i (bytes $offset to "
                      . ($offset + length($items[$i])) . "): $why" if $why;
        $offset += length $items[$i];
    }
    ok(@items > 0, scalar(@items) . ' complete items recorded');
    is(scalar(@broken), 0, 'every complete item is intact, nothing '
       . 'incomplete before the last item')
        or diag(join "\n", @broken[0 .. ($#broken < 9 ? $#broken : 9)]);
    my @dup = grep { $recorded{$_} > 1 } sort keys %recorded;
    is(scalar(@dup), 0, 'no path recorded twice')
        or diag("twice: @dup[0 .. ($#dup < 9 ? $#dup : 9)]");

    if (defined $torn) {
        diag('the cassette ends with an incomplete item of '
             . length($torn) . " bytes after byte $valid");
        unlike($torn, qr/^# recorded/m, 'the torn item has no mark');
    } else {
        diag('the cassette has no torn tail');
    }

    # The complete part on its own, as PyYAML sees it.
    write_file("$root/html/valid-part.yaml", substr($text, 0, $valid));
    is(yaml_count("$root/html/valid-part.yaml"), "1 " . scalar(@items),
       'PyYAML loads the part up to the last "# recorded" line');

    my ($rc, $out, $err) = run_cmd($nginx, '-t', '-p', "$root/",
                                   '-c', $conf);
    is($rc, 0, 'nginx -t accepts the cassette') or diag($err);
    if (defined $torn) {
        like($err, qr/ends with an incomplete interaction after byte
                      \s $valid\b .* is\ ignored/x,
             'nginx -t warns that the incomplete interaction is ignored');
    } else {
        unlike($err, qr/incomplete interaction/,
               'nginx -t finds nothing incomplete');
    }

    # A new start in record mode cuts the torn tail off.
    unlink "$root/logs/error.log";
    my $stderr = eval { start_nginx() };
    ok(defined $stderr, 'nginx starts again, recording into the cassette')
        or diag($@);
    $stderr //= '';
    $log = slurp("$root/logs/error.log");
    if (defined $torn) {
        like($stderr . $log,
             qr/removed an incomplete interaction after byte $valid\b/,
             'the start reports that it removed the incomplete interaction');
        like($log, qr/\[warn\].*removed an incomplete interaction/,
             'the report is in the error log');
    } else {
        unlike($stderr . $log, qr/removed an incomplete interaction/,
               'the start removed nothing');
    }
    is(slurp($cassette), substr($text, 0, $valid),
       'the cassette ends with its last complete item');

    # Recording goes on after the last complete item.
    my $r = get('/api/after/restart');
    is($r->{status}, 200, 'a request after the restart is proxied');
    stop_nginx();

    is(yaml_count($cassette), "1 " . (@items + 1),
       'PyYAML loads the whole cassette with the new item');
    my ($new) = reverse split_items(slurp($cassette));
    my ($path, $why) = check_item($new);
    ok(!$why && ($path // '') eq '/api/after/restart',
       'the new item is complete and right') or diag($why);
}


# (b) two complete items and half of a third

{
    my $cassette = "$root/html/torn.yaml";
    my $small = 'return 200 "small body for $uri\n";';

    write_file($conf, config(cassette => 'html/torn.yaml',
                             mode => 'record', backend => $small));
    start_nginx();
    is_response(get('/api/one'), 200, "small body for /backend/one\n",
                'recording /api/one');
    is_response(get('/api/two'), 200, "small body for /backend/two\n",
                'recording /api/two');
    stop_nginx();

    my $two = slurp($cassette);
    my ($head, @items) = split_items($two);
    is(scalar(@items), 2, 'two items recorded');

    # What a write cut short halfway leaves: the first half of one more
    # item, without a line end.
    my $third = $items[1] =~ s{/backend/two}{/backend/three}gr;
    my $half = substr($third, 0, int(length($third) / 2));
    $half =~ s/\n\z//;
    write_file($cassette, $two . $half);

    my ($rc, $out, $err) = run_cmd($nginx, '-t', '-p', "$root/",
                                   '-c', $conf);
    is($rc, 0, 'nginx -t accepts a cassette with a torn tail') or diag($err);
    my $at = length $two;
    like($err, qr/\[warn\] .* ends\ with\ an\ incomplete\ interaction
                  \ after\ byte\ $at\b .* is\ ignored/x,
         'nginx -t warns that the incomplete interaction is ignored');

    # Replay: the upstream answers something else, so the recorded
    # bodies can only come from the cassette.
    write_file($conf, config(cassette => 'html/torn.yaml', mode => 'replay',
                             backend => 'return 200 "changed\n";'));
    unlink "$root/logs/error.log";
    my $stderr = start_nginx();
    like($stderr, qr/\[warn\].*ends with an incomplete .*is ignored/,
         'the start warns that the incomplete interaction is ignored');
    is_response(get('/api/one'), 200, "small body for /backend/one\n",
                'replay: the first complete interaction');
    is_response(get('/api/two'), 200, "small body for /backend/two\n",
                'replay: the second complete interaction');
    is(get('/api/three')->{status}, 404,
       'replay: the incomplete interaction is not there');
    stop_nginx();
    is(slurp($cassette), $two . $half, 'replay leaves the file alone');

    # Record: the torn tail goes.
    write_file($conf, config(cassette => 'html/torn.yaml',
                             mode => 'record', backend => $small));
    unlink "$root/logs/error.log";
    $stderr = start_nginx();
    like($stderr . slurp("$root/logs/error.log"),
         qr/removed an incomplete interaction after byte $at\b/,
         'record: the start reports that it removed the incomplete '
         . 'interaction');
    like(slurp("$root/logs/error.log"),
         qr/\[warn\].*removed an incomplete interaction/,
         'the report is in the error log');
    stop_nginx();
    is(slurp($cassette), $two,
       'the file ends right after the second "# recorded" line');
    is(yaml_count($cassette), '1 2', 'PyYAML loads it: 2 interactions');
}


# (c) a crash during the first recording into a new cassette

{
    my $cassette = "$root/html/first.yaml";
    my $small = 'return 200 "small body for $uri\n";';

    write_file($conf, config(cassette => 'html/first.yaml',
                             mode => 'record', backend => $small));
    start_nginx();
    get('/api/one');
    stop_nginx();

    my ($head, $item) = split_items(slurp($cassette));
    ok(defined $item && complete($item), 'one item recorded');
    $item //= '';
    my $half = substr($item, 0, int(length($item) / 2)) =~ s/\n\z//r;

    # The file as a worker killed in its first write() leaves it.
    write_file($cassette, $HEAD . $half);

    my ($rc, $out, $err) = run_cmd($nginx, '-t', '-p', "$root/",
                                   '-c', $conf);
    is($rc, 0, 'nginx -t accepts a new cassette whose only item is torn')
        or diag($err);
    like($err, qr/\[warn\].*ends with an incomplete interaction.*is ignored/,
         'nginx -t warns that the incomplete interaction is ignored');

    unlink "$root/logs/error.log";
    my $stderr = eval { start_nginx() } // do { diag($@); '' };
    like($stderr . slurp("$root/logs/error.log"),
         qr/removed an incomplete interaction after byte ${\ length $HEAD}\b/,
         'the start reports that it removed the incomplete interaction');
    stop_nginx();
    is(slurp($cassette), $HEAD, 'the cassette is back to its head');
    is(yaml_count($cassette), '1 0', 'PyYAML loads it: no interactions');
}


# (d) a worker dies in the middle of its write, another one records next
#
# A worker killed inside write() leaves the first part of its item at
# the end of the file, and the kernel releases its lock: the next worker
# to record appends after that part, as (a) shows now and then.  Here the
# part is appended by hand between two recorded requests, which leaves
# the file as such a worker would: the same bytes at its end, no lock
# held.  Recording the next request must not make the cassette
# unloadable.

{
    my $cassette = "$root/html/mid.yaml";
    my $small = 'return 200 "small body for $uri\n";';

    write_file($conf, config(cassette => 'html/mid.yaml',
                             mode => 'record', backend => $small));
    start_nginx();
    is_response(get('/api/one'), 200, "small body for /backend/one\n",
                'recording /api/one');

    my ($head, $item) = split_items(slurp($cassette));
    $item //= '';
    my $killed = $item =~ s{/backend/one}{/backend/killed}gr;
    my $half = substr($killed, 0, int(length($killed) / 2)) =~ s/\n\z//r;

    # Appended to the file nginx has open, not replaced.
    open my $fh, '>>', $cassette or die "cannot append to $cassette: $!";
    print {$fh} $half;
    close $fh or die "cannot append to $cassette: $!";

    is_response(get('/api/two'), 200, "small body for /backend/two\n",
                'recording /api/two after the torn item');
    stop_nginx();

    my ($rc, $out, $err) = run_cmd($nginx, '-t', '-p', "$root/",
                                   '-c', $conf);
    is($rc, 0, 'nginx -t accepts the cassette') or diag($err);
    is(yaml_count($cassette), '1 2', 'PyYAML loads it: 2 interactions');
    my @uris = slurp($cassette) =~ /^    uri: "(.*)"$/mg;
    is_deeply(\@uris, [ "http://127.0.0.1:$port/backend/one",
                        "http://127.0.0.1:$port/backend/two" ],
              'the recorded interactions are /one and /two')
        or diag(slurp($cassette));

    write_file($conf, config(cassette => 'html/mid.yaml', mode => 'replay',
                             backend => 'return 200 "changed\n";'));
    if (eval { start_nginx(); 1 }) {
        is_response(get('/api/one'), 200, "small body for /backend/one\n",
                    'replay: /api/one');
        is_response(get('/api/two'), 200, "small body for /backend/two\n",
                    'replay: /api/two');
    } else {
        fail('nginx starts replaying the cassette');
        diag($@);
    }
    stop_nginx();
}

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
    access_log off;

    server {
        listen 127.0.0.1:$port reuseport backlog=1024;

        # the service being recorded
        location /backend/ {
            $arg{backend}
        }

        location /api/ {
            proxy_pass http://127.0.0.1:$port/backend/;
            mock_upstream http://127.0.0.1:$port/backend/;
            mock_replay $arg{cassette};
            mock_mode $arg{mode};
        }
    }
}
EOF
}

# The body the big upstream sends for /api$path.
sub want {
    my ($path) = @_;
    return ($path =~ s{^/api}{/backend}r) . "\n$PAD\n";
}

sub complete {
    my ($item) = @_;
    return $item =~ /\n# recorded \S+\n\z/;
}

# Checks one item recorded from the big upstream; returns the client
# path it records and what is wrong with it, if anything.
sub check_item {
    my ($item) = @_;
    my @uris = $item =~ /^    uri: "(.*)"$/mg;
    my ($body) = $item =~ /^  response:\n    body:\n      string: (.*)$/m;

    return (undef, 'not complete') unless complete($item);
    return (undef, 'more than one "- request:"')
        if (() = $item =~ /- request:/g) != 1;
    return (undef, scalar(@uris) . ' uri lines') if @uris != 1;

    my ($path) = $uris[0] =~ m{^http://127\.0\.0\.1:$port/backend(/.*)$}
        or return (undef, "unexpected uri $uris[0]");
    $path = "/api$path";

    return ($path, 'not a GET') unless $item =~ /^    method: "GET"$/m;
    return ($path, 'not status 200') unless $item =~ /^      code: 200$/m;

    # The body for this very uri, as the writer quotes it.
    my $quoted = '"' . (want($path) =~ s/\n/\\n/gr) . '"';
    return ($path, "no response body") unless defined $body;
    return ($path, 'response body of ' . length($body) . ' bytes is not '
                   . "the one for $path") if $body ne $quoted;
    return ($path, undef);
}

# Forks $CLIENTS clients sending $REQUESTS requests each to their own
# paths while the workers get SIGKILL up to $KILLS times.  Returns how
# many times the workers were killed while clients were still running,
# then [path, status, body] for every request.
sub burst_with_kills {
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
                binmode $out;
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

    # Kill every worker a few times while the clients run, each time
    # after the master has started new ones and they had time to get
    # requests.
    my %running = map { $_ => 1 } @kids;
    my $kills = 0;
    for (1 .. $KILLS) {
        sleep 0.03;
        delete $running{$_} for grep { waitpid($_, POSIX::WNOHANG()) > 0 }
                                keys %running;
        last unless %running;
        my @w = worker_pids();
        kill 'KILL', @w;
        $kills++;

        # Wait for the master to replace them.
        my %old = map { $_ => 1 } @w;
        my $deadline = time + $WAIT;
        until ((grep { !$old{$_} } worker_pids()) >= $WORKERS) {
            die "the master did not start new workers:\n"
                . slurp("$root/logs/error.log") if time > $deadline;
            sleep 0.02;
        }
    }

    for my $pid (keys %running) {
        waitpid $pid, 0;
    }

    my @results;
    for my $c (0 .. $CLIENTS - 1) {
        open my $in, '<', "$root/clients/$c" or die "no results of $c: $!";
        binmode $in;
        while (my $line = <$in>) {
            chomp $line;
            my ($path, $status, $body) = split /\t/, $line, 3;
            $body =~ s/\\(\\|n)/$1 eq 'n' ? "\n" : '\\'/ge;
            push @results, [ $path, $status, $body ];
        }
        close $in;
    }
    return ($kills, @results);
}

# "<version> <number of interactions>" as PyYAML loads the file, or its
# error.  The burst leaves a cassette of some 30 MB, which PyYAML's pure
# Python loader takes ten seconds to read: its libyaml based loader is
# used when there is one, as vcrpy does.
sub yaml_count {
    my ($file) = @_;
    my ($rc, $out, $err) = run_cmd(
        $python, '-c',
        'import yaml,sys; '
        . 'L=getattr(yaml, "CSafeLoader", yaml.SafeLoader); '
        . 'd=yaml.load(open(sys.argv[1]), Loader=L); '
        . 'print(d["version"], len(d["interactions"] or []))',
        $file);
    chomp $out;
    return $rc == 0 ? $out : "PyYAML failed: $err";
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

# Starts nginx; returns what it wrote to stderr before it detached (the
# warnings about the configuration, which it loads before it opens the
# error log).
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
    return $err;
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

sub is_response {
    my ($r, $status, $body, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = is("$r->{status} $r->{content}", "$status $body", $name);
    diag(slurp("$root/logs/error.log")) unless $ok;
    return $ok;
}
