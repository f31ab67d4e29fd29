#!/usr/bin/env bash
# lab/seed.sh: the lab's tenant resources, and "fake VMs" that make the
# servers' ports real. Idempotent; needs lab/up.sh first.
#
# As admin: project and user demo (member), admin also admin of demo so that
# it can place servers on a given host. As demo: network private with
# private-subnet 10.0.0.0/24, router router1 (interface on private-subnet,
# gateway on public), security group lab-sg (ICMP and 22/tcp in), keypair
# lab-key. Ports vm1-port..vm3-port (fixed MACs, lab-sg), servers vm1 and
# vm2 on ctl, vm3 on cmp1 on them (created by admin in project demo with
# availability zone nova:HOST), and a floating IP on vm1.
#
# Fake VMs: what libvirt/os-vif would do. For each server port a veth whose
# host end tap<port[:11]> sits on the port's host and is enslaved to
# brq<net[:11]>, and whose peer eth0 in netns labvm-<server> carries the
# port's MAC and IP with a default route via 10.0.0.1. Then the port goes
# ACTIVE, and the dataplane is checked: vm1 pings vm3 across the VXLAN tunnel
# and the floating IP answers from hb-ctl.
#
# With LAB_GUESTS=real, also vm4: a real guest (the small one) booted by
# Nova's libvirt driver on cmp2, waited on through its console log and a
# ping from vm1.
set -euo pipefail
export SCRIPT_NAME=seed.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root
lab_lock
load_secrets
echo "---- $(date -u +%FT%TZ) seed.sh start" >>"$RUN/timings.txt"
if ! holder_alive ctl || ! holder_alive cmp1; then die "the lab is not up: run lab/up.sh"; fi

TOKEN=
admin_token
wait_until 60 "the lab to be healthy (agents alive, computes up and mapped)" lab_healthy ||
  die "the lab is not healthy: run lab/up.sh (it waits for health and says what is missing)"
ADMIN_TOKEN=$TOKEN
ks_id() { api GET "$KEYSTONE_URL/v3/$1?name=$2" | jq -r ".$1[0].id // empty"; }

# ---- identity ---------------------------------------------------------------
DEMO_PROJECT=$(ks_id projects demo)
[ -n "$DEMO_PROJECT" ] || DEMO_PROJECT=$(api POST "$KEYSTONE_URL/v3/projects" '{"project":{"name":"demo","description":"Demo project of the hoofbeat lab","domain_id":"default","enabled":true}}' | jq -r .project.id)
DEMO_USER=$(ks_id users demo)
if [ -z "$DEMO_USER" ]; then
  DEMO_USER=$(api POST "$KEYSTONE_URL/v3/users" "$(jq -nc --arg p "$DEMO_PASS" --arg pr "$DEMO_PROJECT" '{user:{name:"demo",password:$p,default_project_id:$pr,domain_id:"default",enabled:true}}')" | jq -r .user.id)
fi
ADMIN_USER=$(ks_id users admin)
MEMBER_ROLE=$(ks_id roles member)
ADMIN_ROLE=$(ks_id roles admin)
api PUT "$KEYSTONE_URL/v3/projects/$DEMO_PROJECT/users/$DEMO_USER/roles/$MEMBER_ROLE" >/dev/null
api PUT "$KEYSTONE_URL/v3/projects/$DEMO_PROJECT/users/$ADMIN_USER/roles/$ADMIN_ROLE" >/dev/null
# No compute quota on demo: fault server-error must fail in the scheduler
# (no valid host), not in the API's quota check.
api PUT "$NOVA_URL/v2.1/os-quota-sets/$DEMO_PROJECT" '{"quota_set":{"instances":-1,"cores":-1,"ram":-1}}' >/dev/null
DEMO_TOKEN=$(os_token demo "$DEMO_PASS" demo)
ADMIN_DEMO_TOKEN=$(os_token admin "$ADMIN_PASS" demo)
if [ -z "$DEMO_TOKEN" ] || [ -z "$ADMIN_DEMO_TOKEN" ]; then die "could not get the demo tokens"; fi
mark "demo project and user"

# ---- network, router, security group, keypair (as demo) ---------------------
TOKEN=$DEMO_TOKEN
first_id() { jq -r ".$1[0].id // empty"; }
PUBLIC_NET=$(api GET "$NEUTRON_URL/v2.0/networks?name=public" | first_id networks)
[ -n "$PUBLIC_NET" ] || die "no public network: run lab/up.sh"
NET=$(api GET "$NEUTRON_URL/v2.0/networks?name=private&project_id=$DEMO_PROJECT" | first_id networks)
[ -n "$NET" ] || NET=$(api POST "$NEUTRON_URL/v2.0/networks" '{"network":{"name":"private","admin_state_up":true}}' | jq -r .network.id)
SUBNET=$(api GET "$NEUTRON_URL/v2.0/subnets?name=private-subnet&network_id=$NET" | first_id subnets)
[ -n "$SUBNET" ] || SUBNET=$(api POST "$NEUTRON_URL/v2.0/subnets" "$(jq -nc --arg n "$NET" '{subnet:{name:"private-subnet",network_id:$n,ip_version:4,cidr:"10.0.0.0/24",gateway_ip:"10.0.0.1",enable_dhcp:true}}')" | jq -r .subnet.id)
ROUTER=$(api GET "$NEUTRON_URL/v2.0/routers?name=router1&project_id=$DEMO_PROJECT" | first_id routers)
[ -n "$ROUTER" ] || ROUTER=$(api POST "$NEUTRON_URL/v2.0/routers" '{"router":{"name":"router1","admin_state_up":true}}' | jq -r .router.id)
set_gateway() { api PUT "$NEUTRON_URL/v2.0/routers/$ROUTER" "$(jq -nc --arg n "$PUBLIC_NET" '{router:{external_gateway_info:{network_id:$n}}}')" >/dev/null; }
gateway_port_active() {
  [ "$(TOKEN=$ADMIN_TOKEN api GET "$NEUTRON_URL/v2.0/ports?device_id=$ROUTER&device_owner=network:router_gateway" | jq -r '.ports[0].status // empty')" = ACTIVE ]
}
if [ "$(api GET "$NEUTRON_URL/v2.0/routers/$ROUTER" | jq -r '.router.external_gateway_info.network_id // empty')" != "$PUBLIC_NET" ]; then
  set_gateway
  # On OVN, Neutron (Zed) can leave a new gateway port DOWN for good when
  # OVN's "up" event beats the port's binding (lab/fault.sh router-gateway
  # says more): only a new gateway port gets out of it.
  # A port that makes it is ACTIVE within about 10 s, even under load: 25 s
  # a try (45 s cost two tries 90 s in a CI rehearsal).
  if [ "$LAB_L2" = ovn ]; then
    for try in 1 2 3 4; do
      wait_until 25 "router1's gateway port ACTIVE" gateway_port_active && break
      [ "$try" = 4 ] && die "router1's gateway port still DOWN after 4 gateways"
      log "router1's gateway port stuck DOWN: re-creating the gateway ($try/4)"
      api PUT "$NEUTRON_URL/v2.0/routers/$ROUTER" '{"router":{"external_gateway_info":{}}}' >/dev/null
      set_gateway
    done
  fi
fi
if [ -z "$(api GET "$NEUTRON_URL/v2.0/ports?device_id=$ROUTER&network_id=$NET" | first_id ports)" ]; then
  api PUT "$NEUTRON_URL/v2.0/routers/$ROUTER/add_router_interface" "$(jq -nc --arg s "$SUBNET" '{subnet_id:$s}')" >/dev/null
fi
SG=$(api GET "$NEUTRON_URL/v2.0/security-groups?name=lab-sg&project_id=$DEMO_PROJECT" | first_id security_groups)
[ -n "$SG" ] || SG=$(api POST "$NEUTRON_URL/v2.0/security-groups" '{"security_group":{"name":"lab-sg","description":"hoofbeat lab: ICMP and SSH in"}}' | jq -r .security_group.id)
# ensure_sg_rule JSON_FILTER JSON_RULE: create the rule unless one matches.
ensure_sg_rule() {
  local rules; rules=$(api GET "$NEUTRON_URL/v2.0/security-group-rules?security_group_id=$SG")
  if [ "$(jq "[.security_group_rules[] | select($1)] | length" <<<"$rules")" = 0 ]; then
    api POST "$NEUTRON_URL/v2.0/security-group-rules" "$(jq -c --arg sg "$SG" '.security_group_id=$sg | {security_group_rule:.}' <<<"$2")" >/dev/null
  fi
}
SG_ICMP_RULE='{"direction":"ingress","ethertype":"IPv4","protocol":"icmp","remote_ip_prefix":"0.0.0.0/0"}'
SG_SSH_RULE='{"direction":"ingress","ethertype":"IPv4","protocol":"tcp","port_range_min":22,"port_range_max":22,"remote_ip_prefix":"0.0.0.0/0"}'
ensure_sg_rule '.direction=="ingress" and .protocol=="icmp"' "$SG_ICMP_RULE"
ensure_sg_rule '.direction=="ingress" and .protocol=="tcp" and .port_range_min==22' "$SG_SSH_RULE"
for et in IPv4 IPv6; do
  ensure_sg_rule ".direction==\"egress\" and .ethertype==\"$et\" and .protocol==null and .remote_ip_prefix==null and .remote_group_id==null" \
    "{\"direction\":\"egress\",\"ethertype\":\"$et\"}"
done

# The keypair, for demo (who owns it) and for admin (who boots the servers:
# nova looks keypairs up by the booting user).
mkdir -p "$RUN/seed"
if [ ! -f "$RUN/seed/lab-key" ]; then
  ssh-keygen -q -t ed25519 -N '' -C lab-key -f "$RUN/seed/lab-key"
fi
PUBKEY=$(cat "$RUN/seed/lab-key.pub")
for t in "$DEMO_TOKEN" "$ADMIN_DEMO_TOKEN"; do
  TOKEN=$t
  if ! API_QUIET=1 api GET "$NOVA_URL/v2.1/os-keypairs/lab-key" >/dev/null; then
    api POST "$NOVA_URL/v2.1/os-keypairs" "$(jq -nc --arg k "$PUBKEY" '{keypair:{name:"lab-key",public_key:$k}}')" >/dev/null
  fi
done
mark "network, router, security group, keypair"

# ---- servers ----------------------------------------------------------------
TOKEN=$ADMIN_TOKEN
FLAVOR=$(api GET "$NOVA_URL/v2.1/flavors" | jq -r '.flavors[] | select(.name=="m1.nano") | .id')
IMAGE=$(api GET "$GLANCE_URL/v2/images?name=cirros-fake" | jq -r '.images[0].id // empty')
if [ -z "$FLAVOR" ] || [ -z "$IMAGE" ]; then die "flavor m1.nano or image cirros-fake missing: run lab/up.sh"; fi
declare -A VM_HOST=([vm1]=ctl [vm2]=ctl [vm3]=cmp1)
# Fixed MACs with no octet below 0x10: ebtables-nft prints such an octet
# without its leading zero, and the linuxbridge agent's ARP protection then
# fails to delete its own rule on every port update (RULE_DELETE failed
# (Invalid argument)), leaving the port DOWN. A real neutron/Debian 12 bug.
declare -A VM_MAC=([vm1]=fa:16:3e:5e:ed:11 [vm2]=fa:16:3e:5e:ed:12 [vm3]=fa:16:3e:5e:ed:13)
declare -A VM_ID=() VM_PORT=()
TOKEN=$DEMO_TOKEN
for vm in vm1 vm2 vm3; do
  VM_PORT[$vm]=$(api GET "$NEUTRON_URL/v2.0/ports?name=$vm-port&network_id=$NET" | first_id ports)
  if [ -z "${VM_PORT[$vm]}" ]; then
    VM_PORT[$vm]=$(api POST "$NEUTRON_URL/v2.0/ports" "$(jq -nc --arg n "$vm-port" --arg net "$NET" --arg m "${VM_MAC[$vm]}" --arg sg "$SG" \
      '{port:{name:$n,network_id:$net,mac_address:$m,security_groups:[$sg],admin_state_up:true}}')" | jq -r .port.id)
  fi
done
server_get() { # NAME: print the server JSON of the demo project's server NAME, if any
  api GET "$NOVA_URL/v2.1/servers/detail?all_tenants=1&project_id=$DEMO_PROJECT&name=^$1\$" | jq -c '.servers[0] // empty'
}
TOKEN=$ADMIN_DEMO_TOKEN
gone() { [ -z "$(server_get "$1")" ]; }
# ensure_servers: every server exists on its host, not in ERROR (recreated
# if so); new ones are created now. Leaves their IDs in VM_ID.
ensure_servers() {
  local vm s
  for vm in vm1 vm2 vm3; do
    s=$(server_get "$vm")
    if [ -n "$s" ] && { [ "$(jq -r .status <<<"$s")" = ERROR ] || [ "$(jq -r '."OS-EXT-SRV-ATTR:host"' <<<"$s")" != "${VM_HOST[$vm]}" ]; }; then
      log "$vm is $(jq -r .status <<<"$s") on $(jq -r '."OS-EXT-SRV-ATTR:host"' <<<"$s") ($(api GET "$NOVA_URL/v2.1/servers/$(jq -r .id <<<"$s")" | jq -r '.server.fault.message // "no fault"')): recreating it"
      api DELETE "$NOVA_URL/v2.1/servers/$(jq -r .id <<<"$s")" >/dev/null
      wait_until 60 "$vm to be deleted" gone "$vm" || die "could not delete $vm"
      s=
    fi
    if [ -z "$s" ]; then
      VM_ID[$vm]=$(api POST "$NOVA_URL/v2.1/servers" "$(jq -nc --arg n "$vm" --arg i "$IMAGE" --arg f "$FLAVOR" --arg p "${VM_PORT[$vm]}" --arg az "nova:${VM_HOST[$vm]}" \
        '{server:{name:$n,imageRef:$i,flavorRef:$f,networks:[{port:$p}],key_name:"lab-key",availability_zone:$az}}')" | jq -r .server.id)
      log "created $vm (${VM_ID[$vm]}) on ${VM_HOST[$vm]}"
    else
      VM_ID[$vm]=$(jq -r .id <<<"$s")
    fi
  done
}
server_settled() { # ID: ACTIVE or ERROR
  local st; st=$(api GET "$NOVA_URL/v2.1/servers/$1" | jq -r .server.status)
  [ "$st" = ACTIVE ] || [ "$st" = ERROR ]
}
# A boot can fail for a passing reason (seen once: placement answered the
# scheduler 401 while two boots ran at once): retry such servers twice.
for attempt in 1 2 3; do
  ensure_servers
  all_active=1
  for vm in vm1 vm2 vm3; do
    wait_until 120 "$vm to be ACTIVE or ERROR" server_settled "${VM_ID[$vm]}" || die "$vm is stuck in $(api GET "$NOVA_URL/v2.1/servers/${VM_ID[$vm]}" | jq -r .server.status)"
    [ "$(api GET "$NOVA_URL/v2.1/servers/${VM_ID[$vm]}" | jq -r .server.status)" = ACTIVE ] || all_active=
  done
  [ -n "$all_active" ] && break
  [ "$attempt" = 3 ] && die "servers still in ERROR after 3 attempts: $(api GET "$NOVA_URL/v2.1/servers/detail?all_tenants=1&project_id=$DEMO_PROJECT" | jq -c '[.servers[] | {name,status,fault:.fault.message}]')"
done
mark "servers ACTIVE"

# ---- floating IP on vm1 (as demo) --------------------------------------------
TOKEN=$ADMIN_TOKEN
port_of() { api GET "$NEUTRON_URL/v2.0/ports?device_id=$1" | jq -c '.ports[0] // empty'; }
VM1_PORT=$(port_of "${VM_ID[vm1]}" | jq -r .id)
TOKEN=$DEMO_TOKEN
FIP=$(api GET "$NEUTRON_URL/v2.0/floatingips?port_id=$VM1_PORT" | jq -r '.floatingips[0].floating_ip_address // empty')
if [ -z "$FIP" ]; then
  # Reuse a free floating IP of the project before allocating a new one.
  free=$(api GET "$NEUTRON_URL/v2.0/floatingips?floating_network_id=$PUBLIC_NET" | jq -r '[.floatingips[] | select(.port_id==null)][0].id // empty')
  if [ -n "$free" ]; then
    FIP=$(api PUT "$NEUTRON_URL/v2.0/floatingips/$free" "$(jq -nc --arg p "$VM1_PORT" '{floatingip:{port_id:$p}}')" | jq -r .floatingip.floating_ip_address)
  else
    FIP=$(api POST "$NEUTRON_URL/v2.0/floatingips" "$(jq -nc --arg n "$PUBLIC_NET" --arg p "$VM1_PORT" '{floatingip:{floating_network_id:$n,port_id:$p}}')" | jq -r .floatingip.floating_ip_address)
  fi
fi
mark "floating IP $FIP on vm1"

# ---- fake VMs ---------------------------------------------------------------
TOKEN=$ADMIN_TOKEN
link_in() { ip -n "$1" link show "$2" >/dev/null 2>&1; }
# wire_vm NAME: plug the server's port like os-vif would.
wire_vm() {
  local vm=$1 p pid mac ip host net tap brq vns hns mtu
  p=$(port_of "${VM_ID[$vm]}")
  [ -n "$p" ] || die "$vm has no port"
  pid=$(jq -r .id <<<"$p"); mac=$(jq -r .mac_address <<<"$p"); ip=$(jq -r '.fixed_ips[0].ip_address' <<<"$p")
  host=$(jq -r '."binding:host_id"' <<<"$p"); net=$(jq -r .network_id <<<"$p")
  [ "$host" = "${VM_HOST[$vm]}" ] || die "$vm's port is bound to '$host', expected ${VM_HOST[$vm]}"
  mtu=$(api GET "$NEUTRON_URL/v2.0/networks/$net" | jq -r .network.mtu)
  tap=tap${pid:0:11}; brq=brq${net:0:11}; vns=labvm-$vm; hns=$(ns_of "$host")
  ns_exists "$vns" || ip netns add "$vns"
  ip -n "$vns" link set lo up
  if ! link_in "$hns" "$tap" || ! link_in "$vns" eth0; then
    ip -n "$hns" link del "$tap" 2>/dev/null || true
    ip -n "$vns" link del eth0 2>/dev/null || true
    ip link add "$tap" netns "$hns" mtu "$mtu" type veth peer name eth0 netns "$vns" mtu "$mtu"
  fi
  ip -n "$vns" link set eth0 address "$mac"
  ip -n "$vns" addr replace "$ip/24" dev eth0
  ip -n "$vns" link set eth0 up
  # Its own checksums on the userspace datapath (tx_csum_off in lib.sh).
  [ "$LAB_L2" = linuxbridge ] || ip netns exec "$vns" ethtool -K eth0 tx off >/dev/null
  ip -n "$vns" route replace default via 10.0.0.1
  ip -n "$hns" link set "$tap" up
  if [ "$LAB_L2" != linuxbridge ]; then
    # What os-vif does for OVS: the port on br-int, named by its Neutron port.
    # With OVN, ovn-controller binds it by iface-id (br-int is its own).
    local hint=run/hosts/$host/log/neutron/$L2_AGENT.log
    [ "$LAB_L2" = ovn ] && hint=run/hosts/$host/ovn/log/ovn-controller.log
    WAIT_HINT="see $hint" \
      wait_until 60 "br-int on $host" ovs "$host" br-exists br-int || die "no br-int on $host"
    ovs "$host" --may-exist add-port br-int "$tap" -- set Interface "$tap" \
      "external-ids:iface-id=$pid" external-ids:iface-status=active \
      "external-ids:attached-mac=$mac" "external-ids:vm-uuid=${VM_ID[$vm]}"
  else
    # The linuxbridge agent creates brq<net> on first use but leaves compute
    # ports to the hypervisor (it logs "added elsewhere"): enslave the tap.
    WAIT_HINT="see run/hosts/$host/log/neutron/$L2_AGENT.log" \
      wait_until 60 "bridge $brq on $host" link_in "$hns" "$brq" || die "no $brq on $host"
    ip -n "$hns" link set "$tap" master "$brq"
  fi
  echo "$vm ${VM_ID[$vm]} $pid $mac $ip $host $tap $brq" >>"$RUN/seed/vms.txt.new"
}
rm -f "$RUN/seed/vms.txt.new"
for vm in vm1 vm2 vm3; do wire_vm "$vm"; done
mv "$RUN/seed/vms.txt.new" "$RUN/seed/vms.txt"
# OVN's metadata port (network:distributed, a localport) is bound nowhere: always DOWN.
private_ports_active() {
  [ "$(api GET "$NEUTRON_URL/v2.0/ports?network_id=$NET" | jq '[.ports[] | select(.status!="ACTIVE" and .device_owner!="network:distributed")] | length')" = 0 ]
}
WAIT_HINT="ports: lab/on.sh ctl openstack --os-cloud lab-admin port list --network private --long" \
  wait_until 90 "every port of private ACTIVE" private_ports_active || die "ports not ACTIVE: $(api GET "$NEUTRON_URL/v2.0/ports?network_id=$NET" | jq -c '[.ports[] | {id,device_owner,status}]')"
mark "fake VMs wired, ports ACTIVE"

# ---- dataplane checks ---------------------------------------------------------
ping1() { local ns=$1 dst=$2; ip netns exec "$ns" ping -c1 -W1 "$dst"; }
vm3_ip=$(awk '$1=="vm3" {print $5}' "$RUN/seed/vms.txt")
wait_until 60 "vm1 to ping its router 10.0.0.1" ping1 labvm-vm1 10.0.0.1 || die "vm1 cannot reach 10.0.0.1"
tunnel=VXLAN; [ "$LAB_L2" = ovn ] && tunnel=geneve
wait_until 60 "vm1 to ping vm3 ($vm3_ip) across the $tunnel tunnel ctl<->cmp1" ping1 labvm-vm1 "$vm3_ip" || die "vm1 cannot reach vm3"
wait_until 60 "vm3 to ping vm1 across the $tunnel tunnel cmp1<->ctl" ping1 labvm-vm3 "$(awk '$1=="vm1" {print $5}' "$RUN/seed/vms.txt")" || die "vm3 cannot reach vm1"
wait_until 60 "floating IP $FIP to answer from hb-ctl" ping1 hb-ctl "$FIP" || die "floating IP $FIP does not answer"
mark "dataplane checked"

# ---- vm4: a real guest (LAB_GUESTS=real) ----------------------------------------
# The small guest (lab/guest-image.sh) booted by Nova's libvirt driver on
# cmp2 under TCG, plugged by os-vif (onto brq<net> with Linux bridge, br-int
# with Open vSwitch and OVN), its lease from the DHCP agent's dnsmasq (OVN:
# ovn-controller), metadata through the router's proxy (OVN: the metadata
# agent's on cmp2). Its init prints "hbg-network-state: eth0=ADDR/LEN gw=GW
# iid=ID ..." once the network is up, iid=none without metadata.
VM4=
VM4_PORT=
if [ "$LAB_GUESTS" = real ]; then
  TOKEN=$DEMO_TOKEN
  VM4_PORT=$(api GET "$NEUTRON_URL/v2.0/ports?name=vm4-port&network_id=$NET" | first_id ports)
  if [ -z "$VM4_PORT" ]; then
    VM4_PORT=$(api POST "$NEUTRON_URL/v2.0/ports" "$(jq -nc --arg net "$NET" --arg sg "$SG" \
      '{port:{name:"vm4-port",network_id:$net,mac_address:"fa:16:3e:5e:ed:14",security_groups:[$sg],admin_state_up:true}}')" | jq -r .port.id)
  fi
  TOKEN=$ADMIN_TOKEN
  SMALL=$(api GET "$GLANCE_URL/v2/images?name=small" | jq -r '.images[0].id // empty')
  TINY=$(api GET "$NOVA_URL/v2.1/flavors" | jq -r '.flavors[] | select(.name=="m1.tiny") | .id')
  [ -n "$SMALL" ] && [ -n "$TINY" ] || die "image small or flavor m1.tiny missing: run LAB_GUESTS=real lab/up.sh"
  TOKEN=$ADMIN_DEMO_TOKEN
  for attempt in 1 2; do
    s=$(server_get vm4)
    if [ -n "$s" ] && [ "$(jq -r .status <<<"$s")" = ERROR ]; then
      log "vm4 is in ERROR ($(api GET "$NOVA_URL/v2.1/servers/$(jq -r .id <<<"$s")" | jq -r '.server.fault.message // "no fault"')): recreating it"
      api DELETE "$NOVA_URL/v2.1/servers/$(jq -r .id <<<"$s")" >/dev/null
      wait_until 60 "vm4 to be deleted" gone vm4 || die "could not delete vm4"
      s=
    fi
    if [ -z "$s" ]; then
      VM4=$(api POST "$NOVA_URL/v2.1/servers" "$(jq -nc --arg i "$SMALL" --arg f "$TINY" --arg p "$VM4_PORT" \
        '{server:{name:"vm4",imageRef:$i,flavorRef:$f,networks:[{port:$p}],key_name:"lab-key",availability_zone:"nova:cmp2"}}')" | jq -r .server.id)
      log "created vm4 ($VM4) on cmp2, a real guest"
    else
      VM4=$(jq -r .id <<<"$s")
    fi
    WAIT_HINT="see run/hosts/cmp2/log/nova/nova-compute.log, run/hosts/cmp2/libvirt/log/" \
      wait_until 240 "vm4 to be ACTIVE or ERROR" server_settled "$VM4" || die "vm4 is stuck in $(api GET "$NOVA_URL/v2.1/servers/$VM4" | jq -r .server.status)"
    [ "$(api GET "$NOVA_URL/v2.1/servers/$VM4" | jq -r .server.status)" = ACTIVE ] && break
    [ "$attempt" = 2 ] && die "vm4 in ERROR: $(api GET "$NOVA_URL/v2.1/servers/$VM4" | jq -c .server.fault)"
  done
  # OVN's metadata agent makes cmp2's namespace once vm4's port is bound
  # there; the guest retries metadata for a minute meanwhile.
  if [ "$LAB_L2" = ovn ]; then
    WAIT_HINT="see run/hosts/cmp2/log/neutron/neutron-ovn-metadata-agent.log" \
      wait_until 60 "OVN's metadata namespace on cmp2" ovnmeta_on cmp2 || die "no ovnmeta namespace on cmp2"
  fi
  tx_csum_off
  vm4_ip=$(TOKEN=$ADMIN_TOKEN api GET "$NEUTRON_URL/v2.0/ports/$VM4_PORT" | jq -r '.port.fixed_ips[0].ip_address')
  WAIT_HINT="the console: lab/on.sh ctl openstack --os-cloud lab-admin console log show vm4" \
    wait_until 180 "vm4's console to show its network up with $vm4_ip" guest_network_up "$VM4" "$vm4_ip" ||
    die "vm4 did not bring its network up; the end of its console: $(console_tail "$VM4")"
  console_has "$VM4" "^hbg-network-state: eth0=$vm4_ip/.* iid=i-" ||
    die "vm4 reached no metadata; the end of its console: $(console_tail "$VM4")"
  wait_until 60 "vm1 to ping vm4 ($vm4_ip), a real guest on cmp2, across the $tunnel tunnel" ping1 labvm-vm1 "$vm4_ip" ||
    die "vm1 cannot reach vm4"
  echo "vm4 $VM4 $VM4_PORT fa:16:3e:5e:ed:14 $vm4_ip cmp2" >"$RUN/seed/guests.txt"
  mark "vm4 (real guest) up"
fi
check_isolation

cat >"$RUN/seed/ids.env" <<EOF
DEMO_PROJECT=$DEMO_PROJECT
PUBLIC_NET=$PUBLIC_NET
NET=$NET
SUBNET=$SUBNET
ROUTER=$ROUTER
SG=$SG
VM1=${VM_ID[vm1]}
VM2=${VM_ID[vm2]}
VM3=${VM_ID[vm3]}
VM1_PORT=$VM1_PORT
FIP=$FIP
VM4=$VM4
VM4_PORT=$VM4_PORT
EOF
mark "SEEDED"
cat <<EOF

hoofbeat lab seeded ($(elapsed) s): vm1, vm2 on ctl, vm3 on cmp1; floating IP $FIP on vm1.
  ids:  $RUN/seed/ids.env    fake VMs: $RUN/seed/vms.txt (netns labvm-<name>)
  try:  lab/on.sh ctl openstack --os-cloud lab-demo server list
EOF
