package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestQuote(t *testing.T) {
	got := Quote([]string{"ip", "-json", "-n", "qdhcp-1", "addr", "it's", "a b", ""})
	want := `ip -json -n qdhcp-1 addr 'it'\''s' 'a b' ''`
	if got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestLocal(t *testing.T) {
	ctx := context.Background()
	l := &Local{}
	res, err := l.Run(ctx, Command{Argv: []string{"echo", "hello"}})
	if err != nil || string(res.Stdout) != "hello\n" {
		t.Fatalf("echo: %q %v", res.Stdout, err)
	}
	_, err = l.Run(ctx, Command{Argv: []string{"hoofbeat-no-such-tool"}})
	if KindOf(err) != KindNotFound || !strings.Contains(err.Error(), "hoofbeat-no-such-tool is not installed") {
		t.Errorf("missing binary: %v (%s)", err, KindOf(err))
	}
	_, err = l.Run(ctx, Command{Argv: []string{"sh", "-c", "echo nope >&2; exit 3"}})
	var e *Error
	if KindOf(err) != KindExit || !strings.Contains(err.Error(), "exit status 3: nope") {
		t.Errorf("exit 3: %v", err)
	}
	_ = e
	_, err = l.Run(ctx, Command{Argv: []string{"sh", "-c", "echo 'cat: /x: Permission denied' >&2; exit 1"}})
	if KindOf(err) != KindPermission {
		t.Errorf("permission: %v", err)
	}
	res, err = l.Run(ctx, Command{Argv: []string{"sh", "-c", "head -c 100000 /dev/zero"}, MaxOutput: 10})
	if err != nil || len(res.Stdout) != 10 || !res.Truncated {
		t.Errorf("cap: %d %v %v", len(res.Stdout), res.Truncated, err)
	}
	// A hanging command, and a child that keeps the output open, end at the deadline.
	_, err = l.Run(ctx, Command{Argv: []string{"sh", "-c", "sleep 30 & sleep 30"}, Timeout: 50 * time.Millisecond})
	if KindOf(err) != KindTimeout {
		t.Errorf("hang: %v", err)
	}
	if l.Forks() != 6 {
		t.Errorf("forks %d, want 6", l.Forks())
	}
}

func TestReplayFailsOnTheUnexpected(t *testing.T) {
	r := NewReplay("ctl").Add([]string{"ps", "-e"}, "1 init\n").Add([]string{"ss", "-lnt"}, "")
	r.Fail([]string{"ovs-vsctl", "show"}, KindNotFound, "sh: 1: ovs-vsctl: not found")
	ctx := context.Background()
	if res, err := r.Run(ctx, Command{Argv: []string{"ps", "-e"}}); err != nil || string(res.Stdout) != "1 init\n" {
		t.Fatalf("ps: %q %v", res.Stdout, err)
	}
	if _, err := r.Run(ctx, Command{Argv: []string{"ovs-vsctl", "show"}}); KindOf(err) != KindNotFound {
		t.Errorf("ovs: %v", err)
	}
	if _, err := r.Run(ctx, Command{Argv: []string{"rm", "-rf", "/"}}); KindOf(err) != KindUnexpected {
		t.Errorf("unexpected: %v", err)
	}
	if got := r.Unexpected(); len(got) != 1 || got[0] != "rm -rf /" {
		t.Errorf("Unexpected() = %q", got)
	}
	if got := r.Unused(); len(got) != 1 || got[0] != "ss -lnt" {
		t.Errorf("Unused() = %q", got)
	}
}

func TestReplayHangsUntilTheDeadline(t *testing.T) {
	r := NewReplay("ctl").Fail([]string{"iptables-save"}, KindTimeout, "")
	_, err := r.Run(context.Background(), Command{Argv: []string{"iptables-save"}, Timeout: time.Millisecond})
	if KindOf(err) != KindTimeout {
		t.Errorf("got %v", err)
	}
}

func TestRecordSaveLoad(t *testing.T) {
	src := NewReplay("cmp1").Add([]string{"cat", "--", "/etc/nova/nova.conf"}, "[DEFAULT]\npassword = s3cret\n").
		Fail([]string{"getenforce"}, KindNotFound, "getenforce: not found")
	rec := &Record{Runner: src, Redact: func(_ Command, b []byte) []byte {
		return []byte(strings.ReplaceAll(string(b), "s3cret", "REDACTED"))
	}}
	ctx := context.Background()
	rec.Run(ctx, Cat("/etc/nova/nova.conf"))
	rec.Run(ctx, Command{Argv: []string{"getenforce"}})
	dir := filepath.Join(t.TempDir(), "rec")
	if err := rec.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := LoadReplay(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := back.Run(ctx, Cat("/etc/nova/nova.conf"))
	if err != nil || string(res.Stdout) != "[DEFAULT]\npassword = REDACTED\n" {
		t.Errorf("replayed %q %v", res.Stdout, err)
	}
	if _, err := back.Run(ctx, Command{Argv: []string{"getenforce"}}); KindOf(err) != KindNotFound {
		t.Errorf("getenforce: %v", err)
	}
	if back.Host() != "cmp1" {
		t.Errorf("host %q", back.Host())
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		t.Error(err)
	}
}

// A recording holds config files and command lines: only its owner reads
// it, even when it is saved over an earlier one with looser modes.
func TestRecordSaveIsPrivate(t *testing.T) {
	src := NewReplay("cmp1").Add([]string{"cat", "--", "/etc/nova/nova.conf"}, "[DEFAULT]\n")
	rec := &Record{Runner: src}
	rec.Run(context.Background(), Cat("/etc/nova/nova.conf"))
	base := t.TempDir()
	dir := filepath.Join(base, "rec", "cmp1")
	if err := rec.Save(dir); err != nil {
		t.Fatal(err)
	}
	// An earlier recording, as loose as the old modes.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.Chmod(filepath.Join(dir, e.Name()), 0o644)
	}
	os.Chmod(dir, 0o755)
	if err := rec.Save(dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(base, "rec"), dir} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v %v, want 0700", d, fi.Mode().Perm(), err)
		}
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("files %v", entries)
	}
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v %v, want 0600", e.Name(), fi.Mode().Perm(), err)
		}
	}
}

// Host names come from the cloud: each becomes one safe, distinct folder.
func TestPathElem(t *testing.T) {
	long := strings.Repeat("h", 300)
	seen := map[string]string{}
	for _, tc := range []struct{ host, want string }{
		{"cmp1", "cmp1"},
		{"cmp1.example.com", "cmp1.example.com"},
		{"CMP_1-a", "CMP_1-a"},
		{"..", "%2E."},
		{".", "%2E"},
		{"../../x", "%2E.%2F..%2Fx"},
		{"/etc", "%2Fetc"},
		{"a/b", "a%2Fb"},
		{"a%2Fb", "a%252Fb"},
		{".hidden", "%2Ehidden"},
		{"a b\n", "a%20b%0A"},
		{long, ""},
		{long + "x", ""},
	} {
		got, err := PathElem(tc.host)
		if err != nil {
			t.Errorf("%q: %v", tc.host, err)
			continue
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("PathElem(%q) = %q, want %q", tc.host, got, tc.want)
		}
		if got == "." || got == ".." || strings.ContainsAny(got, "/\\\x00") || len(got) > 128 || filepath.Base(got) != got {
			t.Errorf("PathElem(%q) = %q: not one safe element", tc.host, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%q and %q share the folder %q", tc.host, other, got)
		}
		seen[got] = tc.host
		if again, _ := PathElem(tc.host); again != got {
			t.Errorf("PathElem(%q) is not deterministic: %q, %q", tc.host, got, again)
		}
	}
	if _, err := PathElem(""); err == nil {
		t.Error("an empty host name got a folder")
	}
}
