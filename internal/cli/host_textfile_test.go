package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hoofbeat/hoofbeat/internal/exporter"
)

// TestHostTextfile: the recorded blocked tunnel becomes a finding series
// in DIR/hoofbeat_host.prom, readable by node_exporter, with no temporary
// file left beside it; an unreachable host is a 0.
func TestHostTextfile(t *testing.T) {
	dir := t.TempDir()
	// A stale file from the previous run is replaced whole.
	if err := os.WriteFile(filepath.Join(dir, exporter.TextfileName), []byte("stale 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, nil, "host", "cmp1", "--replay", "cmp1="+filepath.Join(hostRecordings, "vxlan-blocked", "cmp1"),
		"--output", "prometheus", "--textfile", dir)
	if code != ExitFindings || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != exporter.TextfileName {
		t.Fatalf("directory holds %v", entries)
	}
	st, _ := os.Stat(filepath.Join(dir, exporter.TextfileName))
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v: node_exporter runs as another user", st.Mode())
	}
	b, _ := os.ReadFile(filepath.Join(dir, exporter.TextfileName))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	for _, want := range []string{`hoofbeat_host_findings{domain="host",host="cmp1",rule="host/tunnel-peer-blocked",severity="error"} 1`,
		`hoofbeat_host_reachable{host="cmp1"} 1`, "hoofbeat_host_last_run_timestamp_seconds "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("textfile lacks %q:\n%s", want, b)
		}
	}
	if fams["stale"] != nil {
		t.Errorf("the old file's metrics survived")
	}
}

func TestHostPrometheusStdoutAndUsage(t *testing.T) {
	code, out, _ := run(t, nil, "host", "ctl", "--replay", "ctl="+filepath.Join(hostRecordings, "healthy", "ctl"), "-o", "prometheus")
	if code != ExitOK || !strings.Contains(out, `hoofbeat_host_reachable{host="ctl"} 1`) || strings.Contains(out, "hoofbeat_host_findings{") && strings.Contains(out, `severity="error"`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	for _, args := range [][]string{
		{"host", "--textfile", t.TempDir()},
		{"host", "-o", "prometheus", "--textfile", filepath.Join(t.TempDir(), "missing")},
	} {
		if code, _, errOut := run(t, nil, args...); code != ExitUsage {
			t.Errorf("%q: exit %d %s", args, code, errOut)
		}
	}
}

// TestTextfileHostileHost: a host name is a label value, escaped and cut;
// never a path.
func TestTextfileHostileHost(t *testing.T) {
	dir := t.TempDir()
	name := "../evil\"}\n" + strings.Repeat("h", 200)
	code, _, errOut := run(t, nil, "host", name, "--replay", name+"="+filepath.Join(hostRecordings, "vxlan-blocked", "cmp1"), "-o", "prometheus", "--textfile", dir)
	if code != ExitFindings {
		t.Fatalf("exit %d %s", code, errOut)
	}
	b, _ := os.ReadFile(filepath.Join(dir, exporter.TextfileName))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	for _, m := range fams["hoofbeat_host_reachable"].Metric {
		if v := m.Label[0].GetValue(); len([]rune(v)) != exporter.MaxLabelLen || !strings.HasPrefix(v, "../evil\"}\n") {
			t.Errorf("host label %q", v)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %v", entries)
	}
}
