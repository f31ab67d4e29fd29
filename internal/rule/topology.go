package rule

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// Derived views of a snapshot shared by the rules: the server's networks
// and subnets, the routers on them, and who hosts what.

// shortID shortens a UUID for summaries; commands always carry the full ID.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

func portSubject(p *snapshot.Port) Subject {
	return Subject{Kind: "port", ID: p.ID, Name: p.Name}
}

// portLabel names a port in a summary: "port 1a2b3c4d… (10.0.0.12)".
func portLabel(p *snapshot.Port) string {
	var ips []string
	for _, f := range p.FixedIPs {
		ips = append(ips, f.IPAddress)
	}
	l := "port " + shortID(p.ID)
	if p.Name != "" {
		l = fmt.Sprintf("port %s (%s)", p.Name, shortID(p.ID))
	}
	if len(ips) > 0 {
		l += " " + strings.Join(ips, ", ")
	}
	return l
}

func netLabel(s *snapshot.Snapshot, id string) string {
	if n := s.Network(id); n != nil && n.Name != "" {
		return n.Name
	}
	return shortID(id)
}

func subnetLabel(sn *snapshot.Subnet) string {
	if sn.Name != "" {
		return fmt.Sprintf("%s (%s)", sn.Name, sn.CIDR)
	}
	return fmt.Sprintf("%s (%s)", shortID(sn.ID), sn.CIDR)
}

func routerLabel(r *snapshot.Router) string {
	if r.Name != "" {
		return r.Name
	}
	return shortID(r.ID)
}

// routerOrID names a leg's router, by its short ID when the router
// itself is hidden.
func routerOrID(l topology.RouterLeg) string {
	if l.Router != nil {
		return routerLabel(l.Router)
	}
	return shortID(l.ID)
}

func agentLabel(a *snapshot.Agent) string {
	return fmt.Sprintf("%s %s on %s", a.AgentType, shortID(a.ID), a.Host)
}

// agentState renders an agent's liveness for evidence.
func agentState(a *snapshot.Agent) string {
	s := fmt.Sprintf("alive: %t, admin_state_up: %t", a.Alive, a.AdminStateUp)
	if !a.HeartbeatTimestamp.IsZero() {
		s += ", last heartbeat: " + a.HeartbeatTimestamp.UTC().Format("2006-01-02 15:04:05Z")
	}
	return s
}

func agentUp(a *snapshot.Agent) bool { return a.Alive && a.AdminStateUp }

// serverNetworkIDs returns the networks of the server's ports, in port order.
func serverNetworkIDs(s *snapshot.Snapshot) []string {
	var out []string
	for _, p := range s.Ports {
		if !slices.Contains(out, p.NetworkID) {
			out = append(out, p.NetworkID)
		}
	}
	return out
}

// serverSubnetIDs returns the subnets of the server's fixed IPs, in order.
func serverSubnetIDs(s *snapshot.Snapshot) []string {
	var out []string
	for _, p := range s.Ports {
		for _, f := range p.FixedIPs {
			if !slices.Contains(out, f.SubnetID) {
				out = append(out, f.SubnetID)
			}
		}
	}
	return out
}

// portFamilies returns the address families (4, 6) of a port's fixed IPs.
func portFamilies(p *snapshot.Port) []int {
	var out []int
	for _, f := range p.FixedIPs {
		a, err := netip.ParseAddr(f.IPAddress)
		if err != nil {
			continue
		}
		if fam := familyOf(a); !slices.Contains(out, fam) {
			out = append(out, fam)
		}
	}
	slices.Sort(out)
	return out
}

// portAddrs returns a port's fixed IPs of one family.
func portAddrs(p *snapshot.Port, family int) []string {
	var out []string
	for _, f := range p.FixedIPs {
		if a, err := netip.ParseAddr(f.IPAddress); err == nil && familyOf(a) == family {
			out = append(out, f.IPAddress)
		}
	}
	return out
}

// othersHidden reports whether a network belongs to another project while
// the snapshot was taken without admin: its DHCP and router ports (owned by
// that project) are then invisible, and their absence proves nothing.
func othersHidden(s *snapshot.Snapshot, n *snapshot.Network) bool {
	if s.Cloud.Admin || n == nil || n.ProjectID == "" || s.Server == nil || s.Server.ProjectID == "" {
		return false
	}
	return n.ProjectID != s.Server.ProjectID
}

// OVN agent types (ML2/OVN registers these instead of L2, DHCP and L3 agents).
const (
	agentTypeOVNController = "OVN Controller agent"
	agentTypeOVNGateway    = "OVN Controller Gateway agent"
)

// l2AgentTypes are the agents that wire a port on its host.
var l2AgentTypes = []string{
	snapshot.AgentTypeOVS, snapshot.AgentTypeLinuxBridge,
	agentTypeOVNController, agentTypeOVNGateway,
	"NIC Switch agent", "MacVTap agent",
}

// IsOVN reports whether the cloud runs ML2/OVN, where DHCP, routing and
// metadata work without DHCP or L3 agents: the visible agents say so, or a
// checked host runs an OVN chassis or holds the Northbound database.
func IsOVN(s *snapshot.Snapshot) bool {
	for _, a := range s.Agents {
		switch a.AgentType {
		case agentTypeOVNController, agentTypeOVNGateway, snapshot.AgentTypeOVNMetadata:
			return true
		}
	}
	for _, h := range s.Hosts {
		if h.OVN != nil && (h.OVN.NB != nil || h.OVN.Chassis()) {
			return true
		}
	}
	return false
}

// notOnOVN makes the rules of Neutron's DHCP and L3 agents and of their
// namespaces not applicable on ML2/OVN.
func notOnOVN(s *snapshot.Snapshot) string {
	if IsOVN(s) {
		return "the cloud runs ML2/OVN: it has no DHCP, L3 or L2 agents and no qdhcp or qrouter namespaces (the ovn/ rules check OVN itself)"
	}
	return ""
}

// agentsOn returns the agents of the given types on host.
func agentsOn(s *snapshot.Snapshot, host string, types ...string) []*snapshot.Agent {
	var out []*snapshot.Agent
	for i := range s.Agents {
		a := &s.Agents[i]
		if a.Host == host && slices.Contains(types, a.AgentType) {
			out = append(out, a)
		}
	}
	return out
}

// agentsOfType returns all agents of one type.
func agentsOfType(s *snapshot.Snapshot, typ string) []*snapshot.Agent {
	var out []*snapshot.Agent
	for i := range s.Agents {
		if s.Agents[i].AgentType == typ {
			out = append(out, &s.Agents[i])
		}
	}
	return out
}

// agentMode reads an L3 agent's configurations.agent_mode (legacy, dvr,
// dvr_snat, dvr_no_external); empty when absent.
func agentMode(a *snapshot.Agent) string {
	var c struct {
		AgentMode string `json:"agent_mode"`
	}
	if len(a.Configurations) == 0 || json.Unmarshal(a.Configurations, &c) != nil {
		return ""
	}
	return c.AgentMode
}

// dhcpEnabledSubnets returns the network's subnets with DHCP on.
func dhcpEnabledSubnets(s *snapshot.Snapshot, networkID string) []*snapshot.Subnet {
	var out []*snapshot.Subnet
	for i := range s.Subnets {
		if sn := &s.Subnets[i]; sn.NetworkID == networkID && sn.EnableDHCP {
			out = append(out, sn)
		}
	}
	return out
}

// l2Service names the systemd unit of an L2 agent type.
func l2Service(agentType string) string {
	switch agentType {
	case snapshot.AgentTypeOVS:
		return "neutron-openvswitch-agent"
	case snapshot.AgentTypeLinuxBridge:
		return "neutron-linuxbridge-agent"
	case agentTypeOVNController, agentTypeOVNGateway:
		return "ovn-controller"
	case "NIC Switch agent":
		return "neutron-sriov-nic-agent"
	case "MacVTap agent":
		return "neutron-macvtap-agent"
	}
	return "neutron-openvswitch-agent"
}

// externalNetworkFor picks the external network a fix should use: a
// router's gateway network, else a floating IP's network, else any external
// network in the snapshot; "" when none is known.
func externalNetworkFor(in *Input) string {
	s := in.Snapshot
	for _, a := range in.View().Routers {
		if gw := a.Gateway(); gw != nil {
			return gw.NetworkID
		}
	}
	for _, f := range s.FloatingIPs {
		if f.FloatingNetworkID != "" {
			return f.FloatingNetworkID
		}
	}
	for _, n := range s.Networks {
		if n.External {
			return n.ID
		}
	}
	return ""
}

// cmd is a command line for the operator, every argument quoted as it
// needs (package shell): the only way rules write a command.
func cmd(argv ...string) shell.Cmd { return shell.Command(argv...) }

// note is a step that is not a command, printed as a comment line.
func note(text string) shell.Cmd { return shell.Note(text) }

// cmds lists command lines.
func cmds(cs ...shell.Cmd) []shell.Cmd { return cs }

// appendNew appends c unless the list already has the same line.
func appendNew(list []shell.Cmd, c shell.Cmd) []shell.Cmd {
	for _, x := range list {
		if x.String() == c.String() {
			return list
		}
	}
	return append(list, c)
}
