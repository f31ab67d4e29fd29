#!/usr/bin/env bash
# lab/record.sh [SCENARIO | --all]: record what hoofbeat's collectors read, from the
# running lab, as test fixtures.
#
#   internal/openstack/testdata/lab/SCENARIO/        API bodies as admin (project admin)
#   (with LAB_L2=ovs or ovn, the directories are named ovs-SCENARIO, ovn-SCENARIO)
#   internal/openstack/testdata/lab/SCENARIO/demo/   the same calls as demo (403s included)
#   internal/host/testdata/lab/SCENARIO/HOST/        host command outputs of each lab host
#
# Each directory has an index.json: a list of {key: "METHOD path?query",
# method, url, path, status, file, ...} (host: {cmd, file, exit}). SCENARIO
# is "healthy" (default) or a fault name: the fault must be injected already
# (`make record` does inject, record, heal for every fault). The lab's
# passwords are replaced by REDACTED-<NAME> in every file; tokens travel in
# headers, never recorded.
set -euo pipefail
export SCRIPT_NAME=record.sh
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root
load_secrets
if [ "${1:-}" = --all ]; then
  # healthy, then for every fault: inject, record, heal; all under one lock.
  lab_lock
  "$0" healthy
  notreal=$("$LAB_DIR/fault.sh" status | awk '$2=="n/a" {print $1}')
  for f in $("$LAB_DIR/fault.sh" list | awk '{print $1}'); do
    # Faults the flavour does not have (fault.sh status: n/a).
    if grep -qxF "$f" <<<"$notreal"; then continue; fi
    # A firewall rule cannot stop OVS's userspace datapath, and a Linux
    # bridge has no br-tun: each flavour lacks one fault.
    if [ "$LAB_L2" = ovs ] && { [ "$f" = vxlan-blocked ] || [ "$f" = vif-detached ]; }; then continue; fi
    if [ "$LAB_L2" != ovs ] && [ "$f" = ovs-tunnel-deleted ]; then continue; fi
    if [ "$LAB_L2" = ovs ] && [ "$f" = l2pop-fdb-deleted ]; then continue; fi
    if [ "$LAB_L2" != ovs ] && { [ "$f" = ovs-dead-vlan ] || [ "$f" = ovs-vni-flow-deleted ]; }; then continue; fi
    "$LAB_DIR/fault.sh" "$f"
    "$0" "$f"
    "$LAB_DIR/fault.sh" heal "$f"
  done
  exit 0
fi
lab_lock
SCENARIO=${1:-healthy}
[[ "$SCENARIO" =~ ^[a-z0-9-]+$ ]] || die "bad scenario name '$SCENARIO'"
REPO=$(cd "$LAB_DIR/.." && pwd)
# The Open vSwitch lab's recordings go to ovs-<scenario>.
OUTNAME=$SCENARIO
[ "$LAB_L2" = linuxbridge ] || OUTNAME=$LAB_L2-$SCENARIO
API_DIR=$REPO/internal/openstack/testdata/lab/$OUTNAME
HOST_DIR=$REPO/internal/host/testdata/lab/$OUTNAME
echo "---- $(date -u +%FT%TZ) record.sh $SCENARIO" >>"$RUN/timings.txt"
if ! holder_alive ctl || ! holder_alive cmp1; then die "the lab is not up: run lab/up.sh and lab/seed.sh"; fi

# The lab must show exactly the scenario: no fault for healthy; the fault
# (and only faults it implies) otherwise.
active=$("$LAB_DIR/fault.sh" status | awk '$2=="ACTIVE" {print $1}' | sort | paste -sd, -)
case "$SCENARIO" in
  healthy) want= ;;
  router-interface) want=qr-device-deleted,router-interface ;;  # its qr- device goes too
  dhcp-disabled) want=dhcp-disabled,dnsmasq-killed ;;           # the agent stops dnsmasq
  *) want=$SCENARIO ;;
esac
if [ "$LAB_L2" = ovn ]; then
  case "$SCENARIO" in
    healthy) want= ;;
    dhcp-disabled) want=dhcp-disabled,dhcp-options-removed ;;   # Neutron removes the subnet's DHCP_Options
    *) want=$SCENARIO ;;
  esac
fi
[ "$active" = "$want" ] || die "the lab shows faults [${active}], scenario $SCENARIO needs [${want}]"

# The server a scenario is about (the others are recorded for vm1 only).
case "$SCENARIO" in
  server-error) TARGETS=(vm1 vm-broken) ;;
  vxlan-blocked|serial-listen-loopback|ovs-vni-flow-deleted|l2pop-fdb-deleted) TARGETS=(vm1 vm3) ;;
  *) TARGETS=(vm1) ;;
esac

# ---- API ---------------------------------------------------------------------
OUT='' INDEX='' REC_TOKEN='' LAST_HEADERS='' HOUT=''
# rec NAME METHOD URL [BODY] [MICROVERSION]: one call, its body in NAME.json.
rec() {
  local name=$1 m=$2 url=$3 data=${4:-} mv=${5:-} hdr body code path
  hdr=$(mktemp); body=$(mktemp)
  local -a args=(-sS -m 60 -X "$m" -H 'Accept: application/json' -D "$hdr" -o "$body" -w '%{http_code}')
  [ -n "$REC_TOKEN" ] && args+=(-H "X-Auth-Token: $REC_TOKEN")
  [ -n "$mv" ] && args+=(-H "X-OpenStack-Nova-API-Version: $mv")
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' -d "$data")
  code=$(nsx ctl curl "${args[@]}" "$url") || die "$m $url: curl failed"
  if jq -e . "$body" >/dev/null 2>&1; then jq . "$body" >"$OUT/$name.json"; else cp "$body" "$OUT/$name.json"; fi
  path=${url#http://*/}; path=/$path
  jq -c -n --arg k "$m $path" --arg m "$m" --arg u "$url" --arg p "${path%%\?*}" --arg q "${path#*\?}" \
    --argjson s "$code" --arg f "$name.json" --arg mv "$mv" --arg d "$data" \
    '{key:$k, method:$m, url:$u, path:$p, status:$s, file:$f}
     + (if ($q != $p) then {query:$q} else {} end)
     + (if $mv != "" then {microversion:$mv} else {} end)
     + (if $d != "" then {request:($d|fromjson)} else {} end)' >>"$INDEX"
  LAST_HEADERS=$(tr -d '\r' <"$hdr")
  rm -f "$hdr" "$body"
  echo "$code"
}
auth_body() { jq -nc --arg u "$1" --arg p "$2" --arg pr "$3" '{auth:{identity:{methods:["password"],password:{user:{name:$u,domain:{name:"Default"},password:$p}}},scope:{project:{name:$pr,domain:{name:"Default"}}}}}'; }
json_of() { cat "$OUT/$1.json"; }

record_api() { # USER PASSWORD PROJECT DIR
  local user=$1 pass=$2 proj=$3 code s sid pid net sub sgq rid
  OUT=$4; INDEX=$OUT/.index.jsonl
  rm -rf "$OUT"; mkdir -p "$OUT"; : >"$INDEX"
  REC_TOKEN=
  # The token response: the token itself is only in X-Subject-Token.
  rec auth_tokens POST "$KEYSTONE_URL/v3/auth/tokens" "$(auth_body "$user" "$pass" "$proj")" >/dev/null
  REC_TOKEN=$(awk 'tolower($1)=="x-subject-token:" {print $2}' <<<"$LAST_HEADERS")
  [ -n "$REC_TOKEN" ] || die "no token for $user"
  if grep -qF "$REC_TOKEN" "$OUT/auth_tokens.json"; then die "the token is in the token response body"; fi
  # The request bodies in the index carry the password: keep them out.
  jq -c 'if .file=="auth_tokens.json" then .request.auth.identity.password.user.password="REDACTED" else . end' "$INDEX" >"$INDEX.tmp" && mv "$INDEX.tmp" "$INDEX"
  rec auth_tokens_wrong_password POST "$KEYSTONE_URL/v3/auth/tokens" "$(auth_body "$user" "wrong-$RANDOM" "$proj")" >/dev/null
  jq -c 'if .file=="auth_tokens_wrong_password.json" then .request.auth.identity.password.user.password="REDACTED" else . end' "$INDEX" >"$INDEX.tmp" && mv "$INDEX.tmp" "$INDEX"

  rec identity_v3 GET "$KEYSTONE_URL/v3" >/dev/null
  rec compute_versions GET "$NOVA_URL/" >/dev/null
  rec network_versions GET "$NEUTRON_URL/" >/dev/null
  rec agents GET "$NEUTRON_URL/v2.0/agents" >/dev/null
  rec server_missing GET "$NOVA_URL/v2.1/servers/00000000-0000-4000-8000-000000000000" >/dev/null

  for s in "${TARGETS[@]}"; do
    rec "servers_detail_name_$s" GET "$NOVA_URL/v2.1/servers/detail?name=$s" >/dev/null
    sid=$(json_of "servers_detail_name_$s" | jq -r '.servers[0].id // empty')
    if [ "$user" = admin ]; then
      # The servers are in project demo: admin's plain list is empty.
      rec "servers_detail_name_${s}_all_tenants" GET "$NOVA_URL/v2.1/servers/detail?all_tenants=1&name=$s" >/dev/null
      sid=$(json_of "servers_detail_name_${s}_all_tenants" | jq -r '.servers[0].id // empty')
    fi
    [ -n "$sid" ] || { log "$user: no server $s"; continue; }
    rec "server_$s" GET "$NOVA_URL/v2.1/servers/$sid" >/dev/null
    rec "server_${s}_mv2.93" GET "$NOVA_URL/v2.1/servers/$sid" "" 2.93 >/dev/null
    rec "server_${s}_console_output" POST "$NOVA_URL/v2.1/servers/$sid/action" '{"os-getConsoleOutput":{"length":50}}' >/dev/null
    rec "server_${s}_remote_console_serial" POST "$NOVA_URL/v2.1/servers/$sid/remote-consoles" '{"remote_console":{"protocol":"serial","type":"serial"}}' 2.6 >/dev/null
    rec "ports_device_$s" GET "$NEUTRON_URL/v2.0/ports?device_id=$sid" >/dev/null
    pid=$(json_of "ports_device_$s" | jq -r '.ports[0].id // empty')
    [ -n "$pid" ] || continue
    net=$(json_of "ports_device_$s" | jq -r '.ports[0].network_id')
    sgq=$(json_of "ports_device_$s" | jq -r '[.ports[0].security_groups[] | "id=" + .] | join("&")')
    [ -n "$sgq" ] && rec "security_groups_$s" GET "$NEUTRON_URL/v2.0/security-groups?$sgq" >/dev/null
    rec "subnets_network_$s" GET "$NEUTRON_URL/v2.0/subnets?network_id=$net" >/dev/null
    rec "networks_$s" GET "$NEUTRON_URL/v2.0/networks?id=$net" >/dev/null
    rec "ports_network_dhcp_router_$s" GET "$NEUTRON_URL/v2.0/ports?network_id=$net&device_owner=network:dhcp&device_owner=network:router_interface&device_owner=network:router_interface_distributed&device_owner=network:ha_router_replicated_interface" >/dev/null
    rec "floatingips_port_$s" GET "$NEUTRON_URL/v2.0/floatingips?port_id=$pid" >/dev/null
    rec "network_dhcp_agents_$s" GET "$NEUTRON_URL/v2.0/networks/$net/dhcp-agents" >/dev/null
    rec "network_ip_availability_$s" GET "$NEUTRON_URL/v2.0/network-ip-availabilities/$net" >/dev/null
    for rid in $(json_of "ports_network_dhcp_router_$s" | jq -r '[.ports[] | select(.device_owner | startswith("network:router_interface") or . == "network:ha_router_replicated_interface") | .device_id] | unique | .[]'); do
      rec "routers_$s" GET "$NEUTRON_URL/v2.0/routers?id=$rid" >/dev/null
      rec "router_l3_agents_$s" GET "$NEUTRON_URL/v2.0/routers/$rid/l3-agents" >/dev/null
    done
  done
  jq -s . "$INDEX" >"$OUT/index.json"
  rm -f "$INDEX"
  log "recorded $(jq length "$OUT/index.json") API calls as $user into ${OUT#"$REPO"/}"
}

# ---- hosts -------------------------------------------------------------------
# hrec HOST NAME CMD...: CMD's stdout on HOST into NAME; its exit code in the index.
hrec() {
  local h=$1 name=$2 rc=0; shift 2
  onh "$h" "$@" >"$HOUT/$name" 2>"$HOUT/.stderr" || rc=$?
  if [[ "$name" == *.json ]] && jq -e . "$HOUT/$name" >/dev/null 2>&1; then
    jq . "$HOUT/$name" >"$HOUT/.tmp" && mv "$HOUT/.tmp" "$HOUT/$name"
  fi
  jq -c -n --arg c "$*" --arg f "$name" --argjson e "$rc" --arg err "$(head -c 500 "$HOUT/.stderr")" \
    '{cmd:$c, file:$f, exit:$e} + (if $err != "" then {stderr:$err} else {} end)' >>"$HOUT/.index.jsonl"
  rm -f "$HOUT/.stderr"
}
host_pids() { # HOST: PIDs of the processes of a lab host (its netns, and on ctl its agents' namespaces)
  local ns
  for ns in $(ip netns list | awk '{print $1}'); do
    case "$1:$ns" in
      ctl:hb-ctl|ctl:qdhcp-*|ctl:qrouter-*|cmp1:hb-cmp1|cmp2:hb-cmp2) ip netns pids "$ns" ;;
    esac
  done | sort -un
}
record_host() { # HOST
  local h=$1 ns
  HOUT=$HOST_DIR/$h
  rm -rf "$HOUT"; mkdir -p "$HOUT"; : >"$HOUT/.index.jsonl"
  hrec "$h" ip_addr.json ip -json addr
  hrec "$h" ip_link.json ip -json link
  hrec "$h" ip_netns_list.txt ip netns list
  for ns in $(onh "$h" ip netns list | awk '{print $1}' | grep -E '^(qdhcp|qrouter)-' || true); do
    hrec "$h" "netns_${ns}_ip_addr.json" ip -n "$ns" -json addr
  done
  hrec "$h" iptables_save.txt iptables-save
  hrec "$h" ss_lntup.txt ss -lntup
  hrec "$h" nova_conf.txt cat /etc/nova/nova.conf
  hrec "$h" bridge_fdb.json bridge -json fdb show
  hrec "$h" ip_vxlan.json ip -d -json link show type vxlan
  if [ "$LAB_L2" = ovs ]; then
    hrec "$h" ovs_vsctl_show.txt ovs-vsctl show
    hrec "$h" ovs_bridge.json ovs-vsctl --format=json list Bridge
    hrec "$h" ovs_port.json ovs-vsctl --format=json list Port
    hrec "$h" ovs_interface.json ovs-vsctl --format=json list Interface
    local br
    for br in $(onh "$h" ovs-vsctl list-br); do
      hrec "$h" "ovs_ofctl_dump_flows_$br.txt" ovs-ofctl dump-flows "$br"
    done
  fi
  hrec "$h" audit_log.txt cat /var/log/audit/audit.log
  hrec "$h" hostname.txt hostname
  # ps: the machine has one PID namespace; keep the host's own processes.
  local pids; pids=$(host_pids "$h" | paste -sd, -)
  hrec "$h" ps.txt ps -o pid,user,args -p "${pids:-1}"
  local f
  for f in $(onh "$h" sh -c 'ls /var/log/neutron/*.log /var/log/nova/*.log 2>/dev/null' || true); do
    hrec "$h" "log_$(basename "$f" .log).txt" tail -n 100 "$f"
  done
  jq -s . "$HOUT/.index.jsonl" >"$HOUT/index.json"
  rm -f "$HOUT/.index.jsonl"
  log "recorded $(jq length "$HOUT/index.json") host outputs of $h into ${HOUT#"$REPO"/}"
}

redact() { # DIR: replace the lab's secrets in every file
  local v val f
  for v in ADMIN_PASS DEMO_PASS SERVICE_PASS DB_PASS RABBIT_PASS METADATA_SECRET; do
    val=${!v}
    for f in $(grep -rlF -- "$val" "$1" || true); do sed -i "s|$val|REDACTED-$v|g" "$f"; done
  done
}

record_api admin "$ADMIN_PASS" admin "$API_DIR"
record_api demo "$DEMO_PASS" demo "$API_DIR/demo"
for h in "${LAB_HOSTS[@]}"; do record_host "$h"; done
redact "$API_DIR"; redact "$HOST_DIR"
for v in ADMIN_PASS DEMO_PASS SERVICE_PASS DB_PASS RABBIT_PASS METADATA_SECRET; do
  if grep -rqF -- "${!v}" "$API_DIR" "$HOST_DIR"; then die "secret $v still in the recording"; fi
done
mark "recorded $OUTNAME"
