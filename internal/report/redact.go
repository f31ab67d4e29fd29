package report

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Redact returns a copy of the report fit to share outside the team:
// project IDs and names, the user, IP addresses and host names are
// replaced, wherever they appear (fields, summaries, evidence, commands,
// console lines), by masks that keep the report readable: the same value
// always gets the same mask (project-1, user-1, host-2, ip-3, ip-4/24), so
// that "ip-3 is not admitted" still matches "port 1a2b… (ip-3)". Resource
// IDs (ports, networks…) are kept: the commands need them and they say
// nothing outside the cloud. Well-known addresses (169.254.169.254,
// loopback, 0.0.0.0, netmasks) are kept too.
//
// MAC addresses are masked too (mac-1), and a host name wherever it
// appears, alone or as the first label of a domain name (ctl and
// ctl.example.com are both host-1).
//
// Redaction runs after the rules: the verdict is the unredacted one.
func Redact(r *Report) *Report {
	if r == nil || r.Snapshot == nil {
		return r
	}
	out := &Report{Tool: r.Tool}
	out.Snapshot = deepCopy(r.Snapshot)
	out.Result = copyResult(r.Result)
	m := newMasker()
	project, user := m.learn(out.Snapshot)
	m.walk(reflect.ValueOf(out.Snapshot))
	m.walk(reflect.ValueOf(&out.Result))
	// Project and user names can be ordinary words ("admin", "demo"):
	// masked where they are named, not in every sentence.
	out.Snapshot.Cloud.Project, out.Snapshot.Cloud.User = project, user
	// Flows carry their source as a netip.Prefix: the masked text goes into
	// the spec, the one field every renderer prints whole.
	for _, f := range r.Flows {
		if f.From.IsValid() {
			f.Spec = m.mask(f.Spec + " from " + f.From.String())
			f.From = netip.Prefix{}
		}
		out.Flows = append(out.Flows, f)
	}
	return out
}

// RedactSnapshot returns a copy of a snapshot fit to share, masked as
// Redact masks a report ("hoofbeat collect --redact"): the same value
// gets the same mask throughout the file, so that diagnose --from still
// relates a port to its subnet, a host to its agents.
//
// Addresses and MAC addresses stay addresses there, for the rules to
// parse: each is replaced by another, the same one every time, and two
// addresses that shared a prefix share one still (prefix-preserving, as
// Crypto-PAn), with the last 8 bits kept, so that subnets, gateways and
// pools still contain what they contained. MAC addresses keep their
// vendor's half. The mapping's key is random, drawn for each file.
func RedactSnapshot(s *snapshot.Snapshot) *snapshot.Snapshot {
	out := deepCopy(s)
	m := newMasker()
	m.key = make([]byte, 32)
	if _, err := rand.Read(m.key); err != nil {
		panic(fmt.Sprintf("redact: %v", err)) // crypto/rand does not fail
	}
	project, user := m.learn(out)
	m.walk(reflect.ValueOf(out))
	out.Cloud.Project, out.Cloud.User = project, user
	return out
}

// deepCopy copies a snapshot or a result through JSON, their serialised
// form.
func deepCopy[T any](v *T) *T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("redact: %v", err)) // plain data always marshals
	}
	c := new(T)
	if err := json.Unmarshal(b, c); err != nil {
		panic(fmt.Sprintf("redact: %v", err))
	}
	return c
}

// copyResult copies a result deep enough for walk to mask it in place
// (commands are values: walk replaces them whole).
func copyResult(r rule.Result) rule.Result {
	out := rule.Result{
		Findings: make([]rule.Finding, len(r.Findings)),
		Skipped:  slices.Clone(r.Skipped),
		Passed:   slices.Clone(r.Passed),
	}
	for i, f := range r.Findings {
		f.Evidence = slices.Clone(f.Evidence)
		f.Remediation = slices.Clone(f.Remediation)
		f.Verify = slices.Clone(f.Verify)
		f.Look = slices.Clone(f.Look)
		f.Devices = slices.Clone(f.Devices)
		out.Findings[i] = f
	}
	return out
}

var cmdType = reflect.TypeFor[shell.Cmd]()

type masker struct {
	// words are whole-word values (host names, project IDs) and their masks,
	// longest first.
	words []wordMask
	ips   map[netip.Addr]string
	macs  map[string]string
	n     map[string]int
	// key, when set, keeps the form of addresses and MAC addresses
	// (RedactSnapshot): they are mapped through it, not named ip-N.
	key []byte
}

type wordMask struct {
	value, mask string
	// domain, for a host name, matches it as a domain name's first label.
	domain *regexp.Regexp
}

func newMasker() *masker {
	return &masker{ips: map[netip.Addr]string{}, macs: map[string]string{}, n: map[string]int{}}
}

func (m *masker) next(kind string) string {
	m.n[kind]++
	return fmt.Sprintf("%s-%d", kind, m.n[kind])
}

// word registers a whole-word value.
func (m *masker) word(kind, v string) {
	if len(v) < 2 {
		return
	}
	for _, w := range m.words {
		if w.value == v {
			return
		}
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return // an address: masked as one
	}
	w := wordMask{value: v, mask: m.next(kind)}
	if kind == "host" {
		w.domain = regexp.MustCompile(`(^|[^A-Za-z0-9_.-])` + regexp.QuoteMeta(v) + `(?:\.[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*)+`)
	}
	m.words = append(m.words, w)
}

// learn collects the values to mask, in a fixed order so that masks are
// numbered the same way every time, and returns the masks of the cloud's
// project and user names.
func (m *masker) learn(s *snapshot.Snapshot) (project, user string) {
	if s.Cloud.Project != "" {
		project = m.next("project")
	}
	if s.Cloud.User != "" {
		user = m.next("user")
	}
	if u, err := url.Parse(s.Cloud.AuthURL); err == nil && u.Hostname() != "" {
		m.word("host", u.Hostname())
	}
	projects := []string{}
	if s.Server != nil {
		projects = append(projects, s.Server.ProjectID)
		m.word("host", s.Server.Host)
	}
	for _, p := range append(append([]snapshot.Port{}, s.Ports...), s.NetworkPorts...) {
		projects = append(projects, p.ProjectID)
		m.word("host", p.BindingHostID)
	}
	for _, a := range s.Agents {
		m.word("host", a.Host)
	}
	for _, h := range s.Hosts {
		m.word("host", h.Name)
		if c := h.NovaConf; c != nil {
			m.word("host", c.Host)
			m.word("host", c.SerialProxyHost)
			if u, err := url.Parse(c.BaseURL); err == nil {
				m.word("host", u.Hostname())
			}
		}
	}
	for _, g := range s.SecurityGroups {
		projects = append(projects, g.ProjectID)
	}
	for _, n := range s.Networks {
		projects = append(projects, n.ProjectID)
	}
	for _, sn := range s.Subnets {
		projects = append(projects, sn.ProjectID)
	}
	for _, r := range s.Routers {
		projects = append(projects, r.ProjectID)
	}
	for _, p := range projects {
		m.word("project", p)
	}
	sort.SliceStable(m.words, func(i, j int) bool { return len(m.words[i].value) > len(m.words[j].value) })
	return project, user
}

// walk masks every string reachable from v, in place.
func (m *masker) walk(v reflect.Value) {
	if v.Type() == cmdType {
		if v.CanSet() {
			v.Set(reflect.ValueOf(v.Interface().(shell.Cmd).Map(m.mask)))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			m.walk(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() {
				m.walk(f)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage
			if v.Len() > 0 && v.CanSet() {
				v.SetBytes([]byte(m.mask(string(v.Bytes()))))
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			m.walk(v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			c := reflect.New(v.Type().Elem()).Elem()
			c.Set(v.MapIndex(k))
			m.walk(c)
			v.SetMapIndex(k, c)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(m.mask(v.String()))
		}
	}
}

// addrToken finds IPv4 and IPv6 candidates, with an optional prefix length.
var addrToken = regexp.MustCompile(`[0-9A-Fa-f:.]*[.:][0-9A-Fa-f:.]*(?:/\d{1,3})?`)

// macToken is a MAC address as Linux and Neutron write it.
var macToken = regexp.MustCompile(`\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b`)

// mask replaces MAC addresses, addresses and known words in s.
func (m *masker) mask(s string) string {
	s = macToken.ReplaceAllStringFunc(s, m.maskMAC)
	s = addrToken.ReplaceAllStringFunc(s, m.maskAddr)
	for _, w := range m.words {
		if w.domain != nil && strings.Contains(s, w.value+".") {
			// ctl.example.com: the domain may name the site.
			s = w.domain.ReplaceAllString(s, "${1}"+w.mask)
		}
		s = replaceWord(s, w.value, w.mask)
	}
	return s
}

// maskMAC masks one MAC address, the same one the same way whatever its
// case.
func (m *masker) maskMAC(tok string) string {
	k := strings.ToLower(tok)
	// The all-zero and broadcast addresses name no one, and mean something:
	// l2population's flood entry is 00:00:00:00:00:00.
	if k == "00:00:00:00:00:00" || k == "ff:ff:ff:ff:ff:ff" {
		return tok
	}
	mk, ok := m.macs[k]
	if !ok {
		mk = m.next("mac")
		if m.key != nil {
			// The vendor's half kept (fa:16:3e is every OpenStack port's).
			h := m.prf([]byte("mac"), []byte(k))
			mk = fmt.Sprintf("%s:%02x:%02x:%02x", k[:8], h[0], h[1], h[2])
		}
		m.macs[k] = mk
	}
	return mk
}

// addr maps an address prefix-preservingly: bit i of the result is bit i
// flipped by a function of the bits before it. IPv4 keeps its last 8
// bits; IPv6 its first 16 (fe80::, 2001:) and its last 8.
func (m *masker) addr(a netip.Addr) netip.Addr {
	b := a.AsSlice()
	from, to := 0, len(b)*8-8
	if a.Is6() {
		from = 16
	}
	out := make([]byte, len(b))
	copy(out, b)
	for i := from; i < to; i++ {
		// The prefix is the original's first i bits.
		pre := make([]byte, len(b))
		for j := 0; j < i; j++ {
			pre[j/8] |= b[j/8] & (0x80 >> (j % 8))
		}
		if m.prf([]byte{byte(i)}, pre)[0]&1 == 1 {
			out[i/8] ^= 0x80 >> (i % 8)
		}
	}
	r, _ := netip.AddrFromSlice(out)
	return r
}

// prf is HMAC-SHA256 under the mapping's key.
func (m *masker) prf(parts ...[]byte) []byte {
	h := hmac.New(sha256.New, m.key)
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// maskAddr masks one candidate token if it is an address worth hiding.
func (m *masker) maskAddr(tok string) string {
	addrPart, bits, hasBits := strings.Cut(tok, "/")
	// A token may carry punctuation around the address: "10.0.0.1." ends a
	// sentence, "[::1]" is not matched whole.
	core := strings.TrimRight(addrPart, ".:")
	rest := addrPart[len(core):]
	port := ""
	a, err := netip.ParseAddr(core)
	if err != nil {
		// host:port, as in a URL.
		ap, perr := netip.ParseAddrPort(core)
		if perr != nil {
			// IPv4 among colon-separated words, as OVSDB writes its
			// remotes ("tcp:192.0.2.10:6642", "ptcp:6641:192.0.2.10").
			if strings.Contains(core, ".") && !strings.Contains(core, "::") && strings.Count(core, ":") > 0 {
				parts := strings.Split(tok, ":")
				for i, part := range parts {
					if strings.Count(part, ".") >= 3 {
						parts[i] = m.maskAddr(part)
					}
				}
				return strings.Join(parts, ":")
			}
			return tok
		}
		a, port = ap.Addr(), fmt.Sprintf(":%d", ap.Port())
	}
	if keepAddr(a) || (a.Is4() && strings.Count(core, ".") != 3) || (a.Is6() && !strings.ContainsAny(core, "0123456789")) {
		return tok
	}
	mk, ok := m.ips[a]
	if !ok {
		mk = m.next("ip")
		if m.key != nil {
			mk = m.addr(a).String()
		}
		m.ips[a] = mk
	}
	if hasBits {
		return mk + port + rest + "/" + bits
	}
	return mk + port + rest
}

// keepAddr reports addresses that say nothing about the cloud.
func keepAddr(a netip.Addr) bool {
	if a.IsUnspecified() || a.IsLoopback() || a == netip.MustParseAddr("169.254.169.254") || a == netip.MustParseAddr("255.255.255.255") {
		return true
	}
	if a.Is4() {
		// Netmasks: ones, then zeros.
		b := a.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		return v != 0 && (^v)&(^v+1) == 0
	}
	return false
}

// replaceWord replaces whole-word occurrences of old: not inside a longer
// name (letters, digits, '-', '_' around it).
func replaceWord(s, old, mask string) string {
	if old == "" || !strings.Contains(s, old) {
		return s
	}
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(s[i:], old)
		if j < 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		j += i
		end := j + len(old)
		if (j == 0 || !wordByte(s[j-1])) && (end == len(s) || !wordByte(s[end])) {
			b.WriteString(s[i:j])
			b.WriteString(mask)
		} else {
			b.WriteString(s[i:end])
		}
		i = end
	}
}

func wordByte(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
