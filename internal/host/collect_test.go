package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

func td(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// allCommands answers every command Collect runs with real lab output.
func allCommands(t testing.TB) *run.Replay {
	r := run.NewReplay("cmp1")
	r.Add([]string{"true"}, "")
	r.Add([]string{"ip", "-d", "-json", "addr", "show"}, td(t, "ip/ctl-link-d.json"))
	r.Add([]string{"ip", "-json", "route", "show"}, td(t, "ip/cmp1-route.json"))
	r.Add([]string{"bridge", "-json", "fdb", "show"}, td(t, "fdb/ctl.json"))
	r.Add([]string{"sh", "-c", NetnsScript}, "")
	r.Add([]string{"iptables-save"}, td(t, "iptables-save/cmp1-vxlan-blocked.txt"))
	r.Fail([]string{"nft", "-j", "list", "ruleset"}, run.KindNotFound, "env: 'nft': No such file or directory")
	r.Fail(OVSBridgeArgs, run.KindNotFound, "env: 'ovs-vsctl': No such file or directory")
	r.Add(SSArgs, td(t, "ss/ctl.txt"))
	r.Fail([]string{"getenforce"}, run.KindNotFound, "")
	r.Fail([]string{"tail", "-n", "20000", "--", DefaultAuditLog}, run.KindPermission, "tail: cannot open '/var/log/audit/audit.log' for reading: Permission denied")
	for _, f := range AgentLogs {
		r.Fail([]string{"tail", "-n", "2000", "--", f}, run.KindExit, "tail: cannot open '"+f+"' for reading: No such file or directory")
	}
	r.Add(PSArgs, td(t, "ps/cmp1.txt"))
	r.Add(run.Cat("/etc/nova/nova.conf").Argv, td(t, "nova-conf/cmp1.conf"))
	r.Fail(run.Cat("/etc/nova/nova-cpu.conf").Argv, run.KindExit, "cat: /etc/nova/nova-cpu.conf: No such file or directory")
	r.Add(run.Cat("/etc/nova/nova-compute.conf").Argv, td(t, "nova-conf/cmp1-nova-compute.conf"))
	return r
}

func TestCollectNotes(t *testing.T) {
	r := allCommands(t)
	h := Collect(context.Background(), r, "cmp1", Options{Roles: []string{"compute"}, Via: "replay"})
	if u := r.Unexpected(); len(u) > 0 {
		t.Errorf("unexpected commands: %q", u)
	}
	if u := r.Unused(); len(u) > 0 {
		t.Errorf("unused recordings: %q", u)
	}
	if h.Unreachable != "" || len(h.Links) == 0 || len(h.Processes) == 0 || h.Firewall.IPTablesSave == "" {
		t.Fatalf("host not read: %+v", h)
	}
	for what, got := range map[string]string{
		"ovs":     h.OVSError,
		"nft":     h.Firewall.NFTError,
		"selinux": h.SELinux.ModeError,
		"audit":   h.SELinux.AuditError,
	} {
		if got == "" {
			t.Errorf("%s: no note", what)
		}
	}
	if h.OVSError != "ovs-vsctl is not installed" {
		t.Errorf("ovs note %q", h.OVSError)
	}
	if !strings.Contains(h.SELinux.AuditError, "permission denied") {
		t.Errorf("audit note %q", h.SELinux.AuditError)
	}
	if h.LogsError != "" || len(h.LogsRead) != 0 {
		t.Errorf("absent logs are not an error: %q %q", h.LogsError, h.LogsRead)
	}
	if h.NovaConf == nil || h.NovaConf.Listen != "192.0.2.11" {
		t.Errorf("nova.conf: %+v (%s)", h.NovaConf, h.NovaConfError)
	}
}

// Garbage, truncated and enormous output, and a command that hangs: each
// gives a note on its own part and the rest is read.
func TestCollectBadOutput(t *testing.T) {
	r := allCommands(t)
	r.Add([]string{"ip", "-d", "-json", "addr", "show"}, "garbage")
	r.Add([]string{"ip", "-json", "route", "show"}, td(t, "ip/cmp1-route.json")[:20])
	r.AddResult([]string{"bridge", "-json", "fdb", "show"}, run.Result{Stdout: []byte(strings.Repeat("[", run.DefaultMaxOutput+10))}, "")
	r.Fail(SSArgs, run.KindTimeout, "")
	ctx := context.Background()
	start := time.Now()
	h := Collect(ctx, r, "cmp1", Options{CommandTimeout: 20 * time.Millisecond})
	_ = start
	if !strings.Contains(h.LinksError, "read ip -json addr") {
		t.Errorf("garbage: %q", h.LinksError)
	}
	if !strings.Contains(h.RoutesError, "read ip -json route") {
		t.Errorf("truncated: %q", h.RoutesError)
	}
	if !strings.Contains(h.FDBError, "output larger than") {
		t.Errorf("enormous: %q", h.FDBError)
	}
	if !strings.Contains(h.ListenersError, "timed out") {
		t.Errorf("hang: %q", h.ListenersError)
	}
	if len(h.Processes) == 0 || h.Firewall.IPTablesSave == "" {
		t.Error("the rest of the host was not read")
	}
}

func TestCollectUnreachable(t *testing.T) {
	r := run.NewReplay("cmp9").Fail([]string{"true"}, run.KindUnreachable, "")
	h := Collect(context.Background(), r, "cmp9", Options{})
	if h.Unreachable == "" {
		t.Fatal("unreachable host not recorded")
	}
	if len(r.Unexpected()) != 0 {
		t.Errorf("kept running commands on an unreachable host: %q", r.Unexpected())
	}
}

// The fan-out checks hosts at once: its time is the slowest host's, not
// the sum (checked by BenchmarkHostFanout); here, every host is reported,
// in order, and an unreachable one does not stop the others.
func TestCheckAll(t *testing.T) {
	var ts []Target
	for i := 0; i < 5; i++ {
		ts = append(ts, Target{Name: "h" + string(rune('0'+i)), Runner: allCommands(t)})
	}
	ts[2].Runner = run.NewReplay("h2").Fail([]string{"true"}, run.KindUnreachable, "")
	hosts := CheckAll(context.Background(), ts, Options{}, Fanout{Parallel: 2})
	for i, h := range hosts {
		if h.Name != ts[i].Name {
			t.Errorf("host %d is %s", i, h.Name)
		}
		if (h.Unreachable != "") != (i == 2) {
			t.Errorf("%s: unreachable %q", h.Name, h.Unreachable)
		}
	}
	var _ []snapshot.Host = hosts
}
