# Sessions: each test's own cassette (in a directory) and counters, and
# forced answers.  Counters live as long as nginx, so each block runs once.

use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_SERVER_PORT} ||= server_port();

repeat_each(1);
no_shuffle();
no_root_location();
master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: in a directory, a session plays its own cassette
--- user_files
>>> cas/t1.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/orders', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 't1 first'}}
- request: {method: GET, uri: 'http://svc/orders', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 't1 second'}}
>>> cas/t2.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/orders', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 't2 only'}}
>>> cas/default.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/orders', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'no session'}}
--- config
    location / {
        mock_replay html/cas;
        mock_session $http_x_test_id;
        add_header X-Cassette $mock_cassette always;
    }
--- request eval
["GET /orders", "GET /orders", "GET /orders", "GET /orders", "GET /orders", "GET /orders"]
--- more_headers eval
["X-Test-Id: t1\r\n", "X-Test-Id: t2\r\n", "X-Test-Id: t1\r\n", "X-Test-Id: t1\r\n",
 "X-Test-Id: t3\r\n", ""]
--- response_body_like eval
["^t1 first\$", "^t2 only\$", "^t1 second\$", "already played", "no recorded interactions are close",
 "^no session\$"]
--- response_headers_like eval
["X-Cassette: .*/cas/t1\\.yaml", "X-Cassette: .*/cas/t2\\.yaml", "X-Cassette: .*/cas/t1\\.yaml",
 "X-Cassette: ", "X-Cassette: ", "X-Cassette: .*/cas/default\\.yaml"]
--- error_code eval
[200, 200, 200, 404, 404, 200]
--- no_error_log
[error]



=== TEST 2: one shared cassette, counters per session
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'two'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
    }
--- request eval
["GET /c", "GET /c", "GET /c", "GET /c", "GET /c", "GET /c"]
--- more_headers eval
["X-Test-Id: a\r\n", "X-Test-Id: b\r\n", "X-Test-Id: a\r\n", "X-Test-Id: b\r\n",
 "X-Test-Id: a\r\n", ""]
--- response_body_like eval
["^one\$", "^one\$", "^two\$", "^two\$", "already played", "^one\$"]
--- error_code eval
[200, 200, 200, 200, 404, 200]
--- no_error_log
[error]



=== TEST 3: recording in a session writes <dir>/<session>.yaml, name sanitized
--- user_files
>>> cas/.keep
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/cas;
        mock_session $http_x_test_id;
        mock_mode new_episodes;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        add_header X-Mock-Status $mock_status always;
    }
    location /backend/ {
        return 200 "live $uri $http_x_test_id\n";
    }
    location /files/ {
        alias html/cas/;
        autoindex on;
    }
--- request eval
["GET /api/x", "GET /api/x", "GET /api/x", "GET /files/"]
--- more_headers eval
["X-Test-Id: ../../etc/evil\r\n", "X-Test-Id: ../../etc/evil\r\n",
 "X-Test-Id: other\r\n", ""]
--- response_body_like eval
["^live /backend/x \\.\\./\\.\\./etc/evil\$", "^live /backend/x \\.\\./\\.\\./etc/evil\$",
 "^live /backend/x other\$",
 qr{href="%252E.%252F..%252Fetc%252Fevil\.yaml".*href="other\.yaml"}s]
--- no_error_log
[error]



=== TEST 4: a session value longer than 128 bytes is refused
--- user_files
>>> seq.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
    }
--- request
GET /c
--- more_headers eval
"X-Test-Id: " . ("x" x 129) . "\r\n"
--- error_code: 400
--- no_error_log
[error]



=== TEST 5: a request header may name the answer where the location allows it
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'zero'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 201, message: Created}, headers: {}, body: {string: 'one'}}
- request: {method: GET, uri: 'http://svc/other', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'other'}}
--- config
    location /allowed/ {
        mock_replay html/seq.yaml;
        mock_upstream http://svc/;
        mock_force_header X-Mock-Force;
    }
    location /plain/ {
        mock_replay html/seq.yaml;
        mock_upstream http://svc/;
    }
--- request eval
["GET /allowed/c", "GET /allowed/c", "GET /allowed/c", "GET /plain/c"]
--- more_headers eval
["X-Mock-Force: 1\r\n", "X-Mock-Force: seq.yaml#1\r\n", "X-Mock-Force: 7\r\n", "X-Mock-Force: 1\r\n"]
--- response_body eval
["one", "one", "zero", "one"]
--- error_code eval
[201, 201, 200, 201]



=== TEST 6: a session value with every byte value is sanitized
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $arg_s;
        mock_match method path;
    }
--- request eval
["GET /c?s=%00%0A%2F..%FF", "GET /c?s=%00%0A%2F..%FF", "GET /c?s=other"]
--- response_body_like eval
["^one\$", "already played", "^one\$"]
--- error_code eval
[200, 404, 200]
--- no_error_log
[error]
