package firewall

import (
	"bufio"
	"fmt"
	"strings"
)

// IPTables is a parsed iptables-save output.
type IPTables struct {
	// Backend is "nf_tables" or "legacy" when the header says so.
	Backend string
	Tables  map[string]*Table
}

// Table is one table (*filter, *raw…).
type Table struct {
	Name   string
	Chains map[string]*Chain
	// Order keeps chain declaration order.
	Order []string
}

// Chain is a built-in chain (with a policy) or a user chain.
type Chain struct {
	Name   string
	Policy string // ACCEPT/DROP for built-ins, "-" for user chains
	Rules  []*IPTRule
}

// IPTRule is one -A line.
type IPTRule struct {
	Line string
	// Words are the line's words as iptables reads them ("-A", chain,
	// matches…): what a command that deletes the rule repeats.
	Words   []string
	Matches []iptMatch
	Target  string
	Goto    bool
}

type iptMatch struct {
	opt string // -s, -p, --dport, --dports, --state, ...
	neg bool
	val string
}

// ParseIPTablesSave parses iptables-save (or ip6tables-save) output.
func ParseIPTablesSave(text string) (*IPTables, error) {
	ipt := &IPTables{Tables: map[string]*Table{}}
	var cur *Table
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			if strings.Contains(line, "(nf_tables)") {
				ipt.Backend = "nf_tables"
			} else if strings.Contains(line, "(legacy)") {
				ipt.Backend = "legacy"
			}
		case strings.HasPrefix(line, "*"):
			name := line[1:]
			if cur = ipt.Tables[name]; cur == nil {
				cur = &Table{Name: name, Chains: map[string]*Chain{}}
				ipt.Tables[name] = cur
			}
		case line == "COMMIT":
			cur = nil
		case strings.HasPrefix(line, ":"):
			if cur == nil {
				return nil, fmt.Errorf("line %d: chain outside a table", n)
			}
			f := strings.Fields(line[1:])
			if len(f) < 2 {
				return nil, fmt.Errorf("line %d: bad chain line %q", n, line)
			}
			if cur.Chains[f[0]] == nil {
				cur.Order = append(cur.Order, f[0])
			}
			cur.Chains[f[0]] = &Chain{Name: f[0], Policy: f[1]}
		case strings.HasPrefix(line, "-A ") || strings.HasPrefix(line, "-I "):
			if cur == nil {
				return nil, fmt.Errorf("line %d: rule outside a table", n)
			}
			words, err := splitWords(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			if len(words) < 2 {
				return nil, fmt.Errorf("line %d: rule without a chain", n)
			}
			r, err := parseRule(words[2:])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			r.Line, r.Words = line, words
			ch := cur.Chains[words[1]]
			if ch == nil { // iptables-save declares every chain; be lenient
				ch = &Chain{Name: words[1], Policy: "-"}
				cur.Chains[words[1]] = ch
				cur.Order = append(cur.Order, words[1])
			}
			ch.Rules = append(ch.Rules, r)
		default:
			return nil, fmt.Errorf("line %d: unexpected %q", n, trim(line, 60))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read iptables-save: %w", err)
	}
	return ipt, nil
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// splitWords splits a rule line like a shell: iptables-save double-quotes
// comments and escapes quotes inside them with a backslash.
func splitWords(s string) ([]string, error) {
	var out []string
	var b strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
			quoted = !quoted
			in = true
		case !quoted && (c == ' ' || c == '\t'):
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote")
	}
	if in {
		out = append(out, b.String())
	}
	return out, nil
}

// optionArity is how many values an option takes; unlisted options take one.
var optionArity = map[string]int{
	"--physdev-is-bridged": 0, "--physdev-is-in": 0, "--physdev-is-out": 0,
	"--rcheck": 0, "--update": 0, "--set": 0, "--rsource": 0, "--rdest": 0,
	"--log-uid": 0, "--log-ip-options": 0, "--log-tcp-options": 0, "--log-tcp-sequence": 0,
	"--syn": 0, "--random": 0, "--random-fully": 0, "--persistent": 0, "--notrack": 0,
	"--checksum-fill": 0, "--clamp-mss-to-pmtu": 0, "--kerneltz": 0,
	"--tcp-flags": 2, "--match-set": 2, "--set-xmark": 1, "--limit-burst": 1,
}

func parseRule(words []string) (*IPTRule, error) {
	r := &IPTRule{}
	neg := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "!" {
			neg = true
			continue
		}
		if !strings.HasPrefix(w, "-") {
			return nil, fmt.Errorf("unexpected word %q", w)
		}
		switch w {
		case "-j", "--jump", "-g", "--goto":
			if i+1 >= len(words) {
				return nil, fmt.Errorf("%s without a target", w)
			}
			r.Target, r.Goto = words[i+1], w == "-g" || w == "--goto"
			i++
			// Target options follow; they never affect the match.
			for i+1 < len(words) && words[i+1] != "-m" && words[i+1] != "!" && !isMatchOpt(words[i+1]) {
				i++
			}
			continue
		case "-m", "--match":
			if i+1 >= len(words) {
				return nil, fmt.Errorf("-m without a module")
			}
			r.Matches = append(r.Matches, iptMatch{opt: "-m", val: words[i+1]})
			i++
			neg = false
			continue
		}
		n, ok := optionArity[w]
		if !ok {
			n = 1
		}
		if i+n >= len(words) {
			return nil, fmt.Errorf("%s without a value", w)
		}
		val := strings.Join(words[i+1:i+1+n], " ")
		// ip(6)tables prints "--dport 22" and also "! --dport 22"; some
		// options take a "!" after the option name in old outputs.
		if n == 1 && val == "!" && i+2 < len(words) {
			neg = true
			i++
			val = words[i+1]
		}
		r.Matches = append(r.Matches, iptMatch{opt: w, neg: neg, val: val})
		i += n
		neg = false
	}
	return r, nil
}

func isMatchOpt(w string) bool {
	switch w {
	case "-s", "-d", "-p", "-i", "-o", "--source", "--destination", "--protocol", "--in-interface", "--out-interface":
		return true
	}
	return false
}

// Evaluate runs p through the chains a locally delivered packet traverses:
// raw PREROUTING, mangle PREROUTING, mangle INPUT, filter INPUT.
func (ipt *IPTables) Evaluate(p Packet) Verdict {
	path := [][2]string{{"raw", "PREROUTING"}, {"mangle", "PREROUTING"}, {"mangle", "INPUT"}, {"filter", "INPUT"}, {"security", "INPUT"}}
	var notes []string
	last := Verdict{Accepted: true, By: "no rule in INPUT (policy ACCEPT)"}
	for _, hc := range path {
		t := ipt.Tables[hc[0]]
		if t == nil || t.Chains[hc[1]] == nil {
			continue
		}
		e := &iptEval{t: t, p: p}
		v, decided := e.chain(hc[1], 0)
		notes = append(notes, e.notes...)
		if !decided {
			ch := t.Chains[hc[1]]
			v = Verdict{Accepted: ch.Policy != "DROP", By: fmt.Sprintf("policy %s of %s/%s", ch.Policy, hc[0], hc[1])}
		}
		v.Path = append([]string{hc[0] + "/" + hc[1]}, v.Path...)
		if !v.Accepted {
			v.Notes = dedupe(notes)
			return v
		}
		if hc[0] == "filter" {
			last = v
		}
	}
	last.Notes = dedupe(notes)
	return last
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

type iptEval struct {
	t     *Table
	p     Packet
	notes []string
}

// chain evaluates one chain; decided is false when the packet fell off its
// end or hit RETURN.
func (e *iptEval) chain(name string, depth int) (Verdict, bool) {
	ch := e.t.Chains[name]
	if ch == nil || depth > 32 {
		return Verdict{}, false
	}
	for _, r := range ch.Rules {
		if !e.match(r) {
			continue
		}
		switch r.Target {
		case "ACCEPT":
			return Verdict{Accepted: true, By: r.Line, Rule: r.Words}, true
		case "DROP", "REJECT":
			return Verdict{Accepted: false, By: r.Line, Rule: r.Words}, true
		case "RETURN":
			return Verdict{}, false
		case "":
			continue
		}
		if _, isChain := e.t.Chains[r.Target]; isChain {
			v, decided := e.chain(r.Target, depth+1)
			if decided {
				v.Path = append([]string{r.Target}, v.Path...)
				return v, true
			}
			if r.Goto {
				return Verdict{}, false
			}
			continue
		}
		// LOG, CT, MARK, NOTRACK, CHECKSUM…: non-terminating targets.
	}
	return Verdict{}, false
}

func (e *iptEval) match(r *IPTRule) bool {
	p := e.p
	for _, m := range r.Matches {
		var ok bool
		switch m.opt {
		case "-m", "--match":
			continue
		case "-s", "--source":
			in, err := matchPrefixList(m.val, p.Src)
			if err != nil {
				e.notes = append(e.notes, fmt.Sprintf("could not read source %q in: %s", m.val, r.Line))
			}
			ok = in
		case "-d", "--destination":
			in, err := matchPrefixList(m.val, p.Dst)
			if err != nil {
				e.notes = append(e.notes, fmt.Sprintf("could not read destination %q in: %s", m.val, r.Line))
			}
			ok = in
		case "-p", "--protocol":
			ok = normProto(m.val) == p.Proto || m.val == "all" || m.val == "0"
		case "-i", "--in-interface":
			ok = matchIface(m.val, p.InIface)
		case "-o", "--out-interface":
			ok = false // no output interface on the INPUT path
		case "--dport", "--destination-port", "--dports", "--destination-ports":
			in, err := matchPorts(m.val, p.DPort)
			if err != nil {
				e.notes = append(e.notes, fmt.Sprintf("could not read ports %q in: %s", m.val, r.Line))
			}
			ok = in
		case "--sport", "--source-port", "--sports", "--source-ports":
			// The source port is unknown: assume it is not the one named
			// unless negated (then it matches).
			ok = false
		case "--state", "--ctstate":
			ok = false
			for _, s := range strings.Split(m.val, ",") {
				if s == "NEW" {
					ok = true
				}
			}
		case "--physdev-in", "--physdev-out", "--physdev-is-bridged", "--physdev-is-in", "--physdev-is-out":
			ok = false // the packet arrives from the network, not across a bridge
		case "--comment", "--zone", "--limit", "--limit-burst", "--log-prefix", "--log-level":
			ok = true
		case "--dst-type":
			ok = strings.Contains(m.val, "LOCAL")
		case "--src-type":
			ok = strings.Contains(m.val, "UNICAST")
		default:
			e.notes = append(e.notes, fmt.Sprintf("match %s %s not evaluated (taken as not matching) in: %s", m.opt, m.val, r.Line))
			return false
		}
		if m.neg {
			ok = !ok
		}
		if !ok {
			return false
		}
	}
	return true
}
