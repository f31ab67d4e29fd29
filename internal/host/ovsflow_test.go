package host

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// TestParseDumpFlowsLab reads every dump-flows the lab's Open vSwitch
// flavour recorded: every line is a flow, and br-tun translates the
// private network's VNI to its local VLAN (tun_id=0x3 → mod_vlan_vid:1 in
// table 4 of the recorded run) and back (dl_vlan=1 → tun_id 3).
func TestParseDumpFlowsLab(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "lab", "ovs-*", "*", "ovs_ofctl_dump_flows_*.txt"))
	if len(files) == 0 {
		t.Fatal("no dump-flows recordings")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		flows, err := ParseDumpFlows(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		lines := strings.Count(string(b), " actions=")
		if len(flows) != lines {
			t.Errorf("%s: %d flows of %d lines", f, len(flows), lines)
		}
		for _, fl := range flows {
			if fl.Actions == "" || fl.Cookie == "" || strings.Contains(fl.Match, "n_packets") || strings.Contains(fl.Match, "priority") {
				t.Errorf("%s: flow read wrong: %+v", f, fl)
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join("testdata", "lab", "ovs-healthy", "cmp1", "ovs_ofctl_dump_flows_br-tun.txt"))
	flows, _ := ParseDumpFlows(b)
	want := snapshot.OVSFlow{Table: 4, Priority: 1, Match: "tun_id=0x3", Actions: "mod_vlan_vid:1,resubmit(,10)", Cookie: "0x77ceb0f2ced8d021"}
	found := false
	for _, fl := range flows {
		if fl == want {
			found = true
		}
	}
	if !found {
		t.Errorf("no %+v in %+v", want, flows)
	}
	if flows[2].Priority != 0 || flows[2].Match != "" || flows[2].Actions != "drop" {
		t.Errorf("the catch-all drop read as %+v", flows[2])
	}
}

// TestParseDumpFlowsDefaultPriority: ovs-ofctl leaves out a priority that
// is OpenFlow's default, and a match-all flow prints no match.
func TestParseDumpFlowsDefaultPriority(t *testing.T) {
	in := "OFPST_FLOW reply (OF1.3) (xid=0x2):\n cookie=0x0, duration=1.5s, table=0, n_packets=0, n_bytes=0, in_port=1 actions=NORMAL\n cookie=0x0, duration=1.5s, table=3, n_packets=0, n_bytes=0, actions=drop\n"
	flows, err := ParseDumpFlows([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []snapshot.OVSFlow{{Table: 0, Priority: 32768, Match: "in_port=1", Actions: "NORMAL", Cookie: "0x0"}, {Table: 3, Priority: 32768, Actions: "drop", Cookie: "0x0"}}
	if len(flows) != 2 || flows[0] != want[0] || flows[1] != want[1] {
		t.Errorf("got %+v", flows)
	}
	if _, err := ParseDumpFlows([]byte("ovs-ofctl: br-tun is not a bridge or a socket\n")); err == nil {
		t.Error("an error message read as flows")
	}
}

// The traces under testdata/ofproto-trace are real ovs-vswitchd 3.1
// output: the lab's recorded br-int and br-tun flows of cmp1 (OVS
// flavour, healthy) loaded into bridges of the same ports on a dummy
// datapath, traced from the tunnel to ctl towards vm3's VIF; ctl-*, ctl's
// flows, traced from the DHCP port's tap to vm1's.
func TestParseTrace(t *testing.T) {
	read := func(n string) snapshot.OVSTrace {
		b, err := os.ReadFile(filepath.Join("testdata", "ofproto-trace", n))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := ParseTrace(b)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		return tr
	}
	ok := read("ping-delivered.txt")
	if ok.Dropped || ok.Drop != nil || ok.Actions != "ct(commit,zone=1),912" {
		t.Errorf("delivered ping: %+v", ok)
	}
	if len(ok.Steps) < 6 || ok.Steps[0].Bridge != "br-tun" || ok.Steps[0].Table != 0 || ok.Steps[0].Rule != "in_port=2, priority 1" ||
		ok.Steps[1].Actions[0] != "mod_vlan_vid:1" {
		t.Errorf("steps: %+v", ok.Steps)
	}
	// On ctl, from the DHCP port's own tap to vm1's: delivered.
	if local := read("ctl-local-ping-delivered.txt"); local.Dropped || local.Actions != "ct(commit,zone=1),1" || local.Steps[0].Bridge != "br-int" {
		t.Errorf("local ping: %+v", local)
	}
	gone := read("ping-vni-flow-deleted.txt")
	if !gone.Dropped || gone.Drop == nil || gone.Drop.Bridge != "br-tun" || gone.Drop.Table != 4 || gone.Drop.Rule != "priority 0" {
		t.Errorf("VNI flow deleted: %+v", gone)
	}
	// Dropped by the firewall's table 93 after conntrack: the drop is the
	// last pipeline's, not the untracked copy of table 81's ct().
	sg := read("tcp80-security-group-drop.txt")
	if !sg.Dropped || sg.Drop == nil || sg.Drop.Table != 93 || sg.Drop.Cookie != "0x596eaf699a678b41" {
		t.Errorf("security group drop: %+v", sg.Drop)
	}
	for _, bad := range []string{"", "Bad openflow flow syntax: in_port=nosuch: bad value for in_port\n", "garbage"} {
		if _, err := ParseTrace([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// TestTraceGolden pins what a trace keeps of the real output.
func TestTraceGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "ofproto-trace", "tcp80-security-group-drop.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ParseTrace(b)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(tr, "", "  ")
	got = append(got, '\n')
	golden := filepath.Join("testdata", "ofproto-trace", "tcp80-security-group-drop.golden.json")
	if *update {
		os.WriteFile(golden, got, 0o644)
		return
	}
	want, _ := os.ReadFile(golden)
	if !bytes.Equal(got, want) {
		t.Errorf("trace differs from golden:\n%s", got)
	}
}

// TestParseOVSBatch reads one ovs-vsctl run of OVSArgs (real output of
// ovs-vsctl 3.1 on bridges laid out as the lab's cmp1): ports with their
// tags, interfaces with their external_ids.
func TestParseOVSBatch(t *testing.T) {
	for _, tc := range []struct {
		file string
		tag  int
	}{{"cmp1-shape.json", 1}, {"cmp1-shape-dead-vlan.json", 4095}} {
		b, err := os.ReadFile(filepath.Join("testdata", "ovs", "batch", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		o, err := ParseOVSBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		var vif *snapshot.OVSPort
		for i := range o.Ports {
			if o.Ports[i].Name == "tap912cb252-38" {
				vif = &o.Ports[i]
			}
			if o.Ports[i].Name == "patch-tun" && o.Ports[i].Tag != nil {
				t.Errorf("patch-tun has a tag: %d", *o.Ports[i].Tag)
			}
		}
		if vif == nil || vif.Tag == nil || *vif.Tag != tc.tag {
			t.Errorf("%s: VIF port %+v", tc.file, vif)
		}
		var iface snapshot.OVSInterface
		for _, i := range o.Interfaces {
			if i.Name == "tap912cb252-38" {
				iface = i
			}
		}
		if iface.IfaceID != "912cb252-38e2-45a3-8ef9-64ba18537ad7" || iface.AttachedMAC != "fa:16:3e:5e:ed:13" {
			t.Errorf("%s: VIF interface %+v", tc.file, iface)
		}
		if len(o.Bridges) != 2 {
			t.Errorf("bridges %+v", o.Bridges)
		}
	}
	if _, err := ParseOVSBatch([]byte(`{"data":[],"headings":["name","ports"]}`)); err == nil {
		t.Error("one table of three accepted")
	}
}

func FuzzDumpFlows(f *testing.F) {
	fuzzSeeds(f, "ovs-ofctl")
	files, _ := filepath.Glob(filepath.Join("testdata", "lab", "ovs-healthy", "*", "ovs_ofctl_dump_flows_*.txt"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) { ParseDumpFlows(b) })
}

func FuzzTrace(f *testing.F) {
	fuzzSeeds(f, "ofproto-trace")
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ParseTrace(b)
		if err == nil && len(tr.Steps) > maxTraceSteps {
			t.Errorf("%d steps kept", len(tr.Steps))
		}
	})
}

func FuzzOVSBatch(f *testing.F) {
	fuzzSeeds(f, "ovs/batch")
	f.Fuzz(func(t *testing.T, b []byte) { ParseOVSBatch(b) })
}

// TestCollectOVS: Open vSwitch costs one ovs-vsctl, one dump-flows per
// bridge (br-int, br-tun) and one trace per packet asked for; a step the
// trace heads with the bridge it started on is put back on its bridge by
// its cookie.
func TestCollectOVS(t *testing.T) {
	read := func(p string) string { return td(t, p) }
	r := allCommands(t)
	r.Add(OVSArgs, read("ovs/batch/cmp1-shape.json"))
	r.Add(DumpFlowsArgs("br-int"), read("lab/ovs-healthy/cmp1/ovs_ofctl_dump_flows_br-int.txt"))
	r.Add(DumpFlowsArgs("br-tun"), read("ovs-ofctl/cmp1-br-tun-vni-flow-deleted.txt"))
	ping := "icmp,dl_src=fa:16:3e:3c:c0:97,dl_dst=fa:16:3e:5e:ed:13,nw_src=10.0.0.2,nw_dst=10.0.0.16,icmp_type=8,icmp_code=0"
	r.Add(TraceArgs("br-tun", "in_port=vxlan-c000020a,tun_id=0x3,"+ping), read("ofproto-trace/tcp80-security-group-drop.txt"))
	h := Collect(context.Background(), r, "cmp1", Options{Via: "replay", Traces: []TraceSpec{
		{Label: "ping", Packet: ping, FromTunnel: "192.0.2.10", VNI: 3},
		{Label: "from a port that is not there", Packet: ping, FromPort: "tapnothere-00"},
		{Label: "flat", Skip: "not traced yet"},
		{Label: "vlan", Packet: ping, FromBridge: "br-int", VLAN: 101},
	}})
	if u := r.Unexpected(); len(u) > 0 {
		t.Errorf("unexpected commands: %q", u)
	}
	o := h.OVS
	if o == nil {
		t.Fatalf("ovs not read: %s", h.OVSError)
	}
	if len(o.Flows) != 2 || o.Flows[0].Bridge != "br-int" || o.Flows[1].Bridge != "br-tun" {
		t.Fatalf("flows: %+v", o.Flows)
	}
	for _, f := range o.Flows[0].Flows {
		if f.Table != 0 {
			t.Errorf("br-int flow of table %d kept", f.Table)
		}
	}
	if len(o.Flows[1].Flows) != 25 {
		t.Errorf("br-tun: %d flows", len(o.Flows[1].Flows))
	}
	if len(o.Traces) != 4 || o.Traces[2].Error != "not traced yet" || o.Traces[2].Flow != "" || o.Traces[3].Error != "no physical port on br-int to trace from" {
		t.Fatalf("traces: %+v", o.Traces)
	}
	tr := o.Traces[0]
	if tr.Bridge != "br-tun" || !tr.Dropped || tr.Drop == nil || tr.Drop.Bridge != "br-int" || tr.Drop.Table != 93 {
		t.Errorf("trace: %+v drop %+v", tr, tr.Drop)
	}
	if o.Traces[1].Error != "no Open vSwitch port tapnothere-00 to trace from" || o.Traces[1].Flow != "" {
		t.Errorf("trace from a missing port: %+v", o.Traces[1])
	}
}

// TestPhysicalPort: a flat or VLAN network's packets come in by the NIC of
// the physical bridge: on the lab's ctl (OVS flavour), br-phy holds mgmt0;
// br-ex holds only its patch to br-int and its own port.
func TestPhysicalPort(t *testing.T) {
	o, err := ParseOVS([]byte(td(t, "lab/ovs-healthy/ctl/ovs_bridge.json")), []byte(td(t, "lab/ovs-healthy/ctl/ovs_port.json")), []byte(td(t, "lab/ovs-healthy/ctl/ovs_interface.json")))
	if err != nil {
		t.Fatal(err)
	}
	if got := physicalPort(o, "br-phy"); got != "mgmt0" {
		t.Errorf("br-phy: %q", got)
	}
	if got := physicalPort(o, "br-ex"); got != "" {
		t.Errorf("br-ex: %q", got)
	}
}
