package host

import (
	"context"
	"fmt"
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
	r.Fail(OVSArgs, run.KindNotFound, "env: 'ovs-vsctl': No such file or directory")
	r.Add(SSArgs, td(t, "ss/ctl.txt"))
	r.Fail([]string{"getenforce"}, run.KindNotFound, "")
	r.Fail([]string{"tail", "-n", "20000", "--", DefaultAuditLog}, run.KindPermission, "tail: cannot open '/var/log/audit/audit.log' for reading: Permission denied")
	for _, f := range AgentLogs {
		r.Fail([]string{"tail", "-n", "2000", "--", f}, run.KindExit, "tail: cannot open '"+f+"' for reading: No such file or directory")
	}
	r.Add(PSArgs, td(t, "ps/cmp1.txt"))
	// The lab's nova-compute: Debian 12's python3.11 running /usr/bin/nova-compute.
	r.Add(ExeArgs(24518), "/usr/bin/python3.11\n")
	r.Add(ExeArgs(24544), "/usr/bin/python3.11\n")
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

// A process anyone can start may call itself nova-compute (exec -a) and
// name any file as its --config-file: hoofbeat, running as root, must not
// read it. Only nova-compute run by root or nova, whose executable the
// kernel confirms, names config files, and only absolute, clean paths.
func TestCollectNovaConfigFilesOfImpostors(t *testing.T) {
	ps := td(t, "ps/cmp1.txt") +
		// exec -a 'nova-compute --config-file /root/.ssh/id_rsa' sleep 999, by anyone
		"31337 mallory  nova-compute --config-file /root/.ssh/id_rsa\n" +
		"31338 mallory  /usr/bin/python3 /usr/bin/nova-compute --config-file /root/.ssh/id_ecdsa\n" +
		// … and by root, whose sleep is still no nova-compute
		"31339 root     nova-compute --config-file /root/.ssh/id_ed25519\n" +
		"31340 root     /usr/bin/python3 /usr/bin/nova-compute --config-file /etc/shadow\n" +
		// the real thing, with paths that are not absolute and clean
		"31341 nova     /usr/bin/python3 /usr/bin/nova-compute --config-file ../../root/.ssh/id_rsa --config-file=/etc/nova/../../root/x --config-file nova.conf\n"
	r := allCommands(t)
	r.Add(PSArgs, ps)
	r.Add(ExeArgs(31339), "/usr/bin/sleep\n")
	r.Add(ExeArgs(31340), "/usr/bin/sleep\n")
	r.Add(ExeArgs(31341), "/usr/bin/python3.11 (deleted)\n")
	h := Collect(context.Background(), r, "cmp1", Options{Roles: []string{"compute"}, Via: "replay"})
	if u := r.Unexpected(); len(u) > 0 {
		t.Errorf("unexpected commands (a file an impostor named was read?): %q", u)
	}
	if u := r.Unused(); len(u) > 0 {
		t.Errorf("unused recordings: %q", u)
	}
	if h.NovaConf == nil || h.NovaConf.Listen != "192.0.2.11" {
		t.Errorf("nova.conf of the real nova-compute: %+v (%s)", h.NovaConf, h.NovaConfError)
	}
	if strings.Contains(h.NovaConfError, "/root") {
		t.Errorf("nova.conf note names an impostor's file: %s", h.NovaConfError)
	}
}

// An executable that could not be checked (hoofbeat not root) is said, and
// the files its process names are not read.
func TestCollectNovaConfigUncheckedExecutable(t *testing.T) {
	r := allCommands(t)
	r.Fail(ExeArgs(24518), run.KindExit, "readlink: /proc/24518/exe: Permission denied")
	h := Collect(context.Background(), r, "cmp1", Options{})
	if u := r.Unexpected(); len(u) > 0 {
		t.Errorf("unexpected commands: %q", u)
	}
	if !strings.Contains(h.NovaConfError, "config files of nova-compute (pid 24518) not read: its executable could not be checked") {
		t.Errorf("note %q", h.NovaConfError)
	}
	if h.NovaConf == nil || len(h.NovaConf.Files) != 2 {
		t.Errorf("nova.conf: %+v", h.NovaConf)
	}
}

// A config file that is not ini (a key, a password file) is never quoted
// in the snapshot's note: the ini library's errors repeat the line.
func TestCollectNovaConfErrorQuotesNothing(t *testing.T) {
	r := allCommands(t)
	r.Add(run.Cat("/etc/nova/nova-compute.conf").Argv, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n")
	h := Collect(context.Background(), r, "cmp1", Options{})
	if h.NovaConfError == "" || strings.Contains(h.NovaConfError, "BEGIN") || strings.Contains(h.NovaConfError, "b3Bl") {
		t.Errorf("note %q", h.NovaConfError)
	}
	for _, conf := range []string{"[DEFAULT]\n[serial_console\nsecret-line\n", "[DEFAULT]\n\"secret-line = x\n", "[DEFAULT]\n= secret-line\n"} {
		_, err := ParseNovaConf(map[string][]byte{"f": []byte(conf)}, []string{"f"})
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: error %v", conf, err)
		}
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
	var progress []string
	hosts := CheckAll(context.Background(), ts, Options{}, Fanout{Parallel: 2, Progress: func(done, total int, what string) {
		progress = append(progress, fmt.Sprintf("%s %d/%d", what, done, total))
	}})
	// Progress calls never overlap (the race detector would tell), and count
	// every host, the unreachable one too.
	if got, want := strings.Join(progress, ", "), "hosts checked 0/5, hosts checked 1/5, hosts checked 2/5, hosts checked 3/5, hosts checked 4/5, hosts checked 5/5"; got != want {
		t.Errorf("progress %q, want %q", got, want)
	}
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

// On a hypervisor (libvirtd in ps, as on the lab's cmp2) Collect reads the
// running domains' XML through libvirt's read-only socket; elsewhere it
// runs no virsh (TestCollectNotes: cmp1 has none). A virsh that fails
// leaves its reason, not a silent empty list.
func TestCollectLibvirtDomains(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fail    bool
		domains int
		note    string
	}{
		{name: "read", domains: 1},
		{name: "virsh fails", fail: true, note: "sh -c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := allCommands(t)
			r.Add(PSArgs, td(t, "ps/cmp2-libvirt.txt"))
			r.Add(ExeArgs(12481), "/usr/bin/python3.11\n")
			if tc.fail {
				r.Fail([]string{"sh", "-c", DomainsScript}, run.KindExit, "error: failed to connect to the hypervisor")
			} else {
				r.Add([]string{"sh", "-c", DomainsScript}, td(t, "libvirt/cmp2-vm4.xml"))
			}
			h := Collect(context.Background(), r, "cmp2", Options{Roles: []string{"compute"}, Via: "replay"})
			if u := r.Unexpected(); len(u) > 0 {
				t.Errorf("unexpected commands: %q", u)
			}
			if len(h.Domains) != tc.domains || !strings.Contains(h.DomainsError, tc.note) {
				t.Fatalf("domains %+v, note %q; want %d domains, a note with %q", h.Domains, h.DomainsError, tc.domains, tc.note)
			}
			if tc.domains > 0 && (h.Domains[0].Name != "instance-00000004" || len(h.Domains[0].Serials) != 1 || h.Domains[0].Serials[0].Host != "192.0.2.12") {
				t.Errorf("domain %+v", h.Domains[0])
			}
		})
	}
}
