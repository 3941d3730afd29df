# Concurrent sessions in a fleet of three gateways that count in Redis.
#
# Instances A, B and C (two workers each) replay one cassette of 200
# interactions of GET /c (n=1 ... n=200), each from its own server root
# and its own copy of the file, named by a relative path.  Eight clients
# at once, each its own test session, send 200 requests each and a 201st,
# taking the instances by turns (client i starts on instance i mod 3),
# over keep-alive connections.  Every client must get n=1, n=2, ...,
# n=200 in that order, each exactly once: none shared with another
# session, none skipped, none repeated; then "already played".
#
# Every run uses its own key prefix in the suite's Redis and deletes its
# keys at the end.  This file runs its own nginx instances under
# t/servroot-fleet-concurrency/.

use strict;
use warnings;

use Test::More;
use FindBin;
use HTTP::Tiny;
use Time::HiRes qw(time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test lock_run
                redis_command cassette start_clients print_answer
                fleet_instances redis_delete_prefix);

skip_under_valgrind('1600 requests from forked clients to three instances '
                    . 'need nginx at full speed, not under valgrind');

my $module = module_under_test();

my $redis_port = $ENV{TEST_NGINX_REDIS_PORT} || 16379;
my $top        = "$FindBin::Bin/servroot-fleet-concurrency";
my $prefix     = "t-fleet-concurrency-$$-" . time() . ':';

my $CLIENTS = 8;
my $PLAYS   = 200;

my $lock = lock_run("$top.lock");

my $parent = $$;
my @fleet = fleet_instances(top => $top, names => [qw(A B C)],
                            offsets => [125, 126, 127], workers => 2,
                            module => $module);

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

for my $inst (@fleet) {
    my $port = $inst->port;
    $inst->setup(
        files => { 'cassettes/seq.yaml'
                       => cassette('/c', map { "n=$_" } 1 .. $PLAYS) },
        head  => { connections => 256 },
        http  => <<"EOF");
http {
    access_log off;
    mock_redis 127.0.0.1:$redis_port prefix=$prefix timeout=5s ttl=10m;

    server {
        listen 127.0.0.1:$port;

        location /c {
            mock_replay cassettes/seq.yaml;
            mock_session \$http_x_test_id;
        }
    }
}
EOF
}

$_->start for @fleet;

my $dir = "$top/clients";
mkdir $dir;
my @ports = map { $_->port } @fleet;
my $start = time;

my @pids = start_clients($dir, $CLIENTS, sub {
    my ($i, $out) = @_;
    # One keep-alive connection per instance.
    my @http = map { HTTP::Tiny->new(keep_alive => 1, timeout => 10) }
               @ports;
    my $session = "cc-$i";
    for my $j (0 .. $PLAYS) {
        my $k = ($i + $j) % @ports;
        my $r = $http[$k]->get("http://127.0.0.1:$ports[$k]/c",
                               { headers => { 'X-Test-Id' => $session } });
        print_answer($out, "$i\t$j\t$fleet[$k]{name}", $r);
    }
});

my $failed = 0;
for my $pid (@pids) {
    waitpid $pid, 0;
    $failed++ if $?;
}
is($failed, 0, "the $CLIENTS clients ran to the end");
diag(sprintf('%d requests in %.1f s', $CLIENTS * ($PLAYS + 1),
             time - $start));

# What each client got: [client, request, instance, status, body].
my %got;
for my $i (0 .. $CLIENTS - 1) {
    open my $in, '<', "$dir/$i" or die "no results of client $i: $!";
    while (my $line = <$in>) {
        chomp $line;
        my ($c, $j, $name, $status, $body) = split /\t/, $line, 5;
        push @{ $got{$c} }, [ $j, $name, $status, $body // '' ];
    }
    close $in;
}

my $in_order = 0;
my %owners;    # n => sessions that got it
for my $i (0 .. $CLIENTS - 1) {
    my @answers = @{ $got{$i} // [] };
    my @bad;
    for my $j (0 .. $PLAYS - 1) {
        my $a = $answers[$j] // [ $j, '?', 'none', '' ];
        push @bad, "request $j on $a->[1]: $a->[2] $a->[3]"
            unless $a->[2] == 200 && $a->[3] eq 'n=' . ($j + 1);
        push @{ $owners{$a->[3]} }, $i if $a->[2] == 200;
    }
    my $last = $answers[$PLAYS] // [ $PLAYS, '?', 'none', '' ];
    push @bad, "request $PLAYS on $last->[1]: $last->[2], not "
               . '"already played"'
        unless $last->[2] == 404 && $last->[3] =~ /already played/;
    ok(!@bad, "client $i: n=1 to n=$PLAYS in order across A, B and C, "
              . 'then "already played"')
        or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
    $in_order++ unless @bad;
}

# Each interaction went to every session once: 8 owners, all different.
my @shared = grep { my %s = map { $_ => 1 } @{ $owners{$_} };
                    keys(%s) != @{ $owners{$_} } || @{ $owners{$_} } != $CLIENTS }
             map { "n=$_" } 1 .. $PLAYS;
is(scalar(@shared), 0, "every interaction was played once by each of the "
                       . "$CLIENTS sessions")
    or diag('not so for ' . scalar(@shared) . " of them, e.g. $shared[0]: "
            . join(',', @{ $owners{$shared[0]} // [] }));

for my $inst (@fleet) {
    my @bad = $inst->log_lines(qr/exited on signal|\[alert\]|\[crit\]|mock: Redis/);
    is(scalar(@bad), 0, $inst->name . ': no crash, no Redis trouble logged')
        or diag(join "\n", @bad);
}

$_->stop for @fleet;
redis_delete_prefix($redis_port, $prefix);
is(scalar(redis_command($redis_port, '--scan', '--pattern', "$prefix*")), 0,
   'this run\'s keys are deleted');

done_testing();
