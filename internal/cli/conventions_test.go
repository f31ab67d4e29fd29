package cli

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestUnknownCommandExitsTwoWithSuggestion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"diagnos", "vm1"}, `unknown command "diagnos" for "hoofbeat"; did you mean diagnose?`},
		{[]string{"xyzzy"}, `unknown command "xyzzy" for "hoofbeat"; "hoofbeat --help" lists the commands`},
		{[]string{"diagnose", "--exlude", "x", "vm1"}, "unknown flag: --exlude; did you mean --exclude?"},
		{[]string{"--bogus"}, "unknown flag: --bogus\nRun 'hoofbeat --help' for usage."},
	} {
		code, out, errOut := run(t, nil, tc.args...)
		if code != ExitUsage {
			t.Errorf("%q: exit %d, want 2", tc.args, code)
		}
		if out != "" {
			t.Errorf("%q: stdout %q, want nothing (no help on a typo)", tc.args, out)
		}
		if !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: stderr %q, want %q", tc.args, errOut, tc.want)
		}
	}
	// Bare "hoofbeat" still prints help, successfully.
	if code, out, _ := run(t, nil); code != ExitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("bare hoofbeat: exit %d\n%s", code, out)
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	vcs := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/hoofbeat/hoofbeat", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-11-21T11:57:02Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	installed := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}
	for _, tc := range []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  buildInfo
	}{
		{"nothing known", nil, "", "", "", buildInfo{Version: "dev", Go: runtime.Version()}},
		{"git checkout", vcs, "", "", "", buildInfo{Version: "dev-0123456789ab-dirty", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-11-21T11:57:02Z", Modified: true, Go: "go1.26.8"}},
		{"go install @v1.4.0", installed, "", "", "", buildInfo{Version: "v1.4.0", Go: "go1.26.8"}},
		{"ldflags win", vcs, "v2.0.0", "feedface", "2026-12-01T00:00:00Z", buildInfo{Version: "v2.0.0", Commit: "feedface", Date: "2026-12-01T00:00:00Z", Go: "go1.26.8"}},
	} {
		if got := resolveBuild(tc.bi, tc.version, tc.commit, tc.date); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestVersionFlagAndVerb(t *testing.T) {
	old := [3]string{Version, Commit, Date}
	t.Cleanup(func() { Version, Commit, Date = old[0], old[1], old[2] })
	Version, Commit, Date = "v9.8.7", "abcdef123456", "2026-11-21T11:57:02Z"
	want := "hoofbeat v9.8.7\ncommit   abcdef123456\ndate     2026-11-21T11:57:02Z\ngo       " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, errOut := run(t, nil, args...)
		if code != ExitOK || out != want {
			t.Errorf("%q: exit %d\n%s%s\nwant\n%s", args, code, out, errOut, want)
		}
	}
}
