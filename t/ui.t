# The dashboard in a real browser: headless Chromium, driven by
# t/ui/dashboard.py with Selenium, loads each view of a mock that has
# served traffic; resets a session and pins an answer by clicking, which
# the admin API then shows; opens a miss and reads its report; shows a
# cassette whose body, header and URI carry markup as plain text, with no
# script of theirs run; and a page of another origin (another port) that
# posts forms and JSON to the admin changes nothing and gets 403.  Then it
# edits a response of a cassette file by typing in the edit view, which
# PUT /_mock/interactions/N saves: the admin API, a replayed request and
# the file (PyYAML) have the new answer; a header value with CR/LF is
# refused with the endpoint's error shown and the file unchanged; a
# binary body is edited as base64; an admin that refuses PUT shows no
# edit button.
#
# With UI_SCREENSHOTS=DIR (make screenshots) the script also writes a PNG
# of each view into DIR.

use strict;
use warnings;

use Test::More;
use FindBin;
use JSON::PP ();

use lib "$FindBin::Bin/lib";
use MockTest qw(PYTHON module_under_test server_port lock_run write_file
                run_cmd skip_under_valgrind json_of);

skip_under_valgrind('the browser waits with deadlines that valgrind misses');

my $module = module_under_test();

for my $need (['/usr/bin/chromium', 'chromium'],
              ['/usr/bin/chromedriver', 'chromium-driver'])
{
    plan(skip_all => "$need->[0] is missing (Debian: apt-get install "
                     . "$need->[1]; scripts/install-deps.sh installs it)")
        unless -x $need->[0];
}

plan(skip_all => PYTHON . ' has no selenium (Debian: apt-get install '
                 . 'python3-selenium)')
    if system(PYTHON . " -c 'import selenium' >/dev/null 2>&1") != 0;

my $port = server_port(221);
my $other = server_port(222);
# the pictures show paths under a root that says nothing of this tree
my $root = $ENV{UI_SCREENSHOTS} ? '/tmp/mock-dashboard'
                                : "$FindBin::Bin/servroot-ui";
my $conf = "$root/conf/nginx.conf";

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => 2);

$nginx->fresh_root('conf', 'logs', 'cassettes', 'html', 'chrome');

# A PNG's first bytes, as vcrpy writes a binary body.
my $png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q"
          . "DwADhgGAWjR9awAAAABJRU5ErkJggg==";

write_file("$root/cassettes/api.yaml", <<"EOF");
version: 1
interactions:
- request: {method: GET, uri: 'http://svc/api/users/1', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1, "name": "first", "tags": ["a", "b"]}'}
- request: {method: GET, uri: 'http://svc/api/users/1', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '{"id": 1, "name": "second"}'}
- request: {method: GET, uri: 'http://svc/api/logo.png', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [image/png]}
    body:
      string: !!binary |
        $png
- request: {method: GET, uri: 'http://svc/api/xss?q=<img src=x onerror=window.__xss=5>', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [text/html]
      X-Evil: ['<script>window.__xss=3</script>']
    body: {string: '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'}
EOF

write_file("$root/cassettes/other.yaml", <<"EOF");
version: 1
interactions:
- request: {method: POST, uri: 'http://svc/other/items', body: '{"a": 1}', headers: {}}
  response:
    status: {code: 201, message: Created}
    headers: {}
    body: {string: 'made'}
EOF

# The other origin's page: a form that would reset every session, one
# that would pin an answer (text/plain, its body JSON-looking), and a
# script that sends JSON; it tells what happened in its title.
write_file("$root/html/attack.html", <<"EOF");
<!doctype html>
<title>waiting</title>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="f1" method="POST" target="sink1"
      action="http://127.0.0.1:$port/_mock/reset"></form>
<form id="f2" method="POST" target="sink2" enctype="text/plain"
      action="http://127.0.0.1:$port/_mock/force">
<input name='{"session": "victim", "method": "GET", "path": "/api/users/1", "interaction": 1, "store": 0, "x": "' value='"}'>
</form>
<script>
document.getElementById('f1').submit();
document.getElementById('f2').submit();
fetch('http://127.0.0.1:$port/_mock/reset?session=victim', {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'
}).then(function () { document.title = 'fetch answered'; },
        function () { document.title = 'fetch blocked'; });
</script>
EOF

write_file($conf, $nginx->conf_head . <<"EOF");
http {
    access_log off;

    server {
        listen 127.0.0.1:$port;

        location /api/ {
            mock_replay cassettes/api.yaml;
            mock_session \$http_x_test_id;
        }

        location /other/ {
            mock_replay cassettes/other.yaml;
            mock_mode replay;
        }

        location /_mock {
            allow 127.0.0.1;
            deny all;
            mock_admin;
        }

        # an admin that only reads: its PUTs are refused with 403
        location /ro/_mock {
            mock_admin;
            limit_except GET {
                deny all;
            }
        }
    }

    server {
        listen 127.0.0.1:$other;
        root html;
    }
}
EOF

$nginx->start;

# traffic: a hit, a miss, markup in a session and a URI
my $http = HTTP::Tiny->new(keep_alive => 0, timeout => 10);

sub send_as {
    my ($session, $path) = @_;
    return $http->get("http://127.0.0.1:$port$path",
                      { headers => { 'X-Test-Id' => $session } });
}

is(send_as('s1', '/api/users/1')->{status}, 200, 'traffic: a hit');
is(send_as('s1', '/api/nothing/here')->{status}, 404, 'traffic: a miss');
is(send_as('<img src=x onerror=window.__xss=4>', '/api/users/1?<b>x</b>')
       ->{status}, 404, 'traffic: markup in a session and a URI');
is(send_as('victim', '/api/users/1')->{status}, 200,
   'traffic: the session the other origin goes after');
is(send_as('a b', '/api/users/1')->{status}, 200,
   'traffic: a session with a space');

# the page, its headers, and a second load that the ETag saves
my $r = $http->get("http://127.0.0.1:$port/_mock/ui/");
is($r->{status}, 200, 'GET /_mock/ui/ serves the dashboard');
like($r->{headers}{'content-security-policy'} // '',
     qr/default-src 'self'; script-src 'self'/, 'a strict CSP');
is($r->{headers}{'x-frame-options'}, 'DENY', 'no framing');
is($r->{headers}{'x-content-type-options'}, 'nosniff', 'no sniffing');
ok(!exists $r->{headers}{'access-control-allow-origin'}, 'no CORS header');
unlike($r->{content}, qr/<script>|\son\w+=/, 'no inline script in the page');
my $etag = $r->{headers}{etag} // '';
$r = $http->get("http://127.0.0.1:$port/_mock/ui/",
                { headers => { 'If-None-Match' => $etag } });
is($r->{status}, 304, 'the ETag answers 304');

$r = HTTP::Tiny->new(max_redirect => 0)
    ->get("http://127.0.0.1:$port/_mock/ui");
is($r->{status}, 301, '/_mock/ui is sent to /_mock/ui/');
is($r->{headers}{location}, 'ui/', 'with a relative reference');

my $api = "$root/cassettes/api.yaml";

# The browser script's part, its lines of "ok" and "not ok" made checks.
sub browse {
    my ($part, $least) = @_;
    my @cmd = (PYTHON, "$FindBin::Bin/ui/dashboard.py", '--part', $part,
               '--admin', "http://127.0.0.1:$port/_mock/",
               '--api', "http://127.0.0.1:$port/api/",
               '--other', "http://127.0.0.1:$other/attack.html",
               '--readonly', "http://127.0.0.1:$port/ro/_mock/",
               '--cassette', $api,
               '--profile', "$root/chrome");
    push @cmd, '--screenshots', $ENV{UI_SCREENSHOTS}
        if $ENV{UI_SCREENSHOTS};

    my ($rc, $out, $err) = run_cmd(@cmd);

    my $checks = 0;
    for my $line (split /\n/, $out) {
        if ($line =~ /^(not )?ok (.*)$/) {
            ok(!$1, $2);
            $checks++;
        } else {
            diag($line);
        }
    }
    is($rc, 0, "the browser script's $part ran to its end") or diag($err);
    cmp_ok($checks, '>=', $least,
           "the browser script's $part made its checks ($checks)");
}

browse('views', 20);

# the other origin changed nothing: its requests were refused
my $log = $nginx->error_log;
like($log, qr/admin POST refused: neither a JSON content type/,
     'the cross-site POSTs were refused');
my $forced = json_of($http->get("http://127.0.0.1:$port/_mock/sessions"
                                . "?session=victim"));
is_deeply($forced->{forced}, [], 'no answer was pinned for the victim');
my $plays = json_of($http->get("http://127.0.0.1:$port/_mock/interactions"
                               . "?session=victim&store=0"));
is((grep { $_->{plays} } @{ $plays->{interactions} || [] })[0]{interaction},
   0, "the victim's play is still counted: nothing was reset");
unlike($log, qr/admin reset the counters of all/,
       'no reset of all sessions happened');

# Edits come last: each starts every session anew.
browse('edit', 14);

$nginx->stop;

done_testing();
