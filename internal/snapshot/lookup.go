package snapshot

// Lookups used by rules and renderers. Snapshots are small (one server's
// neighbourhood), so linear scans keep the data plain and serialisable.

// Network returns the network with the given ID, or nil.
func (s *Snapshot) Network(id string) *Network {
	for i := range s.Networks {
		if s.Networks[i].ID == id {
			return &s.Networks[i]
		}
	}
	return nil
}

// Subnet returns the subnet with the given ID, or nil.
func (s *Snapshot) Subnet(id string) *Subnet {
	for i := range s.Subnets {
		if s.Subnets[i].ID == id {
			return &s.Subnets[i]
		}
	}
	return nil
}

// SecurityGroup returns the group with the given ID, or nil.
func (s *Snapshot) SecurityGroup(id string) *SecurityGroup {
	for i := range s.SecurityGroups {
		if s.SecurityGroups[i].ID == id {
			return &s.SecurityGroups[i]
		}
	}
	return nil
}

// Router returns the router with the given ID, or nil.
func (s *Snapshot) Router(id string) *Router {
	for i := range s.Routers {
		if s.Routers[i].ID == id {
			return &s.Routers[i]
		}
	}
	return nil
}

// Agent returns the agent with the given ID, or nil.
func (s *Snapshot) Agent(id string) *Agent {
	for i := range s.Agents {
		if s.Agents[i].ID == id {
			return &s.Agents[i]
		}
	}
	return nil
}

// Gap returns the first gap recorded for source, or nil when it was read.
func (s *Snapshot) Gap(source string) *Gap {
	for i := range s.Gaps {
		if s.Gaps[i].Source == source {
			return &s.Gaps[i]
		}
	}
	return nil
}

// NetworkPortsByOwner returns the network ports on networkID whose
// device_owner is one of owners.
func (s *Snapshot) NetworkPortsByOwner(networkID string, owners ...string) []Port {
	var out []Port
	for _, p := range s.NetworkPorts {
		if p.NetworkID != networkID {
			continue
		}
		for _, o := range owners {
			if p.DeviceOwner == o {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Device owners of the ports the collector fetches per network.
const (
	OwnerDHCP               = "network:dhcp"
	OwnerRouterInterface    = "network:router_interface"
	OwnerRouterInterfaceDVR = "network:router_interface_distributed"
	OwnerRouterInterfaceHA  = "network:ha_router_replicated_interface"
	OwnerRouterGateway      = "network:router_gateway"
	OwnerFloatingIP         = "network:floatingip"
	// OwnerOVNMetadata is ML2/OVN's metadata port (a localport on each chassis).
	OwnerOVNMetadata = "network:distributed"
)

// RouterInterfaceOwners are the device owners that mark a router's leg on a subnet.
var RouterInterfaceOwners = []string{OwnerRouterInterface, OwnerRouterInterfaceDVR, OwnerRouterInterfaceHA}

// ExternalNetwork returns the external network with the given ID: one of
// the server's networks, else one of ExternalNetworks; nil if neither.
func (s *Snapshot) ExternalNetwork(id string) *Network {
	if n := s.Network(id); n != nil {
		return n
	}
	for i := range s.ExternalNetworks {
		if s.ExternalNetworks[i].ID == id {
			return &s.ExternalNetworks[i]
		}
	}
	return nil
}
