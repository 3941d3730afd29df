# Hostile or broken requests get a precise 4xx and never hurt a worker.

use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a huge URI is refused with 414
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
    }
--- request eval
"GET /" . ("a" x 20000)
--- error_code: 414
--- no_error_log
[error]



=== TEST 2: a URI that climbs above the root is refused with 400
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
    }
--- raw_request eval
"GET /../../etc/passwd HTTP/1.0\r\n\r\n"
--- error_code: 400
--- no_error_log
[error]



=== TEST 3: a body over client_max_body_size is refused with 413
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        client_max_body_size 1k;
        mock_replay html/c.yaml;
        mock_match method path body;
    }
--- request eval
"POST /upload\n" . ("x" x 4096)
--- error_code: 413
--- no_error_log
[alert]
[crit]



=== TEST 4: malformed and deeply nested JSON is compared raw, a plain miss
--- user_files
>>> c.yaml
version: 1
interactions:
- request:
    method: POST
    uri: http://svc/j
    body: '{"a": 1}'
    headers: {Content-Type: [application/json]}
  response: {status: {code: 200}, headers: {}, body: {string: 'ok'}}
--- config
    location / {
        mock_replay html/c.yaml;
        mock_match method path body;
        mock_repeats on;
    }
--- more_headers
Content-Type: application/json
--- request eval
["POST /j\n{\"a\": 1", "POST /j\n" . ("[" x 100000), "POST /j\n\"\x01\"", "POST /j\n{\"a\":1}"]
--- error_code eval
[404, 404, 404, 200]
--- response_body_like eval
["differs in: body", "differs in: body", "differs in: body", "^ok\$"]
--- no_error_log
[error]



=== TEST 5: a query with thousands of parameters is sorted, not choked on
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/q?b=2&a=1', body: null, headers: {}}
  response: {status: {code: 200}, headers: {}, body: {string: 'ok'}}
--- config
    large_client_header_buffers 4 64k;
    location / {
        mock_replay html/c.yaml;
        mock_repeats on;
    }
--- request eval
["GET /q?" . CORE::join("&", map { "k$_=v" } CORE::reverse 1 .. 5000), "GET /q?a=1&b=2"]
--- error_code eval
[404, 200]
--- no_error_log
[error]



=== TEST 6: a request line that is not HTTP gets 400
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
    }
--- raw_request eval
"GARBAGE\x00\x01 / HTTP/1.1\r\n\r\n"
--- error_code: 400
--- no_error_log
[error]



=== TEST 7: percent-escapes that decode to nothing sensible are a miss
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a%zz?x=%G1&y=%', body: null, headers: {}}
  response: {status: {code: 200}, headers: {}, body: {string: 'odd'}}
--- config
    location / {
        mock_replay html/c.yaml;
        mock_repeats on;
    }
--- request eval
["GET /b?x=%25&y=%ff%fe", "GET /a%25zz?y=%25&x=%25G1"]
--- error_code eval
[404, 200]
--- no_error_log
[error]
