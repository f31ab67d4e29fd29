package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// Hop statuses of the path view.
type hopStatus string

const (
	statusOK      hopStatus = "ok"
	statusProblem hopStatus = "problem"
	statusSkipped hopStatus = "skipped"
	statusNA      hopStatus = "n/a"
)

type resource struct {
	Kind string
	ID   string
	Name string
}

// hopView is one line of the path view.
type hopView struct {
	Hop string
	// PortID is the port whose path this hop is on; empty for the hops every
	// port shares (instance, hosts).
	PortID string
	Status hopStatus
	// Worst is the highest severity among the hop's findings.
	Worst     rule.Severity
	Resources []resource
	// Text names the hop's resources with their key facts, or "none".
	Text string
	// Note says why the status is what it is: the top finding's summary,
	// the skip reason, why the hop does not apply.
	Note string
	// SkippedChecks counts this hop's rules that did not run, or ran only in
	// part, while the hop has a status of its own.
	SkippedChecks int
	// Findings are the rules of the findings placed on this hop.
	Findings []string
}

// Detail is the hop's line after the status marker, with full IDs.
func (h hopView) Detail() string {
	d := h.Text
	switch {
	case h.Note == "":
	case h.Text == "none":
		d += ": " + h.Note
	default:
		d += " — " + h.Note
	}
	if h.SkippedChecks > 0 {
		d += fmt.Sprintf(" (%s skipped)", plural(h.SkippedChecks, "check", "checks"))
	}
	return d
}

// hopRules tallies the rules of one hop over the whole result.
type hopRules struct {
	rules map[string]bool
	// skipped are the rules that did not run, or ran only in part.
	skipped map[string]bool
	reasons []string
	// notApplicable are why the hop's rules did not apply to a port
	// diagnosed alone (its security groups filter no VIF of a server).
	notApplicable []string
}

type pathBuilder struct {
	s     *snapshot.Snapshot
	stats map[string]*hopRules
	// findings by hop, each with the ports it applies to (nil: all).
	findings map[string][]placed
}

type placed struct {
	f     findingView
	ports map[string]bool
}

// portScope is every resource ID on one port's path: a finding whose subject
// is one of them belongs to that port's path only.
type portScope struct {
	port topology.Port
	ids  map[string]bool
}

func buildPath(s *snapshot.Snapshot, findings []findingView, res rule.Result, place placer) []hopView {
	b := &pathBuilder{s: s, stats: map[string]*hopRules{}, findings: map[string][]placed{}}
	tally := func(name, domain string) *hopRules {
		h := place(name, domain)
		st := b.stats[h]
		if st == nil {
			st = &hopRules{rules: map[string]bool{}, skipped: map[string]bool{}}
			b.stats[h] = st
		}
		st.rules[name] = true
		return st
	}
	for _, p := range res.Passed {
		tally(p, "")
	}
	if s.PortOnly() {
		for _, n := range res.NotApplicable {
			h := place(n.Rule, n.Domain)
			if b.stats[h] == nil {
				b.stats[h] = &hopRules{rules: map[string]bool{}, skipped: map[string]bool{}}
			}
			if st := b.stats[h]; !contains(st.notApplicable, n.Reason) {
				st.notApplicable = append(st.notApplicable, n.Reason)
			}
		}
	}
	for _, f := range res.Findings {
		tally(f.Rule, f.Domain)
	}
	for _, sk := range res.Skipped {
		st := tally(sk.Rule, sk.Domain)
		st.skipped[sk.Rule] = true
		if !contains(st.reasons, sk.Reason) {
			st.reasons = append(st.reasons, sk.Reason)
		}
	}

	var scopes []portScope
	if s.Server != nil || s.PortOnly() {
		for _, p := range topology.New(s).Ports {
			scopes = append(scopes, portScope{port: p, ids: b.scopeIDs(p)})
		}
	}
	for _, f := range findings {
		var ports map[string]bool
		if f.Subject.ID != "" {
			for _, sc := range scopes {
				if sc.ids[f.Subject.ID] {
					if ports == nil {
						ports = map[string]bool{}
					}
					ports[sc.port.ID] = true
				}
			}
		}
		b.findings[f.Hop] = append(b.findings[f.Hop], placed{f: f, ports: ports})
	}

	var path []hopView
	path = append(path, b.instance())
	if s.Server != nil || s.PortOnly() {
		if len(s.Ports) == 0 {
			path = append(path, b.hop(rule.HopPort, "", nil, false, "the server has no port"))
		}
		for _, sc := range scopes {
			path = append(path, b.portPath(sc.port)...)
		}
	}
	if st := b.stats[rule.HopHosts]; st != nil && len(st.skipped) < len(st.rules) {
		path = append(path, b.hosts())
	}
	return path
}

// listHop is a hop whose line lists its resources' texts, joined by sep;
// absent says why there is none.
func (b *pathBuilder) listHop(name, portID string, res []resource, text []string, sep, absent string) hopView {
	h := b.hop(name, portID, res, len(res) > 0, absent)
	if len(res) > 0 {
		h.Text = strings.Join(text, sep)
	}
	return h
}

// hop decides a hop's status from the findings placed on it for portID, the
// rules that ran for it and whether its resource exists.
func (b *pathBuilder) hop(name, portID string, res []resource, present bool, absent string) hopView {
	h := hopView{Hop: name, PortID: portID, Resources: res, Text: resourceText(res)}
	var problems, infos []findingView
	for _, pl := range b.findings[name] {
		if portID != "" && pl.ports != nil && !pl.ports[portID] {
			continue
		}
		h.Findings = appendUnique(h.Findings, pl.f.Rule)
		if pl.f.Severity > h.Worst {
			h.Worst = pl.f.Severity
		}
		if pl.f.Severity >= rule.Warning {
			problems = append(problems, pl.f)
		} else {
			infos = append(infos, pl.f)
		}
	}
	st := b.stats[name]
	if st == nil {
		st = &hopRules{}
	}
	switch {
	case len(problems) > 0:
		h.Status = statusProblem
		h.Note = problems[0].Summary
		if n := len(problems) - 1; n > 0 {
			h.Note += fmt.Sprintf(" (+%s)", plural(n, "more finding", "more findings"))
		}
	case len(st.rules) > 0 && len(st.skipped) == len(st.rules):
		h.Status = statusSkipped
		h.Note = strings.Join(st.reasons, "; ")
	case len(st.rules) == 0 && len(st.notApplicable) > 0 && present:
		h.Status = statusNA
		h.Note = strings.Join(st.notApplicable, "; ")
	case !present:
		h.Status = statusNA
		h.Note = absent
		if len(infos) > 0 {
			h.Note = infos[0].Summary
		}
	default:
		h.Status = statusOK
		if len(infos) > 0 {
			h.Note = infos[0].Summary
		}
	}
	if h.Status != statusSkipped {
		h.SkippedChecks = len(st.skipped)
	}
	return h
}

func (b *pathBuilder) instance() hopView {
	srv := b.s.Server
	if srv == nil && b.s.PortOnly() {
		return b.hop(rule.HopInstance, "", nil, false, "no server: the port is diagnosed alone")
	}
	if srv == nil {
		why := "not in the snapshot"
		if g := b.s.Gap(snapshot.SourceServer); g != nil {
			why = g.Reason
		}
		h := b.hop(rule.HopInstance, "", nil, false, why)
		if h.Status != statusProblem {
			// Nothing about the path can be said without the server.
			h.Status = statusSkipped
		}
		return h
	}
	h := b.hop(rule.HopInstance, "", []resource{{Kind: "server", ID: srv.ID, Name: srv.Name}}, true, "")
	var t []string
	t = append(t, orID(srv.Name, srv.ID), srv.Status)
	if srv.TaskState != "" {
		t = append(t, "("+srv.TaskState+")")
	}
	switch {
	case srv.Host != "":
		t = append(t, "on", srv.Host)
	case b.s.Gap(snapshot.SourceServerHost) != nil:
		t[len(t)-1] += ","
		t = append(t, "host hidden")
	}
	if srv.Fault != nil && srv.Fault.Message != "" {
		// The message only: the details hold tracebacks, not for a path line.
		t[len(t)-1] += ","
		t = append(t, "fault: "+strings.TrimRight(srv.Fault.Message, ". "))
	}
	h.Text = strings.Join(t, " ")
	return h
}

// portPath is one port's hops, each from the view (package topology) of what
// the port's path goes through.
func (b *pathBuilder) portPath(vp topology.Port) []hopView {
	hops := []hopView{
		b.portHop(vp), b.securityGroupsHop(vp), b.subnetHop(vp), b.networkHop(vp),
		b.dhcpHop(vp), b.routerHop(vp), b.gatewayHop(vp), b.floatingIPHop(vp),
	}
	if o := ovnDatabases(b.s); o != nil {
		hops = append(hops, b.ovnHop(vp, o))
	}
	return hops
}

// ovnDatabases is the OVN read on the database host, nil when none was.
func ovnDatabases(s *snapshot.Snapshot) *snapshot.OVN {
	for _, h := range s.Hosts {
		if h.OVN != nil && h.OVN.NB != nil && h.OVN.SB != nil {
			return h.OVN
		}
	}
	return nil
}

// ovnHop follows the port along OVN's logical path: its Logical_Switch_Port,
// the switch, the router port on it, the router's gateway chassis and the
// NAT of its floating IPs; "✗" marks where ovn-trace drops a checked
// packet to the port (a switch stage on the switch, a router stage on the
// router).
func (b *pathBuilder) ovnHop(vp topology.Port, o *snapshot.OVN) hopView {
	nb, sb := o.NB, o.SB
	// Where each trace to this port drops, by the element it drops on,
	// each stage once with the flows it drops.
	type drop struct{ at, stage string }
	var order []drop
	flows := map[drop][]string{}
	for _, t := range o.Traces {
		if t.Delivered || t.Error != "" || !slices.ContainsFunc(vp.FixedIPs, func(f snapshot.FixedIP) bool { return strings.Contains(t.Label, " to "+f.IPAddress) }) &&
			!slices.ContainsFunc(vp.FloatingIPs, func(f *snapshot.FloatingIP) bool { return strings.HasSuffix(t.Label, " "+f.FloatingIPAddress) }) {
			continue
		}
		d := drop{at: "switch", stage: fmt.Sprintf("%s table %d %s", pipelineOf(t.Pipeline), t.Table, t.Stage)}
		if strings.HasPrefix(t.Stage, "lr_") {
			d.at = "router"
		}
		if _, seen := flows[d]; !seen {
			order = append(order, d)
		}
		flows[d] = append(flows[d], strings.SplitN(t.Label, " to ", 2)[0])
	}
	var parts []string
	mark := func(text, at string) string {
		for _, d := range order {
			if d.at == at {
				text += fmt.Sprintf(" ✗ dropped at %s (%s)", d.stage, strings.Join(flows[d], ", "))
			}
		}
		return text
	}
	lsp := "LSP none"
	for _, p := range nb.SwitchPorts {
		if p.Name == vp.ID {
			lsp = "LSP " + shortOrID(p.Name)
			if p.Up != nil && *p.Up {
				lsp += " up"
			} else {
				lsp += " down"
			}
			for _, pb := range sb.PortBindings {
				if pb.LogicalPort == p.Name {
					for _, c := range sb.Chassis {
						if c.UUID == pb.Chassis {
							lsp += " on " + c.Name
						}
					}
				}
			}
		}
	}
	parts = append(parts, lsp)
	sw := "switch none"
	for _, ls := range nb.Switches {
		if ls.Name == "neutron-"+vp.NetworkID {
			sw = "switch " + orID(ls.ExternalIDs["neutron:network_name"], ls.Name)
		}
	}
	parts = append(parts, mark(sw, "switch"))
	for _, l := range vp.Routers {
		for _, lr := range nb.Routers {
			if lr.Name != "neutron-"+l.ID {
				continue
			}
			rp := "router port none"
			for _, p := range nb.RouterPorts {
				if p.Name == "lrp-"+l.Port.ID {
					rp = "router port " + strings.Join(p.Networks, " ")
				}
			}
			parts = append(parts, mark(rp+" of "+orID(lr.ExternalIDs["neutron:router_name"], lr.Name), "router"))
			var gws []string
			for _, p := range nb.RouterPorts {
				if !slices.Contains(lr.Ports, p.UUID) {
					continue
				}
				for _, g := range append(slices.Clone(nb.GatewayChassis), nb.HAChassis...) {
					if slices.Contains(p.GatewayChassis, g.UUID) {
						gws = append(gws, g.ChassisName)
					}
				}
			}
			if len(gws) > 0 {
				parts = append(parts, "gateway chassis "+strings.Join(gws, ", "))
			}
			var nats []string
			for _, n := range nb.NATs {
				if !slices.Contains(lr.NAT, n.UUID) {
					continue
				}
				if n.Type == "dnat_and_snat" && slices.ContainsFunc(vp.FixedIPs, func(f snapshot.FixedIP) bool { return f.IPAddress == n.LogicalIP }) {
					nats = append(nats, "NAT "+n.ExternalIP+"↔"+n.LogicalIP)
				}
			}
			parts = append(parts, nats...)
		}
	}
	h := b.hop(rule.HopOVN, vp.ID, []resource{{Kind: "port", ID: vp.ID, Name: vp.Name}}, true, "")
	h.Text = strings.Join(parts, " → ")
	return h
}

// pipelineOf shortens ovn-trace's pipeline header to its datapath:
// egress(dp="private", inport=…) → egress(dp="private").
func pipelineOf(p string) string {
	if i := strings.Index(p, ","); i > 0 {
		return p[:i] + ")"
	}
	return p
}

func shortOrID(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

func (b *pathBuilder) portHop(vp topology.Port) hopView {
	p := vp.Port
	h := b.hop(rule.HopPort, p.ID, []resource{{Kind: "port", ID: p.ID, Name: p.Name}}, true, "")
	t := []string{orID(p.Name, p.ID)}
	var ips []string
	for _, ip := range p.FixedIPs {
		ips = append(ips, ip.IPAddress)
	}
	if len(ips) == 0 {
		t = append(t, "no fixed IP")
	} else {
		t = append(t, strings.Join(ips, ","))
	}
	t = append(t, p.Status)
	if !p.AdminStateUp {
		t = append(t, "admin-down")
	}
	if p.BindingHostID != "" {
		t = append(t, "on", p.BindingHostID)
	}
	h.Text = strings.Join(t, " ")
	return h
}

func (b *pathBuilder) securityGroupsHop(vp topology.Port) hopView {
	p := vp.Port
	var groups []resource
	absent := "no security group on the port"
	if p.PortSecurityEnabled != nil && !*p.PortSecurityEnabled {
		absent = "port security is disabled on this port"
	} else {
		for _, gid := range p.SecurityGroups {
			r := resource{Kind: "security-group", ID: gid}
			if g := b.s.SecurityGroup(gid); g != nil {
				r.Name = g.Name
			}
			groups = append(groups, r)
		}
	}
	return b.hop(rule.HopSecurityGroups, p.ID, groups, len(groups) > 0, absent)
}

func (b *pathBuilder) subnetHop(vp topology.Port) hopView {
	var subnets []resource
	var text []string
	for _, sn := range vp.Subnets {
		r := resource{Kind: "subnet", ID: sn.ID}
		txt := sn.ID
		if sn.Subnet != nil {
			r.Name = sn.Name
			gw := "no gateway"
			if sn.GatewayIP != "" {
				gw = "gateway " + sn.GatewayIP
			}
			dhcp := "DHCP off"
			if sn.EnableDHCP {
				dhcp = "DHCP on"
			}
			txt = fmt.Sprintf("%s %s %s, %s", orID(sn.Name, sn.ID), sn.CIDR, gw, dhcp)
		}
		subnets = append(subnets, r)
		text = append(text, txt)
	}
	return b.listHop(rule.HopSubnet, vp.ID, subnets, text, "; ", "the port has no fixed IP")
}

// subnetNames names the port's subnets, for the hops' "absent" notes.
func subnetNames(vp topology.Port) []string {
	var out []string
	for _, sn := range vp.Subnets {
		name := ""
		if sn.Subnet != nil {
			name = sn.Name
		}
		out = append(out, orID(name, sn.ID))
	}
	return out
}

func networkResource(vp topology.Port) resource {
	r := resource{Kind: "network", ID: vp.NetworkID}
	if vp.Network != nil {
		r.Name = vp.Network.Name
	}
	return r
}

func (b *pathBuilder) networkHop(vp topology.Port) hopView {
	h := b.hop(rule.HopNetwork, vp.ID, []resource{networkResource(vp)}, true, "")
	net := vp.Network
	if net == nil {
		return h
	}
	t := []string{orID(net.Name, net.ID), net.Status}
	if !net.AdminStateUp {
		t = append(t, "admin-down")
	}
	if net.External {
		t = append(t, "external")
	}
	if pv := net.Provider; pv != nil {
		seg := pv.NetworkType
		if pv.PhysicalNetwork != "" {
			seg += " " + pv.PhysicalNetwork
		}
		if pv.SegmentationID != nil {
			seg += fmt.Sprintf(" %d", *pv.SegmentationID)
		}
		t = append(t, seg)
	}
	if net.MTU > 0 {
		t = append(t, fmt.Sprintf("MTU %d", net.MTU))
	}
	h.Text = strings.Join(t, " ")
	return h
}

func (b *pathBuilder) dhcpHop(vp topology.Port) hopView {
	var dhcp []resource
	var text []string
	for _, dp := range vp.DHCPPorts {
		dhcp = append(dhcp, resource{Kind: "port", ID: dp.ID, Name: dp.Name})
		t := []string{}
		for _, ip := range dp.FixedIPs {
			t = append(t, ip.IPAddress)
		}
		if len(t) == 0 {
			t = append(t, orID(dp.Name, dp.ID))
		}
		t = append(t, dp.Status)
		if dp.BindingHostID != "" {
			t = append(t, "on", dp.BindingHostID)
		}
		text = append(text, strings.Join(t, " "))
	}
	nr := networkResource(vp)
	absent := "no DHCP port on " + orID(nr.Name, nr.ID)
	dhcpOn := false
	for _, sn := range vp.Subnets {
		dhcpOn = dhcpOn || sn.Subnet == nil || sn.EnableDHCP
	}
	switch {
	case len(vp.Subnets) > 0 && !dhcpOn:
		absent = "DHCP is disabled on " + strings.Join(subnetNames(vp), ", ")
	case rule.IsOVN(b.s):
		absent = "no DHCP port: on ML2/OVN, ovn-controller answers DHCP from the subnet's DHCP_Options"
	}
	return b.listHop(rule.HopDHCP, vp.ID, dhcp, text, ", ", absent)
}

// routers are the port's routers, each once (by its first leg).
func routers(vp topology.Port) []topology.RouterLeg {
	var out []topology.RouterLeg
	for _, l := range vp.Routers {
		if !slices.ContainsFunc(out, func(o topology.RouterLeg) bool { return o.ID == l.ID }) {
			out = append(out, l)
		}
	}
	return out
}

func (b *pathBuilder) routerHop(vp topology.Port) hopView {
	var res []resource
	var text []string
	for _, l := range routers(vp) {
		r := resource{Kind: "router", ID: l.ID}
		txt := l.ID + " interface " + l.Address
		if rt := l.Router; rt != nil {
			r.Name = rt.Name
			t := []string{orID(rt.Name, rt.ID), rt.Status}
			if !rt.AdminStateUp {
				t = append(t, "admin-down")
			}
			if rt.HA != nil && *rt.HA {
				t = append(t, "HA")
			}
			if rt.Distributed != nil && *rt.Distributed {
				t = append(t, "DVR")
			}
			t = append(t, "interface", l.Address)
			txt = strings.Join(t, " ")
		}
		res = append(res, r)
		text = append(text, txt)
	}
	absent := "no router interface on " + strings.Join(subnetNames(vp), ", ")
	if net := vp.Network; net != nil && net.External {
		absent = orID(net.Name, net.ID) + " is an external network"
	}
	return b.listHop(rule.HopRouter, vp.ID, res, text, ", ", absent)
}

func (b *pathBuilder) gatewayHop(vp topology.Port) hopView {
	var gateways []resource
	var text, noGateway []string
	for _, l := range routers(vp) {
		if l.Router == nil {
			continue
		}
		gw := l.Gateway()
		if gw == nil {
			noGateway = append(noGateway, orID(l.Router.Name, l.Router.ID))
			continue
		}
		g := resource{Kind: "network", ID: gw.NetworkID}
		gt := []string{gw.NetworkID}
		if en := b.s.ExternalNetwork(gw.NetworkID); en != nil {
			g.Name = en.Name
			gt = []string{orID(en.Name, en.ID)}
		}
		for _, ip := range gw.ExternalFixedIPs {
			gt = append(gt, ip.IPAddress)
		}
		if gw.EnableSNAT != nil && !*gw.EnableSNAT {
			gt = append(gt, "SNAT off")
		}
		if !containsRes(gateways, g.ID) {
			gateways = append(gateways, g)
			text = append(text, strings.Join(gt, " "))
		}
	}
	absent := "no router"
	if len(noGateway) > 0 {
		absent = strings.Join(noGateway, ", ") + " has no external gateway"
	}
	return b.listHop(rule.HopGateway, vp.ID, gateways, text, ", ", absent)
}

func (b *pathBuilder) floatingIPHop(vp topology.Port) hopView {
	var fips []resource
	var text []string
	for _, f := range vp.FloatingIPs {
		fips = append(fips, resource{Kind: "floating-ip", ID: f.ID, Name: f.FloatingIPAddress})
		t := f.FloatingIPAddress + " " + f.Status
		if f.FixedIPAddress != "" {
			t += " → " + f.FixedIPAddress
		}
		text = append(text, t)
	}
	return b.listHop(rule.HopFloatingIP, vp.ID, fips, text, ", ", "no floating IP")
}

// hosts is the hop of the hosts the diagnosis touched: the server's, the
// ports' bindings and the agents'.
func (b *pathBuilder) hosts() hopView {
	set := map[string]bool{}
	if b.s.Server != nil && b.s.Server.Host != "" {
		set[b.s.Server.Host] = true
	}
	for _, p := range b.s.Ports {
		if p.BindingHostID != "" {
			set[p.BindingHostID] = true
		}
	}
	for _, a := range b.s.Agents {
		if a.Host != "" {
			set[a.Host] = true
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	var res []resource
	for _, n := range names {
		res = append(res, resource{Kind: "host", Name: n})
	}
	return b.hop(rule.HopHosts, "", res, len(res) > 0, "no host is known")
}

// scopeIDs are the resources on one port's path, agents included.
func (b *pathBuilder) scopeIDs(vp topology.Port) map[string]bool {
	s := b.s
	ids := map[string]bool{vp.ID: true, vp.NetworkID: true}
	for _, g := range vp.SecurityGroups {
		ids[g] = true
	}
	for _, sn := range vp.Subnets {
		ids[sn.ID] = true
	}
	for _, dp := range vp.DHCPPorts {
		ids[dp.ID] = true
	}
	for _, a := range s.DHCPAgents[vp.NetworkID] {
		ids[a] = true
	}
	for _, l := range vp.Routers {
		ids[l.Port.ID] = true
		ids[l.ID] = true
		for _, h := range l.Hostings {
			ids[h.AgentID] = true
		}
		if gw := l.Gateway(); gw != nil {
			ids[gw.NetworkID] = true
		}
	}
	for _, f := range vp.FloatingIPs {
		ids[f.ID] = true
	}
	if vp.BindingHostID != "" {
		for _, a := range s.Agents {
			if a.Host == vp.BindingHostID && (a.AgentType == snapshot.AgentTypeOVS || a.AgentType == snapshot.AgentTypeLinuxBridge) {
				ids[a.ID] = true
			}
		}
	}
	return ids
}

func resourceText(res []resource) string {
	if len(res) == 0 {
		return "none"
	}
	names := make([]string, len(res))
	for i, r := range res {
		names[i] = orID(r.Name, r.ID)
	}
	return strings.Join(names, ", ")
}

func orID(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

func containsRes(rs []resource, id string) bool {
	for _, r := range rs {
		if r.ID == id {
			return true
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func appendUnique(xs []string, x string) []string {
	if contains(xs, x) {
		return xs
	}
	return append(xs, x)
}
