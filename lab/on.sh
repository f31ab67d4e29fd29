#!/usr/bin/env bash
# lab/on.sh HOST CMD...: run CMD "on" a lab host (ctl or cmp1): inside its
# network, mount and UTS namespaces, so that it sees the host's interfaces,
# hostname, /etc/nova, /etc/neutron and /var/log/{nova,neutron}.
# OS_CLIENT_CONFIG_FILE points at the lab's clouds.yaml unless already set,
# so `OS_CLOUD=lab-admin lab/on.sh ctl openstack server list` just works.
set -euo pipefail
export SCRIPT_NAME=on.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || { echo "usage: lab/on.sh HOST CMD... (HOST: ${LAB_HOSTS[*]})" >&2; exit 2; }
need_root
host=$1; shift
case " ${LAB_HOSTS[*]} " in *" $host "*) ;; *) die "unknown lab host $host (hosts: ${LAB_HOSTS[*]})" ;; esac
export OS_CLIENT_CONFIG_FILE=${OS_CLIENT_CONFIG_FILE:-$RUN/clouds.yaml}
onh "$host" "$@" 3>&-
