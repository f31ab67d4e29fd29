package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestIpcalc(t *testing.T) {
	code, out, _ := run(t, nil, "ipcalc", "10.0.0.12/24")
	want := `Address:   10.0.0.12
Network:   10.0.0.0/24
Netmask:   255.255.255.0 = 24
Wildcard:  0.0.0.255
Broadcast: 10.0.0.255
Gateway:   10.0.0.1 (the first host: Neutron's default gateway_ip)
HostMin:   10.0.0.1
HostMax:   10.0.0.254
Hosts:     254
`
	if code != ExitOK || out != want {
		t.Errorf("exit %d\n%s\nwant\n%s", code, out, want)
	}

	code, out, _ = run(t, nil, "ipcalc", "2001:db8:1::/64", "192.168.7.9", "-o", "json")
	var got []ipcalcJSON
	if code != ExitOK || json.Unmarshal([]byte(out), &got) != nil || len(got) != 2 {
		t.Fatalf("json: exit %d\n%s", code, out)
	}
	if v6 := got[0]; v6.Version != 6 || v6.Network != "2001:db8:1::/64" || v6.Netmask != "ffff:ffff:ffff:ffff::" || v6.Broadcast != "" ||
		v6.Gateway != "2001:db8:1::1" || v6.Hosts != "18446744073709551615" || v6.HostMax != "2001:db8:1:0:ffff:ffff:ffff:ffff" {
		t.Errorf("v6 = %+v", v6)
	}
	if h := got[1]; h.Prefixlen != 32 || h.Gateway != "" || h.Hosts != "1" || h.Broadcast != "" {
		t.Errorf("host = %+v", h)
	}

	code, out, _ = run(t, nil, "ipcalc", "10.0.0.12/24", "--ifcfg", "eth0")
	if code != ExitOK || out != "DEVICE=eth0\nONBOOT=yes\nBOOTPROTO=none\nIPADDR=10.0.0.12\nNETMASK=255.255.255.0\nGATEWAY=10.0.0.1\n" {
		t.Errorf("ifcfg: exit %d\n%s", code, out)
	}

	for _, args := range [][]string{{"ipcalc"}, {"ipcalc", "10.0.0.0/33"}, {"ipcalc", "vm1"}, {"ipcalc", "10.0.0.0/8", "-o", "xml"}} {
		code, out, errOut := run(t, nil, args...)
		if code != ExitUsage || out != "" || !strings.HasPrefix(errOut, "hoofbeat: ") || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%v: exit %d %q %q", args, code, out, errOut)
		}
	}
}

// TestIpcalcIfcfgOVSBridge: --ovs-bridge adds Open vSwitch's keys, and
// needs --ifcfg.
func TestIpcalcIfcfgOVSBridge(t *testing.T) {
	code, out, _ := run(t, nil, "ipcalc", "172.24.4.0/24", "--ifcfg", "br-ex", "--ovs-bridge")
	if code != ExitOK || out != "DEVICE=br-ex\nONBOOT=yes\nBOOTPROTO=none\nIPADDR=172.24.4.1\nNETMASK=255.255.255.0\nDEVICETYPE=ovs\nTYPE=OVSBridge\n" {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if code, _, _ := run(t, nil, "ipcalc", "172.24.4.0/24", "--ovs-bridge"); code != ExitUsage {
		t.Errorf("--ovs-bridge without --ifcfg: exit %d", code)
	}
}
