# A signed request's own fault and latency (X-Mock-Fault, X-Mock-Latency
# under mock_request_mode on), signed with the mode and the session in
# X-Mock-Token.
#
#   - a signed fault answers that request, and no other: not the next
#     one, not another session's;
#   - a signed latency delays that request only, comes before the
#     session's, and "off" takes the session's away for it;
#   - "off" takes the location's fault away for that request;
#   - "... upstream" in a fallback location falls back without asking
#     the upstream;
#   - without a token, with a token of another fault, or with a token of
#     the mode alone, the request is refused with 403 and counted as
#     refused; where switching is off the headers are ignored;
#   - a signed value that does not parse, or a latency beyond
#     send_timeout, is answered 400 with a JSON error;
#   - scripts/mock-token makes the tokens.
#
# This file runs its own nginx under t/servroot-fault-token/.

use strict;
use warnings;

use Test::More;
use FindBin;
use Digest::SHA qw(hmac_sha256_hex);
use Time::HiRes qw(time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file json_of);

skip_under_valgrind('latencies are measured with tolerances that nginx '
                    . 'under valgrind does not meet');

my $module = module_under_test();

my $port = server_port(194);
my $root = "$FindBin::Bin/servroot-fault-token";
my $WAIT = 10;
my $SECRET = 'fault-token-secret-0123456789';
my $SCRIPT = "$FindBin::Bin/../scripts/mock-token";

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);

my $cassette = <<"EOF";
version: 1
interactions:
- request: {method: GET, uri: 'http://127.0.0.1:$port/up/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: 'recorded a'}
EOF

sub location {
    my ($name, $mode, $more, $switch) = @_;
    $switch //= 'on';
    return <<"EOF";
        location /$name/ {
            proxy_pass http://127.0.0.1:$port/up/;
            mock_upstream http://127.0.0.1:$port/up/;
            mock_replay cassettes/$name.yaml;
            mock_mode $mode;
            mock_repeats on;
            mock_session \$http_x_test;
            mock_request_mode $switch;
            mock_token_secret conf/secret;
            send_timeout 2s;
            $more
        }
EOF
}

my $http = "http {\n"
    . "    log_format mock '\$uri \$status \$mock_status \$mock_latency';\n"
    . "    access_log logs/access.log mock;\n"
    . "    server {\n"
    . "        listen 127.0.0.1:$port;\n"
    . location('rp', 'replay', '')
    . location('loc', 'replay', 'mock_fault status=502;')
    . location('fb', 'fallback', '')
    . location('closed', 'replay', '', 'off')
    . "        location /up/ {\n"
    . "            access_log logs/up.log mock;\n"
    . "            return 200 \"live \$uri\";\n"
    . "        }\n"
    . "        location /_mock { mock_admin; }\n"
    . "    }\n}\n";

$nginx->setup(files => { map({ ("cassettes/$_.yaml" => $cassette) }
                             qw(rp loc fb closed)),
                         'conf/secret' => "$SECRET\n" },
              http => $http);
$nginx->start;

# the token of scripts/mock-token
sub token {
    my (%a) = @_;
    my $expiry = int(time) + 300;
    my $msg = ($a{mode} // '') . "\n" . ($a{session} // '') . "\n$expiry";
    $msg .= "\n" . ($a{fault} // '') . "\n" . ($a{latency} // '')
        if defined $a{fault} || defined $a{latency};
    return "$expiry." . hmac_sha256_hex($msg, $SECRET);
}

sub get {
    my ($path, %h) = @_;
    my $t0 = time;
    my $r = $nginx->get($path, { headers => \%h });
    $r->{took} = time - $t0;
    return $r;
}

sub signed {
    my ($path, %a) = @_;
    my %h = ('X-Mock-Token' => token(%a));
    $h{'X-Mock-Mode'} = $a{mode} if defined $a{mode};
    $h{'X-Mock-Session'} = $a{session} if defined $a{session};
    $h{'X-Test'} = $a{session} if defined $a{session};
    $h{'X-Mock-Fault'} = $a{fault} if defined $a{fault};
    $h{'X-Mock-Latency'} = $a{latency} if defined $a{latency};
    return get($path, %h);
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


# a signed fault is that request's alone

my $r = signed('/rp/a', fault => 'status=503');
is($r->{status}, 503, 'signed fault: the request gets it');
is($r->{headers}{'x-mock'}, 'replay; fault', 'signed fault: X-Mock says fault');
is($r->{content}, "mock: injected fault\n", 'signed fault: its text');

$r = get('/rp/a');
is($r->{status}, 200, 'signed fault: the next request does not');
$r = get('/rp/a', 'X-Test' => 'other');
is($r->{status}, 200, 'signed fault: another session does not');

$r = signed('/rp/a', session => 's1', fault => 'status=504');
is($r->{status}, 504, 'signed fault with a session: the request gets it');
is(get('/rp/a', 'X-Test' => 's1')->{status}, 200,
   'signed fault with a session: not the session\'s next request');

$r = signed('/loc/a', fault => 'off');
is($r->{status}, 200, 'signed "off": over the location\'s fault');
is(get('/loc/a')->{status}, 502, 'signed "off": the others keep the location\'s');

$r = signed('/rp/a', mode => 'replay', fault => 'empty');
is($r->{status}, 599, 'signed fault with a mode: empty closes without a byte')
    or diag(explain($r));


# a signed latency

$r = signed('/rp/a', latency => '600ms');
is($r->{status}, 200, 'signed latency: answered');
ok($r->{took} >= 0.55, "signed latency: waited ($r->{took} s)");
$r = get('/rp/a');
ok($r->{took} < 0.4, "signed latency: the next request does not wait ($r->{took} s)");

is(admin('POST', 'latency', '{"session": "slow", "latency": "700ms"}')->{status},
   200, 'session latency: set');
$r = signed('/rp/a', session => 'slow', latency => 'off');
ok($r->{took} < 0.4, "signed latency \"off\": over the session's ($r->{took} s)");
$r = signed('/rp/a', session => 'slow', latency => '100ms');
ok($r->{took} >= 0.09 && $r->{took} < 0.5,
   "signed latency: before the session's ($r->{took} s)");
$r = get('/rp/a', 'X-Test' => 'slow');
ok($r->{took} >= 0.65, "the session's other requests keep its latency ($r->{took} s)");

my $token = `$SCRIPT --secret $root/conf/secret --mode replay --latency 300ms --ttl 60`;
chomp $token;
$r = get('/rp/a', 'X-Mock-Mode' => 'replay', 'X-Mock-Latency' => '300ms',
         'X-Mock-Token' => $token);
ok($r->{status} == 200 && $r->{took} >= 0.28,
   "scripts/mock-token --latency: signed ($r->{status}, $r->{took} s)");

$token = `$SCRIPT --secret $root/conf/secret --fault 'status=503 rate=100%' --ttl 60`;
chomp $token;
$r = get('/rp/a', 'X-Mock-Fault' => 'status=503 rate=100%', 'X-Mock-Token' => $token);
is($r->{status}, 503, 'scripts/mock-token --fault: signed');


# on the upstream path of fallback

my $hits = () = slurp("$root/logs/up.log") =~ /\n/g;
$r = signed('/fb/a', fault => 'reset upstream');
is($r->{content}, 'recorded a', 'signed upstream fault: the fallback answers');
is($r->{headers}{'x-mock'}, 'fallback; fault_fallback', 'signed upstream fault: X-Mock');
my $now = () = slurp("$root/logs/up.log") =~ /\n/g;
is($now, $hits, 'signed upstream fault: the upstream is not asked');
$r = get('/fb/a');
is($r->{content}, 'live /up/a', 'signed upstream fault: the next request reaches the upstream');

$r = signed('/rp/a', mode => 'fallback', fault => 'status=503 upstream');
is($r->{headers}{'x-mock'}, 'fallback; fault_fallback',
   'switched to fallback with an upstream fault: falls back');

$r = signed('/fb/a', fault => 'status=503');
is($r->{headers}{'x-mock'}, 'fallback', 'a replay fault in fallback: no fault');


# refusals

$r = get('/rp/a', 'X-Mock-Fault' => 'status=503');
is($r->{status}, 403, 'no token: 403');
is($r->{headers}{'x-mock'}, 'replay; refused', 'no token: X-Mock says refused');

$r = get('/rp/a', 'X-Mock-Latency' => '1s');
is($r->{status}, 403, 'a latency without a token: 403');

$r = get('/rp/a', 'X-Mock-Fault' => 'status=500',
         'X-Mock-Token' => token(fault => 'status=503'));
is($r->{status}, 403, 'a token of another fault: 403');

$r = get('/rp/a', 'X-Mock-Mode' => 'replay', 'X-Mock-Fault' => 'status=503',
         'X-Mock-Token' => token(mode => 'replay'));
is($r->{status}, 403, 'a token of the mode alone, with a fault added: 403');

$r = get('/rp/a', 'X-Mock-Latency' => '1s',
         'X-Mock-Token' => token(fault => '', latency => '2s'));
is($r->{status}, 403, 'a token of another latency: 403');

$r = get('/rp/a', 'X-Mock-Fault' => 'status=503 rate=500%');
is($r->{status}, 403, 'a bad fault without a token: 403, not 400');

my @refusals = $nginx->log_lines(qr{request for a (?:fault|latency) of its own refused});
ok(@refusals >= 5, 'each refusal is one line of the error log');
unlike($nginx->error_log, qr{\Q$SECRET\E}, 'the secret is never logged');

$r = get('/closed/a', 'X-Mock-Fault' => 'status=503');
is($r->{status}, 200, 'switching off: X-Mock-Fault is ignored');
$r = get('/closed/a', 'X-Mock-Fault' => 'status=503',
         'X-Mock-Token' => token(fault => 'status=503'));
is($r->{status}, 200, 'switching off: even signed');


# signed but wrong: 400 with a JSON error

for my $bad ([{ fault => 'status=503 rate=150%' },
              qr{^X-Mock-Fault: "rate=" takes a percentage above 0% and at most 100%}],
             [{ fault => 'status=99' }, qr{^X-Mock-Fault: "status=" takes a status}],
             [{ fault => 'boom' }, qr{^X-Mock-Fault: unknown fault}],
             [{ fault => 'stall=forever' }, qr{^X-Mock-Fault: "stall=" takes a time}],
             [{ fault => 'truncate=50% upstream' },
              qr{^X-Mock-Fault: on the upstream path a fault is}],
             [{ fault => 'a b c d e f g h i' }, qr{^X-Mock-Fault: it has too many words}],
             [{ latency => '3s' },
              qr{^X-Mock-Latency: a latency of up to 3000ms is longer than send_timeout \(2000ms\)}],
             [{ latency => '1s..5s' }, qr{longer than send_timeout}],
             [{ latency => 'soon' }, qr{^X-Mock-Latency: a duration is a time}],
             [{ latency => '2s..1s' }, qr{^X-Mock-Latency: the range is empty}],
             [{ latency => 'lognormal median=1s' }, qr{^X-Mock-Latency: "lognormal" needs}],
             [{ latency => '' }, qr{^X-Mock-Latency: a latency is needed}])
{
    my $name = join ' ', %{ $bad->[0] };
    $r = signed('/rp/a', %{ $bad->[0] });
    is($r->{status}, 400, "signed $name: 400");
    like($r->{headers}{'content-type'} // '', qr{^application/json}, "signed $name: JSON");
    like(json_of($r)->{error} // '', $bad->[1], "signed $name: why")
        or diag($r->{content});
}


# counted

my $m = json_of(admin('GET', 'metrics'));
my %loc = map { $_->{location} => $_ } @{ $m->{locations} };
is($loc{'/rp/'}{refused}, 6 + 12, 'metrics: the refusals and the 400s are "refused"');
ok($loc{'/rp/'}{fault} >= 3, 'metrics: the signed faults are "fault"');

my $log = slurp("$root/logs/access.log");
like($log, qr{^/rp/a 200 hit 600$}m, '$mock_latency: the signed latency');
like($log, qr{^/rp/a 403 refused }m, '$mock_status: refused');

unlike($nginx->error_log, qr{\[(?:alert|crit|emerg)\]}, 'no alert in the error log');

$nginx->stop;

done_testing();
