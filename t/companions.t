# The mock module loaded next to the modules a gateway already loads from
# Debian's packages: ndk, lua (with the lua-resty-core libraries it needs
# to start), njs, headers-more, brotli, srcache and echo.
#
# This file runs an nginx of its own (master and two workers) under
# t/servroot-companions/, because it reloads it, and talks to it with
# HTTP::Tiny.  Everything is checked twice: with the mock module's
# load_module line before the others and after them (ndk always comes
# before lua and srcache, which need it).
#
#   - "nginx -t" passes without a warning, and so does a reload (HUP);
#   - replayed answers go through gzip and brotli on the way out, and
#     through more_set_headers and more_clear_headers;
#   - recording under gzip, brotli, headers-more and lua's header and
#     body filters stores the upstream's bytes and headers, not what the
#     client gets; a body the upstream compressed itself is stored as
#     it came, with its Content-Encoding, and reaches the client
#     compressed once;
#   - mock_session computed by njs (js_set) or by lua (set_by_lua_block)
#     picks the session's own cassette;
#   - srcache serves a replayed answer from its cache, and echo and lua
#     subrequests reach a replaying location; a subrequest to a
#     recording location is proxied, not recorded;
#   - a run of the suite whose TEST_NGINX_LOAD_MODULES lists the
#     companions with the mock module, as a gateway's run does, finds the
#     mock module wherever it is listed, and the suite's own nginx
#     instances load every module listed, in that order, as Test::Nginx
#     does.
#
# The modules come from Debian's packages, which scripts/install-deps.sh
# installs; without them the file is skipped.

use strict;
use warnings;

use Test::More;
use FindBin;
use HTTP::Tiny;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use JSON::PP ();

use lib "$FindBin::Bin/lib";
use MockTest qw(PYTHON skip_under_valgrind module_under_test server_port
                lock_run write_file run_cmd);

skip_under_valgrind('the companion modules are not run under valgrind');

my $module = module_under_test();

my $dir = '/usr/lib/nginx/modules';

# The companions in an order that works: a module after those it needs.
my @companions = map { "$dir/$_.so" } qw(
    ndk_http_module
    ngx_http_lua_module
    ngx_http_js_module
    ngx_http_headers_more_filter_module
    ngx_http_brotli_filter_module
    ngx_http_srcache_filter_module
    ngx_http_echo_module
);

my @missing = grep { !-f } @companions;
plan skip_all => "not installed: @missing (scripts/install-deps.sh "
                 . 'installs them)' if @missing;

if (system('brotli --version >/dev/null 2>&1') != 0) {
    plan skip_all => 'no brotli command (apt-get install brotli)';
}

my $port = server_port(41);
my $root = "$FindBin::Bin/servroot-companions";
my $conf = "$root/conf/nginx.conf";
my $WAIT = 10;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => 2,
                                 wait => $WAIT);

# What the upstreams answer (echo ends it with a newline).
my $plain  = qq({"upstream": "plain", "list": [1, 2, 3, 4, 5, 6, 7, 8]});
my $zipped = qq({"upstream": "zipped", "list": [1, 2, 3, 4, 5, 6, 7, 8]});

# What the cassette replays.
my $users = '{"users": [{"id": 1, "name": "alice"}, {"id": 2, "name": '
            . '"bob"}, {"id": 3, "name": "carol"}]}';

{
    my @listed = ($companions[0], $module, @companions[1 .. $#companions]);
    local $ENV{TEST_NGINX_LOAD_MODULES} = "@listed";
    is(MockTest::module_under_test(), $module, 'the mock module is found '
       . 'among the companions in TEST_NGINX_LOAD_MODULES');
    my $other = MockTest::Nginx->new(root => "$root-listed", module => $module);
    my @loaded = $other->conf_head =~ /^load_module (\S+);$/mg;
    is("@loaded", "@listed", '... and an nginx of the suite loads them all, '
                             . 'in their order');
}

for my $order ('first', 'last') {
    run_order($order);
}

$nginx->stop;
ok(!$nginx->masters_of_this_root, 'nginx stopped');

done_testing();


#---------------------------------------------------------------------------
# One load order
#---------------------------------------------------------------------------

sub run_order {
    my ($order) = @_;
    my $label = "mock module $order";

    $nginx->stop;
    $nginx->fresh_root('conf', 'logs', 'cassettes', 'sessions', 'js');
    write_files();

    my @modules = $order eq 'first' ? ($module, @companions)
                                    : (@companions, $module);
    write_file($conf, $nginx->conf_head(modules => \@modules) . http_conf());

    my ($rc, $out, $err) = $nginx->test_config;
    is($rc, 0, "$label: nginx -t passes") or diag($err);
    is(join("\n", grep { !/syntax is ok|test is successful/ }
                       split /\n/, $err), '',
       "$label: nginx -t says nothing else");

    $nginx->start;

    check_replay($label);
    check_recording($label);
    check_sessions($label);
    check_subrequests($label);

    # A reload logs nothing above a notice, and the new workers answer.
    my $before = length $nginx->error_log;
    $nginx->reload;
    my $log = substr($nginx->error_log, $before);
    is(join("\n", grep { /\[(warn|error|crit|alert|emerg)\]/ }
                       split /\n/, $log), '',
       "$label: the reload is clean");
    my $r = get('/api/users', 'Accept-Encoding' => 'gzip');
    is(gunzipped($r), $users, "$label: after the reload, replay and gzip "
                              . 'still work');
    $r = get('/lua/c', 'X-User' => 'alice');
    is("$r->{status} $r->{content}", '200 alice by lua',
       "$label: after the reload, lua still computes the session");

    my @bad = grep { /\[(error|crit|alert|emerg)\]|exited on signal/ }
                   split /\n/, $nginx->error_log;
    is(scalar(@bad), 0, "$label: no error, alert or crash in the error log")
        or diag(join "\n", @bad);
}


#---------------------------------------------------------------------------
# The checks
#---------------------------------------------------------------------------

sub check_replay {
    my ($label) = @_;

    my $r = get('/api/users', 'Accept-Encoding' => 'gzip');
    is(header($r, 'content-encoding'), 'gzip',
       "$label: a replayed answer is gzipped for a client that takes it");
    is(gunzipped($r), $users, "$label: ... and unzips to the recording");
    is(header($r, 'x-mock'), 'replay; hit', "$label: ... replayed");

    $r = get('/api/users', 'Accept-Encoding' => 'br');
    is(header($r, 'content-encoding'), 'br',
       "$label: a replayed answer is brotli-compressed for a client that "
       . 'takes it');
    is(unbrotli($r->{content}), $users,
       "$label: ... and decompresses to the recording");

    $r = get('/api/users');
    is("$r->{status} $r->{content}", "200 $users",
       "$label: a client that takes neither gets the recording as it is");
    is(header($r, 'x-recorded'), 'edited',
       "$label: more_set_headers edits a recorded header");
    is(header($r, 'x-gateway'), '1', "$label: ... and adds one");
    ok(!defined header($r, 'x-drop'),
       "$label: more_clear_headers drops a recorded header");

    $r = get('/quiet/users');
    is("$r->{status} $r->{content}", "200 $users",
       "$label: a location that hides X-Mock replays");
    ok(!defined header($r, 'x-mock'),
       "$label: ... and more_clear_headers drops X-Mock");
}

sub check_recording {
    my ($label) = @_;

    my $r = get('/rec/x', 'Accept-Encoding' => 'gzip');
    is(header($r, 'content-encoding'), 'gzip',
       "$label: recording: the client gets gzip");
    is(gunzipped($r), uc "$plain\n",
       "$label: ... of what lua's body filter made of the upstream's body");
    is(header($r, 'x-mock'), 'record', "$label: ... recorded");
    is(header($r, 'x-lua'), 'seen', "$label: ... through lua's header "
                                    . 'filter');

    $r = get('/rec/x', 'Accept-Encoding' => 'br');
    is(header($r, 'content-encoding'), 'br',
       "$label: recording: the client gets brotli");
    is(unbrotli($r->{content}), uc "$plain\n", "$label: ... of the same");

    my @recorded = recorded_interactions("$root/cassettes/rec.yaml");
    is(scalar(@recorded), 2, "$label: both exchanges are recorded");
    for my $i (0 .. $#recorded) {
        my $it = $recorded[$i];
        is($it->{body}, "$plain\n",
           "$label: interaction $i holds the upstream's body");
        ok(!$it->{binary}, "$label: ... as text");
        is(join(',', grep { /^(content-encoding|x-gateway|x-lua|x-mock)$/i }
                          @{ $it->{headers} }), '',
           "$label: ... and none of the headers added on the way out");
    }

    # The upstream compresses: stored as it came, sent compressed once.
    $r = get('/recz/x', 'Accept-Encoding' => 'gzip');
    is(header($r, 'content-encoding'), 'gzip',
       "$label: an upstream's gzip answer reaches the client gzipped");
    is(gunzipped($r), "$zipped\n", "$label: ... once");

    @recorded = recorded_interactions("$root/cassettes/recz.yaml");
    is(scalar(@recorded), 1, "$label: the compressed exchange is recorded");
    my $it = $recorded[0] // { headers => [], body => '' };
    ok($it->{binary}, "$label: ... its body as binary");
    is(gunzip_bytes($it->{body}), "$zipped\n",
       "$label: ... the upstream's gzip bytes");
    ok((grep { lc eq 'content-encoding' } @{ $it->{headers} }),
       "$label: ... with its Content-Encoding");
}

sub check_sessions {
    my ($label) = @_;

    my $r = get('/js/c', 'X-User' => 'alice');
    is("$r->{status} $r->{content}", '200 alice by njs',
       "$label: js_set computes the session that picks the cassette");
    is(header($r, 'x-session'), 'js-alice', "$label: ... \$mock_session");

    $r = get('/lua/c', 'X-User' => 'alice');
    is("$r->{status} $r->{content}", '200 alice by lua',
       "$label: set_by_lua_block computes the session that picks the "
       . 'cassette');
    is(header($r, 'x-session'), 'lua-alice', "$label: ... \$mock_session");

    $r = get('/lua/c', 'X-User' => 'bob');
    is($r->{status}, 404, "$label: a session without a cassette is a miss");
}

sub check_subrequests {
    my ($label) = @_;

    my $r = get('/cached/users');
    is("$r->{status} $r->{content}", "200 $users",
       "$label: srcache: the first request is replayed");
    is(header($r, 'x-status'), 'hit', "$label: ... by the mock module");
    $r = get('/cached/users');
    is("$r->{status} $r->{content}", "200 $users",
       "$label: srcache: the second is served from its cache");
    is(header($r, 'x-status') // '', '',
       "$label: ... without the mock module");

    $r = get('/echo-sub');
    is("$r->{status} $r->{content}", "200 before\none\ntwo\nafter\n",
       "$label: echo_location subrequests play the sequence");

    $r = get('/lua-sub');
    is("$r->{status} $r->{content}", "200 200 200 one\n200 two\n",
       "$label: lua subrequests play the sequence");

    # check_recording() recorded two exchanges through /rec/.
    $r = get('/lua-rec');
    is("$r->{status} $r->{content}", "200 200 " . uc("$plain\n"),
       "$label: a lua subrequest to a recording location is proxied "
       . "(through its lua body filter)");
    my @recorded = recorded_interactions("$root/cassettes/rec.yaml");
    is(scalar(@recorded), 2, "$label: ... and not recorded");
}


#---------------------------------------------------------------------------
# nginx
#---------------------------------------------------------------------------

sub write_files {
    my $interaction = sub {
        my ($path, $body, $headers) = @_;
        return "- request: {method: GET, uri: 'http://svc$path', body: "
               . "null, headers: {}}\n"
               . "  response: {status: {code: 200, message: OK}, headers: "
               . "{$headers}, body: {string: '$body'}}\n";
    };

    write_file("$root/cassettes/users.yaml", "version: 1\ninteractions:\n"
               . $interaction->('/api/users', $users,
                                'Content-Type: [application/json], '
                                . 'X-Recorded: [yes], X-Drop: [me]'));

    write_file("$root/cassettes/seq.yaml", "version: 1\ninteractions:\n"
               . join('', map { $interaction->(@$_, '') }
                              ['/seq/c', 'one'], ['/seq/c', 'two'],
                              ['/seq/d', 'one'], ['/seq/d', 'two']));

    for my $who ('njs', 'lua') {
        my $name = $who eq 'njs' ? 'js' : 'lua';
        write_file("$root/sessions/$name-alice.yaml",
                   "version: 1\ninteractions:\n"
                   . $interaction->('/c', "alice by $who", ''));
    }

    write_file("$root/js/session.js", <<'EOF');
function session(r) {
    return 'js-' + (r.headersIn['X-User'] || 'nobody');
}

export default { session };
EOF
}

sub http_conf {
    my $backend = "http://127.0.0.1:$port";

    return <<"EOF";
http {
    access_log logs/access.log;

    js_path $root/js/;
    js_import session.js;
    js_set \$js_session session.session;

    lua_shared_dict cache 1m;

    gzip on;
    gzip_types application/json;
    gzip_min_length 1;

    brotli on;
    brotli_types application/json;
    brotli_min_length 1;

    server {
        listen 127.0.0.1:$port;

        location /api/ {
            mock_replay cassettes/users.yaml;
            mock_upstream http://svc/api/;
            mock_repeats on;
            more_set_headers "X-Recorded: edited" "X-Gateway: 1";
            more_clear_headers X-Drop;
        }

        location /quiet/ {
            mock_replay cassettes/users.yaml;
            mock_upstream http://svc/api/;
            mock_repeats on;
            more_clear_headers X-Mock;
        }

        location /rec/ {
            proxy_pass $backend/backend/;
            mock_upstream $backend/backend/;
            mock_replay cassettes/rec.yaml;
            mock_mode record;
            more_set_headers "X-Gateway: 1";
            header_filter_by_lua_block {
                ngx.header["X-Lua"] = "seen"
                ngx.header.content_length = nil
            }
            body_filter_by_lua_block {
                ngx.arg[1] = string.upper(ngx.arg[1])
            }
        }

        location /recz/ {
            proxy_pass $backend/backendz/;
            mock_upstream $backend/backendz/;
            mock_replay cassettes/recz.yaml;
            mock_mode record;
        }

        location /backend/ {
            default_type application/json;
            gzip off;
            brotli off;
            echo '$plain';
        }

        location /backendz/ {
            default_type application/json;
            gzip_proxied any;
            gzip_http_version 1.0;
            brotli off;
            echo '$zipped';
        }

        location /js/ {
            mock_replay sessions;
            mock_upstream http://svc/;
            mock_repeats on;
            mock_session \$js_session;
            add_header X-Session \$mock_session always;
        }

        location /lua/ {
            set_by_lua_block \$lua_session {
                return "lua-" .. (ngx.var.http_x_user or "nobody")
            }
            mock_replay sessions;
            mock_upstream http://svc/;
            mock_repeats on;
            mock_session \$lua_session;
            add_header X-Session \$mock_session always;
        }

        location /cached/ {
            srcache_fetch GET /cache-get key=\$uri;
            srcache_store PUT /cache-put key=\$uri;
            mock_replay cassettes/users.yaml;
            mock_upstream http://svc/api/;
            add_header X-Status \$mock_status always;
        }

        location /cache-get {
            internal;
            content_by_lua_block {
                local v = ngx.shared.cache:get(ngx.var.arg_key)
                if v == nil then
                    return ngx.exit(404)
                end
                ngx.print(v)
            }
        }

        location /cache-put {
            internal;
            content_by_lua_block {
                ngx.req.read_body()
                ngx.shared.cache:set(ngx.var.arg_key, ngx.req.get_body_data())
            }
        }

        location /seq/ {
            mock_replay cassettes/seq.yaml;
            mock_upstream http://svc/seq/;
        }

        location /echo-sub {
            echo before;
            echo_location /seq/c;
            echo;
            echo_location /seq/c;
            echo;
            echo after;
        }

        location /lua-rec {
            content_by_lua_block {
                local res = ngx.location.capture("/rec/sub")
                ngx.print(res.status, " ", res.body)
            }
        }

        location /lua-sub {
            content_by_lua_block {
                local res = ngx.location.capture("/api/users")
                ngx.print(res.status, " ")
                res = ngx.location.capture("/seq/d")
                ngx.say(res.status, " ", res.body)
                res = ngx.location.capture("/seq/d")
                ngx.say(res.status, " ", res.body)
            }
        }
    }
}
EOF
}


#---------------------------------------------------------------------------
# Helpers
#---------------------------------------------------------------------------

# GET $path on a connection of its own, with the headers given; the
# body as it came, not decoded.
sub get {
    my ($path, %headers) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $WAIT);
    return $http->get("http://127.0.0.1:$port$path",
                      { headers => { 'Accept-Encoding' => 'identity',
                                     %headers } });
}

sub header {
    my ($r, $name) = @_;
    my $v = $r->{headers}{$name};
    return ref $v ? join(', ', @$v) : $v;
}

sub gunzipped {
    my ($r) = @_;
    return gunzip_bytes($r->{content});
}

sub gunzip_bytes {
    my ($in) = @_;
    my $out;
    gunzip(\$in => \$out) or return "gunzip failed: $GunzipError";
    return $out;
}

sub unbrotli {
    my ($in) = @_;
    my $file = "$root/logs/body.br";
    write_file($file, $in);
    my ($rc, $out, $err) = run_cmd('brotli', '-d', '-c', $file);
    return $rc == 0 ? $out : "brotli failed: $err";
}

# The interactions of a cassette nginx recorded, as PyYAML loads it:
# [{ body, binary, headers => [names] }, ...].
sub recorded_interactions {
    my ($file) = @_;
    my ($rc, $out, $err) = run_cmd(PYTHON, '-c', <<'EOF', $file);
import json, sys, yaml

interactions = []
for it in yaml.safe_load(open(sys.argv[1]))["interactions"] or []:
    body = it["response"]["body"]["string"]
    binary = isinstance(body, bytes)
    interactions.append({"body": body.decode("latin-1") if binary else body,
                         "binary": binary,
                         "headers": sorted(it["response"]["headers"])})
print(json.dumps(interactions))
EOF
    if ($rc != 0) {
        diag("cannot read $file: $err");
        return ();
    }
    # ASCII JSON; a binary body comes as one character per byte
    my $list = JSON::PP->new->decode($out);
    for my $it (@$list) {
        if ($it->{binary}) {
            utf8::downgrade($it->{body});
        } else {
            utf8::encode($it->{body});
        }
    }
    return @$list;
}
