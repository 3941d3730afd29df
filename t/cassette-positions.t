# A byte that libyaml's reader refuses is placed by line and column as
# libyaml's parser counts them: a byte order mark at the start is not a
# character, NEL, LS and PS end lines, and a UTF-16 cassette is counted
# in characters.  Each block puts the control byte 0x01 where a "@" gives
# a parser error, and expects the line and column libyaml gives that "@".

use Test::Nginx::Socket 'no_plan';
use Encode ();

sub main::utf16 {
    my ($enc, $text) = @_;
    my $bom = $enc eq 'UTF-16LE' ? "\xff\xfe" : "\xfe\xff";
    return $bom . Encode::encode($enc, $text);
}

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a parser error, for comparison: LS ends a line
--- user_files eval
[["bad.yaml" => "version: 1\ninteractions: []\nx: \"a\xe2\x80\xa8b\"\ny: @\n"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 5, column 4: found character that cannot start any token}



=== TEST 2: a control byte after a quoted LS
--- user_files eval
[["bad.yaml" => "version: 1\ninteractions: []\nx: \"a\xe2\x80\xa8b\"\ny: \x01\n"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 5, column 4: control characters are not allowed \(0x01\)}



=== TEST 3: a control byte after a quoted PS
--- user_files eval
[["bad.yaml" => "version: 1\ninteractions: []\nx: \"a\xe2\x80\xa9b\"\ny: \x01\n"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 5, column 4: control characters are not allowed \(0x01\)}



=== TEST 4: a control byte after a quoted NEL
--- user_files eval
[["bad.yaml" => "version: 1\ninteractions: []\nx: \"a\xc2\x85b\"\ny: \x01\n"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 5, column 4: control characters are not allowed \(0x01\)}



=== TEST 5: a control byte on the first line, after a byte order mark
--- user_files eval
[["bad.yaml" => "\xef\xbb\xbfversion: \x01\n"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 1, column 10: control characters are not allowed \(0x01\)}



=== TEST 6: a control byte after CR LF line ends and UTF-8 text
--- user_files eval
[["bad.yaml" => "version: 1\r\ninteractions: []\r\nx: [\xc3\xa9, \x01]\r\n"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 8: control characters are not allowed \(0x01\)}



=== TEST 7: a control byte in UTF-16LE, after a character of two code units
--- user_files eval
[["bad.yaml" => main::utf16('UTF-16LE', "version: 1\ninteractions: []\nx: [\x{1F600}, \x01]\n")]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 8: control characters are not allowed \(0x01\)}



=== TEST 8: a control byte in UTF-16BE
--- user_files eval
[["bad.yaml" => main::utf16('UTF-16BE', "version: 1\ninteractions: []\nx: [\x{1F600}, \x01]\n")]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 8: control characters are not allowed \(0x01\)}



=== TEST 9: a parser error in UTF-16LE, for comparison
--- user_files eval
[["bad.yaml" => main::utf16('UTF-16LE', "version: 1\ninteractions: []\nx: [\x{1F600}, @]\n")]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 8: found character that cannot start any token}



=== TEST 10: UTF-16LE that ends in the middle of a code unit
--- user_files eval
[["bad.yaml" => main::utf16('UTF-16LE', "version: 1\ninteractions: []\nx: [\x{1F600}, ") . "a"]]
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 3, column 8: incomplete UTF-16 character}



=== TEST 11: a UTF-16 cassette loads and replays
--- user_files eval
[["ok.yaml" => main::utf16('UTF-16LE', "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://svc/x'}\n  response: {status: {code: 200, message: OK}, body: {string: 'h\x{e9}llo \x{2713}'}}\n")]]
--- config
    location / {
        mock_replay html/ok.yaml;
    }
--- request
GET /x
--- response_body eval
"h\xc3\xa9llo \xe2\x9c\x93"
--- no_error_log
[error]
