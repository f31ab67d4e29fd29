# shellcheck shell=bash
#
# Layout of the state folder (recreated by the scripts, gitignored):
#   run/secrets.env         random passwords, generated once
#   run/openrc-admin, run/openrc-demo, run/clouds.yaml
#   run/pids/<host>.<svc>.pid  process-group leaders started by up.sh
#   run/hosts/<host>/...    per-host files (etc copies, logs, state)
#   run/state/...           MariaDB datadir, RabbitMQ, Glance store
#   run/timings.txt         phase timings of every run

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN=$LAB_DIR/run
PIDS=$RUN/pids
STATE=$RUN/state
HOSTS_DIR=$RUN/hosts
SAFE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH=$SAFE_PATH:$PATH

# The lab's hosts (LAB_HOSTS, set below with the flavour): name,
# management/underlay address, netns. The hosts' mgmt0 devices meet on a
# bridge in a namespace of its own, the wire.
CTL_IP=192.0.2.10
MGMT_PREFIX=24
declare -A HOST_IP=([ctl]=192.0.2.10 [cmp1]=192.0.2.11 [cmp2]=192.0.2.12)
NS_PREFIX=hb-
WIRE_NS=hb-wire
KEYSTONE_URL=http://$CTL_IP:5000
NOVA_URL=http://$CTL_IP:8774
NEUTRON_URL=http://$CTL_IP:9696
GLANCE_URL=http://$CTL_IP:9292
PLACEMENT_URL=http://$CTL_IP:8778
PUBLIC_CIDR=172.24.4.0/24
PUBLIC_GW=172.24.4.1

# L2 flavour: linuxbridge (default), ovs (Open vSwitch agent, userspace
# datapath) or ovn (ML2/OVN: OVN NB/SB and ovn-northd on ctl, ovn-controller
# on both hosts, over Open vSwitch's userspace datapath; no ML2 agents).
# up.sh records the running lab's flavour in run/l2; the other scripts follow it.
if [ -z "${LAB_L2:-}" ] && [ -f "$RUN/l2" ]; then LAB_L2=$(cat "$RUN/l2"); fi
LAB_L2=${LAB_L2:-linuxbridge}
case "$LAB_L2" in linuxbridge|ovs|ovn) ;; *) echo "LAB_L2 must be linuxbridge, ovs or ovn" >&2; exit 2 ;; esac
# Guests: fake (default; instances exist only in nova-compute's memory, a
# netns stands in for each) or real: then cmp2 runs Nova's libvirt driver
# (libvirtd, virtlogd, qemu under TCG) and hosts vm4, a real small guest
# (lab/guest-image.sh) plugged by os-vif, and is no longer idle. Recorded in
# run/guest-mode by up.sh, like the flavour. Every flavour.
if [ -z "${LAB_GUESTS:-}" ] && [ -f "$RUN/guest-mode" ]; then LAB_GUESTS=$(cat "$RUN/guest-mode"); fi
LAB_GUESTS=${LAB_GUESTS:-fake}
case "$LAB_GUESTS" in fake|real) ;; *) echo "LAB_GUESTS must be fake or real" >&2; exit 2 ;; esac
# ctl: controller, network node and a compute; cmp1: a compute with vm3.
# cmp2, with the ML2 agents: a compute with no instance (fake guests), so
# that l2population leaves it without tunnels and forwarding entries, which
# is healthy and must read so; ML2/OVN tunnels to every chassis, so there
# cmp2 exists only as vm4's hypervisor (real guests).
LAB_HOSTS=(ctl cmp1)
{ [ "$LAB_L2" != ovn ] || [ "$LAB_GUESTS" = real ]; } && LAB_HOSTS+=(cmp2)
COMPUTE_HOSTS=("${LAB_HOSTS[@]:1}")
HYPERVISOR_HOST=
[ "$LAB_GUESTS" = real ] && HYPERVISOR_HOST=cmp2
# libvirt_host HOST: HOST runs Nova's libvirt driver.
libvirt_host() { [ -n "$HYPERVISOR_HOST" ] && [ "$1" = "$HYPERVISOR_HOST" ]; }
if [ "$LAB_L2" = ovn ]; then
  L2_AGENT='' L2_AGENT_TYPE='' L2_INI=''
elif [ "$LAB_L2" = ovs ]; then
  L2_AGENT=neutron-openvswitch-agent L2_AGENT_TYPE="Open vSwitch agent" L2_INI=openvswitch_agent.ini
else
  L2_AGENT=neutron-linuxbridge-agent L2_AGENT_TYPE="Linux bridge agent" L2_INI=linuxbridge_agent.ini
fi

T0=${T0:-$(date +%s.%N)}
export SCRIPT_NAME=${SCRIPT_NAME:-$(basename "$0")}

# Messages go to fd 3, a copy of the original stderr, so that they show even
# from inside probes whose output wait_until discards.
exec 3>&2
log() { printf '%s [%s] %s\n' "$(date +%H:%M:%S)" "$SCRIPT_NAME" "$*" >&3; }
die() { printf '%s [%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$SCRIPT_NAME" "$*" >&3; exit 1; }
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
# mark PHASE: record the seconds since the script started in run/timings.txt.
mark() {
  mkdir -p "$RUN"
  local e; e=$(elapsed)
  printf '%s %s %-40s %6ss\n' "$(date -u +%FT%TZ)" "$SCRIPT_NAME" "$1" "$e" >>"$RUN/timings.txt"
  log "[$e s] $1"
}

# lab_lock: one lab-changing script at a time (up, seed, down, fault, record):
# concurrent users of the lab (tests) queue instead of interleaving.
# A script run by one that holds the lock (LAB_LOCK_HELD) runs under it.
lab_lock() {
  [ -n "${LAB_LOCK_HELD:-}" ] && return 0
  mkdir -p "$RUN"
  exec 9>>"$RUN/lab.lock"
  if ! flock -n 9; then
    log "waiting for another lab script to finish (lock $RUN/lab.lock)"
    flock -w "${LAB_LOCK_WAIT:-900}" 9 || die "the lab stayed locked for ${LAB_LOCK_WAIT:-900}s"
  fi
  export LAB_LOCK_HELD=1
}

need_root() { [ "$(id -u)" = 0 ] || die "run me as root"; }

# wait_until SECONDS DESCRIPTION CMD...: poll CMD every 0.3 s until it
# succeeds; on timeout print DESCRIPTION (and $WAIT_HINT) and fail.
wait_until() {
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  while ! "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$end" ]; then
      log "timed out after ${limit}s waiting for: $what"
      [ -n "${WAIT_HINT:-}" ] && log "hint: $WAIT_HINT"
      return 1
    fi
    sleep 0.3
  done
}

ns_of() { echo "${NS_PREFIX}$1"; }
ns_exists() { [ -e "/run/netns/$1" ]; }
# nsx HOST CMD...: run CMD in HOST's network namespace only (no mount/uts).
nsx() { local h=$1; shift; nsenter --net="/run/netns/$(ns_of "$h")" -- "$@"; }

holder_pid() { cat "$PIDS/$1.holder.pid" 2>/dev/null; }

# pid_in_ns PID NETNS: the process is alive (not a zombie) and lives in NETNS.
pid_in_ns() {
  local pid=$1 ns=$2 st
  [ -n "$pid" ] && [ -e "/proc/$pid" ] || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$st" != Z ] || return 1
  [ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)" ]
}

holder_alive() { pid_in_ns "$(holder_pid "$1")" "$(ns_of "$1")"; }

# onh HOST CMD...: run CMD "on" a lab host: its net, mount and uts namespaces.
onh() {
  local h=$1 pid; shift
  pid=$(holder_pid "$h")
  holder_alive "$h" || die "lab host $h is not running (no holder process); run lab/up.sh"
  nsenter -t "$pid" --net --mount --uts --wd="$PWD" -- "$@"
}

svc_pidfile() { echo "$PIDS/$1.$2.pid"; }
svc_pid() { cat "$(svc_pidfile "$1" "$2")" 2>/dev/null; }
svc_alive() { pid_in_ns "$(svc_pid "$1" "$2")" "$(ns_of "$1")"; }

# start_svc HOST NAME USER LOGFILE CMD...: start CMD as USER on HOST in a
# new session (so its process group can be stopped as a whole). The pid of the
# session leader goes to run/pids/HOST.NAME.pid. No-op if already running.
start_svc() {
  local host=$1 name=$2 user=$3 logf=$4; shift 4
  local pidf; pidf=$(svc_pidfile "$host" "$name")
  if svc_alive "$host" "$name"; then return 0; fi
  holder_alive "$host" || die "cannot start $name: host $host is not up"
  rm -f "$pidf"
  mkdir -p "$(dirname "$logf")"
  local home=/
  local -a drop=()
  if [ "$user" != root ]; then
    home=$(getent passwd "$user" | cut -d: -f6)
    drop=(setpriv --reuid="$user" --regid="$user" --init-groups)
  fi
  # shellcheck disable=SC2016,SC2086  # SVC_ENV: space-separated VAR=value words
  setsid nsenter -t "$(holder_pid "$host")" --net --mount --uts --wd=/ -- \
    env -i PATH="$SAFE_PATH" HOME="$home" LANG=C.UTF-8 USER="$user" ${SVC_ENV:-} \
    sh -c 'echo $$ >"$0"; exec "$@"' "$pidf" "${drop[@]}" "$@" \
    >>"$logf" 2>&1 </dev/null 3>&- 9>&- &
  wait_until 10 "pidfile of $host/$name" test -s "$pidf" || die "could not start $name on $host"
  log "started $host/$name (pid $(cat "$pidf"), log ${logf#"$LAB_DIR"/})"
}

# start_os HOST NAME USER ARGS...: start the OpenStack service NAME (its
# command) on HOST; it logs to /var/log/<nova|neutron>/NAME.log as seen on the
# host (run/hosts/HOST/log/<project>/), its console to run/hosts/HOST/log/console/.
start_os() {
  local host=$1 name=$2 user=$3; shift 3
  local proj=${name%%-*}
  start_svc "$host" "$name" "$user" "$HOSTS_DIR/$host/log/console/$name.out" \
    "$name" "$@" --log-file="/var/log/$proj/$name.log"
}

# The services of a host that tests and faults restart.
start_agents() { # HOST: the neutron agents of HOST
  local h=$1
  if [ "$LAB_L2" = ovn ]; then start_ovn_metadata "$h"; return 0; fi
  start_os "$h" "$L2_AGENT" neutron \
    --config-file /etc/neutron/neutron.conf --config-file "/etc/neutron/plugins/ml2/$L2_INI"
  [ "$h" = ctl ] || return 0
  start_dhcp_agent
  start_l3_agent
  start_os ctl neutron-metadata-agent neutron \
    --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/metadata_agent.ini
}
start_dhcp_agent() {
  start_os ctl neutron-dhcp-agent neutron --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/dhcp_agent.ini
}
start_l3_agent() {
  start_os ctl neutron-l3-agent neutron --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/l3_agent.ini
}
start_nova_compute() { # HOST. ctl's nova-compute reads nova-cpu.conf: nova.conf without DB credentials.
  local conf=/etc/nova/nova.conf
  [ "$1" = ctl ] && conf=/etc/nova/nova-cpu.conf
  start_os "$1" nova-compute nova --config-file "$conf" --config-file /etc/nova/nova-compute.conf
}
# start_libvirt HOST: virtlogd, then libvirtd, on the hypervisor (LAB_GUESTS=real).
# virtlogd first: libvirtd would otherwise spawn one itself, untracked.
start_libvirt() {
  local h=$1 d=$HOSTS_DIR/$1
  start_svc "$h" virtlogd root "$d/log/console/virtlogd.out" virtlogd
  WAIT_HINT="see ${d#"$LAB_DIR"/}/libvirt/log/virtlogd.log" \
    wait_until 20 "virtlogd's socket on $h" test -S "$d/libvirt/run/virtlogd-sock" || die "virtlogd did not start on $h"
  start_svc "$h" libvirtd root "$d/log/console/libvirtd.out" libvirtd
}
virsh_on() { local h=$1; shift; onh "$h" timeout 60 virsh -q -c qemu:///system "$@"; }
# libvirt_ready HOST: libvirtd answers with its QEMU capabilities (probed at
# its first start, then cached in run/hosts/HOST/libvirt/cache).
libvirt_ready() { virsh_on "$1" domcapabilities --virttype qemu >/dev/null; }

# ---- OVN (LAB_L2=ovn) ---------------------------------------------------------
# Each host's OVN files are its run/hosts/HOST/ovn/{etc,run,lib,log},
# bind-mounted at /etc/ovn, /run/ovn, /var/lib/ovn and /var/log/ovn.
start_northd() {
  start_svc ctl ovn-northd root "$HOSTS_DIR/ctl/ovn/log/ovn-northd.out" ovn-northd \
    --ovnnb-db=unix:/run/ovn/ovnnb_db.sock --ovnsb-db=unix:/run/ovn/ovnsb_db.sock \
    --pidfile=/run/ovn/ovn-northd.pid --log-file=/var/log/ovn/ovn-northd.log
}
start_ovn_controller() { # HOST
  start_svc "$1" ovn-controller root "$HOSTS_DIR/$1/ovn/log/ovn-controller.out" ovn-controller \
    unix:/run/openvswitch/db.sock --pidfile=/run/ovn/ovn-controller.pid --log-file=/var/log/ovn/ovn-controller.log
}
start_ovn_metadata() { # HOST
  start_os "$1" neutron-ovn-metadata-agent neutron \
    --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/neutron_ovn_metadata_agent.ini
}
# nbctl/sbctl ARGS...: ovn-nbctl/ovn-sbctl on ctl against its databases.
nbctl() { onh ctl ovn-nbctl --timeout=20 "$@"; }
sbctl() { onh ctl ovn-sbctl --timeout=20 "$@"; }
ovn_chassis_ok() { [ "$(sbctl --bare --columns=name list Chassis | sed '/^$/d' | LC_ALL=C sort | paste -sd, -)" = "$(hosts_csv)" ]; }
ovn_controller_connected() { [ "$(onh "$1" ovn-appctl -t ovn-controller connection-status 2>/dev/null)" = connected ]; }
ovn_controllers_connected() { local h; for h in "${LAB_HOSTS[@]}"; do ovn_controller_connected "$h" || return 1; done; }
# ovn_synced: northd and every chassis have caught up with the NB (nb_cfg).
ovn_synced() { onh ctl ovn-nbctl --timeout=10 --wait=hv sync; }
# ovn_chassis_compat: Zed's ML2/OVN reads a chassis' ovn-cms-options and
# ovn-bridge-mappings from its SB external_ids; OVN 23.03's ovn-controller
# publishes them in other_config only. Copy them over (what a deployment of
# these two versions must do), so that ctl is a gateway chassis for Neutron.
ovn_chassis_compat() {
  local c v k
  for c in $(sbctl --bare --columns=name list Chassis); do
    for k in ovn-cms-options ovn-bridge-mappings; do
      v=$(sbctl --if-exists get Chassis "$c" "other_config:$k" 2>/dev/null | tr -d '"')
      [ -n "$v" ] && sbctl set Chassis "$c" "external_ids:$k=$v"
    done
  done
  return 0
}
nb_cfg() { nbctl get NB_Global . nb_cfg; }
sb_cfg() { sbctl get SB_Global . nb_cfg; }

# ---- checksums on Open vSwitch's userspace datapath (LAB_L2=ovs, ovn) --------
# OVS 3.1's userspace datapath takes a veth's or a tap's packets from a
# packet socket and forwards them as they are. A TCP or UDP packet whose
# sender left its checksum to offload (CHECKSUM_PARTIAL) leaves with a
# partial sum, and its receiver drops it; with userspace-tso-enable OVS
# drops it itself at the tunnel ("Tunneling packets with HW offload flags is
# not supported"). ICMP and DHCP (summed in software) pass, TCP does not:
# metadata fails. So every sender on the lab's OVS sums its own packets:
# the namespace ends of the agents' veths (below), the fake VMs' eth0
# (seed.sh) and the real guest (virtio_net.csum=0, up.sh).
ovnmeta_on() { onh "$1" ip netns list | grep -q '^ovnmeta-'; }
# tx_csum_off: on every host, every device of the agents' namespaces.
tx_csum_off() {
  [ "$LAB_L2" != linuxbridge ] || return 0
  local h ns d
  for h in "${LAB_HOSTS[@]}"; do
    for ns in $(onh "$h" ip netns list | awk '$1 ~ /^(qrouter|qdhcp|ovnmeta)-/ {print $1}'); do
      for d in $(onh "$h" ip netns exec "$ns" ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); if ($2 != "lo") print $2}'); do
        onh "$h" ip netns exec "$ns" ethtool -K "$d" tx off >/dev/null || log "tx checksum offload left on for $h $ns $d"
      done
    done
  done
}

# ovs HOST ARGS...: ovs-vsctl on HOST (its own OVSDB).
ovs() { local h=$1; shift; onh "$h" ovs-vsctl --timeout=20 "$@"; }

start_serialproxy() { start_os ctl nova-serialproxy nova --config-file /etc/nova/nova.conf; }

# assert_started_alive: every service with a pidfile still runs; otherwise
# fail at once, quoting the end of its console output.
assert_started_alive() {
  local f n h svc out
  for f in "$PIDS"/*.pid; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .pid); h=${n%%.*}; svc=${n#*.}
    [ "$svc" = holder ] && continue
    if ! svc_alive "$h" "$svc"; then
      out=$HOSTS_DIR/$h/log/console/$svc.out
      [ -f "$out" ] || out=$HOSTS_DIR/$h/log/$svc.log
      die "$h/$svc has exited; last lines of ${out#"$LAB_DIR"/}:
$(tail -n 5 "$out" 2>/dev/null | cut -c1-400)"
    fi
  done
}

alive_and() { assert_started_alive; "$@"; }

# ---- health of the running lab (API views) ----------------------------------
# expected_agents: HOST/TYPE of every agent the lab runs, sorted, comma-separated:
# ctl: L2, DHCP, L3, metadata; each compute host: L2. With OVN: each
# chassis' OVN Controller (ctl's a Gateway) and OVN Metadata agent.
expected_agents() {
  if [ "$LAB_L2" = ovn ]; then
    printf '%s\n' "ctl/OVN Controller Gateway agent" "ctl/OVN Metadata agent"
    for h in "${COMPUTE_HOSTS[@]}"; do printf '%s\n' "$h/OVN Controller agent" "$h/OVN Metadata agent"; done
  else
    printf '%s\n' "ctl/DHCP agent" "ctl/L3 agent" "ctl/$L2_AGENT_TYPE" "ctl/Metadata agent"
    for h in "${COMPUTE_HOSTS[@]}"; do echo "$h/$L2_AGENT_TYPE"; done
  fi | LC_ALL=C sort | paste -sd, -
}
# agents_ok: every expected agent alive.
agents_ok() {
  local a
  a=$(API_QUIET=1 api GET "$NEUTRON_URL/v2.0/agents") || return 1
  [ "$(jq -r '[.agents[] | select(.alive and .admin_state_up) | "\(.host)/\(.agent_type)"] | sort | join(",")' <<<"$a")" = "$(expected_agents)" ]
}
# hosts_csv: the lab's hosts, sorted, comma-separated (as SQL's GROUP_CONCAT).
hosts_csv() { printf '%s\n' "${LAB_HOSTS[@]}" | LC_ALL=C sort | paste -sd, -; }
# services_ok: conductor, scheduler and every nova-compute up.
services_ok() {
  local s want
  s=$(API_QUIET=1 api GET "$NOVA_URL/v2.1/os-services") || return 1
  want=$({ printf '%s/nova-compute\n' "${LAB_HOSTS[@]}"; echo ctl/nova-conductor; echo ctl/nova-scheduler; } | LC_ALL=C sort | paste -sd, -)
  [ "$(jq -r '[.services[] | select(.state=="up" and .status=="enabled") | "\(.host)/\(.binary)"] | sort | join(",")' <<<"$s")" = "$want" ]
}
mapped_ok() { [ "$(sql "SELECT GROUP_CONCAT(host ORDER BY host) FROM nova_api.host_mappings")" = "$(hosts_csv)" ]; }
lab_healthy() { agents_ok && services_ok && mapped_ok; }

# group_alive PGID: a live (non-zombie) process is in process group PGID.
# (Orphans here are adopted by a PID 1 that does not reap them.)
group_alive() { ps -e -o pgid=,stat= | awk -v g="$1" '$1==g && $2 !~ /^Z/ {f=1} END {exit !f}'; }
group_dead() { ! group_alive "$1"; }

# stop_svc HOST NAME: TERM the service's process group, KILL after 20 s.
stop_svc() {
  local host=$1 name=$2 pid
  pid=$(svc_pid "$host" "$name")
  if [ -z "$pid" ] || ! svc_alive "$host" "$name"; then
    rm -f "$(svc_pidfile "$host" "$name")"; return 0
  fi
  kill -TERM -- "-$pid" 2>/dev/null || true
  if ! wait_until 20 "$host/$name to exit" group_dead "$pid"; then
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait_until 5 "$host/$name to die" group_dead "$pid" || true
  fi
  rm -f "$(svc_pidfile "$host" "$name")"
  log "stopped $host/$name (pgid $pid)"
}

load_secrets() {
  [ -f "$RUN/secrets.env" ] || die "no $RUN/secrets.env: run lab/up.sh first"
  # shellcheck disable=SC1091
  . "$RUN/secrets.env"
}

# ---- HTTP API helpers (curl inside hb-ctl) ----------------------------------

# os_token USER PASSWORD PROJECT: print a project-scoped token.
os_token() {
  local body hdr
  body=$(jq -nc --arg u "$1" --arg p "$2" --arg pr "$3" '{auth:{identity:{methods:["password"],password:{user:{name:$u,domain:{name:"Default"},password:$p}}},scope:{project:{name:$pr,domain:{name:"Default"}}}}}')
  hdr=$(nsx ctl curl -sS -m 30 -o /dev/null -D - -H 'Content-Type: application/json' -d "$body" "$KEYSTONE_URL/v3/auth/tokens") || return 1
  printf '%s\n' "$hdr" | tr -d '\r' | awk 'tolower($1)=="x-subject-token:" {print $2}'
}

admin_token() {
  [ -n "${TOKEN:-}" ] || TOKEN=$(os_token admin "$ADMIN_PASS" admin)
  [ -n "$TOKEN" ] || die "could not get an admin token from keystone"
}

# api METHOD URL [JSON]: call the API with $TOKEN; print the body; fail on
# HTTP >= 400 (the body goes to stderr then). API_STATUS holds the status.
API_STATUS=
api() {
  local m=$1 url=$2 data=${3:-} out code
  local -a args=(-sS -m 120 -X "$m" -H "X-Auth-Token: $TOKEN" -H 'Accept: application/json'
    -w '\n%{http_code}')
  [ -n "${API_MICROVERSION:-}" ] && args+=(-H "OpenStack-API-Version: compute $API_MICROVERSION" -H "X-OpenStack-Nova-API-Version: $API_MICROVERSION")
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' -d "$data")
  out=$(nsx ctl curl "${args[@]}" "$url") || { API_STATUS=000; log "$m $url: curl failed"; return 1; }
  code=${out##*$'\n'}
  API_STATUS=$code
  out=${out%$'\n'*}
  if [ "$code" -ge 400 ]; then
    [ -n "${API_QUIET:-}" ] || log "$m $url -> HTTP $code: ${out:0:400}"
    return 1
  fi
  printf '%s' "$out"
}

# ports_active QUERY: every Neutron port matching the filter QUERY is ACTIVE.
ports_active() {
  [ "$(api GET "$NEUTRON_URL/v2.0/ports?$1" | jq '[.ports[] | select(.status!="ACTIVE")] | length')" = 0 ]
}
http_code() { nsx ctl curl -s -m 5 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null; }
http_ok() { local c; c=$(http_code "$1"); [ -n "$c" ] && [ "$c" != 000 ] && [ "$c" -lt 500 ]; }

# sql QUERY: run SQL as MariaDB root through the lab's socket.
MYSQL_SOCK=/run/mysqld/hb-mysqld.sock
sql() { mariadb --socket="$MYSQL_SOCK" -uroot -N -B -e "$1"; }

# Namespace isolation check: lab host namespaces have no default route and no
# veth whose peer lives outside the lab's namespaces (e.g. the host's).
check_isolation() {
  local h ns
  for h in "${LAB_HOSTS[@]}" wire; do
    ns=$(ns_of "$h")
    ns_exists "$ns" || continue
    if [ -n "$(ip -n "$ns" route show default)" ] || [ -n "$(ip -n "$ns" -6 route show default)" ]; then
      die "SAFETY: namespace $ns has a default route; aborting"
    fi
    local ids bad
    ids=$(ip -n "$ns" -j -d link show type veth | jq -r '.[] | select(.link_netnsid != null) | .link_netnsid' | sort -u)
    for id in $ids; do
      bad=$(ip -n "$ns" netns list-id | awk -v id="$id" '$2==id' )
      # A compute host's own namespaces (OVN's ovnmeta-*) are named only in
      # its own /run/netns.
      if [ "$h" != ctl ] && ! grep -q 'name:' <<<"$bad"; then
        bad=$(onh "$h" ip netns list-id 2>/dev/null | awk -v id="$id" '$2==id')
      fi
      case "$bad" in
        *"name: hb-"*|*"name: labvm-"*|*"name: qdhcp-"*|*"name: qrouter-"*|*"name: ovnmeta-"*) ;;
        *) die "SAFETY: namespace $ns has a veth whose peer is outside the lab (nsid $id: ${bad:-unnamed}); aborting" ;;
      esac
    done
  done
}

# ---- real guests (LAB_GUESTS=real) ----------------------------------------------
# console_output SERVER_ID: the guest's console log as Nova's API gives it
# (os-getConsoleOutput reads the file virtlogd writes), CRs dropped.
console_output() {
  API_QUIET=1 api POST "$NOVA_URL/v2.1/servers/$1/action" '{"os-getConsoleOutput":{"length":-1}}' | jq -r '.output // empty' | tr -d '\r'
}
console_tail() { console_output "$1" | tail -n 15; }
# guest_network_up SERVER_ID IP: the small guest printed its network state
# with address IP (lab/guest/small/rc.boot). A domain start truncates the
# log, so a rebuilt or rebooted guest's old line is gone.
# (The log is read whole first: grep -q stopping early would fail the
# pipeline under pipefail.)
guest_network_up() { local c; c=$(console_output "$1") && grep -q "^hbg-network-state: eth0=$2/" <<<"$c"; }
# guest_login_prompt SERVER_ID: the getty on ttyS0 prompted.
guest_login_prompt() { local c; c=$(console_output "$1") && grep -q ' login: ' <<<"$c"; }
# console_has SERVER_ID REGEX: the console log has a line matching REGEX.
console_has() { local c; c=$(console_output "$1") && grep -q -- "$2" <<<"$c"; }
