package openstack

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// The types below mirror Nova's and Neutron's JSON (field names, colons and
// nulls included) and convert to the snapshot model. Pointers stand for
// attributes that may be null or absent.

// novaServer is a server as Nova shows it at microversion 2.47.
type novaServer struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	TenantID  string  `json:"tenant_id"`
	TaskState *string `json:"OS-EXT-STS:task_state"`
	VMState   *string `json:"OS-EXT-STS:vm_state"`
	// Host is absent for non-admins and null for an unscheduled server.
	Host json.RawMessage `json:"OS-EXT-SRV-ATTR:host"`
	AZ   string          `json:"OS-EXT-AZ:availability_zone"`
	// Fault is there for ERROR (and some other) servers.
	Fault *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details string `json:"details"`
		Created string `json:"created"`
	} `json:"fault"`
	SecurityGroups []struct {
		Name string `json:"name"`
	} `json:"security_groups"`
	Addresses map[string][]struct {
		Addr    string `json:"addr"`
		Version int    `json:"version"`
		Type    string `json:"OS-EXT-IPS:type"`
		MAC     string `json:"OS-EXT-IPS-MAC:mac_addr"`
	} `json:"addresses"`
	Created string `json:"created"`
	Updated string `json:"updated"`
}

// decoded is an API type that converts to its snapshot form S.
type decoded[T, S any] interface {
	*T
	toSnapshot() S
}

// appendSnapshots appends each item's snapshot form to dst.
func appendSnapshots[T, S any, P decoded[T, S]](dst []S, items []T) []S {
	for i := range items {
		dst = append(dst, P(&items[i]).toSnapshot())
	}
	return dst
}

// hostHidden reports whether OS-EXT-SRV-ATTR:host was left out (non-admin).
func (s *novaServer) hostHidden() bool { return s.Host == nil }

func (s *novaServer) toSnapshot() *snapshot.Server {
	out := &snapshot.Server{
		ID:               s.ID,
		Name:             s.Name,
		Status:           s.Status,
		TaskState:        deref(s.TaskState),
		VMState:          deref(s.VMState),
		AvailabilityZone: s.AZ,
		ProjectID:        s.TenantID,
		Created:          parseTime(s.Created),
		Updated:          parseTime(s.Updated),
	}
	if len(s.Host) > 0 && !bytes.Equal(s.Host, []byte("null")) {
		var h string
		if json.Unmarshal(s.Host, &h) == nil {
			out.Host = h
		}
	}
	if f := s.Fault; f != nil {
		out.Fault = &snapshot.Fault{Code: f.Code, Message: f.Message, Details: f.Details, Created: parseTime(f.Created)}
	}
	seen := map[string]bool{}
	for _, g := range s.SecurityGroups {
		if !seen[g.Name] {
			seen[g.Name] = true
			out.SecurityGroups = append(out.SecurityGroups, g.Name)
		}
	}
	if len(s.Addresses) > 0 {
		out.Addresses = map[string][]snapshot.ServerAddress{}
		for net, addrs := range s.Addresses {
			for _, a := range addrs {
				out.Addresses[net] = append(out.Addresses[net], snapshot.ServerAddress{Addr: a.Addr, Version: a.Version, Type: a.Type, MAC: a.MAC})
			}
		}
	}
	return out
}

type neutronFixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

func fixedIPs(in []neutronFixedIP) []snapshot.FixedIP {
	var out []snapshot.FixedIP
	for _, f := range in {
		out = append(out, snapshot.FixedIP{SubnetID: f.SubnetID, IPAddress: f.IPAddress})
	}
	return out
}

type neutronPort struct {
	ID                  string           `json:"id"`
	Name                string           `json:"name"`
	NetworkID           string           `json:"network_id"`
	ProjectID           string           `json:"project_id"`
	TenantID            string           `json:"tenant_id"`
	DeviceID            string           `json:"device_id"`
	DeviceOwner         string           `json:"device_owner"`
	Status              string           `json:"status"`
	AdminStateUp        bool             `json:"admin_state_up"`
	MACAddress          string           `json:"mac_address"`
	FixedIPs            []neutronFixedIP `json:"fixed_ips"`
	SecurityGroups      []string         `json:"security_groups"`
	PortSecurityEnabled *bool            `json:"port_security_enabled"`
	AllowedAddressPairs []struct {
		IPAddress  string `json:"ip_address"`
		MACAddress string `json:"mac_address"`
	} `json:"allowed_address_pairs"`
	BindingHostID   string `json:"binding:host_id"`
	BindingVIFType  string `json:"binding:vif_type"`
	BindingVNICType string `json:"binding:vnic_type"`
}

func (p *neutronPort) toSnapshot() snapshot.Port {
	out := snapshot.Port{
		ID:                  p.ID,
		Name:                p.Name,
		NetworkID:           p.NetworkID,
		ProjectID:           coalesce(p.ProjectID, p.TenantID),
		DeviceID:            p.DeviceID,
		DeviceOwner:         p.DeviceOwner,
		Status:              p.Status,
		AdminStateUp:        p.AdminStateUp,
		MACAddress:          p.MACAddress,
		FixedIPs:            fixedIPs(p.FixedIPs),
		SecurityGroups:      p.SecurityGroups,
		PortSecurityEnabled: p.PortSecurityEnabled,
		BindingHostID:       p.BindingHostID,
		BindingVIFType:      p.BindingVIFType,
		BindingVNICType:     p.BindingVNICType,
	}
	for _, a := range p.AllowedAddressPairs {
		out.AllowedAddressPairs = append(out.AllowedAddressPairs, snapshot.AddressPair{IPAddress: a.IPAddress, MACAddress: a.MACAddress})
	}
	return out
}

// intOrString reads a JSON number or a numeric string (some Neutron
// plugins return segmentation IDs and protocols as either).
type intOrString struct {
	set bool
	n   int
	s   string
}

func (v *intOrString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*v = intOrString{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v.set, v.s = true, s
		if n, err := strconv.Atoi(s); err == nil {
			v.n = n
		}
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	v.set, v.s = true, n.String()
	i, err := n.Int64()
	if err == nil {
		v.n = int(i)
	}
	return nil
}

type neutronSegment struct {
	NetworkType     *string     `json:"provider:network_type"`
	PhysicalNetwork *string     `json:"provider:physical_network"`
	SegmentationID  intOrString `json:"provider:segmentation_id"`
}

func (s *neutronSegment) provider() *snapshot.Provider {
	if s.NetworkType == nil {
		return nil
	}
	p := &snapshot.Provider{NetworkType: *s.NetworkType, PhysicalNetwork: deref(s.PhysicalNetwork)}
	if s.SegmentationID.set {
		id := s.SegmentationID.n
		p.SegmentationID = &id
	}
	return p
}

type neutronNetwork struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	ProjectID    string   `json:"project_id"`
	TenantID     string   `json:"tenant_id"`
	Status       string   `json:"status"`
	AdminStateUp bool     `json:"admin_state_up"`
	Shared       bool     `json:"shared"`
	External     bool     `json:"router:external"`
	MTU          int      `json:"mtu"`
	Subnets      []string `json:"subnets"`
	// Segments replaces the provider:* attributes on multi-segment networks.
	Segments []neutronSegment `json:"segments"`
	// seg holds the top-level provider:* attributes.
	seg neutronSegment
}

// UnmarshalJSON decodes the provider attributes along with the rest.
func (n *neutronNetwork) UnmarshalJSON(b []byte) error {
	type plain neutronNetwork
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &p.seg); err != nil {
		return err
	}
	*n = neutronNetwork(p)
	return nil
}

// provider returns the network's provider attributes, or nil when hidden.
func (n *neutronNetwork) provider() *snapshot.Provider {
	if p := n.seg.provider(); p != nil {
		return p
	}
	for i := range n.Segments {
		if p := n.Segments[i].provider(); p != nil {
			return p
		}
	}
	return nil
}

func (n *neutronNetwork) toSnapshot() snapshot.Network {
	return snapshot.Network{
		ID:           n.ID,
		Name:         n.Name,
		ProjectID:    coalesce(n.ProjectID, n.TenantID),
		Status:       n.Status,
		AdminStateUp: n.AdminStateUp,
		Shared:       n.Shared,
		External:     n.External,
		MTU:          n.MTU,
		Subnets:      n.Subnets,
		Provider:     n.provider(),
	}
}

type neutronSubnet struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	NetworkID      string   `json:"network_id"`
	ProjectID      string   `json:"project_id"`
	TenantID       string   `json:"tenant_id"`
	CIDR           string   `json:"cidr"`
	IPVersion      int      `json:"ip_version"`
	GatewayIP      *string  `json:"gateway_ip"`
	EnableDHCP     bool     `json:"enable_dhcp"`
	DNSNameservers []string `json:"dns_nameservers"`
	HostRoutes     []struct {
		Destination string `json:"destination"`
		NextHop     string `json:"nexthop"`
	} `json:"host_routes"`
	AllocationPools []struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"allocation_pools"`
	IPv6RAMode      *string `json:"ipv6_ra_mode"`
	IPv6AddressMode *string `json:"ipv6_address_mode"`
}

func (s *neutronSubnet) toSnapshot() snapshot.Subnet {
	out := snapshot.Subnet{
		ID:              s.ID,
		Name:            s.Name,
		NetworkID:       s.NetworkID,
		ProjectID:       coalesce(s.ProjectID, s.TenantID),
		CIDR:            s.CIDR,
		IPVersion:       s.IPVersion,
		GatewayIP:       deref(s.GatewayIP),
		EnableDHCP:      s.EnableDHCP,
		DNSNameservers:  s.DNSNameservers,
		IPv6RAMode:      deref(s.IPv6RAMode),
		IPv6AddressMode: deref(s.IPv6AddressMode),
	}
	for _, r := range s.HostRoutes {
		out.HostRoutes = append(out.HostRoutes, snapshot.HostRoute{Destination: r.Destination, NextHop: r.NextHop})
	}
	for _, p := range s.AllocationPools {
		out.AllocationPools = append(out.AllocationPools, snapshot.AllocationPool{Start: p.Start, End: p.End})
	}
	return out
}

type neutronRule struct {
	ID                   string      `json:"id"`
	SecurityGroupID      string      `json:"security_group_id"`
	Direction            string      `json:"direction"`
	Ethertype            string      `json:"ethertype"`
	Protocol             intOrString `json:"protocol"`
	PortRangeMin         *int        `json:"port_range_min"`
	PortRangeMax         *int        `json:"port_range_max"`
	RemoteIPPrefix       *string     `json:"remote_ip_prefix"`
	RemoteGroupID        *string     `json:"remote_group_id"`
	RemoteAddressGroupID *string     `json:"remote_address_group_id"`
	Description          *string     `json:"description"`
}

type neutronSecurityGroup struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	ProjectID string        `json:"project_id"`
	TenantID  string        `json:"tenant_id"`
	Stateful  *bool         `json:"stateful"`
	Rules     []neutronRule `json:"security_group_rules"`
}

func (g *neutronSecurityGroup) toSnapshot() snapshot.SecurityGroup {
	out := snapshot.SecurityGroup{
		ID:        g.ID,
		Name:      g.Name,
		ProjectID: coalesce(g.ProjectID, g.TenantID),
		Stateful:  g.Stateful,
		Rules:     []snapshot.SecurityGroupRule{},
	}
	for _, r := range g.Rules {
		out.Rules = append(out.Rules, snapshot.SecurityGroupRule{
			ID:                   r.ID,
			SecurityGroupID:      coalesce(r.SecurityGroupID, g.ID),
			Direction:            r.Direction,
			Ethertype:            r.Ethertype,
			Protocol:             r.Protocol.s,
			PortRangeMin:         r.PortRangeMin,
			PortRangeMax:         r.PortRangeMax,
			RemoteIPPrefix:       deref(r.RemoteIPPrefix),
			RemoteGroupID:        deref(r.RemoteGroupID),
			RemoteAddressGroupID: deref(r.RemoteAddressGroupID),
			Description:          deref(r.Description),
		})
	}
	return out
}

type neutronRouter struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	ProjectID           string `json:"project_id"`
	TenantID            string `json:"tenant_id"`
	Status              string `json:"status"`
	AdminStateUp        bool   `json:"admin_state_up"`
	ExternalGatewayInfo *struct {
		NetworkID        string           `json:"network_id"`
		EnableSNAT       *bool            `json:"enable_snat"`
		ExternalFixedIPs []neutronFixedIP `json:"external_fixed_ips"`
	} `json:"external_gateway_info"`
	Distributed *bool `json:"distributed"`
	HA          *bool `json:"ha"`
}

func (r *neutronRouter) toSnapshot() snapshot.Router {
	out := snapshot.Router{
		ID:           r.ID,
		Name:         r.Name,
		ProjectID:    coalesce(r.ProjectID, r.TenantID),
		Status:       r.Status,
		AdminStateUp: r.AdminStateUp,
		Distributed:  r.Distributed,
		HA:           r.HA,
	}
	if g := r.ExternalGatewayInfo; g != nil && g.NetworkID != "" {
		out.ExternalGateway = &snapshot.ExternalGateway{NetworkID: g.NetworkID, EnableSNAT: g.EnableSNAT, ExternalFixedIPs: fixedIPs(g.ExternalFixedIPs)}
	}
	return out
}

type neutronFloatingIP struct {
	ID                string  `json:"id"`
	FloatingIPAddress string  `json:"floating_ip_address"`
	FloatingNetworkID string  `json:"floating_network_id"`
	FixedIPAddress    *string `json:"fixed_ip_address"`
	PortID            *string `json:"port_id"`
	RouterID          *string `json:"router_id"`
	Status            string  `json:"status"`
	// PortDetails is read only to resolve a floating IP to its server.
	PortDetails *neutronPortDetails `json:"port_details"`
}

func (f *neutronFloatingIP) toSnapshot() snapshot.FloatingIP {
	return snapshot.FloatingIP{
		ID:                f.ID,
		FloatingIPAddress: f.FloatingIPAddress,
		FloatingNetworkID: f.FloatingNetworkID,
		FixedIPAddress:    deref(f.FixedIPAddress),
		PortID:            deref(f.PortID),
		RouterID:          deref(f.RouterID),
		Status:            f.Status,
	}
}

type neutronAgent struct {
	ID                 string          `json:"id"`
	AgentType          string          `json:"agent_type"`
	Binary             string          `json:"binary"`
	Host               string          `json:"host"`
	Alive              bool            `json:"alive"`
	AdminStateUp       bool            `json:"admin_state_up"`
	AvailabilityZone   *string         `json:"availability_zone"`
	HeartbeatTimestamp string          `json:"heartbeat_timestamp"`
	Configurations     json.RawMessage `json:"configurations"`
	// HAState is set in a router's l3-agents list for HA routers.
	HAState *string `json:"ha_state"`
}

func (a *neutronAgent) toSnapshot() snapshot.Agent {
	out := snapshot.Agent{
		ID:                 a.ID,
		AgentType:          a.AgentType,
		Binary:             a.Binary,
		Host:               a.Host,
		Alive:              a.Alive,
		AdminStateUp:       a.AdminStateUp,
		AvailabilityZone:   deref(a.AvailabilityZone),
		HeartbeatTimestamp: parseTime(a.HeartbeatTimestamp),
	}
	if len(a.Configurations) > 0 && !bytes.Equal(a.Configurations, []byte("null")) {
		out.Configurations = append(json.RawMessage(nil), a.Configurations...)
		var conf struct {
			TunnelingIP string   `json:"tunneling_ip"`
			TunnelTypes []string `json:"tunnel_types"`
		}
		if json.Unmarshal(a.Configurations, &conf) == nil {
			out.TunnelingIP = conf.TunnelingIP
			out.TunnelTypes = conf.TunnelTypes
		}
	}
	return out
}

type neutronIPAvailability struct {
	NetworkID string `json:"network_id"`
	Subnets   []struct {
		SubnetID  string      `json:"subnet_id"`
		CIDR      string      `json:"cidr"`
		IPVersion int         `json:"ip_version"`
		TotalIPs  json.Number `json:"total_ips"`
		UsedIPs   json.Number `json:"used_ips"`
	} `json:"subnet_ip_availability"`
}

func (a *neutronIPAvailability) toSnapshot() snapshot.NetworkIPAvailability {
	out := snapshot.NetworkIPAvailability{NetworkID: a.NetworkID, Subnets: []snapshot.SubnetIPAvailability{}}
	for _, s := range a.Subnets {
		out.Subnets = append(out.Subnets, snapshot.SubnetIPAvailability{
			SubnetID: s.SubnetID, CIDR: s.CIDR, IPVersion: s.IPVersion, TotalIPs: s.TotalIPs, UsedIPs: s.UsedIPs,
		})
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// parseTime reads the timestamps OpenStack writes: RFC 3339 from Nova and
// Neutron's resources, "2006-01-02 15:04:05" (UTC, no zone) in agent
// heartbeats, sometimes with microseconds.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999",
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05.999999",
		"2006-01-02 15:04:05",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// itemID is what listAll drops duplicates by: an item a paginating cloud
// shows on two pages is one item.
func (s novaServer) itemID() string           { return s.ID }
func (p neutronPort) itemID() string          { return p.ID }
func (n neutronNetwork) itemID() string       { return n.ID }
func (s neutronSubnet) itemID() string        { return s.ID }
func (g neutronSecurityGroup) itemID() string { return g.ID }
func (r neutronRouter) itemID() string        { return r.ID }
func (f neutronFloatingIP) itemID() string    { return f.ID }
func (a neutronAgent) itemID() string         { return a.ID }
