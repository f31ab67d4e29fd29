package openstack

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// cached connects as user with the token cache in dir.
func cached(t *testing.T, fc *fakeos.Cloud, env map[string]string, dir string) *Client {
	t.Helper()
	o := testOptions(env)
	o.TokenCache = dir
	c, err := Connect(context.Background(), o)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return c
}

func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "token-*.json"))
	return m
}

// TestTokenCache: the second connection authenticates with no request;
// the file is 0600 in a 0700 directory; the token is not written to it
// in any other form than Keystone's answer.
func TestTokenCache(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	dir := filepath.Join(t.TempDir(), "hoofbeat")
	env := fc.PasswordEnv(fakeos.AdminUser)

	fc.ResetCounters()
	cold := cached(t, fc, env, dir)
	if n := fc.Count("POST /identity/v3/auth/tokens"); n != 1 {
		t.Fatalf("cold: %d token requests", n)
	}
	s := collect(t, cold, fakeos.ServerName, CollectOptions{})
	coldRequests := s.Stats.Requests

	files := cacheFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(files[0])
	if strings.Contains(string(b), fakeos.AdminPassword) {
		t.Error("the password is in the cache")
	}

	fc.ResetCounters()
	warm := cached(t, fc, env, dir)
	if n := fc.Count("POST /identity"); n != 0 {
		t.Errorf("warm: %d token requests", n)
	}
	s = collect(t, warm, fakeos.ServerName, CollectOptions{})
	if s.Stats.Requests != coldRequests-1 || s.Server == nil || warm.cloud.User != "admin" || !warm.cloud.Admin || warm.cloud.Project != "admin" {
		t.Errorf("warm: %d requests (cold %d), cloud %+v", s.Stats.Requests, coldRequests, warm.cloud)
	}

	// A wrong password does not find the right one's token.
	o := testOptions(with(env, "OS_PASSWORD", "wrong"))
	o.TokenCache = dir
	if _, err := Connect(context.Background(), o); err == nil {
		t.Error("a wrong password connected through the cache")
	}

	// Another user is another entry.
	cached(t, fc, fc.PasswordEnv(fakeos.DemoUser), dir)
	if files := cacheFiles(t, dir); len(files) != 2 {
		t.Errorf("another user shares the entry: %v", files)
	}
}

// TestTokenCacheRefused: a cached token the cloud no longer accepts is
// dropped and authentication is redone once; the diagnosis goes on.
func TestTokenCacheRefused(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	dir := filepath.Join(t.TempDir(), "c")
	env := fc.PasswordEnv(fakeos.AdminUser)
	cached(t, fc, env, dir)
	before, _ := os.ReadFile(cacheFiles(t, dir)[0])

	fc.ExpireTokens() // revoked
	fc.ResetCounters()
	c := cached(t, fc, env, dir)
	s := collect(t, c, fakeos.ServerID, CollectOptions{})
	if len(s.Gaps) > 0 || s.Server == nil {
		t.Fatalf("gaps after re-authentication: %+v", s.Gaps)
	}
	if n := fc.Count("POST /identity/v3/auth/tokens"); n != 1 {
		t.Errorf("%d token requests after the refusal, want 1:\n%s", n, strings.Join(fc.RequestLog(), "\n"))
	}
	after, _ := os.ReadFile(cacheFiles(t, dir)[0])
	if string(after) == string(before) {
		t.Error("the refused token is still cached")
	}

	// Refused, and the password changed meanwhile: one attempt, a clear
	// error, and the entry gone.
	fc.ExpireTokens()
	fc.Update(func(w *fakeos.World) { w.Users[0].Password = "changed" })
	c = cached(t, fc, env, dir)
	fc.ResetCounters()
	_, err := c.Collect(context.Background(), fakeos.ServerID, CollectOptions{})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "re-authentication failed") {
		t.Errorf("err = %v", err)
	}
	if n := fc.Count("POST /identity/v3/auth/tokens"); n > 4 {
		t.Errorf("%d authentication attempts", n)
	}
	if files := cacheFiles(t, dir); len(files) != 0 {
		t.Errorf("the refused token is still cached: %v", files)
	}
}

// TestTokenCacheNotUsed: a token given, an entry near its expiry, a file
// or directory others can read: the cache is not used.
func TestTokenCacheNotUsed(t *testing.T) {
	fc := fakeos.Start(t, fakeos.Standard())
	env := fc.PasswordEnv(fakeos.AdminUser)

	dir := filepath.Join(t.TempDir(), "c")
	tok := fc.IssueToken(fakeos.AdminUser)
	tenv := with(env, "OS_AUTH_TYPE", "token", "OS_TOKEN", tok, "OS_PASSWORD", "", "OS_USERNAME", "", "OS_USER_DOMAIN_NAME", "")
	cached(t, fc, tenv, dir)
	if files := cacheFiles(t, dir); len(files) != 0 {
		t.Errorf("a given token was cached: %v", files)
	}

	expiring := func(t *testing.T, dir string) {
		f := cacheFiles(t, dir)[0]
		var ent cachedToken
		b, _ := os.ReadFile(f)
		if err := json.Unmarshal(b, &ent); err != nil {
			t.Fatal(err)
		}
		ent.ExpiresAt = time.Now().Add(tokenMargin - time.Second)
		b, _ = json.Marshal(ent)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, spoil := range map[string]func(t *testing.T, dir string){
		"near expiry": expiring,
		"file open to others": func(t *testing.T, dir string) {
			if err := os.Chmod(cacheFiles(t, dir)[0], 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"directory open to others": func(t *testing.T, dir string) {
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		},
		"garbage": func(t *testing.T, dir string) {
			if err := os.WriteFile(cacheFiles(t, dir)[0], []byte("{"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c")
			cached(t, fc, env, dir)
			spoil(t, dir)
			fc.ResetCounters()
			c := cached(t, fc, env, dir)
			if n := fc.Count("POST /identity/v3/auth/tokens"); n != 1 {
				t.Errorf("the cache was used: %d token requests", n)
			}
			collect(t, c, fakeos.ServerID, CollectOptions{})
		})
	}
}
