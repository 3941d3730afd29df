# Sequences: identical requests get the recorded interactions in file
# order, across all workers; then they are "already played".
# Sequence state lives for the life of nginx, so each block runs once.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();
master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: the n-th call gets the n-th recording, then "already played"
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/counter', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/other', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'other'}}
- request: {method: GET, uri: 'http://svc/counter', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=2'}}
- request: {method: GET, uri: 'http://svc/counter', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=3'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        add_header X-Mock-Status $mock_status always;
        add_header X-Mock-Interaction $mock_interaction always;
    }
--- request eval
["GET /counter", "GET /counter", "GET /counter", "GET /counter"]
--- response_body_like eval
["^n=1\$", "^n=2\$", "^n=3\$",
 qr/all 3 matching interactions were already played:\n  #0 in \S+\n  #2 in \S+\n  #3 in \S+\n/]
--- error_code eval
[200, 200, 200, 404]
--- response_headers eval
["X-Mock-Interaction: 0", "X-Mock-Interaction: 2", "X-Mock-Interaction: 3",
 "X-Mock-Status: exhausted"]
--- no_error_log
[error]



=== TEST 2: mock_repeats on always serves the first match
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/counter', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/counter', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=2'}}
--- config
    location / {
        mock_replay html/seq.yaml;
        mock_repeats on;
    }
--- request eval
["GET /counter", "GET /counter", "GET /counter"]
--- response_body eval
["n=1", "n=1", "n=1"]
--- no_error_log
[error]
[warn]



=== TEST 3: a sequence is shared by every worker and connection
--- user_files eval
my $y = "version: 1\ninteractions:\n";
for my $n (1 .. 12) {
    $y .= "- request: {method: GET, uri: 'http://svc/seq', body: null, headers: {}}\n"
        . "  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=$n'}}\n";
}
[["seq.yaml" => $y]]
--- config
    location / {
        mock_replay html/seq.yaml;
    }
--- request eval
[map { "GET /seq" } 1 .. 13]
--- response_body_like eval
[(map { "^n=$_\$" } 1 .. 12), "already played"]
--- error_code eval
[(200) x 12, 404]
--- no_error_log
[error]



=== TEST 4: HEAD answered from a GET recording does not use it up
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/counter', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/counter', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=22'}}
--- config
    location / {
        mock_replay html/seq.yaml;
    }
--- request eval
["HEAD /counter", "GET /counter", "HEAD /counter", "GET /counter"]
--- response_headers eval
["Content-Length: 3", "Content-Length: 3", "Content-Length: 4", "Content-Length: 4"]
--- response_body eval
["", "n=1", "", "n=22"]
--- no_error_log
[error]



=== TEST 5: locations with the same cassette and matchers share one sequence
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/counter', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
- request: {method: GET, uri: 'http://svc/counter', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=2'}}
--- config
    location = /counter {
        mock_replay html/seq.yaml;
    }
    location /alias/ {
        mock_replay html/seq.yaml;
        mock_upstream http://svc/;
    }
--- request eval
["GET /counter", "GET /alias/counter", "GET /counter"]
--- response_body_like eval
["^n=1\$", "^n=2\$", "already played"]
--- error_code eval
[200, 200, 404]
--- no_error_log
[error]



=== TEST 6: different matchers make different sequences
--- user_files
>>> seq.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/counter', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'n=1'}}
--- config
    location = /counter {
        mock_replay html/seq.yaml;
    }
    location /strict/ {
        mock_replay html/seq.yaml;
        mock_upstream http://svc/;
        mock_match method host path query;
    }
--- request eval
["GET /counter", "GET /strict/counter"]
--- response_body eval
["n=1", "n=1"]
--- no_error_log
[error]
