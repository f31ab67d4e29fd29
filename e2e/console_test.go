//go:build e2e

package e2e

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/testio"
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

// consoleGone and consoleBack are fault serial-listen-loopback's checks
// (TestFaults) beside its diagnosis: with proxyclient_address = 127.0.0.1
// on cmp1, the proxy on ctl is sent to its own loopback and vm3's console
// is gone; hoofbeat must fail with one line, not hang or pretend. Healed,
// the console answers again.
func consoleGone(t *testing.T) {
	out, errOut, code := console(t, "vm3", "root\r")
	if code == 0 || strings.Contains(out, "login: ") {
		t.Errorf("console vm3 with its console on cmp1's loopback: exit %d, output %q", code, out)
	}
	if !strings.HasPrefix(errOut, "hoofbeat: ") && !strings.Contains(errOut, "\nhoofbeat: ") {
		t.Errorf("no one-line error: %q", errOut)
	}
}

func consoleBack(t *testing.T) {
	if out, _, code := console(t, "vm3", "root\r"); code != 0 || !strings.Contains(out, "vm3 login: ") {
		t.Errorf("console vm3 after the heal: exit %d, output %q", code, out)
	}
}

// TestRealGuestConsole logs in to vm4's real getty (busybox login on the
// guest's ttyS0) through the real nova-serialproxy on ctl and the TCP serial
// device libvirt gives qemu on cmp2, then runs a command in the guest.
func TestRealGuestConsole(t *testing.T) {
	onceL2(t)
	if guests != "real" {
		t.Skipf("needs a real guest: LAB_GUESTS=real lab/up.sh (this lab's guests are %s)", guests)
	}
	cmd := exec.Command(filepath.Join(repo, "lab/on.sh"), "ctl", "env", "OS_CLOUD=lab-admin",
		bin, "console", "vm4", "--timeout", "8s")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut testio.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
		t.Logf("hoofbeat console vm4: stdout %q\nstderr %q", out.String(), errOut.String())
	}()
	// expect waits for want in the output after offset from; it returns the
	// offset just past it.
	expect := func(from int, want string, within time.Duration) int {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			s := out.String()
			if i := strings.Index(s[from:], want); i >= 0 {
				return from + i + len(want)
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %q from vm4's console within %s; it printed %q", want, within, s[from:])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(stdin, s); err != nil {
			t.Fatalf("write to hoofbeat console: %v", err)
		}
	}
	send("\r")
	at := expect(0, "vm4 login: ", 30*time.Second)
	send("root\r")
	at = expect(at, "Password: ", 10*time.Second)
	// login prints its prompt before it turns echo off and flushes the
	// terminal's input: a password typed at once can be thrown away.
	time.Sleep(time.Second)
	send("hoofbeat\r")
	at = expect(at, "# ", 10*time.Second)
	send("echo hbg-$((6*7)) $(hostname)\r")
	expect(at, "hbg-42 vm4", 10*time.Second)
	send("exit\r")
}
