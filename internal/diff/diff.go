// Package diff says what changed between two snapshots of the same
// server: in the resources on its path (security-group rules, status and
// admin state, devices and firewall rules on its hosts) and in the
// findings of the rules over each. Heartbeats, timestamps, counters and
// the collection's own statistics are not changes. It is pure: "hoofbeat
// diff" and "diagnose --watch" render what it returns.
package diff

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/host/firewall"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// Change is one difference in a resource.
type Change struct {
	// Kind is the resource's kind: server, port, security-group, subnet,
	// network, router, floating-ip, agent, host.
	Kind string `json:"kind"`
	// ID is the resource's ID, or the host's name.
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// What is what changed: a field ("status", "admin_state_up"), or an
	// event ("added", "removed", "rule added", "device gone"…).
	What string `json:"what"`
	// Old and New are the values before and after, when What is a field;
	// for an event, the item added or removed is in New or Old.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
}

// Snapshots lists what changed from old to new, resource by resource, in
// the walk's order: server, ports, security groups, subnets, networks,
// routers, floating IPs, agents, hosts.
func Snapshots(old, new *snapshot.Snapshot) []Change {
	var d differ
	d.server(old.Server, new.Server)
	d.ports(slices.Concat(old.Ports, old.NetworkPorts), slices.Concat(new.Ports, new.NetworkPorts))
	d.groups(old.SecurityGroups, new.SecurityGroups)
	d.subnets(old.Subnets, new.Subnets)
	d.networks(old.Networks, new.Networks)
	d.routers(old.Routers, new.Routers)
	d.floatingIPs(old.FloatingIPs, new.FloatingIPs)
	d.agents(old.Agents, new.Agents)
	d.hosts(old.Hosts, new.Hosts)
	return d.out
}

type differ struct{ out []Change }

func (d *differ) add(c Change) { d.out = append(d.out, c) }

// field records a field whose value changed.
func (d *differ) field(kind, id, name, what, old, new string) {
	if old != new {
		d.add(Change{Kind: kind, ID: id, Name: name, What: what, Old: old, New: new})
	}
}

func yesNo(b bool) string { return strconv.FormatBool(b) }

func (d *differ) server(a, b *snapshot.Server) {
	switch {
	case a == nil && b == nil:
	case a == nil:
		d.add(Change{Kind: "server", ID: b.ID, Name: b.Name, What: "added"})
	case b == nil:
		d.add(Change{Kind: "server", ID: a.ID, Name: a.Name, What: "removed"})
	case a.ID != b.ID:
		d.add(Change{Kind: "server", ID: b.ID, Name: b.Name, What: "another server", Old: a.ID, New: b.ID})
	default:
		d.field("server", b.ID, b.Name, "status", a.Status, b.Status)
		d.field("server", b.ID, b.Name, "task_state", a.TaskState, b.TaskState)
		d.field("server", b.ID, b.Name, "host", a.Host, b.Host)
	}
}

// byID pairs two lists by ID: the items gone, the pairs, the items new.
func byID[T any](a, b []T, id func(*T) string, gone, pair, added func(x, y *T)) {
	old := map[string]*T{}
	for i := range a {
		old[id(&a[i])] = &a[i]
	}
	seen := map[string]bool{}
	for i := range b {
		k := id(&b[i])
		seen[k] = true
		if x, ok := old[k]; ok {
			pair(x, &b[i])
		} else {
			added(nil, &b[i])
		}
	}
	for i := range a {
		if !seen[id(&a[i])] {
			gone(&a[i], nil)
		}
	}
}

func (d *differ) ports(a, b []snapshot.Port) {
	byID(dedupPorts(a), dedupPorts(b), func(p *snapshot.Port) string { return p.ID },
		func(p, _ *snapshot.Port) {
			d.add(Change{Kind: "port", ID: p.ID, Name: p.Name, What: "removed", Old: portText(p)})
		},
		func(x, y *snapshot.Port) {
			d.field("port", y.ID, y.Name, "status", x.Status, y.Status)
			d.field("port", y.ID, y.Name, "admin_state_up", yesNo(x.AdminStateUp), yesNo(y.AdminStateUp))
			d.field("port", y.ID, y.Name, "binding:host_id", x.BindingHostID, y.BindingHostID)
			d.field("port", y.ID, y.Name, "binding:vif_type", x.BindingVIFType, y.BindingVIFType)
			d.field("port", y.ID, y.Name, "fixed_ips", ips(x), ips(y))
			d.field("port", y.ID, y.Name, "security_groups", strings.Join(x.SecurityGroups, ","), strings.Join(y.SecurityGroups, ","))
			d.field("port", y.ID, y.Name, "port_security_enabled", optBool(x.PortSecurityEnabled), optBool(y.PortSecurityEnabled))
		},
		func(_, p *snapshot.Port) {
			d.add(Change{Kind: "port", ID: p.ID, Name: p.Name, What: "added", New: portText(p)})
		})
}

// dedupPorts keeps each port once: a server's port is no network port,
// but a snapshot written by hand may list it twice.
func dedupPorts(ps []snapshot.Port) []snapshot.Port {
	seen := map[string]bool{}
	var out []snapshot.Port
	for _, p := range ps {
		if !seen[p.ID] {
			seen[p.ID] = true
			out = append(out, p)
		}
	}
	return out
}

func portText(p *snapshot.Port) string {
	return strings.TrimSpace(p.DeviceOwner + " " + ips(p))
}

func ips(p *snapshot.Port) string {
	var out []string
	for _, f := range p.FixedIPs {
		out = append(out, f.IPAddress)
	}
	return strings.Join(out, ",")
}

func optBool(b *bool) string {
	if b == nil {
		return ""
	}
	return yesNo(*b)
}

func (d *differ) groups(a, b []snapshot.SecurityGroup) {
	byID(a, b, func(g *snapshot.SecurityGroup) string { return g.ID },
		func(g, _ *snapshot.SecurityGroup) {
			d.add(Change{Kind: "security-group", ID: g.ID, Name: g.Name, What: "removed"})
		},
		func(x, y *snapshot.SecurityGroup) {
			d.field("security-group", y.ID, y.Name, "stateful", optBool(x.Stateful), optBool(y.Stateful))
			// A rule is what it admits: one deleted and re-created alike
			// (a new ID) is no change.
			old, now := ruleSet(x.Rules), ruleSet(y.Rules)
			for _, k := range sortedKeys(old) {
				if _, ok := now[k]; !ok {
					d.add(Change{Kind: "security-group", ID: y.ID, Name: y.Name, What: "rule removed", Old: k + " (" + old[k] + ")"})
				}
			}
			for _, k := range sortedKeys(now) {
				if _, ok := old[k]; !ok {
					d.add(Change{Kind: "security-group", ID: y.ID, Name: y.Name, What: "rule added", New: k + " (" + now[k] + ")"})
				}
			}
		},
		func(_, g *snapshot.SecurityGroup) {
			d.add(Change{Kind: "security-group", ID: g.ID, Name: g.Name, What: "added"})
		})
}

// ruleSet maps each rule's meaning to its ID.
func ruleSet(rs []snapshot.SecurityGroupRule) map[string]string {
	out := map[string]string{}
	for _, r := range rs {
		out[RuleText(r)] = r.ID
	}
	return out
}

// RuleText says what a security-group rule admits, as the openstack
// client's columns do: "ingress IPv4 tcp 22 from 0.0.0.0/0".
func RuleText(r snapshot.SecurityGroupRule) string {
	t := []string{r.Direction, r.Ethertype, orAny(r.Protocol)}
	switch {
	case r.PortRangeMin == nil && r.PortRangeMax == nil:
	case r.PortRangeMax == nil || r.PortRangeMin != nil && *r.PortRangeMin == *r.PortRangeMax:
		t = append(t, strconv.Itoa(*r.PortRangeMin))
	case r.PortRangeMin == nil:
		t = append(t, "-"+strconv.Itoa(*r.PortRangeMax))
	default:
		t = append(t, fmt.Sprintf("%d-%d", *r.PortRangeMin, *r.PortRangeMax))
	}
	from := "from"
	if r.Direction == "egress" {
		from = "to"
	}
	switch {
	case r.RemoteGroupID != "":
		t = append(t, from, "group", r.RemoteGroupID)
	case r.RemoteAddressGroupID != "":
		t = append(t, from, "address group", r.RemoteAddressGroupID)
	case r.RemoteIPPrefix != "":
		t = append(t, from, r.RemoteIPPrefix)
	default:
		t = append(t, from, "any")
	}
	return strings.Join(t, " ")
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}

func (d *differ) subnets(a, b []snapshot.Subnet) {
	byID(a, b, func(s *snapshot.Subnet) string { return s.ID },
		func(s, _ *snapshot.Subnet) {
			d.add(Change{Kind: "subnet", ID: s.ID, Name: s.Name, What: "removed", Old: s.CIDR})
		},
		func(x, y *snapshot.Subnet) {
			d.field("subnet", y.ID, y.Name, "enable_dhcp", yesNo(x.EnableDHCP), yesNo(y.EnableDHCP))
			d.field("subnet", y.ID, y.Name, "gateway_ip", x.GatewayIP, y.GatewayIP)
			d.field("subnet", y.ID, y.Name, "cidr", x.CIDR, y.CIDR)
		},
		func(_, s *snapshot.Subnet) {
			d.add(Change{Kind: "subnet", ID: s.ID, Name: s.Name, What: "added", New: s.CIDR})
		})
}

func (d *differ) networks(a, b []snapshot.Network) {
	byID(a, b, func(n *snapshot.Network) string { return n.ID },
		func(n, _ *snapshot.Network) { d.add(Change{Kind: "network", ID: n.ID, Name: n.Name, What: "removed"}) },
		func(x, y *snapshot.Network) {
			d.field("network", y.ID, y.Name, "status", x.Status, y.Status)
			d.field("network", y.ID, y.Name, "admin_state_up", yesNo(x.AdminStateUp), yesNo(y.AdminStateUp))
			d.field("network", y.ID, y.Name, "mtu", strconv.Itoa(x.MTU), strconv.Itoa(y.MTU))
		},
		func(_, n *snapshot.Network) { d.add(Change{Kind: "network", ID: n.ID, Name: n.Name, What: "added"}) })
}

func (d *differ) routers(a, b []snapshot.Router) {
	byID(a, b, func(r *snapshot.Router) string { return r.ID },
		func(r, _ *snapshot.Router) { d.add(Change{Kind: "router", ID: r.ID, Name: r.Name, What: "removed"}) },
		func(x, y *snapshot.Router) {
			d.field("router", y.ID, y.Name, "status", x.Status, y.Status)
			d.field("router", y.ID, y.Name, "admin_state_up", yesNo(x.AdminStateUp), yesNo(y.AdminStateUp))
			d.field("router", y.ID, y.Name, "external_gateway", gateway(x), gateway(y))
		},
		func(_, r *snapshot.Router) { d.add(Change{Kind: "router", ID: r.ID, Name: r.Name, What: "added"}) })
}

func gateway(r *snapshot.Router) string {
	if r.ExternalGateway == nil {
		return "none"
	}
	var ips []string
	for _, f := range r.ExternalGateway.ExternalFixedIPs {
		ips = append(ips, f.IPAddress)
	}
	return strings.TrimSpace(r.ExternalGateway.NetworkID + " " + strings.Join(ips, ","))
}

func (d *differ) floatingIPs(a, b []snapshot.FloatingIP) {
	byID(a, b, func(f *snapshot.FloatingIP) string { return f.ID },
		func(f, _ *snapshot.FloatingIP) {
			d.add(Change{Kind: "floating-ip", ID: f.ID, Name: f.FloatingIPAddress, What: "removed"})
		},
		func(x, y *snapshot.FloatingIP) {
			d.field("floating-ip", y.ID, y.FloatingIPAddress, "status", x.Status, y.Status)
			d.field("floating-ip", y.ID, y.FloatingIPAddress, "port_id", x.PortID, y.PortID)
		},
		func(_, f *snapshot.FloatingIP) {
			d.add(Change{Kind: "floating-ip", ID: f.ID, Name: f.FloatingIPAddress, What: "added"})
		})
}

// agents compares liveness and admin state, never the heartbeat.
func (d *differ) agents(a, b []snapshot.Agent) {
	name := func(x *snapshot.Agent) string { return x.AgentType + " on " + x.Host }
	byID(a, b, func(x *snapshot.Agent) string { return x.ID },
		func(x, _ *snapshot.Agent) { d.add(Change{Kind: "agent", ID: x.ID, Name: name(x), What: "removed"}) },
		func(x, y *snapshot.Agent) {
			d.field("agent", y.ID, name(y), "alive", yesNo(x.Alive), yesNo(y.Alive))
			d.field("agent", y.ID, name(y), "admin_state_up", yesNo(x.AdminStateUp), yesNo(y.AdminStateUp))
		},
		func(_, y *snapshot.Agent) { d.add(Change{Kind: "agent", ID: y.ID, Name: name(y), What: "added"}) })
}

func (d *differ) hosts(a, b []snapshot.Host) {
	byID(a, b, func(h *snapshot.Host) string { return h.Name },
		func(h, _ *snapshot.Host) { d.add(Change{Kind: "host", ID: h.Name, What: "not checked any more"}) },
		func(x, y *snapshot.Host) {
			d.field("host", y.Name, "", "reachable", reach(x), reach(y))
			if x.Unreachable != "" || y.Unreachable != "" {
				return
			}
			d.links(y.Name, "", x.Links, y.Links)
			d.namespaces(y.Name, x.Namespaces, y.Namespaces)
			d.ovs(y.Name, x.OVS, y.OVS)
			d.lines(y.Name, "firewall rule", firewallRules(x), firewallRules(y))
		},
		func(_, h *snapshot.Host) { d.add(Change{Kind: "host", ID: h.Name, What: "checked"}) })
}

func reach(h *snapshot.Host) string {
	if h.Unreachable != "" {
		return "unreachable"
	}
	return "reachable"
}

// links compares the devices of a host or of one of its namespaces (ns).
func (d *differ) links(host, ns string, a, b []snapshot.Link) {
	where := func(dev string) string {
		if ns == "" {
			return dev
		}
		return ns + " " + dev
	}
	byID(a, b, func(l *snapshot.Link) string { return l.Name },
		func(l, _ *snapshot.Link) {
			d.add(Change{Kind: "host", ID: host, What: "device gone", Old: where(l.Name)})
		},
		func(x, y *snapshot.Link) {
			d.field("host", host, where(y.Name), "up", yesNo(x.Up), yesNo(y.Up))
			d.field("host", host, where(y.Name), "carrier", yesNo(!x.NoCarrier), yesNo(!y.NoCarrier))
			d.field("host", host, where(y.Name), "master", x.Master, y.Master)
			d.field("host", host, where(y.Name), "mtu", strconv.Itoa(x.MTU), strconv.Itoa(y.MTU))
		},
		func(_, l *snapshot.Link) {
			d.add(Change{Kind: "host", ID: host, What: "device added", New: where(l.Name)})
		})
}

func (d *differ) namespaces(host string, a, b []snapshot.Namespace) {
	byID(a, b, func(n *snapshot.Namespace) string { return n.Name },
		func(n, _ *snapshot.Namespace) {
			d.add(Change{Kind: "host", ID: host, What: "namespace gone", Old: n.Name})
		},
		func(x, y *snapshot.Namespace) { d.links(host, y.Name, x.Links, y.Links) },
		func(_, n *snapshot.Namespace) {
			d.add(Change{Kind: "host", ID: host, What: "namespace added", New: n.Name})
		})
}

func (d *differ) ovs(host string, a, b *snapshot.OVS) {
	if a == nil || b == nil {
		return
	}
	byID(a.Interfaces, b.Interfaces, func(i *snapshot.OVSInterface) string { return i.Name },
		func(i, _ *snapshot.OVSInterface) {
			d.add(Change{Kind: "host", ID: host, What: "Open vSwitch interface gone", Old: i.Name})
		},
		func(x, y *snapshot.OVSInterface) {
			d.field("host", host, y.Name, "Open vSwitch interface error", x.Error, y.Error)
		},
		func(_, i *snapshot.OVSInterface) {
			d.add(Change{Kind: "host", ID: host, What: "Open vSwitch interface added", New: i.Name})
		})
}

// lines records the lines of a set that went and came.
func (d *differ) lines(host, what string, a, b []string) {
	old, now := map[string]bool{}, map[string]bool{}
	for _, l := range a {
		old[l] = true
	}
	for _, l := range b {
		now[l] = true
	}
	for _, l := range a {
		if !now[l] {
			d.add(Change{Kind: "host", ID: host, What: what + " removed", Old: l})
			now[l] = true // once
		}
	}
	for _, l := range b {
		if !old[l] {
			d.add(Change{Kind: "host", ID: host, What: what + " added", New: l})
			old[l] = true
		}
	}
}

// iptCounters are the packet and byte counters of iptables-save -c: they
// change with traffic, not with rules.
var iptCounters = regexp.MustCompile(`^\[\d+:\d+\]\s*`)

// firewallRules are a host's rules, one per line, without counters:
// iptables-save's "-A" lines with their table, and nft's rules (nft -j)
// with their family, table and chain, their expressions less counters.
func firewallRules(h *snapshot.Host) []string {
	var out []string
	table := ""
	for l := range strings.SplitSeq(h.Firewall.IPTablesSave, "\n") {
		l = iptCounters.ReplaceAllString(strings.TrimSpace(l), "")
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
		case strings.HasPrefix(l, "-A "):
			out = append(out, "iptables -t "+table+" "+l)
		}
	}
	if strings.TrimSpace(h.Firewall.NFT) == "" {
		return out
	}
	n, err := firewall.ParseNFT([]byte(h.Firewall.NFT))
	if err != nil {
		return out // unreadable either side: the rules say so, not the diff
	}
	for _, k := range sortedKeys(n.Chains) {
		c := n.Chains[k]
		for _, r := range c.Rules {
			var expr []string
			for _, e := range r.Expr {
				if !bytes.HasPrefix(bytes.TrimSpace(e), []byte(`{"counter"`)) {
					expr = append(expr, string(e))
				}
			}
			out = append(out, fmt.Sprintf("nft %s %s %s: %s", c.Family, c.Table, c.Name, strings.Join(expr, " ")))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Findings says which findings appeared and which cleared from old to
// new. A finding is the same when its rule and its subject are: its
// wording and evidence may change (a count, a timestamp) without it
// being another finding. A finding whose severity changed is in both.
func Findings(old, new rule.Result) (appeared, cleared []rule.Finding) {
	ko, kn := keys(old.Findings), keys(new.Findings)
	for i, f := range new.Findings {
		if !slices.Contains(ko, kn[i]) {
			appeared = append(appeared, f)
		}
	}
	for i, f := range old.Findings {
		if !slices.Contains(kn, ko[i]) {
			cleared = append(cleared, f)
		}
	}
	return appeared, cleared
}

// keys names each finding by rule, subject and severity; findings alike
// on that are told apart by their summary.
func keys(fs []rule.Finding) []string {
	out := make([]string, len(fs))
	n := map[string]int{}
	for i, f := range fs {
		out[i] = strings.Join([]string{f.Rule, f.Subject.Kind, f.Subject.ID, f.Subject.Name, f.Severity.String()}, "\x00")
		n[out[i]]++
	}
	for i, f := range fs {
		if n[out[i]] > 1 {
			out[i] += "\x00" + f.Summary
		}
	}
	return out
}

// Report is what changed between two diagnoses.
type Report struct {
	Changes  []Change
	Appeared []rule.Finding
	Cleared  []rule.Finding
}

// Empty reports whether nothing changed.
func (r *Report) Empty() bool {
	return len(r.Changes) == 0 && len(r.Appeared) == 0 && len(r.Cleared) == 0
}

// Compare is Snapshots and Findings together.
func Compare(old, new *snapshot.Snapshot, oldRes, newRes rule.Result) Report {
	r := Report{Changes: Snapshots(old, new)}
	r.Appeared, r.Cleared = Findings(oldRes, newRes)
	return r
}
