package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// AuditSchemaVersion is the version of the audit's JSON document
// (docs/output-json.md, "The audit document"). Within a version keys are
// only ever added.
const AuditSchemaVersion = 1

// AuditReport is what the audit renderers read: each server's snapshot and
// verdict, and what the audit cost.
type AuditReport struct {
	Tool      string
	CheckedAt time.Time
	Cloud     snapshot.Cloud
	// Scope says which servers were read: "project demo", "all projects".
	Scope   string
	Servers []AuditServer
	// Gaps are the listings that could not be read.
	Gaps  []snapshot.Gap
	Stats AuditStats
	// Hosts are the hosts checked (--hosts), each once.
	Hosts []snapshot.Host
}

// AuditServer is one server's snapshot and verdict.
type AuditServer struct {
	Snapshot *snapshot.Snapshot
	Result   rule.Result
}

// AuditStats is what the audit cost.
type AuditStats struct {
	Requests   int           `json:"requests"`
	Listings   int           `json:"listings"`
	Pages      int           `json:"pages"`
	RoundTrips int           `json:"round_trips"`
	Duration   time.Duration `json:"duration_ns"`
	// Evaluation is the time the rules took over every server.
	Evaluation time.Duration `json:"evaluation_ns"`
}

// auditHops are the grid's columns, in walk order.
var auditHops = []string{rule.HopInstance, rule.HopPort, rule.HopSecurityGroups, rule.HopSubnet, rule.HopNetwork,
	rule.HopDHCP, rule.HopRouter, rule.HopGateway, rule.HopFloatingIP, rule.HopHosts}

type auditView struct {
	Tool      string
	CheckedAt time.Time
	Cloud     snapshot.Cloud
	Scope     string
	Stats     AuditStats
	Gaps      []snapshot.Gap
	// Servers, most severe first.
	Servers []auditServer
	// Rules are the findings grouped by rule, most severe first.
	Rules []auditRule
	// Skips are the rules skipped, by reason, with how many servers.
	Skips []auditSkip
	Hosts []snapshot.Host

	WithErrors, WithWarnings, Healthy int
	Verdict                           string
}

type auditServer struct {
	ID, Name, Status, Host, Project string
	Worst                           rule.Severity
	Errors, Warnings, Infos         int
	Cells                           []auditCell
	Findings                        []findingView
	Skipped                         []rule.Skip
}

type auditCell struct {
	Hop    string
	Status hopStatus
	Worst  rule.Severity
	Note   string
}

type auditRule struct {
	Rule, Domain string
	Worst        rule.Severity
	Hits         []auditHit
}

type auditHit struct {
	ServerID, ServerName string
	Severity             rule.Severity
	Summary              string
	Subject              rule.Subject
}

type auditSkip struct {
	Rule, Reason string
	Servers      int
}

// statusRank orders a hop's statuses when several ports share a column.
var statusRank = map[hopStatus]int{statusNA: 0, statusOK: 1, statusSkipped: 2, statusProblem: 3}

func buildAudit(r *AuditReport) *auditView {
	v := &auditView{Tool: r.Tool, CheckedAt: r.CheckedAt.UTC(), Cloud: r.Cloud, Scope: r.Scope, Stats: r.Stats, Gaps: r.Gaps, Hosts: r.Hosts}
	v.Cloud.AuthURL = cleanURL(v.Cloud.AuthURL)
	rules := map[string]*auditRule{}
	skips := map[[2]string]int{}
	var skipOrder [][2]string
	for _, as := range r.Servers {
		s := as.Snapshot
		pv := build(&Report{Snapshot: s, Result: as.Result})
		srv := auditServer{Findings: pv.Findings, Skipped: as.Result.Skipped, Errors: pv.Errors, Warnings: pv.Warnings, Infos: pv.Infos,
			Worst: as.Result.Worst()}
		if s.Server != nil {
			srv.ID, srv.Name, srv.Status, srv.Host, srv.Project = s.Server.ID, s.Server.Name, s.Server.Status, s.Server.Host, s.Server.ProjectID
		}
		for _, hop := range auditHops {
			c := auditCell{Hop: hop, Status: statusNA}
			for _, h := range pv.Path {
				if h.Hop == hop && (statusRank[h.Status] > statusRank[c.Status] || h.Status == c.Status && h.Worst > c.Worst) {
					c.Status, c.Worst, c.Note = h.Status, h.Worst, h.Note
				}
			}
			srv.Cells = append(srv.Cells, c)
		}
		for _, f := range as.Result.Findings {
			g := rules[f.Rule]
			if g == nil {
				g = &auditRule{Rule: f.Rule, Domain: f.Domain}
				rules[f.Rule] = g
			}
			g.Worst = max(g.Worst, f.Severity)
			g.Hits = append(g.Hits, auditHit{ServerID: srv.ID, ServerName: srv.Name, Severity: f.Severity, Summary: f.Summary, Subject: f.Subject})
		}
		for _, sk := range as.Result.Skipped {
			k := [2]string{sk.Rule, sk.Reason}
			if _, ok := skips[k]; !ok {
				skipOrder = append(skipOrder, k)
			}
			skips[k]++
		}
		switch {
		case srv.Errors > 0:
			v.WithErrors++
		case srv.Warnings > 0:
			v.WithWarnings++
		default:
			v.Healthy++
		}
		v.Servers = append(v.Servers, srv)
	}
	sort.SliceStable(v.Servers, func(i, j int) bool {
		a, b := v.Servers[i], v.Servers[j]
		if a.Worst != b.Worst {
			return a.Worst > b.Worst
		}
		if a.Errors != b.Errors {
			return a.Errors > b.Errors
		}
		if a.Warnings != b.Warnings {
			return a.Warnings > b.Warnings
		}
		return a.Name < b.Name
	})
	order := map[string]int{}
	for i, r := range rule.Catalogue() {
		order[r.Name] = i
	}
	for _, g := range rules {
		sort.SliceStable(g.Hits, func(i, j int) bool { return g.Hits[i].Severity > g.Hits[j].Severity })
		v.Rules = append(v.Rules, *g)
	}
	sort.Slice(v.Rules, func(i, j int) bool {
		a, b := v.Rules[i], v.Rules[j]
		if a.Worst != b.Worst {
			return a.Worst > b.Worst
		}
		if len(a.Hits) != len(b.Hits) {
			return len(a.Hits) > len(b.Hits)
		}
		return order[a.Rule] < order[b.Rule]
	})
	for _, k := range skipOrder {
		v.Skips = append(v.Skips, auditSkip{Rule: k[0], Reason: k[1], Servers: skips[k]})
	}
	v.Verdict = auditVerdict(v)
	return v
}

func auditVerdict(v *auditView) string {
	n := len(v.Servers)
	if n == 0 {
		return "No server to audit."
	}
	out := fmt.Sprintf("%s: %d with errors, %d with warnings only, %d without either.", plural(n, "server", "servers"), v.WithErrors, v.WithWarnings, v.Healthy)
	if len(v.Rules) > 0 && v.Rules[0].Worst >= rule.Warning {
		out += fmt.Sprintf(" Most widespread: %s (%s).", v.Rules[0].Rule, plural(len(v.Rules[0].Hits), "server", "servers"))
	}
	return out
}

func (v *auditView) costLine() string {
	s := v.Stats
	return fmt.Sprintf("%d requests (%d listings, %d pages) in %d round trips, %s; rules %s",
		s.Requests, s.Listings, s.Pages, s.RoundTrips, s.Duration.Round(time.Millisecond), s.Evaluation.Round(time.Millisecond))
}

func auditValid(r *AuditReport) error {
	if r == nil {
		return errNoSnapshot
	}
	for _, s := range r.Servers {
		if s.Snapshot == nil || s.Snapshot.Server == nil {
			return errNoSnapshot
		}
	}
	return nil
}

// auditListed is how many servers the text and Markdown reports name
// under each rule: a finding on every server of a large cloud would
// otherwise bury the others. JSON and HTML list them all.
const auditListed = 20

// AuditText writes the audit for a terminal: the findings by rule, most
// severe first, then the servers with a warning or an error, the skipped
// checks with how many servers each, and the verdict. Other servers are
// counted, not listed (JSON and HTML list every server).
func AuditText(w io.Writer, r *AuditReport, o TextOptions) error {
	if err := auditValid(r); err != nil {
		return err
	}
	v := escapeCopy(reflect.ValueOf(buildAudit(r))).Interface().(*auditView)
	t := &textWriter{color: o.Color, width: o.Width}
	if !o.Quiet {
		const indent = 9
		label := func(s string) string { return t.paint(styleBold, fmt.Sprintf("%-*s", indent, s)) }
		t.para(label("Audit"), indent, fmt.Sprintf("%s, %s", v.Scope, plural(len(v.Servers), "server", "servers")))
		t.para(label("Cloud"), indent, fmt.Sprintf("project %s, user %s, region %s, %s", v.Cloud.Project, v.Cloud.User, v.Cloud.Region, v.Cloud.AuthURL))
		t.para(label("Checked"), indent, fmt.Sprintf("%s with %s", v.CheckedAt.Format("2006-01-02 15:04:05 UTC"), v.Tool))
		t.para(label("Cost"), indent, v.costLine())
		for _, g := range v.Gaps {
			t.para(label("Unread"), indent, gapText(g))
		}
		if len(v.Rules) > 0 {
			t.heading("BY RULE", "most severe first")
			for _, g := range v.Rules {
				t.line("")
				t.line(t.severity(g.Worst) + "  " + t.paint(styleBold, g.Rule) + "  " + plural(len(g.Hits), "server", "servers"))
				for _, h := range g.Hits[:min(len(g.Hits), auditListed)] {
					t.para("    ", 4, fmt.Sprintf("%s %s — %s", h.ServerName, h.ServerID, h.Summary))
				}
				if n := len(g.Hits) - auditListed; n > 0 {
					t.line(t.paint(styleDim, fmt.Sprintf("    and %s more", plural(n, "server", "servers"))))
				}
			}
		}
		listed := 0
		for _, s := range v.Servers {
			if s.Worst < rule.Warning {
				continue
			}
			if listed == 0 {
				t.heading("BY SERVER", "most severe first")
			}
			listed++
			t.line("")
			where := s.Status
			if s.Host != "" {
				where += " on " + s.Host
			}
			t.line(t.severity(s.Worst) + "  " + t.paint(styleBold, s.Name) + "  " + s.ID + "  " + where)
			var cells []string
			for _, c := range s.Cells {
				if c.Status != statusNA {
					cells = append(cells, c.Hop+" "+hopWord(c.Status))
				}
			}
			t.para("    ", 4, t.paint(styleDim, strings.Join(cells, ", ")))
			for _, f := range s.Findings {
				t.para("    ", 4, fmt.Sprintf("%s %s: %s", strings.ToUpper(f.Severity.String()), f.Rule, f.Summary))
			}
		}
		if n := len(v.Servers) - listed; n > 0 && listed > 0 {
			t.line("")
			t.line(t.paint(styleDim, fmt.Sprintf("%s without a warning or an error not listed (--output json or html lists every server)", plural(n, "server", "servers"))))
		}
		if len(v.Skips) > 0 {
			t.heading("SKIPPED", "checks that could not run, and on how many servers")
			for _, sk := range v.Skips {
				t.para("  ", 2, fmt.Sprintf("%s: %s (%s)", sk.Rule, sk.Reason, plural(sk.Servers, "server", "servers")))
			}
		}
		t.line("")
	}
	t.para(t.paint(styleBold, "VERDICT")+"  ", 9, v.Verdict)
	_, err := w.Write(t.buf.Bytes())
	return err
}

func gapText(g snapshot.Gap) string {
	s := g.Source + ": " + g.Reason
	if g.Subject != "" {
		s = g.Source + " " + g.Subject + ": " + g.Reason
	}
	return s
}

// The audit's JSON document (docs/output-json.md). Every key is always
// present.
type auditDoc struct {
	Schema        string         `json:"schema"`
	SchemaVersion int            `json:"schema_version"`
	Tool          string         `json:"tool"`
	CheckedAt     string         `json:"checked_at"`
	Cloud         jsonCloud      `json:"cloud"`
	Scope         string         `json:"scope"`
	Stats         AuditStats     `json:"stats"`
	Unread        []jsonGap      `json:"unread"`
	Summary       auditSummary   `json:"summary"`
	Rules         []auditDocRule `json:"rules"`
	Servers       []auditDocSrv  `json:"servers"`
	Skipped       []auditDocSkip `json:"skipped"`
	Hosts         []jsonHost     `json:"hosts"`
	Hops          []string       `json:"hops"`
}

type jsonGap struct {
	Source  string `json:"source"`
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Reason  string `json:"reason"`
}

type auditSummary struct {
	Servers      int    `json:"servers"`
	WithErrors   int    `json:"with_errors"`
	WithWarnings int    `json:"with_warnings"`
	Healthy      int    `json:"healthy"`
	Verdict      string `json:"verdict"`
}

type auditDocRule struct {
	Rule     string        `json:"rule"`
	Domain   string        `json:"domain"`
	Severity string        `json:"severity"`
	Servers  []auditDocHit `json:"servers"`
}

type auditDocHit struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Severity string       `json:"severity"`
	Subject  jsonResource `json:"subject"`
	Summary  string       `json:"summary"`
}

type auditDocSrv struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Status    string            `json:"status"`
	Host      string            `json:"host"`
	ProjectID string            `json:"project_id"`
	Worst     *string           `json:"worst"`
	Hops      map[string]string `json:"hops"`
	Findings  []jsonFinding     `json:"findings"`
	Skipped   []jsonSkip        `json:"skipped"`
}

type auditDocSkip struct {
	Rule    string `json:"rule"`
	Reason  string `json:"reason"`
	Servers int    `json:"servers"`
}

// AuditJSON writes the audit as the stable document described in
// docs/output-json.md.
func AuditJSON(w io.Writer, r *AuditReport) error {
	if err := auditValid(r); err != nil {
		return err
	}
	v := buildAudit(r)
	d := auditDoc{
		Schema: "hoofbeat.audit", SchemaVersion: AuditSchemaVersion, Tool: v.Tool, CheckedAt: v.CheckedAt.Format(time.RFC3339),
		Cloud: jsonCloud{AuthURL: v.Cloud.AuthURL, Region: v.Cloud.Region, User: v.Cloud.User, Project: v.Cloud.Project, Admin: v.Cloud.Admin},
		Scope: v.Scope, Stats: v.Stats, Unread: []jsonGap{}, Rules: []auditDocRule{}, Servers: []auditDocSrv{}, Skipped: []auditDocSkip{},
		Hosts: jsonHosts(v.Hosts), Hops: auditHops,
		Summary: auditSummary{Servers: len(v.Servers), WithErrors: v.WithErrors, WithWarnings: v.WithWarnings, Healthy: v.Healthy, Verdict: v.Verdict},
	}
	if d.Hosts == nil {
		d.Hosts = []jsonHost{}
	}
	for _, g := range v.Gaps {
		d.Unread = append(d.Unread, jsonGap{Source: g.Source, Kind: string(g.Kind), Subject: g.Subject, Reason: g.Reason})
	}
	for _, g := range v.Rules {
		dr := auditDocRule{Rule: g.Rule, Domain: g.Domain, Severity: g.Worst.String(), Servers: []auditDocHit{}}
		for _, h := range g.Hits {
			dr.Servers = append(dr.Servers, auditDocHit{ID: h.ServerID, Name: h.ServerName, Severity: h.Severity.String(),
				Subject: jsonResource{Kind: h.Subject.Kind, ID: h.Subject.ID, Name: h.Subject.Name}, Summary: h.Summary})
		}
		d.Rules = append(d.Rules, dr)
	}
	for _, s := range v.Servers {
		ds := auditDocSrv{ID: s.ID, Name: s.Name, Status: s.Status, Host: s.Host, ProjectID: s.Project, Hops: map[string]string{},
			Findings: []jsonFinding{}, Skipped: []jsonSkip{}}
		if len(s.Findings) > 0 {
			w := s.Worst.String()
			ds.Worst = &w
		}
		for _, c := range s.Cells {
			ds.Hops[c.Hop] = string(c.Status)
		}
		for _, f := range s.Findings {
			ds.Findings = append(ds.Findings, jsonFinding{Rule: f.Rule, Severity: f.Severity.String(), Domain: f.Domain, Hop: f.Hop,
				Subject: jsonResource{Kind: f.Subject.Kind, ID: f.Subject.ID, Name: f.Subject.Name}, Summary: f.Summary,
				Evidence: nonNil(f.Evidence), Remediation: nonNil(shell.Strings(f.Remediation)), Verify: nonNil(shell.Strings(f.Verify)),
				CausedBy: causedBy(f.CausedBy)})
		}
		for _, sk := range s.Skipped {
			ds.Skipped = append(ds.Skipped, jsonSkip{Rule: sk.Rule, Domain: sk.Domain, Reason: sk.Reason, Partial: sk.Partial})
		}
		d.Servers = append(d.Servers, ds)
	}
	for _, sk := range v.Skips {
		d.Skipped = append(d.Skipped, auditDocSkip(sk))
	}
	return writeDoc(w, d)
}

// AuditMarkdown writes the audit as a report to paste into a ticket: the
// rules with the servers they found, the servers with findings, the
// skipped checks.
func AuditMarkdown(w io.Writer, r *AuditReport) error {
	if err := auditValid(r); err != nil {
		return err
	}
	v := escapeCopy(reflect.ValueOf(buildAudit(r))).Interface().(*auditView)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Audit of %s: %s\n\n", md(v.Scope), md(v.Verdict))
	fmt.Fprintf(&b, "| | |\n|---|---|\n| Cloud | project %s, user %s, region %s, %s |\n| Checked | %s with %s |\n| Cost | %s |\n\n",
		md(v.Cloud.Project), md(v.Cloud.User), md(v.Cloud.Region), mdCell(v.Cloud.AuthURL), v.CheckedAt.Format("2006-01-02 15:04:05 UTC"), md(v.Tool), md(v.costLine()))
	for _, g := range v.Gaps {
		fmt.Fprintf(&b, "- Not read: %s\n", md(gapText(g)))
	}
	if len(v.Rules) > 0 {
		b.WriteString("## Findings by rule\n\n| Severity | Rule | Servers |\n|---|---|---|\n")
		for _, g := range v.Rules {
			var names []string
			for _, h := range g.Hits[:min(len(g.Hits), auditListed)] {
				names = append(names, md(h.ServerName)+" ("+mdCell(h.ServerID)+")")
			}
			if n := len(g.Hits) - auditListed; n > 0 {
				names = append(names, "and "+plural(n, "server", "servers")+" more")
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", strings.ToUpper(g.Worst.String()), mdCell(g.Rule), strings.Join(names, ", "))
		}
		b.WriteString("\n## Servers with a warning or an error\n\n| Server | Status | Host | Findings |\n|---|---|---|---|\n")
		for _, s := range v.Servers {
			if s.Worst < rule.Warning {
				continue
			}
			var fs []string
			for _, f := range s.Findings {
				fs = append(fs, strings.ToUpper(f.Severity.String())+" "+mdCell(f.Rule)+": "+md(f.Summary))
			}
			fmt.Fprintf(&b, "| %s %s | %s | %s | %s |\n", md(s.Name), mdCell(s.ID), md(s.Status), md(s.Host), strings.Join(fs, "<br>"))
		}
	}
	if len(v.Skips) > 0 {
		b.WriteString("\n## Skipped checks\n\n")
		for _, sk := range v.Skips {
			fmt.Fprintf(&b, "- %s: %s (%s)\n", mdCell(sk.Rule), md(sk.Reason), plural(sk.Servers, "server", "servers"))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// mdCell is inline code inside a table cell: GitHub's tables split cells
// at every unescaped pipe, code spans included.
func mdCell(s string) string { return strings.ReplaceAll(mdCode(s), "|", `\|`) }

type auditPage struct {
	*auditView
	Hops  []string
	Cost  string
	Rows  []auditRow
	Class string
}

type auditRow struct {
	auditServer
	Class   string
	Cells   []auditHTMLCell
	Summary string
}

type auditHTMLCell struct {
	Class, Word, Title string
}

func auditCellClass(c auditCell) string {
	return hopClass(hopView{Status: c.Status, Worst: c.Worst})
}

// AuditHTML writes the audit as one self-contained page: a grid with a row
// per server and a column per hop, each cell coloured by the hop's state,
// so that a broken router or agent shows as a stripe down the servers it
// serves; then the findings by rule.
func AuditHTML(w io.Writer, r *AuditReport) error {
	if err := auditValid(r); err != nil {
		return err
	}
	// Control characters are shown escaped here too: a browser would not
	// run them, but someone may cat the file.
	v := escapeCopy(reflect.ValueOf(buildAudit(r))).Interface().(*auditView)
	pg := auditPage{auditView: v, Hops: auditHops, Cost: v.costLine()}
	switch {
	case v.WithErrors > 0:
		pg.Class = "error"
	case v.WithWarnings > 0:
		pg.Class = "warning"
	default:
		pg.Class = "ok"
	}
	for _, s := range v.Servers {
		row := auditRow{auditServer: s, Class: severityClass(s.Worst)}
		if len(s.Findings) == 0 {
			row.Class = "ok"
		} else {
			row.Summary = s.Findings[0].Rule
		}
		for _, c := range s.Cells {
			row.Cells = append(row.Cells, auditHTMLCell{Class: auditCellClass(c), Word: hopMark(c.Status), Title: trunc(c.Hop+": "+hopWord(c.Status)+" "+c.Note, 300)})
		}
		pg.Rows = append(pg.Rows, row)
	}
	var b bytes.Buffer
	if err := auditTemplate.Execute(&b, pg); err != nil {
		return fmt.Errorf("render HTML: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

var auditTemplate = template.Must(template.New("audit").Funcs(template.FuncMap{
	"upper": func(s rule.Severity) string { return strings.ToUpper(s.String()) },
	"count": func(n int, one, many string) string { return plural(n, one, many) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{.Tool}}">
<title>Audit of {{.Scope}}</title>
<style>
:root { --ok: #2e7d32; --ok-bg: #c8e6c9; --error: #c62828; --error-bg: #ef9a9a; --warning: #a15c00; --warning-bg: #ffe0b2;
  --skipped: #6a1b9a; --skipped-bg: #e1bee7; --na-bg: #f4f4f4; --line: #d0d0d0; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1d1d1d; margin: 0; }
main { margin: 0 auto; padding: 20px 24px 40px; max-width: 1400px; }
h1 { font-size: 1.35em; margin: 0 0 10px; }
h2 { font-size: 1.1em; margin: 26px 0 8px; border-bottom: 1px solid var(--line); }
code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.88em; }
.verdict { padding: 10px 14px; border-left: 6px solid; border-radius: 4px; font-weight: 600; margin: 10px 0; }
.verdict.error { background: #fdecea; border-color: var(--error); }
.verdict.warning { background: #fff4e0; border-color: var(--warning); }
.verdict.ok { background: #e8f5e9; border-color: var(--ok); }
table.grid { border-collapse: collapse; }
table.grid th { font-weight: 600; text-align: left; padding: 2px 6px; white-space: nowrap; }
table.grid th.hop { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: normal; font-size: 0.85em; }
table.grid td { padding: 1px 6px; border-bottom: 1px solid #fff; white-space: nowrap; }
table.grid td.cell { width: 22px; text-align: center; border: 1px solid #fff; }
td.ok { background: var(--ok-bg); } td.error { background: var(--error-bg); } td.warning { background: var(--warning-bg); }
td.skipped { background: var(--skipped-bg); } td.na { background: var(--na-bg); color: #999; }
.sev.error { color: var(--error); font-weight: 700; } .sev.warning { color: var(--warning); font-weight: 700; } .sev.info { color: #01579b; }
ul.hits { margin: 2px 0 10px; }
@media print { td.cell { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
</style>
</head>
<body>
<main>
<h1>Audit of {{.Scope}}</h1>
<p>Cloud: project {{.Cloud.Project}}, user {{.Cloud.User}}, region {{.Cloud.Region}}, <code>{{.Cloud.AuthURL}}</code><br>
Checked {{.CheckedAt.Format "2006-01-02 15:04:05 UTC"}} with {{.Tool}}<br>Cost: {{.Cost}}</p>
{{range .Gaps}}<p>Not read: {{.Source}} {{.Subject}}: {{.Reason}}</p>
{{end}}<div class="verdict {{.Class}}">{{.Verdict}}</div>
<h2>Servers by hop</h2>
<table class="grid">
<thead><tr><th>Server</th><th>Status</th><th>Host</th>{{range .Hops}}<th class="hop">{{.}}</th>{{end}}<th>First finding</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td><span class="mono">{{.Name}}</span></td><td>{{.Status}}</td><td>{{.Host}}</td>{{range .Cells}}<td class="cell {{.Class}}" title="{{.Title}}">{{.Word}}</td>{{end}}<td>{{if .Summary}}<span class="sev {{.Class}}">{{.Summary}}</span>{{end}}</td></tr>
{{end}}</tbody>
</table>
{{if .Rules}}<h2>Findings by rule</h2>
{{range .Rules}}<h3><span class="sev {{if ge .Worst 3}}error{{else if eq .Worst 2}}warning{{else}}info{{end}}">{{upper .Worst}}</span> <code>{{.Rule}}</code> — {{count (len .Hits) "server" "servers"}}</h3>
<ul class="hits">{{range .Hits}}<li><span class="mono">{{.ServerName}}</span> <code>{{.ServerID}}</code>: {{.Summary}}</li>{{end}}</ul>
{{end}}{{end}}{{if .Skips}}<h2>Skipped checks</h2>
<ul>{{range .Skips}}<li><code>{{.Rule}}</code>: {{.Reason}} ({{count .Servers "server" "servers"}})</li>{{end}}</ul>
{{end}}</main>
</body>
</html>
`))
