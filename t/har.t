# HTTP Archives: scripts/har2cassette and scripts/cassette2har.
#
# The HAR files under t/fixtures/har/ are shaped as Chrome, Firefox,
# mitmproxy and Charles export them.  Each one is converted to a
# cassette, which PyYAML and vcrpy load; what the cassettes hold is
# checked entry by entry (pseudo-headers dropped, repeated headers
# grouped, decoded bodies without their Content-Encoding, base64 bodies
# as !!binary, timings and the start time in x_mock, skipped entries
# said on stderr).  Each cassette goes to a HAR and back to the same
# cassette, and that HAR, and those made of t/fixtures/vcrpy-sample.yaml
# and of a cassette this nginx records, are valid HAR 1.2.
#
# The Chrome and Firefox cassettes are then replayed by nginx
# (mock_replay on their directory): status, headers and bodies, a PNG
# sent as base64 in the HAR and a gzip body among them.  vcrpy replays
# the Chrome cassette to python3-requests.
#
# Input that is not a HAR or a cassette the reader takes ends with exit
# status 1 and a message naming the file and where.
#
# This file runs its own nginx under t/servroot-har/.

use strict;
use warnings;

use Test::More;
use FindBin;
use Encode ();
use HTTP::Tiny;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP ();
use MIME::Base64 qw(decode_base64);

use lib "$FindBin::Bin/lib";
use MockTest qw(PYTHON skip_under_valgrind module_under_test
                skip_without_python server_port lock_run slurp write_file
                run_cmd);

skip_under_valgrind('this file runs its own nginx, not under valgrind');

my $module = module_under_test();

skip_without_python('import yaml, vcr, requests',
                    'cannot import yaml, vcr and requests, needed to check '
                    . 'the cassettes (Debian: apt-get install python3-yaml '
                    . 'python3-vcr python3-requests)');

my $H2C  = "$FindBin::Bin/../scripts/har2cassette";
my $C2H  = "$FindBin::Bin/../scripts/cassette2har";
my $FIX  = "$FindBin::Bin/fixtures/har";
my $port = server_port(171);
my $root = "$FindBin::Bin/servroot-har";
my $work = "$root/work";

my $JSON = JSON::PP->new->canonical->allow_nonref;

# A second run of this file waits for this one to finish.
my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, wait => 10);
$nginx->fresh_root('conf', 'logs', 'html/cassettes', 'html/bin', 'work');


#---------------------------------------------------------------------------
# Helpers
#---------------------------------------------------------------------------

# A cassette as PyYAML reads it, as JSON: bytes become {"binary": base64}.
write_file("$work/dump.py", <<'PY');
import base64, json, sys
import yaml

def plain(v):
    if isinstance(v, bytes):
        return {"binary": base64.b64encode(v).decode()}
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v

with open(sys.argv[1], "rb") as f:
    print(json.dumps(plain(yaml.safe_load(f))))
PY

# What vcrpy loads of a cassette: its interactions' status codes.
write_file("$work/vcrload.py", <<'PY');
import json, sys
import vcr

with vcr.VCR(record_mode="none").use_cassette(sys.argv[1]) as cass:
    print(json.dumps([r["status"]["code"] for _, r in cass.data]))
PY

# vcrpy replays the Chrome cassette to requests.
write_file("$work/vcrplay.py", <<'PY');
import base64, json, sys
import requests
import vcr

out = {}
with vcr.VCR(record_mode="none").use_cassette(sys.argv[1]) as cass:
    r = requests.get("https://shop.example.com/api/products?page=2&sort=price")
    out["products"] = [r.status_code, r.text]
    r = requests.get("https://shop.example.com/img/logo.png")
    out["logo"] = [r.status_code, base64.b64encode(r.content).decode()]
    r = requests.get("https://shop.example.com/api/report?week=47")
    out["report"] = [r.status_code, r.text]
    r = requests.post("https://shop.example.com/api/cart",
                      data=b'{"product":7,"quantity":2}')
    out["cart"] = [r.status_code, r.headers.get("location")]
print(json.dumps(out))
PY

sub run {
    my ($rc, $out, $err) = run_cmd(@_);
    return ($rc >> 8, $out, $err);
}

sub yaml_of {
    my ($file) = @_;
    my ($rc, $out, $err) = run(PYTHON, "$work/dump.py", $file);
    return $rc == 0 ? $JSON->decode($out) : do { diag($err); undef };
}

sub binary {
    my ($v) = @_;
    return ref $v eq 'HASH' && defined $v->{binary}
           ? decode_base64($v->{binary}) : undef;
}

# The interaction whose request is this method and URL.
sub find_it {
    my ($cassette, $method, $uri) = @_;
    my ($it) = grep { $_->{request}{method} eq $method
                      && $_->{request}{uri} eq $uri }
               @{ $cassette->{interactions} // [] };
    return $it // {};
}

sub header_of {
    my ($headers, $name) = @_;
    for my $k (keys %{ $headers // {} }) {
        return $headers->{$k} if lc $k eq lc $name;
    }
    return undef;
}

# A JSON number, not a string that looks like one.
sub is_number {
    my ($v) = @_;
    return defined $v && !ref $v && $JSON->encode($v) =~ /^-?[0-9]/;
}

sub is_string {
    my ($v) = @_;
    return defined $v && !ref $v && $JSON->encode($v) =~ /^"/;
}

sub name_values {
    my ($list, $where) = @_;
    return ("$where is not an array") unless ref $list eq 'ARRAY';
    my @p;
    for my $i (0 .. $#$list) {
        my $x = $list->[$i];
        push @p, "$where\[$i] has no name and value"
            unless ref $x eq 'HASH' && is_string($x->{name})
                   && is_string($x->{value});
    }
    return @p;
}

# What makes a HAR not HAR 1.2: a list of problems, empty when valid.
sub har_problems {
    my ($har) = @_;
    my $log = ref $har eq 'HASH' ? $har->{log} : undef;
    return ('no "log" object') unless ref $log eq 'HASH';
    my @p;
    push @p, 'log.version is not "1.2"' unless ($log->{version} // '') eq '1.2';
    push @p, 'log.creator has no name and version'
        unless ref $log->{creator} eq 'HASH'
               && is_string($log->{creator}{name})
               && is_string($log->{creator}{version});
    return (@p, 'log.entries is not an array')
        unless ref $log->{entries} eq 'ARRAY';
    my $i = 0;
    for my $e (@{ $log->{entries} }) {
        my $w = 'entry ' . $i++;
        push @p, "$w: startedDateTime"
            unless is_string($e->{startedDateTime})
                   && $e->{startedDateTime} =~ /\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d
                                                (\.\d+)?(Z|[+-]\d\d:\d\d)\z/x;
        push @p, "$w: time" unless is_number($e->{time}) && $e->{time} >= 0;
        my $q = $e->{request};
        if (ref $q ne 'HASH') {
            push @p, "$w: no request";
            next;
        }
        push @p, map { is_string($q->{$_}) ? () : "$w: request.$_" }
                     qw(method url httpVersion);
        push @p, map { name_values($q->{$_}, "$w: request.$_") }
                     qw(headers queryString cookies);
        push @p, map { is_number($q->{$_}) ? () : "$w: request.$_" }
                     qw(headersSize bodySize);
        if (exists $q->{postData}) {
            my $d = $q->{postData};
            push @p, "$w: request.postData"
                unless ref $d eq 'HASH' && is_string($d->{mimeType})
                       && (is_string($d->{text})
                           || ref $d->{params} eq 'ARRAY');
        }
        my $r = $e->{response};
        if (ref $r ne 'HASH') {
            push @p, "$w: no response";
            next;
        }
        push @p, "$w: response.status" unless is_number($r->{status});
        push @p, map { is_string($r->{$_}) ? () : "$w: response.$_" }
                     qw(statusText httpVersion redirectURL);
        push @p, map { name_values($r->{$_}, "$w: response.$_") }
                     qw(headers);
        push @p, "$w: response.cookies" unless ref $r->{cookies} eq 'ARRAY';
        push @p, map { is_number($r->{$_}) ? () : "$w: response.$_" }
                     qw(headersSize bodySize);
        my $c = $r->{content};
        push @p, "$w: response.content"
            unless ref $c eq 'HASH' && is_number($c->{size})
                   && is_string($c->{mimeType})
                   && (!exists $c->{text} || is_string($c->{text}))
                   && (!exists $c->{encoding} || is_string($c->{encoding}));
        push @p, "$w: cache" unless ref $e->{cache} eq 'HASH';
        my $t = $e->{timings};
        if (ref $t ne 'HASH') {
            push @p, "$w: no timings";
            next;
        }
        push @p, map { is_number($t->{$_}) && $t->{$_} >= 0
                       ? () : "$w: timings.$_" } qw(send wait receive);
        push @p, map { !exists $t->{$_}
                       || (is_number($t->{$_}) && $t->{$_} >= -1)
                       ? () : "$w: timings.$_" } qw(blocked dns connect ssl);
    }
    return @p;
}

# cassette2har of a cassette, checked to be valid HAR; the HAR decoded.
sub to_har {
    my ($cassette, $har_file, $name) = @_;
    my ($rc, $out, $err) = run($C2H, '--output', $har_file, $cassette);
    is($rc, 0, "$name: cassette2har exits 0") or diag($err);
    my $har = eval { JSON::PP->new->utf8->decode(slurp($har_file)) };
    my @p = har_problems($har);
    ok(!@p, "$name: the HAR is valid HAR 1.2") or diag(join "\n", @p);
    return $har;
}

my %DATA = (
    products => '{"page":2,"items":[{"id":7,"name":"'
                . Encode::encode('UTF-8', "Cr\x{e8}me br\x{fb}l\x{e9}e torch")
                . '","price":"24.00"},{"id":9,"name":"Whisk","price":"3.50"}]}',
    png      => decode_base64('iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAYAAACp8Z5+'
                . 'AAAALklEQVR4nBXIMQEAIBDEsJODCEScnI6Iwh/0hyxJct5ShZJtqGJPYKi'
                . 'CiWuoQh/9aSFRMdePuwAAAABJRU5ErkJggg=='),
    report   => '{"report":"weekly","orders":[{"id":101,"total":"19.90"},'
                . '{"id":102,"total":"5.00"}],"complete":true}',
    cart     => '{"item":31,"product":7,"quantity":2}',
);

my $SHOP = 'https://shop.example.com';


#---------------------------------------------------------------------------
# Each HAR to a cassette that PyYAML and vcrpy load
#---------------------------------------------------------------------------

my %cassette;

for my $x (['chrome',    6, [200, 200, 200, 201, 302, 204],
            [qr/^har2cassette: 1 entries served from the browser cache \(_fromCache\) skipped$/m,
             qr/^har2cassette: 1 aborted entries \(status 0\) skipped$/m]],
           ['firefox',   4, [303, 200, 202, 200],
            [qr/^har2cassette: 1 request bodies not in the HAR \(postData without text\), left empty$/m,
             qr/^har2cassette: 1 response bodies not in the HAR/m]],
           ['mitmproxy', 3, [200, 200, 409],
            [qr/^har2cassette: 1 entries with a status outside 200-999/m]],
           ['charles',   3, [200, 301, 204],
            [qr/^har2cassette: 1 aborted entries \(status 0\) skipped$/m]]) {
    my ($name, $count, $codes, $notes) = @$x;
    my $file = "$work/$name.yaml";
    my ($rc, $out, $err) = run($H2C, '--output', $file, "$FIX/$name.har");
    is($rc, 0, "$name: har2cassette exits 0") or diag($err);
    like($err, $_, "$name: stderr says what was skipped") for @$notes;

    my $c = yaml_of($file);
    is($c->{version}, 1, "$name: PyYAML loads the cassette, version 1");
    is(scalar @{ $c->{interactions} // [] }, $count,
       "$name: $count interactions");
    $cassette{$name} = $c;

    ($rc, $out, $err) = run(PYTHON, "$work/vcrload.py", $file);
    is($rc, 0, "$name: vcrpy loads the cassette") or diag($err);
    is_deeply(eval { $JSON->decode($out) }, $codes,
              "$name: vcrpy has its interactions, in order");

    my @pseudo = grep { /^:/ } map { keys %{ $_->{request}{headers} },
                                     keys %{ $_->{response}{headers} } }
                 @{ $c->{interactions} };
    is("@pseudo", '', "$name: no HTTP/2 pseudo-header");
}

# Odd entries: an offset without its colon, a header the module would
# refuse, a lone surrogate, a timing too small to keep, URLs to skip.
{
    write_file("$work/odd.har", <<'EOF');
{"log": {"entries": [
 {"startedDateTime": "2026-11-21T20:05:10.331+1100",
  "request": {"method": "POST", "url": "http://a.example/x#part",
              "headers": [{"name": "X-Ok", "value": "a\u0001b"},
                          {"name": "Bad Name", "value": "x"},
                          {"name": "X-Kept", "value": "k"}],
              "postData": {"mimeType": "text/plain", "text": "b\udc00"}},
  "response": {"status": 200, "statusText": "", "headers": null,
               "content": {"text": "ok"}},
  "timings": {"send": -1, "wait": 1e-07, "receive": 3.00049}},
 {"startedDateTime": "yesterday",
  "request": {"method": "GET", "url": "ws://a.example/socket"},
  "response": {"status": 200}},
 {"request": {"method": "GET", "url": "http://a.example/a b"},
  "response": {"status": 200}}]}}
EOF
    my ($rc, $out, $err) = run($H2C, '--output', "$work/odd.yaml",
                               "$work/odd.har");
    is($rc, 0, 'odd entries: har2cassette exits 0') or diag($err);
    like($err, qr/^har2cassette: 2 headers left out: /m,
         'odd entries: two headers left out');
    like($err, qr/^har2cassette: 1 entries whose URL is not http or https skipped$/m,
         'odd entries: the ws:// URL skipped');
    like($err, qr/^har2cassette: 1 entries whose URL has white space/m,
         'odd entries: the URL with a space skipped');
    my $c = yaml_of("$work/odd.yaml");
    my $it = $c->{interactions}[0] // {};
    is($it->{request}{uri}, 'http://a.example/x', 'odd entries: no fragment');
    is_deeply($it->{request}{headers}, { 'X-Kept' => ['k'] },
              'odd entries: only the header the module takes');
    is(binary($it->{request}{body}), "b\xed\xb0\x80",
       'odd entries: a lone surrogate makes a !!binary body');
    is_deeply($it->{x_mock}, { recorded => '2026-11-21T20:05:10.331+11:00',
                               timing => { receive => 3 } },
              'odd entries: the offset gets its colon, timings are rounded');
    ($rc, $out, $err) = run($C2H, "$work/odd.yaml");
    is($rc, 0, 'odd entries: cassette2har reads it back') or diag($err);
}

# --prefix, and standard output
{
    my ($rc, $out, $err) = run($H2C, '--prefix', "$SHOP/api/",
                               "$FIX/chrome.har");
    is($rc, 0, '--prefix: exits 0') or diag($err);
    my @uris = $out =~ /^    uri: "(.*)"$/mg;
    is_deeply(\@uris, [ "$SHOP/api/products?page=2&sort=price",
                        "$SHOP/api/report?week=47", "$SHOP/api/cart" ],
              '--prefix: only the entries under it, on standard output');
    unlike($err, qr/_fromCache/,
           '--prefix: entries outside it are not counted as skipped');
}


#---------------------------------------------------------------------------
# What the cassettes hold
#---------------------------------------------------------------------------

{
    my $c = $cassette{chrome};

    my $p = find_it($c, 'GET', "$SHOP/api/products?page=2&sort=price");
    is($p->{response}{body}{string}, Encode::decode('UTF-8', $DATA{products}),
       'chrome: the decoded JSON body as text');
    ok(!defined header_of($p->{response}{headers}, 'content-encoding')
       && !defined header_of($p->{response}{headers}, 'content-length'),
       'chrome: a decoded gzip body without Content-Encoding and '
       . 'Content-Length');
    is_deeply(header_of($p->{response}{headers}, 'vary'),
              ['Accept-Encoding', 'Origin'],
              'chrome: a repeated header is one list, in order');
    is($p->{response}{status}{message}, 'OK',
       'chrome: an HTTP/2 answer gets the usual reason phrase');
    is_deeply($p->{x_mock},
              { recorded => '2026-11-21T09:14:29.412Z',
                timing => { send => 0.117, wait => 45.021,
                            receive => 2.368 } },
              'chrome: startedDateTime and timings in x_mock');
    is_deeply(header_of($p->{request}{headers}, 'cookie'),
              ['sid=8f2a91; theme=dark'], 'chrome: the request headers');

    my $logo = find_it($c, 'GET', "$SHOP/img/logo.png");
    ok((binary($logo->{response}{body}{string}) // '') eq $DATA{png},
       'chrome: the base64 PNG is !!binary, byte for byte');

    my $r = find_it($c, 'GET', "$SHOP/api/report?week=47");
    my $gz = binary($r->{response}{body}{string}) // '';
    gunzip(\$gz => \my $plain) or diag("gunzip: $GunzipError");
    is($plain, $DATA{report},
       'chrome: base64 gzip bytes are kept compressed');
    is_deeply(header_of($r->{response}{headers}, 'content-encoding'),
              ['gzip'], 'chrome: with their Content-Encoding');
    is_deeply($r->{x_mock}{timing}, { wait => 28.7, receive => 1 },
              'chrome: a timing of 0 is left out');

    my $cart = find_it($c, 'POST', "$SHOP/api/cart");
    is($cart->{request}{body}, '{"product":7,"quantity":2}',
       'chrome: the request body from postData.text');
    is($cart->{response}{status}{code}, 201, 'chrome: 201');

    my $acc = find_it($c, 'GET', "$SHOP/account");
    is($acc->{response}{status}{code}, 302, 'chrome: the redirect');
    is_deeply(header_of($acc->{response}{headers}, 'location'),
              ['/login?next=%2Faccount'], 'chrome: Location as it is');
    is_deeply($acc->{x_mock}{timing}, { send => 0.1, wait => 3.2 },
              'chrome: a timing of -1 is left out');

    ok(!grep({ $_->{request}{uri} =~ m{/static/app\.js|/api/beacon} }
             @{ $c->{interactions} }),
       'chrome: the cached and the aborted entries are not there');
}

{
    my $c = $cassette{firefox};
    my $login = find_it($c, 'POST', 'http://intranet.example.org/login');
    is($login->{request}{body}, 'user=ada&password=s3cret+%26+more&remember=1',
       'firefox: a form body made of postData.params');
    is_deeply(header_of($login->{response}{headers}, 'set-cookie'),
              ['session=77ab; Path=/; HttpOnly',
               'user=ada; Path=/; Max-Age=3600',
               'flash=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT'],
              'firefox: repeated Set-Cookie headers, whatever their case, '
              . 'in one list');
    is($login->{x_mock}{recorded}, '2026-11-21T10:20:01.250+01:00',
       'firefox: a start time with an offset');

    my $up = find_it($c, 'POST', 'http://intranet.example.org/upload');
    ok(exists $up->{request}{body} && !defined $up->{request}{body},
       'firefox: postData without text is a null body');

    my $home = find_it($c, 'GET', 'http://intranet.example.org/home');
    like($home->{response}{body}{string}, qr/<h1>Hello, Ada<\/h1>/,
         'firefox: the decoded HTML');
    ok(!defined header_of($home->{response}{headers}, 'content-encoding')
       && !defined header_of($home->{response}{headers},
                             'transfer-encoding'),
       'firefox: no Content-Encoding nor Transfer-Encoding with it');

    my $font = find_it($c, 'GET',
                       'http://intranet.example.org/fonts/inter.woff2');
    is($font->{response}{body}{string}, '',
       'firefox: a body the HAR does not hold is empty');
    ok(!defined header_of($font->{response}{headers}, 'content-length'),
       'firefox: and has no Content-Length');
}

{
    my $c = $cassette{mitmproxy};
    my $u = find_it($c, 'GET',
                    'https://api.example.com/v2/users/42?expand=roles&expand=teams');
    like($u->{response}{body}{string}, qr/"name":"Zo\x{eb}".*"tab\\there"/,
         'mitmproxy: UTF-8 text and escapes');
    is(scalar @{ header_of($u->{response}{headers}, 'link') // [] }, 2,
       'mitmproxy: two Link headers');
    my $blob = find_it($c, 'GET', 'https://api.example.com/v2/blobs/9');
    ok((binary($blob->{response}{body}{string}) // '')
       eq join('', map { chr(($_ * 37 + 11) % 256) } 0 .. 63),
       'mitmproxy: a binary body');
    is($u->{x_mock}{recorded}, '2026-11-21T09:30:00.125000+00:00',
       'mitmproxy: its start time');
}

{
    my $c = $cassette{charles};
    my $put = find_it($c, 'PUT',
                      'http://legacy.example.com:8080/cgi-bin/notes.pl?id=3');
    is($put->{request}{body}, "line one\nline two\t\"quoted\"\n",
       'charles: a text body with line ends, a tab and quotes');
    my $old = find_it($c, 'GET', 'http://legacy.example.com:8080/old-page');
    is_deeply(header_of($old->{response}{headers}, 'location'),
              ['http://legacy.example.com:8080/new-page'],
              'charles: the 301 and its Location');
    my $del = find_it($c, 'DELETE',
                      'http://legacy.example.com:8080/cgi-bin/notes.pl?id=3');
    is($del->{response}{status}{code}, 204, 'charles: the 204');
}


#---------------------------------------------------------------------------
# HAR to cassette to HAR to cassette
#---------------------------------------------------------------------------

for my $name (qw(chrome firefox mitmproxy charles)) {
    my $c1 = "$work/$name.yaml";
    my $har = to_har($c1, "$work/$name.back.har", "$name round trip");
    my ($rc, $out, $err) = run($H2C, '--output', "$work/$name.again.yaml",
                               "$work/$name.back.har");
    is($rc, 0, "$name round trip: har2cassette of it exits 0") or diag($err);
    ok(slurp($c1) eq slurp("$work/$name.again.yaml"),
       "$name round trip: the same cassette")
        or diag(`diff $c1 $work/$name.again.yaml | head -20`);
}

{
    my $har = to_har("$work/chrome.yaml", "$work/chrome.back.har",
                     'chrome HAR');
    my ($logo) = grep { $_->{request}{url} eq "$SHOP/img/logo.png" }
                 @{ $har->{log}{entries} };
    is($logo->{response}{content}{encoding}, 'base64',
       'chrome HAR: the PNG is base64');
    ok(decode_base64($logo->{response}{content}{text} // '') eq $DATA{png},
       'chrome HAR: the PNG bytes');
    is_deeply($logo->{timings}, { blocked => -1, dns => -1, connect => -1,
                                  ssl => -1, send => 0.1, wait => 11.2,
                                  receive => 0.8 },
              'chrome HAR: the timings from x_mock');
    is($logo->{startedDateTime}, '2026-11-21T09:14:29.455Z',
       'chrome HAR: startedDateTime from x_mock');
}


#---------------------------------------------------------------------------
# cassette2har of vcrpy's cassette and of a cassette nginx recorded
#---------------------------------------------------------------------------

{
    my $har = to_har("$FindBin::Bin/fixtures/vcrpy-sample.yaml",
                     "$work/vcrpy-sample.har", 'vcrpy-sample.yaml');
    my @e = @{ $har->{log}{entries} // [] };
    is(scalar @e, 8, 'vcrpy-sample.yaml: 8 entries');
    is_deeply([ map { $_->{name} } @{ $e[0]{response}{cookies} // [] } ],
              ['a', 'b'], 'vcrpy-sample.yaml: cookies from Set-Cookie');
    is_deeply($e[0]{request}{queryString},
              [ { name => 'id', value => '7' },
                { name => 'sort', value => 'name' } ],
              'vcrpy-sample.yaml: the query string');
    is($e[1]{response}{content}{encoding}, 'base64',
       'vcrpy-sample.yaml: the gzip body is base64');
    my $gz = decode_base64($e[1]{response}{content}{text} // '');
    gunzip(\$gz => \my $plain) or diag("gunzip: $GunzipError");
    like($plain // '', qr/^\{/, 'vcrpy-sample.yaml: and is still gzip');
    is($e[5]{request}{postData}{text}, '{"name": "Ada", "tags": ["a", "b"]}',
       'vcrpy-sample.yaml: the POST body');
    is($e[7]{response}{status}, 204, 'vcrpy-sample.yaml: the 204');
}

# The YAML shapes the reader takes: wrapped quoted and plain scalars, flow
# collections, !!binary names and bodies, anchors, literal and folded
# blocks, x_mock keys the HAR has no place for.
{
    my $har = to_har("$FIX/shapes.yaml", "$work/shapes.har", 'shapes.yaml');
    my @e = @{ $har->{log}{entries} // [] };
    is(scalar @e, 3, 'shapes.yaml: 3 entries');
    is($e[0]{request}{postData}{text},
       '{"name": "a long body that PyYAML wraps over two lines because it '
       . 'is wider than eighty columns"}',
       'shapes.yaml: a single-quoted scalar over two lines');
    is_deeply($e[0]{request}{headers},
              [ { name => 'Accept', value => '*/*' },
                { name => 'User-Agent', value => 'python-requests/2.28.1 '
                  . '(a plain scalar folded over two lines)' },
                { name => 'X-Bin', value => 'from a binary name' } ],
              'shapes.yaml: flow lists, a folded plain scalar, a !!binary '
              . 'header name');
    is($e[0]{response}{content}{text},
       "double \"quoted\" with escapes: \t\x{e9}A\x{1f600} and a "
       . 'continued line', 'shapes.yaml: double-quoted escapes');
    is_deeply([ map { $_->{value} } @{ $e[0]{response}{headers} } ],
              ['application/json', 'a=1; Path=/', 'b=2; Path=/',
               'c=3; Path=/'], 'shapes.yaml: plain, single and double '
              . 'quoted header values');
    is("$e[0]{response}{status} $e[0]{response}{statusText}", '201 Created',
       'shapes.yaml: a flow status');
    is_deeply([ @{ $e[0]{timings} }{qw(send wait receive)} ], [0, 12.5, 0.25],
              'shapes.yaml: timings from x_mock, unknown keys left alone');
    is($e[0]{startedDateTime}, '2026-12-01T08:00:00Z',
       'shapes.yaml: startedDateTime from "recorded"');
    is_deeply($e[1]{request}{postData},
              { mimeType => 'application/json', text => 'AAECAwQFBgcICQ==',
                _encoding => 'base64' },
              'shapes.yaml: a !!binary literal block body, an alias for '
              . 'its Content-Type');
    is($e[1]{response}{content}{text},
       "line one\n  indented line\n\nafter an empty line\n",
       'shapes.yaml: a literal block');
    is($e[2]{response}{content}{text}, 'folded into one line',
       'shapes.yaml: a folded block, stripped');
    is($e[2]{response}{statusText}, '', 'shapes.yaml: a null message');

    my ($rc, $out, $err) = run($H2C, "$work/shapes.har");
    is($rc, 0, 'shapes.yaml: its HAR converts back') or diag($err);
    like($out, qr/^    body: !!binary "AAECAwQFBgcICQ=="$/m,
         'shapes.yaml: the binary request body comes back as !!binary');
}

my $BLOB = join '', map { chr(($_ * 7 + 3) % 256) } 0 .. 511;
write_file("$root/html/bin/blob.bin", $BLOB);

write_file($nginx->conf, $nginx->conf_head . <<"EOF");
http {
    access_log logs/access.log;

    server {
        listen 127.0.0.1:$port;

        location / {
            mock_replay html/cassettes;
            mock_repeats on;
        }

        location /rec/ {
            proxy_pass http://127.0.0.1:$port/backend/;
            mock_replay html/rec.yaml;
            mock_mode record;
        }

        location = /backend/json {
            default_type application/json;
            add_header Set-Cookie "a=1; Path=/";
            add_header Set-Cookie "b=2; HttpOnly";
            return 200 '{"id":7,"q":"\$arg_q"}';
        }

        location = /backend/post {
            default_type application/json;
            return 201 '{"created":true}';
        }

        location /backend/bin/ {
            alias html/bin/;
            default_type application/octet-stream;
        }
    }
}
EOF


#---------------------------------------------------------------------------
# nginx replays the converted Chrome and Firefox cassettes
#---------------------------------------------------------------------------

for my $name (qw(chrome firefox)) {
    my ($rc, $out, $err) = run($H2C, '--output',
                               "$root/html/cassettes/$name.yaml",
                               "$FIX/$name.har");
    is($rc, 0, "$name: converted for nginx") or diag($err);
}

{
    my ($rc, $out, $err) = $nginx->test_config;
    is($rc, 0, 'nginx -t takes the converted cassettes') or diag($err);
}

$nginx->start;

my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 10, max_redirect => 0);

sub fetch {
    my ($method, $path, $options) = @_;
    return $http->request($method, "http://127.0.0.1:$port$path",
                          $options // {});
}

{
    my $r = fetch('GET', '/api/products?page=2&sort=price');
    is($r->{status}, 200, 'replay: products, 200');
    ok($r->{content} eq $DATA{products}, 'replay: the JSON, UTF-8 bytes')
        or diag($r->{content});
    is($r->{headers}{'content-type'}, 'application/json; charset=utf-8',
       'replay: its Content-Type');
    ok(!defined $r->{headers}{'content-encoding'},
       'replay: no Content-Encoding for the decoded body');
    is($r->{headers}{'content-length'}, length $DATA{products},
       'replay: the Content-Length of the body');

    $r = fetch('GET', '/img/logo.png');
    is($r->{status}, 200, 'replay: the PNG, 200');
    is($r->{headers}{'content-type'}, 'image/png', 'replay: image/png');
    ok($r->{content} eq $DATA{png}, 'replay: the PNG byte for byte')
        or diag(unpack 'H*', $r->{content});

    $r = fetch('GET', '/api/report?week=47', { headers =>
                                                 { 'Accept-Encoding' => 'gzip' } });
    is($r->{status}, 200, 'replay: the gzip report, 200');
    is($r->{headers}{'content-encoding'}, 'gzip',
       'replay: Content-Encoding gzip');
    is($r->{headers}{'x-report-id'}, 'r-47', 'replay: its other header');
    my $gz = $r->{content};
    gunzip(\$gz => \my $plain) or diag("gunzip: $GunzipError");
    is($plain, $DATA{report}, 'replay: it uncompresses to the JSON');

    $r = fetch('POST', '/api/cart', { content => '{"product":7,"quantity":2}',
                                      headers => { 'Content-Type'
                                                   => 'application/json' } });
    is("$r->{status} $r->{content}", "201 $DATA{cart}",
       'replay: the POST, 201 and its body');
    is($r->{headers}{location}, '/api/cart/items/31', 'replay: its Location');
    is($r->{headers}{'set-cookie'}, 'cart=31; Path=/; Secure; HttpOnly',
       'replay: its Set-Cookie');

    $r = fetch('GET', '/account');
    is($r->{status}, 302, 'replay: the redirect, 302');
    is($r->{headers}{location}, '/login?next=%2Faccount',
       'replay: Location as recorded');

    $r = fetch('GET', '/collect?v=2&tid=G-123&en=page_view');
    is("$r->{status} [" . ($r->{content} // '') . ']', '204 []', 'replay: the 204');

    $r = fetch('POST', '/login', { content => 'user=ada' });
    is($r->{status}, 303, 'replay: the Firefox login, 303');
    is_deeply($r->{headers}{'set-cookie'},
              ['session=77ab; Path=/; HttpOnly',
               'user=ada; Path=/; Max-Age=3600',
               'flash=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT'],
              'replay: its three Set-Cookie headers, in order');
    is($r->{headers}{location}, 'http://intranet.example.org/home',
       'replay: and its Location');

    $r = fetch('GET', '/home');
    like($r->{content}, qr/<h1>Hello, Ada<\/h1>/, 'replay: the HTML');
    ok(!defined $r->{headers}{'content-encoding'},
       'replay: without Content-Encoding');
}

# nginx records three exchanges; the cassette goes to a HAR.
{
    my $r = fetch('GET', '/rec/json?q=hello');
    is($r->{status}, 200, 'record: the JSON GET');
    $r = fetch('POST', '/rec/post', { content => '{"name":"widget"}',
                                      headers => { 'Content-Type'
                                                   => 'application/json' } });
    is($r->{status}, 201, 'record: the POST');
    $r = fetch('GET', '/rec/bin/blob.bin');
    ok($r->{content} eq $BLOB, 'record: the binary GET');
}

my $log = $nginx->error_log;
unlike($log, qr/\[(error|crit|alert|emerg)\]/, 'no error in the error log')
    or diag($log);

$nginx->stop;

{
    my $rec = "$root/html/rec.yaml";
    like(slurp($rec), qr/^# recorded /m, 'nginx wrote the cassette');
    my $har = to_har($rec, "$work/rec.har", 'recorded cassette');
    my @e = @{ $har->{log}{entries} // [] };
    is(scalar @e, 3, 'recorded cassette: 3 entries');
    like($e[0]{request}{url}, qr{^http://127\.0\.0\.1:\d+/backend/json\?q=hello$},
         'recorded cassette: the upstream URL');
    like($e[0]{startedDateTime}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
         'recorded cassette: startedDateTime from x_mock "recorded"');
    is_deeply([ map { "$_->{name}=$_->{value}" }
                @{ $e[0]{response}{cookies} // [] } ], ['a=1', 'b=2'],
              'recorded cassette: both cookies');
    is($e[1]{request}{postData}{text}, '{"name":"widget"}',
       'recorded cassette: the POST body');
    is($e[1]{request}{postData}{mimeType}, 'application/json',
       'recorded cassette: its type');
    is($e[2]{response}{content}{encoding}, 'base64',
       'recorded cassette: the binary body is base64');
    ok(decode_base64($e[2]{response}{content}{text} // '') eq $BLOB,
       'recorded cassette: its bytes');
    is($e[2]{response}{bodySize}, length $BLOB,
       'recorded cassette: its size');
}

# vcrpy replays the converted Chrome cassette to requests.
{
    my ($rc, $out, $err) = run(PYTHON, "$work/vcrplay.py",
                               "$work/chrome.yaml");
    is($rc, 0, 'vcrpy replays the Chrome cassette') or diag($err);
    my $got = eval { $JSON->decode($out) } // {};
    is_deeply($got->{products},
              [200, Encode::decode('UTF-8', $DATA{products})],
              'vcrpy: the JSON');
    ok(decode_base64($got->{logo}[1] // '') eq $DATA{png}, 'vcrpy: the PNG');
    is_deeply($got->{report}, [200, $DATA{report}],
              'vcrpy: the gzip body, which requests uncompresses');
    is_deeply($got->{cart}, [201, '/api/cart/items/31'], 'vcrpy: the POST');
}


#---------------------------------------------------------------------------
# Bad input
#---------------------------------------------------------------------------

my @bad_har = (
    ['not JSON', qq({\n  "log": {\n    "entries": [,]\n}\n),
     qr/^har2cassette: \S+\/bad\.har: not JSON: line 3, column 17: /],
    ['no log.entries', '{"log": {"version": "1.2", "creator": {}}}',
     qr/^har2cassette: \S+\/bad\.har: not a HAR: no "log\.entries" array$/],
    ['an entry without a request',
     '{"log": {"entries": [{"request": {"method": "GET", "url": "http://a/",'
     . ' "headers": []}, "response": {"status": 200}}, {"response": {}}]}}',
     qr/^har2cassette: \S+\/bad\.har: entry 1 has no request$/],
    ['bad base64',
     '{"log": {"entries": [{"request": {"method": "GET", "url": "http://a/"},'
     . ' "response": {"status": 200, "content": {"text": "@@@",'
     . ' "encoding": "base64"}}}]}}',
     qr/^har2cassette: \S+\/bad\.har: entry 0 response content\.text is not valid base64/],
);

for my $x (@bad_har) {
    my ($name, $text, $want) = @$x;
    write_file("$work/bad.har", $text);
    unlink "$work/bad.yaml";
    my ($rc, $out, $err) = run($H2C, '--output', "$work/bad.yaml",
                               "$work/bad.har");
    is($rc, 1, "bad HAR, $name: exit status 1");
    like($err, $want, "bad HAR, $name: the message");
    ok(!-e "$work/bad.yaml", "bad HAR, $name: no cassette written");
}

my @bad_yaml = (
    ['a complex key', "interactions:\n- ? request\n  : {}\n",
     qr/: line 2, column 3: complex keys \("\? "\) are not read$/],
    ['a Python tag',
     "interactions:\n- request: !!python/object:vcr.request.Request {}\n",
     qr/: line 2, column 12: the tag !!python\/object:vcr\.request\.Request is not read$/],
    ['a quote that does not end',
     "interactions:\n- request:\n    uri: \"http://a/\n",
     qr/: line 3, column 10: a quoted scalar that does not end$/],
    ['two documents', "version: 1\n---\nversion: 1\n",
     qr/: line 2, column 1: a second document is not read$/],
    ['a repeated key', "version: 1\ninteractions: []\nversion: 1\n",
     qr/: line 3, column 1: the key "version" is repeated \(first at line 1, column 1\)$/],
    ['bad indentation', "interactions:\n- request:\n    uri: a\n   method: GET\n",
     qr/: line 4, column 4: /],
    ['an interaction without its uri',
     "interactions:\n- request:\n    method: GET\n  response:\n"
     . "    status: {code: 200}\n",
     qr/: interaction 0 \(line 3, column 5\): the request has no "uri"$/],
);

for my $x (@bad_yaml) {
    my ($name, $text, $want) = @$x;
    write_file("$work/bad.yaml", $text);
    my ($rc, $out, $err) = run($C2H, "$work/bad.yaml");
    is($rc, 1, "bad cassette, $name: exit status 1");
    like($err, qr/^cassette2har: \S+\/bad\.yaml: /,
         "bad cassette, $name: the message names the file");
    like($err, $want, "bad cassette, $name: and where");
}

done_testing();
