# shellcheck shell=bash
# guest-lib.sh: boot the lab's guest images (lab/guest-image.sh) standalone,
# without the lab: qemu on a tap inside a network namespace of their own,
# hbg-test (never the lab's hb-*), with a dnsmasq serving DHCP as Neutron's
# does (fixed address per MAC, router, classless static routes, MTU) and a
# metadata service on 169.254.169.254:80. Nothing leaves the namespace: it
# has no link to the machine's.
#
# Sourced by guest-test.sh after lib.sh. Network inside hbg-test:
#   hbgtap0 (qemu's NIC): 10.0.0.1/24 (router), 10.0.0.2/24 (DHCP server,
#   metadata next hop as on a Neutron network), 169.254.169.254/32.
#   The guest: MAC fa:16:3e:12:34:56, 10.0.0.12, host name vm1, as in the
#   console fixtures of internal/rule/testdata/console.

GNS=hbg-test
GTAP=hbgtap0
GUEST_MAC=fa:16:3e:12:34:56
GUEST_IP=10.0.0.12
GUEST_NAME=vm1
GUEST_IID="i-0000000c"
GUEST_UUID=e519d227-1e51-46e8-b75f-28fb6abad752
GUEST_CACHE=${GUEST_CACHE:-$RUN/guests}
GUEST_RUN=${GUEST_RUN:-$RUN/guest-boot}
# The subnet's host route (Neutron subnet host_routes, as the lab's
# private-subnet has it: 192.168.50.0/24 via 10.0.0.254), sent in option 121.
GUEST_HOST_ROUTE=192.168.50.0/24,10.0.0.254
# Extra kernel command-line words (guest-test.sh --cmdline), e.g. the small
# guest's hbg.fault=NAME, as Nova passes an image's os_command_line.
GUEST_CMDLINE=${GUEST_CMDLINE:-}
# Neutron's default dhcp_lease_duration; shorter (dnsmasq's minimum is 2m)
# to watch renewals.
GUEST_LEASE=${GUEST_LEASE:-86400s}
LAB_PASSWORD=hoofbeat

gns() { ip netns exec "$GNS" "$@"; }

# gnet_up USERDATA_FILE|"": the namespace, its tap, dnsmasq and the metadata
# service, serving USERDATA_FILE as the guest's user-data.
gnet_up() {
  gnet_down
  mkdir -p "$GUEST_RUN"
  ip netns add "$GNS"
  gns ip link set lo up
  gns ip tuntap add "$GTAP" mode tap
  # 10.0.0.2 first: dnsmasq answers from the interface's primary address.
  gns ip addr add 10.0.0.2/24 dev "$GTAP"
  gns ip addr add 10.0.0.1/24 dev "$GTAP"
  gns ip addr add 169.254.169.254/32 dev "$GTAP"
  gns ip link set "$GTAP" up
  gmd_tree "$1"
  : >"$GUEST_RUN/leases"
  : >"$GUEST_RUN/dnsmasq.log"
  # As Neutron's dnsmasq: a static range, the host entry by MAC, the router,
  # option 121 with the subnet's host routes, then the metadata route via the
  # DHCP port, then the default route (Neutron's order), MTU 1450.
  # Started with ip netns exec itself, not through gns, so that $! is the
  # server's own PID.
  ip netns exec "$GNS" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --no-hosts --no-resolv \
    --user=root --group=root --interface="$GTAP" --bind-interfaces --except-interface=lo \
    --pid-file="$GUEST_RUN/dnsmasq.pid" --dhcp-leasefile="$GUEST_RUN/leases" \
    --dhcp-range=set:subnet0,10.0.0.0,static,255.255.255.0,"$GUEST_LEASE" \
    --dhcp-host="$GUEST_MAC,$GUEST_IP,$GUEST_NAME" --domain=openstacklocal \
    --dhcp-option=tag:subnet0,option:router,10.0.0.1 \
    --dhcp-option=tag:subnet0,option:classless-static-route,"$GUEST_HOST_ROUTE",169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1 \
    --dhcp-option=tag:subnet0,option:dns-server,10.0.0.2 \
    --dhcp-option=tag:subnet0,option:mtu,1450 \
    --log-dhcp --log-facility="$GUEST_RUN/dnsmasq.log" &
  echo $! >"$GUEST_RUN/dnsmasq.holder.pid"
  ip netns exec "$GNS" /usr/bin/python3 "$LAB_DIR/guest/metadata.py" "$GUEST_RUN/md" 169.254.169.254 80 \
    >"$GUEST_RUN/metadata.log" 2>&1 &
  echo $! >"$GUEST_RUN/metadata.pid"
  local i
  for i in $(seq 50); do
    gns bash -c 'exec 3<>/dev/tcp/169.254.169.254/80' 2>/dev/null && return 0
    sleep 0.1
  done
  die "the metadata service did not start, see $GUEST_RUN/metadata.log"
}

# gmd_tree USERDATA_FILE|"": the metadata tree, EC2 and OpenStack flavours,
# with the fields cirros and cloud-init read.
gmd_tree() {
  local md=$GUEST_RUN/md v
  rm -rf "$md"
  for v in latest 2009-04-04; do
    mkdir -p "$md/$v/meta-data/placement"
    echo "$GUEST_IID" >"$md/$v/meta-data/instance-id"
    echo "$GUEST_NAME" >"$md/$v/meta-data/hostname"
    echo "$GUEST_NAME" >"$md/$v/meta-data/local-hostname"
    echo "$GUEST_IP" >"$md/$v/meta-data/local-ipv4"
    echo 0 >"$md/$v/meta-data/ami-launch-index"
    echo nova >"$md/$v/meta-data/placement/availability-zone"
    [ -n "$1" ] && cp "$1" "$md/$v/user-data"
  done
  mkdir -p "$md/openstack/latest"
  cat >"$md/openstack/latest/meta_data.json" <<EOF
{"uuid": "$GUEST_UUID", "name": "$GUEST_NAME", "hostname": "$GUEST_NAME", "launch_index": 0, "availability_zone": "nova", "project_id": "0d7bd3c4e7e4471a8a3fbd3c23d7d5e9", "public_keys": {}, "meta": {}, "devices": []}
EOF
  cat >"$md/openstack/latest/network_data.json" <<EOF
{"links": [{"id": "tap1a14ec0a-2c", "vif_id": "1a14ec0a-2c88-4f35-9ef3-93c01d4758eb", "type": "bridge", "mtu": 1450, "ethernet_mac_address": "$GUEST_MAC"}], "networks": [{"id": "network0", "type": "ipv4_dhcp", "link": "tap1a14ec0a-2c", "network_id": "abf4fe2a-f19e-477e-9a86-49c5dce241e8"}], "services": []}
EOF
  echo '{}' >"$md/openstack/latest/vendor_data.json"
  echo '{}' >"$md/openstack/latest/vendor_data2.json"
  [ -n "$1" ] && cp "$1" "$md/openstack/latest/user_data"
  return 0
}

# stop_pidfile FILE: end the process whose PID FILE holds (only ours).
stop_pidfile() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  rm -f "$1"
  return 0
}

gnet_down() {
  stop_pidfile "$GUEST_RUN/qemu.pid"
  stop_pidfile "$GUEST_RUN/dnsmasq.pid"
  stop_pidfile "$GUEST_RUN/dnsmasq.holder.pid"
  stop_pidfile "$GUEST_RUN/metadata.pid"
  if [ -e "/run/netns/$GNS" ]; then
    local p
    # Anything still in our namespace was started by us.
    for p in $(ip netns pids "$GNS"); do kill "$p" 2>/dev/null || true; done
    ip netns del "$GNS"
  fi
}

# gboot small|debian ACCEL: start qemu in the background (pid in
# GUEST_RUN/qemu.pid); the serial console is GUEST_RUN/console.sock, logged to
# GUEST_RUN/console.log. Prints the time.time() just before qemu starts.
gboot() {
  local img=$GUEST_CACHE/$1 accel=$2 cpu=max args
  # TCG emulates the newest CPU it can; under KVM the model the probe chose.
  [ "$accel" = kvm ] && cpu=${GUEST_KVM_CPU:-host}
  [ -f "$img/complete" ] || die "no $1 guest image: run lab/guest-image.sh $1"
  rm -f "$GUEST_RUN/console.log" "$GUEST_RUN/console.sock"
  args=(-name "$GUEST_NAME" -machine q35 -accel "$accel" -cpu "$cpu" -m 512 -smp 1 -nodefaults -no-user-config
    -display none -monitor none
    -chardev "socket,id=ser0,path=$GUEST_RUN/console.sock,server=on,wait=off,logfile=$GUEST_RUN/console.log"
    -serial chardev:ser0
    # What Nova's libvirt driver gives a guest: the SMBIOS names cloud-init
    # recognises OpenStack by, a virtio NIC on a tap.
    -smbios "type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,serial=$GUEST_UUID,uuid=$GUEST_UUID"
    -netdev "tap,id=n0,ifname=$GTAP,script=no,downscript=no"
    -device "virtio-net-pci,netdev=n0,mac=$GUEST_MAC"
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img")
  if [ "$1" = debian ]; then
    # -snapshot: the cached disk stays as built.
    args+=(-drive "file=$img/disk.raw,format=raw,if=virtio" -snapshot
      -append "root=/dev/vda rw console=ttyS0${GUEST_CMDLINE:+ $GUEST_CMDLINE}")
  else
    args+=(-append "console=ttyS0${GUEST_CMDLINE:+ $GUEST_CMDLINE}")
  fi
  python3 -c 'import time; print("%.3f" % time.time())'
  ip netns exec "$GNS" qemu-system-x86_64 "${args[@]}" -pidfile "$GUEST_RUN/qemu.pid" >"$GUEST_RUN/qemu.log" 2>&1 &
}

# gwatch START TIMEOUT [--login] NAME=REGEX...: console.py on the running guest.
gwatch() {
  local start=$1 timeout=$2; shift 2
  local login=()
  if [ "${1:-}" = --login ]; then login=(--login "root:$LAB_PASSWORD"); shift; fi
  /usr/bin/python3 "$LAB_DIR/guest/console.py" "$GUEST_RUN/console.sock" "$start" "$timeout" "${login[@]}" "$@"
}

# libvirt_state DIR: libvirt's files for a namespace host, to be bound at
# /etc/libvirt (DIR/etc), /var/lib/libvirt (lib), /var/log/libvirt (log),
# /var/cache/libvirt (cache: qemu's capabilities, kept), /run/libvirt (run)
# and /run/dbus (dbus, empty). Used by lab/up.sh (the hypervisor of
# LAB_GUESTS=real) and lab/virt-test.sh. DIR/etc, lib, log and run are made
# fresh; the cache is kept so that libvirtd's next start skips the qemu probe.
libvirt_state() {
  local d=$1
  rm -rf "${d:?}/etc" "$d/lib" "$d/log" "$d/run"
  mkdir -p "$d/log/qemu" "$d/run" "$d/cache" "$d/lib" "$d/dbus"
  cp -a /etc/libvirt "$d/etc"
  # The default network (virbr0, 192.168.122.0/24, NAT rules) must not exist
  # here at all: Neutron owns the host's networking.
  rm -f "$d/etc/qemu/networks/default.xml" "$d/etc/qemu/networks/autostart/"*
  cat >>"$d/etc/libvirtd.conf" <<'EOC'

# hoofbeat lab: unix sockets only (libvirtd runs without --listen), root and
# group libvirt without polkit (there is no D-Bus here), warnings and errors
# to /var/log/libvirt/libvirtd.log.
unix_sock_group = "libvirt"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOC
  cat >>"$d/etc/qemu.conf" <<'EOC'

# hoofbeat lab: the host's fresh sysfs has no cgroup mounts, and the
# machine's cgroup tree is not the lab's to change.
cgroup_controllers = [ ]
EOC
  cat >>"$d/etc/virtlogd.conf" <<'EOC'

# hoofbeat lab
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
EOC
  cp -a /var/lib/libvirt/. "$d/lib/"
}
