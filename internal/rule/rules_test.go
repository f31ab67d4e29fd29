package rule

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/shell/shelltest"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

type expect struct {
	rule     string
	severity Severity
	summary  []string // substrings of the summary
	evidence []string // each a substring of some evidence line
	fix      []string // each a substring of some remediation line
	look     []string // each a substring of some line to look with
}

type ruleCase struct {
	name   string
	mutate func(s *snapshot.Snapshot)
	checks []string // --check specs
	froms  []string // --from sources
	want   []expect
	absent []string // rules that must not fire
	first  string   // rule of the top-ranked finding
	// skipped are rules that must appear in Skipped (whole or partial).
	skipped []string
}

// ruleCases is the table every rule test and TestEveryRuleFires read: a
// mutation of the healthy baseline, and what it must (and must not) produce.
var ruleCases = []ruleCase{
	// Instance.
	{
		// Nova refuses to attach an interface to a server in ERROR: its
		// missing port follows from the state, whose fix comes first.
		name: "server in ERROR without a port",
		mutate: func(s *snapshot.Snapshot) {
			s.Server.Status = "ERROR"
			s.Server.Fault = &snapshot.Fault{Code: 500, Message: "No valid host was found."}
			s.Ports, s.FloatingIPs = nil, nil
		},
		want: []expect{
			{rule: "instance/not-active", severity: Error, evidence: []string{"fault (500): No valid host was found."}},
			{rule: "instance/no-network-port", severity: Info, summary: []string{"it follows from instance/not-active"},
				fix: []string{"hoofbeat explain instance/not-active"}},
		},
		first: "instance/not-active",
	},
	{
		name:   "server shut off",
		mutate: func(s *snapshot.Snapshot) { s.Server.Status = "SHUTOFF"; vmPort(s).Status = "DOWN" },
		want:   []expect{{rule: "instance/not-active", severity: Error, fix: []string{"openstack server start " + srvID}}},
		absent: []string{"port/down"},
		first:  "instance/not-active",
	},
	{
		name: "ports deleted behind nova's back",
		mutate: func(s *snapshot.Snapshot) {
			s.Ports, s.FloatingIPs = nil, nil
		},
		want: []expect{{rule: "instance/no-network-port", severity: Error,
			evidence: []string{"ports with device_id " + srvID + ": none", "nova still lists addresses on private: 10.0.0.12"},
			fix:      []string{"openstack server add network " + srvID + " private"}}},
		absent: []string{"floating-ip/none", "router/missing", "security-group/icmp-ingress-missing"},
		first:  "instance/no-network-port",
	},
	// The guest's console log (console_test.go has a case per fixture).
	{
		name:   "console: the guest got no lease",
		mutate: func(s *snapshot.Snapshot) { s.ConsoleLog = consoleFixture("cirros-0.6-no-lease.txt") },
		want: []expect{
			{rule: "instance/dhcp-failed", severity: Error, evidence: []string{"console line 9/25: udhcpc: no lease, failing"}, fix: []string{"tcpdump"}},
			{rule: "instance/metadata-unreachable", severity: Info, summary: []string{"the guest confirms instance/dhcp-failed"}},
		},
		first: "instance/dhcp-failed",
	},
	{
		name: "console: DHCP disabled, the guest confirms it",
		mutate: func(s *snapshot.Snapshot) {
			s.Subnets[0].EnableDHCP = false
			s.ConsoleLog = consoleFixture("cirros-0.4-no-lease.txt")
		},
		want:  []expect{{rule: "instance/dhcp-failed", severity: Info, summary: []string{"the guest confirms subnet/dhcp-disabled"}}},
		first: "subnet/dhcp-disabled",
	},
	{
		name:   "console: metadata unreachable",
		mutate: func(s *snapshot.Snapshot) { s.ConsoleLog = consoleFixture("ubuntu-22.04-metadata-timeout.txt") },
		want: []expect{{rule: "instance/metadata-unreachable", severity: Warning, summary: []string{"(timed out)"},
			evidence: []string{"Giving up on md from"}}},
		absent: []string{"instance/dhcp-failed"},
	},
	{
		name:   "console: cloud-init crashed",
		mutate: func(s *snapshot.Snapshot) { s.ConsoleLog = consoleFixture("ubuntu-22.04-cloud-init-traceback.txt") },
		want: []expect{{rule: "instance/cloud-init-failed", severity: Warning, evidence: []string{"PermissionError"},
			fix: []string{"cloud-init status --long"}}},
	},
	{
		name:   "console: a lease from a rogue DHCP server",
		mutate: func(s *snapshot.Snapshot) { s.ConsoleLog = consoleFixture("cirros-0.6-wrong-lease.txt") },
		want: []expect{{rule: "instance/guest-network-config", severity: Warning, summary: []string{"192.168.1.57, not its port's 10.0.0.12"},
			fix: []string{"NETMASK=255.255.255.0"}}},
	},

	// Port.
	{
		name:   "port admin-down",
		mutate: func(s *snapshot.Snapshot) { vmPort(s).AdminStateUp = false; vmPort(s).Status = "DOWN" },
		want: []expect{{rule: "port/admin-down", severity: Error, evidence: []string{"admin_state_up: false", "status: DOWN"},
			fix: []string{"openstack port set --enable " + portVM}}},
		absent: []string{"port/down"},
		first:  "port/admin-down",
	},
	{
		name:   "port DOWN while the agent is alive",
		mutate: func(s *snapshot.Snapshot) { vmPort(s).Status = "DOWN" },
		want: []expect{{rule: "port/down", severity: Error,
			summary:  []string{"is DOWN while server vm1 is ACTIVE"},
			evidence: []string{"status: DOWN", "Linux bridge agent 4e3d2c1b… on ctl: alive: true"},
			fix:      []string{"systemctl restart neutron-linuxbridge-agent   # on host ctl", "ip link show tap1a2b3c4d-5e", "openstack server reboot --hard " + srvID}}},
		first: "port/down",
	},
	{
		name:   "port BUILD, agents hidden",
		mutate: func(s *snapshot.Snapshot) { vmPort(s).Status = "BUILD"; nonAdmin(s) },
		want:   []expect{{rule: "port/down", severity: Error, evidence: []string{"status: BUILD"}, fix: []string{"journalctl -u neutron-openvswitch-agent"}}},
	},
	{
		name: "binding failed",
		mutate: func(s *snapshot.Snapshot) {
			vmPort(s).BindingVIFType, vmPort(s).Status = "binding_failed", "DOWN"
		},
		want: []expect{{rule: "port/binding-failed", severity: Error,
			summary:  []string{"binding failed on host ctl"},
			evidence: []string{"binding:vif_type: binding_failed", "Linux bridge agent 4e3d2c1b… on ctl: alive: true"},
			fix:      []string{"openstack port set --host ctl " + portVM}}},
		absent: []string{"port/down"},
		first:  "port/binding-failed",
	},
	{
		name: "binding failed: physical network not mapped",
		mutate: func(s *snapshot.Snapshot) {
			s.Networks[0].Provider = &snapshot.Provider{NetworkType: "vlan", PhysicalNetwork: "physnet2", SegmentationID: ptr(101)}
			vmPort(s).BindingVIFType, vmPort(s).Status = "binding_failed", "DOWN"
		},
		want: []expect{{rule: "port/binding-failed", severity: Error,
			evidence: []string{"the agent maps no interface or bridge for physical network physnet2 of network private (mappings: physnet1=br-ex)"},
			fix:      []string{"systemctl restart neutron-linuxbridge-agent   # on host ctl, after adding physnet2:<interface or bridge> to physical_interface_mappings in [linux_bridge]"}}},
	},
	{
		name:   "stale binding after a migration",
		mutate: func(s *snapshot.Snapshot) { vmPort(s).BindingHostID = "cmp2" },
		want: []expect{
			{rule: "port/binding-failed", severity: Error, summary: []string{"is bound to host cmp2 but the server runs on ctl"},
				fix: []string{"openstack port set --host ctl " + portVM}},
			{rule: "agent/l2-down", severity: Error, summary: []string{"no L2 agent is registered on host cmp2"}},
		},
	},
	{
		name:   "unbound port on an ACTIVE server",
		mutate: func(s *snapshot.Snapshot) { vmPort(s).BindingVIFType, vmPort(s).BindingHostID = "unbound", "" },
		want:   []expect{{rule: "port/binding-failed", severity: Error, summary: []string{"is unbound although the server is ACTIVE"}}},
	},
	{
		name: "unbound port of a shelved server is normal",
		mutate: func(s *snapshot.Snapshot) {
			s.Server.Status, s.Server.Host = "SHELVED_OFFLOADED", ""
			vmPort(s).BindingVIFType, vmPort(s).BindingHostID, vmPort(s).Status = "unbound", "", "DOWN"
		},
		want:   []expect{{rule: "instance/not-active", severity: Error, fix: []string{"openstack server unshelve " + srvID}}},
		absent: []string{"port/binding-failed", "port/down", "agent/l2-down"},
	},
	{
		name:    "binding hidden without admin",
		mutate:  nonAdmin,
		absent:  []string{"port/binding-failed", "agent/l2-down"},
		skipped: []string{"port/binding-failed", "agent/l2-down", "agent/dhcp-down", "router/not-scheduled", "network/segment", "network/mtu-mismatch"},
	},
	{
		name: "port without fixed IP on an exhausted subnet",
		mutate: func(s *snapshot.Snapshot) {
			vmPort(s).FixedIPs, s.FloatingIPs = nil, nil
			s.Subnets[0].AllocationPools = []snapshot.AllocationPool{{Start: "10.0.0.100", End: "10.0.0.200"}}
			s.IPAvailability = []snapshot.NetworkIPAvailability{{NetworkID: netPrivate, Subnets: []snapshot.SubnetIPAvailability{
				{SubnetID: subPrivate, CIDR: "10.0.0.0/24", IPVersion: 4, TotalIPs: "101", UsedIPs: "103"}}}}
		},
		want: []expect{
			{rule: "port/no-fixed-ip", severity: Error,
				evidence: []string{"fixed_ips: none", "used_ips 103 of total_ips 101 (exhausted: see subnet/pool-exhausted)"},
				fix:      []string{"first free an address or widen the pool of 10.0.0.0/24", "openstack port set --fixed-ip subnet=" + subPrivate + " " + portVM}},
			{rule: "subnet/pool-exhausted", severity: Error,
				summary: []string{"has no free address: 103 of 101 used"},
				fix:     []string{"openstack subnet set --allocation-pool start=10.0.0.3,end=10.0.0.99 " + subPrivate}},
		},
		first: "port/no-fixed-ip",
	},

	// Security groups.
	{
		name:   "only the default group: the remote-group trap",
		mutate: func(s *snapshot.Snapshot) { vmPort(s).SecurityGroups = []string{sgDefault} },
		want: []expect{{rule: "security-group/icmp-ingress-missing", severity: Error,
			summary: []string{"security groups default of port 1a2b3c4d… 10.0.0.12 admit no ICMP echo request over IPv4"},
			evidence: []string{
				"rule " + ruleDefIn4 + " of default admits ICMP only from members of group default (" + sgDefault + ") (remote_group_id)",
				"the default group's trap",
			},
			fix: []string{"openstack security group rule create --ingress --ethertype IPv4 --protocol icmp --remote-ip 0.0.0.0/0 " + sgDefault}}},
		first: "security-group/icmp-ingress-missing",
	},
	{
		name: "ICMP admitted for echo replies only",
		mutate: func(s *snapshot.Snapshot) {
			r := &group(s, sgLab).Rules[0]
			r.PortRangeMin, r.PortRangeMax = ptr(0), nil
		},
		want: []expect{{rule: "security-group/icmp-ingress-missing", severity: Error,
			evidence: []string{"admits icmp type 0 but not echo request (type 8)"},
			fix:      []string{"--protocol icmp --remote-ip 0.0.0.0/0 " + sgLab + "   # lab-sg"}}},
	},
	{
		name:   "ICMP by protocol number is ping",
		mutate: func(s *snapshot.Snapshot) { group(s, sgLab).Rules[0].Protocol = "1" },
		absent: []string{"security-group/icmp-ingress-missing"},
	},
	{
		name: "echo request by type and code is ping",
		mutate: func(s *snapshot.Snapshot) {
			r := &group(s, sgLab).Rules[0]
			r.PortRangeMin, r.PortRangeMax = ptr(8), ptr(0)
		},
		absent: []string{"security-group/icmp-ingress-missing"},
	},
	{
		name: "an any-protocol rule from a prefix admits ping",
		mutate: func(s *snapshot.Snapshot) {
			g := group(s, sgLab)
			g.Rules[0].Protocol, g.Rules[0].RemoteIPPrefix = "", "192.168.0.0/16"
		},
		absent: []string{"security-group/icmp-ingress-missing"},
	},
	{
		name: "IPv6 address without an ICMPv6 rule",
		mutate: func(s *snapshot.Snapshot) {
			s.Subnets = append(s.Subnets, snapshot.Subnet{ID: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", Name: "private-v6", NetworkID: netPrivate,
				CIDR: "fd12:3456:789a::/64", IPVersion: 6, GatewayIP: "fd12:3456:789a::1", EnableDHCP: true, IPv6RAMode: "slaac", IPv6AddressMode: "slaac"})
			vmPort(s).FixedIPs = append(vmPort(s).FixedIPs, snapshot.FixedIP{SubnetID: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", IPAddress: "fd12:3456:789a::12"})
		},
		want: []expect{{rule: "security-group/icmp-ingress-missing", severity: Error,
			summary: []string{"admit no ICMP echo request over IPv6"},
			fix:     []string{"--ethertype IPv6 --protocol ipv6-icmp --remote-ip ::/0 " + sgLab}}},
	},
	{
		name: "legacy icmp name under IPv6 admits ICMPv6",
		mutate: func(s *snapshot.Snapshot) {
			s.Subnets = append(s.Subnets, snapshot.Subnet{ID: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", NetworkID: netPrivate,
				CIDR: "fd12:3456:789a::/64", IPVersion: 6, GatewayIP: "fd12:3456:789a::1", EnableDHCP: true})
			vmPort(s).FixedIPs = append(vmPort(s).FixedIPs, snapshot.FixedIP{SubnetID: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", IPAddress: "fd12:3456:789a::12"})
			g := group(s, sgLab)
			g.Rules = append(g.Rules, snapshot.SecurityGroupRule{ID: "33333333-aaaa-4bbb-8ccc-000000000001", Direction: "ingress", Ethertype: "IPv6", Protocol: "icmp", RemoteIPPrefix: "::/0"})
		},
		absent: []string{"security-group/icmp-ingress-missing"},
	},
	{
		name:   "port with no security group at all",
		mutate: func(s *snapshot.Snapshot) { vmPort(s).SecurityGroups = nil },
		want: []expect{
			{rule: "security-group/icmp-ingress-missing", severity: Error,
				summary: []string{"has no security group: all inbound IPv4, ICMP included, is dropped"},
				fix:     []string{"openstack security group create vm1-sg", "openstack port set --security-group vm1-sg " + portVM}},
			{rule: "security-group/egress-missing", severity: Warning,
				summary: []string{"has no security group: besides inbound, the guest cannot initiate anything over IPv4"}},
		},
	},
	{
		name: "a group of the port missing from the snapshot",
		mutate: func(s *snapshot.Snapshot) {
			vmPort(s).SecurityGroups = []string{sgDefault, "deadbeef-0000-4000-8000-000000000000"}
		},
		absent:  []string{"security-group/icmp-ingress-missing"},
		skipped: []string{"security-group/icmp-ingress-missing"},
	},
	{
		name:   "flow not admitted at all",
		mutate: withMembers,
		checks: []string{"tcp/80"},
		froms:  []string{"203.0.113.0/24"},
		want: []expect{{rule: "security-group/ingress-missing", severity: Error,
			summary:  []string{"no ingress rule of default, lab-sg admits tcp/80 from 203.0.113.0/24 to port 1a2b3c4d…"},
			evidence: []string{"not admitted: tcp/80 from 203.0.113.0/24"},
			fix:      []string{"openstack security group rule create --ingress --ethertype IPv4 --protocol tcp --dst-port 80 --remote-ip 203.0.113.0/24 " + sgLab}}},
	},
	{
		name:   "flow from anywhere admitted only from the group's members",
		mutate: withMembers,
		checks: []string{"tcp/80"},
		want: []expect{{rule: "security-group/ingress-missing", severity: Error,
			summary:  []string{"tcp/80 from 0.0.0.0/0 is only partly admitted to port 1a2b3c4d… 10.0.0.12: tcp/80 from 0.0.0.0/0 except 10.0.0.5/32, 10.0.0.12/32 is not"},
			evidence: []string{"admitted in part by rule " + ruleDefIn4 + " of default: ingress IPv4 any protocol from members of group default (" + sgDefault + ")"},
			fix:      []string{"openstack security group rule create --ingress --ethertype IPv4 --protocol tcp --dst-port 80 --remote-ip 0.0.0.0/0 " + sgLab}}},
	},
	{
		name:   "flow admitted: no finding",
		checks: []string{"tcp/22", "icmp/8"},
		froms:  []string{"203.0.113.7"},
		absent: []string{"security-group/ingress-missing"},
	},
	{
		name:   "flow partly admitted by prefix",
		mutate: func(s *snapshot.Snapshot) { withMembers(s); group(s, sgLab).Rules[1].RemoteIPPrefix = "10.0.0.0/8" },
		checks: []string{"tcp/22"},
		froms:  []string{"0.0.0.0/0"},
		want: []expect{{rule: "security-group/ingress-missing", severity: Error,
			summary:  []string{"tcp/22 from 0.0.0.0/0 is only partly admitted to port 1a2b3c4d… 10.0.0.12: tcp/22 from 0.0.0.0/0 except 10.0.0.0/8 is not"},
			evidence: []string{"admitted in part by rule " + ruleLabSSH + " of lab-sg: ingress IPv4 tcp 22 from 10.0.0.0/8"}}},
	},
	{
		name: "flow split across a port range",
		mutate: func(s *snapshot.Snapshot) {
			withMembers(s)
			r := &group(s, sgLab).Rules[1]
			r.PortRangeMin, r.PortRangeMax = ptr(8000), ptr(8040)
		},
		checks: []string{"tcp/8000-8080"},
		want: []expect{{rule: "security-group/ingress-missing", severity: Error,
			summary: []string{"tcp/8000-8080 from 0.0.0.0/0 is only partly admitted", "tcp/8041-8080 from 0.0.0.0/0 except 10.0.0.5/32, 10.0.0.12/32 is not"},
			fix:     []string{"--protocol tcp --dst-port 8000:8080 --remote-ip 0.0.0.0/0"}}},
	},
	{
		name:   "flow from a group member, members not collected",
		checks: []string{"tcp/80"},
		froms:  []string{"10.0.0.5"},
		want: []expect{{rule: "security-group/ingress-missing", severity: Warning,
			summary:  []string{"may not be admitted: it depends on security group membership that was not collected"},
			evidence: []string{"unknown: rule " + ruleDefIn4 + " of default admits members of group default (" + sgDefault + "), whose addresses were not collected"},
			fix:      []string{"openstack port list --security-group " + sgDefault}}},
	},
	{
		name:   "flow from a group member, members collected",
		mutate: withMembers,
		checks: []string{"tcp/80"},
		froms:  []string{"10.0.0.5"},
		absent: []string{"security-group/ingress-missing"},
	},
	{
		name:   "flow from outside the members, members collected",
		mutate: withMembers,
		checks: []string{"udp/53"},
		froms:  []string{"10.0.0.0/29"},
		want: []expect{{rule: "security-group/ingress-missing", severity: Error,
			summary: []string{"udp/53 from 10.0.0.0/29 is only partly admitted", "udp/53 from 10.0.0.0/29 except 10.0.0.5/32 is not"}}},
	},
	{
		name:   "IPv6 flow to an IPv4-only server",
		checks: []string{"ipv6-icmp"},
		want: []expect{{rule: "security-group/ingress-missing", severity: Error,
			summary: []string{"no port of server vm1 has an IPv6 address: ipv6-icmp from ::/0 cannot reach it"}}},
	},
	{
		name: "port security off admits every flow",
		mutate: func(s *snapshot.Snapshot) {
			vmPort(s).PortSecurityEnabled, vmPort(s).SecurityGroups = ptr(false), nil
		},
		checks: []string{"any"},
		want: []expect{{rule: "security-group/port-security-disabled", severity: Info,
			evidence: []string{"port_security_enabled: false"},
			fix:      []string{"openstack port set --enable-port-security --security-group " + sgDefault + " " + portVM}}},
		absent: []string{"security-group/ingress-missing", "security-group/icmp-ingress-missing", "security-group/egress-missing"},
	},
	{
		name: "egress rules removed from stateful groups",
		mutate: func(s *snapshot.Snapshot) {
			for _, id := range []string{sgDefault, sgLab} {
				dropRules(group(s, id), func(r snapshot.SecurityGroupRule) bool { return r.Direction != "egress" })
			}
		},
		want: []expect{{rule: "security-group/egress-missing", severity: Warning,
			summary:  []string{"have no egress IPv4 rule: replies to admitted traffic pass, but the guest cannot initiate anything"},
			evidence: []string{"egress IPv4 rules on them: none", "lab-sg stateful: true"},
			fix:      []string{"openstack security group rule create --egress --ethertype IPv4 --protocol any --remote-ip 0.0.0.0/0 " + sgLab}}},
	},
	{
		name: "egress rules removed from stateless groups",
		mutate: func(s *snapshot.Snapshot) {
			for _, id := range []string{sgDefault, sgLab} {
				g := group(s, id)
				g.Stateful = ptr(false)
				dropRules(g, func(r snapshot.SecurityGroupRule) bool { return r.Direction != "egress" })
			}
		},
		want: []expect{{rule: "security-group/egress-missing", severity: Error,
			summary: []string{"stateless groups default, lab-sg", "replies included, is dropped"}}},
	},
	{
		name: "an IPv4 egress rule only to one prefix still counts",
		mutate: func(s *snapshot.Snapshot) {
			for _, id := range []string{sgDefault, sgLab} {
				dropRules(group(s, id), func(r snapshot.SecurityGroupRule) bool { return r.Direction != "egress" })
			}
			g := group(s, sgLab)
			g.Rules = append(g.Rules, snapshot.SecurityGroupRule{ID: "44444444-aaaa-4bbb-8ccc-000000000001", Direction: "egress", Ethertype: "IPv4", Protocol: "udp", PortRangeMin: ptr(53), PortRangeMax: ptr(53), RemoteIPPrefix: "10.0.0.0/8"})
		},
		absent: []string{"security-group/egress-missing"},
	},

	// Subnet and network.
	{
		name:   "DHCP disabled",
		mutate: func(s *snapshot.Snapshot) { s.Subnets[0].EnableDHCP = false; dropNetworkPort(s, portDHCP) },
		want: []expect{{rule: "subnet/dhcp-disabled", severity: Warning,
			summary: []string{"DHCP is disabled on subnet private-subnet (10.0.0.0/24)", "unless it is configured statically or by a config drive"},
			fix:     []string{"openstack subnet set --dhcp " + subPrivate}}},
		absent: []string{"network/no-dhcp-port", "agent/dhcp-not-hosting", "agent/dhcp-down"},
	},
	{
		name:   "no gateway",
		mutate: func(s *snapshot.Snapshot) { s.Subnets[0].GatewayIP = "" },
		want: []expect{{rule: "subnet/no-gateway", severity: Error, evidence: []string{"gateway_ip: null"},
			fix: []string{"openstack subnet set --gateway 10.0.0.1 " + subPrivate + "   # the address of router interface e5f6a7b8…"}}},
	},
	{
		name: "no gateway and no router: the first address is proposed",
		mutate: func(s *snapshot.Snapshot) {
			s.Subnets[0].GatewayIP = ""
			dropNetworkPort(s, portRtrIf)
			s.FloatingIPs = nil
		},
		want: []expect{
			{rule: "subnet/no-gateway", severity: Error, fix: []string{"openstack subnet set --gateway 10.0.0.1 " + subPrivate + "   # the first address of 10.0.0.0/24"}},
			{rule: "router/missing", severity: Error, evidence: []string{"the subnet has no gateway_ip: set one first"}},
		},
	},
	{
		name: "a default host route replaces the gateway",
		mutate: func(s *snapshot.Snapshot) {
			s.Subnets[0].GatewayIP = ""
			s.Subnets[0].HostRoutes = []snapshot.HostRoute{{Destination: "0.0.0.0/0", NextHop: "10.0.0.254"}}
		},
		absent: []string{"subnet/no-gateway"},
	},
	{
		name: "exhausted pool while every port has an address",
		mutate: func(s *snapshot.Snapshot) {
			s.IPAvailability = []snapshot.NetworkIPAvailability{{NetworkID: netPrivate, Subnets: []snapshot.SubnetIPAvailability{
				{SubnetID: subPrivate, CIDR: "10.0.0.0/24", IPVersion: 4, TotalIPs: "253", UsedIPs: "253"}}}}
		},
		want: []expect{{rule: "subnet/pool-exhausted", severity: Warning, evidence: []string{"used_ips: 253", "allocation_pool: 10.0.0.2-10.0.0.254"}}},
	},
	{
		name:    "IP availability forbidden",
		mutate:  func(s *snapshot.Snapshot) { forbid(s, snapshot.SourceIPAvailability) },
		skipped: []string{"subnet/pool-exhausted"},
	},
	{
		name:   "network admin-down",
		mutate: func(s *snapshot.Snapshot) { s.Networks[0].AdminStateUp = false; vmPort(s).Status = "DOWN" },
		want:   []expect{{rule: "network/admin-down", severity: Error, fix: []string{"openstack network set --enable " + netPrivate}}},
		absent: []string{"port/down", "network/not-active"},
		first:  "network/admin-down",
	},
	{
		name:   "network in ERROR",
		mutate: func(s *snapshot.Snapshot) { s.Networks[0].Status = "ERROR" },
		want:   []expect{{rule: "network/not-active", severity: Error, summary: []string{"network private of server vm1 is ERROR"}}},
	},
	{
		name:   "DHCP port missing although a live agent hosts the network",
		mutate: func(s *snapshot.Snapshot) { dropNetworkPort(s, portDHCP) },
		want: []expect{{rule: "network/no-dhcp-port", severity: Error,
			evidence: []string{"on ctl hosts the network and is alive: it failed to create its port"},
			fix:      []string{"journalctl -u neutron-dhcp-agent --since -1h | grep -F -e " + netPrivate}}},
	},
	{
		name:   "DHCP port missing, agents hidden",
		mutate: func(s *snapshot.Snapshot) { nonAdmin(s); dropNetworkPort(s, portDHCP) },
		want: []expect{{rule: "network/no-dhcp-port", severity: Warning,
			evidence: []string{"on ML2/OVN, DHCP has no port and this finding does not apply"}}},
	},
	{
		name: "DHCP port missing on OVN is normal",
		mutate: func(s *snapshot.Snapshot) {
			dropNetworkPort(s, portDHCP)
			s.Agents = []snapshot.Agent{
				{ID: "aa11bb22-cc33-4d44-8e55-ff6677889900", AgentType: agentTypeOVNController, Host: hostCtl, Alive: true, AdminStateUp: true},
				{ID: "bb22cc33-dd44-4e55-8f66-007788990011", AgentType: snapshot.AgentTypeOVNMetadata, Host: hostCtl, Alive: true, AdminStateUp: true},
			}
			s.DHCPAgents, s.L3Agents = nil, nil
		},
		absent: []string{"network/no-dhcp-port", "agent/dhcp-not-hosting", "router/not-scheduled", "agent/l2-down", "agent/metadata-down"},
	},
	{
		name: "DHCP port of another project's network hidden",
		mutate: func(s *snapshot.Snapshot) {
			nonAdmin(s)
			s.Networks[0].ProjectID, s.Networks[0].Shared = projAdmin, true
			dropNetworkPort(s, portDHCP)
		},
		absent:  []string{"network/no-dhcp-port"},
		skipped: []string{"network/no-dhcp-port"},
	},
	{
		name: "VLAN segment",
		mutate: func(s *snapshot.Snapshot) {
			s.Networks[0].Provider = &snapshot.Provider{NetworkType: "vlan", PhysicalNetwork: "physnet1", SegmentationID: ptr(101)}
			s.Networks[0].MTU = 1500
		},
		want: []expect{{rule: "network/segment", severity: Info,
			summary:  []string{"network private is VLAN 101 on physical network physnet1: the VLAN must be trunked on every switch port of every host, control plane included"},
			evidence: []string{"provider:segmentation_id: 101"},
			look:     []string{"tcpdump -e -n -i br-ex vlan 101", "openstack network show"}}},
		absent: []string{"network/mtu-mismatch"},
	},
	{
		name:   "VXLAN network at MTU 1500 over a 1500 underlay",
		mutate: func(s *snapshot.Snapshot) { s.Networks[0].MTU = 1500 },
		want: []expect{{rule: "network/mtu-mismatch", severity: Warning,
			summary:  []string{"has MTU 1500, but a 1500-byte underlay carries at most 1450 inside VXLAN"},
			evidence: []string{"assuming Neutron's default global_physnet_mtu = 1500", "needed underlay MTU: 1550"},
			fix:      []string{"openstack network set --mtu 1450 " + netPrivate}}},
	},
	{
		name: "GENEVE network at MTU 1450",
		mutate: func(s *snapshot.Snapshot) {
			s.Networks[0].Provider = &snapshot.Provider{NetworkType: "geneve", SegmentationID: ptr(3)}
		},
		want: []expect{{rule: "network/mtu-mismatch", severity: Warning, fix: []string{"openstack network set --mtu 1442 " + netPrivate}}},
	},
	{
		name:    "provider fields hidden",
		mutate:  func(s *snapshot.Snapshot) { s.Networks[0].Provider = nil; forbid(s, snapshot.SourceProviderFields) },
		absent:  []string{"network/segment", "network/mtu-mismatch"},
		skipped: []string{"network/segment", "network/mtu-mismatch"},
	},

	// Agents.
	{
		name:   "Linux bridge agent dead, port DOWN",
		mutate: func(s *snapshot.Snapshot) { agent(s, agentLB).Alive = false; vmPort(s).Status = "DOWN" },
		want: []expect{{rule: "agent/l2-down", severity: Error,
			summary:  []string{"the Linux bridge agent on host ctl, where port 1a2b3c4d… 10.0.0.12 is bound, is dead"},
			evidence: []string{"alive: false", "port " + portVM + ": status DOWN"},
			fix:      []string{"systemctl restart neutron-linuxbridge-agent   # on host ctl"}}},
		absent: []string{"port/down"},
		first:  "agent/l2-down",
	},
	{
		name: "no DHCP agent hosts the network",
		mutate: func(s *snapshot.Snapshot) {
			s.DHCPAgents = map[string][]string{}
			dropNetworkPort(s, portDHCP)
		},
		want: []expect{{rule: "agent/dhcp-not-hosting", severity: Error,
			fix: []string{"openstack network agent add network --dhcp " + agentDHCP + " " + netPrivate}}},
		absent: []string{"network/no-dhcp-port"},
		first:  "agent/dhcp-not-hosting",
	},
	{
		name:   "the hosting DHCP agent is dead",
		mutate: func(s *snapshot.Snapshot) { agent(s, agentDHCP).Alive = false; dropNetworkPort(s, portDHCP) },
		want: []expect{{rule: "agent/dhcp-down", severity: Error,
			summary: []string{"DHCP agent 8a7b6c5d… on host ctl, which hosts network private, is dead"},
			fix:     []string{"openstack network agent list --network " + netPrivate, "systemctl restart neutron-dhcp-agent   # on host ctl"}}},
		absent: []string{"network/no-dhcp-port", "agent/dhcp-not-hosting"},
		first:  "agent/dhcp-down",
	},
	{
		name: "one of two DHCP agents admin-down",
		mutate: func(s *snapshot.Snapshot) {
			s.Agents = append(s.Agents, snapshot.Agent{ID: "77665544-3322-4110-8fed-cba987654321", AgentType: snapshot.AgentTypeDHCP, Host: "net2", Alive: true, AdminStateUp: false})
			s.DHCPAgents[netPrivate] = append(s.DHCPAgents[netPrivate], "77665544-3322-4110-8fed-cba987654321")
		},
		want: []expect{{rule: "agent/dhcp-down", severity: Warning, summary: []string{"is administratively down"},
			fix: []string{"openstack network agent set --enable 77665544-3322-4110-8fed-cba987654321"}}},
	},
	{
		name:   "L3 agent dead, floating IP DOWN",
		mutate: func(s *snapshot.Snapshot) { agent(s, agentL3).Alive = false; s.FloatingIPs[0].Status = "DOWN" },
		want: []expect{
			{rule: "agent/l3-down", severity: Error, summary: []string{"the L3 agent on ctl hosting legacy router router1 is down"},
				fix: []string{"systemctl restart neutron-l3-agent   # on host ctl"}},
			{rule: "floating-ip/down", severity: Error, summary: []string{"floating IP 172.24.4.150 of port 1a2b3c4d… 10.0.0.12 is DOWN"}},
		},
		first: "agent/l3-down",
	},
	{
		name: "HA router: active agent dead, standby alive",
		mutate: func(s *snapshot.Snapshot) {
			s.Routers[0].HA = ptr(true)
			agent(s, agentL3).Alive = false
			s.Agents = append(s.Agents, snapshot.Agent{ID: "d4c3b2a1-0f9e-4d8c-b7a6-543210fedcba", AgentType: snapshot.AgentTypeL3, Host: "net2", Alive: true, AdminStateUp: true})
			s.L3Agents[router1] = []snapshot.L3Hosting{{AgentID: agentL3, HAState: "active"}, {AgentID: "d4c3b2a1-0f9e-4d8c-b7a6-543210fedcba", HAState: "standby"}}
		},
		want: []expect{{rule: "agent/l3-down", severity: Error, summary: []string{"HA router router1 has no live active L3 agent (ctl)"}}},
	},
	{
		name: "HA router: standby agent dead is harmless",
		mutate: func(s *snapshot.Snapshot) {
			s.Routers[0].HA = ptr(true)
			s.Agents = append(s.Agents, snapshot.Agent{ID: "d4c3b2a1-0f9e-4d8c-b7a6-543210fedcba", AgentType: snapshot.AgentTypeL3, Host: "net2", Alive: false, AdminStateUp: true})
			s.L3Agents[router1] = []snapshot.L3Hosting{{AgentID: agentL3, HAState: "active"}, {AgentID: "d4c3b2a1-0f9e-4d8c-b7a6-543210fedcba", HAState: "standby"}}
		},
		absent: []string{"agent/l3-down"},
	},
	{
		name: "DVR router: a dead dvr agent on another compute host is harmless",
		mutate: func(s *snapshot.Snapshot) {
			s.Routers[0].Distributed = ptr(true)
			s.Agents = append(s.Agents, snapshot.Agent{ID: "e1e2e3e4-0f9e-4d8c-b7a6-543210fedcba", AgentType: snapshot.AgentTypeL3, Host: "cmp9", Alive: false, AdminStateUp: true,
				Configurations: json.RawMessage(`{"agent_mode":"dvr"}`)})
			s.L3Agents[router1] = append(s.L3Agents[router1], snapshot.L3Hosting{AgentID: "e1e2e3e4-0f9e-4d8c-b7a6-543210fedcba"})
		},
		absent: []string{"agent/l3-down"},
	},
	{
		name:   "metadata agent dead",
		mutate: func(s *snapshot.Snapshot) { agent(s, agentMeta).Alive = false },
		want: []expect{{rule: "agent/metadata-down", severity: Warning,
			summary:  []string{"the Metadata agent on host ctl, which serves metadata for server vm1, is down"},
			evidence: []string{"metadata path: router router1's metadata proxy on ctl → Metadata agent on ctl → nova metadata API"},
			fix:      []string{"systemctl restart neutron-metadata-agent   # on host ctl"}}},
	},
	{
		name: "metadata agent missing on the DHCP host of an isolated network",
		mutate: func(s *snapshot.Snapshot) {
			dropNetworkPort(s, portRtrIf)
			s.FloatingIPs = nil
			s.Agents = s.Agents[:3]
		},
		want: []expect{{rule: "agent/metadata-down", severity: Warning,
			summary:  []string{"no Metadata agent runs on host ctl"},
			evidence: []string{"the isolated metadata proxy in qdhcp-" + netPrivate}}},
	},

	// Router.
	{
		name: "router interface removed",
		mutate: func(s *snapshot.Snapshot) {
			dropNetworkPort(s, portRtrIf)
			s.FloatingIPs[0].Status = "DOWN"
		},
		want: []expect{
			{rule: "router/missing", severity: Error,
				summary:  []string{"subnet private-subnet (10.0.0.0/24) of port 1a2b3c4d… 10.0.0.12 has no router: nothing outside network private can reach the server, and floating IPs cannot work"},
				evidence: []string{"router interface ports with an address on subnet " + subPrivate + ": none", "floating IP 172.24.4.150 is associated to the port but cannot be routed"},
				fix:      []string{"openstack router add subnet " + router1 + " " + subPrivate + "   # router1"}},
			{rule: "floating-ip/down", severity: Error, summary: []string{"is DOWN and is not routed"}, fix: []string{"openstack router add subnet " + router1 + " " + subPrivate}},
		},
		first: "router/missing",
	},
	{
		name: "no router anywhere",
		mutate: func(s *snapshot.Snapshot) {
			dropNetworkPort(s, portRtrIf)
			s.Routers, s.FloatingIPs, s.L3Agents = nil, nil, nil
		},
		want: []expect{{rule: "router/missing", severity: Error,
			fix: []string{"openstack router create private-router", "openstack router set --external-gateway " + netPublic + " private-router", "openstack router add subnet private-router " + subPrivate}}},
	},
	{
		name: "flat provider network without a Neutron router",
		mutate: func(s *snapshot.Snapshot) {
			dropNetworkPort(s, portRtrIf)
			s.FloatingIPs = nil
			s.Networks[0].Provider = &snapshot.Provider{NetworkType: "flat", PhysicalNetwork: "physnet2"}
			s.Networks[0].MTU = 1500
		},
		want: []expect{{rule: "router/missing", severity: Warning, evidence: []string{"the gateway may be a physical router"}}},
	},
	{
		name: "server directly on the external network",
		mutate: func(s *snapshot.Snapshot) {
			s.Networks[0].External = true
			dropNetworkPort(s, portRtrIf)
			s.FloatingIPs = nil
		},
		absent: []string{"router/missing", "floating-ip/none"},
	},
	{
		name:   "router admin-down",
		mutate: func(s *snapshot.Snapshot) { s.Routers[0].AdminStateUp = false; s.Routers[0].Status = "DOWN" },
		want:   []expect{{rule: "router/admin-down", severity: Error, fix: []string{"openstack router set --enable " + router1}}},
		absent: []string{"router/not-active"},
	},
	{
		name:   "router in ERROR",
		mutate: func(s *snapshot.Snapshot) { s.Routers[0].Status = "ERROR" },
		want:   []expect{{rule: "router/not-active", severity: Error, summary: []string{"router router1 on subnet private-subnet (10.0.0.0/24) is ERROR"}}},
	},
	{
		name:   "router on no L3 agent",
		mutate: func(s *snapshot.Snapshot) { s.L3Agents = map[string][]snapshot.L3Hosting{} },
		want: []expect{{rule: "router/not-scheduled", severity: Error,
			fix: []string{"openstack network agent add router --l3 " + agentL3 + " " + router1}}},
		absent: []string{"agent/l3-down"},
	},
	{
		name:   "router without gateway",
		mutate: func(s *snapshot.Snapshot) { s.Routers[0].ExternalGateway = nil },
		want: []expect{{rule: "router/no-gateway", severity: Error,
			fix: []string{"openstack router set --external-gateway " + netPublic + " " + router1 + "   # public"}}},
	},

	// Floating IP.
	{
		name:   "floating IP DOWN",
		mutate: func(s *snapshot.Snapshot) { s.FloatingIPs[0].Status = "DOWN" },
		want: []expect{{rule: "floating-ip/down", severity: Error,
			evidence: []string{"status: DOWN", "router router1 (" + router1 + "): interface on subnet " + subPrivate + ", gateway on public"},
			fix:      []string{"openstack floating ip unset --port " + fipID, "openstack floating ip set --port " + portVM + " " + fipID}}},
	},
	{
		name: "floating IP on a network the router has no gateway on",
		mutate: func(s *snapshot.Snapshot) {
			s.Routers[0].ExternalGateway.NetworkID = "0badc0de-0000-4000-8000-000000000000"
		},
		want: []expect{{rule: "floating-ip/down", severity: Error,
			summary: []string{"is not routed: no router joins subnet c4d5e6f7… to network public"},
			fix:     []string{"openstack router set --external-gateway " + netPublic + " " + router1}}},
	},
	{
		name:   "no floating IP",
		mutate: func(s *snapshot.Snapshot) { s.FloatingIPs = nil },
		want: []expect{{rule: "floating-ip/none", severity: Info,
			summary: []string{"server vm1 has no floating IP"},
			fix:     []string{"openstack floating ip create --port " + portVM + " " + netPublic}}},
	},
}

// withMembers records the default group's members, as the collector does
// whenever flows are asked.
func withMembers(s *snapshot.Snapshot) {
	s.RemoteGroupMembers = map[string][]string{sgDefault: {"10.0.0.5", "10.0.0.12"}}
}

func evalCase(t testing.TB, c ruleCase) Result {
	t.Helper()
	s := healthy()
	if c.mutate != nil {
		c.mutate(s)
	}
	var flows []Flow
	if len(c.checks) > 0 {
		var err error
		if flows, err = ParseFlows(c.checks, c.froms); err != nil {
			t.Fatalf("ParseFlows: %v", err)
		}
	}
	return Evaluate(&Input{Snapshot: s, Flows: flows}, Options{})
}

func TestRules(t *testing.T) {
	for _, c := range ruleCases {
		t.Run(c.name, func(t *testing.T) {
			res := evalCase(t, c)
			for _, w := range c.want {
				if err := match(res, w); err != nil {
					t.Errorf("%v\nfindings:\n%s", err, dump(res))
				}
			}
			for _, name := range c.absent {
				for _, f := range res.Findings {
					if f.Rule == name {
						t.Errorf("%s fired: %s\n%s", name, f.Summary, dump(res))
					}
				}
			}
			if c.first != "" {
				if len(res.Findings) == 0 || res.Findings[0].Rule != c.first {
					t.Errorf("want %s ranked first\n%s", c.first, dump(res))
				}
			}
			for _, name := range c.skipped {
				found := false
				for _, sk := range res.Skipped {
					found = found || sk.Rule == name
				}
				if !found {
					t.Errorf("want %s skipped, got skipped %v", name, res.Skipped)
				}
			}
		})
	}
}

// match finds a finding satisfying w.
func match(res Result, w expect) error {
	var near []string
	for _, f := range res.Findings {
		if f.Rule != w.rule {
			continue
		}
		var miss []string
		if f.Severity != w.severity {
			miss = append(miss, fmt.Sprintf("severity %s, want %s", f.Severity, w.severity))
		}
		for _, s := range w.summary {
			if !strings.Contains(f.Summary, s) {
				miss = append(miss, fmt.Sprintf("summary %q lacks %q", f.Summary, s))
			}
		}
		for _, e := range w.evidence {
			if !anyContains(f.Evidence, e) {
				miss = append(miss, fmt.Sprintf("no evidence line with %q", e))
			}
		}
		for _, x := range w.fix {
			if !anyContains(shell.Strings(f.Remediation), x) {
				miss = append(miss, fmt.Sprintf("no remediation with %q", x))
			}
		}
		for _, x := range w.look {
			if !anyContains(shell.Strings(f.Look), x) {
				miss = append(miss, fmt.Sprintf("no command to look with %q", x))
			}
		}
		if len(miss) == 0 {
			return nil
		}
		near = append(near, strings.Join(miss, "; "))
	}
	if len(near) == 0 {
		return fmt.Errorf("%s did not fire", w.rule)
	}
	return fmt.Errorf("%s fired but: %s", w.rule, strings.Join(near, " | "))
}

func anyContains(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func dump(res Result) string {
	var b strings.Builder
	for _, f := range res.Findings {
		fmt.Fprintf(&b, "  [%s] %s: %s\n", f.Severity, f.Rule, f.Summary)
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "      - %s\n", e)
		}
		for _, r := range f.Remediation {
			fmt.Fprintf(&b, "      $ %s\n", r)
		}
	}
	return b.String()
}

// TestHealthyBaseline: the lab's healthy server gives nothing but the
// segment information, skips nothing and passes every other rule.
func TestHealthyBaseline(t *testing.T) {
	res := Evaluate(&Input{Snapshot: healthy()}, Options{})
	if len(res.Findings) != 1 || res.Findings[0].Rule != "network/segment" {
		t.Fatalf("want only network/segment, got\n%s", dump(res))
	}
	if !strings.Contains(res.Findings[0].Summary, "vxlan segment 57") {
		t.Errorf("segment summary: %s", res.Findings[0].Summary)
	}
	if len(res.Skipped) != 0 {
		t.Errorf("skipped: %v", res.Skipped)
	}
	// A Linux bridge cloud: the Open vSwitch and OVN rules do not apply;
	// the active probe was not asked for.
	var na []string
	for _, x := range res.NotApplicable {
		na = append(na, x.Rule)
	}
	wantNA := []string{"host/ovs-dead-vlan", "host/ovs-tag-mismatch", "host/ovs-flow-missing", "host/trace-drop",
		"host/instance-unreachable-from-dhcp-namespace", "host/ovs-port-error"}
	for _, r := range Catalogue() {
		if r.Domain() == "ovn" {
			wantNA = append(wantNA, r.Name)
		}
	}
	slices.Sort(na)
	slices.Sort(wantNA)
	if !slices.Equal(na, wantNA) {
		t.Errorf("not applicable: %+v", res.NotApplicable)
	}
	if got, want := len(res.Passed), len(Catalogue())-1-len(wantNA); got != want {
		t.Errorf("passed %d rules, want %d", got, want)
	}
}

// TestNotApplicableOnOVN: on ML2/OVN the rules of the DHCP and L3 agents
// and of their namespaces are not applicable, neither passed nor skipped,
// and say why.
func TestNotApplicableOnOVN(t *testing.T) {
	s := healthy()
	for i := range s.Agents {
		switch s.Agents[i].AgentType {
		case snapshot.AgentTypeLinuxBridge:
			s.Agents[i].AgentType = agentTypeOVNController
		case snapshot.AgentTypeMetadata:
			s.Agents[i].AgentType = snapshot.AgentTypeOVNMetadata
		}
	}
	res := Evaluate(&Input{Snapshot: s}, Options{})
	want := []string{"agent/dhcp-not-hosting", "agent/dhcp-down", "agent/l3-down", "agent/l2-down", "host/netns-missing", "host/router-interface-missing",
		"host/dhcp-interface-missing", "host/dnsmasq-not-running", "host/instance-unreachable-from-dhcp-namespace",
		"network/no-dhcp-port", "router/not-scheduled", "host/bridge-missing", "host/ovs-port-error",
		"host/l2pop-entry-missing", "host/ovs-dead-vlan", "host/ovs-flow-missing", "host/ovs-tag-mismatch", "host/trace-drop"}
	var got []string
	for _, na := range res.NotApplicable {
		got = append(got, na.Rule)
		if na.Reason == "" {
			t.Errorf("%s: no reason", na.Rule)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("not applicable:\n got %q\nwant %q", got, want)
	}
	for _, p := range res.Passed {
		if slices.Contains(want, p) {
			t.Errorf("%s counted as passed", p)
		}
	}
}

// TestNonAdminBaseline: without admin the healthy server still raises
// nothing, and every admin-only rule says it was skipped and why.
func TestNonAdminBaseline(t *testing.T) {
	s := healthy()
	nonAdmin(s)
	res := Evaluate(&Input{Snapshot: s}, Options{})
	if len(res.Findings) != 0 {
		t.Fatalf("want no findings, got\n%s", dump(res))
	}
	for _, sk := range res.Skipped {
		if !strings.HasPrefix(sk.Reason, "needs admin: ") {
			t.Errorf("%s: reason %q", sk.Rule, sk.Reason)
		}
	}
	for _, name := range []string{"agent/l2-down", "agent/dhcp-not-hosting", "agent/dhcp-down", "agent/l3-down", "agent/metadata-down", "router/not-scheduled", "port/binding-failed", "network/segment", "network/mtu-mismatch"} {
		found := false
		for _, sk := range res.Skipped {
			found = found || sk.Rule == name
		}
		if !found {
			t.Errorf("%s not skipped", name)
		}
	}
}

// TestEveryRuleFires fails when a catalogue rule has no case in ruleCases
// that makes it fire.
func TestEveryRuleFires(t *testing.T) {
	fired := map[string]bool{}
	for _, c := range ruleCases {
		res := evalCase(t, c)
		for _, w := range c.want {
			if match(res, w) == nil {
				fired[w.rule] = true
			}
		}
	}
	for _, r := range Catalogue() {
		if !fired[r.Name] {
			t.Errorf("%s: no case in ruleCases makes it fire", r.Name)
		}
	}
}

// TestFindingsAreComplete: every finding of every case has a subject, a
// summary, evidence and a remediation, and its commands carry no template
// leftovers.
func TestFindingsAreComplete(t *testing.T) {
	for _, c := range ruleCases {
		res := evalCase(t, c)
		for _, f := range res.Findings {
			if f.Subject.Kind == "" || f.Summary == "" || len(f.Evidence) == 0 {
				t.Errorf("%s / %s: incomplete finding %+v", c.name, f.Rule, f)
			}
			if f.Severity > Info && len(f.Remediation) == 0 {
				t.Errorf("%s / %s: no remediation", c.name, f.Rule)
			}
			if f.Context && len(f.Remediation) > 0 {
				t.Errorf("%s: a context finding offers a fix: %q", f.Rule, shell.Strings(f.Remediation))
			}
			for _, r := range shell.Strings(slices.Concat(f.Remediation, f.Verify, f.Look)) {
				if strings.Contains(r, "%!") || strings.Contains(r, "<nil>") {
					t.Errorf("%s / %s: bad remediation %q", c.name, f.Rule, r)
				}
				if _, err := shelltest.Parse(r); err != nil {
					t.Errorf("%s / %s: %v", c.name, f.Rule, err)
				}
			}
		}
	}
}

func TestPartialSkipIsNotAPass(t *testing.T) {
	s := healthy()
	vmPort(s).SecurityGroups = []string{sgDefault, "deadbeef-0000-4000-8000-000000000000"}
	res := Evaluate(&Input{Snapshot: s}, Options{})
	for _, p := range res.Passed {
		if p == "security-group/icmp-ingress-missing" {
			t.Fatal("a rule that could not check everything is listed as passed")
		}
	}
	var got *Skip
	for i := range res.Skipped {
		if res.Skipped[i].Rule == "security-group/icmp-ingress-missing" {
			got = &res.Skipped[i]
		}
	}
	if got == nil || !got.Partial || !strings.Contains(got.Reason, "deadbeef-0000-4000-8000-000000000000") {
		t.Fatalf("want a partial skip naming the missing group, got %+v", got)
	}
}

// TestRankingOfCompositeFaults pins the whole order for a snapshot with
// several independent faults and their consequences: errors before
// warnings, then from the instance outward, consequences after causes.
func TestRankingOfCompositeFaults(t *testing.T) {
	s := healthy()
	vmPort(s).AdminStateUp, vmPort(s).Status = false, "DOWN" // cause, and its symptom
	dropNetworkPort(s, portRtrIf)                            // cause
	s.FloatingIPs[0].Status = "DOWN"                         // its consequence
	for _, id := range []string{sgDefault, sgLab} {
		dropRules(group(s, id), func(r snapshot.SecurityGroupRule) bool { return r.Direction != "egress" })
	}
	agent(s, agentMeta).Alive = false
	res := Evaluate(&Input{Snapshot: s}, Options{})
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Severity.String()+" "+f.Rule)
	}
	want := []string{
		"error port/admin-down",
		"error router/missing",
		"error floating-ip/down",
		"warning security-group/egress-missing",
		"warning agent/metadata-down",
		"info network/segment",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ranking:\n  got  %q\n  want %q", got, want)
	}
}

// TestNeedsAreSources: every rule declares only sources the collector records.
func TestNeedsAreSources(t *testing.T) {
	known := map[string]bool{}
	for _, src := range []string{
		snapshot.SourceServer, snapshot.SourcePorts, snapshot.SourceSecurityGroups, snapshot.SourceNetworks,
		snapshot.SourceSubnets, snapshot.SourceNetworkPorts, snapshot.SourceRouters, snapshot.SourceFloatingIPs,
		snapshot.SourceAgents, snapshot.SourceDHCPAgents, snapshot.SourceL3Agents, snapshot.SourceIPAvailability,
		snapshot.SourceRemoteGroups, snapshot.SourceProviderFields, snapshot.SourceServerHost,
		snapshot.SourceConsoleLog,
		snapshot.SourceHosts,
	} {
		known[src] = true
	}
	for _, r := range Catalogue() {
		for _, n := range r.Needs {
			if !known[n] {
				t.Errorf("%s needs unknown source %q", r.Name, n)
			}
		}
	}
}

// TestCauseLinks: the engine applies the catalogue's links: the symptom
// ranks after its cause, at info, and points at it; an unrelated finding of
// a cause rule explains nothing; a finding's own Causes narrow its rule's.
func TestCauseLinks(t *testing.T) {
	cause := &Rule{Name: "port/x-cause", Severity: Error, Check: func(in *Input) []Finding {
		return []Finding{{Subject: Subject{Kind: "port", ID: "p1"}, Summary: "p1 is broken"}}
	}}
	other := &Rule{Name: "port/x-other", Severity: Error, Check: func(in *Input) []Finding {
		return []Finding{{Subject: Subject{Kind: "port", ID: "p2"}, Summary: "p2 is broken"}}
	}}
	server := &Rule{Name: "instance/x-symptom", Severity: Error, Causes: []*Rule{other, cause}, CauseWording: "the guest confirms",
		Check: func(in *Input) []Finding {
			return []Finding{{Subject: Subject{Kind: "server", ID: "s1"}, Summary: "no lease"}}
		}}
	onP2 := &Rule{Name: "port/x-symptom", Severity: Error, Causes: []*Rule{cause},
		Check: func(in *Input) []Finding {
			return []Finding{{Subject: Subject{Kind: "port", ID: "p2"}, Summary: "p2 drops"}}
		}}
	narrowed := &Rule{Name: "instance/x-narrowed", Severity: Warning, Causes: []*Rule{cause},
		Check: func(in *Input) []Finding {
			return []Finding{
				{Subject: Subject{Kind: "server", ID: "s1"}, Summary: "a", Causes: []*Rule{}},
				{Subject: Subject{Kind: "server", ID: "s1"}, Summary: "b"},
			}
		}}
	res := evaluate([]*Rule{server, onP2, narrowed, cause, other}, &Input{Snapshot: healthy()}, Options{})
	by := map[string]Finding{}
	for _, f := range res.Findings {
		by[f.Rule+"/"+f.Summary[:1]] = f
	}
	// The first declared cause with a related finding wins: other's p2.
	s := by["instance/x-symptom/n"]
	if s.CausedBy != "port/x-other" || s.Severity != Info || !strings.Contains(s.Summary, "the guest confirms port/x-other: p2 is broken") ||
		s.Remediation[0].String() != "hoofbeat explain port/x-other   # the fix is there" {
		t.Errorf("server symptom: %+v", s)
	}
	// p1's cause does not explain p2's symptom.
	if p := by["port/x-symptom/p"]; p.CausedBy != "" || p.Severity != Error {
		t.Errorf("unrelated subject linked: %+v", p)
	}
	if a, b := by["instance/x-narrowed/a"], by["instance/x-narrowed/b"]; a.CausedBy != "" || b.CausedBy != "port/x-cause" {
		t.Errorf("narrowed: %+v / %+v", a, b)
	}
	// Causes rank before their symptoms.
	pos := map[string]int{}
	for i, f := range res.Findings {
		pos[f.Rule] = i
	}
	if pos["port/x-other"] > pos["instance/x-symptom"] {
		t.Errorf("the symptom ranks before its cause:\n%s", dump(res))
	}
}

// TestCausesAcyclic: no rule is, through its causes, its own cause.
func TestCausesAcyclic(t *testing.T) {
	var visit func(r *Rule, path []string)
	visit = func(r *Rule, path []string) {
		if slices.Contains(path, r.Name) {
			t.Fatalf("cause cycle: %s → %s", strings.Join(path, " → "), r.Name)
		}
		for _, c := range r.Causes {
			if _, ok := Lookup(c.Name); !ok {
				t.Errorf("%s names cause %s, which is not in the catalogue", r.Name, c.Name)
			}
			visit(c, append(path, r.Name))
		}
	}
	for _, r := range Catalogue() {
		visit(r, nil)
	}
}
