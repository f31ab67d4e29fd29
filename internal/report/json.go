package report

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/shell"
)

// SchemaVersion is the version of the JSON document (docs/output-json.md).
// Within a version keys are only ever added, never renamed or removed.
const SchemaVersion = 1

// The JSON document. Struct order is key order; every key is always present
// (empty strings, empty arrays or null as documented) so that scripts need no
// existence checks.
type jsonDoc struct {
	SchemaVersion int         `json:"schema_version"`
	Tool          string      `json:"tool"`
	CheckedAt     *string     `json:"checked_at"`
	Cloud         jsonCloud   `json:"cloud"`
	Query         string      `json:"query"`
	Server        *jsonServer `json:"server"`
	// Target is the port the query named by address, floating IP, MAC
	// or ID; absent when it named a server.
	Target        *jsonTarget   `json:"target,omitempty"`
	Flows         []jsonFlow    `json:"flows"`
	Path          []jsonHop     `json:"path"`
	Findings      []jsonFinding `json:"findings"`
	Skipped       []jsonSkip    `json:"skipped"`
	Passed        []string      `json:"passed"`
	NotApplicable []jsonSkip    `json:"not_applicable"`
	Summary       jsonSummary   `json:"summary"`
	// Hosts are the hosts checked, when any were; Probe says whether the
	// active probe ran (hoofbeat host).
	Hosts []jsonHost `json:"hosts,omitempty"`
	Probe *bool      `json:"probe,omitempty"`
}

type jsonCloud struct {
	AuthURL string `json:"auth_url"`
	Region  string `json:"region"`
	User    string `json:"user"`
	Project string `json:"project"`
	Admin   bool   `json:"admin"`
}

type jsonTarget struct {
	By           string `json:"by"`
	PortID       string `json:"port_id"`
	FloatingIPID string `json:"floating_ip_id,omitempty"`
}

type jsonServer struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Host   string `json:"host"`
}

type jsonFlow struct {
	Spec     string `json:"spec"`
	Protocol string `json:"protocol"`
	PortMin  int    `json:"port_min"`
	PortMax  int    `json:"port_max"`
	From     string `json:"from"`
}

type jsonResource struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

type jsonHop struct {
	Hop       string         `json:"hop"`
	PortID    string         `json:"port_id"`
	Status    string         `json:"status"`
	Resource  *jsonResource  `json:"resource"`
	Resources []jsonResource `json:"resources"`
	Detail    string         `json:"detail"`
	Findings  []string       `json:"findings"`
}

type jsonFinding struct {
	Rule        string       `json:"rule"`
	Severity    string       `json:"severity"`
	Domain      string       `json:"domain"`
	Hop         string       `json:"hop"`
	Subject     jsonResource `json:"subject"`
	Summary     string       `json:"summary"`
	Evidence    []string     `json:"evidence"`
	Remediation []string     `json:"remediation"`
	Verify      []string     `json:"verify"`
	CausedBy    *string      `json:"caused_by"`
	// Look and Context: a context finding's commands are for looking.
	Look    []string `json:"look,omitempty"`
	Context bool     `json:"context,omitempty"`
}

type jsonSkip struct {
	Rule    string `json:"rule"`
	Domain  string `json:"domain"`
	Reason  string `json:"reason"`
	Partial bool   `json:"partial"`
}

type jsonSummary struct {
	Errors          int     `json:"errors"`
	Warnings        int     `json:"warnings"`
	Infos           int     `json:"infos"`
	Passed          int     `json:"passed"`
	Skipped         int     `json:"skipped"`
	NotApplicable   int     `json:"not_applicable"`
	MostLikelyCause *string `json:"most_likely_cause"`
	Verdict         string  `json:"verdict"`
}

func writeJSON(w io.Writer, v *view) error { return writeDoc(w, toJSON(v)) }

// writeDoc writes one JSON document of this package, two-space indented,
// whole or not at all: it is encoded first, then written.
func writeDoc(w io.Writer, doc any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// Evidence quotes console and log lines; keep <, > and & readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func toJSON(v *view) jsonDoc {
	d := jsonDoc{
		SchemaVersion: SchemaVersion,
		Tool:          v.Tool,
		Cloud: jsonCloud{
			AuthURL: v.Cloud.AuthURL,
			Region:  v.Cloud.Region,
			User:    v.Cloud.User,
			Project: v.Cloud.Project,
			Admin:   v.Cloud.Admin,
		},
		Query:         v.Query,
		Flows:         []jsonFlow{},
		Path:          []jsonHop{},
		Findings:      []jsonFinding{},
		Skipped:       []jsonSkip{},
		Passed:        nonNil(v.Passed),
		NotApplicable: []jsonSkip{},
		Summary: jsonSummary{
			NotApplicable: len(v.NotApplicable),
			Errors:        v.Errors,
			Warnings:      v.Warnings,
			Infos:         v.Infos,
			Passed:        len(v.Passed),
			Skipped:       v.skippedRules(),
			Verdict:       v.Verdict,
		},
	}
	if !v.CheckedAt.IsZero() {
		t := v.CheckedAt.Format(time.RFC3339)
		d.CheckedAt = &t
	}
	if v.Cause != "" {
		c := v.Cause
		d.Summary.MostLikelyCause = &c
	}
	if s := v.Server; s != nil {
		d.Server = &jsonServer{ID: s.ID, Name: s.Name, Status: s.Status, Host: s.Host}
	}
	if t := v.Target; t != nil {
		d.Target = &jsonTarget{By: t.By, PortID: t.PortID, FloatingIPID: t.FloatingIPID}
	}
	for _, f := range v.Flows {
		from := ""
		if f.From.IsValid() {
			from = f.From.String()
		}
		d.Flows = append(d.Flows, jsonFlow{Spec: f.Spec, Protocol: f.Protocol, PortMin: f.PortMin, PortMax: f.PortMax, From: from})
	}
	for _, h := range v.Path {
		jh := jsonHop{
			Hop:       h.Hop,
			PortID:    h.PortID,
			Status:    string(h.Status),
			Resources: []jsonResource{},
			Detail:    h.Detail(),
			Findings:  nonNil(h.Findings),
		}
		for _, r := range h.Resources {
			jh.Resources = append(jh.Resources, jsonResource(r))
		}
		if len(jh.Resources) > 0 {
			r := jh.Resources[0]
			jh.Resource = &r
		}
		d.Path = append(d.Path, jh)
	}
	for _, f := range v.Findings {
		d.Findings = append(d.Findings, jsonFinding{
			Rule:        f.Rule,
			Severity:    f.Severity.String(),
			Domain:      f.Domain,
			Hop:         f.Hop,
			Subject:     jsonResource{Kind: f.Subject.Kind, ID: f.Subject.ID, Name: f.Subject.Name},
			Summary:     f.Summary,
			Evidence:    nonNil(f.Evidence),
			Remediation: nonNil(shell.Strings(f.Remediation)),
			Verify:      nonNil(shell.Strings(f.Verify)),
			CausedBy:    causedBy(f.CausedBy),
			Look:        shell.Strings(f.Look),
			Context:     f.Context,
		})
	}
	for _, s := range v.Skipped {
		d.Skipped = append(d.Skipped, jsonSkip{Rule: s.Rule, Domain: s.Domain, Reason: s.Reason, Partial: s.Partial})
	}
	if len(v.Hosts) > 0 {
		d.Hosts = jsonHosts(v.Hosts)
	}
	for _, s := range v.NotApplicable {
		d.NotApplicable = append(d.NotApplicable, jsonSkip{Rule: s.Rule, Domain: s.Domain, Reason: s.Reason})
	}
	return d
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func causedBy(rule string) *string {
	if rule == "" {
		return nil
	}
	return &rule
}
