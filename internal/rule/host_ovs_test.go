package rule

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// The Open vSwitch rules are tested over the lab's recorded Open vSwitch
// snapshot (examples/snapshots/ovs-tunnel-deleted.json: vm3 on cmp1, the
// DHCP and router ports on ctl), with cmp1's tunnel back, completed with
// what that older snapshot did not read yet, as the lab's healthy Open
// vSwitch hosts showed it (../host/testdata/lab/ovs-healthy): each port of
// the private network tagged with local VLAN 1, interfaces naming their
// Neutron port, and br-tun's recorded flows, whose VNI (3 in that run)
// the network's segment is set to.

const ovsVIF, ovsDHCPTap, ovsRouterTap = "tapb182e940-11", "tap93f0338d-79", "tap10baf1bb-68"

// exampleFile reads one of examples/snapshots/; it panics on error, as the
// table is built before any test runs.
func exampleFile(name string) *snapshot.Snapshot {
	f, err := os.Open(filepath.Join("..", "..", "examples", "snapshots", name+".json"))
	if err != nil {
		panic(err)
	}
	defer f.Close()
	s, err := snapshot.Read(f)
	if err != nil {
		panic(err)
	}
	return s
}

func recordedFlows(hostName, bridge string) []snapshot.OVSFlow {
	b, err := os.ReadFile(filepath.Join("..", "host", "testdata", "lab", "ovs-healthy", hostName, "ovs_ofctl_dump_flows_"+bridge+".txt"))
	if err != nil {
		panic(err)
	}
	flows, err := host.ParseDumpFlows(b)
	if err != nil {
		panic(err)
	}
	return flows
}

func ovsLab(s *snapshot.Snapshot) {
	*s = *exampleFile("ovs-tunnel-deleted")
	*s.Network(s.Ports[0].NetworkID).Provider.SegmentationID = 3
	byName := map[string]snapshot.Port{}
	for _, p := range slices.Concat(s.Ports, s.NetworkPorts) {
		byName[deviceName("tap", p.ID)] = p
	}
	for i := range s.Hosts {
		h := &s.Hosts[i]
		if h.Name == "cmp1" {
			h.OVS.Interfaces = append(h.OVS.Interfaces, snapshot.OVSInterface{Name: "vxlan-c000020a", Type: "vxlan", OFPort: 2, RemoteIP: "192.0.2.10", LocalIP: "192.0.2.11"})
			for j := range h.OVS.Bridges {
				if h.OVS.Bridges[j].Name == "br-tun" {
					h.OVS.Bridges[j].Ports = append(h.OVS.Bridges[j].Ports, "vxlan-c000020a")
				}
			}
		}
		for _, b := range h.OVS.Bridges {
			for _, name := range b.Ports {
				op := snapshot.OVSPort{Name: name}
				if p, ok := byName[name]; ok {
					op.Tag, op.NetUUID = ptr(1), p.NetworkID
				}
				h.OVS.Ports = append(h.OVS.Ports, op)
			}
		}
		for j := range h.OVS.Interfaces {
			if p, ok := byName[h.OVS.Interfaces[j].Name]; ok {
				h.OVS.Interfaces[j].IfaceID, h.OVS.Interfaces[j].AttachedMAC = p.ID, p.MACAddress
			}
		}
		h.OVS.Flows = []snapshot.OVSFlows{{Bridge: "br-tun", Flows: recordedFlows(h.Name, "br-tun")}}
	}
}

// setOVSPort changes a port of a host's Open vSwitch.
func setOVSPort(hostName, name string, f func(p *snapshot.OVSPort)) func(*snapshot.Snapshot) {
	return func(s *snapshot.Snapshot) { f(ovsPort(labHost(s, hostName), name)) }
}

// deleteFlows drops the br-tun flows of a host that match.
func deleteFlows(hostName string, match func(f snapshot.OVSFlow) bool) func(*snapshot.Snapshot) {
	return func(s *snapshot.Snapshot) {
		h := labHost(s, hostName)
		for i := range h.OVS.Flows {
			h.OVS.Flows[i].Flows = slices.DeleteFunc(h.OVS.Flows[i].Flows, match)
		}
	}
}

// vniFlow is br-tun's VXLAN → local VLAN flow of the private network.
func vniFlow(f snapshot.OVSFlow) bool { return f.Table == 4 && f.Match == "tun_id=0x3" }

// withTrace adds a recorded trace (real ovs-vswitchd output of the lab's
// flows, ../host/testdata/ofproto-trace) to cmp1.
func withTrace(file, label string) func(*snapshot.Snapshot) {
	return func(s *snapshot.Snapshot) {
		b, err := os.ReadFile(filepath.Join("..", "host", "testdata", "ofproto-trace", file))
		if err != nil {
			panic(err)
		}
		t, err := host.ParseTrace(b)
		if err != nil {
			panic(err)
		}
		t.Label, t.Bridge, t.Flow, t.Port = label, "br-tun", "in_port=vxlan-c000020a,tun_id=0x3,icmp", s.Ports[0].ID
		for i := range t.Steps {
			if t.Steps[i].Cookie == "0x596eaf699a678b41" {
				t.Steps[i].Bridge = "br-int" // as the collector does, by cookie
			}
		}
		if t.Drop != nil && t.Drop.Cookie == "0x596eaf699a678b41" {
			t.Drop.Bridge = "br-int"
		}
		h := labHost(s, "cmp1")
		h.OVS.Traces = append(h.OVS.Traces, t)
	}
}

func ovsCases() []ruleCase {
	return []ruleCase{
		{
			name:   "ovs: vm3's VIF on the dead VLAN",
			mutate: then(ovsLab, setOVSPort("cmp1", ovsVIF, func(p *snapshot.OVSPort) { p.Tag = ptr(4095) })),
			want: []expect{{rule: "host/ovs-dead-vlan", severity: Error,
				summary:  []string{ovsVIF + " (the VIF of port", "on cmp1 is on Open vSwitch's dead VLAN 4095"},
				evidence: []string{"Port " + ovsVIF + ": tag 4095", "admin_state_up true, status ACTIVE"},
				fix:      []string{"systemctl restart neutron-openvswitch-agent   # on host cmp1"}}},
			absent: []string{"host/ovs-tag-mismatch", "host/ovs-flow-missing"},
			first:  "host/ovs-dead-vlan",
		},
		{
			// The agent moves an admin-down port to the dead VLAN (the lab's
			// port-admin-down recording shows it): the port's state is the cause.
			name: "ovs: dead VLAN of an admin-down port follows from it",
			mutate: then(ovsLab, setOVSPort("cmp1", ovsVIF, func(p *snapshot.OVSPort) { p.Tag = ptr(4095) }),
				func(s *snapshot.Snapshot) { s.Ports[0].AdminStateUp = false }),
			want:  []expect{{rule: "host/ovs-dead-vlan", severity: Info, summary: []string{"it follows from port/admin-down"}}},
			first: "port/admin-down",
		},
		{
			name:   "ovs: the DHCP port on another local VLAN",
			mutate: then(ovsLab, setOVSPort("ctl", ovsDHCPTap, func(p *snapshot.OVSPort) { p.Tag = ptr(2) })),
			want: []expect{{rule: "host/ovs-tag-mismatch", severity: Error,
				summary:  []string{"Open vSwitch on ctl does not wire network private as one: the ports are on different local VLANs: " + ovsRouterTap + " on VLAN 1; " + ovsDHCPTap + " on VLAN 2"},
				evidence: []string{"Port " + ovsDHCPTap + " (the root end of", "tag 2"}}},
			first: "host/ovs-tag-mismatch",
		},
		{
			name: "ovs: a port without a tag, an interface naming another port",
			mutate: then(ovsLab, setOVSPort("ctl", ovsRouterTap, func(p *snapshot.OVSPort) { p.Tag = nil }), func(s *snapshot.Snapshot) {
				ovsInterface(labHost(s, "cmp1"), ovsVIF).IfaceID = "00000000-0000-0000-0000-000000000000"
			}),
			want: []expect{
				{rule: "host/ovs-tag-mismatch", severity: Error, summary: []string{ovsRouterTap + " has no local VLAN tag"}},
				{rule: "host/ovs-tag-mismatch", severity: Error,
					summary: []string{ovsVIF + "'s external_ids:iface-id is 00000000-0000-0000-0000-000000000000, not the port's ID b182e940-11c5-4551-a67f-bd4ab3b3e3a6"},
					fix:     []string{"ovs-vsctl set Interface " + ovsVIF + " external_ids:iface-id=b182e940-11c5-4551-a67f-bd4ab3b3e3a6   # on host cmp1"}},
			},
		},
		{
			name:   "ovs: br-tun's VNI flow deleted on cmp1",
			mutate: then(ovsLab, deleteFlows("cmp1", vniFlow)),
			want: []expect{{rule: "host/ovs-flow-missing", severity: Error,
				summary:  []string{"br-tun on cmp1 has no flow translating network private from VNI 3 to local VLAN 1 (table 4): packets from the other hosts are dropped"},
				evidence: []string{"br-tun table 4, priority 0, any: drop"},
				fix:      []string{"systemctl restart neutron-openvswitch-agent   # on host cmp1: it reinstalls br-tun's flows"}}},
			absent: []string{"host/ovs-dead-vlan", "host/ovs-tag-mismatch"},
			first:  "host/ovs-flow-missing",
		},
		{
			name:   "ovs: br-tun's way back to the tunnels deleted on ctl",
			mutate: then(ovsLab, deleteFlows("ctl", func(f snapshot.OVSFlow) bool { return strings.Contains(f.Actions, "load:0x3->NXM_NX_TUN_ID[]") })),
			want: []expect{{rule: "host/ovs-flow-missing", severity: Error,
				summary: []string{"br-tun on ctl has no flow translating network private from local VLAN 1 to VNI 3: packets to the other hosts are dropped"}}},
		},
		{
			// The trace of the lab's flows with the VNI flow deleted: the
			// missing flow is the cause, the trace's drop in table 4 follows.
			name:   "ovs: the traced ping dies in br-tun's table 4, the missing flow first",
			mutate: then(ovsLab, deleteFlows("cmp1", vniFlow), withTrace("ping-vni-flow-deleted.txt", "ping from the DHCP port 10.0.0.2")),
			want: []expect{{rule: "host/trace-drop", severity: Info,
				summary: []string{"Open vSwitch on cmp1 drops the ping from the DHCP port 10.0.0.2 in br-tun table 4 (VXLAN to local VLAN), flow \"priority 0\"", "it follows from host/ovs-flow-missing"}}},
			first: "host/ovs-flow-missing",
		},
		{
			name:   "ovs: a traced drop with no other finding is the finding",
			mutate: then(ovsLab, withTrace("ping-vni-flow-deleted.txt", "ping from the DHCP port 10.0.0.2")),
			want: []expect{{rule: "host/trace-drop", severity: Error,
				summary:  []string{"drops the ping from the DHCP port 10.0.0.2 in br-tun table 4 (VXLAN to local VLAN)"},
				evidence: []string{"ovs-appctl ofproto/trace br-tun in_port=vxlan-c000020a,tun_id=0x3,icmp", "br-tun table 4: priority 0 → drop", "datapath actions: drop"}}},
			first: "host/trace-drop",
		},
		{
			// tcp/80 is admitted by no rule of lab-sg: the firewall's table 93
			// drops it, and the security group is the cause.
			name:   "ovs: a --check flow the security groups drop",
			mutate: then(ovsLab, withTrace("tcp80-security-group-drop.txt", "tcp/80 from 203.0.113.0/24")),
			checks: []string{"tcp/80"},
			froms:  []string{"203.0.113.0/24"},
			want: []expect{{rule: "host/trace-drop", severity: Info,
				summary: []string{"in br-int table 93 (dropped by the firewall)", "it follows from security-group/ingress-missing"}}},
			first: "security-group/ingress-missing",
		},
		{
			// A packet that could not be traced is said so, never passed.
			name: "ovs: a trace that could not run",
			mutate: then(ovsLab, func(s *snapshot.Snapshot) {
				h := labHost(s, "cmp1")
				h.OVS.Traces = append(h.OVS.Traces, snapshot.OVSTrace{Label: "ping from the DHCP port 10.0.0.2", Error: "no tunnel port to 192.0.2.10 to trace from"})
			}),
			absent:  []string{"host/trace-drop"},
			skipped: []string{"host/trace-drop"},
		},
		{
			name: "l2pop: ctl lost cmp1's forwarding entries",
			mutate: then(func(s *snapshot.Snapshot) { *s = *exampleFile("serial-listen-loopback") }, func(s *snapshot.Snapshot) {
				h := labHost(s, "ctl")
				h.FDB = slices.DeleteFunc(h.FDB, func(e snapshot.FDBEntry) bool { return e.Dst == "192.0.2.11" })
			}),
			want: []expect{{rule: "host/l2pop-entry-missing", severity: Error,
				summary:  []string{"vxlan-427 on ctl lacks the flood entry of that VTEP for peer cmp1 (192.0.2.11, with ports on network private): ctl sends it nothing"},
				evidence: []string{"missing on vxlan-427: 00:00:00:00:00:00, fa:16:3e:5e:ed:13 dst 192.0.2.11", "entries of vxlan-427 with a remote: none"},
				fix:      []string{"systemctl restart neutron-linuxbridge-agent   # on host ctl", "bridge fdb append 00:00:00:00:00:00 dev vxlan-427 dst 192.0.2.11   # on host ctl: or by hand"}}},
		},
	}
}

func init() {
	ruleCases = append(ruleCases, ovsCases()...)
}

// TestOVSLabHealthy: the Open vSwitch fixture as recorded raises none of
// the Open vSwitch rules, nor l2population's on the Linux bridge lab.
func TestOVSLabHealthy(t *testing.T) {
	for name, load := range map[string]func(*snapshot.Snapshot){
		"ovs":            ovsLab,
		"lb vm3":         func(s *snapshot.Snapshot) { *s = *exampleFile("serial-listen-loopback") },
		"lb vm1":         func(s *snapshot.Snapshot) { *s = *exampleFile("healthy") },
		"delivered ping": then(ovsLab, withTrace("ping-delivered.txt", "ping")),
	} {
		s := &snapshot.Snapshot{}
		load(s)
		res := Evaluate(&Input{Snapshot: s}, Options{})
		for _, f := range res.Findings {
			switch f.Rule {
			case "host/ovs-dead-vlan", "host/ovs-tag-mismatch", "host/ovs-flow-missing", "host/trace-drop", "host/l2pop-entry-missing":
				t.Errorf("%s: %s: %s", name, f.Rule, f.Summary)
			}
		}
		for _, sk := range res.Skipped {
			if strings.Contains(sk.Rule, "ovs-") || sk.Rule == "host/trace-drop" || sk.Rule == "host/l2pop-entry-missing" {
				t.Errorf("%s: skipped %s: %s", name, sk.Rule, sk.Reason)
			}
		}
	}
}

// TestL2PopIdleHostNoFault: a peer agent whose host has no port on the
// network is no peer of it: its missing entries are no fault.
func TestL2PopIdleHostNoFault(t *testing.T) {
	s := exampleFile("serial-listen-loopback")
	s.Agents = append(s.Agents, snapshot.Agent{ID: "idle", AgentType: snapshot.AgentTypeLinuxBridge, Host: "cmp2", Alive: true, AdminStateUp: true,
		TunnelingIP: "192.0.2.12", TunnelTypes: []string{"vxlan"}, Configurations: []byte(`{"l2_population": true}`)})
	for _, f := range Evaluate(&Input{Snapshot: s}, Options{}).Findings {
		if f.Rule == "host/l2pop-entry-missing" {
			t.Errorf("idle cmp2: %s", f.Summary)
		}
	}
}

// TestSELinuxDenialFirst: the second seed's story on the shipped example
// snapshots. On ctl, an SELinux denial (selinux-evidence), the l3 agent's
// RTNETLINK errors (agent-log-error's log lines) and router1's qr- device
// gone (qr-device-deleted's namespace): the denial ranks first, the others
// say they follow from it. In permissive mode the denial explains nothing.
func TestSELinuxDenialFirst(t *testing.T) {
	load := func(mode string) []Finding {
		s := exampleFile("selinux-evidence")
		ctl := labHost(s, "ctl")
		ctl.LogErrors = labHost(exampleFile("agent-log-error"), "ctl").LogErrors
		qr := "qr-" + s.NetworkPorts[slices.IndexFunc(s.NetworkPorts, func(p snapshot.Port) bool { return p.DeviceOwner == "network:router_interface" })].ID[:11]
		for i := range ctl.Namespaces {
			ctl.Namespaces[i].Links = slices.DeleteFunc(ctl.Namespaces[i].Links, func(l snapshot.Link) bool { return l.Name == qr })
		}
		ctl.SELinux.Mode = mode
		if mode == "Permissive" {
			for i := range ctl.SELinux.AVCs {
				ctl.SELinux.AVCs[i].Permissive = true
			}
		}
		return Evaluate(&Input{Snapshot: s}, Options{}).Findings
	}
	fs := load("Enforcing")
	if len(fs) == 0 || fs[0].Rule != "host/selinux-denial" || fs[0].Severity != Error {
		t.Fatalf("first: %+v", fs)
	}
	for _, want := range []string{"host/agent-log-error", "host/router-interface-missing"} {
		i := slices.IndexFunc(fs, func(f Finding) bool { return f.Rule == want })
		if i < 0 || fs[i].CausedBy != "host/selinux-denial" || fs[i].Severity != Info || !strings.Contains(fs[i].Summary, "it follows from host/selinux-denial") {
			t.Errorf("%s: %+v", want, fs)
		}
	}
	for _, f := range load("Permissive") {
		if f.CausedBy == "host/selinux-denial" {
			t.Errorf("a permissive denial explains %s", f.Rule)
		}
	}
}

// TestDeviceBeforeProbe: on the shipped vif-down and vif-detached
// snapshots, with the probe's "unreachable" added as --probe records it,
// the device ranks first and the probe follows from it.
func TestDeviceBeforeProbe(t *testing.T) {
	for name, first := range map[string]string{"vif-down": "host/device-down", "vif-detached": "host/vif-detached"} {
		s := exampleFile(name)
		ctl := labHost(s, "ctl")
		ctl.Probed = true
		ctl.Probes = []snapshot.Probe{{Namespace: "qdhcp-" + s.Ports[0].NetworkID, Target: s.Ports[0].FixedIPs[0].IPAddress,
			Output: "2 packets transmitted, 0 received, 100% packet loss, time 1017ms"}}
		fs := Evaluate(&Input{Snapshot: s}, Options{}).Findings
		if len(fs) == 0 || fs[0].Rule != first {
			t.Errorf("%s: first %+v", name, fs)
		}
		i := slices.IndexFunc(fs, func(f Finding) bool { return f.Rule == "host/instance-unreachable-from-dhcp-namespace" })
		if i < 0 || fs[i].CausedBy != first {
			t.Errorf("%s: the probe's finding: %+v", name, fs)
		}
	}
}

// TestLabVNIFlowDeleted: the Open vSwitch lab with cmp1's VNI flow deleted
// for real (lab/fault.sh ovs-vni-flow-deleted, collected with --hosts):
// the missing flow first; the real ofproto/trace of the default ping from
// the tunnel died in br-tun's table 4, and follows from it.
func TestLabVNIFlowDeleted(t *testing.T) {
	fs := Evaluate(&Input{Snapshot: exampleFile("ovs-vni-flow-deleted")}, Options{}).Findings
	if len(fs) == 0 || fs[0].Rule != "host/ovs-flow-missing" {
		t.Fatalf("first: %+v", fs)
	}
	i := slices.IndexFunc(fs, func(f Finding) bool { return f.Rule == "host/trace-drop" })
	if i < 0 || fs[i].CausedBy != "host/ovs-flow-missing" || !strings.Contains(fs[i].Summary, "in br-tun table 4 (VXLAN to local VLAN)") {
		t.Errorf("trace-drop: %+v", fs)
	}
}
