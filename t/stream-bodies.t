# Streams on replay, what they send: the chunks of an interaction with
# x_mock chunks, chunked to HTTP/1.1 and whole to HTTP/1.0, with and
# without "mock_latency recorded", templated chunk by chunk, none for
# HEAD, a fault in its place; recorded times without chunks keep the
# length; a session's "recorded" latency.
# Bodies only: t/stream-replay.t measures the times.

use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: chunks at once: the chunked framing has the recorded chunks
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/sse', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: bb\n\n"}
  x_mock:
    chunks:
    - {at: 0, size: 9}
    - {at: 30, string: "data: bb\n\n"}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
    }
--- request
GET /api/sse
--- raw_response_headers_like: Transfer-Encoding: chunked\r\n
--- response_body eval
"data: a\n\ndata: bb\n\n"
--- response_headers
Content-Type: text/event-stream
!Content-Length
--- no_error_log
[error]
[alert]



=== TEST 2: chunks with their gaps, scaled, over HTTP/1.1 and HTTP/1.0
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/sse', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\ndata: c\n\n"}
  x_mock:
    timing: {wait: 20, receive: 80}
    chunks:
    - {at: 0, size: 9}
    - {at: 20, size: 9}
    - {at: 40ms, size: 9}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_latency recorded x0.5;
    }
--- pipelined_requests eval
["GET /api/sse", "GET /api/sse"]
--- response_body eval
["data: a\n\ndata: b\n\ndata: c\n\n", "data: a\n\ndata: b\n\ndata: c\n\n"]
--- no_error_log
[error]
[alert]



=== TEST 3: HTTP/1.0: the whole body up to the close, not chunked
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/sse', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {at: 0, size: 9}
    - {at: 20, size: 9}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_latency recorded;
    }
--- request
GET /api/sse HTTP/1.0
--- raw_response_headers_unlike: Transfer-Encoding
--- response_body eval
"data: a\n\ndata: b\n\n"
--- no_error_log
[error]



=== TEST 4: HEAD: the length of the whole body, and no body
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/sse', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {at: 0, size: 9}
    - {at: 20, size: 9}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_latency recorded;
    }
--- request
HEAD /api/sse
--- response_headers
Content-Length: 18
--- response_body
--- no_error_log
[error]



=== TEST 5: templates: each chunk rendered where it stands, an expression never split
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/t', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: {{ request.method }}\n\ndata: {{ request.path }}!\n\n"}
  x_mock:
    chunks:
    - {at: 0, string: "data: {{ request.method }}\n\n"}
    - {at: 10, string: "data: {{ req"}
    - {at: 20, string: "uest.path }}!\n\n"}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_template on;
        mock_latency recorded;
    }
--- request
GET /api/t
--- response_body eval
"data: GET\n\ndata: /api/t!\n\n"
--- no_error_log
[error]



=== TEST 6: recorded times without chunks: one piece, with its length
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/j', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 7}'}
  x_mock:
    timing: {send: 1, wait: 10.5, receive: 20}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_latency recorded;
        add_header X-Latency $mock_latency;
    }
--- request
GET /api/j
--- response_headers
Content-Length: 9
X-Latency: 12
--- response_body: {"id": 7}
--- no_error_log
[error]



=== TEST 7: a fault takes a stream's place as it takes any answer's
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/sse', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {at: 0, size: 9}
    - {at: 20, size: 9}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_latency recorded;
        mock_fault status=503;
    }
--- request
GET /api/sse
--- error_code: 503
--- response_body
mock: injected fault
--- no_error_log
[alert]



=== TEST 8: a session's "recorded" latency, and the admin API prints it back
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/sse', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    timing: {wait: 30, receive: 60}
    chunks:
    - {at: 0, size: 9}
    - {at: 20, size: 9}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_session $http_x_session;
        add_header X-Latency $mock_latency;
    }
    location /_mock/ {
        mock_admin;
    }
--- request eval
["POST /_mock/latency\n{\"session\": \"s1\", \"latency\": \"recorded x0.5\"}",
 "GET /api/sse"]
--- more_headers eval
["Content-Type: application/json\r\n", "X-Session: s1\r\n"]
--- response_body_like eval
[qr/\A\{"session": "s1", "latency": "recorded x0\.500"\}\n\z/,
 qr/\Adata: a\n\ndata: b\n\n\z/]
--- response_headers eval
["", "X-Latency: 15"]
--- no_error_log
[error]
