# Response templates: every expression of a recorded body or header value
# evaluated against the live request, made safe for where it stands.

use Test::Nginx::Socket 'no_plan';
use MIME::Base64 ();
repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: the request's method, path, segments, query, header and cookie
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/v1/users/7?q=a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: "{{request.method}} {{request.path}} [{{request.path.0}}|{{request.path.2}}|{{request.path.3}}] q={{ request.query.q }} h={{request.header.X-Who}} c={{request.cookie.sid}} none=[{{request.query.nope}}]"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
    }
--- request
GET /v1/users/7?q=a
--- more_headers
X-Who: alice
Cookie: a=1; sid=s%20x
--- response_body chomp
GET /v1/users/7 [v1|7|] q=a h=alice c=s%20x none=[]
--- no_error_log
[error]



=== TEST 2: query values are percent-decoded
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/q', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "<{{request.query.name}}>"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request
GET /q?name=J%C3%BCrgen%20M
--- response_body chomp
<Jürgen M>
--- no_error_log
[error]



=== TEST 3: JSON paths and form fields of the live body
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/j', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{request.body.$.a.b[1]}}|{{request.body.$.n}}|{{request.body.$.s}}|{{request.body.$.missing}}|{{request.body.$.o}}"}
- request: {method: POST, uri: 'http://svc/f', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{request.form.user}}|{{request.form.x}}|{{request.form.none}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request eval
["POST /j\n{\"a\": {\"b\": [\"x\", \"y\\u00e9\\\"\"]}, \"n\": 12.5, \"s\": \"t\\nu\", \"o\": {\"k\": 1}}",
 "POST /f\nuser=J+Doe%21&x=1"]
--- more_headers
Content-Type: application/whatever
--- response_body eval
["y\x{c3}\x{a9}\"|12.5|t\nu||{\"k\":1}", "J Doe!|1|"]
--- no_error_log
[error]



=== TEST 4: a JSON path into a body that is not JSON is empty
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/j', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "[{{request.body.$.a}}] [{{default request.body.$.a \"none\"}}]"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request
POST /j
this is {not json
--- response_body chomp
[] [none]
--- no_error_log
[error]



=== TEST 5: uuid, random.int and random.hex are fresh values of their form
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/r', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{uuid}} {{uuid}} {{random.int 1 6}} {{random.int -3 -3}} {{random.hex 16}} {{random.hex 1}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
    }
--- request
GET /r
--- response_body_like chomp
^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}) (?!\1)[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} [1-6] -3 [0-9a-f]{16} [0-9a-f]$
--- no_error_log
[error]



=== TEST 6: now, in its forms, with offsets
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/n', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{now}}|{{now epoch}}|{{now epoch_ms}}|{{now epoch +1d -2h}}|{{now \"%Y/%m/%d %H\"}}|{{now \"%Y\" +366d}}|{{now epoch -30s +1m}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
    }
--- request
GET /n
--- response_body_like eval
use POSIX ();
my $t = time;
my @g = gmtime($t);
my $y = POSIX::strftime("%Y", @g);
my $next = POSIX::strftime("%Y", gmtime($t + 366 * 86400));
qr{^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|(\d{10})\|(\d{13})\|(\d{10})\|\d{4}/\d\d/\d\d \d\d\|$next\|\d{10}$}
--- no_error_log
[error]



=== TEST 7: now's offsets move the time
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/n', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{now epoch +1d -2h}} {{now epoch -1w +30m +10s}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
    }
--- request
GET /n
--- response_body_like eval
my $t = time;
my $a = join "|", map { $_ + 79200 } $t - 5 .. $t + 60;
my $b = join "|", map { $_ - 604800 + 1810 } $t - 5 .. $t + 60;
qr{^(?:$a) (?:$b)$}
--- no_error_log
[error]



=== TEST 8: nginx variables, found by name when the request is answered
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/v', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{nginx.request_id}}|{{nginx.remote_addr}}|{{nginx.arg_x}}|{{nginx.Mine}}|[{{nginx.no_such_var_here}}]"}
--- config
    set $mine "own";
    location / {
        set $mine "own value";
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request
GET /v?x=42
--- response_body_like chomp
^[0-9a-f]{32}\|127\.0\.0\.1\|42\|own value\|\[\]$
--- no_error_log
[error]



=== TEST 9: default gives the fallback for an empty value; strings are literal
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/d', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{default request.query.a \"none\"}} {{default request.query.b \"none\"}} {{ \"{{\" }} x }} {{\"say \\\"hi\\\" \\\\ }}\"}} {{default var.never \"\"}}."}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request
GET /d?b=given
--- response_body chomp
none given {{ x }} say "hi" \ }} .
--- no_error_log
[error]



=== TEST 10: in a JSON body: escaped inside strings, numbers or strings standing alone
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/j', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json; charset=utf-8]}
    body: {string: '{"in": "<{{request.query.v}}>", "esc\"{{request.query.v}}": 1, "n": {{request.query.n}}, "s": {{request.query.v}}, "e": {{request.query.none}}, "x": {{request.query.x}}}'}
- request: {method: GET, uri: 'http://svc/p', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/problem+json]}
    body: {string: '{"v": {{request.query.v}}}'}
- request: {method: GET, uri: 'http://svc/t', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: '{"v": "{{request.query.v}}"}'}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request eval
["GET /j?v=a%22b%5C%0Ac%01&n=-12.5e3&x=012",
 "GET /p?v=7",
 "GET /t?v=a%22b"]
--- response_body eval
["{\"in\": \"<a\\\"b\\\\\\nc\\u0001>\", \"esc\\\"a\\\"b\\\\\\nc\\u0001\": 1, \"n\": -12.5e3, \"s\": \"a\\\"b\\\\\\nc\\u0001\", \"e\": \"\", \"x\": \"012\"}",
 "{\"v\": 7}",
 "{\"v\": \"a\"b\"}"]
--- no_error_log
[error]



=== TEST 11: header values: templated, Content-Length recomputed
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/orders', body: null, headers: {}}
  response:
    status: {code: 201, message: Created}
    headers:
      Location: ['/orders/{{request.query.id}}']
      Content-Length: ['2']
      X-Two: ['{{request.method}}', 'b-{{request.query.id}}']
    body: {string: "id={{request.query.id}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request
POST /orders?id=12345
--- error_code: 201
--- response_headers
Location: /orders/12345
Content-Length: 8
--- raw_response_headers_like: X-Two: POST\r\nX-Two: b-12345\r\n
--- response_body chomp
id=12345
--- no_error_log
[error]



=== TEST 12: a value with CR, LF or NUL drops its header, with a warning
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/h', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      X-Echo: ['{{request.query.v}}']
      X-Kept: ['{{request.query.ok}}']
    body: {string: "[{{request.query.v}}]"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request eval
["GET /h?v=a%0D%0AX-Evil:%201&ok=yes", "GET /h?v=a%0Ab&ok=yes", "GET /h?v=a%00b&ok=yes"]
--- response_headers eval
[("!X-Evil\n!X-Echo\nX-Kept: yes") x 3]
--- response_body eval
["[a\r\nX-Evil: 1]", "[a\nb]", "[a\0b]"]
--- error_log
header "X-Echo" of interaction 0 of
is dropped: its template made a value with CR, LF or NUL
--- no_error_log
[error]



=== TEST 13: 8 KB of a request header: fine in a body, dropped from a header
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/h', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      X-Echo: ['v={{request.header.X-Big}}!']
      X-Small: ['{{request.header.X-Small}}']
    body: {string: "{{request.header.X-Big}}"}
--- http_config
    large_client_header_buffers 4 16k;
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
    }
--- request
GET /h
--- more_headers eval
"X-Big: " . ("x" x 8190) . "\nX-Small: s"
--- response_headers
!X-Echo
X-Small: s
Content-Length: 8190
--- response_body eval
"x" x 8190
--- error_log
is dropped: its template made 8193 bytes, more than 8192
--- no_error_log
[error]



=== TEST 14: values are never evaluated again
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/r', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {X-R: ['{{request.query.v}}']}
    body: {string: "{{request.query.v}}|{{uuid as u}}{{default request.query.w \"{{uuid}}\"}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request
GET /r?v=%7B%7Buuid%7D%7D
--- response_headers
X-R: {{uuid}}
--- response_body_like chomp
^\{\{uuid\}\}\|[0-9a-f-]{36}\{\{uuid\}\}$
--- no_error_log
[error]



=== TEST 15: !!binary bodies are never templated; their headers are
--- user_files eval
[["t.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}\n  response:\n    status: {code: 200, message: OK}\n    headers: {X-B: ['{{request.method}}']}\n    body: {string: !!binary " . MIME::Base64::encode_base64("{{uuid}}\x00\xff", "") . "}\n"]]
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
    }
--- request
GET /b
--- response_headers
X-B: GET
Content-Length: 10
--- response_body eval
"{{uuid}}\x00\xff"
--- no_error_log
[error]



=== TEST 16: HEAD gets the templated length and no body; 204 and 304 end with their header
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/g', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {X-G: ['{{request.method}}']}
    body: {string: "{{request.query.v}}!"}
- request: {method: GET, uri: 'http://svc/n', body: null, headers: {}}
  response:
    status: {code: 204, message: No Content}
    headers: {X-N: ['{{request.query.v}}']}
    body: {string: ""}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- raw_request eval
"GET /n?v=abc HTTP/1.1\r\nHost: localhost\r\n\r\n"
. "GET /g?v=abcd HTTP/1.1\r\nHost: localhost\r\n\r\n"
. "HEAD /g?v=abc HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 204
--- response_headers
X-N: abc
!Content-Length
--- response_body_like chomp
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*Content-Length: 5\r\n(?:[^\r\n]+\r\n)*\r\nabcd!HTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)*Content-Length: 4\r\n(?:[^\r\n]+\r\n)*X-G: HEAD\r\n(?:[^\r\n]+\r\n)*\r\n\z
--- no_error_log
[error]



=== TEST 17: mock_template marked: only interactions that x_mock marks
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/m', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{request.method}}"}
  x_mock: {templated: [], recorded: '2026-12-01T08:00:00Z', later: {any: thing}}
- request: {method: GET, uri: 'http://svc/u', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{request.method}} {{ no such thing"}
  x_mock: {recorded: 1764576000}
- request: {method: GET, uri: 'http://svc/p', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{request.method}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_repeats on;
    }
--- request eval
["GET /m", "GET /u", "GET /p"]
--- response_body eval
["GET", "{{request.method}} {{ no such thing", "{{request.method}}"]
--- no_error_log
[error]



=== TEST 18: mock_template off: a cassette with "{{" replays as recorded
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/m', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {X-T: ['{{ broken']}
    body: {string: "{{ not an expression"}
  x_mock: {templated: [$.id]}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template off;
        mock_repeats on;
    }
--- request
GET /m
--- response_headers
X-T: {{ broken
--- response_body chomp
{{ not an expression
--- no_error_log
[error]



=== TEST 19: one cassette in locations of each mode
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/m', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{request.path}}"}
--- config
    location /m {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
    }
    location /off/ {
        mock_replay html/t.yaml;
        mock_template off;
        mock_repeats on;
        mock_upstream http://svc/;
    }
--- request eval
["GET /m", "GET /off/m", "GET /m"]
--- response_body eval
["/m", "{{request.path}}", "/m"]
--- no_error_log
[error]



=== TEST 20: a body of many expressions
--- user_files eval
[["t.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/many', body: null, headers: {}}\n  response:\n    status: {code: 200, message: OK}\n    headers: {}\n    body: {string: '" . ("{{request.query.v}}," x 20000) . "'}\n"]]
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request
GET /many?v=ab
--- response_body eval
"ab," x 20000
--- no_error_log
[error]



=== TEST 21: query and form values decode as matching does: "+" is a space, a malformed escape stays
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/q', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "<{{request.query.name}}> <{{request.form.f}}>"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /q?name=Ada+Lovelace%zz%4
f=a+b%2Bc%g1
--- response_body chomp
<Ada Lovelace%zz%4> <a b+c%g1>
--- no_error_log
[error]
