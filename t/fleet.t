# A fleet of three gateways acts as one mock through Redis (mock_redis).
#
# Instances A, B and C (two workers each) run one configuration, each
# from a server root of its own (nginx -p) with its own copy of the
# cassettes, named by relative paths (mock_replay cassettes/seq.yaml):
# the store id in the Redis keys comes from the path as written in
# nginx.conf, so the three share their keys while each reads its own
# files.  A fourth instance, "ref", runs the same locations without
# mock_redis: what one instance answers is what the fleet must answer.
#
#   (1) Sequences.  The requests of a session, sent to A, B, C, A, ...
#       get the interactions one after another in cassette order, as
#       "ref" gives them to the same requests: in replay (n=1 ... n=5,
#       then "already played"), in new_episodes (the recorded answers
#       first) and in fallback (the recording answers when the upstream
#       fails, with what its "seq" says there).  Two interleaved sessions
#       each get a sequence of their own.
#   (2) Forced answers.  POST /_mock/force on A applies on B and C and
#       says "redis": true; other sessions are not touched; DELETE on C
#       removes it everywhere, and the sequence is where it was.
#   (3) Session values.  POST /orders on A answers an id made by a
#       template and remembered "as order"; GET /orders/current on B and
#       C, the very next requests, answer it from "var.order".  Another
#       session has no value; a new POST on B replaces it everywhere.
#   (4) Reset.  POST /_mock/reset?session=R on B: the session's sequence
#       starts again on A and C, its forced answer and its values are
#       gone; another session keeps its sequence.
#   (5) Unused.  GET /_mock/unused on C lists what the session never
#       played on any instance, with "fleet": true.
#
# Every run uses its own key prefix in the suite's Redis (on
# $TEST_NGINX_REDIS_PORT) and deletes its keys at the end.  This file
# runs its own nginx instances under t/servroot-fleet/, as Test::Nginx
# runs one nginx.

use strict;
use warnings;

use Test::More;
use FindBin;
use JSON::PP ();

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                redis_command cassette fleet_instances round_robin json_of
                redis_delete_prefix);

skip_under_valgrind('four instances started and stopped with deadlines '
                    . 'that nginx under valgrind does not meet');

my $module = module_under_test();

my $redis_port = $ENV{TEST_NGINX_REDIS_PORT} || 16379;
my $top        = "$FindBin::Bin/servroot-fleet";

# This run's keys, and only these, start with the prefix.
my $prefix = "t-fleet-$$-" . time() . ':';

my $lock = lock_run("$top.lock");

my $parent = $$;
my @fleet = fleet_instances(top => $top, names => [qw(A B C)],
                            offsets => [101, 102, 103], workers => 2,
                            module => $module);
my ($ref) = fleet_instances(top => $top, names => ['ref'],
                            offsets => [104], module => $module);
my ($A, $B, $C) = @fleet;

# Each instance's upstream, a server of its own: it fails, so that
# fallback answers from the recordings.
my %upstream = (A => server_port(106), B => server_port(107),
                C => server_port(108), ref => server_port(109));

END {
    local $?;
    if (defined $parent && $$ == $parent) {
        $_->stop for @fleet, grep { defined } $ref;
        redis_delete_prefix($redis_port, $prefix);
    }
}

my ($pong) = redis_command($redis_port, 'PING');
if (($pong // '') ne 'PONG') {
    BAIL_OUT("no Redis answers on 127.0.0.1:$redis_port; run the suite "
             . 'through scripts/run-tests.sh, which starts one');
}

# The cassettes, the same in every root.
my %files = (
    'cassettes/seq.yaml' => cassette('/c', map { "n=$_" } 1 .. 5),
    'cassettes/force.yaml' => cassette('/f', map { "f=$_" } 1 .. 3),
    'cassettes/ne.yaml' => cassette('/ne', map { "ne=$_" } 1 .. 3),
    'cassettes/fb.yaml' => <<'EOF',
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/fb', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'fb {{seq}} {{session}}'}}
EOF
    'cassettes/orders.yaml' => <<'EOF',
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/orders', body: null, headers: {}}
  response:
    status: {code: 201, message: Created}
    headers: {Content-Type: [application/json]}
    body: {string: '{"order": "{{random.hex 16 as order}}"}'}
- request: {method: GET, uri: 'http://svc/orders/current', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"order": "{{var.order}}"}'}
EOF
);

for my $inst (@fleet, $ref) {
    my $redis = $inst == $ref ? ''
              : "mock_redis 127.0.0.1:$redis_port prefix=$prefix "
                . 'timeout=5s ttl=10m;';
    my $port = $inst->port;
    my $up   = $upstream{ $inst->name };
    $inst->setup(files => \%files, http => <<"EOF");
http {
    access_log logs/access.log;
    $redis

    server {
        listen 127.0.0.1:$up;
        return 503 "down\\n";
    }

    server {
        listen 127.0.0.1:$port;

        mock_session \$http_x_test_id;

        location /c {
            mock_replay cassettes/seq.yaml;
        }

        location /f {
            mock_replay cassettes/force.yaml;
        }

        location /ne {
            proxy_pass http://127.0.0.1:$up;
            mock_upstream http://svc;
            mock_replay cassettes/ne.yaml;
            mock_mode new_episodes;
        }

        location /fb {
            proxy_pass http://127.0.0.1:$up;
            mock_upstream http://svc;
            mock_replay cassettes/fb.yaml;
            mock_mode fallback;
            mock_template on;
        }

        location /orders {
            mock_replay cassettes/orders.yaml;
            mock_template on;
            mock_repeats on;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF
}

$_->start for @fleet, $ref;

# Each instance replays its own copy of the cassettes.
for my $inst (@fleet) {
    my $data = json_of($inst->get('/_mock/cassettes'));
    my @paths = map { $_->{path} } @{ $data->{stores} // [] };
    my $root = $inst->root;
    is(scalar(grep { index($_, "$root/cassettes/") == 0 } @paths),
       scalar(keys %files), $inst->name . ' reads the cassettes under its '
                            . 'own root') or diag("stores: @paths");
}


#---------------------------------------------------------------------------
# (1) Sequences
#---------------------------------------------------------------------------

# Replay: session s1 starts on A, s2 on B; their requests interleave.
{
    my (@s1, @s2);
    for my $i (0 .. 5) {
        push @s1, answer(get($fleet[$i % 3], '/c', 's1'));
        push @s2, answer(get($fleet[($i + 1) % 3], '/c', 's2'));
    }
    my @want = ((map { "200 n=$_" } 1 .. 5), '404 already played');
    is_deeply(\@s1, \@want, '(1) replay: session s1 going A, B, C, A, B, C '
                            . 'gets n=1 to n=5, then "already played"');
    is_deeply(\@s2, \@want, '(1) replay: session s2, interleaved, going B, '
                            . 'C, A, ... gets a sequence of its own');
    my @one = map { answer(get($ref, '/c', 's1')) } 0 .. 5;
    is_deeply(\@s1, \@one, '(1) replay: the fleet answers as one instance');
}

# new_episodes: the recorded answers, one after another; fallback: its
# "seq" counts the plays.  Compared with "ref", which must show a
# sequence for the comparison to mean anything.
for my $case (['/ne', 3, 'new_episodes'], ['/fb', 4, 'fallback']) {
    my ($path, $count, $mode) = @$case;
    my @one  = map { answer(get($ref, $path, "$mode-1")) } 1 .. $count;
    if ($mode eq 'new_episodes') {
        is_deeply(\@one, [ map { "200 ne=$_" } 1 .. 3 ],
                  "(1) $mode: one instance plays ne=1 to ne=3");
    } else {
        is(scalar(grep { /^200 fb \d+ \Q$mode\E-1\z/ } @one), $count,
           "(1) $mode: one instance answers from the recording")
            or diag("ref: @one");
    }
    my @got = round_robin(\@fleet, $count,
                          sub { answer(get($_[0], $path, "$mode-1")) });
    is_deeply(\@got, \@one, "(1) $mode: the session going A, B, C, ... gets "
                            . 'what one instance gives');
    # Started on C, another session gets the same sequence.
    my @other = round_robin(\@fleet, $count,
                            sub { answer(get($_[0], $path, "$mode-2")) }, 2);
    s/$mode-1/$mode-2/ for @one;
    is_deeply(\@other, \@one, "(1) $mode: another session, started on C, "
                              . 'gets a sequence of its own');
}


#---------------------------------------------------------------------------
# (2) Forced answers
#---------------------------------------------------------------------------

{
    my $store = $A->store_of(qr{/force\.yaml\z});
    my $r = $A->post('/_mock/force', { content => JSON::PP->new->encode({
        session => 'F', method => 'GET', path => '/f', interaction => 2,
        store => $store }) });
    my $data = json_of($r);
    is($r->{status}, 200, '(2) POST /_mock/force on A is accepted')
        or diag($r->{content});
    is($data && ref $data->{forced} && $data->{forced}{interaction}, 2,
       '(2) its answer names the forced interaction, as before');
    ok($data && JSON::PP::is_bool($data->{redis}) && $data->{redis},
       '(2) ... and says "redis": true') or diag($r->{content});

    is_deeply([ map { answer(get($_, '/f', 'F')) } $B, $C, $A, $B ],
              [ ('200 f=3') x 4 ],
              '(2) the forced answer holds on B, C and A');
    is(answer(get($B, '/f', 'G')), '200 f=1',
       '(2) another session is not forced');

    $r = $C->delete("/_mock/force?session=F&method=GET&path=/f&store="
                    . $C->store_of(qr{/force\.yaml\z}));
    $data = json_of($r);
    is($r->{status}, 200, '(2) DELETE /_mock/force on C is accepted')
        or diag($r->{content});
    ok($data && exists $data->{forced} && !defined $data->{forced}
       && JSON::PP::is_bool($data->{redis}) && $data->{redis},
       '(2) ... says "forced": null and "redis": true')
        or diag($r->{content});

    # Forced answers use up nothing: the sequence starts at f=1.
    is_deeply([ map { answer(get($_, '/f', 'F')) } $A, $B, $C ],
              [ '200 f=1', '200 f=2', '200 f=3' ],
              '(2) unforced everywhere: A, B, C play the sequence from f=1');
}


#---------------------------------------------------------------------------
# (3) Session values
#---------------------------------------------------------------------------

{
    my $first = order_of(post($A, '/orders', 'V'), 201);
    like($first // '', qr/^[0-9a-f]{16}$/,
         '(3) POST /orders on A answers a new id');
    is(order_of(get($B, '/orders/current', 'V')), $first,
       '(3) the very next request, on B, answers it from var.order');
    is(order_of(get($C, '/orders/current', 'V')), $first,
       '(3) and so does C');
    is(order_of(get($C, '/orders/current', 'W')), '',
       '(3) another session has no value');

    my $second = order_of(post($B, '/orders', 'V'), 201);
    ok(defined $second && defined $first && $second ne $first,
       '(3) a new POST on B makes another id');
    is(order_of(get($A, '/orders/current', 'V')), $second,
       '(3) A answers the new value');
    is(order_of(get($C, '/orders/current', 'V')), $second,
       '(3) and so does C');
}


#---------------------------------------------------------------------------
# (4) Reset
#---------------------------------------------------------------------------

{
    is_deeply([ map { answer(get($_, '/c', 'R')) } $A, $B ],
              [ '200 n=1', '200 n=2' ], '(4) session R plays n=1, n=2');
    is(answer(get($A, '/c', 'R2')), '200 n=1', '(4) session R2 plays n=1');

    my $r = $A->post('/_mock/force', { content => JSON::PP->new->encode({
        session => 'R', method => 'GET', path => '/f', interaction => 2,
        store => $A->store_of(qr{/force\.yaml\z}) }) });
    is($r->{status}, 200, '(4) R has a forced answer') or diag($r->{content});
    is(answer(get($B, '/f', 'R')), '200 f=3', '(4) ... which B answers');
    my $order = order_of(post($C, '/orders', 'R'), 201);
    is(order_of(get($A, '/orders/current', 'R')), $order,
       '(4) R has a value, which A answers');

    $r = $B->post('/_mock/reset?session=R');
    is($r->{status}, 200, '(4) POST /_mock/reset?session=R on B')
        or diag($r->{content});

    is_deeply([ map { answer(get($_, '/c', 'R')) } $A, $C, $A ],
              [ '200 n=1', '200 n=2', '200 n=3' ],
              '(4) the sequence of R starts again on A and C, and is shared');
    is_deeply([ map { answer(get($_, '/f', 'R')) } $C, $A ],
              [ '200 f=1', '200 f=2' ],
              '(4) its forced answer is gone on C and A');
    is(order_of(get($A, '/orders/current', 'R')), '',
       '(4) its value is gone on A');
    is(order_of(get($C, '/orders/current', 'R')), '',
       '(4) and on C');
    is(answer(get($C, '/c', 'R2')), '200 n=2',
       '(4) session R2 goes on from where it was');
}


#---------------------------------------------------------------------------
# (5) Unused
#---------------------------------------------------------------------------

{
    is_deeply([ map { answer(get($_, '/c', 'U')) } $A, $B ],
              [ '200 n=1', '200 n=2' ],
              '(5) session U plays n=1 on A and n=2 on B');
    for my $inst ($C, $A) {
        my $r = $inst->get('/_mock/unused?session=U&store='
                           . $inst->store_of(qr{/seq\.yaml\z}));
        my $data = json_of($r);
        is_deeply([ map { $_->{interaction} } @{ $data->{unused} // [] } ],
                  [ 2, 3, 4 ], '(5) unused on ' . $inst->name . ': what U '
                               . 'never played on any instance')
            or diag($r->{content});
        ok($data && JSON::PP::is_bool($data->{fleet}) && $data->{fleet},
           '(5) ... with "fleet": true') or diag($r->{content});
    }
    my $r = $B->get('/_mock/unused?session=U-none&store='
                    . $B->store_of(qr{/seq\.yaml\z}));
    is_deeply([ map { $_->{interaction} }
                    @{ (json_of($r) // {})->{unused} // [] } ],
              [ 0 .. 4 ], '(5) a session that played nothing: all unused')
        or diag($r->{content});
}


# Nothing went wrong anywhere; the fleet's keys are in Redis.
for my $inst (@fleet, $ref) {
    my @bad = $inst->log_lines(qr/exited on signal|\[alert\]|\[crit\]|\[emerg\]/);
    is(scalar(@bad), 0, $inst->name . ': no worker crashed')
        or diag(join "\n", @bad);
    my @warn = $inst->log_lines(qr/mock: Redis/);
    is(scalar(@warn), 0, $inst->name . ': no Redis trouble logged')
        or diag(join "\n", @warn);
}
ok(scalar(redis_command($redis_port, '--scan', '--pattern', "$prefix*")),
   'the fleet keeps its state in Redis, under its prefix');

$_->stop for @fleet, $ref;
ok(!grep({ $_->masters_of_this_root } @fleet, $ref), 'every instance stopped');
redis_delete_prefix($redis_port, $prefix);
is(scalar(redis_command($redis_port, '--scan', '--pattern', "$prefix*")), 0,
   'this run\'s keys are deleted');

done_testing();


# A request in a test session, on its own connection.
sub get {
    my ($inst, $path, $session) = @_;
    return $inst->get($path, { headers => { 'X-Test-Id' => $session } });
}

sub post {
    my ($inst, $path, $session) = @_;
    return $inst->post($path, { headers => { 'X-Test-Id' => $session } });
}

# "<status> <body>", with a miss reduced to "404 already played" or
# "404 miss".
sub answer {
    my ($r) = @_;
    my $body = $r->{content} // '';
    if ($r->{status} == 404) {
        $body = $body =~ /already played/ ? 'already played' : 'miss';
    }
    return "$r->{status} $body";
}

# The "order" of a JSON answer with status $status (200 by default), or
# undef.
sub order_of {
    my ($r, $status) = @_;
    $status //= 200;
    if ($r->{status} != $status) {
        diag("expected $status, got $r->{status} $r->{content}");
        return undef;
    }
    my $data = json_of($r) or return undef;
    return $data->{order};
}
