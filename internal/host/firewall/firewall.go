// Package firewall evaluates a host's packet filter the way the kernel
// would, for the one question hoofbeat asks: is a packet of this protocol
// and destination port, from this source, admitted on the INPUT path?
// It reads iptables-save output and nft -j list ruleset output; it never
// runs anything itself.
package firewall

import (
	"fmt"
	"net/netip"
	"strings"
)

// Packet is the packet asked about. It arrives from the network (it is not
// bridged) and starts a new flow: conntrack state NEW.
type Packet struct {
	Proto   string // udp, tcp, icmp
	Src     netip.Addr
	Dst     netip.Addr // optional: zero matches no -d rule
	DPort   int
	InIface string // optional: empty matches no -i rule
}

func (p Packet) String() string {
	s := fmt.Sprintf("%s dport %d from %s", p.Proto, p.DPort, p.Src)
	if p.InIface != "" {
		s += " on " + p.InIface
	}
	return s
}

// Verdict is the outcome of an evaluation.
type Verdict struct {
	Accepted bool `json:"accepted"`
	// By is the rule (or chain policy) that decided, as the tool prints it.
	By string `json:"by"`
	// Rule is the deciding iptables rule's words, when a rule decided.
	Rule []string `json:"-"`
	// Path is the chains traversed to reach it, e.g. filter/INPUT → neutron-filter-top.
	Path []string `json:"path,omitempty"`
	// Notes are matches that could not be evaluated and were taken not to
	// match, so that the verdict may be uncertain.
	Notes []string `json:"notes,omitempty"`
}

func (v Verdict) String() string {
	word := "dropped"
	if v.Accepted {
		word = "accepted"
	}
	if len(v.Path) > 0 {
		return fmt.Sprintf("%s by %s (via %s)", word, v.By, strings.Join(v.Path, " → "))
	}
	return fmt.Sprintf("%s by %s", word, v.By)
}

// protoNumbers maps protocol names as iptables and nft print them.
var protoNumbers = map[string]string{"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp", "132": "sctp"}

func normProto(p string) string {
	p = strings.ToLower(p)
	if n, ok := protoNumbers[p]; ok {
		return n
	}
	return p
}

// matchPrefixList reports whether addr is in one of the comma-separated
// addresses or prefixes (iptables accepts host names too: they never match).
func matchPrefixList(list string, addr netip.Addr) (bool, error) {
	if !addr.IsValid() {
		return false, nil
	}
	for _, item := range strings.Split(list, ",") {
		pfx, err := parsePrefix(item)
		if err != nil {
			return false, err
		}
		if pfx.Contains(addr) {
			return true, nil
		}
	}
	return false, nil
}

// parsePrefix reads 10.0.0.0/8, 10.0.0.1, or 10.0.0.0/255.0.0.0.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if a, m, ok := strings.Cut(s, "/"); ok && strings.Contains(m, ".") {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return netip.Prefix{}, err
		}
		mask, err := netip.ParseAddr(m)
		if err != nil {
			return netip.Prefix{}, err
		}
		bits := 0
		for _, b := range mask.AsSlice() {
			for i := 7; i >= 0; i-- {
				if b&(1<<i) != 0 {
					bits++
				}
			}
		}
		return addr.Prefix(bits)
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// matchIface implements iptables' interface names, where a trailing + is a
// prefix wildcard.
func matchIface(pattern, iface string) bool {
	if iface == "" {
		return false
	}
	if strings.HasSuffix(pattern, "+") {
		return strings.HasPrefix(iface, strings.TrimSuffix(pattern, "+"))
	}
	return pattern == iface
}

// matchPorts reports whether port is in a list of ports and ranges
// ("22", "4789,6081", "10000:20000", "1-3" in nft).
func matchPorts(list string, port int) (bool, error) {
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, ":")
		if !isRange {
			lo, hi, isRange = strings.Cut(item, "-")
		}
		var a, b int
		if _, err := fmt.Sscanf(lo, "%d", &a); err != nil && lo != "" {
			return false, fmt.Errorf("bad port %q", item)
		}
		if !isRange {
			b = a
		} else if hi == "" {
			b = 65535
		} else if _, err := fmt.Sscanf(hi, "%d", &b); err != nil {
			return false, fmt.Errorf("bad port %q", item)
		}
		if port >= a && port <= b {
			return true, nil
		}
	}
	return false, nil
}

// Ruleset is a host's whole packet filter: iptables (either backend) and
// native nftables tables.
type Ruleset struct {
	IPT *IPTables
	NFT *NFT
}

// Parse reads iptables-save output and nft -j output; either may be empty.
func Parse(iptablesSave, nftJSON string) (*Ruleset, error) {
	rs := &Ruleset{}
	if strings.TrimSpace(iptablesSave) != "" {
		ipt, err := ParseIPTablesSave(iptablesSave)
		if err != nil {
			return nil, fmt.Errorf("iptables-save: %w", err)
		}
		rs.IPT = ipt
	}
	if strings.TrimSpace(nftJSON) != "" {
		n, err := ParseNFT([]byte(nftJSON))
		if err != nil {
			return nil, err
		}
		rs.NFT = n
	}
	return rs, nil
}

// Evaluate decides p: dropped if either iptables or nftables drops it.
// Tables that iptables-nft created appear in both outputs; they are
// evaluated once, from iptables-save.
func (rs *Ruleset) Evaluate(p Packet) Verdict {
	v := Verdict{Accepted: true, By: "no firewall rules"}
	if rs.IPT != nil {
		v = rs.IPT.Evaluate(p)
		if !v.Accepted {
			return v
		}
	}
	if rs.NFT != nil {
		skip := func(family, table string) bool {
			if rs.IPT == nil || rs.IPT.Backend != "nf_tables" || (family != "ip" && family != "ip6") {
				return false
			}
			_, ok := rs.IPT.Tables[table]
			return ok
		}
		nv := rs.NFT.Evaluate(p, skip)
		nv.Notes = append(append([]string(nil), v.Notes...), nv.Notes...)
		if !nv.Accepted || rs.IPT == nil {
			return nv
		}
		v.Notes = nv.Notes
	}
	return v
}
