package rule

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Open vSwitch's own state along the server's path: the ports' local
// VLANs (the agent's tags), br-tun's translation between VNIs and those
// VLANs, and where a traced packet dies.

// deadVLAN is the tag the Open vSwitch agent gives a port it has not
// bound, or has unbound (admin down): br-int drops its traffic.
const deadVLAN = 4095

// ovsPort returns the host's Open vSwitch port of that name, or nil.
func ovsPort(h *snapshot.Host, name string) *snapshot.OVSPort {
	if h == nil || h.OVS == nil {
		return nil
	}
	for i := range h.OVS.Ports {
		if h.OVS.Ports[i].Name == name {
			return &h.OVS.Ports[i]
		}
	}
	return nil
}

func ovsInterface(h *snapshot.Host, name string) *snapshot.OVSInterface {
	for i := range h.OVS.Interfaces {
		if h.OVS.Interfaces[i].Name == name {
			return &h.OVS.Interfaces[i]
		}
	}
	return nil
}

// ovsPortsRead reports whether the host's Open vSwitch ports were read:
// snapshots of an older hoofbeat lack them, and a host without Open
// vSwitch has nothing to say.
func ovsPortsRead(h *snapshot.Host) bool { return h != nil && h.OVS != nil && len(h.OVS.Ports) > 0 }

// brIntDevices are the path's devices that must be ports of br-int, on
// hosts whose Open vSwitch ports were read, grouped by host.
func brIntDevices(in *Input) []pathDevice {
	var out []pathDevice
	for _, d := range pathDevices(in) {
		if d.brInt && ovsPortsRead(hostNamed(in.Snapshot, d.host)) {
			out = append(out, d)
		}
	}
	return out
}

func tagText(t *int) string {
	if t == nil {
		return "no tag"
	}
	return "tag " + strconv.Itoa(*t)
}

func restartOVSAgent(host, why string) shell.Cmd {
	return onHost(cmd("systemctl", "restart", "neutron-openvswitch-agent"), host+": "+why)
}

var hostOVSDeadVLAN = &Rule{
	Name:     "host/ovs-dead-vlan",
	Severity: Error,
	Title:    "A port on the server's path is on Open vSwitch's dead VLAN (tag 4095)",
	Doc: `The Open vSwitch agent tags each port of br-int with its network's local
VLAN once it has bound the port; a port it could not bind, or has unbound
(the Neutron port set admin down, its binding failed), gets tag 4095, the
dead VLAN, whose traffic br-int's table 0 drops. The port is there and up,
and passes nothing.

With --hosts, hoofbeat reads the Port table (one ovs-vsctl per host) and
checks the tag of the server's VIF and of the DHCP and router ports of its
network on the hosts that serve it.`,
	Fix:           "Find why the agent unbound the port (port admin state, binding, the agent's log); restart the Open vSwitch agent on the host to have it bind the port again.",
	Needs:         []string{snapshot.SourceHosts},
	Hop:           HopHosts,
	NotApplicable: withoutOVSAgent,
	Causes:        []*Rule{portAdminDown, portBindingFailed, agentL2Down},
	Check: func(in *Input) []Finding {
		if in.Snapshot.Server == nil {
			return nil
		}
		var out []Finding
		for _, d := range brIntDevices(in) {
			h := hostNamed(in.Snapshot, d.host)
			p := ovsPort(h, d.name)
			if p == nil || p.Tag == nil || *p.Tag != deadVLAN {
				continue
			}
			f := Finding{Subject: Subject{Kind: "host", Name: d.host}, Devices: []DeviceRef{d.ref()},
				Summary:  fmt.Sprintf("%s (%s) on %s is on Open vSwitch's dead VLAN 4095: the agent has not bound it, and br-int drops its traffic", d.name, d.what, d.host),
				Evidence: []string{fmt.Sprintf("Port %s: tag %d", d.name, deadVLAN)},
				Verify:   cmds(onHost(cmd("ovs-vsctl", "get", "Port", d.name, "tag"), d.host+": the network's local VLAN, not 4095")),
			}
			if np := d.port; np != nil {
				f.Port = np.ID
				f.Evidence = append(f.Evidence, fmt.Sprintf("Neutron port %s: admin_state_up %t, status %s, binding:host_id %s, binding:vif_type %s",
					np.ID, np.AdminStateUp, orNone(np.Status), orNone(np.BindingHostID), orNone(np.BindingVIFType)))
				f.Remediation = append(f.Remediation, cmd("openstack", "port", "show", np.ID, "-c", "admin_state_up", "-c", "status", "-c", "binding_vif_type").Comment("an admin-down or unbound port stays on the dead VLAN"))
			}
			f.Remediation = append(f.Remediation, restartOVSAgent(d.host, "it binds the port again"))
			out = append(out, f)
		}
		return out
	},
}

var hostOVSTagMismatch = &Rule{
	Name:     "host/ovs-tag-mismatch",
	Severity: Error,
	Title:    "The Open vSwitch ports of the server's network disagree on their local VLAN or their Neutron port",
	Doc: `On each host the Open vSwitch agent maps a network to one local VLAN and tags
every port of that network on br-int with it: the VIF, the DHCP port and
the router's interface. A port without a tag, or with another network's,
cannot reach the others. The agent finds the Neutron port of an Open
vSwitch interface by its external_ids:iface-id, and os-vif sets
attached-mac to the port's MAC: an interface whose iface-id or
attached-mac is not the port's is not wired as that port.

With --hosts, hoofbeat reads the Port and Interface tables (one ovs-vsctl
per host) and compares, per host and network, the tags of the ports on the
server's path, and each interface's external_ids with the Neutron port.
The dead VLAN (4095) is host/ovs-dead-vlan's.`,
	Fix:           "Restart the Open vSwitch agent on the host: it re-tags the ports of each network; correct an interface's external_ids (ovs-vsctl set Interface DEV external_ids:iface-id=PORT external_ids:attached-mac=MAC) first.",
	Needs:         []string{snapshot.SourceHosts},
	Hop:           HopHosts,
	NotApplicable: withoutOVSAgent,
	Causes:        []*Rule{agentL2Down},
	Check: func(in *Input) []Finding {
		if in.Snapshot.Server == nil {
			return nil
		}
		type key struct{ host, net string }
		groups := map[key][]pathDevice{}
		var order []key
		for _, d := range brIntDevices(in) {
			k := key{d.host, d.net}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], d)
		}
		var out []Finding
		for _, k := range order {
			h := hostNamed(in.Snapshot, k.host)
			var problems, evidence []string
			var fixes []shell.Cmd
			var bad []DeviceRef
			tags := map[int][]string{}
			for _, d := range groups[k] {
				p := ovsPort(h, d.name)
				if p == nil {
					continue // not on br-int: host/vif-detached
				}
				evidence = append(evidence, fmt.Sprintf("Port %s (%s): %s", d.name, d.what, tagText(p.Tag)))
				switch {
				case p.Tag == nil:
					problems = append(problems, d.name+" has no local VLAN tag")
					bad = append(bad, d.ref())
				case *p.Tag != deadVLAN:
					tags[*p.Tag] = append(tags[*p.Tag], d.name)
				}
				i := ovsInterface(h, d.name)
				if i == nil || d.port == nil {
					continue
				}
				if i.IfaceID != d.port.ID {
					problems = append(problems, fmt.Sprintf("%s's external_ids:iface-id is %s, not the port's ID %s", d.name, orNone(i.IfaceID), d.port.ID))
					bad = append(bad, d.ref())
					fixes = append(fixes, onHost(cmd("ovs-vsctl", "set", "Interface", d.name, "external_ids:iface-id="+d.port.ID), d.host))
				}
				if d.port.MACAddress != "" && !strings.EqualFold(i.AttachedMAC, d.port.MACAddress) {
					problems = append(problems, fmt.Sprintf("%s's external_ids:attached-mac is %s, not the port's MAC %s", d.name, orNone(i.AttachedMAC), d.port.MACAddress))
					bad = append(bad, d.ref())
					fixes = append(fixes, onHost(cmd("ovs-vsctl", "set", "Interface", d.name, "external_ids:attached-mac="+d.port.MACAddress), d.host))
				}
			}
			if len(tags) > 1 {
				var parts []string
				for _, t := range slices.Sorted(maps.Keys(tags)) {
					parts = append(parts, fmt.Sprintf("%s on VLAN %d", strings.Join(tags[t], ", "), t))
				}
				problems = append(problems, "the ports are on different local VLANs: "+strings.Join(parts, "; "))
				for _, d := range groups[k] {
					bad = append(bad, d.ref()) // which of them is wrong is the agent's to say
				}
			}
			if len(problems) == 0 {
				continue
			}
			out = append(out, Finding{Subject: Subject{Kind: "host", Name: k.host}, Devices: bad,
				Summary:     fmt.Sprintf("Open vSwitch on %s does not wire network %s as one: %s", k.host, netLabel(in.Snapshot, k.net), strings.Join(problems, "; ")),
				Evidence:    evidence,
				Remediation: append(fixes, restartOVSAgent(k.host, "it tags the network's ports with its local VLAN")),
				Verify:      cmds(onHost(cmd("ovs-vsctl", "--columns=name,tag", "list", "Port"), k.host)),
			})
		}
		return out
	},
}

// tunnelTables are br-tun's tables that map a tunnel's VNI to a local
// VLAN, by network type (the Open vSwitch agent's GRE_TUN_TO_LV,
// VXLAN_TUN_TO_LV, GENEVE_TUN_TO_LV).
var tunnelTables = map[string]int{"gre": 3, "vxlan": 4, "geneve": 6}

// flowTables names the Open vSwitch agent's tables, for a person.
var flowTables = map[string]map[int]string{
	"br-tun": {0: "classification by in_port", 2: "traffic from br-int", 3: "GRE to local VLAN", 4: "VXLAN to local VLAN",
		6: "GENEVE to local VLAN", 10: "learning", 20: "unicast to the tunnels", 21: "ARP responder", 22: "flooding to the tunnels"},
	"br-int": {0: "local switching: VLAN translation and the dead VLAN", 60: "transient", 71: "security groups: egress base",
		72: "security groups: egress rules", 73: "security groups: accept or ingress", 81: "security groups: ingress base",
		82: "security groups: ingress rules", 91: "accepted egress", 92: "accepted ingress", 93: "dropped by the firewall",
		94: "accepted egress, normal switching"},
}

func tableText(bridge string, table int) string {
	if n := flowTables[bridge][table]; n != "" {
		return fmt.Sprintf("%s table %d (%s)", bridge, table, n)
	}
	return fmt.Sprintf("%s table %d", bridge, table)
}

// matchField returns a field's value in a flow's match, or "".
func matchField(match, field string) string {
	for _, f := range strings.Split(match, ",") {
		if v, ok := strings.CutPrefix(f, field+"="); ok {
			return v
		}
	}
	return ""
}

// number reads a decimal or 0x number.
func number(s string) (int64, bool) {
	v, err := strconv.ParseInt(s, 0, 64)
	return v, err == nil
}

// setsVLAN reports actions that tag the packet with the local VLAN.
func setsVLAN(actions string, vlan int) bool {
	for _, a := range strings.Split(actions, ",") {
		if a == "mod_vlan_vid:"+strconv.Itoa(vlan) || a == fmt.Sprintf("set_field:%d->vlan_vid", 4096|vlan) {
			return true
		}
	}
	return false
}

// setsVNI reports actions that set the tunnel's VNI.
func setsVNI(actions string, vni int) bool {
	for _, a := range strings.Split(actions, ",") {
		if v, ok := strings.CutSuffix(strings.TrimPrefix(a, "load:"), "->NXM_NX_TUN_ID[]"); ok && v != a {
			if n, ok := number(v); ok && n == int64(vni) {
				return true
			}
		}
		if v, ok := strings.CutSuffix(strings.TrimPrefix(a, "set_field:"), "->tun_id"); ok && v != a {
			if n, ok := number(v); ok && n == int64(vni) {
				return true
			}
		}
	}
	return false
}

// bridgeFlows returns the flows read of a bridge, or nil with ok false
// when they were not read.
func bridgeFlows(h *snapshot.Host, bridge string) (flows []snapshot.OVSFlow, errText string, ok bool) {
	for _, f := range h.OVS.Flows {
		if f.Bridge == bridge {
			return f.Flows, f.Error, true
		}
	}
	return nil, "", false
}

// hasPeerOn reports whether another host than this one has a port on the
// network, as far as the snapshot's ports show: only then must br-tun
// send the network's traffic into a tunnel.
func hasPeerOn(s *snapshot.Snapshot, host, net string) bool {
	for _, p := range slices.Concat(s.Ports, s.NetworkPorts) {
		if p.NetworkID == net && p.BindingHostID != "" && p.BindingHostID != host {
			return true
		}
	}
	return false
}

var hostOVSFlowMissing = &Rule{
	Name:     "host/ovs-flow-missing",
	Severity: Error,
	Title:    "br-tun has no flow translating the network's VNI to its local VLAN (or back)",
	Doc: `Between hosts, a tunnelled network's packets carry its VNI; on br-int they
carry the host's local VLAN for it. The Open vSwitch agent installs the
translation on br-tun: a flow in table 4 (VXLAN; 3 GRE, 6 GENEVE)
matching tun_id=VNI that sets the local VLAN, and flows (tables 20 and
22) that strip the VLAN and set tun_id for traffic leaving. Without the
first, everything arriving from the other hosts is dropped by table 4's
catch-all; without the second, nothing leaves. The ports and tunnels all
look fine.

With --hosts, hoofbeat dumps br-tun's flows (one ovs-ofctl dump-flows per
host) and looks, for the server's network on each host that serves it,
for both directions with the local VLAN the ports there are tagged with.
The way out is required only when another host has a port on the network.`,
	Fix:           "Restart the Open vSwitch agent on the host: it reinstalls br-tun's flows for each network it has ports of.",
	Needs:         []string{snapshot.SourceHosts, snapshot.SourceProviderFields},
	Hop:           HopHosts,
	NotApplicable: withoutOVSAgent,
	Causes:        []*Rule{agentL2Down, hostOVSDeadVLAN, hostOVSTagMismatch},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if s.Server == nil {
			return nil
		}
		type key struct{ host, net string }
		seen := map[key]bool{}
		var out []Finding
		for _, d := range brIntDevices(in) {
			k := key{d.host, d.net}
			n := s.Network(d.net)
			if seen[k] || n == nil || n.Provider == nil || n.Provider.SegmentationID == nil {
				continue
			}
			table, tunnel := tunnelTables[n.Provider.NetworkType]
			if !tunnel {
				continue
			}
			h := hostNamed(s, d.host)
			p := ovsPort(h, d.name)
			if p == nil || p.Tag == nil || *p.Tag == deadVLAN {
				continue // no local VLAN to look for: the tag rules say why
			}
			seen[k] = true
			flows, errText, ok := bridgeFlows(h, "br-tun")
			if !ok {
				continue // no br-tun: host/ovs-port-error says so
			}
			if !partOK(in, h, "br-tun's flows", errText) {
				continue
			}
			vni, vlan := *n.Provider.SegmentationID, *p.Tag
			var in4, back bool
			var tableFlows []string
			for _, f := range flows {
				if f.Table == table {
					m := f.Match
					if m == "" {
						m = "any"
					}
					tableFlows = append(tableFlows, fmt.Sprintf("table %d, priority %d, %s: %s", f.Table, f.Priority, m, f.Actions))
					if v, ok := number(matchField(f.Match, "tun_id")); ok && v == int64(vni) && setsVLAN(f.Actions, vlan) {
						in4 = true
					}
				}
				if v, ok := number(matchField(f.Match, "dl_vlan")); ok && v == int64(vlan) && setsVNI(f.Actions, vni) {
					back = true
				}
			}
			var missing []string
			if !in4 {
				missing = append(missing, fmt.Sprintf("from VNI %d to local VLAN %d (table %d): packets from the other hosts are dropped", vni, vlan, table))
			}
			if !back && hasPeerOn(s, d.host, d.net) {
				missing = append(missing, fmt.Sprintf("from local VLAN %d to VNI %d: packets to the other hosts are dropped", vlan, vni))
			}
			if len(missing) == 0 {
				continue
			}
			ev := []string{fmt.Sprintf("network %s: %s segment %d; its ports on %s are on local VLAN %d (Port %s)", netLabel(s, d.net), n.Provider.NetworkType, vni, d.host, vlan, d.name)}
			if len(tableFlows) > 8 {
				tableFlows = append(tableFlows[:8], fmt.Sprintf("… %d more", len(tableFlows)-8))
			}
			ev = append(ev, "br-tun "+orNone(strings.Join(tableFlows, "; ")))
			out = append(out, Finding{Subject: Subject{Kind: "host", Name: d.host}, Devices: []DeviceRef{{Host: d.host, Name: "br-tun"}},
				Summary:     fmt.Sprintf("br-tun on %s has no flow translating network %s %s", d.host, netLabel(s, d.net), strings.Join(missing, ", nor ")),
				Evidence:    ev,
				Remediation: cmds(restartOVSAgent(d.host, "it reinstalls br-tun's flows")),
				Verify:      cmds(onHost(cmd("ovs-ofctl", "dump-flows", "br-tun", fmt.Sprintf("table=%d,tun_id=%d", table, vni)), d.host+": a flow setting the local VLAN")),
			})
		}
		return out
	},
}

var hostTraceDrop = &Rule{
	Name:     "host/trace-drop",
	Severity: Error,
	Title:    "Open vSwitch drops the checked packet on its way to the server",
	Doc: `ofproto/trace runs a packet through the bridges' flow tables as the switch
would, without sending it, and says what becomes of it. hoofbeat traces,
on the server's compute host, the default ping (an ICMP echo from the
network's DHCP port) and each --check flow (from the router's interface on
the server's subnet, from an address of --from), from the tunnel to the
sender's host (a flat or VLAN network's: from the NIC of the physical
bridge its physical network is mapped to; the sender's own port when it is
on the same host) towards the VIF, and names the table and flow that drop
it. Conntrack is traced as a new connection. IPv6 flows are not traced
yet (said as not checked).`,
	Fix:           "Fix what the dropping flow stands for (a security group rule, br-tun's VNI translation, a port's VLAN); restart the Open vSwitch agent when its flows are incomplete.",
	Needs:         []string{snapshot.SourceHosts},
	Hop:           HopHosts,
	NotApplicable: withoutOVSAgent,
	Causes: []*Rule{portAdminDown, portBindingFailed, sgIcmpIngressMissing, sgIngressMissing, agentL2Down,
		hostDeviceDown, hostVIFDetached, hostOVSDeadVLAN, hostOVSTagMismatch, hostOVSFlowMissing, hostOVSPortError},
	Check: func(in *Input) []Finding {
		if in.Snapshot.Server == nil {
			return nil
		}
		var out []Finding
		for _, h := range reached(in) {
			if h.OVS == nil {
				continue
			}
			for _, t := range h.OVS.Traces {
				if t.Error != "" {
					in.uncheck("host %s: %s not traced: %s", h.Name, t.Label, t.Error)
					continue
				}
				if !t.Dropped {
					continue
				}
				where := "an unnamed table"
				var ev []string
				var drop []DeviceRef
				if d := t.Drop; d != nil {
					where = fmt.Sprintf("%s, flow %q", tableText(d.Bridge, d.Table), d.Rule)
					drop = []DeviceRef{{Host: h.Name, Name: d.Bridge}}
				}
				ev = append(ev, fmt.Sprintf("ovs-appctl ofproto/trace %s %s", t.Bridge, t.Flow))
				for _, st := range t.Steps {
					ev = append(ev, fmt.Sprintf("%s table %d: %s → %s", st.Bridge, st.Table, st.Rule, orNone(strings.Join(st.Actions, ", "))))
				}
				ev = append(ev, "datapath actions: "+t.Actions)
				out = append(out, Finding{Subject: hostSubject(h), Port: t.Port, Devices: drop,
					Summary:  fmt.Sprintf("Open vSwitch on %s drops the %s in %s", h.Name, t.Label, where),
					Evidence: ev,
					Verify:   cmds(onHost(cmd("ovs-appctl", "ofproto/trace", t.Bridge, t.Flow), h.Name+": read-only, sends nothing")),
					Remediation: cmds(note("fix what the dropping flow stands for (see the other findings); if no other finding names it, the agent's flows are incomplete:"),
						restartOVSAgent(h.Name, "it reinstalls the flows")),
				})
			}
		}
		return out
	},
}

// withoutOVSAgent: local VLAN tags, br-tun and its flows are the Open
// vSwitch agent's. On ML2/OVN, ovn-controller programs br-int alone (no
// tags, no br-tun), and the ovn/ rules check it.
func withoutOVSAgent(s *snapshot.Snapshot) string {
	if IsOVN(s) {
		return "the cloud runs ML2/OVN: ovn-controller programs br-int without local VLAN tags or br-tun (the ovn/ rules check OVN itself)"
	}
	return withoutOVS(s)
}
