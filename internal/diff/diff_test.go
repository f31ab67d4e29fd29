package diff

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hoofbeat/hoofbeat/internal/snapshot/snapshottest"

	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// example reads a snapshot recorded from the lab (examples/snapshots).
func example(t *testing.T, name string) *snapshot.Snapshot {
	return snapshottest.Example(t, name)
}

func evaluate(s *snapshot.Snapshot) rule.Result {
	return rule.Evaluate(&rule.Input{Snapshot: s}, rule.Options{})
}

func compare(old, new *snapshot.Snapshot) Report {
	return Compare(old, new, evaluate(old), evaluate(new))
}

func has(cs []Change, match func(Change) bool) bool { return slices.ContainsFunc(cs, match) }

func rules(fs []rule.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

// TestHealthyToFault: the lab's healthy snapshot against one with a fault
// injected, and back: what the fault changed, the finding it raised.
func TestHealthyToFault(t *testing.T) {
	healthy, fault := example(t, "healthy"), example(t, "icmp-ingress")
	r := compare(healthy, fault)
	if !has(r.Changes, func(c Change) bool {
		return c.Kind == "security-group" && c.Name == "lab-sg" && c.What == "rule removed" && strings.HasPrefix(c.Old, "ingress IPv4 icmp from 0.0.0.0/0 (")
	}) {
		t.Errorf("the ICMP rule's removal is not reported: %+v", r.Changes)
	}
	if !has(r.Changes, func(c Change) bool {
		return c.Kind == "host" && c.What == "firewall rule removed" && strings.Contains(c.Old, "-p icmp -j RETURN")
	}) {
		t.Errorf("the host's firewall rule removal is not reported: %+v", r.Changes)
	}
	if got := rules(r.Appeared); !slices.Equal(got, []string{"security-group/icmp-ingress-missing"}) || len(r.Cleared) != 0 {
		t.Errorf("appeared %v, cleared %v", got, rules(r.Cleared))
	}
	back := compare(fault, healthy)
	if got := rules(back.Cleared); !slices.Equal(got, []string{"security-group/icmp-ingress-missing"}) || len(back.Appeared) != 0 {
		t.Errorf("healed: appeared %v, cleared %v", rules(back.Appeared), got)
	}
	if !has(back.Changes, func(c Change) bool { return c.What == "rule added" && strings.HasPrefix(c.New, "ingress IPv4 icmp") }) {
		t.Errorf("healed: the rule's return is not reported: %+v", back.Changes)
	}

	// The port set admin-down: its state, and the VIF's.
	r = compare(example(t, "healthy"), example(t, "port-admin-down"))
	if !has(r.Changes, func(c Change) bool {
		return c.Kind == "port" && c.Name == "vm1-port" && c.What == "admin_state_up" && c.Old == "true" && c.New == "false"
	}) || !has(r.Changes, func(c Change) bool {
		return c.Kind == "host" && c.What == "up" && strings.HasPrefix(c.Name, "tap5221ee2c")
	}) {
		t.Errorf("admin state: %+v", r.Changes)
	}
	if !slices.Contains(rules(r.Appeared), "port/admin-down") {
		t.Errorf("appeared %v", rules(r.Appeared))
	}

	// A router's device deleted in its namespace (the two snapshots have
	// the same router ports).
	r = compare(example(t, "dnsmasq-killed"), example(t, "qr-device-deleted"))
	if !has(r.Changes, func(c Change) bool {
		return c.What == "device gone" && strings.HasPrefix(c.Old, "qrouter-") && strings.HasSuffix(c.Old, " qr-826bfac5-30")
	}) {
		t.Errorf("the qr device's removal is not reported: %+v", r.Changes)
	}
	if !slices.Contains(rules(r.Appeared), "host/router-interface-missing") || len(r.Cleared) == 0 {
		t.Errorf("appeared %v, cleared %v", rules(r.Appeared), rules(r.Cleared))
	}
}

// TestNoiseIsNoChange: the same snapshot collected again later differs in
// timestamps, heartbeats, statistics, the console log and packet
// counters: none is a change.
func TestNoiseIsNoChange(t *testing.T) {
	old, now := example(t, "healthy"), example(t, "healthy")
	if r := compare(old, now); !r.Empty() {
		t.Fatalf("a snapshot against itself: %+v", r)
	}
	now.CollectedAt = now.CollectedAt.Add(time.Hour)
	now.Stats = snapshot.Stats{Requests: 99, RoundTrips: 9, Duration: time.Second}
	for i := range now.Agents {
		now.Agents[i].HeartbeatTimestamp = now.Agents[i].HeartbeatTimestamp.Add(time.Minute)
	}
	now.ConsoleLog = nil
	counted := false
	for i := range now.Hosts {
		fw := &now.Hosts[i].Firewall
		if strings.Contains(fw.IPTablesSave, "[0:0] -A") || strings.Contains(fw.NFT, `"packets": 0`) {
			counted = true
		}
		fw.IPTablesSave = strings.ReplaceAll(fw.IPTablesSave, "[0:0] -A", "[17:1234] -A")
		fw.NFT = strings.ReplaceAll(fw.NFT, `"packets": 0, "bytes": 0`, `"packets": 7, "bytes": 700`)
	}
	if !counted {
		t.Fatal("the example has no counters to change")
	}
	if r := compare(old, now); !r.Empty() {
		t.Errorf("noise reported as change: %+v", r)
	}
}

// TestRuleRecreatedIsNoChange: a security-group rule deleted and created
// again alike (a new ID) admits the same traffic.
func TestRuleRecreatedIsNoChange(t *testing.T) {
	old, now := example(t, "healthy"), example(t, "healthy")
	now.SecurityGroups[0].Rules[0].ID = "00000000-0000-4000-8000-000000000000"
	if cs := Snapshots(old, now); len(cs) != 0 {
		t.Errorf("a re-created rule: %+v", cs)
	}
}

// FuzzFirewallRules: whatever a host's iptables-save and nft -j printed,
// reading its rules does not panic, and counters never make a change.
func FuzzFirewallRules(f *testing.F) {
	// Small seeds: a whole host's ruleset makes each execution slow.
	f.Add("# Generated by iptables-nft-save v1.8.9\n*filter\n:INPUT ACCEPT [0:0]\n[0:0] -A neutron-linuxbri-i5221ee2c-c -p icmp -j RETURN\nCOMMIT\n",
		`{"nftables": [{"table": {"family": "ip", "name": "filter", "handle": 1}}, {"chain": {"family": "ip", "table": "filter", "name": "INPUT", "handle": 2, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 40, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "icmp"}}, {"counter": {"packets": 1, "bytes": 84}}, {"return": null}]}}]}`)
	f.Add("*filter\n[3:4] -A INPUT -j ACCEPT\nCOMMIT\n", `{"nftables":[{"rule":{"family":"ip","table":"filter","chain":"INPUT","handle":1,"expr":[{"counter":{"packets":1,"bytes":2}},{"accept":null}]}}]}`)
	f.Fuzz(func(t *testing.T, ipt, nft string) {
		h := &snapshot.Host{Firewall: snapshot.Firewall{IPTablesSave: ipt, NFT: nft}}
		a := firewallRules(h)
		h.Firewall.IPTablesSave = iptCounters.ReplaceAllString(ipt, "")
		if b := firewallRules(h); len(a) != len(b) {
			t.Errorf("counters changed the rules: %d vs %d", len(a), len(b))
		}
	})
}
