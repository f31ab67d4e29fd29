package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseOVSLabRecordings parses what the lab's Open vSwitch flavour
// (LAB_L2=ovs: ovs-vswitchd on the userspace datapath, the OVS agent) really
// answered to ovs-vsctl --format=json list Bridge/Port/Interface, on both
// hosts and in every recorded scenario: the agent's bridges are there, no
// interface is in error, and each host has a VXLAN tunnel to the other,
// except where the ovs-tunnel-deleted fault took cmp1's away.
func TestParseOVSLabRecordings(t *testing.T) {
	peer := map[string]string{"ctl": "192.0.2.11", "cmp1": "192.0.2.10"}
	dirs, _ := filepath.Glob(filepath.Join("testdata", "lab", "ovs-*", "*"))
	if len(dirs) == 0 {
		t.Fatal("no OVS lab recordings under testdata/lab/ovs-*")
	}
	for _, dir := range dirs {
		host := filepath.Base(dir)
		scenario := filepath.Base(filepath.Dir(dir))
		wantTunnel := !(scenario == "ovs-ovs-tunnel-deleted" && host == "cmp1")
		t.Run(scenario+"/"+host, func(t *testing.T) {
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			ovs, err := ParseOVS(read("ovs_bridge.json"), read("ovs_port.json"), read("ovs_interface.json"))
			if err != nil {
				t.Fatal(err)
			}
			bridges := map[string]bool{}
			for _, b := range ovs.Bridges {
				bridges[b.Name] = true
			}
			for _, want := range []string{"br-int", "br-tun"} {
				if !bridges[want] {
					t.Errorf("no bridge %s in %+v", want, ovs.Bridges)
				}
			}
			// Every port the agent bound (tap…) has its local VLAN, and its
			// interface names the Neutron port it is.
			// An admin-down port is moved to the dead VLAN (4095) by the
			// agent: vm1's VIF in port-admin-down.
			for _, p := range ovs.Ports {
				if !strings.HasPrefix(p.Name, "tap") {
					continue
				}
				dead := scenario == "ovs-port-admin-down" && p.Name == "tap0c0a4250-5d"
				if p.Tag == nil || *p.Tag == 0 || (*p.Tag == 4095) != dead || p.NetUUID == "" {
					t.Errorf("port %s: tag %v, net %q", p.Name, p.Tag, p.NetUUID)
				}
			}
			for _, i := range ovs.Interfaces {
				if strings.HasPrefix(i.Name, "tap") && (!strings.HasPrefix(i.IfaceID, i.Name[3:]) || i.AttachedMAC == "") {
					t.Errorf("interface %s: iface-id %q, attached-mac %q", i.Name, i.IfaceID, i.AttachedMAC)
				}
			}
			tunnel := false
			for _, i := range ovs.Interfaces {
				if i.Error != "" || i.OFPort < 0 {
					t.Errorf("interface %s in error in a lab that works: %+v", i.Name, i)
				}
				if i.Type == "vxlan" && i.RemoteIP == peer[host] {
					tunnel = true
				}
			}
			if tunnel != wantTunnel {
				t.Errorf("vxlan interface to %s: %v, want %v, among %+v", peer[host], tunnel, wantTunnel, ovs.Interfaces)
			}
		})
	}
}
