//go:build e2e

package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The lab's cmp2 (ML2 agent flavours only) is a compute host with an alive L2
// agent and no instance. With l2population, no agent builds a tunnel or a
// forwarding entry towards it: that is healthy, and hoofbeat must say so.
const idleHost, idleVTEP = "cmp2", "192.0.2.12"

func onHost(t *testing.T, host string, argv ...string) []byte {
	t.Helper()
	out, err := exec.Command(filepath.Join(repo, "lab/on.sh"), append([]string{host}, argv...)...).Output()
	if err != nil {
		t.Fatalf("on %s: %s: %v", host, strings.Join(argv, " "), err)
	}
	return out
}

func TestIdleHostStaysHealthy(t *testing.T) {
	if l2 == "ovn" {
		t.Skip("ML2/OVN tunnels to every chassis; the idle compute host exists with the ML2 agents only")
	}
	if guests == "real" {
		t.Skip("with real guests cmp2 is vm4's hypervisor, not idle (the Open vSwitch lab runs this test)")
	}
	var agents []struct {
		Type  string `json:"Agent Type"`
		Alive bool   `json:"Alive"`
	}
	if err := json.Unmarshal(onHost(t, "ctl", "openstack", "--os-cloud", "lab-admin", "network", "agent", "list", "--host", idleHost, "-f", "json"), &agents); err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || !agents[0].Alive {
		t.Fatalf("want one alive L2 agent on %s, got %+v", idleHost, agents)
	}

	// The precondition, read from the data plane: ctl reaches cmp1 (vm3's
	// host) and has nothing towards the idle host.
	switch l2 {
	case "linuxbridge":
		var fdb []struct {
			Ifname string `json:"ifname"`
			Dst    string `json:"dst"`
		}
		if err := json.Unmarshal(onHost(t, "ctl", "bridge", "-json", "fdb", "show"), &fdb); err != nil {
			t.Fatal(err)
		}
		dsts := map[string]bool{}
		for _, e := range fdb {
			if strings.HasPrefix(e.Ifname, "vxlan-") {
				dsts[e.Dst] = true
			}
		}
		if !dsts["192.0.2.11"] || dsts[idleVTEP] {
			t.Fatalf("ctl's VXLAN forwarding entries go to %v: want cmp1's VTEP and not %s's (is l2population on?)", dsts, idleHost)
		}
	case "ovs":
		ports := string(onHost(t, "ctl", "ovs-vsctl", "list-ports", "br-tun"))
		if !strings.Contains(ports, "vxlan-c000020b") || strings.Contains(ports, "vxlan-c000020c") {
			t.Fatalf("ctl's br-tun ports %q: want a tunnel to cmp1 and none to %s (is l2population on?)", ports, idleHost)
		}
	}

	for _, server := range []string{"vm1", "vm3"} {
		r, code := diagnose(t, "lab-admin", server)
		if code != 0 || len(r.errors()) > 0 {
			t.Errorf("%s with an idle %s: exit %d\n%s", server, idleHost, code, r)
		}
		for _, f := range r.Findings {
			if strings.Contains(f.Summary, idleHost) || strings.Contains(f.Summary, idleVTEP) {
				t.Errorf("%s: a finding about the idle host: %s %s: %s", server, f.Severity, f.Rule, f.Summary)
			}
		}
	}
}
