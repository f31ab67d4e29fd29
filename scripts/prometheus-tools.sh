#!/usr/bin/env bash
# Installs Debian's prometheus (for promtool) and prometheus-node-exporter
# when missing, as lab/up.sh installs OpenStack: with a policy-rc.d that
# keeps their daemons from starting, so nothing listens on this machine.
# Needs root for the install; prints nothing when both are there.
set -euo pipefail
missing=()
for p in prometheus prometheus-node-exporter; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "prometheus-tools: installing ${missing[*]}" >&2
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  made_policy=1
fi
cleanup() { [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
# Another installer may hold the dpkg lock for a while: wait for it.
for i in $(seq 1 10); do
  if apt-get -o DPkg::Lock::Timeout=60 update -qq && \
     apt-get -o DPkg::Lock::Timeout=60 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    exit 0
  fi
  echo "prometheus-tools: install failed (attempt $i), retrying" >&2
  sleep 10
done
exit 1
