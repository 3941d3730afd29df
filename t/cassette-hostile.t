# Cassettes that would make nginx send something else than the recorded
# answer, or take unbounded time and memory to load, stop nginx from
# starting (and "nginx -t" from passing) with the file, line and column;
# the admin reload refuses them with 422, and recordings that could not be
# sent as HTTP are not written.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a header name with CR LF, which would add a header line
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200, message: OK}
    headers:
      "X-A\r\nSet-Cookie: evil=1": [v]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 7: header name "X-A\\x0d\\x0aSet-Cookie: evil=1" is not an HTTP token: it has a line break \(CR\)}



=== TEST 2: a header name with a bare LF
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      "X-A\nX-B": [v]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 7: header name "X-A\\x0aX-B" is not an HTTP token: it has a line break \(LF\)}



=== TEST 3: a header name with a NUL byte
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      "X-A\0": [v]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 7: header name "X-A\\x00" is not an HTTP token: it has a NUL byte}



=== TEST 4: a !!binary header name that decodes to CR LF
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      !!binary WC1BDQpYOiB5: [v]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 7: header name "X-A\\x0d\\x0aX: y" is not an HTTP token: it has a line break \(CR\)}



=== TEST 5: a header name with a space
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      X A: [v]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 7: header name "X A" is not an HTTP token: it has a space}



=== TEST 6: a header name with a colon
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      "X-A:B": [v]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 7: header name "X-A:B" is not an HTTP token: it has a colon}



=== TEST 7: a header name with a trailing blank
--- user_files
>>> space.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      "X-A ": [v]
--- config
    location /space {
        mock_replay html/space.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/space\.yaml", line 7, column 7: header name "X-A " is not an HTTP token: it has a space}



=== TEST 8: the same with a tab
--- user_files
>>> tab.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      "X-A\t": [v]
--- config
    location /tab {
        mock_replay html/tab.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/tab\.yaml", line 7, column 7: header name "X-A\\x09" is not an HTTP token: it has a tab}



=== TEST 9: request header names are checked too
--- user_files
>>> bad.yaml
version: 1
interactions:
- request:
    method: GET
    uri: "http://a/"
    headers: {"Accept\r\nX-B": [v]}
  response:
    status: {code: 200}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 6, column 15: header name "Accept\\x0d\\x0aX-B" is not an HTTP token: it has a line break \(CR\)}



=== TEST 10: a method with CR LF, which a 405 would echo in its Allow header
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: "PUT\r\nSet-Cookie: evil=1", uri: "http://a/only-put"}
  response:
    status: {code: 200}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 21: "method" "PUT\\x0d\\x0aSet-Cookie: evil=1" is not an HTTP token: it has a line break \(CR\)}



=== TEST 11: a method with a space
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: "GET /x", uri: "http://a/"}
  response:
    status: {code: 200}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 21: "method" "GET /x" is not an HTTP token: it has a space}



=== TEST 12: a NUL byte in a header value
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      X-A: ["a\0b"]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 13: header "X-A" has a NUL byte in its value}



=== TEST 13: other control bytes in a header value
--- user_files
>>> bel.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      X-A: [ok, "a\x07b"]
--- config
    location / {
        mock_replay html/bel.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bel\.yaml", line 7, column 17: header "X-A" has the control byte 0x07 in its value}



=== TEST 14: DEL in a header value
--- user_files
>>> del.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      X-A: "a\x7fb"
--- config
    location / {
        mock_replay html/del.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/del\.yaml", line 7, column 12: header "X-A" has the control byte 0x7f in its value}



=== TEST 15: a NUL byte in the reason phrase
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200, message: "OK\0"}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 5, column 34: the status message has a NUL byte}



=== TEST 16: an escape byte in the reason phrase
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200, message: "O\eK"}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 5, column 34: the status message has the control byte 0x1b}



=== TEST 17: a tab inside a header value is sent as it is
--- user_files
>>> ok.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/t"}
  response:
    status: {code: 200, message: OK}
    headers:
      X-Tab: ["a\tb"]
    body: {string: tab}
--- config
    location / {
        mock_replay html/ok.yaml;
    }
--- request
GET /t
--- raw_response_headers_like
X-Tab: a\tb\r
--- response_body chomp
tab
--- no_error_log
[error]



=== TEST 18: base64 that starts with padding
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    body:
      string: !!binary "=AAA"
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 15: the response body is not valid base64}



=== TEST 19: base64 with padding in the middle
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: POST, uri: "http://a/", body: !!binary "AA=A"}
  response:
    status: {code: 200}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 51: the request body is not valid base64}



=== TEST 20: "interactions" twice, which vcrpy reads as the last one only
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/one"}
  response: {status: {code: 200}}
- request: {method: GET, uri: "http://a/two"}
  response: {status: {code: 200}}
interactions:
- request: {method: GET, uri: "http://a/three"}
  response: {status: {code: 200}}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 1: duplicate key "interactions", first at line 2, column 1}



=== TEST 21: "version" twice
--- user_files
>>> bad.yaml
version: 1
interactions: []
version: 1
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 1: duplicate key "version", first at line 1, column 1}



=== TEST 22: a repeated key in a request
--- user_files
>>> bad.yaml
version: 1
interactions:
- request:
    method: GET
    uri: "http://a/"
    method: DELETE
  response: {status: {code: 200}}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 6, column 5: duplicate key "method", first at line 4, column 5}



=== TEST 23: a repeated response header name
--- user_files
>>> headers.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      X-A: [one]
      X-B: [two]
      X-A: [three]
--- config
    location /headers {
        mock_replay html/headers.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/headers\.yaml", line 9, column 7: duplicate key "X-A", first at line 7, column 7}



=== TEST 24: a repeated status code
--- user_files
>>> code.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200, message: OK, code: 500}
--- config
    location /code {
        mock_replay html/code.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/code\.yaml", line 5, column 38: duplicate key "code", first at line 5, column 14}



=== TEST 25: a repeated key in an interaction
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response: {status: {code: 200}}
  response: {status: {code: 500}}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 5, column 3: duplicate key "response", first at line 4, column 3}



=== TEST 26: a NUL byte in the file is placed by line and column
--- user_files eval
[["bad.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://a/'}\n  response: {status: {code: 2\x0000}}\n"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 4, column 30: control characters are not allowed \(0x00\)}



=== TEST 27: a control byte after UTF-8 text, counted in characters
--- user_files eval
[["bad.yaml" => "version: 1\r\ninteractions: []\r\n# caf\xc3\xa9 \x01\r\n"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 8: control characters are not allowed \(0x01\)}



=== TEST 28: a truncated UTF-8 sequence
--- user_files eval
[["bad.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://a/\xc3'}\n"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 42: invalid trailing UTF-8 octet \(0x27\)}



=== TEST 29: an anchored interaction repeated through aliases (each a MiB)
--- user_files eval
my $kib = "x" x 1024;
[["bomb.yaml" => "version: 1\ninteractions:\n- &i\n"
  . "  request: {method: GET, uri: 'http://a/'}\n"
  . "  response:\n    status: {code: 200}\n    headers:\n"
  . "      X-S: [&s '$kib'" . (", *s" x 299) . "]\n"
  . ("- *i\n" x 300)]]
--- config
    location / {
        mock_replay html/bomb.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bomb\.yaml", line 11, column 3: aliases expand to more than 1048576 bytes, the limit for this cassette \(8 times its size, at least 1 MiB\)}



=== TEST 30: nested aliases, ten of ten of ten... of a short string
--- user_files eval
my $yaml = "version: 1\ninteractions: []\nlaughs:\n  l0: &l0 lol\n";
for my $i (1 .. 9) {
    $yaml .= "  l$i: &l$i [" . CORE::join(", ", ("*l" . ($i - 1)) x 10) . "]\n";
}
[["bomb.yaml" => $yaml]]
--- config
    location / {
        mock_replay html/bomb.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bomb\.yaml", line \d+, column \d+: aliases expand to more than 1048576 bytes}



=== TEST 31: an alias inside the node it stands for
--- user_files
>>> bad.yaml
version: 1
interactions:
- &i {request: {method: GET, uri: "http://a/", headers: *i}, response: {status: {code: 200}}}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 57: alias "\*i" is inside the node it stands for}



=== TEST 32: a cassette that shares headers and a body through aliases loads
--- user_files eval
my $body = "y" x 100000;
[["ok.yaml" => "version: 1\ninteractions:\n"
  . "- request: {method: GET, uri: 'http://a/1', headers: &h {Accept: ['*/*']}}\n"
  . "  response:\n    status: {code: 200, message: OK}\n"
  . "    headers: &j {Content-Type: [text/plain], X-Shared: ['yes']}\n"
  . "    body: {string: &b '$body'}\n"
  . CORE::join("", map {
        "- request: {method: GET, uri: 'http://a/$_', headers: *h}\n"
        . "  response: {status: {code: 200, message: OK}, headers: *j, body: {string: *b}}\n"
    } 2 .. 9)]]
--- config
    location / {
        mock_replay html/ok.yaml;
    }
--- request
GET /9
--- response_headers
X-Shared: yes
Content-Length: 100000
--- response_body eval
"y" x 100000
--- no_error_log
[error]



=== TEST 33: nesting deeper than 64 levels
--- user_files eval
[["deep.yaml" => "version: 1\ninteractions: []\nx: " . ("[" x 65) . ("]" x 65) . "\n"]]
--- config
    location / {
        mock_replay html/deep.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/deep\.yaml", line 3, column 68: nesting is deeper than 64 levels}



=== TEST 34: the admin reload refuses such a cassette with 422
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/x"}
  response:
    status: {code: 200, message: OK}
    body: {string: before}
--- config
    location / {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
    location /upload/ {
        alias html/;
        dav_methods PUT;
    }
--- request eval
["PUT /upload/c.yaml
version: 1
interactions:
- request: {method: GET, uri: \"http://a/x\"}
  response:
    status: {code: 200, message: OK}
    headers:
      \"X-A\\r\\nSet-Cookie: evil=1\": [v]
    body: {string: after}",
"POST /_mock/reload",
"GET /x"]
--- more_headers eval
["",
 "Content-Type: application/json\r\n",
 ""]
--- error_code eval
[204, 422, 200]
--- response_body_like eval
["",
qr{^\{"error": "mock: cassette \\"\S+/html/c\.yaml\\", line 7, column 7: header name \\"X-A\\\\x0d\\\\x0aSet-Cookie: evil=1\\" is not an HTTP token: it has a line break \(CR\)"\}$},
"^before\$"]
--- no_error_log
[error]



=== TEST 35: an answer that cannot be sent as HTTP is not recorded
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
    }
    location /backend/ {
        add_header "X@Y" 1;
        return 200 "proxied";
    }
--- request
GET /api/x
--- response_body chomp
proxied
--- error_log
mock: "GET /api/x" is not recorded: a response header name is not an HTTP token
--- no_error_log
[error]
