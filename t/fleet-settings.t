# A session's latency and fault for the whole fleet (mock_redis): set
# through the admin API of one instance, they hold on every other, read
# with the state each replayed request asks Redis for anyway.
#
#   - POST /_mock/latency on A says "redis": true; the session's requests
#     sent to A, B, A, B ... all wait; another session's do not;
#   - POST /_mock/fault on B: the session's requests fail on A and B;
#     a fault answers in place of the recording and uses no play: the
#     sequence goes on where it was once the fault is gone, whichever
#     instance answered;
#   - DELETE on the other instance takes each away everywhere; a reset
#     does too;
#   - a value in Redis that does not parse is logged and left out.
#
# Every run uses its own key prefix in the suite's Redis (on
# $TEST_NGINX_REDIS_PORT) and deletes its keys at the end.  This file
# runs its own nginx instances under t/servroot-fleet-settings/.

use strict;
use warnings;

use Test::More;
use FindBin;
use Time::HiRes qw(time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test lock_run
                redis_command cassette fleet_instances round_robin json_of
                redis_delete_prefix);

skip_under_valgrind('latencies are measured with tolerances that nginx '
                    . 'under valgrind does not meet');

my $module = module_under_test();

my $redis_port = $ENV{TEST_NGINX_REDIS_PORT} || 16379;
my $top        = "$FindBin::Bin/servroot-fleet-settings";
my $prefix     = "t-fleet-settings-$$-" . time() . ':';

my $lock = lock_run("$top.lock");

my $parent = $$;
my @fleet = fleet_instances(top => $top, names => [qw(A B)],
                            offsets => [195, 196], workers => 2,
                            module => $module);
my ($A, $B) = @fleet;

END {
    local $?;
    if (defined $parent && $$ == $parent) {
        $_->stop for @fleet;
        redis_delete_prefix($redis_port, $prefix);
    }
}

my ($pong) = redis_command($redis_port, 'PING');
if (($pong // '') ne 'PONG') {
    BAIL_OUT("no Redis answers on 127.0.0.1:$redis_port; run the suite "
             . 'through scripts/run-tests.sh, which starts one');
}

my %files = ('cassettes/seq.yaml' => cassette('/c', map { "n=$_" } 1 .. 6));

for my $nginx (@fleet) {
    my $name = $nginx->name;
    $nginx->setup(files => \%files, http => <<"EOF");
http {
    mock_redis 127.0.0.1:$redis_port prefix=$prefix timeout=5s instance=gw-$name;
    log_format mock '\$uri \$status \$mock_status \$mock_latency';
    access_log logs/access.log mock;

    server {
        listen 127.0.0.1:${\ $nginx->port};

        location / {
            mock_replay cassettes/seq.yaml;
            mock_upstream http://svc/;
            mock_session \$http_x_test_id;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF
    $nginx->start;
}

sub get {
    my ($nginx, $session) = @_;
    my $t0 = time;
    my $r = $nginx->get('/c', { headers => { 'X-Test-Id' => $session } });
    $r->{took} = time - $t0;
    return $r;
}

sub admin {
    my ($nginx, $method, $path, $json) = @_;
    return $nginx->request($method, "/_mock/$path",
                           defined $json
                           ? { content => $json,
                               headers => { 'Content-Type'
                                            => 'application/json' } }
                           : {});
}


# a latency set on A holds on B, and a fault set there too

my $r = admin($A, 'POST', 'latency', '{"session": "L", "latency": "400ms"}');
is($r->{status}, 200, 'latency: set on A');
is($r->{content}, qq({"session": "L", "latency": "400ms", "redis": true}\n),
   'latency: in Redis too');

my @took = round_robin(\@fleet, 4, sub { get($_[0], 'L')->{took} });
ok(!(grep { $_ < 0.38 } @took), "latency: every instance waits (@took)");

@took = round_robin(\@fleet, 2, sub { get($_[0], 'other')->{took} });
ok(!(grep { $_ > 0.3 } @took), "latency: another session does not (@took)");

$r = admin($B, 'DELETE', 'latency?session=L');
is($r->{status}, 200, 'latency: deleted on B, where it was never set');
like($r->{content}, qr{"latency": null, "redis": true}, 'latency: in Redis');
@took = round_robin(\@fleet, 2, sub { get($_[0], 'L')->{took} });
ok(!(grep { $_ > 0.3 } @took), "latency: gone on A too (@took)");


# a latency and a fault of one session: each is forgotten alone

admin($A, 'POST', 'latency', '{"session": "LF", "latency": "300ms"}');
admin($B, 'POST', 'fault', '{"session": "LF", "fault": "status=504"}');
$r = get($B, 'LF');
is($r->{status}, 504, 'latency and fault: the fault');
admin($A, 'DELETE', 'fault?session=LF');
$r = get($B, 'LF');
ok($r->{status} == 200 && $r->{took} >= 0.28,
   "latency and fault: the latency stays without the fault ($r->{status}, $r->{took} s)");
is(admin($B, 'DELETE', 'fault?session=LF')->{status}, 200,
   'latency and fault: B forgets the copy it kept for itself');
is(admin($B, 'DELETE', 'fault?session=LF')->{status}, 404,
   'latency and fault: no fault left to forget, anywhere');
$r = get($A, 'LF');
ok($r->{took} >= 0.28, "latency and fault: the latency is still there ($r->{took} s)");


# a fault set on B holds on A, and uses no play

my @got = round_robin(\@fleet, 2, sub { get($_[0], 'F')->{content} });
is("@got", 'n=1 n=2', 'fault: the sequence before');

$r = admin($B, 'POST', 'fault', '{"session": "F", "fault": "status=503"}');
is($r->{content}, qq({"session": "F", "fault": "status=503", "redis": true}\n),
   'fault: set on B, in Redis');

@got = round_robin(\@fleet, 4, sub { get($_[0], 'F')->{status} });
is("@got", '503 503 503 503', 'fault: every instance answers with it');
is(get($A, 'G')->{status}, 200, 'fault: another session is not touched');

is(admin($A, 'DELETE', 'fault?session=F')->{status}, 200, 'fault: deleted on A');
@got = round_robin(\@fleet, 2, sub { get($_[0], 'F')->{content} }, 1);
is("@got", 'n=3 n=4', 'fault: the sequence goes on where it was');


# a reset takes them away

admin($A, 'POST', 'fault', '{"session": "R", "fault": "status=502"}');
admin($A, 'POST', 'latency', '{"session": "R", "latency": "300ms"}');
is(get($B, 'R')->{status}, 502, 'reset: the fault before');
is(admin($B, 'POST', 'reset?session=R')->{status}, 200, 'reset on B');
$r = get($A, 'R');
is($r->{status}, 200, 'reset: no fault after, on A');
ok($r->{took} < 0.25, "reset: no latency after ($r->{took} s)");


# what does not parse in Redis is left out

redis_command($redis_port, 'HSET', "${prefix}fs:X:all", 'settings',
              "\nstatus=9000");
$r = get($A, 'X');
is($r->{status}, 200, 'a bad fault in Redis is left out');
ok(scalar($A->log_lines(qr{the fleet's fault of session "X" is left out})),
   'and logged');

for my $nginx (@fleet) {
    unlike($nginx->error_log, qr{\[(?:alert|crit|emerg)\]},
           $nginx->name . ': no alert in the error log');
}

done_testing();
