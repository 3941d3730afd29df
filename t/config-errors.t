# A bad cassette or directive stops nginx from starting (and "nginx -t"
# from passing) with the file, line, column and what is wrong.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: YAML syntax error
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET
  response: x
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 4, column 11: did not find expected ',' or '\}' while parsing a flow mapping}



=== TEST 2: an interaction without a response
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 3: an interaction has no "response"}



=== TEST 3: a status code of the wrong type
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response: {status: {code: abc}}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 4, column 29: status code "abc" is not a number between 200 and 999}



=== TEST 4: bad base64 in a !!binary body
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    body:
      string: !!binary "@@@@"
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 15: the response body is not valid base64}



=== TEST 5: an unreadable cassette
--- config
    location / {
        mock_replay html/nowhere.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/nowhere\.yaml" cannot be read in \S+nginx\.conf:\d+ \(2: No such file or directory\)}



=== TEST 6: an unsupported cassette version
--- user_files
>>> bad.yaml
version: 2
interactions: []
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 1, column 10: unsupported cassette version "2", expected 1}



=== TEST 7: a missing "version" key
--- user_files
>>> bad.yaml
interactions: []
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 1, column 1: missing key "version"}



=== TEST 8: a request URI that is not a URL
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "/relative"}
  response: {status: {code: 200}}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 31: invalid "uri" "/relative": no scheme}



=== TEST 9: a header value that is not a scalar
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/"}
  response:
    status: {code: 200}
    headers:
      X-List: [[1, 2]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 16: a header value must be a scalar}



=== TEST 10: bytes that are not UTF-8
--- user_files eval
[["bad.yaml" => "version: 1\ninteractions: []\n\xff\xfe\n"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 1: invalid leading UTF-8 octet \(0xff\)}



=== TEST 11: a zone too small for the cassettes
--- user_files eval
[["big.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://a/'}\n"
  . "  response: {status: {code: 200}, body: {string: '" . ("x" x 70000) . "'}}\n"]]
--- http_config
    mock_zone zone=small:32k;
--- config
    location / {
        mock_replay html/big.yaml;
    }
--- must_die
--- error_log eval
qr{mock: zone "small" of 32768 bytes is too small for the cassettes in "\S+/html/big\.yaml", which need \d+ bytes}



=== TEST 12: an unknown matcher
--- user_files
>>> ok.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/ok.yaml;
        mock_match method colour;
    }
--- must_die
--- error_log eval
qr{unknown matcher "colour", expected method, scheme, host, port, path, query, body or headers=Name,\.\.\. in \S+nginx\.conf:\d+}



=== TEST 13: mock_miss outside 200..599
--- user_files
>>> ok.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/ok.yaml;
        mock_miss 99;
    }
--- must_die
--- error_log eval
qr{"mock_miss" directive must be between 200 and 599 in \S+nginx\.conf:\d+}



=== TEST 14: mock_upstream with a URI part in a regex location
--- user_files
>>> ok.yaml
version: 1
interactions: []
--- config
    location ~ ^/api/ {
        mock_replay html/ok.yaml;
        mock_upstream http://svc/v1/;
    }
--- must_die
--- error_log eval
qr{"mock_upstream" cannot have URI part in location given by regular expression}



=== TEST 15: mock_upstream that is not a URL
--- config
    location /api/ {
        mock_upstream svc/v1/;
    }
--- must_die
--- error_log eval
qr{invalid URL "svc/v1/": no scheme in \S+nginx\.conf:\d+}



=== TEST 16: a malformed mock_zone
--- http_config
    mock_zone mock;
--- config
--- must_die
--- error_log eval
qr{invalid parameter "mock", expected "zone=name:size" in \S+nginx\.conf:\d+}



=== TEST 17: mock_replay twice in one location
--- user_files
>>> ok.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/ok.yaml;
        mock_replay html/ok.yaml;
    }
--- must_die
--- error_log eval
qr{"mock_replay" directive is duplicate in \S+nginx\.conf:\d+}



=== TEST 18: a second YAML document
--- user_files
>>> bad.yaml
version: 1
interactions: []
---
version: 1
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 1: a cassette holds one YAML document}



=== TEST 19: an alias to an unknown anchor
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://a/", headers: *nope}
  response: {status: {code: 200}}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 53: unknown alias "\*nope"}
