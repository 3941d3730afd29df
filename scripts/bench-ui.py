#!/usr/bin/python3
"""bench-ui.py: what the dashboard's polling costs replay.

One nginx (2 workers, keep-alive, no access log) on 127.0.0.1 serves:

  /ret/     "return 200" with a 1 KiB JSON body, the ceiling
  /api/     replay of a 1 KiB JSON interaction (mock_repeats on), per
            test session (mock_session $http_x_test_id)
  /_mock    the admin API and the dashboard (mock_admin)

Before measuring, BENCH_SESSIONS (10,000) sessions each make a request,
so that the zone holds that many sessions (with their plays) and the
journal is full; BENCH_FORCED (100) of them get a forced answer.

Then wrk replays /api/items/1 in interleaved rounds of two cases, each
round in a different order, and the medians are reported:

  quiet     nothing else
  polled    BENCH_POLLERS (5) dashboards poll the admin API as the page
            does, each once a second: two on the Overview (metrics every
            second, cassettes and locations every 5 s), two on the
            Journal (journal?after= every second, only what is new), one
            on Sessions (journal?limit=200, the session's forced answers,
            interactions and unused list every 3 s, sessions?limit=100
            when the view opens); each one loads the page's three files
            again every 10 s, with its ETag, and so opens its view again

"return 200" runs once per round as well, for scale.  The target is
polled at 0.97 of quiet or more.  Other processes on the machine move
req/s from run to run, so each run also reports the CPU time of nginx's
workers per replayed response (from /proc), the pollers' admin requests
included: quiet over polled is the throughput ratio when nginx has the
CPUs to itself.  The script also times each endpoint
that the dashboard reads with the 10,000 sessions in the zone (median and
p99 of BENCH_SAMPLES calls, and the answer's size), so that an endpoint
that grows with the sessions or the journal shows.

Environment:
  BENCH_SECONDS    seconds of each measured run (default 10)
  BENCH_ROUNDS     interleaved rounds (default 3)
  BENCH_SESSIONS   sessions made before measuring (default 10000)
  BENCH_FORCED     of them with a forced answer (default 100)
  BENCH_POLLERS    dashboards polling (default 5)
  BENCH_SAMPLES    calls per endpoint timed (default 50)
  BENCH_PORT       port on 127.0.0.1 (default: a free one)
  MOCK_MODULE      the module (default build/ngx_http_mock_module.so)
  NGINX_BIN        nginx binary (default /usr/sbin/nginx)

The target is reported, not enforced: the exit status is non-zero only
when the benchmark itself could not run.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BODY = json.dumps({"id": 1, "name": "item", "pad": "x" * 990})[:1024]


def die(msg):
    print("bench-ui.py: " + msg, file=sys.stderr)
    sys.exit(1)


def number(name, default):
    v = os.environ.get(name) or str(default)
    if not re.fullmatch(r"[0-9]+", v) or int(v) <= 0:
        die("%s must be a positive whole number" % name)
    return int(v)


def median(values):
    s = sorted(values)
    return s[len(s) // 2] if s else 0.0


def p99(values):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * 0.99))] if s else 0.0


class Client:
    """One keep-alive connection; request() gives (status, body)."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for _ in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=10)
            try:
                self.conn.request(method, path, body=body,
                                  headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data, r
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
        return 0, b"", None


class Poller(threading.Thread):
    """A dashboard left open on one view."""

    def __init__(self, port, view, stop):
        super().__init__(daemon=True)
        self.c = Client(port)
        self.view = view
        self.stop = stop
        self.calls = 0
        self.bad = 0
        self.bytes = 0
        self.etags = {}
        self.next = -1

    def get(self, path, headers=None):
        status, data, _ = self.c.request("GET", "/_mock/" + path,
                                         headers=headers)
        self.calls += 1
        self.bytes += len(data)
        if status not in (200, 304):
            self.bad += 1
        return status, data

    def page(self):
        for f in ("", "ui.js", "ui.css"):
            h = {"If-None-Match": self.etags[f]} if f in self.etags else {}
            status, data, r = self.c.request("GET", "/_mock/ui/" + f,
                                             headers=h)
            self.calls += 1
            if r is not None and r.getheader("ETag"):
                self.etags[f] = r.getheader("ETag")

    def run(self):
        tick = 0
        while not self.stop.is_set():
            start = time.monotonic()
            if tick % 10 == 0:
                self.page()
                if self.view == "sessions":
                    self.get("sessions?limit=100")
            if self.view == "overview":
                self.get("metrics")
                if tick % 5 == 0:
                    self.get("cassettes?sessions=0")
                    self.get("locations")
            elif self.view == "journal":
                after = "&after=%d" % (self.next - 1) if self.next >= 0 else ""
                status, data = self.get("journal?limit=500" + after)
                if status == 200:
                    self.next = json.loads(data).get("next", -1)
            elif tick % 3 == 0:
                self.get("journal?limit=200")
                self.get("sessions?session=s17")
                self.get("interactions?session=s17")
                self.get("unused?session=s17")
            tick += 1
            self.stop.wait(max(0, 1 - (time.monotonic() - start)))


class Bench:

    def __init__(self):
        env = os.environ
        self.nginx = env.get("NGINX_BIN") or "/usr/sbin/nginx"
        self.module = os.path.abspath(env.get("MOCK_MODULE") or os.path.join(
            TOP, "build/ngx_http_mock_module.so"))
        self.seconds = number("BENCH_SECONDS", 10)
        self.rounds = number("BENCH_ROUNDS", 3)
        self.sessions = number("BENCH_SESSIONS", 10000)
        self.forced = number("BENCH_FORCED", 100)
        self.pollers = number("BENCH_POLLERS", 5)
        self.samples = number("BENCH_SAMPLES", 50)
        for tool in (self.nginx, "wrk"):
            if not shutil.which(tool):
                die("%s not found" % tool)
        if not os.path.isfile(self.module):
            die("no module at %s (run make)" % self.module)
        if env.get("BENCH_PORT"):
            self.port = number("BENCH_PORT", 1)
        else:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
            s.close()
        self.tmp = tempfile.mkdtemp(prefix="mock-bench-ui.")
        self.pidfile = os.path.join(self.tmp, "nginx.pid")

    def path(self, name):
        return os.path.join(self.tmp, name)

    def start(self):
        shutil.copy(self.module, self.path("mock.so"))
        os.makedirs(self.path("logs"))
        with open(self.path("api.yaml"), "w") as f:
            f.write("version: 1\ninteractions:\n"
                    "- request: {method: GET, uri: 'http://svc/api/items/1',"
                    " body: null, headers: {}}\n"
                    "  response:\n    status: {code: 200, message: OK}\n"
                    "    headers: {Content-Type: [application/json]}\n"
                    "    body: {string: '%s'}\n" % BODY)
        with open(self.path("nginx.conf"), "w") as f:
            f.write("""
load_module %(tmp)s/mock.so;
worker_processes 2;
pid %(tmp)s/nginx.pid;
error_log %(tmp)s/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:%(port)d backlog=1024;
        location /ret/ {
            default_type application/json;
            return 200 '%(body)s';
        }
        location /api/ {
            mock_replay %(tmp)s/api.yaml;
            mock_repeats on;
            mock_session $http_x_test_id;
        }
        location /_mock {
            allow 127.0.0.1;
            deny all;
            mock_admin;
        }
    }
}
""" % {"tmp": self.tmp, "port": self.port, "body": BODY})
        if subprocess.run([self.nginx, "-p", self.tmp, "-c",
                           self.path("nginx.conf")]).returncode:
            die("nginx did not start")
        c = Client(self.port)
        for _ in range(100):
            if c.request("GET", "/ret/")[0] == 200:
                return
            time.sleep(0.1)
        die("nginx does not answer")

    def stop(self):
        try:
            with open(self.pidfile) as f:
                os.kill(int(f.read()), signal.SIGQUIT)
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fill(self):
        c = Client(self.port)
        t0 = time.monotonic()
        for i in range(self.sessions):
            status = c.request("GET", "/api/items/1",
                               headers={"X-Test-Id": "s%d" % i})[0]
            if status != 200:
                die("session s%d: status %d" % (i, status))
        for i in range(self.forced):
            body = json.dumps({"session": "s%d" % i, "method": "GET",
                               "path": "/api/items/1", "interaction": 0})
            status = c.request("POST", "/_mock/force", body=body, headers={
                "Content-Type": "application/json"})[0]
            if status != 200:
                die("force for s%d: status %d" % (i, status))
        status, data, _ = c.request("GET", "/_mock/sessions?limit=1")
        total = json.loads(data)["total"] if status == 200 else 0
        print("zone: %d sessions (%d with a forced answer), made in %.1f s"
              % (total, self.forced, time.monotonic() - t0))
        if total < self.sessions:
            die("the zone holds %d sessions, not %d" % (total, self.sessions))

    def endpoints(self):
        c = Client(self.port)
        paths = ["metrics", "journal", "journal?limit=500",
                 "journal?after=%d", "cassettes", "cassettes?sessions=0",
                 "locations", "sessions?limit=100", "sessions?session=s17",
                 "interactions?session=s17", "unused?session=s17",
                 "interaction?interaction=0", "ui/", "ui/ui.js"]
        print("\nendpoints with %d sessions in the zone (%d calls each):"
              % (self.sessions, self.samples))
        print("  %-28s %10s %10s %10s" % ("GET /_mock/...", "p50 ms",
                                          "p99 ms", "bytes"))
        for p in paths:
            times, size = [], 0
            for _ in range(self.samples):
                path = p
                if "%d" in p:
                    _, data, _ = c.request("GET", "/_mock/journal?limit=0")
                    path = p % (json.loads(data)["next"] - 1)
                t0 = time.perf_counter()
                status, data, _ = c.request("GET", "/_mock/" + path)
                times.append((time.perf_counter() - t0) * 1000)
                size = len(data)
                if status != 200:
                    die("GET /_mock/%s: status %d" % (path, status))
            print("  %-28s %10.2f %10.2f %10d" % (p.replace("%d", "N"),
                                                  median(times), p99(times),
                                                  size))

    def workers(self):
        with open(self.pidfile) as f:
            master = f.read().strip()
        pids = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[1] == master:
                    pids.append(d)
        return pids

    def cpu(self, pids):
        ticks = 0
        for pid in pids:
            try:
                with open("/proc/%s/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return ticks / os.sysconf("SC_CLK_TCK")

    def wrk(self, path, seconds):
        pids = self.workers()
        cpu0 = self.cpu(pids)
        out = subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % seconds,
                              "-H", "X-Test-Id: bench",
                              "http://127.0.0.1:%d%s" % (self.port, path)],
                             capture_output=True, text=True).stdout
        m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        if not m:
            die("wrk: %s" % out)
        if bad:
            die("wrk got %s bad answers on %s" % (bad.group(1), path))
        n = re.search(r"(\d+) requests in", out)
        self.last_cpu_us = ((self.cpu(pids) - cpu0) * 1e6
                            / max(1, int(n.group(1)) if n else 1))
        return float(m.group(1))

    def case(self, name):
        if name == "return":
            return self.wrk("/ret/", self.seconds), None
        if name == "quiet":
            return self.wrk("/api/items/1", self.seconds), None
        stop = threading.Event()
        views = ["overview", "overview", "journal", "journal", "sessions"]
        ps = [Poller(self.port, views[i % len(views)], stop)
              for i in range(self.pollers)]
        for p in ps:
            p.start()
        rps = self.wrk("/api/items/1", self.seconds)
        stop.set()
        for p in ps:
            p.join()
        return rps, ps

    def run(self):
        self.start()
        try:
            self.fill()
            self.endpoints()
            order = ["return", "quiet", "polled"]
            res = {k: [] for k in order}
            cpu = {k: [] for k in order}
            calls = bad = size = 0
            self.wrk("/api/items/1", 1)
            print("\nreplay with and without %d polling dashboards, %d "
                  "rounds of %d s:" % (self.pollers, self.rounds,
                                       self.seconds))
            for r in range(self.rounds):
                line = []
                for name in order[r % 3:] + order[:r % 3]:
                    rps, ps = self.case(name)
                    res[name].append(rps)
                    cpu[name].append(self.last_cpu_us)
                    line.append("%s %.0f (%.1f us)" % (name, rps,
                                                      self.last_cpu_us))
                    if ps:
                        calls += sum(p.calls for p in ps)
                        bad += sum(p.bad for p in ps)
                        size += sum(p.bytes for p in ps)
                print("  round %d: %s req/s (nginx CPU per response)"
                      % (r + 1, ", ".join(line)))
            q, p, ret = (median(res["quiet"]), median(res["polled"]),
                         median(res["return"]))
            print("\nmedians: return 200 %.0f, replay quiet %.0f, replay "
                  "polled %.0f req/s" % (ret, q, p))
            print("replay / return: %.3f" % (q / ret))
            print("polled / quiet: %.3f (target 0.97): %s"
                  % (p / q, "met" if p / q >= 0.97 else "NOT met"))
            cq, cp = median(cpu["quiet"]), median(cpu["polled"])
            print("nginx CPU per response: quiet %.2f us, polled %.2f us: "
                  "quiet / polled %.3f" % (cq, cp, cq / cp if cp else 0))
            secs = self.rounds * self.seconds
            print("the pollers made %d admin requests (%.1f/s), %d failed, "
                  "%.0f KB/s of answers" % (calls, calls / secs, bad,
                                           size / secs / 1024))
        finally:
            self.stop()


if __name__ == "__main__":
    Bench().run()
