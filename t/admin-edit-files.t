# Edits of cassettes through the admin API, as the files and vcrpy see
# them.
#
# (a) Two clients edit one cassette at once, one replacing responses, the
#     other adding interactions, while four clients replay from it and
#     another process reads the file over and over with PyYAML.  Every
#     edit must be answered 200 or 201, every replay 200 with the body the
#     cassette had or an edited one, every read of the file must load, and
#     at the end the file and the zone must hold every interaction once,
#     with the last edit of each: none lost, none twice.  Debian's
#     python3-vcr must load the file.
# (f) A cassette changed on disk since it was loaded is not edited (409)
#     until it is reloaded.
# (b) On a small tmpfs, an edit that does not fit is answered 507, and
#     the file, the zone and the directory are as they were.
# (c) On a read-only file system, an edit is answered 500 with the reason,
#     and nothing changes.
# (d) Eight clients at once use five interactions that have expired
#     (mock_record_expire, recorded in 2020): each is recorded again in
#     its place, however many workers renew it at once; the file ends with
#     five interactions, each once, every one fresh.
# (e) While four clients record new requests into that cassette, another
#     replaces its first five responses over and over and a third adds
#     interactions: the edits wait for the recordings and the recordings
#     for the edits, and the file ends with every recording once, every
#     one added once, and the last edit of each.
#
# Mounting needs root: without it, (b) and (c) are skipped.
# This file runs its own nginx under t/servroot-admin-edit-files/.

use strict;
use warnings;

use Test::More;
use File::Path qw(make_path);
use FindBin;
use HTTP::Tiny;
use Time::HiRes qw(time);

use lib "$FindBin::Bin/lib";
use MockTest qw(PYTHON skip_under_valgrind module_under_test
                skip_without_python server_port lock_run slurp write_file
                run_cmd start_clients json_of);

skip_under_valgrind('this file runs its own nginx, not under valgrind');

my $module = module_under_test();

skip_without_python('import vcr, yaml',
                    'cannot import vcr and yaml, needed to read the '
                    . 'cassettes (Debian: apt-get install python3-vcr '
                    . 'python3-yaml)');

my $port = server_port(211);
my $root = "$FindBin::Bin/servroot-admin-edit-files";
my $disk = "$root/disk";
my $cassette = "$root/c/c.yaml";
my $small = "$disk/d.yaml";
my $expiring = "$root/x/x.yaml";

my $N       = 20;     # interactions in the cassette at first
my $EDITS   = 15;     # by each of the two editors
my $PLAYS   = 60;     # by each of the four replaying clients
my $WORKERS = 2;
my $WAIT    = 10;

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => $WORKERS,
                                 wait => $WAIT);
my $mounted;

END {
    local $?;
    $nginx->stop if $nginx;
    unmount() if $mounted;
}

$nginx->stop_leftover;
$mounted = 1 if is_mounted();
unmount() if $mounted;

$nginx->fresh_root('conf', 'logs', 'c', 'disk', 'x');

my $upstream = "http://127.0.0.1:$port/backend";
write_file($expiring, "version: 1\ninteractions:\n"
    . join('', map { "- request: {method: GET, uri: '$upstream/p$_', "
                     . "body: null, headers: {}}\n  response: {status: "
                     . "{code: 200, message: OK}, headers: {}, body: "
                     . "{string: 'old $_'}}\n  x_mock: {recorded: "
                     . "'2020-01-01T00:00:00Z'}\n" } 0 .. 4));

write_file($cassette, "version: 1\ninteractions:\n"
    . join('', map { item("/r$_", "body $_") } 0 .. $N - 1));

my $can_mount = 0;
{
    my ($rc, $out, $err) = run_cmd('mount', '-t', 'tmpfs', '-o', 'size=64k',
                                   'tmpfs', $disk);
    if ($rc == 0) {
        $mounted = 1;
        $can_mount = 1;
        write_file($small, "version: 1\ninteractions:\n"
                           . item('/d/big', 'b' x 40000));
    } else {
        diag("cannot mount a small tmpfs (needs root): $err");
        write_file($small, "version: 1\ninteractions: []\n");
    }
}

write_file($nginx->conf, $nginx->conf_head(connections => 256) . <<"EOF");
http {
    access_log off;

    server {
        listen 127.0.0.1:$port;

        location / {
            mock_replay c/c.yaml;
            mock_repeats on;
        }

        location /d/ {
            mock_replay disk/d.yaml;
            mock_repeats on;
        }

        location /backend/ {
            return 200 "live \$uri";
        }

        location /x/ {
            proxy_pass http://127.0.0.1:$port/backend/;
            mock_upstream http://127.0.0.1:$port/backend/;
            mock_replay x/x.yaml;
            mock_mode new_episodes;
            mock_repeats on;
            mock_record_expire 7d;
        }

        location /_mock {
            mock_admin;
        }
    }
}
EOF

$nginx->start;


# (a) two editors, four players and a reader at once

my $dir = "$root/clients";
make_path($dir);

my $reader = fork() // die "fork: $!";
if ($reader == 0) {
    exec PYTHON, '-c', <<'PY', $cassette, "$dir/reader";
import sys, time, yaml
path, out = sys.argv[1], sys.argv[2]
L = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
reads = bad = 0
end = time.time() + 600
while time.time() < end:
    try:
        with open(path) as f:
            d = yaml.load(f, Loader=L)
        if not isinstance(d.get('interactions'), list):
            raise ValueError('no list of interactions')
        reads += 1
    except Exception as e:
        bad += 1
        last = repr(e)
    try:
        with open(out + '.stop') as f:
            break
    except OSError:
        pass
with open(out, 'w') as f:
    f.write('%d %d\n' % (reads, bad))
PY
}

my @pids = start_clients($dir, 6, sub {
    my ($i, $out) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 1, timeout => $WAIT);
    my $base = "http://127.0.0.1:$port";
    my %json = (headers => { 'Content-Type' => 'application/json' });

    if ($i == 0) {
        for my $k (1 .. $EDITS) {
            my $n = $k % $N;
            my $r = $http->request('PUT', "$base/_mock/interactions/$n?store=0", {
                %json, content => '{"response": ' . response("edit $k of $n")
                                  . '}' });
            print {$out} "put\t$n\t$k\t$r->{status}\t" . line($r) . "\n";
        }

    } elsif ($i == 1) {
        for my $k (1 .. $EDITS) {
            my $r = $http->request('POST', "$base/_mock/interactions?store=0", {
                %json, content => '{"request": {"method": "GET", "uri": '
                                  . "\"http://svc/n$k\", \"body\": null, "
                                  . '"headers": {}}, "response": '
                                  . response("new $k") . '}' });
            print {$out} "post\t$k\t$r->{status}\t" . line($r) . "\n";
        }

    } else {
        for my $k (1 .. $PLAYS) {
            my $n = ($k * 7 + $i) % $N;
            my $r = $http->get("$base/r$n");
            my $body = $r->{content} // '';
            $body =~ s/\n/\\n/g;
            print {$out} "get\t$n\t$r->{status}\t$body\n";
        }
    }
});

my $failed = 0;
for my $pid (@pids) {
    waitpid $pid, 0;
    $failed++ if $?;
}
is($failed, 0, 'every client finished');

write_file("$dir/reader.stop", "stop\n");
waitpid $reader, 0;

my (@bad, %last, $plays);
for my $i (0 .. 5) {
    for my $line (split /\n/, slurp("$dir/$i")) {
        my @f = split /\t/, $line, -1;
        if ($f[0] eq 'put') {
            push @bad, $line unless $f[3] == 200;
            $last{$f[1]} = "edit $f[2] of $f[1]";
        } elsif ($f[0] eq 'post') {
            push @bad, $line unless $f[2] == 201;
        } else {
            $plays++;
            push @bad, $line
                unless $f[2] == 200
                       && $f[3] =~ /\A(?:body $f[1]|edit \d+ of $f[1])\z/;
        }
    }
}
is($plays, 4 * $PLAYS, 'every replay was answered');
is(scalar(@bad), 0, 'every edit was made, every replay got 200 with the '
   . 'body of the cassette or of an edit')
    or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

my ($reads, $broken) = split ' ', slurp("$dir/reader");
ok($reads && $reads > 0, "the file was read " . ($reads // 0)
   . ' times while it was edited');
is($broken, 0, 'every read of the file loaded with PyYAML');

# the file: every interaction once, with its last edit

my ($rc, $out, $err) = run_cmd(PYTHON, '-c', <<'PY', $cassette);
import sys
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer
reqs, resps = deserialize(open(sys.argv[1]).read(), yamlserializer)
for q, s in zip(reqs, resps):
    b = s['body']['string']
    if isinstance(b, bytes):
        b = b.decode()
    print('%s\t%s' % (q.uri, b))
PY
is($rc, 0, 'vcrpy loads the edited cassette') or diag($err);

my %want = map { ("http://svc/r$_" => $last{$_} // "body $_") } 0 .. $N - 1;
$want{"http://svc/n$_"} = "new $_" for 1 .. $EDITS;
my %got;
my @twice;
for my $line (split /\n/, $out) {
    my ($uri, $body) = split /\t/, $line, 2;
    push @twice, $uri if exists $got{$uri};
    $got{$uri} = $body;
}
is(scalar(@twice), 0, 'no interaction is in the file twice')
    or diag("@twice");
is_deeply(\%got, \%want, 'the file has every interaction, with its last '
          . 'edit, and every one added');

my $zone = json_of($nginx->get('/_mock/cassettes?store=0'));
is($zone->{stores}[0]{interactions}, $N + $EDITS,
   'the zone has as many interactions as the file');

my @wrong;
for my $n (0 .. $N - 1) {
    my $r = $nginx->get("/r$n");
    push @wrong, "/r$n: $r->{status} $r->{content}"
        unless $r->{status} == 200 && $r->{content} eq $want{"http://svc/r$n"};
}
for my $k (1 .. $EDITS) {
    my $r = $nginx->get("/n$k");
    push @wrong, "/n$k: $r->{status} $r->{content}"
        unless $r->{status} == 200 && $r->{content} eq "new $k";
}
is(scalar(@wrong), 0, 'the zone replays what the file holds')
    or diag(join "\n", @wrong);

my $log = $nginx->error_log;
unlike($log, qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no worker crashed, no alert')
    or diag(join "\n", $log =~ /^(.*(?:\[(?:alert|crit|emerg)\]|exited on signal).*)$/mg);


# (d) expired interactions renewed by many workers at once

@pids = start_clients($dir, 8, sub {
    my ($i, $out) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 1, timeout => $WAIT);
    for my $k (1 .. 20) {
        my $n = ($k + $i) % 5;
        my $r = $http->get("http://127.0.0.1:$port/x/p$n");
        print {$out} "$n\t$r->{status}\t" . line($r) . "\n";
    }
});

$failed = 0;
for my $pid (@pids) {
    waitpid $pid, 0;
    $failed++ if $?;
}
is($failed, 0, 'the clients of expired interactions finished');

@bad = ();
for my $i (0 .. 7) {
    for my $line (split /\n/, slurp("$dir/$i")) {
        my ($n, $status, $body) = split /\t/, $line, 3;
        push @bad, $line unless $status == 200 && $body eq "live /backend/p$n";
    }
}
is(scalar(@bad), 0, 'every request got the live answer, proxied or '
   . 'replayed') or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

($rc, $out, $err) = run_cmd(PYTHON, '-c', <<'PY', $expiring);
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for i in d['interactions']:
    print('%s\t%s\t%s' % (i['request']['uri'], i['response']['body']['string'],
                          i.get('x_mock', {}).get('recorded')))
PY
is($rc, 0, 'PyYAML loads the renewed cassette') or diag($err);
my @items = split /\n/, $out;
is(scalar(@items), 5, 'it has five interactions');
my %seen;
@bad = ();
for my $item (@items) {
    my ($uri, $body, $recorded) = split /\t/, $item;
    my ($n) = $uri =~ m{/backend/p(\d)$};
    push @bad, $item unless defined $n && !$seen{$n}++
                            && $body eq "live /backend/p$n"
                            && $recorded !~ /^2020-/;
}
is(scalar(@bad), 0, 'each once, recorded again, at its place')
    or diag(join "\n", @bad);


# (e) recordings and edits of one cassette at once

@pids = start_clients($dir, 6, sub {
    my ($i, $out) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 1, timeout => $WAIT);
    my $base = "http://127.0.0.1:$port";
    my %json = (headers => { 'Content-Type' => 'application/json' });
    for my $k (1 .. 15) {
        my $r;
        if ($i == 0) {
            my $n = $k % 5;
            $r = $http->request('PUT', "$base/_mock/interactions/$n?store=2", {
                %json, content => '{"response": ' . response("edit $k of $n")
                                  . '}' });
            print {$out} "put\t$n\t$k\t$r->{status}\t" . line($r) . "\n";
        } elsif ($i == 1) {
            $r = $http->request('POST', "$base/_mock/interactions?store=2", {
                %json, content => '{"request": {"method": "GET", "uri": '
                                  . "\"$upstream/a$k\", \"body\": null, "
                                  . '"headers": {}}, "response": '
                                  . response("added $k") . '}' });
            print {$out} "post\t$k\t$r->{status}\t" . line($r) . "\n";
        } else {
            $r = $http->get("$base/x/q$i-$k");
            print {$out} "get\t$i-$k\t$r->{status}\t" . line($r) . "\n";
        }
    }
});

$failed = 0;
for my $pid (@pids) {
    waitpid $pid, 0;
    $failed++ if $?;
}
is($failed, 0, 'the recording and editing clients finished');

my %want_x;
$want_x{"$upstream/p$_"} = "live /backend/p$_" for 0 .. 4;
@bad = ();
for my $i (0 .. 5) {
    for my $line (split /\n/, slurp("$dir/$i")) {
        my @f = split /\t/, $line, -1;
        if ($f[0] eq 'put') {
            push @bad, $line unless $f[3] == 200;
            $want_x{"$upstream/p$f[1]"} = "edit $f[2] of $f[1]";
        } elsif ($f[0] eq 'post') {
            push @bad, $line unless $f[2] == 201;
            $want_x{"$upstream/a$f[1]"} = "added $f[1]";
        } else {
            push @bad, $line unless $f[2] == 200
                                    && $f[3] eq "live /backend/q$f[1]";
            $want_x{"$upstream/q$f[1]"} = "live /backend/q$f[1]";
        }
    }
}
is(scalar(@bad), 0, 'every edit was made and every request recorded')
    or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

($rc, $out, $err) = run_cmd(PYTHON, '-c', <<'PY', $expiring);
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for i in d['interactions']:
    print('%s\t%s' % (i['request']['uri'], i['response']['body']['string']))
PY
is($rc, 0, 'PyYAML loads the cassette') or diag($err);
my %got_x;
@twice = ();
for my $item (split /\n/, $out) {
    my ($uri, $body) = split /\t/, $item, 2;
    push @twice, $uri if exists $got_x{$uri};
    $got_x{$uri} = $body;
}
is(scalar(@twice), 0, 'no interaction is in it twice') or diag("@twice");
is_deeply(\%got_x, \%want_x, 'it has every recording, every one added and '
          . 'the last edit of each');

$zone = json_of($nginx->get('/_mock/cassettes?store=2'));
is($zone->{stores}[2]{interactions}, scalar(keys %want_x),
   'the zone has as many interactions as the file');

$log = $nginx->error_log;
unlike($log, qr/\[(?:alert|crit|emerg)\]|exited on signal/,
       'no worker crashed, no alert')
    or diag(join "\n", $log =~ /^(.*(?:\[(?:alert|crit|emerg)\]|exited on signal).*)$/mg);


# (f) a file changed on disk

my $text = slurp($cassette) . item('/hand', 'by hand');
write_file($cassette, $text);
my $r = $nginx->request('DELETE', '/_mock/interactions/0?store=0', {
    headers => { 'Content-Type' => 'application/json' } });
is($r->{status}, 409, 'a cassette changed on disk is not edited');
like($r->{content}, qr/^\{"error": "\\"[^"]*c\.yaml\\" has 36 interactions in its file and 35 in the zone: it has changed on disk; reload it first"\}$/,
     'and the answer says why');
is(slurp($cassette), $text, 'the file is as it was');
is($nginx->post('/_mock/reload', {
       headers => { 'Content-Type' => 'application/json' } })->{status},
   200, 'it is reloaded');
$r = $nginx->request('DELETE', '/_mock/interactions/35?store=0', {
    headers => { 'Content-Type' => 'application/json' } });
is($r->{status}, 200, 'then it is edited');
is($nginx->get('/hand')->{status}, 404, 'and the edit is replayed');


# (b) and (c): a full disk, a read-only one

SKIP: {
    skip 'no tmpfs could be mounted', 12 unless $can_mount;

    my $before = slurp($small);
    my $r = $nginx->request('POST', '/_mock/interactions?store=1', {
        headers => { 'Content-Type' => 'application/json' },
        content => '{"request": {"method": "GET", "uri": "http://svc/d/more", '
                   . '"body": null, "headers": {}}, "response": '
                   . response('m' x 30000) . '}' });
    is($r->{status}, 507, 'an edit that does not fit on the disk gets 507');
    like($r->{content}, qr/^\{"error": "no room on the disk for the edited cassette \(No space left on device\); it is unchanged"\}$/,
         'and says there is no room on the disk');
    is(slurp($small), $before, 'the file is as it was');
    ok(!-e "$small.edit.tmp", 'no temporary file is left');
    ok($nginx->get('/d/big')->{content} eq 'b' x 40000, 'the zone replays it');
    is($nginx->get('/d/more')->{status}, 404, 'and not the edit');

    ($rc, $out, $err) = run_cmd('mount', '-o', 'remount,ro', $disk);
    is($rc, 0, 'the tmpfs is remounted read-only') or diag($err);

    $r = $nginx->request('DELETE', '/_mock/interactions/0?store=1', {
        headers => { 'Content-Type' => 'application/json' } });
    is($r->{status}, 500, 'an edit of a read-only file gets 500');
    like($r->{content}, qr/^\{"error": "the edited cassette cannot be written to \\"[^"]*d\.yaml\.edit\.tmp\\" \(Read-only file system\); it is unchanged"\}$/,
         'and says why');
    is(slurp($small), $before, 'the file is as it was');
    ok($nginx->get('/d/big')->{content} eq 'b' x 40000, 'the zone replays it');

    $nginx->stop;
    unmount();
    ok(!is_mounted(), 'the tmpfs is unmounted');
}

done_testing();


sub item {
    my ($path, $body) = @_;
    return "- request: {method: GET, uri: 'http://svc$path', body: null, "
           . "headers: {}}\n  response: {status: {code: 200, message: OK}, "
           . "headers: {}, body: {string: '$body'}}\n";
}

sub response {
    my ($body) = @_;
    return '{"status": {"code": 200, "message": "OK"}, "headers": {}, '
           . "\"body\": {\"string\": \"$body\"}}";
}

# an answer's body on one line
sub line {
    my ($r) = @_;
    my $body = $r->{content} // '';
    $body =~ s/\n/\\n/g;
    return $body;
}

sub is_mounted {
    return scalar grep { (split ' ')[1] eq $disk }
                       split /\n/, slurp('/proc/mounts');
}

sub unmount {
    my ($rc, $out, $err) = run_cmd('umount', $disk);
    diag("umount $disk: $err") if $rc != 0;
    $mounted = 0 if $rc == 0;
}
