#!/usr/bin/env bash
# lab/virt-test.sh [--runs N] [--cpu-mode host-model|none] [--nova-cmdline] [--cold] [--keep]
#
# Issue 15, part 2: libvirtd and virtlogd confined to a lab-like host, and the
# small guest booted through libvirt under TCG with the domain XML Nova's
# libvirt driver writes, so that Nova's libvirt driver on cmp1 is only
# configuration. Without the lab: the host is the network namespace hbg-virt
# (never the lab's hb-*) with a holder process owning its mount and UTS
# namespaces, as lab/up.sh's start_holder does, and its own /etc/libvirt,
# /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and /run/libvirt,
# bind-mounted from lab/run/virt/ inside that mount namespace only.
#
#   1. the host: netns, holder (host name "virt", fresh sysfs), binds;
#      libvirt's configuration copied from the packages' with the default
#      network removed (no virbr0), cgroups off, unix sockets only;
#   2. virtlogd, then libvirtd, started in it (times libvirtd until it answers);
#   3. a bridge brtest with a dnsmasq as Neutron's and the metadata service
#      (lab/guest-lib.sh's), the instance directory as Nova lays it out
#      (kernel, ramdisk, a 1 MiB raw disk, console.log), the domain
#      (lab/guest/nova_domain.py: Nova's config classes) defined, started
#      paused, its tap put on brtest, resumed (what Nova does around
#      vif-plugged), and checked: the lease, the metadata request, the boot
#      output in the console.log virtlogd writes, the <console type='tcp'>
#      <log file=...> Nova's os-getConsoleOutput reads, a root login through
#      the TCP serial port;
#   4. the timings: libvirtd start, domain start -> lease / network state /
#      login prompt / logged-in shell for each of N runs (default 3), and the
#      memory (PSS) of libvirtd, virtlogd and qemu;
#   5. everything stopped by PID, the namespace deleted; the machine's own
#      namespace is checked for libvirt's traces before and after.
#
# The packages must be installed first (their services kept from starting;
# see lab/README.md): libvirt-daemon-system libvirt-clients python3-libvirt
# qemu-system-x86 dnsmasq-base, and python3-nova for the domain XML.
# The image property os_command_line is set as the lab must set it for the
# small guest: "console=tty0 console=ttyS0". --nova-cmdline boots with
# Nova's own command line instead ("root=/dev/vda console=tty0
# console=ttyS0 console=hvc0 no_timer_check"): the last console= names
# /dev/console, hvc0 never registers (no virtio-serial device), so
# /dev/console is tty0 and everything the guest's init prints (lease,
# metadata, network state) goes to the invisible VGA console: only the
# kernel's lines and the getty reach ttyS0 and console.log. The lease check
# then fails, on purpose.
# --cold empties libvirt's capabilities cache first: libvirtd's first start
# on a host, when it probes qemu.
# --keep leaves the host, the daemons and the last domain running for a look,
# also when a check fails (lab/virt-test.sh --down ends them).
set -euo pipefail
export SCRIPT_NAME=virt-test.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=guest-lib.sh
. "$LAB_DIR/guest-lib.sh"
need_root

VNS=hbg-virt
VRUN=$RUN/virt
VPIDS=$VRUN/pids
GUEST_RUN=$VRUN/net # dnsmasq, leases, metadata tree and log (guest-lib.sh's names)
DOM=instance-00000001
TAP=tap1a14ec0a-2c # Nova names the tap after the port: "tap" + its first 11 characters
SERIAL_PORT=10000  # the first port of Nova's [serial_console] port_range
INST=$VRUN/instances/$GUEST_UUID

runs=3 cpu_mode=host-model keep='' down_only='' cold='' cmdline="console=tty0 console=ttyS0"
usage() {
  echo "usage: lab/virt-test.sh [--runs N] [--cpu-mode host-model|none] [--nova-cmdline] [--cold] [--keep] | --down" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=${2:-}; shift 2 ;;
    --cpu-mode) cpu_mode=${2:-}; shift 2 ;;
    --nova-cmdline) cmdline=''; shift ;;
    --keep) keep=1; shift ;;
    --cold) cold=1; shift ;;
    --down) down_only=1; shift ;;
    *) usage ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage
case "$cpu_mode" in host-model | none) ;; *) usage ;; esac

holder() { cat "$VPIDS/holder.pid" 2>/dev/null; }
# onv CMD...: run CMD on the host hbg-virt (its net, mount and UTS namespaces).
onv() { nsenter -t "$(holder)" --net --mount --uts -- "$@"; }
vsh() { onv timeout 60 virsh -q -c qemu:///system "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# stop_pid FILE: TERM the process FILE names (ours), KILL it after 10 s.
stop_pid() {
  local pid i
  pid=$(cat "$1" 2>/dev/null) || return 0
  rm -f "$1"
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || return 0
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "PID $pid ignored TERM for 10 s: KILL"
  kill -KILL "$pid" 2>/dev/null || true
}

virt_down() {
  if [ -n "$(holder)" ] && [ -S "$VRUN/run/libvirt-sock" ]; then
    vsh destroy "$DOM" >/dev/null 2>&1 || true
    vsh undefine "$DOM" >/dev/null 2>&1 || true
  fi
  stop_pid "$VPIDS/libvirtd.pid"
  stop_pid "$VPIDS/virtlogd.pid"
  stop_pidfile "$GUEST_RUN/dnsmasq.holder.pid"
  stop_pidfile "$GUEST_RUN/metadata.pid"
  if [ -e "/run/netns/$VNS" ]; then
    local p
    # Anything still in our namespace was started by us (a qemu whose
    # libvirtd died, the holder).
    for p in $(ip netns pids "$VNS"); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$VNS"
  fi
  stop_pid "$VPIDS/holder.pid"
  # The mount point this script made on the machine, if it did.
  if [ -e "$VRUN/made-run-libvirt" ]; then
    rmdir /run/libvirt 2>/dev/null || log "/run/libvirt on the machine is not empty: left alone"
    rm -f "$VRUN/made-run-libvirt"
  fi
}

# root_traces: what libvirt would leave in the machine's own namespace: its
# bridge, taps, iptables chains, daemons outside hbg-virt.
root_traces() {
  local p comm
  ip -o link show | awk -F': ' '{print $2}' | grep -E '^(virbr|vnet|tap|brtest)' || true
  { iptables-save 2>/dev/null; iptables-legacy-save 2>/dev/null; ip6tables-save 2>/dev/null; } | grep -i libvirt || true
  for comm in libvirtd virtlogd virtlockd qemu-system-x86; do
    for p in $(pgrep -x "$comm" || true); do
      pid_in_ns "$p" "$VNS" || echo "$comm (PID $p) outside $VNS"
    done
  done
}

# One run at a time: hbg-virt, its state folder and the serial port are fixed.
mkdir -p "$VRUN"
exec 8>>"$VRUN/lock"
flock -n 8 || die "another lab/virt-test.sh is running (lock $VRUN/lock)"

if [ -n "$down_only" ]; then
  virt_down
  log "hbg-virt stopped and deleted"
  exit 0
fi

for c in libvirtd virtlogd virsh qemu-system-x86_64 dnsmasq; do
  command -v "$c" >/dev/null ||
    die "$c is missing: install libvirt-daemon-system libvirt-clients qemu-system-x86 dnsmasq-base (see lab/README.md, with a policy-rc.d)"
done
/usr/bin/python3 -c 'import nova.virt.libvirt.config' 2>/dev/null ||
  die "python3-nova is missing (lab/up.sh installs it): lab/guest/nova_domain.py uses Nova's own config classes"
"$LAB_DIR/guest-image.sh" small
virt_down
before=$(root_traces)
[ -z "$before" ] || die "libvirt traces in the machine's own namespace before the test: $before"
[ -n "$keep" ] || trap virt_down EXIT

# ---- 1. the host ---------------------------------------------------------------
# libvirt's state, fresh each run except the capabilities cache (qemu probed
# once per binary, as on a real host after its first start) unless --cold.
[ -z "$cold" ] || rm -rf "$VRUN/cache"
rm -rf "${VRUN:?}/instances" "$GUEST_RUN"
mkdir -p "$VPIDS" "$GUEST_RUN"
libvirt_state "$VRUN"
# The host resolves its own name (libvirtd looks it up), as the lab's hosts do.
printf '127.0.0.1 localhost\n127.0.1.1 virt\n' >"$VRUN/hosts"

ip netns add "$VNS"
binds="/etc/libvirt=$VRUN/etc /var/lib/libvirt=$VRUN/lib /var/log/libvirt=$VRUN/log"
binds+=" /var/cache/libvirt=$VRUN/cache /run/libvirt=$VRUN/run /run/dbus=$VRUN/dbus /etc/hosts=$VRUN/hosts"
# The mount point: none on the machine (no libvirtd runs there); made empty
# and removed at the end.
if [ ! -d /run/libvirt ]; then
  mkdir /run/libvirt
  : >"$VRUN/made-run-libvirt"
fi
# As start_holder in up.sh, but --propagation slave: no mount made inside
# (the binds, libvirt's per-domain /dev) can propagate back to the machine.
# shellcheck disable=SC2016,SC2086  # $binds: space-separated MOUNTPOINT=SOURCE words
setsid nsenter --net="/run/netns/$VNS" -- \
  unshare --mount --uts --propagation slave -- \
  /bin/sh -c '
    set -e
    pidf=$1; shift
    hostname virt
    umount -l /sys
    mount -t sysfs sysfs /sys
    for b in "$@"; do mount --bind "${b#*=}" "${b%%=*}"; done
    echo $$ >"$pidf.tmp" && mv "$pidf.tmp" "$pidf"
    exec sleep infinity' holder "$VPIDS/holder.pid" $binds \
  >"$VRUN/holder.log" 2>&1 </dev/null 3>&- 8>&- &
disown $! # ended by PID in virt_down; no "Killed" notice from bash
wait_until 10 "the holder of hbg-virt" test -s "$VPIDS/holder.pid" || die "the holder did not start: $(cat "$VRUN/holder.log")"
pid_in_ns "$(holder)" "$VNS" || die "the holder is not in $VNS: $(cat "$VRUN/holder.log")"
onv ip link set lo up
mark "virt: host hbg-virt"

# ---- 2. virtlogd and libvirtd --------------------------------------------------
# start_daemon NAME CMD...: CMD on hbg-virt in its own session, at low
# priority (the machine's 2 cores are shared), its PID in VPIDS/NAME.pid.
start_daemon() {
  local name=$1; shift
  setsid nsenter -t "$(holder)" --net --mount --uts -- nice -n 15 "$@" \
    >"$VRUN/$name.out" 2>&1 </dev/null 3>&- 8>&- &
  echo $! >"$VPIDS/$name.pid"
  disown $!
}
start_daemon virtlogd virtlogd
WAIT_HINT="see $VRUN/virtlogd.out, $VRUN/log/virtlogd.log" \
  wait_until 20 "virtlogd's socket" test -S "$VRUN/run/virtlogd-sock" || die "virtlogd did not start"
t=$(now)
start_daemon libvirtd libvirtd
WAIT_HINT="see $VRUN/libvirtd.out, $VRUN/log/libvirtd.log" \
  wait_until 120 "libvirtd to answer" vsh version || die "libvirtd did not answer within 120 s"
libvirtd_start=$(since "$t")
# The QEMU driver answers once its capabilities are known (probed at the
# first start, cached under /var/cache/libvirt).
wait_until 120 "libvirtd's QEMU capabilities" vsh domcapabilities --virttype qemu ||
  die "libvirtd's QEMU driver did not answer (see $VRUN/log/libvirtd.log)"
libvirtd_caps=$(since "$t")
log "libvirtd answers after $libvirtd_start s, with the QEMU capabilities after $libvirtd_caps s"
[ -z "$(vsh net-list --all --name | sed '/^$/d')" ] || die "libvirt has a network defined: $(vsh net-list --all)"
! onv ip link show virbr0 >/dev/null 2>&1 || die "virbr0 exists in hbg-virt"
mark "virt: libvirtd up"

# ---- 3. network, instance, domain -----------------------------------------------
# brtest stands for the host's Neutron bridge: the router (10.0.0.1), the
# DHCP port (10.0.0.2) and the metadata address, as hbg-test's tap has them.
onv ip link add brtest type bridge
onv ip addr add 10.0.0.2/24 dev brtest
onv ip addr add 10.0.0.1/24 dev brtest
onv ip addr add 169.254.169.254/32 dev brtest
onv ip link set brtest up
gmd_tree ''
: >"$GUEST_RUN/leases"
start_daemon dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --no-hosts --no-resolv \
  --user=root --group=root --interface=brtest --bind-interfaces --except-interface=lo \
  --dhcp-leasefile="$GUEST_RUN/leases" \
  --dhcp-range=set:subnet0,10.0.0.0,static,255.255.255.0,86400s \
  --dhcp-host="$GUEST_MAC,$GUEST_IP,$GUEST_NAME" --domain=openstacklocal \
  --dhcp-option=tag:subnet0,option:router,10.0.0.1 \
  --dhcp-option=tag:subnet0,option:classless-static-route,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1 \
  --dhcp-option=tag:subnet0,option:dns-server,10.0.0.2 \
  --dhcp-option=tag:subnet0,option:mtu,1450 \
  --log-dhcp --log-facility="$GUEST_RUN/dnsmasq.log"
mv "$VPIDS/dnsmasq.pid" "$GUEST_RUN/dnsmasq.holder.pid"
start_daemon metadata /usr/bin/python3 "$LAB_DIR/guest/metadata.py" "$GUEST_RUN/md" 169.254.169.254 80
mv "$VPIDS/metadata.pid" "$GUEST_RUN/metadata.pid"
wait_until 10 "the metadata service" onv bash -c 'exec 3<>/dev/tcp/169.254.169.254/80' ||
  die "the metadata service did not start, see $VRUN/metadata.out"

# The instance directory as Nova's libvirt driver fills it for an image
# with kernel_id/ramdisk_id: kernel, ramdisk, the root disk (raw, any tiny
# image: the small guest never mounts it) and console.log created first
# (_ensure_console_log_for_instance).
mkdir -p "$INST"
cp "$GUEST_CACHE/small/vmlinuz" "$INST/kernel"
cp "$GUEST_CACHE/small/initrd.img" "$INST/ramdisk"
truncate -s 1M "$INST/disk"
: >"$INST/console.log"
env -i PATH="$SAFE_PATH" /usr/bin/python3 "$LAB_DIR/guest/nova_domain.py" "$DOM" "$GUEST_UUID" "$INST" \
  "$TAP" "$GUEST_MAC" 1450 127.0.0.1 "$SERIAL_PORT" 512 "$cpu_mode" "$cmdline" >"$VRUN/domain.xml" ||
  die "could not write the domain XML with Nova's config classes"
vsh define "$VRUN/domain.xml" >/dev/null || die "virsh define refused $VRUN/domain.xml"

# log_time FILE REGEX DEADLINE_EPOCH: seconds from $start until FILE has a
# line matching REGEX; fails at the deadline.
log_time() {
  while ! tr -d '\r' <"$1" | grep -qE "$2"; do
    awk -v d="$3" -v n="$(now)" 'BEGIN{exit !(n > d)}' && return 1
    sleep 0.1
  done
  since "$start"
}

qemu_pid() { cat "$VRUN/run/qemu/$DOM.pid" 2>/dev/null; }
pss() { awk '/^Pss:/ {print int($2/1024)}' "/proc/$1/smaps_rollup" 2>/dev/null || echo '?'; }

declare -A times=()
fail=0
for run in $(seq "$runs"); do
  : >"$GUEST_RUN/leases"
  md_seen=$(wc -l <"$VRUN/metadata.out")
  start=$(now)
  # Nova starts the domain paused, plugs (os-vif) and waits for Neutron's
  # vif-plugged, then resumes: here the plug is putting libvirt's tap on brtest.
  vsh start --paused "$DOM" >/dev/null || die "run $run: virsh start failed: $(tail -n 5 "$VRUN/log/qemu/$DOM.log")"
  onv ip link show "$TAP" >/dev/null 2>&1 || die "run $run: libvirt did not create $TAP"
  onv ip link set "$TAP" master brtest
  onv ip link set "$TAP" up
  vsh resume "$DOM" >/dev/null || die "run $run: virsh resume failed"
  resumed=$(since "$start")
  deadline=$(awk -v s="$start" 'BEGIN{printf "%.3f", s + 120}')
  line=''
  for m in "lease=lease of [0-9.]+ obtained from 10\.0\.0\.2" "network-state=hbg-network-state: eth0=" \
    "login-prompt=$GUEST_NAME login: "; do
    name=${m%%=*}
    secs=$(log_time "$INST/console.log" "${m#*=}" "$deadline") ||
      die "run $run: no '$name' in the console log within 120 s ($INST/console.log)"
    times[$name]+="$secs "
    line+="$name $secs s, "
  done
  # Log in through the TCP serial port, as nova-serialproxy would connect.
  out=$(onv /usr/bin/python3 "$LAB_DIR/guest/console.py" "tcp:127.0.0.1:$SERIAL_PORT" "$start" 120 \
    --login "root:$LAB_PASSWORD") || die "run $run: login on the TCP serial port failed: $out"
  secs=$(awk '/^login ok/ {print $3}' <<<"$out")
  times[login]+="$secs "
  times[resumed]+="$resumed "
  log "run $run: resumed $resumed s, ${line}logged in $secs s"

  con=$(tr -d '\r' <"$INST/console.log")
  addr=$(sed -n 's/^hbg-network-state: eth0=\([0-9.]*\)\/.*/\1/p' <<<"$con" | tail -n1)
  leased=$(awk '{print $3}' "$GUEST_RUN/leases")
  if [ -z "$addr" ] || [ "$addr" != "$leased" ]; then
    log "FAIL: the console shows address '$addr', dnsmasq leased '$leased'"; fail=1
  fi
  tail -n +$((md_seen + 1)) "$VRUN/metadata.out" | grep -q '"GET /latest/meta-data/instance-id HTTP' ||
    { log "FAIL: the guest never asked the metadata service ($VRUN/metadata.out)"; fail=1; }
  grep -q 'Linux version' <<<"$con" || { log "FAIL: no kernel boot output in $INST/console.log"; fail=1; }
  # What nova's get_console_output reads: the live XML's tcp console's log.
  xml=$(vsh dumpxml "$DOM")
  printf '%s\n' "$xml" >"$VRUN/live.xml"
  if ! grep -qF "<log file='$INST/console.log'" <<<"$xml" || ! grep -q "<console type='tcp'>" <<<"$xml"; then
    log "FAIL: the live XML has no tcp console logged to $INST/console.log"; fail=1
  fi
  if [ "$run" = 1 ]; then
    log "memory (PSS MiB): libvirtd $(pss "$(cat "$VPIDS/libvirtd.pid")"), virtlogd $(pss "$(cat "$VPIDS/virtlogd.pid")"), qemu $(pss "$(qemu_pid)")"
    log "qemu runs as $(ps -o user= -p "$(qemu_pid)"): $(tr '\0' ' ' <"/proc/$(qemu_pid)/cmdline" | cut -c1-160)..."
    cp "$INST/console.log" "$VRUN/console-run1.log"
  fi
  if [ "$run" != "$runs" ] || [ -z "$keep" ]; then
    vsh destroy "$DOM" >/dev/null || die "run $run: virsh destroy failed"
  fi
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)]}'; }
for name in resumed lease network-state login-prompt login; do
  read -r mn md < <(median <<<"${times[$name]}")
  log "small qemu/libvirt $name: min $mn s, median $md s over $runs run(s)"
done
mark "virt: $runs run(s)"
[ "$fail" = 0 ] || die "checks failed"

if [ -n "$keep" ]; then
  log "kept: lab/virt-test.sh --down ends it; virsh: nsenter -t $(holder) --net --mount --uts virsh -c qemu:///system"
  exit 0
fi
trap - EXIT
virt_down
after=$(root_traces)
[ -z "$after" ] || die "libvirt traces left in the machine's own namespace: $after"
[ ! -d /run/libvirt ] || [ -z "$(ls -A /run/libvirt)" ] || die "/run/libvirt on the machine is not empty"
log "libvirtd $libvirtd_start s (QEMU capabilities $libvirtd_caps s); lease, metadata, console log, TCP serial login OK; hbg-virt gone"
