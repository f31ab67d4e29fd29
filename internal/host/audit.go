package host

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

var (
	avcRE   = regexp.MustCompile(`avc:\s+denied\s+\{([^}]*)\}\s+for\s+(.*)$`)
	fieldRE = regexp.MustCompile(`(\w+)=("[^"]*"|\S+)`)
)

// ParseAudit reads audit.log (or ausearch -m avc output) and returns the
// AVC denials, in order.
func ParseAudit(b []byte) ([]snapshot.AVC, error) {
	var out []snapshot.AVC
	sc := lines(b)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "type=AVC") && !strings.Contains(line, "avc:") {
			continue
		}
		m := avcRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		a := snapshot.AVC{Perms: strings.Fields(m[1]), Line: strings.TrimSpace(line)}
		for _, kv := range fieldRE.FindAllStringSubmatch(m[2], -1) {
			v := strings.Trim(kv[2], `"`)
			switch kv[1] {
			case "comm":
				a.Comm = v
			case "pid":
				a.PID, _ = strconv.Atoi(v)
			case "scontext":
				a.SType = contextType(v)
			case "tcontext":
				a.TType = contextType(v)
			case "tclass":
				a.TClass = v
			case "permissive":
				a.Permissive = v == "1"
			}
		}
		if a.SType == "" || a.TType == "" || a.TClass == "" || len(a.Perms) == 0 {
			continue
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}

// contextType returns the type of an SELinux context user:role:type:level.
func contextType(ctx string) string {
	f := strings.Split(ctx, ":")
	if len(f) < 3 {
		return ""
	}
	return f[2]
}

// Audit2Allow renders the allow rules audit2allow would print for avcs:
// one block per source domain, one line per target type and class with the
// permissions merged and sorted.
func Audit2Allow(avcs []snapshot.AVC) []string {
	type key struct{ s, t, c string }
	perms := map[key]map[string]bool{}
	var keys []key
	for _, a := range avcs {
		k := key{a.SType, a.TType, a.TClass}
		if perms[k] == nil {
			perms[k] = map[string]bool{}
			keys = append(keys, k)
		}
		for _, p := range a.Perms {
			perms[k][p] = true
		}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if keys[i].s != keys[j].s {
			return keys[i].s < keys[j].s
		}
		if keys[i].t != keys[j].t {
			return keys[i].t < keys[j].t
		}
		return keys[i].c < keys[j].c
	})
	var out []string
	last := ""
	for _, k := range keys {
		if k.s != last {
			if last != "" {
				out = append(out, "")
			}
			out = append(out, "#============= "+k.s+" ==============")
			last = k.s
		}
		var ps []string
		for p := range perms[k] {
			ps = append(ps, p)
		}
		sort.Strings(ps)
		tt := k.t
		if tt == k.s {
			tt = "self"
		}
		set := ps[0]
		if len(ps) > 1 {
			set = "{ " + strings.Join(ps, " ") + " }"
		}
		out = append(out, fmt.Sprintf("allow %s %s:%s %s;", k.s, tt, k.c, set))
	}
	return out
}

// ParseGetenforce reads getenforce's one word.
func ParseGetenforce(b []byte) (string, error) {
	s := strings.TrimSpace(string(b))
	switch s {
	case "Enforcing", "Permissive", "Disabled":
		return s, nil
	}
	return "", fmt.Errorf("read getenforce: unexpected %q", trimBytes([]byte(s), 40))
}
