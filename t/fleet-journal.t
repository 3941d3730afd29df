# The journal of a fleet: GET /_mock/journal on any instance lists the
# recent requests of every instance that shares the Redis.
#
# Instances A, B and C are named by mock_redis's instance= (alpha, beta,
# gamma); D has no instance= and gets the default name, the host name, a
# dash and 8 hex digits.  All four keep mock_journal 5, replay their own
# copy of one cassette (a relative path) and count in the suite's Redis.
# E points mock_redis at a port where no Redis listens.
#
#   - Requests on A, B, C and D, then GET /_mock/journal on B: the four
#     entries, oldest first, with "fleet": true, each with the fields one
#     instance gives (time, session, method, URI, result, status,
#     cassette, interaction) and "instance": the name of the instance
#     that answered; the second hit, on B, was interaction 1, counted in
#     the fleet.
#   - ?session= and ?limit= filter the fleet's journal, on any instance.
#   - The journal keeps at most mock_journal entries: after more
#     requests, the last 5 of the fleet; Redis holds them in a stream of
#     at most 5 entries.
#   - E, whose Redis is out of reach, answers its own journal with
#     "fleet": false.
#
# Every run uses its own key prefix and deletes its keys at the end.
# This file runs its own nginx instances under t/servroot-fleet-journal/.

use strict;
use warnings;

use Test::More;
use FindBin;
use JSON::PP ();
use Sys::Hostname ();

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                redis_command cassette fleet_instances json_of wait_until
                redis_delete_prefix);

skip_under_valgrind('five instances started and stopped with deadlines '
                    . 'that nginx under valgrind does not meet');

my $module = module_under_test();

my $redis_port = $ENV{TEST_NGINX_REDIS_PORT} || 16379;
my $dead_port  = server_port(110);   # no Redis there
my $top        = "$FindBin::Bin/servroot-fleet-journal";
my $prefix     = "t-fleet-journal-$$-" . time() . ':';
my $JOURNAL    = 5;
my $WAIT       = 3;   # seconds for an entry to show on another instance

my $lock = lock_run("$top.lock");

my $parent = $$;
my @fleet = fleet_instances(top => $top, names => [qw(A B C D E)],
                            offsets => [105 .. 109], module => $module);
my ($A, $B, $C, $D, $E) = @fleet;
my %instance = (A => 'alpha', B => 'beta', C => 'gamma');

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
    my $name = $instance{ $inst->name };
    my $redis = $inst == $E ? "127.0.0.1:$dead_port" : "127.0.0.1:$redis_port";
    $redis .= " prefix=$prefix timeout=1s ttl=10m";
    $redis .= " instance=$name" if defined $name;
    $inst->setup(files => { 'cassettes/seq.yaml'
                                => cassette('/c', map { "n=$_" } 1 .. 20) },
                 http => <<"EOF");
http {
    access_log logs/access.log;
    mock_redis $redis;
    mock_journal $JOURNAL;

    server {
        listen 127.0.0.1:$port;

        location / {
            mock_replay cassettes/seq.yaml;
            mock_session \$http_x_test_id;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF
}

my @up = grep { eval { $_->start; 1 } or do { diag($@); 0 } } @fleet;
is(scalar(@up), scalar(@fleet), 'the five instances start')
    or do { done_testing(); exit 1 };

# The default name: the host name, "-", 8 hex digits of the prefix path.
my $host = Sys::Hostname::hostname();
my $default_re = qr/^\Q$host\E-[0-9a-f]{8}\z/;

# (a) four requests, one journal

is(answer(get($A, '/c', 's1')), '200 n=1', 'session s1 on A gets n=1');
is(answer(get($B, '/c', 's1')), '200 n=2', 'session s1 on B gets n=2');
is(answer(get($C, '/zz?q=1', 's2')), '404 miss', 'session s2 on C misses');
is(answer(get($D, '/c', 's3')), '200 n=1', 'session s3 on D gets n=1');

my $j = journal($B, '', sub { @{ $_[0]{journal} // [] } >= 4 });
ok($j && JSON::PP::is_bool($j->{fleet}) && $j->{fleet},
   'the journal on B says "fleet": true');
my @e = @{ $j->{journal} // [] };
is(scalar(@e), 4, 'it lists the four requests of the fleet')
    or diag(explain(\@e));
is_deeply([ map { $_->{instance} } @e[0 .. 2] ], [qw(alpha beta gamma)],
          'oldest first, each with the name of its instance');
like($e[3]{instance} // '', $default_re,
     'an instance without instance= is named <host>-<8 hex digits>');
my @fields = qw(time session method uri result status cassette interaction
                instance);
is(scalar(grep { my $x = $_; !grep { !exists $x->{$_} } @fields } @e), 4,
   "each entry has @fields");
is_deeply([ map { "$_->{session} $_->{method} $_->{uri} $_->{result} "
                  . "$_->{status} " . ($_->{interaction} // 'null') } @e ],
          [ 's1 GET /c hit 200 0', 's1 GET /c hit 200 1',
            's2 GET /zz?q=1 miss 404 null', 's3 GET /c hit 200 0' ],
          'the entries tell what each instance did: the hit on B was the '
          . 'second interaction');
like($e[0]{cassette} // '', qr{^\Q${\ $A->root }\E/cassettes/seq\.yaml\z},
     'the cassette is the one of the instance that answered');
ok(!grep({ ($_->{time} // 0) !~ /^\d+\z/ } @e)
   && !grep({ $e[$_]{time} < $e[$_ - 1]{time} } 1 .. $#e),
   'the times are numbers, in order');

# Another instance D, with another prefix path, gets another default
# name: the journal tells the two apart.  (E's name is its own too.)
my $jd = journal($D, '', sub { @{ $_[0]{journal} // [] } >= 4 });
is_deeply([ map { $_->{instance} } @{ $jd->{journal} // [] } ],
          [ map { $_->{instance} } @e ], 'D lists the same journal');

# (b) filters, on any instance

my $js = journal($C, '?session=s1');
is_deeply([ map { "$_->{instance} $_->{session}" } @{ $js->{journal} // [] } ],
          [ 'alpha s1', 'beta s1' ], '?session=s1 on C: the requests of s1 '
                                     . 'on A and B');
my $jl = journal($A, '?limit=2');
is_deeply([ map { $_->{session} } @{ $jl->{journal} // [] } ], [qw(s2 s3)],
          '?limit=2 on A: the last two of the fleet, oldest first');

# (c) at most mock_journal entries

for my $i (1 .. 7) {
    get($fleet[$i % 4], '/c', "t$i");
}
my $jc = journal($C, '?limit=100',
                 sub { ((($_[0]{journal} // [])->[-1] // {})->{session}
                        // '') eq 't7' });
is_deeply([ map { $_->{session} } @{ $jc->{journal} // [] } ],
          [ map { "t$_" } 3 .. 7 ],
          "after 11 requests the journal keeps the last $JOURNAL of the "
          . 'fleet');
is_deeply([ map { $_->{instance} } @{ $jc->{journal} // [] } ],
          [ ($e[3]{instance} // 'D'), 'alpha', 'beta', 'gamma',
            ($e[3]{instance} // 'D') ],
          '... from the instances that answered them');

my @streams = grep { (redis_command($redis_port, 'TYPE', $_))[0] eq 'stream' }
              redis_command($redis_port, '--scan', '--pattern', "$prefix*");
is(scalar(@streams), 1, 'Redis keeps the journal in one stream under the '
                        . 'prefix') or diag("streams: @streams");

# Redis trims the stream by whole blocks of entries (stream-node-max-
# entries, 100 by default), so it holds at most mock_journal and one
# block: after 400 more requests, far fewer than 400.
for my $i (1 .. 400) {
    get($fleet[$i % 4], '/c', "u$i");
}
my $jt = journal($A, '?limit=100',
                 sub { ((($_[0]{journal} // [])->[-1] // {})->{session}
                        // '') eq 'u400' });
is(scalar(@{ $jt->{journal} // [] }), $JOURNAL,
   "after 400 more requests the journal still shows $JOURNAL entries");
my ($xlen) = @streams ? redis_command($redis_port, 'XLEN', $streams[0]) : ();
ok(defined $xlen && $xlen > 0 && $xlen <= $JOURNAL + 100,
   "the stream holds at most $JOURNAL entries and one block of 100")
    or diag('XLEN: ' . ($xlen // 'none'));

# (d) Redis out of reach: the instance's own journal

is(answer(get($E, '/c', 'e1')), '200 n=1',
   'E, without Redis, answers from its own zone');
my $r = $E->get('/_mock/journal');
my $je = json_of($r);
is($r->{status}, 200, 'E answers its journal') or diag($r->{content});
ok($je && JSON::PP::is_bool($je->{fleet}) && !$je->{fleet},
   '... with "fleet": false') or diag($r->{content});
is_deeply([ map { $_->{session} } @{ ($je // {})->{journal} // [] } ], ['e1'],
          '... and its own requests only');

for my $inst ($A, $B, $C, $D) {
    my @bad = $inst->log_lines(qr/exited on signal|\[alert\]|\[crit\]|mock: Redis/);
    is(scalar(@bad), 0, $inst->name . ': no crash, no Redis trouble logged')
        or diag(join "\n", @bad);
}
is(scalar($E->log_lines(qr/exited on signal|\[alert\]|\[crit\]/)), 0,
   'E: no crash');

$_->stop for @fleet;
redis_delete_prefix($redis_port, $prefix);
is(scalar(redis_command($redis_port, '--scan', '--pattern', "$prefix*")), 0,
   'this run\'s keys are deleted');

done_testing();


sub get {
    my ($inst, $path, $session) = @_;
    return $inst->get($path, { headers => { 'X-Test-Id' => $session } });
}

sub answer {
    my ($r) = @_;
    my $body = $r->{content} // '';
    if ($r->{status} == 404) {
        $body = $body =~ /already played/ ? 'already played' : 'miss';
    }
    return "$r->{status} $body";
}

# The journal of $inst (GET /_mock/journal$query), decoded; when $ready
# is given, asked again for up to $WAIT seconds until $ready->($data) is
# true, as an entry may reach Redis just after its answer.
sub journal {
    my ($inst, $query, $ready) = @_;
    my $data;
    wait_until($WAIT, sub {
        my $r = $inst->get("/_mock/journal$query");
        $data = json_of($r) // { error => $r->{content} };
        return !$ready || $ready->($data);
    }, 0.05);
    return $data;
}
