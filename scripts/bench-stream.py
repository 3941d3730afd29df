#!/usr/bin/python3
"""bench-stream.py: how true replayed streams are to their recorded times,
and what streams cost the locations that do not use them.

Precision.  A small upstream (a thread of this script) sends a
text/event-stream of BENCH_EVENTS (100) events, with gaps of 20 to 50 ms
in a fixed pattern.  nginx records it (mock_mode record, proxy_buffering
off), which keeps each event's time after the header in x_mock chunks.
Then BENCH_STREAMS (10) clients at once replay it, BENCH_ROUNDS (5)
times, from a location with "mock_latency recorded"; one thread reads
all of them with a selector and notes when each chunk comes.  An event's
error is its arrival after the first event less its recorded time after
the first chunk; a gap's error is the gap less the recorded gap.  The
p50, p99 and largest error (absolute, ms) are reported; the target is
5 ms.  The largest error of each round is printed with the load average
then: a stall of the machine (another process, the client descheduled)
delays every stream of its round alike.

Throughput.  wrk (BENCH_SECONDS per run, BENCH_THROUGHPUT_ROUNDS rounds in
alternating order, the median reported) measures, in the same nginx:

  return      "return 200" with the same 1 KiB body and headers
  replay      that interaction replayed, in a location without timing
              directives, from a cassette without x_mock timing
  timed       the same from a cassette whose interaction has x_mock
              timing (sent as before: no recorded latency there)

With BENCH_BASELINE_SO=/path/to/ngx_http_mock_module.so (a build of the
module before streams, e.g. "git archive <commit> | tar -x -C /tmp/base;
make -C /tmp/base"), a second nginx with that build serves "return" and
"replay" too, and the report compares replay/return of both builds: the
target is 0.97 or more of the build without streams.

Settings: BENCH_PORT (18600; the upstream and the baseline use the next
two ports), BENCH_EVENTS, BENCH_STREAMS, BENCH_ROUNDS, BENCH_SECONDS (5),
BENCH_THROUGHPUT_ROUNDS (3), BENCH_BASELINE_SO, BENCH_ONLY
(precision,throughput), NGINX (/usr/sbin/nginx), MOCK_MODULE
(build/ngx_http_mock_module.so).  The load average of the machine is
printed with the results: on a shared machine other processes delay
nginx and the client both.
"""

import os
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
MODULE = os.path.abspath(os.environ.get(
    "MOCK_MODULE", os.path.join(TOP, "build", "ngx_http_mock_module.so")))
BASELINE = os.environ.get("BENCH_BASELINE_SO")
PORT = int(os.environ.get("BENCH_PORT", "18600"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "100"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
TROUNDS = int(os.environ.get("BENCH_THROUGHPUT_ROUNDS", "3"))
ONLY = os.environ.get("BENCH_ONLY", "precision,throughput").split(",")
TMP = None

BODY = '{"items": [%s]}' % ", ".join('"item-%04d"' % i for i in range(78))
GAPS = [20 + (i * 7919) % 31 for i in range(EVENTS)]


def upstream(port):
    """The SSE service: GET /events gets EVENTS events, chunked."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)

    def serve(c):
        data = b""
        while b"\r\n\r\n" not in data:
            d = c.recv(4096)
            if not d:
                return
            data += d
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                  b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for i in range(EVENTS):
            if i:
                time.sleep(GAPS[i] / 1000)
            ev = b"id: %d\ndata: event %d\n\n" % (i, i)
            c.sendall(b"%x\r\n%s\r\n" % (len(ev), ev))
        c.sendall(b"0\r\n\r\n")
        c.close()

    def loop():
        while True:
            c, _ = srv.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def conf(tmp, module, port, up, name, streams):
    headers = 'add_header X-Bench 1;'
    stream_locations = f"""
        location /rec/ {{
            proxy_pass http://127.0.0.1:{up}/;
            proxy_buffering off;
            mock_upstream http://127.0.0.1:{up}/;
            mock_replay {tmp}/sse.yaml;
            mock_mode record;
        }}
        location /play/ {{
            mock_upstream http://127.0.0.1:{up}/;
            mock_replay {tmp}/sse.yaml;
            mock_repeats on;
            mock_latency recorded;
        }}
        location /timed/ {{
            mock_upstream http://svc/;
            mock_replay {tmp}/timed.yaml;
            mock_repeats on;
            {headers}
        }}""" if streams else ""
    return f"""
load_module {module};
daemon on;
master_process on;
worker_processes 2;
{'user root;' if os.geteuid() == 0 else ''}
error_log {tmp}/{name}-error.log warn;
pid {tmp}/{name}.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    mock_zone zone={name}:32m;
    server {{
        listen 127.0.0.1:{port};{stream_locations}
        location = /return {{
            default_type application/json;
            {headers}
            return 200 '{BODY}';
        }}
        location /replay/ {{
            mock_upstream http://svc/;
            mock_replay {tmp}/plain.yaml;
            mock_repeats on;
            {headers}
        }}
    }}
}}
"""


def cassette(path, timing):
    extra = ("  x_mock: {timing: {wait: 10, receive: 20}}\n"
             if timing else "")
    with open(path, "w") as f:
        f.write("version: 1\ninteractions:\n"
                "- request: {method: GET, uri: 'http://svc/items/1', "
                "body: null, headers: {}}\n"
                "  response:\n    status: {code: 200, message: OK}\n"
                "    headers: {Content-Type: [application/json]}\n"
                "    body: {string: '%s'}\n%s" % (BODY, extra))


def start(tmp, module, port, up, name, streams=True):
    path = os.path.join(tmp, name + ".conf")
    with open(path, "w") as f:
        f.write(conf(tmp, module, port, up, name, streams))
    subprocess.run([NGINX, "-p", tmp + "/", "-c", path], check=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return os.path.join(tmp, name + ".pid")
        except OSError:
            time.sleep(0.05)
    sys.exit("nginx %s did not start" % name)


def stop(pidfile):
    try:
        pid = int(open(pidfile).read())
        os.kill(pid, signal.SIGQUIT)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)
    except (OSError, ValueError):
        pass


def get(port, path):
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"
              % path.encode())
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            return data
        data += d


def recorded_at(tmp):
    text = open(os.path.join(tmp, "sse.yaml")).read()
    return [int(m) for m in re.findall(r"- \{at: (\d+), size: \d+\}", text)]


class Stream:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), 10)
        self.sock.sendall(b"GET /play/events HTTP/1.1\r\nHost: b\r\n"
                          b"Connection: close\r\n\r\n")
        self.sock.setblocking(False)
        self.raw = b""
        self.head = False
        self.arrivals = []
        self.done = False

    def read(self):
        try:
            d = self.sock.recv(65536)
        except BlockingIOError:
            return
        now = time.monotonic()
        if not d:
            self.done = True
            return
        self.raw += d
        if not self.head:
            i = self.raw.find(b"\r\n\r\n")
            if i < 0:
                return
            self.head = True
            self.raw = self.raw[i + 4:]
        while True:
            m = re.match(rb"([0-9a-fA-F]+)\r\n", self.raw)
            if not m:
                return
            size = int(m.group(1), 16)
            end = m.end() + size + 2
            if len(self.raw) < end:
                return
            self.raw = self.raw[end:]
            if size == 0:
                self.done = True
                return
            self.arrivals.append(now)


def precision(port, at):
    offset_err, gap_err, counts, rounds = [], [], [], []
    for _ in range(ROUNDS):
        first = len(offset_err)
        sel = selectors.DefaultSelector()
        streams = [Stream(port) for _ in range(STREAMS)]
        for s in streams:
            sel.register(s.sock, selectors.EVENT_READ, s)
        deadline = time.monotonic() + sum(GAPS) / 1000 + 30
        while any(not s.done for s in streams) and time.monotonic() < deadline:
            for key, _ in sel.select(1):
                key.data.read()
                if key.data.done:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
        for s in streams:
            counts.append(len(s.arrivals))
            if len(s.arrivals) != len(at):
                continue
            t0 = s.arrivals[0]
            for i in range(1, len(at)):
                offset_err.append(abs((s.arrivals[i] - t0) * 1000
                                      - (at[i] - at[0])))
                gap_err.append(abs((s.arrivals[i] - s.arrivals[i - 1]) * 1000
                                   - (at[i] - at[i - 1])))
        rounds.append((max(offset_err[first:] or [0]), os.getloadavg()[0]))
    return offset_err, gap_err, counts, rounds


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100))] if v else float("nan")


def workers_cpu(pidfile):
    """CPU seconds of the workers of the nginx whose master is in pidfile."""
    master = open(pidfile).read().strip()
    ticks = 0
    for stat in os.listdir("/proc"):
        if not stat.isdigit():
            continue
        try:
            f = open("/proc/%s/stat" % stat).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if f[1] == master:
            ticks += int(f[11]) + int(f[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(port, path, pidfile):
    """(requests/s, worker CPU microseconds per response)"""
    cpu = workers_cpu(pidfile)
    out = subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % SECONDS,
                          "http://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True).stdout
    cpu = workers_cpu(pidfile) - cpu
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    if not m or not n or "Non-2xx" in out:
        sys.exit("wrk on %s failed:\n%s" % (path, out))
    return float(m.group(1)), cpu * 1e6 / int(n.group(1))


def run_precision():
    print("recording %d events, %d ms of gaps ..." % (EVENTS, sum(GAPS)))
    get(PORT, "/rec/events")
    at = recorded_at(TMP)
    if len(at) != EVENTS:
        sys.exit("recorded %d chunks, not %d" % (len(at), EVENTS))

    offset_err, gap_err, counts, rounds = precision(PORT, at)
    whole = sum(1 for c in counts if c == EVENTS)
    print("\nprecision: %d streams (%d at once x %d rounds), %d whole"
          % (len(counts), STREAMS, ROUNDS, whole))
    for name, err in (("event offset", offset_err), ("gap", gap_err)):
        print("  %-13s error ms: p50 %.2f  p99 %.2f  max %.2f  %s"
              % (name, pct(err, 50), pct(err, 99), max(err or [0]),
                 "ok" if err and max(err) <= 5 else "ABOVE 5 ms"))
    print("  largest offset error of each round (ms, load): "
          + ", ".join("%.1f (%.1f)" % r for r in rounds))
    print("  (a stall of the machine delays every stream of a round alike)")


def run_throughput(pids):
    cases = [(PORT, "/return", "return"),
             (PORT, "/replay/items/1", "replay"),
             (PORT, "/timed/items/1", "timed")]
    if BASELINE:
        pids.append(start(TMP, os.path.abspath(BASELINE), PORT + 2,
                          PORT + 1, "base", streams=False))
        cases += [(PORT + 2, "/return", "base return"),
                  (PORT + 2, "/replay/items/1", "base replay")]
    pidfile = {PORT: pids[0], PORT + 2: pids[-1]}

    for port, path, _ in cases:
        subprocess.run(["wrk", "-t1", "-c8", "-d1s",
                        "http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True)

    rps = {name: [] for _, _, name in cases}
    cpu = {name: [] for _, _, name in cases}
    for r in range(TROUNDS):
        for port, path, name in (cases if r % 2 == 0 else cases[::-1]):
            a, b = wrk(port, path, pidfile[port])
            rps[name].append(a)
            cpu[name].append(b)
    med = {k: statistics.median(v) for k, v in rps.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}

    print("\nthroughput (wrk -t2 -c32, %ds x %d rounds, medians):"
          % (SECONDS, TROUNDS))
    print("  %-12s %10s %14s" % ("case", "req/s", "worker us/resp"))
    for _, _, name in cases:
        print("  %-12s %10.0f %14.2f" % (name, med[name], mcpu[name]))
    print("  req/s:  replay/return %.3f, timed/replay %.3f"
          % (med["replay"] / med["return"], med["timed"] / med["replay"]))
    if BASELINE:
        new = med["replay"] / med["return"]
        old = med["base replay"] / med["base return"]
        print("  req/s:  base replay/return %.3f; with streams / without: "
              "%.3f (target 0.97) %s"
              % (old, new / old, "ok" if new / old >= 0.97 else "LOW"))
        c = mcpu["base replay"] / mcpu["replay"]
        print("  CPU:    base replay us / replay us: %.3f (target 0.97) %s"
              % (c, "ok" if c >= 0.97 else "LOW"))


def main():
    global TMP
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian: apt-get install wrk)")
    TMP = tempfile.mkdtemp(prefix="bench-stream-")
    pids = []
    try:
        cassette(os.path.join(TMP, "plain.yaml"), False)
        cassette(os.path.join(TMP, "timed.yaml"), True)
        upstream(PORT + 1)
        pids.append(start(TMP, MODULE, PORT, PORT + 1, "mock"))
        print("load average: %.2f %.2f %.2f" % os.getloadavg())
        if "precision" in ONLY:
            run_precision()
        if "throughput" in ONLY:
            run_throughput(pids)
        print("load average: %.2f %.2f %.2f" % os.getloadavg())
    finally:
        for p in pids:
            stop(p)
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
