# Recording does not hold a streamed answer back: events of an upstream
# that sends them with gaps reach the client one by one while they are
# recorded, as they do without the module.
#
#   - proxy_buffering off, and proxy_buffering on with the upstream's
#     "X-Accel-Buffering: no": the client has the first event before the
#     upstream sends its last one (the upstream notes when it does), and
#     the events come about as far apart as they were sent;
#   - the same in "fallback" mode, and without recording (mock_mode off)
#     for comparison;
#   - each answer is recorded whole, with its chunks.
#
# Times are measured from the client's side, with tolerances.  This file
# runs its own nginx under t/servroot-stream-record/, with an upstream of
# its own.

use strict;
use warnings;

use Test::More;
use FindBin;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp);
use StreamTest qw(sse_upstream stream_get gaps);

skip_under_valgrind('times are checked with tolerances that nginx under '
                    . 'valgrind does not meet');

my $module = module_under_test();

my $port   = server_port(183);
my $up     = server_port(184);
my $root   = "$FindBin::Bin/servroot-stream-record";
my $GAP    = 250;   # ms between the upstream's events
my $EVENTS = 5;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => 10);

my $http = <<"EOF";
http {
    access_log off;
    server {
        listen 127.0.0.1:$port;
        location /off/ {
            proxy_pass http://127.0.0.1:$up/;
            proxy_buffering off;
            mock_upstream http://127.0.0.1:$up/;
            mock_replay cassettes/off.yaml;
            mock_mode off;
        }
        location /rec/ {
            proxy_pass http://127.0.0.1:$up/;
            proxy_buffering off;
            mock_upstream http://127.0.0.1:$up/;
            mock_replay cassettes/rec.yaml;
            mock_mode record;
        }
        location /xa/ {
            proxy_pass http://127.0.0.1:$up/;
            proxy_buffering on;
            mock_upstream http://127.0.0.1:$up/;
            mock_replay cassettes/xa.yaml;
            mock_mode record;
        }
        location /fb/ {
            proxy_pass http://127.0.0.1:$up/;
            proxy_buffering off;
            mock_upstream http://127.0.0.1:$up/;
            mock_replay cassettes/fb.yaml;
            mock_mode fallback;
        }
    }
}
EOF

$nginx->setup(http => $http, files => { 'cassettes/off.yaml' =>
                                        "version: 1\ninteractions: []\n" });

my $dir = "$root/logs";
my $upstream = sse_upstream($up, $dir);
END { kill 'TERM', $upstream if $upstream }

$nginx->start;

my $want = join '', map { "data: $_\n\n" } 0 .. $EVENTS - 1;

for my $case (['off', "/events/$EVENTS/$GAP", 'without recording'],
              ['rec', "/events/$EVENTS/$GAP", 'proxy_buffering off'],
              ['xa', "/events/$EVENTS/$GAP/xa", 'X-Accel-Buffering: no'],
              ['fb', "/events/$EVENTS/$GAP", 'fallback'])
{
    my ($loc, $path, $what) = @$case;
    unlink "$dir/last";

    my $r = stream_get($port, "/$loc$path");
    my $last = slurp("$dir/last");

    is($r->{body}, $want, "$what: the whole answer");
    is(scalar(@{ $r->{events} }), $EVENTS, "$what: in $EVENTS events");

    my $first = @{ $r->{events} } ? $r->{events}[0][0] : undef;
    ok(defined $first && $last && $first < $last - ($GAP / 1000) * 2,
       "$what: the first event came before the upstream sent the last")
        or diag(sprintf 'first at %.3f, last sent at %.3f',
                        $first // 0, $last || 0);

    my @g = gaps($r);
    my @bad = grep { $_ < $GAP / 2 } @g;
    is(scalar(@bad), 0, "$what: one event at a time")
        or diag(join ' ', map { sprintf '%.0f', $_ } @g);

    next if $loc eq 'off';

    my $yaml = slurp("$root/cassettes/$loc.yaml");
    (my $escaped = $want) =~ s/\n/\\n/g;
    like($yaml, qr/string: "\Q$escaped\E"/, "$what: recorded whole");
    my $chunks = () = $yaml =~ /- \{at: \d+, size: 9\}/g;
    is($chunks, $EVENTS, "$what: with its chunks");
}

is(scalar($nginx->log_lines(qr/\[(?:alert|crit|error)\]/)), 0,
   'no error in the log') or diag($nginx->error_log);

$nginx->stop;

done_testing();
