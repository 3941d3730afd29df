# Recording from several worker processes at once.
#
# Two workers record through proxy_pass into one cassette while forked
# clients send 500 requests to 500 different paths, ten at a time.  The
# upstream is a location of the same nginx that answers with a body
# naming the path it received.  Then:
#   - every client got 200 and the body for its own path: recording does
#     not change what the client gets;
#   - the cassette has exactly 500 items, each one complete (it ends with
#     its "# recorded" line), each path exactly once, and each item's
#     response body is the one for its own uri: no interaction lost,
#     written twice or interleaved with another one;
#   - the file is valid YAML for PyYAML (version 1, 500 interactions) and
#     "nginx -t" accepts it;
#   - after switching the location to "mock_mode replay" (HUP), a sample
#     of the recorded paths is answered from the cassette with the
#     recorded bodies, although the upstream location now answers
#     something else.
#
# This file runs its own nginx under t/servroot-record-concurrency/, as
# Test::Nginx runs a single worker, cannot fork clients and cannot send a
# HUP in the middle of a block.

use strict;
use warnings;

use Test::More;
use FindBin;

use lib "$FindBin::Bin/lib";
use MockTest qw(PYTHON skip_under_valgrind module_under_test
                skip_without_python server_port lock_run slurp write_file
                run_cmd start_clients print_answer read_answers split_items);

skip_under_valgrind('races between workers need nginx at full speed, '
                    . 'not under valgrind');

my $module = module_under_test();

skip_without_python('import yaml',
                    'with PyYAML is needed to check the cassette '
                    . '(Debian: apt-get install python3-yaml)');

my $port  = server_port(21);
my $root  = "$FindBin::Bin/servroot-record-concurrency";
my $conf  = "$root/conf/nginx.conf";
my $cassette = "$root/html/rec.yaml";

my $CLIENTS  = 10;
my $REQUESTS = 50;                    # per client
my $N        = $CLIENTS * $REQUESTS;
my $WORKERS  = 2;
my $WAIT     = 10;   # seconds to wait for nginx to start, stop, answer

# A second run of this file waits for this one to finish.
my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => $WORKERS,
                                 wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'html', 'clients');

# "reuseport" gives each worker its own listening socket and the kernel
# spreads the connections over them, so both workers record for sure.
write_file($conf, config(mode => 'record',
                         backend => 'return 200 "body for $uri\n";'));

$nginx->start;
is(scalar(my @w = $nginx->worker_pids), $WORKERS, "$WORKERS workers run")
    or diag(slurp("$root/logs/error.log"));

# (a) 500 requests to 500 paths, recorded concurrently

my %want;   # path => body the client must get
for my $c (0 .. $CLIENTS - 1) {
    for my $n (0 .. $REQUESTS - 1) {
        $want{"/api/c$c/r$n"} = "body for /backend/c$c/r$n\n";
    }
}

my @results = burst();

my (@bad, %answered);
for my $got (@results) {
    my ($path, $status, $body) = @$got;
    $answered{$path}++;
    push @bad, "$path: $status $body"
        if $status ne '200' || $body ne $want{$path};
}
is(scalar(@results), $N, "$N answers");
is(scalar(keys %answered), $N, "$N different paths answered");
is(scalar(@bad), 0, 'every client got 200 with the body for its path')
    or diag(join "\n", map { s/\n/\\n/gr } @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

# A worker writes the access log line after the answer has left, so a
# client may have it before the line is written.  A graceful stop waits
# for every request to finish, its log phase included.
$nginx->stop;

my %pids;
for my $line (split /\n/, slurp("$root/logs/access.log")) {
    my ($pid, $uri) = split ' ', $line;
    $pids{$pid}++ if $uri =~ m{^/api/};
}
ok(keys %pids >= $WORKERS, 'both workers recorded ('
   . join(', ', map { "pid $_: $pids{$_}" } sort keys %pids) . ')')
    or diag('the checks below then say nothing about sharing the file');

my $log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]|\[emerg\]/,
       'no worker crashed, no alert');
unlike($log, qr/mock: cannot record|is not recorded/,
       'no recording failed or was skipped');

# (b) the cassette: 500 complete items, each path once

my $text = slurp($cassette);
my ($head, @items) = split_items($text);

is($head, "# recorded by nginx: new interactions are appended at the end\nversion: 1\ninteractions:\n", 'the cassette starts with its '
   . 'version and the interactions key');
is(scalar(() = $text =~ /^- request:$/mg), $N,
   "$N \"- request:\" items at column 0");
is(scalar(() = $text =~ /^# recorded \S+$/mg), $N,
   "$N \"# recorded\" marks");
is(scalar(() = $text =~ /- request:/g), $N,
   'no "- request:" inside another item (an interleaved write)');

my (%recorded, @broken);
for my $i (0 .. $#items) {
    my $item = $items[$i];
    my @uris = $item =~ /^    uri: "(.*)"$/mg;
    my ($body) = $item =~ /^  response:\n    body:\n      string: (.*)$/m;

    if (@uris != 1) {
        push @broken, "item $i has " . scalar(@uris) . ' uri lines';
        next;
    }
    my ($path) = $uris[0] =~ m{^http://127\.0\.0\.1:$port/backend(/.*)$};
    if (!defined $path) {
        push @broken, "item $i: unexpected uri $uris[0]";
        next;
    }
    $path = "/api$path";
    $recorded{$path}++;

    push @broken, "item $i ($path) does not end with its \"# recorded\" line"
        unless $item =~ /\n# recorded \S+\n\z/;
    push @broken, "item $i ($path) is not a GET"
        unless $item =~ /^    method: "GET"$/m;
    push @broken, "item $i ($path) is not status 200"
        unless $item =~ /^      code: 200$/m;

    # The body for this very uri, as the writer quotes it.
    my $quoted = defined $want{$path} ? qq{"$want{$path}"} =~ s/\n/\\n/r
                                      : '(a path no client asked for)';
    push @broken, "item $i ($path): response body "
                  . ($body // '(none)') . ", not $quoted"
        unless defined $body && $body eq $quoted;
}

is(scalar(@broken), 0, 'every item is complete and consistent')
    or diag(join "\n", @broken[0 .. ($#broken < 19 ? $#broken : 19)]);

my @dup = grep { $recorded{$_} > 1 } sort keys %recorded;
my @missing = grep { !$recorded{$_} } sort keys %want;
is(scalar(@dup), 0, 'no path recorded twice')
    or diag("twice: @dup[0 .. ($#dup < 19 ? $#dup : 19)]");
is(scalar(@missing), 0, "all $N paths recorded")
    or diag("missing: @missing[0 .. ($#missing < 19 ? $#missing : 19)]");

my ($rc, $out, $err) = run_cmd(
    PYTHON, '-c',
    'import yaml,sys; d=yaml.safe_load(open(sys.argv[1])); '
    . 'print(d["version"], len(d["interactions"]))',
    $cassette);
is($rc, 0, 'PyYAML loads the cassette') or diag($err);
is($out, "1 $N\n", "PyYAML: version 1, $N interactions");

($rc, $out, $err) = $nginx->test_config;
is($rc, 0, 'nginx -t accepts the recorded cassette') or diag($err);
unlike($err, qr/incomplete interaction/, 'nginx -t finds nothing incomplete')
    or diag($err);

# (c) replay what was recorded
#
# The upstream location now answers "changed ...": an answer with the
# recorded body can only come from the cassette.

write_file($conf, config(mode => 'replay',
                         backend => 'return 200 "changed for $uri\n";'));
$nginx->start;

$nginx->is_response($nginx->get('/backend/c0/r0'), 200,
                    "changed for /backend/c0/r0\n",
                    'the upstream location answers something else now');

my @sample = map { "/api/c" . ($_ % $CLIENTS) . "/r"
                   . (($_ * 13) % $REQUESTS) } 0 .. 19;
my @wrong;
for my $path (@sample) {
    my $r = $nginx->get($path);
    push @wrong, "$path: $r->{status} $r->{content}"
        unless $r->{status} == 200 && $r->{content} eq $want{$path};
}
is(scalar(@wrong), 0, scalar(@sample) . ' recorded paths replay their '
   . 'recorded bodies') or diag(join "\n", @wrong);

my $r = $nginx->get('/api/never/recorded');
is($r->{status}, 404, 'a path that was not recorded is a miss, '
   . 'not proxied') or diag($r->{content});

$log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/,
       'no worker crashed, no alert');

$nginx->stop;
ok(!$nginx->masters_of_this_root, 'nginx stopped');

done_testing();


sub config {
    my (%arg) = @_;
    return $nginx->conf_head(connections => 1024) . <<"EOF";
http {
    log_format mock '\$pid \$uri \$status';
    access_log logs/access.log mock;

    server {
        listen 127.0.0.1:$port reuseport backlog=1024;

        # the service being recorded
        location /backend/ {
            $arg{backend}
        }

        location /api/ {
            proxy_pass http://127.0.0.1:$port/backend/;
            mock_upstream http://127.0.0.1:$port/backend/;
            mock_replay html/rec.yaml;
            mock_mode $arg{mode};
        }
    }
}
EOF
}

# Forks $CLIENTS clients; client $c sends GET /api/c$c/r0 .. r49, one
# after another, each on its own connection.  Returns [path, status,
# body] for every request.
sub burst {
    my @kids = start_clients("$root/clients", $CLIENTS, sub {
        my ($c, $out) = @_;
        for my $n (0 .. $REQUESTS - 1) {
            my $path = "/api/c$c/r$n";
            print_answer($out, $path, $nginx->get($path));
        }
    });

    for my $pid (@kids) {
        waitpid $pid, 0;
        diag("client $pid exited with status $?") if $?;
    }

    return read_answers("$root/clients", $CLIENTS);
}
