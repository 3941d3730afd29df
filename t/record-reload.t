# Recording while nginx reloads, again and again.
#
# After "nginx -s reload" the workers of the old configuration finish
# the requests they have while those of the new one take new ones: for a
# while both record into the same cassette file, each with a zone of
# its own.  Every answer recorded must be in the file once, whole, with
# the file valid YAML throughout, whichever configuration's worker wrote
# it and however the writes interleave.
#
#   (a) Eight clients record 1,600 requests with ~4 KB bodies while the
#       master gets SIGHUP every 50 ms, and the workers SIGKILL now and
#       then: every request answered 200 is recorded exactly once, with
#       its own body, and PyYAML and "nginx -t" load the file whole.
#   (b) The same against a location in fallback mode, which replaces
#       the recording of a request rather than adding one: the file
#       holds one interaction per path, each the latest answer's.
#
# This file runs its own nginx under t/servroot-record-reload/, as
# Test::Nginx cannot signal nginx in the middle of a block nor fork
# clients.

use strict;
use warnings;

use Test::More;
use FindBin;
use POSIX ();
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test skip_without_python
                server_port lock_run slurp write_file start_clients
                print_answer read_answers split_items complete check_item
                yaml_count);

skip_under_valgrind('reloading while clients record needs nginx at full '
                    . 'speed, not under valgrind');

my $module = module_under_test();

skip_without_python('import yaml',
                    'with PyYAML is needed to check the cassette '
                    . '(Debian: apt-get install python3-yaml)');

my $port  = server_port(131);
my $root  = "$FindBin::Bin/servroot-record-reload";
my $conf  = "$root/conf/nginx.conf";

my $upstream = "http://127.0.0.1:$port/backend";

my $CLIENTS  = 8;
my $REQUESTS = 200;   # per client
my $WORKERS  = 2;
my $WAIT     = 10;

my $UNIT = join '', map { sprintf "%-9d|", $_ } 0 .. 99;   # 1000 bytes
my $PAD  = $UNIT x 4;
my $BACKEND = qq{set \$unit "$UNIT";\n            }
              . 'set $pad "' . ('$unit' x 4) . qq{";\n            }
              . 'return 200 "$uri\n$pad\n";';

my $YAML_LOADER = 'getattr(yaml, "CSafeLoader", yaml.SafeLoader)';

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => $WORKERS,
                                 wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'html', 'clients');


# (a) record mode

{
    my $cassette = "$root/html/reload.yaml";

    write_file($conf, config(cassette => 'html/reload.yaml',
                             mode => 'record'));
    $nginx->start;

    my ($reloads, @results) = burst_with_reloads(sub { "/api/c$_[0]/r$_[1]" });
    $nginx->stop;

    my @ok = grep { $_->[1] eq '200' } @results;
    diag(scalar(@ok) . ' of ' . scalar(@results) . " requests answered 200, "
         . "$reloads reloads");
    ok($reloads >= 5, 'nginx reloaded while the clients recorded');

    my @bad = grep { $_->[2] ne want($_->[0]) } @ok;
    is(scalar(@bad), 0, 'every 200 answer has the full body for its path');

    my ($head, @items) = check_file($cassette);

    my %recorded;
    for my $item (@items) {
        my ($path) = check_item($item, $upstream, \&want);
        $recorded{$path // ''}++;
    }
    my @twice = grep { $recorded{$_} > 1 } sort keys %recorded;
    is(scalar(@twice), 0, 'no path recorded twice')
        or diag("twice: @twice[0 .. ($#twice < 9 ? $#twice : 9)]");
    my @lost = grep { !$recorded{$_->[0]} } @ok;
    is(scalar(@lost), 0, 'every request answered 200 is in the cassette')
        or diag('lost: ' . join ' ', map { $_->[0] }
                                     @lost[0 .. ($#lost < 9 ? $#lost : 9)]);
}


# (b) fallback mode: one interaction per path, each the latest

{
    my $cassette = "$root/html/fallback.yaml";

    write_file($conf, config(cassette => 'html/fallback.yaml',
                             mode => 'fallback'));
    $nginx->start;

    # 40 paths, each asked for many times by every client
    my ($reloads, @results) =
        burst_with_reloads(sub { '/api/p' . ($_[1] % 40) });
    $nginx->stop;

    my @ok = grep { $_->[1] eq '200' } @results;
    ok($reloads >= 5, "nginx reloaded $reloads times while the clients "
       . 'fell back');
    my @bad = grep { $_->[2] ne want($_->[0]) } @ok;
    is(scalar(@bad), 0, 'every 200 answer has the full body for its path');

    my ($head, @items) = check_file($cassette);

    my %recorded;
    for my $item (@items) {
        my ($path) = check_item($item, $upstream, \&want);
        $recorded{$path // ''}++;
    }
    my @twice = grep { $recorded{$_} > 1 } sort keys %recorded;
    is(scalar(@twice), 0, 'no path is in the cassette twice')
        or diag("twice: @twice[0 .. ($#twice < 9 ? $#twice : 9)]");
    is(scalar(keys %recorded), 40, 'every path is in the cassette');
}

done_testing;


# The file is whole: every item complete and intact, PyYAML loads it,
# nginx -t takes it without a warning.  Returns the head and the items.
sub check_file {
    my ($cassette) = @_;

    my $text = slurp($cassette);
    my ($head, @items) = split_items($text);

    my @broken;
    for my $i (0 .. $#items) {
        my ($path, $why) = check_item($items[$i], $upstream, \&want);
        push @broken, "item $i: $why" if $why;
    }
    ok(@items > 0, scalar(@items) . ' items in the cassette');
    is(scalar(@broken), 0, 'every item is complete and intact')
        or diag(join "\n", @broken[0 .. ($#broken < 9 ? $#broken : 9)]);

    is(yaml_count($cassette, $YAML_LOADER), '1 ' . scalar(@items),
       'PyYAML loads the whole cassette');

    my ($rc, $out, $err) = $nginx->test_config;
    is($rc, 0, 'nginx -t accepts the cassette') or diag($err);
    unlike($err, qr/incomplete interaction/, 'nginx -t finds nothing '
           . 'incomplete');

    return ($head, @items);
}

sub config {
    my (%arg) = @_;
    return $nginx->conf_head(connections => 1024) . <<"EOF";
http {
    access_log off;

    server {
        listen 127.0.0.1:$port reuseport backlog=1024;

        location /backend/ {
            $BACKEND
        }

        location /api/ {
            proxy_pass http://127.0.0.1:$port/backend/;
            mock_upstream http://127.0.0.1:$port/backend/;
            mock_replay $arg{cassette};
            mock_mode $arg{mode};
        }
    }
}
EOF
}

sub want {
    my ($path) = @_;
    return ($path =~ s{^/api}{/backend}r) . "\n$PAD\n";
}

# The clients send $REQUESTS requests each, to the paths $path->(client,
# n) gives, while the master gets SIGHUP every 50 ms and, every tenth
# time, a worker SIGKILL.  Returns the number of reloads, then [path,
# status, body] for every request.
sub burst_with_reloads {
    my ($path) = @_;

    my @kids = start_clients("$root/clients", $CLIENTS, sub {
        my ($c, $out) = @_;
        for my $n (0 .. $REQUESTS - 1) {
            my $p = $path->($c, $n);
            print_answer($out, $p, $nginx->get($p));
        }
    });

    my %running = map { $_ => 1 } @kids;
    my $reloads = 0;
    while (%running) {
        sleep 0.05;
        delete $running{$_} for grep { waitpid($_, POSIX::WNOHANG()) > 0 }
                                keys %running;
        last unless %running;
        kill 'HUP', $nginx->master_pid;
        $reloads++;
        if ($reloads % 10 == 0) {
            my @w = $nginx->worker_pids;
            kill 'KILL', $w[0] if @w;
        }
    }

    # the old workers finish what they have
    my $deadline = time + $WAIT;
    sleep 0.1 while $nginx->worker_pids > $WORKERS && time < $deadline;

    return ($reloads, read_answers("$root/clients", $CLIENTS));
}
