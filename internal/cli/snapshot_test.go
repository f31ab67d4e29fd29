package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// collectTo runs "hoofbeat collect" against c into dir/name.
func collectTo(t *testing.T, c *fakeos.Cloud, dir, name string, args ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	code, out, errOut := run(t, adminEnv(c), append([]string{"collect", fakeos.ServerName, "--out", path}, args...)...)
	if code != ExitOK || out != "" || !strings.Contains(errOut, "wrote "+path+": server vm1 ("+fakeos.ServerID+") ACTIVE") {
		t.Fatalf("collect: exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	return path
}

// TestSnapshotRoundTrip: diagnose --from gives, offline and without
// credentials, the report diagnose gives live.
func TestSnapshotRoundTrip(t *testing.T) {
	w := fakeos.Standard()
	removeICMP(w)
	c := fakeos.Start(t, w)
	dir := t.TempDir()
	path := collectTo(t, c, dir, "vm1.json")

	code, live, _ := run(t, adminEnv(c), "diagnose", fakeos.ServerName, "-o", "json", "--check", "tcp/22")
	if code != ExitFindings {
		t.Fatalf("live: exit %d", code)
	}
	c.Close()
	code, offline, errOut := run(t, nil, "diagnose", "--from", path, "-o", "json", "--check", "tcp/22")
	if code != ExitFindings {
		t.Fatalf("offline: exit %d\n%s", code, errOut)
	}
	// The reports differ only in when they were collected.
	stamp := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, `"checked_at"`) {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if stamp(live) != stamp(offline) {
		t.Errorf("offline report differs from the live one:\n%s\n---\n%s", offline, live)
	}
	if r := decode(t, offline); r.Findings[0].Rule != "security-group/icmp-ingress-missing" {
		t.Errorf("first finding %+v", r.Findings[0])
	}

	// The file is what docs/snapshot.md says.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("{\n  \"format\": \"hoofbeat-snapshot\",\n  \"version\": 1,\n")) {
		t.Errorf("file starts %.80q", b)
	}
	for _, secret := range []string{fakeos.AdminPassword, c.IssueToken(fakeos.AdminUser)[:12]} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the snapshot holds a secret %q", secret)
		}
	}
	s, err := snapshot.Read(bytes.NewReader(b))
	if err != nil || s.ConsoleLog == nil || s.RemoteGroupMembers == nil {
		t.Errorf("snapshot: %v, console %v, remote groups %v", err, s.ConsoleLog, s.RemoteGroupMembers)
	}
}

func TestSnapshotFromVariants(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	dir := t.TempDir()
	path := collectTo(t, c, dir, "vm1.json")
	gz := collectTo(t, c, dir, "vm1.json.gz")
	if b, _ := os.ReadFile(gz); len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("%s is not gzip", gz)
	}
	for _, args := range [][]string{
		{"diagnose", "--from", path},
		{"diagnose", "--from", gz},
		{"diagnose", "vm1", "--from", path},
		{"diagnose", fakeos.ServerID, "--from", path},
		{"diagnose", "--from", path, "--check", "tcp/22", "--from", "203.0.113.0/24"},
	} {
		if code, out, errOut := run(t, nil, args...); code != ExitOK || !strings.Contains(out, "No problem found") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	// stdin, and stdout.
	code, out, _ := run(t, adminEnv(c), "collect", fakeos.ServerID, "--out", "-")
	if code != ExitOK || !strings.HasPrefix(out, "{\n  \"format\"") {
		t.Fatalf("collect --out -: exit %d %.60q", code, out)
	}
	io, in, stdout, _ := Test()
	in.WriteString(out)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code := Main(ctx, []string{"diagnose", "--from", "-"}, io); code != ExitOK || !strings.Contains(stdout.String(), "vm1") {
		t.Errorf("--from -: exit %d\n%s", code, stdout)
	}
}

// TestSnapshotBadFiles: every file diagnose cannot use is exit 2 and one
// line that says why.
func TestSnapshotBadFiles(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	dir := t.TempDir()
	path := collectTo(t, c, dir, "vm1.json")
	good, _ := os.ReadFile(path)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, report, _ := run(t, nil, "diagnose", "--from", path, "-o", "json")
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"missing", []string{"diagnose", "--from", filepath.Join(dir, "nope.json")}, "nope.json: no such file or directory"},
		{"empty", []string{"diagnose", "--from", write("empty.json", "")}, "the file is empty"},
		{"truncated", []string{"diagnose", "--from", write("cut.json", string(good[:len(good)/3]))}, "cut short"},
		{"garbage", []string{"diagnose", "--from", write("garbage.json", "\x00\x01PK\x03")}, "invalid JSON"},
		{"a report", []string{"diagnose", "--from", write("report.json", report)}, "not a snapshot but a report"},
		{"future", []string{"diagnose", "--from", write("v2.json", strings.Replace(string(good), `"version": 1,`, `"version": 2,`, 1))}, "snapshot version 2 is newer than this hoofbeat reads (1): upgrade hoofbeat"},
		{"past", []string{"diagnose", "--from", write("v0.json", strings.Replace(string(good), `"version": 1,`, `"version": 0,`, 1))}, "snapshot version 0 is older"},
		{"wrong type", []string{"diagnose", "--from", write("type.json", strings.Replace(string(good), `"query": "vm1"`, `"query": 7`, 1))}, `"query" holds number where a string belongs`},
		{"a directory", []string{"diagnose", "--from", dir}, "is a directory"},
		{"two files", []string{"diagnose", "--from", path, "--from", path + ".x"}, "two snapshot files"},
		{"another server", []string{"diagnose", "vm2", "--from", path}, "holds server vm1 (" + fakeos.ServerID + "), not vm2"},
		{"cloud flag", []string{"diagnose", "--from", path, "--os-cloud", "lab"}, "--os-cloud would do nothing"},
		{"no server, no file", []string{"diagnose"}, "one SERVER"},
		{"bad source", []string{"diagnose", "vm1", "--check", "tcp/22", "--from", "10.0.0.300"}, "10.0.0.300"},
		{"collect without --out", []string{"collect", "vm1"}, "needs --out"},
		{"collect where it cannot write", []string{"collect", "vm1", "--out", filepath.Join(dir, "no", "such", "dir.json")}, "no such file or directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, adminEnv(c), tc.args...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want 2\n%s%s", code, out, errOut)
			}
			if !strings.HasPrefix(errOut, "hoofbeat: ") || !strings.Contains(errOut, tc.msg) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
				t.Errorf("stderr %q, want one line with %q", errOut, tc.msg)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
	// A failed write leaves no file behind.
	if entries, _ := os.ReadDir(dir); len(entries) != 8 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left: %v", names)
	}
}

// TestSnapshotWithHosts: collect --hosts writes the hosts' facts, and
// diagnose --from finds what they show, offline.
func TestSnapshotWithHosts(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	path := collectTo(t, c, t.TempDir(), "vm1.json", "--hosts",
		"--replay", fakeos.ComputeHost+"="+filepath.Join(hostRecordings, "vxlan-blocked", "cmp1"),
		"--replay", fakeos.NetworkHost+"="+filepath.Join(hostRecordings, "healthy", "ctl"))
	c.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := snapshot.Read(f)
	if err != nil || len(s.Hosts) != 2 {
		t.Fatalf("snapshot: %v, %d hosts", err, len(s.Hosts))
	}
	code, out, errOut := run(t, nil, "diagnose", "--from", path, "-o", "json")
	if r := decode(t, out); code != ExitFindings || !r.has("host/tunnel-peer-blocked") {
		t.Errorf("exit %d, findings %+v\n%s", code, r.Findings, errOut)
	}
	if code, _, errOut := run(t, nil, "diagnose", "--from", path, "--hosts"); code != ExitUsage || !strings.Contains(errOut, "--hosts would do nothing") {
		t.Errorf("--from with --hosts: exit %d %q", code, errOut)
	}
}
