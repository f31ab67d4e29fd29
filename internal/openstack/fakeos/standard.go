package fakeos

import "fmt"

// The standard world's names and IDs.
const (
	AdminProjectID = "4d1c6a0e9b8f4e2a8c3b7d6e5f4a3b2c"
	DemoProjectID  = "9a8b7c6d5e4f40312a1b0c9d8e7f6a5b"
	AdminUserID    = "1f0e9d8c7b6a45948372615049382716"
	DemoUserID     = "2e1d0c9b8a7f46e5d4c3b2a190817263"

	AdminUser     = "admin"
	AdminPassword = "adm1n-pa55-Zq"
	DemoUser      = "demo"
	DemoPassword  = "dem0-pa55-Xw"

	AppCredID     = "5b4a3c2d1e0f48a79b8c7d6e5f4a3b21"
	AppCredName   = "hoofbeat-ro"
	AppCredSecret = "app-cred-s3cr3t-Yv"

	ServerID   = "3f2a9c1e-7b1d-4a57-9e7c-0a4c5f6e2b11"
	ServerName = "vm1"
	ServerIP   = "10.0.0.5"

	PortID          = "8c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5"
	NetworkID       = "b7e1c2d3-4f5a-46b7-8c9d-0e1f2a3b4c5d"
	SubnetID        = "c8f2d3e4-5a6b-47c8-9d0e-1f2a3b4c5d6e"
	PublicNetworkID = "d9a3e4f5-6b7c-48d9-8e0f-2a3b4c5d6e7f"
	PublicSubnetID  = "eab4f5a6-7c8d-49ea-9f1a-3b4c5d6e7f80"
	DefaultSGID     = "f1c5a6b7-8d9e-4a0b-8c2d-4e5f6a7b8c9d"
	RouterID        = "a2d6b7c8-9e0f-4b1c-9d3e-5f6a7b8c9d0e"
	DHCPPortID      = "b3e7c8d9-0f1a-4c2d-8e4f-6a7b8c9d0e1f"
	RouterPortID    = "c4f8d9e0-1a2b-4d3e-9f5a-7b8c9d0e1f2a"
	GatewayPortID   = "d5a9e0f1-2b3c-4e4f-8a6b-8c9d0e1f2a3b"
	FloatingIPID    = "e6b0f1a2-3c4d-4f5a-9b7c-9d0e1f2a3b4c"
	FloatingAddress = "172.24.4.30"

	AgentOVSCompute = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
	AgentOVSNetwork = "1b2c3d4e-5f6a-4b7c-9d8e-9f0a1b2c3d4e"
	AgentDHCP       = "2c3d4e5f-6a7b-4c8d-8e9f-0a1b2c3d4e5f"
	AgentL3         = "3d4e5f6a-7b8c-4d9e-9f0a-1b2c3d4e5f6a"
	AgentMetadata   = "4e5f6a7b-8c9d-4e0f-8a1b-2c3d4e5f6a7b"

	ComputeHost = "compute1"
	NetworkHost = "network1"
)

func intp(i int) *int { return &i }

// StandardConsole is vm1's console log: a cirros guest that got its lease.
const StandardConsole = `[    0.000000] Linux version 5.15.0-71-generic (buildd@lcy02-amd64-044)
[    1.523404] EXT4-fs (vda1): mounted filesystem with ordered data mode.
Starting network...
udhcpc: started, v1.29.3
udhcpc: sending discover
udhcpc: sending select for 10.0.0.5
udhcpc: lease of 10.0.0.5 obtained, lease time 86400
route: SIOCADDRT: File exists
checking http://169.254.169.254/2009-04-04/instance-id
successful after 1/20 tries: up 3.12. iid=i-00000001
=== cirros: current=0.6.2 uptime=4.21 ===
login as 'cirros' user. default password: 'gocubsgo'. use 'sudo' for root.
vm1 login: `

// Standard is a healthy cloud: a demo project's server vm1 on compute1,
// with one port on the tenant network "private" (VXLAN 1042,
// 10.0.0.0/26), the default security group plus ICMP and SSH, a DHCP
// port, router1 with a gateway on the external network "public" (flat),
// a floating IP, and the agents on compute1 and network1, all alive.
func Standard() *World {
	return &World{
		Region: "RegionOne",
		Projects: []Project{
			{ID: AdminProjectID, Name: "admin"},
			{ID: DemoProjectID, Name: "demo"},
		},
		Users: []User{
			{ID: AdminUserID, Name: AdminUser, Password: AdminPassword, ProjectID: AdminProjectID, Roles: []string{"admin", "member", "reader"}},
			{ID: DemoUserID, Name: DemoUser, Password: DemoPassword, ProjectID: DemoProjectID, Roles: []string{"member", "reader"}},
		},
		AppCreds: []AppCred{{ID: AppCredID, Name: AppCredName, Secret: AppCredSecret, UserID: DemoUserID}},
		Servers: []Server{{
			ID: ServerID, Name: ServerName, ProjectID: DemoProjectID, UserID: DemoUserID,
			Host: ComputeHost, ConsoleOutput: StandardConsole,
		}},
		Networks: []Network{
			{ID: NetworkID, Name: "private", ProjectID: DemoProjectID, NetworkType: "vxlan", SegmentationID: intp(1042)},
			{ID: PublicNetworkID, Name: "public", ProjectID: AdminProjectID, External: true, NetworkType: "flat", PhysicalNetwork: "public"},
		},
		Subnets: []Subnet{
			{ID: SubnetID, Name: "private-subnet", NetworkID: NetworkID, ProjectID: DemoProjectID, CIDR: "10.0.0.0/26",
				GatewayIP: "10.0.0.1", Pools: [][2]string{{"10.0.0.2", "10.0.0.62"}}, DNSNameservers: []string{"10.0.0.1"}},
			{ID: PublicSubnetID, Name: "public-subnet", NetworkID: PublicNetworkID, ProjectID: AdminProjectID, CIDR: "172.24.4.0/24",
				GatewayIP: "172.24.4.1", Pools: [][2]string{{"172.24.4.10", "172.24.4.250"}}, DHCPDisabled: true},
		},
		SecurityGroups: []SecurityGroup{{
			ID: DefaultSGID, Name: "default", ProjectID: DemoProjectID,
			Rules: []Rule{
				{ID: "11111111-0000-4000-8000-000000000001", Direction: "egress", Ethertype: "IPv4"},
				{ID: "11111111-0000-4000-8000-000000000002", Direction: "egress", Ethertype: "IPv6"},
				{ID: "11111111-0000-4000-8000-000000000003", Direction: "ingress", Ethertype: "IPv4", RemoteGroup: DefaultSGID},
				{ID: "11111111-0000-4000-8000-000000000004", Direction: "ingress", Ethertype: "IPv6", RemoteGroup: DefaultSGID},
				{ID: "11111111-0000-4000-8000-000000000005", Direction: "ingress", Ethertype: "IPv4", Protocol: "icmp", RemoteIPPrefix: "0.0.0.0/0"},
				{ID: "11111111-0000-4000-8000-000000000006", Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp", PortMin: intp(22), PortMax: intp(22), RemoteIPPrefix: "0.0.0.0/0"},
			},
		}},
		Ports: []Port{
			{ID: PortID, NetworkID: NetworkID, ProjectID: DemoProjectID, DeviceID: ServerID, DeviceOwner: "compute:nova",
				MAC: "fa:16:3e:5b:1c:2d", FixedIPs: []FixedIP{{SubnetID, ServerIP}}, SecurityGroups: []string{DefaultSGID}, BindingHost: ComputeHost},
			{ID: DHCPPortID, NetworkID: NetworkID, ProjectID: DemoProjectID, DeviceID: "dhcp8a5d6c3e-9f1b-5c2a-8d7e-6f5a4b3c2d1e-" + NetworkID,
				DeviceOwner: "network:dhcp", MAC: "fa:16:3e:11:22:33", FixedIPs: []FixedIP{{SubnetID, "10.0.0.2"}}, BindingHost: NetworkHost},
			{ID: RouterPortID, NetworkID: NetworkID, ProjectID: DemoProjectID, DeviceID: RouterID, DeviceOwner: "network:router_interface",
				MAC: "fa:16:3e:44:55:66", FixedIPs: []FixedIP{{SubnetID, "10.0.0.1"}}, BindingHost: NetworkHost},
			{ID: GatewayPortID, NetworkID: PublicNetworkID, DeviceID: RouterID, DeviceOwner: "network:router_gateway",
				MAC: "fa:16:3e:77:88:99", FixedIPs: []FixedIP{{PublicSubnetID, "172.24.4.20"}}, BindingHost: NetworkHost},
		},
		FloatingIPs: []FloatingIP{{ID: FloatingIPID, Address: FloatingAddress, NetworkID: PublicNetworkID, ProjectID: DemoProjectID,
			PortID: PortID, FixedIP: ServerIP, RouterID: RouterID}},
		Routers: []Router{{ID: RouterID, Name: "router1", ProjectID: DemoProjectID, GatewayNetworkID: PublicNetworkID,
			GatewayIPs: []FixedIP{{PublicSubnetID, "172.24.4.20"}}}},
		Agents: []Agent{
			{ID: AgentOVSCompute, Type: "Open vSwitch agent", Host: ComputeHost, TunnelingIP: "192.168.122.11", TunnelTypes: []string{"vxlan"}},
			{ID: AgentOVSNetwork, Type: "Open vSwitch agent", Host: NetworkHost, TunnelingIP: "192.168.122.10", TunnelTypes: []string{"vxlan"}},
			{ID: AgentDHCP, Type: "DHCP agent", Host: NetworkHost},
			{ID: AgentL3, Type: "L3 agent", Host: NetworkHost},
			{ID: AgentMetadata, Type: "Metadata agent", Host: NetworkHost},
		},
		DHCPHosting: map[string][]string{NetworkID: {AgentDHCP}},
		L3Hosting:   map[string][]L3Host{RouterID: {{AgentID: AgentL3}}},
	}
}

// Filler sizes the unrelated resources AddFiller puts in the demo project.
type Filler struct {
	Ports, Networks, Routers, Rules int
}

// AddFiller adds resources that have nothing to do with vm1: networks with
// a subnet each, routers with an interface port each, other servers' ports
// and security groups of ten rules each. A collector that lists anything
// unfiltered pays for them.
func AddFiller(w *World, f Filler) {
	id := func(kind, i int) string { return fmt.Sprintf("%08x-%04x-4000-8000-%012x", 0xf1000000+kind, 0, i) }
	for i := 0; i < f.Networks; i++ {
		nid := id(1, i)
		w.Networks = append(w.Networks, Network{ID: nid, Name: fmt.Sprintf("net-%d", i), ProjectID: DemoProjectID, SegmentationID: intp(2000 + i)})
		w.Subnets = append(w.Subnets, Subnet{ID: id(2, i), Name: fmt.Sprintf("subnet-%d", i), NetworkID: nid, ProjectID: DemoProjectID,
			CIDR: fmt.Sprintf("10.%d.%d.0/24", 100+i/256, i%256), GatewayIP: fmt.Sprintf("10.%d.%d.1", 100+i/256, i%256),
			Pools: [][2]string{{fmt.Sprintf("10.%d.%d.2", 100+i/256, i%256), fmt.Sprintf("10.%d.%d.254", 100+i/256, i%256)}}})
	}
	netOf := func(i int) (string, string, string) {
		if f.Networks == 0 {
			return NetworkID, SubnetID, "10.0.0.9"
		}
		n := i % f.Networks
		return id(1, n), id(2, n), fmt.Sprintf("10.%d.%d.%d", 100+n/256, n%256, 2+(i/f.Networks)%250)
	}
	ports := 0
	for i := 0; i < f.Routers; i++ {
		rid := id(3, i)
		w.Routers = append(w.Routers, Router{ID: rid, Name: fmt.Sprintf("router-%d", i), ProjectID: DemoProjectID, GatewayNetworkID: PublicNetworkID})
		nid, sid, _ := netOf(i)
		w.Ports = append(w.Ports, Port{ID: id(4, ports), NetworkID: nid, ProjectID: DemoProjectID, DeviceID: rid,
			DeviceOwner: "network:router_interface", FixedIPs: []FixedIP{{sid, "10.255.255.1"}}, BindingHost: NetworkHost})
		ports++
	}
	groups := (f.Rules + 9) / 10
	for g := 0; g < groups; g++ {
		sg := SecurityGroup{ID: id(5, g), Name: fmt.Sprintf("sg-%d", g), ProjectID: DemoProjectID}
		for r := 0; r < 10 && g*10+r < f.Rules; r++ {
			sg.Rules = append(sg.Rules, Rule{ID: id(6, g*10+r), Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp",
				PortMin: intp(1000 + r), PortMax: intp(1000 + r), RemoteIPPrefix: "192.0.2.0/24"})
		}
		w.SecurityGroups = append(w.SecurityGroups, sg)
	}
	for ; ports < f.Ports; ports++ {
		nid, sid, ip := netOf(ports)
		var sgs []string
		if groups > 0 {
			sgs = []string{id(5, ports%groups)}
		}
		w.Ports = append(w.Ports, Port{ID: id(4, ports), NetworkID: nid, ProjectID: DemoProjectID,
			DeviceID: id(7, ports), DeviceOwner: "compute:nova", FixedIPs: []FixedIP{{sid, ip}}, SecurityGroups: sgs, BindingHost: ComputeHost})
	}
}

// PasswordEnv is the OS_* environment of a user of the world, as an
// openrc file would set it.
func (c *Cloud) PasswordEnv(user string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range c.world.Users {
		if u.Name != user {
			continue
		}
		project := ""
		for _, p := range c.world.Projects {
			if p.ID == u.ProjectID {
				project = p.Name
			}
		}
		return map[string]string{
			"OS_AUTH_URL":             c.AuthURL(),
			"OS_USERNAME":             u.Name,
			"OS_PASSWORD":             u.Password,
			"OS_PROJECT_NAME":         project,
			"OS_USER_DOMAIN_NAME":     DefaultDomainName,
			"OS_PROJECT_DOMAIN_ID":    DefaultDomainID,
			"OS_REGION_NAME":          orDefault(c.world.Region, "RegionOne"),
			"OS_IDENTITY_API_VERSION": "3",
		}
	}
	return nil
}

// Getenv reads from m, for openstack.Options.Getenv.
func Getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// Fleet sizes the world AddFleet builds: a cloud of many servers.
type Fleet struct {
	// Servers each get PortsPerServer ports (at least one) spread over the
	// fleet's networks; the remaining Ports are other devices' ports.
	Servers, Ports, Networks, Routers, Rules int
}

// AddFleet adds a fleet of servers to w around the standard world's
// agents: Networks networks with a subnet, a DHCP port hosted by the DHCP
// agent and a router interface each (Routers routers, shared round robin,
// hosted by the L3 agent); Servers servers on compute1, each with a port
// on a network; security groups of ten rules each (Rules rules in all),
// one per port, admitting ICMP in and anything out; and Ports ports in all, the rest unbound
// ports of no server.
func AddFleet(w *World, f Fleet) {
	id := func(kind, i int) string { return fmt.Sprintf("%08x-%04x-4000-8000-%012x", 0xf2000000+kind, 0, i) }
	ports := 0
	port := func(p Port) {
		p.ID, p.ProjectID = id(4, ports), DemoProjectID
		p.MAC = fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", ports>>16&0xff, ports>>8&0xff, ports&0xff)
		w.Ports = append(w.Ports, p)
		ports++
	}
	for r := 0; r < f.Routers; r++ {
		rid := id(3, r)
		w.Routers = append(w.Routers, Router{ID: rid, Name: fmt.Sprintf("router-%d", r), ProjectID: DemoProjectID, GatewayNetworkID: PublicNetworkID})
		w.L3Hosting[rid] = []L3Host{{AgentID: AgentL3}}
	}
	ip := func(n, host int) string { return fmt.Sprintf("10.%d.%d.%d", 64+n/256, n%256, host) }
	for n := 0; n < f.Networks; n++ {
		nid, sid := id(1, n), id(2, n)
		w.Networks = append(w.Networks, Network{ID: nid, Name: fmt.Sprintf("net-%d", n), ProjectID: DemoProjectID, SegmentationID: intp(3000 + n)})
		w.Subnets = append(w.Subnets, Subnet{ID: sid, Name: fmt.Sprintf("subnet-%d", n), NetworkID: nid, ProjectID: DemoProjectID,
			CIDR: ip(n, 0) + "/24", GatewayIP: ip(n, 1), Pools: [][2]string{{ip(n, 2), ip(n, 254)}}})
		port(Port{NetworkID: nid, DeviceID: "dhcp-" + nid, DeviceOwner: "network:dhcp", FixedIPs: []FixedIP{{sid, ip(n, 2)}}, BindingHost: NetworkHost})
		w.DHCPHosting[nid] = []string{AgentDHCP}
		if f.Routers > 0 {
			port(Port{NetworkID: nid, DeviceID: id(3, n%f.Routers), DeviceOwner: "network:router_interface", FixedIPs: []FixedIP{{sid, ip(n, 1)}}, BindingHost: NetworkHost})
		}
	}
	groups := (f.Rules + 9) / 10
	for g := 0; g < groups; g++ {
		sg := SecurityGroup{ID: id(5, g), Name: fmt.Sprintf("sg-%d", g), ProjectID: DemoProjectID,
			Rules: []Rule{{ID: id(6, g*10), Direction: "ingress", Ethertype: "IPv4", Protocol: "icmp", RemoteIPPrefix: "0.0.0.0/0"},
				{ID: id(6, g*10+1), Direction: "egress", Ethertype: "IPv4"}}}
		for r := 2; r < 10 && g*10+r < f.Rules; r++ {
			sg.Rules = append(sg.Rules, Rule{ID: id(6, g*10+r), Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp",
				PortMin: intp(1000 + r), PortMax: intp(1000 + r), RemoteIPPrefix: "192.0.2.0/24"})
		}
		w.SecurityGroups = append(w.SecurityGroups, sg)
	}
	for s := 0; s < f.Servers; s++ {
		sid := id(7, s)
		w.Servers = append(w.Servers, Server{ID: sid, Name: fmt.Sprintf("srv-%d", s), ProjectID: DemoProjectID, UserID: DemoUserID, Host: ComputeHost})
		var sgs []string
		if groups > 0 {
			sgs = []string{id(5, s%groups)}
		}
		n := s % max(f.Networks, 1)
		port(Port{NetworkID: id(1, n), DeviceID: sid, DeviceOwner: "compute:nova", SecurityGroups: sgs, BindingHost: ComputeHost,
			FixedIPs: []FixedIP{{id(2, n), ip(n, 10+(s/max(f.Networks, 1))%240)}}})
	}
	for ports < f.Ports {
		n := ports % max(f.Networks, 1)
		port(Port{NetworkID: id(1, n), DeviceOwner: "", Status: "DOWN"})
	}
}
