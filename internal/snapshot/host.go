package snapshot

// Host holds what was read on one host (a compute or network node). Every
// part carries its own "could not read: why" note (the *Error fields), so
// that a rule can say it could not check instead of passing silently.
type Host struct {
	// Name is the host as Neutron and Nova name it (agent host, server host).
	Name string `json:"name"`
	// Roles say why the host was checked: compute, dhcp, l3, l3-standby,
	// metadata (package topology names them).
	Roles []string `json:"roles,omitempty"`
	// Via says how the host was reached: local or ssh.
	Via string `json:"via,omitempty"`
	// Unreachable is why nothing could be read on the host ("" when reached).
	Unreachable string `json:"unreachable,omitempty"`

	// Links are the devices of the host's own network namespace.
	Links      []Link `json:"links,omitempty"`
	LinksError string `json:"links_error,omitempty"`
	// Routes are the main routing table of the host's namespace.
	Routes      []Route `json:"routes,omitempty"`
	RoutesError string  `json:"routes_error,omitempty"`
	// Namespaces are the named network namespaces with their devices.
	Namespaces      []Namespace `json:"namespaces,omitempty"`
	NamespacesError string      `json:"namespaces_error,omitempty"`
	// FDB are the bridge forwarding entries of the vxlan- devices that name
	// a remote tunnel endpoint (l2population fills them).
	FDB      []FDBEntry `json:"fdb,omitempty"`
	FDBError string     `json:"fdb_error,omitempty"`

	// Processes are those the rules read, credentials masked
	// (host.EvidenceProcesses), not the whole table.
	Processes      []Process `json:"processes,omitempty"`
	ProcessesError string    `json:"processes_error,omitempty"`
	// Listeners are the listening TCP sockets of the host's namespace.
	Listeners      []Listener `json:"listeners,omitempty"`
	ListenersError string     `json:"listeners_error,omitempty"`

	Firewall Firewall `json:"firewall"`
	// OVS is nil when Open vSwitch is not installed (OVSError says so).
	OVS      *OVS   `json:"ovs,omitempty"`
	OVSError string `json:"ovs_error,omitempty"`

	// OVN is the host's OVN chassis and, on the database host, the
	// Northbound and Southbound rows of the server's objects; nil when
	// OVN was not looked at.
	OVN *OVN `json:"ovn,omitempty"`

	// Domains are the running libvirt domains as their XML defines them
	// (virsh -r dumpxml), read where libvirtd runs.
	Domains      []Domain `json:"domains,omitempty"`
	DomainsError string   `json:"domains_error,omitempty"`

	// NovaConf is nova.conf's [serial_console] (and the files it was read
	// from); nil when no nova.conf was found.
	NovaConf      *NovaConf `json:"nova_conf,omitempty"`
	NovaConfError string    `json:"nova_conf_error,omitempty"`

	SELinux SELinux `json:"selinux"`

	// LogErrors are the known error lines found in the agents' logs, since
	// each agent last started.
	LogErrors []LogLine `json:"log_errors,omitempty"`
	// LogErrorsBeforeStart are those from an earlier run of the agent: the
	// restart is past them.
	LogErrorsBeforeStart []LogLine `json:"log_errors_before_start,omitempty"`
	// LogsRead are the log files read; LogsError says why others were not.
	LogsRead  []string `json:"logs_read,omitempty"`
	LogsError string   `json:"logs_error,omitempty"`

	// Probes are the active checks run with --probe (nil without it).
	Probes []Probe `json:"probes,omitempty"`
	// Probed is true when --probe was given.
	Probed bool `json:"probed,omitempty"`
}

// Link is a network device.
type Link struct {
	Name string `json:"name"`
	// Kind is the link type (veth, bridge, vxlan, tun…); empty for plain devices.
	Kind   string `json:"kind,omitempty"`
	Master string `json:"master,omitempty"`
	Up     bool   `json:"up"`
	// NoCarrier is set for a device that is up without carrier (no
	// LOWER_UP): a veth whose peer is down, a bridge with no port up, a tap
	// no one holds. Nothing passes it.
	NoCarrier bool `json:"no_carrier,omitempty"`
	// MTU is 0 when it was not read (snapshots before it was).
	MTU int    `json:"mtu,omitempty"`
	MAC string `json:"mac,omitempty"`
	// Addrs are the device's addresses in CIDR form.
	Addrs []string `json:"addrs,omitempty"`
	// VXLAN is set for vxlan devices.
	VXLAN *VXLAN `json:"vxlan,omitempty"`
}

// VXLAN is a vxlan device's configuration.
type VXLAN struct {
	VNI   int    `json:"vni"`
	Local string `json:"local,omitempty"`
	// Port is the UDP destination port (4789 unless configured otherwise).
	Port int    `json:"port,omitempty"`
	Dev  string `json:"dev,omitempty"`
}

// Route is one route of the main table.
type Route struct {
	Dst     string `json:"dst"` // "default" or a CIDR
	Dev     string `json:"dev,omitempty"`
	Gateway string `json:"gateway,omitempty"`
}

// Namespace is a named network namespace and its devices.
type Namespace struct {
	Name  string `json:"name"`
	Links []Link `json:"links,omitempty"`
	// Error is why its devices could not be read.
	Error string `json:"error,omitempty"`
}

// FDBEntry is a forwarding entry of a vxlan device to a remote endpoint.
type FDBEntry struct {
	Dev string `json:"dev"`
	MAC string `json:"mac"`
	Dst string `json:"dst"`
}

// Process is one running process.
type Process struct {
	PID  int    `json:"pid"`
	User string `json:"user,omitempty"`
	Args string `json:"args"`
}

// Listener is a listening TCP socket.
type Listener struct {
	Addr      string   `json:"addr"` // "0.0.0.0", "127.0.0.1", "::", "*"
	Port      int      `json:"port"`
	Processes []string `json:"processes,omitempty"` // command names
	PIDs      []int    `json:"pids,omitempty"`
}

// Firewall is the host's packet filter as read. The rules keep the raw
// output of the tools so that a snapshot file can be evaluated again.
type Firewall struct {
	// IPTablesSave is the output of iptables-save.
	IPTablesSave      string `json:"iptables_save,omitempty"`
	IPTablesSaveError string `json:"iptables_save_error,omitempty"`
	// NFT is the output of nft -j list ruleset.
	NFT      string `json:"nft,omitempty"`
	NFTError string `json:"nft_error,omitempty"`
}

// OVS is what ovsdb says of the host's Open vSwitch.
type OVS struct {
	Bridges    []OVSBridge    `json:"bridges"`
	Interfaces []OVSInterface `json:"interfaces"`
	// Ports are the Port rows with their local VLAN tags; empty in
	// snapshots taken before hoofbeat read them.
	Ports []OVSPort `json:"ports,omitempty"`
	// Flows are OpenFlow tables read with ovs-ofctl dump-flows: br-tun's
	// whole (it grows with tunnels and remote ports), br-int's table 0 only
	// (its other tables grow with every port's firewall flows).
	Flows []OVSFlows `json:"flows,omitempty"`
	// Traces are ofproto/trace runs of the server's packets (read-only:
	// nothing is sent).
	Traces []OVSTrace `json:"traces,omitempty"`
}

// OVSPort is an Open vSwitch port.
type OVSPort struct {
	Name string `json:"name"`
	// Tag is the port's VLAN tag (the Open vSwitch agent's local VLAN), nil
	// when it has none; 4095 is the agent's dead VLAN.
	Tag *int `json:"tag,omitempty"`
	// NetUUID is the network the agent noted in other_config.
	NetUUID string `json:"net_uuid,omitempty"`
}

// OVSFlows is one bridge's flows as dumped, or why they could not be.
type OVSFlows struct {
	Bridge string    `json:"bridge"`
	Flows  []OVSFlow `json:"flows,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// OVSFlow is one OpenFlow flow (statistics left out).
type OVSFlow struct {
	Table    int    `json:"table"`
	Priority int    `json:"priority"`
	Match    string `json:"match,omitempty"`
	Actions  string `json:"actions"`
	// Cookie is the agent's mark on its flows, one per bridge.
	Cookie string `json:"cookie,omitempty"`
}

// OVSTrace is one packet traced through the bridges with ofproto/trace.
type OVSTrace struct {
	// Label says which packet, for a person ("ping from the DHCP port").
	Label string `json:"label"`
	// Port is the Neutron port whose VIF the packet is for.
	Port string `json:"port,omitempty"`
	// Bridge and Flow are what was traced (the packet as it enters).
	Bridge string `json:"bridge"`
	Flow   string `json:"flow"`
	// Actions are the final datapath actions ("drop" when dropped).
	Actions string `json:"actions,omitempty"`
	Dropped bool   `json:"dropped,omitempty"`
	// Drop is the flow that dropped the packet.
	Drop *OVSTraceStep `json:"drop,omitempty"`
	// Steps are the tables the packet went through, in order.
	Steps []OVSTraceStep `json:"steps,omitempty"`
	// Error is why the trace could not run or be read.
	Error string `json:"error,omitempty"`
}

// OVSTraceStep is one table of a trace: the flow that matched, and its
// actions.
type OVSTraceStep struct {
	Bridge string `json:"bridge"`
	Table  int    `json:"table"`
	// Rule is the flow's match and priority as the trace prints it, or
	// "No match." for a table miss.
	Rule    string   `json:"rule"`
	Cookie  string   `json:"cookie,omitempty"`
	Actions []string `json:"actions,omitempty"`
}

// OVSBridge is an Open vSwitch bridge with its ports' names.
type OVSBridge struct {
	Name  string   `json:"name"`
	Ports []string `json:"ports,omitempty"`
}

// OVSInterface is an Open vSwitch interface.
type OVSInterface struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
	// OFPort is -1 when the interface could not be attached.
	OFPort   int    `json:"ofport"`
	Error    string `json:"error,omitempty"`
	RemoteIP string `json:"remote_ip,omitempty"`
	LocalIP  string `json:"local_ip,omitempty"`
	// IfaceID and AttachedMAC are the external_ids the agents and Nova's
	// os-vif set: the Neutron port's ID and MAC.
	IfaceID     string `json:"iface_id,omitempty"`
	AttachedMAC string `json:"attached_mac,omitempty"`
}

// NovaConf holds the [serial_console] options of nova.conf as set (empty
// when unset: the rule applies nova's defaults).
type NovaConf struct {
	Files              []string `json:"files"`
	Host               string   `json:"host,omitempty"` // [DEFAULT] host
	MyIP               string   `json:"my_ip,omitempty"`
	SerialSection      bool     `json:"serial_section"`
	Enabled            string   `json:"enabled,omitempty"`
	Listen             string   `json:"listen,omitempty"`
	ProxyClientAddress string   `json:"proxyclient_address,omitempty"`
	BaseURL            string   `json:"base_url,omitempty"`
	PortRange          string   `json:"port_range,omitempty"`
	SerialProxyHost    string   `json:"serialproxy_host,omitempty"`
	SerialProxyPort    string   `json:"serialproxy_port,omitempty"`
}

// SELinux is the host's SELinux mode and the AVC denials in its audit log.
type SELinux struct {
	// Mode is Enforcing, Permissive or Disabled; empty when unknown.
	Mode      string `json:"mode,omitempty"`
	ModeError string `json:"mode_error,omitempty"`
	AVCs      []AVC  `json:"avcs,omitempty"`
	// AuditLog is the file read, AuditError why it could not be.
	AuditLog   string `json:"audit_log,omitempty"`
	AuditError string `json:"audit_error,omitempty"`
}

// AVC is one SELinux access-vector denial.
type AVC struct {
	Comm       string   `json:"comm,omitempty"`
	PID        int      `json:"pid,omitempty"`
	Perms      []string `json:"perms"`
	SType      string   `json:"stype"` // the source domain (dnsmasq_t)
	TType      string   `json:"ttype"`
	TClass     string   `json:"tclass"`
	Permissive bool     `json:"permissive,omitempty"`
	Line       string   `json:"line"`
}

// LogLine is a known error line found in a log.
type LogLine struct {
	File    string `json:"file"`
	Pattern string `json:"pattern"`
	Line    string `json:"line"`
	// Count is how many lines matched the pattern in the file; Line is the last.
	Count int `json:"count"`
}

// Probe is one active check from inside a namespace.
type Probe struct {
	Namespace string `json:"namespace"`
	Target    string `json:"target"`
	// Ping is true when the target answered.
	Ping bool `json:"ping"`
	// ARP is the neighbour entry's MAC, empty when unresolved.
	ARP    string `json:"arp,omitempty"`
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Domain is what the rules read of a libvirt domain's XML.
type Domain struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
	// Serials are its TCP serial devices: where the hypervisor listens
	// (mode bind) for nova-serialproxy.
	Serials []DomainSerial `json:"serials,omitempty"`
}

// DomainSerial is a <serial type='tcp'> device's <source>.
type DomainSerial struct {
	Mode    string `json:"mode"`
	Host    string `json:"host"`
	Service string `json:"service"`
}
