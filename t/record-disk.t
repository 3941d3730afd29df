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
use File::Path qw(make_path remove_tree);
use FindBin;

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test skip_without_python
                server_port lock_run slurp write_file run_cmd split_items
                check_item yaml_count);

skip_under_valgrind('this file runs its own nginx, not under valgrind');

my $module = module_under_test();

skip_without_python('import yaml',
                    'with PyYAML is needed to check the cassette '
                    . '(Debian: apt-get install python3-yaml)');

my $port  = server_port(23);
my $root  = "$FindBin::Bin/servroot-record-disk";
my $conf  = "$root/conf/nginx.conf";
my $disk  = "$root/disk";          # the small tmpfs
my $cassette = "$disk/rec.yaml";

# The service being recorded, as the cassette names it.
my $upstream = "http://127.0.0.1:$port/backend";

my $REQUESTS = 30;
my $WORKERS  = 2;
my $WAIT     = 10;   # seconds to wait for nginx to start, stop, answer

my $HEAD = "# recorded by nginx: new interactions are appended at the end\nversion: 1\ninteractions:\n";

# The upstream's body: the path it got, then 8,000 bytes of padding.
# nginx refuses a configuration token over 4 KB, so the padding is built
# from a 1,000 byte variable.
my $UNIT = join '', map { sprintf "%-9d|", $_ } 0 .. 99;   # 1000 bytes
my $PAD  = $UNIT x 8;

# A second run of this file waits for this one to finish.
my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => $root, port => $port,
                                 module => $module, workers => $WORKERS,
                                 wait => $WAIT);
my $mounted;

# Stop nginx whatever happens, then unmount: nginx holds the cassette
# open, and a busy file system cannot be unmounted.
END {
    local $?;
    $nginx->stop if $nginx;
    unmount() if $mounted;
}

$nginx->stop_leftover;

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
$nginx->start;

my %want;   # path => body
my @bad;
for my $n (0 .. $REQUESTS - 1) {
    my $path = "/api/r$n";
    $want{$path} = want($path);
    my $r = $nginx->get($path);
    push @bad, "$path: $r->{status}, " . length($r->{content}) . ' bytes'
        unless $r->{status} == 200 && $r->{content} eq $want{$path};
}
is(scalar(@bad), 0, "$REQUESTS requests answered 200 with the full body")
    or diag(join "\n", @bad);

$nginx->stop;

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
    my ($path, $why) = check_item($items[$i], $upstream, \&want);
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

my ($rc, $out, $err) = $nginx->test_config;
is($rc, 0, 'nginx -t accepts the cassette') or diag($err);
unlike($err, qr/incomplete interaction/, 'nginx -t finds nothing incomplete')
    or diag($err);


# (b) cassettes that cannot be written

my $missing = "$root/no/such/directory/rec.yaml";
write_file($conf, config(cassette => $missing));
($rc, $out, $err) = $nginx->test_config;
isnt($rc, 0, 'nginx -t fails for a cassette in a directory that does not '
     . 'exist');
like($err, qr/\Q"$missing"\E cannot be written by recording/,
     'nginx -t says the cassette cannot be written by recording')
    or diag($err);

($rc, $out, $err) = run_cmd('mount', '-o', 'remount,ro', $disk);
is($rc, 0, 'the tmpfs is remounted read-only') or diag($err);
write_file($conf, config(cassette => $cassette));
($rc, $out, $err) = $nginx->test_config;
isnt($rc, 0, 'nginx -t fails for a cassette on a read-only file system');
like($err, qr/\Q"$cassette"\E cannot be written by recording/,
     'nginx -t says the cassette cannot be written by recording')
    or diag($err);

# Replaying from a read-only file system is fine.
write_file($conf, config(cassette => $cassette, mode => 'replay'));
($rc, $out, $err) = $nginx->test_config;
is($rc, 0, 'nginx -t accepts replaying it') or diag($err);

unmount();
ok(!is_mounted(), 'the tmpfs is unmounted');
ok(!$nginx->masters_of_this_root, 'nginx stopped');

done_testing();


sub config {
    my (%arg) = @_;
    my $mode = $arg{mode} // 'record';
    return $nginx->conf_head(connections => 256) . <<"EOF";
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

sub is_mounted {
    return scalar grep { (split ' ')[1] eq $disk }
                       split /\n/, slurp('/proc/mounts');
}

sub unmount {
    my ($rc, $out, $err) = run_cmd('umount', $disk);
    diag("umount $disk: $err") if $rc != 0;
    $mounted = 0 if $rc == 0;
}
