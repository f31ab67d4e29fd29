// Package pipeline is the one path from a question to a verdict: collect a
// snapshot (from the cloud, or a file collected earlier), check the hosts
// serving the server, and evaluate the rule catalogue over what was seen.
// Every verb calls it; verbs keep their flags and their rendering. Nothing
// here prints: what failed comes back as an *Error naming its stage.
package pipeline

import (
	"context"
	"maps"

	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Collector reads a server and its neighbourhood into a snapshot: the
// cloud (*openstack.Client), or a snapshot collected earlier (Stored).
type Collector interface {
	Collect(ctx context.Context, server string, o openstack.CollectOptions) (*snapshot.Snapshot, error)
}

// Request is one diagnosis.
type Request struct {
	// Server is the server, by ID or exact name. With a Stored snapshot it
	// may be empty: the snapshot's own server.
	Server string
	// From reads the server.
	From Collector
	// Collect says what to read beyond the server's neighbourhood.
	Collect openstack.CollectOptions
	// Hosts, when set, checks the hosts that serve the server. When nil,
	// the host rules do not run, unless the snapshot carries its hosts (a
	// file collected with them).
	Hosts *HostCheck
	// Flows are the operator's --check questions.
	Flows []rule.Flow
	// Rules are the rules excluded and the severities overridden.
	Rules rule.Options
}

// Result is what a diagnosis saw and concluded.
type Result struct {
	Snapshot *snapshot.Snapshot
	Result   rule.Result
}

// Stage names a step of the pipeline.
type Stage string

const (
	// StageCollect is reading the server: its errors are the Collector's
	// (an *openstack.Error, a *MismatchError).
	StageCollect Stage = "collect"
	// StageHosts is reaching and checking the hosts: its errors are the
	// HostCheck's own, or saving what was recorded.
	StageHosts Stage = "hosts"
)

// Error is a stage that failed. It says what the stage's error says; the
// stage tells a caller how to map it (a cloud that could not be reached is
// not a host that could not be).
type Error struct {
	Stage Stage
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Run collects the snapshot, checks the hosts if asked, and evaluates the
// catalogue.
func Run(ctx context.Context, req Request) (*Result, error) {
	snap, err := Collect(ctx, req)
	if err != nil {
		return nil, err
	}
	return &Result{Snapshot: snap, Result: Evaluate(snap, req)}, nil
}

// Collect reads the snapshot and, when req.Hosts is set, checks the hosts
// serving the server into it: what "hoofbeat collect" saves.
func Collect(ctx context.Context, req Request) (*snapshot.Snapshot, error) {
	snap, err := req.From.Collect(ctx, req.Server, req.Collect)
	if err != nil {
		return nil, &Error{Stage: StageCollect, Err: err}
	}
	if req.Hosts != nil {
		if err := req.Hosts.attach(ctx, snap, req.Flows); err != nil {
			return nil, &Error{Stage: StageHosts, Err: err}
		}
	}
	return snap, nil
}

// Evaluate runs the catalogue over a snapshot collected for req. The host
// rules run only when the hosts were asked for or the snapshot carries
// them: otherwise they would all say "could not check" about hosts nobody
// meant to check.
func Evaluate(snap *snapshot.Snapshot, req Request) rule.Result {
	opt := req.Rules
	if req.Hosts == nil && len(snap.Hosts) == 0 {
		opt.Exclude = maps.Clone(opt.Exclude)
		if opt.Exclude == nil {
			opt.Exclude = map[string]bool{}
		}
		for _, r := range rule.Catalogue() {
			if r.Domain() == "host" {
				opt.Exclude[r.Name] = true
			}
		}
	}
	return rule.Evaluate(&rule.Input{Snapshot: snap, Flows: req.Flows}, opt)
}
