# Self-test of util/lib/Test/Nginx/Socket.pm: an exact plan, global
# settings, and the log sections.
#
#   prove -I util/lib t-runner/

use Test::Nginx::Socket;

repeat_each(2);
no_shuffle();
no_root_location();
master_on();
workers(2);
worker_connections(128);
log_level('info');

plan tests => repeat_each() * (blocks() * 2 + 4);

run_tests();

__DATA__

=== TEST 1: a Host header in more_headers replaces the default one
--- config
    location = /t {
        return 200 "$host\n";
    }
--- more_headers
Host: other.example
--- request
GET /t
--- response_body
other.example



=== TEST 2: log_level('info') leaves out debug messages
--- config
    location = /t {
        return 200 "quiet\n";
    }
--- request
GET /t
--- response_body
quiet
--- no_error_log
[debug]



=== TEST 3: --- log_level overrides it for one block
--- log_level: debug
--- config
    location = /t {
        return 200 "verbose\n";
    }
--- request
GET /t
--- response_body
verbose
--- error_log
[debug]



=== TEST 4: grep_error_log, access_log and no_access_log
--- config
    rewrite_log on;
    location /rw/ {
        rewrite ^/rw/(.*)$ /t/$1 last;
    }
    location /t/ {
        return 200 "$uri\n";
    }
--- request
GET /rw/x
--- response_body
/t/x
--- grep_error_log eval
qr/rewritten data: "[^"]+"/
--- grep_error_log_out
rewritten data: "/t/x"
--- access_log
"GET /rw/x HTTP/1.1" 200
--- no_access_log
POST



=== TEST 5: response_body_unlike
--- config
    location = /t {
        return 200 "good\n";
    }
--- request
GET /t
--- response_body_unlike: bad



=== TEST 6: no_root_location() leaves "location /" to the test
--- config
    location / {
        return 200 "own root\n";
    }
--- request
GET /
--- response_body
own root



=== TEST 7: an aborted slow response is not a failure
--- config
    location = /slow {
        limit_rate 1;
        return 200 "0123456789abcdefghijklmnopqrstuvwxyz";
    }
--- request
GET /slow
--- timeout: 0.3
--- abort
--- ignore_response
--- no_error_log
[alert]
