package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exampleFirst is the first finding each recorded lab fault must give:
// examples/snapshots/<fault>.json, collected with "hoofbeat collect
// --hosts" from the lab with the fault injected (make examples), the same
// rule the e2e suite expects first.
var exampleFirst = map[string]string{
	"healthy": "",
	// A real guest (vm4, booted by Nova's libvirt driver; LAB_GUESTS=real):
	// its console log as Nova's API returns it, and its hypervisor cmp2.
	"guest-interface-down":      "instance/guest-network-config",
	"guest-wrong-gateway":       "instance/guest-network-config",
	"guest-serial-stale-listen": "host/serial-console-stale-listen",
	"guest-no-host-routes":      "instance/guest-network-config",
	"guest-no-metadata-route":   "instance/guest-network-config",
	"guest-firewall-dhcp":       "instance/dhcp-failed",
	"guest-firewall-icmp":       "instance/guest-network-config",
	// vm5, the Debian guest with the real cloud-init (LAB_GUEST_DEBIAN=1).
	"guest-cloud-init-failed": "instance/cloud-init-failed",
	"icmp-ingress":            "security-group/icmp-ingress-missing",
	"egress":                  "security-group/egress-missing",
	"router-interface":        "router/missing",
	"router-gateway":          "router/no-gateway",
	"dhcp-disabled":           "subnet/dhcp-disabled",
	"dhcp-agent-stopped":      "agent/dhcp-down",
	"port-admin-down":         "port/admin-down",
	"server-error":            "instance/not-active",
	"dnsmasq-killed":          "host/dnsmasq-not-running",
	"qr-device-deleted":       "host/router-interface-missing",
	"vxlan-blocked":           "host/tunnel-peer-blocked",
	"ovs-tunnel-deleted":      "host/ovs-port-error",
	"serial-listen-loopback":  "host/serial-console-config",
	"serialproxy-stopped":     "host/serialproxy-not-running",
	"selinux-evidence":        "host/selinux-denial",
	"agent-log-error":         "host/agent-log-error",
	"vif-down":                "host/device-down",
	"vif-detached":            "host/vif-detached",
	"vif-mtu":                 "host/mtu-too-small",
	"dhcp-device-down":        "host/device-down",
	"qg-down":                 "host/device-down",
	"ovs-dead-vlan":           "host/ovs-dead-vlan",
	"ovs-vni-flow-deleted":    "host/ovs-flow-missing",
	"l2pop-fdb-deleted":       "host/l2pop-entry-missing",
	// The OVN lab (make examples on LAB_L2=ovn).
	"ovn-healthy": "",
	// vm4 on the OVN lab's chassis cmp2, probed from its ovnmeta- namespace.
	"ovn-guest-firewall-icmp":    "instance/guest-network-config",
	"ovn-ovn-controller-stopped": "ovn/chassis-down",
	"ovn-northd-stopped":         "ovn/nb-cfg-lag",
	"ovn-lsp-deleted":            "ovn/lsp-missing",
	"ovn-gateway-chassis-bogus":  "ovn/gateway-chassis-missing",
	"ovn-acl-icmp-deleted":       "ovn/acl-mismatch",
	"ovn-ovn-metadata-stopped":   "agent/metadata-down",
	"ovn-encap-ip-changed":       "ovn/encap-mismatch",
	"ovn-dhcp-options-removed":   "ovn/dhcp-options-missing",
	"ovn-neutron-status-stale":   "port/down",
	"ovn-vif-down":               "host/device-down",
	"ovn-vif-mtu":                "host/mtu-too-small",
}

// exampleSays is what the first finding must say where its rule alone does
// not pin the fault down (ovs-port-error also means interfaces in error).
var exampleSays = map[string]string{
	"ovs-tunnel-deleted":       "Open vSwitch on host cmp1: no tunnel port to peer 192.0.2.10",
	"guest-interface-down":     "eth0",
	"guest-wrong-gateway":      "no default route",
	"guest-no-host-routes":     "host route 192.168.50.0/24 via 10.0.0.254",
	"guest-no-metadata-route":  "no default route",
	"guest-firewall-icmp":      "a firewall inside the guest drops it",
	"vxlan-blocked":            "192.0.2.10",
	"ovn-neutron-status-stale": "Neutron missed OVN's \"up\" event",
	"vif-down":                 "(the VIF of port vm1-port",
	"dhcp-device-down":         "(the DHCP port",
	"qg-down":                  "router router1's gateway) is administratively down",
}

// TestExamples: diagnose --from on every example snapshot, offline, gives
// the fault it was recorded with, in every output format.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "snapshots", "*.json"))
	if len(files) != len(exampleFirst) {
		t.Errorf("%d example snapshots, %d expected", len(files), len(exampleFirst))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			want, ok := exampleFirst[name]
			if !ok {
				t.Fatalf("no expectation for %s", f)
			}
			code, out, errOut := run(t, nil, "diagnose", "--from", f, "-o", "json")
			r := decode(t, out)
			if want == "" {
				for _, fd := range r.Findings {
					if fd.Severity != "info" {
						t.Errorf("healthy lab: %s %s", fd.Severity, fd.Rule)
					}
				}
				if code != ExitOK {
					t.Errorf("exit %d\n%s", code, errOut)
				}
				return
			}
			if len(r.Findings) == 0 || r.Findings[0].Rule != want {
				t.Fatalf("first finding %+v, want %s", r.Findings, want)
			}
			if says := exampleSays[name]; !strings.Contains(r.Findings[0].Summary, says) {
				t.Errorf("first finding says %q, want %q in it", r.Findings[0].Summary, says)
			}
			if wantCode := map[string]int{"error": ExitFindings, "warning": ExitOK}[r.Findings[0].Severity]; code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
			for _, format := range []string{"text", "markdown", "html"} {
				code2, out, _ := run(t, nil, "diagnose", "--from", f, "-o", format, "--redact")
				if code2 != code || !strings.Contains(out, want) {
					t.Errorf("-o %s --redact: exit %d, %s not in the report", format, code2, want)
				}
			}
		})
	}
}

// The examples hold no secret of the lab they were recorded in.
func TestExamplesHoldNoSecret(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "snapshots", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The lab's small guest greets on its console as CirrOS does, with
		// its login: a banner of the image, not a secret of the cloud.
		text := strings.ReplaceAll(string(b), "login as 'root' user. lab password: 'hoofbeat'.", "")
		for _, s := range []string{"password", "OS_PASSWORD", "X-Auth-Token", "gAAAA", "transport_url"} {
			if strings.Contains(text, s) {
				t.Errorf("%s contains %q", f, s)
			}
		}
	}
}
