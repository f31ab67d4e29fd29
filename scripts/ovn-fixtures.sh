#!/usr/bin/env bash
# Re-records the OVN rules' test snapshots (internal/rule/testdata/ovn) from
# the OVN lab's fixtures (/work/ovn-fixtures/<scenario>/ by default): each
# scenario's nb.db and sb.db served by a throw-away ovsdb-server on unix
# sockets in a temporary folder, the hosts checked through the collector
# (scripts/ovnrecord). Needs ovsdb-server, ovsdb-client and ovn-trace.
#
#   scripts/ovn-fixtures.sh [FIXTURES-DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=${1:-/work/ovn-fixtures}
out=internal/rule/testdata/ovn
# The server each scenario is diagnosed on (the lab contract's).
declare -A servers=([healthy]="vm1 vm3" [ovn-controller-stopped]=vm3 [northd-stopped]=vm1 [lsp-deleted]=vm1
	[gateway-chassis-bogus]=vm1 [acl-icmp-deleted]=vm1 [ovn-metadata-stopped]=vm3 [encap-ip-changed]=vm3
	[dhcp-options-removed]=vm1)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/ovnrecord" ./scripts/ovnrecord
for scenario in "${!servers[@]}"; do
	fx=$fixtures/$scenario
	[ -f "$fx/DONE" ] || { echo "skip $scenario: no $fx/DONE"; continue; }
	tmp=$(mktemp -d)
	cp "$fx/nb.db" "$fx/sb.db" "$tmp/"
	for db in nb sb; do
		ovsdb-server --remote="punix:$tmp/$db.sock" --pidfile="$tmp/$db.pid" --unixctl="$tmp/$db.ctl" --detach --no-chdir "$tmp/$db.db"
	done
	for vm in ${servers[$scenario]}; do
		"$bin/ovnrecord" -fixture "$fx" -server "$vm" -db-host ctl -nb "unix:$tmp/nb.sock" -sb "unix:$tmp/sb.sock" -out "$out/$scenario-$vm.json"
		echo "recorded $out/$scenario-$vm.json"
	done
	kill "$(cat "$tmp/nb.pid")" "$(cat "$tmp/sb.pid")"
	rm -rf "$tmp"
done
