package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hoofbeat/hoofbeat/internal/diff"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/visible"
)

// DiffOptions holds "hoofbeat diff"'s flags.
type DiffOptions struct {
	IO     *IOStreams
	Output string
	ruleFlags
}

// NewCmdDiff builds "hoofbeat diff OLD NEW".
func NewCmdDiff(io *IOStreams) *cobra.Command {
	o := &DiffOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "diff OLD.json NEW.json",
		Short: "Show what changed between two snapshots of a server",
		Long: `Compare two snapshots that "hoofbeat collect" wrote (- is stdin for one of
them): what changed on the server's path — security-group rules added or
removed, the status and admin state of the server, its ports, networks,
subnets, routers, floating IPs and agents, devices and namespaces gone or
down on its hosts, firewall rules added or removed — and which findings
appeared and which cleared, the rules evaluated over each snapshot.
Heartbeats, timestamps, packet counters and the collection's statistics
are not changes.

Exit status, as diff(1): 0 nothing changed, 1 something changed, 2 usage
error (a file that cannot be read).`,
		Example: `  hoofbeat collect vm1 --out before.json
  # … change something …
  hoofbeat collect vm1 --out after.json
  hoofbeat diff before.json after.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError("diff takes two snapshot files, OLD and NEW, got %d arguments", len(args))
			}
			if args[0] == "-" && args[1] == "-" {
				return usageError("diff: only one of OLD and NEW can be stdin")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return diffRun(o, args[0], args[1]) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Output, "output", "o", "text", "output format: text or json")
	o.ruleFlags.register(cmd)
	return cmd
}

func diffRun(o *DiffOptions, oldPath, newPath string) error {
	if o.Output != "text" && o.Output != "json" {
		return usageError("--output %q: want text or json", o.Output)
	}
	opt, err := o.ruleFlags.options(o.IO.Getenv)
	if err != nil {
		return err
	}
	old, err := readSnapshotAs("", oldPath, o.IO)
	if err != nil {
		return err
	}
	now, err := readSnapshotAs("", newPath, o.IO)
	if err != nil {
		return err
	}
	req := pipeline.Request{Rules: opt}
	rep := diff.Compare(old, now, pipeline.Evaluate(old, req), pipeline.Evaluate(now, req))
	if o.Output == "json" {
		err = writeDiffJSON(o.IO.Out, old, now, &rep)
	} else {
		err = writeDiffText(o.IO.Out, old, now, &rep)
	}
	if err != nil {
		return err
	}
	if !rep.Empty() {
		return errFindings // exit 1, as diff(1): the report says what changed
	}
	return nil
}

// subjectOf names what a snapshot is of: its server, or its port.
func subjectOf(s *snapshot.Snapshot) string {
	switch {
	case s.Server != nil:
		return fmt.Sprintf("server %s (%s)", s.Server.Name, s.Server.ID)
	case s.Target != nil:
		return "port " + s.Target.PortID
	}
	return s.Query
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func writeDiffText(w io.Writer, old, now *snapshot.Snapshot, rep *diff.Report) error {
	var b strings.Builder
	v := visible.String
	if a, z := subjectOf(old), subjectOf(now); a != z {
		fmt.Fprintf(&b, "Old      %s, %s\nNew      %s, %s\n", v(a), stamp(old.CollectedAt), v(z), stamp(now.CollectedAt))
	} else {
		fmt.Fprintf(&b, "Compared %s: %s → %s\n", v(a), stamp(old.CollectedAt), stamp(now.CollectedAt))
	}
	writeChanges(&b, rep)
	fmt.Fprintf(&b, "\nVERDICT  %s\n", diffVerdict(rep))
	_, err := io.WriteString(w, b.String())
	return err
}

// writeChanges writes the CHANGED and FINDINGS sections (none when
// nothing changed): diff's body, and each round of diagnose --watch.
func writeChanges(b *strings.Builder, rep *diff.Report) {
	v := visible.String
	if len(rep.Changes) > 0 {
		b.WriteString("\nCHANGED  on the server's path\n")
		for _, c := range rep.Changes {
			fmt.Fprintf(b, "  %s\n", v(changeText(c)))
		}
	}
	if len(rep.Appeared)+len(rep.Cleared) > 0 {
		b.WriteString("\nFINDINGS  + appeared, - cleared\n")
		for _, f := range rep.Appeared {
			fmt.Fprintf(b, "  + %-8s %s: %s\n", strings.ToUpper(f.Severity.String()), f.Rule, v(f.Summary))
		}
		for _, f := range rep.Cleared {
			fmt.Fprintf(b, "  - %-8s %s: %s\n", strings.ToUpper(f.Severity.String()), f.Rule, v(f.Summary))
		}
	}
}

// changeText is one line: "port vm1-port 5221…: status ACTIVE → DOWN".
func changeText(c diff.Change) string {
	who := c.Kind + " " + strings.TrimSpace(c.Name+" "+c.ID)
	if c.Kind == "host" {
		who = "host " + c.ID
		if c.Name != "" {
			who += " " + c.Name
		}
	}
	switch {
	case c.Old != "" && c.New != "":
		return fmt.Sprintf("%s: %s %s → %s", who, c.What, c.Old, c.New)
	case c.Old != "":
		return fmt.Sprintf("%s: %s: %s", who, c.What, c.Old)
	case c.New != "":
		return fmt.Sprintf("%s: %s: %s", who, c.What, c.New)
	}
	return fmt.Sprintf("%s: %s", who, c.What)
}

func diffVerdict(rep *diff.Report) string {
	if rep.Empty() {
		return "nothing changed"
	}
	return fmt.Sprintf("%s on the path; %s appeared, %d cleared",
		plural(len(rep.Changes), "change", "changes"), plural(len(rep.Appeared), "finding", "findings"), len(rep.Cleared))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// The JSON document of "hoofbeat diff -o json" (docs/output-json.md).
type diffDoc struct {
	SchemaVersion int             `json:"schema_version"`
	Old           diffSide        `json:"old"`
	New           diffSide        `json:"new"`
	Changes       []diff.Change   `json:"changes"`
	Appeared      []diffFinding   `json:"appeared"`
	Cleared       []diffFinding   `json:"cleared"`
	Summary       diffSummaryJSON `json:"summary"`
}

type diffSide struct {
	Query       string `json:"query"`
	Subject     string `json:"subject"`
	CollectedAt string `json:"collected_at"`
}

type diffFinding struct {
	Rule     string       `json:"rule"`
	Severity string       `json:"severity"`
	Subject  rule.Subject `json:"subject"`
	Summary  string       `json:"summary"`
}

type diffSummaryJSON struct {
	Changed bool   `json:"changed"`
	Verdict string `json:"verdict"`
}

func writeDiffJSON(w io.Writer, old, now *snapshot.Snapshot, rep *diff.Report) error {
	side := func(s *snapshot.Snapshot) diffSide {
		d := diffSide{Query: s.Query, Subject: subjectOf(s)}
		if !s.CollectedAt.IsZero() {
			d.CollectedAt = s.CollectedAt.UTC().Format(time.RFC3339)
		}
		return d
	}
	findings := func(fs []rule.Finding) []diffFinding {
		out := []diffFinding{}
		for _, f := range fs {
			out = append(out, diffFinding{Rule: f.Rule, Severity: f.Severity.String(), Subject: f.Subject, Summary: f.Summary})
		}
		return out
	}
	doc := diffDoc{
		SchemaVersion: 1, Old: side(old), New: side(now), Changes: rep.Changes,
		Appeared: findings(rep.Appeared), Cleared: findings(rep.Cleared),
		Summary: diffSummaryJSON{Changed: !rep.Empty(), Verdict: diffVerdict(rep)},
	}
	if doc.Changes == nil {
		doc.Changes = []diff.Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
