# Streams on replay.  An interaction with x_mock chunks is replayed in
# those chunks, each flushed on its own (chunked to HTTP/1.1 clients):
#
#   (a) under "mock_latency recorded" after its header time (HAR's send
#       and wait, as numbers or nginx times) and with its
#       gaps, scaled by "x0.5", at once under other latencies; the same
#       from an interaction's x_mock latency and from a session's (admin
#       API); an answer with times and no chunks waits its header time,
#       then its body time;
#   (b) an HTTP/1.0 client gets the whole body, and a HEAD no body;
#   (c) templates are rendered chunk by chunk, and SSE stays SSE; a slow
#       client gets the whole of a big stream;
#   (d) fifty streams at once of one worker all end in about the time of
#       one: they wait on timers;
#   (e) clients that close in the middle of a stream leave no alert, and
#       nginx answers on;
#   (f) streams in flight while nginx is reloaded (HUP) and while the
#       cassettes are reloaded (POST /_mock/reload, with a changed
#       cassette) come whole, with the bytes they started with.
#
# Times are measured from the client's side, with tolerances.  This file
# runs its own nginx under t/servroot-stream-replay/.

use strict;
use warnings;

use Test::More;
use FindBin;
use HTTP::Tiny;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file start_clients slow_get);
use StreamTest qw(stream_get gaps);

skip_under_valgrind('times are checked with tolerances that nginx under '
                    . 'valgrind does not meet');

my $module = module_under_test();

my $port = server_port(185);
my $root = "$FindBin::Bin/servroot-stream-replay";
my $GAP  = 200;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port, workers => 1,
                                 module => $module, wait => 10);

# A big body in five chunks of 100,000 bytes, 50 ms apart: more than a
# slow client's socket takes at once (nginx's is made small too).
my $BIG = join '', map { $_ x 100000 } qw(a b c d e);
my $BIG_CHUNKS = join "\n", map { "    - {at: ${\ ($_ * 50)}, size: 100000}" }
                             0 .. 4;

sub cassette {
    my ($word) = @_;
    my @chunks = map { "    - {at: ${\ ($_ * $GAP)}ms, string: \"data: $word$_\\n\\n\"}" }
                 0 .. 4;
    my $body = join '', map { "data: $word$_\\n\\n" } 0 .. 4;
    return <<"EOF" . join("\n", @chunks) . "\n" . <<"EOF2";
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/sse', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream], Cache-Control: [no-cache]}
    body: {string: "$body"}
  x_mock:
    timing: {send: 9.5, wait: 90.5, receive: 900}
    chunks:
EOF
- request: {method: GET, uri: 'http://svc/slow', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\\n\\ndata: b\\n\\n"}
  x_mock:
    latency: recorded x2
    chunks:
    - {at: 0ms, size: 9}
    - {at: 100ms, size: 9}
- request: {method: GET, uri: 'http://svc/json', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 7}'}
  x_mock:
    timing: {wait: 100ms, receive: 300ms}
- request: {method: GET, uri: 'http://svc/tpl', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: {{ request.path }}\\n\\ndata: {{ request.method }}\\n\\ndata: end\\n\\n"}
  x_mock:
    chunks:
    - {at: 0ms, string: "data: {{ request.path }}\\n\\n"}
    - {at: 100ms, string: "data: {{ request.method }}\\n\\n"}
    - {at: 200ms, size: 11}
- request: {method: GET, uri: 'http://svc/gap', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: "${\ ('a' x 500000)}end"}
  x_mock:
    chunks:
    - {at: 0, size: 500000}
    - {at: 1500, size: 3}
- request: {method: GET, uri: 'http://svc/big', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: "$BIG"}
  x_mock:
    chunks:
$BIG_CHUNKS
EOF2
}

sub location {
    my ($name, $extra) = @_;
    return <<"EOF";
        location /$name/ {
            mock_replay cassettes/c.yaml;
            mock_upstream http://svc/;
            mock_repeats on;
            mock_session \$http_x_session;
            $extra
        }
EOF
}

my $http = "http {\n    access_log off;\n    server {\n"
           . "        listen 127.0.0.1:$port sndbuf=16k;\n"
           . location('rec', 'mock_latency recorded;')
           . location('half', 'mock_latency recorded x0.5;')
           . location('fast', '')
           . location('fixed', 'mock_latency 300ms;')
           . location('tpl', 'mock_latency recorded; mock_template on;')
           . "        location /_mock/ {\n            mock_admin;\n        }\n"
           . "    }\n}\n";

$nginx->setup(http => $http, files => { 'cassettes/c.yaml' => cassette('') },
              head => { connections => 512 });
$nginx->start;

my $want = join '', map { "data: $_\n\n" } 0 .. 4;

sub spread {
    my ($r) = @_;
    return join ' ', map { sprintf '%.0f', $_ } gaps($r);
}

# Event i comes i gaps after the first, within [-20, +$over] ms: never
# early, and a late one does not make the next one count as early.
sub gaps_near {
    my ($r, $gap, $over, $name) = @_;
    my @t = map { $_->[0] } @{ $r->{events} };
    my @bad = grep { my $off = ($t[$_] - $t[0]) * 1000;
                     $off < $_ * $gap - 20 || $off > $_ * $gap + $over }
              1 .. $#t;
    ok(@t > 1 && !@bad, $name) or diag(spread($r));
}


# (a) timing

{
    my $r = stream_get($port, '/rec/sse');
    is($r->{body}, $want, 'recorded: the whole body');
    like($r->{head}, qr/^Transfer-Encoding: chunked\r?$/mi, 'chunked');
    unlike($r->{head}, qr/^Content-Length/mi, 'without a Content-Length');
    is(join('|', map { $_->[1] } @{ $r->{pieces} }),
       join('|', map { "data: $_\n\n" } 0 .. 4), 'in its five chunks');
    my $head = $r->{head_time} - $r->{start};
    ok($head >= 0.08 && $head < 0.5, 'the header after its 100 ms')
        or diag($head);
    gaps_near($r, $GAP, 150, "the events $GAP ms apart");
    my $end = $r->{end} - $r->{start};
    ok($end >= 0.98, 'the end after its 900 ms, from the header')
        or diag($end);

    $r = stream_get($port, '/half/sse');
    is($r->{body}, $want, 'recorded x0.5: the whole body');
    gaps_near($r, $GAP / 2, 150, 'its events half as far apart');

    $r = stream_get($port, '/fast/sse');
    is($r->{body}, $want, 'without a latency: the whole body');
    is(scalar(@{ $r->{pieces} }), 5, 'in its five chunks');
    ok($r->{end} - $r->{start} < 0.5, 'at once, not 800 ms later')
        or diag($r->{end} - $r->{start});

    $r = stream_get($port, '/fixed/sse');
    is($r->{body}, $want, 'a fixed latency: the whole body');
    ok($r->{end} - $r->{start} >= 0.28 && $r->{end} - $r->{start} < 0.8,
       'after the latency, and then at once')
        or diag($r->{end} - $r->{start});
    is(scalar(@{ $r->{pieces} }), 5, 'in its five chunks');

    $r = stream_get($port, '/fast/slow');
    is($r->{body}, "data: a\n\ndata: b\n\n",
       'x_mock latency "recorded x2": the whole body');
    gaps_near($r, 200, 150, 'with twice the gap');

    my $admin = HTTP::Tiny->new(timeout => 10);
    my $a = $admin->post("http://127.0.0.1:$port/_mock/latency",
                         { headers => { 'Content-Type' => 'application/json' },
                           content => '{"session": "s1", '
                                      . '"latency": "recorded x0.5"}' });
    is($a->{status}, 200, 'a session gets "recorded x0.5"')
        or diag($a->{content});
    $a = $admin->post("http://127.0.0.1:$port/_mock/latency",
                      { headers => { 'Content-Type' => 'application/json' },
                        content => '{"session": "s1", '
                                   . '"latency": "recorded x0"}' });
    is($a->{status}, 400, 'a scale of 0 is refused');
    like($a->{content}, qr/the scale of \\"recorded\\"/, 'and said why');

    $r = stream_get($port, '/fast/sse', headers => ['X-Session: s1']);
    is($r->{body}, $want, 'the session: the whole body');
    gaps_near($r, $GAP / 2, 150, 'with its own latency');

    $r = stream_get($port, '/rec/json');
    is($r->{body}, '{"id": 7}', 'times and no chunks: the whole body');
    like($r->{head}, qr/^Content-Length: 9\r?$/mi, 'with its length');
    $head = $r->{head_time} - $r->{start};
    my $body = $r->{end} - $r->{head_time};
    ok($head >= 0.08 && $body >= 0.28, 'its header after 100 ms, its body '
       . '300 ms later') or diag("$head $body");
}


# (b) HTTP/1.0 and HEAD

{
    my $r = stream_get($port, '/rec/sse', http10 => 1);
    is($r->{body}, $want, 'HTTP/1.0: the whole body, up to the close');
    unlike($r->{head}, qr/^Transfer-Encoding/mi, 'not chunked');

    my $h = HTTP::Tiny->new(timeout => 10)
            ->request('HEAD', "http://127.0.0.1:$port/fast/sse");
    is($h->{status}, 200, 'HEAD is answered');
    is($h->{content} // '', '', 'with no body');
    is($h->{headers}{'content-length'}, length $want,
       'and the length of the whole');
}


# (c) templates, chunk by chunk

{
    my $r = stream_get($port, '/tpl/tpl');
    my $tpl = "data: /tpl/tpl\n\ndata: GET\n\ndata: end\n\n";
    is($r->{body}, $tpl, 'a templated stream: the whole body');
    is(join('|', map { $_->[1] } @{ $r->{pieces} }),
       "data: /tpl/tpl\n\n|data: GET\n\n|data: end\n\n",
       'each chunk rendered in its place');
    is(scalar(@{ $r->{events} }), 3, 'three events of SSE');
    gaps_near($r, 100, 150, 'with their gaps');
}


# (c') a slow client: what it cannot take yet waits in nginx

for my $loc ('rec', 'fast') {
    my $c = slow_get($port, "/$loc/big");
    sleep 0.6;
    my $data = $c->{data};
    my $deadline = time + 10;
    while (time < $deadline) {
        my $n = sysread($c->{socket}, $data, 1 << 20, length $data);
        last unless $n;
    }
    close $c->{socket};
    my (undef, $body) = split /\r\n\r\n/, $data, 2;
    ok(defined $body && $body eq $BIG,
       "/$loc/: a slow client gets the whole of a big stream")
        or diag(length($body // ''));
}


# A slow client in a long gap gets what nginx holds when it reads it, not
# with the next chunk.

{
    my $c = slow_get($port, '/rec/gap');
    my $start = time;
    sleep 0.3;
    my $data = $c->{data};
    my $got;
    while (time < $start + 10) {
        my $n = sysread($c->{socket}, $data, 1 << 20, length $data);
        last unless $n;
        my (undef, $body) = split /\r\n\r\n/, $data, 2;
        if (!defined $got && length($body // '') >= 500000) {
            $got = time - $start;
        }
    }
    close $c->{socket};
    ok(defined $got && $got < 1.2, 'a slow client gets a big chunk before '
       . 'the next one is due') or diag($got // 'never');
    my (undef, $body) = split /\r\n\r\n/, $data, 2;
    ok(($body // '') eq ('a' x 500000) . 'end', 'and then the rest');
}


# (d) fifty streams at once

{
    my $dir = "$root/clients";
    mkdir $dir;
    my $t0 = time;
    my @pids = start_clients($dir, 50, sub {
        my ($i, $out) = @_;
        my $r = stream_get($port, '/rec/sse');
        print {$out} ($r->{body} eq $want ? 'ok' : 'bad'), "\n";
    });
    waitpid $_, 0 for @pids;
    my $took = time - $t0;
    my $ok = grep { slurp("$dir/$_") eq "ok\n" } 0 .. 49;
    is($ok, 50, 'fifty streams at once come whole');
    ok($took < 3, 'in about the time of one') or diag("$took s");
}


# (e) clients that leave

{
    my $pid = ($nginx->worker_pids)[0];
    for (1 .. 20) {
        my $r = stream_get($port, '/rec/sse', stop_after => 1);
        is(scalar(@{ $r->{events} }), 1, "a client that leaves after one "
           . "event") if $_ == 1;
    }
    sleep 1.2;
    my $r = stream_get($port, '/rec/sse');
    is($r->{body}, $want, 'nginx streams on');
    is(($nginx->worker_pids)[0], $pid, 'with the same worker');
}


# (f) reloads while streams are in flight

{
    my $dir = "$root/reload";
    mkdir $dir;
    my @pids = start_clients($dir, 10, sub {
        my ($i, $out) = @_;
        my $r = stream_get($port, $i % 2 ? '/rec/sse' : '/half/sse');
        print {$out} $r->{body} eq $want ? 'ok' : "bad: $r->{body}", "\n";
    });

    sleep 0.3;
    write_file("$root/cassettes/c.yaml", cassette('new'));
    my $a = HTTP::Tiny->new(timeout => 10)->post(
        "http://127.0.0.1:$port/_mock/reload",
        { headers => { 'Content-Type' => 'application/json' },
          content => '{}' });
    is($a->{status}, 200, 'the cassettes are reloaded mid-stream')
        or diag($a->{content});

    my $r = stream_get($port, '/fast/sse');
    is($r->{body}, join('', map { "data: new$_\n\n" } 0 .. 4),
       'a new stream has the new cassette');

    kill 'HUP', $nginx->master_pid;
    sleep 0.1;
    write_file("$root/cassettes/c.yaml", cassette('newer'));

    waitpid $_, 0 for @pids;
    my $ok = grep { slurp("$dir/$_") eq "ok\n" } 0 .. 9;
    is($ok, 10, 'the streams in flight come whole, as they began')
        or diag(join '', map { slurp("$dir/$_") } 0 .. 9);
}

is(scalar($nginx->log_lines(qr/\[(?:alert|crit|emerg)\]/)), 0,
   'no alert in the log') or diag($nginx->error_log);

$nginx->stop;

done_testing();
