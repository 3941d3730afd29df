# The drift table and scripts/mock-drift, on an nginx of this file's own
# (t/servroot-drift/):
#
#   - a drift is logged once per interaction, however often it comes,
#     and counted every time; DELETE /_mock/drift clears the table, and
#     the next drift is logged again;
#   - the table holds 256 interactions: more distinct drifts are counted
#     in "dropped" and in the metrics, the table says it is full, and a
#     full table is logged once;
#   - a diff is bounded: a body with thousands of new members gives a
#     diff of at most 2048 bytes that ends with "...";
#   - a body over mock_record_max_body (a few megabytes) is passed on
#     whole and not compared;
#   - a client that leaves while its answer is verified ends nothing
#     but its own request: no drift is noted, the worker lives on;
#   - scripts/mock-drift exits 1 with a report when something drifted,
#     0 when nothing did, 1 with --unused when a session left recorded
#     interactions unplayed, and 2 when the admin API cannot be read.

use strict;
use warnings;

use Test::More;
use FindBin;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(module_under_test server_port lock_run json_of run_cmd
                skip_without_python);

skip_without_python('import json, urllib.request', 'cannot run scripts/mock-drift');

my $module = module_under_test();

my $port = server_port(201);
my $backend = server_port(202);
my $root = "$FindBin::Bin/servroot-drift";
my $script = "$FindBin::Bin/../scripts/mock-drift";

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module);

my $cassette = <<"EOF";
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/user', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1, "name": "ada"}'}
- request: {method: GET, uri: 'http://svc/wide', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1}'}
- request: {method: GET, uri: 'http://svc/huge', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1}'}
- request: {method: GET, uri: 'http://svc/slow', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1}'}
EOF

# a JSON body with 5000 members the recording does not have
my $wide = '{"id": 1, ' . join(', ', map { "\"m$_\": $_" } 1 .. 5000) . '}';

# 4 MB of JSON, over mock_record_max_body's 1 MB
my $huge = '{"id": 1, "pad": "' . ('x' x (4 * 1024 * 1024)) . '"}';

my $http = <<"EOF";
http {
    server {
        listen 127.0.0.1:$port;

        location /api/ {
            proxy_pass http://127.0.0.1:$backend/;
            mock_replay cassettes/c.yaml;
            mock_upstream http://svc/;
            mock_mode verify;
            mock_session \$http_x_session;
        }

        location /r/ {
            mock_replay cassettes/c.yaml;
            mock_upstream http://svc/;
            mock_session \$http_x_session;
        }

        location /_mock { mock_admin; }
    }

    server {
        listen 127.0.0.1:$backend;
        default_type application/json;

        location / { return 200 '{"id": 2}'; }
        location /wide { alias html/wide.json; }
        location /huge { alias html/huge.json; }
        location /slow { alias html/huge.json; limit_rate 64k; }
    }
}
EOF

$nginx->setup(files => { 'cassettes/c.yaml' => $cassette,
                         'html/wide.json' => $wide,
                         'html/huge.json' => $huge },
              http => $http);
$nginx->start;

my $json_ct = { headers => { 'Content-Type' => 'application/json' } };

sub drift {
    my ($query) = @_;
    my $r = $nginx->get('/_mock/drift' . ($query // ''));
    is($r->{status}, 200, 'GET /_mock/drift answers 200')
        or diag($r->{content});
    return json_of($r) // {};
}

sub drifted_lines {
    return scalar(() = $nginx->log_lines(
                           qr/\[warn\].*"GET \/api\/user" drifted/));
}

sub count_lines {
    my ($re) = @_;
    return scalar(() = $nginx->log_lines($re));
}


# --- logged once, counted every time, cleared ----------------------------

for (1 .. 5) {
    my $r = $nginx->get('/api/user');
    is($r->{content}, '{"id": 2}', 'the client gets the live answer');
}

my $d = drift();
is(scalar @{ $d->{drift} }, 1, 'one entry for one interaction');
is($d->{drift}[0]{count}, 5, 'it counts the five drifts');
is_deeply($d->{drift}[0]{diff}, ['$.name: removed, recorded "ada"'],
          'the diff names the member that went');
ok($d->{drift}[0]{first} <= $d->{drift}[0]{last}, 'first and last seen');
is(drifted_lines(), 1, 'the drift is logged once');

my $r = $nginx->delete('/_mock/drift', $json_ct);
is($r->{status}, 200, 'DELETE /_mock/drift answers 200');
is($r->{content}, "{\"cleared\": true}\n", 'and says it cleared the table');
is(scalar @{ drift()->{drift} }, 0, 'the table is empty');

$nginx->get('/api/user') for 1 .. 2;
is(drift()->{drift}[0]{count}, 2, 'counted anew after DELETE');
is(drifted_lines(), 2, 'and logged once more');

$r = $nginx->post('/_mock/drift', $json_ct);
is($r->{status}, 405, 'POST /_mock/drift is refused');


# --- a bounded diff --------------------------------------------------------

$nginx->get('/api/wide');
($d) = grep { $_->{uri} eq '/api/wide' } @{ drift()->{drift} };
ok($d, 'the wide body drifted');
my $diff = join "\n", @{ $d->{diff} // [] };
ok(length $diff <= 2048, 'its diff is at most 2048 bytes: ' . length $diff);
like($d->{diff}[-1] // '', qr/^\.\.\.$/, 'and ends with "..."');
like($d->{diff}[0] // '', qr/^\$\.m1: added, live 1$/, 'it begins in order');


# --- a body over mock_record_max_body --------------------------------------

$r = $nginx->get('/api/huge');
is(length $r->{content}, length $huge, 'a 4 MB body is passed on whole');
ok(!grep({ $_->{uri} eq '/api/huge' } @{ drift()->{drift} }),
   'and not compared: its status and type are those recorded');
is(count_lines(qr/the body of "GET \/api\/huge" is not verified/), 1,
   'the skipped body is said');


# --- a client that leaves mid-verify ---------------------------------------

my @workers = $nginx->worker_pids;
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or die "cannot connect: $!";
    print $s "GET /api/slow HTTP/1.1\r\nHost: localhost\r\n\r\n";
    my $got = '';
    sysread($s, $got, 4096);
    like($got, qr/^HTTP\/1\.1 200/, 'the slow answer begins');
    close $s;
}
sleep 0.5;
$r = $nginx->get('/api/user');
is($r->{status}, 200, 'nginx answers after a client left mid-verify');
is_deeply([$nginx->worker_pids], \@workers, 'with the same worker');
ok(!grep({ $_->{uri} eq '/api/slow' } @{ drift()->{drift} }),
   'nothing is noted for the request that did not complete');
is(count_lines(qr/not recorded|\[alert\]|\[crit\]/), 0,
   'nor logged as a recording');


# --- scripts/mock-drift ----------------------------------------------------

my $admin = "http://127.0.0.1:$port/_mock";

my ($status, $out, $err) = run_cmd($script, '--admin', $admin);
is($status >> 8, 1, 'mock-drift exits 1 when something drifted');
like($out, qr/^drift: 2 interaction\(s\) drifted, 0 request\(s\) unrecorded$/m,
     'with a short report');
like($out, qr/^  GET \/api\/user \[\S+c\.yaml#0\]: 3 time\(s\)\n    \$\.name: removed, recorded "ada"$/m,
     'that names the interaction and its diff');

($status, $out) = run_cmd($script, '--admin', $admin, '--session', 'nobody');
is($status >> 8, 0, 'a session without drift passes');
like($out, qr/no drift/, 'and says so');

($status, $out) = run_cmd($script, '--admin', $admin, '--clear');
is($status >> 8, 1, '--clear reports what there was');
($status, $out) = run_cmd($script, '--admin', $admin);
is($status >> 8, 0, 'and empties the table');

$nginx->get('/api/user', { headers => { 'X-Session' => 'ci' } });
($status, $out) = run_cmd($script, '--admin', $admin, '--session', 'ci');
is($status >> 8, 1, 'a session that drifted fails');
like($out, qr/session ci: 1 time/, 'and is named');
$nginx->delete('/_mock/drift', $json_ct);

($status, $out) = run_cmd($script, '--admin', $admin, '--unused',
                          '--session', 'played');
is($status >> 8, 1, '--unused fails while the session left interactions');
like($out, qr/^unused: 4 recorded interaction\(s\) never played in session played$/m,
     'and counts them');

$nginx->get("/r/$_", { headers => { 'X-Session' => 'played' } })
    for qw(user wide huge slow);
($status, $out) = run_cmd($script, '--admin', $admin, '--unused',
                          '--session', 'played');
is($status >> 8, 0, 'and passes once it played them all') or diag($out);

($status, $out, $err) = run_cmd($script, '--admin',
                                "http://127.0.0.1:$port/_mock/nothing");
is($status >> 8, 2, 'an admin API it cannot read exits 2');
like($err, qr/^mock-drift: GET .*HTTP 404/, 'and says why');

($status, $out, $err) = run_cmd($script, '--admin',
                                "http://127.0.0.1:$backend/");
is($status >> 8, 2, 'so does an answer that is no drift table');
like($err, qr/the answer is not a drift table/, 'and says so');


# --- a full table -----------------------------------------------------------

for my $i (1 .. 300) {
    $nginx->get("/api/new/$i");
}

$d = drift();
is(scalar @{ $d->{drift} }, 256, 'the table holds 256 entries');
is($d->{entries}, 256, 'it says so');
ok($d->{full}, 'and that it is full');
is($d->{dropped}, 44, 'the 44 more drifts are counted');
is($d->{drift}[0]{kind}, 'unrecorded', 'requests without a recording');
is(count_lines(qr/the drift table is full/), 1,
   'a full table is logged once');

my $m = json_of($nginx->get('/_mock/metrics')) // {};
my ($slot) = grep { $_->{location} eq '/api/' } @{ $m->{locations} // [] };
is($slot->{unrecorded}, 300, 'metrics count every unrecorded request');

$nginx->delete('/_mock/drift', $json_ct);
$d = drift();
ok(!$d->{full} && $d->{dropped} == 0, 'DELETE makes room again');

is(count_lines(qr/\[(error|alert|crit|emerg)\]/), 0, 'no error was logged');

$nginx->stop;

done_testing();
