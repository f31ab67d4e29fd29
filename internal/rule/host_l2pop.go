package rule

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// floodEntry is the forwarding entry l2population gives each remote VTEP
// of a network: broadcasts and unknown unicast go to every such peer.
const floodEntry = "00:00:00:00:00:00"

var hostL2PopEntryMissing = &Rule{
	Name:     "host/l2pop-entry-missing",
	Severity: Error,
	Title:    "A vxlan device lacks the l2population forwarding entry of a peer host on the network",
	Doc: `With l2population, the Linux bridge agent does not flood VXLAN to a multicast
group: the server tells it which hosts (VTEPs) have ports on each network,
and the agent writes a forwarding entry on the network's vxlan device for
each: 00:00:00:00:00:00 dst PEER (broadcast and unknown unicast, ARP
included) and one per remote port's MAC. Without them a host sends
nothing to that peer: DHCP, ARP and pings across hosts die, while each
host looks fine.

With --hosts, hoofbeat reads the bridge forwarding table (one bridge fdb
per host) and checks, on each host serving the server where the Linux
bridge agent runs with l2population, that the vxlan device of the
server's network has the entries of every peer host that has a port on
that network as the snapshot shows (the server's host, the DHCP and
router ports' hosts). A host with no port on the network is no peer: it
has no entry, and that is no fault.`,
	Fix:           "Restart the Linux bridge agent on the host: on its restart the server sends it the network's entries again; or add them (bridge fdb append 00:00:00:00:00:00 dev vxlan-VNI dst PEER).",
	Needs:         []string{snapshot.SourceHosts, snapshot.SourceAgents, snapshot.SourceProviderFields},
	Hop:           HopHosts,
	NotApplicable: withoutAgent(snapshot.AgentTypeLinuxBridge, "Linux bridge agent"),
	Causes:        []*Rule{agentL2Down, hostBridgeMissing},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if s.Server == nil {
			return nil
		}
		var out []Finding
		for _, h := range reached(in) {
			a := l2Agent(s, h.Name)
			if a == nil || a.AgentType != snapshot.AgentTypeLinuxBridge || !l2pop(a) {
				continue
			}
			if !partOK(in, h, "devices", h.LinksError) || !partOK(in, h, "the bridge forwarding table", h.FDBError) {
				continue
			}
			for _, n := range serverNetworks(in) {
				if n.Provider == nil || n.Provider.NetworkType != "vxlan" || n.Provider.SegmentationID == nil {
					continue
				}
				vx := fmt.Sprintf("vxlan-%d", *n.Provider.SegmentationID)
				if linkNamed(h.Links, vx) == nil {
					continue // host/bridge-missing
				}
				for _, peer := range l2popPeers(s, h.Name, n.ID) {
					var missing []string
					for _, mac := range peer.macs {
						if !slices.ContainsFunc(h.FDB, func(e snapshot.FDBEntry) bool {
							return e.Dev == vx && e.Dst == peer.ip && strings.EqualFold(e.MAC, mac)
						}) {
							missing = append(missing, mac)
						}
					}
					if len(missing) == 0 {
						continue
					}
					var have []string
					for _, e := range h.FDB {
						if e.Dev == vx {
							have = append(have, e.MAC+" dst "+e.Dst)
						}
					}
					what := "the entries"
					if slices.Contains(missing, floodEntry) {
						what = "the flood entry of that VTEP"
					}
					f := Finding{Subject: hostSubject(h), Devices: []DeviceRef{{Host: h.Name, Name: vx}},
						Summary: fmt.Sprintf("%s on %s lacks %s for peer %s (%s, with ports on network %s): %s sends it nothing", vx, h.Name, what, peer.host, peer.ip, n.Name, h.Name),
						Evidence: []string{
							fmt.Sprintf("the Linux bridge agent on %s runs with l2population; %s has ports on %s (%s)", h.Name, peer.host, n.Name, strings.Join(peer.why, ", ")),
							fmt.Sprintf("missing on %s: %s dst %s", vx, strings.Join(missing, ", "), peer.ip),
							fmt.Sprintf("entries of %s with a remote: %s", vx, orNone(strings.Join(have, ", "))),
						},
						Remediation: cmds(onHost(cmd("systemctl", "restart", "neutron-linuxbridge-agent"), h.Name+": the server sends it the network's entries again")),
						Verify:      cmds(onHost(cmd("bridge", "fdb", "show", "dev", vx), h.Name+": "+floodEntry+" dst "+peer.ip)),
					}
					for _, mac := range missing {
						verb := "replace"
						if mac == floodEntry {
							verb = "append" // one flood entry per peer: replace would drop the others
						}
						f.Remediation = append(f.Remediation, onHost(cmd("bridge", "fdb", verb, mac, "dev", vx, "dst", peer.ip), h.Name+": or by hand"))
					}
					out = append(out, f)
				}
			}
		}
		return out
	},
}

type l2popPeer struct {
	host, ip string
	// macs are the entries the host must have for it: the flood entry and
	// the MACs of the peer's ports on the network.
	macs []string
	why  []string
}

// l2popPeers are the other hosts with a port on the network, as the
// snapshot's ports show, whose Linux bridge agent has a tunnel address.
func l2popPeers(s *snapshot.Snapshot, host, net string) []l2popPeer {
	var out []l2popPeer
	for _, p := range slices.Concat(s.Ports, s.NetworkPorts) {
		if p.NetworkID != net || p.BindingHostID == "" || p.BindingHostID == host {
			continue
		}
		a := l2Agent(s, p.BindingHostID)
		if a == nil || a.AgentType != snapshot.AgentTypeLinuxBridge || a.TunnelingIP == "" {
			continue
		}
		i := slices.IndexFunc(out, func(x l2popPeer) bool { return x.host == p.BindingHostID })
		if i < 0 {
			out = append(out, l2popPeer{host: p.BindingHostID, ip: a.TunnelingIP, macs: []string{floodEntry}})
			i = len(out) - 1
		}
		if p.MACAddress != "" && !slices.Contains(out[i].macs, p.MACAddress) {
			out[i].macs = append(out[i].macs, p.MACAddress)
		}
		out[i].why = append(out[i].why, "port "+shortID(p.ID)+" "+orNone(p.DeviceOwner))
	}
	return out
}
