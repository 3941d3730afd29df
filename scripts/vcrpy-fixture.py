#!/usr/bin/python3
"""Record a cassette with vcrpy against a small local HTTP service.

    /usr/bin/python3 scripts/vcrpy-fixture.py t/fixtures/vcrpy-sample.yaml

The cassette in t/fixtures is made by this script, so the suite replays
what vcrpy itself writes: binary gzip bodies, repeated headers, a
sequence of different answers to one request, empty bodies.
"""

import gzip
import http.server
import json
import os
import sys
import threading

import requests
import vcr


class Service(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counter = 0

    def reply(self, code, body, ctype="application/json", extra=()):
        self.send_response(code)
        if body is not None:
            self.send_header("Content-Type", ctype)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/v1/users"):
            body = json.dumps({"id": 7, "name": "Ada"}).encode()
            self.reply(200, body, extra=[("Set-Cookie", "a=1; Path=/"),
                                         ("Set-Cookie", "b=2; Path=/"),
                                         ("X-Trace", "t-1")])
        elif self.path == "/v1/report":
            body = gzip.compress(b'{"report": "' + b"x" * 200 + b'"}', mtime=0)
            self.reply(200, body, extra=[("Content-Encoding", "gzip")])
        elif self.path == "/v1/counter":
            Service.counter += 1
            self.reply(200, json.dumps({"n": Service.counter}).encode())
        elif self.path == "/v1/missing":
            self.reply(404, b'{"error": "not found"}')
        else:
            self.reply(204, None)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        data = json.loads(self.rfile.read(length) or b"{}")
        self.reply(201, json.dumps({"created": data}).encode())

    def do_DELETE(self):
        self.reply(204, None)

    def log_message(self, *args):
        pass


def main():
    out = sys.argv[1]
    server = http.server.HTTPServer(("127.0.0.1", 0), Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_port

    if os.path.exists(out):
        os.unlink(out)

    with vcr.use_cassette(out, record_mode="all"):
        s = requests.Session()
        s.get(base + "/v1/users?id=7&sort=name")
        s.get(base + "/v1/report")
        s.get(base + "/v1/counter")
        s.get(base + "/v1/counter")
        s.get(base + "/v1/counter")
        s.post(base + "/v1/users", json={"name": "Ada", "tags": ["a", "b"]})
        s.get(base + "/v1/missing")
        s.delete(base + "/v1/users/7")

    server.shutdown()


if __name__ == "__main__":
    main()
