package rule

import (
	"fmt"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// Namespaces and what runs in them, against what the API says.

var hostNetnsMissing = &Rule{
	Name:     "host/netns-missing",
	Severity: Error,
	Title:    "A qdhcp- or qrouter- namespace is missing on its agent's host",
	Doc: `The DHCP agent serves a network from a namespace qdhcp-<network id> on its
host, and the L3 agent routes from qrouter-<router id> on the host it is
scheduled to. When the API says an agent hosts the network or router but the
namespace is not there, the agent failed to build it (a privsep or
rootwrap error, a crash, a namespace deleted by hand): DHCP or routing for
that network silently stops, while the API still looks healthy.

hoofbeat lists the named network namespaces on the agents' hosts (netlink
when local, one batched command over SSH) and compares them with the DHCP
agents of each of the server's networks and the L3 agents of its routers.
Under ML2/OVN there are no such namespaces: the rule does not apply.`,
	Fix:   "Restart the agent on that host so that it resyncs (systemctl restart neutron-dhcp-agent / neutron-l3-agent) and read its log for why it failed.",
	Needs: []string{snapshot.SourceHosts, snapshot.SourceAgents, snapshot.SourceDHCPAgents, snapshot.SourceL3Agents},
	// A denial on the host explains what the agents failed to build there.
	Causes:        []*Rule{hostSELinuxDenial},
	Hop:           HopHosts,
	NotApplicable: notOnOVN,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if s.Server == nil {
			return nil
		}
		var out []Finding
		miss := func(host, ns, what, unit string, evidence []string) {
			h := reachedNamed(in, host)
			if h == nil || !partOK(in, h, "namespaces", h.NamespacesError) {
				return
			}
			if namespace(h, ns) != nil {
				return
			}
			f := Finding{Subject: hostSubject(h), Devices: []DeviceRef{{Host: host, NS: ns}},
				Summary:  fmt.Sprintf("namespace %s is missing on host %s: %s", ns, host, what),
				Evidence: append([]string{fmt.Sprintf("host %s has %d named network namespaces, none is %s", host, len(h.Namespaces), ns)}, evidence...),
				Remediation: cmds(
					onHost(cmd("systemctl", "restart", unit), host),
					onHost(cmd("journalctl", "-u", unit, "-n", "200").Pipe("grep", "-iE", "error|netns"), host+": why the namespace was not built"),
				),
				Verify: cmds(onHost(cmd("ip", "netns", "list").Pipe("grep", "-F", "-e", ns), host)),
			}
			out = append(out, f)
		}
		for n, host := range dhcpHosts(in) {
			miss(host, "qdhcp-"+n.ID, "the DHCP agent there serves network "+n.Name+" from it, so no lease is handed out from this host",
				"neutron-dhcp-agent", []string{fmt.Sprintf("network %s (%s) is hosted by the DHCP agent on %s", n.Name, n.ID, host)})
		}
		for _, at := range in.View().Routers {
			for _, host := range at.L3Hosts() {
				name := routerOrID(at)
				miss(host, "qrouter-"+at.ID, "router "+name+" is scheduled there but does not exist: nothing routes the server's subnet",
					"neutron-l3-agent", []string{fmt.Sprintf("router %s (%s) is hosted by the L3 agent on %s", name, at.ID, host)})
			}
		}
		return out
	},
}

var hostRouterInterfaceMissing = &Rule{
	Name:     "host/router-interface-missing",
	Severity: Error,
	Title:    "The qrouter namespace lacks a qr-/qg- device, or it has the wrong address",
	Doc: `Each router interface the API lists must exist in the router's namespace on
the L3 agent's host as a device qr-<port id[:11]> carrying the port's fixed
IP, and the gateway as qg-<port id[:11]> carrying the external fixed IPs.
A namespace with only lo, or a qr- device deleted or without its address,
means the router answers nothing on that subnet: the instances lose their
gateway, floating IPs stop working, and the API still says ACTIVE.

hoofbeat reads the devices and addresses in qrouter-<router> on each L3
agent hosting the router and compares them with the router's interface
ports on the server's subnets and its external gateway.`,
	Fix:   "Restart the L3 agent on that host so that it rebuilds the router (systemctl restart neutron-l3-agent); if it keeps failing, read its log for RTNETLINK errors.",
	Needs: []string{snapshot.SourceHosts, snapshot.SourceAgents, snapshot.SourceL3Agents, snapshot.SourceNetworkPorts},
	// A denial on the host explains what the agents failed to build there.
	Causes:        []*Rule{hostSELinuxDenial},
	Hop:           HopHosts,
	NotApplicable: notOnOVN,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if s.Server == nil {
			return nil
		}
		var out []Finding
		for _, at := range in.View().Routers {
			for _, host := range at.L3Hosts() {
				ns := readableNamespace(in, host, "qrouter-"+at.ID)
				if ns == nil {
					continue
				}
				var problems, evidence []string
				port := at.Port
				dev := deviceName("qr-", port.ID)
				want := expectedAddrs(s, &port)
				if l := linkNamed(ns.Links, dev); l == nil {
					problems = append(problems, fmt.Sprintf("%s (router interface %s, %s) is missing", dev, shortID(port.ID), strings.Join(want, ", ")))
				} else if m := missingAddrs(l, want); len(m) > 0 {
					problems = append(problems, fmt.Sprintf("%s lacks %s", dev, strings.Join(m, ", ")))
					evidence = append(evidence, linkLine(l))
				}
				if at.Router != nil && at.Router.ExternalGateway != nil {
					for _, fip := range at.Router.ExternalGateway.ExternalFixedIPs {
						found := false
						for i := range ns.Links {
							l := &ns.Links[i]
							if !strings.HasPrefix(l.Name, "qg-") {
								continue
							}
							for _, a := range l.Addrs {
								if strings.HasPrefix(a, fip.IPAddress+"/") {
									found = true
								}
							}
						}
						if !found {
							problems = append(problems, fmt.Sprintf("no qg- device carries the gateway address %s", fip.IPAddress))
						}
					}
				}
				if len(problems) == 0 {
					continue
				}
				name := routerOrID(at)
				f := Finding{Subject: Subject{Kind: "router", ID: at.ID, Name: name}, Host: host, Devices: []DeviceRef{{Host: host, NS: ns.Name, Name: dev}},
					Summary:  fmt.Sprintf("router %s's namespace on host %s: %s", name, host, strings.Join(problems, "; ")),
					Evidence: append([]string{fmt.Sprintf("devices in %s on %s: %s", ns.Name, host, nsDevices(ns))}, evidence...),
					Remediation: cmds(
						onHost(cmd("systemctl", "restart", "neutron-l3-agent"), host+": the agent rebuilds the router's devices"),
						onHost(cmd("grep", "-E", "RTNETLINK|netns", "/var/log/neutron/neutron-l3-agent.log").Pipe("tail"), host),
					),
					Verify: cmds(onHost(cmd("ip", "-n", ns.Name, "-br", "addr"), host)),
				}
				out = append(out, f)
			}
		}
		return out
	},
}

// dhcpPortsOn returns a network's DHCP ports bound to host (all of them
// when bindings are hidden).
func dhcpPortsOn(s *snapshot.Snapshot, networkID, host string) []snapshot.Port {
	var out []snapshot.Port
	for _, p := range topology.DHCPPorts(s, networkID) {
		if p.BindingHostID == "" || p.BindingHostID == host {
			out = append(out, p)
		}
	}
	return out
}

var hostDHCPInterfaceMissing = &Rule{
	Name:     "host/dhcp-interface-missing",
	Severity: Error,
	Title:    "The qdhcp namespace lacks the DHCP port's device or its address",
	Doc: `The DHCP agent plugs its port into qdhcp-<network> as tap<port id[:11]>
(Open vSwitch) or ns-<port id[:11]> (Linux bridge) with the port's fixed IP;
dnsmasq listens there. A namespace without that device, or with the device
but not the address, answers no DHCP request: guests boot without an address.

hoofbeat reads the devices in qdhcp-<network> on each DHCP agent's host and
compares them with the network's DHCP ports bound to that host.`,
	Fix:   "Restart the DHCP agent on that host (systemctl restart neutron-dhcp-agent) so that it re-plugs its port.",
	Needs: []string{snapshot.SourceHosts, snapshot.SourceAgents, snapshot.SourceDHCPAgents, snapshot.SourceNetworkPorts},
	// A denial on the host explains what the agents failed to build there.
	Causes:        []*Rule{hostSELinuxDenial},
	Hop:           HopHosts,
	NotApplicable: notOnOVN,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if s.Server == nil {
			return nil
		}
		var out []Finding
		for n, host := range dhcpHosts(in) {
			ns := readableNamespace(in, host, "qdhcp-"+n.ID)
			if ns == nil {
				continue
			}
			var problems, evidence []string
			for _, p := range dhcpPortsOn(s, n.ID, host) {
				want := expectedAddrs(s, &p)
				l := linkNamed(ns.Links, deviceName("tap", p.ID))
				if l == nil {
					l = linkNamed(ns.Links, deviceName("ns-", p.ID))
				}
				if l == nil {
					problems = append(problems, fmt.Sprintf("no device %s or %s for DHCP port %s (%s)", deviceName("tap", p.ID), deviceName("ns-", p.ID), shortID(p.ID), strings.Join(want, ", ")))
					continue
				}
				if m := missingAddrs(l, want); len(m) > 0 {
					problems = append(problems, fmt.Sprintf("%s lacks %s", l.Name, strings.Join(m, ", ")))
					evidence = append(evidence, linkLine(l))
				}
			}
			if len(problems) == 0 {
				continue
			}
			out = append(out, Finding{Subject: networkSubject(n), Host: host, Devices: []DeviceRef{{Host: host, NS: ns.Name}},
				Summary:  fmt.Sprintf("network %s's DHCP namespace on host %s: %s", n.Name, host, strings.Join(problems, "; ")),
				Evidence: append([]string{fmt.Sprintf("devices in %s on %s: %s", ns.Name, host, nsDevices(ns))}, evidence...),
				Remediation: cmds(
					onHost(cmd("systemctl", "restart", "neutron-dhcp-agent"), host),
				),
				Verify: cmds(onHost(cmd("ip", "-n", ns.Name, "-br", "addr"), host)),
			})
		}
		return out
	},
}

// dnsmasqFor returns the dnsmasq processes serving a network.
func dnsmasqFor(h *snapshot.Host, networkID string) []snapshot.Process {
	var out []snapshot.Process
	for _, p := range h.Processes {
		if strings.Contains(p.Args, "dnsmasq") && strings.Contains(p.Args, "/"+networkID+"/") && !strings.Contains(p.Args, "neutron-dhcp-agent") {
			out = append(out, p)
		}
	}
	return out
}

var hostDnsmasqNotRunning = &Rule{
	Name:     "host/dnsmasq-not-running",
	Severity: Error,
	Title:    "dnsmasq does not run for the network on its DHCP agent's host",
	Doc: `The DHCP agent starts one dnsmasq per network it hosts, with its files under
/var/lib/neutron/dhcp/<network id>/. If that process died (killed, crashed
on a bad option, refused by SELinux) the namespace and its port are still
there and the API is healthy, but no DHCP request is answered; the agent
only notices at its next resync.

hoofbeat reads the process list on each DHCP agent's host and looks for a
dnsmasq whose arguments name the network's directory.`,
	Fix:   "Restart the DHCP agent on that host (systemctl restart neutron-dhcp-agent): it restarts dnsmasq; read its log if dnsmasq dies again.",
	Needs: []string{snapshot.SourceHosts, snapshot.SourceAgents, snapshot.SourceDHCPAgents},
	// A denial on the host explains what the agents failed to build there.
	Causes:        []*Rule{hostSELinuxDenial},
	Hop:           HopHosts,
	NotApplicable: notOnOVN,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if s.Server == nil {
			return nil
		}
		var out []Finding
		for n, host := range dhcpHosts(in) {
			h := reachedNamed(in, host)
			if h == nil || !partOK(in, h, "processes", h.ProcessesError) {
				continue
			}
			if len(dnsmasqFor(h, n.ID)) > 0 {
				continue
			}
			var others []string
			for _, p := range h.Processes {
				if strings.HasPrefix(p.Args, "dnsmasq") || strings.Contains(p.Args, "/dnsmasq ") {
					others = append(others, fmt.Sprintf("pid %d", p.PID))
				}
			}
			ev := []string{fmt.Sprintf("no process on %s has dnsmasq with /var/lib/neutron/dhcp/%s/ in its arguments", host, n.ID)}
			if len(others) > 0 {
				ev = append(ev, "other dnsmasq processes: "+strings.Join(others, ", "))
			}
			out = append(out, Finding{Subject: networkSubject(n), Host: host, Devices: []DeviceRef{{Host: host, NS: "qdhcp-" + n.ID}},
				Summary:  fmt.Sprintf("dnsmasq is not running for network %s on host %s: no DHCP answers from there", n.Name, host),
				Evidence: ev,
				Remediation: cmds(
					onHost(cmd("systemctl", "restart", "neutron-dhcp-agent"), host+": it restarts dnsmasq"),
					onHost(cmd("grep", "-i", "dnsmasq", "/var/log/neutron/neutron-dhcp-agent.log").Pipe("tail"), host+": why it stopped"),
				),
				Verify: cmds(onHost(cmd("pgrep", "-af", "dnsmasq.*"+n.ID), host)),
			})
		}
		return out
	},
}

var hostInstanceUnreachable = &Rule{
	Name:     "host/instance-unreachable-from-dhcp-namespace",
	Severity: Error,
	Title:    "The instance does not answer a ping from its network's DHCP namespace",
	Doc: `An active probe, run only with --probe: from inside qdhcp-<network> on the
DHCP agent's host, ping the instance's fixed IP and read the ARP entry. The
namespace sits on the instance's own L2 network, past every router and
floating IP: when the instance answers there but not from outside, the
fault is on the path beyond OpenStack's L2 (router, floating IP, upstream);
when it does not answer and ARP does not resolve, the fault is on the
virtual or physical network between the hosts (tunnels, bridges, VLAN
trunking) or in the guest itself. Security groups apply to this ping too.

Without --probe the rule is skipped and says so: hoofbeat only reads
unless asked.`,
	Fix: "If ARP does not resolve: check the tunnels and bridges between the DHCP host and the compute host (host/tunnel-peer-blocked, host/bridge-missing) and the guest's console. If ARP resolves but ping fails: security groups or the guest's firewall.",
	// The probe's "unreachable" is the symptom of a broken device on the path.
	// ... and, when ARP resolves and the groups admit it, the guest's own firewall.
	Causes: []*Rule{hostDeviceDown, hostVIFDetached, hostMTUTooSmall, hostOVSDeadVLAN, hostOVSTagMismatch, hostOVSFlowMissing,
		hostL2PopEntryMissing, hostTunnelPeerBlocked, hostBridgeMissing, hostOVSPortError, hostTraceDrop, instanceGuestNetworkConfig},
	Needs: []string{snapshot.SourceHosts, snapshot.SourceAgents, snapshot.SourceDHCPAgents},
	Hop:   HopHosts,
	// The probe is opt-in: not asked for, it is no check that could not
	// run, and a healthy run reads healthy.
	NotApplicable: func(s *snapshot.Snapshot) string {
		if r := notOnOVN(s); r != "" {
			return r
		}
		for _, h := range s.Hosts {
			if h.Probed {
				return ""
			}
		}
		return "it is the active probe, off unless asked: --probe pings the server from its DHCP namespace"
	},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if s.Server == nil {
			return nil
		}
		var out []Finding
		for n, host := range dhcpHosts(in) {
			h := reachedNamed(in, host)
			if h == nil {
				continue
			}
			if !h.Probed {
				in.uncheck("host %s: the active probe (ping from qdhcp-%s) is off: run with --probe", host, shortID(n.ID))
				continue
			}
			for _, pr := range h.Probes {
				if pr.Namespace != "qdhcp-"+n.ID {
					continue
				}
				if pr.Error != "" {
					in.uncheck("host %s: probe of %s from %s failed to run: %s", host, pr.Target, pr.Namespace, pr.Error)
					continue
				}
				if pr.Ping {
					continue
				}
				arp := "ARP: unresolved (nothing answers on L2)"
				next := "the L2 path between the DHCP host and the compute host (tunnels, bridges) or the guest itself"
				if pr.ARP != "" {
					arp = "ARP: " + pr.ARP + " (the instance is on the wire)"
					next = "security groups or the guest's own firewall"
				}
				ev := []string{fmt.Sprintf("ping -c 2 %s from %s on %s: no reply", pr.Target, pr.Namespace, host), arp}
				if pr.Output != "" {
					ev = append(ev, "ping: "+strings.ReplaceAll(pr.Output, "\n", " / "))
				}
				out = append(out, Finding{Subject: Subject{Kind: "server", ID: s.Server.ID, Name: s.Server.Name},
					Summary:  fmt.Sprintf("server %s (%s) does not answer a ping from its own network's DHCP namespace on %s: look at %s", s.Server.Name, pr.Target, host, next),
					Evidence: ev,
					Remediation: cmds(
						onHost(cmd("ip", "netns", "exec", pr.Namespace, "ping", "-c", "3", pr.Target), host),
						onHost(cmd("ip", "netns", "exec", pr.Namespace, "ip", "neigh", "show", pr.Target), host),
						cmd("openstack", "console", "log", "show", s.Server.ID).Comment("did the guest configure its interface?"),
					),
					Verify: cmds(onHost(cmd("ip", "netns", "exec", pr.Namespace, "ping", "-c", "3", pr.Target), host)),
				})
			}
		}
		return out
	},
}
