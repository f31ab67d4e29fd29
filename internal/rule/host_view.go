package rule

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// Views of the hosts part of a snapshot shared by the host rules.

func hostSubject(h *snapshot.Host) Subject { return Subject{Kind: "host", Name: h.Name} }

// hostNamed returns the checked host with the given name, or nil.
func hostNamed(s *snapshot.Snapshot, name string) *snapshot.Host {
	for i := range s.Hosts {
		if s.Hosts[i].Name == name {
			return &s.Hosts[i]
		}
	}
	return nil
}

// reached returns the checked hosts that could be reached, recording the
// others as could-not-check.
func reached(in *Input) []*snapshot.Host {
	var out []*snapshot.Host
	for i := range in.Snapshot.Hosts {
		h := &in.Snapshot.Hosts[i]
		if h.Unreachable != "" {
			in.uncheck("host %s: could not check: %s", h.Name, h.Unreachable)
			continue
		}
		out = append(out, h)
	}
	return out
}

// reachedNamed returns the host when it was checked and reached; it
// records why not when it was checked and unreachable.
func reachedNamed(in *Input, name string) *snapshot.Host {
	h := hostNamed(in.Snapshot, name)
	if h == nil {
		return nil
	}
	if h.Unreachable != "" {
		in.uncheck("host %s: could not check: %s", h.Name, h.Unreachable)
		return nil
	}
	return h
}

// partOK records a part of a host that could not be read; it reports
// whether the part can be used.
func partOK(in *Input, h *snapshot.Host, what, errText string) bool {
	if errText != "" {
		in.uncheck("host %s: could not read %s: %s", h.Name, what, errText)
		return false
	}
	return true
}

// readableNamespace returns the namespace name on host when its devices
// were read; nil when the host or the namespace is missing
// (host/netns-missing says so) or could not be read (noted as not checked).
func readableNamespace(in *Input, host, name string) *snapshot.Namespace {
	h := reachedNamed(in, host)
	if h == nil || !partOK(in, h, "namespaces", h.NamespacesError) {
		return nil
	}
	ns := namespace(h, name)
	if ns == nil {
		return nil
	}
	if ns.Error != "" {
		in.uncheck("host %s: could not read the devices of %s: %s", host, ns.Name, ns.Error)
		return nil
	}
	return ns
}

func namespace(h *snapshot.Host, name string) *snapshot.Namespace {
	for i := range h.Namespaces {
		if h.Namespaces[i].Name == name {
			return &h.Namespaces[i]
		}
	}
	return nil
}

func linkNamed(links []snapshot.Link, name string) *snapshot.Link {
	for i := range links {
		if links[i].Name == name {
			return &links[i]
		}
	}
	return nil
}

// hostAddrs returns the addresses on the host's own devices.
func hostAddrs(h *snapshot.Host) []netip.Addr {
	var out []netip.Addr
	for _, l := range h.Links {
		for _, a := range l.Addrs {
			if p, err := netip.ParsePrefix(a); err == nil {
				out = append(out, p.Addr())
			}
		}
	}
	return out
}

func hostHasAddr(h *snapshot.Host, addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	return slices.Contains(hostAddrs(h), a)
}

// deviceName is Neutron's name for a port's device: prefix + the first 11
// characters of the port ID.
func deviceName(prefix, portID string) string {
	if len(portID) > 11 {
		portID = portID[:11]
	}
	return prefix + portID
}

// expectedAddrs returns a port's fixed IPs in CIDR form, with the prefix
// length of their subnets.
func expectedAddrs(s *snapshot.Snapshot, p *snapshot.Port) []string {
	var out []string
	for _, f := range p.FixedIPs {
		sn := s.Subnet(f.SubnetID)
		if sn == nil {
			continue
		}
		pfx, err := netip.ParsePrefix(sn.CIDR)
		if err != nil {
			continue
		}
		out = append(out, fmt.Sprintf("%s/%d", f.IPAddress, pfx.Bits()))
	}
	return out
}

// missingAddrs returns the wanted addresses a device lacks.
func missingAddrs(l *snapshot.Link, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(l.Addrs, w) {
			out = append(out, w)
		}
	}
	return out
}

func linkLine(l *snapshot.Link) string {
	state := "DOWN"
	if l.Up {
		state = "UP"
	}
	addrs := "no address"
	if len(l.Addrs) > 0 {
		addrs = strings.Join(l.Addrs, ", ")
	}
	return fmt.Sprintf("%s %s: %s", l.Name, state, addrs)
}

// listOrNone renders items for evidence, comma-separated, or "none".
func listOrNone[T any](items []T, text func(T) string) string {
	if len(items) == 0 {
		return "none"
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = text(it)
	}
	return strings.Join(out, ", ")
}

// nsDevices renders a namespace's devices for evidence.
func nsDevices(ns *snapshot.Namespace) string {
	return listOrNone(ns.Links, func(l snapshot.Link) string { return l.Name })
}

// onHost says on which host to run a command ("HOST: why" adds why).
func onHost(c shell.Cmd, host string) shell.Cmd {
	return c.Comment("on host " + strings.TrimSuffix(host, ": "))
}

// multiHost reports whether the cloud spans several hosts, as far as the
// snapshot knows (agents on more than one host, or several hosts checked).
func multiHost(s *snapshot.Snapshot) bool {
	hosts := map[string]bool{}
	for _, a := range s.Agents {
		hosts[a.Host] = true
	}
	for _, h := range s.Hosts {
		hosts[h.Name] = true
	}
	if s.Server != nil && s.Server.Host != "" {
		hosts[s.Server.Host] = true
	}
	return len(hosts) > 1
}

func hasRole(h *snapshot.Host, role topology.Role) bool {
	return slices.Contains(h.Roles, string(role))
}
