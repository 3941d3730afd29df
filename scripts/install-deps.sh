#!/bin/sh
# install-deps.sh [extra-package...]
#
# Installs, from Debian's packages, whatever of the build and test
# dependencies is missing.  Does nothing when all are present.  The test
# dependencies include the nginx modules that t/companions.t loads next
# to the mock module (ndk, lua with the resty core libraries it needs to
# start, njs, headers-more, brotli, srcache, echo) and the brotli command
# that decodes what the brotli filter sends, and the headless Chromium,
# its driver and Selenium that t/ui.t drives the dashboard with.

set -e

packages="nginx nginx-dev libyaml-dev libhiredis-dev libssl-dev redis-server
build-essential pkg-config
libtest-base-perl libtext-diff-perl libtest-longstring-perl
liblist-moreutils-perl libwww-perl liburi-perl libipc-run-perl
python3-vcr python3-requests
libnginx-mod-http-ndk libnginx-mod-http-lua lua-resty-core lua-resty-lrucache
libnginx-mod-http-js libnginx-mod-http-headers-more-filter
libnginx-mod-http-brotli-filter libnginx-mod-http-srcache-filter
libnginx-mod-http-echo brotli
chromium chromium-driver python3-selenium $*"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null \
        | grep -q "install ok installed"
    then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

echo "installing:$missing"

if [ "$(id -u)" -ne 0 ]; then
    sudo=sudo
else
    sudo=
fi

export DEBIAN_FRONTEND=noninteractive

# nginx's package starts its own server when installed; keep it from
# taking port 80 on a machine that only builds and tests
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi

$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
