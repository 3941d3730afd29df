# Bad mock_ignore and mock_repeats lines stop nginx from starting (and
# "nginx -t" from passing), naming the file, the line and the problem.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__



=== TEST 1: an unknown kind
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore cookie a;
    }
--- must_die
--- error_log eval
qr{unknown kind "cookie" in "mock_ignore", expected query, header, body or path in \S+nginx\.conf:\d+}



=== TEST 2: a kind without names
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore query;
    }
--- must_die
--- error_log eval
qr{invalid number of arguments in "mock_ignore" directive in \S+nginx\.conf:\d+}



=== TEST 3: an empty name
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore query a "";
    }
--- must_die
--- error_log eval
qr{empty name in "mock_ignore query" in \S+nginx\.conf:\d+}



=== TEST 4: a line break in a name
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore query "a\nb";
    }
--- must_die
--- error_log eval
qr{a name in "mock_ignore query" has a control character in \S+nginx\.conf:\d+}



=== TEST 5: a carriage return in a pattern
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore path "/v1/\r{id}";
    }
--- must_die
--- error_log eval
qr{a name in "mock_ignore path" has a control character in \S+nginx\.conf:\d+}



=== TEST 6: a header name with a colon
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore header "X-A:b";
    }
--- must_die
--- error_log eval
qr{invalid header name "X-A:b" in "mock_ignore header" in \S+nginx\.conf:\d+}



=== TEST 7: a JSON path with an unbalanced bracket
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore body $.a[0;
    }
--- must_die
--- error_log eval
qr{invalid JSON path "\$\.a\[0" in "mock_ignore body": unbalanced "\[" in \S+nginx\.conf:\d+}



=== TEST 8: a JSON path that names nothing
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore body $;
    }
--- must_die
--- error_log eval
qr{invalid JSON path "\$" in "mock_ignore body": names nothing after "\$" in \S+nginx\.conf:\d+}



=== TEST 9: a JSON path with an empty member
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore body $..a;
    }
--- must_die
--- error_log eval
qr{invalid JSON path "\$\.\.a" in "mock_ignore body": empty member name in \S+nginx\.conf:\d+}



=== TEST 10: a JSON path with a bad index
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore body $.a[x];
    }
--- must_die
--- error_log eval
qr{invalid JSON path "\$\.a\[x\]" in "mock_ignore body": an index is a number or "\*" in \S+nginx\.conf:\d+}



=== TEST 11: a JSON path with junk after an index
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore body $.a[1]b;
    }
--- must_die
--- error_log eval
qr{invalid JSON path "\$\.a\[1\]b" in "mock_ignore body": expected "\." or "\[" in \S+nginx\.conf:\d+}



=== TEST 12: an unbalanced { in a pattern
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore path "/v1/{id";
    }
--- must_die
--- error_log eval
qr{invalid path pattern "/v1/\{id" in "mock_ignore path": unbalanced "\{" in \S+nginx\.conf:\d+}



=== TEST 13: an unbalanced } in a pattern
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore path "/v1/id}";
    }
--- must_die
--- error_log eval
qr{invalid path pattern "/v1/id\}" in "mock_ignore path": unbalanced "\}" in \S+nginx\.conf:\d+}



=== TEST 14: a placeholder in part of a segment
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore path "/v1/x{id}";
    }
--- must_die
--- error_log eval
qr{invalid path pattern "/v1/x\{id\}" in "mock_ignore path": a placeholder must be a whole segment in \S+nginx\.conf:\d+}



=== TEST 15: a placeholder without a name
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore path "/v1/{}/x";
    }
--- must_die
--- error_log eval
qr{invalid path pattern "/v1/\{\}/x" in "mock_ignore path": a placeholder has an empty name in \S+nginx\.conf:\d+}



=== TEST 16: nested braces
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore path "/v1/{{id}}";
    }
--- must_die
--- error_log eval
qr{invalid path pattern "/v1/\{\{id\}\}" in "mock_ignore path": unbalanced "\{" in \S+nginx\.conf:\d+}



=== TEST 17: a pattern that is not a path
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore path "v1/{id}";
    }
--- must_die
--- error_log eval
qr{invalid path pattern "v1/\{id\}" in "mock_ignore path": does not begin with "/" in \S+nginx\.conf:\d+}



=== TEST 18: more than 64 JSON paths
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_ignore body $.m0 $.m1 $.m2 $.m3 $.m4 $.m5 $.m6 $.m7 $.m8 $.m9 $.m10 $.m11 $.m12 $.m13 $.m14 $.m15 $.m16 $.m17 $.m18 $.m19 $.m20 $.m21 $.m22 $.m23 $.m24 $.m25 $.m26 $.m27 $.m28 $.m29 $.m30 $.m31 $.m32 $.m33 $.m34 $.m35 $.m36 $.m37 $.m38 $.m39 $.m40 $.m41 $.m42 $.m43 $.m44 $.m45 $.m46 $.m47 $.m48 $.m49 $.m50 $.m51 $.m52 $.m53 $.m54 $.m55 $.m56 $.m57 $.m58 $.m59 $.m60 $.m61 $.m62 $.m63 $.m64;
    }
--- must_die
--- error_log eval
qr{more than 64 JSON paths in "mock_ignore body" in \S+nginx\.conf:\d+}



=== TEST 19: an unknown mock_repeats policy
--- user_files
>>> c.yaml
version: 1
interactions: []
--- config
    location / {
        mock_replay html/c.yaml;
        mock_repeats always;
    }
--- must_die
--- error_log eval
qr{invalid value "always" in \S+nginx\.conf:\d+}
