# Recording keeps how long the upstream took, in keys vcrpy ignores:
#
#   (a) a streamed answer (proxy_buffering off): x_mock timing has, in
#       HAR's terms, the time to its header ("wait": a header sent late
#       comes late) and to the end of its body ("receive"), and x_mock
#       chunks the pieces the upstream sent, with when each came; they
#       add up to the body, which stays whole in body.string;
#   (b) a buffered answer (proxy_buffering on) has its times, and no
#       chunks: nginx's buffers are not the upstream's pieces;
#   (c) Debian's python3-vcr loads the cassette and replays each whole
#       body;
#   (d) the recording replays as it was recorded: under "mock_latency
#       recorded" its events come with the recorded gaps.
#
# Times are measured from the client's side and read from the cassette,
# with tolerances.  This file runs its own nginx under
# t/servroot-record-timing/, with an upstream of its own.

use strict;
use warnings;

use Test::More;
use FindBin;
use JSON::PP ();
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(PYTHON skip_under_valgrind module_under_test
                skip_without_python server_port lock_run run_cmd slurp);
use StreamTest qw(sse_upstream stream_get gaps);

skip_under_valgrind('times are checked with tolerances that nginx under '
                    . 'valgrind does not meet');

my $module = module_under_test();

skip_without_python('import yaml, vcr, requests',
                    'with PyYAML, vcrpy and requests is needed to check '
                    . 'the cassette (Debian: apt-get install python3-yaml '
                    . 'python3-vcr python3-requests)');

my $port     = server_port(181);
my $up       = server_port(182);
my $root     = "$FindBin::Bin/servroot-record-timing";
my $cassette = "$root/cassettes/rec.yaml";
my $GAP      = 150;   # ms between the upstream's events
my $HEADER   = 200;   # ms before a late header

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => 10);

my $http = <<"EOF";
http {
    access_log off;
    server {
        listen 127.0.0.1:$port;
        location /rec/ {
            proxy_pass http://127.0.0.1:$up/;
            proxy_buffering off;
            mock_upstream http://127.0.0.1:$up/;
            mock_replay cassettes/rec.yaml;
            mock_mode record;
        }
        location /buf/ {
            proxy_pass http://127.0.0.1:$up/;
            proxy_buffering on;
            mock_upstream http://127.0.0.1:$up/;
            mock_replay cassettes/rec.yaml;
            mock_mode record;
        }
        location /play/ {
            mock_upstream http://127.0.0.1:$up/;
            mock_replay cassettes/rec.yaml;
            mock_latency recorded;
            mock_repeats on;
        }
    }
}
EOF

$nginx->setup(http => $http);

my $upstream = sse_upstream($up, undef);
END { kill 'TERM', $upstream if $upstream }

$nginx->start;

my @paths = ("/events/5/$GAP", "/events/3/$GAP/h$HEADER",
             "/events/4/$GAP/plain");

for my $path (@paths) {
    my $r = stream_get($port, "/rec$path");
    is($r->{status}, 200, "$path is recorded");
}

my $got = stream_get($port, "/buf/events/3/$GAP/plain");
is($got->{status}, 200, 'a buffered answer is recorded');


# The cassette as PyYAML reads it: per interaction, its path, body and
# x_mock, as JSON.
my ($rc, $out, $err) = run_cmd(PYTHON, '-c', <<'PY', $cassette);
import json, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
out = []
for i in doc["interactions"]:
    out.append({"uri": i["request"]["uri"],
                "body": i["response"]["body"]["string"],
                "x_mock": i.get("x_mock", {})})
print(json.dumps(out))
PY
is($rc, 0, 'PyYAML reads the cassette') or diag($err);

my @items = @{ JSON::PP::decode_json($out || '[]') };
is(scalar(@items), 4, 'four interactions');

sub ms { my ($v) = @_; return ($v // '') =~ /^(\d+)$/ ? $1 : undef }

sub events { return join '', map { "data: $_\n\n" } 0 .. $_[0] - 1 }


# (a) a streamed answer

{
    my $it = $items[0] // {};
    my $x = $it->{x_mock} // {};
    is($it->{body}, events(5), 'the whole body is in body.string');

    my $header = ms($x->{timing}{wait});
    my $body = ms($x->{timing}{receive});
    ok(defined $header && $header < 100, 'an early header took little')
        or diag(explain($x));
    ok(defined $body && $body >= 4 * $GAP - 20 && $body < 4 * $GAP + 1500,
       "its body took about 4 x $GAP ms") or diag(explain($x));

    my @chunks = @{ $x->{chunks} // [] };
    is(scalar(@chunks), 5, 'five chunks, one per event');
    is(join(',', map { $_->{size} } @chunks), '9,9,9,9,9',
       'each of the bytes of an event');

    my @at = map { ms($_->{at}) // -1 } @chunks;
    ok(@at && $at[0] >= 0 && $at[0] < 100, 'the first came with the header')
        or diag("@at");
    my @bad = grep { my $off = $at[$_] - $at[0];
                     $off < $_ * $GAP - 20 || $off > $_ * $GAP + 400 }
              1 .. $#at;
    is(scalar(@bad), 0, "the others $GAP ms apart") or diag("@at");

    $x = ($items[1] // {})->{x_mock} // {};
    $header = ms($x->{timing}{wait});
    ok(defined $header && $header >= $HEADER - 20
       && $header < $HEADER + 1000,
       "a header sent after $HEADER ms took as long") or diag(explain($x));
    is(scalar(@{ $x->{chunks} // [] }), 3, 'and its three chunks');

    $x = ($items[2] // {})->{x_mock} // {};
    is(scalar(@{ $x->{chunks} // [] }), 4,
       'a streamed body of a known length has its chunks too');
}


# (b) a buffered answer

{
    my $it = $items[3] // {};
    my $x = $it->{x_mock} // {};
    is($it->{body}, events(3), 'a buffered body is whole');
    my $body = ms($x->{timing}{receive});
    ok(defined $x->{timing} && defined $body,
       'it has its times') or diag(explain($x));
    ok(!exists $x->{chunks}, 'and no chunks');
}


# (c) vcrpy replays each whole body

{
    my ($rc, $out, $err) = run_cmd(PYTHON, '-c', <<'PY', $cassette);
import sys, requests, vcr
from vcr.persisters.filesystem import FilesystemPersister
from vcr.serializers import yamlserializer
reqs, resps = FilesystemPersister.load_cassette(sys.argv[1], yamlserializer)
with vcr.use_cassette(sys.argv[1], record_mode="none",
                      allow_playback_repeats=True):
    for r in reqs:
        print(repr(requests.get(r.uri).text))
PY
    is($rc, 0, 'vcrpy loads the cassette and plays it') or diag($err);
    is($out, join('', map { "'" . (events($_) =~ s/\n/\\n/gr) . "'\n" }
                          5, 3, 4, 3),
       'with the whole bodies');
}


# (d) the recording replayed with its times

{
    my $r = stream_get($port, "/play/events/5/$GAP");
    is($r->{body}, events(5), 'the recording replays whole');
    is(scalar(@{ $r->{pieces} }), 5, 'in its five chunks');
    # each event as long after the first as it was recorded
    my @at = map { ms($_->{at}) // 0 } @{ $items[0]{x_mock}{chunks} // [] };
    my @t = map { $_->[0] } @{ $r->{events} };
    my @bad = grep { my $off = ($t[$_] - $t[0]) * 1000;
                     my $want = $at[$_] - $at[0];
                     $off < $want - 20 || $off > $want + 150 } 1 .. $#t;
    ok(@t == 5 && @at == 5 && !@bad, "its events as far apart as recorded")
        or diag("recorded @at; gaps "
                . join ' ', map { sprintf '%.0f', $_ } gaps($r));

    $r = stream_get($port, "/play/events/3/$GAP/h$HEADER");
    my $first = ($r->{head_time} // 0) - $r->{start};
    ok($first >= ($HEADER - 20) / 1000,
       "a late header comes after $HEADER ms")
        or diag(sprintf '%.3f s', $first);
}

is(scalar($nginx->log_lines(qr/\[(?:alert|crit|error)\]/)), 0,
   'no error in the log') or diag($nginx->error_log);

$nginx->stop;

done_testing();
