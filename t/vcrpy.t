# A cassette written by vcrpy itself (t/fixtures/vcrpy-sample.yaml, made by
# scripts/vcrpy-fixture.py with Debian's python3-vcr) loads and replays.
# It holds a sequence, so each block runs once.

use Test::Nginx::Socket 'no_plan';
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use MIME::Base64 ();

$ENV{TEST_NGINX_FIXTURES} ||= abs_path(dirname(__FILE__)) . '/fixtures';

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: vcrpy cassette: JSON body, repeated Set-Cookie, headers kept
--- config
    location / {
        mock_replay $TEST_NGINX_FIXTURES/vcrpy-sample.yaml;
        mock_repeats on;
    }
--- request
GET /v1/users?sort=name&id=7
--- response_body chomp
{"id": 7, "name": "Ada"}
--- raw_response_headers_like
^HTTP/1\.1 200 OK\r
.*Content-Length: 24\r
.*Date: Sat, 21 Nov 2026 06:14:29 GMT\r
Server: BaseHTTP/0\.6 Python/3\.11\.2\r
Set-Cookie: a=1; Path=/\r
Set-Cookie: b=2; Path=/\r
X-Trace: t-1\r
--- no_error_log
[error]



=== TEST 2: vcrpy cassette: a gzip !!binary body is sent byte for byte
--- http_config
    gzip on;
    gzip_types application/json;
    gzip_min_length 1;
--- config
    location / {
        mock_replay $TEST_NGINX_FIXTURES/vcrpy-sample.yaml;
        mock_repeats on;
    }
--- more_headers
Accept-Encoding: gzip
--- request
GET /v1/report
--- response_headers
Content-Encoding: gzip
Content-Length: 37
Content-Type: application/json
--- response_body eval
MIME::Base64::decode_base64("H4sIAAAAAAACA6tWKkotyC8qUbJSUKoYJkCpFgCGHgAN1gAAAA==")
--- no_error_log
[error]



=== TEST 3: vcrpy cassette: the recorded sequence, a 404 and empty bodies
--- config
    location / {
        mock_replay $TEST_NGINX_FIXTURES/vcrpy-sample.yaml;
    }
--- request eval
["GET /v1/counter", "GET /v1/counter", "GET /v1/missing", "DELETE /v1/users/7",
 "POST /v1/users"]
--- response_body eval
['{"n": 1}', '{"n": 2}', '{"error": "not found"}', "",
 '{"created": {"name": "Ada", "tags": ["a", "b"]}}']
--- error_code eval
[200, 200, 404, 204, 201]
--- no_error_log
[error]
