# Answers that end with their header (204, 304, and any answer to HEAD)
# carry no body bytes and no Content-Length they may not have, whatever
# the cassette recorded, so the next answer on a keep-alive connection
# starts right after them; 1xx statuses are not final answers and are
# refused at load.

use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a 204 with a reason phrase and a recorded body, then the next answer
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://svc/nc"}
  response:
    status: {code: 204, message: No Content}
    headers:
      Content-Type: [text/plain]
    body: {string: leak}
--- config
    location / {
        mock_replay html/c.yaml;
        mock_repeats on;
    }
    location = /next {
        return 200 "next";
    }
--- raw_request eval
"GET /nc HTTP/1.1\r\nHost: localhost\r\n\r\n"
. "GET /next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 204
--- raw_response_headers_like
^HTTP/1\.1 204 No Content\r
--- response_headers
!Content-Length
!Transfer-Encoding
--- response_body_like chomp
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)+\r\nnext\z
--- no_error_log
[error]



=== TEST 2: a 304 with a reason phrase and a recorded body, then the next answer
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://svc/nm"}
  response:
    status: {code: 304, message: Not Modified}
    headers:
      ETag: ['"v1"']
    body: {string: leak}
--- config
    location / {
        mock_replay html/c.yaml;
        mock_repeats on;
    }
    location = /next {
        return 200 "next";
    }
--- raw_request eval
"GET /nm HTTP/1.1\r\nHost: localhost\r\n\r\n"
. "GET /next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 304
--- response_headers
ETag: "v1"
!Content-Length
!Transfer-Encoding
--- response_body_like chomp
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)+\r\nnext\z
--- no_error_log
[error]



=== TEST 3: a 304 without a reason phrase has no Content-Length either
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://svc/nm"}
  response:
    status: {code: 304}
--- config
    location / {
        mock_replay html/c.yaml;
        mock_repeats on;
    }
    location = /next {
        return 200 "next";
    }
--- raw_request eval
"GET /nm HTTP/1.1\r\nHost: localhost\r\n\r\n"
. "GET /next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 304
--- raw_response_headers_like
^HTTP/1\.1 304 Not Modified\r
--- response_headers
!Content-Length
--- response_body_like chomp
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)+\r\nnext\z
--- no_error_log
[error]



=== TEST 4: a 204 without a reason phrase, then the next answer
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://svc/nc"}
  response:
    status: {code: 204}
--- config
    location / {
        mock_replay html/c.yaml;
        mock_repeats on;
    }
    location = /next {
        return 200 "next";
    }
--- raw_request eval
"GET /nc HTTP/1.1\r\nHost: localhost\r\n\r\n"
. "GET /next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 204
--- response_headers
!Content-Length
--- response_body_like chomp
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)+\r\nnext\z
--- no_error_log
[error]



=== TEST 5: HEAD of a 204 recorded for GET has no Content-Length
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://svc/nc"}
  response:
    status: {code: 204, message: No Content}
--- config
    location / {
        mock_replay html/c.yaml;
        mock_repeats on;
    }
    location = /next {
        return 200 "next";
    }
--- raw_request eval
"HEAD /nc HTTP/1.1\r\nHost: localhost\r\n\r\n"
. "GET /next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 204
--- response_headers
!Content-Length
--- response_body_like chomp
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)+\r\nnext\z
--- no_error_log
[error]



=== TEST 6: HEAD of a 200 gets the body's length and no body
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: HEAD, uri: "http://svc/h"}
  response:
    status: {code: 200, message: OK}
    body: {string: five!}
--- config
    location / {
        mock_replay html/c.yaml;
        mock_repeats on;
    }
--- request
HEAD /h
--- response_headers
Content-Length: 5
--- response_body
--- no_error_log
[error]



=== TEST 7: the fallback to a recorded 204 sends no body either
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://svc/fb"}
  response:
    status: {code: 204, message: No Content}
--- config
    location /fb {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/down;
        mock_upstream http://svc/fb;
        mock_replay html/c.yaml;
        mock_mode fallback;
        mock_repeats on;
    }
    location = /down {
        return 503;
    }
    location = /next {
        return 200 "next";
    }
--- raw_request eval
"GET /fb HTTP/1.1\r\nHost: localhost\r\n\r\n"
. "GET /next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 204
--- response_headers
!Content-Length
--- response_body_like chomp
\AHTTP/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)+\r\nnext\z
--- no_error_log
[error]



=== TEST 8: the body recorded with a 204 is dropped with a warning at load
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://svc/nc"}
  response:
    status: {code: 204, message: No Content}
    body: {string: leak}
- request: {method: GET, uri: "http://svc/bad"}
  response: {status: {code: 200, message: OK}, body: !!binary "@@@@"}
--- config
    location / {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
[qr{\[warn\] .*mock: cassette "\S+/html/c\.yaml", line 6, column 11: the body of a 204 answer is dropped},
 qr{mock: cassette "\S+/html/c\.yaml", line 8, column 54: the response body is not valid base64}]



=== TEST 9: a 1xx status is not a final answer
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://svc/up"}
  response:
    status: {code: 101, message: Switching Protocols}
--- config
    location / {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/c\.yaml", line 5, column 20: status code "101" is not a number between 200 and 999}
