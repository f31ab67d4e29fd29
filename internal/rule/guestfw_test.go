package rule

import (
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// guestFirewallFindings are the firewall findings of instance/guest-network-config.
func guestFirewallFindings(s *snapshot.Snapshot) []Finding {
	var out []Finding
	for _, f := range Evaluate(&Input{Snapshot: s}, Options{}).Findings {
		if f.Rule == "instance/guest-network-config" && strings.Contains(f.Summary, "firewall inside the guest") {
			out = append(out, f)
		}
	}
	return out
}

// TestGuestFirewall: vm4, the lab's real guest, with an iptables rule in the
// guest dropping ICMP echo (lab/fault.sh guest-firewall-icmp, collected
// with --hosts --probe): the probe from the DHCP namespace resolves ARP to
// the port's MAC, gets no reply, and lab-sg admits the ping: the guest's
// firewall is named, above the probe's own finding. Each part of that
// reasoning, taken away, takes the verdict away.
func TestGuestFirewall(t *testing.T) {
	s := exampleSnap(t, "guest-firewall-icmp")
	res := Evaluate(&Input{Snapshot: s}, Options{})
	if len(res.Findings) == 0 || res.Findings[0].Rule != "instance/guest-network-config" ||
		!strings.Contains(res.Findings[0].Summary, "answers ARP for 10.0.0.206 but not ICMP echo that its security groups admit: a firewall inside the guest drops it") {
		t.Fatalf("first finding: %+v", res.Findings)
	}
	ev := strings.Join(res.Findings[0].Evidence, "\n")
	for _, want := range []string{"is at fa:16:3e:5e:ed:14", "security groups lab-sg admit icmp/8 from 10.0.0.2/32: ingress IPv4 icmp from 0.0.0.0/0"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	probes := func(s *snapshot.Snapshot, f func(p *snapshot.Probe)) {
		for i := range s.Hosts {
			for j := range s.Hosts[i].Probes {
				f(&s.Hosts[i].Probes[j])
			}
		}
	}
	for name, mutate := range map[string]func(s *snapshot.Snapshot){
		"the ping answered": func(s *snapshot.Snapshot) { probes(s, func(p *snapshot.Probe) { p.Ping = true }) },
		"ARP unresolved":    func(s *snapshot.Snapshot) { probes(s, func(p *snapshot.Probe) { p.ARP = "" }) },
		// Another machine holds the address: not this guest's firewall.
		"ARP to another MAC": func(s *snapshot.Snapshot) { probes(s, func(p *snapshot.Probe) { p.ARP = "fa:16:3e:00:00:99" }) },
		"no ICMP rule": func(s *snapshot.Snapshot) {
			for i := range s.SecurityGroups {
				var kept []snapshot.SecurityGroupRule
				for _, r := range s.SecurityGroups[i].Rules {
					if r.Protocol != "icmp" {
						kept = append(kept, r)
					}
				}
				s.SecurityGroups[i].Rules = kept
			}
		},
		"no probe": func(s *snapshot.Snapshot) {
			for i := range s.Hosts {
				s.Hosts[i].Probes, s.Hosts[i].Probed = nil, false
			}
		},
	} {
		s := exampleSnap(t, "guest-firewall-icmp")
		mutate(s)
		if got := guestFirewallFindings(s); len(got) != 0 {
			t.Errorf("%s: still blames the guest's firewall: %s", name, got[0].Summary)
		}
	}
	// Healthy: the same guest answering.
	if got := guestFirewallFindings(exampleSnap(t, "healthy")); len(got) != 0 {
		t.Errorf("healthy: %s", got[0].Summary)
	}
}

// On ML2/OVN (the OVN lab's vm4 on chassis cmp2, recorded) the probe runs
// from the metadata agent's ovnmeta- namespace on the server's host, and
// its source is the network's metadata port, evaluated against the groups
// as the DHCP port's address is elsewhere.
func TestGuestFirewallOVN(t *testing.T) {
	s := exampleSnap(t, "ovn-guest-firewall-icmp")
	got := guestFirewallFindings(s)
	if len(got) != 1 {
		t.Fatalf("want one finding, got %d", len(got))
	}
	ev := strings.Join(got[0].Evidence, "\n")
	for _, want := range []string{"from ovnmeta-", "on cmp2: no reply", "is at fa:16:3e:5e:ed:14", "admit icmp/8 from 10.0.0.2/32"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	// Without the metadata port, nothing says where the ping came from.
	var kept []snapshot.Port
	for _, p := range s.NetworkPorts {
		if p.DeviceOwner != "network:distributed" {
			kept = append(kept, p)
		}
	}
	s.NetworkPorts = kept
	if got := guestFirewallFindings(s); len(got) != 0 {
		t.Errorf("no metadata port: still blames the guest's firewall: %s", got[0].Summary)
	}
}
