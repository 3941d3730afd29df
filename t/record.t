# Recording through proxy_pass, and the record modes.  The cassette a
# block records into is read back through a plain location (/cassette),
# so the blocks check what was written.  Recordings accumulate while
# nginx runs, so each block runs once.

use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_SERVER_PORT} ||= server_port();

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: record mode proxies, leaves the response alone, and writes it down
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
    }
    location /backend/ {
        add_header X-Backend yes;
        add_header Set-Cookie "a=1";
        add_header Set-Cookie "b=2";
        return 201 "made $uri $args\n";
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/things?b=2&a=1", "POST /api/things\nhello", "GET /cassette"]
--- error_code eval
[201, 201, 200]
--- response_body_like eval
["^made /backend/things b=2&a=1\$",
 "^made /backend/things \$",
 qr{\A\# recorded by nginx: new interactions are appended at the end\nversion: 1
interactions:
- request:
    body: null
    headers:
      "Host":
      - "127\.0\.0\.1:\d+"
.*
    method: "GET"
    uri: "http://127\.0\.0\.1:\d+/backend/things\?b=2&a=1"
  response:
    body:
      string: "made /backend/things b=2&a=1\\n"
    headers:
.*      "X-Backend":
      - "yes"
      "Set-Cookie":
      - "a=1"
      - "b=2"
    status:
      code: 201
      message: "Created"
  x_mock:
    recorded: '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'
    timing: \{wait: \d+, receive: \d+\}
# recorded \S+
- request:
    body: "hello"
.*    method: "POST"
.*# recorded \S+
\z}s]
--- no_error_log
[error]



=== TEST 2: secrets are filtered before they are stored, and before matching
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode new_episodes;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_repeats on;
        mock_match method path query body headers=Authorization;
        mock_filter_header Authorization REDACTED;
        mock_filter_header Cookie;
        mock_filter_header Set-Cookie;
        mock_filter_query token;
        mock_filter_query api_key KEY;
        mock_filter_body password;
        mock_filter_body card ****;
        add_header X-Mock-Status $mock_status always;
    }
    location /backend/ {
        add_header Set-Cookie "session=sekrit-cookie";
        return 200 "ok\n";
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["POST /api/pay?token=tok-s3cret-1&api_key=key-s3cret-1&x=1\n{\"user\":\"ada\",\"password\":\"pw-s3cret-1\",\"nested\":{\"card\":\"4111-s3cret\"}}",
 "POST /api/pay?x=1&api_key=key-s3cret-2&token=tok-s3cret-2\n{\"nested\":{\"card\":\"5500-s3cret\"},\"password\":\"pw-s3cret-2\",\"user\":\"ada\"}",
 "GET /cassette"]
--- more_headers eval
["Content-Type: application/json\r\nAuthorization: Bearer auth-s3cret-1\r\nCookie: c=cookie-s3cret\r\n",
 "Content-Type: application/json\r\nAuthorization: Bearer auth-s3cret-2\r\n",
 ""]
--- response_headers eval
["!X-Mock-Status", "X-Mock-Status: hit", ""]
--- response_body_like eval
["^ok\$", "^ok\$", qr{"Authorization":\n      - "REDACTED"}]
--- response_body_unlike eval
["s3cret", "s3cret", "s3cret|sekrit"]
--- no_error_log
[error]



=== TEST 3: new_episodes replays what matches and records the rest
--- user_files
>>> ne.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/known', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'from cassette'}}
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/ne.yaml;
        mock_mode new_episodes;
        mock_upstream http://svc/;
        add_header X-Mock-Status $mock_status always;
    }
    location /backend/ {
        return 200 "live $uri\n";
    }
--- request eval
["GET /known", "GET /unknown", "GET /known", "GET /unknown"]
--- response_body eval
["from cassette", "live /backend/unknown\n", "live /backend/known\n",
 "live /backend/unknown\n"]
--- response_headers eval
["X-Mock-Status: hit", "!X-Mock-Status", "!X-Mock-Status", "!X-Mock-Status"]
--- no_error_log
[error]



=== TEST 4: recordings are replayed at once, by every worker
--- config
    location /rec/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/shared.yaml;
        mock_mode record;
    }
    location /play/ {
        mock_replay html/shared.yaml;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_repeats on;
        add_header X-Mock-Status $mock_status always;
    }
    location /backend/ {
        return 200 "recorded $uri\n";
    }
--- request eval
["GET /rec/a", "GET /play/a", "GET /play/b"]
--- response_body_like eval
["^recorded /backend/a\$", "^recorded /backend/a\$", "no recorded interaction"]
--- response_headers eval
["!X-Mock-Status", "X-Mock-Status: hit", "X-Mock-Status: miss"]
--- error_code eval
[200, 200, 404]
--- no_error_log
[error]



=== TEST 5: once records into an empty cassette
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/new.yaml;
        mock_mode once;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }
    location /backend/ {
        return 200 "live $uri\n";
    }
    location = /cassette {
        default_type text/plain;
        alias html/new.yaml;
    }
--- request eval
["GET /x", "GET /cassette"]
--- response_body_like eval
["^live /backend/x\$", qr{uri: "http://127\.0\.0\.1:\d+/backend/x"}]
--- no_error_log
[error]



=== TEST 6: once only replays a cassette that has interactions
--- user_files
>>> old.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/x', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'old x'}}
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/old.yaml;
        mock_mode once;
    }
    location /backend/ {
        return 200 "live $uri\n";
    }
--- request eval
["GET /x", "GET /y"]
--- response_body_like eval
["^old x\$", "no recorded interaction matches GET /y"]
--- error_code eval
[200, 404]
--- no_error_log
[error]



=== TEST 7: fallback answers from recordings when the upstream fails
--- config
    location /svc/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
        mock_replay html/fb.yaml;
        mock_mode fallback;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
        mock_repeats on;
        add_header X-Mock-Status $mock_status always;
    }
    location /flaky/ {
        if ($http_x_fail) {
            return 503 "down\n";
        }
        add_header X-Version v1;
        return 200 "fresh $uri\n";
    }
--- request eval
["GET /svc/a", "GET /svc/a", "GET /svc/b"]
--- more_headers eval
["", "X-Fail: 1\r\n", "X-Fail: 1\r\n"]
--- error_code eval
[200, 200, 503]
--- response_body eval
["fresh /flaky/a\n", "fresh /flaky/a\n", "down\n"]
--- response_headers eval
["!X-Mock-Status", "X-Mock-Status: fallback", "X-Mock-Status: passthrough"]
--- no_error_log
[error]



=== TEST 8: fallback covers an upstream that cannot be reached
--- user_files
>>> down.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://127.0.0.1:1/api/status', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [application/json]
    body: {string: '{"status": "recorded"}'}
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:1;
        proxy_connect_timeout 1s;
        mock_replay html/down.yaml;
        mock_mode fallback;
        add_header X-Mock-Status $mock_status always;
    }
--- request
GET /api/status
--- response_body chomp
{"status": "recorded"}
--- response_headers
Content-Type: application/json
X-Mock-Status: fallback
--- error_log
upstream answered 502, falling back to interaction 0



=== TEST 9: a failure with nothing recorded to fall back on passes through
--- user_files
>>> empty.yaml
version: 1
interactions: []
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/empty.yaml;
        mock_mode fallback;
        add_header X-Mock-Status $mock_status always;
    }
    location /backend/ {
        return 504 "late\n";
    }
--- request
GET /nothing
--- error_code: 504
--- response_body
late
--- response_headers
X-Mock-Status: passthrough
--- error_log
mock: upstream answered 504 and no recording of "GET /nothing" is left to fall back on
--- no_error_log
[error]



=== TEST 10: mock_fallback_status picks which answers count as failures
--- user_files
>>> fb.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/t', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'recorded'}}
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/fb.yaml;
        mock_mode fallback;
        mock_fallback_status 429 500;
        mock_match method path;
        mock_repeats on;
    }
    location /backend/ {
        if ($arg_code = 429) {
            return 429 "live 429\n";
        }
        return 503 "live 503\n";
    }
--- request eval
["GET /t?code=429", "GET /t?code=503"]
--- response_body eval
["recorded", "live 503\n"]
--- error_code eval
[200, 503]



=== TEST 11: a body over mock_record_max_body is passed on, not recorded
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_max_body 16;
    }
    location /backend/ {
        return 200 "this body is longer than sixteen bytes\n";
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- request eval
["GET /api/big", "GET /cassette"]
--- response_body eval
["this body is longer than sixteen bytes\n", "# recorded by nginx: new interactions are appended at the end\nversion: 1\ninteractions:\n"]
--- no_error_log
[error]



=== TEST 12: a response not recorded is logged with its request
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_max_body 16;
    }
    location /backend/ {
        return 200 "this body is longer than sixteen bytes\n";
    }
--- request
GET /api/big
--- response_body
this body is longer than sixteen bytes
--- error_log
mock: "GET /api/big" is not recorded: its response body is larger than mock_record_max_body
--- no_error_log
[error]



=== TEST 13: compressed and binary bodies are recorded as !!binary, replayed exactly
--- user_files eval
[["blob.bin" => CORE::join("", map { chr($_) } 0 .. 255)]]
--- config
    location /rec/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        proxy_set_header Accept-Encoding gzip;
        mock_replay html/bin.yaml;
        mock_mode record;
    }
    location /play/ {
        mock_replay html/bin.yaml;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_repeats on;
    }
    location /backend/json {
        gzip on;
        gzip_types application/json;
        gzip_min_length 1;
        default_type application/json;
        return 200 '{"greeting": "hello, hello, hello, hello"}';
    }
    location = /backend/blob {
        default_type application/octet-stream;
        alias html/blob.bin;
    }
    location = /cassette {
        default_type text/plain;
        alias html/bin.yaml;
    }
--- request eval
["GET /rec/blob", "GET /play/blob", "GET /cassette"]
--- response_body eval
[CORE::join("", map { chr($_) } 0 .. 255), CORE::join("", map { chr($_) } 0 .. 255),
 qr{string: !!binary "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0\+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn\+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq\+wsbKztLW2t7i5uru8vb6\/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t\/g4eLj5OXm5\+jp6uvs7e7v8PHy8\/T19vf4\+fr7\/P3\+\/w=="}]
--- no_error_log
[error]



=== TEST 14: mock_mode off leaves the location to proxy_pass
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/never.yaml;
        mock_mode off;
        add_header X-Mock-Status "[$mock_status]" always;
    }
    location /backend/ {
        return 200 "live\n";
    }
--- request
GET /api/x
--- response_body
live
--- response_headers
X-Mock-Status: []
--- no_error_log
[error]



=== TEST 15: recording into a directory is refused
--- user_files
>>> dir/a.yaml
version: 1
interactions: []
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/dir;
        mock_mode record;
    }
--- must_die
--- error_log eval
qr{mock: recording needs "mock_replay" to name a cassette file, or "mock_session" with a directory; "\S+/html/dir" is a directory in \S+nginx\.conf:\d+}



=== TEST 16: a cassette that recording cannot create is a configuration error
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay /nonexistent-dir/rec.yaml;
        mock_mode record;
    }
--- must_die
--- error_log eval
qr{mock: cassette "/nonexistent-dir/rec\.yaml" cannot be written by recording \("/nonexistent-dir/"\) in \S+nginx\.conf:\d+}



=== TEST 17: a missing cassette is an error where nothing records it
--- config
    location / {
        mock_replay html/missing.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/missing\.yaml" cannot be read in \S+nginx\.conf:\d+}



=== TEST 18: mock_fallback_status takes error statuses only
--- config
    location / {
        mock_fallback_status 200;
    }
--- must_die
--- error_log eval
qr{invalid status "200", expected a code from 400 to 599}



=== TEST 19: fallback replaces the recording of a request with its latest answer
--- config
    location /svc/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
        mock_replay html/latest.yaml;
        mock_mode fallback;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
        add_header X-Mock-Status $mock_status always;
    }
    location /flaky/ {
        if ($http_x_fail) {
            return 503 "down\n";
        }
        return 200 "version $http_x_version\n";
    }
    location = /cassette {
        default_type text/plain;
        alias html/latest.yaml;
    }
--- request eval
["GET /svc/a", "GET /svc/a", "GET /svc/a", "GET /svc/a", "GET /svc/a", "GET /cassette"]
--- more_headers eval
["X-Version: 1\r\n", "X-Version: 2\r\n", "X-Version: 2\r\n", "X-Fail: 1\r\n", "X-Fail: 1\r\n", ""]
--- response_body_like eval
["^version 1\$", "^version 2\$", "^version 2\$", "^version 2\$", "^version 2\$",
 qr{\A\# recorded by nginx[^\n]*\nversion: 1\ninteractions:\n- request:\n(?:(?!^- ).)*string: "version 2\\n"(?:(?!^- ).)*\z}sm]
--- response_headers eval
["!X-Mock-Status", "!X-Mock-Status", "!X-Mock-Status",
 "X-Mock-Status: fallback", "X-Mock-Status: fallback", ""]
--- no_error_log
[error]



=== TEST 20: in a session directory, each session keeps the latest answer per request
--- config
    location /svc/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
        mock_replay html/sessions;
        mock_session $http_x_test_id;
        mock_mode fallback;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
    }
    location /flaky/ {
        if ($http_x_fail) {
            return 503 "down\n";
        }
        return 200 "version $http_x_version\n";
    }
    location = /cassette {
        default_type text/plain;
        alias html/sessions/s1.yaml;
    }
--- user_files
>>> sessions/.keep
--- request eval
["GET /svc/a", "GET /svc/a", "GET /svc/a", "GET /svc/a", "GET /svc/a", "GET /cassette"]
--- more_headers eval
["X-Test-Id: s1\r\nX-Version: 1\r\n", "X-Test-Id: s2\r\nX-Version: 7\r\n",
 "X-Test-Id: s1\r\nX-Version: 2\r\n", "X-Test-Id: s1\r\nX-Fail: 1\r\n",
 "X-Test-Id: s2\r\nX-Fail: 1\r\n", ""]
--- response_body_like eval
["^version 1\$", "^version 7\$", "^version 2\$", "^version 2\$", "^version 7\$",
 qr{\A\# recorded by nginx[^\n]*\nversion: 1\ninteractions:\n- request:\n(?:(?!^- ).)*string: "version 2\\n"(?:(?!^- ).)*\z}sm]
--- no_error_log
[error]



=== TEST 21: a replay location that tells requests apart finer follows the replacement
--- config
    location /svc/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
        mock_replay html/shared-fb.yaml;
        mock_mode fallback;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
        mock_match method;
    }
    location /play/ {
        mock_replay html/shared-fb.yaml;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/flaky/;
        mock_repeats on;
    }
    location /flaky/ {
        return 200 "live $uri $args\n";
    }
--- request eval
["GET /svc/a?x=1", "GET /play/a?x=1", "GET /svc/a?x=2", "GET /play/a?x=1",
 "GET /play/a?x=2", "GET /svc/b", "GET /play/a?x=2", "GET /play/b"]
--- response_body_like eval
["^live /flaky/a x=1\$", "^live /flaky/a x=1\$", "^live /flaky/a x=2\$",
 "no recorded interaction matches", "^live /flaky/a x=2\$",
 "^live /flaky/b \$", "no recorded interaction matches", "^live /flaky/b \$"]
--- error_code eval
[200, 200, 200, 404, 200, 200, 404, 200]
