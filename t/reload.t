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
use FindBin;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file alive);

skip_under_valgrind('reloads are timed with deadlines that nginx under '
                    . 'valgrind does not meet');

my $module = module_under_test();

my $port  = server_port(11);
my $root  = "$FindBin::Bin/servroot-reload";
my $conf  = "$root/conf/nginx.conf";

# How long to wait for something that should happen "soon": generous, as
# the suite may run under AddressSanitizer; the waits end as soon as the
# awaited thing shows up.
my $WAIT = 10;

# A second run of this file waits for this one to finish.
my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'cassettes');

my $counter = "$root/cassettes/counter.yaml";
my $seq     = "$root/cassettes/seq.yaml";

write_file($counter, cassette('/counter', 'v1'));
write_file($seq, cassette('/seq', 'a', 'b'));

write_file($conf, $nginx->conf_head . <<"EOF");
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

$nginx->start;

my @workers = $nginx->worker_pids;
ok(@workers >= 1, 'nginx runs a worker process')
    or diag('master ' . $nginx->master_pid . ' has no children');

# (a) a rewritten cassette is picked up by a reload

$nginx->is_response($nginx->get('/counter'), 200, 'v1',
                    'the first cassette answers v1');

write_file($counter, cassette('/counter', 'v2'));
$nginx->reload;
ok(poll_body('/counter', 'v2'), 'after a reload the rewritten cassette '
                                . 'answers v2');
$nginx->is_response($nginx->get('/counter'), 200, 'v2',
                    'and keeps answering v2');

# (b) a broken cassette: "nginx -t" fails, a reload is refused

my $pid_before = $nginx->master_pid;
@workers = $nginx->worker_pids;

# YAML syntax error on line 4 ("mapping values are not allowed").
write_file($counter, <<'EOF');
version: 1
interactions:
- request:
    method: GET: oops
    uri: http://svc.test/counter
EOF

my ($rc, $out, $err) = $nginx->test_config;
isnt($rc, 0, 'nginx -t fails with a broken cassette');
like($err, qr/\Q"$counter"\E/, 'nginx -t names the cassette')
    or diag($err);
like($err, qr/line 4\b/, 'nginx -t names the line of the error')
    or diag($err);

# "nginx -s reload" would parse the broken configuration itself and give
# up before signalling, so the master is sent the HUP directly.
my $log_offset = -s "$root/logs/error.log";
ok(kill('HUP', $nginx->master_pid), 'HUP sent with the broken cassette');

my $emerg = wait_for_log($log_offset, qr/\[emerg\].*\Q$counter\E/);
ok($emerg, 'the error log has an [emerg] line naming the cassette');

# Give a (wrongly) accepted reload time to start new workers.
sleep 1;

$nginx->is_response($nginx->get('/counter'), 200, 'v2',
                    'after the refused reload the old cassette still '
                    . 'answers v2');
is($nginx->read_pid, $pid_before, 'the master pid is unchanged');
ok(alive($pid_before), 'the master is still running');
is_deeply([$nginx->worker_pids], \@workers,
          'the old workers are still serving')
    or diag(slurp("$root/logs/error.log"));

# (c) the fixed cassette is accepted by the next reload

write_file($counter, cassette('/counter', 'v3'));
($rc, $out, $err) = $nginx->test_config;
is($rc, 0, 'nginx -t passes once the cassette is fixed') or diag($err);
$nginx->reload;
ok(poll_body('/counter', 'v3'), 'after a reload the fixed cassette '
                                . 'answers v3');
is($nginx->read_pid, $pid_before, 'the master pid is still unchanged');

# (d) a reload re-reads cassettes and starts sequences anew
#
# With mock_repeats off, two identical requests get the two recorded
# interactions in turn, a third one finds them played.  The new cycle
# after a reload has a new shared memory zone, so the sequence starts
# again from the first interaction even though the file did not change.

$nginx->is_response($nginx->get('/seq'), 200, 'a',
                    'sequence: first request gets a');
$nginx->is_response($nginx->get('/seq'), 200, 'b',
                    'sequence: second request gets b');
my $r = $nginx->get('/seq');
is($r->{status}, 404, 'sequence: third request is 404');
like($r->{content}, qr/already played/, 'sequence: ... already played');
like(slurp("$root/logs/error.log"), qr/\[warn\].*already played/,
     'the played-out request is logged as a warning');

$nginx->reload;
$nginx->is_response($nginx->get('/seq'), 200, 'a',
                    'a reload re-reads cassettes and starts sequences anew');
$nginx->is_response($nginx->get('/seq'), 200, 'b',
                    'and the sequence goes on with b');

# (e) the admin API reloads the cassettes without nginx reloading
#
# The workers read the files again and swap the zone's indexes; the
# master and its workers stay as they are.

@workers = $nginx->worker_pids;

write_file($counter, cassette('/counter', 'v4'));
$r = $nginx->post('/_mock/reload');
is($r->{status}, 200, 'POST /_mock/reload answers 200');
like($r->{content},
     qr/^\{"reload": "done", "cassettes": 2, "interactions": 3\}$/,
     'and tells the cassettes and interactions it read');
$nginx->is_response($nginx->get('/counter'), 200, 'v4',
                    'the rewritten cassette answers at once, in every '
                    . 'worker');
is_deeply([$nginx->worker_pids], \@workers, 'with the same workers');

$nginx->is_response($nginx->get('/seq'), 200, 'a',
                    'an admin reload starts sequences anew too');

write_file($counter, <<'EOF');
version: 1
interactions:
- request:
    method: GET: oops
    uri: http://svc.test/counter
EOF

$r = $nginx->post('/_mock/reload');
is($r->{status}, 422, 'a broken cassette makes the admin reload a 422');
like($r->{content},
     qr/"error": "mock: cassette \\"\Q$counter\E\\", line 4, column \d+: /,
     'which names the cassette, line and column');
$nginx->is_response($nginx->get('/counter'), 200, 'v4',
                    'and the cassettes as they were keep answering');

write_file($counter, cassette('/counter', 'v5'));
$r = $nginx->post('/_mock/reload');
is($r->{status}, 200, 'the fixed cassette is reloaded');
$nginx->is_response($nginx->get('/counter'), 200, 'v5', 'and answers v5');

# Nothing crashed along the way.
my $log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/,
       'no worker crashed and no alert was logged');

$nginx->stop;
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

# GETs $path until it answers 200 with $body, for up to $WAIT seconds.
sub poll_body {
    my ($path, $body) = @_;
    my $deadline = time + $WAIT;
    my $r;
    while (time < $deadline) {
        $r = $nginx->get($path);
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
