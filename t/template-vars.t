# Values that templates remember in a session ("as NAME", "var.NAME"),
# and the play counters "seq" reads.  They live in the shared zone for
# the life of nginx, so each block runs once, with two workers.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();
master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: seq counts the plays of a sequence; session is "default" without one
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/s', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "first {{seq}} {{session}}"}
- request: {method: GET, uri: 'http://svc/s', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "second {{seq}} {{session}}"}
- request: {method: GET, uri: 'http://svc/s', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "third {{seq}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
    }
--- request eval
["GET /s", "GET /s", "GET /s"]
--- response_body eval
["first 1 default", "second 2 default", "third 3"]
--- no_error_log
[error]



=== TEST 2: seq and session per session
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/s', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{session}}:{{seq}}"}
- request: {method: GET, uri: 'http://svc/s', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "{{session}}:{{seq}}"}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_match method path;
        mock_session $arg_s;
    }
--- request eval
["GET /s?s=a", "GET /s?s=b", "GET /s?s=a", "GET /s?s=b"]
--- response_body eval
["a:1", "b:1", "a:2", "b:2"]
--- no_error_log
[error]



=== TEST 3: a value remembered by one answer is used by later ones of the session
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/orders', body: null, headers: {}}
  response:
    status: {code: 201, message: Created}
    headers:
      Content-Type: [application/json]
      Location: ['/orders/{{var.order_id}}']
    body: {string: '{"order_id": "{{uuid as order_id}}", "n": {{random.int 1 9 as n}}}'}
- request: {method: GET, uri: 'http://svc/orders/latest', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"order_id": "{{var.order_id}}", "n": {{var.n}}, "none": "{{default var.never "fallback"}}", "empty": "{{var.never}}"}'}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_session $http_x_test_id;
    }
--- pipelined_requests eval
["POST /orders", "GET /orders/latest", "GET /orders/latest"]
--- more_headers
X-Test-Id: t3
--- error_code eval
[201, 200, 200]
--- response_body_like eval
[qr/^\{"order_id": "([0-9a-f-]{36})", "n": [1-9]\}$/,
 qr/^\{"order_id": "[0-9a-f-]{36}", "n": [1-9], "none": "fallback", "empty": ""\}$/,
 qr/^\{"order_id": "[0-9a-f-]{36}", "n": [1-9], "none": "fallback", "empty": ""\}$/]
--- no_error_log
[error]



=== TEST 4: the same value in every worker and answer, another in another session
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/set', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'set {{request.query.v as v}}'}
- request: {method: GET, uri: 'http://svc/get', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {X-V: ['{{var.v}}']}
    body: {string: 'got {{default var.v "nothing"}}'}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
        mock_session $arg_s;
    }
--- request eval
["POST /set?s=a&v=one", "POST /set?s=b&v=two",
 (map { "GET /get?s=a" } 1 .. 10), "GET /get?s=b", "GET /get?s=c",
 "POST /set?s=a&v=three", "GET /get?s=a"]
--- response_body eval
["set one", "set two", (map { "got one" } 1 .. 10), "got two", "got nothing",
 "set three", "got three"]
--- no_error_log
[error]



=== TEST 5: resetting a session forgets its values, not another session's
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/set', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'set {{request.query.v as v}}'}
- request: {method: GET, uri: 'http://svc/get', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'got {{default var.v "nothing"}}'}
--- config
    location /_mock/ {
        mock_admin;
    }
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
        mock_session $arg_s;
    }
--- request eval
["POST /set?s=a&v=one", "POST /set?s=b&v=two", "POST /_mock/reset?session=a",
 "GET /get?s=a", "GET /get?s=b", "POST /_mock/reset", "GET /get?s=b"]
--- more_headers eval
["",
 "",
 "Content-Type: application/json\r\n",
 "",
 "",
 "Content-Type: application/json\r\n",
 ""]
--- response_body_like eval
["set one", "set two", qr/reset/, "got nothing", "got two", qr/reset/,
 "got nothing"]
--- no_error_log
[error]



=== TEST 6: a value that does not fit mock_template_vars is not remembered
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/set', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{{request.query.k as k}} {{request.query.v as v}} -> {{var.k}} {{default var.v "none"}}'}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_template_vars 20;
        mock_repeats on;
        mock_match method path;
        mock_session $arg_s;
    }
--- request
POST /set?s=a&k=0123456789&v=toolongvalue
--- response_body chomp
0123456789 toolongvalue -> 0123456789 none
--- error_log
mock: the value "v" is not remembered: its 12 bytes do not fit the 20 of mock_template_vars of session "a"
--- no_error_log
[error]



=== TEST 7: a full zone: values are not remembered, the answer still goes out
--- http_config
    mock_zone zone=small:128k;
    mock_journal 10;
--- user_files eval
[["t.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/set', body: null, headers: {}}\n  response:\n    status: {code: 200, message: OK}\n    headers: {}\n    body: {string: '" . CORE::join("", map { "{{request.header.X-Big as b$_}}" } 1 .. 40) . "{{default var.b40 \"lost\"}}'}\n"]]
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_template_vars 1m;
        mock_repeats on;
        mock_match method path;
        mock_session $arg_s;
    }
--- request
GET /set?s=full
--- more_headers eval
"X-Big: " . ("b" x 7000)
--- response_body eval
("b" x (7000 * 40)) . "lost"
--- error_log eval
qr/mock: zone is full: the value "b\d+" is not remembered; reset finished sessions/
--- no_error_log
[error]
[alert]
