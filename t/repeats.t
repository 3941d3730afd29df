# mock_repeats: what a sequence of identical requests answers when it has
# run out: off (a miss), on (the first one, always), last (the last one
# keeps answering), wrap (it starts again).  Plays are counted whatever
# the policy, per session, in the zone or in Redis.

use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_REDIS_PORT} ||= 16379;
$ENV{TEST_NGINX_REDIS_PREFIX} = "t-repeats-$$-" . time() . ':';

END {
    my $port = $ENV{TEST_NGINX_REDIS_PORT};
    my $prefix = $ENV{TEST_NGINX_REDIS_PREFIX};
    if (open my $scan, '-|', 'redis-cli', '-p', $port, '--scan',
             '--pattern', "$prefix*")
    {
        my @keys = grep { length } map { s/\s+\z//r } <$scan>;
        close $scan;
        if (@keys && open my $del, '-|', 'redis-cli', '-p', $port, 'DEL',
                                @keys)
        {
            1 while <$del>;
            close $del;
        }
    }
}

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: off, the default: the sequence runs out
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=2'}}
--- config
    location /default/ {
        mock_replay html/seq.yaml;
        mock_upstream http://svc/;
    }
    location /off/ {
        mock_replay html/seq.yaml;
        mock_upstream http://svc/;
        mock_repeats off;
        mock_match method path query scheme;
    }
--- request eval
["GET /default/c", "GET /default/c", "GET /default/c",
 "GET /off/c", "GET /off/c", "GET /off/c"]
--- response_body_like eval
["^n=1\$", "^n=2\$", "already played", "^n=1\$", "^n=2\$", "already played"]
--- error_code eval
[200, 200, 404, 200, 200, 404]
--- no_error_log
[error]



=== TEST 2: on: the first one, always
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=2'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_repeats on;
    }
--- request eval
["GET /c", "GET /c", "GET /c", "HEAD /c"]
--- response_body eval
["n=1", "n=1", "n=1", ""]
--- no_error_log
[error]
[warn]



=== TEST 3: last: the last one keeps answering; HEAD uses nothing up
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=22'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=333'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_repeats last;
    }
--- request eval
["HEAD /c", "GET /c", "GET /c", "GET /c", "GET /c", "HEAD /c", "GET /c"]
--- response_headers eval
["Content-Length: 3", "Content-Length: 3", "Content-Length: 4", "Content-Length: 5",
 "Content-Length: 5", "Content-Length: 5", "Content-Length: 5"]
--- response_body eval
["", "n=1", "n=22", "n=333", "n=333", "", "n=333"]
--- no_error_log
[error]
[warn]



=== TEST 4: wrap: the sequence starts again
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=2'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=3'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_repeats wrap;
    }
--- request eval
[map { "GET /c" } 1 .. 8]
--- response_body eval
["n=1", "n=2", "n=3", "n=1", "n=2", "n=3", "n=1", "n=2"]
--- no_error_log
[error]
[warn]



=== TEST 5: a sequence of one under wrap and last answers every time
--- user_files
>>> one.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'only'}}
--- config
    location /w/ {
        mock_replay html/one.yaml;
        mock_upstream http://svc/;
        mock_repeats wrap;
    }
    location /l/ {
        mock_replay html/one.yaml;
        mock_upstream http://svc/;
        mock_repeats last;
    }
--- request eval
["GET /w/c", "GET /w/c", "GET /l/c", "GET /l/c", "GET /w/x"]
--- response_body_like eval
["^only\$", "^only\$", "^only\$", "^only\$", "no recorded interaction matches"]
--- error_code eval
[200, 200, 200, 200, 404]
--- no_error_log
[error]



=== TEST 6: sessions each have their own wrap and last
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=2'}}
--- config
    location /w/ {
        mock_replay html/seq.yaml;
        mock_upstream http://svc/;
        mock_session $http_x_test_id;
        mock_repeats wrap;
    }
    location /l/ {
        mock_replay html/seq.yaml;
        mock_upstream http://svc/;
        mock_session $http_x_test_id;
        mock_repeats last;
        mock_match method path query scheme;
    }
--- request eval
["GET /w/c", "GET /w/c", "GET /w/c", "GET /w/c", "GET /w/c",
 "GET /l/c", "GET /l/c", "GET /l/c", "GET /l/c"]
--- more_headers eval
["X-Test-Id: A", "X-Test-Id: B", "X-Test-Id: A", "X-Test-Id: A", "X-Test-Id: B",
 "X-Test-Id: A", "X-Test-Id: B", "X-Test-Id: A", "X-Test-Id: A"]
--- response_body eval
["n=1", "n=1", "n=2", "n=1", "n=2", "n=1", "n=1", "n=2", "n=2"]
--- no_error_log
[error]



=== TEST 7: under on, the admin API shows the first one played, the others unused
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'two'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
        mock_repeats on;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /c", "GET /c", "GET /c", "GET /_mock/interactions?session=a",
 "GET /_mock/unused?session=a", "POST /_mock/reset?session=a", "GET /_mock/unused?session=a",
 "GET /c"]
--- more_headers eval
["X-Test-Id: a",
 "X-Test-Id: a",
 "X-Test-Id: a",
 "",
 "",
 "Content-Type: application/json\r\n",
 "",
 "X-Test-Id: a"]
--- response_body_like eval
["^one\$", "^one\$", "^one\$",
 qr{"interaction": 0, [^\n]*"plays": 3\},\n\{[^\n]*"interaction": 1, [^\n]*"plays": 0\}},
 qr{"unused": \[\n\{[^\n]*"interaction": 1, [^\n]*"plays": 0\}\n\]\}},
 qr{^\{"reset": "a", "counters": 1\}$},
 qr{"unused": \[\n\{[^\n]*"interaction": 0, [^\n]*\},\n\{[^\n]*"interaction": 1, [^\n]*\}\n\]\}},
 "^one\$"]
--- no_error_log
[error]



=== TEST 8: under wrap and last, every interaction a sequence passed is played
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'two'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
        mock_repeats wrap;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /c", "GET /_mock/unused?session=a", "GET /c", "GET /c", "GET /_mock/unused?session=a"]
--- more_headers eval
["X-Test-Id: a", "", "X-Test-Id: a", "X-Test-Id: a", ""]
--- response_body_like eval
["^one\$", qr{"unused": \[\n\{[^\n]*"interaction": 1, [^\n]*\}\n\]\}},
 "^two\$", "^one\$", qr{"unused": \[\n\]\}}]
--- no_error_log
[error]



=== TEST 9: new_episodes replays under the policy and records only what is new
--- user_files
>>> ne.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://127.0.0.1/backend/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://127.0.0.1/backend/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=2'}}
--- config
    location /w/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/ne.yaml;
        mock_upstream http://127.0.0.1/backend/;
        mock_mode new_episodes;
        mock_repeats wrap;
        mock_match method path;
    }
    location /l/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/ne.yaml;
        mock_upstream http://127.0.0.1/backend/;
        mock_mode new_episodes;
        mock_repeats last;
        mock_match method path scheme;
    }
    location /backend/ {
        return 200 "live $uri";
    }
--- request eval
["GET /w/c", "GET /w/c", "GET /w/c", "GET /l/c", "GET /l/c", "GET /l/c", "GET /w/new"]
--- response_body eval
["n=1", "n=2", "n=1", "n=1", "n=2", "n=2", "live /backend/new"]
--- no_error_log
[error]



=== TEST 10: Redis counts the plays under wrap, for every worker
--- http_config
    mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_REDIS_PREFIX timeout=5s;
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=2'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
        mock_repeats wrap;
    }
--- request eval
["GET /c", "GET /c", "GET /c", "GET /c", "GET /c"]
--- more_headers eval
["X-Test-Id: R", "X-Test-Id: R", "X-Test-Id: S", "X-Test-Id: R", "X-Test-Id: R"]
--- response_body eval
["n=1", "n=2", "n=1", "n=1", "n=2"]
--- no_error_log
[error]
mock: Redis



=== TEST 11: a new nginx goes on with the Redis counters of TEST 10, under last
--- http_config
    mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_REDIS_PREFIX timeout=5s;
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=2'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
        mock_repeats last;
    }
--- request eval
["GET /c", "GET /c"]
--- more_headers eval
["X-Test-Id: S", "X-Test-Id: S"]
--- response_body eval
["n=2", "n=2"]
--- no_error_log
[error]
mock: Redis
