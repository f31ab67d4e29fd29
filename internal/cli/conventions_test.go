package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/rule"
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
		// "help TOPIC" fails the same way on a topic it does not know.
		{[]string{"help", "diagnos"}, `unknown command "diagnos" for "hoofbeat"; did you mean diagnose?`},
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
	if code, out, _ := run(t, nil, "help", "diagnose"); code != ExitOK || !strings.Contains(out, "hoofbeat diagnose") {
		t.Errorf("help diagnose: exit %d\n%s", code, out)
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

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := run(t, nil, "completion", shell)
		if code != ExitOK || !strings.Contains(out, "__complete") {
			t.Errorf("completion %s: exit %d, script lacks __complete\n%.300s%s", shell, code, out, errOut)
		}
	}
	if _, out, _ := run(t, nil, "completion", "bash"); !strings.Contains(out, "__start_hoofbeat") {
		t.Errorf("bash script lacks its entry point __start_hoofbeat")
	}

	// What the scripts ask: one candidate a line, a tab before its
	// description, and ":4" (no file completion) last.
	complete := func(args ...string) []string {
		t.Helper()
		code, out, errOut := run(t, nil, append([]string{"__complete"}, args...)...)
		if code != ExitOK {
			t.Fatalf("__complete %q: exit %d\n%s", args, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if last := lines[len(lines)-1]; last != ":4" {
			t.Errorf("__complete %q: directive %q, want :4 (no files)", args, last)
		}
		var names []string
		for _, l := range lines[:len(lines)-1] {
			name, _, _ := strings.Cut(l, "\t")
			names = append(names, name)
		}
		return names
	}
	var network []string
	for _, r := range rule.Catalogue() {
		if strings.HasPrefix(r.Name, "network/") {
			network = append(network, r.Name)
		}
	}
	if got := complete("explain", "net"); strings.Join(got, " ") != strings.Join(network, " ") {
		t.Errorf("explain net completes %q, want %q", got, network)
	}
	// Every verb taking --exclude completes it alike (ruleFlags).
	for _, verb := range [][]string{{"diagnose", "vm1"}, {"audit"}, {"exporter"}, {"diff", "a", "b"}} {
		if got := complete(append(verb, "--exclude", "floating-ip/n")...); strings.Join(got, " ") != "floating-ip/none" {
			t.Errorf("%s --exclude floating-ip/n completes %q", verb[0], got)
		}
	}
}

func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := run(t, nil, "man", dir); code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, page := range []string{"hoofbeat.1", "hoofbeat-diagnose.1", "hoofbeat-explain.1", "hoofbeat-completion-bash.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("no %s: %v", page, err)
			continue
		}
		if !strings.HasPrefix(string(b), ".nh\n.TH ") {
			t.Errorf("%s is not a man page:\n%.200s", page, b)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "hoofbeat-diagnose.1"))
	if !strings.Contains(string(b), `\fB--exclude\fP`) {
		t.Errorf("hoofbeat-diagnose.1 lacks the flags:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "hoofbeat-man.1")); err == nil {
		t.Errorf("the hidden man verb has a page of its own")
	}
}

func TestColourRules(t *testing.T) {
	for _, tc := range []struct {
		tty  bool
		env  map[string]string
		want bool
	}{
		{true, nil, true},
		{false, nil, false},
		{true, map[string]string{"TERM": "dumb"}, false},
		{true, map[string]string{"TERM": "xterm-256color"}, true},
		{false, map[string]string{"CLICOLOR_FORCE": "1"}, true},
		{true, map[string]string{"TERM": "dumb", "CLICOLOR_FORCE": "yes"}, true},
		{false, map[string]string{"CLICOLOR_FORCE": "0"}, false},
		{true, map[string]string{"NO_COLOR": "1"}, false},
		{true, map[string]string{"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}, false},
	} {
		io, _, _, _ := Test()
		io.OutTTY = tc.tty
		io.Getenv = func(k string) string { return tc.env[k] }
		if got := io.colour(); got != tc.want {
			t.Errorf("tty %v, env %v: colour %v, want %v", tc.tty, tc.env, got, tc.want)
		}
	}
}

func TestDiagnoseQuiet(t *testing.T) {
	w := fakeos.Standard()
	removeICMP(w)
	c := fakeos.Start(t, w)
	code, out, errOut := run(t, adminEnv(c), "diagnose", "-q", fakeos.ServerName)
	if code != ExitFindings {
		t.Errorf("exit %d, want 1 as without -q", code)
	}
	if want := "VERDICT  1 error: most likely cause: security-group/icmp-ingress-missing\n"; out != want || errOut != "" {
		t.Errorf("stdout %q, stderr %q; want stdout %q", out, errOut, want)
	}

	c = fakeos.Start(t, fakeos.Standard())
	code, out, _ = run(t, adminEnv(c), "diagnose", "--quiet", fakeos.ServerName)
	if code != ExitOK || !strings.HasPrefix(out, "VERDICT  No problem found") || strings.Count(out, "\n") != 1 {
		t.Errorf("healthy: exit %d, stdout %q", code, out)
	}
	// Errors still reach stderr, with their exit status.
	code, _, errOut = run(t, adminEnv(c), "diagnose", "-q", "no-such-server")
	if code != ExitUsage || !strings.Contains(errOut, "no-such-server") {
		t.Errorf("unknown server: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := run(t, nil, "diagnose", "-q", "-o", "json", "vm1"); code != ExitUsage {
		t.Errorf("-q -o json: exit %d, want 2", code)
	}
}

func TestOSFlagsOverrideEnvironment(t *testing.T) {
	w := fakeos.Standard()
	w.Region = "RegionTwo"
	c := fakeos.Start(t, w)
	env := adminEnv(c)
	env["OS_AUTH_URL"] = "http://127.0.0.1:1/identity/v3"
	env["OS_REGION_NAME"] = "RegionOne"
	if code, _, _ := run(t, env, "diagnose", fakeos.ServerName); code != ExitUnreachable {
		t.Fatalf("the environment alone: exit %d, want 3", code)
	}
	for _, verb := range []string{"diagnose", "collect"} {
		args := []string{verb, fakeos.ServerName, "--os-auth-url", c.AuthURL(), "--os-region-name", "RegionTwo", "-o", "json"}
		if verb == "collect" {
			args = []string{verb, fakeos.ServerName, "--os-auth-url", c.AuthURL(), "--os-region-name", "RegionTwo", "--out", "-"}
		}
		code, out, errOut := run(t, env, args...)
		if code != ExitOK || !strings.Contains(out, `"region": "RegionTwo"`) {
			t.Errorf("%s: exit %d\n%.400s\n%s", verb, code, out, errOut)
		}
	}
	code, _, errOut := run(t, env, "diagnose", fakeos.ServerName, "--os-auth-url", c.AuthURL(), "--os-region-name", "RegionThree")
	if code != ExitUsage || !strings.Contains(errOut, "region RegionThree") {
		t.Errorf("--os-region-name RegionThree: exit %d, %s", code, errOut)
	}
	code, _, errOut = run(t, env, "console", fakeos.ServerName, "--os-auth-url", c.AuthURL(), "--os-region-name", "RegionThree")
	if code != ExitUsage || !strings.Contains(errOut, "region RegionThree") {
		t.Errorf("console --os-region-name RegionThree: exit %d, %s", code, errOut)
	}
	code, _, errOut = run(t, env, "diagnose", fakeos.ServerName, "--os-auth-url", c.AuthURL(), "--os-region-name", "RegionTwo", "--os-cert", "client.pem")
	if code != ExitUsage || !strings.Contains(errOut, "OS_KEY is missing") {
		t.Errorf("--os-cert without --os-key: exit %d, %s", code, errOut)
	}
	if strings.Contains(errOut, env["OS_PASSWORD"]) {
		t.Errorf("password printed: %s", errOut)
	}
	if code, _, errOut := run(t, nil, "diagnose", "--from", "../../examples/snapshots/healthy.json", "--os-region-name", "RegionTwo"); code != ExitUsage || !strings.Contains(errOut, "--os-region-name would do nothing") {
		t.Errorf("--from with --os-region-name: exit %d, %s", code, errOut)
	}
}

func TestProgressOnATerminalOnly(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	env := adminEnv(c)
	args := []string{"diagnose", fakeos.ServerID, "--hosts", "-o", "json",
		"--replay", fakeos.ComputeHost + "=" + filepath.Join(hostRecordings, "healthy", "cmp1"),
		"--replay", fakeos.NetworkHost + "=" + filepath.Join(hostRecordings, "healthy", "ctl")}
	diagnose := func(tty bool, extra ...string) (progress, stderr string) {
		t.Helper()
		io, _, _, errOut := Test()
		io.Getenv = func(k string) string { return env[k] }
		var p bytes.Buffer
		if tty {
			io.Progress = &p
		}
		if code := Main(context.Background(), append(args, extra...), io); code > ExitFindings {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		return p.String(), errOut.String()
	}

	got, stderr := diagnose(true)
	line := func(s string) string { return "\r\x1b[Khoofbeat: " + s }
	want := line("API rounds 0/3") + line("API rounds 1/3") + line("API rounds 2/3") + line("API rounds 3/3") +
		line("hosts checked 0/2") + line("hosts checked 1/2") + line("hosts checked 2/2") + "\r\x1b[K"
	if got != want {
		t.Errorf("progress on a terminal:\n%q\nwant\n%q", got, want)
	}
	if stderr != "" {
		t.Errorf("stderr (escaped) got %q", stderr)
	}
	if got, _ := diagnose(true, "-q", "-o", "text"); got != "" {
		t.Errorf("progress despite -q: %q", got)
	}
	if got, _ := diagnose(true, "--debug"); got != "" {
		t.Errorf("progress cutting --debug's lines: %q", got)
	}
	if _, stderr := diagnose(false); stderr != "" {
		t.Errorf("not a terminal: stderr %q, want nothing", stderr)
	}
}
