package rule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// The dataplane rules follow the server's packets through the devices of
// the hosts that serve it: existence is other rules' business (a missing
// namespace or device); these ask whether a device that is there can pass
// a packet. They name the broken device, not the symptom (the probe's
// "unreachable").

// Roles of the devices on the server's path, in the path picture's terms.
const (
	RoleVIF     = "vif"
	RoleBridge  = "bridge"
	RoleTunnel  = "tunnel"
	RoleDHCP    = "dhcp"
	RoleRouter  = "router"
	RoleGateway = "gateway"
)

// pathDevice is a device the server's packets cross on one host.
type pathDevice struct {
	host, ns, name string
	// role is the device's place on the path (RoleVIF…); rootOf names the
	// namespace device whose veth root end this device is.
	role, rootOf string
	// what says what the device is, for a person.
	what string
	// master is the bridge a Linux bridge device must be enslaved to; "*"
	// for any bridge (the gateway's, whose bridge the mappings choose).
	master string
	// brInt is set for an Open vSwitch device that must be a port of br-int.
	brInt bool
	// peer is the veth peer in the host's root namespace, by Neutron's
	// naming (tap + the port ID's first 11 characters).
	peer string
	// mtu is the MTU the device must carry (that of network net), 0 when
	// unknown.
	mtu int
	net string
	// port is the Neutron port the device carries, nil for a bridge, a
	// vxlan device or the gateway's.
	port *snapshot.Port
}

func (d pathDevice) where() string {
	if d.ns == "" {
		return d.host
	}
	return d.host + " in " + d.ns
}

// ipCmd is an ip command on the device, in its namespace.
func (d pathDevice) ipCmd(args ...string) shell.Cmd {
	argv := []string{"ip"}
	if d.ns != "" {
		argv = append(argv, "-n", d.ns)
	}
	return onHost(cmd(append(argv, args...)...), d.host)
}

// bridgeName is the Linux bridge agent's bridge of a network.
func bridgeName(networkID string) string { return deviceName("brq", networkID) }

// pathDevices lists the devices on the server's path on the hosts that
// were checked: the VIFs on the compute hosts, the network's bridge and
// vxlan device, and the DHCP and router namespaces' devices with their
// veth peers. They are listed once per evaluation, for the three rules.
func pathDevices(in *Input) []pathDevice {
	c := in.cache()
	if !c.read {
		c.devices, c.read = listPathDevices(in), true
	}
	return c.devices
}

func listPathDevices(in *Input) []pathDevice {
	s := in.Snapshot
	v := in.View()
	var out []pathDevice
	seen := map[[3]string]bool{}
	add := func(d pathDevice) {
		if k := [3]string{d.host, d.ns, d.name}; !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	for _, hv := range v.Hosts {
		h := hostNamed(s, hv.Name)
		if h == nil || h.Unreachable != "" {
			continue
		}
		a := l2Agent(s, h.Name)
		// ML2/OVN's ovn-controller plugs VIFs into br-int as the Open
		// vSwitch agent does.
		ovs := a != nil && a.AgentType == snapshot.AgentTypeOVS || len(agentsOn(s, h.Name, agentTypeOVNController, agentTypeOVNGateway)) > 0
		lb := a != nil && a.AgentType == snapshot.AgentTypeLinuxBridge
		if !ovs && !lb {
			continue // no L2 agent known there: which devices to expect is unknown
		}
		for _, p := range v.Ports {
			mtu := 0
			if p.Network != nil {
				mtu = p.Network.MTU
			}
			onNet := func() {
				if !lb {
					return
				}
				add(pathDevice{host: h.Name, role: RoleBridge, name: bridgeName(p.NetworkID), what: "the bridge of network " + netLabel(s, p.NetworkID), mtu: mtu, net: p.NetworkID})
				if n := p.Network; n != nil && n.Provider != nil && n.Provider.NetworkType == "vxlan" && n.Provider.SegmentationID != nil {
					add(pathDevice{host: h.Name, role: RoleTunnel, name: "vxlan-" + strconv.Itoa(*n.Provider.SegmentationID), what: "the vxlan device of network " + netLabel(s, p.NetworkID),
						master: bridgeName(p.NetworkID), mtu: mtu, net: p.NetworkID})
				}
			}
			if hv.Has(topology.RoleCompute) && (p.BindingHostID == h.Name || p.BindingHostID == "" && s.Server != nil && s.Server.Host == h.Name) {
				vif := pathDevice{host: h.Name, role: RoleVIF, name: deviceName("tap", p.ID), what: "the VIF of " + portLabel(p.Port), mtu: mtu, net: p.NetworkID, port: p.Port}
				if lb {
					vif.master = bridgeName(p.NetworkID)
				} else {
					vif.brInt = true
				}
				add(vif)
				onNet()
			}
			if hv.Has(topology.RoleDHCP) && slices.Contains(topology.DHCPHosts(s, p.NetworkID), h.Name) {
				for _, dp := range p.DHCPPorts {
					if dp.BindingHostID != "" && dp.BindingHostID != h.Name {
						continue
					}
					ns := "qdhcp-" + p.NetworkID
					// A veth pair (ns- inside, tap outside: Linux bridge, or
					// Open vSwitch with ovs_use_veth), or an OVS internal port
					// (tap inside).
					name := deviceName("ns-", dp.ID)
					if nsHas(h, ns, deviceName("tap", dp.ID)) {
						name = deviceName("tap", dp.ID)
					}
					nsDevice(h, pathDevice{host: h.Name, role: RoleDHCP, ns: ns, name: name, what: "the DHCP port " + shortID(dp.ID) + "'s device", mtu: mtu, net: p.NetworkID, port: &dp}, lb, add)
					onNet()
				}
			}
			for _, leg := range p.Routers {
				if !slices.Contains(leg.L3Hosts(), h.Name) {
					continue
				}
				ns := "qrouter-" + leg.ID
				nsDevice(h, pathDevice{host: h.Name, role: RoleRouter, ns: ns, name: deviceName("qr-", leg.Port.ID), what: "router " + routerOrID(leg) + "'s interface on " + netLabel(s, p.NetworkID), mtu: mtu, net: p.NetworkID, port: &leg.Port}, lb, add)
				onNet()
				if gw := leg.Gateway(); gw != nil {
					if qg := gatewayDevice(h, ns, gw); qg != "" {
						g := pathDevice{host: h.Name, role: RoleGateway, ns: ns, name: qg, what: "router " + routerOrID(leg) + "'s gateway"}
						// Its bridge is the external network's, as the
						// mappings choose: any bridge will do.
						if peer := rootTap(qg); lb && linkNamed(h.Links, peer) != nil {
							g.peer = peer
							add(pathDevice{host: h.Name, role: RoleGateway, rootOf: qg, name: peer, what: "the root end of " + qg, master: "*"})
						}
						add(g)
					}
				}
			}
		}
	}
	return out
}

// nsDevice adds a namespace device on a network's path and, for a veth
// pair, its root end, which must be on the network's bridge (Linux bridge)
// or br-int (Open vSwitch); an Open vSwitch internal port in the namespace
// must itself be on br-int.
func nsDevice(h *snapshot.Host, d pathDevice, lb bool, add func(pathDevice)) {
	peer := rootTap(d.name)
	if peer == d.name {
		d.brInt = !lb
		add(d)
		return
	}
	d.peer = peer
	root := pathDevice{host: d.host, role: d.role, rootOf: d.name, name: peer, what: "the root end of " + d.name, mtu: d.mtu, net: d.net, port: d.port}
	if lb {
		root.master = bridgeName(d.net)
	} else {
		root.brInt = true
	}
	add(root)
	add(d)
}

// nsHas reports whether a namespace of the host holds the device.
func nsHas(h *snapshot.Host, ns, dev string) bool {
	n := namespace(h, ns)
	return n != nil && linkNamed(n.Links, dev) != nil
}

// gatewayDevice is the qg- device of a router's namespace that carries one
// of the gateway's addresses, or "".
func gatewayDevice(h *snapshot.Host, ns string, gw *snapshot.ExternalGateway) string {
	n := namespace(h, ns)
	if n == nil {
		return ""
	}
	for _, l := range n.Links {
		if !strings.HasPrefix(l.Name, "qg-") {
			continue
		}
		for _, a := range l.Addrs {
			for _, ip := range gw.ExternalFixedIPs {
				if strings.HasPrefix(a, ip.IPAddress+"/") {
					return l.Name
				}
			}
		}
	}
	return ""
}

// deviceLink returns the device's link as read, or nil when it is not
// there or could not be read (other rules say which).
func deviceLink(in *Input, d pathDevice) *snapshot.Link {
	h := hostNamed(in.Snapshot, d.host)
	if h == nil {
		return nil
	}
	if d.ns == "" {
		if h.LinksError != "" {
			return nil
		}
		return linkNamed(h.Links, d.name)
	}
	if h.NamespacesError != "" {
		return nil
	}
	n := namespace(h, d.ns)
	if n == nil || n.Error != "" {
		return nil
	}
	return linkNamed(n.Links, d.name)
}

func dataplaneEvidence(d pathDevice, l *snapshot.Link) string {
	state := "DOWN"
	if l.Up {
		state = "UP"
		if l.NoCarrier {
			state = "UP, NO-CARRIER"
		}
	}
	ev := fmt.Sprintf("%s on %s (%s): %s", d.name, d.where(), d.what, state)
	if l.Master != "" {
		ev += ", master " + l.Master
	}
	if l.MTU > 0 {
		ev += fmt.Sprintf(", mtu %d", l.MTU)
	}
	return ev
}

var hostDeviceDown = &Rule{
	Name:     "host/device-down",
	Severity: Error,
	Title:    "A device on the server's path is down",
	Doc: `A device can be there, with its address, and pass nothing: set down by hand
or by a failed agent action, or up without carrier (no LOWER_UP) because the
other end of its veth pair is down, or because nothing holds the tap. The
probe from the DHCP namespace then says only "unreachable"; this rule names
the device.

With --hosts, hoofbeat reads the link state of the devices on the server's
path on each host that serves it (netlink locally, ip -json over SSH): the
VIF (tap + the port ID's first 11 characters) on the compute host; with
Linux bridge, the network's brq bridge, its vxlan device, and the root ends
of the DHCP and router namespaces' veth pairs; the DHCP namespace's ns- (or
tap) device and the router's qr- and qg- devices. A device without carrier
whose veth peer is down is reported once, on the peer that is down.
Missing devices are host/dhcp-interface-missing's and
host/router-interface-missing's.`,
	Fix:   "Bring the device up (ip link set DEV up, with ip -n NAMESPACE for a namespace's device) and find who set it down (the agent's log); restart the agent to have it rebuild the wiring.",
	Needs: []string{snapshot.SourceHosts},
	Hop:   HopHosts,
	Check: func(in *Input) []Finding {
		if in.Snapshot.Server == nil {
			return nil
		}
		devs := pathDevices(in)
		var out []Finding
		for _, d := range devs {
			l := deviceLink(in, d)
			if l == nil || (l.Up && !l.NoCarrier) {
				continue
			}
			f := Finding{Subject: Subject{Kind: "host", Name: d.host}, Devices: []DeviceRef{d.ref()}, Evidence: []string{dataplaneEvidence(d, l)}}
			if !l.Up {
				f.Summary = fmt.Sprintf("%s (%s) is administratively down on %s: nothing passes it", d.name, d.what, d.where())
				f.Remediation = cmds(d.ipCmd("link", "set", d.name, "up"))
			} else {
				// Up without carrier: the peer that is down explains it.
				if peerDown(in, d, devs) {
					continue
				}
				f.Summary = fmt.Sprintf("%s (%s) on %s has no carrier: its other end is down or gone, nothing passes it", d.name, d.what, d.where())
				if strings.HasPrefix(d.name, "tap") && d.ns == "" && d.master != "" && d.peer == "" {
					f.Summary = fmt.Sprintf("%s (%s) on %s has no carrier: the instance's side of it is down (is the guest running, its NIC up?)", d.name, d.what, d.where())
				}
				f.Remediation = cmds(d.ipCmd("-d", "link", "show", d.name).Comment("its peer (link-netnsid, @if) must be up"))
			}
			f.Remediation = append(f.Remediation, restartL2(in, d)...)
			f.Verify = cmds(d.ipCmd("-br", "link", "show", d.name).Comment("UP, and LOWER_UP in ip link show"))
			out = append(out, f)
		}
		return out
	},
}

// peerDown reports whether a device's veth peer (either way round) is on
// the path and administratively down: that device's finding covers both.
func peerDown(in *Input, d pathDevice, devs []pathDevice) bool {
	for _, o := range devs {
		if o.host != d.host || !(o.peer == d.name && d.ns == "" || d.peer == o.name && o.ns == "") {
			continue
		}
		if l := deviceLink(in, o); l != nil && !l.Up {
			return true
		}
	}
	return false
}

// restartL2 is the agent restart that rewires a host's devices.
func restartL2(in *Input, d pathDevice) []shell.Cmd {
	unit := "neutron-linuxbridge-agent"
	if a := l2Agent(in.Snapshot, d.host); a != nil {
		unit = l2Service(a.AgentType)
	} else if len(agentsOn(in.Snapshot, d.host, agentTypeOVNController, agentTypeOVNGateway)) > 0 {
		unit = "ovn-controller"
	}
	switch {
	case strings.HasPrefix(d.ns, "qdhcp-"):
		unit = "neutron-dhcp-agent"
	case strings.HasPrefix(d.ns, "qrouter-"):
		// A router device set down lost its routes (the default route
		// with the gateway): setting it up does not bring them back.
		return cmds(onHost(cmd("systemctl", "restart", "neutron-l3-agent"), d.host+": it restores the routes the device lost"))
	}
	return cmds(onHost(cmd("systemctl", "restart", unit), d.host+": if the device goes down again, the agent rebuilds it"))
}

var hostVIFDetached = &Rule{
	Name:     "host/vif-detached",
	Severity: Error,
	Title:    "A device on the server's path is not attached where it must be",
	Doc: `The Linux bridge agent enslaves each port's device to its network's bridge
(brq + the network ID's first 11 characters); the Open vSwitch agent (and ovn-controller on ML2/OVN) makes
it a port of br-int. A VIF, or the root end of the DHCP or router
namespace's veth pair, that is detached from its bridge is up and carries
nothing to the rest of the network. A namespace device whose veth peer is
gone is cut off the same way.

With --hosts, hoofbeat reads each device's master (Linux bridge) or br-int's
ports (ovs-vsctl) on the hosts that serve the server.`,
	Fix:   "Attach the device again (ip link set DEV master BRIDGE, or ovs-vsctl add-port br-int DEV with its external_ids), or restart the L2 agent so that it rewires the port.",
	Needs: []string{snapshot.SourceHosts},
	Hop:   HopHosts,
	Check: func(in *Input) []Finding {
		if in.Snapshot.Server == nil {
			return nil
		}
		var out []Finding
		for _, d := range pathDevices(in) {
			l := deviceLink(in, d)
			if l == nil {
				continue
			}
			f := Finding{Subject: Subject{Kind: "host", Name: d.host}, Devices: []DeviceRef{d.ref()}, Evidence: []string{dataplaneEvidence(d, l)}}
			switch {
			case d.master == "*" && l.Master == "":
				f.Summary = fmt.Sprintf("%s (%s) on %s is on no bridge: it carries nothing", d.name, d.what, d.where())
				f.Remediation = cmds(d.ipCmd("link", "set", d.name, "master", "BRIDGE").Comment("the bridge of the external network, as physical_interface_mappings or bridge_mappings say"))
			case d.master != "" && d.master != "*" && l.Master != d.master:
				was := "on no bridge"
				if l.Master != "" {
					was = "on " + l.Master
				}
				f.Summary = fmt.Sprintf("%s (%s) on %s is %s, not on %s: it carries nothing to the network", d.name, d.what, d.where(), was, d.master)
				f.Remediation = cmds(d.ipCmd("link", "set", d.name, "master", d.master))
			case d.brInt && !onBridge(in.Snapshot, d.host, "br-int", d.name):
				h := hostNamed(in.Snapshot, d.host)
				if h.OVS == nil {
					continue // Open vSwitch not read: host/ovs-port-error says why
				}
				f.Summary = fmt.Sprintf("%s (%s) on %s is not a port of br-int: it carries nothing to the network", d.name, d.what, d.where())
				f.Remediation = cmds(onHost(cmd("ovs-vsctl", "list-ports", "br-int"), d.host))
			case d.peer != "":
				h := hostNamed(in.Snapshot, d.host)
				if h.LinksError != "" || linkNamed(h.Links, d.peer) != nil {
					continue
				}
				f.Summary = fmt.Sprintf("%s (%s) on %s has lost its veth peer %s in the host's namespace: it is cut off", d.name, d.what, d.where(), d.peer)
				f.Evidence = append(f.Evidence, fmt.Sprintf("devices of %s: no %s", d.host, d.peer))
			default:
				continue
			}
			f.Remediation = append(f.Remediation, restartL2(in, d)...)
			f.Verify = cmds(d.ipCmd("-br", "link", "show", d.name))
			out = append(out, f)
		}
		return out
	},
}

// rootTap is the root end's name of a namespace device's veth pair, which
// is the port on br-int when the agents run with ovs_use_veth.
func rootTap(name string) string {
	if _, id, ok := strings.Cut(name, "-"); ok && !strings.HasPrefix(name, "tap") {
		return "tap" + id
	}
	return name
}

// onBridge reports whether an Open vSwitch bridge of the host has the port.
func onBridge(s *snapshot.Snapshot, host, bridge, port string) bool {
	h := hostNamed(s, host)
	if h == nil || h.OVS == nil {
		return false
	}
	for _, b := range h.OVS.Bridges {
		if b.Name == bridge && slices.Contains(b.Ports, port) {
			return true
		}
	}
	return false
}

// overlay is the bytes an overlay adds to each packet (IPv4 underlay).
var overlay = map[string]int{"vxlan": 50, "geneve": 58, "gre": 42}

var hostMTUTooSmall = &Rule{
	Name:     "host/mtu-too-small",
	Severity: Error,
	Title:    "A device on the server's path has a smaller MTU than the network",
	Doc: `Neutron tells the guest the network's MTU (DHCP option 26, metadata); every
device the packet crosses must carry it. A VIF, bridge or namespace device
with a smaller MTU drops (or, for IPv4 without DF, fragments) the larger
packets: pings pass, SSH sessions and HTTP transfers hang. The overlay adds
its header (VXLAN 50 bytes, GENEVE 58), so the underlay device the tunnel
leaves by must carry the network's MTU plus that.

With --hosts, hoofbeat compares each path device's MTU with the network's
and the vxlan device's underlay (its dev, or the device holding its local
address) with the network's MTU plus the overhead. The API-only estimate is
network/mtu-mismatch.`,
	Fix:   "Set the device's MTU to the network's (ip link set DEV mtu N) and find what lowered it; for the underlay, raise the tunnel interface's MTU (and the switch ports') or lower the network's MTU (openstack network set --mtu).",
	Needs: []string{snapshot.SourceHosts},
	Hop:   HopHosts,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if s.Server == nil {
			return nil
		}
		var out []Finding
		devs := pathDevices(in)
		for _, d := range devs {
			l := deviceLink(in, d)
			if l == nil || d.mtu == 0 || l.MTU == 0 {
				continue
			}
			if l.MTU < d.mtu && !lowerPort(in, d, l.MTU, devs) {
				out = append(out, Finding{Subject: Subject{Kind: "host", Name: d.host}, Devices: []DeviceRef{d.ref()},
					Summary:     fmt.Sprintf("%s (%s) on %s has MTU %d, below the network's %d: larger packets are dropped", d.name, d.what, d.where(), l.MTU, d.mtu),
					Evidence:    []string{dataplaneEvidence(d, l), fmt.Sprintf("network MTU: %d", d.mtu)},
					Remediation: append(cmds(d.ipCmd("link", "set", d.name, "mtu", strconv.Itoa(d.mtu))), restartL2(in, d)...),
					Verify:      cmds(d.ipCmd("link", "show", d.name)),
				})
			}
			if l.VXLAN == nil {
				continue
			}
			h := hostNamed(s, d.host)
			under := underlayLink(h, l.VXLAN)
			if under == nil || under.MTU == 0 || under.MTU >= d.mtu+overlay["vxlan"] {
				continue
			}
			out = append(out, Finding{Subject: Subject{Kind: "host", Name: d.host}, Devices: []DeviceRef{d.ref()},
				Summary: fmt.Sprintf("the underlay device %s on %s has MTU %d: VXLAN packets of network MTU %d need %d", under.Name, d.host, under.MTU, d.mtu, d.mtu+overlay["vxlan"]),
				Evidence: []string{dataplaneEvidence(d, l), fmt.Sprintf("%s (the tunnel's underlay, local %s): mtu %d", under.Name, l.VXLAN.Local, under.MTU),
					fmt.Sprintf("network MTU %d + VXLAN header %d = %d", d.mtu, overlay["vxlan"], d.mtu+overlay["vxlan"])},
				Remediation: cmds(
					onHost(cmd("ip", "link", "set", under.Name, "mtu", strconv.Itoa(d.mtu+overlay["vxlan"])), d.host+": and the switch ports between the hosts"),
					cmd("openstack", "network", "set", "--mtu", strconv.Itoa(under.MTU-overlay["vxlan"]), d.net).Comment("or lower the network's MTU to fit; the guests learn it at their next DHCP renewal"),
				),
				Verify: cmds(onHost(cmd("ip", "link", "show", under.Name), d.host)),
			})
		}
		return out
	},
}

// lowerPort reports whether a bridge's MTU is only its port's: a Linux
// bridge takes the smallest MTU of its ports, so the port on the path with
// that MTU is the device to name.
func lowerPort(in *Input, bridge pathDevice, mtu int, devs []pathDevice) bool {
	for _, d := range devs {
		if d.host != bridge.host || d.ns != "" || d.name == bridge.name {
			continue
		}
		if l := deviceLink(in, d); l != nil && l.Master == bridge.name && l.MTU > 0 && l.MTU <= mtu {
			return true
		}
	}
	return false
}

// underlayLink is the device a vxlan device's packets leave by: its dev,
// else the device that holds its local address.
func underlayLink(h *snapshot.Host, vx *snapshot.VXLAN) *snapshot.Link {
	if vx.Dev != "" {
		return linkNamed(h.Links, vx.Dev)
	}
	for i := range h.Links {
		for _, a := range h.Links[i].Addrs {
			if vx.Local != "" && strings.HasPrefix(a, vx.Local+"/") {
				return &h.Links[i]
			}
		}
	}
	return nil
}
