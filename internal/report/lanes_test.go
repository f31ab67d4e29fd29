package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestLanesText: the text view gives the path picture per host in one
// line each, in the packet's order: on the Open vSwitch lab with cmp1's
// tunnel port deleted, cmp1's br-tun is the problem; on the Linux bridge
// lab with vm1's VIF down, the VIF on ctl.
func TestLanesText(t *testing.T) {
	for name, want := range map[string][]string{
		"ovs-tunnel-deleted": {
			"    cmp1 (compute): VIF tapb182e940-11 ok → bridge br-int ok → tunnel br-tun PROBLEM\n",
			"    ctl (dhcp, l3): tunnel br-tun ok → bridge br-int ok → qdhcp ns-93f0338d-79 ok → qrouter qr-10baf1bb-68 ok → gateway qg-90f1e80b-37 ok\n",
		},
		"vif-down": {
			"    ctl (compute, dhcp, l3, metadata): VIF tap9dd0cd83-4e PROBLEM → bridge brq39bde935-51 ok → qdhcp ns-7e27933d-21 ok → qrouter qr-f63546ac-40 ok → gateway qg-903bd831-2b ok → tunnel vxlan-146 ok\n",
		},
		"dhcp-device-down": {"qdhcp ns-"},
		// ML2/OVN has no br-tun: its geneve ports on br-int are the tunnel.
		"ovn-healthy":              {"    ctl (compute, ovn-gateway, metadata): VIF tap", "ok → bridge br-int ok → tunnel ovn-cmp1-0 ok\n"},
		"ovn-neutron-status-stale": {"ok → bridge br-int ok → tunnel ovn-cmp1-0 ok\n"},
	} {
		var b bytes.Buffer
		if err := Text(&b, exampleReport(t, name), TextOptions{}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in\n%s", name, w, out)
			}
		}
		if strings.HasPrefix(name, "ovn-") && strings.Contains(out, "tunnel br-tun") {
			t.Errorf("%s: a br-tun on ML2/OVN:\n%s", name, out)
		}
		if name == "dhcp-device-down" && !strings.Contains(out, "PROBLEM → qrouter") {
			t.Errorf("dhcp-device-down: the qdhcp station is not the problem:\n%s", out)
		}
	}
	// A host that could not be reached is drawn as not checked.
	r := exampleReport(t, "vif-down")
	r.Snapshot.Hosts[0].Unreachable = "unreachable: dial tcp: i/o timeout"
	var b bytes.Buffer
	if err := Text(&b, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "    ctl (compute, dhcp, l3, metadata): not checked: unreachable: dial tcp: i/o timeout") {
		t.Errorf("unreachable host:\n%s", b.String())
	}
}

// TestLanesMarkdown: the incident report draws the same path per host.
func TestLanesMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, exampleReport(t, "ovs-tunnel-deleted")); err != nil {
		t.Fatal(err)
	}
	want := "cmp1 (compute):\n  ✓ VIF tapb182e940-11 → ✓ bridge br-int → ✗ tunnel br-tun\n"
	if !strings.Contains(b.String(), "### The packet's way across the hosts") || !strings.Contains(b.String(), want) {
		t.Errorf("no %q in\n%s", want, b.String())
	}
}

// TestOVNDHCPHop: on ML2/OVN no DHCP port is expected; the DHCP hop says
// who answers instead of "no DHCP port on <network>".
func TestOVNDHCPHop(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, exampleReport(t, "ovn-healthy"), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if want := "no DHCP port: on ML2/OVN, ovn-controller answers DHCP from the subnet's DHCP_Options"; !strings.Contains(b.String(), want) {
		t.Errorf("no %q in\n%s", want, b.String())
	}
}
