# mock_ignore: query parameters, headers, JSON paths, form fields, parts
# and path segments that take no part in matching, and what miss reports
# say about them.

use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: ignored query parameters take no part in matching
--- user_files
>>> q.yaml
version: 1
interactions:
- request:
    method: GET
    uri: http://svc/items?page=2&_=1733000000&ts=1
    body: null
    headers: {}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'page two'}
--- config
    location / {
        mock_replay html/q.yaml;
        mock_ignore query _ ts;
        mock_repeats on;
    }
--- request eval
["GET /items?page=2&_=99", "GET /items?ts=5&page=2", "GET /items?page=2",
 "GET /items?page=3&_=1733000000&ts=1"]
--- response_body_like eval
["^page two\$", "^page two\$", "^page two\$",
 "ignored: query _, ts\n(?s:.*)differs in: query page\n"]
--- error_code eval
[200, 200, 200, 404]
--- no_error_log
[error]



=== TEST 2: JSON paths: members, indexes, [*], nested; a path naming nothing is not there
--- user_files
>>> j.yaml
version: 1
interactions:
- request:
    method: POST
    uri: http://svc/orders
    body: '{"meta": {"sent_at": "2026-01-01", "v": 1}, "items": [{"sku": "a", "nonce": "x1"}, {"sku": "b", "nonce": "x2"}], "idempotency_key": "k1", "list": [9, 8]}'
    headers:
      Content-Type: [application/json]
  response:
    status: {code: 201, message: Created}
    headers: {}
    body: {string: 'made'}
--- config
    location / {
        mock_replay html/j.yaml;
        mock_match method path body;
        mock_ignore body $.meta.sent_at $.items[*].nonce $.idempotency_key $.list[0] $.nothing.here;
        mock_repeats on;
    }
--- more_headers
Content-Type: application/json
--- request eval
["POST /orders\n{\"idempotency_key\":\"k2\",\"items\":[{\"nonce\":\"y\",\"sku\":\"a\"},{\"sku\":\"b\",\"nonce\":\"z\"}],\"meta\":{\"v\":1,\"sent_at\":\"now\"},\"list\":[1,8]}",
 "POST /orders\n{\"items\":[{\"sku\":\"a\"},{\"sku\":\"b\"}],\"meta\":{\"v\":1},\"list\":[8]}",
 "POST /orders\n{\"items\":[{\"sku\":\"a\"},{\"sku\":\"c\"}],\"meta\":{\"v\":2},\"list\":[0,8]}"]
--- response_body_like eval
["^made\$", "differs in: body \\\$\\.list\\[0\\]",
 "ignored: body \\\$\\.list\\[0\\]\n(?s:.*)differs in: body \\\$\\.items\\[1\\]\\.sku, \\\$\\.meta\\.v\n"]
--- error_code eval
[201, 404, 404]
--- no_error_log
[error]



=== TEST 3: form fields by name; the others still count
--- user_files
>>> f.yaml
version: 1
interactions:
- request:
    method: POST
    uri: http://svc/login
    body: user=ada&csrf=abc&nonce=1
    headers:
      Content-Type: [application/x-www-form-urlencoded]
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'welcome'}
--- config
    location / {
        mock_replay html/f.yaml;
        mock_match method path body;
        mock_ignore body csrf nonce $.user;
        mock_repeats on;
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /login\nnonce=77&user=ada&csrf=zzz", "POST /login\nuser=ada",
 "POST /login\nuser=bob&csrf=q"]
--- response_body_like eval
["^welcome\$", "^welcome\$", "ignored: body csrf\n(?s:.*)differs in: body user\n"]
--- error_code eval
[200, 200, 404]
--- no_error_log
[error]



=== TEST 4: an ignored header is no matcher; the others are, and misses name them
--- user_files
>>> h.yaml
version: 1
interactions:
- request:
    method: GET
    uri: http://svc/v
    body: null
    headers:
      Accept: [application/json]
      X-Request-Id: [r-1]
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'json'}
--- config
    location / {
        mock_replay html/h.yaml;
        mock_match method path headers=Accept,X-Request-Id;
        mock_ignore header X-Request-Id traceparent;
        mock_repeats on;
    }
--- request eval
["GET /v", "GET /v", "GET /v"]
--- more_headers eval
["Accept: application/json\r\nX-Request-Id: r-2\r\n",
 "Accept: application/json\r\n",
 "Accept: text/csv\r\nX-Request-Id: r-3\r\ntraceparent: 00-ab\r\n"]
--- response_body_like eval
["^json\$", "^json\$",
 "ignored: header x-request-id, traceparent\n(?s:.*)differs in: headers accept\n"]
--- error_code eval
[200, 200, 404]
--- no_error_log
[error]



=== TEST 5: a path pattern: {name} matches any one segment
--- user_files
>>> p.yaml
version: 1
interactions:
- request: {method: PUT, uri: 'http://svc/v1/carts/6f1c/items', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'put'}}
- request: {method: GET, uri: 'http://svc/v1/carts/6f1c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'cart'}}
--- config
    location / {
        mock_replay html/p.yaml;
        mock_ignore path "/v1/carts/{cart}/items";
        mock_repeats on;
    }
--- request eval
["PUT /v1/carts/abc/items", "PUT /v1/carts/6f1c/items", "GET /v1/carts/abc/items",
 "GET /v1/carts/abc", "PUT /v1/carts//items", "PUT /v1/carts/a%2Fb/items",
 "PUT /v1/carts/abc/items/", "PUT /v1/carts/abc/items?x=1"]
--- response_body_like eval
["^put\$", "^put\$", "^mock: method GET is not recorded",
 "^mock: no recorded interaction matches GET /v1/carts/abc\n",
 "^mock: no recorded interaction matches PUT /v1/carts//items\n",
 "^mock: no recorded interaction matches PUT /v1/carts/a%2Fb/items\n",
 "^mock: no recorded interaction matches PUT /v1/carts/abc/items/\n",
 "compared as path: /v1/carts/\\{cart\\}/items\n(?s:.*)ignored: path /v1/carts/\\{cart\\}/items\n(?s:.*)differs in: query x\n"]
--- error_code eval
[200, 200, 405, 404, 404, 404, 404, 404]
--- no_error_log
[error]



=== TEST 6: the most specific pattern wins; between equals, the first one
--- user_files
>>> s.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/v1/users/u1/items', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'users'}}
- request: {method: GET, uri: 'http://svc/v1/carts/c1/items', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'carts'}}
--- config
    location / {
        mock_replay html/s.yaml;
        mock_ignore path "/v1/{kind}/{id}/items" "/v1/carts/{cart}/items";
        mock_ignore path "/x/{a}/y" "/{b}/z/y";
        mock_repeats on;
    }
--- request eval
["GET /v1/carts/c9/items", "GET /v1/users/u9/items", "GET /x/z/y"]
--- response_body_like eval
["^carts\$", "^users\$", "compared as path: /x/\\{a\\}/y\n"]
--- error_code eval
[200, 200, 404]
--- no_error_log
[error]



=== TEST 7: the path compared is the one after mock_upstream mapping
--- user_files
>>> u.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc.internal/v1/orders/o-1', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'order'}}
--- config
    location /api/ {
        mock_replay html/u.yaml;
        mock_upstream http://svc.internal/v1/;
        mock_ignore path "/v1/orders/{order}";
        mock_repeats on;
    }
--- request eval
["GET /api/orders/o-77", "GET /api/orders/o-77/x"]
--- response_body_like eval
["^order\$", "compared as path: /v1/orders/o-77/x\n"]
--- error_code eval
[200, 404]
--- no_error_log
[error]



=== TEST 8: a level with its own mock_ignore lines replaces the inherited ones
--- user_files
>>> i.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/i?ts=1&id=1', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'i'}}
--- config
    mock_ignore query ts;
    mock_repeats on;
    location /inherit/ {
        mock_replay html/i.yaml;
        mock_upstream http://svc/;
    }
    location /own/ {
        mock_replay html/i.yaml;
        mock_upstream http://svc/;
        mock_ignore query id;
    }
    location /plain/ {
        mock_replay html/i.yaml;
        mock_upstream http://svc/;
        mock_match method path query;
    }
--- request eval
["GET /inherit/i?id=1&ts=9", "GET /own/i?id=9&ts=1", "GET /own/i?id=1&ts=9",
 "GET /plain/i?id=1&ts=2", "GET /inherit/i?id=2&ts=1"]
--- response_body_like eval
["^i\$", "^i\$", "differs in: query ts\n", "^i\$", "differs in: query id\n"]
--- error_code eval
[200, 200, 404, 200, 404]
--- no_error_log
[error]



=== TEST 9: two locations with other rules on one cassette keep their own index
--- user_files
>>> two.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/t?ts=1', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 't'}}
--- config
    location /a/ {
        mock_replay html/two.yaml;
        mock_upstream http://svc/;
        mock_ignore query ts;
    }
    location /b/ {
        mock_replay html/two.yaml;
        mock_upstream http://svc/;
    }
    mock_repeats on;
--- request eval
["GET /b/t?ts=2", "GET /a/t?ts=2", "GET /b/t?ts=1"]
--- response_body_like eval
["differs in: query ts\n", "^t\$", "^t\$"]
--- error_code eval
[404, 200, 200]
--- no_error_log
[error]



=== TEST 10: JSON paths into bodies that are not JSON ignore nothing
--- user_files
>>> n.yaml
version: 1
interactions:
- request:
    method: POST
    uri: http://svc/n
    body: '{"a": 1, "b": 2}'
    headers:
      Content-Type: [text/plain]
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n'}}
- request:
    method: POST
    uri: http://svc/bad
    body: '{"a": 1, "b"'
    headers:
      Content-Type: [application/json]
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'bad'}}
--- config
    location / {
        mock_replay html/n.yaml;
        mock_match method path body;
        mock_ignore body $.a $.b[*] $[*] $[0].x;
        mock_repeats on;
    }
--- request eval
["POST /n\n{\"a\": 1, \"b\": 2}", "POST /n\n{\"a\": 9, \"b\": 2}",
 "POST /bad\n{\"a\": 1, \"b\"", "POST /bad\n{\"a\": 2, \"b\""]
--- more_headers eval
["Content-Type: text/plain\r\n", "Content-Type: text/plain\r\n",
 "Content-Type: application/json\r\n", "Content-Type: application/json\r\n"]
--- response_body_like eval
["^n\$", "differs in: body\n", "^bad\$", "differs in: body\n"]
--- error_code eval
[200, 404, 200, 404]
--- no_error_log
[error]



=== TEST 11: [*] on what is no array, [N] past the end, deep JSON
--- user_files
>>> d.yaml
version: 1
interactions:
- request:
    method: POST
    uri: http://svc/d
    body: '{"items": {"0": 1, "x": 2}, "list": [1]}'
    headers:
      Content-Type: [application/json]
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'd'}}
--- config
    location / {
        mock_replay html/d.yaml;
        mock_match method path body;
        mock_ignore body $.items[*] $.items[0] $.list[5] $.a.b.c.d.e.f.g.h;
        mock_repeats on;
    }
--- more_headers
Content-Type: application/json
--- request eval
["POST /d\n{\"list\":[1],\"items\":{\"x\":2,\"0\":1}}",
 "POST /d\n{\"list\":[1],\"items\":{\"x\":3,\"0\":1}}",
 "POST /d\n" . ("[" x 200) . ("]" x 200),
 "POST /d\n" . ("{\"a\":" x 60) . "1" . ("}" x 60)]
--- response_body_like eval
["^d\$", "differs in: body \\\$\\.items\\.x\n", "differs in: body", "differs in: body"]
--- error_code eval
[200, 404, 404, 404]
--- no_error_log
[error]



=== TEST 12: multipart bodies match part by part whatever their boundary
--- user_files eval
[["m.yaml" => "version: 1
interactions:
- request:
    method: POST
    uri: http://svc/up
    body: \"--AAA\\r\\nContent-Disposition: form-data; name=\\\"title\\\"\\r\\n\\r\\nhello\\r\\n--AAA\\r\\nContent-Disposition: form-data; name=\\\"csrf\\\"\\r\\n\\r\\nt1\\r\\n--AAA\\r\\nContent-Disposition: form-data; name=\\\"f\\\"; filename=\\\"a.txt\\\"\\r\\nContent-Type: text/plain\\r\\n\\r\\nfile body\\r\\n--AAA--\\r\\n\"
    headers:
      Content-Type: ['multipart/form-data; boundary=AAA']
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'uploaded'}}
"]]
--- config
    location / {
        mock_replay html/m.yaml;
        mock_match method path body;
        mock_ignore body csrf;
        mock_repeats on;
    }
--- request eval
["POST /up\n--x9\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--x9\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nOTHER\r\n--x9\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n--x9--\r\n",
 "POST /up\n--x9\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--x9\r\nContent-Disposition: form-data; name=\"f\"; filename=\"b.txt\"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n--x9--\r\n",
 "POST /up\n--x9\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--x9\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nfile body\r\n--x9--\r\n",
 "POST /up\n--x9\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--x9\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nfile bo"]
--- more_headers
Content-Type: multipart/form-data; boundary=x9
--- response_body_like eval
["^uploaded\$", "differs in: body\n", "^uploaded\$", "differs in: body\n"]
--- error_code eval
[200, 404, 200, 404]
--- no_error_log
[error]



=== TEST 13: malformed multipart: no boundary, garbage; a thousand parts
--- user_files eval
[["mm.yaml" => "version: 1
interactions:
- request:
    method: POST
    uri: http://svc/many
    body: \"" . join("", map { "--B\\r\\nContent-Disposition: form-data; name=\\\"p$_\\\"\\r\\n\\r\\nv$_\\r\\n" } 1..1000) . "--B--\\r\\n\"
    headers:
      Content-Type: ['multipart/mixed; boundary=B']
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'many'}}
- request:
    method: POST
    uri: http://svc/raw
    body: 'no parts here'
    headers:
      Content-Type: ['multipart/form-data']
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'raw'}}
"]]
--- config
    location / {
        mock_replay html/mm.yaml;
        mock_match method path body;
        mock_ignore body p7;
        mock_repeats on;
        client_body_buffer_size 1m;
    }
--- request eval
["POST /many\n" . join("", map { "--Q\r\nContent-Disposition: form-data; name=\"p$_\"\r\n\r\n" . ($_ == 7 ? "x" : "v$_") . "\r\n" } 1..1000) . "--Q--\r\n",
 "POST /many\n" . join("", map { "--Q\r\nContent-Disposition: form-data; name=\"p$_\"\r\n\r\nv$_\r\n" } 1..999) . "--Q--\r\n",
 "POST /raw\nno parts here", "POST /raw\n--Q\r\n\r\n--Q"]
--- more_headers eval
["Content-Type: multipart/mixed; boundary=Q\r\n", "Content-Type: multipart/mixed; boundary=Q\r\n",
 "Content-Type: multipart/form-data\r\n", "Content-Type: multipart/form-data; boundary=\r\n"]
--- response_body_like eval
["^many\$", "differs in: body\n", "^raw\$", "differs in: body\n"]
--- error_code eval
[200, 404, 200, 404]
--- no_error_log
[error]



=== TEST 14: what is ignored is still recorded, unchanged
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode new_episodes;
        mock_match method path query body;
        mock_ignore query ts;
        mock_ignore body $.sent_at;
        mock_ignore path "/backend/orders/{id}";
        mock_repeats on;
    }
    location /backend/ {
        return 201 "made $uri $args";
    }
    location = /cassette {
        default_type text/plain;
        alias html/rec.yaml;
    }
--- more_headers
Content-Type: application/json
--- request eval
["POST /api/orders/o1?ts=1&a=1\n{\"sent_at\": \"t1\", \"n\": 1}",
 "POST /api/orders/o2?a=1&ts=2\n{\"n\": 1, \"sent_at\": \"t2\"}",
 "POST /api/orders/o3?a=1\n{\"n\": 2}",
 "GET /cassette"]
--- response_body_like eval
["^made /backend/orders/o1 ts=1&a=1\$", "^made /backend/orders/o1 ts=1&a=1\$",
 "^made /backend/orders/o3 a=1\$",
 qr{\A(?!(?s:.*)o2)(?s:.*)"sent_at\\": \\"t1\\"(?s:.*)uri: "http://127\.0\.0\.1:\d+/backend/orders/o1\?ts=1&a=1"(?s:.*)uri: "http://127\.0\.0\.1:\d+/backend/orders/o3\?a=1"}]
--- error_code eval
[201, 201, 201, 200]
--- no_error_log
[error]



=== TEST 15: hostile requests: a NUL in a name, a megabyte of JSON, many placeholders
--- user_files eval
[["h.yaml" => "version: 1
interactions:
- request:
    method: POST
    uri: 'http://svc/big" . ("/s" x 40) . "?ts=1'
    body: '{\"keep\": 1, \"drop\": [" . join(",", map { "{\"n\": $_, \"v\": \"x\"}" } 1 .. 20000) . "]}'
    headers:
      Content-Type: [application/json]
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'big'}}
"]]
--- config
    location / {
        mock_replay html/h.yaml;
        mock_match method path query body;
        mock_ignore query ts;
        mock_ignore body $.drop[*].v $.drop[0];
        mock_ignore path "/big/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}/{p7}/{p8}/{p9}/{p10}/{p11}/{p12}/{p13}/{p14}/{p15}/{p16}/{p17}/{p18}/{p19}/{p20}/{p21}/{p22}/{p23}/{p24}/{p25}/{p26}/{p27}/{p28}/{p29}/{p30}/{p31}/{p32}/{p33}/{p34}/{p35}/{p36}/{p37}/{p38}/{p39}/{p40}";
        mock_repeats on;
        client_body_buffer_size 2m;
        client_max_body_size 4m;
    }
--- request eval
my $body = "{\"drop\": [{\"n\": 0}," . join(",", map { "{\"v\": \"y$_\", \"n\": $_}" } 2 .. 20000) . "], \"keep\": 1}";
my $path = "/big" . join("", map { "/p$_" } 1 .. 40);
["POST $path?ts=%00\n$body", "POST $path?ts%00=1\n$body",
 "POST $path/more?ts=1\n$body"]
--- response_body_like eval
["^big\$", "differs in: query ts\\x00\n",
 "^mock: no recorded interaction matches POST /big/p1/"]
--- error_code eval
[200, 404, 404]
--- no_error_log
[error]
