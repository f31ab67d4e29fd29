package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
)

// TestDiagnoseByAddress: diagnose takes an address, a floating IP, a MAC or
// a port ID; a port without a server is diagnosed as a port; an ambiguous
// address exits 2 listing the candidates.
func TestDiagnoseByAddress(t *testing.T) {
	w := fakeos.Standard()
	c := fakeos.Start(t, w)
	env := adminEnv(c)
	for _, q := range []string{fakeos.ServerIP, fakeos.FloatingAddress, "fa:16:3e:5b:1c:2d", fakeos.PortID} {
		code, out, errOut := run(t, env, "diagnose", q)
		if code != ExitOK || !strings.Contains(out, "Server   vm1 "+fakeos.ServerID) || !strings.Contains(out, "found by") || !strings.Contains(out, fakeos.PortID) {
			t.Errorf("diagnose %s: exit %d\n%s\n%s", q, code, out, errOut)
		}
	}

	// The router's interface: a port without a server.
	code, out, errOut := run(t, env, "diagnose", "10.0.0.1")
	if code != ExitOK || !strings.Contains(out, "Port     "+fakeos.RouterPortID+", found by address 10.0.0.1") {
		t.Errorf("diagnose 10.0.0.1: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"network:router_interface", "no server", "no server: the port is diagnosed alone", "not applicable"} {
		if !strings.Contains(out, want) {
			t.Errorf("diagnose 10.0.0.1 lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, env, "diagnose", "10.0.0.1", "-o", "json")
	var doc struct {
		Server        any                             `json:"server"`
		Target        struct{ By, PortID string }     `json:"target"`
		NotApplicable []struct{ Rule, Reason string } `json:"not_applicable"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != ExitOK {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	if doc.Server != nil || doc.Target.By != "address" {
		t.Errorf("server %v, target %+v", doc.Server, doc.Target)
	}
	na := false
	for _, n := range doc.NotApplicable {
		na = na || n.Rule == "instance/not-active" && strings.Contains(n.Reason, "needs a server")
	}
	if !na {
		t.Errorf("instance/not-active is not 'not applicable': %+v", doc.NotApplicable)
	}

	// The same address on another port: ambiguous.
	c.Update(func(w *fakeos.World) {
		w.Ports = append(w.Ports, fakeos.Port{ID: "0d0d0d0d-0000-4000-8000-000000000d0d", Name: "twin", NetworkID: fakeos.PublicNetworkID,
			MAC: "fa:16:3e:aa:bb:03", FixedIPs: []fakeos.FixedIP{{SubnetID: fakeos.PublicSubnetID, IP: fakeos.ServerIP}}})
	})
	code, _, errOut = run(t, env, "diagnose", fakeos.ServerIP)
	if code != ExitUsage || !strings.Contains(errOut, "candidates:") || !strings.Contains(errOut, "twin") || !strings.Contains(errOut, fakeos.PortID) {
		t.Errorf("ambiguous: exit %d\n%s", code, errOut)
	}
}

// TestGatewayHopNamesNetwork: the gateway hop names the external network,
// read beside the neighbourhood (no round trip more).
func TestGatewayHopNamesNetwork(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	_, out, _ := run(t, adminEnv(c), "diagnose", fakeos.ServerName)
	if !strings.Contains(out, "gateway          ok       public 172.24.4.20") {
		t.Errorf("the gateway hop does not name the network:\n%s", out)
	}
}

// TestDiagnosePortWithHosts: a port without a server, with --hosts: the
// hosts serving it (its DHCP and L3 agents') are checked; the host rules
// that need a server are not applicable.
func TestDiagnosePortWithHosts(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	code, out, errOut := run(t, adminEnv(c), "diagnose", "10.0.0.2", "--hosts", "-o", "json",
		"--replay", fakeos.ComputeHost+"="+filepath.Join(hostRecordings, "healthy", "cmp1"),
		"--replay", fakeos.NetworkHost+"="+filepath.Join(hostRecordings, "healthy", "ctl"))
	if code == ExitUsage || code == ExitUnreachable || !strings.Contains(out, `"hosts": [`) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var doc struct {
		NotApplicable []struct{ Rule, Reason string } `json:"not_applicable"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	na := map[string]bool{}
	for _, n := range doc.NotApplicable {
		na[n.Rule] = true
	}
	if !na["host/vif-detached"] || !na["instance/not-active"] {
		t.Errorf("not applicable: %+v", doc.NotApplicable)
	}
}

// TestDiagnoseVIP: a VIP's port (no device) is diagnosed alone; its
// security groups filter no server's VIF, and the path says so rather
// than "ok".
func TestDiagnoseVIP(t *testing.T) {
	w := fakeos.Standard()
	w.Ports = append(w.Ports, fakeos.Port{ID: "a1a1a1a1-0000-4000-8000-000000000a1a", Name: "vip", NetworkID: fakeos.NetworkID, ProjectID: fakeos.DemoProjectID,
		Status: "DOWN", MAC: "fa:16:3e:aa:bb:02", FixedIPs: []fakeos.FixedIP{{SubnetID: fakeos.SubnetID, IP: "10.0.0.50"}},
		SecurityGroups: []string{fakeos.DefaultSGID}})
	c := fakeos.Start(t, w)
	code, out, errOut := run(t, adminEnv(c), "diagnose", "10.0.0.50")
	for _, want := range []string{
		"Port     vip a1a1a1a1-0000-4000-8000-000000000a1a, found by address 10.0.0.50, no device owner, no server",
		"port             ok       vip 10.0.0.50 DOWN",
		"security-groups  n/a      default — it needs a server: port a1a1a1a1-0000-4000-8000-000000000a1a has none",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if code != ExitOK {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
