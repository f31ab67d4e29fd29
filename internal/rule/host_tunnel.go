package rule

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/host/firewall"
	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Tunnels and bridges between the hosts.

// l2Agent returns the host's L2 agent (Open vSwitch or Linux bridge), or nil.
func l2Agent(s *snapshot.Snapshot, host string) *snapshot.Agent {
	for _, a := range agentsOn(s, host, snapshot.AgentTypeOVS, snapshot.AgentTypeLinuxBridge) {
		return a
	}
	return nil
}

type tunnelPeer struct {
	ip  string
	why string
	// host is the peer agent's host; empty for a peer read off a
	// forwarding entry.
	host string
}

// tunnelEndpoint describes a host as a tunnel endpoint: its own address,
// the tunnel types it carries, and its peers (the other L2 agents'
// tunneling_ip, and the remote endpoints in its vxlan forwarding entries).
type tunnelEndpoint struct {
	local string
	types []string
	peers []tunnelPeer
	// vxlanPort is the UDP port of the host's vxlan devices (4789 unless
	// they say otherwise).
	vxlanPort int
}

func endpointOf(s *snapshot.Snapshot, h *snapshot.Host) tunnelEndpoint {
	ep := tunnelEndpoint{vxlanPort: 4789}
	if a := l2Agent(s, h.Name); a != nil {
		ep.local = a.TunnelingIP
		ep.types = append(ep.types, a.TunnelTypes...)
	}
	for _, l := range h.Links {
		if l.VXLAN != nil {
			if !slices.Contains(ep.types, "vxlan") {
				ep.types = append(ep.types, "vxlan")
			}
			if l.VXLAN.Port != 0 {
				ep.vxlanPort = l.VXLAN.Port
			}
			if ep.local == "" {
				ep.local = l.VXLAN.Local
			}
		}
	}
	add := func(ip, why, host string) {
		if ip == "" || ip == ep.local || ip == "0.0.0.0" || hostHasAddr(h, ip) {
			return
		}
		for _, p := range ep.peers {
			if p.ip == ip {
				return
			}
		}
		ep.peers = append(ep.peers, tunnelPeer{ip, why, host})
	}
	for _, a := range s.Agents {
		if a.Host == h.Name || a.TunnelingIP == "" || !a.AdminStateUp {
			continue
		}
		if a.AgentType != snapshot.AgentTypeOVS && a.AgentType != snapshot.AgentTypeLinuxBridge {
			continue
		}
		add(a.TunnelingIP, fmt.Sprintf("tunneling_ip of the %s on %s", a.AgentType, a.Host), a.Host)
	}
	for _, e := range h.FDB {
		add(e.Dst, "forwarding entry of "+e.Dev, "")
	}
	return ep
}

func tunnelPort(typ string, ep tunnelEndpoint) int {
	switch typ {
	case "vxlan":
		return ep.vxlanPort
	case "geneve":
		return 6081
	}
	return 0
}

var hostTunnelPeerBlocked = &Rule{
	Name:     "host/tunnel-peer-blocked",
	NoServer: true,
	Severity: Error,
	Title:    "The host's firewall drops tunnel traffic from a peer",
	Doc: `Tenant networks of type VXLAN or GENEVE travel between hosts as UDP (VXLAN
4789, or the vxlan devices' own port; GENEVE 6081) between the L2 agents'
tunneling_ip addresses. If a host's firewall drops that traffic from one
peer, instances on the two hosts cannot reach each other, nor the DHCP and
router namespaces of the network node: DHCP fails on one compute node only,
pings work within a host and not across.

hoofbeat evaluates the host's firewall as the kernel would, for a new UDP
flow from each peer to the host's tunnel port: iptables (raw and mangle
PREROUTING, mangle and filter INPUT: rule order, chain policies, jumps
into user chains and RETURN, -s/-d/-p/-i, --dport, multiport --dports,
conntrack state, negations) and native nftables (base chains of the
prerouting and input hooks in priority order, jumps, gotos, sets,
verdicts and policies). It names the rule that decides. Peers are every
other L2 agent's tunneling_ip and the remote endpoints in the host's vxlan
forwarding entries.`,
	Fix:   "Admit the peers' tunnel traffic ahead of the rule that drops it (iptables -I INPUT -s PEER -p udp --dport 4789 -j ACCEPT), or remove that rule, and make it persistent.",
	Needs: []string{snapshot.SourceHosts},
	Hop:   HopHosts,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, h := range reached(in) {
			ep := endpointOf(s, h)
			var ports []int
			for _, t := range ep.types {
				if p := tunnelPort(t, ep); p != 0 && !slices.Contains(ports, p) {
					ports = append(ports, p)
				}
			}
			if len(ports) == 0 || len(ep.peers) == 0 {
				continue
			}
			fw := h.Firewall
			if fw.IPTablesSaveError != "" && fw.NFTError != "" {
				in.uncheck("host %s: could not read the firewall: %s; %s", h.Name, fw.IPTablesSaveError, fw.NFTError)
				continue
			}
			rs, err := firewall.Parse(fw.IPTablesSave, fw.NFT)
			if err != nil {
				in.uncheck("host %s: could not read the firewall: %v", h.Name, err)
				continue
			}
			var dst netip.Addr
			if a, err := netip.ParseAddr(ep.local); err == nil {
				dst = a
			}
			for _, peer := range ep.peers {
				src, err := netip.ParseAddr(peer.ip)
				if err != nil {
					continue
				}
				for _, port := range ports {
					v := rs.Evaluate(firewall.Packet{Proto: "udp", Src: src, Dst: dst, DPort: port})
					if v.Accepted {
						continue
					}
					kind := "VXLAN"
					if port == 6081 {
						kind = "GENEVE"
					}
					f := Finding{Subject: hostSubject(h), Devices: tunnelDevices(h),
						Summary: fmt.Sprintf("host %s's firewall drops %s (udp/%d) from tunnel peer %s: instances across these hosts cannot reach each other", h.Name, kind, port, peer.ip),
						Evidence: []string{
							fmt.Sprintf("udp dport %d from %s (%s) to %s: %s", port, peer.ip, peer.why, orNone(ep.local), v.String()),
						},
						Verify: cmds(onHost(cmd("iptables", "-S", "INPUT"), h.Name), onHost(cmd("nft", "list", "ruleset").Pipe("grep", "-n", strconv.Itoa(port)), h.Name)),
					}
					for _, n := range v.Notes {
						f.Evidence = append(f.Evidence, "note: "+n)
					}
					// The narrow rule for this peer first: deleting a
					// catch-all REJECT would open the whole host.
					f.Remediation = append(f.Remediation,
						onHost(cmd("iptables", "-I", "INPUT", "-s", peer.ip, "-p", "udp", "--dport", strconv.Itoa(port), "-j", "ACCEPT"), h.Name+": admit the peer ahead of the rule that drops it"))
					if targeted(v.Rule) {
						table := "filter"
						if len(v.Path) > 0 {
							table, _, _ = strings.Cut(v.Path[0], "/")
						}
						f.Remediation = append(f.Remediation, onHost(cmd(append([]string{"iptables", "-t", table, "-D"}, v.Rule[1:]...)...), h.Name+": or remove the rule that drops tunnel traffic"))
					}
					f.Remediation = append(f.Remediation,
						onHost(cmd("netfilter-persistent", "save"), h.Name+", Debian family: keep it across reboots (/etc/iptables/rules.v4)"),
						onHost(cmd("service", "iptables", "save"), h.Name+", RHEL family: keep it across reboots (/etc/sysconfig/iptables)"),
						note("or add it where your firewall manager (firewalld, ufw, puppet…) keeps the rules"))
					out = append(out, f)
				}
			}
		}
		return out
	},
}

var hostBridgeMissing = &Rule{
	Name:     "host/bridge-missing",
	Severity: Error,
	Title:    "The Linux bridge or vxlan device of the network is missing on a host",
	Doc: `With the Linux bridge agent, each network is a bridge brq<network id[:11]>
on every host with a port on it, holding the instances' and namespaces'
taps and, for VXLAN, a device vxlan-<segmentation id> (or, for VLAN and
flat networks, the physical interface). If the bridge is missing, or the
vxlan device is missing or not enslaved to it, ports on that host reach
nothing beyond the host.

hoofbeat reads the devices of the server's compute host and of the DHCP and
L3 agents' hosts, where a Linux bridge agent runs, and checks the bridge of
each of the server's networks and its vxlan device.`,
	Fix:           "Restart the Linux bridge agent on that host (systemctl restart neutron-linuxbridge-agent): it recreates the bridge and the vxlan device.",
	Needs:         []string{snapshot.SourceHosts, snapshot.SourceAgents, snapshot.SourceProviderFields},
	Hop:           HopHosts,
	NotApplicable: withoutAgent(snapshot.AgentTypeLinuxBridge, "Linux bridge agent"),
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if s.Server == nil {
			return nil
		}
		var out []Finding
		for _, h := range reached(in) {
			a := l2Agent(s, h.Name)
			if a == nil || a.AgentType != snapshot.AgentTypeLinuxBridge {
				continue
			}
			if !partOK(in, h, "devices", h.LinksError) {
				continue
			}
			for _, n := range serverNetworks(in) {
				if n.Provider == nil || n.External {
					continue
				}
				br := deviceName("brq", n.ID)
				var problems []string
				if linkNamed(h.Links, br) == nil {
					problems = append(problems, "bridge "+br+" is missing")
				}
				if n.Provider.NetworkType == "vxlan" && n.Provider.SegmentationID != nil {
					vx := fmt.Sprintf("vxlan-%d", *n.Provider.SegmentationID)
					switch l := linkNamed(h.Links, vx); {
					case l == nil:
						problems = append(problems, "vxlan device "+vx+" is missing")
					case l.Master != br:
						problems = append(problems, fmt.Sprintf("%s is not in bridge %s (master: %s)", vx, br, orNone(l.Master)))
					case !l.Up:
						problems = append(problems, vx+" is down")
					}
				}
				if len(problems) == 0 {
					continue
				}
				devs := []DeviceRef{{Host: h.Name, Name: br}}
				if n.Provider.SegmentationID != nil {
					devs = append(devs, DeviceRef{Host: h.Name, Name: fmt.Sprintf("vxlan-%d", *n.Provider.SegmentationID)})
				}
				out = append(out, Finding{Subject: hostSubject(h), Devices: devs,
					Summary:     fmt.Sprintf("network %s is not wired on host %s: %s", n.Name, h.Name, strings.Join(problems, "; ")),
					Evidence:    []string{fmt.Sprintf("host %s (%s) runs the %s; network %s is %s", h.Name, strings.Join(h.Roles, ", "), a.AgentType, n.Name, segmentText(n))},
					Remediation: cmds(onHost(cmd("systemctl", "restart", "neutron-linuxbridge-agent"), h.Name)),
					Verify:      cmds(onHost(cmd("bridge", "link", "show").Pipe("grep", "-F", "-e", br), h.Name)),
				})
			}
		}
		return out
	},
}

func segmentText(n *snapshot.Network) string {
	if n.Provider == nil {
		return "of unknown type"
	}
	if n.Provider.SegmentationID != nil {
		return fmt.Sprintf("%s segment %d", n.Provider.NetworkType, *n.Provider.SegmentationID)
	}
	return n.Provider.NetworkType
}

var hostOVSPortError = &Rule{
	Name:     "host/ovs-port-error",
	NoServer: true,
	Severity: Error,
	Title:    "Open vSwitch has an interface in error, a missing bridge, or no tunnel to a peer",
	Doc: `With the Open vSwitch agent, every host has an integration bridge br-int and,
with tunnelling, a tunnel bridge br-tun holding one vxlan-/geneve- port per
peer. An interface whose error column is set or whose ofport is -1 carries
no traffic (the device it names does not exist, or the datapath refused
it); a missing bridge, or a missing tunnel port to a live peer, cuts that
host off.

hoofbeat reads the Bridge, Port and Interface tables (ovs-vsctl
--format=json) on hosts where an Open vSwitch agent is registered, or
where Open vSwitch has a br-int.`,
	Fix:           "Restart the Open vSwitch agent on the host (systemctl restart neutron-openvswitch-agent); remove ports whose device is gone (ovs-vsctl del-port).",
	Needs:         []string{snapshot.SourceHosts},
	Hop:           HopHosts,
	NotApplicable: withoutOVS,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, h := range reached(in) {
			a := l2Agent(s, h.Name)
			isOVS := a != nil && a.AgentType == snapshot.AgentTypeOVS
			if h.OVS == nil {
				if isOVS {
					partOK(in, h, "Open vSwitch", orNone(h.OVSError))
				}
				continue
			}
			hasBr := func(name string) bool {
				for _, b := range h.OVS.Bridges {
					if b.Name == name {
						return true
					}
				}
				return false
			}
			if !isOVS && !hasBr("br-int") {
				continue // Open vSwitch is there but not Neutron's
			}
			var problems, evidence []string
			var fixes []shell.Cmd
			if !hasBr("br-int") {
				problems = append(problems, "the integration bridge br-int is missing")
			}
			ep := endpointOf(s, h)
			if isOVS && len(a.TunnelTypes) > 0 && !hasBr("br-tun") {
				problems = append(problems, "the tunnel bridge br-tun is missing")
			}
			for _, i := range h.OVS.Interfaces {
				if i.Error != "" || i.OFPort == -1 {
					problems = append(problems, fmt.Sprintf("interface %s: %s", i.Name, orNone(i.Error)))
					evidence = append(evidence, fmt.Sprintf("interface %s type %s ofport %d error %q", i.Name, orNone(i.Type), i.OFPort, i.Error))
					if strings.Contains(i.Error, "No such device") {
						fixes = append(fixes, onHost(cmd("ovs-vsctl", "del-port", i.Name), h.Name+": its device is gone"))
					}
				}
			}
			if isOVS && len(a.TunnelTypes) > 0 && hasBr("br-tun") {
				var tunnels []string
				for _, i := range h.OVS.Interfaces {
					if i.RemoteIP != "" {
						tunnels = append(tunnels, fmt.Sprintf("%s (%s to %s)", i.Name, orNone(i.Type), i.RemoteIP))
					}
				}
				missing := false
				for _, p := range ep.peers {
					if p.host != "" && l2pop(a) && !sharesNetwork(s, h.Name, p.host) {
						// With l2population an agent makes tunnels only to
						// hosts with ports on its networks: none to an idle one.
						continue
					}
					found := false
					for _, i := range h.OVS.Interfaces {
						if i.RemoteIP == p.ip {
							found = true
						}
					}
					if !found {
						missing = true
						problems = append(problems, fmt.Sprintf("no tunnel port to peer %s (%s)", p.ip, p.why))
					}
				}
				if missing {
					slices.Sort(tunnels)
					evidence = append(evidence, "tunnel ports: "+orNone(strings.Join(tunnels, ", ")))
				}
			}
			if len(problems) == 0 {
				continue
			}
			broken := DeviceRef{Host: h.Name, Name: "br-tun"}
			if !hasBr("br-int") {
				broken.Name = "br-int"
			}
			f := Finding{Subject: hostSubject(h), Devices: []DeviceRef{broken},
				Summary:     fmt.Sprintf("Open vSwitch on host %s: %s", h.Name, strings.Join(problems, "; ")),
				Evidence:    evidence,
				Remediation: append(fixes, onHost(cmd("systemctl", "restart", "neutron-openvswitch-agent"), h.Name)),
				Verify:      cmds(onHost(cmd("ovs-vsctl", "--columns=name,ofport,error", "list", "Interface"), h.Name)),
			}
			if len(f.Evidence) == 0 {
				var names []string
				for _, b := range h.OVS.Bridges {
					names = append(names, b.Name)
				}
				f.Evidence = []string{"bridges: " + orNone(strings.Join(names, ", "))}
			}
			out = append(out, f)
		}
		return out
	},
}

// targeted reports an iptables rule (its words, "-A CHAIN …") that matches
// tunnel traffic in particular, by protocol and port: only such a rule is
// safe to offer to delete.
func targeted(words []string) bool {
	if len(words) < 2 || words[0] != "-A" {
		return false
	}
	var proto, port bool
	for _, w := range words[2:] {
		switch w {
		case "-p", "--protocol":
			proto = true
		case "--dport", "--dports", "--destination-port", "--destination-ports":
			port = true
		}
	}
	return proto && port
}

// withoutAgent makes a rule about one L2 agent's devices not applicable
// where no such agent is registered.
func withoutAgent(typ, what string) func(*snapshot.Snapshot) string {
	return func(s *snapshot.Snapshot) string {
		if len(agentsOfType(s, typ)) > 0 {
			return ""
		}
		return "no " + what + " is registered in this cloud"
	}
}

// withoutOVS: the Open vSwitch rule applies where an Open vSwitch agent is
// registered or a checked host runs Open vSwitch.
func withoutOVS(s *snapshot.Snapshot) string {
	if len(agentsOfType(s, snapshot.AgentTypeOVS)) > 0 {
		return ""
	}
	for _, h := range s.Hosts {
		if h.OVS != nil || h.Unreachable != "" {
			return "" // an unreachable host may run it: "could not check"
		}
	}
	return "no Open vSwitch agent is registered and no checked host runs Open vSwitch"
}

// l2pop reports an agent running with l2population, which creates tunnels
// on demand.
func l2pop(a *snapshot.Agent) bool {
	if a == nil || len(a.Configurations) == 0 {
		return false
	}
	var c struct {
		L2Pop bool `json:"l2_population"`
	}
	return json.Unmarshal(a.Configurations, &c) == nil && c.L2Pop
}

// sharesNetwork reports whether two hosts have ports on a common network,
// as far as the snapshot's ports (the server's and its networks') show.
func sharesNetwork(s *snapshot.Snapshot, a, b string) bool {
	nets := map[string]int{}
	for _, p := range slices.Concat(s.Ports, s.NetworkPorts) {
		switch p.BindingHostID {
		case a:
			nets[p.NetworkID] |= 1
		case b:
			nets[p.NetworkID] |= 2
		}
	}
	for _, v := range nets {
		if v == 3 {
			return true
		}
	}
	return false
}
