package report

// What a diagnose --watch round compares: the path view's hops, and the
// verdict.

// HopChange is a hop of the path view whose status is not what it was.
type HopChange struct {
	Hop    string
	PortID string
	// Old and New are the statuses: ok, problem, skipped, n/a; "" when
	// the hop was not on the path.
	Old, New string
	// Detail is the hop's line now (or then, when it is gone).
	Detail string
}

// HopChanges lists the hops whose status changed from old to new, in the
// new path's order, then the hops gone.
func HopChanges(old, new *Report) []HopChange {
	key := func(h hopView) string { return h.Hop + "\x00" + h.PortID }
	then := build(old).Path
	before := map[string]hopView{}
	for _, h := range then {
		before[key(h)] = h
	}
	var out []HopChange
	seen := map[string]bool{}
	for _, h := range build(new).Path {
		k := key(h)
		seen[k] = true
		if b, ok := before[k]; ok && b.Status == h.Status {
			continue
		}
		out = append(out, HopChange{Hop: h.Hop, PortID: h.PortID, Old: string(before[k].Status), New: string(h.Status), Detail: h.Detail()})
	}
	for _, h := range then {
		if !seen[key(h)] {
			out = append(out, HopChange{Hop: h.Hop, PortID: h.PortID, Old: string(h.Status), Detail: h.Detail()})
		}
	}
	return out
}

// Verdict is the report's verdict: the text report's last line.
func Verdict(r *Report) string { return build(r).Verdict }
