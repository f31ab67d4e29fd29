package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/shell"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// goldenWidth is the terminal width the text goldens are rendered at.
const goldenWidth = 100

type rendering struct {
	suffix string
	render func(*bytes.Buffer, *Report) error
}

// The goldens place rules by domain only (domainHop), not by the catalogue,
// so that they pin the renderers, not where the catalogue puts its rules.
var renderings = []rendering{
	{".txt.golden", func(b *bytes.Buffer, r *Report) error {
		return writeText(b, buildWith(r, domainHop), TextOptions{Width: goldenWidth})
	}},
	{".color.txt.golden", func(b *bytes.Buffer, r *Report) error {
		return writeText(b, buildWith(r, domainHop), TextOptions{Color: true, Width: goldenWidth})
	}},
	{".json.golden", func(b *bytes.Buffer, r *Report) error { return writeJSON(b, buildWith(r, domainHop)) }},
	{".md.golden", func(b *bytes.Buffer, r *Report) error { return writeMarkdown(b, buildWith(r, domainHop)) }},
	{".html.golden", func(b *bytes.Buffer, r *Report) error { return writeHTML(b, buildWith(r, domainHop)) }},
}

func TestGolden(t *testing.T) {
	for _, c := range cases {
		for _, rd := range renderings {
			name := c.name + rd.suffix
			t.Run(name, func(t *testing.T) {
				var b bytes.Buffer
				if err := rd.render(&b, c.rep()); err != nil {
					t.Fatal(err)
				}
				golden(t, name, b.Bytes())
			})
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./internal/report -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestNoColourCodesWithoutColor(t *testing.T) {
	for _, c := range cases {
		for _, width := range []int{0, 40, 100} {
			var b bytes.Buffer
			if err := Text(&b, c.rep(), TextOptions{Width: width}); err != nil {
				t.Fatal(err)
			}
			if bytes.ContainsRune(b.Bytes(), '\x1b') {
				t.Errorf("%s at width %d: escape code in uncoloured text", c.name, width)
			}
		}
	}
}

// The coloured text says exactly what the plain text says.
func TestColourOnlyAddsCodes(t *testing.T) {
	for _, c := range cases {
		var plain, col bytes.Buffer
		if err := Text(&plain, c.rep(), TextOptions{Width: goldenWidth}); err != nil {
			t.Fatal(err)
		}
		if err := Text(&col, c.rep(), TextOptions{Color: true, Width: goldenWidth}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(col.Bytes(), []byte("\x1b[")) {
			t.Errorf("%s: no colour in coloured text", c.name)
		}
		if got := ansi.ReplaceAllString(col.String(), ""); got != plain.String() {
			t.Errorf("%s: coloured text without its codes differs from the plain text:\n%s", c.name, got)
		}
	}
}

func TestWrapsToWidth(t *testing.T) {
	for _, c := range cases {
		for _, width := range []int{60, 80, 100} {
			var b bytes.Buffer
			if err := Text(&b, c.rep(), TextOptions{Width: width, Color: true}); err != nil {
				t.Fatal(err)
			}
			rep := c.rep()
			for _, l := range strings.Split(ansi.ReplaceAllString(b.String(), ""), "\n") {
				if n := len([]rune(l)); n > width && !isCommand(rep, l) && !unbreakable(l, width) {
					t.Errorf("%s at width %d: line of %d columns: %q", c.name, width, n, l)
				}
			}
		}
	}
}

// isCommand reports whether a line is a Fix or Verify command, which are
// never wrapped so that they paste whole.
func isCommand(r *Report, l string) bool {
	l = strings.TrimSpace(l)
	for _, f := range r.Result.Findings {
		for _, c := range shell.Strings(slices.Concat(f.Remediation, f.Verify)) {
			if l == c {
				return true
			}
		}
	}
	return false
}

// unbreakable reports whether a line is one word past its indent.
func unbreakable(l string, width int) bool {
	return len(strings.Fields(l)) <= 1 || len([]rune(strings.Fields(l)[len(strings.Fields(l))-1])) > width/2
}

func TestWidthZeroDoesNotWrap(t *testing.T) {
	var b bytes.Buffer
	r := icmpAndNoRouter()
	if err := Text(&b, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Result.Findings {
		if !strings.Contains(b.String(), f.Summary) {
			t.Errorf("summary %q is not on one line", f.Summary)
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, c := range cases {
		for _, rd := range renderings {
			var first bytes.Buffer
			if err := rd.render(&first, c.rep()); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 20; i++ {
				var b bytes.Buffer
				if err := rd.render(&b, c.rep()); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b.Bytes(), first.Bytes()) {
					t.Fatalf("%s%s: output changed between runs", c.name, rd.suffix)
				}
			}
		}
	}
}

// No rendering repeats a secret-shaped value of the input: the auth URL's
// user info and query, agent configurations, fault details.
func TestNoSecrets(t *testing.T) {
	secrets := []string{"Hunter2-lab-pw", secretToken, "s3cr3t-lab", secretPassword, secretSecret}
	for _, c := range cases {
		for _, rd := range renderings {
			var b bytes.Buffer
			if err := rd.render(&b, c.rep()); err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if bytes.Contains(b.Bytes(), []byte(s)) {
					t.Errorf("%s%s contains the secret %q", c.name, rd.suffix, s)
				}
			}
		}
	}
}

func TestJSONShape(t *testing.T) {
	for _, c := range cases {
		var b bytes.Buffer
		if err := JSON(&b, c.rep()); err != nil {
			t.Fatal(err)
		}
		out := b.Bytes()
		if !bytes.HasSuffix(out, []byte("}\n")) || !bytes.HasPrefix(out, []byte("{\n  \"schema_version\": 1,\n")) {
			t.Errorf("%s: not a two-space indented object with a trailing newline", c.name)
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, k := range []string{"schema_version", "tool", "checked_at", "cloud", "query", "server", "flows", "path", "findings", "skipped", "passed", "summary"} {
			if _, ok := doc[k]; !ok {
				t.Errorf("%s: no key %q", c.name, k)
			}
		}
		sum := doc["summary"].(map[string]any)
		for _, k := range []string{"errors", "warnings", "infos", "passed", "skipped", "most_likely_cause", "verdict"} {
			if _, ok := sum[k]; !ok {
				t.Errorf("%s: summary has no key %q", c.name, k)
			}
		}
	}
}

func TestNoSnapshot(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, &Report{}, TextOptions{}); err == nil {
		t.Error("Text without a snapshot: no error")
	}
	if err := JSON(&b, nil); err == nil {
		t.Error("JSON of nil: no error")
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q", b.String())
	}
}

type failWriter struct{}

var errDiskFull = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriteErrorIsReturned(t *testing.T) {
	if err := Text(failWriter{}, healthy(), TextOptions{}); !errors.Is(err, errDiskFull) {
		t.Errorf("Text: %v", err)
	}
	if err := JSON(failWriter{}, healthy()); !errors.Is(err, errDiskFull) {
		t.Errorf("JSON: %v", err)
	}
}

// A server the collector could not find renders, and says nothing was checked.
func TestServerNotFound(t *testing.T) {
	r := notFound()
	var b bytes.Buffer
	if err := Text(&b, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"web9 (not found)", "instance  skipped  none: no server in the snapshot", "Nothing checked: web9 is not in the snapshot."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"server": null`) {
		t.Errorf("JSON server is not null:\n%s", b.String())
	}
}

// TestNotApplicableShownApart: rules that do not apply are counted and
// listed apart from the passed and the skipped, in every format.
func TestNotApplicableShownApart(t *testing.T) {
	r := healthy()
	r.Result.Passed = slices.DeleteFunc(slices.Clone(r.Result.Passed), func(n string) bool { return n == "agent/dhcp-not-hosting" })
	r.Result.NotApplicable = []rule.Skip{{Rule: "agent/dhcp-not-hosting", Domain: "agent", Reason: "the cloud runs ML2/OVN"}}
	var text, md, js bytes.Buffer
	if err := Text(&text, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&js, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NOT APPLICABLE  not run, and why\n  the cloud runs ML2/OVN\n    agent/dhcp-not-hosting\n", " 1 not applicable to this cloud."} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if !strings.Contains(md.String(), "Not applicable: `agent/dhcp-not-hosting` (the cloud runs ML2/OVN).") {
		t.Errorf("markdown:\n%s", md.String())
	}
	var doc struct {
		NotApplicable []struct{ Rule, Reason string } `json:"not_applicable"`
		Summary       struct {
			Passed        int `json:"passed"`
			NotApplicable int `json:"not_applicable"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.NotApplicable) != 1 || doc.NotApplicable[0].Rule != "agent/dhcp-not-hosting" || doc.Summary.NotApplicable != 1 || doc.Summary.Passed != len(r.Result.Passed) {
		t.Errorf("json: %+v", doc)
	}
}

// TestCausedByInJSON: a symptom's finding names its cause in JSON, and a
// finding no other explains says null.
func TestCausedByInJSON(t *testing.T) {
	r := icmpAndNoRouter()
	r.Result.Findings[1].CausedBy = r.Result.Findings[0].Rule
	var js bytes.Buffer
	if err := JSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []struct {
			CausedBy *string `json:"caused_by"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Findings[0].CausedBy != nil || doc.Findings[1].CausedBy == nil || *doc.Findings[1].CausedBy != r.Result.Findings[0].Rule {
		t.Errorf("caused_by: %v, %v", doc.Findings[0].CausedBy, doc.Findings[1].CausedBy)
	}
}
