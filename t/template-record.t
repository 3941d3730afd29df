# Templates of interactions recorded while nginx runs: compiled when they
# are added, replayed rendered; one that does not parse is replayed as it
# was recorded.  Recordings live for the life of nginx: each block runs once.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
check_accum_error_log();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a recorded answer with expressions is rendered when it is replayed
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode new_episodes;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_repeats on;
        mock_match method path;
        mock_template on;
    }
    location /backend/ {
        add_header X-T "{{request.query.x}}";
        return 200 "hello {{request.query.x}}";
    }
--- request eval
["GET /a?x=1", "GET /a?x=2", "GET /a?x=3"]
--- response_body eval
["hello {{request.query.x}}", "hello 2", "hello 3"]
--- no_error_log
[error]



=== TEST 2: a recorded answer whose expression does not parse is replayed as recorded, with a warning
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode new_episodes;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_repeats on;
        mock_match method path;
        mock_template on;
        add_header X-Mock-Status $mock_status always;
    }
    location /backend/ {
        return 200 "hello {{ nope";
    }
--- request eval
["GET /a", "GET /a"]
--- response_headers eval
["!X-Mock-Status", "X-Mock-Status: hit"]
--- response_body eval
["hello {{ nope", "hello {{ nope"]
--- wait: 0.5
--- error_log eval
qr/mock: a recorded interaction of "\S+rec\.yaml" is replayed without its templates: the body, byte 6: unterminated "\{\{"/
--- no_error_log
[error]



=== TEST 3: a recorded answer that echoes the live body
--- http_config
    geo $dollar {
        default "$";
    }
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode new_episodes;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_repeats on;
        mock_match method path;
        mock_template on;
    }
    location /backend/ {
        return 200 "user {{request.body.${dollar}.user}} {{request.form.f}}";
    }
--- request eval
["POST /a\n{\"user\": \"ann\"}", "POST /a\n{\"user\": \"bob\"}", "POST /a\nf=x+y"]
--- response_body eval
["user {{request.body.\$.user}} {{request.form.f}}", "user bob ", "user  x y"]
--- no_error_log
[error]



=== TEST 4: a fallback answer is rendered, with its length
--- user_files
>>> fb.yaml
version: 1
interactions:
- request: {method: GET, uri: "http://svc/fb"}
  response:
    status: {code: 200, message: OK}
    headers: {X-Q: ['{{request.query.q}}']}
    body: {string: 'fallback for {{request.query.q}}'}
--- config
    location /fb {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/down;
        mock_upstream http://svc/fb;
        mock_replay html/fb.yaml;
        mock_mode fallback;
        mock_repeats on;
        mock_match method path;
        mock_template on;
    }
    location = /down {
        return 503;
    }
--- request
GET /fb?q=abcdef
--- response_headers
X-Q: abcdef
Content-Length: 19
--- response_body chomp
fallback for abcdef
--- no_error_log
[error]
