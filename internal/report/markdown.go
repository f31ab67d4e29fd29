package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/shell"
)

// Markdown writes the report as an incident report to paste into a ticket
// (CommonMark with GitHub's tables): who checked what and when, the path
// from the instance outward as a diagram with the failing hop marked, the
// findings with their evidence and fix, the checks that were skipped and
// why.
func Markdown(w io.Writer, r *Report) error {
	if r == nil || r.Snapshot == nil {
		return errNoSnapshot
	}
	return writeMarkdown(w, build(r))
}

// mdEscaper escapes what CommonMark would read as markup in prose.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `#`, `\#`,
)

func md(s string) string { return mdEscaper.Replace(s) }

// mdCode is inline code that survives any content (backticks included).
func mdCode(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdFence opens a code block whose fence no line of body contains.
func mdFence(body string) string {
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	return fence
}

// Markers of the path diagram.
func hopMark(s hopStatus) string {
	switch s {
	case statusOK:
		return "✓"
	case statusProblem:
		return "✗"
	case statusSkipped:
		return "?"
	}
	return "–"
}

func hopWord(s hopStatus) string {
	if s == statusProblem {
		return "PROBLEM"
	}
	return string(s)
}

// causeHop is the hop of the most likely cause, and the port whose path
// shows it first ("" for the shared hops).
func (v *view) causeHop() (hop, port string) {
	if v.Cause == "" {
		return "", ""
	}
	for _, h := range v.Path {
		if h.Status == statusProblem && contains(h.Findings, v.Cause) {
			return h.Hop, h.PortID
		}
	}
	return "", ""
}

// title is the report's one-line title.
func (v *view) title() string {
	name := v.Query
	if v.Server != nil {
		name = orID(v.Server.Name, v.Server.ID)
	}
	return fmt.Sprintf("hoofbeat: %s — %s", name, v.Verdict)
}

// heading names the report.
func (v *view) heading() string {
	name := v.Query
	if v.Server != nil {
		name = orID(v.Server.Name, v.Server.ID)
	}
	return "hoofbeat report: " + name
}

// userLine names the user and whether it could see what only admins see;
// every renderer says it the same way.
func (v *view) userLine() string {
	if v.Cloud.User == "" {
		return ""
	}
	if v.Cloud.Admin {
		return "user " + v.Cloud.User + " (admin)"
	}
	return "user " + v.Cloud.User + " (not admin: agents, hosts and provider fields were hidden)"
}

// byLine says who checked: user, admin or not, and project.
func (v *view) byLine() string {
	var by []string
	if u := v.userLine(); u != "" {
		by = append(by, u)
	}
	if v.Cloud.Project != "" {
		by = append(by, "project "+v.Cloud.Project)
	}
	return strings.Join(by, ", ")
}

func (v *view) cloudLine() string {
	var c []string
	if v.Cloud.Region != "" {
		c = append(c, "region "+v.Cloud.Region)
	}
	if v.Cloud.AuthURL != "" {
		c = append(c, v.Cloud.AuthURL)
	}
	return strings.Join(c, ", ")
}

func (v *view) checkedLine() string {
	var when []string
	if !v.CheckedAt.IsZero() {
		when = append(when, v.CheckedAt.Format("2006-01-02 15:04:05 UTC"))
	}
	if v.Tool != "" {
		when = append(when, "with "+v.Tool)
	}
	return strings.Join(when, " ")
}

func (v *view) flowLine() string {
	var fl []string
	for _, f := range v.Flows {
		s := f.Spec
		if f.From.IsValid() {
			s += " from " + f.From.String()
		}
		fl = append(fl, s)
	}
	return strings.Join(fl, ", ")
}

func (v *view) serverLine() string {
	s := v.Server
	if s == nil && v.Target != nil {
		return v.portLine()
	}
	if s == nil {
		return v.Query + " (not found)"
	}
	l := fmt.Sprintf("%s (%s) %s", orID(s.Name, s.ID), s.ID, s.Status)
	switch {
	case s.Host != "":
		l += " on " + s.Host
	case v.HostHidden:
		l += ", host hidden"
	}
	return l + v.targetNote()
}

// targetNote says how the query named the server when it named a port:
// " (found by address 10.0.0.5, port …)".
func (v *view) targetNote() string {
	if v.Target == nil {
		return ""
	}
	return fmt.Sprintf(" (found by %s %s: port %s)", v.Target.By, v.Query, v.Target.PortID)
}

// portLine names a port diagnosed without a server: what it is, since a
// VIP, a router port and a DHCP port are not read the same way.
func (v *view) portLine() string {
	l := fmt.Sprintf("%s, found by %s %s", v.Target.PortID, v.Target.By, v.Query)
	if p := v.TargetPort; p != nil {
		owner := p.DeviceOwner
		if owner == "" {
			owner = "no device owner"
		}
		l = strings.TrimSpace(fmt.Sprintf("%s %s, %s %s", p.Name, l, owner, p.DeviceID)) + ", no server"
	}
	return strings.TrimSpace(l)
}

// portLabel names a port's path in the diagram.
func (v *view) portLabel(portID string) string {
	for _, h := range v.Path {
		if h.PortID == portID && h.Hop == rule.HopPort {
			return h.Text
		}
	}
	return portID
}

// paths splits the path view into the diagram's columns: the shared
// instance hop, one chain per port, and the shared hosts hop.
func (v *view) paths() (head *hopView, ports [][]hopView, tail *hopView) {
	for i := range v.Path {
		h := v.Path[i]
		switch {
		case h.Hop == rule.HopInstance:
			head = &v.Path[i]
		case h.Hop == rule.HopHosts:
			tail = &v.Path[i]
		case h.Hop == rule.HopPort || len(ports) == 0:
			ports = append(ports, []hopView{h})
		default:
			ports[len(ports)-1] = append(ports[len(ports)-1], h)
		}
	}
	return head, ports, tail
}

func writeMarkdown(w io.Writer, v *view) error {
	v = visibleView(v)
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	p("# %s\n\n", md(v.heading()))
	p("| | |\n|---|---|\n")
	p("| **Server** | %s |\n", md(v.serverLine()))
	if l := v.checkedLine(); l != "" {
		p("| **Checked** | %s |\n", md(l))
	}
	if l := v.byLine(); l != "" {
		p("| **By** | %s |\n", md(l))
	}
	if l := v.cloudLine(); l != "" {
		p("| **Cloud** | %s |\n", md(l))
	}
	if l := v.flowLine(); l != "" {
		p("| **Flows checked** | %s |\n", md(l))
	}
	p("\n**Verdict:** %s\n", md(v.Verdict))

	// The path, as a diagram.
	p("\n## Path from the instance outward\n\n")
	causeHop, causePort := v.causeHop()
	var d strings.Builder
	nameW := 0
	for _, h := range v.Path {
		nameW = max(nameW, utf8.RuneCountInString(h.Hop))
	}
	line := func(h hopView, indent string) {
		mark := fmt.Sprintf("%s %-7s", hopMark(h.Status), hopWord(h.Status))
		fmt.Fprintf(&d, "%s%-*s  %s  %s", indent, nameW, h.Hop, mark, h.Text)
		if h.Hop == causeHop && h.PortID == causePort {
			d.WriteString("   ◀━━ most likely cause")
		}
		d.WriteString("\n")
		if h.Note != "" || h.SkippedChecks > 0 {
			note := h.Note
			if h.SkippedChecks > 0 {
				note = strings.TrimSpace(note + fmt.Sprintf(" (%s skipped)", plural(h.SkippedChecks, "check", "checks")))
			}
			fmt.Fprintf(&d, "%s%s  ┆  %s\n", indent, strings.Repeat(" ", nameW), note)
		}
	}
	arrow := func(indent string) { fmt.Fprintf(&d, "%s%s\n", indent, "  │") }
	head, ports, tail := v.paths()
	if head != nil {
		line(*head, "")
	}
	for i, chain := range ports {
		indent := ""
		if len(ports) > 1 {
			fmt.Fprintf(&d, "  ├─ port %d of %d\n", i+1, len(ports))
			indent = "  │ "
		}
		for _, h := range chain {
			arrow(indent)
			line(h, indent)
		}
	}
	if tail != nil {
		arrow("")
		line(*tail, "")
	}
	fence := mdFence(d.String())
	p("%stext\n%s%s\n", fence, d.String(), fence)
	p("\n✓ ok · ✗ problem · ? could not be checked · – does not apply\n")

	// The path picture: the packet's way across the hosts.
	if len(v.Lanes) > 0 {
		var l strings.Builder
		for _, ln := range v.Lanes {
			head := ln.Host
			if ln.Roles != "" {
				head += " (" + ln.Roles + ")"
			}
			if ln.Note != "" {
				fmt.Fprintf(&l, "%s: %s\n", head, ln.Note)
				continue
			}
			var steps []string
			for _, x := range ln.Stations {
				steps = append(steps, fmt.Sprintf("%s %s %s", hopMark(x.Status), x.Label, strings.Join(x.Devices, ",")))
			}
			fmt.Fprintf(&l, "%s:\n  %s\n", head, strings.Join(steps, " → "))
		}
		p("\n### The packet's way across the hosts\n\n")
		fence := mdFence(l.String())
		p("%stext\n%s%s\n", fence, l.String(), fence)
	}

	// Findings.
	if len(v.Findings) > 0 {
		p("\n## Findings, most likely cause first\n")
		for i, f := range v.Findings {
			p("\n### %d. %s %s\n\n", i+1, strings.ToUpper(f.Severity.String()), mdCode(f.Rule))
			p("%s\n", md(f.Summary))
			if s := f.Subject; s.Kind != "" || s.ID != "" {
				subj := strings.Join(strings.Fields(strings.Join([]string{s.Kind, s.Name, s.ID}, " ")), " ")
				p("\n*on %s* (hop %s)\n", md(subj), md(f.Hop))
			}
			if len(f.Evidence) > 0 {
				p("\n**Evidence**\n\n")
				for _, e := range f.Evidence {
					p("- %s\n", md(e))
				}
			}
			mdCommands(&b, "Fix", shell.Strings(f.Remediation))
			mdCommands(&b, "Look", shell.Strings(f.Look))
			mdCommands(&b, "Verify", shell.Strings(f.Verify))
		}
	}

	// Skipped.
	if len(v.SkipGroups) > 0 {
		p("\n## Checks that could not run\n\n")
		p("| why | checks |\n|---|---|\n")
		for _, g := range v.SkipGroups {
			var names []string
			for _, r := range g.Rules {
				n := mdCode(r.Rule)
				if r.Partial {
					n += " (in part)"
				}
				names = append(names, n)
			}
			p("| %s | %s |\n", md(g.Reason), strings.Join(names, ", "))
		}
	}

	total, passed, found, skipped := v.checks()
	p("\n---\n\n%s: %d passed, %d with findings, %d skipped.%s", plural(total, "check", "checks"), passed, found, skipped, v.notApplicableLine())
	if len(v.NotApplicable) > 0 {
		var names []string
		for _, na := range v.NotApplicable {
			names = append(names, mdCode(na.Rule))
		}
		p(" Not applicable: %s (%s).", strings.Join(names, ", "), md(v.NotApplicable[0].Reason))
	}
	if len(v.Passed) > 0 {
		var names []string
		for _, n := range v.Passed {
			names = append(names, mdCode(n))
		}
		p(" Passed: %s.", strings.Join(names, ", "))
	}
	p("\n")
	_, err := w.Write(b.Bytes())
	return err
}

// mdCommands writes a titled block of commands, one per line, to paste.
func mdCommands(b *bytes.Buffer, title string, cmds []string) {
	if len(cmds) == 0 {
		return
	}
	body := strings.Join(cmds, "\n") + "\n"
	fence := mdFence(body)
	fmt.Fprintf(b, "\n**%s**\n\n%ssh\n%s%s\n", title, fence, body, fence)
}
