package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// TestMain lets the tests run this binary as hoofbeat itself.
func TestMain(m *testing.M) {
	if os.Getenv("HOOFBEAT_TEST_MAIN") == "1" {
		os.Args = append([]string{"hoofbeat"}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

// TestInterrupt: Ctrl-C (SIGINT) and SIGTERM end a verb stuck on a hung
// API promptly, with one line and the shell's exit code (128+signal).
func TestInterrupt(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			c := fakeos.Start(t, fakeos.Standard())
			c.Inject(fakeos.Fault{Path: "/compute/", Hang: true})
			cmd := exec.Command(os.Args[0], "diagnose", "vm1", "--timeout", "10m")
			cmd.Env = []string{"HOOFBEAT_TEST_MAIN=1", "PATH=" + os.Getenv("PATH")}
			for k, v := range c.PasswordEnv(fakeos.AdminUser) {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait until the request hangs, then interrupt.
			deadline := time.Now().Add(10 * time.Second)
			for c.Count("GET /compute/") == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			sent := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			took := time.Since(sent)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("exit: %v, want code %d; stderr: %s", err, tc.code, stderr.String())
			}
			// The grace period is one second; allow for a loaded machine.
			if took > 3*time.Second {
				t.Errorf("took %s after the signal to exit", took)
			}
			if got := strings.TrimSpace(stderr.String()); !strings.Contains(got, "hoofbeat: interrupted") || strings.Count(got, "\n") > 0 {
				t.Errorf("stderr %q, want one line saying it was interrupted", got)
			}
		})
	}
}
