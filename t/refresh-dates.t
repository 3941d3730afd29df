# mock_refresh_dates: Date, Expires, Last-Modified and a cookie's Expires=
# move by the time since the interaction was recorded (x_mock's recorded,
# else the cassette file's time).

use Test::Nginx::Socket 'no_plan';
use POSIX ();

repeat_each(1);
no_shuffle();
no_root_location();

our $T0 = 1700000000;               # Tue, 14 Nov 2023 22:13:20 GMT

sub http_time { POSIX::strftime("%a, %d %b %Y %H:%M:%S GMT", gmtime($_[0])) }

# the dates of now + $delta, for the seconds a block may take
sub fresh {
    my ($delta) = @_;
    my $t = time;
    return join "|", map { quotemeta http_time($_ + $delta) } $t - 2 .. $t + 30;
}

sub cassette {
    my ($x_mock) = @_;
    my $d = http_time($T0);
    my $e = http_time($T0 + 3600);
    my $l = http_time($T0 - 86400);
    my $c = http_time($T0 + 86400);
    return "version: 1\ninteractions:\n"
        . "- request: {method: GET, uri: 'http://svc/d', body: null, headers: {}}\n"
        . "  response:\n"
        . "    status: {code: 200, message: OK}\n"
        . "    headers:\n"
        . "      Date: ['$d']\n"
        . "      Expires: ['$e']\n"
        . "      Last-Modified: ['$l']\n"
        . "      Set-Cookie: ['a=b; Expires=$c; Path=/', 'c=d; Path=/']\n"
        . "      X-Other: ['$d']\n"
        . "    body: {string: 'ok'}\n"
        . $x_mock;
}

run_tests();

__DATA__

=== TEST 1: moved by the time since x_mock's recorded
--- user_files eval
[["d.yaml" => main::cassette("  x_mock: {recorded: '2023-11-14T22:13:20Z'}\n")]]
--- config
    location / {
        mock_replay html/d.yaml;
        mock_repeats on;
        mock_refresh_dates on;
    }
--- request
GET /d
--- response_headers_like eval
"Date: (?:" . main::fresh(0) . ")\n"
. "Expires: (?:" . main::fresh(3600) . ")\n"
. "Last-Modified: (?:" . main::fresh(-86400) . ")\n"
. "X-Other: " . quotemeta(main::http_time($main::T0))
--- raw_response_headers_like eval
"Set-Cookie: a=b; Expires=(?:" . main::fresh(86400) . "); Path=/\r\nSet-Cookie: c=d; Path=/\r\n"
--- no_error_log
[error]



=== TEST 2: an epoch recorded time
--- user_files eval
[["d.yaml" => main::cassette("  x_mock: {recorded: 1700000000}\n")]]
--- config
    location / {
        mock_replay html/d.yaml;
        mock_repeats on;
        mock_refresh_dates on;
    }
--- request
GET /d
--- response_headers_like eval
"Date: (?:" . main::fresh(0) . ")"
--- no_error_log
[error]



=== TEST 3: without x_mock, by the time since the cassette file was written
--- user_files eval
[["d.yaml" => main::cassette("")]]
--- config
    location / {
        mock_replay html/d.yaml;
        mock_repeats on;
        mock_refresh_dates on;
    }
--- request
GET /d
--- response_headers_like eval
"Date: (?:" . join("|", map { quotemeta main::http_time($main::T0 + $_) } 0 .. 5) . ")"
--- no_error_log
[error]



=== TEST 4: off (the default): dates are sent as recorded
--- user_files eval
[["d.yaml" => main::cassette("  x_mock: {recorded: '2023-11-14T22:13:20Z'}\n")]]
--- config
    location / {
        mock_replay html/d.yaml;
        mock_repeats on;
    }
--- request
GET /d
--- response_headers eval
"Date: " . main::http_time($main::T0) . "\n"
. "Expires: " . main::http_time($main::T0 + 3600)
--- no_error_log
[error]



=== TEST 5: values that are not dates are sent as they are
--- user_files
>>> d.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/d', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      Expires: ['0']
      Set-Cookie: ['a=b; Expires=never']
    body: {string: 'ok'}
  x_mock: {recorded: '2023-11-14T22:13:20+01:00'}
--- config
    location / {
        mock_replay html/d.yaml;
        mock_repeats on;
        mock_refresh_dates on;
    }
--- request
GET /d
--- response_headers
Expires: 0
Set-Cookie: a=b; Expires=never
--- no_error_log
[error]
