#!/bin/sh
# services.sh start|stop
#
# The services the test suite needs, on loopback ports: a Redis server
# on $TEST_NGINX_REDIS_PORT (default 16379).  scripts/run-tests.sh runs
# "start" before the tests and "stop" after them.

set -e

top=$(cd "$(dirname "$0")/.." && pwd)
port=${TEST_NGINX_REDIS_PORT:-16379}
dir=$top/t/servroot-redis-$port
pidfile=$dir/redis.pid

stop_redis() {
    [ -f "$pidfile" ] || return 0

    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true

    # until it has let go of its port
    i=0
    while kill -0 "$pid" 2>/dev/null \
        && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
    do
        i=$((i + 1))
        if [ "$i" -gt 50 ]; then
            kill -9 "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done

    rm -f "$pidfile"
}

case "${1:-}" in

start)
    if ! command -v redis-server > /dev/null; then
        echo "services.sh: redis-server not found (apt-get install redis-server)" >&2
        exit 1
    fi

    mkdir -p "$dir"

    # one left by an interrupted run goes first
    stop_redis

    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
        --daemonize yes --pidfile "$pidfile" --logfile "$dir/redis.log" \
        --dir "$dir"

    # wait until it answers
    i=0
    while ! redis-cli -p "$port" ping > /dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt 50 ]; then
            echo "services.sh: redis-server did not start on port $port" >&2
            exit 1
        fi
        sleep 0.1
    done
    ;;

stop)
    stop_redis
    ;;

*)
    echo "usage: $0 start|stop" >&2
    exit 1
    ;;
esac
