package report

import (
	"bytes"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

func readSnapshotFile(t *testing.T, path string) *snapshot.Snapshot {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := snapshot.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// secrets are what a shared snapshot must not show: every address (but
// the well-known ones), every MAC, every host name.
func secrets(s *snapshot.Snapshot, raw string) (hosts, other []string) {
	for _, tok := range addrToken.FindAllString(raw, -1) {
		core, _, _ := strings.Cut(tok, "/")
		core = strings.TrimRight(core, ".:")
		if a, err := netip.ParseAddr(core); err == nil && !keepAddr(a) && (!a.Is4() || strings.Count(core, ".") == 3) && (!a.Is6() || strings.ContainsAny(core, "0123456789")) {
			other = append(other, core)
		}
	}
	for _, mac := range macToken.FindAllString(raw, -1) {
		// The all-zero (l2population's flood entry) and broadcast MACs
		// name no one: they are kept.
		if mac != "00:00:00:00:00:00" && !strings.EqualFold(mac, "ff:ff:ff:ff:ff:ff") {
			other = append(other, mac)
		}
	}
	add := func(h string) {
		if len(h) > 1 {
			if _, err := netip.ParseAddr(h); err != nil {
				hosts = append(hosts, h)
			}
		}
	}
	if s.Server != nil {
		add(s.Server.Host)
	}
	for _, a := range s.Agents {
		add(a.Host)
	}
	for _, p := range append(s.Ports, s.NetworkPorts...) {
		add(p.BindingHostID)
	}
	for _, h := range s.Hosts {
		add(h.Name)
		if c := h.NovaConf; c != nil {
			add(c.Host)
			if u, err := url.Parse(c.BaseURL); err == nil {
				add(u.Hostname())
			}
		}
	}
	// Each is searched for in the whole redacted file: once is enough (an
	// address recurs in hundreds of places; the race detector made the
	// repeats a minute and a half of make unit).
	slices.Sort(hosts)
	slices.Sort(other)
	return slices.Compact(hosts), slices.Compact(other)
}

// TestRedactSnapshotExamples: every recorded example, redacted, shows no
// address, MAC or host name it held (a host name neither alone nor as a
// domain's first label), and is diagnosed as the original is.
func TestRedactSnapshotExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "snapshots", "*.json"))
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			orig := readSnapshotFile(t, f)
			var raw, b bytes.Buffer
			if err := snapshot.Write(&raw, orig); err != nil {
				t.Fatal(err)
			}
			if err := snapshot.Write(&b, RedactSnapshot(orig)); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			hosts, other := secrets(orig, raw.String())
			if len(other) == 0 || len(hosts) == 0 {
				t.Fatalf("nothing to hide? %v %v", hosts, other)
			}
			for _, v := range other {
				if strings.Contains(out, v) {
					t.Errorf("%q is still in the redacted snapshot", v)
				}
			}
			for _, h := range hosts {
				if loc := regexp.MustCompile(`(^|[^A-Za-z0-9_-])` + regexp.QuoteMeta(h) + `($|[^A-Za-z0-9_-])`).FindStringIndex(out); loc != nil {
					t.Errorf("host %q is still in the redacted snapshot: …%s…", h, out[max(0, loc[0]-40):min(len(out), loc[1]+40)])
				}
			}
			// The file reads back, and says what the original says.
			back, err := snapshot.Read(strings.NewReader(out))
			if err != nil {
				t.Fatalf("the redacted snapshot does not read: %v", err)
			}
			want := rule.Evaluate(&rule.Input{Snapshot: orig}, rule.Options{})
			got := rule.Evaluate(&rule.Input{Snapshot: back}, rule.Options{})
			if first(want) != first(got) || want.Worst() != got.Worst() {
				t.Errorf("redacted: first %q worst %v, original: first %q worst %v", first(got), got.Worst(), first(want), want.Worst())
			}
		})
	}
}

func first(r rule.Result) string {
	if len(r.Findings) == 0 {
		return ""
	}
	return r.Findings[0].Rule
}
