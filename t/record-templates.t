# Templates learned while recording (mock_record_templates): response
# values that equal a value of the request are written to the cassette as
# {{request...}} expressions, and the interaction's x_mock key lists them.
#
# The upstream is a location of the same nginx that answers fixed bytes
# (or a file), so each block knows what the recorder saw.  The cassette a
# block records into is read back through /cassette.  Where a block also
# replays the recording from the zone, with the same request, it accepts
# the stored text as it is and the same text with its expressions
# evaluated for that request: both are what was recorded.  Recordings
# accumulate while nginx runs, so each block runs once.

use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_SERVER_PORT} ||= server_port();
$ENV{TEST_NGINX_UP_PORT} = $ENV{TEST_NGINX_SERVER_PORT} + 81;

repeat_each(1);
no_shuffle();
no_root_location();

# A string as the cassette writer quotes it, as a regex.
sub yq {
    my ($s) = @_;
    $s =~ s/(["\\])/\\$1/g;
    return quotemeta($s);
}

# The x_mock key with its templated list, as a regex (for /x too).
sub xm {
    my $re = quotemeta("\n  x_mock:\n    recorded: '")
             . '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ' . quotemeta("'");
    $re .= quotemeta("\n    templated: [" . join(', ', map { "\"$_\"" } @_)
                     . ']')
        if @_;
    $re .= quotemeta("\n    timing: {wait: ") . '\d+'
           . quotemeta(', receive: ') . '\d+' . quotemeta('}');
    return $re . quotemeta("\n# recorded ");
}

# A response header of the cassette, as a regex (for /x too).
sub hl {
    my ($name, $value) = @_;
    return quotemeta(qq{\n      "$name":\n      - "}) . yq($value) . '"';
}

# The body of an interaction replayed from the zone: as stored, or with
# its expressions evaluated for the request that recorded it.
sub either {
    my ($stored, $evaluated) = @_;
    return qr/\A(?:\Q$stored\E|\Q$evaluated\E)\z/;
}

# 10000 members, one of which echoes the request; nested 70 deep.
our $BIG = '{' . join(',', map { "\"m$_\": $_" } 0 .. 9999)
           . ', "id": "70001"}';
our $DEEP = ('{"a": ' x 70) . '"70001"' . ('}' x 70);

# An upstream on TEST_NGINX_UP_PORT that answers one connection with
# each of @answers, in order, as they are (so one may be cut short), and
# then goes away.
sub upstream {
    my (@answers) = @_;
    require IO::Socket::INET;
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                       LocalPort => $ENV{TEST_NGINX_UP_PORT},
                                       Listen => 8, ReuseAddr => 1)
        or die "cannot listen on $ENV{TEST_NGINX_UP_PORT}: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        alarm 10;
        for my $answer (@answers) {
            my $c = $listen->accept or last;
            my $req = '';
            while ($req !~ /\r\n\r\n/) {
                sysread($c, $req, 4096, length $req) or last;
            }
            print $c $answer;
            close $c;
        }
        POSIX::_exit(0);
    }
    close $listen;
}

run_tests();

__DATA__

=== TEST 1: path segments, query values and named request headers become expressions
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on headers=X-User;
    }
    location /play/ {
        mock_replay html/rec.yaml;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }
    location /backend/ {
        default_type application/json;
        add_header X-Echo "ada-lovelace";
        add_header X-Host "127.0.0.1:$TEST_NGINX_SERVER_PORT";
        return 200 '{"id": 70001, "name": "Grace Hopper", "ok": true, "none": null, "s": "70001", "user": {"login": "ada-lovelace"}}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/users/70001?name=Grace%20Hopper",
 "GET /cassette",
 "GET /play/users/70001?name=Grace%20Hopper"]
--- more_headers
X-User: ada-lovelace
--- response_body_like eval
[qr/\A\Q{"id": 70001, "name": "Grace Hopper", "ok": true, "none": null, "s": "70001", "user": {"login": "ada-lovelace"}}\E\z/,
 qr/^\ {6}string:\ "${\ main::yq('{"id": {{request.path.2}}, "name": "{{request.query.name}}", "ok": true, "none": null, "s": "{{request.path.2}}", "user": {"login": "{{request.header.X-User}}"}}') }"\n.*
${\ main::hl('X-Echo', '{{request.header.X-User}}') }
      ${\ quotemeta(qq{\n      "X-Host":\n      - "127.0.0.1:}) }\d+".*
      message:\ "OK"${\ main::xm('$.id', '$.name', '$.s', '$.user.login', 'header X-Echo') }/msx,
 main::either('{"id": {{request.path.2}}, "name": "{{request.query.name}}", "ok": true, "none": null, "s": "{{request.path.2}}", "user": {"login": "{{request.header.X-User}}"}}',
              '{"id": 70001, "name": "Grace Hopper", "ok": true, "none": null, "s": "70001", "user": {"login": "ada-lovelace"}}')]
--- no_error_log
[error]
[warn]



=== TEST 2: a value shorter than min characters is not templated; min=N changes the bound
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location /three/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec3.yaml;
        mock_mode record;
        mock_record_templates on min=3;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"a": "abc", "b": "caf\u00e9", "c": "\u00e9t\u00e9"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
    location = /cassette3 {
        default_type text/plain;
        alias html/rec3.yaml;
    }
--- request eval
["GET /api/x/abc?b=caf%C3%A9&c=%C3%A9t%C3%A9", "GET /cassette",
 "GET /three/x/abc?b=caf%C3%A9&c=%C3%A9t%C3%A9", "GET /cassette3"]
--- response_body_like eval
[qr/"abc"/,
 qr/^      string: "${\ main::yq('{"a": "abc", "b": "{{request.query.b}}", "c": "\u00e9t\u00e9"}') }"\n.*${\ main::xm('$.b') }/ms,
 qr/"abc"/,
 qr/^      string: "${\ main::yq('{"a": "{{request.path.2}}", "b": "{{request.query.b}}", "c": "{{request.query.c}}"}') }"\n.*${\ main::xm('$.a', '$.b', '$.c') }/ms]
--- no_error_log
[error]



=== TEST 3: a value found in two places of the request is not templated
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on headers=X-Ref;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"item": "12345", "ref": "98765", "tag": "same-tag", "other": "unique-1"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/items/12345?ref=12345&tag=same-tag&again=unique-1", "GET /cassette"]
--- more_headers
X-Ref: same-tag
--- response_body_like eval
[qr/12345/,
 qr/^      string: "${\ main::yq('{"item": "12345", "ref": "98765", "tag": "same-tag", "other": "{{request.query.again}}"}') }"\n.*${\ main::xm('$.other') }/ms]
--- no_error_log
[error]



=== TEST 4: members of a JSON request body, in the body and in a Location path
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location /backend/ {
        default_type application/json;
        add_header Location "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/v1/orders/987654/lines?x=1";
        add_header Content-Location "/v1/users/Ada%20Lovelace/alpha-1";
        return 201 '{"created": {"id": 987654, "who": "Ada Lovelace", "tag": "alpha-1", "flag": true}, "note": "line one\\r\\nline two"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["POST /api/checkout\n{\"id\": 987654, \"user\": {\"name\": \"Ada Lovelace\", \"tags\": [\"alpha-1\", true]}, \"flag\": true, \"meta\": {\"note\": \"line one\\r\\nline two\"}}",
 "GET /cassette"]
--- more_headers eval
["Content-Type: application/json", ""]
--- error_code eval
[201, 200]
--- response_body_like eval
[qr/987654/,
 qr!^\ {4}body:\ "${\ main::yq('{"id": 987654, "user": {"name": "Ada Lovelace", "tags": ["alpha-1", true]}, "flag": true, "meta": {"note": "line one\r\nline two"}}') }"\n
.*^\ {6}string:\ "${\ main::yq('{"created": {"id": {{request.body.$.id}}, "who": "{{request.body.$.user.name}}", "tag": "{{request.body.$.user.tags[0]}}", "flag": true}, "note": "{{request.body.$.meta.note}}"}') }"\n.*
${\ quotemeta(qq{\n      "Location":\n      - "http://127.0.0.1:}) }\d+${\ main::yq('/v1/orders/{{request.body.$.id}}/lines?x=1') }"
      ${\ main::hl('Content-Location', '/v1/users/Ada%20Lovelace/{{request.body.$.user.tags[0]}}') }.*
      message:\ "Created"${\ main::xm('$.created.id', '$.created.who', '$.created.tag', '$.note', 'header Location', 'header Content-Location') }!msx]
--- no_error_log
[error]



=== TEST 5: form fields of the request body
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"email": "ada@example.org", "plan": "premium plan", "dup": "twice-1"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["POST /api/signup\nemail=ada%40example.org&plan=premium+plan&d=twice-1&d=twice-2",
 "GET /cassette"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded", ""]
--- response_body_like eval
[qr/premium/,
 qr/^      string: "${\ main::yq('{"email": "{{request.form.email}}", "plan": "{{request.form.plan}}", "dup": "twice-1"}') }"\n.*${\ main::xm('$.email', '$.plan') }/ms]
--- no_error_log
[error]



=== TEST 6: numbers: 70000 is bare, "70000" quoted, 70000.0 and 7e4 are other numbers
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"a":70000,"b":70000.0,"c":"70000","d":7e4,"e":[70000],"f":-70000,"g":"-70000.5"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["POST /api/n/70000\n{\"neg\": \"-70000.5\"}", "GET /cassette"]
--- more_headers eval
["Content-Type: application/json", ""]
--- response_body_like eval
[qr/70000/,
 qr/^      string: "${\ main::yq('{"a":{{request.path.2}},"b":70000.0,"c":"{{request.path.2}}","d":7e4,"e":[{{request.path.2}}],"f":-70000,"g":"{{request.body.$.neg}}"}') }"\n.*${\ main::xm('$.a', '$.c', '$.e[0]', '$.g') }/ms]
--- no_error_log
[error]



=== TEST 7: strings are compared decoded: escaped slashes, quotes, backslashes, unicode escapes
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on min=2;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"slash": "a\\/b\\/c", "quote": "say \\\"hi\\\"", "back": "c:\\\\tmp", "uni": "caf\\u00e9s", "pair": "\\ud83d\\ude00\\ud83d\\ude00", "lone": "\\ud83dzz", "raw": "cafés"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/e?slash=a/b/c&quote=say%20%22hi%22&back=c:%5Ctmp&uni=caf%C3%A9s&pair=%F0%9F%98%80%F0%9F%98%80&lone=%ED%A0%BDzz",
 "GET /cassette"]
--- response_body_like eval
[qr/slash/,
 qr/^      string: "${\ main::yq('{"slash": "{{request.query.slash}}", "quote": "{{request.query.quote}}", "back": "{{request.query.back}}", "uni": "{{request.query.uni}}", "pair": "{{request.query.pair}}", "lone": "\ud83dzz", "raw": "{{request.query.uni}}"}') }"\n.*${\ main::xm('$.slash', '$.quote', '$.back', '$.uni', '$.pair', '$.raw') }/ms]
--- no_error_log
[error]



=== TEST 8: "{{" already in a templated body is written {{ "{{" }}; untemplated bodies stay as they were
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location /backend/t/ {
        default_type application/json;
        add_header X-Raw "{{keep}}";
        return 200 '{"id": "70001", "tpl": "{{name}} {{{x}}}", "half": "{ {"}';
    }
    location /backend/u/ {
        default_type application/json;
        add_header X-Raw "{{keep}}";
        return 200 '{"id": "other", "tpl": "{{name}}"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/t/70001", "GET /api/u/70001", "GET /cassette"]
--- response_body_like eval
[qr/\{\{name\}\}/, qr/\{\{name\}\}/,
 qr/^\ {6}string:\ "${\ main::yq('{"id": "{{request.path.2}}", "tpl": "{{ "{{" }}name}} {{ "{{" }}{x}}}", "half": "{ {"}') }"\n.*
${\ main::hl('X-Raw', '{{ "{{" }}keep}}') }.*${\ main::xm('$.id') }
.*^\ {6}string:\ "${\ main::yq('{"id": "other", "tpl": "{{name}}"}') }"\n.*
${\ main::hl('X-Raw', '{{keep}}') }.*${\ main::xm() }/msx]
--- no_error_log
[error]



=== TEST 9: a body that is not JSON is not templated, its headers are; "{{" in it is kept as text
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location /backend/text/ {
        default_type text/plain;
        add_header X-Id 70001;
        return 200 'id 70001 and {{70001}}';
    }
    location /backend/bad/ {
        default_type application/json;
        return 200 '{"id": "70001", "cut": ';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/text/70001", "GET /api/bad/70001", "GET /cassette"]
--- response_body_like eval
[qr/^id 70001/, qr/"cut"/,
 qr/^\ {6}string:\ "${\ main::yq('id 70001 and {{ "{{" }}70001}}') }"\n.*
      ${\ main::hl('X-Id', '{{request.path.2}}') }.*${\ main::xm('header X-Id') }
.*^\ {6}string:\ "${\ main::yq('{"id": "70001", "cut": ') }"\n.*${\ main::xm() }/msx]
--- no_error_log
[error]



=== TEST 10: a compressed body is never templated
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        proxy_set_header Accept-Encoding gzip;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location /backend/ {
        gzip on;
        gzip_types application/json;
        gzip_min_length 1;
        gzip_http_version 1.0;
        default_type application/json;
        add_header X-Id 70001;
        return 200 '{"id": "70001"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/gz/70001", "GET /cassette"]
--- response_headers eval
["Content-Encoding: gzip", ""]
--- response_body_like eval
[qr/./s,
 qr/^\ {6}string:\ !!binary\ "[^"]+"\n.*
      ${\ main::hl('X-Id', '{{request.path.2}}') }.*
      ${\ main::hl('Content-Encoding', 'gzip') }.*${\ main::xm('header X-Id') }/msx]
--- no_error_log
[error]



=== TEST 11: a JSON array at the top, 10000 members, nesting deeper than 64 levels
--- user_files eval
[["big.json" => $main::BIG], ["deep.json" => $main::DEEP]]
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location /backend/array/ {
        default_type application/json;
        return 200 '[{"id": "70001"}, ["70001", 70001], "70001"]';
    }
    location /backend/big/ {
        default_type application/json;
        try_files /big.json =404;
    }
    location /backend/deep/ {
        default_type application/json;
        try_files /deep.json =404;
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/array/70001", "GET /api/big/70001", "GET /api/deep/70001",
 "GET /cassette"]
--- response_body_like eval
[qr/^\[/, qr/"m9999": 9999, "id": "70001"\}\z/, qr/"70001"/,
 qr/^\ {6}string:\ "${\ main::yq('[{"id": "{{request.path.2}}"}, ["{{request.path.2}}", {{request.path.2}}], "{{request.path.2}}"]') }"\n.*${\ main::xm('$[0].id', '$[1][0]', '$[1][1]', '$[2]') }
.*^\ {6}string:\ "${\ main::yq('{"m0": 0,"m1": 1,"m2": 2,') }(?:[^\n]*)${\ main::yq('"m9999": 9999, "id": "{{request.path.2}}"}') }"\n.*${\ main::xm('$.id') }
.*^\ {6}string:\ "(?:${\ main::yq('{"a": ') }){70}${\ main::yq('"70001"') }\}{70}"\n.*${\ main::xm() }/msx]
--- no_error_log
[error]



=== TEST 12: many headers: only the named request headers count, only the echoing response headers change
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on headers=X-Trace,x-tenant;
    }
    location /backend/ {
        default_type application/json;
        add_header X-A1 "trace-0001";
        add_header X-A2 "tenant-acme";
        add_header X-A3 "not-named-1";
        add_header X-A4 "value-04";
        add_header X-A5 "value-05";
        add_header X-A6 "value-06";
        add_header X-A7 "value-07";
        add_header X-A8 "value-08";
        add_header X-A9 "value-09";
        add_header X-A10 "value-10";
        add_header Content-Length-Echo "tenant-acme";
        return 200 '{"trace": "trace-0001", "other": "not-named-1", "twice": "dup-dup-1"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/h", "GET /cassette"]
--- more_headers eval
["X-Trace: trace-0001\r\nX-Tenant: tenant-acme\r\nX-Other: not-named-1\r\nX-B1: b1\r\nX-B2: b2\r\nX-B3: b3\r\nX-B4: b4\r\nX-B5: b5\r\nX-B6: b6\r\nX-B7: b7\r\nX-B8: b8\r\nX-B9: b9\r\nX-B10: b10\r\nX-B11: b11\r\nX-B12: b12\r\nX-B13: b13\r\nX-B14: b14\r\nX-B15: b15\r\nX-B16: b16\r\nX-B17: b17\r\nX-B18: b18\r\nX-B19: b19\r\nX-B20: b20\r\nX-Tenant2: x\r\n", ""]
--- response_body_like eval
[qr/trace/,
 qr/^\ {6}string:\ "${\ main::yq('{"trace": "{{request.header.X-Trace}}", "other": "not-named-1", "twice": "dup-dup-1"}') }"\n.*
${\ main::hl('X-A1', '{{request.header.X-Trace}}') }
      ${\ main::hl('X-A2', '{{request.header.x-tenant}}') }
      ${\ main::hl('X-A3', 'not-named-1') }.*
      ${\ main::hl('Content-Length-Echo', '{{request.header.x-tenant}}') }.*
      ${\ main::xm('$.trace', 'header X-A1', 'header X-A2', 'header Content-Length-Echo') }/msx]
--- no_error_log
[error]



=== TEST 13: "mock_record_templates off" in a location turns off what it inherits; filters apply first
--- http_config
    mock_record_templates on headers=X-User;
--- config
    location /on/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/on.yaml;
        mock_mode record;
    }
    location /off/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/off.yaml;
        mock_mode record;
        mock_record_templates off;
    }
    location /filtered/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/filtered.yaml;
        mock_mode record;
        mock_filter_header X-User REDACTED;
        mock_filter_query token;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"id": "70001", "user": "ada-lovelace", "token": "s3cret-tok"}';
    }
    location /cassette/ {
        default_type text/plain;
        alias html/;
    }
--- request eval
["GET /on/x/70001?token=s3cret-tok", "GET /off/x/70001?token=s3cret-tok",
 "GET /filtered/x/70001?token=s3cret-tok",
 "GET /cassette/on.yaml", "GET /cassette/off.yaml",
 "GET /cassette/filtered.yaml"]
--- more_headers
X-User: ada-lovelace
--- response_body_like eval
[qr/70001/, qr/70001/, qr/70001/,
 qr/^      string: "${\ main::yq('{"id": "{{request.path.2}}", "user": "{{request.header.X-User}}", "token": "{{request.query.token}}"}') }"\n.*${\ main::xm('$.id', '$.user', '$.token') }/ms,
 qr/^      string: "${\ main::yq('{"id": "70001", "user": "ada-lovelace", "token": "s3cret-tok"}') }"\n.*${\ main::xm() }/ms,
 qr/^      string: "${\ main::yq('{"id": "{{request.path.2}}", "user": "ada-lovelace", "token": "s3cret-tok"}') }"\n.*${\ main::xm('$.id') }/ms]
--- no_error_log
[error]



=== TEST 14: the templated interaction matches requests like the one recorded (new_episodes)
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode new_episodes;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_repeats on;
        mock_match method path query body;
        mock_record_templates on;
        add_header X-Mock-Status $mock_status always;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"id": 70001, "q": "query-value"}';
    }
--- request eval
["POST /api/users/70001?q=query-value\n{\"name\": \"Ada Lovelace\"}",
 "POST /api/users/70001?q=query-value\n{\"name\":\"Ada Lovelace\"}"]
--- more_headers
Content-Type: application/json
--- response_headers eval
["!X-Mock-Status", "X-Mock-Status: hit"]
--- response_body_like eval
[qr/\A\Q{"id": 70001, "q": "query-value"}\E\z/,
 main::either('{"id": {{request.path.2}}, "q": "{{request.query.q}}"}',
              '{"id": 70001, "q": "query-value"}')]
--- no_error_log
[error]



=== TEST 15: fallback: a replacement keeps its x_mock key; an unchanged templated answer writes nothing
--- config
    location /svc/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
        mock_replay html/fb.yaml;
        mock_mode fallback;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
        mock_record_templates on;
        add_header X-Mock-Status $mock_status always;
    }
    location /flaky/ {
        default_type application/json;
        if ($http_x_fail) {
            return 503 "down\n";
        }
        return 200 '{"id": "70001", "v": "$http_x_version"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/fb.yaml;
    }
--- request eval
["GET /svc/users/70001", "GET /svc/users/70001", "GET /svc/users/70001",
 "GET /cassette", "GET /svc/users/70001"]
--- more_headers eval
["X-Version: v1\r\n", "X-Version: v1\r\n", "X-Version: v2\r\n", "", "X-Fail: 1\r\n"]
--- response_headers eval
["!X-Mock-Status", "!X-Mock-Status", "!X-Mock-Status", "", "X-Mock-Status: fallback"]
--- response_body_like eval
[qr/"v1"/, qr/"v1"/, qr/"v2"/,
 qr/\A${\ quotemeta("# recorded by nginx") }(?:[^\n]*)${\ quotemeta("\nversion: 1\ninteractions:\n- request:\n") }(?:(?!^-\ ).)*
^\ {6}string:\ "${\ main::yq('{"id": "{{request.path.2}}", "v": "v2"}') }"\n(?:(?!^-\ ).)*${\ main::xm('$.id') }\S+\n\z/msx,
 main::either('{"id": "{{request.path.2}}", "v": "v2"}', '{"id": "70001", "v": "v2"}')]
--- no_error_log
[error]



=== TEST 16: the module loads a cassette whose x_mock keys hold keys it does not know
--- user_files
>>> x.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'plain a'}}
  x_mock:
    recorded: '2026-12-01T08:00:00Z'
    templated: ["$.id", "header Location"]
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'plain b'}}
  x_mock: {future: [1, {nested: [a, b]}], other: null}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'plain c'}}
  x_mock: {}
--- config
    location / {
        mock_replay html/x.yaml;
    }
--- request eval
["GET /a", "GET /b", "GET /c"]
--- response_body eval
["plain a", "plain b", "plain c"]
--- no_error_log
[error]



=== TEST 17: names an expression cannot hold are not templated
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"a": "query-dot", "b": "body-space", "the id": "path-7001", "c": "body-ok-1"}';
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["POST /api/x/path-7001?a.b=query-dot\n{\"user name\": \"body-space\", \"ok\": [\"body-ok-1\"]}",
 "GET /cassette"]
--- more_headers eval
["Content-Type: application/json", ""]
--- response_body_like eval
[qr/query-dot/,
 qr/^      string: "${\ main::yq('{"a": "query-dot", "b": "body-space", "the id": "path-7001", "c": "{{request.body.$.ok[0]}}"}') }"\n.*${\ main::xm('$.c') }/ms]
--- no_error_log
[error]



=== TEST 18: mock_record_templates: a value other than on or off
--- config
    location / {
        mock_replay html/x.yaml;
        mock_mode record;
        mock_record_templates yes;
    }
--- must_die
--- error_log eval
qr/invalid value "yes", expected "on" or "off" in \S+nginx\.conf:\d+/



=== TEST 19: mock_record_templates: min out of range
--- config
    location / {
        mock_replay html/x.yaml;
        mock_mode record;
        mock_record_templates on min=0;
    }
--- must_die
--- error_log eval
qr/invalid "min=0", expected min=N with N from 1 to 1024 characters in \S+nginx\.conf:\d+/



=== TEST 20: mock_record_templates: a header name that is not plain
--- config
    location / {
        mock_replay html/x.yaml;
        mock_mode record;
        mock_record_templates on headers=X-A,X.B;
    }
--- must_die
--- error_log eval
qr/invalid "headers=X-A,X\.B": a header name may have only letters, digits, "-" and "_" in \S+nginx\.conf:\d+/



=== TEST 21: mock_record_templates: an empty header name
--- config
    location / {
        mock_replay html/x.yaml;
        mock_mode record;
        mock_record_templates on headers=X-A,,X-B;
    }
--- must_die
--- error_log eval
qr/invalid "headers=X-A,,X-B": an empty header name in \S+nginx\.conf:\d+/



=== TEST 22: mock_record_templates: an unknown parameter, or one given twice
--- config
    location / {
        mock_replay html/x.yaml;
        mock_mode record;
        mock_record_templates on min=3 min=4;
    }
--- must_die
--- error_log eval
qr/invalid parameter "min=4" \(or given twice\), expected "min=N" or "headers=Name,\.\.\." in \S+nginx\.conf:\d+/



=== TEST 23: mock_record_templates: off takes no parameters
--- config
    location / {
        mock_replay html/x.yaml;
        mock_mode record;
        mock_record_templates off min=3;
    }
--- must_die
--- error_log eval
qr/"mock_record_templates off" takes no parameters, found "min=3" in \S+nginx\.conf:\d+/



=== TEST 24: mock_record_templates: twice in one block
--- config
    location / {
        mock_replay html/x.yaml;
        mock_mode record;
        mock_record_templates on;
        mock_record_templates off;
    }
--- must_die
--- error_log eval
qr/"mock_record_templates" directive is duplicate in \S+nginx\.conf:\d+/



=== TEST 25: in a location that only replays, the directive is accepted and does nothing
--- user_files
>>> x.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/users/70001', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: '{"id": "70001"}'}}
--- config
    location / {
        mock_replay html/x.yaml;
        mock_record_templates on;
    }
--- request
GET /users/70001
--- response_body: {"id": "70001"}
--- no_error_log
[error]



=== TEST 26: a body cut short is not recorded, templates or not; the whole one that follows is
--- init
main::upstream("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\": \"70001\"",
               "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"id\": \"70001\"}");
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/cut/70001", "GET /api/whole/70001", "GET /cassette"]
--- response_body_like eval
[qr/^\{"id": "70001"/, qr/^\{"id": "70001"\}\z/,
 qr/\A(?:(?!cut\/70001).)*uri: "http:\/\/127\.0\.0\.1:\d+\/whole\/70001"\n.*^      string: "${\ main::yq('{"id": "{{request.path.1}}"}') }"\n(?:(?!cut\/70001).)*\z/ms]
--- no_error_log
[alert]
[crit]
