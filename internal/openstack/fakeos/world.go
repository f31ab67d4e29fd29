package fakeos

import (
	"encoding/json"
	"fmt"
	"time"
)

// World is the cloud the fake serves: plain structs built in code. Zero
// values are the healthy defaults (up, active, DHCP on, a gateway), so a
// test states only what it breaks.
type World struct {
	// Region names the catalog's region (default RegionOne).
	Region string
	// NovaMaxVersion is the highest compute microversion (default 2.96).
	NovaMaxVersion string

	Projects       []Project
	Users          []User
	AppCreds       []AppCred
	Servers        []Server
	Ports          []Port
	Networks       []Network
	Subnets        []Subnet
	SecurityGroups []SecurityGroup
	FloatingIPs    []FloatingIP
	Routers        []Router
	Agents         []Agent
	// DHCPHosting maps a network ID to the IDs of the DHCP agents hosting it.
	DHCPHosting map[string][]string
	// L3Hosting maps a router ID to the L3 agents hosting it.
	L3Hosting map[string][]L3Host
	// Disabled names Neutron collections answered with 404, as when the
	// extension is not loaded: "routers", "agents", "network-ip-availabilities"…
	// ("fip-port-details" leaves port_details out of floating IPs, as
	// before Neutron Rocky.)
	Disabled map[string]bool
	// Raw holds recorded objects by collection ("ports", "servers"…), served
	// as they are in addition to the typed ones.
	Raw map[string][]map[string]any
	// ConsoleOutputs are the recorded console logs of Raw servers, by ID.
	ConsoleOutputs map[string]string
}

// Project is a Keystone project in the default domain.
type Project struct {
	ID, Name string
}

// User is a Keystone user with roles on one project.
type User struct {
	ID, Name, Password string
	ProjectID          string
	Roles              []string
}

// AppCred is an application credential of a user (same project and roles).
type AppCred struct {
	ID, Name, Secret, UserID string
}

// Server is a Nova server. Its addresses are derived from the ports whose
// device_id is the server and from their floating IPs.
type Server struct {
	ID, Name, ProjectID, UserID string
	// Status defaults to ACTIVE.
	Status    string
	TaskState string
	VMState   string
	// Host is OS-EXT-SRV-ATTR:host; empty is null (never scheduled).
	Host           string
	AZ             string
	Fault          *ServerFault
	SecurityGroups []string
	Created        time.Time
	ConsoleOutput  string
	// SerialDisabled answers serial console requests as Nova does when
	// [serial_console] enabled=false on the host: 400.
	SerialDisabled bool
	// SerialURL is the serial console URL handed out (default
	// ws://127.0.0.1:6083/?token=…).
	SerialURL string
}

// ServerFault is a server's fault record.
type ServerFault struct {
	Code             int
	Message, Details string
}

// FixedIP is an address on a subnet.
type FixedIP struct {
	SubnetID, IP string
}

// Port is a Neutron port.
type Port struct {
	ID, Name, NetworkID, ProjectID string
	DeviceID, DeviceOwner          string
	// Status defaults to ACTIVE.
	Status    string
	AdminDown bool
	MAC       string
	FixedIPs  []FixedIP
	// SecurityGroups are group IDs.
	SecurityGroups       []string
	PortSecurityDisabled bool
	AllowedAddressPairs  []string
	// BindingHost is binding:host_id; VIFType defaults to "ovs" when
	// bound, "unbound" otherwise.
	BindingHost, VIFType, VNICType string
}

// Network is a Neutron network.
type Network struct {
	ID, Name, ProjectID string
	Status              string
	AdminDown           bool
	Shared, External    bool
	// MTU defaults to 1450 (VXLAN) or 1500 (flat, vlan).
	MTU int
	// NetworkType defaults to vxlan; empty provider fields with NoProvider.
	NetworkType, PhysicalNetwork string
	SegmentationID               *int
	NoProvider                   bool
}

// Subnet is a Neutron subnet.
type Subnet struct {
	ID, Name, NetworkID, ProjectID string
	CIDR                           string
	// IPVersion defaults to 4.
	IPVersion int
	// GatewayIP is null when NoGateway.
	GatewayIP      string
	NoGateway      bool
	DHCPDisabled   bool
	DNSNameservers []string
	// Pools are start-end pairs.
	Pools      [][2]string
	HostRoutes [][2]string
}

// SecurityGroup is a Neutron security group.
type SecurityGroup struct {
	ID, Name, ProjectID string
	Stateless           bool
	Rules               []Rule
}

// Rule is a security group rule; empty strings are null.
type Rule struct {
	ID                          string
	Direction, Ethertype        string
	Protocol                    string
	PortMin, PortMax            *int
	RemoteIPPrefix, RemoteGroup string
}

// FloatingIP is a Neutron floating IP.
type FloatingIP struct {
	ID, Address, NetworkID, ProjectID string
	PortID, FixedIP, RouterID         string
	// Status defaults to ACTIVE when associated, DOWN otherwise.
	Status string
}

// Router is a Neutron router.
type Router struct {
	ID, Name, ProjectID string
	Status              string
	AdminDown           bool
	// GatewayNetworkID empty means no external gateway (null).
	GatewayNetworkID string
	GatewayIPs       []FixedIP
	Distributed, HA  bool
}

// Agent is a Neutron agent.
type Agent struct {
	ID, Type, Binary, Host string
	Dead, AdminDown        bool
	TunnelingIP            string
	TunnelTypes            []string
	Heartbeat              time.Time
}

// L3Host is one L3 agent hosting a router.
type L3Host struct {
	AgentID string
	// HAState is active or standby for HA routers, empty otherwise.
	HAState string
}

// epoch is the creation time of everything the fake builds.
var epoch = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

func ts(t time.Time) string {
	if t.IsZero() {
		t = epoch
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func strs(s []string) []any {
	out := make([]any, 0, len(s))
	for _, x := range s {
		out = append(out, x)
	}
	return out
}

func fixedIPs(f []FixedIP) []any {
	out := []any{}
	for _, x := range f {
		out = append(out, map[string]any{"subnet_id": x.SubnetID, "ip_address": x.IP})
	}
	return out
}

func (p *Port) render() map[string]any {
	vif := p.VIFType
	if vif == "" {
		vif = "unbound"
		if p.BindingHost != "" {
			vif = "ovs"
		}
	}
	vifDetails := map[string]any{}
	if vif == "ovs" {
		vifDetails = map[string]any{"connectivity": "l2", "port_filter": true, "ovs_hybrid_plug": false, "datapath_type": "system", "bridge_name": "br-int"}
	}
	pairs := []any{}
	for _, ip := range p.AllowedAddressPairs {
		pairs = append(pairs, map[string]any{"ip_address": ip, "mac_address": p.MAC})
	}
	sgs := p.SecurityGroups
	if sgs == nil {
		sgs = []string{}
	}
	return map[string]any{
		"id":                      p.ID,
		"name":                    p.Name,
		"network_id":              p.NetworkID,
		"tenant_id":               p.ProjectID,
		"project_id":              p.ProjectID,
		"mac_address":             orDefault(p.MAC, "fa:16:3e:00:00:01"),
		"admin_state_up":          !p.AdminDown,
		"status":                  orDefault(p.Status, "ACTIVE"),
		"device_id":               p.DeviceID,
		"device_owner":            p.DeviceOwner,
		"fixed_ips":               fixedIPs(p.FixedIPs),
		"allowed_address_pairs":   pairs,
		"extra_dhcp_opts":         []any{},
		"security_groups":         strs(sgs),
		"description":             "",
		"binding:vnic_type":       orDefault(p.VNICType, "normal"),
		"binding:profile":         map[string]any{},
		"binding:host_id":         p.BindingHost,
		"binding:vif_type":        vif,
		"binding:vif_details":     vifDetails,
		"port_security_enabled":   !p.PortSecurityDisabled,
		"qos_policy_id":           nil,
		"qos_network_policy_id":   nil,
		"resource_request":        nil,
		"ip_allocation":           "immediate",
		"dns_name":                "",
		"dns_assignment":          []any{},
		"propagate_uplink_status": false,
		"tags":                    []any{},
		"created_at":              ts(epoch),
		"updated_at":              ts(epoch),
		"revision_number":         2,
	}
}

func (n *Network) render(subnets []string) map[string]any {
	typ := orDefault(n.NetworkType, "vxlan")
	mtu := n.MTU
	if mtu == 0 {
		mtu = 1500
		if typ == "vxlan" || typ == "geneve" {
			mtu = 1450
		}
	}
	m := map[string]any{
		"id":                        n.ID,
		"name":                      n.Name,
		"tenant_id":                 n.ProjectID,
		"project_id":                n.ProjectID,
		"admin_state_up":            !n.AdminDown,
		"status":                    orDefault(n.Status, "ACTIVE"),
		"subnets":                   strs(subnets),
		"shared":                    n.Shared,
		"router:external":           n.External,
		"mtu":                       mtu,
		"availability_zone_hints":   []any{},
		"availability_zones":        []any{"nova"},
		"ipv4_address_scope":        nil,
		"ipv6_address_scope":        nil,
		"description":               "",
		"port_security_enabled":     true,
		"qos_policy_id":             nil,
		"dns_domain":                "",
		"l2_adjacency":              true,
		"is_default":                false,
		"tags":                      []any{},
		"created_at":                ts(epoch),
		"updated_at":                ts(epoch),
		"revision_number":           3,
		"provider:network_type":     typ,
		"provider:physical_network": nullable(n.PhysicalNetwork),
		"provider:segmentation_id":  nil,
	}
	if n.SegmentationID != nil {
		m["provider:segmentation_id"] = *n.SegmentationID
	}
	if n.NoProvider {
		delete(m, "provider:network_type")
		delete(m, "provider:physical_network")
		delete(m, "provider:segmentation_id")
	}
	return m
}

func (s *Subnet) render() map[string]any {
	v := s.IPVersion
	if v == 0 {
		v = 4
	}
	pools := []any{}
	for _, p := range s.Pools {
		pools = append(pools, map[string]any{"start": p[0], "end": p[1]})
	}
	routes := []any{}
	for _, r := range s.HostRoutes {
		routes = append(routes, map[string]any{"destination": r[0], "nexthop": r[1]})
	}
	var gw any = s.GatewayIP
	if s.NoGateway || s.GatewayIP == "" {
		gw = nil
	}
	dns := s.DNSNameservers
	if dns == nil {
		dns = []string{}
	}
	return map[string]any{
		"id":                   s.ID,
		"name":                 s.Name,
		"network_id":           s.NetworkID,
		"tenant_id":            s.ProjectID,
		"project_id":           s.ProjectID,
		"ip_version":           v,
		"cidr":                 s.CIDR,
		"gateway_ip":           gw,
		"enable_dhcp":          !s.DHCPDisabled,
		"dns_nameservers":      strs(dns),
		"allocation_pools":     pools,
		"host_routes":          routes,
		"ipv6_ra_mode":         nil,
		"ipv6_address_mode":    nil,
		"subnetpool_id":        nil,
		"segment_id":           nil,
		"service_types":        []any{},
		"dns_publish_fixed_ip": false,
		"description":          "",
		"tags":                 []any{},
		"created_at":           ts(epoch),
		"updated_at":           ts(epoch),
		"revision_number":      0,
	}
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func (g *SecurityGroup) render() map[string]any {
	rules := []any{}
	for _, r := range g.Rules {
		rules = append(rules, r.render(g))
	}
	desc := ""
	if g.Name == "default" {
		desc = "Default security group"
	}
	return map[string]any{
		"id":                   g.ID,
		"name":                 g.Name,
		"description":          desc,
		"tenant_id":            g.ProjectID,
		"project_id":           g.ProjectID,
		"stateful":             !g.Stateless,
		"shared":               false,
		"security_group_rules": rules,
		"tags":                 []any{},
		"created_at":           ts(epoch),
		"updated_at":           ts(epoch),
		"revision_number":      1,
	}
}

func (r *Rule) render(g *SecurityGroup) map[string]any {
	return map[string]any{
		"id":                      r.ID,
		"security_group_id":       g.ID,
		"tenant_id":               g.ProjectID,
		"project_id":              g.ProjectID,
		"direction":               r.Direction,
		"ethertype":               orDefault(r.Ethertype, "IPv4"),
		"protocol":                nullable(r.Protocol),
		"port_range_min":          intOrNil(r.PortMin),
		"port_range_max":          intOrNil(r.PortMax),
		"remote_ip_prefix":        nullable(r.RemoteIPPrefix),
		"remote_group_id":         nullable(r.RemoteGroup),
		"remote_address_group_id": nil,
		"normalized_cidr":         nullable(r.RemoteIPPrefix),
		"description":             "",
		"belongs_to_default_sg":   g.Name == "default",
		"tags":                    []any{},
		"created_at":              ts(epoch),
		"updated_at":              ts(epoch),
		"revision_number":         0,
	}
}

func (f *FloatingIP) render() map[string]any {
	status := f.Status
	if status == "" {
		status = "DOWN"
		if f.PortID != "" {
			status = "ACTIVE"
		}
	}
	return map[string]any{
		"id":                    f.ID,
		"floating_ip_address":   f.Address,
		"floating_network_id":   f.NetworkID,
		"tenant_id":             f.ProjectID,
		"project_id":            f.ProjectID,
		"port_id":               nullable(f.PortID),
		"fixed_ip_address":      nullable(f.FixedIP),
		"router_id":             nullable(f.RouterID),
		"status":                status,
		"description":           "",
		"dns_domain":            "",
		"dns_name":              "",
		"port_forwardings":      []any{},
		"qos_policy_id":         nil,
		"qos_network_policy_id": nil,
		"tags":                  []any{},
		"created_at":            ts(epoch),
		"updated_at":            ts(epoch),
		"revision_number":       1,
	}
}

func (r *Router) render() map[string]any {
	var gw any
	if r.GatewayNetworkID != "" {
		gw = map[string]any{
			"network_id":         r.GatewayNetworkID,
			"enable_snat":        true,
			"external_fixed_ips": fixedIPs(r.GatewayIPs),
		}
	}
	return map[string]any{
		"id":                      r.ID,
		"name":                    r.Name,
		"tenant_id":               r.ProjectID,
		"project_id":              r.ProjectID,
		"admin_state_up":          !r.AdminDown,
		"status":                  orDefault(r.Status, "ACTIVE"),
		"external_gateway_info":   gw,
		"routes":                  []any{},
		"distributed":             r.Distributed,
		"ha":                      r.HA,
		"flavor_id":               nil,
		"availability_zone_hints": []any{},
		"availability_zones":      []any{"nova"},
		"description":             "",
		"tags":                    []any{},
		"created_at":              ts(epoch),
		"updated_at":              ts(epoch),
		"revision_number":         4,
	}
}

// binaries of the agent types.
var agentBinaries = map[string]string{
	"Open vSwitch agent": "neutron-openvswitch-agent",
	"Linux bridge agent": "neutron-linuxbridge-agent",
	"DHCP agent":         "neutron-dhcp-agent",
	"L3 agent":           "neutron-l3-agent",
	"Metadata agent":     "neutron-metadata-agent",
}

func (a *Agent) render() map[string]any {
	hb := a.Heartbeat
	if hb.IsZero() {
		hb = epoch.Add(20 * time.Minute)
	}
	conf := map[string]any{}
	switch a.Type {
	case "Open vSwitch agent":
		conf = map[string]any{
			"arp_responder_enabled": false, "bridge_mappings": map[string]any{"public": "br-ex"},
			"datapath_type": "system", "devices": 2, "enable_distributed_routing": false,
			"integration_bridge": "br-int", "l2_population": false, "log_agent_heartbeats": false,
			"ovs_hybrid_plug": false, "tunnel_types": strs(a.TunnelTypes), "tunneling_ip": a.TunnelingIP,
		}
	case "Linux bridge agent":
		conf = map[string]any{"bridge_mappings": map[string]any{}, "devices": 2, "interface_mappings": map[string]any{"public": "eth1"},
			"l2_population": false, "tunnel_types": strs(a.TunnelTypes), "tunneling_ip": a.TunnelingIP}
	case "DHCP agent":
		conf = map[string]any{"dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq", "dhcp_lease_duration": 86400, "networks": 2, "ports": 3, "subnets": 2}
	case "L3 agent":
		conf = map[string]any{"agent_mode": "legacy", "ex_gw_ports": 1, "floating_ips": 1, "interfaces": 1, "routers": 1}
	case "Metadata agent":
		conf = map[string]any{"log_agent_heartbeats": false, "metadata_proxy_socket": "/var/lib/neutron/metadata_proxy"}
	}
	var az any
	if a.Type == "DHCP agent" || a.Type == "L3 agent" {
		az = "nova"
	}
	return map[string]any{
		"id":                  a.ID,
		"agent_type":          a.Type,
		"binary":              orDefault(a.Binary, agentBinaries[a.Type]),
		"host":                a.Host,
		"alive":               !a.Dead,
		"admin_state_up":      !a.AdminDown,
		"availability_zone":   az,
		"topic":               "N/A",
		"description":         nil,
		"heartbeat_timestamp": hb.UTC().Format("2006-01-02 15:04:05"),
		"started_at":          epoch.Format("2006-01-02 15:04:05"),
		"created_at":          epoch.Format("2006-01-02 15:04:05"),
		"resources_synced":    nil,
		"configurations":      conf,
	}
}

// normalise turns a rendered object into what a JSON decoder would give
// (float64 numbers, []any), so that filtering sees one representation.
func normalise(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("fakeos: render: %v", err))
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("fakeos: render: %v", err))
	}
	return out
}
