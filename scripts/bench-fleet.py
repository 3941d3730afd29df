#!/usr/bin/python3
"""bench-fleet.py: what acting as one fleet through Redis costs.

Three nginx instances run from server roots of their own under a
temporary folder, each with its own copy of one cassette of
BENCH_SESSION_PLAYS (64) identical interactions of GET /seq/items/1
(1 KiB JSON body each), named by the same relative path:

  L   replays it with mock_session and no mock_redis: the sequences are
      counted in its shared zone
  A   the same configuration with mock_redis: a member of the fleet
  B   another member, which receives what A records

A and B count in a private redis-server on its own port.

(a) Throughput.  wrk sends GET /seq/items/1 with an X-Test-Id header
    (sessions.lua of bench.py: every PLAYS requests of a thread make a
    new test session, so no sequence runs out and every answer is a
    hit) to L and to A, in interleaved rounds of BENCH_SECONDS, after a
    warm-up.  On A each request looks up its session's forced answers
    and counts in Redis; a forced answer of another session is set so
    that there is one to look up.  Before every run the counters are
    reset (POST /_mock/reset) and Redis keeps only the fleet's
    recordings and forced answer.  The report gives the median
    requests/s and p99 of each, and the ratio A / L (target 0.7).

(b) Visibility of recordings.  While wrk loads A as above, the script
    records BENCH_RECORD_N (100) unique requests on A (mock_mode
    new_episodes, proxy_pass to an upstream server in the same nginx),
    one at a time, and after each one polls B's admin API (GET
    /_mock/interactions) until B's zone has it.  The delay from A's
    answer to B having it is reported as p50 and p99 in ms (target p99
    100 ms); an interaction B has not got after BENCH_RECORD_WAIT
    seconds (3) counts as lost.  At the end each recording is asked for
    on B in a new session, and the report says how many B replayed
    instead of asking the upstream.

Environment:
  BENCH_SECONDS          seconds of each measured run (default 5)
  BENCH_ROUNDS           interleaved rounds (default 3)
  BENCH_WARMUP           seconds of warm-up per case (default 1)
  BENCH_SESSION_PLAYS    interactions in the cassette, requests per
                         session (default 64)
  BENCH_RECORD_N         recordings measured in (b) (default 100)
  BENCH_RECORD_WAIT      seconds before a recording counts as lost
                         (default 3)
  BENCH_FLEET_PORT       first of seven ports on 127.0.0.1: L, A, B, the
                         upstream servers of A, B and L, Redis (default
                         23500)
  BENCH_ONLY             throughput, visibility, or both (default both)
  MOCK_MODULE            the module (default build/ngx_http_mock_module.so)
  NGINX_BIN              nginx binary (default /usr/sbin/nginx)

The targets are reported, not enforced: the exit status is non-zero
only when the benchmark itself could not run.
"""

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (its helpers: wrk output, HTTP, Redis)

from bench import Fatal, die, median, http_get, parse_wrk, read_text, tail  # noqa: E402

TOP = bench.TOP
THREADS = bench.THREADS
CONNECTIONS = bench.CONNECTIONS
THROUGHPUT_TARGET = 0.7
VISIBILITY_TARGET_MS = 100.0
SECTIONS = ("throughput", "visibility")

BODY = json.dumps({"id": 1, "name": "item", "pad": "x" * 980})[:1024]


# --- settings ----------------------------------------------------------------

def number(name, default, kind=int):
    v = os.environ.get(name) or str(default)
    try:
        n = kind(v)
    except ValueError:
        n = 0
    if n <= 0:
        die("%s must be a positive number, not %r" % (name, v))
    return n


def settings():
    only = os.environ.get("BENCH_ONLY") or ",".join(SECTIONS)
    only = [s for s in re.split(r"[,\s]+", only) if s]
    for s in only:
        if s not in SECTIONS:
            die('BENCH_ONLY: unknown section "%s" (%s)'
                % (s, ", ".join(SECTIONS)))
    base = number("BENCH_FLEET_PORT", 23500)
    if base + 6 >= 65536:
        die("BENCH_FLEET_PORT: too high")
    module = os.path.abspath(os.environ.get("MOCK_MODULE") or os.path.join(
        TOP, "build/ngx_http_mock_module.so"))
    if not os.path.isfile(module):
        die("no module at %s (run make)" % module)
    nginx = os.environ.get("NGINX_BIN") or "/usr/sbin/nginx"
    for tool in (nginx, "wrk", "redis-server"):
        if not shutil.which(tool):
            die("%s not found" % tool)
    return {
        "only": only,
        "seconds": number("BENCH_SECONDS", 5),
        "rounds": number("BENCH_ROUNDS", 3),
        "warmup": number("BENCH_WARMUP", 1),
        "plays": number("BENCH_SESSION_PLAYS", 64),
        "record_n": number("BENCH_RECORD_N", 100),
        "record_wait": number("BENCH_RECORD_WAIT", 3, float),
        "ports": {"L": base, "A": base + 1, "B": base + 2,
                  "upA": base + 3, "upB": base + 4, "upL": base + 5,
                  "redis": base + 6},
        "module": module,
        "nginx": nginx,
    }


# --- files -------------------------------------------------------------------

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def yaml_quote(s):
    return "'" + s.replace("'", "''") + "'"


def seq_cassette(plays):
    item = ("- request: {method: GET, uri: 'http://svc/items/1', body: null, "
            "headers: {}}\n"
            "  response: {status: {code: 200, message: OK}, headers: "
            "{Content-Type: [application/json]}, body: {string: %s}}\n"
            % yaml_quote(BODY))
    return "version: 1\ninteractions:\n" + item * plays


def rec_cassette(up_port):
    return ("version: 1\ninteractions:\n"
            "- request: {method: GET, uri: 'http://127.0.0.1:%d/seed', "
            "body: null, headers: {}}\n"
            "  response: {status: {code: 200, message: OK}, headers: {}, "
            "body: {string: 'seed'}}\n" % up_port)


def conf(cfg, name, redis):
    """The configuration of instance name: the same for A and B but for
    the ports; L has no mock_redis."""
    ports = cfg["ports"]
    port = ports[name]
    up = ports["up" + name]
    user = "user root;\n" if os.geteuid() == 0 else ""
    redis_line = ("mock_redis 127.0.0.1:%d prefix=bench: timeout=500ms "
                  "ttl=1h;" % ports["redis"] if redis else "")
    return """load_module %(module)s;
%(user)sworker_processes 2;
pid logs/nginx.pid;
error_log logs/error.log notice;

events {
    worker_connections 1024;
}

http {
    access_log off;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    %(redis)s

    server {
        listen 127.0.0.1:%(up)d;
        location / {
            return 200 "up $uri $request_id\\n";
        }
    }

    server {
        listen 127.0.0.1:%(port)d;

        location /seq/ {
            mock_replay cassettes/seq.yaml;
            mock_upstream http://svc/;
            mock_session $http_x_test_id;
        }

        location /rec/ {
            proxy_pass http://127.0.0.1:%(up)d/;
            mock_upstream http://127.0.0.1:%(up)d/;
            mock_replay cassettes/rec.yaml;
            mock_mode new_episodes;
            mock_session $http_x_test_id;
        }

        location /_mock {
            mock_admin;
        }
    }
}
""" % {"module": cfg["module"], "user": user, "redis": redis_line,
       "up": up, "port": port}


# --- processes ---------------------------------------------------------------

class Fleet:

    def __init__(self, cfg):
        self.cfg = cfg
        self.tmp = tempfile.mkdtemp(prefix="mock-bench-fleet.",
                                    dir=os.environ.get("TMPDIR") or "/tmp")
        self.roots = {}
        self.redis_proc = None
        self.wrk_proc = None
        self.redis = bench.Redis(cfg["ports"]["redis"])

    def root(self, name):
        return os.path.join(self.tmp, name)

    def start(self):
        self.start_redis()
        for name in ("L", "A", "B"):
            root = self.root(name)
            for d in ("logs", "temp", "conf"):
                os.makedirs(os.path.join(root, d), exist_ok=True)
            write(os.path.join(root, "cassettes/seq.yaml"),
                  seq_cassette(self.cfg["plays"]))
            up = self.cfg["ports"]["up" + name]
            write(os.path.join(root, "cassettes/rec.yaml"), rec_cassette(up))
            write(os.path.join(root, "conf/nginx.conf"),
                  conf(self.cfg, name, name != "L"))
            if subprocess.run([self.cfg["nginx"], "-p", root + "/",
                               "-c", "conf/nginx.conf"]).returncode:
                tail(os.path.join(root, "logs/error.log"))
                die("nginx %s did not start" % name)
            self.roots[name] = root
            port = self.cfg["ports"][name]
            for _ in range(100):
                if http_get(port, "/_mock/cassettes")[0] == 200:
                    break
                time.sleep(0.1)
            else:
                die("nginx %s does not answer on port %d" % (name, port))

    def start_redis(self):
        port = self.cfg["ports"]["redis"]
        self.redis_proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port),
             "--save", "", "--appendonly", "no", "--dir", self.tmp,
             "--logfile", os.path.join(self.tmp, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        mine = "process_id:%d" % self.redis_proc.pid
        for _ in range(100):
            if self.redis_proc.poll() is not None:
                break
            try:
                if mine in self.redis("INFO", "server").splitlines():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        tail(os.path.join(self.tmp, "redis.log"))
        die("redis-server did not start on 127.0.0.1:%d" % port)

    def stop(self):
        self.stop_wrk()
        for name, root in self.roots.items():
            try:
                with open(os.path.join(root, "logs/nginx.pid")) as f:
                    bench.Bench.stop_pid(int(f.read().strip()))
            except (OSError, ValueError):
                pass
        if self.redis_proc is not None:
            bench.Bench.stop_pid(self.redis_proc.pid, self.redis_proc)
            self.redis_proc = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def stop_wrk(self):
        if self.wrk_proc is not None:
            bench.Bench.stop_pid(self.wrk_proc.pid, self.wrk_proc)
            self.wrk_proc = None

    # --- wrk -----------------------------------------------------------------

    def wrk_args(self, name, seconds, run):
        lua = os.path.join(self.tmp, "sessions.lua")
        if not os.path.exists(lua):
            write(lua, bench.SESSIONS_LUA)
        return ["wrk", "-t%d" % THREADS, "-c%d" % CONNECTIONS,
                "-d%ds" % seconds, "--latency", "-s", lua,
                "http://127.0.0.1:%d/" % self.cfg["ports"][name], "--",
                "/seq/items/1", str(self.cfg["plays"]), run]

    # --- CPU -----------------------------------------------------------------

    def cpu_ticks(self, name):
        """Clock ticks of CPU used so far by the worker processes of
        instance name and, for a member of the fleet, by Redis."""
        pids = []
        try:
            with open(os.path.join(self.roots[name], "logs/nginx.pid")) as f:
                pids = bench.Bench.children(int(f.read().strip()))
        except (OSError, ValueError):
            pass
        if name != "L" and self.redis_proc is not None:
            pids.append(self.redis_proc.pid)
        ticks = 0
        for pid in pids:
            try:
                f = bench.Bench.stat_fields(pid)
                ticks += int(f[11]) + int(f[12])        # utime, stime
            except (OSError, IndexError, ValueError):
                pass
        return ticks

    def wrk(self, name, seconds, run):
        out = os.path.join(self.tmp, "wrk-%s.out" % name)
        with open(out, "w") as f:
            rc = subprocess.run(self.wrk_args(name, seconds, run),
                                stdin=subprocess.DEVNULL, stdout=f,
                                stderr=subprocess.STDOUT).returncode
        text = read_text(out)
        res = parse_wrk(text)
        if rc or res is None:
            sys.stderr.write(text)
            die("wrk failed on %s" % name)
        return res

    def wrk_background(self, name, seconds, run):
        out = open(os.path.join(self.tmp, "wrk-load.out"), "w")
        self.wrk_proc = subprocess.Popen(self.wrk_args(name, seconds, run),
                                         stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT)
        out.close()

    # --- admin ---------------------------------------------------------------

    def admin(self, name, method, path, body=None):
        # the admin takes changes only with a JSON content type
        status, data, _ = http_get(self.cfg["ports"][name], path,
                                   method=method, body=body,
                                   headers=[("Content-Type",
                                             "application/json")])
        try:
            return status, json.loads(data or b"null")
        except ValueError:
            return status, None

    def store(self, name, suffix):
        _, data = self.admin(name, "GET", "/_mock/cassettes")
        for s in (data or {}).get("stores", []):
            if s.get("path", "").endswith(suffix):
                return s["store"]
        die("nginx %s has no store %s" % (name, suffix))

    def reset(self):
        for name in ("L", "A", "B"):
            self.admin(name, "POST", "/_mock/reset")
        # Only the counters go: the recordings and forced answers stay.
        keys = self.redis("KEYS", "bench:*") or []
        for key in keys:
            if self.redis("TYPE", key) == "string":
                self.redis("DEL", key)

    def force_other_session(self):
        body = json.dumps({"session": "bench-forced", "method": "GET",
                           "path": "/items/1", "interaction": 0,
                           "store": self.store("A", "/seq.yaml")})
        status, data = self.admin("A", "POST", "/_mock/force", body)
        if status != 200:
            print("  (the forced answer was refused: %s %s)" % (status, data))
        elif not (data or {}).get("redis"):
            print("  (the forced answer is not in Redis: \"redis\": %s)"
                  % json.dumps((data or {}).get("redis")))


# --- (a) throughput ----------------------------------------------------------

def throughput(fleet, cfg):
    print("(a) replay with sessions: fleet member A (mock_redis) vs local L")
    fleet.force_other_session()
    for name in ("L", "A"):
        fleet.reset()
        fleet.wrk(name, cfg["warmup"], "warm")
    runs = {"L": [], "A": []}
    p99 = {"L": [], "A": []}
    cpu = {"L": [], "A": []}
    bad = {"L": 0, "A": 0}
    hz = os.sysconf("SC_CLK_TCK")
    for r in range(cfg["rounds"]):
        order = ("L", "A") if r % 2 == 0 else ("A", "L")
        for name in order:
            fleet.reset()
            before = fleet.cpu_ticks(name)
            res = fleet.wrk(name, cfg["seconds"], "r%d" % r)
            used = fleet.cpu_ticks(name) - before
            us = used / hz * 1e6 / max(res.rps * cfg["seconds"], 1)
            runs[name].append(res.rps)
            p99[name].append(res.p99)
            cpu[name].append(us)
            bad[name] += res.bad + res.errors
            print("  round %d %s: %9.0f req/s  p99 %7.2f ms  %5.1f us CPU "
                  "a response%s"
                  % (r + 1, name, res.rps, res.p99, us,
                     "  (%d bad)" % (res.bad + res.errors)
                     if res.bad or res.errors else ""))
    ml, ma = median(runs["L"]), median(runs["A"])
    ratio = bench.div(ma, ml)
    print("  local L: %9.0f req/s  p99 %7.2f ms  %5.1f us CPU a response "
          "(its workers)" % (ml, median(p99["L"]), min(cpu["L"])))
    print("  fleet A: %9.0f req/s  p99 %7.2f ms  %5.1f us CPU a response "
          "(its workers and Redis)" % (ma, median(p99["A"]), min(cpu["A"])))
    print("  ratio fleet / local: %.3f (target %.2f: %s); CPU a response, "
          "local / fleet, in the least loaded rounds: %.2f"
          % (ratio, THROUGHPUT_TARGET,
             bench.verdict(ratio >= THROUGHPUT_TARGET),
             bench.div(min(cpu["L"]), min(cpu["A"]))))
    if bad["L"] or bad["A"]:
        print("  non-2xx answers or socket errors: L %d, A %d (a counter "
              "went wrong)" % (bad["L"], bad["A"]))
    return ratio


# --- (b) visibility ----------------------------------------------------------

def zone_uris(fleet, name, store):
    _, data = fleet.admin(name, "GET", "/_mock/interactions?store=%d" % store)
    return {i.get("uri") for i in (data or {}).get("interactions", [])}


def percentile(values, p):
    """The nearest-rank percentile p of values."""
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, math.ceil(p / 100 * len(values)) - 1)
    return values[min(k, len(values) - 1)]


def visibility(fleet, cfg):
    n = cfg["record_n"]
    print("(b) recordings on A seen by B, %d of them, while wrk loads A" % n)
    store_b = fleet.store("B", "/rec.yaml")
    up = "http://127.0.0.1:%d" % cfg["ports"]["upA"]
    run = "v%d" % int(time.time())
    fleet.reset()
    fleet.wrk_background("A", int(n * cfg["record_wait"]) + 60, "load")
    time.sleep(0.5)
    delays, lost, failed = [], 0, 0
    port_a = cfg["ports"]["A"]
    try:
        for i in range(n):
            path = "/u-%s-%d" % (run, i)
            status, _, resp = http_get(port_a, "/rec" + path,
                                       headers=(("X-Test-Id", "rec"),))
            done = time.monotonic()
            if status != 200:
                failed += 1
                continue
            deadline = done + cfg["record_wait"]
            while True:
                if up + path in zone_uris(fleet, "B", store_b):
                    delays.append((time.monotonic() - done) * 1000)
                    break
                if time.monotonic() > deadline:
                    lost += 1
                    break
                time.sleep(0.002)
    finally:
        fleet.stop_wrk()

    replayed = 0
    port_b = cfg["ports"]["B"]
    for i in range(n):
        status, _, resp = http_get(port_b, "/rec/u-%s-%d" % (run, i),
                                   headers=(("X-Test-Id", "check-%d" % i),))
        if resp is not None and "hit" in (resp.getheader("X-Mock") or ""):
            replayed += 1
    if delays:
        p50, p99 = percentile(delays, 50), percentile(delays, 99)
        print("  delay until B has it: p50 %.1f ms, p99 %.1f ms, max %.1f ms "
              "(target p99 %.0f ms: %s)"
              % (p50, p99, max(delays), VISIBILITY_TARGET_MS,
                 bench.verdict(p99 <= VISIBILITY_TARGET_MS and not lost)))
    else:
        print("  B got none of them")
    print("  seen by B: %d of %d; lost (not there after %.1f s): %d; "
          "not recorded by A: %d" % (len(delays), n, cfg["record_wait"],
                                     lost, failed))
    print("  replayed by B afterwards: %d of %d" % (replayed, n))


# --- main --------------------------------------------------------------------

def main():
    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    fleet = None
    try:
        cfg = settings()
        fleet = Fleet(cfg)
        fleet.start()
        print("fleet: L (local), A and B (mock_redis on 127.0.0.1:%d), "
              "%d interactions a session, %d x %d s rounds"
              % (cfg["ports"]["redis"], cfg["plays"], cfg["rounds"],
                 cfg["seconds"]))
        if "throughput" in cfg["only"]:
            throughput(fleet, cfg)
        if "visibility" in cfg["only"]:
            visibility(fleet, cfg)
        return 0
    except Fatal as e:
        sys.stdout.flush()
        print("bench-fleet.py: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if fleet is not None:
            fleet.stop()


if __name__ == "__main__":
    sys.exit(main())
