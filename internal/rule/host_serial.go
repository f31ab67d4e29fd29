package rule

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/host/firewall"
	"github.com/hoofbeat/hoofbeat/internal/shell"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
	"github.com/hoofbeat/hoofbeat/internal/snapshot/topology"
)

// The serial console: nova.conf on the compute hosts, nova-serialproxy on
// the host its base_url names.

// Nova's defaults for [serial_console].
const (
	serialDefaultListen    = "127.0.0.1"
	serialDefaultBaseURL   = "ws://127.0.0.1:6083/"
	serialDefaultPortRange = "10000:20000"
	serialDefaultProxyPort = 6083
)

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func isLoopback(host string) bool {
	if host == "localhost" || host == "" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func isTrueString(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true
	}
	return false
}

// isCompute reports whether nova-compute runs on the host, or the
// diagnosis checked it as the server's host.
func isCompute(h *snapshot.Host) bool {
	if hasRole(h, topology.RoleCompute) {
		return true
	}
	for _, p := range h.Processes {
		if strings.Contains(p.Args, "nova-compute") {
			return true
		}
	}
	return false
}

// baseURLHostPort returns the host and port of a base_url.
func baseURLHostPort(base string) (string, int) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", 0
	}
	port := serialDefaultProxyPort
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	return u.Hostname(), port
}

func portRange(s string) (int, int, bool) {
	lo, hi, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	return a, b, err1 == nil && err2 == nil && a <= b
}

var hostSerialConsoleConfig = &Rule{
	Name:     "host/serial-console-config",
	NoServer: true,
	Severity: Warning,
	Title:    "nova.conf [serial_console] on a compute host cannot work",
	Doc: `For "openstack console url show --serial" to reach a guest, each compute
host's nova.conf [serial_console] must have enabled = true and
proxyclient_address set to an address of this host that the proxy can reach:
current Nova binds each guest's serial port to proxyclient_address (from
port_range, default 10000:20000) and tells nova-serialproxy to connect there.
Its default, 127.0.0.1, only works when the proxy runs on the same host: the
classic "console listens on loopback" fault. base_url must be the proxy's
address as clients reach it (not 127.0.0.1 in a multi-host cloud), and the
host's firewall must admit TCP to port_range from the proxy's host.

Older guides set [serial_console] listen; Nova no longer has that option
(Zed reads only proxyclient_address), so a listen line is quoted as evidence
but never trusted: a cloud old enough to read it bound its consoles there.

hoofbeat reads nova.conf (and the files nova-compute was started with) on
the compute hosts, compares proxyclient_address with the host's addresses,
and evaluates the firewall for TCP to both ends of port_range from the
address base_url names.`,
	Fix:   "Fix [serial_console] in nova.conf on the compute host and restart nova-compute; instances started before keep their old console address (host/serial-console-stale-listen).",
	Needs: []string{snapshot.SourceHosts},
	Hop:   HopHosts,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		for _, h := range reached(in) {
			if !isCompute(h) {
				continue
			}
			if h.NovaConf == nil {
				in.uncheck("host %s: could not read nova.conf: %s", h.Name, orNone(h.NovaConfError))
				continue
			}
			nc := h.NovaConf
			files := strings.Join(nc.Files, ", ")
			var problems, evidence []string
			var fixes []shell.Cmd
			set := func(key, value, why string) {
				where := h.Name
				if why != "" {
					where += ": " + why
				}
				fixes = append(fixes, onHost(cmd("crudini", "--set", "/etc/nova/nova.conf", "serial_console", key, value), where))
			}
			if !isTrueString(nc.Enabled) {
				problems = append(problems, fmt.Sprintf("the serial console is disabled (enabled = %s)", or(nc.Enabled, "false, the default")))
				set("enabled", "true", "")
			} else {
				proxyHost, _ := baseURLHostPort(or(nc.BaseURL, serialDefaultBaseURL))
				proxyElsewhere := !isLoopback(proxyHost) && !hostHasAddr(h, proxyHost)
				multi := multiHost(s) || proxyElsewhere
				myIP := nc.MyIP
				if myIP == "" || !hostHasAddr(h, myIP) {
					myIP = "<this host's management address>"
				}
				if nc.Listen != "" {
					evidence = append(evidence, fmt.Sprintf("listen = %s is ignored: current Nova has no such option and binds the consoles to proxyclient_address", nc.Listen))
				}
				pca := or(nc.ProxyClientAddress, serialDefaultListen)
				if isLoopback(pca) && multi {
					unset := ""
					if nc.ProxyClientAddress == "" {
						unset = " (unset: the default)"
					}
					problems = append(problems, fmt.Sprintf("proxyclient_address = %s%s: the guests' consoles bind to loopback and nova-serialproxy on %s is sent to its own loopback", pca, unset, or(proxyHost, "another host")))
					set("proxyclient_address", myIP, "")
				} else if !isLoopback(pca) && !hostHasAddr(h, pca) && h.LinksError == "" {
					problems = append(problems, fmt.Sprintf("proxyclient_address = %s is not an address of this host", pca))
					set("proxyclient_address", myIP, "")
				}
				if isLoopback(proxyHost) && multiHost(s) {
					problems = append(problems, fmt.Sprintf("base_url = %s points at loopback in a multi-host cloud: clients get URLs they cannot reach", or(nc.BaseURL, serialDefaultBaseURL+" (the default)")))
					set("base_url", "ws://<proxy address>:6083/", "")
				}
				pr := or(nc.PortRange, serialDefaultPortRange)
				lo, hi, ok := portRange(pr)
				proxyAddr, perr := netip.ParseAddr(proxyHost)
				switch {
				case !ok:
					problems = append(problems, fmt.Sprintf("port_range = %q is not MIN:MAX", pr))
				case perr != nil || proxyAddr.IsLoopback() || hostHasAddr(h, proxyHost):
					// The proxy is local (or named, not addressed): no firewall between.
				case h.Firewall.IPTablesSaveError != "" && h.Firewall.NFTError != "":
					in.uncheck("host %s: could not read the firewall to check port_range %s: %s", h.Name, pr, h.Firewall.IPTablesSaveError)
				default:
					if rs, err := firewall.Parse(h.Firewall.IPTablesSave, h.Firewall.NFT); err != nil {
						in.uncheck("host %s: could not read the firewall: %v", h.Name, err)
					} else {
						for _, port := range []int{lo, hi} {
							v := rs.Evaluate(firewall.Packet{Proto: "tcp", Src: proxyAddr, DPort: port})
							if !v.Accepted {
								problems = append(problems, fmt.Sprintf("the firewall drops tcp/%d (port_range %s) from the proxy at %s", port, pr, proxyHost))
								evidence = append(evidence, fmt.Sprintf("tcp dport %d from %s: %s", port, proxyHost, v))
								fixes = append(fixes, onHost(cmd("iptables", "-I", "INPUT", "-s", proxyHost, "-p", "tcp", "--dport", fmt.Sprintf("%d:%d", lo, hi), "-j", "ACCEPT"), h.Name))
								break
							}
						}
					}
				}
			}
			if len(problems) == 0 {
				continue
			}
			ev := []string{fmt.Sprintf("[serial_console] in %s: enabled=%s listen=%s proxyclient_address=%s base_url=%s port_range=%s",
				files, or(nc.Enabled, "(unset)"), or(nc.Listen, "(unset)"), or(nc.ProxyClientAddress, "(unset)"), or(nc.BaseURL, "(unset)"), or(nc.PortRange, "(unset)"))}
			var addrs []string
			for _, a := range hostAddrs(h) {
				if !a.IsLinkLocalUnicast() {
					addrs = append(addrs, a.String())
				}
			}
			ev = append(ev, "addresses of "+h.Name+": "+orNone(strings.Join(addrs, ", ")))
			out = append(out, Finding{Subject: hostSubject(h),
				Summary:     fmt.Sprintf("the serial console cannot work on compute host %s: %s", h.Name, strings.Join(problems, "; ")),
				Evidence:    append(ev, evidence...),
				Remediation: append(fixes, onHost(cmd("systemctl", "restart", "nova-compute"), h.Name)),
				Verify:      cmds(cmd("openstack", "console", "url", "show", "--serial", "SERVER").Comment("then connect: hoofbeat console SERVER")),
			})
		}
		return out
	},
}

// proxyHost is a host that should run nova-serialproxy.
type proxyHost struct {
	// port is where it should listen.
	port int
	// loopback is set when only a compute host's loopback base_url (the
	// default) makes it one: its own.
	loopback bool
}

// proxyHosts returns the checked hosts that should run nova-serialproxy,
// those owning the address in a compute host's base_url.
func proxyHosts(s *snapshot.Snapshot) map[string]proxyHost {
	out := map[string]proxyHost{}
	for i := range s.Hosts {
		c := &s.Hosts[i]
		if c.NovaConf == nil || !isCompute(c) || !isTrueString(c.NovaConf.Enabled) {
			continue
		}
		ph, port := baseURLHostPort(or(c.NovaConf.BaseURL, serialDefaultBaseURL))
		for j := range s.Hosts {
			h := &s.Hosts[j]
			switch {
			case !isLoopback(ph) && hostHasAddr(h, ph):
				out[h.Name] = proxyHost{port: port}
			case isLoopback(ph) && h.Name == c.Name:
				if _, named := out[h.Name]; !named {
					out[h.Name] = proxyHost{port: port, loopback: true}
				}
			}
		}
	}
	return out
}

var hostSerialproxyNotRunning = &Rule{
	Name:     "host/serialproxy-not-running",
	NoServer: true,
	Severity: Error,
	Title:    "nova-serialproxy is not running or not listening",
	Doc: `Clients reach a guest's serial console through nova-serialproxy, a websocket
proxy listening on port 6083 (serialproxy_port) on the host base_url
names. If it is stopped, or runs but does not listen, "openstack console
url show --serial" still returns a URL, and connecting to it fails with
"connection refused".

hoofbeat finds the proxy's host among the checked hosts (the one owning
the address in the compute hosts' base_url; check it with --hosts, or
name it to "hoofbeat host") and reads its processes and listening
sockets.`,
	Fix:   "Start nova-serialproxy on that host (systemctl restart nova-serialproxy) and read its log if it exits.",
	Needs: []string{snapshot.SourceHosts},
	Hop:   HopHosts,
	Check: func(in *Input) []Finding {
		s := in.Snapshot
		var out []Finding
		wanted := proxyHosts(s)
		for _, h := range reached(in) {
			ph, ok := wanted[h.Name]
			if !ok {
				continue
			}
			port := ph.port
			if !partOK(in, h, "processes", h.ProcessesError) {
				continue
			}
			var procs []string
			for _, p := range h.Processes {
				if strings.Contains(p.Args, "nova-serialproxy") {
					procs = append(procs, fmt.Sprintf("pid %d", p.PID))
				}
			}
			listening := false
			for _, l := range h.Listeners {
				if l.Port == port {
					listening = true
				}
			}
			var problem string
			var ev []string
			switch {
			case len(procs) == 0:
				problem = "is not running"
				ev = append(ev, "no process on "+h.Name+" has nova-serialproxy in its arguments")
			case h.ListenersError != "":
				in.uncheck("host %s: could not read the listening sockets: %s", h.Name, h.ListenersError)
				continue
			case !listening:
				problem = fmt.Sprintf("runs (%s) but nothing listens on port %d", strings.Join(procs, ", "), port)
				ev = append(ev, fmt.Sprintf("no listening TCP socket on port %d on %s", port, h.Name))
			default:
				continue
			}
			var causes []*Rule
			if ph.loopback {
				// Only the default base_url points here: that setting is
				// the cause (host/serial-console-config names it).
				causes = []*Rule{hostSerialConsoleConfig}
			}
			out = append(out, Finding{Subject: hostSubject(h), Causes: causes,
				Summary:  fmt.Sprintf("nova-serialproxy on host %s %s: serial console URLs lead nowhere", h.Name, problem),
				Evidence: append(ev, fmt.Sprintf("%s is the serial proxy's host (port %d)", h.Name, port)),
				Remediation: cmds(
					onHost(cmd("systemctl", "restart", "nova-serialproxy"), h.Name),
					onHost(cmd("journalctl", "-u", "nova-serialproxy", "-n", "100"), h.Name+": why it stopped"),
				),
				Verify: cmds(onHost(cmd("ss", "-lntp").Pipe("grep", fmt.Sprintf(":%d", port)), h.Name)),
			})
		}
		return out
	},
}

var hostSerialConsoleStaleListen = &Rule{
	Name:     "host/serial-console-stale-listen",
	NoServer: true,
	Severity: Warning,
	Title:    "Instances still listen on 127.0.0.1 for their serial console after a config change",
	Doc: `The serial console's address is written into each guest's domain definition
when it starts. After [serial_console] proxyclient_address is changed from
127.0.0.1 to a real address, guests that were already running keep
listening on loopback: their consoles stay unreachable from the proxy until
they are re-deployed (hard reboot, which regenerates the domain, or a
migration).

hoofbeat reads, on the compute host, each running domain's XML through
libvirt's read-only socket (virsh -r dumpxml: the <serial type='tcp'>
source the guest was started with) and the listening TCP sockets (qemu's
own, with its -uuid). It reports guests bound to loopback inside port_range
while nova.conf's proxyclient_address is a real address: by the domain
XML, by the socket, or both.`,
	Fix:   "Hard-reboot or migrate each listed instance so that its domain is regenerated with the new address.",
	Needs: []string{snapshot.SourceHosts},
	Hop:   HopHosts,
	Check: func(in *Input) []Finding {
		var out []Finding
		for _, h := range reached(in) {
			if !isCompute(h) || h.NovaConf == nil || !isTrueString(h.NovaConf.Enabled) {
				continue
			}
			listen := or(h.NovaConf.ProxyClientAddress, serialDefaultListen)
			if isLoopback(listen) {
				continue
			}
			// Either source names a stale console; each unread one is noted.
			sockets := partOK(in, h, "listening sockets", h.ListenersError)
			domains := partOK(in, h, "libvirt domains", h.DomainsError)
			if !sockets && !domains {
				continue
			}
			lo, hi, ok := portRange(or(h.NovaConf.PortRange, serialDefaultPortRange))
			if !ok {
				continue
			}
			// One line per instance: its domain XML, then its socket.
			var stale []string
			var uuids []string
			line := map[string]int{} // instance UUID -> index in stale
			for _, d := range h.Domains {
				for _, se := range d.Serials {
					port, err := strconv.Atoi(se.Service)
					if se.Mode != "bind" || !isLoopback(se.Host) || err != nil || port < lo || port > hi {
						continue
					}
					line[d.UUID] = len(stale)
					uuids = append(uuids, d.UUID)
					stale = append(stale, fmt.Sprintf("domain %s (instance %s) binds its serial console to %s in libvirt's domain XML",
						d.Name, d.UUID, net.JoinHostPort(se.Host, se.Service)))
					break
				}
			}
			for _, l := range h.Listeners {
				if !isLoopback(l.Addr) || l.Port < lo || l.Port > hi {
					continue
				}
				qemu := false
				for _, p := range l.Processes {
					if strings.HasPrefix(p, "qemu") {
						qemu = true
					}
				}
				if !qemu {
					continue
				}
				sock := fmt.Sprintf("%s listens on %s", strings.Join(l.Processes, ","), net.JoinHostPort(l.Addr, strconv.Itoa(l.Port)))
				joined := false
				for _, pid := range l.PIDs {
					u := qemuUUID(h, pid)
					if u == "" {
						continue
					}
					if i, ok := line[u]; ok {
						stale[i] += "; " + sock
						joined = true
						continue
					}
					sock += " (instance " + u + ")"
					uuids = append(uuids, u)
				}
				if !joined {
					stale = append(stale, sock)
				}
			}
			if len(stale) == 0 {
				continue
			}
			var fixes []shell.Cmd
			for _, u := range uuids {
				// The host says which instance: only a UUID becomes an
				// argument (an "ID" of "--os-auth-url=…" would be an option).
				if instanceUUID.MatchString(u) {
					fixes = append(fixes, cmd("openstack", "server", "reboot", "--hard", u))
				}
			}
			if len(fixes) == 0 {
				fixes = cmds(cmd("openstack", "server", "reboot", "--hard", "SERVER").Comment("for each instance listed"))
			}
			out = append(out, Finding{Subject: hostSubject(h),
				Summary:     fmt.Sprintf("%d instance console(s) on host %s still listen on loopback although nova.conf now says proxyclient_address = %s", len(stale), h.Name, listen),
				Evidence:    stale,
				Remediation: fixes,
				Verify:      cmds(onHost(cmd("ss", "-lntp").Pipe("grep", "-E", fmt.Sprintf("127.0.0.1:(%d|1[0-9]{4})", lo)), h.Name)),
			})
		}
		return out
	},
}

// instanceUUID is the form of a Nova instance's UUID (libvirt's domain
// UUID, qemu's -uuid).
var instanceUUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// qemuUUID returns the -uuid argument of a qemu process.
func qemuUUID(h *snapshot.Host, pid int) string {
	for _, p := range h.Processes {
		if p.PID != pid {
			continue
		}
		f := strings.Fields(p.Args)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "-uuid" {
				return f[i+1]
			}
		}
	}
	return ""
}
