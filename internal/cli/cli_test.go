package cli

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/rule"
)

// run executes hoofbeat with env as its whole environment.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, _, out, errOut := Test()
	io.Getenv = func(k string) string { return env[k] }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = Main(ctx, args, io)
	return code, out.String(), errOut.String()
}

func adminEnv(c *fakeos.Cloud) map[string]string { return c.PasswordEnv(fakeos.AdminUser) }

// jsonReport is the part of the JSON output the CLI tests assert on.
type jsonReport struct {
	Findings []struct {
		Rule     string `json:"rule"`
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
	} `json:"findings"`
	Skipped []struct {
		Rule   string `json:"rule"`
		Reason string `json:"reason"`
	} `json:"skipped"`
	Summary struct {
		Errors int `json:"errors"`
	} `json:"summary"`
}

func decode(t *testing.T, s string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return r
}

func (r jsonReport) has(rule string) bool {
	for _, f := range r.Findings {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

func TestDiagnoseHealthy(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	code, out, errOut := run(t, adminEnv(c), "diagnose", fakeos.ServerName)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"PATH", fakeos.ServerID, "No problem found"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour codes on a non-terminal:\n%q", out)
	}
}

func TestDiagnoseColourOnTerminal(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	io, _, out, _ := Test()
	env := adminEnv(c)
	io.Getenv = func(k string) string { return env[k] }
	io.OutTTY = true
	if code := Main(context.Background(), []string{"diagnose", fakeos.ServerName}, io); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "\x1b[") {
		t.Errorf("no colour on a terminal")
	}
	env["NO_COLOR"] = "1"
	out.Reset()
	Main(context.Background(), []string{"diagnose", fakeos.ServerName}, io)
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("colour despite NO_COLOR")
	}
	// CLICOLOR_FORCE colours a pipe; TERM=dumb keeps a terminal plain.
	delete(env, "NO_COLOR")
	env["CLICOLOR_FORCE"] = "1"
	io.OutTTY = false
	out.Reset()
	Main(context.Background(), []string{"diagnose", fakeos.ServerName}, io)
	if !strings.Contains(out.String(), "\x1b[") {
		t.Errorf("no colour despite CLICOLOR_FORCE=1")
	}
	delete(env, "CLICOLOR_FORCE")
	env["TERM"] = "dumb"
	io.OutTTY = true
	out.Reset()
	Main(context.Background(), []string{"diagnose", fakeos.ServerName}, io)
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("colour despite TERM=dumb")
	}
}

func removeICMP(w *fakeos.World) {
	sg := &w.SecurityGroups[0]
	var kept []fakeos.Rule
	for _, r := range sg.Rules {
		if r.Protocol != "icmp" {
			kept = append(kept, r)
		}
	}
	sg.Rules = kept
}

func TestDiagnoseFindingExitsOne(t *testing.T) {
	w := fakeos.Standard()
	removeICMP(w)
	c := fakeos.Start(t, w)
	code, out, _ := run(t, adminEnv(c), "diagnose", fakeos.ServerID, "--output", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	r := decode(t, out)
	if len(r.Findings) == 0 || r.Findings[0].Rule != "security-group/icmp-ingress-missing" || r.Findings[0].Severity != "error" {
		t.Fatalf("first finding is not the ICMP rule at error: %+v", r.Findings)
	}
	if r.Summary.Errors == 0 {
		t.Errorf("summary counts no errors")
	}
}

func TestDiagnoseExclude(t *testing.T) {
	w := fakeos.Standard()
	removeICMP(w)
	c := fakeos.Start(t, w)
	code, out, _ := run(t, adminEnv(c), "diagnose", fakeos.ServerID, "-o", "json", "--exclude", "security-group/icmp-ingress-missing")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0 once the only error rule is excluded\n%s", code, out)
	}
	if decode(t, out).has("security-group/icmp-ingress-missing") {
		t.Errorf("excluded rule still reported")
	}
}

func TestDiagnoseCheckFlows(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	env := adminEnv(c)
	code, out, errOut := run(t, env, "diagnose", fakeos.ServerName, "-o", "json", "--check", "tcp/22", "--from", "203.0.113.0/24")
	if code != ExitOK || decode(t, out).has("security-group/ingress-missing") {
		t.Fatalf("tcp/22 is admitted from anywhere, got exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, env, "diagnose", fakeos.ServerName, "-o", "json", "--check", "tcp/80", "--from", "203.0.113.7")
	if code != ExitFindings || !decode(t, out).has("security-group/ingress-missing") {
		t.Fatalf("tcp/80 is not admitted, got exit %d\n%s", code, out)
	}
}

func TestDiagnoseNonAdminSkips(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	code, out, errOut := run(t, c.PasswordEnv(fakeos.DemoUser), "diagnose", fakeos.ServerName, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
	}
	r := decode(t, out)
	found := false
	for _, s := range r.Skipped {
		if strings.HasPrefix(s.Rule, "agent/") && strings.Contains(s.Reason, "needs admin") {
			found = true
		}
	}
	if !found {
		t.Errorf("no agent rule skipped with 'needs admin': %+v", r.Skipped)
	}
}

func TestDiagnoseDebugRedacts(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	env := adminEnv(c)
	code, _, errOut := run(t, env, "diagnose", fakeos.ServerName, "--debug")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "GET ") || !strings.Contains(errOut, "/v2.0/ports") {
		t.Errorf("--debug logged no requests:\n%s", errOut)
	}
	if strings.Contains(errOut, env["OS_PASSWORD"]) || strings.Contains(errOut, c.IssueToken(fakeos.AdminUser)[:8]) {
		t.Errorf("--debug leaked a secret:\n%s", errOut)
	}
}

func TestDiagnoseBadInput(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	good := adminEnv(c)
	wrongPassword := adminEnv(c)
	wrongPassword["OS_PASSWORD"] = "not-the-password"

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := adminEnv(c)
	unreachable["OS_AUTH_URL"] = "http://" + closed.Addr().String() + "/identity/v3"
	closed.Close()

	dir := t.TempDir()
	bad := filepath.Join(dir, "clouds.yaml")
	if err := os.WriteFile(bad, []byte("clouds:\n  lab: [unclosed\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	hung := fakeos.Start(t, fakeos.Standard())
	hung.Inject(fakeos.Fault{Path: "/compute/", Hang: true})

	w := fakeos.Standard()
	twin := w.Servers[0]
	twin.ID = "7e1f0a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"
	w.Servers = append(w.Servers, twin)
	ambiguous := fakeos.Start(t, w)

	cases := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{"no server", good, []string{"diagnose"}, ExitUsage, "one SERVER"},
		{"two servers", good, []string{"diagnose", "a", "b"}, ExitUsage, "one SERVER"},
		{"unknown flag", good, []string{"diagnose", "vm1", "--nope"}, ExitUsage, "unknown flag"},
		{"bad output", good, []string{"diagnose", "vm1", "-o", "xml"}, ExitUsage, "unknown output format"},
		{"bad check", good, []string{"diagnose", "vm1", "--check", "tcp/0"}, ExitUsage, "tcp/0"},
		{"from without check", good, []string{"diagnose", "vm1", "--from", "10.0.0.0/8"}, ExitUsage, "--from needs"},
		{"unknown exclude", good, []string{"diagnose", "vm1", "--exclude", "no/such"}, ExitUsage, "no rule named"},
		{"missing server", good, []string{"diagnose", "vm-nope"}, ExitUsage, "vm-nope"},
		{"ambiguous server", ambiguous.PasswordEnv(fakeos.AdminUser), []string{"diagnose", "vm1"}, ExitUsage, twin.ID},
		{"wrong password", wrongPassword, []string{"diagnose", "vm1"}, ExitUnreachable, "authentication failed"},
		{"unreachable", unreachable, []string{"diagnose", "vm1"}, ExitUnreachable, "127.0.0.1"},
		{"no credentials", map[string]string{}, []string{"diagnose", "vm1"}, ExitUsage, "OS_CLOUD"},
		{"malformed clouds.yaml", map[string]string{"OS_CLIENT_CONFIG_FILE": bad, "OS_CLOUD": "lab"}, []string{"diagnose", "vm1"}, ExitUsage, "clouds.yaml"},
		{"hanging cloud", hung.PasswordEnv(fakeos.AdminUser), []string{"diagnose", "vm1", "--timeout", "300ms"}, ExitUnreachable, ""},
		{"unknown rule", good, []string{"explain", "nope/nope"}, ExitUsage, "no rule named"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, tc.env, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			if !strings.HasPrefix(errOut, "hoofbeat: ") || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr %q does not say %q", errOut, tc.stderr)
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace on stderr:\n%s", errOut)
			}
			if p := tc.env["OS_PASSWORD"]; p != "" && strings.Contains(errOut+out, p) {
				t.Errorf("password printed")
			}
			if tc.name != "ambiguous server" && strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
				t.Errorf("error is not one line (plus a --help pointer):\n%s", errOut)
			}
		})
	}
}

func TestDiagnoseOSCloudFlag(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	dir := t.TempDir()
	file := filepath.Join(dir, "clouds.yaml")
	yaml := "clouds:\n  lab:\n    auth:\n      auth_url: " + c.AuthURL() + "\n      username: admin\n      password: " + fakeos.AdminPassword +
		"\n      project_name: admin\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OS_CLIENT_CONFIG_FILE": file}
	if code, out, errOut := run(t, env, "diagnose", "vm1", "--os-cloud", "lab"); code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := run(t, env, "diagnose", "vm1", "--os-cloud", "other"); code != ExitUsage || !strings.Contains(errOut, "lab") {
		t.Fatalf("unknown cloud: exit %d, stderr %q should list the known clouds", code, errOut)
	}
}

func TestRulesAndExplain(t *testing.T) {
	code, out, _ := run(t, nil, "rules")
	if code != 0 || !strings.HasPrefix(out, "RULE") {
		t.Fatalf("rules: exit %d\n%s", code, out)
	}
	for _, r := range rule.Catalogue() {
		if !strings.Contains(out, r.Name) {
			t.Errorf("rules does not list %s", r.Name)
		}
		code, text, _ := run(t, nil, "explain", r.Name)
		if code != 0 || !strings.Contains(text, r.Name) || !strings.Contains(text, "Fix: ") {
			t.Errorf("explain %s: exit %d\n%s", r.Name, code, text)
		}
	}
	code, out, _ = run(t, nil, "rules", "-o", "json")
	var list []ruleJSON
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != len(rule.Catalogue()) {
		t.Fatalf("rules -o json: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "explain", "security-group/icmp-ingress-missing", "-o", "json")
	var one ruleJSON
	if code != 0 || json.Unmarshal([]byte(out), &one) != nil || one.Doc == "" || one.Severity != rule.Error {
		t.Fatalf("explain -o json: exit %d\n%s", code, out)
	}
	if _, _, errOut := run(t, nil, "explain", "icmp-ingress-missing"); !strings.Contains(errOut, "security-group/icmp-ingress-missing") {
		t.Errorf("explain does not suggest the full name: %q", errOut)
	}
}

func TestVersionAndHelp(t *testing.T) {
	if code, out, _ := run(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "hoofbeat ") {
		t.Fatalf("version: exit %d %q", code, out)
	}
	code, out, _ := run(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "diagnose") || !strings.Contains(out, "explain") {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, nil, "diagnose", "--help")
	if code != 0 || !strings.Contains(out, "Exit status") || !strings.Contains(out, "--check") {
		t.Fatalf("diagnose --help: exit %d\n%s", code, out)
	}
}
