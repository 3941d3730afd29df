# What is recorded is what the upstream answered and the client got, or
# nothing.
#
# The upstream is a small HTTP server in this file, so that it can send
# what nginx never sends: no "Server" and "Date" headers, a header name
# with a space, a body shorter than its Content-Length, a chunked body
# cut off, a body or a header that stops coming.  nginx records through
# proxy_pass into one cassette, and then:
#
#   - an answer without "Server" and "Date" is recorded without them, and
#     its replay has no empty header lines;
#   - an invalid header, a header too big for proxy_buffer_size, a header
#     that stops coming: nginx answers 502 or 504 itself, and nothing is
#     recorded, with a warning;
#   - a body cut short (Content-Length, chunked) or that stops coming
#     (proxy_read_timeout): nothing is recorded, with a warning;
#   - proxy_intercept_errors with an error_page that redirects: the
#     client gets nginx's redirect, and nothing is recorded;
#   - a subrequest (an SSI include of the recording location): nothing is
#     recorded for it;
#   - the complete answers, with a Content-Length or chunked, are
#     recorded once each.
#
# This file runs its own nginx under t/servroot-record-upstream/.

use strict;
use warnings;

use Test::More;
use FindBin;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test skip_without_python
                server_port lock_run slurp write_file split_items complete
                yaml_count);

skip_under_valgrind('this file runs its own nginx, not under valgrind');

my $module = module_under_test();

skip_without_python('import yaml',
                    'with PyYAML is needed to check the cassette '
                    . '(Debian: apt-get install python3-yaml)');

my $port     = server_port(26);
my $up_port  = server_port(27);
my $root     = "$FindBin::Bin/servroot-record-upstream";
my $conf     = "$root/conf/nginx.conf";
my $cassette = "$root/html/rec.yaml";
my $upstream = "http://127.0.0.1:$up_port";

my $WAIT = 10;   # seconds to wait for nginx to start, stop, answer

# What the upstream sends for each path: the bytes, and then how many
# seconds it keeps the connection open without sending more.
my %ANSWER = (
    '/ok'          => [ "HTTP/1.1 200 OK\r\nServer: up\r\nDate: today\r\n"
                        . "Content-Length: 3\r\n\r\nok\n" ],
    '/chunked'     => [ "HTTP/1.1 200 OK\r\nServer: up\r\n"
                        . "Transfer-Encoding: chunked\r\n\r\n"
                        . "5\r\nchunk\r\n3\r\ned\n\r\n0\r\n\r\n" ],
    '/bare'        => [ "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                        . "X-Up: bare\r\nContent-Length: 5\r\n\r\nbare\n" ],
    '/invalid'     => [ "HTTP/1.1 200 OK\r\nX A: v\r\n"
                        . "Content-Length: 3\r\n\r\nno\n" ],
    '/huge'        => [ "HTTP/1.1 200 OK\r\nX-Big: " . ('b' x 9000)
                        . "\r\nContent-Length: 3\r\n\r\nno\n" ],
    '/head-stall'  => [ "HTTP/1.1 200 OK\r\nX-Slow: 1\r\n", 3 ],
    '/short'       => [ "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                        . "only a part" ],
    '/chunked-cut' => [ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                        . "\r\n\r\n5\r\nchunk\r\n" ],
    '/body-stall'  => [ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
                        . "half", 3 ],
    '/error'       => [ "HTTP/1.1 500 Internal Server Error\r\n"
                        . "Content-Length: 5\r\n\r\nboom\n" ],
);

# A second run of this file waits for this one to finish.
my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'html');

write_file("$root/html/page.html",
           "before <!--# include virtual=\"/api/ok\" --> after\n");

my $server = start_upstream();

END {
    if (defined $server && $server > 0) {
        kill 'TERM', $server;
        waitpid $server, 0;
    }
}

write_file($conf, $nginx->conf_head . <<"EOF");
http {
    access_log off;

    server {
        listen 127.0.0.1:$port;

        location /api/ {
            proxy_pass $upstream/;
            proxy_read_timeout 1s;
            mock_upstream $upstream/;
            mock_replay html/rec.yaml;
            mock_mode record;
        }

        location /intercept/ {
            proxy_pass $upstream/;
            proxy_intercept_errors on;
            error_page 500 http://elsewhere.example/sorry;
            mock_upstream $upstream/;
            mock_replay html/rec.yaml;
            mock_mode record;
        }

        location /play/ {
            mock_replay html/rec.yaml;
            mock_upstream $upstream/;
            mock_repeats on;
        }

        location = /page.html {
            ssi on;
            root html;
        }
    }
}
EOF

$nginx->start;

my %got;
for my $path (qw(/ok /chunked /bare /invalid /huge /head-stall /short
                 /chunked-cut /body-stall))
{
    $got{$path} = raw_get("/api$path");
}
$got{'/intercepted'} = raw_get('/intercept/error');
$got{'/page'} = raw_get('/page.html', '1.0');

like($got{'/ok'}, qr{^HTTP/1\.1 200 .*\r\n\r\nok\n\z}s, 'the plain answer');
like($got{'/chunked'}, qr{^HTTP/1\.1 200 .*\r\n\r\n8\r\nchunked\n\r\n0\r\n\r\n\z}s,
     'the chunked answer');
like($got{'/bare'}, qr{^HTTP/1\.1 200 .*\r\n\r\nbare\n\z}s,
     'the answer without Server and Date');
like($got{'/invalid'}, qr{^HTTP/1\.1 502 }, 'an invalid header: nginx answers 502');
like($got{'/huge'}, qr{^HTTP/1\.1 502 }, 'a header too big: nginx answers 502');
like($got{'/head-stall'}, qr{^HTTP/1\.1 504 },
     'a header that stops coming: nginx answers 504');
like($got{'/intercepted'},
     qr{^HTTP/1\.1 302 .*^Location: http://elsewhere\.example/sorry\r$}sm,
     'an intercepted error: the client gets the redirect of error_page');
like($got{'/page'}, qr{\r\n\r\n.*before ok\n after\n}s,
     'the page includes the recording location');

# The cut-off bodies reach the client cut off.
like($got{'/short'}, qr{\r\n\r\nonly a part\z},
     '/short comes as far as the upstream sent it');
like($got{'/chunked-cut'}, qr{\r\n\r\n5\r\nchunk\r\n\z},
     '/chunked-cut comes without its last chunk');
unlike($got{'/body-stall'}, qr{\r\n\r\n.{10}\z}s,
       '/body-stall does not come whole');

# Replayed: the recorded headers only, no empty ones.
my $raw = raw_get('/play/bare');
like($raw, qr{^HTTP/1\.1 200 OK\r\n}, 'the answer without Server and Date '
     . 'replays');
like($raw, qr{^X-Up: bare\r$}m, 'with its own header');
unlike($raw, qr{^(?:Server|Date): *\r$}m, 'and no empty Server or Date line')
    or diag($raw);

$nginx->stop;

my $log = $nginx->error_log;
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/, 'no worker crashed');

for my $x ([ '/invalid', qr/nginx answered 502 in place of the upstream's 200/ ],
           [ '/huge', qr/nginx answered 502 in place of the upstream's 200/ ],
           [ '/head-stall',
             qr/nginx answered 504 in place of the upstream's 200/ ],
           [ '/short', qr/the response did not complete/ ],
           [ '/chunked-cut', qr/the response did not complete/ ],
           [ '/body-stall', qr/the response did not complete/ ])
{
    my ($path, $why) = @$x;
    like($log, qr/mock: "GET \/api\Q$path\E" is not recorded: $why/,
         "$path is reported as not recorded");
}
my $intercepted = 'mock: "GET /intercept/error" is not recorded: '
                  . "nginx answered 302 in place of the upstream's 500";
like($log, qr/\Q$intercepted\E/,
     'the intercepted error is reported as not recorded');

my $text = slurp($cassette);
my @uris = $text =~ /^    uri: "(.*)"$/mg;
is_deeply(\@uris, [ "$upstream/ok", "$upstream/chunked", "$upstream/bare" ],
          'only the complete answers are recorded, once each')
    or diag($text);
is(yaml_count($cassette), '1 3', 'PyYAML loads the cassette');

my ($head, @items) = split_items($text);
my ($bare) = grep { m{^    uri: ".*/bare"$}m } @items;
$bare //= '';
unlike($bare, qr/"(?:Server|Date)":/,
       'no Server or Date header is recorded for the answer without them')
    or diag($bare);
like($bare, qr/^      "X-Up":\n      - "bare"$/m, 'its own header is');
my ($ok) = grep { m{^    uri: ".*/ok"$}m } @items;
like($ok // '', qr/^      "Server":\n      - "up"\n      "Date":\n      - "today"$/m,
     'the Server and Date an upstream sends are recorded');
my ($chunked) = grep { m{^    uri: ".*/chunked"$}m } @items;
like($chunked // '', qr/^      string: "chunked\\n"$/m,
     'the chunked body is recorded whole');

ok(!$nginx->masters_of_this_root, 'nginx stopped');

done_testing();


# The upstream: a process that answers each connection in a child of its
# own, so that a stalled answer holds up no other.
sub start_upstream {
    my $listen = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$up_port",
                                       Listen => 64, ReuseAddr => 1)
        or die "cannot listen on $up_port: $!";

    my $pid = fork() // die "fork: $!";
    if ($pid) {
        close $listen;
        return $pid;
    }

    $SIG{CHLD} = 'IGNORE';
    $SIG{TERM} = sub { POSIX::_exit(0) };

    while (my $c = $listen->accept) {
        my $kid = fork();
        if (defined $kid && $kid == 0) {
            close $listen;
            answer($c);
            POSIX::_exit(0);
        }
        close $c;
    }
    POSIX::_exit(0);
}

sub answer {
    my ($c) = @_;
    my $req = '';
    while ($req !~ /\r\n\r\n/) {
        my $n = sysread $c, $req, 4096, length $req;
        return if !$n;
    }
    my ($path) = $req =~ m{^\S+ (\S+)};
    my $a = $ANSWER{$path} // [ "HTTP/1.1 404 Not Found\r\n"
                                . "Content-Length: 0\r\n\r\n" ];
    syswrite $c, $a->[0];
    sleep $a->[1] if $a->[1];
    close $c;
}

# The answer to GET $path (in HTTP/$version, 1.1 by default), as the
# bytes nginx sent.
sub raw_get {
    my ($path, $version) = @_;
    $version //= '1.1';
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => $WAIT)
        or return '';
    print {$s} "GET $path HTTP/$version\r\nHost: localhost\r\n"
               . "Connection: close\r\n\r\n";
    local $/;
    return scalar <$s> // '';
}
