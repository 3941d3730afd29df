# Responses still being sent while the cassettes are reloaded.
#
# A large body goes from the shared zone to a client that reads slowly.
# Meanwhile the cassette file is rewritten (each time with a body of
# other bytes) and reloaded, with the admin API and with "nginx -s
# reload".  What is checked:
#   - the slow client gets the body it asked for, every byte of it, after
#     any number of reloads: memory a response is sent from is never
#     freed or reused;
#   - with no response in flight, an admin reload needs room for the
#     cassettes twice, however many reloads came before;
#   - while a response holds an earlier load, a reload that does not fit
#     answers 507 and says how many bytes the cassettes need;
#   - once that response is done, the same reload succeeds.
#
# This file runs its own nginx under t/servroot-inflight/.

use strict;
use warnings;

use Test::More;
use FindBin;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file alive);

skip_under_valgrind('the slow client is timed with deadlines that nginx '
                    . 'under valgrind does not meet');

my $module = module_under_test();

my $port = server_port(51);
my $root = "$FindBin::Bin/servroot-inflight";
my $conf = "$root/conf/nginx.conf";
my $file = "$root/cassettes/big.yaml";

my $WAIT = 20;
my ($r, $deadline);
my $SIZE = 8 * 1024 * 1024;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'cassettes', 'cassettes/sessions');

my $alice = "$root/cassettes/sessions/alice.yaml";
write_file($alice, big_cassette('a', '/s/big'));

my $MID = 1024 * 1024;
my $mid = "$root/cassettes/mid.yaml";
write_file($mid, big_cassette('0', '/mid', $MID));


# (a) admin reloads while a slow client reads: the body stays its own

write_file($file, big_cassette('A'));
write_conf('128m');
$nginx->start;

my $client = slow_get('/big');
my @reloaded;

for my $c (qw(B C D E)) {
    write_file($file, big_cassette($c));
    push @reloaded, $nginx->post('/_mock/reload')->{status};
}

is("@reloaded", '200 200 200 200',
   'four admin reloads succeed while a response is being sent');
body_is('E', 'new requests get the cassette as last reloaded');
check_body($client, 'A', 'the slow client gets every byte of the body it '
                         . 'asked for, after four admin reloads');


# (b) the same for a session's cassette in a session directory

$client = slow_get('/s/big', 'X-Test: alice');

for my $c (qw(b c d e)) {
    write_file($alice, big_cassette($c, '/s/big'));
    push @reloaded, $nginx->post('/_mock/reload')->{status};
}

is("@reloaded", '200 200 200 200 200 200 200 200',
   'four more admin reloads while a session\'s response is being sent');
check_body($client, 'a', 'the slow client of a session gets every byte of '
                         . 'its body');


# (c) "nginx -s reload" while a slow client reads

write_file($file, big_cassette('F'));
is($nginx->post('/_mock/reload')->{status}, 200, 'reloaded once more');

$client = slow_get('/big');

for my $c (qw(G H I)) {
    write_file($file, big_cassette($c));
    hup_and_wait();
}

body_is('I', 'after three HUPs new requests get the last cassette');
check_body($client, 'F', 'the slow client gets every byte of its body, '
                         . 'after three "nginx -s reload"');



# (d) responses held from every load a store keeps: a reload waits

my @clients;

for my $c (1 .. 7) {
    push @clients, slow_get('/mid');
    write_file($mid, big_cassette($c, '/mid', $MID));
    push @reloaded, $nginx->post('/_mock/reload')->{status};
}

is("@reloaded[8 .. 14]", '200 200 200 200 200 200 200',
   'seven reloads, each while one more response is held');

push @clients, slow_get('/mid');
$r = $nginx->post('/_mock/reload');
is($r->{status}, 503, 'with responses still sent from 8 loads of a '
                      . 'cassette, a reload is answered 503');
like($r->{content}, qr/"error": "responses are still being sent from 7 /,
     'which says why');

for my $c (0 .. 7) {
    check_body($clients[$c], $c, "slow client $c gets its own body",
               $MID);
}

$deadline = time + $WAIT;
do {
    sleep 0.1;
    $r = $nginx->post('/_mock/reload');
} while ($r->{status} != 200 && time < $deadline);
is($r->{status}, 200, 'once they are done, the reload succeeds');

$nginx->stop;


# (e) a zone with room for the cassettes twice, but not three times

write_file($file, big_cassette('J'));
write_file($mid, big_cassette('0', '/mid', 1));
unlink $alice;
write_conf('24m');
$nginx->start;

@reloaded = ();

for my $c (qw(K L M N O)) {
    write_file($file, big_cassette($c));
    push @reloaded, $nginx->post('/_mock/reload')->{status};
}

is("@reloaded", '200 200 200 200 200',
   'with no response in flight, five admin reloads fit a zone with room '
   . 'for the cassettes twice');
body_is('O', 'and the last one answers');


# (f) a response holds the previous load: the next reload cannot fit

$client = slow_get('/big');

write_file($file, big_cassette('P'));
is($nginx->post('/_mock/reload')->{status}, 200,
   'a reload while a response is sent fits: the old load and the new');

write_file($file, big_cassette('Q'));
$r = $nginx->post('/_mock/reload');
is($r->{status}, 507, 'one more needs room for three loads: 507');
like($r->{content}, qr/"error": "[^"]*need (\d+) bytes, in pieces of up to \d+, and \d+ are free, in pieces of up to \d+; responses still being sent hold [1-9]\d* bytes/,
     'the answer says how much room the cassettes need and how much is '
     . 'free');
my ($needed) = $r->{content} =~ /need (\d+) bytes/;
ok(defined $needed && $needed > $SIZE && $needed < 2 * $SIZE,
   'the bytes needed are those of one load of the cassette')
    or diag($r->{content});
body_is('P', 'the refused reload changed nothing');

check_body($client, 'O', 'the slow client still gets its own body');

# The response is done once the client has read it all; its request ends
# right after.
$deadline = time + $WAIT;
do {
    sleep 0.1;
    $r = $nginx->post('/_mock/reload');
} while ($r->{status} != 200 && time < $deadline);

is($r->{status}, 200, 'once the response is done, the reload fits')
    or diag($r->{content});
body_is('Q', 'and answers');

my $log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/,
       'no worker crashed and no alert was logged');


# (g) a worker killed while it sends: what it held is let go by the
# worker started in its place

$client = slow_get('/big');
my @old = $nginx->worker_pids;
kill 'KILL', @old;
close $client->{socket};

$deadline = time + $WAIT;
my %old = map { $_ => 1 } @old;
sleep 0.05 until grep({ !$old{$_} } $nginx->worker_pids) || time > $deadline;
ok(scalar(grep { !$old{$_} } $nginx->worker_pids),
   'a new worker runs in place of the killed one');

@reloaded = ();

for my $c (qw(R S T)) {
    write_file($file, big_cassette($c));
    push @reloaded, $nginx->post('/_mock/reload')->{status};
}

is("@reloaded", '200 200 200', 'three reloads fit the zone again: the '
                               . 'killed worker holds nothing');
body_is('T', 'and the last one answers');

$nginx->stop;

done_testing();


# GET /big answers with the cassette's body of $c, shown short when not.
sub body_is {
    my ($c, $name) = @_;
    my $r = $nginx->get('/big');
    my $body = $r->{content} // '';
    ok($r->{status} == 200 && $body eq $c x $SIZE, $name)
        or diag("$r->{status}, " . length($body) . " bytes beginning "
                . substr($body, 0, 40));
}

sub write_conf {
    my ($zone) = @_;
    write_file($conf, $nginx->conf_head . <<"EOF");
http {
    access_log off;
    mock_zone zone=mock:$zone;
    mock_journal 0;

    server {
        listen 127.0.0.1:$port sndbuf=16k;

        location /big {
            mock_replay cassettes/big.yaml;
            mock_repeats on;
        }

        location /mid {
            mock_replay cassettes/mid.yaml;
            mock_repeats on;
        }

        location /s/ {
            mock_replay cassettes/sessions/;
            mock_session \$http_x_test;
            mock_repeats on;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF
}

sub big_cassette {
    my ($c, $path, $size) = @_;
    $path //= '/big';
    my $body = $c x ($size // $SIZE);
    return <<"EOF";
version: 1
interactions:
- request:
    method: GET
    uri: http://svc.test$path
    body: null
    headers: {}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [text/plain]
    body: {string: '$body'}
EOF
}

# A slow client of this nginx.
sub slow_get {
    my ($path, @headers) = @_;
    return MockTest::slow_get($port, $path, @headers);
}

# The rest of its answer is $size bytes ($SIZE by default) of $c.
sub check_body {
    my ($client, $c, $name, $size) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return MockTest::check_body($client, $c, $size // $SIZE, $WAIT, $name);
}

# HUPs the master and waits for new workers, not for the old one to
# finish its slow response.
sub hup_and_wait {
    my @old = $nginx->worker_pids;
    kill 'HUP', $nginx->master_pid or die "cannot signal nginx: $!";
    my $deadline = time + $WAIT;
    while (time < $deadline) {
        my %old = map { $_ => 1 } @old;
        last if grep { !$old{$_} } $nginx->worker_pids;
        sleep 0.05;
    }
    # the new worker has loaded the cassettes when it answers
    sleep 0.2;
}
