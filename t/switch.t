# Switching mock mode per request: signed, expiring tokens, refused with
# 403 and a one-line reason otherwise; visible in variables, a response
# header and the metrics.

use Test::Nginx::Socket 'no_plan';
use Digest::SHA qw(hmac_sha256_hex);

our $Secret = 'test-secret-0123456789abcdef';
our $Other = 'rotated-secret-0123456789abcdef';

# the token scripts/mock-token prints
sub main::token {
    my ($mode, $session, $ttl, $secret) = @_;
    my $expiry = time() + ($ttl // 300);
    return "$expiry." . hmac_sha256_hex("$mode\n" . ($session // '')
                                        . "\n$expiry", $secret // $Secret);
}

$ENV{TEST_NGINX_SERVER_PORT} ||= server_port();

# scripts/mock-token, as a CI job runs it
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempfile);

my ($fh, $secret_file) = tempfile(UNLINK => 1);
print $fh "$Secret\n";
close $fh;

# a secret file that ends in two newlines: its key keeps the first
my ($fh2, $two_newlines) = tempfile(UNLINK => 1);
print $fh2 "$Secret\n\n";
close $fh2;

our %SecretFile = (one => $secret_file, two => $two_newlines);

our $Script = abs_path(dirname(__FILE__) . '/../scripts/mock-token');

sub main::script_token {
    my ($mode, $session, $file) = @_;
    $file = $SecretFile{$file // 'one'};
    my $token = qx{$Script --secret $file --mode $mode --session $session --ttl 60};
    chomp $token;
    return $token;
}

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a signed request switches a real location to replay
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => <<'YAML']]
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/api/x', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'mocked'}}
YAML
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/real/;
        mock_replay html/c.yaml;
        mock_mode off;
        mock_request_mode on;
        mock_token_secret html/secret;
        add_header X-Vars "$mock_mode/$mock_session" always;
    }
    location /real/ {
        return 200 "real\n";
    }
--- request eval
["GET /api/x", "GET /api/x"]
--- more_headers eval
["X-Mock-Mode: replay\r\nX-Mock-Session: s1\r\nX-Mock-Token: " . main::token("replay", "s1") . "\r\n", ""]
--- response_body eval
["mocked", "real\n"]
--- response_headers eval
["X-Mock: replay; hit\nX-Vars: replay/s1", "X-Mock: off\nX-Vars: off/"]
--- no_error_log
[error]



=== TEST 2: no token
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => "version: 1\ninteractions: []\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- request
GET /api/x
--- more_headers
X-Mock-Mode: record
--- error_code: 403
--- response_headers
X-Mock: replay; refused
--- error_log
mock: request for mode "record" refused: no X-Mock-Token



=== TEST 3: a malformed token
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => "version: 1\ninteractions: []\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- request
GET /api/x
--- more_headers
X-Mock-Mode: record
X-Mock-Token: 12345.nothex
--- error_code: 403
--- error_log
mock: request for mode "record" refused: malformed token



=== TEST 4: a tampered token; the token never reaches the log
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => "version: 1\ninteractions: []\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- request
GET /api/x
--- more_headers eval
my $t = main::token("record", "");
$t =~ s/.$/($& eq "0") ? "1" : "0"/e;
$main::Tampered = $t;
"X-Mock-Mode: record\r\nX-Mock-Token: $t\r\n"
--- log_level: warn
--- error_code: 403
--- error_log
refused: the token's signature does not match
--- no_error_log eval
[$main::Tampered, $main::Secret]



=== TEST 5: an expired token
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => "version: 1\ninteractions: []\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- request
GET /api/x
--- more_headers eval
"X-Mock-Mode: record\r\nX-Mock-Token: " . main::token("record", "", -10) . "\r\n"
--- error_code: 403
--- error_log
refused: the token has expired



=== TEST 6: a token made with another secret
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => "version: 1\ninteractions: []\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- request
GET /api/x
--- more_headers eval
"X-Mock-Mode: record\r\nX-Mock-Token: " . main::token("record", "", 300, "some-other-secret-value") . "\r\n"
--- error_code: 403
--- error_log
refused: the token's signature does not match



=== TEST 7: a token for one session does not serve another
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => "version: 1\ninteractions: []\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- request
GET /api/x
--- more_headers eval
"X-Mock-Mode: replay\r\nX-Mock-Session: bob\r\nX-Mock-Token: " . main::token("replay", "alice") . "\r\n"
--- error_code: 403
--- error_log
refused: the token's signature does not match



=== TEST 8: a token for one mode does not serve another
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => "version: 1\ninteractions: []\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- request
GET /api/x
--- more_headers eval
"X-Mock-Mode: record\r\nX-Mock-Token: " . main::token("replay", "") . "\r\n"
--- error_code: 403
--- error_log
refused: the token's signature does not match



=== TEST 9: an unknown mode
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => "version: 1\ninteractions: []\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- request
GET /api/x
--- more_headers eval
"X-Mock-Mode: chaos\r\nX-Mock-Token: " . main::token("chaos", "") . "\r\n"
--- error_code: 403
--- error_log
mock: request for mode "chaos" refused: unknown mode



=== TEST 10: several secrets: tokens of each are good, for rotation
--- user_files eval
[["old" => "$main::Secret\n"], ["new" => "$main::Other\n"],
 ["c.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/api/x'}\n  response: {status: {code: 200}, body: {string: 'mocked'}}\n"]]
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/real/;
        mock_replay html/c.yaml;
        mock_mode off;
        mock_repeats on;
        mock_request_mode on;
        mock_token_secret html/old;
        mock_token_secret html/new;
    }
    location /real/ {
        return 200 "real\n";
    }
--- request eval
["GET /api/x", "GET /api/x"]
--- more_headers eval
["X-Mock-Mode: replay\r\nX-Mock-Token: " . main::token("replay", "", 300, $main::Secret) . "\r\n",
 "X-Mock-Mode: replay\r\nX-Mock-Token: " . main::token("replay", "", 300, $main::Other) . "\r\n"]
--- response_body eval
["mocked", "mocked"]
--- no_error_log
[warn]



=== TEST 11: a location that does not opt in ignores the headers
--- user_files eval
[["c.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/api/x'}\n  response: {status: {code: 200}, body: {string: 'mocked'}}\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_repeats on;
    }
--- request
GET /api/x
--- more_headers
X-Mock-Mode: off
X-Mock-Token: 1.00
--- response_body chomp
mocked
--- response_headers
X-Mock: replay; hit
--- no_error_log
[warn]



=== TEST 12: where the operator forbids switching, no location may allow it
--- user_files eval
[["secret" => "$main::Secret\n"], ["c.yaml" => "version: 1\ninteractions: []\n"]]
--- config
    mock_request_mode forbid;

    location /api/ {
        mock_replay html/c.yaml;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- must_die
--- error_log eval
qr{"mock_request_mode on" where an enclosing block has "mock_request_mode forbid" in \S+nginx\.conf:\d+}



=== TEST 13: switching needs a secret
--- user_files eval
[["c.yaml" => "version: 1\ninteractions: []\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_request_mode on;
    }
--- must_die
--- error_log eval
qr{"mock_request_mode on" needs "mock_token_secret"}



=== TEST 14: a short secret is refused
--- user_files
>>> secret
short
--- config
    location /api/ {
        mock_token_secret html/secret;
    }
--- must_die
--- error_log eval
qr{mock: token secret "\S+/html/secret" is shorter than 16 bytes}



=== TEST 15: the response header can be renamed or turned off
--- user_files eval
[["c.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/a/x'}\n  response: {status: {code: 200}, body: {string: 'a'}}\n- request: {method: GET, uri: 'http://svc/b/x'}\n  response: {status: {code: 200}, body: {string: 'b'}}\n"]]
--- config
    location /a/ {
        mock_replay html/c.yaml;
        mock_repeats on;
        mock_header X-Gateway-Mock;
    }
    location /b/ {
        mock_replay html/c.yaml;
        mock_repeats on;
        mock_header off;
    }
--- request eval
["GET /a/x", "GET /b/x"]
--- response_headers eval
["X-Gateway-Mock: replay; hit\n!X-Mock", "!X-Mock\n!X-Gateway-Mock"]
--- no_error_log
[error]



=== TEST 16: metrics count per location and cassette, in JSON and Prometheus
--- user_files eval
[["secret" => "$main::Secret\n"],
 ["c.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/api/x'}\n  response: {status: {code: 200}, body: {string: 'x'}}\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_upstream http://svc/api/;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /api/x", "GET /api/x", "GET /api/nope", "GET /api/x",
 "GET /_mock/metrics", "GET /_mock/metrics?format=prometheus"]
--- more_headers eval
["", "", "", "X-Mock-Mode: record\r\n", "", ""]
--- error_code eval
[200, 404, 404, 403, 200, 200]
--- response_body_like eval
["^x\$", "already played", "no recorded", "^<html>",
 qr{^\{"locations": \[
\{"location": "/api/", "cassette": "\S+/html/c\.yaml", "hit": 1, "miss": 1, "exhausted": 1, "not_allowed": 0, "recorded": 0, "passthrough": 0, "fallback": 0, "refused": 1, "fault": 0, "upgrade": 0, "fault_fallback": 0, "verified": 0, "drift": 0, "unrecorded": 0\}
\]\}$},
 qr{^# HELP nginx_mock_requests_total Requests a mock location handled, by result\.
# TYPE nginx_mock_requests_total counter
nginx_mock_requests_total\{location="/api/",cassette="\S+/html/c\.yaml",result="hit"\} 1
nginx_mock_requests_total\{location="/api/",cassette="\S+/html/c\.yaml",result="miss"\} 1
nginx_mock_requests_total\{location="/api/",cassette="\S+/html/c\.yaml",result="exhausted"\} 1
(?:.*\n)*nginx_mock_requests_total\{location="/api/",cassette="\S+/html/c\.yaml",result="refused"\} 1
nginx_mock_requests_total\{location="/api/",cassette="\S+/html/c\.yaml",result="fault"\} 0
nginx_mock_requests_total\{location="/api/",cassette="\S+/html/c\.yaml",result="upgrade"\} 0
nginx_mock_requests_total\{location="/api/",cassette="\S+/html/c\.yaml",result="fault_fallback"\} 0
nginx_mock_requests_total\{location="/api/",cassette="\S+/html/c\.yaml",result="verified"\} 0
nginx_mock_requests_total\{location="/api/",cassette="\S+/html/c\.yaml",result="drift"\} 0
nginx_mock_requests_total\{location="/api/",cassette="\S+/html/c\.yaml",result="unrecorded"\} 0
$}]
--- response_headers eval
["", "", "", "", "Content-Type: application/json", "Content-Type: text/plain; version=0.0.4"]



=== TEST 17: with $mock_mode in the cache key, mocked and real answers never mix
--- http_config
    proxy_cache_path preview_cache levels=1 keys_zone=preview:1m;
--- user_files eval
[["secret" => "$main::Secret\n"],
 ["c.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/api/page'}\n  response: {status: {code: 200}, headers: {Cache-Control: [max-age=60]}, body: {string: 'mocked page'}}\n"]]
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/real/;
        proxy_cache preview;
        proxy_cache_key "$request_uri|$mock_mode|$mock_session";
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status always;

        mock_upstream http://svc/api/;
        mock_replay html/c.yaml;
        mock_mode off;
        mock_repeats on;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
    location /real/ {
        return 200 "real page\n";
    }
--- request eval
["GET /api/page", "GET /api/page", "GET /api/page", "GET /api/page", "GET /api/page"]
--- more_headers eval
["",
 "X-Mock-Mode: replay\r\nX-Mock-Session: t1\r\nX-Mock-Token: " . main::token("replay", "t1") . "\r\n",
 "",
 "X-Mock-Mode: record\r\nX-Mock-Session: t1\r\nX-Mock-Token: " . main::token("record", "t1") . "\r\n",
 ""]
--- response_body eval
["real page\n", "mocked page", "real page\n", "real page\n", "real page\n"]
--- response_headers eval
["X-Cache: MISS\nX-Mock: off", "X-Mock: replay; hit", "X-Cache: HIT\nX-Mock: off",
 "X-Cache: MISS", "X-Cache: HIT\nX-Mock: off"]



=== TEST 18: scripts/mock-token makes tokens nginx accepts
--- user_files eval
[["secret" => "$main::Secret\n"],
 ["c.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/api/x'}\n  response: {status: {code: 200}, body: {string: 'mocked'}}\n"]]
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/real/;
        mock_replay html/c.yaml;
        mock_mode off;
        mock_repeats on;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
    location /real/ {
        return 200 "real\n";
    }
--- request
GET /api/x
--- more_headers eval
"X-Mock-Mode: replay\r\nX-Mock-Session: ci-7\r\nX-Mock-Token: " . main::script_token("replay", "ci-7") . "\r\n"
--- response_body chomp
mocked
--- response_headers
X-Mock: replay; hit
--- no_error_log
[warn]



=== TEST 19: a secret file's key is its content less one newline: "\n\n" keeps one
--- user_files eval
[["secret" => "$main::Secret\n\n"],
 ["c.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/api/x'}\n  response: {status: {code: 200}, body: {string: 'mocked'}}\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_repeats on;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- request eval
["GET /api/x", "GET /api/x"]
--- more_headers eval
["X-Mock-Mode: replay\r\nX-Mock-Token: " . main::token("replay", "", 300, "$main::Secret\n") . "\r\n",
 "X-Mock-Mode: replay\r\nX-Mock-Token: " . main::token("replay", "", 300, $main::Secret) . "\r\n"]
--- response_body_like eval
["^mocked\$", "403 Forbidden"]
--- error_code eval
[200, 403]



=== TEST 20: "\r\n" is one line end: "\r\n\r\n" keeps the first
--- user_files eval
[["secret" => "$main::Secret\r\n\r\n"],
 ["c.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/api/x'}\n  response: {status: {code: 200}, body: {string: 'mocked'}}\n"]]
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_repeats on;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
--- request eval
["GET /api/x", "GET /api/x"]
--- more_headers eval
["X-Mock-Mode: replay\r\nX-Mock-Token: " . main::token("replay", "", 300, "$main::Secret\r\n") . "\r\n",
 "X-Mock-Mode: replay\r\nX-Mock-Token: " . main::token("replay", "", 300, $main::Secret) . "\r\n"]
--- response_body_like eval
["^mocked\$", "403 Forbidden"]
--- error_code eval
[200, 403]



=== TEST 21: scripts/mock-token keys a "\n\n" secret file as nginx does
--- user_files eval
[["secret" => "$main::Secret\n\n"],
 ["c.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/api/x'}\n  response: {status: {code: 200}, body: {string: 'mocked'}}\n"]]
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/real/;
        mock_replay html/c.yaml;
        mock_mode off;
        mock_repeats on;
        mock_request_mode on;
        mock_token_secret html/secret;
    }
    location /real/ {
        return 200 "real\n";
    }
--- request
GET /api/x
--- more_headers eval
"X-Mock-Mode: replay\r\nX-Mock-Session: ci-8\r\nX-Mock-Token: " . main::script_token("replay", "ci-8", "two") . "\r\n"
--- response_body chomp
mocked
--- response_headers
X-Mock: replay; hit
--- no_error_log
[warn]
