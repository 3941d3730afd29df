#!/bin/sh
# quickstart.sh start|stop [example]
#
# Runs conf-examples/<example>.conf (quickstart by default) with the
# prefix build/quickstart, where modules/ and cassettes/ are linked to the
# build and the examples.  The lines of the example's opening comment
# that are indented ("#   ") are shown as requests to try.

set -e

top=$(cd "$(dirname "$0")/.." && pwd)
prefix=$top/build/quickstart
nginx=${NGINX_BIN:-/usr/sbin/nginx}
example=${2:-quickstart}
conf=$top/conf-examples/$example.conf

if [ ! -f "$conf" ]; then
    echo "no such example: $conf" >&2
    exit 1
fi

case "${1:-start}" in

start)
    mkdir -p "$prefix/logs" "$prefix/modules"
    ln -sfn "$top/build/ngx_http_mock_module.so" \
        "$prefix/modules/ngx_http_mock_module.so"
    ln -sfn "$top/conf-examples/cassettes" "$prefix/cassettes"
    ln -sfn "$top/conf-examples/secrets" "$prefix/secrets"

    running=
    if [ -f "$prefix/logs/nginx.pid" ] \
        && kill -0 "$(cat "$prefix/logs/nginx.pid")" 2>/dev/null
    then
        running=$(cat "$prefix/example" 2>/dev/null || echo quickstart)
    fi

    if [ "$running" = "$example" ]; then
        "$nginx" -p "$prefix/" -c "$conf" -s reload
        echo "reloaded the running mock"
    else
        if [ -n "$running" ]; then
            # a reload would read the other example's file again
            "$nginx" -p "$prefix/" -c "$top/conf-examples/$running.conf" \
                -s quit
            while [ -f "$prefix/logs/nginx.pid" ]; do sleep 0.1; done
        fi
        "$nginx" -p "$prefix/" -c "$conf"
        echo "$example" > "$prefix/example"
    fi

    echo
    echo "The mock is listening on http://127.0.0.1:8080 ($example.conf)." \
         "Try:"
    echo
    sed -n 's/^#   /  /p' "$conf"
    echo
    echo "Logs: $prefix/logs/access.log and error.log"
    echo "Stop: make stop   (or: $nginx -p $prefix/ -c $conf -s stop)"
    ;;

stop)
    if [ -f "$prefix/logs/nginx.pid" ]; then
        "$nginx" -p "$prefix/" -c "$conf" -s stop
        echo "stopped"
    else
        echo "not running"
    fi
    ;;

*)
    echo "usage: $0 start|stop [example]" >&2
    exit 1
    ;;
esac
