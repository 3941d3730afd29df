# What the dashboard reads and how it is kept safe, without a browser:
# mutating admin requests without a JSON content type or X-Mock-Admin
# are refused with 403 and change nothing; the journal's numbers and
# "after"; the reports of recent misses; one interaction as recorded;
# the sessions, a page at a time, with their forced answers; the mock
# locations with their modes; the dashboard's files and their headers.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a mutating admin request needs a JSON content type or X-Mock-Admin
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
["POST /_mock/reset", "POST /_mock/reset", "POST /_mock/reset",
 "POST /_mock/reset", "POST /_mock/reset", "DELETE /_mock/force?session=a&method=GET&path=/c",
 "PUT /_mock/interactions/0", "POST /_mock/reload",
 "POST /_mock/reset", "POST /_mock/reset", "POST /_mock/reset"]
--- more_headers eval
["",
 "Content-Type: application/x-www-form-urlencoded\r\n",
 "Content-Type: text/plain\r\n",
 "Content-Type: multipart/form-data; boundary=x\r\n",
 "Content-Type: application/jsonp\r\n",
 "Content-Type: text/plain\r\n",
 "",
 "Content-Type: text/plain;application/json\r\n",
 "Content-Type: Application/JSON; charset=utf-8\r\n",
 "X-Mock-Admin: 1\r\n",
 "Content-Type:  application/json\r\n"]
--- error_code eval
[403, 403, 403, 403, 403, 403, 403, 403, 200, 200, 200]
--- response_body_like eval
[(qr{^\{"error": "admin requests that change something must say \\"Content-Type: application/json\\" or send an \\"X-Mock-Admin\\" header"\}$}) x 8,
 qr{^\{"reset": "all"}, qr{^\{"reset": "all"}, qr{^\{"reset": "all"}]
--- response_headers eval
[("Content-Type: application/json\nAccess-Control-Allow-Origin:") x 11]
--- no_error_log
[error]
[alert]



=== TEST 2: the refusal is logged, with the method
--- user_files
>>> seq.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/seq.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request
DELETE /_mock/force?session=a&method=GET&path=/c
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- error_code: 403
--- error_log
admin DELETE refused: neither a JSON content type nor an X-Mock-Admin header
--- no_error_log
[error]
[alert]



=== TEST 3: a refused request changes nothing: the answer is pinned only when asked for with JSON
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
        mock_repeats on;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["POST /_mock/force\n{\"session\": \"a\", \"method\": \"GET\", \"path\": \"/c\", \"interaction\": 1}",
 "GET /c",
 "POST /_mock/force\n{\"session\": \"a\", \"method\": \"GET\", \"path\": \"/c\", \"interaction\": 1}",
 "GET /c"]
--- more_headers eval
["Content-Type: text/plain\r\n", "X-Test-Id: a\r\n",
 "Content-Type: application/json\r\n", "X-Test-Id: a\r\n"]
--- error_code eval
[403, 200, 200, 200]
--- response_body_like eval
["must say", "^one\$", "\"forced\": \\{", "^two\$"]
--- no_error_log
[error]
[alert]



=== TEST 4: the journal numbers its requests, and "after" gives only the later ones
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_repeats on;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /c", "GET /c", "GET /zz", "GET /_mock/journal?after=0",
 "GET /_mock/journal?after=2", "GET /_mock/journal?after=99&limit=1",
 "GET /_mock/journal?after=x"]
--- error_code eval
[200, 200, 404, 200, 200, 200, 400]
--- response_body_like eval
["^one\$", "^one\$", "no recorded",
 qr{^\{"journal": \[
\{"id": 1, "time": \d+, "session": null, "method": "GET", "uri": "/c", "result": "hit", [^\n]*\},
\{"id": 2, [^\n]*"uri": "/zz", "result": "miss", [^\n]*\}
\], "next": 3\}$},
 qr{^\{"journal": \[
\], "next": 3\}$},
 qr{^\{"journal": \[
\], "next": 3\}$},
 qr{^\{"error": "\\"after\\" must be a number"\}$}]
--- no_error_log
[error]
[alert]



=== TEST 5: the report a miss got is kept by the number of its request
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/users?id=7', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'seven'}}
--- config
    location / {
        mock_replay html/seq.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /users?id=8", "GET /users?id=7", "GET /_mock/miss?id=0", "GET /_mock/miss?id=1",
 "GET /_mock/miss?id=x", "GET /_mock/miss", "POST /_mock/miss?id=0"]
--- more_headers eval
["", "", "", "", "", "", "Content-Type: application/json\r\n"]
--- error_code eval
[404, 200, 200, 404, 400, 400, 405]
--- response_body_like eval
["no recorded interaction", "^seven\$",
 qr{^\{"id": 0, "report": "mock: no recorded interaction matches GET /users\?id=8\\u000acassette: \S+/seq\.yaml\\u000amatchers: method path query\\u000aclosest recorded interactions:\\u000a  #0 in \S+/seq\.yaml: GET http://svc/users\?id=7\\u000a    differs in: query id\\u000a"\}$},
 qr{^\{"error": "no report of request 1 is kept; the last 32 misses are"\}$},
 qr{^\{"error": "\\"id\\" must be the number of a request in the journal"\}$},
 qr{"error"},
 qr{^\{"error": "miss does not take POST"\}$}]
--- no_error_log
[error]
[alert]



=== TEST 6: one interaction as recorded: the compared request, headers in order, text or base64 bodies
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/items?b=2&a=1', body: '{"x": 1}', headers: {}}
  response:
    status: {code: 201, message: Created}
    headers: {Content-Type: [application/json], Set-Cookie: [a=1, 'b="<2>"']}
    body: {string: '{"id": "<i>"}'}
- request: {method: GET, uri: 'http://svc/logo', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body:
      string: !!binary |
        AAECA/8=
--- config
    location / {
        mock_replay html/seq.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /_mock/interaction?interaction=0", "GET /_mock/interaction?interaction=1",
 "GET /_mock/interaction?interaction=1&cassette=seq.yaml",
 "GET /_mock/interaction?interaction=1&cassette=other.yaml",
 "GET /_mock/interaction?interaction=7", "GET /_mock/interaction",
 "GET /_mock/interaction?interaction=0&store=3",
 "GET /_mock/interaction?interaction=0&store=3&x=again",
 "GET /_mock/interaction?interaction=1"]
--- error_code eval
[200, 200, 200, 404, 404, 400, 404, 404, 200]
--- response_body_like eval
[qr{^\{"store": 0, "cassette": "\S+/seq\.yaml", "interaction": 0, "request": \{"method": "POST", "uri": "http://svc/items\?b=2&a=1", "path": "/items", "query": "a=1&b=2", "body": "\{\\"x\\":1\}", "size": 7\}, "response": \{"status": 201, "reason": "Created", "templated": false, "headers": \[\["Content-Type", "application/json"\], \["Set-Cookie", "a=1"\], \["Set-Cookie", "b=\\"<2>\\""\]\], "body": "\{\\"id\\": \\"<i>\\"\}", "size": 13\}\}$},
 qr{"response": \{"status": 200, "reason": "OK", "templated": false, "headers": \[\], "body_base64": "AAECA/8=", "size": 5\}\}$},
 qr{"interaction": 1, },
 qr{^\{"error": "no interaction 1 in store 0"\}$},
 qr{^\{"error": "no interaction 7 in store 0"\}$},
 qr{^\{"error": "\\"interaction\\" must be the number of an interaction in its cassette"\}$},
 qr{^\{"error": "no cassette store \\"3\\""\}$},
 qr{^\{"error": "no cassette store \\"3\\""\}$},
 qr{"body_base64": "AAECA/8="}]
--- no_error_log
[error]
[alert]



=== TEST 7: the sessions, a page at a time in byte order, with their forced answers
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
        mock_repeats on;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /c", "GET /c", "GET /c",
 "POST /_mock/force\n{\"session\": \"a\", \"method\": \"GET\", \"path\": \"/c\", \"interaction\": 0}",
 "GET /_mock/sessions?limit=2", "GET /_mock/sessions?after=b",
 "GET /_mock/sessions?session=a", "GET /_mock/sessions?session=b",
 "GET /_mock/sessions?limit=x", "GET /_mock/sessions?after=a&limit=2",
 "GET /_mock/sessions?limit=0"]
--- more_headers eval
["X-Test-Id: b\r\n", "X-Test-Id: c\r\n", "X-Test-Id: a\r\n",
 "Content-Type: application/json\r\n", "", "", "", "", "", "", ""]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 400, 200, 200]
--- response_body_like eval
["^one\$", "^one\$", "^one\$", "forced",
 qr{^\{"sessions": \[
\{"session": "a", "forced": 1\},
\{"session": "b", "forced": 0\}
\], "total": 3, "more": true\}$},
 qr{^\{"sessions": \[
\{"session": "c", "forced": 0\}
\], "total": 3, "more": false\}$},
 qr{^\{"session": "a", "forced": \[
\{"store": 0, "method": "GET", "path": "/c", "cassette": "\S+/seq\.yaml", "interaction": 0\}
\]\}$},
 qr{^\{"session": "b", "forced": \[
\]\}$},
 qr{"error"},
 qr{^\{"sessions": \[
\{"session": "b", "forced": 0\},
\{"session": "c", "forced": 0\}
\], "total": 3, "more": false\}$},
 qr{^\{"sessions": \[
\], "total": 3, "more": true\}$}]
--- no_error_log
[error]
[alert]



=== TEST 8: the mock locations with their stores and modes; the cassettes list a page of a directory's sessions
--- user_files
>>> dir/a.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'a'}}
>>> dir/b.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'b'}}
>>> one.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/dir/;
        mock_session $http_x_test_id;
    }
    location /two/ {
        mock_replay html/one.yaml;
        mock_repeats on;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /c", "GET /c", "GET /_mock/locations", "GET /_mock/cassettes?sessions=1",
 "GET /_mock/cassettes?sessions=5", "GET /_mock/cassettes?sessions=x"]
--- more_headers eval
["X-Test-Id: a\r\n", "X-Test-Id: b\r\n", "", "", "", ""]
--- error_code eval
[200, 200, 200, 200, 200, 400]
--- response_body_like eval
["^a\$", "^b\$",
 qr{^\{"locations": \[
\{"location": "/", "cassette": "\S+/html/dir", "mode": "replay", "store": 0\},
\{"location": "/two/", "cassette": "\S+/html/one\.yaml", "mode": "replay", "store": 1\}
\]\}$},
 qr{"sessions": \[\{"session": "[ab]", "cassette": "\S+", "interactions": 1\}\], "more_sessions": true\}},
 qr{"sessions": \[\{[^\]]*\}, \{[^\]]*\}\]\}},
 qr{"error": "\\"sessions\\" must be a number"}]
--- no_error_log
[error]
[alert]



=== TEST 9: the dashboard's files, with their types, a strict policy and ETags
--- user_files
>>> one.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/one.yaml;
    }
    location /admin/ {
        mock_admin;
    }
--- request eval
["GET /admin/ui/", "GET /admin/ui/ui.js", "GET /admin/ui/ui.css",
 "GET /admin/ui/index.html", "GET /admin/ui/nothing.js", "HEAD /admin/ui/ui.js",
 "POST /admin/ui/"]
--- more_headers eval
["", "", "", "", "", "", "Content-Type: application/json\r\n"]
--- error_code eval
[200, 200, 200, 200, 404, 200, 405]
--- response_headers_like eval
["Content-Type: text/html; charset=utf-8\nContent-Security-Policy: default-src 'self'; script-src 'self'; .*frame-ancestors 'none'\nX-Frame-Options: DENY\nX-Content-Type-Options: nosniff\nETag: \"[0-9a-f]{20}\"",
 "Content-Type: text/javascript; charset=utf-8\nX-Content-Type-Options: nosniff",
 "Content-Type: text/css; charset=utf-8",
 "Content-Type: text/html; charset=utf-8",
 "", "Content-Type: text/javascript; charset=utf-8", ""]
--- response_body_like eval
["<script src=\"ui.js\"></script>", "textContent", "--accent", "<nav>", "", "", ""]
--- no_error_log
[error]
[alert]



=== TEST 10: a body over 1 MB is shown up to a whole character within its first MB
--- user_files eval
">>> big.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/big', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: '"
. ("x" x 1048575) . "\xc3\xa9" . ("y" x 1000) . "'}}
"
--- config
    location / {
        mock_replay html/big.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request
GET /_mock/interaction?interaction=0
--- response_body_like eval
qr{"body": "(?:x{1024}){1023}x{1023}", "size": 1049577, "truncated": true\}\}$}
--- no_error_log
[error]
[alert]
