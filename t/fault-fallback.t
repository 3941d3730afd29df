# Faults on the upstream path of "fallback" (mock_fault ... upstream, and
# a session's "... upstream"): the request is not sent to the upstream,
# and the fallback answers as it does when the upstream really fails.
#
#   - status=503 upstream: answered from the recording, "X-Mock:
#     fallback; fault_fallback", the upstream never asked;
#   - reset upstream and empty upstream count as a failed connection
#     (502), stall=1s upstream as a timeout (504) after about 1 s: both
#     answered from the recording;
#   - a status not in mock_fallback_status, or a request with no
#     recording, gets the failure itself ("fault");
#   - rate=50% seed=3: the same requests of a session fall back run after
#     run, the others reach the upstream;
#   - a session's upstream fault (the admin API) is its own, and a
#     session's replay fault does not touch the upstream path;
#   - metrics, the journal and $mock_status count them;
#   - bad values are configuration errors and admin 400s.
#
# This file runs its own nginx under t/servroot-fault-fallback/.

use strict;
use warnings;

use Test::More;
use FindBin;
use Time::HiRes qw(time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file json_of);

skip_under_valgrind('the stall is timed with deadlines that nginx under '
                    . 'valgrind does not meet');

my $module = module_under_test();

my $port = server_port(193);
my $root = "$FindBin::Bin/servroot-fault-fallback";
my $WAIT = 10;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);

sub cassette {
    my ($name) = @_;
    return <<"EOF";
version: 1
interactions:
- request: {method: GET, uri: 'http://127.0.0.1:$port/up/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: 'recorded a of $name'}
- request:
    method: POST
    uri: 'http://127.0.0.1:$port/up/b'
    body: '{"n": 1}'
    headers: {Content-Type: [application/json]}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: 'recorded b1 of $name'}
- request:
    method: POST
    uri: 'http://127.0.0.1:$port/up/b'
    body: '{"n": 2}'
    headers: {Content-Type: [application/json]}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: 'recorded b2 of $name'}
EOF
}

my @names = qw(status reset empty stall unlisted norec rate sess both body);

sub location {
    my ($name, $fault) = @_;
    return <<"EOF";
        location /$name/ {
            proxy_pass http://127.0.0.1:$port/up/;
            mock_upstream http://127.0.0.1:$port/up/;
            mock_replay cassettes/$name.yaml;
            mock_mode fallback;
            mock_session \$http_x_test;
            $fault
        }
EOF
}

my $http = "http {\n"
    . "    log_format mock '\$uri \$status \$mock_status';\n"
    . "    access_log logs/access.log mock;\n"
    . "    server {\n"
    . "        listen 127.0.0.1:$port;\n"
    . location('status', 'mock_fault status=503 upstream;')
    . location('reset', 'mock_fault reset upstream;')
    . location('empty', 'mock_fault empty upstream;')
    . location('stall', 'mock_fault stall=1s upstream;')
    . location('unlisted', 'mock_fault status=500 upstream;')
    . location('norec', 'mock_fault status=503 upstream;')
    . location('rate', 'mock_fault status=503 rate=50% seed=3 upstream;')
    . location('sess', '')
    . location('both', "mock_fault status=502;\n"
                       . "            mock_fault status=504 upstream;")
    . location('body', "mock_fault reset upstream;\n"
                       . "            mock_match method path body;")
    . "        location /up/ {\n"
    . "            access_log logs/up.log mock;\n"
    . "            return 200 \"live \$uri\";\n"
    . "        }\n"
    . "        location /_mock { mock_admin; }\n"
    . "    }\n}\n";

my %files = map { ("cassettes/$_.yaml" => cassette($_)) }
            grep { $_ ne 'norec' } @names;

$nginx->setup(files => \%files, http => $http);
$nginx->start;

sub upstream_hits {
    return scalar(() = slurp("$root/logs/up.log") =~ /\n/g);
}

sub get {
    my ($path, $session) = @_;
    return $nginx->get($path, defined $session
                              ? { headers => { 'X-Test' => $session } } : {});
}

sub admin {
    my ($method, $path, $json) = @_;
    return $nginx->request($method, "/_mock/$path",
                           defined $json
                           ? { content => $json,
                               headers => { 'Content-Type'
                                            => 'application/json' } }
                           : {});
}


# status=503 upstream: the recording answers, the upstream is not asked

my $hits = upstream_hits();

my $r = get('/status/a');
is($r->{status}, 200, 'status=503 upstream: the fallback answers 200');
is($r->{content}, 'recorded a of status', 'status=503 upstream: the recording');
is($r->{headers}{'x-mock'}, 'fallback; fault_fallback',
   'status=503 upstream: X-Mock says fault_fallback');
is(upstream_hits(), $hits, 'status=503 upstream: the upstream is not asked');


# reset, empty (502) and stall (504) fall back too

for my $name (qw(reset empty)) {
    $r = get("/$name/a");
    is($r->{status}, 200, "$name upstream: 200 from the recording");
    is($r->{content}, "recorded a of $name", "$name upstream: the recording");
    is($r->{headers}{'x-mock'}, 'fallback; fault_fallback', "$name upstream: X-Mock");
}

my $t0 = time;
$r = get('/stall/a');
my $took = time - $t0;
is($r->{content}, 'recorded a of stall', 'stall=1s upstream: then the recording');
ok($took >= 0.9 && $took < 4, 'stall=1s upstream: after about 1 s')
    or diag("took $took s");

is(upstream_hits(), $hits, 'reset, empty, stall: the upstream is not asked');


# the failure itself: a status not in mock_fallback_status; no recording

$r = get('/unlisted/a');
is($r->{status}, 500, 'status=500 upstream (not listed): 500');
is($r->{content}, "mock: injected fault\n", 'status=500 upstream: the fault\'s text');
is($r->{headers}{'x-mock'}, 'fallback; fault', 'status=500 upstream: X-Mock says fault');

$r = get('/norec/a');
is($r->{status}, 503, 'no recording to fall back on: the 503 itself');
is($r->{headers}{'x-mock'}, 'fallback; fault', 'no recording: X-Mock says fault');

is(upstream_hits(), $hits, 'unlisted, no recording: the upstream is not asked');


# rate=50% seed=3: the same pattern for a session, run after run

sub pattern {
    my ($session) = @_;
    my $p = '';
    for (1 .. 30) {
        my $res = get('/rate/a', $session);
        my $x = $res->{headers}{'x-mock'} // '';
        $p .= $x eq 'fallback; fault_fallback' ? 'F'
            : $x eq 'fallback' && $res->{content} eq 'live /up/a' ? '.'
            : '?';
    }
    return $p;
}

my $before = upstream_hits();
my $first = pattern('seeded');
my $live = () = $first =~ /\./g;
is(upstream_hits() - $before, $live,
   'rate: the requests that were not faulted reached the upstream');
is(admin('POST', 'reset?session=seeded')->{status}, 200, 'rate: reset');
is(pattern('seeded'), $first, 'rate=50% seed=3: the same 30 answers after a reset');
ok($live >= 5 && $live <= 25, "rate=50%: about half reached the upstream ($live of 30)")
    or diag($first);
unlike($first, qr{\?}, 'rate: only live and recorded answers');


# a session's fault on the upstream path

$hits = upstream_hits();

$r = admin('POST', 'fault', '{"session": "down", "fault": "reset upstream"}');
is($r->{status}, 200, 'session upstream fault: set');
is($r->{content}, qq({"session": "down", "fault": "reset upstream"}\n),
   'session upstream fault: as it is set');

$r = get('/sess/a', 'down');
is($r->{content}, 'recorded a of sess', 'session upstream fault: its session falls back');
is($r->{headers}{'x-mock'}, 'fallback; fault_fallback', 'session upstream fault: X-Mock');
is(upstream_hits(), $hits, 'session upstream fault: the upstream is not asked');

$r = get('/sess/a', 'up');
is($r->{content}, 'live /up/a', 'session upstream fault: another session reaches the upstream');
is(upstream_hits(), $hits + 1, 'session upstream fault: once');

$r = get('/status/a', 'down');
is($r->{headers}{'x-mock'}, 'fallback; fault_fallback',
   'session upstream fault: over the location\'s too');

# a replay fault of the session does not touch the upstream path
admin('POST', 'fault', '{"session": "down", "fault": "status=503"}');
$r = get('/sess/a', 'down');
is($r->{content}, 'live /up/a', 'session replay fault: fallback proxies as usual');
is($r->{headers}{'x-mock'}, 'fallback', 'session replay fault: no fault');

# "off upstream": none, whatever the location says
admin('POST', 'fault', '{"session": "down", "fault": "off upstream"}');
$r = get('/status/a', 'down');
is($r->{content}, 'live /up/a', 'session "off upstream": over the location\'s');

is(admin('DELETE', 'fault?session=down')->{status}, 200, 'session upstream fault: deleted');
$r = get('/status/a', 'down');
is($r->{headers}{'x-mock'}, 'fallback; fault_fallback',
   'session upstream fault deleted: the location\'s again');


# a body matched: the recording of that body answers

$hits = upstream_hits();

for my $n (2, 1) {
    $r = $nginx->request('POST', '/body/b',
                         { content => qq({"n": $n}),
                           headers => { 'Content-Type' => 'application/json' } });
    is($r->{content}, "recorded b$n of body",
       "reset upstream, matched on the body: the recording of body $n");
}
is(upstream_hits(), $hits, 'matched on the body: the upstream is not asked');


# a location with a replay fault and an upstream fault: fallback uses
# the upstream one

$r = get('/both/a');
is($r->{content}, 'recorded a of both', 'both: status=504 upstream falls back');


# counted

my $m = json_of(admin('GET', 'metrics'));
my %ff = map { $_->{location} => $_->{fault_fallback} } @{ $m->{locations} };
my %f = map { $_->{location} => $_->{fault} } @{ $m->{locations} };
is($ff{'/status/'}, 3, 'metrics: fault_fallback of /status/');
is($ff{'/reset/'}, 1, 'metrics: fault_fallback of /reset/');
is($ff{'/stall/'}, 1, 'metrics: fault_fallback of /stall/');
is($f{'/unlisted/'}, 1, 'metrics: fault of /unlisted/');
is($f{'/norec/'}, 1, 'metrics: fault of /norec/');
is($ff{'/rate/'}, 2 * (30 - $live), 'metrics: fault_fallback of /rate/');

like(admin('GET', 'metrics?format=prometheus')->{content},
     qr{nginx_mock_requests_total\{location="/reset/",cassette="[^"]+",result="fault_fallback"\} 1},
     'metrics: in Prometheus\'s format');

my $j = json_of(admin('GET', 'journal?limit=1000'));
my @entries = @{ $j->{entries} // $j->{journal} // [] };
ok((grep { ($_->{result} // '') eq 'fault_fallback' } @entries) >= 8,
   'journal: fault_fallback');

my $log = slurp("$root/logs/access.log");
like($log, qr{^/status/a 200 fault_fallback$}m, '$mock_status: fault_fallback');
like($log, qr{^/unlisted/a 500 fault$}m, '$mock_status: fault');

unlike($nginx->error_log, qr{\[(?:alert|crit|emerg)\]}, 'no alert in the error log');


# admin 400s

for my $bad (['{"session": "s", "fault": "truncate=50% upstream"}',
              qr{on the upstream path a fault is status=, reset, empty, stall= or off}],
             ['{"session": "s", "fault": "reset upstream rate=150%"}',
              qr{"rate=" takes a percentage above 0% and at most 100%}],
             ['{"session": "s", "fault": "stall=1x upstream"}',
              qr{"stall=" takes a time}],
             ['{"session": "s", "fault": "off upstream rate=5%"}',
              qr{"off" takes nothing after it but "upstream"}],
             ['{"session": "s", "fault": "reset downstream"}',
              qr{unknown parameter}])
{
    $r = admin('POST', 'fault', $bad->[0]);
    is($r->{status}, 400, "admin $bad->[0]: 400");
    like(json_of($r)->{error} // '', $bad->[1], "admin $bad->[0]: why");
}


# configuration errors

$nginx->stop;

for my $bad (['mock_fault malformed_chunk upstream;',
              qr{"mock_fault": on the upstream path a fault is status=, reset, empty, stall= or off}],
             ['mock_fault reset upstream rate=101%;',
              qr{"rate=" takes a percentage above 0% and at most 100%}],
             ['mock_fault stall=25h upstream;', qr{"stall=" takes a time such as "30s", at most 24h}],
             ["mock_fault reset upstream;\n            mock_fault empty upstream;",
              qr{"mock_fault" directive is duplicate: a location has one fault on the upstream path}],
             ["mock_fault reset;\n            mock_fault empty;",
              qr{"mock_fault" directive is duplicate: a location has one fault on replay, and one on the upstream path}])
{
    my $conf = $http;
    $conf =~ s{mock_fault status=503 upstream;}{$bad->[0]};
    write_file($nginx->conf, $nginx->conf_head . $conf);
    (my $name = $bad->[0]) =~ s/\s+/ /g;
    my ($rc, $out, $err) = $nginx->test_config;
    isnt($rc, 0, "nginx -t fails: $name");
    like($err, qr{$bad->[1].* in \S+nginx\.conf:\d+}, "nginx -t names it: $name")
        or diag($err);
}

done_testing();
