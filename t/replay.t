# Replay from a cassette: matching, responses, misses, variables.

use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a recorded GET is replayed; query order does not matter
--- user_files
>>> users.yaml
version: 1
interactions:
- request:
    method: GET
    uri: http://payments.internal/v1/users?id=7&sort=name
    body: null
    headers: {}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [application/json]
      X-Trace: [t-1]
    body: {string: '{"id":7}'}
--- config
    location /v1/ {
        mock_replay html/users.yaml;
        mock_repeats on;
    }
--- request
GET /v1/users?sort=name&id=7
--- response_body chomp
{"id":7}
--- response_headers
Content-Type: application/json
X-Trace: t-1
Content-Length: 8
--- error_code: 200
--- no_error_log
[error]
[warn]



=== TEST 2: variables tell what happened
--- user_files
>>> users.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'a'}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'b'}
--- config
    location / {
        mock_replay html/users.yaml;
        mock_repeats on;
        add_header X-Mock-Status $mock_status;
        add_header X-Mock-Interaction $mock_interaction;
        add_header X-Mock-Cassette $mock_cassette;
    }
--- request
GET /b
--- response_body chomp
b
--- response_headers
X-Mock-Status: hit
X-Mock-Interaction: 1
--- response_headers_like
X-Mock-Cassette: .*/html/users\.yaml$
--- no_error_log
[error]



=== TEST 3: a miss lists the closest recordings and what failed
--- user_files
>>> users.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/v1/users?id=7', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'seven'}
- request: {method: POST, uri: 'http://svc/v1/users', body: null, headers: {}}
  response:
    status: {code: 201, message: Created}
    headers: {}
    body: {string: 'made'}
--- config
    location / {
        mock_replay html/users.yaml;
        add_header X-Mock-Status $mock_status always;
    }
--- request
GET /v1/users?id=8
--- error_code: 404
--- response_headers
X-Mock-Status: miss
Content-Type: text/plain
--- response_body_like chomp
^mock: no recorded interaction matches GET /v1/users\?id=8
.*closest recorded interactions:
  #0 in \S+/html/users\.yaml: GET http://svc/v1/users\?id=7
    differs in: query id
  #1 in \S+/html/users\.yaml: POST http://svc/v1/users
    differs in: method, query id
--- error_log
mock: no recorded interaction matches "GET /v1/users?id=8"
closest is #0
--- no_error_log
[error]



=== TEST 4: mock_miss sets the status of a miss
--- user_files
>>> empty.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/empty.yaml;
        mock_miss 503;
    }
--- request
GET /anything
--- error_code: 503
--- response_body_like
no recorded interactions are close
--- no_error_log
[error]



=== TEST 5: a recorded path with another method gets 405 and Allow
--- user_files
>>> users.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/v1/users', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'list'}
- request: {method: POST, uri: 'http://svc/v1/users', body: null, headers: {}}
  response:
    status: {code: 201, message: Created}
    headers: {}
    body: {string: 'made'}
- request: {method: GET, uri: 'http://svc/v1/users', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'again'}
--- config
    location / {
        mock_replay html/users.yaml;
        add_header X-Mock-Status $mock_status always;
    }
--- request
DELETE /v1/users
--- error_code: 405
--- response_headers
Allow: GET, POST
X-Mock-Status: not_allowed
--- response_body
mock: method DELETE is not recorded for path "/v1/users"
recorded methods: GET, POST
--- error_log
mock: method DELETE is not recorded for "/v1/users"
--- no_error_log
[error]



=== TEST 6: HEAD gets the headers of the GET recording
--- user_files
>>> users.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/doc', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [text/html]
      ETag: ['"abc"']
    body: {string: '<p>hello</p>'}
--- config
    location / {
        mock_replay html/users.yaml;
        add_header X-Mock-Status $mock_status;
    }
--- request
HEAD /doc
--- response_headers
Content-Type: text/html
Content-Length: 12
ETag: "abc"
X-Mock-Status: hit
--- response_body
--- no_error_log
[error]



=== TEST 7: repeated query keys are kept, in any order
--- user_files
>>> q.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/tags?t=b&t=a&x=%20y', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'both'}
- request: {method: GET, uri: 'http://svc/tags?t=a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'one'}
--- config
    location / {
        mock_replay html/q.yaml;
        mock_repeats on;
    }
--- request eval
["GET /tags?x=+y&t=a&t=b", "GET /tags?t=a", "GET /tags?t=b"]
--- response_body eval
["both", "one", qr/differs in: query/]
--- error_code eval
[200, 200, 404]
--- no_error_log
[error]



=== TEST 8: paths are compared percent-decoded
--- user_files
>>> p.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/caf%C3%A9/a%20b', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'decoded'}
--- config
    location / {
        mock_replay html/p.yaml;
        mock_repeats on;
    }
--- request
GET /caf%c3%a9/a%20b
--- response_body chomp
decoded
--- no_error_log
[error]



=== TEST 9: the recorded status code and reason phrase are replayed
--- user_files
>>> s.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/things', body: null, headers: {}}
  response:
    status: {code: 201, message: Created Here}
    headers:
      Location: [/things/9]
    body: {string: 'ok'}
- request: {method: GET, uri: 'http://svc/gone', body: null, headers: {}}
  response:
    status: {code: 410, message: Gone}
    headers: {}
    body: {string: 'was here'}
--- config
    location / {
        mock_replay html/s.yaml;
        mock_repeats on;
    }
--- request eval
["POST /things", "GET /gone"]
--- raw_response_headers_like eval
[qr{^HTTP/1\.1 201 Created Here\r\n.*Location: /things/9\r\n}s, qr{^HTTP/1\.1 410 Gone\r\n}]
--- error_code eval
[201, 410]
--- response_body eval
["ok", "was here"]
--- no_error_log
[error]



=== TEST 10: a location without mock_replay is not touched
--- user_files
>>> s.yaml
version: 1
interactions: []
--- config
    location /mocked {
        mock_replay html/s.yaml;
    }
    location /plain {
        return 200 "plain\n";
    }
--- request
GET /plain
--- response_body
plain
--- no_error_log
[error]
[warn]



=== TEST 11: mock_replay answers instead of proxy_pass
--- user_files
>>> s.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/api/x', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'from cassette'}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$server_port/real/;
        mock_replay html/s.yaml;
        mock_repeats on;
    }
    location /real/ {
        return 200 "from upstream";
    }
--- request
GET /api/x
--- response_body chomp
from cassette
--- no_error_log
[error]



=== TEST 12: settings are inherited from the server level
--- user_files
>>> s.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/in/x', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'inherited'}
--- config
    mock_replay html/s.yaml;
    mock_repeats on;
    mock_miss 418;

    location /in/ {
    }
--- request eval
["GET /in/x", "GET /in/y"]
--- response_body_like eval
["inherited", "no recorded interaction"]
--- error_code eval
[200, 418]
--- no_error_log
[error]
