package pipeline

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/openstack"
	"github.com/hoofbeat/hoofbeat/internal/openstack/fakeos"
	"github.com/hoofbeat/hoofbeat/internal/rule"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// fleetWorld is the standard world with a small fleet beside vm1, some of
// it broken: srv-1's port is down by its admin, srv-2's group admits no
// ICMP, net-1 has DHCP off, and router-0 is down.
func fleetWorld() *fakeos.World {
	w := fakeos.Standard()
	fakeos.AddFleet(w, fakeos.Fleet{Servers: 6, Ports: 40, Networks: 3, Routers: 2, Rules: 30})
	for i := range w.Ports {
		if w.Ports[i].DeviceID == serverID(w, "srv-1") {
			w.Ports[i].AdminDown = true
		}
	}
	for i := range w.SecurityGroups {
		if w.SecurityGroups[i].Name == "sg-2" {
			w.SecurityGroups[i].Rules = w.SecurityGroups[i].Rules[1:] // the ICMP rule comes first
		}
	}
	for i := range w.Subnets {
		if w.Subnets[i].Name == "subnet-1" {
			w.Subnets[i].DHCPDisabled = true
		}
	}
	for i := range w.Routers {
		if w.Routers[i].Name == "router-0" {
			w.Routers[i].AdminDown = true
		}
	}
	return w
}

func serverID(w *fakeos.World, name string) string {
	for _, s := range w.Servers {
		if s.Name == name {
			return s.ID
		}
	}
	return ""
}

// outcome is a result reduced to what diagnose and audit must agree on.
func outcome(r rule.Result) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "F %s %s %s %s %s\n", f.Rule, f.Severity, f.Subject.ID, f.Summary, f.CausedBy)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "S %s\n", s.Rule)
	}
	fmt.Fprintf(&b, "P %s\nN %d\n", strings.Join(r.Passed, " "), len(r.NotApplicable))
	return b.String()
}

// TestAuditMatchesDiagnose: every server's verdict in the audit is the
// one diagnose gives it, finding for finding, as admin and as a member of
// the project, except the console log, which only diagnose reads.
func TestAuditMatchesDiagnose(t *testing.T) {
	for _, user := range []string{fakeos.AdminUser, fakeos.DemoUser} {
		t.Run(user, func(t *testing.T) {
			w := fleetWorld()
			c := fakeos.Start(t, w)
			cl := connect(t, c, user)
			opt := openstack.InventoryOptions{}
			if user == fakeos.AdminUser {
				opt.Project = fakeos.DemoProjectID
			}
			res, err := Audit(context.Background(), AuditRequest{From: cl, Inventory: opt})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Servers) != 7 {
				t.Fatalf("%d servers audited, want 7", len(res.Servers))
			}
			errs := map[string][]string{}
			for _, sa := range res.Servers {
				d, err := Run(context.Background(), Request{Server: sa.Snapshot.Server.ID, From: cl, Collect: openstack.CollectOptions{ConsoleLines: -1}})
				if err != nil {
					t.Fatal(err)
				}
				if got, want := outcome(sa.Result), outcome(d.Result); got != want {
					t.Errorf("%s: audit\n%s\ndiagnose\n%s", sa.Snapshot.Server.Name, got, want)
				}
				for _, f := range sa.Result.Findings {
					if f.Severity >= rule.Error {
						errs[sa.Snapshot.Server.Name] = append(errs[sa.Snapshot.Server.Name], f.Rule)
					}
				}
				if g := sa.Snapshot.Gap(snapshot.SourceConsoleLog); g == nil || !strings.Contains(g.Reason, "not read by the audit") {
					t.Errorf("%s: console log gap %+v", sa.Snapshot.Server.Name, g)
				}
			}
			want := map[string]string{
				"srv-1": "port/admin-down",
				"srv-2": "security-group/icmp-ingress-missing",
			}
			for name, r := range want {
				if !slices.Contains(errs[name], r) {
					t.Errorf("%s: error findings %q, want %s", name, errs[name], r)
				}
			}
			if user == fakeos.AdminUser && len(errs["vm1"]) > 0 {
				t.Errorf("vm1: error findings %q, want none", errs["vm1"])
			}
		})
	}
}

// TestAuditRequests: the audit's requests do not grow with the number of
// servers, only its pages do; no request names a server.
func TestAuditRequests(t *testing.T) {
	listings := func(servers int) openstack.InventoryStats {
		w := fakeos.Standard()
		fakeos.AddFleet(w, fakeos.Fleet{Servers: servers, Networks: 4, Routers: 2, Rules: 20})
		c := fakeos.Start(t, w)
		c.SetPageCap(10)
		cl := connect(t, c, fakeos.AdminUser)
		c.ResetCounters()
		res, err := Audit(context.Background(), AuditRequest{From: cl, Inventory: openstack.InventoryOptions{AllProjects: true}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Servers) != servers+1 {
			t.Fatalf("%d servers audited, want %d", len(res.Servers), servers+1)
		}
		for _, l := range c.RequestLog() {
			path, _, _ := strings.Cut(l, "?") // a page's marker names the last item of the page before
			for _, s := range w.Servers {
				if strings.Contains(path, s.ID) {
					t.Errorf("a request per server: %s", l)
				}
			}
		}
		if got := c.Requests(); got != res.Stats.Pages {
			t.Errorf("the fake served %d requests, the stats say %d pages", got, res.Stats.Pages)
		}
		return res.Stats
	}
	small, large := listings(5), listings(200)
	if small.Listings != large.Listings || small.RoundTrips != large.RoundTrips {
		t.Errorf("5 servers: %d listings in %d rounds; 200 servers: %d in %d", small.Listings, small.RoundTrips, large.Listings, large.RoundTrips)
	}
	if large.Pages <= small.Pages {
		t.Errorf("200 servers in pages of 10 took %d pages, 5 servers %d", large.Pages, small.Pages)
	}
	if large.Listings > 12 || large.RoundTrips != 2 {
		t.Errorf("%d listings in %d rounds, want at most 12 in 2", large.Listings, large.RoundTrips)
	}
}

func TestAuditFilter(t *testing.T) {
	c := fakeos.Start(t, fleetWorld())
	cl := connect(t, c, fakeos.AdminUser)
	tests := []struct {
		name   string
		filter AuditFilter
		want   []string
	}{
		{"name", AuditFilter{Name: regexp.MustCompile(`^srv-[12]$`)}, []string{"srv-1", "srv-2"}},
		{"status", AuditFilter{Status: "error"}, nil},
		{"host", AuditFilter{Host: fakeos.ComputeHost, Name: regexp.MustCompile(`vm`)}, []string{"vm1"}},
		{"another host", AuditFilter{Host: fakeos.NetworkHost}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Audit(context.Background(), AuditRequest{From: cl, Filter: tt.filter, Inventory: openstack.InventoryOptions{AllProjects: true}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range res.Servers {
				got = append(got, s.Snapshot.Server.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("servers %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAuditHostsOnce: with --hosts, each host serving an audited server
// is checked once, and each server gets the hosts serving it.
func TestAuditHostsOnce(t *testing.T) {
	c := fakeos.Start(t, fleetWorld())
	cl := connect(t, c, fakeos.AdminUser)
	var asked [][]string
	r := &replays{dirs: map[string]string{fakeos.ComputeHost: "healthy/cmp1", fakeos.NetworkHost: "healthy/ctl"}}
	reach := func(names []string, roles map[string][]string) ([]host.Target, func() error, error) {
		asked = append(asked, names)
		return r.reach(names, roles)
	}
	res, err := Audit(context.Background(), AuditRequest{From: cl, Hosts: &HostCheck{Reach: reach}, Inventory: openstack.InventoryOptions{AllProjects: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || !slices.Equal(asked[0], []string{fakeos.ComputeHost, fakeos.NetworkHost}) {
		t.Errorf("hosts reached %q, want one call for both hosts", asked)
	}
	if len(res.Hosts) != 2 || r.released != 1 {
		t.Errorf("%d hosts checked, released %d times", len(res.Hosts), r.released)
	}
	for _, s := range res.Servers {
		if len(s.Snapshot.Hosts) != 2 || !hasHostRule(s.Result) {
			t.Errorf("%s: %d hosts attached, host rules ran: %v", s.Snapshot.Server.Name, len(s.Snapshot.Hosts), hasHostRule(s.Result))
		}
	}
}

// TestAuditServersUnlisted: a cloud that cannot list the servers is a
// collect-stage error, as diagnose's unknown server.
func TestAuditServersUnlisted(t *testing.T) {
	c := fakeos.Start(t, fakeos.Standard())
	cl := connect(t, c, fakeos.DemoUser)
	_, err := Audit(context.Background(), AuditRequest{From: cl, Inventory: openstack.InventoryOptions{AllProjects: true}})
	var pe *Error
	if err == nil || !strings.Contains(err.Error(), "list servers") || !errors.As(err, &pe) || pe.Stage != StageCollect {
		t.Fatalf("error %v", err)
	}
}
