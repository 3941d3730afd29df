#!/usr/bin/env bash
# run-tests.sh [prove args...] [files/dirs]
#
# Runs the Test::Nginx suite with prove (default: "prove -r t/") from the
# repository root, so paths are relative to it.
#
# Environment:
#   TEST_NGINX_BINARY   nginx to test (default /usr/sbin/nginx)
#   MOCK_MODULE         path of ngx_http_mock_module.so; it is added to
#                       TEST_NGINX_LOAD_MODULES
#   MOCK_ASAN=1         run nginx with gcc's libasan and libubsan preloaded
#                       and fail if they report anything
#   TEST_NGINX_*        passed through (TEST_NGINX_USE_VALGRIND=1, ...)
#
# The installed Test::Nginx::Socket is used when there is one, otherwise
# the project's own in util/lib.  When scripts/services.sh is executable,
# "scripts/services.sh start" runs before the tests and
# "scripts/services.sh stop" after them, whatever happens.
#
# Exits with prove's status (or 1 when the sanitizers reported errors).

set -u

die() {
    echo "run-tests.sh: $*" >&2
    exit 2
}

abspath() {
    echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
}

# Resolve relative paths against the caller's directory before moving.
if [ -n "${MOCK_MODULE:-}" ]; then
    [ -f "$MOCK_MODULE" ] || die "MOCK_MODULE not found: $MOCK_MODULE"
    MOCK_MODULE=$(abspath "$MOCK_MODULE")
fi

case ${TEST_NGINX_BINARY:-} in
    /*) ;;
    */*) [ -x "$TEST_NGINX_BINARY" ] || die "nginx binary not found: $TEST_NGINX_BINARY"
         TEST_NGINX_BINARY=$(abspath "$TEST_NGINX_BINARY") ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd) || die "cannot find the repository root"
cd "$top" || die "cannot cd to $top"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-tests.XXXXXX") || die "mktemp failed"
services_started=

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    if [ -n "$services_started" ]; then
        scripts/services.sh stop || echo "run-tests.sh: scripts/services.sh stop failed" >&2
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

nginx=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
[ -x "$nginx" ] || command -v "$nginx" >/dev/null 2>&1 \
    || die "nginx binary not found: $nginx"
export TEST_NGINX_BINARY=$nginx
export TEST_NGINX_NO_SHUFFLE=1
export TEST_NGINX_REDIS_PORT=${TEST_NGINX_REDIS_PORT:-16379}

if [ -n "${MOCK_MODULE:-}" ]; then
    case " ${TEST_NGINX_LOAD_MODULES:-} " in
        *" $MOCK_MODULE "*) ;;
        *) TEST_NGINX_LOAD_MODULES="${TEST_NGINX_LOAD_MODULES:+$TEST_NGINX_LOAD_MODULES }$MOCK_MODULE" ;;
    esac
    export TEST_NGINX_LOAD_MODULES
fi

# The sanitizers' reports go to files in $asan_dir; any file there fails
# the run.
asan_dir=
if [ "${MOCK_ASAN:-0}" = 1 ]; then
    [ -z "${TEST_NGINX_USE_VALGRIND:-}" ] \
        || die "MOCK_ASAN and TEST_NGINX_USE_VALGRIND cannot be combined"

    libasan=$(gcc -print-file-name=libasan.so)
    libubsan=$(gcc -print-file-name=libubsan.so)
    # gcc prints the bare name when it does not have the library.
    [ -f "$libasan" ] || die "gcc has no libasan.so (Debian: apt-get install libasan8)"
    [ -f "$libubsan" ] || die "gcc has no libubsan.so (Debian: apt-get install libubsan1)"

    asan_dir=$tmp/sanitizer-reports
    mkdir "$asan_dir" || die "cannot create $asan_dir"

    real_nginx=$(command -v "$nginx")
    cat > "$tmp/nginx" <<EOF
#!/bin/sh
# nginx with AddressSanitizer and UndefinedBehaviorSanitizer preloaded.
LD_PRELOAD="$libasan $libubsan\${LD_PRELOAD:+ \$LD_PRELOAD}"
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$asan_dir/asan\${ASAN_OPTIONS:+:\$ASAN_OPTIONS}"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$asan_dir/ubsan\${UBSAN_OPTIONS:+:\$UBSAN_OPTIONS}"
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
exec "$real_nginx" "\$@"
EOF
    chmod +x "$tmp/nginx"
    export TEST_NGINX_BINARY=$tmp/nginx
fi

# Use the real Test::Nginx when it is installed.  The check runs in an
# empty directory: loading the module may stop an nginx left in
# ./t/servroot.
prove_inc=()
if ! (cd "$tmp" && perl -MTest::Nginx::Socket -e1) >/dev/null 2>&1; then
    prove_inc=(-I "$top/util/lib")
fi

if [ $# -eq 0 ]; then
    set -- -r t/
fi

if [ -x scripts/services.sh ]; then
    services_started=1
    scripts/services.sh start || die "scripts/services.sh start failed"
fi

prove ${prove_inc[@]+"${prove_inc[@]}"} "$@"
status=$?

if [ -n "$asan_dir" ]; then
    reports=$(find "$asan_dir" -type f | sort)
    if [ -n "$reports" ]; then
        for report in $reports; do
            echo "==== sanitizer report $(basename "$report") ===="
            cat "$report"
        done
        echo "run-tests.sh: the sanitizers reported errors" >&2
        [ "$status" -ne 0 ] || status=1
    fi
fi

exit "$status"
