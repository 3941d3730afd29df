#!/usr/bin/python3
"""bench-edit.py: how long an edit through the admin API takes.

One nginx (2 workers) on 127.0.0.1 serves a cassette of N interactions
(BENCH_EDIT_SIZES, default "100 1000 10000", each a 1 KiB body) and the
admin API.  For each size, BENCH_EDIT_ROUNDS (default 30) edits are
timed from the client, one after the other: PUT of a response, then, in
the same run, as the ceiling, "return 200" of nginx and GET
/_mock/cassettes, which reads the zone and writes nothing.  An edit
writes the whole cassette, reads it back, and loads every cassette of
the configuration into the zone, so it grows with them: the medians and
the 95th percentiles are printed in milliseconds.

Usage: MOCK_MODULE=build/ngx_http_mock_module.so scripts/bench-edit.py
"""

import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

NGINX = os.environ.get('NGINX', '/usr/sbin/nginx')
MODULE = os.path.abspath(os.environ.get('MOCK_MODULE',
                                        'build/ngx_http_mock_module.so'))
PORT = int(os.environ.get('BENCH_EDIT_PORT', '38211'))
SIZES = [int(x) for x in
         os.environ.get('BENCH_EDIT_SIZES', '100 1000 10000').split()]
ROUNDS = int(os.environ.get('BENCH_EDIT_ROUNDS', '30'))
BODY = 'x' * 1024


def cassette(path, n):
    with open(path, 'w') as f:
        f.write('version: 1\ninteractions:\n')
        for i in range(n):
            f.write("- request: {method: GET, uri: 'http://svc/items/%d', "
                    "body: null, headers: {}}\n  response: {status: {code: "
                    "200, message: OK}, headers: {Content-Type: "
                    "[application/json]}, body: {string: '%s'}}\n"
                    % (i, BODY))


def conf(root):
    user = 'user root;\n' if os.geteuid() == 0 else ''
    return ('load_module %s;\n%sdaemon on;\nmaster_process on;\n'
            'worker_processes 2;\nerror_log logs/error.log notice;\n'
            'pid logs/nginx.pid;\nevents { worker_connections 256; }\n'
            'http {\n  access_log off;\n  server {\n'
            '    listen 127.0.0.1:%d;\n'
            '    location = /return { return 200 "%s"; }\n'
            '    location / { mock_replay c.yaml; }\n'
            '    location /_mock { mock_admin; mock_audit_log logs/a.log; }\n'
            '  }\n}\n' % (MODULE, user, PORT, BODY))


def timed(method, path, body=None):
    c = http.client.HTTPConnection('127.0.0.1', PORT, timeout=60)
    headers = {'Content-Type': 'application/json'} if body else {}
    start = time.perf_counter()
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    took = (time.perf_counter() - start) * 1000
    c.close()
    if r.status >= 300:
        sys.exit('%s %s: %d %s' % (method, path, r.status, data[:200]))
    return took


def report(name, times):
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print('  %-22s median %8.2f ms   p95 %8.2f ms'
          % (name, statistics.median(times), p95))


def main():
    for n in SIZES:
        root = tempfile.mkdtemp(prefix='bench-edit-')
        os.makedirs(root + '/conf')
        os.makedirs(root + '/logs')
        cassette(root + '/c.yaml', n)
        with open(root + '/conf/nginx.conf', 'w') as f:
            f.write(conf(root))
        subprocess.run([NGINX, '-p', root + '/', '-c', 'conf/nginx.conf'],
                       check=True)
        try:
            time.sleep(0.5)
            put = json.dumps({'response': {
                'status': {'code': 200, 'message': 'OK'},
                'headers': {'Content-Type': ['application/json']},
                'body': {'string': 'edited ' + BODY}}})
            ret, get, edit = [], [], []
            for i in range(ROUNDS):
                ret.append(timed('GET', '/return'))
                get.append(timed('GET', '/_mock/cassettes'))
                edit.append(timed('PUT', '/_mock/interactions/%d'
                                  % (i * 7 % n), put))
            size = os.path.getsize(root + '/c.yaml')
            print('%d interactions (%d KiB file):' % (n, size // 1024))
            report('return 200', ret)
            report('GET /_mock/cassettes', get)
            report('PUT interactions/N', edit)
        finally:
            with open(root + '/logs/nginx.pid') as f:
                os.kill(int(f.read()), signal.SIGQUIT)
            time.sleep(0.5)
            shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    main()
