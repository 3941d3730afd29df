#!/usr/bin/python3
"""bench.py: how fast ngx_http_mock_module replays, and what it costs.

One nginx (2 workers, keep-alive, no access log) on 127.0.0.1 serves
four cases, each measured with wrk over keep-alive connections:

  return 200      the ceiling: "return 200" with the same 1 KiB JSON body
                  and the same response headers as the recorded interaction
  replay 1        that interaction, replayed from a 1-interaction cassette
  replay 10k      a random /items/N of a 10,000-interaction cassette
  replay 100k     a random /items/N of a 100,000-interaction cassette

All cases use the same wrk Lua script (it builds "PREFIX/items/" plus a
random number up to N; N is 1 for the first two), so the client does the
same work in each.  Every case is warmed up, then the cases are run in
interleaved rounds, each round in a different order, and the median of the
rounds is reported.

It also reports the shared memory used per interaction (from the module's
notice at startup) next to the raw size of the recorded responses (header
names and values plus body), and how long nginx takes to load the
100,000-interaction cassette ("nginx -t" with it, minus "nginx -t" without).

Recording.  A second server in the same nginx, on another loopback port,
stands in for the upstream: it answers every /items/N with the same
"return 200", 1 KiB body and headers.  Two locations proxy to it over
upstream keep-alive connections:

  proxy_pass      plain proxy_pass, the ceiling; it adds the header that
                  recording adds, so both send the same bytes
  record          the same, with "mock_mode record" into a cassette that
                  starts missing

Each request asks for a random /items/N out of 1,000,000,000, so nearly
every recorded interaction is new and the cassette and its index keep
growing.  The two cases run in paired windows of BENCH_RECORD_SECONDS,
the order alternating, until the cassette holds BENCH_RECORD_TARGET
interactions (at least 3 windows).  Each window reports the recording
rate and the cassette's size, so a rate that falls as the cassette grows
shows.  After the windows, the interactions in the file (its "# recorded"
lines) are checked against the 200 responses wrk counted, and the file is
loaded back for replay with "nginx -t".

Both cases send the same requests through the same upstream, and every
process shares the machine's CPUs: nginx's two workers (the gateway and
the upstream server in each), wrk's two threads, and whatever else
runs.  So each window also reports the CPU time per response of nginx
and of wrk (from /proc), and the share of the machine's CPU time that
other processes took.  The ratio of the CPU times (proxy_pass over
recording, nginx plus wrk) is what the req/s ratio is when only they use
the CPUs.  A median window where other processes took over 10% of the
machine is flagged: its req/s figures tell little.

Sequence counters.  Without "mock_repeats on", identical requests get the
recorded interactions one after another, counted per test session
(mock_session) in the shared zone or, with mock_redis, in Redis.  Two
more nginx instances, started together, serve the same two locations on
one cassette of BENCH_SESSION_PLAYS (64) identical interactions of
/items/1, each with the same 1 KiB JSON body:

  /plain/         mock_repeats on: the first interaction answers every
                  time, nothing is counted
  /seq/           mock_session $http_x_test_id: each test session plays
                  the interactions in order

Instance Z counts in its shared zone.  Instance R has mock_redis, which
applies to every location that counts, so it counts in a private
redis-server started on a free loopback port.  Four cases: /plain/ and
/seq/ on each instance.  /plain/ on Z and on R do the same work and
should be equal; /seq/ is compared with /plain/ of its own instance.

Every wrk thread numbers its requests and gives each run of 64 of them a
new test session (X-Test-Id: RUN-THREAD-N), so every session makes
exactly as many requests as it has interactions: no sequence runs out,
and a non-2xx answer means that a counter went wrong.  All four cases
send the header.  Before every run, the counters of both instances are
reset through the admin API (every played request keeps a state in the
zone until then) and Redis is emptied.  After each Redis run, the INCRs
Redis executed are checked against the answered requests: a request
that Redis did not count was counted in the zone instead.  This section
runs first; its report comes last.

Recorded interactions are indexed in the shared zone, which therefore
gets an explicit size (mock_zone): room for the replay cassettes plus
4 x BENCH_RECORD_TARGET recorded interactions (at least 400,000).
Untouched pages of the zone cost no memory.  The shared memory that
recording takes is measured from the zone's pages in use (/proc/PID/smaps).

Further comparisons.  Every case is a line of the CASES table below: its
nginx location, what wrk sends, and the case it is compared with and the
ratio it must reach.  A section of cases that is not "record" or
"counters" is measured like the replay section (warm-up, interleaved
rounds, medians) on the main nginx, and reported in the same way.  Two
such sections follow the replay section:

  templates       replay of a 1 KiB body with five template expressions,
                  mock_template on, against the same body without them
  ignore          a JSON POST matched on its body with three members left
                  out (mock_ignore body), against the body matched whole

Environment:
  BENCH_SECONDS          seconds of each measured run (default 10)
  BENCH_ROUNDS           interleaved rounds (default 3)
  BENCH_WARMUP           seconds of warm-up per case (default 1)
  BENCH_RECORD_SECONDS   seconds of each recording window (default 2)
  BENCH_RECORD_TARGET    interactions the recorded cassette must reach
                         (default 100000)
  BENCH_SESSION_PLAYS    interactions in the sequence cassette, and
                         requests per test session (default 64)
  BENCH_ONLY             the sections to run, comma-separated: replay
                         (return 200 and replay 1/10k/100k, memory,
                         loading time), record, counters, templates,
                         ignore (default: all five)
  BENCH_PORT             port on 127.0.0.1 (default: a free one)
  BENCH_UPSTREAM_PORT    port of the upstream server (default: a free one)
  BENCH_REDIS_PORT       port of the private redis-server (default: a
                         free one)
  BENCH_Z_PORT           ports of the sequence counters' nginx Z and R
  BENCH_R_PORT           (default: free ones)
  MOCK_MODULE            the module (default build/ngx_http_mock_module.so)
  NGINX_BIN              nginx binary (default /usr/sbin/nginx)

The targets are reported, not enforced: the exit status is non-zero only
when the benchmark itself could not run.
"""

import dataclasses
import difflib
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"

THREADS = 2
CONNECTIONS = 32
RECORD_MIN_WINDOWS = 3
RECORD_MAX_WINDOWS = 100

# targets besides those of the cases
MAX_MEMORY_RATIO = 1.5      # zone bytes / raw bytes, per interaction ...
MEMORY_SLACK = 256          # ... plus this many bytes per interaction
MIN_GROWTH_RATIO = 0.9      # record rate, last window / first window

SECTIONS = ("replay", "record", "counters", "templates", "ignore")
# what runs without BENCH_ONLY
DEFAULT_SECTIONS = "replay,record,counters,templates,ignore"


# --- what wrk sends ----------------------------------------------------------

ITEMS_LUA = """\
-- GET PREFIX/items/I with I random in 1..N; wrk ... -- PREFIX N

local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("id", threads)
end

function init(args)
    prefix = args[1] .. "/items/"
    n = tonumber(args[2])
    math.randomseed(os.time() * 100 + id)
end

function request()
    return wrk.format("GET", prefix .. math.random(n))
end
"""

SESSIONS_LUA = """\
-- GET PATH with the header X-Test-Id; wrk ... -- PATH PLAYS RUN
--
-- Each thread numbers its requests: requests n * PLAYS to n * PLAYS +
-- PLAYS - 1 of thread t belong to the test session RUN-t-n, so every
-- session makes exactly PLAYS requests.

local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("id", threads)
end

function init(args)
    path = args[1]
    plays = tonumber(args[2])
    session = args[3] .. "-" .. id .. "-"
    sent = 0
end

function request()
    local n = math.floor(sent / plays)
    sent = sent + 1
    return wrk.format("GET", path, { ["X-Test-Id"] = session .. n })
end
"""


@dataclasses.dataclass
class Get:
    """GET PREFIX/items/I, I random in 1..N (items.lua), with HEADERS."""
    prefix: str
    n: int
    headers: tuple = ()     # (name, value) pairs, sent with -H

    method = "GET"
    body = None

    def checks(self):
        return [self.prefix + "/items/1"]

    def wrk_args(self, tmp, base, name):
        args = []
        for k, v in self.headers:
            args += ["-H", "%s: %s" % (k, v)]
        return args + ["-s", os.path.join(tmp, "items.lua"), base + "/",
                       "--", self.prefix, str(self.n)]


@dataclasses.dataclass
class Post:
    """POST PATH with a JSON BODY, the same request every time."""
    path: str
    body: str

    method = "POST"
    headers = (("Content-Type", "application/json"),)

    def checks(self):
        return [self.path]

    def wrk_args(self, tmp, base, name):
        script = os.path.join(tmp, "post-%s.lua" % name)
        if "]==]" in self.body:
            raise ValueError("cannot quote the body of %s for Lua" % name)
        with open(script, "w") as f:
            f.write('-- POST %s with its JSON body, the same every time\n\n'
                    'wrk.method = "POST"\n'
                    'wrk.path = "%s"\n'
                    'wrk.body = [==[%s]==]\n'
                    'wrk.headers["Content-Type"] = "application/json"\n'
                    % (self.path, self.path, self.body))
        return ["-s", script, base + "/"]


@dataclasses.dataclass
class Sessions:
    """GET PATH, every PLAYS requests in a new test session (sessions.lua)."""
    path: str

    def wrk_args(self, tmp, base, run, plays):
        return ["-s", os.path.join(tmp, "sessions.lua"), base + "/", "--",
                self.path, str(plays), run]


# --- the cases -----------------------------------------------------------------

@dataclasses.dataclass
class Case:
    name: str               # short name, for files
    label: str              # in the report
    section: str            # BENCH_ONLY names it
    location: str           # nginx locations; "{tmp}" is the run's folder
    request: object         # what wrk sends: Get, Post or Sessions
    baseline: str = None    # the case it is compared with ...
    target: float = None    # ... and the least ratio to it that is ok
    verdict: str = None     # the name of that ratio in the report
    cassette: tuple = ()    # arguments of gen-cassette.py, if any
    checks: tuple = None    # paths checked at start (default: the request's)
    body_size: int = 1024   # of every answer checked at start (None: any)
    rendered: bool = False  # the answer checked at start has no "{{"
    instance: str = None    # counters: nginx Z or R


def cassette(name, interactions, prefix, *more):
    """gen-cassette.py arguments for {tmp}/NAME.yaml and NAME.stats."""
    return ("--interactions", str(interactions), "--prefix", prefix,
            "--output", "{tmp}/%s.yaml" % name,
            "--stats", "{tmp}/%s.stats" % name) + more


def order_body(sent_at, nonce, key):
    """The JSON body of the ignore cases' POST, about 300 bytes."""
    return json.dumps({
        "order": {"id": "ORD-2024-004711",
                  "lines": [{"sku": "SKU-00000001", "qty": 2},
                            {"sku": "SKU-00000042", "qty": 1}]},
        "customer": {"id": 1042, "email": "ada@example.test"},
        "meta": {"client": "bench", "sent_at": sent_at},
        "nonce": nonce,
        "idempotency_key": key,
    }, separators=(",", ":"))


# what wrk sends to both ignore cases; the mock_ignore cassette has other
# values in the ignored members, so only mock_ignore matches it
IGNORE_SENT = order_body("2024-06-11T10:00:00.000Z",
                         "3f9c2b7e8d1a4c6f9e0b5a7d2c4e6f81",
                         "7d2c1e9a-5b3f-4a8e-9c6d-0f1e2a3b4c5d")
IGNORE_RECORDED = order_body("2023-01-02T03:04:05.678Z",
                             "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                             "00000000-1111-4222-8333-444444444444")
TEMPLATE_UA = (("User-Agent", "wrk"),)

CASES = [
    # replay: the ceiling, and replay from cassettes of three sizes
    Case("return", "return 200 (ceiling)", "replay", """
        location = /return/items/1 {
            include {tmp}/return.conf;
        }""", Get("/return", 1)),
    Case("one", "replay, 1 interaction", "replay", """
        location /one/ {
            mock_replay {tmp}/one.yaml;
            mock_repeats on;
        }""", Get("/one", 1),
         baseline="return", target=0.9, verdict="replay/return",
         cassette=cassette("one", 1, "/one",
                           "--return-conf", "{tmp}/return.conf")),
    Case("10k", "replay, 10,000 interactions", "replay", """
        location /10k/ {
            mock_replay {tmp}/10k.yaml;
            mock_repeats on;
        }""", Get("/10k", 10000),
         cassette=cassette("10k", 10000, "/10k"),
         checks=("/10k/items/1", "/10k/items/10000")),
    Case("100k", "replay, 100,000 interactions", "replay", """
        location /100k/ {
            mock_replay {tmp}/100k.yaml;
            mock_repeats on;
        }""", Get("/100k", 100000),
         baseline="one", target=0.9, verdict="100k/1",
         cassette=cassette("100k", 100000, "/100k"),
         checks=("/100k/items/1", "/100k/items/100000")),

    # record: in paired windows, not rounds
    Case("proxy", "proxy_pass (ceiling)", "record", """
        location /proxy/ {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            add_header X-Mock record;
        }""", Get("/proxy", 1000000000)),
    Case("record", "proxy_pass + mock_mode record", "record", """
        location /record/ {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            mock_replay {tmp}/record.yaml;
            mock_mode record;
        }""", Get("/record", 1000000000),
         baseline="proxy", target=0.75, verdict="record/proxy"),

    # counters: on nginx Z and R of their own (COUNTERS_LOCATIONS)
    Case("zplain", "Z: replay, mock_repeats on", "counters", None,
         Sessions("/plain/items/1"), instance="z"),
    Case("zseq", "Z: sequence, zone counters", "counters", None,
         Sessions("/seq/items/1"), instance="z",
         baseline="zplain", target=0.9, verdict="zone/plain"),
    Case("rplain", "R: replay, mock_repeats on", "counters", None,
         Sessions("/plain/items/1"), instance="r"),
    Case("rseq", "R: sequence, Redis counters", "counters", None,
         Sessions("/seq/items/1"), instance="r",
         baseline="rplain", target=0.5, verdict="redis/plain"),

    Case("tplplain", "replay, 1 KiB, no expressions", "templates", """
        location /tplplain/ {
            mock_replay {tmp}/tplplain.yaml;
            mock_repeats on;
            set $order_id 4711;
        }""", Get("/tplplain", 1, TEMPLATE_UA),
         cassette=cassette("tplplain", 1, "/tplplain",
                           "--templated", "values")),
    Case("tpl", "replay, 5 template expressions", "templates", """
        location /tpl/ {
            mock_replay {tmp}/tpl.yaml;
            mock_repeats on;
            mock_template on;
            set $order_id 4711;
        }""", Get("/tpl", 1, TEMPLATE_UA),
         baseline="tplplain", target=0.80, verdict="templates/plain",
         cassette=cassette("tpl", 1, "/tpl", "--templated", "expressions"),
         body_size=None, rendered=True),

    Case("exact", "POST, body matched whole", "ignore", """
        location /exact/ {
            mock_replay {tmp}/exact.yaml;
            mock_match method path body;
            mock_repeats on;
        }""", Post("/exact/items/1", IGNORE_SENT),
         cassette=cassette("exact", 1, "/exact",
                           "--request-body", IGNORE_SENT)),
    Case("ignore", "POST, 3 body members ignored", "ignore", """
        location /ignore/ {
            mock_replay {tmp}/ignore.yaml;
            mock_match method path body;
            mock_ignore body $.meta.sent_at $.nonce $.idempotency_key;
            mock_repeats on;
        }""", Post("/ignore/items/1", IGNORE_SENT),
         baseline="exact", target=0.90, verdict="ignore/exact",
         cassette=cassette("ignore", 1, "/ignore",
                           "--request-body", IGNORE_RECORDED)),
]

# the sections measured in rounds on the main nginx: the title of their
# part of the report (None: none), the case that the "vs" column divides
# by, and that column's heading
ROUND_SECTIONS = {
    "replay": (None, "return", "vs return"),
    "templates": ("template expressions (mock_template on)", "tplplain",
                  "vs plain"),
    "ignore": ("body members ignored (mock_ignore body)", "exact",
               "vs exact"),
}
# every main nginx serves, and checks at start, the locations of these
# sections; those of the others only when they run
MAIN_ALWAYS = ("replay", "record")

COUNTERS_LOCATIONS = """
        location /plain/ {
            mock_replay {tmp}/plain.yaml;
            mock_repeats on;
        }

        location /seq/ {
            mock_replay {tmp}/seq.yaml;
            mock_session $http_x_test_id;
        }

        location /_mock {
            allow 127.0.0.1;
            deny all;
            mock_admin;
        }"""

CASE = {c.name: c for c in CASES}


# --- small tools -----------------------------------------------------------------

class Fatal(Exception):
    pass


def die(msg):
    raise Fatal(msg)


def median(values):
    values = list(values)
    return statistics.median(values) if values else math.nan


def spread_pct(values, med):
    """How far apart the values are, in % of their median."""
    return int("%.0f" % ((max(values) - min(values)) / med * 100))


def div(a, b):
    return a / b if b else math.nan


def lowest_to_highest(ratios):
    ratios = sorted(ratios)
    return "%.3f to %.3f" % (ratios[0], ratios[-1])


def verdict(ok):
    return "ok" if ok else "MISSED"


def tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()[-n:]
    except OSError:
        return
    sys.stderr.write("".join(lines))


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


@dataclasses.dataclass
class WrkResult:
    rps: float
    p99: float              # ms
    bad: int                # non-2xx or 3xx responses
    errors: int             # socket errors
    responses: int          # "N requests in ..."


def parse_wrk(text):
    rps = p99 = None
    bad = errors = responses = 0
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "Requests/sec:":
            rps = float(f[1])
        elif f[0] == "99%" and len(f) > 1:
            m = re.match(r"([0-9.]+)(us|ms|s|m)?$", f[1])
            if m:
                v = float(m.group(1))
                p99 = {"us": v / 1000, "ms": v, "s": v * 1000,
                       "m": v * 60000}.get(m.group(2), v)
        elif "Non-2xx or 3xx responses:" in line:
            bad = int(f[-1])
        elif "Socket errors:" in line:
            errors = sum(int(x) for x in re.findall(r"\d+", line))
        elif " requests in " in line:
            responses = int(f[0])
    if rps is None:
        return None
    return WrkResult(rps, p99 if p99 is not None else 0.0, bad, errors,
                     responses)


@dataclasses.dataclass
class Runs:
    """The measured runs of a case, over all rounds."""
    rps: list = dataclasses.field(default_factory=list)
    p99: list = dataclasses.field(default_factory=list)
    bad: int = 0
    errors: int = 0
    responses: int = 0

    def add(self, res):
        self.rps.append(res.rps)
        self.p99.append(res.p99)
        self.bad += res.bad
        self.errors += res.errors
        self.responses += res.responses


def http_get(port, path, method="GET", body=None, headers=(), conn=None):
    """(status, body) of one request, or (0, b"") if it failed."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=dict(headers))
        resp = conn.getresponse()
        return resp.status, resp.read(), resp
    except (OSError, http.client.HTTPException):
        return 0, b"", None
    finally:
        if own:
            conn.close()


class Redis:
    """Just enough of the Redis protocol for the benchmark."""

    def __init__(self, port):
        self.port = port

    def __call__(self, *args):
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=5) as s:
            req = b"*%d\r\n" % len(args)
            for a in args:
                a = str(a).encode()
                req += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(req)
            with s.makefile("rb") as f:
                return self._reply(f)

    def _reply(self, f):
        line = f.readline()
        if not line:
            raise OSError("redis closed the connection")
        kind, rest = line[:1], line[1:].rstrip(b"\r\n")
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise OSError("redis: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)
            return data[:n].decode(errors="replace")
        if kind == b"*":
            return [self._reply(f) for _ in range(int(rest))]
        raise OSError("redis: unexpected reply %r" % line)


# --- the benchmark -----------------------------------------------------------------

class Bench:

    def __init__(self):
        env = os.environ
        self.nginx = env.get("NGINX_BIN") or "/usr/sbin/nginx"
        self.module = env.get("MOCK_MODULE") or os.path.join(
            TOP, "build/ngx_http_mock_module.so")
        only = env.get("BENCH_ONLY") or DEFAULT_SECTIONS
        self.only = [s for s in re.split(r"[,\s]+", only) if s]
        for s in self.only:
            if s not in SECTIONS:
                die('BENCH_ONLY: unknown section "%s" (%s)'
                    % (s, ", ".join(SECTIONS)))
        if not self.only:
            die("BENCH_ONLY names no section (%s)" % ", ".join(SECTIONS))

        numbers = {}
        for name, default in (("BENCH_SECONDS", 10), ("BENCH_ROUNDS", 3),
                              ("BENCH_WARMUP", 1),
                              ("BENCH_RECORD_SECONDS", 2),
                              ("BENCH_RECORD_TARGET", 100000),
                              ("BENCH_SESSION_PLAYS", 64)):
            v = env.get(name) or str(default)
            if not re.fullmatch(r"[0-9]+", v) or int(v) <= 0:
                die("BENCH_SECONDS, BENCH_ROUNDS, BENCH_WARMUP, "
                    "BENCH_RECORD_SECONDS, BENCH_RECORD_TARGET and "
                    "BENCH_SESSION_PLAYS must be positive whole numbers")
            numbers[name] = int(v)
        self.seconds = numbers["BENCH_SECONDS"]
        self.rounds = numbers["BENCH_ROUNDS"]
        self.warmup = numbers["BENCH_WARMUP"]
        self.record_seconds = numbers["BENCH_RECORD_SECONDS"]
        self.record_target = numbers["BENCH_RECORD_TARGET"]
        self.session_plays = numbers["BENCH_SESSION_PLAYS"]

        tools = [self.nginx, "wrk"]
        if self.want("counters"):
            tools.append("redis-server")
        for tool in tools:
            if not shutil.which(tool):
                die("%s not found" % tool)
        self.module = os.path.abspath(self.module)
        if not os.path.isfile(self.module):
            die("no module at %s (run make)" % self.module)

        self.tmp = None
        self.wrk_proc = None
        self.redis_proc = None
        self.nginx_pidfiles = []
        self.ports()
        self.clock_ticks = os.sysconf("SC_CLK_TCK")

    def want(self, section):
        return section in self.only

    def ports(self):
        socks = [socket.socket() for _ in range(5)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        free = [s.getsockname()[1] for s in socks]
        for s in socks:
            s.close()
        env = os.environ

        def port(name, default):
            v = env.get(name) or str(default)
            if not re.fullmatch(r"[0-9]+", v) or not 0 < int(v) < 65536:
                die("%s: not a port: %s" % (name, v))
            return int(v)

        self.port = port("BENCH_PORT", free[0])
        self.upstream_port = port("BENCH_UPSTREAM_PORT", free[1])
        self.zport = port("BENCH_Z_PORT", free[2])
        self.rport = port("BENCH_R_PORT", free[3])
        self.redis_port = port("BENCH_REDIS_PORT", free[4])
        if len({self.port, self.upstream_port, self.zport, self.rport,
                self.redis_port}) != 5:
            die("BENCH_PORT, BENCH_UPSTREAM_PORT, BENCH_Z_PORT, BENCH_R_PORT "
                "and BENCH_REDIS_PORT must differ from each other")
        self.base = "http://127.0.0.1:%d" % self.port
        self.redis = Redis(self.redis_port)

    # --- processes ---------------------------------------------------------

    def setup(self):
        self.tmp = tempfile.mkdtemp(prefix="mock-bench.",
                                    dir=os.environ.get("TMPDIR") or "/tmp")
        self.pidfile = self.path("nginx.pid")
        self.zpidfile = self.path("counters-z.pid")
        self.rpidfile = self.path("counters-r.pid")
        os.makedirs(self.path("temp"))
        # every nginx of the run loads this copy, so a rebuild meanwhile
        # changes nothing
        copy = self.path("ngx_http_mock_module.so")
        shutil.copy(self.module, copy)
        self.module = copy
        with open(self.path("items.lua"), "w") as f:
            f.write(ITEMS_LUA)
        with open(self.path("sessions.lua"), "w") as f:
            f.write(SESSIONS_LUA)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def cleanup(self):
        if self.wrk_proc and self.wrk_proc.poll() is None:
            self.wrk_proc.kill()
            self.wrk_proc.wait()
        for pidfile in self.nginx_pidfiles:
            self.stop_nginx(pidfile)
        self.stop_redis()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start_nginx(self, conf, log, pidfile, port, probe, what):
        """Starts nginx with conf, waits until it answers GET probe."""
        self.nginx_pidfiles.append(pidfile)
        if subprocess.run([self.nginx, "-p", self.tmp, "-e", log,
                           "-c", conf]).returncode:
            tail(log)
            die("nginx did not start%s" % what)
        # the master writes its pid file after the command returns
        for _ in range(100):
            if os.path.exists(pidfile) and os.path.getsize(pidfile):
                break
            time.sleep(0.1)
        for _ in range(100):
            if http_get(port, probe)[0]:
                return True
            time.sleep(0.1)
        return False

    def stop_nginx(self, pidfile):
        try:
            with open(pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return
        self.stop_pid(pid)
        try:
            os.unlink(pidfile)
        except OSError:
            pass

    @staticmethod
    def stop_pid(pid, proc=None):
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            return
        for _ in range(100):
            if proc is not None:
                if proc.poll() is not None:
                    return
            else:
                try:
                    os.kill(pid, 0)
                except OSError:
                    return
            time.sleep(0.1)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        if proc is not None:
            proc.wait()

    def start_redis(self):
        self.redis_proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1",
             "--port", str(self.redis_port), "--save", "",
             "--appendonly", "no", "--dir", self.tmp,
             "--logfile", self.path("redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        # the Redis on the port must be this one: the benchmark empties it
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
        tail(self.path("redis.log"))
        die("redis-server did not start on 127.0.0.1:%d" % self.redis_port)

    def stop_redis(self):
        if self.redis_proc is not None:
            self.stop_pid(self.redis_proc.pid, self.redis_proc)
            self.redis_proc = None

    def wrk(self, args, seconds, out, what):
        """Runs wrk for seconds into file out; its result."""
        with open(out, "w") as f:
            self.wrk_proc = subprocess.Popen(
                ["wrk", "-t%d" % THREADS, "-c%d" % CONNECTIONS,
                 "-d%ds" % seconds, "--latency"] + args,
                stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
            rc = self.wrk_proc.wait()
            self.wrk_proc = None
        text = read_text(out)
        if rc:
            sys.stderr.write(text)
            die("wrk failed on case %s" % what)
        res = parse_wrk(text)
        if res is None:
            sys.stderr.write(text)
            die("no result from wrk")
        return res

    def run_wrk(self, case, seconds, out="wrk.out"):
        return self.wrk(case.request.wrk_args(self.tmp, self.base, case.name),
                        seconds, self.path(out), case.name)

    # --- nginx configuration -----------------------------------------------

    def write_conf(self, conf, log, locations, http="", pidfile=None,
                   port=None):
        t = self.path("temp")
        with open(conf, "w") as f:
            f.write("""load_module %s;

worker_processes 2;
pid %s;
error_log %s notice;

events {
    worker_connections 1024;
}

http {
    access_log off;
    keepalive_timeout 60s;
    keepalive_requests 1000000;

    client_body_temp_path %s/body;
    proxy_temp_path %s/proxy;
    fastcgi_temp_path %s/fastcgi;
    uwsgi_temp_path %s/uwsgi;
    scgi_temp_path %s/scgi;
%s
    server {
        listen 127.0.0.1:%d;
%s
    }
}
""" % (self.module, pidfile or self.pidfile, log, t, t, t, t, t, http,
       port or self.port, locations.replace("{tmp}", self.tmp)))

    def gen_cassette(self, args):
        args = [a.replace("{tmp}", self.tmp) for a in args]
        if subprocess.run([PYTHON, os.path.join(TOP, "scripts/gen-cassette.py")]
                          + args).returncode:
            die("gen-cassette.py %s failed" % " ".join(args))

    # --- /proc -------------------------------------------------------------

    @staticmethod
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
            if int(stat[stat.rindex(")") + 2:].split()[1]) == master:
                pids.append(int(d))
        return pids

    @staticmethod
    def master(pidfile):
        with open(pidfile) as f:
            return int(f.read().strip())

    @staticmethod
    def stat_fields(pid):
        """The fields of /proc/PID/stat from the 3rd (state) on."""
        with open("/proc/%s/stat" % pid) as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2:].split()

    def cpu_ticks(self, pidfile=None):
        """CPU time in clock ticks, as /proc counts it: (nginx, wrk, busy,
        all), of the worker processes of the nginx of pidfile (default: the
        main one), of the children this process has waited for (wrk), and
        of the whole machine (all its CPUs: busy, and busy plus idle)."""
        workers = 0
        for pid in self.children(self.master(pidfile or self.pidfile)):
            try:
                f = self.stat_fields(pid)
                workers += int(f[11]) + int(f[12])      # utime, stime
            except (OSError, IndexError, ValueError):
                pass
        f = self.stat_fields("self")
        waited = int(f[13]) + int(f[14])                # cutime, cstime
        with open("/proc/stat") as fh:
            for line in fh:
                v = line.split()
                if v[0] == "cpu":
                    n = [int(x) for x in v[1:]]
                    busy = n[0] + n[1] + n[2] + n[5] + n[6] + n[7]
                    return workers, waited, busy, busy + n[3] + n[4]
        return workers, waited, 0, 1

    def cpu_per_response(self, a, b, n):
        """(nginx_us, wrk_us, others_pct) between two cpu_ticks for n
        responses: CPU microseconds per response of nginx and of wrk, and
        the % of the machine's CPU time that every other process used."""
        nginx, wrk = b[0] - a[0], b[1] - a[1]
        busy, every = b[2] - a[2], b[3] - a[3]
        others = max(busy - nginx - wrk, 0)
        n, every = max(n, 1), max(every, 1)
        hz = self.clock_ticks
        return (round(nginx / hz * 1e6 / n, 2), round(wrk / hz * 1e6 / n, 2),
                round(others / every * 100, 1))

    def zone_kb(self, pidfile=None, zone_mb=None):
        """kB of the mock zone in memory: the Pss of the zone's mapping
        (the one "/dev/zero" mapping of the zone's size) summed over
        nginx's processes, which counts each page in use once."""
        master = self.master(pidfile or self.pidfile)
        size = (zone_mb or self.zone_mb) * 1024
        kb = 0
        for pid in [master] + self.children(master):
            try:
                with open("/proc/%d/smaps" % pid) as f:
                    zone = False
                    for line in f:
                        v = line.split()
                        if re.match(r"[0-9a-f]+-[0-9a-f]+$", v[0]):
                            zone = v[-2:] == ["/dev/zero", "(deleted)"]
                        elif zone and v[0] == "Size:" and int(v[1]) != size:
                            zone = False
                        elif zone and v[0] == "Pss:":
                            kb += int(v[1])
            except OSError:
                pass
        return kb

    # --- rounds --------------------------------------------------------------

    def measure_rounds(self, cases):
        """Warm-up, then interleaved rounds, each in another order."""
        print("warming up (%d s per case) ..." % self.warmup, flush=True)
        for c in cases:
            self.run_wrk(c, self.warmup, "warmup.out")
        print("measuring: %d rounds x %d s per case, wrk -t%d -c%d, "
              "keep-alive ..." % (self.rounds, self.seconds, THREADS,
                                  CONNECTIONS), flush=True)
        runs = {c.name: Runs() for c in cases}
        for r in range(self.rounds):
            for k in range(len(cases)):
                c = cases[(k + r) % len(cases)]
                res = self.run_wrk(c, self.seconds)
                runs[c.name].add(res)
                print("  round %d  %-30s %10.0f req/s  p99 %7.2f ms"
                      % (r + 1, c.label, res.rps, res.p99), flush=True)
        return runs

    def report_rounds(self, section, cases, runs):
        title, ref, column = ROUND_SECTIONS[section]
        rps = {c.name: median(runs[c.name].rps) for c in cases}
        p99 = {c.name: median(runs[c.name].p99) for c in cases}
        spread = {c.name: spread_pct(runs[c.name].rps, rps[c.name])
                  for c in cases}
        noisy = any(s > 10 for s in spread.values())

        print()
        if title:
            print(title)
        print("  %-30s %10s %8s %10s %10s %7s"
              % ("case", "req/s", "spread", "p99 ms", column, "errors"))
        for c in cases:
            r = runs[c.name]
            print("  %-30s %10.0f %7s%% %10.2f %10.3f %7d"
                  % (c.label, rps[c.name], spread[c.name], p99[c.name],
                     div(rps[c.name], rps[ref]), r.bad + r.errors))
        print("  (spread: slowest to fastest round, in % of the median; "
              "errors:")
        print("  non-2xx responses plus socket errors, all rounds)")
        if noisy:
            print("  note: rounds of the same case differ by more than 10%; "
                  "the ratios")
            print("  below are only as good as that (more BENCH_ROUNDS or "
                  "BENCH_SECONDS")
            print("  help, as does a machine with more CPUs than wrk and "
                  "nginx use)")

        print()
        for c in cases:
            if c.verdict:
                self.verdict_line(c, rps, runs, "round")

    @staticmethod
    def verdict_line(case, rps, runs, by):
        ratio = "%.3f" % div(rps[case.name], rps[case.baseline])
        paired = lowest_to_highest(
            a / b for a, b in zip(runs[case.name].rps,
                                  runs[case.baseline].rps))
        print("  %-16s %6s   target >= %s   %-6s  (by %s: %s)"
              % (case.verdict, ratio, "%g" % case.target,
                 verdict(float(ratio) >= case.target), by, paired))

    # --- sequence counters ---------------------------------------------------

    def counters_port(self, case):
        return self.zport if case.instance == "z" else self.rport

    def counters_pidfile(self, case):
        return self.zpidfile if case.instance == "z" else self.rpidfile

    def redis_evals(self):
        """The INCRs Redis executed since its statistics were reset."""
        for line in self.redis("INFO", "commandstats").splitlines():
            m = re.match(r"cmdstat_incr:calls=(\d+)", line)
            if m:
                return int(m.group(1))
        return 0

    def repeat_interaction(self, src, dst):
        """The sequence cassette dst: the interaction of src, session_plays
        times over."""
        one, version = [], ""
        with open(src) as f:
            for line in f:
                if line == "interactions:\n":
                    continue
                if line.startswith("version:"):
                    version = line
                    continue
                one.append(line)
        with open(dst, "w") as f:
            f.write("interactions:\n")
            f.write("".join(one) * self.session_plays)
            f.write(version)

    def check_counters(self, port):
        """/plain/ answers 200 with the 1 KiB body, and the test session
        "check" gets session_plays such answers from /seq/, then the 404 of
        a sequence that has run out."""
        base = "http://127.0.0.1:%d" % port
        status, body, _ = http_get(port, "/plain/items/1")
        if status != 200 or len(body) != 1024:
            die("GET %s/plain/items/1: status %03d, %d bytes of body "
                "(expected 200, 1024)" % (base, status, len(body)))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        ok = True
        try:
            for i in range(self.session_plays + 1):
                status, body, resp = http_get(
                    port, "/seq/items/1", headers=(("X-Test-Id", "check"),),
                    conn=conn)
                if i < self.session_plays:
                    ok = ok and status == 200 and len(body) == 1024
                else:
                    ok = ok and status == 404
                if resp is None or resp.will_close:
                    conn.close()
        finally:
            conn.close()
        if not ok:
            die("GET %s/seq/items/1 in one test session: expected %d answers "
                "200 with 1024 bytes of body, then 404"
                % (base, self.session_plays))

    def reset_counters(self):
        """Forgets the counters of both instances, and empties Redis."""
        for p in (self.zport, self.rport):
            status = http_get(p, "/_mock/reset", method="POST",
                              headers=[("Content-Type",
                                        "application/json")])[0]
            if status != 200:
                die("POST http://127.0.0.1:%d/_mock/reset: status %03d"
                    % (p, status))
        self.redis("FLUSHALL")
        self.redis("CONFIG", "RESETSTAT")

    def run_counters_wrk(self, case, seconds, out, run):
        base = "http://127.0.0.1:%d" % self.counters_port(case)
        return self.wrk(case.request.wrk_args(self.tmp, base, run,
                                              self.session_plays),
                        seconds, self.path(out), case.name)

    def measure_counters(self):
        cases = [c for c in CASES if c.section == "counters"]
        self.counter_cases = cases
        # each run of a case may keep a state of about 256 bytes per
        # request in the zone until the next reset: room for 190,000
        # requests a second
        self.counters_zone_mb = 64 + 48 * max(self.seconds, self.warmup)
        zmb = self.counters_zone_mb

        print("sequence counters: generating a cassette of %d identical "
              "interactions ..." % self.session_plays, flush=True)
        for name in ("plain", "seq"):
            self.gen_cassette(["--interactions", "1", "--prefix", "/" + name,
                               "--output", "{tmp}/%s-1.yaml" % name])
            self.repeat_interaction(self.path(name + "-1.yaml"),
                                    self.path(name + ".yaml"))

        self.write_conf(self.path("counters-z.conf"),
                        self.path("counters-z.log"), COUNTERS_LOCATIONS,
                        "\n    mock_zone zone=counters:%dm;\n" % zmb,
                        self.zpidfile, self.zport)
        self.write_conf(self.path("counters-r.conf"),
                        self.path("counters-r.log"), COUNTERS_LOCATIONS,
                        "\n    mock_zone zone=counters:%dm;\n"
                        "    mock_redis 127.0.0.1:%d prefix=bench: "
                        "timeout=500ms ttl=1h;\n" % (zmb, self.redis_port),
                        self.rpidfile, self.rport)

        print("starting redis-server on 127.0.0.1:%d, nginx Z on "
              "127.0.0.1:%d and nginx R (mock_redis) on 127.0.0.1:%d "
              "(zones of %d MB) ..." % (self.redis_port, self.zport,
                                        self.rport, zmb), flush=True)
        self.start_redis()
        for name, port, pidfile in (("z", self.zport, self.zpidfile),
                                    ("r", self.rport, self.rpidfile)):
            conf = self.path("counters-%s.conf" % name)
            if not self.start_nginx(conf, self.path("counters-%s.log" % name),
                                    pidfile, port, "/plain/items/1",
                                    " with %s" % conf):
                die("nginx with %s does not answer on 127.0.0.1:%d"
                    % (conf, port))

        # Z must not use Redis, R must
        self.reset_counters()
        self.check_counters(self.zport)
        n = self.redis("DBSIZE")
        if n != 0:
            die("nginx Z (no mock_redis) left %d keys in Redis" % n)
        self.check_counters(self.rport)
        # the session's sequence counters, and what the fleet keeps of it
        n = self.redis("DBSIZE")
        if n < 1:
            die("nginx R (mock_redis) left no keys in Redis for a test "
                "session")

        # the checks end with an "already played" warning, which is not news
        self.counter_log_start = {
            name: len(read_text(self.path("counters-%s.log" % name))
                      .splitlines())
            for name in ("z", "r")}

        # the warm-up also tells the zone memory a sequence request keeps
        self.counter_zone_per = {}
        print("warming up (%d s per case) ..." % self.warmup, flush=True)
        for c in cases:
            self.reset_counters()
            before = self.zone_kb(self.counters_pidfile(c), zmb)
            res = self.run_counters_wrk(c, self.warmup, "warmup.out",
                                        "w" + c.name)
            after = self.zone_kb(self.counters_pidfile(c), zmb)
            if c.name[1:] == "seq" and res.responses > 0:
                self.counter_zone_per[c.name] = "%.0f" % (
                    (after - before) * 1024 / res.responses)

        print("measuring: %d rounds x %d s per case, wrk -t%d -c%d, "
              "keep-alive; counters reset before every run ..."
              % (self.rounds, self.seconds, THREADS, CONNECTIONS), flush=True)
        runs = self.counter_runs = {c.name: Runs() for c in cases}
        self.redis_evals_total = 0      # INCRs in the R sequence runs
        self.redis_keys_max = 0         # keys after such a run, at most
        for r in range(self.rounds):
            for k in range(len(cases)):
                c = cases[(k + r) % len(cases)]
                self.reset_counters()
                res = self.run_counters_wrk(c, self.seconds, "wrk.out",
                                            "r%d%s" % (r + 1, c.name))
                runs[c.name].add(res)
                if c.name == "rseq":
                    self.redis_evals_total += self.redis_evals()
                    self.redis_keys_max = max(self.redis_keys_max,
                                              self.redis("DBSIZE"))
                line = ("  round %d  %-30s %10.0f req/s  p99 %7.2f ms"
                        % (r + 1, c.label, res.rps, res.p99))
                if res.bad > 0:
                    line += "  %d non-2xx!" % res.bad
                print(line, flush=True)

        self.zone_peak_z = self.zone_kb(self.zpidfile, zmb)
        self.zone_peak_r = self.zone_kb(self.rpidfile, zmb)

        self.stop_nginx(self.zpidfile)
        self.stop_nginx(self.rpidfile)
        self.stop_redis()

    @staticmethod
    def log_problems(path, start):
        """The warnings and errors of the log after its first start lines."""
        lines = read_text(path).splitlines()[start:]
        return [l for l in lines
                if re.search(r"\[(warn|error|crit|alert|emerg)\]", l)]

    def report_counters(self):
        cases, runs = self.counter_cases, self.counter_runs
        rps = {c.name: median(runs[c.name].rps) for c in cases}
        p99 = {c.name: median(runs[c.name].p99) for c in cases}
        spread = {c.name: spread_pct(runs[c.name].rps, rps[c.name])
                  for c in cases}
        noisy = any(s > 10 for s in spread.values())
        version = subprocess.run(["redis-server", "--version"],
                                 capture_output=True, text=True).stdout
        m = re.search(r" v=(\S*)", version)
        version = m.group(1) if m else ""
        plays, zmb = self.session_plays, self.counters_zone_mb

        print()
        print("sequence counters")
        print("  two nginx instances of their own, 2 workers each, side by "
              "side: Z")
        print("  counts sequences in its shared zone, R in Redis (mock_redis; "
              "a private")
        print("  redis-server %s on 127.0.0.1:%d).  Both replay one cassette "
              "of" % (version, self.redis_port))
        print("  %d identical interactions (GET /items/1, 1 KiB JSON): /plain/"
              " with" % plays)
        print("  mock_repeats on, /seq/ as a sequence per test session "
              "(X-Test-Id).")
        print("  Each test session makes exactly %d requests; the counters "
              "are" % plays)
        print("  reset before every run; median of %d x %d s"
              % (self.rounds, self.seconds))
        print()
        print("  %-30s %10s %8s %10s %10s %8s %7s"
              % ("case", "req/s", "spread", "p99 ms", "vs plain", "non-2xx",
                 "errors"))
        for c in cases:
            plain = c.instance + "plain"
            print("  %-30s %10.0f %7s%% %10.2f %10.3f %8d %7d"
                  % (c.label, rps[c.name], spread[c.name], p99[c.name],
                     div(rps[c.name], rps[plain]), runs[c.name].bad,
                     runs[c.name].errors))
        print("  (vs plain: against mock_repeats on, on the same instance; "
              "non-2xx:")
        print("  responses, all rounds; errors: socket errors, all rounds)")
        if noisy:
            print("  note: rounds of the same case differ by more than 10%; "
                  "the ratios")
            print("  below are only as good as that")

        print()
        for c in cases:
            if c.verdict:
                self.verdict_line(c, rps, runs, "round")
        ratio = "%.3f" % div(rps["rplain"], rps["zplain"])
        paired = lowest_to_highest(
            a / b for a, b in zip(runs["rplain"].rps, runs["zplain"].rps))
        print("  %-16s %6s   (the same work on both instances; by round: %s)"
              % ("plain R/Z", ratio, paired))
        if not 0.9 <= float(ratio) <= 1.1:
            print("  note: /plain/ differs by more than 10% between the "
                  "instances, which do the same work there")

        rseq = runs["rseq"].responses
        zper = self.counter_zone_per
        print()
        print("  Redis executed %d INCRs for the %d answers of the R sequence "
              "runs" % (self.redis_evals_total, rseq))
        print("  (at most %d more: requests in flight when wrk stopped); at "
              "most" % (self.rounds * CONNECTIONS))
        print("  %d keys after a run (about one per test session begun)"
              % self.redis_keys_max)
        print("  shared memory kept until a reset, per sequence request: "
              "Z %s bytes," % zper.get("zseq", "?"))
        print("  R %s bytes (from the zone pages in use after the warm-up), "
              "so Z" % zper.get("rseq", "?"))
        print("  takes %.0f MB a second at its rate above"
              % (float(zper.get("zseq", 0)) * rps["zseq"] / 1048576))
        print("  zone pages touched (what the largest run needed): Z %d MB, "
              "R %d MB," % (self.zone_peak_z // 1024, self.zone_peak_r // 1024))
        print("  of %d MB each" % zmb)

        for c in cases:
            if c.name[1:] == "seq" and runs[c.name].bad > 0:
                print("  WARNING: %s: %d requests were not answered from the "
                      "cassette (non-2xx): test sessions ran out of "
                      "interactions, so a counter went wrong"
                      % (c.label, runs[c.name].bad))
        for c in cases:
            if runs[c.name].errors > 0:
                print("  WARNING: %s: %d socket errors"
                      % (c.label, runs[c.name].errors))
        if self.redis_evals_total < rseq:
            print("  WARNING: Redis counted %d fewer requests than R answered: "
                  "those were counted in the zone"
                  % (rseq - self.redis_evals_total))
        elif self.redis_evals_total > rseq + self.rounds * CONNECTIONS:
            print("  WARNING: Redis counted more requests than R answered, "
                  "beyond those in flight")
        if max(self.zone_peak_z, self.zone_peak_r) >= zmb * 1024 * 9 // 10:
            print("  WARNING: a zone is 90% full or more; counters that do not")
            print("  fit are lost, and their test sessions start over")

        for name in ("z", "r"):
            problems = self.log_problems(self.path("counters-%s.log" % name),
                                         self.counter_log_start[name])
            if problems:
                print()
                print("  the error log of nginx %s has %d warnings and errors "
                      "since the runs began; the first ones:"
                      % (name.upper(), len(problems)))
                for line in problems[:5]:
                    print("    " + line)
        # (no background saves here, so its advice on overcommit does not
        # apply)
        problems = [l for l in read_text(self.path("redis.log")).splitlines()
                    if "# WARNING" in l and "overcommit" not in l]
        if problems:
            print()
            print("  redis-server warned:")
            for line in problems[:5]:
                print("    " + re.sub(r"^[0-9]*:[A-Z] [^#]*# ", "", line))

    # --- the main nginx ------------------------------------------------------

    def main_cases(self):
        return [c for c in CASES
                if c.section not in ("counters",)
                and (c.section in MAIN_ALWAYS or self.want(c.section))]

    def prepare_main(self):
        cases = self.main_cases()
        print("generating cassettes in %s ..." % self.tmp, flush=True)
        yaml = 0
        for c in cases:
            if c.cassette:
                self.gen_cassette(c.cassette)
                yaml += os.path.getsize(self.path(c.name + ".yaml"))

        # the zone: twice the YAML of the replay cassettes (they take less),
        # and 5 KiB for each interaction that may be recorded: 4 x the
        # target, or 400,000 for a small target (the windows may overshoot)
        record_room = 4 * max(self.record_target, 100000)
        self.zone_mb = (64 * 1048576 + 2 * yaml + record_room * 5120) \
            // 1048576

        self.write_conf(self.path("nginx.conf"), self.path("error.log"),
                        "\n".join(c.location for c in cases), """
    mock_zone zone=mock:%dm;

    upstream backend {
        server 127.0.0.1:%d;
        keepalive 32;
    }

    # the upstream of /proxy/ and /record/
    server {
        listen 127.0.0.1:%d;

        location / {
            include %s;
        }
    }
""" % (self.zone_mb, self.upstream_port, self.upstream_port,
       self.path("return.conf")))

        self.write_conf(self.path("load-100k.conf"), self.path("load.log"),
                        CASE["100k"].location)
        self.write_conf(self.path("load-none.conf"), self.path("load.log"), """
        location / {
            return 204;
        }""")

    def time_test(self, conf):
        """Seconds "nginx -t" takes on conf (median of 3 runs)."""
        times = []
        for _ in range(3):
            t0 = time.time()
            if subprocess.run([self.nginx, "-q", "-t", "-p", self.tmp, "-e",
                               self.path("load.log"), "-c", conf]).returncode:
                die("nginx -t failed on %s (see above)" % conf)
            times.append(time.time() - t0)
        return median(times)

    def check(self, case, path):
        """Every case must answer 200 with its body (1 KiB, or rendered)."""
        r = case.request
        status, body, _ = http_get(self.port, path, r.method, r.body,
                                   r.headers)
        if case.body_size is not None:
            if status != 200 or len(body) != case.body_size:
                die("%s %s: status %03d, %d bytes of body (expected 200, %d)"
                    % (r.method, path, status, len(body), case.body_size))
        elif status != 200:
            die("%s %s: status %03d (expected 200)" % (r.method, path, status))
        if case.rendered and b"{{" in body:
            die("%s %s: the answer has template expressions left: %s"
                % (r.method, path, body[:200].decode(errors="replace")))

    def headers(self, path):
        """The status line, headers (but Date) and body of GET path."""
        status, body, resp = http_get(self.port, path)
        if resp is None:
            return ["(no answer)"]
        lines = ["HTTP/%d.%d %d %s" % (resp.version // 10, resp.version % 10,
                                       resp.status, resp.reason)]
        lines += sorted("%s: %s" % (k, v) for k, v in resp.getheaders()
                        if k.lower() != "date")
        return lines + body.decode(errors="replace").splitlines()

    def same_answers(self, a, b, what):
        diff = [("< " if l[0] == "-" else "> ") + l[2:]
                for l in difflib.ndiff(self.headers(a), self.headers(b))
                if l[:1] in "-+"]
        if diff:
            print("note: %s answer differently:" % what)
            for line in diff:
                print("    " + line)

    def start_main(self):
        print("starting nginx on 127.0.0.1:%d (upstream on 127.0.0.1:%d, "
              "mock zone %d MB) ..." % (self.port, self.upstream_port,
                                        self.zone_mb), flush=True)
        self.start_nginx(self.path("nginx.conf"), self.path("error.log"),
                         self.pidfile, self.port, "/return/items/1", "")
        for c in self.main_cases():
            for path in c.checks or c.request.checks():
                self.check(c, path)

        n = self.recorded_settled()
        if n != 1:
            die("GET /record/items/1 left %d interactions in %s (expected 1)"
                % (n, self.path("record.yaml")))

        # the ceiling must send what the replay sends (except Date), and
        # proxy_pass what recording sends, its header included
        self.same_answers("/return/items/1", "/one/items/1",
                          '"return 200" and the replay')
        self.same_answers("/proxy/items/2", "/record/items/2",
                          "proxy_pass and recording")

    # --- recording -----------------------------------------------------------

    _recorded = (None, 0, 0)        # (inode, bytes read, lines counted)

    def recorded(self):
        """Interactions in the recorded cassette: its "# recorded <time>"
        lines (the file's first line, "# recorded by nginx ...", is not
        one).  Reads on from where the last call stopped while the file
        only grows."""
        name = self.path("record.yaml")
        try:
            f = open(name, "rb")
        except OSError:
            return 0
        with f:
            st = os.fstat(f.fileno())
            ino, pos, n = self._recorded
            if ino != st.st_ino or st.st_size < pos:
                pos, n = 0, 0
            f.seek(pos)
            data = f.read()
            end = data.rfind(b"\n") + 1
            n += len(re.findall(rb"^# recorded [0-9]", data[:end], re.M))
            self._recorded = (st.st_ino, pos + end, n)
        return n

    def recorded_settled(self):
        """The same, once requests still in nginx when wrk stopped are
        done."""
        n = self.recorded()
        while True:
            time.sleep(0.2)
            m = self.recorded()
            if m == n:
                return n
            n = m

    def measure_record(self):
        proxy, record = CASE["proxy"], CASE["record"]
        print("warming up proxy_pass and recording (%d s each) ..."
              % self.warmup, flush=True)
        for c in (proxy, record):
            self.run_wrk(c, self.warmup, "warmup.out")

        self.record_start = self.recorded_settled()
        self.zone_start = self.zone_kb()

        print("recording: proxy_pass and proxy_pass + mock_mode record in "
              "paired windows of %d s, until the cassette holds %d "
              "interactions ..." % (self.record_seconds, self.record_target),
              flush=True)

        # one per window: proxy_rps proxy_p99 record_rps record_p99
        # cassette_before cassette_after record_responses, then for proxy
        # and for record: nginx_us wrk_us others_pct (CPU per response)
        self.windows = []
        self.proxy_runs, self.record_runs = Runs(), Runs()
        self.zone_full = False
        for w in range(1, RECORD_MAX_WINDOWS + 1):
            order = (proxy, record) if w % 2 else (record, proxy)
            win = {"w": w}
            for c in order:
                if c is record:
                    before = self.recorded_settled()
                t0 = self.cpu_ticks()
                res = self.run_wrk(c, self.record_seconds)
                t1 = self.cpu_ticks()
                cpu = self.cpu_per_response(t0, t1, res.responses)
                line = ("  window %-3d %-30s %10.0f req/s  p99 %7.2f ms"
                        % (w, c.label, res.rps, res.p99))
                if c is proxy:
                    self.proxy_runs.add(res)
                    win.update(prps=res.rps, pp99=res.p99, pcpu=cpu)
                else:
                    after = self.recorded_settled()
                    self.record_runs.add(res)
                    win.update(rrps=res.rps, rp99=res.p99, rcpu=cpu,
                               before=before, after=after, n=res.responses)
                    line += "  cassette %d -> %d" % (before, after)
                print(line, flush=True)
            self.windows.append(win)

            if "mock: zone is full" in read_text(self.path("error.log")):
                self.zone_full = True
                break
            if w >= RECORD_MIN_WINDOWS and after >= self.record_target:
                break

        self.record_end = self.recorded_settled()
        self.zone_end = self.zone_kb()
        with open(self.path("record.yaml"), "rb") as f:
            data = f.read()
        self.record_bytes = len(data)
        # interactions begun in the file, complete or not
        self.record_items = len(re.findall(rb"^- request:", data, re.M))
        del data

        # the recorded cassette must load back for replay
        self.write_conf(self.path("load-record.conf"), self.path("load.log"),
                        """
            location /record/ {
                mock_replay {tmp}/record.yaml;
            }""")
        p = subprocess.run([self.nginx, "-t", "-p", self.tmp, "-e",
                            self.path("load.log"), "-c",
                            self.path("load-record.conf")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace")
        self.record_load_out = p.stdout
        self.record_loads = "failed" if p.returncode else "ok"
        if "mock:" in p.stdout:
            self.record_loads += ", with messages"

    def report_record(self):
        windows = self.windows
        print()
        print("recording through proxy_pass")
        print('  upstream: a server in the same nginx answering "return 200", '
              "upstream")
        print("  keep-alive; each request a random /items/N of 1,000,000,000; "
              "windows")
        print("  of %d s (%d), each pairing the two cases (order alternating)"
              % (self.record_seconds, len(windows)))
        print()
        print("  %-6s %11s %7s %12s %7s %6s  %-21s %9s"
              % ("window", "proxy req/s", "p99 ms", "record req/s", "p99 ms",
                 "ratio", "cassette", "in flight"))
        # "in flight": interactions recorded in the window minus the
        # responses wrk counted; requests wrk had sent when it stopped are
        # answered and recorded, but not counted; 0 to one per connection is
        # expected
        odd_windows = 0
        for w in windows:
            extra = w["after"] - w["before"] - w["n"]
            flag = ""
            if extra < 0 or extra > CONNECTIONS:
                odd_windows += 1
                flag = " !"
            print("  %-6d %11.0f %7.2f %12.0f %7.2f %6.3f  %8d -> %-8d %9d%s"
                  % (w["w"], w["prps"], w["pp99"], w["rrps"], w["rp99"],
                     div(w["rrps"], w["prps"]), w["before"], w["after"],
                     extra, flag))

        proxy_med = median(w["prps"] for w in windows)
        proxy_p99 = median(w["pp99"] for w in windows)
        record_med = median(w["rrps"] for w in windows)
        record_p99 = median(w["rp99"] for w in windows)
        proxy, record = CASE["proxy"], CASE["record"]
        pr, rr = self.proxy_runs, self.record_runs

        print()
        print("  %-30s %10s %10s %10s %7s"
              % ("case", "req/s", "p99 ms", "vs proxy", "errors"))
        print("  %-30s %10.0f %10.2f %10.3f %7d"
              % (proxy.label, proxy_med, proxy_p99, 1, pr.bad + pr.errors))
        print("  %-30s %10.0f %10.2f %10.3f %7d"
              % (record.label, record_med, record_p99,
                 div(record_med, proxy_med), rr.bad + rr.errors))
        print("  (median of the windows; errors: non-2xx responses plus "
              "socket errors)")

        first, last = windows[0], windows[-1]
        growth = "%.3f" % div(last["rrps"], first["rrps"])
        proxy_growth = "%.3f" % div(last["prps"], first["prps"])
        # the same, each window's rate taken relative to its paired
        # proxy_pass run
        paired_growth = "%.3f" % div(div(last["rrps"], last["prps"]),
                                     div(first["rrps"], first["prps"]))

        print()
        self.verdict_line(record, {"record": record_med, "proxy": proxy_med},
                          {"record": Runs(rps=[w["rrps"] for w in windows]),
                           "proxy": Runs(rps=[w["prps"] for w in windows])},
                          "window")
        print("  %-16s %6s   target >= %s   %-6s  (record rate, last window "
              "/ first)" % ("last/first", growth, "%g" % MIN_GROWTH_RATIO,
                            verdict(float(growth) >= MIN_GROWTH_RATIO)))
        print("  %-16s first window %.0f req/s (cassette %d -> %d),"
              % ("", first["rrps"], first["before"], first["after"]))
        print("  %-16s last window %.0f req/s (cassette %d -> %d)"
              % ("", last["rrps"], last["before"], last["after"]))
        print("  %-16s same windows, proxy_pass alone: %s; record/proxy: %s"
              % ("", proxy_growth, paired_growth))
        if not 0.9 <= float(proxy_growth) <= 1.1:
            print("  note: proxy_pass alone changed by more than 10% between "
                  "the first")
            print("  and the last window, so the machine's speed changed; "
                  "record/proxy")
            print("  (the record rate relative to its paired proxy_pass run) "
                  "is the")
            print("  better measure of a fall")

        # CPU time per response: what each case costs, whatever else runs
        print()
        print("  CPU per response, in us: nginx (both workers, the upstream "
              "server")
        print("  included), wrk (both threads); others: % of the machine's "
              "CPU time")
        print("  that other processes used in the window")
        print("  %-6s %12s %7s %7s %12s %7s %7s"
              % ("window", "proxy nginx", "wrk", "others", "record nginx",
                 "wrk", "others"))
        row = "  %-6s %12.2f %7.2f %6.1f%% %12.2f %7.2f %6.1f%%"
        for w in windows:
            print(row % ((w["w"],) + w["pcpu"] + w["rcpu"]))
        med = [median(w["pcpu"][i] for w in windows) for i in range(3)] \
            + [median(w["rcpu"][i] for w in windows) for i in range(3)]
        cpu_ratio = div(med[0] + med[1], med[3] + med[4])
        nginx_ratio = div(med[0], med[3])
        wrk_share = div(100 * med[1], med[0] + med[1])
        others_med = median([w["pcpu"][2] for w in windows]
                            + [w["rcpu"][2] for w in windows])
        print(row % tuple(["median"] + med))
        print()
        print("  %-16s %6.3f   (CPU per response of proxy_pass over that of"
              % ("record/proxy CPU", cpu_ratio))
        print("  %-16s %6s    recording, nginx plus wrk: the req/s ratio when "
              "only" % ("", ""))
        print("  %-16s %6s    they use the CPUs); nginx alone: %.3f; wrk: "
              "%.0f%% of" % ("", "", nginx_ratio, wrk_share))
        print("  %-16s %6s    a proxy_pass response's CPU" % ("", ""))
        if others_med > 10:
            print("  WARNING: other processes used %g%% of the machine's CPU"
                  % others_med)
            print("  time in the median window: the req/s figures depend on "
                  "them")

        end = self.record_end
        print()
        print("  cassette: %d interactions, %d bytes (%.0f bytes per "
              "interaction)" % (end, self.record_bytes,
                                div(self.record_bytes, end)))
        print("  loaded back for replay (nginx -t): %s" % self.record_loads)
        if self.record_loads != "ok":
            lines = [l for l in self.record_load_out.splitlines()
                     if "syntax is ok" not in l
                     and "test is successful" not in l]
            for line in lines[:5]:
                print("    " + line)
        recorded = end - self.record_start
        if recorded > 0 and self.zone_end > self.zone_start:
            grew = self.zone_end - self.zone_start
            print("  shared memory: %d bytes per recorded interaction (the "
                  "zone pages" % (grew * 1024 // recorded))
            print("  in use grew by %d MB); %s bytes per interaction loaded "
                  "from the" % (grew // 1024, self.zone_per.get("100k", "?")))
            print("  100k cassette")
        print()
        print("  recorded in the windows: %d interactions" % recorded)
        print("  wrk counted:             %d responses (%d non-2xx, %d socket "
              "errors)" % (rr.responses, rr.bad, rr.errors))
        print("  difference:              %d, requests in flight when wrk "
              "stopped" % (recorded - rr.responses))
        print("                           (recorded, not counted; 0 to %d a "
              "window)" % CONNECTIONS)

        if recorded < rr.responses:
            print("  WARNING: %d responses that wrk counted are not in the "
                  "cassette" % (rr.responses - recorded))
        if odd_windows > 0:
            print("  WARNING: in %d windows (marked !) the interactions "
                  "recorded differ from wrk's responses by more than the "
                  "requests in flight" % odd_windows)
        if rr.bad > 0 or rr.errors > 0:
            print("  WARNING: recording answered %d non-2xx responses and had "
                  "%d socket errors" % (rr.bad, rr.errors))
        if self.record_items != end:
            print('  WARNING: the cassette has %d interactions begun but %d '
                  'ended by a "# recorded" line' % (self.record_items, end))
        if end < self.record_target:
            print("  WARNING: the cassette reached %d interactions, not %d"
                  % (end, self.record_target))
        if self.zone_full:
            print("  WARNING: the %d MB zone filled up during window %d; the "
                  "windows stopped there" % (self.zone_mb, len(windows)))
        log = read_text(self.path("error.log")).splitlines()
        skipped = sum(1 for l in log if re.search(r"mock: .* is not recorded",
                                                  l))
        if skipped > 0:
            print("  WARNING: the error log names %d requests that were not "
                  "recorded" % skipped)
        problems = [l for l in log
                    if re.search(r"\[(error|crit|alert|emerg)\]", l)]
        if problems:
            print()
            print("  the error log has %d errors; the first ones:"
                  % len(problems))
            for line in problems[:5]:
                print("    " + line)

    # --- report --------------------------------------------------------------

    def report_header(self):
        runs = ""
        if any(self.want(s) for s in list(ROUND_SECTIONS) + ["counters"]):
            runs = "; median of %d x %d s" % (self.rounds, self.seconds)
        version = subprocess.run([self.nginx, "-v"], capture_output=True,
                                 text=True)
        version = (version.stderr + version.stdout).strip()
        version = re.sub(r"^nginx version: ", "", version)
        print()
        print("ngx_http_mock_module benchmark")
        print("  %s, 2 workers, %d CPUs; wrk -t%d -c%d keep-alive%s"
              % (version, len(os.sched_getaffinity(0)), THREADS, CONNECTIONS,
                 runs))

    def report_memory(self):
        print()
        print("  shared memory per interaction (zone bytes / interactions, "
              "from the")
        print("  startup notice) against the raw response (header names and "
              "values")
        print("  plus body); target <= %gx raw + %d B"
              % (MAX_MEMORY_RATIO, MEMORY_SLACK))
        print()
        print("  %-10s %12s %12s %8s %12s"
              % ("cassette", "zone B/int", "raw B/int", "ratio", "verdict"))
        log = read_text(self.path("error.log")).splitlines()
        for name in ("10k", "100k"):
            stats = dict(l.split() for l in
                         read_text(self.path(name + ".stats")).splitlines())
            n = int(stats["interactions"])
            raw = "%.1f" % (int(stats["raw_bytes"]) / n)
            yaml = self.path(name + ".yaml")
            notice = [l for l in log if 'mock: "%s": ' % yaml in l]
            m = notice and re.search(r'": ([0-9]*) interactions in ([0-9]*) '
                                     r'bytes', notice[-1])
            if not m:
                print("  %-10s %12s %12s" % (name, "?", raw))
                print("  (no notice about %s in the error log)" % yaml)
                continue
            per = "%.1f" % (int(m.group(2)) / n)
            self.zone_per[name] = per
            ok = float(per) <= MAX_MEMORY_RATIO * float(raw) + MEMORY_SLACK
            print("  %-10s %12s %12s %7.3fx %12s"
                  % (name, per, raw, float(per) / float(raw), verdict(ok)))

        print()
        yaml_mb = os.path.getsize(self.path("100k.yaml")) / 1048576
        print("  loading 100,000 interactions (%.0f MB of YAML): %.2f s"
              % (yaml_mb, self.load_100k - self.load_none))
        print("  (nginx -t: %.3f s with the cassette, %.3f s without; median "
              "of 3)" % (self.load_100k, self.load_none))

    def run(self):
        self.setup()
        if self.want("counters"):
            self.measure_counters()

        main = [s for s in self.only if s != "counters"]
        rounds = {}
        if main:
            self.prepare_main()
            if self.want("replay"):
                print("timing nginx -t with and without the 100k cassette ...",
                      flush=True)
                self.load_none = self.time_test(self.path("load-none.conf"))
                self.load_100k = self.time_test(self.path("load-100k.conf"))
            self.start_main()
            for section in ROUND_SECTIONS:
                if self.want(section):
                    cases = [c for c in CASES if c.section == section]
                    rounds[section] = (cases, self.measure_rounds(cases))
            if self.want("record"):
                self.measure_record()

        # bytes per interaction in the zone, by cassette; the recording
        # report uses it too
        self.zone_per = {}
        self.report_header()
        for section, (cases, runs) in rounds.items():
            self.report_rounds(section, cases, runs)
            if section == "replay":
                self.report_memory()
        if self.want("record"):
            self.report_record()
        if self.want("counters"):
            self.report_counters()


def main():
    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    bench = None
    try:
        bench = Bench()
        bench.run()
        return 0
    except Fatal as e:
        sys.stdout.flush()
        print("bench.py: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        # a second signal must not cut the cleanup short
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if bench is not None:
            bench.cleanup()


if __name__ == "__main__":
    sys.exit(main())
