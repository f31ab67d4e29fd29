package host

import (
	"context"
	"sync"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Target is a host to check and how to reach it.
type Target struct {
	Name   string
	Roles  []string
	Runner run.Runner
	Via    string
	// Namespaces overrides how namespaces are read (netlink when local).
	Namespaces NamespaceReader
	// Probes are this host's active checks (--probe).
	Probes []ProbeTarget
	// Traces are this host's packets to trace through Open vSwitch.
	Traces []TraceSpec
}

// Fanout bounds a check of many hosts.
type Fanout struct {
	// Parallel is how many hosts are checked at once (default 16).
	Parallel int
	// Deadline bounds each host's whole check (default 60s); a host that
	// overruns it is reported with what was read in time.
	Deadline time.Duration
	// Progress, when set, is told how many hosts are done of how many
	// (what is HostsDone): once before the first and after each. Calls
	// never overlap.
	Progress func(done, total int, what string)
}

// HostsDone is what Fanout.Progress counts.
const HostsDone = "hosts checked"

// CheckAll checks every target, at most Parallel at once, each within its
// own deadline, and returns the hosts in the targets' order. A host that
// cannot be reached is recorded as such; it never fails the others.
func CheckAll(ctx context.Context, targets []Target, base Options, f Fanout) []snapshot.Host {
	par := f.Parallel
	if par <= 0 {
		par = 16
	}
	deadline := f.Deadline
	if deadline <= 0 {
		deadline = 60 * time.Second
	}
	out := make([]snapshot.Host, len(targets))
	sem := make(chan struct{}, par)
	var mu sync.Mutex
	done := 0
	tick := func(n int) {
		if f.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done += n
		f.Progress(done, len(targets), HostsDone)
	}
	tick(0)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			hctx, cancel := context.WithTimeout(ctx, deadline)
			defer cancel()
			o := base
			o.Roles, o.Via, o.Probes, o.Traces = t.Roles, t.Via, t.Probes, t.Traces
			if t.Namespaces != nil {
				o.Namespaces = t.Namespaces
			}
			out[i] = Collect(hctx, t.Runner, t.Name, o)
			tick(1)
		}()
	}
	wg.Wait()
	return out
}
