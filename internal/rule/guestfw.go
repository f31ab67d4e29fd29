package rule

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// guestFirewall names a firewall inside the guest from the active probe
// (--probe): from the server's own network's DHCP namespace (on ML2/OVN,
// the metadata namespace on the server's host), ARP resolves
// the server's address to its port's MAC (the guest is up, on the wire,
// with the right address), the ping gets no answer, and the port's
// security groups admit ICMP echo from that port's address. Nothing on
// OpenStack's side is left to drop it: the guest does. The console log
// rarely says so (a firewall prints nothing), so this is read off the
// wire, not the console.
func guestFirewall(in *Input) []Finding {
	s := in.Snapshot
	if s.Server == nil {
		return nil
	}
	var out []Finding
	for _, h := range reached(in) {
		for _, pr := range h.Probes {
			if pr.Error != "" || pr.Ping || pr.ARP == "" {
				continue
			}
			p := portWithAddr(s.Ports, pr.Target)
			if p == nil || !strings.EqualFold(pr.ARP, p.MACAddress) {
				continue
			}
			src, ok := probeSource(s, p.NetworkID, h.Name, pr)
			if !ok {
				continue
			}
			sgWhy, admitted := echoAdmitted(s, p, src)
			if !admitted {
				// The groups drop it: security-group/icmp-ingress-missing says so.
				continue
			}
			ns := pr.Namespace
			out = append(out, Finding{
				Subject: Subject{Kind: "server", ID: s.Server.ID, Name: s.Server.Name},
				Summary: fmt.Sprintf("the guest of %s answers ARP for %s but not ICMP echo that its security groups admit: a firewall inside the guest drops it", s.Server.Name, pr.Target),
				Evidence: []string{
					fmt.Sprintf("ping %s from %s on %s: no reply", pr.Target, ns, h.Name),
					fmt.Sprintf("ARP from %s: %s is at %s, port %s's MAC: the guest is up with its address", ns, pr.Target, pr.ARP, p.ID),
					sgWhy,
				},
				Remediation: cmds(
					cmd("hoofbeat", "console", s.Server.ID).Comment("log in on the serial console (SSH is likely filtered too)"),
					cmd("iptables", "-S", "INPUT").Comment("inside the guest: a DROP or REJECT of icmp, or a default policy DROP"),
					cmd("nft", "list", "ruleset").Comment("inside the guest"),
					cmd("firewall-cmd", "--list-all").Comment("inside the guest, with firewalld"),
					cmd("iptables", "-I", "INPUT", "-p", "icmp", "--icmp-type", "echo-request", "-j", "ACCEPT").Comment("inside the guest: admit ping, then persist it in the image's firewall configuration"),
				),
				Verify: cmds(onHost(cmd("ip", "netns", "exec", ns, "ping", "-c", "3", pr.Target), h.Name)),
			})
		}
	}
	return out
}

// portWithAddr is the port holding the fixed IP addr.
func portWithAddr(ports []snapshot.Port, addr string) *snapshot.Port {
	for i := range ports {
		for _, ip := range ports[i].FixedIPs {
			if ip.IPAddress == addr {
				return &ports[i]
			}
		}
	}
	return nil
}

// probeSource is the probe's source address, in its target's family: the
// address of the port whose namespace it pinged from, network's DHCP port
// on host (qdhcp-) or, on ML2/OVN, network's metadata port (ovnmeta-).
func probeSource(s *snapshot.Snapshot, network, host string, pr snapshot.Probe) (netip.Addr, bool) {
	t, err := netip.ParseAddr(pr.Target)
	if err != nil {
		return netip.Addr{}, false
	}
	ports := dhcpPortsOn(s, network, host)
	if strings.HasPrefix(pr.Namespace, "ovnmeta-") {
		ports = s.NetworkPortsByOwner(network, snapshot.OwnerOVNMetadata)
	}
	for _, p := range ports {
		for _, ip := range p.FixedIPs {
			if a, err := netip.ParseAddr(ip.IPAddress); err == nil && a.Is4() == t.Is4() {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}

// echoAdmitted evaluates an ICMP echo request from src to port p against
// its security groups, exactly; the string says why it is admitted.
func echoAdmitted(s *snapshot.Snapshot, p *snapshot.Port, src netip.Addr) (string, bool) {
	if !portSecurityOn(p) {
		return fmt.Sprintf("port %s has port security off: no security group filters it", p.ID), true
	}
	spec := "icmp/8"
	if src.Is6() {
		spec = "ipv6-icmp/128"
	}
	fl, err := parseCheck(spec)
	if err != nil {
		return "", false
	}
	fl.From = netip.PrefixFrom(src, src.BitLen())
	fs, err := compileFlow(fl)
	if err != nil {
		return "", false
	}
	groups, absent := portGroups(s, p)
	if len(absent) > 0 {
		return "", false
	}
	rules, _ := compileRules(groups, "ingress", fs.family)
	v := evalFlow(s, rules, fs)
	if len(v.parts) > 0 || len(v.admitting) == 0 {
		return "", false
	}
	var by []string
	for _, r := range v.admitting {
		by = append(by, describeRule(r.rule))
	}
	return fmt.Sprintf("security groups %s admit %s: %s", groupNames(groups), fl, strings.Join(by, "; ")), true
}
