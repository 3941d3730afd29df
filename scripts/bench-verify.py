#!/usr/bin/python3
"""bench-verify.py: what drift detection (mock_mode verify) costs.

One nginx (2 workers, keep-alive, no access log) on 127.0.0.1 holds a
gateway server and, on another loopback port, the upstream: every
/items/N is answered with "return 200" and the same 1 KiB JSON body (an
object with nested objects and an array of objects, so that comparing
by shape walks a real tree).  The cassette has the same request with a
body of the same shape and other values, so every verified answer is
compared member by member and found without drift.  The gateway proxies
over upstream keep-alive connections.  Six cases, each measured with wrk
over keep-alive connections (2 threads, 32 connections):

  proxy_pass       plain proxy_pass, the ceiling; it adds the header that
                   verify adds (X-Mock: verify), so both send the same
                   bytes
  verify           the same with "mock_mode verify": each answer is
                   captured and compared with the recording
  replay           the recording replayed (mock_repeats on), no upstream
  replay + 5%      the same with "mock_verify_sample 5%": one request in
                   twenty goes to the upstream and is verified
  off              proxy_pass through a location with "mock_mode off",
                   where the module does nothing
  off + 5%         the same with "mock_verify_sample 5%"

Every case is warmed up, then the cases are run in interleaved rounds,
each round in another order, and the median of the rounds is reported,
with the CPU time the nginx workers took per response (from /proc: the
gateway's and the upstream's work, as both run in the same workers).
Where other processes share the machine, req/s tell little and the
inverse ratio of the CPU times per response is what the req/s ratio is
when nginx and wrk have the CPUs to themselves.  Where perf can count
instructions (a machine with hardware counters), those the workers
retired per response are reported too: a count that other processes
do not move.  The ratios:

  verify / proxy_pass      target 0.8
  replay 5% / replay       target 0.97
  off 5% / off             target 0.97

A sampled request costs what a verified one does: a round trip to the
upstream and a comparison.  On a replaying location the sampled 5% cost
about k times a replayed request (k, the ratio of the CPU times of
verify and replay, is 3 or more here, where the upstream runs in the
same workers), so the location runs at about 1 / (0.95 + 0.05 k) of its
speed without sampling: below 0.97 whenever k is above 1.6.  On a
proxying location the sampled requests cost little more than the
others.  The report gives both.  After
the runs the metrics of the admin API are checked: the verified
locations must have verified, and found no drift.

Environment:
  BENCH_SECONDS     seconds of each measured run (default 10)
  BENCH_ROUNDS      interleaved rounds (default 3)
  BENCH_WARMUP      seconds of warm-up per case (default 1)
  BENCH_PORT        port of the gateway on 127.0.0.1 (default: a free
                    one); the upstream listens on the next one
  MOCK_MODULE       the module (default build/ngx_http_mock_module.so)
  NGINX_BIN         nginx binary (default /usr/sbin/nginx)

The targets are reported, not enforced: the exit status is non-zero
only when the benchmark itself could not run.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (its helpers: wrk output, HTTP)

from bench import Fatal, die, median, http_get, parse_wrk, tail  # noqa: E402

TOP = bench.TOP
THREADS = bench.THREADS
CONNECTIONS = bench.CONNECTIONS


def body(seed):
    """A 1 KiB JSON body; every seed gives the same shape."""
    doc = {
        "id": seed,
        "name": "item-%d" % seed,
        "active": seed % 2 == 0,
        "price": {"amount": seed * 100 + 99, "currency": "EUR"},
        "tags": ["t%d" % (seed + i) for i in range(4)],
        "lines": [{"sku": "SKU-%08d" % (seed + i), "qty": i + 1,
                   "note": None} for i in range(6)],
        "pad": "",
    }
    text = json.dumps(doc, separators=(", ", ": "))
    doc["pad"] = "x" * (1024 - len(text))
    text = json.dumps(doc, separators=(", ", ": "))
    assert len(text) == 1024, len(text)
    return text


LIVE = body(1)
RECORDED = body(7)

CASES = [
    # name, label, location, baseline, target
    ("proxy", "proxy_pass (ceiling)", """
        location /proxy/ {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            add_header X-Mock verify;
        }""", None, None),
    ("verify", "proxy_pass + mock_mode verify", """
        location /verify/ {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            mock_replay {tmp}/c.yaml;
            mock_upstream http://svc/;
            mock_mode verify;
        }""", "proxy", 0.8),
    ("replay", "replay", """
        location /replay/ {
            proxy_pass http://backend;
            mock_replay {tmp}/c.yaml;
            mock_upstream http://svc/;
            mock_repeats on;
        }""", None, None),
    ("replay5", "replay + mock_verify_sample 5%", """
        location /replay5/ {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            mock_replay {tmp}/c.yaml;
            mock_upstream http://svc/;
            mock_repeats on;
            mock_verify_sample 5%;
        }""", "replay", 0.97),
    ("off", "mock_mode off (proxy_pass)", """
        location /off/ {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            mock_replay {tmp}/c.yaml;
            mock_upstream http://svc/;
            mock_mode off;
        }""", None, None),
    ("off5", "mock_mode off + mock_verify_sample 5%", """
        location /off5/ {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            mock_replay {tmp}/c.yaml;
            mock_upstream http://svc/;
            mock_mode off;
            mock_verify_sample 5%;
        }""", "off", 0.97),
]


def number(name, default):
    v = os.environ.get(name) or str(default)
    try:
        n = int(v)
    except ValueError:
        n = 0
    if n <= 0:
        die("%s must be a positive number, not %r" % (name, v))
    return n


def free_port():
    """A port that is free on 127.0.0.1, with the next one free too."""
    for _ in range(100):
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    die("no two free ports in a row")


def yaml_quote(s):
    return "'" + s.replace("'", "''") + "'"


def conf(tmp, module, port):
    locations = "".join(c[2].replace("{tmp}", tmp) for c in CASES)
    return """load_module %(module)s;
worker_processes 2;
error_log %(tmp)s/error.log warn;
pid %(tmp)s/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(tmp)s/tmp;
    proxy_temp_path %(tmp)s/tmp;
    upstream backend {
        server 127.0.0.1:%(up)d;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:%(port)d backlog=1024;
        keepalive_requests 1000000;
%(locations)s
        location /_mock { mock_admin; }
    }
    server {
        listen 127.0.0.1:%(up)d backlog=1024;
        keepalive_requests 1000000;
        default_type application/json;
        location / { return 200 %(body)s; }
    }
}
""" % {"module": module, "tmp": tmp, "port": port, "up": port + 1,
       "locations": locations, "body": "'" + LIVE + "'"}


def cassette():
    return ("version: 1\ninteractions:\n"
            "- request: {method: GET, uri: 'http://svc/items/1', "
            "body: null, headers: {}}\n"
            "  response:\n"
            "    status: {code: 200, message: OK}\n"
            "    headers: {Content-Type: [application/json]}\n"
            "    body: {string: %s}\n" % yaml_quote(RECORDED))


def worker_pids(master):
    pids = []
    for stat in os.listdir("/proc"):
        if not stat.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat))
    return pids


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def perf_start(pids, path):
    """perf stat counting the workers' instructions, or None without perf."""
    if not shutil.which("perf"):
        return None
    try:
        return subprocess.Popen(
            ["perf", "stat", "-e", "instructions", "-x", ",", "-o", path,
             "-p", ",".join(str(p) for p in pids)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def perf_stop(proc, path):
    """The instructions counted, or None."""
    if proc is None:
        return None
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return None
    try:
        with open(path) as f:
            for line in f:
                fields = line.strip().split(",")
                if len(fields) > 2 and fields[2].startswith("instructions"):
                    return int(fields[0]) if fields[0].isdigit() else None
    except OSError:
        pass
    return None


def wrk(port, name, seconds):
    out = subprocess.run(
        ["wrk", "-t%d" % THREADS, "-c%d" % CONNECTIONS, "-d%ds" % seconds,
         "--latency", "http://127.0.0.1:%d/%s/items/1" % (port, name)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=seconds + 60)
    res = parse_wrk(out.stdout)
    if res is None:
        die("wrk gave no result for %s:\n%s" % (name, out.stdout))
    if res.bad or res.errors:
        die("%s: %d bad answers, %d socket errors"
            % (name, res.bad, res.errors))
    return res


def run(cfg, tmp):
    port = cfg["port"]
    with open(os.path.join(tmp, "c.yaml"), "w") as f:
        f.write(cassette())
    os.makedirs(os.path.join(tmp, "tmp"), exist_ok=True)
    with open(os.path.join(tmp, "nginx.conf"), "w") as f:
        f.write(conf(tmp, cfg["module"], port))

    nginx = [cfg["nginx"], "-p", tmp + "/", "-c", tmp + "/nginx.conf"]
    out = subprocess.run(nginx, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        die("nginx did not start:\n" + out.stdout)

    try:
        for name, label, _, _, _ in CASES:
            status, data, _ = http_get(port, "/%s/items/1" % name)
            if status != 200 or len(data) != 1024:
                die("%s answered %d with %d bytes" % (name, status,
                                                      len(data)))

        for name, *_ in CASES:
            wrk(port, name, cfg["warmup"])

        with open(os.path.join(tmp, "nginx.pid")) as f:
            workers = worker_pids(int(f.read().split()[0]))
        hz = os.sysconf("SC_CLK_TCK")

        rps = {c[0]: [] for c in CASES}
        cpu = {c[0]: [] for c in CASES}
        ins = {c[0]: [] for c in CASES}
        for r in range(cfg["rounds"]):
            order = CASES[r % len(CASES):] + CASES[:r % len(CASES)]
            if r % 2:
                order.reverse()
            for name, *_ in order:
                before = cpu_ticks(workers)
                stat = os.path.join(tmp, "perf-%s.txt" % name)
                counting = perf_start(workers, stat)
                res = wrk(port, name, cfg["seconds"])
                count = perf_stop(counting, stat)
                ticks = cpu_ticks(workers) - before
                rps[name].append(res.rps)
                cpu[name].append(ticks / hz * 1e6 / max(res.responses, 1))
                if count:
                    ins[name].append(count / max(res.responses, 1))

        status, data, _ = http_get(port, "/_mock/metrics")
        metrics = json.loads(data or b"{}")

    finally:
        subprocess.run(nginx + ["-s", "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    report(cfg, rps, cpu, ins, metrics, tmp)


def report(cfg, rps, cpu, ins, metrics, tmp):
    print("bench-verify: %d rounds of %d s, wrk -t%d -c%d, 1 KiB JSON"
          % (cfg["rounds"], cfg["seconds"], THREADS, CONNECTIONS))
    print()
    print("%-40s %10s %8s %12s %8s" % ("case", "req/s", "vs", "CPU us/resp",
                                          "vs"))
    med = {name: median(v) for name, v in rps.items()}
    mcpu = {name: median(v) for name, v in cpu.items()}
    for name, label, _, base, target in CASES:
        vs = cvs = ""
        if base:
            vs = "%.3f" % (med[name] / med[base])
            cvs = "%.3f" % (mcpu[base] / mcpu[name])
        print("%-40s %10.0f %8s %12.1f %8s" % (label, med[name], vs,
                                              mcpu[name], cvs))
    if all(ins.values()):
        print()
        print("instructions per response (perf stat, the workers):")
        for name, label, _, base, target in CASES:
            print("  %-38s %10.0f" % (label, median(ins[name])))

    print()

    for name, label, _, base, target in CASES:
        if not base:
            continue
        ratio = med[name] / med[base]
        cratio = mcpu[base] / mcpu[name]
        rounds = sorted(a / b for a, b in zip(rps[name], rps[base]))
        line = ("%-16s target %.2f: req/s %.3f (rounds %.3f to %.3f) %s, "
                "CPU %.3f %s"
                % ("%s/%s" % (name, base), target, ratio, rounds[0],
                   rounds[-1], "ok" if ratio >= target else "MISSED",
                   cratio, "ok" if cratio >= target else "MISSED"))
        if ins[name] and ins[base]:
            iratio = median(ins[base]) / median(ins[name])
            line += ", instructions %.3f %s" % (
                iratio, "ok" if iratio >= target else "MISSED")
        print(line)

    print()
    slots = {s.get("location"): s for s in metrics.get("locations", [])}
    for name in ("verify", "replay5", "off5"):
        s = slots.get("/%s/" % name, {})
        print("/%s/: verified %s, drift %s, unrecorded %s, hit %s"
              % (name, s.get("verified"), s.get("drift"),
                 s.get("unrecorded"), s.get("hit")))
        if not s.get("verified") or s.get("drift") or s.get("unrecorded"):
            tail(os.path.join(tmp, "error.log"))
            die("/%s/ did not verify as it should" % name)


def main():
    module = os.path.abspath(os.environ.get("MOCK_MODULE") or os.path.join(
        TOP, "build/ngx_http_mock_module.so"))
    nginx = os.environ.get("NGINX_BIN") or "/usr/sbin/nginx"
    try:
        if not os.path.isfile(module):
            die("no module at %s (run make)" % module)
        for tool in (nginx, "wrk"):
            if not shutil.which(tool):
                die("%s not found" % tool)
        cfg = {
            "module": module,
            "nginx": nginx,
            "seconds": number("BENCH_SECONDS", 10),
            "rounds": number("BENCH_ROUNDS", 3),
            "warmup": number("BENCH_WARMUP", 1),
            "port": (number("BENCH_PORT", 1) if os.environ.get("BENCH_PORT")
                     else free_port()),
        }
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
        tmp = tempfile.mkdtemp(prefix="bench-verify-")
        try:
            run(cfg, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except Fatal as e:
        print("bench-verify: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
