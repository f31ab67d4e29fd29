package cli

import (
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// noLease is a cirros guest that got no DHCP lease.
const noLease = `[    0.000000] Linux version 5.15.0-71-generic (buildd@lcy02-amd64-044)
Starting network: udhcpc: started, v1.36.1
udhcpc: broadcasting discover
udhcpc: no lease, failing
FAIL
checking http://169.254.169.254/2009-04-04/instance-id
failed 20/20: up 112.58. request failed
failed to read iid from metadata. tried 20
`

func TestDiagnoseConsoleLines(t *testing.T) {
	w := fakeos.Standard()
	w.Servers[0].ConsoleOutput = noLease
	c := fakeos.Start(t, w)
	env := adminEnv(c)

	code, out, errOut := run(t, env, "diagnose", fakeos.ServerName, "-o", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	r := decode(t, out)
	if len(r.Findings) == 0 || r.Findings[0].Rule != "instance/dhcp-failed" || !r.has("instance/metadata-unreachable") {
		t.Errorf("findings = %+v", r.Findings)
	}

	// The tail is 3 lines: the lease failure is out of it.
	code, out, _ = run(t, env, "diagnose", fakeos.ServerName, "-o", "json", "--console-lines", "3")
	if code != ExitOK || decode(t, out).has("instance/dhcp-failed") {
		t.Errorf("--console-lines 3: exit %d\n%s", code, out)
	}

	// 0 skips the console log, and its rules say so.
	code, out, _ = run(t, env, "diagnose", fakeos.ServerName, "-o", "json", "--console-lines", "0")
	if code != ExitOK {
		t.Fatalf("--console-lines 0: exit %d\n%s", code, out)
	}
	r = decode(t, out)
	skipped := 0
	for _, s := range r.Skipped {
		if strings.HasPrefix(s.Rule, "instance/") && strings.Contains(s.Reason, "--console-lines is 0") {
			skipped++
		}
	}
	if skipped != 4 || c.Count("POST /compute") != 2 {
		t.Errorf("console rules skipped: %d, console requests %d\n%+v", skipped, c.Count("POST /compute"), r.Skipped)
	}

	for _, bad := range []string{"-1", "10001", "many"} {
		code, _, errOut := run(t, env, "diagnose", fakeos.ServerName, "--console-lines", bad)
		if code != ExitUsage || !strings.Contains(errOut, "console-lines") {
			t.Errorf("--console-lines %s: exit %d %q", bad, code, errOut)
		}
	}
}
