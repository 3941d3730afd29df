# Cassettes recorded by the module replay in vcrpy.
#
# nginx records a few exchanges through proxy_pass from an upstream that
# is a location of the same nginx: a JSON GET with a query, a POST with a
# JSON body, a response with two Set-Cookie headers, a gzip-compressed
# response, a binary body and a 404.  What nginx returned to the client
# for each is kept.  Then nginx is stopped and Debian's python3-vcr
# replays the cassette with record_mode "none" to python3-requests,
# which sends the same requests to the recorded upstream URLs: with
# nginx stopped, every answer comes from the cassette.  The statuses,
# reasons, bodies and headers must be those nginx returned.
#
# Bodies are compared as raw bytes: the script asks for the response
# undecoded (stream=True, then raw.read(decode_content=False)), so the
# gzip body is compared byte for byte as it was sent compressed.  As
# requests decodes gzip by default, the gzip request is played once more
# the ordinary way, and its decoded content must be the uncompressed
# JSON, which is also what Perl's IO::Uncompress::Gunzip gets from the
# bytes nginx returned.
#
# vcrpy matches on its defaults (method, scheme, host, port, path,
# query) and on the request body too, so the recorded POST body must be
# the one that was sent (vcrpy compares JSON bodies parsed).
#
# A second cassette is recorded with mock_record_templates on: vcrpy
# loads it, x_mock keys and all, and serves its templated body as the
# string it is.
#
# This file runs its own nginx under t/servroot-vcrpy-roundtrip/.

use strict;
use warnings;

use Test::More;
use FindBin;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);

use lib "$FindBin::Bin/lib";
use MockTest qw(PYTHON skip_under_valgrind module_under_test
                skip_without_python server_port lock_run slurp write_file
                run_cmd split_items);

skip_under_valgrind('this file runs its own nginx, not under valgrind');

my $module = module_under_test();

skip_without_python('import vcr, requests',
                    'cannot import vcr and requests, needed to '
                    . 'replay the cassette (Debian: apt-get install '
                    . 'python3-vcr python3-requests)');

my $port  = server_port(24);
my $root  = "$FindBin::Bin/servroot-vcrpy-roundtrip";
my $conf  = "$root/conf/nginx.conf";
my $cassette = "$root/html/rec.yaml";

my $WORKERS = 1;
my $WAIT    = 10;   # seconds to wait for nginx to start, stop, answer

my $upstream = "http://127.0.0.1:$port/backend";

# The binary file the upstream serves: every byte value, and no valid
# UTF-8 text.
my $BLOB = join '', map { chr(($_ * 7 + 3) % 256) } 0 .. 4095;

# What the gzip location compresses.
my $GZ_JSON = '{"compressed":"' . ('yes ' x 50) . 'done"}';

# The JSON GET's body has UTF-8 text in it ("Zo\x{eb} \x{2713}"), which
# the cassette keeps as text.
my $NAME = "Zo\x{c3}\x{ab} \x{e2}\x{9c}\x{93}";

# A second run of this file waits for this one to finish.
my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => $WORKERS,
                                 wait => $WAIT);

$nginx->fresh_root('conf', 'logs', 'html/bin');
write_file("$root/html/bin/blob.bin", $BLOB);

write_file($conf, $nginx->conf_head . <<"EOF");
http {
    access_log logs/access.log;

    server {
        listen 127.0.0.1:$port;

        # the service being recorded

        location = /backend/json {
            default_type application/json;
            return 200 '{"id":7,"name":"$NAME","q":"\$arg_q"}';
        }

        location = /backend/post {
            default_type application/json;
            return 201 '{"created":true}';
        }

        location = /backend/cookies {
            add_header Set-Cookie "a=1; Path=/";
            add_header Set-Cookie "b=2; HttpOnly";
            return 200 "two cookies\\n";
        }

        # The proxy speaks HTTP/1.0 to its upstream: gzip_http_version
        # 1.0 lets the upstream compress all the same.
        location = /backend/gz {
            gzip on;
            gzip_types text/plain application/json;
            gzip_min_length 1;
            gzip_http_version 1.0;
            default_type application/json;
            return 200 '$GZ_JSON';
        }

        # blob.bin, and a 404 for anything else
        location /backend/bin/ {
            alias html/bin/;
            default_type application/octet-stream;
        }

        location /api/ {
            proxy_pass $upstream/;
            mock_replay html/rec.yaml;
            mock_mode record;
        }

        location = /backend/users/70001 {
            default_type application/json;
            add_header Location "/v1/people/70001";
            return 200 '{"id": 70001, "name": "Ada", "q": "\$arg_q"}';
        }

        location /tpl/ {
            proxy_pass $upstream/;
            mock_replay html/tpl.yaml;
            mock_mode record;
            mock_record_templates on;
        }
    }
}
EOF

# The exchanges: nginx gets /api$path, the upstream /backend$path.
my @exchanges = (
    { name => 'JSON GET with a query', method => 'GET',
      path => '/json?q=hello%20world&n=1' },
    { name => 'POST with a JSON body', method => 'POST', path => '/post',
      headers => { 'Content-Type' => 'application/json' },
      body => '{"name":"widget","tags":["a","b"],"n":2}' },
    { name => 'two Set-Cookie headers', method => 'GET', path => '/cookies' },
    { name => 'gzip-compressed body', method => 'GET', path => '/gz',
      headers => { 'Accept-Encoding' => 'gzip' } },
    { name => 'binary body', method => 'GET', path => '/bin/blob.bin' },
    { name => '404', method => 'GET', path => '/bin/nothing.bin' },
);

$nginx->start;

for my $x (@exchanges) {
    $x->{got} = $nginx->request(
        $x->{method}, "/api$x->{path}",
        { headers => $x->{headers} // {},
          defined $x->{body} ? (content => $x->{body}) : () });
}

my $tpl_got = $nginx->request('GET', '/tpl/users/70001?q=hello-world');

$nginx->stop;
ok(!$nginx->masters_of_this_root, 'nginx stopped before vcrpy replays');

# What nginx returned through the proxy.
my %by = map { $_->{path} => $_ } @exchanges;
is($by{'/json?q=hello%20world&n=1'}{got}{content},
   qq{{"id":7,"name":"$NAME","q":"hello%20world"}}, 'JSON GET: the JSON');
is($by{'/post'}{got}{status}, 201, 'POST: 201');
is_deeply($by{'/cookies'}{got}{headers}{'set-cookie'},
          [ 'a=1; Path=/', 'b=2; HttpOnly' ], 'two Set-Cookie headers');
is($by{'/gz'}{got}{headers}{'content-encoding'}, 'gzip',
   'the gzip body came compressed');
gunzip(\$by{'/gz'}{got}{content} => \my $gunzipped)
    or diag("gunzip: $GunzipError");
is($gunzipped, $GZ_JSON, 'and uncompresses to the JSON');
ok($by{'/bin/blob.bin'}{got}{content} eq $BLOB, 'the binary body');
is($by{'/bin/nothing.bin'}{got}{status}, 404, 'the 404');

my $log = slurp("$root/logs/error.log");
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/, 'no worker crashed');
unlike($log, qr/mock: cannot record|is not recorded/,
       'every exchange was recorded');

# The cassette as written.

my $text = slurp($cassette);
my $rec_text = $text;
my @uris = $text =~ /^    uri: "(.*)"$/mg;
is_deeply(\@uris, [ map { "$upstream$_->{path}" } @exchanges ],
          'the cassette has the upstream URLs, in order');
my ($head, @items) = split_items($text);
is(scalar(@items), scalar(@exchanges), 'one item per exchange');
my ($gz_item) = grep { m{^    uri: ".*/backend/gz"$}m } @items;
like($gz_item // '', qr/^  response:\n    body:\n      string: !!binary "/m,
     'the gzip body is stored as !!binary');
like($gz_item // '', qr/^      "Content-Encoding":\n      - "gzip"$/m,
     'with its Content-Encoding: gzip');
my ($json_item) = grep { m{^    uri: ".*/backend/json\?.*"$}m } @items;
like($json_item // '', qr/^\ {6} string:\ "\{ \\"id\\":7,
                          \\"name\\":\\"\Q$NAME\E\\"/xm,
     'the UTF-8 JSON body is stored as text');
my ($bin_item) = grep { m{^    uri: ".*/backend/bin/blob\.bin"$}m } @items;
like($bin_item // '', qr/^      string: !!binary "/m,
     'the binary body is stored as !!binary');

# vcrpy replays it.

write_file("$root/replay.py", <<'PY');
# Replays the cassette in argv[1] with vcrpy to requests; the requests
# are in the JSON file argv[2]; prints what requests got, as JSON.
import base64, json, sys

import requests
import vcr

cassette, spec = sys.argv[1], sys.argv[2]
with open(spec) as f:
    exchanges = json.load(f)

match_on = ["method", "scheme", "host", "port", "path", "query", "body"]
out = {"raw": [], "decoded_gz": None}

# record_mode "none": a request that the cassette does not have raises
# CannotOverwriteExistingCassetteException instead of going out.
my_vcr = vcr.VCR(record_mode="none")

with my_vcr.use_cassette(cassette, match_on=match_on) as cass:
    for x in exchanges:
        body = base64.b64decode(x["body"]) if x["body"] is not None else None
        r = requests.request(x["method"], x["url"], data=body,
                             headers=x["headers"], stream=True)
        raw = r.raw.read(decode_content=False)
        headers = {}
        for name in r.raw.headers.keys():
            headers[name.lower()] = r.raw.headers.getlist(name)
        out["raw"].append({
            "status": r.status_code,
            "reason": r.reason,
            "body": base64.b64encode(raw).decode("ascii"),
            "headers": headers,
        })
    out["all_played"] = cass.all_played
    out["play_count"] = cass.play_count

# The gzip exchange again, decoded the ordinary way.
with my_vcr.use_cassette(cassette, match_on=match_on):
    x = [x for x in exchanges if x["path"] == "/gz"][0]
    r = requests.request(x["method"], x["url"], headers=x["headers"])
    out["decoded_gz"] = base64.b64encode(r.content).decode("ascii")

print(json.dumps(out))
PY

my $json = JSON::PP->new->canonical;
write_file("$root/spec.json", $json->encode([
    map { { path => $_->{path}, method => $_->{method},
            url => "$upstream$_->{path}",
            headers => $_->{headers} // {},
            body => defined $_->{body} ? encode_base64($_->{body}, '')
                                       : undef } } @exchanges ]));

my ($rc, $out, $err) = run_cmd(PYTHON, "$root/replay.py", $cassette,
                               "$root/spec.json");
is($rc, 0, 'vcrpy replays the cassette') or diag($err);
my $replay = eval { $json->decode($out) } // { raw => [] };

is($replay->{play_count}, scalar(@exchanges),
   'vcrpy played ' . scalar(@exchanges) . ' interactions');
ok($replay->{all_played}, 'vcrpy played every interaction');

for my $i (0 .. $#exchanges) {
    my $x = $exchanges[$i];
    my $got = $x->{got};
    my $v = $replay->{raw}[$i] // {};
    my $name = "vcrpy, $x->{name}";

    is($v->{status}, $got->{status}, "$name: status $got->{status}");
    is($v->{reason}, $got->{reason}, "$name: reason \"$got->{reason}\"");
    my $body = decode_base64($v->{body} // '');
    ok($body eq $got->{content}, "$name: the same body bytes ("
       . length($got->{content}) . ')')
        or diag('vcrpy: ' . unpack('H*', substr($body, 0, 64))
                . "\nnginx: " . unpack('H*', substr($got->{content}, 0, 64)));

    for my $h (qw(content-type content-encoding set-cookie)) {
        my $want = $got->{headers}{$h};
        next unless defined $want;
        $want = [ $want ] unless ref $want;
        is_deeply($v->{headers}{$h}, $want, "$name: $h @$want");
    }
}

is(decode_base64($replay->{decoded_gz} // ''), $GZ_JSON,
   'vcrpy, gzip-compressed body decoded by requests: the JSON');

# The templated cassette.

my $TPL_BODY = '{"id": {{request.path.2}}, "name": "Ada", '
               . '"q": "{{request.query.q}}"}';

is($tpl_got->{content}, '{"id": 70001, "name": "Ada", "q": "hello-world"}',
   'templates: the client got the upstream\'s answer');
my $tpl_text = slurp("$root/html/tpl.yaml");
like($tpl_text, qr/^  x_mock:\n    recorded: '[^']+'\n    templated: \["\$\.id", "\$\.q", "header Location"\]\n    timing: \{wait: \d+, receive: \d+\}\n# recorded /m,
     'templates: the cassette lists the templated members');
like($rec_text, qr/^  x_mock:\n    recorded: '[^']+'\n    timing: \{wait: \d+, receive: \d+\}\n# recorded /m,
     'every interaction has its recording time');

write_file("$root/tpl.py", <<'PY');
# Loads the cassette in argv[1] with vcrpy, replays one GET to argv[2],
# and prints what requests got and what PyYAML reads in x_mock, as JSON.
import json, sys

import requests
import vcr
import yaml

out = {}
with vcr.VCR(record_mode="none").use_cassette(sys.argv[1]) as cass:
    r = requests.get(sys.argv[2])
    out["status"] = r.status_code
    out["body"] = r.text
    out["location"] = r.headers.get("Location")
    out["play_count"] = cass.play_count

with open(sys.argv[1]) as f:
    out["x_mock"] = yaml.safe_load(f)["interactions"][0]["x_mock"]

print(json.dumps(out))
PY

($rc, $out, $err) = run_cmd(PYTHON, "$root/tpl.py", "$root/html/tpl.yaml",
                            "$upstream/users/70001?q=hello-world");
is($rc, 0, 'vcrpy loads the templated cassette') or diag($err);
my $tpl = eval { $json->decode($out) } // {};
is($tpl->{play_count}, 1, 'vcrpy played its interaction');
is($tpl->{status}, 200, 'vcrpy, templated: status 200');
is($tpl->{body}, $TPL_BODY, 'vcrpy, templated: the body is the template text');
is($tpl->{location}, '/v1/people/{{request.path.2}}',
   'vcrpy, templated: Location is the template text');
is_deeply($tpl->{x_mock}{templated}, [ '$.id', '$.q', 'header Location' ],
          'PyYAML reads x_mock.templated as a list of strings');
like($tpl->{x_mock}{recorded} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\z/,
     'and x_mock.recorded as an RFC 3339 string');

ok(!$nginx->masters_of_this_root, 'nginx is not running');

done_testing();
