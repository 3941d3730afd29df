#!/bin/sh
# build-module.sh NGINX_SRC BUILD_DIR CFLAGS CONF_FLAGS [LDFLAGS]
#
# Configures a private copy of the nginx source tree with the given flags
# plus this module as a dynamic module, and runs "make modules" there.

set -e

src=$1
dir=$2
cflags=$3
conf_flags=$4
ldflags=${5:-}
top=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -x "$src/configure" ] && [ ! -f "$src/auto/configure" ]; then
    echo "build-module.sh: no nginx source in $src" >&2
    echo "  Debian: apt-get install nginx-dev, or set NGINX_SRC" >&2
    exit 1
fi

if [ ! -f "$dir/.copied" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -a "$src"/. "$dir"/
    touch "$dir/.copied"
fi

cd "$dir"

if [ -x ./configure ]; then
    configure=./configure
else
    configure=./auto/configure
fi

stamp="$cflags|$conf_flags|$ldflags|$(cksum < "$top/config")"
if [ ! -f objs/Makefile ] || [ "$(cat .configured 2>/dev/null)" != "$stamp" ]
then
    # shellcheck disable=SC2086
    $configure $conf_flags --with-cc-opt="$cflags" \
        ${ldflags:+--with-ld-opt="$ldflags"} \
        --add-dynamic-module="$top" > configure.log 2>&1 \
        || { tail -30 configure.log >&2; exit 1; }
    echo "$stamp" > .configured
fi

# the dashboard's files may have changed since configure made them
/usr/bin/python3 "$top/scripts/ui-assets.py" "$top/ngx_mock_module/ui" \
    objs/ngx_http_mock_ui_assets.c

make -f objs/Makefile modules > make.log 2>&1 || { grep -E 'error|warning' -A3 make.log | head -60 >&2; exit 1; }
