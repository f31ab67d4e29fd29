package ipcalc

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in                                                   string
		network, netmask, broadcast, gateway, first, last, n string
	}{
		{"10.0.0.12/24", "10.0.0.0/24", "255.255.255.0", "10.0.0.255", "10.0.0.1", "10.0.0.1", "10.0.0.254", "254"},
		{"10.0.0.0/26", "10.0.0.0/26", "255.255.255.192", "10.0.0.63", "10.0.0.1", "10.0.0.1", "10.0.0.62", "62"},
		{"172.24.4.77/20", "172.24.0.0/20", "255.255.240.0", "172.24.15.255", "172.24.0.1", "172.24.0.1", "172.24.15.254", "4094"},
		{"192.168.1.5/30", "192.168.1.4/30", "255.255.255.252", "192.168.1.7", "192.168.1.5", "192.168.1.5", "192.168.1.6", "2"},
		{"192.168.1.4/31", "192.168.1.4/31", "255.255.255.254", "invalid IP", "invalid IP", "192.168.1.4", "192.168.1.5", "2"},
		{"203.0.113.9", "203.0.113.9/32", "255.255.255.255", "invalid IP", "invalid IP", "203.0.113.9", "203.0.113.9", "1"},
		{"0.0.0.0/0", "0.0.0.0/0", "0.0.0.0", "255.255.255.255", "0.0.0.1", "0.0.0.1", "255.255.255.254", "4294967294"},
		{"2001:db8:1:2::12/64", "2001:db8:1:2::/64", "ffff:ffff:ffff:ffff::", "invalid IP", "2001:db8:1:2::1", "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "18446744073709551615"},
		{"2001:db8::/127", "2001:db8::/127", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "invalid IP", "2001:db8::1", "2001:db8::1", "2001:db8::1", "1"},
		{"fd00::1/128", "fd00::1/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "invalid IP", "invalid IP", "fd00::1", "fd00::1", "1"},
		{"::ffff:10.0.0.1/120", "10.0.0.0/24", "255.255.255.0", "10.0.0.255", "10.0.0.1", "10.0.0.1", "10.0.0.254", "254"},
	}
	for _, c := range cases {
		in, err := Parse(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		got := []string{in.Network.String(), in.Netmask.String(), in.Broadcast.String(), in.Gateway.String(), in.First.String(), in.Last.String(), in.Hosts.String()}
		want := []string{c.network, c.netmask, c.broadcast, c.gateway, c.first, c.last, c.n}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s:\n got  %v\n want %v", c.in, got, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "10.0.0.0/33", "10.0.0/24", "fe80::1%eth0/64", "2001:db8::/129", "host-1", "10.0.0.1/-1"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestIfcfgLines(t *testing.T) {
	in, _ := Parse("10.0.0.12/24")
	if got := strings.Join(in.IfcfgLines("eth0", in.Gateway), " "); got != "DEVICE=eth0 ONBOOT=yes BOOTPROTO=none IPADDR=10.0.0.12 NETMASK=255.255.255.0 GATEWAY=10.0.0.1" {
		t.Errorf("ifcfg = %s", got)
	}
	in6, _ := Parse("2001:db8::12/64")
	if got := strings.Join(in6.IfcfgLines("eth0", in6.Gateway), " "); got != "DEVICE=eth0 ONBOOT=yes BOOTPROTO=none IPV6INIT=yes IPV6ADDR=2001:db8::12/64 IPV6_DEFAULTGW=2001:db8::1" {
		t.Errorf("ifcfg = %s", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"10.0.0.0/24", "::/0", "::ffff:1.2.3.4/96", "1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in, err := Parse(s)
		if err != nil {
			return
		}
		if !in.Network.IsValid() || !in.Netmask.IsValid() || in.Hosts.Sign() < 0 || in.First.Compare(in.Last) > 0 {
			t.Fatalf("%q: %+v", s, in)
		}
		if !in.Contains(in.First) || !in.Contains(in.Last) {
			t.Fatalf("%q: range outside the network", s)
		}
	})
}

// TestIfcfgNeverTheNetworkAddress: a network given as its own address gets
// its usual gateway configured (an all-in-one host's br-ex), without a
// GATEWAY line pointing at itself.
func TestIfcfgNeverTheNetworkAddress(t *testing.T) {
	in, err := Parse("172.24.4.0/24")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(in.IfcfgLines("br-ex", in.Gateway), " "); got != "DEVICE=br-ex ONBOOT=yes BOOTPROTO=none IPADDR=172.24.4.1 NETMASK=255.255.255.0" {
		t.Errorf("got %q", got)
	}
	in, _ = Parse("192.0.2.7/32")
	if got := in.HostAddress().String(); got != "192.0.2.7" {
		t.Errorf("a /32 keeps its address: %s", got)
	}
}
