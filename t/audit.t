# The audit of the admin API: each request that may change something
# (POST, PUT, DELETE) is written when it ends, with the client's address,
# its user, the endpoint, its arguments and body, and the status it got;
# to the error log at "notice", or to the file that mock_audit_log names.
# Values are quoted, with every byte that is not printable ASCII, a quote
# or a backslash as \xHH: no CR or LF can start a line of its own.

use Test::Nginx::Socket 'no_plan';

our $CASSETTE = <<'YAML';
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: 'one'}}
YAML

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("user_files", ">>> c.yaml\n$CASSETTE")
        unless defined $block->user_files;
});

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a change goes to the error log at notice, with who, what and how it ended
--- config
    location / {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request
POST /_mock/reset?session=s1
--- more_headers
Content-Type: application/json
Authorization: Basic YWxpY2U6cHc=
--- error_code: 200
--- error_log eval
qr/\[notice\] .* mock audit: client="127\.0\.0\.1" user="alice" method="POST" endpoint="reset" args="session=s1" body="" bytes=0 status=200,/
--- no_error_log
[error]



=== TEST 2: the body is in the line, quoted
--- config
    location / {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request
POST /_mock/latency
{"session": "s1", "latency": "10ms"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- error_log eval
qr/\[notice\] .* mock audit: client="127\.0\.0\.1" user=- method="POST" endpoint="latency" args="" body="\{\\x22session\\x22: \\x22s1\\x22, \\x22latency\\x22: \\x2210ms\\x22\}" bytes=36 status=200,/



=== TEST 3: edits are audited, those refused too, with their status
--- config
    location / {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request
DELETE /_mock/interactions/5
--- more_headers
Content-Type: application/json
--- error_code: 404
--- error_log eval
qr/\[notice\] .* mock audit: [^\n]* method="DELETE" endpoint="interactions\/5" args="" body="" bytes=0 status=404,/



=== TEST 4: reading is not audited
--- config
    location / {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request
GET /_mock/interactions
--- error_code: 200
--- no_error_log
mock audit:
[error]



=== TEST 5: CR and LF in the user, the arguments and the body are escaped
--- config
    location / {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
"POST /_mock/reset?session=a%0d%0aX
{\"session\": \"b\",\r\n\"x\": 1}"
--- more_headers
Content-Type: application/json
Authorization: Basic ZXYNCmlsOng=
--- error_code: 200
--- error_log eval
qr/mock audit: client="127\.0\.0\.1" user="ev\\x0d\\x0ail" method="POST" endpoint="reset" args="session=a%0d%0aX" body="\{\\x22session\\x22: \\x22b\\x22,\\x0d\\x0a\\x22x\\x22: 1\}" bytes=\d+ status=200,/
--- no_error_log
[error]



=== TEST 6: mock_audit_log writes the lines, with their time, to a file of their own
--- config
    location / {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
        mock_audit_log logs/audit.log;
    }
    location = /audit {
        default_type text/plain;
        alias logs/audit.log;
    }
--- request eval
["POST /_mock/reload", "POST /_mock/fault
{\"session\": \"s1\", \"fault\": \"reset\"}", "POST /_mock/nothing", "GET /audit"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 404, 200]
--- response_body_like eval
["", "", "", qr{\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d client="127\.0\.0\.1" user=- method="POST" endpoint="reload" args="" body="" bytes=0 status=200
\S+ client="127\.0\.0\.1" user=- method="POST" endpoint="fault" args="" body="\{\\x22session\\x22: \\x22s1\\x22, \\x22fault\\x22: \\x22reset\\x22\}" bytes=35 status=200
\S+ client="127\.0\.0\.1" user=- method="POST" endpoint="nothing" args="" body="" bytes=0 status=404
\z}]
--- no_error_log
mock audit:



=== TEST 7: mock_audit_log twice in one place is an error
--- config
    location /_mock {
        mock_admin;
        mock_audit_log logs/a.log;
        mock_audit_log logs/b.log;
    }
--- must_die
--- error_log
"mock_audit_log" directive is duplicate
