package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// The rule tests' healthy() objects, as Neutron names them in OVN.
var healthyQuery = &OVNQuery{
	Ports:          []string{"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"},
	Networks:       []string{"7c9e1f0a-2b3d-4e5f-8a6b-9c0d1e2f3a4b"},
	Routers:        []string{"9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
	SecurityGroups: []string{"6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a", "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"},
	Subnets:        []string{"c4d5e6f7-0819-4a2b-bc3d-4e5f60718293"},
	Hosts:          []string{"ctl"},
}

func runOf(r run.Runner) func(ctx context.Context, argv ...string) ([]byte, error) {
	return func(ctx context.Context, argv ...string) ([]byte, error) {
		res, err := r.Run(ctx, run.Command{Argv: argv})
		return res.Stdout, err
	}
}

// TestReadOVN reads a real NB and SB (ovsdb-server's answers to hoofbeat's
// own transactions) and the chassis side, in a constant number of
// commands, and every command it runs was recorded.
func TestReadOVN(t *testing.T) {
	r, err := run.LoadReplay(filepath.Join("testdata", "ovn", "healthy"))
	if err != nil {
		t.Fatal(err)
	}
	o := ReadOVN(context.Background(), runOf(r), healthyQuery)
	if u := r.Unexpected(); len(u) > 0 {
		t.Fatalf("commands without a recording: %q", u)
	}
	if u := r.Unused(); len(u) > 0 {
		t.Errorf("recorded commands not run: %q", u)
	}
	if o.NBError != "" || o.SBError != "" || o.ConnectionError != "" || o.ExternalIDsError != "" {
		t.Fatalf("errors: %+v", o)
	}
	if !o.Chassis() || o.Connection != "connected" || o.ExternalIDs["ovn-encap-ip"] != "192.0.2.10" {
		t.Errorf("chassis side: %+v", o)
	}
	nb, sb := o.NB, o.SB
	if len(nb.SwitchPorts) != 1 || nb.SwitchPorts[0].Addresses[0] != "fa:16:3e:12:34:56 10.0.0.12" || nb.SwitchPorts[0].Up == nil || !*nb.SwitchPorts[0].Up {
		t.Errorf("LSP: %+v", nb.SwitchPorts)
	}
	if len(nb.Switches) != 1 || len(nb.Routers) != 1 || len(nb.RouterPorts) != 2 || len(nb.NATs) != 2 || len(nb.GatewayChassis) != 1 {
		t.Errorf("router side: %d switches, %d routers, %d router ports, %d NAT, %d gateway chassis", len(nb.Switches), len(nb.Routers), len(nb.RouterPorts), len(nb.NATs), len(nb.GatewayChassis))
	}
	if len(nb.PortGroups) != 2 || len(nb.ACLs) != 8 || len(nb.DHCPOptions) != 1 || nb.DHCPOptions[0].Options["router"] != "10.0.0.1" {
		t.Errorf("port groups %d, ACLs %d, DHCP options %+v", len(nb.PortGroups), len(nb.ACLs), nb.DHCPOptions)
	}
	if nb.NBCfg != 1 || sb.NBCfg != 1 || len(sb.ChassisPrivate) != 1 || sb.ChassisPrivate[0].NBCfg != 1 {
		t.Errorf("nb_cfg: NB %d SB %d private %+v", nb.NBCfg, sb.NBCfg, sb.ChassisPrivate)
	}
	if len(sb.Chassis) != 1 || sb.Chassis[0].Hostname != "ctl" || len(sb.Encaps) != 1 || sb.Encaps[0].IP != "192.0.2.10" || len(sb.PortBindings) != 2 {
		t.Errorf("SB: %+v", sb)
	}
	if len(o.Tunnels) != 2 || o.Tunnels[1].Peer != "gw2" || !o.Tunnels[1].BFD || o.Tunnels[1].BFDState != "down" ||
		o.Tunnels[1].BFDDiagnostic != "Control Detection Time Expired" || o.Tunnels[0].RemoteIP != "192.0.2.11" || o.Tunnels[0].BFDState != "" {
		t.Errorf("tunnels %+v", o.Tunnels)
	}
	// Three Northbound rounds (names; router ports, NAT, ACLs; gateway
	// chassis) and two Southbound: the figure the benchmark reports.
	if o.Commands != 5 {
		t.Errorf("%d commands, want 5", o.Commands)
	}
}

// TestReadOVNElsewhere: a host without the databases (no socket, or no
// ovsdb-client) reads its chassis only, with no error; a host whose
// database fails says why.
func TestReadOVNElsewhere(t *testing.T) {
	nb := transactArgs(OVNNBSocket, "OVN_Northbound", nbFirstRound(healthyQuery))
	r := run.NewReplay("cmp1").
		Add(OVSExternalIDsArgs, `{ovn-encap-ip="192.0.2.11", ovn-remote="tcp:192.0.2.10:6642", system-id=cmp1}`+"\n").
		Fail(OVNConnectionArgs, run.KindExit, "2026-12-01T07:00:00Z|00001|unixctl|WARN|failed to connect to /var/run/ovn/ovn-controller.123.ctl\novn-appctl: cannot connect to \"/var/run/ovn/ovn-controller.123.ctl\" (No such file or directory)").
		Fail(nb, run.KindExit, `ovsdb-client: failed to connect to "unix:/run/ovn/ovnnb_db.sock" (No such file or directory)`)
	o := ReadOVN(context.Background(), runOf(r), healthyQuery)
	if o.NB != nil || o.SB != nil || o.NBError != "" || o.SBError != "" || o.NoDatabase != "no /run/ovn/ovnnb_db.sock" {
		t.Errorf("databases: %+v", o)
	}
	if !strings.Contains(o.ConnectionError, "ovn-appctl") || o.Connection != "" {
		t.Errorf("connection: %q %q", o.Connection, o.ConnectionError)
	}
	r = run.NewReplay("ctl").Fail(OVSExternalIDsArgs, run.KindNotFound, "").
		Fail(nb, run.KindExit, "ovsdb-client: transaction returned error: permission denied")
	o = ReadOVN(context.Background(), runOf(r), healthyQuery)
	if o == nil || !strings.Contains(o.NBError, "permission denied") {
		t.Errorf("a failing database: %+v", o)
	}
	r = run.NewReplay("cmp2").Add(OVSExternalIDsArgs, "{system-id=cmp2}\n").Fail(nb, run.KindNotFound, "")
	if o := ReadOVN(context.Background(), runOf(r), healthyQuery); o == nil || o.NoDatabase != "ovsdb-client is not installed" || o.Chassis() {
		t.Errorf("Open vSwitch without OVN, no ovsdb-client: %+v", o)
	}
	r = run.NewReplay("x").Fail(OVSExternalIDsArgs, run.KindNotFound, "").Fail(nb, run.KindNotFound, "")
	if o := ReadOVN(context.Background(), runOf(r), healthyQuery); o != nil {
		t.Errorf("no Open vSwitch, no OVN: %+v", o)
	}
}

// TestTransactQueryIsOneArgument: names from the cloud travel inside the
// JSON query, one argv element, never through a shell.
func TestTransactQueryIsOneArgument(t *testing.T) {
	q := &OVNQuery{Ports: []string{`x"; rm -rf / #`}, SecurityGroups: []string{"a-b"}}
	argv := transactArgs(OVNNBSocket, "OVN_Northbound", nbFirstRound(q))
	if len(argv) != 4 || !strings.Contains(argv[3], `"x\"; rm -rf / #"`) || !strings.Contains(argv[3], `"pg_a_b"`) {
		t.Errorf("argv %q", argv)
	}
}

func TestParseOVSMap(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "ovn", "healthy", "ovs-external-ids.txt"))
	m, err := ParseOVSMap(b)
	if err != nil || m["ovn-remote"] != "tcp:192.0.2.10:6642" || m["system-id"] != "ctl" || m["ovn-bridge-mappings"] != "physnet1:br-ex" {
		t.Errorf("%v %v", m, err)
	}
	m, err = ParseOVSMap([]byte(`{a="x\"y", "b c"=d}`))
	if err != nil || m["a"] != `x"y` || m["b c"] != "d" {
		t.Errorf("quoted: %v %v", m, err)
	}
	for _, bad := range []string{"", "x", `{a}`, `{a="x}`, `{a="\`} {
		if _, err := ParseOVSMap([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseTransactErrors(t *testing.T) {
	for _, c := range []struct {
		out string
		ops int
	}{{"", 1}, {"{}", 1}, {`[{"error":"syntax error","details":"bad"}]`, 1}, {`[{"rows":[]}]`, 2}} {
		if _, err := ParseTransact([]byte(c.out), c.ops); err == nil {
			t.Errorf("%q for %d selects: no error", c.out, c.ops)
		}
	}
}

func FuzzOVN(f *testing.F) {
	fuzzSeeds(f, filepath.Join("ovn", "healthy"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseOVSMap(b)
		ParseConnectionStatus(b)
		ParseTunnels(b)
		if res, err := ParseTransact(b, 1); err == nil {
			r := &nbReader{nb: &snapshot.OVNNorthbound{}, asked: map[string]bool{}}
			for _, table := range []string{"Logical_Switch_Port", "Logical_Router", "Logical_Router_Port", "Port_Group", "ACL", "NAT", "DHCP_Options", "HA_Chassis_Group", "NB_Global"} {
				for _, row := range res[0] {
					r.add(table, row)
				}
			}
			r.next()
		}
	})
}

// TestParseOVNTrace reads real ovn-trace answers (the OVN lab's SB): a ping
// delivered, dropped by the default drop ACL once the ICMP ACL is gone,
// and dropped as unknown once the port's LSP is gone.
func TestParseOVNTrace(t *testing.T) {
	for _, c := range []struct {
		file      string
		delivered bool
		table     int
		stage     string
		match     string
	}{
		{"healthy-ping-vm1.txt", true, 9, "ls_out_apply_port_sec", "1"},
		{"acl-icmp-deleted-ping-vm1.txt", false, 4, "ls_out_acl", "@neutron_pg_drop"},
		{"lsp-deleted-ping-vm1.txt", false, 26, "ls_in_l2_unknown", ""},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "ovn", "trace", c.file))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := ParseOVNTrace(b)
		if err != nil || tr.Delivered != c.delivered || tr.Table != c.table || tr.Stage != c.stage || !strings.Contains(tr.Match, c.match) {
			t.Errorf("%s: %+v %v", c.file, tr, err)
		}
		if !c.delivered && !strings.HasPrefix(tr.Pipeline, "ingress(") && !strings.HasPrefix(tr.Pipeline, "egress(") {
			t.Errorf("%s: pipeline %q", c.file, tr.Pipeline)
		}
	}
	if _, err := ParseOVNTrace([]byte("ovn-trace: unknown datapath\n")); err == nil {
		t.Error("no logical flow: no error")
	}
}

// TestFloatingSpec: the trace to a floating IP enters the router by its
// gateway port (the one with gateway chassis), with that port's MAC.
func TestFloatingSpec(t *testing.T) {
	r, err := run.LoadReplay(filepath.Join("testdata", "ovn", "healthy"))
	if err != nil {
		t.Fatal(err)
	}
	o := ReadOVN(context.Background(), runOf(r), healthyQuery)
	sp, ok := floatingSpec(o.NB, OVNFloatingTrace{Label: "ping", Router: healthyQuery.Routers[0], FloatingIP: "172.24.4.150", From: "203.0.113.1", L4: "icmp4"})
	if !ok || sp.Datapath != "neutron-"+healthyQuery.Routers[0] ||
		sp.Microflow != `inport == "lrp-a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d" && eth.src == 02:00:00:00:00:01 && eth.dst == fa:16:3e:aa:bb:02 && ip4.src == 203.0.113.1 && ip4.dst == 172.24.4.150 && ip.ttl == 64 && icmp4` {
		t.Errorf("%+v %v", sp, ok)
	}
	if _, ok := floatingSpec(o.NB, OVNFloatingTrace{Router: "other"}); ok {
		t.Error("a router not in NB: a trace")
	}
}

func FuzzOVNTrace(f *testing.F) {
	fuzzSeeds(f, filepath.Join("ovn", "trace"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseOVNTrace(b) })
}

// TestReadOVNLagRecheck: a lag seen once is read again after LagRecheck;
// one that went is no lag, one that stays is kept.
func TestReadOVNLagRecheck(t *testing.T) {
	nbOps := nbFirstRound(&OVNQuery{})
	sbArgs := func(ops ...ovnOp) []string { return transactArgs(OVNSBSocket, "OVN_Southbound", ops) }
	first := sbArgs(ovnOp{table: "SB_Global", columns: ovnColumns["SB_Global"]}, selectBy("Chassis", "hostname", "ctl"))
	private := sbArgs(selectBy("Chassis_Private", "name", "ctl"))
	again := sbArgs(ovnOp{table: "SB_Global", columns: ovnColumns["SB_Global"]}, selectBy("Chassis_Private", "name", "ctl"))
	for _, c := range []struct {
		name         string
		later        string
		sbCfg, chCfg int64
	}{
		{"caught up", `[{"rows":[{"nb_cfg":7}]},{"rows":[{"name":"ctl","nb_cfg":7}]}]`, 7, 7},
		{"still behind", `[{"rows":[{"nb_cfg":6}]},{"rows":[{"name":"ctl","nb_cfg":6}]}]`, 6, 6},
	} {
		r := run.NewReplay("ctl").
			Add(OVSExternalIDsArgs, "{system-id=ctl}\n").
			Add(transactArgs(OVNNBSocket, "OVN_Northbound", nbOps), `[{"rows":[{"nb_cfg":7,"sb_cfg":6,"hv_cfg":6}]}]`).
			Add(first, `[{"rows":[{"nb_cfg":6}]},{"rows":[{"_uuid":["uuid","c1"],"name":"ctl","hostname":"ctl","encaps":["set",[]],"other_config":["map",[]]}]}]`).
			Add(private, `[{"rows":[{"name":"ctl","chassis":["uuid","c1"],"nb_cfg":6}]}]`).
			Add(again, c.later)
		o := ReadOVN(context.Background(), runOf(r), &OVNQuery{Hosts: []string{"ctl"}})
		if u := r.Unexpected(); len(u) > 0 {
			t.Fatalf("%s: unexpected %q", c.name, u)
		}
		if o.SB == nil || o.SB.NBCfg != c.sbCfg || len(o.SB.ChassisPrivate) != 1 || o.SB.ChassisPrivate[0].NBCfg != c.chCfg || o.Commands != 4 {
			t.Errorf("%s: %+v, %d commands", c.name, o.SB, o.Commands)
		}
	}
}
