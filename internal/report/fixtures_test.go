package report

import (
	"encoding/json"
	"net/netip"
	"strings"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Test inputs shaped like the lab: network private 10.0.0.0/24 behind
// router1, whose gateway is on the external network public 172.24.4.0/24;
// groups default and lab-sg; a controller ctl (DHCP, L3, metadata) and a
// compute node cmp1. Results are built by hand: they stand for what the
// catalogue would say, whatever rules it holds today.

const (
	serverID     = "9d1b5f3e-6a2c-4e8b-b7d1-2f4c6a8e0b13"
	portID       = "3f2a9c1e-8d4b-4f3a-9a6e-2c1d0b9e8f7a"
	port2ID      = "6b1e7d3a-5f9c-4a2e-8b0d-1c3f5a7e9b24"
	privateNetID = "c3e8a4d2-7b1f-4e6a-9d5c-0f2b8a6e4d17"
	privateSubID = "e5a1c9f0-3d7b-4c2e-8a6f-b1d4e7c0a925"
	mgmtNetID    = "2e4a6c8b-0d1f-4b3e-a5c7-9e1b3d5f7a08"
	mgmtSubID    = "4c6e8a0d-2f1b-4d3a-b7e9-0a2c4e6b8d15"
	publicNetID  = "f1d7b3a9-6c2e-4b5f-9e8a-0d4c7b2a1e93"
	publicSubID  = "a2c4e6f8-1b3d-4f5a-8c7e-9d0b2f4a6c81"
	dhcpPortID   = "7a4e2c9b-1f6d-4b8a-a3e5-c9d0f2b7e614"
	mgmtDHCPID   = "0f2d4b6a-8c1e-4f3b-9a5d-7e9c1b3a5d42"
	routerID     = "b8f3d6a1-4e2c-4a9b-8d7f-3c5e1a0b9f62"
	routerIfID   = "1c6b9e4f-0a3d-4f7e-b2c8-5d9a6e1f3b40"
	fipID        = "d4b6f8a0-2c4e-4a6b-8f1d-3e5a7c9b0d26"
	defaultSGID  = "5c6f2b8e-9a1d-4e3f-b7c0-6d8e2a4f1b39"
	labSGID      = "8e0a3c5f-7b9d-4f1a-a2c4-e6b8d0f2a457"
	projectID    = "6f3c1a9e2b4d4e8a9c0b7d5e3f1a2c4b"
	agentDHCP    = "a1b2c3d4-0e1f-4a2b-9c3d-4e5f6a7b8c01"
	agentL3      = "a1b2c3d4-0e1f-4a2b-9c3d-4e5f6a7b8c02"
	agentMeta    = "a1b2c3d4-0e1f-4a2b-9c3d-4e5f6a7b8c03"
	agentOVSCtl  = "a1b2c3d4-0e1f-4a2b-9c3d-4e5f6a7b8c04"
	agentOVSCmp1 = "a1b2c3d4-0e1f-4a2b-9c3d-4e5f6a7b8c05"
)

// Values that look like secrets: they sit where a careless renderer could
// pick them up (raw agent configurations, fault details) and must never be
// printed.
const (
	secretPassword = "password=Hunter2-lab-pw"
	secretToken    = "gAAAAABtoken-9f8e7d6c5b4a"
	secretSecret   = "metadata_proxy_shared_secret=s3cr3t-lab"
)

var checkedAt = time.Date(2026, 3, 14, 2, 47, 9, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func sgRule(id, group, dir, eth, proto string, lo, hi int, prefix, remoteGroup string) snapshot.SecurityGroupRule {
	r := snapshot.SecurityGroupRule{ID: id, SecurityGroupID: group, Direction: dir, Ethertype: eth, Protocol: proto, RemoteIPPrefix: prefix, RemoteGroupID: remoteGroup}
	if lo != 0 {
		r.PortRangeMin, r.PortRangeMax = ptr(lo), ptr(hi)
	}
	return r
}

// labSnapshot is web1, healthy, seen by an admin: port on private with a
// floating IP, router1 with its gateway on public, agents all alive.
func labSnapshot() *snapshot.Snapshot {
	conf := json.RawMessage(`{"transport_url":"rabbit://openstack:` + secretPassword + `@ctl:5672/","auth_token":"` + secretToken + `","` + secretSecret + `":true}`)
	s := &snapshot.Snapshot{
		Version:     snapshot.Version,
		CollectedAt: checkedAt,
		Cloud: snapshot.Cloud{
			AuthURL: "http://admin:" + secretPassword + "@192.0.2.10:5000/v3?token=" + secretToken,
			Region:  "RegionOne",
			User:    "admin",
			Project: "demo",
			Admin:   true,
		},
		Query: "web1",
		Server: &snapshot.Server{
			ID: serverID, Name: "web1", Status: "ACTIVE", VMState: "active", Host: "cmp1",
			AvailabilityZone: "nova", ProjectID: projectID,
			SecurityGroups: []string{"default", "lab-sg"},
			Addresses: map[string][]snapshot.ServerAddress{"private": {
				{Addr: "10.0.0.12", Version: 4, Type: "fixed", MAC: "fa:16:3e:4c:2a:91"},
				{Addr: "172.24.4.150", Version: 4, Type: "floating", MAC: "fa:16:3e:4c:2a:91"},
			}},
			Created: checkedAt.Add(-26 * time.Hour),
			Updated: checkedAt.Add(-25 * time.Hour),
		},
		Ports: []snapshot.Port{{
			ID: portID, NetworkID: privateNetID, ProjectID: projectID, DeviceID: serverID,
			DeviceOwner: "compute:nova", Status: "ACTIVE", AdminStateUp: true, MACAddress: "fa:16:3e:4c:2a:91",
			FixedIPs:            []snapshot.FixedIP{{SubnetID: privateSubID, IPAddress: "10.0.0.12"}},
			SecurityGroups:      []string{defaultSGID, labSGID},
			PortSecurityEnabled: ptr(true),
			BindingHostID:       "cmp1", BindingVIFType: "ovs", BindingVNICType: "normal",
		}},
		SecurityGroups: []snapshot.SecurityGroup{
			{ID: defaultSGID, Name: "default", ProjectID: projectID, Rules: []snapshot.SecurityGroupRule{
				sgRule("0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d01", defaultSGID, "ingress", "IPv4", "", 0, 0, "", defaultSGID),
				sgRule("0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d02", defaultSGID, "ingress", "IPv6", "", 0, 0, "", defaultSGID),
				sgRule("0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d03", defaultSGID, "egress", "IPv4", "", 0, 0, "", ""),
				sgRule("0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d04", defaultSGID, "egress", "IPv6", "", 0, 0, "", ""),
			}},
			{ID: labSGID, Name: "lab-sg", ProjectID: projectID, Rules: []snapshot.SecurityGroupRule{
				sgRule("1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e01", labSGID, "ingress", "IPv4", "icmp", 0, 0, "0.0.0.0/0", ""),
				sgRule("1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e02", labSGID, "ingress", "IPv4", "tcp", 22, 22, "0.0.0.0/0", ""),
				sgRule("1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e03", labSGID, "egress", "IPv4", "", 0, 0, "", ""),
			}},
		},
		Networks: []snapshot.Network{
			{ID: privateNetID, Name: "private", ProjectID: projectID, Status: "ACTIVE", AdminStateUp: true, MTU: 1450,
				Subnets: []string{privateSubID}, Provider: &snapshot.Provider{NetworkType: "vxlan", SegmentationID: ptr(1042)}},
			{ID: publicNetID, Name: "public", Status: "ACTIVE", AdminStateUp: true, External: true, MTU: 1500,
				Subnets: []string{publicSubID}, Provider: &snapshot.Provider{NetworkType: "flat", PhysicalNetwork: "public"}},
		},
		Subnets: []snapshot.Subnet{
			{ID: privateSubID, Name: "private-subnet", NetworkID: privateNetID, ProjectID: projectID, CIDR: "10.0.0.0/24",
				IPVersion: 4, GatewayIP: "10.0.0.1", EnableDHCP: true, DNSNameservers: []string{"192.0.2.53"},
				AllocationPools: []snapshot.AllocationPool{{Start: "10.0.0.2", End: "10.0.0.254"}}},
			{ID: publicSubID, Name: "public-subnet", NetworkID: publicNetID, CIDR: "172.24.4.0/24",
				IPVersion: 4, GatewayIP: "172.24.4.1", EnableDHCP: false,
				AllocationPools: []snapshot.AllocationPool{{Start: "172.24.4.100", End: "172.24.4.200"}}},
		},
		NetworkPorts: []snapshot.Port{
			{ID: dhcpPortID, NetworkID: privateNetID, ProjectID: projectID, DeviceID: "dhcp3b5c7e9a-ctl-" + privateNetID,
				DeviceOwner: snapshot.OwnerDHCP, Status: "ACTIVE", AdminStateUp: true, MACAddress: "fa:16:3e:11:22:33",
				FixedIPs: []snapshot.FixedIP{{SubnetID: privateSubID, IPAddress: "10.0.0.2"}}, BindingHostID: "ctl", BindingVIFType: "ovs"},
			{ID: routerIfID, NetworkID: privateNetID, ProjectID: projectID, DeviceID: routerID,
				DeviceOwner: snapshot.OwnerRouterInterface, Status: "ACTIVE", AdminStateUp: true, MACAddress: "fa:16:3e:7d:5e:02",
				FixedIPs: []snapshot.FixedIP{{SubnetID: privateSubID, IPAddress: "10.0.0.1"}}, BindingHostID: "ctl", BindingVIFType: "ovs"},
		},
		Routers: []snapshot.Router{{
			ID: routerID, Name: "router1", ProjectID: projectID, Status: "ACTIVE", AdminStateUp: true,
			ExternalGateway: &snapshot.ExternalGateway{NetworkID: publicNetID, EnableSNAT: ptr(true),
				ExternalFixedIPs: []snapshot.FixedIP{{SubnetID: publicSubID, IPAddress: "172.24.4.201"}}},
			Distributed: ptr(false), HA: ptr(false),
		}},
		FloatingIPs: []snapshot.FloatingIP{{
			ID: fipID, FloatingIPAddress: "172.24.4.150", FloatingNetworkID: publicNetID,
			FixedIPAddress: "10.0.0.12", PortID: portID, RouterID: routerID, Status: "ACTIVE",
		}},
		Agents: []snapshot.Agent{
			{ID: agentDHCP, AgentType: snapshot.AgentTypeDHCP, Binary: "neutron-dhcp-agent", Host: "ctl", Alive: true, AdminStateUp: true, Configurations: conf},
			{ID: agentL3, AgentType: snapshot.AgentTypeL3, Binary: "neutron-l3-agent", Host: "ctl", Alive: true, AdminStateUp: true, Configurations: conf},
			{ID: agentMeta, AgentType: snapshot.AgentTypeMetadata, Binary: "neutron-metadata-agent", Host: "ctl", Alive: true, AdminStateUp: true, Configurations: conf},
			{ID: agentOVSCtl, AgentType: snapshot.AgentTypeOVS, Binary: "neutron-openvswitch-agent", Host: "ctl", Alive: true, AdminStateUp: true,
				TunnelingIP: "192.0.2.11", TunnelTypes: []string{"vxlan"}, Configurations: conf},
			{ID: agentOVSCmp1, AgentType: snapshot.AgentTypeOVS, Binary: "neutron-openvswitch-agent", Host: "cmp1", Alive: true, AdminStateUp: true,
				TunnelingIP: "192.0.2.12", TunnelTypes: []string{"vxlan"}, Configurations: conf},
		},
		DHCPAgents: map[string][]string{privateNetID: {agentDHCP}},
		L3Agents:   map[string][]snapshot.L3Hosting{routerID: {{AgentID: agentL3}}},
		Stats:      snapshot.Stats{Requests: 14, RoundTrips: 4, Duration: 812 * time.Millisecond},
	}
	return s
}

// Rules the hand-made results name, by hop, in catalogue-like order.
var (
	instanceRules = []string{"instance/not-active", "instance/no-network-port"}
	portRules     = []string{"port/down", "port/admin-down", "port/binding-failed", "port/no-fixed-ip"}
	sgRules       = []string{"security-group/icmp-ingress-missing", "security-group/egress-missing"}
	subnetRules   = []string{"subnet/dhcp-disabled", "subnet/no-gateway"}
	networkRules  = []string{"network/admin-down", "network/not-active", "network/no-dhcp-port"}
	agentRules    = []string{"agent/dhcp-not-hosting", "agent/dhcp-down", "agent/l2-down", "agent/l3-down"}
	routerRules   = []string{"router/missing", "router/no-gateway", "router/not-scheduled"}
	fipRules      = []string{"floating-ip/none", "floating-ip/down"}
)

// passedExcept lists every rule above but the ones named.
func passedExcept(skip ...string) []string {
	out := []string{}
	for _, group := range [][]string{instanceRules, portRules, sgRules, subnetRules, networkRules, agentRules, routerRules, fipRules} {
		for _, r := range group {
			if !contains(skip, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

func healthy() *Report {
	return &Report{
		Snapshot: labSnapshot(),
		Result:   rule.Result{Findings: []rule.Finding{}, Skipped: []rule.Skip{}, Passed: passedExcept()},
		Tool:     "hoofbeat 0.4.0",
	}
}

// icmpAndNoRouter: lab-sg lost its ICMP rule and router1 lost its leg on
// private-subnet (so the floating IP went too). The operator also asked
// about SSH from their desk.
func icmpAndNoRouter() *Report {
	s := labSnapshot()
	s.Server.Addresses["private"] = s.Server.Addresses["private"][:1]
	s.SecurityGroups[1].Rules = s.SecurityGroups[1].Rules[1:]
	s.NetworkPorts = s.NetworkPorts[:1]
	s.FloatingIPs = nil
	icmp := rule.Finding{
		Rule: "security-group/icmp-ingress-missing", Severity: rule.Error, Domain: "security-group",
		Subject: rule.Subject{Kind: "port", ID: portID},
		Summary: "no rule in default, lab-sg admits ICMP to 10.0.0.12: pings are dropped at the port",
		Evidence: []string{
			"port " + portID + " (10.0.0.12) is in groups default, lab-sg",
			"default: ingress IPv4 any from group default, ingress IPv6 any from group default",
			"lab-sg: ingress IPv4 tcp 22 from 0.0.0.0/0",
		},
		Remediation: lines("openstack security group rule create --ingress --ethertype IPv4 --protocol icmp --remote-ip 0.0.0.0/0 lab-sg"),
		Verify: lines(
			"openstack security group rule list lab-sg --protocol icmp --ingress",
			"ping -c 3 10.0.0.12   # from the DHCP namespace: ip netns exec qdhcp-"+privateNetID+" ping -c 3 10.0.0.12",
		),
	}
	missing := rule.Finding{
		Rule: "router/missing", Severity: rule.Error, Domain: "router",
		Subject: rule.Subject{Kind: "subnet", ID: privateSubID, Name: "private-subnet"},
		Summary: "no router interface on private-subnet: nothing outside private can reach web1",
		Evidence: []string{
			"private-subnet 10.0.0.0/24 gateway 10.0.0.1: no port with device_owner network:router_interface* holds 10.0.0.1",
			"router1 (" + routerID + ") has its gateway on public but no interface on private-subnet",
		},
		Remediation: lines("openstack router add subnet router1 private-subnet"),
		Verify:      lines("openstack port list --router router1 --fixed-ip subnet=private-subnet"),
	}
	none := rule.Finding{
		Rule: "floating-ip/none", Severity: rule.Info, Domain: "floating-ip",
		Subject:  rule.Subject{Kind: "port", ID: portID},
		Summary:  "web1 has no floating IP: from outside private it is unreachable by design",
		Evidence: []string{"no floating IP has port_id " + portID},
		Remediation: lines(
			"openstack floating ip create public",
			"openstack server add floating ip web1 NEW_ADDRESS",
		),
		Verify: lines("openstack floating ip list --port " + portID),
	}
	return &Report{
		Snapshot: s,
		Result: rule.Result{
			Findings: []rule.Finding{icmp, missing, none},
			Skipped:  []rule.Skip{},
			Passed:   passedExcept(icmp.Rule, missing.Rule, none.Rule),
		},
		Flows: []rule.Flow{{Spec: "tcp/22", Protocol: "tcp", PortMin: 22, PortMax: 22, From: netip.MustParsePrefix("203.0.113.7/32")}},
		Tool:  "hoofbeat 0.4.0",
	}
}

// nonAdmin is web1, healthy, seen by the project's member: no host, no
// bindings, no provider fields, no agents.
func nonAdmin() *Report {
	s := labSnapshot()
	s.Cloud.User, s.Cloud.Admin = "demo", false
	s.Server.Host = ""
	for i := range s.Ports {
		s.Ports[i].BindingHostID, s.Ports[i].BindingVIFType, s.Ports[i].BindingVNICType = "", "", ""
	}
	for i := range s.NetworkPorts {
		s.NetworkPorts[i].BindingHostID, s.NetworkPorts[i].BindingVIFType = "", ""
	}
	for i := range s.Networks {
		s.Networks[i].Provider = nil
	}
	s.Routers[0].Distributed, s.Routers[0].HA = nil, nil
	s.Agents, s.DHCPAgents, s.L3Agents = nil, nil, nil
	s.Gaps = []snapshot.Gap{
		{Source: snapshot.SourceServerHost, Kind: snapshot.GapForbidden, Reason: "the server's host is admin-only"},
		{Source: snapshot.SourceProviderFields, Kind: snapshot.GapForbidden, Reason: "provider attributes are admin-only"},
		{Source: snapshot.SourceAgents, Kind: snapshot.GapForbidden, Reason: "agents are hidden from non-admin users", Status: 403},
		{Source: snapshot.SourceDHCPAgents, Kind: snapshot.GapForbidden, Reason: "DHCP agent scheduling is admin-only", Status: 403},
		{Source: snapshot.SourceL3Agents, Kind: snapshot.GapForbidden, Reason: "L3 agent scheduling is admin-only", Status: 403},
	}
	agentsHidden := "needs admin: agents are hidden from non-admin users"
	skipped := []rule.Skip{
		{Rule: "port/binding-failed", Domain: "port", Reason: "needs admin: port bindings are admin-only", Partial: true},
		{Rule: "agent/dhcp-not-hosting", Domain: "agent", Reason: "needs admin: DHCP agent scheduling is admin-only"},
		{Rule: "agent/dhcp-down", Domain: "agent", Reason: agentsHidden},
		{Rule: "agent/l2-down", Domain: "agent", Reason: agentsHidden},
		{Rule: "agent/l3-down", Domain: "agent", Reason: agentsHidden},
		{Rule: "router/not-scheduled", Domain: "router", Reason: "needs admin: L3 agent scheduling is admin-only"},
	}
	var names []string
	for _, sk := range skipped {
		names = append(names, sk.Rule)
	}
	return &Report{
		Snapshot: s,
		Result:   rule.Result{Findings: []rule.Finding{}, Skipped: skipped, Passed: passedExcept(names...)},
		Tool:     "hoofbeat 0.4.0",
	}
}

// serverError is web-err: scheduling failed, Nova put it in ERROR and
// released its port.
func serverError() *Report {
	s := labSnapshot()
	const errID = "e7c9a1b3-5d2f-4e6a-8b0c-3d5f7a9c1e68"
	s.Query = "web-err"
	s.Server = &snapshot.Server{
		ID: errID, Name: "web-err", Status: "ERROR", VMState: "error", AvailabilityZone: "nova", ProjectID: projectID,
		Fault: &snapshot.Fault{
			Code:    500,
			Message: "No valid host was found. There are not enough hosts available.",
			Details: "Traceback (most recent call last):\n  File \"/opt/stack/nova/nova/conductor/manager.py\", line 1580 ... " + secretPassword,
			Created: checkedAt.Add(-3 * time.Minute),
		},
		SecurityGroups: []string{"default"},
		Created:        checkedAt.Add(-4 * time.Minute),
		Updated:        checkedAt.Add(-3 * time.Minute),
	}
	s.Ports, s.FloatingIPs = nil, nil
	notActive := rule.Finding{
		Rule: "instance/not-active", Severity: rule.Error, Domain: "instance",
		Subject: rule.Subject{Kind: "server", ID: errID, Name: "web-err"},
		Summary: "server web-err is ERROR, not ACTIVE",
		Evidence: []string{
			"status: ERROR",
			"fault (500): No valid host was found. There are not enough hosts available.",
		},
		Remediation: lines(
			"openstack server show "+errID+" -c fault",
			"openstack server rebuild "+errID+"   # or delete and re-create once the fault's cause is fixed",
		),
		Verify: lines("openstack server show " + errID + " -c status"),
	}
	noPort := rule.Finding{
		Rule: "instance/no-network-port", Severity: rule.Warning, Domain: "instance",
		Subject:  rule.Subject{Kind: "server", ID: errID, Name: "web-err"},
		Summary:  "server web-err has no network port",
		Evidence: []string{"GET /v2.0/ports?device_id=" + errID + " returned no port"},
		Remediation: lines(
			"openstack server add network web-err private   # once the server is ACTIVE",
		),
		Verify: lines("openstack port list --server web-err"),
	}
	return &Report{
		Snapshot: s,
		Result: rule.Result{
			Findings: []rule.Finding{notActive, noPort},
			Skipped:  []rule.Skip{},
			Passed:   passedExcept(notActive.Rule, noPort.Rule, "floating-ip/none"),
		},
		Tool: "hoofbeat 0.4.0",
	}
}

// twoPorts is web1 with a second port on mgmt (10.0.5.0/24, no router) that
// the L2 agent never wired.
func twoPorts() *Report {
	s := labSnapshot()
	s.Server.Addresses["mgmt"] = []snapshot.ServerAddress{{Addr: "10.0.5.7", Version: 4, Type: "fixed", MAC: "fa:16:3e:9b:0c:5d"}}
	s.Ports = append(s.Ports, snapshot.Port{
		ID: port2ID, Name: "web1-mgmt", NetworkID: mgmtNetID, ProjectID: projectID, DeviceID: serverID,
		DeviceOwner: "compute:nova", Status: "DOWN", AdminStateUp: true, MACAddress: "fa:16:3e:9b:0c:5d",
		FixedIPs:            []snapshot.FixedIP{{SubnetID: mgmtSubID, IPAddress: "10.0.5.7"}},
		SecurityGroups:      []string{defaultSGID},
		PortSecurityEnabled: ptr(true),
		BindingHostID:       "cmp1", BindingVIFType: "ovs", BindingVNICType: "normal",
	})
	s.Networks = append(s.Networks, snapshot.Network{ID: mgmtNetID, Name: "mgmt", ProjectID: projectID, Status: "ACTIVE",
		AdminStateUp: true, MTU: 1450, Subnets: []string{mgmtSubID}, Provider: &snapshot.Provider{NetworkType: "vxlan", SegmentationID: ptr(1077)}})
	s.Subnets = append(s.Subnets, snapshot.Subnet{ID: mgmtSubID, Name: "mgmt-subnet", NetworkID: mgmtNetID, ProjectID: projectID,
		CIDR: "10.0.5.0/24", IPVersion: 4, GatewayIP: "10.0.5.1", EnableDHCP: true,
		AllocationPools: []snapshot.AllocationPool{{Start: "10.0.5.2", End: "10.0.5.254"}}})
	s.NetworkPorts = append(s.NetworkPorts, snapshot.Port{ID: mgmtDHCPID, NetworkID: mgmtNetID, ProjectID: projectID,
		DeviceID: "dhcp3b5c7e9a-ctl-" + mgmtNetID, DeviceOwner: snapshot.OwnerDHCP, Status: "ACTIVE", AdminStateUp: true,
		FixedIPs: []snapshot.FixedIP{{SubnetID: mgmtSubID, IPAddress: "10.0.5.2"}}, BindingHostID: "ctl", BindingVIFType: "ovs"})
	s.DHCPAgents[mgmtNetID] = []string{agentDHCP}
	down := rule.Finding{
		Rule: "port/down", Severity: rule.Error, Domain: "port",
		Subject: rule.Subject{Kind: "port", ID: port2ID, Name: "web1-mgmt"},
		Summary: "port web1-mgmt is DOWN while web1 is ACTIVE: the L2 agent on cmp1 never wired it",
		Evidence: []string{
			"port " + port2ID + " status DOWN, admin_state_up true, binding:host_id cmp1, binding:vif_type ovs",
			"Open vSwitch agent on cmp1 (" + agentOVSCmp1 + ") is alive",
		},
		Remediation: lines(
			"ssh cmp1 journalctl -u neutron-openvswitch-agent --since -1h | grep "+port2ID[:11],
			"ssh cmp1 systemctl restart neutron-openvswitch-agent",
		),
		Verify: lines("openstack port show " + port2ID + " -c status"),
	}
	return &Report{
		Snapshot: s,
		Result: rule.Result{
			Findings: []rule.Finding{down},
			Skipped:  []rule.Skip{},
			Passed:   passedExcept(down.Rule),
		},
		Tool: "hoofbeat 0.4.0",
	}
}

// notFound is a query for a server the collector could not find.
func notFound() *Report {
	s := &snapshot.Snapshot{Version: snapshot.Version, CollectedAt: checkedAt, Query: "web9",
		Gaps: []snapshot.Gap{{Source: snapshot.SourceServer, Kind: snapshot.GapNotFound, Reason: "no server named web9", Status: 404}}}
	return &Report{Snapshot: s, Tool: "hoofbeat 0.4.0", Result: rule.Result{
		Skipped: []rule.Skip{{Rule: "instance/not-active", Domain: "instance", Reason: "no server in the snapshot"}},
	}}
}

// cases are the golden scenarios, by file name.
var cases = []struct {
	name string
	rep  func() *Report
}{
	{"healthy", healthy},
	{"icmp-and-no-router", icmpAndNoRouter},
	{"non-admin", nonAdmin},
	{"server-error", serverError},
	{"two-ports", twoPorts},
}

// lines builds command lines from their printed form, for fixtures: words
// split at spaces, " | " between commands, "   # " before a comment.
func lines(ls ...string) []shell.Cmd {
	var out []shell.Cmd
	for _, l := range ls {
		l, comment, _ := strings.Cut(l, "   # ")
		var c shell.Cmd
		for i, stage := range strings.Split(l, " | ") {
			if i == 0 {
				c = shell.Command(strings.Fields(stage)...)
			} else {
				c = c.Pipe(strings.Fields(stage)...)
			}
		}
		out = append(out, c.Comment(comment))
	}
	return out
}
