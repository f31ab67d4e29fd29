package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/console/fakeproxy"
	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// runConsole runs "hoofbeat console" with stdin fed from in (not a terminal).
func runConsole(t *testing.T, env map[string]string, in string, args ...string) (int, string, string) {
	t.Helper()
	io, stdin, out, errOut := Test()
	stdin.WriteString(in)
	io.Getenv = func(k string) string { return env[k] }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := Main(ctx, append([]string{"console"}, args...), io)
	return code, out.String(), errOut.String()
}

func TestConsoleThroughNova(t *testing.T) {
	proxy := fakeproxy.Start(fakeproxy.Config{})
	defer proxy.Close()
	w := fakeos.Standard()
	w.Servers[0].SerialURL = proxy.URL()
	c := fakeos.Start(t, w)
	logFile := filepath.Join(t.TempDir(), "console.log")

	code, out, errOut := runConsole(t, adminEnv(c), "\r", fakeos.ServerName, "--timeout", "500ms", "--log", logFile)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "vm1 login: ") {
		t.Errorf("the guest's prompt did not reach stdout: %q", out)
	}
	if got := string(proxy.Received()); got != "\r" {
		t.Errorf("the console received %q, want the piped input", got)
	}
	logged, err := os.ReadFile(logFile)
	if err != nil || !bytes.Contains(logged, []byte("vm1 login: ")) {
		t.Errorf("--log did not record the session: %q, %v", logged, err)
	}
	if strings.Contains(errOut+out, fakeproxy.DefaultToken) {
		t.Errorf("the console token was printed")
	}
}

func TestConsoleURL(t *testing.T) {
	proxy := fakeproxy.Start(fakeproxy.Config{TLS: true})
	defer proxy.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, proxy.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runConsole(t, nil, "\r", proxy.URL(), "--timeout", "300ms", "--os-cacert", ca)
	if code != ExitOK || !strings.Contains(out, "login: ") {
		t.Fatalf("wss:// with --os-cacert: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runConsole(t, nil, "", proxy.URL(), "--timeout", "300ms")
	if code != ExitUnreachable || !strings.Contains(errOut, "cacert") {
		t.Fatalf("wss:// with an unknown CA must fail verification: exit %d %q", code, errOut)
	}
}

func TestConsoleErrors(t *testing.T) {
	w := fakeos.Standard()
	w.Servers[0].SerialDisabled = true
	disabled := fakeos.Start(t, w)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "ws://" + l.Addr().String() + "/?token=x"
	l.Close()

	cases := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{"serial disabled", disabled.PasswordEnv(fakeos.AdminUser), []string{"vm1"}, ExitFindings, "host/serial-console-config"},
		{"proxy down", nil, []string{deadURL, "--timeout", "1s"}, ExitUnreachable, "serialproxy"},
		{"no target", nil, nil, ExitUsage, "one SERVER"},
		{"bad escape", nil, []string{deadURL, "--escape", "ab"}, ExitUsage, "--escape"},
		{"log-input alone", nil, []string{deadURL, "--log-input"}, ExitUsage, "--log"},
		{"unknown server", disabled.PasswordEnv(fakeos.AdminUser), []string{"nope"}, ExitUsage, "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runConsole(t, tc.env, "", tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q should say %q\n%s", code, tc.code, errOut, tc.stderr, out)
			}
		})
	}
}
