#!/bin/sh
# Fault (small guest): a static configuration with the port's address but a
# wrong netmask (/30), so the subnet's gateway lies outside it: the default
# route cannot be added. The address is the one DHCP leased (the port's).
addr=$(ip -4 -o addr show dev eth0 | awk '{split($4, a, "/"); print a[1]; exit}')
ip -4 addr flush dev eth0
ip addr add "$addr/30" dev eth0
ip route add default via 10.0.0.1 dev eth0
