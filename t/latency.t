# mock_latency: answers that wait, measured from the client's side by a
# proxying location ($upstream_header_time), and the delays that
# $mock_latency reports: fixed, uniform and lognormal, seeded so that a
# session's delays repeat, an interaction's own (x_mock latency) and a
# session's (the admin API) over the location's, a client that leaves
# while its answer waits, and the configuration errors.  Counters live as
# long as nginx, so each block runs once.

use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_SERVER_PORT} ||= server_port();

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a fixed latency: the answer comes after 200 ms, and not much later
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'a'}}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'b'}}
  x_mock: {latency: 300ms}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_latency 200ms;
        add_header X-Latency $mock_latency;
    }
    location /front/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/api/;
        add_header X-Took $upstream_header_time;
    }
--- request eval
["GET /front/a", "GET /front/a"]
--- response_body eval
["a", "a"]
--- response_headers_like eval
["X-Took: 0\\.[2-9]\\d\\d\nX-Latency: 200", "X-Took: 0\\.[2-9]\\d\\d\nX-Latency: 200"]
--- no_error_log
[error]



=== TEST 2: a uniform latency: every delay is in its range, and the answer waits it
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'a'}}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'b'}}
  x_mock: {latency: 300ms}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_latency 50ms..150ms;
        add_header X-Latency $mock_latency;
    }
    location /front/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/api/;
        add_header X-Took $upstream_header_time;
    }
--- request eval
[("GET /front/a") x 6]
--- response_headers_like eval
[("X-Took: 0\\.(?:0[5-9]|[1-9]\\d)\\d\nX-Latency: (?:[5-9]\\d|1[0-4]\\d|150)") x 6]
--- no_error_log
[error]



=== TEST 3: seed=7: the delays of a session repeat after a reset, whatever other sessions do
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'a'}}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'b'}}
  x_mock: {latency: 300ms}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_session $http_x_test;
        mock_latency 10ms..90ms seed=7;
        add_header X-Latency $mock_latency;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /api/a", "GET /api/a", "GET /api/a", "GET /api/a",
 "POST /_mock/reset?session=a",
 "GET /api/a", "GET /api/a", "GET /api/a"]
--- more_headers eval
["X-Test: a\r\n",
 "X-Test: b\r\n",
 "X-Test: a\r\n",
 "X-Test: a\r\n",
 "Content-Type: application/json\r\n",
 "X-Test: a\r\n",
 "X-Test: a\r\n",
 "X-Test: a\r\n"]
--- response_headers eval
["X-Latency: 22", "X-Latency: 16", "X-Latency: 12", "X-Latency: 59", "",
 "X-Latency: 22", "X-Latency: 12", "X-Latency: 59"]
--- no_error_log
[error]



=== TEST 4: lognormal median=120ms sigma=0.4 seed=3: the same delays run after run
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'a'}}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'b'}}
  x_mock: {latency: 300ms}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_session $http_x_test;
        mock_latency lognormal median=120ms sigma=0.4 seed=3;
        add_header X-Latency $mock_latency;
    }
--- request eval
[("GET /api/a") x 5]
--- more_headers
X-Test: logn
--- response_headers eval
["X-Latency: 147", "X-Latency: 170", "X-Latency: 123", "X-Latency: 154", "X-Latency: 184"]
--- no_error_log
[error]



=== TEST 5: the latency of an interaction (x_mock latency) comes before that of the location
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'a'}}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'b'}}
  x_mock: {latency: 300ms}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_latency 50ms;
        add_header X-Latency $mock_latency;
    }
    location /front/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/api/;
        add_header X-Took $upstream_header_time;
    }
--- request eval
["GET /front/a", "GET /front/b"]
--- response_body eval
["a", "b"]
--- response_headers_like eval
["X-Took: 0\\.(?:0[5-9]|[1-9]\\d)\\d\nX-Latency: 50", "X-Took: 0\\.[3-9]\\d\\d\nX-Latency: 300"]
--- no_error_log
[error]



=== TEST 6: the latency of a session comes first: set, "off", forgotten, and gone with a reset
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'a'}}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'b'}}
  x_mock: {latency: 300ms}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_session $http_x_test;
        mock_latency 50ms;
        add_header X-Latency $mock_latency;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["POST /_mock/latency\n{\"session\": \"s\", \"latency\": \"100ms\"}",
 "GET /api/b", "GET /api/a", "GET /api/b", "GET /api/a",
 "POST /_mock/latency\n{\"session\": \"s\", \"latency\": \"off\"}",
 "GET /api/b",
 "DELETE /_mock/latency?session=s",
 "GET /api/b",
 "POST /_mock/latency?session=s&latency=20ms..30ms%20seed=1",
 "POST /_mock/reset?session=s",
 "GET /api/b",
 "DELETE /_mock/latency?session=s"]
--- more_headers eval
["Content-Type: application/json\r\n",
 "X-Test: s\r\n",
 "X-Test: s\r\n",
 "X-Test: t\r\n",
 "",
 "Content-Type: application/json\r\n",
 "X-Test: s\r\n",
 "Content-Type: application/json\r\n",
 "X-Test: s\r\n",
 "Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 "X-Test: s\r\n",
 "Content-Type: application/json\r\n"]
--- response_body eval
["{\"session\": \"s\", \"latency\": \"100ms\"}\n", "b", "a", "b", "a",
 "{\"session\": \"s\", \"latency\": \"off\"}\n", "b",
 "{\"session\": \"s\", \"latency\": null}\n", "b",
 "{\"session\": \"s\", \"latency\": \"20ms..30ms seed=1\"}\n",
 "{\"reset\": \"s\", \"counters\": 2}\n", "b",
 "{\"error\": \"session \\\"s\\\" has no latency of its own\"}\n"]
--- response_headers eval
["", "X-Latency: 100", "X-Latency: 100", "X-Latency: 300", "X-Latency: 50", "",
 "X-Latency: 0", "", "X-Latency: 300", "", "", "X-Latency: 300", ""]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404]
--- no_error_log
[error]



=== TEST 7: the admin refuses a bad session latency
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
    location /_mock {
        send_timeout 10s;
        mock_admin;
    }
--- request eval
["POST /_mock/latency\n{\"session\": \"s\", \"latency\": \"11s\"}",
 "POST /_mock/latency\n{\"session\": \"s\", \"latency\": \"400ms..50ms\"}",
 "POST /_mock/latency\n{\"session\": \"s\", \"latency\": \"soon\"}",
 "POST /_mock/latency\n{\"session\": \"s\", \"latency\": \"lognormal median=1s sigma=0\"}",
 "POST /_mock/latency\n{\"latency\": \"1s\"}",
 "POST /_mock/latency\n{\"session\": \"s\"}",
 "GET /_mock/latency?session=s"]
--- more_headers eval
["Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 ""]
--- response_body_like eval
[qr{^\{"error": "\\"latency\\" of up to 11000ms is longer than send_timeout \(10000ms\)"\}$},
 qr{^\{"error": "\\"latency\\": the range is empty: its minimum is above its maximum"\}$},
 qr{^\{"error": "\\"latency\\": a duration is a time such as},
 qr{^\{"error": "\\"latency\\": \\"sigma=\\" takes a number above 0},
 qr{^\{"error": "\\"session\\" is needed"\}$},
 qr{^\{"error": "\\"session\\" and \\"latency\\" are needed"\}$},
 qr{^\{"error": "latency does not take GET"\}$}]
--- error_code eval
[400, 400, 400, 400, 400, 400, 405]
--- no_error_log
[error]



=== TEST 8: a client that leaves while its answer waits: the timer goes with the request
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'a'}}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'b'}}
  x_mock: {latency: 300ms}
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_latency 1s;
    }
    location /front/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/api/;
        proxy_read_timeout 200ms;
    }
--- request
GET /front/a
--- response_body_like: Gateway
--- error_code: 504
--- wait: 1.5
--- error_log
upstream timed out
client prematurely closed connection
--- no_error_log
[alert]
[crit]



=== TEST 9: configuration error: a duration that is none
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency 20parsecs;
    }
--- must_die
--- error_log eval
qr{"mock_latency": a duration is a time such as "200ms" or "1s", at most 24h in \S+nginx\.conf:\d+}



=== TEST 10: configuration error: an empty range
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency 400ms..50ms;
    }
--- must_die
--- error_log eval
qr{"mock_latency": the range is empty: its minimum is above its maximum in \S+nginx\.conf:\d+}



=== TEST 11: configuration error: sigma=0
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency lognormal median=100ms sigma=0;
    }
--- must_die
--- error_log eval
qr{"mock_latency": "sigma=" takes a number above 0 and at most 10, with up to 3 decimals in \S+nginx\.conf:\d+}



=== TEST 12: configuration error: a lognormal without its median
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency lognormal sigma=0.5;
    }
--- must_die
--- error_log eval
qr{"mock_latency": "lognormal" needs "median=" and "sigma=" above 0 in \S+nginx\.conf:\d+}



=== TEST 13: configuration error: a parameter a fixed latency does not take
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency 100ms sigma=0.5;
    }
--- must_die
--- error_log eval
qr{"mock_latency": unknown parameter: only "seed=" follows a latency in \S+nginx\.conf:\d+}



=== TEST 14: configuration error: a bad seed
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency 1ms..2ms seed=x;
    }
--- must_die
--- error_log eval
qr{"mock_latency": "seed=" takes a number from 0 to 4294967295 in \S+nginx\.conf:\d+}



=== TEST 15: configuration error: twice in a location
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency 1ms;
        mock_latency 2ms;
    }
--- must_die
--- error_log eval
qr{"mock_latency" directive is duplicate in \S+nginx\.conf:\d+}



=== TEST 16: configuration error: a latency longer than send_timeout names where it is set
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    mock_latency 100ms..2s;
    location /api/ {
        send_timeout 1s;
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{"mock_latency" of up to 2000ms is longer than send_timeout \(1000ms\) in \S+nginx\.conf:\d+}



=== TEST 17: configuration error: a bad x_mock latency names its cassette, line and column
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'a'}}
  x_mock: {latency: 90ms..10ms}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/c\.yaml", line 5, column 21: "latency" of "x_mock" is not a latency: the range is empty}



=== TEST 18: a session directory: the session's latency is read before the zone's mutex is held
--- user_files
>>> cas/s.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'own'}}
--- config
    location /api/ {
        mock_replay html/cas;
        mock_upstream http://svc/;
        mock_repeats on;
        mock_session $http_x_test;
        add_header X-Latency $mock_latency;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["POST /_mock/latency\n{\"session\": \"s\", \"latency\": \"100ms\"}",
 "GET /api/a", "GET /api/a"]
--- more_headers eval
["Content-Type: application/json\r\n",
 "X-Test: s\r\n",
 "X-Test: t\r\n"]
--- response_body_like eval
["100ms", "^own\$", "no recorded interactions"]
--- response_headers eval
["", "X-Latency: 100", "!X-Latency"]
--- error_code eval
[200, 200, 404]
--- timeout: 3
--- no_error_log
[error]
