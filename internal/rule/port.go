package rule

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

var portAdminDown = &Rule{
	Name:     "port/admin-down",
	Severity: Error,
	Title:    "The port is administratively down",
	Doc: `A port with admin_state_up=False carries no traffic: the L2 agent wires it
into a dead VLAN (Open vSwitch) or leaves its tap down (Linux bridge), and its
status goes DOWN. Someone set it, by hand or by an automation; nothing in the
guest can tell. hoofbeat reads admin_state_up on each of the server's ports.
Its port/down finding is suppressed then, since this explains it.`,
	Fix:   "openstack port set --enable PORT",
	Needs: []string{snapshot.SourcePorts},
	Check: func(in *Input) []Finding {
		var out []Finding
		for i := range in.Snapshot.Ports {
			p := &in.Snapshot.Ports[i]
			if p.AdminStateUp {
				continue
			}
			out = append(out, Finding{
				Subject:     portSubject(p),
				Summary:     fmt.Sprintf("%s%s is administratively down", portLabel(p), ofServer(in.Snapshot)),
				Evidence:    []string{"admin_state_up: false", "status: " + p.Status},
				Remediation: cmds(cmd("openstack", "port", "set", "--enable", p.ID)),
				Verify:      cmds(cmd("openstack", "port", "show", p.ID, "-c", "admin_state_up", "-c", "status").Comment("status turns ACTIVE once the agent rewires it")),
			})
		}
		return out
	},
}

var portBindingFailed = &Rule{
	Name:     "port/binding-failed",
	Severity: Error,
	Title:    "The port is not bound to the server's host",
	Doc: `Before a VIF can carry traffic, ML2 must bind the port on the compute host: a
mechanism driver (openvswitch, linuxbridge, OVN…) with a live agent on that host
that can reach the network's segment accepts it and sets binding:vif_type.
binding:vif_type "binding_failed" means no driver could: typically no live L2
agent on the host, a physical network missing from the agent's
bridge_mappings/interface_mappings, or a tunnel type it does not run.
"unbound" on an ACTIVE server means the port was never (re)bound, and a
binding:host_id that differs from the server's host is a stale binding after
a failed migration or evacuation: the agent on the real host ignores the port.

hoofbeat reads binding:vif_type and binding:host_id (admin-only) on each port
and compares the host with the server's OS-EXT-SRV-ATTR:host (admin-only);
without admin the rule is skipped. "unbound" is judged only on ACTIVE servers
(shelved-offloaded servers are unbound by design) and host mismatches only
when no task (migration) is in progress. When the agents are visible the
evidence quotes the L2 agent of the host and its mappings.`,
	Fix:   "Fix the cause (L2 agent, mappings), then rebind: openstack port set --host HOST PORT, and hard-reboot the server to re-plug the VIF.",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceServerHost},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		srv := s.Server
		var out []Finding
		for i := range s.Ports {
			p := &s.Ports[i]
			vif, host := p.BindingVIFType, p.BindingHostID
			if vif == "" {
				in.uncheck("%s: binding:vif_type is not in the snapshot", portLabel(p))
				continue
			}
			var why string
			switch {
			case vif == "binding_failed":
				why = "binding failed"
			case vif == "unbound" && srv.Status == "ACTIVE":
				why = "is unbound although the server is ACTIVE"
			case host != "" && srv.Host != "" && host != srv.Host && srv.TaskState == "" && vif != "unbound":
				why = fmt.Sprintf("is bound to host %s but the server runs on %s", host, srv.Host)
			default:
				continue
			}
			f := Finding{
				Subject: portSubject(p),
				Summary: fmt.Sprintf("%s %s", portLabel(p), why),
				Evidence: []string{
					"binding:vif_type: " + vif,
					"binding:host_id: " + orNone(host),
					"server host (OS-EXT-SRV-ATTR:host): " + orNone(srv.Host),
					"status: " + p.Status,
				},
			}
			if vif == "binding_failed" {
				f.Summary = fmt.Sprintf("%s: binding failed on host %s", portLabel(p), orNone(host))
			}
			target := srv.Host
			if target == "" {
				target = host
			}
			ev, fixes := bindingContext(s, p, target)
			f.Evidence = append(f.Evidence, ev...)
			f.Remediation = append(f.Remediation, fixes...)
			if _, down := l2Down(s, target); down && target != "" && s.Gap(snapshot.SourceAgents) == nil {
				f.Remediation = append(f.Remediation, onHost(cmd("systemctl", "restart", l2Unit(s, target, vif)), target+", first: its L2 agent is down"))
			}
			f.Remediation = append(f.Remediation,
				cmd("openstack", "port", "set", "--host", target, p.ID).Comment("rebinds the port (ML2 binds it again)"),
				cmd("openstack", "server", "reboot", "--hard", srv.ID).Comment("re-plugs the VIF"),
			)
			f.Verify = cmds(cmd("openstack", "port", "show", p.ID, "-c", "binding_vif_type", "-c", "binding_host_id", "-c", "status"))
			out = append(out, f)
		}
		return out
	},
}

// bindingContext quotes what the agents say about binding a port on host:
// the L2 agents there, their liveness, mappings and tunnel types; and the
// configuration fixes a missing mapping calls for.
func bindingContext(s *snapshot.Snapshot, p *snapshot.Port, host string) (ev []string, fixes []shell.Cmd) {
	if s.Gap(snapshot.SourceAgents) != nil || host == "" {
		return nil, nil
	}
	agents := agentsOn(s, host, l2AgentTypes...)
	if len(agents) == 0 {
		return []string{fmt.Sprintf("no L2 agent (%s) is registered on host %s", strings.Join(l2AgentTypes[:2], ", "), host)}, nil
	}
	n := s.Network(p.NetworkID)
	for _, a := range agents {
		ev = append(ev, fmt.Sprintf("%s: %s", agentLabel(a), agentState(a)))
		if n == nil || n.Provider == nil {
			continue
		}
		switch n.Provider.NetworkType {
		case "flat", "vlan":
			if m := agentMappings(a); m != nil && n.Provider.PhysicalNetwork != "" {
				if _, ok := m[n.Provider.PhysicalNetwork]; !ok {
					ev = append(ev, fmt.Sprintf("the agent maps no interface or bridge for physical network %s of network %s (mappings: %s)", n.Provider.PhysicalNetwork, netLabel(s, n.ID), mappingList(m)))
					if where, ok := mappingOption[a.AgentType]; ok {
						fixes = append(fixes, onHost(cmd("systemctl", "restart", l2Service(a.AgentType)), fmt.Sprintf("%s, after adding %s:<interface or bridge> to %s", host, n.Provider.PhysicalNetwork, where)))
					}
				}
			}
		case "vxlan", "gre", "geneve":
			if len(a.TunnelTypes) > 0 && !slices.Contains(a.TunnelTypes, n.Provider.NetworkType) {
				ev = append(ev, fmt.Sprintf("the agent runs tunnel types %s, not %s of network %s", strings.Join(a.TunnelTypes, ", "), n.Provider.NetworkType, netLabel(s, n.ID)))
			}
		}
	}
	return ev, fixes
}

// mappingOption says where an L2 agent maps physical networks.
var mappingOption = map[string]string{
	snapshot.AgentTypeLinuxBridge: "physical_interface_mappings in [linux_bridge] of /etc/neutron/plugins/ml2/linuxbridge_agent.ini",
	snapshot.AgentTypeOVS:         "bridge_mappings in [ovs] of /etc/neutron/plugins/ml2/openvswitch_agent.ini",
}

// agentMappings reads an L2 agent's physical network mappings
// (bridge_mappings, interface_mappings or device_mappings); nil when absent.
func agentMappings(a *snapshot.Agent) map[string]json.RawMessage {
	var c map[string]json.RawMessage
	if len(a.Configurations) == 0 || json.Unmarshal(a.Configurations, &c) != nil {
		return nil
	}
	for _, k := range []string{"bridge_mappings", "interface_mappings", "device_mappings"} {
		if raw, ok := c[k]; ok {
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) == nil {
				if m == nil {
					m = map[string]json.RawMessage{}
				}
				return m
			}
		}
	}
	return nil
}

func mappingList(m map[string]json.RawMessage) string {
	var ks []string
	for k, v := range m {
		ks = append(ks, k+"="+strings.Trim(string(v), `"`))
	}
	sort.Strings(ks)
	return orNone(strings.Join(ks, ", "))
}

// l2Down reports whether no L2 agent on host is alive and admin-up. The
// agent returned is the first one there, nil when none is registered.
func l2Down(s *snapshot.Snapshot, host string) (*snapshot.Agent, bool) {
	agents := agentsOn(s, host, l2AgentTypes...)
	for _, a := range agents {
		if agentUp(a) {
			return a, false
		}
	}
	if len(agents) == 0 {
		return nil, true
	}
	return agents[0], true
}

// l2Unit names the systemd unit of the L2 agent on host: the registered
// agent's, else the one the port's vif_type implies, else the kind the other
// hosts run, else Open vSwitch's.
func l2Unit(s *snapshot.Snapshot, host, vifType string) string {
	if as := agentsOn(s, host, l2AgentTypes...); len(as) > 0 {
		return l2Service(as[0].AgentType)
	}
	switch vifType {
	case "ovs", "vhostuser":
		return l2Service(snapshot.AgentTypeOVS)
	case "bridge", "tap":
		return l2Service(snapshot.AgentTypeLinuxBridge)
	}
	for _, a := range s.Agents {
		if slices.Contains(l2AgentTypes, a.AgentType) {
			return l2Service(a.AgentType)
		}
	}
	return l2Service(snapshot.AgentTypeOVS)
}

var portDown = &Rule{
	Name:     "port/down",
	Severity: Error,
	Title:    "The port is DOWN while the server runs",
	Doc: `Neutron sets a port ACTIVE when the L2 agent on its host has wired it: found
the VIF (tap device), put it on the network's bridge or VLAN and applied the
security groups. A port that stays DOWN (or BUILD, or ERROR) while the server
is ACTIVE was never wired: the agent did not see the tap (the hypervisor or
os-vif did not plug it), failed to process it, or lost contact with the server.
Nothing reaches the guest.

hoofbeat reads each port's status when the server is ACTIVE. The finding is
left out when a cause is already reported: the port is admin-down
(port/admin-down), its network is admin-down (network/admin-down), its binding
failed (port/binding-failed), or the L2 agent on its host is dead
(agent/l2-down) — each of those findings is the one to act on.

On ML2/OVN there is no L2 agent: ovn-controller claims the port on its
chassis, OVN marks its Logical_Switch_Port up, and Neutron sets the port
ACTIVE on that "up" event and on nothing else. When OVN's databases were read
(--hosts) and the port is up there and bound on the server's host, the
finding says that Neutron missed the event: its status is stale, nothing in
Neutron retries, and the fix is to re-plug the VIF so that OVN sends the
event again. Otherwise the ovn/ findings about the port name the cause.`,
	Fix:    "Check the L2 agent on the port's host and its log for the tap device; restart the agent, or hard-reboot the server to re-plug the VIF.",
	Causes: []*Rule{ovnLSPMissing, ovnBindingWrongChassis, ovnLSPDown},
	Needs:  []string{snapshot.SourcePorts},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		srv := s.Server
		if srv.Status != "ACTIVE" {
			return nil
		}
		var out []Finding
		for i := range s.Ports {
			p := &s.Ports[i]
			switch p.Status {
			case "DOWN", "BUILD", "ERROR":
			default:
				continue
			}
			if !p.AdminStateUp {
				continue // port/admin-down
			}
			if n := s.Network(p.NetworkID); n != nil && !n.AdminStateUp {
				continue // network/admin-down
			}
			bindingSeen := s.Gap(snapshot.SourceServerHost) == nil && p.BindingVIFType != ""
			if bindingSeen && (p.BindingVIFType == "binding_failed" || p.BindingVIFType == "unbound") {
				continue // port/binding-failed
			}
			host := p.BindingHostID
			if host == "" {
				host = srv.Host
			}
			if IsOVN(s) {
				out = append(out, ovnPortDown(s, p, host))
				continue
			}
			agentsSeen := s.Gap(snapshot.SourceAgents) == nil && host != ""
			if _, down := l2Down(s, host); agentsSeen && down {
				continue // agent/l2-down
			}
			f := Finding{
				Subject: portSubject(p),
				Summary: fmt.Sprintf("%s is %s while server %s is ACTIVE: the L2 agent never wired it", portLabel(p), p.Status, srv.Name),
				Evidence: []string{
					"status: " + p.Status,
					"admin_state_up: true",
					"server status: ACTIVE",
				},
			}
			if bindingSeen {
				f.Evidence = append(f.Evidence, "binding:host_id: "+orNone(p.BindingHostID), "binding:vif_type: "+p.BindingVIFType)
			}
			if agentsSeen {
				for _, a := range agentsOn(s, host, l2AgentTypes...) {
					f.Evidence = append(f.Evidence, fmt.Sprintf("%s: %s", agentLabel(a), agentState(a)))
				}
			}
			tap := "tap" + p.ID[:min(11, len(p.ID))]
			unit := l2Unit(s, host, p.BindingVIFType)
			on := "on the server's compute host"
			if host != "" {
				on = "on host " + host
				f.Remediation = append(f.Remediation, cmd("openstack", "network", "agent", "list", "--host", host))
			}
			f.Remediation = append(f.Remediation,
				cmd("ip", "link", "show", tap).Comment(on+": the VIF must exist and be on the network's bridge"),
				cmd("journalctl", "-u", unit, "--since", "-1h").Pipe("grep", "-F", "-e", tap).Comment(on),
				cmd("systemctl", "restart", unit).Comment(on),
				cmd("openstack", "server", "reboot", "--hard", srv.ID).Comment("if the tap is missing: re-plugs the VIF"),
			)
			f.Verify = cmds(cmd("openstack", "port", "show", p.ID, "-c", "status"))
			out = append(out, f)
		}
		return out
	},
}

// ovnPortDown is port/down on ML2/OVN, where no L2 agent wires the port.
func ovnPortDown(s *snapshot.Snapshot, p *snapshot.Port, host string) Finding {
	srv := s.Server
	f := Finding{
		Subject:  portSubject(p),
		Evidence: []string{"status: " + p.Status, "admin_state_up: true", "server status: ACTIVE"},
		Verify:   cmds(cmd("openstack", "port", "show", p.ID, "-c", "status")),
	}
	replug := cmd("openstack", "server", "reboot", "--hard", srv.ID)
	db, _ := locateOVN(s)
	if db != nil {
		lsp, pb := db.lsp(p.ID), db.binding(p.ID)
		var ch *snapshot.OVNChassis
		if pb != nil && pb.Chassis != "" {
			ch = db.chassisByUUID(pb.Chassis)
		}
		if lsp != nil && isTrue(lsp.Up) && (lsp.Enabled == nil || *lsp.Enabled) && ch != nil && (host == "" || ch.Hostname == host) {
			f.Summary = fmt.Sprintf("%s is %s while server %s is ACTIVE, yet OVN has it up on chassis %s: Neutron missed OVN's \"up\" event and nothing in Neutron retries", portLabel(p), p.Status, srv.Name, ch.Name)
			f.Evidence = append(f.Evidence,
				fmt.Sprintf("Logical_Switch_Port %s: up=true enabled=%s", lsp.Name, optBool(lsp.Enabled)),
				fmt.Sprintf("Port_Binding %s: chassis %s (host %s), up=%s", pb.LogicalPort, ch.Name, ch.Hostname, optBool(pb.Up)))
			f.Remediation = cmds(
				note("the data plane may well pass: the status is what Nova and orchestration wait on (network-vif-plugged)"),
				replug.Comment("re-plugs the VIF: OVN reports the port down, then up again, and Neutron follows"),
			)
			return f
		}
	}
	f.Summary = fmt.Sprintf("%s is %s while server %s is ACTIVE: OVN has not reported it up (no ovn-controller claimed it, or Neutron missed the event)", portLabel(p), p.Status, srv.Name)
	if p.BindingHostID != "" {
		f.Evidence = append(f.Evidence, "binding:host_id: "+p.BindingHostID)
	}
	on := "on the server's host"
	if host != "" {
		on = "on host " + host
	}
	sb := cmd("ovn-sbctl", "--columns=logical_port,chassis,up", "find", "Port_Binding", "logical_port="+p.ID)
	if db != nil {
		sb = onHost(sb, db.host)
	}
	f.Remediation = cmds(
		cmd("ovs-vsctl", "--columns=name,external_ids", "find", "Interface", "external_ids:iface-id="+p.ID).Comment(on+": the VIF must be on br-int with the port's ID"),
		cmd("ovn-appctl", "-t", "ovn-controller", "connection-status").Comment(on),
		sb,
		cmd("journalctl", "-u", "ovn-controller", "--since", "-1h").Pipe("grep", "-F", "-e", p.ID).Comment(on),
		replug.Comment("if the VIF is missing, or OVN has the port up: re-plugs it"),
	)
	return f
}

var portNoFixedIP = &Rule{
	Name:     "port/no-fixed-ip",
	Severity: Error,
	Title:    "The port has no fixed IP",
	Doc: `A port without a fixed IP has no address for the guest to use: DHCP offers
nothing, anti-spoofing drops whatever the guest sends, and no floating IP can
be associated. It happens when a port is created with --no-fixed-ip, on a
network without a subnet, or when its address was removed.

hoofbeat reads each port's fixed_ips. When the collector fetched the
network's IP availability (it does so exactly when a port lacks a fixed IP),
the evidence says whether the subnets have room left (see
subnet/pool-exhausted).`,
	Fix:   "Give the port an address: openstack port set --fixed-ip subnet=SUBNET PORT, then let the guest renew its lease.",
	Needs: []string{snapshot.SourcePorts},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for i := range s.Ports {
			p := &s.Ports[i]
			if len(p.FixedIPs) > 0 {
				continue
			}
			f := Finding{
				Subject:  portSubject(p),
				Summary:  fmt.Sprintf("%s on network %s has no fixed IP", portLabel(p), netLabel(s, p.NetworkID)),
				Evidence: []string{"fixed_ips: none", "network_id: " + p.NetworkID},
			}
			var subnets []*snapshot.Subnet
			for j := range s.Subnets {
				if s.Subnets[j].NetworkID == p.NetworkID {
					subnets = append(subnets, &s.Subnets[j])
				}
			}
			sort.SliceStable(subnets, func(a, b int) bool { return subnets[a].IPVersion < subnets[b].IPVersion })
			if len(subnets) == 0 {
				f.Evidence = append(f.Evidence, fmt.Sprintf("network %s has no subnet in the snapshot", netLabel(s, p.NetworkID)))
				f.Remediation = cmds(
					cmd("openstack", "subnet", "create", "--network", p.NetworkID, "--subnet-range", "CIDR", netLabel(s, p.NetworkID)+"-subnet").Comment("choose the CIDR"),
					cmd("openstack", "port", "set", "--fixed-ip", "subnet="+netLabel(s, p.NetworkID)+"-subnet", p.ID),
				)
			} else {
				for _, sn := range subnets {
					line := "subnet " + subnetLabel(sn)
					if used, total, ok := subnetUsage(s, sn.ID); ok {
						line += fmt.Sprintf(": used_ips %s of total_ips %s", used, total)
						if exhausted(used, total) {
							line += " (exhausted: see subnet/pool-exhausted)"
						}
					}
					f.Evidence = append(f.Evidence, line)
				}
				for _, sn := range subnets {
					if used, total, ok := subnetUsage(s, sn.ID); ok && exhausted(used, total) {
						f.Remediation = append(f.Remediation, cmd("openstack", "ip", "availability", "show", p.NetworkID).Comment("first free an address or widen the pool of "+sn.CIDR+": see subnet/pool-exhausted"))
						break
					}
				}
				f.Remediation = append(f.Remediation, cmd("openstack", "port", "set", "--fixed-ip", "subnet="+subnets[0].ID, p.ID))
			}
			f.Remediation = append(f.Remediation, rebootServer(s, "the guest asks DHCP again")...)
			f.Verify = cmds(cmd("openstack", "port", "show", p.ID, "-c", "fixed_ips"))
			out = append(out, f)
		}
		return out
	},
}
