package rule

import (
	"slices"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot/snapshottest"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// The OVN lab's recordings (testdata/ovn/<scenario>-<server>.json): the
// API as "hoofbeat collect" saved it in the real LAB_L2=ovn lab, the hosts
// checked through the real collector from each chassis' recorded outputs
// and the lab's own NB and SB served by ovsdb-server (scripts/ovnrecord).
func ovnLab(t *testing.T, name string) *snapshot.Snapshot {
	return snapshottest.OVNLab(t, name)
}

// TestOVNLabFaults: each fault injected in the OVN lab is diagnosed with
// its rule first (the contract between the lab and the rules).
func TestOVNLabFaults(t *testing.T) {
	for _, c := range []struct{ scenario, server, first string }{
		{"ovn-controller-stopped", "vm3", "ovn/chassis-down"},
		{"northd-stopped", "vm1", "ovn/nb-cfg-lag"},
		{"lsp-deleted", "vm1", "ovn/lsp-missing"},
		{"gateway-chassis-bogus", "vm1", "ovn/gateway-chassis-missing"},
		{"acl-icmp-deleted", "vm1", "ovn/acl-mismatch"},
		{"ovn-metadata-stopped", "vm3", "agent/metadata-down"},
		{"dhcp-options-removed", "vm1", "ovn/dhcp-options-missing"},
	} {
		t.Run(c.scenario, func(t *testing.T) {
			res := Evaluate(&Input{Snapshot: ovnLab(t, c.scenario+"-"+c.server)}, Options{})
			if len(res.Findings) == 0 || res.Findings[0].Rule != c.first {
				t.Fatalf("want %s first, got\n%s", c.first, dump(res))
			}
		})
	}
}

// TestOVNLabHealthy: the healthy OVN lab reads healthy for a server on
// either host: no finding above info, the ML2 agents' and namespaces'
// rules not applicable, and every OVN rule ran.
func TestOVNLabHealthy(t *testing.T) {
	for _, server := range []string{"vm1", "vm3"} {
		t.Run(server, func(t *testing.T) {
			res := Evaluate(&Input{Snapshot: ovnLab(t, "healthy-"+server)}, Options{})
			if res.Worst() > Info {
				t.Fatalf("findings:\n%s", dump(res))
			}
			na := map[string]bool{}
			for _, x := range res.NotApplicable {
				na[x.Rule] = true
			}
			for _, r := range []string{"agent/dhcp-not-hosting", "agent/dhcp-down", "agent/l3-down", "agent/l2-down", "router/not-scheduled",
				"network/no-dhcp-port", "host/netns-missing", "host/dnsmasq-not-running", "host/dhcp-interface-missing",
				"host/router-interface-missing", "host/instance-unreachable-from-dhcp-namespace"} {
				if !na[r] {
					t.Errorf("%s is not 'not applicable'", r)
				}
			}
			ran := map[string]bool{}
			for _, p := range res.Passed {
				ran[p] = true
			}
			for _, sk := range res.Skipped {
				ran[sk.Rule] = ran[sk.Rule] || sk.Partial
			}
			for _, r := range Catalogue() {
				if r.Domain() == "ovn" && !ran[r.Name] {
					t.Errorf("%s did not run", r.Name)
				}
			}
		})
	}
}

// TestOVNLabTraceFollows: where ovn-trace drops the ping because of a
// cause another rule names (the ICMP ACL gone, the LSP gone), the trace's
// finding is that cause's symptom.
func TestOVNLabTraceFollows(t *testing.T) {
	for scenario, cause := range map[string]string{"acl-icmp-deleted": "ovn/acl-mismatch", "lsp-deleted": "ovn/lsp-missing"} {
		res := Evaluate(&Input{Snapshot: ovnLab(t, scenario+"-vm1")}, Options{})
		i := slices.IndexFunc(res.Findings, func(f Finding) bool { return f.Rule == "ovn/trace-drop" })
		if i < 0 || res.Findings[i].CausedBy != cause || res.Findings[i].Severity != Info {
			t.Errorf("%s: want ovn/trace-drop caused by %s, got\n%s", scenario, cause, dump(res))
		}
	}
}

// TestOVNLabMetadataFollowsChassis: with ovn-controller stopped, Neutron
// reads the chassis' metadata agent dead too: that follows from the
// stopped controller, whose fix comes first.
func TestOVNLabMetadataFollowsChassis(t *testing.T) {
	res := Evaluate(&Input{Snapshot: ovnLab(t, "ovn-controller-stopped-vm3")}, Options{})
	i := slices.IndexFunc(res.Findings, func(f Finding) bool { return f.Rule == "agent/metadata-down" })
	if i < 0 || res.Findings[i].CausedBy != "ovn/chassis-down" || res.Worst() != Error || len(res.Findings) < 1 || res.Findings[0].Rule != "ovn/chassis-down" {
		t.Errorf("want agent/metadata-down caused by ovn/chassis-down, got\n%s", dump(res))
	}
	for _, f := range res.Findings[1:] {
		if f.Severity > Info {
			t.Errorf("a second finding above info: %s %s", f.Rule, f.Summary)
		}
	}
}
