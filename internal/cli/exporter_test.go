package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// TestExporterSIGTERM runs the real binary: it serves a successful audit,
// then SIGTERM stops it within the grace second, exit 143, no trace.
func TestExporterSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hoofbeat")
	}
	bin := filepath.Join(t.TempDir(), "hoofbeat")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/hoofbeat")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	c := fakeos.Start(t, fakeos.Standard())
	cmd := exec.Command(bin, "exporter", "--listen", "127.0.0.1:0", "--interval", "1h")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	for k, v := range adminEnv(c) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	var addr string
	var log []string
	for lines.Scan() {
		log = append(log, lines.Text())
		if a, ok := strings.CutPrefix(lines.Text(), "hoofbeat exporter: listening on "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatalf("no listening line: %q", log)
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(stderr); rest <- string(b) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), "hoofbeat_audit_up 1") {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatal("no successful audit served")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	took := time.Since(start)
	out := <-rest
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Errorf("exit %v, want 143", err)
	}
	if took > 900*time.Millisecond {
		t.Errorf("took %s to stop, more than the grace second allows", took)
	}
	if strings.Contains(out, "goroutine") || !strings.Contains(out, "interrupted (terminated)") {
		t.Errorf("stderr after SIGTERM:\n%s", out)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Errorf("still serving")
	}
}

func TestExporterUsage(t *testing.T) {
	for _, args := range [][]string{
		{"exporter"},
		{"exporter", "--listen", "127.0.0.1:0", "--interval", "10ms"},
		{"exporter", "--listen", "127.0.0.1:0", "--server-cap", "0"},
		{"exporter", "--listen", "127.0.0.1:0", "--name", "("},
		{"exporter", "--listen", "127.0.0.1:0", "--project", "x", "--all-projects"},
		{"exporter", "--listen", "127.0.0.1:0", "--exclude", "no/such"},
		{"exporter", "--listen", "256.0.0.1:99999"},
	} {
		code, _, errOut := run(t, nil, args...)
		if code != ExitUsage || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}
