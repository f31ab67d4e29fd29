#!/usr/bin/env bash
# lab/fault.sh NAME         inject a fault into the running, seeded lab
# lab/fault.sh heal NAME    undo it
# lab/fault.sh list         the faults, one line each
# lab/fault.sh status       which faults are active now (checked for real)
#
# Every fault is real (API changes, stopped or killed processes, deleted
# devices, firewall rules, config changes, OVN database rows changed behind
# Neutron's back), except selinux-evidence, which
# writes realistic AVC lines into an audit log because Debian has no
# enforcing SELinux. Inject and heal are idempotent and wait until the
# change is visible (e.g. the API reports the agent dead).
set -euo pipefail
export SCRIPT_NAME=fault.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

FAULTS=(
  "icmp-ingress|remove the ICMP ingress rule from lab-sg"
  "egress|remove all egress rules of lab-sg"
  "router-interface|remove router1's interface on private-subnet (vm1's floating IP is disassociated first: neutron requires it)"
  "router-gateway|clear router1's external gateway (vm1's floating IP is disassociated first: neutron requires it)"
  "dhcp-disabled|enable_dhcp=false on private-subnet"
  "dhcp-agent-stopped|stop the DHCP agent on ctl (waits until the API reports it dead)"
  "dnsmasq-killed|kill the dnsmasq of private's qdhcp namespace"
  "qr-device-deleted|delete router1's qr- device inside its qrouter namespace"
  "port-admin-down|vm1's port admin_state_up=false"
  "vxlan-blocked|on cmp1: iptables -I INPUT -s 192.0.2.10 -p udp --dport 4789 -j DROP (linuxbridge only)"
  "ovs-tunnel-deleted|on cmp1: ovs-vsctl del-port br-tun for its VXLAN port to ctl; healed by restarting the agent (LAB_L2=ovs only)"
  "serial-listen-loopback|cmp1's nova.conf [serial_console] listen and proxyclient_address = 127.0.0.1, nova-compute restarted"
  "serialproxy-stopped|stop nova-serialproxy on ctl"
  "server-error|a server vm-broken in ERROR (no valid host for flavor lab.huge)"
  "selinux-evidence|AVC denials for neutron/dnsmasq/haproxy domains in an audit log (simulated; LAB_AUDIT_LOG, default run/hosts/ctl/audit.log)"
  "agent-log-error|RTNETLINK answers / Invalid \"netns\" value errors appended to ctl's l3 agent log"
  "vif-down|on ctl: ip link set vm1's VIF (tap) down"
  "vif-detached|on ctl: ip link set vm1's VIF nomaster, off its brq bridge (linuxbridge only)"
  "vif-mtu|on ctl: vm1's VIF MTU lowered to 1400 (the network's is 1450)"
  "dhcp-device-down|ip link set the device of private's qdhcp namespace down"
  "qg-down|ip link set router1's qg- device down (its routes go with it; healed by restarting the L3 agent)"
  "ovn-controller-stopped|stop ovn-controller on cmp1 (waits until the API reports cmp1's OVN Controller agent dead) (LAB_L2=ovn only)"
  "northd-stopped|stop ovn-northd on ctl, then add a tcp/8080 rule to lab-sg: NB's nb_cfg moves on, SB's does not (LAB_L2=ovn only)"
  "lsp-deleted|ovn-nbctl lsp-del vm1's Logical_Switch_Port behind Neutron's back; healed by neutron-ovn-db-sync-util repair (LAB_L2=ovn only)"
  "gateway-chassis-bogus|router1's gateway port's Gateway_Chassis set to chassis 'chassis-gone', which does not exist (LAB_L2=ovn only)"
  "acl-icmp-deleted|remove the ACL of lab-sg's ICMP ingress rule from its Port_Group; healed by neutron-ovn-db-sync-util repair (LAB_L2=ovn only)"
  "ovn-metadata-stopped|stop neutron-ovn-metadata-agent on cmp1 (waits until the API reports it dead) (LAB_L2=ovn only)"
  "encap-ip-changed|cmp1's external_ids:ovn-encap-ip set to 192.0.2.99, an address cmp1 does not have (LAB_L2=ovn only)"
  "dhcp-options-removed|remove private-subnet's DHCP_Options row from NB; healed by neutron-ovn-db-sync-util repair (LAB_L2=ovn only)"
  "neutron-status-stale|vm1's port status DOWN in Neutron's database while OVN has it up, as Neutron leaves a port that missed OVN's up event; healed by re-plugging the VIF on br-int (LAB_L2=ovn only)"
  "ovs-dead-vlan|on ctl: vm1's VIF port given tag 4095, the agent's dead VLAN (LAB_L2=ovs only)"
  "ovs-vni-flow-deleted|on cmp1: br-tun's flow translating private's VNI to its local VLAN deleted; healed by restarting the agent (LAB_L2=ovs only)"
  "l2pop-fdb-deleted|on cmp1: the forwarding entries to ctl's VTEP deleted from private's vxlan device (linuxbridge only)"
  "guest-interface-down|vm4 rebuilt with user-data that flushes eth0's address and sets it down (LAB_GUESTS=real only)"
  "guest-wrong-gateway|vm4 rebuilt with user-data that configures its address with a /30 netmask: the gateway lies outside it (LAB_GUESTS=real only)"
  "guest-no-host-routes|private-subnet given the host route 192.168.50.0/24 via 10.0.0.254, vm4 rebuilt from image small-no-host-routes (its DHCP client ignores option 121) (LAB_GUESTS=real only)"
  "guest-no-metadata-route|vm4 rebuilt from image small-no-metadata-route: no route to 169.254.169.254 in the guest (LAB_GUESTS=real only)"
  "guest-firewall-icmp|vm4 rebuilt from image small-firewall-icmp: the guest's iptables drops ICMP echo requests (LAB_GUESTS=real only)"
  "guest-firewall-dhcp|vm4 rebuilt from image small-firewall-dhcp: an nftables ingress hook in the guest drops DHCP's answers (LAB_GUESTS=real only)"
  "guest-cloud-init-failed|vm5, the Debian guest with the real cloud-init, booted on cmp2 with user-data whose runcmd exits 3; healed by deleting it (LAB_GUESTS=real LAB_GUEST_DEBIAN=1 only)"
  "guest-serial-stale-listen|vm4 hard-rebooted while cmp2's proxyclient_address was 127.0.0.1, then the address put back and nova-compute restarted: vm4's domain still binds its console to loopback (LAB_GUESTS=real only)"
)
# Faults of the ML2 agents and their namespaces, devices and logs: ML2/OVN has
# none of them (no DHCP/L3/L2 agents, no qdhcp-/qrouter- namespaces).
NOT_ON_OVN=" dhcp-agent-stopped dnsmasq-killed qr-device-deleted vxlan-blocked ovs-tunnel-deleted agent-log-error vif-detached dhcp-device-down qg-down "
OVN_ONLY=" ovn-controller-stopped northd-stopped lsp-deleted gateway-chassis-bogus acl-icmp-deleted ovn-metadata-stopped encap-ip-changed dhcp-options-removed neutron-status-stale "
GUEST_ONLY=" guest-interface-down guest-wrong-gateway guest-no-host-routes guest-no-metadata-route guest-firewall-icmp guest-firewall-dhcp guest-cloud-init-failed guest-serial-stale-listen "
AUDIT_LOG=${LAB_AUDIT_LOG:-$HOSTS_DIR/ctl/audit.log}
L3_LOG=$HOSTS_DIR/ctl/log/neutron/neutron-l3-agent.log
DHCP_LOG=$HOSTS_DIR/ctl/log/neutron/neutron-dhcp-agent.log
FDIR=$RUN/faults
# cmp1's br-tun port to ctl, named by the agent after ctl's tunnel address.
# shellcheck disable=SC2086  # the address's dots split it into four bytes
OVS_TUN_PORT=$(IFS=. && printf 'vxlan-%02x%02x%02x%02x' ${HOST_IP[ctl]})
VXLAN_RULE=(INPUT -s "${HOST_IP[ctl]}/32" -p udp -m udp --dport 4789 -j DROP)

usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
# applies NAME: the fault can be real in this lab's flavour.
applies() {
  case "$OVN_ONLY" in *" $1 "*) [ "$LAB_L2" = ovn ] || return 1 ;; esac
  case "$NOT_ON_OVN" in *" $1 "*) [ "$LAB_L2" != ovn ] || return 1 ;; esac
  case "$GUEST_ONLY" in *" $1 "*) [ "$LAB_GUESTS" = real ] || return 1 ;; esac
  return 0
}
fault_names() { local f; for f in "${FAULTS[@]}"; do echo "${f%%|*}"; done; }
known() { local f; for f in "${FAULTS[@]}"; do [ "${f%%|*}" = "$1" ] && return 0; done; return 1; }

# ---- lookups -------------------------------------------------------------------
DEMO_TOKEN=
ADMIN_TOKEN=
tokens() {
  load_secrets
  [ -n "$ADMIN_TOKEN" ] || { admin_token; ADMIN_TOKEN=$TOKEN; }
  [ -n "$DEMO_TOKEN" ] || DEMO_TOKEN=$(os_token demo "$DEMO_PASS" demo)
  [ -n "$DEMO_TOKEN" ] || die "no demo token: run lab/seed.sh"
}
as_demo() { TOKEN=$DEMO_TOKEN; }
as_admin() { TOKEN=$ADMIN_TOKEN; }
first_id() { jq -r ".$1[0].id // empty"; }
NET='' SUBNET='' ROUTER='' SG='' PUBLIC_NET='' VM1='' VM1_PORT=''
lookup() {
  tokens
  as_demo
  NET=$(api GET "$NEUTRON_URL/v2.0/networks?name=private" | first_id networks)
  SUBNET=$(api GET "$NEUTRON_URL/v2.0/subnets?name=private-subnet" | first_id subnets)
  ROUTER=$(api GET "$NEUTRON_URL/v2.0/routers?name=router1" | first_id routers)
  SG=$(api GET "$NEUTRON_URL/v2.0/security-groups?name=lab-sg" | first_id security_groups)
  PUBLIC_NET=$(api GET "$NEUTRON_URL/v2.0/networks?name=public" | first_id networks)
  VM1=$(api GET "$NOVA_URL/v2.1/servers?name=^vm1\$" | first_id servers)
  if [ -z "$NET" ] || [ -z "$SUBNET" ] || [ -z "$ROUTER" ] || [ -z "$SG" ] || [ -z "$VM1" ]; then
    die "the lab is not seeded (private/router1/lab-sg/vm1 missing): run lab/seed.sh"
  fi
  VM1_PORT=$(api GET "$NEUTRON_URL/v2.0/ports?device_id=$VM1" | first_id ports)
}
sg_rules() { as_demo; api GET "$NEUTRON_URL/v2.0/security-group-rules?security_group_id=$SG"; }

# ---- floating IP of vm1: neutron refuses to remove a router's interface or
# gateway while a floating IP uses it, so those faults park it first.
FIP_FILE=$FDIR/vm1-fip
park_fip() {
  as_demo
  local f; f=$(api GET "$NEUTRON_URL/v2.0/floatingips?port_id=$VM1_PORT" | jq -c '.floatingips[0] // empty')
  [ -n "$f" ] || return 0
  jq -r .id <<<"$f" >"$FIP_FILE"
  jq -r .floating_ip_address <<<"$f" >"$FDIR/fip-address"
  api PUT "$NEUTRON_URL/v2.0/floatingips/$(jq -r .id <<<"$f")" '{"floatingip":{"port_id":null}}' >/dev/null
  log "floating IP $(jq -r .floating_ip_address <<<"$f") disassociated from vm1"
}
restore_fip() {
  as_demo
  [ -n "$(api GET "$NEUTRON_URL/v2.0/floatingips?port_id=$VM1_PORT" | first_id floatingips)" ] && return 0
  local id=
  [ -f "$FIP_FILE" ] && id=$(cat "$FIP_FILE")
  if [ -n "$id" ] && API_QUIET=1 api GET "$NEUTRON_URL/v2.0/floatingips/$id" >/dev/null; then
    api PUT "$NEUTRON_URL/v2.0/floatingips/$id" "$(jq -nc --arg p "$VM1_PORT" '{floatingip:{port_id:$p}}')" >/dev/null
  else
    api POST "$NEUTRON_URL/v2.0/floatingips" "$(jq -nc --arg n "$PUBLIC_NET" --arg p "$VM1_PORT" '{floatingip:{floating_network_id:$n,port_id:$p}}')" >/dev/null
  fi
  rm -f "$FIP_FILE"
  log "floating IP re-associated to vm1"
}
fip_silent() { nsx ctl ping -c1 -W1 "$(cat "$FDIR/fip-address" 2>/dev/null || echo 0.0.0.0)" >/dev/null 2>&1 && return 1; return 0; }
fip_answers() {
  local ip; as_demo
  ip=$(api GET "$NEUTRON_URL/v2.0/floatingips?port_id=$VM1_PORT" | jq -r '.floatingips[0].floating_ip_address // empty')
  [ -n "$ip" ] && nsx ctl ping -c1 -W1 "$ip" >/dev/null 2>&1
}

# ---- waiting on agents, processes, devices ------------------------------------
agent_alive() { # HOST TYPE -> true if alive
  as_admin
  [ "$(api GET "$NEUTRON_URL/v2.0/agents?host=$1" | jq -r --arg t "$2" '.agents[] | select(.agent_type==$t) | .alive')" = true ]
}
agent_dead() { ! agent_alive "$@"; }
ns_procs() { # NETNS PROGRAM: PIDs of PROGRAM in NETNS
  local p; ns_exists "$1" || return 0
  for p in $(ip netns pids "$1"); do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep "^\(/usr/s\?bin/\)\?$2 " >/dev/null; then echo "$p"; fi
  done
  return 0
}
dnsmasq_pids() { ns_procs "qdhcp-$NET" dnsmasq; }
dnsmasq_running() { [ -n "$(dnsmasq_pids)" ]; }
# dhcp_ok: private is hosted by an alive DHCP agent, its DHCP port is ACTIVE
# and dnsmasq runs (after an agent restart, its resync settles first).
dhcp_ok() {
  as_admin
  [ "$(api GET "$NEUTRON_URL/v2.0/networks/$NET/dhcp-agents" | jq '[.agents[] | select(.alive)] | length')" -ge 1 ] &&
    [ "$(api GET "$NEUTRON_URL/v2.0/ports?network_id=$NET&device_owner=network:dhcp" | jq -r '[.ports[].status] | unique | join(",")')" = ACTIVE ] &&
    dnsmasq_running
}
dhcp_stable() { dhcp_ok && sleep 2 && dhcp_ok; }
qr_dev() { { ip -n "qrouter-$ROUTER" -j link 2>/dev/null || echo '[]'; } | jq -r 'first(.[] | select(.ifname | startswith("qr-")) | .ifname) // empty'; }
qr_ok() { local d; d=$(qr_dev); [ -n "$d" ] && ip -n "qrouter-$ROUTER" -4 addr show dev "$d" | grep 'inet 10\.0\.0\.1/' >/dev/null; }
# qr_tap_bridged: the root end of router1's qr- device is on a brq bridge (Linux bridge).
qr_tap_bridged() { local d; d=$(qr_dev); [ -n "$d" ] && nsx ctl ip -j link show "tap${d#qr-}" | jq -e '.[0].master // "" | startswith("brq")' >/dev/null; }
router_ports_active() {
  as_admin
  ports_active "device_id=$ROUTER"
}
# compute_fresh HOST T: nova-compute on HOST has reported (updated_at) after epoch T and is up.
compute_fresh() {
  local s; as_admin
  s=$(api GET "$NOVA_URL/v2.1/os-services?binary=nova-compute&host=$1" | jq -r '.services[0] | "\(.state) \(.updated_at)"')
  [ "${s%% *}" = up ] && [ "$(date -d "${s#* }Z" +%s 2>/dev/null || echo 0)" -gt "$2" ]
}
# Dataplane probes between the fake VMs (labvm-*): the agents apply security
# group changes asynchronously, so injects and heals wait for the effect.
vm_ip() { awk -v n="$1" '$1==n {print $5}' "$RUN/seed/vms.txt"; }
pings() { ip netns exec "labvm-$1" ping -c1 -W1 "$2" >/dev/null 2>&1; }
ping_blocked() { ! pings "$@"; }
serialproxy_listening() { nsx ctl ss -lnt 'sport = :6083' | grep LISTEN >/dev/null; }

# ---- the faults: <name>_inject, <name>_heal, <name>_active -------------------
icmp_ingress_active() { [ "$(sg_rules | jq '[.security_group_rules[] | select(.direction=="ingress" and .protocol=="icmp")] | length')" = 0 ]; }
icmp_ingress_inject() {
  local id
  for id in $(sg_rules | jq -r '.security_group_rules[] | select(.direction=="ingress" and .protocol=="icmp") | .id'); do
    api DELETE "$NEUTRON_URL/v2.0/security-group-rules/$id" >/dev/null
  done
  wait_until 60 "vm3's pings to vm1 to be dropped" ping_blocked vm3 "$(vm_ip vm1)"
}
icmp_ingress_heal() {
  if icmp_ingress_active; then
    api POST "$NEUTRON_URL/v2.0/security-group-rules" "$(jq -nc --arg sg "$SG" '{security_group_rule:{security_group_id:$sg,direction:"ingress",ethertype:"IPv4",protocol:"icmp",remote_ip_prefix:"0.0.0.0/0"}}')" >/dev/null
  fi
  wait_until 60 "vm3 to ping vm1" pings vm3 "$(vm_ip vm1)"
}

egress_active() { [ "$(sg_rules | jq '[.security_group_rules[] | select(.direction=="egress")] | length')" = 0 ]; }
egress_inject() {
  local id
  for id in $(sg_rules | jq -r '.security_group_rules[] | select(.direction=="egress") | .id'); do
    api DELETE "$NEUTRON_URL/v2.0/security-group-rules/$id" >/dev/null
  done
  wait_until 60 "vm1's pings to its router to be dropped" ping_blocked vm1 10.0.0.1
}
egress_heal() {
  local et rules
  rules=$(sg_rules)
  for et in IPv4 IPv6; do
    if [ "$(jq --arg e "$et" '[.security_group_rules[] | select(.direction=="egress" and .ethertype==$e and .protocol==null and .remote_ip_prefix==null and .remote_group_id==null)] | length' <<<"$rules")" = 0 ]; then
      api POST "$NEUTRON_URL/v2.0/security-group-rules" "$(jq -nc --arg sg "$SG" --arg e "$et" '{security_group_rule:{security_group_id:$sg,direction:"egress",ethertype:$e}}')" >/dev/null
    fi
  done
  wait_until 60 "vm1 to ping its router" pings vm1 10.0.0.1
}

router_interface_active() { as_admin; [ -z "$(api GET "$NEUTRON_URL/v2.0/ports?device_id=$ROUTER&network_id=$NET" | first_id ports)" ]; }
router_interface_inject() {
  router_interface_active && return 0
  park_fip
  as_demo
  api PUT "$NEUTRON_URL/v2.0/routers/$ROUTER/remove_router_interface" "$(jq -nc --arg s "$SUBNET" '{subnet_id:$s}')" >/dev/null
  if [ "$LAB_L2" = ovn ]; then
    wait_until 60 "vm1's pings to its router to be dropped" ping_blocked vm1 10.0.0.1
  else
    wait_until 60 "qr- device to leave qrouter-$ROUTER" sh -c "! ip -n qrouter-$ROUTER -o link | grep -q ' qr-'"
  fi
}
router_interface_heal() {
  if router_interface_active; then
    as_demo
    api PUT "$NEUTRON_URL/v2.0/routers/$ROUTER/add_router_interface" "$(jq -nc --arg s "$SUBNET" '{subnet_id:$s}')" >/dev/null
  fi
  restore_fip
  if [ "$LAB_L2" = ovn ]; then
    wait_until 60 "vm1 to ping its router 10.0.0.1" pings vm1 10.0.0.1
  else
    wait_until 60 "router1's qr- device with 10.0.0.1" qr_ok
  fi
  wait_until 60 "router1's ports ACTIVE" router_ports_active
  wait_until 60 "vm1's floating IP to answer" fip_answers
}

router_gateway_active() { as_demo; [ "$(api GET "$NEUTRON_URL/v2.0/routers/$ROUTER" | jq -r '.router.external_gateway_info.network_id // empty')" = "" ]; }
router_gateway_inject() {
  router_gateway_active && return 0
  park_fip
  as_demo
  api PUT "$NEUTRON_URL/v2.0/routers/$ROUTER" '{"router":{"external_gateway_info":{}}}' >/dev/null
  if [ "$LAB_L2" = ovn ]; then
    wait_until 60 "vm1's floating IP to stop answering" fip_silent
  else
    wait_until 60 "qg- device to leave qrouter-$ROUTER" sh -c "! ip -n qrouter-$ROUTER -o link | grep -q ' qg-'"
  fi
}
router_gateway_heal() {
  local try
  for try in 1 2 3 4; do
    if router_gateway_active; then
      as_demo
      api PUT "$NEUTRON_URL/v2.0/routers/$ROUTER" "$(jq -nc --arg n "$PUBLIC_NET" '{router:{external_gateway_info:{network_id:$n}}}')" >/dev/null
    fi
    restore_fip
    wait_until 60 "vm1's floating IP to answer" fip_answers || return 1
    if [ "$LAB_L2" != ovn ]; then
      wait_until 60 "router1's ports ACTIVE" router_ports_active
      return
    fi
    # ML2/OVN (Zed) sets a port ACTIVE only on OVN's "up" event. When that
    # event beats the gateway port's binding to its chassis, Neutron gives
    # up after ten provisioning attempts and nothing retries: the port stays
    # DOWN while the data plane works (seen here about once in ten). A new
    # gateway port is the only way back, so re-create the gateway. One that
    # makes it is ACTIVE within about 10 s: 25 s a try.
    wait_until 25 "router1's ports ACTIVE" router_ports_active && return 0
    log "router1's gateway port stuck DOWN (Neutron's provisioning race on OVN): re-creating the gateway ($try/4)"
    router_gateway_inject
  done
  log "router1's gateway port still DOWN after 4 gateways"
  return 1
}

dhcp_disabled_active() { as_demo; [ "$(api GET "$NEUTRON_URL/v2.0/subnets/$SUBNET" | jq -r .subnet.enable_dhcp)" = false ]; }
dhcp_disabled_inject() {
  as_demo; api PUT "$NEUTRON_URL/v2.0/subnets/$SUBNET" '{"subnet":{"enable_dhcp":false}}' >/dev/null
  if [ "$LAB_L2" = ovn ]; then
    wait_until 60 "private-subnet's DHCP_Options to leave OVN's NB" dhcp_options_removed_active
  else
    wait_until 60 "the DHCP agent to stop dnsmasq for private" dnsmasq_killed_active
  fi
}
dhcp_disabled_heal() {
  as_demo; api PUT "$NEUTRON_URL/v2.0/subnets/$SUBNET" '{"subnet":{"enable_dhcp":true}}' >/dev/null
  if [ "$LAB_L2" = ovn ]; then
    wait_until 60 "private-subnet's DHCP_Options in OVN's NB, on vm1's port" dhcp_options_ok
  else
    wait_until 90 "DHCP for private served again (agent, port, dnsmasq)" dhcp_stable
  fi
}

dhcp_agent_stopped_active() { ! svc_alive ctl neutron-dhcp-agent; }
dhcp_agent_stopped_inject() {
  stop_svc ctl neutron-dhcp-agent
  wait_until 60 "the API to report ctl's DHCP agent dead" agent_dead ctl "DHCP agent"
}
# start_dhcp_agent_synced: start ctl's DHCP agent and wait until its first
# resync is over. That resync restarts a dnsmasq that outlived the agent
# (neutron's Dnsmasq._enable stops an active one, re-plugs, spawns anew):
# checking dnsmasq before it ends can pass on the old process, and hoofbeat
# then finds none (rehearsal: dnsmasq-not-running on the healed lab).
start_dhcp_agent_synced() {
  local off; off=$(stat -c %s "$DHCP_LOG" 2>/dev/null || echo 0)
  start_dhcp_agent
  wait_until 120 "ctl's DHCP agent to log 'Synchronizing state complete'" \
    alive_and logged_since "$DHCP_LOG" "$off" "Synchronizing state complete"
  wait_until 90 "ctl's DHCP agent alive" agent_alive ctl "DHCP agent"
  wait_until 90 "DHCP for private served again (agent, port, dnsmasq)" dhcp_stable
}
# logged_since FILE OFFSET TEXT: TEXT is in FILE after byte OFFSET.
logged_since() { tail -c +"$(($2 + 1))" "$1" 2>/dev/null | grep -qF "$3"; }
dhcp_agent_stopped_heal() { start_dhcp_agent_synced; }

dnsmasq_killed_active() { ! dnsmasq_running; }
dnsmasq_killed_inject() {
  local p
  for p in $(dnsmasq_pids); do
    kill -TERM "$p"
    log "killed dnsmasq pid $p in qdhcp-$NET"
  done
  wait_until 10 "dnsmasq to exit" dnsmasq_killed_active
}
dnsmasq_killed_heal() {
  dnsmasq_running && return 0
  # The agent only logs a dead child (check_child_processes_action=log):
  # a restart makes it resync and spawn dnsmasq again.
  stop_svc ctl neutron-dhcp-agent
  start_dhcp_agent_synced
}

qr_device_deleted_active() { ! qr_ok; }
qr_device_deleted_inject() {
  local d; d=$(qr_dev)
  [ -n "$d" ] || return 0
  ip -n "qrouter-$ROUTER" link del "$d"
  log "deleted $d in qrouter-$ROUTER"
}
qr_device_deleted_heal() {
  qr_ok && return 0
  # The L3 agent does not notice a vanished device: a restart resyncs the router.
  stop_svc ctl neutron-l3-agent
  start_l3_agent
  wait_until 90 "router1's qr- device with 10.0.0.1" qr_ok
  wait_until 60 "ctl's L3 agent alive" agent_alive ctl "L3 agent"
  wait_until 60 "router1's ports ACTIVE" router_ports_active
  # The Linux bridge agent can miss a tap that vanished and came back
  # between two of its scans: the router's tap then stays off the bridge
  # (hoofbeat's host/vif-detached; the lab's recordings caught it). A
  # restart of the agent plugs it, as hoofbeat's fix says.
  if [ "$LAB_L2" != ovs ] && ! wait_until 20 "router1's tap on its bridge" qr_tap_bridged; then
    stop_svc ctl "$L2_AGENT"
    start_agents ctl
    wait_until 90 "router1's tap on its bridge" qr_tap_bridged
    wait_until 60 "ctl's $L2_AGENT_TYPE alive" agent_alive ctl "$L2_AGENT_TYPE"
  fi
}

port_admin_down_active() { as_demo; [ "$(api GET "$NEUTRON_URL/v2.0/ports/$VM1_PORT" | jq -r .port.admin_state_up)" = false ]; }
port_status_is() { as_demo; [ "$(api GET "$NEUTRON_URL/v2.0/ports/$VM1_PORT" | jq -r .port.status)" = "$1" ]; }
# On OVN the port stays ACTIVE (its LSP stays up, only disabled): wait for
# the LSP's enabled flag and the dataplane instead.
lsp_enabled_is() { [ "$(nbctl get Logical_Switch_Port "$VM1_PORT" enabled)" = "$1" ]; }
port_admin_down_inject() {
  as_demo; api PUT "$NEUTRON_URL/v2.0/ports/$VM1_PORT" '{"port":{"admin_state_up":false}}' >/dev/null
  if [ "$LAB_L2" = ovn ]; then
    wait_until 60 "vm1's LSP disabled" lsp_enabled_is false
    wait_until 30 "vm2's pings to vm1 to be dropped" ping_blocked vm2 "$(vm_ip vm1)"
  else
    wait_until 60 "vm1's port DOWN" port_status_is DOWN
  fi
}
port_admin_down_heal() {
  as_demo; api PUT "$NEUTRON_URL/v2.0/ports/$VM1_PORT" '{"port":{"admin_state_up":true}}' >/dev/null
  if [ "$LAB_L2" = ovn ]; then
    wait_until 60 "vm1's LSP enabled" lsp_enabled_is true
    wait_until 30 "vm2 to ping vm1" pings vm2 "$(vm_ip vm1)"
  fi
  wait_until 60 "vm1's port ACTIVE" port_status_is ACTIVE
}

vxlan_blocked_active() { nsx cmp1 iptables -C "${VXLAN_RULE[@]}" 2>/dev/null; }
vxlan_blocked_inject() {
  # OVS's userspace datapath takes the tunnel packets off mgmt0 before
  # netfilter sees them: the firewall rule would not bite.
  [ "$LAB_L2" = ovs ] && die "vxlan-blocked is not real with LAB_L2=ovs (userspace datapath)"
  vxlan_blocked_active || nsx cmp1 iptables -I "${VXLAN_RULE[@]}"
  wait_until 10 "vm1's pings to vm3 to be dropped" ping_blocked vm1 "$(vm_ip vm3)"
}
vxlan_blocked_heal() {
  while vxlan_blocked_active; do nsx cmp1 iptables -D "${VXLAN_RULE[@]}"; done
  wait_until 30 "vm1 to ping vm3" pings vm1 "$(vm_ip vm3)"
}

# An operator's ovs-vsctl del-port (or a crashed agent's half-done cleanup):
# the agent does not notice a tunnel port gone until it restarts.
ovs_tun_present() { ovs cmp1 port-to-br "$OVS_TUN_PORT" >/dev/null 2>&1; }
ovs_tunnel_deleted_active() { [ "$LAB_L2" = ovs ] && ! ovs_tun_present; }
ovs_tunnel_deleted_inject() {
  [ "$LAB_L2" = ovs ] || die "ovs-tunnel-deleted needs LAB_L2=ovs (this lab is $LAB_L2)"
  ovs_tunnel_deleted_active || ovs cmp1 del-port br-tun "$OVS_TUN_PORT"
  wait_until 10 "vm1's pings to vm3 to be dropped" ping_blocked vm1 "$(vm_ip vm3)"
}
cmp1_ports_active() { as_admin; ports_active "binding:host_id=cmp1"; }
ovs_tunnel_deleted_heal() {
  ovs_tunnel_deleted_active || return 0
  # hoofbeat's fix for it: the agent re-creates its tunnels when it starts.
  stop_svc cmp1 "$L2_AGENT"
  start_agents cmp1
  wait_until 120 "cmp1's $OVS_TUN_PORT back on br-tun" alive_and ovs_tun_present
  wait_until 60 "cmp1's ports ACTIVE" cmp1_ports_active
  wait_until 60 "vm1 to ping vm3" pings vm1 "$(vm_ip vm3)"
  wait_until 60 "cmp1's $L2_AGENT_TYPE alive" agent_alive cmp1 "$L2_AGENT_TYPE"
}

nova_conf_of() { echo "$HOSTS_DIR/$1/etc/nova/nova.conf"; }
serial_opt() { # KEY [HOST]: its value in HOST's (cmp1's) nova.conf [serial_console]
  awk -v k="$1" '/^\[/{s=$0} s=="[serial_console]" && $1==k {print $3}' "$(nova_conf_of "${2:-cmp1}")"
}
# Zed reads proxyclient_address (the console binds there); `listen` is the
# legacy option older guides set. The fault sets both to loopback.
serial_listen_loopback_active() {
  [ "$(serial_opt proxyclient_address)" = 127.0.0.1 ] || [ "$(serial_opt listen)" = 127.0.0.1 ]
}
restart_compute() { # HOST
  local t
  stop_svc "$1" nova-compute
  t=$(date +%s)
  start_nova_compute "$1"
  wait_until 120 "$1's nova-compute to report up after its restart" compute_fresh "$1" "$t"
}
set_serial() { # ADDRESS [HOST]: listen and proxyclient_address, in place, keeping everything else
  local tmp conf; tmp=$(mktemp); conf=$(nova_conf_of "${2:-cmp1}")
  awk -v a="$1" '/^\[/{s=$0} s=="[serial_console]" && ($1=="listen" || $1=="proxyclient_address") {$0=$1 " = " a} {print}' "$conf" >"$tmp"
  cat "$tmp" >"$conf"; rm -f "$tmp"
}
serial_listen_loopback_inject() {
  [ "$(serial_opt proxyclient_address)" = 127.0.0.1 ] && [ "$(serial_opt listen)" = 127.0.0.1 ] && return 0
  set_serial 127.0.0.1
  restart_compute cmp1
}
serial_listen_loopback_heal() {
  serial_listen_loopback_active || return 0
  set_serial "${HOST_IP[cmp1]}"
  restart_compute cmp1
}

serialproxy_stopped_active() { ! svc_alive ctl nova-serialproxy; }
serialproxy_stopped_inject() { stop_svc ctl nova-serialproxy; }
serialproxy_stopped_heal() {
  start_serialproxy
  wait_until 60 "nova-serialproxy listening on 6083" serialproxy_listening
}

broken_server() { as_admin; api GET "$NOVA_URL/v2.1/servers/detail?all_tenants=1&name=^vm-broken\$" | jq -c '.servers[0] // empty'; }
server_error_active() { [ "$(broken_server | jq -r '.status // empty')" = ERROR ]; }
server_error_inject() {
  server_error_active && return 0
  as_admin
  local fl img
  fl=$(api GET "$NOVA_URL/v2.1/flavors" | jq -r '.flavors[] | select(.name=="lab.huge") | .id')
  # More memory than any lab hypervisor has: the scheduler finds no host.
  [ -n "$fl" ] || fl=$(api POST "$NOVA_URL/v2.1/flavors" '{"flavor":{"name":"lab.huge","vcpus":1,"ram":4194304,"disk":1}}' | jq -r .flavor.id)
  img=$(api GET "$GLANCE_URL/v2/images?name=cirros-fake" | jq -r '.images[0].id')
  TOKEN=$(os_token admin "$ADMIN_PASS" demo)
  api POST "$NOVA_URL/v2.1/servers" "$(jq -nc --arg i "$img" --arg f "$fl" --arg net "$NET" \
    '{server:{name:"vm-broken",imageRef:$i,flavorRef:$f,networks:[{uuid:$net}],security_groups:[{name:"lab-sg"}]}}')" >/dev/null
  wait_until 90 "vm-broken to go to ERROR" server_error_active
}
server_error_heal() {
  local s; s=$(broken_server)
  if [ -n "$s" ]; then
    as_admin; api DELETE "$NOVA_URL/v2.1/servers/$(jq -r .id <<<"$s")" >/dev/null
    wait_until 60 "vm-broken to be deleted" test -z "$(broken_server)"
  fi
  as_admin
  local fl; fl=$(api GET "$NOVA_URL/v2.1/flavors" | jq -r '.flavors[] | select(.name=="lab.huge") | .id')
  [ -z "$fl" ] || api DELETE "$NOVA_URL/v2.1/flavors/$fl" >/dev/null
}

# Lines this script added to a log, so that heal removes exactly them.
ADDED=$FDIR/added-lines
add_lines() { # FILE TAG: append stdin to FILE (in place: the file may be a bind mount)
  local f=$1 tag=$2 tmp; tmp=$(mktemp)
  cat >"$tmp"
  mkdir -p "$FDIR"
  cat "$tmp" >>"$f"
  cp "$tmp" "$ADDED.$tag"
  rm -f "$tmp"
}
remove_lines() { # FILE TAG
  local f=$1 tag=$2 tmp
  [ -f "$ADDED.$tag" ] || return 0
  if [ -f "$f" ]; then
    tmp=$(mktemp)
    grep -vxF -f "$ADDED.$tag" "$f" >"$tmp" || true
    cat "$tmp" >"$f"; rm -f "$tmp"
  fi
  rm -f "$ADDED.$tag"
}
has_lines() { [ -f "$ADDED.$2" ] && [ -f "$1" ] && grep -qxF -f "$ADDED.$2" "$1"; }

selinux_evidence_active() { has_lines "$AUDIT_LOG" selinux; }
selinux_evidence_inject() {
  selinux_evidence_active && return 0
  local t dp hp lp n=$((RANDOM % 900 + 100))
  t=$(date +%s)
  dp=$(dnsmasq_pids); dp=${dp%%$'\n'*}; dp=${dp:-4242}
  # With OVN the metadata haproxy lives in ovnmeta-<net> and the agent that
  # mounts namespaces is the OVN metadata agent.
  local hns=qrouter-$ROUTER lsvc=neutron-l3-agent
  [ "$LAB_L2" = ovn ] && hns=ovnmeta-$NET lsvc=neutron-ovn-metadata-agent
  hp=$(ns_procs "$hns" haproxy); hp=${hp%%$'\n'*}; hp=${hp:-4343}
  lp=$(svc_pid ctl "$lsvc" || true); lp=${lp:-4444}
  add_lines "$AUDIT_LOG" selinux <<EOF
type=AVC msg=audit($t.112:$((n + 1))): avc:  denied  { write } for  pid=$dp comm="dnsmasq" name="leases" dev="dm-0" ino=1443062 scontext=system_u:system_r:dnsmasq_t:s0 tcontext=system_u:object_r:neutron_var_lib_t:s0 tclass=file permissive=0
type=SYSCALL msg=audit($t.112:$((n + 1))): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55d0c1a3e2a0 a2=241 a3=1b6 items=0 ppid=1 pid=$dp auid=4294967295 uid=65534 gid=65534 euid=65534 suid=65534 fsuid=65534 egid=65534 sgid=65534 fsgid=65534 tty=(none) ses=4294967295 comm="dnsmasq" exe="/usr/sbin/dnsmasq" subj=system_u:system_r:dnsmasq_t:s0 key=(null)
type=AVC msg=audit($((t + 3)).540:$((n + 2))): avc:  denied  { sys_admin } for  pid=$lp comm="privsep-helper" capability=21  scontext=system_u:system_r:neutron_t:s0 tcontext=system_u:system_r:neutron_t:s0 tclass=capability permissive=0
type=AVC msg=audit($((t + 7)).902:$((n + 3))): avc:  denied  { name_bind } for  pid=$hp comm="haproxy" src=80 scontext=system_u:system_r:haproxy_t:s0 tcontext=system_u:object_r:http_port_t:s0 tclass=tcp_socket permissive=0
type=AVC msg=audit($((t + 9)).015:$((n + 4))): avc:  denied  { mounton } for  pid=$lp comm="privsep-helper" path="/run/netns/$hns" dev="tmpfs" ino=2311 scontext=system_u:system_r:neutron_t:s0 tcontext=system_u:object_r:ifconfig_var_run_t:s0 tclass=file permissive=0
EOF
}
selinux_evidence_heal() { remove_lines "$AUDIT_LOG" selinux; }

agent_log_error_active() { has_lines "$L3_LOG" l3log; }
agent_log_error_inject() {
  agent_log_error_active && return 0
  local pid ts req qr
  pid=$(svc_pid ctl neutron-l3-agent); pid=${pid:-4343}
  ts=$(date '+%Y-%m-%d %H:%M:%S.%3N')
  req="req-$(cat /proc/sys/kernel/random/uuid)"
  qr=$(qr_dev); qr=${qr:-qr-${VM1_PORT:0:11}}
  add_lines "$L3_LOG" l3log <<EOF
$ts $pid ERROR neutron.agent.linux.utils [None $req - - - - - -] Exit code: 2; Cmd: ['ip', 'netns', 'exec', 'qrouter-$ROUTER', 'ip', '-4', 'addr', 'add', '10.0.0.1/24', 'scope', 'global', 'dev', '$qr', 'brd', '10.0.0.255']; Stdin: ; Stdout: ; Stderr: RTNETLINK answers: File exists
$ts $pid ERROR neutron.agent.l3.router_info [None $req - - - - - -] Failed to process compatible router: $ROUTER: neutron_lib.exceptions.ProcessExecutionError: Exit code: 2; Cmd: ['ip', 'link', 'set', 'dev', '$qr', 'netns', 'qrouter-$ROUTER']; Stdin: ; Stdout: ; Stderr: Invalid "netns" value "qrouter-$ROUTER"
$ts $pid ERROR neutron.agent.l3.agent [None $req - - - - - -] Failed to process compatible router: $ROUTER: RuntimeError: Exit code: 2; Stdin: ; Stdout: ; Stderr: RTNETLINK answers: Operation not permitted
EOF
}
agent_log_error_heal() { remove_lines "$L3_LOG" l3log; }

# ---- the dataplane: devices on vm1's path that are there but pass nothing --------
vm1_tap() { awk '$1=="vm1" {print $7}' "$RUN/seed/vms.txt"; }
vm1_bridge() { awk '$1=="vm1" {print $8}' "$RUN/seed/vms.txt"; }
# link_attr NETNS DEV FIELD: a field of `ip -j link show DEV` in NETNS ("" for ctl's own).
link_attr() { ip -n "$1" -j link show "$2" 2>/dev/null | jq -r ".[0].$3 // empty"; }
link_up() { ip -n "$1" -j link show "$2" | jq -e '.[0].flags | index("UP")' >/dev/null; }
vm2_pings_vm1() { pings vm2 "$(vm_ip vm1)"; }

vif_down_active() { ! link_up hb-ctl "$(vm1_tap)"; }
vif_down_inject() {
  nsx ctl ip link set "$(vm1_tap)" down
  wait_until 10 "vm2's pings to vm1 to be dropped" ping_blocked vm2 "$(vm_ip vm1)"
}
vif_down_heal() {
  nsx ctl ip link set "$(vm1_tap)" up
  wait_until 30 "vm2 to ping vm1" vm2_pings_vm1
}

vif_detached_active() { [ "$LAB_L2" = linuxbridge ] && [ "$(link_attr hb-ctl "$(vm1_tap)" master)" != "$(vm1_bridge)" ]; }
vif_detached_inject() {
  [ "$LAB_L2" = linuxbridge ] || die "vif-detached is the Linux bridge's (LAB_L2=$LAB_L2 has br-int)"
  nsx ctl ip link set "$(vm1_tap)" nomaster
  wait_until 10 "vm2's pings to vm1 to be dropped" ping_blocked vm2 "$(vm_ip vm1)"
}
vif_detached_heal() {
  vif_detached_active || return 0
  nsx ctl ip link set "$(vm1_tap)" master "$(vm1_bridge)"
  wait_until 30 "vm2 to ping vm1" vm2_pings_vm1
}

VIF_MTU=$FDIR/vm1-vif-mtu
vif_mtu_active() { [ "$(link_attr hb-ctl "$(vm1_tap)" mtu)" = 1400 ]; }
vif_mtu_inject() {
  vif_mtu_active && return 0
  link_attr hb-ctl "$(vm1_tap)" mtu >"$VIF_MTU"
  nsx ctl ip link set "$(vm1_tap)" mtu 1400
}
vif_mtu_heal() {
  vif_mtu_active || return 0
  nsx ctl ip link set "$(vm1_tap)" mtu "$(cat "$VIF_MTU" 2>/dev/null || echo 1450)"
  rm -f "$VIF_MTU"
  wait_until 30 "vm2 to ping vm1" vm2_pings_vm1
}

# The qdhcp namespace's one device besides lo (ns- with Linux bridge, tap with OVS).
dhcp_dev() { ip -n "qdhcp-$NET" -j link 2>/dev/null | jq -r 'first(.[] | select(.ifname != "lo") | .ifname) // empty'; }
dhcp_pings_vm1() { ip netns exec "qdhcp-$NET" ping -c1 -W1 "$(vm_ip vm1)" >/dev/null 2>&1; }
dhcp_device_down_active() { local d; d=$(dhcp_dev); [ -n "$d" ] && ! link_up "qdhcp-$NET" "$d"; }
dhcp_device_down_inject() {
  local d; d=$(dhcp_dev)
  [ -n "$d" ] || die "no device in qdhcp-$NET"
  ip -n "qdhcp-$NET" link set "$d" down
}
dhcp_device_down_heal() {
  dhcp_device_down_active || return 0
  ip -n "qdhcp-$NET" link set "$(dhcp_dev)" up
  wait_until 30 "vm1 to answer from qdhcp-$NET" dhcp_pings_vm1
}

qg_dev() { { ip -n "qrouter-$ROUTER" -j link 2>/dev/null || echo '[]'; } | jq -r 'first(.[] | select(.ifname | startswith("qg-")) | .ifname) // empty'; }
router_default_route() { ip -n "qrouter-$ROUTER" route show default | grep -q .; }
qg_down_active() { local d; d=$(qg_dev); [ -n "$d" ] && ! link_up "qrouter-$ROUTER" "$d"; }
qg_down_inject() { ip -n "qrouter-$ROUTER" link set "$(qg_dev)" down; }
qg_down_heal() {
  qg_down_active || return 0
  # Up again, the device has lost its routes: the L3 agent restores them
  # when it resyncs the router, as hoofbeat's fix says.
  ip -n "qrouter-$ROUTER" link set "$(qg_dev)" up
  stop_svc ctl neutron-l3-agent
  start_l3_agent
  wait_until 90 "router1's default route" router_default_route
  wait_until 60 "ctl's L3 agent alive" agent_alive ctl "L3 agent"
  wait_until 60 "vm1's floating IP to answer" fip_answers
}

# ---- OVN (LAB_L2=ovn): its control plane, behind Neutron's back ------------------
# An _active check is false outside an OVN lab (fault.sh status runs them all).
on_ovn() { [ "$LAB_L2" = ovn ]; }
vm1_lsp_exists() { [ -n "$(nbctl --bare --columns=_uuid find Logical_Switch_Port "name=$VM1_PORT")" ]; }
vm1_lsp_up() { [ "$(nbctl lsp-get-up "$VM1_PORT")" = up ]; }
vm1_port_active() { as_admin; [ "$(api GET "$NEUTRON_URL/v2.0/ports/$VM1_PORT" | jq -r .port.status)" = ACTIVE ]; }
vm2_pings_vm1_ovn() { pings vm2 "$(vm_ip vm1)"; }
# ovn_repair: Neutron rewrites OVN's NB from its own database (the operator's
# fix for NB rows deleted behind its back).
ovn_repair() {
  log "neutron-ovn-db-sync-util --ovn-neutron_sync_mode repair"
  onh ctl setpriv --reuid=neutron --regid=neutron --init-groups env -i PATH="$SAFE_PATH" HOME=/tmp LANG=C.UTF-8 \
    neutron-ovn-db-sync-util --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini \
    --config-file /etc/neutron/ovn_db_sync.ini --ovn-neutron_sync_mode repair --log-file /var/log/neutron/neutron-ovn-db-sync-util.log 3>&- ||
    die "neutron-ovn-db-sync-util failed, see run/hosts/ctl/log/neutron/neutron-ovn-db-sync-util.log"
}
wait_ovn_synced() { wait_until 90 "ovn-nbctl --wait=hv sync (northd and both chassis caught up)" alive_and ovn_synced; }

ovn_controller_stopped_active() { on_ovn && ! svc_alive cmp1 ovn-controller; }
ovn_controller_stopped_inject() {
  stop_svc cmp1 ovn-controller
  wait_until 90 "the API to report cmp1's OVN Controller agent dead" agent_dead cmp1 "OVN Controller agent"
}
ovn_controller_stopped_heal() {
  start_ovn_controller cmp1
  wait_until 60 "cmp1's ovn-controller connected to the SB" ovn_controller_connected cmp1
  ovn_chassis_compat
  wait_ovn_synced
  wait_until 90 "the API to report cmp1's OVN Controller agent alive" agent_alive cmp1 "OVN Controller agent"
  wait_until 60 "vm1 to ping vm3" pings vm1 "$(vm_ip vm3)"
}

NORTHD_RULE=$FDIR/northd-stopped-rule
nb_cfg_ahead() {
  # Listing the agents makes neutron-server bump NB_Global.nb_cfg (its
  # liveness ping, at most every agent_down_time/2).
  as_admin; api GET "$NEUTRON_URL/v2.0/agents" >/dev/null
  [ "$(nb_cfg)" -gt "$(sb_cfg)" ]
}
northd_stopped_active() { on_ovn && ! svc_alive ctl ovn-northd; }
northd_stopped_inject() {
  stop_svc ctl ovn-northd
  if [ ! -s "$NORTHD_RULE" ]; then
    as_demo
    api POST "$NEUTRON_URL/v2.0/security-group-rules" "$(jq -nc --arg sg "$SG" '{security_group_rule:{security_group_id:$sg,direction:"ingress",ethertype:"IPv4",protocol:"tcp",port_range_min:8080,port_range_max:8080,remote_ip_prefix:"0.0.0.0/0"}}')" |
      jq -r .security_group_rule.id >"$NORTHD_RULE"
  fi
  wait_until 60 "NB's nb_cfg to move past SB's" nb_cfg_ahead
}
northd_stopped_heal() {
  start_northd
  if [ -s "$NORTHD_RULE" ]; then
    as_demo; api DELETE "$NEUTRON_URL/v2.0/security-group-rules/$(cat "$NORTHD_RULE")" >/dev/null || true
    rm -f "$NORTHD_RULE"
  fi
  wait_ovn_synced
  wait_until 90 "every agent alive again ($(expected_agents))" all_agents_alive
}
all_agents_alive() { as_admin; agents_ok; }

lsp_deleted_active() { on_ovn && ! vm1_lsp_exists; }
lsp_deleted_inject() {
  vm1_lsp_exists && nbctl lsp-del "$VM1_PORT"
  wait_until 30 "vm2's pings to vm1 to be dropped" ping_blocked vm2 "$(vm_ip vm1)"
}
lsp_deleted_heal() {
  vm1_lsp_exists || ovn_repair
  wait_until 60 "vm1's Logical_Switch_Port back and up" vm1_lsp_up
  wait_ovn_synced
  wait_until 60 "vm1's port ACTIVE" vm1_port_active
  wait_until 60 "vm2 to ping vm1" vm2_pings_vm1_ovn
}

# Neutron (Zed) sets an OVN port ACTIVE only on OVN's "up" event; one it
# misses (the race router-gateway's heal works around) leaves the port DOWN
# for good. The database write stands in for the missed event; the heal is
# what hoofbeat's fix does, a re-plug, done at the level OVN sees: the VIF's
# iface-id removed (OVN says down) and set again (OVN says up).
neutron_status_stale_active() { on_ovn && vm1_lsp_up && port_status_is DOWN; }
neutron_status_stale_inject() {
  sql "UPDATE neutron.ports SET status='DOWN' WHERE id='$VM1_PORT'"
  wait_until 10 "vm1's port DOWN in the API" port_status_is DOWN
}
vm1_lsp_down() { ! vm1_lsp_up; }
neutron_status_stale_heal() {
  if ! vm1_port_active; then
    ovs ctl remove Interface "$(vm1_tap)" external_ids iface-id
    wait_until 30 "vm1's Logical_Switch_Port down" vm1_lsp_down
    ovs ctl set Interface "$(vm1_tap)" "external_ids:iface-id=$VM1_PORT"
  fi
  wait_until 30 "vm1's Logical_Switch_Port up" vm1_lsp_up
  wait_until 60 "vm1's port ACTIVE" vm1_port_active
  wait_until 30 "vm2 to ping vm1" vm2_pings_vm1_ovn
}

GW_CHASSIS_SAVED=$FDIR/gateway-chassis
gw_lrp() { as_admin; echo "lrp-$(api GET "$NEUTRON_URL/v2.0/ports?device_id=$ROUTER&device_owner=network:router_gateway" | first_id ports)"; }
gw_chassis_uuid() { nbctl --bare --columns=_uuid find Gateway_Chassis "name=$(gw_lrp)_$1" | head -1; }
gateway_chassis_bogus_active() {
  on_ovn && [ -s "$GW_CHASSIS_SAVED" ] &&
    [ "$(nbctl --if-exists get Gateway_Chassis "$(cut -d' ' -f1 "$GW_CHASSIS_SAVED")" chassis_name | tr -d '"')" = chassis-gone ]
}
gateway_chassis_bogus_inject() {
  if ! gateway_chassis_bogus_active; then
    local u; u=$(gw_chassis_uuid ctl)
    [ -n "$u" ] || die "router1's gateway port $(gw_lrp) has no Gateway_Chassis on ctl"
    echo "$u ctl" >"$GW_CHASSIS_SAVED"
    nbctl set Gateway_Chassis "$u" chassis_name=chassis-gone
  fi
  wait_until 60 "vm1's floating IP to stop answering" fip_gone
}
fip_gone() { ! fip_answers; }
gateway_chassis_bogus_heal() {
  if [ -s "$GW_CHASSIS_SAVED" ]; then
    read -r u c <"$GW_CHASSIS_SAVED"
    nbctl --if-exists set Gateway_Chassis "$u" "chassis_name=$c"
    rm -f "$GW_CHASSIS_SAVED"
  fi
  wait_ovn_synced
  wait_until 60 "vm1's floating IP to answer" fip_answers
}

icmp_rule_ids() { sg_rules | jq -r '.security_group_rules[] | select(.direction=="ingress" and .protocol=="icmp") | .id'; }
acl_of_rule() { nbctl --bare --columns=_uuid find ACL "external_ids:\"neutron:security_group_rule_id\"=\"$1\""; }
acl_icmp_deleted_active() {
  on_ovn || return 1
  local r; r=$(icmp_rule_ids | head -1)
  [ -n "$r" ] && [ -z "$(acl_of_rule "$r")" ]
}
acl_icmp_deleted_inject() {
  local r a pg
  pg=pg_${SG//-/_}
  r=$(icmp_rule_ids | head -1)
  [ -n "$r" ] || die "lab-sg has no ICMP ingress rule (fault icmp-ingress active?)"
  for a in $(acl_of_rule "$r"); do nbctl remove Port_Group "$pg" acls "$a"; done
  wait_until 60 "vm3's pings to vm1 to be dropped" ping_blocked vm3 "$(vm_ip vm1)"
}
acl_icmp_deleted_heal() {
  acl_icmp_deleted_active && ovn_repair
  wait_ovn_synced
  wait_until 60 "vm3 to ping vm1" pings vm3 "$(vm_ip vm1)"
}

ovn_metadata_stopped_active() { on_ovn && ! svc_alive cmp1 neutron-ovn-metadata-agent; }
ovn_metadata_stopped_inject() {
  stop_svc cmp1 neutron-ovn-metadata-agent
  wait_until 90 "the API to report cmp1's OVN Metadata agent dead" agent_dead cmp1 "OVN Metadata agent"
}
ovn_metadata_stopped_heal() {
  start_ovn_metadata cmp1
  wait_until 90 "the API to report cmp1's OVN Metadata agent alive" agent_alive cmp1 "OVN Metadata agent"
}

BOGUS_ENCAP_IP=192.0.2.99
encap_ip() { ovs cmp1 --if-exists get open . external_ids:ovn-encap-ip | tr -d '"'; }
sb_encap_ip() { [ "$(sbctl --bare --columns=ip find Encap chassis_name=cmp1)" = "$1" ]; }
encap_ip_changed_active() { on_ovn && [ "$(encap_ip)" = "$BOGUS_ENCAP_IP" ]; }
encap_ip_changed_inject() {
  ovs cmp1 set open . "external_ids:ovn-encap-ip=$BOGUS_ENCAP_IP"
  wait_until 30 "SB's Encap of cmp1 to read $BOGUS_ENCAP_IP" sb_encap_ip "$BOGUS_ENCAP_IP"
  wait_until 30 "vm1's pings to vm3 to be dropped" ping_blocked vm1 "$(vm_ip vm3)"
}
encap_ip_changed_heal() {
  ovs cmp1 set open . "external_ids:ovn-encap-ip=${HOST_IP[cmp1]}"
  wait_until 30 "SB's Encap of cmp1 to read ${HOST_IP[cmp1]}" sb_encap_ip "${HOST_IP[cmp1]}"
  wait_ovn_synced
  wait_until 60 "vm1 to ping vm3" pings vm1 "$(vm_ip vm3)"
}

dhcp_options_uuid() { nbctl --bare --columns=_uuid find DHCP_Options "external_ids:subnet_id=\"$SUBNET\""; }
dhcp_options_removed_active() { on_ovn && [ -z "$(dhcp_options_uuid)" ]; }
# dhcp_options_ok: the subnet's DHCP_Options exist and vm1's LSP points at them.
dhcp_options_ok() { local u; u=$(dhcp_options_uuid); [ -n "$u" ] && [ "$(nbctl get Logical_Switch_Port "$VM1_PORT" dhcpv4_options)" = "$u" ]; }
dhcp_options_removed_inject() {
  local u
  for u in $(dhcp_options_uuid); do nbctl dhcp-options-del "$u"; done
}
dhcp_options_removed_heal() {
  dhcp_options_removed_active && ovn_repair
  wait_until 60 "private-subnet's DHCP_Options in OVN's NB, on vm1's port" dhcp_options_ok
  wait_ovn_synced
}

# ---- Open vSwitch's own state, and l2population's forwarding entries -----------
# vm1's VIF on the agent's dead VLAN, as the agent leaves a port it unbinds.
DEAD_VLAN_TAG=$FDIR/vm1-vif-tag
vif_tag() { ovs ctl get Port "$(vm1_tap)" tag 2>/dev/null || true; }
ovs_dead_vlan_active() { [ "$LAB_L2" = ovs ] && [ "$(vif_tag)" = 4095 ]; }
ovs_dead_vlan_inject() {
  [ "$LAB_L2" = ovs ] || die "ovs-dead-vlan needs LAB_L2=ovs (this lab is $LAB_L2)"
  if ! ovs_dead_vlan_active; then
    mkdir -p "$FDIR"
    vif_tag >"$DEAD_VLAN_TAG"
    ovs ctl set Port "$(vm1_tap)" tag=4095
  fi
  wait_until 10 "vm2's pings to vm1 to be dropped" ping_blocked vm2 "$(vm_ip vm1)"
}
ovs_dead_vlan_heal() {
  ovs_dead_vlan_active || return 0
  ovs ctl set Port "$(vm1_tap)" tag="$(cat "$DEAD_VLAN_TAG" 2>/dev/null || echo 1)"
  rm -f "$DEAD_VLAN_TAG"
  wait_until 30 "vm2 to ping vm1" vm2_pings_vm1
}

# private's VNI, and cmp1's br-tun flow from it to the local VLAN (table 4:
# the agent's VXLAN_TUN_TO_LV).
private_vni() { as_admin; api GET "$NEUTRON_URL/v2.0/networks/$NET" | jq -r '.network["provider:segmentation_id"]'; }
vni_flow() { onh cmp1 ovs-ofctl dump-flows br-tun "table=4,tun_id=$(private_vni)" | grep -c 'mod_vlan_vid' || true; }
vni_flow_present() { [ "$(vni_flow)" != 0 ]; }
ovs_vni_flow_deleted_active() { [ "$LAB_L2" = ovs ] && [ "$(vni_flow)" = 0 ]; }
ovs_vni_flow_deleted_inject() {
  [ "$LAB_L2" = ovs ] || die "ovs-vni-flow-deleted needs LAB_L2=ovs (this lab is $LAB_L2)"
  ovs_vni_flow_deleted_active || onh cmp1 ovs-ofctl del-flows br-tun "table=4,tun_id=$(private_vni)"
  wait_until 10 "vm1's pings to vm3 to be dropped" ping_blocked vm1 "$(vm_ip vm3)"
}
ovs_vni_flow_deleted_heal() {
  ovs_vni_flow_deleted_active || return 0
  # hoofbeat's fix for it: the agent reinstalls br-tun's flows when it starts.
  stop_svc cmp1 "$L2_AGENT"
  start_agents cmp1
  wait_until 120 "cmp1's VNI flow back on br-tun" alive_and vni_flow_present
  wait_until 60 "cmp1's ports ACTIVE" cmp1_ports_active
  wait_until 60 "vm1 to ping vm3" pings vm1 "$(vm_ip vm3)"
  wait_until 60 "cmp1's $L2_AGENT_TYPE alive" agent_alive cmp1 "$L2_AGENT_TYPE"
}

# cmp1's forwarding entries to ctl on private's vxlan device: l2population's
# flood entry (00:00:00:00:00:00) and one per port of ctl on the network.
L2POP_SAVED=$FDIR/cmp1-fdb-to-ctl
vxlan_dev() { echo "vxlan-$(private_vni)"; }
fdb_to_ctl() { nsx cmp1 bridge -j fdb show dev "$(vxlan_dev)" | jq -r --arg d "${HOST_IP[ctl]}" '.[] | select(.dst == $d) | .mac'; }
# The vxlan device learns unicast entries back from what ctl sends; the
# flood entry is l2population's alone.
l2pop_fdb_deleted_active() { [ "$LAB_L2" = linuxbridge ] && ! fdb_to_ctl | grep -qx '00:00:00:00:00:00'; }
l2pop_fdb_deleted_inject() {
  [ "$LAB_L2" = linuxbridge ] || die "l2pop-fdb-deleted is the Linux bridge agent's (this lab is $LAB_L2)"
  local dev mac; dev=$(vxlan_dev)
  if ! l2pop_fdb_deleted_active; then
    mkdir -p "$FDIR"
    fdb_to_ctl >"$L2POP_SAVED"
    while read -r mac; do
      nsx cmp1 bridge fdb del "$mac" dev "$dev" dst "${HOST_IP[ctl]}"
    done <"$L2POP_SAVED"
  fi
  wait_until 10 "vm3's pings to vm1 to be dropped" ping_blocked vm3 "$(vm_ip vm1)"
}
l2pop_fdb_deleted_heal() {
  l2pop_fdb_deleted_active || return 0
  local dev mac; dev=$(vxlan_dev)
  while read -r mac; do
    if [ "$mac" = 00:00:00:00:00:00 ]; then
      nsx cmp1 bridge fdb append "$mac" dev "$dev" dst "${HOST_IP[ctl]}"
    else
      nsx cmp1 bridge fdb replace "$mac" dev "$dev" dst "${HOST_IP[ctl]}"
    fi
  done <"$L2POP_SAVED"
  rm -f "$L2POP_SAVED"
  wait_until 30 "vm3 to ping vm1" pings vm3 "$(vm_ip vm1)"
}

# ---- faults inside a real guest (LAB_GUESTS=real): vm4, the small guest on cmp2
# Each rebuilds vm4 (same port and address) from a fault image (its kernel
# command line names an hbg.fault hook, lab/guest/small) or with fault
# user-data (lab/guest/faults/), and waits for its getty; the heal rebuilds
# it from image small without user-data. What shows is read for real: the
# guest's console log through Nova's API, pings from vm1, cmp2's sockets.
VM4='' VM4_IP=''
vm4_lookup() {
  as_admin
  VM4=$(api GET "$NOVA_URL/v2.1/servers/detail?all_tenants=1&name=^vm4\$" | first_id servers)
  [ -n "$VM4" ] || die "no vm4: run lab/seed.sh (with LAB_GUESTS=real lab/up.sh)"
  VM4_IP=$(api GET "$NEUTRON_URL/v2.0/ports?device_id=$VM4" | jq -r '.ports[0].fixed_ips[0].ip_address')
}
vm4_console() { as_admin; console_output "$VM4"; }
vm4_ready() { # ACTIVE, no task, its getty prompted
  as_admin
  [ "$(api GET "$NOVA_URL/v2.1/servers/$VM4" | jq -r '"\(.server.status) \(.server."OS-EXT-STS:task_state")"')" = "ACTIVE null" ] &&
    guest_login_prompt "$VM4"
}
# vm4_rebuild IMAGE_NAME [USER_DATA_FILE]: rebuild vm4 and wait for its getty.
vm4_rebuild() {
  local img ud=null
  as_admin
  img=$(api GET "$GLANCE_URL/v2/images?name=$1" | jq -r '.images[0].id // empty')
  [ -n "$img" ] || die "no image $1: run LAB_GUESTS=real lab/up.sh"
  [ -z "${2:-}" ] || ud=$(base64 -w0 "$2" | jq -R .)
  # Devices the faults before re-created (a router interface, a DHCP port)
  # sum their own checksums again on the userspace datapath (lib.sh).
  tx_csum_off
  # user_data on rebuild needs compute API 2.57.
  API_MICROVERSION=2.57 api POST "$NOVA_URL/v2.1/servers/$VM4/action" \
    "$(jq -nc --arg i "$img" --argjson u "$ud" '{rebuild:{imageRef:$i,user_data:$u}}')" >/dev/null
  wait_until 20 "vm4's rebuild to start" vm4_rebuilding || true
  WAIT_HINT="see run/hosts/cmp2/log/nova/nova-compute.log; the console: lab/on.sh ctl openstack --os-cloud lab-admin console log show vm4" \
    wait_until 240 "vm4 rebuilt from $1 and at its login prompt" vm4_ready ||
    die "vm4 not back after its rebuild from $1; the end of its console: $(vm4_console | tail -n 15)"
}
vm4_rebuilding() { as_admin; [ "$(api GET "$NOVA_URL/v2.1/servers/$VM4" | jq -r .server.status)" != ACTIVE ]; }
vm4_pings() { pings vm1 "$VM4_IP"; }
vm4_silent() { ! vm4_pings; }
# vm4_healthy: booted from image small, without user-data, network and
# metadata up.
vm4_healthy() { console_has "$VM4" "^hbg-network-state: eth0=$VM4_IP/.* iid=i-" && ! console_has "$VM4" '^running user-data' && vm4_pings; }
guest_heal() {
  vm4_lookup
  vm4_healthy && [ "$(vm4_image)" = small ] && return 0
  vm4_rebuild small
  wait_until 60 "vm1 to ping vm4" vm4_pings
}
vm4_image() { as_admin; api GET "$GLANCE_URL/v2/images/$(api GET "$NOVA_URL/v2.1/servers/$VM4" | jq -r .server.image.id)" | jq -r .name; }

guest_interface_down_active() { vm4_lookup; console_has "$VM4" '^if-info: eth0,down' && vm4_silent; }
guest_interface_down_inject() {
  guest_interface_down_active && return 0
  vm4_rebuild small "$LAB_DIR/guest/faults/small-interface-down.sh"
}
guest_interface_down_heal() { guest_heal; }

guest_wrong_gateway_active() { vm4_lookup; console_has "$VM4" "^hbg-network-state: eth0=$VM4_IP/30 "; }
guest_wrong_gateway_inject() {
  guest_wrong_gateway_active && return 0
  vm4_rebuild small "$LAB_DIR/guest/faults/small-wrong-gateway.sh"
}
guest_wrong_gateway_heal() { guest_heal; }

HOST_ROUTE='{"destination":"192.168.50.0/24","nexthop":"10.0.0.254"}'
subnet_host_routes() { as_admin; api GET "$NEUTRON_URL/v2.0/subnets/$SUBNET" | jq -c .subnet.host_routes; }
set_host_routes() { as_admin; api PUT "$NEUTRON_URL/v2.0/subnets/$SUBNET" "$(jq -nc --argjson r "$1" '{subnet:{host_routes:$r}}')" >/dev/null; }
guest_no_host_routes_active() {
  vm4_lookup
  [ "$(subnet_host_routes)" != '[]' ] && guest_network_up "$VM4" "$VM4_IP" && ! console_has "$VM4" '^ip-route:192\.168\.50\.0/24 '
}
guest_no_host_routes_inject() {
  guest_no_host_routes_active && return 0
  set_host_routes "[$HOST_ROUTE]"
  vm4_rebuild small-no-host-routes
}
guest_no_host_routes_heal() {
  set_host_routes '[]'
  guest_heal
}

guest_no_metadata_route_active() { vm4_lookup; console_has "$VM4" '^failed 20/20'; }
guest_no_metadata_route_inject() {
  guest_no_metadata_route_active && return 0
  vm4_rebuild small-no-metadata-route
}
guest_no_metadata_route_heal() { guest_heal; }

# The guest still answers ARP: vm1 resolves vm4's MAC and gets no echo reply.
guest_firewall_icmp_active() { vm4_lookup; guest_network_up "$VM4" "$VM4_IP" && [ "$(vm4_image)" = small-firewall-icmp ] && vm4_silent; }
guest_firewall_icmp_inject() {
  guest_firewall_icmp_active && return 0
  vm4_rebuild small-firewall-icmp
  wait_until 30 "vm1's pings to vm4 to be dropped" vm4_silent
}
guest_firewall_icmp_heal() { guest_heal; }

# dnsmasq offers, the guest never sees it: udhcpc gives up.
guest_firewall_dhcp_active() { vm4_lookup; console_has "$VM4" 'no lease, failing' && [ "$(vm4_image)" = small-firewall-dhcp ]; }
guest_firewall_dhcp_inject() {
  guest_firewall_dhcp_active && return 0
  vm4_rebuild small-firewall-dhcp
}
guest_firewall_dhcp_heal() { guest_heal; }

# vm5: the Debian guest (LAB_GUEST_DEBIAN=1 lab/up.sh), created for the
# fault and deleted by its heal. Under TCG it takes 2-3 minutes to boot
# and run cloud-init to its end.
vm5_server() { as_admin; api GET "$NOVA_URL/v2.1/servers/detail?all_tenants=1&name=^vm5\$" | jq -c '.servers[0] // empty'; }
vm5_id() { vm5_server | jq -r '.id // empty'; }
vm5_gone() { [ -z "$(vm5_id)" ]; }
# cloud-init's last line: "Cloud-init v. 22.4.2 finished at ...".
vm5_finished() { local id; id=$(vm5_id); [ -n "$id" ] && console_has "$id" 'Cloud-init v\. .* finished at'; }
guest_cloud_init_failed_active() {
  local id; id=$(vm5_id)
  [ -n "$id" ] && console_has "$id" 'Failed to run module scripts-user'
}
guest_cloud_init_failed_inject() {
  [ -f "$RUN/guest-debian" ] || die "guest-cloud-init-failed needs the Debian guest: LAB_GUESTS=real LAB_GUEST_DEBIAN=1 lab/up.sh"
  guest_cloud_init_failed_active && return 0
  local img fl
  if vm5_gone; then
    as_admin
    img=$(api GET "$GLANCE_URL/v2/images?name=debian" | jq -r '.images[0].id // empty')
    fl=$(api GET "$NOVA_URL/v2.1/flavors" | jq -r '.flavors[] | select(.name=="m1.small") | .id')
    [ -n "$img" ] && [ -n "$fl" ] || die "image debian or flavor m1.small missing"
    TOKEN=$(os_token admin "$ADMIN_PASS" demo)
    api POST "$NOVA_URL/v2.1/servers" "$(jq -nc --arg i "$img" --arg f "$fl" --arg net "$NET" --arg u "$(base64 -w0 "$LAB_DIR/guest/faults/debian-runcmd-fails.yaml")" \
      '{server:{name:"vm5",imageRef:$i,flavorRef:$f,networks:[{uuid:$net}],security_groups:[{name:"lab-sg"}],key_name:"lab-key",availability_zone:"nova:cmp2",user_data:$u}}')" >/dev/null
  fi
  WAIT_HINT="the console: lab/on.sh ctl openstack --os-cloud lab-admin console log show vm5" \
    wait_until 420 "vm5 (Debian, TCG) to boot and finish cloud-init" vm5_finished ||
    die "vm5 did not finish cloud-init; the end of its console: $(console_output "$(vm5_id)" | tail -n 15)"
}
guest_cloud_init_failed_heal() {
  local id; id=$(vm5_id)
  [ -n "$id" ] || return 0
  as_admin
  api DELETE "$NOVA_URL/v2.1/servers/$id" >/dev/null
  wait_until 120 "vm5 to be deleted" vm5_gone
}

# cmp2's qemu listening for vm4's serial console (Nova's port_range).
vm4_console_listeners() { onh cmp2 ss -Hltnp 'sport >= :10000 and sport <= :20000' | grep qemu | awk '{print $4}'; }
vm4_console_on_cmp2_address() { vm4_console_listeners | grep "^${HOST_IP[cmp2]}:" >/dev/null; }
guest_serial_stale_listen_active() {
  [ "$(serial_opt proxyclient_address cmp2)" = "${HOST_IP[cmp2]}" ] && vm4_console_listeners | grep '^127\.0\.0\.1:' >/dev/null
}
vm4_hard_reboot() {
  as_admin
  api POST "$NOVA_URL/v2.1/servers/$VM4/action" '{"reboot":{"type":"HARD"}}' >/dev/null
  wait_until 20 "vm4's reboot to start" vm4_rebuilding || true
  wait_until 180 "vm4 rebooted and at its login prompt" vm4_ready || die "vm4 not back after its hard reboot"
}
guest_serial_stale_listen_inject() {
  guest_serial_stale_listen_active && return 0
  vm4_lookup
  set_serial 127.0.0.1 cmp2
  restart_compute cmp2
  vm4_hard_reboot
  set_serial "${HOST_IP[cmp2]}" cmp2
  restart_compute cmp2
}
guest_serial_stale_listen_heal() {
  vm4_lookup
  if [ "$(serial_opt proxyclient_address cmp2)" != "${HOST_IP[cmp2]}" ]; then
    set_serial "${HOST_IP[cmp2]}" cmp2
    restart_compute cmp2
  fi
  guest_serial_stale_listen_active || return 0
  vm4_hard_reboot
  wait_until 30 "vm4's console on ${HOST_IP[cmp2]}" vm4_console_on_cmp2_address
}

# ---- main ----------------------------------------------------------------------
[ $# -ge 1 ] || usage
case "$1" in
  list)
    for f in "${FAULTS[@]}"; do printf '%-26s %s\n' "${f%%|*}" "${f#*|}"; done
    exit 0 ;;
  status)
    need_root; lab_lock; lookup
    for n in $(fault_names); do
      if ! applies "$n"; then printf '%-26s n/a (LAB_L2=%s, LAB_GUESTS=%s)\n' "$n" "$LAB_L2" "$LAB_GUESTS"; continue; fi
      if "${n//-/_}_active"; then printf '%-26s ACTIVE\n' "$n"; else printf '%-26s -\n' "$n"; fi
    done
    exit 0 ;;
  heal) [ $# -eq 2 ] || usage; action=heal; name=$2 ;;
  -h|--help) usage ;;
  *) [ $# -eq 1 ] || usage; action=inject; name=$1 ;;
esac
known "$name" || die "unknown fault '$name' (lab/fault.sh list)"
case "$OVN_ONLY" in *" $name "*) [ "$LAB_L2" = ovn ] || die "$name needs LAB_L2=ovn (this lab is $LAB_L2)" ;; esac
case "$NOT_ON_OVN" in *" $name "*) [ "$LAB_L2" != ovn ] || die "$name is not real with LAB_L2=ovn: ML2/OVN has no ML2 agents, qdhcp-/qrouter- namespaces or their devices" ;; esac
case "$GUEST_ONLY" in *" $name "*) [ "$LAB_GUESTS" = real ] || die "$name needs a real guest: LAB_GUESTS=real lab/up.sh (this lab's guests are $LAB_GUESTS)" ;; esac
need_root
lab_lock
mkdir -p "$FDIR"
echo "---- $(date -u +%FT%TZ) fault.sh $action $name" >>"$RUN/timings.txt"
lookup
fn=${name//-/_}
"${fn}_$action"
if [ "$action" = inject ]; then
  "${fn}_active" || die "$name: injected, but the fault does not show"
else
  if "${fn}_active"; then die "$name: healed, but the fault still shows"; fi
fi
mark "$action $name"
