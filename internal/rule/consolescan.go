package rule

import (
	"encoding/binary"
	"fmt"
	mathbits "math/bits"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// The guest's console log, read for what it says about the network: the
// patterns are the lines cirros (busybox udhcpc, cirros-query), cloud-init,
// ISC dhclient, systemd-networkd, NetworkManager and RHEL's initscripts
// print. Only the current boot counts (the log may hold earlier ones), and
// a failure followed by a success (a lease, a metadata answer) is over.

// consoleHit is one line of the log that means something.
type consoleHit struct {
	// line is the 1-based number of the line in the tail.
	line int
	text string
	// source names who printed it: "udhcpc", "cloud-init"…
	source string
	// iface is the interface the line is about, when it says.
	iface string
	// addr is the address it names (a lease, an interface's address).
	addr string
	// cause qualifies a metadata failure: "unreachable", "refused",
	// "timed out", "HTTP 500"…
	cause string
	// weak marks a DHCP failure that any lease of the boot answers (a
	// wait-online timeout can be another interface's).
	weak bool
	// dest and via are a route line's destination and next hop (via
	// invalid for an on-link route); dest invalid when the line is not a
	// unicast route the guest can use (unreachable, prohibit…).
	dest netip.Prefix
	via  netip.Addr
}

// consoleScan is what the current boot's lines say.
type consoleScan struct {
	total int
	// boot is the line the current boot starts at (1 when unknown).
	boot int

	dhcpFail  []consoleHit // the guest asked for a lease and got none
	lease     []consoleHit // a lease obtained (addr set when the line names it)
	addr      []consoleHit // an IPv4 address seen on a NIC (cloud-init's or cirros' tables)
	noAddr    []consoleHit // a NIC seen without any IPv4 address
	metaFail  []consoleHit
	metaOK    []consoleHit
	cloudInit []consoleHit
	ifDown    []consoleHit
	noDevice  []consoleHit // the configuration names a NIC the guest lacks
	// routes are the lines of a routing table (cirros' ip-route, cloud-init's
	// Route IPv4 info); defaultRoute those with a default route.
	routes       []consoleHit
	defaultRoute []consoleHit
	// routeRows are the routes those tables list, one each, with dest and
	// via parsed.
	routeRows []consoleHit
	routeErr  []consoleHit
}

type consolePattern struct {
	re     *regexp.Regexp
	source string
	// add files a match; m holds the submatches.
	add func(sc *consoleScan, h consoleHit, m []string)
}

func fail(weak bool) func(sc *consoleScan, h consoleHit, m []string) {
	return func(sc *consoleScan, h consoleHit, m []string) {
		if len(m) > 1 {
			h.iface = m[1]
		}
		h.weak = weak
		sc.dhcpFail = append(sc.dhcpFail, h)
	}
}

func leaseOf(ifaceGroup, addrGroup int) func(sc *consoleScan, h consoleHit, m []string) {
	return func(sc *consoleScan, h consoleHit, m []string) {
		if ifaceGroup > 0 {
			h.iface = m[ifaceGroup]
		}
		if addrGroup > 0 {
			h.addr = m[addrGroup]
		}
		sc.lease = append(sc.lease, h)
	}
}

func metaFail(cause string) func(sc *consoleScan, h consoleHit, m []string) {
	return func(sc *consoleScan, h consoleHit, m []string) {
		h.cause = cause
		if cause == "" {
			h.cause = metadataCause(h.text)
		}
		sc.metaFail = append(sc.metaFail, h)
	}
}

func metaOK(sc *consoleScan, h consoleHit, _ []string) { sc.metaOK = append(sc.metaOK, h) }

func cloudInitFail(sc *consoleScan, h consoleHit, _ []string) {
	sc.cloudInit = append(sc.cloudInit, h)
}

const ipv4 = `(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})`

// consolePatterns are matched in order; the first match files a line.
var consolePatterns = []consolePattern{
	// DHCP failures.
	{regexp.MustCompile(`(?i)\bno lease, failing\b`), "udhcpc", fail(false)},
	{regexp.MustCompile(`WARN: /etc/rc3\.d/S40-network failed`), "cirros", fail(false)},
	{regexp.MustCompile(`No DHCPOFFERS received`), "dhclient", fail(false)},
	{regexp.MustCompile(`No working leases in persistent database`), "dhclient", fail(false)},
	{regexp.MustCompile(`Determining IP information for (\S+?)\.\.\. failed`), "initscripts", fail(false)},
	{regexp.MustCompile(`dhcp4 \((\S+)\): request timed out`), "NetworkManager", fail(false)},
	{regexp.MustCompile(`dhcp4 \((\S+)\): state changed (?:timeout|fail|no lease)`), "NetworkManager", fail(false)},
	{regexp.MustCompile(`device \((\S+)\): state change: ip-config -> failed`), "NetworkManager", fail(false)},
	{regexp.MustCompile(`device \((\S+)\): Activation: failed for connection`), "NetworkManager", fail(false)},
	{regexp.MustCompile(`NoDHCPLeaseError|No DHCP lease|dhclient did not produce expected files`), "cloud-init", fail(false)},
	{regexp.MustCompile(`systemd-networkd-wait-online\[\d+\]: Timeout occurred while waiting for network connectivity`), "systemd-networkd", fail(true)},
	{regexp.MustCompile(`Failed to start (?:systemd-networkd-wait-online\.service|Wait for Network to be Configured)`), "systemd-networkd", fail(true)},
	{regexp.MustCompile(`Failed to start (?:NetworkManager-wait-online\.service|Network Manager Wait Online)`), "NetworkManager", fail(true)},
	{regexp.MustCompile(`Failed to start (?:LSB: Bring up/down networking|network\.service|Raise network interfaces|networking\.service)`), "initscripts", fail(true)},

	// Leases.
	{regexp.MustCompile(`(?i)\blease of ` + ipv4 + ` obtained`), "udhcpc", leaseOf(0, 1)},
	{regexp.MustCompile(`bound to ` + ipv4 + ` -- renewal in`), "dhclient", leaseOf(0, 1)},
	{regexp.MustCompile(`dhcp4 \((\S+)\): state changed new lease, address=` + ipv4), "NetworkManager", leaseOf(1, 2)},
	{regexp.MustCompile(`dhcp4 \((\S+)\):\s+address ` + ipv4), "NetworkManager", leaseOf(1, 2)},
	{regexp.MustCompile(`(\S+): DHCPv4 address ` + ipv4 + `/\d+`), "systemd-networkd", leaseOf(1, 2)},
	{regexp.MustCompile(`Determining IP information for (\S+?)\.\.\. done`), "initscripts", leaseOf(1, 0)},

	// Metadata.
	{regexp.MustCompile(`successful after \d+/\d+ tries`), "cirros", metaOK},
	{regexp.MustCompile(`Datasource DataSource(?:OpenStack|Ec2|ConfigDrive)`), "cloud-init", metaOK},
	{regexp.MustCompile(`failed to read iid from metadata`), "cirros", metaFail("no answer")},
	{regexp.MustCompile(`^failed \d+/\d+: up [\d.]+\. request failed`), "cirros", metaFail("no answer")},
	{regexp.MustCompile(`url_helper\.py\[WARNING\]: Calling 'http://169\.254\.169\.254[^']*' failed`), "cloud-init", metaFail("")},
	{regexp.MustCompile(`Giving up on (?:OpenStack )?md from`), "cloud-init", metaFail("no answer")},
	{regexp.MustCompile(`No active metadata service found`), "cloud-init", metaFail("no answer")},
	{regexp.MustCompile(`Used fallback datasource|Datasource DataSourceNone`), "cloud-init", metaFail("no datasource")},

	// cloud-init failures.
	{regexp.MustCompile(`Traceback \(most recent call last\)`), "cloud-init", cloudInitFail},
	{regexp.MustCompile(`Failed to start (?:cloud-init[\w.-]*\.service|cloud-config\.service|cloud-final\.service|Initial cloud-init job|Apply the settings specified in cloud-config|Execute cloud user/final scripts)`), "cloud-init", cloudInitFail},
	{regexp.MustCompile(`Failed to run module \S+|Running module \S+ \(.*\) failed|Failed running /var/lib/cloud/\S+ \[\d+\]`), "cloud-init", cloudInitFail},
	{regexp.MustCompile(`cloud-init.*\[CRITICAL\]`), "cloud-init", cloudInitFail},

	// Interfaces and routes.
	{regexp.MustCompile(`Device (\S+) does not seem to be present`), "initscripts", func(sc *consoleScan, h consoleHit, m []string) {
		h.iface = m[1]
		sc.noDevice = append(sc.noDevice, h)
	}},
	{regexp.MustCompile(`SIOCADDRT: Network is unreachable|RTNETLINK answers: Network is unreachable`), "guest", func(sc *consoleScan, h consoleHit, _ []string) {
		sc.routeErr = append(sc.routeErr, h)
	}},
}

// consoleLiterals holds, for each of consolePatterns, the literal its match
// must start with (empty when it has none): a substring test first spares
// the regexp engine most lines, which a fuzzer or a long tail feels.
var consoleLiterals = func() []string {
	lits := make([]string, len(consolePatterns))
	for i, p := range consolePatterns {
		lits[i], _ = p.re.LiteralPrefix()
	}
	return lits
}()

// metadataCause names why a metadata request failed, from cloud-init's
// message.
func metadataCause(text string) string {
	switch {
	case strings.Contains(text, "Errno 101"), strings.Contains(text, "Network is unreachable"),
		strings.Contains(text, "Errno 113"), strings.Contains(text, "No route to host"):
		return "unreachable"
	case strings.Contains(text, "Errno 111"), strings.Contains(text, "Connection refused"):
		return "refused"
	case strings.Contains(text, "timed out"), strings.Contains(text, "Timeout"):
		return "timed out"
	}
	if m := badStatus.FindStringSubmatch(text); m != nil {
		return "HTTP " + m[1]
	}
	return "no answer"
}

var (
	badStatus = regexp.MustCompile(`bad status code \[(\d+)\]`)
	// kernelStart is the first line of a boot.
	kernelStart = regexp.MustCompile(`\] Linux version \d`)
	// cirros-status' interface and route lines.
	cirrosIf    = regexp.MustCompile(`(?:^|\s)if-info: ([^,]+),(up|down),([^,]*),`)
	cirrosRoute = regexp.MustCompile(`(?:^|\s)ip-route:(\S+)`)
	// cloud-init's tables.
	ciTable  = regexp.MustCompile(`ci-info: \+*(Net device info|Route IPv4 info|Route IPv6 info|Authorized keys)`)
	ciNoInfo = regexp.MustCompile(`ci-info: !+Route info failed`)
	ciRow    = regexp.MustCompile(`ci-info: \|(.*)\|\s*$`)
)

// virtualNIC names interfaces of the guest's own making (containers,
// bridges), not the server's ports.
var virtualNIC = regexp.MustCompile(`^(lo|docker\d*|virbr\d*|br-\S+|veth\S*|cni\S*|flannel\S*|cali\S*|lxc\S*|tun\d*|wg\d*)$`)

// scanConsole reads the log's current boot. macs are the server's ports'
// MAC addresses, to pick its NICs out of cloud-init's tables.
func scanConsole(log *snapshot.ConsoleLog, macs map[string]bool) *consoleScan {
	sc := &consoleScan{total: len(log.Lines), boot: 1}
	for i, l := range log.Lines {
		if strings.Contains(l, "Linux version") && kernelStart.MatchString(l) {
			sc.boot = i + 1
		}
	}
	table := ""
	tableHasV4 := map[string]bool{}
	var tableNICs []consoleHit
	closeTable := func() {
		for _, h := range tableNICs {
			if !tableHasV4[h.iface] {
				sc.noAddr = append(sc.noAddr, h)
			}
		}
		tableNICs = nil
		tableHasV4 = map[string]bool{}
	}
	for i := sc.boot - 1; i < len(log.Lines); i++ {
		text := log.Lines[i]
		h := consoleHit{line: i + 1, text: strings.TrimSpace(text)}
		ci := strings.Contains(text, "ci-info:")
		if m := ciMatch(ci, ciTable, text); m != nil {
			closeTable()
			table = m[1]
			if table == "Route IPv4 info" {
				h.source = "cloud-init"
				sc.routes = append(sc.routes, h)
			}
			continue
		}
		if ci && ciNoInfo.MatchString(text) {
			closeTable()
			table = ""
			continue
		}
		if m := ciMatch(ci, ciRow, text); m != nil {
			h.source = "cloud-init"
			cols := strings.Split(m[1], "|")
			for j := range cols {
				cols[j] = strings.TrimSpace(cols[j])
			}
			switch {
			case len(cols) == 6 && (cols[1] == "True" || cols[1] == "False"):
				// A Net device info row (also seen without its heading
				// when the tail cuts it): Device, Up, Address, Mask, Scope,
				// Hw-Address.
				dev, up, addr, hw := cols[0], cols[1] == "True", cols[2], strings.ToLower(cols[5])
				if virtualNIC.MatchString(dev) || (len(macs) > 0 && hw != "." && hw != "" && !macs[hw]) {
					continue
				}
				h.iface = dev
				if !up {
					// Down, hence without address: guest-network-config's.
					sc.ifDown = append(sc.ifDown, h)
					continue
				}
				known := false
				for _, t := range tableNICs {
					known = known || t.iface == dev
				}
				if !known {
					tableNICs = append(tableNICs, h)
				}
				if a, err := netip.ParseAddr(addr); err == nil && a.Is4() && !a.IsLinkLocalUnicast() {
					h.addr = addr
					tableHasV4[dev] = true
					sc.addr = append(sc.addr, h)
				}
			case len(cols) == 6 && isDigits(cols[0]) && (table == "Route IPv4 info" || table == ""):
				// A Route IPv4 info row: Route, Destination, Gateway,
				// Genmask, Interface, Flags.
				if table == "" {
					sc.routes = append(sc.routes, h)
				}
				h.dest, h.via = ciRoute(cols[1], cols[2], cols[3])
				sc.routeRows = append(sc.routeRows, h)
				if cols[1] == "0.0.0.0" && cols[3] == "0.0.0.0" {
					sc.defaultRoute = append(sc.defaultRoute, h)
				}
			}
			continue
		}
		if table != "" && !ci {
			closeTable()
			table = ""
		}
		if m := ciMatch(strings.Contains(text, "if-info:"), cirrosIf, text); m != nil {
			h.source, h.iface = "cirros", m[1]
			if virtualNIC.MatchString(m[1]) {
				continue
			}
			if m[2] == "down" {
				sc.ifDown = append(sc.ifDown, h)
			}
			if a, err := netip.ParseAddr(m[3]); err == nil && a.Is4() {
				h.addr = m[3]
				sc.addr = append(sc.addr, h)
			} else if m[2] == "up" {
				sc.noAddr = append(sc.noAddr, h)
			}
			continue
		}
		if m := ciMatch(strings.Contains(text, "ip-route:"), cirrosRoute, text); m != nil {
			h.source = "cirros"
			h.dest, h.via = ipRoute(text[strings.Index(text, "ip-route:")+len("ip-route:"):])
			sc.routes = append(sc.routes, h)
			sc.routeRows = append(sc.routeRows, h)
			if m[1] == "default" {
				sc.defaultRoute = append(sc.defaultRoute, h)
			}
			continue
		}
		for i, p := range consolePatterns {
			if !strings.Contains(text, consoleLiterals[i]) {
				continue
			}
			if m := p.re.FindStringSubmatch(text); m != nil {
				h.source = p.source
				p.add(sc, h, m)
				break
			}
		}
	}
	closeTable()
	return sc
}

// ipRoute parses a line of `ip -4 route show` (busybox's or iproute2's):
// its destination and gateway. A route of another type than unicast
// (unreachable, prohibit, blackhole, throw…) carries no traffic: its
// destination is left invalid.
func ipRoute(line string) (netip.Prefix, netip.Addr) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return netip.Prefix{}, netip.Addr{}
	}
	if f[0] == "unicast" {
		f = f[1:]
	}
	if len(f) == 0 {
		return netip.Prefix{}, netip.Addr{}
	}
	var dest netip.Prefix
	switch d := f[0]; {
	case d == "default":
		dest = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	case strings.Contains(d, "/"):
		p, err := netip.ParsePrefix(d)
		if err != nil {
			return netip.Prefix{}, netip.Addr{}
		}
		dest = p.Masked()
	default:
		a, err := netip.ParseAddr(d)
		if err != nil {
			// A route type (unreachable…) or something else.
			return netip.Prefix{}, netip.Addr{}
		}
		dest = netip.PrefixFrom(a, a.BitLen())
	}
	var via netip.Addr
	for i := 1; i+1 < len(f); i++ {
		if f[i] == "via" {
			via, _ = netip.ParseAddr(f[i+1])
			break
		}
	}
	return dest, via
}

// ciRoute parses a row of cloud-init's Route IPv4 info table: destination,
// gateway (0.0.0.0 for on-link) and dotted-quad genmask.
func ciRoute(dst, gw, genmask string) (netip.Prefix, netip.Addr) {
	d, err1 := netip.ParseAddr(dst)
	m, err2 := netip.ParseAddr(genmask)
	if err1 != nil || err2 != nil || !d.Is4() || !m.Is4() {
		return netip.Prefix{}, netip.Addr{}
	}
	mb := m.As4()
	mask := binary.BigEndian.Uint32(mb[:])
	if inv := ^mask; inv&(inv+1) != 0 {
		// Not a contiguous netmask.
		return netip.Prefix{}, netip.Addr{}
	}
	bits := mathbits.OnesCount32(mask)
	p, err := d.Prefix(bits)
	if err != nil {
		return netip.Prefix{}, netip.Addr{}
	}
	var via netip.Addr
	if g, err := netip.ParseAddr(gw); err == nil && g.Is4() && !g.IsUnspecified() {
		via = g
	}
	return p, via
}

// ciMatch matches re only when the line holds the marker the pattern needs
// (ok), which spares the regexp engine the other lines.
func ciMatch(ok bool, re *regexp.Regexp, text string) []string {
	if !ok {
		return nil
	}
	return re.FindStringSubmatch(text)
}

// lastLine is the line of the last hit, 0 without any.
func lastLine(hs []consoleHit) int {
	n := 0
	for _, h := range hs {
		n = max(n, h.line)
	}
	return n
}

// dhcpFailures are the failures no lease or address answers: a strong one
// is over when a lease (or an address) for its interface, or for an
// unnamed one, comes after it; a weak one (a service that waited for the
// network and gave up) when the boot saw any lease, and it counts only
// beside a strong one: alone it may be about a NIC that is down or missing.
func (sc *consoleScan) dhcpFailures() []consoleHit {
	got := append(append([]consoleHit{}, sc.lease...), sc.addr...)
	var out []consoleHit
	strong := false
	for _, f := range append(append([]consoleHit{}, sc.dhcpFail...), sc.noAddr...) {
		over := false
		for _, g := range got {
			if f.weak || (g.line > f.line && (f.iface == "" || g.iface == "" || g.iface == f.iface)) {
				over = true
				break
			}
		}
		if !over {
			out = append(out, f)
			strong = strong || !f.weak
		}
	}
	if !strong {
		return nil
	}
	sortHits(out)
	return out
}

// metadataFailures are the failures after the last success.
func (sc *consoleScan) metadataFailures() []consoleHit {
	ok := lastLine(sc.metaOK)
	var out []consoleHit
	for _, f := range sc.metaFail {
		if f.line > ok {
			out = append(out, f)
		}
	}
	return out
}

func sortHits(hs []consoleHit) {
	slices.SortStableFunc(hs, func(a, b consoleHit) int { return a.line - b.line })
}

// quote is an evidence line quoting a console line with its number.
func (sc *consoleScan) quote(h consoleHit) string {
	return fmt.Sprintf("console line %d/%d: %s", h.line, sc.total, h.text)
}

// quotes quotes up to limit hits: all of them, or the first two and the
// last ones (where a failure ends), with a count of those left out.
func (sc *consoleScan) quotes(hs []consoleHit, limit int) []string {
	var out []string
	if len(hs) <= limit || limit < 4 {
		for _, h := range hs {
			out = append(out, sc.quote(h))
		}
		return out
	}
	tail := limit - 2
	for _, h := range hs[:2] {
		out = append(out, sc.quote(h))
	}
	out = append(out, fmt.Sprintf("(%d more lines like these)", len(hs)-limit))
	for _, h := range hs[len(hs)-tail:] {
		out = append(out, sc.quote(h))
	}
	return out
}

// sources lists who printed the hits, in order of appearance.
func sources(hs []consoleHit) string {
	var out []string
	for _, h := range hs {
		if h.source != "" && !slices.Contains(out, h.source) {
			out = append(out, h.source)
		}
	}
	return strings.Join(out, ", ")
}
