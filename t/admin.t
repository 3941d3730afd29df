# The admin API (mock_admin): JSON over HTTP.  Counters live as long as
# nginx, so each block runs once.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: cassettes are listed with their interactions
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
    location /_mock {
        mock_admin;
    }
--- request
GET /_mock/cassettes
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"stores": \[
\{"store": 0, "path": "\S+/html/seq\.yaml", "match": "method path query", "recording": false, "interactions": 2, "loaded": 2, "sessions": null\}
\]\}
--- no_error_log
[error]



=== TEST 2: plays per session, unused interactions, and a reset
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
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /c", "GET /_mock/interactions?session=a", "GET /_mock/unused?session=a",
 "GET /_mock/unused?session=b", "POST /_mock/reset?session=a", "GET /c"]
--- more_headers eval
["X-Test-Id: a\r\n",
 "",
 "",
 "",
 "Content-Type: application/json\r\n",
 "X-Test-Id: a\r\n"]
--- response_body_like eval
["^one\$",
 qr{"session": "a", "interactions": \[
\{"cassette": "\S+/seq\.yaml", "interaction": 0, "method": "GET", "uri": "http://svc/c", "status": 200, "plays": 1\},
\{"cassette": "\S+/seq\.yaml", "interaction": 1, "method": "GET", "uri": "http://svc/c", "status": 200, "plays": 0\}
\]\}},
 qr{"unused": \[
\{"cassette": "\S+", "interaction": 1, [^\n]*"plays": 0\}
\]\}},
 qr{"unused": \[
\{[^\n]*"interaction": 0, [^\n]*\},
\{[^\n]*"interaction": 1, [^\n]*\}
\]\}},
 qr{^\{"reset": "a", "counters": 1\}$},
 "^one\$"]
--- no_error_log
[error]



=== TEST 3: a forced answer holds however often the endpoint is called
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
    location /_mock {
        mock_admin;
    }
--- request eval
["POST /_mock/force\n{\"session\": \"a\", \"method\": \"GET\", \"path\": \"/c\", \"interaction\": 1}",
 "GET /c", "GET /c", "GET /c", "GET /c",
 "DELETE /_mock/force?session=a&method=GET&path=/c",
 "GET /c", "DELETE /_mock/force?session=a&method=GET&path=/c"]
--- more_headers eval
["Content-Type: application/json\r\n",
 "X-Test-Id: a\r\n",
 "X-Test-Id: a\r\n",
 "X-Test-Id: a\r\n",
 "X-Test-Id: b\r\n",
 "Content-Type: application/json\r\n",
 "X-Test-Id: a\r\n",
 "Content-Type: application/json\r\n"]
--- response_body_like eval
[qr{^\{"session": "a", "method": "GET", "path": "/c", "forced": \{"cassette": "\S+/seq\.yaml", "interaction": 1\}\}$},
 "^two\$", "^two\$", "^two\$", "^one\$",
 qr{"forced": null},
 "^one\$",
 qr{^\{"error": "nothing is forced for \\"GET /c\\" in session \\"a\\""\}$}]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 404]
--- no_error_log
[error]



=== TEST 4: the journal tells the recent requests, oldest first
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /c", "GET /c", "GET /zz?q=1", "GET /_mock/journal?limit=2", "GET /_mock/journal?session=s1"]
--- more_headers eval
["X-Test-Id: s1\r\n", "X-Test-Id: s1\r\n", "X-Test-Id: s2\r\n", "", ""]
--- response_body_like eval
["^one\$", "already played", "no recorded interaction",
 qr{^\{"journal": \[
\{"id": 1, "time": \d+, "session": "s1", "method": "GET", "uri": "/c", "result": "exhausted", "status": 404, "cassette": null, "interaction": null\},
\{"id": 2, "time": \d+, "session": "s2", "method": "GET", "uri": "/zz\?q=1", "result": "miss", "status": 404, "cassette": null, "interaction": null\}
\], "next": 3\}$},
 qr{^\{"journal": \[
\{"id": 0, "time": \d+, "session": "s1", "method": "GET", "uri": "/c", "result": "hit", "status": 200, "cassette": "\S+/seq\.yaml", "interaction": 0\},
\{[^\n]*"result": "exhausted"[^\n]*\}
\], "next": 3\}$}]
--- error_code eval
[200, 404, 404, 200, 200]
--- no_error_log
[error]



=== TEST 5: bad admin input gets a 4xx with a JSON error
--- user_files
>>> a.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
>>> b.yaml
version: 1
interactions: []
--- config
    location /a/ {
        mock_replay html/a.yaml;
        mock_upstream http://svc/;
    }
    location /b/ {
        mock_replay html/b.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /_mock/nothing", "POST /_mock/cassettes", "POST /_mock/force\n{\"session\": \"a\"",
 "POST /_mock/force\n{\"store\": 0, \"session\": \"a\"}",
 "POST /_mock/force\n{\"store\": 0, \"session\": \"a\", \"method\": \"GET\", \"path\": \"/c\", \"interaction\": 9}",
 "POST /_mock/force\n{\"store\": 0, \"session\": {\"x\": 1}}",
 "GET /_mock/interactions", "GET /_mock/interactions?store=7",
 "POST /_mock/force\n" . ("x" x 70000),
 "POST /_mock/force\n{\"store\": 0, \"session\": \"a\", \"method\": \"GET\", \"path\": \"/c\", \"interaction\": \"x\"}",
 "GET /_mock/interactions?store=1"]
--- more_headers eval
["",
 "Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 "",
 "",
 "Content-Type: application/json\r\n",
 "Content-Type: application/json\r\n",
 ""]
--- error_code eval
[404, 405, 400, 400, 404, 400, 400, 404, 413, 400, 200]
--- response_body_like eval
[qr{^\{"error": "no endpoint \\"nothing\\"; try cassettes, interactions, unused, journal, metrics, drift, reset, force, latency, fault or reload"\}$},
 qr{^\{"error": "cassettes does not take POST"\}$},
 qr{^\{"error": "the body is not a flat JSON object"\}$},
 qr{^\{"error": "\\"session\\", \\"method\\" and \\"path\\" are needed"\}$},
 qr{^\{"error": "no interaction 9 for session \\"a\\""\}$},
 qr{^\{"error": "\\"session\\" must be a string, a number or null"\}$},
 qr{^\{"error": "there are 2 cassette stores: name one with \\"store\\""\}$},
 qr{^\{"error": "no cassette store \\"7\\""\}$},
 qr{^\{"error": "the body is larger than 65536 bytes"\}$},
 qr{^\{"error": "\\"interaction\\" must be the number of an interaction in its cassette"\}$},
 qr{"store": "\S+/b\.yaml", "session": null, "interactions": \[\n\]\}}]
--- no_error_log
[error]



=== TEST 6: a cassette directory named with a trailing slash lists its session cassettes with one slash
--- user_files
>>> sessions/alice.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'alice'}}
>>> recorded/.keep
--- config
    location /c {
        mock_replay html/sessions/;
        mock_session $http_x_test_id;
        add_header X-Cassette $mock_cassette;
    }
    location /r {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
        mock_replay html/recorded/;
        mock_mode record;
        mock_session $http_x_test_id;
    }
    location /backend {
        return 200 "live\n";
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /c", "GET /r", "GET /_mock/cassettes"]
--- more_headers eval
["X-Test-Id: alice\r\n", "X-Test-Id: carol\r\n", ""]
--- response_headers_like eval
["X-Cassette: \\S+/html/sessions/alice\\.yaml", "", ""]
--- response_body_like eval
["^alice\$", "^live\$",
 qr{^\{"stores": \[
\{"store": 0, "path": "/[^"]*[^/"]/html/sessions", "match": "method path query", "recording": false, "interactions": 0, "loaded": 0, "sessions": \[\{"session": "alice", "cassette": "/[^"]*[^/"]/html/sessions/alice\.yaml", "interactions": 1\}\]\},
\{"store": 1, "path": "/[^"]*[^/"]/html/recorded", "match": "method path query", "recording": true, "interactions": 0, "loaded": 0, "sessions": \[\{"session": "carol", "cassette": "/[^"]*[^/"]/html/recorded/carol\.yaml", "interactions": 1\}\]\}
\]\}
$}]
--- no_error_log
[error]
