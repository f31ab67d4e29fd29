package snapshot

// OVN is what a host says of ML2/OVN: its chassis side (Open vSwitch's
// external_ids, ovn-controller's connection) and, on the database host,
// the Northbound and Southbound rows of the server's objects.
type OVN struct {
	// ExternalIDs are Open_vSwitch's external_ids (system-id,
	// ovn-remote, ovn-encap-ip, ovn-encap-type…); nil when not read.
	ExternalIDs      map[string]string `json:"external_ids,omitempty"`
	ExternalIDsError string            `json:"external_ids_error,omitempty"`
	// Connection is ovn-controller's connection-status ("connected", "not
	// connected"); ConnectionError says why it could not be asked (the
	// controller not running answers nothing).
	Connection      string `json:"connection,omitempty"`
	ConnectionError string `json:"connection_error,omitempty"`

	// Tunnels are the chassis' Geneve tunnel interfaces to its peers,
	// with their BFD session (ovn-controller enables it towards gateway
	// chassis).
	Tunnels      []OVNTunnel `json:"tunnels,omitempty"`
	TunnelsError string      `json:"tunnels_error,omitempty"`

	// NB and SB are the database rows read on this host; nil when its
	// sockets are absent (the databases run elsewhere), NoDatabase then
	// says what was looked for.
	NB         *OVNNorthbound `json:"nb,omitempty"`
	NoDatabase string         `json:"no_database,omitempty"`
	NBError    string         `json:"nb_error,omitempty"`
	SB         *OVNSouthbound `json:"sb,omitempty"`
	SBError    string         `json:"sb_error,omitempty"`
	// Traces are ovn-trace's verdicts on the checked flows (on the
	// database host).
	Traces []OVNTrace `json:"traces,omitempty"`
	// Commands is how many commands read the databases, Bytes how many
	// bytes they answered (the benchmark's figures).
	Commands int `json:"commands,omitempty"`
	Bytes    int `json:"bytes,omitempty"`
}

// Chassis reports whether the host runs an OVN chassis (ovn-controller is
// configured: Open vSwitch names an ovn-remote).
func (o *OVN) Chassis() bool { return o != nil && o.ExternalIDs["ovn-remote"] != "" }

// OVNNorthbound holds the Northbound rows of the server's objects, selected
// by the names Neutron gives them and the references those rows hold.
type OVNNorthbound struct {
	// NBCfg is NB_Global's nb_cfg: the sequence number Neutron bumps on
	// each change; SBCfg and HVCfg how far northd and the chassis got.
	NBCfg          int64               `json:"nb_cfg"`
	SBCfg          int64               `json:"sb_cfg"`
	HVCfg          int64               `json:"hv_cfg"`
	Switches       []OVNSwitch         `json:"switches,omitempty"`
	SwitchPorts    []OVNSwitchPort     `json:"switch_ports,omitempty"`
	Routers        []OVNRouter         `json:"routers,omitempty"`
	RouterPorts    []OVNRouterPort     `json:"router_ports,omitempty"`
	NATs           []OVNNAT            `json:"nats,omitempty"`
	GatewayChassis []OVNGatewayChassis `json:"gateway_chassis,omitempty"`
	HAGroups       []OVNHAGroup        `json:"ha_chassis_groups,omitempty"`
	HAChassis      []OVNGatewayChassis `json:"ha_chassis,omitempty"`
	PortGroups     []OVNPortGroup      `json:"port_groups,omitempty"`
	ACLs           []OVNACL            `json:"acls,omitempty"`
	DHCPOptions    []OVNDHCPOptions    `json:"dhcp_options,omitempty"`
}

// OVNSwitch is a Logical_Switch (neutron-<network id>).
type OVNSwitch struct {
	UUID        string            `json:"uuid"`
	Name        string            `json:"name"`
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
	OtherConfig map[string]string `json:"other_config,omitempty"`
}

// OVNSwitchPort is a Logical_Switch_Port (named by the Neutron port ID).
type OVNSwitchPort struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
	// Addresses and PortSecurity are their sets' strings ("MAC IP…").
	Addresses    []string `json:"addresses,omitempty"`
	PortSecurity []string `json:"port_security,omitempty"`
	// Up and Enabled are nil when unset (enabled then means true).
	Up             *bool             `json:"up,omitempty"`
	Enabled        *bool             `json:"enabled,omitempty"`
	DHCPv4Options  string            `json:"dhcpv4_options,omitempty"`
	DHCPv6Options  string            `json:"dhcpv6_options,omitempty"`
	HAChassisGroup string            `json:"ha_chassis_group,omitempty"`
	Options        map[string]string `json:"options,omitempty"`
	ExternalIDs    map[string]string `json:"external_ids,omitempty"`
}

// OVNRouter is a Logical_Router (neutron-<router id>).
type OVNRouter struct {
	UUID        string            `json:"uuid"`
	Name        string            `json:"name"`
	Enabled     *bool             `json:"enabled,omitempty"`
	Ports       []string          `json:"ports,omitempty"`
	NAT         []string          `json:"nat,omitempty"`
	Options     map[string]string `json:"options,omitempty"`
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
}

// OVNRouterPort is a Logical_Router_Port (lrp-<port id>).
type OVNRouterPort struct {
	UUID           string            `json:"uuid"`
	Name           string            `json:"name"`
	MAC            string            `json:"mac,omitempty"`
	Networks       []string          `json:"networks,omitempty"`
	Enabled        *bool             `json:"enabled,omitempty"`
	GatewayChassis []string          `json:"gateway_chassis,omitempty"`
	HAChassisGroup string            `json:"ha_chassis_group,omitempty"`
	Options        map[string]string `json:"options,omitempty"`
	ExternalIDs    map[string]string `json:"external_ids,omitempty"`
}

// OVNNAT is a NAT row of a router.
type OVNNAT struct {
	UUID        string            `json:"uuid"`
	Type        string            `json:"type"` // snat, dnat, dnat_and_snat
	ExternalIP  string            `json:"external_ip"`
	LogicalIP   string            `json:"logical_ip"`
	ExternalMAC string            `json:"external_mac,omitempty"`
	LogicalPort string            `json:"logical_port,omitempty"`
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
}

// OVNGatewayChassis is a Gateway_Chassis or HA_Chassis row: a chassis (by
// its SB name) that may carry a gateway port, by priority.
type OVNGatewayChassis struct {
	UUID        string `json:"uuid"`
	Name        string `json:"name,omitempty"`
	ChassisName string `json:"chassis_name"`
	Priority    int64  `json:"priority"`
}

// OVNHAGroup is an HA_Chassis_Group with its HA_Chassis UUIDs.
type OVNHAGroup struct {
	UUID      string   `json:"uuid"`
	Name      string   `json:"name"`
	HAChassis []string `json:"ha_chassis,omitempty"`
}

// OVNPortGroup is a Port_Group (pg_<security group id, _ for ->) with its
// ACL UUIDs.
type OVNPortGroup struct {
	UUID        string            `json:"uuid"`
	Name        string            `json:"name"`
	ACLs        []string          `json:"acls,omitempty"`
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
}

// OVNACL is an ACL; Neutron names its rule in external_ids
// (neutron:security_group_rule_id).
type OVNACL struct {
	UUID        string            `json:"uuid"`
	Direction   string            `json:"direction"` // from-lport, to-lport
	Priority    int64             `json:"priority"`
	Match       string            `json:"match"`
	Action      string            `json:"action"`
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
}

// OVNDHCPOptions is a DHCP_Options row (external_ids subnet_id names the
// Neutron subnet).
type OVNDHCPOptions struct {
	UUID        string            `json:"uuid"`
	CIDR        string            `json:"cidr"`
	Options     map[string]string `json:"options,omitempty"`
	ExternalIDs map[string]string `json:"external_ids,omitempty"`
}

// OVNSouthbound holds the Southbound rows: the chassis of the checked and
// gateway hosts, their encaps, and the server's port bindings.
type OVNSouthbound struct {
	// NBCfg is SB_Global's nb_cfg: the NB sequence ovn-northd has written.
	NBCfg          int64               `json:"nb_cfg"`
	Chassis        []OVNChassis        `json:"chassis,omitempty"`
	ChassisPrivate []OVNChassisPrivate `json:"chassis_private,omitempty"`
	Encaps         []OVNEncap          `json:"encaps,omitempty"`
	PortBindings   []OVNPortBinding    `json:"port_bindings,omitempty"`
}

// OVNChassis is a registered chassis.
type OVNChassis struct {
	UUID     string   `json:"uuid"`
	Name     string   `json:"name"`
	Hostname string   `json:"hostname,omitempty"`
	Encaps   []string `json:"encaps,omitempty"`
	// OtherConfig holds ovn-cms-options (enable-chassis-as-gw…).
	OtherConfig map[string]string `json:"other_config,omitempty"`
}

// OVNChassisPrivate is a chassis' private row: nb_cfg is how far its
// ovn-controller got.
type OVNChassisPrivate struct {
	Name    string `json:"name"`
	Chassis string `json:"chassis,omitempty"`
	NBCfg   int64  `json:"nb_cfg"`
}

// OVNEncap is a chassis' tunnel endpoint.
type OVNEncap struct {
	UUID        string `json:"uuid"`
	Type        string `json:"type"`
	IP          string `json:"ip"`
	ChassisName string `json:"chassis_name"`
}

// OVNPortBinding is a Port_Binding: where a logical port is realised.
type OVNPortBinding struct {
	LogicalPort string `json:"logical_port"`
	Type        string `json:"type,omitempty"`
	// Chassis is the UUID of the chassis it is bound to, "" when unbound.
	Chassis string `json:"chassis,omitempty"`
	Up      *bool  `json:"up,omitempty"`
}

// OVNTrace is what ovn-trace said of one checked flow: where the logical
// pipelines deliver or drop it.
type OVNTrace struct {
	// Label says which flow ("ping from 10.0.0.1", "tcp/22 from …").
	Label     string `json:"label"`
	Datapath  string `json:"datapath"`
	Microflow string `json:"microflow"`
	// Delivered is true when the trace ends in an egress output.
	Delivered bool `json:"delivered"`
	// Where it ended (the drop, when not delivered): the pipeline
	// ("ingress(dp=…)"), the table number and stage name, and the
	// logical flow's match and actions.
	Pipeline string `json:"pipeline,omitempty"`
	Table    int    `json:"table"`
	Stage    string `json:"stage,omitempty"`
	Match    string `json:"match,omitempty"`
	Actions  string `json:"actions,omitempty"`
	// Error is why the trace could not be run or read.
	Error string `json:"error,omitempty"`
}

// OVNTunnel is a chassis' Geneve tunnel interface to a peer chassis.
type OVNTunnel struct {
	Name     string `json:"name"`
	RemoteIP string `json:"remote_ip,omitempty"`
	// Peer is the peer chassis' name (external_ids:ovn-chassis-id before
	// its "@encap-ip").
	Peer string `json:"peer,omitempty"`
	// BFD is true when BFD is enabled on the tunnel; BFDState is its
	// bfd_status state (up, down, init, admin_down), "" before the first.
	BFD           bool   `json:"bfd,omitempty"`
	BFDState      string `json:"bfd_state,omitempty"`
	BFDDiagnostic string `json:"bfd_diagnostic,omitempty"`
}
