# Response templates under hostile requests and cassettes: values that
# would break a header or a JSON body, dates at the edges, sessions that
# fill the zone, bodies deep or huge.

use Test::Nginx::Socket 'no_plan';
repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: "now" a hundred years back is before 1970, in every form
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/old', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{{now -36600d}}|{{now "%Y-%m-%d" -36600d}}|{{now epoch -36600d}}'}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
    }
--- request
GET /old
--- response_body_like chomp
^(19[0-6]\d-\d\d-\d\d)T\d\d:\d\d:\d\dZ\|\1\|-\d{9,10}$
--- no_error_log
[error]



=== TEST 2: a strftime format whose output is longer than 256 bytes
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/long', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '<{{now "%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c"}}>'}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
    }
--- request
GET /long
--- response_body_like chomp
^<(?:\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}){64}>$
--- no_error_log
[error]



=== TEST 3: bytes that are not UTF-8 become \ufffd in a JSON body
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/j', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"s": "<{{request.query.a}}>", "v": {{request.query.a}}}'}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request
GET /j?a=%ff%c3%a9%c3%c3%e2%82%ac%f0%9f%98%80%ed%a0%80%c0%af%e2%82
--- response_body eval
my $r = '\ufffd';
my $v = "$r\xc3\xa9$r$r\xe2\x82\xac\xf0\x9f\x98\x80" . ($r x 7);
qq[{"s": "<$v>", "v": "$v"}]
--- no_error_log
[error]



=== TEST 4: quotes, backslashes and control bytes stay inside the JSON string
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/j', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"q": "{{request.query.a}}", "b": {{request.body.$.x}}, "n": {{request.query.n}}}'}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request
POST /j?a=%22%5c%00%01%1f%7f%0d%0a%09&n=1e5
{"x": "a\"b\\c\u0000d"}
--- response_body eval
qq{{"q": "\\"\\\\\\u0000\\u0001\\u001f\x7f\\r\\n\\t", "b": "a\\"b\\\\c\\u0000d", "n": 1e5}}
--- no_error_log
[error]



=== TEST 5: CR, LF or NUL from a query, a decoded path, a capture drops only that header
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c/x/h', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      X-Q: ['{{request.query.a}}']
      X-Z: ['a{{request.query.z}}b']
      X-U: ['{{nginx.uri}}']
      X-P: ['{{path.id}}']
      X-Args: ['{{nginx.args}}']
      X-Ok: [fine]
    body: {string: "body"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method;
        mock_ignore path "/c/{id}/h";
    }
--- request
GET /c/a%0d%0aSet-Cookie:%20x=1/h?a=x%0d%0aInjected:%20y&z=%00
--- response_headers
!X-Q
!X-Z
!X-U
!X-P
!Set-Cookie
!Injected
X-Args: a=x%0d%0aInjected:%20y&z=%00
X-Ok: fine
--- response_body chomp
body
--- error_log
header "X-Q" of interaction 0
header "X-Z" of interaction 0
header "X-U" of interaction 0
header "X-P" of interaction 0
--- no_error_log
[error]



=== TEST 6: random.int at the largest bounds, and of one value
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/r', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{random.int -1000000000000 1000000000000}}|{{random.int 7 7}}|{{random.int -0 0}}|{{random.int -1000000000000 -1000000000000}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
    }
--- request
GET /r
--- response_body_like chomp
^-?\d{1,13}\|7\|0\|-1000000000000$
--- no_error_log
[error]



=== TEST 7: a random.int bound past the largest is refused
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/r', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{random.int -1000000000001 0}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
    }
--- must_die
--- error_log
"random.int" needs two integers



=== TEST 8: HEAD of a templated answer: the header is rendered, the body only counted
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: HEAD, uri: 'http://svc/hd', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain], X-Id: ['id-{{request.query.id}}']}
    body: {string: "body {{request.query.id}}{{request.query.id}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request
HEAD /hd?id=abcd
--- response_headers
X-Id: id-abcd
Content-Length: 13
--- response_body
--- no_error_log
[error]



=== TEST 9: one session's values are not another's
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/set', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{request.query.v as v}}"}
- request: {method: GET, uri: 'http://svc/get', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "[{{default var.v \"none\"}}]"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
        mock_session $arg_s;
    }
--- request eval
["GET /set?s=one&v=1", "GET /set?s=two&v=2", "GET /get?s=one",
 "GET /get?s=two", "GET /get?s=three", "GET /get"]
--- response_body eval
["1", "2", "[1]", "[2]", "[none]", "[none]"]
--- no_error_log
[error]



=== TEST 10: mock_template_vars 0 remembers nothing, with a warning
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/set', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{request.query.v as v}}[{{var.v}}]"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
        mock_template_vars 0;
    }
--- request
GET /set?v=1
--- response_body chomp
1[]
--- error_log
the value "v" is not remembered
--- no_error_log
[error]
