# mock_redis: sequence counters kept in Redis.
#
# The suite's Redis runs on $TEST_NGINX_REDIS_PORT (scripts/services.sh
# starts it).  Every run of this file uses its own key prefix, so the
# counters of an earlier run (they live for the ttl) are never seen; the
# keys are deleted again at the end.
#
# Test::Nginx starts a new nginx for every block.  Blocks 1 to 3 use
# this: the counters live in Redis, not in nginx, so a sequence goes on
# where the previous nginx left it.  A counter kept in nginx's shared
# zone would start again from the first interaction in every block.
#
# The expiry of the keys (ttl=) is checked in t/redis-instances.t, which
# can ask Redis between requests.

use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_REDIS_PORT} ||= 16379;

# The same prefix for every block of this run, unique to the run.
$ENV{TEST_NGINX_REDIS_PREFIX} = "t-redis-$$-" . time() . ':';
# A second one, for TEST 4; it starts with the first, so the clean-up
# below finds its keys too.
$ENV{TEST_NGINX_REDIS_OTHER_PREFIX} = "$ENV{TEST_NGINX_REDIS_PREFIX}other:";

# Remove this run's keys; nothing else in the shared Redis is touched.
END {
    my $port = $ENV{TEST_NGINX_REDIS_PORT};
    my $prefix = $ENV{TEST_NGINX_REDIS_PREFIX};
    if (open my $scan, '-|', 'redis-cli', '-p', $port, '--scan',
             '--pattern', "$prefix*")
    {
        my @keys = grep { length } map { s/\s+\z//r } <$scan>;
        close $scan;
        # Read from a pipe: redis-cli's reply must not go to the TAP output.
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
master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: two test sessions, interleaved, each get their own sequence from Redis
Each request is sent on its own connection; with two workers they may
reach either one.  A generous timeout: nginx may run under a sanitizer,
and a late answer would be counted in the shared zone instead (the
warning checked below would show it).
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
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=3'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
    }
--- request eval
["GET /c", "GET /c", "GET /c", "GET /c", "GET /c", "GET /c", "GET /c", "GET /c"]
--- more_headers eval
["X-Test-Id: A", "X-Test-Id: B", "X-Test-Id: A", "X-Test-Id: B",
 "X-Test-Id: A", "X-Test-Id: B", "X-Test-Id: A", "X-Test-Id: B"]
--- response_body_like eval
["^n=1\$", "^n=1\$", "^n=2\$", "^n=2\$", "^n=3\$", "^n=3\$",
 "already played", "already played"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 404, 404]
--- no_error_log
[error]
[alert]
[crit]
mock: Redis



=== TEST 2: a new nginx finds the sequences of TEST 1 played, in Redis
Same cassette path, matchers, sessions and prefix as TEST 1, so the same
keys.  Session C is new: its sequence starts here.
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
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=3'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
    }
--- request eval
["GET /c", "GET /c", "GET /c"]
--- more_headers eval
["X-Test-Id: A", "X-Test-Id: B", "X-Test-Id: C"]
--- response_body_like eval
["already played", "already played", "^n=1\$"]
--- error_code eval
[404, 404, 200]
--- no_error_log
[error]
[alert]
[crit]
mock: Redis



=== TEST 3: and the next nginx goes on with session C where TEST 2 left it
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
- request: {method: GET, uri: 'http://svc/c', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=3'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
    }
--- request eval
["GET /c", "GET /c", "GET /c"]
--- more_headers: X-Test-Id: C
--- response_body_like eval
["^n=2\$", "^n=3\$", "already played"]
--- error_code eval
[200, 200, 404]
--- no_error_log
[error]
[alert]
[crit]
mock: Redis



=== TEST 4: a prefix of its own gives a sequence of its own
The same cassette and session as TEST 1 (played out there) under another
prefix: other keys, so the sequence starts anew.
--- http_config
    mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_REDIS_OTHER_PREFIX timeout=5s;
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
        mock_session $http_x_test_id;
    }
--- request eval
["GET /c", "GET /c"]
--- more_headers: X-Test-Id: A
--- response_body_like eval
["^n=1\$", "^n=2\$"]
--- error_code eval
[200, 200]
--- no_error_log
[error]
[alert]
[crit]
mock: Redis



=== TEST 5: an address without a valid port
--- http_config
    mock_redis 127.0.0.1:notaport;
--- config
    location / {
        return 204;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid Redis address "127\.0\.0\.1:notaport": invalid port in \S+nginx\.conf:\d+}



=== TEST 6: a port out of range
--- http_config
    mock_redis 127.0.0.1:99999;
--- config
    location / {
        return 204;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid Redis address "127\.0\.0\.1:99999": invalid port in \S+nginx\.conf:\d+}



=== TEST 7: an unknown parameter
--- http_config
    mock_redis 127.0.0.1:6379 colour=red;
--- config
    location / {
        return 204;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "colour=red", expected prefix=, timeout=, ttl=, password= or instance= in \S+nginx\.conf:\d+}



=== TEST 8: a zero timeout
--- http_config
    mock_redis 127.0.0.1:6379 timeout=0;
--- config
    location / {
        return 204;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid timeout "timeout=0" in \S+nginx\.conf:\d+}



=== TEST 9: a timeout that is not a time
--- http_config
    mock_redis 127.0.0.1:6379 timeout=soon;
--- config
    location / {
        return 204;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid timeout "timeout=soon" in \S+nginx\.conf:\d+}



=== TEST 10: a ttl that is not a time
--- http_config
    mock_redis 127.0.0.1:6379 ttl=forever;
--- config
    location / {
        return 204;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid ttl "ttl=forever" in \S+nginx\.conf:\d+}



=== TEST 11: mock_redis twice
--- http_config
    mock_redis 127.0.0.1:6379;
    mock_redis 127.0.0.1:6380;
--- config
    location / {
        return 204;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*"mock_redis" directive is duplicate in \S+nginx\.conf:\d+}



=== TEST 12: mock_redis without an address
--- http_config
    mock_redis;
--- config
    location / {
        return 204;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid number of arguments in "mock_redis" directive in \S+nginx\.conf:\d+}



=== TEST 13: mock_redis belongs to the http level, not to a location
--- config
    location / {
        mock_redis 127.0.0.1:6379;
        return 204;
    }
--- must_die
--- error_log eval
qr{\[emerg\] .*"mock_redis" directive is not allowed here in \S+nginx\.conf:\d+}



=== TEST 14: the admin reset forgets a session's counters in Redis too
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
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /c", "GET /c", "GET /c", "POST /_mock/reset?session=reset-me", "GET /c"]
--- more_headers eval
["X-Test-Id: reset-me",
 "X-Test-Id: reset-me",
 "X-Test-Id: reset-me",
 "Content-Type: application/json\r\n",
 "X-Test-Id: reset-me"]
--- response_body_like eval
["^n=1\$", "^n=2\$", "already played",
 qr{^\{"reset": "reset-me", "counters": 0, "redis": 1\}$}, "^n=1\$"]
--- error_code eval
[200, 200, 404, 200, 200]
--- no_error_log
[error]
[alert]
[crit]
mock: Redis
