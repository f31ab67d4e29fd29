#!/bin/sh
# Fault (small guest): a static configuration with the port's address but a
# wrong netmask (/30), so the subnet's gateway lies outside it: the default
# route cannot be added.
ip -4 addr flush dev eth0
ip addr add 10.0.0.12/30 dev eth0
ip route add default via 10.0.0.1 dev eth0
