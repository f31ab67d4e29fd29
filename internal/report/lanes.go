package report

import (
	"slices"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// The path picture: the packet's way across the hosts that serve the
// server, device by device. On a compute host: the VIF, the bridge
// (brq… or br-int), the tunnel (vxlan-… or br-tun); on a network node:
// the tunnel, the bridge, the DHCP and router namespaces' devices, the
// gateway. Each station is ok, a problem (a finding names one of its
// devices) or not checked.

// station is one step of a host's lane.
type station struct {
	// Label is the step's kind for a person (VIF, bridge, tunnel, qdhcp,
	// qrouter, gateway); Devices the devices it stands for.
	Label   string
	Devices []string
	Status  hopStatus
	// Class is ok, error, warning or skipped (the picture's colour).
	Class string
	// Note is the finding that marks it, or why it was not checked.
	Note string
	keys []rule.DeviceRef
}

// lane is one host's stations, in the packet's order.
type lane struct {
	Host     string
	Roles    string
	Stations []station
	// Note says why the host has no stations (unreachable, no L2 agent).
	Note string
}

// lanes builds the path picture of the hosts checked for a server.
func lanes(s *snapshot.Snapshot, findings []findingView) []lane {
	if s.Server == nil || len(s.Hosts) == 0 {
		return nil
	}
	devs := rule.PathDevices(s)
	var out []lane
	for i := range s.Hosts {
		h := &s.Hosts[i]
		l := lane{Host: h.Name, Roles: strings.Join(h.Roles, ", ")}
		if h.Unreachable != "" {
			l.Note = "not checked: " + h.Unreachable
			out = append(out, l)
			continue
		}
		byRole := map[string][]rule.Device{}
		for _, d := range devs {
			if d.Host == h.Name {
				byRole[d.Role] = append(byRole[d.Role], d)
			}
		}
		if len(byRole) == 0 {
			l.Note = "not checked: which devices to expect is not known (no Linux bridge or Open vSwitch agent is known on this host)"
			out = append(out, l)
			continue
		}
		ovs := h.OVS != nil && hasBridge(h.OVS, "br-int")
		bridge := stationOf("bridge", byRole[rule.RoleBridge])
		tunnel := stationOf("tunnel", byRole[rule.RoleTunnel])
		if ovs {
			bridge = station{Label: "bridge", Devices: []string{"br-int"}, keys: []rule.DeviceRef{{Host: h.Name, Name: "br-int"}}}
			tunnel = station{Label: "tunnel", Devices: []string{"br-tun"}, keys: []rule.DeviceRef{{Host: h.Name, Name: "br-tun"}}}
			if !hasBridge(h.OVS, "br-tun") {
				// ML2/OVN: no br-tun, its tunnels are ports of br-int.
				tunnel = tunnelPorts(h)
			}
		}
		var st []station
		add := func(x station) {
			if len(x.keys) > 0 {
				st = append(st, x)
			}
		}
		namespaces := func() {
			for _, ns := range nsStations(h.Name, "qdhcp", byRole[rule.RoleDHCP]) {
				add(ns)
			}
			for _, ns := range nsStations(h.Name, "qrouter", byRole[rule.RoleRouter]) {
				add(ns)
			}
			add(stationOf("gateway", byRole[rule.RoleGateway]))
		}
		if vifs := byRole[rule.RoleVIF]; len(vifs) > 0 {
			// A compute host: out of the VIF, over the bridge; its own
			// namespaces (an all-in-one host) before the tunnel.
			add(stationOf("VIF", vifs))
			add(bridge)
			namespaces()
			add(tunnel)
		} else {
			// A network node: in from the tunnel.
			add(tunnel)
			add(bridge)
			namespaces()
		}
		for j := range st {
			mark(&st[j], h, findings)
		}
		l.Stations = st
		out = append(out, l)
	}
	return out
}

// tunnelPorts is the station of a host's Open vSwitch tunnel interfaces
// (OVN's geneve ports on br-int), none when it has none.
func tunnelPorts(h *snapshot.Host) station {
	st := station{Label: "tunnel"}
	for _, i := range h.OVS.Interfaces {
		switch i.Type {
		case "geneve", "vxlan", "gre", "stt":
			st.Devices = append(st.Devices, i.Name)
			st.keys = append(st.keys, rule.DeviceRef{Host: h.Name, Name: i.Name})
		}
	}
	return st
}

func hasBridge(o *snapshot.OVS, name string) bool {
	for _, b := range o.Bridges {
		if b.Name == name {
			return true
		}
	}
	return false
}

// stationOf makes one station of devices; a root end is shown with its
// namespace device.
func stationOf(label string, devs []rule.Device) station {
	x := station{Label: label}
	for _, d := range devs {
		x.keys = append(x.keys, d.DeviceRef)
		if d.RootOf == "" {
			x.Devices = append(x.Devices, d.Name)
		}
	}
	if len(x.Devices) == 0 {
		for _, d := range devs {
			x.Devices = append(x.Devices, d.Name)
		}
	}
	return x
}

// nsStations makes one station per namespace of a role: its devices and
// their root ends, and the namespace as a whole.
func nsStations(host, label string, devs []rule.Device) []station {
	var out []station
	idx := map[string]int{}
	nsOf := map[string]string{}
	for _, d := range devs {
		if d.NS != "" {
			nsOf[d.Name] = d.NS
		}
	}
	for _, d := range devs {
		ns := d.NS
		if ns == "" {
			ns = nsOf[d.RootOf]
		}
		i, ok := idx[ns]
		if !ok {
			i = len(out)
			idx[ns] = i
			out = append(out, station{Label: label, keys: []rule.DeviceRef{{Host: host, NS: ns}}})
		}
		out[i].keys = append(out[i].keys, d.DeviceRef)
		if d.RootOf == "" {
			out[i].Devices = append(out[i].Devices, d.Name)
		}
	}
	return out
}

// mark sets a station's status: a problem when a finding names one of its
// devices (or its namespace), ok when its devices were read, else not
// checked.
func mark(x *station, h *snapshot.Host, findings []findingView) {
	var worst rule.Severity
	for _, f := range findings {
		if !touches(f.Devices, x.keys) || (f.Severity < rule.Warning && f.CausedBy == "") {
			continue
		}
		sev := f.Severity
		if f.CausedBy != "" {
			sev = rule.Error // a symptom of another finding: still broken
		}
		if x.Note == "" || sev > worst {
			x.Note = f.Rule + ": " + f.Summary
		}
		worst = max(worst, sev)
	}
	switch {
	case worst >= rule.Error:
		x.Status, x.Class = statusProblem, "error"
	case worst == rule.Warning:
		x.Status, x.Class = statusProblem, "warning"
	case read(x, h):
		x.Status, x.Class = statusOK, "ok"
	default:
		x.Status, x.Class = statusSkipped, "skipped"
		x.Note = "not checked: its devices could not be read"
	}
}

// touches reports whether a finding's devices name one of the station's:
// the same device, or a whole namespace.
func touches(fd, keys []rule.DeviceRef) bool {
	for _, f := range fd {
		for _, k := range keys {
			if f.Host == k.Host && f.NS == k.NS && (f.Name == k.Name || f.Name == "" || k.Name == "") {
				return true
			}
		}
	}
	return false
}

// read reports whether a station's devices were read on the host.
func read(x *station, h *snapshot.Host) bool {
	for _, k := range x.keys {
		switch {
		case k.Name == "br-int" || k.Name == "br-tun":
			if h.OVS == nil {
				return false
			}
		case k.NS == "" && h.OVS != nil && slices.ContainsFunc(h.OVS.Interfaces, func(i snapshot.OVSInterface) bool { return i.Name == k.Name }):
			// An Open vSwitch interface with no kernel device (a tunnel port
			// on the userspace datapath): read with Open vSwitch.
		case k.NS == "":
			if h.LinksError != "" || linkIn(h.Links, k.Name) == nil {
				return false
			}
		case k.Name != "":
			if h.NamespacesError != "" {
				return false
			}
		}
	}
	return true
}

func linkIn(links []snapshot.Link, name string) *snapshot.Link {
	for i := range links {
		if links[i].Name == name {
			return &links[i]
		}
	}
	return nil
}
