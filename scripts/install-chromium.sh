#!/usr/bin/env bash
# Installs Debian's chromium for the path picture's browser test
# (internal/report TestPathPictureInBrowser), unless it is there. Only root
# can; others get a note, and the test skips saying why.
set -euo pipefail
command -v chromium >/dev/null && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "chromium is not installed and this is not root: the browser test will skip" >&2
	exit 0
fi
# Maintainer scripts must not start daemons (as lab/up.sh).
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi
trap '[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
# Another apt may hold the dpkg lock (the lab's installs): retry a while.
for try in $(seq 1 30); do
	if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; then
		exit 0
	fi
	[ "$try" = 1 ] && DEBIAN_FRONTEND=noninteractive apt-get update -q || true
	echo "apt-get install chromium failed (try $try), retrying in 10 s" >&2
	sleep 10
done
exit 1
