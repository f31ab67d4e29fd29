package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// ovnLabReport diagnoses a snapshot recorded in the OVN lab (internal/rule's
// testdata/ovn).
func ovnLabReport(t *testing.T, name string) *Report {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "rule", "testdata", "ovn", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := snapshot.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return &Report{Snapshot: s, Result: rule.Evaluate(&rule.Input{Snapshot: s}, rule.Options{})}
}

// TestOVNPath: on ML2/OVN the path follows OVN's logical path of the port,
// and marks the stage where ovn-trace drops the ping, in text and HTML.
func TestOVNPath(t *testing.T) {
	p := pathOf(t, ovnLabReport(t, "healthy-vm1"))
	if len(p[rule.HopOVN]) != 1 || p[rule.HopOVN][0].Status != statusOK ||
		p[rule.HopOVN][0].Text != "LSP 328d7ae7… up on ctl → switch private → router port 10.0.0.1/24 of router1 → gateway chassis ctl → NAT 172.24.4.147↔10.0.0.79" {
		t.Errorf("healthy: %+v", p[rule.HopOVN])
	}
	r := ovnLabReport(t, "acl-icmp-deleted-vm1")
	p = pathOf(t, r)
	want := `switch private ✗ dropped at egress(dp="private") table 4 ls_out_acl (ping from 10.0.0.1, ping from 203.0.113.1) → router port`
	if len(p[rule.HopOVN]) != 1 || !strings.Contains(p[rule.HopOVN][0].Text, want) {
		t.Errorf("dropped: %+v", p[rule.HopOVN])
	}
	var text, html strings.Builder
	if err := Text(&text, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&html, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "✗ dropped at egress") || !strings.Contains(html.String(), "✗ dropped at egress(dp=&#34;private&#34;) table 4 ls_out_acl") {
		t.Errorf("the drop is not marked in text or HTML")
	}
	// Not on other clouds.
	if _, ok := pathOf(t, icmpAndNoRouter())[rule.HopOVN]; ok {
		t.Error("an ovn hop without OVN")
	}
}
