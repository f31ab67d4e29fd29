package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// The sockets of the OVN databases on their host (Debian's, Ubuntu's and
// RHEL's default OVN_RUNDIR).
const (
	OVNNBSocket = "unix:/run/ovn/ovnnb_db.sock"
	OVNSBSocket = "unix:/run/ovn/ovnsb_db.sock"
)

// The chassis' commands.
var (
	OVSExternalIDsArgs = []string{"ovs-vsctl", "get", "open", ".", "external_ids"}
	OVNConnectionArgs  = []string{"ovn-appctl", "-t", "ovn-controller", "connection-status"}
	OVNTunnelArgs      = []string{"ovs-vsctl", "--format=json", "--columns=name,options,bfd,bfd_status,external_ids", "find", "Interface", "type=geneve"}
)

// ParseTunnels reads the chassis' Geneve interfaces with their BFD state.
func ParseTunnels(b []byte) ([]snapshot.OVNTunnel, error) {
	rows, err := parseOVSTable(b)
	if err != nil {
		return nil, err
	}
	var out []snapshot.OVNTunnel
	for _, r := range rows {
		opts, bfd, st, ids := ovsMap(r["options"]), ovsMap(r["bfd"]), ovsMap(r["bfd_status"]), ovsMap(r["external_ids"])
		peer, _, _ := strings.Cut(ids["ovn-chassis-id"], "@")
		out = append(out, snapshot.OVNTunnel{Name: ovsAtom(r["name"]), RemoteIP: opts["remote_ip"], Peer: peer,
			BFD: bfd["enable"] == "true", BFDState: st["state"], BFDDiagnostic: st["diagnostic"]})
	}
	return out, nil
}

// OVNQuery names the server's objects as Neutron names them in OVN, to
// read only those rows of the databases.
type OVNQuery struct {
	// Ports are the server's port IDs (Logical_Switch_Port names).
	Ports []string
	// Networks are network IDs (Logical_Switch neutron-<id>).
	Networks []string
	// Routers are router IDs (Logical_Router neutron-<id>).
	Routers []string
	// SecurityGroups are group IDs (Port_Group pg_<id with _ for ->).
	SecurityGroups []string
	// Subnets are subnet IDs (DHCP_Options external_ids:subnet_id).
	Subnets []string
	// Hosts are the hosts whose chassis to read (Chassis hostname).
	Hosts []string
	// Traces are the flows ovn-trace follows on the database host;
	// FloatingTraces those to floating IPs from outside, through the router.
	Traces         []OVNTraceSpec
	FloatingTraces []OVNFloatingTrace
	// LagRecheck is how long to wait before reading the Southbound's
	// nb_cfg again when it lags: Neutron bumps NB's nb_cfg whenever its
	// agents are listed (by this very diagnosis), and ovn-northd and the
	// controllers follow within moments.
	LagRecheck time.Duration
}

// PortGroupName is the Port_Group Neutron creates for a security group.
func PortGroupName(sgID string) string { return "pg_" + strings.ReplaceAll(sgID, "-", "_") }

// maxOVNRounds bounds the Northbound reads: the names, then the rows they
// reference (a router's ports and NAT, a port group's ACLs), then those
// ports' gateway chassis and HA groups, then the groups' HA_Chassis.
const maxOVNRounds = 4

// ovnOp is one select of an OVSDB transaction.
type ovnOp struct {
	table   string
	where   [][]any
	columns []string
}

func (o ovnOp) MarshalJSON() ([]byte, error) {
	m := map[string]any{"op": "select", "table": o.table, "where": o.where}
	if o.where == nil {
		m["where"] = [][]any{}
	}
	if o.columns != nil {
		m["columns"] = o.columns
	}
	return json.Marshal(m)
}

// ovnColumns are the columns read per table: the big ones (a switch's
// ports, a port group's ports) are left out, they grow with the cloud.
var ovnColumns = map[string][]string{
	"Logical_Switch":      {"_uuid", "name", "external_ids", "other_config"},
	"Logical_Switch_Port": {"_uuid", "name", "type", "addresses", "port_security", "up", "enabled", "dhcpv4_options", "dhcpv6_options", "ha_chassis_group", "options", "external_ids"},
	"Logical_Router":      {"_uuid", "name", "enabled", "ports", "nat", "options", "external_ids"},
	"Logical_Router_Port": {"_uuid", "name", "mac", "networks", "enabled", "gateway_chassis", "ha_chassis_group", "options", "external_ids"},
	"NAT":                 {"_uuid", "type", "external_ip", "logical_ip", "external_mac", "logical_port", "external_ids"},
	"Gateway_Chassis":     {"_uuid", "name", "chassis_name", "priority"},
	"HA_Chassis_Group":    {"_uuid", "name", "ha_chassis"},
	"HA_Chassis":          {"_uuid", "chassis_name", "priority"},
	"Port_Group":          {"_uuid", "name", "acls", "external_ids"},
	"ACL":                 {"_uuid", "direction", "priority", "match", "action", "external_ids"},
	"DHCP_Options":        {"_uuid", "cidr", "options", "external_ids"},
	"NB_Global":           {"nb_cfg", "sb_cfg", "hv_cfg"},
	"SB_Global":           {"nb_cfg"},
	"Chassis":             {"_uuid", "name", "hostname", "encaps", "other_config"},
	"Chassis_Private":     {"name", "chassis", "nb_cfg"},
	"Encap":               {"_uuid", "type", "ip", "chassis_name"},
	"Port_Binding":        {"logical_port", "type", "chassis", "up"},
}

func selectBy(table, column string, value any) ovnOp {
	return ovnOp{table: table, where: [][]any{{column, "==", value}}, columns: ovnColumns[table]}
}

func selectUUID(table, uuid string) ovnOp {
	return selectBy(table, "_uuid", []string{"uuid", uuid})
}

// TransactArgs is the read-only transaction (selects only) of ops on a
// database: the query is one argument, data and not shell.
func transactArgs(socket, db string, ops []ovnOp) []string {
	q := []any{db}
	for _, o := range ops {
		q = append(q, o)
	}
	b, _ := json.Marshal(q) // strings and string slices only: cannot fail
	return []string{"ovsdb-client", "transact", socket, string(b)}
}

// ParseTransact reads ovsdb-client transact's answer: one result per
// select, each its rows (decoded once, as ovs-vsctl's tables are); an
// operation's error fails the whole answer.
func ParseTransact(b []byte, ops int) ([][]map[string]any, error) {
	var res []struct {
		Rows    []map[string]any `json:"rows"`
		Error   *string          `json:"error"`
		Details string           `json:"details"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("read ovsdb-client transact: %w", err)
	}
	if len(res) < ops {
		return nil, fmt.Errorf("read ovsdb-client transact: %d results for %d selects", len(res), ops)
	}
	out := make([][]map[string]any, ops)
	for i := range ops {
		if res[i].Error != nil {
			return nil, fmt.Errorf("ovsdb select %d: %s: %s", i+1, *res[i].Error, res[i].Details)
		}
		out[i] = res[i].Rows
	}
	return out, nil
}

// ovsBool returns a boolean column (a bool, or a set of at most one), nil
// when empty.
func ovsBool(v any) *bool {
	switch x := v.(type) {
	case bool:
		return &x
	case string:
		switch x {
		case "true":
			t := true
			return &t
		case "false":
			f := false
			return &f
		}
	}
	if tag, c, _ := ovsPair(v); tag == "set" {
		if items, ok := c.([]any); ok && len(items) == 1 {
			return ovsBool(items[0])
		}
	}
	return nil
}

func ovsInt(v any) int64 {
	n, _ := strconv.ParseInt(ovsAtom(v), 10, 64)
	return n
}

func ovsMapOrNil(v any) map[string]string {
	m := ovsMap(v)
	if len(m) == 0 {
		return nil
	}
	return m
}

// ref is a row to read by UUID.
type ref struct{ table, uuid string }

// nbReader accumulates the Northbound rows and the references to read next.
type nbReader struct {
	nb *snapshot.OVNNorthbound
	// asked are the UUIDs selected or read already: a DHCP_Options row
	// read by its subnet is not selected again by a port's reference.
	asked map[string]bool
	todo  []ref
}

func (r *nbReader) want(table string, uuids ...string) {
	for _, u := range uuids {
		if u != "" {
			r.todo = append(r.todo, ref{table, u})
		}
	}
}

// next are the selects of the rows referenced and not yet read.
func (r *nbReader) next() []ovnOp {
	var ops []ovnOp
	for _, t := range r.todo {
		if !r.asked[t.uuid] {
			r.asked[t.uuid] = true
			ops = append(ops, selectUUID(t.table, t.uuid))
		}
	}
	r.todo = nil
	return ops
}

// add stores a row of table and queues what it references.
func (r *nbReader) add(table string, row map[string]any) {
	u := ovsAtom(row["_uuid"])
	if u != "" {
		r.asked[u] = true
	}
	nb := r.nb
	switch table {
	case "NB_Global":
		nb.NBCfg, nb.SBCfg, nb.HVCfg = ovsInt(row["nb_cfg"]), ovsInt(row["sb_cfg"]), ovsInt(row["hv_cfg"])
	case "Logical_Switch":
		nb.Switches = append(nb.Switches, snapshot.OVNSwitch{UUID: u, Name: ovsAtom(row["name"]), ExternalIDs: ovsMapOrNil(row["external_ids"]), OtherConfig: ovsMapOrNil(row["other_config"])})
	case "Logical_Switch_Port":
		p := snapshot.OVNSwitchPort{UUID: u, Name: ovsAtom(row["name"]), Type: ovsAtom(row["type"]),
			Addresses: ovsSet(row["addresses"]), PortSecurity: ovsSet(row["port_security"]),
			Up: ovsBool(row["up"]), Enabled: ovsBool(row["enabled"]),
			DHCPv4Options: ovsAtom(row["dhcpv4_options"]), DHCPv6Options: ovsAtom(row["dhcpv6_options"]),
			HAChassisGroup: ovsAtom(row["ha_chassis_group"]),
			Options:        ovsMapOrNil(row["options"]), ExternalIDs: ovsMapOrNil(row["external_ids"])}
		nb.SwitchPorts = append(nb.SwitchPorts, p)
		r.want("DHCP_Options", p.DHCPv4Options, p.DHCPv6Options)
		r.want("HA_Chassis_Group", p.HAChassisGroup)
	case "Logical_Router":
		lr := snapshot.OVNRouter{UUID: u, Name: ovsAtom(row["name"]), Enabled: ovsBool(row["enabled"]),
			Ports: ovsSet(row["ports"]), NAT: ovsSet(row["nat"]),
			Options: ovsMapOrNil(row["options"]), ExternalIDs: ovsMapOrNil(row["external_ids"])}
		nb.Routers = append(nb.Routers, lr)
		r.want("Logical_Router_Port", lr.Ports...)
		r.want("NAT", lr.NAT...)
	case "Logical_Router_Port":
		p := snapshot.OVNRouterPort{UUID: u, Name: ovsAtom(row["name"]), MAC: ovsAtom(row["mac"]),
			Networks: ovsSet(row["networks"]), Enabled: ovsBool(row["enabled"]),
			GatewayChassis: ovsSet(row["gateway_chassis"]), HAChassisGroup: ovsAtom(row["ha_chassis_group"]),
			Options: ovsMapOrNil(row["options"]), ExternalIDs: ovsMapOrNil(row["external_ids"])}
		nb.RouterPorts = append(nb.RouterPorts, p)
		r.want("Gateway_Chassis", p.GatewayChassis...)
		r.want("HA_Chassis_Group", p.HAChassisGroup)
	case "NAT":
		nb.NATs = append(nb.NATs, snapshot.OVNNAT{UUID: u, Type: ovsAtom(row["type"]), ExternalIP: ovsAtom(row["external_ip"]),
			LogicalIP: ovsAtom(row["logical_ip"]), ExternalMAC: ovsAtom(row["external_mac"]), LogicalPort: ovsAtom(row["logical_port"]),
			ExternalIDs: ovsMapOrNil(row["external_ids"])})
	case "Gateway_Chassis":
		nb.GatewayChassis = append(nb.GatewayChassis, snapshot.OVNGatewayChassis{UUID: u, Name: ovsAtom(row["name"]), ChassisName: ovsAtom(row["chassis_name"]), Priority: ovsInt(row["priority"])})
	case "HA_Chassis_Group":
		g := snapshot.OVNHAGroup{UUID: u, Name: ovsAtom(row["name"]), HAChassis: ovsSet(row["ha_chassis"])}
		nb.HAGroups = append(nb.HAGroups, g)
		r.want("HA_Chassis", g.HAChassis...)
	case "HA_Chassis":
		nb.HAChassis = append(nb.HAChassis, snapshot.OVNGatewayChassis{UUID: u, ChassisName: ovsAtom(row["chassis_name"]), Priority: ovsInt(row["priority"])})
	case "Port_Group":
		pg := snapshot.OVNPortGroup{UUID: u, Name: ovsAtom(row["name"]), ACLs: ovsSet(row["acls"]), ExternalIDs: ovsMapOrNil(row["external_ids"])}
		nb.PortGroups = append(nb.PortGroups, pg)
		r.want("ACL", pg.ACLs...)
	case "ACL":
		nb.ACLs = append(nb.ACLs, snapshot.OVNACL{UUID: u, Direction: ovsAtom(row["direction"]), Priority: ovsInt(row["priority"]),
			Match: ovsAtom(row["match"]), Action: ovsAtom(row["action"]), ExternalIDs: ovsMapOrNil(row["external_ids"])})
	case "DHCP_Options":
		nb.DHCPOptions = append(nb.DHCPOptions, snapshot.OVNDHCPOptions{UUID: u, CIDR: ovsAtom(row["cidr"]), Options: ovsMapOrNil(row["options"]), ExternalIDs: ovsMapOrNil(row["external_ids"])})
	}
}

// nbFirstRound selects the server's objects by the names Neutron gives them.
func nbFirstRound(q *OVNQuery) []ovnOp {
	ops := []ovnOp{{table: "NB_Global", columns: ovnColumns["NB_Global"]}}
	for _, p := range q.Ports {
		ops = append(ops, selectBy("Logical_Switch_Port", "name", p))
	}
	for _, n := range q.Networks {
		ops = append(ops, selectBy("Logical_Switch", "name", "neutron-"+n))
	}
	for _, r := range q.Routers {
		ops = append(ops, selectBy("Logical_Router", "name", "neutron-"+r))
	}
	for _, sg := range q.SecurityGroups {
		ops = append(ops, selectBy("Port_Group", "name", PortGroupName(sg)))
	}
	for _, sn := range q.Subnets {
		ops = append(ops, ovnOp{table: "DHCP_Options", columns: ovnColumns["DHCP_Options"],
			where: [][]any{{"external_ids", "includes", []any{"map", [][]string{{"subnet_id", sn}}}}}})
	}
	return ops
}

// errNoDatabase is a database that is not on the host: not an error of the
// host, but what was looked for is worth saying.
type errNoDatabase struct{ why string }

func (e errNoDatabase) Error() string { return e.why }

// ReadNB reads the Northbound rows of q's objects in at most maxOVNRounds
// transactions, and says how many commands and bytes that took. A host
// without the database (no socket, no ovsdb-client) gives nil and an
// errNoDatabase.
func ReadNB(ctx context.Context, run func(ctx context.Context, argv ...string) ([]byte, error), q *OVNQuery) (nb *snapshot.OVNNorthbound, commands, bytes int, err error) {
	r := &nbReader{nb: &snapshot.OVNNorthbound{}, asked: map[string]bool{}}
	ops := nbFirstRound(q)
	for round := 0; len(ops) > 0 && round < maxOVNRounds; round++ {
		out, err := run(ctx, transactArgs(OVNNBSocket, "OVN_Northbound", ops)...)
		commands, bytes = commands+1, bytes+len(out)
		if err != nil {
			if round == 0 && noDatabase(err) {
				return nil, commands, bytes, errNoDatabase{noDatabaseReason(err)}
			}
			return nil, commands, bytes, err
		}
		res, err := ParseTransact(out, len(ops))
		if err != nil {
			return nil, commands, bytes, err
		}
		for i, rows := range res {
			for _, row := range rows {
				r.add(ops[i].table, row)
			}
		}
		ops = r.next()
	}
	return r.nb, commands, bytes, nil
}

// ReadSB reads SB_Global, the chassis of the hosts and of nb's gateway
// chassis, their private rows and encaps, and the port bindings of the
// server's ports and of nb's gateway ports, in two transactions.
func ReadSB(ctx context.Context, run func(ctx context.Context, argv ...string) ([]byte, error), q *OVNQuery, nb *snapshot.OVNNorthbound) (sb *snapshot.OVNSouthbound, commands, bytes int, err error) {
	sb = &snapshot.OVNSouthbound{}
	ops := []ovnOp{{table: "SB_Global", columns: ovnColumns["SB_Global"]}}
	var names []string
	for _, h := range q.Hosts {
		ops = append(ops, selectBy("Chassis", "hostname", h))
	}
	if nb != nil {
		for _, g := range append(slices.Clone(nb.GatewayChassis), nb.HAChassis...) {
			if !slices.Contains(names, g.ChassisName) {
				names = append(names, g.ChassisName)
				ops = append(ops, selectBy("Chassis", "name", g.ChassisName))
			}
		}
	}
	ports := slices.Clone(q.Ports)
	if nb != nil {
		for _, p := range nb.RouterPorts {
			if len(p.GatewayChassis) > 0 || p.HAChassisGroup != "" {
				ports = append(ports, "cr-"+p.Name)
			}
		}
	}
	for _, p := range ports {
		ops = append(ops, selectBy("Port_Binding", "logical_port", p))
	}
	seen := map[string]bool{}
	var second []ovnOp
	for round := 0; round < 2 && len(ops) > 0; round++ {
		out, err := run(ctx, transactArgs(OVNSBSocket, "OVN_Southbound", ops)...)
		commands, bytes = commands+1, bytes+len(out)
		if err != nil {
			if round == 0 && noDatabase(err) {
				return nil, commands, bytes, nil
			}
			return nil, commands, bytes, err
		}
		res, err := ParseTransact(out, len(ops))
		if err != nil {
			return nil, commands, bytes, err
		}
		second = nil
		wantChassis := func(u string) {
			if u != "" && !seen[u] {
				seen[u] = true
				second = append(second, selectUUID("Chassis", u))
			}
		}
		for i, rows := range res {
			for _, row := range rows {
				switch ops[i].table {
				case "SB_Global":
					sb.NBCfg = ovsInt(row["nb_cfg"])
				case "Chassis":
					u := ovsAtom(row["_uuid"])
					if slices.ContainsFunc(sb.Chassis, func(c snapshot.OVNChassis) bool { return c.UUID == u }) {
						continue
					}
					seen[u] = true
					c := snapshot.OVNChassis{UUID: u, Name: ovsAtom(row["name"]), Hostname: ovsAtom(row["hostname"]),
						Encaps: ovsSet(row["encaps"]), OtherConfig: ovsMapOrNil(row["other_config"])}
					sb.Chassis = append(sb.Chassis, c)
					second = append(second, selectBy("Chassis_Private", "name", c.Name))
					for _, e := range c.Encaps {
						second = append(second, selectUUID("Encap", e))
					}
				case "Chassis_Private":
					sb.ChassisPrivate = append(sb.ChassisPrivate, snapshot.OVNChassisPrivate{Name: ovsAtom(row["name"]), Chassis: ovsAtom(row["chassis"]), NBCfg: ovsInt(row["nb_cfg"])})
				case "Encap":
					sb.Encaps = append(sb.Encaps, snapshot.OVNEncap{UUID: ovsAtom(row["_uuid"]), Type: ovsAtom(row["type"]), IP: ovsAtom(row["ip"]), ChassisName: ovsAtom(row["chassis_name"])})
				case "Port_Binding":
					pb := snapshot.OVNPortBinding{LogicalPort: ovsAtom(row["logical_port"]), Type: ovsAtom(row["type"]), Chassis: ovsAtom(row["chassis"]), Up: ovsBool(row["up"])}
					sb.PortBindings = append(sb.PortBindings, pb)
					if round == 0 {
						wantChassis(pb.Chassis)
					}
				}
			}
		}
		ops = second
	}
	return sb, commands, bytes, nil
}

// lagging reports an SB or a chassis behind NB's nb_cfg.
func lagging(nb *snapshot.OVNNorthbound, sb *snapshot.OVNSouthbound) bool {
	if sb.NBCfg < nb.NBCfg {
		return true
	}
	for _, p := range sb.ChassisPrivate {
		if p.NBCfg < nb.NBCfg {
			return true
		}
	}
	return false
}

// recheckLag waits, then reads SB_Global's and the chassis' nb_cfg again
// into sb: only a lag that lasts is one. One more command, only when a lag
// was seen.
func recheckLag(ctx context.Context, run func(ctx context.Context, argv ...string) ([]byte, error), wait time.Duration, sb *snapshot.OVNSouthbound) (commands, bytes int, err error) {
	t := time.NewTimer(wait)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		return 0, 0, ctx.Err()
	}
	ops := []ovnOp{{table: "SB_Global", columns: ovnColumns["SB_Global"]}}
	for _, p := range sb.ChassisPrivate {
		ops = append(ops, selectBy("Chassis_Private", "name", p.Name))
	}
	out, err := run(ctx, transactArgs(OVNSBSocket, "OVN_Southbound", ops)...)
	if err != nil {
		return 1, len(out), err
	}
	res, err := ParseTransact(out, len(ops))
	if err != nil {
		return 1, len(out), err
	}
	for i, rows := range res {
		for _, row := range rows {
			if i == 0 {
				sb.NBCfg = ovsInt(row["nb_cfg"])
				continue
			}
			for j := range sb.ChassisPrivate {
				if sb.ChassisPrivate[j].Name == ovsAtom(row["name"]) {
					sb.ChassisPrivate[j].NBCfg = ovsInt(row["nb_cfg"])
				}
			}
		}
	}
	return 1, len(out), nil
}

// noDatabaseReason says why a database is not on this host.
func noDatabaseReason(err error) string {
	if run.KindOf(err) == run.KindNotFound {
		return "ovsdb-client is not installed"
	}
	return "no " + strings.TrimPrefix(OVNNBSocket, "unix:")
}

// noDatabase reports a database that is not on this host: its socket is
// absent or ovsdb-client is not installed.
func noDatabase(err error) bool {
	var e *run.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Kind == run.KindNotFound || (e.Kind == run.KindExit && strings.Contains(e.Stderr, "No such file or directory"))
}

// ParseOVSMap reads an OVSDB map as ovs-vsctl get prints it:
// {key=value, key2="quoted \"value\""}.
func ParseOVSMap(b []byte) (map[string]string, error) {
	s := strings.TrimSpace(string(b))
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("read ovs-vsctl map: not a {…} map: %.40q", s)
	}
	s = s[1 : len(s)-1]
	out := map[string]string{}
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			break
		}
		k, n, err := ovsWord(s[i:])
		if err != nil {
			return nil, err
		}
		i += n
		if i >= len(s) || s[i] != '=' {
			return nil, fmt.Errorf("read ovs-vsctl map: key %q without a value", k)
		}
		i++
		v, n, err := ovsWord(s[i:])
		if err != nil {
			return nil, err
		}
		i += n
		out[k] = v
	}
	return out, nil
}

// ovsWord reads a bare or double-quoted word (C escapes) and its length.
func ovsWord(s string) (string, int, error) {
	if s == "" || s[0] != '"' {
		n := strings.IndexAny(s, "=, ")
		if n < 0 {
			n = len(s)
		}
		return s[:n], n, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, errors.New("read ovs-vsctl map: a dangling backslash")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, errors.New("read ovs-vsctl map: an unterminated quoted string")
}

// ParseConnectionStatus reads ovn-controller's connection-status.
func ParseConnectionStatus(b []byte) (string, error) {
	s := strings.TrimSpace(string(b))
	if s == "" || strings.ContainsAny(s, "\n") || len(s) > 64 {
		return "", fmt.Errorf("read ovn-controller connection-status: unexpected answer %.64q", s)
	}
	return s, nil
}

// ovn reads the host's OVN chassis, and its databases when they are here.
func (c *collector) ovn(ctx context.Context) {
	if o := ReadOVN(ctx, c.run, c.opt.OVN); o != nil {
		c.set(func(h *snapshot.Host) { h.OVN = o })
	}
}

// ReadOVN reads a host's OVN chassis (Open vSwitch's external_ids,
// ovn-controller's connection) and, when its sockets are on the host, the
// databases' rows of q's objects. It returns nil for a host with neither
// Open vSwitch nor the databases: nothing to say.
func ReadOVN(ctx context.Context, run func(ctx context.Context, argv ...string) ([]byte, error), q *OVNQuery) *snapshot.OVN {
	o := &snapshot.OVN{}
	out, err := run(ctx, OVSExternalIDsArgs...)
	if err == nil {
		o.ExternalIDs, err = ParseOVSMap(out)
	}
	if err != nil {
		o.ExternalIDsError = reason(err)
	}
	if o.Chassis() {
		out, err = run(ctx, OVNConnectionArgs...)
		if err == nil {
			o.Connection, err = ParseConnectionStatus(out)
		}
		if err != nil {
			o.ConnectionError = ovnReason(err)
		}
		out, err = run(ctx, OVNTunnelArgs...)
		if err == nil {
			o.Tunnels, err = ParseTunnels(out)
		}
		if err != nil {
			o.TunnelsError = reason(err)
		}
	}
	nb, n, b, err := ReadNB(ctx, run, q)
	o.Commands, o.Bytes = n, b
	var absent errNoDatabase
	switch {
	case errors.As(err, &absent):
		o.NoDatabase, err = absent.why, nil
	case err != nil:
		o.NBError = ovnReason(err)
	}
	o.NB = nb
	if nb != nil || err != nil {
		sb, n, b, err := ReadSB(ctx, run, q, nb)
		o.Commands, o.Bytes = o.Commands+n, o.Bytes+b
		if err != nil {
			o.SBError = ovnReason(err)
		}
		o.SB = sb
	}
	if nb != nil && o.SB != nil && lagging(nb, o.SB) {
		n, b, err := recheckLag(ctx, run, q.LagRecheck, o.SB)
		o.Commands, o.Bytes = o.Commands+n, o.Bytes+b
		if err != nil {
			o.SBError = ovnReason(err)
		}
	}
	if nb != nil && q != nil {
		var n, b int
		specs := slices.Clone(q.Traces)
		for _, f := range q.FloatingTraces {
			if sp, ok := floatingSpec(nb, f); ok {
				specs = append(specs, sp)
			}
		}
		o.Traces, n, b = readTraces(ctx, run, specs)
		o.Commands, o.Bytes = o.Commands+n, o.Bytes+b
	}
	if o.ExternalIDs == nil && o.NB == nil && o.SB == nil && o.NBError == "" && o.SBError == "" && notInstalled(o.ExternalIDsError) && o.NoDatabase != "" {
		return nil
	}
	return o
}

// ovnReason is reason with the tool's own word when it failed: "cannot
// connect to …" says the controller is not running.
func ovnReason(err error) string {
	var e *run.Error
	if errors.As(err, &e) && e.Kind == run.KindExit {
		if msg := strings.TrimSpace(e.Stderr); msg != "" {
			return fmt.Sprintf("%s: %s", run.Quote(e.Argv[:min(len(e.Argv), 3)]), lastLines(msg, 1))
		}
	}
	return reason(err)
}

func notInstalled(why string) bool { return strings.HasSuffix(why, " is not installed") }
