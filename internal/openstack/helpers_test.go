package openstack

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// testOptions are Options for tests: the environment from env only, and a
// short retry backoff.
func testOptions(env map[string]string) Options {
	return Options{Getenv: fakeos.Getenv(env), backoff: time.Millisecond}
}

// with returns a copy of env with the given key=value pairs set (an empty
// value deletes the key).
func with(env map[string]string, kv ...string) map[string]string {
	out := maps.Clone(env)
	if out == nil {
		out = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// connect authenticates as user against fc, failing the test on error.
func connect(t *testing.T, fc *fakeos.Cloud, user string, mods ...func(*Options)) *Client {
	t.Helper()
	o := testOptions(fc.PasswordEnv(user))
	for _, m := range mods {
		m(&o)
	}
	c, err := Connect(context.Background(), o)
	if err != nil {
		t.Fatalf("Connect as %s: %v", user, err)
	}
	return c
}

// wantError checks that err is an *Error of kind k whose message contains
// every fragment, on one line.
func wantError(t *testing.T, err error, k Kind, fragments ...string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", k)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.Kind != k {
		t.Errorf("kind = %v, want %v (%v)", e.Kind, k, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("message is not one line: %q", msg)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("message %q lacks %q", msg, f)
		}
	}
	return e
}

// gap returns the gap for source and subject, or fails.
func gap(t *testing.T, s *snapshot.Snapshot, source, subject string) snapshot.Gap {
	t.Helper()
	for _, g := range s.Gaps {
		if g.Source == source && (subject == "*" || g.Subject == subject) {
			return g
		}
	}
	t.Fatalf("no gap for %s %s; gaps: %+v", source, subject, s.Gaps)
	return snapshot.Gap{}
}

func noGaps(t *testing.T, s *snapshot.Snapshot) {
	t.Helper()
	if len(s.Gaps) > 0 {
		t.Errorf("unexpected gaps: %+v", s.Gaps)
	}
}

// writeFile writes content under dir and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
