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
--- response_body eval
[qq{{"cassette": "$ENV{TEST_NGINX_SERVROOT}/html/c.yaml", "interaction": 1, "interactions": 2}\n}, "deux", "one", qr/.*/]
--- no_error_log
[error]
