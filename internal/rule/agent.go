package rule

import (
	"fmt"
	"iter"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

func agentSubject(a *snapshot.Agent) Subject {
	return Subject{Kind: "agent", ID: a.ID, Name: a.AgentType + " on " + a.Host}
}

// enableOrRestart returns the commands that bring an agent back: enable it
// when it is admin-down, restart its unit when it is dead.
func enableOrRestart(a *snapshot.Agent, unit string) []shell.Cmd {
	var out []shell.Cmd
	if !a.AdminStateUp {
		out = append(out, cmd("openstack", "network", "agent", "set", "--enable", a.ID))
	}
	if !a.Alive {
		out = append(out,
			onHost(cmd("systemctl", "restart", unit), a.Host),
			onHost(cmd("journalctl", "-u", unit, "-n", "200"), a.Host+": why it stopped (AMQP unreachable? a crash?)"))
	}
	return out
}

var agentL2Down = &Rule{
	Name:     "agent/l2-down",
	Severity: Error,
	Title:    "The L2 agent on the port's host is down",
	Doc: `The L2 agent (Open vSwitch, Linux bridge, or ovn-controller under OVN) on a
compute host wires the host's VIFs into their networks and applies their
security groups. If it is dead, new or re-plugged ports stay DOWN, ports
already wired keep their last state but miss every change (security group
rules, new tunnel peers), and binding a port on the host fails. An agent that
is admin-down gets no work either.

hoofbeat finds the host each server port is bound to (binding:host_id, or the
server's host when the port is unbound), looks for an L2 agent registered
there, and reports it when none is alive and admin-up, or when none is
registered at all. Both the agents and the bindings are admin-only: without
admin the rule is skipped. port/down is suppressed for ports on that host,
since this explains them.`,
	Fix: "Restart the L2 agent on the host (systemctl restart neutron-openvswitch-agent / neutron-linuxbridge-agent / ovn-controller) and read its log.",
	// On ML2/OVN, ovn/chassis-down asks ovn-controller itself: the agent's
	// liveness there follows nb_cfg, which a stopped ovn-northd freezes on
	// every chassis alike.
	NotApplicable: notOnOVN,
	Needs:         []string{snapshot.SourcePorts, snapshot.SourceAgents, snapshot.SourceServerHost},
	Hop:           HopPort,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		byHost := map[string][]*snapshot.Port{}
		var hosts []string
		for i := range s.Ports {
			p := &s.Ports[i]
			host := p.BindingHostID
			if host == "" {
				host = s.Server.Host
			}
			if host == "" {
				if s.Server.Status == "ACTIVE" {
					in.uncheck("%s: neither its binding host nor the server's host is known", portLabel(p))
				}
				continue // not running anywhere: no agent wires it
			}
			if _, ok := byHost[host]; !ok {
				hosts = append(hosts, host)
			}
			byHost[host] = append(byHost[host], p)
		}
		for _, host := range hosts {
			first, down := l2Down(s, host)
			if !down {
				continue
			}
			ports := byHost[host]
			var labels []string
			for _, p := range ports {
				labels = append(labels, portLabel(p))
			}
			f := Finding{Subject: Subject{Kind: "host", Name: host}}
			unit := l2Unit(s, host, ports[0].BindingVIFType)
			if first == nil {
				f.Summary = fmt.Sprintf("no L2 agent is registered on host %s, where %s is bound: nothing wires the port", host, strings.Join(labels, ", "))
				f.Evidence = []string{fmt.Sprintf("agents on host %s of types %s: none", host, strings.Join(l2AgentTypes, ", "))}
				f.Remediation = cmds(
					onHost(cmd("systemctl", "status", unit), host+": is it installed and running? Its configured host name must be "+host),
					onHost(cmd("systemctl", "restart", unit), host),
				)
			} else {
				f.Subject = agentSubject(first)
				state := "dead"
				if first.Alive {
					state = "administratively down"
				}
				f.Summary = fmt.Sprintf("the %s on host %s, where %s is bound, is %s: the port is not wired or updated", first.AgentType, host, strings.Join(labels, ", "), state)
				for _, a := range agentsOn(s, host, l2AgentTypes...) {
					f.Evidence = append(f.Evidence, fmt.Sprintf("%s: %s", agentLabel(a), agentState(a)))
				}
				f.Remediation = append(cmds(cmd("openstack", "network", "agent", "list", "--host", host)), enableOrRestart(first, unit)...)
			}
			for _, p := range ports {
				f.Evidence = append(f.Evidence, fmt.Sprintf("port %s: status %s, binding:host_id %s", p.ID, p.Status, orNone(p.BindingHostID)))
			}
			f.Verify = cmds(cmd("openstack", "network", "agent", "list", "--host", host), cmd("openstack", "port", "show", ports[0].ID, "-c", "status"))
			out = append(out, f)
		}
		return out
	},
}

// dhcpNetworks returns the server's networks that have a DHCP-enabled subnet.
func dhcpNetworks(in *Input) []*snapshot.Network {
	var out []*snapshot.Network
	for _, n := range serverNetworks(in) {
		if len(dhcpEnabledSubnets(in.Snapshot, n.ID)) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// dhcpHosts yields each of dhcpNetworks with each host whose DHCP agent
// serves it.
func dhcpHosts(in *Input) iter.Seq2[*snapshot.Network, string] {
	return func(yield func(*snapshot.Network, string) bool) {
		for _, n := range dhcpNetworks(in) {
			for _, host := range topology.DHCPHosts(in.Snapshot, n.ID) {
				if !yield(n, host) {
					return
				}
			}
		}
	}
}

var agentDHCPNotHosting = &Rule{
	Name:     "agent/dhcp-not-hosting",
	Severity: Error,
	Title:    "No DHCP agent hosts the network",
	Doc: `A network with a DHCP-enabled subnet must be scheduled to at least one DHCP
agent, which runs dnsmasq for it in a qdhcp-<network> namespace. Neutron
schedules networks automatically (network_auto_schedule,
dhcp_agents_per_network), but a network created while every DHCP agent was
dead, or removed from its agent by hand, stays unserved: the guest never gets
a lease.

hoofbeat reads the DHCP agents hosting each of the server's networks that has
a DHCP-enabled subnet (admin-only: skipped without admin). Under ML2/OVN DHCP
is native and there are no DHCP agents: the rule does not apply there.`,
	Fix:           "openstack network agent add network --dhcp AGENT NETWORK, with a live DHCP agent.",
	Needs:         []string{snapshot.SourcePorts, snapshot.SourceNetworks, snapshot.SourceSubnets, snapshot.SourceAgents, snapshot.SourceDHCPAgents},
	Hop:           HopDHCP,
	NotApplicable: notOnOVN,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, n := range dhcpNetworks(in) {
			if len(s.DHCPAgents[n.ID]) > 0 {
				continue
			}
			f := Finding{
				Subject: networkSubject(n),
				Summary: fmt.Sprintf("no DHCP agent hosts network %s: no dnsmasq serves its DHCP-enabled subnets", netLabel(s, n.ID)),
				Evidence: []string{
					fmt.Sprintf("DHCP agents hosting network %s: none", n.ID),
					fmt.Sprintf("ports with device_owner %s on it: %d", snapshot.OwnerDHCP, len(topology.DHCPPorts(s, n.ID))),
				},
				Verify: cmds(cmd("openstack", "network", "agent", "list", "--network", n.ID)),
			}
			var live *snapshot.Agent
			for _, a := range agentsOfType(s, snapshot.AgentTypeDHCP) {
				f.Evidence = append(f.Evidence, fmt.Sprintf("%s: %s", agentLabel(a), agentState(a)))
				if live == nil && agentUp(a) {
					live = a
				}
			}
			if live != nil {
				f.Remediation = cmds(cmd("openstack", "network", "agent", "add", "network", "--dhcp", live.ID, n.ID).Comment("DHCP agent on " + live.Host))
			} else {
				f.Evidence = append(f.Evidence, "no DHCP agent is alive and admin-up")
				f.Remediation = cmds(
					cmd("openstack", "network", "agent", "list", "--agent-type", "dhcp").Comment("bring a DHCP agent up first (systemctl restart neutron-dhcp-agent on its host)"),
					cmd("openstack", "network", "agent", "add", "network", "--dhcp", "DHCP_AGENT_ID", n.ID).Comment("then schedule the network to it"),
				)
			}
			f.Verify = append(f.Verify, cmd("openstack", "port", "list", "--network", n.ID, "--device-owner", snapshot.OwnerDHCP))
			out = append(out, f)
		}
		return out
	},
}

var agentDHCPDown = &Rule{
	Name:     "agent/dhcp-down",
	Severity: Error,
	Title:    "A DHCP agent hosting the network is down",
	Doc: `The DHCP agents hosting a network run its dnsmasq. An agent that is dead
(no heartbeat within agent_down_time) may still have a dnsmasq running with
stale data, or none at all; one that is admin-down is being drained. Either
way new ports, changed addresses and renewals are not served by it.

hoofbeat reads, for each of the server's networks with a DHCP-enabled subnet,
the DHCP agents hosting it and their alive and admin_state_up flags
(admin-only: skipped without admin). It is an error when no hosting agent is
up, a warning when another hosting agent still serves the network.
network/no-dhcp-port is suppressed then, since this explains it.`,
	Fix:           "Restart the agent on its host (systemctl restart neutron-dhcp-agent), or enable it; check with openstack network agent list --network NETWORK.",
	Needs:         []string{snapshot.SourcePorts, snapshot.SourceNetworks, snapshot.SourceSubnets, snapshot.SourceAgents, snapshot.SourceDHCPAgents},
	NotApplicable: notOnOVN,
	Hop:           HopDHCP,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, n := range dhcpNetworks(in) {
			ids := s.DHCPAgents[n.ID]
			var up int
			for _, id := range ids {
				if a := s.Agent(id); a != nil && agentUp(a) {
					up++
				}
			}
			for _, id := range ids {
				a := s.Agent(id)
				if a != nil && agentUp(a) {
					continue
				}
				f := Finding{
					Verify: cmds(cmd("openstack", "network", "agent", "list", "--network", n.ID), cmd("openstack", "port", "list", "--network", n.ID, "--device-owner", snapshot.OwnerDHCP)),
				}
				if a == nil {
					f.Subject = Subject{Kind: "agent", ID: id}
					f.Summary = fmt.Sprintf("DHCP agent %s hosts network %s but is not in the agent list", shortID(id), netLabel(s, n.ID))
					f.Evidence = []string{"agent " + id + ": not found among the agents"}
					f.Remediation = cmds(
						cmd("openstack", "network", "agent", "remove", "network", "--dhcp", id, n.ID).Comment("drop the stale hosting"),
						cmd("openstack", "network", "agent", "list", "--agent-type", "dhcp"),
					)
				} else {
					f.Subject = agentSubject(a)
					state := "dead"
					if a.Alive {
						state = "administratively down"
					} else if !a.AdminStateUp {
						state = "dead and administratively down"
					}
					f.Summary = fmt.Sprintf("DHCP agent %s on host %s, which hosts network %s, is %s", shortID(a.ID), a.Host, netLabel(s, n.ID), state)
					f.Evidence = []string{fmt.Sprintf("%s: %s", agentLabel(a), agentState(a))}
					f.Remediation = append(cmds(cmd("openstack", "network", "agent", "list", "--network", n.ID)), enableOrRestart(a, "neutron-dhcp-agent")...)
				}
				f.Evidence = append(f.Evidence, fmt.Sprintf("DHCP agents hosting network %s: %d, up: %d", n.ID, len(ids), up))
				if up > 0 {
					f.Severity = Warning
				}
				out = append(out, f)
			}
		}
		return out
	},
}

func hostingLine(h topology.Hosting) string {
	ha := ""
	if h.HAState != "" {
		ha = ", ha_state: " + h.HAState
	}
	if h.Agent == nil {
		return fmt.Sprintf("L3 agent %s: not in the agent list%s", h.AgentID, ha)
	}
	mode := ""
	if m := agentMode(h.Agent); m != "" {
		mode = ", agent_mode: " + m
	}
	return fmt.Sprintf("%s: %s%s%s", agentLabel(h.Agent), agentState(h.Agent), ha, mode)
}

func isTrue(b *bool) bool { return b != nil && *b }

var agentL3Down = &Rule{
	Name:     "agent/l3-down",
	Severity: Error,
	Title:    "The router's L3 agent is down",
	Doc: `A Neutron router lives in a qrouter-<router> namespace that an L3 agent builds
and maintains: interfaces, SNAT, floating-IP NAT and the metadata proxy. If the
agent hosting it dies, the namespace may keep forwarding with its last state,
but every change (a new floating IP, a new interface) is lost, and after a
host reboot nothing is rebuilt.

hoofbeat reads the L3 agents hosting each router on the server's subnets
(admin-only: skipped without admin) and judges by router kind. A legacy
router is reported when its agent is dead or admin-down. An HA router
(keepalived/VRRP) is reported only when no alive, admin-up agent is its
active one: a dead standby is harmless. A distributed (DVR) router is hosted
on every compute host with ports on its subnets; only the agents that serve
this server matter: the one on the server's host and the dvr_snat (or legacy)
ones that carry SNAT. Under ML2/OVN there are no L3 agents: the rule does not
apply.`,
	Fix:           "Restart the L3 agent on its host (systemctl restart neutron-l3-agent), or move the router to a live agent.",
	Needs:         []string{snapshot.SourcePorts, snapshot.SourceRouters, snapshot.SourceNetworkPorts, snapshot.SourceAgents, snapshot.SourceL3Agents},
	Hop:           HopRouter,
	NotApplicable: notOnOVN,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, at := range attachedRouters(in) {
			r := at.Router
			hs := at.Hostings
			if len(hs) == 0 {
				continue // router/not-scheduled
			}
			up := func(h topology.Hosting) bool { return h.Agent != nil && agentUp(h.Agent) }
			var bad []topology.Hosting
			kind := "legacy"
			switch {
			case isTrue(r.HA) || anyHAState(hs):
				kind = "HA"
				activeUp := false
				for _, h := range hs {
					if h.HAState == "active" && up(h) {
						activeUp = true
					}
				}
				if activeUp {
					continue
				}
				for _, h := range hs {
					if !up(h) || h.HAState == "active" {
						bad = append(bad, h)
					}
				}
				if len(bad) == 0 {
					bad = hs // every agent up, none active
				}
			case isTrue(r.Distributed):
				kind = "distributed"
				for _, h := range hs {
					relevant := h.Agent == nil || s.Server == nil || h.Agent.Host == s.Server.Host || agentMode(h.Agent) != "dvr"
					if relevant && !up(h) {
						bad = append(bad, h)
					}
				}
			default:
				for _, h := range hs {
					if !up(h) {
						bad = append(bad, h)
					}
				}
			}
			if len(bad) == 0 {
				continue
			}
			f := Finding{
				Subject: Subject{Kind: "router", ID: r.ID, Name: r.Name},
				Verify:  cmds(cmd("openstack", "network", "agent", "list", "--router", r.ID, "--long")),
			}
			var hosts []string
			for _, h := range bad {
				if h.Agent != nil {
					hosts = append(hosts, h.Agent.Host)
				} else {
					hosts = append(hosts, "agent "+shortID(h.AgentID))
				}
			}
			switch kind {
			case "HA":
				f.Summary = fmt.Sprintf("HA router %s has no live active L3 agent (%s): nothing routes for subnet %s", routerLabel(r), strings.Join(hosts, ", "), subnetOrID(at))
			default:
				f.Summary = fmt.Sprintf("the L3 agent on %s hosting %s router %s is down: its qrouter namespace is not maintained", strings.Join(hosts, ", "), kind, routerLabel(r))
			}
			f.Evidence = append(f.Evidence, fmt.Sprintf("router %s: ha %s, distributed %s", r.ID, optBool(r.HA), optBool(r.Distributed)))
			for _, h := range hs {
				f.Evidence = append(f.Evidence, hostingLine(h))
			}
			f.Remediation = cmds(cmd("openstack", "network", "agent", "list", "--router", r.ID, "--long"))
			for _, h := range bad {
				if h.Agent != nil {
					f.Remediation = append(f.Remediation, enableOrRestart(h.Agent, "neutron-l3-agent")...)
				}
			}
			if kind == "legacy" {
				if other := liveL3Agent(s, hs); other != nil {
					f.Remediation = append(f.Remediation,
						cmd("openstack", "network", "agent", "remove", "router", "--l3", bad[0].AgentID, r.ID).Comment("or move the router"),
						cmd("openstack", "network", "agent", "add", "router", "--l3", other.ID, r.ID).Comment("to the live L3 agent on "+other.Host))
				}
			}
			out = append(out, f)
		}
		return out
	},
}

func anyHAState(hs []topology.Hosting) bool {
	for _, h := range hs {
		if h.HAState != "" {
			return true
		}
	}
	return false
}

func optBool(b *bool) string {
	if b == nil {
		return "unknown"
	}
	if *b {
		return "true"
	}
	return "false"
}

func subnetOrID(at topology.RouterLeg) string {
	if at.Subnet != nil {
		return subnetLabel(at.Subnet)
	}
	return at.SubnetID
}

// liveL3Agent returns an alive, admin-up L3 agent not among hs (not dvr
// mode, which cannot host centralized routers).
func liveL3Agent(s *snapshot.Snapshot, hs []topology.Hosting) *snapshot.Agent {
	for _, a := range agentsOfType(s, snapshot.AgentTypeL3) {
		if !agentUp(a) || agentMode(a) == "dvr" {
			continue
		}
		taken := false
		for _, h := range hs {
			if h.AgentID == a.ID {
				taken = true
			}
		}
		if !taken {
			return a
		}
	}
	return nil
}

var agentMetadataDown = &Rule{
	Name:     "agent/metadata-down",
	Severity: Warning,
	Title:    "The metadata agent serving the network is down",
	Doc: `Guests fetch their metadata (SSH keys, user data, cloud-init's configuration)
from http://169.254.169.254. Neutron answers it with a proxy (haproxy) in the
router's qrouter namespace when the subnet has a router, or in the
qdhcp-<network> namespace (isolated metadata) when it has none; the proxy
hands the request to the neutron-metadata-agent on the same host, which asks
Nova's metadata API. Under ML2/OVN the proxy runs on the compute host itself,
behind the OVN Metadata agent. If that agent is dead or admin-down, cloud-init
times out: no SSH key, no user data, sometimes no network configuration.
Pings usually still work, hence a warning.

hoofbeat picks the path per network: the hosts of the L3 agents hosting the
routers on the server's subnets (and the server's host for distributed
routers), else the hosts of the network's DHCP agents, or the server's host
under OVN; and reports a host with no live metadata agent. Agents are
admin-only: skipped without admin; a path whose hosting data is missing is
reported as not checked. It cannot see whether isolated metadata is enabled
in the DHCP agent's configuration.`,
	Fix: "Restart neutron-metadata-agent (or the OVN metadata agent) on the host, then reboot the guest or rerun cloud-init.",
	// On ML2/OVN, Neutron reads the metadata agent's liveness off its
	// chassis: a stopped ovn-controller makes the agent read dead.
	Causes: []*Rule{ovnChassisDown},
	Needs:  []string{snapshot.SourcePorts, snapshot.SourceAgents},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		type path struct{ host, via string }
		var paths []path
		addPath := func(host, via string) {
			for _, p := range paths {
				if p.host == host {
					return
				}
			}
			paths = append(paths, path{host, via})
		}
		ovn := IsOVN(s)
		metaType := snapshot.AgentTypeMetadata
		if ovn {
			metaType = snapshot.AgentTypeOVNMetadata
			if s.Server.Host == "" {
				in.uncheck("the server's host is hidden: cannot tell which OVN metadata agent serves it")
				return nil
			}
			addPath(s.Server.Host, "the OVN metadata proxy on the server's host")
		} else {
			routed := map[string]bool{}
			for _, at := range in.View().Routers {
				routed[at.Port.NetworkID] = true
				if s.Gap(snapshot.SourceL3Agents) != nil {
					in.uncheck("L3 agents of router %s are unknown: %s", shortID(at.ID), gapReason(s.Gap(snapshot.SourceL3Agents)))
					continue
				}
				name := routerOrID(at)
				for _, h := range at.Hostings {
					if h.Agent == nil || !agentUp(h.Agent) || (h.HAState != "" && h.HAState != "active") {
						continue // agent/l3-down's business
					}
					if agentMode(h.Agent) == "dvr_snat" && at.Router != nil && isTrue(at.Router.Distributed) {
						continue // DVR: the proxy runs on the compute host
					}
					addPath(h.Agent.Host, "router "+name+"'s metadata proxy")
				}
				if at.Router != nil && isTrue(at.Router.Distributed) && s.Server.Host != "" {
					addPath(s.Server.Host, "distributed router "+name+"'s metadata proxy on the server's host")
				}
			}
			for _, id := range serverNetworkIDs(s) {
				if routed[id] || len(dhcpEnabledSubnets(s, id)) == 0 {
					continue
				}
				if g := s.Gap(snapshot.SourceDHCPAgents); g != nil {
					in.uncheck("DHCP agents of network %s are unknown: %s", netLabel(s, id), gapReason(g))
					continue
				}
				for _, aid := range s.DHCPAgents[id] {
					if a := s.Agent(aid); a != nil && agentUp(a) {
						addPath(a.Host, "the isolated metadata proxy in qdhcp-"+id)
					}
				}
			}
		}
		for _, p := range paths {
			agents := agentsOn(s, p.host, metaType)
			var alive *snapshot.Agent
			for _, a := range agents {
				if agentUp(a) {
					alive = a
				}
			}
			if alive != nil {
				continue
			}
			unit := "neutron-metadata-agent"
			if ovn {
				unit = "neutron-ovn-metadata-agent"
			}
			f := Finding{
				Subject: Subject{Kind: "host", Name: p.host},
				Evidence: []string{
					fmt.Sprintf("metadata path: %s on %s → %s on %s → nova metadata API", p.via, p.host, metaType, p.host),
				},
				Verify: cmds(
					cmd("openstack", "network", "agent", "list", "--host", p.host),
					cmd("curl", "-s", "http://169.254.169.254/openstack/latest/meta_data.json").Comment("inside the guest"),
				),
			}
			if len(agents) == 0 {
				f.Summary = fmt.Sprintf("no %s runs on host %s, which serves metadata for server %s: the guest cannot reach 169.254.169.254", metaType, p.host, s.Server.Name)
				f.Evidence = append(f.Evidence, fmt.Sprintf("agents of type %s on %s: none", metaType, p.host))
				f.Remediation = cmds(onHost(cmd("systemctl", "restart", unit), p.host))
			} else {
				f.Subject = agentSubject(agents[0])
				f.Summary = fmt.Sprintf("the %s on host %s, which serves metadata for server %s, is down: the guest cannot fetch its SSH keys or user data from 169.254.169.254", metaType, p.host, s.Server.Name)
				for _, a := range agents {
					f.Evidence = append(f.Evidence, fmt.Sprintf("%s: %s", agentLabel(a), agentState(a)))
				}
				f.Remediation = enableOrRestart(agents[0], unit)
			}
			f.Remediation = append(f.Remediation, cmd("openstack", "server", "reboot", s.Server.ID).Comment("cloud-init fetches the metadata again"))
			out = append(out, f)
		}
		return out
	},
}
