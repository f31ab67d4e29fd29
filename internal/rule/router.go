package rule

import (
	"fmt"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

func routerSubject(r *snapshot.Router) Subject {
	return Subject{Kind: "router", ID: r.ID, Name: r.Name}
}

// attachedRouters returns the routers on the server's subnets that the
// snapshot holds, reporting the others unchecked.
func attachedRouters(in *Input) []topology.RouterLeg {
	var out []topology.RouterLeg
	for _, at := range in.View().Routers {
		if at.Router == nil {
			in.uncheck("router %s, which has an interface on subnet %s, is not in the snapshot", at.ID, at.SubnetID)
			continue
		}
		out = append(out, at)
	}
	return out
}

var routerMissing = &Rule{
	Name:     "router/missing",
	Severity: Error,
	Title:    "The server's subnet has no router",
	Doc: `A tenant network is an island until a router joins it: with no router
interface on the server's subnet, nothing outside the network can reach the
server and it cannot reach out; its gateway_ip answers nobody; and floating
IPs cannot work, since they are NAT on the router (Neutron even refuses to
associate one: "External network … is not reachable from subnet …").

hoofbeat looks, for every subnet the server has a fixed IP on whose network
is not external, for a port with device_owner network:router_interface,
network:router_interface_distributed or network:ha_router_replicated_interface
that has an address on that subnet. A server directly on an external network
needs no router. On a flat or VLAN provider network the gateway may be a
physical router, which hoofbeat cannot see: the finding is then a warning.
Router interfaces of another project's network are invisible without admin:
reported as not checked.`,
	Fix:   "openstack router add subnet ROUTER SUBNET (the router needs an external gateway for outside access).",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceNetworks, snapshot.SourceNetworkPorts},
	Hop:   HopRouter,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		seen := map[string]bool{}
		for i := range s.Ports {
			p := &s.Ports[i]
			n := s.Network(p.NetworkID)
			if n == nil {
				in.uncheck("network %s of %s is not in the snapshot", p.NetworkID, portLabel(p))
				continue
			}
			if n.External {
				continue
			}
			for _, fip := range p.FixedIPs {
				if seen[fip.SubnetID] || len(legsOn(in, p, fip.SubnetID)) > 0 {
					continue
				}
				seen[fip.SubnetID] = true
				if othersHidden(s, n) {
					in.uncheck("network %s belongs to another project: its router interfaces are not visible without admin", netLabel(s, n.ID))
					continue
				}
				sn := s.Subnet(fip.SubnetID)
				subName := fip.SubnetID
				if sn != nil {
					subName = subnetLabel(sn)
				}
				f := Finding{
					Subject: Subject{Kind: "subnet", ID: fip.SubnetID},
					Summary: fmt.Sprintf("subnet %s of %s has no router: nothing outside network %s can reach the server, and floating IPs cannot work", subName, portLabel(p), netLabel(s, n.ID)),
					Evidence: []string{
						fmt.Sprintf("network %s: router:external false", n.ID),
						fmt.Sprintf("router interface ports with an address on subnet %s: none", fip.SubnetID),
					},
					Verify: cmds(
						cmd("openstack", "port", "list", "--network", n.ID, "--device-owner", "network:router_interface"),
					),
				}
				if sn != nil {
					f.Subject.Name = sn.Name
					f.Evidence = append(f.Evidence, "gateway_ip: "+orNone(sn.GatewayIP)+" (held by no router)")
				}
				if n.Provider != nil && (n.Provider.NetworkType == "flat" || n.Provider.NetworkType == "vlan") {
					f.Severity = Warning
					f.Evidence = append(f.Evidence, fmt.Sprintf("provider:network_type: %s: the gateway may be a physical router hoofbeat cannot see", n.Provider.NetworkType))
				}
				for _, fl := range s.FloatingIPs {
					if fl.PortID == p.ID {
						f.Evidence = append(f.Evidence, fmt.Sprintf("floating IP %s is associated to the port but cannot be routed", fl.FloatingIPAddress))
					}
				}
				if sn != nil && sn.GatewayIP == "" {
					f.Evidence = append(f.Evidence, "the subnet has no gateway_ip: set one first (subnet/no-gateway), router add subnet needs it")
				}
				f.Remediation = addRouterCommands(in, n, fip.SubnetID)
				if sn != nil && sn.GatewayIP != "" {
					f.Verify = append(f.Verify, cmd("ip", "netns", "exec", "qdhcp-"+n.ID, "ping", "-c", "3", sn.GatewayIP).Comment("on the DHCP agent's host: the router answers on the gateway"))
				}
				out = append(out, f)
			}
		}
		return out
	},
}

// addRouterCommands attaches a subnet to a router: an existing router of the
// snapshot with a gateway, else a new one.
func addRouterCommands(in *Input, n *snapshot.Network, subnetID string) []shell.Cmd {
	s := in.Snapshot
	for i := range s.Routers {
		if r := &s.Routers[i]; r.ExternalGateway != nil && (r.ProjectID == "" || r.ProjectID == n.ProjectID || n.ProjectID == "") {
			return cmds(cmd("openstack", "router", "add", "subnet", r.ID, subnetID).Comment(routerLabel(r)))
		}
	}
	name := netLabel(s, n.ID) + "-router"
	ext := externalNetworkFor(in)
	gw := cmd("openstack", "router", "set", "--external-gateway", ext, name).Comment(netLabel(s, ext))
	if ext == "" {
		gw = cmd("openstack", "router", "set", "--external-gateway", "EXTERNAL_NETWORK", name).Comment("see openstack network list --external")
	}
	return cmds(
		cmd("openstack", "router", "list").Comment("an existing router with an external gateway will do: openstack router add subnet ROUTER "+subnetID),
		cmd("openstack", "router", "create", name),
		gw,
		cmd("openstack", "router", "add", "subnet", name, subnetID),
	)
}

var routerAdminDown = &Rule{
	Name:     "router/admin-down",
	Severity: Error,
	Title:    "The router is administratively down",
	Doc: `A router with admin_state_up=False is removed from its L3 agents: its qrouter
namespace goes away with its interfaces, SNAT and floating-IP NAT. hoofbeat
reads admin_state_up of every router with an interface on the server's
subnets; router/not-active is suppressed for it.`,
	Fix:   "openstack router set --enable ROUTER",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceRouters, snapshot.SourceNetworkPorts},
	Hop:   HopRouter,
	Check: func(in *Input) []Finding {
		var out []Finding
		for _, at := range attachedRouters(in) {
			r := at.Router
			if r.AdminStateUp {
				continue
			}
			out = append(out, Finding{
				Subject:     routerSubject(r),
				Summary:     fmt.Sprintf("router %s on subnet %s is administratively down: nothing routes for the server", routerLabel(r), subnetOrID(at)),
				Evidence:    []string{"admin_state_up: false", "status: " + r.Status},
				Remediation: cmds(cmd("openstack", "router", "set", "--enable", r.ID)),
				Verify:      cmds(cmd("openstack", "router", "show", r.ID, "-c", "admin_state_up", "-c", "status")),
			})
		}
		return out
	},
}

var routerNotActive = &Rule{
	Name:     "router/not-active",
	Severity: Error,
	Title:    "The router is not ACTIVE",
	Doc: `A router's status is ACTIVE once an L3 agent (or OVN) has built it. ERROR
means the agent failed to configure it; ALLOCATING that an HA router is still
waiting for its agents. hoofbeat reads the status of every router with an
interface on the server's subnets; an admin-down router is reported by
router/admin-down instead.`,
	Fix:   "Find the failure in the L3 agent's log on its host, fix it, and restart the agent.",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceRouters, snapshot.SourceNetworkPorts},
	Hop:   HopRouter,
	Check: func(in *Input) []Finding {
		var out []Finding
		for _, at := range attachedRouters(in) {
			r := at.Router
			if r.Status == "ACTIVE" || !r.AdminStateUp {
				continue
			}
			out = append(out, Finding{
				Subject:  routerSubject(r),
				Summary:  fmt.Sprintf("router %s on subnet %s is %s, not ACTIVE", routerLabel(r), subnetOrID(at), orNone(r.Status)),
				Evidence: []string{"status: " + orNone(r.Status), "admin_state_up: true"},
				Remediation: cmds(
					cmd("openstack", "network", "agent", "list", "--router", r.ID, "--long"),
					cmd("journalctl", "-u", "neutron-l3-agent", "--since", "-1h").Pipe("grep", "-F", "-e", r.ID).Comment("on the hosting agent's host: why it failed"),
					cmd("systemctl", "restart", "neutron-l3-agent").Comment("on that host, once the cause is fixed"),
				),
				Verify: cmds(cmd("openstack", "router", "show", r.ID, "-c", "status")),
			})
		}
		return out
	},
}

var routerNotScheduled = &Rule{
	Name:     "router/not-scheduled",
	Severity: Error,
	Title:    "No L3 agent hosts the router",
	Doc: `A router exists only as data until an L3 agent hosts it and builds its qrouter
namespace. Neutron schedules routers automatically (router_auto_schedule), but
a router created while no L3 agent was alive, or removed from its agent by
hand, is hosted by none: nothing routes for its subnets.

hoofbeat reads the L3 agents hosting each router on the server's subnets
(admin-only: skipped without admin). Distributed (DVR) routers are included:
a DVR router is hosted by the dvr agent of every compute host with a bound
port on its subnets (this server's host among them) and by a dvr_snat agent
for its gateway, so "no agent at all" is a fault for them too, although the
listing then says more about the compute host's L3 agent than about SNAT.
Under ML2/OVN routers are not hosted by L3 agents: the rule does not apply.`,
	Fix:           "openstack network agent add router --l3 AGENT ROUTER, with a live L3 agent.",
	Needs:         []string{snapshot.SourcePorts, snapshot.SourceRouters, snapshot.SourceNetworkPorts, snapshot.SourceAgents, snapshot.SourceL3Agents},
	Hop:           HopRouter,
	NotApplicable: notOnOVN,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, at := range attachedRouters(in) {
			r := at.Router
			if len(s.L3Agents[r.ID]) > 0 {
				continue
			}
			f := Finding{
				Subject: routerSubject(r),
				Summary: fmt.Sprintf("router %s on subnet %s is hosted by no L3 agent: nothing routes for the server", routerLabel(r), subnetOrID(at)),
				Evidence: []string{
					fmt.Sprintf("L3 agents hosting router %s: none", r.ID),
					fmt.Sprintf("router %s: ha %s, distributed %s", r.ID, optBool(r.HA), optBool(r.Distributed)),
				},
				Verify: cmds(cmd("openstack", "network", "agent", "list", "--router", r.ID)),
			}
			for _, a := range agentsOfType(s, snapshot.AgentTypeL3) {
				line := fmt.Sprintf("%s: %s", agentLabel(a), agentState(a))
				if m := agentMode(a); m != "" {
					line += ", agent_mode: " + m
				}
				f.Evidence = append(f.Evidence, line)
			}
			if live := liveL3Agent(s, nil); live != nil {
				f.Remediation = cmds(cmd("openstack", "network", "agent", "add", "router", "--l3", live.ID, r.ID).Comment("L3 agent on " + live.Host))
			} else {
				f.Evidence = append(f.Evidence, "no L3 agent is alive and admin-up")
				f.Remediation = cmds(
					cmd("openstack", "network", "agent", "list", "--agent-type", "l3").Comment("bring an L3 agent up first (systemctl restart neutron-l3-agent on its host)"),
					cmd("openstack", "network", "agent", "add", "router", "--l3", "L3_AGENT_ID", r.ID),
				)
			}
			out = append(out, f)
		}
		return out
	},
}

var routerNoGateway = &Rule{
	Name:     "router/no-gateway",
	Severity: Error,
	Title:    "The router has no external gateway",
	Doc: `A router without an external gateway joins its internal subnets to each other
but to nothing else: no SNAT out, no floating IPs in (Neutron refuses to
associate one behind it). hoofbeat reads external_gateway_info of every router
with an interface on the server's subnets.`,
	Fix:   "openstack router set --external-gateway EXTERNAL_NETWORK ROUTER",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceRouters, snapshot.SourceNetworkPorts},
	Hop:   HopGateway,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, at := range attachedRouters(in) {
			r := at.Router
			if r.ExternalGateway != nil && r.ExternalGateway.NetworkID != "" {
				continue
			}
			f := Finding{
				Subject:  routerSubject(r),
				Summary:  fmt.Sprintf("router %s of subnet %s has no external gateway: the server is unreachable from outside", routerLabel(r), subnetOrID(at)),
				Evidence: []string{"external_gateway_info: null"},
				Verify:   cmds(cmd("openstack", "router", "show", r.ID, "-c", "external_gateway_info")),
			}
			ext := ""
			for _, fl := range s.FloatingIPs {
				if fl.RouterID == r.ID || portOfServer(s, fl.PortID) {
					ext = fl.FloatingNetworkID
					f.Evidence = append(f.Evidence, fmt.Sprintf("floating IP %s of the server is on network %s", fl.FloatingIPAddress, netLabel(s, ext)))
					break
				}
			}
			if ext == "" {
				ext = externalNetworkFor(in)
			}
			if ext != "" {
				f.Remediation = cmds(cmd("openstack", "router", "set", "--external-gateway", ext, r.ID).Comment(netLabel(s, ext)))
			} else {
				f.Remediation = cmds(cmd("openstack", "router", "set", "--external-gateway", "EXTERNAL_NETWORK", r.ID).Comment("see openstack network list --external"))
			}
			out = append(out, f)
		}
		return out
	},
}

func portOfServer(s *snapshot.Snapshot, portID string) bool {
	for _, p := range s.Ports {
		if p.ID == portID && portID != "" {
			return true
		}
	}
	return false
}
