# mock_fault: each fault as a client on a raw socket sees it.
#
#   - status=503 answers 503, with "X-Mock: replay; fault";
#   - reset sends an RST before any byte (ECONNRESET, or EOF with
#     nothing);
#   - empty closes without a byte;
#   - truncate=50% sends the Content-Length of the whole body and closes
#     after half of it;
#   - stall=2s sends nothing for 2 s, then closes;
#   - malformed_chunk frames the body as chunked, with a chunk size that
#     is no number;
#   - rate=50% seed=7 faults the same requests of a session, run after
#     run (a reset starts the count again), about half of 40, whatever
#     other sessions do;
#   - a session's fault (the admin API) affects that session only, and
#     comes before the location's; "off" switches the location's off;
#   - metrics, the journal, $mock_status count every fault;
#   - bad values are configuration errors, and bad session faults 400.
#
# Raw sockets are needed to see resets and cut bodies, so this file runs
# its own nginx under t/servroot-fault/.

use strict;
use warnings;

use Test::More;
use FindBin;
use IO::Socket::INET;
use IO::Select;
use Errno qw(ECONNRESET);
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                write_file json_of);

skip_under_valgrind('faults are timed with deadlines that nginx under '
                    . 'valgrind does not meet');

my $module = module_under_test();

my $port = server_port(151);
my $root = "$FindBin::Bin/servroot-fault";
my $WAIT = 10;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);

my $BODY = 'a body of forty bytes, to be cut in two.';

my $cassette = <<"EOF";
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: '$BODY'}
EOF

sub location {
    my ($name, $fault, $more) = @_;
    $more //= '';
    return <<"EOF";
        location /$name/ {
            mock_replay cassettes/c.yaml;
            mock_upstream http://svc/;
            mock_repeats on;
            mock_session \$http_x_test;
            $fault
            $more
        }
EOF
}

my $http = "http {\n"
    . "    log_format mock '\$uri \$status \$mock_status';\n"
    . "    access_log logs/access.log mock;\n"
    . "    server {\n"
    . "        listen 127.0.0.1:$port;\n"
    . location('status', 'mock_fault status=503;')
    . location('reset', 'mock_fault reset;')
    . location('empty', 'mock_fault empty;')
    . location('truncate', 'mock_fault truncate=50%;')
    . location('stall', 'mock_fault stall=2s;')
    . location('chunk', 'mock_fault malformed_chunk;')
    . location('rate', 'mock_fault status=503 rate=50% seed=7;')
    . location('plain', '')
    . "        location /_mock { mock_admin; }\n"
    . "    }\n}\n";

$nginx->setup(files => { 'cassettes/c.yaml' => $cassette }, http => $http);
$nginx->start;


# A request on a raw socket: everything read until the server closes,
# with the error that ended the reading (ECONNRESET), and how long the
# first byte took (undef: none came).

sub raw {
    my ($path, $session, $timeout) = @_;
    $timeout //= $WAIT;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => $WAIT)
        or die "cannot connect: $!";
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    $req .= "X-Test: $session\r\n" if defined $session;
    print $s "$req\r\n";

    my ($data, $err, $first) = ('', 0, undef);
    my $start = time;
    my $sel = IO::Select->new($s);

    while (time - $start < $timeout) {
        last unless $sel->can_read($timeout - (time - $start));
        my $n = sysread($s, my $buf, 65536);
        if (!defined $n) {
            $err = $! + 0;
            last;
        }
        last if $n == 0;
        $first //= time - $start;
        $data .= $buf;
    }

    close $s;
    return { data => $data, err => $err, first => $first,
             took => time - $start };
}

sub head_and_body {
    my ($data) = @_;
    my ($head, $body) = split /\r\n\r\n/, $data, 2;
    return ($head // '', $body // '');
}

sub admin {
    my ($method, $path, $json) = @_;
    return $nginx->request($method, "/_mock/$path",
                           defined $json ? { content => $json } : {});
}


# status=503

my $r = raw('/status/a');
my ($head, $body) = head_and_body($r->{data});
like($head, qr{^HTTP/1\.1 503 }, 'status=503: the status');
like($head, qr{\r\nX-Mock: replay; fault(?:\r|$)}, 'status=503: X-Mock says fault');
is($body, "mock: injected fault\n", 'status=503: a short text');


# reset: an RST before any byte

$r = raw('/reset/a');
ok($r->{err} == ECONNRESET || ($r->{err} == 0 && $r->{data} eq ''),
   'reset: the connection is reset (or closed) before any byte')
    or diag("error $r->{err}, read: $r->{data}");
is($r->{data}, '', 'reset: no byte');
is($r->{err}, ECONNRESET, 'reset: ECONNRESET');


# empty: closed without a byte

$r = raw('/empty/a');
is($r->{data}, '', 'empty: no byte');
is($r->{err}, 0, 'empty: an orderly close, no reset');


# truncate=50%

$r = raw('/truncate/a');
($head, $body) = head_and_body($r->{data});
like($head, qr{^HTTP/1\.1 200 }, 'truncate: the recorded status');
my ($cl) = $head =~ /\r\nContent-Length: (\d+)/;
is($cl, length $BODY, 'truncate: the Content-Length of the whole body');
is(length $body, length($BODY) / 2, 'truncate: half of the body, then EOF');
is($body, substr($BODY, 0, length($BODY) / 2), 'truncate: its first half');
like($head, qr{\r\nX-Mock: replay; fault(?:\r|$)}, 'truncate: X-Mock says fault');


# stall=2s: nothing for 2 s, then a close

$r = raw('/stall/a', undef, 1);
is($r->{data}, '', 'stall: no byte within 1 s');

$r = raw('/stall/a', undef, 5);
is($r->{data}, '', 'stall: no byte at all');
ok($r->{took} >= 1.9 && $r->{took} < 4, 'stall: closed after about 2 s')
    or diag("closed after $r->{took} s");


# malformed_chunk

$r = raw('/chunk/a');
($head, $body) = head_and_body($r->{data});
like($head, qr{\r\nTransfer-Encoding: chunked(?:\r|$)},
     'malformed_chunk: framed as chunked');
unlike($head, qr{Content-Length}, 'malformed_chunk: no Content-Length');
like($body, qr{^zz\r\n\Q$BODY\E\r\n}, 'malformed_chunk: a size that is no number');


# rate=50% seed=7: the same pattern for one session, run after run

my $other_faults = 0;

sub pattern {
    my ($session, $other) = @_;
    my $p = '';
    for my $i (1 .. 40) {
        my $res = $nginx->get('/rate/a', { headers => { 'X-Test' => $session } });
        $p .= $res->{status} == 503 ? 'F' : $res->{status} == 200 ? '.' : '?';
        next unless defined $other && $i % 3 == 0;
        $res = $nginx->get('/rate/a', { headers => { 'X-Test' => $other } });
        $other_faults++ if $res->{status} == 503;
    }
    return $p;
}

my $first = pattern('seeded');
is(admin('POST', 'reset?session=seeded')->{status}, 200, 'rate: reset');
my $second = pattern('seeded', 'other');
is($second, $first, 'rate=50% seed=7: the same 40 answers after a reset, '
                    . 'with another session in between');
my $faults = () = $first =~ /F/g;
ok($faults >= 10 && $faults <= 30, "rate=50%: about half faulted ($faults of 40)")
    or diag($first);
unlike($first, qr{\?}, 'rate: only 200 and 503');
diag("rate=50% seed=7: $first") if $ENV{TEST_VERBOSE};


# a session's fault, through the admin API

$r = admin('POST', 'fault', '{"session": "bad", "fault": "status=500"}');
is($r->{status}, 200, 'session fault: set');
is($r->{content}, qq({"session": "bad", "fault": "status=500"}\n),
   'session fault: as it is set');

is($nginx->get('/plain/a', { headers => { 'X-Test' => 'bad' } })->{status},
   500, 'session fault: its session gets it');
is($nginx->get('/plain/a', { headers => { 'X-Test' => 'good' } })->{status},
   200, 'session fault: another session does not');
is($nginx->get('/plain/a')->{status}, 200,
   'session fault: a request without a session does not');

$r = admin('POST', 'fault?session=bad&fault=off');
is($r->{status}, 200, 'session fault: off');
is($nginx->get('/status/a', { headers => { 'X-Test' => 'bad' } })->{status},
   200, 'session fault "off": over the location\'s');
is($nginx->get('/status/a', { headers => { 'X-Test' => 'good' } })->{status},
   503, 'session fault "off": other sessions keep the location\'s');

$r = admin('POST', 'fault', '{"session": "bad", "fault": "empty rate=100%"}');
is($r->{content}, qq({"session": "bad", "fault": "empty"}\n),
   'session fault: rate=100% is every request');
is(raw('/plain/a', 'bad')->{data}, '', 'session fault: empty');

is(admin('DELETE', 'fault?session=bad')->{status}, 200, 'session fault: deleted');
is($nginx->get('/plain/a', { headers => { 'X-Test' => 'bad' } })->{status},
   200, 'session fault: gone');
is(admin('DELETE', 'fault?session=bad')->{status}, 404,
   'session fault: nothing left to delete');

admin('POST', 'fault', '{"session": "gone", "fault": "status=502"}');
admin('POST', 'reset?session=gone');
is($nginx->get('/plain/a', { headers => { 'X-Test' => 'gone' } })->{status},
   200, 'session fault: a reset forgets it');

for my $bad (['{"session": "s", "fault": "rate=5%"}', qr{unknown fault}],
             ['{"session": "s", "fault": "status=503 rate=101%"}',
              qr{"rate=" takes a percentage}],
             ['{"session": "s", "fault": "truncate=100%"}', qr{"truncate="}],
             ['{"fault": "empty"}', qr{"session" is needed}],
             ['{"session": "s"}', qr{"session" and "fault" are needed}])
{
    $r = admin('POST', 'fault', $bad->[0]);
    is($r->{status}, 400, "session fault $bad->[0]: 400");
    like(json_of($r)->{error} // '', $bad->[1],
         "session fault $bad->[0]: why");
}


# every fault counted: metrics, journal, $mock_status

my $m = json_of(admin('GET', 'metrics'));
my %count = map { $_->{location} => $_->{fault} } @{ $m->{locations} };
is($count{'/status/'}, 2, 'metrics: the faults of /status/');
is($count{'/reset/'}, 1, 'metrics: the faults of /reset/');
is($count{'/stall/'}, 2, 'metrics: the faults of /stall/');
is($count{'/truncate/'}, 1, 'metrics: the faults of /truncate/');
is($count{'/rate/'}, 2 * $faults + $other_faults, 'metrics: the faults of /rate/');

like(admin('GET', 'metrics?format=prometheus')->{content},
     qr{nginx_mock_requests_total\{location="/chunk/",cassette="[^"]+",result="fault"\} 1},
     'metrics: in Prometheus\'s format');

my $j = json_of(admin('GET', 'journal?limit=1000'));
my @faults = grep { ($_->{result} // '') eq 'fault' } @{ $j->{entries} // $j->{journal} // [] };
ok(@faults >= 9 + 2 * $faults + $other_faults, 'journal: the faults are there, as "fault"')
    or diag(scalar @faults);

my $log = MockTest::slurp("$root/logs/access.log");
like($log, qr{^/status/a 503 fault$}m, '$mock_status: fault (status)');
like($log, qr{^/truncate/a 200 fault$}m, '$mock_status: fault (truncate)');
like($log, qr{^/empty/a 444 fault$}m, '$mock_status: fault (empty)');
like($log, qr{^/plain/a 200 hit$}m, '$mock_status: hit');

unlike($nginx->error_log, qr{\[(?:alert|crit|emerg)\]}, 'no alert in the error log');


# configuration errors

$nginx->stop;

for my $bad (['mock_fault status=503 rate=200%;', qr{"rate=" takes a percentage above 0% and at most 100%}],
             ['mock_fault status=503 rate=0%;', qr{"rate=" takes a percentage}],
             ['mock_fault status=503 rate=5;', qr{"rate=" takes a percentage}],
             ['mock_fault status=700;', qr{"status=" takes a status between 200 and 599}],
             ['mock_fault truncate=100%;', qr{"truncate=" takes the percentage of the body sent}],
             ['mock_fault stall=0s;', qr{"stall=" takes a time}],
             ['mock_fault explode;', qr{unknown fault}],
             ['mock_fault empty=1;', qr{this fault takes no value}],
             ['mock_fault reset seed=x;', qr{"seed=" takes a number}],
             ["mock_fault reset;\n            mock_fault empty;",
              qr{"mock_fault" directive is duplicate: a location has one fault}])
{
    my $conf = $http;
    $conf =~ s{mock_fault status=503;}{$bad->[0]};
    write_file($nginx->conf, $nginx->conf_head . $conf);
    (my $name = $bad->[0]) =~ s/\s+/ /g;
    my ($rc, $out, $err) = $nginx->test_config;
    isnt($rc, 0, "nginx -t fails: $name");
    like($err, qr{$bad->[1].* in \S+nginx\.conf:\d+}, "nginx -t names it: $name")
        or diag($err);
}

done_testing();
