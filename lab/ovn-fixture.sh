#!/usr/bin/env bash
# lab/ovn-fixture.sh SCENARIO [DIR]: snapshot the running OVN lab (LAB_L2=ovn)
# for hoofbeat's OVN rules and their unit tests, into DIR/SCENARIO (DIR
# defaults to $OVN_FIXTURES or /work/ovn-fixtures): OVN's NB and SB databases
# (ovsdb-client backup: servable with a private ovsdb-server, ovn-trace works
# on the SB), what `hoofbeat collect` sees of vm1 and vm3 (API only), and per
# chassis H the host side in H.txt (each command's output after a
# "### COMMAND" line). DONE is written last.
# Needs HOOFBEAT (default: a hoofbeat built from this checkout).
set -euo pipefail
export SCRIPT_NAME=ovn-fixture.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: lab/ovn-fixture.sh SCENARIO [DIR]" >&2; exit 2; fi
need_root
[ "$LAB_L2" = ovn ] || die "the running lab is $LAB_L2, not ovn"
case "$1" in *[!a-z0-9-]*|"") die "scenario must be [a-z0-9-]+" ;; esac
out=${2:-${OVN_FIXTURES:-/work/ovn-fixtures}}/$1
if [ -z "${HOOFBEAT:-}" ]; then
  HOOFBEAT=$RUN/bin/hoofbeat
  (cd "$LAB_DIR/.." && go build -o "$HOOFBEAT" ./cmd/hoofbeat) || die "could not build hoofbeat (set HOOFBEAT)"
fi
rm -rf "$out"; mkdir -p "$out"
onh ctl ovsdb-client backup unix:/run/ovn/ovnnb_db.sock >"$out/nb.db"
onh ctl ovsdb-client backup unix:/run/ovn/ovnsb_db.sock >"$out/sb.db"
for vm in vm1 vm3; do
  onh ctl env OS_CLIENT_CONFIG_FILE="$RUN/clouds.yaml" OS_CLOUD=lab-admin "$HOOFBEAT" collect "$vm" --out "$out/api-$vm.json" 3>&-
done
for h in "${LAB_HOSTS[@]}"; do
  {
    echo "### ovs-vsctl get open . external_ids"; onh "$h" ovs-vsctl --timeout=10 get open . external_ids 2>&1 || true
    echo "### ovn-appctl -t ovn-controller connection-status"; onh "$h" ovn-appctl -t ovn-controller connection-status 2>&1 || true
    echo "### ip netns"; onh "$h" ip netns 2>&1 || true
    echo "### ps -eo pid,user,args"
    # The machine has one PID namespace: keep the host's own processes, those
    # in its network namespace or in the namespaces it names (as record.sh does).
    ps -o pid,user,args -p 1 | head -1
    for p in $( { ip netns pids "$(ns_of "$h")"; for ns in $(onh "$h" ip netns 2>/dev/null | awk '{print $1}'); do onh "$h" ip netns pids "$ns"; done; } 2>/dev/null | sort -un); do
      ps -o pid=,user=,args= -p "$p" 2>/dev/null || true
    done
  } >"$out/$h.txt"
done
date -u +%FT%TZ >"$out/DONE"
log "wrote $out"
