package shell_test

import (
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/shell/shelltest"
	"github.com/hoofbeat/hoofbeat/internal/visible"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		cmd  shell.Cmd
		want string
	}{
		{shell.Command("openstack", "port", "show", "1a2b-3c", "-c", "status"), "openstack port show 1a2b-3c -c status"},
		{shell.Command("openstack", "agent", "list", "--host", "ctl;curl${IFS}x|sh"), `openstack agent list --host 'ctl;curl${IFS}x|sh'`},
		{shell.Command("echo", "it's"), `echo 'it'\''s'`},
		{shell.Command("echo", ""), "echo ''"},
		{shell.Command("echo", "=ls", "a=b"), "echo '=ls' a=b"},
		{shell.Command("echo", "a\nb"), `echo $'a\x0ab'`},
		{shell.Command("echo", "\x1b]52;c;cm0gLXJmIH4=\x07"), `echo $'\x1b]52;c;cm0gLXJmIH4=\x07'`},
		{shell.Command("echo", "bad\xffutf8"), `echo $'bad\xffutf8'`},
		{shell.Command("echo", "rtl\u202eevil", `back\slash'`), `echo $'rtl\u202eevil' 'back\slash'\'''`},
		{shell.Command("ss", "-lntp").Pipe("grep", ":6083"), "ss -lntp | grep :6083"},
		{shell.Command("systemctl", "restart", "x").Comment("on host ctl\ncurl evil | sh"), `systemctl restart x   # on host ctl\ncurl evil | sh`},
		{shell.Note("make it persistent"), "# make it persistent"},
	} {
		if got := tc.cmd.String(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

// TestRoundTrip: whatever the arguments, bash reads exactly the intended
// words back, as one command, with the comment on the same line.
func TestRoundTrip(t *testing.T) {
	hostile := []string{"", "plain", "a b", "a\nb", "$(reboot)", "`id`", "'", `"`, `\`, "*", "~root", "{a,b}", "#x",
		"a;b", "a|b", "a&b", "\x1b[2J", "\x00nul", "\r", "\t", "é", "\u202e", "\xff", "-rf", "=x", "!", "x=1"}
	for _, a := range hostile {
		for _, b := range hostile {
			c := shell.Command("cmd", a, b).Pipe("grep", b).Comment(a + b)
			checkRoundTrip(t, c)
		}
	}
}

func checkRoundTrip(t *testing.T, c shell.Cmd) {
	t.Helper()
	line := c.String()
	got, err := shelltest.Parse(line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	want := c.Stages()
	if len(got.Stages) != len(want) {
		t.Fatalf("%s: %d stages, want %d", line, len(got.Stages), len(want))
	}
	for i := range want {
		if strings.Join(got.Stages[i], "\x01") != strings.Join(shelltest.Expected(want[i]), "\x01") {
			t.Fatalf("%s: stage %d read as %q, want %q", line, i, got.Stages[i], want[i])
		}
	}
	// The comment is the text, escaped, on the same line; none without one.
	if note := strings.TrimSpace(visible.String(c.Text())); strings.TrimSpace(got.Comment) != note {
		t.Fatalf("%s: comment read as %q, want %q", line, got.Comment, note)
	}
}

func FuzzWord(f *testing.F) {
	f.Add("a\nb", "$(id)")
	f.Add("\x1b]0;x\x07", "'\"")
	f.Fuzz(func(t *testing.T, a, b string) {
		checkRoundTrip(t, shell.Command("openstack", a, "--", b).Pipe("grep", a).Comment(b))
	})
}

// TestQuotePOSIX: a program's command line for any sh: no $'…', and the
// words read back as given, control characters and all.
func TestQuotePOSIX(t *testing.T) {
	argv := []string{"cat", "--", "/etc/nova/nova.conf", "it's", "a\nb\x1b", "", "=x"}
	line := shell.QuotePOSIX(argv)
	if strings.Contains(line, "$'") {
		t.Fatalf("%q uses $'…'", line)
	}
	if want := `cat -- /etc/nova/nova.conf 'it'\''s' '` + "a\nb\x1b" + `' '' '=x'`; line != want {
		t.Errorf("got %q, want %q", line, want)
	}
}
