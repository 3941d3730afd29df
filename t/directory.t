# A directory of cassettes: every *.yaml (and *.yml) in it, in name order.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);  # TEST 2 plays a sequence
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: interactions of every cassette in the directory are replayed
--- user_files
>>> cassettes/orders.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/orders', body: null, headers: {}}
  response: {status: {code: 200}, headers: {}, body: {string: 'orders'}}
>>> cassettes/users.yml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/users', body: null, headers: {}}
  response: {status: {code: 200}, headers: {}, body: {string: 'users'}}
>>> cassettes/notes.txt
this is not a cassette
>>> cassettes/.hidden.yaml
not: [valid
--- config
    location / {
        mock_replay html/cassettes;
        mock_repeats on;
        add_header X-Cassette $mock_cassette;
    }
--- request eval
["GET /orders", "GET /users"]
--- response_body eval
["orders", "users"]
--- response_headers_like eval
["X-Cassette: .*/html/cassettes/orders\\.yaml\$", "X-Cassette: .*/html/cassettes/users\\.yml\$"]
--- no_error_log
[error]



=== TEST 2: the same request in two cassettes plays in file name order
--- user_files
>>> cassettes/b.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/x', body: null, headers: {}}
  response: {status: {code: 200}, headers: {}, body: {string: 'from b'}}
>>> cassettes/a.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/x', body: null, headers: {}}
  response: {status: {code: 200}, headers: {}, body: {string: 'from a'}}
--- config
    location / {
        mock_replay html/cassettes;
        add_header X-Interaction $mock_interaction;
    }
--- request eval
["GET /x", "GET /x"]
--- response_body eval
["from a", "from b"]
--- response_headers eval
["X-Interaction: 0", "X-Interaction: 0"]
--- no_error_log
[error]



=== TEST 3: a bad cassette in the directory is named
--- user_files
>>> cassettes/a.yaml
version: 1
interactions: []
>>> cassettes/z.yaml
version: 1
interactions: [1]
--- config
    location / {
        mock_replay html/cassettes;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/cassettes/z\.yaml", line 2, column 16: an interaction must be a mapping}



=== TEST 4: an empty directory replays nothing
--- user_files
>>> cassettes/readme.txt
no cassettes yet
--- config
    location / {
        mock_replay html/cassettes;
    }
--- request
GET /x
--- error_code: 404
--- response_body_like
no recorded interactions are close
--- no_error_log
[error]
