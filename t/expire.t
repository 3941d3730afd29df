# mock_record_expire: in new_episodes and fallback, an interaction older
# than the directive says (its x_mock.recorded, or the file's time for
# cassettes without one) is proxied and recorded again at its next use,
# in its place in the file and in the zone.  The admin API marks one
# stale, which does the same at once.  The clock is the recorded times
# in the cassettes: 2020 is long ago, 2099 is to come.

use Test::Nginx::Socket 'no_plan';

our $CASSETTE = <<'YAML';
version: 1
interactions:
- request: {method: GET, uri: 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/old', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'cached old'}}
  x_mock: {recorded: '2020-01-01T00:00:00Z'}
- request: {method: GET, uri: 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/new', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'cached new'}}
  x_mock: {recorded: '2099-01-01T00:00:00Z'}
YAML

our $CONFIG = <<'CONF';
    location /backend/ {
        return 200 "live $uri";
    }
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_mode new_episodes;
        mock_repeats on;
        mock_record_expire 7d;
    }
    location = /file {
        default_type text/plain;
        alias html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
CONF

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("user_files", ">>> c.yaml\n$CASSETTE")
        unless defined $block->user_files;
    $block->set_value("config", $CONFIG) unless defined $block->config;
});

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: an expired interaction is proxied and recorded again in its place; a fresh one is replayed
--- request eval
["GET /api/old", "GET /api/old", "GET /api/new", "GET /_mock/cassettes", "GET /file"]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_headers_like eval
["X-Mock: new_episodes", "X-Mock: new_episodes; hit", "X-Mock: new_episodes; hit", "", ""]
--- response_body_like eval
["^live /backend/old\$", "^live /backend/old\$", "^cached new\$", qr{"interactions": 2, "loaded": 2},
qr{\Aversion: 1\ninteractions:\n- request:\n(?:(?!- request:).)*/backend/old"\n(?:(?!- request:).)*string: "live /backend/old"\n(?:(?!- request:).)*recorded: '20(?!20-)\d\d-(?:(?!- request:).)*- request: \{method: GET, uri: '[^']*/backend/new'(?:(?!- request:).)*string: 'cached new'(?:(?!- request:).)*recorded: '2099-01-01T00:00:00Z'(?:(?!- request:).)*\z}s]
--- no_error_log
[error]



=== TEST 2: without a recorded time, the file's time counts
--- user_files
>>> c.yaml 202001010000.00
interactions:
- request: {method: GET, uri: 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/old', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'cached old'}}
version: 1
--- request eval
["GET /api/old", "GET /api/old"]
--- response_headers_like eval
["X-Mock: new_episodes", "X-Mock: new_episodes; hit"]
--- response_body eval
["live /backend/old", "live /backend/old"]
--- no_error_log
[error]



=== TEST 3: a file of today is not expired
--- user_files
>>> c.yaml
interactions:
- request: {method: GET, uri: 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/old', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'cached old'}}
version: 1
--- request
GET /api/old
--- response_headers
X-Mock: new_episodes; hit
--- response_body: cached old



=== TEST 4: without mock_record_expire, nothing expires
--- config
    location /backend/ {
        return 200 "live $uri";
    }
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_mode new_episodes;
    }
--- request
GET /api/old
--- response_headers
X-Mock: new_episodes; hit
--- response_body: cached old



=== TEST 5: the admin API marks an interaction stale: in the file at once, recorded again at its next use
--- request eval
["POST /_mock/interactions/1/stale", "GET /file", "GET /api/new", "GET /api/new", "GET /file", "GET /_mock/interactions/1/stale"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200, 200, 405]
--- response_headers_like eval
["", "", "X-Mock: new_episodes", "X-Mock: new_episodes; hit", "", ""]
--- response_body_like eval
[qr{^\{"cassette": "[^"]*/html/c\.yaml", "interaction": 1, "interactions": 2\}\n$},
qr{/backend/new"\n(?:(?!- request:).)*x_mock:\n    recorded: '2099-01-01T00:00:00Z'\n    stale: true\n}s,
"^live /backend/new\$", "^live /backend/new\$",
qr{\A(?!.*stale).*/backend/new"\n(?:(?!- request:).)*string: "live /backend/new"}s,
"takes POST"]
--- no_error_log
[error]



=== TEST 6: in fallback, an expired answer that did not change is written again, with its new time
--- config
    location /backend/ {
        return 200 "cached $uri";
    }
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/c.yaml;
        mock_mode fallback;
        mock_record_expire 7d;
    }
    location = /file {
        default_type text/plain;
        alias html/c.yaml;
    }
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/old', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {Content-Type: [text/plain], Content-Length: ['19']}, body: {string: 'cached /backend/old'}}
  x_mock: {recorded: '2020-01-01T00:00:00Z'}
--- request eval
["GET /api/old", "GET /file"]
--- response_body_like eval
["^cached /backend/old\$", qr{\A(?!.*2020-01-01).*string: "cached /backend/old"}s]
--- no_error_log
[error]



=== TEST 7: a time that is not one is refused
--- config
    location /api/ {
        mock_record_expire soon;
    }
--- must_die
--- error_log
"mock_record_expire" directive invalid value
