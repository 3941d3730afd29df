# Templates learned while recording, end to end: nginx records through an
# upstream that echoes what it is sent (the id in the path, a query value,
# a request header, the JSON body, a form field), with
# "mock_record_templates on"; then a replay location (mode replay, where
# "mock_template marked" is the default) answers requests that carry
# other ids, and the replies carry the new ones.
#
# The upstream is pure nginx: a regex location echoes a path segment,
# $arg_ and $http_ variables echo the query and headers, and a location
# that proxies once more hands $request_body (read by proxy_pass) to the
# one that answers, so the JSON body is echoed as it came.
#
# The replay location maps its URLs onto the upstream's with
# mock_upstream, so request.path.N counts the segments of the upstream's
# path, as it was recorded.  Blocks that replay other path segments or
# query values tell the matcher to leave those out (mock_match without
# path or query).  The last block replays from the file, after
# the admin API has read the recorded cassette again.
#
# Recordings accumulate while nginx runs, so each block runs once.

use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_SERVER_PORT} ||= server_port();

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: the JSON body and a request header, echoed in the body and in Location
--- config
    location /rec/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on headers=X-User;
    }
    location /play/ {
        mock_replay html/rec.yaml;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }
    location /backend/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo/;
        proxy_set_header X-Body $request_body;
        proxy_set_header X-User $http_x_user;
    }
    location /echo/ {
        default_type application/json;
        add_header Location "/orders/$http_x_order";
        return 201 '{"order": $http_x_body, "by": "$http_x_user"}';
    }
--- request eval
["POST /rec/orders\n{\"id\": \"ord-70001\", \"user\": {\"name\": \"Ada Lovelace\"}, \"qty\": 12345}",
 "POST /play/orders\n{\"id\": \"ord-80002\", \"user\": {\"name\": \"Grace \\\"G\\\" Hopper\"}, \"qty\": 67890}"]
--- more_headers eval
["Content-Type: application/json\r\nX-User: ada-lovelace\r\nX-Order: ord-70001\r\n",
 "Content-Type: application/json\r\nX-User: grace-hopper\r\nX-Order: ord-80002\r\n"]
--- error_code eval
[201, 201]
--- response_body eval
['{"order": {"id": "ord-70001", "user": {"name": "Ada Lovelace"}, "qty": 12345}, "by": "ada-lovelace"}',
 '{"order": {"id": "ord-80002", "user": {"name": "Grace \"G\" Hopper"}, "qty": 67890}, "by": "grace-hopper"}']
--- no_error_log
[error]



=== TEST 2: a query value (the matcher leaves the query out)
--- config
    location /rec/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_match method path;
        mock_record_templates on;
    }
    location /play/ {
        mock_replay html/rec.yaml;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_match method path;
    }
    location /backend/ {
        default_type application/json;
        return 200 '{"q": "$arg_q", "results": []}';
    }
--- request eval
["GET /rec/search?q=alpha-beta", "GET /play/search?q=gamma%20delta"]
--- response_body eval
['{"q": "alpha-beta", "results": []}',
 '{"q": "gamma delta", "results": []}']
--- no_error_log
[error]



=== TEST 3: a path segment, as a number and as a string (the matcher leaves the path out)
--- config
    location /rec/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_match method;
        mock_record_templates on;
    }
    location /play/ {
        mock_replay html/rec.yaml;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_match method;
        mock_repeats on;
    }
    location ~ ^/backend/users/(?<uid>[^/]+)$ {
        default_type application/json;
        add_header Content-Location "/v1/users/$uid";
        return 200 '{"id": $uid, "name": "Ada"}';
    }
--- request eval
["GET /rec/users/70001", "GET /play/users/80002", "GET /play/users/abc-9"]
--- response_body eval
['{"id": 70001, "name": "Ada"}',
 '{"id": 80002, "name": "Ada"}',
 '{"id": "abc-9", "name": "Ada"}']
--- response_headers eval
["Content-Location: /v1/users/70001", "Content-Location: /v1/users/80002",
 "Content-Location: /v1/users/abc-9"]
--- no_error_log
[error]



=== TEST 4: a form field
--- http_config
    map $request_body $plan {
        "~(^|&)plan=(?<p>[^&]*)"  $p;
        default                   "";
    }
--- config
    location /rec/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on;
    }
    location /play/ {
        mock_replay html/rec.yaml;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }
    location /backend/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo/;
        proxy_set_header X-Plan $plan;
    }
    location /echo/ {
        default_type application/json;
        return 200 '{"plan": "$http_x_plan"}';
    }
--- request eval
["POST /rec/signup\nplan=premium-plan&seats=1", "POST /play/signup\nplan=basic-plan&seats=1"]
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- response_body eval
['{"plan": "premium-plan"}', '{"plan": "basic-plan"}']
--- no_error_log
[error]



=== TEST 5: replayed from the file, once the admin API has read it again
--- config
    location /rec/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/rec.yaml;
        mock_mode record;
        mock_record_templates on headers=X-User;
    }
    location /play/ {
        mock_replay html/rec.yaml;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }
    location /_mock {
        mock_admin;
    }
    location /backend/ {
        default_type application/json;
        add_header X-Echo "$http_x_user";
        return 200 '{"user": "$http_x_user", "literal": "{{not a template}}"}';
    }
--- request eval
["GET /rec/me", "POST /_mock/reload", "GET /play/me"]
--- more_headers eval
["X-User: ada-lovelace\r\n",
 "Content-Type: application/json\r\n",
 "X-User: grace-hopper\r\n"]
--- response_body_like eval
['\A\{"user": "ada-lovelace", "literal": "\{\{not a template\}\}"\}\z',
 '"interactions"',
 '\A\{"user": "grace-hopper", "literal": "\{\{not a template\}\}"\}\z']
--- response_headers eval
["X-Echo: ada-lovelace", "", "X-Echo: grace-hopper"]
--- no_error_log
[error]
