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
