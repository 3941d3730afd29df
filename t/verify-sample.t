# mock_verify_sample: a share of the requests of a location that replays
# (or proxies, mock_mode off) goes to the upstream and is verified; the
# others are answered as the location's mode says.  On an nginx of this
# file's own (t/servroot-verify-sample/):
#
#   - 100%: every request gets the live answer and is verified, and the
#     sequence of the replaying locations is not played;
#   - 50%: of 400 requests, the verified ones get the live answer and
#     the others the recording, each said by X-Mock; the share is near
#     half (within 8 standard deviations: the test fails by chance once
#     in 10^15 runs), and metrics count both;
#   - in mock_mode off, a sampled request is verified, the others are
#     proxied untouched: at 50%, each answer is the live one, said
#     "verify" by X-Mock or not touched at all (no X-Mock, no journal
#     entry, no metric); "off" samples nothing.

use strict;
use warnings;

use Test::More;
use FindBin;

use lib "$FindBin::Bin/lib";
use MockTest qw(module_under_test server_port lock_run json_of);

my $module = module_under_test();

my $port = server_port(203);
my $backend = server_port(204);
my $root = "$FindBin::Bin/servroot-verify-sample";

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module);

my $cassette = <<"EOF";
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"v": "recorded", "n": 1}'}
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"v": "second", "n": 2}'}
EOF

sub location {
    my ($name, $more) = @_;
    return <<"EOF";
        location /$name/ {
            proxy_pass http://127.0.0.1:$backend/;
            mock_replay cassettes/c.yaml;
            mock_upstream http://svc/;
            mock_repeats on;
            $more
        }
EOF
}

my $http = "http {\n    server {\n        listen 127.0.0.1:$port;\n"
    . location('all', 'mock_verify_sample 100%;')
    . location('half', 'mock_verify_sample 50%;')
    . location('off', 'mock_mode off; mock_verify_sample 100%;')
    . location('offhalf', 'mock_mode off; mock_verify_sample 50%;')
    . location('never', 'mock_mode off; mock_verify_sample off;')
    . location('replay', '')
    . "        location /_mock { mock_admin; }\n"
    . "    }\n"
    . "    server {\n        listen 127.0.0.1:$backend;\n"
    . "        default_type application/json;\n"
    . "        location / { return 200 '{\"v\": \"live\", \"n\": 7}'; }\n"
    . "    }\n}\n";

$nginx->setup(files => { 'cassettes/c.yaml' => $cassette }, http => $http);
$nginx->start;

sub metrics_of {
    my ($location) = @_;
    my $m = json_of($nginx->get('/_mock/metrics')) // {};
    my ($slot) = grep { $_->{location} eq $location }
                      @{ $m->{locations} // [] };
    return $slot // {};
}


# --- 100% --------------------------------------------------------------------

for (1 .. 3) {
    my $r = $nginx->get('/all/a');
    is($r->{content}, '{"v": "live", "n": 7}', '100%: the live answer');
    is($r->{headers}{'x-mock'}, 'verify', 'said by X-Mock');
}

is(metrics_of('/all/')->{verified}, 3, 'every one is verified');
is(metrics_of('/all/')->{hit}, 0, 'none is replayed');

my $r = $nginx->get('/replay/a');
is($r->{content}, '{"v": "recorded", "n": 1}',
   'the sequence was not played by the verified requests');


# --- 50% ---------------------------------------------------------------------

my ($verified, $replayed, $wrong) = (0, 0, 0);

for (1 .. 400) {
    $r = $nginx->get('/half/a');
    my $mode = $r->{headers}{'x-mock'} // '';
    if ($mode eq 'verify' && $r->{content} eq '{"v": "live", "n": 7}') {
        $verified++;
    } elsif ($mode eq 'replay; hit'
             && $r->{content} eq '{"v": "recorded", "n": 1}')
    {
        $replayed++;
    } else {
        $wrong++;
    }
}

is($wrong, 0, 'each answer is the live one when verified, else recorded');
ok($verified >= 120 && $verified <= 280,
   "about half of 400 are verified: $verified");
is($verified + $replayed, 400, 'the others are replayed');
is(metrics_of('/half/')->{verified}, $verified, 'metrics count the verified');
is(metrics_of('/half/')->{hit}, $replayed, 'and the replayed');


# --- mock_mode off -------------------------------------------------------------

$r = $nginx->get('/off/a');
is($r->{content}, '{"v": "live", "n": 7}', 'off: the live answer');
is($r->{headers}{'x-mock'}, 'verify', 'verified');

my ($checked, $untouched, $odd) = (0, 0, 0);
my $before = (json_of($nginx->get('/_mock/journal?limit=1')) // {})->{next};

for (1 .. 200) {
    $r = $nginx->get('/offhalf/a');
    my $mode = $r->{headers}{'x-mock'};
    if ($r->{content} ne '{"v": "live", "n": 7}') {
        $odd++;
    } elsif (!defined $mode) {
        $untouched++;
    } elsif ($mode eq 'verify') {
        $checked++;
    } else {
        $odd++;
    }
}

is($odd, 0, 'off at 50%: the live answer, verified or not touched');
ok($checked >= 40 && $checked <= 160, "about half verified: $checked");
is(metrics_of('/offhalf/')->{verified}, $checked,
   'metrics count the verified only');
is(metrics_of('/offhalf/')->{passthrough}, 0, 'and nothing else');
my $after = (json_of($nginx->get('/_mock/journal?limit=1')) // {})->{next};
is($after - $before, $checked, 'the journal lists the verified only');

$r = $nginx->get('/never/a');
is($r->{content}, '{"v": "live", "n": 7}', '"off" samples nothing');
ok(!defined $r->{headers}{'x-mock'}, 'and the module does nothing');

my $d = json_of($nginx->get('/_mock/drift')) // {};
is(scalar @{ $d->{drift} // [] }, 0, 'live and recorded have one shape');

is(scalar(() = $nginx->log_lines(qr/\[(error|alert|crit|emerg)\]/)), 0,
   'no error was logged');

$nginx->stop;

done_testing();
