# mock_ignore and templates against hostile requests: a parameter
# repeated ten thousand times, JSON nested past any sense, a multipart
# part with a huge header.

use Test::Nginx::Socket 'no_plan';
repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: an ignored query parameter repeated 10,000 times still matches
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/q?x=1&ts=5', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "hit"}
--- config
    large_client_header_buffers 4 256k;
    location / {
        mock_replay html/t.yaml;
        mock_repeats on;
        mock_ignore query ts;
    }
--- request eval
"GET /q?x=1&" . CORE::join("&", map { "ts=$_" } 1 .. 10000)
--- response_body chomp
hit
--- no_error_log
[error]



=== TEST 2: a compared parameter repeated 10,000 times is a miss
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/q?x=1&ts=5', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "hit"}
--- config
    large_client_header_buffers 4 256k;
    location / {
        mock_replay html/t.yaml;
        mock_repeats on;
        mock_ignore query ts;
    }
--- request eval
"GET /q?" . CORE::join("&", ("x=1") x 10000)
--- error_code: 404
--- response_body_like chomp
differs in: query\n
--- no_error_log
[error]



=== TEST 3: a body nested 200,000 deep is a miss where bodies are compared
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/b', body: '{"a": 1, "meta": {"sent_at": 3}}', headers: {Content-Type: [application/json]}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "hit"}
--- config
    client_body_buffer_size 10m;
    location / {
        mock_replay html/t.yaml;
        mock_repeats on;
        mock_match method path body;
        mock_ignore body $.meta.sent_at $.items[*].nonce;
    }
--- more_headers
Content-Type: application/json
--- request eval
["POST /b\n" . '{"a": 1, "d": ' . ("[" x 200000) . ("]" x 200000) . ', "meta": {"sent_at": 9}}',
 "POST /b\n" . '{"a": 1, "d": ' . ('{"k":' x 200000) . "1" . ("}" x 200000) . "}",
 "POST /b\n" . '{"a": 1, "meta": {"sent_at": 9}}']
--- error_code eval
[404, 404, 200]
--- no_error_log
[error]



=== TEST 4: a JSON path after a value nested 200,000 deep is empty
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/j', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"x": {{request.body.$.x}}, "d": "{{request.body.$.d[0][0]}}"}'}
--- config
    client_body_buffer_size 10m;
    location / {
        mock_replay html/t.yaml;
        mock_template on;
        mock_repeats on;
        mock_match method path;
    }
--- request eval
["POST /j\n" . '{"d": ' . ("[" x 200000) . ("]" x 200000) . ', "x": 5}',
 "POST /j\n" . '{"d": [[7]], "x": 5}']
--- response_body eval
['{"x": "", "d": ""}', '{"x": 5, "d": "7"}']
--- no_error_log
[error]



=== TEST 5: a multipart part with a 200 KB header is compared by its fields
--- user_files
>>> t.yaml
version: 1
interactions:
- request:
    method: POST
    uri: 'http://svc/m'
    body: "--XX\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--XX--\r\n"
    headers: {Content-Type: ['multipart/form-data; boundary=XX']}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "multi"}
--- config
    client_body_buffer_size 10m;
    location / {
        mock_replay html/t.yaml;
        mock_repeats on;
        mock_match method path body;
    }
--- more_headers
Content-Type: multipart/form-data; boundary=YY
--- request eval
["POST /m\n--YY\r\nContent-Disposition: form-data; name=\"f\"; x=\"" . ("a" x 200000) . "\"\r\n\r\nv\r\n--YY--\r\n",
 "POST /m\n--YY\r\nContent-Disposition: form-data; name=\"" . ("f" x 200000) . "\"\r\n\r\nv\r\n--YY--\r\n"]
--- error_code eval
[200, 404]
--- no_error_log
[error]
