package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// ovnLab reads a snapshot recorded in the OVN lab (see internal/rule's
// testdata/ovn), without its hosts: what the API alone says.
func ovnLab(t *testing.T, name string) *snapshot.Snapshot {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "rule", "testdata", "ovn", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := snapshot.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	s.Hosts = nil
	return s
}

// TestOVNHostsAndQuery: on ML2/OVN the server's compute host and the
// gateway chassis are checked, and the databases are asked for the
// server's objects by the names Neutron gives them.
func TestOVNHostsAndQuery(t *testing.T) {
	s := ovnLab(t, "healthy-vm3")
	names, roles := ServerHosts(s)
	if !slices.Equal(names, []string{"cmp1", "ctl"}) || !slices.Contains(roles["ctl"], "ovn-gateway") || !slices.Contains(roles["cmp1"], "compute") {
		t.Fatalf("hosts %v roles %v", names, roles)
	}
	q := OVNQuery(s, names)
	if q == nil {
		t.Fatal("no OVN query on an OVN cloud")
	}
	if !slices.Equal(q.Ports, []string{s.Ports[0].ID}) || !slices.Equal(q.Networks, []string{s.Ports[0].NetworkID}) ||
		len(q.Routers) != 1 || len(q.SecurityGroups) != len(s.Ports[0].SecurityGroups) || len(q.Subnets) != 1 || !slices.Equal(q.Hosts, names) {
		t.Errorf("query %+v", q)
	}
	// Not an OVN cloud: nothing asked of OVN.
	s.Agents = nil
	if q := OVNQuery(s, names); q != nil {
		t.Errorf("query without OVN agents: %+v", q)
	}
}

// TestOVNRulesNeedHosts: without --hosts the OVN rules do not run, like the
// host rules: they read the hosts.
func TestOVNRulesNeedHosts(t *testing.T) {
	res := Evaluate(ovnLab(t, "healthy-vm1"), Request{})
	for _, n := range ran(res) {
		if strings.HasPrefix(n, "ovn/") {
			t.Errorf("%s ran without hosts", n)
		}
	}
}
