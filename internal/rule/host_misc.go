package rule

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// selinuxDomains are the SELinux domains of Neutron's and Nova's processes.
var selinuxDomains = []string{"neutron_t", "dnsmasq_t", "keepalived_t", "haproxy_t", "nova_t", "svirt_t", "openvswitch_t", "radvd_t", "virtqemud_t", "virtlogd_t"}

func openstackDomain(t string) bool {
	for _, d := range selinuxDomains {
		if t == d {
			return true
		}
	}
	return strings.HasPrefix(t, "nova_") || strings.HasPrefix(t, "neutron_")
}

var hostSELinuxDenial = &Rule{
	Name:     "host/selinux-denial",
	NoServer: true,
	Severity: Error,
	Title:    "SELinux denies Neutron or Nova something",
	Doc: `On SELinux hosts, a policy that lags behind Neutron or Nova makes their
helpers fail in ways that look like network faults: dnsmasq cannot write
its leases (no DHCP), the L3 agent cannot mount a namespace, haproxy
cannot bind the metadata port. The kernel logs each refusal as an AVC
denial in the audit log.

hoofbeat reads getenforce and the audit log's AVC lines for the Neutron and
Nova domains (neutron_t, dnsmasq_t, keepalived_t, haproxy_t, nova_t,
svirt_t and their kin), quotes them, and shows the allow rules audit2allow
would print. Those rules are evidence for a bug report against the
distribution's OpenStack SELinux policy, not a fix to load blindly; setting
the host permissive hides the problem and drops the protection.`,
	Fix:   "Report the denials (with the audit2allow output) against your distribution's openstack-selinux policy; relabel files that carry the wrong context (restorecon -Rv); do not switch the host to permissive as the fix.",
	Needs: []string{snapshot.SourceHosts},
	Hop:   HopHosts,
	Check: func(in *Input) []Finding {
		var out []Finding
		for _, h := range reached(in) {
			sel := h.SELinux
			if sel.AuditError != "" {
				if sel.Mode == "Enforcing" || sel.Mode == "Permissive" {
					in.uncheck("host %s: SELinux is %s but the audit log could not be read: %s", h.Name, sel.Mode, sel.AuditError)
				}
				continue
			}
			var avcs []snapshot.AVC
			enforced := false
			for _, a := range sel.AVCs {
				if openstackDomain(a.SType) {
					avcs = append(avcs, a)
					enforced = enforced || !a.Permissive
				}
			}
			if len(avcs) == 0 {
				continue
			}
			sev := Error
			if !enforced || sel.Mode == "Permissive" {
				sev = Warning
			}
			var domains []string
			for _, a := range avcs {
				if !containsStr(domains, a.SType) {
					domains = append(domains, a.SType)
				}
			}
			mode := or(sel.Mode, "unknown: "+or(sel.ModeError, "getenforce gave nothing"))
			ev := []string{fmt.Sprintf("SELinux mode on %s: %s; %d AVC denial(s) for %s in %s", h.Name, mode, len(avcs), strings.Join(domains, ", "), sel.AuditLog)}
			for i, a := range avcs {
				if i == 5 {
					ev = append(ev, fmt.Sprintf("… and %d more", len(avcs)-5))
					break
				}
				ev = append(ev, a.Line)
			}
			ev = append(ev, "audit2allow would print:")
			ev = append(ev, host.Audit2Allow(avcs)...)
			out = append(out, Finding{Severity: sev, Subject: hostSubject(h), explainsNothing: sev < Error,
				Summary:  fmt.Sprintf("SELinux denied %s on host %s %d time(s): Neutron/Nova helpers fail (DHCP, namespaces, metadata)", strings.Join(domains, ", "), h.Name, len(avcs)),
				Evidence: ev,
				Remediation: cmds(
					note("report these denials and the audit2allow lines against your distribution's openstack-selinux policy: a bug, not a configuration to work around"),
					onHost(cmd("restorecon", "-Rv", "/var/lib/neutron", "/var/lib/nova", "/run/netns"), h.Name+": if files carry the wrong label"),
					note("do not set SELinux to permissive as the fix: it hides the fault and drops the protection"),
				),
				Verify: cmds(onHost(cmd("ausearch", "-m", "avc", "-ts", "recent"), h.Name)),
			})
		}
		return out
	},
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var hostAgentLogError = &Rule{
	Name:     "host/agent-log-error",
	NoServer: true,
	Severity: Warning,
	Title:    "An agent's log shows a known error",
	Doc: `Some errors in the Neutron agents' and Nova's logs name the fault outright:
'Invalid "netns" value' and 'RTNETLINK answers: …' (a namespace or device
operation failed), dnsmasq failing to start or reload, the AMQP server
unreachable (the agent misses every update), privsep helpers failing,
failed state reports.

hoofbeat reads the last lines of each agent's log on the checked hosts
and quotes the last line of each known pattern, with how often it
appears, since the agent last started (neutron's "Logging enabled!",
nova's "Starting … node"): what came before is history the restart is
past, kept in the snapshot (log_errors_before_start) without a finding.`,
	Fix: "Read the quoted line in context and fix its cause; restart the agent when the cause is gone.",
	// The denied operation fails in the agent, which logs it.
	Causes: []*Rule{hostSELinuxDenial},
	Needs:  []string{snapshot.SourceHosts},
	Hop:    HopHosts,
	Check: func(in *Input) []Finding {
		var out []Finding
		for _, h := range reached(in) {
			if h.LogsError != "" {
				in.uncheck("host %s: could not read some logs: %s", h.Name, h.LogsError)
			}
			if len(h.LogErrors) == 0 {
				continue
			}
			var ev, pats []string
			var fixes []shell.Cmd
			for _, l := range h.LogErrors {
				ev = append(ev, fmt.Sprintf("%s: %s (%d line(s)), last: %s", l.File, l.Pattern, l.Count, l.Line))
				if !containsStr(pats, l.Pattern) {
					pats = append(pats, l.Pattern)
				}
				unit := strings.TrimSuffix(l.File[strings.LastIndex(l.File, "/")+1:], ".log")
				fixes = appendNew(fixes, onHost(cmd("grep", "-n", "-F", "-B5", "-A20", "-e", logGrepKey(l.Line), l.File).Pipe("tail", "-60"), h.Name+": read the error in context"))
				fixes = appendNew(fixes, onHost(cmd("systemctl", "restart", unit), h.Name+": once the cause is fixed"))
			}
			out = append(out, Finding{Subject: hostSubject(h),
				Summary:     fmt.Sprintf("agent logs on host %s show known errors: %s", h.Name, strings.Join(pats, ", ")),
				Evidence:    ev,
				Remediation: fixes,
				Verify:      cmds(onHost(cmd("tail", "-f", h.LogErrors[0].File), h.Name+": no new error after the restart")),
			})
		}
		return out
	},
}

// logGrepKey returns a short fixed string of a log line to grep for.
func logGrepKey(line string) string {
	for _, k := range []string{`Invalid "netns" value`, "RTNETLINK answers", "AMQP server", "dnsmasq", "privsep", "Failed reporting state"} {
		if strings.Contains(line, k) {
			return k
		}
	}
	if len(line) > 40 {
		return line[len(line)-40:]
	}
	return line
}

var hostFloatingNetworkUnroutable = &Rule{
	Name:     "host/floating-network-unroutable",
	Severity: Warning,
	Title:    "The all-in-one host has no route to the floating network",
	Doc: `On an all-in-one host (the router's L3 agent and the instance on the same
machine, typically a lab or devstack), the floating IPs live on a flat
provider network bridged to br-ex. Unless the host itself has an address
on that network (br-ex carrying the subnet's gateway), it has no route to
the floating IPs: pings from the host go out of the default route and
never come back, although everything in OpenStack is correct. After a
reboot the address is gone unless it was made persistent.

hoofbeat reads the host's routing table and looks for a route covering the
floating network's subnet.`,
	Fix:   "Give br-ex the external subnet's gateway address (ip addr add GATEWAY/PREFIX dev br-ex; ip link set br-ex up) and make it persistent in the host's interface configuration.",
	Needs: []string{snapshot.SourceHosts, snapshot.SourceAgents, snapshot.SourceL3Agents},
	Hop:   HopHosts,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		if s.Server == nil {
			return nil
		}
		var out []Finding
		for _, at := range in.View().Routers {
			if at.Router == nil || at.Router.ExternalGateway == nil {
				continue
			}
			gw := at.Router.ExternalGateway
			ext := s.Network(gw.NetworkID)
			if ext != nil && ext.Provider != nil && ext.Provider.NetworkType != "flat" && ext.Provider.NetworkType != "vlan" {
				continue
			}
			extName := shortID(gw.NetworkID)
			if ext != nil {
				extName = ext.Name
			}
			// What must be routed: the floating network's subnets when the
			// snapshot has them, else the router's external addresses.
			type target struct {
				pfx      netip.Prefix
				label    string
				fix      string
				subnetID string
			}
			var targets []target
			if ext != nil {
				for _, sid := range ext.Subnets {
					sn := s.Subnet(sid)
					if sn == nil || sn.IPVersion != 4 {
						continue
					}
					p, err := netip.ParsePrefix(sn.CIDR)
					if err != nil {
						continue
					}
					addr := sn.GatewayIP
					if addr == "" {
						addr = "<an address of " + sn.CIDR + ">"
					}
					targets = append(targets, target{pfx: p, label: sn.CIDR, fix: fmt.Sprintf("%s/%d", addr, p.Bits()), subnetID: sid})
				}
			}
			if len(targets) == 0 {
				for _, f := range gw.ExternalFixedIPs {
					a, err := netip.ParseAddr(f.IPAddress)
					if err != nil || !a.Is4() {
						continue
					}
					targets = append(targets, target{pfx: netip.PrefixFrom(a, 32), label: "the router's gateway address " + f.IPAddress,
						fix: "GATEWAY/PREFIX", subnetID: f.SubnetID})
				}
			}
			for _, hn := range at.L3Hosts() {
				h := reachedNamed(in, hn)
				if h == nil || hn != s.Server.Host {
					continue // only an all-in-one host routes to its own floating network
				}
				if !partOK(in, h, "routes", h.RoutesError) {
					continue
				}
				for _, t := range targets {
					if hostRoutes(h, t.pfx) {
						continue
					}
					var routes []string
					for _, r := range h.Routes {
						routes = append(routes, strings.TrimSpace(r.Dst+" dev "+r.Dev+" "+r.Gateway))
					}
					fixes := cmds(onHost(cmd("ip", "addr", "add", t.fix, "dev", "br-ex"), h.Name), onHost(cmd("ip", "link", "set", "br-ex", "up"), h.Name))
					if t.fix == "GATEWAY/PREFIX" {
						fixes = append(cmds(cmd("openstack", "subnet", "show", t.subnetID, "-c", "gateway_ip", "-c", "cidr").Comment("GATEWAY and PREFIX of the floating subnet")), fixes...)
					}
					fixes = append(fixes, note(fmt.Sprintf("make it persistent: /etc/network/interfaces.d/br-ex (iface br-ex inet static, address %s), or /etc/sysconfig/network-scripts/ifcfg-br-ex, or netplan", t.fix)))
					out = append(out, Finding{Subject: hostSubject(h),
						Summary:     fmt.Sprintf("all-in-one host %s has no route to the floating network %s (%s): floating IPs do not answer from this host", h.Name, extName, t.label),
						Evidence:    []string{"routes on " + h.Name + ": " + orNone(strings.Join(routes, "; ")), fmt.Sprintf("router %s's gateway is on %s; its L3 agent and server %s are both on %s", routerLabel(at.Router), extName, s.Server.Name, h.Name)},
						Remediation: fixes,
						Verify:      cmds(onHost(cmd("ip", "route", "get", firstFloating(s, gw.NetworkID, t.pfx.Addr().String())), h.Name)),
					})
				}
			}
		}
		return out
	},
}

func hostRoutes(h *snapshot.Host, want netip.Prefix) bool {
	for _, r := range h.Routes {
		if r.Dst == "default" {
			continue
		}
		p, err := netip.ParsePrefix(r.Dst)
		if err != nil {
			if a, err2 := netip.ParseAddr(r.Dst); err2 == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				continue
			}
		}
		if p.Bits() <= want.Bits() && p.Contains(want.Addr()) {
			return true
		}
	}
	return false
}

func firstFloating(s *snapshot.Snapshot, netID, fallback string) string {
	for _, f := range s.FloatingIPs {
		if f.FloatingNetworkID == netID {
			return f.FloatingIPAddress
		}
	}
	return fallback
}
