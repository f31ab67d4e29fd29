package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

func examplePath(name string) string {
	return filepath.Join("..", "..", "examples", "snapshots", name+".json")
}

// TestDiff: hoofbeat diff's exit status is diff(1)'s, its text names the
// change and the finding, its JSON is the documented document.
func TestDiff(t *testing.T) {
	code, out, errOut := run(t, nil, "diff", examplePath("healthy"), examplePath("healthy"))
	if code != ExitOK || !strings.Contains(out, "VERDICT  nothing changed") || errOut != "" {
		t.Errorf("same snapshot: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, nil, "diff", examplePath("healthy"), examplePath("icmp-ingress"))
	for _, want := range []string{
		"security-group lab-sg e14d5d74-9953-4c14-be67-60863cd60448: rule removed: ingress IPv4 icmp from 0.0.0.0/0",
		"+ ERROR    security-group/icmp-ingress-missing: ",
		"1 finding appeared, 0 cleared",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if code != 1 || errOut != "" {
		t.Errorf("a fault: exit %d, stderr %q", code, errOut)
	}

	// --exclude leaves the rule out of both evaluations; --config too.
	_, out, _ = run(t, nil, "diff", examplePath("healthy"), examplePath("icmp-ingress"), "--exclude", "security-group/icmp-ingress-missing")
	if strings.Contains(out, "icmp-ingress-missing") || !strings.Contains(out, "0 findings appeared") {
		t.Errorf("--exclude:\n%s", out)
	}
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("rules:\n  exclude: [security-group/icmp-ingress-missing]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, _ = run(t, nil, "diff", examplePath("healthy"), examplePath("icmp-ingress"), "--config", cfg)
	if strings.Contains(out, "icmp-ingress-missing") {
		t.Errorf("--config:\n%s", out)
	}

	code, out, _ = run(t, nil, "diff", "-o", "json", examplePath("icmp-ingress"), examplePath("healthy"))
	var doc struct {
		SchemaVersion int `json:"schema_version"`
		Old, New      struct{ Query, Subject string }
		Changes       []struct{ Kind, What, Old, New string }
		Appeared      []struct{ Rule string }
		Cleared       []struct{ Rule string }
		Summary       struct{ Changed bool }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 1 {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	if doc.SchemaVersion != 1 || !doc.Summary.Changed || len(doc.Appeared) != 0 || len(doc.Cleared) != 1 ||
		doc.Cleared[0].Rule != "security-group/icmp-ingress-missing" || len(doc.Changes) == 0 || doc.Old.Query != "vm1" {
		t.Errorf("json: %+v", doc)
	}

	// Bad input: one line, exit 2.
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"diff", examplePath("healthy")},
		{"diff", examplePath("healthy"), bad},
		{"diff", examplePath("healthy"), "/nonexistent/x.json"},
		{"diff", "-", "-"},
		{"diff", "-o", "html", examplePath("healthy"), examplePath("healthy")},
	} {
		code, _, errOut := run(t, nil, args...)
		if code != ExitUsage || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}
}

// TestCollectRedact: collect --redact writes a file without the cloud's
// addresses, MACs or host names, which diagnose --from reads to the same
// verdict.
func TestCollectRedact(t *testing.T) {
	w := fakeos.Standard()
	removeICMP(w)
	c := fakeos.Start(t, w)
	dir := t.TempDir()
	plain, red := filepath.Join(dir, "plain.json"), filepath.Join(dir, "red.json")
	for _, args := range [][]string{{"collect", "vm1", "--out", plain}, {"collect", "vm1", "--out", red, "--redact"}} {
		if code, _, errOut := run(t, adminEnv(c), args...); code != ExitOK {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
	}
	b, _ := os.ReadFile(red)
	for _, secret := range []string{fakeos.ServerIP, fakeos.FloatingAddress, "fa:16:3e:5b:1c:2d", fakeos.ComputeHost, fakeos.NetworkHost, `"user": "admin"`, `"project": "admin"`} {
		if strings.Contains(string(b), secret) {
			t.Errorf("%q is in the redacted file", secret)
		}
	}
	codeP, outP, _ := run(t, nil, "diagnose", "--from", plain, "-o", "json")
	codeR, outR, errR := run(t, nil, "diagnose", "--from", red, "-o", "json")
	p, r := decode(t, outP), decode(t, outR)
	if codeR != codeP || codeR != ExitFindings || len(r.Findings) != len(p.Findings) || r.Findings[0].Rule != p.Findings[0].Rule {
		t.Errorf("redacted: exit %d %+v %s\nplain: exit %d %+v", codeR, r.Findings, errR, codeP, p.Findings)
	}
}
