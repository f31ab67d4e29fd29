package report

import (
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/rule"
)

func TestHopOf(t *testing.T) {
	tests := []struct {
		name, domain, want string
	}{
		{"security-group/icmp-ingress-missing", "security-group", rule.HopSecurityGroups},
		{"router/missing", "router", rule.HopRouter},
		{"floating-ip/none", "floating-ip", rule.HopFloatingIP},
		{"agent/dhcp-down", "agent", rule.HopNetwork},
		{"host/netns-missing", "host", rule.HopHosts},
		{"subnet/no-gateway", "subnet", rule.HopSubnet},
		{"instance/not-active", "instance", rule.HopInstance},
		// No domain recorded: taken from the name.
		{"port/zebra-stripes", "", rule.HopPort},
		{"security-group/zebra-stripes", "", rule.HopSecurityGroups},
		// A domain this version does not know stays off the path.
		{"zebra/stripes", "zebra", "zebra"},
	}
	for _, tt := range tests {
		if got := domainHop(tt.name, tt.domain); got != tt.want {
			t.Errorf("domainHop(%q, %q) = %q, want %q", tt.name, tt.domain, got, tt.want)
		}
	}
	// Rules the catalogue does not hold fall back to their domain.
	if got := hopOf("router/zebra-stripes", "router"); got != rule.HopRouter {
		t.Errorf("unknown rule: hop %q, want %q", got, rule.HopRouter)
	}
	if got := hopOf("agent/zebra-down", "agent"); got != rule.HopNetwork {
		t.Errorf("unknown agent rule: hop %q, want %q", got, rule.HopNetwork)
	}
}

// hopOf agrees with the catalogue for every rule it holds.
func TestHopOfCatalogue(t *testing.T) {
	for _, r := range rule.Catalogue() {
		if got := hopOf(r.Name, r.Domain()); got != r.PathHop() {
			t.Errorf("%s: hop %q, catalogue says %q", r.Name, got, r.PathHop())
		}
	}
}

func pathOf(t *testing.T, r *Report) map[string][]hopView {
	t.Helper()
	v := buildWith(r, domainHop)
	out := map[string][]hopView{}
	for _, h := range v.Path {
		out[h.Hop] = append(out[h.Hop], h)
	}
	return out
}

func TestHopStatus(t *testing.T) {
	p := pathOf(t, icmpAndNoRouter())
	want := map[string]hopStatus{
		rule.HopInstance: statusOK, rule.HopPort: statusOK, rule.HopSecurityGroups: statusProblem,
		rule.HopSubnet: statusOK, rule.HopNetwork: statusOK, rule.HopDHCP: statusOK,
		rule.HopRouter: statusProblem, rule.HopGateway: statusNA, rule.HopFloatingIP: statusNA,
	}
	for hop, st := range want {
		if len(p[hop]) != 1 || p[hop][0].Status != st {
			t.Errorf("%s: %+v, want status %s", hop, p[hop], st)
		}
	}
	if got := p[rule.HopRouter][0].Detail(); got != "none: no router interface on private-subnet: nothing outside private can reach web1" {
		t.Errorf("router detail %q", got)
	}
	if got := p[rule.HopFloatingIP][0].Detail(); got != "none: web1 has no floating IP: from outside private it is unreachable by design" {
		t.Errorf("floating-ip detail %q", got)
	}
	if _, ok := p[rule.HopHosts]; ok {
		t.Error("hosts hop shown without host data")
	}
}

// A hop every rule of which was skipped says so, with the reasons; a hop
// with some rules skipped keeps its status and counts them.
func TestHopSkipped(t *testing.T) {
	r := healthy()
	r.Result.Passed = passedExcept(append(append([]string{}, routerRules...), agentRules[0])...)
	for _, name := range routerRules {
		r.Result.Skipped = append(r.Result.Skipped, rule.Skip{Rule: name, Domain: "router", Reason: "could not read routers: 503 Service Unavailable"})
	}
	r.Result.Skipped = append(r.Result.Skipped, rule.Skip{Rule: agentRules[0], Domain: "agent", Reason: "needs admin: agents are hidden"})
	p := pathOf(t, r)
	rt := p[rule.HopRouter][0]
	if rt.Status != statusSkipped || rt.Note != "could not read routers: 503 Service Unavailable" {
		t.Errorf("router hop: %+v", rt)
	}
	nw := p[rule.HopNetwork][0]
	if nw.Status != statusOK || nw.SkippedChecks != 1 {
		t.Errorf("network hop: %+v", nw)
	}
	if got, want := nw.Detail(), "private ACTIVE vxlan 1042 MTU 1450 (1 check skipped)"; got != want {
		t.Errorf("network detail %q, want %q", got, want)
	}
}

// A finding about one port's resources marks that port's path only; a
// finding about something no port owns marks every path.
func TestFindingsScopedToTheirPort(t *testing.T) {
	r := twoPorts()
	p := pathOf(t, r)
	if len(p[rule.HopPort]) != 2 {
		t.Fatalf("%d port hops, want 2", len(p[rule.HopPort]))
	}
	if h := p[rule.HopPort][0]; h.PortID != portID || h.Status != statusOK {
		t.Errorf("first port: %+v", h)
	}
	if h := p[rule.HopPort][1]; h.PortID != port2ID || h.Status != statusProblem {
		t.Errorf("second port: %+v", h)
	}

	r.Result.Findings = append(r.Result.Findings, rule.Finding{
		Rule: "port/zebra", Severity: rule.Warning, Domain: "port",
		Subject: rule.Subject{Kind: "agent", ID: "not-on-any-path"}, Summary: "every port",
	})
	p = pathOf(t, r)
	for _, h := range p[rule.HopPort] {
		if h.Status != statusProblem {
			t.Errorf("port %s: %s, want problem", h.PortID, h.Status)
		}
	}
}

// Info findings never make a problem; a warning is a problem painted yellow.
func TestHopSeverities(t *testing.T) {
	r := healthy()
	r.Result.Findings = []rule.Finding{{
		Rule: "network/segment", Severity: rule.Info, Domain: "network",
		Subject: rule.Subject{Kind: "network", ID: privateNetID, Name: "private"},
		Summary: "private is vxlan segment 1042",
	}, {
		Rule: "subnet/no-dns", Severity: rule.Warning, Domain: "subnet",
		Subject: rule.Subject{Kind: "subnet", ID: privateSubID}, Summary: "no DNS server",
	}}
	p := pathOf(t, r)
	if h := p[rule.HopNetwork][0]; h.Status != statusOK || h.Note != "private is vxlan segment 1042" {
		t.Errorf("network: %+v", h)
	}
	if h := p[rule.HopSubnet][0]; h.Status != statusProblem || h.Worst != rule.Warning {
		t.Errorf("subnet: %+v", h)
	}
	v := buildWith(r, domainHop)
	if v.Verdict != "1 warning: most likely cause: subnet/no-dns" {
		t.Errorf("verdict %q", v.Verdict)
	}
}

func TestShortID(t *testing.T) {
	for in, want := range map[string]string{
		"3f2a9c1e-8d4b-4f3a-9a6e-2c1d0b9e8f7a": "3f2a9c1e-…",
		"6f3c1a9e2b4d4e8a9c0b7d5e3f1a2c4b":     "6f3c1a9e…",
		"ctl":                                  "ctl",
	} {
		if got := shortID(in); got != want {
			t.Errorf("shortID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWrap(t *testing.T) {
	got := wrap("one two three four five six seven eight nine ten eleven twelve", 40, 10)
	want := []string{"one two three four five six", "seven eight nine ten eleven", "twelve"}
	if len(got) != len(want) {
		t.Fatalf("wrap: %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
	if got := wrap("a b", 0, 10); len(got) != 1 || got[0] != "a b" {
		t.Errorf("width 0: %q", got)
	}
	col := wrap("\x1b[2mone two three four five six seven eight nine ten eleven twelve\x1b[0m", 40, 10)
	if len(col) != 3 || col[1] != "\x1b[2mseven eight nine ten eleven\x1b[0m" {
		t.Errorf("coloured: %q", col)
	}
}

func TestCleanURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://192.0.2.10:5000/v3":                      "http://192.0.2.10:5000/v3",
		"https://admin:pw@keystone.example/v3?token=x#f": "https://keystone.example/v3",
		"": "",
	} {
		if got := cleanURL(in); got != want {
			t.Errorf("cleanURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A finding of a domain the path view does not have is listed, and marks no hop.
func TestFindingOffThePath(t *testing.T) {
	r := healthy()
	r.Result.Findings = []rule.Finding{{
		Rule: "zebra/stripes", Severity: rule.Error, Domain: "zebra",
		Subject: rule.Subject{Kind: "zebra"}, Summary: "a zebra", Evidence: []string{"stripes"},
	}}
	v := buildWith(r, hopOf)
	for _, h := range v.Path {
		if h.Status != statusOK {
			t.Errorf("hop %s: %s", h.Hop, h.Status)
		}
	}
	if len(v.Findings) != 1 || v.Findings[0].Hop != "zebra" || v.Cause != "zebra/stripes" {
		t.Errorf("findings: %+v, cause %q", v.Findings, v.Cause)
	}
}

// The hosts hop shows when host rules ran, and not when they were all skipped.
func TestHostsHop(t *testing.T) {
	r := healthy()
	r.Result.Skipped = []rule.Skip{{Rule: "host/netns-missing", Domain: "host", Reason: "no host data: run hoofbeat host"}}
	if p := pathOf(t, r); len(p[rule.HopHosts]) != 0 {
		t.Errorf("hosts hop shown with every host rule skipped: %+v", p[rule.HopHosts])
	}
	r.Result.Passed = append(r.Result.Passed, "host/tunnel-peer-blocked")
	v := buildWith(r, domainHop)
	last := v.Path[len(v.Path)-1]
	if last.Hop != rule.HopHosts || last.Status != statusOK || last.Detail() != "cmp1, ctl (1 check skipped)" {
		t.Errorf("last hop: %+v %q", last, last.Detail())
	}
}

// Hops that do not apply say why.
func TestHopsThatDoNotApply(t *testing.T) {
	r := healthy()
	s := r.Snapshot
	s.Subnets[0].EnableDHCP = false
	s.NetworkPorts = s.NetworkPorts[1:] // no DHCP port
	s.Ports[0].PortSecurityEnabled = ptr(false)
	s.Ports[0].SecurityGroups = nil
	s.Routers[0].ExternalGateway = nil
	p := pathOf(t, r)
	for hop, want := range map[string]string{
		rule.HopDHCP:           "none: DHCP is disabled on private-subnet",
		rule.HopSecurityGroups: "none: port security is disabled on this port",
		rule.HopGateway:        "none: router1 has no external gateway",
	} {
		if h := p[hop][0]; h.Status != statusNA || h.Detail() != want {
			t.Errorf("%s: %s %q, want n/a %q", hop, h.Status, h.Detail(), want)
		}
	}
}
