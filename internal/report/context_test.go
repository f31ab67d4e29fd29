package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot/snapshottest"

	"github.com/hoofbeat/hoofbeat/internal/rule"
)

func exampleReport(t *testing.T, name string) *Report {
	t.Helper()
	s := snapshottest.Example(t, name)
	return &Report{Snapshot: s, Result: rule.Evaluate(&rule.Input{Snapshot: s}, rule.Options{}), Tool: "hoofbeat test"}
}

// TestHealthyReadsHealthy: the lab's healthy snapshot, collected with
// --hosts and without --probe, reads healthy in every format: the banner
// is green (the probe not asked for is no skip), network/segment is
// context, counted as passed and never under "with findings", and its
// commands are to look with, not a fix.
func TestHealthyReadsHealthy(t *testing.T) {
	r := exampleReport(t, "healthy")
	if len(r.Result.Skipped) != 0 {
		t.Fatalf("skipped: %+v", r.Result.Skipped)
	}
	var seg *rule.Finding
	for i, f := range r.Result.Findings {
		if f.Rule == "network/segment" {
			seg = &r.Result.Findings[i]
		}
	}
	if seg == nil || !seg.Context || len(seg.Remediation) != 0 || len(seg.Look) == 0 {
		t.Fatalf("network/segment: %+v", seg)
	}
	var text, md, html, js bytes.Buffer
	if err := Text(&text, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&html, r); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&js, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if !strings.Contains(out, " 0 with findings, 0 skipped.") {
			t.Errorf("%s: counts line not healthy:\n%s", name, out)
		}
		if strings.Contains(out, "could not run") || strings.Contains(out, "SKIPPED") {
			t.Errorf("%s: says something could not be checked:\n%s", name, out)
		}
		if !strings.Contains(out, "Look") || strings.Contains(out, "Fix") {
			t.Errorf("%s: network/segment's commands not under Look:\n%s", name, out)
		}
	}
	if !strings.Contains(html.String(), `<div class="verdict ok" id="verdict">`) || !strings.Contains(html.String(), "0 with findings, 0 skipped.") {
		t.Errorf("html banner not green:\n%s", html.String())
	}
	var doc struct {
		Findings []struct {
			Rule        string   `json:"rule"`
			Context     bool     `json:"context"`
			Look        []string `json:"look"`
			Remediation []string `json:"remediation"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) != 1 || !doc.Findings[0].Context || len(doc.Findings[0].Look) == 0 || len(doc.Findings[0].Remediation) != 0 {
		t.Errorf("json findings: %+v", doc.Findings)
	}
}
