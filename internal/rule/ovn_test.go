package rule

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

const (
	agentOVNGateway = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	agentOVNMeta    = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
	gwPort          = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
)

// ovnQuery is what the pipeline asks of OVN for healthy().
var ovnQuery = &host.OVNQuery{
	Ports: []string{portVM}, Networks: []string{netPrivate}, Routers: []string{router1},
	SecurityGroups: []string{sgDefault, sgLab}, Subnets: []string{subPrivate}, Hosts: []string{hostCtl},
}

// toOVN turns the baseline into the same cloud on ML2/OVN: ovn-controller
// (a gateway chassis) and the OVN metadata agent on ctl, no DHCP or L3
// agent, the network's metadata port in place of the DHCP port, and ctl
// checked with its OVN chassis and databases read from real ovsdb-server
// answers (internal/host/testdata/ovn/healthy).
func toOVN(s *snapshot.Snapshot) {
	at := s.Agents[0].HeartbeatTimestamp
	s.Agents = []snapshot.Agent{
		{ID: agentOVNGateway, AgentType: agentTypeOVNGateway, Binary: "ovn-controller", Host: hostCtl, Alive: true, AdminStateUp: true, HeartbeatTimestamp: at},
		{ID: agentOVNMeta, AgentType: snapshot.AgentTypeOVNMetadata, Binary: "neutron-ovn-metadata-agent", Host: hostCtl, Alive: true, AdminStateUp: true, HeartbeatTimestamp: at},
	}
	s.DHCPAgents, s.L3Agents = nil, nil
	for i := range s.NetworkPorts {
		if s.NetworkPorts[i].ID == portDHCP {
			s.NetworkPorts[i].DeviceOwner = "network:distributed"
			s.NetworkPorts[i].DeviceID = "ovnmeta-" + netPrivate
		}
		s.NetworkPorts[i].BindingVIFType = "ovs"
	}
	s.Ports[0].BindingVIFType = "ovs"
	r, err := run.LoadReplay(filepath.Join("..", "host", "testdata", "ovn", "healthy"))
	if err != nil {
		panic(err)
	}
	o := host.ReadOVN(context.Background(), func(ctx context.Context, argv ...string) ([]byte, error) {
		res, err := r.Run(ctx, run.Command{Argv: argv})
		return res.Stdout, err
	}, ovnQuery)
	s.Hosts = []snapshot.Host{{
		Name: hostCtl, Via: "replay",
		Roles: []string{string(topology.RoleCompute), string(topology.RoleOVNGateway), string(topology.RoleMetadata)},
		Links: []snapshot.Link{
			{Name: "lo", Up: true, MTU: 65536, Addrs: []string{"127.0.0.1/8"}},
			{Name: "eth0", Up: true, MTU: 1500, Addrs: []string{"192.0.2.10/24"}},
		},
		Namespaces: []snapshot.Namespace{{Name: "ovnmeta-" + netPrivate}},
		Processes: []snapshot.Process{
			{PID: 2001, User: "root", Args: "/usr/sbin/ovn-controller unix:/var/run/openvswitch/db.sock"},
			{PID: 2101, User: "neutron", Args: "haproxy -f /var/lib/neutron/ovn-metadata-proxy/" + netPrivate + ".conf"},
		},
		OVN: o,
	}}
}

// ovn makes a case start from the OVN baseline.
func ovn(more ...func(*snapshot.Snapshot)) func(*snapshot.Snapshot) { return then(toOVN, more...) }

func ovnOf(s *snapshot.Snapshot) *snapshot.OVN { return s.Hosts[0].OVN }

// editACL rewrites the match of a rule's ACL, as ovn-nbctl set would.
func editACL(ruleID, old, new string) func(*snapshot.Snapshot) {
	return func(s *snapshot.Snapshot) {
		nb := ovnOf(s).NB
		for i := range nb.ACLs {
			if aclRuleID(&nb.ACLs[i]) == ruleID {
				nb.ACLs[i].Match = strings.Replace(nb.ACLs[i].Match, old, new, 1)
			}
		}
	}
}

// labTrace is a real ovn-trace answer of the OVN lab, as read.
func labTrace(file string) snapshot.OVNTrace {
	b, err := os.ReadFile(filepath.Join("..", "host", "testdata", "ovn", "trace", file))
	if err != nil {
		panic(err)
	}
	t, err := host.ParseOVNTrace(b)
	if err != nil {
		panic(err)
	}
	t.Label, t.Datapath, t.Microflow = "ping from 10.0.0.1 to 10.0.0.12", "neutron-"+netPrivate, "inport == …"
	return t
}

func init() {
	ruleCases = append(ruleCases, ovnCases()...)
}

func ovnCases() []ruleCase {
	return []ruleCase{
		{
			name:   "OVN: healthy",
			mutate: ovn(),
			absent: []string{"ovn/chassis-down", "ovn/nb-cfg-lag", "ovn/lsp-missing", "ovn/lsp-down", "ovn/binding-wrong-chassis", "ovn/encap-mismatch",
				"ovn/dhcp-options-missing", "ovn/acl-mismatch", "ovn/gateway-chassis-missing", "ovn/nat-missing", "ovn/metadata-missing", "ovn/trace-drop", "agent/l2-down"},
		},
		{
			name: "OVN: ovn-controller not running on the server's host",
			mutate: ovn(func(s *snapshot.Snapshot) {
				o := ovnOf(s)
				o.Connection, o.ConnectionError = "", `ovn-appctl -t ovn-controller: ovn-appctl: cannot connect to "/var/run/ovn/ovn-controller.123.ctl" (No such file or directory)`
			}),
			first: "ovn/chassis-down",
			want: []expect{{rule: "ovn/chassis-down", severity: Error, summary: []string{"ovn-controller on host ctl", "does not answer"},
				evidence: []string{"cannot connect"}, fix: []string{"systemctl restart ovn-controller"}}},
		},
		{
			// What Neutron answers when OVN's "up" event beat the port's
			// binding (seen on the OVN lab): DOWN, with OVN's rows all up.
			name:   "OVN: Neutron left the port DOWN while OVN has it up",
			mutate: ovn(func(s *snapshot.Snapshot) { vmPort(s).Status = "DOWN" }),
			first:  "port/down",
			want: []expect{{rule: "port/down", severity: Error, summary: []string{"yet OVN has it up on chassis", "Neutron missed OVN's \"up\" event"},
				evidence: []string{"Logical_Switch_Port " + portVM + ": up=true", "Port_Binding " + portVM + ": chassis"},
				fix:      []string{"openstack server reboot --hard " + srvID + "   # re-plugs the VIF"}}},
			absent: []string{"ovn/lsp-down", "ovn/binding-wrong-chassis", "agent/l2-down"},
		},
		{
			name: "OVN: port DOWN and its Logical_Switch_Port not up",
			mutate: ovn(func(s *snapshot.Snapshot) {
				vmPort(s).Status = "DOWN"
				ovnOf(s).NB.SwitchPorts[slices.IndexFunc(ovnOf(s).NB.SwitchPorts, func(p snapshot.OVNSwitchPort) bool { return p.Name == portVM })].Up = new(bool)
			}),
			first: "ovn/lsp-down",
			want: []expect{{rule: "port/down", severity: Info, summary: []string{"OVN has not reported it up", "it follows from ovn/lsp-down"},
				fix: []string{"hoofbeat explain ovn/lsp-down"}}},
		},
		{
			name:   "OVN: port DOWN, no host checked",
			mutate: ovn(func(s *snapshot.Snapshot) { vmPort(s).Status = "DOWN"; s.Hosts = nil }),
			first:  "port/down",
			want: []expect{{rule: "port/down", severity: Error, summary: []string{"OVN has not reported it up"},
				fix: []string{"ovs-vsctl --columns=name,external_ids find Interface external_ids:iface-id=" + portVM, "journalctl -u ovn-controller"}}},
		},
		{
			name:   "OVN: ovn-controller not connected to SB",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).Connection = "not connected" }),
			first:  "ovn/chassis-down",
			want:   []expect{{rule: "ovn/chassis-down", severity: Error, summary: []string{"not connected to the Southbound database"}, evidence: []string{"ovn-remote: tcp:192.0.2.10:6642"}}},
		},
		{
			name:   "OVN: the server's host never registered as a chassis",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).SB.Chassis = nil }),
			first:  "ovn/chassis-down",
			want: []expect{
				{rule: "ovn/chassis-down", severity: Error, summary: []string{"has no Chassis in the OVN Southbound database"}},
				{rule: "ovn/binding-wrong-chassis", severity: Error, summary: []string{"not registered"}},
			},
		},
		{
			name: "OVN: the host checked unreachable, its OVN Controller agent dead",
			mutate: ovn(func(s *snapshot.Snapshot) {
				s.Hosts[0] = snapshot.Host{Name: hostCtl, Unreachable: "dial tcp: connection refused"}
				s.Agents[0].Alive = false
			}),
			want: []expect{{rule: "ovn/chassis-down", severity: Error, summary: []string{"is dead (the host itself was not checked)"}}},
		},
		{
			name:   "OVN: ovn-northd stopped, the Southbound behind",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).NB.NBCfg = 3 }),
			first:  "ovn/nb-cfg-lag",
			want: []expect{{rule: "ovn/nb-cfg-lag", severity: Error, summary: []string{"ovn-northd is behind", "nb_cfg 1", "at 3"},
				evidence: []string{"SB_Global nb_cfg: 1"}, fix: []string{"systemctl restart ovn-northd"}}},
		},
		{
			name: "OVN: the chassis' ovn-controller behind",
			mutate: ovn(func(s *snapshot.Snapshot) {
				o := ovnOf(s)
				o.NB.NBCfg, o.SB.NBCfg = 2, 2
			}),
			first: "ovn/nb-cfg-lag",
			want:  []expect{{rule: "ovn/nb-cfg-lag", severity: Error, summary: []string{"ovn-controller on host ctl", "is behind"}, evidence: []string{"Chassis_Private ctl nb_cfg: 1"}}},
		},
		{
			name:   "OVN: the port's LSP deleted behind Neutron's back",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).NB.SwitchPorts = nil }),
			first:  "ovn/lsp-missing",
			want: []expect{{rule: "ovn/lsp-missing", severity: Error, summary: []string{"has no Logical_Switch_Port"},
				evidence: []string{"Logical_Switch_Port named " + portVM + ": none"}, fix: []string{"--ovn-neutron_sync_mode log", "--ovn-neutron_sync_mode repair"}}},
			absent: []string{"ovn/lsp-down", "ovn/binding-wrong-chassis", "ovn/dhcp-options-missing"},
		},
		{
			name:   "OVN: the LSP not up",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).NB.SwitchPorts[0].Up = ptr(false) }),
			first:  "ovn/lsp-down",
			want:   []expect{{rule: "ovn/lsp-down", severity: Error, summary: []string{"not up"}, fix: []string{"systemctl restart ovn-controller"}}},
		},
		{
			name: "OVN: an allowed address pair missing in port_security",
			mutate: ovn(func(s *snapshot.Snapshot) {
				s.Ports[0].AllowedAddressPairs = []snapshot.AddressPair{{IPAddress: "10.0.0.100"}}
			}),
			want: []expect{{rule: "ovn/lsp-down", severity: Error, summary: []string{"port_security", "lacks 10.0.0.100"}, fix: []string{"repair"}}},
		},
		{
			name:   "OVN: the port unbound",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).SB.PortBindings[0].Chassis = "" }),
			first:  "ovn/binding-wrong-chassis",
			want:   []expect{{rule: "ovn/binding-wrong-chassis", severity: Error, summary: []string{"bound to no OVN chassis"}, fix: []string{"external_ids:iface-id=" + portVM}}},
		},
		{
			name: "OVN: the chassis' encap IP not an address of the host",
			mutate: ovn(func(s *snapshot.Snapshot) {
				o := ovnOf(s)
				o.ExternalIDs["ovn-encap-ip"] = "192.0.2.99"
				o.SB.Encaps[0].IP = "192.0.2.99"
			}),
			first: "ovn/encap-mismatch",
			want: []expect{{rule: "ovn/encap-mismatch", severity: Error, summary: []string{"announces tunnel endpoint 192.0.2.99"},
				evidence: []string{"not an address of ctl (its addresses: 192.0.2.10)"}, fix: []string{"external_ids:ovn-encap-ip=ADDRESS"}}},
		},
		{
			name:   "OVN: the SB Encap differs from the host's ovn-encap-ip",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).SB.Encaps[0].IP = "192.0.2.77" }),
			want:   []expect{{rule: "ovn/encap-mismatch", severity: Error, evidence: []string{"the Southbound Encap of chassis ctl is 192.0.2.77"}}},
		},
		{
			name:   "OVN: the subnet's DHCP_Options removed",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).NB.DHCPOptions = nil }),
			first:  "ovn/dhcp-options-missing",
			want: []expect{{rule: "ovn/dhcp-options-missing", severity: Error, summary: []string{"no DHCP_Options in OVN"},
				evidence: []string{"external_ids:subnet_id=" + subPrivate + ": none"}, fix: []string{"repair"}}},
		},
		{
			name:   "OVN: the LSP does not reference the DHCP_Options",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).NB.SwitchPorts[0].DHCPv4Options = "" }),
			want:   []expect{{rule: "ovn/dhcp-options-missing", severity: Error, summary: []string{"does not reference"}}},
		},
		{
			name: "OVN: the DHCP_Options disagree with the subnet",
			mutate: ovn(func(s *snapshot.Snapshot) {
				ovnOf(s).NB.DHCPOptions[0].Options["mtu"] = "1500"
				s.Subnets[0].DNSNameservers = []string{"192.0.2.53"}
			}),
			want: []expect{{rule: "ovn/dhcp-options-missing", severity: Error, summary: []string{"mtu 1500, the network's 1450", "dns_server {10.0.0.2}, the subnet's 192.0.2.53"}}},
		},
		{
			name: "OVN: the ICMP ACL deleted from the port group",
			mutate: ovn(func(s *snapshot.Snapshot) {
				nb := ovnOf(s).NB
				for i := range nb.PortGroups {
					nb.PortGroups[i].ACLs = slices.DeleteFunc(nb.PortGroups[i].ACLs, func(u string) bool {
						a := slices.IndexFunc(nb.ACLs, func(a snapshot.OVNACL) bool { return a.UUID == u })
						return aclRuleID(&nb.ACLs[a]) == ruleLabICMP
					})
				}
			}),
			first: "ovn/acl-mismatch",
			want: []expect{{rule: "ovn/acl-mismatch", severity: Error, summary: []string{"lab-sg's OVN ACLs differ", "1 rule(s) have no ACL"},
				evidence: []string{"missing in OVN: rule " + ruleLabICMP + ": ingress IPv4 icmp from 0.0.0.0/0"}, fix: []string{"repair"}}},
		},
		{
			name: "OVN: a stale ACL",
			mutate: ovn(func(s *snapshot.Snapshot) {
				dropRules(group(s, sgLab), func(r snapshot.SecurityGroupRule) bool { return r.ID != ruleLabSSH })
			}),
			want: []expect{{rule: "ovn/acl-mismatch", severity: Error, summary: []string{"1 ACL(s) belong to no rule"}, evidence: []string{"stale in OVN: ACL", "tcp.dst == 22"}}},
		},
		{
			// The ICMP ACL edited behind Neutron's back, its rule ID kept:
			// matching by ID sees nothing, evaluating the ACLs does.
			name:   "OVN: the ICMP ACL admits echo replies only",
			mutate: ovn(editACL(ruleLabICMP, " && icmp4", " && icmp4 && icmp4.type == 0")),
			first:  "ovn/acl-mismatch",
			want: []expect{{rule: "ovn/acl-mismatch", severity: Error, summary: []string{"OVN's ACLs for port", "the rules admit ping (ICMP echo request) from anywhere, OVN's ACLs do not"},
				evidence: []string{"icmp type 8"}}},
		},
		{
			name: "OVN: the SSH ACL moved to another port, asked with --check",
			mutate: ovn(editACL(ruleLabSSH, "tcp.dst == 22", "tcp.dst == 2222"), func(s *snapshot.Snapshot) {
				s.RemoteGroupMembers = map[string][]string{sgDefault: {"10.0.0.12"}}
			}),
			checks: []string{"tcp/22"},
			froms:  []string{"203.0.113.7"},
			want:   []expect{{rule: "ovn/acl-mismatch", severity: Error, summary: []string{"the rules admit tcp/22 from 203.0.113.7/32, OVN's ACLs do not"}}},
		},
		{
			name:   "OVN: the security group has no port group",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).NB.PortGroups = ovnOf(s).NB.PortGroups[:1] }),
			want:   []expect{{rule: "ovn/acl-mismatch", severity: Error, summary: []string{"has no Port_Group in OVN"}}},
		},
		{
			name:   "OVN: the gateway chassis set to one that does not exist",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).NB.GatewayChassis[0].ChassisName = "bogus" }),
			first:  "ovn/gateway-chassis-missing",
			want: []expect{{rule: "ovn/gateway-chassis-missing", severity: Error, summary: []string{"router1's gateway port lrp-" + gwPort, "no registered chassis (bogus (priority 1))"},
				fix: []string{"ovn-nbctl lrp-del-gateway-chassis lrp-" + gwPort + " bogus", "lrp-set-gateway-chassis"}}},
		},
		{
			// Two gateway chassis, ctl (checked) and gw2: ctl's BFD to
			// gw2 is down (the recording's gw2 tunnel).
			name: "OVN: BFD down between the gateway chassis",
			mutate: ovn(func(s *snapshot.Snapshot) {
				nb, sb := ovnOf(s).NB, ovnOf(s).SB
				nb.GatewayChassis = append(nb.GatewayChassis, snapshot.OVNGatewayChassis{UUID: "gc-gw2", ChassisName: "gw2", Priority: 2})
				for i := range nb.RouterPorts {
					if len(nb.RouterPorts[i].GatewayChassis) > 0 {
						nb.RouterPorts[i].GatewayChassis = append(nb.RouterPorts[i].GatewayChassis, "gc-gw2")
					}
				}
				sb.Chassis = append(sb.Chassis, snapshot.OVNChassis{UUID: "ch-gw2", Name: "gw2", Hostname: "gw2"})
			}),
			first: "ovn/gateway-chassis-missing",
			want: []expect{{rule: "ovn/gateway-chassis-missing", severity: Error, summary: []string{"gateway chassis ctl, gw2 do not see each other over BFD"},
				evidence: []string{"host ctl: BFD to gateway chassis gw2 over ovn-gw2-0 (192.0.2.12) is down: Control Detection Time Expired"}}},
		},
		{
			name:   "OVN: the router's Logical_Router missing",
			mutate: ovn(func(s *snapshot.Snapshot) { ovnOf(s).NB.Routers = nil }),
			want:   []expect{{rule: "ovn/gateway-chassis-missing", severity: Error, summary: []string{"has no Logical_Router in OVN"}}},
		},
		{
			name: "OVN: the floating IP's NAT missing",
			mutate: ovn(func(s *snapshot.Snapshot) {
				nb := ovnOf(s).NB
				nb.NATs = slices.DeleteFunc(nb.NATs, func(n snapshot.OVNNAT) bool { return n.Type == "dnat_and_snat" })
			}),
			first: "ovn/nat-missing",
			want:  []expect{{rule: "ovn/nat-missing", severity: Error, summary: []string{"floating IP 172.24.4.150 has no dnat_and_snat"}, evidence: []string{"snat 172.24.4.10↔10.0.0.0/24"}}},
		},
		{
			name: "OVN: the router's SNAT missing",
			mutate: ovn(func(s *snapshot.Snapshot) {
				nb := ovnOf(s).NB
				nb.NATs = slices.DeleteFunc(nb.NATs, func(n snapshot.OVNNAT) bool { return n.Type == "snat" })
			}),
			want: []expect{{rule: "ovn/nat-missing", severity: Error, summary: []string{"no snat NAT for subnet 10.0.0.0/24"}}},
		},
		{
			name:   "OVN: no ovnmeta namespace on the chassis",
			mutate: ovn(func(s *snapshot.Snapshot) { s.Hosts[0].Namespaces = nil }),
			want: []expect{{rule: "ovn/metadata-missing", severity: Warning, summary: []string{"no namespace ovnmeta-" + netPrivate},
				fix: []string{"systemctl restart neutron-ovn-metadata-agent"}}},
		},
		{
			name: "OVN: the metadata agent stopped, its haproxy gone",
			mutate: ovn(func(s *snapshot.Snapshot) {
				s.Agents[1].Alive = false
				s.Hosts[0].Processes = s.Hosts[0].Processes[:1]
			}),
			first: "agent/metadata-down",
			want:  []expect{{rule: "agent/metadata-down", severity: Warning}, {rule: "ovn/metadata-missing", severity: Info, summary: []string{"no haproxy", "it follows from agent/metadata-down"}}},
		},
		{
			// OVN's answer alone: the rules and ACLs match, yet the
			// pipeline drops the ping (what ovn-trace said in the lab
			// once the ICMP ACL was gone).
			name: "OVN: ovn-trace drops the ping at the default drop ACL",
			mutate: ovn(func(s *snapshot.Snapshot) {
				ovnOf(s).Traces = []snapshot.OVNTrace{labTrace("acl-icmp-deleted-ping-vm1.txt")}
			}),
			first: "ovn/trace-drop",
			want: []expect{{rule: "ovn/trace-drop", severity: Error, summary: []string{"ovn-trace drops ping", `egress(dp="private") table 4 (ls_out_acl)`, "no ACL of the port's security groups (default, lab-sg) admits it"},
				evidence: []string{"neutron_pg_drop is the port group"}}},
		},
		{
			// ML2/OVN plugs the VIF into br-int as the Open vSwitch agent
			// does: the dataplane rules follow it.
			name: "OVN: the VIF down on br-int",
			mutate: ovn(func(s *snapshot.Snapshot) {
				h := &s.Hosts[0]
				h.Links = append(h.Links, snapshot.Link{Name: "tap1a2b3c4d-5e", Up: false, MTU: 1450, MAC: "fe:16:3e:12:34:56"})
				h.OVS = &snapshot.OVS{Bridges: []snapshot.OVSBridge{{Name: "br-int", Ports: []string{"br-int", "tap1a2b3c4d-5e"}}},
					Interfaces: []snapshot.OVSInterface{{Name: "br-int", Type: "internal", OFPort: 65534}, {Name: "tap1a2b3c4d-5e", OFPort: 3}}}
			}),
			want: []expect{{rule: "host/device-down", severity: Error, summary: []string{"tap1a2b3c4d-5e"}, fix: []string{"ip link set tap1a2b3c4d-5e up", "systemctl restart ovn-controller"}}},
		},
		{
			name:    "OVN: the databases not on the hosts checked",
			mutate:  ovn(func(s *snapshot.Snapshot) { o := ovnOf(s); o.NB, o.SB = nil, nil }),
			absent:  []string{"ovn/lsp-missing", "ovn/acl-mismatch"},
			skipped: []string{"ovn/lsp-missing", "ovn/acl-mismatch", "ovn/nb-cfg-lag"},
		},
	}
}

// TestACLRule reads back the rules of Neutron's ACL matches (the shapes
// ovn/acl-mismatch evaluates), and refuses other shapes.
func TestACLRule(t *testing.T) {
	for _, c := range []struct {
		match, action, want string
	}{
		{"outport == @pg_a && ip4 && ip4.src == 0.0.0.0/0 && icmp4", "allow-related", "ingress IPv4 icmp from 0.0.0.0/0"},
		{"outport == @pg_a && ip4 && ip4.src == 10.0.0.0/8 && tcp && tcp.dst >= 8000 && tcp.dst <= 8080", "allow-related", "ingress IPv4 tcp 8000-8080 from 10.0.0.0/8"},
		{"outport == @pg_a && ip4 && ip4.src == $pg_6d5c4b3a_2f1e_4d0c_9b8a_7f6e5d4c3b2a_ip4", "allow-related", "ingress IPv4 any from group 6d5c4b3a…"},
		{"inport == @pg_a && ip6", "allow-related", "egress IPv6 any"},
		{"outport == @pg_a && ip4 && ip4.src == 0.0.0.0/0 && icmp4 && icmp4.type == 8 && icmp4.code == 0", "allow", "ingress IPv4 icmp 8-0 from 0.0.0.0/0"},
		{"outport == @pg_a && ip4 && ip.proto == 47", "allow-related", "ingress IPv4 47"},
		{"outport == @pg_a && ip4 && (tcp.dst == 1 || udp.dst == 1)", "allow-related", ""},
		{"outport == @pg_a && ip4", "drop", ""},
	} {
		r, ok := aclRule(&snapshot.OVNACL{UUID: "u", Match: c.match, Action: c.action})
		got := ""
		if ok {
			got = ruleText(r)
		}
		if got != c.want {
			t.Errorf("%q: %q, want %q", c.match, got, c.want)
		}
	}
}

func FuzzACLRule(f *testing.F) {
	f.Add("outport == @pg_a && ip4 && ip4.src == 10.0.0.0/8 && tcp && tcp.dst >= 8000 && tcp.dst <= 8080")
	f.Add("outport == @pg_a && ip4 && ip4.src == $pg_a_b_ip4 && icmp4 && icmp4.type == 8")
	f.Fuzz(func(t *testing.T, match string) {
		if r, ok := aclRule(&snapshot.OVNACL{UUID: "u", Match: match, Action: "allow-related"}); ok {
			compileRules([]*snapshot.SecurityGroup{{ID: "g", Rules: []snapshot.SecurityGroupRule{r}}}, r.Direction, 4)
			ruleText(r)
		}
	})
}
