# Editing cassettes through the admin API: PUT interactions/N replaces a
# response, POST interactions adds an interaction, DELETE interactions/N
# removes one.  Each edit is in the file (read back through a location
# that serves it) and in the zone (replayed) at once; bad input gets a
# JSON error and changes nothing.

use Test::Nginx::Socket 'no_plan';

our $CASSETTE = <<'YAML';
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'two'}}
YAML

our $CONFIG = <<'CONF';
    location / {
        mock_replay html/c.yaml;
    }
    location = /file {
        default_type text/plain;
        alias html/c.yaml;
    }
    location = /tmp {
        alias html/c.yaml.edit.tmp;
    }
    location /_mock {
        mock_admin;
    }
CONF

add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->user_files) {
        $block->set_value("user_files", ">>> c.yaml\n$CASSETTE");
    }
    if (!defined $block->config) {
        $block->set_value("config", $CONFIG);
    }
});

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: PUT replaces a response, in the zone and in the file
--- request eval
["PUT /_mock/interactions/1
{\"response\": {\"status\": {\"code\": 201, \"message\": \"Made\"}, \"headers\": {\"X-New\": [\"yes\"]}, \"body\": {\"string\": \"deux\"}}}",
"GET /b", "GET /a", "GET /file"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 201, 200, 200]
--- response_body_like eval
[qr{^\{"cassette": "[^"]*/html/c\.yaml", "interaction": 1, "interactions": 2\}\n$},
"^deux\$", "^one\$",
qr{^# recorded by nginx[^\n]*\nversion: 1\ninteractions:\n- request:\n(?:.*\n)*?      string: "one"\n(?:.*\n)*?      string: "deux"\n    headers:\n      "X-New":\n      - "yes"\n    status:\n      code: 201\n      message: "Made"\n}s]
--- response_headers_like eval
["", "X-New: yes", "", ""]
--- no_error_log
[error]



=== TEST 2: POST adds an interaction at the end, as an expectation set without recording
--- request eval
["POST /_mock/interactions
{\"request\": {\"method\": \"POST\", \"uri\": \"http://svc/new?x=1\", \"body\": \"ping\", \"headers\": {\"Accept\": [\"text/plain\"]}},
 \"response\": {\"status\": {\"code\": 202, \"message\": \"Accepted\"}, \"headers\": {\"Content-Type\": [\"text/plain\"]}, \"body\": {\"string\": \"pong\\n\"}}}",
"POST /new?x=1\nping", "GET /_mock/interactions"]
--- more_headers
Content-Type: application/json
--- error_code eval
[201, 202, 200]
--- response_body_like eval
[qr{^\{"cassette": "[^"]*/html/c\.yaml", "interaction": 2, "interactions": 3\}\n$},
"^pong\n\$",
qr{"interaction": 2, "method": "POST", "uri": "http://svc/new\?x=1", "status": 202, "plays": 1\}}]
--- no_error_log
[error]



=== TEST 3: DELETE removes one: those after it move up, in the list and in the file
--- request eval
["DELETE /_mock/interactions/0", "GET /a", "GET /b", "GET /_mock/interactions", "GET /file"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 404, 200, 200, 200]
--- response_body_like eval
[qr{^\{"cassette": "[^"]*/html/c\.yaml", "interactions": 1\}\n$}, "", "^two\$",
qr{^\{"store": "[^"]*", "session": null, "interactions": \[\n\{"cassette": "[^"]*", "interaction": 0, "method": "GET", "uri": "http://svc/b", "status": 200, "plays": 1\}\n\]\}\n$},
qr{\A# recorded by nginx[^\n]*\nversion: 1\ninteractions:\n- request:\n(?:(?!- request).)*uri: "http://svc/b"(?:(?!- request).)*\z}s]
--- no_error_log
[error]



=== TEST 4: the last one deleted leaves an empty list, which loads again
--- request eval
["DELETE /_mock/interactions/1", "DELETE /_mock/interactions/0", "GET /file", "POST /_mock/reload", "GET /a"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200, 404]
--- response_body_like eval
["interactions\": 1", "interactions\": 0", "^version: 1\ninteractions: \\[\\]\n\$", "\"interactions\": 0", ""]



=== TEST 5: bad JSON is refused with 400, and nothing changes
--- request eval
["PUT /_mock/interactions/0
{\"response\": {\"status\": ", "POST /_mock/interactions
[1, 2]", "PUT /_mock/interactions/0
{\"status\": {\"code\": 201}}", "POST /_mock/interactions", "GET /file", "GET /a"]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400, 400, 200, 200]
--- response_body eval
["{\"error\": \"the body is not a JSON object\"}\n",
"{\"error\": \"the body is not a JSON object\"}\n",
"{\"error\": \"the body has no \\\"response\\\" object\"}\n",
"{\"error\": \"the body must be a JSON object: {\\\"request\\\": {...}, \\\"response\\\": {...}}\"}\n",
$::CASSETTE, "one"]
--- no_error_log
[error]



=== TEST 6: interactions that are not there get 404
--- request eval
["PUT /_mock/interactions/2
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"x\"}}}",
"DELETE /_mock/interactions/7", "DELETE /_mock/interactions/x", "DELETE /_mock/interactions/99999999999", "GET /file"]
--- more_headers
Content-Type: application/json
--- error_code eval
[404, 404, 404, 404, 200]
--- response_body_like eval
[qr{^\{"error": "no interaction 2 in \\"[^"]*/c\.yaml\\", which has 2"\}\n$},
qr{^\{"error": "no interaction 7 in },
qr{^\{"error": "interactions/N: N is the number},
qr{^\{"error": "interactions/N: N is the number},
"^\Q$::CASSETTE\E\$"]



=== TEST 7: CR, LF and NUL in header names and values are refused with 422, as the loader refuses them
--- request eval
["PUT /_mock/interactions/0
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {\"X-A\": [\"1\\r\\nSet-Cookie: a=1\"]}, \"body\": {\"string\": \"x\"}}}",
"PUT /_mock/interactions/0
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {\"X-A\\r\\nSet-Cookie: a\": [\"1\"]}, \"body\": {\"string\": \"x\"}}}",
"POST /_mock/interactions
{\"request\": {\"method\": \"GET\", \"uri\": \"http://svc/n\", \"body\": null, \"headers\": {\"X-B\": [\"a\\u0000b\"]}}, \"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"x\"}}}",
"PUT /_mock/interactions/0
{\"response\": {\"status\": {\"code\": 200, \"message\": \"O\\nK\"}, \"headers\": {}, \"body\": {\"string\": \"x\"}}}",
"GET /file", "GET /a"]
--- more_headers
Content-Type: application/json
--- error_code eval
[422, 422, 422, 422, 200, 200]
--- response_body_like eval
[qr{^\{"error": "the body: header \\"X-A\\" has a line break \(CR\) in its value"\}\n$},
qr{^\{"error": "the body: header name \\"X-A\\\\x0d\\\\x0aSet-Cookie: a\\" is not an HTTP token},
qr{^\{"error": "the body: [^\n]*NUL},
qr{^\{"error": "the body: [^\n]*line break},
"^\Q$::CASSETTE\E\$", "^one\$"]



=== TEST 8: shapes that are not an interaction, and what the loader refuses, get 422 with where
--- request eval
["POST /_mock/interactions
{\"request\": {\"method\": \"GET\"}, \"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"x\"}}}",
"PUT /_mock/interactions/0
{\"response\": {\"status\": {\"code\": \"abc\", \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"x\"}}}",
"PUT /_mock/interactions/0
{\"response\": {\"status\": {\"code\": 101, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"x\"}}}",
"PUT /_mock/interactions/0
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"base64_string\": \"=AAA\"}}}",
"POST /_mock/interactions
{\"request\": {\"method\": \"G T\", \"uri\": \"http://svc/n\", \"body\": null, \"headers\": {}}, \"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"x\"}}}",
"PUT /_mock/interactions/0
{\"response\": {\"status\": {\"code\": 204, \"message\": \"No Content\"}, \"headers\": {}, \"body\": {\"string\": \"x\"}}}",
"GET /file"]
--- more_headers
Content-Type: application/json
--- error_code eval
[422, 422, 422, 422, 422, 422, 200]
--- response_body_like eval
[qr{^\{"error": "the body: [^\n]*\}\n$},
qr{^\{"error": "the body: status code \\"abc\\" is not a number},
qr{^\{"error": "the body: [^\n]*101},
qr{^\{"error": "the body: [^\n]*base64},
qr{^\{"error": "the body: [^\n]*token},
qr{^\{"error": "the body: the body of a 204 answer is dropped"\}\n$},
"^\Q$::CASSETTE\E\$"]



=== TEST 9: a body given as base64 is written as !!binary and replayed as bytes
--- request eval
["PUT /_mock/interactions/0
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"base64_string\": \"AP8BgA==\"}}}",
"GET /a", "GET /file"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_body_like eval
["\"interaction\": 0", "^\x00\xff\x01\x80\$", qr{string: !!binary "AP8BgA=="}]



=== TEST 10: a directory store needs the cassette's name, and takes it as listed or as a file name
--- user_files
>>> d/a.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
>>> d/b.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'two'}}
--- config
    location / {
        mock_replay html/d;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["DELETE /_mock/interactions/0", "DELETE /_mock/interactions/0?cassette=../c.yaml",
"DELETE /_mock/interactions/0?cassette=b.yaml", "GET /b", "GET /a"]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 404, 200, 404, 200]
--- response_body_like eval
[qr{is a directory: name a cassette in it with}, qr{no cassette}, qr{"cassette": "[^"]*/d/b\.yaml", "interactions": 0}, "", "^one\$"]
--- no_error_log
[error]



=== TEST 11: an edit reloads the zone: sequences start anew, for every session
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'two'}}
--- request eval
["GET /a", "GET /a", "GET /a", "PUT /_mock/interactions/1
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"deux\"}}}",
"GET /a", "GET /a"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 404, 200, 200, 200]
--- response_body_like eval
["^one\$", "^two\$", "already played", "interaction", "^one\$", "^deux\$"]



=== TEST 12: a cassette being recorded into is edited between recordings, which go on after it
--- user_files
>>> r.yaml
--- config
    location /backend/ {
        return 200 "live $uri";
    }
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/r.yaml;
        mock_mode new_episodes;
    }
    location = /file {
        default_type text/plain;
        alias html/r.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /api/one", "GET /api/two", "PUT /_mock/interactions/0
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"edited\"}}}",
"DELETE /_mock/interactions/1", "GET /api/three", "GET /api/one", "GET /api/two", "GET /_mock/interactions", "GET /file"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
["^live /backend/one\$", "^live /backend/two\$", "\"interactions\": 2", "\"interactions\": 1",
"^live /backend/three\$", "^edited\$", "^live /backend/two\$",
qr{^(?=.*"interaction": 0, "method": "GET", "uri": "[^"]*/backend/one", "status": 200, "plays": 1\})(?=.*"interaction": 1, "method": "GET", "uri": "[^"]*/backend/three")(?=.*"interaction": 2, "method": "GET", "uri": "[^"]*/backend/two")(?!.*"interaction": 3)}s,
qr{\A# recorded by nginx[^\n]*\nversion: 1\ninteractions:\n- request:\n(?:(?!- request:).)*string: "edited"(?:(?!- request:).)*- request:\n(?:(?!- request:).)*live /backend/three(?:(?!- request:).)*- request:\n(?:(?!- request:).)*live /backend/two(?:(?!- request:).)*\z}s]
--- no_error_log
[error]



=== TEST 13: a zone too small for the edited cassettes gets 507, and nothing changes
--- http_config
    mock_zone zone=small:64k;
    mock_journal 0;
--- user_files eval
">>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: '" . ("x" x 12000) . "'}}
"
--- request eval
["POST /_mock/interactions
{\"request\": {\"method\": \"GET\", \"uri\": \"http://svc/b\", \"body\": null, \"headers\": {}}, \"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"" . ("y" x 30000) . "\"}}}",
"GET /b", "GET /a", "GET /file", "GET /tmp"]
--- more_headers
Content-Type: application/json
--- error_code eval
[507, 404, 200, 200, 404]
--- response_body_like eval
[qr{^\{"error": "the zone is too small: the cassettes need \d+ bytes, in pieces of up to \d+, and \d+ are free, in pieces of up to \d+; nothing is changed"\}\n$},
"", "^x{12000}\$", "^version: 1\ninteractions:\n- request: \\{method: GET, uri: 'http://svc/a'", ""]



=== TEST 14: in a session directory, the session names the cassette edited
--- user_files
>>> d/s1.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one of s1'}}
>>> d/s2.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one of s2'}}
--- config
    location / {
        mock_replay html/d/;
        mock_session $http_x_test_id;
        mock_repeats on;
    }
    location = /file {
        default_type text/plain;
        alias html/d/s1.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["PUT /_mock/interactions/0?session=s1
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"edited\"}}}",
"PUT /_mock/interactions/0?session=s3
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"edited\"}}}",
"GET /a", "GET /a", "GET /file"]
--- more_headers eval
["Content-Type: application/json", "Content-Type: application/json", "X-Test-Id: s1", "X-Test-Id: s2", ""]
--- error_code eval
[200, 404, 200, 200, 200]
--- response_body_like eval
[qr{^\{"cassette": "[^"]*/d/s1\.yaml", "interaction": 0, "interactions": 1\}\n$},
qr{^\{"error": "session \\"s3\\" has no cassette in \\"[^"]*/d\\""\}\n$},
"^edited\$", "^one of s2\$", qr{string: "edited"}]
--- no_error_log
[error]



=== TEST 15: a session that records gets its edits between its recordings
--- user_files
>>> d/.keep
--- config
    location /backend/ {
        return 200 "live $uri";
    }
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/d/;
        mock_session $http_x_test_id;
        mock_mode new_episodes;
        mock_repeats on;
    }
    location = /file {
        default_type text/plain;
        alias html/d/s1.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /api/one", "GET /api/two", "PUT /_mock/interactions/0?session=s1
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"edited\"}}}",
"GET /api/three", "GET /api/one", "GET /api/three", "POST /_mock/prune?session=s1", "GET /file",
"POST /_mock/interactions?session=s9
{\"request\": {\"method\": \"GET\", \"uri\": \"http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/backend/new\", \"body\": null, \"headers\": {}}, \"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"set by hand\"}}}",
"GET /api/new", "GET /api/new"]
--- more_headers eval
["X-Test-Id: s1", "X-Test-Id: s1", "Content-Type: application/json", "X-Test-Id: s1", "X-Test-Id: s1", "X-Test-Id: s1", "Content-Type: application/json", "",
"Content-Type: application/json", "X-Test-Id: s9", "X-Test-Id: s1"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 201, 200, 200]
--- response_body_like eval
["^live /backend/one\$", "^live /backend/two\$", "\"interactions\": 2", "^live /backend/three\$", "^edited\$", "^live /backend/three\$",
qr{"pruned": 1, "interactions": 2},
qr{\A# recorded by nginx[^\n]*\nversion: 1\ninteractions:\n- request:\n(?:(?!- request:).)*string: "edited"(?:(?!- request:).)*- request:\n(?:(?!- request:).)*live /backend/three(?:(?!- request:).)*\z}s,
qr{"cassette": "[^"]*/d/s9\.yaml", "interaction": 0, "interactions": 1}, "^set by hand\$", "^live /backend/new\$"]
--- no_error_log
[error]



=== TEST 16: an edit keeps the x_mock keys of the other interactions, latency and stale too
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'two'}}
  x_mock: {latency: 'lognormal median=40ms sigma=0.5 seed=3', recorded: '2030-05-06T07:08:09Z', stale: true}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'three'}}
  x_mock: {latency: '10ms..20ms'}
--- request eval
["PUT /_mock/interactions/0
{\"response\": {\"status\": {\"code\": 200, \"message\": \"OK\"}, \"headers\": {}, \"body\": {\"string\": \"edited\"}}}",
"GET /file", "POST /_mock/reload", "GET /file"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
["\"interactions\": 3",
qr{uri: "http://svc/b"\n(?:(?!- request:).)*x_mock:\n    recorded: '2030-05-06T07:08:09Z'\n    stale: true\n    latency: 'lognormal median=40ms sigma=0\.500 seed=3'\n(?:(?!- request:).)*- request:\n(?:(?!- request:).)*uri: "http://svc/c"\n(?:(?!- request:).)*x_mock:\n    recorded: '[^']+'\n    latency: '10ms\.\.20ms'\n}s,
"\"interactions\": 3", qr{latency: 'lognormal median=40ms sigma=0\.500 seed=3'}]
--- no_error_log
[error]
