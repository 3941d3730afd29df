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
use FindBin;

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file start_clients);

skip_under_valgrind('races between workers need nginx at full speed, '
                    . 'not under valgrind');

my $module = module_under_test();

my $port  = server_port(12);
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

# A second run of this file waits for this one to finish.
my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => $WORKERS,
                                 wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'cassettes', 'clients');

write_file("$root/cassettes/seq.yaml", cassette($N));

write_file($conf, $nginx->conf_head(connections => 1024) . <<"EOF");
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
    $nginx->stop;
    unlink "$root/logs/access.log";
    $nginx->start;
    is(scalar(my @w = $nginx->worker_pids), $WORKERS,
       "$label: $WORKERS workers")
        or diag(slurp("$root/logs/error.log"));

    my @results = burst($clients);

    check_exactly_once($label, @results);

    my $r = $nginx->get('/seq');
    is($r->{status}, 404, "$label: request " . ($N + 1) . ' is 404');
    like($r->{content}, qr/already played/,
         "$label: request " . ($N + 1) . ' finds the sequence played');

    # A worker writes the access log line after the answer has left, so
    # a client may have it before the line is written.  A graceful stop
    # waits for every request to finish, its log phase included.
    $nginx->stop;

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

$nginx->stop;
ok(!$nginx->masters_of_this_root, 'nginx stopped');

done_testing();


# Forks $clients clients that send $N requests between them; returns,
# per client, the list of [status, body] it got in the order it got them.
sub burst {
    my ($clients) = @_;

    # Client $i sends requests $i, $i + $clients, ...: $N in all.
    my @counts = map { int($N / $clients) + ($_ < $N % $clients ? 1 : 0) }
                 0 .. $clients - 1;

    my @kids = start_clients("$root/clients", $clients, sub {
        my ($i, $out) = @_;
        for (1 .. $counts[$i]) {
            my $r = $nginx->get('/seq');
            my $body = $r->{content} // '';
            $body =~ s/\n/\\n/g;
            print {$out} "$r->{status}\t$body\n";
        }
    });

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
