package report

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/shell"
)

// ANSI styles; used only when TextOptions.Color is set.
const (
	styleBold    = "1"
	styleDim     = "2"
	styleRed     = "1;31"
	styleGreen   = "32"
	styleYellow  = "1;33"
	styleMagenta = "35"
	styleCyan    = "36"
)

// minWrap is the narrowest column wrapped text is squeezed into; on a
// narrower terminal lines overflow rather than become one word each.
const minWrap = 24

type textWriter struct {
	buf   bytes.Buffer
	color bool
	width int
}

func (t *textWriter) paint(style, s string) string {
	if !t.color || s == "" {
		return s
	}
	return "\x1b[" + style + "m" + s + "\x1b[0m"
}

func (t *textWriter) line(s string) {
	t.buf.WriteString(s)
	t.buf.WriteByte('\n')
}

// para writes text after a prefix whose visible width is indent, wrapping to
// the width with a hanging indent. Commands go through cmd instead, which
// never wraps them.
func (t *textWriter) para(prefix string, indent int, text string) {
	for i, l := range wrap(text, t.width, indent) {
		if i == 0 {
			t.line(prefix + l)
		} else {
			t.line(strings.Repeat(" ", indent) + l)
		}
	}
}

func writeText(w io.Writer, v *view, o TextOptions) error {
	v = visibleView(v)
	t := &textWriter{color: o.Color, width: o.Width}
	if o.Quiet {
		t.verdictLine(v)
	} else {
		t.header(v)
		t.path(v)
		t.findings(v)
		t.skipped(v)
		t.notApplicable(v)
		t.verdict(v)
	}
	_, err := w.Write(t.buf.Bytes())
	return err
}

func (t *textWriter) header(v *view) {
	const indent = 9
	label := func(s string) string { return t.paint(styleBold, s) + strings.Repeat(" ", indent-len(s)) }
	if s := v.Server; s != nil {
		t.para(label("Server"), indent, fmt.Sprintf("%s %s", orID(s.Name, s.ID), s.ID)+v.targetNote())
	} else if v.Target != nil {
		t.para(label("Port"), indent, v.portLine())
	} else {
		t.para(label("Server"), indent, fmt.Sprintf("%s (not found)", v.Query))
	}
	var c []string
	if v.Cloud.Project != "" {
		c = append(c, "project "+v.Cloud.Project)
	}
	if u := v.userLine(); u != "" {
		c = append(c, u)
	}
	if v.Cloud.Region != "" {
		c = append(c, "region "+v.Cloud.Region)
	}
	if v.Cloud.AuthURL != "" {
		c = append(c, v.Cloud.AuthURL)
	}
	if len(c) > 0 {
		t.para(label("Cloud"), indent, strings.Join(c, ", "))
	}
	var when []string
	if !v.CheckedAt.IsZero() {
		when = append(when, v.CheckedAt.Format("2006-01-02 15:04:05 UTC"))
	}
	if v.Tool != "" {
		when = append(when, "with "+v.Tool)
	}
	if len(when) > 0 {
		t.para(label("Checked"), indent, strings.Join(when, " "))
	}
	if len(v.Flows) > 0 {
		var fl []string
		for _, f := range v.Flows {
			s := f.Spec
			if f.From.IsValid() {
				s += " from " + f.From.String()
			}
			fl = append(fl, s)
		}
		t.para(label("Flows"), indent, strings.Join(fl, ", "))
	}
}

func (t *textWriter) heading(title, sub string) {
	t.line("")
	h := t.paint(styleBold, title)
	if sub != "" {
		h += "  " + t.paint(styleDim, sub)
	}
	t.line(h)
}

// marker is the status column of the path view.
func (t *textWriter) marker(h hopView) string {
	switch h.Status {
	case statusOK:
		return t.paint(styleGreen, "ok")
	case statusProblem:
		if h.Worst >= rule.Error {
			return t.paint(styleRed, "PROBLEM")
		}
		return t.paint(styleYellow, "PROBLEM")
	case statusSkipped:
		return t.paint(styleMagenta, "skipped")
	default:
		return t.paint(styleDim, string(h.Status))
	}
}

const markerWidth = len("PROBLEM")

func (t *textWriter) path(v *view) {
	t.heading("PATH", "from the instance outward")
	hw := 0
	ports := map[string]bool{}
	for _, h := range v.Path {
		hw = max(hw, len(h.Hop))
		if h.PortID != "" {
			ports[h.PortID] = true
		}
	}
	// IDs shown in full in the header or the findings are shortened here.
	shown := v.fullIDsShown()
	indent := 2 + hw + 2 + markerWidth + 2
	for i, h := range v.Path {
		if len(ports) > 1 && i > 0 && h.Hop == rule.HopPort {
			t.line("")
		}
		detail := h.Detail()
		var short []string
		for _, r := range h.Resources {
			if shown[r.ID] {
				short = append(short, r.ID, shortID(r.ID))
			}
		}
		if len(short) > 0 {
			// One pass over the line, however many IDs it holds.
			detail = strings.NewReplacer(short...).Replace(detail)
		}
		m := t.marker(h)
		pad := strings.Repeat(" ", markerWidth-utf8.RuneCountInString(string(markerText(h.Status)))+2)
		prefix := "  " + fmt.Sprintf("%-*s", hw, h.Hop) + "  " + m + pad
		t.para(prefix, indent, detail)
	}
	t.lanes(v)
}

// lanes writes the path picture compactly: one line per host, its
// devices in the packet's order with their status.
func (t *textWriter) lanes(v *view) {
	if len(v.Lanes) == 0 {
		return
	}
	t.line("")
	t.line("  " + t.paint(styleBold, "across the hosts"))
	for _, l := range v.Lanes {
		head := "    " + l.Host
		if l.Roles != "" {
			head += " (" + l.Roles + ")"
		}
		if l.Note != "" {
			t.para(head+": ", 6, l.Note)
			continue
		}
		var steps []string
		for _, x := range l.Stations {
			steps = append(steps, x.Label+" "+strings.Join(x.Devices, ",")+" "+t.stationMark(x))
		}
		t.para(head+": ", 6, strings.Join(steps, " → "))
	}
}

func (t *textWriter) stationMark(x station) string {
	switch x.Class {
	case "ok":
		return t.paint(styleGreen, "ok")
	case "error":
		return t.paint(styleRed, "PROBLEM")
	case "warning":
		return t.paint(styleYellow, "PROBLEM")
	}
	return t.paint(styleMagenta, "not checked")
}

func markerText(s hopStatus) string {
	if s == statusProblem {
		return "PROBLEM"
	}
	return string(s)
}

// fullIDsShown returns the path view's resource IDs that appear in full
// outside it (in the header or the findings). It reads that text once,
// whatever the number of IDs: a search per ID made rendering quadratic
// (a network with 20,000 DHCP ports took minutes).
func (v *view) fullIDsShown() map[string]bool {
	var ids []string
	seen := map[string]bool{}
	for _, h := range v.Path {
		for _, r := range h.Resources {
			if r.ID != "" && !seen[r.ID] {
				seen[r.ID] = true
				ids = append(ids, r.ID)
			}
		}
	}
	shown := map[string]bool{}
	if len(ids) == 0 {
		return shown
	}
	var b strings.Builder
	if v.Server != nil {
		b.WriteString(v.Server.ID + "\n")
	}
	for _, f := range v.Findings {
		b.WriteString(f.Subject.ID + "\n" + f.Summary + "\n")
		for _, l := range f.Evidence {
			b.WriteString(l + "\n")
		}
		for _, l := range slices.Concat(f.Remediation, f.Verify) {
			b.WriteString(l.String() + "\n")
		}
	}
	// The replacer marks each ID it finds as \x00 index \x01; the view is
	// escaped (package visible), so neither byte occurs otherwise.
	pairs := make([]string, 0, 2*len(ids))
	for i, id := range ids {
		pairs = append(pairs, id, "\x00"+strconv.Itoa(i)+"\x01")
	}
	marked := strings.NewReplacer(pairs...).Replace(b.String())
	for {
		i := strings.IndexByte(marked, 0)
		if i < 0 {
			return shown
		}
		marked = marked[i+1:]
		j := strings.IndexByte(marked, 1)
		if n, err := strconv.Atoi(marked[:max(j, 0)]); err == nil && j > 0 {
			shown[ids[n]] = true
		}
	}
}

// shortID keeps the first group of a UUID: "3f2a9c1e-…".
func shortID(id string) string {
	if len(id) < 12 {
		return id
	}
	if id[8] == '-' {
		return id[:9] + "…"
	}
	return id[:8] + "…"
}

func (t *textWriter) severity(s rule.Severity) string {
	name := strings.ToUpper(s.String())
	padded := fmt.Sprintf("%-7s", name)
	switch s {
	case rule.Error:
		return t.paint(styleRed, name) + padded[len(name):]
	case rule.Warning:
		return t.paint(styleYellow, name) + padded[len(name):]
	case rule.Info:
		return t.paint(styleCyan, name) + padded[len(name):]
	}
	return padded
}

func (t *textWriter) findings(v *view) {
	if len(v.Findings) == 0 {
		return
	}
	t.heading("FINDINGS", "most likely cause first")
	nw := len(fmt.Sprint(len(v.Findings)))
	indent := nw + 2
	in := strings.Repeat(" ", indent)
	for i, f := range v.Findings {
		t.line("")
		num := fmt.Sprintf("%*d. ", nw, i+1)
		t.line(num + t.severity(f.Severity) + "  " + t.paint(styleBold, f.Rule))
		t.para(in, indent, f.Summary)
		if s := f.Subject; s.Kind != "" || s.ID != "" {
			subj := strings.TrimSpace(strings.Join([]string{s.Kind, s.Name, s.ID}, " "))
			subj = strings.Join(strings.Fields(subj), " ")
			t.para(in, indent, t.paint(styleDim, "on "+subj))
		}
		t.list(in, "Evidence:", f.Evidence, true)
		t.list(in, "Fix:", shell.Strings(f.Remediation), false)
		t.list(in, "Look:", shell.Strings(f.Look), false)
		t.list(in, "Verify:", shell.Strings(f.Verify), false)
	}
}

// list writes a titled block. Prose (evidence) wraps; commands do not, so
// that a pasted line is the whole command.
func (t *textWriter) list(in, title string, items []string, prose bool) {
	if len(items) == 0 {
		return
	}
	t.line(in + t.paint(styleBold, title))
	for _, it := range items {
		if prose {
			t.para(in+"  - ", len(in)+4, it)
		} else {
			t.line(in + "  " + it)
		}
	}
}

func (t *textWriter) skipped(v *view) {
	if len(v.SkipGroups) == 0 {
		return
	}
	t.heading("SKIPPED", "could not check")
	for _, g := range v.SkipGroups {
		t.para("  ", 2, g.Reason)
		names := make([]string, len(g.Rules))
		for i, r := range g.Rules {
			names[i] = r.Rule
			if r.Partial {
				names[i] += " (in part)"
			}
		}
		t.para("    ", 4, t.paint(styleDim, strings.Join(names, ", ")))
	}
}

// notApplicable lists the rules that do not apply, by reason.
func (t *textWriter) notApplicable(v *view) {
	if len(v.NotApplicable) == 0 {
		return
	}
	t.heading("NOT APPLICABLE", "not run, and why")
	var reasons []string
	by := map[string][]string{}
	for _, na := range v.NotApplicable {
		if _, ok := by[na.Reason]; !ok {
			reasons = append(reasons, na.Reason)
		}
		by[na.Reason] = append(by[na.Reason], na.Rule)
	}
	for _, r := range reasons {
		t.para("  ", 2, r)
		t.para("    ", 4, t.paint(styleDim, strings.Join(by[r], ", ")))
	}
}

func (t *textWriter) verdict(v *view) {
	total, passed, found, skipped := v.checks()
	t.line("")
	t.para("", 0, t.paint(styleDim, fmt.Sprintf("%s: %d passed, %d with findings, %d skipped.",
		plural(total, "check", "checks"), passed, found, skipped)+v.notApplicableLine()))
	t.verdictLine(v)
}

func (t *textWriter) verdictLine(v *view) {
	style := styleGreen
	switch {
	case v.Errors > 0:
		style = styleRed
	case v.Warnings > 0:
		style = styleYellow
	case v.Server == nil && v.Target == nil || len(v.Skipped) > 0:
		style = styleMagenta
	}
	label := "VERDICT  "
	t.para(t.paint(styleBold, label), len(label), t.paint(style, v.Verdict))
}

// wrap breaks text into lines that fit width-indent columns, at spaces.
// Colour codes wrapping a whole text are carried to every line.
func wrap(text string, width, indent int) []string {
	avail := width - indent
	if width <= 0 {
		return []string{text}
	}
	if avail < minWrap {
		avail = minWrap
	}
	pre, body, post := splitStyle(text)
	if utf8.RuneCountInString(body) <= avail {
		return []string{text}
	}
	var lines []string
	var cur strings.Builder
	n := 0
	for _, word := range strings.Fields(body) {
		wl := utf8.RuneCountInString(word)
		if n > 0 && n+1+wl > avail {
			lines = append(lines, pre+cur.String()+post)
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(word)
		n += wl
	}
	if n > 0 {
		lines = append(lines, pre+cur.String()+post)
	}
	return lines
}

// splitStyle separates one leading ANSI style and its reset from the text.
func splitStyle(s string) (pre, body, post string) {
	const reset = "\x1b[0m"
	if !strings.HasPrefix(s, "\x1b[") || !strings.HasSuffix(s, reset) {
		return "", s, ""
	}
	end := strings.IndexByte(s, 'm')
	if end < 0 {
		return "", s, ""
	}
	return s[:end+1], s[end+1 : len(s)-len(reset)], reset
}
