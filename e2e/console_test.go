//go:build e2e

package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// console runs "hoofbeat console SERVER" on the controller as an operator's
// script would: input on a pipe, output on stdout, an idle timeout.
func console(t *testing.T, server, input string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repo, "lab/on.sh"), "ctl", "env", "OS_CLOUD=lab-admin",
		bin, "console", server, "--timeout", "3s")
	var out, errOut bytes.Buffer
	cmd.Stdin = strings.NewReader(input)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run hoofbeat console: %v", err)
	}
	t.Logf("hoofbeat console %s: exit %d\nstdout: %q\nstderr: %q", server, code, out.String(), errOut.String())
	return out.String(), errOut.String(), code
}

// TestSerialConsole goes through the real nova-serialproxy to the serial
// port the lab's driver opens for each instance (on ctl for vm1, across the
// underlay on cmp1 for vm3).
func TestSerialConsole(t *testing.T) {
	onceL2(t)
	for _, server := range []string{"vm1", "vm3"} {
		out, _, code := console(t, server, "root\r")
		if code != 0 || !strings.Contains(out, server+" login: ") {
			t.Errorf("console %s: exit %d, want the guest's login prompt in %q", server, code, out)
		}
	}
}

// TestSerialConsoleOnLoopback: with proxyclient_address = 127.0.0.1 on cmp1,
// the proxy on ctl is sent to its own loopback and vm3's console is gone;
// hoofbeat must fail with one line, not hang or pretend.
func TestSerialConsoleOnLoopback(t *testing.T) {
	onceL2(t)
	lab(t, "fault.sh", "serial-listen-loopback")
	healed := false
	heal := func() {
		if !healed {
			healed = true
			lab(t, "fault.sh", "heal", "serial-listen-loopback")
		}
	}
	t.Cleanup(heal)
	out, errOut, code := console(t, "vm3", "root\r")
	if code == 0 || strings.Contains(out, "login: ") {
		t.Errorf("console vm3 with its console on cmp1's loopback: exit %d, output %q", code, out)
	}
	if !strings.HasPrefix(errOut, "hoofbeat: ") && !strings.Contains(errOut, "\nhoofbeat: ") {
		t.Errorf("no one-line error: %q", errOut)
	}
	heal()
	if out, _, code := console(t, "vm3", "root\r"); code != 0 || !strings.Contains(out, "vm3 login: ") {
		t.Errorf("console vm3 after the heal: exit %d, output %q", code, out)
	}
}
