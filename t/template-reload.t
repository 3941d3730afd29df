# The admin API's reload compiles templates as nginx -t does: a template
# that does not parse is a 422 naming the cassette, line and column, and
# the cassettes as they were keep answering; a fixed one is rendered by
# every worker at once.

use strict;
use warnings;

use Test::More;
use FindBin;

use lib "$FindBin::Bin/lib";
use MockTest qw(module_under_test server_port lock_run slurp write_file);

my $module = module_under_test();

my $port = server_port(71);
my $root = "$FindBin::Bin/servroot-template-reload";
my $conf = "$root/conf/nginx.conf";

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => 2);

$nginx->fresh_root('conf', 'logs', 'cassettes');

my $cassette = "$root/cassettes/t.yaml";

sub cassette {
    my ($body) = @_;
    return <<"EOF";
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/t', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {X-Path: ['{{request.path}}']}
    body: {string: '$body'}
EOF
}

write_file($cassette, cassette('one {{request.query.v}}'));

write_file($conf, $nginx->conf_head . <<"EOF");
http {
    access_log off;

    server {
        listen 127.0.0.1:$port;

        location /t {
            mock_replay cassettes/t.yaml;
            mock_template on;
            mock_repeats on;
            mock_match method path;
        }

        location /off {
            mock_replay cassettes/t.yaml;
            mock_template off;
            mock_repeats on;
            mock_match method path;
            mock_upstream http://svc/t;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF

$nginx->start;

$nginx->is_response($nginx->get('/t?v=1'), 200, 'one 1', 'rendered');

write_file($cassette, cassette('two {{request.query.v}} {{ nope }}'));

my $r = $nginx->post('/_mock/reload');
is($r->{status}, 422, 'a template that does not parse makes a 422');
like($r->{content},
     qr/"error": "mock: cassette \\"\Q$cassette\E\\", line 7, column 48: unknown name \\"nope\\" in the body"/,
     'which names the cassette, line, column and what is wrong');
$nginx->is_response($nginx->get('/t?v=2'), 200, 'one 2',
                    'and the cassettes as they were keep answering');

write_file($cassette, cassette('three {{request.query.v}} {{request.method}}'));
$r = $nginx->post('/_mock/reload');
is($r->{status}, 200, 'the fixed cassette is reloaded') or diag($r->{content});

for my $i (1 .. 6) {
    $nginx->is_response($nginx->get("/t?v=$i"), 200, "three $i GET",
                        "every worker renders the reloaded template ($i)");
}

my $h = $nginx->get('/t');
is($h->{headers}{'x-path'}, '/t', 'and its templated header');

$nginx->is_response($nginx->get('/off'), 200,
                    'three {{request.query.v}} {{request.method}}',
                    'a location with templates off replays it as recorded');

my $log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/,
       'no worker crashed and no alert was logged');

$nginx->stop;

done_testing();
