package rule

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

func TestCanonProtocol(t *testing.T) {
	for _, c := range []struct {
		in     string
		family int
		num    int
		any    bool
		err    bool
	}{
		{"", 4, 0, true, false},
		{"any", 6, 0, true, false},
		{"tcp", 4, 6, false, false},
		{"TCP", 4, 6, false, false},
		{"6", 4, 6, false, false},
		{"udp", 6, 17, false, false},
		{"17", 6, 17, false, false},
		{"sctp", 4, 132, false, false},
		{"132", 4, 132, false, false},
		{"gre", 4, 47, false, false},
		{"icmp", 4, 1, false, false},
		{"1", 4, 1, false, false},
		{"icmp", 6, 58, false, false}, // Neutron's legacy spelling under IPv6
		{"1", 6, 58, false, false},
		{"icmpv6", 6, 58, false, false},
		{"icmp6", 6, 58, false, false},
		{"ipv6-icmp", 6, 58, false, false},
		{"58", 6, 58, false, false},
		{"ipv6-icmp", 4, 58, false, false},
		{"0", 4, 0, false, false},
		{"255", 4, 255, false, false},
		{"256", 4, 0, false, true},
		{"99999999999999999999", 4, 0, false, true},
		{"+6", 4, 0, false, true},
		{"-1", 4, 0, false, true},
		{"tcpx", 4, 0, false, true},
	} {
		num, any, err := canonProtocol(c.in, c.family)
		if (err != nil) != c.err || (err == nil && (num != c.num || any != c.any)) {
			t.Errorf("canonProtocol(%q, %d) = %d, %t, %v; want %d, %t, err %t", c.in, c.family, num, any, err, c.num, c.any, c.err)
		}
	}
}

// verdict evaluates one flow spec from one source against ingress rules.
func verdict(t *testing.T, s *snapshot.Snapshot, rules []snapshot.SecurityGroupRule, spec, from string) (flowVerdict, flowSpace) {
	t.Helper()
	flows, err := ParseFlows([]string{spec}, []string{from})
	if err != nil {
		t.Fatalf("ParseFlows(%s, %s): %v", spec, from, err)
	}
	fs, err := compileFlow(flows[0])
	if err != nil {
		t.Fatal(err)
	}
	g := &snapshot.SecurityGroup{ID: "0f0f0f0f-0000-4000-8000-000000000001", Name: "g", Rules: rules}
	compiled, bad := compileRules([]*snapshot.SecurityGroup{g}, "ingress", fs.family)
	if len(bad) > 0 {
		t.Fatalf("unreadable rules: %v", bad)
	}
	if s == nil {
		s = &snapshot.Snapshot{}
	}
	return evalFlow(s, compiled, fs), fs
}

func in4(proto string, lo, hi *int, prefix string) snapshot.SecurityGroupRule {
	return snapshot.SecurityGroupRule{ID: "r-" + proto, Direction: "ingress", Ethertype: "IPv4", Protocol: proto, PortRangeMin: lo, PortRangeMax: hi, RemoteIPPrefix: prefix}
}

func in6(proto string, lo, hi *int, prefix string) snapshot.SecurityGroupRule {
	r := in4(proto, lo, hi, prefix)
	r.Ethertype = "IPv6"
	return r
}

// parts renders a verdict as "what: denied" lines for comparison.
func parts(v flowVerdict, fs flowSpace) []string {
	var out []string
	for _, p := range v.parts {
		line := p.what + " " + describeDenied(fs.from, p.denied, 20)
		if len(p.maybe) > 0 {
			line += " (maybe)"
		}
		out = append(out, line)
	}
	return out
}

func TestEvalFlow(t *testing.T) {
	members := &snapshot.Snapshot{RemoteGroupMembers: map[string][]string{
		"grp-web": {"10.0.0.5", "10.0.0.6", "fd00::5", "192.168.7.0/24"},
	}}
	groupRule := func(proto, gid string) snapshot.SecurityGroupRule {
		r := in4(proto, nil, nil, "")
		r.RemoteGroupID = gid
		return r
	}
	addrGroupRule := in4("tcp", ptr(443), ptr(443), "")
	addrGroupRule.RemoteAddressGroupID = "ag-1"
	egress := in4("", nil, nil, "")
	egress.Direction = "egress"
	for _, c := range []struct {
		name  string
		snap  *snapshot.Snapshot
		rules []snapshot.SecurityGroupRule
		spec  string
		from  string
		want  []string // not-admitted parts; empty = fully admitted
	}{
		{"protocol number admits by name", nil, []snapshot.SecurityGroupRule{in4("6", ptr(22), ptr(22), "")}, "tcp/22", "203.0.113.7", nil},
		{"name admits a flow by number", nil, []snapshot.SecurityGroupRule{in4("gre", nil, nil, "0.0.0.0/0")}, "47", "198.51.100.0/24", nil},
		{"range admits a port inside", nil, []snapshot.SecurityGroupRule{in4("tcp", ptr(20), ptr(30), "")}, "tcp/22", "0.0.0.0/0", nil},
		{"range misses a port outside", nil, []snapshot.SecurityGroupRule{in4("tcp", ptr(20), ptr(30), "")}, "tcp/31", "0.0.0.0/0",
			[]string{"tcp/31 from 0.0.0.0/0"}},
		{"udp does not admit tcp", nil, []snapshot.SecurityGroupRule{in4("udp", nil, nil, "")}, "tcp/53", "0.0.0.0/0",
			[]string{"tcp/53 from 0.0.0.0/0"}},
		{"IPv6 rules do not admit IPv4", nil, []snapshot.SecurityGroupRule{in6("tcp", nil, nil, "")}, "tcp/22", "0.0.0.0/0",
			[]string{"tcp/22 from 0.0.0.0/0"}},
		{"egress rules do not admit inbound", nil, []snapshot.SecurityGroupRule{egress}, "tcp/22", "0.0.0.0/0",
			[]string{"tcp/22 from 0.0.0.0/0"}},
		{"an empty prefix is anywhere", nil, []snapshot.SecurityGroupRule{in4("tcp", nil, nil, "")}, "tcp/1-65535", "0.0.0.0/0", nil},
		{"a non-canonical prefix is masked", nil, []snapshot.SecurityGroupRule{in4("tcp", nil, nil, "10.1.2.3/8")}, "tcp/22", "10.200.0.0/16", nil},
		{"two prefixes union to the flow", nil, []snapshot.SecurityGroupRule{in4("tcp", nil, nil, "10.0.0.0/9"), in4("tcp", nil, nil, "10.128.0.0/9")}, "tcp/22", "10.0.0.0/8", nil},
		{"two ranges union to the flow", nil, []snapshot.SecurityGroupRule{in4("tcp", ptr(8000), ptr(8040), ""), in4("tcp", ptr(8041), ptr(8080), "")}, "tcp/8000-8080", "0.0.0.0/0", nil},
		{"a range split by sources", nil, []snapshot.SecurityGroupRule{in4("tcp", ptr(8000), ptr(8040), ""), in4("tcp", ptr(8030), ptr(8080), "10.0.0.0/8")}, "tcp/8000-8080", "0.0.0.0/0",
			[]string{"tcp/8041-8080 from 0.0.0.0/0 except 10.0.0.0/8"}},
		{"partial prefix listed directly when shorter", nil, []snapshot.SecurityGroupRule{in4("tcp", nil, nil, "0.0.0.0/1")}, "tcp/22", "0.0.0.0/0",
			[]string{"tcp/22 from 128.0.0.0/1"}},
		{"icmp echo rule admits icmp/8", nil, []snapshot.SecurityGroupRule{in4("icmp", ptr(8), nil, "")}, "icmp/8", "0.0.0.0/0", nil},
		{"icmp echo rule admits part of icmp", nil, []snapshot.SecurityGroupRule{in4("icmp", ptr(8), nil, "")}, "icmp", "0.0.0.0/0",
			[]string{"icmp types 0-7 from 0.0.0.0/0", "icmp types 9-255 from 0.0.0.0/0"}},
		{"icmp type and code", nil, []snapshot.SecurityGroupRule{in4("icmp", ptr(8), ptr(0), "")}, "icmp/8", "0.0.0.0/0",
			[]string{"icmp type 8 codes 1-255 from 0.0.0.0/0"}},
		{"icmp type and code admit exactly", nil, []snapshot.SecurityGroupRule{in4("1", ptr(3), ptr(4), "")}, "icmp/3/4", "0.0.0.0/0", nil},
		{"ICMPv6 by legacy name from an IPv6 source", nil, []snapshot.SecurityGroupRule{in6("ipv6-icmp", nil, nil, "::/0")}, "icmp", "2001:db8::/32", nil},
		{"ICMPv6 echo request", nil, []snapshot.SecurityGroupRule{in6("icmpv6", ptr(128), nil, "")}, "ipv6-icmp/128", "2001:db8::7", nil},
		{"IPv6 prefix partly admitted", nil, []snapshot.SecurityGroupRule{in6("tcp", ptr(22), ptr(22), "2001:db8::/33")}, "tcp/22", "2001:db8::/32",
			[]string{"tcp/22 from 2001:db8:8000::/33"}},
		{"any flow against specific rules", nil, []snapshot.SecurityGroupRule{in4("tcp", ptr(22), ptr(22), ""), in4("icmp", nil, nil, "")}, "any", "0.0.0.0/0",
			[]string{"tcp/1-21 from 0.0.0.0/0", "tcp/23-65535 from 0.0.0.0/0", "every other protocol from 0.0.0.0/0"}},
		{"any flow against an any rule", nil, []snapshot.SecurityGroupRule{in4("", nil, nil, "0.0.0.0/0")}, "any", "0.0.0.0/0", nil},
		{"remote group members admitted", members, []snapshot.SecurityGroupRule{groupRule("tcp", "grp-web")}, "tcp/80", "10.0.0.5", nil},
		{"remote group CIDR member (address pair)", members, []snapshot.SecurityGroupRule{groupRule("tcp", "grp-web")}, "tcp/80", "192.168.7.128/25", nil},
		{"remote group non-member", members, []snapshot.SecurityGroupRule{groupRule("tcp", "grp-web")}, "tcp/80", "10.0.0.0/29",
			[]string{"tcp/80 from 10.0.0.0/29 except 10.0.0.5/32, 10.0.0.6/32"}},
		{"remote group members unknown", nil, []snapshot.SecurityGroupRule{groupRule("tcp", "grp-web")}, "tcp/80", "10.0.0.5",
			[]string{"tcp/80 from 10.0.0.5/32 (maybe)"}},
		{"remote address group unknown", nil, []snapshot.SecurityGroupRule{addrGroupRule}, "tcp/443", "10.0.0.5",
			[]string{"tcp/443 from 10.0.0.5/32 (maybe)"}},
		{"unknown group does not blur other ports", nil, []snapshot.SecurityGroupRule{addrGroupRule}, "tcp/442-443", "10.0.0.5",
			[]string{"tcp/442 from 10.0.0.5/32", "tcp/443 from 10.0.0.5/32 (maybe)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, fs := verdict(t, c.snap, c.rules, c.spec, c.from)
			got := parts(v, fs)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("not admitted:\n  got  %q\n  want %q", got, c.want)
			}
		})
	}
}

func TestIPSet(t *testing.T) {
	p := netip.MustParsePrefix
	all := newIPSet(p("0.0.0.0/0"))
	got := all.minus(newIPSet(p("10.0.0.0/8"))).prefixes()
	want := "[0.0.0.0/5 8.0.0.0/7 11.0.0.0/8 12.0.0.0/6 16.0.0.0/4 32.0.0.0/3 64.0.0.0/2 128.0.0.0/1]"
	if s := fmtPrefixes(got); s != want {
		t.Errorf("0/0 - 10/8 = %s, want %s", s, want)
	}
	if u := newIPSet(p("10.0.0.0/9"), p("10.128.0.0/9")).prefixes(); len(u) != 1 || u[0] != p("10.0.0.0/8") {
		t.Errorf("adjacent halves = %v", u)
	}
	if u := newIPSet(p("255.255.255.255/32"), p("255.255.255.254/32")).prefixes(); len(u) != 1 || u[0] != p("255.255.255.254/31") {
		t.Errorf("top of the space = %v", u)
	}
	if d := newIPSet(p("::/0")).minus(newIPSet(p("::1/128"))).prefixes(); len(d) != 128 {
		t.Errorf("::/0 - ::1 has %d prefixes, want 128", len(d))
	}
	mixed := newIPSet(p("0.0.0.0/0"), p("::/0"))
	if d := mixed.minus(newIPSet(p("0.0.0.0/0"))).prefixes(); len(d) != 1 || d[0] != p("::/0") {
		t.Errorf("families mixed: %v", d)
	}
	if !newIPSet().empty() || newIPSet(p("10.0.0.0/8")).minus(all).prefixes() != nil {
		t.Error("empty sets")
	}
}

func fmtPrefixes(ps []netip.Prefix) string {
	var ss []string
	for _, p := range ps {
		ss = append(ss, p.String())
	}
	return "[" + strings.Join(ss, " ") + "]"
}

// TestIPSetAgainstBitmap checks union, difference and the CIDR split against
// brute force on a /24.
func TestIPSetAgainstBitmap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	randPrefix := func() netip.Prefix {
		bits := 24 + r.IntN(9)
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(r.IntN(256))}), bits).Masked()
	}
	mark := func(bm *[256]bool, ps []netip.Prefix, v bool) {
		for _, p := range ps {
			rg := prefixRange(p)
			for a := rg.from; ; a = a.Next() {
				bm[a.As4()[3]] = v
				if a == rg.to {
					break
				}
			}
		}
	}
	for i := 0; i < 500; i++ {
		var a, b []netip.Prefix
		for j := r.IntN(5); j >= 0; j-- {
			a = append(a, randPrefix())
		}
		for j := r.IntN(5); j >= 0; j-- {
			b = append(b, randPrefix())
		}
		var want, got [256]bool
		mark(&want, a, true)
		mark(&want, b, false)
		d := newIPSet(a...).minus(newIPSet(b...))
		mark(&got, d.prefixes(), true)
		if want != got {
			t.Fatalf("%v - %v = %v: wrong addresses", a, b, d.prefixes())
		}
		// The split is minimal: re-normalising it merges nothing.
		if again := newIPSet(d.prefixes()...); !again.equal(d) {
			t.Fatalf("prefixes of %v do not round-trip", d.prefixes())
		}
	}
}
