package pipeline

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// tunnelTypes are the network types whose packets reach a host by br-tun.
var tunnelTypes = map[string]bool{"vxlan": true, "gre": true, "geneve": true}

// TraceTargets are the packets traced through Open vSwitch on each of the
// server's compute hosts (ofproto/trace: nothing is sent): the default
// ping, an ICMP echo from the network's DHCP port, and each --check flow
// from the router's interface on the server's subnet. A packet enters by
// its sender's own port when the sender is on the same host, else by the
// tunnel to the sender's host (a flat or VLAN network's, by the NIC of its
// physical bridge). What cannot be traced says why. MACs and
// addresses are parsed and printed again: a string from the cloud never
// becomes part of a flow as it is.
func TraceTargets(s *snapshot.Snapshot, flows []rule.Flow) map[string][]host.TraceSpec {
	out := map[string][]host.TraceSpec{}
	if s.Server == nil {
		return out
	}
	v := topology.New(s)
	for _, p := range v.Ports {
		vifHost := p.BindingHostID
		if vifHost == "" {
			vifHost = s.Server.Host
		}
		dstMAC, err := net.ParseMAC(p.MACAddress)
		dst, subnet := firstIPv4(p.FixedIPs)
		if vifHost == "" || err != nil || !dst.IsValid() {
			continue // no host, no MAC or no IPv4 address to trace to
		}
		add := func(ts host.TraceSpec) {
			ts.Port = p.ID
			out[vifHost] = append(out[vifHost], ts)
		}
		vni, why := tunnelVNI(p.Network)
		// from sets where a packet from senderHost's port enters.
		from := func(ts *host.TraceSpec, senderHost, senderPort string) {
			switch {
			case senderHost == vifHost:
				ts.FromPort = "tap" + prefix(senderPort, 11)
			case why == errProvider:
				// Flat or VLAN: in by the physical bridge of the network's
				// physical network, from its NIC.
				pv := p.Network.Provider
				ts.FromBridge = bridgeMapping(s, vifHost, pv.PhysicalNetwork)
				if pv.SegmentationID != nil {
					ts.VLAN = *pv.SegmentationID
				}
				if ts.FromBridge == "" {
					ts.Skip = fmt.Sprintf("the Open vSwitch agent on %s maps no bridge to physical network %s", vifHost, pv.PhysicalNetwork)
				}
			case why != "":
				ts.Skip = why
			default:
				ts.FromTunnel, ts.VNI = tunnelingIP(s, senderHost), vni
				if ts.FromTunnel == "" {
					ts.Skip = "no Open vSwitch agent with a tunnel address is known on " + orUnknown(senderHost)
				}
			}
		}
		ping := host.TraceSpec{Label: "ping from the DHCP port"}
		if dp, src := dhcpSender(p.DHCPPorts, subnet); dp == nil {
			ping.Skip = "no DHCP port with an IPv4 address on the subnet"
			add(ping)
		} else {
			ping.Label += " " + src.String()
			srcMAC, _ := net.ParseMAC(dp.MACAddress)
			ping.Packet = fmt.Sprintf("icmp,dl_src=%s,dl_dst=%s,nw_src=%s,nw_dst=%s,icmp_type=8,icmp_code=0", srcMAC, dstMAC, src, dst)
			from(&ping, dp.BindingHostID, dp.ID)
			add(ping)
		}
		for _, f := range flows {
			ts := host.TraceSpec{Label: f.String()}
			leg, ok := legOn(p.Routers, subnet)
			match, okProto := flowMatch(f)
			srcMAC, errMAC := net.ParseMAC(leg.Port.MACAddress)
			src := f.From.Addr()
			switch {
			case !f.From.Addr().Is4():
				ts.Skip = "IPv6 flows are not traced yet"
			case !okProto:
				ts.Skip = "protocol " + f.Protocol + " is not traced"
			case !ok || errMAC != nil:
				ts.Skip = "no router interface on the server's subnet: nothing from outside reaches it"
			case len(leg.L3Hosts()) == 0:
				ts.Skip = "the router is on no active L3 agent"
			}
			if ts.Skip != "" {
				add(ts)
				continue
			}
			if f.From.Bits() < 31 {
				src = src.Next() // the prefix's first host, not its network address
			}
			if f.From.Bits() == 0 {
				// From anywhere: an outside address the router really
				// forwards from, its gateway's.
				if gw := leg.Gateway(); gw != nil {
					if a, _ := firstIPv4(gw.ExternalFixedIPs); a.IsValid() {
						src = a
					}
				}
			}
			name := leg.ID
			if leg.Router != nil && leg.Router.Name != "" {
				name = leg.Router.Name
			}
			ts.Label += " through router " + name
			ts.Packet = fmt.Sprintf("%s,dl_src=%s,dl_dst=%s,nw_src=%s,nw_dst=%s", match, srcMAC, dstMAC, src, dst)
			from(&ts, leg.L3Hosts()[0], leg.Port.ID)
			add(ts)
		}
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "the sender's host (unknown)"
	}
	return s
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// firstIPv4 is the first IPv4 address of the fixed IPs, with its subnet.
func firstIPv4(ips []snapshot.FixedIP) (netip.Addr, string) {
	for _, f := range ips {
		if a, err := netip.ParseAddr(f.IPAddress); err == nil && a.Is4() {
			return a, f.SubnetID
		}
	}
	return netip.Addr{}, ""
}

// errProvider says a network's packets come by a physical bridge.
const errProvider = "a flat or VLAN network: its packets enter by the physical bridge"

// tunnelVNI is a tunnelled network's VNI, or why its packets do not come
// by a tunnel.
func tunnelVNI(n *snapshot.Network) (int, string) {
	switch {
	case n == nil || n.Provider == nil:
		return 0, "the network's segment is not known (needs admin)"
	case (n.Provider.NetworkType == "flat" || n.Provider.NetworkType == "vlan") && n.Provider.PhysicalNetwork != "":
		return 0, errProvider
	case !tunnelTypes[n.Provider.NetworkType] || n.Provider.SegmentationID == nil:
		return 0, fmt.Sprintf("a %s network is not traced", n.Provider.NetworkType)
	}
	return *n.Provider.SegmentationID, ""
}

// bridgeMapping is the bridge the Open vSwitch agent on a host maps to a
// physical network (its bridge_mappings), or "".
func bridgeMapping(s *snapshot.Snapshot, hostName, physnet string) string {
	for _, a := range s.Agents {
		if a.Host != hostName || a.AgentType != snapshot.AgentTypeOVS {
			continue
		}
		var c struct {
			BridgeMappings map[string]string `json:"bridge_mappings"`
		}
		if json.Unmarshal(a.Configurations, &c) == nil {
			return c.BridgeMappings[physnet]
		}
	}
	return ""
}

// tunnelingIP is the tunnel address of the Open vSwitch agent on a host.
func tunnelingIP(s *snapshot.Snapshot, hostName string) string {
	for _, a := range s.Agents {
		if a.Host == hostName && a.AgentType == snapshot.AgentTypeOVS {
			if ip, err := netip.ParseAddr(a.TunnelingIP); err == nil {
				return ip.String()
			}
		}
	}
	return ""
}

// dhcpSender is the DHCP port with an IPv4 address on the subnet (any
// subnet when none is).
func dhcpSender(ports []snapshot.Port, subnet string) (*snapshot.Port, netip.Addr) {
	for _, want := range []bool{true, false} {
		for i := range ports {
			for _, f := range ports[i].FixedIPs {
				if a, err := netip.ParseAddr(f.IPAddress); err == nil && a.Is4() && (f.SubnetID == subnet || !want) {
					if _, err := net.ParseMAC(ports[i].MACAddress); err == nil {
						return &ports[i], a
					}
				}
			}
		}
	}
	return nil, netip.Addr{}
}

func legOn(legs []topology.RouterLeg, subnet string) (topology.RouterLeg, bool) {
	for _, l := range legs {
		if l.SubnetID == subnet {
			return l, true
		}
	}
	return topology.RouterLeg{}, false
}

// flowMatch is the OpenFlow match of a --check flow's protocol and port.
func flowMatch(f rule.Flow) (string, bool) {
	switch f.Protocol {
	case "tcp", "udp", "sctp":
		if f.PortMin <= 0 {
			return f.Protocol, true
		}
		return f.Protocol + ",tp_dst=" + strconv.Itoa(f.PortMin), true
	case "icmp":
		typ, code := 8, 0
		if f.PortMin >= 0 {
			typ = f.PortMin
		}
		if f.PortMax >= 0 && f.PortMin >= 0 {
			code = f.PortMax
		}
		return fmt.Sprintf("icmp,icmp_type=%d,icmp_code=%d", typ, code), true
	case "any":
		return "ip", true
	}
	if n, err := strconv.Atoi(f.Protocol); err == nil && n >= 0 && n < 256 {
		return "ip,nw_proto=" + strconv.Itoa(n), true
	}
	return "", false
}
