# Timing and streams: the configuration errors.  A bad "mock_latency
# recorded" scale, and cassettes whose x_mock timing or chunks are wrong
# (chunks that do not add up to the body, a chunk's string that is not
# the body's, times out of order), each named with file, line and column.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: configuration error: a scale of 0
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency recorded x0;
    }
--- must_die
--- error_log eval
qr{"mock_latency": the scale of "recorded" is "x" and a number above 0 and at most 100, with up to 3 decimals, such as "x0\.5" in \S+nginx\.conf:\d+}



=== TEST 2: configuration error: a negative scale
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency recorded x-1;
    }
--- must_die
--- error_log eval
qr{"mock_latency": the scale of "recorded" is "x" and a number above 0 and at most 100, with up to 3 decimals, such as "x0\.5" in \S+nginx\.conf:\d+}



=== TEST 3: configuration error: a huge scale
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency recorded x1000;
    }
--- must_die
--- error_log eval
qr{"mock_latency": the scale of "recorded" is "x" and a number above 0 and at most 100, with up to 3 decimals, such as "x0\.5" in \S+nginx\.conf:\d+}



=== TEST 4: configuration error: a scale without its x
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency recorded 0.5;
    }
--- must_die
--- error_log eval
qr{"mock_latency": the scale of "recorded" is "x" and a number above 0 and at most 100, with up to 3 decimals, such as "x0\.5" in \S+nginx\.conf:\d+}



=== TEST 5: configuration error: a scale with too many decimals
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency recorded x0.0001;
    }
--- must_die
--- error_log eval
qr{"mock_latency": the scale of "recorded" is "x" and a number above 0 and at most 100, with up to 3 decimals, such as "x0\.5" in \S+nginx\.conf:\d+}



=== TEST 6: configuration error: an empty scale
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency recorded x;
    }
--- must_die
--- error_log eval
qr{"mock_latency": the scale of "recorded" is "x" and a number above 0 and at most 100, with up to 3 decimals, such as "x0\.5" in \S+nginx\.conf:\d+}



=== TEST 7: configuration error: a seed after recorded
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
        mock_latency recorded x0.5 seed=1;
    }
--- must_die
--- error_log eval
qr{"mock_latency": "recorded" takes at most a scale after it, such as "x0\.5" in \S+nginx\.conf:\d+}



=== TEST 9: cassette error: chunks that add up to less than the body
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {at: 0ms, size: 9}
    - {at: 10ms, size: 8}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 10, column 5: the chunks add up to 17 bytes, not to the body\'s 18}



=== TEST 10: cassette error: chunks that add up to more than the body
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {at: 0ms, size: 9}
    - {at: 10ms, size: 10}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 11, column 7: the chunks up to chunk 1 add up to more than the body\'s 18 bytes}



=== TEST 11: cassette error: a chunk's string that is not the body's
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {at: 0ms, string: "data: a\n\n"}
    - {at: 10ms, string: "data: c\n\n"}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 11, column 26: "string" of chunk 1 is not the body\'s next 9 bytes, from byte 9 on}



=== TEST 12: cassette error: chunks out of order in time
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {at: 100ms, size: 9}
    - {at: 10ms, size: 9}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 11, column 7: chunk 1 comes at 10ms, before the chunk before it \(100ms\)}



=== TEST 13: cassette error: a chunk of no bytes
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {at: 0ms, size: 0}
    - {at: 10ms, size: 18}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 10, column 23: "size" of a chunk must be a number of bytes above 0}



=== TEST 14: cassette error: a chunk without its size
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {at: 0ms}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 10, column 7: a chunk needs "size" or "string"}



=== TEST 15: cassette error: a chunk without its time
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {size: 18}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 10, column 7: a chunk needs "at", its time after the header}



=== TEST 16: cassette error: a chunk that is no mapping
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - 18
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 10, column 7: a chunk must be a mapping with "at" and "size" or "string"}



=== TEST 17: cassette error: an empty list of chunks
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks: []
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 9, column 13: "chunks" of "x_mock" must be a sequence of 1 to 4096 chunks}



=== TEST 18: cassette error: a time that is none
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    timing: {wait: soon, receive: 10}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 9, column 20: a time of "x_mock" is milliseconds, such as "120" or "45\.021", or a time such as "120ms" or "2s", at most 24h}



=== TEST 19: cassette error: timing with a key HAR has not
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    timing: {wait: 10, header: 10}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 9, column 24: "timing" of "x_mock" has "send", "wait" and "receive", not "header"}



=== TEST 20: cassette error: timing that is no mapping
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    timing: 10ms
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 9, column 13: "timing" of "x_mock" must be a mapping of "send", "wait" and "receive"}



=== TEST 21: cassette error: x_mock latency with a bad scale
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    latency: recorded x0
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 9, column 14: "latency" of "x_mock" is not a latency: the scale of "recorded"}



=== TEST 22: cassette error: a time with no digit
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [text/event-stream]}
    body: {string: "data: a\n\ndata: b\n\n"}
  x_mock:
    chunks:
    - {at: '.', size: 18}
--- config
    location /api/ {
        mock_replay html/c.yaml;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+c\.yaml", line 10, column 12: a time of "x_mock" is milliseconds}
