#!/bin/sh
# Fault (small guest): the NIC is not brought up, as by an image whose
# network configuration leaves eth0 out. Runs after the first lease.
ip -4 addr flush dev eth0
ip link set eth0 down
