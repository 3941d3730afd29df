# Self-test of util/lib/Test/Nginx/Socket.pm: every supported section,
# using only stock nginx directives.
#
#   prove -I util/lib t-runner/

use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
env_to_nginx('RUNNER_SELF_TEST=yes');

# Test::More's functions are exported too.
is(html_dir(), server_root() . '/html', 'html_dir() is under server_root()');
like(server_port(), qr/^\d+$/, 'server_port() is a number');

run_tests();

__DATA__

=== TEST 1: response body and headers
--- config
    location = /t {
        add_header X-Runner hello;
        return 200 "hello\n";
    }
--- request
GET /t
--- response_body
hello
--- response_headers
X-Runner: hello
Content-Type: text/plain
!X-Missing
--- no_error_log
[error]
[alert]



=== TEST 2: request body is sent with a Content-Length
--- config
    location = /t {
        proxy_set_header X-Body $request_body;
        proxy_set_header X-Len $content_length;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location = /echo {
        return 200 "[$http_x_body] $http_x_len $http_x_custom";
    }
--- more_headers
X-Custom: custom value
# a comment line
--- request
POST /t
hello world
--- response_body chomp
[hello world] 11 custom value



=== TEST 3: HTTP/1.0 request and a status code
--- config
    location = /t {
        return 404 "not here: $server_protocol\n";
    }
--- request
GET /t HTTP/1.0
--- error_code: 404
--- response_body_like: ^not here: HTTP/1\.0$



=== TEST 4: several requests, one connection each
--- config
    location /t {
        return 200 "uri=$uri conn=$http_connection";
    }
    location = /gone {
        return 410;
    }
--- request eval
["GET /t/a", "GET /t/b", "GET /gone"]
--- error_code eval
[200, 200, 410]
--- response_body_like eval
["^uri=/t/a conn=close\$", "^uri=/t/b conn=close\$", "410 Gone"]



=== TEST 5: pipelined requests on one keep-alive connection
--- config
    location /p {
        return 200 "$uri:$connection_requests:$http_connection\n";
    }
--- pipelined_requests eval
["GET /p/1", "GET /p/2", "GET /p/3"]
--- response_body eval
["/p/1:1:keep-alive\n", "/p/2:2:keep-alive\n", "/p/3:3:close\n"]



=== TEST 6: raw request sent as is
--- config
    location = /raw {
        return 200 "host=$host x=$http_x_raw\n";
    }
--- raw_request eval
"GET /raw HTTP/1.1\r
Host: raw.example\r
X-Raw: 42\r
Connection: close\r
\r
"
--- response_body
host=raw.example x=42



=== TEST 7: user files in the text form, with sub-directories
--- config
    location /files {
        root html;
        default_type text/plain;
    }
--- user_files
>>> files/a.txt
file a
>>> files/sub/dir/b.txt
file b in $TEST_NGINX_SERVER_PORT
--- request eval
["GET /files/a.txt", "GET /files/sub/dir/b.txt"]
--- response_body eval
["file a\n", "file b in $ENV{TEST_NGINX_SERVER_PORT}\n"]



=== TEST 8: user files in the array form; the default root location
--- config
--- user_files eval
[["data/one.html" => "<p>one</p>"], ["index.html" => "home\n"]]
--- request eval
["GET /data/one.html", "GET /"]
--- response_body eval
["<p>one</p>", "home\n"]
--- response_headers eval
["Content-Type: text/html\nContent-Length: 10", "Content-Length: 5"]



=== TEST 9: error_log with strings and regexes
--- config
    location /static {
        root html;
    }
--- request
GET /static/missing.txt
--- error_code: 404
--- error_log eval
[qr/open\(\) "[^"]+missing\.txt" failed \(2: No such file or directory\)/,
 "[error]"]
--- no_error_log eval
[qr/\[alert\]/, "[emerg]"]



=== TEST 10: main_config, http_config and $TEST_NGINX_ variables
--- main_config
    worker_rlimit_nofile 1024;
--- http_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    map $uri $runner_kind {
        default  plain;
        /t       mapped;
    }
--- config
    location = /t {
        proxy_pass http://backend/back?kind=$runner_kind;
    }
    location = /back {
        return 200 "$arg_kind\n";
    }
--- request
GET /t
--- response_body
mapped



=== TEST 11: must_die with a bad directive
--- config
    location = /t {
        no_such_directive_here on;
    }
--- must_die
--- error_log
unknown directive "no_such_directive_here"



=== TEST 12: response_headers_like
--- config
    location = /t {
        add_header X-Time "t-$msec";
        return 204;
    }
--- request
HEAD /t
--- error_code: 204
--- response_headers_like
X-Time: t-\d+\.\d+
Server: nginx.*
--- response_body



=== TEST 13: init, wait and timeout
--- config
    location = /t {
        return 200 "$arg_v\n";
    }
--- init
$ENV{RUNNER_INIT_RAN} = 'yes';
--- request eval
"GET /t?v=$ENV{TEST_NGINX_SERVER_PORT}"
--- response_body eval
"$ENV{TEST_NGINX_SERVER_PORT}\n"
--- wait: 0.05
--- timeout: 5



=== TEST 14: chunked response bodies are decoded
--- config
    location = /t {
        sub_filter_types text/plain;
        sub_filter 'plain' 'chunked';
        return 200 "plain!\n";
    }
--- request
GET /t HTTP/1.1
--- raw_response_headers_like chomp
Transfer-Encoding: chunked\r\n
--- response_body
chunked!



=== TEST 15: skipped by --- SKIP
--- SKIP
--- config
    location = /t {
        return 200 "skipped\n";
    }
--- request
GET /t
--- response_body
this block must never run



=== TEST 16: skip_nginx counts skipped tests
--- skip_nginx: 2: > 0.0.1
--- config
    location = /t {
        return 200 "skipped\n";
    }
--- request
GET /t
--- response_body
this block must never run



=== TEST 17: --- LAST ends the blocks
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- LAST



=== TEST 18: after --- LAST, never run
--- config
    location = /t {
        return 500;
    }
--- request
GET /t
--- response_body
this block must never run
