# A fleet answers as one instance: suites written for one nginx pass
# unchanged with mock_redis added to every block.
#
# For each suite below, a copy is made (t/servroot-parity/<name>.parity,
# a name that prove does not take for a test of its own) whose blocks
# each get
#
#     mock_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT prefix=<own prefix>
#
# in http{} (a prefix of their own, so that no block sees another's
# state, as a new nginx sees no zone of the one before).  The copy runs
# as a child test, against the suite's Redis; it must pass as the
# original does.  So sequences, sessions, forced answers named in a
# request header, HEAD, mock_repeats, templates and their session
# values, matching, ignore rules and switching per request behave the
# same when the state is in Redis.  The suites that print the admin
# API's answers whole (t/admin.t, t/repeats.t) are left out: with
# mock_redis those answers say "fleet" and "redis" besides.
#
# Skipped under valgrind, where each suite runs on its own already.

use strict;
use warnings;

use Test::More;
use File::Path qw(make_path remove_tree);
use FindBin;

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind slurp write_file);

skip_under_valgrind('runs other suites, which valgrind runs on their own');

my @suites = qw(session sequence replay match switch template template-vars
                template-path ignore);

my $redis_port = $ENV{TEST_NGINX_REDIS_PORT} || 16379;
my $prefix     = "t-fleet-parity-$$-" . time();
my $dir        = "$FindBin::Bin/servroot-parity";

# The preprocessor each copy gets, before its run_tests().
my $inject = <<'PERL';
my $fleet_parity_block = 0;
add_block_preprocessor(sub {
    my $block = shift;
    my $http = $block->http_config // '';
    return if $http =~ /mock_redis/;
    $fleet_parity_block++;
    $block->set_value('http_config', $http . "\n    mock_redis 127.0.0.1:"
        . "$ENV{FLEET_PARITY_REDIS_PORT} prefix=$ENV{FLEET_PARITY_PREFIX}-"
        . "$fleet_parity_block: timeout=10s;\n");
});
PERL

END {
    local $?;
    # This run's keys only.
    if (open my $scan, '-|', 'redis-cli', '-p', $redis_port, '--scan',
             '--pattern', "$prefix*")
    {
        my @keys = grep { length } map { s/\s+\z//r } <$scan>;
        close $scan;
        if (@keys && open my $del, '-|', 'redis-cli', '-p', $redis_port,
                                'DEL', @keys)
        {
            1 while <$del>;
            close $del;
        }
    }
}

remove_tree($dir);
make_path($dir);

for my $suite (@suites) {
    my $text = slurp("$FindBin::Bin/$suite.t");

    # The copy finds the suite's helpers and data where the original does.
    $text =~ s{\$FindBin::Bin}{'$FindBin::Bin/..'}ge;
    $text =~ s{dirname\(__FILE__\)}{(dirname(__FILE__) . '/..')}g;
    ok($text =~ s/^run_tests\(\);/$inject\nrun_tests();/m,
       "$suite.t: the copy gets mock_redis in every block")
        or next;
    write_file("$dir/$suite.parity", $text);

    local $ENV{FLEET_PARITY_REDIS_PORT} = $redis_port;
    local $ENV{FLEET_PARITY_PREFIX}     = "$prefix-$suite";

    my $out = `$^X $dir/$suite.parity 2>&1`;
    my $status = $? >> 8;
    my @failed = grep { /^not ok/ } split /\n/, $out;
    ok($status == 0 && $out =~ /^1\.\.\d+/m && !@failed,
       "$suite.t passes with the state in Redis")
        or diag(join "\n", (@failed ? @failed[0 .. ($#failed < 9 ? $#failed
                                                                 : 9)]
                                    : ()),
                 "exit status $status",
                 grep { /^#/ } split /\n/, $out);
}

done_testing();
