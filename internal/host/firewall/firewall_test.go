package firewall

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func read(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func udp(src string, port int) Packet {
	return Packet{Proto: "udp", Src: netip.MustParseAddr(src), DPort: port}
}

func tcp(src string, port int) Packet {
	return Packet{Proto: "tcp", Src: netip.MustParseAddr(src), DPort: port}
}

type fwCase struct {
	p        Packet
	accepted bool
	by       string // substring of the deciding rule
}

func check(t *testing.T, rs *Ruleset, cases []fwCase) {
	t.Helper()
	for _, c := range cases {
		v := rs.Evaluate(c.p)
		if v.Accepted != c.accepted || !strings.Contains(v.By, c.by) {
			t.Errorf("%s: got %s, want accepted=%t by %q", c.p, v, c.accepted, c.by)
		}
	}
}

// The lab's compute node, healthy and with the vxlan-blocked fault (real
// iptables-save output, nf_tables backend, neutron's linuxbridge chains).
func TestIPTablesLab(t *testing.T) {
	healthy, err := Parse(read(t, "iptables-save/cmp1-healthy.txt"), "")
	if err != nil {
		t.Fatal(err)
	}
	if healthy.IPT.Backend != "nf_tables" {
		t.Errorf("backend %q", healthy.IPT.Backend)
	}
	check(t, healthy, []fwCase{
		{udp("192.0.2.10", 4789), true, "policy ACCEPT of filter/INPUT"},
	})
	blocked, err := Parse(read(t, "iptables-save/cmp1-vxlan-blocked.txt"), "")
	if err != nil {
		t.Fatal(err)
	}
	check(t, blocked, []fwCase{
		{udp("192.0.2.10", 4789), false, "-A INPUT -s 192.0.2.10/32 -p udp -m udp --dport 4789 -j DROP"},
		{udp("192.0.2.12", 4789), true, "policy ACCEPT"},
		{udp("192.0.2.10", 6081), true, "policy ACCEPT"},
		{tcp("192.0.2.10", 4789), true, "policy ACCEPT"},
	})
	ctl, err := Parse(read(t, "iptables-save/ctl-healthy.txt"), "")
	if err != nil {
		t.Fatal(err)
	}
	check(t, ctl, []fwCase{{udp("192.0.2.11", 4789), true, "policy ACCEPT"}})
}

// Policy DROP, a user chain with RETURN, multiport ranges, a negated
// source and REJECT (real iptables-save output from a test namespace).
func TestIPTablesEvaluation(t *testing.T) {
	rs, err := Parse(read(t, "iptables-save/policy-drop-multiport.txt"), "")
	if err != nil {
		t.Fatal(err)
	}
	check(t, rs, []fwCase{
		{udp("192.0.2.11", 4789), true, `--dports 4789,6081 -m comment --comment "tunnel \"peers\"" -j ACCEPT`},
		{udp("192.0.2.11", 6081), true, "--dports 4789,6081"},
		{udp("192.0.2.12", 4789), false, "policy DROP of filter/INPUT"}, // RETURN before the accept
		{udp("198.51.100.7", 4789), false, "policy DROP"},
		{udp("192.0.2.11", 8472), false, "policy DROP"},
		{tcp("192.0.2.11", 6082), true, "--dports 22,6080:6083"},
		{tcp("198.51.100.7", 10001), false, "! -s 192.0.2.0/24 -p tcp -m tcp --dport 10000:20000 -j REJECT"},
		{tcp("192.0.2.10", 20000), true, "--dport 10000:20000 -j ACCEPT"},
		{tcp("192.0.2.10", 20001), false, "policy DROP"},
	})
	v := rs.Evaluate(udp("192.0.2.11", 4789))
	if strings.Join(v.Path, " ") != "filter/INPUT tunnels" {
		t.Errorf("path %q", v.Path)
	}
}

// Native nftables: a named set, an anonymous set with a range, jump and
// return, policy drop, and a drop in a prerouting chain of another table
// (real nft -j output).
func TestNFTEvaluation(t *testing.T) {
	rs, err := Parse("", read(t, "nft/peers.json"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, rs, []fwCase{
		{udp("192.0.2.11", 4789), true, `"right":"@tunnel_peers"`},
		{udp("192.0.2.12", 4789), false, "ip early pre"},
		{udp("192.0.2.13", 4789), false, "counter"},
		{udp("198.51.100.9", 6081), true, "198.51.100.0"},
		{tcp("203.0.113.1", 6083), true, "6080"},
		{tcp("192.0.2.50", 15000), true, "10000"},
		{tcp("203.0.113.1", 15000), false, "counter"},
	})
	empty, err := Parse("", read(t, "nft/empty.json"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, empty, []fwCase{{udp("192.0.2.11", 4789), true, "no nftables base chain"}})
}

// iptables-nft tables appear in nft's output too: they are evaluated once,
// from iptables-save.
func TestIPTablesNFTNotTwice(t *testing.T) {
	rs, err := Parse(read(t, "iptables-save/policy-drop-multiport.txt"), read(t, "nft/iptables-nft.json"))
	if err != nil {
		t.Fatal(err)
	}
	v := rs.Evaluate(udp("192.0.2.11", 4789))
	if !v.Accepted || len(v.Notes) != 0 {
		t.Errorf("got %s notes %q", v, v.Notes)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"-A INPUT -j ACCEPT\n", "*filter\n:INPUT\n", "*filter\n-A INPUT -s\n", "*filter\n-A INPUT --comment \"x\n", "garbage\n"} {
		if _, err := ParseIPTablesSave(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	if _, err := ParseNFT([]byte(`{"nftables": [`)); err == nil {
		t.Error("truncated nft: no error")
	}
}

func FuzzIPTablesSave(f *testing.F) {
	f.Add(read(f, "iptables-save/cmp1-vxlan-blocked.txt"))
	f.Add(read(f, "iptables-save/policy-drop-multiport.txt"))
	f.Fuzz(func(t *testing.T, s string) {
		ipt, err := ParseIPTablesSave(s)
		if err != nil {
			return
		}
		ipt.Evaluate(udp("192.0.2.10", 4789))
	})
}

func FuzzNFT(f *testing.F) {
	f.Add(read(f, "nft/peers.json"))
	f.Add(read(f, "nft/iptables-nft.json"))
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNFT([]byte(s))
		if err != nil {
			return
		}
		n.Evaluate(udp("192.0.2.11", 4789), nil)
	})
}
