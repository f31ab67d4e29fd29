package rule

import (
	"encoding/json"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// The healthy baseline is the lab's shape: server vm1 on network private
// (VXLAN, 10.0.0.0/24, gateway 10.0.0.1) behind router1, whose gateway is on
// the external flat network public (172.24.4.0/24); groups default and
// lab-sg; a floating IP; a Linux bridge, DHCP, L3 and metadata agent on the
// all-in-one host ctl.
const (
	projDemo    = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	projAdmin   = "5f4e3d2c1b0a99887766554433221100"
	srvID       = "3f9a2c71-5b8e-4d0a-9c6f-1e2d3b4a5c6d"
	netPrivate  = "7c9e1f0a-2b3d-4e5f-8a6b-9c0d1e2f3a4b"
	subPrivate  = "c4d5e6f7-0819-4a2b-bc3d-4e5f60718293"
	netPublic   = "0e1d2c3b-4a59-4687-b7a6-95d4c3b2a1f0"
	subPublic   = "b7a6c5d4-e3f2-4a1b-9c8d-7e6f5a4b3c2d"
	portVM      = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	portDHCP    = "d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a"
	portRtrIf   = "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9"
	router1     = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	fipID       = "f0e1d2c3-b4a5-4968-8776-a5b4c3d2e1f0"
	sgDefault   = "6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a"
	sgLab       = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
	agentLB     = "4e3d2c1b-0a9f-4e8d-b7c6-a5b4c3d2e1f0"
	agentDHCP   = "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d"
	agentL3     = "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
	agentMeta   = "c9d8e7f6-a5b4-4c3d-8e2f-1a0b9c8d7e6f"
	hostCtl     = "ctl"
	ruleDefIn4  = "11111111-aaaa-4bbb-8ccc-000000000001"
	ruleDefIn6  = "11111111-aaaa-4bbb-8ccc-000000000002"
	ruleDefEg4  = "11111111-aaaa-4bbb-8ccc-000000000003"
	ruleDefEg6  = "11111111-aaaa-4bbb-8ccc-000000000004"
	ruleLabICMP = "22222222-aaaa-4bbb-8ccc-000000000001"
	ruleLabSSH  = "22222222-aaaa-4bbb-8ccc-000000000002"
	ruleLabEg4  = "22222222-aaaa-4bbb-8ccc-000000000003"
	ruleLabEg6  = "22222222-aaaa-4bbb-8ccc-000000000004"
)

func ptr[T any](v T) *T { return &v }

func healthy() *snapshot.Snapshot {
	at := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	return &snapshot.Snapshot{
		Version:     snapshot.Version,
		CollectedAt: at,
		Cloud:       snapshot.Cloud{AuthURL: "http://127.0.0.1:5000/v3", Region: "RegionOne", User: "admin", Project: "admin", Admin: true},
		Query:       "vm1",
		Server: &snapshot.Server{
			ID: srvID, Name: "vm1", Status: "ACTIVE", VMState: "active", Host: hostCtl,
			AvailabilityZone: "nova", ProjectID: projDemo,
			SecurityGroups: []string{"default", "lab-sg"},
			Addresses: map[string][]snapshot.ServerAddress{"private": {
				{Addr: "10.0.0.12", Version: 4, Type: "fixed", MAC: "fa:16:3e:12:34:56"},
				{Addr: "172.24.4.150", Version: 4, Type: "floating", MAC: "fa:16:3e:12:34:56"},
			}},
		},
		Ports: []snapshot.Port{{
			ID: portVM, NetworkID: netPrivate, ProjectID: projDemo, DeviceID: srvID, DeviceOwner: "compute:nova",
			Status: "ACTIVE", AdminStateUp: true, MACAddress: "fa:16:3e:12:34:56",
			FixedIPs:            []snapshot.FixedIP{{SubnetID: subPrivate, IPAddress: "10.0.0.12"}},
			SecurityGroups:      []string{sgDefault, sgLab},
			PortSecurityEnabled: ptr(true),
			BindingHostID:       hostCtl, BindingVIFType: "bridge", BindingVNICType: "normal",
		}},
		SecurityGroups: []snapshot.SecurityGroup{
			{ID: sgDefault, Name: "default", ProjectID: projDemo, Stateful: ptr(true), Rules: []snapshot.SecurityGroupRule{
				{ID: ruleDefIn4, SecurityGroupID: sgDefault, Direction: "ingress", Ethertype: "IPv4", RemoteGroupID: sgDefault},
				{ID: ruleDefIn6, SecurityGroupID: sgDefault, Direction: "ingress", Ethertype: "IPv6", RemoteGroupID: sgDefault},
				{ID: ruleDefEg4, SecurityGroupID: sgDefault, Direction: "egress", Ethertype: "IPv4"},
				{ID: ruleDefEg6, SecurityGroupID: sgDefault, Direction: "egress", Ethertype: "IPv6"},
			}},
			{ID: sgLab, Name: "lab-sg", ProjectID: projDemo, Stateful: ptr(true), Rules: []snapshot.SecurityGroupRule{
				{ID: ruleLabICMP, SecurityGroupID: sgLab, Direction: "ingress", Ethertype: "IPv4", Protocol: "icmp", RemoteIPPrefix: "0.0.0.0/0"},
				{ID: ruleLabSSH, SecurityGroupID: sgLab, Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp", PortRangeMin: ptr(22), PortRangeMax: ptr(22), RemoteIPPrefix: "0.0.0.0/0"},
				{ID: ruleLabEg4, SecurityGroupID: sgLab, Direction: "egress", Ethertype: "IPv4"},
				{ID: ruleLabEg6, SecurityGroupID: sgLab, Direction: "egress", Ethertype: "IPv6"},
			}},
		},
		Networks: []snapshot.Network{
			{ID: netPrivate, Name: "private", ProjectID: projDemo, Status: "ACTIVE", AdminStateUp: true, MTU: 1450,
				Subnets: []string{subPrivate}, Provider: &snapshot.Provider{NetworkType: "vxlan", SegmentationID: ptr(57)}},
			{ID: netPublic, Name: "public", ProjectID: projAdmin, Status: "ACTIVE", AdminStateUp: true, External: true, Shared: false, MTU: 1500,
				Subnets: []string{subPublic}, Provider: &snapshot.Provider{NetworkType: "flat", PhysicalNetwork: "physnet1"}},
		},
		Subnets: []snapshot.Subnet{
			{ID: subPrivate, Name: "private-subnet", NetworkID: netPrivate, ProjectID: projDemo, CIDR: "10.0.0.0/24", IPVersion: 4,
				GatewayIP: "10.0.0.1", EnableDHCP: true, AllocationPools: []snapshot.AllocationPool{{Start: "10.0.0.2", End: "10.0.0.254"}}},
			{ID: subPublic, Name: "public-subnet", NetworkID: netPublic, ProjectID: projAdmin, CIDR: "172.24.4.0/24", IPVersion: 4,
				GatewayIP: "172.24.4.1", EnableDHCP: false, AllocationPools: []snapshot.AllocationPool{{Start: "172.24.4.2", End: "172.24.4.254"}}},
		},
		NetworkPorts: []snapshot.Port{
			{ID: portDHCP, NetworkID: netPrivate, ProjectID: projDemo, DeviceID: "dhcp827da361-3ab2-5b2a-9b2f-0c6d3d1f0e7a-" + netPrivate,
				DeviceOwner: snapshot.OwnerDHCP, Status: "ACTIVE", AdminStateUp: true,
				FixedIPs: []snapshot.FixedIP{{SubnetID: subPrivate, IPAddress: "10.0.0.2"}}, BindingHostID: hostCtl, BindingVIFType: "bridge"},
			{ID: portRtrIf, NetworkID: netPrivate, ProjectID: projDemo, DeviceID: router1,
				DeviceOwner: snapshot.OwnerRouterInterface, Status: "ACTIVE", AdminStateUp: true,
				FixedIPs: []snapshot.FixedIP{{SubnetID: subPrivate, IPAddress: "10.0.0.1"}}, BindingHostID: hostCtl, BindingVIFType: "bridge"},
		},
		Routers: []snapshot.Router{{
			ID: router1, Name: "router1", ProjectID: projDemo, Status: "ACTIVE", AdminStateUp: true,
			ExternalGateway: &snapshot.ExternalGateway{NetworkID: netPublic, EnableSNAT: ptr(true),
				ExternalFixedIPs: []snapshot.FixedIP{{SubnetID: subPublic, IPAddress: "172.24.4.10"}}},
			Distributed: ptr(false), HA: ptr(false),
		}},
		FloatingIPs: []snapshot.FloatingIP{{
			ID: fipID, FloatingIPAddress: "172.24.4.150", FloatingNetworkID: netPublic,
			FixedIPAddress: "10.0.0.12", PortID: portVM, RouterID: router1, Status: "ACTIVE",
		}},
		Agents: []snapshot.Agent{
			{ID: agentLB, AgentType: snapshot.AgentTypeLinuxBridge, Binary: "neutron-linuxbridge-agent", Host: hostCtl, Alive: true, AdminStateUp: true,
				HeartbeatTimestamp: at.Add(-20 * time.Second), TunnelingIP: "127.0.0.1", TunnelTypes: []string{"vxlan"},
				Configurations: json.RawMessage(`{"interface_mappings":{"physnet1":"br-ex"},"tunnel_types":["vxlan"],"tunneling_ip":"127.0.0.1","l2_population":true}`)},
			{ID: agentDHCP, AgentType: snapshot.AgentTypeDHCP, Binary: "neutron-dhcp-agent", Host: hostCtl, Alive: true, AdminStateUp: true,
				AvailabilityZone: "nova", HeartbeatTimestamp: at.Add(-12 * time.Second), Configurations: json.RawMessage(`{"dhcp_driver":"neutron.agent.linux.dhcp.Dnsmasq","networks":1,"ports":3}`)},
			{ID: agentL3, AgentType: snapshot.AgentTypeL3, Binary: "neutron-l3-agent", Host: hostCtl, Alive: true, AdminStateUp: true,
				AvailabilityZone: "nova", HeartbeatTimestamp: at.Add(-8 * time.Second), Configurations: json.RawMessage(`{"agent_mode":"legacy","routers":1,"floating_ips":1}`)},
			{ID: agentMeta, AgentType: snapshot.AgentTypeMetadata, Binary: "neutron-metadata-agent", Host: hostCtl, Alive: true, AdminStateUp: true,
				HeartbeatTimestamp: at.Add(-25 * time.Second)},
		},
		DHCPAgents: map[string][]string{netPrivate: {agentDHCP}},
		L3Agents:   map[string][]snapshot.L3Hosting{router1: {{AgentID: agentL3}}},
		ConsoleLog: consoleFixture("cirros-0.6-ok.txt"),
	}
}

// Small mutation helpers for the tables.

func vmPort(s *snapshot.Snapshot) *snapshot.Port { return &s.Ports[0] }

func agent(s *snapshot.Snapshot, id string) *snapshot.Agent { return s.Agent(id) }

func group(s *snapshot.Snapshot, id string) *snapshot.SecurityGroup { return s.SecurityGroup(id) }

func dropRules(g *snapshot.SecurityGroup, keep func(r snapshot.SecurityGroupRule) bool) {
	var rs []snapshot.SecurityGroupRule
	for _, r := range g.Rules {
		if keep(r) {
			rs = append(rs, r)
		}
	}
	g.Rules = rs
}

func dropNetworkPort(s *snapshot.Snapshot, id string) {
	var ps []snapshot.Port
	for _, p := range s.NetworkPorts {
		if p.ID != id {
			ps = append(ps, p)
		}
	}
	s.NetworkPorts = ps
}

func forbid(s *snapshot.Snapshot, sources ...string) {
	for _, src := range sources {
		s.Gaps = append(s.Gaps, snapshot.Gap{Source: src, Kind: snapshot.GapForbidden, Reason: src + " are admin-only", Status: 403})
	}
}

// nonAdmin turns the baseline into what the demo user sees.
func nonAdmin(s *snapshot.Snapshot) {
	s.Cloud.Admin, s.Cloud.User, s.Cloud.Project = false, "demo", "demo"
	s.Server.Host = ""
	for i := range s.Ports {
		s.Ports[i].BindingHostID, s.Ports[i].BindingVIFType, s.Ports[i].BindingVNICType = "", "", ""
	}
	for i := range s.Networks {
		s.Networks[i].Provider = nil
	}
	s.Agents, s.DHCPAgents, s.L3Agents = nil, nil, nil
	for i := range s.Routers {
		s.Routers[i].Distributed, s.Routers[i].HA = nil, nil
	}
	forbid(s, snapshot.SourceAgents, snapshot.SourceDHCPAgents, snapshot.SourceL3Agents, snapshot.SourceProviderFields, snapshot.SourceServerHost)
}
