package rule

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// serverNetworks returns the networks of the server's ports; networks
// missing from the snapshot are reported unchecked.
func serverNetworks(in *Input) []*snapshot.Network {
	var out []*snapshot.Network
	for _, id := range serverNetworkIDs(in.Snapshot) {
		if n := in.Snapshot.Network(id); n != nil {
			out = append(out, n)
		} else {
			in.uncheck("network %s of the server's ports is not in the snapshot", id)
		}
	}
	return out
}

func networkSubject(n *snapshot.Network) Subject {
	return Subject{Kind: "network", ID: n.ID, Name: n.Name}
}

var networkAdminDown = &Rule{
	Name:     "network/admin-down",
	Severity: Error,
	Title:    "The server's network is administratively down",
	Doc: `A network with admin_state_up=False carries no traffic: the L2 agents take its
ports down, DHCP stops serving it. hoofbeat reads admin_state_up of every
network the server has a port on; port/down is suppressed for its ports, since
this explains them.`,
	Fix:   "openstack network set --enable NETWORK",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceNetworks},
	Check: func(in *Input) []Finding {
		var out []Finding
		for _, n := range serverNetworks(in) {
			if n.AdminStateUp {
				continue
			}
			out = append(out, Finding{
				Subject:     networkSubject(n),
				Summary:     fmt.Sprintf("network %s%s is administratively down", netLabel(in.Snapshot, n.ID), ofServer(in.Snapshot)),
				Evidence:    []string{"admin_state_up: false", "status: " + n.Status},
				Remediation: cmds(cmd("openstack", "network", "set", "--enable", n.ID)),
				Verify:      cmds(cmd("openstack", "network", "show", n.ID, "-c", "admin_state_up", "-c", "status"), portsStatus(in.Snapshot)),
			})
		}
		return out
	},
}

var networkNotActive = &Rule{
	Name:     "network/not-active",
	Severity: Error,
	Title:    "The server's network is not ACTIVE",
	Doc: `Neutron reports a network's status as ACTIVE once its segment is allocated
and the plugin accepted it; DOWN, BUILD or ERROR means the plugin or a
mechanism driver (OVN's northbound sync, for instance) failed with it.
hoofbeat reads the status of every network the server has a port on; an
admin-down network is reported by network/admin-down instead.`,
	Fix:   "Read neutron-server's log for the network's ID to find why the plugin failed it.",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceNetworks},
	Check: func(in *Input) []Finding {
		var out []Finding
		for _, n := range serverNetworks(in) {
			if n.Status == "ACTIVE" || !n.AdminStateUp {
				continue
			}
			out = append(out, Finding{
				Subject:  networkSubject(n),
				Summary:  fmt.Sprintf("network %s%s is %s, not ACTIVE", netLabel(in.Snapshot, n.ID), ofServer(in.Snapshot), orNone(n.Status)),
				Evidence: []string{"status: " + orNone(n.Status), "admin_state_up: true"},
				Remediation: cmds(
					cmd("grep", "-F", "-e", n.ID, "/var/log/neutron/neutron-server.log").Comment("on the controller: why the plugin failed the network"),
				),
				Verify: cmds(cmd("openstack", "network", "show", n.ID, "-c", "status")),
			})
		}
		return out
	},
}

var networkNoDHCPPort = &Rule{
	Name:     "network/no-dhcp-port",
	Severity: Error,
	Title:    "DHCP is enabled but no DHCP port serves the network",
	Doc: `Each DHCP agent that serves a network creates a port with device_owner
network:dhcp on it (its dnsmasq's address). DHCP enabled on a subnet but no
such port means no dnsmasq answers the guest's DHCPDISCOVER: it never gets an
address.

hoofbeat lists the network:dhcp ports on every network of the server that has
a DHCP-enabled subnet. When the agents are visible (admin) and the network is
hosted by no DHCP agent, or only by dead ones, agent/dhcp-not-hosting or
agent/dhcp-down explains it and this finding is left out; what remains is a
live agent that failed to create its port (often: no free address). ML2/OVN
serves DHCP natively with no such port: with OVN agents visible the rule does
not apply, and without admin it cannot tell OVN apart, so the finding is then
a warning. A network of another project hides its DHCP port from non-admins:
reported as not checked.`,
	Fix:           "Make a live DHCP agent host the network (openstack network agent add network --dhcp AGENT NETWORK) and check its log.",
	Needs:         []string{snapshot.SourcePorts, snapshot.SourceNetworks, snapshot.SourceSubnets, snapshot.SourceNetworkPorts},
	Hop:           HopDHCP,
	NotApplicable: notOnOVN,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		agentsSeen := s.Gap(snapshot.SourceAgents) == nil
		hostingSeen := agentsSeen && s.Gap(snapshot.SourceDHCPAgents) == nil
		var out []Finding
		for _, n := range serverNetworks(in) {
			subs := dhcpEnabledSubnets(s, n.ID)
			if len(subs) == 0 || len(topology.DHCPPorts(s, n.ID)) > 0 {
				continue
			}
			if othersHidden(s, n) {
				in.uncheck("network %s belongs to another project: its DHCP port is not visible without admin", netLabel(s, n.ID))
				continue
			}
			var live []*snapshot.Agent
			if hostingSeen {
				for _, id := range s.DHCPAgents[n.ID] {
					if a := s.Agent(id); a != nil && agentUp(a) {
						live = append(live, a)
					}
				}
				if len(live) == 0 {
					continue // agent/dhcp-not-hosting or agent/dhcp-down
				}
			}
			var names []string
			for _, sn := range subs {
				names = append(names, subnetLabel(sn))
			}
			f := Finding{
				Subject: networkSubject(n),
				Summary: fmt.Sprintf("network %s has DHCP enabled but no DHCP port: no dnsmasq answers the guest", netLabel(s, n.ID)),
				Evidence: []string{
					"subnets with enable_dhcp: " + strings.Join(names, ", "),
					fmt.Sprintf("ports with device_owner %s on network %s: none", snapshot.OwnerDHCP, n.ID),
				},
				Verify: cmds(cmd("openstack", "port", "list", "--network", n.ID, "--device-owner", snapshot.OwnerDHCP)),
			}
			switch {
			case hostingSeen:
				for _, a := range live {
					f.Evidence = append(f.Evidence, fmt.Sprintf("%s hosts the network and is alive: it failed to create its port", agentLabel(a)))
					f.Remediation = append(f.Remediation,
						onHost(cmd("journalctl", "-u", "neutron-dhcp-agent", "--since", "-1h").Pipe("grep", "-F", "-e", n.ID), a.Host+": why it has no port (no free address? see subnet/pool-exhausted)"),
						onHost(cmd("systemctl", "restart", "neutron-dhcp-agent"), a.Host))
				}
			default:
				f.Severity = Warning
				f.Evidence = append(f.Evidence, "agents: not visible, so the hosting DHCP agents are unknown; on ML2/OVN, DHCP has no port and this finding does not apply")
				f.Remediation = cmds(
					cmd("openstack", "network", "agent", "list", "--network", n.ID).Comment("as admin: which DHCP agents host it, and are they alive?"),
					cmd("openstack", "network", "agent", "add", "network", "--dhcp", "DHCP_AGENT_ID", n.ID).Comment("as admin, if none does"),
				)
			}
			out = append(out, f)
		}
		return out
	},
}

var networkSegment = &Rule{
	Name:     "network/segment",
	Severity: Info,
	Title:    "How the network reaches the hosts",
	Doc: `The provider attributes say how a network's traffic travels between hosts:
provider:network_type (vxlan, geneve, gre tunnels between the hosts' tunnel
addresses; vlan or flat on a physical network; local on one host),
provider:segmentation_id (the VLAN ID or VNI) and provider:physical_network.
When everything in OpenStack looks right but the instance is still
unreachable from another host, the fault is usually here, outside OpenStack:
a VLAN ID must be trunked on every switch port of every host on that physical
network, the control and network nodes included; tunnels need the hosts'
tunnel addresses to reach each other (UDP 4789 for VXLAN, 6081 for GENEVE,
IP protocol 47 for GRE).

This is information, shown for every network of the server. The provider
attributes are admin-only: without admin the rule is skipped.`,
	Fix:     "Nothing to fix in OpenStack; check the physical network: VLAN trunking on every host's switch port, or tunnel reachability between the hosts.",
	Needs:   []string{snapshot.SourcePorts, snapshot.SourceNetworks, snapshot.SourceProviderFields},
	Context: true,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, n := range serverNetworks(in) {
			pv := n.Provider
			if pv == nil {
				in.uncheck("network %s came without its provider attributes", netLabel(s, n.ID))
				continue
			}
			seg := "none"
			if pv.SegmentationID != nil {
				seg = strconv.Itoa(*pv.SegmentationID)
			}
			f := Finding{
				Subject: networkSubject(n),
				Evidence: []string{
					"provider:network_type: " + pv.NetworkType,
					"provider:segmentation_id: " + seg,
					"provider:physical_network: " + orNone(pv.PhysicalNetwork),
					fmt.Sprintf("mtu: %d", n.MTU),
				},
			}
			name := netLabel(s, n.ID)
			switch pv.NetworkType {
			case "vlan":
				f.Summary = fmt.Sprintf("network %s is VLAN %s on physical network %s: the VLAN must be trunked on every switch port of every host, control plane included", name, seg, pv.PhysicalNetwork)
				for _, m := range physnetInterfaces(s, pv.PhysicalNetwork) {
					f.Look = append(f.Look, onHost(cmd("tcpdump", "-e", "-n", "-i", m.iface, "vlan", seg), m.host+" while pinging: tagged frames must appear on every host"))
				}
				if len(f.Look) == 0 {
					f.Look = cmds(cmd("tcpdump", "-e", "-n", "-i", "PHYSNET_INTERFACE", "vlan", seg).Comment("on each host while pinging: tagged frames must appear everywhere"))
				}
			case "flat":
				f.Summary = fmt.Sprintf("network %s is flat (untagged) on physical network %s: every host's interface for it must be on the same L2 segment", name, pv.PhysicalNetwork)
				for _, m := range physnetInterfaces(s, pv.PhysicalNetwork) {
					f.Look = append(f.Look, onHost(cmd("tcpdump", "-e", "-n", "-i", m.iface), m.host+" while pinging"))
				}
			case "vxlan", "geneve", "gre":
				f.Summary = fmt.Sprintf("network %s is %s segment %s: its traffic tunnels between the hosts' tunnel addresses", name, pv.NetworkType, seg)
				for _, a := range s.Agents {
					if a.TunnelingIP != "" {
						f.Evidence = append(f.Evidence, fmt.Sprintf("tunneling_ip of %s: %s", agentLabel(&a), a.TunnelingIP))
					}
				}
				filter := map[string][]string{"vxlan": {"udp", "port", "4789"}, "geneve": {"udp", "port", "6081"}, "gre": {"ip", "proto", "47"}}[pv.NetworkType]
				f.Look = cmds(cmd(append([]string{"tcpdump", "-n", "-i", "any"}, filter...)...).Comment("on the compute and network hosts while pinging: encapsulated packets must arrive on both"))
			case "local":
				f.Summary = fmt.Sprintf("network %s is local: only instances on the same host reach each other", name)
			default:
				f.Summary = fmt.Sprintf("network %s is of type %s, segment %s", name, pv.NetworkType, seg)
			}
			f.Look = append(f.Look, cmd("openstack", "network", "show", n.ID, "-c", "provider:network_type", "-c", "provider:segmentation_id", "-c", "provider:physical_network", "-c", "mtu"))
			out = append(out, f)
		}
		return out
	},
}

type hostIface struct{ host, iface string }

// physnetInterfaces lists, from the L2 agents' mappings, the interface or
// bridge each host uses for a physical network.
func physnetInterfaces(s *snapshot.Snapshot, physnet string) []hostIface {
	var out []hostIface
	for i := range s.Agents {
		a := &s.Agents[i]
		if m := agentMappings(a); m != nil {
			if raw, ok := m[physnet]; ok {
				out = append(out, hostIface{a.Host, strings.Trim(string(raw), `"`)})
			}
		}
	}
	return out
}

// Encapsulation overheads Neutron uses over an IPv4 underlay (the outer
// IPv6 header adds 20 more). GENEVE's is OVN's usual 58 (max_header_size 38).
var overlayOverhead = map[string]int{"vxlan": 50, "geneve": 58, "gre": 42}

// defaultPhysnetMTU is Neutron's default global_physnet_mtu.
const defaultPhysnetMTU = 1500

var networkMTUMismatch = &Rule{
	Name:     "network/mtu-mismatch",
	Severity: Warning,
	Title:    "The network's MTU does not fit in the underlay",
	Doc: `An overlay network's packets travel inside the tunnel, which adds a header:
VXLAN 50 bytes, GENEVE 58 (OVN), GRE 42 (20 more each over an IPv6 underlay).
Neutron sizes a network's MTU as global_physnet_mtu minus that overhead (1450
for VXLAN over the default 1500). A network whose MTU plus the overhead
exceeds what the underlay carries drops every packet larger than the
difference: pings with the default size work, but SSH stalls after the key
exchange, HTTP hangs on large responses, and anything with the DF bit set
breaks silently. The usual cause is an MTU set by hand (openstack network
set --mtu 1500) or a global_physnet_mtu raised without jumbo frames on the
switches.

hoofbeat reads the MTU and network type (admin-only) of the server's overlay
networks. The underlay's real MTU is not collected: hoofbeat assumes
Neutron's default global_physnet_mtu of 1500 and says so in the evidence. If
the underlay does carry jumbo frames, this finding is wrong and can be
excluded. The overhead grows to IPv6's when the L2 agents' tunneling_ip is
IPv6.`,
	Fix:   "Lower the network MTU to fit (openstack network set --mtu N NETWORK, then let guests renew their lease), or raise the underlay MTU on every host and switch and global_physnet_mtu to match.",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceNetworks, snapshot.SourceProviderFields},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, n := range serverNetworks(in) {
			if n.Provider == nil {
				in.uncheck("network %s came without its provider attributes", netLabel(s, n.ID))
				continue
			}
			overhead, overlay := overlayOverhead[n.Provider.NetworkType]
			if !overlay {
				continue
			}
			if n.MTU <= 0 {
				in.uncheck("network %s reports no MTU", netLabel(s, n.ID))
				continue
			}
			outer := "IPv4"
			if tunnelsOverIPv6(s) {
				overhead += 20
				outer = "IPv6"
			}
			fits := defaultPhysnetMTU - overhead
			if n.MTU <= fits {
				continue
			}
			out = append(out, Finding{
				Subject: networkSubject(n),
				Summary: fmt.Sprintf("network %s (%s) has MTU %d, but a %d-byte underlay carries at most %d inside %s: larger packets are dropped", netLabel(s, n.ID), n.Provider.NetworkType, n.MTU, defaultPhysnetMTU, fits, strings.ToUpper(n.Provider.NetworkType)),
				Evidence: []string{
					fmt.Sprintf("mtu: %d", n.MTU),
					fmt.Sprintf("provider:network_type: %s (encapsulation overhead %d bytes over an %s underlay)", n.Provider.NetworkType, overhead, outer),
					fmt.Sprintf("underlay MTU: not collected; assuming Neutron's default global_physnet_mtu = %d", defaultPhysnetMTU),
					fmt.Sprintf("needed underlay MTU: %d", n.MTU+overhead),
				},
				Remediation: slices.Concat(
					cmds(cmd("openstack", "network", "set", "--mtu", strconv.Itoa(fits), n.ID)),
					rebootServer(s, "the guest learns the MTU from DHCP"),
					cmds(note(fmt.Sprintf("or, if the underlay can carry jumbo frames: set the MTU of every host's tunnel interface and switch port to at least %d, and global_physnet_mtu = %d in neutron.conf", n.MTU+overhead, n.MTU+overhead))),
				),
				Verify: cmds(
					cmd("openstack", "network", "show", n.ID, "-c", "mtu"),
					cmd("ip", "netns", "exec", "qdhcp-"+n.ID, "ping", "-M", "do", "-s", strconv.Itoa(fits-28), "-c", "3", firstAddrOn(s, n.ID)).Comment("on the DHCP agent's host: the largest unfragmented ping must get through"),
				),
			})
		}
		return out
	},
}

// tunnelsOverIPv6 reports whether the visible L2 agents tunnel over IPv6.
func tunnelsOverIPv6(s *snapshot.Snapshot) bool {
	for _, a := range s.Agents {
		if ip, err := netip.ParseAddr(a.TunnelingIP); err == nil && familyOf(ip) == 6 {
			return true
		}
	}
	return false
}

// firstAddrOn returns the server's first IPv4 address on a network.
func firstAddrOn(s *snapshot.Snapshot, networkID string) string {
	for i := range s.Ports {
		if p := &s.Ports[i]; p.NetworkID == networkID {
			if as := portAddrs(p, 4); len(as) > 0 {
				return as[0]
			}
		}
	}
	return "SERVER_IP"
}
