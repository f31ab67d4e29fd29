package rule

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Flow is one operator question: does this traffic from From reach the
// server's port? Built by ParseFlows from --check and --from.
type Flow struct {
	// Spec is the check as the operator wrote it ("tcp/22").
	Spec string `json:"spec"`
	// Protocol is a lower-case name (tcp, udp, icmp, ipv6-icmp, sctp…) or a
	// decimal protocol number; "any" matches every protocol.
	Protocol string `json:"protocol"`
	// PortMin and PortMax bound the destination port (both 0 when the
	// protocol has no ports). For ICMP they hold type and code (-1 = any).
	PortMin int `json:"port_min,omitempty"`
	PortMax int `json:"port_max,omitempty"`
	// From is the source prefix.
	From netip.Prefix `json:"from"`
}

// String renders the flow as the operator would ask it: "tcp/22 from 203.0.113.7/32".
func (f Flow) String() string {
	return f.Spec + " from " + f.From.String()
}

// ParseFlows reads --check specs and --from sources into flows, one per
// check and source (the cross product). A check is "any", a protocol name
// or number ("icmp", "gre", "47"), a port protocol with a port or range
// ("tcp/22", "udp/53", "tcp/8000-8080"), or ICMP with a type and an
// optional code ("icmp/8", "ipv6-icmp/128/0"). A source is a CIDR or a bare
// address (a host prefix). Without sources, checks are asked from anywhere:
// 0.0.0.0/0, or ::/0 for IPv6-only protocols.
func ParseFlows(checks, froms []string) ([]Flow, error) {
	if len(checks) == 0 {
		if len(froms) > 0 {
			return nil, fmt.Errorf("--from %s given without a --check to ask about", strings.Join(froms, ","))
		}
		return nil, nil
	}
	var specs []Flow
	for _, c := range checks {
		f, err := parseCheck(c)
		if err != nil {
			return nil, err
		}
		specs = append(specs, f)
	}
	var srcs []netip.Prefix
	for _, s := range froms {
		p, err := parsePrefixOrAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--from %q: not a CIDR or an IP address", s)
		}
		srcs = append(srcs, p)
	}
	var out []Flow
	for _, f := range specs {
		from := srcs
		if len(from) == 0 {
			from = []netip.Prefix{allOf(4)}
			if ipv6Only(f.Protocol) {
				from = []netip.Prefix{allOf(6)}
			}
		}
		for _, p := range from {
			if ipv6Only(f.Protocol) && familyOf(p.Addr()) == 4 {
				return nil, fmt.Errorf("check %q is ICMPv6 and cannot come from the IPv4 source %s", f.Spec, p)
			}
			g := f
			g.From = p
			out = append(out, g)
		}
	}
	return out, nil
}

// ipv6Only reports whether a flow protocol exists only over IPv6.
func ipv6Only(proto string) bool {
	n, any, err := canonProtocol(proto, 4)
	return err == nil && !any && n == protoICMPv6
}

// parseCheck reads one --check spec.
func parseCheck(spec string) (Flow, error) {
	s := strings.ToLower(strings.TrimSpace(spec))
	bad := func(format string, args ...any) (Flow, error) {
		return Flow{}, fmt.Errorf("check %q: %s", spec, fmt.Sprintf(format, args...))
	}
	if s == "" {
		return bad("empty; want e.g. tcp/22, udp/53, icmp, icmp/8, 47 or any")
	}
	parts := strings.Split(s, "/")
	name := parts[0]
	f := Flow{Spec: s}
	num, any, err := canonProtocol(name, 4)
	switch {
	case name == "" || (err != nil && !isDigits(name)):
		return bad("unknown protocol %q (want a name such as tcp, udp, icmp, ipv6-icmp, sctp, gre, a number 0-255, or any)", name)
	case err != nil:
		return bad("%v", err)
	}
	switch {
	case any:
		f.Protocol = "any"
	case protocolNames[num] != "" && !isDigits(name):
		f.Protocol = protocolNames[num] // icmpv6, icmp6 → ipv6-icmp
	default:
		f.Protocol = strconv.Itoa(num)
	}
	args := parts[1:]
	switch {
	case any:
		if len(args) > 0 {
			return bad("any takes no port")
		}
	case hasPorts(num):
		f.PortMin, f.PortMax = 1, keyMax
		if len(args) > 1 {
			return bad("want %s/PORT or %s/FIRST-LAST", name, name)
		}
		if len(args) == 1 {
			lo, hi, err := parsePortRange(args[0])
			if err != nil {
				return bad("%v", err)
			}
			f.PortMin, f.PortMax = lo, hi
		}
	case num == protoICMP || num == protoICMPv6:
		f.PortMin, f.PortMax = -1, -1
		if len(args) > 2 {
			return bad("want %s, %s/TYPE or %s/TYPE/CODE", name, name, name)
		}
		for i, a := range args {
			what := [2]string{"type", "code"}[i]
			if strings.Contains(a, "-") {
				return bad("ICMP takes one %s, not a range", what)
			}
			v, err := strconv.Atoi(a)
			if err != nil || v < 0 || v > 255 {
				return bad("ICMP %s %q is not a number 0-255", what, a)
			}
			if i == 0 {
				f.PortMin = v
			} else {
				f.PortMax = v
			}
		}
	default:
		if len(args) > 0 {
			return bad("protocol %s has no ports (only tcp, udp, sctp, dccp and udplite do; icmp takes a type)", protocolName(num))
		}
	}
	return f, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// parsePortRange reads "22" or "8000-8080".
func parsePortRange(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = parsePort(a); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = parsePort(b); err != nil {
			return 0, 0, err
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("port range %d-%d is reversed", lo, hi)
		}
	}
	return lo, hi, nil
}

func parsePort(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || !isDigits(s) {
		return 0, fmt.Errorf("port %q is not a number", s)
	}
	if v < 1 || v > keyMax {
		return 0, fmt.Errorf("port %d is out of range 1-65535", v)
	}
	return v, nil
}
