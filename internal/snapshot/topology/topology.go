// Package topology derives, once and purely, what a snapshot's lists mean for
// the server: for each of its ports the subnets, DHCP ports, router legs,
// gateways and floating IPs on its path, and the hosts that serve it, by
// role, with their agents. Rules, the path view and the choice of hosts to
// check all read this one derivation: when each derived it on its own, the
// copies disagreed (which routers serve the server, which hosts run DHCP).
package topology

import (
	"slices"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// View is the derived view of one snapshot.
type View struct {
	// Ports are the server's ports, in the order Neutron lists them.
	Ports []Port
	// Routers are the routers with an interface on the server's subnets,
	// each once, by its first leg in port and subnet order.
	Routers []RouterLeg
	// Hosts serve the server, in the order they were found: its compute
	// host, then the DHCP agents' hosts, then the L3 agents' hosts.
	Hosts []Host
}

// Port is one of the server's ports and what its path goes through.
type Port struct {
	*snapshot.Port
	// Network is nil when the network is not in the snapshot.
	Network *snapshot.Network
	// Subnets are the subnets of the port's fixed IPs, each once, in order.
	Subnets []Subnet
	// DHCPPorts are the network's DHCP ports (device_owner network:dhcp).
	DHCPPorts []snapshot.Port
	// Routers are the legs of routers on the port's subnets: one per router
	// and subnet, in subnet order.
	Routers []RouterLeg
	// FloatingIPs are associated with the port.
	FloatingIPs []*snapshot.FloatingIP
}

// Subnet is a subnet on a port's path; Subnet is nil when it is not in the
// snapshot.
type Subnet struct {
	ID string
	*snapshot.Subnet
}

// RouterLeg is a router's interface on one of the server's subnets.
type RouterLeg struct {
	// ID is the router's; Router is nil when it is not in the snapshot.
	ID     string
	Router *snapshot.Router
	// SubnetID is the subnet the leg is on; Subnet is nil when it is not in
	// the snapshot.
	SubnetID string
	Subnet   *snapshot.Subnet
	// Port is the router's interface port; Address its IP on the subnet.
	Port    snapshot.Port
	Address string
	// Hostings are the L3 agents hosting the router, active or standby.
	Hostings []Hosting
}

// Gateway is the router's external gateway, nil when it has none or the
// router is not in the snapshot.
func (l RouterLeg) Gateway() *snapshot.ExternalGateway {
	if l.Router == nil {
		return nil
	}
	return l.Router.ExternalGateway
}

// Hosting is an L3 agent hosting a router.
type Hosting struct {
	snapshot.L3Hosting
	// Agent is nil when the agent is not in the agent list.
	Agent *snapshot.Agent
}

// Active reports a hosting that routes: any agent of a router that is not
// HA, the active one of an HA router.
func (h Hosting) Active() bool { return h.HAState == "" || h.HAState == "active" }

// Role is what a host does for the server.
type Role string

// The roles of the hosts that serve a server. Their names are recorded in
// snapshots (snapshot.Host.Roles) and never change.
const (
	RoleCompute   Role = "compute"
	RoleDHCP      Role = "dhcp"
	RoleL3        Role = "l3"
	RoleL3Standby Role = "l3-standby"
	RoleMetadata  Role = "metadata"
	// RoleOVNGateway is an ML2/OVN gateway chassis (an OVN Controller
	// Gateway agent's host) of a cloud where the server has a routed
	// gateway: it carries the router's external port.
	RoleOVNGateway Role = "ovn-gateway"
)

// AgentTypeOVNGateway is the agent ML2/OVN registers for a chassis that
// can carry routers' gateway ports.
const AgentTypeOVNGateway = "OVN Controller Gateway agent"

// Host is a host that serves the server.
type Host struct {
	Name  string
	Roles []Role
	// Agents are the Neutron agents registered on the host.
	Agents []*snapshot.Agent
}

// Has reports whether the host plays the role.
func (h Host) Has(r Role) bool { return slices.Contains(h.Roles, r) }

// RoleNames are the roles as the snapshot records them.
func (h Host) RoleNames() []string {
	out := make([]string, len(h.Roles))
	for i, r := range h.Roles {
		out[i] = string(r)
	}
	return out
}

// New derives the view of s.
func New(s *snapshot.Snapshot) *View {
	v := &View{}
	seen := map[string]bool{}
	for i := range s.Ports {
		p := port(s, &s.Ports[i])
		for _, l := range p.Routers {
			if !seen[l.ID] {
				seen[l.ID] = true
				v.Routers = append(v.Routers, l)
			}
		}
		v.Ports = append(v.Ports, p)
	}
	v.Hosts = hosts(s, v)
	return v
}

func port(s *snapshot.Snapshot, p *snapshot.Port) Port {
	out := Port{Port: p, Network: s.Network(p.NetworkID)}
	for _, f := range p.FixedIPs {
		if !slices.ContainsFunc(out.Subnets, func(sn Subnet) bool { return sn.ID == f.SubnetID }) {
			out.Subnets = append(out.Subnets, Subnet{ID: f.SubnetID, Subnet: s.Subnet(f.SubnetID)})
		}
	}
	out.DHCPPorts = DHCPPorts(s, p.NetworkID)
	// Legs in the order of the port's subnets, each router once.
	for _, sn := range out.Subnets {
		for _, rp := range s.NetworkPortsByOwner(p.NetworkID, snapshot.RouterInterfaceOwners...) {
			addr := addressOn(rp, sn.ID)
			if addr == "" || slices.ContainsFunc(out.Routers, func(l RouterLeg) bool { return l.ID == rp.DeviceID && l.SubnetID == sn.ID }) {
				continue
			}
			out.Routers = append(out.Routers, RouterLeg{
				ID: rp.DeviceID, Router: s.Router(rp.DeviceID),
				SubnetID: sn.ID, Subnet: sn.Subnet,
				Port: rp, Address: addr,
				Hostings: Hostings(s, rp.DeviceID),
			})
		}
	}
	for i := range s.FloatingIPs {
		if s.FloatingIPs[i].PortID == p.ID {
			out.FloatingIPs = append(out.FloatingIPs, &s.FloatingIPs[i])
		}
	}
	return out
}

func addressOn(p snapshot.Port, subnetID string) string {
	for _, f := range p.FixedIPs {
		if f.SubnetID == subnetID {
			return f.IPAddress
		}
	}
	return ""
}

// Hostings returns the L3 agents hosting a router.
func Hostings(s *snapshot.Snapshot, routerID string) []Hosting {
	var out []Hosting
	for _, h := range s.L3Agents[routerID] {
		out = append(out, Hosting{L3Hosting: h, Agent: s.Agent(h.AgentID)})
	}
	return out
}

// hosts finds the hosts that serve the server: its compute host (and the
// hosts its ports are bound to), the DHCP agents' hosts of its networks,
// the L3 agents' hosts of its routers, active and standby, and on ML2/OVN
// the gateway chassis of its routed gateway; a host of
// any of these that runs a metadata agent serves metadata too.
func hosts(s *snapshot.Snapshot, v *View) []Host {
	var out []Host
	add := func(name string, r Role) {
		if name == "" {
			return
		}
		i := slices.IndexFunc(out, func(h Host) bool { return h.Name == name })
		if i < 0 {
			out = append(out, Host{Name: name})
			i = len(out) - 1
		}
		if !out[i].Has(r) {
			out[i].Roles = append(out[i].Roles, r)
		}
	}
	if s.Server != nil {
		add(s.Server.Host, RoleCompute)
	}
	for _, p := range v.Ports {
		add(p.BindingHostID, RoleCompute)
	}
	for _, p := range v.Ports {
		for _, h := range DHCPHosts(s, p.NetworkID) {
			add(h, RoleDHCP)
		}
	}
	for _, l := range v.Routers {
		for _, h := range l.Hostings {
			if h.Agent == nil {
				continue
			}
			if h.Active() {
				add(h.Agent.Host, RoleL3)
			} else {
				add(h.Agent.Host, RoleL3Standby)
			}
		}
	}
	if slices.ContainsFunc(v.Routers, func(l RouterLeg) bool { return l.Gateway() != nil }) {
		for _, a := range s.Agents {
			if a.AgentType == AgentTypeOVNGateway {
				add(a.Host, RoleOVNGateway)
			}
		}
	}
	for i := range out {
		for j := range s.Agents {
			a := &s.Agents[j]
			if a.Host != out[i].Name {
				continue
			}
			out[i].Agents = append(out[i].Agents, a)
			if a.AgentType == snapshot.AgentTypeMetadata || a.AgentType == snapshot.AgentTypeOVNMetadata {
				if !out[i].Has(RoleMetadata) {
					out[i].Roles = append(out[i].Roles, RoleMetadata)
				}
			}
		}
	}
	return out
}

// DHCPPorts returns a network's DHCP ports: device_owner network:dhcp only
// (OVN's metadata port, network:distributed, serves no DHCP).
func DHCPPorts(s *snapshot.Snapshot, networkID string) []snapshot.Port {
	return s.NetworkPortsByOwner(networkID, snapshot.OwnerDHCP)
}

// DHCPHosts returns the hosts of the DHCP agents hosting a network, each
// once, in the order Neutron lists the agents.
func DHCPHosts(s *snapshot.Snapshot, networkID string) []string {
	var out []string
	for _, id := range s.DHCPAgents[networkID] {
		if a := s.Agent(id); a != nil && !slices.Contains(out, a.Host) {
			out = append(out, a.Host)
		}
	}
	return out
}

// L3Hosts returns the hosts of a leg's router's L3 agents that route for it
// (the active ones of an HA router).
func (l RouterLeg) L3Hosts() []string {
	var out []string
	for _, h := range l.Hostings {
		if h.Agent != nil && h.Active() && !slices.Contains(out, h.Agent.Host) {
			out = append(out, h.Agent.Host)
		}
	}
	return out
}

// Router returns the leg of the server's routers with that ID.
func (v *View) Router(id string) (RouterLeg, bool) {
	for _, l := range v.Routers {
		if l.ID == id {
			return l, true
		}
	}
	return RouterLeg{}, false
}

// Port returns the server's port with that ID, or nil.
func (v *View) Port(id string) *Port {
	for i := range v.Ports {
		if v.Ports[i].ID == id {
			return &v.Ports[i]
		}
	}
	return nil
}

// On returns the legs on one subnet.
func (p Port) On(subnetID string) []RouterLeg {
	var out []RouterLeg
	for _, l := range p.Routers {
		if l.SubnetID == subnetID {
			out = append(out, l)
		}
	}
	return out
}

// Host returns the serving host of that name, or nil.
func (v *View) Host(name string) *Host {
	for i := range v.Hosts {
		if v.Hosts[i].Name == name {
			return &v.Hosts[i]
		}
	}
	return nil
}

// NetworkIDs are the server's networks, in port order.
func (v *View) NetworkIDs() []string {
	var out []string
	for _, p := range v.Ports {
		if !slices.Contains(out, p.NetworkID) {
			out = append(out, p.NetworkID)
		}
	}
	return out
}
