package rule

import "github.com/hoofbeat/hoofbeat/internal/snapshot"

// DeviceRef names a device of a host: NS is empty for the host's own
// namespace, Name empty for a whole namespace.
type DeviceRef struct {
	Host, NS, Name string
}

// Device is a device on the server's path, as the dataplane rules list
// it: what the path picture draws.
type Device struct {
	DeviceRef
	// Role is the device's place on the path (RoleVIF, RoleBridge…).
	Role string
	// What says what the device is, for a person.
	What string
	// RootOf names the namespace device whose veth root end this is.
	RootOf string
}

func (d pathDevice) ref() DeviceRef { return DeviceRef{Host: d.host, NS: d.ns, Name: d.name} }

// PathDevices lists the devices on the server's path on the hosts that
// were checked and run a known L2 agent, in the order the rules list them.
func PathDevices(s *snapshot.Snapshot) []Device {
	var out []Device
	for _, d := range listPathDevices(&Input{Snapshot: s}) {
		out = append(out, Device{DeviceRef: d.ref(), Role: d.role, What: d.what, RootOf: d.rootOf})
	}
	return out
}

// tunnelDevices are a host's tunnel devices: its vxlan devices (Linux
// bridge) and br-tun (Open vSwitch).
func tunnelDevices(h *snapshot.Host) []DeviceRef {
	out := []DeviceRef{{Host: h.Name, Name: "br-tun"}}
	for _, l := range h.Links {
		if l.VXLAN != nil {
			out = append(out, DeviceRef{Host: h.Name, Name: l.Name})
		}
	}
	return out
}
