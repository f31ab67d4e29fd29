package rule

import (
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// TestDHCPHosts: every (network, DHCP host) pair the host rules walk, in
// order, and a break stops the walk.
func TestDHCPHosts(t *testing.T) {
	s := healthy()
	s.Agents = append(s.Agents, snapshot.Agent{ID: "dhcp-2", AgentType: snapshot.AgentTypeDHCP, Host: "cmp1", Alive: true, AdminStateUp: true})
	s.DHCPAgents[netPrivate] = append(s.DHCPAgents[netPrivate], "dhcp-2")
	in := &Input{Snapshot: s}
	var got []string
	for n, host := range dhcpHosts(in) {
		got = append(got, n.ID+"@"+host)
	}
	if want := []string{netPrivate + "@" + hostCtl, netPrivate + "@cmp1"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %q, want %q", got, want)
	}
	n := 0
	for range dhcpHosts(in) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("a break ran %d iterations", n)
	}
}

// TestRouterOrID: a leg's router by name, by short ID when it is hidden.
func TestRouterOrID(t *testing.T) {
	if got := routerOrID(topology.RouterLeg{ID: router1, Router: &snapshot.Router{ID: router1, Name: "router1"}}); got != "router1" {
		t.Errorf("named: %q", got)
	}
	if got := routerOrID(topology.RouterLeg{ID: router1}); got != shortID(router1) {
		t.Errorf("hidden: %q", got)
	}
}

// TestOVNCheck: an OVN rule's check runs only with the databases, and
// says why not without them.
func TestOVNCheck(t *testing.T) {
	var got *ovnDB
	check := ovnCheck(func(in *Input, db *ovnDB) []Finding {
		got = db
		return []Finding{{Summary: "ran"}}
	})
	in := &Input{Snapshot: &snapshot.Snapshot{Hosts: []snapshot.Host{{Name: "ctl"}}}}
	if fs := check(in); fs != nil || got != nil || len(in.unchecked) != 1 {
		t.Errorf("without OVN: %v, db %v, unchecked %q", fs, got, in.unchecked)
	}
	nb, sb := &snapshot.OVNNorthbound{}, &snapshot.OVNSouthbound{}
	in = &Input{Snapshot: &snapshot.Snapshot{Hosts: []snapshot.Host{{Name: "ctl", OVN: &snapshot.OVN{NB: nb, SB: sb}}}}}
	if fs := check(in); len(fs) != 1 || got == nil || got.host != "ctl" || got.nb != nb || got.sb != sb {
		t.Errorf("with OVN: %v, db %+v", fs, got)
	}
}

// TestListOrNone: evidence lists are comma-separated, "none" when empty.
func TestListOrNone(t *testing.T) {
	name := func(l snapshot.Link) string { return l.Name }
	if got := listOrNone([]snapshot.Link{{Name: "lo"}, {Name: "qr-1a2b"}}, name); got != "lo, qr-1a2b" {
		t.Errorf("got %q", got)
	}
	if got := listOrNone(nil, name); got != "none" {
		t.Errorf("empty: %q", got)
	}
}
