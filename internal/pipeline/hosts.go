package pipeline

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
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
// qdhcp namespace of their network on each DHCP agent's host. On ML2/OVN
// there is no DHCP agent: the network's metadata port (network:distributed)
// has a namespace, ovnmeta-<network>, on every chassis with a port of the
// network, and the server's own host is pinged from there.
func ProbeTargets(s *snapshot.Snapshot) map[string][]host.ProbeTarget {
	out := map[string][]host.ProbeTarget{}
	for _, p := range s.Ports {
		hosts, ns := topology.DHCPHosts(s, p.NetworkID), "qdhcp-"+p.NetworkID
		if len(hosts) == 0 && s.Server != nil && s.Server.Host != "" && len(s.NetworkPortsByOwner(p.NetworkID, snapshot.OwnerOVNMetadata)) > 0 {
			hosts, ns = []string{s.Server.Host}, "ovnmeta-"+p.NetworkID
		}
		for _, h := range hosts {
			for _, f := range p.FixedIPs {
				if a, err := netip.ParseAddr(f.IPAddress); err != nil || !a.Is4() {
					continue
				}
				out[h] = append(out[h], host.ProbeTarget{Namespace: ns, IP: f.IPAddress})
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
	hosts, err := checkHosts(ctx, hc.Reach, names, roles, probes, TraceTargets(snap, flows), host.Options{OVN: OVNQuery(snap, names, flows)}, hc.Fanout)
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
	hosts, err := checkHosts(ctx, req.Reach, req.Names, nil, nil, nil, host.Options{}, req.Fanout)
	if err != nil {
		return nil, &Error{Stage: StageHosts, Err: err}
	}
	snap := &snapshot.Snapshot{Version: snapshot.Version, CollectedAt: time.Now().UTC(), Hosts: hosts}
	return &Result{Snapshot: snap, Result: rule.EvaluateHosts(&rule.Input{Snapshot: snap}, req.Rules)}, nil
}

// checkHosts reaches and checks every host, then releases them. The hosts
// come back even when releasing failed: they were checked.
func checkHosts(ctx context.Context, reach Reach, names []string, roles map[string][]string, probes map[string][]host.ProbeTarget, traces map[string][]host.TraceSpec, base host.Options, f host.Fanout) ([]snapshot.Host, error) {
	ts, release, err := reach(names, roles)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i].Probes, ts[i].Traces = probes[ts[i].Name], traces[ts[i].Name]
	}
	hosts := host.CheckAll(ctx, ts, base, f)
	return hosts, release()
}

// OVNQuery names the server's objects in the OVN databases, for the hosts
// that hold them: nil unless the agents say the cloud runs ML2/OVN (or are
// hidden, when only the databases can tell).
func OVNQuery(s *snapshot.Snapshot, hosts []string, flows []rule.Flow) *host.OVNQuery {
	ovn := s.Gap(snapshot.SourceAgents) != nil
	for _, a := range s.Agents {
		ovn = ovn || strings.HasPrefix(a.AgentType, "OVN ")
	}
	if !ovn || s.Server == nil {
		return nil
	}
	q := &host.OVNQuery{Hosts: slices.Clone(hosts), LagRecheck: 2 * time.Second}
	add := func(list *[]string, v string) {
		if v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	v := topology.New(s)
	for _, p := range v.Ports {
		add(&q.Ports, p.ID)
		add(&q.Networks, p.NetworkID)
		for _, sg := range p.SecurityGroups {
			add(&q.SecurityGroups, sg)
		}
		for _, sn := range p.Subnets {
			add(&q.Subnets, sn.ID)
		}
	}
	for _, l := range v.Routers {
		add(&q.Routers, l.ID)
	}
	q.Traces = traceSpecs(s, flows)
	q.FloatingTraces = floatingTraces(s, flows)
	return q
}

// outsideSource stands for a host outside the cloud (TEST-NET-3) when a
// flow names no source of its own.
const outsideSource = "203.0.113.1"

// floatingTraces are the default ping and each --check flow to each of the
// server's floating IPs, from outside: the flow's source when it names
// one, else outsideSource.
func floatingTraces(s *snapshot.Snapshot, flows []rule.Flow) []host.OVNFloatingTrace {
	var out []host.OVNFloatingTrace
	for _, f := range s.FloatingIPs {
		if f.RouterID == "" || !slices.ContainsFunc(s.Ports, func(p snapshot.Port) bool { return p.ID == f.PortID }) {
			continue
		}
		add := func(label, l4 string, from netip.Prefix) {
			src := outsideSource
			if from.IsValid() && from.Addr().Is4() && from.Bits() > 0 {
				src = from.Addr().String()
			}
			out = append(out, host.OVNFloatingTrace{Label: fmt.Sprintf("%s from %s to floating IP %s", label, src, f.FloatingIPAddress),
				Router: f.RouterID, FloatingIP: f.FloatingIPAddress, From: src, L4: l4})
		}
		add("ping", "icmp4 && icmp4.type == 8", netip.Prefix{})
		for _, fl := range flows {
			if l4 := microflowL4(fl); l4 != "" {
				add(fl.Spec, l4, fl.From)
			}
		}
	}
	return out
}

// traceSpecs are the microflows ovn-trace follows: the default ping and
// each --check flow, to each IPv4 address of the server's ports, entering
// the network from another port of it: the router's interface (traffic
// from beyond the router), else the network's metadata port. The source
// is the flow's own (--from) when it names one, else that port's address.
func traceSpecs(s *snapshot.Snapshot, flows []rule.Flow) []host.OVNTraceSpec {
	type question struct {
		label, l4 string
		from      netip.Prefix
	}
	qs := []question{{label: "ping", l4: "icmp4 && icmp4.type == 8"}}
	for _, f := range flows {
		if l4 := microflowL4(f); l4 != "" {
			qs = append(qs, question{label: f.Spec, l4: l4, from: f.From})
		}
	}
	var out []host.OVNTraceSpec
	for _, p := range s.Ports {
		src := traceSource(s, p.NetworkID)
		if src == nil || p.MACAddress == "" {
			continue
		}
		for _, fip := range p.FixedIPs {
			dst, err := netip.ParseAddr(fip.IPAddress)
			if err != nil || !dst.Is4() {
				continue
			}
			srcIP := addressOn(*src, fip.SubnetID)
			for _, qq := range qs {
				from := srcIP
				if qq.from.IsValid() && qq.from.Addr().Is4() && qq.from.Bits() > 0 {
					from = qq.from.Addr().String()
				}
				if from == "" {
					continue
				}
				out = append(out, host.OVNTraceSpec{
					Label:    fmt.Sprintf("%s from %s to %s", qq.label, from, dst),
					Datapath: "neutron-" + p.NetworkID,
					Microflow: fmt.Sprintf(`inport == %s && eth.src == %s && eth.dst == %s && ip4.src == %s && ip4.dst == %s && ip.ttl == 64 && %s`,
						strconv.Quote(src.ID), src.MACAddress, p.MACAddress, from, dst, qq.l4),
				})
			}
		}
	}
	return out
}

// traceSource is the network's port a trace enters by.
func traceSource(s *snapshot.Snapshot, networkID string) *snapshot.Port {
	for _, owners := range [][]string{snapshot.RouterInterfaceOwners, {snapshot.OwnerOVNMetadata}} {
		for _, p := range s.NetworkPortsByOwner(networkID, owners...) {
			if p.MACAddress != "" {
				return &p
			}
		}
	}
	return nil
}

func addressOn(p snapshot.Port, subnetID string) string {
	for _, f := range p.FixedIPs {
		if f.SubnetID == subnetID {
			return f.IPAddress
		}
	}
	return ""
}

// microflowL4 is ovn-trace's match for a flow's protocol and port; "" for
// what it cannot express here (IPv6-only protocols on an IPv4 trace).
func microflowL4(f rule.Flow) string {
	switch f.Protocol {
	case "icmp", "any":
		t := 8 // echo request, unless the check names a type
		if f.Protocol == "icmp" && f.PortMin > 0 {
			t = f.PortMin
		}
		return fmt.Sprintf("icmp4 && icmp4.type == %d", t)
	case "tcp", "udp", "sctp":
		if f.PortMin <= 0 {
			return f.Protocol
		}
		return fmt.Sprintf("%s && %s.dst == %d", f.Protocol, f.Protocol, f.PortMin)
	case "ipv6-icmp", "icmpv6":
		return ""
	}
	if n, err := strconv.Atoi(f.Protocol); err == nil && n > 0 && n < 256 {
		return fmt.Sprintf("ip.proto == %d", n)
	}
	return ""
}
