# Code shared by the test files written with plain Test::More.
#
# Test::Nginx restarts nginx for every block, runs a single worker and
# cannot send a signal, fork clients or ask Redis in the middle of a
# block.  The files that need any of that start a daemonized nginx of
# their own, under a server root of their own (t/servroot-<name>/), and
# talk to it with HTTP::Tiny.  What they have in common is here:
#
#   MockTest          functions: the module under test, skipping, ports,
#                     the lock against a second run, files, commands,
#                     processes, forked clients, Redis, cassettes
#                     recorded by nginx
#   MockTest::Nginx   one nginx: start, stop, reload, its workers and
#                     requests to it
#   MockTest::Redis   a redis-server of a file's own, on a port or a unix
#                     socket of its own, with or without a password: to
#                     kill, stall and start again
#   fleet functions   several nginx instances with one configuration
#                     under server roots of their own, requests sent to
#                     them by turns, JSON answers, cassettes as PyYAML
#                     reads them
#
# A test file loads it with
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use MockTest qw(...);
#
# and keeps its own checks and configuration.  Every MockTest::Nginx is
# stopped at exit; a file that started more (a Redis, a tmpfs) keeps an
# END block of its own for it, as only the file knows in which order
# things have to go.

package MockTest;

use strict;
use warnings;

use Exporter qw(import);
use Fcntl qw(:flock);
use File::Spec;
use IO::Socket::INET;
use Socket ();
use Time::HiRes ();
use File::Temp ();
use POSIX ();
use Test::More ();

our @EXPORT_OK = qw(
    PYTHON
    skip_under_valgrind load_modules module_under_test skip_without_python
    nginx_binary server_port lock_run
    slurp write_file run_cmd alive
    start_clients print_answer read_answers is_response
    slow_get check_body
    redis_command
    cassette split_items complete check_item yaml_count
    fleet_instances round_robin json_of wait_until redis_delete_prefix
    cassette_interactions
);

# The python3 that checks and replays cassettes (Debian's, which has
# python3-yaml and python3-vcr).
use constant PYTHON => '/usr/bin/python3';


#---------------------------------------------------------------------------
# What a file needs, nginx, ports
#---------------------------------------------------------------------------

# These files start nginx themselves, without the valgrind wrapper of
# Test::Nginx, and most of them wait for it with deadlines: under
# TEST_NGINX_USE_VALGRIND=1 they are skipped, for the reason $why.
sub skip_under_valgrind {
    my ($why) = @_;
    Test::More::plan(skip_all => $why) if $ENV{TEST_NGINX_USE_VALGRIND};
}

# The modules Test::Nginx loads, the paths in TEST_NGINX_LOAD_MODULES in
# their order, made absolute.  Besides the module under test they may
# name the modules a gateway loads with it (ndk, lua, njs...).
sub load_modules {
    return map { File::Spec->rel2abs($_) }
               split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
}

# The module under test: the path in TEST_NGINX_LOAD_MODULES whose name
# ends in ngx_http_mock_module.so, or else the last one (run-tests.sh
# adds it at the end).  Without one the whole file is skipped.
sub module_under_test {
    my @modules = load_modules();
    my ($module) = grep { /ngx_http_mock_module\.so\z/ } reverse @modules;
    $module //= $modules[-1];
    if (!defined $module) {
        Test::More::plan(skip_all => 'TEST_NGINX_LOAD_MODULES does not name '
                         . 'the module (run through scripts/run-tests.sh '
                         . 'or "make test")');
    }
    if (!-f $module) {
        Test::More::plan(skip_all => "module not found: $module");
    }
    return $module;
}

# Skips the whole file unless PYTHON runs the Python statement $import
# ("import yaml"); the reason given is PYTHON followed by $why.
sub skip_without_python {
    my ($import, $why) = @_;
    if (system(PYTHON . " -c '$import' >/dev/null 2>&1") != 0) {
        Test::More::plan(skip_all => PYTHON . " $why");
    }
}

# The nginx to test, as Test::Nginx takes it.
sub nginx_binary {
    return $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
}

# Each file listens on TEST_NGINX_SERVER_PORT plus an offset of its own,
# so that it never meets the nginx of Test::Nginx nor another file's.
sub server_port {
    my ($offset) = @_;
    return ($ENV{TEST_NGINX_SERVER_PORT} || 1984) + $offset;
}

# Two runs of one file at once (say "make test" and "make asan" in the
# same tree) would share its server root and ports, and each would stop
# the other's nginx: the second run waits for the first.  The lock lasts
# as long as the returned handle, so keep it until the file ends.
sub lock_run {
    my ($file) = @_;
    open my $lock, '>>', $file or die "cannot open $file: $!";
    if (!flock $lock, LOCK_EX | LOCK_NB) {
        Test::More::diag("waiting for another run of this test to finish");
        flock $lock, LOCK_EX or die "cannot lock $file: $!";
    }
    return $lock;
}


#---------------------------------------------------------------------------
# Files, commands, processes
#---------------------------------------------------------------------------

# The whole file, or '' when it cannot be read: files under /proc vanish
# with their process, and a log nginx has not written yet is empty.
sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

# Written to a temporary name and renamed, so that nginx, which may read
# the file at any time (a reload, a new worker), never reads half of it.
sub write_file {
    my ($file, $text) = @_;
    open my $fh, '>', "$file.tmp" or die "cannot write $file.tmp: $!";
    print {$fh} $text;
    close $fh or die "cannot write $file.tmp: $!";
    rename "$file.tmp", $file or die "cannot rename $file.tmp: $!";
}

# Runs a command; returns its wait status, its stdout and its stderr.
sub run_cmd {
    my @cmd = @_;
    my $out = File::Temp->new;
    my $err = File::Temp->new;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $out->filename;
        open STDERR, '>', $err->filename;
        exec @cmd or do {
            print STDERR "exec $cmd[0]: $!\n";
            # _exit: the END blocks, which stop nginx, are not for this
            # child.
            POSIX::_exit(127);
        };
    }
    waitpid $pid, 0;
    my $rc = $?;
    return ($rc, slurp($out->filename), slurp($err->filename));
}

# A process that exited but was not reaped yet (a daemonized master is
# reaped by init) counts as gone.
sub alive {
    my ($pid) = @_;
    return kill(0, $pid) && slurp("/proc/$pid/stat") !~ /^\d+ \(.*\) Z /;
}

# The children of a process, from /proc, in pid order.
sub children_of {
    my ($ppid) = @_;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $line = slurp($stat) or next;
        # pid (comm) state ppid ...; comm may contain spaces.
        push @pids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) /
                          && $2 == $ppid;
    }
    @pids = sort { $a <=> $b } @pids;
    return @pids;
}


#---------------------------------------------------------------------------
# Clients, answers, Redis
#---------------------------------------------------------------------------

# Forks $count clients that send their requests at the same time: each
# waits until the last one is forked.  Client $i runs $run->($i, $out),
# which writes what it got to $out, the file "$dir/$i".  Returns the
# clients' pids, for the caller to wait for (it may have things to do
# meanwhile).
sub start_clients {
    my ($dir, $count, $run) = @_;

    # The clients wait on this pipe and all start when it is closed.
    pipe(my $gate_r, my $gate_w) or die "pipe: $!";

    my @pids;
    for my $i (0 .. $count - 1) {
        my $file = "$dir/$i";
        unlink $file;
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            close $gate_w;
            my $ok = eval {
                open my $out, '>', $file or die "$file: $!";
                binmode $out;
                sysread $gate_r, my $buf, 1;   # returns at EOF
                $run->($i, $out);
                close $out or die "$file: $!";
                1;
            };
            print STDERR "client $i: $@" unless $ok;
            # _exit: no END blocks in the clients, no Test::More output.
            POSIX::_exit($ok ? 0 : 1);
        }
        push @pids, $pid;
    }

    close $gate_r;
    close $gate_w;   # go
    return @pids;
}

# Writes the HTTP::Tiny answer $r to the request for $path as one line
# of a client's file: path, status and body, separated by tabs, with
# the backslashes and line ends of the body escaped.
sub print_answer {
    my ($out, $path, $r) = @_;
    my $body = $r->{content} // '';
    $body =~ s/\\/\\\\/g;
    $body =~ s/\n/\\n/g;
    print {$out} "$path\t$r->{status}\t$body\n";
}

# The answers print_answer() wrote to the files "$dir/0" to
# "$dir/<$count - 1>", in that order: [path, status, body] each.
sub read_answers {
    my ($dir, $count) = @_;
    my @answers;
    for my $i (0 .. $count - 1) {
        open my $in, '<', "$dir/$i" or die "no results of $i: $!";
        binmode $in;
        while (my $line = <$in>) {
            chomp $line;
            my ($path, $status, $body) = split /\t/, $line, 3;
            $body =~ s/\\(\\|n)/$1 eq 'n' ? "\n" : '\\'/ge;
            push @answers, [ $path, $status, $body ];
        }
        close $in;
    }
    return @answers;
}

# A GET to 127.0.0.1:$port on a connection with a small receive buffer,
# of which only the head of the answer is read: the rest waits in nginx
# until check_body() reads it.
sub slow_get {
    my ($port, $path, @headers) = @_;
    my $s = IO::Socket::INET->new(Proto => 'tcp');
    setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096)
        or die "SO_RCVBUF: $!";
    $s->connect(Socket::pack_sockaddr_in($port,
                                         Socket::inet_aton('127.0.0.1')))
        or die "cannot connect: $!";
    print $s join("\r\n", "GET $path HTTP/1.0", 'Host: localhost', @headers,
                  '', '');

    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread($s, $head, 4096, length $head);
        die "the connection closed: $!" unless $n;
    }
    return { socket => $s, data => $head };
}

# Reads the rest of a slow_get() answer, for up to $wait seconds, and
# checks that its body is $size bytes of $c.
sub check_body {
    my ($client, $c, $size, $wait, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $s = $client->{socket};
    my $data = $client->{data};
    my $deadline = Time::HiRes::time() + $wait;
    while (Time::HiRes::time() < $deadline) {
        my $n = sysread($s, $data, 1 << 20, length $data);
        last unless $n;
    }
    close $s;
    my (undef, $body) = split /\r\n\r\n/, $data, 2;
    $body //= '';
    my $foreign = length($body =~ s/\Q$c\E//gr);
    return Test::More::ok(length($body) == $size && $foreign == 0, $name)
        || Test::More::diag(sprintf("%d bytes, %d of them not \"%s\"",
                                    length $body, $foreign, $c));
}

# An HTTP::Tiny answer has this status and exactly this body.  Both are
# compared as one string, so that a failure shows them side by side.
sub is_response {
    my ($r, $status, $body, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::More::is("$r->{status} $r->{content}", "$status $body",
                          $name);
}

# redis-cli against the Redis on $port; its output lines, the empty ones
# left out.
sub redis_command {
    my ($port, @args) = @_;
    open my $out, '-|', 'redis-cli', '-p', $port, @args
        or die "cannot run redis-cli: $!";
    my @lines = map { s/\s+\z//r } <$out>;
    close $out;
    return grep { length } @lines;
}


#---------------------------------------------------------------------------
# Cassettes
#---------------------------------------------------------------------------

# A cassette whose interactions all answer GET $path, with one body each.
sub cassette {
    my ($path, @bodies) = @_;
    my $yaml = "version: 1\ninteractions:\n";
    for my $body (@bodies) {
        $yaml .= <<"EOF";
- request: {method: GET, uri: 'http://svc$path', body: null, headers: {}}
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: '$body'}}
EOF
    }
    return $yaml;
}

# A cassette recorded by nginx: its head (a comment, "version: 1" and
# "interactions:"), then its items, each from its "- request:" line at
# column 0 up to the next one.
sub split_items {
    my ($text) = @_;
    my @parts = split /^(?=- request:)/m, $text;
    my $head = (@parts && $parts[0] !~ /^- request:/) ? shift @parts : '';
    return ($head, @parts);
}

# nginx records each item with one write() that ends with its
# "# recorded" line: an item without it was cut short.
sub complete {
    my ($item) = @_;
    return $item =~ /\n# recorded \S+\n\z/;
}

# Checks one item recorded through "location /api/" from the upstream
# $upstream (http://127.0.0.1:<port>/backend), whose body for /api$path
# is $want->("/api$path").  Returns the client path it records and what
# is wrong with it, if anything.
sub check_item {
    my ($item, $upstream, $want) = @_;
    my @uris = $item =~ /^    uri: "(.*)"$/mg;
    my ($body) = $item =~ /^  response:\n    body:\n      string: (.*)$/m;

    return (undef, 'not complete') unless complete($item);
    return (undef, 'more than one "- request:"')
        if (() = $item =~ /- request:/g) != 1;
    return (undef, scalar(@uris) . ' uri lines') if @uris != 1;

    my ($path) = $uris[0] =~ m{^\Q$upstream\E(/.*)$}
        or return (undef, "unexpected uri $uris[0]");
    $path = "/api$path";

    return ($path, 'not a GET') unless $item =~ /^    method: "GET"$/m;
    return ($path, 'not status 200') unless $item =~ /^      code: 200$/m;

    # The body for this very uri, as the writer quotes it.
    my $quoted = '"' . ($want->($path) =~ s/\n/\\n/gr) . '"';
    return ($path, "no response body") unless defined $body;
    return ($path, 'response body of ' . length($body) . ' bytes is not '
                   . "the one for $path") if $body ne $quoted;
    return ($path, undef);
}

# "<version> <number of interactions>" as PyYAML loads $file, or its
# error.  $loader is a Python expression for the loader class, PyYAML's
# pure Python yaml.SafeLoader unless told otherwise.
sub yaml_count {
    my ($file, $loader) = @_;
    $loader //= 'yaml.SafeLoader';
    my ($rc, $out, $err) = run_cmd(
        PYTHON, '-c',
        "import yaml,sys; L=$loader; "
        . 'd=yaml.load(open(sys.argv[1]), Loader=L); '
        . 'print(d["version"], len(d["interactions"] or []))',
        $file);
    chomp $out;
    return $rc == 0 ? $out : "PyYAML failed: $err";
}


#---------------------------------------------------------------------------
# Fleets: several instances that act as one through Redis
#---------------------------------------------------------------------------

# The instances of a fleet, not started: one MockTest::Nginx for each
# name, under the server root "$top/<name in lower case>", listening on
# server_port() of the offset at the same place in @$offsets.  Each one
# runs $workers workers (1 by default) and waits $wait seconds (10 by
# default).  An nginx left over in one of the roots by an interrupted run
# is stopped.
#
# The instances run one configuration, each from its own root ("-p"), so
# that a relative path in it (mock_replay cassettes/seq.yaml) names the
# instance's own copy of the file; see MockTest::Nginx's setup().
sub fleet_instances {
    my (%arg) = @_;
    my @names   = @{ $arg{names} };
    my @offsets = @{ $arg{offsets} };
    @names == @offsets or die "fleet_instances: one offset per name";
    my @fleet;
    for my $i (0 .. $#names) {
        my $nginx = MockTest::Nginx->new(
            name    => $names[$i],
            root    => "$arg{top}/" . lc $names[$i],
            port    => server_port($offsets[$i]),
            workers => $arg{workers} // 1,
            module  => $arg{module},
            wait    => $arg{wait} // 10);
        $nginx->stop_leftover;
        push @fleet, $nginx;
    }
    return @fleet;
}

# $count calls of $run->($instance, $i), $i from 0, the instances of
# @$fleet taken by turns from the one at $first (0 by default): A, B, C,
# A, ...  Returns what the calls returned, in order.
sub round_robin {
    my ($fleet, $count, $run, $first) = @_;
    $first //= 0;
    my @got;
    for my $i (0 .. $count - 1) {
        push @got, $run->($fleet->[($first + $i) % @$fleet], $i);
    }
    return @got;
}

# The JSON body of an HTTP::Tiny answer, decoded, or undef when it is not
# JSON.
sub json_of {
    my ($r) = @_;
    require JSON::PP;
    my $data = eval { JSON::PP->new->utf8->decode($r->{content} // '') };
    return $data;
}

# Calls $check every $step seconds (0.01 by default) until it returns
# true or $secs seconds have passed; returns its last value.
sub wait_until {
    my ($secs, $check, $step) = @_;
    $step //= 0.01;
    my $deadline = Time::HiRes::time() + $secs;
    while (1) {
        my $v = $check->();
        return $v if $v || Time::HiRes::time() > $deadline;
        Time::HiRes::sleep($step);
    }
}

# Deletes the keys that start with $prefix from the Redis on $port (a
# MockTest::Redis, or the port of one without a password).  Returns how
# many there were.
sub redis_delete_prefix {
    my ($redis, $prefix) = @_;
    # Never everything: an END block may run before the prefix is set.
    return 0 unless defined $prefix && length $prefix;
    my $cmd = ref $redis ? sub { $redis->command(@_) }
                         : sub { redis_command($redis, @_) };
    my @keys = eval { $cmd->('--scan', '--pattern', "$prefix*") };
    # In batches: a long run leaves many keys.
    while (my @batch = splice @keys, 0, 500) {
        $cmd->('DEL', @batch);
    }
    return scalar @keys;
}

# The interactions of a cassette as PyYAML reads it, each a hash of
# method, uri, status, body (the response body's string, or undef) and
# x_mock (its x_mock key, or undef); undef when PyYAML cannot read the
# file, and in list context the error too.
sub cassette_interactions {
    my ($file) = @_;
    require JSON::PP;
    my ($rc, $out, $err) = run_cmd(
        PYTHON, '-c', <<'PY', $file);
import json, sys, yaml
d = yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.SafeLoader)
out = []
for i in (d or {}).get('interactions') or []:
    req, resp = i['request'], i['response']
    body = (resp.get('body') or {}).get('string')
    if isinstance(body, bytes):
        body = body.decode('utf-8', 'replace')
    out.append({'method': req['method'], 'uri': req['uri'],
                'status': resp['status']['code'], 'body': body,
                'x_mock': i.get('x_mock')})
print(json.dumps(out, default=str))
PY
    if ($rc != 0) {
        return wantarray ? (undef, "PyYAML failed: $err") : undef;
    }
    my $list = eval { JSON::PP->new->utf8->decode($out) };
    return wantarray ? ($list, $list ? undef : "bad JSON: $@") : $list;
}


#---------------------------------------------------------------------------
# One nginx of a test file's own
#---------------------------------------------------------------------------

package MockTest::Nginx;

use strict;
use warnings;

use File::Path ();
use HTTP::Tiny;
use Test::More ();
use Time::HiRes qw(sleep time);

# Every nginx made here, to stop at exit whatever happens: a failed
# assertion or a die must not leave a daemonized master behind.  Only the
# process that made one stops it, never a forked client.
my @made;

END {
    local $?;
    $_->{owner} == $$ and $_->stop for @made;
}

# A daemonized nginx, master and workers, run from its own server root
# with "nginx -p <root>/ -c <conf>":
#
#   root     the server root (needed)
#   conf     its configuration; <root>/conf/nginx.conf by default
#   port     where it listens on 127.0.0.1, for the requests below
#   workers  how many workers start() and reload() wait for; 1 by default
#   wait     how long, in seconds, to wait for something that should
#            happen "soon"; 10 by default: generous, as the suite may run
#            under AddressSanitizer, and every wait ends as soon as the
#            awaited thing shows up
#   name     a name for it, when a file runs more than one: messages
#            then call it "nginx <name>" instead of "nginx"
#   module   the module under test, for conf_head(); when it is one of
#            load_modules(), conf_head() loads them all, in their order,
#            as Test::Nginx does
sub new {
    my ($class, %arg) = @_;
    defined $arg{root} or die "MockTest::Nginx->new needs a root";
    my $self = bless {
        root    => $arg{root},
        conf    => $arg{conf} // "$arg{root}/conf/nginx.conf",
        port    => $arg{port},
        workers => $arg{workers} // 1,
        wait    => $arg{wait} // 10,
        name    => $arg{name},
        label   => defined $arg{name} ? "nginx $arg{name}" : 'nginx',
        module  => $arg{module},
        modules => [ (defined $arg{module}
                      && grep { $_ eq $arg{module} } MockTest::load_modules())
                     ? MockTest::load_modules() : $arg{module} ],
        binary  => MockTest::nginx_binary(),

        master_pid => undef,
        # Every worker seen since the last stop: see stop().
        seen_workers => {},
        owner => $$,
    }, $class;
    push @made, $self;
    return $self;
}

# Stops an nginx a killed run left in the server root, then makes the
# root afresh with the given directories in it.
sub fresh_root {
    my ($self, @dirs) = @_;
    $self->stop_leftover;
    File::Path::remove_tree($self->{root});
    File::Path::make_path(map { "$self->{root}/$_" } @dirs);
}

sub root       { return $_[0]{root} }
sub conf       { return $_[0]{conf} }
sub port       { return $_[0]{port} }
sub name       { return $_[0]{name} }
sub master_pid { return $_[0]{master_pid} }

sub error_log {
    my ($self) = @_;
    return MockTest::slurp("$self->{root}/logs/error.log");
}

# The top of a configuration for this nginx, up to its "http" block:
# the module under test loaded (with the others of load_modules(), see
# new()), a daemon with a master and $workers workers (by default as many
# as new() was told), the error log and the pid file where the methods
# below look for them, and $connections worker connections (64 by
# default).  $modules, an array of .so paths, loads those modules in
# that order instead (it names the module under test too, where it is to
# go).
sub conf_head {
    my ($self, %arg) = @_;
    my $workers     = $arg{workers} // $self->{workers};
    my $connections = $arg{connections} // 64;
    defined $self->{module} or die "conf_head: no module given to new()";
    my $load = join '', map { "load_module $_;\n" }
                            @{ $arg{modules} // $self->{modules} };

    # Started by root, nginx would run its workers as "nobody", who
    # cannot write under the server root (recording does): they stay
    # root.
    my $user = $> == 0 ? 'user root;' : '';

    return <<"EOF";
$load$user
daemon on;
master_process on;
worker_processes $workers;
error_log logs/error.log info;
pid logs/nginx.pid;

events {
    worker_connections $connections;
}

EOF
}

# The pid in the pid file, if there is one.
sub read_pid {
    my ($self) = @_;
    my $pid = MockTest::slurp("$self->{root}/logs/nginx.pid");
    return $pid =~ /^(\d+)/ ? $1 : undef;
}

# The master's children, that is its workers, in pid order.  Each one is
# remembered until the next stop().
sub worker_pids {
    my ($self) = @_;
    my @pids = $self->{master_pid}
             ? MockTest::children_of($self->{master_pid}) : ();
    $self->{seen_workers}{$_} = 1 for @pids;
    return @pids;
}

# nginx masters still running from this server root: their command line
# names it, as nginx keeps "-p <root>/" in its process title.
sub masters_of_this_root {
    my ($self) = @_;
    my @pids;
    for my $cmdline (glob '/proc/[0-9]*/cmdline') {
        my $cmd = MockTest::slurp($cmdline);
        push @pids, $cmdline =~ m{(\d+)}
            if index($cmd, "$self->{root}/") >= 0;
    }
    return @pids;
}

# "nginx -t" on this server root and configuration: its wait status, its
# stdout and its stderr.
sub test_config {
    my ($self) = @_;
    return MockTest::run_cmd($self->{binary}, '-t', '-p', "$self->{root}/",
                             '-c', $self->{conf});
}

# An nginx left over by an interrupted earlier run would hold the port:
# it is stopped, but only when the pid in the pid file still is an nginx,
# as pids get reused.
sub stop_leftover {
    my ($self) = @_;
    my $pid = $self->read_pid;
    if (defined $pid && MockTest::slurp("/proc/$pid/cmdline") =~ /nginx/) {
        $self->{master_pid} = $pid;
        $self->stop;
    }
}

# Starts nginx and waits until the daemon has detached (it writes its
# pid file then) and runs $workers workers, by default as many as new()
# was told.  Returns what nginx wrote to stderr before it detached: the
# warnings about the configuration, which it reads before it opens the
# error log.
sub start {
    my ($self, $workers) = @_;
    $workers //= $self->{workers};

    my ($rc, $out, $err) = MockTest::run_cmd(
        $self->{binary}, '-p', "$self->{root}/", '-c', $self->{conf});
    die "$self->{label} did not start:\n$err" if $rc != 0;

    my $deadline = time + $self->{wait};
    until (defined($self->{master_pid} = $self->read_pid)
           && $self->worker_pids >= $workers)
    {
        if (time > $deadline) {
            die "$self->{label} did not come up:\n" . $self->error_log;
        }
        sleep 0.05;
    }
    return $err;
}

# Stops nginx, if it runs, and whatever is left of it.
sub stop {
    my ($self) = @_;
    my $master = $self->{master_pid};

    if ($master && MockTest::alive($master)) {
        $self->worker_pids;

        # QUIT first for a graceful stop, TERM and KILL if it hangs.
        for my $sig (qw(QUIT TERM KILL)) {
            kill $sig, $master;
            my $deadline = time + $self->{wait};
            while (MockTest::alive($master) && time < $deadline) {
                sleep 0.05;
            }
            last unless MockTest::alive($master);
            Test::More::diag("$self->{label} master $master ignored SIG$sig");
        }
    }

    # Workers whose master died would go on holding the port.
    for my $pid (keys %{ $self->{seen_workers} }) {
        kill 'KILL', $pid
            if MockTest::slurp("/proc/$pid/cmdline") =~ /^nginx: worker/;
    }
    $self->{seen_workers} = {};
    unlink "$self->{root}/logs/nginx.pid";
    undef $self->{master_pid};
}

# HUPs the master and waits until the reload is done: the workers of the
# old cycle have exited and new ones run.  Until then a request may still
# reach an old worker, which goes on with the old configuration and
# cassettes.
sub reload {
    my ($self) = @_;
    my @old = $self->worker_pids;
    kill 'HUP', $self->{master_pid} or die "cannot signal nginx: $!";

    my $deadline = time + $self->{wait};
    while (time < $deadline) {
        my %now = map { $_ => 1 } $self->worker_pids;
        last if keys %now >= $self->{workers} && !grep { $now{$_} } @old;
        sleep 0.05;
    }
    my %now = map { $_ => 1 } $self->worker_pids;
    if (grep { $now{$_} } @old) {
        Test::More::diag("the old workers (@old) did not exit after the "
                         . "reload:\n" . $self->error_log);
    }
}

# Makes the server root afresh (conf, logs, cassettes), writes the files
# of %$files (paths relative to the root, each with its text) and the
# configuration: conf_head() and then $http, the "http" block.  A fleet
# gives every instance the same $http and files: each gets copies of its
# own.
sub setup {
    my ($self, %arg) = @_;
    $self->fresh_root('conf', 'logs', 'cassettes');
    my $files = $arg{files} // {};
    for my $path (sort keys %$files) {
        my $file = "$self->{root}/$path";
        (my $dir = $file) =~ s{/[^/]*\z}{};
        File::Path::make_path($dir);
        MockTest::write_file($file, $files->{$path});
    }
    MockTest::write_file($self->{conf},
                         $self->conf_head(%{ $arg{head} // {} })
                         . $arg{http});
}

# Removes the error log and the access logs, before a start, so that
# they hold what comes after it only.
sub clear_logs {
    my ($self) = @_;
    unlink glob "$self->{root}/logs/*.log";
}

# The number of the cassette store (GET /_mock/cassettes, the admin
# location at $admin, "/_mock" by default) whose path matches $re, or
# undef.
sub store_of {
    my ($self, $re, $admin) = @_;
    $admin //= '/_mock';
    my $data = MockTest::json_of($self->get("$admin/cassettes")) or return;
    for my $store (@{ $data->{stores} // [] }) {
        return $store->{store} if ($store->{path} // '') =~ $re;
    }
    return;
}

sub delete {
    my ($self, $path, $options) = @_;
    return $self->request('DELETE', $path, $options);
}

# The lines of the error log that match $re.
sub log_lines {
    my ($self, $re) = @_;
    return grep { /$re/ } split /\n/, $self->error_log;
}

# A request on a connection of its own; HTTP::Tiny's answer.  %$options
# as for HTTP::Tiny's request(): headers, content.  A POST, PUT or DELETE
# to the admin location (/_mock...) says "Content-Type: application/json"
# unless it names a type itself, as the admin asks of them.
sub request {
    my ($self, $method, $path, $options) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $self->{wait});
    if ($method =~ /^(?:POST|PUT|DELETE)$/ && $path =~ m{^/_mock(?:[/?]|$)}) {
        my %o = %{ $options // {} };
        my %h = %{ $o{headers} // {} };
        $h{'Content-Type'} = 'application/json'
            unless grep { lc $_ eq 'content-type' } keys %h;
        $o{headers} = \%h;
        $options = \%o;
    }
    return $http->request($method, "http://127.0.0.1:$self->{port}$path",
                          $options // {});
}

sub get {
    my ($self, $path, $options) = @_;
    return $self->request('GET', $path, $options);
}

sub post {
    my ($self, $path, $options) = @_;
    return $self->request('POST', $path, $options);
}

# MockTest::is_response(), with this nginx's error log shown when it
# fails.
sub is_response {
    my ($self, $r, $status, $body, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = MockTest::is_response($r, $status, $body, $name);
    Test::More::diag($self->error_log) unless $ok;
    return $ok;
}


#---------------------------------------------------------------------------
# A Redis of a test file's own
#---------------------------------------------------------------------------

package MockTest::Redis;

use strict;
use warnings;

use File::Path ();
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX ();
use Time::HiRes qw(sleep time);

# Every Redis made here, stopped at exit by the process that made it.
my @redis_made;

END {
    local $?;
    $_->{owner} == $$ and $_->stop('KILL') for @redis_made;
}

# A redis-server in the foreground, a child of the test, without
# persistence:
#
#   dir       its directory: log, pid file (needed)
#   port      its TCP port on 127.0.0.1, or 0 for none
#   socket    the path of a unix socket to listen on as well
#   password  its requirepass
#   wait      seconds to wait for it to start or stop; 10 by default
#
# DEBUG (SLEEP) is allowed from local clients on Redis 7.
sub new {
    my ($class, %arg) = @_;
    defined $arg{dir} or die "MockTest::Redis->new needs a dir";
    my $self = bless {
        dir      => $arg{dir},
        port     => $arg{port} // 0,
        socket   => $arg{socket},
        password => $arg{password},
        wait     => $arg{wait} // 10,
        pid      => undef,
        owner    => $$,
    }, $class;
    push @redis_made, $self;
    return $self;
}

sub port     { return $_[0]{port} }
sub socket   { return $_[0]{socket} }
sub password { return $_[0]{password} }
sub pid      { return $_[0]{pid} }
sub log      { return MockTest::slurp("$_[0]{dir}/redis.log") }

# Whether redis-server and redis-cli are there; a file without them
# skips with plan(skip_all).
sub skip_without_redis {
    for my $cmd (qw(redis-server redis-cli)) {
        if (!grep { -x "$_/$cmd" } split /:/, $ENV{PATH}) {
            Test::More::plan(skip_all => "$cmd not found "
                                         . '(apt-get install redis-server)');
        }
    }
}

# A redis-server left by an interrupted run of the same file (its pid
# file in dir, still a redis-server) is killed.
sub stop_leftover {
    my ($self) = @_;
    my $pid = MockTest::slurp("$self->{dir}/redis.pid");
    if ($pid =~ /^(\d+)/ && MockTest::slurp("/proc/$1/cmdline")
                            =~ /redis-server/)
    {
        kill 'KILL', $1;
        my $deadline = time + $self->{wait};
        sleep 0.02 while MockTest::alive($1) && time < $deadline;
    }
    unlink "$self->{dir}/redis.pid";
}

# Starts it, unless it runs, and waits until it answers.
sub start {
    my ($self) = @_;
    return if $self->{pid} && MockTest::alive($self->{pid});
    File::Path::make_path($self->{dir});

    my @args = ('--bind', '127.0.0.1', '--port', $self->{port},
                '--save', '', '--appendonly', 'no', '--daemonize', 'no',
                '--dir', $self->{dir},
                '--logfile', "$self->{dir}/redis.log");
    if (`redis-server --version` =~ /\bv=(\d+)/ && $1 >= 7) {
        push @args, '--enable-debug-command', 'local';
    }
    push @args, '--unixsocket', $self->{socket}, '--unixsocketperm', '700'
        if defined $self->{socket};
    push @args, '--requirepass', $self->{password}
        if defined $self->{password};

    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec 'redis-server', @args or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    MockTest::write_file("$self->{dir}/redis.pid", "$pid\n");

    my $deadline = time + $self->{wait};
    until ($self->answers) {
        if (time > $deadline || !MockTest::alive($pid)) {
            die "redis-server did not start:\n" . $self->log;
        }
        sleep 0.02;
    }
}

# Stops it with $sig (TERM by default; KILL for a crash) and waits until
# it is gone.
sub stop {
    my ($self, $sig) = @_;
    my $pid = $self->{pid} or return;
    kill $sig // 'TERM', $pid;
    my $deadline = time + $self->{wait};
    while (MockTest::alive($pid) && time < $deadline) {
        waitpid $pid, POSIX::WNOHANG();
        sleep 0.02;
    }
    kill 'KILL', $pid if MockTest::alive($pid);
    waitpid $pid, 0;
    unlink "$self->{dir}/redis.pid";
    undef $self->{pid};
}

# Whether it answers a PING within $secs seconds (0.1 by default), on a
# raw connection: redis-cli would wait for a stalled Redis.  A Redis
# that wants a password answers NOAUTH, which counts as an answer.
sub answers {
    my ($self, $secs) = @_;
    $secs //= 0.1;
    my $sock = $self->{port}
        ? IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                PeerPort => $self->{port},
                                Proto => 'tcp', Timeout => $secs)
        : IO::Socket::UNIX->new(Peer => $self->{socket});
    $sock or return 0;
    print {$sock} "PING\r\n";
    my $answer = '';
    sysread $sock, $answer, 64 if IO::Select->new($sock)->can_read($secs);
    close $sock;
    return $answer =~ /^(\+PONG|-NOAUTH)/;
}

# Starts "redis-cli ... DEBUG SLEEP $secs" in the background and waits
# until Redis no longer answers a PING: it sleeps then.  Returns the
# redis-cli's pid, to wait for.
sub stall {
    my ($self, $secs) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec 'redis-cli', $self->cli_args, 'DEBUG', 'SLEEP', $secs
            or POSIX::_exit(127);
    }
    my $deadline = time + $self->{wait};
    sleep 0.01 while $self->answers && time < $deadline;
    return $pid;
}

# The redis-cli options that reach it.
sub cli_args {
    my ($self) = @_;
    my @args = $self->{port} ? ('-p', $self->{port})
                             : ('-s', $self->{socket});
    push @args, '-a', $self->{password}, '--no-auth-warning'
        if defined $self->{password};
    return @args;
}

# redis-cli against it; its output lines, the empty ones left out.
sub command {
    my ($self, @cmd) = @_;
    open my $out, '-|', 'redis-cli', $self->cli_args, @cmd
        or die "cannot run redis-cli: $!";
    my @lines = map { s/\s+\z//r } <$out>;
    close $out;
    return grep { length } @lines;
}

1;
