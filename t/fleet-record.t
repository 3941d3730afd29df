# Recordings in a fleet: what one gateway records, every gateway replays
# and writes into its own cassette.
#
# Instances A, B and C (two workers each) record in mock_mode
# new_episodes into their own copy of cassettes/rec.yaml (a relative
# path, one seed interaction in it), through proxy_pass to one upstream,
# a plain nginx U whose access log counts its hits and whose answers
# carry a request id of their own, so that a replay shows which hit it
# came from.
#
#   (a) Six new requests, recorded by turns on A, B and C, each reach the
#       zone of the other two (GET /_mock/interactions) within 3 s; the
#       delays are shown.
#   (b) Each of them, sent to the other two instances in sessions of
#       their own, is replayed there ("new_episodes; hit", the body of
#       the recording): the upstream saw each request once.
#   (c) Each instance's cassette file is valid YAML and holds the seed
#       and every recording exactly once, with the body that was
#       answered; an interaction it received from the fleet carries
#       x_mock's stream, a Redis stream id, the same in every file.
#   (d) A restarted instance catches up: C is stopped, A records two
#       more, C starts again: its zone and its file get them once, with
#       nothing added twice, and C replays them without asking the
#       upstream.
#   (e) The same for mock_mode record, into cassettes/all.yaml (missing
#       at the start): what one instance records, a replaying location
#       of the others answers, and every file holds it once.
#
# Every run uses its own key prefix in the suite's Redis and deletes its
# keys at the end.  This file runs its own nginx instances under
# t/servroot-fleet-record/.

use strict;
use warnings;

use Test::More;
use FindBin;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test skip_without_python
                server_port lock_run slurp redis_command fleet_instances
                json_of wait_until redis_delete_prefix cassette_interactions);

skip_under_valgrind('four instances and deadlines for what they receive, '
                    . 'which nginx under valgrind does not meet');

my $module = module_under_test();

skip_without_python('import yaml', 'with PyYAML is needed to check the '
                    . 'cassettes (Debian: apt-get install python3-yaml)');

my $redis_port = $ENV{TEST_NGINX_REDIS_PORT} || 16379;
my $top        = "$FindBin::Bin/servroot-fleet-record";
my $prefix     = "t-fleet-record-$$-" . time() . ':';
my $DEADLINE   = 3;   # seconds for a recording to reach another instance

my $lock = lock_run("$top.lock");

my $parent = $$;
my @fleet = fleet_instances(top => $top, names => [qw(A B C)],
                            offsets => [111, 112, 113], workers => 2,
                            module => $module);
my ($U) = fleet_instances(top => $top, names => ['U'], offsets => [114],
                          module => $module);
my ($A, $B, $C) = @fleet;
my $up = 'http://127.0.0.1:' . $U->port;

END {
    local $?;
    if (defined $parent && $$ == $parent) {
        $_->stop for @fleet, grep { defined } $U;
        redis_delete_prefix($redis_port, $prefix);
    }
}

my ($pong) = redis_command($redis_port, 'PING');
if (($pong // '') ne 'PONG') {
    BAIL_OUT("no Redis answers on 127.0.0.1:$redis_port; run the suite "
             . 'through scripts/run-tests.sh, which starts one');
}

$U->setup(http => <<"EOF");
http {
    log_format hit '\$uri';
    access_log logs/hits.log hit;

    server {
        listen 127.0.0.1:${\ $U->port };
        location / {
            return 200 "up \$uri \$request_id\\n";
        }
    }
}
EOF
$U->start;

my $seed = <<"EOF";
version: 1
interactions:
- request: {method: GET, uri: '$up/seed', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'seed'}}
EOF

for my $inst (@fleet) {
    my $port = $inst->port;
    $inst->setup(files => { 'cassettes/rec.yaml' => $seed }, http => <<"EOF");
http {
    access_log logs/access.log;
    mock_redis 127.0.0.1:$redis_port prefix=$prefix timeout=5s ttl=10m;

    server {
        listen 127.0.0.1:$port;

        location /api/ {
            proxy_pass $up/;
            mock_upstream $up/;
            mock_replay cassettes/rec.yaml;
            mock_mode new_episodes;
            mock_session \$http_x_test_id;
        }

        location /all/ {
            proxy_pass $up/;
            mock_upstream $up/;
            mock_replay cassettes/all.yaml;
            mock_mode record;
        }

        location /play/ {
            mock_upstream $up/;
            mock_replay cassettes/all.yaml;
            mock_repeats on;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF
}
$_->start for @fleet;

my %body;        # path => the body its recording answered
my %recorder;    # path => the instance that recorded it
my @delays;      # seconds, one a recording and receiving instance


#---------------------------------------------------------------------------
# (a) each recording reaches the other instances
#---------------------------------------------------------------------------

my @paths = map { "/p$_" } 1 .. 6;
for my $i (0 .. $#paths) {
    my $path = $paths[$i];
    my $rec = $fleet[$i % 3];
    record($rec, $path);
    for my $other (grep { $_ != $rec } @fleet) {
        my $delay = wait_in_zone($other, $path);
        ok(defined $delay, "(a) $path recorded on " . $rec->name
                           . ' reaches the zone of ' . $other->name
                           . " within $DEADLINE s");
        push @delays, $delay if defined $delay;
    }
}
if (@delays) {
    my @sorted = sort { $a <=> $b } @delays;
    diag(sprintf('delays until another instance has a recording: median '
                 . '%.0f ms, max %.0f ms (target p99 100 ms)',
                 1000 * $sorted[$#sorted / 2], 1000 * $sorted[-1]));
}


#---------------------------------------------------------------------------
# (b) ... and is replayed there
#---------------------------------------------------------------------------

for my $path (@paths) {
    for my $other (grep { $_ != $recorder{$path} } @fleet) {
        my $r = $other->get("/api$path",
                            { headers => { 'X-Test-Id' => 'play-' . $other->name } });
        is("$r->{status} " . ($r->{headers}{'x-mock'} // '') . " $r->{content}",
           "200 new_episodes; hit $body{$path}",
           "(b) $path is replayed on " . $other->name);
    }
}
is_deeply(upstream_hits(), { map { $_ => 1 } @paths },
          '(b) the upstream saw each request once');


#---------------------------------------------------------------------------
# (c) every cassette file holds every recording once
#---------------------------------------------------------------------------

my %stream;   # path => the stream id a receiving file gives it
for my $inst (@fleet) {
    check_file($inst, [ @paths ], '(c)');
}


#---------------------------------------------------------------------------
# (d) a restarted instance catches up
#---------------------------------------------------------------------------

my $c_workers = join ' ', $C->worker_pids;
$C->stop;
my @late = ('/late1', '/late2');
for my $path (@late) {
    record($A, $path);
    ok(defined wait_in_zone($B, $path), "(d) $path, recorded on A while C "
                                        . 'is stopped, reaches B');
}
$C->start;

for my $path (@late) {
    ok(defined wait_in_zone($C, $path, 5), "(d) C, started again, receives "
                                           . "$path");
}
my @zone = zone_uris($C);
my %count;
$count{$_}++ for @zone;
is_deeply([ grep { $count{$_} != 1 } sort keys %count ], [],
          '(d) C\'s zone holds each interaction once')
    or diag("C's zone: @zone");
is(scalar(@zone), 1 + @paths + @late, '(d) ... the seed and all '
                                      . (@paths + @late) . ' recordings');

for my $path (@late) {
    my $r = $C->get("/api$path", { headers => { 'X-Test-Id' => 'play-C-late' } });
    is("$r->{status} " . ($r->{headers}{'x-mock'} // '') . " $r->{content}",
       "200 new_episodes; hit $body{$path}", "(d) C replays $path");
}
is_deeply(upstream_hits(), { map { $_ => 1 } @paths, @late },
          '(d) the upstream still saw each request once');

for my $inst (@fleet) {
    check_file($inst, [ @paths, @late ], '(d)');
}


#---------------------------------------------------------------------------
# (e) mock_mode record: recorded on one instance, replayed by the others
#---------------------------------------------------------------------------

my @all = ('/all1', '/all2', '/all3');
for my $i (0 .. $#all) {
    my $path = $all[$i];
    my $rec = $fleet[$i % 3];
    record($rec, $path, '/all');
    for my $other (grep { $_ != $rec } @fleet) {
        ok(defined wait_in_zone($other, $path, undef, 'all.yaml'),
           "(e) $path recorded (mock_mode record) on " . $rec->name
           . ' reaches the zone of ' . $other->name);
        my $r = $other->get("/play$path");
        is("$r->{status} " . ($r->{headers}{'x-mock'} // '') . " $r->{content}",
           "200 replay; hit $body{$path}",
           "(e) ... where a replaying location answers it");
    }
}
is_deeply(upstream_hits(), { map { $_ => 1 } @paths, @late, @all },
          '(e) the upstream saw each of them once');
for my $inst (@fleet) {
    check_file($inst, [ @all ], '(e)', 'all.yaml');
}

for my $inst (@fleet) {
    my @bad = $inst->log_lines(qr/exited on signal|\[alert\]|\[crit\]|mock: Redis/);
    is(scalar(@bad), 0, $inst->name . ': no crash, no Redis trouble logged')
        or diag(join "\n", @bad);
}

$_->stop for @fleet, $U;
redis_delete_prefix($redis_port, $prefix);
is(scalar(redis_command($redis_port, '--scan', '--pattern', "$prefix*")), 0,
   'this run\'s keys are deleted');

done_testing();


#---------------------------------------------------------------------------

# Records $path on $inst, through /api/ (new_episodes) or $location
# (/all/, record): the upstream answers, nginx records.
sub record {
    my ($inst, $path, $location) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $location //= '/api';
    my $mode = $location eq '/api' ? 'new_episodes' : 'record';
    my $r = $inst->get("$location$path",
                       { headers => { 'X-Test-Id' => 'rec' } });
    # The X-Mock header goes out before the recording is done: it says
    # the mode only.
    ok($r->{status} == 200 && $r->{content} =~ m{^up \Q$path\E \S+\n\z}
       && ($r->{headers}{'x-mock'} // '') =~ /^$mode(; recorded)?\z/,
       "$path is recorded on " . $inst->name)
        or diag("$r->{status} " . ($r->{headers}{'x-mock'} // '')
                . " $r->{content}");
    $body{$path} = $r->{content};
    $recorder{$path} = $inst;
}

# The uris of the interactions in the zone of $inst, as the admin API
# lists them, of cassettes/$file (rec.yaml by default).
sub zone_uris {
    my ($inst, $file) = @_;
    $file //= 'rec.yaml';
    my $store = $inst->store_of(qr{/cassettes/\Q$file\E\z}) // 'none';
    my $data = json_of($inst->get("/_mock/interactions?store=$store")) // {};
    return map { $_->{uri} // '' } @{ $data->{interactions} // [] };
}

# Seconds until the zone of $inst has the recording of $path, or undef
# after $secs ($DEADLINE by default).  Once one wait has failed, the
# others wait 0.3 s only, so that a fleet that shares nothing fails the
# file in seconds.
my $missed;
sub wait_in_zone {
    my ($inst, $path, $secs, $file) = @_;
    my $start = time;
    my $found = wait_until($missed ? 0.3 : $secs // $DEADLINE, sub {
        return grep { $_ eq "$up$path" } zone_uris($inst, $file);
    }, 0.005);
    $missed = 1 unless $found;
    return $found ? time - $start : undef;
}

# How often the upstream answered each path.
sub upstream_hits {
    my %hits;
    $hits{$_}++ for split /\n/, slurp($U->root . '/logs/hits.log');
    return \%hits;
}

# The cassette file of $inst, cassettes/$file (rec.yaml, which has the
# seed, by default), holds the recordings of @$paths once each, with
# their bodies; those it received from the fleet carry a stream id, the
# same as in the other files.  The file may be written just after the
# zone has the interaction: it is read again for up to $DEADLINE s until
# it has them all.
sub check_file {
    my ($inst, $paths, $label, $file) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $file //= 'rec.yaml';
    my @want = (($file eq 'rec.yaml' ? "$up/seed" : ()),
                map { "$up$_" } @$paths);
    my $name = $inst->name;
    my ($list, $err);
    wait_until($DEADLINE, sub {
        ($list, $err) = cassette_interactions($inst->root . "/cassettes/$file");
        return $list && @$list >= @want;
    }, 0.05);
    ok($list, "$label $name: $file is valid YAML") or diag($err);
    $list //= [];

    my %n;
    $n{ $_->{uri} }++ for @$list;
    is_deeply([ map { "$_ " . ($n{$_} // 0) } @want ],
              [ map { "$_ 1" } @want ],
              "$label $name: $file holds every recording once");
    is(scalar(@$list), scalar(@want), "$label $name: and nothing else")
        or diag(join "\n", map { $_->{uri} } @$list);

    my @bad;
    for my $item (@$list) {
        my ($path) = $item->{uri} =~ m{^\Q$up\E(/.*)\z} or next;
        next if $path eq '/seed' || !$recorder{$path};
        push @bad, "$path: body " . ($item->{body} // 'none')
            if ($item->{body} // '') ne ($body{$path} // '');
        next if $recorder{$path} == $inst;
        my $xm = ref $item->{x_mock} eq 'HASH' ? $item->{x_mock} : {};
        my $id = $xm->{stream} // '';
        if ($id !~ /^\d+-\d+\z/) {
            push @bad, "$path, received from " . $recorder{$path}->name
                       . ": x_mock stream \"$id\"";
        } elsif (defined $stream{$path} && $stream{$path} ne $id) {
            push @bad, "$path: stream $id here, $stream{$path} elsewhere";
        }
        $stream{$path} //= $id;
    }
    is(scalar(@bad), 0, "$label $name: each recording with its body; what "
                        . 'came from the fleet with its stream id')
        or diag(join "\n", @bad);
}
