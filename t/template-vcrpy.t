# A templated cassette, with x_mock keys, is still a vcrpy cassette:
# Debian's python3-vcr loads it, ignores x_mock and replays the recorded
# text, expressions and all.

use strict;
use warnings;

use Test::More;
use FindBin;
use File::Temp ();

use lib "$FindBin::Bin/lib";
use MockTest qw(PYTHON skip_without_python write_file run_cmd);

skip_without_python('import vcr, requests',
                    'cannot import vcr and requests, needed to load the '
                    . 'cassette (Debian: apt-get install python3-vcr '
                    . 'python3-requests)');

my $dir = File::Temp->newdir;
my $cassette = "$dir/t.yaml";

write_file($cassette, <<'EOF');
version: 1
interactions:
- request:
    method: POST
    uri: http://svc.test/orders
    body: null
    headers: {}
  response:
    status: {code: 201, message: Created}
    headers:
      Content-Type: [application/json]
      Location: ['/orders/{{uuid as order_id}}']
    body: {string: '{"order_id": "{{var.order_id}}", "at": "{{now}}"}'}
  x_mock:
    recorded: '2026-12-01T08:00:00Z'
    templated: [$.order_id, header Location]
    later: {a: 1}
- request:
    method: GET
    uri: http://svc.test/plain
    body: null
    headers: {}
  response:
    status: {code: 200, message: OK}
    headers: {}
    body: {string: 'plain'}
  x_mock: {templated: []}
EOF

write_file("$dir/replay.py", <<'PY');
import json, sys
import requests
import vcr

out = []
with vcr.VCR(record_mode="none").use_cassette(sys.argv[1]) as cass:
    r = requests.post("http://svc.test/orders")
    out.append([r.status_code, r.headers.get("Location"), r.text])
    r = requests.get("http://svc.test/plain")
    out.append([r.status_code, None, r.text])
    all_played = cass.all_played
print(json.dumps({"out": out, "all_played": all_played}))
PY

my ($rc, $out, $err) = run_cmd(PYTHON, "$dir/replay.py", $cassette);
is($rc, 0, 'vcrpy loads and replays the templated cassette') or diag($err);
like($out, qr/"all_played": true/, 'and plays both interactions');
like($out, qr{\[201, "/orders/\{\{uuid as order_id\}\}", "\{\\"order_id\\": \\"\{\{var\.order_id\}\}\\"}, 
     'with the recorded text, expressions unrendered');
like($out, qr/\[200, null, "plain"\]/, 'an empty templated list is fine');

done_testing();
