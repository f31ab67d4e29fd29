package cli

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
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
	for _, want := range []string{"ctl (replay)", "active probe: off", "1. ERROR    host/serialproxy-not-running", "\n     systemctl restart nova-serialproxy   # on host ctl\n", "VERDICT"} {
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

// copyRecording copies a lab recording into a temporary folder, to be
// changed by the test.
func copyRecording(t *testing.T, scenario, host string) string {
	t.Helper()
	src := filepath.Join(hostRecordings, scenario, host)
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func appendTo(t *testing.T, name, s string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// --record keeps no secret (argv in the process table, config files in
// every oslo.config syntax), writes for its owner only, and a host name
// from the cloud cannot make it write outside its folder.
func TestHostRecordIsRedactedPrivateAndContained(t *testing.T) {
	replay := copyRecording(t, "healthy", "cmp1")
	appendTo(t, filepath.Join(replay, "010-ps-e-ww-o-pid-user-args.txt"),
		"40001 root     /usr/bin/mysql -u root -phunter1 nova\n"+
			"40002 nova     /usr/bin/python3 /usr/bin/neutron-server --os-password hunter2 --transport-url=rabbit://o:hunter3@ctl:5672/\n")
	appendTo(t, filepath.Join(replay, "003-cat-etc-nova-nova-conf.txt"),
		"[database]\nconnection: mysql+pymysql://nova:hunter4@ctl/nova\n[cache]\nmemcache_secret_key=hunter5\n")
	base := t.TempDir()
	rec := filepath.Join(base, "rec", "deep")
	const name = "../../x"
	code, out, errOut := run(t, nil, "host", name, "--replay", name+"="+replay, "--record", rec, "--output", "json")
	if code != ExitOK && code != ExitFindings {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var files []string
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(base, p)
		fi, _ := d.Info()
		switch {
		case p == base:
			return nil
		case rel != "rec" && !strings.HasPrefix(rel, filepath.Join("rec", "deep")):
			t.Errorf("written outside the --record folder: %s", rel)
		case d.IsDir() && rel != "rec" && fi.Mode().Perm() != 0o700:
			t.Errorf("%s: mode %v, want 0700", rel, fi.Mode().Perm())
		case !d.IsDir() && fi.Mode().Perm() != 0o600:
			t.Errorf("%s: mode %v, want 0600", rel, fi.Mode().Perm())
		}
		if !d.IsDir() {
			files = append(files, rel)
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), "hunter") {
				t.Errorf("%s keeps a secret:\n%s", rel, b)
			}
		}
		return nil
	})
	if len(files) < 5 || filepath.Dir(files[0]) != filepath.Join("rec", "deep", "%2E.%2F..%2Fx") {
		t.Errorf("recording files %q", files)
	}
	// The recording replays as the host it was made from.
	code, out, _ = run(t, nil, "host", "cmp1", "--replay", "cmp1="+filepath.Join(rec, "%2E.%2F..%2Fx"), "--output", "json")
	if code != ExitOK && code != ExitFindings {
		t.Errorf("replaying the recording: exit %d\n%s", code, out)
	}
}

// TestHostTextExact: hoofbeat host renders through the report package. One
// reachable host with a finding and one unreachable host count each of the
// 17 host rules once: 10 that need a server are not applicable, 7 ran (one
// with a finding, the rest skipped in part for the unreachable host).
func TestHostTextExact(t *testing.T) {
	known := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(known, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, nil, "host", "ctl", "cmp9", "--ssh", "--known-hosts", known, "--replay", "ctl="+filepath.Join(hostRecordings, "serialproxy-stopped", "ctl"))
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	_, out, _ = strings.Cut(out, "\n") // the Checked line holds the time
	// Why cmp9 could not be reached is the ssh client's word, which
	// depends on the machine's resolver.
	out = regexp.MustCompile(`(cmp9.*could not check: unreachable: ).*`).ReplaceAllString(out, "${1}WHY")
	want := `
HOSTS  checked on their own
  ctl (replay): 10 devices, 7 namespaces, 22 processes, 12 listening sockets
      could not read Open vSwitch: ovs-vsctl --format=json -- --columns=name,ports list Bridge -- --columns=_uui... on ctl: exit status 1: ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed (No such file or directory)
      could not read SELinux mode: getenforce is not installed
  cmp9 (ssh): could not check: unreachable: WHY
  active probe: off (hoofbeat only read; --probe pings a server from its DHCP namespace, with diagnose SERVER --hosts)

FINDINGS  most likely cause first

1. ERROR    host/serialproxy-not-running
   nova-serialproxy on host ctl is not running: serial console URLs lead nowhere
   on host ctl
   Evidence:
     - no process on ctl has nova-serialproxy in its arguments
     - ctl is the serial proxy's host (port 6083)
   Fix:
     systemctl restart nova-serialproxy   # on host ctl
     journalctl -u nova-serialproxy -n 100   # on host ctl: why it stopped
   Verify:
     ss -lntp | grep :6083   # on host ctl

SKIPPED  could not check
  host cmp9: could not check: unreachable: WHY
    host/tunnel-peer-blocked (in part), host/serial-console-config (in part), host/serialproxy-not-running (in part), host/serial-console-stale-listen (in part), host/selinux-denial (in part), host/agent-log-error (in part), host/ovs-port-error (in part)

NOT APPLICABLE  not run, and why
  it needs a server: hoofbeat diagnose SERVER --hosts runs it
    host/netns-missing, host/router-interface-missing, host/dhcp-interface-missing, host/dnsmasq-not-running, host/device-down, host/vif-detached, host/mtu-too-small, host/ovs-dead-vlan, host/ovs-tag-mismatch, host/ovs-flow-missing, host/l2pop-entry-missing, host/trace-drop, host/instance-unreachable-from-dhcp-namespace, host/bridge-missing, host/floating-network-unroutable

7 checks: 0 passed, 1 with findings, 6 skipped. 15 not applicable to this cloud.
VERDICT  1 error: most likely cause: host/serialproxy-not-running
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}
