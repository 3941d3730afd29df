package Test::Nginx::Socket;

# A self-contained implementation of the part of OpenResty's
# Test::Nginx::Socket that this project's test suite uses.  It is put on
# @INC by scripts/run-tests.sh only when the real module is not installed,
# so every t/*.t file must behave the same under both: the generated
# nginx.conf, the server root layout, the request format, the order and
# the names of the emitted tests follow upstream.  See the POD at the end
# for the supported sections and the known differences.

use v5.10.1;
use strict;
use warnings;

# Inherit from Test::Base the way upstream does, so that
# "use Test::Nginx::Socket" reads the __DATA__ blocks, accepts 'no_plan' or
# "tests => N" and exports Test::More's functions.  The lower-case -base
# form is used so that no source filter rewrites this file.
use Test::Base -base;

use File::Find ();
use File::Path qw(make_path remove_tree);
use File::Spec ();
use File::Temp ();
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(min shuffle);
use POSIX qw(:sys_wait_h EAGAIN EINTR EWOULDBLOCK SIGHUP SIGKILL SIGQUIT
             SIGTERM SIGUSR1);
use Scalar::Util qw(looks_like_number);
use Test::LongString qw(is_string);
use Time::HiRes qw(sleep time);

our $VERSION = '0.001';

our @EXPORT = qw(
    env_to_nginx is_str plan run_tests run_test
    repeat_each config_preamble worker_connections
    master_process_enabled
    no_long_string workers master_on master_off
    log_level no_shuffle no_root_location use_hup
    server_name
    server_addr server_root html_dir server_port server_port_for_client
    timeout check_accum_error_log
    add_block_preprocessor bail_out add_cleanup_handler
    add_response_body_check
);

#---------------------------------------------------------------------------
# Settings (environment defaults as upstream)
#---------------------------------------------------------------------------

our $ServerAddr           = '127.0.0.1';
our $ServerName           = 'localhost';
our $ServerPort           = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                            || 1984;
our $ServerPortForClient  = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $NginxBinary          = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $Workers              = 1;
our $WorkerConnections    = 64;
our $LogLevel             = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $NoRootLocation       = 0;
our $TestNginxSleep       = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $Timeout              = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $RepeatEach           = 1;
our $NoShuffle            = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoLongString;
our $UseValgrind          = $ENV{TEST_NGINX_USE_VALGRIND};
our $UseHup               = $ENV{TEST_NGINX_USE_HUP};
our $LoadModules          = $ENV{TEST_NGINX_LOAD_MODULES};
our $CheckAccumErrLog     = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $Verbose              = $ENV{TEST_NGINX_VERBOSE};
our $WorkerUser           = $ENV{TEST_NGINX_WORKER_USER};
our $ConfigPreamble       = '';

our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers, @ResponseBodyChecks);

if (defined $WorkerUser && $WorkerUser !~ /^\w+(?:\s+\w+)?$/) {
    die "Bad value in the env TEST_NGINX_WORKER_USER: $WorkerUser\n";
}

# Server root layout: t/servroot/{conf,html,logs}.
our $ServRoot   = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";

# What nginx writes to stderr while starting.  Debian's nginx logs
# configuration errors there rather than to logs/error.log.
our $StartupStderrFile = "$LogDir/stderr.log";

$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

# Upstream keeps these in Test::Nginx::Util; alias them there so that a
# test file naming $Test::Nginx::Util::ServerPort works with both.
{
    no strict 'refs';
    for my $var (qw(ServerAddr ServerName ServerPort ServerPortForClient
                    NginxBinary NginxVersion RepeatEach ServRoot LogDir
                    ErrLogFile AccLogFile HtmlDir ConfDir ConfFile PidFile))
    {
        *{"Test::Nginx::Util::$var"} = \${"Test::Nginx::Socket::$var"};
    }
}

#---------------------------------------------------------------------------
# Run state
#---------------------------------------------------------------------------

our $NginxVersion;          # canonical form, e.g. 1.022001
our $NginxRawVersion;       # e.g. 1.22.1
our $ChildPid;              # nginx kept in the foreground (valgrind)
our $ErrLogFilePos = 0;     # error.log offset already checked
our $PrevConfig;            # the --- config nginx is running with
our $FirstTime = 1;
our $ConfigVersion;         # HUP mode: tells the reloaded config apart
our $TotalConnectingTimeouts = 0;

my $ValgrindLogDir;         # valgrind --log-file directory
my %ValgrindLogPos;         # bytes of each valgrind log already reported
my $CurrentBlockName = '';

my @RandStrAlphabet = ('A' .. 'Z', 'a' .. 'z', '0' .. '9');

#---------------------------------------------------------------------------
# Public settings API
#---------------------------------------------------------------------------

sub no_long_string () { $NoLongString = 1 }
sub no_shuffle ()     { $NoShuffle = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub use_hup ()        { $UseHup = 1 }
sub master_on ()      { $MasterProcessEnabled = 'on' }
sub master_off ()     { $MasterProcessEnabled = 'off' }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub config_preamble ($) { $ConfigPreamble = shift }
sub html_dir ()       { $HtmlDir }
sub server_root ()    { $ServRoot }

sub master_process_enabled (@) {
    return $MasterProcessEnabled unless @_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}

sub repeat_each (@)        { $RepeatEach = shift if @_; $RepeatEach }
sub workers (@)            { return $Workers unless @_; $Workers = shift }
sub worker_connections (@) { return $WorkerConnections unless @_;
                             $WorkerConnections = shift }
sub log_level (@)          { return $LogLevel unless @_; $LogLevel = shift }
sub timeout (@)            { return $Timeout unless @_; $Timeout = shift }
sub server_addr (@)        { return $ServerAddr unless @_; $ServerAddr = shift }
sub server_name (@)        { return $ServerName unless @_; $ServerName = shift }
sub server_port (@)        { return $ServerPort unless @_; $ServerPort = shift }
sub server_port_for_client (@) {
    return $ServerPortForClient unless @_;
    $ServerPortForClient = shift;
}

sub env_to_nginx (@) {
    Carp::croak("env_to_nginx: no arguments specified") unless @_;
    for my $v (@_) {
        if ($v !~ /^[A-Za-z_]/ || $v =~ /\n/) {
            Carp::croak("env_to_nginx: bad argument value: $v\n");
        }
        push @EnvToNginx, $v;
    }
}

sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($)    { unshift @CleanupHandlers, shift }
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

sub is_str (@) {
    my ($got, $expected, $desc) = @_;

    if (ref $expected && ref $expected eq 'Regexp') {
        return like($got, $expected, $desc);
    }

    return is($got, $expected, $desc) if $NoLongString;
    return is_string($got, $expected, $desc);
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

#---------------------------------------------------------------------------
# Small utilities
#---------------------------------------------------------------------------

sub parse_time {
    my $tm = shift;
    return undef unless defined $tm;
    if ($tm =~ s/([^_a-zA-Z])ms$/$1/) {
        $tm = $tm / 1000;
    } else {
        $tm =~ s/([^_a-zA-Z])s$/$1/;
    }
    return $tm;
}

sub trim {
    my $s = shift;
    return undef unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /gs;
    $s =~ s/\s{2,}/ /gs;
    return $s;
}

sub fmt_str {
    my $str = shift;
    chomp $str;
    $str =~ s/"/\\"/g;
    $str =~ s/\r/\\r/g;
    $str =~ s/\n/\\n/g;
    return $str;
}

sub slurp {
    my $file = shift;
    open my $in, '<', $file or return undef;
    local $/;
    my $data = <$in>;
    close $in;
    return $data // '';
}

sub gen_rand_str {
    my $len = shift;
    return join '', map { $RandStrAlphabet[rand @RandStrAlphabet] } 1 .. $len;
}

sub gen_rand_port {
    my $used = shift;
    for (1 .. 1000) {
        my $port = int(rand 63550) + 1985;
        next if $used->{$port};
        my $sock = IO::Socket::INET->new(
            LocalAddr => $ServerAddr,
            LocalPort => $port,
            Proto     => 'tcp',
        ) or next;
        close $sock;
        return $port;
    }
    return undef;
}

# Replaces $TEST_NGINX_* in config text by the environment's values, and
# $TEST_NGINX_RAND_PORT_N by a free port (the same one within a block).
sub expand_env_in_text {
    my ($text, $name, $rand_ports) = @_;
    return undef unless defined $text;

    my %used = ($ServerPort => 1, map { $_ => 1 } values %$rand_ports);

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $value;
        if ($var =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            $value = $rand_ports->{$var} //= do {
                my $port = gen_rand_port(\%used)
                    // bail_out("$name - Cannot find an available listening "
                                . "port number for $var.\n");
                $used{$port} = 1;
                $port;
            };
        } else {
            $value = $ENV{$var}
                // bail_out("$name - No environment $var defined.\n");
        }
        $value;
    }eg;

    return $text;
}

sub can_run {
    my $cmd = shift;
    return -f $cmd && -x _ if $cmd =~ m{/};
    return scalar grep { length && -f "$_/$cmd" && -x _ } split /:/, $ENV{PATH};
}

sub get_canon_version {
    sprintf "%d.%03d%03d", $_[0], $_[1], $_[2];
}

sub get_nginx_version {
    my $out = `$NginxBinary -V 2>&1`;
    if (!defined $out || $? != 0) {
        bail_out("Failed to get the version of the Nginx in PATH: "
                 . ($out // ''));
    }
    if ($out =~ m{(?:nginx|openresty)[^/]*/(\d+)\.(\d+)\.(\d+)}s
        || $out =~ m{\w+/(\d+)\.(\d+)\.(\d+)}s)
    {
        $NginxRawVersion = "$1.$2.$3";
        return get_canon_version($1, $2, $3);
    }
    bail_out("Failed to parse the output of \"nginx -V\": $out\n");
}

#---------------------------------------------------------------------------
# Server root and nginx.conf
#---------------------------------------------------------------------------

sub setup_server_root {
    my $first_time = shift;

    if (-d $ServRoot) {
        # Remove only what we create, so a mistaken TEST_NGINX_SERVROOT
        # cannot wipe real data.
        remove_tree($ConfDir, glob("$ServRoot/*_cache"),
                    glob("$ServRoot/*_temp"));

        if ($UseHup) {
            # nginx keeps running: empty the files, keep the directories
            # (and the pid file) it holds on to.
            File::Find::find({ bydepth => 1, no_chdir => 1, wanted => sub {
                return if -d $_;
                return if !$first_time
                          && /(?:\bnginx\.pid|\.sock|\.crt|\.key)$/;
                unlink $_ or warn "Failed to remove $_: $!\n";
            } }, $ServRoot);

        } else {
            remove_tree($HtmlDir, $LogDir);
            rmdir $ServRoot
                or bail_out("Can't remove $ServRoot (not empty?): $!");
        }
    }

    for my $dir ($ServRoot, $LogDir, $HtmlDir) {
        next if -d $dir;
        mkdir $dir or bail_out("Failed to do mkdir $dir: $!\n");
    }

    my $index_file = "$HtmlDir/index.html";
    open my $out, '>', $index_file
        or bail_out("Can't open $index_file for writing: $!\n");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;

    mkdir $ConfDir or bail_out("Failed to do mkdir $ConfDir: $!\n");
}

# --- user_files: either ">>> name [date]" text, or [[name, body, date], ...].
sub write_user_files {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return unless $files;

    if (!ref $files) {
        my @list;
        for my $line (split /^/m, $files) {
            if ($line =~ />>> (\S+)(?:\s+(.+))?/) {
                push @list, [$1, undef, $2];
            } elsif (@list) {
                $list[-1][1] .= $line;
            }
        }
        $files = \@list;

    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: ", ref $files,
                 ", only scalar or ARRAY are accepted");
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";

        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1) or bail_out("$name - Cannot create directory $1");
        }

        $body = expand_env_in_text($body // '', $name, $rand_ports);

        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;

        if ($date) {
            my $cmd = "TZ=GMT touch -t '$date' '$path'";
            system($cmd) == 0
                or bail_out("Failed to run shell command: $cmd\n");
        }
    }
}

sub write_config_file {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;

    master_on() if $UseHup;     # reloading needs a master process

    my $http_config = expand_env_in_text(scalar $block->http_config, $name,
                                         $rand_ports) // '';
    my $main_config = expand_env_in_text(scalar $block->main_config, $name,
                                         $rand_ports) // '';
    my $post_main_config = expand_env_in_text(scalar $block->post_main_config,
                                              $name, $rand_ports) // '';
    my $err_log_file = $block->error_log_file || $ErrLogFile;
    my $server_name = $block->server_name // $ServerName;
    $config //= '';

    (my $quoted_server_name = $server_name) =~ s/\\/\\\\/g;
    $quoted_server_name =~ s/'/\\'/g;

    # nginx stays in the foreground when it runs under valgrind.
    my $daemon = $UseValgrind ? 'off' : 'on';

    my $load_modules = join '', map { "load_module $_;\n" }
                                grep { length } split /\s+/, $LoadModules // '';

    my $env_lines = join '', map { /\s/ ? "env '$_';\n" : "env $_;\n" }
                             @EnvToNginx;

    my $root_location = $NoRootLocation ? '' : <<_EOC_;
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    my $version_server = !$UseHup ? '' : <<_EOC_;
    server {
        listen          $ServerPort;
        server_name     'Test-Nginx';

        location = /ver {
            return 200 '$ConfigVersion';
        }
    }
_EOC_

    my $user = defined $WorkerUser ? "user $WorkerUser;\n"
             : $> == 0             ? "user root;\n"
             :                       '';

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!\n");

    print $out <<_EOC_;
${load_modules}worker_processes  $Workers;
daemon $daemon;
master_process $MasterProcessEnabled;
error_log $err_log_file $LogLevel;
pid       $PidFile;
env MOCKEAGAIN_VERBOSE;
env MOCKEAGAIN;
env MOCKEAGAIN_WRITE_TIMEOUT_PATTERN;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env DYLD_INSERT_LIBRARIES;
env DYLD_FORCE_FLAT_NAMESPACE;
$env_lines#env LUA_PATH;
#env LUA_CPATH;

$main_config

http {
    access_log $AccLogFile;
    #access_log off;

    default_type text/plain;
    keepalive_timeout  68;

$http_config

    server {
        listen          $ServerPort;
        server_name     '$quoted_server_name';

        client_max_body_size 30M;
        #client_body_buffer_size 4k;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
$version_server}

$post_main_config

#timer_resolution 100ms;

events {
    accept_mutex off;

    worker_connections  $WorkerConnections;
}
env ASAN_OPTIONS;
env MOCKNOEAGAIN_VERBOSE;
env MOCKNOEAGAIN;
$user
_EOC_

    close $out;
}

#---------------------------------------------------------------------------
# nginx processes
#---------------------------------------------------------------------------

sub is_running {
    my $pid = shift;
    waitpid($pid, WNOHANG);     # reaps our own (valgrind) child
    return 0 unless kill 0, $pid;

    # An exited daemon stays a zombie until init reaps it, which can take
    # a while in containers.
    my $stat = slurp("/proc/$pid/stat");
    return !(defined $stat && $stat =~ /^\d+ \(.*\) Z/s);
}

# Whether $pid still looks like an nginx (guards against a reused pid
# read from a stale pid file).
sub looks_like_nginx {
    my $pid = shift;
    my $cmdline = slurp("/proc/$pid/cmdline");
    return 1 unless defined $cmdline;
    return $cmdline =~ /nginx/i;
}

sub get_pid_from_pidfile {
    my $name = shift;
    my $pid = slurp($PidFile);
    bail_out("$name - Failed to open the pid file $PidFile for reading: $!")
        unless defined $pid;
    chomp $pid;
    return $pid;
}

# The pid of the nginx serving the previous block, if any is still alive.
sub running_nginx_pid {
    my $name = shift;

    if (defined $ChildPid) {
        return $ChildPid if is_running($ChildPid);
        undef $ChildPid;
    }

    return undef unless -f $PidFile;

    my $pid = get_pid_from_pidfile($name);
    if ($pid =~ /^\d+$/ && is_running($pid) && looks_like_nginx($pid)) {
        return $pid;
    }

    unlink $PidFile;
    return undef;
}

sub wait_for_exit {
    my ($pid, $seconds) = @_;
    my $deadline = time + $seconds;
    while (is_running($pid)) {
        return 0 if time > $deadline;
        sleep 0.05;
    }
    return 1;
}

# Stops nginx gracefully (QUIT), then with TERM, then with KILL.
sub kill_process {
    my ($pid, $name) = @_;

    # A valgrind run checks for leaks on exit, which takes a while.
    my $in_foreground = defined $ChildPid && $pid == $ChildPid;
    my $grace = $in_foreground ? 60 : $Timeout;

    kill SIGQUIT, $pid;
    if (!wait_for_exit($pid, $grace)) {
        warn "$name - timeout when waiting for the process $pid to exit\n";
    }

    if (is_running($pid)) {
        kill SIGTERM, $pid;
        if (!wait_for_exit($pid, 2)) {
            warn "$name - WARNING: killing the child process $pid with force...\n";
            kill SIGKILL, (getpgrp($pid) == $pid ? -$pid : $pid);
            wait_for_exit($pid, 5);
        }
    }

    undef $ChildPid if $in_foreground;
}

sub stop_nginx {
    my ($pid, $name) = @_;
    kill_process($pid, $name);
    unlink $PidFile if -f $PidFile && !is_running($pid);
}

sub nginx_command {
    my $cmd = "$NginxBinary -p $ServRoot/ -c $ConfFile > /dev/null";
    return $cmd unless $UseValgrind;

    $ValgrindLogDir //= File::Temp::tempdir('test-nginx-valgrind-XXXXXX',
                                            TMPDIR => 1, CLEANUP => 1);

    my $opts;
    if ($UseValgrind =~ /^\d+$/) {
        $opts = '--num-callers=100 --tool=memcheck --leak-check=full '
                . '--show-possibly-lost=no --gen-suppressions=all';
        $opts .= ' --suppressions=valgrind.suppress' if -f 'valgrind.suppress';
    } else {
        $opts = $UseValgrind;   # custom valgrind options
    }

    return "valgrind -q $opts --log-file=$ValgrindLogDir/valgrind.%p.log $cmd";
}

# Under valgrind nginx runs in the foreground as our child.
sub start_nginx_in_foreground {
    my $name = shift;
    my $cmd = nginx_command();

    warn "command: $cmd\n" if $Verbose;

    my $pid = fork() // bail_out("$name - fork() failed: $!");
    if ($pid == 0) {
        setpgrp;
        exec "exec $cmd" or POSIX::_exit(127);
    }

    $ChildPid = $pid;
    sleep $TestNginxSleep;
}

# Runs the daemonizing nginx; returns its wait status and its stderr.
sub run_nginx_command {
    my $cmd = shift;
    unlink $StartupStderrFile;
    system("$cmd 2>$StartupStderrFile");
    my $status = $?;
    return ($status, slurp($StartupStderrFile) // '');
}

sub start_nginx_daemon {
    my $name = shift;
    my $cmd = nginx_command();
    my $waited = 0;

    while (1) {
        my ($status, $stderr) = run_nginx_command($cmd);

        if ($status == 0) {
            print STDERR $stderr if length $stderr;
            sleep $TestNginxSleep;
            return;
        }

        # The previous nginx may still hold the port for a moment.
        if ($stderr =~ /Address already in use/ && $waited < 30) {
            my $delay = 0.2;
            sleep $delay;
            $waited += $delay;
            next;
        }

        print STDERR $stderr;
        my ($reason) = $stderr =~ /^(.+)$/m;
        bail_out("$name - Cannot start nginx using command \"$cmd\" "
                 . "(status code $status)" . ($reason ? ": $reason" : '.'));
    }
}

# --- must_die: nginx must refuse to start.
sub run_must_die_test {
    my $block = shift;
    my $name = $block->name;
    my $must_die = $block->must_die;
    my $cmd = nginx_command();

    $ErrLogFilePos = 0;

    for my $i (0 .. $RepeatEach - 1) {
        my ($status, $stderr) = run_nginx_command($cmd);
        my $exit_code = $status >> 8;

        if ($status == -1) {
            fail("$name - failed to execute the nginx command line");
        } elsif ($status & 128) {
            fail("$name - nginx core dumped");
        } elsif (looks_like_number($must_die)) {
            is($exit_code, $must_die, "$name - die with the expected exit code");
        } else {
            isnt($status, 0, "$name - die as expected");
        }

        my @stderr_lines = split /^/m, $stderr;
        check_error_log($block, $i, \@stderr_lines);

        if ($status == 0) {
            warn "WARNING: $name - nginx must die but it does not; "
                 . "killing it (req $i)\n";
            for (1 .. 15) {
                last if -f $PidFile;
                sleep $TestNginxSleep;
            }
            my $pid = running_nginx_pid($name);
            stop_nginx($pid, $name) if defined $pid;
        }
    }
}

# HUP mode: reload the running nginx with the new configuration.
sub reload_nginx {
    my ($pid, $name) = @_;

    # USR1 reopens the log files removed by setup_server_root.
    kill(SIGUSR1, $pid) or return 0;
    sleep $TestNginxSleep;
    kill(SIGHUP, $pid) or return 0;
    sleep $TestNginxSleep * 3;

    wait_for_config_version($name);
    return 1;
}

sub fetch_config_version {
    my $sock = IO::Socket::INET->new(
        PeerAddr => $ServerAddr,
        PeerPort => $ServerPort,
        Proto    => 'tcp',
        Timeout  => 2,
    ) or return undef;

    print $sock "GET /ver HTTP/1.0\r\nHost: Test-Nginx\r\n\r\n";
    my $resp = '';
    my $sel = IO::Select->new($sock);
    while ($sel->can_read(2)) {
        my $n = sysread($sock, my $buf, 4096);
        last unless $n;
        $resp .= $buf;
    }
    close $sock;

    return $resp =~ /\r\n\r\n(.*)\z/s ? $1 : undef;
}

# Polls until the new configuration answers 20 times in a row.
sub wait_for_config_version {
    my $name = shift;
    my $total = 200;
    my $nsucc = 0;

    for my $try (1 .. $total) {
        my $ver = fetch_config_version();
        if (defined $ver && $ver eq $ConfigVersion) {
            $nsucc++;
            sleep $TestNginxSleep if $nsucc == 5;
            return if $nsucc >= 20;
            next;
        }

        $nsucc = 0;
        my $wait = min(1, ($TestNginxSleep + $TestNginxSleep * $try) * $try / 2);
        warn "$name - waiting $wait sec for nginx to reload the configuration\n"
            if $wait > 0.5;
        sleep $wait;
    }

    fail("$name - failed to reload configuration after $total "
         . "failed test requests");
}

# Makes nginx serve the block's configuration: reloads it in HUP mode,
# otherwise stops the old nginx, rebuilds the server root and starts anew
# (unless $no_start: --- must_die starts it itself).
sub prepare_nginx {
    my ($block, $config, $rand_ports, $first_time, $no_start) = @_;
    my $name = $block->name;

    $ConfigVersion = gen_rand_str(10) if $UseHup;

    my $pid = running_nginx_pid($name);
    if (defined $pid) {
        if ($UseHup && !$first_time) {
            setup_server_root($first_time);
            write_user_files($block, $rand_ports);
            write_config_file($block, $config, $rand_ports);
            return if reload_nginx($pid, $name);
            warn "$name - failed to signal nginx $pid, restarting it\n";
        }
        stop_nginx($pid, $name);
    }

    setup_server_root($first_time);
    write_user_files($block, $rand_ports);
    write_config_file($block, $config, $rand_ports);

    if (!can_run($NginxBinary)) {
        bail_out("$name - Cannot find the nginx executable $NginxBinary");
    }

    return if $no_start;

    if ($UseValgrind) {
        start_nginx_in_foreground($name);
    } else {
        start_nginx_daemon($name);
    }
}

#---------------------------------------------------------------------------
# valgrind reports
#---------------------------------------------------------------------------

# Returns what valgrind wrote since the last call.
sub new_valgrind_output {
    return '' unless defined $ValgrindLogDir;

    my $report = '';
    for my $file (sort glob("$ValgrindLogDir/valgrind.*.log")) {
        my $data = slurp($file) // next;
        my $seen = $ValgrindLogPos{$file} // 0;
        next if length $data <= $seen;
        $report .= substr($data, $seen);
        $ValgrindLogPos{$file} = length $data;
    }

    return $report =~ /^==\d+==/m ? $report : '';
}

sub check_valgrind_report {
    my $name = shift;
    my $report = new_valgrind_output();
    return unless length $report;
    fail("$name - valgrind reported errors");
    diag($report);
}

#---------------------------------------------------------------------------
# Requests
#---------------------------------------------------------------------------

# more_headers text: "Name: value" lines, "#" lines are comments.
sub parse_more_headers {
    my $in = shift;
    my ($out, $is_chunked) = ('', 0);

    for my $header (split /\n+/, $in) {
        next if $header =~ /^\s*\#/;
        my ($key, $val) = split /:\s*/, $header, 2;
        $val //= '';
        $is_chunked = 1 if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }

    return ($out, $is_chunked);
}

sub more_headers_for {
    my ($name, $more_headers, $idx) = @_;

    if (ref $more_headers eq 'ARRAY') {
        my $hdr = $more_headers->[$idx];
        bail_out("--- more_headers lacks data for the request $idx")
            unless defined $hdr;
        return parse_more_headers($hdr);
    }

    return parse_more_headers($more_headers);
}

# Turns "METHOD [URI [VERSION]]\nbody" into a complete HTTP request.
sub build_request {
    my ($name, $text, $more_headers, $is_chunked, $conn_header) = @_;

    if (!defined $text || $text eq '') {
        bail_out("$name - Request line should be non-empty");
    }

    my ($first, $content) = $text =~ /\A([^\n]*\n?)(.*)\z/s;

    $first =~ /^\s*(\S+) *(?:(\S+) *)?(?:(\S+) *)?\s*$/
        or bail_out("$name - Request line is not valid. Should be "
                    . "'meth [url [version]]' but got \"$first\".");
    my ($method, $uri, $version) = ($1, $2 // '/', $3 // 'HTTP/1.1');

    my $len_header = '';
    if (!$is_chunked && $content ne ''
        && $more_headers !~ /(?:^|\n)Content-Length:/)
    {
        $content =~ s/^\s+|\s+$//gs;
        $len_header = "Content-Length: " . length($content) . "\r\n";
    }

    my $headers = '';
    $headers .= "Host: $ServerName\r\n"
        if $more_headers !~ /(?:^|\n)Host:/msi;
    $headers .= "Connection: $conn_header\r\n"
        if $more_headers !~ /(?:^|\n)Connection/msi;
    $headers .= "$more_headers$len_header\r\n";

    return "$method $uri $version\r\n$headers$content";
}

# Returns a list of connections, each a list of byte strings to send.
sub get_req_from_block {
    my $block = shift;
    my $name = $block->name;

    if (defined(my $raw = $block->raw_request)) {
        return [ref $raw eq 'ARRAY' ? [@$raw] : [$raw]];
    }

    my $more_headers = $block->more_headers // '';

    if (my $reqs = $block->pipelined_requests) {
        if (ref $reqs ne 'ARRAY') {
            bail_out("$name - invalid entries in --- pipelined_requests");
        }
        my $stream = '';
        for my $i (0 .. $#$reqs) {
            my $conn = $i == $#$reqs ? 'close' : 'keep-alive';
            $stream .= build_request($name, $reqs->[$i],
                                     more_headers_for($name, $more_headers, $i),
                                     $conn);
        }
        return [[$stream]];
    }

    my $request = $block->request;

    if (!ref $request) {
        if (defined $request) {
            # Leading blank space and "#" comment lines are ignored.
            1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
        }
        return [[build_request($name, $request,
                               more_headers_for($name, $more_headers, 0),
                               'close')]];
    }

    if (ref $request ne 'ARRAY') {
        bail_out("$name - invalid ---request : MUST be string or array of requests");
    }

    my @list;
    for my $i (0 .. $#$request) {
        if (ref $request->[$i]) {
            bail_out("$name - requests given as arrays of packets are not "
                     . "supported by this Test::Nginx::Socket");
        }
        push @list, [build_request($name, $request->[$i],
                                   more_headers_for($name, $more_headers, $i),
                                   'close')];
    }
    return \@list;
}

sub connect_to_server {
    my ($block, $timeout) = @_;
    my $name = $block->name;
    my $addr = $block->server_addr_for_client // $ServerAddr;
    my $total_tries = $TotalConnectingTimeouts ? 20 : 50;

    my $err;

    for my $try (1 .. $total_tries + 1) {
        my $sock = IO::Socket::INET->new(
            PeerAddr => $addr,
            PeerPort => $ServerPortForClient,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        return $sock if $sock;

        $err = $!;
        last if $try > $total_tries;

        if (defined $ChildPid && !is_running($ChildPid)) {
            warn "WARNING: Child process $ChildPid is already gone.\n";
            my $log = slurp($ErrLogFile) // '';
            my @tail = (split /^/m, $log)[-20 .. -1];
            warn grep { defined } @tail;
            fail("$name - Can't connect to $addr:$ServerPortForClient: "
                 . "$err (aborted)\n");
            undef $ChildPid;
            return undef;
        }

        # Waits grow to 1 second: enough for a slow start under valgrind.
        my $wait = min(1, ($TestNginxSleep + $TestNginxSleep * $try) * $try / 2);
        if ($wait >= 0.6) {
            warn "$name - Can't connect to $addr:$ServerPortForClient: $err\n"
                 . "\tRetry connecting after $wait sec\n";
        }
        sleep $wait;
    }

    my $msg = "$name - Can't connect to $addr:$ServerPortForClient: $err (aborted)\n";
    if (++$TotalConnectingTimeouts < 3) {
        fail($msg);
    } else {
        bail_out($msg);
    }
    return undef;
}

# Sends the packets of one connection and reads the reply until the server
# closes it.  Returns the raw response and whether the request was a HEAD.
sub send_request {
    my ($block, $packets, $timeout) = @_;
    my $name = $block->name;
    my $middle_delay = $block->raw_request_middle_delay;

    my $head_req = join('', @$packets) =~ /^\s*HEAD\s+/ ? 1 : 0;

    my $sock = connect_to_server($block, $timeout) or return ('', $head_req);
    $sock->blocking(0);

    local $SIG{PIPE} = 'IGNORE';

    my @pending = @$packets;
    my $write_buf = shift @pending;
    my $resp = '';
    my $sel = IO::Select->new($sock);

    while (1) {
        $! = 0;
        my ($readable, $writable) = IO::Select->select(
            $sel, defined $write_buf ? $sel : undef, undef, $timeout);

        if (!$readable && !$writable) {
            next if $! == EINTR;
            fail("ERROR: client socket timed out - $name\n")
                unless defined $block->abort;
            last;
        }

        if ($writable && @$writable) {
            my $n = syswrite($sock, $write_buf);
            if (defined $n) {
                substr($write_buf, 0, $n) = '';
                if ($write_buf eq '') {
                    $write_buf = shift @pending;
                    if (defined $write_buf) {
                        sleep $middle_delay if $middle_delay;
                    } elsif (defined(my $how = $block->shutdown)) {
                        shutdown($sock, $how =~ /^\s*$/ ? 1 : $how);
                    }
                }
            } elsif ($! != EAGAIN && $! != EWOULDBLOCK) {
                warn "write failed: $!\n";
                undef $write_buf;   # still read what the server said
            }
        }

        if ($readable && @$readable) {
            my $n = sysread($sock, my $buf, 4096);
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK;
                warn "WARNING: $name - HTTP response read failure: $!\n";
                last;
            }
            last if $n == 0;
            $resp .= $buf;
        }
    }

    close $sock;
    return ($resp, $head_req);
}

#---------------------------------------------------------------------------
# Responses
#---------------------------------------------------------------------------

# Returns the response, its raw header text, and any bytes after its end
# (the next pipelined response).
sub parse_response {
    my ($name, $raw_resp, $head_req) = @_;

    my $raw_headers = $raw_resp =~ /(.*?\r\n)\r\n/s ? $1 : '';
    my $res = HTTP::Response->parse($raw_resp);
    my $left;

    my $code = $res->code;
    if ($code && $code !~ /^\d+$/) {
        undef $code;
        $res->code(undef);
    }

    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $enc = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if (defined $enc && $enc eq 'chunked') {
        my $raw = $res->content // '';
        my $decoded = '';

        while (1) {
            if ($raw =~ /\G 0 [\ \t]* \r\n \r\n /gcsx) {
                $left = $1 if $raw =~ /\G (.+) /gcsx;
                last;
            }

            if ($raw =~ /\G [\ \t]* ([A-Fa-f0-9]+) [\ \t]* \r\n /gcsx) {
                my $size = hex $1;
                if (length($raw) - pos($raw) < $size) {
                    fail("$name - invalid chunked data received "
                         . "(not enought octets for the data section)");
                    return;
                }
                $decoded .= substr($raw, pos($raw), $size);
                pos($raw) += $size;

                if ($raw !~ /\G\r\n/gcs) {
                    fail("$name - invalid chunked data received (expected CRLF).");
                    return;
                }

            } elsif ($raw =~ /\G.+/gcs) {
                fail("$name - invalid chunked body received: $&");
                return;

            } else {
                fail("$name - no last chunk found - $raw");
                return;
            }
        }

        $res->content($decoded);

    } elsif (defined $len && $len ne '' && $len >= 0) {
        my $raw = $res->content;
        if (length $raw < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got ", length $raw, "\n" unless $head_req;
        } elsif (length $raw > $len) {
            $left = substr $raw, $len;
            $res->content(substr $raw, 0, $len);
        }
    }

    return ($res, $raw_headers, $left);
}

# Expected values are per request (array refs) when a block sends several.
sub get_indexed_value {
    my ($name, $value, $req_idx, $need_array) = @_;

    if ($need_array) {
        return $value->[$req_idx] if ref $value eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }

    return $value->[0] if ref $value eq 'ARRAY';
    return $value;
}

sub parse_headers {
    my $s = shift;
    my %headers;
    for my $line (split /\n/, $s) {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        if ($line =~ s/^!\s*//) {
            $headers{$line} = undef;
        } else {
            my ($key, $val) = split /\s*:\s*/, $line, 2;
            $headers{$key} = $val;
        }
    }
    return \%headers;
}

sub expand_server_port {
    my $s = shift;
    $s =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
    $s =~ s/\$ServerPort\b/$ServerPort/g;
    return $s;
}

sub check_error_code {
    my ($block, $res, $req_idx, $need_array) = @_;
    my $name = $block->name;
    my $code = ($res && $res->code) || '';

    if (defined $block->error_code_like) {
        my $val = get_indexed_value($name, scalar $block->error_code_like, $req_idx,
                                    $need_array);
        like($code, qr/$val/sm, "$name - status code ok");

    } elsif (defined $block->error_code) {
        is($code, get_indexed_value($name, scalar $block->error_code, $req_idx,
                                    $need_array),
           "$name - status code ok");

    } else {
        is($code, 200, "$name - status code ok");
    }
}

sub check_raw_response_headers {
    my ($block, $raw_headers, $req_idx, $need_array) = @_;
    my $name = $block->name;

    if (defined $block->raw_response_headers_like) {
        my $expected = get_indexed_value($name, scalar $block->raw_response_headers_like,
                                         $req_idx, $need_array);
        like($raw_headers, qr/$expected/s, "$name - raw resp headers like");
    }

    if (defined $block->raw_response_headers_unlike) {
        my $expected = get_indexed_value($name, scalar $block->raw_response_headers_unlike,
                                         $req_idx, $need_array);
        unlike($raw_headers, qr/$expected/s, "$name - raw resp headers unlike");
    }
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $req_idx, $need_array) = @_;
    my $name = $block->name;

    if (defined $block->response_headers) {
        my $headers = parse_headers(get_indexed_value(
            $name, scalar $block->response_headers, $req_idx, $need_array));

        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};
            if (!defined $val) {
                unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                       "$name - header $key not present in the raw headers");
                next;
            }
            my $actual = ($res ? $res->header($key) : undef) // '';
            is($actual, expand_server_port($val), "$name - header $key ok");
        }

    } elsif (defined $block->response_headers_like) {
        my $headers = parse_headers(get_indexed_value(
            $name, scalar $block->response_headers_like, $req_idx, $need_array));

        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};
            my $actual = ($res ? $res->header($key) : undef) // '';
            like($actual, qr/^$val$/, "$name - header $key like ok");
        }
    }
}

sub check_response_body {
    my ($block, $res, $req_idx, $repeated_req_idx, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;

    if (defined $block->response_body) {
        my $expected = get_indexed_value($name, scalar $block->response_body,
                                         $req_idx, $need_array);
        $expected = expand_server_port($expected)
            if defined $expected && !ref $expected;

        my $desc = "(repeated req $repeated_req_idx, req $req_idx)";
        if (ref $expected) {
            like($content, $expected, "$name - response_body - like $desc");
        } elsif ($NoLongString) {
            is($content, $expected,
               "$name - response_body - response is expected $desc");
        } else {
            is_string($content, $expected,
                      "$name - response_body - response is expected $desc");
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my ($type, $patterns) = defined $block->response_body_like
                              ? ('like',   scalar $block->response_body_like)
                              : ('unlike', scalar $block->response_body_unlike);
        my $pat = expand_server_port(get_indexed_value(
            $name, $patterns, $req_idx, $need_array));
        my $summary = trim($content) // '';
        my $desc = "$name - response_body_$type - response is expected ($summary)";

        if ($type eq 'like') {
            like($content, qr/$pat/s, $desc);
        } else {
            unlike($content, qr/$pat/s, $desc);
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $req_idx, $repeated_req_idx, 0);
    }
}

#---------------------------------------------------------------------------
# Log checks
#---------------------------------------------------------------------------

# The lines appended to error.log since the previous check of this block.
sub error_log_data {
    # Let the log phase, which runs after the response is sent, finish.
    sleep $TestNginxSleep * 3;

    open my $in, '<', $ErrLogFile or return undef;
    seek $in, $ErrLogFilePos, 0 if !$CheckAccumErrLog && $ErrLogFilePos > 0;
    my @lines = <$in>;
    $ErrLogFilePos = tell($in) unless $CheckAccumErrLog;
    close $in;
    return \@lines;
}

sub access_log_data {
    sleep $TestNginxSleep * 3;
    open my $in, '<', $AccLogFile or die "open $AccLogFile failed: $!";
    my @lines = <$in>;
    close $in;
    return \@lines;
}

# A section of patterns: lines of literal text, a qr//, or an array ref.
sub pattern_list {
    my $pats = shift;
    if (!ref $pats) {
        chomp $pats;
        return [split /\n+/, $pats];
    }
    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats];
}

sub line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ /$pat/ : $line =~ /\Q$pat\E/;
}

sub value_contains {
    my ($val, $pat) = @_;
    return 0 unless defined $val;
    return $val =~ /\Q$pat\E/ if !ref $val || ref $val eq 'Regexp';
    return scalar grep { value_contains($_, $pat) } @$val;
}

# --- error_log / --- access_log: every pattern must match some line.
sub check_expected_patterns {
    my ($name, $pats, $lines, $where, $req) = @_;
    my @pats = @{ pattern_list($pats) };

    for my $line (@$lines) {
        for my $pat (@pats) {
            next unless defined $pat && line_matches($line, $pat);
            pass("$name - pattern \"$pat\" matches a line in $where (req $req)");
            undef $pat;
        }
    }

    for my $pat (grep { defined } @pats) {
        fail("$name - pattern \"$pat\" should match a line in $where (req $req)");
    }
}

# --- no_error_log / --- no_access_log: no pattern may match any line.
sub check_unexpected_patterns {
    my ($name, $pats, $lines, $where, $req) = @_;
    my @pats = @{ pattern_list($pats) };
    my %found;

    for my $i (0 .. $#$lines) {
        my $line = $lines->[$i];
        for my $pat (@pats) {
            next unless defined $pat && line_matches($line, $pat);
            $found{$pat} = 1;
            my $more = join '', grep { defined }
                                @$lines[$i + 1 .. min($i + 9, $#$lines - 1)];
            fail("$name - pattern \"" . fmt_str($pat) . "\" should not match "
                 . "any line in $where but matches line \"" . fmt_str($line)
                 . "\" (req $req)\n$more");
        }
    }

    for my $pat (@pats) {
        next if !defined $pat || $found{$pat};
        pass("$name - pattern \"" . fmt_str($pat) . "\" does not match a line "
             . "in $where (req $req)");
    }
}

# $extra_lines: lines checked in addition to the new part of error.log
# (nginx's startup stderr for --- must_die).
sub check_error_log {
    my ($block, $repeated_req_idx, $extra_lines) = @_;
    my $name = $block->name;
    my $log_lines = error_log_data() || [];
    my $lines = [@{ $extra_lines || [] }, @$log_lines];

    if (defined(my $grep_pats = $block->grep_error_log)) {
        my $grep_pat = ref $grep_pats eq 'ARRAY'
                     ? $grep_pats->[$repeated_req_idx] : $grep_pats;
        my $expected = $block->grep_error_log_out;
        bail_out("$name - No --- grep_error_log_out defined but "
                 . "--- grep_error_log is defined") unless defined $expected;
        $expected = $expected->[$repeated_req_idx] if ref $expected eq 'ARRAY';

        my $matched = '';
        for my $line (@$lines) {
            if (ref $grep_pat ? $line =~ /$grep_pat/ : $line =~ /\Q$grep_pat\E/) {
                $matched .= "$&\n" if $& !~ /\n/;
            }
        }

        my $desc = "$name - grep_error_log_out (req $repeated_req_idx)";
        if (ref $expected eq 'Regexp') {
            like($matched, $expected, $desc);
        } else {
            is_str($matched, $expected, $desc);
        }

    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but "
                 . "--- grep_error_log_out is defined");
    }

    if (defined $block->error_log) {
        check_expected_patterns($name, scalar $block->error_log, $lines, 'error.log',
                                $repeated_req_idx);
    }

    if (defined $block->no_error_log) {
        check_unexpected_patterns($name, scalar $block->no_error_log, $lines, 'error.log',
                                  $repeated_req_idx);
    }

    # Serious messages in error.log that the block did not ask about are
    # shown as warnings.
    for my $level (qw(alert crit emerg)) {
        next if value_contains(scalar $block->error_log, "[$level")
                || value_contains(scalar $block->no_error_log, "[$level");
        for my $line (grep { /\[$level\]/ } @$log_lines) {
            warn "WARNING: $name - " . fmt_str($line) . "\n";
        }
    }

    for my $line (@$lines) {
        next unless $line =~ /\bAssertion .*?failed\b/;
        chomp(my $msg = $line);
        fail("$name - $msg\n");
    }
}

sub check_access_log {
    my ($block, $repeated_req_idx) = @_;
    my $name = $block->name;
    return unless defined $block->access_log || defined $block->no_access_log;

    my $lines = access_log_data();

    if (defined $block->access_log) {
        check_expected_patterns($name, scalar $block->access_log, $lines, 'access.log',
                                $repeated_req_idx);
    }

    if (defined $block->no_access_log) {
        check_unexpected_patterns($name, scalar $block->no_access_log, $lines, 'access.log',
                                  $repeated_req_idx);
    }
}

#---------------------------------------------------------------------------
# Running the blocks
#---------------------------------------------------------------------------

# Sends the block's requests once and checks the responses and the logs.
sub run_block_requests {
    my ($block, $repeated_req_idx) = @_;
    my $name = $block->name;

    my $req_list = get_req_from_block($block);
    bail_out("$name - request empty") unless @$req_list;

    my $timeout = parse_time(scalar $block->timeout) // $Timeout;
    my $pipelined = $block->pipelined_requests
                  ? scalar @{ $block->pipelined_requests } : 0;
    my $need_array = $pipelined || @$req_list > 1;
    my $check_response = !defined $block->ignore_response;
    my $req_idx = 0;

    for my $conn_idx (0 .. $#$req_list) {
        my ($raw_resp, $head_req) = send_request($block, $req_list->[$conn_idx],
                                                 $timeout);
        my $responses = $pipelined || 1;

        for my $resp_idx (1 .. $responses) {
            $raw_resp //= '';
            my ($res, $raw_headers, $left);

            if ($check_response) {
                ($res, $raw_headers, $left) = parse_response($name, $raw_resp,
                                                             $head_req);
            }

            if ($pipelined) {
                $raw_resp = $left;
            } elsif (defined $left && length $left) {
                $left =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                warn "WARNING: $name - unexpected extra bytes after last "
                     . "chunk in response: \"$left\"\n";
            }

            if ($check_response) {
                check_error_code($block, $res, $req_idx, $need_array);
                check_raw_response_headers($block, $raw_headers // '',
                                           $req_idx, $need_array);
                check_response_headers($block, $res, $raw_headers // '',
                                       $req_idx, $need_array);
                check_response_body($block, $res, $req_idx, $repeated_req_idx,
                                    $need_array);
            }

            # Upstream checks the logs after every response.
            if ($resp_idx < $responses || $conn_idx < $#$req_list) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $repeated_req_idx);
                check_access_log($block, $repeated_req_idx) if $check_response;
            }

            $req_idx++;
        }
    }

    sleep $block->wait if $block->wait;
    check_error_log($block, $repeated_req_idx);
    check_access_log($block, $repeated_req_idx) if $check_response;
}

# --- skip_nginx: "N: <op> x.y.z[: reason]" and --- skip_eval: "N: perl code".
# Returns the number of tests to skip and the reason, or nothing.
sub skip_info {
    my $block = shift;
    my $name = $block->name;

    if (defined(my $spec = $block->skip_eval)) {
        if ($spec =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            my ($n, $code) = ($1, $2);
            my $skip = eval $code;
            bail_out("$name - skip_eval - failed to eval the Perl code "
                     . "\"$code\": $@") if $@;
            return ($n, 'skip_eval') if $skip;
        }
    }

    if (defined(my $spec = $block->skip_nginx)) {
        $spec =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
                  (?:\s*:\s*(.*))?\s*$/x
            or bail_out("$name - Invalid --- skip_nginx spec: $spec");
        my ($n, $op, $reason) = ($1, $2, $6);
        my $ver = get_canon_version($3, $4, $5);
        $reason ||= "nginx version $op $3.$4.$5";
        return ($n, $reason) if eval "$NginxVersion $op $ver";
    }

    return;
}

sub run_test ($) {
    my $block = shift;
    return if defined $block->SKIP;

    my $name = $block->name;
    $CurrentBlockName = $name;

    my $first_time = $FirstTime;
    $FirstTime = 0;

    my $rand_ports = {};
    my $config = expand_env_in_text(scalar $block->config, $name, $rand_ports);

    local $LogLevel = $block->log_level || $LogLevel;

    # nginx is started plainly for --- must_die.
    my $must_die = defined $block->must_die;
    local $UseValgrind = $must_die ? undef : $UseValgrind;
    local $UseHup = $must_die ? undef : $UseHup;

    my ($tests_to_skip, $skip_reason) = skip_info($block);

    my ($todo_count, $todo_reason);
    if (defined(my $todo = $block->todo)) {
        $todo =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$name - Invalid --- todo spec: $todo");
        ($todo_count, $todo_reason) = ($1, $2);
    }

    if (defined $tests_to_skip) {
        for (1 .. $RepeatEach) {
            SKIP: { skip("$name - $skip_reason", $tests_to_skip) }
        }
        return;
    }

    if (defined $config) {
        $PrevConfig = $config;
        prepare_nginx($block, $config, $rand_ports, $first_time, $must_die);
        if ($must_die) {
            run_must_die_test($block);
            return;
        }

    } elsif ($must_die) {
        bail_out("$name - --- must_die needs a --- config section");

    } elsif (!defined $PrevConfig) {
        bail_out("$name - No '--- config' section specified and could not "
                 . "get previous one.");
    }
    # Without --- config the block reuses the running nginx.

    if (defined(my $init = $block->init)) {
        eval $init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    for my $i (1 .. $RepeatEach) {
        write_user_files($block, $rand_ports) if $i > 1;

        if (defined $todo_count) {
            TODO: {
                todo_skip("$name - $todo_reason", $todo_count);
            }
        } else {
            run_block_requests($block, $i - 1);
        }
    }

    if ($UseValgrind) {
        # Stop nginx so that valgrind reports its leaks for this block.
        if (!$UseHup && defined(my $pid = running_nginx_pid($name))) {
            stop_nginx($pid, $name);
        }
        check_valgrind_report($name);
    }
}

sub run_tests () {
    $NginxVersion = get_nginx_version();
    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;

    my @blocks = Test::Base::blocks();
    @blocks = shuffle(@blocks) unless $NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value('name', "$0 " . $block->name);
        run_test($block);
    }

    cleanup();
}

sub cleanup {
    $_->() for @CleanupHandlers;

    if (defined $ChildPid) {
        kill_process($ChildPid, 'cleanup');
    }
}

END {
    local $?;   # keep the test script's exit status

    cleanup();

    if ($UseValgrind || !$ENV{TEST_NGINX_NO_CLEAN}) {
        my $pid = -f $PidFile ? running_nginx_pid('END') : undef;
        kill_process($pid, 'END') if defined $pid;
    }

    check_valgrind_report("$CurrentBlockName (reported at exit)")
        if $UseValgrind;
}

1;
__END__

=head1 NAME

Test::Nginx::Socket - the project's own implementation of the subset of
OpenResty's Test::Nginx::Socket used by its test suite

=head1 SYNOPSIS

    use Test::Nginx::Socket 'no_plan';

    repeat_each(2);
    no_shuffle();
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location = /t {
            return 200 "hello\n";
        }
    --- request
    GET /t
    --- response_body
    hello
    --- no_error_log
    [error]

=head1 DESCRIPTION

scripts/run-tests.sh puts this module on @INC only when the real
Test::Nginx::Socket is not installed.  Test files must run unchanged
under both, so the module follows upstream: blocks are parsed by
L<Test::Base>; each block gets a fresh server root (F<t/servroot> or
C<TEST_NGINX_SERVROOT>) with F<conf/nginx.conf>, F<html/> and F<logs/>; nginx
is started as C<nginx -p SERVROOT/ -c SERVROOT/conf/nginx.conf> with the
same generated configuration layout (C<worker_processes 1>, C<daemon on>,
C<master_process off> unless C<master_on()>, C<error_log logs/error.log debug>,
one server listening on port 1984 named localhost); requests are sent
over plain sockets with C<Host: localhost> and C<Connection: close> added,
and tests carry upstream's names, so C<plan tests =E<gt> ...> counts agree.

=head2 Sections

C<config>, C<http_config>, C<main_config>, C<post_main_config>,
C<user_files>, C<request> (string or, with C<eval>, an array of requests,
one connection each), C<pipelined_requests>, C<raw_request>,
C<raw_request_middle_delay>, C<more_headers>, C<error_code>,
C<error_code_like>, C<response_headers>, C<response_headers_like>,
C<raw_response_headers_like>, C<raw_response_headers_unlike>,
C<response_body>, C<response_body_like>, C<response_body_unlike>,
C<error_log>, C<no_error_log>, C<grep_error_log>, C<grep_error_log_out>,
C<access_log>, C<no_access_log>, C<must_die>, C<wait>, C<timeout>,
C<init>, C<abort>, C<shutdown>, C<ignore_response>, C<log_level>,
C<server_name>, C<error_log_file>, C<skip_nginx>, C<skip_eval>, C<todo>,
and Test::Base's C<ONLY>, C<SKIP> and C<LAST>.  C<$TEST_NGINX_*>
variables are expanded in the configuration sections and in user files.

=head2 Environment

C<TEST_NGINX_BINARY>, C<TEST_NGINX_LOAD_MODULES>, C<TEST_NGINX_SERVER_PORT>
(or C<TEST_NGINX_PORT>), C<TEST_NGINX_SERVROOT>, C<TEST_NGINX_NO_SHUFFLE>,
C<TEST_NGINX_USE_VALGRIND>, C<TEST_NGINX_USE_HUP>, C<TEST_NGINX_SLEEP>,
C<TEST_NGINX_TIMEOUT>, C<TEST_NGINX_LOG_LEVEL>, C<TEST_NGINX_MASTER_PROCESS>,
C<TEST_NGINX_CHECK_ACCUM_ERR_LOG>, C<TEST_NGINX_NO_CLEAN>,
C<TEST_NGINX_WORKER_USER>, C<TEST_NGINX_VERBOSE>.

=head2 Differences from upstream

=over

=item *

The C<load_module> lines from C<TEST_NGINX_LOAD_MODULES> are written at the
top of F<nginx.conf> rather than after C<--- main_config>.

=item *

nginx's stderr while starting is kept in F<logs/stderr.log>.  For
C<--- must_die> blocks the C<error_log> and C<no_error_log> patterns are
matched against it as well as F<logs/error.log>, because a Debian-built
nginx reports configuration errors on stderr.  A start failure that is not
a busy port bails out at once instead of being retried for 30 seconds.

=item *

Under C<TEST_NGINX_USE_VALGRIND> valgrind writes to log files; when it
reports anything for a block, an extra failing test
"BLOCK - valgrind reported errors" shows the report.

=item *

A block with C<--- must_die> but no C<--- config> bails out with a clear
message.

=item *

Requests given as arrays of packets, HTTP/2, HTTP/3, C<--- curl>, stap, the
TCP/UDP mock servers, benchmark and leak-check modes,
C<shutdown_error_log>, C<response_body_filters>, the deprecated
C<request_eval> and C<response_body_eval>, C<todo_nginx>, C<skip_nginx2>,
C<skip_openssl>, C<skip_slave> and C<no_nginx_manager> are not implemented.

=item *

Extra failing tests (timeouts, invalid chunked bodies, matched
C<no_error_log> lines) do not switch off Test::Builder's ending summary.

=item *

Like upstream, only functions are exported.  The settings variables are
reachable as C<$Test::Nginx::Util::ServerPort> and so on, as with upstream.

=back

=cut
