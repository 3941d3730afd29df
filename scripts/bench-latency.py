#!/usr/bin/python3
"""bench-latency.py: what holding thousands of answers on mock_latency costs.

One nginx (BENCH_LATENCY_WORKERS workers, 1 by default, so that a worker
blocked by a delay would show at once) replays a one-interaction
cassette (GET /items/1, a 1 KiB JSON body, mock_repeats on) in two
locations of one server:

  /fast/  no latency
  /slow/  mock_latency 1s (BENCH_LATENCY_DELAY)

wrk measures, one case after the other:

  (a) /fast/ with BENCH_FAST_CONNECTIONS (32) connections: requests/s,
      p99, and the CPU time of the nginx workers per response;
  (b) /fast/ with BENCH_CONNECTIONS (5000) connections, the same;
  (c) /slow/ with BENCH_CONNECTIONS connections, each held by the delay:
      responses/s (about connections / delay), the workers' CPU time per
      response against (a) and (b) (target: at most 1.5 times (b)), and
      the workers' resident memory sampled every half second while the
      connections are held (target: flat, the last sample within 10% of
      the first after the ramp);
  (d) the load of (c) again, and meanwhile (a)'s /fast/ run: its
      requests/s and p99 against (a) without the load.  A worker blocked
      by the delays would stop answering /fast/; on a machine with few
      cores the held connections and wrk share the CPUs, which (d)
      shows as a lower throughput, not as stalls.

CPU times are read from /proc (utime + stime of the master's children),
as are the resident sizes (VmRSS).  The script raises its open files
limit to the hard limit, and gives nginx worker_rlimit_nofile and
worker_connections to match; BENCH_CONNECTIONS above what the hard limit
allows is lowered, with a note.

Environment:
  BENCH_SECONDS             seconds of each measured run (default 10)
  BENCH_CONNECTIONS         connections held by the delay (default 5000)
  BENCH_FAST_CONNECTIONS    connections of the undelayed runs (default 32)
  BENCH_LATENCY_DELAY       the delay of /slow/ (default 1s)
  BENCH_LATENCY_WORKERS     nginx workers (default 1)
  BENCH_LATENCY_PORT        the port on 127.0.0.1 (default 23600)
  MOCK_MODULE               the module (default build/ngx_http_mock_module.so)
  NGINX_BIN                 nginx binary (default /usr/sbin/nginx)

wrk comes from scripts/install-deps.sh wrk.  The targets are reported,
not enforced: the exit status is non-zero only when the benchmark itself
could not run.
"""

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPU_TARGET = 1.5
RSS_TARGET = 1.10
TICK = os.sysconf("SC_CLK_TCK")


def env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        sys.exit("bench-latency: %s is not a number" % name)


SECONDS = env_int("BENCH_SECONDS", 10)
CONNECTIONS = env_int("BENCH_CONNECTIONS", 5000)
FAST_CONNECTIONS = env_int("BENCH_FAST_CONNECTIONS", 32)
WORKERS = env_int("BENCH_LATENCY_WORKERS", 1)
PORT = env_int("BENCH_LATENCY_PORT", 23600)
DELAY = os.environ.get("BENCH_LATENCY_DELAY", "1s")
MODULE = os.environ.get("MOCK_MODULE",
                        os.path.join(TOP, "build", "ngx_http_mock_module.so"))
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")

BODY = '{"id": 1, "items": [' + ", ".join(
    '{"n": %d, "name": "item %04d"}' % (i, i) for i in range(30)) + "]}"
BODY = (BODY + " " * 1024)[:1024]

CASSETTE = """version: 1
interactions:
- request: {method: GET, uri: 'http://svc/items/1', body: null, headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {string: '%s'}
""" % BODY.replace("'", "''")


def delay_seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s)", text)
    if not m:
        sys.exit("bench-latency: BENCH_LATENCY_DELAY is a time such as "
                 "\"1s\" or \"500ms\"")
    return int(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)


def conf(tmp, nofile, connections):
    return """load_module %s;
daemon on;
master_process on;
worker_processes %d;
worker_rlimit_nofile %d;
error_log %s/error.log warn;
pid %s/nginx.pid;

events {
    worker_connections %d;
}

http {
    access_log off;
    keepalive_requests 1000000;

    server {
        listen 127.0.0.1:%d backlog=8192;

        location = /status {
            stub_status;
        }

        location /fast/ {
            mock_replay %s/c.yaml;
            mock_upstream http://svc/;
            mock_repeats on;
        }

        location /slow/ {
            mock_replay %s/c.yaml;
            mock_upstream http://svc/;
            mock_repeats on;
            mock_latency %s;
            send_timeout 30s;
        }
    }
}
""" % (MODULE, WORKERS, nofile, tmp, tmp, connections, PORT, tmp, tmp,
       DELAY)


def children(master):
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == master:
            pids.append(int(d))
    return pids


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def parse_wrk(text):
    res = {"requests": 0, "rps": 0.0, "p99_ms": None, "errors": 0}
    m = re.search(r"(\d+) requests in", text)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", text, re.M)
    if m:
        v = float(m.group(1))
        res["p99_ms"] = v / 1000 if m.group(2) == "us" else \
            v * 1000 if m.group(2) == "s" else v
    for m in re.finditer(r"Socket errors: connect (\d+), read (\d+), "
                         r"write (\d+), timeout (\d+)", text):
        res["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        res["errors"] += int(m.group(1))
    return res


def wrk(path, connections, seconds, threads=1):
    threads = min(threads, connections)
    return subprocess.Popen(
        ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds,
         "--timeout", "10s", "--latency",
         "http://127.0.0.1:%d%s" % (PORT, path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True)


def handled():
    """The requests nginx has handled (stub_status), this one included."""
    status, body = get("/status")
    m = re.search(rb"\n\s*\d+\s+\d+\s+(\d+)", body)
    if status != 200 or not m:
        raise RuntimeError("stub_status answered %d" % status)
    return int(m.group(1))


def measured(workers, proc, sample=False, ramp=2.0, tail=1.0, length=None):
    """Runs proc (wrk for "length" seconds) to its end: wrk's numbers, and
    over a window that leaves out its first "ramp" seconds (the
    connections being made) and its last "tail" ones, the workers' CPU
    ticks and the responses nginx made (stub_status), and with "sample"
    the workers' RSS every half second."""
    start = time.time()
    time.sleep(ramp)
    t0, n0, w0 = cpu_ticks(workers), handled(), time.time()
    samples = []
    while time.time() < start + length - tail:
        if sample:
            samples.append(rss_kb(workers))
        time.sleep(0.5)
    t1, n1, w1 = cpu_ticks(workers), handled(), time.time()
    out = proc.communicate()[0]
    res = parse_wrk(out)
    res["ticks"] = t1 - t0
    res["responses"] = n1 - n0 - 1
    res["window_rps"] = res["responses"] / (w1 - w0)
    res["rss"] = samples
    res["out"] = out
    if res["requests"] == 0 or res["responses"] <= 0:
        raise RuntimeError("wrk answered nothing:\n" + out)
    res["us_per_response"] = res["ticks"] * 1e6 / TICK / res["responses"]
    return res


def run(workers, path, connections, seconds, threads=1, sample=False):
    return measured(workers, wrk(path, connections, seconds, threads),
                    sample=sample, length=seconds)


def get(path):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def main():
    if shutil.which("wrk") is None:
        sys.exit("bench-latency: wrk is missing: scripts/install-deps.sh wrk")
    if not os.path.exists(MODULE):
        sys.exit("bench-latency: no module at %s: run make" % MODULE)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = hard if hard != resource.RLIM_INFINITY else 1 << 20
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))

    connections = CONNECTIONS
    room = limit - 2 * FAST_CONNECTIONS - 256
    if connections > room:
        print("note: %d connections lowered to %d, what the open files "
              "limit (%d) allows" % (connections, room, limit))
        connections = room

    nofile = min(limit, 2 * connections + 4 * FAST_CONNECTIONS + 1024)
    delay = delay_seconds(DELAY)

    tmp = tempfile.mkdtemp(prefix="bench-latency-")
    master = None
    try:
        with open(os.path.join(tmp, "c.yaml"), "w") as f:
            f.write(CASSETTE)
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(conf(tmp, nofile, connections + 4 * FAST_CONNECTIONS
                         + 256))

        subprocess.run([NGINX, "-p", tmp + "/", "-c",
                        os.path.join(tmp, "nginx.conf")], check=True)

        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with open(os.path.join(tmp, "nginx.pid")) as f:
                    master = int(f.read())
                if len(children(master)) >= WORKERS:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        workers = children(master)

        for path in ("/fast/items/1", "/slow/items/1"):
            status, body = get(path)
            if status != 200 or body.decode() != BODY:
                raise RuntimeError("%s answered %d" % (path, status))

        print("nginx: %d worker(s), %d connections held by mock_latency %s, "
              "%d s runs" % (WORKERS, connections, DELAY, SECONDS))

        run(workers, "/fast/items/1", FAST_CONNECTIONS, 3)

        length = SECONDS + 3

        a = run(workers, "/fast/items/1", FAST_CONNECTIONS, length)
        print("(a) /fast/, %5d connections: %9.0f req/s, p99 %7.2f ms, "
              "%6.1f us CPU per response"
              % (FAST_CONNECTIONS, a["window_rps"], a["p99_ms"] or -1,
                 a["us_per_response"]))

        b = run(workers, "/fast/items/1", connections, length, 2)
        print("(b) /fast/, %5d connections: %9.0f req/s, p99 %7.2f ms, "
              "%6.1f us CPU per response%s"
              % (connections, b["window_rps"], b["p99_ms"] or -1,
                 b["us_per_response"],
                 ", %d errors" % b["errors"] if b["errors"] else ""))

        c = run(workers, "/slow/items/1", connections, length, sample=True)
        expected = connections / delay
        rss = c["rss"]
        print("(c) /slow/, %5d connections: %9.0f resp/s (%.0f expected), "
              "p99 %7.1f ms, %6.1f us CPU per response%s"
              % (connections, c["window_rps"], expected, c["p99_ms"] or -1,
                 c["us_per_response"],
                 ", %d errors" % c["errors"] if c["errors"] else ""))
        print("    CPU per response: %.2f x (a), %.2f x (b) (target: at "
              "most %.1f x (b)): %s"
              % (c["us_per_response"] / a["us_per_response"],
                 c["us_per_response"] / b["us_per_response"], CPU_TARGET,
                 "ok" if c["us_per_response"]
                 <= CPU_TARGET * b["us_per_response"] else "MISSED"))
        print("    workers' RSS while held: %d kB first, %d kB last, "
              "%d..%d kB (target: last within %d%% of first): %s"
              % (rss[0], rss[-1], min(rss), max(rss),
                 (RSS_TARGET - 1) * 100,
                 "ok" if rss[-1] <= rss[0] * RSS_TARGET else "MISSED"))

        load = wrk("/slow/items/1", connections, length + 4)
        time.sleep(2)
        d = run(workers, "/fast/items/1", FAST_CONNECTIONS, length)
        held = parse_wrk(load.communicate()[0])
        print("(d) /fast/, %5d connections, with (c)'s load: %9.0f req/s "
              "(%.2f of (a)'s %.0f, by wrk), p99 %7.2f ms (%.2f ms in (a))%s"
              % (FAST_CONNECTIONS, d["rps"], d["rps"] / a["rps"], a["rps"],
                 d["p99_ms"] or -1, a["p99_ms"] or -1,
                 ", %d errors" % d["errors"] if d["errors"] else ""))
        print("    the load meanwhile: %.0f resp/s on /slow/%s"
              % (held["rps"],
                 ", %d errors" % held["errors"] if held["errors"] else ""))
        print("    no worker blocked: %s (/fast/ answered all along, "
              "p99 below the delay)"
              % ("ok" if d["requests"] and (d["p99_ms"] or 0) < delay * 1000
                 else "MISSED"))

        with open(os.path.join(tmp, "error.log")) as f:
            bad = [l for l in f if re.search(r"\[(alert|crit|emerg)\]", l)]
        if bad:
            print("error log:\n" + "".join(bad[:5]))

    finally:
        if master:
            try:
                os.kill(master, signal.SIGQUIT)
            except OSError:
                pass
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    os.kill(master, 0)
                except OSError:
                    break
                time.sleep(0.05)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, subprocess.CalledProcessError) as e:
        sys.exit("bench-latency: %s" % e)
