package openstack

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

func collect(t *testing.T, c *Client, server string, o CollectOptions) *snapshot.Snapshot {
	t.Helper()
	s, err := c.Collect(context.Background(), server, o)
	if err != nil {
		t.Fatalf("Collect(%q): %v", server, err)
	}
	return s
}

// TestCollectStandard checks the decoding of every source against the
// standard world, and the cost of the walk: 14 requests including the
// token (the console log is the 13th, asked for with the ports), 3 round
// trips after authentication.
func TestCollectStandard(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	noGaps(t, s)

	if s.Version != snapshot.Version || s.Query != fakeos.ServerID || s.CollectedAt.IsZero() {
		t.Errorf("header = %d %q %v", s.Version, s.Query, s.CollectedAt)
	}
	if want := (snapshot.Cloud{AuthURL: fc.AuthURL(), Region: "RegionOne", User: "admin", Project: "admin", Admin: true}); s.Cloud != want {
		t.Errorf("cloud = %+v, want %+v", s.Cloud, want)
	}
	srv := s.Server
	if srv == nil || srv.ID != fakeos.ServerID || srv.Name != "vm1" || srv.Status != "ACTIVE" || srv.VMState != "active" ||
		srv.Host != fakeos.ComputeHost || srv.ProjectID != fakeos.DemoProjectID || srv.AvailabilityZone != "nova" || srv.TaskState != "" {
		t.Fatalf("server = %+v", srv)
	}
	if !reflect.DeepEqual(srv.SecurityGroups, []string{"default"}) {
		t.Errorf("server groups = %v", srv.SecurityGroups)
	}
	wantAddrs := []snapshot.ServerAddress{
		{Addr: fakeos.ServerIP, Version: 4, Type: "fixed", MAC: "fa:16:3e:5b:1c:2d"},
		{Addr: fakeos.FloatingAddress, Version: 4, Type: "floating", MAC: "fa:16:3e:5b:1c:2d"},
	}
	if !reflect.DeepEqual(srv.Addresses["private"], wantAddrs) {
		t.Errorf("addresses = %+v", srv.Addresses)
	}
	if srv.Created.IsZero() {
		t.Error("created not decoded")
	}

	if len(s.Ports) != 1 {
		t.Fatalf("ports = %+v", s.Ports)
	}
	p := s.Ports[0]
	yes := true
	wantPort := snapshot.Port{
		ID: fakeos.PortID, NetworkID: fakeos.NetworkID, ProjectID: fakeos.DemoProjectID, DeviceID: fakeos.ServerID,
		DeviceOwner: "compute:nova", Status: "ACTIVE", AdminStateUp: true, MACAddress: "fa:16:3e:5b:1c:2d",
		FixedIPs:       []snapshot.FixedIP{{SubnetID: fakeos.SubnetID, IPAddress: fakeos.ServerIP}},
		SecurityGroups: []string{fakeos.DefaultSGID}, PortSecurityEnabled: &yes,
		BindingHostID: fakeos.ComputeHost, BindingVIFType: "ovs", BindingVNICType: "normal",
	}
	if !reflect.DeepEqual(p, wantPort) {
		t.Errorf("port =\n%+v\nwant\n%+v", p, wantPort)
	}

	sg := s.SecurityGroup(fakeos.DefaultSGID)
	if sg == nil || sg.Name != "default" || len(sg.Rules) != 6 || sg.Stateful == nil || !*sg.Stateful {
		t.Fatalf("security group = %+v", sg)
	}
	ssh := sg.Rules[5]
	if ssh.Direction != "ingress" || ssh.Ethertype != "IPv4" || ssh.Protocol != "tcp" || *ssh.PortRangeMin != 22 || *ssh.PortRangeMax != 22 ||
		ssh.RemoteIPPrefix != "0.0.0.0/0" || ssh.RemoteGroupID != "" || ssh.SecurityGroupID != fakeos.DefaultSGID {
		t.Errorf("ssh rule = %+v", ssh)
	}
	if r := sg.Rules[0]; r.Direction != "egress" || r.Protocol != "" || r.PortRangeMin != nil || r.RemoteIPPrefix != "" {
		t.Errorf("egress rule = %+v", r)
	}
	if r := sg.Rules[2]; r.RemoteGroupID != fakeos.DefaultSGID {
		t.Errorf("remote group rule = %+v", r)
	}

	n := s.Network(fakeos.NetworkID)
	if n == nil || n.Name != "private" || n.External || n.MTU != 1450 || n.Status != "ACTIVE" || !n.AdminStateUp ||
		n.Provider == nil || n.Provider.NetworkType != "vxlan" || *n.Provider.SegmentationID != 1042 || n.Provider.PhysicalNetwork != "" ||
		!reflect.DeepEqual(n.Subnets, []string{fakeos.SubnetID}) {
		t.Errorf("network = %+v (provider %+v)", n, n.Provider)
	}
	sub := s.Subnet(fakeos.SubnetID)
	if sub == nil || sub.CIDR != "10.0.0.0/26" || sub.GatewayIP != "10.0.0.1" || !sub.EnableDHCP || sub.IPVersion != 4 ||
		!reflect.DeepEqual(sub.AllocationPools, []snapshot.AllocationPool{{Start: "10.0.0.2", End: "10.0.0.62"}}) ||
		!reflect.DeepEqual(sub.DNSNameservers, []string{"10.0.0.1"}) {
		t.Errorf("subnet = %+v", sub)
	}

	if got := s.NetworkPortsByOwner(fakeos.NetworkID, snapshot.OwnerDHCP); len(got) != 1 || got[0].ID != fakeos.DHCPPortID || got[0].BindingHostID != fakeos.NetworkHost {
		t.Errorf("DHCP ports = %+v", got)
	}
	if got := s.NetworkPortsByOwner(fakeos.NetworkID, snapshot.RouterInterfaceOwners...); len(got) != 1 || got[0].DeviceID != fakeos.RouterID {
		t.Errorf("router ports = %+v", got)
	}
	if len(s.NetworkPorts) != 2 {
		t.Errorf("network ports = %d, want 2 (the gateway port is on another network)", len(s.NetworkPorts))
	}

	r := s.Router(fakeos.RouterID)
	no := false
	if r == nil || r.Name != "router1" || r.Status != "ACTIVE" || !r.AdminStateUp || r.ExternalGateway == nil ||
		r.ExternalGateway.NetworkID != fakeos.PublicNetworkID || r.ExternalGateway.EnableSNAT == nil || !*r.ExternalGateway.EnableSNAT ||
		!reflect.DeepEqual(r.ExternalGateway.ExternalFixedIPs, []snapshot.FixedIP{{SubnetID: fakeos.PublicSubnetID, IPAddress: "172.24.4.20"}}) ||
		!reflect.DeepEqual(r.Distributed, &no) || !reflect.DeepEqual(r.HA, &no) {
		t.Errorf("router = %+v", r)
	}

	wantFIP := []snapshot.FloatingIP{{ID: fakeos.FloatingIPID, FloatingIPAddress: fakeos.FloatingAddress, FloatingNetworkID: fakeos.PublicNetworkID,
		FixedIPAddress: fakeos.ServerIP, PortID: fakeos.PortID, RouterID: fakeos.RouterID, Status: "ACTIVE"}}
	if !reflect.DeepEqual(s.FloatingIPs, wantFIP) {
		t.Errorf("floating IPs = %+v", s.FloatingIPs)
	}

	if len(s.Agents) != 5 {
		t.Fatalf("agents = %+v", s.Agents)
	}
	ovs := s.Agent(fakeos.AgentOVSCompute)
	if ovs == nil || ovs.AgentType != snapshot.AgentTypeOVS || ovs.Binary != "neutron-openvswitch-agent" || ovs.Host != fakeos.ComputeHost ||
		!ovs.Alive || !ovs.AdminStateUp || ovs.TunnelingIP != "192.168.122.11" || !reflect.DeepEqual(ovs.TunnelTypes, []string{"vxlan"}) ||
		ovs.HeartbeatTimestamp.IsZero() || len(ovs.Configurations) == 0 {
		t.Errorf("OVS agent = %+v", ovs)
	}
	if dhcp := s.Agent(fakeos.AgentDHCP); dhcp == nil || dhcp.AgentType != snapshot.AgentTypeDHCP || dhcp.AvailabilityZone != "nova" {
		t.Errorf("DHCP agent = %+v", dhcp)
	}
	if !reflect.DeepEqual(s.DHCPAgents, map[string][]string{fakeos.NetworkID: {fakeos.AgentDHCP}}) {
		t.Errorf("DHCP hosting = %v", s.DHCPAgents)
	}
	if !reflect.DeepEqual(s.L3Agents, map[string][]snapshot.L3Hosting{fakeos.RouterID: {{AgentID: fakeos.AgentL3}}}) {
		t.Errorf("L3 hosting = %v", s.L3Agents)
	}
	if s.IPAvailability != nil || s.RemoteGroupMembers != nil {
		t.Errorf("fetched what was not needed: %v %v", s.IPAvailability, s.RemoteGroupMembers)
	}
	if cl := s.ConsoleLog; cl == nil || cl.Requested != DefaultConsoleLines || len(cl.Lines) != 13 ||
		cl.Lines[6] != "udhcpc: lease of 10.0.0.5 obtained, lease time 86400" || cl.Bytes != len(fakeos.StandardConsole) {
		t.Errorf("console log = %+v", cl)
	}

	// The cost: the token, then three rounds of parallel filtered requests.
	if c.Requests() != 14 || s.Stats.Requests != 14 || fc.Requests() != 14 {
		t.Errorf("requests = %d (stats %d, served %d), want 14:\n%s", c.Requests(), s.Stats.Requests, fc.Requests(), strings.Join(fc.RequestLog(), "\n"))
	}
	if fc.Count("POST /compute/v2.1/servers/"+fakeos.ServerID+"/action") != 1 {
		t.Errorf("console log not asked for once:\n%s", strings.Join(fc.RequestLog(), "\n"))
	}
	if s.Stats.RoundTrips != 3 {
		t.Errorf("round trips = %d, want 3", s.Stats.RoundTrips)
	}
	if s.Stats.Duration <= 0 {
		t.Errorf("duration = %v", s.Stats.Duration)
	}
	for _, l := range fc.RequestLog() {
		if strings.HasPrefix(l, "GET /networking/v2.0/") && !strings.Contains(l, "?") && !strings.Contains(l, "-agents") && !strings.HasSuffix(l, "/agents") {
			t.Errorf("unfiltered list: %s", l)
		}
	}

	// The snapshot is a file: it survives JSON.
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back snapshot.Snapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Ports, s.Ports) || !reflect.DeepEqual(back.Agents[0].TunnelingIP, s.Agents[0].TunnelingIP) {
		t.Error("snapshot does not survive JSON")
	}
}

// TestCollectByName is the name path: the project-scoped search, then
// (for an admin whose project does not hold the server) all projects.
func TestCollectByName(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	s := collect(t, c, "vm1", CollectOptions{})
	noGaps(t, s)
	if s.Server.ID != fakeos.ServerID || s.Query != "vm1" {
		t.Errorf("server = %+v", s.Server)
	}
	if fc.Count("GET /compute/v2.1/servers/detail?name=%5Evm1%24") != 1 || fc.Count("GET /compute/v2.1/servers/detail?all_tenants=1&name=%5Evm1%24") != 1 {
		t.Errorf("searches:\n%s", strings.Join(fc.RequestLog(), "\n"))
	}
	// token, search, agents, search all projects, ports and console, 7
	// neighbours, 2 routers'.
	if s.Stats.Requests != 15 || s.Stats.RoundTrips != 5 {
		t.Errorf("stats = %+v", s.Stats)
	}

	demo := connect(t, fc, fakeos.DemoUser)
	fc.ResetCounters()
	s = collect(t, demo, "vm1", CollectOptions{})
	if s.Server.ID != fakeos.ServerID {
		t.Errorf("server = %+v", s.Server)
	}
	if s.Stats.RoundTrips != 4 {
		t.Errorf("round trips = %d, want 4", s.Stats.RoundTrips)
	}
}

func TestCollectNameEscaping(t *testing.T) {
	w := fakeos.Standard()
	w.Servers = append(w.Servers,
		fakeos.Server{ID: "6a1b2c3d-0000-4000-8000-000000000001", Name: "web.1 (prod)", ProjectID: fakeos.DemoProjectID, Host: fakeos.ComputeHost},
		fakeos.Server{ID: "6a1b2c3d-0000-4000-8000-000000000002", Name: "webx1 (prod)", ProjectID: fakeos.DemoProjectID, Host: fakeos.ComputeHost},
		fakeos.Server{ID: "6a1b2c3d-0000-4000-8000-000000000003", Name: "web.1 (prod)-old", ProjectID: fakeos.DemoProjectID, Host: fakeos.ComputeHost},
	)
	fc := fakeos.Start(t, w)
	c := connect(t, fc, fakeos.DemoUser)
	s := collect(t, c, "web.1 (prod)", CollectOptions{})
	if s.Server.ID != "6a1b2c3d-0000-4000-8000-000000000001" {
		t.Errorf("found %+v", s.Server)
	}
	if len(s.Ports) != 0 || s.Stats.RoundTrips != 2 {
		t.Errorf("a server without ports: ports %v, stats %+v", s.Ports, s.Stats)
	}
}

func TestCollectNotFound(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	admin := connect(t, fc, fakeos.AdminUser)
	_, err := admin.Collect(context.Background(), "nope", CollectOptions{})
	e := wantError(t, err, KindNotFound, `find server: no server named "nope" in any project`)
	if e.Candidates != nil {
		t.Errorf("candidates = %v", e.Candidates)
	}
	const missing = "0b0b0b0b-1111-4222-8333-444444444444"
	_, err = admin.Collect(context.Background(), missing, CollectOptions{})
	wantError(t, err, KindNotFound, `no server or port with ID, nor server named, "`+missing+`" in any project`)

	_, err = admin.Collect(context.Background(), " ", CollectOptions{})
	wantError(t, err, KindNotFound, "give a server ID or name")

	demo := connect(t, fc, fakeos.DemoUser)
	fc.ResetCounters()
	_, err = demo.Collect(context.Background(), "nope", CollectOptions{})
	wantError(t, err, KindNotFound, `no server named "nope" in project demo`)
	if fc.Count("GET /compute/v2.1/servers/detail?all_tenants") != 0 {
		t.Error("a non-admin searched all projects")
	}
	// Another project's server is not found by a non-admin, even by ID.
	w := fakeos.Standard()
	w.Servers[0].ProjectID = fakeos.AdminProjectID
	fc2 := fakeos.Start(t, w)
	_, err = connect(t, fc2, fakeos.DemoUser).Collect(context.Background(), fakeos.ServerID, CollectOptions{})
	wantError(t, err, KindNotFound)
}

func TestCollectAmbiguous(t *testing.T) {
	w := fakeos.Standard()
	w.Servers = append(w.Servers,
		fakeos.Server{ID: "7a000000-0000-4000-8000-000000000001", Name: "dup", ProjectID: fakeos.DemoProjectID, Host: fakeos.ComputeHost},
		fakeos.Server{ID: "7a000000-0000-4000-8000-000000000002", Name: "dup", ProjectID: fakeos.DemoProjectID, Status: "SHUTOFF"},
	)
	fc := fakeos.Start(t, w)
	_, err := connect(t, fc, fakeos.DemoUser).Collect(context.Background(), "dup", CollectOptions{})
	e := wantError(t, err, KindAmbiguous, `find server: 2 servers are named "dup"`)
	want := []string{"dup (7a000000-0000-4000-8000-000000000001, ACTIVE)", "dup (7a000000-0000-4000-8000-000000000002, SHUTOFF)"}
	if !reflect.DeepEqual(e.Candidates, want) {
		t.Errorf("candidates = %v", e.Candidates)
	}
}

// TestCollectNonAdmin: what a member cannot see becomes gaps with reasons,
// and admin-only calls are not even made once the agents were refused.
func TestCollectNonAdmin(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.DemoUser)
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	if s.Cloud.Admin {
		t.Error("demo seen as admin")
	}
	if s.Server.Host != "" {
		t.Errorf("host = %q", s.Server.Host)
	}
	for _, want := range []snapshot.Gap{
		{Source: snapshot.SourceServerHost, Kind: snapshot.GapForbidden, Subject: fakeos.ServerID, Reason: "the server's host is hidden"},
		{Source: snapshot.SourceAgents, Kind: snapshot.GapForbidden, Reason: "agents are hidden", Status: 403},
		{Source: snapshot.SourceProviderFields, Kind: snapshot.GapForbidden, Subject: fakeos.NetworkID, Reason: "provider attributes of network private are hidden"},
		{Source: snapshot.SourceDHCPAgents, Kind: snapshot.GapForbidden, Subject: fakeos.NetworkID, Reason: "the DHCP agents hosting the network are hidden"},
		{Source: snapshot.SourceL3Agents, Kind: snapshot.GapForbidden, Subject: fakeos.RouterID, Reason: "the L3 agents hosting the router are hidden"},
	} {
		if got := gap(t, s, want.Source, want.Subject); got != want {
			t.Errorf("gap = %+v, want %+v", got, want)
		}
	}
	if len(s.Gaps) != 5 {
		t.Errorf("gaps = %+v", s.Gaps)
	}
	if s.Agents != nil || s.DHCPAgents != nil || s.L3Agents != nil {
		t.Errorf("agents = %v %v %v", s.Agents, s.DHCPAgents, s.L3Agents)
	}
	if n := s.Network(fakeos.NetworkID); n == nil || n.Provider != nil {
		t.Errorf("network = %+v", n)
	}
	if p := s.Ports[0]; p.BindingHostID != "" || p.BindingVIFType != "" || p.BindingVNICType != "normal" {
		t.Errorf("port bindings = %+v", p)
	}
	if len(s.NetworkPorts) != 2 || len(s.Routers) != 1 || len(s.FloatingIPs) != 1 || len(s.Subnets) != 1 {
		t.Errorf("own resources missing: %d %d %d %d", len(s.NetworkPorts), len(s.Routers), len(s.FloatingIPs), len(s.Subnets))
	}
	if fc.Count("GET /networking/v2.0/networks/") != 0 || fc.Count("GET /networking/v2.0/routers/") != 0 {
		t.Errorf("asked for hosting agents after the agents were refused:\n%s", strings.Join(fc.RequestLog(), "\n"))
	}
	// token + (server, ports, console, agents) + 6 neighbours + routers.
	if s.Stats.Requests != 12 || s.Stats.RoundTrips != 3 {
		t.Errorf("stats = %+v", s.Stats)
	}
}

// TestCollectAgentsEmptyForNonAdmin: Neutron may answer a non-admin's agent
// list with an empty list instead of 403; that is not "no agents".
func TestCollectAgentsEmptyForNonAdmin(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	fc.AgentsEmptyForNonAdmin(true)
	s := collect(t, connect(t, fc, fakeos.DemoUser), fakeos.ServerID, CollectOptions{})
	g := gap(t, s, snapshot.SourceAgents, "")
	if g.Kind != snapshot.GapForbidden || g.Reason != "agents are hidden" {
		t.Errorf("gap = %+v", g)
	}
	gap(t, s, snapshot.SourceDHCPAgents, fakeos.NetworkID)
}

// TestCollectSharedNetwork: on another project's network a member cannot
// see the DHCP and router ports; say so rather than report them missing.
func TestCollectSharedNetwork(t *testing.T) {
	w := fakeos.Standard()
	w.Networks[0].ProjectID = fakeos.AdminProjectID
	w.Networks[0].Shared = true
	w.Subnets[0].ProjectID = fakeos.AdminProjectID
	for i := range w.Ports {
		if w.Ports[i].DeviceOwner == "network:dhcp" {
			w.Ports[i].ProjectID = fakeos.AdminProjectID
		}
	}
	fc := fakeos.Start(t, w)
	s := collect(t, connect(t, fc, fakeos.DemoUser), fakeos.ServerID, CollectOptions{})
	if len(s.NetworkPortsByOwner(fakeos.NetworkID, snapshot.OwnerDHCP)) != 0 {
		t.Fatal("the fake showed another project's DHCP port")
	}
	g := gap(t, s, snapshot.SourceNetworkPorts, fakeos.NetworkID)
	if g.Kind != snapshot.GapForbidden || !strings.Contains(g.Reason, "owned by another project") {
		t.Errorf("gap = %+v", g)
	}
	if len(s.Subnets) != 1 {
		t.Errorf("the shared network's subnet is missing: %+v", s.Subnets)
	}
}

func TestCollectRemoteGroups(t *testing.T) {
	w := fakeos.Standard()
	w.Ports = append(w.Ports, fakeos.Port{ID: "9e000000-0000-4000-8000-000000000001", NetworkID: fakeos.NetworkID, ProjectID: fakeos.DemoProjectID,
		DeviceID: "9e000000-0000-4000-8000-0000000000ff", DeviceOwner: "compute:nova",
		FixedIPs: []fakeos.FixedIP{{SubnetID: fakeos.SubnetID, IP: "10.0.0.9"}}, SecurityGroups: []string{fakeos.DefaultSGID}})
	fakeos.AddFiller(w, fakeos.Filler{Ports: 50, Networks: 5, Rules: 30})
	fc := fakeos.Start(t, w)
	c := connect(t, fc, fakeos.AdminUser)
	s := collect(t, c, fakeos.ServerID, CollectOptions{RemoteGroups: true})
	noGaps(t, s)
	want := map[string][]string{fakeos.DefaultSGID: {"10.0.0.5", "10.0.0.9"}}
	if !reflect.DeepEqual(s.RemoteGroupMembers, want) {
		t.Errorf("members = %v", s.RemoteGroupMembers)
	}
	if s.Stats.Requests != 15 || s.Stats.RoundTrips != 3 {
		t.Errorf("stats = %+v, want 15 requests in 3 round trips", s.Stats)
	}
	if fc.Count("GET /networking/v2.0/ports?fields=fixed_ips&fields=security_groups&security_groups="+fakeos.DefaultSGID) != 1 {
		t.Errorf("requests:\n%s", strings.Join(fc.RequestLog(), "\n"))
	}
}

func TestCollectPortWithoutAddress(t *testing.T) {
	w := fakeos.Standard()
	w.Ports[0].FixedIPs = nil
	fc := fakeos.Start(t, w)
	s := collect(t, connect(t, fc, fakeos.AdminUser), fakeos.ServerID, CollectOptions{})
	noGaps(t, s)
	if len(s.IPAvailability) != 1 {
		t.Fatalf("availability = %+v", s.IPAvailability)
	}
	a := s.IPAvailability[0]
	if a.NetworkID != fakeos.NetworkID || len(a.Subnets) != 1 || a.Subnets[0].SubnetID != fakeos.SubnetID ||
		a.Subnets[0].TotalIPs.String() != "61" || a.Subnets[0].UsedIPs.String() != "2" || a.Subnets[0].CIDR != "10.0.0.0/26" {
		t.Errorf("availability = %+v", a)
	}
	if s.Stats.RoundTrips != 3 {
		t.Errorf("round trips = %d", s.Stats.RoundTrips)
	}
	// A member may not read it.
	s = collect(t, connect(t, fc, fakeos.DemoUser), fakeos.ServerID, CollectOptions{})
	g := gap(t, s, snapshot.SourceIPAvailability, fakeos.NetworkID)
	if g.Kind != snapshot.GapForbidden || g.Status != 403 || g.Reason != "IP availability is hidden" {
		t.Errorf("gap = %+v", g)
	}
}

func TestCollectNullsAndStates(t *testing.T) {
	w := fakeos.Standard()
	w.Servers[0].Status = "ERROR"
	w.Servers[0].Host = ""
	w.Servers[0].TaskState = "spawning"
	w.Servers[0].Fault = &fakeos.ServerFault{Code: 500, Message: "No valid host was found. There are not enough hosts available.", Details: "Traceback…"}
	w.Subnets[0].NoGateway = true
	w.Subnets[0].DHCPDisabled = true
	w.Ports[0].Status = "DOWN"
	w.Ports[0].AdminDown = true
	w.Ports[0].BindingHost = ""
	w.Ports[0].VIFType = "binding_failed"
	w.Ports[0].PortSecurityDisabled = true
	w.Ports[0].SecurityGroups = nil
	w.Routers[0].GatewayNetworkID = ""
	w.Routers[0].HA = true
	w.L3Hosting[fakeos.RouterID] = []fakeos.L3Host{{AgentID: fakeos.AgentL3, HAState: "standby"}}
	w.Agents[0].Dead = true
	w.Networks[0].NoProvider = true
	fc := fakeos.Start(t, w)
	s := collect(t, connect(t, fc, fakeos.AdminUser), fakeos.ServerID, CollectOptions{})

	if s.Server.Status != "ERROR" || s.Server.Host != "" || s.Server.TaskState != "spawning" || s.Server.Fault == nil ||
		s.Server.Fault.Code != 500 || !strings.HasPrefix(s.Server.Fault.Message, "No valid host") || s.Server.Fault.Created.IsZero() {
		t.Errorf("server = %+v fault %+v", s.Server, s.Server.Fault)
	}
	if s.Gap(snapshot.SourceServerHost) != nil {
		t.Error("a null host (unscheduled) was taken for a hidden one")
	}
	if sub := s.Subnet(fakeos.SubnetID); sub.GatewayIP != "" || sub.EnableDHCP {
		t.Errorf("subnet = %+v", sub)
	}
	p := s.Ports[0]
	if p.Status != "DOWN" || p.AdminStateUp || p.BindingVIFType != "binding_failed" || p.PortSecurityEnabled == nil || *p.PortSecurityEnabled || len(p.SecurityGroups) != 0 {
		t.Errorf("port = %+v", p)
	}
	if s.SecurityGroups != nil || fc.Count("GET /networking/v2.0/security-groups") != 0 {
		t.Errorf("groups fetched for a port without any: %+v", s.SecurityGroups)
	}
	if r := s.Router(fakeos.RouterID); r.ExternalGateway != nil || r.HA == nil || !*r.HA {
		t.Errorf("router = %+v", r)
	}
	if !reflect.DeepEqual(s.L3Agents[fakeos.RouterID], []snapshot.L3Hosting{{AgentID: fakeos.AgentL3, HAState: "standby"}}) {
		t.Errorf("L3 hosting = %+v", s.L3Agents)
	}
	if a := s.Agent(fakeos.AgentOVSCompute); a.Alive {
		t.Errorf("agent = %+v", a)
	}
	g := gap(t, s, snapshot.SourceProviderFields, fakeos.NetworkID)
	if g.Kind != snapshot.GapUnsupported {
		t.Errorf("gap = %+v", g)
	}
}

func TestCollectMultiSegmentNetwork(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	fc.Update(func(w *fakeos.World) {
		w.Networks[0].NoProvider = true
		w.Raw = map[string][]map[string]any{}
	})
	// Replace the network by a multi-segment one as Neutron shows it.
	fc.Update(func(w *fakeos.World) {
		w.Networks = w.Networks[1:]
		w.Raw["networks"] = []map[string]any{{
			"id": fakeos.NetworkID, "name": "private", "project_id": fakeos.DemoProjectID, "tenant_id": fakeos.DemoProjectID,
			"status": "ACTIVE", "admin_state_up": true, "shared": false, "router:external": false, "mtu": 1500,
			"subnets":  []any{fakeos.SubnetID},
			"segments": []any{map[string]any{"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 101}},
		}}
	})
	s := collect(t, connect(t, fc, fakeos.AdminUser), fakeos.ServerID, CollectOptions{})
	noGaps(t, s)
	n := s.Network(fakeos.NetworkID)
	if n == nil || n.Provider == nil || n.Provider.NetworkType != "vlan" || n.Provider.PhysicalNetwork != "physnet1" || *n.Provider.SegmentationID != 101 {
		t.Errorf("network = %+v", n)
	}
}

func TestCollectExtensionsMissing(t *testing.T) {
	w := fakeos.Standard()
	w.Disabled = map[string]bool{"routers": true, "l3-agents": true, "agents": true, "dhcp-agents": true}
	fc := fakeos.Start(t, w)
	s := collect(t, connect(t, fc, fakeos.AdminUser), fakeos.ServerID, CollectOptions{})
	for _, src := range []string{snapshot.SourceRouters, snapshot.SourceAgents} {
		g := gap(t, s, src, "")
		if g.Kind != snapshot.GapUnsupported || g.Status != 404 || !strings.HasPrefix(g.Reason, "not deployed in this cloud") {
			t.Errorf("gap = %+v", g)
		}
	}
	for _, src := range []string{snapshot.SourceDHCPAgents, snapshot.SourceL3Agents} {
		g := gap(t, s, src, "*")
		if g.Kind != snapshot.GapUnsupported {
			t.Errorf("gap = %+v", g)
		}
	}
}

func TestCollectRetriesThenSucceeds(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/subnets", Status: 500, Times: 2})
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/compute/v2.1/servers/", Status: 503, Times: 1})
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	noGaps(t, s)
	if len(s.Subnets) != 1 {
		t.Errorf("subnets = %+v", s.Subnets)
	}
	if n := fc.Count("GET /networking/v2.0/subnets"); n != 3 {
		t.Errorf("subnet requests = %d, want 3 (two 500s, then OK)", n)
	}
	if s.Stats.Requests != 17 {
		t.Errorf("requests = %d, want 14 + 3 retries", s.Stats.Requests)
	}
}

func TestCollectRetriesBounded(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/subnets", Status: 500})
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	g := gap(t, s, snapshot.SourceSubnets, "")
	if g.Kind != snapshot.GapError || g.Status != 500 || !strings.Contains(g.Reason, "500 Request Failed: internal server error") {
		t.Errorf("gap = %+v", g)
	}
	if n := fc.Count("GET /networking/v2.0/subnets"); n != 1+DefaultRetries {
		t.Errorf("subnet requests = %d, want %d", n, 1+DefaultRetries)
	}
	if len(s.Gaps) != 1 || len(s.Ports) != 1 || len(s.Routers) != 1 {
		t.Errorf("the rest was not collected: gaps %+v", s.Gaps)
	}

	// The server itself is essential: its failure is the error.
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/compute/v2.1/servers/", Status: 500})
	fc.ResetCounters()
	o := func(o *Options) { o.Retries = 4 }
	_, err := connect(t, fc, fakeos.AdminUser, o).Collect(context.Background(), fakeos.ServerID, CollectOptions{})
	wantError(t, err, KindAPI, "get server "+fakeos.ServerID+": GET "+fc.URL()+"/compute/v2.1/servers/"+fakeos.ServerID+": 500")
	if n := fc.Count("GET /compute/v2.1/servers/"); n != 5 {
		t.Errorf("server requests = %d, want 5", n)
	}
	// Negative Retries means none.
	fc.ResetCounters()
	_, err = connect(t, fc, fakeos.AdminUser, func(o *Options) { o.Retries = -1 }).Collect(context.Background(), fakeos.ServerID, CollectOptions{})
	wantError(t, err, KindAPI)
	if n := fc.Count("GET /compute/v2.1/servers/"); n != 1 {
		t.Errorf("server requests = %d, want 1", n)
	}
}

func TestCollectPortsFail(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/ports", Query: "device_id=", Status: 500})
	s := collect(t, connect(t, fc, fakeos.AdminUser), fakeos.ServerID, CollectOptions{RemoteGroups: true})
	if g := gap(t, s, snapshot.SourcePorts, fakeos.ServerID); g.Kind != snapshot.GapError || g.Status != 500 {
		t.Errorf("gap = %+v", g)
	}
	for _, src := range []string{snapshot.SourceSecurityGroups, snapshot.SourceSubnets, snapshot.SourceNetworks, snapshot.SourceNetworkPorts,
		snapshot.SourceFloatingIPs, snapshot.SourceDHCPAgents, snapshot.SourceRouters, snapshot.SourceL3Agents} {
		if g := gap(t, s, src, ""); !strings.HasPrefix(g.Reason, "not read: the server's ports could not be listed") {
			t.Errorf("gap = %+v", g)
		}
	}
	if len(s.Agents) != 5 {
		t.Errorf("agents = %d", len(s.Agents))
	}
}

func TestCollectHang(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser, func(o *Options) { o.Timeout = 200 * time.Millisecond; o.Retries = 1 })
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/networking/v2.0/agents", Hang: true})
	start := time.Now()
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	g := gap(t, s, snapshot.SourceAgents, "")
	if g.Kind != snapshot.GapError || !strings.Contains(g.Reason, "no answer in time") {
		t.Errorf("gap = %+v", g)
	}
	if n := fc.Count("GET /networking/v2.0/agents"); n != 2 {
		t.Errorf("agent requests = %d, want 2 (one retry)", n)
	}
	// Without the agent list, the hosting agents are still asked for.
	if len(s.DHCPAgents) != 1 || len(s.Agents) != 0 {
		t.Errorf("dhcp agents %v, agents %v", s.DHCPAgents, s.Agents)
	}

	// A hanging server lookup is the error, of kind timeout.
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/compute/v2.1/servers/", Hang: true})
	_, err := c.Collect(context.Background(), fakeos.ServerID, CollectOptions{})
	wantError(t, err, KindTimeout, "get server "+fakeos.ServerID, "no answer in time")
}

func TestCollectContextDeadline(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	fc.Inject(fakeos.Fault{Method: "GET", Path: "/compute/v2.1/servers/", Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Collect(ctx, fakeos.ServerID, CollectOptions{})
	wantError(t, err, KindTimeout)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v after a 150ms deadline", d)
	}
	if n := fc.Count("GET /compute/v2.1/servers/"); n != 1 {
		t.Errorf("server requests = %d: retried past the caller's deadline", n)
	}
}

func TestCollectMicroversionFallback(t *testing.T) {
	w := fakeos.Standard()
	w.NovaMaxVersion = "2.42"
	fc := fakeos.Start(t, w)
	var log strings.Builder
	c := connect(t, fc, fakeos.AdminUser, func(o *Options) { o.Debug = &log })
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	noGaps(t, s)
	if s.Server.Host != fakeos.ComputeHost {
		t.Errorf("server = %+v", s.Server)
	}
	if c.Compute().Microversion != "2.42" {
		t.Errorf("microversion = %q", c.Compute().Microversion)
	}
	if s.Stats.Requests != 16 || s.Stats.RoundTrips != 5 {
		t.Errorf("stats = %+v, want the refusal and the version document on top", s.Stats)
	}
	if !strings.Contains(log.String(), "GET "+fc.URL()+"/compute/v2.1/servers/"+fakeos.ServerID+" 406") ||
		!strings.Contains(log.String(), "microversion 2.47 refused; using 2.42") {
		t.Errorf("log:\n%s", log.String())
	}
	// The next collection uses 2.42 from the start.
	s = collect(t, c, "vm1", CollectOptions{})
	if s.Server.ID != fakeos.ServerID {
		t.Errorf("server = %+v", s.Server)
	}
}

func TestCollectStatsMatchServer(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	c := connect(t, fc, fakeos.AdminUser)
	for _, q := range []string{fakeos.ServerID, "vm1"} {
		fc.ResetCounters()
		before := c.Requests()
		s := collect(t, c, q, CollectOptions{RemoteGroups: true})
		if got, want := c.Requests()-before, fc.Requests(); got != want {
			t.Errorf("%s: counted %d requests, the server saw %d", q, got, want)
		}
		if s.Stats.Requests != fc.Requests()+1 {
			t.Errorf("%s: stats %d, want the collection's %d plus the token", q, s.Stats.Requests, fc.Requests())
		}
	}
}

func TestCollectGapsSorted(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	s := collect(t, connect(t, fc, fakeos.DemoUser), fakeos.ServerID, CollectOptions{})
	if !slices.IsSortedFunc(s.Gaps, func(a, b snapshot.Gap) int {
		if a.Source != b.Source {
			return strings.Compare(a.Source, b.Source)
		}
		return strings.Compare(a.Subject, b.Subject)
	}) {
		t.Errorf("gaps not sorted: %+v", s.Gaps)
	}
}

func TestCollectTokenRefused(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	env := map[string]string{"OS_AUTH_URL": fc.AuthURL(), "OS_TOKEN": fc.IssueToken(fakeos.AdminUser)}
	c, err := Connect(context.Background(), testOptions(env))
	if err != nil {
		t.Fatal(err)
	}
	fc.ExpireTokens()
	_, err = c.Collect(context.Background(), fakeos.ServerID, CollectOptions{})
	wantError(t, err, KindAuth, "get server "+fakeos.ServerID+": GET ", ": 401 The request you have made requires authentication.")
}

// TestGapClassification pins how a failed read becomes a gap.
func TestGapClassification(t *testing.T) {
	api := func(status int, typ, msg string) error {
		return &apiError{Method: "GET", URL: "http://127.0.0.1/v2.0/x", Status: status, Message: msg, Type: typ}
	}
	cases := []struct {
		name string
		list bool
		err  error
		want snapshot.Gap
	}{
		{"403", true, api(403, "PolicyNotAuthorized", "rule:get_agent is disallowed by policy"),
			snapshot.Gap{Kind: snapshot.GapForbidden, Reason: "agents are hidden", Status: 403}},
		{"401", true, api(401, "", "The request you have made requires authentication."),
			snapshot.Gap{Kind: snapshot.GapUnauthorized, Reason: "the token was rejected (expired or revoked): GET http://127.0.0.1/v2.0/x: 401 The request you have made requires authentication.", Status: 401}},
		{"404 on a list", true, api(404, "", "404 Not Found The resource could not be found."),
			snapshot.Gap{Kind: snapshot.GapUnsupported, Reason: "not deployed in this cloud (GET http://127.0.0.1/v2.0/x: 404 404 Not Found The resource could not be found.)", Status: 404}},
		{"404 of a resource", false, api(404, "NetworkNotFound", "Network n could not be found."),
			snapshot.Gap{Kind: snapshot.GapNotFound, Reason: "Network n could not be found.", Status: 404}},
		{"500", true, api(500, "HTTPInternalServerError", "Request Failed"),
			snapshot.Gap{Kind: snapshot.GapError, Reason: "GET http://127.0.0.1/v2.0/x: 500 Request Failed", Status: 500}},
		{"transport", true, context.DeadlineExceeded,
			snapshot.Gap{Kind: snapshot.GapError, Reason: "context deadline exceeded"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := &collection{snap: &snapshot.Snapshot{}}
			k.fail(snapshot.SourceAgents, "", "agents are hidden", tc.list, tc.err)
			tc.want.Source = snapshot.SourceAgents
			if got := k.snap.Gaps[0]; got != tc.want {
				t.Errorf("gap = %+v\nwant  %+v", got, tc.want)
			}
		})
	}
}

// TestCollectOVN: with OVN there is no DHCP agent; the "network:distributed"
// port (OVN's DHCP and metadata) is collected with the network ports, and
// the missing DHCP agent scheduler is a gap, not an empty hosting list.
func TestCollectOVN(t *testing.T) {
	w := fakeos.Standard()
	for i := range w.Ports {
		if w.Ports[i].DeviceOwner == "network:dhcp" {
			w.Ports[i].DeviceOwner = "network:distributed"
			w.Ports[i].DeviceID = "ovnmeta-" + fakeos.NetworkID
		}
	}
	w.Agents = []fakeos.Agent{
		{ID: "7c000000-0000-4000-8000-000000000001", Type: "OVN Controller agent", Binary: "ovn-controller", Host: fakeos.ComputeHost},
		{ID: "7c000000-0000-4000-8000-000000000002", Type: "OVN Metadata agent", Binary: "neutron-ovn-metadata-agent", Host: fakeos.ComputeHost},
	}
	w.DHCPHosting = nil
	w.Disabled = map[string]bool{"dhcp-agents": true}
	fc := fakeos.Start(t, w)
	s := collect(t, connect(t, fc, fakeos.AdminUser), fakeos.ServerID, CollectOptions{})
	if got := s.NetworkPortsByOwner(fakeos.NetworkID, "network:distributed"); len(got) != 1 {
		t.Errorf("distributed ports = %+v", got)
	}
	if g := gap(t, s, snapshot.SourceDHCPAgents, fakeos.NetworkID); g.Kind != snapshot.GapUnsupported {
		t.Errorf("gap = %+v", g)
	}
	if a := s.Agent("7c000000-0000-4000-8000-000000000002"); a == nil || a.AgentType != snapshot.AgentTypeOVNMetadata {
		t.Errorf("agents = %+v", s.Agents)
	}
}
