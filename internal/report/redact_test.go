package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// sensitive lists what a redacted report must not show of labSnapshot.
var sensitive = []string{
	projectID, "cmp1", "ctl", "192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.53",
	"10.0.0.12", "10.0.0.1", "10.0.0.2", "10.0.0.0", "10.0.5.7", "172.24.4.150", "172.24.4.201", "172.24.4.1", "172.24.4.0",
	"203.0.113.7", "user admin", "project demo",
}

func renderAll(t *testing.T, r *Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, rd := range renderings {
		var b bytes.Buffer
		if err := rd.render(&b, r); err != nil {
			t.Fatal(err)
		}
		out[rd.suffix] = b.String()
	}
	return out
}

func TestRedactHidesWhatItShould(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for suffix, out := range renderAll(t, Redact(c.rep())) {
				for _, s := range sensitive {
					if regexp.MustCompile(`(^|[^0-9A-Za-z.-])` + regexp.QuoteMeta(s) + `($|[^0-9A-Za-z-]|\.[^0-9])`).MatchString(out) {
						t.Errorf("%s%s shows %q", c.name, suffix, s)
					}
				}
			}
		})
	}
}

func TestRedactKeepsWhatItShould(t *testing.T) {
	r := Redact(icmpAndNoRouter())
	var b bytes.Buffer
	if err := Text(&b, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, keep := range []string{
		// What the operator needs to act: rule names, resource IDs and names,
		// commands, well-known addresses.
		"security-group/icmp-ingress-missing", serverID, portID, "web1", "private-subnet", "lab-sg",
		"--remote-ip 0.0.0.0/0 lab-sg", "ip netns exec qdhcp-" + privateNetID,
		// The masks, consistent: the same address is the same mask in the
		// path, the summary, the evidence and the commands.
		"user user-1 (admin)", "project project-1", "on host-1",
	} {
		if !strings.Contains(out, keep) {
			t.Errorf("redacted text lacks %q:\n%s", keep, out)
		}
	}
	ip := regexp.MustCompile(`admits ICMP to (ip-\d+): pings`).FindStringSubmatch(out)
	if ip == nil {
		t.Fatalf("no masked address in the summary:\n%s", out)
	}
	if n := len(regexp.MustCompile(regexp.QuoteMeta(ip[1])+`\b`).FindAllString(out, -1)); n < 6 {
		t.Errorf("%s appears %d times: the fixed IP is not masked the same everywhere", ip[1], n)
	}
	if !strings.Contains(out, "ping -c 3 "+ip[1]) || !strings.Contains(out, "("+ip[1]+") is in groups") {
		t.Errorf("commands and evidence use another mask than the summary:\n%s", out)
	}
	if !regexp.MustCompile(`private-subnet ip-\d+/24 gateway ip-\d+, DHCP on`).MatchString(out) {
		t.Errorf("the subnet's prefix length is lost:\n%s", out)
	}
	if !strings.Contains(out, "tcp/22 from ip-") || !strings.Contains(out, "/32") {
		t.Errorf("the flow's source is not masked as an address:\n%s", out)
	}
	if !strings.Contains(out, "http://ip-") || !strings.Contains(out, ":5000/v3") {
		t.Errorf("the auth URL's address is not masked:\n%s", out)
	}
}

func TestRedactIsDeterministicAndPure(t *testing.T) {
	orig := twoPorts()
	before, _ := json.Marshal(orig.Snapshot)
	first := renderAll(t, Redact(orig))
	for i := 0; i < 10; i++ {
		if got := renderAll(t, Redact(twoPorts())); !reflect.DeepEqual(got, first) {
			t.Fatal("masks change between runs")
		}
	}
	after, _ := json.Marshal(orig.Snapshot)
	if !bytes.Equal(before, after) {
		t.Error("Redact changed its input")
	}
	// The verdict does not change.
	if a, b := build(orig).Verdict, build(Redact(orig)).Verdict; a != b {
		t.Errorf("verdict %q became %q", a, b)
	}
}

func TestMaskAddresses(t *testing.T) {
	m := newMasker()
	got := m.mask("10.0.0.12 and 10.0.0.12/24, gw 10.0.0.1. metadata 169.254.169.254, any 0.0.0.0/0, mask 255.255.255.0, " +
		"loop 127.0.0.1, v6 2001:db8::12/64 fe80::1, mac fa:16:3e:12:34:56, time 10:12:03, version 23.3.3, url http://192.0.2.10:5000/v3 a::b")
	want := "ip-1 and ip-1/24, gw ip-2. metadata 169.254.169.254, any 0.0.0.0/0, mask 255.255.255.0, " +
		"loop 127.0.0.1, v6 ip-3/64 ip-4, mac mac-1, time 10:12:03, version 23.3.3, url http://ip-5:5000/v3 a::b"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := replaceWord("ctl ctl-2 ctl.example qdhcp-ctl ctl", "ctl", "host-1"); got != "host-1 ctl-2 host-1.example qdhcp-ctl host-1" {
		t.Errorf("replaceWord: %s", got)
	}
}
