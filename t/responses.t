# What a replayed response carries: recorded headers (all values, in
# order, framing and hop-by-hop ones replaced), exact body bytes.

use Test::Nginx::Socket 'no_plan';
use MIME::Base64 ();
repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: framing and hop-by-hop headers are not replayed verbatim
--- user_files
>>> h.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/h', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      Transfer-Encoding: [chunked]
      Connection: [upgrade]
      Keep-Alive: [timeout=5]
      Content-Length: ['999']
      Upgrade: [h2c]
      X-Kept: ['yes']
    body: {string: 'five!'}
--- config
    location / {
        mock_replay html/h.yaml;
        mock_repeats on;
    }
--- request
GET /h
--- response_headers
Content-Length: 5
!Transfer-Encoding
!Keep-Alive
!Upgrade
X-Kept: yes
--- raw_response_headers_unlike: Connection: upgrade
--- response_body chomp
five!
--- no_error_log
[error]



=== TEST 2: repeated headers keep their order; names keep their case
--- user_files
>>> h.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/h', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      x-first: ['1']
      Link: ['<a>; rel=a', '<b>; rel=b', '<c>; rel=c']
      X-Last: ['2']
    body: {string: ''}
--- config
    location / {
        mock_replay html/h.yaml;
        mock_repeats on;
    }
--- request
GET /h
--- raw_response_headers_like
x-first: 1\r
Link: <a>; rel=a\r
Link: <b>; rel=b\r
Link: <c>; rel=c\r
X-Last: 2\r
--- response_headers
Content-Length: 0
--- response_body
--- no_error_log
[error]



=== TEST 3: "body: {}" and a missing body are empty responses
--- user_files
>>> e.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {}
- request: {method: GET, uri: 'http://svc/b', body: null, headers: {}}
  response:
    status: {code: 202, message: Accepted}
    headers: {}
--- config
    location / {
        mock_replay html/e.yaml;
        mock_repeats on;
    }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[200, 202]
--- response_headers eval
["Content-Length: 0", "Content-Length: 0"]
--- response_body eval
["", ""]
--- no_error_log
[error]



=== TEST 4: a large binary body, folded base64 over many lines
--- user_files eval
my $bytes = CORE::join "", map { chr($_ % 256) } 0 .. 99999;
my $b64 = MIME::Base64::encode_base64($bytes);
$b64 =~ s/^/        /mg;
[["big.yaml" => "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/big', body: null, headers: {}}\n"
  . "  response:\n    status: {code: 200, message: OK}\n    headers:\n      Content-Type: [application/octet-stream]\n"
  . "    body:\n      string: !!binary |\n$b64"]]
--- config
    location / {
        mock_replay html/big.yaml;
        mock_repeats on;
    }
--- request
GET /big
--- response_headers
Content-Length: 100000
--- response_body eval
CORE::join "", map { chr($_ % 256) } 0 .. 99999
--- no_error_log
[error]



=== TEST 5: YAML anchors and aliases are followed
--- user_files
>>> a.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/one', body: null, headers: &h {Accept: ['*/*']}}
  response:
    status: {code: 200, message: OK}
    headers: &json {Content-Type: [application/json]}
    body: {string: '1'}
- request: {method: GET, uri: 'http://svc/two', body: null, headers: *h}
  response:
    status: {code: 200, message: OK}
    headers: *json
    body: {string: '2'}
--- config
    location / {
        mock_replay html/a.yaml;
        mock_repeats on;
    }
--- request
GET /two
--- response_headers
Content-Type: application/json
--- response_body chomp
2
--- no_error_log
[error]
