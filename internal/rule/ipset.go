package rule

import (
	"net/netip"
	"slices"
)

// ipSet is an exact set of addresses of one or both families, kept as
// sorted, disjoint, non-adjacent ranges. It is the small part of prefix-set
// arithmetic the security-group evaluator needs (union, difference, back to
// CIDRs), written here rather than imported to keep the module's
// dependencies to the SDK and the CLI library.
type ipSet struct {
	rs []ipRange
}

// ipRange is an inclusive range of addresses of one family.
type ipRange struct {
	from, to netip.Addr
}

// prefixRange returns the first and last address of p.
func prefixRange(p netip.Prefix) ipRange {
	p = p.Masked()
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		setHostBits(b[:], p.Bits())
		return ipRange{a, netip.AddrFrom4(b)}
	}
	b := a.As16()
	setHostBits(b[:], p.Bits())
	return ipRange{a, netip.AddrFrom16(b)}
}

func setHostBits(b []byte, bits int) {
	for i := range b {
		switch {
		case bits >= 8:
			bits -= 8
		case bits <= 0:
			b[i] = 0xff
		default:
			b[i] |= 0xff >> bits
			bits = 0
		}
	}
}

// newIPSet builds a set from prefixes (invalid ones are ignored).
func newIPSet(ps ...netip.Prefix) ipSet {
	var s ipSet
	for _, p := range ps {
		if p.IsValid() {
			s.rs = append(s.rs, prefixRange(p))
		}
	}
	s.normalise()
	return s
}

func (s *ipSet) normalise() {
	slices.SortFunc(s.rs, func(a, b ipRange) int { return a.from.Compare(b.from) })
	var out []ipRange
	for _, r := range s.rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			next := last.to.Next()
			if last.to.BitLen() == r.from.BitLen() && (r.from.Compare(last.to) <= 0 || (next.IsValid() && next == r.from)) {
				if r.to.Compare(last.to) > 0 {
					last.to = r.to
				}
				continue
			}
		}
		out = append(out, r)
	}
	s.rs = out
}

// union returns s ∪ o.
func (s ipSet) union(o ipSet) ipSet {
	u := ipSet{rs: append(slices.Clone(s.rs), o.rs...)}
	u.normalise()
	return u
}

// minus returns s \ o.
func (s ipSet) minus(o ipSet) ipSet {
	var out []ipRange
	for _, r := range s.rs {
		pieces := []ipRange{r}
		for _, cut := range o.rs {
			var next []ipRange
			for _, p := range pieces {
				next = append(next, subtractRange(p, cut)...)
			}
			pieces = next
		}
		out = append(out, pieces...)
	}
	d := ipSet{rs: out}
	d.normalise()
	return d
}

// subtractRange returns r \ cut as zero, one or two ranges.
func subtractRange(r, cut ipRange) []ipRange {
	if r.from.BitLen() != cut.from.BitLen() || cut.to.Compare(r.from) < 0 || cut.from.Compare(r.to) > 0 {
		return []ipRange{r}
	}
	var out []ipRange
	if cut.from.Compare(r.from) > 0 {
		out = append(out, ipRange{r.from, cut.from.Prev()})
	}
	if cut.to.Compare(r.to) < 0 {
		out = append(out, ipRange{cut.to.Next(), r.to})
	}
	return out
}

func (s ipSet) empty() bool { return len(s.rs) == 0 }

func (s ipSet) equal(o ipSet) bool { return slices.Equal(s.rs, o.rs) }

// contains reports whether every address of p is in s.
func (s ipSet) containsPrefix(p netip.Prefix) bool {
	return newIPSet(p).minus(s).empty()
}

// prefixes returns the set as the fewest CIDRs that cover it exactly.
func (s ipSet) prefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, r := range s.rs {
		out = append(out, rangePrefixes(r)...)
	}
	return out
}

// rangePrefixes splits an inclusive range into the fewest aligned CIDRs.
func rangePrefixes(r ipRange) []netip.Prefix {
	var out []netip.Prefix
	from := r.from
	for {
		var p netip.Prefix
		for bits := 0; bits <= from.BitLen(); bits++ {
			c := netip.PrefixFrom(from, bits).Masked()
			if c.Addr() == from && prefixRange(c).to.Compare(r.to) <= 0 {
				p = c
				break
			}
		}
		out = append(out, p)
		last := prefixRange(p).to
		if last == r.to {
			return out
		}
		from = last.Next()
	}
}
