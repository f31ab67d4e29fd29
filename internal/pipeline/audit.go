package pipeline

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/host"

	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Inventorier reads a project's or a cloud's inventory (*openstack.Client).
type Inventorier interface {
	Inventory(ctx context.Context, o openstack.InventoryOptions) (*openstack.Inventory, error)
}

// AuditFilter narrows the servers audited; zero values keep every server.
type AuditFilter struct {
	// Name matches server names (a regular expression).
	Name *regexp.Regexp
	// Status is a server status (ACTIVE, ERROR…), case-insensitive.
	Status string
	// Host is the server's compute host, exactly.
	Host string
}

func (f AuditFilter) keep(s *snapshot.Server) bool {
	return (f.Name == nil || f.Name.MatchString(s.Name)) &&
		(f.Status == "" || strings.EqualFold(f.Status, s.Status)) &&
		(f.Host == "" || f.Host == s.Host)
}

// AuditRequest is an audit of many servers.
type AuditRequest struct {
	From      Inventorier
	Inventory openstack.InventoryOptions
	Filter    AuditFilter
	// Hosts, when set, checks every host serving an audited server, each
	// once, and gives each server the facts of its own hosts. Select and
	// Probe are not used.
	Hosts *HostCheck
	Rules rule.Options
}

// ServerAudit is one server's diagnosis within an audit.
type ServerAudit struct {
	Snapshot *snapshot.Snapshot
	Result   rule.Result
}

// AuditResult is what an audit saw and concluded, server by server.
type AuditResult struct {
	CheckedAt time.Time
	Cloud     snapshot.Cloud
	// Gaps are the listings that could not be read (every server has
	// them too).
	Gaps    []snapshot.Gap
	Stats   openstack.InventoryStats
	Servers []ServerAudit
	// Hosts are the hosts checked, each once, with --hosts.
	Hosts []snapshot.Host
	// Evaluation is the time the rules took over every server.
	Evaluation time.Duration
}

// Audit reads the inventory once, cuts each server's neighbourhood out of
// it, checks the hosts if asked, and evaluates the catalogue per server.
func Audit(ctx context.Context, req AuditRequest) (*AuditResult, error) {
	inv, err := req.From.Inventory(ctx, req.Inventory)
	if err != nil {
		return nil, &Error{Stage: StageCollect, Err: err}
	}
	out := &AuditResult{CheckedAt: inv.Cloud.CollectedAt, Cloud: inv.Cloud.Cloud, Gaps: inv.Cloud.Gaps, Stats: inv.Stats}
	var snaps []*snapshot.Snapshot
	for i := range inv.Servers {
		if req.Filter.keep(&inv.Servers[i]) {
			snaps = append(snaps, inv.Snapshot(i))
		}
	}
	if req.Hosts != nil {
		hosts, err := auditHosts(ctx, req.Hosts, snaps)
		if err != nil {
			return nil, &Error{Stage: StageHosts, Err: err}
		}
		out.Hosts = hosts
	}
	start := time.Now()
	out.Servers = EvaluateAll(snaps, req)
	out.Evaluation = time.Since(start)
	return out, nil
}

// EvaluateAll runs the catalogue over each server's snapshot, as diagnose
// would over that server's.
func EvaluateAll(snaps []*snapshot.Snapshot, req AuditRequest) []ServerAudit {
	one := Request{Rules: req.Rules, Hosts: req.Hosts}
	out := make([]ServerAudit, 0, len(snaps))
	for _, s := range snaps {
		out = append(out, ServerAudit{Snapshot: s, Result: Evaluate(s, one)})
	}
	return out
}

// auditHosts checks every host that serves one of the servers once, with
// the union of its roles, and attaches to each server the hosts serving
// it. A server with no known host gets the gap diagnose records.
func auditHosts(ctx context.Context, hc *HostCheck, snaps []*snapshot.Snapshot) ([]snapshot.Host, error) {
	var names []string
	roles := map[string][]string{}
	serving := make([][]string, len(snaps))
	for i, s := range snaps {
		ns, rs := ServerHosts(s)
		serving[i] = ns
		for _, n := range ns {
			if _, ok := roles[n]; !ok {
				names = append(names, n)
				roles[n] = nil
			}
			for _, r := range rs[n] {
				if !slices.Contains(roles[n], r) {
					roles[n] = append(roles[n], r)
				}
			}
		}
	}
	var hosts []snapshot.Host
	if len(names) > 0 {
		var err error
		if hosts, err = checkHosts(ctx, hc.Reach, names, roles, nil, nil, host.Options{}, hc.Fanout); err != nil {
			return nil, err
		}
	}
	byName := map[string]snapshot.Host{}
	for _, h := range hosts {
		byName[h.Name] = h
	}
	for i, s := range snaps {
		if len(serving[i]) == 0 {
			gap := snapshot.Gap{Source: snapshot.SourceHosts, Kind: snapshot.GapError, Reason: "no host is known for the server"}
			if g := s.Gap(snapshot.SourceAgents); g != nil {
				gap.Kind, gap.Reason = g.Kind, "the agents and the server's host are not known: "+g.Reason
			}
			s.Gaps = append(s.Gaps, gap)
			continue
		}
		for _, n := range serving[i] {
			if h, ok := byName[n]; ok {
				s.Hosts = append(s.Hosts, h)
			}
		}
	}
	return hosts, nil
}

// Worst is the most severe finding of the audit.
func (r *AuditResult) Worst() rule.Severity {
	var w rule.Severity
	for i := range r.Servers {
		w = max(w, r.Servers[i].Result.Worst())
	}
	return w
}
