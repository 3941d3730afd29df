# Two workers answer from the zone while admin reloads keep replacing the
# cassettes under them.
#
# Forked clients fetch the interactions of a cassette over and over;
# meanwhile the cassette file is rewritten with bodies of another letter
# and reloaded through the admin API, again and again.  Every answer must
# be whole: the right length, one letter only, one of the loads; no worker
# may crash or log an alert.
#
# This file runs its own nginx under t/servroot-reload-race/.

use strict;
use warnings;

use Test::More;
use FindBin;
use HTTP::Tiny;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file start_clients);

skip_under_valgrind('races between workers need nginx at full speed, not '
                    . 'under valgrind');

my $module = module_under_test();

my $port = server_port(53);
my $root = "$FindBin::Bin/servroot-reload-race";
my $conf = "$root/conf/nginx.conf";
my $file = "$root/cassettes/r.yaml";

my $WAIT    = 20;
my $SIZE    = 20000;
my $PATHS   = 20;
my $CLIENTS = 4;
my $RELOADS = 100;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT,
                                 workers => 2);

$nginx->fresh_root('conf', 'logs', 'cassettes', 'answers');

write_file($file, cassette('A'));
write_file($conf, $nginx->conf_head . <<"EOF");
http {
    access_log off;
    mock_zone zone=mock:64m;

    server {
        listen 127.0.0.1:$port;

        location /r/ {
            mock_replay cassettes/r.yaml;
            mock_repeats on;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF

$nginx->start;

# The clients stop when this file appears.
my $stop = "$root/answers/stop";

my @pids = start_clients("$root/answers", $CLIENTS, sub {
    my ($i, $out) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 1, timeout => $WAIT);
    my ($n, $bad) = (0, 0);
    until (-e $stop) {
        my $p = 1 + int rand $PATHS;
        my $r = $http->get("http://127.0.0.1:$port/r/$p");
        my $body = $r->{content} // '';
        my $c = substr($body, 0, 1);
        $n++;
        if ($r->{status} != 200 || length($body) != $SIZE
            || $c !~ /^[A-Z]$/ || $body ne $c x $SIZE)
        {
            $bad++;
            print {$out} "bad $r->{status} " . length($body) . "\n";
        }
    }
    print {$out} "answers $n bad $bad\n";
});

my @letters = ('B' .. 'Z');
my @status;

for my $k (1 .. $RELOADS) {
    write_file("$file.new", cassette($letters[$k % @letters]));
    rename "$file.new", $file or die "rename: $!";
    push @status, $nginx->post('/_mock/reload')->{status};
}

write_file($stop, '');
waitpid $_, 0 for @pids;

is(scalar(grep { $_ == 200 } @status), $RELOADS,
   "$RELOADS admin reloads, each answered 200");

my ($answers, $bad) = (0, 0);

for my $i (0 .. $CLIENTS - 1) {
    my $text = slurp("$root/answers/$i");
    my ($n, $b) = $text =~ /^answers (\d+) bad (\d+)$/m;
    $answers += $n // 0;
    $bad += $b // 1;
}

ok($answers > $CLIENTS, "the clients got answers meanwhile ($answers)");
is($bad, 0, 'every answer was whole and from one load of the cassette');

my $last = $letters[$RELOADS % @letters];
my $r = $nginx->get('/r/1');
ok($r->{status} == 200 && $r->{content} eq $last x $SIZE,
   'the last load answers');

my $log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/,
       'no worker crashed and no alert was logged');

$nginx->stop;

done_testing();


sub cassette {
    my ($c) = @_;
    my $body = $c x $SIZE;
    my $yaml = "version: 1\ninteractions:\n";
    for my $p (1 .. $PATHS) {
        $yaml .= <<"EOF";
- request:
    method: GET
    uri: http://svc.test/r/$p
    body: null
    headers: {}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [text/plain]
    body: {string: '$body'}
EOF
    }
    return $yaml;
}
