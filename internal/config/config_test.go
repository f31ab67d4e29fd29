package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/rule"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	c, err := Load(write(t, "rules:\n  exclude: [floating-ip/none]\n  severity:\n    network/mtu-mismatch: error\n    floating-ip/down: Info\n"), true)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Exclude["floating-ip/none"] || len(c.Exclude) != 1 {
		t.Errorf("exclude: %v", c.Exclude)
	}
	if c.Severity["network/mtu-mismatch"] != rule.Error || c.Severity["floating-ip/down"] != rule.Info {
		t.Errorf("severity: %v", c.Severity)
	}
}

func TestLoadErrors(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"unknown rule":     {"rules:\n  exclude: [no/such-rule]\n", `no rule named "no/such-rule"`},
		"unknown severity": {"rules:\n  severity:\n    floating-ip/none: s3cret-critical\n", "want info, warning or error"},
		"unknown key":      {"rules:\n  exclud: [floating-ip/none]\n", "malformed"},
		"wrong type":       {"rules:\n  exclude: {a: s3cret}\n", "line 2: a mapping where a list is expected"},
		"syntax":           {"rules: [s3cret\n", "malformed"},
	} {
		_, err := Load(write(t, tc.body), true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error quotes the file: %v", name, err)
		}
	}
}

func TestMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.yaml")
	if c, err := Load(missing, false); err != nil || len(c.Exclude) != 0 || c.Path != "" {
		t.Errorf("default path missing: %+v, %v", c, err)
	}
	if _, err := Load(missing, true); err == nil {
		t.Error("a named file that is missing is no error")
	}
	if _, err := Load(write(t, strings.Repeat("#", MaxSize+1)), true); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HOOFBEAT_CONFIG": "/x.yaml", "HOME": "/h"}, "/x.yaml"},
		{map[string]string{"XDG_CONFIG_HOME": "/c", "HOME": "/h"}, "/c/hoofbeat/config.yaml"},
		{map[string]string{"HOME": "/h"}, "/h/.config/hoofbeat/config.yaml"},
		{map[string]string{}, ""},
	} {
		if got := DefaultPath(env(tc.env)); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.env, got, tc.want)
		}
	}
}
