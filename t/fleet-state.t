# The fleet's state is in Redis, not in nginx (mock_redis).
#
# Test::Nginx starts a new nginx for every block: what a block finds that
# an earlier block left, a new nginx could only have read from Redis.
# One nginx stands for the fleet here (the same code answers whichever
# instance a request reaches), so that the suite's valgrind and
# sanitizer runs go through every fleet path; t/fleet.t runs three
# instances.  Each block's requests go on one connection each; two
# workers.
#
#   - a forced answer pinned through the admin API holds in the next
#     nginx, and an unpin there removes it; a reset removes it too;
#   - a value a template remembered ("as NAME") is read back by the next
#     nginx ("var.NAME");
#   - new_episodes counts in Redis: the next nginx goes on with the
#     sequence and records what comes after it;
#   - the journal and the unused list answer for the fleet ("fleet":
#     true) with the instance's name;
#   - the directive's new parameters are checked by nginx -t.
#
# Every run uses its own key prefix and deletes its keys at the end; a
# generous timeout, as nginx may run under valgrind.

use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_REDIS_PORT} ||= 16379;

$ENV{TEST_NGINX_REDIS_PREFIX} = "t-fleet-state-$$-" . time() . ':';

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
master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: an answer pinned through the admin API
--- http_config
    mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_REDIS_PREFIX timeout=10s instance=gw-one;
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
    location /_mock {
        mock_admin;
    }
--- request eval
["POST /_mock/force\n{\"session\": \"F\", \"method\": \"GET\", \"path\": \"/c\", \"interaction\": 2}",
 "GET /c", "GET /c"]
--- more_headers eval
["Content-Type: application/json",
 "X-Test-Id: F",
 "X-Test-Id: F"]
--- response_body_like eval
[qr{^\{"session": "F", "method": "GET", "path": "/c", "forced": \{"cassette": "\S+/html/seq\.yaml", "interaction": 2\}, "redis": true\}$},
 "^n=3\$", "^n=3\$"]
--- error_code eval
[200, 200, 200]
--- no_error_log
[error]
[alert]
mock: Redis



=== TEST 2: a new nginx finds the pinned answer in Redis, plays nothing for it, and unpins it there
--- http_config
    mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_REDIS_PREFIX timeout=10s instance=gw-one;
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
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /c", "DELETE /_mock/force?session=F&method=GET&path=/c",
 "GET /c", "DELETE /_mock/force?session=F&method=GET&path=/c"]
--- more_headers eval
["X-Test-Id: F",
 "Content-Type: application/json\r\n",
 "X-Test-Id: F",
 "Content-Type: application/json\r\n"]
--- response_body_like eval
["^n=3\$",
 qr{^\{"session": "F", "method": "GET", "path": "/c", "forced": null, "redis": true\}$},
 "^n=1\$",
 qr{nothing is forced}]
--- error_code eval
[200, 200, 200, 404]
--- no_error_log
[error]
[alert]
mock: Redis



=== TEST 3: a value a template remembers goes to Redis
--- http_config
    mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_REDIS_PREFIX timeout=10s;
--- user_files
>>> orders.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/orders', body: null, headers: {}}
  response: {status: {code: 201, message: Created}, headers: {}, body: {string: 'made {{request.query.id as order}}'}}
  x_mock: {templated: [body]}
- request: {method: GET, uri: 'http://svc/orders/current', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'current {{default var.order "none"}}'}}
  x_mock: {templated: [body]}
--- config
    location / {
        mock_replay html/orders.yaml;
        mock_session $http_x_test_id;
        mock_match method path;
        mock_repeats on;
    }
--- request eval
["POST /orders?id=o-17", "GET /orders/current", "GET /orders/current"]
--- more_headers eval
["X-Test-Id: V", "X-Test-Id: V", "X-Test-Id: W"]
--- response_body eval
["made o-17", "current o-17", "current none"]
--- error_code eval
[201, 200, 200]
--- no_error_log
[error]
[alert]
mock: Redis



=== TEST 4: a new nginx reads the value from Redis
--- http_config
    mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_REDIS_PREFIX timeout=10s;
--- user_files
>>> orders.yaml
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/orders', body: null, headers: {}}
  response: {status: {code: 201, message: Created}, headers: {}, body: {string: 'made {{request.query.id as order}}'}}
  x_mock: {templated: [body]}
- request: {method: GET, uri: 'http://svc/orders/current', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'current {{default var.order "none"}}'}}
  x_mock: {templated: [body]}
--- config
    location / {
        mock_replay html/orders.yaml;
        mock_session $http_x_test_id;
        mock_match method path;
        mock_repeats on;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /orders/current", "POST /_mock/reset?session=V", "GET /orders/current"]
--- more_headers eval
["X-Test-Id: V",
 "Content-Type: application/json\r\n",
 "X-Test-Id: V"]
--- response_body_like eval
["^current o-17\$", qr{"redis": \d+\}$}, "^current none\$"]
--- no_error_log
[error]
[alert]
mock: Redis



=== TEST 5: new_episodes counts in Redis: two plays of a session
--- http_config
    mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_REDIS_PREFIX timeout=10s;
--- user_files
>>> ne.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://127.0.0.1/e', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'e=1'}}
- request: {method: GET, uri: 'http://127.0.0.1/e', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'e=2'}}
--- config
    location /e {
        mock_replay html/ne.yaml;
        mock_mode new_episodes;
        mock_session $http_x_test_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/upstream;
    }
    location /upstream {
        return 200 "fresh";
    }
--- request eval
["GET /e", "GET /e"]
--- more_headers eval
["X-Test-Id: N", "X-Test-Id: N"]
--- response_body eval
["e=1", "e=2"]
--- no_error_log
[error]
[alert]
mock: Redis



=== TEST 6: a new nginx goes on with the sequence: the third play is recorded, then replayed to another session
--- http_config
    mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_REDIS_PREFIX timeout=10s;
--- user_files
>>> ne.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://127.0.0.1/e', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'e=1'}}
- request: {method: GET, uri: 'http://127.0.0.1/e', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'e=2'}}
--- config
    location /e {
        mock_replay html/ne.yaml;
        mock_mode new_episodes;
        mock_session $http_x_test_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/upstream;
    }
    location /upstream {
        return 200 "fresh";
    }
--- request eval
["GET /e", "GET /e", "GET /e", "GET /e", "GET /e"]
--- more_headers eval
["X-Test-Id: N", "X-Test-Id: M", "X-Test-Id: M", "X-Test-Id: M", "X-Test-Id: N"]
--- response_body eval
["fresh", "e=1", "e=2", "fresh", "fresh"]
--- no_error_log
[error]
[alert]
mock: Redis



=== TEST 7: the journal and the unused list answer for the fleet
--- http_config
    mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=$TEST_NGINX_REDIS_PREFIX timeout=10s instance=gw-journal;
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/j', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'j=1'}}
- request: {method: GET, uri: 'http://svc/j', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'j=2'}}
- request: {method: GET, uri: 'http://svc/k', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'k=1'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_session $http_x_test_id;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
["GET /j", "GET /_mock/unused?session=J", "GET /_mock/journal?session=J&limit=1",
 "GET /_mock/interactions?session=J"]
--- more_headers eval
["X-Test-Id: J", "", "", ""]
--- response_body_like eval
["^j=1\$",
 qr{"unused": \[\n\{[^\n]*"interaction": 1, [^\n]*"plays": 0\},\n\{[^\n]*"interaction": 2, [^\n]*"plays": 0\}\n\], "fleet": true\}$},
 qr{^\{"journal": \[\n\{"time": \d+, "instance": "gw-journal", "session": "J", "method": "GET", "uri": "/j", "result": "hit", "status": 200, "cassette": "\S+/html/seq\.yaml", "interaction": 0\}\n\], "fleet": true\}$},
 qr{"interaction": 0, [^\n]*"plays": 1\},\n[^\n]*"interaction": 1, [^\n]*"plays": 0\},\n[^\n]*"interaction": 2, [^\n]*"plays": 0\}\n\], "fleet": true\}$}]
--- no_error_log
[error]
[alert]
mock: Redis



=== TEST 8: a password file that does not exist
--- http_config
    mock_redis 127.0.0.1:6379 password=/nonexistent/redis.secret;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*mock: Redis password file "/nonexistent/redis\.secret" cannot be opened}



=== TEST 9: an empty password file
--- http_config
    mock_redis 127.0.0.1:6379 password=html/empty.secret;
--- user_files
>>> empty.secret

--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*mock: Redis password file "\S+/html/empty\.secret" is empty}



=== TEST 10: an instance name with a space or a quote
--- http_config
    mock_redis 127.0.0.1:6379 "instance=gw 1";
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid instance "instance=gw 1"}



=== TEST 11: a unix socket path is taken as the address
--- http_config
    mock_redis unix:/nonexistent/redis.sock prefix=$TEST_NGINX_REDIS_PREFIX timeout=200ms;
--- user_files
>>> one.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/u', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'u=1'}}
--- config
    location / {
        mock_replay html/one.yaml;
    }
--- request
GET /u
--- response_body: u=1
--- error_log eval
qr{\[warn\] .*mock: Redis "unix:/nonexistent/redis\.sock" cannot connect \(.*\): this instance keeps}
--- no_error_log
[alert]
[crit]
