package snapshot

// Host holds what was read on one host (a compute or network node).
type Host struct {
	// Name is the host as Neutron and Nova name it (agent host, server host).
	Name string `json:"name"`
	// Roles say why the host was checked: compute, dhcp, l3, serialproxy.
	Roles []string `json:"roles,omitempty"`
}
