#!/bin/sh
# rc.boot: the small guest's boot, run once by busybox init (inittab
# sysinit). The lines it prints follow CirrOS 0.6 (udhcpc's own lease
# lines, cirros-query's metadata lines, cirros-status's "=== network info
# ===" block), so a console log from this guest reads like a CirrOS one.
# The cloud kernel builds virtio-net as a module: load it and its
# dependencies, in the order the image build recorded, with the options the
# kernel command line gives it (MODULE.PARAM=VALUE, as kmod's modprobe reads
# them: the lab's Open vSwitch flavours set virtio_net.csum=0).
modopts() {
  n=${1##*/}
  n=$(echo "${n%%.ko*}" | tr - _)
  read -r cmdline </proc/cmdline
  for w in $cmdline; do
    case $w in "$n".*=*) printf '%s\n' "${w#"$n".}" ;; esac
  done
}
while read -r m; do
  # shellcheck disable=SC2046 # one option per word
  insmod "/lib/modules/$m" $(modopts "$m") 2>/dev/null
done </etc/modules.order
ip link set lo up
# The lab's faults from the kernel command line (hbg.fault=, faults.sh).
# shellcheck source=faults.sh
. /etc/hbg-faults.sh
hbg_faults warn >/run/hbg-faults
# shellcheck disable=SC2046 # known fault names, one word each
[ -s /run/hbg-faults ] && set -- $(cat /run/hbg-faults) && echo "hbg: faults from the kernel command line: $*"
if grep -q '^firewall-' /run/hbg-faults; then
  while read -r m; do insmod "/lib/modules/$m"; done </etc/modules.fw
fi
# A guest firewall that drops DHCP. iptables cannot stop the first lease:
# udhcpc (as dhclient) sends and receives it on a packet socket, which
# netfilter's INPUT and OUTPUT never see (firewall-dhcp-input shows it);
# those rules break only the renewals, sent over a UDP socket. nftables'
# netdev ingress hook runs before the kernel hands IP packets to packet
# sockets: there the offers are lost (firewall-dhcp).
if hbg_fault firewall-dhcp; then
  nft -f - <<'NFT' 2>&1
table netdev guestfw {
  chain ingress {
    type filter hook ingress device "eth0" priority 0; policy accept;
    udp sport 67 udp dport 68 drop
  }
}
NFT
fi
if hbg_fault firewall-dhcp-input; then
  iptables -A INPUT -p udp --dport 68 -j DROP 2>&1
  iptables -A OUTPUT -p udp --dport 67 -j DROP 2>&1
fi
hostname small
MD=http://169.254.169.254
up() { cut -d' ' -f1 /proc/uptime; }
# GET PATH [OUT]: busybox-static's wget segfaults with -T, so timeout bounds it.
get() { timeout 3 wget -q -O "${2:--}" "$MD/$1" 2>/dev/null; }

printf 'Starting network: '
ip link set eth0 up
udhcpc -i eth0 -n -T 2 -t 5 -O staticroutes -O mtu -s /etc/udhcpc/default.script 2>&1 && echo OK ||
  echo "WARN: /etc/rc3.d/S40-network failed"
# The evidence: the DROP rules' counters after the lease.
hbg_fault firewall-dhcp-input && iptables -L -v -n -x 2>&1 | sed 's/^/hbg-iptables: /'
# A guest firewall that drops pings once the guest is up: it still answers
# ARP, which is what tells it apart from a guest that is not there.
hbg_fault firewall-icmp && iptables -A INPUT -p icmp --icmp-type echo-request -j DROP 2>&1

# Metadata as cirros-query asks for it: 20 tries of the instance ID.
iid=
i=1
echo "checking $MD/latest/meta-data/instance-id"
while [ "$i" -le 20 ]; do
  if iid=$(get latest/meta-data/instance-id) && [ -n "$iid" ]; then
    echo "successful after $i/20 tries: up $(up). iid=$iid"
    break
  fi
  echo "failed $i/20: up $(up). request failed"
  iid=
  i=$((i + 1))
  sleep 1
done
if [ -n "$iid" ]; then
  name=$(get latest/meta-data/hostname)
  name=${name%%.*}
  [ -n "$name" ] && hostname "$name"
  # User-data that is a shell script runs, as CirrOS runs it: the way the
  # lab injects faults into the guest.
  if get latest/user-data /run/user-data &&
    [ "$(head -c 2 /run/user-data)" = '#!' ]; then
    echo "running user-data"
    chmod 0700 /run/user-data
    /run/user-data 2>&1
    echo "user-data exited $?"
  fi
else
  echo "failed to read iid from metadata. tried 20"
fi

echo "=== network info ==="
for d in /sys/class/net/*; do
  n=${d##*/}
  st=down
  ip -o link show "$n" | grep -q '[<,]UP[,>]' && st=up
  a=$(ip -o -4 addr show dev "$n" | awk '{print $4; exit}')
  a6=$(ip -o -6 addr show dev "$n" | awk '{print $4; exit}')
  echo "if-info: $n,$st,${a%/*},${a#*/},$a6,"
done
ip -4 route show | sed 's/^/ip-route:/'
ip -6 route show | sed 's/^/ip-route6:/'
echo "=== hbg network state ==="
ip addr
ip route
sed 's/^/resolv.conf: /' /etc/resolv.conf 2>/dev/null
a=$(ip -o -4 addr show dev eth0 | awk '{print $4; exit}')
gw=$(ip -4 route show default | awk '{print $3; exit}')
echo "hbg-network-state: eth0=${a:-none} gw=${gw:-none} iid=${iid:-none} up=$(up)"
echo
echo "login as 'root' user. lab password: 'hoofbeat'."
