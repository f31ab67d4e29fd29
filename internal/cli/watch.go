package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/hoofbeat/hoofbeat/internal/diff"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/report"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/visible"
)

// diagnose --watch re-collects and re-evaluates, round after round, with
// the connection (and its token) of the first: each round is the walk's
// requests alone. After the first report, a round prints only what
// changed — hops whose status changed, resources on the path, findings
// that appeared or cleared — and nothing when nothing did. It ends with
// Ctrl-C (exit 130), or with --until-healthy once no error finding is
// left (exit 0).

// defaultWatch is --watch's interval when none is given; minWatch keeps a
// typo (--watch=1ms) from hammering the cloud.
const (
	defaultWatch = 10 * time.Second
	minWatch     = time.Second
)

func watchFlags(fl *pflag.FlagSet, o *DiagnoseOptions) {
	fl.DurationVar(&o.Watch, "watch", 0, fmt.Sprintf("diagnose again every INTERVAL (--watch=30s; default %s) until interrupted, printing only what changed", defaultWatch))
	fl.Lookup("watch").NoOptDefVal = defaultWatch.String()
	fl.BoolVar(&o.UntilHealthy, "until-healthy", false, "with --watch (implied): stop, exit 0, once no error finding is left")
}

func (o *DiagnoseOptions) watching() bool { return o.Watch > 0 || o.UntilHealthy }

func (o *DiagnoseOptions) checkWatch() error {
	if !o.watching() {
		return nil
	}
	if o.Watch == 0 {
		o.Watch = defaultWatch
	}
	switch {
	case o.Watch < minWatch:
		return usageError("--watch=%s: the interval must be at least %s", o.Watch, minWatch)
	case o.Output != "text":
		return usageError("--watch prints the changes as text; --output %s has no rounds", o.Output)
	case o.FromFile != "" || o.fromFileGiven():
		return usageError("--watch reads the cloud again and again; a --from snapshot never changes")
	}
	return nil
}

// fromFileGiven reports whether a --from names a snapshot file (checked
// before splitFroms runs).
func (o *DiagnoseOptions) fromFileGiven() bool {
	_, file, err := splitFroms(o.Froms)
	return err == nil && file != ""
}

// watch runs the rounds after the first, whose report is printed.
func (o *DiagnoseOptions) watch(ctx context.Context, req pipeline.Request, prev *report.Report, p *progress) error {
	if o.Redact {
		prev = report.Redact(prev)
	}
	if o.UntilHealthy && prev.Result.Worst() < rule.Error {
		return nil
	}
	for round := 2; ; round++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.Watch):
		}
		res, err := pipeline.Run(ctx, req)
		p.clear()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			// A cloud that does not answer for a round is reported, and
			// watched still: it may be what is being mended.
			fmt.Fprintf(o.IO.ErrOut, "hoofbeat: round %d: %v\n", round, pipelineError(err))
			continue
		}
		cur := &report.Report{Snapshot: res.Snapshot, Result: res.Result, Flows: prev.Flows, Tool: prev.Tool}
		if o.Redact {
			cur = report.Redact(cur)
		}
		if err := o.writeRound(round, prev, cur); err != nil {
			return err
		}
		prev = cur
		if o.UntilHealthy && res.Result.Worst() < rule.Error {
			return nil
		}
	}
}

// writeRound prints what changed from prev to cur; nothing when nothing
// did.
func (o *DiagnoseOptions) writeRound(round int, prev, cur *report.Report) error {
	hops := report.HopChanges(prev, cur)
	d := diff.Compare(prev.Snapshot, cur.Snapshot, prev.Result, cur.Result)
	if len(hops) == 0 && d.Empty() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nROUND %d  %s\n", round, cur.Snapshot.CollectedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	if !o.Quiet {
		if len(hops) > 0 {
			b.WriteString("\nPATH  hops whose state changed\n")
			for _, h := range hops {
				was := h.Old
				if was == "" {
					was = "new"
				}
				now := h.New
				if now == "" {
					now = "gone"
				}
				fmt.Fprintf(&b, "  %-16s %s → %s  %s\n", h.Hop, was, now, visible.String(h.Detail))
			}
		}
		writeChanges(&b, &d)
	}
	fmt.Fprintf(&b, "\nVERDICT  %s\n", visible.String(report.Verdict(cur)))
	_, err := fmt.Fprint(o.IO.Out, b.String())
	return err
}
