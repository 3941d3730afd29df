# An interaction recorded by one instance of a fleet reaches the zone and
# the cassette file of every other instance, through Redis streams.
#
# Three nginx instances A, B and C, each in its own server root with its
# own copy of the cassette, run one configuration: "mock_replay
# cassettes/x.yaml" (relative, so each names its own file while the
# stream key, computed from the path as configured, is the same),
# "mock_mode new_episodes" and a proxy_pass to an upstream server block
# of the instance itself, which answers "<instance> <request id>" and
# logs each hit.  A replay-only location (/check/, mock_repeats on) asks
# an instance whether it has an interaction without recording one.
#
#   (a) Requests recorded on A are replayed by B and C within 3 s; the
#       delay from A's answer to the first replay on B and on C is
#       measured (p50 and p99 go to diag).  B's and C's upstreams are
#       never asked.  One recorded on B reaches A and C the same way.
#       Entries that are not interactions are skipped.  One recorded
#       with a template learned replays templated on the others.
#   (b) B's and C's files hold each interaction once, with x_mock.stream;
#       A's file holds its own once, without.
#   (c) C is stopped, A records two more, and then 100 more (more than
#       one poll takes), C starts again: C catches up, with each of them
#       once.  An interaction of 1.2 MB recorded on A stays on A.
#   (d) A and B restart: no interaction is applied twice.
#   (e) B reloads three times while A records: B still gets each once.
#   (f) Every file loads with PyYAML's safe_load and with vcrpy.
#
# Every run uses its own Redis key prefix and deletes its keys at the
# end.  This file runs its own nginx instances under t/servroot-follow/.

use strict;
use warnings;

use Test::More;
use File::Path qw(make_path remove_tree);
use FindBin;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(PYTHON skip_under_valgrind skip_without_python
                module_under_test server_port lock_run write_file
                run_cmd alive redis_command cassette);

skip_under_valgrind('three instances timed against each other need nginx '
                    . 'at full speed, not under valgrind');
skip_without_python('import yaml', 'cannot import yaml (apt-get install '
                    . 'python3-yaml)');

my $module = module_under_test();

my $redis_port = $ENV{TEST_NGINX_REDIS_PORT} || 16379;
my $top        = "$FindBin::Bin/servroot-follow";

my $WAIT     = 10;    # seconds for nginx to start, stop, answer
my $DEADLINE = 3;     # seconds for a recording to reach the others
my $N        = 20;    # recordings on A in (a)

my $prefix = "t-follow-$$-" . int(time()) . ':';

my $lock = lock_run("$top.lock");

my $parent = $$;
my %inst;
my @names = qw(A B C);
for my $i (0 .. $#names) {
    my $name = $names[$i];
    $inst{$name} = MockTest::Nginx->new(name => $name,
                                        root => "$top/" . lc $name,
                                        port => server_port(141 + $i),
                                        workers => 2, module => $module,
                                        wait => $WAIT);
    $inst{$name}{upstream_port} = server_port(144 + $i);
}
my @all = map { $inst{$_} } @names;
my ($A, $B, $C) = @all;

END {
    local $?;
    if (@all && $$ == $parent) {
        $_->stop for @all;
        delete_keys();
    }
}

my ($pong) = redis('PING');
if (($pong // '') ne 'PONG') {
    BAIL_OUT("no Redis answers on 127.0.0.1:$redis_port; run the suite "
             . 'through scripts/run-tests.sh, which starts one');
}

$_->stop_leftover for @all;
remove_tree($top);

# Each instance starts with its own copy of the same cassette.
for my $inst (@all) {
    my $root = $inst->root;
    make_path("$root/conf", "$root/logs", "$root/cassettes");
    write_file("$root/cassettes/x.yaml", cassette('/seed', 'seed'));
    write_file("$root/huge.txt", 'h' x 1200000);

    my $name = $inst->name;
    my $port = $inst->port;
    my $up   = $inst->{upstream_port};

    # B reads a large cassette after x.yaml: see (e)
    my $big = '';
    if ($name eq 'B') {
        write_file("$root/cassettes/big.yaml",
                   cassette('/big', map { "b$_" } 1 .. 40000));
        $big = "\n        location /big/ {\n"
               . "            mock_replay cassettes/big.yaml;\n"
               . "        }\n";
    }

    write_file($inst->conf, $inst->conf_head . <<"EOF");
http {
    access_log off;

    mock_redis 127.0.0.1:$redis_port prefix=$prefix timeout=5s
               instance=$name;

    server {
        listen 127.0.0.1:$port;

        location /r/ {
            mock_replay cassettes/x.yaml;
            mock_mode new_episodes;
            mock_record_max_body 2m;
            proxy_pass http://127.0.0.1:$up;
        }

        location /check/ {
            mock_replay cassettes/x.yaml;
            mock_repeats on;
            mock_upstream http://127.0.0.1:$up/r/;
        }

        # templates learned while recording, into the same file
        location /t/ {
            mock_replay cassettes/x.yaml;
            mock_mode new_episodes;
            mock_ignore query id;
            mock_record_templates on;
            proxy_pass http://127.0.0.1:$up;
        }

        location /tcheck/ {
            mock_replay cassettes/x.yaml;
            mock_ignore query id;
            mock_repeats on;
            mock_upstream http://127.0.0.1:$up/t/;
        }
$big    }

    server {
        listen 127.0.0.1:$up;
        access_log logs/upstream.log;

        location / {
            return 200 "$name \$request_id\\n";
        }

        location = /r/huge {
            alias $root/huge.txt;
        }

        location /t/ {
            default_type application/json;
            return 200 '{"id": "\$arg_id", "by": "$name"}';
        }
    }
}
EOF
}

$_->start for @all;

# (a) recorded on A, replayed by B and C

my (@delays, %body);

for my $i (1 .. $N) {
    my $path = "/r/$i";
    my $r = $A->get($path);
    my $t0 = time;
    ok($r->{status} == 200 && $r->{content} =~ /^A [0-9a-f]{32}\n\z/,
       "A records $path from its upstream")
        or diag("$r->{status} $r->{content}");
    $body{$i} = $r->{content};

    for my $inst ($B, $C) {
        my $t = wait_replay($inst, $i, $body{$i});
        ok(defined $t, $inst->name . " replays $path within ${DEADLINE}s")
            or diag($inst->error_log);
        push @delays, $t - $t0 if defined $t;
    }
}

my @sorted = sort { $a <=> $b } @delays;
if (@sorted) {
    diag(sprintf('delay from the answer on A to the replay on B or C, '
                 . 'over %d: p50 %.1f ms, p99 %.1f ms, max %.1f ms',
                 scalar(@sorted), 1000 * pct(\@sorted, 50),
                 1000 * pct(\@sorted, 99), 1000 * $sorted[-1]));
}

# the other way round: recorded on B, replayed by A and C
{
    my $r = $B->get('/r/b1');
    my $t0 = time;
    ok($r->{status} == 200 && $r->{content} =~ /^B /,
       'B records /r/b1 from its upstream');
    $body{b1} = $r->{content};
    for my $inst ($A, $C) {
        ok(defined wait_replay($inst, 'b1', $body{b1}),
           $inst->name . ' replays what B recorded');
    }
}

is(hits($A), $N, "A's upstream was asked $N times");
is(hits($B), 1, "B's upstream was asked once, for what B recorded");
is(hits($C), 0, "C's upstream was never asked");

# (b) the files

my @mine = map { "/r/$_" } 1 .. $N;
my @local;      # recorded on A, not published

check_file($A, [@mine], ['/r/b1']);
check_file($B, ['/r/b1'], [@mine]);
check_file($C, [], [@mine, '/r/b1']);

# the stream: one entry for each recording, origin and entry
my ($xlen) = redis('XLEN', stream_key());
is($xlen, $N + 1, 'the stream holds one entry per recording');

# entries that are not interactions are skipped, and what comes after
# them still arrives
{
    my $key = stream_key();
    redis('XADD', $key, '*', 'origin', 'X', 'entry', '- request: [unclosed');
    redis('XADD', $key, '*', 'origin', 'X', 'entry',
          "- request: {method: GET, uri: 'http://x/bad', body: null, "
          . "headers: {}}\n  response: {status: {code: 99}, headers: {}, "
          . "body: {string: ''}}\n");
    my $r = $A->get('/r/after-bad');
    $body{'after-bad'} = $r->{content};
    for my $inst ($B, $C) {
        ok(defined wait_replay($inst, 'after-bad', $body{'after-bad'}),
           $inst->name . ' replays what came after two bad entries');
    }
    for my $inst (@all) {
        my @bad;
        my $deadline = time + $DEADLINE;
        while (time < $deadline) {
            @bad = $inst->error_log
                   =~ /^(.*\[error\].*rec:[0-9a-f]{8} entry .*)$/mg;
            last if @bad >= 2;
            sleep 0.01;
        }
        is(scalar(@bad), 2, $inst->name . ' says why it skipped each')
            or diag(join "\n", @bad);
    }
    push @mine, '/r/after-bad';
}

# a recording with templates learned: the others replay it templated
{
    my $r = $A->get('/t/echo?id=abcdef123');
    is("$r->{status} $r->{content}",
       '200 {"id": "abcdef123", "by": "A"}',
       'A records /t/echo with the id it echoes learned as a template');
    for my $inst ($B, $C) {
        my $deadline = time + $DEADLINE;
        my $got = '';
        while (time < $deadline) {
            my $t = $inst->get('/tcheck/echo?id=other4567');
            $got = "$t->{status} $t->{content}";
            last if $t->{status} == 200;
            sleep 0.005;
        }
        is($got, '200 {"id": "other4567", "by": "A"}',
           $inst->name . ' replays it with the id of its own request');
    }
    push @mine, '/t/echo';
}

# (c) C misses two recordings, and catches up when it starts again

$C->stop;

for my $i ($N + 1, $N + 2) {
    my $r = $A->get("/r/$i");
    is($r->{status}, 200, "A records /r/$i while C is down");
    $body{$i} = $r->{content};
    ok(defined wait_replay($B, $i, $body{$i}), "B replays /r/$i");
}

# and more than one poll takes (64 entries): C reads them in batches
my $MORE = 100;
for my $i (1 .. $MORE) {
    my $r = $A->get("/r/m$i");
    $r->{status} == 200 or fail("A records /r/m$i: $r->{status}");
}

my $t0 = time;
$C->start;

for my $i ($N + 1, $N + 2) {
    ok(defined wait_replay($C, $i, $body{$i}),
       "C, started again, replays /r/$i that it missed");
}

my $late = 0;
for my $i (1 .. $MORE) {
    $late++ if !defined wait_replay($C, "m$i", undef);
}
is($late, 0, "C replays all $MORE more that it missed");
diag(sprintf('C caught up with %d recordings %.0f ms after it was started',
             $MORE + 2, 1000 * (time - $t0)));

push @mine, "/r/" . ($N + 1), "/r/" . ($N + 2), map { "/r/m$_" } 1 .. $MORE;

check_file($C, [], [@mine, '/r/b1']);

# an interaction larger than 1 MiB as written stays where it was recorded
{
    my $r = $A->get('/r/huge');
    is($r->{status}, 200, 'A records /r/huge, 1.2 MB');
    is(length($r->{content}), 1200000, 'the whole body');
    my $why = qr{"GET /r/huge" recorded into "[^"]*" takes \d+ bytes, };
    like($A->error_log, qr/$why\Qmore than the 1048576 the fleet shares\E/,
         'A says that it is not published');
    push @local, '/r/huge';
}

# (d) restarts apply nothing twice

$A->stop;
$A->start;
$B->stop;
$B->start;

# more than enough polls for anything to be applied again
sleep 0.5;

is_response($A->get('/check/b1'), 200, $body{b1},
            'A, restarted, still replays what B recorded');

check_file($A, [@mine, @local], ['/r/b1']);
check_file($B, ['/r/b1'], [@mine]);
check_file($C, [], [@mine, '/r/b1']);

# (e) reloads while recordings come: the old worker 0 and the new one
# never both apply an entry, and the new zone has what the old one added
# while the configuration was read (B reads a large cassette after its
# own, which makes that time long)

{
    my $done = "$top/reloads-done";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        my $i = 0;
        until (-e $done && $i >= 20) {
            $i++;
            $A->get("/r/z$i");
            sleep 0.01;
        }
        write_file("$top/recorded", $i);
        POSIX::_exit(0);
    }
    for (1 .. 3) {
        sleep 0.1;
        $B->reload;
    }
    write_file($done, '');
    waitpid $pid, 0;
    my $n = MockTest::slurp("$top/recorded");
    push @mine, map { "/r/z$_" } 1 .. $n;

    my $missing = 0;
    for my $i (1 .. $n) {
        $missing++ if !defined wait_replay($B, "z$i", undef);
    }
    is($missing, 0, "B, reloaded three times meanwhile, replays all $n");
    like($B->error_log, qr/appended to "[^"]*x\.yaml" while the configuration/,
         'a reload took into its zone what was appended while it read the '
         . 'configuration');
}

check_file($B, ['/r/b1'], [@mine]);

# (f) vcrpy loads every file
SKIP: {
    my ($rc) = run_cmd(PYTHON, '-c', 'import vcr');
    skip 'vcrpy is not installed (apt-get install python3-vcr)', 3
        if $rc != 0;

    for my $inst (@all) {
        my $file = $inst->root . '/cassettes/x.yaml';
        my ($rc, $out, $err) = run_cmd(PYTHON, '-c', <<'EOF', $file);
import sys
from vcr.persisters.filesystem import FilesystemPersister
from vcr.serializers import yamlserializer
requests, responses = FilesystemPersister.load_cassette(
    sys.argv[1], serializer=yamlserializer)
print(len(requests))
EOF
        chomp $out;
        is("$rc $out", '0 ' . (1 + @mine + 1 + ($inst == $A ? @local : 0)),
           'vcrpy loads the cassette of ' . $inst->name)
            or diag($err);
    }
}

for my $inst (@all) {
    my $log = join '', grep { !/rec:[0-9a-f]{8} entry / }
                       split /^/, $inst->error_log;
    unlike($log,
           qr/exited on signal|\[alert\]|\[crit\]|\[error\]|mock: Redis/,
           $inst->name . ': no worker crashed, no error, no Redis outage');
}

$_->stop for @all;

done_testing();


sub redis {
    return redis_command($redis_port, @_);
}

sub delete_keys {
    my @keys = eval { redis('--scan', '--pattern', "$prefix*") };
    redis('DEL', @keys) if @keys;
}

# The stream of the cassette: the only stream key of this run.
sub stream_key {
    my @keys = redis('--scan', '--pattern', "${prefix}rec:*");
    is(scalar(@keys), 1, 'one stream for the cassette')
        or diag("keys: @keys");
    return $keys[0] // '';
}

# When $inst first replays /r/$i with $body (any body if undef): polls
# /check/$i, which only replays; undef after $DEADLINE seconds.
sub wait_replay {
    my ($inst, $i, $body) = @_;
    my $deadline = time + $DEADLINE;
    my $http = HTTP::Tiny->new(keep_alive => 1, timeout => $WAIT);
    my $url = 'http://127.0.0.1:' . $inst->port . "/check/$i";
    while (time < $deadline) {
        my $r = $http->get($url);
        return time if $r->{status} == 200
                       && (!defined $body || $r->{content} eq $body);
        sleep 0.002;
    }
    return undef;
}

sub pct {
    my ($sorted, $p) = @_;
    my $k = int(($p / 100) * $#$sorted + 0.5);
    return $sorted->[$k];
}

sub hits {
    my ($inst) = @_;
    my $log = MockTest::slurp($inst->root . '/logs/upstream.log');
    return scalar(() = $log =~ /\n/g);
}

# The file of $inst, as PyYAML's safe_load reads it, holds the seed, each
# of @$own once without x_mock.stream and each of @$theirs once with one,
# and nothing else.
sub check_file {
    my ($inst, $own, $theirs) = @_;
    my $name = $inst->name;
    my $file = $inst->root . '/cassettes/x.yaml';
    my ($rc, $out, $err) = run_cmd(PYTHON, '-c', <<'EOF', $file);
import sys, json, yaml, urllib.parse
d = yaml.safe_load(open(sys.argv[1]))
out = []
for it in d["interactions"] or []:
    x = it.get("x_mock") or {}
    out.append([urllib.parse.urlsplit(it["request"]["uri"]).path,
                x.get("stream")])
print(json.dumps(out))
EOF
    if (!is($rc, 0, "$name: its cassette loads with yaml.safe_load")) {
        diag($err);
        return;
    }

    my %seen;
    my $list = decode_json($out);
    my @bad;
    for my $x (@$list) {
        my ($path, $stream) = @$x;
        $seen{$path}++;
        push @bad, "$path has a stream" if defined $stream
            && grep { $_ eq $path } '/seed', @$own;
        push @bad, "$path has no stream" if !defined $stream
            && grep { $_ eq $path } @$theirs;
        push @bad, "$path has stream $stream"
            if defined $stream && $stream !~ /^\d+-\d+\z/;
    }
    my %want = map { $_ => 1 } '/seed', @$own, @$theirs;
    for my $path (sort keys %want) {
        push @bad, "$path " . ($seen{$path} // 0) . ' times'
            if ($seen{$path} // 0) != 1;
    }
    for my $path (sort keys %seen) {
        push @bad, "$path is not expected" unless $want{$path};
    }
    ok(!@bad, "$name: its cassette holds each interaction once, "
              . 'x_mock.stream on those of the others')
        or diag(join "\n", @bad);
}

sub is_response {
    my ($r, $status, $body, $name) = @_;
    is("$r->{status} $r->{content}", "$status $body", $name);
}
