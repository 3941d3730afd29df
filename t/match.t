# Matchers: body (JSON, form, raw), headers, and the upstream URL that a
# gateway request is compared as (mock_upstream, like proxy_pass).

use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: JSON bodies match whatever their key order and spacing
--- user_files
>>> b.yaml
version: 1
interactions:
- request:
    method: POST
    uri: http://svc/users
    body: '{"name": "Ada", "tags": ["a", "b"], "meta": {"z": 1, "a": null}}'
    headers:
      Content-Type: [application/json]
  response:
    status: {code: 201, message: Created}
    headers: {}
    body: {string: 'ada'}
- request:
    method: POST
    uri: http://svc/users
    body: '{"name": "Bob"}'
    headers:
      Content-Type: [application/json]
  response:
    status: {code: 201, message: Created}
    headers: {}
    body: {string: 'bob'}
--- config
    location / {
        mock_replay html/b.yaml;
        mock_match method path query body;
        mock_repeats on;
    }
--- more_headers
Content-Type: application/json; charset=utf-8
--- request eval
["POST /users\n{ \"meta\":{\"a\":null,\"z\":1},\"tags\":[\"a\",\"b\"],\n  \"name\":\"Ada\" }",
 "POST /users\n{\"name\":\"Bob\"}",
 "POST /users\n{\"name\":\"Eve\"}",
 "POST /users\n{\"tags\":[\"b\",\"a\"],\"name\":\"Ada\",\"meta\":{\"a\":null,\"z\":1}}"]
--- response_body_like eval
["^ada\$", "^bob\$", "differs in: body", "differs in: body"]
--- error_code eval
[201, 201, 404, 404]
--- no_error_log
[error]



=== TEST 2: form bodies match whatever their field order
--- user_files
>>> f.yaml
version: 1
interactions:
- request:
    method: POST
    uri: http://svc/login
    body: user=ada&pass=s3cret&remember=1
    headers:
      Content-Type: [application/x-www-form-urlencoded]
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'welcome'}
--- config
    location / {
        mock_replay html/f.yaml;
        mock_match method path body;
        mock_repeats on;
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /login\nremember=1&pass=s3cret&user=ada", "POST /login\nremember=1&pass=other&user=ada"]
--- response_body_like eval
["^welcome\$", "differs in: body"]
--- error_code eval
[200, 404]
--- no_error_log
[error]



=== TEST 3: other bodies are compared byte for byte, binary included
--- user_files
>>> r.yaml
version: 1
interactions:
- request:
    method: PUT
    uri: http://svc/blob
    body: !!binary AAEC/w==
    headers:
      Content-Type: [application/octet-stream]
  response:
    status: {code: 204, message: No Content}
    headers: {}
    body: {string: ''}
--- config
    location / {
        mock_replay html/r.yaml;
        mock_match method path body;
        mock_repeats on;
    }
--- more_headers
Content-Type: application/octet-stream
--- request eval
["PUT /blob\n\x00\x01\x02\xff", "PUT /blob\n\x00\x01\x02\xfe"]
--- error_code eval
[204, 404]
--- no_error_log
[error]



=== TEST 4: a body bigger than the body buffer is read from its temp file
--- user_files eval
my $body = "x" x 20000;
[["big.yaml" => "version: 1\ninteractions:\n- request:\n    method: POST\n"
  . "    uri: http://svc/upload\n    body: '$body'\n    headers: {}\n"
  . "  response:\n    status: {code: 200, message: OK}\n    headers: {}\n"
  . "    body: {string: 'stored'}\n"]]
--- config
    location / {
        client_body_buffer_size 1k;
        mock_replay html/big.yaml;
        mock_match method path body;
        mock_repeats on;
    }
--- request eval
"POST /upload\n" . ("x" x 20000)
--- response_body chomp
stored
--- no_error_log
[error]



=== TEST 5: chosen request headers must match
--- user_files
>>> h.yaml
version: 1
interactions:
- request:
    method: GET
    uri: http://svc/report
    body: null
    headers:
      Accept: [application/json]
      X-Api-Version: ['2']
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'v2 json'}
- request:
    method: GET
    uri: http://svc/report
    body: null
    headers:
      accept: [text/csv]
      X-Api-Version: ['2']
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'v2 csv'}
--- config
    location / {
        mock_replay html/h.yaml;
        mock_match method path headers=Accept,X-Api-Version;
        mock_repeats on;
    }
--- request eval
["GET /report", "GET /report", "GET /report"]
--- more_headers eval
["Accept: application/json\r\nX-Api-Version: 2\r\n",
 "x-api-version: 2\r\nAccept: text/csv\r\n",
 "Accept: application/json\r\nX-Api-Version: 3\r\n"]
--- response_body_like eval
["^v2 json\$", "^v2 csv\$", "differs in: headers"]
--- error_code eval
[200, 200, 404]
--- no_error_log
[error]



=== TEST 6: mock_upstream replaces the location prefix, as proxy_pass does
--- user_files
>>> u.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://payments.internal:8080/v1/charges/9?full=1', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'charge 9'}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:1/v1/;
        mock_upstream http://payments.internal:8080/v1/;
        mock_replay html/u.yaml;
        mock_match method scheme host port path query;
        mock_repeats on;
    }
--- request eval
["GET /api/charges/9?full=1", "GET /api/charges/8?full=1"]
--- response_body_like eval
["^charge 9\$", "compared as path: /v1/charges/8\n"]
--- error_code eval
[200, 404]
--- no_error_log
[error]



=== TEST 7: scheme, host and port are compared with the recorded URL
--- user_files
>>> u.yaml
version: 1
interactions:
- request: {method: GET, uri: 'https://payments.internal/status', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'tls'}
--- config
    location /a/ {
        mock_upstream https://payments.internal/;
        mock_replay html/u.yaml;
        mock_match method scheme host port path;
        mock_repeats on;
    }
    location /b/ {
        mock_upstream http://payments.internal/;
        mock_replay html/u.yaml;
        mock_match method scheme host port path;
        mock_repeats on;
    }
    location /c/ {
        mock_upstream https://other.internal:8443/;
        mock_replay html/u.yaml;
        mock_match method scheme host port path;
        mock_repeats on;
    }
--- request eval
["GET /a/status", "GET /b/status", "GET /c/status"]
--- error_code eval
[200, 404, 404]
--- response_body_like eval
["^tls\$", "differs in: scheme, port\n", "differs in: host, port\n"]
--- no_error_log
[error]



=== TEST 8: without a URI part the request path is compared as it is
--- user_files
>>> u.yaml
version: 1
interactions:
- request: {method: GET, uri: 'https://payments.internal/a/status', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'tls'}
--- config
    location /a/ {
        mock_upstream https://payments.internal;
        mock_replay html/u.yaml;
        mock_match method scheme host port path;
        mock_repeats on;
    }
--- request
GET /a/status
--- response_body chomp
tls
--- no_error_log
[error]



=== TEST 9: without mock_upstream, host and port are the request's own
--- user_files
>>> u.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://localhost:$TEST_NGINX_SERVER_PORT/here', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'local'}
--- config
    location / {
        mock_replay html/u.yaml;
        mock_match method scheme host port path;
        mock_repeats on;
    }
--- request
GET /here
--- response_body chomp
local
--- no_error_log
[error]
