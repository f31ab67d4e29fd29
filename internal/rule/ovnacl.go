package rule

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// aclRule reads back the security-group rule an ACL enforces, from the
// match Neutron writes (outport == @pg_X && ip4 && ip4.src == P && tcp &&
// tcp.dst >= A && tcp.dst <= B …), so that the ACLs are evaluated by the
// same evaluator as the rules. ok is false for a match of another shape,
// or an ACL that does not allow.
func aclRule(a *snapshot.OVNACL) (r snapshot.SecurityGroupRule, ok bool) {
	switch a.Action {
	case "allow", "allow-related", "allow-stateless":
	default:
		return r, false
	}
	r.ID = or(aclRuleID(a), "acl "+a.UUID)
	remote := ""
	for _, t := range strings.Split(a.Match, " && ") {
		t = strings.TrimSpace(t)
		f := strings.Fields(t)
		switch {
		case len(f) == 3 && f[0] == "outport" && f[1] == "==" && strings.HasPrefix(f[2], "@"):
			r.Direction = "ingress"
		case len(f) == 3 && f[0] == "inport" && f[1] == "==" && strings.HasPrefix(f[2], "@"):
			r.Direction = "egress"
		case t == "ip4":
			r.Ethertype = "IPv4"
		case t == "ip6":
			r.Ethertype = "IPv6"
		case t == "icmp4" || t == "icmp":
			r.Protocol = "icmp"
		case t == "icmp6":
			r.Protocol = "ipv6-icmp"
		case t == "tcp" || t == "udp" || t == "sctp":
			r.Protocol = t
		case len(f) == 3 && (f[0] == "ip4.src" || f[0] == "ip6.src" || f[0] == "ip4.dst" || f[0] == "ip6.dst") && f[1] == "==":
			remote = f[2]
		case len(f) == 3 && f[0] == "ip.proto" && f[1] == "==":
			r.Protocol = f[2]
		case len(f) == 3 && (f[0] == "icmp4.type" || f[0] == "icmp6.type") && f[1] == "==":
			n, err := strconv.Atoi(f[2])
			if err != nil {
				return r, false
			}
			r.PortRangeMin = &n
		case len(f) == 3 && (f[0] == "icmp4.code" || f[0] == "icmp6.code") && f[1] == "==":
			n, err := strconv.Atoi(f[2])
			if err != nil {
				return r, false
			}
			r.PortRangeMax = &n
		case len(f) == 3 && strings.HasSuffix(f[0], ".dst") && (f[1] == "==" || f[1] == ">=" || f[1] == "<="):
			n, err := strconv.Atoi(f[2])
			if err != nil {
				return r, false
			}
			if f[1] != "<=" {
				r.PortRangeMin = &n
			}
			if f[1] != ">=" {
				r.PortRangeMax = &n
			}
		default:
			return r, false
		}
	}
	if r.Direction == "" || r.Ethertype == "" {
		return r, false
	}
	switch {
	case strings.HasPrefix(remote, "$pg_") && (strings.HasSuffix(remote, "_ip4") || strings.HasSuffix(remote, "_ip6")):
		// Neutron's address set of a remote group: $pg_<id with _>_ip4.
		r.RemoteGroupID = strings.ReplaceAll(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(remote, "$pg_"), "_ip4"), "_ip6"), "_", "-")
	case strings.HasPrefix(remote, "$"):
		return r, false
	default:
		r.RemoteIPPrefix = remote
	}
	return r, true
}

// aclGroups are the server port's groups as OVN enforces them: each group
// with the rules read back from its port group's ACLs; unread lists the
// ACLs of another shape.
func aclGroups(db *ovnDB, groups []*snapshot.SecurityGroup) (out []*snapshot.SecurityGroup, unread []string) {
	for _, g := range groups {
		ag := &snapshot.SecurityGroup{ID: g.ID, Name: g.Name, ProjectID: g.ProjectID, Stateful: g.Stateful, Rules: []snapshot.SecurityGroupRule{}}
		for _, pg := range db.nb.PortGroups {
			if pg.Name != "pg_"+strings.ReplaceAll(g.ID, "-", "_") {
				continue
			}
			for i := range db.nb.ACLs {
				a := &db.nb.ACLs[i]
				if !containsStr(pg.ACLs, a.UUID) {
					continue
				}
				r, ok := aclRule(a)
				if !ok {
					unread = append(unread, fmt.Sprintf("ACL %s %q (%s)", shortID(a.UUID), a.Match, a.Action))
					continue
				}
				r.SecurityGroupID = g.ID
				ag.Rules = append(ag.Rules, r)
			}
		}
		out = append(out, ag)
	}
	return out, unread
}

// aclFlowDiff evaluates the default ping and the checked flows against the
// port's rules and against its ACLs read back as rules, and lists the
// flows on which they disagree: one side admits all of the flow, the other
// not. A flow from one address that a remote group whose members were not
// collected may admit is not judged (from a wider source, no group's
// members are all of it).
func aclFlowDiff(in *Input, db *ovnDB, p *snapshot.Port) (diffs []string, unread []string) {
	groups, _ := portGroups(in.Snapshot, p)
	if len(groups) == 0 || !portSecurityOn(p) {
		return nil, nil
	}
	ovnGroups, unread := aclGroups(db, groups)
	ping, _ := ParseFlows([]string{"icmp/8"}, nil)
	for i, fl := range append(ping, in.Flows...) {
		fs, err := compileFlow(fl)
		if err != nil {
			continue
		}
		api, _ := compileRules(groups, "ingress", fs.family)
		ovn, _ := compileRules(ovnGroups, "ingress", fs.family)
		va, vo := evalFlow(in.Snapshot, api, fs), evalFlow(in.Snapshot, ovn, fs)
		if (hasMaybe(va) || hasMaybe(vo)) && fl.From.Bits() == fl.From.Addr().BitLen() {
			continue // one source address: a remote group's members may be it
		}
		flow := fl.String()
		if i == 0 {
			flow = "ping (ICMP echo request) from anywhere"
		}
		switch {
		case len(va.parts) == 0 && len(vo.parts) > 0:
			diffs = append(diffs, fmt.Sprintf("the rules admit %s, OVN's ACLs do not (%s)", flow, vo.parts[0].what))
		case len(va.parts) > 0 && len(vo.parts) == 0:
			diffs = append(diffs, fmt.Sprintf("OVN's ACLs admit %s, the rules do not (%s)", flow, va.parts[0].what))
		}
	}
	return diffs, unread
}

func hasMaybe(v flowVerdict) bool {
	for _, p := range v.parts {
		if len(p.maybe) > 0 {
			return true
		}
	}
	return false
}
