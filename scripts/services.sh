#!/bin/sh
# services.sh start|stop
#
# The services the test suite needs, on loopback ports: a Redis server
# on $TEST_NGINX_REDIS_PORT (default 16379).  scripts/run-tests.sh runs
# "start" before the tests and "stop" after them.

set -e

top=$(cd "$(dirname "$0")/.." && pwd)
port=${TEST_NGINX_REDIS_PORT:-16379}
dir=$top/t/servroot-redis
pidfile=$dir/redis.pid

case "${1:-}" in

start)
    if ! command -v redis-server > /dev/null; then
        echo "services.sh: redis-server not found (apt-get install redis-server)" >&2
        exit 1
    fi

    mkdir -p "$dir"

    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        sleep 0.5
    fi

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
    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    fi
    ;;

*)
    echo "usage: $0 start|stop" >&2
    exit 1
    ;;
esac
