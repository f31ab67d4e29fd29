// Package snapshot holds what hoofbeat saw of a cloud: plain data that
// serialises to JSON, filled by collectors and read by rules. It also records
// what could not be seen and why (Gaps), so that a rule can say "skipped"
// instead of passing silently.
package snapshot

import (
	"encoding/json"
	"time"
)

// Version is the schema version written into every snapshot. Readers refuse
// other versions rather than guessing.
const Version = 1

// Snapshot is everything collected for one diagnosis.
type Snapshot struct {
	Version     int       `json:"version"`
	CollectedAt time.Time `json:"collected_at"`
	Cloud       Cloud     `json:"cloud"`
	// Query is the server as the operator named it (ID or name).
	Query string `json:"query"`

	// Target is what the query resolved to when it named an address, a
	// MAC or a port rather than a server; nil for a server ID or name.
	Target *Target `json:"target,omitempty"`

	Server *Server `json:"server,omitempty"`
	// Ports are the server's own ports (device_id = server ID).
	Ports []Port `json:"ports,omitempty"`
	// SecurityGroups are the groups of the server's ports, with their rules.
	SecurityGroups []SecurityGroup `json:"security_groups,omitempty"`
	Networks       []Network       `json:"networks,omitempty"`
	Subnets        []Subnet        `json:"subnets,omitempty"`
	// NetworkPorts are the DHCP and router-interface ports on the server's networks.
	NetworkPorts []Port       `json:"network_ports,omitempty"`
	Routers      []Router     `json:"routers,omitempty"`
	FloatingIPs  []FloatingIP `json:"floating_ips,omitempty"`
	Agents       []Agent      `json:"agents,omitempty"`
	// DHCPAgents maps a network ID to the IDs of the DHCP agents hosting it.
	DHCPAgents map[string][]string `json:"dhcp_agents,omitempty"`
	// L3Agents maps a router ID to the L3 agents hosting it.
	L3Agents map[string][]L3Hosting `json:"l3_agents,omitempty"`
	// IPAvailability is fetched only when a port lacks a fixed IP.
	IPAvailability []NetworkIPAvailability `json:"ip_availability,omitempty"`
	// RemoteGroupMembers maps a security group ID to the IP addresses of its
	// member ports; fetched only when a flow check needs remote_group_id rules.
	RemoteGroupMembers map[string][]string `json:"remote_group_members,omitempty"`

	// ExternalNetworks are the cloud's external networks (router:external),
	// ID and name only: the gateway hop names them.
	ExternalNetworks []Network `json:"external_networks,omitempty"`

	// ConsoleLog is the tail of the guest's console output
	// (os-getConsoleOutput); see console.go.
	ConsoleLog *ConsoleLog `json:"console_log,omitempty"`
	// Hosts are the facts read on the hosts that serve the server (its
	// compute host, the DHCP and L3 agents' hosts, OVN's gateway chassis); see host.go and ovn.go.
	Hosts []Host `json:"hosts,omitempty"`

	// Gaps are the sources that could not be read, each with the reason.
	Gaps []Gap `json:"gaps,omitempty"`
	// Stats describes the collection itself (not used by rules).
	Stats Stats `json:"stats"`
}

// Target is the port an address, a floating IP, a MAC or a port ID named.
// With a Server, the port is one of the server's; without one, the port
// has no server (a VIP, an allowed-address-pair holder, a router or DHCP
// port) and the snapshot is the port's diagnosis: Ports holds it alone.
type Target struct {
	// By is how the query named the port: TargetAddress, TargetFloatingIP,
	// TargetMAC or TargetPortID.
	By     string `json:"by"`
	PortID string `json:"port_id"`
	// FloatingIPID is set when the query was a floating IP's address.
	FloatingIPID string `json:"floating_ip_id,omitempty"`
}

// How a Target was named.
const (
	TargetAddress    = "address"
	TargetFloatingIP = "floating-ip"
	TargetMAC        = "mac"
	TargetPortID     = "port-id"
)

// PortOnly reports whether the snapshot diagnoses a port without a server.
func (s *Snapshot) PortOnly() bool { return s.Server == nil && s.Target != nil }

// Cloud identifies where and as whom the snapshot was taken. It never holds
// secrets.
type Cloud struct {
	AuthURL string `json:"auth_url,omitempty"`
	Region  string `json:"region,omitempty"`
	User    string `json:"user,omitempty"`
	Project string `json:"project,omitempty"`
	// Admin is true when the token carries the admin role.
	Admin bool `json:"admin"`
}

// Stats counts the API work a collection did.
type Stats struct {
	Requests   int           `json:"requests"`
	RoundTrips int           `json:"round_trips"`
	Duration   time.Duration `json:"duration_ns"`
}

// Source names used in Gaps; rules declare which ones they need.
const (
	SourceServer         = "server"
	SourcePorts          = "ports"
	SourceSecurityGroups = "security-groups"
	SourceNetworks       = "networks"
	SourceSubnets        = "subnets"
	SourceNetworkPorts   = "network-ports"
	SourceRouters        = "routers"
	SourceFloatingIPs    = "floating-ips"
	SourceAgents         = "agents"
	SourceDHCPAgents     = "dhcp-agents"
	SourceL3Agents       = "l3-agents"
	SourceIPAvailability = "ip-availability"
	SourceRemoteGroups   = "remote-group-members"
	// SourceProviderFields is recorded when networks come back without their
	// admin-only provider:* attributes.
	SourceProviderFields = "provider-fields"
	// SourceServerHost is recorded when the server's OS-EXT-SRV-ATTR:host is hidden.
	SourceServerHost = "server-host"
	SourceConsoleLog = "console-log"
	// SourceExternalNetworks are the external networks' names.
	SourceExternalNetworks = "external-networks"
	// SourceHosts is recorded when no host could be checked at all; a
	// single unreachable host is a gap with that host as Subject.
	SourceHosts = "hosts"
)

// GapKind classifies why a source could not be read.
type GapKind string

// A reader treats a kind it does not know as GapError: kinds may be added
// within a snapshot version.
const (
	// GapForbidden: 403, or admin-only fields absent. Its Reason says what
	// is hidden ("agents are hidden"); readers add "needs admin: ".
	GapForbidden GapKind = "forbidden"
	// GapUnauthorized: 401, the token was rejected (expired or revoked)
	// after authentication succeeded; more rights would not help.
	GapUnauthorized GapKind = "unauthorized"
	GapNotFound     GapKind = "not-found"   // 404 for something that should exist
	GapUnsupported  GapKind = "unsupported" // the extension or API is not deployed
	GapError        GapKind = "error"       // 5xx, timeout, malformed answer
)

// Gap records a source that could not be read.
type Gap struct {
	Source string  `json:"source"`
	Kind   GapKind `json:"kind"`
	// Subject is the resource the failed read was about, if any (a network ID…).
	Subject string `json:"subject,omitempty"`
	Reason  string `json:"reason"`
	Status  int    `json:"status,omitempty"`
}

// Server is the Nova server being diagnosed.
type Server struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	TaskState string `json:"task_state,omitempty"`
	VMState   string `json:"vm_state,omitempty"`
	// Host is OS-EXT-SRV-ATTR:host, empty when hidden from non-admins.
	Host             string `json:"host,omitempty"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
	ProjectID        string `json:"project_id,omitempty"`
	Fault            *Fault `json:"fault,omitempty"`
	// SecurityGroups are the group names Nova reports.
	SecurityGroups []string `json:"security_groups,omitempty"`
	// Addresses maps a network name to the server's addresses on it.
	Addresses map[string][]ServerAddress `json:"addresses,omitempty"`
	Created   time.Time                  `json:"created,omitempty"`
	Updated   time.Time                  `json:"updated,omitempty"`
}

// Fault is a server's fault record (status ERROR).
type Fault struct {
	Code    int       `json:"code,omitempty"`
	Message string    `json:"message"`
	Details string    `json:"details,omitempty"`
	Created time.Time `json:"created,omitempty"`
}

// ServerAddress is one entry of a server's addresses.
type ServerAddress struct {
	Addr    string `json:"addr"`
	Version int    `json:"version"`
	Type    string `json:"type,omitempty"` // fixed or floating
	MAC     string `json:"mac,omitempty"`
}

// Port is a Neutron port.
type Port struct {
	ID           string    `json:"id"`
	Name         string    `json:"name,omitempty"`
	NetworkID    string    `json:"network_id"`
	ProjectID    string    `json:"project_id,omitempty"`
	DeviceID     string    `json:"device_id,omitempty"`
	DeviceOwner  string    `json:"device_owner,omitempty"`
	Status       string    `json:"status"`
	AdminStateUp bool      `json:"admin_state_up"`
	MACAddress   string    `json:"mac_address,omitempty"`
	FixedIPs     []FixedIP `json:"fixed_ips,omitempty"`
	// SecurityGroups are group IDs.
	SecurityGroups []string `json:"security_groups,omitempty"`
	// PortSecurityEnabled is nil when the port_security extension is absent.
	PortSecurityEnabled *bool         `json:"port_security_enabled,omitempty"`
	AllowedAddressPairs []AddressPair `json:"allowed_address_pairs,omitempty"`
	// Binding attributes are admin-only; empty when hidden.
	BindingHostID   string `json:"binding_host_id,omitempty"`
	BindingVIFType  string `json:"binding_vif_type,omitempty"`
	BindingVNICType string `json:"binding_vnic_type,omitempty"`
}

// FixedIP is an address of a port on a subnet.
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// AddressPair is an allowed address pair of a port.
type AddressPair struct {
	IPAddress  string `json:"ip_address"`
	MACAddress string `json:"mac_address,omitempty"`
}

// SecurityGroup is a Neutron security group with its rules.
type SecurityGroup struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id,omitempty"`
	// Stateful is nil when the stateful-security-group extension is absent
	// (groups are then stateful).
	Stateful *bool               `json:"stateful,omitempty"`
	Rules    []SecurityGroupRule `json:"rules"`
}

// SecurityGroupRule is one rule as Neutron stores it.
type SecurityGroupRule struct {
	ID              string `json:"id"`
	SecurityGroupID string `json:"security_group_id"`
	Direction       string `json:"direction"` // ingress or egress
	Ethertype       string `json:"ethertype"` // IPv4 or IPv6
	// Protocol is empty for any, else a name (tcp, icmp, ipv6-icmp…) or a number.
	Protocol     string `json:"protocol,omitempty"`
	PortRangeMin *int   `json:"port_range_min,omitempty"`
	PortRangeMax *int   `json:"port_range_max,omitempty"`
	// RemoteIPPrefix empty and RemoteGroupID empty means any source.
	RemoteIPPrefix       string `json:"remote_ip_prefix,omitempty"`
	RemoteGroupID        string `json:"remote_group_id,omitempty"`
	RemoteAddressGroupID string `json:"remote_address_group_id,omitempty"`
	Description          string `json:"description,omitempty"`
}

// Network is a Neutron network.
type Network struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	ProjectID    string   `json:"project_id,omitempty"`
	Status       string   `json:"status"`
	AdminStateUp bool     `json:"admin_state_up"`
	Shared       bool     `json:"shared,omitempty"`
	External     bool     `json:"router_external"`
	MTU          int      `json:"mtu,omitempty"`
	Subnets      []string `json:"subnets,omitempty"`
	// Provider is nil when the provider attributes are hidden (non-admin).
	Provider *Provider `json:"provider,omitempty"`
}

// Provider holds a network's provider:* attributes.
type Provider struct {
	NetworkType     string `json:"network_type"`
	PhysicalNetwork string `json:"physical_network,omitempty"`
	SegmentationID  *int   `json:"segmentation_id,omitempty"`
}

// Subnet is a Neutron subnet.
type Subnet struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	NetworkID string `json:"network_id"`
	ProjectID string `json:"project_id,omitempty"`
	CIDR      string `json:"cidr"`
	IPVersion int    `json:"ip_version"`
	// GatewayIP is empty when Neutron reports null (no gateway).
	GatewayIP       string           `json:"gateway_ip,omitempty"`
	EnableDHCP      bool             `json:"enable_dhcp"`
	DNSNameservers  []string         `json:"dns_nameservers,omitempty"`
	HostRoutes      []HostRoute      `json:"host_routes,omitempty"`
	AllocationPools []AllocationPool `json:"allocation_pools,omitempty"`
	IPv6RAMode      string           `json:"ipv6_ra_mode,omitempty"`
	IPv6AddressMode string           `json:"ipv6_address_mode,omitempty"`
}

// HostRoute is a static route pushed to instances by DHCP.
type HostRoute struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

// AllocationPool is a range of addresses Neutron allocates from.
type AllocationPool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Router is a Neutron router.
type Router struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	ProjectID       string           `json:"project_id,omitempty"`
	Status          string           `json:"status"`
	AdminStateUp    bool             `json:"admin_state_up"`
	ExternalGateway *ExternalGateway `json:"external_gateway,omitempty"`
	// Distributed and HA are admin-only; nil when hidden.
	Distributed *bool `json:"distributed,omitempty"`
	HA          *bool `json:"ha,omitempty"`
}

// ExternalGateway is a router's external_gateway_info.
type ExternalGateway struct {
	NetworkID        string    `json:"network_id"`
	EnableSNAT       *bool     `json:"enable_snat,omitempty"`
	ExternalFixedIPs []FixedIP `json:"external_fixed_ips,omitempty"`
}

// FloatingIP is a Neutron floating IP.
type FloatingIP struct {
	ID                string `json:"id"`
	FloatingIPAddress string `json:"floating_ip_address"`
	FloatingNetworkID string `json:"floating_network_id"`
	FixedIPAddress    string `json:"fixed_ip_address,omitempty"`
	PortID            string `json:"port_id,omitempty"`
	RouterID          string `json:"router_id,omitempty"`
	Status            string `json:"status"`
}

// Agent is a Neutron agent (admin-only).
type Agent struct {
	ID                 string    `json:"id"`
	AgentType          string    `json:"agent_type"`
	Binary             string    `json:"binary"`
	Host               string    `json:"host"`
	Alive              bool      `json:"alive"`
	AdminStateUp       bool      `json:"admin_state_up"`
	AvailabilityZone   string    `json:"availability_zone,omitempty"`
	HeartbeatTimestamp time.Time `json:"heartbeat_timestamp,omitempty"`
	// TunnelingIP is configurations.tunneling_ip (L2 agents).
	TunnelingIP string   `json:"tunneling_ip,omitempty"`
	TunnelTypes []string `json:"tunnel_types,omitempty"`
	// Configurations is the agent's raw configurations object.
	Configurations json.RawMessage `json:"configurations,omitempty"`
}

// Agent types as Neutron names them.
const (
	AgentTypeDHCP        = "DHCP agent"
	AgentTypeL3          = "L3 agent"
	AgentTypeMetadata    = "Metadata agent"
	AgentTypeOVS         = "Open vSwitch agent"
	AgentTypeLinuxBridge = "Linux bridge agent"
	AgentTypeOVNMetadata = "OVN Metadata agent"
)

// L3Hosting is one L3 agent hosting a router.
type L3Hosting struct {
	AgentID string `json:"agent_id"`
	// HAState is active/standby for HA routers, empty otherwise.
	HAState string `json:"ha_state,omitempty"`
}

// NetworkIPAvailability is Neutron's network-ip-availabilities answer.
type NetworkIPAvailability struct {
	NetworkID string                 `json:"network_id"`
	Subnets   []SubnetIPAvailability `json:"subnets"`
}

// SubnetIPAvailability counts addresses of one subnet. Totals can exceed
// 64 bits for IPv6, hence json.Number.
type SubnetIPAvailability struct {
	SubnetID  string      `json:"subnet_id"`
	CIDR      string      `json:"cidr"`
	IPVersion int         `json:"ip_version"`
	TotalIPs  json.Number `json:"total_ips"`
	UsedIPs   json.Number `json:"used_ips"`
}
