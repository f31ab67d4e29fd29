// Package rule holds hoofbeat's catalogue of checks. A rule is a pure
// function of a snapshot: no I/O, no context. Each has a stable name
// (domain/what-is-wrong) that scripts, tests and suppression lists rely on;
// names are never renamed.
package rule

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// Severity orders findings; the zero value is invalid on purpose.
type Severity int

// Severities, least to most severe.
const (
	Info Severity = iota + 1
	Warning
	Error
)

var severityNames = map[Severity]string{Info: "info", Warning: "warning", Error: "error"}

func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the severity as its lower-case name.
func (s Severity) MarshalText() ([]byte, error) {
	n, ok := severityNames[s]
	if !ok {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(n), nil
}

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity reads info, warning or error.
func ParseSeverity(name string) (Severity, error) {
	for s, n := range severityNames {
		if strings.EqualFold(n, name) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or error)", name)
}

// Domains in walk order: the smallest domain first, widening outward.
var Domains = []string{
	"instance", "port", "security-group", "subnet", "network",
	"agent", "router", "floating-ip", "ovn", "host",
}

func domainRank(d string) int {
	for i, x := range Domains {
		if x == d {
			return i
		}
	}
	return len(Domains)
}

// Hops of the path view, from the instance outward.
const (
	HopInstance       = "instance"
	HopPort           = "port"
	HopSecurityGroups = "security-groups"
	HopSubnet         = "subnet"
	HopNetwork        = "network"
	HopDHCP           = "dhcp"
	HopRouter         = "router"
	HopGateway        = "gateway"
	HopFloatingIP     = "floating-ip"
	// HopOVN is OVN's logical path of a port, on ML2/OVN clouds whose
	// databases were read: LSP, switch, router port, gateway chassis, NAT.
	HopOVN   = "ovn"
	HopHosts = "hosts"
)

// Hops lists the path view's hops in order.
var Hops = []string{HopInstance, HopPort, HopSecurityGroups, HopSubnet, HopNetwork, HopDHCP, HopRouter, HopGateway, HopFloatingIP, HopOVN, HopHosts}

// PathHop returns the hop of the path view this rule's findings belong to.
func (r *Rule) PathHop() string {
	if r.Hop != "" {
		return r.Hop
	}
	switch d := r.Domain(); d {
	case "security-group":
		return HopSecurityGroups
	case "agent":
		return HopNetwork
	case "host":
		return HopHosts
	default:
		return d
	}
}

// Subject is the resource a finding is about.
type Subject struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Finding is one verdict with its evidence and the fix.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Domain   string   `json:"domain"`
	Subject  Subject  `json:"subject"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence"`
	// Remediation are the command lines the operator can paste, in order
	// (a step that is not a command is a comment line).
	Remediation []shell.Cmd `json:"remediation,omitempty"`
	// Verify are the command lines that confirm the fix worked.
	Verify []shell.Cmd `json:"verify,omitempty"`
	// CausedBy is the rule of the finding that explains this one: its
	// cause, ranked before it. The engine sets it from the catalogue's
	// links (Rule.Causes).
	CausedBy string `json:"caused_by,omitempty"`
	// Causes narrows, for this finding, the rules that can explain it
	// (its rule's Causes otherwise): a rule whose findings say different
	// things has different causes for each.
	Causes []*Rule `json:"-"`
	// Port is the Neutron port a finding about a host is for (the VIF
	// whose packets it follows): that port's own findings can explain it.
	Port string `json:"-"`
	// Host is the host a finding about something else (a router's or a
	// network's namespace) was made on: that host's findings can explain it.
	Host string `json:"-"`
	// Devices are the devices the finding is about, for the path picture.
	Devices []DeviceRef `json:"-"`
	// Look are commands to look with, for a context finding: not a fix.
	Look []shell.Cmd `json:"look,omitempty"`
	// Context is set on the findings of a Context rule.
	Context bool `json:"context,omitempty"`
	// explainsNothing marks a finding that is reported but causes nothing
	// (a denial SELinux only logged, in permissive mode).
	explainsNothing bool
}

// Skip records a rule that could not be evaluated, and why.
type Skip struct {
	Rule   string `json:"rule"`
	Domain string `json:"domain"`
	Reason string `json:"reason"`
	// Partial is true when the rule did run but could not check part of
	// what it looks at (one port's binding, one network's ports…); its
	// findings, if any, cover the rest.
	Partial bool `json:"partial,omitempty"`
}

// Input is what a rule reads.
type Input struct {
	Snapshot *snapshot.Snapshot
	// Flows are the operator's --check/--from questions.
	Flows []Flow

	// unchecked collects, while one rule runs, what it could not check.
	unchecked []string
	// derived is what the rules derive from the snapshot, once per
	// evaluation: each rule runs on a copy of the input that shares it.
	derived *derived
}

// derived holds what several rules read and only one should compute.
type derived struct {
	view *topology.View
	// scan is the console log's reading, for the console rules.
	scan *consoleScan
	// devices are the devices on the server's path, for the dataplane
	// rules; read says they were listed.
	devices []pathDevice
	read    bool
}

func (in *Input) cache() *derived {
	if in.derived == nil {
		in.derived = &derived{}
	}
	return in.derived
}

// View is what the snapshot means for the server (package topology): derived
// once per evaluation, shared by every rule.
func (in *Input) View() *topology.View {
	c := in.cache()
	if c.view == nil {
		c.view = topology.New(in.Snapshot)
	}
	return c.view
}

// uncheck records that part of what the running rule looks at could not be
// checked, so that it is reported as skipped instead of passing silently.
func (in *Input) uncheck(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, u := range in.unchecked {
		if u == msg {
			return
		}
	}
	in.unchecked = append(in.unchecked, msg)
}

// Rule is one entry of the catalogue.
type Rule struct {
	// Name is domain/what-is-wrong and never changes.
	Name string
	// Severity is the default severity of the rule's findings.
	Severity Severity
	// Title is a one-line description.
	Title string
	// Doc explains the failure mode and how it is detected (hoofbeat explain).
	Doc string
	// Fix describes the remediation in general terms.
	Fix string
	// Needs lists snapshot sources; a gap in any of them skips the rule
	// with that gap's reason.
	Needs []string
	// Hop places the rule on the path view (instance → … → floating IP);
	// empty means the hop named like the rule's domain.
	Hop string
	// NoServer is true for rules that also run on a snapshot without a
	// server (hoofbeat host checks hosts on their own).
	NoServer bool
	// NotApplicable, when set, says why the rule does not apply to this
	// cloud ("" when it does): an ML2 agent rule on ML2/OVN, a Linux bridge
	// rule where no Linux bridge agent runs. Such a rule neither passes nor
	// is skipped: it is reported apart, as not applicable.
	NotApplicable func(s *snapshot.Snapshot) string
	// Causes are the rules whose findings explain this rule's, in the order
	// to prefer them: when one of them has a finding on the same server
	// path, subject or host, this rule's finding is its symptom. The engine
	// then ranks it after the cause, at info, pointing at it.
	Causes []*Rule
	// CauseWording introduces the cause in a symptom's summary ("the guest
	// confirms"); "it follows from" by default.
	CauseWording string
	// Context marks a rule whose findings are context for the reader (how
	// the network reaches the hosts), not faults: they are not counted
	// among the findings, and their commands are for looking (Look).
	Context bool
	// Check returns the rule's findings. Severity, Domain and Rule are
	// filled in by the engine when left zero.
	Check func(in *Input) []Finding
}

// Domain is the part of the name before the slash.
func (r *Rule) Domain() string {
	d, _, _ := strings.Cut(r.Name, "/")
	return d
}

// Options tune an evaluation.
type Options struct {
	// Exclude names rules not to run.
	Exclude map[string]bool
	// Severity overrides a rule's default severity.
	Severity map[string]Severity
	// hostsOnly is set by EvaluateHosts: the rules that need a server do
	// not apply to hosts checked on their own.
	hostsOnly bool
}

// Result is the outcome of running the catalogue over a snapshot.
type Result struct {
	Findings []Finding `json:"findings"`
	// Skipped are the rules that could not run, and the parts of rules that
	// ran but could not check everything (Partial).
	Skipped []Skip `json:"skipped"`
	// Passed are the rules that ran, checked everything and found nothing.
	Passed []string `json:"passed"`
	// NotApplicable are the rules that do not apply to this cloud, and why.
	NotApplicable []Skip `json:"not_applicable"`
}

// Worst returns the highest severity among the findings, or 0.
func (r *Result) Worst() Severity {
	var w Severity
	for _, f := range r.Findings {
		if f.Severity > w {
			w = f.Severity
		}
	}
	return w
}

// Evaluate runs every catalogue rule over the input and ranks the findings:
// most severe first, then by domain from the instance outward, then by
// catalogue order (common causes before exotic ones).
func Evaluate(in *Input, opt Options) Result {
	return evaluate(Catalogue(), in, opt)
}

func evaluate(rules []*Rule, in *Input, opt Options) Result {
	res := Result{Findings: []Finding{}, Skipped: []Skip{}, Passed: []string{}, NotApplicable: []Skip{}}
	order := map[string]int{}
	// A fresh cache per evaluation, which every rule's copy of the input
	// shares: the caller may evaluate again after changing the snapshot.
	fresh := *in
	fresh.derived = &derived{}
	in = &fresh
	var forPort map[*Rule]bool
	if in.Snapshot != nil && in.Snapshot.PortOnly() {
		forPort = portRules()
	}
	for i, r := range rules {
		order[r.Name] = i
		if opt.Exclude[r.Name] {
			continue
		}
		if forPort != nil && !r.NoServer && !opt.hostsOnly {
			if why := notForPort(in.Snapshot, r, forPort); why != "" {
				res.NotApplicable = append(res.NotApplicable, Skip{Rule: r.Name, Domain: r.Domain(), Reason: why})
				continue
			}
		} else if in.Snapshot == nil || (in.Snapshot.Server == nil && !r.NoServer) {
			if opt.hostsOnly {
				res.NotApplicable = append(res.NotApplicable, Skip{Rule: r.Name, Domain: r.Domain(), Reason: "it needs a server: hoofbeat diagnose SERVER --hosts runs it"})
				continue
			}
			res.Skipped = append(res.Skipped, Skip{Rule: r.Name, Domain: r.Domain(), Reason: "no server in the snapshot"})
			continue
		}
		// Not applicable before skipped: ML2/OVN answers 404 for the DHCP
		// and L3 agents' hostings, which the agents' rules need, but those
		// rules do not apply there at all.
		if r.NotApplicable != nil {
			if why := r.NotApplicable(in.Snapshot); why != "" {
				res.NotApplicable = append(res.NotApplicable, Skip{Rule: r.Name, Domain: r.Domain(), Reason: why})
				continue
			}
		}
		if reason, skip := missing(in.Snapshot, r.Needs); skip {
			res.Skipped = append(res.Skipped, Skip{Rule: r.Name, Domain: r.Domain(), Reason: reason})
			continue
		}
		run := *in
		run.unchecked = nil
		fs := r.Check(&run)
		for _, u := range run.unchecked {
			res.Skipped = append(res.Skipped, Skip{Rule: r.Name, Domain: r.Domain(), Reason: u, Partial: true})
		}
		if len(fs) == 0 {
			if len(run.unchecked) == 0 {
				res.Passed = append(res.Passed, r.Name)
			}
			continue
		}
		for _, f := range fs {
			if f.Rule == "" {
				f.Rule = r.Name
			}
			if f.Domain == "" {
				f.Domain = r.Domain()
			}
			if f.Severity == 0 {
				f.Severity = r.Severity
			}
			if s, ok := opt.Severity[f.Rule]; ok {
				f.Severity = s
			}
			if f.Evidence == nil {
				f.Evidence = []string{}
			}
			f.Context = r.Context
			res.Findings = append(res.Findings, f)
		}
	}
	link(rules, res.Findings)
	sort.SliceStable(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if da, db := domainRank(a.Domain), domainRank(b.Domain); da != db {
			return da < db
		}
		return order[a.Rule] < order[b.Rule]
	})
	return res
}

// link applies the catalogue's cause links: a finding whose rule (or the
// finding itself) names causes, one of which has a related finding, is that
// cause's symptom. Causes are looked up by value, never by a rule's name
// written out, and the first declared cause with a finding wins.
func link(rules []*Rule, fs []Finding) {
	byName := make(map[string]*Rule, len(rules))
	for _, r := range rules {
		byName[r.Name] = r
	}
	// A cause is quoted as it was found, not as its own cause explained it.
	summaries := make([]string, len(fs))
	for i := range fs {
		summaries[i] = fs[i].Summary
	}
	for i := range fs {
		r := byName[fs[i].Rule]
		causes := fs[i].Causes
		if causes == nil && r != nil {
			causes = r.Causes
		}
		for _, c := range causes {
			j := slices.IndexFunc(fs, func(g Finding) bool { return g.Rule == c.Name && !g.explainsNothing && related(fs[i], g) })
			if j < 0 || j == i {
				continue
			}
			wording := "it follows from"
			if r != nil && r.CauseWording != "" {
				wording = r.CauseWording
			}
			f := &fs[i]
			f.CausedBy = c.Name
			f.Severity = Info
			f.Summary += fmt.Sprintf(" — %s %s: %s", wording, c.Name, summaries[j])
			f.Evidence = append(f.Evidence, fmt.Sprintf("explained by %s: %s", c.Name, summaries[j]))
			f.Remediation = cmds(cmd("hoofbeat", "explain", c.Name).Comment("the fix is there"))
			break
		}
	}
}

// related reports whether a cause's finding can explain a symptom's: the
// same subject, the same host (an agent's host included), or a symptom
// about the server itself, which everything on its path can explain (a
// snapshot is one server's).
func related(symptom, cause Finding) bool {
	switch {
	case symptom.Subject.Kind == "server":
		return true
	case symptom.Subject.ID != "" && symptom.Subject.ID == cause.Subject.ID:
		return true
	case symptom.Port != "" && symptom.Port == cause.Subject.ID:
		return true
	case symptom.Host != "" && cause.Subject.Kind == "host" && symptom.Host == cause.Subject.Name:
		return true
	case symptom.Subject.Kind == "host" && cause.Subject.Kind == "host" && symptom.Subject.Name == cause.Subject.Name:
		return true
	case symptom.Subject.Kind == "agent" && cause.Subject.Kind == "host" && cause.Subject.Name != "" && strings.HasSuffix(symptom.Subject.Name, " on "+cause.Subject.Name):
		// An agent's subject is named "TYPE on HOST" (agentSubject).
		return true
	}
	return false
}

// missing reports the first needed source with a gap, phrased for the operator.
func missing(s *snapshot.Snapshot, needs []string) (string, bool) {
	for _, src := range needs {
		if g := s.Gap(src); g != nil {
			return gapReason(g), true
		}
	}
	return "", false
}

// gapReason phrases why a source could not be seen, by the gap's kind:
// the one place that says "needs admin: " or "unauthorized: ".
func gapReason(g *snapshot.Gap) string {
	switch g.Kind {
	case snapshot.GapForbidden:
		// Snapshots of older hoofbeats carry the prefix already.
		return "needs admin: " + strings.TrimPrefix(g.Reason, "needs admin: ")
	case snapshot.GapUnauthorized:
		return "unauthorized: " + g.Reason
	default:
		return fmt.Sprintf("could not read %s: %s", g.Source, g.Reason)
	}
}

// Lookup returns the catalogue rule with the given name.
func Lookup(name string) (*Rule, bool) {
	for _, r := range Catalogue() {
		if r.Name == name {
			return r, true
		}
	}
	return nil, false
}
