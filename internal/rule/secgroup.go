package rule

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// echoKey is the evaluator key of an echo request: ICMP type 8 code 0,
// ICMPv6 type 128 code 0.
func echoKey(family int) int {
	if family == 6 {
		return 128 * 256
	}
	return 8 * 256
}

var sgIcmpIngressMissing = &Rule{
	Name:     "security-group/icmp-ingress-missing",
	Severity: Error,
	Title:    "No security group rule admits ping",
	Doc: `Security groups are allow-lists: inbound traffic that no ingress rule admits
is dropped at the instance's port, before the guest sees it. A port whose
groups have no rule admitting ICMP echo requests never answers a ping, however
healthy everything else is. This is the most common cause of "it doesn't
ping", so it is reported first among security groups.

hoofbeat looks at every port of the server whose port security is on, for each
address family the port has a fixed IP in (IPv4, IPv6), and evaluates the
ingress rules of all its groups as Neutron's firewall drivers do: the ethertype
must match the family, the protocol must be any, icmp (1) for IPv4, or
ipv6-icmp (58; Neutron also reads icmp, icmpv6 and 1 as ipv6-icmp under IPv6),
and the type/code (stored in port_range_min/max) must include echo request
(type 8 for ICMP, 128 for ICMPv6). The rule must admit a CIDR source: an empty
remote_ip_prefix, 0.0.0.0/0, ::/0 or any narrower prefix.

A rule with only a remote_group_id admits members of that group and nobody
else. The "default" group's ingress rules are of this kind, so a server in
"default" alone answers its neighbours in the group but not the operator, the
router or a floating IP: the evidence names such rules. Whether a specific
source is admitted is what security-group/ingress-missing answers (--check
icmp --from …).

It cannot see rules whose source is a remote address group (their addresses
are not collected: reported as not checked), and it does not judge the guest's
own firewall.`,
	Fix:   "Add an ingress ICMP rule to one of the port's groups: openstack security group rule create --ingress --protocol icmp GROUP (ipv6-icmp and --ethertype IPv6 for IPv6).",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceSecurityGroups},
	Check: checkIcmpIngress,
}

func checkIcmpIngress(in *Input) []Finding {
	s := in.Snapshot
	var out []Finding
	for i := range s.Ports {
		p := &s.Ports[i]
		if !portSecurityOn(p) {
			continue
		}
		groups, absent := portGroups(s, p)
		for _, fam := range portFamilies(p) {
			rules, unreadable := compileRules(groups, "ingress", fam)
			icmp, echo := icmpOf(fam), echoKey(fam)
			var cidr bool
			var viaGroup, viaAddrGroup, otherICMP []sgRule
			for _, r := range rules {
				if !r.admitsKey(icmp, fam, echo) {
					if !r.anyProto && r.proto == icmp {
						otherICMP = append(otherICMP, r)
					}
					continue
				}
				switch {
				case r.remoteGroup != "":
					viaGroup = append(viaGroup, r)
				case r.addrGroup != "":
					viaAddrGroup = append(viaAddrGroup, r)
				default:
					cidr = true
				}
			}
			if cidr {
				continue
			}
			if len(absent) > 0 {
				in.uncheck("%s: security group(s) %s are not in the snapshot; cannot tell whether they admit ICMP over %s", portLabel(p), strings.Join(absent, ", "), ethertype(fam))
				continue
			}
			if len(viaAddrGroup) > 0 {
				in.uncheck("%s: ICMP over %s is admitted only from remote address group %s, whose addresses are not collected", portLabel(p), ethertype(fam), viaAddrGroup[0].addrGroup)
				continue
			}
			out = append(out, icmpFinding(s, p, fam, groups, rules, viaGroup, otherICMP, unreadable))
		}
	}
	return out
}

func icmpFinding(s *snapshot.Snapshot, p *snapshot.Port, fam int, groups []*snapshot.SecurityGroup, rules, viaGroup, otherICMP []sgRule, unreadable []string) Finding {
	et, icmpName, any := ethertype(fam), protocolName(icmpOf(fam)), allOf(fam).String()
	f := Finding{
		Subject: portSubject(p),
		Evidence: []string{
			fmt.Sprintf("port %s fixed IP(s) %s: %s", p.ID, et, strings.Join(portAddrs(p, fam), ", ")),
			"port_security_enabled: true",
		},
	}
	if len(groups) == 0 {
		f.Summary = fmt.Sprintf("%s has no security group: all inbound %s, ICMP included, is dropped", portLabel(p), et)
		f.Evidence = append(f.Evidence, "security_groups: none")
		name := s.Server.Name + "-sg"
		f.Remediation = cmds(
			cmd("openstack", "security", "group", "create", name),
			cmd("openstack", "security", "group", "rule", "create", "--ingress", "--ethertype", et, "--protocol", icmpName, "--remote-ip", any, name),
			cmd("openstack", "port", "set", "--security-group", name, p.ID),
		)
		f.Verify = append(cmds(cmd("openstack", "port", "show", p.ID, "-c", "security_group_ids")), pingVerify(s, p, fam)...)
		return f
	}
	f.Summary = fmt.Sprintf("security groups %s of %s admit no ICMP echo request over %s", groupNames(groups), portLabel(p), et)
	var ids []string
	for _, g := range groups {
		ids = append(ids, fmt.Sprintf("%s (%s)", groupLabel(g), g.ID))
	}
	f.Evidence = append(f.Evidence, "security_groups: "+strings.Join(ids, ", "))
	if len(rules) == 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("ingress %s rules: none", et))
	}
	for i, r := range rules {
		if i == 12 {
			f.Evidence = append(f.Evidence, fmt.Sprintf("… and %d more ingress %s rules", len(rules)-12, et))
			break
		}
		f.Evidence = append(f.Evidence, fmt.Sprintf("rule %s of %s: %s", r.rule.ID, groupLabel(r.group), describeRuleIn(s, r.rule)))
	}
	for _, r := range viaGroup {
		f.Evidence = append(f.Evidence, fmt.Sprintf("rule %s of %s admits ICMP only from members of group %s (remote_group_id), not from a CIDR: pings from the router, a floating IP or the operator are dropped (the default group's trap)",
			r.rule.ID, groupLabel(r.group), groupName(s, r.remoteGroup)))
	}
	for _, r := range otherICMP {
		f.Evidence = append(f.Evidence, fmt.Sprintf("rule %s of %s admits %s but not echo request (type %d)", r.rule.ID, groupLabel(r.group), describeKey(icmpOf(fam), fam, r.key(icmpOf(fam), fam)), echoKey(fam)/256))
	}
	for _, u := range unreadable {
		f.Evidence = append(f.Evidence, "unreadable "+u)
	}
	g := targetGroup(groups)
	f.Remediation = cmds(cmd("openstack", "security", "group", "rule", "create", "--ingress", "--ethertype", et, "--protocol", icmpName, "--remote-ip", any, g.ID).Comment(groupLabel(g)))
	f.Verify = append(cmds(cmd("openstack", "security", "group", "rule", "list", g.ID, "--ingress", "--protocol", icmpName)), pingVerify(s, p, fam)...)
	return f
}

// pingVerify says how to ping the port: from the DHCP namespace, and at its
// floating IP when it has one.
func pingVerify(s *snapshot.Snapshot, p *snapshot.Port, fam int) []shell.Cmd {
	ping := []string{"ping", "-c", "3"}
	if fam == 6 {
		ping = []string{"ping", "-6", "-c", "3"}
	}
	var out []shell.Cmd
	for _, a := range portAddrs(p, fam) {
		argv := append(append([]string{"ip", "netns", "exec", "qdhcp-" + p.NetworkID}, ping...), a)
		out = append(out, cmd(argv...).Comment("on the DHCP agent's host"))
		break
	}
	if fam == 4 {
		for _, f := range s.FloatingIPs {
			if f.PortID == p.ID {
				out = append(out, cmd(append(append([]string(nil), ping...), f.FloatingIPAddress)...))
			}
		}
	}
	return out
}

// describeRuleIn is describeRule with remote groups named.
func describeRuleIn(s *snapshot.Snapshot, r *snapshot.SecurityGroupRule) string {
	d := describeRule(r)
	if r.RemoteGroupID != "" {
		d = strings.Replace(d, r.RemoteGroupID, groupName(s, r.RemoteGroupID), 1)
	}
	return d
}

func groupName(s *snapshot.Snapshot, id string) string {
	if g := s.SecurityGroup(id); g != nil && g.Name != "" {
		return fmt.Sprintf("%s (%s)", g.Name, id)
	}
	return id
}

var sgIngressMissing = &Rule{
	Name:     "security-group/ingress-missing",
	Severity: Error,
	Title:    "A flow the operator asked about is not admitted",
	Doc: `The operator asked whether some traffic reaches the server (--check tcp/22
--from 203.0.113.7). hoofbeat answers exactly, for each of the server's ports
with an address of the source's family: it evaluates the ingress rules of the
port's groups as Neutron's firewall drivers do (direction, ethertype from the
source's family, protocol by name or number, destination port range, ICMP type
and code, remote_ip_prefix, remote_group_id), splits the flow at every rule
boundary, and subtracts the union of the admitted sources from the asked
prefix. A flow fully admitted gives nothing; otherwise the finding names the
part of the flow (protocol, ports) and the source prefixes that no rule
admits: "tcp/22 from 0.0.0.0/0 is admitted only from 10.0.0.0/8" lists what
is left out.

A rule with a remote_group_id admits the addresses of the group's member
ports. Those addresses are collected only when a flow needs them; when they
are missing, hoofbeat does not guess: the finding is a warning that says the
answer depends on membership. Rules with a remote address group are treated
the same way. Ports with port security disabled admit everything.

Only the security groups are judged: the flow must still be routed (router,
floating IP) and the guest must listen and not filter it.`,
	Fix:   "Add an ingress rule for the flow to one of the port's groups (openstack security group rule create --ingress --protocol P --dst-port N --remote-ip CIDR GROUP).",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceSecurityGroups},
	Check: checkIngressFlows,
}

func checkIngressFlows(in *Input) []Finding {
	s := in.Snapshot
	var out []Finding
	for _, fl := range in.Flows {
		fs, err := compileFlow(fl)
		if err != nil {
			in.uncheck("%v", err)
			continue
		}
		reached := false
		for i := range s.Ports {
			p := &s.Ports[i]
			if len(portAddrs(p, fs.family)) == 0 {
				continue
			}
			reached = true
			if !portSecurityOn(p) {
				continue
			}
			groups, absent := portGroups(s, p)
			if len(absent) > 0 {
				in.uncheck("%s: security group(s) %s are not in the snapshot; flow %s not decided", portLabel(p), strings.Join(absent, ", "), fl)
				continue
			}
			rules, unreadable := compileRules(groups, "ingress", fs.family)
			v := evalFlow(s, rules, fs)
			if len(v.parts) == 0 {
				continue
			}
			out = append(out, flowFinding(s, p, fl, fs, groups, v, unreadable))
		}
		if !reached && len(s.Ports) > 0 {
			out = append(out, Finding{
				Subject:  serverSubject(s.Server),
				Summary:  fmt.Sprintf("no port of server %s has an %s address: %s cannot reach it", s.Server.Name, ethertype(fs.family), fl),
				Evidence: serverAddrEvidence(s),
				Remediation: cmds(
					cmd("openstack", "subnet", "list", "--ip-version", strconv.Itoa(fs.family)).Comment(fmt.Sprintf("add an %s subnet to the server's network, or ask from an %s source", ethertype(fs.family), ethertype(otherFamily(fs.family)))),
				),
			})
		}
	}
	return out
}

func serverAddrEvidence(s *snapshot.Snapshot) []string {
	var ev []string
	for _, p := range s.Ports {
		var ips []string
		for _, f := range p.FixedIPs {
			ips = append(ips, f.IPAddress)
		}
		ev = append(ev, fmt.Sprintf("port %s fixed_ips: %s", p.ID, orNone(strings.Join(ips, ", "))))
	}
	return ev
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func flowFinding(s *snapshot.Snapshot, p *snapshot.Port, fl Flow, fs flowSpace, groups []*snapshot.SecurityGroup, v flowVerdict, unreadable []string) Finding {
	et := ethertype(fs.family)
	f := Finding{
		Subject: portSubject(p),
		Evidence: []string{
			fmt.Sprintf("flow: %s over %s to %s", fl, et, strings.Join(portAddrs(p, fs.family), ", ")),
			fmt.Sprintf("security_groups of port %s: %s", p.ID, orNone(groupNames(groups))),
		},
	}
	var maybe []sgRule
	for _, part := range v.parts {
		f.Evidence = append(f.Evidence, fmt.Sprintf("not admitted: %s %s", part.what, describeDenied(fs.from, part.denied, 8)))
		for _, r := range part.maybe {
			if !containsRule(maybe, r) {
				maybe = append(maybe, r)
			}
		}
	}
	for _, r := range v.admitting {
		f.Evidence = append(f.Evidence, fmt.Sprintf("admitted in part by rule %s of %s: %s", r.rule.ID, groupLabel(r.group), describeRuleIn(s, r.rule)))
	}
	for _, r := range maybe {
		what := fmt.Sprintf("members of group %s, whose addresses were not collected", groupName(s, r.remoteGroup))
		if r.addrGroup != "" {
			what = fmt.Sprintf("addresses of address group %s, which were not collected", r.addrGroup)
		}
		line := fmt.Sprintf("unknown: rule %s of %s admits %s", r.rule.ID, groupLabel(r.group), what)
		if g := s.Gap(snapshot.SourceRemoteGroups); g != nil && r.remoteGroup != "" {
			line += " (" + gapReason(g) + ")"
		}
		f.Evidence = append(f.Evidence, line)
	}
	for _, u := range unreadable {
		f.Evidence = append(f.Evidence, "unreadable "+u)
	}
	switch {
	case len(maybe) > 0:
		f.Severity = Warning
		f.Summary = fmt.Sprintf("%s to %s may not be admitted: it depends on security group membership that was not collected", fl, portLabel(p))
	case len(groups) == 0:
		f.Summary = fmt.Sprintf("%s has no security group: %s is dropped", portLabel(p), fl)
	case !v.admittedSome:
		f.Summary = fmt.Sprintf("no ingress rule of %s admits %s to %s", groupNames(groups), fl, portLabel(p))
	case len(v.parts) == 1:
		f.Summary = fmt.Sprintf("%s is only partly admitted to %s: %s %s is not", fl, portLabel(p), v.parts[0].what, describeDenied(fs.from, v.parts[0].denied, 3))
	default:
		f.Summary = fmt.Sprintf("%s is only partly admitted to %s: %d parts of it are not", fl, portLabel(p), len(v.parts))
	}
	create := func(group string) shell.Cmd {
		argv := append([]string{"openstack", "security", "group", "rule", "create", "--ingress", "--ethertype", et}, ruleArgs(fl, fs)...)
		return cmd(append(argv, "--remote-ip", fl.From.String(), group)...)
	}
	if g := targetGroup(groups); g != nil {
		f.Remediation = cmds(create(g.ID).Comment(groupLabel(g)))
		f.Verify = cmds(cmd("openstack", "security", "group", "rule", "list", g.ID, "--ingress", "--long"))
	} else {
		name := s.Server.Name + "-sg"
		f.Remediation = cmds(
			cmd("openstack", "security", "group", "create", name),
			create(name),
			cmd("openstack", "port", "set", "--security-group", name, p.ID),
		)
		f.Verify = cmds(cmd("openstack", "port", "show", p.ID, "-c", "security_group_ids"))
	}
	for _, r := range maybe {
		if r.remoteGroup != "" {
			f.Remediation = append(f.Remediation, cmd("openstack", "port", "list", "--security-group", r.remoteGroup, "-c", "ID", "-c", "Fixed IP Addresses").Comment("the members rule "+shortID(r.rule.ID)+" admits"))
		}
	}
	f.Verify = append(f.Verify, cmd("hoofbeat", "diagnose", s.Server.ID, "--check", fl.Spec, "--from", fl.From.String()))
	return f
}

func containsRule(rs []sgRule, r sgRule) bool {
	for _, x := range rs {
		if x.rule == r.rule {
			return true
		}
	}
	return false
}

// ruleArgs renders a flow as openstack security group rule create options.
func ruleArgs(fl Flow, fs flowSpace) []string {
	if fs.anyProto {
		return []string{"--protocol", "any"}
	}
	a := []string{"--protocol", protocolName(fs.proto)}
	switch {
	case hasPorts(fs.proto):
		switch {
		case fs.key == fullKey(fs.proto, fs.family):
		case fs.key.lo == fs.key.hi:
			a = append(a, "--dst-port", strconv.Itoa(fs.key.lo))
		default:
			a = append(a, "--dst-port", fmt.Sprintf("%d:%d", fs.key.lo, fs.key.hi))
		}
	case fs.proto == icmpOf(fs.family):
		if fl.PortMin >= 0 {
			a = append(a, "--icmp-type", strconv.Itoa(fl.PortMin))
			if fl.PortMax >= 0 {
				a = append(a, "--icmp-code", strconv.Itoa(fl.PortMax))
			}
		}
	}
	return a
}

var sgEgressMissing = &Rule{
	Name:     "security-group/egress-missing",
	Severity: Warning,
	Title:    "No egress rule: the guest cannot initiate traffic",
	Doc: `Every new security group starts with egress rules admitting everything (IPv4
and IPv6). When they are removed and no other egress rule of the port's
family remains on any of its groups, the port's outbound traffic is dropped:
the "lopsided ingress/egress" pattern.

What still works depends on the groups' statefulness. Stateful groups (the
default) track connections: replies to inbound traffic that an ingress rule
admitted (an echo reply to an admitted ping, an SSH session's answers) pass
through conntrack, so pings can still succeed. Neutron's firewall drivers also
always let the guest's DHCP requests out (and ICMPv6 neighbour discovery and
router solicitation), so it still gets its lease. But the guest can initiate
nothing: no DNS, no metadata (169.254.169.254, so no SSH keys or user data),
no package updates, no outbound connection of any kind. That is a warning.

Stateless groups (stateful=False) track nothing: replies are ordinary egress
packets and are dropped too, so nothing the guest sends leaves it, pings get
no answer and TCP handshakes never complete. That is an error.

hoofbeat checks, for every port with port security on and each family it has
an address in, whether any egress rule of that ethertype exists on any of the
port's groups. It does not judge whether narrower egress rules suffice for a
particular destination.`,
	Fix:   "Restore the egress rule: openstack security group rule create --egress --ethertype IPv4 --protocol any GROUP (and IPv6).",
	Needs: []string{snapshot.SourcePorts, snapshot.SourceSecurityGroups},
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for i := range s.Ports {
			p := &s.Ports[i]
			if !portSecurityOn(p) {
				continue
			}
			groups, absent := portGroups(s, p)
			for _, fam := range portFamilies(p) {
				rules, unreadable := compileRules(groups, "egress", fam)
				if len(rules)+len(unreadable) > 0 {
					continue
				}
				if len(absent) > 0 {
					in.uncheck("%s: security group(s) %s are not in the snapshot; egress over %s not decided", portLabel(p), strings.Join(absent, ", "), ethertype(fam))
					continue
				}
				out = append(out, egressFinding(s, p, fam, groups))
			}
		}
		return out
	},
}

func egressFinding(s *snapshot.Snapshot, p *snapshot.Port, fam int, groups []*snapshot.SecurityGroup) Finding {
	et := ethertype(fam)
	f := Finding{Subject: portSubject(p)}
	var states []string
	for _, g := range groups {
		st := "true"
		if g.Stateful != nil && !*g.Stateful {
			st = "false"
		} else if g.Stateful == nil {
			st = "true (extension absent)"
		}
		states = append(states, fmt.Sprintf("%s stateful: %s", groupLabel(g), st))
	}
	f.Evidence = []string{
		fmt.Sprintf("port %s fixed IP(s) %s: %s", p.ID, et, strings.Join(portAddrs(p, fam), ", ")),
		fmt.Sprintf("security_groups: %s", orNone(groupNames(groups))),
		fmt.Sprintf("egress %s rules on them: none", et),
	}
	f.Evidence = append(f.Evidence, states...)
	switch {
	case len(groups) == 0:
		f.Summary = fmt.Sprintf("%s has no security group: besides inbound, the guest cannot initiate anything over %s (DNS, metadata at 169.254.169.254, updates)", portLabel(p), et)
	case stateless(groups):
		f.Severity = Error
		f.Summary = fmt.Sprintf("stateless groups %s of %s have no egress %s rule: every packet the guest sends, replies included, is dropped", groupNames(groups), portLabel(p), et)
	default:
		f.Summary = fmt.Sprintf("groups %s of %s have no egress %s rule: replies to admitted traffic pass, but the guest cannot initiate anything (DNS, metadata at 169.254.169.254, updates)", groupNames(groups), portLabel(p), et)
	}
	any := allOf(fam).String()
	if g := targetGroup(groups); g != nil {
		f.Remediation = cmds(cmd("openstack", "security", "group", "rule", "create", "--egress", "--ethertype", et, "--protocol", "any", "--remote-ip", any, g.ID).Comment(groupLabel(g)))
		f.Verify = cmds(cmd("openstack", "security", "group", "rule", "list", g.ID, "--egress"))
	} else {
		name := s.Server.Name + "-sg"
		f.Remediation = cmds(
			cmd("openstack", "security", "group", "create", name).Comment("new groups come with egress rules"),
			cmd("openstack", "port", "set", "--security-group", name, p.ID),
		)
		f.Verify = cmds(cmd("openstack", "port", "show", p.ID, "-c", "security_group_ids"))
	}
	if fam == 4 {
		f.Verify = append(f.Verify, cmd("curl", "-s", "http://169.254.169.254/openstack/latest/meta_data.json").Comment("inside the guest"))
	}
	return f
}

var sgPortSecurityDisabled = &Rule{
	Name:     "security-group/port-security-disabled",
	Severity: Info,
	Title:    "Port security is off: security groups do not apply",
	Doc: `A port with port_security_enabled=False is not filtered at all: its security
groups (Neutron requires it to have none) are ignored, and anti-spoofing is off
too. Security groups therefore cannot be why it does not answer; the other
security-group rules skip such ports. This is information, not a fault: it is
often deliberate (routers, VPN or load-balancer appliances), but it exposes
every port of the guest.

hoofbeat reads port_security_enabled on each of the server's ports; when the
port_security extension is absent the field is missing and groups apply.`,
	Fix:   "Nothing to fix for reachability. To filter the port again: openstack port set --enable-port-security --security-group GROUP PORT.",
	Needs: []string{snapshot.SourcePorts},
	Check: func(in *Input) []Finding {
		var out []Finding
		for i := range in.Snapshot.Ports {
			p := &in.Snapshot.Ports[i]
			if portSecurityOn(p) {
				continue
			}
			f := Finding{
				Subject:  portSubject(p),
				Summary:  fmt.Sprintf("%s has port security disabled: no security group filters it", portLabel(p)),
				Evidence: []string{"port_security_enabled: false", fmt.Sprintf("security_groups: %s", orNone(strings.Join(p.SecurityGroups, ", ")))},
				Remediation: cmds(
					cmd("openstack", "port", "set", "--enable-port-security", "--security-group", defaultGroupRef(in.Snapshot), p.ID).Comment("only if the port should be filtered"),
				),
				Verify: cmds(cmd("openstack", "port", "show", p.ID, "-c", "port_security_enabled", "-c", "security_group_ids")),
			}
			for _, ap := range p.AllowedAddressPairs {
				f.Evidence = append(f.Evidence, "allowed_address_pair: "+ap.IPAddress)
			}
			out = append(out, f)
		}
		return out
	},
}

func otherFamily(fam int) int {
	if fam == 4 {
		return 6
	}
	return 4
}

// defaultGroupRef names the server's project's default group: its ID when
// the snapshot has it, else the name.
func defaultGroupRef(s *snapshot.Snapshot) string {
	for _, g := range s.SecurityGroups {
		if g.Name == "default" && (s.Server == nil || g.ProjectID == "" || g.ProjectID == s.Server.ProjectID) {
			return g.ID
		}
	}
	return "default"
}
