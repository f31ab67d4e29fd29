package cli

import (
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
