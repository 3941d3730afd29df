# mock_mode verify: the request goes to the upstream and the client gets
# its answer unchanged; the answer is compared with the interaction that
# replay would play, without playing it, and differences (status, the
# headers mock_verify_headers names, JSON bodies by shape or by value)
# are counted, logged once and listed by GET /_mock/drift.  The result
# of a request is known once its body has passed: the journal and the
# metrics tell it; the response header says "verify".

use Test::Nginx::Socket 'no_plan';
use Digest::SHA qw(hmac_sha256_hex);

$ENV{TEST_NGINX_SERVER_PORT} ||= server_port();

our $Secret = 'verify-secret-0123456789abcdef';

sub main::token {
    my ($mode, $session) = @_;
    my $expiry = time + 600;
    return "$expiry." . hmac_sha256_hex("$mode\n$session\n$expiry", $Secret);
}

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: same shape, other values: verified; the client gets the live answer
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/users/1', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1, "name": "ada", "tags": ["a"], "items": [{"ts": 10, "v": "x"}]}'}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"items": [{"v": "y", "ts": 11}, {"ts": 12, "v": "z"}], "name": "bob", "id": 2, "tags": []}';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /api/users/1", "GET /api/users/1", "GET /_mock/drift", "GET /_mock/journal"]
--- response_body_like eval
['^\{"items": \[\{"v": "y", "ts": 11\}, \{"ts": 12, "v": "z"\}\], "name": "bob", "id": 2, "tags": \[\]\}$',
 '"name": "bob"',
 '^\{"drift": \[\], "entries": 0, "capacity": 256, "full": false, "dropped": 0\}$',
 '"uri": "/api/users/1", "result": "verified", "status": 200, "cassette": "\S+/c\.yaml", "interaction": 0\},
\{[^\n]*"result": "verified"']
--- response_headers eval
["X-Mock: verify", "X-Mock: verify", "", ""]
--- no_error_log
[error]
[warn]



=== TEST 2: members added and removed, a changed type, an array element of another shape, logged at warn
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/users/1', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1, "name": "ada", "age": 36, "items": [{"ts": 10, "v": "x"}]}'}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"id": 2, "email": "b@x", "age": "36", "items": [{"ts": 11, "v": "y"}, {"ts": "12", "v": "z"}]}';
    }
--- request
GET /api/users/1
--- response_body chomp
{"id": 2, "email": "b@x", "age": "36", "items": [{"ts": 11, "v": "y"}, {"ts": "12", "v": "z"}]}
--- error_log eval
[qr/\[warn\] .*mock: "GET \/api\/users\/1" drifted from interaction 0 of "\S+\/c\.yaml": \$\.age: type live string "36", recorded number 36; \$\.email: added, live "b\@x"; \$\.items\[1\]\.ts: type live string "12", recorded number 10; \$\.name: removed, recorded "ada" while/]
--- no_error_log
[error]



=== TEST 3: the drift table: one entry per interaction, with both statuses, the diff, first and last seen, and the count; metrics count drifts
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/users/1', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1, "name": "ada"}'}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
        mock_session $http_x_session;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"id": 2}';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /api/users/1", "GET /api/users/1", "GET /api/users/1", "GET /_mock/drift?session=s1", "GET /_mock/drift?session=s2", "GET /_mock/metrics", "GET /_mock/drift?store=0", "GET /_mock/drift?store=5"]
--- more_headers eval
["X-Session: s1", "X-Session: s1", "X-Session: s2", "", "", "", "", ""]
--- response_body_like eval
['^\{"id": 2\}$', '^\{"id": 2\}$', '^\{"id": 2\}$',
 '^\{"drift": \[
\{"store": 0, "kind": "drift", "session": "s1", "method": "GET", "uri": "/api/users/1", "cassette": "\S+/html/c\.yaml", "interaction": 0, "live": \{"status": 200\}, "recorded": \{"status": 200\}, "diff": \["\$\.name: removed, recorded \\\\"ada\\\\""\], "first": \d+, "last": \d+, "count": 2\}
\], "entries": 2, "capacity": 256, "full": false, "dropped": 0\}$',
 '^\{"drift": \[
\{"store": 0, "kind": "drift", "session": "s2", [^\n]*"count": 1\}
\], "entries": 2,',
 '"location": "/api/", [^\n]*"verified": 0, "drift": 3, "unrecorded": 0\}',
 '"session": "s1".*"session": "s2"',
 '"error": "no cassette store \\\\"5\\\\""']
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 404]
--- no_error_log
[error]



=== TEST 4: mock_verify_values compares values too, but not under mock_verify_ignore paths, which keep their type
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/orders', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1, "name": "ada", "items": [{"ts": 1, "sku": "a"}, {"ts": 2, "sku": "b"}], "n": 1.5}'}
--- config
    location /values/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
        mock_verify_values on;
        mock_verify_ignore $.id $.items[*].ts;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"id": 77, "name": "bob", "items": [{"ts": 9, "sku": "a"}, {"ts": "x", "sku": "c"}, {"ts": 4, "sku": "d"}], "n": 1.5}';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /values/orders", "GET /_mock/drift"]
--- response_body_like eval
['"id": 77',
 '"diff": \["\$\.items\[1\]\.sku: live \\\\"c\\\\", recorded \\\\"b\\\\"", "\$\.items\[1\]\.ts: type live string \\\\"x\\\\", recorded number 2", "\$\.items\[2\]: added, live \{\\\\"sku\\\\":\\\\"d\\\\",\\\\"ts\\\\":4\}", "\$\.name: live \\\\"bob\\\\", recorded \\\\"ada\\\\""\]']
--- no_error_log
[error]



=== TEST 5: status and the headers mock_verify_headers names; a body that is no longer JSON
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/h', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [application/json]
      X-Api-Version: ['1']
      X-Gone: ['yes']
    body: {string: '{"ok": true}'}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
        mock_verify_headers Content-Type X-Api-Version X-Gone X-New X-Never;
    }
    location /backend/ {
        default_type text/html;
        add_header X-Api-Version 2 always;
        add_header X-New here always;
        return 503 'oops';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /api/h", "GET /_mock/drift"]
--- error_code eval
[503, 200]
--- response_body_like eval
['^oops$',
 '"live": \{"status": 503\}, "recorded": \{"status": 200\}, "diff": \["status: live 503, recorded 200", "header Content-Type: live \\\\"text/html\\\\", recorded \\\\"application/json\\\\"", "header X-Api-Version: live \\\\"2\\\\", recorded \\\\"1\\\\"", "header X-Gone: removed, recorded \\\\"yes\\\\"", "header X-New: added, live \\\\"here\\\\"", "body: live is not JSON \(4 bytes\), recorded is"\]']
--- no_error_log
[error]



=== TEST 6: a request with no recording is unrecorded
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/known', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'k'}}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
    }
    location /backend/ {
        return 200 'live';
    }
    location /_mock { mock_admin; }
--- request eval
["POST /api/new\nhello", "GET /_mock/drift", "GET /_mock/journal"]
--- response_body_like eval
['^live$',
 '^\{"drift": \[
\{"store": 0, "kind": "unrecorded", "session": null, "method": "POST", "uri": "/api/new", "cassette": null, "interaction": null, "live": \{"status": 200\}, "recorded": null, "diff": \["no recording matches the request"\], "first": \d+, "last": \d+, "count": 1\}
\]',
 '"result": "unrecorded", "status": 200, "cassette": null, "interaction": null']
--- no_error_log
[error]



=== TEST 7: verify plays nothing: the replay location next to it still gets the first answer of the sequence, and verify then compares with the second
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/job', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [application/json]}, body: {string: '{"state": "pending"}'}}
- request: {method: GET, uri: 'http://svc/job', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [application/json]}, body: {string: '{"state": "done", "result": 1}'}}
--- config
    location /v/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
    }
    location /r/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"state": "running"}';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /v/job", "GET /v/job", "GET /r/job", "GET /v/job", "GET /_mock/journal"]
--- response_body_like eval
['running', 'running', 'pending', 'running',
 '"uri": "/v/job", "result": "verified", "status": 200, "cassette": "\S+", "interaction": 0\},
\{[^\n]*"uri": "/v/job", "result": "verified", [^\n]*"interaction": 0\},
\{[^\n]*"uri": "/r/job", "result": "hit", [^\n]*"interaction": 0\},
\{[^\n]*"uri": "/v/job", "result": "drift", [^\n]*"interaction": 1\}']
--- no_error_log
[error]



=== TEST 8: text bodies: by type and presence, by bytes with mock_verify_values
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/t', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'recorded text'}}
- request: {method: GET, uri: 'http://svc/empty', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'was here'}}
--- config
    location /shape/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
    }
    location /values/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
        mock_verify_values on;
    }
    location /backend/t {
        default_type text/plain;
        return 200 'live text, other bytes';
    }
    location /backend/empty {
        default_type text/plain;
        return 200 '';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /shape/t", "GET /values/t", "GET /shape/empty", "GET /_mock/drift"]
--- response_body_like eval
['other bytes', 'other bytes', '^$',
 '^\{"drift": \[
\{[^\n]*"uri": "/values/t", [^\n]*"diff": \["body: bytes differ \(live 22 bytes, recorded 13\)"\][^\n]*\},
\{[^\n]*"uri": "/shape/empty", [^\n]*"diff": \["body: live is empty, recorded has 8 bytes"\][^\n]*\}
\], "entries": 2,']
--- no_error_log
[error]



=== TEST 9: members a template makes are compared by type only; secrets (mock_filter_*) never
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/t', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json], X-Token: [REDACTED]}
    body: {string: '{"id": "{{uuid}}", "n": {{request.query.n}}, "label": "item-{{seq}}", "name": "ada", "password": "REDACTED"}'}
  x_mock: {templated: [$.id, $.n, $.label]}
- request: {method: GET, uri: 'http://svc/t2', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": "{{uuid}}", "n": {{request.query.n}}, "label": "item-{{seq}}", "name": "ada", "password": "REDACTED"}'}
  x_mock: {templated: [$.id, $.n, $.label]}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_match method path;
        mock_mode verify;
        mock_verify_values on;
        mock_verify_headers Content-Type X-Token;
        mock_filter_body password;
        mock_filter_header X-Token;
    }
    location /backend/t {
        default_type application/json;
        add_header X-Token live-secret;
        return 200 '{"id": "0b9f", "n": 7, "label": "item-3", "name": "bob", "password": "hunter2"}';
    }
    location /backend/t2 {
        default_type application/json;
        return 200 '{"id": 5, "n": "seven", "label": "item-3", "name": "ada", "password": "hunter2"}';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /api/t?n=7", "GET /api/t2", "GET /_mock/drift"]
--- response_body_like eval
['"password": "hunter2"', '"id": 5',
 '^\{"drift": \[
\{[^\n]*"uri": "/api/t\?n=7", [^\n]*"diff": \["\$\.name: live \\\\"bob\\\\", recorded \\\\"ada\\\\""\][^\n]*\},
\{[^\n]*"uri": "/api/t2", [^\n]*"diff": \["\$\.id: type live number 5, recorded string \\\\"\{\{uuid\}\}\\\\""\][^\n]*\}
\], "entries": 2,']
--- response_body_unlike eval
['', '', 'hunter2|REDACTED|live-secret|seven']
--- no_error_log
[error]



=== TEST 10: invalid JSON, live or recorded; both invalid is compared as text
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/live-bad', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [application/json]}, body: {string: '{"a": 1}'}}
- request: {method: GET, uri: 'http://svc/rec-bad', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [application/json]}, body: {string: '{"a": [1, 2'}}
- request: {method: GET, uri: 'http://svc/both-bad', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [application/json]}, body: {string: '{{{{'}}
- request: {method: GET, uri: 'http://svc/deep', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [application/json]}, body: {string: '{"a": 1}'}}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"a": 1';
    }
    location /backend/rec-bad {
        default_type application/json;
        return 200 '{"a": [1, 2]}';
    }
    location /backend/both-bad {
        default_type application/json;
        return 200 '}}}}';
    }
    location /backend/deep {
        default_type application/json;
        return 200 '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /api/live-bad", "GET /api/rec-bad", "GET /api/both-bad", "GET /api/deep", "GET /_mock/drift"]
--- response_body_like eval
['^\{"a": 1$', '^\{"a": \[1, 2\]\}$', '^\}\}\}\}$', '^\[\[\[',
 '^\{"drift": \[
\{[^\n]*"uri": "/api/live-bad", [^\n]*"diff": \["body: live is not JSON \(7 bytes\), recorded is"\][^\n]*\},
\{[^\n]*"uri": "/api/rec-bad", [^\n]*"diff": \["body: recorded is not JSON \(11 bytes\), live is"\][^\n]*\},
\{[^\n]*"uri": "/api/deep", [^\n]*"diff": \["body: live is not JSON \(\d+ bytes\), recorded is"\][^\n]*\}
\], "entries": 3,']
--- no_error_log
[error]



=== TEST 11: CR, LF and quotes in what reaches the table, the log and the JSON are escaped or replaced
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/x', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [application/json]}, body: {string: '{"a": "plain"}'}}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
        mock_verify_values on;
        mock_session $http_x_session;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"a": "line\r\nX-Injected: 1\u0000\"", "b\"\n": 1}';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /api/x", "GET /api/x%0D%0AX-Injected:%201?q=%0a", "GET /_mock/drift"]
--- more_headers eval
["X-Session: a\"b", "", ""]
--- response_body_like eval
['X-Injected', 'X-Injected',
 '"session": "a_b", [^\n]*"diff": \["\$\.a: live \\\\"line\\\\\\\\r\\\\\\\\nX-Injected: 1\\\\\\\\u0000\\\\\\\\\\\\"\\\\", recorded \\\\"plain\\\\"", "\$\.b\\\\"\\\\\\\\n: added, live 1"\].*"uri": "/api/x%0D%0AX-Injected:%201\?q=%0a", [^\n]*"kind": "unrecorded"|"kind": "unrecorded".*"uri": "/api/x%0D%0AX-Injected:%201\?q=%0a"']
--- response_headers eval
["!X-Injected", "!X-Injected", "!X-Injected"]
--- no_error_log
[error]



=== TEST 12: a body over mock_record_max_body is not compared; status and headers are
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/big', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'small'}}
- request: {method: GET, uri: 'http://svc/big500', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'small'}}
>>> big.txt
0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
        mock_verify_values on;
        mock_record_max_body 100;
    }
    location /backend/big {
        default_type text/plain;
        alias html/big.txt;
    }
    location /backend/big500 {
        default_type text/plain;
        return 500 '0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789-past-100';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /api/big", "GET /api/big500", "GET /_mock/drift", "GET /_mock/journal"]
--- error_code eval
[200, 500, 200, 200]
--- response_body_like eval
['^0123456789.{1100,}', '-past-100$',
 '^\{"drift": \[
\{[^\n]*"uri": "/api/big500", [^\n]*"diff": \["status: live 500, recorded 200"\][^\n]*\}
\], "entries": 1,',
 '"uri": "/api/big", "result": "verified"']
--- no_error_log
[error]



=== TEST 13: the body not verified is said at info
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/big', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain]}, body: {string: 'small'}}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
        mock_record_max_body 4;
    }
    location /backend/ {
        default_type text/plain;
        return 200 'longer than four';
    }
--- request
GET /api/big
--- response_body chomp
longer than four
--- error_log
the body of "GET /api/big" is not verified: its response body is larger than mock_record_max_body
--- no_error_log
[error]
[warn]



=== TEST 14: a signed request may ask for verify; mock_mode verify in $mock_mode
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => <<'YAML']]
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [application/json]}, body: {string: '{"v": 1}'}}
YAML
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode replay;
        mock_request_mode on;
        mock_token_secret html/secret;
        add_header X-Mode $mock_mode always;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"v": "live"}';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /api/a", "GET /api/a", "GET /api/a", "GET /_mock/drift"]
--- more_headers eval
["", "X-Mock-Mode: verify\r\nX-Mock-Session: ci\r\nX-Mock-Token: " . main::token("verify", "ci") . "\r\n",
 "X-Mock-Mode: verify\r\nX-Mock-Token: 1.bad\r\n", ""]
--- error_code eval
[200, 200, 403, 200]
--- response_body_like eval
['^\{"v": 1\}$', '^\{"v": "live"\}$', 'refused|forbidden|403',
 '"session": "ci", [^\n]*"diff": \["\$\.v: type live string \\\\"live\\\\", recorded number 1"\]']
--- response_headers eval
["X-Mock: replay; hit", "X-Mock: verify", "", ""]
--- no_error_log
[error]



=== TEST 15: HEAD compares status and headers only
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: HEAD, uri: 'http://svc/h', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [application/json]}, body: {string: ''}}
- request: {method: GET, uri: 'http://svc/g', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/html]}, body: {string: 'a page'}}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"x": 1}';
    }
    location /_mock { mock_admin; }
--- request eval
["HEAD /api/h", "HEAD /api/g", "GET /_mock/journal"]
--- response_body_like eval
['^$', '^$', '"method": "HEAD", "uri": "/api/h", "result": "verified"[^\n]*\n\{[^\n]*"method": "HEAD", "uri": "/api/g", "result": "drift", "status": 200, "cassette": "\S+", "interaction": 1\}']
--- no_error_log
[error]



=== TEST 16: bad mock_verify_sample
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_verify_sample 0%;
    }
--- must_die
--- error_log
invalid share "0%": a percentage above 0% and at most 100%, with up to two decimals, or "off"



=== TEST 17: bad mock_verify_sample: too many decimals
--- config
    location /api/ {
        mock_verify_sample 5.125%;
    }
--- must_die
--- error_log
invalid share "5.125%"



=== TEST 18: bad mock_verify_sample: over 100%
--- config
    location /api/ {
        mock_verify_sample 100.5%;
    }
--- must_die
--- error_log
invalid share "100.5%"



=== TEST 19: bad mock_verify_ignore
--- config
    location /api/ {
        mock_verify_ignore id;
    }
--- must_die
--- error_log
invalid JSON path "id": it begins with "$"



=== TEST 20: bad mock_verify_ignore: an index that is no number
--- config
    location /api/ {
        mock_verify_ignore $.items[x];
    }
--- must_die
--- error_log
invalid JSON path "$.items[x]": an index is a number or "*"



=== TEST 21: bad mock_verify_headers: CR and LF in a name
--- config
    location /api/ {
        mock_verify_headers "X-A\r\nX-B";
    }
--- must_die
--- error_log
a byte that is not a token character



=== TEST 21: nested objects and arrays, by shape and by value (another store: an entry of its own)
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/n', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"z": [[1], [2]], "a": {"e": null, "b": [1, {"d": [1, 2], "c": true}]}}'}
--- config
    location /shape/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
    }
    location /values/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_mode verify;
        mock_verify_values on;
        mock_match method path;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"a": {"b": [2, {"c": "yes", "d": [1]}], "f": 1}, "z": [[1], ["x"]]}';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /shape/n", "GET /values/n", "GET /_mock/drift"]
--- response_body_like eval
['"f": 1', '"f": 1',
 '^\{"drift": \[
\{[^\n]*"uri": "/shape/n", [^\n]*"diff": \["\$\.a\.b\[1\]: type live object \{\\\\"c\\\\":\\\\"yes\\\\",\\\\"d\\\\":\[1\]\}, recorded number 1", "\$\.a\.e: removed, recorded null", "\$\.a\.f: added, live 1", "\$\.z\[1\]\[0\]: type live string \\\\"x\\\\", recorded number 1"\][^\n]*\},
\{[^\n]*"uri": "/values/n", [^\n]*"diff": \["\$\.a\.b\[0\]: live 2, recorded 1", "\$\.a\.b\[1\]\.c: type live string \\\\"yes\\\\", recorded boolean true", "\$\.a\.b\[1\]\.d\[1\]: removed, recorded 2", "\$\.a\.e: removed, recorded null", "\$\.a\.f: added, live 1", "\$\.z\[1\]\[0\]: type live string \\\\"x\\\\", recorded number 2"\][^\n]*\}
\], "entries": 2,']
--- no_error_log
[error]



=== TEST 22: a shape found without drift is known again, and another shape still drifts
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/s', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1, "tags": ["a"], "o": {"k": true}}'}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_upstream http://svc/;
        mock_match method path;
        mock_mode verify;
    }
    location /backend/ {
        default_type application/json;
        if ($arg_v = 2) {
            return 200 '{"id": 2, "tags": ["b", "c"], "o": {"k": 1}}';
        }
        if ($arg_v = 3) {
            return 200 '{"o": {"k": false}, "tags": [], "id": 3}';
        }
        if ($arg_v = 4) {
            return 200 '{"id": 4, "tags": ["a"], "o": {"k": true}, "x": [1 2]}';
        }
        return 200 '{"id": 5, "tags": ["d"], "o": {"k": false}}';
    }
    location /_mock { mock_admin; }
--- request eval
["GET /api/s?v=1", "GET /api/s?v=1", "GET /api/s?v=2", "GET /api/s?v=1", "GET /api/s?v=3", "GET /api/s?v=4", "GET /api/s?v=1", "GET /_mock/journal", "GET /_mock/drift"]
--- response_body_like eval
['"id": 5', '"id": 5', '"id": 2', '"id": 5', '"id": 3', '"id": 4', '"id": 5',
 '"uri": "/api/s\?v=1", "result": "verified",[^\n]*\n\{[^\n]*"uri": "/api/s\?v=1", "result": "verified",[^\n]*\n\{[^\n]*"uri": "/api/s\?v=2", "result": "drift",[^\n]*\n\{[^\n]*"uri": "/api/s\?v=1", "result": "verified",[^\n]*\n\{[^\n]*"uri": "/api/s\?v=3", "result": "verified",[^\n]*\n\{[^\n]*"uri": "/api/s\?v=4", "result": "drift",[^\n]*\n\{[^\n]*"uri": "/api/s\?v=1", "result": "verified"',
 '"diff": \["body: live is not JSON \(\d+ bytes\), recorded is"\], [^\n]*"count": 2\}']
--- no_error_log
[error]



=== TEST 23: verify needs proxy_pass
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_mode verify;
    }
--- user_files
>>> c.yaml
version: 1
interactions: []
--- must_die
--- error_log eval
qr/"mock_mode verify" and "mock_verify_sample" need a "proxy_pass" to verify against, in the location of "mock_replay" in \S+nginx\.conf:\d+/
