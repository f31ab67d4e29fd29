package report

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// view is what every renderer draws: the report reduced to what is shown, in
// the order it is shown. Building it is the only place that interprets the
// snapshot and the result; renderers only lay it out.
type view struct {
	Tool      string
	CheckedAt time.Time
	Cloud     snapshot.Cloud
	Query     string
	Server    *snapshot.Server
	// Target is the port the query named, when it named one; TargetPort
	// is that port, when it was read.
	Target     *snapshot.Target
	TargetPort *snapshot.Port
	// HostHidden is true when the server's host was hidden from the user.
	HostHidden bool
	Flows      []rule.Flow

	Path     []hopView
	Findings []findingView
	Skipped  []rule.Skip
	// SkipGroups are the skipped rules grouped by reason, in the order the
	// reasons first appear.
	SkipGroups []skipGroup
	Passed     []string
	// NotApplicable are the rules that do not apply to this cloud.
	NotApplicable []rule.Skip
	// Hosts are the hosts checked, if any.
	Hosts []snapshot.Host
	// Lanes are the path picture: the packet's way across the hosts.
	Lanes []lane

	Errors, Warnings, Infos int
	// Cause is the rule of the most likely cause (the first finding of
	// warning severity or worse), or "".
	Cause   string
	Verdict string
}

type findingView struct {
	rule.Finding
	// Hop is the path-view hop the finding belongs to.
	Hop string
}

type skipGroup struct {
	Reason string
	Rules  []skippedRule
}

type skippedRule struct {
	Rule string
	// Partial is true when the rule ran but could not check this part.
	Partial bool
}

// checks counts the rules by outcome, each rule once: passed, found
// something (whether or not part of it was skipped), or skipped without
// finding anything (it could not run, or ran only in part).
func (v *view) checks() (total, passed, found, skipped int) {
	rules := map[string]bool{}
	context := map[string]bool{}
	for _, f := range v.Findings {
		rules[f.Rule] = true
		if f.Context {
			context[f.Rule] = true
		}
	}
	// A context rule's findings are no fault: the rule counts as passed.
	found = len(rules) - len(context)
	for _, sk := range v.Skipped {
		if !rules[sk.Rule] {
			rules[sk.Rule] = true
			skipped++
		}
	}
	passed = len(v.Passed) + len(context)
	return passed + found + skipped, passed, found, skipped
}

// notApplicableLine is the counts line's tail for the rules that do not
// apply: counted apart, never among the passed or the skipped.
func (v *view) notApplicableLine() string {
	if len(v.NotApplicable) == 0 {
		return ""
	}
	return fmt.Sprintf(" %d not applicable to this cloud.", len(v.NotApplicable))
}

// skippedRules counts the distinct rules with a skip, partial ones included.
func (v *view) skippedRules() int {
	seen := map[string]bool{}
	for _, sk := range v.Skipped {
		seen[sk.Rule] = true
	}
	return len(seen)
}

// placer puts a rule on a hop of the path view.
type placer func(name, domain string) string

func build(r *Report) *view { return buildWith(r, hopOf) }

func buildWith(r *Report, place placer) *view {
	s := r.Snapshot
	v := &view{
		Tool:          r.Tool,
		CheckedAt:     s.CollectedAt.UTC(),
		Cloud:         s.Cloud,
		Query:         s.Query,
		Server:        s.Server,
		Target:        s.Target,
		Flows:         r.Flows,
		Skipped:       r.Result.Skipped,
		Passed:        r.Result.Passed,
		NotApplicable: r.Result.NotApplicable,
		Hosts:         s.Hosts,
	}
	v.Cloud.AuthURL = cleanURL(v.Cloud.AuthURL)
	if t := s.Target; t != nil {
		for i := range s.Ports {
			if s.Ports[i].ID == t.PortID {
				v.TargetPort = &s.Ports[i]
			}
		}
	}
	v.HostHidden = s.Server != nil && s.Server.Host == "" && s.Gap(snapshot.SourceServerHost) != nil
	for _, f := range r.Result.Findings {
		v.Findings = append(v.Findings, findingView{Finding: f, Hop: place(f.Rule, f.Domain)})
		switch {
		case f.Severity >= rule.Error:
			v.Errors++
		case f.Severity == rule.Warning:
			v.Warnings++
		default:
			v.Infos++
		}
		if v.Cause == "" && f.Severity >= rule.Warning {
			v.Cause = f.Rule
		}
	}
	for _, sk := range r.Result.Skipped {
		i := 0
		for i < len(v.SkipGroups) && v.SkipGroups[i].Reason != sk.Reason {
			i++
		}
		if i == len(v.SkipGroups) {
			v.SkipGroups = append(v.SkipGroups, skipGroup{Reason: sk.Reason})
		}
		v.SkipGroups[i].Rules = append(v.SkipGroups[i].Rules, skippedRule{Rule: sk.Rule, Partial: sk.Partial})
	}
	v.Path = buildPath(s, v.Findings, r.Result, place)
	v.Lanes = lanes(s, v.Findings)
	v.Verdict = verdict(v)
	return v
}

// The advice when OpenStack reports nothing wrong.
const lookPastIt = "Look past it: the upstream router, VLAN trunking on switch ports, routes between you and the cloud, cabling."

func verdict(v *view) string {
	if v.Server == nil && v.Target == nil {
		q := v.Query
		if q == "" {
			q = "the server"
		}
		return fmt.Sprintf("Nothing checked: %s is not in the snapshot.", q)
	}
	if v.Cause != "" {
		return causeVerdict(v)
	}
	if n := v.skippedRules(); n > 0 {
		return fmt.Sprintf("No problem found in what OpenStack reports, but %s could not run in full (see SKIPPED). %s",
			plural(n, "check", "checks"), lookPastIt)
	}
	return "No problem found in what OpenStack reports. " + lookPastIt
}

// causeVerdict counts the errors and warnings and names the most likely
// cause: a diagnosis's verdict and hoofbeat host's alike.
func causeVerdict(v *view) string {
	var parts []string
	if v.Errors > 0 {
		parts = append(parts, plural(v.Errors, "error", "errors"))
	}
	if v.Warnings > 0 {
		parts = append(parts, plural(v.Warnings, "warning", "warnings"))
	}
	return fmt.Sprintf("%s: most likely cause: %s", strings.Join(parts, ", "), v.Cause)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// hopOf places a rule on the path view. Rules of the catalogue say where they
// belong; a rule the catalogue does not know (an older or newer hoofbeat
// wrote the result) falls back to the hop named after its domain.
func hopOf(name, domain string) string {
	if r, ok := rule.Lookup(name); ok {
		return r.PathHop()
	}
	return domainHop(name, domain)
}

// domainHop is the hop named after a rule's domain (taken from the name when
// empty), mapped as Rule.PathHop maps it.
func domainHop(name, domain string) string {
	if domain == "" {
		domain, _, _ = strings.Cut(name, "/")
	}
	return (&rule.Rule{Name: domain}).PathHop()
}

// cleanURL drops anything secret-shaped from an auth URL: user info, query
// and fragment.
func cleanURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable auth URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	return u.String()
}
