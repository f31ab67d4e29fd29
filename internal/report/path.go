package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
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
	port snapshot.Port
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
	if s.Server != nil {
		for _, p := range s.Ports {
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
	if s.Server != nil {
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

func (b *pathBuilder) portPath(p snapshot.Port) []hopView {
	s := b.s
	id := p.ID

	// port
	ph := b.hop(rule.HopPort, id, []resource{{Kind: "port", ID: p.ID, Name: p.Name}}, true, "")
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
	ph.Text = strings.Join(t, " ")
	out := []hopView{ph}

	// security groups
	var groups []resource
	absent := "no security group on the port"
	if p.PortSecurityEnabled != nil && !*p.PortSecurityEnabled {
		absent = "port security is disabled on this port"
	} else {
		for _, gid := range p.SecurityGroups {
			r := resource{Kind: "security-group", ID: gid}
			if g := s.SecurityGroup(gid); g != nil {
				r.Name = g.Name
			}
			groups = append(groups, r)
		}
	}
	sg := b.hop(rule.HopSecurityGroups, id, groups, len(groups) > 0, absent)
	out = append(out, sg)

	// subnets
	var subnets []resource
	var subnetText, subnetNames []string
	dhcpOn := false
	for _, ip := range p.FixedIPs {
		if containsRes(subnets, ip.SubnetID) {
			continue
		}
		r := resource{Kind: "subnet", ID: ip.SubnetID}
		txt := ip.SubnetID
		if sn := s.Subnet(ip.SubnetID); sn != nil {
			r.Name = sn.Name
			gw := "no gateway"
			if sn.GatewayIP != "" {
				gw = "gateway " + sn.GatewayIP
			}
			dhcp := "DHCP off"
			if sn.EnableDHCP {
				dhcp = "DHCP on"
				dhcpOn = true
			}
			txt = fmt.Sprintf("%s %s %s, %s", orID(sn.Name, sn.ID), sn.CIDR, gw, dhcp)
		}
		subnets = append(subnets, r)
		subnetText = append(subnetText, txt)
		subnetNames = append(subnetNames, orID(r.Name, r.ID))
	}
	sh := b.hop(rule.HopSubnet, id, subnets, len(subnets) > 0, "the port has no fixed IP")
	if len(subnets) > 0 {
		sh.Text = strings.Join(subnetText, "; ")
	}
	out = append(out, sh)

	// network
	nr := resource{Kind: "network", ID: p.NetworkID}
	net := s.Network(p.NetworkID)
	if net != nil {
		nr.Name = net.Name
	}
	nh := b.hop(rule.HopNetwork, id, []resource{nr}, true, "")
	if net != nil {
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
		nh.Text = strings.Join(t, " ")
	}
	out = append(out, nh)

	// DHCP
	var dhcp []resource
	var dhcpText []string
	for _, dp := range s.NetworkPortsByOwner(p.NetworkID, snapshot.OwnerDHCP) {
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
		dhcpText = append(dhcpText, strings.Join(t, " "))
	}
	absent = "no DHCP port on " + orID(nr.Name, nr.ID)
	if len(subnets) > 0 && !dhcpOn {
		absent = "DHCP is disabled on " + strings.Join(subnetNames, ", ")
	}
	dh := b.hop(rule.HopDHCP, id, dhcp, len(dhcp) > 0, absent)
	if len(dhcp) > 0 {
		dh.Text = strings.Join(dhcpText, ", ")
	}
	out = append(out, dh)

	// routers with an interface on the port's subnets
	var routers []resource
	var routerText []string
	var gateways []resource
	var gatewayText []string
	var noGateway []string
	for _, rp := range s.NetworkPortsByOwner(p.NetworkID, snapshot.RouterInterfaceOwners...) {
		var legIP string
		for _, ip := range rp.FixedIPs {
			if containsRes(subnets, ip.SubnetID) {
				legIP = ip.IPAddress
				break
			}
		}
		if legIP == "" || containsRes(routers, rp.DeviceID) {
			continue
		}
		r := resource{Kind: "router", ID: rp.DeviceID}
		txt := rp.DeviceID + " interface " + legIP
		if rt := s.Router(rp.DeviceID); rt != nil {
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
			t = append(t, "interface", legIP)
			txt = strings.Join(t, " ")
			if gw := rt.ExternalGateway; gw != nil {
				g := resource{Kind: "network", ID: gw.NetworkID}
				gt := []string{gw.NetworkID}
				if en := s.Network(gw.NetworkID); en != nil {
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
					gatewayText = append(gatewayText, strings.Join(gt, " "))
				}
			} else {
				noGateway = append(noGateway, orID(rt.Name, rt.ID))
			}
		}
		routers = append(routers, r)
		routerText = append(routerText, txt)
	}
	absent = "no router interface on " + strings.Join(subnetNames, ", ")
	if net != nil && net.External {
		absent = orID(net.Name, net.ID) + " is an external network"
	}
	rh := b.hop(rule.HopRouter, id, routers, len(routers) > 0, absent)
	if len(routers) > 0 {
		rh.Text = strings.Join(routerText, ", ")
	}
	out = append(out, rh)

	absent = "no router"
	if len(noGateway) > 0 {
		absent = strings.Join(noGateway, ", ") + " has no external gateway"
	}
	gh := b.hop(rule.HopGateway, id, gateways, len(gateways) > 0, absent)
	if len(gateways) > 0 {
		gh.Text = strings.Join(gatewayText, ", ")
	}
	out = append(out, gh)

	// floating IPs
	var fips []resource
	var fipText []string
	for _, f := range s.FloatingIPs {
		if f.PortID != p.ID {
			continue
		}
		fips = append(fips, resource{Kind: "floating-ip", ID: f.ID, Name: f.FloatingIPAddress})
		t := f.FloatingIPAddress + " " + f.Status
		if f.FixedIPAddress != "" {
			t += " → " + f.FixedIPAddress
		}
		fipText = append(fipText, t)
	}
	fh := b.hop(rule.HopFloatingIP, id, fips, len(fips) > 0, "no floating IP")
	if len(fips) > 0 {
		fh.Text = strings.Join(fipText, ", ")
	}
	out = append(out, fh)
	return out
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
func (b *pathBuilder) scopeIDs(p snapshot.Port) map[string]bool {
	s := b.s
	ids := map[string]bool{p.ID: true, p.NetworkID: true}
	for _, g := range p.SecurityGroups {
		ids[g] = true
	}
	subnets := map[string]bool{}
	for _, ip := range p.FixedIPs {
		ids[ip.SubnetID] = true
		subnets[ip.SubnetID] = true
	}
	for _, dp := range s.NetworkPortsByOwner(p.NetworkID, snapshot.OwnerDHCP) {
		ids[dp.ID] = true
	}
	for _, a := range s.DHCPAgents[p.NetworkID] {
		ids[a] = true
	}
	for _, rp := range s.NetworkPortsByOwner(p.NetworkID, snapshot.RouterInterfaceOwners...) {
		for _, ip := range rp.FixedIPs {
			if !subnets[ip.SubnetID] {
				continue
			}
			ids[rp.ID] = true
			ids[rp.DeviceID] = true
			for _, h := range s.L3Agents[rp.DeviceID] {
				ids[h.AgentID] = true
			}
			if rt := s.Router(rp.DeviceID); rt != nil && rt.ExternalGateway != nil {
				ids[rt.ExternalGateway.NetworkID] = true
			}
		}
	}
	for _, f := range s.FloatingIPs {
		if f.PortID == p.ID {
			ids[f.ID] = true
		}
	}
	if p.BindingHostID != "" {
		for _, a := range s.Agents {
			if a.Host == p.BindingHostID && (a.AgentType == snapshot.AgentTypeOVS || a.AgentType == snapshot.AgentTypeLinuxBridge) {
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
