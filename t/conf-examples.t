# Every example configuration in conf-examples/ passes "nginx -t".
#
# The examples are complete nginx.conf files written for a prefix laid
# out like this:
#
#   <prefix>/modules/ngx_http_mock_module.so   the module
#   <prefix>/cassettes/...                     conf-examples/cassettes
#   <prefix>/secrets/...                       conf-examples/secrets
#   <prefix>/logs/                             logs and the pid file
#
# so they begin with "load_module modules/ngx_http_mock_module.so;" and
# name cassettes "cassettes/...".  For each example this test builds such
# a prefix in a temporary directory, with symbolic links to the module
# under test and to the repository's cassettes, and runs
#
#   nginx -t -p <prefix>/ -c <absolute path of the example>
#
# "nginx -t" parses the configuration and the cassettes it names, as a
# start would, without binding ports or starting processes.

use strict;
use warnings;

use Test::More;
use File::Basename qw(basename);
use File::Spec;
use File::Temp qw(tempdir);
use Cwd ();
use FindBin;

use lib "$FindBin::Bin/lib";
use MockTest qw(module_under_test nginx_binary slurp run_cmd);

my $module = module_under_test();

my $nginx = nginx_binary();

# The examples are found next to this file's directory, wherever the
# repository is checked out.
my $examples  = File::Spec->catdir($FindBin::Bin, File::Spec->updir,
                                   'conf-examples');
$examples  = Cwd::abs_path($examples) // $examples;
my $cassettes = "$examples/cassettes";
my $secrets   = "$examples/secrets";

my @confs = sort glob "$examples/*.conf";

# Without this an empty or missing directory would pass unnoticed.
ok(scalar @confs, "conf-examples/ has example configurations")
    or diag("no *.conf in $examples");

for my $conf (@confs) {
    my $name = 'conf-examples/' . basename($conf);
    my $text = slurp($conf);

    # An example that does not use the module shows nothing about it: it
    # must have a mock_* directive (outside comments).
    (my $code = $text) =~ s/#.*//g;
    ok($code =~ /(?:^|[;{}])\s*mock_\w+\s/m,
       "$name uses the mock module's directives");
    ok($code =~ m{^\s*load_module\s+modules/ngx_http_mock_module\.so\s*;}m,
       "$name loads modules/ngx_http_mock_module.so");

    my $prefix = tempdir('conf-example-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    mkdir "$prefix/modules" or die "mkdir $prefix/modules: $!";
    mkdir "$prefix/logs" or die "mkdir $prefix/logs: $!";
    symlink $module, "$prefix/modules/ngx_http_mock_module.so"
        or die "symlink to $module: $!";
    if (-d $cassettes) {
        symlink $cassettes, "$prefix/cassettes"
            or die "symlink to $cassettes: $!";
    }
    if (-d $secrets) {
        symlink $secrets, "$prefix/secrets"
            or die "symlink to $secrets: $!";
    }

    my ($rc, $out, $err) = run_cmd($nginx, '-t', '-p', "$prefix/",
                                   '-c', $conf);
    is($rc, 0, "nginx -t accepts $name") or diag($out . $err);
}

done_testing();
