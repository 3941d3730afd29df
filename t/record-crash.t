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
#       item is intact (its body is the one for its own uri), no exchange
#       is recorded twice (each proxied request has an id of its own; a
#       path may be recorded twice, as an answer is recorded before the
#       client has all of it, and a client that lost it to a kill and
#       asked again made a second exchange), nothing incomplete sits in
#       the middle of the file, the valid part loads in PyYAML, "nginx
#       -t" passes, and a new start in record mode leaves a file that
#       PyYAML loads whole.
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
use FindBin;
use POSIX ();
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test skip_without_python
                server_port lock_run slurp write_file start_clients
                print_answer read_answers split_items complete check_item
                yaml_count);

skip_under_valgrind('killing workers in the middle of a burst needs nginx '
                    . 'at full speed, not under valgrind');

my $module = module_under_test();

skip_without_python('import yaml',
                    'with PyYAML is needed to check the cassette '
                    . '(Debian: apt-get install python3-yaml)');

my $port  = server_port(22);
my $root  = "$FindBin::Bin/servroot-record-crash";
my $conf  = "$root/conf/nginx.conf";

# The service being recorded, as the cassette names it.
my $upstream = "http://127.0.0.1:$port/backend";

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

# The burst leaves a cassette of some 30 MB, which PyYAML's pure Python
# loader takes ten seconds to read: its libyaml based loader is used
# when there is one, as vcrpy does.
my $YAML_LOADER = 'getattr(yaml, "CSafeLoader", yaml.SafeLoader)';

# A second run of this file waits for this one to finish.
my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => $WORKERS,
                                 wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'html', 'clients');


# (a) SIGKILL to the workers while they record

{
    my $cassette = "$root/html/burst.yaml";

    write_file($conf, config(cassette => 'html/burst.yaml',
                             mode => 'record', backend => $BIG_BACKEND));
    $nginx->start;

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

    $nginx->stop;

    my $text = slurp($cassette);
    my ($head, @items) = split_items($text);
    is($head, $HEAD, 'the cassette starts with its version and the '
       . 'interactions key');

    # Every item but the last must be complete: a worker that died in
    # the middle of a write may only have left something at the end.
    my $torn = @items && !complete($items[-1]) ? pop @items : undef;
    my $valid = length($text) - length($torn // '');

    my @broken;
    my $offset = length $head;
    for my $i (0 .. $#items) {
        my ($path, $why) = check_item($items[$i], $upstream, \&want);
        push @broken, "item $i (bytes $offset to "
                      . ($offset + length($items[$i])) . "): $why" if $why;
        $offset += length $items[$i];
    }
    ok(@items > 0, scalar(@items) . ' complete items recorded');
    is(scalar(@broken), 0, 'every complete item is intact, nothing '
       . 'incomplete before the last item')
        or diag(join "\n", @broken[0 .. ($#broken < 9 ? $#broken : 9)]);
    my @ids = map { /^      "X-Exchange":\n      - "(\w+)"$/m } @items;
    my %exchanges;
    $exchanges{$_}++ for @ids;
    my @dup = grep { $exchanges{$_} > 1 } sort keys %exchanges;
    is(scalar(@ids), scalar(@items), 'each recorded interaction has the '
       . 'id of its exchange');
    is(scalar(@dup), 0, 'no exchange recorded twice')
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
    is(yaml_count("$root/html/valid-part.yaml", $YAML_LOADER),
       "1 " . scalar(@items),
       'PyYAML loads the part up to the last "# recorded" line');

    my ($rc, $out, $err) = $nginx->test_config;
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
    my $stderr = eval { $nginx->start };
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
    my $r = $nginx->get('/api/after/restart');
    is($r->{status}, 200, 'a request after the restart is proxied');
    $nginx->stop;

    is(yaml_count($cassette, $YAML_LOADER), "1 " . (@items + 1),
       'PyYAML loads the whole cassette with the new item');
    my ($new) = reverse split_items(slurp($cassette));
    my ($path, $why) = check_item($new, $upstream, \&want);
    ok(!$why && ($path // '') eq '/api/after/restart',
       'the new item is complete and right') or diag($why);
}


# (b) two complete items and half of a third

{
    my $cassette = "$root/html/torn.yaml";
    my $small = 'return 200 "small body for $uri\n";';

    write_file($conf, config(cassette => 'html/torn.yaml',
                             mode => 'record', backend => $small));
    $nginx->start;
    $nginx->is_response($nginx->get('/api/one'), 200,
                        "small body for /backend/one\n",
                        'recording /api/one');
    $nginx->is_response($nginx->get('/api/two'), 200,
                        "small body for /backend/two\n",
                        'recording /api/two');
    $nginx->stop;

    my $two = slurp($cassette);
    my ($head, @items) = split_items($two);
    is(scalar(@items), 2, 'two items recorded');

    # What a write cut short halfway leaves: the first half of one more
    # item, without a line end.
    my $third = $items[1] =~ s{/backend/two}{/backend/three}gr;
    my $half = substr($third, 0, int(length($third) / 2));
    $half =~ s/\n\z//;
    write_file($cassette, $two . $half);

    my ($rc, $out, $err) = $nginx->test_config;
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
    my $stderr = $nginx->start;
    like($stderr, qr/\[warn\].*ends with an incomplete .*is ignored/,
         'the start warns that the incomplete interaction is ignored');
    $nginx->is_response($nginx->get('/api/one'), 200,
                        "small body for /backend/one\n",
                        'replay: the first complete interaction');
    $nginx->is_response($nginx->get('/api/two'), 200,
                        "small body for /backend/two\n",
                        'replay: the second complete interaction');
    is($nginx->get('/api/three')->{status}, 404,
       'replay: the incomplete interaction is not there');
    $nginx->stop;
    is(slurp($cassette), $two . $half, 'replay leaves the file alone');

    # Record: the torn tail goes.
    write_file($conf, config(cassette => 'html/torn.yaml',
                             mode => 'record', backend => $small));
    unlink "$root/logs/error.log";
    $stderr = $nginx->start;
    like($stderr . slurp("$root/logs/error.log"),
         qr/removed an incomplete interaction after byte $at\b/,
         'record: the start reports that it removed the incomplete '
         . 'interaction');
    like(slurp("$root/logs/error.log"),
         qr/\[warn\].*removed an incomplete interaction/,
         'the report is in the error log');
    $nginx->stop;
    is(slurp($cassette), $two,
       'the file ends right after the second "# recorded" line');
    is(yaml_count($cassette, $YAML_LOADER), '1 2',
       'PyYAML loads it: 2 interactions');
}


# (c) a crash during the first recording into a new cassette

{
    my $cassette = "$root/html/first.yaml";
    my $small = 'return 200 "small body for $uri\n";';

    write_file($conf, config(cassette => 'html/first.yaml',
                             mode => 'record', backend => $small));
    $nginx->start;
    $nginx->get('/api/one');
    $nginx->stop;

    my ($head, $item) = split_items(slurp($cassette));
    ok(defined $item && complete($item), 'one item recorded');
    $item //= '';
    my $half = substr($item, 0, int(length($item) / 2)) =~ s/\n\z//r;

    # The file as a worker killed in its first write() leaves it.
    write_file($cassette, $HEAD . $half);

    my ($rc, $out, $err) = $nginx->test_config;
    is($rc, 0, 'nginx -t accepts a new cassette whose only item is torn')
        or diag($err);
    like($err, qr/\[warn\].*ends with an incomplete interaction.*is ignored/,
         'nginx -t warns that the incomplete interaction is ignored');

    unlink "$root/logs/error.log";
    my $stderr = eval { $nginx->start } // do { diag($@); '' };
    like($stderr . slurp("$root/logs/error.log"),
         qr/removed an incomplete interaction after byte ${\ length $HEAD}\b/,
         'the start reports that it removed the incomplete interaction');
    $nginx->stop;
    is(slurp($cassette), $HEAD, 'the cassette is back to its head');
    is(yaml_count($cassette, $YAML_LOADER), '1 0',
       'PyYAML loads it: no interactions');
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
    $nginx->start;
    $nginx->is_response($nginx->get('/api/one'), 200,
                        "small body for /backend/one\n",
                        'recording /api/one');

    my ($head, $item) = split_items(slurp($cassette));
    $item //= '';
    my $killed = $item =~ s{/backend/one}{/backend/killed}gr;
    my $half = substr($killed, 0, int(length($killed) / 2)) =~ s/\n\z//r;

    # Appended to the file nginx has open, not replaced.
    open my $fh, '>>', $cassette or die "cannot append to $cassette: $!";
    print {$fh} $half;
    close $fh or die "cannot append to $cassette: $!";

    $nginx->is_response($nginx->get('/api/two'), 200,
                        "small body for /backend/two\n",
                        'recording /api/two after the torn item');
    $nginx->stop;

    my ($rc, $out, $err) = $nginx->test_config;
    is($rc, 0, 'nginx -t accepts the cassette') or diag($err);
    is(yaml_count($cassette, $YAML_LOADER), '1 2',
       'PyYAML loads it: 2 interactions');
    my @uris = slurp($cassette) =~ /^    uri: "(.*)"$/mg;
    is_deeply(\@uris, [ "http://127.0.0.1:$port/backend/one",
                        "http://127.0.0.1:$port/backend/two" ],
              'the recorded interactions are /one and /two')
        or diag(slurp($cassette));

    write_file($conf, config(cassette => 'html/mid.yaml', mode => 'replay',
                             backend => 'return 200 "changed\n";'));
    if (eval { $nginx->start; 1 }) {
        $nginx->is_response($nginx->get('/api/one'), 200,
                            "small body for /backend/one\n",
                            'replay: /api/one');
        $nginx->is_response($nginx->get('/api/two'), 200,
                            "small body for /backend/two\n",
                            'replay: /api/two');
    } else {
        fail('nginx starts replaying the cassette');
        diag($@);
    }
    $nginx->stop;
}

ok(!$nginx->masters_of_this_root, 'nginx stopped');

done_testing();


sub config {
    my (%arg) = @_;
    return $nginx->conf_head(connections => 1024) . <<"EOF";
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
            proxy_set_header X-Exchange \$request_id;
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

# Forks $CLIENTS clients sending $REQUESTS requests each to their own
# paths while the workers get SIGKILL up to $KILLS times.  Returns how
# many times the workers were killed while clients were still running,
# then [path, status, body] for every request.
sub burst_with_kills {
    my @kids = start_clients("$root/clients", $CLIENTS, sub {
        my ($c, $out) = @_;
        for my $n (0 .. $REQUESTS - 1) {
            my $path = "/api/c$c/r$n";
            print_answer($out, $path, $nginx->get($path));
        }
    });

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
        my @w = $nginx->worker_pids;
        kill 'KILL', @w;
        $kills++;

        # Wait for the master to replace them.
        my %old = map { $_ => 1 } @w;
        my $deadline = time + $WAIT;
        until ((grep { !$old{$_} } $nginx->worker_pids) >= $WORKERS) {
            die "the master did not start new workers:\n"
                . slurp("$root/logs/error.log") if time > $deadline;
            sleep 0.02;
        }
    }

    for my $pid (keys %running) {
        waitpid $pid, 0;
    }

    return ($kills, read_answers("$root/clients", $CLIENTS));
}
