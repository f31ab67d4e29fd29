package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hoofbeat/hoofbeat/internal/rule"
)

// HTML writes the report as one self-contained page to open in a browser
// or attach to a ticket: inline CSS, the path drawn in inline SVG with the
// failing hop marked, no script and nothing fetched from the network. It
// prints readably (colours kept, findings not split across pages).
func HTML(w io.Writer, r *Report) error {
	if r == nil || r.Snapshot == nil {
		return errNoSnapshot
	}
	return writeHTML(w, build(r))
}

// Geometry of the path diagram, in SVG user units.
const (
	svgPitch    = 62 // from one hop to the next
	svgBoxH     = 42
	svgTextChar = 88 // characters of a detail line that fit
)

type htmlHop struct {
	BoxY, CY, MarkY, HopY, WordY, TextY, NoteY, ArrowY1, ArrowY2, TipY int
	Hop, Word, Mark, Class                                             string
	Text, TextFull, Note, NoteFull                                     string
	Cause, Arrow                                                       bool
}

type htmlChain struct {
	ID, Title string
	Height    int
	Hops      []htmlHop
}

// Geometry of the path picture's lanes, in SVG user units.
const (
	laneWidth  = 860
	laneH      = 92
	laneBoxY   = 30
	laneBoxH   = 50
	laneGap    = 22 // between two stations, for the arrow
	laneMargin = 8
)

type htmlStation struct {
	X, W, DotX, DotY, TextX, LabelY, DevY, ArrowX1, ArrowX2, TipX int
	Label, Devices, DevicesFull, Class, Status, Note              string
	Arrow                                                         bool
}

type htmlLane struct {
	Host, Roles, Note string
	Stations          []htmlStation
}

type htmlFinding struct {
	N        int
	Class    string
	Severity string
	findingView
	Subject string
}

type htmlPage struct {
	*view
	Title, Heading, ServerLine, Checked, By, Cloud, Flows string
	VerdictClass                                          string
	Chains                                                []htmlChain
	Lanes                                                 []htmlLane
	Findings                                              []htmlFinding
	Total, PassedN, Found, SkippedN                       int
	NotApplicable                                         string
}

// trunc shortens s to n characters with an ellipsis.
func trunc(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func hopClass(h hopView) string {
	switch h.Status {
	case statusProblem:
		if h.Worst >= rule.Error {
			return "error"
		}
		return "warning"
	case statusOK:
		return "ok"
	case statusSkipped:
		return "skipped"
	}
	return "na"
}

func severityClass(s rule.Severity) string {
	switch s {
	case rule.Error:
		return "error"
	case rule.Warning:
		return "warning"
	}
	return "info"
}

func (v *view) htmlChains() []htmlChain {
	causeHop, causePort := v.causeHop()
	head, ports, tail := v.paths()
	var chains [][]hopView
	for _, c := range ports {
		chain := []hopView{}
		if head != nil {
			chain = append(chain, *head)
		}
		chain = append(chain, c...)
		if tail != nil {
			chain = append(chain, *tail)
		}
		chains = append(chains, chain)
	}
	if len(chains) == 0 && head != nil {
		chains = append(chains, []hopView{*head})
	}
	var out []htmlChain
	for i, c := range chains {
		hc := htmlChain{ID: fmt.Sprintf("p%d", i+1), Height: len(c)*svgPitch - (svgPitch - svgBoxH) + 12}
		if len(ports) > 1 {
			hc.Title = fmt.Sprintf("Port %d of %d: %s", i+1, len(ports), v.portLabel(ports[i][0].PortID))
		}
		for j, h := range c {
			y := 6 + j*svgPitch
			note := h.Note
			if h.SkippedChecks > 0 {
				note = strings.TrimSpace(note + fmt.Sprintf(" (%s skipped)", plural(h.SkippedChecks, "check", "checks")))
			}
			hh := htmlHop{
				BoxY: y, CY: y + svgBoxH/2, MarkY: y + svgBoxH/2 + 5, HopY: y + 19, WordY: y + 35, TextY: y + 17, NoteY: y + 35,
				ArrowY1: y + svgBoxH, ArrowY2: y + svgPitch - 9, TipY: y + svgPitch - 1,
				Hop: h.Hop, Word: hopWord(h.Status), Mark: hopMark(h.Status), Class: hopClass(h),
				Text: trunc(h.Text, svgTextChar), TextFull: h.Text,
				Note: trunc(note, svgTextChar+6), NoteFull: note,
				Cause: h.Hop == causeHop && h.PortID == causePort && causeHop != "",
				Arrow: j < len(c)-1,
			}
			if hh.Cause {
				hh.Note = trunc("MOST LIKELY CAUSE: "+note, svgTextChar-6)
			}
			hc.Hops = append(hc.Hops, hh)
		}
		out = append(out, hc)
	}
	return out
}

// htmlLanes lays the path picture out: per host, its stations left to
// right with arrows between them, each a box with a status dot.
func (v *view) htmlLanes() []htmlLane {
	var out []htmlLane
	for _, l := range v.Lanes {
		hl := htmlLane{Host: l.Host, Roles: l.Roles, Note: l.Note}
		n := len(l.Stations)
		if n == 0 {
			out = append(out, hl)
			continue
		}
		w := (laneWidth - 2*laneMargin - (n-1)*laneGap) / n
		for i, x := range l.Stations {
			left := laneMargin + i*(w+laneGap)
			devs := strings.Join(x.Devices, ", ")
			word := map[hopStatus]string{statusOK: "ok", statusProblem: "problem", statusSkipped: "not checked"}[x.Status]
			hl.Stations = append(hl.Stations, htmlStation{
				X: left, W: w, DotX: left + 14, DotY: laneBoxY + laneBoxH/2, TextX: left + 28,
				LabelY: laneBoxY + 20, DevY: laneBoxY + 38,
				ArrowX1: left + w + 2, ArrowX2: left + w + laneGap - 8, TipX: left + w + laneGap - 1,
				Label: x.Label + " · " + word, Devices: trunc(devs, max((w-34)/6, 4)), DevicesFull: devs,
				Class: x.Class, Status: word, Note: x.Note, Arrow: i < n-1,
			})
		}
		out = append(out, hl)
	}
	return out
}

func writeHTML(w io.Writer, v *view) error {
	pg := htmlPage{
		view: v, Title: v.title(), Heading: v.heading(), ServerLine: v.serverLine(), Checked: v.checkedLine(),
		By: v.byLine(), Cloud: v.cloudLine(), Flows: v.flowLine(), Chains: v.htmlChains(), Lanes: v.htmlLanes(),
	}
	switch {
	case v.Errors > 0:
		pg.VerdictClass = "error"
	case v.Warnings > 0:
		pg.VerdictClass = "warning"
	case v.Server == nil && v.Target == nil || len(v.Skipped) > 0:
		pg.VerdictClass = "skipped"
	default:
		pg.VerdictClass = "ok"
	}
	for i, f := range v.Findings {
		s := f.Subject
		pg.Findings = append(pg.Findings, htmlFinding{
			N: i + 1, Class: severityClass(f.Severity), Severity: strings.ToUpper(f.Severity.String()), findingView: f,
			Subject: strings.Join(strings.Fields(strings.Join([]string{s.Kind, s.Name, s.ID}, " ")), " "),
		})
	}
	pg.Total, pg.PassedN, pg.Found, pg.SkippedN = v.checks()
	pg.NotApplicable = v.notApplicableLine()
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, pg); err != nil {
		return fmt.Errorf("render HTML: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{.Tool}}">
<title>{{.Title}}</title>
<style>
:root { --ok: #2e7d32; --ok-bg: #e8f5e9; --error: #c62828; --error-bg: #fdecea; --warning: #a15c00; --warning-bg: #fff4e0;
  --skipped: #6a1b9a; --skipped-bg: #f3e5f5; --na: #6b6b6b; --na-bg: #f4f4f4; --info: #01579b; --info-bg: #e1f5fe; --line: #d0d0d0; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1d1d1d; margin: 0; background: #fff; }
main { max-width: 980px; margin: 0 auto; padding: 24px 28px 40px; }
h1 { font-size: 1.45em; margin: 0 0 14px; line-height: 1.25; }
h2 { font-size: 1.15em; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.02em; margin: 0 0 6px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.88em; }
table.meta { border-collapse: collapse; margin: 0 0 14px; }
table.meta th { text-align: left; padding: 3px 18px 3px 0; vertical-align: top; color: #555; font-weight: 600; white-space: nowrap; }
table.meta td { padding: 3px 0; }
.verdict { padding: 12px 16px; border-radius: 6px; border-left: 6px solid; font-weight: 600; }
.verdict.error { background: var(--error-bg); border-color: var(--error); }
.verdict.warning { background: var(--warning-bg); border-color: var(--warning); }
.verdict.skipped { background: var(--skipped-bg); border-color: var(--skipped); }
.verdict.ok { background: var(--ok-bg); border-color: var(--ok); }
.chain { margin: 8px 0 18px; }
.chain h3 { font-weight: 600; color: #444; }
svg.path { width: 100%; height: auto; max-width: 860px; display: block; }
svg.path text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg .hop { font-size: 14px; font-weight: 700; }
svg .word { font-size: 10.5px; font-weight: 700; letter-spacing: .04em; }
svg .detail { font-size: 13px; fill: #1d1d1d; }
svg .note { font-size: 12px; fill: #555; }
svg .cause .note { fill: var(--error); font-weight: 700; }
svg .mark { font-size: 14px; font-weight: 700; fill: #fff; }
svg .ok rect.box { fill: var(--ok-bg); stroke: var(--ok); } svg .ok circle { fill: var(--ok); } svg .ok .word { fill: var(--ok); }
svg .error rect.box { fill: var(--error-bg); stroke: var(--error); stroke-width: 2.5; } svg .error circle { fill: var(--error); } svg .error .word { fill: var(--error); }
svg .warning rect.box { fill: var(--warning-bg); stroke: var(--warning); stroke-width: 2.5; } svg .warning circle { fill: var(--warning); } svg .warning .word { fill: var(--warning); }
svg .skipped rect.box { fill: var(--skipped-bg); stroke: var(--skipped); stroke-dasharray: 5 3; } svg .skipped circle { fill: var(--skipped); } svg .skipped .word { fill: var(--skipped); }
svg .na rect.box { fill: var(--na-bg); stroke: #bdbdbd; } svg .na circle { fill: #9e9e9e; } svg .na .word { fill: var(--na); } svg .na .hop { fill: #555; }
svg .cause rect.box { stroke-width: 4; }
.lane h3 { margin: 12px 0 0; } .lane .roles { font-weight: 400; color: #666; }
svg.lane { width: 100%; height: auto; max-width: 860px; display: block; }
svg.lane text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg.lane .detail { font-size: 11px; } svg .station.error rect.box { stroke-width: 3; }
svg line.arrow { stroke: #8a8a8a; stroke-width: 2; } svg path.tip { fill: #8a8a8a; }
.legend { font-size: .85em; color: #555; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 5px; vertical-align: -1px; }
.finding { border: 1px solid var(--line); border-left: 6px solid; border-radius: 6px; padding: 12px 16px; margin: 12px 0; break-inside: avoid; page-break-inside: avoid; }
.finding.error { border-left-color: var(--error); } .finding.warning { border-left-color: var(--warning); } .finding.info { border-left-color: var(--info); }
.sev { display: inline-block; font-size: .72em; font-weight: 700; letter-spacing: .05em; padding: 2px 7px; border-radius: 4px; margin-right: 6px; vertical-align: 2px; color: #fff; }
.sev.error { background: var(--error); } .sev.warning { background: var(--warning); } .sev.info { background: var(--info); }
.summary { margin: 4px 0 6px; }
.subject { color: #666; font-size: .9em; margin: 0 0 8px; }
.finding h4 { font-size: .8em; text-transform: uppercase; letter-spacing: .06em; color: #555; margin: 10px 0 4px; }
.finding ul { margin: 0; padding-left: 20px; }
.finding li { margin: 2px 0; overflow-wrap: anywhere; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 5px; padding: 8px 10px; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
table.skipped { border-collapse: collapse; width: 100%; }
table.skipped th, table.skipped td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: 6px 8px 6px 0; }
table.skipped td.rules { font-size: .9em; }
footer { margin-top: 28px; color: #555; font-size: .88em; border-top: 1px solid var(--line); padding-top: 10px; }
footer .passed { overflow-wrap: anywhere; }
@page { margin: 14mm 12mm; }
@media print {
  body { font-size: 10.5pt; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .chain { break-inside: avoid; page-break-inside: avoid; }
}
</style>
</head>
<body>
<main>
<header>
<h1>{{.Heading}}</h1>
<table class="meta">
<tr><th>Server</th><td>{{.ServerLine}}</td></tr>
{{- if .Checked}}
<tr><th>Checked</th><td>{{.Checked}}</td></tr>{{end}}
{{- if .By}}
<tr><th>By</th><td>{{.By}}</td></tr>{{end}}
{{- if .Cloud}}
<tr><th>Cloud</th><td>{{.Cloud}}</td></tr>{{end}}
{{- if .Flows}}
<tr><th>Flows checked</th><td>{{.Flows}}</td></tr>{{end}}
</table>
<div class="verdict {{.VerdictClass}}" id="verdict">{{.Verdict}}</div>
</header>

<section id="path">
<h2>Path from the instance outward</h2>
{{- range .Chains}}
<div class="chain">
{{- if .Title}}
<h3>{{.Title}}</h3>{{end}}
<svg class="path" id="path-{{.ID}}" viewBox="0 0 860 {{.Height}}" width="860" height="{{.Height}}" role="img" aria-label="path from the instance outward">
{{- range .Hops}}
<g class="hop-row {{.Class}}{{if .Cause}} cause{{end}}" data-hop="{{.Hop}}" data-status="{{.Word}}">
<title>{{.Hop}}: {{.Word}} — {{.TextFull}}{{if .NoteFull}} — {{.NoteFull}}{{end}}</title>
<circle cx="17" cy="{{.CY}}" r="{{if .Cause}}14{{else}}11{{end}}"></circle>
<text class="mark" x="17" y="{{.MarkY}}" text-anchor="middle">{{.Mark}}</text>
<rect class="box" x="38" y="{{.BoxY}}" width="178" height="42" rx="8"></rect>
<text class="hop" x="50" y="{{.HopY}}">{{.Hop}}</text>
<text class="word" x="50" y="{{.WordY}}">{{.Word}}</text>
<text class="detail" x="232" y="{{.TextY}}">{{.Text}}</text>
{{- if .Note}}
<text class="note" x="232" y="{{.NoteY}}">{{.Note}}</text>{{end}}
{{- if .Arrow}}
<line class="arrow" x1="127" y1="{{.ArrowY1}}" x2="127" y2="{{.ArrowY2}}"></line>
<path class="tip" d="M120 {{.ArrowY2}} L127 {{.TipY}} L134 {{.ArrowY2}} Z"></path>{{end}}
</g>
{{- end}}
</svg>
</div>
{{- end}}
<p class="legend"><span><i style="background:var(--ok)"></i>ok</span><span><i style="background:var(--error)"></i>problem</span><span><i style="background:var(--warning)"></i>warning</span><span><i style="background:var(--skipped)"></i>could not be checked</span><span><i style="background:#9e9e9e"></i>does not apply</span></p>
</section>

{{- if .Findings}}
{{- if .Lanes}}
<section id="hosts-path">
<h2>The packet's way across the hosts</h2>
{{- range $lane := .Lanes}}
<div class="lane">
<h3>{{.Host}}{{if .Roles}} <span class="roles">({{.Roles}})</span>{{end}}</h3>
{{- if .Note}}
<p class="lane-note">{{.Note}}</p>
{{- else}}
<svg class="lane" viewBox="0 0 860 92" width="860" height="92" role="img" aria-label="devices on {{.Host}}">
{{- range .Stations}}
<g class="station {{.Class}}" data-host="{{$lane.Host}}" data-devices="{{.DevicesFull}}" data-status="{{.Status}}">
<title>{{.Label}}: {{.DevicesFull}}{{if .Note}} — {{.Note}}{{end}}</title>
<rect class="box" x="{{.X}}" y="30" width="{{.W}}" height="50" rx="8"></rect>
<circle class="dot" cx="{{.DotX}}" cy="{{.DotY}}" r="8"></circle>
<text class="word" x="{{.TextX}}" y="{{.LabelY}}">{{.Label}}</text>
<text class="detail" x="{{.TextX}}" y="{{.DevY}}">{{.Devices}}</text>
{{- if .Arrow}}
<line class="arrow" x1="{{.ArrowX1}}" y1="55" x2="{{.ArrowX2}}" y2="55"></line>
<path class="tip" d="M{{.ArrowX2}} 49 L{{.TipX}} 55 L{{.ArrowX2}} 61 Z"></path>{{end}}
</g>
{{- end}}
</svg>
{{- end}}
</div>
{{- end}}
</section>
{{- end}}

<section id="findings">
<h2>Findings, most likely cause first</h2>
{{- range .Findings}}
<article class="finding {{.Class}}" id="finding-{{.N}}" data-rule="{{.Rule}}">
<h3><span class="sev {{.Class}}">{{.Severity}}</span>{{.N}}. <code>{{.Rule}}</code></h3>
<p class="summary">{{.Summary}}</p>
{{- if .Subject}}
<p class="subject">on {{.Subject}} · hop {{.Hop}}</p>{{end}}
{{- if .Evidence}}
<h4>Evidence</h4>
<ul class="evidence">
{{- range .Evidence}}
<li>{{.}}</li>
{{- end}}
</ul>{{end}}
{{- if .Remediation}}
<h4>Fix</h4>
<pre class="fix"><code>{{range $i, $c := .Remediation}}{{if $i}}
{{end}}{{$c}}{{end}}</code></pre>{{end}}
{{- if .Look}}
<h4>Look</h4>
<pre class="look"><code>{{range $i, $c := .Look}}{{if $i}}
{{end}}{{$c}}{{end}}</code></pre>{{end}}
{{- if .Verify}}
<h4>Verify</h4>
<pre class="verify"><code>{{range $i, $c := .Verify}}{{if $i}}
{{end}}{{$c}}{{end}}</code></pre>{{end}}
</article>
{{- end}}
</section>
{{- end}}

{{- if .SkipGroups}}
<section id="skipped">
<h2>Checks that could not run</h2>
<table class="skipped">
<tr><th>Why</th><th>Checks</th></tr>
{{- range .SkipGroups}}
<tr><td>{{.Reason}}</td><td class="rules">{{range $i, $r := .Rules}}{{if $i}}, {{end}}<code>{{$r.Rule}}</code>{{if $r.Partial}} (in part){{end}}{{end}}</td></tr>
{{- end}}
</table>
</section>
{{- end}}

<footer>
<p>{{.Total}} checks: {{.PassedN}} passed, {{.Found}} with findings, {{.SkippedN}} skipped.{{.NotApplicable}}{{if .Tool}} Report by {{.Tool}}.{{end}}</p>
{{- if .Passed}}
<p class="passed">Passed: {{range $i, $p := .Passed}}{{if $i}}, {{end}}<code>{{$p}}</code>{{end}}</p>{{end}}
</footer>
</main>
</body>
</html>
`))
