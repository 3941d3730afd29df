# A template that does not parse stops nginx from starting (and "nginx -t"
# from passing) with the cassette, line, column and what is wrong, where a
# location makes it a template.  So does a malformed x_mock key.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: an unknown name, at its column
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'hello {{ request.nope }}'}
--- config
    location / {
        mock_replay html/bad.yaml;
        mock_template on;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 7, column 30: unknown name "request\.nope" in the body}



=== TEST 2: an unterminated "{{", at its column, after UTF-8 text
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: "é {{request.method}} {{ uuid"}
--- config
    location / {
        mock_replay html/bad.yaml;
        mock_template on;
    }
--- must_die
--- error_log eval
qr{line 7, column 42: unterminated "\{\{" in the body}



=== TEST 3: an unterminated string
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{{ default request.query.a "x }}'}
--- config
    location / {
        mock_replay html/bad.yaml;
        mock_template on;
    }
--- must_die
--- error_log eval
qr{line 7, column 21: unterminated string in the body}



=== TEST 4: random.int needs the smaller bound first
--- user_files
>>> a.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{{random.int 9 1}}'}
--- config
    location /a { mock_replay html/a.yaml; mock_template on; }
--- must_die
--- error_log eval
qr{line 7, column 23: "random\.int" needs the smaller bound first in the body}



=== TEST 5: random.hex is bounded
--- user_files
>>> b.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{{random.hex 257}}'}
--- config
    location /b { mock_replay html/b.yaml; mock_template on; }
--- must_die
--- error_log eval
qr{line 7, column 23: "random\.hex" needs a number of digits from 1 to 256 in the body}



=== TEST 6: now's offsets have a unit
--- user_files
>>> c.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{{now epoch +1y}}'}
--- config
    location /c { mock_replay html/c.yaml; mock_template on; }
--- must_die
--- error_log eval
qr{line 7, column 33: "now" takes a quoted format, "epoch" or "epoch_ms", then offsets such as "\+1d" or "-2h" \(s, m, h, d, w\), not "\+1y" in the body}



=== TEST 7: a JSON path that does not parse
--- user_files
>>> d.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{{request.body.$.a[x]}}'}
--- config
    location /d { mock_replay html/d.yaml; mock_template on; }
--- must_die
--- error_log eval
qr{line 7, column 23: invalid JSON path "\$\.a\[x\]"}



=== TEST 8: "as" needs a name
--- user_files
>>> e.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{{uuid as bad-name}}'}
--- config
    location /e { mock_replay html/e.yaml; mock_template on; }
--- must_die
--- error_log eval
qr{line 7, column 21: "as" needs a name of letters, digits and "_" in the body}



=== TEST 9: default needs a quoted fallback
--- user_files
>>> f.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{{default var.x}}'}
--- config
    location /f { mock_replay html/f.yaml; mock_template on; }
--- must_die
--- error_log eval
qr{line 7, column 21: "default" needs an expression and a quoted fallback in the body}



=== TEST 10: words after a name that takes none
--- user_files
>>> g.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'x {{uuid 4}}'}
--- config
    location /g { mock_replay html/g.yaml; mock_template on; }
--- must_die
--- error_log eval
qr{line 7, column 30: unexpected "4" after "uuid" in the body}



=== TEST 11: an empty expression
--- user_files
>>> h.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'x {{ }}'}
--- config
    location /h { mock_replay html/h.yaml; mock_template on; }
--- must_die
--- error_log eval
qr{line 7, column 23: empty expression in the body}



=== TEST 12: in a header value
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      Location: ['/x/{{request.path.y}}']
    body: {string: 'ok'}
--- config
    location / {
        mock_replay html/bad.yaml;
        mock_template on;
    }
--- must_die
--- error_log eval
qr{line 7, column 24: "request\.path\.N" needs a segment number in header "Location"}



=== TEST 13: in a block scalar: the scalar's position and the byte
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body:
      string: |
        line one
        {{ nope }}
--- config
    location / {
        mock_replay html/bad.yaml;
        mock_template on;
    }
--- must_die
--- error_log eval
qr{line 8, column 15: unknown name "nope" in the body, at its byte 12}



=== TEST 14: marked (the default): an interaction x_mock marks is checked
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{"id": "{{uuid}}", "n": {{seq x}}}'}
  x_mock: {templated: [$.id]}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{line 7, column 51: unexpected "x" after "seq" in the body}



=== TEST 15: x_mock must be a mapping
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'ok'}
  x_mock: [templated]
--- config
    location / {
        mock_replay html/bad.yaml;
        mock_template off;
    }
--- must_die
--- error_log eval
qr{mock: cassette "\S+/html/bad\.yaml", line 8, column 11: "x_mock" must be a mapping}



=== TEST 16: x_mock's recorded is a time
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'ok'}
  x_mock: {recorded: 'yesterday'}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{line 8, column 22: "recorded" of "x_mock" must be an RFC 3339 time in UTC}



=== TEST 17: x_mock's templated is a sequence of strings
--- user_files
>>> bad.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'ok'}
  x_mock: {templated: 3}
>>> bad2.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'ok'}
  x_mock: {templated: [{a: 1}]}
--- config
    location / {
        mock_replay html/bad.yaml;
    }
--- must_die
--- error_log eval
qr{line 8, column 23: "templated" of "x_mock" must be a sequence}



=== TEST 18: x_mock's templated members are strings
--- user_files
>>> bad2.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/a', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'ok'}
  x_mock: {templated: [{a: 1}]}
--- config
    location / {
        mock_replay html/bad2.yaml;
    }
--- must_die
--- error_log eval
qr{line 8, column 24: a member of "templated" must be a string}



=== TEST 19: a string where a word must be: the column is that of the string
--- user_files
>>> t.yaml
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/t', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: '{{ "a" "b" }} and {{now "%Y" "x"}}'}
--- config
    location / {
        mock_replay html/t.yaml;
        mock_template on;
    }
--- must_die
--- error_log eval
qr/line 7, column 28: unexpected "b" after "a"/
