# Recording into a cassette on a full disk, or one that cannot be written.
#
# The cassette is on a tmpfs of 64 KB, and each recorded interaction is
# some 8.5 KB: after a few requests every write() fails with ENOSPC,
# possibly after writing part of the item.  Each request must still get
# the proxied response in full, the failure must be logged at [error]
# ("mock: cannot record into cassette"), and the file must stay valid:
# what a failed write left is cut off again, so every item in the file is
# complete.  Each request is either recorded or logged as not recorded.
#
# A cassette that cannot be written at all is refused by "nginx -t": in a
# directory that does not exist, and on a read-only file system.
#
# Mounting needs root (or CAP_SYS_ADMIN): without it the file is skipped.
# This file runs its own nginx under t/servroot-record-disk/.

use strict;
use warnings;

use Test::More;
use Fcntl qw(:flock);
use FindBin;
use File::Path qw(make_path remove_tree);
use File::Spec;
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(sleep time);

if ($ENV{TEST_NGINX_USE_VALGRIND}) {
    plan skip_all => 'this file runs its own nginx, not under valgrind';
}

my ($module) = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
if (!defined $module) {
    plan skip_all => 'TEST_NGINX_LOAD_MODULES does not name the module '
                     . '(run through scripts/run-tests.sh or "make test")';
}
$module = File::Spec->rel2abs($module);
if (!-f $module) {
    plan skip_all => "module not found: $module";
}

my $python = '/usr/bin/python3';
if (system("$python -c 'import yaml' >/dev/null 2>&1") != 0) {
    plan skip_all => "$python with PyYAML is needed to check the cassette "
                     . '(Debian: apt-get install python3-yaml)';
}

my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $port  = ($ENV{TEST_NGINX_SERVER_PORT} || 1984) + 23;
my $root  = "$FindBin::Bin/servroot-record-disk";
my $conf  = "$root/conf/nginx.conf";
my $disk  = "$root/disk";          # the small tmpfs
my $cassette = "$disk/rec.yaml";

my $REQUESTS = 30;
my $WORKERS  = 2;
my $WAIT     = 10;   # seconds to wait for nginx to start, stop, answer

my $HEAD = "# recorded by nginx: new interactions are appended at the end\nversion: 1\ninteractions:\n";

# The upstream's body: the path it got, then 8,000 bytes of padding.
# nginx refuses a configuration token over 4 KB, so the padding is built
# from a 1,000 byte variable.
my $UNIT = join '', map { sprintf "%-9d|", $_ } 0 .. 99;   # 1000 bytes
my $PAD  = $UNIT x 8;

my $master_pid;
my %seen_workers;   # every worker seen, see stop_nginx()
my $mounted;

# Stop nginx whatever happens, then unmount: nginx holds the cassette
# open, and a busy file system cannot be unmounted.
END {
    local $?;
    stop_nginx();
    unmount() if $mounted;
}

# Two runs of this file at once would share the server root and the
# port: the second run waits for the first.
open my $lock, '>>', "$root.lock" or die "cannot open $root.lock: $!";
if (!flock $lock, LOCK_EX | LOCK_NB) {
    diag("waiting for another run of this test to finish");
    flock $lock, LOCK_EX or die "cannot lock $root.lock: $!";
}

# An nginx left over by an interrupted earlier run would hold the port.
if (open my $fh, '<', "$root/logs/nginx.pid") {
    my $pid = <$fh>;
    close $fh;
    # Only when the pid is still an nginx: pids get reused.
    if (defined $pid && $pid =~ /^(\d+)/
        && slurp("/proc/$1/cmdline") =~ /nginx/)
    {
        $master_pid = $1;
        stop_nginx();
    }
}

# And a tmpfs left mounted would keep the server root from being removed.
$mounted = 1 if is_mounted();
unmount() if $mounted;

remove_tree($root);
make_path("$root/conf", "$root/logs", $disk);

{
    my ($rc, $out, $err) = run_cmd('mount', '-t', 'tmpfs', '-o', 'size=64k',
                                   'tmpfs', $disk);
    if ($rc != 0) {
        plan skip_all => "cannot mount a small tmpfs to fill up (needs "
                         . "root): $err";
    }
    $mounted = 1;
}


# (a) the disk fills up while recording

write_file($conf, config(cassette => $cassette));
start_nginx();

my %want;   # path => body
my @bad;
for my $n (0 .. $REQUESTS - 1) {
    my $path = "/api/r$n";
    $want{$path} = want($path);
    my $r = get($path);
    push @bad, "$path: $r->{status}, " . length($r->{content}) . ' bytes'
        unless $r->{status} == 200 && $r->{content} eq $want{$path};
}
is(scalar(@bad), 0, "$REQUESTS requests answered 200 with the full body")
    or diag(join "\n", @bad);

stop_nginx();

my $log = slurp("$root/logs/error.log");
my @failed = $log =~ /^(.*\[error\] .* mock:\ cannot\ record\ into
                          \ cassette .*)$/xmg;
my $failed = @failed;
ok($failed > 0, "the error log has \"mock: cannot record into cassette\" "
   . "($failed times)");
my $reason = qr/cassette "\Q$cassette\E" \(28: No space left on device\)/;
is(scalar(grep { !/$reason/ } @failed), 0,
   'each of these lines names the cassette and "No space left on device"')
    or diag(join "\n", @failed[0 .. ($#failed < 2 ? $#failed : 2)]);
unlike($log, qr/exited on signal|\[alert\]|\[crit\]/,
       'no worker crashed, no alert')
    or diag(join "\n",
            $log =~ /^(.*(?:exited on signal|\[alert\]|\[crit\]).*)$/mg);

my $text = slurp($cassette);
my ($head, @items) = split_items($text);
is($head, $HEAD, 'the cassette starts with its version and the '
   . 'interactions key');

my (@broken, %recorded);
for my $i (0 .. $#items) {
    my ($path, $why) = check_item($items[$i]);
    $recorded{$path}++ if defined $path;
    push @broken, "item $i: $why" if $why;
}
ok(@items > 0, scalar(@items) . ' items recorded before the disk was full');
is(scalar(@broken), 0, 'every item in the file is complete and intact')
    or diag(join "\n", @broken);
is(scalar(grep { $_ > 1 } values %recorded), 0, 'no path recorded twice');
is(@items + $failed, $REQUESTS, 'every request was recorded or logged as '
   . 'not recorded');
is(yaml_count($cassette), '1 ' . scalar(@items),
   'PyYAML loads the cassette with all its items');

my ($rc, $out, $err) = run_cmd($nginx, '-t', '-p', "$root/", '-c', $conf);
is($rc, 0, 'nginx -t accepts the cassette') or diag($err);
unlike($err, qr/incomplete interaction/, 'nginx -t finds nothing incomplete')
    or diag($err);


# (b) cassettes that cannot be written

my $missing = "$root/no/such/directory/rec.yaml";
write_file($conf, config(cassette => $missing));
($rc, $out, $err) = run_cmd($nginx, '-t', '-p', "$root/", '-c', $conf);
isnt($rc, 0, 'nginx -t fails for a cassette in a directory that does not '
     . 'exist');
like($err, qr/\Q"$missing"\E cannot be written by recording/,
     'nginx -t says the cassette cannot be written by recording')
    or diag($err);

($rc, $out, $err) = run_cmd('mount', '-o', 'remount,ro', $disk);
is($rc, 0, 'the tmpfs is remounted read-only') or diag($err);
write_file($conf, config(cassette => $cassette));
($rc, $out, $err) = run_cmd($nginx, '-t', '-p', "$root/", '-c', $conf);
isnt($rc, 0, 'nginx -t fails for a cassette on a read-only file system');
like($err, qr/\Q"$cassette"\E cannot be written by recording/,
     'nginx -t says the cassette cannot be written by recording')
    or diag($err);

# Replaying from a read-only file system is fine.
write_file($conf, config(cassette => $cassette, mode => 'replay'));
($rc, $out, $err) = run_cmd($nginx, '-t', '-p', "$root/", '-c', $conf);
is($rc, 0, 'nginx -t accepts replaying it') or diag($err);

unmount();
ok(!is_mounted(), 'the tmpfs is unmounted');
ok(!masters_of_this_root(), 'nginx stopped');

done_testing();


sub config {
    my (%arg) = @_;
    my $mode = $arg{mode} // 'record';
    return <<"EOF";
load_module $module;
@{[ $> == 0 ? 'user root;' : '' ]}
daemon on;
master_process on;
worker_processes $WORKERS;
error_log logs/error.log info;
pid logs/nginx.pid;

events {
    worker_connections 256;
}

http {
    access_log off;

    server {
        listen 127.0.0.1:$port;

        # the service being recorded: 8 KB bodies
        location /backend/ {
            set \$unit "$UNIT";
            set \$pad "@{[ '$unit' x 8 ]}";
            return 200 "\$uri\\n\$pad\\n";
        }

        location /api/ {
            proxy_pass http://127.0.0.1:$port/backend/;
            mock_upstream http://127.0.0.1:$port/backend/;
            mock_replay $arg{cassette};
            mock_mode $mode;
        }
    }
}
EOF
}

# The body the upstream sends for /api$path.
sub want {
    my ($path) = @_;
    return ($path =~ s{^/api}{/backend}r) . "\n$PAD\n";
}

sub complete {
    my ($item) = @_;
    return $item =~ /\n# recorded \S+\n\z/;
}

# Checks one recorded item; returns the client path it records and what
# is wrong with it, if anything.
sub check_item {
    my ($item) = @_;
    my @uris = $item =~ /^    uri: "(.*)"$/mg;
    my ($body) = $item =~ /^  response:\n    body:\n      string: (.*)$/m;

    return (undef, 'not complete') unless complete($item);
    return (undef, 'more than one "- request:"')
        if (() = $item =~ /- request:/g) != 1;
    return (undef, scalar(@uris) . ' uri lines') if @uris != 1;

    my ($path) = $uris[0] =~ m{^http://127\.0\.0\.1:$port/backend(/.*)$}
        or return (undef, "unexpected uri $uris[0]");
    $path = "/api$path";

    return ($path, 'not a GET') unless $item =~ /^    method: "GET"$/m;
    return ($path, 'not status 200') unless $item =~ /^      code: 200$/m;

    # The body for this very uri, as the writer quotes it.
    my $quoted = '"' . (want($path) =~ s/\n/\\n/gr) . '"';
    return ($path, "no response body") unless defined $body;
    return ($path, 'response body of ' . length($body) . ' bytes is not '
                   . "the one for $path") if $body ne $quoted;
    return ($path, undef);
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

# "<version> <number of interactions>" as PyYAML loads the file, or its
# error.
sub yaml_count {
    my ($file) = @_;
    my ($rc, $out, $err) = run_cmd(
        $python, '-c',
        'import yaml,sys; d=yaml.safe_load(open(sys.argv[1])); '
        . 'print(d["version"], len(d["interactions"] or []))',
        $file);
    chomp $out;
    return $rc == 0 ? $out : "PyYAML failed: $err";
}

# A cassette written by the module: its head ("version: 1" and
# "interactions:"), then its items, each from its "- request:" line at
# column 0 up to the next one.
sub split_items {
    my ($text) = @_;
    my @parts = split /^(?=- request:)/m, $text;
    my $head = (@parts && $parts[0] !~ /^- request:/) ? shift @parts : '';
    return ($head, @parts);
}

sub write_file {
    my ($file, $text) = @_;
    open my $fh, '>', "$file.tmp" or die "cannot write $file.tmp: $!";
    print {$fh} $text;
    close $fh or die "cannot write $file.tmp: $!";
    rename "$file.tmp", $file or die "cannot rename $file.tmp: $!";
}

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

# Runs a command; returns its wait status, its stdout and its stderr.
sub run_cmd {
    my @cmd = @_;
    my ($outfile, $errfile) = ("$root/cmd.stdout", "$root/cmd.stderr");
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $outfile;
        open STDERR, '>', $errfile;
        exec @cmd or do {
            print STDERR "exec $cmd[0]: $!\n";
            POSIX::_exit(127);
        };
    }
    waitpid $pid, 0;
    my $rc = $?;
    my ($out, $err) = (slurp($outfile), slurp($errfile));
    unlink $outfile, $errfile;
    return ($rc, $out, $err);
}

sub read_pid {
    my $pid = slurp("$root/logs/nginx.pid");
    return $pid =~ /^(\d+)/ ? $1 : undef;
}

# The children of a master process, from /proc: its workers.
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

sub worker_pids {
    my @pids = $master_pid ? children_of($master_pid) : ();
    $seen_workers{$_} = 1 for @pids;
    return @pids;
}

# nginx masters still running from this server root (their command line
# names it).
sub masters_of_this_root {
    my @pids;
    for my $cmdline (glob '/proc/[0-9]*/cmdline') {
        my $cmd = slurp($cmdline);
        push @pids, $cmdline =~ m{(\d+)} if index($cmd, $root) >= 0;
    }
    return @pids;
}

# Starts nginx; returns what it wrote to stderr before it detached (the
# warnings about the configuration, which it loads before it opens the
# error log).
sub start_nginx {
    my ($rc, $out, $err) = run_cmd($nginx, '-p', "$root/", '-c', $conf);
    die "nginx did not start:\n$err" if $rc != 0;

    # The daemon writes its pid file once it has detached.
    my $deadline = time + $WAIT;
    until (defined($master_pid = read_pid())
           && worker_pids() >= $WORKERS)
    {
        if (time > $deadline) {
            die "nginx did not come up:\n" . slurp("$root/logs/error.log");
        }
        sleep 0.05;
    }
    return $err;
}

# A process that exited but was not reaped yet (the daemonized master is
# reaped by init) counts as gone.
sub alive {
    my ($pid) = @_;
    return kill(0, $pid) && slurp("/proc/$pid/stat") !~ /^\d+ \(.*\) Z /;
}

sub stop_nginx {
    if ($master_pid && alive($master_pid)) {
        worker_pids();

        # QUIT first for a graceful stop, TERM and KILL if it hangs.
        for my $sig (qw(QUIT TERM KILL)) {
            kill $sig, $master_pid;
            my $deadline = time + $WAIT;
            while (alive($master_pid) && time < $deadline) {
                sleep 0.05;
            }
            last unless alive($master_pid);
            diag("nginx master $master_pid ignored SIG$sig");
        }
    }

    # Workers whose master died would go on holding the port.
    for my $pid (keys %seen_workers) {
        kill 'KILL', $pid if slurp("/proc/$pid/cmdline") =~ /^nginx: worker/;
    }
    %seen_workers = ();
    unlink "$root/logs/nginx.pid" if defined $root;
    undef $master_pid;
}

sub get {
    my ($path) = @_;
    my $http = HTTP::Tiny->new(keep_alive => 0, timeout => $WAIT);
    return $http->get("http://127.0.0.1:$port$path");
}

sub is_response {
    my ($r, $status, $body, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = is("$r->{status} $r->{content}", "$status $body", $name);
    diag(slurp("$root/logs/error.log")) unless $ok;
    return $ok;
}
