# conf-examples/orders.conf runs as shipped and does what it says.
#
# The example is started as "make start EXAMPLE=orders" starts it: a
# prefix with modules/ linked to the module under test and cassettes/ to
# conf-examples/cassettes, and the example's own file, with only its
# listening port changed.  Then, as a test would:
#
#   - POST /shop/orders answers 201 with a fresh version 4 order_id, the
#     user, sku and qty that the request sent (qty as a number) and the
#     time now; a second order gets another id;
#   - GET /shop/orders/latest shows the last order of the same session,
#     in its body and its Content-Location, and another session has none;
#   - GET /shop/orders/<any id> echoes the id asked for, counts the plays
#     (1, 2, 3 while mock_repeats last keeps answering) and gives the
#     time as seconds since the epoch.

use strict;
use warnings;

use Test::More;
use File::Path qw(make_path remove_tree);
use File::Spec;
use Cwd ();
use JSON::PP ();
use FindBin;

use lib "$FindBin::Bin/lib";
use MockTest qw(skip_under_valgrind module_under_test server_port lock_run
                slurp write_file);

skip_under_valgrind('an nginx started and stopped with deadlines that '
                    . 'nginx under valgrind does not meet');

my $module   = module_under_test();
my $examples = Cwd::abs_path("$FindBin::Bin/../conf-examples");
my $root     = "$FindBin::Bin/servroot-example-orders";
my $port     = server_port(91);

my $lock = lock_run("$root.lock");

my $nginx = MockTest::Nginx->new(root => "$root/prefix",
                                 conf => "$root/orders.conf",
                                 port => $port, workers => 2,
                                 module => $module);
$nginx->fresh_root('logs', 'modules');

symlink $module, "$root/prefix/modules/ngx_http_mock_module.so"
    or die "symlink: $!";
symlink "$examples/cassettes", "$root/prefix/cassettes"
    or die "symlink: $!";

my $conf = slurp("$examples/orders.conf");
ok($conf =~ s/listen 127\.0\.0\.1:8080;/listen 127.0.0.1:$port;/,
   'the example listens on 127.0.0.1:8080');

write_file("$root/orders.conf", $conf);

$nginx->start;

my $json = JSON::PP->new;
my $uuid = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

sub call {
    my ($method, $path, $session, $body) = @_;
    my %opt = (headers => { 'X-Test-Session' => $session });
    if (defined $body) {
        $opt{headers}{'Content-Type'} = 'application/json';
        $opt{content} = $body;
    }
    my $r = $nginx->request($method, $path, \%opt);
    my $data = eval { $json->decode($r->{content}) };
    diag("not JSON: $r->{status} $r->{content}\n" . $nginx->error_log)
        unless $data;
    return ($r, $data // {});
}

# a new order: a fresh id, the client's own fields, the time now

my ($r, $order) = call('POST', '/shop/orders', 't1',
                       '{"user": "grace", "sku": "coffee", "qty": 3}');
is($r->{status}, 201, 'POST /shop/orders: 201');
like($order->{order_id} // '', $uuid, 'the order id is a fresh UUID');
is($order->{user}, 'grace', 'the user is the one sent');
is($order->{sku}, 'coffee', 'the sku is the one sent');
like($r->{content}, qr/"qty": 3\b/, 'qty is a bare number');
like($order->{created_at} // '',
     qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'created_at is RFC 3339');

my ($r2, $order2) = call('POST', '/shop/orders', 't1',
                         '{"user": "grace", "sku": "tea", "qty": 1}');
like($order2->{order_id} // '', $uuid, 'a second order: a UUID');
isnt($order2->{order_id}, $order->{order_id}, 'and another one');
is($order2->{sku}, 'tea', 'with its own sku');

# the latest order of this session, and none in another

my ($r3, $latest) = call('GET', '/shop/orders/latest', 't1');
is($r3->{status}, 200, 'GET /shop/orders/latest: 200');
is($latest->{order_id}, $order2->{order_id}, 'the latest order is shown');
is($latest->{user}, 'grace', 'with its user');
is($r3->{headers}{'content-location'},
   "/shop/orders/$order2->{order_id}", 'Content-Location names it');

my ($r4, $none) = call('GET', '/shop/orders/latest', 't2');
is($r4->{status}, 200, 'another session: 200');
is($none->{order_id}, 'none', 'another session has no order');
is($none->{user}, '', 'and no user');

# any order id: echoed, the plays counted

for my $n (1 .. 3) {
    my ($r5, $one) = call('GET', "/shop/orders/$order->{order_id}", 't1');
    is($r5->{status}, 200, "GET /shop/orders/<id> ($n): 200");
    is($one->{order_id}, $order->{order_id}, "($n) the id asked for");
    is($one->{seen}, $n, "($n) seen $n times");
    ok(abs(($one->{checked_at} // 0) - time) <= 5,
       "($n) checked_at is now, in seconds since the epoch");
}

my ($r6, $other) = call('GET', '/shop/orders/8c1d-anything', 't3');
is($other->{order_id}, '8c1d-anything', 'another id is echoed too');

unlike($nginx->error_log, qr/\[(?:error|alert|crit|emerg)\]/,
       'nothing went wrong in the error log');

$nginx->stop;

done_testing();
