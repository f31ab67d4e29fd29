package firewall

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// NFT is a parsed `nft -j list ruleset`.
type NFT struct {
	Chains map[string]*NFTChain // by family/table/name
	Sets   map[string]*NFTSet   // by family/table/name
}

// NFTChain is a chain; base chains have a hook.
type NFTChain struct {
	Family, Table, Name string
	Type, Hook, Policy  string
	Prio                int
	Rules               []NFTRule
}

// NFTRule is a rule's expressions.
type NFTRule struct {
	Handle int
	Expr   []json.RawMessage
	// Text is a short rendering for evidence.
	Text string
}

// NFTSet is a named set's elements (as raw JSON values).
type NFTSet struct {
	Elems []json.RawMessage
}

func key(f, t, n string) string { return f + "/" + t + "/" + n }

// ParseNFT parses the JSON of nft -j list ruleset.
func ParseNFT(b []byte) (*NFT, error) {
	var doc struct {
		NFTables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("read nft ruleset: %w", err)
	}
	n := &NFT{Chains: map[string]*NFTChain{}, Sets: map[string]*NFTSet{}}
	var rules []struct {
		Family, Table, Chain string
		Handle               int
		Expr                 []json.RawMessage
	}
	for _, obj := range doc.NFTables {
		for kind, raw := range obj {
			switch kind {
			case "chain":
				var c struct {
					Family, Table, Name, Type, Hook, Policy string
					Prio                                    json.RawMessage
				}
				if err := json.Unmarshal(raw, &c); err != nil {
					return nil, fmt.Errorf("read nft chain: %w", err)
				}
				ch := &NFTChain{Family: c.Family, Table: c.Table, Name: c.Name, Type: c.Type, Hook: c.Hook, Policy: c.Policy}
				ch.Prio = prio(c.Prio)
				n.Chains[key(c.Family, c.Table, c.Name)] = ch
			case "rule":
				var r struct {
					Family, Table, Chain string
					Handle               int
					Expr                 []json.RawMessage
				}
				if err := json.Unmarshal(raw, &r); err != nil {
					return nil, fmt.Errorf("read nft rule: %w", err)
				}
				rules = append(rules, r)
			case "set", "map":
				var s struct {
					Family, Table, Name string
					Elem                []json.RawMessage
				}
				if err := json.Unmarshal(raw, &s); err != nil {
					return nil, fmt.Errorf("read nft set: %w", err)
				}
				n.Sets[key(s.Family, s.Table, s.Name)] = &NFTSet{Elems: s.Elem}
			}
		}
	}
	for _, r := range rules {
		ch := n.Chains[key(r.Family, r.Table, r.Chain)]
		if ch == nil {
			ch = &NFTChain{Family: r.Family, Table: r.Table, Name: r.Chain}
			n.Chains[key(r.Family, r.Table, r.Chain)] = ch
		}
		ch.Rules = append(ch.Rules, NFTRule{Handle: r.Handle, Expr: r.Expr, Text: renderRule(r.Family, r.Table, r.Chain, r.Handle, r.Expr)})
	}
	return n, nil
}

// prio reads a chain priority: a number, or a name nft prints for the
// standard ones.
func prio(raw json.RawMessage) int {
	var i int
	if json.Unmarshal(raw, &i) == nil {
		return i
	}
	var s string
	json.Unmarshal(raw, &s)
	switch s {
	case "raw":
		return -300
	case "mangle":
		return -150
	case "dstnat":
		return -100
	case "filter":
		return 0
	case "security":
		return 50
	case "srcnat":
		return 100
	}
	return 0
}

func renderRule(f, t, c string, h int, expr []json.RawMessage) string {
	var parts []string
	for _, e := range expr {
		parts = append(parts, compactJSON(e))
	}
	s := fmt.Sprintf("%s %s %s handle %d: %s", f, t, c, h, strings.Join(parts, " "))
	return trim(s, 300)
}

func compactJSON(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// Skip says which tables another evaluator already covers (iptables-nft
// tables appear in the nft ruleset with xt expressions).
type Skip func(family, table string) bool

// Evaluate runs p through the base chains of the prerouting and input
// hooks of the ip and inet families, in priority order. An accept ends a
// base chain; the next base chain still sees the packet; a drop is final.
func (n *NFT) Evaluate(p Packet, skip Skip) Verdict {
	var base []*NFTChain
	for _, c := range n.Chains {
		fam := c.Family == "ip" || c.Family == "inet"
		if p.Src.Is6() {
			fam = c.Family == "ip6" || c.Family == "inet"
		}
		if !fam || (c.Hook != "prerouting" && c.Hook != "input") || (c.Type != "" && c.Type != "filter") {
			continue
		}
		if skip != nil && skip(c.Family, c.Table) {
			continue
		}
		base = append(base, c)
	}
	sort.Slice(base, func(i, j int) bool {
		a, b := base[i], base[j]
		if a.Hook != b.Hook {
			return a.Hook == "prerouting"
		}
		if a.Prio != b.Prio {
			return a.Prio < b.Prio
		}
		return key(a.Family, a.Table, a.Name) < key(b.Family, b.Table, b.Name)
	})
	last := Verdict{Accepted: true, By: "no nftables base chain on input"}
	var notes []string
	for _, c := range base {
		e := &nftEval{n: n, p: p}
		v, decided := e.chain(c, 0)
		notes = append(notes, e.notes...)
		if !decided {
			pol := c.Policy
			if pol == "" {
				pol = "accept"
			}
			v = Verdict{Accepted: pol != "drop", By: fmt.Sprintf("policy %s of %s %s %s", pol, c.Family, c.Table, c.Name)}
		}
		v.Path = append([]string{c.Family + " " + c.Table + " " + c.Name}, v.Path...)
		if !v.Accepted {
			v.Notes = dedupe(notes)
			return v
		}
		last = v
	}
	last.Notes = dedupe(notes)
	return last
}

type nftEval struct {
	n     *NFT
	p     Packet
	notes []string
}

func (e *nftEval) chain(c *NFTChain, depth int) (Verdict, bool) {
	if depth > 32 {
		return Verdict{}, false
	}
	for _, r := range c.Rules {
		v, action, target := e.rule(c, r)
		switch action {
		case "accept":
			return Verdict{Accepted: true, By: r.Text}, true
		case "drop", "reject":
			return Verdict{Accepted: false, By: r.Text}, true
		case "return":
			return Verdict{}, false
		case "jump", "goto":
			sub := e.n.Chains[key(c.Family, c.Table, target)]
			if sub == nil {
				e.notes = append(e.notes, fmt.Sprintf("%s to unknown chain %s", action, target))
				continue
			}
			sv, decided := e.chain(sub, depth+1)
			if decided {
				sv.Path = append([]string{target}, sv.Path...)
				return sv, true
			}
			if action == "goto" {
				return Verdict{}, false
			}
		}
		_ = v
	}
	return Verdict{}, false
}

// rule returns the verdict action of a matching rule ("" when it does not
// match or has no verdict).
func (e *nftEval) rule(c *NFTChain, r NFTRule) (Verdict, string, string) {
	for _, raw := range r.Expr {
		var ex map[string]json.RawMessage
		if json.Unmarshal(raw, &ex) != nil {
			continue
		}
		for k, v := range ex {
			switch k {
			case "match":
				ok, known := e.match(c, v)
				if !known {
					e.notes = append(e.notes, "match not evaluated (taken as not matching) in: "+r.Text)
					return Verdict{}, "", ""
				}
				if !ok {
					return Verdict{}, "", ""
				}
			case "accept", "drop", "return":
				return Verdict{}, k, ""
			case "reject":
				return Verdict{}, "drop", ""
			case "jump", "goto":
				var t struct{ Target string }
				json.Unmarshal(v, &t)
				return Verdict{}, k, t.Target
			case "counter", "log", "comment", "limit", "mangle", "meta", "ct", "notrack", "xt":
				if k == "xt" {
					e.notes = append(e.notes, "iptables-nft expression not evaluated in: "+r.Text)
					return Verdict{}, "", ""
				}
			}
		}
	}
	return Verdict{}, "", ""
}

// match evaluates one match expression; known is false when it names a
// field hoofbeat does not evaluate.
func (e *nftEval) match(c *NFTChain, raw json.RawMessage) (ok, known bool) {
	var m struct {
		Op    string
		Left  map[string]json.RawMessage
		Right json.RawMessage
	}
	if json.Unmarshal(raw, &m) != nil {
		return false, false
	}
	neg := m.Op == "!="
	var field string
	for k, v := range m.Left {
		switch k {
		case "payload":
			var pl struct{ Protocol, Field string }
			json.Unmarshal(v, &pl)
			field = pl.Protocol + "." + pl.Field
		case "meta":
			var mk struct{ Key string }
			json.Unmarshal(v, &mk)
			field = "meta." + mk.Key
		case "ct":
			var ck struct{ Key string }
			json.Unmarshal(v, &ck)
			field = "ct." + ck.Key
		}
	}
	p := e.p
	var got bool
	switch field {
	case "ip.saddr", "ip6.saddr":
		if (field == "ip.saddr") != p.Src.Is4() {
			return false, true
		}
		got = e.inSet(c, m.Right, func(s string) bool {
			pf, err := parseNFTAddr(s)
			return err == nil && pf.Contains(p.Src)
		})
	case "ip.daddr", "ip6.daddr":
		got = e.inSet(c, m.Right, func(s string) bool {
			pf, err := parseNFTAddr(s)
			return err == nil && p.Dst.IsValid() && pf.Contains(p.Dst)
		})
	case "meta.l4proto", "ip.protocol", "ip6.nexthdr", "meta.nfproto":
		if field == "meta.nfproto" {
			want := "ipv4"
			if p.Src.Is6() {
				want = "ipv6"
			}
			got = e.inSet(c, m.Right, func(s string) bool { return s == want })
			break
		}
		got = e.inSet(c, m.Right, func(s string) bool { return normProto(s) == p.Proto })
	case "udp.dport", "tcp.dport", "th.dport", "sctp.dport":
		proto := strings.TrimSuffix(field, ".dport")
		if proto != "th" && proto != p.Proto {
			return false, true
		}
		got = e.inSet(c, m.Right, func(s string) bool {
			ok, err := matchPorts(s, p.DPort)
			return err == nil && ok
		})
	case "udp.sport", "tcp.sport", "th.sport":
		got = false
	case "meta.iifname", "meta.iif":
		got = e.inSet(c, m.Right, func(s string) bool {
			if strings.HasSuffix(s, "*") {
				return strings.HasPrefix(p.InIface, strings.TrimSuffix(s, "*"))
			}
			return s == p.InIface
		})
	case "meta.oifname", "meta.oif":
		got = false
	case "ct.state":
		got = e.inSet(c, m.Right, func(s string) bool { return s == "new" })
	default:
		return false, false
	}
	if neg {
		return !got, true
	}
	return got, true
}

// inSet evaluates the right side of a match: a value, an anonymous set
// {"set": [...]}, a named set "@name", a prefix or a range.
func (e *nftEval) inSet(c *NFTChain, right json.RawMessage, test func(string) bool) bool {
	var s string
	if json.Unmarshal(right, &s) == nil {
		if strings.HasPrefix(s, "@") {
			set := e.n.Sets[key(c.Family, c.Table, s[1:])]
			if set == nil {
				e.notes = append(e.notes, "unknown set "+s)
				return false
			}
			for _, el := range set.Elems {
				if e.inSet(c, el, test) {
					return true
				}
			}
			return false
		}
		return test(s)
	}
	var num json.Number
	if json.Unmarshal(right, &num) == nil {
		return test(num.String())
	}
	var list []json.RawMessage
	if json.Unmarshal(right, &list) == nil {
		for _, el := range list {
			if e.inSet(c, el, test) {
				return true
			}
		}
		return false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(right, &obj) != nil {
		return false
	}
	if v, ok := obj["set"]; ok {
		return e.inSet(c, v, test)
	}
	if v, ok := obj["elem"]; ok {
		var el struct{ Val json.RawMessage }
		json.Unmarshal(v, &el)
		return e.inSet(c, el.Val, test)
	}
	if v, ok := obj["prefix"]; ok {
		var pf struct {
			Addr string
			Len  int
		}
		json.Unmarshal(v, &pf)
		return test(pf.Addr + "/" + strconv.Itoa(pf.Len))
	}
	if v, ok := obj["range"]; ok {
		var rg []json.RawMessage
		if json.Unmarshal(v, &rg) != nil || len(rg) != 2 {
			return false
		}
		lo, hi := scalar(rg[0]), scalar(rg[1])
		if a, err := netip.ParseAddr(lo); err == nil {
			b, err := netip.ParseAddr(hi)
			return err == nil && test(a.String()+"/"+b.String()+"/range")
		}
		return test(lo + ":" + hi)
	}
	return false
}

func scalar(b json.RawMessage) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(b, &n) == nil {
		return n.String()
	}
	return string(b)
}

// addrRange is a prefix or an address range.
type addrRange struct {
	pfx    netip.Prefix
	lo, hi netip.Addr
}

func (r addrRange) Contains(a netip.Addr) bool {
	if r.pfx.IsValid() {
		return r.pfx.Contains(a)
	}
	return r.lo.Compare(a) <= 0 && a.Compare(r.hi) <= 0
}

func parseNFTAddr(s string) (addrRange, error) {
	if lo, rest, ok := strings.Cut(s, "/"); ok && strings.HasSuffix(rest, "/range") {
		hi := strings.TrimSuffix(rest, "/range")
		a, err := netip.ParseAddr(lo)
		if err != nil {
			return addrRange{}, err
		}
		b, err := netip.ParseAddr(hi)
		if err != nil {
			return addrRange{}, err
		}
		return addrRange{lo: a, hi: b}, nil
	}
	p, err := parsePrefix(s)
	return addrRange{pfx: p}, err
}
