package pipeline

import (
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot/snapshottest"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

func example(t *testing.T, name string) *snapshot.Snapshot {
	return snapshottest.Example(t, name)
}

// TestTraceTargets: on the Open vSwitch lab (vm3 on cmp1, DHCP and router
// on ctl), the ping and a --check flow are traced on cmp1 from the tunnel
// to ctl with the network's VNI; on ctl, vm1's DHCP port is local and the
// packet enters by its tap; a flow from anywhere comes from the router's
// gateway address.
func TestTraceTargets(t *testing.T) {
	s := example(t, "ovs-tunnel-deleted")
	flows, err := rule.ParseFlows([]string{"tcp/22", "udp/53"}, []string{"0.0.0.0/0", "2001:db8::/64"})
	if err != nil {
		t.Fatal(err)
	}
	got := TraceTargets(s, flows[:1])
	want := []host.TraceSpec{
		{Label: "ping from the DHCP port 10.0.0.2", Port: s.Ports[0].ID, FromTunnel: "192.0.2.10", VNI: 852,
			Packet: "icmp,dl_src=fa:16:3e:67:b7:2b,dl_dst=fa:16:3e:5e:ed:13,nw_src=10.0.0.2,nw_dst=10.0.0.161,icmp_type=8,icmp_code=0"},
		{Label: "tcp/22 from 0.0.0.0/0 through router router1", Port: s.Ports[0].ID, FromTunnel: "192.0.2.10", VNI: 852,
			Packet: "tcp,tp_dst=22,dl_src=fa:16:3e:d0:44:03,dl_dst=fa:16:3e:5e:ed:13,nw_src=172.24.4.87,nw_dst=10.0.0.161"},
	}
	if len(got) != 1 || len(got["cmp1"]) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got["cmp1"][i] != want[i] {
			t.Errorf("trace %d:\n got %+v\nwant %+v", i, got["cmp1"][i], want[i])
		}
	}
	// From a prefix: its first host.
	from24, _ := rule.ParseFlows([]string{"tcp/80"}, []string{"203.0.113.0/24"})
	if ts := TraceTargets(s, from24)["cmp1"]; len(ts) != 2 || !strings.Contains(ts[1].Packet, ",nw_src=203.0.113.1,") {
		t.Errorf("from a /24: %+v", ts)
	}
	// An IPv6 flow is said not traced.
	got = TraceTargets(s, flows[1:2])
	if ts := got["cmp1"]; len(ts) != 2 || ts[1].Skip != "IPv6 flows are not traced yet" {
		t.Errorf("IPv6: %+v", ts)
	}
	// The sender on the server's own host: the packet enters by its tap.
	for i := range s.NetworkPorts {
		s.NetworkPorts[i].BindingHostID = "cmp1"
	}
	got = TraceTargets(s, nil)
	if ts := got["cmp1"]; len(ts) != 1 || ts[0].FromPort != "tap93f0338d-79" || ts[0].FromTunnel != "" {
		t.Errorf("local DHCP port: %+v", ts)
	}
	// A flat or VLAN network's packets from another host come in by the
	// NIC of the physical bridge the agent maps its physical network to.
	for i := range s.NetworkPorts {
		s.NetworkPorts[i].BindingHostID = "ctl"
	}
	s.Networks[0].Provider = &snapshot.Provider{NetworkType: "flat", PhysicalNetwork: "physnet1"}
	if ts := TraceTargets(s, nil)["cmp1"]; len(ts) != 1 || ts[0].Skip != "the Open vSwitch agent on cmp1 maps no bridge to physical network physnet1" {
		t.Errorf("flat, unmapped: %+v", ts)
	}
	for i := range s.Agents {
		if s.Agents[i].Host == "cmp1" && s.Agents[i].AgentType == snapshot.AgentTypeOVS {
			s.Agents[i].Configurations = []byte(`{"bridge_mappings": {"physnet1": "br-phys"}}`)
		}
	}
	s.Networks[0].Provider = &snapshot.Provider{NetworkType: "vlan", PhysicalNetwork: "physnet1", SegmentationID: ptr(101)}
	if ts := TraceTargets(s, nil)["cmp1"]; len(ts) != 1 || ts[0].FromBridge != "br-phys" || ts[0].VLAN != 101 || ts[0].Skip != "" || ts[0].FromTunnel != "" {
		t.Errorf("vlan: %+v", ts)
	}
}

func ptr[T any](v T) *T { return &v }
