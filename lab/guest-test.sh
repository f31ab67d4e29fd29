#!/usr/bin/env bash
# lab/guest-test.sh [--guest small|debian] [--runs N] [--accel auto|tcg|kvm]
#                   [--user-data FILE] [--cmdline WORDS] [--record FILE]
#                   [--timeout SECONDS]
#
# Boots a lab guest image (built or reused by lab/guest-image.sh) under qemu,
# without the lab, in a network namespace of its own (hbg-test, see
# guest-lib.sh), and checks what a healthy boot must show:
#   - the guest took a real DHCP lease: the address on its console is the
#     one dnsmasq's lease file holds;
#   - it fetched its metadata from 169.254.169.254 (the metadata service's
#     request log);
#   - the getty on ttyS0 prompts, and root logs in with the lab password;
#   - (small guest) it answers a ping from the namespace.
# Each run prints the seconds from qemu's start to the lease, the network
# state, the login prompt and a logged-in shell; several runs print their
# minimum and median.
#
# --user-data FILE  serve FILE as the guest's user-data (a #!/bin/sh script
#                   for the small guest, #cloud-config for the Debian one):
#                   the way faults are injected. The checks above are then not
#                   made: a fault is expected to break them.
# --cmdline WORDS    add WORDS to the guest's kernel command line (as Nova's
#                   os_command_line image property would), e.g.
#                   "hbg.fault=no-host-routes" for the small guest's faults
#                   (lab/guest/small/faults.sh). With an hbg.fault= word the
#                   checks are not made either; what the network did (ping,
#                   ARP, dnsmasq's offers and acks) is printed instead.
# --record FILE     keep the console log as `openstack console log show`
#                   returns it (Nova drops ESC and CR) in FILE.
# --accel auto      (default) a probe boots the small guest under KVM with a
#                   deadline and uses KVM only if it reaches its network
#                   state; else TCG. On these machines a nested KVM guest
#                   hangs in early boot, so the answer is usually tcg.
set -euo pipefail
export SCRIPT_NAME=guest-test.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=guest-lib.sh
. "$LAB_DIR/guest-lib.sh"
need_root

guest=small runs=1 accel=auto userdata='' record='' timeout='' cmdline=''
usage() {
  echo "usage: lab/guest-test.sh [--guest small|debian] [--runs N] [--accel auto|tcg|kvm] [--user-data FILE] [--cmdline WORDS] [--record FILE] [--timeout SECONDS]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --guest) guest=${2:-}; shift 2 ;;
    --runs) runs=${2:-}; shift 2 ;;
    --accel) accel=${2:-}; shift 2 ;;
    --user-data) userdata=${2:-}; shift 2 ;;
    --cmdline) cmdline=${2:-}; shift 2 ;;
    --record) record=${2:-}; shift 2 ;;
    --timeout) timeout=${2:-}; shift 2 ;;
    *) usage ;;
  esac
done
case "$guest" in small | debian) ;; *) usage ;; esac
case "$accel" in auto | tcg | kvm) ;; *) usage ;; esac
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage
[ -z "$userdata" ] || [ -r "$userdata" ] || die "cannot read $userdata"
# Words for the kernel, not for a shell: letters, digits and . _ = , : / -
[[ "$cmdline" =~ ^[A-Za-z0-9._=,:/\ -]*$ ]] || die "--cmdline: only letters, digits, spaces and . _ = , : / - please"
export GUEST_CMDLINE=$cmdline
# A fault: the healthy boot's checks do not hold.
faulty=''
if [ -n "$userdata" ] || [[ " $cmdline" == *" hbg.fault="* ]]; then faulty=1; fi
# Under TCG the small guest logs in within seconds, the Debian one (systemd,
# cloud-init in Python) within a few minutes.
if [ -z "$timeout" ]; then
  if [ "$guest" = small ]; then timeout=120; else timeout=420; fi
fi
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || usage

# qemu and dnsmasq (the binary alone, no service), on first use.
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
"$LAB_DIR/guest-image.sh" "$guest"
trap gnet_down EXIT

# kvm_probe: 0 when the small guest, under KVM, reaches its network state
# within a deadline (TCG needs about 10 s for the same), trying the host's
# CPU and then qemu's plain qemu64 model; GUEST_KVM_CPU is the one that
# worked, kvm_why says what each did otherwise.
kvm_probe() {
  local start cpu deadline=${KVM_PROBE_DEADLINE:-40}
  [ -c /dev/kvm ] || { kvm_why="no /dev/kvm"; return 1; }
  [ "$guest" = small ] || "$LAB_DIR/guest-image.sh" small
  kvm_why=''
  for cpu in host qemu64; do
    gnet_up ''
    start=$(GUEST_KVM_CPU=$cpu gboot small kvm)
    if gwatch "$start" "$deadline" "network-state=hbg-network-state: eth0=" >/dev/null 2>&1; then
      gnet_down
      GUEST_KVM_CPU=$cpu
      return 0
    fi
    # qemu's own complaint when it gave up (an MSR KVM refuses), else a hang.
    kvm_why+="-cpu $cpu: $(grep -m1 -i error "$GUEST_RUN/qemu.log" || echo "no network state within ${deadline}s (console: $(wc -c <"$GUEST_RUN/console.log") bytes)"); "
    gnet_down
  done
  return 1
}
if [ "$accel" = auto ]; then
  if kvm_probe; then accel=kvm; else accel=tcg; fi
  log "KVM probe: using $accel$([ "$accel" = kvm ] && echo " -cpu $GUEST_KVM_CPU" || echo " (KVM ${kvm_why%; })")"
fi
export GUEST_KVM_CPU

# What the console shows once the guest is up, in order.
if [ "$guest" = small ]; then
  marks=("lease=lease of [0-9.]+ obtained from 10\.0\.0\.2"
    "network-state=hbg-network-state: eth0="
    "login-prompt=$GUEST_NAME login: ")
  md_asked='"GET /latest/meta-data/instance-id HTTP'
else
  marks=("lease=ci-info: \| [a-z0-9]+ +\| True \| +[0-9.]+ +\| 255"
    "network-state=Reached target .*network-online\.target"
    "login-prompt=$GUEST_NAME login: "
    "cloud-init-done=Cloud-init v\. \S+ finished")
  md_asked='"GET /openstack/latest/meta_data.json HTTP'
fi
if [ -n "$faulty" ]; then
  # Without metadata the guest keeps its image's host name.
  marks=("login-prompt=[a-z0-9-]+ login: ")
  # The small guest prints its network state whatever happened (after 20
  # metadata tries when they fail): how long a fault makes the boot.
  [ "$guest" = small ] && marks+=("network-state=hbg-network-state: eth0=")
  [ "$guest" = debian ] && marks+=("cloud-init-done=Cloud-init v\. \S+ finished")
fi

# ping_report: whether the guest answers a ping from the namespace, and
# what the namespace's neighbour table says of it (an answer to ARP).
ping_report() {
  local answered=no neigh
  gns ping -c 2 -W 1 -q "$GUEST_IP" >/dev/null 2>&1 && answered=yes
  neigh=$(gns ip neigh show "$GUEST_IP" dev "$GTAP" | head -n1)
  echo "ping $GUEST_IP: $answered; neighbour: ${neigh:-none}"
}

declare -A times=()
fail=0
for run in $(seq "$runs"); do
  gnet_up "$userdata"
  start=$(gboot "$guest" "$accel")
  out=$(gwatch "$start" "$timeout" --login "${marks[@]}") || {
    printf '%s\n' "$out" >&2
    die "run $run: $guest guest: $(tail -n1 <<<"$out"); console: $GUEST_RUN/console.log"
  }
  out=${out//login ok/mark login}
  line=$(awk '{printf "%s %s s, ", $(NF-1), $NF}' <<<"$out")
  log "run $run $guest $accel: ${line%, }"
  while read -r _ name secs; do times[$name]+="$secs "; done <<<"$out"
  pinged=$(ping_report)
  if [ -n "$faulty" ]; then
    log "run $run: $pinged; dnsmasq sent $(grep -c 'DHCPOFFER(' "$GUEST_RUN/dnsmasq.log" || true) DHCPOFFER, $(grep -c 'DHCPACK(' "$GUEST_RUN/dnsmasq.log" || true) DHCPACK"
  fi
  if [ -z "$faulty" ]; then
    con=$(tr -d '\r' <"$GUEST_RUN/console.log")
    if [ "$guest" = small ]; then
      addr=$(sed -n 's/^hbg-network-state: eth0=\([0-9.]*\)\/.*/\1/p' <<<"$con" | tail -n1)
    else
      addr=$(sed -n 's/.*ci-info: | [a-z0-9]* *| True | *\([0-9.]*\) *| 255.*/\1/p' <<<"$con" | head -n1)
    fi
    leased=$(awk '{print $3}' "$GUEST_RUN/leases")
    if [ -z "$addr" ] || [ "$addr" != "$leased" ]; then
      log "FAIL: the console shows address '${addr}', dnsmasq leased '${leased}'"; fail=1
    fi
    if ! grep -q "$md_asked" "$GUEST_RUN/metadata.log"; then
      log "FAIL: the guest never asked the metadata service ($GUEST_RUN/metadata.log)"; fail=1
    fi
    if [ "$guest" = small ] && [[ "$pinged" != *": yes;"* ]]; then
      log "FAIL: $pinged"; fail=1
    fi
  fi
  if [ -n "$record" ]; then
    # As Nova's os-getConsoleOutput returns it: without ESC and CR.
    tr -d '\r\033' <"$GUEST_RUN/console.log" >"$record"
    log "console recorded in $record"
  fi
  gnet_down
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)]}'; }
for name in lease network-state login-prompt cloud-init-done login; do
  [ -n "${times[$name]:-}" ] || continue
  read -r mn md < <(median <<<"${times[$name]}")
  log "$guest $accel $name: min $mn s, median $md s over $runs run(s)"
done
[ "$fail" = 0 ] || die "$guest guest: checks failed"
if [ -n "$faulty" ]; then
  with=${userdata:+user-data $userdata}
  [ -z "$cmdline" ] || with+="${with:+, }kernel command line \"$cmdline\""
  log "$guest guest with $with: login prompt and login OK (lease and metadata not checked)"
else
  log "$guest guest: lease, metadata, login prompt and login OK"
fi
