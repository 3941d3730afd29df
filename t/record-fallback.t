# In "fallback" mode the cassette keeps the latest answer per request.
#
# A gateway left in fallback records every successful exchange so that
# its recordings stay fresh: a fresh answer must replace the recording of
# the same request, in the cassette and in the zone, so that what both
# hold depends on the number of different requests, not on the traffic.
# Two workers serve one fallback location; the upstream (a location of
# the same nginx) answers "answer <X-Version> for <uri>", or 503 when the
# request has "X-Fail".
#
#   (a) Thousands of identical requests to a few paths, from forked
#       clients at once: the cassette holds one interaction per path, the
#       zone (GET /_mock/cassettes) as many, and vcrpy loads the file.
#   (b) A new answer for one path replaces its recording, in the file and
#       in the zone: a failure is then answered with it.
#   (c) Thousands of requests whose answers all differ, while the workers
#       are killed with SIGKILL now and then, then twice as many without:
#       the cassette is valid YAML with one interaction per path, each
#       failure is answered with what the file holds for its path, and
#       the zone's memory in use does not grow with the requests.
#   (d) After a restart the file's answers are the fallback answers.
#   (e) Started as root with workers of another user, "nginx -t" warns
#       about a fallback cassette whose directory that user cannot write
#       to (the workers rename a new file over the cassette), and such a
#       nginx records a request's first answer but not a changed one.
#
# This file runs its own nginx under t/servroot-record-fallback/, as
# Test::Nginx runs a single worker and cannot fork clients.

use strict;
use warnings;

use Test::More;
use FindBin;
use POSIX ();
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(PYTHON skip_under_valgrind module_under_test
                skip_without_python server_port lock_run slurp write_file
                run_cmd start_clients print_answer read_answers split_items
                complete yaml_count);

skip_under_valgrind('a storm of requests from forked clients needs nginx '
                    . 'at full speed, not under valgrind');

my $module = module_under_test();

skip_without_python('import yaml, vcr',
                    'with PyYAML and vcrpy is needed to check the '
                    . 'cassette (Debian: apt-get install python3-yaml '
                    . 'python3-vcr)');

my $port     = server_port(28);
my $root     = "$FindBin::Bin/servroot-record-fallback";
my $conf     = "$root/conf/nginx.conf";
my $cassette = "$root/html/fb.yaml";
my $upstream = "http://127.0.0.1:$port/backend";

my $CLIENTS  = 8;
my $REQUESTS = 400;   # per client and storm
my @PATHS    = map { "/api/p$_" } 0 .. 4;
my $WORKERS  = 2;
my $ZONE_MB  = 16;
my $WAIT     = 10;    # seconds to wait for nginx to start, stop, answer

# A second run of this file waits for this one to finish.
my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => $WORKERS,
                                 wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'html', 'clients');

write_file($conf, $nginx->conf_head(connections => 1024) . <<"EOF");
http {
    access_log off;
    mock_zone zone=fb:${ZONE_MB}m;

    server {
        listen 127.0.0.1:$port reuseport backlog=1024;

        # the service, when it works
        location /backend/ {
            if (\$http_x_fail) {
                return 503 "down\\n";
            }
            return 200 "answer \$http_x_version for \$uri\\n";
        }

        location /api/ {
            proxy_pass http://127.0.0.1:$port/backend/;
            mock_upstream http://127.0.0.1:$port/backend/;
            mock_replay html/fb.yaml;
            mock_mode fallback;
            add_header X-Mock-Status \$mock_status always;
        }

        location /_mock/ {
            mock_admin;
        }
    }
}
EOF

$nginx->start;


# (a) a storm of identical requests

my @answers = storm(sub { '1' });
my @bad = grep { $_->[1] ne '200' || $_->[2] ne answer('1', $_->[0]) }
          @answers;
is(scalar(@answers), $CLIENTS * $REQUESTS, 'every request was answered');
is(scalar(@bad), 0, 'with the upstream\'s answer')
    or diag(join "\n", map { "@$_" } @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

check_cassette('the identical storm', sub { '1' });
is(zone_interactions(), scalar(@PATHS),
   'the zone holds ' . scalar(@PATHS) . ' interactions');

my ($rc, $out, $err) = run_cmd(PYTHON, '-c', <<'PY', $cassette);
import sys
from vcr.persisters.filesystem import FilesystemPersister
from vcr.serializers import yamlserializer
requests, responses = FilesystemPersister.load_cassette(sys.argv[1],
                                                        yamlserializer)
print(len(requests), sorted(r.path for r in requests))
PY
is($rc, 0, 'vcrpy loads the cassette') or diag($err);
is($out, scalar(@PATHS) . ' [' . join(', ', map { "'" . s{^/api}{/backend}r
                                                  . "'" } @PATHS) . "]\n",
   'vcrpy finds one interaction per path');


# (b) a new answer replaces the recording of its request

{
    my $path = $PATHS[0];
    my $r = $nginx->get($path, { headers => { 'X-Version' => '2' } });
    $nginx->is_response($r, 200, answer('2', $path), 'a new answer');

    my %want = map { $_ => '1' } @PATHS;
    $want{$path} = '2';
    check_cassette('the new answer', sub { $want{$_[0]} });
    is(zone_interactions(), scalar(@PATHS), 'the zone holds as many');

    $r = $nginx->get($path, { headers => { 'X-Fail' => '1' } });
    $nginx->is_response($r, 200, answer('2', $path),
                        'a failure is answered with the new answer');
    is($r->{headers}{'x-mock-status'}, 'fallback', 'by fallback');

    $r = $nginx->get($PATHS[1], { headers => { 'X-Fail' => '1' } });
    $nginx->is_response($r, 200, answer('1', $PATHS[1]),
                        'another path keeps its answer');

    # The same answer again: nothing is written.
    my $before = slurp($cassette);
    $nginx->get($path, { headers => { 'X-Version' => '2' } });
    is(slurp($cassette), $before, 'the same answer again leaves the file '
       . 'as it is');
}


# (c) answers that all differ, workers killed meanwhile

{
    my $zone_before = zone_kb();

    my $kills = 0;
    my @got = storm(sub { "c$_[0]-$_[1]" }, sub {
        return if $kills >= 5;
        my @w = $nginx->worker_pids;
        kill 'KILL', @w;
        $kills++;
        wait_for_new_workers(@w);
    });
    diag("second storm: " . (grep { $_->[1] eq '200' } @got)
         . " requests answered 200, $kills rounds of kills");
    ok($kills > 0, 'workers were killed during the storm');

    # Two more storms of the same size, without kills: the first brings
    # the zone to the memory that replaced interactions take until they
    # are freed, the second must not grow it by as much as keeping its
    # answers would take (each is some 1 KB).
    storm(sub { "d$_[0]-$_[1]" });
    my $zone_middle = zone_kb();
    storm(sub { "e$_[0]-$_[1]" });
    my $zone_after = zone_kb();
    diag("zone pages in use: $zone_before kB before the storms, "
         . "$zone_middle kB after the third, $zone_after kB after the "
         . "fourth");
    cmp_ok($zone_after - $zone_middle, '<', $CLIENTS * $REQUESTS / 4,
           'a storm of ' . ($CLIENTS * $REQUESTS) . ' new answers grows '
           . 'the zone by less than ' . ($CLIENTS * $REQUESTS / 4) . ' kB');

    is(zone_interactions(), scalar(@PATHS),
       'the zone holds ' . scalar(@PATHS) . ' interactions');

    my %latest = check_cassette('the storm of new answers');

    # The zone answers as the file says.
    my @wrong;
    for my $path (@PATHS) {
        my $r = $nginx->get($path, { headers => { 'X-Fail' => '1' } });
        push @wrong, "$path: $r->{status} $r->{content}"
            unless $r->{status} == 200 && defined $latest{$path}
                   && $r->{content} eq answer($latest{$path}, $path);
    }
    is(scalar(@wrong), 0, 'each failure is answered with what the file '
       . 'holds for its path') or diag(join "\n", @wrong);

    my $log = $nginx->error_log;
    unlike($log, qr/exited on signal (?!9\b)\d+/,
           'no worker died of another signal');
    unlike($log, qr/\[crit\]|\[emerg\]|zone is full/, 'nothing critical');

    $nginx->stop;

    ($rc, $out, $err) = $nginx->test_config;
    is($rc, 0, 'nginx -t accepts the cassette') or diag($err);

    # (d) a restart plays what the file holds

    $nginx->start;
    @wrong = ();
    for my $path (@PATHS) {
        my $r = $nginx->get($path, { headers => { 'X-Fail' => '1' } });
        push @wrong, "$path: $r->{status} $r->{content}"
            unless $r->{status} == 200 && defined $latest{$path}
                   && $r->{content} eq answer($latest{$path}, $path);
    }
    is(scalar(@wrong), 0, 'after a restart too') or diag(join "\n", @wrong);
    $nginx->stop;
}


# (e) the workers must be able to create files beside the cassette

SKIP: {
    skip 'nginx -t checks the workers\' user only when started as root', 7
        if $> != 0;

    my $dir = "$root/closed";
    mkdir $dir;
    chmod 0755, $dir;

    # nobody's own group: "nobody" is not one on every system
    my $group = getgrgid((getpwnam('nobody'))[3] // 65534) // 'nogroup';
    my $head = $nginx->conf_head =~ s/^user root;$/user nobody $group;/mr;

    write_file($conf, $head . <<"EOF");
http {
    access_log off;

    server {
        listen 127.0.0.1:$port;

        location /backend/ {
            return 200 "answer \$http_x_version for \$uri\\n";
        }

        location /api/ {
            proxy_pass http://127.0.0.1:$port/backend/;
            mock_replay $dir/fb.yaml;
            mock_mode fallback;
        }
    }
}
EOF
    ($rc, $out, $err) = $nginx->test_config;
    is($rc, 0, 'nginx -t accepts the fallback cassette');
    my $why = qq{mock: fallback rewrites its cassettes in "$dir", which }
              . 'user "nobody" of the worker processes cannot write to';
    like($err, qr/\[warn\].*\Q$why\E/, 'and warns that its workers cannot '
         . 'write to its directory');

    unlink "$root/logs/error.log";
    $nginx->start;
    for my $v (1, 2) {
        $nginx->is_response($nginx->get('/api/p0',
                                        { headers => { 'X-Version' => $v } }),
                            200, answer($v, '/api/p0'), "answer $v");
    }
    $nginx->stop;

    my @bodies = slurp("$dir/fb.yaml") =~ /^      string: "(.*)"$/mg;
    is_deeply(\@bodies, [ 'answer 1 for /backend/p0\\n' ],
              'the first answer is recorded, and not replaced by the second');
    my $lost = "the new answer for interaction 0 of cassette \"$dir/fb.yaml\""
               . ' is not recorded';
    like($nginx->error_log, qr/\[error\].*\Q$lost\E/,
         'an error says that the second is not recorded');
}

ok(!$nginx->masters_of_this_root, 'nginx stopped');

done_testing();


# What the upstream answers for $path with X-Version $v.
sub answer {
    my ($v, $path) = @_;
    return "answer $v for " . ($path =~ s{^/api}{/backend}r) . "\n";
}

# $CLIENTS clients send $REQUESTS requests each, over @PATHS in turn, with
# X-Version $version->($client, $n); $meanwhile, if given, runs every
# 0.1 s while they do.  Returns [path, status, body] for every request.
sub storm {
    my ($version, $meanwhile) = @_;
    my @kids = start_clients("$root/clients", $CLIENTS, sub {
        my ($c, $out) = @_;
        for my $n (0 .. $REQUESTS - 1) {
            my $path = $PATHS[($c + $n) % @PATHS];
            my $r = $nginx->get($path, { headers => {
                'X-Version' => $version->($c, $n) } });
            print_answer($out, $path, $r);
        }
    });

    my %running = map { $_ => 1 } @kids;
    while (%running) {
        delete $running{$_} for grep { waitpid($_, POSIX::WNOHANG()) > 0 }
                                keys %running;
        last unless %running;
        sleep 0.1;
        $meanwhile->() if $meanwhile;
    }

    return read_answers("$root/clients", $CLIENTS);
}

# Checks that the cassette holds one complete interaction per path, whose
# answer is the one $want->($path) names (any, without $want), and that
# PyYAML loads it.  Returns path => the X-Version of its answer.
sub check_cassette {
    my ($what, $want) = @_;
    my $text = slurp($cassette);
    my ($head, @items) = split_items($text);
    my (%version, @wrong);

    for my $item (@items) {
        my ($uri) = $item =~ /^    uri: "(.*)"$/m;
        my ($body) = $item =~ /^      string: "answer (\S+) for /m;
        my $path = ($uri // '') =~ s{^\Q$upstream\E}{/api}r;
        push @wrong, "$path: not complete" unless complete($item);
        push @wrong, "$path: twice" if exists $version{$path};
        $version{$path} = $body;
        push @wrong, "$path: answer " . ($body // '(none)') . ', not '
                     . $want->($path)
            if $want && ($body // '') ne $want->($path);
    }

    is(scalar(@items), scalar(@PATHS), "$what: the cassette holds "
       . scalar(@PATHS) . ' interactions (' . length($text) . ' bytes)');
    is_deeply([ sort keys %version ], [ sort @PATHS ], "$what: one per path");
    is(scalar(@wrong), 0, "$what: each complete, with its latest answer")
        or diag(join "\n", @wrong);
    is(yaml_count($cassette), '1 ' . scalar(@PATHS),
       "$what: PyYAML loads the cassette");

    return %version;
}

# The interactions the zone holds for the cassette, as the admin API says.
sub zone_interactions {
    my $r = $nginx->get('/_mock/cassettes');
    my ($n) = $r->{content} =~ /"interactions": (\d+)/;
    return $n // "none in: $r->{content}";
}

# kB of the zone in memory: the Pss of its mapping ("/dev/zero" of the
# zone's size) summed over nginx's processes, which counts each page in
# use once.
sub zone_kb {
    my $kb = 0;
    for my $pid ($nginx->master_pid, $nginx->worker_pids) {
        my $zone = 0;
        for my $line (split /\n/, slurp("/proc/$pid/smaps")) {
            if ($line =~ /^[0-9a-f]+-[0-9a-f]+ /) {
                $zone = $line =~ m{/dev/zero \(deleted\)$};
            } elsif ($zone && $line =~ /^Size:\s+(\d+)/) {
                $zone = 0 if $1 != $ZONE_MB * 1024;
            } elsif ($zone && $line =~ /^Pss:\s+(\d+)/) {
                $kb += $1;
            }
        }
    }
    return $kb;
}

sub wait_for_new_workers {
    my (@old) = @_;
    my %old = map { $_ => 1 } @old;
    my $deadline = time + $WAIT;
    until ((grep { !$old{$_} } $nginx->worker_pids) >= $WORKERS) {
        die "the master did not start new workers:\n" . $nginx->error_log
            if time > $deadline;
        sleep 0.02;
    }
}
