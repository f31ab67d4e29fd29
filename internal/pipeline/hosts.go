package pipeline

import (
	"context"
	"net/netip"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// Reach gives each named host a way to be reached (this machine, SSH, a
// replay…). release is called once every host has been checked: it closes
// connections and saves recordings, and its error is the check's.
type Reach func(names []string, roles map[string][]string) (targets []host.Target, release func() error, err error)

// HostCheck says how to check the hosts that serve a server.
type HostCheck struct {
	// Select names the hosts that serve the server, with their roles; nil
	// takes them from the snapshot's topology (ServerHosts).
	Select func(*snapshot.Snapshot) (names []string, roles map[string][]string)
	// Probe runs the active check (--probe): a ping of the server from its
	// network's DHCP namespace on each DHCP agent's host.
	Probe  bool
	Reach  Reach
	Fanout host.Fanout
}

// ServerHosts returns the hosts that serve the server, with their roles,
// as the snapshot's topology derives them.
func ServerHosts(s *snapshot.Snapshot) ([]string, map[string][]string) {
	var names []string
	roles := map[string][]string{}
	for _, h := range topology.New(s).Hosts {
		names = append(names, h.Name)
		roles[h.Name] = h.RoleNames()
	}
	return names, roles
}

// ProbeTargets are the server's fixed IPv4 addresses, pinged from the
// qdhcp namespace of their network on each DHCP agent's host.
func ProbeTargets(s *snapshot.Snapshot) map[string][]host.ProbeTarget {
	out := map[string][]host.ProbeTarget{}
	for _, p := range s.Ports {
		for _, h := range topology.DHCPHosts(s, p.NetworkID) {
			for _, f := range p.FixedIPs {
				if a, err := netip.ParseAddr(f.IPAddress); err != nil || !a.Is4() {
					continue
				}
				out[h] = append(out[h], host.ProbeTarget{Namespace: "qdhcp-" + p.NetworkID, IP: f.IPAddress})
			}
		}
	}
	return out
}

// attach checks the server's hosts into the snapshot. A server with no
// known host is a gap, not an error.
func (hc *HostCheck) attach(ctx context.Context, snap *snapshot.Snapshot, flows []rule.Flow) error {
	sel := hc.Select
	if sel == nil {
		sel = ServerHosts
	}
	names, roles := sel(snap)
	if len(names) == 0 {
		gap := snapshot.Gap{Source: snapshot.SourceHosts, Kind: snapshot.GapError, Reason: "no host is known for the server"}
		if g := snap.Gap(snapshot.SourceAgents); g != nil {
			// Hidden from a non-admin, or unseen after a 401: as the agents.
			gap.Kind, gap.Reason = g.Kind, "the agents and the server's host are not known: "+g.Reason
		}
		snap.Gaps = append(snap.Gaps, gap)
		return nil
	}
	var probes map[string][]host.ProbeTarget
	if hc.Probe {
		probes = ProbeTargets(snap)
	}
	hosts, err := checkHosts(ctx, hc.Reach, names, roles, probes, TraceTargets(snap, flows), hc.Fanout)
	snap.Hosts = hosts
	return err
}

// HostsRequest is a check of hosts on their own ("hoofbeat host"): no
// server, no cloud, only the host rules.
type HostsRequest struct {
	// Names are the hosts to check.
	Names  []string
	Reach  Reach
	Fanout host.Fanout
	Rules  rule.Options
}

// CheckHosts checks the hosts and evaluates the host rules over them. A
// host that cannot be reached is in the result as such, not an error.
func CheckHosts(ctx context.Context, req HostsRequest) (*Result, error) {
	hosts, err := checkHosts(ctx, req.Reach, req.Names, nil, nil, nil, req.Fanout)
	if err != nil {
		return nil, &Error{Stage: StageHosts, Err: err}
	}
	snap := &snapshot.Snapshot{Version: snapshot.Version, CollectedAt: time.Now().UTC(), Hosts: hosts}
	return &Result{Snapshot: snap, Result: rule.EvaluateHosts(&rule.Input{Snapshot: snap}, req.Rules)}, nil
}

// checkHosts reaches and checks every host, then releases them. The hosts
// come back even when releasing failed: they were checked.
func checkHosts(ctx context.Context, reach Reach, names []string, roles map[string][]string, probes map[string][]host.ProbeTarget, traces map[string][]host.TraceSpec, f host.Fanout) ([]snapshot.Host, error) {
	ts, release, err := reach(names, roles)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i].Probes, ts[i].Traces = probes[ts[i].Name], traces[ts[i].Name]
	}
	hosts := host.CheckAll(ctx, ts, host.Options{}, f)
	return hosts, release()
}
