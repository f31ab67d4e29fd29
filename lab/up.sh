#!/usr/bin/env bash
# lab/up.sh: stand up hoofbeat's lab, a real minimal OpenStack (Debian 12's
# packaged Zed) on two "hosts" that are network namespaces of this machine:
#
#   hb-ctl  (controller + network node + a compute): MariaDB, RabbitMQ,
#           Keystone, Glance, Placement, neutron-server and its linuxbridge,
#           DHCP, L3 and metadata agents, nova api/conductor/scheduler/
#           serialproxy/compute (FakeDriver); br-ex 172.24.4.1/24 = physnet1
#   hb-cmp1 (compute node): linuxbridge agent + nova-compute (FakeDriver)
#   hb-cmp2 (compute node, idle: no instance): the same; with LAB_L2=ovn
#           only with real guests. With LAB_GUESTS=real: Nova's libvirt
#           driver, libvirtd, virtlogd and qemu (TCG) host vm4, and the small
#           guest's images are in Glance
#
# LAB_L2=ovs swaps the Linux bridge agent for the Open vSwitch agent; LAB_L2=ovn
# has no ML2 agents at all: OVN's NB and SB databases and ovn-northd on ctl,
# ovn-controller and neutron-ovn-metadata-agent on every host (ctl is the
# gateway chassis), Open vSwitch on the userspace datapath, geneve tunnels.
#
# joined by the underlay 192.0.2.0/24 (ctl .10, cmp1 .11, cmp2 .12), a bridge
# in namespace hb-wire that carries the management traffic and the tunnels.
# Nothing is linked to the machine's own network namespace and no namespace
# has a route out.
#
# Idempotent: running services are left alone. Run as root. Usage: lab/up.sh
# (LAB_L2=linuxbridge|ovs|ovn, LAB_GUESTS=fake|real in the environment)
set -euo pipefail
export SCRIPT_NAME=up.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=conf.sh
. "$LAB_DIR/conf.sh"
# shellcheck source=guest-lib.sh
. "$LAB_DIR/guest-lib.sh"
need_root
lab_lock
mkdir -p "$RUN" "$PIDS" "$STATE"
echo "---- $(date -u +%FT%TZ) up.sh start (LAB_L2=$LAB_L2)" >>"$RUN/timings.txt"
if [ -f "$RUN/l2" ] && [ "$(cat "$RUN/l2")" != "$LAB_L2" ] && { [ -f "$STATE/db-synced" ] || ls "$PIDS"/*.pid >/dev/null 2>&1; }; then
  die "the lab in run/ is a $(cat "$RUN/l2") lab: run lab/down.sh (without --keep-state) before LAB_L2=$LAB_L2 lab/up.sh"
fi
echo "$LAB_L2" >"$RUN/l2"
if [ -f "$RUN/guest-mode" ] && [ "$(cat "$RUN/guest-mode")" != "$LAB_GUESTS" ] && { [ -f "$STATE/db-synced" ] || ls "$PIDS"/*.pid >/dev/null 2>&1; }; then
  die "the lab in run/ has LAB_GUESTS=$(cat "$RUN/guest-mode"): run lab/down.sh (without --keep-state) before LAB_GUESTS=$LAB_GUESTS lab/up.sh"
fi
echo "$LAB_GUESTS" >"$RUN/guest-mode"

PACKAGES=(
  keystone glance-api placement-api
  neutron-server neutron-linuxbridge-agent neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent
  nova-api nova-conductor nova-scheduler nova-compute nova-compute-ironic nova-consoleproxy
  python3-openstackclient mariadb-server rabbitmq-server uwsgi-core uwsgi-plugin-python3
  haproxy dnsmasq-base iptables ebtables conntrack iproute2 busybox iputils-ping curl jq sudo openssh-client openssh-server
)
[ "$LAB_L2" = ovs ] && PACKAGES+=(openvswitch-switch neutron-openvswitch-agent ethtool)
[ "$LAB_L2" = ovn ] && PACKAGES+=(openvswitch-switch ovn-central ovn-host neutron-ovn-metadata-agent ethtool)
# qemu-utils: qemu-img, for Nova's image cache.
[ "$LAB_GUESTS" = real ] && PACKAGES+=(libvirt-daemon-system libvirt-clients python3-libvirt qemu-system-x86 qemu-utils)

# ---- 1. packages --------------------------------------------------------------
install_packages() {
  local p missing=()
  for p in "${PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${#missing[@]} missing packages (of ${#PACKAGES[@]}): ${missing[*]}"
  # Maintainer scripts must not start daemons in the machine's namespace.
  local made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  # No postinst may try to reach a database, RabbitMQ or Keystone.
  debconf-set-selections <<'EOF'
dbconfig-common dbconfig-common/dbconfig-install boolean false
keystone keystone/configure_db boolean false
keystone keystone/create-admin-tenant boolean false
keystone keystone/register-endpoint boolean false
glance-common glance/configure_db boolean false
glance-common glance/configure_rabbit boolean false
glance-common glance/configure_ksat boolean false
glance-api glance/configure_api-endpoint boolean false
neutron-common neutron/configure_db boolean false
neutron-common neutron/configure_rabbit boolean false
neutron-common neutron/configure_ksat boolean false
neutron-common neutron/configure_nova boolean false
neutron-api neutron/configure_api-endpoint boolean false
neutron-metadata-agent neutron-metadata/configure boolean false
nova-common nova/configure_db boolean false
nova-common nova/configure_rabbit boolean false
nova-common nova/configure_ksat boolean false
nova-common nova/configure_neutron boolean false
nova-common nova/configure_placement boolean false
nova-api novaapi/configure_db boolean false
nova-api nova/configure_api-endpoint boolean false
placement-common placement/configure_db boolean false
placement-common placement/configure_ksat boolean false
placement-api placement/configure_api-endpoint boolean false
EOF
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  mark "packages installed"
}
install_packages
# Nova's libvirt driver connects to qemu:///system as nova: the socket is
# group libvirt's (nova-compute-kvm would add nova to it; the lab installs
# nova-compute-ironic).
if [ "$LAB_GUESTS" = real ] && ! id -nG nova | tr ' ' '\n' | grep -qx libvirt; then usermod -aG libvirt nova; fi
# The small guest's images, built (or found cached) while OpenStack starts.
if [ "$LAB_GUESTS" = real ]; then
  "$LAB_DIR/guest-image.sh" small >"$RUN/guest-image.log" 2>&1 &
  GUEST_IMAGE_JOB=$!
fi

# ---- 2. secrets and client credentials -----------------------------------------
gen_pass() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
if [ ! -f "$RUN/secrets.env" ]; then
  umask 077
  {
    echo "# hoofbeat lab secrets, generated $(date -u +%FT%TZ); valid only inside the lab namespaces"
    for v in ADMIN_PASS DEMO_PASS SERVICE_PASS DB_PASS RABBIT_PASS METADATA_SECRET; do
      echo "$v=$(gen_pass)"
    done
  } >"$RUN/secrets.env"
  umask 022
fi
load_secrets

write_client_files() {
  local who pass proj
  for who in admin demo; do
    proj=$who
    if [ "$who" = admin ]; then pass=$ADMIN_PASS; else pass=$DEMO_PASS; fi
    put "$RUN/openrc-$who" root:root 0600 <<EOF
# hoofbeat lab: credentials of the $who user (use from inside the lab: lab/on.sh ctl ...)
export OS_AUTH_URL=$KEYSTONE_URL/v3
export OS_PROJECT_NAME=$proj
export OS_USERNAME=$who
export OS_PASSWORD=$pass
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_IDENTITY_API_VERSION=3
export OS_INTERFACE=public
EOF
  done
  put "$RUN/clouds.yaml" root:root 0600 <<EOF
# hoofbeat lab clouds (reachable from inside the lab hosts: lab/on.sh ctl ...)
clouds:
  lab-admin:
    auth:
      auth_url: $KEYSTONE_URL/v3
      username: admin
      password: $ADMIN_PASS
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  lab-demo:
    auth:
      auth_url: $KEYSTONE_URL/v3
      username: demo
      password: $DEMO_PASS
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
EOF
}
write_client_files

# ---- 3. namespaces: the hosts and the wire between them ------------------------
setup_netns() {
  local h ns
  for h in "${LAB_HOSTS[@]}"; do
    ns=$(ns_of "$h")
    ns_exists "$ns" || ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  # The wire: a bridge with no address, each host's mgmt0 patched into it
  # by a veth whose two ends are created directly in the lab namespaces.
  ns_exists "$WIRE_NS" || ip netns add "$WIRE_NS"
  ip -n "$WIRE_NS" link show sw0 >/dev/null 2>&1 || ip -n "$WIRE_NS" link add sw0 type bridge
  ip -n "$WIRE_NS" link set sw0 up
  for h in "${LAB_HOSTS[@]}"; do
    ns=$(ns_of "$h")
    if ! ip -n "$ns" link show mgmt0 >/dev/null 2>&1 || ! ip -n "$WIRE_NS" link show "$h" >/dev/null 2>&1; then
      ip -n "$ns" link del mgmt0 2>/dev/null || true
      ip -n "$WIRE_NS" link del "$h" 2>/dev/null || true
      ip link add mgmt0 netns "$ns" type veth peer name "$h" netns "$WIRE_NS"
    fi
    ip -n "$WIRE_NS" link set "$h" master sw0 up
    ip -n "$ns" link set mgmt0 up
    # With OVS the underlay address sits on the OVS bridge br-phy (userspace
    # VXLAN needs it there); see start_ovs.
    [ "$LAB_L2" = linuxbridge ] && ip -n "$ns" addr replace "${HOST_IP[$h]}/$MGMT_PREFIX" dev mgmt0
    # Security groups filter bridged traffic through iptables.
    nsx "$h" sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  done
  # The flat provider network physnet1: a bridge with the gateway address and
  # no uplink, on the network node only (with OVS: an OVS bridge, start_ovs).
  if [ "$LAB_L2" = linuxbridge ]; then
    ip -n hb-ctl link show br-ex >/dev/null 2>&1 || ip -n hb-ctl link add br-ex type bridge
    ip -n hb-ctl addr replace "$PUBLIC_GW/24" dev br-ex
    ip -n hb-ctl link set br-ex up
  fi
  check_isolation
}

# start_ovs HOST: the host's own ovsdb-server and ovs-vswitchd (userspace
# datapath: this kernel has no openvswitch module), br-phy carrying the
# underlay (mgmt0 + the host's address) and, on ctl, br-ex with 172.24.4.1.
start_ovs() {
  local h=$1 d=$HOSTS_DIR/$1/ovs
  [ -f "$d/etc/conf.db" ] || ovsdb-tool create "$d/etc/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  start_svc "$h" ovsdb-server root "$d/log/ovsdb-server.out" ovsdb-server /etc/openvswitch/conf.db \
    --remote=punix:/run/openvswitch/db.sock --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
    --pidfile=/run/openvswitch/ovsdb-server.pid --log-file=/var/log/openvswitch/ovsdb-server.log
  wait_until 30 "ovsdb-server on $h" test -S "$d/run/db.sock" || die "ovsdb-server did not start on $h"
  ovs "$h" --no-wait init
  start_svc "$h" ovs-vswitchd root "$d/log/ovs-vswitchd.out" ovs-vswitchd unix:/run/openvswitch/db.sock \
    --pidfile=/run/openvswitch/ovs-vswitchd.pid --log-file=/var/log/openvswitch/ovs-vswitchd.log
  ovs "$h" --may-exist add-br br-phy -- set Bridge br-phy datapath_type=netdev -- --may-exist add-port br-phy mgmt0
  wait_until 30 "br-phy on $h" ip -n "$(ns_of "$h")" link show br-phy || die "no br-phy on $h"
  ip -n "$(ns_of "$h")" addr del "${HOST_IP[$h]}/$MGMT_PREFIX" dev mgmt0 2>/dev/null || true
  ip -n "$(ns_of "$h")" addr replace "${HOST_IP[$h]}/$MGMT_PREFIX" dev br-phy
  ip -n "$(ns_of "$h")" link set br-phy up
  if [ "$h" = ctl ]; then
    ovs ctl --may-exist add-br br-ex -- set Bridge br-ex datapath_type=netdev
    wait_until 30 "br-ex on ctl" ip -n hb-ctl link show br-ex || die "no br-ex on ctl"
    ip -n hb-ctl addr replace "$PUBLIC_GW/24" dev br-ex
    ip -n hb-ctl link set br-ex up
  fi
  # The OVN metadata agent talks to its Open vSwitch over TCP (as the OVS
  # agent does, which sets this itself).
  [ "$LAB_L2" = ovn ] && ovs "$h" set-manager ptcp:6640:127.0.0.1
  return 0
}

# start_ovn_central: ctl's NB and SB databases (unix sockets at the standard
# /run/ovn paths, TCP on the underlay for the chassis and neutron-server) and
# ovn-northd between them.
start_ovn_central() {
  local d=$HOSTS_DIR/ctl/ovn db
  for db in nb sb; do
    [ -f "$d/lib/ovn${db}_db.db" ] || ovsdb-tool create "$d/lib/ovn${db}_db.db" "/usr/share/ovn/ovn-$db.ovsschema"
  done
  start_svc ctl ovsdb-nb root "$d/log/ovsdb-server-nb.out" ovsdb-server /var/lib/ovn/ovnnb_db.db \
    --remote=punix:/run/ovn/ovnnb_db.sock --remote="ptcp:6641:$CTL_IP" --remote=db:OVN_Northbound,NB_Global,connections \
    --pidfile=/run/ovn/ovnnb_db.pid --unixctl=/run/ovn/ovnnb_db.ctl --log-file=/var/log/ovn/ovsdb-server-nb.log
  start_svc ctl ovsdb-sb root "$d/log/ovsdb-server-sb.out" ovsdb-server /var/lib/ovn/ovnsb_db.db \
    --remote=punix:/run/ovn/ovnsb_db.sock --remote="ptcp:6642:$CTL_IP" --remote=db:OVN_Southbound,SB_Global,connections \
    --pidfile=/run/ovn/ovnsb_db.pid --unixctl=/run/ovn/ovnsb_db.ctl --log-file=/var/log/ovn/ovsdb-server-sb.log
  wait_until 30 "OVN NB and SB sockets on ctl" alive_and test -S "$d/run/ovnnb_db.sock" -a -S "$d/run/ovnsb_db.sock" ||
    die "OVN databases did not start (see ${d#"$LAB_DIR"/}/log/)"
  onh ctl ovn-nbctl --timeout=20 --no-wait init
  onh ctl ovn-sbctl --timeout=20 init
  start_northd
}

# configure_chassis HOST: the Open_vSwitch external_ids ovn-controller reads.
configure_chassis() {
  local h=$1
  local -a ids=("external_ids:system-id=$h" "external_ids:hostname=$h"
    "external_ids:ovn-remote=tcp:$CTL_IP:6642" external_ids:ovn-encap-type=geneve
    "external_ids:ovn-encap-ip=${HOST_IP[$h]}" external_ids:ovn-bridge-datapath-type=netdev)
  if [ "$h" = ctl ]; then
    ids+=(external_ids:ovn-bridge-mappings=physnet1:br-ex external_ids:ovn-cms-options=enable-chassis-as-gw)
  fi
  ovs "$h" set open . "${ids[@]}"
}

# A long-lived holder process per host owns its mount and UTS namespaces:
# hostname = the host's name; a fresh sysfs showing the host's devices;
# /etc/hosts and /etc/resolv.conf of the lab; /var/log/{nova,neutron} of the
# host; and on compute hosts their own /etc/{nova,neutron} and
# /var/lib/{nova,neutron} and an empty /run/netns of their own. On ctl,
# /run/netns stays shared with the machine (ip netns add made it a shared
# mount), so the qdhcp-/qrouter- namespaces its agents create are visible to
# the machine's `ip netns` too. Services enter the holder's
# namespaces (nsenter -t HOLDER --net --mount --uts); never `ip netns exec`,
# which would make /run/netns a slave mount.
start_holder() {
  local h=$1 d=$HOSTS_DIR/$1 pidf=$PIDS/$1.holder.pid
  holder_alive "$h" && return 0
  rm -f "$pidf"
  local binds="/etc/hosts=$d/etc/hosts /etc/resolv.conf=$d/etc/resolv.conf"
  binds+=" /var/log/nova=$d/log/nova /var/log/neutron=$d/log/neutron"
  # The host's audit log (fault selinux-evidence writes AVC lines into it).
  binds+=" /var/log/audit/audit.log=$d/audit.log"
  # The ebtables shim (see lab/bin/sbin/ebtables): first in sudo's PATH.
  binds+=" /usr/local/sbin=$LAB_DIR/bin/sbin"
  if [ "$LAB_L2" != linuxbridge ]; then # each host its own Open vSwitch
    binds+=" /etc/openvswitch=$d/ovs/etc /run/openvswitch=$d/ovs/run /var/log/openvswitch=$d/ovs/log"
  fi
  if [ "$LAB_L2" = ovn ]; then # and its own OVN run/db/log directories
    binds+=" /etc/ovn=$d/ovn/etc /run/ovn=$d/ovn/run /var/lib/ovn=$d/ovn/lib /var/log/ovn=$d/ovn/log"
  fi
  if [ "$h" != ctl ]; then
    binds+=" /etc/nova=$d/etc/nova /etc/neutron=$d/etc/neutron"
    binds+=" /var/lib/nova=$d/var/lib/nova /var/lib/neutron=$d/var/lib/neutron"
  fi
  # The hypervisor's libvirt (lab/guest-lib.sh libvirt_state), and no
  # propagation back to the machine of what libvirt mounts (each qemu's /dev).
  local propagation=unchanged
  if libvirt_host "$h"; then
    libvirt_state "$d/libvirt"
    binds+=" /etc/libvirt=$d/libvirt/etc /var/lib/libvirt=$d/libvirt/lib /var/log/libvirt=$d/libvirt/log"
    binds+=" /var/cache/libvirt=$d/libvirt/cache /run/libvirt=$d/libvirt/run /run/dbus=$d/libvirt/dbus"
    mkdir -p /run/libvirt /run/dbus
    propagation=slave
  fi
  # shellcheck disable=SC2016,SC2086  # $binds: space-separated MOUNTPOINT=SOURCE words
  setsid nsenter --net="/run/netns/$(ns_of "$h")" -- \
    unshare --mount --uts --propagation "$propagation" -- \
    /bin/sh -c '
      set -e
      pidf=$1 host=$2; shift 2
      hostname "$host"
      mount --make-rslave /sys
      umount -l /sys
      mount -t sysfs sysfs /sys
      for b in "$@"; do mount --bind "${b#*=}" "${b%%=*}"; done
      if [ "$host" != ctl ]; then
        # A compute node has no qdhcp-/qrouter- namespaces: give it its own,
        # empty /run/netns (made a slave first, so nothing propagates back).
        mount --make-rslave /run/netns
        mount -t tmpfs -o mode=0755,size=1m lab-netns /run/netns
      fi
      echo $$ >"$pidf.tmp" && mv "$pidf.tmp" "$pidf"
      exec sleep infinity' holder "$pidf" "$h" $binds \
    >>"$d/log/holder.log" 2>&1 </dev/null 3>&- 9>&- &
  wait_until 10 "holder of $h" test -s "$pidf" || die "could not start the holder of host $h (see ${d#"$LAB_DIR"/}/log/holder.log)"
  holder_alive "$h" || die "holder of host $h is not in $(ns_of "$h")"
}

# Mount point for the hosts' audit logs (Debian has no auditd by default).
mkdir -p /var/log/audit
[ -e /var/log/audit/audit.log ] || install -m 0600 /dev/null /var/log/audit/audit.log
for h in "${LAB_HOSTS[@]}"; do
  mkdir -p "$HOSTS_DIR/$h/log/nova" "$HOSTS_DIR/$h/log/neutron"
  [ -e "$HOSTS_DIR/$h/audit.log" ] || install -m 0600 /dev/null "$HOSTS_DIR/$h/audit.log"
  chown nova:nova "$HOSTS_DIR/$h/log/nova"
  chown neutron:neutron "$HOSTS_DIR/$h/log/neutron"
  write_host_files "$h"
done
setup_netns
write_infra_configs
write_ctl_api_configs
for h in "${COMPUTE_HOSTS[@]}"; do write_compute_host_configs "$h"; done
if [ "$LAB_L2" != linuxbridge ]; then
  mkdir -p /etc/openvswitch /run/openvswitch /var/log/openvswitch
  for h in "${LAB_HOSTS[@]}"; do mkdir -p "$HOSTS_DIR/$h/ovs/etc" "$HOSTS_DIR/$h/ovs/run" "$HOSTS_DIR/$h/ovs/log"; done
fi
if [ "$LAB_L2" = ovn ]; then
  mkdir -p /etc/ovn /run/ovn /var/lib/ovn /var/log/ovn
  for h in "${LAB_HOSTS[@]}"; do
    mkdir -p "$HOSTS_DIR/$h/ovn/etc" "$HOSTS_DIR/$h/ovn/run" "$HOSTS_DIR/$h/ovn/lib" "$HOSTS_DIR/$h/ovn/log"
  done
fi
for h in "${LAB_HOSTS[@]}"; do start_holder "$h"; done
[ -z "$HYPERVISOR_HOST" ] || start_libvirt "$HYPERVISOR_HOST"
if [ "$LAB_L2" != linuxbridge ]; then
  for h in "${LAB_HOSTS[@]}"; do start_ovs "$h"; done
  check_isolation
fi
if [ "$LAB_L2" = ovn ]; then
  start_ovn_central
  for h in "${LAB_HOSTS[@]}"; do configure_chassis "$h"; start_ovn_controller "$h"; done
fi
mark "namespaces and hosts"

# ---- 4. MariaDB and RabbitMQ on ctl -------------------------------------------
CTL_LOG=$HOSTS_DIR/ctl/log
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
if [ ! -d "$STATE/mysql/mysql" ]; then
  rm -rf "$STATE/mysql" "$STATE/db-synced"
  mkdir -p "$STATE/mysql" && chown mysql:mysql "$STATE/mysql"
  mariadb-install-db --defaults-file="$RUN/etc/my.cnf" --user=mysql --datadir="$STATE/mysql" \
    --auth-root-authentication-method=socket --skip-test-db >"$CTL_LOG/mariadb-install.log" 2>&1 ||
    die "mariadb-install-db failed, see $CTL_LOG/mariadb-install.log"
fi
start_svc ctl mariadb root "$CTL_LOG/mariadb.out" /usr/sbin/mariadbd --defaults-file="$RUN/etc/my.cnf"

mkdir -p "$STATE/rabbitmq/mnesia" "$CTL_LOG/rabbitmq"
chown -R rabbitmq:rabbitmq "$STATE/rabbitmq" "$CTL_LOG/rabbitmq"
SVC_ENV="HOME=$STATE/rabbitmq RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_CONFIG_FILE=$STATE/rabbitmq/rabbitmq.conf RABBITMQ_CONF_ENV_FILE=$STATE/rabbitmq/rabbitmq-env.conf RABBITMQ_ENABLED_PLUGINS_FILE=$STATE/rabbitmq/enabled_plugins RABBITMQ_MNESIA_BASE=$STATE/rabbitmq/mnesia RABBITMQ_LOG_BASE=$CTL_LOG/rabbitmq RABBITMQ_PID_FILE=$STATE/rabbitmq/rabbit.pid" \
  start_svc ctl rabbitmq rabbitmq "$CTL_LOG/rabbitmq.log" /usr/lib/rabbitmq/bin/rabbitmq-server

WAIT_HINT="see $CTL_LOG/mariadb.log" wait_until 60 "MariaDB to answer" sql "select 1" || die "MariaDB did not start"
mark "mariadb up"
for db in keystone glance placement neutron nova_api nova nova_cell0; do
  sql "CREATE DATABASE IF NOT EXISTS $db"
done
sql "CREATE USER IF NOT EXISTS 'openstack'@'%' IDENTIFIED BY '$DB_PASS'; ALTER USER 'openstack'@'%' IDENTIFIED BY '$DB_PASS';
     GRANT ALL PRIVILEGES ON keystone.* TO 'openstack'@'%'; GRANT ALL PRIVILEGES ON glance.* TO 'openstack'@'%';
     GRANT ALL PRIVILEGES ON placement.* TO 'openstack'@'%'; GRANT ALL PRIVILEGES ON neutron.* TO 'openstack'@'%';
     GRANT ALL PRIVILEGES ON nova_api.* TO 'openstack'@'%'; GRANT ALL PRIVILEGES ON nova.* TO 'openstack'@'%';
     GRANT ALL PRIVILEGES ON nova_cell0.* TO 'openstack'@'%'; FLUSH PRIVILEGES;"

# ---- 5. schemas (in parallel), keystone first ---------------------------------
# run_as USER CMD...: run a one-off command as a service user on ctl.
run_as() { local u=$1; shift; onh ctl setpriv --reuid="$u" --regid="$u" --init-groups env -i PATH="$SAFE_PATH" HOME=/tmp LANG=C.UTF-8 "$@"; }
SYNC_LOG=$CTL_LOG/db-sync
mkdir -p "$SYNC_LOG"
declare -A SYNC_JOBS=()
if [ ! -f "$STATE/db-synced" ]; then
  run_as glance glance-manage db_sync >"$SYNC_LOG/glance.log" 2>&1 &
  SYNC_JOBS[glance]=$!
  run_as placement placement-manage db sync >"$SYNC_LOG/placement.log" 2>&1 &
  SYNC_JOBS[placement]=$!
  run_as neutron neutron-db-manage --config-file /etc/neutron/neutron.conf \
    --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade head >"$SYNC_LOG/neutron.log" 2>&1 &
  SYNC_JOBS[neutron]=$!
  (
    set -e
    run_as nova nova-manage api_db sync
    run_as nova nova-manage cell_v2 map_cell0
    cells=$(run_as nova nova-manage cell_v2 list_cells)
    case "$cells" in *" cell1 "*) ;; *) run_as nova nova-manage cell_v2 create_cell --name=cell1 --verbose ;; esac
    run_as nova nova-manage db sync
  ) >"$SYNC_LOG/nova.log" 2>&1 &
  SYNC_JOBS[nova]=$!
  run_as keystone keystone-manage db_sync >"$SYNC_LOG/keystone.log" 2>&1 || die "keystone db_sync failed, see $SYNC_LOG/keystone.log"
fi
if [ ! -f /etc/keystone/fernet-keys/0 ]; then
  onh ctl keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone >>"$SYNC_LOG/keystone.log" 2>&1
fi
if [ ! -f /etc/keystone/credential-keys/0 ]; then
  onh ctl keystone-manage credential_setup --keystone-user keystone --keystone-group keystone >>"$SYNC_LOG/keystone.log" 2>&1
fi
if [ ! -f "$STATE/db-synced" ]; then
  run_as keystone keystone-manage bootstrap --bootstrap-password "$ADMIN_PASS" \
    --bootstrap-admin-url "$KEYSTONE_URL/v3/" --bootstrap-internal-url "$KEYSTONE_URL/v3/" \
    --bootstrap-public-url "$KEYSTONE_URL/v3/" --bootstrap-region-id RegionOne >>"$SYNC_LOG/keystone.log" 2>&1 ||
    die "keystone bootstrap failed, see $SYNC_LOG/keystone.log"
fi
mark "keystone db ready"
start_svc ctl keystone root "$CTL_LOG/keystone.log" uwsgi --ini "$RUN/etc/keystone-uwsgi.ini"
WAIT_HINT="see $CTL_LOG/keystone.log" wait_until 60 "keystone API" http_ok "$KEYSTONE_URL/v3" || die "keystone did not come up"
mark "keystone API up"

# ---- 6. keystone contents: service users, roles, catalog ----------------------
TOKEN=
admin_token
kid() { # kid COLLECTION NAME [EXTRA_QUERY]: id of the named keystone resource, or empty
  api GET "$KEYSTONE_URL/v3/$1?name=$2${3:-}" | jq -r ".$1[0].id // empty"
}
ensure_project() {
  local id; id=$(kid projects "$1")
  [ -n "$id" ] || id=$(api POST "$KEYSTONE_URL/v3/projects" "$(jq -nc --arg n "$1" --arg d "$2" '{project:{name:$n,description:$d,domain_id:"default",enabled:true}}')" | jq -r .project.id)
  echo "$id"
}
ensure_user() { # NAME PASSWORD PROJECT_ID
  local id body; id=$(kid users "$1")
  body=$(jq -nc --arg n "$1" --arg p "$2" --arg pr "$3" '{user:{name:$n,password:$p,default_project_id:$pr,domain_id:"default",enabled:true}}')
  if [ -z "$id" ]; then
    id=$(api POST "$KEYSTONE_URL/v3/users" "$body" | jq -r .user.id)
  else
    api PATCH "$KEYSTONE_URL/v3/users/$id" "$(jq -c 'del(.user.domain_id)' <<<"$body")" >/dev/null
  fi
  echo "$id"
}
grant() { # PROJECT_ID USER_ID ROLE_NAME
  local rid; rid=$(kid roles "$3")
  [ -n "$rid" ] || die "keystone has no role $3"
  api PUT "$KEYSTONE_URL/v3/projects/$1/users/$2/roles/$rid" >/dev/null
}
ensure_endpoints() { # NAME TYPE URL DESCRIPTION
  local sid i eid
  sid=$(api GET "$KEYSTONE_URL/v3/services?type=$2" | jq -r '.services[0].id // empty')
  [ -n "$sid" ] || sid=$(api POST "$KEYSTONE_URL/v3/services" "$(jq -nc --arg n "$1" --arg t "$2" --arg d "$4" '{service:{name:$n,type:$t,description:$d,enabled:true}}')" | jq -r .service.id)
  for i in public internal admin; do
    eid=$(api GET "$KEYSTONE_URL/v3/endpoints?service_id=$sid&interface=$i" | jq -r '.endpoints[0].id // empty')
    if [ -z "$eid" ]; then
      api POST "$KEYSTONE_URL/v3/endpoints" "$(jq -nc --arg s "$sid" --arg i "$i" --arg u "$3" '{endpoint:{service_id:$s,interface:$i,url:$u,region_id:"RegionOne",enabled:true}}')" >/dev/null
    fi
  done
}
SERVICE_PID=$(ensure_project service "Service project of the hoofbeat lab")
for u in glance placement neutron nova; do
  grant "$SERVICE_PID" "$(ensure_user "$u" "$SERVICE_PASS" "$SERVICE_PID")" admin
done
ensure_endpoints glance image "$GLANCE_URL" "OpenStack Image"
ensure_endpoints placement placement "$PLACEMENT_URL" "Placement API"
ensure_endpoints neutron network "$NEUTRON_URL" "OpenStack Networking"
ensure_endpoints nova compute "$NOVA_URL/v2.1" "OpenStack Compute"
mark "keystone users and catalog"

# ---- 7. the other services ---------------------------------------------------
for j in "${!SYNC_JOBS[@]}"; do
  wait "${SYNC_JOBS[$j]}" || die "$j schema sync failed, see $SYNC_LOG/$j.log"
done
touch "$STATE/db-synced"
mark "all schemas synced"

mkdir -p "$STATE/glance/images" "$STATE/glance/staging" "$STATE/glance/tasks"
chown -R glance:glance "$STATE/glance"
start_svc ctl placement root "$CTL_LOG/placement.log" uwsgi --ini "$RUN/etc/placement-uwsgi.ini"
start_svc ctl glance-api glance "$CTL_LOG/glance-api.log" glance-api --config-file /etc/glance/glance-api.conf
start_os ctl neutron-server neutron \
  --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini
# nova-compute loads compute_driver from the nova.virt package only: the lab's
# driver (FakeDriver with real serial ports) goes there, fresh every run.
install -m 0644 "$LAB_DIR/bin/hoofbeat_lab_virt.py" \
  "$(/usr/bin/python3 -c 'import nova.virt, os; print(os.path.dirname(nova.virt.__file__))')/hoofbeat_lab_virt.py"
for s in nova-api nova-conductor nova-scheduler nova-serialproxy; do
  start_os ctl "$s" nova --config-file /etc/nova/nova.conf
done
mark "API services started"

# The agents' first RPC call is lost if it is published before neutron-server's
# RPC worker has declared its queues (the agent then hangs for
# rpc_response_timeout): start them once the RPC worker consumes.
# oslo.service logs "Starting 1 workers" when it forks each worker (API, RPC,
# state-report RPC): wait for those forks and the API, so that the agents'
# python start-up (about 10 s here) leaves the RPC workers ample time.
neutron_ready() {
  http_ok "$NEUTRON_URL/" || return 1
  # ML2/OVN has no agents on RPC (its RPC workers may not even start).
  [ "$LAB_L2" = ovn ] || [ "$(grep -c 'Starting 1 workers' "$CTL_LOG/neutron/neutron-server.log")" -ge 3 ]
}
WAIT_HINT="see $CTL_LOG/neutron/neutron-server.log and $CTL_LOG/console/neutron-server.out" wait_until 120 "neutron API and RPC workers" alive_and neutron_ready || die "neutron-server did not come up"
mark "neutron API up"

for h in "${LAB_HOSTS[@]}"; do start_agents "$h"; done

WAIT_HINT="see $CTL_LOG/nova/nova-api.log and $CTL_LOG/console/nova-api.out" wait_until 120 "nova API" http_ok "$NOVA_URL/" || die "nova-api did not come up"
mark "nova API up"
if [ -n "$HYPERVISOR_HOST" ]; then
  WAIT_HINT="see run/hosts/$HYPERVISOR_HOST/libvirt/log/libvirtd.log and log/console/libvirtd.out" \
    wait_until 120 "libvirtd on $HYPERVISOR_HOST with its QEMU capabilities" alive_and libvirt_ready "$HYPERVISOR_HOST" ||
    die "libvirtd on $HYPERVISOR_HOST did not answer"
  mark "libvirtd up on $HYPERVISOR_HOST"
fi
for h in "${LAB_HOSTS[@]}"; do start_nova_compute "$h"; done
mark "agents and computes started"

# ---- 8. admin resources: flavors, image, the public network --------------------
WAIT_HINT="see $CTL_LOG/glance-api.log" wait_until 60 "glance API" http_ok "$GLANCE_URL/" || die "glance-api did not come up"
WAIT_HINT="see $CTL_LOG/placement.log" wait_until 60 "placement API" http_ok "$PLACEMENT_URL/" || die "placement did not come up"
ensure_flavor() { # NAME VCPUS RAM DISK
  local have
  have=$(api GET "$NOVA_URL/v2.1/flavors" | jq -r --arg n "$1" '.flavors[] | select(.name==$n) | .id')
  [ -n "$have" ] || api POST "$NOVA_URL/v2.1/flavors" "$(jq -nc --arg n "$1" --argjson c "$2" --argjson r "$3" --argjson d "$4" '{flavor:{name:$n,vcpus:$c,ram:$r,disk:$d}}')" >/dev/null
}
ensure_flavor m1.nano 1 128 1
ensure_flavor m1.tiny 1 512 1
ensure_flavor m1.small 1 2048 20

img=$(api GET "$GLANCE_URL/v2/images?name=cirros-fake" | jq -r '.images[0].id // empty')
img_status=
if [ -n "$img" ]; then img_status=$(api GET "$GLANCE_URL/v2/images/$img" | jq -r .status); fi
if [ -n "$img" ] && [ "$img_status" != active ]; then
  api DELETE "$GLANCE_URL/v2/images/$img" >/dev/null || true
  img=
fi
if [ -z "$img" ]; then
  img=$(api POST "$GLANCE_URL/v2/images" '{"name":"cirros-fake","disk_format":"raw","container_format":"bare","visibility":"public"}' | jq -r .id)
  head -c 1048576 /dev/zero >"$RUN/cirros-fake.img"
  nsx ctl curl -sS -f -m 60 -X PUT -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/octet-stream' \
    --data-binary @"$RUN/cirros-fake.img" "$GLANCE_URL/v2/images/$img/file" || die "image upload failed"
  rm -f "$RUN/cirros-fake.img"
fi

# LAB_GUESTS=real: the small guest (lab/guest-image.sh) as Glance images
# Nova's libvirt driver boots with <kernel>/<initrd>: its kernel (aki), its
# initramfs (ari) and a 1 MiB root disk (the guest never mounts it) naming
# both. os_command_line replaces Nova's command line, whose last console=
# (hvc0, never registered) would send the guest's own output to the VGA
# console (lab/README.md, pitfall 1). os_shutdown_timeout 0: the guest
# ignores ACPI's power button, so a clean shutdown (rebuild, hard reboot's
# first step, stop) would wait Nova's 60 s for nothing before the power off.
# One root image per fault hook
# (hbg.fault=..., read by the guest's init before DHCP): the guest faults
# of lab/fault.sh rebuild vm4 with one of them. The build's hash is kept as
# hbg_build: images of an older build are replaced.
GUEST_FAULT_HOOKS=(no-host-routes no-metadata-route firewall-icmp firewall-dhcp)
# On Open vSwitch's userspace datapath the guest computes its own checksums
# (see tx_csum_off in lib.sh): virtio-net's csum=0, passed by the guest's
# module loading from the command line.
GUEST_CMDLINE="console=tty0 console=ttyS0"
[ "$LAB_L2" = linuxbridge ] || GUEST_CMDLINE+=" virtio_net.csum=0"
# upload_image NAME FILE JSON: a public image named NAME from FILE, JSON
# holding its formats and properties; prints its ID.
upload_image() {
  local id
  id=$(api POST "$GLANCE_URL/v2/images" "$(jq -c --arg n "$1" '. + {name:$n,visibility:"public"}' <<<"$3")" | jq -r .id)
  nsx ctl curl -sS -f -m 60 -X PUT -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/octet-stream' \
    --data-binary @"$2" "$GLANCE_URL/v2/images/$id/file" >/dev/null || die "upload of image $1 failed"
  echo "$id"
}
guest_images() {
  local build kernel ramdisk old hook cmdline
  wait "$GUEST_IMAGE_JOB" || die "lab/guest-image.sh small failed: $(tail -n 5 "$RUN/guest-image.log")"
  build=$(basename "$(readlink "$GUEST_CACHE/small")")
  old=$(api GET "$GLANCE_URL/v2/images?hbg_build=$build&name=small" | jq -r '.images[0].id // empty')
  [ -z "$old" ] || return 0
  for old in $(api GET "$GLANCE_URL/v2/images?limit=100" | jq -r '.images[] | select(.name | startswith("small")) | .id'); do
    api DELETE "$GLANCE_URL/v2/images/$old" >/dev/null
  done
  kernel=$(upload_image small-kernel "$GUEST_CACHE/small/vmlinuz" "$(jq -nc --arg b "$build" '{disk_format:"aki",container_format:"aki",hbg_build:$b}')")
  ramdisk=$(upload_image small-ramdisk "$GUEST_CACHE/small/initrd.img" "$(jq -nc --arg b "$build" '{disk_format:"ari",container_format:"ari",hbg_build:$b}')")
  head -c 1048576 /dev/zero >"$RUN/small-root.img"
  for hook in '' "${GUEST_FAULT_HOOKS[@]}"; do
    cmdline="$GUEST_CMDLINE${hook:+ hbg.fault=$hook}"
    upload_image "small${hook:+-$hook}" "$RUN/small-root.img" "$(jq -nc --arg b "$build" --arg k "$kernel" --arg r "$ramdisk" --arg c "$cmdline" \
      '{disk_format:"raw",container_format:"bare",hbg_build:$b,kernel_id:$k,ramdisk_id:$r,os_command_line:$c,os_shutdown_timeout:"0"}')" >/dev/null
  done
  rm -f "$RUN/small-root.img"
  log "small guest images in Glance (build $build)"
}
# LAB_GUEST_DEBIAN=1 (with LAB_GUESTS=real): the Debian guest too, with the
# real cloud-init (lab/guest-image.sh debian: mmdebstrap, 1.5-3.5 minutes
# cold), for the cloud-init fault (lab/fault.sh guest-cloud-init-failed).
# Its 2 GiB raw disk goes to Glance as qcow2 (about a quarter of it); its
# command line roots it on the whole of vda (the disk has no partition).
# Marked in run/guest-debian for fault.sh and the e2e suite.
debian_images() {
  local build kernel ramdisk old
  "$LAB_DIR/guest-image.sh" debian >>"$RUN/guest-image.log" 2>&1 || die "lab/guest-image.sh debian failed: $(tail -n 5 "$RUN/guest-image.log")"
  build=$(basename "$(readlink "$GUEST_CACHE/debian")")
  if [ -z "$(api GET "$GLANCE_URL/v2/images?hbg_build=$build&name=debian" | jq -r '.images[0].id // empty')" ]; then
    for old in $(api GET "$GLANCE_URL/v2/images?limit=100" | jq -r '.images[] | select(.name | startswith("debian")) | .id'); do
      api DELETE "$GLANCE_URL/v2/images/$old" >/dev/null
    done
    kernel=$(upload_image debian-kernel "$GUEST_CACHE/debian/vmlinuz" "$(jq -nc --arg b "$build" '{disk_format:"aki",container_format:"aki",hbg_build:$b}')")
    ramdisk=$(upload_image debian-ramdisk "$GUEST_CACHE/debian/initrd.img" "$(jq -nc --arg b "$build" '{disk_format:"ari",container_format:"ari",hbg_build:$b}')")
    qemu-img convert -O qcow2 "$GUEST_CACHE/debian/disk.raw" "$RUN/debian.qcow2"
    upload_image debian "$RUN/debian.qcow2" "$(jq -nc --arg b "$build" --arg k "$kernel" --arg r "$ramdisk" --arg c "$GUEST_CMDLINE" \
      '{disk_format:"qcow2",container_format:"bare",hbg_build:$b,kernel_id:$k,ramdisk_id:$r,os_command_line:("root=/dev/vda rw " + $c)}')" >/dev/null
    rm -f "$RUN/debian.qcow2"
    log "Debian guest images in Glance (build $build)"
  fi
  : >"$RUN/guest-debian"
}
if [ "$LAB_GUESTS" = real ]; then
  guest_images
  if [ -n "${LAB_GUEST_DEBIAN:-}" ]; then debian_images; else rm -f "$RUN/guest-debian"; fi
fi

pub=$(api GET "$NEUTRON_URL/v2.0/networks?name=public" | jq -r '.networks[0].id // empty')
if [ -z "$pub" ]; then
  pub=$(api POST "$NEUTRON_URL/v2.0/networks" '{"network":{"name":"public","router:external":true,"provider:network_type":"flat","provider:physical_network":"physnet1","shared":false,"admin_state_up":true}}' | jq -r .network.id)
fi
if [ -z "$(api GET "$NEUTRON_URL/v2.0/subnets?network_id=$pub" | jq -r '.subnets[0].id // empty')" ]; then
  api POST "$NEUTRON_URL/v2.0/subnets" "$(jq -nc --arg n "$pub" --arg c "$PUBLIC_CIDR" --arg g "$PUBLIC_GW" '{subnet:{name:"public-subnet",network_id:$n,ip_version:4,cidr:$c,gateway_ip:$g,enable_dhcp:false,allocation_pools:[{start:"172.24.4.10",end:"172.24.4.250"}]}}')" >/dev/null
fi
mark "flavors, image, public network"

# ---- 9. readiness: agents alive, computes up and mapped into cell1 ------------
if [ "$LAB_L2" = ovn ]; then
  WAIT_HINT="see run/hosts/*/ovn/log/ovn-controller.log; lab/on.sh ctl ovn-sbctl show" \
    wait_until 90 "chassis ${LAB_HOSTS[*]} registered in OVN's SB" alive_and ovn_chassis_ok ||
    die "OVN chassis missing: $(onh ctl ovn-sbctl --timeout=10 --columns=name,hostname list Chassis | tr -s '\n' ' ')"
  ovn_chassis_compat
  WAIT_HINT="lab/on.sh HOST ovn-appctl -t ovn-controller connection-status" \
    wait_until 60 "ovn-controller on ${LAB_HOSTS[*]} connected to the SB" alive_and ovn_controllers_connected ||
    die "an ovn-controller is not connected to the SB"
  WAIT_HINT="see run/hosts/ctl/ovn/log/ovn-northd.log" \
    wait_until 90 "ovn-nbctl --wait=hv sync (northd and every chassis caught up)" alive_and ovn_synced ||
    die "OVN did not catch up with its NB (nb_cfg)"
  mark "OVN chassis registered and caught up"
fi
WAIT_HINT="agents log to run/hosts/<host>/log/neutron/; check with: lab/on.sh ctl openstack network agent list" \
  wait_until 150 "all neutron agents alive ($(expected_agents))" alive_and agents_ok ||
  die "neutron agents not alive: $(api GET "$NEUTRON_URL/v2.0/agents" | jq -c '[.agents[] | {host,agent_type,alive}]')"
mark "neutron agents alive"

WAIT_HINT="see run/hosts/*/log/nova/nova-compute.log" \
  wait_until 150 "nova-conductor, nova-scheduler and nova-compute on ${LAB_HOSTS[*]} up" alive_and services_ok ||
  die "nova services not up: $(api GET "$NOVA_URL/v2.1/os-services" | jq -c '[.services[] | {host,binary,state}]')"
compute_nodes_ok() { [ "$(sql "SELECT GROUP_CONCAT(host ORDER BY host) FROM nova.compute_nodes WHERE deleted=0")" = "$(hosts_csv)" ]; }
wait_until 60 "compute nodes of ${LAB_HOSTS[*]} recorded" compute_nodes_ok || die "compute nodes missing"
if ! mapped_ok; then
  run_as nova nova-manage cell_v2 discover_hosts --verbose >>"$CTL_LOG/nova/discover-hosts.log" 2>&1 ||
    die "discover_hosts failed, see $CTL_LOG/nova/discover-hosts.log"
fi
mapped_ok || die "hosts not mapped into cell1 after discover_hosts"
mark "nova computes up and discovered"
check_isolation

mark "ALL HEALTHY"
cat <<EOF

hoofbeat lab is up ($(elapsed) s).
  hosts:        $(for h in "${LAB_HOSTS[@]}"; do printf '%s (%s, %s) ' "$h" "$(ns_of "$h")" "${HOST_IP[$h]}"; done)
  credentials:  $RUN/openrc-admin, $RUN/openrc-demo, $RUN/clouds.yaml (clouds lab-admin, lab-demo)
  run a command on a host:  lab/on.sh ctl openstack --os-cloud lab-admin server list
  next:         lab/seed.sh
EOF
