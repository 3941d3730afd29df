#!/usr/bin/env bash
# bench.sh: how fast ngx_http_mock_module replays, and what it costs.
#
# One nginx (2 workers, keep-alive, no access log) on 127.0.0.1 serves
# four cases, each measured with wrk over keep-alive connections:
#
#   return 200      the ceiling: "return 200" with the same 1 KiB JSON body
#                   and the same response headers as the recorded interaction
#   replay 1        that interaction, replayed from a 1-interaction cassette
#   replay 10k      a random /items/N of a 10,000-interaction cassette
#   replay 100k     a random /items/N of a 100,000-interaction cassette
#
# All cases use the same wrk Lua script (it builds "PREFIX/items/" plus a
# random number up to N; N is 1 for the first two), so the client does the
# same work in each.  Every case is warmed up, then the cases are run in
# interleaved rounds, each round in a different order, and the median of the
# rounds is reported.
#
# It also reports the shared memory used per interaction (from the module's
# notice at startup) next to the raw size of the recorded responses (header
# names and values plus body), and how long nginx takes to load the
# 100,000-interaction cassette ("nginx -t" with it, minus "nginx -t" without).
#
# Recording.  A second server in the same nginx, on another loopback port,
# stands in for the upstream: it answers every /items/N with the same
# "return 200", 1 KiB body and headers.  Two locations proxy to it over
# upstream keep-alive connections:
#
#   proxy_pass      plain proxy_pass, the ceiling; it adds the header that
#                   recording adds, so both send the same bytes
#   record          the same, with "mock_mode record" into a cassette that
#                   starts missing
#
# Each request asks for a random /items/N out of 1,000,000,000, so nearly
# every recorded interaction is new and the cassette and its index keep
# growing.  The two cases run in paired windows of BENCH_RECORD_SECONDS,
# the order alternating, until the cassette holds BENCH_RECORD_TARGET
# interactions (at least 3 windows).  Each window reports the recording
# rate and the cassette's size, so a rate that falls as the cassette grows
# shows.  After the windows, the interactions in the file (its "# recorded"
# lines) are checked against the 200 responses wrk counted, and the file is
# loaded back for replay with "nginx -t".
#
# Both cases send the same requests through the same upstream, and every
# process shares the machine's CPUs: nginx's two workers (the gateway and
# the upstream server in each), wrk's two threads, and whatever else
# runs.  So each window also reports the CPU time per response of nginx
# and of wrk (from /proc), and the share of the machine's CPU time that
# other processes took.  The ratio of the CPU times (proxy_pass over
# recording, nginx plus wrk) is what the req/s ratio is when only they use
# the CPUs.  A median window where other processes took over 10% of the
# machine is flagged: its req/s figures tell little.
#
# Sequence counters.  Without "mock_repeats on", identical requests get the
# recorded interactions one after another, counted per test session
# (mock_session) in the shared zone or, with mock_redis, in Redis.  Two
# more nginx instances, started together, serve the same two locations on
# one cassette of BENCH_SESSION_PLAYS (64) identical interactions of
# /items/1, each with the same 1 KiB JSON body:
#
#   /plain/         mock_repeats on: the first interaction answers every
#                   time, nothing is counted
#   /seq/           mock_session $http_x_test_id: each test session plays
#                   the interactions in order
#
# Instance Z counts in its shared zone.  Instance R has mock_redis, which
# applies to every location that counts, so it counts in a private
# redis-server started on a free loopback port.  Four cases: /plain/ and
# /seq/ on each instance.  /plain/ on Z and on R do the same work and
# should be equal; /seq/ is compared with /plain/ of its own instance.
#
# Every wrk thread numbers its requests and gives each run of 64 of them a
# new test session (X-Test-Id: RUN-THREAD-N), so every session makes
# exactly as many requests as it has interactions: no sequence runs out,
# and a non-2xx answer means that a counter went wrong.  All four cases
# send the header.  Before every run, the counters of both instances are
# reset through the admin API (every played request keeps a state in the
# zone until then) and Redis is emptied.  After each Redis run, the INCRs
# Redis executed are checked against the answered requests: a request
# that Redis did not count was counted in the zone instead.  This section
# runs first; its report comes last.
#
# Recorded interactions are indexed in the shared zone, which therefore
# gets an explicit size (mock_zone): room for the replay cassettes plus
# 4 x BENCH_RECORD_TARGET recorded interactions (at least 400,000).
# Untouched pages of the zone cost no memory.  The shared memory that
# recording takes is measured from the zone's pages in use (/proc/PID/smaps).
#
# Environment:
#   BENCH_SECONDS          seconds of each measured run (default 10)
#   BENCH_ROUNDS           interleaved rounds (default 3)
#   BENCH_WARMUP           seconds of warm-up per case (default 1)
#   BENCH_RECORD_SECONDS   seconds of each recording window (default 2)
#   BENCH_RECORD_TARGET    interactions the recorded cassette must reach
#                          (default 100000)
#   BENCH_SESSION_PLAYS    interactions in the sequence cassette, and
#                          requests per test session (default 64)
#   BENCH_ONLY             the sections to run, comma-separated: replay
#                          (return 200 and replay 1/10k/100k, memory,
#                          loading time), record, counters (default: all)
#   BENCH_PORT             port on 127.0.0.1 (default: a free one)
#   BENCH_UPSTREAM_PORT    port of the upstream server (default: a free one)
#   BENCH_REDIS_PORT       port of the private redis-server (default: a
#                          free one)
#   MOCK_MODULE            the module (default build/ngx_http_mock_module.so)
#   NGINX_BIN              nginx binary (default /usr/sbin/nginx)
#
# The targets are reported, not enforced: the exit status is non-zero only
# when the benchmark itself could not run.

set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
python=/usr/bin/python3
nginx=${NGINX_BIN:-/usr/sbin/nginx}
module=${MOCK_MODULE:-$top/build/ngx_http_mock_module.so}
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
warmup=${BENCH_WARMUP:-1}
record_seconds=${BENCH_RECORD_SECONDS:-2}
record_target=${BENCH_RECORD_TARGET:-100000}
session_plays=${BENCH_SESSION_PLAYS:-64}
only=${BENCH_ONLY:-replay,record,counters}
record_min_windows=3
record_max_windows=100
threads=2
connections=32

# targets
min_replay_ratio=0.9        # replay 1 / return 200
min_scale_ratio=0.9         # replay 100k / replay 1
max_memory_ratio=1.5        # zone bytes / raw bytes, per interaction ...
memory_slack=256            # ... plus this many bytes per interaction
min_record_ratio=0.75       # record / proxy_pass
min_growth_ratio=0.9        # record rate, last window / first window
min_zone_counter_ratio=0.9  # sequence, zone counters / mock_repeats on
min_redis_counter_ratio=0.5 # sequence, Redis counters / mock_repeats on

die() {
    echo "bench.sh: $*" >&2
    exit 1
}

# is section $1 (replay, record, counters) in BENCH_ONLY?
want() {
    [[ ",$only," == *",$1,"* ]]
}

for section in ${only//,/ }; do
    case $section in
        replay|record|counters) ;;
        *) die "BENCH_ONLY: unknown section \"$section\" (replay, record," \
               "counters)" ;;
    esac
done
want replay || want record || want counters \
    || die "BENCH_ONLY names no section (replay, record, counters)"

tools=("$nginx" wrk curl "$python")
if want counters; then
    tools+=(redis-server redis-cli)
fi
for tool in "${tools[@]}"; do
    command -v "$tool" > /dev/null || die "$tool not found"
done

case $module in
    /*) ;;
    *) module=$PWD/$module ;;
esac
[ -f "$module" ] || die "no module at $module (run make)"

for n in "$seconds" "$rounds" "$warmup" "$record_seconds" "$record_target" \
         "$session_plays"
do
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] \
        || die "BENCH_SECONDS, BENCH_ROUNDS, BENCH_WARMUP," \
               "BENCH_RECORD_SECONDS, BENCH_RECORD_TARGET and" \
               "BENCH_SESSION_PLAYS must be positive whole numbers"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mock-bench.XXXXXX")
pidfile=$tmp/nginx.pid
# the two instances of the sequence counters section
zpidfile=$tmp/counters-z.pid
rpidfile=$tmp/counters-r.pid
redis_pid=

# stops the nginx whose pid file is $1 (default: the main one)
stop_nginx() {
    local pid i file=${1:-$pidfile}

    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    kill -TERM "$pid" 2> /dev/null || return 0

    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2> /dev/null || return 0
        sleep 0.1
    done

    kill -KILL "$pid" 2> /dev/null || true
}

stop_redis() {
    local i

    [ -n "$redis_pid" ] || return 0
    kill -TERM "$redis_pid" 2> /dev/null || { redis_pid=; return 0; }

    for ((i = 0; i < 100; i++)); do
        kill -0 "$redis_pid" 2> /dev/null || { redis_pid=; return 0; }
        sleep 0.1
    done

    kill -KILL "$redis_pid" 2> /dev/null || true
    redis_pid=
}

cleanup() {
    stop_nginx
    stop_nginx "$zpidfile"
    stop_nginx "$rpidfile"
    stop_redis
    rm -rf "$tmp"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# every nginx of the run loads this copy, so a rebuild meanwhile changes
# nothing
cp "$module" "$tmp/ngx_http_mock_module.so"
module=$tmp/ngx_http_mock_module.so

# five distinct free ports on 127.0.0.1
read -r free1 free2 free3 free4 free5 < <("$python" -c 'import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
port=${BENCH_PORT:-$free1}
upstream_port=${BENCH_UPSTREAM_PORT:-$free2}
zport=$free3                # sequence counters: instance Z
rport=$free4                # and instance R
redis_port=${BENCH_REDIS_PORT:-$free5}
[ "$(printf '%s\n' "$port" "$upstream_port" "$zport" "$rport" "$redis_port" \
     | sort -u | wc -l)" = 5 ] \
    || die "BENCH_PORT, BENCH_UPSTREAM_PORT and BENCH_REDIS_PORT must differ" \
           "from each other and from $zport and $rport"

clock_ticks=$(getconf CLK_TCK)

# median of the numbers on stdin
median() {
    sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) print "nan";
              else if (NR % 2) print v[(NR + 1) / 2];
              else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# how far apart the numbers in file $1 are, in % of their median $2
spread_pct() {
    sort -g "$1" | awk -v m="$2" 'NR == 1 { lo = $1 } { hi = $1 }
                                  END { printf "%.0f", (hi - lo) / m * 100 }'
}

# seconds since the epoch, with microseconds
now() {
    echo "${EPOCHREALTIME/,/.}"
}

calc() {
    awk "BEGIN { printf \"$1\", $2 }"
}

# "ok" if "value op target" ($1 $2 $3) holds, else "MISSED"
verdict() {
    if awk "BEGIN { exit !($1 $2 $3) }"; then echo "ok"; else echo "MISSED"; fi
}

# requests/s, p99 in ms, non-2xx responses and socket errors of a wrk output
parse_wrk() {
    awk '
        /^Requests\/sec:/ { rps = $2 }
        $1 == "99%" {
            v = $2 + 0
            if ($2 ~ /us$/) v /= 1000
            else if ($2 ~ /ms$/) v += 0
            else if ($2 ~ /m$/) v *= 60000
            else if ($2 ~ /s$/) v *= 1000
            p99 = v
        }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        /Socket errors:/ {
            gsub(",", "")
            errors = $4 + $6 + $8 + $10
        }
        END { printf "%s %s %d %d\n", rps, p99, bad, errors }
    ' "$1"
}

# responses wrk counted ("N requests in ...")
wrk_responses() {
    awk '/ requests in / { print $1 }' "$1"
}

# CPU time in clock ticks, as /proc counts it: "NGINX WRK BUSY ALL", of
# the worker processes of the nginx whose pid file is $1 (default: the
# main one), of the children this shell has waited for (wrk), and of the
# whole machine (all its CPUs: busy, and busy plus idle)
cpu_ticks() {
    local master pid workers=0

    master=$(cat "${1:-$pidfile}")
    for pid in $(ps -o pid= --ppid "$master"); do
        workers=$((workers + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" \
                                   2> /dev/null || echo 0)))
    done
    echo "$workers $(awk '{ print $16 + $17 }' "/proc/$$/stat")" \
         "$(awk '$1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8 + $9
                               print busy, busy + $5 + $6 }' /proc/stat)"
}

# "NGINX_US WRK_US OTHERS_PCT" between two cpu_ticks outputs $1 and $2
# for $3 responses: CPU microseconds per response of nginx and of wrk,
# and the % of the machine's CPU time that every other process used
cpu_per_response() {
    awk -v a="$1" -v b="$2" -v n="$3" -v hz="$clock_ticks" 'BEGIN {
        split(a, x); split(b, y)
        nginx = y[1] - x[1]; wrk = y[2] - x[2]
        busy = y[3] - x[3]; all = y[4] - x[4]
        others = busy - nginx - wrk
        if (others < 0) others = 0
        if (n < 1) n = 1
        if (all < 1) all = 1
        printf "%.2f %.2f %.1f\n", nginx / hz * 1e6 / n, wrk / hz * 1e6 / n,
               others / all * 100
    }'
}

# the ratio of cases $1 and $2 within each round, where the two runs are
# close in time: lowest to highest
paired() {
    paste "$tmp/$1.rps" "$tmp/$2.rps" \
        | awk '{ print $1 / $2 }' | sort -g \
        | awk '{ v[NR] = $1 } END { printf "%.3f to %.3f", v[1], v[NR] }'
}

# kB of the mock zone in memory: the Pss of the zone's mapping (the one
# "/dev/zero" mapping of the zone's size) summed over nginx's processes,
# which counts each page in use once; $1: pid file, $2: zone MB (default:
# the main nginx's)
zone_kb() {
    local master pid

    master=$(cat "${1:-$pidfile}")
    for pid in "$master" $(ps -o pid= --ppid "$master"); do
        cat "/proc/$pid/smaps" 2> /dev/null || true
    done | awk -v size=$((${2:-$zone_mb} * 1024)) '
        /^[0-9a-f]+-[0-9a-f]+ / {
            zone = ($(NF - 1) == "/dev/zero" && $NF == "(deleted)")
            next
        }
        zone && $1 == "Size:" && $2 != size { zone = 0 }
        zone && $1 == "Pss:" { kb += $2 }
        END { print kb + 0 }'
}

# an nginx configuration: $1: file, $2: error log, $3: locations, $4: more
# of the http block, $5: pid file, $6: port (default: the main nginx's)
write_conf() {
    cat > "$1" <<EOF
load_module $module;

worker_processes 2;
pid ${5:-$pidfile};
error_log $2 notice;

events {
    worker_connections 1024;
}

http {
    access_log off;
    keepalive_timeout 60s;
    keepalive_requests 1000000;

    client_body_temp_path $tmp/temp/body;
    proxy_temp_path $tmp/temp/proxy;
    fastcgi_temp_path $tmp/temp/fastcgi;
    uwsgi_temp_path $tmp/temp/uwsgi;
    scgi_temp_path $tmp/temp/scgi;
${4:-}
    server {
        listen 127.0.0.1:${6:-$port};
$3
    }
}
EOF
}


# --- sequence counters -------------------------------------------------------

# instance Z counts sequences in its zone, instance R in Redis
counter_cases=(zplain zseq rplain rseq)
declare -A counter_label=(
    [zplain]="Z: replay, mock_repeats on"
    [zseq]="Z: sequence, zone counters"
    [rplain]="R: replay, mock_repeats on"
    [rseq]="R: sequence, Redis counters"
)
declare -A counter_port=([zplain]=$zport [zseq]=$zport
                         [rplain]=$rport [rseq]=$rport)
declare -A counter_pidfile=([zplain]=$zpidfile [zseq]=$zpidfile
                            [rplain]=$rpidfile [rseq]=$rpidfile)
declare -A counter_path=([zplain]=/plain/items/1 [zseq]=/seq/items/1
                         [rplain]=/plain/items/1 [rseq]=/seq/items/1)

# results, over all rounds
declare -A counter_bad=() counter_errors=() counter_responses=()
# shared memory per sequence request, from the warm-up (bytes)
declare -A counter_zone_per=()
# lines of the error logs of Z and R before the measured runs
declare -A counter_log_start=()
redis_evals_total=0         # INCRs Redis executed in the R sequence runs
redis_keys_max=0            # keys in Redis after such a run, at most
zone_peak_z=0               # kB of the zones touched at the end
zone_peak_r=0

# each run of a case may keep a state of about 256 bytes per request in
# the zone until the next reset: room for 190,000 requests a second
counters_zone_mb=$((64 + 48 * (seconds > warmup ? seconds : warmup)))

rcli() {
    redis-cli -h 127.0.0.1 -p "$redis_port" "$@"
}

# the INCRs Redis executed since its statistics were reset
redis_evals() {
    rcli INFO commandstats | tr -d '\r' \
        | awk -F '[:=,]' '$1 == "cmdstat_incr" { n = $3 } END { print n + 0 }'
}

start_redis() {
    local i

    redis-server --bind 127.0.0.1 --port "$redis_port" --save "" \
        --appendonly no --dir "$tmp" --logfile "$tmp/redis.log" \
        > /dev/null 2>&1 &
    redis_pid=$!

    # the Redis on the port must be this one: the benchmark empties it
    for ((i = 0; i < 100; i++)); do
        kill -0 "$redis_pid" 2> /dev/null || break
        if rcli INFO server 2> /dev/null | tr -d '\r' \
                | grep -qx "process_id:$redis_pid"
        then
            return 0
        fi
        sleep 0.1
    done

    tail -5 "$tmp/redis.log" >&2 || true
    die "redis-server did not start on 127.0.0.1:$redis_port"
}

# $1: config, $2: error log, $3: port
start_counters_nginx() {
    local i

    "$nginx" -p "$tmp" -e "$2" -c "$1" \
        || { tail -5 "$2" >&2; die "nginx did not start with $1"; }

    for ((i = 0; i < 100; i++)); do
        curl -s -o /dev/null "http://127.0.0.1:$3/plain/items/1" && return 0
        sleep 0.1
    done

    die "nginx with $1 does not answer on 127.0.0.1:$3"
}

# the sequence cassette $2: the interaction of cassette $1, session_plays
# times over
repeat_interaction() {
    awk -v n="$session_plays" '
        $0 == "interactions:" { next }
        /^version:/ { version = $0; next }
        { one = one $0 "\n" }
        END {
            print "interactions:"
            for (i = 0; i < n; i++) printf "%s", one
            print version
        }' "$1" > "$2"
}

# on port $1, /plain/ answers 200 with the 1 KiB body, and the test session
# "check" gets session_plays such answers from /seq/, then the 404 of a
# sequence that has run out
check_counters() {
    local base=http://127.0.0.1:$1 code size i args=()

    read -r code size < <(curl -s -o /dev/null \
                               -w '%{http_code} %{size_download}\n' \
                               "$base/plain/items/1")
    [ "$code" = 200 ] && [ "$size" = 1024 ] \
        || die "GET $base/plain/items/1: status $code, $size bytes of body" \
               "(expected 200, 1024)"

    for ((i = 0; i <= session_plays; i++)); do
        args+=(-o /dev/null "$base/seq/items/1")
    done

    curl -s -H "X-Test-Id: check" -w '%{http_code} %{size_download}\n' \
            "${args[@]}" \
        | awk -v n="$session_plays" '
            NR <= n && $0 != "200 1024" { bad = 1 }
            NR == n + 1 && $1 != 404 { bad = 1 }
            END { exit !(NR == n + 1 && !bad) }' \
        || die "GET $base/seq/items/1 in one test session: expected" \
               "$session_plays answers 200 with 1024 bytes of body, then 404"
}

# forgets the counters of both instances, and empties Redis
reset_counters() {
    local p code

    for p in "$zport" "$rport"; do
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
                    "http://127.0.0.1:$p/_mock/reset")
        [ "$code" = 200 ] \
            || die "POST http://127.0.0.1:$p/_mock/reset: status $code"
    done

    rcli FLUSHALL > /dev/null
    rcli CONFIG RESETSTAT > /dev/null
}

# $1: case, $2: seconds, $3: output file, $4: name of the run (the start of
# its session names)
run_counters_wrk() {
    wrk -t"$threads" -c"$connections" -d"$2"s --latency \
        -s "$tmp/sessions.lua" "http://127.0.0.1:${counter_port[$1]}/" \
        -- "${counter_path[$1]}" "$session_plays" "$4" \
        > "$3" 2>&1 \
        || { cat "$3" >&2; die "wrk failed on case $1"; }
}

measure_counters() {
    local c r k n rps p99 nbad nerr before after locations

    echo "sequence counters: generating a cassette of $session_plays" \
         "identical interactions ..."

    mkdir -p "$tmp/temp"
    "$python" "$top/scripts/gen-cassette.py" --interactions 1 \
        --prefix /plain --output "$tmp/plain-1.yaml"
    "$python" "$top/scripts/gen-cassette.py" --interactions 1 \
        --prefix /seq --output "$tmp/seq-1.yaml"
    repeat_interaction "$tmp/plain-1.yaml" "$tmp/plain.yaml"
    repeat_interaction "$tmp/seq-1.yaml" "$tmp/seq.yaml"

cat > "$tmp/sessions.lua" <<'EOF'
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
EOF

    locations="
        location /plain/ {
            mock_replay $tmp/plain.yaml;
            mock_repeats on;
        }

        location /seq/ {
            mock_replay $tmp/seq.yaml;
            mock_session \$http_x_test_id;
        }

        location /_mock {
            allow 127.0.0.1;
            deny all;
            mock_admin;
        }"

    write_conf "$tmp/counters-z.conf" "$tmp/counters-z.log" "$locations" "
    mock_zone zone=counters:${counters_zone_mb}m;
" "$zpidfile" "$zport"

    write_conf "$tmp/counters-r.conf" "$tmp/counters-r.log" "$locations" "
    mock_zone zone=counters:${counters_zone_mb}m;
    mock_redis 127.0.0.1:$redis_port prefix=bench: timeout=500ms ttl=1h;
" "$rpidfile" "$rport"

    echo "starting redis-server on 127.0.0.1:$redis_port, nginx Z on" \
         "127.0.0.1:$zport and nginx R (mock_redis) on 127.0.0.1:$rport" \
         "(zones of $counters_zone_mb MB) ..."

    start_redis
    start_counters_nginx "$tmp/counters-z.conf" "$tmp/counters-z.log" "$zport"
    start_counters_nginx "$tmp/counters-r.conf" "$tmp/counters-r.log" "$rport"

    # Z must not use Redis, R must
    reset_counters
    check_counters "$zport"
    n=$(rcli DBSIZE)
    [ "$n" = 0 ] || die "nginx Z (no mock_redis) left $n keys in Redis"
    check_counters "$rport"
    n=$(rcli DBSIZE)
    [ "$n" = 1 ] || die "nginx R (mock_redis) left $n keys in Redis" \
                        "for one test session (expected 1)"

    # the checks end with an "already played" warning, which is not news
    counter_log_start[z]=$(wc -l < "$tmp/counters-z.log")
    counter_log_start[r]=$(wc -l < "$tmp/counters-r.log")

    # the warm-up also tells the zone memory a sequence request keeps
    echo "warming up ($warmup s per case) ..."
    for c in "${counter_cases[@]}"; do
        reset_counters
        before=$(zone_kb "${counter_pidfile[$c]}" "$counters_zone_mb")
        run_counters_wrk "$c" "$warmup" "$tmp/warmup.out" "w$c"
        after=$(zone_kb "${counter_pidfile[$c]}" "$counters_zone_mb")
        n=$(wrk_responses "$tmp/warmup.out")
        if [ "${c#?}" = seq ] && [ "$n" -gt 0 ]; then
            counter_zone_per[$c]=$(calc %.0f "($after - $before) * 1024 / $n")
        fi
    done

    echo "measuring: $rounds rounds x $seconds s per case, wrk -t$threads" \
         "-c$connections, keep-alive; counters reset before every run ..."

    for c in "${counter_cases[@]}"; do
        counter_bad[$c]=0
        counter_errors[$c]=0
        counter_responses[$c]=0
        : > "$tmp/$c.rps"
        : > "$tmp/$c.p99"
    done

    for ((r = 0; r < rounds; r++)); do
        for ((k = 0; k < ${#counter_cases[@]}; k++)); do
            c=${counter_cases[(k + r) % ${#counter_cases[@]}]}
            reset_counters
            run_counters_wrk "$c" "$seconds" "$tmp/wrk.out" "r$((r + 1))$c"
            read -r rps p99 nbad nerr < <(parse_wrk "$tmp/wrk.out")
            [ -n "$rps" ] \
                || { cat "$tmp/wrk.out" >&2; die "no result from wrk"; }
            n=$(wrk_responses "$tmp/wrk.out")
            echo "$rps" >> "$tmp/$c.rps"
            echo "$p99" >> "$tmp/$c.p99"
            counter_bad[$c]=$((counter_bad[$c] + nbad))
            counter_errors[$c]=$((counter_errors[$c] + nerr))
            counter_responses[$c]=$((counter_responses[$c] + n))
            if [ "$c" = rseq ]; then
                redis_evals_total=$((redis_evals_total + $(redis_evals)))
                n=$(rcli DBSIZE)
                [ "$n" -le "$redis_keys_max" ] || redis_keys_max=$n
            fi
            printf '  round %d  %-30s %10.0f req/s  p99 %7.2f ms' \
                $((r + 1)) "${counter_label[$c]}" "$rps" "$p99"
            if [ "$nbad" -gt 0 ]; then
                printf '  %d non-2xx!' "$nbad"
            fi
            printf '\n'
        done
    done

    zone_peak_z=$(zone_kb "$zpidfile" "$counters_zone_mb")
    zone_peak_r=$(zone_kb "$rpidfile" "$counters_zone_mb")

    stop_nginx "$zpidfile"
    stop_nginx "$rpidfile"
    stop_redis
}

report_header() {
    local runs=

    if want replay || want counters; then
        runs="; median of $rounds x $seconds s"
    fi

    echo
    echo "ngx_http_mock_module benchmark"
    echo "  $("$nginx" -v 2>&1 | sed 's/^nginx version: //'), 2 workers," \
         "$(nproc) CPUs; wrk -t$threads -c$connections keep-alive$runs"
}

# the warnings and errors of error log $1 after its first $2 lines
log_problems() {
    tail -n +$(($2 + 1)) "$1" \
        | grep -E '\[(warn|error|crit|alert|emerg)\]' || true
}

report_counters() {
    local c noisy=0 ratio problems name
    local -A crps=() cp99=() cspread=()

    for c in "${counter_cases[@]}"; do
        crps[$c]=$(median < "$tmp/$c.rps")
        cp99[$c]=$(median < "$tmp/$c.p99")
        cspread[$c]=$(spread_pct "$tmp/$c.rps" "${crps[$c]}")
        [ "${cspread[$c]}" -le 10 ] || noisy=1
    done

    echo
    echo "sequence counters"
    echo "  two nginx instances of their own, 2 workers each, side by side: Z"
    echo "  counts sequences in its shared zone, R in Redis (mock_redis; a private"
    echo "  redis-server $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')" \
         "on 127.0.0.1:$redis_port).  Both replay one cassette of"
    echo "  $session_plays identical interactions (GET /items/1, 1 KiB JSON): /plain/" \
         "with"
    echo "  mock_repeats on, /seq/ as a sequence per test session (X-Test-Id)."
    echo "  Each test session makes exactly $session_plays requests; the counters are"
    echo "  reset before every run; median of $rounds x $seconds s"
    echo
    printf '  %-30s %10s %8s %10s %10s %8s %7s\n' case req/s spread "p99 ms" \
        "vs plain" non-2xx errors
    for c in "${counter_cases[@]}"; do
        case $c in
            z*) ratio=$(calc %.6f "${crps[$c]} / ${crps[zplain]}") ;;
            r*) ratio=$(calc %.6f "${crps[$c]} / ${crps[rplain]}") ;;
        esac
        printf '  %-30s %10.0f %7s%% %10.2f %10.3f %8d %7d\n' \
            "${counter_label[$c]}" "${crps[$c]}" "${cspread[$c]}" \
            "${cp99[$c]}" "$ratio" "${counter_bad[$c]}" \
            "${counter_errors[$c]}"
    done
    echo "  (vs plain: against mock_repeats on, on the same instance; non-2xx:"
    echo "  responses, all rounds; errors: socket errors, all rounds)"
    if [ "$noisy" = 1 ]; then
        echo "  note: rounds of the same case differ by more than 10%; the ratios"
        echo "  below are only as good as that"
    fi

    echo
    ratio=$(calc %.3f "${crps[zseq]} / ${crps[zplain]}")
    printf '  %-16s %6s   target >= %s   %-6s  (by round: %s)\n' \
        "zone/plain" "$ratio" "$min_zone_counter_ratio" \
        "$(verdict "$ratio" '>=' "$min_zone_counter_ratio")" \
        "$(paired zseq zplain)"
    ratio=$(calc %.3f "${crps[rseq]} / ${crps[rplain]}")
    printf '  %-16s %6s   target >= %s   %-6s  (by round: %s)\n' \
        "redis/plain" "$ratio" "$min_redis_counter_ratio" \
        "$(verdict "$ratio" '>=' "$min_redis_counter_ratio")" \
        "$(paired rseq rplain)"
    ratio=$(calc %.3f "${crps[rplain]} / ${crps[zplain]}")
    printf '  %-16s %6s   (the same work on both instances; by round: %s)\n' \
        "plain R/Z" "$ratio" "$(paired rplain zplain)"
    if awk "BEGIN { exit !($ratio < 0.9 || $ratio > 1.1) }"; then
        echo "  note: /plain/ differs by more than 10% between the instances," \
             "which do the same work there"
    fi

    echo
    printf '  Redis executed %d INCRs for the %d answers of the R sequence runs\n' \
        "$redis_evals_total" "${counter_responses[rseq]}"
    printf '  (at most %d more: requests in flight when wrk stopped); at most\n' \
        "$((rounds * connections))"
    printf '  %d keys after a run (about one per test session begun)\n' \
        "$redis_keys_max"
    printf '  shared memory kept until a reset, per sequence request: Z %s' \
        "${counter_zone_per[zseq]:-?}"
    printf ' bytes,\n  R %s bytes (from the zone pages in use after the warm-up),' \
        "${counter_zone_per[rseq]:-?}"
    printf ' so Z\n  takes %.0f MB a second at its rate above\n' \
        "$(calc %.6f "${counter_zone_per[zseq]:-0} * ${crps[zseq]} / 1048576")"
    printf '  zone pages touched (what the largest run needed): Z %d MB, R %d MB,\n' \
        $((zone_peak_z / 1024)) $((zone_peak_r / 1024))
    printf '  of %d MB each\n' "$counters_zone_mb"

    for c in zseq rseq; do
        if [ "${counter_bad[$c]}" -gt 0 ]; then
            echo "  WARNING: ${counter_label[$c]}: ${counter_bad[$c]} requests" \
                 "were not answered from the cassette (non-2xx): test sessions" \
                 "ran out of interactions, so a counter went wrong"
        fi
    done
    for c in "${counter_cases[@]}"; do
        if [ "${counter_errors[$c]}" -gt 0 ]; then
            echo "  WARNING: ${counter_label[$c]}: ${counter_errors[$c]}" \
                 "socket errors"
        fi
    done
    if [ "$redis_evals_total" -lt "${counter_responses[rseq]}" ]; then
        echo "  WARNING: Redis counted $((counter_responses[rseq] - redis_evals_total))" \
             "fewer requests than R answered: those were counted in the zone"
    elif [ "$redis_evals_total" -gt \
           $((counter_responses[rseq] + rounds * connections)) ]; then
        echo "  WARNING: Redis counted more requests than R answered, beyond" \
             "those in flight"
    fi
    for c in $zone_peak_z $zone_peak_r; do
        if [ "$c" -ge $((counters_zone_mb * 1024 * 9 / 10)) ]; then
            echo "  WARNING: a zone is 90% full or more; counters that do not"
            echo "  fit are lost, and their test sessions start over"
            break
        fi
    done

    for name in z r; do
        problems=$(log_problems "$tmp/counters-$name.log" \
                                "${counter_log_start[$name]}")
        if [ -n "$problems" ]; then
            echo
            echo "  the error log of nginx ${name^} has $(wc -l <<< "$problems")" \
                 "warnings and errors since the runs began; the first ones:"
            head -5 <<< "$problems" | sed 's/^/    /'
        fi
    done
    # (no background saves here, so its advice on overcommit does not apply)
    problems=$(grep -E '# WARNING' "$tmp/redis.log" | grep -v overcommit || true)
    if [ -n "$problems" ]; then
        echo
        echo "  redis-server warned:"
        head -5 <<< "$problems" | sed 's/^[0-9]*:[A-Z] [^#]*# /    /'
    fi
}

if want counters; then
    measure_counters
fi

# the other sections need the main nginx
if ! want replay && ! want record; then
    report_header
    report_counters
    exit 0
fi


# --- cassettes ---------------------------------------------------------------

echo "generating cassettes in $tmp ..."

"$python" "$top/scripts/gen-cassette.py" --interactions 1 --prefix /one \
    --output "$tmp/one.yaml" --stats "$tmp/one.stats" \
    --return-conf "$tmp/return.conf"
"$python" "$top/scripts/gen-cassette.py" --interactions 10000 --prefix /10k \
    --output "$tmp/10k.yaml" --stats "$tmp/10k.stats"
"$python" "$top/scripts/gen-cassette.py" --interactions 100000 \
    --prefix /100k --output "$tmp/100k.yaml" --stats "$tmp/100k.stats"

stat_of() {
    awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# the zone: twice the YAML of the replay cassettes (they take less), and
# 5 KiB for each interaction that may be recorded: 4 x the target, or
# 400,000 for a small target (the windows may overshoot it)
replay_yaml=$(cat "$tmp/one.yaml" "$tmp/10k.yaml" "$tmp/100k.yaml" | wc -c)
record_room=$((4 * (record_target > 100000 ? record_target : 100000)))
zone_mb=$(( (64 * 1048576 + 2 * replay_yaml + record_room * 5120) / 1048576 ))


# --- nginx configuration -----------------------------------------------------

mkdir -p "$tmp/temp"

write_conf "$tmp/nginx.conf" "$tmp/error.log" "
        location = /return/items/1 {
            include $tmp/return.conf;
        }

        location /one/ {
            mock_replay $tmp/one.yaml;
            mock_repeats on;
        }

        location /10k/ {
            mock_replay $tmp/10k.yaml;
            mock_repeats on;
        }

        location /100k/ {
            mock_replay $tmp/100k.yaml;
            mock_repeats on;
        }

        location /proxy/ {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            add_header X-Mock record;
        }

        location /record/ {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            mock_replay $tmp/record.yaml;
            mock_mode record;
        }" "
    mock_zone zone=mock:${zone_mb}m;

    upstream backend {
        server 127.0.0.1:$upstream_port;
        keepalive 32;
    }

    # the upstream of /proxy/ and /record/
    server {
        listen 127.0.0.1:$upstream_port;

        location / {
            include $tmp/return.conf;
        }
    }
"

write_conf "$tmp/load-100k.conf" "$tmp/load.log" "
        location /100k/ {
            mock_replay $tmp/100k.yaml;
            mock_repeats on;
        }"

write_conf "$tmp/load-none.conf" "$tmp/load.log" "
        location / {
            return 204;
        }"


# --- loading time --------------------------------------------------------------

# seconds "nginx -t" takes on config $1 (median of 3 runs)
time_test() {
    local i t0 t1

    for i in 1 2 3; do
        t0=$(now)
        "$nginx" -q -t -p "$tmp" -e "$tmp/load.log" -c "$1" \
            || die "nginx -t failed on $1 (see above)"
        t1=$(now)
        calc "%.6f\n" "$t1 - $t0"
    done | median
}

if want replay; then
    echo "timing nginx -t with and without the 100k cassette ..."
    load_none=$(time_test "$tmp/load-none.conf")
    load_100k=$(time_test "$tmp/load-100k.conf")
fi


# --- start -----------------------------------------------------------------------

echo "starting nginx on 127.0.0.1:$port (upstream on 127.0.0.1:$upstream_port," \
     "mock zone ${zone_mb} MB) ..."

"$nginx" -p "$tmp" -e "$tmp/error.log" -c "$tmp/nginx.conf" \
    || { tail -5 "$tmp/error.log" >&2; die "nginx did not start"; }

for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null "http://127.0.0.1:$port/return/items/1" && break
    sleep 0.1
done

base=http://127.0.0.1:$port

# every case must answer 200 with the 1 KiB body
check() {
    local code size

    read -r code size < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' \
                                "$base$1")
    [ "$code" = 200 ] && [ "$size" = 1024 ] \
        || die "GET $1: status $code, $size bytes of body (expected 200, 1024)"
}

for path in /return/items/1 /one/items/1 /10k/items/1 /10k/items/10000 \
            /100k/items/1 /100k/items/100000 /proxy/items/1 /record/items/1; do
    check "$path"
done

# interactions in the recorded cassette: its "# recorded <time>" lines
# (the file's first line, "# recorded by nginx ...", is not one)
recorded() {
    [ -f "$tmp/record.yaml" ] || { echo 0; return; }
    grep -c '^# recorded [0-9]' "$tmp/record.yaml" || true
}

# the same, once requests still in nginx when wrk stopped are done
recorded_settled() {
    local n m

    n=$(recorded)
    while sleep 0.2; m=$(recorded); [ "$m" != "$n" ]; do
        n=$m
    done
    echo "$n"
}

n=$(recorded_settled)
[ "$n" = 1 ] || die "GET /record/items/1 left $n interactions in" \
                    "$tmp/record.yaml (expected 1)"

# the ceiling must send what the replay sends (except Date)
headers() {
    curl -s -D - -o "$tmp/$2.body" "$base$1" | tr -d '\r' \
        | grep -iv '^date:' | sort
    cat "$tmp/$2.body"
}

if ! diff <(headers /return/items/1 return) <(headers /one/items/1 one) \
        > "$tmp/response.diff"
then
    echo "note: \"return 200\" and the replay answer differently:"
    sed 's/^/    /' "$tmp/response.diff"
fi

# and proxy_pass what recording sends, its header included
if ! diff <(headers /proxy/items/2 proxy) <(headers /record/items/2 record) \
        > "$tmp/response.diff"
then
    echo "note: proxy_pass and recording answer differently:"
    sed 's/^/    /' "$tmp/response.diff"
fi


# --- wrk ---------------------------------------------------------------------------

cat > "$tmp/items.lua" <<'EOF'
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
EOF

cases=(return one 10k 100k)
declare -A prefix=([return]=/return [one]=/one [10k]=/10k [100k]=/100k
                   [proxy]=/proxy [record]=/record)
declare -A count=([return]=1 [one]=1 [10k]=10000 [100k]=100000
                  [proxy]=1000000000 [record]=1000000000)
declare -A label=(
    [return]="return 200 (ceiling)"
    [one]="replay, 1 interaction"
    [10k]="replay, 10,000 interactions"
    [100k]="replay, 100,000 interactions"
    [proxy]="proxy_pass (ceiling)"
    [record]="proxy_pass + mock_mode record"
)

# $1: case, $2: seconds, $3: output file
run_wrk() {
    wrk -t"$threads" -c"$connections" -d"$2"s --latency \
        -s "$tmp/items.lua" "$base/" -- "${prefix[$1]}" "${count[$1]}" \
        > "$3" 2>&1 \
        || { cat "$3" >&2; die "wrk failed on case $1"; }
}

if want replay; then
    echo "warming up ($warmup s per case) ..."
    for c in "${cases[@]}"; do
        run_wrk "$c" "$warmup" "$tmp/warmup.out"
    done

    echo "measuring: $rounds rounds x $seconds s per case, wrk -t$threads" \
         "-c$connections, keep-alive ..."

    declare -A bad=() errors=()
    for c in "${cases[@]}"; do
        bad[$c]=0
        errors[$c]=0
        : > "$tmp/$c.rps"
        : > "$tmp/$c.p99"
    done

    for ((r = 0; r < rounds; r++)); do
        for ((k = 0; k < ${#cases[@]}; k++)); do
            c=${cases[(k + r) % ${#cases[@]}]}
            run_wrk "$c" "$seconds" "$tmp/wrk.out"
            read -r rps p99 nbad nerr < <(parse_wrk "$tmp/wrk.out")
            [ -n "$rps" ] || { cat "$tmp/wrk.out" >&2; die "no result from wrk"; }
            echo "$rps" >> "$tmp/$c.rps"
            echo "$p99" >> "$tmp/$c.p99"
            bad[$c]=$((bad[$c] + nbad))
            errors[$c]=$((errors[$c] + nerr))
            printf '  round %d  %-30s %10.0f req/s  p99 %7.2f ms\n' \
                $((r + 1)) "${label[$c]}" "$rps" "$p99"
        done
    done
fi


# --- recording ---------------------------------------------------------------------

if want record; then
    echo "warming up proxy_pass and recording ($warmup s each) ..."
    for c in proxy record; do
        run_wrk "$c" "$warmup" "$tmp/warmup.out"
    done

    record_start=$(recorded_settled)
    zone_start=$(zone_kb)

    echo "recording: proxy_pass and proxy_pass + mock_mode record in paired" \
         "windows of $record_seconds s, until the cassette holds" \
         "$record_target interactions ..."

    # one line per window:
    #   window proxy_rps proxy_p99 record_rps record_p99 cassette_before
    #   cassette_after record_responses, then for proxy and for record:
    #   nginx_us wrk_us others_pct (CPU per response; others' share)
    : > "$tmp/windows"
    record_bad=0
    record_errors=0
    proxy_bad=0
    proxy_errors=0
    record_responses=0
    zone_full=0

    for ((w = 1; w <= record_max_windows; w++)); do
        if ((w % 2)); then order=(proxy record); else order=(record proxy); fi

        for c in "${order[@]}"; do
            [ "$c" = record ] && before=$(recorded_settled)
            ticks0=$(cpu_ticks)
            run_wrk "$c" "$record_seconds" "$tmp/wrk.out"
            ticks1=$(cpu_ticks)
            read -r rps p99 nbad nerr < <(parse_wrk "$tmp/wrk.out")
            [ -n "$rps" ] || { cat "$tmp/wrk.out" >&2; die "no result from wrk"; }
            cpu=$(cpu_per_response "$ticks0" "$ticks1" \
                      "$(wrk_responses "$tmp/wrk.out")")

            if [ "$c" = proxy ]; then
                proxy_rps=$rps proxy_p99=$p99 proxy_cpu=$cpu
                proxy_bad=$((proxy_bad + nbad))
                proxy_errors=$((proxy_errors + nerr))
                printf '  window %-3d %-30s %10.0f req/s  p99 %7.2f ms\n' \
                    "$w" "${label[$c]}" "$rps" "$p99"
            else
                after=$(recorded_settled)
                responses=$(wrk_responses "$tmp/wrk.out")
                record_rps=$rps record_p99=$p99 record_n=$responses
                record_cpu=$cpu
                record_responses=$((record_responses + responses))
                record_bad=$((record_bad + nbad))
                record_errors=$((record_errors + nerr))
                printf '  window %-3d %-30s %10.0f req/s  p99 %7.2f ms' \
                    "$w" "${label[$c]}" "$rps" "$p99"
                printf '  cassette %d -> %d\n' "$before" "$after"
            fi
        done

        echo "$w $proxy_rps $proxy_p99 $record_rps $record_p99 $before $after" \
             "$record_n $proxy_cpu $record_cpu" >> "$tmp/windows"

        if grep -q 'mock: zone is full' "$tmp/error.log"; then
            zone_full=1
            break
        fi

        [ "$w" -ge "$record_min_windows" ] && [ "$after" -ge "$record_target" ] \
            && break
    done

    record_end=$(recorded_settled)
    zone_end=$(zone_kb)
    record_bytes=$(stat -c %s "$tmp/record.yaml")
    # interactions begun in the file, complete or not
    record_items=$(grep -c '^- request:' "$tmp/record.yaml" || true)

    # the recorded cassette must load back for replay
    write_conf "$tmp/load-record.conf" "$tmp/load.log" "
            location /record/ {
                mock_replay $tmp/record.yaml;
            }"

    record_loads=ok
    "$nginx" -t -p "$tmp" -e "$tmp/load.log" -c "$tmp/load-record.conf" \
        > "$tmp/load-record.out" 2>&1 || record_loads=failed
    if grep -q 'mock:' "$tmp/load-record.out"; then
        record_loads="$record_loads, with messages"
    fi
fi


# --- report ------------------------------------------------------------------------

# bytes per interaction in the zone, by cassette; the recording report
# uses it too
declare -A zone_per=()

report_header

if want replay; then
    declare -A rps=() p99=() spread=()
    noisy=0
    for c in "${cases[@]}"; do
        rps[$c]=$(median < "$tmp/$c.rps")
        p99[$c]=$(median < "$tmp/$c.p99")
        spread[$c]=$(spread_pct "$tmp/$c.rps" "${rps[$c]}")
        [ "${spread[$c]}" -le 10 ] || noisy=1
    done

    echo
    printf '  %-30s %10s %8s %10s %10s %7s\n' case req/s spread "p99 ms" \
        "vs return" errors
    for c in "${cases[@]}"; do
        printf '  %-30s %10.0f %7s%% %10.2f %10.3f %7d\n' "${label[$c]}" \
            "${rps[$c]}" "${spread[$c]}" "${p99[$c]}" \
            "$(calc %.6f "${rps[$c]} / ${rps[return]}")" \
            $((bad[$c] + errors[$c]))
    done
    echo "  (spread: slowest to fastest round, in % of the median; errors:"
    echo "  non-2xx responses plus socket errors, all rounds)"
    if [ "$noisy" = 1 ]; then
        echo "  note: rounds of the same case differ by more than 10%; the ratios"
        echo "  below are only as good as that (more BENCH_ROUNDS or BENCH_SECONDS"
        echo "  help, as does a machine with more CPUs than wrk and nginx use)"
    fi

    replay_ratio=$(calc %.3f "${rps[one]} / ${rps[return]}")
    scale_ratio=$(calc %.3f "${rps[100k]} / ${rps[one]}")

    echo
    printf '  %-16s %6s   target >= %s   %-6s  (by round: %s)\n' "replay/return" \
        "$replay_ratio" "$min_replay_ratio" \
        "$(verdict "$replay_ratio" '>=' "$min_replay_ratio")" "$(paired one return)"
    printf '  %-16s %6s   target >= %s   %-6s  (by round: %s)\n' "100k/1" \
        "$scale_ratio" "$min_scale_ratio" \
        "$(verdict "$scale_ratio" '>=' "$min_scale_ratio")" "$(paired 100k one)"

    echo
    echo "  shared memory per interaction (zone bytes / interactions, from the"
    echo "  startup notice) against the raw response (header names and values"
    echo "  plus body); target <= ${max_memory_ratio}x raw + $memory_slack B"
    echo
    printf '  %-10s %12s %12s %8s %12s\n' cassette "zone B/int" "raw B/int" \
        ratio verdict
    for c in 10k 100k; do
        n=$(stat_of "$tmp/$c.stats" interactions)
        raw=$(calc %.1f "$(stat_of "$tmp/$c.stats" raw_bytes) / $n")
        line=$(grep -F "mock: \"$tmp/$c.yaml\": " "$tmp/error.log" | tail -1 || true)
        zone=$(sed -n 's/.*": \([0-9]*\) interactions in \([0-9]*\) bytes.*/\2/p' \
               <<< "$line")
        if [ -z "$zone" ]; then
            printf '  %-10s %12s %12s\n' "$c" "?" "$raw"
            echo "  (no notice about $tmp/$c.yaml in the error log)"
            continue
        fi
        per=$(calc %.1f "$zone / $n")
        zone_per[$c]=$per
        printf '  %-10s %12s %12s %7.3fx %12s\n' "$c" "$per" "$raw" \
            "$(calc %.6f "$per / $raw")" \
            "$(verdict "$per" '<=' "$max_memory_ratio * $raw + $memory_slack")"
    done

    echo
    yaml_mb=$(calc %.0f "$(stat -c %s "$tmp/100k.yaml") / 1048576")
    printf '  loading 100,000 interactions (%s MB of YAML): %.2f s\n' "$yaml_mb" \
        "$(calc %.6f "$load_100k - $load_none")"
    printf '  (nginx -t: %.3f s with the cassette, %.3f s without; median of 3)\n' \
        "$load_100k" "$load_none"
fi


# --- report: recording -------------------------------------------------------------

if want record; then
    windows=$(wc -l < "$tmp/windows")

    echo
    echo "recording through proxy_pass"
    echo "  upstream: a server in the same nginx answering \"return 200\", upstream"
    echo "  keep-alive; each request a random /items/N of 1,000,000,000; windows"
    echo "  of $record_seconds s ($windows), each pairing the two cases (order alternating)"
    echo
    printf '  %-6s %11s %7s %12s %7s %6s  %-21s %9s\n' window "proxy req/s" \
        "p99 ms" "record req/s" "p99 ms" ratio "cassette" "in flight"
    # "in flight": interactions recorded in the window minus the responses wrk
    # counted; requests wrk had sent when it stopped are answered and recorded,
    # but not counted; 0 to one per connection is expected
    odd_windows=0
    while read -r w prps pp99 rrps rp99 before after n _; do
        extra=$((after - before - n))
        if [ "$extra" -lt 0 ] || [ "$extra" -gt "$connections" ]; then
            odd_windows=$((odd_windows + 1))
            flag=" !"
        else
            flag=""
        fi
        printf '  %-6d %11.0f %7.2f %12.0f %7.2f %6.3f  %8d -> %-8d %9d%s\n' \
            "$w" "$prps" "$pp99" "$rrps" "$rp99" "$(calc %.6f "$rrps / $prps")" \
            "$before" "$after" "$extra" "$flag"
    done < "$tmp/windows"

    proxy_med=$(awk '{ print $2 }' "$tmp/windows" | median)
    proxy_p99=$(awk '{ print $3 }' "$tmp/windows" | median)
    record_med=$(awk '{ print $4 }' "$tmp/windows" | median)
    record_p99=$(awk '{ print $5 }' "$tmp/windows" | median)

    echo
    printf '  %-30s %10s %10s %10s %7s\n' case req/s "p99 ms" "vs proxy" errors
    printf '  %-30s %10.0f %10.2f %10.3f %7d\n' "${label[proxy]}" "$proxy_med" \
        "$proxy_p99" 1 $((proxy_bad + proxy_errors))
    printf '  %-30s %10.0f %10.2f %10.3f %7d\n' "${label[record]}" "$record_med" \
        "$record_p99" "$(calc %.6f "$record_med / $proxy_med")" \
        $((record_bad + record_errors))
    echo "  (median of the windows; errors: non-2xx responses plus socket errors)"

    record_ratio=$(calc %.3f "$record_med / $proxy_med")
    read -r first_rps first_proxy first_before first_after < <(
        awk 'NR == 1 { print $4, $2, $6, $7 }' "$tmp/windows")
    read -r last_rps last_proxy last_before last_after < <(
        awk 'END { print $4, $2, $6, $7 }' "$tmp/windows")
    growth_ratio=$(calc %.3f "$last_rps / $first_rps")
    proxy_growth=$(calc %.3f "$last_proxy / $first_proxy")
    # the same, each window's rate taken relative to its paired proxy_pass run
    paired_growth=$(calc %.3f "($last_rps / $last_proxy) / ($first_rps / $first_proxy)")

    echo
    printf '  %-16s %6s   target >= %s   %-6s  (by window: %s)\n' "record/proxy" \
        "$record_ratio" "$min_record_ratio" \
        "$(verdict "$record_ratio" '>=' "$min_record_ratio")" \
        "$(awk '{ print $4 / $2 }' "$tmp/windows" | sort -g \
           | awk '{ v[NR] = $1 } END { printf "%.3f to %.3f", v[1], v[NR] }')"
    printf '  %-16s %6s   target >= %s   %-6s  (record rate, last window / first)\n' \
        "last/first" "$growth_ratio" "$min_growth_ratio" \
        "$(verdict "$growth_ratio" '>=' "$min_growth_ratio")"
    printf '  %-16s first window %.0f req/s (cassette %d -> %d),\n' "" \
        "$first_rps" "$first_before" "$first_after"
    printf '  %-16s last window %.0f req/s (cassette %d -> %d)\n' "" \
        "$last_rps" "$last_before" "$last_after"
    printf '  %-16s same windows, proxy_pass alone: %s; record/proxy: %s\n' "" \
        "$proxy_growth" "$paired_growth"
    if awk "BEGIN { exit !($proxy_growth < 0.9 || $proxy_growth > 1.1) }"; then
        echo "  note: proxy_pass alone changed by more than 10% between the first"
        echo "  and the last window, so the machine's speed changed; record/proxy"
        echo "  (the record rate relative to its paired proxy_pass run) is the"
        echo "  better measure of a fall"
    fi

    # CPU time per response: what each case costs, whatever else runs
    echo
    echo "  CPU per response, in us: nginx (both workers, the upstream server"
    echo "  included), wrk (both threads); others: % of the machine's CPU time"
    echo "  that other processes used in the window"
    printf '  %-6s %12s %7s %7s %12s %7s %7s\n' window "proxy nginx" wrk \
        others "record nginx" wrk others
    awk '{ printf "  %-6d %12.2f %7.2f %6.1f%% %12.2f %7.2f %6.1f%%\n",
           $1, $9, $10, $11, $12, $13, $14 }' "$tmp/windows"

    for k in 9 10 11 12 13 14; do
        cpu_med[k]=$(awk -v k="$k" '{ print $k }' "$tmp/windows" | median)
    done

    cpu_ratio=$(calc %.3f \
        "(${cpu_med[9]} + ${cpu_med[10]}) / (${cpu_med[12]} + ${cpu_med[13]})")
    nginx_ratio=$(calc %.3f "${cpu_med[9]} / ${cpu_med[12]}")
    wrk_share=$(calc %.0f "100 * ${cpu_med[10]} / (${cpu_med[9]} + ${cpu_med[10]})")
    others_med=$(awk '{ print $11; print $14 }' "$tmp/windows" | median)

    printf '  %-6s %12.2f %7.2f %6.1f%% %12.2f %7.2f %6.1f%%\n' median \
        "${cpu_med[9]}" "${cpu_med[10]}" "${cpu_med[11]}" "${cpu_med[12]}" \
        "${cpu_med[13]}" "${cpu_med[14]}"
    echo
    printf '  %-16s %6s   (CPU per response of proxy_pass over that of\n' \
        "record/proxy CPU" "$cpu_ratio"
    printf '  %-16s %6s    recording, nginx plus wrk: the req/s ratio when only\n' \
        "" ""
    printf '  %-16s %6s    they use the CPUs); nginx alone: %s; wrk: %s%% of\n' \
        "" "" "$nginx_ratio" "$wrk_share"
    printf '  %-16s %6s    a proxy_pass response'"'"'s CPU\n' "" ""
    if awk "BEGIN { exit !($others_med > 10) }"; then
        echo "  WARNING: other processes used ${others_med}% of the machine's CPU"
        echo "  time in the median window: the req/s figures depend on them"
    fi

    echo
    printf '  cassette: %d interactions, %d bytes (%.0f bytes per interaction)\n' \
        "$record_end" "$record_bytes" "$(calc %.6f "$record_bytes / $record_end")"
    echo "  loaded back for replay (nginx -t): $record_loads"
    if [ "$record_loads" != ok ]; then
        grep -v 'syntax is ok\|test is successful' "$tmp/load-record.out" \
            | head -5 | sed 's/^/    /'
    fi
    recorded_windows=$((record_end - record_start))
    if [ "$recorded_windows" -gt 0 ] && [ "$zone_end" -gt "$zone_start" ]; then
        printf '  shared memory: %d bytes per recorded interaction (the zone pages\n' \
            "$(( (zone_end - zone_start) * 1024 / recorded_windows ))"
        printf '  in use grew by %d MB); %s bytes per interaction loaded from the\n' \
            $(( (zone_end - zone_start) / 1024 )) "${zone_per[100k]:-?}"
        echo "  100k cassette"
    fi
    echo
    printf '  recorded in the windows: %d interactions\n' "$recorded_windows"
    printf '  wrk counted:             %d responses (%d non-2xx, %d socket errors)\n' \
        "$record_responses" "$record_bad" "$record_errors"
    printf '  difference:              %d, requests in flight when wrk stopped\n' \
        $((recorded_windows - record_responses))
    printf '                           (recorded, not counted; 0 to %d a window)\n' \
        "$connections"

    if [ "$recorded_windows" -lt "$record_responses" ]; then
        echo "  WARNING: $((record_responses - recorded_windows)) responses that" \
             "wrk counted are not in the cassette"
    fi
    if [ "$odd_windows" -gt 0 ]; then
        echo "  WARNING: in $odd_windows windows (marked !) the interactions" \
             "recorded differ from wrk's responses by more than the requests in" \
             "flight"
    fi
    if [ "$record_bad" -gt 0 ] || [ "$record_errors" -gt 0 ]; then
        echo "  WARNING: recording answered $record_bad non-2xx responses and had" \
             "$record_errors socket errors"
    fi
    if [ "$record_items" != "$record_end" ]; then
        echo "  WARNING: the cassette has $record_items interactions begun but" \
             "$record_end ended by a \"# recorded\" line"
    fi
    if [ "$record_end" -lt "$record_target" ]; then
        echo "  WARNING: the cassette reached $record_end interactions, not" \
             "$record_target"
    fi
    if [ "$zone_full" = 1 ]; then
        echo "  WARNING: the ${zone_mb} MB zone filled up during window $windows;" \
             "the windows stopped there"
    fi
    skipped=$(grep -c 'mock: .* is not recorded' "$tmp/error.log" || true)
    if [ "$skipped" -gt 0 ]; then
        echo "  WARNING: the error log names $skipped requests that were not" \
             "recorded"
    fi

    problems=$(grep -E '\[(error|crit|alert|emerg)\]' "$tmp/error.log" || true)
    if [ -n "$problems" ]; then
        echo
        echo "  the error log has $(wc -l <<< "$problems") errors; the first ones:"
        head -5 <<< "$problems" | sed 's/^/    /'
    fi
fi


# --- report: sequence counters ---------------------------------------------------

if want counters; then
    report_counters
fi
