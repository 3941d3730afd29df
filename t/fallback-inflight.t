# A fallback answer still being sent while its recording is replaced and
# the cassettes are reloaded.
#
# A location in "fallback" records a large answer; then the upstream
# fails, and a slow client gets the recording from the zone.  While it
# reads, the upstream answers again with other bodies, each replacing the
# recording, and the admin API reloads the cassettes.  The slow client
# must get the body it was sent, every byte of it; new requests get the
# latest answer.
#
# This file runs its own nginx under t/servroot-fallback-inflight/.

use strict;
use warnings;

use Test::More;
use FindBin;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file);

skip_under_valgrind('the slow client is timed with deadlines that nginx '
                    . 'under valgrind does not meet');

my $module = module_under_test();

my $port = server_port(52);
my $root = "$FindBin::Bin/servroot-fallback-inflight";
my $conf = "$root/conf/nginx.conf";

my $WAIT = 20;
my $SIZE = 2 * 1024 * 1024;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'cassettes', 'up');

write_file($conf, $nginx->conf_head . <<"EOF");
http {
    access_log off;
    mock_zone zone=mock:64m;

    server {
        listen 127.0.0.1:$port sndbuf=16k;

        location /fb/ {
            proxy_pass http://127.0.0.1:$port/up/;
            mock_upstream http://127.0.0.1:$port/up/;
            mock_replay cassettes/fb.yaml;
            mock_mode fallback;
            mock_record_max_body 16m;
        }

        location /up/ {
            if (\$http_x_fail) {
                return 502;
            }
            alias $root/up/;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF

$nginx->start;

upstream_body('A');
body_is('A', 'the upstream answers, and the answer is recorded');

upstream_body('B');
body_is('B', 'another answer replaces it, in a block of the zone of its '
             . 'own');

my $client = slow_get('/fb/x', 'X-Fail: 1');
like($client->{data}, qr/^HTTP\/1\.1 200 /,
     'the upstream fails: a slow client gets the recording');

upstream_body('C');
body_is('C', 'the upstream answers again, with another body');

# the replaced recording has waited long enough to be freed, but for the
# slow client
sleep 1.5;
upstream_body('D');
body_is('D', 'and again');

for (1 .. 2) {
    is($nginx->post('/_mock/reload')->{status}, 200, 'admin reload');
}

# A second later, replaced recordings that nothing sends may be freed
sleep 1.5;
upstream_body('E');
body_is('E', 'one more answer replaces the recording');

check_body($client, 'B', 'the slow client gets every byte of the '
                         . 'recording it was sent');

my $fallback = $nginx->get('/fb/x', { headers => { 'X-Fail' => 1 } });
ok($fallback->{status} == 200 && $fallback->{content} eq 'E' x $SIZE,
   'a failure now gets the latest answer');

my @items = slurp("$root/cassettes/fb.yaml") =~ /^- request:/mg;
is(scalar @items, 1, 'the cassette holds one interaction');

my $log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/,
       'no worker crashed and no alert was logged');

$nginx->stop;

done_testing();


sub upstream_body {
    my ($c) = @_;
    write_file("$root/up/x", $c x $SIZE);
}

sub body_is {
    my ($c, $name) = @_;
    my $r = $nginx->get('/fb/x');
    my $body = $r->{content} // '';
    ok($r->{status} == 200 && $body eq $c x $SIZE, $name)
        or diag("$r->{status}, " . length($body) . " bytes beginning "
                . substr($body, 0, 40));
}

# A slow client of this nginx.
sub slow_get {
    my ($path, @headers) = @_;
    return MockTest::slow_get($port, $path, @headers);
}

# The rest of its answer is $SIZE bytes of $c.
sub check_body {
    my ($client, $c, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return MockTest::check_body($client, $c, $SIZE, $WAIT, $name);
}
