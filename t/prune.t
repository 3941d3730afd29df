# POST /_mock/prune rewrites a cassette without the interactions that a
# session never played (vcrpy's drop_unused_requests), as /_mock/unused
# lists them, and keeps the file it replaces as <cassette>.bak.

use Test::Nginx::Socket 'no_plan';

our $CASSETTE = <<'YAML';
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'two'}}
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'three'}}
YAML

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("user_files", ">>> c.yaml\n$CASSETTE")
        unless defined $block->user_files;
    $block->set_value("config", <<'CONF') unless defined $block->config;
    location / {
        mock_replay html/c.yaml;
        mock_session $http_x_test_id;
    }
    location = /file {
        default_type text/plain;
        alias html/c.yaml;
    }
    location = /bak {
        default_type text/plain;
        alias html/c.yaml.bak;
    }
    location /_mock {
        mock_admin;
    }
CONF
});

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: what a session never played is pruned; the old file is kept as .bak
--- request eval
["GET /a", "GET /_mock/unused?session=s1", "POST /_mock/prune?session=s1", "GET /file", "GET /bak", "GET /a", "GET /b"]
--- more_headers
Content-Type: application/json
X-Test-Id: s1
--- error_code eval
[200, 200, 200, 200, 200, 200, 404]
--- response_body_like eval
["^one\$",
qr{"unused": \[\n\{[^\n]*"interaction": 1, [^\n]*"uri": "http://svc/b"[^\n]*\},\n\{[^\n]*"interaction": 2, [^\n]*\}\n\]},
qr{^\{"cassette": "[^"]*/html/c\.yaml", "pruned": 2, "interactions": 1, "backup": "[^"]*/html/c\.yaml\.bak"\}\n$},
qr{\A# recorded by nginx[^\n]*\nversion: 1\ninteractions:\n- request:\n(?:(?!- request:).)*uri: "http://svc/a"(?:(?!- request:).)*string: "one"(?:(?!- request:).)*\z}s,
"^\Q$::CASSETTE\E\$", "^one\$", ""]
--- no_error_log
[error]



=== TEST 2: parameters may come in a JSON body; another session's plays do not count
--- request eval
["GET /a", "GET /b", "POST /_mock/prune
{\"session\": \"s2\"}", "GET /file"]
--- more_headers eval
["X-Test-Id: s1", "X-Test-Id: s1", "Content-Type: application/json", ""]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
["^one\$", "^two\$", qr{"pruned": 3, "interactions": 0}, "^version: 1\ninteractions: \\[\\]\n\$"]



=== TEST 3: without a session, the plays of requests without one; plays start anew after a prune
--- config
    location / {
        mock_replay html/c.yaml;
    }
    location = /file {
        default_type text/plain;
        alias html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /a", "GET /b", "POST /_mock/prune", "GET /a", "GET /b", "POST /_mock/prune", "GET /file"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
["^one\$", "^two\$", qr{"pruned": 1, "interactions": 2}, "^one\$", "^two\$", qr{"pruned": 0, "interactions": 2},
qr{string: "one".*string: "two"}s]



=== TEST 4: prune takes POST only, and a known store
--- request eval
["GET /_mock/prune", "DELETE /_mock/prune", "POST /_mock/prune?store=9", "GET /file"]
--- more_headers
Content-Type: application/json
--- error_code eval
[405, 405, 404, 200]
--- response_body_like eval
["prune takes POST", "prune takes POST", "no cassette store \\\\\"9\\\\\"", "^\Q$::CASSETTE\E\$"]
