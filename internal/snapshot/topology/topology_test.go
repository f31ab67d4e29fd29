package topology

import (
	"slices"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot/snapshottest"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

func example(t *testing.T, name string) *snapshot.Snapshot {
	return snapshottest.Example(t, name)
}

func ip(subnet, addr string) snapshot.FixedIP {
	return snapshot.FixedIP{SubnetID: subnet, IPAddress: addr}
}

// world: a server with two ports on two networks; net-a has an HA router
// (active on net1, standby on net2) and a second router on another subnet
// of the same network; net-b has a router that is not in the snapshot and
// a DHCP agent on net2.
func world() *snapshot.Snapshot {
	return &snapshot.Snapshot{
		Server: &snapshot.Server{ID: "srv", Host: "cmp1"},
		Ports: []snapshot.Port{
			{ID: "p1", NetworkID: "net-a", BindingHostID: "cmp1", FixedIPs: []snapshot.FixedIP{ip("sub-a", "10.0.0.5")}},
			{ID: "p2", NetworkID: "net-b", BindingHostID: "cmp2", FixedIPs: []snapshot.FixedIP{ip("sub-b", "10.1.0.5"), ip("sub-b", "10.1.0.6")}},
		},
		Networks: []snapshot.Network{{ID: "net-a"}, {ID: "net-b"}},
		Subnets:  []snapshot.Subnet{{ID: "sub-a", NetworkID: "net-a"}, {ID: "sub-b", NetworkID: "net-b"}},
		NetworkPorts: []snapshot.Port{
			{ID: "dhcp-a", NetworkID: "net-a", DeviceOwner: snapshot.OwnerDHCP, FixedIPs: []snapshot.FixedIP{ip("sub-a", "10.0.0.2")}},
			{ID: "meta-a", NetworkID: "net-a", DeviceOwner: "network:distributed"},
			{ID: "ri-ha", NetworkID: "net-a", DeviceOwner: "network:ha_router_replicated_interface", DeviceID: "r-ha", FixedIPs: []snapshot.FixedIP{ip("sub-a", "10.0.0.1")}},
			{ID: "ri-other", NetworkID: "net-a", DeviceOwner: "network:router_interface", DeviceID: "r-other", FixedIPs: []snapshot.FixedIP{ip("sub-a2", "10.0.9.1")}},
			{ID: "ri-gone", NetworkID: "net-b", DeviceOwner: "network:router_interface", DeviceID: "r-gone", FixedIPs: []snapshot.FixedIP{ip("sub-b", "10.1.0.1")}},
		},
		Routers: []snapshot.Router{{ID: "r-ha", ExternalGateway: &snapshot.ExternalGateway{NetworkID: "ext"}}, {ID: "r-other"}},
		FloatingIPs: []snapshot.FloatingIP{
			{ID: "fip1", PortID: "p1", FloatingIPAddress: "203.0.113.5"},
			{ID: "fip2", PortID: "elsewhere"},
		},
		Agents: []snapshot.Agent{
			{ID: "l3-1", AgentType: snapshot.AgentTypeL3, Host: "net1"},
			{ID: "l3-2", AgentType: snapshot.AgentTypeL3, Host: "net2"},
			{ID: "dhcp-2", AgentType: snapshot.AgentTypeDHCP, Host: "net2"},
			{ID: "meta-1", AgentType: snapshot.AgentTypeMetadata, Host: "net1"},
			{ID: "lb-c", AgentType: snapshot.AgentTypeLinuxBridge, Host: "cmp1"},
		},
		DHCPAgents: map[string][]string{"net-b": {"dhcp-2", "unknown-agent"}},
		L3Agents: map[string][]snapshot.L3Hosting{
			"r-ha": {{AgentID: "l3-1", HAState: "active"}, {AgentID: "l3-2", HAState: "standby"}},
		},
	}
}

func TestNew(t *testing.T) {
	v := New(world())
	if len(v.Ports) != 2 {
		t.Fatalf("ports: %d", len(v.Ports))
	}
	a, b := v.Ports[0], v.Ports[1]
	if a.Network == nil || a.Network.ID != "net-a" || len(a.Subnets) != 1 || a.Subnets[0].ID != "sub-a" {
		t.Errorf("port a: network %v subnets %+v", a.Network, a.Subnets)
	}
	if len(b.Subnets) != 1 {
		t.Errorf("port b lists its subnet once per address: %+v", b.Subnets)
	}
	// network:distributed (OVN's metadata port) is no DHCP port.
	if len(a.DHCPPorts) != 1 || a.DHCPPorts[0].ID != "dhcp-a" || len(b.DHCPPorts) != 0 {
		t.Errorf("DHCP ports: %v / %v", a.DHCPPorts, b.DHCPPorts)
	}
	// Only routers on the port's subnets: r-other is on another subnet.
	if len(a.Routers) != 1 || a.Routers[0].ID != "r-ha" || a.Routers[0].Address != "10.0.0.1" || a.Routers[0].Gateway().NetworkID != "ext" {
		t.Errorf("port a routers: %+v", a.Routers)
	}
	if got := a.Routers[0].L3Hosts(); !slices.Equal(got, []string{"net1"}) {
		t.Errorf("active L3 hosts: %v", got)
	}
	if len(b.Routers) != 1 || b.Routers[0].Router != nil || b.Routers[0].Gateway() != nil {
		t.Errorf("a router not in the snapshot: %+v", b.Routers)
	}
	if len(v.Routers) != 2 || v.Routers[0].ID != "r-ha" || v.Routers[1].ID != "r-gone" {
		t.Errorf("server routers: %+v", v.Routers)
	}
	if len(a.FloatingIPs) != 1 || a.FloatingIPs[0].ID != "fip1" {
		t.Errorf("floating IPs: %+v", a.FloatingIPs)
	}
	var got []string
	for _, h := range v.Hosts {
		got = append(got, h.Name)
		for _, r := range h.Roles {
			got = append(got, "  "+string(r))
		}
	}
	want := []string{"cmp1", "  compute", "cmp2", "  compute", "net2", "  dhcp", "  l3-standby", "net1", "  l3", "  metadata"}
	if !slices.Equal(got, want) {
		t.Errorf("hosts:\n got %q\nwant %q", got, want)
	}
	if h := v.Host("cmp1"); h == nil || len(h.Agents) != 1 || h.Agents[0].ID != "lb-c" {
		t.Errorf("cmp1's agents: %+v", h)
	}
	if got := DHCPHosts(world(), "net-b"); !slices.Equal(got, []string{"net2"}) {
		t.Errorf("DHCP hosts: %v", got)
	}
}

// TestLabHealthy: the lab's healthy snapshot, one host playing every role.
func TestLabHealthy(t *testing.T) {
	v := New(example(t, "healthy"))
	if len(v.Hosts) != 1 || v.Hosts[0].Name != "ctl" || !slices.Equal(v.Hosts[0].RoleNames(), []string{"compute", "dhcp", "l3", "metadata"}) {
		t.Errorf("hosts: %+v", v.Hosts)
	}
	if len(v.Routers) != 1 || v.Routers[0].Router == nil || v.Routers[0].Router.Name != "router1" {
		t.Errorf("routers: %+v", v.Routers)
	}
}

func TestEmpty(t *testing.T) {
	v := New(&snapshot.Snapshot{})
	if len(v.Ports)+len(v.Routers)+len(v.Hosts) != 0 {
		t.Errorf("%+v", v)
	}
}
