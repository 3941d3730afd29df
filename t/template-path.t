# Templates read what path patterns capture: path.NAME is the segment
# that a "mock_ignore path" placeholder matched in the live request, as
# compared (after mock_upstream's mapping), and request.path.N the
# segment of the live path.  A name no pattern captured is empty.

use Test::Nginx::Socket 'no_plan';
repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a client-made id in the path matches and is echoed
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: PUT, uri: 'http://svc/v1/carts/6f1c0000/items/17', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [application/json]
      Location: ['/v1/carts/{{path.cart}}/items/{{path.item}}']
    body: {string: '{"cart": "{{path.cart}}", "item": {{path.item}}, "seg": "{{request.path.2}}", "none": "{{path.nothing}}"}'}
--- config
    location /v1/ {
        mock_replay html/c.yaml;
        mock_template on;
        mock_ignore path "/v1/carts/{cart}/items/{item}";
        mock_repeats on;
    }
--- request
PUT /v1/carts/a1b2-c3/items/42
--- response_headers
Location: /v1/carts/a1b2-c3/items/42
--- response_body chomp
{"cart": "a1b2-c3", "item": 42, "seg": "a1b2-c3", "none": ""}
--- no_error_log
[error]
[warn]



=== TEST 2: the most specific pattern captures; a literal pattern captures nothing
--- user_files
>>> u.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/users/1', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: 'user {{path.id}} of {{default path.who "nobody"}}'}
- request: {method: GET, uri: 'http://svc/users/me', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/plain]}
    body: {string: 'me [{{path.id}}]'}
--- config
    location /users/ {
        mock_replay html/u.yaml;
        mock_template on;
        mock_ignore path "/users/{id}" "/users/me";
        mock_repeats on;
    }
--- pipelined_requests eval
["GET /users/977", "GET /users/me"]
--- response_body eval
["user 977 of nobody", "me []"]
--- no_error_log
[error]



=== TEST 3: captures are taken from the path as compared, after mock_upstream
--- user_files
>>> m.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://users.internal/v1/users/7/orders', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"user": {{path.user}}, "live": "{{request.path}}"}'}
--- config
    location /api/ {
        mock_upstream http://users.internal/v1/;
        mock_replay html/m.yaml;
        mock_template on;
        mock_ignore path "/v1/users/{user}/orders";
        mock_repeats on;
    }
--- request
GET /api/users/12/orders
--- response_body chomp
{"user": 12, "live": "/api/users/12/orders"}
--- no_error_log
[error]



=== TEST 4: a hostile segment is escaped in JSON and drops a header it would split
--- user_files
>>> h.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/h/x', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [application/json]
      X-Echo: ['{{path.v}}']
      X-Kept: ['yes']
    body: {string: '{"v": "{{path.v}}"}'}
--- config
    location /h/ {
        mock_replay html/h.yaml;
        mock_template on;
        mock_ignore path "/h/{v}";
        mock_repeats on;
    }
--- request
GET /h/a%22b%0D%0AX-Injected:%201
--- response_headers
X-Kept: yes
!X-Echo
!X-Injected
--- response_body chomp
{"v": "a\"b\r\nX-Injected: 1"}
--- error_log
X-Echo
--- no_error_log
[error]
