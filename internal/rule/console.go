package rule

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/ipcalc"
	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// The console rules read what the guest itself printed while it booted
// (consolescan.go). The guest's evidence of a cause the API already shows
// (DHCP disabled on the subnet, a dead DHCP agent) confirms that cause: the
// rules declare those causes (Rule.Causes) and the engine reports the
// console's finding at info, pointing at the cause, which ranks first.
// Without such a cause the console is the only witness, and its finding
// stands at the rule's severity.

// consoleInput scans the server's console log, or records why it cannot.
func consoleInput(in *Input) *consoleScan {
	s := in.Snapshot
	log := s.ConsoleLog
	switch {
	case log == nil:
		in.uncheck("the snapshot holds no console log")
		return nil
	case s.Server.Status != "ACTIVE":
		in.uncheck("server %s is %s: its console log is not from a running guest", s.Server.Name, s.Server.Status)
		return nil
	case log.Binary:
		in.uncheck("the console log is not text (%d of its %d lines are binary data: a wrong baud rate, or a program writing to the serial port)", log.NotText, len(log.Lines))
		return nil
	case log.Empty():
		in.uncheck("the console log is empty: the guest writes nothing to its serial console (is console=ttyS0 on its kernel command line?)")
		return nil
	}
	c := in.cache()
	if c.scan == nil {
		macs := map[string]bool{}
		for _, p := range s.Ports {
			if p.MACAddress != "" {
				macs[strings.ToLower(p.MACAddress)] = true
			}
		}
		c.scan = scanConsole(log, macs)
	}
	return c.scan
}

func consoleVerify(srv *snapshot.Server) shell.Cmd {
	return cmd("openstack", "console", "log", "show", "--lines", "60", srv.ID)
}

// dhcpCauses are what the API shows that keeps a guest from a lease, most
// specific first: the guest's own "no lease" then only confirms it.
func dhcpCauses() []*Rule {
	return []*Rule{portAdminDown, portDown, portBindingFailed, portNoFixedIP, networkAdminDown,
		subnetDHCPDisabled, networkNoDHCPPort, agentDHCPNotHosting, agentDHCPDown,
		ovnChassisDown, ovnLSPMissing, ovnDHCPOptionsMissing}
}

// onHosts is the comment placing a command on the DHCP agents' hosts.
func onHosts(hosts []string, what string) string {
	if len(hosts) == 0 {
		return "on the " + what + "'s host"
	}
	return "on host " + strings.Join(hosts, " or ")
}

var instanceDHCPFailed = &Rule{
	Name:     "instance/dhcp-failed",
	Severity: Error,
	Title:    "The guest got no DHCP lease",
	Doc: `The guest's console log shows that it asked for an address by DHCP and got
none: busybox udhcpc's "No lease, failing" (cirros), ISC dhclient's "No
DHCPOFFERS received" (Debian, older Ubuntu and RHEL), initscripts'
"Determining IP information for eth0... failed" (CentOS 7), NetworkManager's
"dhcp4 (eth0): request timed out" (RHEL, Rocky, Fedora), systemd-networkd's
wait-online timeout (Ubuntu with netplan), or cloud-init's table of
interfaces showing the server's NIC without an IPv4 address. Without an
address the guest answers nothing, whatever the security groups say.

hoofbeat reads the tail of the console log (os-getConsoleOutput,
--console-lines), only the current boot, and ignores a failure that a later
lease answers. When the API shows why no lease can come (DHCP disabled on the
subnet, no DHCP port, no live DHCP agent, the port down), the console only
confirms it: the finding is then info and names that rule. Otherwise the DHCP
exchange fails somewhere the API cannot see: between the compute host and the
network node (the overlay, VLAN trunking, a host firewall), in dnsmasq, or in
the guest.`,
	Fix:          "Watch the exchange in the DHCP namespace (ip netns exec qdhcp-NET tcpdump -ln port 67 or port 68) while the guest asks (reboot it); check the DHCP agent and dnsmasq on its host, and the path between the hosts.",
	Causes:       dhcpCauses(),
	CauseWording: "the guest confirms",
	Needs:        []string{snapshot.SourceServer, snapshot.SourceConsoleLog},
	Check: func(in *Input) []Finding {
		sc := consoleInput(in)
		if sc == nil {
			return nil
		}
		fails := sc.dhcpFailures()
		if len(fails) == 0 {
			return nil
		}
		s := in.Snapshot
		srv := s.Server
		f := Finding{
			Subject:  serverSubject(srv),
			Summary:  fmt.Sprintf("the guest of %s got no DHCP lease (%s): it has no address to answer on", srv.Name, sources(fails)),
			Evidence: sc.quotes(fails, 5),
			Verify:   cmds(consoleVerify(srv)),
		}
		var mac string
		for _, p := range s.Ports {
			if mac == "" {
				mac = p.MACAddress
			}
		}
		for _, id := range serverNetworkIDs(s) {
			hosts := topology.DHCPHosts(s, id)
			f.Remediation = append(f.Remediation,
				cmd("ip", "netns", "exec", "qdhcp-"+id, "tcpdump", "-lnei", "any", "port", "67", "or", "port", "68").Comment(onHosts(hosts, "DHCP agent")+"; then reboot the guest: does its DISCOVER arrive, does an OFFER leave?"))
			if mac != "" {
				f.Remediation = append(f.Remediation,
					cmd("grep", "-i", mac, "/var/lib/neutron/dhcp/"+id+"/host").Comment(onHosts(hosts, "DHCP agent")+": dnsmasq knows the port"))
			}
			f.Remediation = append(f.Remediation,
				cmd("openstack", "network", "agent", "list", "--network", id).Comment("the DHCP agents hosting it, alive?"))
		}
		if srv.Host != "" {
			f.Remediation = append(f.Remediation,
				cmd("tcpdump", "-lnei", "any", "port", "67", "or", "port", "68").Comment("on host "+srv.Host+", the compute node: does the request leave it? If it leaves and never arrives, look at the overlay/VLAN between the hosts"))
		}
		f.Remediation = append(f.Remediation, cmd("openstack", "server", "reboot", srv.ID).Comment("to ask again once fixed"))
		return []Finding{f}
	},
}

var instanceMetadataUnreachable = &Rule{
	Name:     "instance/metadata-unreachable",
	Severity: Warning,
	Title:    "The guest could not reach the metadata service",
	Doc: `Guests fetch their SSH keys, user data and cloud-init configuration from
http://169.254.169.254. The console log shows that the guest tried and
failed: cirros' "failed 20/20: up … request failed" and "failed to read iid
from metadata", cloud-init's url_helper warnings ("Calling
'http://169.254.169.254/…' failed"), "Giving up on md from", "Used fallback
datasource" or "Datasource DataSourceNone". The guest may still answer pings,
but no key was installed and user data did not run: hence a warning.

The way it failed points at the cause: "Network is unreachable" (errno 101)
means the guest had no route (no lease, no default route); "Connection
refused" means nothing listens at 169.254.169.254:80 (the metadata proxy,
haproxy, is not running in the qrouter or qdhcp namespace); a timeout means
the packets are dropped or routed nowhere (no router and no isolated
metadata, egress rules removed); "bad status code [500]" means the proxy
answered but the metadata agent or Nova's metadata API failed (often
metadata_proxy_shared_secret differing between the metadata agent and nova).
A failure followed by a success (cirros' "successful after", a Datasource
other than DataSourceNone) is not reported. When the API shows the cause (a
dead metadata agent, egress rules removed, no lease), this is an info that
names it.`,
	Fix: "Follow the failure's kind: no route → fix DHCP or the guest's routes; refused → restart the metadata proxy (neutron-l3-agent / neutron-dhcp-agent) and neutron-metadata-agent; timeout → check the router or enable_isolated_metadata, and egress rules; 5xx → the metadata agent's and nova-api-metadata's logs and the shared secret.",
	// Without a lease the guest cannot ask: the DHCP failure, or its cause;
	// without a route it cannot either: the guest's own configuration.
	Causes:       append(append([]*Rule{instanceDHCPFailed, instanceGuestNetworkConfig}, dhcpCauses()...), agentMetadataDown, sgEgressMissing),
	CauseWording: "the guest confirms",
	Needs:        []string{snapshot.SourceServer, snapshot.SourceConsoleLog},
	Check: func(in *Input) []Finding {
		sc := consoleInput(in)
		if sc == nil {
			return nil
		}
		fails := sc.metadataFailures()
		if len(fails) == 0 {
			return nil
		}
		s := in.Snapshot
		srv := s.Server
		var causes []string
		for _, h := range fails {
			if h.cause != "no answer" && h.cause != "no datasource" && !slices.Contains(causes, h.cause) {
				causes = append(causes, h.cause)
			}
		}
		how := "no answer"
		if len(causes) > 0 {
			how = strings.Join(causes, ", ")
		}
		f := Finding{
			Subject:  serverSubject(srv),
			Summary:  fmt.Sprintf("the guest of %s could not reach the metadata service at 169.254.169.254 (%s): no SSH key, no user data", srv.Name, how),
			Evidence: sc.quotes(fails, 5),
			Verify:   cmds(consoleVerify(srv), cmd("curl", "-s", "http://169.254.169.254/openstack/latest/meta_data.json").Comment("inside the guest")),
		}
		routers := in.View().Routers
		for _, c := range causes {
			switch {
			case c == "unreachable":
				f.Remediation = append(f.Remediation, cmd("ip", "route").Comment("inside the guest: without an address or a default route (or a route to 169.254.169.254) it cannot ask"))
			case c == "refused":
				for _, at := range routers {
					f.Remediation = append(f.Remediation, cmd("ip", "netns", "exec", "qrouter-"+at.ID, "ss", "-ltnp").Comment("on the L3 agent's host: haproxy should listen on 9697"))
				}
				for _, id := range serverNetworkIDs(s) {
					f.Remediation = append(f.Remediation, cmd("ip", "netns", "exec", "qdhcp-"+id, "ss", "-ltnp").Comment(onHosts(topology.DHCPHosts(s, id), "DHCP agent")+": with isolated metadata haproxy listens on 169.254.169.254:80"))
				}
				f.Remediation = append(f.Remediation, cmd("systemctl", "restart", "neutron-metadata-agent", "neutron-l3-agent").Comment("on the network node: the agents respawn the proxies"))
			case c == "timed out":
				if len(routers) == 0 {
					f.Remediation = append(f.Remediation, cmd("grep", "-E", "^(enable_isolated_metadata|force_metadata)", "/etc/neutron/dhcp_agent.ini").Comment("on the DHCP agent's host: without a router only the DHCP namespace can answer metadata"))
				} else {
					for _, at := range routers {
						f.Remediation = append(f.Remediation, cmd("ip", "netns", "exec", "qrouter-"+at.ID, "iptables", "-t", "nat", "-S").Pipe("grep", "169.254.169.254").Comment("on the L3 agent's host: the redirect to the proxy"))
					}
				}
				f.Remediation = append(f.Remediation, cmd("openstack", "network", "agent", "list", "--agent-type", "metadata"))
			case strings.HasPrefix(c, "HTTP 5"):
				f.Remediation = append(f.Remediation,
					cmd("journalctl", "-u", "neutron-metadata-agent", "-n", "100").Comment("on the network node"),
					cmd("grep", "-h", "metadata_proxy_shared_secret", "/etc/neutron/metadata_agent.ini", "/etc/nova/nova.conf").Comment("the secrets must be equal"),
					cmd("journalctl", "-u", "nova-api-metadata", "-n", "100").Comment("or nova-api's log where the metadata API runs"))
			case strings.HasPrefix(c, "HTTP 4"):
				f.Remediation = append(f.Remediation, cmd("journalctl", "-u", "neutron-metadata-agent", "-n", "100").Comment("on the network node: the agent could not match the instance to the request's source address and network"))
			}
		}
		if len(f.Remediation) == 0 {
			f.Remediation = append(f.Remediation, cmd("openstack", "network", "agent", "list", "--agent-type", "metadata"))
			for _, at := range routers {
				f.Remediation = append(f.Remediation, cmd("ip", "netns", "exec", "qrouter-"+at.ID, "ss", "-ltnp").Comment("on the L3 agent's host: haproxy should listen on 9697"))
			}
		}
		f.Remediation = append(f.Remediation, cmd("cloud-init", "clean", "--reboot").Comment("inside the guest, once fixed: run cloud-init again"))
		return []Finding{f}
	},
}

var instanceCloudInitFailed = &Rule{
	Name:     "instance/cloud-init-failed",
	Severity: Warning,
	Title:    "cloud-init failed in the guest",
	Doc: `cloud-init configures the guest at boot: network (on some images), SSH keys,
users, user data. The console log shows that it failed: a Python traceback,
"Failed to run module …" or "Running module … failed" warnings, a user-data
script that exited non-zero ("Failed running /var/lib/cloud/instance/scripts/
part-001 [1]"), or systemd's "[FAILED] Failed to start … cloud-init …" /
"Apply the settings specified in cloud-config" / "Execute cloud user/final
scripts". The guest may answer pings, but what it was told to set up did not
happen (no key installed, a service not started, a firewall left closed).

The full story is inside the guest: cloud-init status --long, /var/log/
cloud-init.log and /var/log/cloud-init-output.log, and the journal of the
cloud-init units. Metadata failures are instance/metadata-unreachable's.`,
	Fix:   "Read cloud-init status --long, /var/log/cloud-init.log and cloud-init-output.log in the guest (serial console or SSH), fix the user data or the module's cause, then cloud-init clean --reboot.",
	Needs: []string{snapshot.SourceServer, snapshot.SourceConsoleLog},
	Check: func(in *Input) []Finding {
		sc := consoleInput(in)
		if sc == nil || len(sc.cloudInit) == 0 {
			return nil
		}
		srv := in.Snapshot.Server
		what := "failed"
		for _, h := range sc.cloudInit {
			if strings.Contains(h.text, "Traceback") {
				what = "crashed (a Python traceback)"
				break
			}
		}
		ev := sc.quotes(sc.cloudInit, 6)
		if e := tracebackError(in.Snapshot.ConsoleLog, sc); e.line > 0 {
			ev = append(ev, sc.quote(e))
		}
		f := Finding{
			Subject:  serverSubject(srv),
			Summary:  fmt.Sprintf("cloud-init %s in the guest of %s: what the user data and cloud config set up may be missing", what, srv.Name),
			Evidence: ev,
			Remediation: cmds(
				cmd("hoofbeat", "console", srv.ID).Comment("log in on the serial console (or SSH if it answers)"),
				cmd("sudo", "cloud-init", "status", "--long").Comment("inside the guest"),
				cmd("sudo", "grep", "-nE", "WARNING|ERROR|Traceback", "/var/log/cloud-init.log", "/var/log/cloud-init-output.log").Comment("inside the guest"),
				cmd("sudo", "journalctl", "-b", "-u", "cloud-init-local", "-u", "cloud-init", "-u", "cloud-config", "-u", "cloud-final").Comment("inside the guest"),
				cmd("sudo", "cloud-init", "schema", "--system", "--annotate").Comment("inside the guest: is the user data valid?"),
				cmd("sudo", "cloud-init", "clean", "--logs", "--reboot").Comment("inside the guest, once fixed"),
			),
			Verify: cmds(consoleVerify(srv), cmd("cloud-init", "status", "--long").Comment("inside the guest: status: done")),
		}
		return []Finding{f}
	},
}

// tracebackError finds the exception line that ends the first traceback.
func tracebackError(log *snapshot.ConsoleLog, sc *consoleScan) consoleHit {
	for _, h := range sc.cloudInit {
		if !strings.Contains(h.text, "Traceback") {
			continue
		}
		for i := h.line; i < len(log.Lines) && i < h.line+60; i++ {
			body := log.Lines[i]
			if j := strings.Index(body, "]: "); j >= 0 && strings.Contains(body[:j+1], "cloud-init[") {
				body = body[j+3:]
			}
			if body == "" || strings.HasPrefix(body, " ") {
				continue
			}
			return consoleHit{line: i + 1, text: strings.TrimSpace(log.Lines[i])}
		}
	}
	return consoleHit{}
}

var instanceGuestNetworkConfig = &Rule{
	Name:     "instance/guest-network-config",
	Severity: Warning,
	Title:    "The guest's own network configuration is wrong",
	Doc: `The API can be right and the guest still deaf: its own configuration decides
the rest. The console log shows: a lease or an address other than the port's
fixed IP (a rogue DHCP server on the network, a stale static configuration,
an image built elsewhere); no default route although the guest has an
address (a subnet without gateway_ip, a static configuration without
GATEWAY, "SIOCADDRT: Network is unreachable" for a gateway outside the
netmask); the NIC down (cirros' "if-info: eth0,down", cloud-init's table with
Up False); an interface file naming a device the guest does not have
(initscripts' "Device eth0 does not seem to be present", typically an image
moved from another machine whose udev rules renamed the NIC); or a host
route of the subnet (Neutron's host_routes, sent by DHCP in option 121)
missing from the route table the console shows (cirros' "ip-route:" lines,
cloud-init's Route IPv4 info), as when the guest's DHCP client ignores
classless static routes. Without a route table on the console, host routes
are not checked.

A firewall in the guest (iptables/nftables/firewalld) prints nothing on the
console; with --probe it shows on the wire: from the network's DHCP
namespace ARP resolves the server's address to its port's MAC, the ping
gets no answer, and the port's security groups admit ICMP echo from the
DHCP port's address (evaluated exactly). The guest is up, with its address,
and drops what OpenStack lets through: this rule says so and ranks above
host/instance-unreachable-from-dhcp-namespace.

Not seen from outside: no gratuitous ARP after an address change (arping).
The fix prints the
interface file for the port's address (netmask as a dotted quad, gateway),
to compare with the guest's.`,
	Fix:          "Inside the guest: configure the NIC by DHCP (or statically with the port's fixed IP, the subnet's netmask and gateway), bring it up, add the default route and the subnet's host routes, and announce it with arping.",
	CauseWording: "the guest confirms",
	Needs:        []string{snapshot.SourceServer, snapshot.SourceConsoleLog, snapshot.SourcePorts},
	Check: func(in *Input) []Finding {
		out := guestFirewall(in)
		sc := consoleInput(in)
		if sc == nil {
			return out
		}
		s := in.Snapshot
		srv := s.Server
		fixed := map[string]bool{}
		for _, p := range s.Ports {
			for _, ip := range p.FixedIPs {
				fixed[ip.IPAddress] = true
			}
			for _, pair := range p.AllowedAddressPairs {
				if pr, err := netip.ParsePrefix(pair.IPAddress); err == nil {
					fixed[pr.Addr().String()] = true
				} else {
					fixed[pair.IPAddress] = true
				}
			}
		}
		iface := "eth0"
		for _, h := range append(append(append([]consoleHit{}, sc.lease...), sc.addr...), sc.dhcpFail...) {
			if ifaceName(h.iface) {
				iface = h.iface
				break
			}
		}
		base := func(summary string, ev []string) Finding {
			return Finding{
				Subject:  serverSubject(srv),
				Summary:  summary,
				Evidence: ev,
				Verify:   cmds(consoleVerify(srv), cmd("ip", "-4", "addr", "show", iface).Comment("inside the guest"), cmd("ip", "route").Comment("inside the guest")),
			}
		}

		// An address the port does not have.
		var wrong []consoleHit
		var wrongAddrs []string
		for _, h := range append(append([]consoleHit{}, sc.lease...), sc.addr...) {
			if h.addr == "" || fixed[h.addr] {
				continue
			}
			wrong = append(wrong, h)
			if !slices.Contains(wrongAddrs, h.addr) {
				wrongAddrs = append(wrongAddrs, h.addr)
			}
		}
		if len(wrong) > 0 && len(fixed) > 0 {
			sortHits(wrong)
			var mine []string
			for _, p := range s.Ports {
				for _, ip := range p.FixedIPs {
					mine = append(mine, ip.IPAddress)
				}
			}
			f := base(fmt.Sprintf("the guest of %s has %s, not its port's %s: traffic to the port's address finds nobody", srv.Name, strings.Join(wrongAddrs, ", "), strings.Join(mine, ", ")),
				append(sc.quotes(wrong, 4), "the server's fixed IPs: "+strings.Join(mine, ", ")))
			leased := false
			for _, h := range wrong {
				leased = leased || slices.ContainsFunc(sc.lease, func(l consoleHit) bool { return l.line == h.line })
			}
			if leased {
				f.Evidence = append(f.Evidence, "a lease for an address Neutron did not allocate comes from another DHCP server on the network (dnsmasq only answers the ports it knows)")
				for _, id := range serverNetworkIDs(s) {
					f.Remediation = append(f.Remediation, cmd("ip", "netns", "exec", "qdhcp-"+id, "tcpdump", "-lnei", "any", "port", "67", "or", "port", "68").Comment(onHosts(topology.DHCPHosts(s, id), "DHCP agent")+": which server answers OFFERs besides dnsmasq?"))
					f.Remediation = append(f.Remediation, cmd("openstack", "port", "list", "--network", id, "--long").Comment("a port with port security off can act as a DHCP server"))
				}
			}
			f.Remediation = append(f.Remediation, guestConfigFix(s, iface)...)
			out = append(out, f)
		}

		// No default route, with an address.
		if len(sc.routes) > 0 && len(sc.defaultRoute) == 0 && len(sc.addr)+len(sc.lease) > 0 || len(sc.routeErr) > 0 {
			ev := sc.quotes(append(append([]consoleHit{}, sc.routes...), sc.routeErr...), 4)
			if len(sc.routes) > 0 && len(sc.defaultRoute) == 0 {
				ev = append(ev, "no default route among the guest's routes")
			}
			f := base(fmt.Sprintf("the guest of %s has no default route: it cannot answer anything outside its subnet", srv.Name), ev)
			f.Causes = []*Rule{subnetNoGateway}
			f.Remediation = guestConfigFix(s, iface)
			out = append(out, f)
		}

		// A host route of the subnet that the guest's route table lacks:
		// only when the console shows a table to compare with.
		if len(sc.routeRows) > 0 {
			out = append(out, missingHostRoutes(in, sc, iface, base)...)
		}

		// The NIC down, or configured under a name the guest lacks.
		if down := append(append([]consoleHit{}, sc.ifDown...), sc.noDevice...); len(down) > 0 {
			sortHits(down)
			var names []string
			for _, h := range down {
				if !slices.Contains(names, h.iface) {
					names = append(names, h.iface)
				}
			}
			summary := fmt.Sprintf("the guest of %s did not bring up %s: it sends and receives nothing", srv.Name, strings.Join(names, ", "))
			if len(sc.noDevice) > 0 {
				summary = fmt.Sprintf("the guest of %s is configured for %s, a device it does not have: its NIC is left unconfigured", srv.Name, strings.Join(names, ", "))
			}
			f := base(summary, sc.quotes(down, 4))
			f.Remediation = cmds(cmd("ip", "-br", "link").Comment("inside the guest: the NIC's real name (the port's MAC is " + portMACs(s) + ")"))
			if len(sc.noDevice) > 0 {
				f.Remediation = append(f.Remediation, cmd("rm", "-f", "/etc/udev/rules.d/70-persistent-net.rules").Comment("inside the guest: stale NIC names from the machine the image was built on"))
			}
			dev := names[0]
			if !ifaceName(dev) {
				dev = "IFACE"
			}
			f.Remediation = append(f.Remediation, guestConfigFix(s, dev)...)
			out = append(out, f)
		}
		return out
	},
}

// missingHostRoutes are the findings for the IPv4 host routes of the
// server's subnets (Neutron pushes them in DHCP option 121) that no route of
// the console's tables applies: the same destination via the same next hop.
// A default destination is the default-route check's.
func missingHostRoutes(in *Input, sc *consoleScan, iface string, base func(string, []string) Finding) []Finding {
	srv := in.Snapshot.Server
	subnets, _ := serverSubnets(in)
	var out []Finding
	seen := map[string]bool{}
	for _, sn := range subnets {
		for _, hr := range sn.HostRoutes {
			dest, err1 := netip.ParsePrefix(hr.Destination)
			hop, err2 := netip.ParseAddr(hr.NextHop)
			if err1 != nil || err2 != nil || !dest.Addr().Is4() || !hop.Is4() || dest.Bits() == 0 {
				continue
			}
			dest = dest.Masked()
			key := dest.String() + " " + hop.String()
			if seen[key] {
				continue
			}
			seen[key] = true
			if slices.ContainsFunc(sc.routeRows, func(h consoleHit) bool { return h.dest == dest && h.via == hop }) {
				continue
			}
			var other []consoleHit
			for _, h := range sc.routeRows {
				if h.dest == dest {
					other = append(other, h)
				}
			}
			how := "its traffic to " + dest.String() + " takes the default route instead"
			switch {
			case len(other) > 0:
				how = "its route to " + dest.String() + " goes elsewhere"
			case len(sc.defaultRoute) == 0:
				how = "it has no route to " + dest.String()
			}
			ev := sc.quotes(sc.routeRows, 6)
			if len(other) > 0 {
				ev = sc.quotes(other, 4)
			}
			ev = append(ev,
				fmt.Sprintf("subnet %s host_routes: %s via %s, not among the guest's routes", subnetLabel(sn), dest, hop),
				"Neutron's DHCP sends host routes in option 121 (classless static routes): a DHCP client that does not ask for it, or a static configuration, leaves them out")
			f := base(fmt.Sprintf("the guest of %s lacks subnet %s's host route %s via %s: %s", srv.Name, subnetLabel(sn), dest, hop, how), ev)
			f.Remediation = cmds(
				cmd("ip", "route", "add", dest.String(), "via", hop.String()).Comment("inside the guest: at once, until the next boot"),
				note("for good: let the guest's DHCP client apply option 121 (dhclient: request rfc3442-classless-static-routes; udhcpc: -O staticroutes; cloud-init and systemd-networkd apply it), or add the route to its interface configuration"),
			)
			f.Verify = cmds(consoleVerify(srv), cmd("ip", "route", "show", dest.String()).Comment("inside the guest: via "+hop.String()+" dev "+iface))
			out = append(out, f)
		}
	}
	return out
}

func portMACs(s *snapshot.Snapshot) string {
	var out []string
	for _, p := range s.Ports {
		if p.MACAddress != "" {
			out = append(out, p.MACAddress)
		}
	}
	if len(out) == 0 {
		return "unknown"
	}
	return strings.Join(out, ", ")
}

// guestConfigFix are the commands that configure the guest's NIC for the
// first port's IPv4 address: at once with ip, by DHCP, statically in an
// ifcfg file (netmask as a dotted quad), and a gratuitous ARP.
func guestConfigFix(s *snapshot.Snapshot, iface string) []shell.Cmd {
	for _, p := range s.Ports {
		for _, ip := range p.FixedIPs {
			sn := s.Subnet(ip.SubnetID)
			a, err := netip.ParseAddr(ip.IPAddress)
			if sn == nil || err != nil || !a.Is4() {
				continue
			}
			pr, err := netip.ParsePrefix(sn.CIDR)
			if err != nil {
				continue
			}
			info := ipcalc.Of(netip.PrefixFrom(a, pr.Bits()))
			var gw netip.Addr
			if g, err := netip.ParseAddr(sn.GatewayIP); err == nil {
				gw = g
			}
			inside := "inside the guest"
			out := cmds(
				cmd("ip", "link", "set", iface, "up").Comment(inside+": at once, until the next boot"),
				cmd("ip", "addr", "replace", fmt.Sprintf("%s/%d", a, pr.Bits()), "dev", iface).Comment(inside),
			)
			if gw.IsValid() {
				out = append(out, cmd("ip", "route", "replace", "default", "via", gw.String(), "dev", iface).Comment(inside))
			}
			ifcfg := "/etc/sysconfig/network-scripts/ifcfg-" + iface
			out = append(out,
				cmd("printf", `%s\n`, "DEVICE="+iface, "ONBOOT=yes", "BOOTPROTO=dhcp").Pipe("tee", ifcfg).Comment(inside+" (RHEL/CentOS 7-8): by DHCP, as Neutron intends"),
				cmd(append([]string{"printf", `%s\n`}, info.IfcfgLines(iface, gw)...)...).Pipe("tee", ifcfg).Comment(inside+": or statically, with the port's address"),
				cmd("arping", "-U", "-c", "3", "-I", iface, a.String()).Comment(inside+": announce the address (gratuitous ARP)"),
			)
			return out
		}
	}
	return cmds(cmd("ip", "addr").Comment("inside the guest"), cmd("ip", "route").Comment("inside the guest"))
}

// ifaceName reports a name the kernel would take for a network device
// (what the guest printed on its console is not trusted to be one).
func ifaceName(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.@", r)) {
			return false
		}
	}
	return true
}
