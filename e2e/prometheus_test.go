//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The ports Prometheus, node_exporter and hoofbeat exporter listen on, on
// 127.0.0.1 inside the lab's ctl namespace: no other network sees them.
const (
	promAddr     = "127.0.0.1:19090"
	nodeAddr     = "127.0.0.1:19100"
	exporterAddr = "127.0.0.1:19717"
)

// daemon is a process started on ctl, in its own process group.
type daemon struct {
	name string
	cmd  *exec.Cmd
	log  string
}

// startOnCtl starts args inside ctl's namespaces; the test stops it by its
// process group (lab/on.sh and what it runs are alone in it).
func startOnCtl(t *testing.T, name string, args ...string) *daemon {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(repo, "lab/on.sh"), append([]string{"ctl"}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	d := &daemon{name: name, cmd: cmd, log: logf.Name()}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("%s's log:\n%s", name, tail(string(b), 40))
		}
	})
	return d
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// onCtl runs a short command on ctl and returns its output.
func onCtl(args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(repo, "lab/on.sh"), append([]string{"ctl"}, args...)...)
	cmd.WaitDelay = 5 * time.Second
	return cmd.Output()
}

// promGet asks ctl's Prometheus's HTTP API.
func promGet(path string, into any) error {
	out, err := onCtl("curl", "-sf", "--max-time", "5", "http://"+promAddr+path)
	if err != nil {
		return fmt.Errorf("GET %s: %v", path, err)
	}
	var body struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(out, &body); err != nil || body.Status != "success" {
		return fmt.Errorf("GET %s: %v %s", path, err, out)
	}
	return json.Unmarshal(body.Data, into)
}

type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// firing lists the alerts named name in state firing whose labels include
// want.
func firing(t *testing.T, name string, want map[string]string) (bool, []alert) {
	var data struct {
		Alerts []alert `json:"alerts"`
	}
	if err := promGet("/api/v1/alerts", &data); err != nil {
		t.Logf("%v", err)
		return false, nil
	}
	for _, a := range data.Alerts {
		if a.Labels["alertname"] != name || a.State != "firing" {
			continue
		}
		match := true
		for k, v := range want {
			match = match && a.Labels[k] == v
		}
		if match {
			return true, data.Alerts
		}
	}
	return false, data.Alerts
}

// waitAlert polls until the alert is firing (want true) or gone (false),
// or fails at the deadline.
func waitAlert(t *testing.T, name string, labels map[string]string, want bool, within time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		got, all := firing(t, name, labels)
		if got == want {
			t.Logf("%s %v firing=%v after %s", name, labels, want, time.Since(start).Round(time.Second))
			return
		}
		if time.Since(start) > within {
			t.Fatalf("%s %v not firing=%v within %s; alerts: %+v", name, labels, want, within, all)
		}
		time.Sleep(time.Second)
	}
}

// hostTextfile runs "hoofbeat host --output prometheus --textfile dir" on
// ctl, as the systemd timer would.
func hostTextfile(t *testing.T, dir string) {
	t.Helper()
	out, err := onCtl(bin, "host", "--output", "prometheus", "--textfile", dir)
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
		t.Fatalf("hoofbeat host --textfile: %v\n%s", err, out)
	}
}

// shortFor rewrites the shipped rules' for: durations to a few seconds;
// the expressions are the shipped ones.
var forRE = regexp.MustCompile(`(?m)^(\s+for:) \S+$`)

// TestPrometheusAlerts runs Debian's prometheus and prometheus-node-exporter
// on ctl with the shipped alert rules, scraping a hoofbeat exporter and
// node_exporter's textfile collector fed by "hoofbeat host --textfile";
// then it breaks the lab for real and waits for the alert, heals it and
// waits for the alert to clear: for the audit (icmp-ingress) and for a
// host check (serialproxy-stopped).
func TestPrometheusAlerts(t *testing.T) {
	onceL2(t)
	for _, b := range []string{"/usr/bin/prometheus", "/usr/bin/prometheus-node-exporter"} {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("%s is missing: scripts/prometheus-tools.sh installs it (make e2e runs it)", b)
		}
	}
	dir := t.TempDir()
	textfiles := filepath.Join(dir, "textfile")
	if err := os.Mkdir(textfiles, 0o755); err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile(filepath.Join(repo, "deploy/prometheus/hoofbeat.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	rulesFile := filepath.Join(dir, "hoofbeat.rules.yml")
	if err := os.WriteFile(rulesFile, forRE.ReplaceAll(rules, []byte("$1 4s")), 0o644); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files: [%q]
scrape_configs:
  - job_name: hoofbeat
    static_configs: [{targets: [%q]}]
  - job_name: node
    static_configs: [{targets: [%q]}]
`, rulesFile, exporterAddr, nodeAddr)
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}

	hostTextfile(t, textfiles)
	startOnCtl(t, "exporter", "env", "OS_CLOUD=lab-admin", bin, "exporter", "--listen", exporterAddr, "--interval", "3s", "--all-projects")
	startOnCtl(t, "node_exporter", "/usr/bin/prometheus-node-exporter", "--web.listen-address="+nodeAddr,
		"--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory="+textfiles)
	startOnCtl(t, "prometheus", "/usr/bin/prometheus", "--config.file="+configFile, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn")

	// Both targets up, and the textfile's metrics there.
	deadline := time.Now().Add(40 * time.Second)
	for {
		var res struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		}
		err := promGet("/api/v1/query?query="+`hoofbeat_audit_up%3D%3D1+or+hoofbeat_host_reachable%3D%3D1`, &res)
		if err == nil && len(res.Result) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus does not see a successful audit and a reachable host: %v %+v", err, res)
		}
		time.Sleep(time.Second)
	}

	// The two faults are independent (a security group rule; a service on
	// ctl that no server's audit reads): their alerts' waits overlap.
	t.Run("audit", func(t *testing.T) {
		t.Parallel()
		labels := map[string]string{"server_name": "vm1", "rule": "security-group/icmp-ingress-missing"}
		waitAlert(t, "HoofbeatServerError", labels, false, 5*time.Second)
		lab(t, "fault.sh", "icmp-ingress")
		healed := false
		t.Cleanup(func() {
			if !healed {
				lab(t, "fault.sh", "heal", "icmp-ingress")
			}
		})
		waitAlert(t, "HoofbeatServerError", labels, true, 40*time.Second)
		lab(t, "fault.sh", "heal", "icmp-ingress")
		healed = true
		waitAlert(t, "HoofbeatServerError", labels, false, 40*time.Second)
	})

	t.Run("host", func(t *testing.T) {
		t.Parallel()
		labels := map[string]string{"host": "ctl", "rule": "host/serialproxy-not-running"}
		waitAlert(t, "HoofbeatHostCheckFailing", labels, false, 5*time.Second)
		lab(t, "fault.sh", "serialproxy-stopped")
		healed := false
		t.Cleanup(func() {
			if !healed {
				lab(t, "fault.sh", "heal", "serialproxy-stopped")
			}
		})
		hostTextfile(t, textfiles)
		waitAlert(t, "HoofbeatHostCheckFailing", labels, true, 40*time.Second)
		lab(t, "fault.sh", "heal", "serialproxy-stopped")
		healed = true
		hostTextfile(t, textfiles)
		waitAlert(t, "HoofbeatHostCheckFailing", labels, false, 40*time.Second)
	})
}
