package rule

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

func TestParseFlows(t *testing.T) {
	p := netip.MustParsePrefix
	for _, c := range []struct {
		checks, froms []string
		want          []Flow
	}{
		{nil, nil, nil},
		{[]string{"tcp/22"}, nil, []Flow{{Spec: "tcp/22", Protocol: "tcp", PortMin: 22, PortMax: 22, From: p("0.0.0.0/0")}}},
		{[]string{"udp/53"}, []string{"203.0.113.7"}, []Flow{{Spec: "udp/53", Protocol: "udp", PortMin: 53, PortMax: 53, From: p("203.0.113.7/32")}}},
		{[]string{"TCP/8000-8080"}, []string{"10.1.2.3/8"}, []Flow{{Spec: "tcp/8000-8080", Protocol: "tcp", PortMin: 8000, PortMax: 8080, From: p("10.0.0.0/8")}}},
		{[]string{"tcp"}, nil, []Flow{{Spec: "tcp", Protocol: "tcp", PortMin: 1, PortMax: 65535, From: p("0.0.0.0/0")}}},
		{[]string{"icmp"}, nil, []Flow{{Spec: "icmp", Protocol: "icmp", PortMin: -1, PortMax: -1, From: p("0.0.0.0/0")}}},
		{[]string{"icmp/8"}, nil, []Flow{{Spec: "icmp/8", Protocol: "icmp", PortMin: 8, PortMax: -1, From: p("0.0.0.0/0")}}},
		{[]string{"icmp/3/4"}, nil, []Flow{{Spec: "icmp/3/4", Protocol: "icmp", PortMin: 3, PortMax: 4, From: p("0.0.0.0/0")}}},
		{[]string{"ipv6-icmp"}, nil, []Flow{{Spec: "ipv6-icmp", Protocol: "ipv6-icmp", PortMin: -1, PortMax: -1, From: p("::/0")}}},
		{[]string{"icmpv6/128"}, []string{"2001:db8::7"}, []Flow{{Spec: "icmpv6/128", Protocol: "ipv6-icmp", PortMin: 128, PortMax: -1, From: p("2001:db8::7/128")}}},
		{[]string{"icmp"}, []string{"2001:db8::/32"}, []Flow{{Spec: "icmp", Protocol: "icmp", PortMin: -1, PortMax: -1, From: p("2001:db8::/32")}}},
		{[]string{"47"}, nil, []Flow{{Spec: "47", Protocol: "47", From: p("0.0.0.0/0")}}},
		{[]string{"gre"}, nil, []Flow{{Spec: "gre", Protocol: "gre", From: p("0.0.0.0/0")}}},
		{[]string{"any"}, []string{"::ffff:192.0.2.1"}, []Flow{{Spec: "any", Protocol: "any", From: p("192.0.2.1/32")}}},
		{[]string{"tcp/22", "icmp"}, []string{"10.0.0.0/8", "2001:db8::/32"}, []Flow{
			{Spec: "tcp/22", Protocol: "tcp", PortMin: 22, PortMax: 22, From: p("10.0.0.0/8")},
			{Spec: "tcp/22", Protocol: "tcp", PortMin: 22, PortMax: 22, From: p("2001:db8::/32")},
			{Spec: "icmp", Protocol: "icmp", PortMin: -1, PortMax: -1, From: p("10.0.0.0/8")},
			{Spec: "icmp", Protocol: "icmp", PortMin: -1, PortMax: -1, From: p("2001:db8::/32")},
		}},
	} {
		got, err := ParseFlows(c.checks, c.froms)
		if err != nil {
			t.Errorf("ParseFlows(%q, %q): %v", c.checks, c.froms, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("ParseFlows(%q, %q) = %+v, want %+v", c.checks, c.froms, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("ParseFlows(%q, %q)[%d] = %+v, want %+v", c.checks, c.froms, i, got[i], c.want[i])
			}
		}
	}
}

func TestParseFlowsErrors(t *testing.T) {
	for _, c := range []struct {
		checks, froms []string
		want          string
	}{
		{[]string{""}, nil, `check "": empty`},
		{[]string{"tcp/0"}, nil, `check "tcp/0": port 0 is out of range 1-65535`},
		{[]string{"udp/65536"}, nil, `port 65536 is out of range 1-65535`},
		{[]string{"tcp/8080-8000"}, nil, `check "tcp/8080-8000": port range 8080-8000 is reversed`},
		{[]string{"tcp/ssh"}, nil, `port "ssh" is not a number`},
		{[]string{"tcp/+22"}, nil, `port "+22" is not a number`},
		{[]string{"tcp/22/23"}, nil, `want tcp/PORT or tcp/FIRST-LAST`},
		{[]string{"gre/5"}, nil, `check "gre/5": protocol gre has no ports`},
		{[]string{"47/1"}, nil, `protocol gre has no ports`},
		{[]string{"any/22"}, nil, `any takes no port`},
		{[]string{"htpp/80"}, nil, `check "htpp/80": unknown protocol "htpp"`},
		{[]string{"256"}, nil, `protocol number 256 is out of range 0-255`},
		{[]string{"icmp/8-9"}, nil, `ICMP takes one type, not a range`},
		{[]string{"icmp/300"}, nil, `ICMP type "300" is not a number 0-255`},
		{[]string{"icmp/8/256"}, nil, `ICMP code "256" is not a number 0-255`},
		{[]string{"icmp/8/0/1"}, nil, `want icmp, icmp/TYPE or icmp/TYPE/CODE`},
		{[]string{"tcp/22"}, []string{"10.0.0.0/33"}, `--from "10.0.0.0/33": not a CIDR or an IP address`},
		{[]string{"tcp/22"}, []string{"example.com"}, `--from "example.com": not a CIDR or an IP address`},
		{[]string{"tcp/22"}, []string{"fe80::1%eth0"}, `--from "fe80::1%eth0": not a CIDR or an IP address`},
		{[]string{"ipv6-icmp"}, []string{"10.0.0.0/8"}, `check "ipv6-icmp" is ICMPv6 and cannot come from the IPv4 source 10.0.0.0/8`},
		{nil, []string{"10.0.0.0/8"}, `--from 10.0.0.0/8 given without a --check`},
	} {
		_, err := ParseFlows(c.checks, c.froms)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseFlows(%q, %q) error = %v, want %q", c.checks, c.froms, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
	}
}

// FuzzParseFlows: no input panics the parser, and every flow it accepts
// compiles for the evaluator with sane bounds.
func FuzzParseFlows(f *testing.F) {
	for _, s := range [][2]string{
		{"tcp/22", "203.0.113.7"}, {"udp/53", "10.0.0.0/8"}, {"tcp/8000-8080", ""},
		{"icmp", "::/0"}, {"icmp/8/0", "0.0.0.0/0"}, {"ipv6-icmp/128", "2001:db8::1"},
		{"47", ""}, {"any", "::ffff:10.0.0.1"}, {"tcp/0", "1.2.3.4/33"}, {"x//-", "%"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, check, from string) {
		var froms []string
		if from != "" {
			froms = []string{from}
		}
		flows, err := ParseFlows([]string{check}, froms)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(check+from, "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		for _, fl := range flows {
			if !fl.From.IsValid() || fl.From != fl.From.Masked() {
				t.Fatalf("bad source %v", fl.From)
			}
			fs, err := compileFlow(fl)
			if err != nil {
				t.Fatalf("accepted flow does not compile: %v", err)
			}
			if fs.key.lo < 0 || fs.key.hi > keyMax || fs.key.lo > fs.key.hi {
				t.Fatalf("bad key range %+v for %+v", fs.key, fl)
			}
			_ = evalFlow(&snapshot.Snapshot{}, nil, fs)
		}
	})
}
