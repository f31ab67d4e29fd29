# shellcheck shell=bash
# Configuration files of the lab's services. Sourced by up.sh (and fault.sh
# for the host-config faults). Needs lib.sh and the secrets loaded.
#
# ctl keeps the packages' standard paths (/etc/nova, /etc/neutron, ...);
# cmp1's files live in run/hosts/cmp1/etc/... and are bind-mounted over
# /etc/nova and /etc/neutron inside cmp1's own mount namespace.

# put FILE [OWNER [MODE]]: write stdin to FILE only if its content changed.
put() {
  local f=$1 owner=${2:-root:root} mode=${3:-0644} tmp
  mkdir -p "$(dirname "$f")"
  tmp=$(mktemp "$f.XXXXXX")
  cat >"$tmp"
  if [ -f "$f" ] && cmp -s "$tmp" "$f"; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$f"
  fi
  chown "$owner" "$f"
  chmod "$mode" "$f"
}

# save_dist FILE: keep Debian's original of FILE once, in run/dist-configs.
save_dist() {
  local f=$1 d=$RUN/dist-configs
  [ -f "$f" ] || return 0
  [ -e "$d$f" ] && return 0
  mkdir -p "$(dirname "$d$f")"
  cp -a "$f" "$d$f"
}

db_url() { echo "mysql+pymysql://openstack:$DB_PASS@$CTL_IP/$1?charset=utf8"; }
transport_url() { echo "rabbit://openstack:$RABBIT_PASS@$CTL_IP:5672/"; }

authtoken() { # authtoken SECTION USER
  cat <<EOF
[$1]
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $SERVICE_PASS
region_name = RegionOne
EOF
}

write_infra_configs() {
  mkdir -p "$RUN/etc" "$STATE/rabbitmq"
  put "$RUN/etc/my.cnf" <<EOF
[mysqld]
user = mysql
datadir = $STATE/mysql
socket = $MYSQL_SOCK
pid-file = /run/mysqld/hb-mysqld.pid
bind-address = 0.0.0.0
port = 3306
skip-name-resolve
skip-log-bin
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
innodb_buffer_pool_size = 256M
character-set-server = utf8mb3
collation-server = utf8mb3_general_ci
max_connections = 1000
log-error = $HOSTS_DIR/ctl/log/mariadb.log

[client]
socket = $MYSQL_SOCK
EOF
  put "$STATE/rabbitmq/rabbitmq.conf" rabbitmq:rabbitmq 0640 <<EOF
listeners.tcp.default = 5672
default_user = openstack
default_pass = $RABBIT_PASS
default_vhost = /
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
loopback_users = none
log.console = true
log.console.level = info
log.file = false
EOF
  put "$STATE/rabbitmq/enabled_plugins" rabbitmq:rabbitmq 0640 <<<"[]."
  put "$STATE/rabbitmq/rabbitmq-env.conf" rabbitmq:rabbitmq 0640 </dev/null
}

uwsgi_ini() { # uwsgi_ini PORT WSGIFILE USER PROCESSES
  cat <<EOF
[uwsgi]
plugins = python3
master = true
http-socket = 0.0.0.0:$1
wsgi-file = $2
uid = $3
gid = $3
processes = $4
threads = 4
enable-threads = true
thunder-lock = true
lazy-apps = true
buffer-size = 65535
die-on-term = true
no-orphans = true
; uwsgi closes the connection after each response without saying so:
; clients that reuse connections then get ECONNRESET (lab notes, pitfall 3).
add-header = Connection: close
EOF
}

write_ctl_api_configs() {
  local f
  for f in /etc/keystone/keystone.conf /etc/glance/glance-api.conf /etc/placement/placement.conf \
    /etc/neutron/neutron.conf /etc/neutron/plugins/ml2/ml2_conf.ini \
    /etc/neutron/plugins/ml2/linuxbridge_agent.ini /etc/neutron/plugins/ml2/openvswitch_agent.ini /etc/neutron/dhcp_agent.ini \
    /etc/neutron/l3_agent.ini /etc/neutron/metadata_agent.ini /etc/neutron/neutron_ovn_metadata_agent.ini /etc/nova/nova.conf \
    /etc/nova/nova-compute.conf; do
    save_dist "$f"
  done

  put /etc/keystone/keystone.conf root:keystone 0640 <<EOF
[DEFAULT]
use_stderr = true

[database]
connection = $(db_url keystone)

[token]
provider = fernet

[fernet_tokens]
key_repository = /etc/keystone/fernet-keys/

[credential]
key_repository = /etc/keystone/credential-keys/
EOF
  uwsgi_ini 5000 /usr/bin/keystone-wsgi-public keystone 2 | put "$RUN/etc/keystone-uwsgi.ini"
  uwsgi_ini 8778 /usr/bin/placement-api placement 1 | put "$RUN/etc/placement-uwsgi.ini"

  { cat <<EOF
[DEFAULT]
use_stderr = true

[placement_database]
connection = $(db_url placement)

[api]
auth_strategy = keystone

EOF
    authtoken keystone_authtoken placement
  } | put /etc/placement/placement.conf root:placement 0640

  { cat <<EOF
[DEFAULT]
use_stderr = true
bind_host = 0.0.0.0
bind_port = 9292
workers = 1
enabled_backends = fs:file

[database]
connection = $(db_url glance)

[paste_deploy]
flavor = keystone

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $STATE/glance/images/

[os_glance_staging_store]
filesystem_store_datadir = $STATE/glance/staging/

[os_glance_tasks_store]
filesystem_store_datadir = $STATE/glance/tasks/

EOF
    authtoken keystone_authtoken glance
  } | put /etc/glance/glance-api.conf root:glance 0640

  # ---- neutron (server + agents of the network node)
  { cat <<EOF
[DEFAULT]
host = ctl
core_plugin = ml2
service_plugins = $([ "$LAB_L2" = ovn ] && echo ovn-router || echo router)
auth_strategy = keystone
transport_url = $(transport_url)
bind_host = 0.0.0.0
bind_port = 9696
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 1
dhcp_agents_per_network = 1
agent_down_time = 20
# Keep a network on its (single) DHCP agent while that agent is dead, so a
# stopped agent reads as "hosting agent dead", not "network unhosted" after
# 2 x agent_down_time.
allow_automatic_dhcp_failover = false
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
state_path = /var/lib/neutron
use_stderr = false

[experimental]
# Zed refuses to load the linuxbridge mechanism driver without this.
linuxbridge = true

[database]
connection = $(db_url neutron)

[agent]
root_helper = sudo /usr/bin/neutron-rootwrap /etc/neutron/rootwrap.conf
root_helper_daemon = sudo /usr/bin/neutron-rootwrap-daemon /etc/neutron/rootwrap.conf
# Lab timing: a stopped agent shows as dead within 20 s (agent_down_time),
# and a killed dnsmasq/haproxy is not respawned (no child process checks),
# so that the faults persist until healed.
report_interval = 5
check_child_processes_interval = 0

[oslo_concurrency]
lock_path = /var/lib/neutron/lock

EOF
    authtoken keystone_authtoken neutron
    echo
    authtoken nova nova
  } | put /etc/neutron/neutron.conf root:neutron 0640

  if [ "$LAB_L2" = ovn ]; then
    ovn_ml2_conf | put /etc/neutron/plugins/ml2/ml2_conf.ini root:neutron 0640
    ovn_metadata_ini ctl | put /etc/neutron/neutron_ovn_metadata_agent.ini root:neutron 0640
    # neutron-ovn-db-sync-util (fault heals) loads the qos service plugin,
    # which needs the qos extension driver: for it only.
    printf '[ml2]\nextension_drivers = port_security,qos\n' | put /etc/neutron/ovn_db_sync.ini root:neutron 0640
  else
    put /etc/neutron/plugins/ml2/ml2_conf.ini root:neutron 0640 <<EOF
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = $([ "$LAB_L2" = ovs ] && echo openvswitch || echo linuxbridge),l2population
extension_drivers = port_security

[ml2_type_flat]
flat_networks = physnet1

[ml2_type_vxlan]
vni_ranges = 1:1000
EOF
    l2_agent_ini ctl | put "/etc/neutron/plugins/ml2/$L2_INI" root:neutron 0640
  fi

  put /etc/neutron/dhcp_agent.ini root:neutron 0640 <<EOF
[DEFAULT]
$(interface_driver)
dhcp_driver = neutron.agent.linux.dhcp.Dnsmasq
enable_isolated_metadata = true
# dnsmasq gets --no-resolv (dnsmasq_local_resolv is false) and no upstream servers.
dnsmasq_local_resolv = false
EOF
  put /etc/neutron/l3_agent.ini root:neutron 0640 <<EOF
[DEFAULT]
$(interface_driver)
agent_mode = legacy
EOF
  put /etc/neutron/metadata_agent.ini root:neutron 0640 <<EOF
[DEFAULT]
nova_metadata_host = $CTL_IP
nova_metadata_port = 8775
metadata_proxy_shared_secret = $METADATA_SECRET
metadata_workers = 1
EOF

  # ---- nova (controller: api, conductor, scheduler, serialproxy; plus a compute)
  nova_conf ctl full | put /etc/nova/nova.conf root:nova 0640
  nova_conf ctl compute | put /etc/nova/nova-cpu.conf root:nova 0640
  nova_compute_conf ctl | put /etc/nova/nova-compute.conf root:nova 0640
}

# ML2/OVN: no ML2 agents; neutron-server writes OVN's northbound database
# and reads its southbound one over the underlay (TCP: the neutron user
# cannot open root's unix sockets).
ovn_ml2_conf() {
  cat <<EOF
[ml2]
type_drivers = flat,geneve
tenant_network_types = geneve
mechanism_drivers = ovn
extension_drivers = port_security
overlay_ip_version = 4

[ml2_type_flat]
flat_networks = physnet1

[ml2_type_geneve]
vni_ranges = 1:65536
max_header_size = 38

[securitygroup]
enable_security_group = true

[ovn]
ovn_nb_connection = tcp:$CTL_IP:6641
ovn_sb_connection = tcp:$CTL_IP:6642
ovn_l3_scheduler = leastloaded
ovn_metadata_enabled = true
enable_distributed_floating_ip = false
EOF
}
ovn_metadata_ini() { # HOST: neutron-ovn-metadata-agent (haproxy in ovnmeta-<net> namespaces)
  cat <<EOF
[DEFAULT]
nova_metadata_host = $CTL_IP
nova_metadata_port = 8775
metadata_proxy_shared_secret = $METADATA_SECRET
metadata_workers = 1

[ovs]
ovsdb_connection = tcp:127.0.0.1:6640

[ovn]
ovn_sb_connection = tcp:$CTL_IP:6642
EOF
}

interface_driver() {
  if [ "$LAB_L2" = ovs ]; then
    # veth pairs rather than OVS internal ports: internal ports of the
    # userspace (netdev) datapath do not survive a move into a namespace.
    printf 'interface_driver = openvswitch\novs_use_veth = true\n'
  else
    echo "interface_driver = linuxbridge"
  fi
}
l2_agent_ini() { # HOST
  if [ "$LAB_L2" = ovs ]; then ovs_agent_ini "$1"; else linuxbridge_agent_ini "$1"; fi
}
ovs_agent_ini() { # HOST: Open vSwitch agent on the userspace datapath (no kernel module here)
  cat <<EOF
[ovs]
datapath_type = netdev
integration_bridge = br-int
tunnel_bridge = br-tun
local_ip = ${HOST_IP[$1]}
ovsdb_connection = tcp:127.0.0.1:6640
EOF
  if [ "$1" = ctl ]; then
    echo "bridge_mappings = physnet1:br-ex"
  fi
  cat <<EOF

[agent]
tunnel_types = vxlan
vxlan_udp_port = 4789
l2_population = true
arp_responder = true

[securitygroup]
enable_security_group = true
firewall_driver = openvswitch
EOF
}

linuxbridge_agent_ini() { # HOST
  cat <<EOF
[linux_bridge]
EOF
  if [ "$1" = ctl ]; then
    echo "bridge_mappings = physnet1:br-ex"
  fi
  cat <<EOF

[vxlan]
enable_vxlan = true
local_ip = ${HOST_IP[$1]}
l2_population = true
# The IANA port; without it the kernel's default 8472 is used.
udp_dstport = 4789

[securitygroup]
enable_security_group = true
firewall_driver = iptables

[agent]
polling_interval = 2
EOF
}

nova_compute_conf() { # HOST
  if libvirt_host "$1"; then
    cat <<EOF
[DEFAULT]
# LAB_GUESTS=real: Nova's libvirt driver, qemu under TCG (a nested KVM guest
# hangs on these machines), libvirtd and virtlogd run by the lab on this host.
compute_driver = libvirt.LibvirtDriver

[libvirt]
virt_type = qemu
# qemu64: under TCG the host's CPU model buys nothing (lab/virt-test.sh measured both).
cpu_mode = none
EOF
    return 0
  fi
  cat <<EOF
[DEFAULT]
# The lab has no hypervisor: instances exist only in nova-compute's memory.
# FakeDriver plus a real serial port per instance, bound like libvirt's
# (lab/bin/hoofbeat_lab_virt.py), so that console bytes really flow.
compute_driver = hoofbeat_lab_virt.SerialFakeDriver
EOF
}

# nova_conf HOST full|compute: nova.conf for HOST. "compute" leaves out the
# database sections: nova-compute must not have DB credentials.
nova_conf() {
  local h=$1 kind=$2 ip=${HOST_IP[$1]}
  cat <<EOF
[DEFAULT]
host = $h
my_ip = $ip
transport_url = $(transport_url)
state_path = /var/lib/nova
use_stderr = false
EOF
  if [ "$kind" = full ]; then
    cat <<EOF
enabled_apis = osapi_compute,metadata
osapi_compute_listen = 0.0.0.0
osapi_compute_workers = 1
metadata_listen = 0.0.0.0
metadata_workers = 1

[api_database]
connection = $(db_url nova_api)

[database]
connection = $(db_url nova)

[conductor]
workers = 1

[scheduler]
workers = 1
EOF
  fi
  cat <<EOF

[api]
auth_strategy = keystone

[oslo_concurrency]
lock_path = /var/lib/nova/tmp

[vnc]
enabled = false

[serial_console]
enabled = true
base_url = ws://$CTL_IP:6083/
serialproxy_host = 0.0.0.0
serialproxy_port = 6083
port_range = 10000:20000
proxyclient_address = $ip
listen = $ip

EOF
  authtoken keystone_authtoken nova
  echo
  authtoken placement placement
  echo
  authtoken neutron neutron
  cat <<EOF
service_metadata_proxy = true
metadata_proxy_shared_secret = $METADATA_SECRET
EOF
}

# Per-host copies for a compute node (cmp1, cmp2: L2 agent + nova-compute).
write_compute_host_configs() {
  local h=$1 d=$HOSTS_DIR/$1
  mkdir -p "$d/etc/nova" "$d/etc/neutron" "$d/var/lib/nova" "$d/var/lib/neutron" "$d/log/nova" "$d/log/neutron"
  # Everything the packages ship (rootwrap, api-paste, policy), then our
  # files; the controller-only configs are left out.
  tar -C /etc/nova --exclude=./nova.conf --exclude=./nova-cpu.conf -cf - . | tar -C "$d/etc/nova" -xf -
  tar -C /etc/neutron --exclude=./neutron.conf --exclude=./plugins/ml2/ml2_conf.ini \
    --exclude=./plugins/ml2/linuxbridge_agent.ini --exclude=./plugins/ml2/openvswitch_agent.ini --exclude=./dhcp_agent.ini \
    --exclude=./l3_agent.ini --exclude=./metadata_agent.ini --exclude=./neutron_ovn_metadata_agent.ini -cf - . | tar -C "$d/etc/neutron" -xf -
  { cat <<EOF
[DEFAULT]
host = $h
transport_url = $(transport_url)
auth_strategy = keystone
state_path = /var/lib/neutron
use_stderr = false

[agent]
root_helper = sudo /usr/bin/neutron-rootwrap /etc/neutron/rootwrap.conf
root_helper_daemon = sudo /usr/bin/neutron-rootwrap-daemon /etc/neutron/rootwrap.conf
# Lab timing: a stopped agent shows as dead within 20 s (agent_down_time),
# and a killed dnsmasq/haproxy is not respawned (no child process checks),
# so that the faults persist until healed.
report_interval = 5
check_child_processes_interval = 0

[oslo_concurrency]
lock_path = /var/lib/neutron/lock
EOF
  } | put "$d/etc/neutron/neutron.conf" root:neutron 0640
  if [ "$LAB_L2" = ovn ]; then
    ovn_metadata_ini "$h" | put "$d/etc/neutron/neutron_ovn_metadata_agent.ini" root:neutron 0640
  else
    l2_agent_ini "$h" | put "$d/etc/neutron/plugins/ml2/$L2_INI" root:neutron 0640
  fi
  nova_conf "$h" compute | put "$d/etc/nova/nova.conf" root:nova 0640
  nova_compute_conf "$h" | put "$d/etc/nova/nova-compute.conf" root:nova 0640
  # Nova's instances_path (the libvirt driver's disks and console logs).
  mkdir -p "$d/var/lib/nova/instances"
  chown nova:nova "$d/var/lib/nova" "$d/var/lib/nova/instances" "$d/log/nova"
  chown neutron:neutron "$d/var/lib/neutron" "$d/log/neutron"
}

write_host_files() { # HOST: /etc/hosts and /etc/resolv.conf of the lab host
  local h=$1 d=$HOSTS_DIR/$1
  put "$d/etc/hosts" <<EOF
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
$(for h in "${LAB_HOSTS[@]}"; do echo "${HOST_IP[$h]} $h"; done)
EOF
  # No resolver outside the lab: a lookup that misses /etc/hosts goes to the
  # host's own loopback, where nothing answers.
  put "$d/etc/resolv.conf" <<EOF
nameserver 127.0.0.1
options timeout:1 attempts:1
EOF
}
