// Package report renders a diagnosis: the path view (instance → port → … →
// floating IP), the ranked findings with their evidence and fix, the checks
// that could not run and a one-line verdict.
//
// Renderers read the snapshot and the rule result and nothing else; the only
// I/O they do is writing to the io.Writer they are given. Every renderer works
// from the same view (build), so the terminal text, the JSON document and the
// Markdown/HTML renderers to come say the same thing in the same order.
package report

import (
	"errors"
	"io"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Report is what a renderer reads.
type Report struct {
	Snapshot *snapshot.Snapshot
	Result   rule.Result
	// Flows are the --check questions the operator asked.
	Flows []rule.Flow
	// Tool is hoofbeat's version string ("hoofbeat 0.4.0").
	Tool string
}

// TextOptions tune the terminal renderer.
type TextOptions struct {
	// Color turns on ANSI colours; the CLI sets it only on a TTY.
	Color bool
	// Width wraps prose to this many columns when > 0. Commands are never
	// wrapped, so that they can be pasted.
	Width int
	// Quiet writes only the VERDICT line (diagnose -q), for scripts and
	// for a glance; the exit code says the rest.
	Quiet bool
}

var errNoSnapshot = errors.New("report: no snapshot to render")

// Text writes the human-readable report: path view, findings, skipped checks
// and the verdict.
func Text(w io.Writer, r *Report, o TextOptions) error {
	if r == nil || r.Snapshot == nil {
		return errNoSnapshot
	}
	return writeText(w, build(r), o)
}

// JSON writes the report as the stable document described in
// docs/output-json.md (schema docs/output.schema.json).
func JSON(w io.Writer, r *Report) error {
	if r == nil || r.Snapshot == nil {
		return errNoSnapshot
	}
	return writeJSON(w, build(r))
}
