package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// Recordings of the lab's hosts made with "hoofbeat host --record".
var hostRecordings = filepath.Join("..", "host", "testdata", "hosts")

type hostDoc struct {
	Probe bool `json:"probe"`
	Hosts []struct {
		Name        string   `json:"name"`
		Via         string   `json:"via"`
		Unreachable string   `json:"unreachable"`
		Notes       []string `json:"could_not_read"`
	} `json:"hosts"`
	Findings []struct {
		Rule     string `json:"rule"`
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
	} `json:"findings"`
	Passed []string `json:"passed"`
}

func TestHostReplayFindsTheBlockedTunnel(t *testing.T) {
	code, out, errOut := run(t, nil, "host", "cmp1", "--replay", "cmp1="+filepath.Join(hostRecordings, "vxlan-blocked", "cmp1"), "--output", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	var d hostDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(d.Hosts) != 1 || d.Hosts[0].Name != "cmp1" || d.Hosts[0].Via != "replay" || d.Probe {
		t.Errorf("hosts: %+v", d.Hosts)
	}
	if len(d.Findings) == 0 || d.Findings[0].Rule != "host/tunnel-peer-blocked" || !strings.Contains(d.Findings[0].Summary, "192.0.2.10") {
		t.Errorf("findings: %+v", d.Findings)
	}
	// ovs-vsctl is not installed on the lab's hosts: a note, not a failure.
	if !strings.Contains(strings.Join(d.Hosts[0].Notes, "\n"), "Open vSwitch: ") {
		t.Errorf("notes: %q", d.Hosts[0].Notes)
	}
}

func TestHostTextSaysTheProbeIsOff(t *testing.T) {
	code, out, _ := run(t, nil, "host", "ctl", "--replay", "ctl="+filepath.Join(hostRecordings, "serialproxy-stopped", "ctl"))
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"ctl (replay)", "active probe: off", "error  host/serialproxy-not-running", "$ systemctl restart nova-serialproxy   # on host ctl", "VERDICT"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestHostOtherMachineNeedsSSH(t *testing.T) {
	code, _, errOut := run(t, nil, "host", "hoofbeat-no-such-host")
	if code != ExitUsage || !strings.Contains(errOut, "add --ssh") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// An unreachable host is a could-not-check; when no host at all could be
// checked, the exit status says so.
func TestHostUnreachableOverSSH(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	code, out, _ := run(t, env, "host", "--ssh", "--ssh-port", "1", "--known-hosts", filepath.Join(home, "none"), "127.0.0.1", "--output", "json", "--host-timeout", "5s")
	if code != ExitUnreachable {
		t.Fatalf("exit %d, want 3\n%s", code, out)
	}
	var d hostDoc
	json.Unmarshal([]byte(out), &d)
	if len(d.Hosts) != 1 || d.Hosts[0].Unreachable == "" {
		t.Errorf("hosts: %+v", d.Hosts)
	}
}

func TestDiagnoseHosts(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	env := adminEnv(c)
	// Without --hosts, no host rule runs at all.
	_, out, _ := run(t, env, "diagnose", fakeos.ServerName, "--output", "json")
	if strings.Contains(out, "host/") {
		t.Errorf("host rules ran without --hosts:\n%s", out)
	}
	// With --hosts, the server's host and the network node are checked;
	// here both answer from lab recordings.
	code, out, errOut := run(t, env, "diagnose", fakeos.ServerName, "--hosts", "--output", "json",
		"--replay", fakeos.ComputeHost+"="+filepath.Join(hostRecordings, "vxlan-blocked", "cmp1"),
		"--replay", fakeos.NetworkHost+"="+filepath.Join(hostRecordings, "healthy", "ctl"))
	r := decode(t, out)
	if code != ExitFindings || !r.has("host/tunnel-peer-blocked") {
		t.Errorf("exit %d, findings %+v\n%s", code, r.Findings, errOut)
	}
}

// TestHostTextEscapesHostStrings: a host name (and what hosts say) with
// escape sequences reaches the terminal escaped.
func TestHostTextEscapesHostStrings(t *testing.T) {
	name := "ctl\x1b]0;pwned\x07\x1b[2J"
	_, out, errOut := run(t, nil, "host", name, "--replay", name+"="+filepath.Join(hostRecordings, "serialproxy-stopped", "ctl"))
	if strings.ContainsAny(out+errOut, "\x1b\x07") {
		t.Fatalf("raw control characters in the output:\n%q\n%q", out, errOut)
	}
	if !strings.Contains(out, `ctl\x1b]0;pwned\x07\x1b[2J (replay)`) {
		t.Errorf("the host name is not shown escaped:\n%s", out)
	}
}
