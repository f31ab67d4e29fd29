#!/usr/bin/env bash
# Grows an OVN lab fixture's Northbound database to 10,000 logical switch
# ports and 50,000 ACLs (100 more switches of 100 ports, 1,000 port groups
# of 50 ACLs, as Neutron names them), serves it with a real ovsdb-server,
# and records what hoofbeat reads of it for vm1 through the collector
# (scripts/ovnrecord): the benchmark BenchmarkOVNLargeNB replays it.
#
#   bench/ovn-large-nb.sh /work/ovn-fixtures/healthy
#
# Needs ovsdb-server, ovsdb-client, ovsdb-tool and ovn-trace (ovn-central).
set -euo pipefail
cd "$(dirname "$0")/.."
fixture=${1:?usage: bench/ovn-large-nb.sh FIXTURE-DIR}
out=internal/pipeline/testdata/ovn-large
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
cp "$fixture/nb.db" "$fixture/sb.db" "$tmp/"
for db in nb sb; do
	ovsdb-server --remote="punix:$tmp/$db.sock" --pidfile="$tmp/$db.pid" --unixctl="$tmp/$db.ctl" --detach --no-chdir "$tmp/$db.db"
	pids+=("$(cat "$tmp/$db.pid")")
done
# One transaction per switch and per 5 port groups (an argument stays
# under the kernel's 128 KiB): inserts only.
python3 - "$tmp/nb.sock" <<'PY'
import json, subprocess, sys, uuid
sock = "unix:" + sys.argv[1]
def transact(ops):
    q = json.dumps(["OVN_Northbound"] + ops)
    subprocess.run(["ovsdb-client", "transact", sock, q], check=True, stdout=subprocess.DEVNULL)
def uid(): return str(uuid.uuid4())
for s in range(100):
    net = uid()
    ops, names = [], []
    for p in range(100):
        port, name = uid(), "lsp%d_%d" % (s, p)
        mac = "fa:16:3f:%02x:%02x:%02x" % (s, p // 256, p % 256)
        ops.append({"op": "insert", "table": "Logical_Switch_Port", "uuid-name": "p%d" % p,
                    "row": {"name": port, "addresses": "%s 10.%d.%d.%d" % (mac, s, p // 250, p % 250 + 2),
                            "port_security": "%s 10.%d.%d.%d" % (mac, s, p // 250, p % 250 + 2),
                            "external_ids": ["map", [["neutron:device_owner", "compute:nova"]]]}})
        names.append(["named-uuid", "p%d" % p])
    ops.append({"op": "insert", "table": "Logical_Switch",
                "row": {"name": "neutron-" + net, "ports": ["set", names]}})
    transact(ops)
for batch in range(200):
    ops = []
    for g in range(5):
        sg = uid()
        pg = "pg_" + sg.replace("-", "_")
        acls = []
        g = batch * 5 + g
        for a in range(50):
            n = "a%d_%d" % (g, a)
            ops.append({"op": "insert", "table": "ACL", "uuid-name": n,
                        "row": {"direction": "to-lport" if a % 2 else "from-lport", "priority": 1002, "action": "allow-related",
                                "match": "outport == @%s && ip4 && ip4.src == 10.%d.0.0/16 && tcp && tcp.dst == %d" % (pg, a, 1000 + a),
                                "external_ids": ["map", [["neutron:security_group_rule_id", uid()]]]}})
            acls.append(["named-uuid", n])
        ops.append({"op": "insert", "table": "Port_Group", "row": {"name": pg, "acls": ["set", acls]}})
    transact(ops)
PY
count() { ovsdb-client transact "unix:$tmp/nb.sock" "[\"OVN_Northbound\",{\"op\":\"select\",\"table\":\"$1\",\"where\":[],\"columns\":[\"_uuid\"]}]" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["rows"]))'; }
echo "NB: $(count Logical_Switch_Port) logical switch ports, $(count ACL) ACLs"
rm -rf "$out"
go run ./scripts/ovnrecord -fixture "$fixture" -server vm1 -db-host ctl \
	-nb "unix:$tmp/nb.sock" -sb "unix:$tmp/sb.sock" -out "$tmp/snap.json" -record "$out"
cp "$fixture/api-vm1.json" "$out/api-vm1.json"
echo "recorded into $out"
