package rule

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// portOnly turns a recorded snapshot into the diagnosis of one port
// without a server, as the collector writes it: the port alone in Ports,
// no server, no console log, no hosts.
func portOnly(s *snapshot.Snapshot, p snapshot.Port) *snapshot.Snapshot {
	s.Server, s.ConsoleLog, s.Hosts = nil, nil, nil
	s.Ports = []snapshot.Port{p}
	s.Target = &snapshot.Target{By: snapshot.TargetAddress, PortID: p.ID}
	return s
}

// TestPortOnlyEveryExample: every recorded example, diagnosed through each
// of its router and DHCP ports as a port without a server, evaluates
// without a panic; the port's rules run, the others are not applicable.
func TestPortOnlyEveryExample(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "snapshots", "*.json"))
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	want := portRules()
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		for _, p := range exampleSnap(t, name).NetworkPorts {
			s := portOnly(exampleSnap(t, name), p)
			res := Evaluate(&Input{Snapshot: s}, Options{})
			ran := map[string]bool{}
			for _, n := range res.Passed {
				ran[n] = true
			}
			for _, f := range res.Findings {
				ran[f.Rule] = true
				if strings.Contains(f.Summary, "of server ") {
					t.Errorf("%s %s: %s names a server: %s", name, p.ID, f.Rule, f.Summary)
				}
			}
			for _, sk := range res.Skipped {
				ran[sk.Rule] = true
			}
			for _, r := range Catalogue() {
				na := slices.ContainsFunc(res.NotApplicable, func(k Skip) bool { return k.Rule == r.Name })
				if want[r] && !ran[r.Name] && !na {
					t.Errorf("%s %s: %s did not run", name, p.ID, r.Name)
				}
				if !want[r] && !r.NoServer && !na {
					t.Errorf("%s %s: %s is not marked not applicable", name, p.ID, r.Name)
				}
			}
		}
	}
}

// TestPortOnlyFindings: a fault on the port's own path is found on the
// port alone, worded without a server.
func TestPortOnlyFindings(t *testing.T) {
	cases := []struct{ example, owner, first string }{
		{"dhcp-agent-stopped", snapshot.OwnerDHCP, "agent/dhcp-down"},
		{"dhcp-disabled", "network:router_interface", "subnet/dhcp-disabled"},
	}
	for _, tc := range cases {
		s := exampleSnap(t, tc.example)
		i := slices.IndexFunc(s.NetworkPorts, func(p snapshot.Port) bool { return p.DeviceOwner == tc.owner })
		if i < 0 {
			t.Fatalf("%s: no %s port", tc.example, tc.owner)
		}
		s = portOnly(s, s.NetworkPorts[i])
		res := Evaluate(&Input{Snapshot: s}, Options{})
		if len(res.Findings) == 0 || res.Findings[0].Rule != tc.first {
			t.Errorf("%s: findings %+v, want %s first", tc.example, res.Findings, tc.first)
			continue
		}
		for _, c := range slices.Concat(res.Findings[0].Remediation, res.Findings[0].Verify) {
			if strings.Contains(c.String(), "server") {
				t.Errorf("%s: a command for a server: %s", tc.example, c)
			}
		}
	}
	// The port itself admin-down.
	s := exampleSnap(t, "port-admin-down")
	s = portOnly(s, s.Ports[0])
	res := Evaluate(&Input{Snapshot: s}, Options{})
	if len(res.Findings) == 0 || res.Findings[0].Rule != "port/admin-down" || strings.Contains(res.Findings[0].Summary, "server") {
		t.Errorf("port-admin-down: %+v", res.Findings)
	}
	if !slices.ContainsFunc(res.NotApplicable, func(k Skip) bool {
		return k.Rule == "instance/not-active" && strings.Contains(k.Reason, "needs a server")
	}) {
		t.Errorf("instance/not-active is not 'not applicable': %+v", res.NotApplicable)
	}
}
