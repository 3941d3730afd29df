#!/bin/sh
# quickstart.sh start|stop
#
# Runs conf-examples/quickstart.conf with the prefix build/quickstart,
# where modules/ and cassettes/ are linked to the build and the examples.

set -e

top=$(cd "$(dirname "$0")/.." && pwd)
prefix=$top/build/quickstart
nginx=${NGINX_BIN:-/usr/sbin/nginx}
conf=$top/conf-examples/quickstart.conf

case "${1:-start}" in

start)
    mkdir -p "$prefix/logs" "$prefix/modules"
    ln -sfn "$top/build/ngx_http_mock_module.so" \
        "$prefix/modules/ngx_http_mock_module.so"
    ln -sfn "$top/conf-examples/cassettes" "$prefix/cassettes"
    ln -sfn "$top/conf-examples/secrets" "$prefix/secrets"

    if [ -f "$prefix/logs/nginx.pid" ] \
        && kill -0 "$(cat "$prefix/logs/nginx.pid")" 2>/dev/null
    then
        "$nginx" -p "$prefix/" -c "$conf" -s reload
        echo "reloaded the running mock"
    else
        "$nginx" -p "$prefix/" -c "$conf"
    fi

    cat <<TXT

The mock is listening on http://127.0.0.1:8080, answering /api/ from
conf-examples/cassettes/quickstart.yaml.  Try:

  curl -i http://127.0.0.1:8080/api/users/7
  curl -i http://127.0.0.1:8080/api/users/0
  curl -i -X POST -H 'Content-Type: application/json' \\
       -d '{"items":[{"qty":2,"sku":"tea"}],"user_id":7}' \\
       http://127.0.0.1:8080/api/orders
  curl -s http://127.0.0.1:8080/api/jobs/42    # queued, running, done, then 404
  curl -i -X DELETE http://127.0.0.1:8080/api/users/7   # 405 with Allow
  curl -i http://127.0.0.1:8080/api/nothing    # 404 with the closest recordings

Logs: $prefix/logs/access.log and error.log
Stop: make stop   (or: $nginx -p $prefix/ -c $conf -s stop)
TXT
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
    echo "usage: $0 start|stop" >&2
    exit 1
    ;;
esac
