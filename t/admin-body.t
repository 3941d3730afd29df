# The admin API reads a body of at most 64 KB, however it is framed:
# past that it answers 413 with a JSON error and does nothing, whether
# the body has a Content-Length or comes chunked, at once or slowly.

use Test::Nginx::Socket 'no_plan';

# A reset body of exactly $len bytes: {"session": "s1", "pad": "x..."}
sub main::reset_body {
    my ($len) = @_;
    my $head = '{"session": "s1", "pad": "';
    return $head . ('x' x ($len - length($head) - 2)) . '"}';
}

# The head of a chunked POST /_mock/reset.
sub main::chunked_head {
    return "POST /_mock/reset HTTP/1.1\r\nHost: localhost\r\n"
           . "Content-Type: application/json\r\n"
           . "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
}

# $body in chunks of $size bytes, each one string, and the last chunk.
sub main::chunks {
    my ($body, $size) = @_;
    my @chunks;
    for (my $i = 0; $i < length $body; $i += $size) {
        my $part = substr($body, $i, $size);
        push @chunks, sprintf("%x\r\n%s\r\n", length $part, $part);
    }
    return (@chunks, "0\r\n\r\n");
}

# The whole chunked request, in one string.
sub main::chunked_request {
    my ($body, $size) = @_;
    return CORE::join('', main::chunked_head(), main::chunks($body, $size));
}

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: a body with a Content-Length over 64 KB is refused before it is read
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /c {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- request eval
"POST /_mock/reset\n" . main::reset_body(65537)
--- more_headers
Content-Type: application/json
--- error_code: 413
--- response_body_like
^\{"error": "the body is larger than 65536 bytes"\}$
--- response_headers
Content-Type: application/json
--- no_error_log
admin reset the counters
[error]



=== TEST 2: a chunked body of 64 KB and a byte, sent at once, is refused
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /c {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- raw_request eval
main::chunked_request(main::reset_body(65537), 8192)
--- error_code: 413
--- response_body_like
^\{"error": "the body is larger than 65536 bytes"\}$
--- response_headers
Content-Type: application/json
--- no_error_log
admin reset the counters
[error]



=== TEST 3: a chunked body of exactly 64 KB is read and acted on
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /c {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- raw_request eval
main::chunked_request(main::reset_body(65536), 8192)
--- response_body_like
^\{"reset": "s1", "counters": 0\}$
--- error_log
admin reset the counters of session s1
--- no_error_log
[error]



=== TEST 4: a chunked body over 64 KB, in small slow chunks, is refused
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /c {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- raw_request eval
[main::chunked_head(), main::chunks(main::reset_body(80000), 1000)]
--- raw_request_middle_delay: 0.01
--- timeout: 10
--- error_code: 413
--- response_body_like
^\{"error": "the body is larger than 65536 bytes"\}$
--- no_error_log
admin reset the counters
[error]



=== TEST 5: a chunked body under 64 KB, in small slow chunks, is read whole
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /c {
        mock_replay html/c.yaml;
    }
    location /_mock {
        mock_admin;
    }
--- raw_request eval
[main::chunked_head(), main::chunks(main::reset_body(60000), 1000)]
--- raw_request_middle_delay: 0.01
--- timeout: 10
--- response_body_like
^\{"reset": "s1", "counters": 0\}$
--- error_log
admin reset the counters of session s1
--- no_error_log
[error]
