#!/usr/bin/env bash
# lab/down.sh [--keep-state]: stop the lab and remove its namespaces.
#
# Stops only what lab/up.sh and lab/seed.sh started: first the process groups
# whose leaders are saved in run/pids/, then whatever still lives in the lab's
# own network namespaces (hb-*, qdhcp-*, qrouter-*, ovnmeta-*, labvm-*), found
# with `ip netns pids` (dnsmasq, haproxy, privsep daemons, epmd daemonise),
# including the ovnmeta-* namespaces that only a compute host's own /run/netns
# names (OVN's metadata haproxy there). Nothing is ever killed by name. Then
# the namespaces are deleted; the hosts' bind mounts (/run/ovn,
# /run/openvswitch, ...) go with their holders' mount namespaces.
#
# --keep-state keeps the MariaDB/RabbitMQ/Glance state (run/state), so the
# next up.sh skips the schema syncs and keeps every resource; seed.sh then
# recreates the fake VMs. Without it the state is wiped (secrets are kept).
set -euo pipefail
export SCRIPT_NAME=down.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root
keep=
case "${1:-}" in
  --keep-state) keep=1 ;;
  "") ;;
  *) echo "usage: lab/down.sh [--keep-state]" >&2; exit 2 ;;
esac
lab_lock
echo "---- $(date -u +%FT%TZ) down.sh start${keep:+ --keep-state}" >>"$RUN/timings.txt"

lab_namespaces() { ip netns list | awk '{print $1}' | grep -E '^(hb-|labvm-|qdhcp-|qrouter-|ovnmeta-)' || true; }
# host_ns_pids: processes in the namespaces a compute host names in its own
# /run/netns (only reachable through its holder while it lives).
host_ns_pids() {
  local h ns
  # Every host the lab may have had, whatever flavour and guests it ran.
  for h in "${!HOST_IP[@]}"; do
    [ "$h" = ctl ] && continue
    holder_alive "$h" || continue
    for ns in $(onh "$h" ip netns list 2>/dev/null | awk '{print $1}'); do
      onh "$h" ip netns pids "$ns" 2>/dev/null || true
    done
  done
}

# Taken now: they can only be found while the holders live.
HOST_NS_PIDS=$(host_ns_pids | sort -un)

# 1. process groups of the services (holders last: services live in their namespaces)
# The databases get their TERM's full grace (--keep-state keeps them); the
# OpenStack services keep nothing on disk worth a graceful stop, and some
# never stop on TERM (nova-compute, the OVS agent, keystone's uwsgi): they
# get 3 s, not 20, which was a minute of every CI run.
groups=() durable=()
for f in "$PIDS"/*.pid; do
  [ -e "$f" ] || continue
  case "$f" in *.holder.pid) continue ;; esac
  pid=$(cat "$f" 2>/dev/null || true)
  n=$(basename "$f" .pid); h=${n%%.*}
  if [ -n "$pid" ] && pid_in_ns "$pid" "$(ns_of "$h")"; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    case "${n#*.}" in mariadb | rabbitmq | ovsdb-*) durable+=("$pid") ;; *) groups+=("$pid") ;; esac
  fi
  rm -f "$f"
done
all_gone() { local g; for g in "$@"; do group_alive "$g" && return 1; done; return 0; }
kill_left() {
  local g
  for g in "$@"; do
    if group_alive "$g"; then
      log "KILL to process group $g: $(ps -o args= -p "$g" 2>/dev/null | cut -c1-80)"
      kill -KILL -- "-$g" 2>/dev/null || true
    fi
  done
}
if [ $((${#groups[@]} + ${#durable[@]})) -gt 0 ]; then
  log "sent TERM to $((${#groups[@]} + ${#durable[@]})) service process groups"
  wait_until 3 "services to exit" all_gone "${groups[@]}" || kill_left "${groups[@]}"
  wait_until 20 "databases to exit" all_gone "${durable[@]}" || kill_left "${durable[@]}"
fi
mark "services stopped"

# 2. everything left in the lab's namespaces, by PID
ns_pids() {
  { local ns p; for ns in $(lab_namespaces); do ip netns pids "$ns" 2>/dev/null || true; done
    host_ns_pids
    for p in $HOST_NS_PIDS; do if [ -e "/proc/$p" ]; then echo "$p"; fi; done; } | sort -un
}
left=$(ns_pids)
if [ -n "$left" ]; then
  log "TERM to $(wc -w <<<"$left") processes left in the lab namespaces"
  # shellcheck disable=SC2086
  kill -TERM $left 2>/dev/null || true
  if ! wait_until 5 "processes in the lab namespaces to exit" test -z "$(ns_pids)"; then
    left=$(ns_pids)
    # shellcheck disable=SC2086
    if [ -n "$left" ]; then kill -KILL $left 2>/dev/null || true; fi
    wait_until 5 "killed processes to disappear" test -z "$(ns_pids)" || log "still present: $(ns_pids)"
  fi
fi
rm -f "$PIDS"/*.holder.pid
mark "namespace processes stopped"

# 3. the namespaces
for ns in $(lab_namespaces); do
  ip netns del "$ns" 2>/dev/null || log "could not delete netns $ns"
done
mark "namespaces deleted"

# 4. state
if [ -d "$HOSTS_DIR" ]; then
  rm -rf "$RUN/logs.prev"; mkdir -p "$RUN/logs.prev"
  for d in "$HOSTS_DIR"/*/log; do
    [ -d "$d" ] || continue
    h=$(basename "$(dirname "$d")")
    mv "$d" "$RUN/logs.prev/$h"
  done
fi
if [ -z "$keep" ]; then
  rm -rf "$STATE" "$HOSTS_DIR"/*/var "$HOSTS_DIR"/*/ovs "$HOSTS_DIR"/*/ovn "$RUN/seed" "$RUN/l2" "$RUN/guest-mode" "$RUN/guest-debian"
  # Agent state of the network node that pointed at the wiped resources.
  rm -rf /var/lib/neutron/dhcp /var/lib/neutron/external /var/lib/neutron/ns-metadata-proxy /var/lib/neutron/ha_confs \
    /var/lib/neutron/ovn-metadata-proxy
  log "state wiped (secrets kept in run/secrets.env)"
fi
mark "down"
# The mount point up.sh made for the hypervisor's /run/libvirt (LAB_GUESTS=real).
[ ! -d /run/libvirt ] || rmdir /run/libvirt 2>/dev/null || true
