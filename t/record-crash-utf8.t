# A recording cut short by a crash, in a cassette with UTF-8 text.
#
# libyaml counts positions in characters, the loader finds the end of
# the last complete interaction in bytes.  A cassette whose recorded
# bodies hold text outside ASCII ("héllo ✓", Japanese, Cyrillic) has more
# bytes than characters, and its incomplete last interaction must still
# be left out at load (replay answers the complete ones, the file stays
# as it is) and cut off at the right byte by a start that records into
# it.  The cassettes are written as nginx records them: the comment
# head, then items that each end with a "# recorded" line; the torn item
# is the first part of one more such item.

use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_SERVER_PORT} ||= server_port();

our $Head = "# recorded by nginx: new interactions are appended at the end\n"
            . "version: 1\ninteractions:\n";

# 32 characters in 64 bytes
our $Text = 'héllo ✓ — こんにちは、世界 — Привет, мир';

# one item as nginx records GET http://svc$path answered with $body
sub main::item {
    my ($path, $body) = @_;
    return <<"YAML";
- request:
    body: null
    headers:
      "Host":
      - "svc"
      "Accept-Language":
      - "fr-CH, ja;q=0.9"
    method: "GET"
    uri: "http://svc$path"
  response:
    body:
      string: "$body"
    headers:
      "Content-Type":
      - "text/plain; charset=utf-8"
      "Content-Language":
      - "fr"
    status:
      code: 200
      message: "OK"
# recorded 2024-05-01T10:00:00+00:00
YAML
}

# the head and the complete items for /api/1 to /api/$n
sub main::recorded {
    my ($n, $body) = @_;
    return $Head . join '', map { main::item("/api/$_", $body) } 1 .. $n;
}

# the first half of the item for $path, up to a whole character
sub main::half {
    my ($path, $body) = @_;
    my $item = main::item($path, $body);
    my $len = int(length($item) / 2);
    $len-- while (ord(substr($item, $len, 1)) & 0xc0) == 0x80;
    return substr($item, 0, $len);
}

our $Valid = main::recorded(12, $Text);
our $Torn = $Valid . main::half('/api/13', $Text);

# torn in the middle of the three bytes of "✓"
our $InChar = do {
    my $item = main::item('/api/13', $Text);
    substr($item, 0, index($item, '✓') + 1);
};

our $One = main::recorded(1, 'héllo ✓');

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: replay leaves out a torn item after interactions with UTF-8 bodies
--- user_files eval
[["torn.yaml" => $main::Torn]]
--- config
    location /api/ {
        mock_replay html/torn.yaml;
    }
    location = /cassette {
        default_type text/plain;
        alias html/torn.yaml;
    }
--- request eval
["GET /api/1", "GET /api/12", "GET /api/13", "GET /cassette"]
--- error_code eval
[200, 200, 404, 200]
--- response_body_like eval
[qr/\A\Q$main::Text\E\z/, qr/\A\Q$main::Text\E\z/,
 qr/no recorded interaction matches GET \/api\/13/,
 qr/\A\Q$main::Torn\E\z/]
--- no_error_log
[error]



=== TEST 2: a write killed after its first two bytes, after one "héllo ✓"
--- user_files eval
[["torn.yaml" => $main::One . "- "]]
--- config
    location /api/ {
        mock_replay html/torn.yaml;
    }
--- request eval
["GET /api/1", "GET /api/2"]
--- error_code eval
[200, 404]
--- response_body_like eval
[qr/\Ahéllo ✓\z/, qr/no recorded interaction matches GET \/api\/2/]
--- no_error_log
[error]



=== TEST 3: a write cut in the middle of a UTF-8 character
--- user_files eval
[["torn.yaml" => $main::Valid . $main::InChar]]
--- config
    location /api/ {
        mock_replay html/torn.yaml;
    }
--- request eval
["GET /api/12", "GET /api/13"]
--- error_code eval
[200, 404]
--- response_body_like eval
[qr/\A\Q$main::Text\E\z/, qr/no recorded interaction matches GET \/api\/13/]
--- no_error_log
[error]



=== TEST 4: a start that records cuts the torn item off where it begins
--- user_files eval
[["torn.yaml" => $main::Torn]]
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/torn.yaml;
        mock_mode record;
    }
    location /backend/ {
        return 200 "live";
    }
    location = /cassette {
        default_type text/plain;
        alias html/torn.yaml;
    }
--- request
GET /cassette
--- response_body eval
$main::Valid
--- error_log eval
[qr/\[warn\] .*removed an incomplete interaction after byte ${\ length $main::Valid} of cassette "\S+\/html\/torn\.yaml"/]
--- no_error_log
[error]



=== TEST 5: recording goes on after the last complete interaction
--- user_files eval
[["torn.yaml" => $main::Torn]]
--- config
    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_upstream http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
        mock_replay html/torn.yaml;
        mock_mode record;
    }
    location /backend/ {
        default_type "text/plain; charset=utf-8";
        return 200 "ça marche ✓";
    }
    location = /cassette {
        default_type text/plain;
        alias html/torn.yaml;
    }
--- request eval
["GET /api/new", "GET /cassette"]
--- response_body_like eval
[qr/\Aça marche ✓\z/,
 qr{\A\Q$main::Valid\E-\ request:\n (?:(?!-\ request:).)*
    \n\ {4}uri:\ "http://127\.0\.0\.1:\d+/backend/new"\n
    (?:(?!-\ request:).)*
    \n\ {6}string:\ "ça\ marche\ ✓"\n
    (?:(?!-\ request:).)* \n\#\ recorded\ \S+\n\z}sx]
--- no_error_log
[error]
