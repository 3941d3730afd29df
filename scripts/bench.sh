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
# Environment:
#   BENCH_SECONDS   seconds of each measured run (default 10)
#   BENCH_ROUNDS    interleaved rounds (default 3)
#   BENCH_WARMUP    seconds of warm-up per case (default 1)
#   BENCH_PORT      port on 127.0.0.1 (default: a free one)
#   MOCK_MODULE     the module (default build/ngx_http_mock_module.so)
#   NGINX_BIN       nginx binary (default /usr/sbin/nginx)
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
threads=2
connections=32

# targets
min_replay_ratio=0.9        # replay 1 / return 200
min_scale_ratio=0.9         # replay 100k / replay 1
max_memory_ratio=1.5        # zone bytes / raw bytes, per interaction ...
memory_slack=256            # ... plus this many bytes per interaction

die() {
    echo "bench.sh: $*" >&2
    exit 1
}

for tool in "$nginx" wrk curl "$python"; do
    command -v "$tool" > /dev/null || die "$tool not found"
done

case $module in
    /*) ;;
    *) module=$PWD/$module ;;
esac
[ -f "$module" ] || die "no module at $module (run make)"

for n in "$seconds" "$rounds" "$warmup"; do
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] \
        || die "BENCH_SECONDS, BENCH_ROUNDS and BENCH_WARMUP must be" \
               "positive whole numbers"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mock-bench.XXXXXX")
pidfile=$tmp/nginx.pid

stop_nginx() {
    local pid i

    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2> /dev/null || return 0

    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2> /dev/null || return 0
        sleep 0.1
    done

    kill -KILL "$pid" 2> /dev/null || true
}

cleanup() {
    stop_nginx
    rm -rf "$tmp"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${BENCH_PORT:-}" ]; then
    port=$BENCH_PORT
else
    port=$("$python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
fi

# median of the numbers on stdin
median() {
    sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) print "nan";
              else if (NR % 2) print v[(NR + 1) / 2];
              else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# seconds since the epoch, with microseconds
now() {
    echo "${EPOCHREALTIME/,/.}"
}

calc() {
    awk "BEGIN { printf \"$1\", $2 }"
}


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


# --- nginx configuration -----------------------------------------------------

# $1: file, $2: error log, $3: locations
write_conf() {
    cat > "$1" <<EOF
load_module $module;

worker_processes 2;
pid $pidfile;
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

    server {
        listen 127.0.0.1:$port;
$3
    }
}
EOF
}

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
        }"

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

echo "timing nginx -t with and without the 100k cassette ..."
load_none=$(time_test "$tmp/load-none.conf")
load_100k=$(time_test "$tmp/load-100k.conf")


# --- start -----------------------------------------------------------------------

echo "starting nginx on 127.0.0.1:$port ..."

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
            /100k/items/1 /100k/items/100000; do
    check "$path"
done

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
declare -A prefix=([return]=/return [one]=/one [10k]=/10k [100k]=/100k)
declare -A count=([return]=1 [one]=1 [10k]=10000 [100k]=100000)
declare -A label=(
    [return]="return 200 (ceiling)"
    [one]="replay, 1 interaction"
    [10k]="replay, 10,000 interactions"
    [100k]="replay, 100,000 interactions"
)

# $1: case, $2: seconds, $3: output file
run_wrk() {
    wrk -t"$threads" -c"$connections" -d"$2"s --latency \
        -s "$tmp/items.lua" "$base/" -- "${prefix[$1]}" "${count[$1]}" \
        > "$3" 2>&1 \
        || { cat "$3" >&2; die "wrk failed on case $1"; }
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


# --- report ------------------------------------------------------------------------

declare -A rps=() p99=() spread=()
noisy=0
for c in "${cases[@]}"; do
    rps[$c]=$(median < "$tmp/$c.rps")
    p99[$c]=$(median < "$tmp/$c.p99")
    # how far apart the rounds of a case are, in % of their median
    spread[$c]=$(sort -g "$tmp/$c.rps" \
                 | awk -v m="${rps[$c]}" 'NR == 1 { lo = $1 } { hi = $1 }
                                          END { printf "%.0f", (hi - lo) / m * 100 }')
    [ "${spread[$c]}" -le 10 ] || noisy=1
done

verdict() {         # value op target
    if awk "BEGIN { exit !($1 $2 $3) }"; then echo "ok"; else echo "MISSED"; fi
}

echo
echo "ngx_http_mock_module benchmark"
echo "  $("$nginx" -v 2>&1 | sed 's/^nginx version: //'), 2 workers," \
     "$(nproc) CPUs; wrk -t$threads -c$connections keep-alive;" \
     "median of $rounds x $seconds s"
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

# the same ratio within each round, where the two runs are close in time
paired() {
    paste "$tmp/$1.rps" "$tmp/$2.rps" \
        | awk '{ print $1 / $2 }' | sort -g \
        | awk '{ v[NR] = $1 } END { printf "%.3f to %.3f", v[1], v[NR] }'
}

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

problems=$(grep -E '\[(error|crit|alert|emerg)\]' "$tmp/error.log" || true)
if [ -n "$problems" ]; then
    echo
    echo "  the error log has $(wc -l <<< "$problems") errors; the first ones:"
    head -5 <<< "$problems" | sed 's/^/    /'
fi
