package rule

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// serverFloatingIPs returns the floating IPs associated to the server's ports.
func serverFloatingIPs(s *snapshot.Snapshot) []*snapshot.FloatingIP {
	var out []*snapshot.FloatingIP
	for i := range s.FloatingIPs {
		if portOfServer(s, s.FloatingIPs[i].PortID) {
			out = append(out, &s.FloatingIPs[i])
		}
	}
	return out
}

func fipSubject(f *snapshot.FloatingIP) Subject {
	return Subject{Kind: "floating-ip", ID: f.ID, Name: f.FloatingIPAddress}
}

var floatingIPNone = &Rule{
	Name:     "floating-ip/none",
	Severity: Info,
	Title:    "The server has no floating IP",
	Doc: `A server on a tenant (non-external) network has a private address that only
its network, and what its router reaches, can route to. From outside the
cloud, or from the host the operator pings from, it is unreachable by design
until a floating IP is associated (a 1:1 NAT on the router). This is
information: a ping to the fixed IP from outside is expected to fail.

hoofbeat reports it when none of the server's ports is on an external network
and no floating IP is associated to any of them. Associating one needs a
router with a gateway on the floating IP's network and an interface on the
port's subnet (router/missing, router/no-gateway).`,
	Fix:   "openstack floating ip create --port PORT EXTERNAL_NETWORK",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceNetworks, snapshot.SourceFloatingIPs},
	Hop:   HopFloatingIP,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if len(s.Ports) == 0 || len(serverFloatingIPs(s)) > 0 {
			return nil
		}
		var port *snapshot.Port
		var nets []string
		for i := range s.Ports {
			p := &s.Ports[i]
			n := s.Network(p.NetworkID)
			if n == nil {
				in.uncheck("network %s of %s is not in the snapshot", p.NetworkID, portLabel(p))
				return nil
			}
			if n.External {
				return nil // directly reachable on the external network
			}
			nets = append(nets, netLabel(s, n.ID)+" (router:external false)")
			if port == nil && len(portAddrs(p, 4)) > 0 {
				port = p
			}
		}
		f := Finding{
			Subject: serverSubject(s.Server),
			Summary: fmt.Sprintf("server %s has no floating IP: its tenant address is unreachable from outside the cloud by design", s.Server.Name),
			Evidence: []string{
				"networks: " + strings.Join(nets, ", "),
				"floating IPs associated to its ports: none",
			},
		}
		if port == nil {
			f.Evidence = append(f.Evidence, "no port has an IPv4 address to associate a floating IP with")
			return []Finding{f}
		}
		ext := externalNetworkFor(in)
		if ext != "" {
			f.Remediation = cmds(cmd("openstack", "floating", "ip", "create", "--port", port.ID, ext).Comment(netLabel(s, ext)))
		} else {
			f.Remediation = cmds(
				cmd("openstack", "network", "list", "--external"),
				cmd("openstack", "floating", "ip", "create", "--port", port.ID, "EXTERNAL_NETWORK"),
			)
		}
		if !routed(in, port) {
			f.Evidence = append(f.Evidence, fmt.Sprintf("the port's subnet has no router: attach one first (router/missing), or the association fails"))
		}
		f.Verify = cmds(cmd("openstack", "floating", "ip", "list", "--port", port.ID), cmd("ping", "-c", "3", "FLOATING_IP").Comment("the address the create command printed"))
		return []Finding{f}
	},
}

// routed reports whether some router has an interface on one of the port's subnets.
func routed(in *Input, p *snapshot.Port) bool {
	vp := in.View().Port(p.ID)
	return vp != nil && len(vp.Routers) > 0
}

// legsOn returns the router legs on one of the server port's subnets.
func legsOn(in *Input, p *snapshot.Port, subnetID string) []topology.RouterLeg {
	if vp := in.View().Port(p.ID); vp != nil {
		return vp.On(subnetID)
	}
	return nil
}

var floatingIPDown = &Rule{
	Name:     "floating-ip/down",
	Severity: Error,
	Title:    "The floating IP is down or not routed",
	Doc: `A floating IP works when the L3 agent (or OVN) has installed its NAT on a
router that has both a gateway on the floating IP's network and an interface
on the subnet of the fixed IP it maps to; Neutron then reports it ACTIVE.
DOWN (or ERROR) means the NAT is not in place: the router is not hosted, its
agent is dead or failed, or the router lost the path.

hoofbeat reads the status of every floating IP associated to the server's
ports, and checks the path itself: the fixed IP's subnet must have a router
interface on a router whose external gateway is on the floating IP's network.
When the status comes from a dead L3 agent or a router fault, those findings
(agent/l3-down, router/…) rank before this one.`,
	Fix:   "Restore the path (router interface on the subnet, gateway on the floating network), then check the L3 agent and re-associate the floating IP.",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceFloatingIPs, snapshot.SourceNetworkPorts, snapshot.SourceRouters},
	Hop:   HopFloatingIP,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, fl := range serverFloatingIPs(s) {
			p := serverPort(s, fl.PortID)
			subnetID := subnetOfAddr(p, fl.FixedIPAddress)
			var problems, ev []string
			ev = append(ev,
				"floating_ip_address: "+fl.FloatingIPAddress,
				"status: "+orNone(fl.Status),
				"fixed_ip_address: "+orNone(fl.FixedIPAddress),
				fmt.Sprintf("floating_network_id: %s (%s)", fl.FloatingNetworkID, netLabel(s, fl.FloatingNetworkID)),
				"router_id: "+orNone(fl.RouterID),
			)
			if fl.Status != "ACTIVE" {
				problems = append(problems, "is "+orNone(fl.Status))
			}
			var gwRouters, otherRouters []*snapshot.Router
			unknown := false
			if subnetID == "" {
				ev = append(ev, fmt.Sprintf("fixed IP %s is not an address of %s", orNone(fl.FixedIPAddress), portLabel(p)))
				problems = append(problems, "maps to no address of the port")
			} else {
				for _, leg := range legsOn(in, p, subnetID) {
					r := leg.Router
					switch {
					case r == nil:
						unknown = true
						in.uncheck("router %s on subnet %s is not in the snapshot: path of floating IP %s not decided", leg.ID, subnetID, fl.FloatingIPAddress)
					case r.ExternalGateway != nil && r.ExternalGateway.NetworkID == fl.FloatingNetworkID:
						gwRouters = append(gwRouters, r)
					default:
						otherRouters = append(otherRouters, r)
					}
				}
				for _, r := range gwRouters {
					ev = append(ev, fmt.Sprintf("router %s (%s): interface on subnet %s, gateway on %s", routerLabel(r), r.ID, subnetID, netLabel(s, fl.FloatingNetworkID)))
				}
				for _, r := range otherRouters {
					gw := "none"
					if r.ExternalGateway != nil {
						gw = netLabel(s, r.ExternalGateway.NetworkID)
					}
					ev = append(ev, fmt.Sprintf("router %s (%s): interface on subnet %s, gateway on %s, not on the floating IP's network", routerLabel(r), r.ID, subnetID, gw))
				}
				if len(gwRouters) == 0 && !unknown {
					if len(otherRouters) == 0 {
						ev = append(ev, fmt.Sprintf("router interfaces on subnet %s: none", subnetID))
					}
					problems = append(problems, fmt.Sprintf("is not routed: no router joins subnet %s to network %s", shortID(subnetID), netLabel(s, fl.FloatingNetworkID)))
				}
			}
			if len(problems) == 0 {
				continue
			}
			f := Finding{
				Subject:  fipSubject(fl),
				Summary:  fmt.Sprintf("floating IP %s of %s %s", fl.FloatingIPAddress, portLabel(p), strings.Join(problems, " and ")),
				Evidence: ev,
				Verify:   cmds(cmd("openstack", "floating", "ip", "show", fl.ID, "-c", "status"), cmd("ping", "-c", "3", fl.FloatingIPAddress)),
			}
			switch {
			case subnetID == "":
				f.Remediation = cmds(cmd("openstack", "floating", "ip", "set", "--port", p.ID, "--fixed-ip-address", firstAddr(p), fl.ID))
			case len(gwRouters) == 0 && !unknown && len(otherRouters) > 0:
				r := otherRouters[0]
				f.Remediation = cmds(cmd("openstack", "router", "set", "--external-gateway", fl.FloatingNetworkID, r.ID).Comment(routerLabel(r) + " → " + netLabel(s, fl.FloatingNetworkID)))
			case len(gwRouters) == 0 && !unknown:
				f.Remediation = routeToFloatingNet(s, fl, subnetID)
			default:
				rid := fl.RouterID
				if rid == "" && len(gwRouters) > 0 {
					rid = gwRouters[0].ID
				}
				f.Remediation = cmds(cmd("openstack", "network", "agent", "list", "--router", rid, "--long"))
				if s.Gap(snapshot.SourceL3Agents) == nil && s.Gap(snapshot.SourceAgents) == nil {
					for _, h := range topology.Hostings(s, rid) {
						if h.Agent != nil {
							f.Evidence = append(f.Evidence, hostingLine(h))
							f.Remediation = append(f.Remediation, cmd("systemctl", "restart", "neutron-l3-agent").Comment("on host "+h.Agent.Host+" if its log shows the floating IP failing"))
						}
					}
				}
				f.Remediation = append(f.Remediation,
					cmd("openstack", "floating", "ip", "unset", "--port", fl.ID).Comment("re-associate to make the agent redo the NAT"),
					cmd("openstack", "floating", "ip", "set", "--port", p.ID, fl.ID))
			}
			out = append(out, f)
		}
		return out
	},
}

func serverPort(s *snapshot.Snapshot, id string) *snapshot.Port {
	for i := range s.Ports {
		if s.Ports[i].ID == id {
			return &s.Ports[i]
		}
	}
	return nil
}

// subnetOfAddr returns the subnet of the port's fixed IP addr ("" when the
// port has no such address); an empty addr means the port's first IPv4.
func subnetOfAddr(p *snapshot.Port, addr string) string {
	want, err := netip.ParseAddr(addr)
	for _, f := range p.FixedIPs {
		a, e := netip.ParseAddr(f.IPAddress)
		if e != nil {
			continue
		}
		if (err == nil && a == want) || (addr == "" && a.Is4()) {
			return f.SubnetID
		}
	}
	return ""
}

func firstAddr(p *snapshot.Port) string {
	if as := portAddrs(p, 4); len(as) > 0 {
		return as[0]
	}
	return "FIXED_IP"
}

// routeToFloatingNet joins a subnet to a router with a gateway on the
// floating IP's network.
func routeToFloatingNet(s *snapshot.Snapshot, fl *snapshot.FloatingIP, subnetID string) []shell.Cmd {
	for i := range s.Routers {
		r := &s.Routers[i]
		if r.ExternalGateway != nil && r.ExternalGateway.NetworkID == fl.FloatingNetworkID {
			return cmds(cmd("openstack", "router", "add", "subnet", r.ID, subnetID).Comment(routerLabel(r)))
		}
	}
	return cmds(
		cmd("openstack", "router", "list", "--long").Comment(fmt.Sprintf("a router with a gateway on %s: openstack router add subnet ROUTER %s", netLabel(s, fl.FloatingNetworkID), subnetID)),
		cmd("openstack", "router", "create", "fip-router"),
		cmd("openstack", "router", "set", "--external-gateway", fl.FloatingNetworkID, "fip-router"),
		cmd("openstack", "router", "add", "subnet", "fip-router", subnetID),
	)
}
