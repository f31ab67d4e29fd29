package exporter

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// TestWriteTextfileFailureKeepsTheOldFile: a write that fails leaves the
// previous file whole and no temporary file behind.
func TestWriteTextfileFailureKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	if err := WriteTextfile(dir, TextfileName, func(w io.Writer) error { _, err := io.WriteString(w, "a 1\n"); return err }); err != nil {
		t.Fatal(err)
	}
	err := WriteTextfile(dir, TextfileName, func(w io.Writer) error {
		_, _ = io.WriteString(w, "a 2\nhalf")
		return errors.New("disk full")
	})
	if err == nil {
		t.Fatal("no error")
	}
	entries, _ := os.ReadDir(dir)
	b, _ := os.ReadFile(filepath.Join(dir, TextfileName))
	if len(entries) != 1 || string(b) != "a 1\n" {
		t.Errorf("after a failed write: %v, %q", entries, b)
	}
}

// TestHostMetricsPromtool: the host metrics pass promtool check metrics.
func TestHostMetricsPromtool(t *testing.T) {
	h := &HostChecks{
		Hosts: []snapshot.Host{{Name: "cmp1"}, {Name: "net1", Unreachable: "ssh: connection refused"}},
		Result: rule.Result{Findings: []rule.Finding{{Rule: "host/tunnel-peer-blocked", Severity: rule.Error, Domain: "host",
			Subject: rule.Subject{Kind: "host", Name: "cmp1"}}}},
		At: time.Unix(1764576000, 0), Duration: 2 * time.Second,
	}
	var b strings.Builder
	if err := WriteHostMetrics(&b, h); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`hoofbeat_host_findings{domain="host",host="cmp1",rule="host/tunnel-peer-blocked",severity="error"} 1`,
		`hoofbeat_host_reachable{host="net1"} 0`, "hoofbeat_host_last_run_timestamp_seconds 1.764576e+09"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q:\n%s", want, b.String())
		}
	}
	promtoolCheck(t, b.String())
}
