package pipeline

import (
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot/snapshottest"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// ovnLab reads a snapshot recorded in the OVN lab (see internal/rule's
// testdata/ovn), without its hosts: what the API alone says.
func ovnLab(t *testing.T, name string) *snapshot.Snapshot {
	s := snapshottest.OVNLab(t, name)
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
	q := OVNQuery(s, names, nil)
	if q == nil {
		t.Fatal("no OVN query on an OVN cloud")
	}
	if !slices.Equal(q.Ports, []string{s.Ports[0].ID}) || !slices.Equal(q.Networks, []string{s.Ports[0].NetworkID}) ||
		len(q.Routers) != 1 || len(q.SecurityGroups) != len(s.Ports[0].SecurityGroups) || len(q.Subnets) != 1 || !slices.Equal(q.Hosts, names) {
		t.Errorf("query %+v", q)
	}
	// Not an OVN cloud: nothing asked of OVN.
	s.Agents = nil
	if q := OVNQuery(s, names, nil); q != nil {
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

// TestOVNTraceSpecs: the default ping and each --check flow are traced to
// the server's address from the router's interface on its network, from
// the flow's own source when it names one.
func TestOVNTraceSpecs(t *testing.T) {
	s := ovnLab(t, "healthy-vm1")
	flows, err := rule.ParseFlows([]string{"tcp/22"}, []string{"203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	q := OVNQuery(s, []string{"ctl"}, flows)
	var labels, micro []string
	for _, tr := range q.Traces {
		labels, micro = append(labels, tr.Label), append(micro, tr.Microflow)
		if tr.Datapath != "neutron-"+s.Ports[0].NetworkID {
			t.Errorf("datapath %s", tr.Datapath)
		}
	}
	want := []string{"ping from 10.0.0.1 to 10.0.0.79", "tcp/22 from 203.0.113.7 to 10.0.0.79"}
	if !slices.Equal(labels, want) {
		t.Fatalf("labels %q, want %q", labels, want)
	}
	if !strings.HasPrefix(micro[0], `inport == "991e8225-020c-4ee7-904b-8a6fc47ca25d" && eth.src == fa:16:3e:de:9f:f1 && eth.dst == fa:16:3e:5e:ed:11`) ||
		!strings.HasSuffix(micro[0], "icmp4 && icmp4.type == 8") || !strings.HasSuffix(micro[1], "ip4.src == 203.0.113.7 && ip4.dst == 10.0.0.79 && ip.ttl == 64 && tcp && tcp.dst == 22") {
		t.Errorf("microflows %q", micro)
	}
	// And to the floating IP from outside, through the router.
	var fl []string
	for _, f := range q.FloatingTraces {
		fl = append(fl, f.Label)
		if f.Router != s.FloatingIPs[0].RouterID || f.FloatingIP != "172.24.4.147" {
			t.Errorf("floating trace %+v", f)
		}
	}
	want = []string{"ping from 203.0.113.1 to floating IP 172.24.4.147", "tcp/22 from 203.0.113.7 to floating IP 172.24.4.147"}
	if !slices.Equal(fl, want) {
		t.Errorf("floating traces %q, want %q", fl, want)
	}
}
