package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// TestTokenCacheFlag: a repeated diagnosis authenticates once, keeping the
// token under $XDG_CACHE_HOME/hoofbeat (0700, files 0600);
// --no-token-cache neither reads nor writes it.
func TestTokenCacheFlag(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	home := t.TempDir()
	env := adminEnv(c)
	env["HOME"] = home
	env["XDG_CACHE_HOME"] = filepath.Join(home, "cache")
	dir := filepath.Join(home, "cache", "hoofbeat")

	c.ResetCounters()
	if code, _, errOut := run(t, env, "diagnose", "vm1", "--no-token-cache"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("--no-token-cache made the cache: %v", err)
	}
	for i, want := range []int{1, 0} {
		c.ResetCounters()
		if code, _, errOut := run(t, env, "diagnose", "vm1"); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if n := c.Count("POST /identity/v3/auth/tokens"); n != want {
			t.Errorf("run %d: %d token requests, want %d", i+1, n, want)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir: %v %v", fi, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", f, fi.Mode().Perm())
		}
	}
	c.ResetCounters()
	run(t, env, "diagnose", "vm1", "--no-token-cache")
	if n := c.Count("POST /identity/v3/auth/tokens"); n != 1 {
		t.Errorf("--no-token-cache used the cache: %d token requests", n)
	}
}
