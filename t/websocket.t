# Connection upgrades (WebSocket) through mock locations.
#
#   - where a location proxies (record, new_episodes, fallback, once
#     while it records, a request switched to record), the handshake and
#     the frames pass through untouched: a masked text frame comes back
#     from the echo upstream; the cassette is not changed, not even by a
#     recording of the same path; $mock_status and the metrics say
#     "upgrade", and so does X-Mock on the 101;
#   - new_episodes proxies an upgrade even when a recording matches it;
#   - where a location replays (replay, once with recordings, a request
#     switched to replay), the answer is 501 with "X-Mock: replay;
#     upgrade", and nothing reaches the upstream;
#   - a plain request to the same location is recorded as before;
#   - "Upgrade: h2c" is mocked as any other request, and a 101 to it is
#     passed on, not recorded.
#
# The upstream is a small WebSocket echo server in Perl, started here;
# this file runs its own nginx under t/servroot-websocket/.

use strict;
use warnings;

use Test::More;
use FindBin;
use IO::Socket::INET;
use IO::Select;
use Digest::SHA qw(sha1 hmac_sha256_hex);
use MIME::Base64 qw(encode_base64);
use POSIX ();
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use MockTest qw(module_under_test server_port lock_run slurp write_file
                json_of);

my $module = module_under_test();

my $port = server_port(191);
my $up_port = server_port(192);
my $root = "$FindBin::Bin/servroot-websocket";
my $WAIT = 10;
my $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
my $SECRET = 'websocket-secret-0123456789';

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => $WAIT);


# The echo upstream: a WebSocket handshake and then every frame back
# (unmasked, as a server sends them); a plain request gets "plain <uri>".
# It counts the connections it upgraded in a file.

my $count_file = "$root/upgraded";

sub read_head {
    my ($s) = @_;
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread($s, my $buf, 4096);
        return unless $n;
        $head .= $buf;
    }
    return $head;
}

sub read_exactly {
    my ($s, $len, $pending) = @_;
    while (length($$pending) < $len) {
        my $n = sysread($s, my $buf, 65536);
        return unless $n;
        $$pending .= $buf;
    }
    return substr($$pending, 0, $len, '');
}

# one frame from $s: (opcode, payload), unmasked
sub read_frame {
    my ($s, $pending) = @_;
    my $h = read_exactly($s, 2, $pending) // return;
    my ($b0, $b1) = unpack 'CC', $h;
    my $len = $b1 & 0x7f;
    if ($len == 126) {
        $len = unpack 'n', read_exactly($s, 2, $pending) // return;
    } elsif ($len == 127) {
        my ($hi, $lo) = unpack 'NN', read_exactly($s, 8, $pending) // return;
        $len = $hi * 2**32 + $lo;
    }
    my $mask = ($b1 & 0x80) ? read_exactly($s, 4, $pending) : undef;
    my $data = $len ? read_exactly($s, $len, $pending) : '';
    return unless defined $data;
    if (defined $mask) {
        my @m = unpack 'C4', $mask;
        my $i = 0;
        $data = join '', map { chr(ord($_) ^ $m[$i++ % 4]) } split //, $data;
    }
    return ($b0 & 0x0f, $data, ($b1 & 0x80) ? 1 : 0);
}

sub frame {
    my ($opcode, $data, $mask) = @_;
    my $len = length $data;
    my $f = pack 'C', 0x80 | $opcode;
    my $m = $mask ? 0x80 : 0;
    $f .= $len < 126 ? pack('C', $m | $len) : pack('Cn', $m | 126, $len);
    if ($mask) {
        my @m = map { int rand 256 } 1 .. 4;
        $f .= pack 'C4', @m;
        my $i = 0;
        $data = join '', map { chr(ord($_) ^ $m[$i++ % 4]) } split //, $data;
    }
    return $f . $data;
}

sub serve_one {
    my ($c) = @_;
    my $head = read_head($c) // return;
    my ($uri) = $head =~ m{^\w+ (\S+)};

    if ($uri eq '/take-h2c') {
        # takes the h2c offer, then says nothing more
        print $c "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n"
                 . "Connection: Upgrade\r\n\r\n";
        sleep 0.3;
        return;
    }

    if ($head !~ /^Upgrade:\s*websocket\s*$/mi) {
        my $body = "plain $uri";
        print $c "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                 . "Content-Length: " . length($body) . "\r\n"
                 . "Connection: close\r\n\r\n$body";
        return;
    }

    my ($key) = $head =~ /^Sec-WebSocket-Key:\s*(\S+)\s*$/mi;
    my $accept = encode_base64(sha1(($key // '') . $GUID), '');

    open my $fh, '>>', $count_file;
    print $fh "$uri\n";
    close $fh;

    print $c "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             . "Connection: Upgrade\r\nSec-WebSocket-Accept: $accept\r\n\r\n";

    my $pending = '';
    while (1) {
        my ($op, $data, $masked) = read_frame($c, \$pending);
        last unless defined $op;
        # a client's frames are masked (RFC 6455 5.1): say so in the echo
        $data = "unmasked!" unless $masked;
        if ($op == 8) {
            print $c frame(8, $data);
            last;
        }
        print $c frame($op, $data);
    }
}

my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                   LocalPort => $up_port, Listen => 64,
                                   ReuseAddr => 1, Proto => 'tcp')
    or die "cannot listen on $up_port: $!";

my $upstream = fork // die "fork: $!";

if ($upstream == 0) {
    $SIG{CHLD} = 'IGNORE';
    while (my $c = $server->accept) {
        my $pid = fork;
        if (defined $pid && $pid == 0) {
            $c->autoflush(1);
            serve_one($c);
            close $c;
            POSIX::_exit(0);
        }
        close $c;
    }
    POSIX::_exit(0);
}

close $server;

END {
    local $?;
    if ($upstream) {
        kill 'KILL', $upstream;
        waitpid $upstream, 0;
    }
}


my $recorded = <<"EOF";
version: 1
interactions:
- request: {method: GET, uri: 'http://127.0.0.1:$up_port/ws', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: 'a recording of /ws'}
EOF

sub location {
    my ($name, $mode, $more) = @_;
    $more //= '';
    return <<"EOF";
        location /$name/ {
            proxy_pass http://127.0.0.1:$up_port/;
            mock_upstream http://127.0.0.1:$up_port/;
            mock_replay cassettes/$name.yaml;
            mock_mode $mode;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 5s;
            mock_repeats on;
            $more
        }
EOF
}

my $http = "http {\n"
    . "    log_format mock '\$uri \$status \$mock_status';\n"
    . "    access_log logs/access.log mock;\n"
    . "    server {\n"
    . "        listen 127.0.0.1:$port;\n"
    . location('rec', 'record')
    . location('ne', 'new_episodes')
    . location('fb', 'fallback')
    . location('once', 'once')
    . location('played', 'once')
    . location('rp', 'replay')
    . location('sw', 'replay', "mock_request_mode on;\n"
                             . "            mock_token_secret conf/secret;")
    . "        location /_mock { mock_admin; }\n"
    . "    }\n}\n";

$nginx->setup(files => { 'cassettes/ne.yaml' => $recorded,
                         'cassettes/fb.yaml' => $recorded,
                         'cassettes/played.yaml' => $recorded,
                         'cassettes/rp.yaml' => $recorded,
                         'cassettes/sw.yaml' => $recorded,
                         'conf/secret' => "$SECRET\n" },
              http => $http);
$nginx->start;


# A WebSocket client: the handshake, one masked text frame, its echo, a
# close.  Returns the 101's head, the echo, and the close's echo; or the
# answer when it is no 101.

sub websocket {
    my ($path, $headers, $text) = @_;
    $text //= 'hello through the mock';
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => $WAIT)
        or die "cannot connect: $!";
    $s->autoflush(1);
    my $key = encode_base64(join('', map { chr int rand 256 } 1 .. 16), '');
    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
             . "Connection: Upgrade\r\nSec-WebSocket-Key: $key\r\n"
             . "Sec-WebSocket-Version: 13\r\n" . ($headers // '') . "\r\n";

    my $sel = IO::Select->new($s);
    my $got = '';
    my $deadline = time + $WAIT;
    while ($got !~ /\r\n\r\n/ && time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread($s, my $buf, 4096);
        last unless $n;
        $got .= $buf;
    }
    my ($head, $rest) = split /\r\n\r\n/, $got, 2;
    $head //= '';
    my %res = (head => $head, key => $key);

    if ($head !~ m{^HTTP/1\.1 101 }) {
        # the rest of a plain answer
        while ($sel->can_read(1)) {
            my $n = sysread($s, my $buf, 4096);
            last unless $n;
            $rest .= $buf;
        }
        $res{body} = $rest;
        close $s;
        return \%res;
    }

    my $pending = $rest // '';
    print $s frame(1, $text, 1);
    my ($op, $data) = read_frame($s, \$pending);
    $res{opcode} = $op;
    $res{echo} = $data;
    print $s frame(8, pack('n', 1000) . 'bye', 1);
    ($op, $data) = read_frame($s, \$pending);
    $res{close} = $data;
    close $s;
    return \%res;
}

sub accept_of {
    my ($key) = @_;
    return encode_base64(sha1($key . $GUID), '');
}

sub upgraded {
    return scalar(() = slurp($count_file) =~ /\n/g);
}

sub token {
    my ($mode) = @_;
    my $expiry = int(time) + 300;
    return "$expiry." . hmac_sha256_hex("$mode\n\n$expiry", $SECRET);
}


# record: a plain request is recorded, an upgrade is not

my $r = $nginx->get('/rec/plain');
is($r->{content}, 'plain /plain', 'record: a plain request is proxied');
is($r->{headers}{"x-mock"}, "record", "record: X-Mock (the result is not known with the header)");

my $before = slurp("$root/cassettes/rec.yaml");
like($before, qr{uri: .*/plain}, 'record: the cassette has it');

my $ws = websocket('/rec/ws');
like($ws->{head}, qr{^HTTP/1\.1 101 }, 'record: 101 Switching Protocols')
    or diag($ws->{head} . ($ws->{body} // ''));
like($ws->{head}, qr{\r\nSec-WebSocket-Accept: \Q${\ accept_of($ws->{key})}\E(?:\r|$)}i,
     'record: the upstream\'s Sec-WebSocket-Accept');
like($ws->{head}, qr{\r\nUpgrade: websocket(?:\r|$)}i, 'record: Upgrade: websocket');
like($ws->{head}, qr{\r\nX-Mock: record; upgrade(?:\r|$)}, 'record: X-Mock says upgrade');
is($ws->{opcode}, 1, 'record: a text frame comes back');
is($ws->{echo}, 'hello through the mock', 'record: the echo of the masked frame');
is($ws->{close}, pack('n', 1000) . 'bye', 'record: the close is echoed');

# a second one, larger than a frame of one length byte
$ws = websocket('/rec/ws2', undef, 'x' x 3000);
is($ws->{echo}, 'x' x 3000, 'record: a 3000-byte frame echoed whole');

# the log line is written when the request ends, after the close
MockTest::wait_until($WAIT,
                     sub { slurp("$root/logs/access.log") =~ m{^/rec/ws2 }m });
is(slurp("$root/cassettes/rec.yaml"), $before,
   'record: the cassette is unchanged by the upgrades');
unlike($nginx->error_log, qr{not recorded|did not complete},
       'record: no warning about an unrecorded answer');


# "Upgrade: h2c" is an offer nginx ignores: mocked as any other request

$r = $nginx->get('/rp/ws', { headers => { 'Upgrade' => 'h2c',
                                          'Connection' => 'Upgrade, HTTP2-Settings',
                                          'HTTP2-Settings' => 'AAMAAABkAARAAAAAAAIAAAAA' } });
is($r->{status}, 200, 'Upgrade: h2c in replay: answered from the recording');
is($r->{headers}{'x-mock'}, 'replay; hit', 'Upgrade: h2c in replay: a hit');

$r = $nginx->get('/rec/h2c', { headers => { 'Upgrade' => 'h2c',
                                            'Connection' => 'Upgrade, HTTP2-Settings' } });
is($r->{content}, 'plain /h2c', 'Upgrade: h2c in record: proxied');
MockTest::wait_until($WAIT, sub { slurp("$root/cassettes/rec.yaml") =~ m{/h2c} });
like(slurp("$root/cassettes/rec.yaml"), qr{uri: .*/h2c},
     'Upgrade: h2c in record: recorded as the upstream answered it');
$before = slurp("$root/cassettes/rec.yaml");

# an upstream that takes the offer: its 101 is passed on, not recorded
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => $WAIT)
        or die "cannot connect: $!";
    print $s "GET /rec/take-h2c HTTP/1.1\r\nHost: localhost\r\n"
             . "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n";
    my $got = '';
    my $sel = IO::Select->new($s);
    while ($got !~ /\r\n\r\n/ && $sel->can_read($WAIT)) {
        last unless sysread($s, my $buf, 4096);
        $got .= $buf;
    }
    like($got, qr{^HTTP/1\.1 101 }, 'h2c taken by the upstream: its 101 passes');
    close $s;
}
MockTest::wait_until($WAIT,
                     sub { slurp("$root/logs/access.log") =~ m{^/rec/take-h2c }m });
like(slurp("$root/logs/access.log"), qr{^/rec/take-h2c 101 upgrade$}m,
     'h2c taken by the upstream: $mock_status says upgrade');
is(slurp("$root/cassettes/rec.yaml"), $before, 'h2c taken: nothing recorded');


# new_episodes: a recording of /ws matches, yet the upgrade is proxied

my $ne = slurp("$root/cassettes/ne.yaml");
$r = $nginx->get('/ne/ws');
is($r->{content}, 'a recording of /ws', 'new_episodes: a plain request is replayed');
$ws = websocket('/ne/ws');
is($ws->{echo}, 'hello through the mock', 'new_episodes: the upgrade is proxied and echoes');
like($ws->{head}, qr{\r\nX-Mock: new_episodes; upgrade(?:\r|$)},
     'new_episodes: X-Mock says upgrade');
$ws = websocket('/ne/other');
is($ws->{echo}, 'hello through the mock', 'new_episodes: an unrecorded path too');


# fallback and once (empty: it records)

my $fb = slurp("$root/cassettes/fb.yaml");
$ws = websocket('/fb/ws');
is($ws->{echo}, 'hello through the mock', 'fallback: proxied, echoed');
like($ws->{head}, qr{\r\nX-Mock: fallback; upgrade(?:\r|$)}, 'fallback: X-Mock');

$ws = websocket('/once/ws');
is($ws->{echo}, 'hello through the mock', 'once (empty cassette): proxied, echoed');
like($ws->{head}, qr{\r\nX-Mock: record; upgrade(?:\r|$)}, 'once: X-Mock');


# replaying: 501, nothing upstream

my $n = upgraded();

for my $case (['rp', 'replay'], ['played', 'once (with recordings)']) {
    $ws = websocket("/$case->[0]/ws");
    like($ws->{head}, qr{^HTTP/1\.1 501 }, "$case->[1]: 501");
    like($ws->{head}, qr{\r\nX-Mock: replay; upgrade(?:\r|$)}, "$case->[1]: X-Mock");
    like($ws->{body} // '', qr{does not upgrade connections}, "$case->[1]: why");
    is($nginx->get("/$case->[0]/ws")->{content}, 'a recording of /ws',
       "$case->[1]: a plain request is replayed");
}

is(upgraded(), $n, 'replaying: no upgrade reached the upstream');


# switched per request

$ws = websocket('/sw/ws', "X-Mock-Mode: record\r\nX-Mock-Token: " . token('record') . "\r\n");
is($ws->{echo}, 'hello through the mock', 'switched to record: proxied, echoed');
like($ws->{head}, qr{\r\nX-Mock: record; upgrade(?:\r|$)}, 'switched to record: X-Mock');

$ws = websocket('/sw/ws');
like($ws->{head}, qr{^HTTP/1\.1 501 }, 'not switched (replay): 501');

$ws = websocket('/sw/ws', "X-Mock-Mode: record\r\n");
like($ws->{head}, qr{^HTTP/1\.1 403 }, 'switched without a token: 403');

is(upgraded(), $n + 1, 'the switched upgrade alone reached the upstream');


# counted, and no cassette changed

is(slurp("$root/cassettes/rec.yaml"), $before,
   'record: the cassette is unchanged by the later upgrades');

MockTest::wait_until($WAIT,
                     sub { slurp("$root/logs/access.log") =~ m{^/sw/ws 403 }m });

my $log = slurp("$root/logs/access.log");
like($log, qr{^/rec/ws 101 upgrade$}m, '$mock_status: upgrade (record)');
like($log, qr{^/fb/ws 101 upgrade$}m, '$mock_status: upgrade (fallback)');
like($log, qr{^/rp/ws 501 upgrade$}m, '$mock_status: upgrade (replay, 501)');

my $m = json_of($nginx->get('/_mock/metrics'));
my %up = map { $_->{location} => $_->{upgrade} } @{ $m->{locations} };
is($up{'/rec/'}, 3, 'metrics: upgrades of /rec/ (two WebSockets, one h2c taken)');
is($up{'/ne/'}, 2, 'metrics: upgrades of /ne/');
is($up{'/rp/'}, 1, 'metrics: upgrades of /rp/');

is(slurp("$root/cassettes/ne.yaml"), $ne, 'new_episodes: the cassette is unchanged');
is(slurp("$root/cassettes/fb.yaml"), $fb, 'fallback: the cassette is unchanged');
my $once = slurp("$root/cassettes/once.yaml");
unlike($once, qr{uri:}, 'once: nothing recorded');

unlike($nginx->error_log, qr{\[(?:alert|crit|emerg)\]}, 'no alert in the error log');

$nginx->stop;

done_testing();
