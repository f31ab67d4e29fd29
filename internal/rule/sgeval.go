package rule

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// This file evaluates security-group rules the way Neutron's firewall
// drivers apply them: a packet is admitted when some rule of some group of
// the port matches its direction, ethertype, protocol, port range (type and
// code for ICMP) and source. Groups are allow-lists; there is no deny.

// IP protocol numbers Neutron accepts by name (neutron-lib IP_PROTOCOL_MAP,
// plus the legacy ICMPv6 spellings).
var protocolNumbers = map[string]int{
	"hopopt": 0, "icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8,
	"udp": 17, "dccp": 33, "ipv6-encap": 41, "ipv6-route": 43,
	"ipv6-frag": 44, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51,
	"ipv6-icmp": 58, "icmpv6": 58, "icmp6": 58, "ipv6-nonxt": 59,
	"ipv6-opts": 60, "ospf": 89, "vrrp": 112, "pgm": 113, "sctp": 132,
	"udplite": 136,
}

// protocolNames gives the canonical name of a number, for messages.
var protocolNames = map[int]string{
	0: "hopopt", 1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 8: "egp",
	17: "udp", 33: "dccp", 41: "ipv6-encap", 43: "ipv6-route",
	44: "ipv6-frag", 46: "rsvp", 47: "gre", 50: "esp", 51: "ah",
	58: "ipv6-icmp", 59: "ipv6-nonxt", 60: "ipv6-opts", 89: "ospf",
	112: "vrrp", 113: "pgm", 132: "sctp", 136: "udplite",
}

const (
	protoICMP   = 1
	protoTCP    = 6
	protoICMPv6 = 58
	// protoOthers stands for "every protocol no rule names" when an "any"
	// flow is split by protocol.
	protoOthers = -1
)

// protocolName names a protocol number for messages.
func protocolName(p int) string {
	if p == protoOthers {
		return "every other protocol"
	}
	if n, ok := protocolNames[p]; ok {
		return n
	}
	return strconv.Itoa(p)
}

// hasPorts reports whether a protocol has destination ports Neutron filters on.
func hasPorts(p int) bool {
	switch p {
	case 6, 17, 33, 132, 136:
		return true
	}
	return false
}

// icmpOf returns the ICMP protocol number of an address family.
func icmpOf(family int) int {
	if family == 6 {
		return protoICMPv6
	}
	return protoICMP
}

// canonProtocol reads a protocol as Neutron stores it or as an operator
// writes it: empty or "any" for every protocol, a name, or a number in a
// string. Under IPv6, Neutron treats "icmp", "icmpv6" and 1 as ipv6-icmp.
func canonProtocol(proto string, family int) (num int, any bool, err error) {
	p := strings.ToLower(strings.TrimSpace(proto))
	if p == "" || p == "any" {
		return 0, true, nil
	}
	if isDigits(p) {
		n, e := strconv.Atoi(p)
		if e != nil || n > 255 {
			return 0, false, fmt.Errorf("protocol number %s is out of range 0-255", p)
		}
		if family == 6 && n == protoICMP {
			n = protoICMPv6
		}
		return n, false, nil
	}
	n, ok := protocolNumbers[p]
	if !ok {
		return 0, false, fmt.Errorf("unknown protocol %q", proto)
	}
	if family == 6 && n == protoICMP {
		n = protoICMPv6
	}
	return n, false, nil
}

// The second dimension of a packet, after its protocol, is a key: the
// destination port for port protocols (1-65535), type*256+code for ICMP
// (0-65535), and 0 for every other protocol.
const keyMax = 65535

type keyRange struct{ lo, hi int }

func fullKey(proto, family int) keyRange {
	switch {
	case hasPorts(proto):
		return keyRange{1, keyMax}
	case proto == icmpOf(family):
		return keyRange{0, keyMax}
	default:
		return keyRange{0, 0}
	}
}

// icmpKey turns an ICMP type and code (-1 or nil meaning any) into a key range.
func icmpKey(typ, code int) keyRange {
	switch {
	case typ < 0:
		return keyRange{0, keyMax}
	case code < 0:
		return keyRange{typ * 256, typ*256 + 255}
	default:
		return keyRange{typ*256 + code, typ*256 + code}
	}
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// ruleKey is the key range a rule of protocol proto admits.
func ruleKey(r *snapshot.SecurityGroupRule, proto, family int) keyRange {
	switch {
	case hasPorts(proto):
		if r.PortRangeMin == nil && r.PortRangeMax == nil {
			return keyRange{1, keyMax}
		}
		lo := intOr(r.PortRangeMin, 1)
		hi := intOr(r.PortRangeMax, lo)
		return keyRange{max(lo, 1), min(hi, keyMax)}
	case proto == icmpOf(family):
		return icmpKey(intOr(r.PortRangeMin, -1), intOr(r.PortRangeMax, -1))
	default:
		return keyRange{0, 0}
	}
}

// describeKey names part of a protocol's key space ("tcp/22", "icmp type 8").
func describeKey(proto, family int, k keyRange) string {
	name := protocolName(proto)
	full := fullKey(proto, family)
	if k == full {
		return name
	}
	switch {
	case hasPorts(proto):
		if k.lo == k.hi {
			return fmt.Sprintf("%s/%d", name, k.lo)
		}
		return fmt.Sprintf("%s/%d-%d", name, k.lo, k.hi)
	case proto == icmpOf(family):
		tlo, clo, thi, chi := k.lo/256, k.lo%256, k.hi/256, k.hi%256
		switch {
		case clo == 0 && chi == 255 && tlo == thi:
			return fmt.Sprintf("%s type %d", name, tlo)
		case clo == 0 && chi == 255:
			return fmt.Sprintf("%s types %d-%d", name, tlo, thi)
		case tlo == thi && clo == chi:
			return fmt.Sprintf("%s type %d code %d", name, tlo, clo)
		case tlo == thi:
			return fmt.Sprintf("%s type %d codes %d-%d", name, tlo, clo, chi)
		default:
			return fmt.Sprintf("%s from type %d code %d to type %d code %d", name, tlo, clo, thi, chi)
		}
	}
	return name
}

// sgRule is one rule compiled for one direction and address family.
type sgRule struct {
	rule     *snapshot.SecurityGroupRule
	group    *snapshot.SecurityGroup
	anyProto bool
	proto    int
	// Exactly one source kind is set: a prefix set, a remote group, or a
	// remote address group.
	src         ipSet
	remoteGroup string
	addrGroup   string
}

// key is the key range the rule admits for protocol p.
func (r sgRule) key(p, family int) keyRange {
	if r.anyProto {
		if p == protoOthers {
			return keyRange{0, 0}
		}
		return fullKey(p, family)
	}
	return ruleKey(r.rule, p, family)
}

// appliesTo reports whether the rule can admit protocol p (protoOthers
// only by rules for every protocol).
func (r sgRule) appliesTo(p int) bool {
	return r.anyProto || (p != protoOthers && r.proto == p)
}

// allOf returns the whole address space of a family.
func allOf(family int) netip.Prefix {
	if family == 6 {
		return netip.MustParsePrefix("::/0")
	}
	return netip.MustParsePrefix("0.0.0.0/0")
}

// familyOf returns 4 or 6.
func familyOf(a netip.Addr) int {
	if a.Unmap().Is4() {
		return 4
	}
	return 6
}

func ethertype(family int) string {
	if family == 6 {
		return "IPv6"
	}
	return "IPv4"
}

// parsePrefixOrAddr reads "10.0.0.0/24" or a bare address (as a host prefix).
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("address %q has a zone", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// compileRules returns the rules of groups for a direction and family, and
// the rules that could not be read (an unknown protocol, a bad prefix).
func compileRules(groups []*snapshot.SecurityGroup, direction string, family int) (rules []sgRule, unreadable []string) {
	et := ethertype(family)
	for _, g := range groups {
		for i := range g.Rules {
			r := &g.Rules[i]
			if !strings.EqualFold(r.Direction, direction) || !strings.EqualFold(r.Ethertype, et) {
				continue
			}
			c := sgRule{rule: r, group: g}
			var err error
			c.proto, c.anyProto, err = canonProtocol(r.Protocol, family)
			if err != nil {
				unreadable = append(unreadable, fmt.Sprintf("rule %s of %s: %v", r.ID, groupLabel(g), err))
				continue
			}
			switch {
			case r.RemoteGroupID != "":
				c.remoteGroup = r.RemoteGroupID
			case r.RemoteAddressGroupID != "":
				c.addrGroup = r.RemoteAddressGroupID
			case r.RemoteIPPrefix == "":
				c.src = newIPSet(allOf(family))
			default:
				p, err := parsePrefixOrAddr(r.RemoteIPPrefix)
				if err != nil {
					unreadable = append(unreadable, fmt.Sprintf("rule %s of %s: remote_ip_prefix %q: %v", r.ID, groupLabel(g), r.RemoteIPPrefix, err))
					continue
				}
				if familyOf(p.Addr()) != family {
					continue // never matches this family
				}
				c.src = newIPSet(p)
			}
			rules = append(rules, c)
		}
	}
	return rules, unreadable
}

// memberSet returns the addresses of a remote group's members of one
// family, and whether they were collected.
func memberSet(s *snapshot.Snapshot, groupID string, family int) (ipSet, bool) {
	ips, ok := s.RemoteGroupMembers[groupID]
	if !ok {
		return ipSet{}, false
	}
	var ps []netip.Prefix
	for _, ip := range ips {
		p, err := parsePrefixOrAddr(ip)
		if err == nil && familyOf(p.Addr()) == family {
			ps = append(ps, p)
		}
	}
	return newIPSet(ps...), true
}

// describeRule renders a rule the way an operator reads it.
func describeRule(r *snapshot.SecurityGroupRule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Direction, r.Ethertype)
	switch p := strings.ToLower(r.Protocol); p {
	case "", "any":
		b.WriteString(" any protocol")
	default:
		b.WriteString(" " + p)
		if r.PortRangeMin != nil || r.PortRangeMax != nil {
			n, _, _ := canonProtocol(p, 4)
			if n == protoICMP || n == protoICMPv6 {
				fmt.Fprintf(&b, " type %s code %s", optInt(r.PortRangeMin), optInt(r.PortRangeMax))
			} else if intOr(r.PortRangeMin, -1) == intOr(r.PortRangeMax, -2) {
				fmt.Fprintf(&b, " %d", *r.PortRangeMin)
			} else {
				fmt.Fprintf(&b, " %s-%s", optInt(r.PortRangeMin), optInt(r.PortRangeMax))
			}
		}
	}
	switch {
	case r.RemoteGroupID != "":
		fmt.Fprintf(&b, " from members of group %s", r.RemoteGroupID)
	case r.RemoteAddressGroupID != "":
		fmt.Fprintf(&b, " from address group %s", r.RemoteAddressGroupID)
	case r.RemoteIPPrefix != "":
		fmt.Fprintf(&b, " from %s", r.RemoteIPPrefix)
	default:
		b.WriteString(" from anywhere")
	}
	return b.String()
}

func optInt(p *int) string {
	if p == nil {
		return "any"
	}
	return strconv.Itoa(*p)
}

// flowSpace is a flow in evaluator terms.
type flowSpace struct {
	family   int
	anyProto bool
	proto    int
	key      keyRange
	from     ipSet
}

// compileFlow reads a Flow; the family is the From prefix's.
func compileFlow(f Flow) (flowSpace, error) {
	if !f.From.IsValid() {
		return flowSpace{}, fmt.Errorf("flow %q has no source prefix", f.Spec)
	}
	fam := familyOf(f.From.Addr())
	fs := flowSpace{family: fam, from: newIPSet(f.From)}
	var err error
	fs.proto, fs.anyProto, err = canonProtocol(f.Protocol, fam)
	if err != nil {
		return flowSpace{}, fmt.Errorf("flow %q: %w", f.Spec, err)
	}
	if fs.anyProto {
		return fs, nil
	}
	switch {
	case hasPorts(fs.proto):
		if f.PortMin == 0 && f.PortMax == 0 {
			fs.key = fullKey(fs.proto, fam)
		} else {
			fs.key = keyRange{max(f.PortMin, 1), min(max(f.PortMax, f.PortMin), keyMax)}
		}
	case fs.proto == icmpOf(fam):
		fs.key = icmpKey(f.PortMin, f.PortMax)
	default:
		fs.key = keyRange{0, 0}
	}
	return fs, nil
}

// flowPart is a piece of a flow (one protocol, one key range) with the
// sources it is not admitted from.
type flowPart struct {
	what string
	// denied are the sources no known rule admits.
	denied ipSet
	// maybe are rules that could admit some of denied, but whose sources
	// (remote group members, address groups) were not collected.
	maybe []sgRule
}

// flowVerdict is the evaluation of one flow against one port's groups.
type flowVerdict struct {
	// parts not (surely) admitted; empty when the flow is fully admitted.
	parts []flowPart
	// admitting are the rules that admitted some of the flow.
	admitting []sgRule
	// admittedSome is true when any part of the flow is admitted at all.
	admittedSome bool
}

// evalFlow decides which part of a flow the rules admit, exactly: it
// splits the flow by protocol and key at every rule boundary, and within
// each piece subtracts the union of the admitting rules' sources from the
// flow's source prefix.
func evalFlow(s *snapshot.Snapshot, rules []sgRule, f flowSpace) flowVerdict {
	var v flowVerdict
	var protos []int
	if f.anyProto {
		seen := map[int]bool{}
		for _, r := range rules {
			if !r.anyProto && !seen[r.proto] {
				seen[r.proto] = true
				protos = append(protos, r.proto)
			}
		}
		sort.Ints(protos)
		protos = append(protos, protoOthers)
	} else {
		protos = []int{f.proto}
	}
	for _, p := range protos {
		span := f.key
		if f.anyProto {
			span = fullKey(p, f.family)
			if p == protoOthers {
				span = keyRange{0, 0}
			}
		}
		type clipped struct {
			r sgRule
			k keyRange
		}
		var rel []clipped
		cuts := []int{span.lo, span.hi + 1}
		for _, r := range rules {
			if !r.appliesTo(p) {
				continue
			}
			k := r.key(p, f.family)
			k = keyRange{max(k.lo, span.lo), min(k.hi, span.hi)}
			if k.lo > k.hi {
				continue
			}
			rel = append(rel, clipped{r, k})
			cuts = append(cuts, k.lo, k.hi+1)
		}
		sort.Ints(cuts)
		cuts = slices.Compact(cuts)
		var last *flowPart
		var lastKey keyRange
		for i := 0; i+1 < len(cuts); i++ {
			seg := keyRange{cuts[i], cuts[i+1] - 1}
			if seg.lo < span.lo || seg.hi > span.hi {
				continue
			}
			var admitted ipSet
			var maybe []sgRule
			for _, c := range rel {
				if c.k.lo > seg.lo || c.k.hi < seg.hi {
					continue
				}
				src, known := c.r.src, true
				switch {
				case c.r.remoteGroup != "":
					src, known = memberSet(s, c.r.remoteGroup, f.family)
				case c.r.addrGroup != "":
					known = false
				}
				if !known {
					maybe = append(maybe, c.r)
					continue
				}
				if !src.minus(src.minus(f.from)).empty() { // src ∩ from ≠ ∅
					v.admittedSome = true
					if !slices.ContainsFunc(v.admitting, func(x sgRule) bool { return x.rule == c.r.rule }) {
						v.admitting = append(v.admitting, c.r)
					}
				}
				admitted = admitted.union(src)
			}
			denied := f.from.minus(admitted)
			if denied.empty() {
				last = nil
				continue
			}
			if last != nil && lastKey.hi+1 == seg.lo && last.denied.equal(denied) && sameRules(last.maybe, maybe) {
				lastKey.hi = seg.hi
				last.what = describePart(p, f.family, lastKey)
				continue
			}
			v.parts = append(v.parts, flowPart{what: describePart(p, f.family, seg), denied: denied, maybe: maybe})
			last, lastKey = &v.parts[len(v.parts)-1], seg
		}
	}
	return v
}

func describePart(p, family int, k keyRange) string {
	if p == protoOthers {
		return protocolName(p)
	}
	return describeKey(p, family, k)
}

func sameRules(a, b []sgRule) bool {
	return slices.EqualFunc(a, b, func(x, y sgRule) bool { return x.rule == y.rule })
}

// admitsKey reports whether rule r admits key of protocol p, whatever the
// source.
func (r sgRule) admitsKey(p, family, key int) bool {
	if !r.appliesTo(p) {
		return false
	}
	k := r.key(p, family)
	return k.lo <= key && key <= k.hi
}

// portGroups returns the port's security groups found in the snapshot and
// the IDs of those that are not there.
func portGroups(s *snapshot.Snapshot, p *snapshot.Port) (found []*snapshot.SecurityGroup, absent []string) {
	for _, id := range p.SecurityGroups {
		if g := s.SecurityGroup(id); g != nil {
			found = append(found, g)
		} else {
			absent = append(absent, id)
		}
	}
	return found, absent
}

// portSecurityOn reports whether security groups filter the port's traffic
// (nil means the port_security extension is absent: groups apply).
func portSecurityOn(p *snapshot.Port) bool {
	return p.PortSecurityEnabled == nil || *p.PortSecurityEnabled
}

// stateless reports whether any of the groups is stateless (Neutron refuses
// to mix stateful and stateless groups on one port).
func stateless(groups []*snapshot.SecurityGroup) bool {
	for _, g := range groups {
		if g.Stateful != nil && !*g.Stateful {
			return true
		}
	}
	return false
}

func groupLabel(g *snapshot.SecurityGroup) string {
	if g.Name != "" {
		return g.Name
	}
	return shortID(g.ID)
}

func groupNames(gs []*snapshot.SecurityGroup) string {
	var ns []string
	for _, g := range gs {
		ns = append(ns, groupLabel(g))
	}
	return strings.Join(ns, ", ")
}

// targetGroup picks the group a fix should add a rule to: the first
// project-specific group, else the first group.
func targetGroup(gs []*snapshot.SecurityGroup) *snapshot.SecurityGroup {
	for _, g := range gs {
		if g.Name != "default" {
			return g
		}
	}
	if len(gs) > 0 {
		return gs[0]
	}
	return nil
}

// listPrefixes renders up to n prefixes and says how many more there are.
func listPrefixes(s ipSet, n int) string {
	ps := s.prefixes()
	var out []string
	for i, p := range ps {
		if i == n {
			out = append(out, fmt.Sprintf("and %d more", len(ps)-n))
			break
		}
		out = append(out, p.String())
	}
	return strings.Join(out, ", ")
}

// describeDenied renders the sources of from that denied holds, choosing the
// shorter exact form: "from 0.0.0.0/5, 8.0.0.0/7…" or "from 0.0.0.0/0
// except 10.0.0.5/32".
func describeDenied(from, denied ipSet, n int) string {
	if denied.equal(from) {
		return "from " + listPrefixes(from, n)
	}
	admitted := from.minus(denied)
	if len(admitted.prefixes()) < len(denied.prefixes()) {
		return "from " + listPrefixes(from, n) + " except " + listPrefixes(admitted, n)
	}
	return "from " + listPrefixes(denied, n)
}
